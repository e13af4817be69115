/**
 * NPTv6, IPv6-to-IPv6 network prefix translation (RFC 6296), on a forwarder port: stateless and
 * one-to-one. A packet from another interface that leaves through the port with a source in the
 * inside prefix takes the outside prefix; a packet arriving on the port for an address in the
 * outside prefix takes the inside prefix and is forwarded inside. The mapping is
 * checksum-neutral (RFC 6296 §3.1): besides the prefix, one 16-bit word of the address moves by
 * the one's-complement difference of the two prefixes, so the address sums to what it did, and no
 * TCP, UDP or ICMPv6 checksum changes. For a /48 or shorter prefix that word is the subnet word
 * (bits 48–63, §3.5); for a longer one, up to /64, it is the first word of the interface
 * identifier (words 4–7) that is not 0xffff (§3.6). An address whose chosen word is 0xffff (or,
 * past /48, whose identifier is all ones) has no image that maps back and is a counted drop.
 * ICMPv6 errors carry the packet they are about: its address on the translated side is mapped
 * too (again with no checksum to update). Prefixes of the same length (no zero-extension of a
 * shorter one), /1 to /64. Internal to the iface folder; the option is {@linkcode NptOptions} on
 * `ForwardPortOptions.npt`.
 *
 * @module
 */

import { IpCidr } from "../wire/cidr.ts";
import { Ipv6Address } from "../wire/address.ts";
import { IpProtocol } from "../wire/ip.ts";

/**
 * NPTv6 on a forwarder port (RFC 6296): `inside` is the prefix the hosts behind the router use,
 * `outside` the one the world sees. Same length, /1 to /64 (RFC 6296 §3.5–3.6).
 *
 * @example
 * ```ts
 * import { Forwarder, Interface, type NptOptions } from "@smol/net/iface";
 * import { Loopback } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const npt: NptOptions = { inside: "fd00:1:2:3300::/56", outside: "2001:db8:5:a00::/56" };
 * const fwd = new Forwarder();
 * fwd.attach(new Interface({ addresses: ["2001:db8:2::1/64"] }), new Loopback(), { npt });
 * assert.throws(
 *   () => fwd.attach(new Interface(), new Loopback(), { npt: { inside: "fd00::/48", outside: "2001:db8::/56" } }),
 *   RangeError,
 * );
 * ```
 */
export interface NptOptions {
  /** The inside prefix (for example a ULA, `fd00:1::/48`). */
  readonly inside: string | IpCidr;
  /** The outside prefix, routed to this router. */
  readonly outside: string | IpCidr;
}

/** One's-complement 16-bit sum (RFC 1071), 0xffff kept as is. */
function add16(a: number, b: number): number {
  const s = a + b;
  return (s & 0xffff) + (s >>> 16);
}

function read16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** The 16-byte network address of an IPv6 prefix given as text or a CIDR. */
function prefixOf(name: string, v: string | IpCidr): { bytes: Uint8Array; len: number } {
  const c = typeof v === "string" ? IpCidr.parse(v) : v;
  if (!(c instanceof IpCidr) || c.address.version !== 6) {
    throw new TypeError(`Invalid NPTv6 ${name} prefix: expected an IPv6 CIDR`);
  }
  const a = c.network().address as Ipv6Address;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, a.w0);
  view.setUint32(4, a.w1);
  view.setUint32(8, a.w2);
  view.setUint32(12, a.w3);
  return { bytes, len: c.prefixLen };
}

/** Offsets in an IPv6 header (RFC 8200) and in an ICMPv6 error's quote (RFC 4443). */
const SRC = 8, DST = 24, NEXT_HEADER = 6, HEADER = 40, QUOTE = HEADER + 8;
/** The subnet word of a /48 or shorter prefix: bytes 6–7 of the address (RFC 6296 §3.5). */
const SUBNET = 6;
/** The interface identifier: bytes 8–15, whose first word not 0xffff takes the adjustment past /48. */
const IID = 8, END = 16;

/** A compiled NPTv6 mapping; rewrites addresses in place. */
export class Npt {
  /** The inside prefix. */
  readonly inside: IpCidr;
  /** The outside prefix. */
  readonly outside: IpCidr;
  readonly #in: Uint8Array;
  readonly #out: Uint8Array;
  readonly #len: number;
  /** What the adjusted word gains inside→outside: sum(inside) − sum(outside), one's complement. */
  readonly #adjust: number;

