/**
 * Ingress: one received frame through Ethernet / ARP / IPv4 / IPv6 (extension headers,
 * reassembly) to UDP, TCP, ICMP and raw sockets. `WireError` is caught in exactly one place,
 * {@linkcode receiveFrame}, which counts the drop and moves on. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { EthernetFrame, EtherType } from "../wire/ethernet.ts";
import { WireError } from "../wire/error.ts";
import { IpProtocol } from "../wire/ip.ts";
import { IPV4_HEADER_LEN, Ipv4Packet, parseIpv4 } from "../wire/ipv4.ts";
import { plainIpv4Len } from "../wire/_ipv4_fast.ts";
import { readU16, readU32 } from "../wire/_bytes.ts";
import { Ipv6OptionAction } from "../wire/ipv6_ext.ts";
import { IPV6_HEADER_LEN, Ipv6Packet, parseIpv6, walkIpv6Headers } from "../wire/ipv6.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import { TcpSegmentReader } from "../wire/_tcp_parse.ts";
import { tcpResetFor } from "../socket/tcp/mod.ts";
import { parseUdp, UdpPacket } from "../wire/udp.ts";
import { ETH_LEN, type IfaceCore } from "./iface_state.ts";
import { receiveArp } from "./address_resolution.ts";
import { sendTcp } from "./egress.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
import {
  carriesIcmpv4Error,
  carriesIcmpv6Error,
  processIcmpv4,
  processIcmpv6,
  sendIcmpError,
} from "./icmp.ts";
import type { ReassemblyDrop } from "./reassembly.ts";
import { deliverTcp } from "./tcp_demux.ts";
import { TcpBatch } from "./_ingress_gro.ts";
import { acceptAnyDrops, acceptAnyUdp } from "./accept_any.ts";
import { wakeSocket } from "../socket/waker.ts";

/**
 * Every TCP segment received is read into this one repr (no repr or timestamps object per
 * segment): it goes to its socket, which is done with it before the next frame is read; the
 * coalescing batch copies the one it keeps. Ingress is never re-entered (one poll runs at a
 * time, and nothing a socket does while processing reads a frame).
 */
const READER = new TcpSegmentReader();

/** Processes one frame; never throws a `WireError`. */
export function receiveFrame(core: IfaceCore, frame: Uint8Array): void {
  core.counters.rxFrames++;
  core.linkMulticast = false;
  try {
    if (core.medium === "ethernet") receiveEthernet(core, frame);
    else receiveIp(core, frame);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    if (e.field.endsWith(".checksum")) core.counters.badChecksum++;
    else core.counters.malformed++;
  }
}

function receiveEthernet(core: IfaceCore, bytes: Uint8Array): void {
  const hw = core.hw;
  if (
    bytes.length >= ETH_LEN && readU16(bytes, 0) === hw.hi && readU32(bytes, 2) === hw.lo
  ) {
    const type = readU16(bytes, 12);
    if (type === EtherType.Ipv4 && receivePlainTcp4(core, bytes, ETH_LEN)) return;
    if (type === EtherType.Ipv6 && receivePlainTcp6(core, bytes, ETH_LEN)) return;
  }
  if (core.tcpBatch !== null) flushTcpBatch(core);
  const frame = EthernetFrame.newChecked(bytes);
  const dst = frame.dst;
  if (!dst.equals(core.hw)) {
    if (!dst.isMulticast) {
      core.counters.notForUs++;
      return;
    }
    core.linkMulticast = true;
  }
  switch (frame.etherType) {
    case EtherType.Arp:
      receiveArp(core, frame.payload);
      return;
    case EtherType.Ipv4:
      receiveIpv4(core, frame.payload);
      return;
    case EtherType.Ipv6:
      receiveIpv6(core, frame.payload);
      return;
    default:
      core.counters.unsupported++;
  }
}

