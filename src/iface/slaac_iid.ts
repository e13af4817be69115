/**
 * The address side of `Slaac` (slaac.ts): its per-address entry, stable semantically opaque
 * interface identifiers (RFC 7217), random temporary identifiers and their lifetime caps
 * (RFC 8981), the start of DAD (RFC 4862 §5.4) and the two-hour rule for a refreshed prefix
 * (RFC 4862 §5.5.3 e)). Functions of their arguments (some update the entry passed); the
 * state machine keeps the entries and reports the events. Internal to the iface folder.
 *
 * @module
 */

import { sipHash24 } from "../socket/tcp/isn.ts";
import { type Instant, NEVER } from "../time.ts";
import type { Ipv6Address } from "../wire/address.ts";
import type { EthernetAddress } from "../wire/mac.ts";
import type { Rng } from "../rand.ts";
import { lifetimeEnd } from "./slaac_lists.ts";
import type { SlaacAddressState } from "./slaac_types.ts";

/** RFC 4861 §10: MAX_RTR_SOLICITATION_DELAY (also the DAD delay bound, RFC 4862 §5.4.2). */
export const MAX_RTR_SOLICITATION_DELAY_MS = 1_000;
/** RFC 4861 §10: RetransTimer, the interval between DAD probes. */
export const RETRANS_TIMER_MS = 1_000;
/** RFC 7217 §6: new identifiers tried after a collision. */
export const IDGEN_RETRIES = 3;
/** RFC 4862 §5.5.3 e): the two-hour rule. */
const TWO_HOURS_S = 7_200;
const INFINITE = 0xffffffff;
/** RFC 8981 §3.8: temporary address lifetimes (seconds) and identifier retries. */
const TEMP_VALID_LIFETIME_S = 172_800;
const TEMP_PREFERRED_LIFETIME_S = 86_400;
/** RFC 8981 §3.8: the largest DESYNC_FACTOR, in milliseconds. */
export const MAX_DESYNC_FACTOR_MS = 0.4 * TEMP_PREFERRED_LIFETIME_S * 1000;
/** RFC 8981 §3.8: TEMP_IDGEN_RETRIES. */
export const TEMP_IDGEN_RETRIES = 3;

/** One autoconfigured address and its DAD and lifetime state. */
export interface Entry {
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
  /** RFC 8981: a temporary address (random identifier, shorter lifetimes). */
  readonly temporary: boolean;
  /** Temporary: when it was created, its DESYNC_FACTOR, whether its successor exists. */
  readonly createdAt: Instant;
  readonly desync: number;
  regenerated: boolean;
}

/**
 * RFC 7217 §5: the stable identifier for `prefix` and the entry's DAD counter.
 *
 * @param secret The 16-byte secret key.
 * @param hw The interface's hardware address.
 * @param networkId The network id (may be empty).
 * @param prefix The /64 prefix.
 * @param dadCounter The DAD counter.
 * @returns The identifier's high and low 32 bits.
 */
export function stableIdentifier(
  secret: Uint8Array,
  hw: EthernetAddress,
  networkId: Uint8Array,
  prefix: Ipv6Address,
  dadCounter: number,
): [number, number] {
  for (let extra = 0;; extra++) {
    const id = networkId;
    const data = new Uint8Array(8 + 6 + id.length + 1);
    const p = prefix.octets();
    data.set(p.subarray(0, 8), 0);
    hw.writeTo(data, 8);
    data.set(id, 14);
    data[14 + id.length] = (dadCounter + extra) & 0xff;
    const h = sipHash24(secret, data);
    const hi = Number(h >> 32n) >>> 0;
    const lo = Number(h & 0xffffffffn) >>> 0;
    // RFC 5453: the subnet-router anycast (0) and the reserved anycast range are skipped.
    if ((hi === 0 && lo === 0) || (hi === 0xfdffffff && lo >= 0xffffff80)) continue;
    return [hi, lo];
  }
}

/**
 * RFC 8981 §3.3.1: 64 random bits, not a reserved identifier (RFC 5453) nor one in use.
 *
 * @param random The randomness source.
 * @param entries The addresses in use.
 * @returns The identifier's high and low 32 bits.
 */
export function randomIdentifier(random: Rng, entries: readonly Entry[]): [number, number] {
  for (;;) {
    const hi = random.nextU32(), lo = random.nextU32();
    if ((hi === 0 && lo === 0) || (hi === 0xfdffffff && lo >= 0xffffff80)) continue;
    if (entries.some((e) => e.address.w2 === hi && e.address.w3 === lo)) continue;
    return [hi, lo];
  }
}

