/**
 * IPv6 stateless address autoconfiguration as a sans-IO state machine: router solicitation
 * (RFC 4861 §6.3.7), router advertisements (default routers, MTU, prefixes; RFC 4861 §6.3.4),
 * addresses from prefixes with stable, semantically opaque interface identifiers (RFC 7217)
 * and their lifetimes (RFC 4862 §5.5.3), duplicate address detection before use (RFC 4862 §5.4)
 * with a new identifier after a collision (RFC 7217 §6), and the MLDv2 report that joins each
 * solicited-node group before its DAD probe (RFC 4862 §5.4.2, RFC 3810).
 *
 * It never reads a clock: time is `cx.now`, randomness `cx.random`. The interface feeds it
 * validated NDP messages and applies its events.
 *
 * It also keeps on-link prefixes (RFC 4861 §6.3.4) and recursive DNS servers (RFC 8106 §5.1).
 * `NdpHost` (ndp_host.ts) connects it to an interface: ingress, egress and MLD query answers.
 *
 * Not done: DNSSL, temporary addresses (RFC 8981).
 *
 * @module
 */

import type { Rng } from "../rand.ts";
import { sipHash24 } from "../socket/tcp/isn.ts";
import { type Instant, NEVER } from "../time.ts";
import { Ipv6Address } from "../wire/address.ts";
import type { EthernetAddress } from "../wire/mac.ts";
import { MldRecordType, type MldRepr } from "../wire/mld.ts";
import type { NdiscRepr, RdnssInfo } from "../wire/ndisc.ts";

/** RFC 4861 §10. */
const MAX_RTR_SOLICITATION_DELAY_MS = 1_000;
const RTR_SOLICITATION_INTERVAL_MS = 4_000;
const MAX_RTR_SOLICITATIONS = 3;
const RETRANS_TIMER_MS = 1_000;
/** RFC 7217 §6: new identifiers tried after a collision. */
const IDGEN_RETRIES = 3;
/** RFC 4862 §5.5.3 e): the two-hour rule. */
const TWO_HOURS_S = 7_200;
const INFINITE = 0xffffffff;
const LINK_LOCAL_PREFIX = new Ipv6Address(0xfe800000, 0, 0, 0);

/**
 * The per-call context (a `SocketContext` fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng, type SlaacContext } from "@smol/net/iface";
 * const cx: SlaacContext = { now: 0, random: new Rng(1) };
 * assert.equal(cx.now, 0);
 * ```
 */
export interface SlaacContext {
  /** The current instant. */
  readonly now: Instant;
  /** The interface's seeded generator (solicitation and DAD delays). */
  readonly random: Rng;
}

/**
 * An autoconfigured address's state: `tentative` during DAD, `preferred` in use, `deprecated`
 * past its preferred lifetime (existing connections only), `duplicate` when DAD failed and no
 * new identifier is left to try.
 *
 * @example
 * ```ts
 * import type { SlaacAddressState } from "@smol/net/iface";
 * const s: SlaacAddressState = "tentative";
 * ```
 */
export type SlaacAddressState = "tentative" | "preferred" | "deprecated" | "duplicate";

/**
 * What the interface applies: an address changed state (add it to the interface when
 * `preferred`, keep it for existing use when `deprecated`), an address is gone, a default
 * router came or went, the link MTU changed, a prefix is on-link (RFC 4861 §6.3.4, L flag) or no
 * longer, the recursive DNS servers changed (RFC 8106 §5.1, the whole current list).
 *
 * @example
 * ```ts
 * import type { SlaacEvent } from "@smol/net/iface";
 * function describe(e: SlaacEvent): string {
 *   return e.type === "address" ? `${e.address} ${e.state}` : e.type;
 * }
 * ```
 */
