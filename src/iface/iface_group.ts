/**
 * Several interfaces in one host, sharing one {@linkcode SocketSet}, sans-IO: each interface
 * keeps its own device, addresses, MTU, neighbor cache and counters, and is polled with its own
 * device as usual (`iface.poll(now, device, sockets)` for each). Joined in an
 * {@linkcode InterfaceGroup}, they route between them:
 *
 * - ingress on any member is delivered to the shared sockets, but only for that member's own
 *   addresses (the strong host model, RFC 1122 §3.3.4.2): a socket bound to one member's address
 *   is not reachable through another member, and a wildcard listener accepts on all of them,
 *   each connection on the address it came to;
 * - a packet leaves on the member that owns its source address, so a connection stays on its
 *   interface, and TCP sizes its segments by that member's MTU; a datagram from a socket bound
 *   to no address leaves on the member the route table picks for its destination (longest
 *   prefix, then the lowest metric; each member's connected prefixes have metric 0, its
 *   gateways and routes the member's metric), with the source address RFC 6724 picks among
 *   that member's addresses (the one a connection to the same destination takes);
 * - link-scoped traffic (ARP, neighbor discovery, multicast and broadcast) stays on the member
 *   that sends it.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import type { IpCidr } from "../wire/cidr.ts";
import type { Device } from "../phy/device.ts";
import type { SocketContext } from "../socket/context.ts";
import type { Instant } from "../time.ts";
import { coreOf } from "./_core_access.ts";
import type { EgressGroup, IfaceCore } from "./iface_state.ts";
import type { Interface } from "./interface.ts";
import type { Route } from "./route.ts";
import { type RouteChoice, type RouteSource, RouteTable } from "./forward_routes.ts";
import { selectSourceAddress } from "./source_address.ts";
import type { SocketSet } from "./socket_set.ts";

/**
 * Options of {@linkcode InterfaceGroup.add}.
 *
 * @example
 * ```ts
 * import { Interface, InterfaceGroup, type InterfaceGroupMemberOptions } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const group = new InterfaceGroup();
 * const backup: InterfaceGroupMemberOptions = { metric: 100 };
 * group.add(new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1" }), linkPair({ medium: "ip" })[0], backup);
 * group.add(new Interface({ addresses: ["198.51.100.2/24"], gateway4: "198.51.100.1" }), linkPair({ medium: "ip" })[0]);
 * assert.equal(group.lookup(parseIpAddress("203.0.113.9"))?.iface, 1); // metric 0 beats 100
 * ```
 */
export interface InterfaceGroupMemberOptions {
  /** The metric of the interface's gateways and routes (lower wins), 0–2³²−1; default 0. */
  readonly metric?: number;
  /**
   * Metrics of some of the interface's routes in place of `metric`, each naming a route of the
   * interface's own by its prefix and gateway (`null` or absent: on-link). Routes are compared
   * by the longest prefix, then the lowest metric. A metric holds while its route is in the
   * interface's table.
   */
  readonly routeMetrics?: readonly {
    readonly cidr: IpCidr;
    readonly via?: IpAddress | null;
    readonly metric: number;
  }[];
}

/** A route of a member with a metric of its own. */
interface OwnMetric {
  readonly route: Route;
  readonly metric: number;
}

/** One interface of the group. */
class Member implements RouteSource {
  /** The interface's routes without those in `own` (they are in the group's table). */
  #rest: Route[] = [];

  constructor(
    readonly iface: Interface,
    readonly core: IfaceCore,
    readonly device: Device,
    readonly metric: number,
    readonly own: readonly OwnMetric[],
  ) {}

  get addresses(): readonly IpCidr[] {
    return this.core.routes.addresses;
  }

  get routes(): readonly Route[] {
    const all = this.core.routes.routes;
    if (this.own.length === 0) return all;
    if (!this.#restHolds(all)) {
      this.#rest = all.filter((r) => !this.#isOwn(r));
    }
    return this.#rest;
  }

