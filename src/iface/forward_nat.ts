/**
 * NAPT on a forwarded IPv4 packet, in place: asks the {@linkcode NatTable} for the mapping and
 * rewrites the address and port (the echo identifier for ICMP) through the wire views, fixing
 * the IPv4, TCP, UDP and ICMP checksums incrementally (RFC 1624; RFC 3022 §4.2). Internal to the
 * iface folder.
 *
 * @module
 */

import type { Ipv4Address } from "../wire/address.ts";
import { checksumUpdate } from "../wire/checksum.ts";
import { Icmpv4Packet, Icmpv4Type } from "../wire/icmpv4.ts";
import { IpProtocol } from "../wire/ip.ts";
import { IPV4_HEADER_LEN, Ipv4Packet } from "../wire/ipv4.ts";
import { TCP_HEADER_LEN, TcpPacket } from "../wire/tcp.ts";
import { UDP_HEADER_LEN, UdpPacket } from "../wire/udp.ts";
import type { NatProtocol, NatTable } from "./nat.ts";

/** What a translation step did. */
export const NatStep = {
  /** Rewritten; forward it. */
  Translated: 0,
  /** Inbound: no mapping (or filtered): the packet is for the router itself. */
  NoMapping: 1,
  /** Outbound: the table is full or has no free port. */
  Refused: 2,
  /** A protocol or ICMP type the NAT does not translate. */
  Unsupported: 3,
  /** A fragment: its ports are not in it. */
  Fragment: 4,
  /** The transport header is truncated. */
  Malformed: 5,
} as const;
/** One of the {@linkcode NatStep} values. */
export type NatStep = typeof NatStep[keyof typeof NatStep];

/** ICMP echo identifier as the "port" (RFC 5508 §3.1). */
const ECHO_LEN = 8;
/** The min length of each protocol's header (where the ports and checksum are). */
function l4Min(protocol: number): number {
  return protocol === IpProtocol.Tcp
    ? TCP_HEADER_LEN
    : protocol === IpProtocol.Udp
    ? UDP_HEADER_LEN
    : ECHO_LEN;
}

function protocolOf(protocol: number): NatProtocol | null {
  return protocol === IpProtocol.Tcp
    ? "tcp"
    : protocol === IpProtocol.Udp
    ? "udp"
    : protocol === IpProtocol.Icmp
    ? "icmp"
    : null;
}

/** The ports (the echo identifier for ICMP) and TCP flags of the packet being translated. */
const ports = { src: 0, dst: 0, flags: 0 };

/**
 * What the last {@linkcode natInbound} that translated changed, so that an ICMP error about the
 * packet can quote it as it arrived (see {@linkcode natUndoInbound}):
 * the protocol (`null` after an ICMP error was translated: nothing is sent about an error) and
 * the external port (echo identifier) the packet was addressed to.
 */
const lastIn: { kind: NatProtocol | null; port: number } = { kind: null, port: 0 };

/**
 * Byte offsets read and written in place, so that a translation allocates nothing: the IPv4
 * header checksum, source and destination (RFC 791), TCP's flags and checksum (RFC 9293), UDP's
 * checksum (RFC 768), ICMP's checksum and echo identifier (RFC 792). Ports are the first two
 * 16-bit words of TCP and UDP.
 */
const IP_CHECKSUM = 10, IP_SRC = 12, IP_DST = 16;
const TCP_FLAGS = 13, TCP_CHECKSUM = 16, UDP_CHECKSUM = 6, ICMP_CHECKSUM = 2, ECHO_IDENT = 4;

function read16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function write16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

/**
 * The transport bytes of IPv4 packet `b`, as `Ipv4Packet.payload` bounds them (from the header
 * length to the total length, clipped to the buffer): the offset, and the length (negative or
 * short when truncated).
 */
const l4 = { off: 0, len: 0 };
function locateL4(b: Uint8Array): void {
  const hl = (b[0]! & 0x0f) * 4;
  let end = read16(b, 2);
  if (end > b.length) end = b.length;
  l4.off = hl;
  l4.len = end < hl ? 0 : end - hl;
}

