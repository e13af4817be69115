/**
 * Values learned from router advertisements with a lifetime each (RFC 8106: recursive DNS
 * servers, search domains; RFC 4861 §6.3.4: default routers, on-link prefixes): refreshed,
 * withdrawn by a lifetime of 0, expired on explicit time. Internal to the iface folder.
 *
 * @module
 */

import { type Instant, NEVER } from "../time.ts";
import { Ipv6Address } from "../wire/address.ts";
import type { SlaacEvent } from "./slaac_types.ts";

const INFINITE = 0xffffffff;

/** An ordered set of values, each until its lifetime ends. */
export class LifetimeList<T extends { toString(): string }> {
  readonly #items = new Map<string, { value: T; expiresAt: Instant }>();

  /** The values in the order first learned. */
  get values(): T[] {
    return [...this.#items.values()].map((i) => i.value);
  }

  /** Sets `values` to end `lifetime` seconds after `now` (0: removes them); `true` on a change. */
  update(now: Instant, lifetime: number, values: readonly T[]): boolean {
    let changed = false;
    for (const value of values) {
      const key = value.toString();
      if (lifetime === 0) {
        changed = this.#items.delete(key) || changed;
        continue;
      }
      if (!this.#items.has(key)) changed = true;
      const expiresAt = lifetime === INFINITE ? NEVER : now + lifetime * 1000;
      this.#items.set(key, { value, expiresAt });
    }
    return changed;
  }

  /** Removes the values whose lifetime has ended; `true` when any was removed. */
  expire(now: Instant): boolean {
    let changed = false;
    for (const [key, i] of this.#items) {
      if (now >= i.expiresAt) changed = this.#items.delete(key) || changed;
    }
    return changed;
  }

  /** The earliest end of a lifetime, or `NEVER`. */
  nextExpiry(): Instant {
    let at = NEVER;
    for (const i of this.#items.values()) at = Math.min(at, i.expiresAt);
    return at;
  }
}

/** The end of a lifetime of `seconds` from `now` (0xffffffff: never). */
export function lifetimeEnd(now: Instant, seconds: number): Instant {
  return seconds === INFINITE ? NEVER : now + seconds * 1000;
}

/** `addr` with the bits past `len` cleared. */
export function prefixOf(addr: Ipv6Address, len: number): Ipv6Address {
  const w = [addr.w0, addr.w1, addr.w2, addr.w3];
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(32, len - 32 * i));
    w[i] = keep === 0 ? 0 : keep === 32 ? w[i]! : (w[i]! & (~0 << (32 - keep))) >>> 0;
  }
  return new Ipv6Address(w[0]!, w[1]!, w[2]!, w[3]!);
}

/** Default routers by address, each until its router lifetime ends. */
export type RouterMap = Map<string, { router: Ipv6Address; expiresAt: Instant }>;
/** On-link prefixes by `prefix/len`, each until its valid lifetime ends. */
export type OnLinkMap = Map<
  string,
  { prefix: Ipv6Address; prefixLen: number; expiresAt: Instant }
>;

/**
 * RFC 4861 §6.3.4: an on-link prefix with its valid lifetime; 0 takes it off-link. Pushes
 * `onLink` for a new prefix and `onLinkRemoved` for a withdrawn one.
 */
export function updateOnLink(
  onLink: OnLinkMap,
  events: SlaacEvent[],
  now: Instant,
  prefix: Ipv6Address,
  prefixLen: number,
  valid: number,
): void {
  const net = prefixOf(prefix, prefixLen);
  const key = `${net}/${prefixLen}`;
  const known = onLink.get(key);
  if (valid === 0) {
    if (known === undefined) return;
    onLink.delete(key);
    events.push({ type: "onLinkRemoved", prefix: net, prefixLen });
    return;
  }
  const expiresAt = lifetimeEnd(now, valid);
  onLink.set(key, { prefix: net, prefixLen, expiresAt });
  if (known === undefined) {
    events.push({ type: "onLink", prefix: net, prefixLen, expiresAt });
  }
}

/** Removes the routers, then the on-link prefixes, whose lifetime has ended, with events. */
export function expireRoutes(
  routers: RouterMap,
  onLink: OnLinkMap,
  events: SlaacEvent[],
  now: Instant,
): void {
  for (const [key, r] of routers) {
    if (now >= r.expiresAt) {
      routers.delete(key);
      events.push({ type: "routerRemoved", router: r.router });
    }
  }
  for (const [key, p] of onLink) {
    if (now >= p.expiresAt) {
      onLink.delete(key);
      events.push({ type: "onLinkRemoved", prefix: p.prefix, prefixLen: p.prefixLen });
    }
  }
}
