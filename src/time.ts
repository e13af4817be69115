/**
 * Time as plain numbers: an {@linkcode Instant} is milliseconds since an arbitrary epoch chosen by
 * whoever drives the stack, and a {@linkcode Duration} is a number of milliseconds. The core never
 * reads a clock; time always arrives as an argument. Only {@linkcode monotonicNow} reads one, and
 * only the async layer calls it.
 *
 * @example Deadlines with explicit time
 * ```ts
 * import { add, isDue, seconds } from "@smol/net/time";
 * import assert from "node:assert/strict";
 *
 * const now = 1_000;
 * const deadline = add(now, seconds(1));
 * assert.equal(isDue(deadline, 1_500), false);
 * assert.equal(isDue(deadline, 2_000), true);
 * ```
 *
 * @module
 */

/**
 * A point in time in milliseconds since an arbitrary epoch (fractions allowed).
 *
 * @example
 * ```ts
 * import { add, type Instant } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * const t: Instant = 42;
 * assert.equal(add(t, 8), 50); // an Instant plus a Duration is an Instant
 * ```
 */
export type Instant = number;

/**
 * A span of time in milliseconds (fractions allowed).
 *
 * @example
 * ```ts
 * import { type Duration, seconds } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * const rto: Duration = 1_000;
 * assert.equal(rto, seconds(1));
 * ```
 */
export type Duration = number;

/**
 * "No deadline": the value `pollAt` returns when only ingress can make progress.
 *
 * @example
 * ```ts
 * import { NEVER } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(NEVER, Number.POSITIVE_INFINITY);
 * ```
 */
export const NEVER: Instant = Number.POSITIVE_INFINITY;

/**
 * Milliseconds from seconds.
 *
 * @param s Seconds.
 * @returns The same span in milliseconds.
 *
 * @example
 * ```ts
 * import { seconds } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(seconds(2), 2000);
 * ```
 */
export function seconds(s: number): Duration {
  return s * 1000;
}

/**
 * Milliseconds from milliseconds: reads better at call sites next to {@linkcode seconds}.
 *
 * @param ms Milliseconds.
 * @returns The same number.
 *
 * @example
 * ```ts
 * import { millis } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(millis(40), 40);
 * ```
 */
export function millis(ms: number): Duration {
  return ms;
}

/**
 * The instant `d` after `t`. {@linkcode NEVER} stays NEVER.
 *
 * @param t Start instant.
 * @param d Duration to add.
 * @returns `t + d`.
 *
 * @example
 * ```ts
 * import { add } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(add(100, 40), 140);
 * ```
 */
export function add(t: Instant, d: Duration): Instant {
  return t + d;
}

/**
 * Whether a deadline has been reached at `now`.
 *
 * @param deadline The deadline instant.
 * @param now The current instant.
 * @returns `true` when `now >= deadline`.
 *
 * @example
 * ```ts
 * import { isDue } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(isDue(10, 10), true);
 * ```
 */
export function isDue(deadline: Instant, now: Instant): boolean {
  return now >= deadline;
}

/**
 * The earlier of two instants (for merging deadlines).
 *
 * @param a First instant.
 * @param b Second instant.
 * @returns The smaller of the two.
 *
 * @example
 * ```ts
 * import { earliest, NEVER } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(earliest(NEVER, 5), 5);
 * ```
 */
export function earliest(a: Instant, b: Instant): Instant {
  return a < b ? a : b;
}

/**
 * Milliseconds until `deadline` from `now`, never negative; `Infinity` for {@linkcode NEVER}.
 *
 * @param deadline The deadline instant.
 * @param now The current instant.
 * @returns The non-negative delay.
 *
 * @example
 * ```ts
 * import { until } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * assert.equal(until(150, 100), 50);
 * assert.equal(until(50, 100), 0);
 * ```
 */
export function until(deadline: Instant, now: Instant): Duration {
  return deadline > now ? deadline - now : 0;
}

/**
 * A monotonic clock reading in milliseconds. Only the async layer and host adapters call this;
 * the core takes time as an argument.
 *
 * @returns `performance.now()`.
 *
 * @example
 * ```ts
 * import { monotonicNow } from "@smol/net/time";
 * import assert from "node:assert/strict";
 * const t0 = monotonicNow();
 * assert.ok(monotonicNow() >= t0);
 * ```
 */
export function monotonicNow(): Instant {
  return performance.now();
}
