/**
 * Accept-any mode (transparent termination): an interface that terminates every TCP connection
 * and UDP flow entering it, whatever the destination address and port, and hands each to the
 * application with the original destination as its local endpoint. This is how userspace VPN
 * clients (tun2socks), transparent proxies and traffic recorders are built on a TUN device.
 *
 * The interface owns one {@linkcode AcceptAny} when `InterfaceConfig.acceptAny` is set. Ingress
 * asks it about packets to addresses that are not the interface's own:
 * - martian sources and destinations (RFC 1812 §5.3.7, the RFC 6890 registry in
 *   `wire/special_purpose.ts`) are dropped and counted (`martian`);
 * - a packet whose TTL or hop limit would expire at this hop (≤ 1) is dropped, counted as
 *   `ttlExceeded` and answered with ICMP Time Exceeded (RFC 1812 §5.3.1), as a router would;
 * - a SYN no listener takes goes to the transparent listener ({@linkcode AcceptAny.listenTcp});
 *   its children are bound to the SYN's destination, so `localEndpoint` is the original
 *   destination;
 * - a UDP datagram no bound socket takes opens (or joins) a per-flow socket keyed by its
 *   4-tuple, which {@linkcode AcceptAny.acceptUdp} hands out; flows expire after
 *   `udpIdleTimeout` ms without a datagram from the client (RFC 4787 REQ-6: refreshed by the
 *   inside's packets);
 * - ICMP echo requests are answered on behalf of any destination when `echo` is set.
 *
 * Bounds: at most `maxFlows` terminated flows (TCP connections not yet closed plus UDP flows);
 * a SYN, cookie ACK or new UDP flow beyond it is dropped silently and counted (`flowLimit`; the
 * client retries). The transparent listener's SYN queue is bounded by its `synQueue`, beyond
 * which SYNs are answered with SYN cookies (RFC 4987) and no state is kept.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import { Ipv4Address } from "../wire/address.ts";
import { martianReason } from "../wire/special_purpose.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import { TcpFlags } from "../wire/tcp.ts";
import { TcpListenSocket } from "../socket/tcp/listener.ts";
import type { TcpSocket } from "../socket/tcp/socket.ts";
import { UdpSocket } from "../socket/udp.ts";
import type { TcpSocketOptions } from "../socket/tcp/config.ts";
import { tupleHash } from "./time_wait.ts";
import type { SocketSet } from "./socket_set.ts";
import { type Duration, type Instant, NEVER } from "../time.ts";
import { NetError } from "./errors.ts";
import type { IfaceCore } from "./iface_state.ts";
import { carriesIcmpv4Error, carriesIcmpv6Error, sendIcmpError } from "./icmp.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
import { wakeSocket } from "../socket/waker.ts";

/**
 * Options of accept-any mode (`InterfaceConfig.acceptAny`).
 *
 * @example
 * ```ts
 * import { AcceptAny, type AcceptAnyOptions } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const options: AcceptAnyOptions = { maxFlows: 1024, udpIdleTimeout: 30_000, echo: true };
 * const any = new AcceptAny(options);
 * assert.equal(any.maxFlows, 1024);
 * assert.equal(any.echo, true);
 * assert.throws(() => new AcceptAny({ maxFlows: 0 }), RangeError);
 * ```
 */
export interface AcceptAnyOptions {
  /** The most terminated flows (TCP connections not yet closed plus UDP flows); default 4,096. */
  readonly maxFlows?: number;
  /** Milliseconds without a datagram from the client after which a UDP flow closes; default 60,000. */
  readonly udpIdleTimeout?: Duration;
  /** New UDP flows waiting for {@linkcode AcceptAny.acceptUdp}; default 128, beyond it dropped. */
  readonly udpBacklog?: number;
  /** Answer ICMP echo requests for any destination; default `false` (counted as not for us). */
  readonly echo?: boolean;
  /**
   * Treat the documentation blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
   * 2001:db8::/32) as ordinary addresses rather than martians; default `false`. Labs and tests
   * that use TEST-NET addresses set it.
   */
  readonly allowDocumentation?: boolean;
}

