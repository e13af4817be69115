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
 * It also keeps on-link prefixes (RFC 4861 §6.3.4), recursive DNS servers and search domains
 * (RFC 8106 §5.1, §5.2).
 * `NdpHost` (ndp_host.ts) connects it to an interface: ingress, egress and MLD query answers.
 *
 * With `temporaryAddresses`, each stable global address gets a temporary companion (RFC 8981
 * §3): a random identifier, lifetimes capped at one day preferred (less a random DESYNC_FACTOR)
 * and two days valid, and a successor REGEN_ADVANCE before it deprecates.
 *
 * @module
 */

import { type Instant, NEVER } from "../time.ts";
import { Ipv6Address } from "../wire/address.ts";
import type { EthernetAddress } from "../wire/mac.ts";
import { MldRecordType, type MldRepr } from "../wire/mld.ts";
import type { NdiscRepr } from "../wire/ndisc.ts";
import {
  beginDad,
  type Entry,
  IDGEN_RETRIES,
  MAX_DESYNC_FACTOR_MS,
  MAX_RTR_SOLICITATION_DELAY_MS,
  randomIdentifier,
  refreshLifetimes,
  refreshTemporary,
  regenAdvance,
  RETRANS_TIMER_MS,
  stableIdentifier,
  TEMP_IDGEN_RETRIES,
  temporaryPreferredUntil,
  temporaryValidUntil,
} from "./slaac_iid.ts";
import {
  expireRoutes,
  lifetimeEnd,
  LifetimeList,
  type OnLinkMap,
  type RouterMap,
  updateOnLink,
} from "./slaac_lists.ts";
import type {
  SlaacAddressState,
  SlaacContext,
  SlaacCounters,
  SlaacEmitter,
  SlaacEvent,
  SlaacOptions,
} from "./slaac_types.ts";

export type {
  SlaacAddressState,
  SlaacContext,
  SlaacCounters,
  SlaacEmitter,
  SlaacEvent,
  SlaacOptions,
} from "./slaac_types.ts";

