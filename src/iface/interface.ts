/**
 * {@linkcode Interface}: one network interface of the stack. `poll` drains the device's ingress
 * into sockets, then lets sockets dispatch egress until nothing is left or the device is full;
 * `pollAt` says when to poll next. The user-facing helpers (`connectTcp`, `listenTcp`,
 * `bindUdp`, `bindIcmp`) validate addresses, pick ephemeral ports and index sockets.
 *
 * @module
 */

import type { AcceptAny, AcceptAnyOptions } from "./accept_any.ts";
import type { EthernetAddress, IpAddress, IpCidr, IpEndpoint } from "../wire/address.ts";
import type { Device } from "../phy/device.ts";
import type { Rng } from "../rand.ts";
import type { SocketContext } from "../socket/context.ts";
import type { IcmpSocket } from "../socket/icmp.ts";
import type { UdpSocket } from "../socket/udp.ts";
import { TcpListenSocket, TcpSocket } from "../socket/tcp/mod.ts";
import { type Duration, type Instant, NEVER } from "../time.ts";
import type { IfaceCore } from "./iface_state.ts";
import type { DropCounters } from "./counters.ts";
import { NetError } from "./errors.ts";
import type { NdpHost } from "./ndp_host.ts";
import type { NeighborCache, NeighborCacheOptions } from "./neighbor.ts";
import type { ReassemblyOptions } from "./reassembly.ts";
import type { Route, Routes } from "./route.ts";
import { type SocketSet, timeWaitTable } from "./socket_set.ts";
import { raiseIss } from "../socket/tcp/time_wait.ts";
import { registerCoreAccess } from "./_core_access.ts";
import { buildCore } from "./_interface_config.ts";
import { Poller } from "./_interface_poll.ts";

/**
 * How an {@linkcode Interface} is set up.
 *
 * @example
 * ```ts
 * import { Interface, type InterfaceConfig } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const config: InterfaceConfig = {
 *   medium: "ethernet",
 *   hardwareAddr: "02:00:00:00:00:01",
 *   addresses: ["192.0.2.2/24", "2001:db8::2/64"],
 *   gateway4: "192.0.2.1",
 *   seed: 1,
 * };
 * const iface = new Interface(config);
 * assert.equal(iface.medium, "ethernet");
 * assert.equal(iface.routes.nextHop(parseIpAddress("198.51.100.7"))?.toString(), "192.0.2.1");
 * assert.equal(iface.routes.sourceFor(parseIpAddress("2001:db8::9"))?.toString(), "2001:db8::2");
 * ```
 */
export interface InterfaceConfig {
  /** `"ethernet"` (default when `hardwareAddr` is given) or `"ip"`. Must match the device. */
  readonly medium?: "ethernet" | "ip";
  /** The MAC address; required for Ethernet. */
  readonly hardwareAddr?: EthernetAddress | string;
  /** IPv4/IPv6 addresses with prefix, as `IpCidr` or `"192.0.2.2/24"`. */
  readonly addresses?: readonly (IpCidr | string)[];
  /** Extra routes (`{ cidr: "198.51.100.0/24", via: "192.0.2.254" }`). */
  readonly routes?: readonly (Route | { readonly cidr: string; readonly via: string | null })[];
  /** The IPv4 default gateway. */
  readonly gateway4?: IpAddress | string;
  /** The IPv6 default gateway. */
  readonly gateway6?: IpAddress | string;
  /** TTL / hop limit of sent packets; default 64. */
  readonly hopLimit?: number;
  /** Seed of the interface's generator; default from `crypto.getRandomValues`. */
  readonly seed?: number;
  /** 16 secret bytes for RFC 6528 ISNs; default from `crypto.getRandomValues`. */
  readonly isnSecret?: Uint8Array;
  /** Answer echo requests; default `true`. */
  readonly icmpEchoReply?: boolean;
  /** Neighbor cache limits and timers. */
  readonly neighborCache?: NeighborCacheOptions;
  /** IPv4 reassembly limits. */
  readonly reassembly4?: ReassemblyOptions;
  /** IPv6 reassembly limits. */
  readonly reassembly6?: ReassemblyOptions;
  /** ICMP errors allowed per `interval` ms (a token bucket); default 10 per 1000 ms. */
  readonly icmpErrorRate?: { readonly burst: number; readonly interval: Duration };
  /** Frames taken from the device per poll before egress runs; default 256. */
  readonly ingressBudget?: number;
  /** Send a gratuitous ARP for each IPv4 address on the first poll; default `true`. */
  readonly gratuitousArp?: boolean;
  /**
   * Accept-any mode (transparent termination): take TCP and UDP to every unicast address, not
   * only the interface's own (see {@linkcode AcceptAny}); default off.
   */
  readonly acceptAny?: AcceptAnyOptions;
  /**
   * Receive coalescing (GRO in software, on by default as Linux's GRO): in-order TCP data
   * segments of up to 16 KiB of one flow (IPv4, or IPv6 without extension headers) read in one
   * poll reach the socket as one segment of up to 64 KiB, which it processes and acknowledges
   * once. Each frame's checksums are verified first; the payloads are copied once more. `false` hands every segment over alone.
   */
  readonly coalesceTcp?: boolean;
}