export type SlaacEvent =
  | {
    readonly type: "address";
    readonly address: Ipv6Address;
    readonly prefixLen: number;
    readonly state: SlaacAddressState;
  }
  | { readonly type: "addressRemoved"; readonly address: Ipv6Address }
  | { readonly type: "router"; readonly router: Ipv6Address; readonly expiresAt: Instant }
  | { readonly type: "routerRemoved"; readonly router: Ipv6Address }
  | { readonly type: "mtu"; readonly mtu: number }
  | {
    readonly type: "onLink";
    readonly prefix: Ipv6Address;
    readonly prefixLen: number;
    readonly expiresAt: Instant;
  }
  | { readonly type: "onLinkRemoved"; readonly prefix: Ipv6Address; readonly prefixLen: number }
  | { readonly type: "dns"; readonly servers: readonly Ipv6Address[] };

/**
 * Messages that were ignored, by reason.
 *
 * @example
 * ```ts
 * import type { SlaacCounters } from "@smol/net/iface";
 * const c: SlaacCounters = { badHopLimit: 0, offLinkSource: 0, lifetimesOutOfOrder: 0, badPrefixLength: 0 };
 * ```
 */
export interface SlaacCounters {
  /** RAs (and DAD messages) whose hop limit was not 255 (RFC 4861 §6.1.2, §7.1.1). */
  badHopLimit: number;
  /** RAs whose source was not a link-local address (RFC 4861 §6.1.2). */
  offLinkSource: number;
  /** Prefixes whose preferred lifetime exceeds the valid lifetime (RFC 4862 §5.5.3 c). */
  lifetimesOutOfOrder: number;
  /** Autonomous prefixes that are not /64, the identifier length on Ethernet (RFC 4862 §5.5.3 d). */
  badPrefixLength: number;
}

/**
 * What {@linkcode Slaac.dispatch} sends through.
 *
 * @example
 * ```ts
 * import type { SlaacEmitter } from "@smol/net/iface";
 * const sent: string[] = [];
 * const emitter: SlaacEmitter = {
 *   emitNdisc(_src, dst, repr) { sent.push(`${repr.kind} to ${dst}`); return true; },
 *   emitMld(_src, repr) { sent.push(repr.kind); return true; },
 * };
 * ```
 */
export interface SlaacEmitter {
  /** Sends an NDP message with hop limit 255. Returns `false` when the device is full. */
  emitNdisc(src: Ipv6Address, dst: Ipv6Address, repr: NdiscRepr): boolean;
  /** Sends an MLD message to ff02::16 with hop limit 1 and a router alert. `false` when full. */
  emitMld(src: Ipv6Address, repr: MldRepr): boolean;
}

/**
 * Options of {@linkcode Slaac}.
 *
 * @example
 * ```ts
 * import type { SlaacOptions } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * const options: SlaacOptions = {
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 * };
 * ```
 */
export interface SlaacOptions {
  /** The interface's hardware address (RFC 7217 Net_Iface). */
  readonly hardwareAddress: EthernetAddress;
  /** 16 secret bytes, kept across restarts for stable addresses (RFC 7217 secret_key). */
  readonly secretKey: Uint8Array;
  /** RFC 7217 Network_ID (for example an SSID); default empty. */
  readonly networkId?: Uint8Array;
  /** DAD probes per address (RFC 4862 DupAddrDetectTransmits, default 1; 0 skips DAD). */
  readonly dadTransmits?: number;
}

interface Entry {
  readonly prefix: Ipv6Address;
  /** 64 when the prefix is on-link (L flag), else 128: the address alone. */
  readonly prefixLen: number;
  address: Ipv6Address;
  state: SlaacAddressState;
  dadCounter: number;
  /** The MLD report for the solicited-node group is still to be sent. */
  joinPending: boolean;
  probesLeft: number;
  /** Next DAD probe, or the end of DAD after the last probe. */
  dadAt: Instant;
  preferredUntil: Instant;
  validUntil: Instant;
}

function lifetimeEnd(now: Instant, seconds: number): Instant {
  return seconds === INFINITE ? NEVER : now + seconds * 1000;
}

/** `addr` with the bits past `len` cleared. */
function prefixOf(addr: Ipv6Address, len: number): Ipv6Address {
  const w = [addr.w0, addr.w1, addr.w2, addr.w3];
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(32, len - 32 * i));
    w[i] = keep === 0 ? 0 : keep === 32 ? w[i]! : (w[i]! & (~0 << (32 - keep))) >>> 0;
  }
  return new Ipv6Address(w[0]!, w[1]!, w[2]!, w[3]!);
}

