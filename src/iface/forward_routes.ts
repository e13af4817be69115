/**
 * The forwarding table of a {@linkcode Forwarder}: routes that name the interface a packet
 * leaves on, with metrics, searched together with each interface's connected prefixes and its
 * own routes (its default gateway) by longest-prefix match, then lowest metric (RFC 1812
 * §5.2.4.3: the longest match wins; among equals, the best metric).
 *
 * @module
 */

import { type IpAddress, parseIpAddress } from "../wire/address.ts";
import { IpCidr } from "../wire/cidr.ts";
import { cidrContains } from "./route.ts";

/**
 * One route of a {@linkcode RouteTable}: packets for `cidr` leave on interface `iface` (the
 * index {@linkcode Forwarder.attach} returned), to `via`, or straight to the destination when
 * `via` is `null`.
 *
 * @example
 * ```ts
 * import { type ForwardRoute, RouteTable } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const t = new RouteTable();
 * t.add({ cidr: "203.0.113.7/24", via: null, iface: 1, metric: 10 });
 * const r: ForwardRoute | undefined = t.routes[0];
 * assert.equal(r?.cidr.toString(), "203.0.113.0/24"); // stored as the network
 * assert.equal(r?.via, null);
 * assert.equal(r?.iface, 1);
 * assert.equal(r?.metric, 10);
 * ```
 */
export interface ForwardRoute {
  /** The destinations the route covers (stored as its network). */
  readonly cidr: IpCidr;
  /** The gateway, or `null` for on-link. */
  readonly via: IpAddress | null;
  /** The interface index. */
  readonly iface: number;
  /** Lower wins among routes of the same prefix length; connected prefixes have 0. */
  readonly metric: number;
}

/**
 * What {@linkcode RouteTable.add} takes: {@linkcode ForwardRoute} with strings allowed and the
 * gateway and metric optional.
 *
 * @example
 * ```ts
 * import { type ForwardRouteInit, RouteTable } from "@smol/net/iface";
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const r: ForwardRouteInit = { cidr: "0.0.0.0/0", via: "198.51.100.1", iface: 1 };
 * const t = new RouteTable();
 * t.add(r);
 * assert.equal(t.routes[0]?.metric, 0); // the default
 * const ifaces = [
 *   { addresses: [IpCidr.parse("192.0.2.1/24")], routes: [], metric: 0 },
 *   { addresses: [IpCidr.parse("198.51.100.2/24")], routes: [], metric: 0 },
 * ];
 * assert.equal(t.lookup(parseIpAddress("203.0.113.9"), ifaces)?.nextHop.toString(), "198.51.100.1");
 * ```
 */
export interface ForwardRouteInit {
  /** The destinations, as `IpCidr` or `"203.0.113.0/24"`. */
  readonly cidr: IpCidr | string;
  /** The gateway; default `null` (on-link). */
  readonly via?: IpAddress | string | null;
  /** The interface index. */
  readonly iface: number;
  /** The metric; default 0. */
  readonly metric?: number;
}

/**
 * The result of a lookup, reused between calls: read it before the next lookup.
 *
 * @example
 * ```ts
 * import { type RouteChoice, RouteTable } from "@smol/net/iface";
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function show(c: RouteChoice): string { return `${c.nextHop} on ${c.iface} (/${c.prefixLen})`; }
 * const t = new RouteTable();
 * t.add({ cidr: "203.0.113.0/24", via: "198.51.100.1", iface: 1 });
 * const ifaces = [
 *   { addresses: [IpCidr.parse("192.0.2.1/24")], routes: [], metric: 0 },
 *   { addresses: [IpCidr.parse("198.51.100.2/24")], routes: [], metric: 0 },
 * ];
 * const c = t.lookup(parseIpAddress("203.0.113.9"), ifaces);
 * assert.equal(c && show(c), "198.51.100.1 on 1 (/24)");
 * assert.equal(t.lookup(parseIpAddress("192.0.2.9"), ifaces)?.iface, 0); // a connected prefix
 * ```
 */
