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

import { type EthernetAddress, Ipv6Address } from "./address.ts";
import { requireLength, WireError } from "./error.ts";
import type { Icmpv6Packet } from "./icmpv6.ts";
import {
  type DnsslInfo,
  dnsslLen,
  linkAddrLen,
  MTU_OPTION_LEN,
  NdiscOptionType,
  type Options,
  parseOptions,
  PREFIX_OPTION_LEN,
  type PrefixInfo,
  type RdnssInfo,
  rdnssLen,
  readU32,
  redirectedOptionLen,
  USE_DNSSL,
  USE_MTU,
  USE_PREFIX,
  USE_RDNSS,
  USE_REDIRECTED,
  USE_SLLA,
  USE_TLLA,
  writeDnssl,
  writeLinkAddr,
  writeMtu,
  writePrefix,
  writeRdnss,
  writeRedirected,
  writeU32,
} from "./_ndisc_options.ts";

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
      if (repr.mtu !== null) o = writeMtu(b, o, repr.mtu);
      for (const p of repr.prefixes) o = writePrefix(b, o, p);
      for (const r of repr.rdnss ?? []) o = writeRdnss(b, o, r);
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
      if (repr.redirectedHeader !== null) writeRedirected(b, o, repr.redirectedHeader);
      return;
    }
  }
}

export { NdiscOptionType } from "./_ndisc_options.ts";
export type { DnsslInfo, PrefixInfo, RdnssInfo } from "./_ndisc_options.ts";
