/**
 * Egress: the one path from a packet value ({@linkcode OutPacket}) to device frames.
 * {@linkcode sendPacket} routes the packet, resolves the next hop's link address, and either
 * emits it straight into a device frame through the wire layer's `emit*` functions, or builds it
 * once and queues it for an unresolved neighbor or cuts it into fragments. Sockets reach it
 * through the one {@linkcode Emitter}; ingress replies, ICMP and NDP through the small `send*`
 * helpers, which only fill the interface's packet value. Internal to the iface folder.
 *
 * @module
 */

import { EthernetAddress, type IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { ARP_PACKET_LEN, ArpPacket, emitArp } from "../wire/arp.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../wire/ethernet.ts";
import { emitIcmpv4, Icmpv4Packet, type Icmpv4Repr } from "../wire/icmpv4.ts";
import { emitIcmpv6, Icmpv6Packet, type Icmpv6Repr } from "../wire/icmpv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { IPV4_HEADER_LEN, Ipv4Packet } from "../wire/ipv4.ts";
import { writeIpv4Header } from "../wire/_ipv4_fast.ts";
import { emitIpv6, IPV6_HEADER_LEN, Ipv6Packet } from "../wire/ipv6.ts";
import {
  emitIpv6Fragment,
  emitIpv6Options,
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv6FragmentHeader,
  Ipv6OptionsHeader,
} from "../wire/ipv6_ext.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import { writeTcpSegment } from "../wire/_tcp_emit.ts";
import { emitUdp, UdpPacket } from "../wire/udp.ts";
import type { IcmpEmitter } from "../socket/icmp.ts";
import type { RawEmitter } from "../socket/raw.ts";
import type { UdpEmitter } from "../socket/udp.ts";
import type { TcpEmitter } from "../socket/tcp/mod.ts";
import type { IpEndpoint } from "../wire/address.ts";
import { ETH_LEN, type IfaceCore } from "./iface_state.ts";
import type { NdpOutput } from "./ndp_host.ts";
import { type OutPacket, Upper } from "./packet.ts";

/**
 * Sends the packet value: route, neighbor, then one device frame, fragments, or a copy queued
 * until the neighbor resolves. Returns `false` only when the device is full (the caller keeps
 * its data and retries); drops for any other reason are counted and return `true`. The packet's
 * references are cleared afterwards.
 */
export function sendPacket(core: IfaceCore, pkt: OutPacket): boolean {
  const ok = route(core, pkt);
  pkt.clear();
  return ok;
}

function route(core: IfaceCore, pkt: OutPacket): boolean {
  if (core.group !== null) core = core.group.egress(core, pkt.src, pkt.dst);
  const hop = core.routes.nextHop(pkt.dst);
  if (hop === null) {
    core.counters.noRoute++;
    return true;
  }
  const mac = linkDst(core, hop);
  const total = pkt.totalLen();
  if (
    mac !== null &&
    (total <= core.ipMtu || (pkt.upper === Upper.Tcp && total <= core.tcpMax))
  ) {
    // The fast path: written once, straight into the device's frame.
    const link = mac === undefined ? 0 : ETH_LEN;
    const buf = frame(core, link + total);
    if (buf === null) return false;
    if (mac !== undefined) {
      writeEth(core, buf, mac, pkt.version === 4 ? EtherType.Ipv4 : EtherType.Ipv6);
    }
    emitPacket(core, pkt, buf, link);
    commit(core);
    return true;
  }
  let bytes: Uint8Array;
  if (pkt.upper === Upper.Raw) {
    bytes = pkt.payload;
  } else {
    bytes = core.scratch.subarray(0, total);
    emitPacket(core, pkt, bytes, 0);
  }
  if (mac === null) {
    if (core.neighbors.enqueue(hop, bytes.slice(), core.now) === "full") core.counters.queueFull++;
    return true;
  }
  return sendBuilt(core, bytes, mac);
}

/**
 * Writes the IP header and the upper layer of `pkt` into `buf[at, buf.length)` (exactly its total
 * length). An IPv4 TCP segment is written in place at `at` (no subarray or view per segment).
 */
function emitPacket(core: IfaceCore, pkt: OutPacket, buf: Uint8Array, at: number): void {
  if (pkt.upper === Upper.Raw) {
    buf.set(pkt.payload, at);
    return;
  }
  let upperAt: number;
  let out = buf;
  if (pkt.version === 4) {
    const r = pkt.ipv4;
    r.payloadLen = buf.length - at - IPV4_HEADER_LEN;
    r.ident = core.ident4;
    core.ident4 = (core.ident4 + 1) & 0xffff;
    writeIpv4Header(r, buf, at, core.fillIpv4.fillChecksum !== false);
    upperAt = at + IPV4_HEADER_LEN;
  } else {
    if (at !== 0) out = buf.subarray(at);
    const r = pkt.ipv6;
    r.payloadLen = out.length - IPV6_HEADER_LEN;
    emitIpv6(r, new Ipv6Packet(out));
    const hbh = pkt.hopByHop;
    if (hbh === null) {
      upperAt = IPV6_HEADER_LEN;
    } else {
      upperAt = pkt.headerLen();
      emitIpv6Options(hbh, new Ipv6OptionsHeader(out.subarray(IPV6_HEADER_LEN, upperAt)));
    }
  }
  const src = pkt.src, dst = pkt.dst;
  if (pkt.upper === Upper.Tcp) {
    // Written at its offset in the frame: no subarray or view per segment.
    writeTcpSegment(pkt.tcp!, out, upperAt, src, dst, core.fillTcp.fillChecksum);
    return;
  }
  const upper = out.subarray(upperAt);
  switch (pkt.upper) {
    case Upper.Udp:
      emitUdp(pkt.udp, pkt.payload, new UdpPacket(upper), src, dst, core.fillUdp);
      return;
    case Upper.Icmpv4:
      emitIcmpv4(pkt.icmpv4!, new Icmpv4Packet(upper), core.fillIcmpv4);
      return;
    case Upper.Icmpv6:
      emitIcmpv6(
        pkt.icmpv6!,
        new Icmpv6Packet(upper),
        src as Ipv6Address,
        dst as Ipv6Address,
        core.fillIcmpv6,
      );
      return;
  }
}

/**
 * The link destination for an IP next hop: a hardware address, `null` while unresolved, or
 * `undefined` for the IP medium.
 */
function linkDst(core: IfaceCore, hop: IpAddress): EthernetAddress | null | undefined {
  if (core.medium !== "ethernet") return undefined;
  if (hop.version === 4) {
    if (hop.isBroadcast || core.routes.isSubnetBroadcast(hop)) return EthernetAddress.BROADCAST;
    if (hop.isMulticast) return new EthernetAddress(0x0100, 0x5e000000 | (hop.value & 0x7fffff));
  } else if (hop.isMulticast) {
    return new EthernetAddress(0x3333, hop.w3);
  }
  return core.neighbors.lookup(hop, core.now);
}

/** Opens a device frame of `len` bytes, or marks the device full. */
function frame(core: IfaceCore, len: number): Uint8Array | null {
  if (core.deviceFull || core.burstLeft <= 0) {
    core.deviceFull = true;
    return null;
  }
  const buf = core.device!.transmit(core.now, len);
  if (buf === null) core.deviceFull = true;
  return buf;
}

function commit(core: IfaceCore): void {
  core.device!.commit();
  core.counters.txFrames++;
  core.burstLeft--;
}

function writeEth(core: IfaceCore, buf: Uint8Array, dst: EthernetAddress, etherType: number): void {
  const eth = core.eth;
  eth.dst = dst;
  eth.etherType = etherType;
  emitEthernet(eth, new EthernetFrame(buf));
}

/**
 * Sends a fully built IP packet to a resolved link address (`undefined` on the IP medium),
 * fragmenting it when it exceeds the MTU. `false` only when the device is full.
 */
export function sendBuilt(
  core: IfaceCore,
  pkt: Uint8Array,
  mac: EthernetAddress | undefined,
): boolean {
  const link = mac === undefined ? 0 : ETH_LEN;
  const v4 = pkt[0]! >>> 4 === 4;
  // A TCP packet up to the device's segmentation-offload size goes whole: the host cuts it (a
  // forwarded super-frame the ingress device coalesced).
  if (pkt.length <= core.ipMtu || (pkt.length <= core.tcpMax && isWholeTcp(pkt, v4))) {
    const buf = frame(core, link + pkt.length);
    if (buf === null) return false;
    if (mac !== undefined) writeEth(core, buf, mac, v4 ? EtherType.Ipv4 : EtherType.Ipv6);
    buf.set(pkt, link);
    commit(core);
    return true;
  }
  return v4 ? fragment4(core, pkt, mac) : fragment6(core, pkt, mac);
}

/** A TCP segment that is not a fragment (IPv6: without extension headers). */
function isWholeTcp(pkt: Uint8Array, v4: boolean): boolean {
  if (!v4) return new Ipv6Packet(pkt).nextHeader === IpProtocol.Tcp;
  const ip = new Ipv4Packet(pkt);
  return ip.protocol === IpProtocol.Tcp && !ip.moreFrags && ip.fragOffset === 0;
}

/** RFC 791 §3.2: split an oversized IPv4 packet into fragments of the MTU. */
function fragment4(core: IfaceCore, pkt: Uint8Array, mac: EthernetAddress | undefined): boolean {
  const view = new Ipv4Packet(pkt);
  if (view.dontFrag) {
    core.counters.tooBig++;
    return true;
  }
  const hl = view.headerLen;
  const data = pkt.subarray(hl, view.totalLen);
  const chunk = (core.ipMtu - hl) & ~7;
  if (chunk <= 0) {
    core.counters.tooBig++;
    return true;
  }
  const link = mac === undefined ? 0 : ETH_LEN;
  const baseOff = view.fragOffset;
  const baseMore = view.moreFrags;
  for (let off = 0; off < data.length; off += chunk) {
    const n = Math.min(chunk, data.length - off);
    const buf = frame(core, link + hl + n);
    if (buf === null) {
      core.counters.deviceFull++;
      return true; // the rest of the datagram is lost; it cannot be resumed
    }
    if (mac !== undefined) writeEth(core, buf, mac, EtherType.Ipv4);
    buf.set(pkt.subarray(0, hl), link);
    const f = new Ipv4Packet(buf.subarray(link));
    f.totalLen = hl + n;
    f.fragOffset = baseOff + off;
    f.moreFrags = baseMore || off + n < data.length;
    if (core.csum.ipv4) f.fillChecksum();
    buf.set(data.subarray(off, off + n), link + hl);
    commit(core);
  }
  return true;
}

/** RFC 8200 §4.5: fragment an oversized IPv6 packet at the source (no extension headers). */
function fragment6(core: IfaceCore, pkt: Uint8Array, mac: EthernetAddress | undefined): boolean {
  const nextHeader = pkt[6]!;
  if (nextHeader === IpProtocol.HopByHop) {
    core.counters.tooBig++; // its unfragmentable part would need the Fragment header after it
    return true;
  }
  const data = pkt.subarray(IPV6_HEADER_LEN);
  const chunk = (core.ipMtu - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN) & ~7;
  if (chunk <= 0) {
    core.counters.tooBig++;
    return true;
  }
  const link = mac === undefined ? 0 : ETH_LEN;
  const ident = core.ident6;
  core.ident6 = (core.ident6 + 1) >>> 0;
  for (let off = 0; off < data.length; off += chunk) {
    const n = Math.min(chunk, data.length - off);
    const buf = frame(core, link + IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN + n);
    if (buf === null) {
      core.counters.deviceFull++;
      return true;
    }
    if (mac !== undefined) writeEth(core, buf, mac, EtherType.Ipv6);
    buf.set(pkt.subarray(0, IPV6_HEADER_LEN), link);
    const h = new Ipv6Packet(buf.subarray(link));
    h.payloadLen = IPV6_FRAGMENT_HEADER_LEN + n;
    h.nextHeader = IpProtocol.Ipv6Frag;
    emitIpv6Fragment(
      { nextHeader, fragOffset: off, moreFrags: off + n < data.length, ident },
      new Ipv6FragmentHeader(buf.subarray(link + IPV6_HEADER_LEN)),
    );
    buf.set(data.subarray(off, off + n), link + IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN);
    commit(core);
  }
  return true;
}

/**
 * Sends an IP packet built elsewhere (a forwarded one) to the next hop `hop` on this interface,
 * without routing: resolves the link address (queuing a copy while unresolved) and cuts IPv4
 * with DF clear into fragments when it exceeds the MTU. `false` only when the device is full.
 */
export function sendIpTo(core: IfaceCore, packet: Uint8Array, hop: IpAddress): boolean {
  const mac = linkDst(core, hop);
  if (mac === null) {
    if (core.neighbors.enqueue(hop, packet.slice(), core.now) === "full") core.counters.queueFull++;
    return true;
  }
  return sendBuilt(core, packet, mac);
}

/** Sends an ARP packet (Ethernet only): the one egress that is not IP. */
export function sendArp(
  core: IfaceCore,
  operation: number,
  dstMac: EthernetAddress,
  spa: Ipv4Address,
  tha: EthernetAddress,
  tpa: Ipv4Address,
): boolean {
  const buf = frame(core, ETH_LEN + ARP_PACKET_LEN);
  if (buf === null) return false;
  writeEth(core, buf, dstMac, EtherType.Arp);
  emitArp({
    operation,
    senderHardwareAddr: core.hw,
    senderProtocolAddr: spa,
    targetHardwareAddr: tha,
    targetProtocolAddr: tpa,
  }, new ArpPacket(buf.subarray(ETH_LEN)));
  commit(core);
  return true;
}

/**
 * Sends a TCP segment (a reply from ingress, or a socket's through the emitter) with the ECN
 * codepoint `ecn` in its IP header (RFC 3168 §6.1; default Not-ECT).
 */
export function sendTcp(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  repr: TcpRepr,
  ecn = 0,
): boolean {
  core.pkt.setTcp(src, dst, repr, core.hopLimit, ecn);
  return sendPacket(core, core.pkt);
}

/** Sends an ICMPv4 message; `ttl` 0 means the interface's hop limit. */
export function sendIcmpv4(
  core: IfaceCore,
  src: Ipv4Address,
  dst: Ipv4Address,
  repr: Icmpv4Repr,
  ttl = 0,
): boolean {
  core.pkt.setIcmpv4(src, dst, repr, ttl > 0 ? ttl : core.hopLimit);
  return sendPacket(core, core.pkt);
}

/**
 * Sends an ICMPv6 message, NDP (`kind: "ndisc"`) and MLD (`kind: "mld"`) included; `hopLimit`
 * 0 means the interface's (NDP messages must use 255, RFC 4861 §6.1). MLD messages leave with
 * hop limit 1 and a Router Alert in a Hop-by-Hop header whatever `hopLimit` says (RFC 3810 §5).
 * This is the way for other iface code (SLAAC's RS, DAD probes, MLD reports) to send ICMPv6.
 */
export function sendIcmpv6(
  core: IfaceCore,
  src: Ipv6Address,
  dst: Ipv6Address,
  repr: Icmpv6Repr,
  hopLimit = 0,
): boolean {
  core.pkt.setIcmpv6(src, dst, repr, hopLimit > 0 ? hopLimit : core.hopLimit);
  return sendPacket(core, core.pkt);
}

/** The source address for a datagram to `dst` from a socket bound to no address. */
function sourceOf(core: IfaceCore, dst: IpAddress): IpAddress | null {
  return core.group === null ? core.routes.sourceFor(dst) : core.group.sourceFor(core, dst);
}

/**
 * The single emitter object the interface hands to every socket's `dispatch`, and to the
 * attached `NdpHost` (whole IPv6 packets through `sendPacket`).
 */
export class Emitter implements TcpEmitter, UdpEmitter, IcmpEmitter, RawEmitter, NdpOutput {
  readonly #core: IfaceCore;
  /** A segment is written into a frame (or a copied packet) before `emitTcp` returns. */
  readonly writesThrough = true;

  constructor(core: IfaceCore) {
    this.#core = core;
  }

  emitTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr, ecn = 0): boolean {
    return sendTcp(this.#core, src, dst, repr, ecn);
  }

  emitUdp(src: IpAddress | null, srcPort: number, dst: IpEndpoint, payload: Uint8Array): boolean {
    const core = this.#core;
    const from = src ?? sourceOf(core, dst.addr);
    if (from === null) {
      core.counters.noRoute++;
      return true;
    }
    core.pkt.setUdp(from, srcPort, dst.addr, dst.port, payload, core.hopLimit);
    return sendPacket(core, core.pkt);
  }

  emitEchoRequest(
    src: IpAddress | null,
    dst: IpAddress,
    ident: number,
    seq: number,
    data: Uint8Array,
  ): boolean {
    const core = this.#core;
    const from = src ?? sourceOf(core, dst);
    if (from === null) {
      core.counters.noRoute++;
      return true;
    }
    const pkt = core.pkt;
    const echo = dst.version === 4 ? pkt.echo4 : pkt.echo6;
    echo.kind = "echoRequest";
    echo.ident = ident;
    echo.seqNo = seq;
    echo.data = data;
    if (dst.version === 4) {
      pkt.setIcmpv4(from as Ipv4Address, dst, echo, core.hopLimit);
    } else {
      pkt.setIcmpv6(from as Ipv6Address, dst, echo, core.hopLimit);
    }
    return sendPacket(core, pkt);
  }

  sendPacket(packet: Uint8Array, dst: IpAddress): boolean {
    const core = this.#core;
    core.pkt.setRaw(packet, dst);
    return sendPacket(core, core.pkt);
  }

  emitRaw(version: 4 | 6, packet: Uint8Array): boolean {
    const core = this.#core;
    const hdr = version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    if (packet.length < hdr || packet[0]! >>> 4 !== version) {
      core.counters.malformed++;
      return true;
    }
    const dst = version === 4
      ? Ipv4Address.fromBytes(packet, 16)
      : Ipv6Address.fromBytes(packet, 24);
    core.pkt.setRaw(packet, dst);
    return sendPacket(core, core.pkt);
  }
}
