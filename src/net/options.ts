/**
 * The options of `NetStack` and of its `listen`, `connect` and `listenDatagram`,
 * shaped like Deno's. They are checked in `_options.ts` when the call is made.
 *
 * @module
 */

import type { AcceptAnyOptions } from "../iface/accept_any.ts";
import type { InterfaceConfig } from "../iface/interface.ts";
import type { Device } from "../phy/device.ts";
import type { TcpSocketOptions } from "../socket/tcp/config.ts";
import type { FastOpenCache } from "../socket/tcp/fast_open_cache.ts";
import type { EthernetAddress, IpAddress, IpCidr } from "../wire/address.ts";
import type { AutoconfOptions } from "./autoconf.ts";
import type { DnsHosts } from "./dns_cache.ts";

/**
 * Options of a `NetStack`.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack, type NetStackOptions } from "@smol/net";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * const options: NetStackOptions = {
 *   device,
 *   addresses: ["192.0.2.2/24", "2001:db8::2/64"],
 *   gateways: ["192.0.2.1"],
 * };
 * await using stack = new NetStack(options);
 * assert.equal(stack.iface.routes.nextHop(parseIpAddress("198.51.100.7"))?.toString(), "192.0.2.1");
 * assert.equal(stack.iface.routes.addresses.length, 2);
 * ```
 */
export interface NetStackOptions {
  /** The device the stack sends and receives on. */
  readonly device: Device;
  /**
   * The stack's addresses in CIDR form (`192.0.2.2/24`, `2001:db8::2/64`), or `"auto"` to
   * configure IPv4 by DHCP (see `NetStack.autoconf`).
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
  /**
   * The default accept queue of `listen` (default 511, like Deno's `tcpBacklog`), 1–65535. Deno
   * has no stack-wide setting; `ListenOptions.tcpBacklog` overrides it per listener.
   */
  readonly backlog?: number;
  /** The most sockets (connections, listeners, UDP) the stack holds (default 65,536). */
  readonly maxSockets?: number;
  /** Seed for the stack's random generator (default: random). Secrets always come from crypto. */
  readonly seed?: number;
  /**
   * The TCP Fast Open cookie cache of `connect({ fastOpen: true })` (default: a cache of 1024
   * servers with black-hole detection after one hour, `new FastOpenCache()`). Give one to size
   * it, to change or turn off (`blackholeTimeout: 0`, Linux's default since 5.14) the pause
   * after suspected black holes, or to share cookies between stacks.
   */
  readonly fastOpenCache?: FastOpenCache;
  /** Further Interface settings (hop limit, ICMP echo replies, cache sizes). */
  readonly iface?: Partial<InterfaceConfig>;
  /**
   * Recursive DNS servers for host names in `connect` (tried in order, 2 s per try, 2 rounds).
   * Without them `connect` takes IP literals only.
   */
  readonly dnsServers?: readonly (string | IpAddress)[];
  /**
   * Static host entries for `connect` (see `parseHosts`), looked up before any DNS server.
   * Answers from servers are cached for their TTL, failures for their negative TTL (RFC 2308).
   */
  readonly hosts?: DnsHosts;
  /**
   * Accept-any mode (transparent termination): take TCP and UDP to every address that enters
   * the device, for `listen({ transparent: true })` and `listenDatagram({ transparent: true })`
   * (see {@linkcode AcceptAnyOptions}; `true` for the defaults). Default off.
   */
  readonly acceptAny?: AcceptAnyOptions | boolean;
  /**
   * The metric of this first interface's gateways and routes when the stack has several
   * interfaces (see `NetStack.addInterface`; lower wins), 0–2³²−1. Default 0.
   */
  readonly metric?: number;
}

/**
 * Options of `NetStack.addInterface`: a further interface of the stack, with its own device,
 * addresses, routes and MTU.
 *
 * @example
 * ```ts
 * import { type InterfaceOptions, linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [first] = linkPair({ mtu: 1500 });
 * const [second] = linkPair({ mtu: 9000 });
 * await using stack = new NetStack({ device: first, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
 * const options: InterfaceOptions = {
 *   device: second,
 *   addresses: ["198.51.100.2/24"],
 *   gateways: ["198.51.100.1"],
 *   routes: [{ cidr: "203.0.113.0/24", via: "198.51.100.254" }, { cidr: "10.0.0.0/8", metric: 5 }],
 *   metric: 10,
 *   mtu: 1400,
 * };
 * assert.equal(stack.addInterface(options), 1);
 * assert.throws(() => stack.addInterface({ device: second, addresses: [] }), TypeError); // in use
 * ```
 */
