/**
 * `NetStack`: a device and its Interface (or several, with `addInterface`), one SocketSet they
 * share and the loop that drives them, with `listen` / `connect` / `listenDatagram` shaped like
 * Deno's.
 *
 * @module
 */

import type { Interface } from "../iface/interface.ts";
import type { DropCounters } from "../iface/counters.ts";
import type { Device } from "../phy/device.ts";
import type { Instant } from "../time.ts";
import type { FastOpenCache } from "../socket/tcp/fast_open_cache.ts";
import { checkOptions } from "../_validate.ts";
import type {
  ConnectOptions,
  DatagramOptions,
  InterfaceOptions,
  ListenOptions,
  NetStackOptions,
} from "./options.ts";
export type { ConnectOptions, DatagramOptions, InterfaceOptions, ListenOptions, NetStackOptions };
import type { TcpListener } from "./tcp_listener.ts";
import { TcpStream } from "./tcp_stream.ts";
import { TcpTraceRecorder } from "../trace/recorder.ts";
import { UdpSocket } from "./udp_socket.ts";
import type { DnsCounters } from "./dns_cache.ts";
import type { PingOptions, PingResult } from "./ping.ts";
import type { Autoconf } from "./autoconf.ts";
import type {
  TransparentDatagramOptions,
  TransparentListenOptions,
  UdpFlowListener,
} from "./transparent.ts";
import { StackState } from "./_stack_state.ts";
import { connect, listen } from "./_stack_tcp.ts";
import { listenDatagram, ping } from "./_stack_datagram.ts";
import { closeStack, nextDeadline, pollOnce } from "./_stack_poll.ts";
import {
  acceptAnyCounters,
  addInterface,
  interfaceAutoconf,
  interfaceCounters,
  interfaceOf,
  removeInterface,
} from "./_stack_ifaces.ts";
import type { AcceptAnyCounters } from "../iface/accept_any.ts";

