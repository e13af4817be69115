/**
 * {@linkcode RingBuffer}: a bounded byte queue for TCP send and receive buffers, whose bound
 * ({@linkcode RingBuffer.capacity}) can be raised or lowered and whose memory grows with use.
 *
 * The queue has two regions: the *allocated* bytes (queued, readable from the front) and the
 * *unallocated* bytes (free space after them). Besides plain enqueue / dequeue it lets the TCP
 * receive path write out-of-order data straight into free space and commit it later, and lets the
 * send path read queued bytes for (re)transmission without consuming them.
 *
 * @module
 */

/** The first allocation of a large ring; it then doubles as needed, up to the capacity. */
const MIN_STORAGE = 4096;

/** Shared zero-length view, returned where there is nothing to show (so no view is allocated). */
const EMPTY = new Uint8Array(0);

/** Throws a `RangeError` unless `value` is a non-negative safe integer. */
function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${what} ${value}: must be a non-negative integer`);
  }
}

/** Copies `src[0, n)` into the ring `buf` at physical index `at`, wrapping at most once. */
function writeAt(buf: Uint8Array, at: number, src: Uint8Array, n: number): void {
  const head = buf.length - at;
  if (n <= head) {
    buf.set(n === src.length ? src : src.subarray(0, n), at);
  } else {
    buf.set(src.subarray(0, head), at);
    buf.set(src.subarray(head, n), 0);
  }
}

/** Copies `n` bytes of the ring `buf` from physical index `at` into `dst[0, n)`, wrapping at most once. */
function readAt(buf: Uint8Array, at: number, dst: Uint8Array, n: number): void {
  const head = buf.length - at;
  if (n <= head) {
    dst.set(buf.subarray(at, at + n), 0);
  } else {
    dst.set(buf.subarray(at), 0);
    dst.set(buf.subarray(0, n - head), head);
  }
}

/**
 * A byte ring holding at most {@linkcode RingBuffer.capacity} bytes.
 *
 * The backing `Uint8Array` is allocated on the first write and grows (doubling, from 4 KiB or
 * the capacity if smaller) only as far as the bytes written need, so an idle or lightly used
 * buffer costs little whatever its capacity; growing keeps every byte at its offset, queued or
 * written ahead. {@linkcode RingBuffer.resize} moves the bound and
 * {@linkcode RingBuffer.shrinkStorage} gives memory back. Operations copy with
 * `Uint8Array.prototype.set` (at most two copies when a range wraps) and allocate only when the
 * storage grows; {@linkcode RingBuffer.getAllocated} and {@linkcode RingBuffer.getUnallocated}
 * hand out a view.
 *
 * The read position is never moved implicitly (not even when the queue empties), so bytes placed
 * with {@linkcode RingBuffer.writeUnallocated} stay where they were written until committed or
 * overwritten. Only {@linkcode RingBuffer.clear} resets it.
 *
 * @example
 * ```ts
 * import { RingBuffer } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 *
 * const ring = new RingBuffer(8);
 * ring.enqueueSlice(new TextEncoder().encode("hello"));
 * const out = new Uint8Array(3);
 * ring.dequeueSlice(out);
 * assert.equal(new TextDecoder().decode(out), "hel");
 * assert.equal(ring.length, 2);
 * assert.equal(ring.window, 6);
 * ```
 */
export class RingBuffer {
  #capacity: number;
  #storage: Uint8Array | null = null;
  /** Physical index of the first queued byte, in [0, storage length) (0 without storage). */
  #read = 0;
  #length = 0;

  /**
   * Creates an empty ring. No memory for the bytes is taken until the first write.
   *
   * @param capacity The number of bytes it holds; 0 gives a ring that is always empty and full.
   * @throws {RangeError} When `capacity` is not a non-negative integer.
   */
  constructor(capacity: number) {
    checkCount("capacity", capacity);
    this.#capacity = capacity;
  }

  /**
   * The most bytes the ring holds (see {@linkcode RingBuffer.resize}).
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new RingBuffer(1460).capacity, 1460);
   * ```
   */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * The number of queued (allocated) bytes.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2]));
   * assert.equal(ring.length, 2);
   * ```
   */
  get length(): number {
    return this.#length;
  }

  /**
   * The number of free (unallocated) bytes: `capacity - length`.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1]));
   * assert.equal(ring.window, 3);
   * ```
   */
  get window(): number {
    return this.#capacity - this.#length;
  }

  /**
   * Whether no bytes are queued.
   *
   * @returns `true` when `length` is 0.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new RingBuffer(4).isEmpty(), true);
   * ```
   */
  isEmpty(): boolean {
    return this.#length === 0;
  }

  /**
   * Whether no free space is left.
   *
   * @returns `true` when `length` equals `capacity`.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(2);
   * ring.enqueueSlice(new Uint8Array([1, 2, 3]));
   * assert.equal(ring.isFull(), true);
   * ```
   */
  isFull(): boolean {
    return this.#length === this.#capacity;
  }

  /**
   * Copies as much of `src` as fits to the end of the queue.
   *
   * @param src The bytes to queue.
   * @returns The number of bytes queued (0 when full).
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(3);
   * assert.equal(ring.enqueueSlice(new Uint8Array([1, 2, 3, 4])), 3);
   * ```
   */
  enqueueSlice(src: Uint8Array): number {
    const n = Math.min(src.length, this.#capacity - this.#length);
    if (n === 0) return 0;
    writeAt(this.#fit(this.#length + n), this.#index(this.#length), src, n);
    this.#length += n;
    return n;
  }

  /**
   * Moves as many queued bytes as `dst` holds from the front of the queue into `dst`.
   *
   * @param dst Where to copy to; filled from index 0.
   * @returns The number of bytes moved (0 when empty).
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([7, 8]));
   * const dst = new Uint8Array(4);
   * assert.equal(ring.dequeueSlice(dst), 2);
   * assert.deepEqual([...dst], [7, 8, 0, 0]);
   * ```
   */
  dequeueSlice(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.#length);
    if (n === 0) return 0;
    readAt(this.#storage!, this.#read, dst, n);
    this.#read = this.#index(n);
    this.#length -= n;
    return n;
  }

  /**
   * Writes `src` into free space starting `offset` bytes after the end of the queue, without
   * queueing it. Used for out-of-order TCP data: the bytes land where they will be once the gap
   * before them is filled, and {@linkcode RingBuffer.enqueueUnallocated} commits them.
   *
   * @param offset Distance from the end of the queue, in bytes.
   * @param src The bytes to place.
   * @returns The number of bytes written: what fits in `window - offset`, or 0 past the window.
   * @throws {RangeError} When `offset` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(8);
   * ring.writeUnallocated(2, new Uint8Array([3, 4]));
   * ring.writeUnallocated(0, new Uint8Array([1, 2]));
   * ring.enqueueUnallocated(4);
   * const out = new Uint8Array(4);
   * ring.dequeueSlice(out);
   * assert.deepEqual([...out], [1, 2, 3, 4]);
   * ```
   */
  writeUnallocated(offset: number, src: Uint8Array): number {
    checkCount("offset", offset);
    const free = this.#capacity - this.#length;
    if (offset >= free) return 0;
    const n = Math.min(src.length, free - offset);
    if (n === 0) return 0;
    writeAt(this.#fit(this.#length + offset + n), this.#index(this.#length + offset), src, n);
    return n;
  }

  /**
   * Commits `count` bytes of free space after the end of the queue (normally written before with
   * {@linkcode RingBuffer.writeUnallocated} or through {@linkcode RingBuffer.getUnallocated}).
   *
   * @param count How many bytes to append to the queue.
   * @throws {RangeError} When `count` is negative, not an integer, or larger than `window`.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.writeUnallocated(0, new Uint8Array([9]));
   * ring.enqueueUnallocated(1);
   * assert.equal(ring.length, 1);
   * ```
   */
  enqueueUnallocated(count: number): void {
    checkCount("count", count);
    const free = this.#capacity - this.#length;
    if (count > free) {
      throw new RangeError(`Cannot commit ${count} bytes: only ${free} are free`);
    }
    if (count > 0) this.#fit(this.#length + count); // Committed bytes must be readable.
    this.#length += count;
  }

  /**
   * Copies queued bytes starting `offset` bytes after the front into `dst`, without consuming
   * them (how TCP reads data to send or retransmit).
   *
   * @param offset Distance from the front of the queue, in bytes.
   * @param dst Where to copy to; filled from index 0.
   * @returns The number of bytes copied: up to `dst.length`, 0 when `offset >= length`.
   * @throws {RangeError} When `offset` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2, 3]));
   * const dst = new Uint8Array(2);
   * assert.equal(ring.readAllocated(1, dst), 2);
   * assert.deepEqual([...dst], [2, 3]);
   * assert.equal(ring.length, 3); // reading does not dequeue
   * ```
   */
  readAllocated(offset: number, dst: Uint8Array): number {
    checkCount("offset", offset);
    if (offset >= this.#length) return 0;
    const n = Math.min(dst.length, this.#length - offset);
    if (n === 0) return 0;
    readAt(this.#storage!, this.#index(offset), dst, n);
    return n;
  }

  /**
   * A view of queued bytes starting `offset` bytes after the front, without copying. The view is
   * contiguous, so it stops at the physical end of the ring: call again with a larger offset for
   * the rest. It aliases the ring and is valid until the bytes are dequeued.
   *
   * @param offset Distance from the front of the queue, in bytes.
   * @param maxLen The longest view wanted.
   * @returns A subarray of at most `maxLen` bytes; empty when `offset >= length` or `maxLen` is 0.
   * @throws {RangeError} When `offset` or `maxLen` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2, 3]));
   * assert.deepEqual([...ring.getAllocated(1, 10)], [2, 3]);
   * ```
   */
  getAllocated(offset: number, maxLen: number): Uint8Array {
    checkCount("offset", offset);
    checkCount("maximum length", maxLen);
    if (offset >= this.#length || maxLen === 0) return EMPTY;
    const at = this.#index(offset);
    const buf = this.#storage!;
    const n = Math.min(maxLen, this.#length - offset, buf.length - at);
    return buf.subarray(at, at + n);
  }

  /**
   * A writable view of free space starting `offset` bytes after the end of the queue, for filling
   * in place; commit with {@linkcode RingBuffer.enqueueUnallocated}. Contiguous, so it stops at the
   * physical end of the ring.
   *
   * @param offset Distance from the end of the queue, in bytes.
   * @param maxLen The longest view wanted.
   * @returns A subarray of at most `maxLen` bytes; empty when `offset >= window` or `maxLen` is 0.
   * @throws {RangeError} When `offset` or `maxLen` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * const free = ring.getUnallocated(0, 2);
   * free.set([5, 6]);
   * ring.enqueueUnallocated(free.length);
   * assert.deepEqual([...ring.getAllocated(0, 4)], [5, 6]);
   * ```
   */
  getUnallocated(offset: number, maxLen: number): Uint8Array {
    checkCount("offset", offset);
    checkCount("maximum length", maxLen);
    const free = this.#capacity - this.#length;
    if (offset >= free || maxLen === 0) return EMPTY;
    const buf = this.#fit(this.#length + offset + Math.min(maxLen, free - offset));
    const at = this.#index(this.#length + offset);
    const n = Math.min(maxLen, free - offset, buf.length - at);
    return buf.subarray(at, at + n);
  }

  /**
   * Drops `count` bytes from the front of the queue (data that was read with
   * {@linkcode RingBuffer.readAllocated} or {@linkcode RingBuffer.getAllocated}, or acknowledged).
   *
   * @param count How many bytes to drop.
   * @throws {RangeError} When `count` is negative, not an integer, or larger than `length`.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2, 3]));
   * ring.dequeueAllocated(2);
   * assert.deepEqual([...ring.getAllocated(0, 4)], [3]);
   * ```
   */
  dequeueAllocated(count: number): void {
    checkCount("count", count);
    if (count > this.#length) {
      throw new RangeError(`Cannot drop ${count} bytes: only ${this.#length} are queued`);
    }
    this.#read = this.#index(count);
    this.#length -= count;
  }

  /**
   * Empties the queue and forgets anything written into free space. The backing memory is kept.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2]));
   * ring.clear();
   * assert.equal(ring.isEmpty(), true);
   * assert.equal(ring.window, 4);
   * ```
   */
  clear(): void {
    this.#read = 0;
    this.#length = 0;
  }

  /**
   * Empties the queue and lets go of the backing memory (a closed connection keeps no buffers);
   * the next write allocates it again.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2]));
   * ring.release();
   * assert.equal(ring.isEmpty(), true);
   * assert.equal(ring.enqueueSlice(new Uint8Array([3])), 1);
   * assert.equal(ring.length, 1);
   * ```
   */
  release(): void {
    this.clear();
    this.#storage = null;
  }

  /**
   * Sets the most bytes the ring holds. Raising it never moves or copies anything; lowering it
   * below the storage size copies the first `capacity` bytes (queued ones and those written
   * ahead) into smaller storage. Offsets are kept either way.
   *
   * @param capacity The new bound, at least {@linkcode RingBuffer.length}.
   * @throws {RangeError} When `capacity` is not an integer, or below the queued length.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(4);
   * ring.enqueueSlice(new Uint8Array([1, 2, 3, 4]));
   * ring.resize(8);
   * ring.enqueueSlice(new Uint8Array([5, 6]));
   * assert.equal(ring.capacity, 8);
   * assert.deepEqual([...ring.getAllocated(0, 8)], [1, 2, 3, 4, 5, 6]);
   * ```
   */
  resize(capacity: number): void {
    checkCount("capacity", capacity);
    if (capacity < this.#length) {
      throw new RangeError(`Cannot resize to ${capacity} bytes: ${this.#length} are queued`);
    }
    this.#capacity = capacity;
    const buf = this.#storage;
    if (buf !== null && buf.length > capacity) this.#move(capacity);
  }

  /**
   * The bytes of memory the ring holds now (0 before the first write or after
   * {@linkcode RingBuffer.shrinkStorage} of an empty ring).
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(1 << 20);
   * ring.enqueueSlice(new Uint8Array(100));
   * assert.equal(ring.storageSize, 4096);
   * ```
   */
  get storageSize(): number {
    return this.#storage === null ? 0 : this.#storage.length;
  }

  /**
   * Gives memory back: an empty ring drops its storage (bytes written ahead with
   * {@linkcode RingBuffer.writeUnallocated} are forgotten), a ring whose queued bytes fill less
   * than a quarter of its storage moves them into storage half as large. Queued bytes and their
   * offsets are kept.
   *
   * @returns The storage size now.
   *
   * @example
   * ```ts
   * import { RingBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const ring = new RingBuffer(1 << 20);
   * ring.enqueueSlice(new Uint8Array(100_000));
   * ring.dequeueAllocated(100_000);
   * assert.equal(ring.shrinkStorage(), 0);
   * ```
   */
  shrinkStorage(): number {
    const buf = this.#storage;
    if (buf === null) return 0;
    if (this.#length === 0) {
      this.#storage = null;
      this.#read = 0;
      return 0;
    }
    const half = buf.length >>> 1;
    if (this.#length <= buf.length >>> 2 && half >= MIN_STORAGE) this.#move(half);
    return this.#storage!.length;
  }

  /** Storage of at least `end` bytes (`end` ≤ capacity), grown with offsets kept. */
  #fit(end: number): Uint8Array {
    const buf = this.#storage;
    if (buf !== null && buf.length >= end) return buf;
    const old = buf === null ? 0 : buf.length;
    let size = old * 2 > MIN_STORAGE ? old * 2 : MIN_STORAGE;
    if (size < end) size = end;
    if (size > this.#capacity) size = this.#capacity;
    return this.#move(size);
  }

  /** Moves the first min(size, old size) logical bytes to new storage of `size` bytes at offset 0. */
  #move(size: number): Uint8Array {
    const next = new Uint8Array(size);
    const buf = this.#storage;
    if (buf !== null) {
      const keep = buf.length < size ? buf.length : size;
      readAt(buf, this.#read, next, keep);
    }
    this.#read = 0;
    return this.#storage = next;
  }

  /** Physical index of the byte `offset` after the read position; `offset` ≤ storage length. */
  #index(offset: number): number {
    const i = this.#read + offset;
    const size = this.#storage === null ? 0 : this.#storage.length;
    return i >= size ? i - size : i;
  }
}