/**
 * Counters of accept-any mode: every packet it refuses is counted under one reason.
 *
 * @example
 * ```ts
 * import { Interface, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const [dc, dp] = linkPair();
 * const routes = [{ cidr: "0.0.0.0/0", via: null }];
 * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
 * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true, maxFlows: 1 } });
 * const sc = new SocketSet(), sp = new SocketSet();
 * const any = proxy.acceptAny!;
 * any.listenUdp();
 * const udp = new UdpSocket();
 * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
 * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
 * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
 * udp.send(new Uint8Array(1), { addr: Ipv4Address.parse("198.51.100.8"), port: 53 });
 * for (let t = 5; t < 10; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
 * const c = any.counters;
 * assert.equal(c.flowsOpened, 1);
 * assert.equal(c.flowLimit, 1); // the second flow was over maxFlows
 * ```
 */
export interface AcceptAnyCounters {
  /** SYNs, cookie ACKs and first datagrams of new flows dropped at `maxFlows`. */
  flowLimit: number;
  /** Packets dropped for a martian source or destination. */
  martian: number;
  /** New UDP flows dropped because `udpBacklog` flows already waited for `acceptUdp`. */
  udpBacklogFull: number;
  /** Datagrams dropped because their flow's receive queue was full. */
  udpQueueFull: number;
  /** UDP flows closed by the idle timeout. */
  udpExpired: number;
  /** TCP connections and UDP flows opened so far. */
  flowsOpened: number;
}

/**
 * A UDP flow terminated in accept-any mode: its socket is bound to the original destination
 * (`local`) and receives only the datagrams of the client (`remote`); send replies with
 * `socket.send(data, remote)`. Close it with `SocketSet.remove` (or let it expire).
 *
 * @example
 * ```ts
 * import { Interface, SocketSet, type UdpFlow } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function reply(flow: UdpFlow, data: Uint8Array): boolean {
 *   return flow.socket.send(data, flow.remote);
 * }
 * const [dc, dp] = linkPair();
 * const routes = [{ cidr: "0.0.0.0/0", via: null }];
 * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
 * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true } });
 * const sc = new SocketSet(), sp = new SocketSet();
 * const any = proxy.acceptAny!;
 * any.listenUdp();
 * const udp = new UdpSocket();
 * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
 * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
 * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
 * const flow = any.acceptUdp()!;
 * assert.equal(flow.local.addr.toString(), "198.51.100.7"); // the original destination
 * assert.equal(flow.remote.addr.toString(), "192.0.2.1");
 * assert.equal(reply(flow, new TextEncoder().encode("ok")), true);
 * for (let t = 5; t < 10; t++) { proxy.poll(t, dp, sp); client.poll(t, dc, sc); }
 * const got = udp.recv(new Uint8Array(8));
 * assert.equal(got?.remote.addr.toString(), "198.51.100.7");
 * ```
 */
export interface UdpFlow {
  /** The flow's socket, in the interface's socket set. */
  readonly socket: UdpSocket;
  /** The original destination. */
  readonly local: IpEndpoint;
  /** The client. */
  readonly remote: IpEndpoint;
}

interface FlowEntry extends UdpFlow {
  readonly hash: number;
  last: Instant;
}

interface State {
  readonly maxFlows: number;
  readonly udpIdle: Duration;
  readonly udpBacklog: number;
  readonly echo: boolean;
  readonly allowDoc: boolean;
  readonly counters: AcceptAnyCounters;
  listener: TcpListenSocket | null;
  udpOn: boolean;
  readonly tcp: Set<TcpSocket>;
  readonly flows: Map<number, FlowEntry[]>;
  udpCount: number;
  readonly pending: FlowEntry[];
  /** When `tcp` was last swept for closed connections. */
  sweptAt: Instant;
  nextExpiry: Instant;
}

let stateOf: (a: AcceptAny) => State;

/** Granularity (ms) of UDP flow expiry walks, or the idle timeout when shorter. */
const EXPIRY_BATCH = 1000;

function checkCount(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== "number") throw new TypeError(`Invalid ${name}: expected a number`);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`Invalid ${name} ${n}: must be a positive integer`);
  }
  return n;
}