  #isOwn(r: Route): boolean {
    for (let i = 0; i < this.own.length; i++) if (this.own[i]!.route === r) return true;
    return false;
  }

  /** Whether `#rest` is still `all` without the own-metric routes (checked without allocating). */
  #restHolds(all: readonly Route[]): boolean {
    const rest = this.#rest;
    let j = 0;
    for (let i = 0; i < all.length; i++) {
      const r = all[i]!;
      if (this.#isOwn(r)) continue;
      if (rest[j] !== r) return false;
      j++;
    }
    return j === rest.length;
  }
}

/** The hook each member's core holds: what egress asks while a member polls. */
class Hook implements EgressGroup {
  readonly members: Member[] = [];
  /** The member each pinned socket sends through. */
  readonly pins = new WeakMap<object, IfaceCore>();
  pinned: IfaceCore | null = null;
  /** The members' routes with metrics of their own, by member index. */
  table = new RouteTable();

  /** Builds `table` again after members came or went (their indices changed). */
  rebuild(): void {
    const t = new RouteTable();
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      for (const o of ms[i]!.own) {
        t.add({ cidr: o.route.cidr, via: o.route.via, iface: i, metric: o.metric });
      }
    }
    this.table = t;
  }

  begin(core: IfaceCore, now: Instant, sockets: SocketSet): void {
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!;
      if (m.core !== core) m.core.begin(now, m.device, sockets);
    }
  }

  end(core: IfaceCore): void {
    this.pinned = null;
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      const c = ms[i]!.core;
      if (c === core) continue;
      c.sockets = null;
      c.device = null;
    }
  }

  /** The member that owns `addr`, or `null`; `core` is asked first. */
  owner(core: IfaceCore, addr: IpAddress): IfaceCore | null {
    if (core.routes.hasAddress(addr)) return core;
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      const c = ms[i]!.core;
      if (c !== core && c.routes.hasAddress(addr)) return c;
    }
    return null;
  }

  pin(core: IfaceCore, socket: object): void {
    this.pins.set(socket, core);
  }

  pinOf(socket: object): IfaceCore | null {
    const c = this.pins.get(socket);
    // A member that left the group sends for it no more.
    return c === undefined || c.group !== this ? null : c;
  }

  egress(core: IfaceCore, src: IpAddress, dst: IpAddress): IfaceCore {
    if (this.pinned !== null) return this.pinned;
    const own = this.owner(core, src);
    if (own !== null) return own;
    // Multicast and broadcast from no member's address (DAD, a wildcard socket) stay on the
    // sending member; other sources no member owns (an accept-any or raw socket's) go by route.
    if (dst.isMulticast || (dst.version === 4 && dst.isBroadcast)) return core;
    const c = this.table.lookup(dst, this.members);
    return c === null ? core : this.members[c.iface]!.core;
  }

  sourceFor(core: IfaceCore, dst: IpAddress): IpAddress | null {
    const p = this.pinned;
    if (p !== null) return selectSourceAddress(dst, p.routes.addresses);
    // Link-scoped destinations stay on the sending member (as `egress` keeps them there).
    if (dst.isMulticast || (dst.version === 4 && dst.isBroadcast)) {
      return core.routes.sourceFor(dst);
    }
    const c = this.table.lookup(dst, this.members);
    if (c === null) return core.routes.sourceFor(dst);
    // The same RFC 6724 choice as `InterfaceGroup.sourceFor` (a connection's), so a datagram
    // and a connection to one destination leave from one address.
    return selectSourceAddress(dst, this.members[c.iface]!.addresses);
  }

  contextFor(core: IfaceCore, local: IpAddress): SocketContext {
    if (this.pinned !== null) return this.pinned.cx;
    return (this.owner(core, local) ?? core).cx;
  }
}

function checkMetric(metric: number): void {
  if (!Number.isInteger(metric) || metric < 0 || metric > 0xffffffff) {
    throw new RangeError(`Invalid metric ${metric}: expected an integer from 0 to 4294967295`);
  }
}

