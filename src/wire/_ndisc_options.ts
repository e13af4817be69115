/**
 * Neighbor Discovery options (RFC 4861 §4.6, RFC 8106 §5): the option types, the prefix
 * information, RDNSS and DNSSL data, and the codecs that walk, validate, size and write the
 * source/target link-layer address (Ethernet, RFC 2464 §8), prefix information, MTU,
 * redirected header, RDNSS and DNSSL options. Internal to ndisc.ts, which re-exports the public
 * names.
 *
 * @module
 */

import { EthernetAddress, Ipv6Address } from "./address.ts";
import { WireError } from "./error.ts";

/** Offsets inside an option. */
const OPTION = {
  TYPE: 0,
  LENGTH: 1,
  LINK_ADDR: 2,
  /** MTU and redirected header options: reserved bytes after the length. */
  RESERVED: 2,
  PREFIX_LEN: 2,
  PREFIX_FLAGS: 3,
  VALID_LIFETIME: 4,
  PREFERRED_LIFETIME: 8,
  PREFIX_RESERVED: 12,
  PREFIX: 16,
  MTU: 4,
  /** Redirected header: 6 reserved bytes, then the packet. */
  REDIRECTED_DATA: 8,
  /** RDNSS (RFC 8106 §5.1): 2 reserved bytes, the lifetime, then the addresses. */
  RDNSS_LIFETIME: 4,
  RDNSS_ADDRESSES: 8,
} as const;

const PREFIX_FLAG_ON_LINK = 0x80;
const PREFIX_FLAG_AUTONOMOUS = 0x40;
/** Options are counted in units of 8 bytes (RFC 4861 §4.6). */
const UNIT = 8;
const LINK_ADDR_OPTION_LEN = 8;
export const PREFIX_OPTION_LEN = 32;
export const MTU_OPTION_LEN = 8;
/** RFC 8106 §5.1: 8 bytes of header, 16 per address, so an odd length of at least 3 units. */
const RDNSS_HEADER_LEN = 8;
/** The RDNSS option type (RFC 8106 §5.1), outside RFC 4861's {@linkcode NdiscOptionType}. */
const RDNSS_OPTION = 25;
/** The DNS search list option type (RFC 8106 §5.2). */
const DNSSL_OPTION = 31;

/**
 * Neighbor Discovery option types (RFC 4861 §4.6). Other option types are skipped on parse.
 *
 * @example
 * ```ts
 * import { NdiscOptionType } from "@smol/net/wire";
 * console.log(NdiscOptionType.SourceLinkAddr, NdiscOptionType.PrefixInfo); // 1 3
 * ```
 */
export const NdiscOptionType = {
  /** Source link-layer address (§4.6.1). */
  SourceLinkAddr: 1,
  /** Target link-layer address (§4.6.1). */
  TargetLinkAddr: 2,
  /** Prefix information (§4.6.2). */
  PrefixInfo: 3,
  /** Redirected header (§4.6.3). */
  RedirectedHeader: 4,
  /** MTU (§4.6.4). */
  Mtu: 5,
} as const;

/**
 * One of the named {@linkcode NdiscOptionType} values.
 *
 * @example
 * ```ts
 * import { NdiscOptionType } from "@smol/net/wire";
 * const t: NdiscOptionType = NdiscOptionType.Mtu;
 * console.log(t); // 5
 * ```
 */
export type NdiscOptionType = typeof NdiscOptionType[keyof typeof NdiscOptionType];

/**
 * A prefix information option of a router advertisement (RFC 4861 §4.6.2). Lifetimes are in
 * seconds; 0xffffffff means infinity. Whether to use the prefix (RFC 4862 §5.5.3: preferred not
 * above valid, not link-local) is the interface's decision.
 *
 * @example
 * ```ts
 * import { Ipv6Address, type PrefixInfo } from "@smol/net/wire";
 * const p: PrefixInfo = {
 *   prefixLen: 64, onLink: true, autonomous: true,
 *   validLifetime: 86400, preferredLifetime: 14400, prefix: Ipv6Address.parse("2001:db8:b::"),
 * };
 * console.log(`${p.prefix}/${p.prefixLen}`); // 2001:db8:b::/64
 * ```
 */