/**
 * The accept-any state of an interface: the transparent TCP listener, the UDP flow table, the
 * flow bound and the counters. An `Interface` built with `acceptAny` options owns one
 * (`iface.acceptAny`); ingress consults it for packets to addresses that are not the
 * interface's own.
 *
 * @example Terminate a TCP connection to an address the interface does not have
 * ```ts
 * import assert from "node:assert/strict";
 * import { Interface, SocketSet } from "@smol/net/iface";
 * import { TcpSocket } from "@smol/net/socket";
 * import { linkPair } from "@smol/net/phy";
 * import { Ipv4Address } from "@smol/net/wire";
 *
 * const [dc, dp] = linkPair();
 * const client = new Interface({ addresses: ["192.0.2.1/24"], routes: [{ cidr: "0.0.0.0/0", via: null }], seed: 1 });
 * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes: [{ cidr: "0.0.0.0/0", via: null }], seed: 2, acceptAny: { allowDocumentation: true } });
 * const sc = new SocketSet(), sp = new SocketSet();
 * const listener = proxy.acceptAny!.listenTcp();
 * const conn = new TcpSocket();
 * client.connectTcp(sc, conn, { addr: Ipv4Address.parse("198.51.100.7"), port: 443 }, {}, 0);
 * for (let t = 0; t < 10; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
 * const accepted = proxy.acceptTcp(sp, listener);
 * assert.equal(accepted?.localEndpoint?.addr.toString(), "198.51.100.7");
 * assert.equal(accepted?.localEndpoint?.port, 443);
 * assert.equal(conn.state, "established");
 * ```
 */
export class AcceptAny {
  readonly #s: State;

  static {
    stateOf = (a) => a.#s;
  }