/**
 * A network interface: addresses, routes, neighbor cache, reassembly and ICMP, serving the
 * sockets of a {@linkcode SocketSet} over one device.
 *
 * @example Ping between two interfaces over an in-memory link
 * ```ts
 * import { Interface, SocketSet } from "@smol/net/iface";
 * import { IcmpSocket } from "@smol/net/socket";
 * import { linkPair } from "@smol/net/phy";
 * import { parseIpAddress } from "@smol/net/wire";
 *
 * const [da, db] = linkPair({ medium: "ethernet" });
 * const a = new Interface({ hardwareAddr: "02:00:00:00:00:0a", addresses: ["192.0.2.1/24"], seed: 1 });
 * const b = new Interface({ hardwareAddr: "02:00:00:00:00:0b", addresses: ["192.0.2.2/24"], seed: 2 });
 * const sa = new SocketSet(), sb = new SocketSet();
 * const ping = new IcmpSocket();
 * a.bindIcmp(sa, ping, 7);
 * ping.sendEcho(parseIpAddress("192.0.2.2"), 1, new Uint8Array(8));
 * for (let t = 0; t < 10; t++) { a.poll(t, da, sa); b.poll(t, db, sb); }
 * import assert from "node:assert/strict";
 * const reply = ping.recv(new Uint8Array(8));
 * assert.equal(reply?.kind, "echoReply");
 * assert.equal(reply?.remote.toString(), "192.0.2.2");
 * assert.equal(reply?.seq, 1);
 * ```
 */
