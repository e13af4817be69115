/**
 * HyStart++ (RFC 9406): leaving the initial slow start when the round trip time starts to
 * grow, before a queue overflows, through a phase of Conservative Slow Start (CSS).
 *
 * The congestion controller ({@linkcode NewReno}, and through it CUBIC) asks {@linkcode HyStart}
 * on every ACK of the initial slow start (while `ssthresh` is at its initial, very large value,
 * RFC 9406 §4.3) and then grows the window by `bytesAcked / growthDivisor`. What it does:
 *
 * - Rounds (§4.2): a round ends with the ACK of what was outstanding when it began (SND.NXT
 *   then); the next ACK begins the next round. The controller sees no sequence numbers, so
 *   rounds are counted in bytes: the round that begins when `acked` bytes have been
 *   acknowledged with `inFlight` outstanding ends when `acked + inFlight` bytes are, the same
 *   instant.
 * - Each round keeps the minimum of its RTT samples. In slow start, once a round has
 *   N_RTT_SAMPLE (8) samples and the last round had one, the round's minimum at or above the last
 *   round's minimum plus RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms) ends slow start:
 *   CSS begins, with cssBaselineMinRtt = that minimum.
 * - In CSS the window grows a quarter as fast (CSS_GROWTH_DIVISOR 4). A round minimum (8 samples
 *   or more) below cssBaselineMinRtt means the rise was spurious: back to slow start. After
 *   CSS_ROUNDS (5) rounds, the partial first one included, HyStart++ ends: the controller sets
 *   `ssthresh = cwnd` and congestion avoidance takes over.
 * - A loss or ECN reduction during slow start or CSS ends HyStart++ too (the controller's usual
 *   reduction applies); an undo that restores the initial `ssthresh` starts it afresh.
 *
 * One deliberate difference from §4.2: the RFC limits the growth per ACK to L·SMSS (L = 8
 * without pacing). Our slow start counts every byte an ACK acknowledges, as Linux does, because
 * coalescing receivers (Linux's GRO, our `coalesceTcp`) acknowledge up to 44 segments per ACK and
 * a per-ACK limit then slows slow start to a few percent per round trip (see `newreno.ts`).
 *
 * @module
 */

import type { Duration } from "../../time.ts";

/**
 * The RFC 9406 §4.3 constants, RTT thresholds in milliseconds.
 *
 * @example
 * ```ts
 * import { HYSTART } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(HYSTART.N_RTT_SAMPLE, 8);
 * assert.equal(HYSTART.CSS_ROUNDS, 5);
 * assert.equal(HYSTART.MIN_RTT_THRESH, 4);
 * ```
 */
export const HYSTART: {
  readonly MIN_RTT_THRESH: Duration;
  readonly MAX_RTT_THRESH: Duration;
  readonly MIN_RTT_DIVISOR: number;
  readonly N_RTT_SAMPLE: number;
  readonly CSS_GROWTH_DIVISOR: number;
  readonly CSS_ROUNDS: number;
} = Object.freeze({
  MIN_RTT_THRESH: 4,
  MAX_RTT_THRESH: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
});

const { MIN_RTT_THRESH, MAX_RTT_THRESH, MIN_RTT_DIVISOR, N_RTT_SAMPLE, CSS_GROWTH_DIVISOR } =
  HYSTART;

/**
 * Where HyStart++ stands: `"slowStart"` (standard slow start, watching the RTT), `"css"`
 * (Conservative Slow Start) or `"off"` (ended: by its own exit, a loss, or never started).
 *
 * @example
 * ```ts
 * import { HyStart, type HyStartPhase } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const phase: HyStartPhase = new HyStart().phase;
 * assert.equal(phase, "slowStart");
 * ```
 */
export type HyStartPhase = "slowStart" | "css" | "off";

/**
 * Counters of one connection's HyStart++ (they only grow).
 *
 * @example
 * ```ts
 * import { HyStart, type HyStartCounters } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const c: HyStartCounters = new HyStart().counters;
 * assert.deepEqual(c, { exits: 0, cssRounds: 0, cssResumes: 0 });
 * ```
 */
export interface HyStartCounters {
  /** Slow starts ended by a rise in RTT (entries into CSS). */
  exits: number;
  /** Rounds spent in CSS, the partial round of each entry included. */
  cssRounds: number;
  /** Returns from CSS to slow start because the RTT fell below the baseline. */
  cssResumes: number;
}

/**
 * The HyStart++ state machine of one connection (RFC 9406). Time-free: it sees bytes and RTT
 * samples, one call per ACK.
 *
 * @example The RTT rises by 5 ms from one round to the next: slow start ends
 * ```ts
 * import { HyStart } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const hs = new HyStart();
 * const round = (rtt: number) => {
 *   for (let i = 0; i < 8; i++) hs.onAck(1000, 7000, rtt); // a round: 8 ACKs, 8 samples
 * };
 * round(20); // the first round: 20 ms
 * round(25); // the next: 25 ms ≥ 20 + max(4, 20 / 8)
 * assert.equal(hs.phase, "css");
 * assert.equal(hs.growthDivisor, 4);
 * assert.equal(hs.counters.exits, 1);
 * ```
 */
export class HyStart {
  #phase: HyStartPhase = "slowStart";
  /** Bytes acknowledged through {@linkcode HyStart.onAck} so far. */
  #acked = 0;
  /** The round ends when `#acked` reaches this. */
  #roundEnd = 0;
  #lastRoundMinRtt = Infinity;
  #currentRoundMinRtt = Infinity;
  #samples = 0;
  #cssBaselineMinRtt = Infinity;
  /** Rounds of the current CSS phase, the partial entry round included. */
  #cssRound = 0;
  readonly #counters: HyStartCounters = { exits: 0, cssRounds: 0, cssResumes: 0 };

