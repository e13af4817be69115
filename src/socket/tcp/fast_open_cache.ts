/**
 * The client side's memory of TCP Fast Open (RFC 7413 §4.1.3): a cookie and an MSS per server,
 * and when not to use Fast Open for a while because SYNs with data get lost.
 *
 * Two pauses, as Linux's:
 * - per server (Linux's `tcp_fastopen_cache_set` with `syn_lost`): a SYN with data that timed
 *   out while the plain SYN sent after it got through is a SYN-data drop; from the second one in
 *   a row that server gets plain SYNs for 60 s × 2^drops (4 minutes, doubling, capped at
 *   2^11 minutes), and a SYN-ACK that acknowledges SYN data clears the count;
 * - for the whole cache (Linux's `tcp_fastopen_active_disable`, the middlebox "black hole"): a
 *   connection whose SYN carried data that then takes two timeouts in a row, or fails of a
 *   timeout (connect, user or retransmission limit) before its second, pauses Fast Open to
 *   every server for `blackholeTimeout` × 2^(n−1) (n the pauses in a row, the factor capped at
 *   64). The first connection whose SYN data is acknowledged after a pause ended sets n back to
 *   0. Linux also counts a connection that only asked for a cookie; we do not, because a long
 *   connection on a lossy path takes two timeouts in a row without any middlebox.
 *
 * And one mark that Linux does not keep: a server that answered our first SYN (a cookie request,
 * or data with a cookie) without Fast Open is "refused" for one hour, and its SYNs go plain
 * meanwhile. Linux asks again in every SYN to a server it has no cookie for (an empty option),
 * and keeps sending data with a cookie the server has stopped taking (the data then goes twice).
 * We spare both, but only for an hour, the age after which Linux refreshes a `tcp_metrics` entry
 * from its route (`TCP_METRICS_TIMEOUT`): a server that turns Fast Open on, or a path that stops
 * stripping the option, is found again within the hour (before, the mark stayed until
 * `delete()`).
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import type { IpAddress } from "../../wire/address.ts";

/**
 * Default first pause of the black-hole detection, in ms: one hour, Linux's default before 5.14
 * (since then Linux ships with the detection off, `tcp_fastopen_blackhole_timeout_sec = 0`,
 * because of false positives; pass `blackholeTimeout: 0` for that).
 */
export const FAST_OPEN_BLACKHOLE_TIMEOUT = 3_600_000;
/**
 * How long, in ms, a server that answered a Fast Open SYN without Fast Open gets plain SYNs: one
 * hour, Linux's `TCP_METRICS_TIMEOUT` (see the module notes for why there is a mark at all).
 */
const FAST_OPEN_REFUSAL_TIMEOUT = 3_600_000;
/** Base of the per-server pause after recurring SYN-data drops (Linux: 60 s << drops). */
const SYN_DROP_PAUSE = 60_000;
/** The per-server pause starts at the second drop in a row (Linux: `syn_loss > 1`). */
const SYN_DROPS_TO_PAUSE = 2;
/** Cap of the per-server exponent: 2^11 minutes, about a day and a half. */
const SYN_DROP_MAX_SHIFT = 11;
/** Cap of the black-hole multiplier: 2^6 (Linux). */
const BLACKHOLE_MAX_SHIFT = 6;

/** What a client knows of one server. */
interface CacheEntry {
  /** The server's cookie, or `null` when it does not take Fast Open (or none is known yet). */
  cookie: Uint8Array | null;
  /** The MSS the server announced, or `null`. */
  mss: number | null;
  /**
   * Until when the server counts as not taking Fast Open (it answered a Fast Open SYN without
   * it): `-Infinity` for no mark, `Infinity` for one set by hand.
   */
  refusedUntil: Instant;
  /** SYN-data drops in a row. */
  synDrops: number;
  /** When the last one was seen. */
  lastSynDrop: Instant;
}

/**
 * What a {@linkcode FastOpenCache} holds and has counted.
 *
 * @example
 * ```ts
 * import { FastOpenCache, type FastOpenCacheInfo } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const info: FastOpenCacheInfo = new FastOpenCache(16).info;
 * assert.equal(info.capacity, 16);
 * assert.equal(info.pausedUntil, -Infinity);
 * ```
 */
export interface FastOpenCacheInfo {
  /** Servers remembered. */
  servers: number;
  /** The most servers remembered; the least recently used is dropped beyond it. */
  capacity: number;
  /** SYNs with data lost while the plain SYN after them got through (per-server pauses). */
  synDataDrops: number;
  /** Times Fast Open was paused for every server after a suspected black hole. */
  blackholes: number;
  /** Black-hole pauses in a row: the next one lasts `blackholeTimeout` × 2^this (capped). */
  blackholesInRow: number;
  /** Until when Fast Open is paused for every server, `-Infinity` when it is not. */
  pausedUntil: Instant;
}

