/**
 * CUBIC congestion control (RFC 9438) on top of {@linkcode NewReno}'s slow start, fast recovery
 * and timeout handling: only the congestion avoidance increase and the multiplicative decrease
 * differ.
 *
 * Windows are kept in bytes; the RFC's formulas are in segments and seconds, so W_cubic is
 * evaluated as W_max + C·SMSS·(t − K)³ bytes with t and K in seconds, which is the RFC's
 * segment formula times SMSS.
 *
 * @module
 */

import { NewReno } from "./newreno.ts";
import type { CongestionKind, CongestionOptions } from "./congestion.ts";
import type { Duration, Instant } from "../../time.ts";

/**
 * The RFC 9438 constants: C = 0.4 segments/s³, β_cubic = 0.7, and the Reno-friendly additive
 * increase α_cubic = 3·(1 − β)/(1 + β) (§4.3).
 *
 * @example
 * ```ts
 * import { CUBIC } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(CUBIC.C, 0.4);
 * assert.equal(CUBIC.BETA, 0.7);
 * assert.equal(CUBIC.ALPHA.toFixed(4), "0.5294");
 * ```
 */
export const CUBIC: { readonly C: number; readonly BETA: number; readonly ALPHA: number } = Object
  .freeze({
    C: 0.4,
    BETA: 0.7,
    ALPHA: (3 * (1 - 0.7)) / (1 + 0.7),
  });

const { C, BETA, ALPHA } = CUBIC;

/**
 * CUBIC (RFC 9438). Slow start, fast recovery inflation and deflation, the loss window on RTO,
 * and restart after idle are NewReno's. On top of that:
 *
 * - Multiplicative decrease (§4.6): `ssthresh = max(β·FlightSize, 2·SMSS)` with β = 0.7, and
 *   W_max = the window before the loss, reduced to W·(1 + β)/2 when the window was already below
 *   the previous W_max (fast convergence, §4.7).
 * - Congestion avoidance (§4.2–4.5): a stage starts at the first ACK after slow start or
 *   recovery, at t_epoch with cwnd_epoch; K = ∛((W_max − cwnd_epoch)/C) (0 when cwnd_epoch ≥
 *   W_max). Each ACK moves `cwnd` towards target = W_cubic(t + RTT), clamped to
 *   [cwnd, 1.5·cwnd], by (target − cwnd)·acked/cwnd: concave below W_max, convex above.
 * - Reno-friendly region (§4.3): W_est starts at cwnd_epoch and grows α·SMSS per window of acked
 *   bytes (α = α_cubic until W_est reaches the window before the last loss, then 1); while
 *   W_cubic(t) < W_est, `cwnd` follows W_est.
 * - After a timeout (§4.8) the first avoidance stage uses K = 0 and W_max = cwnd_epoch.
 * - Idle shorter than the RTO moves t_epoch forward by the idle time, so the curve does not jump.
 *
 * `rtt` in `onAck` should be the smoothed RTT; before the first sample it counts as 0.
 *
 * @example
 * ```ts
 * import { Cubic } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const cc = new Cubic(1000);
 * cc.onEnterRecovery(0, 10_000); // W_max is the window before the loss
 * assert.equal(cc.ssthresh, 7000);
 * assert.equal(cc.wMax, 10000);
 * ```
 */
export class Cubic extends NewReno {
  /** W_max in bytes: the window just before the last reduction (after fast convergence). */
  #wMax = 0;
  /** W_max before the last reduction, restored when that reduction is undone. */
  #priorWMax = 0;
  /** The window before the last reduction (cwnd_prior of §4.6), for α in §4.3. */
  #cwndPrior = 0;
  #inEpoch = false;
  #epochStart: Instant = 0;
  /** The plateau of the current curve in bytes: max(W_max, cwnd_epoch). */
  #origin = 0;
  /** K in seconds. */
  #k = 0;
  /** W_est in bytes (§4.3). */
  #wEst = 0;
  /** The next avoidance stage follows a timeout (§4.8). */
  #afterTimeout = false;

