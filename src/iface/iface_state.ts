/**
 * The interface's state: configuration, neighbor cache, reassembly, counters, the per-poll
 * device view (MTU, checksum capabilities, burst budget) and the one preallocated packet value
 * egress sends from. Not exported from the iface module: `Interface` wraps one `IfaceCore`;
 * ingress, ICMP, TCP demux and egress in sibling files share it.
 *
 * @module
 */

import { EthernetAddress, type IpAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { readU32 } from "../wire/_bytes.ts";
import type { EthernetRepr } from "../wire/ethernet.ts";
import { IPV6_HEADER_LEN } from "../wire/ipv6.ts";
import type { ChecksumCapabilities, Device } from "../phy/device.ts";
import type { Rng } from "../rand.ts";
import { TokenBucket } from "../socket/context.ts";
import type { SocketContext } from "../socket/context.ts";
import type { Instant } from "../time.ts";
import { DropCounters } from "./counters.ts";
import type { NeighborCache } from "./neighbor.ts";
import type { NdpHost } from "./ndp_host.ts";
import { type Mutable, OutPacket } from "./packet.ts";
import type { Reassembler } from "./reassembly.ts";
import { Routes } from "./route.ts";
import type { SocketSet } from "./socket_set.ts";
import type { TimeWaitState } from "../socket/tcp/time_wait.ts";
import type { AcceptAny } from "./accept_any.ts";
import type { TcpBatch } from "./_ingress_gro.ts";

/** Length of an Ethernet header without a VLAN tag. */
export const ETH_LEN = 14;

/**
 * Where ingress hands every unicast IP packet first when a forwarder is attached (see
 * `forward.ts`): `take` returns `true` when it consumed the packet (forwarded it, or dropped
 * and counted it), `false` to deliver it locally as usual.
 */
export interface ForwardHook {
  take(core: IfaceCore, packet: Uint8Array, src: IpAddress, dst: IpAddress): boolean;
  /**
   * Whether `addr` is an address of another interface of the same router: the router answers
   * for it on every interface (the weak host model, RFC 1122 §3.3.4.2).
   */
  ownsAddress(addr: IpAddress): boolean;
}

/**
 * Several interfaces sharing one socket set (see `InterfaceGroup`): while one member polls, the
 * others can send too, and each packet leaves on the member that owns its source address (by
 * destination when none does). `null` on an interface of its own, which costs one check.
 */
export interface EgressGroup {
  /** Gives the other members their device, `now` and `sockets` for a poll of `core`. */
  begin(core: IfaceCore, now: Instant, sockets: SocketSet): void;
  /** Ends what `begin` started. */
  end(core: IfaceCore): void;
  /** The member a packet from `src` to `dst` leaves on (`core` for link-scoped traffic). */
  egress(core: IfaceCore, src: IpAddress, dst: IpAddress): IfaceCore;
  /** The source address for `dst`, from the member the route to `dst` leaves on. */
  sourceFor(core: IfaceCore, dst: IpAddress): IpAddress | null;
  /** The socket context of the member that owns `local` (`core`'s when none does). */
  contextFor(core: IfaceCore, local: IpAddress): SocketContext;
  /**
   * The member every packet leaves on while it is set, whatever its addresses: the receiving
   * member during ingress (replies leave where the packet came in), and a pinned socket's member
   * while it dispatches.
   */
  pinned: IfaceCore | null;
  /** Pins `socket` to `core`: it sends through `core` only (accepted, zoned or accept-any). */
  pin(core: IfaceCore, socket: object): void;
  /** The member `socket` is pinned to, or `null`. */
  pinOf(socket: object): IfaceCore | null;
}

/** A mutable SocketContext that the interface refreshes once per poll. */
export type MutableContext = Mutable<SocketContext>;

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
  /** An upper bound on `ipMtu` from autoconfiguration (RA MTU, DHCP interface MTU). */
  linkMtu: number | null = null;
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
  readonly verifyIcmpv4 = { verifyChecksum: true };
  readonly verifyIcmpv6 = { verifyChecksum: true };
  readonly fillIcmpv4 = { fillChecksum: true };
  readonly fillIcmpv6 = { fillChecksum: true };
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
  /** The forwarder this interface hands packets to, or `null` (forwarding off; see forward.ts). */
  forwarder: ForwardHook | null = null;
  /** The interfaces this one shares its socket set with, or `null` (see {@linkcode EgressGroup}). */
  group: EgressGroup | null = null;
  /** IPv6 autoconfiguration (RA, DAD, MLD) when attached; see ndp_host.ts. */
  ndpHost: NdpHost | null = null;

  /** Receive coalescing's pending batch, or `null` when it is off (see `_ingress_gro.ts`). */
  tcpBatch: TcpBatch | null = null;

  // The last two IPv4 and IPv6 addresses read from frames (a flow's source and destination),
  // handed out again while they repeat: addresses are immutable, so ingress reads them without
  // allocating.
  #v4a: Ipv4Address = Ipv4Address.UNSPECIFIED;
  #v4b: Ipv4Address = Ipv4Address.UNSPECIFIED;

  /** The IPv4 address at `b[off, off + 4)`, the same object as last time when it repeats. */
  ipv4At(b: Uint8Array, off: number): Ipv4Address {
    const v = readU32(b, off);
    if (v === this.#v4a.value) return this.#v4a;
    if (v === this.#v4b.value) return this.#v4b;
    const a = new Ipv4Address(v);
    this.#v4b = this.#v4a;
    this.#v4a = a;
    return a;
  }

  #v6a: Ipv6Address = Ipv6Address.UNSPECIFIED;
  #v6b: Ipv6Address = Ipv6Address.UNSPECIFIED;

  /** The IPv6 address at `b[off, off + 16)`, the same object as last time when it repeats. */
  ipv6At(b: Uint8Array, off: number): Ipv6Address {
    const w0 = readU32(b, off), w1 = readU32(b, off + 4);
    const w2 = readU32(b, off + 8), w3 = readU32(b, off + 12);
    const a = this.#v6a;
    if (a.w3 === w3 && a.w2 === w2 && a.w1 === w1 && a.w0 === w0) return a;
    const b2 = this.#v6b;
    if (b2.w3 === w3 && b2.w2 === w2 && b2.w1 === w1 && b2.w0 === w0) return b2;
    const n = new Ipv6Address(w0, w1, w2, w3);
    this.#v6b = a;
    this.#v6a = n;
    return n;
  }

  // Egress: the packet value every send fills, the Ethernet header repr, and a buffer for
  // packets that cannot be written straight into a device frame (fragmented or queued for an
  // unresolved neighbor). Reused, so sending allocates nothing on the fast path.
  readonly pkt = new OutPacket();
  readonly eth: Mutable<EthernetRepr>;
  readonly scratch = new Uint8Array(65535 + IPV6_HEADER_LEN + 16);

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
    this.eth = { src: this.hw, dst: EthernetAddress.BROADCAST, etherType: 0, vlan: null };
  }

  /** Starts a poll on `device` at `now`. */
  begin(now: Instant, device: Device, sockets: SocketSet | null): void {
    this.now = now;
    this.device = device;
    this.sockets = sockets;
    const caps = device.capabilities;
    this.ipMtu = caps.medium === "ethernet" ? caps.mtu - ETH_LEN : caps.mtu;
    if (this.linkMtu !== null && this.linkMtu < this.ipMtu) this.ipMtu = this.linkMtu;
    const csum = caps.checksum;
    this.csum = csum;
    this.verifyIpv4.verifyChecksum = this.fillIpv4.fillChecksum = csum.ipv4;
    this.verifyUdp.verifyChecksum = this.fillUdp.fillChecksum = csum.udp;
    this.verifyTcp.verifyChecksum = this.fillTcp.fillChecksum = csum.tcp;
    this.verifyIcmpv4.verifyChecksum = this.fillIcmpv4.fillChecksum = csum.icmpv4;
    this.verifyIcmpv6.verifyChecksum = this.fillIcmpv6.fillChecksum = csum.icmpv6;
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

  /**
   * Whether `addr` is one of ours: this interface's, or (when attached to a forwarder) an
   * address of another interface of the same router.
   */
  isOwnAddress(addr: IpAddress): boolean {
    return this.routes.hasAddress(addr) ||
      (this.forwarder !== null && this.forwarder.ownsAddress(addr));
  }

  /** Whether `addr` is one of ours, or a broadcast/multicast we accept. */
  acceptsDst(dst: IpAddress): boolean {
    if (this.isOwnAddress(dst)) return true;
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
}
