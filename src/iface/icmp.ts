/**
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2) and ICMPv6 (RFC 4443) on the interface: automatic echo
 * replies, echo replies and errors delivered to sockets, rate-limited error generation, and IPv6
 * neighbor discovery (RFC 4861 NS/NA). Internal to the iface folder.
 *
 * @module
 */

import { readU16, readU32 } from "../wire/_bytes.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
import { EthernetAddress, type IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { checksumSum } from "../wire/checksum.ts";
import { IpProtocol } from "../wire/ip.ts";
import { WireError } from "../wire/error.ts";
import type { IcmpErrorInfo } from "../socket/icmp.ts";
import type { IfaceCore } from "./core.ts";

/** Header layout shared by every ICMP message. */
const FIELD = { TYPE: 0, CODE: 1, CHECKSUM: 2, REST: 4, BODY: 8 } as const;
/** RFC 4861 §4.3/§4.4: NS/NA body is the target address then options. */
const ND = { TARGET: 8, OPTIONS: 24 } as const;
const ND_OPT_SOURCE_LL = 1, ND_OPT_TARGET_LL = 2;
const NA_FLAG_SOLICITED = 0x40000000, NA_FLAG_OVERRIDE = 0x20000000;

/** RFC 1812 §4.3.2.3 / RFC 4443 §2.4(c): the whole error fits these datagram sizes. */
const V4_ERROR_MAX = 576, V6_ERROR_MAX = 1280;

function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * Sends an ICMP error about `invoking` (the whole IP packet that caused it), unless RFC 1122
 * §3.2.2 / RFC 4443 §2.4(e) forbid it or the rate limit says no.
 */
export function sendIcmpError(
  core: IfaceCore,
  invoking: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  type: number,
  code: number,
  rest: number,
  opts: { isFragment: boolean; isIcmpError: boolean; allowMulticastDst?: boolean },
): void {
  if (opts.isIcmpError || opts.isFragment) return;
  if (src.isUnspecified || src.isMulticast || (src.version === 4 && src.isBroadcast)) return;
  if (!opts.allowMulticastDst) {
    if (core.linkMulticast || dst.isMulticast) return;
    if (dst.version === 4 && (dst.isBroadcast || core.routes.isSubnetBroadcast(dst))) return;
  }
  const from = core.routes.hasAddress(dst) ? dst : core.routes.sourceFor(src);
  if (from === null) return;
  if (!core.icmpLimiter.allow(core.now)) {
    core.counters.icmpRateLimited++;
    return;
  }
  const max = src.version === 4 ? V4_ERROR_MAX - 20 - 8 : V6_ERROR_MAX - 40 - 8;
  const quote = invoking.subarray(
    0,
    Math.min(invoking.length, max, core.ipMtu - (src.version === 4 ? 28 : 48)),
  );
  core.sendIcmp(from, src, type, code, rest, quote);
}

/** ICMPv4 ingress (after IPv4 validation). `packet` is the whole IP packet for quoting. */
export function processIcmpv4(
  core: IfaceCore,
  src: Ipv4Address,
  dst: Ipv4Address,
  msg: Uint8Array,
): void {
  if (msg.length < 8) throw new WireError("icmpv4.length", msg.length, "shorter than 8 bytes");
  if (core.csum.icmpv4 && (checksumSum(msg) & 0xffff) !== 0xffff) {
    throw new WireError("icmpv4.checksum", readU16(msg, FIELD.CHECKSUM), "checksum mismatch");
  }
  const type = msg[FIELD.TYPE]!, code = msg[FIELD.CODE]!;
  const body = msg.subarray(FIELD.BODY);
  switch (type) {
    case Icmpv4Type.EchoRequest: {
      // RFC 1122 §3.2.2.6; echo to broadcast is ignored (as Linux does by default).
      if (
        !core.icmpEchoReply || core.linkMulticast ||
        !(core.routes.hasAddress(dst) || core.acceptAny?.echo === true)
      ) {
        core.counters.notForUs++;
        return;
      }
      core.sendIcmp(dst, src, Icmpv4Type.EchoReply, 0, readU32(msg, FIELD.REST), body);
      return;
    }
    case Icmpv4Type.EchoReply:
      deliverEchoReply(core, src, readU16(msg, 4), readU16(msg, 6), body);
      return;
    case Icmpv4Type.DstUnreachable:
    case Icmpv4Type.TimeExceeded:
    case Icmpv4Type.ParamProblem:
      deliverError4(core, src, type, code, msg, body);
      return;
    default:
      core.counters.unsupported++;
  }
}

function deliverEchoReply(
  core: IfaceCore,
  src: IpAddress,
  ident: number,
  seq: number,
  data: Uint8Array,
): void {
  const s = core.sockets?.findIcmp(ident) ?? null;
  if (s === null) {
    core.counters.noSocket++;
    return;
  }
  if (!s.processEchoReply(core.cx, src, seq, data)) core.counters.queueFull++;
}

/** Parses the quoted IPv4 header + 8 bytes and hands the error to the matching socket. */
function deliverError4(
  core: IfaceCore,
  from: IpAddress,
  type: number,
  code: number,
  msg: Uint8Array,
  quote: Uint8Array,
): void {
  if (quote.length < 20 || quote[0]! >>> 4 !== 4) {
    throw new WireError("icmpv4.quote", quote.length, "quoted packet is not IPv4");
  }
  const ihl = (quote[0]! & 0xf) * 4;
  if (ihl < 20 || quote.length < ihl + 8) {
    throw new WireError("icmpv4.quote", quote.length, "quoted packet too short");
  }
  const mtu = type === Icmpv4Type.DstUnreachable && code === 4 ? readU16(msg, 6) : null;
  deliverError(
    core,
    4,
    from,
    type,
    code,
    mtu,
    quote[9]!,
    Ipv4Address.fromBytes(quote, 12),
    Ipv4Address.fromBytes(quote, 16),
    quote.subarray(ihl),
  );
}

function deliverError(
  core: IfaceCore,
  version: 4 | 6,
  from: IpAddress,
  type: number,
  code: number,
  mtu: number | null,
  protocol: number,
  innerSrc: IpAddress,
  innerDst: IpAddress,
  l4: Uint8Array,
): void {
  const sockets = core.sockets;
  if (sockets === null || !core.routes.hasAddress(innerSrc)) {
    core.counters.icmpError++;
    return;
  }
  const a = readU16(l4, 0), b = readU16(l4, 2);
  if (protocol === IpProtocol.Udp) {
    const s = sockets.findUdp(innerSrc, a);
    if (s !== null) {
      const info: IcmpErrorInfo = {
        version,
        type,
        code,
        from,
        local: { addr: innerSrc, port: a },
        remote: { addr: innerDst, port: b },
        mtu,
      };
      s.processError(core.cx, info);
      return;
    }
  } else if (
    (protocol === IpProtocol.Icmp && l4[0] === Icmpv4Type.EchoRequest) ||
    (protocol === IpProtocol.Icmpv6 && l4[0] === Icmpv6Type.EchoRequest)
  ) {
    const ident = readU16(l4, 4), seq = readU16(l4, 6);
    const s = sockets.findIcmp(ident);
    if (s !== null) {
      const info: IcmpErrorInfo = {
        version,
        type,
        code,
        from,
        local: { addr: innerSrc, port: ident },
        remote: { addr: innerDst, port: ident },
        mtu,
      };
      if (!s.processError(core.cx, info, seq)) core.counters.queueFull++;
      return;
    }
  } else if (protocol === IpProtocol.Tcp && l4.length >= 8) {
    // RFC 5927 / RFC 1122 §4.2.3.9: unreachables and Packet Too Big (ICMPv4 code 4) reach the
    // connection, which validates the quoted sequence number; other errors are only counted.
    const s = sockets.findTcp(innerSrc, a, innerDst, b);
    const kind = tcpErrorKind(version, type, code);
    if (s !== null && kind !== null) {
      s.processIcmpError(core.now, { kind, code, mtu: mtu ?? 0, seq: readU32(l4, 4) });
      return;
    }
  }
  core.counters.icmpError++;
}

/** What an ICMP error means to TCP, or `null` for errors TCP does not act on. */
function tcpErrorKind(
  version: 4 | 6,
  type: number,
  code: number,
): "unreachable" | "packetTooBig" | null {
  if (version === 4) {
    if (type !== Icmpv4Type.DstUnreachable) return null;
    return code === 4 ? "packetTooBig" : "unreachable";
  }
  if (type === Icmpv6Type.PktTooBig) return "packetTooBig";
  return type === Icmpv6Type.DstUnreachable ? "unreachable" : null;
}

/** ICMPv6 ingress. `hopLimit` is the IPv6 header's, for the NDP check. */
export function processIcmpv6(
  core: IfaceCore,
  src: Ipv6Address,
  dst: Ipv6Address,
  hopLimit: number,
  msg: Uint8Array,
): void {
  if (msg.length < 8) throw new WireError("icmpv6.length", msg.length, "shorter than 8 bytes");
  if (core.csum.icmpv6) {
    const sum = checksumSum(msg, pseudo6(src, dst, msg.length));
    if ((sum & 0xffff) !== 0xffff) {
      throw new WireError("icmpv6.checksum", readU16(msg, FIELD.CHECKSUM), "checksum mismatch");
    }
  }
  const type = msg[FIELD.TYPE]!, code = msg[FIELD.CODE]!;
  const body = msg.subarray(FIELD.BODY);
  // RA, MLD queries and DAD go to autoconfiguration first (ndp_host.ts).
  if (core.ndpHost !== null && core.ndpHost.icmpv6(core.cx, src, dst, hopLimit, msg)) return;
  switch (type) {
    case Icmpv6Type.EchoRequest: {
      if (
        !core.icmpEchoReply ||
        !(dst.isMulticast || core.routes.hasAddress(dst) || core.acceptAny?.echo === true)
      ) {
        core.counters.notForUs++;
        return;
      }
      const from = dst.isMulticast ? core.routes.sourceFor(src) : dst;
      if (from === null) return;
      core.sendIcmp(from, src, Icmpv6Type.EchoReply, 0, readU32(msg, FIELD.REST), body);
      return;
    }
    case Icmpv6Type.EchoReply:
      deliverEchoReply(core, src, readU16(msg, 4), readU16(msg, 6), body);
      return;
    case Icmpv6Type.DstUnreachable:
    case Icmpv6Type.PktTooBig:
    case Icmpv6Type.TimeExceeded:
    case Icmpv6Type.ParamProblem: {
      if (body.length < 40 || body[0]! >>> 4 !== 6) {
        throw new WireError("icmpv6.quote", body.length, "quoted packet is not IPv6");
      }
      const mtu = type === Icmpv6Type.PktTooBig ? readU32(msg, 4) : null;
      // Only a quoted packet without extension headers can be matched to a socket.
      deliverError(
        core,
        6,
        src,
        type,
        code,
        mtu,
        body[6]!,
        Ipv6Address.fromBytes(body, 8),
        Ipv6Address.fromBytes(body, 24),
        body.length >= 48 ? body.subarray(40) : new Uint8Array(8),
      );
      return;
    }
    case Icmpv6Type.NeighborSolicit:
    case Icmpv6Type.NeighborAdvert:
      // RFC 4861 §7.1.1/§7.1.2: hop limit 255, code 0, at least 24 bytes.
      if (hopLimit !== 255) {
        core.counters.ttlExceeded++;
        return;
      }
      if (code !== 0 || msg.length < ND.OPTIONS) {
        throw new WireError("ndisc.length", msg.length, "neighbor message too short or bad code");
      }
      if (type === Icmpv6Type.NeighborSolicit) processNs(core, src, dst, msg);
      else processNa(core, msg);
      return;
    default:
      // Redirects; RS/RA and MLD without autoconfiguration attached.
      core.counters.unsupported++;
  }
}

function pseudo6(src: Ipv6Address, dst: Ipv6Address, len: number): number {
  let s = IpProtocol.Icmpv6 + (len >>> 16) + (len & 0xffff);
  for (const a of [src, dst]) {
    s += (a.w0 >>> 16) + (a.w0 & 0xffff) + (a.w1 >>> 16) + (a.w1 & 0xffff) + (a.w2 >>> 16) +
      (a.w2 & 0xffff) + (a.w3 >>> 16) + (a.w3 & 0xffff);
  }
  return s;
}

/** The link-layer address option of `kind`, validating every option's length (RFC 4861 §4.6). */
function llOption(msg: Uint8Array, kind: number): EthernetAddress | null {
  let found: EthernetAddress | null = null;
  for (let o = ND.OPTIONS; o < msg.length;) {
    if (o + 2 > msg.length) throw new WireError("ndisc.option", o, "truncated option");
    const len = msg[o + 1]! * 8;
    if (len === 0 || o + len > msg.length) {
      throw new WireError("ndisc.optionLength", msg[o + 1]!, "bad option length");
    }
    if (msg[o] === kind && len >= 8) found = EthernetAddress.fromBytes(msg, o + 2);
    o += len;
  }
  return found;
}

function processNs(core: IfaceCore, src: Ipv6Address, dst: Ipv6Address, msg: Uint8Array): void {
  const target = Ipv6Address.fromBytes(msg, ND.TARGET);
  if (target.isMulticast) throw new WireError("ndisc.target", 0, "multicast target");
  const sll = llOption(msg, ND_OPT_SOURCE_LL);
  if (src.isUnspecified && (sll !== null || !dst.isSolicitedNode)) {
    throw new WireError("ndisc.source", 0, "DAD solicitation with a source option");
  }
  if (!core.routes.hasAddress(target)) {
    core.counters.notForUs++;
    return;
  }
  if (sll !== null && !src.isUnspecified) core.neighbors.fill(src, sll, core.now, true);
  if (core.medium !== "ethernet") return;
  // RFC 4861 §7.2.4: solicited NA to the source, or to all-nodes for DAD.
  const to = src.isUnspecified ? Ipv6Address.LINK_LOCAL_ALL_NODES : src;
  const flags = (src.isUnspecified ? 0 : NA_FLAG_SOLICITED) | NA_FLAG_OVERRIDE;
  const body = ndBody(target, ND_OPT_TARGET_LL, core.hw);
  if (!src.isUnspecified && core.neighbors.lookup(src, core.now) === null) {
    // No way to reach the soliciter without its address: learn it first (sll was absent).
    core.counters.unsupported++;
    return;
  }
  core.sendIcmp(target, to, Icmpv6Type.NeighborAdvert, 0, flags, body, 255);
}

function processNa(core: IfaceCore, msg: Uint8Array): void {
  const target = Ipv6Address.fromBytes(msg, ND.TARGET);
  if (target.isMulticast) throw new WireError("ndisc.target", 0, "multicast target");
  const tll = llOption(msg, ND_OPT_TARGET_LL);
  if (tll === null || !core.neighbors.fill(target, tll, core.now, false)) {
    core.counters.notForUs++;
  }
}

const ndScratch = new Uint8Array(24);

function ndBody(target: Ipv6Address, option: number, hw: EthernetAddress): Uint8Array {
  target.writeTo(ndScratch, 0);
  ndScratch[16] = option;
  ndScratch[17] = 1;
  hw.writeTo(ndScratch, 18);
  return ndScratch;
}

/** Sends a neighbor solicitation for `target` to its solicited-node group (RFC 4861 §7.2.2). */
export function sendNeighborSolicit(core: IfaceCore, target: Ipv6Address): boolean {
  const src = core.routes.sourceFor(target);
  if (src === null) return true;
  const body = ndBody(target, ND_OPT_SOURCE_LL, core.hw);
  return core.sendIcmp(
    src,
    Ipv6Address.solicitedNode(target),
    Icmpv6Type.NeighborSolicit,
    0,
    0,
    body,
    255,
  );
}

/** Whether an IPv4 packet carries an ICMP error (never answered with another error). */
export function carriesIcmpv4Error(protocol: number, l4: Uint8Array): boolean {
  return protocol === IpProtocol.Icmp && l4.length > 0 && isIcmpv4Error(l4[0]!);
}

/** Whether an IPv6 upper layer is an ICMPv6 error (types below 128). */
export function carriesIcmpv6Error(protocol: number, l4: Uint8Array): boolean {
  return protocol === IpProtocol.Icmpv6 && l4.length > 0 && l4[0]! < 128;
}