  /**
   * Creates a controller at the initial window.
   *
   * @param mss The sender maximum segment size in bytes.
   * @param options See {@linkcode CongestionOptions}.
   * @throws {RangeError} When `mss` is not positive and finite, or `initialWindowSegments` < 1.
   */
  constructor(mss: number, options: CongestionOptions = {}) {
    super(mss, options);
  }

  /**
   * The algorithm's name.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new Cubic(1460).name, "cubic");
   * ```
   */
  override get name(): CongestionKind {
    return "cubic";
  }

  /**
   * W_max in bytes: the window before the last reduction, after fast convergence; 0 before any
   * loss.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onEnterRecovery(0, 10000); // cwnd was 10000
   * cc.onExitRecovery(10);
   * cc.onEnterRecovery(20, 7000); // 7000 < 10000: fast convergence
   * assert.equal(cc.wMax, 5950);
   * ```
   */
  get wMax(): number {
    return this.#wMax;
  }

  /**
   * K in seconds for the current avoidance stage: when the curve reaches W_max again (0 outside
   * a stage, or when the stage started at or above W_max).
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onEnterRecovery(0, 10000); // W_max 10 segments, ssthresh 7
   * cc.onExitRecovery(10);
   * cc.onAck(20, 1000, 6000, 100); // the stage starts: K = ∛((10 − 7) / 0.4)
   * assert.equal(cc.k.toFixed(4), "1.9574");
   * ```
   */
  get k(): number {
    return this.#inEpoch ? this.#k : 0;
  }

