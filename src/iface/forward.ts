/**
 * IP forwarding between interfaces (RFC 1812 for IPv4, RFC 8200 for IPv6), sans-IO. A
 * {@linkcode Forwarder} is attached to several {@linkcode Interface}s, each with its device;
 * from then on each interface's ingress hands it every unicast packet first, and the forwarder
 * either sends it on through another interface's egress or leaves it for local delivery.
 *
 * For a packet that is not for the router it checks, in order: link-layer broadcast (RFC 1812
 * §5.3.4), martian source or destination (RFC 1812 §5.3.7, the RFC 6890 registry), a source
 * that is one of the router's own addresses or fails the reverse-path check (RFC 3704), the
 * TTL / hop limit (ICMP Time Exceeded at ≤ 1, RFC 1812 §5.3.1, RFC 8200 §3), the route
 * (Destination Unreachable when none, RFC 1812 §5.2.7.1), a directed broadcast (RFC 2644), the
 * outgoing MTU (Fragmentation Needed with DF set, RFC 1191 §4; Packet Too Big for IPv6,
 * RFC 8201; IPv4 without DF is fragmented, RFC 1812 §5.2.6; a TCP super-frame the ingress device
 * coalesced is judged by the segments it was made of when the device reports their size, as a
 * TUN device with offloads does), then NAPT on an interface that has
 * a {@linkcode NatTable} (IPv4 fragments through it are reassembled first and fragmented again
 * on the way out), the TTL decrement with an incremental checksum update (RFC 1624), and
 * the send. Each drop adds one to a named counter in {@linkcode ForwardCounters}. The received
 * packet is rewritten in place (its buffer is the device's until the next receive).
 *
 * @module
 */

