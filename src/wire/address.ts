/**
 * Address types: {@linkcode EthernetAddress}, {@linkcode Ipv4Address}, {@linkcode Ipv6Address},
 * CIDR blocks and endpoints, with parsing and formatting (RFC 5952 for IPv6).
 *
 * Addresses are small immutable values held in plain numbers (one 32-bit word for IPv4, four for
 * IPv6, two for Ethernet), so comparing and hashing them never allocates.
 *
 * @module
 */

import { mix, readU32, writeU32 } from "./_bytes.ts";
import type { EthernetAddress } from "./mac.ts";

/** The two most recent results of `Ipv4Address.fromBytes` (see there). */
let recent4a: Ipv4Address | null = null;
let recent4b: Ipv4Address | null = null;

/**
 * An IPv4 address held as one unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const a = Ipv4Address.parse("192.0.2.1");
 * assert.equal(a.value, 0xc0000201);
 * assert.equal(a.toString(), "192.0.2.1");
 * ```
 */
export class Ipv4Address {
  /** Always 4: lets `IpAddress` be narrowed by `version`. */
  readonly version: 4 = 4;
  /** The address as an unsigned 32-bit number in host order (192.0.2.1 is 0xc0000201). */
  readonly value: number;

  /** 0.0.0.0. */
  static readonly UNSPECIFIED: Ipv4Address = new Ipv4Address(0);
  /** 255.255.255.255. */
  static readonly BROADCAST: Ipv4Address = new Ipv4Address(0xffffffff);

  /**
   * Creates an address from its 32-bit value.
   *
   * @param value The address as a number; taken modulo 2^32.
   */
  constructor(value: number) {
    this.value = value >>> 0;
  }

  /**
   * Reads four octets at `offset`.
   *
   * @param bytes Source buffer.
   * @param offset Where the address starts.
   * @returns The address.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv4Address.fromBytes(new Uint8Array([192, 0, 2, 1])).toString(), "192.0.2.1");
   * ```
   */
  static fromBytes(bytes: Uint8Array, offset = 0): Ipv4Address {
    // Addresses are immutable: the two most recent distinct ones are handed out again, so
    // per-packet parsing of a flow's source and destination allocates nothing.
    const v = readU32(bytes, offset);
    const r0 = recent4a;
    if (r0 !== null && r0.value === v) return r0;
    const r1 = recent4b;
    if (r1 !== null && r1.value === v) return r1;
    const a = new Ipv4Address(v);
    recent4b = r0;
    recent4a = a;
    return a;
  }

  /**
   * Parses dotted-decimal text (four decimal octets, no leading zeros beyond a single `0`).
   *
   * @param text The textual form.
   * @returns The address.
   * @throws {TypeError} When the text is not an IPv4 address.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv4Address.parse("198.51.100.7").toString(), "198.51.100.7");
   * ```
   */
  static parse(text: string): Ipv4Address {
    const v = parseIpv4Value(text);
    if (v === undefined) throw new TypeError(`Invalid IPv4 address "${text}"`);
    return new Ipv4Address(v);
  }

  /**
   * Writes the four octets at `offset`.
   *
   * @param bytes Destination buffer.
   * @param offset Where to write.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(4);
   * Ipv4Address.parse("192.0.2.1").writeTo(b, 0);
   * assert.equal(b[0], 192);
   * ```
   */
  writeTo(bytes: Uint8Array, offset: number): void {
    writeU32(bytes, offset, this.value);
  }

  /**
   * The four octets as a new array.
   *
   * @returns A fresh `Uint8Array` of length 4.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.deepEqual([...Ipv4Address.BROADCAST.octets()], [255, 255, 255, 255]);
   * ```
   */
  octets(): Uint8Array {
    const b = new Uint8Array(4);
    this.writeTo(b, 0);
    return b;
  }

