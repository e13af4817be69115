/**
 * {@linkcode SocketSet}: the sockets an interface serves and the one owner of their lifetimes
 * (handles, lingering release, reaping), with the egress schedule, the TIME-WAIT records and
 * the hashed demultiplexing index of `demux_index.ts` (TCP by 4-tuple, listeners and UDP by
 * local endpoint with a wildcard-address fallback, ICMP by echo identifier, RFC 6056 ports).
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import type { IcmpSocket } from "../socket/icmp.ts";
import type { RawSocket } from "../socket/raw.ts";
import type { UdpSocket } from "../socket/udp.ts";
import type { Rng } from "../rand.ts";
import type { TcpListenSocket, TcpSocket } from "../socket/tcp/mod.ts";
import type { TimeWaitTable } from "./time_wait.ts";
import type { PortProtocol } from "./demux_index.ts";
import { I_NONE, type Scheduler } from "./socket_meta.ts";
import {
  type AnySocket,
  K_ICMP,
  K_TCP,
  K_UDP,
  type SocketHandle,
  SocketRegistry,
} from "./_socket_set_registry.ts";

export { type AnySocket, DEFAULT_MAX_SOCKETS, type SocketHandle } from "./_socket_set_registry.ts";

let registryOf: (set: SocketSet) => SocketRegistry;

/** The egress schedule of a socket set (internal to the iface folder). */
export function schedulerOf(set: SocketSet): Scheduler<AnySocket> {
  return registryOf(set).sched;
}

/** The TIME-WAIT records of a socket set (internal to the iface folder). */
export function timeWaitTable(set: SocketSet): TimeWaitTable {
  return registryOf(set).timeWait;
}

export { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN, type PortProtocol } from "./demux_index.ts";

/**
 * The sockets an interface serves. Add sockets to get handles; bind, listen and connect them
 * through the interface (`bindUdp`, `listenTcp`, `connectTcp`), which indexes them here so that
 * ingress finds them by hash rather than by a scan.
 *
 * @example
 * ```ts
 * import { SocketSet } from "@smol/net/iface";
 * import { UdpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const sockets = new SocketSet();
 * const udp = new UdpSocket();
 * const handle = sockets.add(udp);
 * sockets.indexUdp(udp, { addr: Ipv4Address.UNSPECIFIED, port: 53 });
 * assert.equal(sockets.findUdp(Ipv4Address.parse("192.0.2.1"), 53), udp);
 * assert.equal(sockets.get(handle), udp);
 * ```
 */
export class SocketSet {
  readonly #r: SocketRegistry;

  static {
    registryOf = (set) => set.#r;
  }

  /**
   * Creates an empty set.
   *
   * @param options `maxSockets`: the most sockets the set holds (default 65,536); `add` refuses
   * more, and the Interface drops SYNs for new connections (counted as `socketLimit`).
   * @throws {RangeError} When `maxSockets` is not a positive integer.
   */
  constructor(options: { readonly maxSockets?: number } = {}) {
    this.#r = new SocketRegistry(options.maxSockets);
  }

  /**
   * Sets (or, with `null`, clears) the function told of every socket that may have changed: each
   * socket a poll takes for dispatch (woken by ingress, an application call or its timer) and
   * each socket that leaves the set. An async layer uses it to settle only the callers of those
   * sockets instead of every caller after every poll. Ingress wakes a listener whose accept
   * queue grew and a UDP, ICMP or raw socket that queued a datagram or an ICMP error, so those
   * are reported in the poll that changed them too.
   *
   * @param fn The function, called during `poll` (it must not call back into the set).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { IcmpSocket } from "@smol/net/socket";
   *
   * const sockets = new SocketSet();
   * const seen: unknown[] = [];
   * sockets.onChange((s) => seen.push(s));
   * const icmp = new IcmpSocket();
   * sockets.add(icmp);
   * new Interface({ addresses: ["127.0.0.1/8"], seed: 1 }).poll(0, new Loopback(), sockets);
   * assert.deepEqual(seen, [icmp]);
   * ```
   */
  onChange(fn: ((socket: AnySocket) => void) | null): void {
    this.#r.sched.onChange = fn;
  }