import { type IpAddress, type Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { checksumUpdate } from "../wire/checksum.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
import { specialPurposeBlocks } from "../wire/special_purpose.ts";
import type { IpCidr } from "../wire/cidr.ts";
import type { Device } from "../phy/device.ts";
import type { Instant } from "../time.ts";
import { coreOf } from "./_core_access.ts";
import { sendIpTo } from "./egress.ts";
import { ETH_LEN, type ForwardHook, type IfaceCore } from "./iface_state.ts";
import type { Interface } from "./interface.ts";
import { natInbound, natOutbound, NatStep, natUndoInbound } from "./forward_nat.ts";
import type { NatTable } from "./nat.ts";
import { Npt } from "./forward_npt.ts";
import { natReassemble } from "./_forward_frag.ts";
import {
  completeTcpChecksum,
  isSuperFrame,
  isTcp,
  segmentsExceed,
  type SegmentSizeSource,
  segmentSource,
  sendSegmented,
} from "./_forward_gso.ts";
import { inList, type Martians, martians, sendError } from "./_forward_checks.ts";
import { Reassembler } from "./reassembly.ts";
import { DecisionCache } from "./_forward_cache.ts";
import { type RouteChoice, type RouteSource, RouteTable } from "./forward_routes.ts";
import type {
  ForwardCounters,
  ForwarderOptions,
  ForwardPortOptions,
  ReversePathMode,
} from "./forward_types.ts";

export type {
  ForwardCounters,
  ForwarderOptions,
  ForwardPortOptions,
  ReversePathMode,
} from "./forward_types.ts";

/** One attached interface. */
class Port implements RouteSource, ForwardHook {
  readonly core: IfaceCore;
  /** The ingress device's report of each super-frame's segment size, when it gives one. */
  readonly segments: SegmentSizeSource | null;

  constructor(
    readonly state: State,
    readonly index: number,
    readonly iface: Interface,
    readonly device: Device,
    readonly metric: number,
    readonly nat: NatTable | null,
    readonly npt: Npt | null,
  ) {
    this.core = coreOf(iface);
    this.segments = segmentSource(device);
  }

  get addresses(): readonly IpCidr[] {
    return this.core.routes.addresses;
  }

  get routes(): readonly { readonly cidr: IpCidr; readonly via: IpAddress | null }[] {
    return this.core.routes.routes;
  }

  take(core: IfaceCore, packet: Uint8Array, src: IpAddress, dst: IpAddress): boolean {
    return forwardPacket(this.state, this, core, packet, src, dst);
  }

  ownsAddress(addr: IpAddress): boolean {
    return ownerOf(this.state.ports, addr) >= 0;
  }
}

/** Forwarder state the module-level hot path reads. */
interface State {
  enabled: boolean;
  readonly reversePath: ReversePathMode;
  readonly martianSrc: Martians;
  readonly martianDst: Martians;
  readonly ports: Port[];
  readonly table: RouteTable;
  readonly counters: ForwardCounters;
  /** IPv4 fragments through NAT, held until their datagram is whole. */
  readonly natReasm: Reassembler;
  /** Where a reassembled datagram is rebuilt (with room for an Ethernet header). */
  readonly natWhole: Uint8Array;
  /** Where a super-frame's segments are built (see `_forward_gso.ts`). */
  readonly segScratch: Uint8Array;
  /** Route decisions already made (see `_forward_cache.ts`). */
  readonly cache: DecisionCache;
  /** Bumped by every attach and detach (part of the cache's generation). */
  attachments: number;
}

/** The generation of every input of a route decision: it changes whenever one of them does. */
function generation(s: State): number {
  let g = s.attachments + s.table.generation;
  const ports = s.ports;
  for (let i = 0; i < ports.length; i++) g += ports[i]!.core.routes.generation;
  return g;
}

function checkIndex(ports: readonly Port[], i: number): Port {
  const p = ports[i];
  if (p === undefined) throw new RangeError(`Invalid interface index ${i}`);
  return p;
}

/**
 * Forwards IP packets between the interfaces attached to it (forwarding is off unless an
 * interface is attached to a forwarder). Sans-IO: it runs inside each interface's `poll`, on
 * the interface's clock.
 *
 * @example Two interfaces, one packet routed from one link to the other
 * ```ts
 * import { Forwarder, Interface, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const [hostA, routerA] = linkPair({ medium: "ip" });
 * const [routerB, hostB] = linkPair({ medium: "ip" });
 * const a = new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1", seed: 1 });
 * const b = new Interface({ addresses: ["198.51.100.2/24"], gateway4: "198.51.100.1", seed: 2 });
 * const r0 = new Interface({ addresses: ["192.0.2.1/24"], seed: 3 });
 * const r1 = new Interface({ addresses: ["198.51.100.1/24"], seed: 4 });
 * const fwd = new Forwarder({ allowDocumentation: true });
 * fwd.attach(r0, routerA);
 * fwd.attach(r1, routerB);
 *
 * const sa = new SocketSet(), sb = new SocketSet(), none = new SocketSet();
 * const tx = new UdpSocket(), rx = new UdpSocket();
 * a.bindUdp(sa, tx, { addr: parseIpAddress("192.0.2.2"), port: 5000 });
 * b.bindUdp(sb, rx, { addr: parseIpAddress("198.51.100.2"), port: 53 });
 * tx.send(new Uint8Array([1, 2, 3]), { addr: parseIpAddress("198.51.100.2"), port: 53 });
 * for (let t = 0; t < 4; t++) {
 *   a.poll(t, hostA, sa); r0.poll(t, routerA, none); r1.poll(t, routerB, none); b.poll(t, hostB, sb);
 * }
 * assert.equal(rx.recv(new Uint8Array(8))?.length, 3);
 * assert.equal(fwd.counters.forwarded, 1);
 * ```
 */
export class Forwarder {
  readonly #s: State;

  /**
   * Creates a forwarder with no interfaces.
   *
   * @param options Reverse-path mode and documentation blocks.
   * @throws {TypeError} For an unknown reverse-path mode.
   */
  constructor(options: ForwarderOptions = {}) {
    const mode = options.reversePath ?? "loose";
    if (mode !== "strict" && mode !== "loose" && mode !== "off") {
      throw new TypeError(`Invalid reversePath ${JSON.stringify(mode)}`);
    }
    const allowDoc = options.allowDocumentation === true;
    const src: IpCidr[] = [], dst: IpCidr[] = [];
    for (const b of specialPurposeBlocks()) {
      if (allowDoc && b.name.startsWith("Documentation")) continue;
      if (!b.source || !b.forwardable) src.push(b.prefix);
      // Multicast and limited broadcast are handled as "not unicast" before this check.
      if (!b.destination || !b.forwardable) dst.push(b.prefix);
    }
    this.#s = {
      enabled: true,
      reversePath: mode,
      martianSrc: martians(src),
      martianDst: martians(dst),
      ports: [],
      table: new RouteTable(),
      counters: {
        forwarded: 0,
        fragmented: 0,
        superFrames: 0,
        segmented: 0,
        natOut: 0,
        natIn: 0,
        ttlExceeded: 0,
        noRoute: 0,
        martianSource: 0,
        martianDestination: 0,
        spoofedSource: 0,
        reversePath: 0,
        linkBroadcast: 0,
        directedBroadcast: 0,
        tooBig: 0,
        deviceFull: 0,
        natRefused: 0,
        natUnsupported: 0,
        natReassembled: 0,
        natFragment: 0,
        natMalformed: 0,
        nptOut: 0,
        nptIn: 0,
        nptUntranslatable: 0,
      },
      natReasm: new Reassembler(4, options.natReassembly),
      natWhole: new Uint8Array(ETH_LEN + 65535),
      segScratch: new Uint8Array(65535),
      cache: new DecisionCache(),
      attachments: 0,
    };
  }

  /**
   * Attaches an interface and the device it polls: from its next poll, packets it receives
   * that are not for it are forwarded.
   *
   * @param iface The interface.
   * @param device The device `iface` is polled with (packets leave on it).
   * @param options The metric of the interface's own routes; NAT on this interface.
   * @returns The interface's index, as routes name it.
   * @throws {TypeError} When the interface is already attached to a forwarder.
   * @throws {RangeError} For a bad metric.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const fwd = new Forwarder();
   * assert.equal(fwd.attach(new Interface({ addresses: ["192.0.2.1/24"] }), new Loopback()), 0);
   * ```
   */
  attach(iface: Interface, device: Device, options: ForwardPortOptions = {}): number {
    const s = this.#s;
    const core = coreOf(iface);
    if (core.forwarder !== null) throw new TypeError("The interface is already attached");
    const metric = options.metric ?? 0;
    if (!Number.isInteger(metric) || metric < 0 || metric > 0xffffffff) {
      throw new RangeError(`Invalid metric ${metric}: expected an integer from 0 to 4294967295`);
    }
    const npt = options.npt === undefined ? null : new Npt(options.npt);
    const port = new Port(s, s.ports.length, iface, device, metric, options.nat ?? null, npt);
    s.ports.push(port);
    s.attachments++;
    core.forwarder = port;
    return port.index;
  }

  /**
   * Detaches every interface: they stop forwarding.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * const fwd = new Forwarder();
   * const iface = new Interface();
   * fwd.attach(iface, new Loopback());
   * import assert from "node:assert/strict";
   * assert.throws(() => new Forwarder().attach(iface, new Loopback()), TypeError); // taken
   * fwd.detachAll();
   * assert.equal(fwd.interfaceCount, 0);
   * assert.equal(new Forwarder().attach(iface, new Loopback()), 0); // free again
   * ```
   */
  detachAll(): void {
    const s = this.#s;
    for (const p of s.ports) if (p.core.forwarder === p) p.core.forwarder = null;
    s.ports.length = 0;
    s.attachments++;
  }

  /** Whether packets are forwarded (default `true`); when `false` they are not taken. */
  get enabled(): boolean {
    return this.#s.enabled;
  }
  set enabled(on: boolean) {
    this.#s.enabled = on;
  }

  /** The routes beyond each interface's connected prefixes and own gateways. */
  get routes(): RouteTable {
    return this.#s.table;
  }

  /** Counters (live). */
  get counters(): Readonly<ForwardCounters> {
    return this.#s.counters;
  }

  /**
   * How many IPv4 datagrams NAT holds fragments of, waiting for the rest (bounded by the
   * `natReassembly` option).
   *
   * @example
   * ```ts
   * import { Forwarder } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * assert.equal(new Forwarder({ natReassembly: { maxDatagrams: 4 } }).natFragmentsHeld, 0);
   * ```
   */
  get natFragmentsHeld(): number {
    return this.#s.natReasm.count;
  }

  /** How many interfaces are attached. */
  get interfaceCount(): number {
    return this.#s.ports.length;
  }

  /**
   * The NAT table of an interface, or `null`.
   *
   * @param iface The interface index.
   * @returns The table.
   * @throws {RangeError} For an index not attached.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface, NatTable } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const fwd = new Forwarder();
   * const nat = new NatTable({ externalAddress: "198.51.100.1" });
   * const i = fwd.attach(new Interface({ addresses: ["198.51.100.1/24"] }), new Loopback(), { nat });
   * assert.equal(fwd.natOf(i), nat);
   * ```
   */
  natOf(iface: number): NatTable | null {
    return checkIndex(this.#s.ports, iface).nat;
  }

  /**
   * The route a packet to `dst` takes.
   *
   * @param dst The destination.
   * @returns The interface index and next hop (one reused object), or `null`.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const fwd = new Forwarder();
   * fwd.attach(new Interface({ addresses: ["192.0.2.1/24"] }), new Loopback());
   * fwd.attach(new Interface({ addresses: ["198.51.100.1/24"], gateway4: "198.51.100.254" }), new Loopback());
   * assert.equal(fwd.lookup(parseIpAddress("192.0.2.9"))?.iface, 0);
   * assert.equal(fwd.lookup(parseIpAddress("203.0.113.1"))?.nextHop.toString(), "198.51.100.254");
   * ```
   */
  lookup(dst: IpAddress): RouteChoice | null {
    const s = this.#s;
    return s.table.lookup(dst, s.ports);
  }

  /**
   * Removes expired NAT mappings on every NAT interface.
   *
   * @param now The current instant.
   * @returns How many were removed.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface, NatTable } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const fwd = new Forwarder();
   * const nat = new NatTable({ externalAddress: "198.51.100.1", timeouts: { udp: 1000 } });
   * fwd.attach(new Interface({ addresses: ["198.51.100.1/24"] }), new Loopback(), { nat });
   * nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.2"), 5000, Ipv4Address.parse("203.0.113.5"), 53);
   * assert.equal(fwd.expire(999), 0);
   * assert.equal(fwd.expire(1000), 1); // idle for the UDP timeout
   * assert.equal(nat.size, 0);
   * ```
   */
  expire(now: Instant): number {
    const s = this.#s;
    s.counters.natFragment += s.natReasm.expire(now).length;
    let n = 0;
    for (const p of s.ports) if (p.nat !== null) n += p.nat.expire(now);
    return n;
  }

  /**
   * When a NAT mapping next expires (`Infinity` when none).
   *
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { Forwarder, Interface, NatTable } from "@smol/net/iface";
   * import { Loopback } from "@smol/net/phy";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const fwd = new Forwarder();
   * const nat = new NatTable({ externalAddress: "198.51.100.1", timeouts: { udp: 1000 } });
   * fwd.attach(new Interface({ addresses: ["198.51.100.1/24"] }), new Loopback(), { nat });
   * assert.equal(fwd.pollAt(), Infinity);
   * nat.outbound(50, "udp", Ipv4Address.parse("192.0.2.2"), 5000, Ipv4Address.parse("203.0.113.5"), 53);
   * assert.equal(fwd.pollAt(), 1050);
   * ```
   */
  pollAt(): Instant {
    const s = this.#s;
    let t = s.natReasm.pollAt();
    for (const p of s.ports) if (p.nat !== null) t = Math.min(t, p.nat.nextExpiry());
    return t;
  }
}

/** The port that owns `addr`, or -1. */
function ownerOf(ports: readonly Port[], addr: IpAddress): number {
  for (let i = 0; i < ports.length; i++) if (ports[i]!.core.routes.hasAddress(addr)) return i;
  return -1;
}

/** The forwarding path: `true` when the packet was consumed (sent on, or dropped and counted). */
function forwardPacket(
  s: State,
  inPort: Port,
  core: IfaceCore,
  packet: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
): boolean {
  if (!s.enabled) return false;
  const c = s.counters;
  const ports = s.ports;
  const v4 = src.version === 4;
  let ip4: Ipv4Packet | null = null;
  /** The NAT that translated this packet inbound, or `null`. */
  let natIn: NatTable | null = null;
  /** The NPTv6 mapping that translated this packet inbound, or `null`. */
  let nptIn: Npt | null = null;
  const arrivedDst = dst;
  const owner = ownerOf(ports, dst);
  if (owner >= 0) {
    // For the router itself (on any interface: the weak host model), unless it is the external address of a NAT and maps inside.
    const nat = ports[owner]!.nat;
    if (dst.version !== 4 || nat === null || dst.value !== nat.externalAddress.value) return false;
    if (owner !== inPort.index) {
      // Hairpinning (RFC 4787 REQ-9): inside to the external address, translated below (TCP
      // and UDP); anything else is the router's own, answered on the ingress interface.
      if (inPort.nat !== null) return false;
      const proto = (ip4 = new Ipv4Packet(packet)).protocol;
      if (proto !== IpProtocol.Tcp && proto !== IpProtocol.Udp) return false;
    } else {
      if (core.linkMulticast) return false;
      ip4 = new Ipv4Packet(packet);
      if (ip4.ttl <= 1) return false; // let the local path say Time Exceeded if it must
      if (ip4.moreFrags || ip4.fragOffset !== 0) {
        return natReassemble(s.natReasm, s.natWhole, c, core, ip4, packet);
      }
      const step = natInbound(nat, core.now, ip4, src as Ipv4Address);
      if (step === NatStep.Malformed) {
        c.natMalformed++;
        return true;
      }
      if (step !== NatStep.Translated) return false;
      c.natIn++;
      natIn = nat;
      dst = ip4.dst;
    }
  } else if (dst.isMulticast || dst.isUnspecified || (v4 && (dst as Ipv4Address).isBroadcast)) {
    return false; // not unicast: no multicast routing; local delivery decides
  } else if (v4 && core.routes.isSubnetBroadcast(dst as Ipv4Address)) {
    return false; // a subnet broadcast of the ingress link
  } else if (!v4 && inPort.npt !== null) {
    // NPTv6 (RFC 6296): to the outside prefix, mapped to the inside one before anything else.
    const r = inPort.npt.inbound(packet);
    if (r === false) {
      c.nptUntranslatable++;
      return true;
    }
    if (r) {
      c.nptIn++;
      nptIn = inPort.npt;
      dst = Ipv6Address.fromBytes(packet, 24);
    }
  }
  if (core.linkMulticast) {
    c.linkBroadcast++;
    return true;
  }
  // A flow seen before skips the source checks and the route lookup (they passed then, and
  // nothing they read has changed since).
  const cache = s.cache;
  const e = cache.find(generation(s), inPort.index, src, dst);
  if (e < 0) {
    if (inList(s.martianSrc, src)) {
      c.martianSource++;
      return true;
    }
    if (natIn === null && inList(s.martianDst, dst)) {
      c.martianDestination++;
      return true;
    }
    if (ownerOf(ports, src) >= 0) {
      c.spoofedSource++;
      return true;
    }
    if (s.reversePath !== "off") {
      const back = s.table.lookup(src, ports);
      if (back === null || (s.reversePath === "strict" && back.iface !== inPort.index)) {
        c.reversePath++;
        return true;
      }
    }
  }
  // IPv4 TTL (byte 8) or IPv6 hop limit (byte 7), read in place: the plain path makes no view.
  const hopLimit = v4 ? packet[8]! : packet[7]!;
  if (hopLimit <= 1) {
    // RFC 1812 §5.3.1, RFC 4443 §3.3: code 0, hop limit exceeded in transit.
    c.ttlExceeded++;
    if (nptIn !== null) nptIn.undoInbound(packet); // quoted as it arrived
    sendError(
      core,
      packet,
      src,
      arrivedDst,
      Icmpv4Type.TimeExceeded,
      Icmpv6Type.TimeExceeded,
      0,
      0,
    );
    return true;
  }
  let outIndex: number, hop: IpAddress;
  if (e >= 0) {
    outIndex = cache.iface(e);
    hop = cache.via(e) ?? dst;
  } else {
    const route = s.table.lookup(dst, ports);
    if (route === null) {
      // RFC 1812 §5.2.7.1 net unreachable; RFC 4443 §3.1 code 0, no route to destination.
      c.noRoute++;
      if (natIn !== null) natUndoInbound(natIn, ip4!);
      else if (nptIn !== null) nptIn.undoInbound(packet);
      sendError(
        core,
        packet,
        src,
        arrivedDst,
        Icmpv4Type.DstUnreachable,
        Icmpv6Type.DstUnreachable,
        0,
        0,
      );
      return true;
    }
    outIndex = route.iface;
    hop = route.nextHop;
    if (v4 && ports[outIndex]!.core.routes.isSubnetBroadcast(dst as Ipv4Address)) {
      c.directedBroadcast++;
      return true;
    }
    // Only a decision every check made is kept (after inbound NAT the martian check is skipped).
    if (natIn === null) cache.fill(inPort.index, src, dst, outIndex, hop === dst ? null : hop);
  }
  let out = ports[outIndex]!;
  const outCore = out.core;
  // IPv4 flags and fragment offset (bytes 6–7): MF or a non-zero offset make a fragment.
  const fragment = v4 && (((packet[6]! << 8) | packet[7]!) & 0x3fff) !== 0;
  if (v4 && natIn === null && out.nat !== null && out !== inPort && fragment) {
    // The ports are only in the first fragment.
    return natReassemble(s.natReasm, s.natWhole, c, core, ip4 ?? new Ipv4Packet(packet), packet);
  }
  // The outgoing core is mid-poll only when it is the ingress interface itself.
  const begun = outCore.device === null;
  if (begun) outCore.begin(core.now, out.device, null);
  try {
    const mtu = outCore.ipMtu;
    const big = packet.length > mtu;
    const superFrame = big && isSuperFrame(core, packet);
    const df = !v4 || (packet[6]! & 0x40) !== 0; // IPv6, or IPv4 with DF
    // A super-frame whose original segments were too big is answered as each segment would
    // have been (path MTU discovery through the ingress device's coalescing).
    if (big && (!superFrame || (df && segmentsExceed(inPort.segments, packet, mtu)))) {
      if (df) {
        // RFC 1191 §4: code 4 with the next-hop MTU; RFC 8201 / RFC 4443 §3.2: Packet Too Big.
        c.tooBig++;
        // RFC 5508: the error quotes the packet as its sender sent it, not as translated.
        if (natIn !== null) natUndoInbound(natIn, ip4!);
        else if (nptIn !== null) nptIn.undoInbound(packet);
        sendError(
          core,
          packet,
          src,
          arrivedDst,
          Icmpv4Type.DstUnreachable,
          Icmpv6Type.PktTooBig,
          4,
          mtu,
        );
        return true;
      }
      c.fragmented++;
    }
    if (v4 && natIn === null && out.nat !== null && out !== inPort) {
      ip4 ??= new Ipv4Packet(packet);
      const step = natOutbound(out.nat, core.now, ip4, src as Ipv4Address, dst as Ipv4Address);
      if (step !== NatStep.Translated) {
        if (step === NatStep.Refused) c.natRefused++;
        else if (step === NatStep.Malformed) c.natMalformed++;
        else c.natUnsupported++;
        return true;
      }
      c.natOut++;
      if (owner >= 0) {
        if (ip4!.dst.equals(dst)) {
          c.natUnsupported++; // no mapping to hairpin to: the packet is for the router
          return true;
        }
        // Hairpinned: now addressed to an inside host; route again.
        const route = s.table.lookup(ip4!.dst, ports);
        if (route === null) {
          c.noRoute++;
          return true;
        }
        out = ports[route.iface]!;
        hop = route.nextHop;
      }
    }
    if (!v4 && nptIn === null && out.npt !== null && out !== inPort) {
      // NPTv6 (RFC 6296): an inside source leaving through the port takes the outside prefix.
      const r = out.npt.outbound(packet);
      if (r === false) {
        c.nptUntranslatable++;
        return true;
      }
      if (r) c.nptOut++;
    }
    if (v4) {
      // RFC 1812 §5.3.1 and §5.2.2: TTL - 1 (byte 8, beside the protocol in one 16-bit word),
      // the header checksum (bytes 10–11) updated incrementally (RFC 1624).
      const word = (hopLimit << 8) | packet[9]!;
      const sum = checksumUpdate((packet[10]! << 8) | packet[11]!, word, word - 0x100);
      packet[10] = sum >>> 8;
      packet[11] = sum;
      packet[8] = hopLimit - 1;
    } else {
      packet[7] = hopLimit - 1;
    }
    if (!out.core.csum.tcp || core.csum.tcp || !isTcp(packet)) {
      // Both ends offload checksums (or verify them): a frame too big for the MTU is cut by the
      // outgoing host device when it segments TCP.
      if (!superFrame) return send(c, out, core, packet, hop);
      if (packet.length <= out.core.tcpMax) {
        c.superFrames++;
        return send(c, out, core, packet, hop);
      }
    } else if (!superFrame) {
      completeTcpChecksum(packet); // the ingress device may have left it partial
      return send(c, out, core, packet, hop);
    }
    c.segmented++;
    if (sendSegmented(out.core, packet, hop, s.segScratch)) c.forwarded++;
    else c.deviceFull++;
    return true;
  } finally {
    if (begun) outCore.device = null;
  }
}

function send(
  c: ForwardCounters,
  out: Port,
  core: IfaceCore,
  packet: Uint8Array,
  hop: IpAddress,
): boolean {
  const oc = out.core;
  let begun = false;
  if (oc.device === null) {
    oc.begin(core.now, out.device, null);
    begun = true;
  }
  if (sendIpTo(oc, packet, hop)) c.forwarded++;
  else c.deviceFull++;
  if (begun) oc.device = null;
  return true;
}
