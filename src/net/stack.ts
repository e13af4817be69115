/**
 * `NetStack`: one device, one Interface, one SocketSet and the loop that drives them, with
 * `listen` / `connect` / `listenDatagram` shaped like Deno's.
 *
 * @module
 */

import { Interface, type InterfaceConfig } from "../iface/interface.ts";
import { NetError } from "../iface/errors.ts";
import { SocketSet } from "../iface/socket_set.ts";
import {
  closeDevice,
  type Device,
  deviceClosed,
  deviceDeadline,
  hasReadinessHook,
} from "../phy/device.ts";
import { TcpListenSocket } from "../socket/tcp/listener.ts";
import { TcpSocket } from "../socket/tcp/socket.ts";
import type { TcpSocketOptions } from "../socket/tcp/config.ts";
import { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { IcmpSocket } from "../socket/icmp.ts";
import { earliest, type Instant, monotonicNow } from "../time.ts";
import {
  EthernetAddress,
  formatEndpoint,
  type IpAddress,
  IpCidr,
  type IpEndpoint,
  Ipv4Address,
  parseIpAddress,
} from "../wire/address.ts";
import { Driver, type PollTarget, type Watcher } from "./driver.ts";
import { abortError, badResource, netError } from "./errors.ts";
import { type ListenerHost, TcpListener } from "./tcp_listener.ts";
import { TcpStream } from "./tcp_stream.ts";
import { UdpSocket } from "./udp_socket.ts";
import { resolveForConnect } from "./dns.ts";
import { Pinger, type PingOptions, type PingResult } from "./ping.ts";
import { Autoconf, type AutoconfOptions } from "./autoconf.ts";

/**
 * Options of a {@linkcode NetStack}.
 *
 * @example
 * ```ts
 * import { linkPair, type NetStackOptions } from "@smol/net";
 * const [device] = linkPair();
 * const options: NetStackOptions = {
 *   device,
 *   addresses: ["192.0.2.2/24", "2001:db8::2/64"],
 *   gateways: ["192.0.2.1"],
 * };
 * ```
 */
export interface NetStackOptions {
  /** The device the stack sends and receives on. */
  readonly device: Device;
  /**
   * The stack's addresses in CIDR form (`192.0.2.2/24`, `2001:db8::2/64`), or `"auto"` to
   * configure IPv4 by DHCP (see {@linkcode NetStack.autoconf}).
   */
  readonly addresses: readonly (string | IpCidr)[] | "auto";
  /** Options of automatic configuration when `addresses` is `"auto"`. */
  readonly autoconf?: AutoconfOptions;
  /** Default gateways, at most one per IP version. */
  readonly gateways?: readonly (string | IpAddress)[];
  /** The hardware address on an Ethernet medium (default: a random locally administered one). */
  readonly hardwareAddress?: string | EthernetAddress;
  /** Options for every TCP socket (buffer sizes, congestion control, timers). */
  readonly tcp?: TcpSocketOptions;
  /** The default listen backlog (accept queue), like Deno's `tcpBacklog` (default 511). */
  readonly backlog?: number;
  /** The most sockets (connections, listeners, UDP) the stack holds (default 65,536). */
  readonly maxSockets?: number;
  /** Seed for the stack's random generator (default: random). Secrets always come from crypto. */
  readonly seed?: number;
  /** Further Interface settings (hop limit, ICMP echo replies, cache sizes). */
  readonly iface?: Partial<InterfaceConfig>;
  /**
   * Recursive DNS servers for host names in `connect` (tried in order, 2 s per try, 2 rounds).
   * Without them `connect` takes IP literals only.
   */
  readonly dnsServers?: readonly (string | IpAddress)[];
}

/**
 * Options of {@linkcode NetStack.listen}, like `Deno.listen`'s.
 *
 * @example
 * ```ts
 * import type { ListenOptions } from "@smol/net";
 * const options: ListenOptions = { port: 8080, hostname: "0.0.0.0", backlog: 128 };
 * ```
 */
export interface ListenOptions {
  /** The port; 0 picks a free one. */
  readonly port: number;
  /**
   * The local address. The default `0.0.0.0` takes every IPv4 address of the stack, as with
   * `Deno.listen`; `::` takes every IPv6 address; listen twice to serve both.
   */
  readonly hostname?: string;
  /** Accept queue length (default: the stack's `backlog`). */
  readonly backlog?: number;
}

/**
 * Options of {@linkcode NetStack.connect}, like `Deno.connect`'s.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@smol/net";
 * const options: ConnectOptions = { hostname: "192.0.2.1", port: 80, signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface ConnectOptions {
  /** The peer: an IPv4 or IPv6 literal, or a host name when the stack has `dnsServers`. */
  readonly hostname: string;
  /** The peer's port, 1–65535. */
  readonly port: number;
  /** Aborts the handshake and rejects with the signal's reason (an `AbortError`). */
  readonly signal?: AbortSignal;
  /** A fixed local port (default: a random ephemeral port, RFC 6056). */
  readonly localPort?: number;
}

