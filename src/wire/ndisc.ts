/**
 * Neighbor Discovery for IPv6 (RFC 4861): router and neighbor solicitations and advertisements
 * and redirects, with the source/target link-layer address (Ethernet, RFC 2464 §8), prefix
 * information, MTU and redirected header options, and recursive DNS servers (RFC 8106 §5.1).
 *
 * These messages are ICMPv6 messages: {@linkcode parseNdisc} and {@linkcode emitNdisc} work on
 * an {@linkcode Icmpv6Packet} and are normally reached through `parseIcmpv6` / `emitIcmpv6`, which
 * verify and fill the checksum.
 *
 * What parsing validates (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1): code 0, the fixed
 * length, every option of non-zero length within the message, the known options' sizes, a
 * target that is not multicast (NS, NA), no source link-layer option from the unspecified
 * address and a solicited-node destination for such an NS, the solicited flag clear on an NA to
 * a multicast address, a link-local source for RA and redirect, and a redirect's destination
 * and target. What it cannot see is the IP hop limit, which must be 255: the interface checks
 * it with {@linkcode ndiscHopLimitValid}. Unknown options, and known options a message does not
 * use, are skipped.
 *
 * @module
 */

import { EthernetAddress, Ipv6Address } from "./address.ts";
import { requireLength, WireError } from "./error.ts";
import type { Icmpv6Packet } from "./icmpv6.ts";

/** Offsets inside the ICMPv6 message. */
const FIELD = {
  TYPE: 0,
  CODE: 1,
  /** RS, NS, NA, redirect: 4 reserved bytes (NA: flags in the first). */
  RESERVED: 4,
  RA_HOP_LIMIT: 4,
  RA_FLAGS: 5,
  RA_ROUTER_LIFETIME: 6,
  RA_REACHABLE_TIME: 8,
  RA_RETRANS_TIME: 12,
  NA_FLAGS: 4,
  TARGET: 8,
  REDIRECT_DESTINATION: 24,
  RS_OPTIONS: 8,
  RA_OPTIONS: 16,
  NS_OPTIONS: 24,
  NA_OPTIONS: 24,
  REDIRECT_OPTIONS: 40,
} as const;

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

/** The ICMPv6 types of this file (the {@linkcode Icmpv6Type} values). */
const TYPE = {
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
  REDIRECT: 137,
} as const;

const RA_FLAG_MANAGED = 0x80;
const RA_FLAG_OTHER = 0x40;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;
const PREFIX_FLAG_ON_LINK = 0x80;
const PREFIX_FLAG_AUTONOMOUS = 0x40;
/** Options are counted in units of 8 bytes (RFC 4861 §4.6). */
const UNIT = 8;
const LINK_ADDR_OPTION_LEN = 8;
const PREFIX_OPTION_LEN = 32;
const MTU_OPTION_LEN = 8;
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

/**
 * A Neighbor Discovery message as plain data, discriminated by `kind`. Link-layer addresses are
 * `null` when the option is absent.
 *
 * @example
 * ```ts
 * import { EthernetAddress, Ipv6Address, type NdiscRepr } from "@smol/net/wire";
 * const ns: NdiscRepr = {
 *   kind: "neighborSolicit",
 *   target: Ipv6Address.parse("2001:db8:b::2"),
 *   sourceLinkAddr: EthernetAddress.parse("02:00:00:00:b1:01"),
 * };
 * console.log(ns.kind); // neighborSolicit
 * ```
 */
