/**
 * The interface's internal state and its egress path (one place that turns an upper-layer
 * message into IP packets and link frames). Not exported from the iface module: `Interface`
 * wraps one `IfaceCore`, and ingress/ICMP helpers in sibling files share it.
 *
 * @module
 */

import { EthernetAddress, type IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { ARP_PACKET_LEN, ArpOperation, ArpPacket, type ArpRepr, emitArp } from "../wire/arp.ts";
import { checksumFinish, checksumSum, pseudoHeaderSum } from "../wire/checksum.ts";
import { emitEthernet, EthernetFrame, type EthernetRepr, EtherType } from "../wire/ethernet.ts";
import { IpProtocol } from "../wire/ip.ts";
import { emitIpv4, IPV4_HEADER_LEN, Ipv4Packet, type Ipv4Repr } from "../wire/ipv4.ts";
import { emitIpv6, IPV6_HEADER_LEN, Ipv6Packet, type Ipv6Repr } from "../wire/ipv6.ts";
import {
  emitIpv6Fragment,
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv6FragmentHeader,
} from "../wire/ipv6_ext.ts";
import { emitTcp, tcpBufferLen, TcpPacket, type TcpRepr } from "../wire/tcp.ts";
import { emitUdp, UDP_HEADER_LEN, UdpPacket } from "../wire/udp.ts";
import type { ChecksumCapabilities, Device } from "../phy/device.ts";
import type { Rng } from "../rand.ts";
import { TokenBucket } from "../socket/context.ts";
import type { SocketContext } from "../socket/context.ts";
import type { Instant } from "../time.ts";
import { DropCounters } from "./counters.ts";
import type { NeighborCache } from "./neighbor.ts";
import type { NdpHost } from "./ndp_host.ts";
import type { Reassembler } from "./reassembly.ts";
import { Routes } from "./route.ts";
import type { SocketSet } from "./socket_set.ts";
import type { TimeWaitState } from "../socket/tcp/time_wait.ts";
import type { AcceptAny } from "./accept_any.ts";

export const ETH_LEN = 14;
/** Upper-layer payload kinds the egress path knows how to write. */
export const OUT_UDP = 0, OUT_TCP = 1, OUT_ICMP = 2;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A mutable SocketContext that the interface refreshes once per poll. */
export type MutableContext = Mutable<SocketContext>;

const EMPTY = new Uint8Array(0);

/** The interface's state. Fields are public to the iface folder only. */
export class IfaceCore {
  readonly medium: "ethernet" | "ip";
  readonly hw: EthernetAddress;
  readonly routes = new Routes();
  readonly neighbors: NeighborCache;
  readonly reasm4: Reassembler;
  readonly reasm6: Reassembler;
  readonly counters = new DropCounters();
  readonly rng: Rng;
  readonly cx: MutableContext;
  readonly icmpLimiter: TokenBucket;
  hopLimit: number;
  icmpEchoReply: boolean;
  ident4: number;
  ident6: number;
  announcePending: boolean;

  // Per-poll device state.
  device: Device | null = null;
  now: Instant = 0;
  ipMtu = 1500;
  /** The largest TCP packet the device takes and segments itself (TSO), else the IP MTU. */
  tcpMax = 1500;
  csum: ChecksumCapabilities = { ipv4: true, udp: true, tcp: true, icmpv4: true, icmpv6: true };
  // Parse and emit options per protocol, from `csum`: reused so no packet allocates them.
  readonly verifyIpv4 = { verifyChecksum: true };
  readonly verifyUdp = { verifyChecksum: true };
  readonly verifyTcp = { verifyChecksum: true };
  readonly fillIpv4 = { fillChecksum: true };
  readonly fillUdp = { fillChecksum: true };
  readonly fillTcp = { fillChecksum: true };
  deviceFull = false;
  burstLeft = Infinity;
  sockets: SocketSet | null = null;
  /** Scratch for the TIME-WAIT record being handled (see `time_wait.ts`). */
  readonly tw: TimeWaitState = {
    sndNxt: 0,
    rcvNxt: 0,
    window: 0,
    tsOn: false,
    tsOffset: 0,
    tsRecent: 0,
    expires: 0,
    duration: 0,
    lastAck: 0,
  };
  /** Handles of listener children that reached CLOSED, removed after the current phase. */
  readonly reap: number[] = [];
  /** Link-layer broadcast/multicast of the frame being processed (no ICMP errors for those). */
  linkMulticast = false;
  /** Accept-any mode (transparent termination), or `null` (see `accept_any.ts`). */
  acceptAny: AcceptAny | null = null;
  /** IPv6 autoconfiguration (RA, DAD, MLD) when attached; see ndp_host.ts. */
  ndpHost: NdpHost | null = null;

  // Egress scratch: reused objects so that sending allocates nothing on the fast path.
  readonly scratch = new Uint8Array(65535 + IPV6_HEADER_LEN + 16);
  readonly r4: Mutable<Ipv4Repr>;
  readonly r6: Mutable<Ipv6Repr>;
  readonly eth: Mutable<EthernetRepr>;
  oKind = OUT_UDP;
  oSrcPort = 0;
  oDstPort = 0;
  oPayload: Uint8Array = EMPTY;
  oTcp: TcpRepr | null = null;
  oIcmpType = 0;
  oIcmpCode = 0;
  oIcmpRest = 0;
  oTtl = 0;
  oDontFrag = false;
  oEcn = 0;

  constructor(options: {
    medium: "ethernet" | "ip";
    hw: EthernetAddress;
    rng: Rng;
    isnSecret: Uint8Array;
    hopLimit: number;
    icmpEchoReply: boolean;
    neighbors: NeighborCache;
    reasm4: Reassembler;
    reasm6: Reassembler;
    icmpLimiter: TokenBucket;
    announce: boolean;
  }) {
    this.medium = options.medium;
    this.hw = options.hw;
    this.rng = options.rng;
    this.hopLimit = options.hopLimit;
    this.icmpEchoReply = options.icmpEchoReply;
    this.neighbors = options.neighbors;
    this.reasm4 = options.reasm4;
    this.reasm6 = options.reasm6;
    this.icmpLimiter = options.icmpLimiter;
    this.announcePending = options.announce;
    this.ident4 = this.rng.below(0x10000);
    this.ident6 = this.rng.nextU32();
    this.cx = {
      now: 0,
      random: this.rng,
      ipMtu: 1500,
      isnSecret: options.isnSecret,
      challengeAckLimiter: new TokenBucket({ burst: 100, interval: 1000 }),
    };
    this.r4 = {
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
    this.r6 = {
      src: Ipv6Address.UNSPECIFIED,
      dst: Ipv6Address.UNSPECIFIED,
      nextHeader: 0,
      payloadLen: 0,
      hopLimit: 64,
      trafficClass: 0,
      flowLabel: 0,
    };
    this.eth = { src: this.hw, dst: EthernetAddress.BROADCAST, etherType: 0, vlan: null };
  }

  /** Starts a poll on `device` at `now`. */
  begin(now: Instant, device: Device, sockets: SocketSet | null): void {
    this.now = now;
    this.device = device;
    this.sockets = sockets;
    const caps = device.capabilities;
    this.ipMtu = caps.medium === "ethernet" ? caps.mtu - ETH_LEN : caps.mtu;
    const csum = caps.checksum;
    this.csum = csum;
    this.verifyIpv4.verifyChecksum = this.fillIpv4.fillChecksum = csum.ipv4;
    this.verifyUdp.verifyChecksum = this.fillUdp.fillChecksum = csum.udp;
    this.verifyTcp.verifyChecksum = this.fillTcp.fillChecksum = csum.tcp;
    this.deviceFull = false;
    this.burstLeft = caps.maxBurstSize ?? Infinity;
    this.cx.now = now;
    this.cx.ipMtu = this.ipMtu;
    const off = caps.offload;
    this.tcpMax = off?.tcpv4 === true && off.tcpv6
      ? off.maxFrameSize - (caps.medium === "ethernet" ? ETH_LEN : 0)
      : this.ipMtu;
    this.cx.tcpSegmentOffload = this.tcpMax > this.ipMtu ? this.tcpMax : 0;
  }

  get linkLen(): number {
    return this.medium === "ethernet" ? ETH_LEN : 0;
  }

  /** Whether `addr` is one of ours, or a broadcast/multicast we accept. */
  acceptsDst(dst: IpAddress): boolean {
    if (this.routes.hasAddress(dst)) return true;
    if (dst.version === 4) {
      if (dst.isBroadcast) return true;
      if (dst.isMulticast) return dst.value === 0xe0000001; // 224.0.0.1 all systems
      return this.routes.isSubnetBroadcast(dst);
    }
    if (!dst.isMulticast) return false;
    if (dst.equals(Ipv6Address.LINK_LOCAL_ALL_NODES)) return true;
    if (this.ndpHost !== null && this.ndpHost.acceptsGroup(dst)) return true;
    if (dst.isSolicitedNode) {
      for (const c of this.routes.addresses) {
        const a = c.address;
        if (a.version === 6 && (a.w3 & 0xffffff) === (dst.w3 & 0xffffff)) return true;
      }
    }
    return false;
  }

  /** Opens a device frame of `len` bytes, or marks the device full. */
  frame(len: number): Uint8Array | null {
    if (this.deviceFull || this.burstLeft <= 0) {
      this.deviceFull = true;
      return null;
    }
    const buf = this.device!.transmit(this.now, len);
    if (buf === null) this.deviceFull = true;
    return buf;
  }

  commit(): void {
    this.device!.commit();
    this.counters.txFrames++;
    this.burstLeft--;
  }

  writeEth(buf: Uint8Array, dst: EthernetAddress, etherType: number): void {
    const eth = this.eth;
    eth.dst = dst;
    eth.etherType = etherType;
    emitEthernet(eth, new EthernetFrame(buf));
  }

  /**
   * The link destination for an IP next hop: a hardware address, `null` while unresolved, or
   * `undefined` for the IP medium.
   */
  linkDst(hop: IpAddress): EthernetAddress | null | undefined {
    if (this.medium !== "ethernet") return undefined;
    if (hop.version === 4) {
      if (hop.isBroadcast || this.routes.isSubnetBroadcast(hop)) return EthernetAddress.BROADCAST;
      if (hop.isMulticast) return new EthernetAddress(0x0100, 0x5e000000 | (hop.value & 0x7fffff));
    } else if (hop.isMulticast) {
      return new EthernetAddress(0x3333, hop.w3);
    }
    return this.neighbors.lookup(hop, this.now);
  }

  /**
   * Sends an IP packet whose upper layer is described by the `o*` fields. Returns `false` only
   * when the device is full (the caller keeps its data); drops for other reasons are counted and
   * return `true`.
   */
  sendIp(src: IpAddress, dst: IpAddress, protocol: number, upperLen: number): boolean {
    const hop = this.routes.nextHop(dst);
    if (hop === null) {
      this.counters.noRoute++;
      return true;
    }
    const hdr = dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const total = hdr + upperLen;
    const mac = this.linkDst(hop);
    if (
      (total <= this.ipMtu || (protocol === IpProtocol.Tcp && total <= this.tcpMax)) && mac !== null
    ) {
      const link = mac === undefined ? 0 : ETH_LEN;
      const buf = this.frame(link + total);
      if (buf === null) return false;
      if (mac !== undefined) {
        this.writeEth(buf, mac, dst.version === 4 ? EtherType.Ipv4 : EtherType.Ipv6);
      }
      this.writeIp(link === 0 ? buf : buf.subarray(link), src, dst, protocol, upperLen);
      this.commit();
      return true;
    }
    const pkt = this.scratch.subarray(0, total);
    this.writeIp(pkt, src, dst, protocol, upperLen);
    return this.#toNeighbor(pkt, hop, mac);
  }

  /**
   * Sends an IP packet built elsewhere (a raw socket's): route, then the same neighbor and
   * fragmentation steps as {@linkcode IfaceCore.sendIp}. `false` only when the device is full.
   */
  sendPacket(pkt: Uint8Array, dst: IpAddress): boolean {
    const hop = this.routes.nextHop(dst);
    if (hop === null) {
      this.counters.noRoute++;
      return true;
    }
    return this.#toNeighbor(pkt, hop, this.linkDst(hop));
  }

  /** Queues `pkt` for an unresolved next hop (a copy), or sends it, fragmented when needed. */
  #toNeighbor(pkt: Uint8Array, hop: IpAddress, mac: EthernetAddress | null | undefined): boolean {
    if (mac === null) {
      if (this.neighbors.enqueue(hop, pkt.slice(), this.now) === "full") this.counters.queueFull++;
      return true;
    }
    return this.sendBuilt(pkt, mac);
  }

  /** Writes the IP header and the upper layer into `pkt` (exactly header + upperLen bytes). */
  writeIp(
    pkt: Uint8Array,
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    upperLen: number,
  ): void {
    const ttl = this.oTtl > 0 ? this.oTtl : this.hopLimit;
    let upper: Uint8Array;
    if (dst.version === 4) {
      const r = this.r4;
      r.src = src as Ipv4Address;
      r.dst = dst;
      r.protocol = protocol;
      r.payloadLen = upperLen;
      r.ttl = ttl;
      r.ident = this.ident4;
      this.ident4 = (this.ident4 + 1) & 0xffff;
      r.dontFrag = this.oDontFrag;
      r.ecn = this.oEcn;
      r.moreFrags = false;
      r.fragOffset = 0;
      emitIpv4(r, new Ipv4Packet(pkt), this.fillIpv4);
      upper = pkt.subarray(IPV4_HEADER_LEN);
    } else {
      const r = this.r6;
      r.src = src as Ipv6Address;
      r.dst = dst;
      r.nextHeader = protocol;
      r.payloadLen = upperLen;
      r.hopLimit = ttl;
      r.trafficClass = this.oEcn;
      emitIpv6(r, new Ipv6Packet(pkt));
      upper = pkt.subarray(IPV6_HEADER_LEN);
    }
    this.writeUpper(upper, src, dst);
  }

  writeUpper(buf: Uint8Array, src: IpAddress, dst: IpAddress): void {
    switch (this.oKind) {
      case OUT_UDP:
        emitUdp(
          { srcPort: this.oSrcPort, dstPort: this.oDstPort },
          this.oPayload,
          new UdpPacket(buf),
          src,
          dst,
          this.fillUdp,
        );
        break;
      case OUT_TCP:
        emitTcp(this.oTcp!, new TcpPacket(buf), src, dst, this.fillTcp);
        break;
      case OUT_ICMP: {
        buf[0] = this.oIcmpType;
        buf[1] = this.oIcmpCode;
        buf[2] = 0;
        buf[3] = 0;
        const rest = this.oIcmpRest;
        buf[4] = rest >>> 24;
        buf[5] = (rest >>> 16) & 0xff;
        buf[6] = (rest >>> 8) & 0xff;
        buf[7] = rest & 0xff;
        buf.set(this.oPayload, 8);
        const v6 = dst.version === 6;
        if (v6 ? this.csum.icmpv6 : this.csum.icmpv4) {
          const init = v6 ? pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, buf.length) : 0;
          const c = checksumFinish(checksumSum(buf, init));
          buf[2] = c >>> 8;
          buf[3] = c & 0xff;
        }
        break;
      }
    }
  }

  /** Sends a fully built IP packet, fragmenting it when it exceeds the MTU. */
  sendBuilt(pkt: Uint8Array, mac: EthernetAddress | undefined): boolean {
    const link = mac === undefined ? 0 : ETH_LEN;
    const v4 = pkt[0]! >>> 4 === 4;
    if (pkt.length <= this.ipMtu) {
      const buf = this.frame(link + pkt.length);
      if (buf === null) return false;
      if (mac !== undefined) this.writeEth(buf, mac, v4 ? EtherType.Ipv4 : EtherType.Ipv6);
      buf.set(pkt, link);
      this.commit();
      return true;
    }
    return v4 ? this.#fragment4(pkt, mac) : this.#fragment6(pkt, mac);
  }

  /** RFC 791 §3.2: split an oversized IPv4 packet into fragments of the MTU. */
  #fragment4(pkt: Uint8Array, mac: EthernetAddress | undefined): boolean {
    const view = new Ipv4Packet(pkt);
    if (view.dontFrag) {
      this.counters.tooBig++;
      return true;
    }
    const hl = view.headerLen;
    const data = pkt.subarray(hl, view.totalLen);
    const chunk = (this.ipMtu - hl) & ~7;
    if (chunk <= 0) {
      this.counters.tooBig++;
      return true;
    }
    const link = mac === undefined ? 0 : ETH_LEN;
    const baseOff = view.fragOffset;
    const baseMore = view.moreFrags;
    for (let off = 0; off < data.length; off += chunk) {
      const n = Math.min(chunk, data.length - off);
      const buf = this.frame(link + hl + n);
      if (buf === null) {
        this.counters.deviceFull++;
        return true; // the rest of the datagram is lost; it cannot be resumed
      }
      if (mac !== undefined) this.writeEth(buf, mac, EtherType.Ipv4);
      buf.set(pkt.subarray(0, hl), link);
      const f = new Ipv4Packet(buf.subarray(link));
      f.totalLen = hl + n;
      f.fragOffset = baseOff + off;
      f.moreFrags = baseMore || off + n < data.length;
      if (this.csum.ipv4) f.fillChecksum();
      buf.set(data.subarray(off, off + n), link + hl);
      this.commit();
    }
    return true;
  }

  /** RFC 8200 §4.5: fragment an oversized IPv6 packet at the source (no extension headers). */
  #fragment6(pkt: Uint8Array, mac: EthernetAddress | undefined): boolean {
    const nextHeader = pkt[6]!;
    const data = pkt.subarray(IPV6_HEADER_LEN);
    const chunk = (this.ipMtu - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN) & ~7;
    if (chunk <= 0) {
      this.counters.tooBig++;
      return true;
    }
    const link = mac === undefined ? 0 : ETH_LEN;
    const ident = this.ident6;
    this.ident6 = (this.ident6 + 1) >>> 0;
    for (let off = 0; off < data.length; off += chunk) {
      const n = Math.min(chunk, data.length - off);
      const buf = this.frame(link + IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN + n);
      if (buf === null) {
        this.counters.deviceFull++;
        return true;
      }
      if (mac !== undefined) this.writeEth(buf, mac, EtherType.Ipv6);
      buf.set(pkt.subarray(0, IPV6_HEADER_LEN), link);
      const h = new Ipv6Packet(buf.subarray(link));
      h.payloadLen = IPV6_FRAGMENT_HEADER_LEN + n;
      h.nextHeader = IpProtocol.Ipv6Frag;
      emitIpv6Fragment(
        { nextHeader, fragOffset: off, moreFrags: off + n < data.length, ident },
        new Ipv6FragmentHeader(buf.subarray(link + IPV6_HEADER_LEN)),
      );
      buf.set(data.subarray(off, off + n), link + IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN);
      this.commit();
    }
    return true;
  }

  /** Sends an ARP packet. */
  sendArp(
    op: number,
    dstMac: EthernetAddress,
    spa: Ipv4Address,
    tha: EthernetAddress,
    tpa: Ipv4Address,
  ): boolean {
    const buf = this.frame(ETH_LEN + ARP_PACKET_LEN);
    if (buf === null) return false;
    this.writeEth(buf, dstMac, EtherType.Arp);
    const repr: ArpRepr = {
      operation: op,
      senderHardwareAddr: this.hw,
      senderProtocolAddr: spa,
      targetHardwareAddr: tha,
      targetProtocolAddr: tpa,
    };
    emitArp(repr, new ArpPacket(buf.subarray(ETH_LEN)));
    this.commit();
    return true;
  }

  /** UDP egress. */
  sendUdp(
    src: IpAddress,
    srcPort: number,
    dst: IpAddress,
    dstPort: number,
    payload: Uint8Array,
  ): boolean {
    this.oKind = OUT_UDP;
    this.oSrcPort = srcPort;
    this.oDstPort = dstPort;
    this.oPayload = payload;
    this.oTtl = 0;
    this.oDontFrag = false;
    return this.sendIp(src, dst, IpProtocol.Udp, UDP_HEADER_LEN + payload.length);
  }

  /** TCP egress. */
  sendTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr, ecn = 0): boolean {
    this.oKind = OUT_TCP;
    this.oTcp = repr;
    this.oTtl = 0;
    this.oDontFrag = dst.version === 4;
    this.oEcn = ecn;
    const ok = this.sendIp(src, dst, IpProtocol.Tcp, tcpBufferLen(repr));
    this.oTcp = null;
    this.oDontFrag = false;
    this.oEcn = 0;
    return ok;
  }

  /** ICMP egress: a message of type, code, the 4-byte rest-of-header word, and a body. */
  sendIcmp(
    src: IpAddress,
    dst: IpAddress,
    type: number,
    code: number,
    rest: number,
    body: Uint8Array,
    ttl = 0,
  ): boolean {
    this.oKind = OUT_ICMP;
    this.oIcmpType = type;
    this.oIcmpCode = code;
    this.oIcmpRest = rest >>> 0;
    this.oPayload = body;
    this.oTtl = ttl;
    this.oDontFrag = false;
    const ok = this.sendIp(
      src,
      dst,
      dst.version === 4 ? IpProtocol.Icmp : IpProtocol.Icmpv6,
      8 + body.length,
    );
    this.oTtl = 0;
    return ok;
  }

  /** Sends the ARP request or neighbor solicitation for each neighbor whose request is due. */
  serviceNeighbors(sendSolicit: (core: IfaceCore, target: Ipv6Address) => boolean): void {
    const now = this.now;
    const lost = this.neighbors.expire(now);
    if (lost > 0) this.counters.neighborUnresolved += lost;
    for (;;) {
      const ready = this.neighbors.readyToFlush(now);
      if (ready === null) break;
      while (ready.queue.length > 0) {
        if (!this.sendBuilt(ready.queue[0]!, ready.hw!)) return;
        ready.queue.shift();
      }
      this.neighbors.settle(ready);
    }
    for (;;) {
      if (this.deviceFull) return;
      const e = this.neighbors.dueRequest(now);
      if (e === null) break;
      const a = e.addr;
      if (a.version === 4) {
        const spa = (this.routes.sourceFor(a) as Ipv4Address | null) ?? Ipv4Address.UNSPECIFIED;
        this.sendArp(ArpOperation.Request, EthernetAddress.BROADCAST, spa, EthernetAddress.ZERO, a);
      } else {
        sendSolicit(this, a);
      }
    }
  }
}
