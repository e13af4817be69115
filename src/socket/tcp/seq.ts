/**
 * TCP sequence number arithmetic (RFC 9293 §3.4): 32-bit unsigned numbers compared modulo 2^32.
 * Two numbers are ordered by the sign of their 32-bit difference, which is valid as long as they
 * are less than 2^31 apart, the condition TCP's windows guarantee.
 *
 * @module
 */

/**
 * `a + n` modulo 2^32.
 *
 * @param a A sequence number.
 * @param n A (possibly negative) distance.
 * @returns The wrapped sum as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import { seqAdd } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqAdd(0xffffffff, 2), 1);
 * ```
 */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * The signed distance `a - b` in sequence space, in [-2^31, 2^31).
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns How far `a` is after `b` (negative when before).
 *
 * @example
 * ```ts
 * import { seqSub } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqSub(1, 0xffffffff), 2);
 * assert.equal(seqSub(0xffffffff, 1), -2);
 * ```
 */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Whether `a` comes before `b`.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `true` when `a < b` modulo 2^32.
 *
 * @example
 * ```ts
 * import { seqLt } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqLt(0xfffffff0, 5), true);
 * ```
 */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * Whether `a` comes before or equals `b`.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `true` when `a <= b` modulo 2^32.
 *
 * @example
 * ```ts
 * import { seqLe } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqLe(7, 7), true);
 * ```
 */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/**
 * Whether `a` comes after `b`.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `true` when `a > b` modulo 2^32.
 *
 * @example
 * ```ts
 * import { seqGt } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqGt(3, 0xffffff00), true);
 * ```
 */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/**
 * Whether `a` comes after or equals `b`.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `true` when `a >= b` modulo 2^32.
 *
 * @example
 * ```ts
 * import { seqGe } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqGe(0, 0xffffffff), true);
 * ```
 */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * The later of two sequence numbers.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `b` when it comes after `a`, else `a`.
 *
 * @example
 * ```ts
 * import { seqMax } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqMax(0xffffffff, 1), 1);
 * ```
 */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) < 0 ? b : a;
}

/**
 * The earlier of two sequence numbers.
 *
 * @param a A sequence number.
 * @param b Another sequence number.
 * @returns `b` when it comes before `a`, else `a`.
 *
 * @example
 * ```ts
 * import { seqMin } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqMin(0xffffffff, 1), 4294967295);
 * ```
 */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) > 0 ? b : a;
}

/**
 * Whether `seq` lies in the half-open range `[start, start + len)`.
 *
 * @param seq The sequence number to test.
 * @param start The first sequence number of the range.
 * @param len The range length (0 gives an empty range).
 * @returns `true` when inside.
 *
 * @example
 * ```ts
 * import { seqInWindow } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(seqInWindow(2, 0xffffffff, 10), true);
 * assert.equal(seqInWindow(9, 0xffffffff, 10), false);
 * ```
 */
export function seqInWindow(seq: number, start: number, len: number): boolean {
  const d = (seq - start) >>> 0;
  return d < len;
}