export type NdiscRepr =
  | {
    readonly kind: "routerSolicit";
    /** Source link-layer address option (must be absent when the IP source is `::`). */
    readonly sourceLinkAddr: EthernetAddress | null;
  }
  | {
    readonly kind: "routerAdvert";
    /** Cur Hop Limit for outgoing packets, 0 = unspecified. */
    readonly hopLimit: number;
    /** M flag: addresses are available via DHCPv6. */
    readonly managed: boolean;
    /** O flag: other configuration is available via DHCPv6. */
    readonly other: boolean;
    /** Router lifetime in seconds, 0 = not a default router. */
    readonly routerLifetime: number;
    /** Reachable time in milliseconds, 0 = unspecified. */
    readonly reachableTime: number;
    /** Retransmission timer in milliseconds, 0 = unspecified. */
    readonly retransTime: number;
    /** Source link-layer address option. */
    readonly sourceLinkAddr: EthernetAddress | null;
    /** MTU option, or `null`. */
    readonly mtu: number | null;
    /** Prefix information options, in order. */
    readonly prefixes: readonly PrefixInfo[];
    /** Recursive DNS server options, in order (absent: none). */
    readonly rdnss?: readonly RdnssInfo[];
    /** DNS search list options, in order (absent: none). */
    readonly dnssl?: readonly DnsslInfo[];
  }
  | {
    readonly kind: "neighborSolicit";
    /** The address being resolved or checked (never multicast). */
    readonly target: Ipv6Address;
    /** Source link-layer address option (must be absent when the IP source is `::`). */
    readonly sourceLinkAddr: EthernetAddress | null;
  }
  | {
    readonly kind: "neighborAdvert";
    /** R flag: the sender is a router. */
    readonly router: boolean;
    /** S flag: sent in response to a solicitation. */
    readonly solicited: boolean;
    /** O flag: override an existing cache entry. */
    readonly override: boolean;
    /** The advertised address (never multicast). */
    readonly target: Ipv6Address;
    /** Target link-layer address option. */
    readonly targetLinkAddr: EthernetAddress | null;
  }
  | {
    readonly kind: "redirect";
    /** The better first hop: a link-local router address, or `destination` itself. */
    readonly target: Ipv6Address;
    /** The destination being redirected (never multicast). */
    readonly destination: Ipv6Address;
    /** Target link-layer address option. */
    readonly targetLinkAddr: EthernetAddress | null;
    /**
     * The redirected header option's data: the start of the packet that caused the redirect,
     * including the option's zero padding to 8 bytes; `null` when absent.
     */
    readonly redirectedHeader: Uint8Array | null;
  };

/**
 * Whether an IPv6 hop limit is valid for a received Neighbor Discovery message: it must be 255,
 * proving the sender is on-link (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1). The wire
 * parser cannot see the IP header, so the interface calls this before acting on an `ndisc`
 * message.
 *
 * @param hopLimit The hop limit of the IPv6 header that carried the message.
 * @returns `true` for 255.
 *
 * @example
 * ```ts
 * import { ndiscHopLimitValid } from "@smol/net/wire";
 * console.log(ndiscHopLimitValid(255), ndiscHopLimitValid(64)); // true false
 * ```
 */
export function ndiscHopLimitValid(hopLimit: number): boolean {
  return hopLimit === 255;
}

/** The options of one message that the message type uses. Allocated per parse. */
interface Options {
  sourceLinkAddr: EthernetAddress | null;
  targetLinkAddr: EthernetAddress | null;
  mtu: number | null;
  prefixes: PrefixInfo[];
  redirectedHeader: Uint8Array | null;
  rdnss: RdnssInfo[];
  dnssl: DnsslInfo[];
}

/** Bits naming which option types a message uses. */
const USE_SLLA = 1 << NdiscOptionType.SourceLinkAddr;
const USE_TLLA = 1 << NdiscOptionType.TargetLinkAddr;
const USE_PREFIX = 1 << NdiscOptionType.PrefixInfo;
const USE_REDIRECTED = 1 << NdiscOptionType.RedirectedHeader;
const USE_MTU = 1 << NdiscOptionType.Mtu;
const USE_RDNSS = 1 << RDNSS_OPTION;
const USE_DNSSL = 1 << DNSSL_OPTION;

/**
 * Walks the options from `start` to the end of `b`, validating every option's length
 * (RFC 4861 §4.6: non-zero, within the message) and decoding the types in `use`. The first
 * occurrence of a single-valued option wins.
 */
