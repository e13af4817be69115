/**
 * The routing table: CIDR routes with an optional gateway, longest-prefix match, and the
 * interface's addresses with source address selection.
 *
 * @module
 */

import type { IpAddress, IpCidr, Ipv4Address, Ipv6Address } from "../wire/address.ts";

/**
 * One route: packets for `cidr` go to `via`, or straight to the destination when `via` is `null`
 * (on-link).
 *
 * @example
 * ```ts
 * import { type Route, Routes } from "@smol/net/iface";
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const r: Route = { cidr: IpCidr.parse("0.0.0.0/0"), via: parseIpAddress("192.0.2.1") };
 * const routes = new Routes();
 * routes.add(r);
 * assert.equal(routes.nextHop(parseIpAddress("198.51.100.7"))?.toString(), "192.0.2.1");
 * ```
 */
export interface Route {
  /** The destinations the route covers. */
  readonly cidr: IpCidr;
  /** The gateway, or `null` for an on-link route. */
  readonly via: IpAddress | null;
}

/** Whether the top `bits` bits of `a` and `b` agree. */
function prefixMatch(a: IpAddress, b: IpAddress, bits: number): boolean {
  if (a.version === 4) {
    if (b.version !== 4) return false;
    return bits === 0 || ((a.value ^ b.value) >>> (32 - bits)) === 0;
  }
  if (b.version !== 6) return false;
  return wordMatch(a.w0, b.w0, bits) && wordMatch(a.w1, b.w1, bits - 32) &&
    wordMatch(a.w2, b.w2, bits - 64) && wordMatch(a.w3, b.w3, bits - 96);
}

function wordMatch(x: number, y: number, bits: number): boolean {
  if (bits <= 0) return true;
  if (bits >= 32) return x === y;
  return ((x ^ y) >>> (32 - bits)) === 0;
}

/** The number of leading bits `a` and `b` share (same family). */
function commonPrefixLen(a: IpAddress, b: IpAddress): number {
  if (a.version === 4) return b.version === 4 ? Math.clz32(a.value ^ b.value) : 0;
  if (b.version !== 6) return 0;
  const xs = [a.w0 ^ b.w0, a.w1 ^ b.w1, a.w2 ^ b.w2, a.w3 ^ b.w3];
  let n = 0;
  for (const x of xs) {
    const z = Math.clz32(x);
    n += z;
    if (z < 32) break;
  }
  return n;
}

/**
 * Whether `addr` is inside `cidr` (no allocation, unlike `IpCidr.contains` for IPv6).
 *
 * @param cidr The block.
 * @param addr The address.
 * @returns `true` when inside.
 *
 * @example
 * ```ts
 * import { cidrContains } from "@smol/net/iface";
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(cidrContains(IpCidr.parse("2001:db8::/32"), parseIpAddress("2001:db8::5")), true);
 * assert.equal(cidrContains(IpCidr.parse("2001:db8::/32"), parseIpAddress("2001:db9::5")), false);
 * ```
 */
export function cidrContains(cidr: IpCidr, addr: IpAddress): boolean {
  return prefixMatch(cidr.address, addr, cidr.prefixLen);
}

/**
 * The interface's addresses and routes.
 *
 * @example
 * ```ts
 * import { Routes } from "@smol/net/iface";
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 *
 * const routes = new Routes();
 * routes.addAddress(IpCidr.parse("192.0.2.2/24"));
 * routes.add({ cidr: IpCidr.parse("0.0.0.0/0"), via: parseIpAddress("192.0.2.1") });
 * import assert from "node:assert/strict";
 * assert.equal(routes.nextHop(parseIpAddress("198.51.100.7"))?.toString(), "192.0.2.1");
 * assert.equal(routes.nextHop(parseIpAddress("192.0.2.9"))?.toString(), "192.0.2.9");
 * ```
 */
export class Routes {
  readonly #addresses: IpCidr[] = [];
  readonly #routes: Route[] = [];
  #generation = 0;

  /**
   * A counter bumped by every change of the addresses or routes, so a cache of decisions made
   * from them (the forwarder's) can tell when it is stale.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * const g = r.generation;
   * r.addAddress(IpCidr.parse("192.0.2.1/24"));
   * assert.notEqual(r.generation, g);
   * const g2 = r.generation;
   * r.addAddress(IpCidr.parse("192.0.2.1/24")); // already there: no change
   * assert.equal(r.generation, g2);
   * ```
   */
  get generation(): number {
    return this.#generation;
  }

  /** The interface's addresses with their prefixes. */
  get addresses(): readonly IpCidr[] {
    return this.#addresses;
  }

  /** The configured routes (on-link prefixes of the addresses are implicit). */
  get routes(): readonly Route[] {
    return this.#routes;
  }