  /**
   * Creates the state; an `Interface` does this for `InterfaceConfig.acceptAny`.
   *
   * @param options Bounds, timeouts and what to answer.
   * @throws {RangeError} When a bound is not a positive integer or the timeout is not positive.
   * @throws {TypeError} When an option has the wrong type.
   */
  constructor(options: AcceptAnyOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid acceptAny options: expected an object");
    }
    const idle = options.udpIdleTimeout ?? 60_000;
    if (typeof idle !== "number") throw new TypeError("Invalid udpIdleTimeout: expected a number");
    if (!(idle > 0) || !Number.isFinite(idle)) {
      throw new RangeError(`Invalid udpIdleTimeout ${idle}: must be a positive finite number`);
    }
    this.#s = {
      maxFlows: checkCount("maxFlows", options.maxFlows, 4096),
      udpIdle: idle,
      udpBacklog: checkCount("udpBacklog", options.udpBacklog, 128),
      echo: options.echo === true,
      allowDoc: options.allowDocumentation === true,
      counters: {
        flowLimit: 0,
        martian: 0,
        udpBacklogFull: 0,
        udpQueueFull: 0,
        udpExpired: 0,
        flowsOpened: 0,
      },
      listener: null,
      udpOn: false,
      tcp: new Set(),
      flows: new Map(),
      udpCount: 0,
      pending: [],
      sweptAt: -1,
      nextExpiry: NEVER,
    };
  }

  /** The counters (live). */
  get counters(): Readonly<AcceptAnyCounters> {
    return this.#s.counters;
  }

  /** The most terminated flows. */
  get maxFlows(): number {
    return this.#s.maxFlows;
  }

  /**
   * The terminated flows still open: TCP connections not yet closed (as of the last sweep) plus
   * UDP flows.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [dc, dp] = linkPair();
   * const routes = [{ cidr: "0.0.0.0/0", via: null }];
   * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
   * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true } });
   * const sc = new SocketSet(), sp = new SocketSet();
   * const any = proxy.acceptAny!;
   * any.listenUdp();
   * const udp = new UdpSocket();
   * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
   * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
   * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
   * assert.equal(any.flowCount, 1);
   * ```
   */
  get flowCount(): number {
    return this.#s.tcp.size + this.#s.udpCount;
  }

  /** Whether ICMP echo requests to any destination are answered. */
  get echo(): boolean {
    return this.#s.echo;
  }

  /**
   * Opens the transparent TCP listener: it takes every SYN that no ordinary listener takes,
   * whatever its destination address and port. Take connections from it with
   * `Interface.acceptTcp`, as from any listener; each has `localEndpoint` = the original
   * destination.
   *
   * @param options `backlog` (established connections waiting for accept, default 128),
   * `synQueue` (half-open connections, default 1024, SYN cookies beyond it) and `socket` (options
   * of every connection); or `listener`, another interface's transparent listener to share (its
   * accept queue then takes the connections of both interfaces; the flow bound and counters stay
   * each interface's own).
   * @returns The listener (its `local` is `0.0.0.0:0`).
   * @throws {NetError} `EADDRINUSE` when a transparent listener is already open.
   *
   * @example
   * ```ts
   * import { AcceptAny } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const any = new AcceptAny();
   * const listener = any.listenTcp({ backlog: 64 });
   * assert.equal(listener.local.port, 0); // takes every address and port
   * assert.throws(() => any.listenTcp(), { code: "EADDRINUSE" });
   * ```
   */
  listenTcp(
    options: {
      backlog?: number;
      synQueue?: number;
      socket?: TcpSocketOptions;
      listener?: TcpListenSocket;
    } = {},
  ): TcpListenSocket {
    const s = this.#s;
    if (s.listener !== null && !s.listener.isClosed) {
      throw new NetError("EADDRINUSE", "A transparent TCP listener is already open");
    }
    const { listener, ...rest } = options;
    if (listener !== undefined) {
      if (!(listener instanceof TcpListenSocket) || listener.local.port !== 0) {
        throw new TypeError("Invalid listener: expected another interface's transparent listener");
      }
      s.listener = listener;
      return listener;
    }
    s.listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 0 }, {
      ...rest,
      transparent: true,
    });
    return s.listener;
  }

  /**
   * The open transparent TCP listener, or `null`.
   *
   * @example
   * ```ts
   * import { AcceptAny } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const first = new AcceptAny(), second = new AcceptAny();
   * assert.equal(first.tcpListener, null);
   * const listener = first.listenTcp();
   * second.listenTcp({ listener }); // one accept queue for both interfaces
   * assert.equal(second.tcpListener, listener);
   * listener.close();
   * assert.equal(first.tcpListener, null);
   * ```
   */
  get tcpListener(): TcpListenSocket | null {
    const l = this.#s.listener;
    return l === null || l.isClosed ? null : l;
  }

  /**
   * Starts terminating UDP flows: a datagram that no bound socket takes opens a flow, handed out
   * by {@linkcode AcceptAny.acceptUdp}.
   *
   * @example
   * ```ts
   * import { AcceptAny } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const any = new AcceptAny();
   * assert.equal(any.udpListening, false);
   * any.listenUdp();
   * assert.equal(any.udpListening, true);
   * ```
   */
  listenUdp(): void {
    this.#s.udpOn = true;
  }

  /** Whether UDP flows are terminated. */
  get udpListening(): boolean {
    return this.#s.udpOn;
  }

  /**
   * Stops terminating new UDP flows and closes the flows not yet accepted (accepted ones stay
   * open until their owner removes them or they expire).
   *
   * @param sockets The interface's socket set.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [dc, dp] = linkPair();
   * const routes = [{ cidr: "0.0.0.0/0", via: null }];
   * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
   * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true } });
   * const sc = new SocketSet(), sp = new SocketSet();
   * const any = proxy.acceptAny!;
   * any.listenUdp();
   * const udp = new UdpSocket();
   * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
   * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
   * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
   * assert.equal(any.pendingUdp, 1);
   * any.unlistenUdp(sp);
   * assert.equal(any.udpListening, false);
   * assert.equal(any.pendingUdp, 0); // the flow not yet accepted is closed
   * ```
   */
  unlistenUdp(sockets: SocketSet): void {
    const s = this.#s;
    s.udpOn = false;
    for (const e of s.pending.splice(0)) closeFlow(s, sockets, e);
  }

  /**
   * The next new UDP flow, or `null`. The flow's first datagrams are already in its socket.
   *
   * @returns The flow.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [dc, dp] = linkPair();
   * const routes = [{ cidr: "0.0.0.0/0", via: null }];
   * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
   * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true } });
   * const sc = new SocketSet(), sp = new SocketSet();
   * const any = proxy.acceptAny!;
   * any.listenUdp();
   * const udp = new UdpSocket();
   * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
   * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
   * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
   * const flow = any.acceptUdp();
   * assert.equal(flow?.local.port, 53);
   * const got = flow?.socket.recv(new Uint8Array(8)); // the first datagram is already there
   * assert.equal(got?.length, 2);
   * assert.equal(any.acceptUdp(), null);
   * ```
   */
  acceptUdp(): UdpFlow | null {
    return this.#s.pending.shift() ?? null;
  }

  /**
   * The number of new UDP flows waiting for {@linkcode AcceptAny.acceptUdp}.
   *
   * @example
   * ```ts
   * import { Interface, SocketSet } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [dc, dp] = linkPair();
   * const routes = [{ cidr: "0.0.0.0/0", via: null }];
   * const client = new Interface({ addresses: ["192.0.2.1/24"], routes, seed: 1 });
   * const proxy = new Interface({ addresses: ["192.0.2.2/24"], routes, seed: 2, acceptAny: { allowDocumentation: true } });
   * const sc = new SocketSet(), sp = new SocketSet();
   * const any = proxy.acceptAny!;
   * any.listenUdp();
   * const udp = new UdpSocket();
   * client.bindUdp(sc, udp, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
   * udp.send(new TextEncoder().encode("hi"), { addr: Ipv4Address.parse("198.51.100.7"), port: 53 });
   * for (let t = 0; t < 5; t++) { client.poll(t, dc, sc); proxy.poll(t, dp, sp); }
   * assert.equal(any.pendingUdp, 1);
   * any.acceptUdp();
   * assert.equal(any.pendingUdp, 0);
   * ```
   */
  get pendingUdp(): number {
    return this.#s.pending.length;
  }
}