/** Reads the TCP or UDP header at `off` in `b`: ports (and TCP's flags) into {@linkcode ports}. */
function readPorts(kind: "tcp" | "udp", b: Uint8Array, off: number): void {
  ports.src = read16(b, off);
  ports.dst = read16(b, off + 2);
  ports.flags = kind === "tcp" ? b[off + TCP_FLAGS]! : 0;
}

/**
 * Translates an inside→outside packet (source becomes the external address and port). With
 * hairpinning (the destination is the external address and maps back inside), the destination
 * is rewritten to the inside host too.
 *
 * @param src The packet's source address (the object ingress parsed; a new mapping keeps it).
 * @param dst The packet's destination address.
 */
export function natOutbound(
  nat: NatTable,
  now: number,
  ip: Ipv4Packet,
  src: Ipv4Address,
  dst: Ipv4Address,
): NatStep {
  const b = ip.buffer;
  const protocol = b[9]!;
  const kind = protocolOf(protocol);
  if (kind === null) return NatStep.Unsupported;
  if ((read16(b, 6) & 0x3fff) !== 0) return NatStep.Fragment; // MF or an offset
  locateL4(b);
  const off = l4.off;
  if (l4.len < l4Min(protocol)) return NatStep.Malformed;
  if (kind === "icmp") {
    const type = b[off]!;
    if (isIcmpError(type)) return errorOutbound(nat, now, ip, new Icmpv4Packet(ip.payload));
    if (type !== Icmpv4Type.EchoRequest) return NatStep.Unsupported;
    ports.src = read16(b, off + ECHO_IDENT);
    ports.dst = 0;
    ports.flags = 0;
  } else readPorts(kind, b, off);
  const r = nat.outbound(now, kind, src, ports.src, dst, ports.dst, ports.flags);
  if (r === null) return NatStep.Refused;
  const hairpin = r.hairpin, hairpinPort = r.hairpinPort;
  rewrite(b, off, kind, true, r.address, r.port);
  if (hairpin !== null) rewrite(b, off, kind, false, hairpin, hairpinPort);
  return NatStep.Translated;
}

/**
 * Translates an outside→inside packet addressed to the external address.
 *
 * @param src The packet's source address.
 */
export function natInbound(nat: NatTable, now: number, ip: Ipv4Packet, src: Ipv4Address): NatStep {
  const b = ip.buffer;
  const protocol = b[9]!;
  const kind = protocolOf(protocol);
  if (kind === null) return NatStep.NoMapping;
  if ((read16(b, 6) & 0x3fff) !== 0) return NatStep.NoMapping;
  locateL4(b);
  const off = l4.off;
  if (l4.len < l4Min(protocol)) return NatStep.Malformed;
  if (kind === "icmp") {
    const type = b[off]!;
    if (isIcmpError(type)) return errorInbound(nat, now, ip, new Icmpv4Packet(ip.payload));
    if (type !== Icmpv4Type.EchoReply) return NatStep.NoMapping;
    ports.src = 0;
    ports.dst = read16(b, off + ECHO_IDENT);
    ports.flags = 0;
  } else readPorts(kind, b, off);
  const r = nat.inbound(now, kind, ports.dst, src, ports.src, ports.flags);
  if (r === null) return NatStep.NoMapping;
  lastIn.kind = kind;
  lastIn.port = ports.dst;
  rewrite(b, off, kind, false, r.address, r.port);
  return NatStep.Translated;
}

/**
 * Undoes the last inbound translation of `ip` (the packet {@linkcode natInbound} just
 * translated), so that an ICMP error the router sends about it quotes the packet as it arrived
 * from outside, with the external address and port (RFC 5508: the error must make sense to the
 * outside host, which never saw the inside address). Nothing to undo after an ICMP error.
 */
export function natUndoInbound(nat: NatTable, ip: Ipv4Packet): void {
  const kind = lastIn.kind;
  if (kind === null) return;
  const b = ip.buffer;
  rewrite(b, (b[0]! & 0x0f) * 4, kind, false, nat.externalAddress, lastIn.port);
  lastIn.kind = null;
}

