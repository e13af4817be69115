/**
 * The host side of IPv6 neighbor discovery on an interface: {@linkcode NdpHost} feeds a
 * {@linkcode Slaac} state machine from ICMPv6 ingress (router advertisements, and neighbor
 * solicitations and advertisements for duplicate address detection), sends what it asks for
 * (router solicitations, DAD probes, MLDv2 reports) as whole IPv6 packets through the
 * interface's egress, and answers MLD queries (RFC 3810 §6.2, RFC 2710 §4) for the
 * solicited-node groups it listens to. Joins and leaves (a group no address needs after a
 * duplicate or an expiry) are state change reports sent twice, the second within 1 s
 * (RFC 3810 §6.1, Robustness Variable 2).
 *
 * @module
 */

import { type Instant, NEVER } from "../time.ts";
import { type IpAddress, Ipv6Address } from "../wire/address.ts";
import { Icmpv6Packet } from "../wire/icmpv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { emitIpv6, IPV6_HEADER_LEN, Ipv6Packet } from "../wire/ipv6.ts";
import { emitIpv6Options, Ipv6OptionsHeader, Ipv6RouterAlert } from "../wire/ipv6_ext.ts";
import {
  emitMld,
  mldBufferLen,
  mldMaxResponseDelay,
  MldRecordType,
  type MldRepr,
  parseMld,
} from "../wire/mld.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr, parseNdisc } from "../wire/ndisc.ts";
import { Slaac, type SlaacContext, type SlaacEmitter, type SlaacOptions } from "./slaac.ts";

/** ICMPv6 types handled here. */
const TYPE = {
  MLD_QUERY: 130,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
} as const;
/** The hop-by-hop header carrying the router alert (RFC 3810 §5: every MLD message has one). */
const HBH_LEN = 8;
/** Control messages are small: the largest is an MLDv2 report of a few groups. */
const SCRATCH_LEN = 1280;
/** RFC 3810 §9.11: state change reports are retransmitted at random within 1 s. */
const UNSOLICITED_REPORT_INTERVAL_MS = 1_000;

/**
 * Where {@linkcode NdpHost.dispatch} sends whole IPv6 packets: the interface's egress (which
 * routes, resolves the link address of the multicast destination and frames the packet).
 *
 * @example
 * ```ts
 * import { NdpHost, type NdpOutput, Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const sent: string[] = [];
 * const out: NdpOutput = { sendPacket: (_pkt, dst) => (sent.push(dst.toString()), true) };
 * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
 * const cx = { now: 0, random: new Rng(1) };
 * host.start(cx);
 * host.dispatch(cx, out);
 * assert.equal(sent[0], "ff02::16"); // the MLDv2 join goes to all MLDv2-capable routers
 * ```
 */
export interface NdpOutput {
  /** Sends `pkt` (a whole IP packet) towards `dst`; `false` when the device is full. */
  sendPacket(pkt: Uint8Array, dst: IpAddress): boolean;
}

/**
 * Counters of {@linkcode NdpHost} on top of {@linkcode Slaac}'s.
 *
 * @example
 * ```ts
 * import { NdpHost, type NdpHostCounters, Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
 * const cx = { now: 0, random: new Rng(1) };
 * host.start(cx);
 * host.dispatch(cx, { sendPacket: () => true });
 * const c: NdpHostCounters = host.counters;
 * assert.equal(c.mldReports, 1); // the solicited-node join
 * assert.equal(c.mldQueries, 0);
 * ```
 */
export interface NdpHostCounters {
  /** MLD queries received (general and group-specific). */
  mldQueries: number;
  /** MLD reports sent (joins and query answers). */
  mldReports: number;
  /** Neighbor solicitations or advertisements not considered for DAD: hop limit not 255. */
  dadBadHopLimit: number;
}