/**
 * Joins several {@linkcode Interface}s that share one socket set (see the module
 * documentation): each packet leaves on the right member, and the group answers which member
 * and which source address a destination is reached by. Poll every member with its own device;
 * any member's poll may send on every member's device.
 *
 * @example Two interfaces, one socket set
 * ```ts
 * import { Interface, InterfaceGroup, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const [a0, a1] = linkPair({ medium: "ip" }), [b0, b1] = linkPair({ medium: "ip", mtu: 1280 });
 * const ifA = new Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
 * const ifB = new Interface({ addresses: ["198.51.100.1/24"], seed: 2 });
 * const group = new InterfaceGroup();
 * group.add(ifA, a0);
 * group.add(ifB, b0);
 * const sockets = new SocketSet();
 * const any = { addr: parseIpAddress("0.0.0.0"), port: 80 };
 * ifA.listenTcp(sockets, new TcpListenSocket(any));
 * // Two peers, one behind each interface.
 * const peerA = new Interface({ addresses: ["192.0.2.2/24"], seed: 3 }), setA = new SocketSet();
 * const peerB = new Interface({ addresses: ["198.51.100.2/24"], seed: 4 }), setB = new SocketSet();
 * const ca = new TcpSocket(), cb = new TcpSocket();
 * peerA.connectTcp(setA, ca, { addr: parseIpAddress("192.0.2.1"), port: 80 }, {}, 0);
 * peerB.connectTcp(setB, cb, { addr: parseIpAddress("198.51.100.1"), port: 80 }, {}, 0);
 * for (let t = 0; t < 20; t++) {
 *   ifA.poll(t, a0, sockets);
 *   ifB.poll(t, b0, sockets);
 *   peerA.poll(t, a1, setA);
 *   peerB.poll(t, b1, setB);
 * }
 * assert.equal(ca.state, "established"); // the wildcard listener accepted on both interfaces
 * assert.equal(cb.state, "established");
 * assert.equal(group.lookup(parseIpAddress("198.51.100.7"))?.iface, 1);
 * assert.equal(group.sourceFor(parseIpAddress("198.51.100.7"))?.toString(), "198.51.100.1");
 * ```
 */
export class InterfaceGroup {
  readonly #hook = new Hook();

  /**
   * Adds an interface with the device it is polled with. An interface belongs to one group.
   *
   * @param iface The interface.
   * @param device Its device (the one passed to its `poll`).
   * @param options The metric of its gateways and routes.
   * @returns The member's index (0 for the first).
   * @throws {TypeError} When the interface is in a group already, or the device's medium is not
   * the interface's.
   * @throws {RangeError} For a metric out of range.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * const iface = new Interface({ addresses: ["192.0.2.1/24"] });
   * assert.equal(group.add(iface, linkPair({ medium: "ip" })[0]), 0);
   * assert.throws(() => group.add(iface, linkPair({ medium: "ip" })[0]), TypeError); // already in
   * assert.throws(() => group.add(new Interface(), linkPair({ medium: "ip" })[0], { metric: -1 }), RangeError);
   * ```
   */
  add(iface: Interface, device: Device, options: InterfaceGroupMemberOptions = {}): number {
    const core = coreOf(iface);
    if (core.group !== null) throw new TypeError("Invalid iface: it is in a group already");
    if (device.capabilities.medium !== core.medium) {
      throw new TypeError(
        `Invalid device: its medium ${device.capabilities.medium} differs from the interface's ${core.medium}`,
      );
    }
    const metric = options.metric ?? 0;
    checkMetric(metric);
    const own: OwnMetric[] = [];
    for (const m of options.routeMetrics ?? []) {
      checkMetric(m.metric);
      const via = m.via ?? null;
      const net = m.cidr.network();
      const route = core.routes.routes.find((r) =>
        r.cidr.prefixLen === net.prefixLen && r.cidr.address.equals(net.address) &&
        (r.via === null ? via === null : via !== null && r.via.equals(via))
      );
      if (route === undefined) {
        throw new TypeError(
          `Invalid routeMetrics: the interface has no route ${m.cidr} via ${via ?? "its link"}`,
        );
      }
      own.push({ route, metric: m.metric });
    }
    const ms = this.#hook.members;
    ms.push(new Member(iface, core, device, metric, own));
    core.group = this.#hook;
    if (own.length > 0) this.#hook.rebuild();
    return ms.length - 1;
  }