export interface RouteChoice {
  /** The interface index the packet leaves on. */
  iface: number;
  /** The link neighbor to send to: the gateway, or the destination itself. */
  nextHop: IpAddress;
  /** The matching prefix length. */
  prefixLen: number;
  /** The matching route's metric. */
  metric: number;
}

/** What the table needs to know of each attached interface. */
export interface RouteSource {
  /** The interface's addresses (their prefixes are connected routes). */
  readonly addresses: readonly IpCidr[];
  /** The interface's own routes (its gateways), at the interface's metric. */
  readonly routes: readonly { readonly cidr: IpCidr; readonly via: IpAddress | null }[];
  /** The metric of the interface's own routes. */
  readonly metric: number;
}

function checkMetric(metric: number): void {
  if (!Number.isInteger(metric) || metric < 0 || metric > 0xffffffff) {
    throw new RangeError(`Invalid metric ${metric}: expected an integer from 0 to 4294967295`);
  }
}

/**
 * Routes across several interfaces.
 *
 * @example
 * ```ts
 * import { RouteTable } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const table = new RouteTable();
 * table.add({ cidr: "0.0.0.0/0", via: "198.51.100.1", iface: 1, metric: 20 });
 * table.add({ cidr: "0.0.0.0/0", via: "192.0.2.254", iface: 0, metric: 10 });
 * table.add({ cidr: "203.0.113.0/24", via: "198.51.100.1", iface: 1 });
 * const ifaces = [0, 1].map(() => ({ addresses: [], routes: [], metric: 0 }));
 * const c = table.lookup(parseIpAddress("203.0.113.9"), ifaces)!;
 * assert.equal(c.iface, 1); // the longest prefix wins
 * assert.equal(table.lookup(parseIpAddress("8.8.8.8"), ifaces)!.iface, 0); // then the metric
 * ```
 */
