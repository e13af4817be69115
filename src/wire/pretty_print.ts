/**
 * One tcpdump-style line per frame, for traces, test failures and the tcpdump example:
 *
 * ```text
 * ARP, Request who-has 192.0.2.2 tell 192.0.2.1
 * IP 192.0.2.1.49152 > 192.0.2.2.80: Flags [S], seq 1000, win 64240, options [mss 1460], length 0
 * IP6 2001:db8::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has 2001:db8::2
 * ```
 *
 * The format follows tcpdump without `-v`, with these choices of our own: TCP sequence numbers
 * are absolute (like `tcpdump -S`); fragments print as `<protocol> (frag <id>:<len>@<offset>[+])`
 * for IPv4 and IPv6 alike (the IPv6 identification in hex); IPv6 extension headers before the
 * upper layer print as `HBH `, `DSTOPT `, `RT type <t> left <n> `; an 802.1Q tag prints as
 * `vlan <id>, p <pcp>, ` in front; ARP, neighbor discovery and MLD lines carry no length, every
 * other line ends with the upper-layer payload length. Checksums are checked but never hide a
 * packet: a wrong one appends `[bad cksum]`. Whatever does not parse ends the line with
 * `[malformed: <reason>]` after the layers that did parse. {@linkcode prettyPrint} never throws.
 *
 * @module
 */

import { type IpAddress, Ipv4Address, Ipv6Address } from "./address.ts";
import { ArpOperation, ArpPacket, parseArp } from "./arp.ts";
import type { ParseOptions } from "./checksum.ts";
import { WireError } from "./error.ts";
import { EthernetFrame, EtherType, parseEthernet } from "./ethernet.ts";
import { Icmpv4Packet, parseIcmpv4 } from "./icmpv4.ts";
import { Icmpv6Packet, parseIcmpv6 } from "./icmpv6.ts";
import { IpProtocol, ipVersionOf } from "./ip.ts";
import { Ipv4Packet, parseIpv4 } from "./ipv4.ts";
import { Ipv6Packet, parseIpv6 } from "./ipv6.ts";
import {
  Ipv6FragmentHeader,
  Ipv6OptionsHeader,
  Ipv6RoutingHeader,
  parseIpv6Fragment,
  parseIpv6Options,
  parseIpv6Routing,
} from "./ipv6_ext.ts";
import type { MldRepr } from "./mld.ts";
import type { NdiscRepr } from "./ndisc.ts";
import { parseTcp, TcpFlags, TcpOption, TcpPacket } from "./tcp.ts";
import { parseUdp, UdpPacket } from "./udp.ts";

/** Checksums are verified separately so that a bad one is reported, not fatal. */
const NO_VERIFY: ParseOptions = { verifyChecksum: false };
const BAD_CKSUM = " [bad cksum]";

/**
 * Formats one frame as a single tcpdump-style line.
 *
 * @param frame The frame bytes: an Ethernet frame, or a bare IPv4 / IPv6 packet for medium `ip`.
 * @param medium `"ethernet"` or `"ip"`, as the device's medium.
 * @returns The line, without a trailing newline.
 *
 * @example
 * ```ts
 * import { prettyPrint } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const arp = new Uint8Array([
 *   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
 *   0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
 * ]);
 * assert.equal(prettyPrint(arp, "ethernet"), "ARP, Request who-has 192.0.2.2 tell 192.0.2.1");
 * assert.equal(
 *   prettyPrint(new Uint8Array([0x45, 0]), "ip"),
 *   "IP [malformed: Invalid ipv4.length 2: buffer truncated, need at least 20 bytes]",
 * );
 * ```
 */
export function prettyPrint(frame: Uint8Array, medium: "ethernet" | "ip"): string {
  try {
    return medium === "ethernet" ? printEthernet(frame) : printIp(frame);
  } catch (e) {
    // Only a bug in a parser gets here; the line still says what happened.
    return malformed(e);
  }
}

function malformed(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `[malformed: ${msg}]`;
}

function printEthernet(bytes: Uint8Array): string {
  const frame = new EthernetFrame(bytes);
  let repr;
  try {
    repr = parseEthernet(frame);
  } catch (e) {
    return malformed(e);
  }
  const vlan = repr.vlan === null ? "" : `vlan ${repr.vlan.id}, p ${repr.vlan.pcp}, `;
  const payload = frame.payload;
  switch (repr.etherType) {
    case EtherType.Ipv4:
      return vlan + printIpv4(payload);
    case EtherType.Ipv6:
      return vlan + printIpv6(payload);
    case EtherType.Arp:
      return vlan + printArp(payload);
    default:
      return `${vlan}ethertype 0x${hex16(repr.etherType)}, length ${payload.length}`;
  }
}

