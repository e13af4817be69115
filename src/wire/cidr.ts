/**
 * {@linkcode IpCidr} blocks and {@linkcode IpEndpoint}s.
 *
 * @module
 */

import { type IpAddress, Ipv4Address, Ipv6Address, parseIpAddress } from "./address.ts";

/**
 * An address with a prefix length: a host address on a subnet (`192.0.2.2/24`), or a route.
 *
 * @example
 * ```ts
 * import { IpCidr, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const cidr = IpCidr.parse("192.0.2.2/24");
 * assert.equal(cidr.contains(parseIpAddress("192.0.2.200")), true);
 * assert.equal(cidr.network().toString(), "192.0.2.0/24");
 * ```
 */
export class IpCidr {
  /** The address (a host address or a network address). */
  readonly address: IpAddress;
  /** The prefix length, 0–32 for IPv4 and 0–128 for IPv6. */
  readonly prefixLen: number;

  /**
   * Creates a CIDR block.
   *
   * @param address The address.
   * @param prefixLen The prefix length.
   * @throws {RangeError} When the prefix length does not fit the address family.
   */
  constructor(address: IpAddress, prefixLen: number) {
    const max = address.version === 4 ? 32 : 128;
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
      throw new RangeError(`Invalid prefix length ${prefixLen} for IPv${address.version}`);
    }
    this.address = address;
    this.prefixLen = prefixLen;
  }

  /**
   * Parses `address/prefix`; an address without a prefix gets /32 or /128.
   *
   * @param text The textual form.
   * @returns The block.
   * @throws {TypeError} When the text is malformed.
   *
   * @example
   * ```ts
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(IpCidr.parse("2001:db8::2/64").toString(), "2001:db8::2/64");
   * ```
   */
  static parse(text: string): IpCidr {
    const slash = text.indexOf("/");
    const address = parseIpAddress(slash === -1 ? text : text.slice(0, slash));
    const max = address.version === 4 ? 32 : 128;
    if (slash === -1) return new IpCidr(address, max);
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) {
      throw new TypeError(`Invalid CIDR "${text}": prefix must be 0 to ${max}`);
    }
    return new IpCidr(address, Number(p));
  }

  /**
   * Whether `addr` is inside this block (same family, same leading `prefixLen` bits).
   *
   * @param addr The address to test.
   * @returns `true` when inside.
   *
   * @example
   * ```ts
   * import { IpCidr, Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(IpCidr.parse("198.51.100.0/24").contains(Ipv4Address.parse("198.51.101.1")), false);
   * ```
   */
  contains(addr: IpAddress): boolean {
    const a = this.address;
    if (a.version === 4) {
      if (addr.version !== 4) return false;
      return ((a.value ^ addr.value) & prefixMask32(this.prefixLen)) === 0;
    }
    if (addr.version !== 6) return false;
    const words = [a.w0 ^ addr.w0, a.w1 ^ addr.w1, a.w2 ^ addr.w2, a.w3 ^ addr.w3];
    let bits = this.prefixLen;
    for (const w of words) {
      if (bits <= 0) return true;
      if ((w & prefixMask32(Math.min(bits, 32))) !== 0) return false;
      bits -= 32;
    }
    return true;
  }

  /**
   * The block with host bits cleared.
   *
   * @returns The network block.
   *
   * @example
   * ```ts
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(IpCidr.parse("2001:db8::2/64").network().toString(), "2001:db8::/64");
   * ```
   */
  network(): IpCidr {
    const a = this.address;
    if (a.version === 4) {
      return new IpCidr(new Ipv4Address(a.value & prefixMask32(this.prefixLen)), this.prefixLen);
    }
    const m = (i: number) => prefixMask32(Math.max(0, Math.min(32, this.prefixLen - 32 * i)));
    return new IpCidr(
      new Ipv6Address(a.w0 & m(0), a.w1 & m(1), a.w2 & m(2), a.w3 & m(3)),
      this.prefixLen,
    );
  }

  /**
   * The subnet-directed broadcast address (IPv4 only, prefixes up to /30).
   *
   * @returns The broadcast address, or `undefined` for IPv6 and /31–/32.
   *
   * @example
   * ```ts
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(IpCidr.parse("192.0.2.2/24").broadcast()?.toString(), "192.0.2.255");
   * ```
   */
  broadcast(): Ipv4Address | undefined {
    const a = this.address;
    if (a.version !== 4 || this.prefixLen > 30) return undefined;
    return new Ipv4Address(a.value | ~prefixMask32(this.prefixLen));
  }

  /**
   * `address/prefix`.
   *
   * @returns The textual form.
   *
   * @example
   * ```ts
   * import { IpCidr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(`${IpCidr.parse("192.0.2.1")}`, "192.0.2.1/32");
   * ```
   */
  toString(): string {
    return `${this.address}/${this.prefixLen}`;
  }
}

/** A 32-bit mask with the top `bits` bits set. */
function prefixMask32(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * An address and a port.
 *
 * @example
 * ```ts
 * import { type IpEndpoint, formatEndpoint, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const ep: IpEndpoint = { addr: parseIpAddress("2001:db8::1"), port: 80 };
 * assert.equal(formatEndpoint(ep), "[2001:db8::1]:80");
 * ```
 */
export interface IpEndpoint {
  /** The address. */
  readonly addr: IpAddress;
  /** The port, 0–65535. */
  readonly port: number;
}

/**
 * `addr:port`, with IPv6 addresses in brackets.
 *
 * @param ep The endpoint.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatEndpoint, Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(formatEndpoint({ addr: Ipv4Address.parse("192.0.2.1"), port: 80 }), "192.0.2.1:80");
 * ```
 */
export function formatEndpoint(ep: IpEndpoint): string {
  return ep.addr.version === 6 ? `[${ep.addr}]:${ep.port}` : `${ep.addr}:${ep.port}`;
}
