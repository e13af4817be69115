/**
 * {@linkcode FaultInjector}: a seeded device wrapper that drops, duplicates, reorders, corrupts,
 * delays, size-limits and rate-limits frames in either direction, deterministically for a seed.
 *
 * @module
 */

import type { Device } from "./device.ts";
import { DeviceWrapper } from "./wrapper.ts";
import { checkInt, deviceDeadline } from "./device.ts";
import { FrameQueue } from "./link.ts";
import { Rng } from "../rand.ts";
import { NEVER } from "../time.ts";
import type { Duration, Instant } from "../time.ts";

/**
 * The faults applied to one direction. Rates are probabilities in [0, 1] drawn per frame.
 *
 * @example
 * ```ts
 * import { FaultInjector, Loopback } from "@smol/net/phy";
 * import type { FaultConfig } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const blackHole: FaultConfig = { maxSize: 100 };
 * const lo = new Loopback();
 * const dev = new FaultInjector(lo, { tx: blackHole });
 * dev.transmit(0, 200);
 * dev.commit();
 * assert.equal(lo.pending, 0);
 * assert.equal(dev.stats.tx.tooBig, 1);
 * ```
 */
export interface FaultConfig {
  /** Probability that a frame is dropped. */
  dropRate?: number;
  /** Probability that a frame is delivered twice (the copy follows right behind it). */
  duplicateRate?: number;
  /** Probability that a frame is held back `reorderDelay` longer, so later frames overtake it. */
  reorderRate?: number;
  /** Probability that one random bit of a frame is flipped. */
  corruptRate?: number;
  /** Fixed delay in milliseconds added to every frame; default 0. */
  delay?: Duration;
  /**
   * Extra random delay, uniform in [0, jitter) milliseconds. Jitter never reorders: a frame is
   * never released before the one queued ahead of it (use `reorderRate` for reordering).
   */
  jitter?: Duration;
  /** How much longer a reordered frame is held, in milliseconds; default 5. */
  reorderDelay?: Duration;
  /** Frames longer than this many bytes are dropped (a path-MTU black hole); default no limit. */
  maxSize?: number;
}

/**
 * Options for {@linkcode FaultInjector}. The top-level {@linkcode FaultConfig} fields apply to
 * both directions; `rx` and `tx` override them per direction.
 *
 * @example
 * ```ts
 * import { FaultInjector, Loopback } from "@smol/net/phy";
 * import type { FaultInjectorOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: FaultInjectorOptions = { seed: 7, dropRate: 1, tx: { dropRate: 0 } };
 * const dev = new FaultInjector(new Loopback(), opts);
 * dev.transmit(0, 60);
 * dev.commit(); // tx overrides the drop rate: the frame reaches the loopback
 * assert.equal(dev.receive(0), null); // and is dropped on the way back in
 * assert.equal(dev.stats.tx.dropped, 0);
 * assert.equal(dev.stats.rx.dropped, 1);
 * ```
 */
export interface FaultInjectorOptions extends FaultConfig {
  /** Seed of the generator; the same seed and call sequence give the same faults. Default 0. */
  seed?: number;
  /**
   * Received frames allowed per `rateInterval` (token bucket); excess frames are dropped.
   * 0 (default) means no limit.
   */
  rxRateLimit?: number;
  /**
   * Transmitted frames allowed per `rateInterval` (token bucket); when the bucket is empty
   * `transmit` returns `null` (back-pressure, not loss). 0 (default) means no limit.
   */
  txRateLimit?: number;
  /** Token bucket refill interval in milliseconds; default 10. */
  rateInterval?: Duration;
  /** Frames each direction can hold for delay, duplication or reordering; default 256. */
  queueLen?: number;
  /** Overrides for received frames. */
  rx?: FaultConfig;
  /** Overrides for transmitted frames. */
  tx?: FaultConfig;
}

/**
 * Counters for one direction of a {@linkcode FaultInjector}.
 *
 * @example
 * ```ts
 * import { FaultInjector, Loopback } from "@smol/net/phy";
 * import type { FaultCounters } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const dev = new FaultInjector(new Loopback(), { tx: { dropRate: 1 } });
 * dev.transmit(0, 20);
 * dev.commit();
 * const c: FaultCounters = dev.stats.tx;
 * assert.equal(c.frames, 1);
 * assert.equal(c.dropped, 1);
 * ```
 */