function receiveIp(core: IfaceCore, bytes: Uint8Array): void {
  const v = bytes.length === 0 ? 0 : bytes[0]! >>> 4;
  if (v === 4 && receivePlainTcp4(core, bytes, 0)) return;
  if (v === 6 && receivePlainTcp6(core, bytes, 0)) return;
  if (core.tcpBatch !== null) flushTcpBatch(core);
  if (v === 4) receiveIpv4(core, bytes);
  else if (v === 6) receiveIpv6(core, bytes);
  else throw new WireError("ip.version", v, "not IPv4 or IPv6");
}

/**
 * The common case, read where it lies in the frame (no view, repr, subarray or address objects):
 * an unfragmented IPv4 packet without options carrying TCP to one of our addresses, from a
 * unicast source, on an interface that does not forward, with no raw socket open. Returns
 * `false`, having done nothing, for anything else: the general path then checks the frame in
 * full and raises the precise `WireError` (a bad header checksum included).
 */
function receivePlainTcp4(core: IfaceCore, b: Uint8Array, off: number): boolean {
  if (core.forwarder !== null) return false;
  const total = plainIpv4Len(b, off, b.length, core.verifyIpv4.verifyChecksum !== false);
  if (total < 0 || b[off + 9] !== IpProtocol.Tcp) return false;
  const sockets = core.sockets;
  if (sockets !== null && sockets.rawSockets.length !== 0) return false;
  const src = core.ipv4At(b, off + 12), dst = core.ipv4At(b, off + 16);
  if (src.isBroadcast || src.isMulticast || core.routes.isSubnetBroadcast(src)) return false;
  if (!core.routes.hasAddress(dst)) return false;
  const ecn = b[off + 1]! & 3; // RFC 3168 §6.1.3: the CE mark reaches TCP
  core.cx.ecn = ecn;
  const batch = core.tcpBatch;
  if (batch === null) receiveTcpAt(core, src, dst, b, off + IPV4_HEADER_LEN, off + total);
  else coalesceTcp(core, batch, src, dst, b, off + IPV4_HEADER_LEN, off + total, ecn, 0);
  return true;
}

/**
 * {@linkcode receivePlainTcp4} for IPv6: a packet whose Next Header is TCP (no extension
 * headers) to one of our unicast addresses, from a source that is not multicast, on an interface
 * that does not forward, with no raw socket open, read where it lies (no view, repr, subarray or
 * address objects). Returns `false`, having done nothing, for anything else, which the
 * general path takes (and raises the precise error for).
 */
function receivePlainTcp6(core: IfaceCore, b: Uint8Array, off: number): boolean {
  if (core.forwarder !== null || b.length - off < IPV6_HEADER_LEN) return false;
  if (b[off]! >>> 4 !== 6 || b[off + 6] !== IpProtocol.Tcp) return false;
  const end = off + IPV6_HEADER_LEN + readU16(b, off + 4);
  if (end > b.length) return false;
  const sockets = core.sockets;
  if (sockets !== null && sockets.rawSockets.length !== 0) return false;
  const dst = core.ipv6At(b, off + 24);
  if (dst.isMulticast || !core.routes.hasAddress(dst)) return false;
  const src = core.ipv6At(b, off + 8);
  if (src.isMulticast) return false;
  const ecn = (b[off + 1]! >>> 4) & 3; // RFC 3168 §6.1.3: the CE mark reaches TCP
  core.cx.ecn = ecn;
  const batch = core.tcpBatch;
  const tcp = off + IPV6_HEADER_LEN;
  if (batch === null) receiveTcpAt(core, src, dst, b, tcp, end);
  else coalesceTcp(core, batch, src, dst, b, tcp, end, ecn, readU32(b, off) & 0xfffff);
  return true;
}

/**
 * Receive coalescing (see `_ingress_gro.ts`): the segment at `b[tcp, end)` joins the pending
 * batch, starts one, or (flushing the batch first) goes to its socket alone. `label` is the IPv6
 * flow label (0 for IPv4): segments with different labels are not merged.
 */
