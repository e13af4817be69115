/**
 * The resolver's memory: {@linkcode DnsCache} keeps answers for their TTL and failures for the
 * negative TTL of RFC 2308, {@linkcode parseHosts} reads `/etc/hosts`-style static entries, and
 * {@linkcode DnsCounters} counts what the resolver ignored.
 *
 * @module
 */

import { type Instant, monotonicNow } from "../time.ts";
import { type IpAddress, parseIpAddress } from "../wire/address.ts";

/**
 * Responses and events the resolver counts (pass one object in `ResolveOptions.counters`).
 *
 * @example
 * ```ts
 * import { DnsCache, type DnsCounters, dnsCounters, linkPair, NetStack } from "@smol/net";
 * import { resolveDns } from "@smol/net/net";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
 * const cache = new DnsCache();
 * cache.put("db.example.net", 1, { kind: "addresses", addresses: [parseIpAddress("192.0.2.10")] }, 60);
 * const c: DnsCounters = dnsCounters();
 * await resolveDns(stack, "db.example.net", { servers: ["192.0.2.53"], family: 4, cache, counters: c });
 * assert.equal(c.cacheHits, 1);
 * assert.equal(c.cacheMisses, 0);
 * ```
 */
export interface DnsCounters {
  /** Responses whose id, question or sender did not match the query (RFC 5452 §9.1): ignored. */
  mismatchedId: number;
  /** Responses that did not parse (bad lengths, compression loops): ignored. */
  malformed: number;
  /** Truncated UDP responses retried over TCP (RFC 7766 §5). */
  tcpRetries: number;
  /** Tries that got no answer in time. */
  timeouts: number;
  /** Lookups answered from the cache (positive or negative). */
  cacheHits: number;
  /** Lookups that went to a server. */
  cacheMisses: number;
}

/**
 * A fresh set of zero counters.
 *
 * @returns The counters.
 *
 * @example
 * ```ts
 * import { dnsCounters } from "@smol/net";
 * import assert from "node:assert/strict";
 * const c = dnsCounters();
 * assert.deepEqual(c, {
 *   mismatchedId: 0, malformed: 0, tcpRetries: 0, timeouts: 0, cacheHits: 0, cacheMisses: 0,
 * });
 * assert.notEqual(dnsCounters(), c); // a fresh record each call
 * ```
 */
export function dnsCounters(): DnsCounters {
  return {
    mismatchedId: 0,
    malformed: 0,
    tcpRetries: 0,
    timeouts: 0,
    cacheHits: 0,
    cacheMisses: 0,
  };
}

/**
 * What the cache holds for a name and type: addresses, or a remembered failure.
 *
 * @example
 * ```ts
 * import { DnsCache, type DnsCacheEntry } from "@smol/net";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cache = new DnsCache();
 * const hit: DnsCacheEntry = { kind: "addresses", addresses: [parseIpAddress("192.0.2.10")] };
 * cache.put("db.example.net", 1, hit, 60);
 * cache.put("gone.example.net", 1, { kind: "nxdomain" }, 60);
 * assert.equal(cache.get("db.example.net", 1), hit);
 * assert.equal(cache.get("gone.example.net", 1)?.kind, "nxdomain");
 * ```
 */
export type DnsCacheEntry =
  | { readonly kind: "addresses"; readonly addresses: readonly IpAddress[] }
  | { readonly kind: "nxdomain" }
  | { readonly kind: "nodata" };

/**
 * Options of a {@linkcode DnsCache}.
 *
 * @example
 * ```ts
 * import { DnsCache, type DnsCacheOptions } from "@smol/net";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const options: DnsCacheOptions = { maxEntries: 2, maxTtl: 3600, maxNegativeTtl: 30, clock: () => now };
 * const cache = new DnsCache(options);
 * cache.put("gone.example.net", 1, { kind: "nxdomain" }, 600); // kept 30 s, not 600
 * now = 30_000;
 * assert.equal(cache.get("gone.example.net", 1), null);
 * for (const name of ["a.example", "b.example", "c.example"]) cache.put(name, 1, { kind: "nodata" }, 60);
 * assert.equal(cache.size, 2); // the least recently used went first
 * assert.equal(cache.get("a.example", 1), null);
 * assert.throws(() => new DnsCache({ maxEntries: 0 }), RangeError);
 * ```
 */
