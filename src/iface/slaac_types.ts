/**
 * The types of IPv6 stateless autoconfiguration ({@linkcode Slaac}): its context, options,
 * events, address states, counters and emitter.
 *
 * @module
 */

import type { Rng } from "../rand.ts";
import type { Instant } from "../time.ts";
import type { Ipv6Address } from "../wire/address.ts";
import type { EthernetAddress } from "../wire/mac.ts";
import type { MldRepr } from "../wire/mld.ts";
import type { NdiscRepr } from "../wire/ndisc.ts";

/**
 * The per-call context (a `SocketContext` fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng, Slaac, type SlaacContext } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * const cx: SlaacContext = { now: 5000, random: new Rng(1) };
 * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
 * s.start(cx);
 * assert.equal(s.pollAt(cx), 5000); // the solicited-node join is due at cx.now
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
 * import { Rng, Slaac, type SlaacAddressState } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const slaac = new Slaac({
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 * });
 * slaac.start({ now: 0, random: new Rng(1) });
 * const s: SlaacAddressState | undefined = slaac.addresses[0]?.state;
 * assert.equal(s, "tentative"); // until duplicate address detection passes
 * ```
 */
export type SlaacAddressState = "tentative" | "preferred" | "deprecated" | "duplicate";

/**
 * What the interface applies: an address changed state (add it to the interface when
 * `preferred`, keep it for existing use when `deprecated`), an address is gone, a default
 * router came or went, the link MTU changed, a prefix is on-link (RFC 4861 §6.3.4, L flag) or no
 * longer, the recursive DNS servers or the search domains changed (RFC 8106 §5.1, §5.2, the
 * whole current list).
 *
 * @example
 * ```ts
 * import { Rng, Slaac, type SlaacEvent } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function describe(e: SlaacEvent): string {
 *   return e.type === "address" ? `${e.address} ${e.state}` : e.type;
 * }
 * const slaac = new Slaac({
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 * });
 * slaac.start({ now: 0, random: new Rng(1) });
 * const e = slaac.takeEvent();
 * assert.ok(e !== null);
 * assert.equal(describe(e), `${slaac.addresses[0]?.address} tentative`);
 * ```
 */
export type SlaacEvent =
  | {
    readonly type: "address";
    readonly address: Ipv6Address;
    readonly prefixLen: number;
    readonly state: SlaacAddressState;
    /** A temporary address (RFC 8981). */
    readonly temporary: boolean;
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
  | { readonly type: "dns"; readonly servers: readonly Ipv6Address[] }
  | { readonly type: "searchDomains"; readonly domains: readonly string[] };

/**
 * Messages that were ignored, by reason.
 *
 * @example
 * ```ts
 * import { Rng, Slaac, type SlaacCounters } from "@smol/net/iface";
 * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
 * const ra = { kind: "routerAdvert" as const, hopLimit: 64, managed: false, other: false,
 *   routerLifetime: 1800, reachableTime: 0, retransTime: 0, sourceLinkAddr: null, mtu: null, prefixes: [] };
 * const cx = { now: 0, random: new Rng(1) };
 * assert.equal(s.processRouterAdvert(cx, Ipv6Address.parse("2001:db8::1"), 255, ra), false);
 * const c: SlaacCounters = s.counters;
 * assert.deepEqual(c, { badHopLimit: 0, offLinkSource: 1, lifetimesOutOfOrder: 0, badPrefixLength: 0 });
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
 * import { Rng, Slaac, type SlaacEmitter } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const sent: string[] = [];
 * const emitter: SlaacEmitter = {
 *   emitNdisc(_src, dst, repr) { sent.push(`${repr.kind} to ${dst}`); return true; },
 *   emitMld(_src, repr) { sent.push(repr.kind); return true; },
 * };
 * const s = new Slaac({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"), secretKey: new Uint8Array(16) });
 * const cx = { now: 0, random: new Rng(1) };
 * s.start(cx);
 * const later = { now: 1000, random: cx.random }; // after the random DAD delay
 * while (s.dispatch(later, emitter));
 * // RFC 4862 §5.4.2: join the solicited-node group, then probe the tentative address
 * assert.equal(sent[0], "reportV2");
 * assert.match(sent[1] ?? "", /^neighborSolicit to ff02::1:ff/);
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
 * import { Rng, Slaac, type SlaacOptions } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const options: SlaacOptions = {
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   secretKey: new Uint8Array(16),
 *   dadTransmits: 0, // skip DAD: preferred once the group join is sent
 * };
 * const s = new Slaac(options);
 * const cx = { now: 0, random: new Rng(1) };
 * s.start(cx);
 * while (s.dispatch(cx, { emitNdisc: () => true, emitMld: () => true }));
 * assert.equal(s.addresses[0]?.address.isLinkLocal, true);
 * assert.equal(s.addresses[0]?.state, "preferred");
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
  /**
   * Also form a temporary address (RFC 8981: random identifier, at most one day preferred and
   * two days valid, renewed before it deprecates) beside each stable global address; default
   * `false`.
   */
  readonly temporaryAddresses?: boolean;
}