/**
 * RFC 8981 §3.8: REGEN_ADVANCE, in milliseconds.
 *
 * @param dadTransmits DupAddrDetectTransmits.
 * @returns REGEN_ADVANCE.
 */
export function regenAdvance(dadTransmits: number): number {
  return (2 + TEMP_IDGEN_RETRIES * dadTransmits * RETRANS_TIMER_MS / 1000) * 1000;
}

/**
 * RFC 8981 §3.4: the preferred-until of a new temporary address for `pub`'s prefix, capped by
 * TEMP_PREFERRED_LIFETIME - DESYNC_FACTOR.
 *
 * @param now The current time.
 * @param pub The public address.
 * @param desync This address's DESYNC_FACTOR (ms).
 * @returns The instant.
 */
export function temporaryPreferredUntil(now: Instant, pub: Entry, desync: number): Instant {
  return Math.min(pub.preferredUntil, now + TEMP_PREFERRED_LIFETIME_S * 1000 - desync);
}

/**
 * RFC 8981 §3.4: the valid-until of a temporary address created at `createdAt`, capped by
 * TEMP_VALID_LIFETIME.
 *
 * @param createdAt When it was (or is) created.
 * @param pub The public address.
 * @returns The instant.
 */
export function temporaryValidUntil(createdAt: Instant, pub: Entry): Instant {
  return Math.min(pub.validUntil, createdAt + TEMP_VALID_LIFETIME_S * 1000);
}

/**
 * RFC 4862 §5.5.3 e): new lifetimes of a known prefix, with the two-hour rule.
 *
 * @param now The current time.
 * @param e The entry.
 * @param preferred The advertised preferred lifetime (s).
 * @param valid The advertised valid lifetime (s).
 */
export function refreshLifetimes(now: Instant, e: Entry, preferred: number, valid: number): void {
  e.preferredUntil = lifetimeEnd(now, preferred);
  const remaining = e.validUntil === NEVER ? Infinity : (e.validUntil - now) / 1000;
  if (valid === INFINITE || valid > TWO_HOURS_S || valid > remaining) {
    e.validUntil = lifetimeEnd(now, valid);
  } else if (remaining > TWO_HOURS_S) {
    e.validUntil = now + TWO_HOURS_S * 1000;
  }
}

/**
 * RFC 4862 §5.4: (re)starts duplicate address detection on `e`, the first probe after a
 * random delay (§5.4.2); with no probes configured the address is usable at once.
 *
 * @param e The entry.
 * @param cx The time and randomness.
 * @param dadTransmits DupAddrDetectTransmits.
 */
export function beginDad(
  e: Entry,
  cx: { readonly now: Instant; readonly random: Rng },
  dadTransmits: number,
): void {
  e.state = "tentative";
  e.joinPending = dadTransmits > 0;
  e.probesLeft = dadTransmits;
  // RFC 4862 §5.4.2: a random delay before the first probe.
  e.dadAt = dadTransmits > 0 ? cx.now + cx.random.below(MAX_RTR_SOLICITATION_DELAY_MS + 1) : cx.now;
}

/**
 * RFC 8981 §3.6: whether temporary address `t` already has a live successor (a later
 * temporary address for the same prefix that is not a duplicate).
 *
 * @param entries All entries.
 * @param t The temporary address.
 * @returns Whether one exists.
 */
function hasSuccessor(entries: readonly Entry[], t: Entry): boolean {
  return entries.some((x) =>
    x.temporary && x.state !== "duplicate" && x.createdAt > t.createdAt &&
    x.prefix.equals(t.prefix)
  );
}

/**
 * RFC 8981 §3.4: a refreshed prefix extends temporary address `t` up to its caps; a successor
 * that could not be formed (the prefix was ending) is due again.
 *
 * @param now The current time.
 * @param t The temporary address.
 * @param pub The public address of its prefix.
 * @param entries All entries.
 * @returns `true` when `t` became preferred again (the caller reports it).
 */
export function refreshTemporary(
  now: Instant,
  t: Entry,
  pub: Entry,
  entries: readonly Entry[],
): boolean {
  t.validUntil = temporaryValidUntil(t.createdAt, pub);
  t.preferredUntil = temporaryPreferredUntil(t.createdAt, pub, t.desync);
  const revived = t.state === "deprecated" && now < t.preferredUntil;
  if (revived) t.state = "preferred";
  if (t.regenerated && !hasSuccessor(entries, t)) t.regenerated = false;
  return revived;
}
