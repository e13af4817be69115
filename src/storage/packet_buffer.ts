/**
 * {@linkcode PacketBuffer}: a FIFO of datagrams with metadata, for UDP, ICMP and raw sockets.
 *
 * It is bounded twice: by the number of datagrams (slots) and by the payload bytes. Payloads are
 * stored back to back in one byte ring, and a payload is never split: when it does not fit before
 * the physical end of the ring, the rest of the ring is skipped and the payload starts at 0. The
 * skipped bytes (padding) are freed together with the datagram in front of them.
 *
 * @module
 */

/** Shared zero-length view for empty payloads (so none is allocated). */
const EMPTY = new Uint8Array(0);

/** Per-slot numbers in `#layout`: payload offset, payload size, padding skipped after it. */
const SLOT = { OFFSET: 0, SIZE: 1, TRAIL: 2, STRIDE: 3 } as const;

/** Throws a `RangeError` unless `value` is a non-negative safe integer. */
function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${what} ${value}: must be a non-negative integer`);
  }
}

/**
 * The bounds of a {@linkcode PacketBuffer}.
 *
 * @example
 * ```ts
 * import { PacketBuffer, type PacketBufferOptions } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 * const opts: PacketBufferOptions = { slots: 16, bytes: 16 * 1500 };
 * assert.equal(new PacketBuffer<number>(opts).capacity, 16);
 * ```
 */
export interface PacketBufferOptions {
  /** The most datagrams held at once. */
  readonly slots: number;
  /** The most payload bytes held at once (padding included, see {@linkcode PacketBuffer}). */
  readonly bytes: number;
}

/**
 * A datagram taken from (or looked at in) a {@linkcode PacketBuffer}.
 *
 * @typeParam M The metadata type stored with each datagram.
 *
 * @example
 * ```ts
 * import { PacketBuffer, type PacketBufferEntry } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 * const buf = new PacketBuffer<string>({ slots: 1, bytes: 4 });
 * buf.enqueue(1, "a")?.set([1]);
 * const entry: PacketBufferEntry<string> | null = buf.dequeue();
 * assert.ok(entry);
 * assert.equal(entry.meta, "a");
 * assert.deepEqual([...entry.payload], [1]);
 * ```
 */
export interface PacketBufferEntry<M> {
  /** The metadata given to `enqueue`. */
  readonly meta: M;
  /** The payload: a view into the buffer, valid until the next `enqueue` or `clear`. */
  readonly payload: Uint8Array;
}

/**
 * A ring of datagrams with per-datagram metadata `M` (for example the remote endpoint).
 *
 * The payload bytes are allocated on the first non-empty {@linkcode PacketBuffer.enqueue}.
 * Zero-length datagrams are allowed and take a slot but no bytes.
 *
 * @typeParam M The metadata type stored with each datagram.
 *
 * @example
 * ```ts
 * import { PacketBuffer } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 *
 * const buf = new PacketBuffer<{ port: number }>({ slots: 4, bytes: 64 });
 * buf.enqueue(3, { port: 53 })?.set([1, 2, 3]);
 * const d = buf.dequeue();
 * assert.ok(d);
 * assert.equal(d.meta.port, 53);
 * assert.deepEqual([...d.payload], [1, 2, 3]);
 * ```
 */
export class PacketBuffer<M> {
  #slots: number;
  #bytes: number;
  #metas: (M | undefined)[];
  /** `SLOT.STRIDE` numbers per slot, see `SLOT`. */
  #layout: Float64Array;
  /** Slot index of the oldest datagram. */
  #head = 0;
  #count = 0;
  #storage: Uint8Array | null = null;
  /** Physical index where the oldest non-empty payload starts; 0 when no bytes are used. */
  #read = 0;
  /** Payload and padding bytes in use: the circular range starting at `#read`. */
  #used = 0;
  /** Slot of the newest non-empty datagram; meaningful while `#used > 0`. */
  #lastData = 0;

  /**
   * Creates an empty buffer.
   *
   * @param opts The slot count and byte capacity; either may be 0.
   * @throws {RangeError} When a bound is not a non-negative integer.
   */
  constructor(opts: PacketBufferOptions) {
    checkCount("slot count", opts.slots);
    checkCount("byte capacity", opts.bytes);
    this.#slots = opts.slots;
    this.#bytes = opts.bytes;
    this.#metas = new Array<M | undefined>(opts.slots).fill(undefined);
    this.#layout = new Float64Array(SLOT.STRIDE * opts.slots);
  }

  /**
   * The most datagrams held at once.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new PacketBuffer({ slots: 8, bytes: 1024 }).capacity, 8);
   * ```
   */
  get capacity(): number {
    return this.#slots;
  }

  /**
   * The most payload bytes held at once; a datagram larger than this never fits.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new PacketBuffer({ slots: 8, bytes: 1024 }).byteCapacity, 1024);
   * ```
   */
  get byteCapacity(): number {
    return this.#bytes;
  }

  /**
   * The number of datagrams held.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<null>({ slots: 8, bytes: 1024 });
   * buf.enqueue(10, null);
   * assert.equal(buf.length, 1);
   * ```
   */
  get length(): number {
    return this.#count;
  }

  /**
   * Whether no datagram is held.
   *
   * @returns `true` when `length` is 0.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new PacketBuffer({ slots: 1, bytes: 1 }).isEmpty(), true);
   * ```
   */
  isEmpty(): boolean {
    return this.#count === 0;
  }

  /**
   * Whether every slot is taken. When it is not, an `enqueue` may still be refused for lack of
   * payload bytes.
   *
   * @returns `true` when `length` equals `capacity`.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<null>({ slots: 1, bytes: 16 });
   * buf.enqueue(0, null);
   * assert.equal(buf.isFull(), true);
   * ```
   */
  isFull(): boolean {
    return this.#count === this.#slots;
  }

  /**
   * Reserves room for a datagram of `size` bytes with metadata `meta` and returns the region to
   * fill. The datagram counts as held at once.
   *
   * @param size The payload length in bytes (0 is allowed).
   * @param meta The metadata to keep with it.
   * @returns A writable view of exactly `size` bytes, or `null` when no slot is free, the payload
   *   bytes do not fit, or `size > byteCapacity` (never fits).
   * @throws {RangeError} When `size` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<string>({ slots: 4, bytes: 8 });
   * assert.equal(buf.enqueue(6, "a")?.length, 6);
   * assert.equal(buf.enqueue(6, "b"), null);
   * ```
   */
  enqueue(size: number, meta: M): Uint8Array | null {
    checkCount("size", size);
    if (this.#count === this.#slots || size > this.#bytes) return null;
    let slot = this.#head + this.#count;
    if (slot >= this.#slots) slot -= this.#slots;
    const l = this.#layout;
    let offset = 0;
    if (size > 0) {
      const cap = this.#bytes;
      const free = cap - this.#used;
      let write = this.#read + this.#used;
      if (write >= cap) write -= cap;
      const tail = cap - write;
      // `tail` exceeds `free` only when the used bytes already wrap; then `free` is contiguous.
      if (size <= tail && size <= free) {
        offset = write;
        this.#used += size;
      } else if (tail + size <= free) {
        // Skip to 0; the skipped tail is freed with the datagram that ends where it starts.
        l[SLOT.STRIDE * this.#lastData + SLOT.TRAIL] = tail;
        this.#used += tail + size;
      } else {
        return null;
      }
      this.#lastData = slot;
    }
    this.#metas[slot] = meta;
    const at = SLOT.STRIDE * slot;
    l[at + SLOT.OFFSET] = offset;
    l[at + SLOT.SIZE] = size;
    l[at + SLOT.TRAIL] = 0;
    this.#count++;
    if (size === 0) return EMPTY;
    this.#storage ??= new Uint8Array(this.#bytes);
    return this.#storage.subarray(offset, offset + size);
  }

  /**
   * Takes the oldest datagram.
   *
   * @returns Its metadata and payload, or `null` when empty. The payload stays valid until the
   *   next `enqueue` or `clear`.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<number>({ slots: 4, bytes: 8 });
   * buf.enqueue(2, 1)?.set([10, 11]);
   * assert.deepEqual(buf.dequeue(), { meta: 1, payload: new Uint8Array([10, 11]) });
   * assert.equal(buf.dequeue(), null);
   * ```
   */
  dequeue(): PacketBufferEntry<M> | null {
    if (this.#count === 0) return null;
    const slot = this.#head;
    const entry = this.#entry(slot);
    const at = SLOT.STRIDE * slot;
    const size = this.#layout[at + SLOT.SIZE]!;
    if (size > 0) {
      const trail = this.#layout[at + SLOT.TRAIL]!;
      this.#used -= size + trail;
      const end = this.#layout[at + SLOT.OFFSET]! + size + trail;
      this.#read = end === this.#bytes ? 0 : end;
    }
    // Zero-length datagrams hold no bytes; restarting at 0 keeps the next payloads contiguous.
    if (this.#used === 0) this.#read = 0;
    this.#metas[slot] = undefined;
    this.#head = slot + 1 === this.#slots ? 0 : slot + 1;
    this.#count--;
    return entry;
  }

  /**
   * Looks at the oldest datagram without taking it.
   *
   * @returns Its metadata and payload, or `null` when empty.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<string>({ slots: 4, bytes: 8 });
   * buf.enqueue(1, "x");
   * assert.equal(buf.peek()?.meta, "x");
   * assert.equal(buf.length, 1);
   * ```
   */
  peek(): PacketBufferEntry<M> | null {
    return this.#count === 0 ? null : this.#entry(this.#head);
  }

  /**
   * Drops every datagram. The payload memory is kept.
   *
   * @example
   * ```ts
   * import { PacketBuffer } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const buf = new PacketBuffer<null>({ slots: 4, bytes: 8 });
   * buf.enqueue(4, null);
   * buf.clear();
   * assert.equal(buf.isEmpty(), true);
   * ```
   */
  clear(): void {
    this.#metas.fill(undefined);
    this.#head = 0;
    this.#count = 0;
    this.#read = 0;
    this.#used = 0;
  }

  /** The entry held in `slot`. */
  #entry(slot: number): PacketBufferEntry<M> {
    const at = SLOT.STRIDE * slot;
    const size = this.#layout[at + SLOT.SIZE]!;
    const offset = this.#layout[at + SLOT.OFFSET]!;
    const payload = size === 0 ? EMPTY : this.#storage!.subarray(offset, offset + size);
    return { meta: this.#metas[slot] as M, payload };
  }
}