export class Interface {
  static {
    registerCoreAccess((iface: Interface) => iface.#core); // for forward.ts, not public
  }
  readonly #core: IfaceCore;
  readonly #poller: Poller;

  /**
   * Creates an interface.
   *
   * @param config Addresses, routes, limits and seeds.
   * @throws {TypeError} When an address or the hardware address is invalid, or Ethernet has no
   * hardware address.
   */
  constructor(config: InterfaceConfig = {}) {
    this.#core = buildCore(config);
    this.#poller = new Poller(this.#core, config.ingressBudget ?? 256);
  }

  /** The medium. */
  get medium(): "ethernet" | "ip" {
    return this.#core.medium;
  }

  /** The hardware address (`00:00:00:00:00:00` on the IP medium). */
  get hardwareAddr(): EthernetAddress {
    return this.#core.hw;
  }

  /** Addresses and routes; change them at any time between polls. */
  get routes(): Routes {
    return this.#core.routes;
  }

  /** The neighbor cache (ARP and NDP). */
  get neighbors(): NeighborCache {
    return this.#core.neighbors;
  }

  /** The drop counters (live). */
  get counters(): DropCounters {
    return this.#core.counters;
  }

  /**
   * How many sockets egress has visited (dispatched and asked for their next deadline) in all
   * polls so far: only sockets woken by ingress, by an application call or by their deadline are
   * visited, so an idle socket costs a poll nothing.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ addresses: ["127.0.0.1/8"], seed: 1 });
   * const sockets = new SocketSet(), dev = new Loopback();
   * const udp = new UdpSocket();
   * const local = iface.bindUdp(sockets, udp, { addr: Ipv4Address.parse("127.0.0.1"), port: 5000 });
   * iface.poll(0, dev, sockets);
   * const before = iface.socketVisits;
   * for (let t = 1; t < 10; t++) iface.poll(t, dev, sockets);
   * assert.equal(iface.socketVisits, before); // an idle socket is not visited
   * udp.send(new Uint8Array(4), local);
   * iface.poll(10, dev, sockets);
   * assert.ok(iface.socketVisits > before);
   * ```
   */
  get socketVisits(): number {
    return this.#poller.visits;
  }

  /** The interface's seeded generator. */
  get random(): Rng {
    return this.#core.rng;
  }

  /** The accept-any state when the interface was built with `acceptAny`, else `null`. */
  get acceptAny(): AcceptAny | null {
    return this.#core.acceptAny;
  }

  /**
   * A bound on the IP MTU below the device's: the link MTU a router advertises (RFC 4861
   * §6.3.4) or a DHCP lease's interface MTU (RFC 2132 §5.1); `null` (default) for the device's
   * own. It applies to both families (one link, one MTU), to packets sent and to the MSS that
   * new TCP connections announce; it never raises the MTU above the device's.
   *
   * @throws {RangeError} For a value that is not an integer from 576 to 65,535, or `null`.
   *
   * @example
   * ```ts
   * import { Interface } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const iface = new Interface();
   * iface.linkMtu = 1400;
   * assert.equal(iface.linkMtu, 1400);
   * assert.throws(() => (iface.linkMtu = 100), RangeError);
   * ```
   */
  get linkMtu(): number | null {
    return this.#core.linkMtu;
  }
  set linkMtu(mtu: number | null) {
    if (mtu !== null && (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
      throw new RangeError(`Invalid linkMtu ${mtu}: expected an integer from 576 to 65535 or null`);
    }
    this.#core.linkMtu = mtu;
  }

  /**
   * The hop limit (IPv4 TTL, IPv6 Hop Limit) of packets the interface originates; a router
   * advertisement's Cur Hop Limit sets it under `addresses: "auto"` (RFC 4861 §6.3.4).
   *
   * @throws {RangeError} For a value that is not an integer from 1 to 255.
   *
   * @example
   * ```ts
   * import { Interface } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ hopLimit: 32 });
   * assert.equal(iface.hopLimit, 32);
   * iface.hopLimit = 64;
   * assert.equal(iface.hopLimit, 64);
   * ```
   */
  get hopLimit(): number {
    return this.#core.hopLimit;
  }
  set hopLimit(limit: number) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 255) {
      throw new RangeError(`Invalid hopLimit ${limit}: expected an integer from 1 to 255`);
    }
    this.#core.hopLimit = limit;
  }

  /** Whether echo requests are answered. */
  get icmpEchoReply(): boolean {
    return this.#core.icmpEchoReply;
  }
  set icmpEchoReply(on: boolean) {
    this.#core.icmpEchoReply = on;
  }

  /**
   * The socket context for user calls made outside `poll` (such as `TcpSocket.connect`).
   *
   * @param now The current instant.
   * @returns The context (one shared object, refreshed by each call and each poll).
   *
   * @example
   * ```ts
   * import { Interface } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ seed: 1 });
   * const cx = iface.context(5);
   * assert.equal(cx.now, 5);
   * assert.equal(cx.random, iface.random); // the interface's own generator
   * ```
   */
  context(now: Instant): SocketContext {
    this.#core.cx.now = now;
    return this.#core.cx;
  }