/** Options of {@linkcode FastOpenCache}. */
export interface FastOpenCacheOptions {
  /**
   * The first pause after a suspected black hole, in ms (default one hour, Linux's
   * `tcp_fastopen_blackhole_timeout_sec` before 5.14); `0` turns the detection off (Linux's
   * default since 5.14).
   */
  blackholeTimeout?: number;
}

/**
 * A client's Fast Open cookies, one per server address, the least recently used dropped beyond
 * `capacity` (RFC 7413 §4.1.3; Linux keeps them in its TCP metrics per destination), and the
 * pauses after lost SYN data (see {@linkcode FastOpenCache.paused}). A `TcpSocket` made with
 * `fastOpen: true` uses a process-wide cache of 1024 servers; a `NetStack` has its own
 * (`NetStack.fastOpenCache`).
 *
 * @example
 * ```ts
 * import { FastOpenCache } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cache = new FastOpenCache(2);
 * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
 * const c = Ipv4Address.parse("192.0.2.3");
 * cache.set(a, new Uint8Array(8).fill(1), 1460);
 * cache.set(b, new Uint8Array(8).fill(2), 1460);
 * cache.set(c, new Uint8Array(8).fill(3), 1460); // a is dropped
 * assert.equal(cache.size, 2);
 * assert.equal(cache.cookie(a), null);
 * assert.deepEqual(cache.cookie(c), new Uint8Array(8).fill(3));
 * assert.throws(() => new FastOpenCache(0), RangeError);
 * ```
 */
export class FastOpenCache {
  readonly #capacity: number;
  readonly #blackholeTimeout: number;
  readonly #map: Map<string, CacheEntry> = new Map();
  #synDataDrops = 0;
  #blackholes = 0;
  #inRow = 0;
  #pausedAt: Instant = -Infinity;

  /**
   * Creates an empty cache.
   *
   * @param capacity The most servers remembered (default 1024).
   * @param options `blackholeTimeout`: see {@linkcode FastOpenCacheOptions}.
   * @throws {RangeError} For a non-positive capacity or a negative `blackholeTimeout`.
   */
  constructor(capacity = 1024, options: FastOpenCacheOptions = {}) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid Fast Open cache capacity ${capacity}`);
    }
    const t = options.blackholeTimeout ?? FAST_OPEN_BLACKHOLE_TIMEOUT;
    if (typeof t !== "number" || !(t >= 0) || !Number.isFinite(t)) {
      throw new RangeError(`Invalid Fast Open black-hole timeout ${t}`);
    }
    this.#capacity = capacity;
    this.#blackholeTimeout = t;
  }

  /**
   * Servers remembered.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new FastOpenCache().size, 0);
   * ```
   */
  get size(): number {
    return this.#map.size;
  }

  /**
   * What the cache holds and has counted (a new object on each read).
   *
   * @example After a suspected black hole Fast Open pauses for an hour
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * cache.noteBlackhole(1000);
   * assert.equal(cache.info.blackholes, 1);
   * assert.equal(cache.info.pausedUntil, 1000 + 3_600_000);
   * ```
   */
  get info(): FastOpenCacheInfo {
    return {
      servers: this.#map.size,
      capacity: this.#capacity,
      synDataDrops: this.#synDataDrops,
      blackholes: this.#blackholes,
      blackholesInRow: this.#inRow,
      pausedUntil: this.#pausedUntil(),
    };
  }

  #pausedUntil(): Instant {
    if (this.#inRow === 0) return -Infinity;
    const shift = this.#inRow - 1 < BLACKHOLE_MAX_SHIFT ? this.#inRow - 1 : BLACKHOLE_MAX_SHIFT;
    return this.#pausedAt + this.#blackholeTimeout * 2 ** shift;
  }

  /**
   * The servers remembered, least recently used first, with their cookies (copies) and state:
   * `refused` when a server was marked as not taking Fast Open, in force until `refusedUntil`
   * (it may be over: the mark goes at the next answer with a cookie).
   *
   * @returns One row per server.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * cache.set(Ipv4Address.parse("192.0.2.1"), new Uint8Array(8), 1460);
   * const [row] = cache.entries();
   * assert.equal(row!.server, "192.0.2.1");
   * assert.equal(row!.mss, 1460);
   * assert.equal(row!.synDataDrops, 0);
   * ```
   */
  entries(): {
    server: string;
    cookie: Uint8Array | null;
    mss: number | null;
    refused: boolean;
    refusedUntil: Instant;
    synDataDrops: number;
  }[] {
    const out = [];
    for (const [server, e] of this.#map) {
      out.push({
        server,
        cookie: e.cookie === null ? null : e.cookie.slice(),
        mss: e.mss,
        refused: e.refusedUntil !== -Infinity,
        refusedUntil: e.refusedUntil,
        synDataDrops: e.synDrops,
      });
    }
    return out;
  }