export interface FaultCounters {
  /** Frames that entered this direction of the injector. */
  readonly frames: number;
  /** Frames dropped at random. */
  readonly dropped: number;
  /** Frames dropped for exceeding `maxSize`, or refused for exceeding the MTU. */
  readonly tooBig: number;
  /** Received frames dropped, or `transmit` calls refused, by the token bucket. */
  readonly rateLimited: number;
  /** Frames with a flipped bit. */
  readonly corrupted: number;
  /** Extra copies delivered. */
  readonly duplicated: number;
  /** Frames held back so that later ones overtake them. */
  readonly reordered: number;
  /** Frames that went through the delay queue with a non-zero delay or jitter. */
  readonly delayed: number;
  /** Frames (or copies) not queued because the delay queue was full. */
  readonly queueFull: number;
}

/**
 * Both directions' counters.
 *
 * @example
 * ```ts
 * import { FaultInjector, Loopback } from "@smol/net/phy";
 * import type { FaultStats } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const dev = new FaultInjector(new Loopback(), { rx: { duplicateRate: 1 } });
 * dev.transmit(0, 20);
 * dev.commit();
 * dev.receive(0);
 * const s: FaultStats = dev.stats;
 * assert.equal(s.tx.frames, 1);
 * assert.equal(s.rx.duplicated, 1); // only received frames are duplicated
 * assert.equal(s.tx.duplicated, 0);
 * ```
 */
export interface FaultStats {
  /** Frames coming from the inner device. */
  readonly rx: FaultCounters;
  /** Frames going to the inner device. */
  readonly tx: FaultCounters;
}

type MutableCounters = { -readonly [K in keyof FaultCounters]: number };

function checkRate(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) {
    throw new RangeError(`Invalid ${name} ${v}: expected a number in [0, 1]`);
  }
  return v;
}

function checkDuration(name: string, v: number): number {
  if (!(v >= 0 && v < Infinity)) {
    throw new RangeError(`Invalid ${name} ${v}: expected a finite non-negative number`);
  }
  return v;
}

/** One direction's configuration, generator, queues, token bucket and counters. */
class Lane {
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
  readonly corruptRate: number;
  readonly delay: number;
  readonly jitter: number;
  readonly reorderDelay: number;
  readonly maxSize: number;
  readonly rateLimit: number;
  readonly interval: number;
  /** Whether frames go through the queues (delay, jitter, duplication or reordering). */
  readonly queued: boolean;
  readonly rng: Rng;
  readonly main: FrameQueue;
  readonly held: FrameQueue;
  readonly c: MutableCounters = {
    frames: 0,
    dropped: 0,
    tooBig: 0,
    rateLimited: 0,
    corrupted: 0,
    duplicated: 0,
    reordered: 0,
    delayed: 0,
    queueFull: 0,
  };
  #lastRelease = -Infinity;
  #bucket = 0;
  #refilledAt = -Infinity;
  /** Set when a transmit was refused for want of a token, until the next refill. */
  starved = false;

  constructor(
    base: FaultConfig,
    over: FaultConfig | undefined,
    seed: number,
    frameSize: number,
    shared: { rateLimit: number; interval: number; queueLen: number },
  ) {
    const cfg: FaultConfig = { ...base, ...over };
    this.dropRate = checkRate("drop rate", cfg.dropRate ?? 0);
    this.duplicateRate = checkRate("duplicate rate", cfg.duplicateRate ?? 0);
    this.reorderRate = checkRate("reorder rate", cfg.reorderRate ?? 0);
    this.corruptRate = checkRate("corrupt rate", cfg.corruptRate ?? 0);
    this.delay = checkDuration("delay", cfg.delay ?? 0);
    this.jitter = checkDuration("jitter", cfg.jitter ?? 0);
    this.reorderDelay = checkDuration("reorder delay", cfg.reorderDelay ?? 5);
    const maxSize = cfg.maxSize ?? Infinity;
    if (maxSize !== Infinity) checkInt("max size", maxSize, 0, 1 << 24);
    this.maxSize = maxSize;
    this.rateLimit = shared.rateLimit;
    this.interval = shared.interval;
    this.queued = this.delay > 0 || this.jitter > 0 || this.duplicateRate > 0 ||
      this.reorderRate > 0;
    this.rng = new Rng(seed);
    // Slots are allocated on first use, so unused queues cost only their slot tables.
    this.main = new FrameQueue(shared.queueLen, frameSize);
    this.held = new FrameQueue(shared.queueLen, frameSize);
  }

