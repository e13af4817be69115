/**
 * UDP port 68 of a `NetStack`, shared by the DHCPv4 clients of its interfaces. The stack binds
 * it once, on the unspecified address; each poll reads what arrived into one batch that every
 * client reads (a client takes only replies to its own hardware address, RFC 2131 §4.1, and
 * counts the others as `otherClient`). Each client sends from a socket of its own, bound to
 * port 68 but not indexed for ingress, pinned to its interface: a DISCOVER from 0.0.0.0 to the
 * broadcast address leaves on the interface it is for.
 *
 * @module
 */

import type { Interface } from "../iface/interface.ts";
import type { SocketSet } from "../iface/socket_set.ts";
import { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { type IpEndpoint, Ipv4Address } from "../wire/address.ts";
import { DHCPV4_CLIENT_PORT } from "../wire/dhcpv4.ts";

/** The largest DHCP message read (longer ones are truncated and dropped). */
const MAX_MESSAGE = 1500;

/** One datagram received on port 68. */
export interface DhcpDatagram {
  readonly remote: IpEndpoint;
  readonly data: Uint8Array;
  readonly truncated: boolean;
}

/** The stack's port 68 (see the module documentation). */
export class DhcpPort {
  readonly #socket = new CoreUdpSocket({ rxSlots: 16, txSlots: 1 });
  readonly #buffer = new Uint8Array(MAX_MESSAGE);
  readonly #sockets: SocketSet;
  /** What the last `drain` read; the clients read it in the same poll. */
  batch: DhcpDatagram[] = [];

  /** Binds 0.0.0.0:68 through `iface` in `sockets` (`EADDRINUSE` when taken). */
  constructor(iface: Interface, sockets: SocketSet) {
    this.#sockets = sockets;
    iface.bindUdp(sockets, this.#socket, {
      addr: Ipv4Address.UNSPECIFIED,
      port: DHCPV4_CLIENT_PORT,
    });
  }

  /** Reads every datagram waiting into `batch` (empty when none). */
  drain(): void {
    const s = this.#socket, buf = this.#buffer;
    if (this.batch.length > 0) this.batch = [];
    for (let got = s.recv(buf); got !== null; got = s.recv(buf)) {
      this.batch.push({
        remote: got.remote,
        data: buf.slice(0, got.length),
        truncated: got.truncated,
      });
    }
  }

  /** Unbinds the port. */
  close(): void {
    const h = this.#sockets.handleOf(this.#socket);
    if (h !== undefined) this.#sockets.remove(h);
  }
}
