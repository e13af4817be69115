/**
 * The egress packet value: an IP repr plus an upper-layer repr (UDP, TCP, ICMPv4, ICMPv6) or a
 * whole IP packet built elsewhere (a raw socket's). One value per interface is preallocated and
 * refilled for every packet, so sending allocates nothing; `egress.ts`'s `sendPacket` takes it,
 * routes, resolves the neighbor, fragments and emits it through the wire layer. The shape
 * follows smoltcp's `Packet` / `IpPayload` enums. Internal to the iface folder.
 *
 * @module
 */

import { type IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { icmpv4BufferLen, type Icmpv4Repr } from "../wire/icmpv4.ts";
import { icmpv6BufferLen, type Icmpv6Repr } from "../wire/icmpv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { IPV4_HEADER_LEN, type Ipv4Repr } from "../wire/ipv4.ts";
import { IPV6_HEADER_LEN, type Ipv6Repr } from "../wire/ipv6.ts";
import { ipv6OptionsHeaderLen, type Ipv6OptionsRepr, Ipv6RouterAlert } from "../wire/ipv6_ext.ts";
import { tcpBufferLen, type TcpRepr } from "../wire/tcp.ts";
import { UDP_HEADER_LEN, type UdpRepr } from "../wire/udp.ts";

/** Mutable view of a readonly repr, for the preallocated values below. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What follows the IP header of an {@linkcode OutPacket}. */
export const Upper = { Udp: 0, Tcp: 1, Icmpv4: 2, Icmpv6: 3, Raw: 4 } as const;
/** One of {@linkcode Upper}. */
export type Upper = typeof Upper[keyof typeof Upper];

/** An echo message repr whose fields are rewritten per packet. */
export type EchoRepr = {
  kind: "echoRequest" | "echoReply";
  ident: number;
  seqNo: number;
  data: Uint8Array;
};

const EMPTY = new Uint8Array(0);

/** RFC 3810 §5 / RFC 2710 §3: MLD messages carry a Router Alert in a Hop-by-Hop header. */
const MLD_HOP_BY_HOP: Ipv6OptionsRepr = {
  nextHeader: IpProtocol.Icmpv6,
  options: [{ kind: "routerAlert", value: Ipv6RouterAlert.Mld }],
};

/**
 * One outgoing packet as values. Fill it with one of the `set*` methods, then hand it to
 * `sendPacket`; the references it holds (payloads, the TCP repr) are dropped by `clear()` once
 * sent, so it never pins a socket's buffer.
 */
export class OutPacket {
  /** IP version, from the destination. */
  version: 4 | 6 = 4;
  /** The IPv4 header (`payloadLen` and `ident` are written by egress). */
  readonly ipv4: Mutable<Ipv4Repr> = {
    src: Ipv4Address.UNSPECIFIED,
    dst: Ipv4Address.UNSPECIFIED,
    protocol: 0,
    payloadLen: 0,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 0,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
  };
  /** The IPv6 header (`payloadLen` is written by egress). */
  readonly ipv6: Mutable<Ipv6Repr> = {
    src: Ipv6Address.UNSPECIFIED,
    dst: Ipv6Address.UNSPECIFIED,
    nextHeader: 0,
    payloadLen: 0,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  };
  /** An IPv6 Hop-by-Hop Options header between the IPv6 header and the upper layer, or `null`. */
  hopByHop: Ipv6OptionsRepr | null = null;
  /** The upper layer's kind. */
  upper: Upper = Upper.Udp;
  /** The UDP header (with `payload`). */
  readonly udp: Mutable<UdpRepr> = { srcPort: 0, dstPort: 0 };
  /** The UDP payload, or for `Upper.Raw` the whole IP packet. */
  payload: Uint8Array = EMPTY;
  /** The TCP segment (`Upper.Tcp`). */
  tcp: TcpRepr | null = null;
  /** The ICMPv4 message (`Upper.Icmpv4`). */
  icmpv4: Icmpv4Repr | null = null;
  /** The ICMPv6 message (`Upper.Icmpv6`). */
  icmpv6: Icmpv6Repr | null = null;
  /** Reused echo reprs, so pings and echo replies allocate nothing. */
  readonly echo4: EchoRepr = { kind: "echoRequest", ident: 0, seqNo: 0, data: EMPTY };
  readonly echo6: EchoRepr = { kind: "echoRequest", ident: 0, seqNo: 0, data: EMPTY };

  /** The destination address. */
  get dst(): IpAddress {
    return this.version === 4 ? this.ipv4.dst : this.ipv6.dst;
  }

  /** The source address. */
  get src(): IpAddress {
    return this.version === 4 ? this.ipv4.src : this.ipv6.src;
  }

  /**
   * Fills the IP repr. `ecn` is the ECN codepoint (RFC 3168 §5), `dontFrag` applies to IPv4.
   * `src` and `dst` must be of the same version.
   */
  setIp(
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    hopLimit: number,
    dontFrag: boolean,
    ecn: number,
  ): void {
    if (dst.version === 4) {
      this.version = 4;
      const r = this.ipv4;
      r.src = src as Ipv4Address;
      r.dst = dst;
      r.protocol = protocol;
      r.ttl = hopLimit;
      r.dontFrag = dontFrag;
      r.ecn = ecn;
    } else {
      this.version = 6;
      const r = this.ipv6;
      r.src = src as Ipv6Address;
      r.dst = dst;
      r.nextHeader = protocol;
      r.hopLimit = hopLimit;
      r.trafficClass = ecn;
    }
    this.hopByHop = null;
  }

  /** A UDP datagram. */
  setUdp(
    src: IpAddress,
    srcPort: number,
    dst: IpAddress,
    dstPort: number,
    payload: Uint8Array,
    hopLimit: number,
  ): void {
    this.setIp(src, dst, IpProtocol.Udp, hopLimit, false, 0);
    this.upper = Upper.Udp;
    this.udp.srcPort = srcPort;
    this.udp.dstPort = dstPort;
    this.payload = payload;
  }

  /** A TCP segment; IPv4 segments carry DF (path MTU discovery, RFC 1191). */
  setTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr, hopLimit: number, ecn: number): void {
    this.setIp(src, dst, IpProtocol.Tcp, hopLimit, dst.version === 4, ecn);
    this.upper = Upper.Tcp;
    this.tcp = repr;
  }

  /** An ICMPv4 message. */
  setIcmpv4(src: Ipv4Address, dst: Ipv4Address, repr: Icmpv4Repr, hopLimit: number): void {
    this.setIp(src, dst, IpProtocol.Icmp, hopLimit, false, 0);
    this.upper = Upper.Icmpv4;
    this.icmpv4 = repr;
  }

  /**
   * An ICMPv6 message (also NDP and MLD, as `kind: "ndisc"` / `"mld"`). MLD messages always
   * leave with hop limit 1 and a Router Alert option (RFC 3810 §5, RFC 2710 §3).
   */
  setIcmpv6(src: Ipv6Address, dst: Ipv6Address, repr: Icmpv6Repr, hopLimit: number): void {
    const mld = repr.kind === "mld";
    this.setIp(
      src,
      dst,
      mld ? IpProtocol.HopByHop : IpProtocol.Icmpv6,
      mld ? 1 : hopLimit,
      false,
      0,
    );
    if (mld) this.hopByHop = MLD_HOP_BY_HOP;
    this.upper = Upper.Icmpv6;
    this.icmpv6 = repr;
  }

  /** A whole IP packet built elsewhere, sent to `dst` (its destination address). */
  setRaw(packet: Uint8Array, dst: IpAddress): void {
    if (dst.version === 4) {
      this.version = 4;
      this.ipv4.dst = dst;
    } else {
      this.version = 6;
      this.ipv6.dst = dst;
    }
    this.hopByHop = null;
    this.upper = Upper.Raw;
    this.payload = packet;
  }

  /** Bytes after the IP header. */
  upperLen(): number {
    switch (this.upper) {
      case Upper.Udp:
        return UDP_HEADER_LEN + this.payload.length;
      case Upper.Tcp:
        return tcpBufferLen(this.tcp!);
      case Upper.Icmpv4:
        return icmpv4BufferLen(this.icmpv4!);
      case Upper.Icmpv6:
        return icmpv6BufferLen(this.icmpv6!);
      default:
        return this.payload.length - (this.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
    }
  }

  /** Bytes of the IP header, with the Hop-by-Hop Options header when there is one. */
  headerLen(): number {
    if (this.version === 4) return IPV4_HEADER_LEN;
    const hbh = this.hopByHop;
    return hbh === null ? IPV6_HEADER_LEN : IPV6_HEADER_LEN + ipv6OptionsHeaderLen(hbh);
  }

  /** The whole IP packet's length. */
  totalLen(): number {
    if (this.upper === Upper.Raw) return this.payload.length;
    return this.headerLen() + this.upperLen();
  }

  /** Drops the references to payloads and reprs once the packet is sent. */
  clear(): void {
    this.payload = EMPTY;
    this.tcp = null;
    this.icmpv4 = null;
    this.icmpv6 = null;
    this.echo4.data = EMPTY;
    this.echo6.data = EMPTY;
  }
}