/**
 * The autoconfiguration state of one interface: a link-local address from the start, global
 * addresses from advertised prefixes, default routers and the link MTU.
 *
 * @example A link-local address is tentative until DAD has passed
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng, Slaac } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * const slaac = new Slaac({
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 * });
 * slaac.start({ now: 0, random: new Rng(1) });
 * const e = slaac.takeEvent();
 * assert.equal(e?.type === "address" && e.state, "tentative");
 * ```
 */
export class Slaac {
  readonly #hw: EthernetAddress;
  readonly #secret: Uint8Array;
  readonly #networkId: Uint8Array;
  readonly #dadTransmits: number;
  readonly #entries: Entry[] = [];
  readonly #routers = new Map<string, { router: Ipv6Address; expiresAt: Instant }>();
  readonly #onLink = new Map<
    string,
    { prefix: Ipv6Address; prefixLen: number; expiresAt: Instant }
  >();
  readonly #dns = new Map<string, { server: Ipv6Address; expiresAt: Instant }>();
  readonly #events: SlaacEvent[] = [];
  #rsLeft = 0;
  #rsAt: Instant = NEVER;
  #mtu: number | null = null;
  /** Ignored messages by reason. */
  readonly counters: SlaacCounters = {
    badHopLimit: 0,
    offLinkSource: 0,
    lifetimesOutOfOrder: 0,
    badPrefixLength: 0,
  };

  /**
   * Creates the state machine; nothing happens until {@linkcode Slaac.start}.
   *
   * @param options Hardware address, secret key, network id, DAD probes.
   */
  constructor(options: SlaacOptions) {
    if (options.secretKey.length !== 16) {
      throw new RangeError(
        `Invalid SLAAC secret key of ${options.secretKey.length} bytes: must be 16`,
      );
    }
    const dad = options.dadTransmits ?? 1;
    if (!Number.isInteger(dad) || dad < 0 || dad > 10) {
      throw new RangeError(`Invalid dadTransmits "${dad}": must be an integer from 0 to 10`);
    }
    this.#hw = options.hardwareAddress;
    this.#secret = options.secretKey;
    this.#networkId = options.networkId ?? new Uint8Array(0);
    this.#dadTransmits = dad;
  }