  /** Whether this is 0.0.0.0. */
  get isUnspecified(): boolean {
    return this.value === 0;
  }
  /** Whether this is the limited broadcast 255.255.255.255. */
  get isBroadcast(): boolean {
    return this.value === 0xffffffff;
  }
  /** Whether this is in 224.0.0.0/4. */
  get isMulticast(): boolean {
    return this.value >>> 28 === 0xe;
  }
  /** Whether this is in 127.0.0.0/8. */
  get isLoopback(): boolean {
    return this.value >>> 24 === 127;
  }
  /** Whether this is in 169.254.0.0/16. */
  get isLinkLocal(): boolean {
    return this.value >>> 16 === 0xa9fe;
  }
  /** Whether this can be a unicast source or destination (not unspecified, broadcast or multicast). */
  get isUnicast(): boolean {
    return !(this.isUnspecified || this.isBroadcast || this.isMulticast);
  }

  /**
   * Value equality; an IPv6 address is never equal.
   *
   * @param other The address to compare.
   * @returns `true` when both are IPv4 and hold the same value.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv4Address.parse("192.0.2.1").equals(new Ipv4Address(0xc0000201)), true);
   * ```
   */
  equals(other: IpAddress): boolean {
    return other.version === 4 && other.value === this.value;
  }

  /**
   * A 32-bit hash for hash tables (no allocation).
   *
   * @returns The hash.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(typeof Ipv4Address.parse("192.0.2.1").hash(), "number");
   * ```
   */
  hash(): number {
    return mix(0x811c9dc5, this.value);
  }

  /**
   * Dotted-decimal form.
   *
   * @returns For example `192.0.2.1`.
   *
   * @example
   * ```ts
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(`${new Ipv4Address(0x7f000001)}`, "127.0.0.1");
   * ```
   */
  toString(): string {
    const v = this.value;
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
}

function parseIpv4Value(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v * 256) + n;
  }
  return v;
}

/**
 * An IPv6 address held as four unsigned 32-bit words (`w0` is the most significant).
 *
 * @example
 * ```ts
 * import { Ipv6Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const a = Ipv6Address.parse("2001:DB8:0:0:0:0:0:1");
 * assert.equal(a.toString(), "2001:db8::1");
 * ```
 */
export class Ipv6Address {
  /** Always 6: lets `IpAddress` be narrowed by `version`. */
  readonly version: 6 = 6;
  /** Bits 0–31. */
  readonly w0: number;
  /** Bits 32–63. */
  readonly w1: number;
  /** Bits 64–95. */
  readonly w2: number;
  /** Bits 96–127. */
  readonly w3: number;

  /** `::`. */
  static readonly UNSPECIFIED: Ipv6Address = new Ipv6Address(0, 0, 0, 0);
  /** `::1`. */
  static readonly LOOPBACK: Ipv6Address = new Ipv6Address(0, 0, 0, 1);
  /** `ff02::1`, all nodes on the link. */
  static readonly LINK_LOCAL_ALL_NODES: Ipv6Address = new Ipv6Address(0xff020000, 0, 0, 1);
  /** `ff02::2`, all routers on the link. */
  static readonly LINK_LOCAL_ALL_ROUTERS: Ipv6Address = new Ipv6Address(0xff020000, 0, 0, 2);
  /** `ff02::16`, all MLDv2-capable routers. */
  static readonly LINK_LOCAL_ALL_MLDV2_ROUTERS: Ipv6Address = new Ipv6Address(
    0xff020000,
    0,
    0,
    0x16,
  );

  /**
   * Creates an address from its four words.
   *
   * @param w0 Bits 0–31.
   * @param w1 Bits 32–63.
   * @param w2 Bits 64–95.
   * @param w3 Bits 96–127.
   */
  constructor(w0: number, w1: number, w2: number, w3: number) {
    this.w0 = w0 >>> 0;
    this.w1 = w1 >>> 0;
    this.w2 = w2 >>> 0;
    this.w3 = w3 >>> 0;
  }

  /**
   * Reads sixteen octets at `offset`.
   *
   * @param bytes Source buffer.
   * @param offset Where the address starts.
   * @returns The address.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(16); b[15] = 1;
   * assert.equal(Ipv6Address.fromBytes(b).toString(), "::1");
   * ```
   */
  static fromBytes(bytes: Uint8Array, offset = 0): Ipv6Address {
    return new Ipv6Address(
      readU32(bytes, offset),
      readU32(bytes, offset + 4),
      readU32(bytes, offset + 8),
      readU32(bytes, offset + 12),
    );
  }