  /** Whether the token bucket allows a frame at `now` (refilling it when the interval passed). */
  hasToken(now: Instant): boolean {
    if (this.rateLimit === 0) return true;
    if (now >= this.#refilledAt + this.interval) {
      this.#bucket = this.rateLimit;
      this.#refilledAt = now;
      this.starved = false;
    }
    return this.#bucket > 0;
  }

  takeToken(): void {
    if (this.rateLimit !== 0) this.#bucket--;
  }

  /** When the bucket refills next, for a starved transmitter. */
  refillAt(): Instant {
    return this.starved ? this.#refilledAt + this.interval : NEVER;
  }

  /** Counts the frame and rolls the size limit and random drop: `false` means drop it. */
  admit(len: number): boolean {
    this.c.frames++;
    if (len > this.maxSize) {
      this.c.tooBig++;
      return false;
    }
    if (this.dropRate > 0 && this.rng.nextFloat() < this.dropRate) {
      this.c.dropped++;
      return false;
    }
    return true;
  }

  /** Rolls corruption and flips one random bit of `frame`. */
  corrupt(frame: Uint8Array): void {
    if (this.corruptRate > 0 && frame.length > 0 && this.rng.nextFloat() < this.corruptRate) {
      const bit = this.rng.below(frame.length * 8);
      frame[bit >>> 3]! ^= 1 << (bit & 7);
      this.c.corrupted++;
    }
  }

  /**
   * Queues an admitted, possibly corrupted frame with its release time, rolling reordering and
   * duplication. `inMain` says `frame` is the main queue's current reservation.
   */
  enqueue(now: Instant, frame: Uint8Array, inMain: boolean): void {
    let release = now + this.delay;
    if (this.jitter > 0) release += this.rng.nextFloat() * this.jitter;
    if (release < this.#lastRelease) release = this.#lastRelease;
    this.#lastRelease = release;
    let placed = false;
    if (this.reorderRate > 0 && this.rng.nextFloat() < this.reorderRate) {
      placed = this.held.push(frame, release + this.reorderDelay);
      if (placed) this.c.reordered++;
    }
    if (!placed) {
      if (inMain) this.main.commit(release);
      else if (!this.main.push(frame, release)) {
        this.c.queueFull++;
        return;
      }
    }
    if (this.delay > 0 || this.jitter > 0) this.c.delayed++;
    if (this.duplicateRate > 0 && this.rng.nextFloat() < this.duplicateRate) {
      if (this.main.push(frame, release)) this.c.duplicated++;
      else this.c.queueFull++;
    }
  }

  /** The queue whose head is due at `now` (main first on ties), or `null`. */
  due(now: Instant): FrameQueue | null {
    const a = this.main.peekStamp();
    const b = this.held.peekStamp();
    if (a <= b) return a <= now ? this.main : null;
    return b <= now ? this.held : null;
  }

  /** The earliest release time held, `NEVER` when empty. */
  deadline(): Instant {
    const a = this.main.peekStamp();
    const b = this.held.peekStamp();
    return a < b ? a : b;
  }
}

/**
 * A device wrapper that injects faults, seeded and deterministic: the same seed, options and call
 * sequence give the same faults. Each frame, in each direction, goes through in this order:
 * `maxSize` → token bucket → drop → corrupt (one random bit) → reorder / delay → duplicate.
 *
 * Without delay, jitter, duplication or reordering the wrapper copies nothing: received frames are
 * the inner device's buffers, and `transmit` hands out the inner device's buffer (a dropped frame
 * is simply not committed). With any of them, frames wait in bounded internal queues (default 256
 * per direction) and are released once `now` reaches their time: received ones on `receive`,
 * transmitted ones on any call (`receive`, `canTransmit`, `transmit`, `commit`).
 * {@linkcode FaultInjector.nextDeadline} says when the next held frame is due, so the caller
 * polls again then. Received frames are time-stamped when `receive` pulls them from the inner
 * device.
 *
 * @example Lose a tenth of the frames, delay the rest by 20 ms
 * ```ts
 * import { FaultInjector, linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * const dev = new FaultInjector(a, { seed: 1, dropRate: 0.1, tx: { delay: 20 } });
 * dev.transmit(0, 60)!.fill(0);
 * dev.commit();
 * assert.equal(dev.nextDeadline(), 20);
 * dev.receive(20); // releases the delayed frame to the link
 * assert.equal(b.receive(20)?.length, 60);
 * ```
 */
export class FaultInjector extends DeviceWrapper {
  readonly #rx: Lane;
  /** Whether the frame `receive` returned last came straight from the inner device (not queued). */
  #rxDirect = false;
  readonly #tx: Lane;
  readonly #stats: FaultStats;
  /** The pending transmit buffer (inner's on the direct path, the queue's otherwise). */
  #pending: Uint8Array | null = null;
  #pendingNow: Instant = 0;