export interface PrefixInfo {
  /** Number of leading bits of `prefix` that are valid, 0–128. */
  readonly prefixLen: number;
  /** L flag: the prefix can be used for on-link determination. */
  readonly onLink: boolean;
  /** A flag: the prefix can be used for stateless address autoconfiguration. */
  readonly autonomous: boolean;
  /** Valid lifetime in seconds (0xffffffff: infinity). */
  readonly validLifetime: number;
  /** Preferred lifetime in seconds (0xffffffff: infinity). */
  readonly preferredLifetime: number;
  /** The prefix (bits past `prefixLen` are as sent). */
  readonly prefix: Ipv6Address;
}

/**
 * A recursive DNS server option of a router advertisement (RFC 8106 §5.1): the servers and how
 * long, in seconds, they may be used (0xffffffff: infinity; 0: stop using them).
 *
 * @example
 * ```ts
 * import { Ipv6Address, type RdnssInfo } from "@smol/net/wire";
 * const r: RdnssInfo = { lifetime: 1800, servers: [Ipv6Address.parse("2001:db8::53")] };
 * console.log(r.servers.length); // 1
 * ```
 */
export interface RdnssInfo {
  /** Lifetime in seconds (0xffffffff: infinity, 0: withdrawn). */
  readonly lifetime: number;
  /** The servers' addresses, at least one. */
  readonly servers: readonly Ipv6Address[];
}

/**
 * A DNS search list option of a router advertisement (RFC 8106 §5.2): domain names (without
 * the trailing dot) and how long, in seconds, they may be used (0xffffffff: infinity; 0: stop).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DnsslInfo } from "@smol/net/wire";
 * const d: DnsslInfo = { lifetime: 1800, domains: ["example.net"] };
 * assert.equal(d.domains.length, 1);
 * ```
 */
export interface DnsslInfo {
  /** Lifetime in seconds (0xffffffff: infinity, 0: withdrawn). */
  readonly lifetime: number;
  /** The domains, at least one, each of ASCII labels of 1–63 bytes. */
  readonly domains: readonly string[];
}

/** The options of one message that the message type uses. Allocated per parse. */
export interface Options {
  sourceLinkAddr: EthernetAddress | null;
  targetLinkAddr: EthernetAddress | null;
  mtu: number | null;
  prefixes: PrefixInfo[];
  redirectedHeader: Uint8Array | null;
  rdnss: RdnssInfo[];
  dnssl: DnsslInfo[];
}

/** Bits naming which option types a message uses. */
export const USE_SLLA = 1 << NdiscOptionType.SourceLinkAddr;
export const USE_TLLA = 1 << NdiscOptionType.TargetLinkAddr;
export const USE_PREFIX = 1 << NdiscOptionType.PrefixInfo;
export const USE_REDIRECTED = 1 << NdiscOptionType.RedirectedHeader;
export const USE_MTU = 1 << NdiscOptionType.Mtu;
export const USE_RDNSS = 1 << RDNSS_OPTION;
export const USE_DNSSL = 1 << DNSSL_OPTION;

/**
 * Walks the options from `start` to the end of `b`, validating every option's length
 * (RFC 4861 §4.6: non-zero, within the message) and decoding the types in `use`. The first
 * occurrence of a single-valued option wins.
 */