  /**
   * Parses RFC 4291 text: hex groups, one `::`, and an optional dotted IPv4 tail.
   *
   * @param text The textual form (no brackets, no zone).
   * @returns The address.
   * @throws {TypeError} When the text is not an IPv6 address.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv6Address.parse("::ffff:192.0.2.1").toString(), "::ffff:192.0.2.1");
   * ```
   */
  static parse(text: string): Ipv6Address {
    const g = parseIpv6Groups(text);
    if (g === undefined) throw new TypeError(`Invalid IPv6 address "${text}"`);
    return new Ipv6Address(
      (g[0]! << 16) | g[1]!,
      (g[2]! << 16) | g[3]!,
      (g[4]! << 16) | g[5]!,
      (g[6]! << 16) | g[7]!,
    );
  }

  /**
   * The solicited-node multicast address `ff02::1:ffXX:XXXX` for `target` (RFC 4291 §2.7.1).
   *
   * @param target A unicast address.
   * @returns Its solicited-node group.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv6Address.solicitedNode(Ipv6Address.parse("2001:db8::2")).toString(), "ff02::1:ff00:2");
   * ```
   */
  static solicitedNode(target: Ipv6Address): Ipv6Address {
    return new Ipv6Address(0xff020000, 0, 1, 0xff000000 | (target.w3 & 0xffffff));
  }

  /**
   * The link-local address `fe80::/64` with an EUI-64 interface identifier from `mac`
   * (RFC 4291 appendix A).
   *
   * @param mac The hardware address.
   * @returns The link-local address.
   *
   * @example
   * ```ts
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const ll = Ipv6Address.linkLocalFromMac(EthernetAddress.parse("02:00:00:00:00:01"));
   * assert.equal(ll.toString(), "fe80::ff:fe00:1");
   * ```
   */
  static linkLocalFromMac(mac: EthernetAddress): Ipv6Address {
    const hi = mac.hi ^ 0x0200;
    const w2 = ((hi << 16) | ((mac.lo >>> 24) << 8) | 0xff) >>> 0;
    const w3 = (0xfe000000 | (mac.lo & 0xffffff)) >>> 0;
    return new Ipv6Address(0xfe800000, 0, w2, w3);
  }

  /**
   * Writes the sixteen octets at `offset`.
   *
   * @param bytes Destination buffer.
   * @param offset Where to write.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(16);
   * Ipv6Address.LOOPBACK.writeTo(b, 0);
   * assert.equal(b[15], 1);
   * ```
   */
  writeTo(bytes: Uint8Array, offset: number): void {
    writeU32(bytes, offset, this.w0);
    writeU32(bytes, offset + 4, this.w1);
    writeU32(bytes, offset + 8, this.w2);
    writeU32(bytes, offset + 12, this.w3);
  }

  /**
   * The sixteen octets as a new array.
   *
   * @returns A fresh `Uint8Array` of length 16.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv6Address.LOOPBACK.octets().length, 16);
   * ```
   */
  octets(): Uint8Array {
    const b = new Uint8Array(16);
    this.writeTo(b, 0);
    return b;
  }

  /** Whether this is `::`. */
  get isUnspecified(): boolean {
    return (this.w0 | this.w1 | this.w2 | this.w3) === 0;
  }
  /** Whether this is `::1`. */
  get isLoopback(): boolean {
    return (this.w0 | this.w1 | this.w2) === 0 && this.w3 === 1;
  }
  /** Whether this is in `ff00::/8`. */
  get isMulticast(): boolean {
    return this.w0 >>> 24 === 0xff;
  }
  /** Whether this is in `fe80::/10`. */
  get isLinkLocal(): boolean {
    return this.w0 >>> 22 === 0x3fa;
  }
  /** Whether this is an IPv4-mapped address `::ffff:a.b.c.d`. */
  get isIpv4Mapped(): boolean {
    return this.w0 === 0 && this.w1 === 0 && this.w2 === 0xffff;
  }
  /** Whether this can be a unicast address (not unspecified and not multicast). */
  get isUnicast(): boolean {
    return !(this.isUnspecified || this.isMulticast);
  }
  /** Whether this is a solicited-node multicast address `ff02::1:ff00:0/104`. */
  get isSolicitedNode(): boolean {
    return this.w0 === 0xff020000 && this.w1 === 0 && this.w2 === 1 && this.w3 >>> 24 === 0xff;
  }

