/**
 * The options of `UdpTunnelDevice` (re-exported from `udp_tunnel.ts`).
 *
 * @module
 */

import type { Medium } from "./device.ts";

/**
 * A UDP endpoint of a tunnel.
 *
 * @example
 * ```ts
 * import { UdpTunnelDevice } from "@smol/net/phy";
 * import type { UdpTunnelEndpoint } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const local: UdpTunnelEndpoint = { hostname: "127.0.0.1", port: 0 }; // 0: any free port
 * const dev = await UdpTunnelDevice.open({ local, peer: { hostname: "127.0.0.1", port: 40000 } });
 * assert.notEqual(dev.localAddr.port, 0);
 * await dev.close();
 * ```
 */
export interface UdpTunnelEndpoint {
  /** An IP address (`"localhost"` is taken as 127.0.0.1). */
  readonly hostname: string;
  /** The UDP port; 0 for the local end picks a free one. */
  readonly port: number;
}

/**
 * Options of `UdpTunnelDevice.open`.
 *
 * @example
 * ```ts
 * import { UdpTunnelDevice } from "@smol/net/phy";
 * import type { UdpTunnelOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: UdpTunnelOptions = {
 *   local: { hostname: "0.0.0.0", port: 40000 },
 *   peer: { hostname: "198.51.100.7", port: 40000 },
 *   medium: "ethernet",
 *   mtu: 70_000, // more than a UDP datagram carries (65507 bytes)
 * };
 * await assert.rejects(UdpTunnelDevice.open(opts), RangeError);
 * ```
 */
export interface UdpTunnelOptions {
  /** Where to listen. */
  readonly local: UdpTunnelEndpoint;
  /**
   * Where to send; datagrams from any other source are dropped: counted in `stats.readErrors` on
   * the `Deno.listenDatagram` path, by the kernel (the socket is connected) on the batched one.
   */
  readonly peer: UdpTunnelEndpoint;
  /** `"ip"` (default) or `"ethernet"`. */
  readonly medium?: Medium;
  /**
   * Largest frame in bytes (for Ethernet including the 14-byte header). Default 1500 for IP,
   * 1514 for Ethernet; keep datagrams under the path MTU (1500-byte UDP payloads fit in a 1528-byte
   * IPv4 packet, which fragments on a 1500-byte path; use 1472 / 1486 there).
   */
  readonly mtu?: number;
  /** Receive ring length in frames. Default 256. */
  readonly rxQueueLen?: number;
  /**
   * Transmit queue length: committed frames not yet sent, at most. Default 64. The batched path
   * (`batchIo`) sends a full queue at once instead and takes at most 64.
   */
  readonly maxInFlight?: number;
  /**
   * Credit-based flow control, for both ends to set alike: at most this many frames sent and not
   * yet read from its socket by the peer, so a busy receiver's kernel buffer (about 90 datagrams
   * of 1400 bytes by default) never overflows. The receiver reports its count in an 8-byte
   * control datagram every quarter window; a sender that hears nothing for 50 ms while blocked
   * asks, and counts what never arrived in `stats.tunnelLost`. `0` (default) turns it off.
   */
  readonly flowWindow?: number;
  /**
   * Move datagrams in batches through a connected UDP socket made with libc (Linux, needs
   * `--allow-ffi`): one `recvmmsg` takes everything waiting, one `sendmmsg` per event-loop turn
   * sends every frame the stack committed, where `Deno.listenDatagram` costs an asynchronous
   * operation per datagram. Falls back to `Deno.listenDatagram` without FFI permission, off
   * Linux, or for a host name that is not an IP literal; `batchSize` tells which path runs.
   * Datagrams from other sources are then dropped by the kernel, uncounted. Default `true`.
   */
  readonly batchIo?: boolean;
  /**
   * Replace a pure TCP ACK waiting in the transmit queue by a newer ACK of the same connection
   * (counted in `stats.acksCoalesced`, never sent; see `TunTapOptions.coalesceAcks`). Default
   * `true`.
   */
  readonly coalesceAcks?: boolean;
}