function coalesceTcp(
  core: IfaceCore,
  batch: TcpBatch,
  src: IpAddress,
  dst: IpAddress,
  b: Uint8Array,
  tcp: number,
  end: number,
  ecn: number,
  label: number,
): void {
  const repr = READER.read(b, tcp, end, src, dst, core.verifyTcp.verifyChecksum !== false);
  const takes = TcpBatch.takes(repr);
  if (batch.active) {
    if (takes && batch.extends(repr, b, tcp, src, dst, ecn, label)) {
      batch.add(repr);
      return;
    }
    flushTcpBatch(core);
    core.cx.ecn = ecn;
  }
  if (takes) batch.start(repr, b, tcp, src, dst, ecn, label);
  else deliverOrReset(core, src, dst, repr);
}

/**
 * Hands the pending coalesced segment, if any, to its socket. Ingress calls this before a frame
 * that does not join the batch and at the end of a poll's ingress.
 */
export function flushTcpBatch(core: IfaceCore): void {
  const batch = core.tcpBatch;
  if (batch === null || !batch.active) return;
  const src = batch.src!, dst = batch.dst!, ecn = batch.ecn;
  const repr = batch.take();
  const linkMulticast = core.linkMulticast;
  core.cx.ecn = ecn;
  core.linkMulticast = false; // a batch holds unicast frames only
  deliverOrReset(core, src, dst, repr);
  core.linkMulticast = linkMulticast;
}

function receiveIpv4(core: IfaceCore, bytes: Uint8Array): void {
  const packet = Ipv4Packet.newChecked(bytes);
  const repr = parseIpv4(packet, core.verifyIpv4);
  const src = repr.src, dst = repr.dst;
  if (src.isBroadcast || src.isMulticast || core.routes.isSubnetBroadcast(src)) {
    throw new WireError("ipv4.src", src.value, "broadcast or multicast source");
  }
  const totalLen = packet.totalLen;
  const whole = totalLen === bytes.length ? bytes : bytes.subarray(0, totalLen);
  if (core.forwarder !== null && core.forwarder.take(core, whole, src, dst)) return;
  if (!core.acceptsDst(dst)) {
    // Accept-any mode takes unicast to any address (see accept_any.ts), else not for us.
    const frag = repr.moreFrags || repr.fragOffset !== 0;
    if (acceptAnyDrops(core, src, dst, repr.ttl, whole, frag)) return;
  } else if (!dst.isMulticast && !core.isOwnAddress(dst)) core.linkMulticast = true;
  let payload: Uint8Array | null = null; // a subarray only when something needs one
  let protocol = repr.protocol;
  let isFragment = false;
  if (repr.moreFrags || repr.fragOffset !== 0) {
    const res = core.reasm4.add({
      src,
      dst,
      protocol,
      ident: repr.ident,
      offset: repr.fragOffset,
      more: repr.moreFrags,
      data: packet.payload,
      packet: repr.fragOffset === 0 ? whole : null,
    }, core.now);
    countEvicted(core);
    if (res === null) return;
    if (typeof res === "string") {
      countReassemblyDrop(core, res);
      return;
    }
    payload = res.payload;
    protocol = res.protocol;
    isFragment = repr.fragOffset !== 0; // no errors unless this is the first fragment
  }
  core.cx.ecn = repr.ecn; // RFC 3168 §6.1.3: the CE mark reaches TCP
  const raw = deliverRaw(core, 4, protocol, whole);
  if (payload === null && protocol === IpProtocol.Tcp) {
    // The common case: TCP read where it lies in the frame, after the IP header.
    receiveTcpAt(core, src, dst, whole, packet.headerLen, whole.length);
    return;
  }
  deliverUpper(core, src, dst, protocol, payload ?? packet.payload, whole, isFragment, 0, raw);
}