  /**
   * Wraps `inner`.
   *
   * @param inner The device whose frames get faults.
   * @param options Seed, rates, delays, limits; per-direction overrides in `rx` / `tx`.
   * @throws {RangeError} When a rate is outside [0, 1] or a delay, limit or length is invalid.
   */
  constructor(inner: Device, options: FaultInjectorOptions = {}) {
    super(inner);
    const seed = options.seed ?? 0;
    const interval = options.rateInterval ?? 10;
    if (!(interval > 0 && interval < Infinity)) {
      throw new RangeError(`Invalid rate interval ${interval}: expected a positive number`);
    }
    const queueLen = options.queueLen ?? 256;
    checkInt("queue length", queueLen, 1, 1 << 20);
    const rxLimit = options.rxRateLimit ?? 0;
    const txLimit = options.txRateLimit ?? 0;
    checkInt("rx rate limit", rxLimit, 0, 0x7fffffff);
    checkInt("tx rate limit", txLimit, 0, 0x7fffffff);
    const mtu = inner.capabilities.mtu;
    this.#rx = new Lane(options, options.rx, seed, mtu, { rateLimit: rxLimit, interval, queueLen });
    this.#tx = new Lane(options, options.tx, (seed ^ 0x2545f491) >>> 0, mtu, {
      rateLimit: txLimit,
      interval,
      queueLen,
    });
    this.#stats = Object.freeze({ rx: this.#rx.c, tx: this.#tx.c });
  }

  /** Counters per direction; the objects are live (updated in place). */
  get stats(): FaultStats {
    return this.#stats;
  }

  /**
   * The inner device's segment size (see {@linkcode DeviceWrapper.receivedSegmentSize}) when the
   * frame `receive` returned last came straight from it; 0 when that frame was held (delay,
   * reordering, duplication), as the inner device's report then belongs to another frame.
   *
   * @example
   * ```ts
   * import { FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const tun = Object.assign(new Loopback(), { receivedSegmentSize: 1448 });
   * const dev = new FaultInjector(tun, {});
   * tun.transmit(0, 60);
   * tun.commit();
   * assert.equal(dev.receive(0)?.length, 60);
   * assert.equal(dev.receivedSegmentSize, 1448);
   * ```
   */
  override get receivedSegmentSize(): number {
    return this.#rxDirect ? super.receivedSegmentSize : 0;
  }

  /**
   * The next received frame that survived the faults and is due at `now`, or `null`. Valid until
   * the next `receive`.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { FaultInjector, linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * const dev = new FaultInjector(a, { dropRate: 1 });
   * b.transmit(0, 10);
   * b.commit();
   * assert.equal(dev.receive(0), null);
   * assert.equal(dev.stats.rx.dropped, 1);
   * ```
   */
  override receive(now: Instant): Uint8Array | null {
    const lane = this.#rx;
    const inner = this.inner;
    if (this.#tx.queued) this.#flush(now);
    if (!lane.queued) {
      for (;;) {
        const frame = inner.receive(now);
        if (frame === null) return null;
        if (!this.#admitRx(now, frame)) continue;
        lane.corrupt(frame);
        this.#rxDirect = true;
        return frame;
      }
    }
    this.#rxDirect = false;
    lane.main.release();
    lane.held.release();
    // Pull while a frame (and its possible duplicate) fits, so nothing pulled is lost to a full
    // queue; frames left in the inner device wait there.
    const need = lane.duplicateRate > 0 && lane.main.capacity > 1 ? 2 : 1;
    while (lane.main.length + need <= lane.main.capacity) {
      const frame = inner.receive(now);
      if (frame === null) break;
      if (!this.#admitRx(now, frame)) continue;
      lane.corrupt(frame);
      lane.enqueue(now, frame, false);
    }
    const q = lane.due(now);
    return q === null ? null : q.pop();
  }

  /**
   * Whether a `transmit` would find room (inner room, or queue room when frames are held, and a
   * token when rate-limited). Releases due transmitted frames first.
   *
   * @param now The current instant.
   * @returns `true` when `transmit` would return a buffer.
   *
   * @example
   * ```ts
   * import { FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new FaultInjector(new Loopback()).canTransmit(0), true);
   * ```
   */
  override canTransmit(now: Instant): boolean {
    const lane = this.#tx;
    if (lane.queued) this.#flush(now);
    if (!lane.hasToken(now)) return false;
    return lane.queued ? !lane.main.isFull() : this.inner.canTransmit(now);
  }

  /**
   * A buffer of exactly `len` bytes, or `null` when there is no room, no token (counted in
   * `rateLimited`) or `len > mtu`. Faults are rolled at `commit`.
   *
   * @param now The current instant.
   * @param len The frame length.
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts
   * import { FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = new FaultInjector(new Loopback(), { txRateLimit: 1 });
   * dev.transmit(0, 1);
   * dev.commit();
   * assert.equal(dev.transmit(0, 1), null);
   * assert.equal(dev.stats.tx.rateLimited, 1);
   * ```
   */
  override transmit(now: Instant, len: number): Uint8Array | null {
    const lane = this.#tx;
    this.#pending = null;
    if (lane.queued) this.#flush(now);
    if (!lane.hasToken(now)) {
      lane.c.rateLimited++;
      lane.starved = true;
      return null;
    }
    let buf: Uint8Array | null;
    if (lane.queued) {
      if (len > this.inner.capabilities.mtu) {
        lane.c.tooBig++;
        return null;
      }
      buf = lane.main.reserve(len);
    } else {
      buf = this.inner.transmit(now, len);
    }
    this.#pending = buf;
    this.#pendingNow = now;
    return buf;
  }

  /**
   * Rolls the faults for the filled frame and sends, holds or drops it.
   *
   * @example
   * ```ts
   * import { FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const lo = new Loopback();
   * const dev = new FaultInjector(lo, { duplicateRate: 1 });
   * dev.transmit(0, 1);
   * dev.commit();
   * assert.equal(lo.pending, 2);
   * assert.equal(dev.stats.tx.duplicated, 1);
   * ```
   */
  override commit(): void {
    const buf = this.#pending;
    if (buf === null) return;
    this.#pending = null;
    const lane = this.#tx;
    lane.takeToken();
    if (!lane.admit(buf.length)) return; // not committed: the reservation is discarded
    lane.corrupt(buf);
    if (!lane.queued) {
      this.inner.commit();
      return;
    }
    lane.enqueue(this.#pendingNow, buf, true);
    this.#flush(this.#pendingNow);
  }

  /**
   * When the next held frame is due (or the drained token bucket refills, or the inner device's
   * own deadline), `NEVER` when nothing is held. Poll the device again at that instant.
   *
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = new FaultInjector(new Loopback(), { delay: 5 });
   * dev.transmit(100, 1);
   * dev.commit();
   * assert.equal(dev.nextDeadline(), 105);
   * ```
   */
  override nextDeadline(): Instant {
    let t = deviceDeadline(this.inner);
    const rx = this.#rx.deadline();
    const tx = this.#tx.deadline();
    const refill = this.#tx.refillAt();
    if (rx < t) t = rx;
    if (tx < t) t = tx;
    if (refill < t) t = refill;
    return t;
  }

  /** Counts a received frame and rolls size, token bucket and drop: `false` means drop it. */
  #admitRx(now: Instant, frame: Uint8Array): boolean {
    const lane = this.#rx;
    if (lane.rateLimit !== 0) {
      if (!lane.hasToken(now)) {
        lane.c.frames++;
        lane.c.rateLimited++;
        return false;
      }
      lane.takeToken();
    }
    return lane.admit(frame.length);
  }

  /** Hands due transmitted frames to the inner device until none is due or it is full. */
  #flush(now: Instant): void {
    const lane = this.#tx;
    const inner = this.inner;
    for (;;) {
      const q = lane.due(now);
      if (q === null) return;
      const frame = q.peek()!;
      const buf = inner.transmit(now, frame.length);
      if (buf === null) return;
      buf.set(frame);
      inner.commit();
      q.pop();
      q.release();
    }
  }
}
