/**
 * Values learned from router advertisements with a lifetime each (RFC 8106: recursive DNS
 * servers, search domains): refreshed, withdrawn by a lifetime of 0, expired on explicit time.
 * Internal to the iface folder.
 *
 * @module
 */

import { type Instant, NEVER } from "../time.ts";
import { Ipv6Address } from "../wire/address.ts";

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