function printIp(bytes: Uint8Array): string {
  switch (ipVersionOf(bytes)) {
    case 4:
      return printIpv4(bytes);
    case 6:
      return printIpv6(bytes);
    default:
      if (bytes.length === 0) {
        return malformed(new WireError("ip.length", 0, "empty packet"));
      }
      return malformed(new WireError("ip.version", bytes[0]! >>> 4, "neither IPv4 nor IPv6"));
  }
}

function printArp(bytes: Uint8Array): string {
  let repr;
  try {
    repr = parseArp(new ArpPacket(bytes));
  } catch (e) {
    return `ARP, ${malformed(e)}`;
  }
  const spa = repr.senderProtocolAddr, tpa = repr.targetProtocolAddr;
  switch (repr.operation) {
    case ArpOperation.Request:
      return `ARP, Request who-has ${tpa} tell ${spa}`;
    case ArpOperation.Reply:
      return `ARP, Reply ${spa} is-at ${repr.senderHardwareAddr}`;
    default:
      return `ARP, op ${repr.operation}, sender ${spa} (${repr.senderHardwareAddr}), ` +
        `target ${tpa} (${repr.targetHardwareAddr})`;
  }
}

function printIpv4(bytes: Uint8Array): string {
  const packet = new Ipv4Packet(bytes);
  let repr;
  try {
    repr = parseIpv4(packet, NO_VERIFY);
  } catch (e) {
    return `IP ${malformed(e)}`;
  }
  const bad = packet.verifyChecksum() ? "" : BAD_CKSUM;
  const { src, dst, protocol } = repr;
  if (repr.moreFrags || repr.fragOffset !== 0) {
    const frag = fragText(repr.ident, repr.payloadLen, repr.fragOffset, repr.moreFrags);
    return `IP ${src} > ${dst}: ${protocolName(protocol)} ${frag}${bad}`;
  }
  const line = printTransport("IP", src, dst, protocol, packet.payload, "");
  return bad === "" || line.endsWith(BAD_CKSUM) ? line : line + bad;
}

function printIpv6(bytes: Uint8Array): string {
  const packet = new Ipv6Packet(bytes);
  let repr;
  try {
    repr = parseIpv6(packet, NO_VERIFY);
  } catch (e) {
    return `IP6 ${malformed(e)}`;
  }
  const { src, dst } = repr;
  let next = repr.nextHeader;
  let payload = packet.payload;
  let prefix = "";
  // RFC 8200 §4.1: walk the extension headers up to the upper layer. The walk is bounded by the
  // payload, which shrinks by at least 8 bytes per header.
  for (;;) {
    try {
      if (next === IpProtocol.HopByHop || next === IpProtocol.Ipv6Opts) {
        const header = new Ipv6OptionsHeader(payload);
        const ext = parseIpv6Options(header, NO_VERIFY);
        prefix += next === IpProtocol.HopByHop ? "HBH " : "DSTOPT ";
        next = ext.nextHeader;
        payload = header.payload;
      } else if (next === IpProtocol.Ipv6Route) {
        const header = new Ipv6RoutingHeader(payload);
        const ext = parseIpv6Routing(header, NO_VERIFY);
        prefix += `RT type ${ext.routingType} left ${ext.segmentsLeft} `;
        next = ext.nextHeader;
        payload = header.payload;
      } else if (next === IpProtocol.Ipv6Frag) {
        const header = new Ipv6FragmentHeader(payload);
        const ext = parseIpv6Fragment(header, NO_VERIFY);
        payload = header.payload;
        next = ext.nextHeader;
        if (ext.moreFrags || ext.fragOffset !== 0) {
          const ident = `0x${ext.ident.toString(16).padStart(8, "0")}`;
          const frag = fragText(ident, payload.length, ext.fragOffset, ext.moreFrags);
          return `IP6 ${src} > ${dst}: ${prefix}${protocolName(next)} ${frag}`;
        }
        prefix += "frag "; // an atomic fragment (RFC 6946)
      } else {
        return printTransport("IP6", src, dst, next, payload, prefix);
      }
    } catch (e) {
      return `IP6 ${src} > ${dst}: ${prefix}${malformed(e)}`;
    }
  }
}