export class RouteTable {
  readonly #routes: ForwardRoute[] = [];
  readonly #choice: RouteChoice = {
    iface: -1,
    nextHop: parseIpAddress("0.0.0.0"),
    prefixLen: -1,
    metric: 0,
  };

  #generation = 0;

  /**
   * A counter bumped by every route added or removed (the forwarder's cache of route decisions
   * is emptied when it changes).
   *
   * @example
   * ```ts
   * import { RouteTable } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const t = new RouteTable();
   * const g = t.generation;
   * t.add({ cidr: "203.0.113.0/24", iface: 0 });
   * assert.notEqual(t.generation, g);
   * ```
   */
  get generation(): number {
    return this.#generation;
  }

  /** The routes, in the order added. */
  get routes(): readonly ForwardRoute[] {
    return this.#routes;
  }

  /**
   * Adds a route.
   *
   * @param init The route.
   * @throws {TypeError} For a malformed prefix or gateway, or a gateway of the other family.
   * @throws {RangeError} For a negative interface index or a bad metric.
   *
   * @example
   * ```ts
   * import { RouteTable } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const t = new RouteTable();
   * t.add({ cidr: "2001:db8:1::/48", via: null, iface: 2 });
   * assert.equal(t.routes.length, 1);
   * assert.throws(() => t.add({ cidr: "0.0.0.0/0", via: "2001:db8::1", iface: 0 }), TypeError);
   * ```
   */
  add(init: ForwardRouteInit): void {
    const cidr = typeof init.cidr === "string" ? IpCidr.parse(init.cidr) : init.cidr;
    const via = init.via === undefined || init.via === null
      ? null
      : typeof init.via === "string"
      ? parseIpAddress(init.via)
      : init.via;
    if (via !== null && via.version !== cidr.address.version) {
      throw new TypeError(`Invalid route ${cidr} via ${via}: address families differ`);
    }
    if (!Number.isInteger(init.iface) || init.iface < 0) {
      throw new RangeError(`Invalid iface ${init.iface}: expected an interface index`);
    }
    const metric = init.metric ?? 0;
    checkMetric(metric);
    this.#routes.push({ cidr: cidr.network(), via, iface: init.iface, metric });
    this.#generation++;
  }

  /**
   * Removes the routes for exactly this prefix (on one interface, or on all).
   *
   * @param cidr The prefix.
   * @param iface Only this interface's routes; default all.
   * @returns How many were removed.
   *
   * @example
   * ```ts
   * import { RouteTable } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const t = new RouteTable();
   * t.add({ cidr: "0.0.0.0/0", via: "192.0.2.1", iface: 0 });
   * assert.equal(t.remove("0.0.0.0/0"), 1);
   * ```
   */
  remove(cidr: IpCidr | string, iface?: number): number {
    const net = (typeof cidr === "string" ? IpCidr.parse(cidr) : cidr).network();
    let n = 0;
    for (let i = this.#routes.length - 1; i >= 0; i--) {
      const r = this.#routes[i]!;
      if (
        r.cidr.prefixLen === net.prefixLen && r.cidr.address.equals(net.address) &&
        (iface === undefined || r.iface === iface)
      ) {
        this.#routes.splice(i, 1);
        n++;
      }
    }
    if (n > 0) this.#generation++;
    return n;
  }

  /**
   * The best route for `dst`: the longest prefix over the interfaces' connected prefixes
   * (metric 0), their own routes (at their metric) and this table's routes; among equal
   * prefixes the lowest metric, then the first found. Allocates nothing.
   *
   * @param dst The destination.
   * @param sources Per interface index: its addresses, routes and metric (routes naming an
   *   index past the end are skipped).
   * @returns The choice (one reused object), or `null` when nothing matches.
   *
   * @example
   * ```ts
   * import { RouteTable } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const inside = { addresses: [IpCidr.parse("192.0.2.1/24")], routes: [], metric: 0 };
   * const c = new RouteTable().lookup(parseIpAddress("192.0.2.7"), [inside])!;
   * assert.equal(c.nextHop.toString(), "192.0.2.7");
   * ```
   */
  lookup(dst: IpAddress, sources: readonly RouteSource[]): RouteChoice | null {
    let bestLen = -1, bestMetric = 0, bestIface = -1;
    let bestVia: IpAddress | null = null;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      const addrs = s.addresses;
      for (let j = 0; j < addrs.length; j++) {
        const c = addrs[j]!;
        const len = c.prefixLen;
        if ((len > bestLen || (len === bestLen && bestMetric > 0)) && cidrContains(c, dst)) {
          bestLen = len;
          bestMetric = 0;
          bestIface = i;
          bestVia = null;
        }
      }
      const rs = s.routes;
      for (let j = 0; j < rs.length; j++) {
        const r = rs[j]!;
        const len = r.cidr.prefixLen;
        if (
          (len > bestLen || (len === bestLen && s.metric < bestMetric)) && cidrContains(r.cidr, dst)
        ) {
          bestLen = len;
          bestMetric = s.metric;
          bestIface = i;
          bestVia = r.via;
        }
      }
    }
    const rs = this.#routes;
    for (let j = 0; j < rs.length; j++) {
      const r = rs[j]!;
      const len = r.cidr.prefixLen;
      if (
        r.iface < sources.length &&
        (len > bestLen || (len === bestLen && r.metric < bestMetric)) && cidrContains(r.cidr, dst)
      ) {
        bestLen = len;
        bestMetric = r.metric;
        bestIface = r.iface;
        bestVia = r.via;
      }
    }
    if (bestIface < 0) return null;
    const c = this.#choice;
    c.iface = bestIface;
    c.nextHop = bestVia ?? dst;
    c.prefixLen = bestLen;
    c.metric = bestMetric;
    return c;
  }
}