  /** The number of sockets. */
  get size(): number {
    return this.#r.list.length;
  }

  /**
   * The number of connections in TIME-WAIT. They are compact records, not sockets: they are not
   * counted in {@linkcode SocketSet.size} and no poll visits them.
   *
   * Shown in the {@linkcode SocketSet.release} example.
   */
  get timeWaitCount(): number {
    return this.#r.timeWait.size;
  }

  /** The most sockets the set holds. */
  get maxSockets(): number {
    return this.#r.maxSockets;
  }

  /** Whether the set holds `maxSockets` sockets. */
  get isFull(): boolean {
    return this.#r.isFull;
  }

  /**
   * Adds a socket.
   *
   * @param socket The socket.
   * @returns Its handle.
   * @throws {TypeError} When the socket is already in the set.
   * @throws {NetError} `ENOBUFS` when the set holds `maxSockets` sockets.
   *
   * @example Add, look up, iterate and remove
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { IcmpSocket, UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const set = new SocketSet();
   * const icmp = new IcmpSocket(), udp = new UdpSocket();
   * assert.equal(set.handleOf(udp), undefined); // not in the set yet
   * const h = set.add(icmp), hu = set.add(udp);
   * assert.equal(set.size, 2);
   * assert.equal(set.get(h), icmp);
   * assert.equal(set.handleOf(udp), hu);
   * assert.equal(set.at(0), icmp); // dense positions, for iteration without allocation
   * assert.deepEqual([...set], [[h, icmp], [hu, udp]]);
   * assert.equal(set.remove(h), icmp);
   * assert.equal(set.size, 1);
   * assert.equal(set.get(h), undefined);
   * assert.equal(set.remove(h), undefined);
   * ```
   */
  add(socket: AnySocket): SocketHandle {
    return this.#r.add(socket);
  }

  /**
   * The socket for `handle`.
   *
   * Shown in the {@linkcode SocketSet.add} example.
   *
   * @param handle A handle from {@linkcode SocketSet.add}.
   * @returns The socket, or `undefined` when removed.
   */
  get(handle: SocketHandle): AnySocket | undefined {
    return this.#r.byHandle.get(handle)?.socket;
  }

  /**
   * The handle of a socket in the set.
   *
   * Shown in the {@linkcode SocketSet.add} example.
   *
   * @param socket The socket.
   * @returns The handle, or `undefined` when not in the set.
   */
  handleOf(socket: AnySocket): SocketHandle | undefined {
    return this.#r.bySocket.get(socket)?.handle;
  }

  /**
   * Removes a socket and frees its ports and index entries.
   *
   * Shown in the {@linkcode SocketSet.add} example.
   *
   * @param handle The handle.
   * @returns The socket, or `undefined` when it was not in the set (for example a listener's
   * child that the interface already reaped).
   */
  remove(handle: SocketHandle): AnySocket | undefined {
    return this.#r.remove(handle);
  }

  /**
   * The socket at dense position `i` (0 ≤ i < size), for iteration without allocation. Positions
   * change when a socket is removed.
   *
   * Shown in the {@linkcode SocketSet.add} example.
   *
   * @param i The position.
   * @returns The socket.
   */
  at(i: number): AnySocket {
    return this.#r.at(i);
  }

  /**
   * Iterates over `[handle, socket]` pairs.
   *
   * Shown in the {@linkcode SocketSet.add} example.
   *
   * @returns The iterator.
   */
  *[Symbol.iterator](): IterableIterator<[SocketHandle, AnySocket]> {
    yield* this.#r.entries();
  }

