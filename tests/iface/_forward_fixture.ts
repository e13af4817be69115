/**
 * A router with two IP-medium interfaces for forwarding tests: inside 192.0.2.1/24 and
 * 2001:db8:1::1/64, outside 198.51.100.1/24 and 2001:db8:2::1/64. Tests write raw packets
 * into the hosts' ends of the links and read what the router sends.
 *
 * @module
 */

import {
  Forwarder,
  type ForwarderOptions,
  type ForwardPortOptions,
} from "../../src/iface/forward.ts";
import { Interface, type InterfaceConfig } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { type LinkDevice, linkPair } from "../../src/phy/link.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { emitIpv4, IPV4_HEADER_LEN, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { emitIpv6, IPV6_HEADER_LEN, Ipv6Packet } from "../../src/wire/ipv6.ts";
import { emitUdp, UDP_HEADER_LEN, UdpPacket } from "../../src/wire/udp.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import type { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { emitTcp, tcpBufferLen, TcpPacket, type TcpRepr } from "../../src/wire/tcp.ts";
import {
  emitIcmpv4,
  icmpv4BufferLen,
  Icmpv4Packet,
  type Icmpv4Repr,
} from "../../src/wire/icmpv4.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
} from "../../src/wire/icmpv6.ts";

export interface Lab {
  fwd: Forwarder;
  inside: Interface;
  outside: Interface;
  /** The inside host's end of the inside link. */
  hostIn: LinkDevice;
  /** The outside host's end of the outside link. */
  hostOut: LinkDevice;
  routerIn: LinkDevice;
  routerOut: LinkDevice;
  /** Polls the router's two interfaces at `now`. */
  poll(now: number): void;
}

export function lab(
  options: ForwarderOptions = { allowDocumentation: true },
  ports: { inside?: ForwardPortOptions; outside?: ForwardPortOptions } = {},
  config: { inside?: Partial<InterfaceConfig>; outside?: Partial<InterfaceConfig> } = {},
  mtu: { inside?: number; outside?: number; outsideQueue?: number } = {},
): Lab {
  const [hostIn, routerIn] = linkPair({ medium: "ip", mtu: mtu.inside ?? 1500 });
  const [routerOut, hostOut] = linkPair({
    medium: "ip",
    mtu: mtu.outside ?? 1500,
    ...(mtu.outsideQueue === undefined ? {} : { queueLen: mtu.outsideQueue }),
  });
  const inside = new Interface({
    addresses: ["192.0.2.1/24", "2001:db8:1::1/64"],
    seed: 1,
    ...config.inside,
  });
  const outside = new Interface({
    addresses: ["198.51.100.1/24", "2001:db8:2::1/64"],
    seed: 2,
    ...config.outside,
  });
  const fwd = new Forwarder(options);
  fwd.attach(inside, routerIn, ports.inside);
  fwd.attach(outside, routerOut, ports.outside);
  const si = new SocketSet(), so = new SocketSet();
  return {
    fwd,
    inside,
    outside,
    hostIn,
    hostOut,
    routerIn,
    routerOut,
    poll(now: number) {
      inside.poll(now, routerIn, si);
      outside.poll(now, routerOut, so);
    },
  };
}

/** Writes one packet into `dev` (it arrives at the other end of the link). */
export function send(dev: LinkDevice, packet: Uint8Array, now = 0): void {
  const buf = dev.transmit(now, packet.length);
  if (buf === null) throw new Error("link full");
  buf.set(packet);
  dev.commit();
}

/** Every packet waiting at `dev`, copied. */
export function receiveAll(dev: LinkDevice, now = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = dev.receive(now); f !== null; f = dev.receive(now)) out.push(f.slice());
  return out;
}

export interface Udp4Options {
  ttl?: number;
  dontFrag?: boolean;
  payloadLen?: number;
  srcPort?: number;
  dstPort?: number;
}

/** An IPv4/UDP packet built with the wire emitters. */
export function udp4(src: string, dst: string, o: Udp4Options = {}): Uint8Array {
  const payload = new Uint8Array(o.payloadLen ?? 16).map((_, i) => i & 0xff);
  const s = parseIpAddress(src) as Ipv4Address, d = parseIpAddress(dst) as Ipv4Address;
  const bytes = new Uint8Array(IPV4_HEADER_LEN + UDP_HEADER_LEN + payload.length);
  emitIpv4({
    src: s,
    dst: d,
    protocol: IpProtocol.Udp,
    payloadLen: UDP_HEADER_LEN + payload.length,
    ttl: o.ttl ?? 64,
    dscp: 0,
    ecn: 0,
    ident: 0x1234,
    dontFrag: o.dontFrag ?? true,
    moreFrags: false,
    fragOffset: 0,
  }, new Ipv4Packet(bytes));
  emitUdp(
    { srcPort: o.srcPort ?? 5000, dstPort: o.dstPort ?? 53 },
    payload,
    new UdpPacket(bytes.subarray(IPV4_HEADER_LEN)),
    s,
    d,
  );
  return bytes;
}