/** `(frag <id>:<len>@<offset>[+])`, the notation of `tcpdump -v`. */
function fragText(ident: number | string, len: number, offset: number, more: boolean): string {
  return `(frag ${ident}:${len}@${offset}${more ? "+" : ""})`;
}

function protocolName(protocol: number): string {
  switch (protocol) {
    case IpProtocol.Tcp:
      return "TCP";
    case IpProtocol.Udp:
      return "UDP";
    case IpProtocol.Icmp:
      return "ICMP";
    case IpProtocol.Icmpv6:
      return "ICMP6";
    case IpProtocol.Igmp:
      return "IGMP";
    default:
      return `ip-proto-${protocol}`;
  }
}

/**
 * Prints the upper layer of an unfragmented packet. `prefix` holds the names of IPv6 extension
 * headers already walked (for example `HBH `).
 */
function printTransport(
  family: "IP" | "IP6",
  src: IpAddress,
  dst: IpAddress,
  protocol: number,
  payload: Uint8Array,
  prefix: string,
): string {
  switch (protocol) {
    case IpProtocol.Tcp:
      return printTcp(family, src, dst, payload, prefix);
    case IpProtocol.Udp:
      return printUdp(family, src, dst, payload, prefix);
    case IpProtocol.Icmp:
      return `${family} ${src} > ${dst}: ${prefix}${icmpv4Text(payload)}`;
    case IpProtocol.Icmpv6:
      if (src.version === 6 && dst.version === 6) {
        return `${family} ${src} > ${dst}: ${prefix}${icmpv6Text(payload, src, dst)}`;
      }
      break;
    case IpProtocol.Ipv6NoNxt:
      return `${family} ${src} > ${dst}: ${prefix}no next header, length ${payload.length}`;
  }
  const name = protocolName(protocol);
  return `${family} ${src} > ${dst}: ${prefix}${name}, length ${payload.length}`;
}

function printUdp(
  family: string,
  src: IpAddress,
  dst: IpAddress,
  bytes: Uint8Array,
  prefix: string,
): string {
  const packet = new UdpPacket(bytes);
  let repr;
  try {
    repr = parseUdp(packet, src, dst, NO_VERIFY);
  } catch (e) {
    return `${family} ${src} > ${dst}: ${prefix}UDP ${malformed(e)}`;
  }
  const bad = packet.verifyChecksum(src, dst) ? "" : BAD_CKSUM;
  return `${family} ${src}.${repr.srcPort} > ${dst}.${repr.dstPort}: ${prefix}UDP, ` +
    `length ${packet.payload.length}${bad}`;
}

function icmpv4Text(bytes: Uint8Array): string {
  const packet = new Icmpv4Packet(bytes);
  let repr;
  try {
    repr = parseIcmpv4(packet, NO_VERIFY);
  } catch (e) {
    return `ICMP ${malformed(e)}`;
  }
  let s: string;
  switch (repr.kind) {
    case "echoRequest":
    case "echoReply":
      s = `ICMP echo ${repr.kind === "echoRequest" ? "request" : "reply"}, id ${repr.ident}, ` +
        `seq ${repr.seqNo}`;
      break;
    case "dstUnreachable":
      s = `ICMP ${unreachableText(repr.code, repr.nextHopMtu, repr.data)}`;
      break;
    case "redirect":
      s = `ICMP redirect ${quotedIpv4(repr.data).dst} to ${repr.code & 1 ? "host" : "net"} ` +
        `${repr.gateway}`;
      break;
    case "timeExceeded":
      s = repr.code === 0
        ? "ICMP time exceeded in-transit"
        : repr.code === 1
        ? "ICMP ip reassembly time exceeded"
        : `ICMP time exceeded, code ${repr.code}`;
      break;
    case "paramProblem":
      s = `ICMP parameter problem - octet ${repr.pointer}`;
      break;
    default:
      s = `ICMP type ${repr.type}, code ${repr.code}`;
  }
  s += `, length ${bytes.length}`;
  return packet.verifyChecksum() ? s : s + BAD_CKSUM;
}

/** The parts of the IPv4 packet quoted by an ICMP error that the line shows. */
function quotedIpv4(data: Uint8Array): { dst: Ipv4Address; protocol: number; port: number | null } {
  // parseIcmpv4 checked that a whole IPv4 header is quoted.
  const ihl = (data[0]! & 0x0f) * 4;
  return {
    dst: Ipv4Address.fromBytes(data, 16),
    protocol: data[9]!,
    port: data.length >= ihl + 4 ? readU16(data, ihl + 2) : null,
  };
}