function receiveIpv6(core: IfaceCore, bytes: Uint8Array): void {
  const packet = Ipv6Packet.newChecked(bytes);
  const repr = parseIpv6(packet);
  const src = repr.src, dst = repr.dst;
  if (src.isMulticast) throw new WireError("ipv6.src", 0, "multicast source");
  const whole = bytes.subarray(0, 40 + repr.payloadLen);
  if (core.forwarder !== null && core.forwarder.take(core, whole, src, dst)) return;
  if (!core.acceptsDst(dst) && acceptAnyDrops(core, src, dst, repr.hopLimit, whole, false)) return;
  const chain = walkIpv6Headers(packet);
  const problem = chain.optionProblem;
  if (problem !== null && problem.action !== Ipv6OptionAction.Skip) {
    // RFC 8200 §4.2: the two high bits of the option type choose discard and ICMP.
    if (
      problem.action === Ipv6OptionAction.DiscardSendIcmp ||
      (problem.action === Ipv6OptionAction.DiscardSendIcmpUnlessMulticast && !dst.isMulticast)
    ) {
      sendIcmpError(core, whole, src, dst, Icmpv6Type.ParamProblem, 2, problem.pointer, {
        isFragment: false,
        isIcmpError: false,
        allowMulticastDst: problem.action === Ipv6OptionAction.DiscardSendIcmp,
      });
    }
    core.counters.unsupported++;
    return;
  }
  if (chain.routing !== null && chain.routing.segmentsLeft !== 0) {
    // RFC 8200 §4.4: we do not forward; an unrecognised routing type gets a parameter problem.
    sendIcmpError(
      core,
      whole,
      src,
      dst,
      Icmpv6Type.ParamProblem,
      0,
      40 + chain.routingHeaderOffset! + 2,
      {
        isFragment: chain.fragment !== null && chain.fragment.fragOffset !== 0,
        isIcmpError: false,
      },
    );
    core.counters.unsupported++;
    return;
  }
  let payload = packet.payload.subarray(chain.upperLayerOffset);
  let protocol = chain.upperLayer;
  let isFragment = false;
  const frag = chain.fragment;
  if (frag !== null && (frag.moreFrags || frag.fragOffset !== 0)) {
    const res = core.reasm6.add({
      src,
      dst,
      protocol: frag.nextHeader,
      ident: frag.ident,
      offset: frag.fragOffset,
      more: frag.moreFrags,
      data: payload,
      packet: frag.fragOffset === 0 ? whole : null,
    }, core.now);
    countEvicted(core);
    if (res === null) return;
    if (typeof res === "string") {
      countReassemblyDrop(core, res);
      return;
    }
    payload = res.payload;
    protocol = res.protocol;
    isFragment = frag.fragOffset !== 0;
    if (
      protocol === IpProtocol.HopByHop || protocol === IpProtocol.Ipv6Opts ||
      protocol === IpProtocol.Ipv6Route || protocol === IpProtocol.Ipv6Frag
    ) {
      core.counters.unsupported++; // extension headers after the Fragment header
      return;
    }
  }
  core.cx.ecn = repr.trafficClass & 3;
  const raw = deliverRaw(core, 6, protocol, whole);
  deliverUpper(
    core,
    src,
    dst,
    protocol,
    payload,
    whole,
    isFragment,
    repr.hopLimit,
    raw,
    chain.nextHeaderPointer,
  );
}

function countEvicted(core: IfaceCore): void {
  const n = core.reasm4.takeEvicted() + core.reasm6.takeEvicted();
  if (n > 0) core.counters.reassemblyOverflow += n;
}

function countReassemblyDrop(core: IfaceCore, why: ReassemblyDrop): void {
  switch (why) {
    case "malformed":
      core.counters.malformed++;
      break;
    case "duplicate":
      // A duplicate carries nothing new; it is counted as dropped for overlap/duplication.
      core.counters.reassemblyOverflow++;
      break;
    default:
      core.counters.reassemblyOverflow++;
  }
}

/** Hands a copy to every matching raw socket; returns whether any matched. */
function deliverRaw(core: IfaceCore, version: 4 | 6, protocol: number, whole: Uint8Array): boolean {
  const sockets = core.sockets;
  if (sockets === null) return false;
  let seen = false;
  const raw = sockets.rawSockets;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    if (s.version === version && s.protocol === protocol) {
      seen = true;
      if (s.process(core.cx, whole)) wakeSocket(s);
      else core.counters.queueFull++;
    }
  }
  return seen;
}