  /**
   * Adds an interface address; its prefix becomes on-link.
   *
   * @param cidr The address and prefix.
   * @throws {TypeError} When the address is not unicast.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * r.addAddress(IpCidr.parse("2001:db8::2/64"));
   * assert.equal(r.addresses.length, 1);
   * assert.equal(r.nextHop(parseIpAddress("2001:db8::9"))?.toString(), "2001:db8::9");
   * assert.throws(() => r.addAddress(IpCidr.parse("ff02::1/64")), TypeError);
   * ```
   */
  addAddress(cidr: IpCidr): void {
    if (!cidr.address.isUnicast) throw new TypeError(`Invalid interface address ${cidr}`);
    if (this.hasAddress(cidr.address)) return;
    this.#addresses.push(cidr);
    this.#generation++;
  }

  /**
   * Removes an interface address.
   *
   * @param addr The address.
   * @returns Whether it was present.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * r.addAddress(IpCidr.parse("192.0.2.1/24"));
   * assert.equal(r.removeAddress(parseIpAddress("192.0.2.1")), true);
   * assert.equal(r.removeAddress(parseIpAddress("192.0.2.1")), false);
   * assert.equal(r.hasAddress(parseIpAddress("192.0.2.1")), false);
   * ```
   */
  removeAddress(addr: IpAddress): boolean {
    const i = this.#addresses.findIndex((c) => c.address.equals(addr));
    if (i < 0) return false;
    this.#addresses.splice(i, 1);
    this.#generation++;
    return true;
  }

  /**
   * Adds a route (a default gateway is the route `0.0.0.0/0` or `::/0`).
   *
   * @param route The route.
   * @throws {TypeError} When the gateway's family differs from the block's.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * r.add({ cidr: IpCidr.parse("::/0"), via: parseIpAddress("fe80::1") });
   * assert.equal(r.nextHop(parseIpAddress("2001:db8::5"))?.toString(), "fe80::1");
   * const v4 = { cidr: IpCidr.parse("0.0.0.0/0"), via: parseIpAddress("fe80::1") };
   * assert.throws(() => r.add(v4), TypeError);
   * ```
   */
  add(route: Route): void {
    if (route.via !== null && route.via.version !== route.cidr.address.version) {
      throw new TypeError(`Invalid route ${route.cidr} via ${route.via}: address families differ`);
    }
    this.#routes.push({ cidr: route.cidr.network(), via: route.via });
    this.#generation++;
  }

  /**
   * Removes every route for exactly this block.
   *
   * @param cidr The block.
   * @returns How many routes were removed.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * r.add({ cidr: IpCidr.parse("0.0.0.0/0"), via: parseIpAddress("192.0.2.1") });
   * assert.equal(r.remove(IpCidr.parse("0.0.0.0/0")), 1);
   * assert.equal(r.remove(IpCidr.parse("0.0.0.0/0")), 0);
   * assert.equal(r.nextHop(parseIpAddress("198.51.100.7")), null);
   * ```
   */
  remove(cidr: IpCidr): number {
    const net = cidr.network();
    let n = 0;
    for (let i = this.#routes.length - 1; i >= 0; i--) {
      const r = this.#routes[i]!;
      if (r.cidr.prefixLen === net.prefixLen && r.cidr.address.equals(net.address)) {
        this.#routes.splice(i, 1);
        n++;
      }
    }
    if (n > 0) this.#generation++;
    return n;
  }

  /**
   * Whether `addr` is one of the interface's addresses.
   *
   * @param addr The address.
   * @returns `true` when it is ours.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * r.addAddress(IpCidr.parse("192.0.2.1/24"));
   * assert.equal(r.hasAddress(parseIpAddress("192.0.2.1")), true);
   * assert.equal(r.hasAddress(parseIpAddress("192.0.2.2")), false);
   * ```
   */
  hasAddress(addr: IpAddress): boolean {
    const list = this.#addresses;
    for (let i = 0; i < list.length; i++) if (list[i]!.address.equals(addr)) return true;
    return false;
  }

