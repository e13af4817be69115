/**
 * An in-memory link between two devices ({@linkcode linkPair}) and the bounded, preallocated frame
 * queue ({@linkcode FrameQueue}) it, the loopback and the fault injector are built on.
 *
 * @module
 */

import { checkChecksum, checkInt, checksumAll, Medium } from "./device.ts";
import { checkMtu, checkOneOf, checkOptions } from "../_validate.ts";
import type { ChecksumCapabilities, Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import { NEVER } from "../time.ts";
import { checksumBuffer } from "../wire/_checksum_fast.ts";
import type { Instant } from "../time.ts";

/** Slots are allocated together in chunks of about this many bytes (at least one slot). */
const SLOT_CHUNK_BYTES = 1 << 20;

/**
 * A bounded FIFO of frames held in reused slot buffers of `frameSize` bytes. A slot is allocated
 * the first time it is used (with its neighbours, about 1 MiB at a time) and kept for the
 * queue's lifetime, so a queue in steady state allocates nothing. Each frame may carry a time stamp (a release time, an arrival time).
 *
 * Writing is two-step, like the device contract: {@linkcode FrameQueue.reserve} hands out the
 * tail slot and {@linkcode FrameQueue.commit} appends it. Reading lends the head slot:
 * {@linkcode FrameQueue.pop} returns a view that stays valid, and is not overwritten by later
 * reservations, until the next `pop` or {@linkcode FrameQueue.release}.
 *
 * @example
 * ```ts
 * import { FrameQueue } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const q = new FrameQueue(4, 1500);
 * q.reserve(2)!.set([7, 8]);
 * q.commit(10);
 * assert.equal(q.peekStamp(), 10);
 * assert.deepEqual(q.pop(), new Uint8Array([7, 8]));
 * ```
 */
export class FrameQueue {
  readonly #capacity: number;
  readonly #frameSize: number;
  readonly #slots: (Uint8Array | undefined)[];
  readonly #views: (Uint8Array | undefined)[];
  readonly #lens: Uint32Array;
  readonly #stamps: Float64Array;
  #head = 0;
  #count = 0;
  #lent = false;
  #reserved = -1;

  /**
   * Creates an empty queue.
   *
   * @param capacity The number of slots (frames), at least 1.
   * @param frameSize The largest frame in bytes, at least 1.
   */
  constructor(capacity: number, frameSize: number) {
    checkInt("queue length", capacity, 1, 1 << 20);
    checkInt("frame size", frameSize, 1, 1 << 24);
    this.#capacity = capacity;
    this.#frameSize = frameSize;
    this.#slots = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.#views = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.#lens = new Uint32Array(capacity);
    this.#stamps = new Float64Array(capacity);
  }

  /** The number of slots. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The largest frame a slot holds. */
  get frameSize(): number {
    return this.#frameSize;
  }

  /** Frames waiting to be popped (a lent frame is not counted). */
  get length(): number {
    return this.#count;
  }

  /**
   * Whether no frame waits.
   *
   * @returns `true` when `length` is 0.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new FrameQueue(1, 64).isEmpty(), true);
   * ```
   */
  isEmpty(): boolean {
    return this.#count === 0;
  }

  /**
   * Whether a reservation would fail: every slot holds a waiting or lent frame.
   *
   * @returns `true` when full.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(1, 64);
   * q.reserve(1);
   * q.commit();
   * assert.equal(q.isFull(), true);
   * ```
   */
  isFull(): boolean {
    return this.#count + (this.#lent ? 1 : 0) >= this.#capacity;
  }

  /**
   * Hands out the tail slot as a view of exactly `len` bytes without appending it. A second
   * reservation before `commit` hands out the same slot again.
   *
   * @param len The frame length, at most `frameSize`.
   * @returns The view to fill, or `null` when the queue is full or `len > frameSize`.
   * @throws {RangeError} When `len` is negative or not an integer.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new FrameQueue(1, 64).reserve(100), null);
   * ```
   */
  reserve(len: number): Uint8Array | null {
    if ((len >>> 0) !== len) {
      throw new RangeError(`Invalid frame length ${len}: expected a non-negative integer`);
    }
    if (len > this.#frameSize || this.isFull()) return null;
    let i = this.#head + this.#count + (this.#lent ? 1 : 0);
    if (i >= this.#capacity) i -= this.#capacity;
    this.#reserved = i;
    this.#lens[i] = len;
    return this.#view(i, len);
  }

  /**
   * Appends the reserved frame. Does nothing without a reservation.
   *
   * @param stamp A time stamp kept with the frame (default 0).
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(2, 64);
   * q.commit(); // nothing reserved: no effect
   * assert.equal(q.length, 0);
   * ```
   */
  commit(stamp: Instant = 0): void {
    const i = this.#reserved;
    if (i < 0) return;
    this.#reserved = -1;
    this.#stamps[i] = stamp;
    this.#count++;
  }

  /**
   * Copies `frame` in and appends it.
   *
   * @param frame The bytes to append.
   * @param stamp A time stamp kept with the frame (default 0).
   * @returns `false` when the queue is full or the frame is too big.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(2, 64);
   * assert.equal(q.push(new Uint8Array(3), 5), true);
   * assert.equal(q.peekStamp(), 5);
   * ```
   */
  push(frame: Uint8Array, stamp: Instant = 0): boolean {
    const buf = this.reserve(frame.length);
    if (buf === null) return false;
    buf.set(frame);
    this.commit(stamp);
    return true;
  }

  /**
   * The head frame without removing it, or `null` when empty.
   *
   * @returns A view of the head slot.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new FrameQueue(1, 64).peek(), null);
   * ```
   */
  peek(): Uint8Array | null {
    if (this.#count === 0) return null;
    const i = this.#lent ? this.#next(this.#head) : this.#head;
    return this.#view(i, this.#lens[i]!);
  }

  /**
   * How many more frames fit: the capacity less the queued frames and the one lent by `pop`.
   *
   * @returns Free slots.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(4, 64);
   * q.push(new Uint8Array(1));
   * q.pop();
   * assert.equal(q.room, 3); // the popped frame is still lent
   * ```
   */
  get room(): number {
    return this.#capacity - this.#count - (this.#lent ? 1 : 0);
  }

  /**
   * The newest committed frame (the tail, not yet popped), or `null` when empty. A sender may
   * rewrite it in place before it leaves (the UDP tunnel's ACK coalescing does).
   *
   * @returns A view of the tail slot.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(4, 64);
   * q.push(new Uint8Array([1]));
   * q.push(new Uint8Array([2, 3]));
   * assert.deepEqual(q.newest(), new Uint8Array([2, 3]));
   * ```
   */
  newest(): Uint8Array | null {
    if (this.#count === 0) return null;
    let i = this.#head + this.#count - (this.#lent ? 0 : 1);
    if (i >= this.#capacity) i -= this.#capacity;
    return this.#view(i, this.#lens[i]!);
  }

  /**
   * The head frame's time stamp, or `NEVER` when empty.
   *
   * @returns The stamp given to `commit` / `push`.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new FrameQueue(1, 64).peekStamp(), Infinity);
   * ```
   */
  peekStamp(): Instant {
    if (this.#count === 0) return NEVER;
    return this.#stamps[this.#lent ? this.#next(this.#head) : this.#head]!;
  }

  /**
   * Removes the head frame and lends it out: the view stays valid until the next `pop` or
   * `release`. Releases the previously lent frame first.
   *
   * @returns The frame, or `null` when empty.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(2, 64);
   * q.push(new Uint8Array([1]));
   * assert.deepEqual(q.pop(), new Uint8Array([1]));
   * assert.equal(q.pop(), null);
   * ```
   */
  pop(): Uint8Array | null {
    this.release();
    if (this.#count === 0) return null;
    const i = this.#head;
    this.#count--;
    this.#lent = true;
    return this.#view(i, this.#lens[i]!);
  }

  /**
   * Frees the slot of the frame lent by the last `pop`, if any.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(1, 64);
   * q.push(new Uint8Array(1));
   * q.pop();
   * assert.equal(q.isFull(), true); // the popped frame is still lent
   * q.release();
   * assert.equal(q.isFull(), false);
   * ```
   */
  release(): void {
    if (!this.#lent) return;
    this.#lent = false;
    this.#head = this.#next(this.#head);
  }

  /**
   * Drops every frame, the lent one and any reservation.
   *
   * @example
   * ```ts
   * import { FrameQueue } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const q = new FrameQueue(2, 64);
   * q.push(new Uint8Array(1));
   * q.clear();
   * assert.equal(q.length, 0);
   * ```
   */
  clear(): void {
    this.#head = 0;
    this.#count = 0;
    this.#lent = false;
    this.#reserved = -1;
  }

  #next(i: number): number {
    return i + 1 === this.#capacity ? 0 : i + 1;
  }

  /**
   * Allocates the chunk of slots that holds slot `i` and returns slot `i`. Slots are allocated
   * in chunks of about {@linkcode SLOT_CHUNK_BYTES}: one `ArrayBuffer` per frame costs tens to
   * hundreds of microseconds each here, one per chunk about the same.
   */
  #allocate(i: number): Uint8Array {
    const size = this.#frameSize;
    const per = Math.max(1, Math.floor(SLOT_CHUNK_BYTES / size));
    const first = i - (i % per);
    const count = Math.min(per, this.#capacity - first);
    // Frames in a checksum buffer are summed where they lie (TCP/UDP/ICMP checksums, no copy).
    const chunk = checksumBuffer(count * size);
    for (let k = 0; k < count; k++) {
      if (this.#slots[first + k] === undefined) {
        this.#slots[first + k] = chunk.subarray(k * size, (k + 1) * size);
      }
    }
    return this.#slots[i]!;
  }

  /** A view of `len` bytes of slot `i`; reuses the cached view when the length matches. */
  #view(i: number, len: number): Uint8Array {
    const cached = this.#views[i];
    if (cached !== undefined && cached.length === len) return cached;
    let slot = this.#slots[i];
    if (slot === undefined) slot = this.#allocate(i);
    const view = len === this.#frameSize ? slot : slot.subarray(0, len);
    this.#views[i] = view;
    return view;
  }
}

/**
 * Counters kept by a {@linkcode LinkDevice} and the {@linkcode Loopback}.
 *
 * @example
 * ```ts
 * import { linkPair } from "@smol/net/phy";
 * import type { LinkStats } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * const sent: LinkStats = a.stats; // live: updated in place
 * a.transmit(0, 60);
 * a.commit();
 * b.receive(0);
 * assert.equal(sent.framesSent, 1);
 * assert.equal(sent.bytesSent, 60);
 * assert.equal(b.stats.framesReceived, 1);
 * ```
 */
export interface LinkStats {
  /** Frames committed by this device. */
  readonly framesSent: number;
  /** Frames returned by this device's `receive`. */
  readonly framesReceived: number;
  /** Bytes committed by this device. */
  readonly bytesSent: number;
  /** Bytes returned by this device's `receive`. */
  readonly bytesReceived: number;
  /** `transmit` calls refused because the queue toward the receiver was full. */
  readonly dropsQueueFull: number;
  /** `transmit` calls refused because `len` exceeded the MTU. */
  readonly dropsTooBig: number;
}

/**
 * Options for {@linkcode linkPair}.
 *
 * @example
 * ```ts
 * import { linkPair, Medium } from "@smol/net/phy";
 * import type { LinkOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: LinkOptions = { medium: Medium.Ethernet, queueLen: 16 };
 * const [a] = linkPair(opts);
 * assert.equal(a.capabilities.mtu, 1514); // the Ethernet default includes the header
 * for (let i = 0; i < 16; i++) {
 *   a.transmit(0, 60);
 *   a.commit();
 * }
 * assert.equal(a.transmit(0, 60), null); // the peer's queue holds 16 frames
 * ```
 */
export interface LinkOptions {
  /**
   * MTU in bytes; default 1500 for IP medium, 1514 for Ethernet (header included). At least 68
   * bytes of IP (RFC 791; a stack with IPv6 addresses needs 1280, RFC 8200), at most 65535.
   */
  mtu?: number;
  /** Medium of both ends; default IP. */
  medium?: Medium;
  /** Frames each direction holds before `transmit` returns `null`; default 256. */
  queueLen?: number;
  /** Checksum capabilities of both ends; default: compute and verify everything. */
  checksum?: ChecksumCapabilities;
}

/** Mutable twin of {@linkcode LinkStats}. */
interface Counters {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  dropsQueueFull: number;
  dropsTooBig: number;
}

/** A fresh zeroed counter record. */
export function newLinkCounters(): Counters {
  return {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dropsQueueFull: 0,
    dropsTooBig: 0,
  };
}

/**
 * One end of an in-memory link made by {@linkcode linkPair}. Transmitting writes straight into
 * the peer's receive queue (no copy); receiving lends the head of this end's queue.
 *
 * @example
 * ```ts
 * import { linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * a.transmit(0, 4)!.set([1, 2, 3, 4]);
 * a.commit();
 * assert.deepEqual(b.receive(0), new Uint8Array([1, 2, 3, 4]));
 * assert.equal(b.stats.framesReceived, 1);
 * ```
 */
export class LinkDevice implements Device, ReadinessHook {
  /** Medium, MTU and checksum capabilities shared by both ends. */
  readonly capabilities: DeviceCapabilities;
  readonly #rx: FrameQueue;
  #peer: LinkDevice | null = null;
  #pendingLen = -1;
  #onReadable: (() => void) | null = null;
  readonly #stats: Counters = newLinkCounters();

  /**
   * Creates an unconnected end; use {@linkcode linkPair} instead.
   *
   * @param capabilities The end's capabilities.
   * @param queueLen Frames its receive queue holds.
   * @internal
   */
  constructor(capabilities: DeviceCapabilities, queueLen: number) {
    this.capabilities = capabilities;
    this.#rx = new FrameQueue(queueLen, capabilities.mtu);
  }

  /** Counters for this end; the object is live (updated in place). */
  get stats(): LinkStats {
    return this.#stats;
  }

  /** Frames waiting in this end's receive queue. */
  get pending(): number {
    return this.#rx.length;
  }

  /**
   * Connects two ends in both directions.
   *
   * @param a One end.
   * @param b The other end.
   * @internal
   */
  static connect(a: LinkDevice, b: LinkDevice): void {
    a.#peer = b;
    b.#peer = a;
  }

  /**
   * The next frame sent by the peer, valid until the next `receive`, or `null`.
   *
   * @param _now The current instant (unused: the link has no delay).
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(linkPair()[0].receive(0), null);
   * ```
   */
  receive(_now: Instant): Uint8Array | null {
    const frame = this.#rx.pop();
    if (frame === null) return null;
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += frame.length;
    return frame;
  }

  /**
   * Whether the queue toward the peer has room.
   *
   * @param _now The current instant (unused).
   * @returns `true` when a `transmit` would succeed for any `len <= mtu`.
   *
   * @example
   * ```ts
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(linkPair()[0].canTransmit(0), true);
   * ```
   */
  canTransmit(_now: Instant): boolean {
    return this.#peer !== null && !this.#peer.#rx.isFull();
  }

  /**
   * A buffer of exactly `len` bytes in the peer's receive queue, or `null` when that queue is full
   * (counted in `dropsQueueFull`) or `len > mtu` (counted in `dropsTooBig`).
   *
   * @param _now The current instant (unused).
   * @param len The frame length.
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [a] = linkPair({ mtu: 100 });
   * assert.equal(a.transmit(0, 101), null);
   * assert.equal(a.stats.dropsTooBig, 1);
   * ```
   */
  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pendingLen = -1;
    if (len > this.capabilities.mtu) {
      this.#stats.dropsTooBig++;
      return null;
    }
    const peer = this.#peer;
    const buf = peer === null ? null : peer.#rx.reserve(len);
    if (buf === null) {
      this.#stats.dropsQueueFull++;
      return null;
    }
    this.#pendingLen = len;
    return buf;
  }

  /**
   * Delivers the frame of the last `transmit` to the peer, and runs the peer's readiness callback
   * when its queue was empty.
   *
   * @example
   * ```ts
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * a.transmit(0, 1);
   * a.commit();
   * assert.equal(b.pending, 1);
   * ```
   */
  commit(): void {
    const len = this.#pendingLen;
    const peer = this.#peer;
    if (len < 0 || peer === null) return;
    this.#pendingLen = -1;
    const wasEmpty = peer.#rx.isEmpty();
    peer.#rx.commit();
    this.#stats.framesSent++;
    this.#stats.bytesSent += len;
    if (wasEmpty && peer.#onReadable !== null) peer.#onReadable();
  }

  /**
   * Registers the callback run when a frame is enqueued to this end while none was pending (edge
   * triggered, once per empty-to-non-empty transition). It runs synchronously inside the peer's
   * `commit`, so it must be cheap and must not call into any device: the async layer uses it to
   * wake its loop (resolve a promise, schedule with `setImmediate`). A new registration replaces
   * the old one; register a no-op function to stop notifications.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * let wakes = 0;
   * b.onReadable(() => wakes++);
   * for (let i = 0; i < 3; i++) {
   *   a.transmit(0, 1);
   *   a.commit();
   * }
   * assert.equal(wakes, 1);
   * ```
   */
  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }
}

/**
 * Two devices joined by an in-memory link, with a bounded queue in each direction. A full queue
 * makes `transmit` return `null` (counted) so the sender retries on its next poll. Frames arrive
 * byte-exact and in order; use {@linkcode FaultInjector} for loss, delay and the rest.
 *
 * @param options MTU, medium, queue length and checksum capabilities.
 * @returns The two ends.
 * @throws {TypeError} When an option has the wrong type or `medium` is unknown.
 * @throws {RangeError} When the MTU cannot carry a 68-byte IPv4 packet (RFC 791) or exceeds
 * 65535 bytes of IP, or the queue length is not from 1 to 2^20.
 *
 * @example
 * ```ts
 * import { linkPair, Medium } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair({ medium: Medium.Ethernet });
 * assert.equal(a.capabilities.mtu, 1514);
 * b.transmit(0, 2)!.set([0xab, 0xcd]);
 * b.commit();
 * assert.deepEqual(a.receive(0), new Uint8Array([171, 205]));
 * ```
 */
export function linkPair(options: LinkOptions = {}): [LinkDevice, LinkDevice] {
  checkOptions("options", options);
  const medium = options.medium === undefined
    ? Medium.Ip
    : checkOneOf("medium", options.medium, [Medium.Ethernet, Medium.Ip]);
  const mtu = options.mtu ?? (medium === Medium.Ethernet ? 1514 : 1500);
  checkMtu("mtu", mtu, medium);
  const queueLen = options.queueLen ?? 256;
  checkInt("queueLen", queueLen, 1, 1 << 20);
  const checksum = options.checksum === undefined
    ? checksumAll()
    : checkChecksum("checksum", options.checksum);
  const caps = (): DeviceCapabilities =>
    Object.freeze({
      medium,
      mtu,
      checksum: Object.freeze({ ...checksum }),
      maxBurstSize: null,
    });
  const a = new LinkDevice(caps(), queueLen);
  const b = new LinkDevice(caps(), queueLen);
  LinkDevice.connect(a, b);
  return [a, b];
}