function unreachableText(code: number, mtu: number, data: Uint8Array): string {
  const q = quotedIpv4(data);
  switch (code) {
    case 0:
      return `net ${q.dst} unreachable`;
    case 1:
      return `host ${q.dst} unreachable`;
    case 2:
      return `${q.dst} protocol ${q.protocol} unreachable`;
    case 3:
      if (q.port !== null && (q.protocol === IpProtocol.Udp || q.protocol === IpProtocol.Tcp)) {
        return `${q.dst} ${
          q.protocol === IpProtocol.Udp ? "udp" : "tcp"
        } port ${q.port} unreachable`;
      }
      return `${q.dst} port unreachable`;
    case 4:
      return `${q.dst} unreachable - need to frag (mtu ${mtu})`;
    default:
      return `${q.dst} unreachable, code ${code}`;
  }
}

/**
 * ICMPv6 as tcpdump words it. Neighbor discovery and MLD lines carry no length (their size is
 * fixed by their kind and options); echo, errors and unknown types do.
 */
function icmpv6Text(bytes: Uint8Array, src: Ipv6Address, dst: Ipv6Address): string {
  const packet = new Icmpv6Packet(bytes);
  let repr;
  try {
    repr = parseIcmpv6(packet, src, dst, NO_VERIFY);
  } catch (e) {
    return `ICMP6 ${malformed(e)}`;
  }
  let s = "ICMP6, ";
  switch (repr.kind) {
    case "echoRequest":
    case "echoReply":
      s += `echo ${repr.kind === "echoRequest" ? "request" : "reply"}, id ${repr.ident}, ` +
        `seq ${repr.seqNo}, length ${bytes.length}`;
      break;
    case "dstUnreachable":
      s += `destination unreachable, ${unreachable6Text(repr.code, repr.data)}, ` +
        `length ${bytes.length}`;
      break;
    case "pktTooBig":
      s += `packet too big, mtu ${repr.mtu}, length ${bytes.length}`;
      break;
    case "timeExceeded": {
      const why = repr.code === 0
        ? "in-transit"
        : repr.code === 1
        ? "reassembly"
        : `code ${repr.code}`;
      const qdst = Ipv6Address.fromBytes(repr.data, 24);
      s += `time exceeded ${why} for ${qdst}, length ${bytes.length}`;
      break;
    }
    case "paramProblem":
      s += `parameter problem, code ${repr.code}, pointer ${repr.pointer}, length ${bytes.length}`;
      break;
    case "ndisc":
      s += ndiscText(repr.repr);
      break;
    case "mld":
      s += mldText(repr.repr);
      break;
    default:
      s += `type ${repr.type}, code ${repr.code}, length ${bytes.length}`;
  }
  return packet.verifyChecksum(src, dst) ? s : s + BAD_CKSUM;
}

/** RFC 4443 §3.1 codes, with the quoted destination (parseIcmpv6 checked a whole IPv6 header). */
function unreachable6Text(code: number, data: Uint8Array): string {
  const qdst = Ipv6Address.fromBytes(data, 24);
  switch (code) {
    case 0:
      return `no route to ${qdst}`;
    case 1:
      return `${qdst} unreachable prohibited`;
    case 2:
      return `beyond scope of source address for ${qdst}`;
    case 3:
      return `unreachable address ${qdst}`;
    case 4: {
      const next = data[6]!;
      if ((next === IpProtocol.Udp || next === IpProtocol.Tcp) && data.length >= 44) {
        const proto = next === IpProtocol.Udp ? "udp" : "tcp";
        return `unreachable port, ${qdst} ${proto} port ${readU16(data, 42)}`;
      }
      return `unreachable port, ${qdst}`;
    }
    default:
      return `code ${code}, ${qdst}`;
  }
}