  /** The raw sockets, for the interface's ingress (do not modify). */
  get rawSockets(): readonly RawSocket[] {
    return this.#r.raw;
  }

  /**
   * The TCP socket connected on this 4-tuple.
   *
   * Shown in the {@linkcode SocketSet.indexTcp} example.
   *
   * @param localAddr Our address.
   * @param localPort Our port.
   * @param remoteAddr The peer's address.
   * @param remotePort The peer's port.
   * @returns The socket, or `null`.
   */
  findTcp(
    localAddr: IpAddress,
    localPort: number,
    remoteAddr: IpAddress,
    remotePort: number,
  ): TcpSocket | null {
    return (this.#r.index.findTcp(localAddr, localPort, remoteAddr, remotePort)?.socket ??
      null) as TcpSocket | null;
  }

  /**
   * The TCP listener for a local endpoint: bound to exactly `addr`, else to the unspecified
   * address of its family.
   *
   * Shown in the {@linkcode SocketSet.indexTcpListener} example.
   *
   * @param addr The destination address of a SYN.
   * @param port The destination port.
   * @returns A `TcpListenSocket`, a `TcpSocket` in LISTEN, or `null`.
   */
  findTcpListener(addr: IpAddress, port: number): TcpListenSocket | TcpSocket | null {
    return (this.#r.index.findTcpListener(addr, port)?.socket ?? null) as
      | TcpListenSocket
      | TcpSocket
      | null;
  }

  /**
   * The UDP socket for a local endpoint: bound to exactly `addr`, else to the unspecified
   * address of its family.
   *
   * Shown in the {@linkcode SocketSet.indexUdp} example.
   *
   * @param addr The destination address of a datagram.
   * @param port The destination port.
   * @returns The socket, or `null`.
   */
  findUdp(addr: IpAddress, port: number): UdpSocket | null {
    return (this.#r.index.findUdp(addr, port)?.socket ?? null) as UdpSocket | null;
  }

  /**
   * The ICMP socket bound to an echo identifier.
   *
   * Shown in the {@linkcode SocketSet.indexIcmp} example.
   *
   * @param ident The identifier.
   * @returns The socket, or `null`.
   */
  findIcmp(ident: number): IcmpSocket | null {
    return (this.#r.index.findIcmp(ident)?.socket ?? null) as IcmpSocket | null;
  }

  /**
   * Whether a port is used by any TCP 4-tuple or listener, or by any UDP socket.
   *
   * Shown in the {@linkcode SocketSet.indexUdp} example.
   *
   * @param protocol `"tcp"` or `"udp"`.
   * @param port The port.
   * @returns `true` when in use.
   */
  portInUse(protocol: PortProtocol, port: number): boolean {
    return this.#r.index.portInUse(protocol, port);
  }

  /**
   * Picks a free ephemeral port (RFC 6056 §3.3.2: a random start in 49152–65535, then the next
   * free one), never colliding with a port in use by the protocol. Ports that `avoid` refuses are
   * passed over while another free one exists (`Interface.connectTcp` passes over a 4-tuple that
   * left TIME-WAIT less than a second ago).
   *
   * @param protocol `"tcp"` or `"udp"`.
   * @param rng The interface's generator.
   * @param avoid Refuses a free port when another is free (optional).
   * @returns The port.
   * @throws {NetError} `EADDRNOTAVAIL` when every ephemeral port is in use.
   *
   * @example
   * ```ts
   * import { Rng, SocketSet } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const set = new SocketSet();
   * const p = set.allocatePort("udp", new Rng(1));
   * assert.ok(p >= 49152 && p <= 65535);
   * assert.equal(set.portInUse("udp", p), false);
   * // Only one free port is refused: it is passed over.
   * const q = set.allocatePort("udp", new Rng(1), (port) => port === p);
   * assert.notEqual(q, p);
   * ```
   */
  allocatePort(protocol: PortProtocol, rng: Rng, avoid?: (port: number) => boolean): number {
    return this.#r.index.allocatePort(protocol, rng, avoid);
  }

  /**
   * Indexes a TCP socket under its 4-tuple (the interface does this in `connectTcp` and for
   * listener children).
   *
   * @param socket A TCP socket in the set.
   * @param local Our endpoint.
   * @param remote The peer's endpoint.
   * @throws {NetError} `EADDRINUSE` when the 4-tuple is taken; `EINVAL` when the socket is not
   * in the set or is already indexed.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { TcpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), s = new TcpSocket(), t = new TcpSocket();
   * const local = { addr: Ipv4Address.parse("192.0.2.1"), port: 50000 };
   * const remote = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
   * set.add(s);
   * set.add(t);
   * set.indexTcp(s, local, remote);
   * assert.equal(set.findTcp(local.addr, 50000, remote.addr, 80), s);
   * assert.equal(set.findTcp(local.addr, 50000, remote.addr, 81), null);
   * assert.equal(set.portInUse("tcp", 50000), true);
   * assert.throws(() => set.indexTcp(t, local, remote), { code: "EADDRINUSE" });
   * assert.throws(() => set.indexTcp(new TcpSocket(), local, remote), { code: "EINVAL" }); // not in the set
   * ```
   */
  indexTcp(socket: TcpSocket, local: IpEndpoint, remote: IpEndpoint): void {
    this.#r.index.indexTcp(this.#r.entryForIndex(socket, K_TCP), local, remote);
  }

  /**
   * Indexes a listener (a `TcpListenSocket`, or a `TcpSocket` in LISTEN) by its local endpoint.
   *
   * @param socket The listener, in the set.
   * @param local The endpoint; an unspecified address listens on every address of its family.
   * @throws {NetError} `EADDRINUSE` when a listener or connection overlaps that endpoint.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const set = new SocketSet();
   * const local = { addr: Ipv6Address.UNSPECIFIED, port: 80 };
   * const l = new TcpListenSocket(local), other = new TcpListenSocket(local);
   * set.add(l);
   * set.add(other);
   * set.indexTcpListener(l, local);
   * assert.equal(set.findTcpListener(Ipv6Address.parse("2001:db8::1"), 80), l); // the wildcard matches
   * assert.equal(set.findTcpListener(Ipv6Address.parse("2001:db8::1"), 81), null);
   * assert.throws(() => set.indexTcpListener(other, local), { code: "EADDRINUSE" });
   * ```
   */
  indexTcpListener(socket: TcpListenSocket | TcpSocket, local: IpEndpoint): void {
    this.#r.index.indexTcpListener(this.#r.listenerForIndex(socket), local);
  }

  /**
   * Indexes a UDP socket by its local endpoint.
   *
   * @param socket The socket, in the set.
   * @param local The endpoint; an unspecified address receives for every address of its family.
   * @throws {NetError} `EADDRINUSE` when another UDP socket overlaps that endpoint.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), exact = new UdpSocket(), any = new UdpSocket(), t = new UdpSocket();
   * set.add(exact);
   * set.add(any);
   * set.add(t);
   * assert.equal(set.portInUse("udp", 53), false);
   * set.indexUdp(exact, { addr: Ipv4Address.parse("192.0.2.1"), port: 53 });
   * set.indexUdp(any, { addr: Ipv4Address.UNSPECIFIED, port: 54 });
   * assert.equal(set.findUdp(Ipv4Address.parse("192.0.2.1"), 53), exact);
   * assert.equal(set.findUdp(Ipv4Address.parse("192.0.2.9"), 53), null);
   * assert.equal(set.findUdp(Ipv4Address.parse("192.0.2.9"), 54), any); // the wildcard
   * assert.equal(set.findUdp(Ipv4Address.parse("192.0.2.1"), 55), null);
   * assert.equal(set.portInUse("udp", 53), true);
   * assert.equal(set.portInUse("tcp", 53), false); // ports are per protocol
   * assert.throws(() => set.indexUdp(t, { addr: Ipv4Address.parse("192.0.2.1"), port: 54 }), { code: "EADDRINUSE" });
   * ```
   */
  indexUdp(socket: UdpSocket, local: IpEndpoint): void {
    this.#r.index.indexUdp(this.#r.entryForIndex(socket, K_UDP), local);
  }

  /**
   * Indexes an ICMP socket by its echo identifier.
   *
   * @param socket The socket, in the set.
   * @param ident The identifier.
   * @throws {NetError} `EADDRINUSE` when another socket has that identifier.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), s = new IcmpSocket(), t = new IcmpSocket();
   * set.add(s);
   * set.add(t);
   * set.indexIcmp(s, 7);
   * assert.equal(set.findIcmp(7), s);
   * assert.equal(set.findIcmp(8), null);
   * assert.throws(() => set.indexIcmp(t, 7), { code: "EADDRINUSE" });
   * ```
   */
  indexIcmp(socket: IcmpSocket, ident: number): void {
    this.#r.index.indexIcmp(this.#r.entryForIndex(socket, K_ICMP), ident);
  }

  /**
   * Removes a socket from whichever index holds it and frees its port (the socket stays in the
   * set). The interface calls this when a TCP socket reaches CLOSED.
   *
   * @param socket The socket.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), s = new UdpSocket();
   * set.add(s);
   * assert.equal(set.isIndexed(s), false);
   * set.indexUdp(s, { addr: Ipv4Address.UNSPECIFIED, port: 9 });
   * assert.equal(set.isIndexed(s), true);
   * set.unindex(s);
   * assert.equal(set.isIndexed(s), false);
   * assert.equal(set.portInUse("udp", 9), false);
   * assert.equal(set.findUdp(Ipv4Address.parse("192.0.2.1"), 9), null);
   * assert.equal(set.size, 1); // still in the set
   * ```
   */
  unindex(socket: AnySocket): void {
    const e = this.#r.bySocket.get(socket);
    if (e !== undefined) this.#r.index.unindex(e);
  }

  /**
   * Whether a socket is indexed (connected, listening or bound).
   *
   * Shown in the {@linkcode SocketSet.unindex} example.
   *
   * @param socket The socket.
   * @returns `true` when ingress can find it.
   */
  isIndexed(socket: AnySocket): boolean {
    return (this.#r.bySocket.get(socket)?.index ?? I_NONE) !== I_NONE;
  }

  /**
   * Marks a TCP socket as a listener's child that the interface added: it is removed from the
   * set when it reaches CLOSED, unless {@linkcode SocketSet.adopt} was called first.
   *
   * Shown in the {@linkcode SocketSet.adopt} example.
   *
   * @param socket The child.
   */
  markChild(socket: TcpSocket): void {
    const e = this.#r.bySocket.get(socket);
    if (e !== undefined) e.child = true;
  }

  /**
   * Hands an accepted child over to the user: it is no longer reaped automatically.
   *
   * @param socket The child.
   * @returns Its handle, or `undefined` when it is no longer in the set.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { TcpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), s = new TcpSocket();
   * const h = set.add(s);
   * assert.equal(set.isChild(s), false);
   * set.markChild(s);
   * assert.equal(set.isChild(s), true); // reaped when it reaches CLOSED
   * assert.equal(set.adopt(s), h);
   * assert.equal(set.isChild(s), false); // the application owns it now
   * assert.equal(set.adopt(new TcpSocket()), undefined);
   * ```
   */
  adopt(socket: TcpSocket): SocketHandle | undefined {
    return this.#r.adopt(socket);
  }

  /**
   * Whether a socket is an unadopted listener child.
   *
   * Shown in the {@linkcode SocketSet.adopt} example.
   *
   * @param socket The socket.
   * @returns `true` for a child the interface will reap.
   */
  isChild(socket: AnySocket): boolean {
    return this.#r.bySocket.get(socket)?.child ?? false;
  }

  /**
   * The socket for a handle the application holds, refusing a handle whose socket was removed,
   * reaped or released (handles are never reused, so a stale one never reaches a new socket).
   *
   * @param handle A handle from {@linkcode SocketSet.add}.
   * @returns The socket.
   * @throws {NetError} `EBADF` when the handle no longer names a socket of the application.
   *
   * @example
   * ```ts
   * import { SocketSet } from "@smol/net/iface";
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const set = new SocketSet(), s = new UdpSocket();
   * const h = set.add(s);
   * assert.equal(set.socket(h), s);
   * set.remove(h);
   * assert.throws(() => set.socket(h), { code: "EBADF" });
   * ```
   */
  socket(handle: SocketHandle): AnySocket {
    return this.#r.socket(handle);
  }

  /**
   * Hands a socket's lifetime to the set: the application is done with it. A TCP connection that
   * still has data or a FIN to deliver lingers and is removed by the interface, exactly once,
   * when it reaches CLOSED or hands its TIME-WAIT over to a record; any other socket, or one that
   * is already closed, is removed now. The handle is refused from then on.
   *
   * @param handle The handle.
   * @returns `true` when the socket was removed at once, `false` when it lingers.
   * @throws {NetError} `EBADF` for a handle that is not open.
   *
   * @example A connection from release to its TIME-WAIT record
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
   * const conn = new TcpSocket();
   * a.connectTcp(sa, conn, { addr: parseIpAddress("192.0.2.2"), port: 80 }, {}, 0);
   * let t = 0;
   * const run = (n: number) => {
   *   for (const end = t + n; t < end; t++) { a.poll(t, da, sa); b.poll(t, db, sb); }
   * };
   * run(10);
   * const peer = b.acceptTcp(sb, l)!;
   * const closed = new TcpSocket();
   * assert.equal(sa.release(sa.add(closed)), true); // nothing to deliver: removed now
   * conn.send(new Uint8Array(100));
   * conn.close();
   * const h = sa.handleOf(conn)!;
   * assert.equal(sa.release(h), false); // lingers to deliver its data and FIN
   * assert.throws(() => sa.socket(h), { code: "EBADF" });
   * assert.equal(sa.releasedCount, 1);
   * assert.equal(sa.lingering(), true);
   * run(10);
   * assert.equal(conn.state, "finWait2"); // data and FIN acknowledged
   * assert.equal(sa.lingering(), false); // FIN-WAIT-2 only waits for the peer
   * assert.equal(sa.releasedCount, 1);
   * assert.equal(peer.recv(new Uint8Array(100)), 100); // read all: close() would reset otherwise
   * peer.close();
   * run(10);
   * assert.equal(sa.releasedCount, 0); // removed once its TIME-WAIT became a record
   * assert.equal(sa.handleOf(conn), undefined);
   * assert.equal(conn.state, "closed");
   * assert.equal(sa.timeWaitCount, 1); // the active closer holds TIME-WAIT as a record
   * assert.equal(sb.timeWaitCount, 0);
   * ```
   */
  release(handle: SocketHandle): boolean {
    return this.#r.release(handle);
  }

  /**
   * Whether released TCP connections still have data or a FIN to deliver (not counting those
   * that only wait for the peer in FIN-WAIT-2), so that their owner can keep running.
   *
   * Shown in the {@linkcode SocketSet.release} example.
   *
   * @returns `true` while one is flushing.
   */
  lingering(): boolean {
    return this.#r.lingering();
  }

  /**
   * The number of released TCP connections still in the set.
   *
   * Shown in the {@linkcode SocketSet.release} example.
   */
  get releasedCount(): number {
    return this.#r.releasedCount;
  }
}
