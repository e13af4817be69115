/**
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2) and ICMPv6 (RFC 4443) on the interface: automatic echo
 * replies, echo replies and errors delivered to sockets, rate-limited error generation, and the
 * hand-off of IPv6 neighbor discovery to `address_resolution.ts`. Every message is parsed by
 * `parseIcmpv4` / `parseIcmpv6` (which also validate NDP and MLD) and built as a wire repr sent
 * through `egress.ts`. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import {
  icmpv4ErrorQuoteLen,
  Icmpv4Packet,
  type Icmpv4Repr,
  Icmpv4Type,
  parseIcmpv4,
  parseIcmpv4Quote,
} from "../wire/icmpv4.ts";
import {
  icmpv6ErrorQuoteLen,
  Icmpv6Packet,
  type Icmpv6Repr,
  Icmpv6Type,
  parseIcmpv6,
  parseIcmpv6Quote,
} from "../wire/icmpv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { ndiscHopLimitValid } from "../wire/ndisc.ts";
import { TcpPacket } from "../wire/tcp.ts";
import { UdpPacket } from "../wire/udp.ts";
import { WireError } from "../wire/error.ts";
import type { IcmpErrorInfo } from "../socket/icmp.ts";
import { receiveNeighborAdvert, receiveNeighborSolicit } from "./address_resolution.ts";
import { sendIcmpv4, sendIcmpv6 } from "./egress.ts";
import type { IfaceCore } from "./iface_state.ts";
import { wakeSocket } from "../socket/waker.ts";

/** Parse options once the checksum was verified before the autoconfiguration hook. */
const CHECKSUM_VERIFIED = { verifyChecksum: false };

/** Bytes of the invoking packet's upper layer an error must quote to be matched (RFC 792). */
const QUOTED_UPPER = 8;

function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * Sends an ICMP error about `invoking` (the whole IP packet that caused it), unless RFC 1122
 * §3.2.2 / RFC 4443 §2.4(e) forbid it or the rate limit says no. `type` is an
 * `Icmpv4Type` / `Icmpv6Type` error type; `rest` its 32-bit field (a parameter problem's
 * pointer, a packet-too-big MTU), 0 otherwise.
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
  const from = core.isOwnAddress(dst) ? dst : core.routes.sourceFor(src);
  if (from === null) return;
  if (!core.icmpLimiter.allow(core.now)) {
    core.counters.icmpRateLimited++;
    return;
  }
  // RFC 1812 §4.3.2.3 / RFC 4443 §2.4(c): the whole error fits 576 / 1280 bytes and the MTU.
  if (src.version === 4) {
    const data = invoking.subarray(0, icmpv4ErrorQuoteLen(invoking.length, core.ipMtu));
    sendIcmpv4(core, from as Ipv4Address, src, errorRepr4(type, code, rest, data));
  } else {
    const n = Math.min(icmpv6ErrorQuoteLen(invoking.length), Math.max(0, core.ipMtu - 48));
    sendIcmpv6(
      core,
      from as Ipv6Address,
      src,
      errorRepr6(type, code, rest, invoking.subarray(0, n)),
    );
  }
}

function errorRepr4(type: number, code: number, rest: number, data: Uint8Array): Icmpv4Repr {
  switch (type) {
    case Icmpv4Type.DstUnreachable:
      return { kind: "dstUnreachable", code, nextHopMtu: rest & 0xffff, data };
    case Icmpv4Type.TimeExceeded:
      return { kind: "timeExceeded", code, data };
    case Icmpv4Type.ParamProblem:
      return { kind: "paramProblem", code, pointer: rest >>> 24, data };
  }
  throw new RangeError(`ICMPv4 type ${type} is not an error this interface sends`);
}