/** RFC 4861 §10. */
const RTR_SOLICITATION_INTERVAL_MS = 4_000;
const MAX_RTR_SOLICITATIONS = 3;
const LINK_LOCAL_PREFIX = new Ipv6Address(0xfe800000, 0, 0, 0);

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
  readonly #temporary: boolean;
  readonly #entries: Entry[] = [];
  readonly #routers: RouterMap = new Map();
  readonly #onLink: OnLinkMap = new Map();
  readonly #dns = new LifetimeList<Ipv6Address>();
  readonly #search = new LifetimeList<string>();
  readonly #events: SlaacEvent[] = [];
  #rsLeft = 0;
  #rsAt: Instant = NEVER;
  #mtu: number | null = null;
  #hopLimit = 0;
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
    const temporary = options.temporaryAddresses ?? false;
    if (typeof temporary !== "boolean") {
      throw new TypeError(`Invalid temporaryAddresses "${temporary}": must be a boolean`);
    }
    this.#temporary = temporary;
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
    this.#addEntry(cx, LINK_LOCAL_PREFIX, 64, NEVER, NEVER, false);
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
  get addresses(): readonly {
    address: Ipv6Address;
    state: SlaacAddressState;
    temporary: boolean;
  }[] {
    return this.#entries.map((e) => ({
      address: e.address,
      state: e.state,
      temporary: e.temporary,
    }));
  }

  /**
   * The Cur Hop Limit of the latest router advertisement that set one (RFC 4861 §6.3.4), or 0.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.equal(s.advertisedHopLimit, 0);
   * ```
   */
  get advertisedHopLimit(): number {
    return this.#hopLimit;
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
    return this.#dns.values;
  }

  /**
   * The DNS search domains from router advertisements (RFC 8106 DNSSL), in the order learned.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Slaac } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
   * assert.deepEqual(s.searchDomains, []);
   * ```
   */
  get searchDomains(): readonly string[] {
    return this.#search.values;
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
    // RFC 4861 §6.3.4: a Cur Hop Limit of 0 leaves the host's value.
    if (ra.hopLimit !== 0) this.#hopLimit = ra.hopLimit;
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
        updateOnLink(this.#onLink, this.#events, now, p.prefix, p.prefixLen, p.validLifetime);
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
      const entry = this.#entries.find((e) => !e.temporary && e.prefix.equals(prefix));
      if (entry === undefined) {
        if (p.validLifetime === 0) continue;
        const pub = this.#addEntry(
          cx,
          prefix,
          p.onLink ? 64 : 128,
          lifetimeEnd(now, p.preferredLifetime),
          lifetimeEnd(now, p.validLifetime),
          false,
        );
        if (this.#temporary) this.#addTemporary(cx, pub);
        continue;
      }
      this.#refresh(now, entry, p.preferredLifetime, p.validLifetime);
      for (const t of this.#entries) {
        if (!t.temporary || !t.prefix.equals(prefix)) continue;
        if (refreshTemporary(now, t, entry, this.#entries)) this.#report(t);
      }
    }
    // RFC 8106 §5.1, §5.2: a lifetime of 0 withdraws.
    let dns = false, search = false;
    for (const r of ra.rdnss ?? []) dns = this.#dns.update(now, r.lifetime, r.servers) || dns;
    for (const d of ra.dnssl ?? []) {
      search = this.#search.update(now, d.lifetime, d.domains) || search;
    }
    if (dns) this.#events.push({ type: "dns", servers: this.dnsServers });
    if (search) this.#events.push({ type: "searchDomains", domains: this.searchDomains });
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
    if (this.#temporary) this.#regenerate(cx);
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
        this.#report(e);
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
      if (e.state === "preferred" && e.temporary && !e.regenerated) {
        at = Math.min(at, e.preferredUntil - regenAdvance(this.#dadTransmits));
      }
      if (e.state !== "duplicate") at = Math.min(at, e.validUntil);
    }
    for (const r of this.#routers.values()) at = Math.min(at, r.expiresAt);
    for (const p of this.#onLink.values()) at = Math.min(at, p.expiresAt);
    at = Math.min(at, this.#dns.nextExpiry(), this.#search.nextExpiry());
    return at;
  }

  /** RFC 7217 §5 (stable, with the DAD counter) or RFC 8981 §3.3.1 (random) identifier. */
  #iid(cx: SlaacContext, prefix: Ipv6Address, temporary: boolean, n: number): [number, number] {
    return temporary
      ? randomIdentifier(cx.random, this.#entries)
      : stableIdentifier(this.#secret, this.#hw, this.#networkId, prefix, n);
  }

  #addEntry(
    cx: SlaacContext,
    prefix: Ipv6Address,
    prefixLen: number,
    preferredUntil: Instant,
    validUntil: Instant,
    temporary: boolean,
    desync = 0,
  ): Entry {
    const [hi, lo] = this.#iid(cx, prefix, temporary, 0);
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
      temporary,
      createdAt: cx.now,
      desync,
      regenerated: false,
    };
    beginDad(entry, cx, this.#dadTransmits);
    this.#entries.push(entry);
    this.#report(entry);
    return entry;
  }

  #report(e: Entry, state: SlaacAddressState = e.state): void {
    this.#events.push({
      type: "address",
      address: e.address,
      prefixLen: e.prefixLen,
      state,
      temporary: e.temporary,
    });
  }

  /**
   * RFC 8981 §3.4: a temporary address for the public address `pub`'s prefix, with lifetimes
   * capped by TEMP_VALID_LIFETIME and TEMP_PREFERRED_LIFETIME - DESYNC_FACTOR, and only when
   * its preferred lifetime exceeds REGEN_ADVANCE.
   */
  #addTemporary(cx: SlaacContext, pub: Entry): void {
    const desync = cx.random.below(MAX_DESYNC_FACTOR_MS + 1);
    const now = cx.now;
    const preferredUntil = temporaryPreferredUntil(now, pub, desync);
    const validUntil = temporaryValidUntil(now, pub);
    if (preferredUntil - now <= regenAdvance(this.#dadTransmits)) return;
    this.#addEntry(cx, pub.prefix, pub.prefixLen, preferredUntil, validUntil, true, desync);
  }

  /** RFC 8981 §3.6: REGEN_ADVANCE before a temporary address deprecates, its successor. */
  #regenerate(cx: SlaacContext): void {
    const advance = regenAdvance(this.#dadTransmits);
    const due: Entry[] = [];
    for (const t of this.#entries) {
      if (!t.temporary || t.regenerated || t.state !== "preferred") continue;
      if (cx.now < t.preferredUntil - advance) continue;
      t.regenerated = true;
      due.push(t);
    }
    for (const t of due) {
      const pub = this.#entries.find((e) => !e.temporary && e.prefix.equals(t.prefix));
      if (pub !== undefined && pub.state === "preferred") this.#addTemporary(cx, pub);
    }
  }

  /** RFC 4862 §5.5.3 e): lifetimes of a known prefix, with the two-hour rule. */
  #refresh(now: Instant, e: Entry, preferred: number, valid: number): void {
    refreshLifetimes(now, e, preferred, valid);
    if (e.state === "deprecated" && now < e.preferredUntil) {
      e.state = "preferred";
      this.#report(e);
    }
  }

  #collision(cx: SlaacContext, target: Ipv6Address): boolean {
    const e = this.#entries.find((x) => x.state === "tentative" && x.address.equals(target));
    if (e === undefined) return false;
    this.#report(e, "duplicate");
    if (e.dadCounter >= (e.temporary ? TEMP_IDGEN_RETRIES : IDGEN_RETRIES)) {
      e.state = "duplicate";
      e.dadAt = NEVER;
      return true;
    }
    // RFC 7217 §6: a new identifier with the next DAD counter (RFC 8981 §3.4: a new random one).
    e.dadCounter++;
    const [hi, lo] = this.#iid(cx, e.prefix, e.temporary, e.dadCounter);
    e.address = new Ipv6Address(e.prefix.w0, e.prefix.w1, hi, lo);
    beginDad(e, cx, this.#dadTransmits);
    this.#report(e);
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
        this.#report(e);
      }
    }
    expireRoutes(this.#routers, this.#onLink, this.#events, now);
    if (this.#dns.expire(now)) this.#events.push({ type: "dns", servers: this.dnsServers });
    if (this.#search.expire(now)) {
      this.#events.push({ type: "searchDomains", domains: this.searchDomains });
    }
  }
}