  /**
   * Attaches IPv6 autoconfiguration (or detaches it with `null`): from the next poll the host
   * takes router advertisements, MLD queries and DAD messages, and sends what it needs to. Its
   * events are applied by the caller (`NetStack({ addresses: "auto" })` does).
   *
   * @param host The host, or `null`.
   *
   * @example
   * ```ts
   * import { Interface, NdpHost, SocketSet } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ hardwareAddr: "02:00:00:00:00:01", gratuitousArp: false, seed: 1 });
   * assert.equal(iface.pollAt(0, new SocketSet()), Infinity);
   * const host = new NdpHost({ hardwareAddress: iface.hardwareAddr, secretKey: new Uint8Array(16) });
   * iface.attachNdp(host);
   * host.start(iface.context(0));
   * assert.equal(iface.pollAt(0, new SocketSet()), 0); // the MLD join is due
   * ```
   */
  attachNdp(host: NdpHost | null): void {
    this.#core.ndpHost = host;
  }

  /**
   * Sends a gratuitous ARP for each IPv4 address on the next poll (Ethernet only).
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { EtherType, EthernetFrame } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [dev, peer] = linkPair({ medium: "ethernet" });
   * const iface = new Interface({ hardwareAddr: "02:00:00:00:00:01", addresses: ["192.0.2.1/24"] });
   * const sockets = new SocketSet();
   * iface.poll(0, dev, sockets); // the first poll announces once
   * while (peer.receive(0) !== null);
   * iface.poll(1, dev, sockets);
   * assert.equal(peer.receive(1), null);
   * iface.announce();
   * iface.poll(2, dev, sockets);
   * const frame = peer.receive(2);
   * assert.ok(frame !== null);
   * assert.equal(new EthernetFrame(frame).etherType, EtherType.Arp);
   * ```
   */
  announce(): void {
    if (this.#core.medium === "ethernet") this.#core.announcePending = true;
  }

  /**
   * Processes received frames, then sends what the sockets have to send.
   *
   * @param now The current instant.
   * @param device The device.
   * @param sockets The sockets to serve.
   * @returns Whether any frame was received or sent, or socket state changed.
   * @throws {TypeError} When the device's medium differs from the interface's.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ addresses: ["127.0.0.1/8"], seed: 1 });
   * const sockets = new SocketSet(), dev = new Loopback();
   * assert.equal(iface.poll(0, dev, sockets), false); // nothing to do
   * const udp = new UdpSocket();
   * const local = iface.bindUdp(sockets, udp, { addr: Ipv4Address.parse("127.0.0.1"), port: 5000 });
   * udp.send(new Uint8Array([1, 2, 3]), local);
   * assert.equal(iface.poll(1, dev, sockets), true);
   * iface.poll(2, dev, sockets); // the looped-back datagram is received
   * assert.equal(udp.recv(new Uint8Array(8))?.length, 3);
   * ```
   */
  poll(now: Instant, device: Device, sockets: SocketSet): boolean {
    return this.#poller.poll(now, device, sockets);
  }

  /**
   * When to poll next: the earliest socket timer, neighbor retry, reassembly timeout or pending
   * announcement; `now` when something is due; `NEVER` when only ingress can make progress.
   *
   * @param now The current instant.
   * @param sockets The sockets.
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { IcmpSocket } from "@smol/net/socket";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ addresses: ["192.0.2.2/24"], seed: 1 });
   * const sockets = new SocketSet();
   * assert.equal(iface.pollAt(0, sockets), Infinity); // only ingress can make progress
   * const ping = new IcmpSocket();
   * iface.bindIcmp(sockets, ping, 7);
   * ping.sendEcho(parseIpAddress("192.0.2.1"), 1, new Uint8Array(8));
   * assert.equal(iface.pollAt(5, sockets), 5); // the echo request is due
   * ```
   */
  pollAt(now: Instant, sockets: SocketSet): Instant {
    return this.#poller.pollAt(now, sockets);
  }

  /**
   * Milliseconds until {@linkcode Interface.pollAt}, or `null` when there is no deadline.
   *
   * @param now The current instant.
   * @param sockets The sockets.
   * @returns The delay (0 when due), or `null`.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { IcmpSocket } from "@smol/net/socket";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ addresses: ["192.0.2.2/24"], seed: 1 });
   * const sockets = new SocketSet();
   * assert.equal(iface.pollDelay(0, sockets), null);
   * const ping = new IcmpSocket();
   * iface.bindIcmp(sockets, ping, 7);
   * ping.sendEcho(parseIpAddress("192.0.2.1"), 1, new Uint8Array(8));
   * assert.equal(iface.pollDelay(5, sockets), 0);
   * ```
   */
  pollDelay(now: Instant, sockets: SocketSet): Duration | null {
    const at = this.pollAt(now, sockets);
    return at === NEVER ? null : Math.max(0, at - now);
  }

  #checkLocal(addr: IpAddress): void {
    if (!addr.isUnspecified && !this.#core.routes.hasAddress(addr)) {
      throw new NetError("EADDRNOTAVAIL", `Address ${addr} is not assigned to the interface`);
    }
  }