/**
 * Writes `addr`/`port` as the source (`isSrc`) or destination of the IPv4 packet `b` whose
 * transport header is at `off`, and updates the checksums. For ICMP echo the identifier plays
 * both ports.
 */
function rewrite(
  b: Uint8Array,
  off: number,
  kind: NatProtocol,
  isSrc: boolean,
  addr: Ipv4Address,
  port: number,
): void {
  const at = isSrc ? IP_SRC : IP_DST;
  const oh = read16(b, at), ol = read16(b, at + 2);
  const nh = addr.value >>> 16, nl = addr.value & 0xffff;
  write16(b, IP_CHECKSUM, checksumUpdate(checksumUpdate(read16(b, IP_CHECKSUM), oh, nh), ol, nl));
  write16(b, at, nh);
  write16(b, at + 2, nl);
  if (kind === "icmp") {
    // ICMP has no pseudo-header: only the identifier counts.
    const id = off + ECHO_IDENT;
    write16(
      b,
      off + ICMP_CHECKSUM,
      checksumUpdate(read16(b, off + ICMP_CHECKSUM), read16(b, id), port),
    );
    write16(b, id, port);
    return;
  }
  const pAt = isSrc ? off : off + 2;
  const op = read16(b, pAt);
  const cAt = off + (kind === "tcp" ? TCP_CHECKSUM : UDP_CHECKSUM);
  const c = read16(b, cAt);
  // RFC 768: a UDP checksum of zero means "none"; a computed zero is sent as all ones.
  if (kind === "tcp" || c !== 0) {
    const c2 = checksumUpdate(checksumUpdate(checksumUpdate(c, oh, nh), ol, nl), op, port);
    write16(b, cAt, kind === "udp" && c2 === 0 ? 0xffff : c2);
  }
  write16(b, pAt, port);
}

/** Destination Unreachable, Time Exceeded, Parameter Problem: the errors that quote a packet. */
function isIcmpError(type: number): boolean {
  return type === Icmpv4Type.DstUnreachable || type === Icmpv4Type.TimeExceeded ||
    type === Icmpv4Type.ParamProblem;
}

/** The packet an ICMP error quotes, when it holds an IPv4 header and 8 transport bytes. */
function quoted(m: Icmpv4Packet): { q: Ipv4Packet; l4: Uint8Array; kind: NatProtocol } | null {
  const data = m.data;
  if (data.length < IPV4_HEADER_LEN + 8 || data[0]! >>> 4 !== 4) return null;
  const q = new Ipv4Packet(data);
  const hl = q.headerLen;
  if (hl < IPV4_HEADER_LEN || data.length < hl + 8) return null;
  const kind = protocolOf(q.protocol);
  if (kind === null) return null;
  return { q, l4: data.subarray(hl), kind };
}

/** The quoted packet's port (or echo identifier) on its source or destination side. */
function quotedPort(l4: Uint8Array, kind: NatProtocol, isSrc: boolean): number {
  if (kind === "tcp") {
    const t = new TcpPacket(l4);
    return isSrc ? t.srcPort : t.dstPort;
  }
  if (kind === "udp") {
    const u = new UdpPacket(l4);
    return isSrc ? u.srcPort : u.dstPort;
  }
  return new Icmpv4Packet(l4).echoIdent;
}

/**
 * RFC 5508 §4.2 (REQ-3): an error from outside about a packet we translated out quotes it with
 * the external address and port as source. Rewrite the outer destination and the quoted source
 * back to the inside host, fixing every checksum on the way.
 */
function errorInbound(nat: NatTable, now: number, ip: Ipv4Packet, m: Icmpv4Packet): NatStep {
  const x = quoted(m);
  if (x === null || x.q.src.value !== nat.externalAddress.value) return NatStep.NoMapping;
  if (x.kind === "icmp" && new Icmpv4Packet(x.l4).msgType !== Icmpv4Type.EchoRequest) {
    return NatStep.NoMapping;
  }
  const e = nat.findExternal(now, x.kind, quotedPort(x.l4, x.kind, true));
  if (e === null) return NatStep.NoMapping;
  rewriteQuoted(m, x.q, x.l4, x.kind, true, e.internalAddress, e.internalPort);
  setAddress(ip, false, e.internalAddress);
  lastIn.kind = null;
  return NatStep.Translated;
}