/**
 * IPv6 autoconfiguration on one interface: give it to `Interface.attachNdp`, then take the
 * {@linkcode Slaac} events ({@linkcode NdpHost.slaac}) after each poll and apply them
 * (`NetStack({ addresses: "auto" })` does).
 *
 * @example Start: an MLDv2 join for the link-local address's group, then its DAD probe
 * ```ts
 * import assert from "node:assert/strict";
 * import { NdpHost, Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * const host = new NdpHost({
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 * });
 * const cx = { now: 0, random: new Rng(1) };
 * host.start(cx);
 * const sent: number[] = [];
 * host.dispatch(cx, { sendPacket: (pkt) => (sent.push(pkt[6]!), true) });
 * assert.equal(sent[0], 0); // a hop-by-hop header: the MLD report's router alert
 * ```
 */
export class NdpHost {
  /** The autoconfiguration state machine (events, addresses, routers, DNS servers). */
  readonly slaac: Slaac;
  /** Messages handled or ignored here, by kind. */
  readonly counters: NdpHostCounters = { mldQueries: 0, mldReports: 0, dadBadHopLimit: 0 };
  readonly #scratch = new Uint8Array(SCRATCH_LEN);
  readonly #emitter: SlaacEmitter;
  #out: NdpOutput | null = null;
  /** When the answer to a general query is due, or `NEVER`. */
  #generalAt: Instant = NEVER;
  /** Group-specific answers due: group, then instant. */
  readonly #specific: { group: Ipv6Address; at: Instant }[] = [];
  /** RFC 3810 §8.2: an MLDv1 querier was heard; answer in MLDv1 until this instant. */
  #v1Until: Instant = -Infinity;
  /** Groups whose join was reported and not yet left. */
  readonly #joined: Ipv6Address[] = [];
  /**
   * RFC 3810 §6.1: each state change report is sent [Robustness Variable] = 2 times; the
   * second copy of joins (ChangeToExclude) and leaves (ChangeToInclude) waits here.
   */
  readonly #again: { group: Ipv6Address; join: boolean; at: Instant }[] = [];
  #cx: SlaacContext | null = null;