  /**
   * Value equality; an IPv4 address is never equal.
   *
   * @param other The address to compare.
   * @returns `true` when both are IPv6 and hold the same 128 bits.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv6Address.parse("::1").equals(Ipv6Address.LOOPBACK), true);
   * ```
   */
  equals(other: IpAddress): boolean {
    return other.version === 6 && other.w0 === this.w0 && other.w1 === this.w1 &&
      other.w2 === this.w2 && other.w3 === this.w3;
  }

  /**
   * A 32-bit hash for hash tables (no allocation).
   *
   * @returns The hash.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(typeof Ipv6Address.LOOPBACK.hash(), "number");
   * ```
   */
  hash(): number {
    return mix(mix(mix(mix(0x811c9dc5, this.w0), this.w1), this.w2), this.w3);
  }

  /**
   * RFC 5952 canonical text: lower case, no leading zeros, the longest run (two groups or more,
   * the first on a tie) of zero groups as `::`, IPv4-mapped addresses with a dotted tail.
   *
   * @returns The canonical form.
   *
   * @example
   * ```ts
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(Ipv6Address.parse("2001:0db8:0:0:1:0:0:1").toString(), "2001:db8::1:0:0:1");
   * ```
   */
  toString(): string {
    if (this.isIpv4Mapped) return `::ffff:${new Ipv4Address(this.w3)}`;
    const g = [
      this.w0 >>> 16,
      this.w0 & 0xffff,
      this.w1 >>> 16,
      this.w1 & 0xffff,
      this.w2 >>> 16,
      this.w2 & 0xffff,
      this.w3 >>> 16,
      this.w3 & 0xffff,
    ];
    let bestStart = -1, bestLen = 1;
    for (let i = 0; i < 8;) {
      if (g[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
    if (bestStart < 0) return hex(g);
    return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
  }
}

function parseIpv6Groups(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const dbl = text.indexOf("::");
  if (dbl !== -1 && text.indexOf("::", dbl + 1) !== -1) return undefined;
  const parseSide = (s: string, allowV4Tail: boolean): number[] | undefined => {
    if (s === "") return [];
    const parts = s.split(":");
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4Tail && i === parts.length - 1 && p.includes(".")) {
        const v = parseIpv4Value(p);
        if (v === undefined) return undefined;
        out.push(v >>> 16, v & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (dbl === -1) {
    const g = parseSide(text, true);
    return g && g.length === 8 ? g : undefined;
  }
  const head = parseSide(text.slice(0, dbl), false);
  const tail = parseSide(text.slice(dbl + 2), true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * Either IP version; narrow with `addr.version`.
 *
 * @example
 * ```ts
 * import { type IpAddress, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a: IpAddress = parseIpAddress("2001:db8::1");
 * assert.equal(a.version, 6);
 * ```
 */
export type IpAddress = Ipv4Address | Ipv6Address;

/**
 * Parses an IPv4 or IPv6 address; IPv6 may be written in brackets (`[2001:db8::1]`).
 *
 * @param text The textual form.
 * @returns The address.
 * @throws {TypeError} When the text is neither.
 *
 * @example
 * ```ts
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(parseIpAddress("192.0.2.1").version, 4);
 * assert.equal(parseIpAddress("[::1]").version, 6);
 * ```
 */
export function parseIpAddress(text: string): IpAddress {
  if (text.startsWith("[") && text.endsWith("]")) return Ipv6Address.parse(text.slice(1, -1));
  if (text.includes(":")) return Ipv6Address.parse(text);
  return Ipv4Address.parse(text);
}

export { EthernetAddress } from "./mac.ts";
export { formatEndpoint, IpCidr, type IpEndpoint } from "./cidr.ts";