// ---- Internal to the iface folder (ingress, TCP demultiplexing and the poll loop) ----

/** Whether accept-any mode takes a packet to `dst` (any unicast address). */
export function acceptAnyTakes(dst: IpAddress): boolean {
  if (dst.isMulticast || dst.isUnspecified) return false;
  return dst.version === 6 || !dst.isBroadcast;
}

/**
 * Screens a packet to an address that is not ours, which ingress found no other use for:
 * `true` when it is dropped (not for us, a martian, or a TTL that expires here, answered with
 * ICMP Time Exceeded), `false` when it may be terminated.
 */
export function acceptAnyDrops(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  ttl: number,
  whole: Uint8Array,
  isFragment: boolean,
): boolean {
  const a = core.acceptAny;
  if (a === null || !acceptAnyTakes(dst)) {
    core.counters.notForUs++;
    return true;
  }
  const s = stateOf(a);
  if (martianReason(src, dst, { allowDocumentation: s.allowDoc }) !== null) {
    s.counters.martian++;
    return true;
  }
  if (ttl <= 1) {
    // RFC 1812 §5.3.1: a router discards a packet whose TTL reaches zero and says so.
    core.counters.ttlExceeded++;
    const v4 = src.version === 4;
    sendIcmpError(
      core,
      whole,
      src,
      dst,
      v4 ? Icmpv4Type.TimeExceeded : Icmpv6Type.TimeExceeded,
      0,
      0,
      {
        isFragment,
        isIcmpError: v4
          ? carriesIcmpv4Error(whole[9]!, whole.subarray((whole[0]! & 0xf) * 4))
          : carriesIcmpv6Error(whole[6]!, whole.subarray(40)),
      },
    );
    return true;
  }
  return false;
}

/**
 * The transparent listener for a segment no listener took: the listener, `null` when there is
 * none (the caller resets as for a closed port), or `false` when the segment was dropped at the
 * flow bound (counted; nothing is sent).
 */
export function acceptAnyListener(
  a: AcceptAny,
  now: Instant,
  repr: TcpRepr,
): TcpListenSocket | null | false {
  const s = stateOf(a);
  const l = s.listener;
  if (l === null || l.isClosed) return null;
  const f = repr.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST);
  if (f !== TcpFlags.SYN && f !== TcpFlags.ACK) return l;
  if (s.tcp.size + s.udpCount >= s.maxFlows) {
    sweepTcp(s, now);
    if (s.tcp.size + s.udpCount >= s.maxFlows) {
      s.counters.flowLimit++;
      return false;
    }
  }
  return l;
}

/** Records a connection that `listener` created, when it is the transparent listener. */
export function acceptAnyTrack(a: AcceptAny, listener: TcpListenSocket, child: TcpSocket): void {
  const s = stateOf(a);
  if (s.listener !== listener) return;
  s.tcp.add(child);
  s.counters.flowsOpened++;
}

/** Forgets closed connections, at most once per instant (it walks every tracked connection). */
function sweepTcp(s: State, now: Instant): void {
  if (s.sweptAt === now) return;
  s.sweptAt = now;
  for (const c of s.tcp) {
    const st = c.state;
    if (st === "closed" || st === "timeWait") s.tcp.delete(c);
  }
}

/**
 * Delivers a datagram that no bound socket took to its flow, opening one when needed. `false`
 * when UDP flows are not terminated (the caller answers port unreachable); `true` when
 * delivered or dropped and counted.
 */