/**
 * A userspace TCP/IP stack on one device, or on several with `addInterface`. It owns the loop
 * that polls the core; all of its sockets share that loop.
 *
 * - `listen()` returns a {@linkcode TcpListener} (like `Deno.listen`);
 * - `connect()` resolves to a {@linkcode TcpStream} (like `Deno.connect`);
 * - `listenDatagram()` returns a {@linkcode UdpSocket} (like `Deno.listenDatagram`);
 * - `close()` (or `await using`) resets what is still open, stops the loop and releases the
 *   device.
 *
 * A device belongs to one stack at a time: a second `NetStack` on a device in use (directly or
 * through wrappers) throws `Deno.errors.Busy` (`EBUSY`) until the first one is closed.
 *
 * Options are checked when the stack is made and every method checks its arguments when called:
 * `TypeError` for a wrong type, `RangeError` for a number out of range, `Deno.errors.*` with a
 * `code` for network conditions. Nothing thrown while the loop polls escapes it: the stack
 * fails instead. Every pending operation then rejects, later calls throw the failure, and an
 * `error` event (an `ErrorEvent` whose `error` is a `Deno.errors.ConnectionAborted` with the
 * original error as `cause`) is dispatched on the stack.
 *
 * @example Two stacks in one process
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [left, right] = linkPair({ mtu: 1500 });
 * await using server = new NetStack({ device: left, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: right, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * const pending = listener.accept();
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
 * const peer = await pending;
 * assert.equal(conn.remoteAddr.port, 80);
 * assert.equal(peer.localAddr.port, 80);
 * assert.equal(peer.remoteAddr.port, conn.localAddr.port);
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export class NetStack extends EventTarget implements AsyncDisposable, Disposable {
  readonly #s: StackState;
  #onerror: ((event: ErrorEvent) => void) | null = null;

  /**
   * Creates the stack and starts listening to the device.
   *
   * @param options The device, addresses, gateways and socket options.
   * @throws {TypeError} When an address or gateway is malformed.
   */
  constructor(options: NetStackOptions) {
    super();
    this.#s = new StackState(this, options);
  }

  /**
   * The core Interface (addresses, routes, drop counters), for tests and code that imports the
   * layer entry points (`@smol/net/iface`).
   *
   * @internal
   */
  get iface(): Interface {
    return this.#s.iface;
  }

  /**
   * The drop counters of the stack's interface: one per reason a frame or packet was discarded
   * (live: updated in place).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * assert.equal(server.counters.totalDrops(), 0);
   * // Nothing listens on port 81: the SYN is answered with a reset and counted as noSocket.
   * await assert.rejects(client.connect({ hostname: "192.0.2.1", port: 81 }), Deno.errors.ConnectionRefused);
   * assert.equal(server.counters.noSocket, 1);
   * ```
   */
  get counters(): DropCounters {
    return this.#s.iface.counters;
  }

  /**
   * Called with the `error` event when the stack fails (see the class documentation); `null`
   * (the default) for none. `addEventListener("error", …)` works too.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import type { Device } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [inner] = linkPair();
   * const broken: Device = {
   *   capabilities: inner.capabilities,
   *   receive: () => { throw new Error("Device unplugged"); },
   *   canTransmit: () => true,
   *   transmit: (now, len) => inner.transmit(now, len),
   *   commit: () => inner.commit(),
   * };
   * await using stack = new NetStack({ device: broken, addresses: ["192.0.2.1/24"] });
   * const failed = Promise.withResolvers<unknown>();
   * stack.onerror = (e) => failed.resolve(e.error);
   * const error = await failed.promise as Error;
   * assert.ok(error instanceof Deno.errors.ConnectionAborted);
   * assert.equal(error.message, "Stack failed: Device unplugged");
   * assert.equal(stack.deviceError, error);
   * ```
   */
  get onerror(): ((event: ErrorEvent) => void) | null {
    return this.#onerror;
  }

  set onerror(handler: ((event: ErrorEvent) => void) | null) {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`Invalid onerror ${String(handler)}: expected a function or null`);
    }
    if (this.#onerror !== null) this.removeEventListener("error", this.#onerror as EventListener);
    this.#onerror = handler;
    if (handler !== null) this.addEventListener("error", handler as EventListener);
  }

  /**
   * The device the stack runs on.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair({ mtu: 9000 });
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * assert.equal(stack.device, device);
   * assert.equal(stack.device.capabilities.mtu, 9000);
   * ```
   */
  get device(): Device {
    return this.#s.device;
  }

  /**
   * The automatic configuration (DHCPv4) of a stack created with `addresses: "auto"`, else
   * `null`. It dispatches `"change"` events (address gained or lost, lease renewed, router or
   * DNS servers changed).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * import assert from "node:assert/strict";
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * assert.equal(stack.autoconf, null); // static addresses: no DHCP or SLAAC
   * ```
   */
  get autoconf(): Autoconf | null {
    return this.#s.autoconf;
  }

  /**
   * What the resolver behind `connect` counted: ignored responses (mismatched ids, malformed),
   * TCP retries of truncated answers, timeouts, cache hits and misses.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * import assert from "node:assert/strict";
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * assert.deepEqual(stack.dnsCounters, {
   *   mismatchedId: 0, malformed: 0, tcpRetries: 0, timeouts: 0, cacheHits: 0, cacheMisses: 0,
   * });
   * ```
   */
  get dnsCounters(): Readonly<DnsCounters> {
    return this.#s.dnsCounters;
  }

  /**
   * The stack's TCP Fast Open cookies (`ConnectOptions.fastOpen`), one per server, at most 1024
   * (the least recently used go first), with the pauses after lost SYN data: `info` counts them,
   * `entries()` lists the servers.
   *
   * @example
   * ```ts
   * import { FastOpenCache, linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using stack = new NetStack({ device: a, addresses: ["192.0.2.2/24"] });
   * assert.equal(stack.fastOpenCache.info.capacity, 1024);
   * assert.equal(stack.fastOpenCache.info.blackholes, 0);
   * // A cache of its own: 64 servers, no pause after suspected black holes.
   * const cache = new FastOpenCache(64, { blackholeTimeout: 0 });
   * await using other = new NetStack({ device: b, addresses: ["192.0.2.3/24"], fastOpenCache: cache });
   * assert.equal(other.fastOpenCache, cache);
   * ```
   */
  get fastOpenCache(): FastOpenCache {
    return this.#s.fastOpenCache;
  }

  /**
   * Resolves when the stack has its addresses: at once for fixed addresses, at the first DHCP
   * lease for `addresses: "auto"` (rejects with `Deno.errors.BadResource` if the stack is
   * closed first; no time limit of its own, race it with a timer when one is wanted).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * import assert from "node:assert/strict";
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * await stack.configured; // static addresses: resolves at once
   * assert.equal(stack.iface.routes.ipv4()?.toString(), "192.0.2.2");
   * ```
   */
  get configured(): Promise<void> {
    return this.#s.autoconf?.configured ?? Promise.resolve();
  }

  /** How many times the loop has polled the core (for tests and statistics). */
  get polls(): number {
    return this.#s.driver.polls;
  }

  /**
   * How many times the loop has asked a waiting caller (a pending read, write, accept or
   * connect) to settle after a poll (for tests and statistics): a poll asks only the callers of
   * sockets that changed, so idle connections cost nothing.
   */
  get settles(): number {
    return this.#s.driver.settles;
  }

  /**
   * Adds a further interface with its own device, addresses, gateways, routes and MTU; the
   * stack's sockets are shared by all of its interfaces, and its loop waits on all devices.
   *
   * - `connect` leaves on the interface the route table picks for the destination (longest
   *   prefix over every interface's subnets, gateways and routes, then the lowest `metric`),
   *   from that interface's address chosen by RFC 6724 source selection, and announces an MSS
   *   for that interface's MTU; the connection stays on that interface.
   * - A listener or UDP socket on the unspecified address takes traffic on every interface; one
   *   bound to an address takes only what comes to that address on its own interface (strong
   *   host model, RFC 1122 §3.3.4.2: no interface answers for another's addresses).
   * - Each interface has its own neighbor cache and counters (`interfaceCounters`).
   * - With `acceptAny`, the stack's transparent listeners take flows to any address entering
   *   this interface too; its replies leave on it, with its own flow bound and counters
   *   (`acceptAnyCounters`). `counters` stays the first interface's.
   * - With `addresses: "auto"` it runs DHCPv4 (and SLAAC on Ethernet) of its own
   *   (`interfaceAutoconf`): its lease's address and routes go on this interface, with its
   *   `metric`, and leave it alone at expiry; removing the interface stops its clients.
   *
   * @param options The device (not in use by any stack), addresses, gateways, routes, metric
   * and MTU.
   * @returns The interface's index (the first interface, made by the constructor, is 0).
   * @throws {TypeError} A malformed option, or a device an interface of this stack uses.
   * @throws {RangeError} A metric or MTU out of range.
   * @throws {Deno.errors.Busy} When another stack uses the device.
   *
   * @example Two subnets, one on each interface
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a0, a1] = linkPair(), [b0, b1] = linkPair();
   * await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
   * assert.equal(host.addInterface({ device: b0, addresses: ["198.51.100.1/24"] }), 1);
   * await using peerA = new NetStack({ device: a1, addresses: ["192.0.2.2/24"] });
   * await using peerB = new NetStack({ device: b1, addresses: ["198.51.100.2/24"] });
   * using listenerA = peerA.listen({ port: 80 });
   * using listenerB = peerB.listen({ port: 80 });
   * using toA = await host.connect({ hostname: "192.0.2.2", port: 80 });
   * using toB = await host.connect({ hostname: "198.51.100.2", port: 80 });
   * assert.equal(toA.localAddr.hostname, "192.0.2.1"); // each from its interface's address
   * assert.equal(toB.localAddr.hostname, "198.51.100.1");
   * (await listenerA.accept()).close();
   * (await listenerB.accept()).close();
   * assert.ok(host.interfaceCounters(1).txFrames > 0);
   * ```
   */
  addInterface(options: InterfaceOptions): number {
    return addInterface(this.#s, this, options);
  }

  /**
   * Removes an interface `addInterface` added. Listeners and UDP sockets bound to one of its
   * addresses fail their pending calls with `Deno.errors.ConnectionAborted` ("Interface N was
   * removed from the stack") and are closed; connections from its addresses, and connections
   * and UDP flows tied to it (accepted there in accept-any mode, or opened with its zone), are
   * reset and fail with the same error. Its DHCP client and SLAAC stop (their `configured`
   * rejects with `BadResource`). Its prefixes, gateways and routes leave the route table, the loop stops
   * polling and waiting on its device, and the device is released (closed if it can be, as
   * `close` does), so another stack can take it. Later interfaces' indices go down by one.
   * Sockets bound to wildcards stay open on the other interfaces.
   *
   * @param index The interface's index, 1 or more (the first one goes with the stack).
   * @returns When the device is closed.
   * @throws {RangeError} For index 0 or an index that is no interface's.
   * @throws {Deno.errors.BadResource} When the stack is closed.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a] = linkPair(), [b] = linkPair();
   * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * stack.addInterface({ device: b, addresses: ["198.51.100.1/24"] });
   * const udp = stack.listenDatagram({ hostname: "198.51.100.1", port: 53, transport: "udp" });
   * const pending = udp.receive();
   * await stack.removeInterface(1);
   * await assert.rejects(pending, Deno.errors.ConnectionAborted);
   * await assert.rejects(stack.connect({ hostname: "198.51.100.9", port: 80 }), Deno.errors.NetworkUnreachable);
   * assert.throws(() => stack.interfaceCounters(1), RangeError);
   * await assert.rejects(stack.removeInterface(0), RangeError);
   * await using again = new NetStack({ device: b, addresses: ["198.51.100.1/24"] }); // b is free
   * ```
   */
  removeInterface(index: number): Promise<void> {
    return removeInterface(this.#s, this, index);
  }

  /**
   * The drop and frame counters of one interface (0 is the first; `counters` is the same as
   * `interfaceCounters(0)`).
   *
   * @param index The interface's index, as `addInterface` returned it.
   * @returns Its counters (live: updated in place).
   * @throws {RangeError} For an index the stack has no interface for.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a] = linkPair(), [b] = linkPair();
   * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * stack.addInterface({ device: b, addresses: ["198.51.100.1/24"] });
   * assert.equal(stack.interfaceCounters(0), stack.counters);
   * assert.notEqual(stack.interfaceCounters(1), stack.counters);
   * assert.throws(() => stack.interfaceCounters(2), RangeError);
   * ```
   */
  interfaceCounters(index: number): DropCounters {
    return interfaceCounters(this.#s, index);
  }

  /**
   * The automatic configuration (DHCPv4, SLAAC) of one interface made with `addresses: "auto"`,
   * else `null`; `interfaceAutoconf(0)` is `autoconf`.
   *
   * @param index The interface's index (0 is the first).
   * @returns Its autoconfiguration (state, lease, events), or `null`.
   * @throws {RangeError} For an index the stack has no interface for.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a] = linkPair(), [b] = linkPair({ medium: "ethernet" });
   * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * assert.equal(stack.addInterface({ device: b, addresses: "auto" }), 1);
   * assert.equal(stack.interfaceAutoconf(0), null); // static addresses
   * assert.equal(stack.interfaceAutoconf(1)?.state, "init"); // its DHCP client has started
   * assert.throws(() => stack.interfaceAutoconf(2), RangeError);
   * ```
   */
  interfaceAutoconf(index: number): Autoconf | null {
    return interfaceAutoconf(this.#s, index);
  }

  /**
   * The accept-any counters of one interface (flows opened, dropped at its `maxFlows`, martians,
   * expired UDP flows), each interface with accept-any keeping its own.
   *
   * @param index The interface's index (0 is the first).
   * @returns Its counters (live), or `null` when the interface is not in accept-any mode.
   * @throws {RangeError} For an index the stack has no interface for.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a] = linkPair(), [b] = linkPair();
   * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * stack.addInterface({ device: b, addresses: ["198.51.100.1/24"], acceptAny: { maxFlows: 8 } });
   * assert.equal(stack.acceptAnyCounters(0), null); // the first interface terminates nothing
   * assert.equal(stack.acceptAnyCounters(1)?.flowsOpened, 0);
   * assert.throws(() => stack.acceptAnyCounters(2), RangeError);
   * ```
   */
  acceptAnyCounters(index: number): Readonly<AcceptAnyCounters> | null {
    return acceptAnyCounters(this.#s, index);
  }

  /**
   * The interface a connection or UDP socket of this stack sends through: the one a connection
   * was accepted on (a transparent listener's too), the one its zone or route picked, or the one
   * its bound address is on.
   *
   * @param conn A connection or UDP socket of this stack (an accepted UDP flow too).
   * @returns The interface's index; 0 on a stack with one interface; -1 for a socket bound to
   * the wildcard on a stack with several (it sends by route, from any of them).
   * @throws {TypeError} When `conn` is no `TcpStream` or `UdpSocket`.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a0, a1] = linkPair(), [b0, b1] = linkPair();
   * await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
   * host.addInterface({ device: b0, addresses: ["198.51.100.1/24"] });
   * await using peer = new NetStack({ device: b1, addresses: ["198.51.100.2/24"] });
   * using listener = host.listen({ port: 80 }); // every interface
   * using conn = await peer.connect({ hostname: "198.51.100.1", port: 80 });
   * using accepted = await listener.accept();
   * assert.equal(host.interfaceOf(accepted), 1); // its SYN came in on the second interface
   * const udp = host.listenDatagram({ port: 53 });
   * assert.equal(host.interfaceOf(udp), -1); // the wildcard: either interface
   * udp.close();
   * assert.equal(peer.interfaceOf(conn), 0);
   * void a1;
   * ```
   */
  interfaceOf(conn: TcpStream | UdpSocket): number {
    if (conn instanceof TcpStream) return interfaceOf(this.#s, conn.socket);
    if (conn instanceof UdpSocket) return interfaceOf(this.#s, conn.key);
    throw new TypeError("Invalid conn: expected a TcpStream or UdpSocket of this stack");
  }

  /**
   * Listens for TCP connections, like `Deno.listen`.
   *
   * @param options Port (0 picks a free one), hostname and backlog.
   * @returns The listener.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   * @throws {Deno.errors.AddrNotAvailable} When the hostname is not an address of the stack.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * const listener = stack.listen({ port: 8080 });
   * assert.equal(listener.addr.port, 8080);
   * assert.throws(() => stack.listen({ port: 8080 }), Deno.errors.AddrInUse);
   * assert.throws(() => stack.listen({ port: 8081, hostname: "192.0.2.3" }), Deno.errors.AddrNotAvailable);
   * listener.close();
   * ```
   */
  listen(options: ListenOptions | TransparentListenOptions): TcpListener {
    return listen(this.#s, options);
  }

  /**
   * Opens a TCP connection, like `Deno.connect`.
   *
   * @param options Hostname (an IP literal, or a name with `dnsServers`), port, optional signal
   * and local port.
   * @returns The established connection.
   * @throws {TypeError} A wrong type or a malformed or non-unicast hostname (as a rejection).
   * @throws {RangeError} A port out of 1–65535 (as a rejection).
   * @throws {Deno.errors.ConnectionRefused} When the peer answers with a reset.
   * @throws {Deno.errors.TimedOut} When the handshake times out.
   * @throws {Deno.errors.NetworkUnreachable} Without a route to the peer.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using stack = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 80 });
   * const conn = await stack.connect({ hostname: "192.0.2.1", port: 80 });
   * assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "192.0.2.1", port: 80 });
   * await assert.rejects(stack.connect({ hostname: "198.51.100.1", port: 80 }), Deno.errors.NetworkUnreachable);
   * await assert.rejects(stack.connect({ hostname: "192.0.2.1", port: 0 }), RangeError);
   * (await listener.accept()).close();
   * conn.close();
   * listener.close();
   * ```
   */
  connect(options: ConnectOptions): Promise<TcpStream> {
    return connect(this.#s, this, options);
  }

  /**
   * Opens a UDP socket, like `Deno.listenDatagram({ transport: "udp" })`.
   *
   * @param options Port (0 picks a free one) and hostname.
   * @returns The socket.
   * @throws {TypeError} A wrong type, a malformed hostname or a transport other than `"udp"`.
   * @throws {RangeError} A port out of 0–65535.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * const udp = stack.listenDatagram({ port: 5353 });
   * assert.equal(udp.addr.port, 5353);
   * assert.throws(() => stack.listenDatagram({ port: 5353 }), Deno.errors.AddrInUse);
   * assert.throws(() => stack.listenDatagram({ port: 70000 }), RangeError);
   * udp.close();
   * ```
   */
  listenDatagram(options: DatagramOptions): UdpSocket;
  /**
   * Takes every UDP flow that enters the device and that no bound socket takes, one
   * `UdpSocket` per client 4-tuple (needs the stack option `acceptAny`).
   *
   * @param options `{ transparent: true }`.
   * @returns The listener of flows.
   * @throws {TypeError} When the stack was made without `acceptAny`.
   * @throws {Deno.errors.AddrInUse} When a transparent datagram listener is already open.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using plain = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * assert.throws(() => plain.listenDatagram({ transparent: true }), TypeError); // no acceptAny
   * const [other] = linkPair();
   * await using stack = new NetStack({ device: other, addresses: ["192.0.2.2/24"], acceptAny: true });
   * const flows = stack.listenDatagram({ transparent: true });
   * assert.throws(() => stack.listenDatagram({ transparent: true }), Deno.errors.AddrInUse);
   * flows.close();
   * ```
   */
  listenDatagram(options: TransparentDatagramOptions): UdpFlowListener;
  listenDatagram(
    options: DatagramOptions | TransparentDatagramOptions,
  ): UdpSocket | UdpFlowListener {
    return listenDatagram(this.#s, options);
  }

  /**
   * Sends one ICMP echo request (ICMPv4 or ICMPv6 by the address) and resolves with the reply's
   * round-trip time. A link-local destination takes a zone (`"fe80::2%1"`: through interface 1),
   * and needs one on a stack with several interfaces (else a `TypeError` with code `EINVAL`).
   *
   * @param options The destination, echo size, timeout and signal.
   * @returns The reply.
   * @throws {TypeError} A wrong type or a malformed hostname (as a rejection).
   * @throws {RangeError} A size out of 0–65000 or a timeout that is not > 0 (as a rejection).
   * @throws {Deno.errors.TimedOut} When no reply comes within the timeout.
   * @throws {Deno.errors.NetworkUnreachable} Without a route, or when an ICMP error answers.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   *
   * const [a, b] = linkPair();
   * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * import assert from "node:assert/strict";
   * const reply = await s2.ping({ hostname: "192.0.2.1" });
   * assert.equal(reply.from, "192.0.2.1");
   * assert.equal(reply.bytes, 56);
   * await assert.rejects(s2.ping({ hostname: "198.51.100.1" }), Deno.errors.NetworkUnreachable);
   * ```
   */
  ping(options: PingOptions): Promise<PingResult> {
    return ping(this.#s, options);
  }

  /**
   * Resets every open connection, closes listeners and UDP sockets, stops the loop, closes the
   * device if it can be closed and lets another stack use it.
   *
   * @returns Resolves when the loop has stopped.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * const stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * const listener = stack.listen({ port: 80 });
   * await stack.close();
   * await assert.rejects(listener.accept(), Deno.errors.BadResource);
   * await using again = new NetStack({ device, addresses: ["192.0.2.2/24"] }); // the device is free
   * assert.equal(again.device, device);
   * ```
   */
  close(): Promise<void> {
    return closeStack(this.#s, this);
  }

  /** Same as {@linkcode NetStack.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Starts {@linkcode NetStack.close} without waiting for it. */
  [Symbol.dispose](): void {
    void this.close();
  }

  /**
   * One poll of the core. An error thrown by the device, the interface or a socket fails the
   * stack instead of escaping the loop.
   *
   * @internal
   */
  pollOnce(now: Instant): boolean {
    return pollOnce(this.#s, now);
  }

  /** @internal The next deadline of the core and the device. */
  nextDeadline(now: Instant): Instant {
    return nextDeadline(this.#s, now);
  }

  /** @internal Whether released sockets still have data or a FIN to deliver. */
  lingering(): boolean {
    return this.#s.sockets.lingering();
  }

  /**
   * Starts recording what TCP does on `conn`: every segment it sends or takes in (with why it
   * was sent: new data, fast retransmit, RTO, TLP, probe, ACK), state changes, congestion
   * samples (cwnd, ssthresh, RTT, RTO, bytes in flight), timers armed, cancelled and
   * fired, and the application's reads and writes, into a bounded ring. Tracing costs nothing
   * until it is started; `recorder.detach()` stops it. `recorder.connection()` gives the trace
   * for `traceReportHtml`, the SVG pictures and `traceToJsonLines` of `@smol/net/trace`.
   *
   * @param conn A connection of this stack.
   * @param options The ring's capacity (default 65,536 events).
   * @returns The recorder, attached; endpoint `a` is `conn`'s local address.
   * @throws {TypeError} When `conn` is not a `TcpStream`.
   *
   * @example
   * ```ts
   * import { NetStack } from "@smol/net/net";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   *
   * const [d1, d2] = linkPair();
   * await using server = new NetStack({ device: d1, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: d2, addresses: ["192.0.2.2/24"] });
   * using listener = server.listen({ port: 80 });
   * const accepted = listener.accept();
   * using conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
   * using peer = await accepted;
   * const rec = client.trace(conn, { capacity: 1024 });
   * await conn.write(new Uint8Array(100));
   * await peer.read(new Uint8Array(100));
   * const trace = rec.connection();
   * assert.ok(trace.events.some((e) => e.kind === "app" && e.op === "write" && e.bytes === 100));
   * assert.equal(trace.b, "192.0.2.1:80");
   * rec.detach();
   * ```
   */
  trace(conn: TcpStream, options: { capacity?: number } = {}): TcpTraceRecorder {
    if (!(conn instanceof TcpStream)) {
      throw new TypeError("Invalid conn: expected a TcpStream of this stack");
    }
    const name = (a: Deno.NetAddr) =>
      a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
    checkOptions("options", options);
    const rec = new TcpTraceRecorder({
      capacity: options.capacity ?? 65_536,
      a: name(conn.localAddr),
      b: name(conn.remoteAddr),
    });
    rec.attach(conn.socket);
    return rec;
  }

  /**
   * Why the stack failed (its device failed, for example its interface was deleted, or an
   * error was thrown while polling); `null` while it works.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import type { Device } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [inner] = linkPair();
   * let fail = false;
   * const flaky: Device = {
   *   capabilities: inner.capabilities,
   *   receive: (now) => { if (fail) throw new Error("Interface deleted"); return inner.receive(now); },
   *   canTransmit: (now) => inner.canTransmit(now),
   *   transmit: (now, len) => inner.transmit(now, len),
   *   commit: () => inner.commit(),
   * };
   * await using stack = new NetStack({ device: flaky, addresses: ["192.0.2.1/24"] });
   * const before = stack.deviceError;
   * const failed = new Promise((resolve) => stack.addEventListener("error", resolve, { once: true }));
   * fail = true;
   * stack.listenDatagram({ port: 9 }).close(); // any call wakes the loop
   * await failed;
   * assert.equal(before, null);
   * assert.equal(stack.deviceError?.message, "Stack failed: Interface deleted");
   * assert.throws(() => stack.listen({ port: 80 }), Deno.errors.ConnectionAborted); // later calls fail
   * ```
   */
  get deviceError(): Error | null {
    return this.#s.deviceError;
  }
}