export function parseOptions(b: Uint8Array, start: number, use: number): Options {
  const out: Options = {
    sourceLinkAddr: null,
    targetLinkAddr: null,
    mtu: null,
    prefixes: [],
    redirectedHeader: null,
    rdnss: [],
    dnssl: [],
  };
  let o = start;
  while (o < b.length) {
    if (b.length - o < 2) {
      throw new WireError("ndisc.option.length", b.length - o, "option header truncated");
    }
    const type = b[o + OPTION.TYPE]!;
    const units = b[o + OPTION.LENGTH]!;
    if (units === 0) {
      throw new WireError("ndisc.option.length", 0, `option type ${type} has length 0`);
    }
    const len = units * UNIT;
    if (o + len > b.length) {
      throw new WireError(
        "ndisc.option.length",
        units,
        `option type ${type} runs past the end of the message`,
      );
    }
    if (type < 32 && (use & (1 << type)) !== 0) {
      switch (type) {
        case NdiscOptionType.SourceLinkAddr:
        case NdiscOptionType.TargetLinkAddr: {
          // RFC 2464 §8: on Ethernet the option is exactly 8 bytes.
          if (len !== LINK_ADDR_OPTION_LEN) {
            throw new WireError(
              "ndisc.option.length",
              units,
              "Ethernet link-layer address option must have length 1",
            );
          }
          const addr = EthernetAddress.fromBytes(b, o + OPTION.LINK_ADDR);
          if (type === NdiscOptionType.SourceLinkAddr) out.sourceLinkAddr ??= addr;
          else out.targetLinkAddr ??= addr;
          break;
        }
        case NdiscOptionType.PrefixInfo:
          if (len !== PREFIX_OPTION_LEN) {
            throw new WireError("ndisc.option.length", units, "prefix option must have length 4");
          }
          out.prefixes.push(parsePrefix(b, o));
          break;
        case NdiscOptionType.Mtu:
          if (len !== MTU_OPTION_LEN) {
            throw new WireError("ndisc.option.length", units, "MTU option must have length 1");
          }
          out.mtu ??= readU32(b, o + OPTION.MTU);
          break;
        case NdiscOptionType.RedirectedHeader:
          out.redirectedHeader ??= b.subarray(o + OPTION.REDIRECTED_DATA, o + len);
          break;
        case RDNSS_OPTION:
          out.rdnss.push(parseRdnss(b, o, units));
          break;
        case DNSSL_OPTION:
          out.dnssl.push(parseDnssl(b, o, len));
          break;
      }
    }
    o += len;
  }
  return out;
}

/** RFC 8106 §5.1: an odd length of at least 3 units, one address per two units after the first. */
export function parseRdnss(b: Uint8Array, o: number, units: number): RdnssInfo {
  if (units < 3 || units % 2 === 0) {
    throw new WireError("ndisc.option.length", units, "RDNSS option length must be odd and >= 3");
  }
  const servers: Ipv6Address[] = [];
  for (let a = o + OPTION.RDNSS_ADDRESSES; a < o + units * UNIT; a += 16) {
    servers.push(Ipv6Address.fromBytes(b, a));
  }
  return { lifetime: readU32(b, o + OPTION.RDNSS_LIFETIME), servers };
}

export function parsePrefix(b: Uint8Array, o: number): PrefixInfo {
  const prefixLen = b[o + OPTION.PREFIX_LEN]!;
  if (prefixLen > 128) {
    throw new WireError("ndisc.prefixLen", prefixLen, "prefix length above 128");
  }
  const flags = b[o + OPTION.PREFIX_FLAGS]!;
  return {
    prefixLen,
    onLink: (flags & PREFIX_FLAG_ON_LINK) !== 0,
    autonomous: (flags & PREFIX_FLAG_AUTONOMOUS) !== 0,
    validLifetime: readU32(b, o + OPTION.VALID_LIFETIME),
    preferredLifetime: readU32(b, o + OPTION.PREFERRED_LIFETIME),
    prefix: Ipv6Address.fromBytes(b, o + OPTION.PREFIX),
  };
}

/**
 * RFC 8106 §5.2: domain names in uncompressed DNS form (RFC 1035 §3.1), then zero padding. A
 * zero byte where a name would start is padding: the rest of the option is ignored.
 */