  /**
   * The cookie of `server`, or `null` when none is known (or the server does not take Fast
   * Open).
   *
   * @param server The server's address.
   * @returns The cookie.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new FastOpenCache().cookie(Ipv4Address.parse("192.0.2.1")), null);
   * ```
   */
  cookie(server: IpAddress): Uint8Array | null {
    return this.#map.get(server.toString())?.cookie ?? null;
  }

  /**
   * Whether Fast Open is off for `server` at `now` because it answered a Fast Open SYN without
   * Fast Open (for one hour after {@linkcode FastOpenCache.noteRefused}), or was marked by hand
   * with a `null` cookie (until a cookie is set or {@linkcode FastOpenCache.delete}).
   *
   * @param server The server's address.
   * @param now The time, on the clock the cache was told about refusals with.
   * @returns `true` when Fast Open is off for it.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
   * cache.set(a, null, null);
   * assert.equal(cache.disabled(a, 1e12), true);
   * cache.noteRefused(b, 0);
   * assert.equal(cache.disabled(b, 3_599_999), true);
   * assert.equal(cache.disabled(b, 3_600_000), false); // an hour later it is asked again
   * ```
   */
  disabled(server: IpAddress, now: Instant): boolean {
    const e = this.#map.get(server.toString());
    return e !== undefined && now < e.refusedUntil;
  }