export interface DnsCacheOptions {
  /** Most names × types kept; the least recently used goes first (default 1024). */
  readonly maxEntries?: number;
  /** Longest time an answer is kept, in seconds (default 86,400). */
  readonly maxTtl?: number;
  /** Longest time a failure is kept, in seconds (default 900; RFC 2308 §5 suggests 1–3 h). */
  readonly maxNegativeTtl?: number;
  /** The clock, in milliseconds (default `performance.now`-based monotonic time). */
  readonly clock?: () => Instant;
}

interface Slot {
  readonly entry: DnsCacheEntry;
  readonly expiresAt: Instant;
}

function checkCount(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`Invalid ${name} "${v}": must be an integer of at least ${min}`);
  }
  return v;
}

/**
 * A cache of DNS lookups keyed by name (case-insensitive) and record type. Answers live for the
 * smallest TTL of the records used (RFC 1035 §3.2.1, RFC 2181 §5.2), failures (NXDOMAIN, no
 * data) for the negative TTL of RFC 2308 §5: the smaller of the SOA record's TTL and its
 * MINIMUM field; a failure without an SOA is not cached.
 *
 * @example
 * ```ts
 * import { DnsCache, parseIpAddress } from "@smol/net";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const cache = new DnsCache({ clock: () => now });
 * cache.put("example.net", 1, { kind: "addresses", addresses: [parseIpAddress("192.0.2.10")] }, 60);
 * assert.equal(cache.get("EXAMPLE.net", 1)?.kind, "addresses");
 * now = 60_000;
 * assert.equal(cache.get("example.net", 1), null);
 * ```
 */
export class DnsCache {
  readonly #slots = new Map<string, Slot>();
  readonly #maxEntries: number;
  readonly #maxTtl: number;
  readonly #maxNegativeTtl: number;
  readonly #clock: () => Instant;

  /**
   * Creates an empty cache.
   *
   * @param options Size, TTL caps and clock.
   */
  constructor(options: DnsCacheOptions = {}) {
    this.#maxEntries = checkCount("maxEntries", options.maxEntries ?? 1024, 1);
    this.#maxTtl = checkCount("maxTtl", options.maxTtl ?? 86_400, 0);
    this.#maxNegativeTtl = checkCount("maxNegativeTtl", options.maxNegativeTtl ?? 900, 0);
    this.#clock = options.clock ?? monotonicNow;
  }

  /**
   * How many entries are held (expired ones included until they are next looked at).
   *
   * @example
   * ```ts
   * import { DnsCache } from "@smol/net";
   * import assert from "node:assert/strict";
   * const cache = new DnsCache();
   * assert.equal(cache.size, 0);
   * cache.put("a.example", 1, { kind: "nodata" }, 60);
   * cache.put("a.example", 28, { kind: "nodata" }, 60); // one entry per name and type
   * assert.equal(cache.size, 2);
   * ```
   */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The live entry for `name` and `type`, or `null`.
   *
   * @param name The name looked up.
   * @param type The record type (1 for A, 28 for AAAA).
   * @returns The entry, or `null` when absent or expired.
   *
   * @example
   * ```ts
   * import { DnsCache } from "@smol/net";
   * import assert from "node:assert/strict";
   * let now = 0;
   * const cache = new DnsCache({ clock: () => now });
   * assert.equal(cache.get("example.net", 1), null);
   * cache.put("example.net", 1, { kind: "nodata" }, 10);
   * assert.equal(cache.get("EXAMPLE.net.", 1)?.kind, "nodata"); // case and trailing dot ignored
   * now = 10_000;
   * assert.equal(cache.get("example.net", 1), null); // the TTL ran out
   * ```
   */
  get(name: string, type: number): DnsCacheEntry | null {
    const key = keyOf(name, type);
    const slot = this.#slots.get(key);
    if (slot === undefined) return null;
    if (this.#clock() >= slot.expiresAt) {
      this.#slots.delete(key);
      return null;
    }
    // Most recently used last.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.entry;
  }