export function parseDnssl(b: Uint8Array, o: number, len: number): DnsslInfo {
  if (len < 16) {
    throw new WireError("ndisc.option.length", len / UNIT, "DNSSL option below 2 units");
  }
  const end = o + len;
  const domains: string[] = [];
  let p = o + RDNSS_HEADER_LEN;
  while (p < end && b[p] !== 0) {
    const labels: string[] = [];
    let nameLen = 0;
    for (;;) {
      if (p >= end) throw new WireError("ndisc.dnssl", p - o, "domain name runs past the option");
      const n = b[p]!;
      if (n === 0) break;
      nameLen += n + 1;
      if (n > 63 || nameLen > 254 || p + 1 + n > end) {
        throw new WireError("ndisc.dnssl", n, "bad label length");
      }
      let label = "";
      for (let i = p + 1; i <= p + n; i++) {
        const c = b[i]!;
        if (c <= 0x20 || c >= 0x7f || c === 0x2e) {
          throw new WireError("ndisc.dnssl", c, "label byte is not printable ASCII");
        }
        label += String.fromCharCode(c);
      }
      labels.push(label);
      p += 1 + n;
    }
    p++;
    domains.push(labels.join("."));
  }
  if (domains.length === 0) throw new WireError("ndisc.dnssl", 0, "DNSSL option without a domain");
  return { lifetime: readU32(b, o + OPTION.RDNSS_LIFETIME), domains };
}

/** The bytes of `domains` in DNS form, without padding. */
function dnsslNamesLen(domains: readonly string[]): number {
  let n = 0;
  for (const d of domains) n += d.length + 2;
  return n;
}

export function dnsslLen(dnssl: readonly DnsslInfo[] | undefined): number {
  let n = 0;
  for (const d of dnssl ?? []) {
    n += Math.ceil((RDNSS_HEADER_LEN + dnsslNamesLen(d.domains)) / UNIT) * UNIT;
  }
  return n;
}

export function rdnssLen(rdnss: readonly RdnssInfo[] | undefined): number {
  let n = 0;
  for (const r of rdnss ?? []) n += RDNSS_HEADER_LEN + 16 * r.servers.length;
  return n;
}

export function linkAddrLen(addr: EthernetAddress | null): number {
  return addr === null ? 0 : LINK_ADDR_OPTION_LEN;
}

export function redirectedOptionLen(data: Uint8Array | null): number {
  if (data === null) return 0;
  return Math.ceil((OPTION.REDIRECTED_DATA + data.length) / UNIT) * UNIT;
}

/** Writes an MTU option at `o` (RFC 4861 §4.6.4); returns the next offset. */
export function writeMtu(b: Uint8Array, o: number, mtu: number): number {
  b[o + OPTION.TYPE] = NdiscOptionType.Mtu;
  b[o + OPTION.LENGTH] = MTU_OPTION_LEN / UNIT;
  b[o + OPTION.RESERVED] = 0;
  b[o + OPTION.RESERVED + 1] = 0;
  writeU32(b, o + OPTION.MTU, mtu);
  return o + MTU_OPTION_LEN;
}

/** Writes a prefix information option at `o` (RFC 4861 §4.6.2); returns the next offset. */
export function writePrefix(b: Uint8Array, o: number, p: PrefixInfo): number {
  b[o + OPTION.TYPE] = NdiscOptionType.PrefixInfo;
  b[o + OPTION.LENGTH] = PREFIX_OPTION_LEN / UNIT;
  b[o + OPTION.PREFIX_LEN] = p.prefixLen;
  b[o + OPTION.PREFIX_FLAGS] = (p.onLink ? PREFIX_FLAG_ON_LINK : 0) |
    (p.autonomous ? PREFIX_FLAG_AUTONOMOUS : 0);
  writeU32(b, o + OPTION.VALID_LIFETIME, p.validLifetime);
  writeU32(b, o + OPTION.PREFERRED_LIFETIME, p.preferredLifetime);
  writeU32(b, o + OPTION.PREFIX_RESERVED, 0);
  p.prefix.writeTo(b, o + OPTION.PREFIX);
  return o + PREFIX_OPTION_LEN;
}