  /**
   * Takes a member out of the group: it routes and sends for the others no more, and polls on
   * its own again (what its sockets do is the caller's business: abort those bound to its
   * addresses first). Later members' indices go down by one.
   *
   * @param index The member's index.
   * @returns The interface taken out.
   * @throws {RangeError} For an index that is no member's.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * const a = new Interface({ addresses: ["192.0.2.1/24"] });
   * const b = new Interface({ addresses: ["198.51.100.1/24"] });
   * group.add(a, linkPair({ medium: "ip" })[0]);
   * group.add(b, linkPair({ medium: "ip" })[0]);
   * assert.equal(group.remove(0), a);
   * assert.equal(group.lookup(parseIpAddress("192.0.2.9")), null); // its subnet left the table
   * assert.equal(group.indexOf(parseIpAddress("198.51.100.1")), 0);
   * assert.throws(() => group.remove(1), RangeError);
   * group.add(a, linkPair({ medium: "ip" })[0]); // it can join a group again
   * ```
   */
  remove(index: number): Interface {
    const ms = this.#hook.members;
    if (!Number.isInteger(index) || index < 0 || index >= ms.length) {
      throw new RangeError(
        `Invalid index ${index}: expected a member's, an integer from 0 to ${ms.length - 1}`,
      );
    }
    const [m] = ms.splice(index, 1);
    m!.core.group = null;
    this.#hook.rebuild();
    return m!.iface;
  }

  /**
   * How many interfaces the group has.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * assert.equal(group.size, 0);
   * group.add(new Interface(), linkPair({ medium: "ip" })[0]);
   * assert.equal(group.size, 1);
   * ```
   */
  get size(): number {
    return this.#hook.members.length;
  }

  /**
   * The route to `dst`: the member it leaves on and the next hop (longest prefix over every
   * member's connected prefixes, gateways and routes, then the lowest metric; on a tie the
   * member added first). The result is one reused object: read it before the next lookup.
   *
   * @param dst The destination.
   * @returns The choice, or `null` when no member has a route.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * group.add(new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1" }), linkPair({ medium: "ip" })[0]);
   * group.add(new Interface({ addresses: ["198.51.100.2/24"] }), linkPair({ medium: "ip" })[0]);
   * assert.equal(group.lookup(parseIpAddress("198.51.100.9"))?.iface, 1); // /24 beats the default
   * const far = group.lookup(parseIpAddress("203.0.113.9"));
   * assert.equal(far?.iface, 0);
   * assert.equal(far?.nextHop.toString(), "192.0.2.1");
   * assert.equal(group.lookup(parseIpAddress("2001:db8::1")), null);
   * ```
   */
  lookup(dst: IpAddress): RouteChoice | null {
    return this.#hook.table.lookup(dst, this.#hook.members);
  }

  /**
   * The member an address is assigned to.
   *
   * @param address An address.
   * @returns The member's index, or -1 when no member has it.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * group.add(new Interface({ addresses: ["192.0.2.2/24"] }), linkPair({ medium: "ip" })[0]);
   * group.add(new Interface({ addresses: ["198.51.100.2/24"] }), linkPair({ medium: "ip" })[0]);
   * assert.equal(group.indexOf(parseIpAddress("198.51.100.2")), 1);
   * assert.equal(group.indexOf(parseIpAddress("198.51.100.3")), -1);
   * ```
   */
  indexOf(address: IpAddress): number {
    const ms = this.#hook.members;
    for (let i = 0; i < ms.length; i++) if (ms[i]!.core.routes.hasAddress(address)) return i;
    return -1;
  }