function errorRepr6(type: number, code: number, rest: number, data: Uint8Array): Icmpv6Repr {
  switch (type) {
    case Icmpv6Type.DstUnreachable:
      return { kind: "dstUnreachable", code, data };
    case Icmpv6Type.PktTooBig:
      return { kind: "pktTooBig", mtu: rest >>> 0, data };
    case Icmpv6Type.TimeExceeded:
      return { kind: "timeExceeded", code, data };
    case Icmpv6Type.ParamProblem:
      return { kind: "paramProblem", code, pointer: rest >>> 0, data };
  }
  throw new RangeError(`ICMPv6 type ${type} is not an error this interface sends`);
}

/** ICMPv4 ingress (after IPv4 validation); `msg` is the IPv4 payload. */
export function processIcmpv4(
  core: IfaceCore,
  src: Ipv4Address,
  dst: Ipv4Address,
  msg: Uint8Array,
): void {
  const repr = parseIcmpv4(new Icmpv4Packet(msg), core.verifyIcmpv4);
  switch (repr.kind) {
    case "echoRequest": {
      // RFC 1122 §3.2.2.6; echo to broadcast is ignored (as Linux does by default).
      if (
        !core.icmpEchoReply || core.linkMulticast ||
        !(core.isOwnAddress(dst) || core.acceptAny?.echo === true)
      ) {
        core.counters.notForUs++;
        return;
      }
      const echo = core.pkt.echo4;
      echo.kind = "echoReply";
      echo.ident = repr.ident;
      echo.seqNo = repr.seqNo;
      echo.data = repr.data;
      sendIcmpv4(core, dst, src, echo);
      return;
    }
    case "echoReply":
      deliverEchoReply(core, src, repr.ident, repr.seqNo, repr.data);
      return;
    case "dstUnreachable":
      deliverError4(
        core,
        src,
        Icmpv4Type.DstUnreachable,
        repr.code,
        repr.code === 4 ? repr.nextHopMtu : null,
        repr.data,
      );
      return;
    case "timeExceeded":
      deliverError4(core, src, Icmpv4Type.TimeExceeded, repr.code, null, repr.data);
      return;
    case "paramProblem":
      deliverError4(core, src, Icmpv4Type.ParamProblem, repr.code, null, repr.data);
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
  if (s.processEchoReply(core.cx, src, seq, data)) wakeSocket(s);
  else core.counters.queueFull++;
}

/** Reads the invoking packet an ICMPv4 error quotes and hands the error on. */
function deliverError4(
  core: IfaceCore,
  from: IpAddress,
  type: number,
  code: number,
  mtu: number | null,
  data: Uint8Array,
): void {
  const q = parseIcmpv4Quote(data);
  deliverError(core, 4, from, type, code, mtu, q.protocol, q.src, q.dst, q.upper);
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
  if (sockets === null || !core.routes.hasAddress(innerSrc) || l4.length < QUOTED_UPPER) {
    core.counters.icmpError++;
    return;
  }
  if (protocol === IpProtocol.Udp) {
    const udp = new UdpPacket(l4);
    const s = sockets.findUdp(innerSrc, udp.srcPort);
    if (s !== null) {
      const info: IcmpErrorInfo = {
        version,
        type,
        code,
        from,
        local: { addr: innerSrc, port: udp.srcPort },
        remote: { addr: innerDst, port: udp.dstPort },
        mtu,
      };
      s.processError(core.cx, info);
      wakeSocket(s);
      return;
    }
  } else if (
    (protocol === IpProtocol.Icmp && l4[0] === Icmpv4Type.EchoRequest) ||
    (protocol === IpProtocol.Icmpv6 && l4[0] === Icmpv6Type.EchoRequest)
  ) {
    const echo = version === 4 ? new Icmpv4Packet(l4) : new Icmpv6Packet(l4);
    const ident = echo.echoIdent;
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
      if (s.processError(core.cx, info, echo.echoSeqNo)) wakeSocket(s);
      else core.counters.queueFull++;
      return;
    }
  } else if (protocol === IpProtocol.Tcp) {
    // RFC 5927 / RFC 1122 §4.2.3.9: unreachables and Packet Too Big (ICMPv4 code 4) reach the
    // connection, which validates the quoted sequence number; other errors are only counted.
    const tcp = new TcpPacket(l4);
    const s = sockets.findTcp(innerSrc, tcp.srcPort, innerDst, tcp.dstPort);
    const kind = tcpErrorKind(version, type, code);
    if (s !== null && kind !== null) {
      s.processIcmpError(core.now, { kind, code, mtu: mtu ?? 0, seq: tcp.seq });
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
  const packet = new Icmpv6Packet(msg);
  packet.checkLen();
  if (core.csum.icmpv6 && !packet.verifyChecksum(src, dst)) {
    throw new WireError("icmpv6.checksum", packet.checksum, "checksum mismatch");
  }
  // RA, MLD queries and DAD go to autoconfiguration first (ndp_host.ts).
  if (core.ndpHost !== null && core.ndpHost.icmpv6(core.cx, src, dst, hopLimit, msg)) return;
  const repr = parseIcmpv6(packet, src, dst, CHECKSUM_VERIFIED);
  switch (repr.kind) {
    case "echoRequest": {
      if (
        !core.icmpEchoReply ||
        !(dst.isMulticast || core.isOwnAddress(dst) || core.acceptAny?.echo === true)
      ) {
        core.counters.notForUs++;
        return;
      }
      const from = dst.isMulticast ? core.routes.sourceFor(src) : dst;
      if (from === null) return;
      const echo = core.pkt.echo6;
      echo.kind = "echoReply";
      echo.ident = repr.ident;
      echo.seqNo = repr.seqNo;
      echo.data = repr.data;
      sendIcmpv6(core, from as Ipv6Address, src, echo);
      return;
    }
    case "echoReply":
      deliverEchoReply(core, src, repr.ident, repr.seqNo, repr.data);
      return;
    case "dstUnreachable":
      deliverError6(core, src, Icmpv6Type.DstUnreachable, repr.code, null, repr.data);
      return;
    case "pktTooBig":
      deliverError6(core, src, Icmpv6Type.PktTooBig, 0, repr.mtu, repr.data);
      return;
    case "timeExceeded":
      deliverError6(core, src, Icmpv6Type.TimeExceeded, repr.code, null, repr.data);
      return;
    case "paramProblem":
      deliverError6(core, src, Icmpv6Type.ParamProblem, repr.code, null, repr.data);
      return;
    case "ndisc": {
      // RFC 4861 §6.1, §7.1: hop limit 255, so the message cannot come from off-link.
      if (!ndiscHopLimitValid(hopLimit)) {
        core.counters.ttlExceeded++;
        return;
      }
      const nd = repr.repr;
      if (nd.kind === "neighborSolicit") receiveNeighborSolicit(core, src, nd);
      else if (nd.kind === "neighborAdvert") receiveNeighborAdvert(core, nd);
      else core.counters.unsupported++; // RS/RA/redirect not taken by autoconfiguration
      return;
    }
    default:
      // Redirects, MLD, and RS/RA without autoconfiguration attached.
      core.counters.unsupported++;
  }
}

/** Reads the invoking packet an ICMPv6 error quotes and hands the error on. */
function deliverError6(
  core: IfaceCore,
  from: IpAddress,
  type: number,
  code: number,
  mtu: number | null,
  data: Uint8Array,
): void {
  // Only a quoted packet without extension headers can be matched to a socket.
  const q = parseIcmpv6Quote(data);
  deliverError(core, 6, from, type, code, mtu, q.nextHeader, q.src, q.dst, q.upper);
}

/** Whether an IPv4 packet carries an ICMP error (never answered with another error). */
export function carriesIcmpv4Error(protocol: number, l4: Uint8Array): boolean {
  return protocol === IpProtocol.Icmp && l4.length > 0 && isIcmpv4Error(l4[0]!);
}

/** Whether an IPv6 upper layer is an ICMPv6 error (types below 128). */
export function carriesIcmpv6Error(protocol: number, l4: Uint8Array): boolean {
  return protocol === IpProtocol.Icmpv6 && l4.length > 0 && l4[0]! < 128;
}