/**
 * Options of {@linkcode NetStack.listenDatagram}.
 *
 * @example
 * ```ts
 * import type { DatagramOptions } from "@smol/net";
 * const options: DatagramOptions = { port: 5353 };
 * ```
 */
export interface DatagramOptions {
  /** The local port; 0 picks a free one. */
  readonly port: number;
  /** The local address (default: every address of the stack). */
  readonly hostname?: string;
}

function checkPort(port: unknown, allowZero: boolean): number {
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) ||
    port > 65535
  ) {
    throw new RangeError(
      `Invalid port "${String(port)}": must be an integer from ${allowZero ? 0 : 1} to 65535`,
    );
  }
  return port;
}

function isIpLiteral(hostname: string): boolean {
  try {
    parseIpAddress(hostname);
    return true;
  } catch {
    return false;
  }
}

function parseHost(hostname: string | undefined, fallback: IpAddress): IpAddress {
  if (hostname === undefined || hostname === "") return fallback;
  if (hostname === "localhost") {
    throw new TypeError(
      `Invalid hostname "localhost": smolnet has no loopback; use an address of the stack`,
    );
  }
  try {
    return parseIpAddress(hostname);
  } catch {
    throw new TypeError(`Invalid hostname "${hostname}": expected an IPv4 or IPv6 address`);
  }
}

/** Maps a core NetError to the Deno error of deno_api.md's table. */
function mapNetError(e: unknown, what: string): unknown {
  if (!(e instanceof NetError)) return e;
  switch (e.code) {
    case "EADDRINUSE":
      return netError("AddrInUse", `${what}: address in use`);
    case "EADDRNOTAVAIL":
      return netError("AddrNotAvailable", `${what}: address not available`);
    case "ENETUNREACH":
      return netError("NetworkUnreachable", `${what}: network is unreachable`);
    case "ENOBUFS": {
      const busy = new Deno.errors.Busy(`${what}: ${e.message}`);
      Object.defineProperty(busy, "code", { value: "ENOBUFS", configurable: true, writable: true });
      return busy;
    }
    default:
      return new TypeError(`${what}: ${e.message}`);
  }
}

/** Waits for a connecting socket to be established or to fail. */
class ConnectWaiter implements Watcher {
  readonly refed = true;
  constructor(
    readonly socket: TcpSocket,
    readonly target: string,
    readonly resolve: () => void,
    readonly reject: (e: unknown) => void,
  ) {}
  fail(error: Error): void {
    this.reject(error);
  }
  settle(): boolean {
    const s = this.socket;
    if (s.state === "established" || s.state === "closeWait") {
      this.resolve();
      return false;
    }
    if (s.state === "closed") {
      const kind = s.error === "timedOut"
        ? "TimedOut"
        : s.error === "unreachable"
        ? "NetworkUnreachable"
        : "ConnectionRefused";
      const why = kind === "TimedOut"
        ? "connection timed out"
        : kind === "NetworkUnreachable"
        ? "network is unreachable"
        : "connection refused";
      this.reject(netError(kind, `Cannot connect to ${this.target}: ${why}`));
      return false;
    }
    return true;
  }
}