export interface InterfaceOptions {
  /** The device of the interface (not in use by this or another stack). */
  readonly device: Device;
  /**
   * The interface's addresses in CIDR form (`198.51.100.2/24`, `2001:db8:1::2/64`), or `"auto"`
   * for DHCPv4 (and SLAAC on Ethernet) on this interface: its lease's address, default route
   * (with this interface's `metric`) and MTU apply to it alone, a renewal or expiry touches only
   * its own, and `NetStack.interfaceAutoconf` gives its state and events.
   */
  readonly addresses: readonly (string | IpCidr)[] | "auto";
  /** Options of automatic configuration when `addresses` is `"auto"`. */
  readonly autoconf?: AutoconfOptions;
  /** Its default gateways, at most one per IP version (with `metric`). */
  readonly gateways?: readonly (string | IpAddress)[];
  /**
   * Further routes through it: a prefix, a gateway (on-link without `via`) and a metric of the
   * route's own in place of the interface's `metric` (routes of the same prefix length on
   * different interfaces: the lowest metric wins).
   */
  readonly routes?: readonly {
    readonly cidr: string | IpCidr;
    readonly via?: string | IpAddress;
    readonly metric?: number;
  }[];
  /**
   * The metric of its gateways and of its routes without a metric of their own (lower wins when
   * two interfaces have routes of the same prefix length), 0–2³²−1. Its own subnets have metric
   * 0. Default 0.
   */
  readonly metric?: number;
  /**
   * The largest IP packet it sends, 576 (1280 with IPv6 addresses) to 65535; below the device's
   * MTU it lowers the MSS this interface's connections announce. Default: the device's.
   */
  readonly mtu?: number;
  /** The hardware address on an Ethernet medium (default: a random locally administered one). */
  readonly hardwareAddress?: string | EthernetAddress;
  /** Further Interface settings (hop limit, ICMP echo replies, cache sizes). */
  readonly iface?: Partial<InterfaceConfig>;
  /**
   * Accept-any mode on this interface (see `NetStackOptions.acceptAny`): the stack's transparent
   * listeners take TCP and UDP to every address that enters its device too, with a flow bound
   * and counters of its own (`NetStack.acceptAnyCounters`). Default off.
   */
  readonly acceptAny?: AcceptAnyOptions | boolean;
}

/**
 * Options of `NetStack.listen`, like `Deno.listen`'s.
 *
 * @example
 * ```ts
 * import { linkPair, type ListenOptions, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
 * const options: ListenOptions = { port: 8080, hostname: "0.0.0.0", tcpBacklog: 128 };
 * const listener = stack.listen(options);
 * assert.deepEqual(listener.addr, { transport: "tcp", hostname: "0.0.0.0", port: 8080 });
 * listener.close();
 * ```
 */
export interface ListenOptions {
  /** Only `"tcp"`, as with `Deno.listen` (optional: `listen` opens TCP listeners only). */
  readonly transport?: "tcp";
  /** The port, 0–65535; 0 picks a free one. */
  readonly port: number;
  /**
   * The local address. The default `0.0.0.0` takes every IPv4 address of the stack, as with
   * `Deno.listen`; `::` takes every IPv6 address; listen twice to serve both. A link-local
   * address may name its interface with a zone (`"fe80::1%1"`).
   */
  readonly hostname?: string;
  /** Accept queue length, 1–65535 (default: the stack's `backlog`), as Deno's `tcpBacklog`. */
  readonly tcpBacklog?: number;
  /** @deprecated The same as `tcpBacklog`, its former name. */
  readonly backlog?: number;
  /**
   * Take TCP Fast Open (RFC 7413), default `false` (off, like Linux's `tcp_fastopen` server
   * bit): clients get a cookie, and a client that returns it has the data of its SYN accepted
   * before the handshake completes, so `accept()` and the first read need no round trip. The
   * cookie is a keyed hash of the client's address under the stack's secret.
   */
  readonly fastOpen?: boolean;
}