/** Writes an RDNSS option at `o` (RFC 8106 §5.1); returns the next offset. */
export function writeRdnss(b: Uint8Array, o: number, r: RdnssInfo): number {
  const n = r.servers.length;
  if (n === 0 || n > 127) {
    throw new RangeError(`Invalid RDNSS option with ${n} servers: must be 1 to 127`);
  }
  b[o + OPTION.TYPE] = RDNSS_OPTION;
  b[o + OPTION.LENGTH] = 1 + 2 * n;
  b[o + OPTION.RESERVED] = 0;
  b[o + OPTION.RESERVED + 1] = 0;
  writeU32(b, o + OPTION.RDNSS_LIFETIME, r.lifetime);
  for (let i = 0; i < n; i++) r.servers[i]!.writeTo(b, o + OPTION.RDNSS_ADDRESSES + 16 * i);
  return o + RDNSS_HEADER_LEN + 16 * n;
}

/** Writes a redirected header option holding `data` at `o` (RFC 4861 §4.6.3). */
export function writeRedirected(b: Uint8Array, o: number, data: Uint8Array): void {
  const optLen = redirectedOptionLen(data);
  if (optLen > 255 * UNIT) {
    throw new RangeError(`Redirected header of ${data.length} bytes does not fit an option`);
  }
  b[o + OPTION.TYPE] = NdiscOptionType.RedirectedHeader;
  b[o + OPTION.LENGTH] = optLen / UNIT;
  b.fill(0, o + OPTION.RESERVED, o + OPTION.REDIRECTED_DATA);
  b.set(data, o + OPTION.REDIRECTED_DATA);
  b.fill(0, o + OPTION.REDIRECTED_DATA + data.length, o + optLen);
}

/** Writes a DNSSL option at `o` (RFC 8106 §5.2); returns the next offset. */
export function writeDnssl(b: Uint8Array, o: number, d: DnsslInfo): number {
  const len = Math.ceil((RDNSS_HEADER_LEN + dnsslNamesLen(d.domains)) / UNIT) * UNIT;
  if (d.domains.length === 0 || len > 255 * UNIT) {
    throw new RangeError(`Invalid DNSSL option with ${d.domains.length} domains of ${len} bytes`);
  }
  b[o + OPTION.TYPE] = DNSSL_OPTION;
  b[o + OPTION.LENGTH] = len / UNIT;
  b[o + OPTION.RESERVED] = 0;
  b[o + OPTION.RESERVED + 1] = 0;
  writeU32(b, o + OPTION.RDNSS_LIFETIME, d.lifetime);
  let p = o + RDNSS_HEADER_LEN;
  for (const domain of d.domains) {
    for (const label of domain.split(".")) {
      if (label.length === 0 || label.length > 63 || !/^[\x21-\x2d\x2f-\x7e]+$/.test(label)) {
        throw new RangeError(`Invalid DNSSL domain "${domain}"`);
      }
      b[p++] = label.length;
      for (let i = 0; i < label.length; i++) b[p++] = label.charCodeAt(i);
    }
    b[p++] = 0;
  }
  b.fill(0, p, o + len);
  return o + len;
}

/** Writes a link-layer address option at `o` when `addr` is set; returns the next offset. */
export function writeLinkAddr(
  b: Uint8Array,
  o: number,
  type: number,
  addr: EthernetAddress | null,
): number {
  if (addr === null) return o;
  b[o + OPTION.TYPE] = type;
  b[o + OPTION.LENGTH] = LINK_ADDR_OPTION_LEN / UNIT;
  addr.writeTo(b, o + OPTION.LINK_ADDR);
  return o + LINK_ADDR_OPTION_LEN;
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