export function acceptAnyUdp(
  core: IfaceCore,
  a: AcceptAny,
  srcAddr: IpAddress,
  srcPort: number,
  dstAddr: IpAddress,
  dstPort: number,
  payload: Uint8Array,
): boolean {
  const s = stateOf(a);
  if (!s.udpOn) return false;
  const sockets = core.sockets!, now = core.now;
  const src = { addr: srcAddr, port: srcPort }, dst = { addr: dstAddr, port: dstPort };
  const hash = tupleHash(dst.addr, dst.port, src.addr, src.port);
  const bucket = s.flows.get(hash);
  let e: FlowEntry | null = null;
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const x = bucket[i]!;
      if (
        x.local.port === dst.port && x.remote.port === src.port && x.local.addr.equals(dst.addr) &&
        x.remote.addr.equals(src.addr)
      ) {
        if (x.socket.isOpen && sockets.handleOf(x.socket) !== undefined) e = x;
        else forget(s, sockets, x); // its owner closed it: a new flow starts
        break;
      }
    }
  }
  if (e === null) {
    if (s.tcp.size + s.udpCount >= s.maxFlows) {
      sweepTcp(s, now);
      if (s.tcp.size + s.udpCount >= s.maxFlows) {
        s.counters.flowLimit++;
        return true;
      }
    }
    if (s.pending.length >= s.udpBacklog) {
      s.counters.udpBacklogFull++;
      return true;
    }
    if (sockets.isFull) {
      core.counters.socketLimit++;
      return true;
    }
    const socket = new UdpSocket();
    socket.bind({ addr: dst.addr, port: dst.port });
    sockets.add(socket);
    if (core.group !== null) core.group.pin(core, socket); // replies leave where it came in
    e = {
      socket,
      local: { addr: dst.addr, port: dst.port },
      remote: { addr: src.addr, port: src.port },
      hash,
      last: now,
    };
    const b = s.flows.get(hash);
    if (b === undefined) s.flows.set(hash, [e]);
    else b.push(e);
    s.udpCount++;
    s.pending.push(e);
    s.counters.flowsOpened++;
    const at = now + s.udpIdle;
    if (at < s.nextExpiry) s.nextExpiry = at;
  }
  e.last = now;
  // The socket copies the payload; a full queue drops this datagram only.
  if (e.socket.process(core.cx, src, dst.addr, payload)) wakeSocket(e.socket);
  else s.counters.udpQueueFull++;
  return true;
}

function closeFlow(s: State, sockets: SocketSet, e: FlowEntry): void {
  const bucket = s.flows.get(e.hash);
  if (bucket === undefined) return;
  const i = bucket.indexOf(e);
  if (i < 0) return;
  bucket.splice(i, 1);
  if (bucket.length === 0) s.flows.delete(e.hash);
  s.udpCount--;
  e.socket.close();
  const h = sockets.handleOf(e.socket);
  if (h !== undefined) sockets.remove(h);
}

/** Closes a flow and drops it from the table and from the accept queue. */
function forget(s: State, sockets: SocketSet, e: FlowEntry): void {
  closeFlow(s, sockets, e);
  const p = s.pending.indexOf(e);
  if (p >= 0) s.pending.splice(p, 1);
}

/**
 * Closes UDP flows idle for `udpIdleTimeout` and forgets flows whose owner removed their socket.
 * Walks the flow table only when the earliest expiry is due.
 */
export function acceptAnyExpire(a: AcceptAny, sockets: SocketSet, now: Instant): void {
  const s = stateOf(a);
  if (now < s.nextExpiry) return;
  let next = NEVER;
  const gone: FlowEntry[] = [];
  for (const bucket of s.flows.values()) {
    for (const e of bucket) {
      if (!e.socket.isOpen || sockets.handleOf(e.socket) === undefined) {
        gone.push(e);
        continue;
      }
      const at = e.last + s.udpIdle;
      if (at <= now) {
        gone.push(e);
        s.counters.udpExpired++;
      } else if (at < next) next = at;
    }
  }
  for (const e of gone) forget(s, sockets, e);
  // Batched like TIME-WAIT records: flows refreshed just before their deadline cost one walk per
  // batch, not one per flow.
  const batch = s.udpIdle < EXPIRY_BATCH ? s.udpIdle : EXPIRY_BATCH;
  s.nextExpiry = next === NEVER ? NEVER : Math.ceil(next / batch) * batch;
}

/** When {@linkcode acceptAnyExpire} next has work. */
export function acceptAnyPollAt(a: AcceptAny): Instant {
  return stateOf(a).nextExpiry;
}