  /**
   * Whether a connection to `server` opened at `now` goes without Fast Open (a plain SYN, no
   * option) because SYN data was lost: Fast Open is paused for every server after a suspected
   * black hole, or for this one after SYN-data drops in a row (see the module notes).
   *
   * @param server The server's address.
   * @param now The time, on the clock the cache was told about losses with.
   * @returns `true` while paused.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache(8, { blackholeTimeout: 10_000 });
   * const a = Ipv4Address.parse("192.0.2.1");
   * cache.noteBlackhole(0);
   * assert.equal(cache.paused(a, 9_999), true);
   * assert.equal(cache.paused(a, 10_000), false);
   * ```
   */
  paused(server: IpAddress, now: Instant): boolean {
    if (now < this.#pausedUntil()) return true;
    const e = this.#map.get(server.toString());
    if (e === undefined || e.synDrops < SYN_DROPS_TO_PAUSE) return false;
    const shift = e.synDrops < SYN_DROP_MAX_SHIFT ? e.synDrops : SYN_DROP_MAX_SHIFT;
    return now < e.lastSynDrop + SYN_DROP_PAUSE * 2 ** shift;
  }

  /**
   * The MSS `server` announced with its cookie, or `null`: it bounds the data of a Fast Open SYN.
   *
   * @param server The server's address.
   * @returns The MSS.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new FastOpenCache().mss(Ipv4Address.parse("192.0.2.1")), null);
   * ```
   */
  mss(server: IpAddress): number | null {
    return this.#map.get(server.toString())?.mss ?? null;
  }

  /**
   * Remembers `server`'s cookie (copied) and MSS; a `null` cookie marks it as not taking Fast
   * Open until a cookie is set or it is deleted (the socket uses
   * {@linkcode FastOpenCache.noteRefused}, whose mark expires).
   *
   * @param server The server's address.
   * @param cookie Its cookie, or `null`.
   * @param mss The MSS it announced, or `null`.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * cache.set(Ipv4Address.parse("192.0.2.1"), new Uint8Array(4), 1400);
   * assert.equal(cache.mss(Ipv4Address.parse("192.0.2.1")), 1400);
   * ```
   */
  set(server: IpAddress, cookie: Uint8Array | null, mss: number | null): void {
    const e = this.#touch(server);
    e.cookie = cookie === null ? null : cookie.slice();
    e.mss = mss;
    e.refusedUntil = cookie === null ? Infinity : -Infinity;
  }

  /**
   * Records that `server` answered our first SYN (a cookie request, or data with a cookie)
   * without Fast Open at `now`: its cookie and MSS are forgotten and its SYNs go plain for one
   * hour (see the module notes); then it is asked again. Called by the socket.
   *
   * @param server The server's address.
   * @param now The time.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * const a = Ipv4Address.parse("192.0.2.1");
   * cache.set(a, new Uint8Array(8), 1460);
   * cache.noteRefused(a, 1000);
   * assert.equal(cache.cookie(a), null);
   * assert.equal(cache.entries()[0]!.refusedUntil, 1000 + 3_600_000);
   * ```
   */
  noteRefused(server: IpAddress, now: Instant): void {
    const e = this.#touch(server);
    e.cookie = null;
    e.mss = null;
    e.refusedUntil = now + FAST_OPEN_REFUSAL_TIMEOUT;
  }

  /** The entry of `server`, made or moved to the most recently used end. */
  #touch(server: IpAddress): CacheEntry {
    const k = server.toString();
    let e = this.#map.get(k);
    if (e !== undefined) this.#map.delete(k); // re-insert: the newest is last
    else {
      e = { cookie: null, mss: null, refusedUntil: -Infinity, synDrops: 0, lastSynDrop: -Infinity };
    }
    this.#map.set(k, e);
    if (this.#map.size > this.#capacity) this.#map.delete(this.#map.keys().next().value!);
    return e;
  }

  /**
   * Records that a SYN with data to `server` was lost while the plain SYN after it got through
   * (the SYN-ACK acknowledged none of the data and carried no cookie). Called by the socket.
   *
   * @param server The server's address.
   * @param now The time.
   *
   * @example The second drop in a row pauses Fast Open to that server for 4 minutes
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache();
   * const a = Ipv4Address.parse("192.0.2.1");
   * cache.set(a, new Uint8Array(8), 1460);
   * cache.noteSynDataDrop(a, 0);
   * assert.equal(cache.paused(a, 1), false);
   * cache.noteSynDataDrop(a, 1000);
   * assert.equal(cache.paused(a, 1000 + 239_999), true);
   * assert.equal(cache.paused(a, 1000 + 240_000), false);
   * assert.equal(cache.info.synDataDrops, 2);
   * ```
   */
  noteSynDataDrop(server: IpAddress, now: Instant): void {
    const e = this.#touch(server);
    e.synDrops++;
    e.lastSynDrop = now;
    this.#synDataDrops++;
  }

  /**
   * Records that `server` acknowledged the data of a Fast Open SYN at `now`: its drop count
   * clears, and so do the black-hole pauses in a row once the last pause is over. Called by the
   * socket.
   *
   * @param server The server's address.
   * @param now The time.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache(8, { blackholeTimeout: 100 });
   * cache.noteBlackhole(0);
   * cache.noteSynDataAcked(Ipv4Address.parse("192.0.2.1"), 100);
   * assert.equal(cache.info.blackholesInRow, 0);
   * ```
   */
  noteSynDataAcked(server: IpAddress, now: Instant): void {
    const e = this.#map.get(server.toString());
    if (e !== undefined) e.synDrops = 0;
    if (this.#inRow > 0 && now >= this.#pausedUntil()) this.#inRow = 0;
  }

  /**
   * Records a suspected black hole at `now` (a connection whose SYN carried data took two
   * timeouts in a row, or failed of a timeout before its second): Fast Open pauses for every server. Nothing when `blackholeTimeout` is
   * 0, or while a pause is already running (the connections it stopped cannot tell anything).
   * Called by the socket.
   *
   * @param now The time.
   *
   * @example Each pause in a row lasts twice the one before
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cache = new FastOpenCache(8, { blackholeTimeout: 100 });
   * cache.noteBlackhole(0);
   * cache.noteBlackhole(50); // during the pause: ignored
   * assert.equal(cache.info.pausedUntil, 100);
   * cache.noteBlackhole(100);
   * assert.equal(cache.info.pausedUntil, 300);
   * assert.equal(cache.info.blackholes, 2);
   * ```
   */
  noteBlackhole(now: Instant): void {
    if (this.#blackholeTimeout === 0 || now < this.#pausedUntil()) return;
    this.#inRow++;
    this.#blackholes++;
    this.#pausedAt = now;
  }

  /**
   * Forgets `server`.
   *
   * @param server The server's address.
   * @returns Whether it was known.
   *
   * @example
   * ```ts
   * import { FastOpenCache } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new FastOpenCache().delete(Ipv4Address.parse("192.0.2.1")), false);
   * ```
   */
  delete(server: IpAddress): boolean {
    return this.#map.delete(server.toString());
  }
}

/** The cache of `TcpSocketOptions.fastOpen: true`. */
export const DEFAULT_FAST_OPEN_CACHE: FastOpenCache = new FastOpenCache();