  /**
   * Starts: a tentative link-local address and up to three router solicitations, the first
   * after a random delay of up to 1 s (RFC 4861 §6.3.7).
   *
   * @param cx The context.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * s.start({ now: 0, random: new Rng(1) });
   * assert.equal(s.addresses.length, 1);
   * ```
   */
  start(cx: SlaacContext): void {
    if (this.#entries.some((e) => e.prefix.equals(LINK_LOCAL_PREFIX))) return;
    this.#addEntry(cx, LINK_LOCAL_PREFIX, 64, NEVER, NEVER);
    this.#rsLeft = MAX_RTR_SOLICITATIONS;
    this.#rsAt = cx.now + cx.random.below(MAX_RTR_SOLICITATION_DELAY_MS + 1);
  }

  /**
   * The addresses and their states.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.addresses.length, 0);
   * ```
   */
  get addresses(): readonly { address: Ipv6Address; state: SlaacAddressState }[] {
    return this.#entries.map((e) => ({ address: e.address, state: e.state }));
  }

  /**
   * The default routers with the instant their lifetime ends.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.routers.length, 0);
   * ```
   */
  get routers(): readonly { router: Ipv6Address; expiresAt: Instant }[] {
    return [...this.#routers.values()];
  }

  /**
   * The recursive DNS servers from router advertisements (RFC 8106), in the order learned.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.dnsServers.length, 0);
   * ```
   */
  get dnsServers(): readonly Ipv6Address[] {
    return [...this.#dns.values()].map((d) => d.server);
  }

  /**
   * Whether `group` is the solicited-node group of an address that is not a duplicate: the
   * groups this interface listens to (RFC 4861 §7.2.1) and reports (RFC 3810).
   *
   * @param group A multicast address.
   * @returns `true` when it is one of those groups.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * s.start({ now: 0, random: new Rng(1) });
   * const ll = s.addresses[0]!.address;
   * assert.equal(s.listensTo(Ipv6Address.solicitedNode(ll)), true);
   * ```
   */
  listensTo(group: Ipv6Address): boolean {
    for (const e of this.#entries) {
      if (e.state !== "duplicate" && Ipv6Address.solicitedNode(e.address).equals(group)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The solicited-node groups of {@linkcode Slaac.listensTo}, each once, in address order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.groups.length, 0);
   * ```
   */
  get groups(): readonly Ipv6Address[] {
    const out: Ipv6Address[] = [];
    for (const e of this.#entries) {
      if (e.state === "duplicate") continue;
      const g = Ipv6Address.solicitedNode(e.address);
      if (!out.some((x) => x.equals(g))) out.push(g);
    }
    return out;
  }

  /**
   * Takes the oldest event not yet taken.
   *
   * @returns The event, or `null`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.takeEvent(), null);
   * ```
   */
  takeEvent(): SlaacEvent | null {
    return this.#events.shift() ?? null;
  }

  /**
   * Ingress: a router advertisement (RFC 4861 §6.1.2 validation by the caller's parse; the hop
   * limit and source are checked here).
   *
   * @param cx The context.
   * @param src The IP source.
   * @param hopLimit The IP hop limit.
   * @param ra The advertisement.
   * @returns `true` when it was accepted.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * const ra = { kind: "routerAdvert" as const, hopLimit: 64, managed: false, other: false,
   *   routerLifetime: 1800, reachableTime: 0, retransTime: 0, sourceLinkAddr: null, mtu: null, prefixes: [] };
   * assert.equal(s.processRouterAdvert({ now: 0, random: new Rng(1) }, Ipv6Address.parse("fe80::1"), 255, ra), true);
   * ```
   */
  processRouterAdvert(
    cx: SlaacContext,
    src: Ipv6Address,
    hopLimit: number,
    ra: Extract<NdiscRepr, { kind: "routerAdvert" }>,
  ): boolean {
    if (hopLimit !== 255) {
      this.counters.badHopLimit++;
      return false;
    }
    if (!src.isLinkLocal) {
      this.counters.offLinkSource++;
      return false;
    }
    const now = cx.now;
    this.#rsLeft = 0;
    this.#rsAt = NEVER;
    const key = src.toString();
    if (ra.routerLifetime > 0) {
      const expiresAt = now + ra.routerLifetime * 1000;
      this.#routers.set(key, { router: src, expiresAt });
      this.#events.push({ type: "router", router: src, expiresAt });
    } else if (this.#routers.delete(key)) {
      this.#events.push({ type: "routerRemoved", router: src });
    }
    // RFC 4861 §6.3.4: an MTU below the IPv6 minimum is ignored.
    if (ra.mtu !== null && ra.mtu >= 1280 && ra.mtu !== this.#mtu) {
      this.#mtu = ra.mtu;
      this.#events.push({ type: "mtu", mtu: ra.mtu });
    }
    for (const p of ra.prefixes) {
      if (p.prefix.isLinkLocal) continue;
      // RFC 4861 §6.3.4: the L flag makes the prefix on-link for its valid lifetime. An
      // autoconfigured /64 with L is on-link through its address (prefix length 64).
      if (p.onLink && !(p.autonomous && p.prefixLen === 64)) {
        this.#onLinkPrefix(now, p.prefix, p.prefixLen, p.validLifetime);
      }
      // RFC 4862 §5.5.3 a)-d).
      if (!p.autonomous) continue;
      if (p.preferredLifetime > p.validLifetime) {
        this.counters.lifetimesOutOfOrder++;
        continue;
      }
      if (p.prefixLen !== 64) {
        this.counters.badPrefixLength++;
        continue;
      }
      const prefix = new Ipv6Address(p.prefix.w0, p.prefix.w1, 0, 0);
      const entry = this.#entries.find((e) => e.prefix.equals(prefix));
      if (entry === undefined) {
        if (p.validLifetime === 0) continue;
        this.#addEntry(
          cx,
          prefix,
          p.onLink ? 64 : 128,
          lifetimeEnd(now, p.preferredLifetime),
          lifetimeEnd(now, p.validLifetime),
        );
        continue;
      }
      this.#refresh(now, entry, p.preferredLifetime, p.validLifetime);
    }
    if (ra.rdnss !== undefined) this.#updateDns(now, ra.rdnss);
    return true;
  }

  /**
   * Ingress: a neighbor solicitation. One from `::` for a tentative address means another node
   * is performing DAD for it (RFC 4862 §5.4.3).
   *
   * @param cx The context.
   * @param src The IP source.
   * @param target The solicited address.
   * @returns `true` when it made an address a duplicate.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.processNeighborSolicit({ now: 0, random: new Rng(1) }, Ipv6Address.UNSPECIFIED, Ipv6Address.parse("fe80::1")), false);
   * ```
   */
  processNeighborSolicit(cx: SlaacContext, src: Ipv6Address, target: Ipv6Address): boolean {
    if (!src.isUnspecified) return false;
    return this.#collision(cx, target);
  }

  /**
   * Ingress: a neighbor advertisement. One for a tentative address means it is in use
   * (RFC 4862 §5.4.4).
   *
   * @param cx The context.
   * @param target The advertised address.
   * @returns `true` when it made an address a duplicate.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.processNeighborAdvert({ now: 0, random: new Rng(1) }, Ipv6Address.parse("fe80::1")), false);
   * ```
   */
  processNeighborAdvert(cx: SlaacContext, target: Ipv6Address): boolean {
    return this.#collision(cx, target);
  }

  /**
   * Egress: sends what is due (MLDv2 joins, DAD probes, router solicitations) and moves timers
   * (DAD completion, deprecation, expiry). Call until it returns `false`.
   *
   * @param cx The context.
   * @param emitter Where messages go.
   * @returns `true` when a message was sent.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * s.start({ now: 0, random: new Rng(1) });
   * const kinds: string[] = [];
   * s.dispatch({ now: 0, random: new Rng(1) }, {
   *   emitNdisc: (_s, _d, r) => (kinds.push(r.kind), true),
   *   emitMld: (_s, r) => (kinds.push(r.kind), true),
   * });
   * assert.deepEqual(kinds, ["reportV2"]);
   * ```
   */
  dispatch(cx: SlaacContext, emitter: SlaacEmitter): boolean {
    const now = cx.now;
    this.#expire(now);
    for (const e of this.#entries) {
      if (e.state !== "tentative") continue;
      if (e.joinPending) {
        // RFC 4862 §5.4.2: join the solicited-node group before probing.
        const repr: MldRepr = {
          kind: "reportV2",
          records: [{
            recordType: MldRecordType.ChangeToExclude,
            group: Ipv6Address.solicitedNode(e.address),
            sources: [],
          }],
        };
        if (!emitter.emitMld(Ipv6Address.UNSPECIFIED, repr)) return false;
        e.joinPending = false;
        return true;
      }
      if (now < e.dadAt) continue;
      if (e.probesLeft === 0) {
        // RetransTimer after the last probe without an answer: the address is ours.
        e.state = now < e.preferredUntil ? "preferred" : "deprecated";
        e.dadAt = NEVER;
        this.#events.push({
          type: "address",
          address: e.address,
          prefixLen: e.prefixLen,
          state: e.state,
        });
        continue;
      }
      const ns: NdiscRepr = { kind: "neighborSolicit", target: e.address, sourceLinkAddr: null };
      if (!emitter.emitNdisc(Ipv6Address.UNSPECIFIED, Ipv6Address.solicitedNode(e.address), ns)) {
        return false;
      }
      e.probesLeft--;
      e.dadAt = now + RETRANS_TIMER_MS;
      return true;
    }
    if (this.#rsLeft > 0 && now >= this.#rsAt) {
      // RFC 4861 §6.3.7: from the link-local address once it is usable, else from ::.
      const ll = this.#entries.find((e) => e.prefix.equals(LINK_LOCAL_PREFIX));
      const usable = ll !== undefined && ll.state === "preferred";
      const src = usable ? ll.address : Ipv6Address.UNSPECIFIED;
      const rs: NdiscRepr = { kind: "routerSolicit", sourceLinkAddr: usable ? this.#hw : null };
      if (!emitter.emitNdisc(src, Ipv6Address.LINK_LOCAL_ALL_ROUTERS, rs)) return false;
      this.#rsLeft--;
      this.#rsAt = this.#rsLeft > 0 ? now + RTR_SOLICITATION_INTERVAL_MS : NEVER;
      return true;
    }
    return false;
  }

  /**
   * When {@linkcode Slaac.dispatch} is next needed.
   *
   * @param cx The context.
   * @returns The instant, or `NEVER`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng, Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.pollAt({ now: 0, random: new Rng(1) }), Infinity);
   * ```
   */
  pollAt(cx: SlaacContext): Instant {
    let at = this.#rsLeft > 0 ? this.#rsAt : NEVER;
    for (const e of this.#entries) {
      if (e.state === "tentative") at = Math.min(at, e.joinPending ? cx.now : e.dadAt);
      if (e.state === "preferred") at = Math.min(at, e.preferredUntil);
      if (e.state !== "duplicate") at = Math.min(at, e.validUntil);
    }
    for (const r of this.#routers.values()) at = Math.min(at, r.expiresAt);
    for (const p of this.#onLink.values()) at = Math.min(at, p.expiresAt);
    for (const d of this.#dns.values()) at = Math.min(at, d.expiresAt);
    return at;
  }

  /** RFC 7217 §5: the identifier for `prefix` and the entry's DAD counter. */
  #identifier(prefix: Ipv6Address, dadCounter: number): [number, number] {
    for (let extra = 0;; extra++) {
      const id = this.#networkId;
      const data = new Uint8Array(8 + 6 + id.length + 1);
      const p = prefix.octets();
      data.set(p.subarray(0, 8), 0);
      this.#hw.writeTo(data, 8);
      data.set(id, 14);
      data[14 + id.length] = (dadCounter + extra) & 0xff;
      const h = sipHash24(this.#secret, data);
      const hi = Number(h >> 32n) >>> 0;
      const lo = Number(h & 0xffffffffn) >>> 0;
      // RFC 5453: the subnet-router anycast (0) and the reserved anycast range are skipped.
      if ((hi === 0 && lo === 0) || (hi === 0xfdffffff && lo >= 0xffffff80)) continue;
      return [hi, lo];
    }
  }

  #addEntry(
    cx: SlaacContext,
    prefix: Ipv6Address,
    prefixLen: number,
    preferredUntil: Instant,
    validUntil: Instant,
  ): void {
    const [hi, lo] = this.#identifier(prefix, 0);
    const entry: Entry = {
      prefix,
      prefixLen,
      address: new Ipv6Address(prefix.w0, prefix.w1, hi, lo),
      state: "tentative",
      dadCounter: 0,
      joinPending: true,
      probesLeft: this.#dadTransmits,
      dadAt: 0,
      preferredUntil,
      validUntil,
    };
    this.#beginDad(cx, entry);
    this.#entries.push(entry);
    this.#events.push({
      type: "address",
      address: entry.address,
      prefixLen,
      state: "tentative",
    });
  }

  #beginDad(cx: SlaacContext, e: Entry): void {
    e.state = "tentative";
    e.joinPending = this.#dadTransmits > 0;
    e.probesLeft = this.#dadTransmits;
    // RFC 4862 §5.4.2: a random delay before the first probe.
    e.dadAt = this.#dadTransmits > 0
      ? cx.now + cx.random.below(MAX_RTR_SOLICITATION_DELAY_MS + 1)
      : cx.now;
  }

  /** RFC 4862 §5.5.3 e): lifetimes of a known prefix, with the two-hour rule. */
  #refresh(now: Instant, e: Entry, preferred: number, valid: number): void {
    e.preferredUntil = lifetimeEnd(now, preferred);
    const remaining = e.validUntil === NEVER ? Infinity : (e.validUntil - now) / 1000;
    if (valid === INFINITE || valid > TWO_HOURS_S || valid > remaining) {
      e.validUntil = lifetimeEnd(now, valid);
    } else if (remaining > TWO_HOURS_S) {
      e.validUntil = now + TWO_HOURS_S * 1000;
    }
    if (e.state === "deprecated" && now < e.preferredUntil) {
      e.state = "preferred";
      this.#events.push({
        type: "address",
        address: e.address,
        prefixLen: e.prefixLen,
        state: "preferred",
      });
    }
  }

  #collision(cx: SlaacContext, target: Ipv6Address): boolean {
    const e = this.#entries.find((x) => x.state === "tentative" && x.address.equals(target));
    if (e === undefined) return false;
    const prefixLen = e.prefixLen;
    this.#events.push({ type: "address", address: e.address, prefixLen, state: "duplicate" });
    if (e.dadCounter >= IDGEN_RETRIES) {
      e.state = "duplicate";
      e.dadAt = NEVER;
      return true;
    }
    // RFC 7217 §6: a new identifier with the next DAD counter.
    e.dadCounter++;
    const [hi, lo] = this.#identifier(e.prefix, e.dadCounter);
    e.address = new Ipv6Address(e.prefix.w0, e.prefix.w1, hi, lo);
    this.#beginDad(cx, e);
    this.#events.push({ type: "address", address: e.address, prefixLen, state: "tentative" });
    return true;
  }

  #expire(now: Instant): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (e.state !== "duplicate" && now >= e.validUntil) {
        this.#entries.splice(i, 1);
        this.#events.push({ type: "addressRemoved", address: e.address });
        continue;
      }
      if (e.state === "preferred" && now >= e.preferredUntil) {
        e.state = "deprecated";
        this.#events.push({
          type: "address",
          address: e.address,
          prefixLen: e.prefixLen,
          state: e.state,
        });
      }
    }
    for (const [key, r] of this.#routers) {
      if (now >= r.expiresAt) {
        this.#routers.delete(key);
        this.#events.push({ type: "routerRemoved", router: r.router });
      }
    }
    for (const [key, p] of this.#onLink) {
      if (now >= p.expiresAt) {
        this.#onLink.delete(key);
        this.#events.push({ type: "onLinkRemoved", prefix: p.prefix, prefixLen: p.prefixLen });
      }
    }
    let dnsChanged = false;
    for (const [key, d] of this.#dns) {
      if (now >= d.expiresAt) dnsChanged = this.#dns.delete(key);
    }
    if (dnsChanged) this.#events.push({ type: "dns", servers: this.dnsServers });
  }

  /** RFC 4861 §6.3.4: an on-link prefix with its valid lifetime; 0 takes it off-link. */
  #onLinkPrefix(now: Instant, prefix: Ipv6Address, prefixLen: number, valid: number): void {
    const net = prefixOf(prefix, prefixLen);
    const key = `${net}/${prefixLen}`;
    const known = this.#onLink.get(key);
    if (valid === 0) {
      if (known === undefined) return;
      this.#onLink.delete(key);
      this.#events.push({ type: "onLinkRemoved", prefix: net, prefixLen });
      return;
    }
    const expiresAt = lifetimeEnd(now, valid);
    this.#onLink.set(key, { prefix: net, prefixLen, expiresAt });
    if (known === undefined) {
      this.#events.push({ type: "onLink", prefix: net, prefixLen, expiresAt });
    }
  }

  /** RFC 8106 §5.1/§6: servers with their lifetimes; a lifetime of 0 withdraws a server. */
  #updateDns(now: Instant, options: readonly RdnssInfo[]): void {
    const before = [...this.#dns.keys()].join(",");
    for (const r of options) {
      for (const server of r.servers) {
        const key = server.toString();
        if (r.lifetime === 0) this.#dns.delete(key);
        else this.#dns.set(key, { server, expiresAt: lifetimeEnd(now, r.lifetime) });
      }
    }
    if ([...this.#dns.keys()].join(",") !== before) {
      this.#events.push({ type: "dns", servers: this.dnsServers });
    }
  }
}