function deliverUpper(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  protocol: number,
  payload: Uint8Array,
  whole: Uint8Array,
  isFragment: boolean,
  hopLimit: number,
  raw: boolean,
  nextHeaderPointer = 0,
): void {
  switch (protocol) {
    case IpProtocol.Udp:
      receiveUdp(core, src, dst, payload, whole, isFragment);
      return;
    case IpProtocol.Tcp:
      receiveTcpAt(core, src, dst, payload, 0, payload.length);
      return;
    case IpProtocol.Icmp:
      if (src.version === 4) processIcmpv4(core, src, dst as Ipv4Address, payload);
      else core.counters.unsupported++;
      return;
    case IpProtocol.Icmpv6:
      if (src.version === 6) processIcmpv6(core, src, dst as Ipv6Address, hopLimit, payload);
      else core.counters.unsupported++;
      return;
    case IpProtocol.Ipv6NoNxt:
      if (!raw) core.counters.unsupported++;
      return;
    default:
      if (raw) return;
      core.counters.unsupported++;
      // RFC 1122 §3.2.2.1 protocol unreachable; RFC 8200 §4 parameter problem, code 1.
      if (src.version === 4) {
        sendIcmpError(core, whole, src, dst, Icmpv4Type.DstUnreachable, 2, 0, {
          isFragment,
          isIcmpError: false,
        });
      } else {
        sendIcmpError(core, whole, src, dst, Icmpv6Type.ParamProblem, 1, nextHeaderPointer, {
          isFragment,
          isIcmpError: false,
        });
      }
  }
}

function receiveUdp(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  payload: Uint8Array,
  whole: Uint8Array,
  isFragment: boolean,
): void {
  const packet = UdpPacket.newChecked(payload);
  const repr = parseUdp(packet, src, dst, core.verifyUdp);
  const socket = core.sockets?.findUdp(dst, repr.dstPort) ?? null;
  if (socket !== null) {
    // The waker reports the socket to the set's change listener: its receiver is told.
    if (socket.process(core.cx, { addr: src, port: repr.srcPort }, dst, packet.payload)) {
      wakeSocket(socket);
    } else core.counters.queueFull++;
    return;
  }
  if (
    core.acceptAny !== null && core.sockets !== null && !core.linkMulticast && !dst.isMulticast &&
    acceptAnyUdp(core, core.acceptAny, src, repr.srcPort, dst, repr.dstPort, packet.payload)
  ) return;
  core.counters.noSocket++;
  // RFC 1122 §4.1.3.1 port unreachable; RFC 4443 §3.1 code 4.
  if (src.version === 4) {
    sendIcmpError(core, whole, src, dst, Icmpv4Type.DstUnreachable, 3, 0, {
      isFragment,
      isIcmpError: carriesIcmpv4Error(IpProtocol.Udp, payload),
    });
  } else {
    sendIcmpError(core, whole, src, dst, Icmpv6Type.DstUnreachable, 4, 0, {
      isFragment,
      isIcmpError: carriesIcmpv6Error(IpProtocol.Udp, payload),
    });
  }
}

/** Takes the TCP segment at `packet[off, end)` where it lies, without a subarray. */
function receiveTcpAt(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  packet: Uint8Array,
  off: number,
  end: number,
): void {
  if (core.linkMulticast || dst.isMulticast) {
    core.counters.notForUs++; // RFC 1122 §4.2.3.10: TCP ignores broadcast and multicast
    return;
  }
  const verify = core.verifyTcp.verifyChecksum !== false;
  deliverOrReset(core, src, dst, READER.read(packet, off, end, src, dst, verify));
}

/** Gives the segment to its socket, or counts it and answers with a reset. */
function deliverOrReset(core: IfaceCore, src: IpAddress, dst: IpAddress, repr: TcpRepr): void {
  if (deliverTcp(core, src, dst, repr)) return;
  core.counters.noSocket++;
  sendReset(core, src, dst, repr);
}

/** RFC 9293 §3.10.7.1: the reset for a segment that reached no connection; never for a RST. */
export function sendReset(core: IfaceCore, src: IpAddress, dst: IpAddress, seg: TcpRepr): void {
  const rst = tcpResetFor(seg);
  if (rst !== null) sendTcp(core, dst, src, rst);
}