  /**
   * Pins a socket of the shared set to a member: its packets leave on that member's device,
   * whatever their addresses (an IPv6 link-local peer named with a zone, an accept-any flow whose
   * source is the original destination). Connections a listener accepts are pinned to the member
   * their SYN came in on, and replies to a received packet leave on the member it came in on. A
   * pin holds while the member is in the group.
   *
   * @param socket A socket of the set the members poll.
   * @param index The member's index, or `null` to unpin.
   * @throws {RangeError} For an index that is no member's.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * group.add(new Interface({ addresses: ["fe80::1/64"] }), linkPair({ medium: "ip" })[0]);
   * group.add(new Interface({ addresses: ["fe80::1/64"] }), linkPair({ medium: "ip" })[0]);
   * const udp = new UdpSocket();
   * assert.equal(group.pinnedIndex(udp), -1);
   * group.pin(udp, 1); // fe80::/64 is on both links: this socket's packets take the second
   * assert.equal(group.pinnedIndex(udp), 1);
   * group.pin(udp, null);
   * assert.equal(group.pinnedIndex(udp), -1);
   * assert.throws(() => group.pin(udp, 2), RangeError);
   * ```
   */
  pin(socket: object, index: number | null): void {
    const h = this.#hook;
    if (index === null) {
      h.pins.delete(socket);
      return;
    }
    if (!Number.isInteger(index) || index < 0 || index >= h.members.length) {
      throw new RangeError(
        `Invalid index ${index}: expected a member's, an integer from 0 to ${h.members.length - 1}`,
      );
    }
    h.pin(h.members[index]!.core, socket);
  }

  /**
   * The member a socket is pinned to (see {@linkcode InterfaceGroup.pin}).
   *
   * @param socket A socket.
   * @returns The member's index, or -1 when it is not pinned (or its member left).
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * group.add(new Interface({ addresses: ["192.0.2.1/24"] }), linkPair({ medium: "ip" })[0]);
   * group.add(new Interface({ addresses: ["198.51.100.1/24"] }), linkPair({ medium: "ip" })[0]);
   * const udp = new UdpSocket();
   * group.pin(udp, 1);
   * assert.equal(group.pinnedIndex(udp), 1);
   * group.remove(1);
   * assert.equal(group.pinnedIndex(udp), -1); // its member left
   * ```
   */
  pinnedIndex(socket: object): number {
    const h = this.#hook;
    const c = h.pinOf(socket);
    if (c === null) return -1;
    const ms = h.members;
    for (let i = 0; i < ms.length; i++) if (ms[i]!.core === c) return i;
    return -1;
  }

  /**
   * The source address for a connection to `dst`: RFC 6724 §5 source selection
   * ({@linkcode selectSourceAddress}) over the addresses of the member the route to `dst`
   * leaves on (a source on another interface would not be answered there: strong host).
   *
   * @param dst The destination.
   * @returns The address, or `null` without a route or without an address of `dst`'s version
   * on that member.
   *
   * @example
   * ```ts
   * import { Interface, InterfaceGroup } from "@smol/net/iface";
   * import { linkPair } from "@smol/net/phy";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const group = new InterfaceGroup();
   * group.add(new Interface({ addresses: ["2001:db8:1::2/64", "fe80::2/64"] }), linkPair({ medium: "ip" })[0]);
   * group.add(new Interface({ addresses: ["2001:db8:2::2/64", "2001:db8:3::2/64"] }), linkPair({ medium: "ip" })[0]);
   * assert.equal(group.sourceFor(parseIpAddress("2001:db8:1::9"))?.toString(), "2001:db8:1::2");
   * assert.equal(group.sourceFor(parseIpAddress("2001:db8:3::9"))?.toString(), "2001:db8:3::2");
   * assert.equal(group.sourceFor(parseIpAddress("2001:db8:4::9")), null); // no route
   * ```
   */
  sourceFor(dst: IpAddress): IpAddress | null {
    const c = this.lookup(dst);
    if (c === null) return null;
    return selectSourceAddress(dst, this.#hook.members[c.iface]!.addresses);
  }
}