/**
 * A userspace TCP/IP stack on one device. It owns the loop that polls the core; all of its
 * sockets share that loop.
 *
 * - `listen()` returns a {@linkcode TcpListener} (like `Deno.listen`);
 * - `connect()` resolves to a {@linkcode TcpStream} (like `Deno.connect`);
 * - `listenDatagram()` returns a {@linkcode UdpSocket} (like `Deno.listenDatagram`);
 * - `close()` (or `await using`) resets what is still open, stops the loop and releases the
 *   device.
 *
 * @example Two stacks in one process
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [left, right] = linkPair({ mtu: 1500 });
 * await using server = new NetStack({ device: left, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: right, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * const pending = listener.accept();
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
 * const peer = await pending;
 * console.log(conn.remoteAddr.port, peer.localAddr.port); // 80 80
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export class NetStack implements PollTarget, AsyncDisposable, Disposable {
  readonly #device: Device;
  readonly #iface: Interface;
  readonly #sockets: SocketSet;
  readonly #driver: Driver;
  readonly #host: ListenerHost;
  readonly #tcpOptions: TcpSocketOptions;
  readonly #backlog: number;
  readonly #released = new Set<TcpSocket>();
  readonly #listeners = new Set<TcpListener>();
  readonly #udp = new Set<UdpSocket>();
  #pinger: Pinger | null = null;
  #closed = false;
  #deviceError: Error | null = null;
  readonly #dnsServers: readonly IpAddress[];
  readonly #families: readonly (4 | 6)[];
  readonly #autoconf: Autoconf | null = null;

  /**
   * Creates the stack and starts listening to the device.
   *
   * @param options The device, addresses, gateways and socket options.
   * @throws {TypeError} When an address or gateway is malformed.
   */
  constructor(options: NetStackOptions) {
    this.#device = options.device;
    const medium = options.device.capabilities.medium;
    let hw = typeof options.hardwareAddress === "string"
      ? EthernetAddress.parse(options.hardwareAddress)
      : options.hardwareAddress;
    if (hw === undefined && medium === "ethernet") hw = randomMac();
    const gateways = (options.gateways ?? []).map((g) =>
      typeof g === "string" ? parseIpAddress(g) : g
    );
    const gateway4 = gateways.find((g) => g.version === 4);
    const gateway6 = gateways.find((g) => g.version === 6);
    const config: InterfaceConfig = {
      ...options.iface,
      medium,
      addresses: options.addresses === "auto" ? [] : options.addresses,
      ...(hw !== undefined ? { hardwareAddr: hw } : {}),
      ...(gateway4 !== undefined ? { gateway4 } : {}),
      ...(gateway6 !== undefined ? { gateway6 } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
    this.#iface = new Interface(config);
    this.#sockets = new SocketSet(
      options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {},
    );
    this.#tcpOptions = options.tcp ?? {};
    this.#backlog = options.backlog ?? 511;
    this.#dnsServers = (options.dnsServers ?? []).map((s) => {
      if (typeof s !== "string") return s;
      try {
        return parseIpAddress(s);
      } catch {
        throw new TypeError(`Invalid DNS server "${s}": expected an IP address`);
      }
    });
    this.#families = options.addresses === "auto" ? [4] : [
      ...new Set(
        options.addresses.map((a) => (typeof a === "string" ? IpCidr.parse(a) : a).address.version),
      ),
    ].sort();
    this.#driver = new Driver(this);
    const driver = this.#driver;
    this.#host = {
      wake: driver.wake,
      watch: (w) => driver.watch(w),
      unwatch: (w) => driver.unwatch(w),
      refChanged: () => driver.refChanged(),
      release: (s) => {
        this.#released.add(s);
      },
      deviceError: () => this.#deviceError,
      accept: (l) => this.#iface.acceptTcp(this.#sockets, l),
      unlisten: (l) => {
        const h = this.#sockets.handleOf(l);
        if (h !== undefined) this.#sockets.remove(h);
        for (const x of this.#listeners) if (x.socket === l) this.#listeners.delete(x);
      },
    };
    if (options.addresses === "auto") {
      this.#autoconf = new Autoconf({
        iface: this.#iface,
        sockets: this.#sockets,
        watch: (w) => driver.watch(w),
        unwatch: (w) => driver.unwatch(w),
      }, options.autoconf);
    }
    if (hasReadinessHook(this.#device)) this.#device.onReadable(this.#driver.wake);
    deviceClosed(this.#device)?.catch((e) => this.#deviceFailed(e));
    this.#driver.wake();
  }

  /**
   * The core Interface (addresses, routes, drop counters).
   *
   * @example
   * ```ts ignore
   * console.log(stack.iface.counters);
   * ```
   */
  get iface(): Interface {
    return this.#iface;
  }

  /**
   * The device the stack runs on.
   *
   * @example
   * ```ts ignore
   * console.log(stack.device.capabilities.mtu);
   * ```
   */
  get device(): Device {
    return this.#device;
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
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * console.log(stack.autoconf); // null
   * ```
   */
  get autoconf(): Autoconf | null {
    return this.#autoconf;
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
   * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
   * await stack.configured;
   * ```
   */
  get configured(): Promise<void> {
    return this.#autoconf?.configured ?? Promise.resolve();
  }

  /** How many times the loop has polled the core (for tests and statistics). */
  get polls(): number {
    return this.#driver.polls;
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
   * ```ts ignore
   * const listener = stack.listen({ port: 8080 });
   * ```
   */
  listen(options: ListenOptions): TcpListener {
    this.#checkOpen();
    const port = checkPort(options.port, true);
    const addr = parseHost(options.hostname, Ipv4Address.UNSPECIFIED);
    const backlog = options.backlog ?? this.#backlog;
    if (!Number.isInteger(backlog) || backlog < 1) {
      throw new RangeError(`Invalid backlog "${backlog}": must be a positive integer`);
    }
    let core: TcpListenSocket;
    try {
      const local = {
        addr,
        port: port === 0 ? this.#sockets.allocatePort("tcp", this.#iface.random) : port,
      };
      core = new TcpListenSocket(local, { backlog, socket: this.#tcpOptions });
      this.#iface.listenTcp(this.#sockets, core);
    } catch (e) {
      throw mapNetError(e, `Cannot listen on ${formatEndpoint({ addr, port })}`);
    }
    const listener = new TcpListener(this.#host, core);
    this.#listeners.add(listener);
    this.#driver.wake();
    return listener;
  }

  /**
   * Opens a TCP connection, like `Deno.connect`.
   *
   * @param options Hostname (an IP literal), port, optional signal and local port.
   * @returns The established connection.
   *
   * @example
   * ```ts ignore
   * const conn = await stack.connect({ hostname: "192.0.2.1", port: 80 });
   * ```
   */
  async connect(options: ConnectOptions): Promise<TcpStream> {
    this.#checkOpen();
    const port = checkPort(options.port, false);
    if (options.hostname === undefined) {
      throw new TypeError("Invalid hostname: a hostname is required");
    }
    const name = options.hostname;
    const servers = [...this.#dnsServers, ...(this.#autoconf?.dnsServers ?? [])];
    if (servers.length === 0 || name === "localhost" || isIpLiteral(name)) {
      return this.#connectTo(parseHost(name, Ipv4Address.UNSPECIFIED), port, options);
    }
    // Like Deno.connect (tokio): every resolved address in turn, the last error if all fail.
    const addrs = await resolveForConnect(this, name, {
      servers,
      families: this.#families,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    let last: unknown;
    for (const addr of addrs) {
      try {
        return await this.#connectTo(addr, port, options);
      } catch (e) {
        if (options.signal?.aborted || e instanceof TypeError) throw e;
        last = e;
      }
    }
    throw last;
  }

  async #connectTo(addr: IpAddress, port: number, options: ConnectOptions): Promise<TcpStream> {
    this.#checkOpen();
    if (addr.isUnspecified || addr.isMulticast || (addr.version === 4 && addr.isBroadcast)) {
      throw new TypeError(`Invalid hostname "${options.hostname}": not a unicast address`);
    }
    const remote: IpEndpoint = { addr, port };
    const target = formatEndpoint(remote);
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    const socket = new TcpSocket(this.#tcpOptions);
    try {
      this.#iface.connectTcp(
        this.#sockets,
        socket,
        remote,
        options.localPort !== undefined ? { localPort: checkPort(options.localPort, false) } : {},
        monotonicNow(),
      );
    } catch (e) {
      throw mapNetError(e, `Cannot connect to ${target}`);
    }
    let waiter: ConnectWaiter | null = null;
    const onAbort = () => {
      socket.abort();
      this.#driver.wake();
      if (waiter !== null) {
        this.#driver.unwatch(waiter);
        waiter.reject(abortError(signal!));
      }
    };
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = new ConnectWaiter(socket, target, resolve, reject);
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#driver.watch(waiter);
        this.#driver.wake();
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return new TcpStream(this.#host, socket);
  }

  /**
   * Opens a UDP socket, like `Deno.listenDatagram({ transport: "udp" })`.
   *
   * @param options Port (0 picks a free one) and hostname.
   * @returns The socket.
   *
   * @example
   * ```ts ignore
   * const udp = stack.listenDatagram({ port: 5353 });
   * ```
   */
  listenDatagram(options: DatagramOptions): UdpSocket {
    this.#checkOpen();
    const port = checkPort(options.port, true);
    const addr = parseHost(options.hostname, Ipv4Address.UNSPECIFIED);
    const core = new CoreUdpSocket();
    try {
      this.#iface.bindUdp(this.#sockets, core, { addr, port });
    } catch (e) {
      throw mapNetError(e, `Cannot bind to ${formatEndpoint({ addr, port })}`);
    }
    const udp = new UdpSocket({
      wake: this.#driver.wake,
      watch: (w) => this.#driver.watch(w),
      unwatch: (w) => this.#driver.unwatch(w),
      refChanged: () => this.#driver.refChanged(),
      release: (s) => {
        const h = this.#sockets.handleOf(s);
        if (h !== undefined) this.#sockets.remove(h);
        this.#udp.delete(udp);
      },
    }, core);
    this.#udp.add(udp);
    return udp;
  }

  /**
   * Sends one ICMP echo request (ICMPv4 or ICMPv6 by the address) and resolves with the reply's
   * round-trip time.
   *
   * @param options The destination, echo size, timeout and signal.
   * @returns The reply.
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
   * const reply = await s2.ping({ hostname: "192.0.2.1" });
   * console.log(reply.from, reply.bytes); // 192.0.2.1 56
   * ```
   */
  ping(options: PingOptions): Promise<PingResult> {
    try {
      this.#checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    let addr: IpAddress;
    try {
      addr = parseHost(options.hostname, Ipv4Address.UNSPECIFIED);
    } catch (e) {
      return Promise.reject(e);
    }
    if (addr.isUnspecified) {
      return Promise.reject(
        new TypeError(`Invalid hostname "${options.hostname}": a destination is required`),
      );
    }
    if (this.#iface.routes.nextHop(addr) === null) {
      return Promise.reject(
        netError("NetworkUnreachable", `Cannot ping ${addr}: network is unreachable`),
      );
    }
    if (this.#pinger === null) {
      const socket = new IcmpSocket();
      this.#iface.bindIcmp(this.#sockets, socket);
      this.#pinger = new Pinger(socket, this.#driver.wake);
    }
    return this.#pinger.ping(addr, options, (w) => this.#driver.watch(w));
  }

  /**
   * Resets every open connection, closes listeners and UDP sockets, stops the loop and closes
   * the device if it can be closed.
   *
   * @returns Resolves when the loop has stopped.
   *
   * @example
   * ```ts ignore
   * await stack.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#listeners) {
      try {
        l.close();
      } catch { /* already closed */ }
    }
    for (const u of this.#udp) {
      try {
        u.close();
      } catch { /* already closed */ }
    }
    for (let i = 0; i < this.#sockets.size; i++) {
      const s = this.#sockets.at(i);
      if (s instanceof TcpSocket) s.abort();
    }
    this.#driver.flush();
    this.#autoconf?.close();
    this.#driver.stop();
    await closeDevice(this.#device);
  }

  /** Same as {@linkcode NetStack.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Starts {@linkcode NetStack.close} without waiting for it. */
  [Symbol.dispose](): void {
    void this.close();
  }

  /** @internal One poll of the core. */
  pollOnce(now: Instant): boolean {
    const polled = this.#iface.poll(now, this.#device, this.#sockets);
    return (this.#autoconf?.poll(now) ?? false) || polled;
  }

  /** @internal The next deadline of the core and the device. */
  nextDeadline(now: Instant): Instant {
    const at = earliest(this.#iface.pollAt(now, this.#sockets), deviceDeadline(this.#device));
    return this.#autoconf === null ? at : earliest(at, this.#autoconf.pollAt(now));
  }

  /** @internal Whether released sockets still have data or a FIN to deliver. */
  lingering(): boolean {
    let flushing = false;
    for (const s of this.#released) {
      const st = s.state;
      if (st === "closed") {
        const h = this.#sockets.handleOf(s);
        if (h !== undefined) this.#sockets.remove(h);
        this.#released.delete(s);
      } else if (st !== "timeWait" && st !== "finWait2") {
        flushing = true;
      }
    }
    return flushing;
  }

  /**
   * The device's failure, once it has failed (for example its interface was deleted); `null`
   * while it works.
   *
   * @example
   * ```ts ignore
   * if (stack.deviceError) console.error(stack.deviceError.message);
   * ```
   */
  get deviceError(): Error | null {
    return this.#deviceError;
  }

  /** Ends the loop: every pending operation rejects with the device's error, sockets abort. */
  #deviceFailed(e: unknown): void {
    if (this.#closed || this.#deviceError !== null) return;
    const cause = e instanceof Error ? e : new Error(String(e));
    const err = netError("ConnectionAborted", `Device failed: ${cause.message}`);
    (err as Error & { cause?: unknown }).cause = cause;
    this.#deviceError = err;
    for (let i = 0; i < this.#sockets.size; i++) {
      const s = this.#sockets.at(i);
      if (s instanceof TcpSocket) s.abort();
    }
    this.#driver.fail(err);
  }

  #checkOpen(): void {
    if (this.#closed) throw badResource("NetStack");
    if (this.#deviceError !== null) throw this.#deviceError;
  }
}

/** A random locally administered unicast MAC address. */
function randomMac(): EthernetAddress {
  const b = crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0]! & 0xfe) | 0x02;
  return EthernetAddress.fromBytes(b);
}
