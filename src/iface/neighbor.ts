/**
 * The neighbor cache shared by ARP (IPv4) and NDP (IPv6): IP address to hardware address, with a
 * bounded number of entries, expiry, a per-neighbor request rate limit and retry budget, and a
 * bounded queue of packets waiting for each neighbor to resolve.
 *
 * @module
 */

import type { EthernetAddress, IpAddress } from "../wire/address.ts";
import { type Duration, type Instant, NEVER } from "../time.ts";

/**
 * Limits and timers of a {@linkcode NeighborCache}.
 *
 * @example
 * ```ts
 * import { NeighborCache, type NeighborCacheOptions } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const opts: NeighborCacheOptions = { capacity: 16, retransmitInterval: 500 };
 * const cache = new NeighborCache(opts);
 * cache.resolve(Ipv4Address.parse("192.0.2.1"), 0);
 * assert.equal(cache.dueRequest(0)?.requests, 1);
 * assert.equal(cache.pollAt(0), 500); // the next request, one retransmitInterval later
 * assert.throws(() => new NeighborCache({ capacity: 0 }), RangeError);
 * ```
 */
export interface NeighborCacheOptions {
  /** Entries held, resolved or not; default 64. */
  readonly capacity?: number;
  /** How long a resolved entry is used before it is resolved again; default 60 s. */
  readonly reachableTime?: Duration;
  /** Time between requests for an unresolved neighbor (the request rate limit); default 1 s. */
  readonly retransmitInterval?: Duration;
  /** Requests sent before giving up on a neighbor; default 3 (RFC 4861 MAX_MULTICAST_SOLICIT). */
  readonly maxRequests?: number;
  /** Packets held per unresolved neighbor; default 4. */
  readonly queueLimit?: number;
}

/**
 * One cache entry, as {@linkcode NeighborCache} exposes it to the interface.
 *
 * @example
 * ```ts
 * import { NeighborCache } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * const cache = new NeighborCache();
 * cache.enqueue(Ipv4Address.parse("192.0.2.1"), new Uint8Array(20), 0);
 * const entry = cache.dueRequest(0);
 * import assert from "node:assert/strict";
 * assert.equal(entry?.addr.toString(), "192.0.2.1");
 * assert.equal(entry?.requests, 1);
 * assert.equal(entry?.hw, null);
 * assert.equal(entry?.queue.length, 1);
 * ```
 */
export class NeighborEntry {
  /** The neighbor's IP address. */
  readonly addr: IpAddress;
  /** Its hardware address, or `null` while unresolved. */
  hw: EthernetAddress | null = null;
  /** When a resolved entry stops being used. */
  expiresAt: Instant = 0;
  /** When the next request is due (unresolved entries). */
  nextRequest: Instant = 0;
  /** Requests sent so far for this resolution. */
  requests = 0;
  /** IP packets (without link header) waiting for this neighbor. */
  readonly queue: Uint8Array[] = [];
  /** @internal */
  readonly hash: number;

  /**
   * Creates an entry.
   *
   * @param addr The neighbor's address.
   */
  constructor(addr: IpAddress) {
    this.addr = addr;
    this.hash = addr.hash();
  }
}

/**
 * What happened to a packet handed to {@linkcode NeighborCache.enqueue}.
 *
 * @example
 * ```ts
 * import { type EnqueueResult, NeighborCache } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cache = new NeighborCache({ queueLimit: 1 });
 * const a = Ipv4Address.parse("192.0.2.1");
 * const r: EnqueueResult = cache.enqueue(a, new Uint8Array(20), 0);
 * assert.equal(r, "queued");
 * assert.equal(cache.enqueue(a, new Uint8Array(20), 0), "full");
 * ```
 */
export type EnqueueResult = "queued" | "full";