/** An IPv6/UDP packet built with the wire emitters. */
export function udp6(src: string, dst: string, o: Udp4Options = {}): Uint8Array {
  const payload = new Uint8Array(o.payloadLen ?? 16);
  const s = parseIpAddress(src) as Ipv6Address, d = parseIpAddress(dst) as Ipv6Address;
  const bytes = new Uint8Array(IPV6_HEADER_LEN + UDP_HEADER_LEN + payload.length);
  emitIpv6({
    src: s,
    dst: d,
    nextHeader: IpProtocol.Udp,
    payloadLen: UDP_HEADER_LEN + payload.length,
    hopLimit: o.ttl ?? 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(bytes));
  emitUdp(
    { srcPort: o.srcPort ?? 5000, dstPort: o.dstPort ?? 53 },
    payload,
    new UdpPacket(bytes.subarray(IPV6_HEADER_LEN)),
    s,
    d,
  );
  return bytes;
}

function ipv4Around(
  src: string,
  dst: string,
  protocol: number,
  l4Len: number,
  o: { ttl?: number; moreFrags?: boolean } = {},
): { bytes: Uint8Array; s: Ipv4Address; d: Ipv4Address } {
  const s = parseIpAddress(src) as Ipv4Address, d = parseIpAddress(dst) as Ipv4Address;
  const bytes = new Uint8Array(IPV4_HEADER_LEN + l4Len);
  emitIpv4({
    src: s,
    dst: d,
    protocol,
    payloadLen: l4Len,
    ttl: o.ttl ?? 64,
    dscp: 0,
    ecn: 0,
    ident: 7,
    dontFrag: o.moreFrags !== true,
    moreFrags: o.moreFrags ?? false,
    fragOffset: 0,
  }, new Ipv4Packet(bytes));
  return { bytes, s, d };
}

/** An IPv4/TCP segment (no options, 4 payload bytes unless `payloadLen`) built with the wire emitters. */
export function tcp4(
  src: string,
  srcPort: number,
  dst: string,
  dstPort: number,
  flags: number,
  payloadLen = 4,
): Uint8Array {
  const repr: TcpRepr = {
    srcPort,
    dstPort,
    seq: 1000,
    ack: flags & 0x10 ? 2000 : 0,
    flags,
    window: 65535,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload: payloadLen === 4
      ? new Uint8Array([1, 2, 3, 4])
      : new Uint8Array(payloadLen).map((_, i) => i & 0xff),
  };
  const { bytes, s, d } = ipv4Around(src, dst, IpProtocol.Tcp, tcpBufferLen(repr));
  emitTcp(repr, new TcpPacket(bytes.subarray(IPV4_HEADER_LEN)), s, d);
  return bytes;
}

/** An IPv4 ICMP echo request or reply built with the wire emitters. */
export function echo4(
  src: string,
  dst: string,
  ident: number,
  kind: "echoRequest" | "echoReply" = "echoRequest",
): Uint8Array {
  const repr: Icmpv4Repr = { kind, ident, seqNo: 1, data: new Uint8Array([9, 9, 9, 9]) };
  const { bytes } = ipv4Around(src, dst, IpProtocol.Icmp, icmpv4BufferLen(repr));
  emitIcmpv4(repr, new Icmpv4Packet(bytes.subarray(IPV4_HEADER_LEN)));
  return bytes;
}

/** An ICMPv6 echo request built with the wire emitters. */
export function echo6(src: string, dst: string, ident: number): Uint8Array {
  const s = parseIpAddress(src) as Ipv6Address, d = parseIpAddress(dst) as Ipv6Address;
  const repr: Icmpv6Repr = { kind: "echoRequest", ident, seqNo: 1, data: new Uint8Array(4) };
  const len = icmpv6BufferLen(repr);
  const bytes = new Uint8Array(IPV6_HEADER_LEN + len);
  emitIpv6({
    src: s,
    dst: d,
    nextHeader: IpProtocol.Icmpv6,
    payloadLen: len,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(bytes));
  emitIcmpv6(repr, new Icmpv6Packet(bytes.subarray(IPV6_HEADER_LEN)), s, d);
  return bytes;
}

/** An IPv4 packet of another protocol (GRE, 47) or a first fragment of UDP. */
export function other4(src: string, dst: string, protocol: number, moreFrags = false): Uint8Array {
  return ipv4Around(src, dst, protocol, 24, { moreFrags }).bytes;
}

/** An ICMPv4 error (Destination Unreachable with `code`, or Time Exceeded) quoting `quote`. */
export function error4(
  src: string,
  dst: string,
  quote: Uint8Array,
  kind: "dstUnreachable" | "timeExceeded" = "dstUnreachable",
  code = 3,
): Uint8Array {
  const repr: Icmpv4Repr = kind === "dstUnreachable"
    ? { kind, code, nextHopMtu: code === 4 ? 1400 : 0, data: quote }
    : { kind, code: 0, data: quote };
  const { bytes } = ipv4Around(src, dst, IpProtocol.Icmp, icmpv4BufferLen(repr));
  emitIcmpv4(repr, new Icmpv4Packet(bytes.subarray(IPV4_HEADER_LEN)));
  return bytes;
}

/** Cuts an IPv4 packet (DF clear) into fragments carrying `chunk` payload bytes each. */
export function fragment4(bytes: Uint8Array, chunk: number): Uint8Array[] {
  const ip = new Ipv4Packet(bytes);
  const hl = ip.headerLen;
  const data = bytes.subarray(hl, ip.totalLen);
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += chunk) {
    const n = Math.min(chunk, data.length - off);
    const f = new Uint8Array(hl + n);
    f.set(bytes.subarray(0, hl));
    f.set(data.subarray(off, off + n), hl);
    const v = new Ipv4Packet(f);
    v.dontFrag = false;
    v.totalLen = hl + n;
    v.fragOffset = off;
    v.moreFrags = off + n < data.length;
    v.fillChecksum();
    out.push(f);
  }
  return out;
}