  /**
   * Binds a UDP socket (adding it to `sockets` when needed); port 0 picks a free ephemeral port.
   *
   * @param sockets The socket set.
   * @param socket The socket.
   * @param local The local endpoint; an unspecified address receives on every address of its family.
   * @returns The bound endpoint.
   * @throws {NetError} `EADDRNOTAVAIL` for an address not ours or no free port; `EADDRINUSE`.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * const iface = new Interface({ addresses: ["192.0.2.2/24"], seed: 1 });
   * import assert from "node:assert/strict";
   * const sockets = new SocketSet();
   * const ep = iface.bindUdp(sockets, new UdpSocket(), { addr: Ipv4Address.UNSPECIFIED, port: 0 });
   * assert.ok(ep.port >= 49152 && ep.port <= 65535); // an ephemeral port
   * const other = { addr: Ipv4Address.parse("198.51.100.1"), port: 53 };
   * assert.throws(() => iface.bindUdp(sockets, new UdpSocket(), other), { code: "EADDRNOTAVAIL" });
   * ```
   */
  bindUdp(sockets: SocketSet, socket: UdpSocket, local: IpEndpoint): IpEndpoint {
    this.#checkLocal(local.addr);
    if (socket.isOpen) throw new NetError("EINVAL", "UDP socket is already bound");
    const port = local.port === 0 ? sockets.allocatePort("udp", this.#core.rng) : local.port;
    const ep = { addr: local.addr, port };
    if (sockets.handleOf(socket) === undefined) sockets.add(socket);
    sockets.indexUdp(socket, ep);
    socket.bind(ep);
    return ep;
  }

  /**
   * Binds an ICMP echo socket to an identifier (random when omitted).
   *
   * @param sockets The socket set.
   * @param socket The socket.
   * @param ident The echo identifier.
   * @returns The identifier.
   * @throws {NetError} `EADDRINUSE` when the identifier is taken.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const iface = new Interface({ seed: 1 });
   * const sockets = new SocketSet();
   * assert.equal(iface.bindIcmp(sockets, new IcmpSocket(), 9), 9);
   * assert.throws(() => iface.bindIcmp(sockets, new IcmpSocket(), 9), { code: "EADDRINUSE" });
   * ```
   */
  bindIcmp(sockets: SocketSet, socket: IcmpSocket, ident?: number): number {
    let id = ident;
    if (id === undefined) {
      do id = this.#core.rng.below(0x10000); while (sockets.findIcmp(id) !== null);
    }
    if (sockets.handleOf(socket) === undefined) sockets.add(socket);
    sockets.indexIcmp(socket, id);
    socket.bind(id);
    return id;
  }

  /**
   * Starts listening: a `TcpListenSocket` at its own endpoint, or a `TcpSocket` at `local` (port
   * 0 picks an ephemeral port).
   *
   * @param sockets The socket set.
   * @param listener The listener.
   * @param local For a `TcpSocket`: the endpoint to listen on.
   * @returns The listening endpoint.
   * @throws {NetError} `EADDRINUSE`, `EADDRNOTAVAIL`, or `EINVAL` (port 0 on a TcpListenSocket).
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * const iface = new Interface({ addresses: ["192.0.2.2/24"], seed: 1 });
   * import assert from "node:assert/strict";
   * const sockets = new SocketSet();
   * const ep = iface.listenTcp(sockets, new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }));
   * assert.equal(ep.port, 80);
   * const again = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * assert.throws(() => iface.listenTcp(sockets, again), { code: "EADDRINUSE" });
   * ```
   */
  listenTcp(
    sockets: SocketSet,
    listener: TcpListenSocket | TcpSocket,
    local?: IpEndpoint,
  ): IpEndpoint {
    let ep: IpEndpoint;
    if (listener instanceof TcpListenSocket) {
      ep = listener.local;
      if (ep.port === 0) throw new NetError("EINVAL", "A TcpListenSocket needs a non-zero port");
    } else {
      if (local === undefined) {
        throw new NetError("EINVAL", "Listening TcpSocket needs an endpoint");
      }
      const port = local.port === 0 ? sockets.allocatePort("tcp", this.#core.rng) : local.port;
      ep = { addr: local.addr, port };
    }
    this.#checkLocal(ep.addr);
    if (sockets.handleOf(listener) === undefined) sockets.add(listener);
    sockets.indexTcpListener(listener, ep);
    if (listener instanceof TcpSocket) {
      try {
        listener.listen(ep);
      } catch (e) {
        sockets.unindex(listener);
        throw e;
      }
    }
    return ep;
  }

  /**
   * Actively opens `socket` to `remote`: selects the source address, an ephemeral port unless
   * given, checks the 4-tuple, calls `socket.connect` and indexes the connection. The SYN leaves
   * on the next poll.
   *
   * @param sockets The socket set (the socket is added when needed).
   * @param socket A closed TCP socket.
   * @param remote The peer.
   * @param options `localAddr` / `localPort` to force the local endpoint.
   * @param now The current instant.
   * @returns The local endpoint.
   * @throws {NetError} `EINVAL`, `ENETUNREACH`, `EADDRNOTAVAIL` or `EADDRINUSE`.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { TcpSocket } from "@smol/net/socket";
   * import { parseIpAddress } from "@smol/net/wire";
   * const iface = new Interface({ addresses: ["192.0.2.2/24"], seed: 1 });
   * import assert from "node:assert/strict";
   * const conn = new TcpSocket();
   * const local = iface.connectTcp(new SocketSet(), conn, { addr: parseIpAddress("192.0.2.1"), port: 80 }, {}, 0);
   * assert.equal(local.addr.toString(), "192.0.2.2"); // source address selection
   * assert.ok(local.port >= 49152);
   * assert.equal(conn.state, "synSent");
   * ```
   */
  connectTcp(
    sockets: SocketSet,
    socket: TcpSocket,
    remote: IpEndpoint,
    options: { localAddr?: IpAddress; localPort?: number },
    now: Instant,
  ): IpEndpoint {
    const core = this.#core;
    if (
      remote.addr.isUnspecified || remote.addr.isMulticast || remote.port < 1 || remote.port > 65535
    ) {
      throw new NetError("EINVAL", `Invalid remote endpoint ${remote.addr} port ${remote.port}`);
    }
    if (remote.addr.version === 4 && remote.addr.isBroadcast) {
      throw new NetError("EINVAL", `Cannot connect to broadcast address ${remote.addr}`);
    }
    if (socket.state !== "closed") throw new NetError("EISCONN", `TCP socket is ${socket.state}`);
    if (core.routes.nextHop(remote.addr) === null) {
      throw new NetError("ENETUNREACH", `No route to ${remote.addr}`);
    }
    let addr: IpAddress | null;
    if (options.localAddr !== undefined) {
      addr = options.localAddr;
      if (!core.routes.hasAddress(addr) || addr.version !== remote.addr.version) {
        throw new NetError("EADDRNOTAVAIL", `Address ${addr} is not assigned to the interface`);
      }
    } else {
      addr = core.routes.sourceFor(remote.addr);
      if (addr === null) throw new NetError("ENETUNREACH", `No source address for ${remote.addr}`);
    }
    // An ephemeral port passes over a 4-tuple that entered TIME-WAIT less than a second ago: its
    // peer may hold TIME-WAIT too (simultaneous close), and a SYN whose timestamp is not newer
    // than the peer's TS.Recent (same millisecond) is refused there (RFC 6191), costing the
    // client its 1 s SYN timeout. Linux's tcp_twsk_unique waits the same second.
    const port = options.localPort !== undefined && options.localPort !== 0
      ? options.localPort
      : sockets.allocatePort("tcp", core.rng, (p) =>
        recentTimeWait(sockets, core, addr, p, remote, now));
    const local = { addr, port };
    if (sockets.handleOf(socket) === undefined) sockets.add(socket);
    sockets.indexTcp(socket, local, remote);
    try {
      socket.connect(this.context(now), remote, local);
    } catch (e) {
      sockets.unindex(socket);
      throw e;
    }
    // A 4-tuple in TIME-WAIT is reused with an ISN beyond the old incarnation's sequence space
    // (as Linux's tcp_twsk_unique); timestamps stay monotonic (the offset is keyed per pair).
    const table = timeWaitTable(sockets);
    const slot = table.find(addr, port, remote.addr, remote.port);
    if (slot >= 0) {
      table.read(slot, core.tw);
      table.remove(slot);
      if (core.tw.expires > now) raiseIss(socket, core.tw.sndNxt);
    }
    return local;
  }

  /**
   * Takes the next accepted connection of a listener and hands it to the caller: it is no longer
   * removed from `sockets` automatically when it closes.
   *
   * @param sockets The socket set.
   * @param listener The listener.
   * @returns The connection, or `null`.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
   * import { linkPair } from "@smol/net/phy";
   * import { Ipv4Address, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [da, db] = linkPair();
   * const a = new Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
   * const b = new Interface({ addresses: ["192.0.2.2/24"], seed: 2 });
   * const sa = new SocketSet(), sb = new SocketSet();
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * b.listenTcp(sb, l);
   * assert.equal(b.acceptTcp(sb, l), null); // nothing yet
   * a.connectTcp(sa, new TcpSocket(), { addr: parseIpAddress("192.0.2.2"), port: 80 }, {}, 0);
   * for (let t = 0; t < 10; t++) { a.poll(t, da, sa); b.poll(t, db, sb); }
   * const conn = b.acceptTcp(sb, l);
   * assert.equal(conn?.state, "established");
   * assert.equal(conn?.remoteEndpoint?.addr.toString(), "192.0.2.1");
   * ```
   */
  acceptTcp(sockets: SocketSet, listener: TcpListenSocket): TcpSocket | null {
    const s = listener.accept();
    if (s !== null) sockets.adopt(s);
    return s;
  }
}

/** How long a 4-tuple stays unused by an ephemeral connect after entering TIME-WAIT (ms). */
const TIME_WAIT_REUSE_AGE = 1000;

/** Whether `addr`:`port` → `remote` entered TIME-WAIT less than {@linkcode TIME_WAIT_REUSE_AGE} ago. */
function recentTimeWait(
  sockets: SocketSet,
  core: IfaceCore,
  addr: IpAddress,
  port: number,
  remote: IpEndpoint,
  now: Instant,
): boolean {
  const table = timeWaitTable(sockets);
  const slot = table.find(addr, port, remote.addr, remote.port);
  if (slot < 0) return false;
  table.read(slot, core.tw);
  return now - (core.tw.expires - core.tw.duration) < TIME_WAIT_REUSE_AGE;
}