  /**
   * Keeps `entry` for `ttl` seconds (capped by `maxTtl`, or `maxNegativeTtl` for failures). A TTL
   * of 0 stores nothing (RFC 1035 §3.2.1: use only for the transaction in progress).
   *
   * @param name The name looked up.
   * @param type The record type.
   * @param entry What to remember.
   * @param ttl Seconds.
   *
   * @example
   * ```ts
   * import { DnsCache } from "@smol/net";
   * const cache = new DnsCache();
   * import assert from "node:assert/strict";
   * cache.put("nope.example.net", 1, { kind: "nxdomain" }, 30);
   * assert.equal(cache.get("nope.example.net", 1)?.kind, "nxdomain");
   * cache.put("zero.example.net", 1, { kind: "nodata" }, 0); // a zero TTL is not kept
   * assert.equal(cache.get("zero.example.net", 1), null);
   * ```
   */
  put(name: string, type: number, entry: DnsCacheEntry, ttl: number): void {
    const cap = entry.kind === "addresses" ? this.#maxTtl : this.#maxNegativeTtl;
    const seconds = Math.min(cap, Math.max(0, ttl));
    if (!(seconds > 0)) return;
    const key = keyOf(name, type);
    this.#slots.delete(key);
    while (this.#slots.size >= this.#maxEntries) {
      const oldest = this.#slots.keys().next().value as string;
      this.#slots.delete(oldest);
    }
    this.#slots.set(key, { entry, expiresAt: this.#clock() + seconds * 1000 });
  }

  /**
   * Forgets everything (for example when the DNS servers change).
   *
   * @example
   * ```ts
   * import { DnsCache } from "@smol/net";
   * const cache = new DnsCache();
   * cache.put("a.example", 1, { kind: "nodata" }, 5);
   * import assert from "node:assert/strict";
   * cache.clear();
   * assert.equal(cache.size, 0);
   * assert.equal(cache.get("a.example", 1), null);
   * ```
   */
  clear(): void {
    this.#slots.clear();
  }
}

function keyOf(name: string, type: number): string {
  // RFC 4343: ASCII case-insensitive; a trailing dot names the same node.
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  return `${type}:${n.toLowerCase()}`;
}

/**
 * Static host entries: lower-case names to addresses, in file order.
 *
 * @example
 * ```ts
 * import { type DnsHosts, parseHosts } from "@smol/net";
 * import assert from "node:assert/strict";
 * const hosts: DnsHosts = parseHosts("192.0.2.10 db.example.net db");
 * assert.equal(hosts.get("db")?.[0]?.toString(), "192.0.2.10"); // every name on the line
 * assert.equal(hosts.get("db.example.net")?.[0]?.toString(), "192.0.2.10");
 * ```
 */
export type DnsHosts = ReadonlyMap<string, readonly IpAddress[]>;

/**
 * Reads `/etc/hosts`-style text: an address, then names, per line; `#` starts a comment. Lines
 * whose first field is not an IP address are skipped (they are counted in no error, as in libc).
 *
 * @param text The file's text.
 * @returns Names (lower case) to addresses.
 *
 * @example
 * ```ts
 * import { parseHosts } from "@smol/net";
 * const hosts = parseHosts("# static\n192.0.2.10 www.example.net\n2001:db8::10 www.example.net\n");
 * import assert from "node:assert/strict";
 * assert.deepEqual(hosts.get("www.example.net")?.map(String), ["192.0.2.10", "2001:db8::10"]);
 * ```
 */
export function parseHosts(text: string): DnsHosts {
  const out = new Map<string, IpAddress[]>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [first, ...names] = line.split(/\s+/);
    let addr: IpAddress;
    try {
      addr = parseIpAddress(first!);
    } catch {
      continue;
    }
    for (const name of names) {
      const key = name.toLowerCase().replace(/\.$/, "");
      const list = out.get(key) ?? [];
      if (!list.some((a) => a.equals(addr))) list.push(addr);
      out.set(key, list);
    }
  }
  return out;
}