  /**
   * The current phase.
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * hs.stop();
   * assert.equal(hs.phase, "off");
   * ```
   */
  get phase(): HyStartPhase {
    return this.#phase;
  }

  /**
   * What slow start divides the bytes acknowledged by: 4 in CSS, 1 otherwise.
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new HyStart().growthDivisor, 1);
   * ```
   */
  get growthDivisor(): number {
    return this.#phase === "css" ? CSS_GROWTH_DIVISOR : 1;
  }

  /**
   * The counters (a live object: read, do not keep a copy expecting it to change).
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new HyStart().counters.exits, 0);
   * ```
   */
  get counters(): Readonly<HyStartCounters> {
    return this.#counters;
  }

  /**
   * The minimum RTT of the last complete round in ms (`Infinity` before one).
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * hs.onAck(1000, 9000, 30); // the first round starts: it ends with the next 9000 bytes
   * hs.onAck(9000, 5000, 35); // still the first round
   * hs.onAck(1000, 6000, 25); // past it: the next round starts, 25 counts for it
   * assert.equal(hs.lastRoundMinRtt, 30);
   * ```
   */
  get lastRoundMinRtt(): number {
    return this.#lastRoundMinRtt;
  }

  /**
   * The RTT threshold of RFC 9406 §4.2 for the current round: lastRoundMinRTT / 8 clamped to
   * 4..16 ms.
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * hs.onAck(1000, 9000, 200);
   * hs.onAck(10000, 5000, 200);
   * assert.equal(hs.rttThreshold, 16); // 200 / 8 = 25, clamped
   * ```
   */
  get rttThreshold(): Duration {
    const t = this.#lastRoundMinRtt / MIN_RTT_DIVISOR;
    return t < MIN_RTT_THRESH ? MIN_RTT_THRESH : t > MAX_RTT_THRESH ? MAX_RTT_THRESH : t;
  }

  /**
   * One ACK of the initial slow start (or CSS): round tracking, the RTT sample, the phase
   * changes. Call it before growing the window with {@linkcode HyStart.growthDivisor}.
   *
   * @param bytesAcked Bytes newly acknowledged (non-positive: ignored).
   * @param inFlight Bytes still outstanding after this ACK.
   * @param rtt This ACK's RTT sample in ms, or `null` when it gave none.
   * @returns `true` when CSS has just ended after its last round: the caller sets
   * `ssthresh = cwnd` (and HyStart++ is `"off"` from now on).
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * assert.equal(hs.onAck(1000, 9000, 20), false); // steady RTT: slow start goes on
   * assert.equal(hs.phase, "slowStart");
   * ```
   */
  onAck(bytesAcked: number, inFlight: number, rtt: number | null): boolean {
    if (this.#phase === "off" || !(bytesAcked > 0)) return false;
    this.#acked += bytesAcked;
    if (this.#acked > this.#roundEnd) {
      // RFC 9406 §4.2: this ACK covers data sent after the last round began, so a round begins;
      // it ends with the ACK of what is outstanding now (SND.NXT), and that ACK's sample is
      // still this round's (its segment was sent in it), as Linux's `hystart_update`.
      this.#roundEnd = this.#acked + (inFlight > 0 ? inFlight : 0);
      this.#lastRoundMinRtt = this.#currentRoundMinRtt;
      this.#currentRoundMinRtt = Infinity;
      this.#samples = 0;
      if (this.#phase === "css") {
        if (this.#cssRound >= HYSTART.CSS_ROUNDS) {
          this.#phase = "off";
          return true;
        }
        this.#cssRound++;
        this.#counters.cssRounds++;
      }
    }
    if (rtt === null || !(rtt >= 0)) return false;
    if (rtt < this.#currentRoundMinRtt) this.#currentRoundMinRtt = rtt;
    this.#samples++;
    if (this.#samples < N_RTT_SAMPLE) return false;
    if (this.#phase === "slowStart") {
      if (
        this.#lastRoundMinRtt !== Infinity &&
        this.#currentRoundMinRtt >= this.#lastRoundMinRtt + this.rttThreshold
      ) {
        this.#cssBaselineMinRtt = this.#currentRoundMinRtt;
        this.#phase = "css";
        this.#cssRound = 1;
        this.#counters.exits++;
        this.#counters.cssRounds++;
      }
    } else if (this.#currentRoundMinRtt < this.#cssBaselineMinRtt) {
      // The rise was spurious: standard slow start again.
      this.#cssBaselineMinRtt = Infinity;
      this.#phase = "slowStart";
      this.#counters.cssResumes++;
    }
    return false;
  }

  /**
   * Ends HyStart++ (a loss or congestion signal took the connection out of slow start).
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * hs.stop();
   * assert.equal(hs.onAck(1000, 9000, 20), false);
   * assert.equal(hs.phase, "off");
   * ```
   */
  stop(): void {
    this.#phase = "off";
  }

  /**
   * Starts afresh in slow start with no RTT history (a reduction was undone and `ssthresh` is
   * back at its initial value); the counters are kept.
   *
   * @example
   * ```ts
   * import { HyStart } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const hs = new HyStart();
   * hs.stop();
   * hs.restart();
   * assert.equal(hs.phase, "slowStart");
   * assert.equal(hs.lastRoundMinRtt, Infinity);
   * ```
   */
  restart(): void {
    this.#phase = "slowStart";
    this.#roundEnd = this.#acked;
    this.#lastRoundMinRtt = Infinity;
    this.#currentRoundMinRtt = Infinity;
    this.#samples = 0;
    this.#cssBaselineMinRtt = Infinity;
    this.#cssRound = 0;
  }
}