  /**
   * Creates the host and its state machine; nothing is sent before {@linkcode NdpHost.start}.
   *
   * @param options The {@linkcode Slaac} options.
   */
  constructor(options: SlaacOptions) {
    this.slaac = new Slaac(options);
    this.#emitter = {
      emitNdisc: (src, dst, repr) => this.#sendNdisc(src, dst, repr),
      emitMld: (src, repr) => this.#sendJoin(src, repr),
    };
  }

  /**
   * Starts autoconfiguration: a tentative link-local address and router solicitations.
   *
   * @param cx The context.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NdpHost, Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * host.start({ now: 0, random: new Rng(1) });
   * assert.equal(host.slaac.addresses[0]?.state, "tentative");
   * ```
   */
  start(cx: SlaacContext): void {
    this.slaac.start(cx);
  }

  /**
   * ICMPv6 ingress (after the checksum): takes router advertisements and MLD queries, and looks
   * at neighbor solicitations and advertisements for DAD. Throws `WireError` for a malformed
   * message, which the interface counts.
   *
   * @param cx The context.
   * @param src The IP source.
   * @param dst The IP destination.
   * @param hopLimit The IP hop limit.
   * @param msg The ICMPv6 message.
   * @returns `true` when the message is consumed; `false` leaves neighbor messages (and every
   * other type) to the interface.
   *
   * @example A router advertisement with hop limit 64 is ignored and counted
   * ```ts
   * import assert from "node:assert/strict";
   * import { NdpHost, Rng } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * const ra = new Uint8Array(16);
   * ra[0] = 134;
   * const src = Ipv6Address.parse("fe80::1");
   * assert.equal(host.icmpv6({ now: 0, random: new Rng(1) }, src, Ipv6Address.LINK_LOCAL_ALL_NODES, 64, ra), true);
   * assert.equal(host.slaac.counters.badHopLimit, 1);
   * ```
   */
  icmpv6(
    cx: SlaacContext,
    src: Ipv6Address,
    dst: Ipv6Address,
    hopLimit: number,
    msg: Uint8Array,
  ): boolean {
    switch (msg[0]) {
      case TYPE.ROUTER_ADVERT: {
        // RFC 4861 §6.1.2: checked before parsing so that each reason has its counter.
        const counters = this.slaac.counters;
        if (hopLimit !== 255) counters.badHopLimit++;
        else if (!src.isLinkLocal) counters.offLinkSource++;
        else {
          const ra = parseNdisc(new Icmpv6Packet(msg), src, dst);
          if (ra.kind === "routerAdvert") this.slaac.processRouterAdvert(cx, src, hopLimit, ra);
        }
        return true;
      }
      case TYPE.ROUTER_SOLICIT:
        return true; // a host ignores solicitations (RFC 4861 §6.2.6 is for routers)
      case TYPE.NEIGHBOR_SOLICIT:
      case TYPE.NEIGHBOR_ADVERT: {
        if (hopLimit !== 255) {
          this.counters.dadBadHopLimit++;
          return false; // the interface counts and drops it too
        }
        const repr = parseNdisc(new Icmpv6Packet(msg), src, dst);
        // RFC 4862 §5.4.3 / §5.4.4: someone else probes for, or owns, a tentative address.
        if (repr.kind === "neighborSolicit") {
          return this.slaac.processNeighborSolicit(cx, src, repr.target);
        }
        if (repr.kind === "neighborAdvert") this.slaac.processNeighborAdvert(cx, repr.target);
        return false;
      }
      case TYPE.MLD_QUERY:
        this.#query(cx, dst, parseMld(new Icmpv6Packet(msg)));
        return true;
      default:
        return false;
    }
  }

  /**
   * Whether the interface accepts packets to `group` (the solicited-node groups of its
   * autoconfigured addresses, tentative ones included so that DAD probes arrive).
   *
   * @param group A multicast destination.
   * @returns `true` when it is one of them.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NdpHost } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(host.acceptsGroup(Ipv6Address.parse("ff02::1:ff00:1")), false);
   * ```
   */
  acceptsGroup(group: Ipv6Address): boolean {
    return this.slaac.listensTo(group);
  }

  /**
   * Egress: sends everything due now through `out` (MLD answers, then the state machine's
   * joins, probes and solicitations) and moves the state machine's timers.
   *
   * @param cx The context.
   * @param out The interface's egress.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NdpHost, Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * let n = 0;
   * host.dispatch({ now: 0, random: new Rng(1) }, { sendPacket: () => (n++, true) });
   * assert.equal(n, 0); // not started
   * ```
   */
  dispatch(cx: SlaacContext, out: NdpOutput): void {
    this.#out = out;
    this.#cx = cx;
    try {
      if (!this.#answerQueries(cx.now)) return;
      while (this.slaac.dispatch(cx, this.#emitter));
      if (!this.#sendLeaves(cx)) return;
      this.#sendAgain(cx.now);
    } finally {
      this.#out = null;
      this.#cx = null;
    }
  }

  /**
   * When {@linkcode NdpHost.dispatch} is next needed.
   *
   * @param cx The context.
   * @returns The instant, or `NEVER`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NdpHost, Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const host = new NdpHost({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(host.pollAt({ now: 0, random: new Rng(1) }), Infinity);
   * ```
   */
  pollAt(cx: SlaacContext): Instant {
    let at = Math.min(this.slaac.pollAt(cx), this.#generalAt);
    for (const s of this.#specific) at = Math.min(at, s.at);
    for (const r of this.#again) at = Math.min(at, r.at);
    // A group left since the last dispatch (an address removed or found duplicate).
    for (const g of this.#joined) if (!this.slaac.listensTo(g)) return cx.now;
    return at;
  }

  /** RFC 3810 §6.2 / RFC 2710 §4: schedule an answer at a random instant within the delay. */
  #query(cx: SlaacContext, dst: Ipv6Address, q: MldRepr): void {
    let delay: number;
    let group: Ipv6Address;
    if (q.kind === "query") {
      this.#v1Until = cx.now + 260_000; // RFC 3810 §9.12 Older Version Querier Present Timeout
      delay = q.maxResponseDelay;
      group = q.group;
    } else if (q.kind === "queryV2") {
      delay = mldMaxResponseDelay(q.maxResponseCode);
      group = q.group;
    } else {
      return; // reports and dones from other listeners: a host does nothing
    }
    this.counters.mldQueries++;
    const at = cx.now + cx.random.below(Math.max(1, delay));
    if (group.isUnspecified) {
      // RFC 3810 §5.1.15: a general query is sent to all-nodes.
      if (!dst.equals(Ipv6Address.LINK_LOCAL_ALL_NODES)) return;
      if (at < this.#generalAt) this.#generalAt = at;
      return;
    }
    if (!this.slaac.listensTo(group) || at >= this.#generalAt) return;
    const known = this.#specific.find((s) => s.group.equals(group));
    if (known === undefined) this.#specific.push({ group, at });
    else if (at < known.at) known.at = at;
  }

  /** Sends the query answers that are due; `false` when the device is full. */
  #answerQueries(now: Instant): boolean {
    const v1 = now < this.#v1Until;
    if (now >= this.#generalAt) {
      const groups = this.slaac.groups;
      if (v1) {
        for (const group of groups) {
          if (!this.#sendMld(Ipv6Address.UNSPECIFIED, { kind: "report", group }, group)) {
            return false;
          }
        }
      } else if (groups.length > 0) {
        const records = groups.map((group) => ({
          recordType: MldRecordType.ModeIsExclude,
          group,
          sources: [],
        }));
        if (!this.#sendMld(Ipv6Address.UNSPECIFIED, { kind: "reportV2", records })) return false;
      }
      this.#generalAt = NEVER;
      this.#specific.length = 0;
    }
    for (let i = this.#specific.length - 1; i >= 0; i--) {
      const s = this.#specific[i]!;
      if (now < s.at) continue;
      const repr: MldRepr = v1 ? { kind: "report", group: s.group } : {
        kind: "reportV2",
        records: [{ recordType: MldRecordType.ModeIsExclude, group: s.group, sources: [] }],
      };
      if (!this.#sendMld(Ipv6Address.UNSPECIFIED, repr, v1 ? s.group : undefined)) return false;
      this.#specific.splice(i, 1);
    }
    return true;
  }

  /** The state machine's join: sent, remembered, and its second copy scheduled. */
  #sendJoin(src: Ipv6Address, repr: MldRepr): boolean {
    if (!this.#sendMld(src, repr)) return false;
    if (repr.kind !== "reportV2") return true;
    const cx = this.#cx!;
    for (const r of repr.records) {
      if (r.recordType !== MldRecordType.ChangeToExclude) continue;
      if (!this.#joined.some((g) => g.equals(r.group))) this.#joined.push(r.group);
      this.#schedule(cx, r.group, true);
    }
    return true;
  }

  #schedule(cx: SlaacContext, group: Ipv6Address, join: boolean): void {
    // RFC 3810 §6.1: a newer change for the group replaces a pending retransmission.
    const i = this.#again.findIndex((r) => r.group.equals(group));
    if (i >= 0) this.#again.splice(i, 1);
    const at = cx.now + 1 + cx.random.below(UNSOLICITED_REPORT_INTERVAL_MS);
    this.#again.push({ group, join, at });
  }

  /** RFC 3810 §6.1: leave (ChangeToInclude with no source) groups no address needs any more. */
  #sendLeaves(cx: SlaacContext): boolean {
    for (let i = this.#joined.length - 1; i >= 0; i--) {
      const group = this.#joined[i]!;
      if (this.slaac.listensTo(group)) continue;
      const repr: MldRepr = {
        kind: "reportV2",
        records: [{ recordType: MldRecordType.ChangeToInclude, group, sources: [] }],
      };
      if (!this.#sendMld(Ipv6Address.UNSPECIFIED, repr)) return false;
      this.#joined.splice(i, 1);
      this.#schedule(cx, group, false);
    }
    return true;
  }

  /** Second copies of state change reports that are due. */
  #sendAgain(now: Instant): void {
    for (let i = 0; i < this.#again.length;) {
      const r = this.#again[i]!;
      if (now < r.at) {
        i++;
        continue;
      }
      const recordType = r.join ? MldRecordType.ChangeToExclude : MldRecordType.ChangeToInclude;
      const repr: MldRepr = {
        kind: "reportV2",
        records: [{ recordType, group: r.group, sources: [] }],
      };
      if (!this.#sendMld(Ipv6Address.UNSPECIFIED, repr)) return;
      this.#again.splice(i, 1);
    }
  }

  /** An NDP message with hop limit 255 (RFC 4861 §6.1, §7.1). */
  #sendNdisc(src: Ipv6Address, dst: Ipv6Address, repr: NdiscRepr): boolean {
    const len = ndiscBufferLen(repr);
    const pkt = this.#scratch.subarray(0, IPV6_HEADER_LEN + len);
    this.#ipHeader(pkt, src, dst, IpProtocol.Icmpv6, len, 255);
    const msg = new Icmpv6Packet(pkt.subarray(IPV6_HEADER_LEN));
    emitNdisc(repr, msg);
    msg.fillChecksum(src, dst);
    return this.#out!.sendPacket(pkt, dst);
  }

  /**
   * An MLD message with hop limit 1 and a router alert (RFC 3810 §5): MLDv2 reports go to
   * ff02::16, MLDv1 reports to the group itself (RFC 2710 §3). The source is the link-local
   * address once it is usable, else `::` (RFC 3810 §5.2.13).
   */
  #sendMld(src: Ipv6Address, repr: MldRepr, v1Group?: Ipv6Address): boolean {
    const from = src.isUnspecified ? this.#linkLocal() : src;
    const dst = v1Group ?? Ipv6Address.LINK_LOCAL_ALL_MLDV2_ROUTERS;
    const len = mldBufferLen(repr);
    const pkt = this.#scratch.subarray(0, IPV6_HEADER_LEN + HBH_LEN + len);
    this.#ipHeader(pkt, from, dst, IpProtocol.HopByHop, HBH_LEN + len, 1);
    emitIpv6Options(
      {
        nextHeader: IpProtocol.Icmpv6,
        options: [{ kind: "routerAlert", value: Ipv6RouterAlert.Mld }],
      },
      new Ipv6OptionsHeader(pkt.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + HBH_LEN)),
    );
    const msg = new Icmpv6Packet(pkt.subarray(IPV6_HEADER_LEN + HBH_LEN));
    emitMld(repr, msg);
    msg.fillChecksum(from, dst);
    if (!this.#out!.sendPacket(pkt, dst)) return false;
    this.counters.mldReports++;
    return true;
  }

  #ipHeader(
    pkt: Uint8Array,
    src: Ipv6Address,
    dst: Ipv6Address,
    nextHeader: number,
    payloadLen: number,
    hopLimit: number,
  ): void {
    emitIpv6(
      { src, dst, nextHeader, payloadLen, hopLimit, trafficClass: 0, flowLabel: 0 },
      new Ipv6Packet(pkt),
    );
  }

  /** The preferred link-local address, else `::`. */
  #linkLocal(): Ipv6Address {
    for (const a of this.slaac.addresses) {
      if (a.address.isLinkLocal && a.state === "preferred") return a.address;
    }
    return Ipv6Address.UNSPECIFIED;
  }
}