  /**
   * W_cubic(t) of the current stage in bytes, for `now` in milliseconds (RFC 9438 §4.2):
   * W_max + C·SMSS·(t − K)³, where t is the time since the stage started. `NaN` outside a stage.
   *
   * @param now The instant to evaluate at.
   * @returns The window the curve gives at `now`.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onEnterRecovery(0, 10000);
   * cc.onExitRecovery(10);
   * cc.onAck(1000, 1000, 6000, 100); // the stage starts at 1000 ms
   * assert.equal(Math.round(cc.cubicWindow(1000 + cc.k * 1000)), 10000);
   * ```
   */
  cubicWindow(now: Instant): number {
    if (!this.#inEpoch) return Number.NaN;
    return this.#curve(this.#elapsed(now));
  }

  /**
   * The stage restarts whenever the window restarted after idle; shorter idle periods shift
   * t_epoch by the idle time (RFC 9438 §5.8: an application-limited period does not count).
   *
   * @param now The current instant.
   * @param idleFor How long nothing was in flight.
   * @param rto The current retransmission timeout.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onIdle(5000, 4000, 1000);
   * assert.equal(cc.cwnd, 10000);
   * ```
   */
  override onIdle(now: Instant, idleFor: Duration, rto: Duration): void {
    super.onIdle(now, idleFor, rto);
    if (this.#inEpoch && idleFor > 0 && idleFor <= rto) this.#epochStart += idleFor;
  }

  /**
   * The CUBIC increase for one ACK in congestion avoidance (RFC 9438 §4.2–4.5, §4.3).
   *
   * @param now The current instant.
   * @param cwnd The window before this ACK in bytes.
   * @param bytesAcked Bytes acked that count for congestion avoidance.
   * @param rtt The smoothed RTT, or `null` (taken as 0).
   * @returns The new window in bytes.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onEnterRecovery(0, 10000);
   * cc.onExitRecovery(10); // cwnd 7000: the concave region below W_max 10000
   * for (let t = 20; t < 10_000; t += 10) cc.onAck(t, 1000, 7000, 10);
   * assert.ok(cc.cwnd > 10_000);
   * ```
   */
  protected override avoidanceWindow(
    now: Instant,
    cwnd: number,
    bytesAcked: number,
    rtt: number | null,
  ): number {
    const mss = this.mss;
    if (!this.#inEpoch) this.#startEpoch(now, cwnd, mss);
    // Per-ACK steps assume at most a window is acked at once (stretch ACKs are capped).
    const share = (bytesAcked < cwnd ? bytesAcked : cwnd) / cwnd;
    // §4.3: W_est += α·segments_acked/cwnd, in bytes.
    const alpha = this.#wEst >= this.#cwndPrior ? 1 : ALPHA;
    this.#wEst += alpha * mss * share;
    const t = this.#elapsed(now);
    if (this.#curve(t) < this.#wEst) return this.#wEst > cwnd ? this.#wEst : cwnd;
    // §4.4, §4.5: target = W_cubic(t + RTT), within [cwnd, 1.5·cwnd].
    const r = rtt !== null && rtt > 0 ? rtt / 1000 : 0;
    let target = this.#curve(t + r);
    if (!(target > cwnd)) return cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    return cwnd + (target - cwnd) * share;
  }

  /**
   * The CUBIC decrease (RFC 9438 §4.6, §4.7): updates W_max with fast convergence, ends the
   * avoidance stage, and returns β_cubic·FlightSize as the new `ssthresh`.
   *
   * @param now The current instant.
   * @param inFlight FlightSize in bytes.
   * @param timeout Whether this is a retransmission timeout (§4.8).
   * @returns The new `ssthresh` in bytes before the 2·SMSS floor.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onRto(0, 10000);
   * assert.equal(cc.ssthresh, 7000);
   * assert.equal(cc.cwnd, 1000);
   * ```
   */
  protected override reductionThreshold(
    _now: Instant,
    inFlight: number,
    timeout: boolean,
  ): number {
    const cwnd = this.cwnd;
    this.#priorWMax = this.#wMax;
    // §4.7 fast convergence: a window that did not regain the last W_max releases bandwidth.
    this.#wMax = cwnd < this.#wMax ? (cwnd * (1 + BETA)) / 2 : cwnd;
    this.#cwndPrior = cwnd;
    this.#inEpoch = false;
    this.#afterTimeout = timeout;
    return inFlight * BETA;
  }

  /**
   * The window restarted from the initial window after idle: the next stage starts afresh.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onIdle(0, 2000, 1000);
   * assert.equal(cc.k, 0);
   * ```
   */
  protected override restarted(): void {
    this.#inEpoch = false;
  }

  /**
   * A reduction was undone (RFC 9438 §4.9 spurious congestion event): W_max from before it comes
   * back and the next stage starts afresh.
   *
   * @param _now The current instant.
   *
   * @example
   * ```ts
   * import { Cubic } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new Cubic(1000);
   * cc.onEnterRecovery(0, 20000);
   * cc.onUndo(10, 20000, 1 << 30);
   * assert.equal(cc.cwnd, 20000);
   * assert.equal(cc.inRecovery, false);
   * ```
   */
  protected override undone(_now: Instant): void {
    if (this.#priorWMax > this.#wMax) this.#wMax = this.#priorWMax;
    this.#afterTimeout = false;
    this.#inEpoch = false;
  }

  /** Starts an avoidance stage at `now` with cwnd_epoch = `cwnd` (RFC 9438 §4.2, §4.8). */
  #startEpoch(now: Instant, cwnd: number, mss: number): void {
    this.#inEpoch = true;
    this.#epochStart = now;
    if (this.#afterTimeout) {
      this.#wMax = cwnd;
      this.#afterTimeout = false;
    }
    if (this.#wMax > cwnd) {
      this.#origin = this.#wMax;
      this.#k = Math.cbrt((this.#wMax - cwnd) / (C * mss));
    } else {
      this.#origin = cwnd;
      this.#k = 0;
    }
    this.#wEst = cwnd;
  }

  /** Seconds since the stage started, never negative. */
  #elapsed(now: Instant): number {
    const t = (now - this.#epochStart) / 1000;
    return t > 0 ? t : 0;
  }

  /** W_cubic(t) in bytes, t in seconds. */
  #curve(t: number): number {
    const d = t - this.#k;
    return this.#origin + C * this.mss * d * d * d;
  }
}