function ndiscText(r: NdiscRepr): string {
  switch (r.kind) {
    case "routerSolicit":
      return "router solicitation";
    case "routerAdvert": {
      let s = `router advertisement, hop limit ${r.hopLimit}, lifetime ${r.routerLifetime}s`;
      if (r.mtu !== null) s += `, mtu ${r.mtu}`;
      for (const p of r.prefixes) s += `, prefix ${p.prefix}/${p.prefixLen}`;
      return s;
    }
    case "neighborSolicit":
      return `neighbor solicitation, who has ${r.target}`;
    case "neighborAdvert": {
      const flags = [r.router ? "rtr" : "", r.solicited ? "sol" : "", r.override ? "ovr" : ""]
        .filter((f) => f !== "").join(", ");
      return `neighbor advertisement, tgt is ${r.target}${flags === "" ? "" : ` (${flags})`}`;
    }
    case "redirect":
      return `redirect, ${r.destination} to ${r.target}`;
  }
}

function mldText(r: MldRepr): string {
  switch (r.kind) {
    case "query":
      return `multicast listener query v1, group ${r.group}, max resp delay ${r.maxResponseDelay}`;
    case "report":
      return `multicast listener report v1, group ${r.group}`;
    case "done":
      return `multicast listener done, group ${r.group}`;
    case "queryV2":
      return `multicast listener query v2, group ${r.group}, ${r.sources.length} source(s)`;
    case "reportV2":
      return `multicast listener report v2, ${r.records.length} group record(s)`;
  }
}

/** Flag letters in tcpdump's order: F S R P, `.` for ACK, U E W; `none` when no flag is set. */
function flagText(flags: number): string {
  let s = "";
  if (flags & TcpFlags.FIN) s += "F";
  if (flags & TcpFlags.SYN) s += "S";
  if (flags & TcpFlags.RST) s += "R";
  if (flags & TcpFlags.PSH) s += "P";
  if (flags & TcpFlags.ACK) s += ".";
  if (flags & TcpFlags.URG) s += "U";
  if (flags & TcpFlags.ECE) s += "E";
  if (flags & TcpFlags.CWR) s += "W";
  return s === "" ? "none" : s;
}

function printTcp(
  family: string,
  src: IpAddress,
  dst: IpAddress,
  bytes: Uint8Array,
  prefix: string,
): string {
  const packet = new TcpPacket(bytes);
  let repr;
  try {
    repr = parseTcp(packet, src, dst, NO_VERIFY);
  } catch (e) {
    return `${family} ${src} > ${dst}: ${prefix}TCP ${malformed(e)}`;
  }
  const len = repr.payload.length;
  let s = `${family} ${src}.${repr.srcPort} > ${dst}.${repr.dstPort}: ${prefix}` +
    `Flags [${flagText(repr.flags)}], seq ${repr.seq}`;
  if (len > 0) s += `:${(repr.seq + len) >>> 0}`;
  if (repr.flags & TcpFlags.ACK) s += `, ack ${repr.ack}`;
  s += `, win ${repr.window}`;
  if (repr.flags & TcpFlags.URG) s += `, urg ${repr.urgent}`;
  if (packet.headerLen > 20) s += `, options [${optionsText(packet.options)}]`;
  s += `, length ${len}`;
  if (!packet.verifyChecksum(src, dst)) s += BAD_CKSUM;
  return s;
}

/**
 * The options in wire order, as tcpdump names them. Runs only after parseTcp accepted the
 * options, so every length is valid.
 */
function optionsText(opts: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  while (i < opts.length) {
    const kind = opts[i]!;
    if (kind === TcpOption.EOL) {
      parts.push("eol");
      break;
    }
    if (kind === TcpOption.NOP) {
      parts.push("nop");
      i++;
      continue;
    }
    const len = opts[i + 1]!;
    switch (kind) {
      case TcpOption.MSS:
        parts.push(`mss ${readU16(opts, i + 2)}`);
        break;
      case TcpOption.WINDOW_SCALE:
        parts.push(`wscale ${opts[i + 2]!}`);
        break;
      case TcpOption.SACK_PERMITTED:
        parts.push("sackOK");
        break;
      case TcpOption.SACK: {
        const n = (len - 2) / 8;
        let s = `sack ${n}`;
        for (let k = 0, o = i + 2; k < n; k++, o += 8) {
          s += ` {${readU32(opts, o)}:${readU32(opts, o + 4)}}`;
        }
        parts.push(s);
        break;
      }
      case TcpOption.TIMESTAMP:
        parts.push(`TS val ${readU32(opts, i + 2)} ecr ${readU32(opts, i + 6)}`);
        break;
      default:
        parts.push(`unknown-${kind} len ${len}`);
    }
    i += len;
  }
  return parts.join(",");
}

function hex16(v: number): string {
  return v.toString(16).padStart(4, "0");
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