/**
 * RFC 5508 §4.2 (REQ-4): an inside host's error about a packet that came in through a mapping
 * quotes it with the inside endpoint as destination. Rewrite the quoted destination and the
 * outer source to the external address and port.
 */
function errorOutbound(nat: NatTable, now: number, ip: Ipv4Packet, m: Icmpv4Packet): NatStep {
  const x = quoted(m);
  if (x === null) return NatStep.Unsupported;
  if (x.kind === "icmp" && new Icmpv4Packet(x.l4).msgType !== Icmpv4Type.EchoReply) {
    return NatStep.Unsupported;
  }
  const e = nat.findInternal(now, x.kind, x.q.dst, quotedPort(x.l4, x.kind, false));
  if (e === null) return NatStep.Unsupported;
  rewriteQuoted(m, x.q, x.l4, x.kind, false, nat.externalAddress, e.externalPort);
  setAddress(ip, true, nat.externalAddress);
  return NatStep.Translated;
}

/** Sets the outer source or destination (IPv4 header checksum only: ICMP has no pseudo-header). */
function setAddress(ip: Ipv4Packet, isSrc: boolean, addr: Ipv4Address): void {
  const old = isSrc ? ip.src.value : ip.dst.value;
  ip.checksum = checksumUpdate(
    checksumUpdate(ip.checksum, old >>> 16, addr.value >>> 16),
    old & 0xffff,
    addr.value & 0xffff,
  );
  if (isSrc) ip.src = addr;
  else ip.dst = addr;
}

/**
 * Rewrites the quoted packet's source or destination address and port (the echo identifier for
 * a quoted echo), its IPv4 header checksum and its transport checksum where the quote holds it,
 * and updates the ICMP checksum for every 16-bit word that changed (all are aligned).
 */
function rewriteQuoted(
  m: Icmpv4Packet,
  q: Ipv4Packet,
  l4: Uint8Array,
  kind: NatProtocol,
  isSrc: boolean,
  addr: Ipv4Address,
  port: number,
): void {
  let ic = m.checksum;
  const old = isSrc ? q.src.value : q.dst.value;
  const oh = old >>> 16, ol = old & 0xffff, nh = addr.value >>> 16, nl = addr.value & 0xffff;
  const ipc = q.checksum;
  const ipc2 = checksumUpdate(checksumUpdate(ipc, oh, nh), ol, nl);
  ic = checksumUpdate(checksumUpdate(checksumUpdate(ic, oh, nh), ol, nl), ipc, ipc2);
  q.checksum = ipc2;
  if (isSrc) q.src = addr;
  else q.dst = addr;
  if (kind === "icmp") {
    const echo = new Icmpv4Packet(l4);
    const op = echo.echoIdent, c = echo.checksum;
    const c2 = checksumUpdate(c, op, port);
    ic = checksumUpdate(checksumUpdate(ic, op, port), c, c2);
    echo.checksum = c2;
    echo.echoIdent = port;
  } else {
    const op = quotedPort(l4, kind, isSrc);
    ic = checksumUpdate(ic, op, port);
    // The transport checksum covers the pseudo-header: update it when the quote holds it (UDP's
    // is in the 8 bytes every quote has; TCP's only in a whole header).
    if (kind === "udp" || l4.length >= TCP_HEADER_LEN) {
      const t = kind === "tcp" ? new TcpPacket(l4) : new UdpPacket(l4);
      const c = t.checksum;
      if (kind === "tcp" || c !== 0) {
        let c2 = checksumUpdate(checksumUpdate(checksumUpdate(c, oh, nh), ol, nl), op, port);
        if (kind === "udp" && c2 === 0) c2 = 0xffff;
        ic = checksumUpdate(ic, c, c2);
        t.checksum = c2;
      }
    }
    if (kind === "tcp") {
      const t = new TcpPacket(l4);
      if (isSrc) t.srcPort = port;
      else t.dstPort = port;
    } else {
      const u = new UdpPacket(l4);
      if (isSrc) u.srcPort = port;
      else u.dstPort = port;
    }
  }
  m.checksum = ic;
}