  constructor(o: NptOptions) {
    if (typeof o !== "object" || o === null) throw new TypeError("Invalid NPTv6 options");
    const a = prefixOf("inside", o.inside), b = prefixOf("outside", o.outside);
    if (a.len !== b.len || a.len > 64 || a.len === 0) {
      throw new RangeError(
        `Invalid NPTv6 prefixes /${a.len} and /${b.len}: expected the same length, /1 to /64`,
      );
    }
    this.#in = a.bytes;
    this.#out = b.bytes;
    this.#len = a.len;
    this.inside = IpCidr.parse(`${Ipv6Address.fromBytes(a.bytes)}/${a.len}`);
    this.outside = IpCidr.parse(`${Ipv6Address.fromBytes(b.bytes)}/${b.len}`);
    let sin = 0, sout = 0;
    // The network addresses are zero past the prefix, so summing the first 64 bits sums the prefix.
    for (let i = 0; i < IID; i += 2) {
      sin = add16(sin, read16(a.bytes, i));
      sout = add16(sout, read16(b.bytes, i));
    }
    this.#adjust = add16(sin, ~sout & 0xffff);
  }

  /** Whether the address at `at` in `b` is in the inside (`inside`) or outside prefix. */
  matches(b: Uint8Array, at: number, inside: boolean): boolean {
    const p = inside ? this.#in : this.#out;
    const len = this.#len, full = len >>> 3;
    for (let i = 0; i < full; i++) if (b[at + i] !== p[i]) return false;
    const bits = len & 7;
    if (bits === 0) return true;
    const mask = (0xff << (8 - bits)) & 0xff;
    return (b[at + full]! & mask) === p[full];
  }

  /**
   * Maps the address at `at` in `b` to the other prefix (inside→outside when `toOutside`):
   * `false`, and nothing written, when the word that takes the adjustment is 0xffff (up to /48
   * the subnet word; past /48 every word of the interface identifier), which has no
   * checksum-neutral image that maps back (0xffff and 0 are the same one's-complement number).
   * Past /48 the adjusted word never becomes 0xffff, so the reverse mapping picks the same word.
   */
  map(b: Uint8Array, at: number, toOutside: boolean): boolean {
    const len = this.#len;
    let s = at + SUBNET;
    if (len > 48) {
      s = at + IID;
      while (s < at + END && b[s] === 0xff && b[s + 1] === 0xff) s += 2;
      if (s === at + END) return false;
    }
    const word = read16(b, s);
    if (word === 0xffff) return false;
    const p = toOutside ? this.#out : this.#in;
    const full = len >>> 3;
    for (let i = 0; i < full; i++) b[at + i] = p[i]!;
    const bits = len & 7;
    if (bits !== 0) {
      const mask = (0xff << (8 - bits)) & 0xff;
      b[at + full] = (b[at + full]! & ~mask) | p[full]!;
    }
    let w = add16(word, toOutside ? this.#adjust : ~this.#adjust & 0xffff);
    if (w === 0xffff) w = 0;
    b[s] = w >>> 8;
    b[s + 1] = w;
    return true;
  }

  /**
   * Outbound: maps the source of IPv6 packet `p` (and, in an ICMPv6 error, the destination of
   * the packet it quotes) to the outside prefix. `null` when the source is not inside (the
   * packet goes on untranslated), `false` when it cannot be mapped (drop), `true` when mapped.
   */
  outbound(p: Uint8Array): boolean | null {
    if (!this.matches(p, SRC, true)) return null;
    if (isIcmpv6Error(p) && this.matches(p, QUOTE + DST, true)) {
      if (!this.map(p, QUOTE + DST, true)) return false;
    }
    return this.map(p, SRC, true);
  }

  /**
   * Inbound: maps the destination of IPv6 packet `p` (and, in an ICMPv6 error, the source of
   * the packet it quotes) to the inside prefix. Same results as {@linkcode Npt.outbound}.
   */
  inbound(p: Uint8Array): boolean | null {
    if (!this.matches(p, DST, false)) return null;
    if (isIcmpv6Error(p) && this.matches(p, QUOTE + SRC, false)) {
      if (!this.map(p, QUOTE + SRC, false)) return false;
    }
    return this.map(p, DST, false);
  }

  /** Undoes {@linkcode Npt.inbound} on `p` (before an ICMPv6 error quotes it as it arrived). */
  undoInbound(p: Uint8Array): void {
    if (isIcmpv6Error(p) && this.matches(p, QUOTE + SRC, true)) this.map(p, QUOTE + SRC, true);
    this.map(p, DST, true);
  }
}

/** An ICMPv6 error message (types 1–127, RFC 4443 §2.1) right after the IPv6 header, with a quote. */
function isIcmpv6Error(p: Uint8Array): boolean {
  return p[NEXT_HEADER] === IpProtocol.Icmpv6 && p.length >= QUOTE + HEADER &&
    p[HEADER]! < 128 && p[QUOTE]! >>> 4 === 6;
}