  /**
   * Whether `addr` is the subnet-directed broadcast address of one of our IPv4 prefixes.
   *
   * @param addr An IPv4 address.
   * @returns `true` for a subnet broadcast.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, Ipv4Address } from "@smol/net/wire";
   * const r = new Routes();
   * r.addAddress(IpCidr.parse("192.0.2.2/24"));
   * import assert from "node:assert/strict";
   * assert.equal(r.isSubnetBroadcast(Ipv4Address.parse("192.0.2.255")), true);
   * assert.equal(r.isSubnetBroadcast(Ipv4Address.parse("198.51.100.255")), false);
   * ```
   */
  isSubnetBroadcast(addr: Ipv4Address): boolean {
    const list = this.#addresses;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.address.version !== 4 || c.prefixLen > 30) continue;
      const host = c.prefixLen === 0 ? 0xffffffff : (0xffffffff >>> c.prefixLen);
      if (((c.address.value ^ addr.value) & ~host) === 0 && (addr.value & host) === host) {
        return true;
      }
    }
    return false;
  }

  /**
   * The next hop for `dst` by longest-prefix match over the on-link prefixes and the routes.
   *
   * @param dst The destination.
   * @returns `dst` itself when on-link, the gateway, or `null` when unreachable.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * assert.equal(r.nextHop(parseIpAddress("192.0.2.1")), null);
   * r.addAddress(IpCidr.parse("192.0.2.2/24"));
   * r.add({ cidr: IpCidr.parse("198.51.100.0/24"), via: parseIpAddress("192.0.2.254") });
   * assert.equal(r.nextHop(parseIpAddress("192.0.2.1"))?.toString(), "192.0.2.1");
   * assert.equal(r.nextHop(parseIpAddress("198.51.100.9"))?.toString(), "192.0.2.254");
   * ```
   */
  nextHop(dst: IpAddress): IpAddress | null {
    if (dst.version === 4 ? dst.isBroadcast || dst.isMulticast : dst.isMulticast) return dst;
    if (dst.version === 6 && dst.isLinkLocal) return dst;
    let best = -1;
    let hop: IpAddress | null = null;
    const addrs = this.#addresses;
    for (let i = 0; i < addrs.length; i++) {
      const c = addrs[i]!;
      if (c.prefixLen > best && prefixMatch(c.address, dst, c.prefixLen)) {
        best = c.prefixLen;
        hop = dst;
      }
    }
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.cidr.prefixLen > best && prefixMatch(r.cidr.address, dst, r.cidr.prefixLen)) {
        best = r.cidr.prefixLen;
        hop = r.via ?? dst;
      }
    }
    return hop;
  }

  /**
   * The source address for packets to `dst`: an address whose prefix holds the next hop, else
   * one of the same scope with the longest common prefix (RFC 6724 §5, rules 2 and 8, simplified).
   *
   * @param dst The destination.
   * @returns The source address, or `null` when the interface has no address of that family.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr, parseIpAddress } from "@smol/net/wire";
   * const r = new Routes();
   * r.addAddress(IpCidr.parse("fe80::2/64"));
   * r.addAddress(IpCidr.parse("2001:db8::2/64"));
   * import assert from "node:assert/strict";
   * assert.equal(r.sourceFor(parseIpAddress("2001:db8::9"))?.toString(), "2001:db8::2");
   * assert.equal(r.sourceFor(parseIpAddress("fe80::9"))?.toString(), "fe80::2");
   * assert.equal(r.sourceFor(parseIpAddress("192.0.2.1")), null);
   * ```
   */
  sourceFor(dst: IpAddress): IpAddress | null {
    const addrs = this.#addresses;
    const hop = this.nextHop(dst) ?? dst;
    let best: IpAddress | null = null;
    let bestScore = -1;
    const dstLinkLocal = dst.version === 6 &&
      (dst.isLinkLocal || dst.isMulticast && (dst.w0 >>> 16 & 0xf) <= 2);
    for (let i = 0; i < addrs.length; i++) {
      const c = addrs[i]!;
      const a = c.address;
      if (a.version !== dst.version) continue;
      let score = 0;
      if (a.equals(dst)) score += 1 << 20;
      if (prefixMatch(a, hop, c.prefixLen)) score += 1 << 19;
      if (a.version === 6 && a.isLinkLocal === dstLinkLocal) score += 1 << 18;
      score += commonPrefixLen(a, dst);
      if (score > bestScore) {
        bestScore = score;
        best = a;
      }
    }
    return best;
  }

  /**
   * The first IPv4 address of the interface.
   *
   * @returns The address, or `null`.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * assert.equal(r.ipv4(), null);
   * r.addAddress(IpCidr.parse("2001:db8::2/64"));
   * r.addAddress(IpCidr.parse("192.0.2.2/24"));
   * assert.equal(r.ipv4()?.toString(), "192.0.2.2");
   * ```
   */
  ipv4(): Ipv4Address | null {
    for (const c of this.#addresses) if (c.address.version === 4) return c.address;
    return null;
  }

  /**
   * The interface's link-local IPv6 address, else its first IPv6 address.
   *
   * @returns The address, or `null`.
   *
   * @example
   * ```ts
   * import { Routes } from "@smol/net/iface";
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Routes();
   * assert.equal(r.ipv6LinkLocal(), null);
   * r.addAddress(IpCidr.parse("2001:db8::2/64"));
   * assert.equal(r.ipv6LinkLocal()?.toString(), "2001:db8::2");
   * r.addAddress(IpCidr.parse("fe80::2/64"));
   * assert.equal(r.ipv6LinkLocal()?.toString(), "fe80::2");
   * ```
   */
  ipv6LinkLocal(): Ipv6Address | null {
    let any: Ipv6Address | null = null;
    for (const c of this.#addresses) {
      if (c.address.version !== 6) continue;
      if (c.address.isLinkLocal) return c.address;
      any ??= c.address;
    }
    return any;
  }
}
