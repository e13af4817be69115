/**
 * {@linkcode Assembler}: bookkeeping of which byte ranges of a stream have arrived out of order.
 *
 * Offsets are relative to a base (for TCP, RCV.NXT), so the caller converts sequence numbers
 * before calling and the assembler never sees the 2^32 wrap. The number of disjoint ranges held
 * is bounded; a segment that would need one more is refused and the caller drops it.
 *
 * @module
 */

/** Throws a `RangeError` unless `value` is a non-negative safe integer. */
function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${what} ${value}: must be a non-negative integer`);
  }
}

/**
 * A bounded set of disjoint byte ranges `[start, end)` beyond a base offset.
 *
 * Ranges are kept sorted, with overlapping and adjacent ranges merged, in one fixed
 * `Float64Array` (allocated on the first {@linkcode Assembler.add}); `add`, `removeFront` and
 * `rebase` allocate nothing.
 *
 * TCP receive path (RFC 9293 §3.10.7.4), with `offset = seq - RCV.NXT` and the payload already
 * placed with `RingBuffer.writeUnallocated(offset, payload)`:
 * - in-order data (`offset === 0`): `rebase(size)`, then `size + removeFront()` bytes are ready
 *   to commit with `enqueueUnallocated`. This never fails, unlike `add(0, size)`, which is refused
 *   when all ranges are in use and the segment touches none of them.
 * - out-of-order data (`offset > 0`): `add(offset, size)`; on `false` drop the segment.
 *
 * @example
 * ```ts
 * import { Assembler } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 *
 * const asm = new Assembler();
 * asm.add(100, 50); // a segment beyond a gap of 100 bytes
 * assert.equal(asm.removeFront(), 0); // the gap is still open
 * asm.add(0, 100); // the gap is filled
 * assert.equal(asm.removeFront(), 150);
 * assert.equal(asm.isEmpty(), true);
 * ```
 */
export class Assembler {
  #maxRanges: number;
  /** `[start0, end0, start1, end1, ...]`: sorted, disjoint, non-adjacent; first `#count` pairs used. */
  #bounds: Float64Array | null = null;
  #count = 0;

  /**
   * Creates an empty assembler.
   *
   * @param maxRanges The most disjoint ranges it holds (default 32).
   * @throws {RangeError} When `maxRanges` is not a positive integer.
   */
  constructor(maxRanges = 32) {
    if (!Number.isSafeInteger(maxRanges) || maxRanges < 1) {
      throw new RangeError(`Invalid maximum range count ${maxRanges}: must be a positive integer`);
    }
    this.#maxRanges = maxRanges;
  }

  /**
   * The most disjoint ranges this assembler holds.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new Assembler(4).maxRanges, 4);
   * ```
   */
  get maxRanges(): number {
    return this.#maxRanges;
  }

  /**
   * The number of disjoint ranges held now.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(10, 5);
   * asm.add(20, 5);
   * assert.equal(asm.count, 2);
   * ```
   */
  get count(): number {
    return this.#count;
  }

  /**
   * Whether no range is held.
   *
   * @returns `true` when nothing has arrived beyond the base.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * assert.equal(new Assembler().isEmpty(), true);
   * ```
   */
  isEmpty(): boolean {
    return this.#count === 0;
  }

  /**
   * Records that bytes `[offset, offset + size)` have arrived, merging with every range it
   * overlaps or touches. Adding an empty range changes nothing and succeeds.
   *
   * @param offset Start of the range, relative to the base.
   * @param size Length of the range in bytes.
   * @returns `false`, with nothing changed, when the result would need more than `maxRanges`
   *   ranges; `true` otherwise.
   * @throws {RangeError} When `offset` or `size` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler(1);
   * assert.equal(asm.add(10, 5), true);
   * assert.equal(asm.add(30, 5), false);
   * assert.equal(asm.add(15, 15), true);
   * assert.deepEqual([...asm.ranges()], [[10, 30]]);
   * ```
   */
  add(offset: number, size: number): boolean {
    checkCount("offset", offset);
    checkCount("size", size);
    const end = offset + size;
    if (!Number.isSafeInteger(end)) {
      throw new RangeError(`Invalid range end ${end}: must be a safe integer`);
    }
    if (size === 0) return true;
    const b = this.#bounds ??= new Float64Array(2 * this.#maxRanges);
    const n = this.#count;
    // Ranges [i, j) overlap or touch [offset, end): they end at or after `offset` and start at or
    // before `end`.
    let i = 0;
    while (i < n && b[2 * i + 1]! < offset) i++;
    let j = i;
    while (j < n && b[2 * j]! <= end) j++;
    if (i === j) {
      if (n === this.#maxRanges) return false;
      b.copyWithin(2 * i + 2, 2 * i, 2 * n);
      b[2 * i] = offset;
      b[2 * i + 1] = end;
      this.#count = n + 1;
      return true;
    }
    if (b[2 * i]! > offset) b[2 * i] = offset;
    b[2 * i + 1] = Math.max(b[2 * j - 1]!, end);
    if (j - i > 1) {
      b.copyWithin(2 * i + 2, 2 * j, 2 * n);
      this.#count = n - (j - i) + 1;
    }
    return true;
  }

  /**
   * Takes the contiguous run that starts at offset 0, if any, and makes its end the new base:
   * every remaining range moves down by its length.
   *
   * @returns The length of the run now complete at the front (0 when offset 0 has not arrived).
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(0, 10);
   * asm.add(20, 5);
   * assert.equal(asm.removeFront(), 10);
   * assert.deepEqual([...asm.ranges()], [[10, 15]]);
   * ```
   */
  removeFront(): number {
    const n = this.#count;
    const b = this.#bounds;
    if (n === 0 || b === null || b[0] !== 0) return 0;
    const run = b[1]!;
    const rest = 2 * (n - 1);
    b.copyWithin(0, 2, 2 * n);
    for (let k = 0; k < rest; k++) b[k]! -= run;
    this.#count = n - 1;
    return run;
  }

  /**
   * Moves the base forward by `count` bytes that the caller took without adding them (in-order
   * data): ranges below the new base are dropped, a range straddling it is cut, and the rest move
   * down by `count`. Call {@linkcode Assembler.removeFront} afterwards for data that this made
   * contiguous. Never fails, since it never adds a range.
   *
   * @param count How far the base moves, in bytes.
   * @throws {RangeError} When `count` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(10, 10); // bytes [10, 20) arrived early
   * asm.rebase(12); // an in-order segment of 12 bytes arrived
   * assert.equal(asm.removeFront(), 8); // bytes [12, 20) are now ready too
   * ```
   */
  rebase(count: number): void {
    checkCount("count", count);
    const b = this.#bounds;
    let n = this.#count;
    if (count === 0 || n === 0 || b === null) return;
    let i = 0;
    while (i < n && b[2 * i + 1]! <= count) i++;
    if (i > 0) {
      b.copyWithin(0, 2 * i, 2 * n);
      n -= i;
    }
    for (let k = 0; k < 2 * n; k++) b[k]! -= count;
    if (n > 0 && b[0]! < 0) b[0] = 0;
    this.#count = n;
  }

  /**
   * Forgets every range.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(5, 5);
   * asm.clear();
   * assert.equal(asm.isEmpty(), true);
   * ```
   */
  clear(): void {
    this.#count = 0;
  }

  /**
   * The held ranges in ascending order, as `[start, end)` pairs relative to the base (for SACK
   * blocks, RFC 2018 §4). Do not change the assembler while iterating.
   *
   * @returns An iterator of fresh `[start, end]` tuples.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(30, 10);
   * asm.add(10, 10);
   * assert.deepEqual([...asm.ranges()], [[10, 20], [30, 40]]);
   * ```
   */
  *ranges(): IterableIterator<[start: number, end: number]> {
    const b = this.#bounds;
    if (b === null) return;
    for (let i = 0; i < this.#count; i++) yield [b[2 * i]!, b[2 * i + 1]!];
  }

  /**
   * The ranges as text, for traces and test failures.
   *
   * @returns For example `[10, 20) [30, 40)`, or `empty`.
   *
   * @example
   * ```ts
   * import { Assembler } from "@smol/net/storage";
   * import assert from "node:assert/strict";
   * const asm = new Assembler();
   * asm.add(10, 10);
   * assert.equal(asm.toString(), "[10, 20)");
   * ```
   */
  toString(): string {
    if (this.#count === 0) return "empty";
    const parts: string[] = [];
    for (const [s, e] of this.ranges()) parts.push(`[${s}, ${e})`);
    return parts.join(" ");
  }
}