function parseOptions(b: Uint8Array, start: number, use: number): Options {
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
function parseRdnss(b: Uint8Array, o: number, units: number): RdnssInfo {
  if (units < 3 || units % 2 === 0) {
    throw new WireError("ndisc.option.length", units, "RDNSS option length must be odd and >= 3");
  }
  const servers: Ipv6Address[] = [];
  for (let a = o + OPTION.RDNSS_ADDRESSES; a < o + units * UNIT; a += 16) {
    servers.push(Ipv6Address.fromBytes(b, a));
  }
  return { lifetime: readU32(b, o + OPTION.RDNSS_LIFETIME), servers };
}

function parsePrefix(b: Uint8Array, o: number): PrefixInfo {
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
 * Validates a Neighbor Discovery message (ICMPv6 types 133–137) and returns it as a repr. The
 * checksum is not verified here: {@linkcode parseIcmpv6} does that before calling this.
 *
 * @param packet The ICMPv6 message.
 * @param src The IPv6 source address (RFC 4861 checks depend on it).
 * @param dst The IPv6 destination address.
 * @returns The message.
 * @throws {WireError} When the message is not a valid Neighbor Discovery message (see the module
 * documentation for the checks).
 *
 * @example
 * ```ts
 * import { Icmpv6Packet, Ipv6Address, parseNdisc } from "@smol/net/wire";
 * // A router solicitation from fe80::1 with a source link-layer address option.
 * const rs = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1]);
 * const src = Ipv6Address.parse("fe80::1");
 * const repr = parseNdisc(new Icmpv6Packet(rs), src, Ipv6Address.LINK_LOCAL_ALL_ROUTERS);
 * if (repr.kind === "routerSolicit") console.log(String(repr.sourceLinkAddr)); // 02:00:00:00:00:01
 * ```
 */
export function parseNdisc(packet: Icmpv6Packet, src: Ipv6Address, dst: Ipv6Address): NdiscRepr {
  const b = packet.buffer;
  requireLength("ndisc", b, FIELD.RS_OPTIONS);
  const type = b[FIELD.TYPE]!;
  const code = b[FIELD.CODE]!;
  if (code !== 0) throw new WireError("ndisc.code", code, "code must be 0");
  switch (type) {
    case TYPE.ROUTER_SOLICIT: {
      const opts = parseOptions(b, FIELD.RS_OPTIONS, USE_SLLA);
      checkNoSllaFromUnspecified(src, opts);
      return { kind: "routerSolicit", sourceLinkAddr: opts.sourceLinkAddr };
    }
    case TYPE.ROUTER_ADVERT: {
      requireLength("ndisc", b, FIELD.RA_OPTIONS);
      checkLinkLocalSource(src, "router advertisement");
      const opts = parseOptions(
        b,
        FIELD.RA_OPTIONS,
        USE_SLLA | USE_MTU | USE_PREFIX | USE_RDNSS | USE_DNSSL,
      );
      const flags = b[FIELD.RA_FLAGS]!;
      return {
        kind: "routerAdvert",
        hopLimit: b[FIELD.RA_HOP_LIMIT]!,
        managed: (flags & RA_FLAG_MANAGED) !== 0,
        other: (flags & RA_FLAG_OTHER) !== 0,
        routerLifetime: (b[FIELD.RA_ROUTER_LIFETIME]! << 8) | b[FIELD.RA_ROUTER_LIFETIME + 1]!,
        reachableTime: readU32(b, FIELD.RA_REACHABLE_TIME),
        retransTime: readU32(b, FIELD.RA_RETRANS_TIME),
        sourceLinkAddr: opts.sourceLinkAddr,
        mtu: opts.mtu,
        prefixes: opts.prefixes,
        ...(opts.rdnss.length > 0 ? { rdnss: opts.rdnss } : {}),
        ...(opts.dnssl.length > 0 ? { dnssl: opts.dnssl } : {}),
      };
    }
    case TYPE.NEIGHBOR_SOLICIT: {
      requireLength("ndisc", b, FIELD.NS_OPTIONS);
      const target = readTarget(b);
      const opts = parseOptions(b, FIELD.NS_OPTIONS, USE_SLLA);
      if (src.isUnspecified && !dst.isSolicitedNode) {
        // RFC 4861 §7.1.1: DAD probes go to the solicited-node group.
        throw new WireError(
          "ndisc.destination",
          dst.w0 >>> 16,
          "DAD solicitation not sent to a solicited-node group",
        );
      }
      checkNoSllaFromUnspecified(src, opts);
      return { kind: "neighborSolicit", target, sourceLinkAddr: opts.sourceLinkAddr };
    }
    case TYPE.NEIGHBOR_ADVERT: {
      requireLength("ndisc", b, FIELD.NA_OPTIONS);
      const target = readTarget(b);
      const flags = b[FIELD.NA_FLAGS]!;
      const solicited = (flags & NA_FLAG_SOLICITED) !== 0;
      if (solicited && dst.isMulticast) {
        // RFC 4861 §7.1.2.
        throw new WireError(
          "ndisc.flags",
          flags,
          "solicited advertisement sent to a multicast address",
        );
      }
      const opts = parseOptions(b, FIELD.NA_OPTIONS, USE_TLLA);
      return {
        kind: "neighborAdvert",
        router: (flags & NA_FLAG_ROUTER) !== 0,
        solicited,
        override: (flags & NA_FLAG_OVERRIDE) !== 0,
        target,
        targetLinkAddr: opts.targetLinkAddr,
      };
    }
    case TYPE.REDIRECT: {
      requireLength("ndisc", b, FIELD.REDIRECT_OPTIONS);
      checkLinkLocalSource(src, "redirect");
      const target = Ipv6Address.fromBytes(b, FIELD.TARGET);
      const destination = Ipv6Address.fromBytes(b, FIELD.REDIRECT_DESTINATION);
      // RFC 4861 §8.1.
      if (destination.isMulticast) {
        throw new WireError(
          "ndisc.destination",
          destination.w0 >>> 16,
          "redirect for a multicast destination",
        );
      }
      if (!target.isLinkLocal && !target.equals(destination)) {
        throw new WireError(
          "ndisc.target",
          target.w0 >>> 16,
          "redirect target is neither link-local nor the destination",
        );
      }
      const opts = parseOptions(b, FIELD.REDIRECT_OPTIONS, USE_TLLA | USE_REDIRECTED);
      return {
        kind: "redirect",
        target,
        destination,
        targetLinkAddr: opts.targetLinkAddr,
        redirectedHeader: opts.redirectedHeader,
      };
    }
  }
  throw new WireError("ndisc.type", type, "not a Neighbor Discovery message type");
}

/** The target of an NS or NA, which must not be multicast (RFC 4861 §7.1.1, §7.1.2). */
function readTarget(b: Uint8Array): Ipv6Address {
  const target = Ipv6Address.fromBytes(b, FIELD.TARGET);
  if (target.isMulticast) {
    throw new WireError("ndisc.target", target.w0 >>> 16, "target address is multicast");
  }
  return target;
}

/** RFC 4861 §6.1.1, §7.1.1: no source link-layer option when the IP source is `::`. */
function checkNoSllaFromUnspecified(src: Ipv6Address, opts: Options): void {
  if (src.isUnspecified && opts.sourceLinkAddr !== null) {
    throw new WireError(
      "ndisc.option.type",
      NdiscOptionType.SourceLinkAddr,
      "source link-layer address option from the unspecified address",
    );
  }
}

/** RFC 4861 §6.1.2, §8.1: router advertisements and redirects come from link-local addresses. */
function checkLinkLocalSource(src: Ipv6Address, what: string): void {
  if (!src.isLinkLocal) {
    throw new WireError("ndisc.source", src.w0 >>> 16, `${what} from a non-link-local address`);
  }
}

/**
 * Bytes needed to emit `repr` as an ICMPv6 message (fixed part plus options).
 *
 * @param repr The message.
 * @returns The ICMPv6 message length.
 *
 * @example
 * ```ts
 * import { EthernetAddress, ndiscBufferLen } from "@smol/net/wire";
 * const rs = { kind: "routerSolicit", sourceLinkAddr: EthernetAddress.ZERO } as const;
 * console.log(ndiscBufferLen(rs)); // 16
 * ```
 */
export function ndiscBufferLen(repr: NdiscRepr): number {
  switch (repr.kind) {
    case "routerSolicit":
      return FIELD.RS_OPTIONS + linkAddrLen(repr.sourceLinkAddr);
    case "routerAdvert":
      return FIELD.RA_OPTIONS + linkAddrLen(repr.sourceLinkAddr) +
        (repr.mtu === null ? 0 : MTU_OPTION_LEN) + repr.prefixes.length * PREFIX_OPTION_LEN +
        rdnssLen(repr.rdnss) + dnsslLen(repr.dnssl);
    case "neighborSolicit":
      return FIELD.NS_OPTIONS + linkAddrLen(repr.sourceLinkAddr);
    case "neighborAdvert":
      return FIELD.NA_OPTIONS + linkAddrLen(repr.targetLinkAddr);
    case "redirect":
      return FIELD.REDIRECT_OPTIONS + linkAddrLen(repr.targetLinkAddr) +
        redirectedOptionLen(repr.redirectedHeader);
  }
}

/**
 * RFC 8106 §5.2: domain names in uncompressed DNS form (RFC 1035 §3.1), then zero padding. A
 * zero byte where a name would start is padding: the rest of the option is ignored.
 */
function parseDnssl(b: Uint8Array, o: number, len: number): DnsslInfo {
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

function dnsslLen(dnssl: readonly DnsslInfo[] | undefined): number {
  let n = 0;
  for (const d of dnssl ?? []) {
    n += Math.ceil((RDNSS_HEADER_LEN + dnsslNamesLen(d.domains)) / UNIT) * UNIT;
  }
  return n;
}

function rdnssLen(rdnss: readonly RdnssInfo[] | undefined): number {
  let n = 0;
  for (const r of rdnss ?? []) n += RDNSS_HEADER_LEN + 16 * r.servers.length;
  return n;
}

function linkAddrLen(addr: EthernetAddress | null): number {
  return addr === null ? 0 : LINK_ADDR_OPTION_LEN;
}

function redirectedOptionLen(data: Uint8Array | null): number {
  if (data === null) return 0;
  return Math.ceil((OPTION.REDIRECTED_DATA + data.length) / UNIT) * UNIT;
}

/**
 * Writes `repr` into `packet` (type, code, body and options; reserved bytes and padding zeroed)
 * without the checksum: {@linkcode emitIcmpv6} calls this and then fills it. Options are written
 * in the order link-layer address, MTU, prefixes, RDNSS, DNSSL, redirected header.
 *
 * @param repr The message.
 * @param packet The ICMPv6 view, at least {@linkcode ndiscBufferLen} bytes.
 * @throws {RangeError} When the buffer is too short, a redirected header is too long for
 * an option (more than 2032 bytes), an RDNSS option has no server or more than 127, or a DNSSL
 * option has no domain, a label that is empty, longer than 63 bytes or not printable ASCII, or
 * more than 2040 bytes of names.
 *
 * @example
 * ```ts
 * import {
 *   emitNdisc,
 *   Icmpv6Packet,
 *   Ipv6Address,
 *   ndiscBufferLen,
 *   type NdiscRepr,
 * } from "@smol/net/wire";
 * const na: NdiscRepr = {
 *   kind: "neighborAdvert", router: false, solicited: true, override: false,
 *   target: Ipv6Address.parse("2001:db8:b::1"), targetLinkAddr: null,
 * };
 * const p = new Icmpv6Packet(new Uint8Array(ndiscBufferLen(na)));
 * emitNdisc(na, p);
 * console.log(p.msgType, p.buffer[4]); // 136 64
 * ```
 */
export function emitNdisc(repr: NdiscRepr, packet: Icmpv6Packet): void {
  const b = packet.buffer;
  const len = ndiscBufferLen(repr);
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes cannot hold a ${len}-byte NDP message`);
  }
  b[FIELD.CODE] = 0;
  writeU32(b, FIELD.RESERVED, 0);
  switch (repr.kind) {
    case "routerSolicit":
      b[FIELD.TYPE] = TYPE.ROUTER_SOLICIT;
      writeLinkAddr(b, FIELD.RS_OPTIONS, NdiscOptionType.SourceLinkAddr, repr.sourceLinkAddr);
      return;
    case "routerAdvert": {
      b[FIELD.TYPE] = TYPE.ROUTER_ADVERT;
      b[FIELD.RA_HOP_LIMIT] = repr.hopLimit;
      b[FIELD.RA_FLAGS] = (repr.managed ? RA_FLAG_MANAGED : 0) | (repr.other ? RA_FLAG_OTHER : 0);
      b[FIELD.RA_ROUTER_LIFETIME] = repr.routerLifetime >>> 8;
      b[FIELD.RA_ROUTER_LIFETIME + 1] = repr.routerLifetime;
      writeU32(b, FIELD.RA_REACHABLE_TIME, repr.reachableTime);
      writeU32(b, FIELD.RA_RETRANS_TIME, repr.retransTime);
      let o = writeLinkAddr(
        b,
        FIELD.RA_OPTIONS,
        NdiscOptionType.SourceLinkAddr,
        repr.sourceLinkAddr,
      );
      if (repr.mtu !== null) {
        b[o + OPTION.TYPE] = NdiscOptionType.Mtu;
        b[o + OPTION.LENGTH] = MTU_OPTION_LEN / UNIT;
        b[o + OPTION.RESERVED] = 0;
        b[o + OPTION.RESERVED + 1] = 0;
        writeU32(b, o + OPTION.MTU, repr.mtu);
        o += MTU_OPTION_LEN;
      }
      for (const p of repr.prefixes) {
        b[o + OPTION.TYPE] = NdiscOptionType.PrefixInfo;
        b[o + OPTION.LENGTH] = PREFIX_OPTION_LEN / UNIT;
        b[o + OPTION.PREFIX_LEN] = p.prefixLen;
        b[o + OPTION.PREFIX_FLAGS] = (p.onLink ? PREFIX_FLAG_ON_LINK : 0) |
          (p.autonomous ? PREFIX_FLAG_AUTONOMOUS : 0);
        writeU32(b, o + OPTION.VALID_LIFETIME, p.validLifetime);
        writeU32(b, o + OPTION.PREFERRED_LIFETIME, p.preferredLifetime);
        writeU32(b, o + OPTION.PREFIX_RESERVED, 0);
        p.prefix.writeTo(b, o + OPTION.PREFIX);
        o += PREFIX_OPTION_LEN;
      }
      for (const r of repr.rdnss ?? []) {
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
        o += RDNSS_HEADER_LEN + 16 * n;
      }
      for (const d of repr.dnssl ?? []) o = writeDnssl(b, o, d);
      return;
    }
    case "neighborSolicit":
      b[FIELD.TYPE] = TYPE.NEIGHBOR_SOLICIT;
      repr.target.writeTo(b, FIELD.TARGET);
      writeLinkAddr(b, FIELD.NS_OPTIONS, NdiscOptionType.SourceLinkAddr, repr.sourceLinkAddr);
      return;
    case "neighborAdvert":
      b[FIELD.TYPE] = TYPE.NEIGHBOR_ADVERT;
      b[FIELD.NA_FLAGS] = (repr.router ? NA_FLAG_ROUTER : 0) |
        (repr.solicited ? NA_FLAG_SOLICITED : 0) | (repr.override ? NA_FLAG_OVERRIDE : 0);
      repr.target.writeTo(b, FIELD.TARGET);
      writeLinkAddr(b, FIELD.NA_OPTIONS, NdiscOptionType.TargetLinkAddr, repr.targetLinkAddr);
      return;
    case "redirect": {
      b[FIELD.TYPE] = TYPE.REDIRECT;
      repr.target.writeTo(b, FIELD.TARGET);
      repr.destination.writeTo(b, FIELD.REDIRECT_DESTINATION);
      const o = writeLinkAddr(
        b,
        FIELD.REDIRECT_OPTIONS,
        NdiscOptionType.TargetLinkAddr,
        repr.targetLinkAddr,
      );
      const data = repr.redirectedHeader;
      if (data !== null) {
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
      return;
    }
  }
}

/** Writes a DNSSL option at `o` (RFC 8106 §5.2); returns the next offset. */
function writeDnssl(b: Uint8Array, o: number, d: DnsslInfo): number {
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
function writeLinkAddr(
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

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