/**
 * A bounded neighbor cache.
 *
 * @example
 * ```ts
 * import { NeighborCache } from "@smol/net/iface";
 * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
 *
 * const cache = new NeighborCache({ reachableTime: 1000 });
 * const ip = Ipv4Address.parse("192.0.2.1"), mac = EthernetAddress.parse("02:00:00:00:00:01");
 * cache.fill(ip, mac, 0, true);
 * import assert from "node:assert/strict";
 * assert.equal(cache.lookup(ip, 999)?.toString(), "02:00:00:00:00:01");
 * assert.equal(cache.lookup(ip, 1000), null); // reachableTime has passed
 * ```
 */
export class NeighborCache {
  readonly #capacity: number;
  readonly #reachable: Duration;
  readonly #interval: Duration;
  readonly #maxRequests: number;
  readonly #queueLimit: number;
  readonly #map = new Map<number, NeighborEntry[]>();
  #size = 0;
  #lost = 0;
  /** Entries that are unresolved, or resolved with packets still queued. */
  readonly #active: NeighborEntry[] = [];

  /**
   * Creates an empty cache.
   *
   * @param options Limits and timers.
   * @throws {RangeError} When a limit is not a positive integer.
   */
  constructor(options: NeighborCacheOptions = {}) {
    this.#capacity = options.capacity ?? 64;
    this.#reachable = options.reachableTime ?? 60_000;
    this.#interval = options.retransmitInterval ?? 1000;
    this.#maxRequests = options.maxRequests ?? 3;
    this.#queueLimit = options.queueLimit ?? 4;
    for (
      const [k, v] of [["capacity", this.#capacity], ["maxRequests", this.#maxRequests]] as const
    ) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid neighbor cache ${k} ${v}`);
    }
    if (!Number.isInteger(this.#queueLimit) || this.#queueLimit < 0) {
      throw new RangeError(`Invalid neighbor cache queueLimit ${this.#queueLimit}`);
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Packets queued over all neighbors. */
  get queued(): number {
    let n = 0;
    for (const e of this.#active) n += e.queue.length;
    return n;
  }

  #find(addr: IpAddress): NeighborEntry | undefined {
    const bucket = this.#map.get(addr.hash());
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) if (bucket[i]!.addr.equals(addr)) return bucket[i];
    return undefined;
  }

  /**
   * The hardware address of a resolved, unexpired neighbor.
   *
   * @param addr The neighbor.
   * @param now The current instant.
   * @returns The hardware address, or `null`.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { EthernetAddress, Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache();
   * const ip = Ipv6Address.parse("2001:db8::1");
   * assert.equal(c.lookup(ip, 0), null);
   * c.fill(ip, EthernetAddress.parse("02:00:00:00:00:01"), 0, true);
   * assert.equal(c.lookup(ip, 0)?.toString(), "02:00:00:00:00:01");
   * ```
   */
  lookup(addr: IpAddress, now: Instant): EthernetAddress | null {
    const e = this.#find(addr);
    if (e === undefined || e.hw === null || now >= e.expiresAt) return null;
    return e.hw;
  }

  /**
   * Learns `addr → hw`. With `create` false only an existing entry is updated (the RFC 826
   * "merge" step for ARP packets not aimed at us).
   *
   * @param addr The neighbor.
   * @param hw Its hardware address.
   * @param now The current instant.
   * @param create Whether to add a missing entry.
   * @returns Whether an entry now holds the mapping.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
   * const c = new NeighborCache();
   * import assert from "node:assert/strict";
   * const ip = Ipv4Address.parse("192.0.2.1");
   * const mac = EthernetAddress.parse("02:00:00:00:00:01");
   * assert.equal(c.fill(ip, mac, 0, false), false); // unknown and not created
   * assert.equal(c.fill(ip, mac, 0, true), true);
   * assert.equal(c.size, 1);
   * ```
   */
  fill(addr: IpAddress, hw: EthernetAddress, now: Instant, create: boolean): boolean {
    let e = this.#find(addr);
    if (e === undefined) {
      if (!create) return false;
      e = this.#insert(addr, now);
    }
    e.hw = hw;
    e.expiresAt = now + this.#reachable;
    e.requests = 0;
    if (e.queue.length === 0) this.#deactivate(e);
    return true;
  }

  /**
   * Holds an IP packet until `addr` resolves, starting resolution when needed.
   *
   * @param addr The next hop.
   * @param packet The IP packet (kept; pass a copy).
   * @param now The current instant.
   * @returns `"full"` when the neighbor's queue is at its limit (the packet is not kept).
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * const c = new NeighborCache({ queueLimit: 1 });
   * const a = Ipv4Address.parse("192.0.2.1");
   * import assert from "node:assert/strict";
   * assert.equal(c.enqueue(a, new Uint8Array(1), 0), "queued");
   * assert.equal(c.enqueue(a, new Uint8Array(1), 0), "full");
   * assert.equal(c.queued, 1);
   * ```
   */
  enqueue(addr: IpAddress, packet: Uint8Array, now: Instant): EnqueueResult {
    let e = this.#find(addr);
    if (e === undefined) e = this.#insert(addr, now);
    if (e.hw !== null && now >= e.expiresAt) {
      // Expired: resolve again, starting now.
      e.hw = null;
      e.requests = 0;
      e.nextRequest = now;
    }
    if (!this.#active.includes(e)) this.#active.push(e);
    if (e.queue.length >= this.#queueLimit) return "full";
    e.queue.push(packet);
    return "queued";
  }

  /**
   * Starts resolving `addr` without a packet (for example to refresh an entry).
   *
   * @param addr The neighbor.
   * @param now The current instant.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * const c = new NeighborCache();
   * import assert from "node:assert/strict";
   * c.resolve(Ipv4Address.parse("192.0.2.1"), 0);
   * assert.equal(c.pollAt(0), 0); // a request is due now
   * assert.equal(c.dueRequest(0)?.addr.toString(), "192.0.2.1");
   * ```
   */
  resolve(addr: IpAddress, now: Instant): void {
    let e = this.#find(addr);
    if (e === undefined) e = this.#insert(addr, now);
    else if (e.hw !== null && now < e.expiresAt) return;
    e.hw = null;
    if (!this.#active.includes(e)) this.#active.push(e);
  }

  /**
   * The next unresolved neighbor whose request is due, with its request count and timer
   * advanced (the caller sends the request). Call until `null`.
   *
   * @param now The current instant.
   * @returns The entry, or `null`.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache({ retransmitInterval: 1000, maxRequests: 2 });
   * c.resolve(Ipv4Address.parse("192.0.2.1"), 0);
   * assert.equal(c.dueRequest(0)?.requests, 1);
   * assert.equal(c.dueRequest(500), null); // rate limited
   * assert.equal(c.dueRequest(1000)?.requests, 2);
   * assert.equal(c.dueRequest(2000), null); // maxRequests reached
   * ```
   */
  dueRequest(now: Instant): NeighborEntry | null {
    for (let i = 0; i < this.#active.length; i++) {
      const e = this.#active[i]!;
      if (e.hw === null && e.nextRequest <= now && e.requests < this.#maxRequests) {
        e.requests++;
        e.nextRequest = now + this.#interval;
        return e;
      }
    }
    return null;
  }

  /**
   * A resolved neighbor that still has queued packets, or `null`. The caller sends them
   * (shifting `queue`) and calls {@linkcode NeighborCache.settle} when done.
   *
   * @param now The current instant.
   * @returns The entry, or `null`.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache();
   * const ip = Ipv4Address.parse("192.0.2.1");
   * c.enqueue(ip, new Uint8Array(20), 0);
   * assert.equal(c.readyToFlush(0), null); // still unresolved
   * c.fill(ip, EthernetAddress.parse("02:00:00:00:00:01"), 0, false);
   * const entry = c.readyToFlush(0);
   * assert.equal(entry?.queue.length, 1);
   * ```
   */
  readyToFlush(now: Instant): NeighborEntry | null {
    for (let i = 0; i < this.#active.length; i++) {
      const e = this.#active[i]!;
      if (e.hw !== null && now < e.expiresAt && e.queue.length > 0) return e;
    }
    return null;
  }

  /**
   * Stops tracking an entry whose queue is now empty.
   *
   * @param entry The entry.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache();
   * const ip = Ipv4Address.parse("192.0.2.1");
   * c.enqueue(ip, new Uint8Array(20), 0);
   * c.fill(ip, EthernetAddress.parse("02:00:00:00:00:01"), 0, false);
   * const entry = c.readyToFlush(0)!;
   * entry.queue.length = 0; // the caller sent the queued packets
   * c.settle(entry);
   * assert.equal(c.readyToFlush(0), null);
   * assert.equal(c.pollAt(0), Infinity);
   * ```
   */
  settle(entry: NeighborEntry): void {
    if (entry.queue.length === 0 && entry.hw !== null) this.#deactivate(entry);
  }

  /**
   * Gives up on neighbors that used their request budget without answering: their entries are
   * removed and their queued packets dropped. Packets lost to eviction since the last call are
   * included in the count.
   *
   * @param now The current instant.
   * @returns The number of packets dropped.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache({ maxRequests: 1, retransmitInterval: 1000 });
   * c.enqueue(Ipv4Address.parse("192.0.2.1"), new Uint8Array(20), 0);
   * c.dueRequest(0);
   * assert.equal(c.expire(500), 0); // the one request may still be answered
   * assert.equal(c.expire(1000), 1); // given up: its queued packet is dropped
   * assert.equal(c.size, 0);
   * ```
   */
  expire(now: Instant): number {
    let dropped = this.#lost;
    this.#lost = 0;
    for (let i = this.#active.length - 1; i >= 0; i--) {
      const e = this.#active[i]!;
      if (e.hw === null && e.requests >= this.#maxRequests && e.nextRequest <= now) {
        dropped += e.queue.length;
        e.queue.length = 0;
        this.#remove(e);
      }
    }
    return dropped;
  }

  /**
   * The next instant the cache needs attention: a request or give-up due, or `now` when a
   * resolved neighbor has queued packets; `NEVER` when idle.
   *
   * @param now The current instant.
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { NeighborCache } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new NeighborCache({ retransmitInterval: 1000 });
   * assert.equal(c.pollAt(0), Infinity);
   * c.resolve(Ipv4Address.parse("192.0.2.1"), 0);
   * c.dueRequest(0);
   * assert.equal(c.pollAt(0), 1000);
   * ```
   */
  pollAt(now: Instant): Instant {
    let t = NEVER;
    for (let i = 0; i < this.#active.length; i++) {
      const e = this.#active[i]!;
      if (e.hw !== null) {
        if (e.queue.length > 0) return now;
      } else if (e.nextRequest < t) t = e.nextRequest;
    }
    return t;
  }

  #insert(addr: IpAddress, now: Instant): NeighborEntry {
    if (this.#size >= this.#capacity) this.#evict(now);
    const e = new NeighborEntry(addr);
    e.nextRequest = now;
    const bucket = this.#map.get(e.hash);
    if (bucket === undefined) this.#map.set(e.hash, [e]);
    else bucket.push(e);
    this.#size++;
    return e;
  }

  /** Evicts an expired entry, else the resolved entry closest to expiry, else the oldest pending one. */
  #evict(now: Instant): void {
    let victim: NeighborEntry | undefined;
    for (const bucket of this.#map.values()) {
      for (const e of bucket) {
        if (e.hw === null) continue;
        if (now >= e.expiresAt) {
          victim = e;
          break;
        }
        if (victim === undefined || e.expiresAt < victim.expiresAt) victim = e;
      }
    }
    victim ??= this.#active[0];
    if (victim !== undefined) {
      this.#lost += victim.queue.length;
      victim.queue.length = 0;
      this.#remove(victim);
    }
  }

  #remove(e: NeighborEntry): void {
    const bucket = this.#map.get(e.hash);
    if (bucket !== undefined) {
      const i = bucket.indexOf(e);
      if (i >= 0) {
        bucket.splice(i, 1);
        this.#size--;
      }
      if (bucket.length === 0) this.#map.delete(e.hash);
    }
    this.#deactivate(e);
  }

  #deactivate(e: NeighborEntry): void {
    const i = this.#active.indexOf(e);
    if (i >= 0) this.#active.splice(i, 1);
  }
}