/**
 * Options of `NetStack.connect`, like `Deno.connect`'s.
 *
 * @example
 * ```ts
 * import { type ConnectOptions, linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * const options: ConnectOptions = { hostname: "192.0.2.1", port: 80, localPort: 40000 };
 * const conn = await client.connect(options);
 * assert.equal(conn.localAddr.port, 40000);
 * assert.equal(conn.remoteAddr.hostname, "192.0.2.1");
 * const peer = await listener.accept();
 * peer.close();
 * conn.close();
 * listener.close();
 * ```
 *
 * @example TCP Fast Open: the second connection's first write travels in its SYN
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80, fastOpen: true });
 * for (const round of [1, 2]) {
 *   const conn = await client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
 *   await conn.write(new Uint8Array([round]));
 *   const peer = await listener.accept();
 *   const buf = new Uint8Array(4);
 *   assert.equal(await peer.read(buf), 1);
 *   assert.equal(conn.info.fastOpenSynData, round === 1 ? 0 : 1); // the first fetched a cookie
 *   peer.close();
 *   conn.close();
 * }
 * assert.equal(listener.info.fastOpenAccepted, 1);
 * listener.close();
 * ```
 */
export interface ConnectOptions {
  /** Only `"tcp"`, as with `Deno.connect` (optional: `connect` opens TCP connections only). */
  readonly transport?: "tcp";
  /**
   * The peer: an IPv4 or IPv6 literal, or a host name when the stack has `dnsServers`. The
   * default is `127.0.0.1`, as with `Deno.connect`; a stack has no loopback interface, so a
   * loopback peer it does not own rejects with `NetworkUnreachable`.
   *
   * An IPv6 link-local peer takes a zone (RFC 4007 §11), the index of the interface it is on
   * (`"fe80::2%1"`): the connection leaves on that interface, from its link-local address. On a
   * stack with several interfaces a link-local peer without a zone is ambiguous and rejects with
   * a `TypeError` whose `code` is `EINVAL`, as Linux's `connect` does without a scope.
   */
  readonly hostname?: string;
  /** The peer's port, 1–65535. */
  readonly port: number;
  /** Aborts the handshake and rejects with the signal's reason (an `AbortError`). */
  readonly signal?: AbortSignal;
  /**
   * A fixed local port, 1–65535 (default: a random ephemeral port, RFC 6056). Deno has no such
   * option; tests and protocols that need a known source port use it.
   */
  readonly localPort?: number;
  /**
   * Use TCP Fast Open (RFC 7413), default `false` (off, like Linux). The first connection to a
   * server asks for a cookie and goes as usual; later ones, with the cookie the stack keeps
   * (`NetStack.fastOpenCache`), resolve at once, like Linux's `TCP_FASTOPEN_CONNECT`: the first
   * write (within 5 ms) travels in the SYN. Such a connect resolves before the handshake, so:
   * - a failed handshake rejects the first read or write with the error `connect` would have
   *   rejected with (`ConnectionRefused`, `TimedOut`, `NetworkUnreachable`); a write that only
   *   queued data before the failure has resolved;
   * - `signal` still aborts the connection until the handshake completes, and its reads and
   *   writes then reject with the signal's reason (an `AbortError`); after that it does nothing.
   *
   * Data the server does not take in the SYN is sent again after the handshake; a server that
   * answers without Fast Open is not asked again for an hour. After lost SYN data Fast Open
   * pauses, as Linux's: for one server after its second SYN-data drop in a row (4 minutes,
   * doubling), for every server after a Fast Open connection takes two timeouts in a row or
   * fails of a timeout before its second (a middlebox black hole: one hour, doubling); such
   * connects go as usual meanwhile.
   */
  readonly fastOpen?: boolean;
}

/**
 * Options of `NetStack.listenDatagram`.
 *
 * @example
 * ```ts
 * import { type DatagramOptions, linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
 * const options: DatagramOptions = { port: 5353 };
 * const socket = stack.listenDatagram(options);
 * assert.equal(socket.addr.port, 5353);
 * socket.close();
 * ```
 */
export interface DatagramOptions {
  /**
   * Only `"udp"`. `Deno.listenDatagram` requires it because it also opens Unix datagram
   * sockets; a stack has only UDP, so here it may be left out.
   */
  readonly transport?: "udp";
  /** The local port, 0–65535; 0 picks a free one. */
  readonly port: number;
  /**
   * The local address (default: every address of the stack). A link-local address with a zone
   * (`"fe80::1%1"`, RFC 4007 §11) binds to that interface's address, and the socket's datagrams
   * leave on that interface (to link-local peers too, which are then unambiguous).
   */
  readonly hostname?: string;
}
