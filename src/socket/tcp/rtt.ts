/**
 * The retransmission timer's arithmetic (RFC 6298): a smoothed round-trip time, its variation,
 * the retransmission timeout derived from both, and exponential backoff.
 *
 * The estimator only does arithmetic on the numbers it is given. Which measurements to feed it is
 * the socket's business: RFC 6298 §3 (Karn's rule) says never to sample a retransmitted segment
 * unless timestamps tell the two transmissions apart (RFC 7323 §4).
 *
 * @module
 */

import type { Duration } from "../../time.ts";

/**
 * Tuning for {@linkcode RttEstimator}. Every value is in milliseconds.
 *
 * @example
 * ```ts
 * import { RttEstimator, type RttOptions } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const strict: RttOptions = { minRto: 1000 }; // the RFC 6298 §2.4 floor instead of Linux's 200 ms
 * assert.equal(new RttEstimator(strict).rto, 1000);
 * ```
 */
export interface RttOptions {
  /** The RTO before the first measurement (RFC 6298 §2.1). Default 1000. */
  initialRto?: Duration;
  /**
   * The smallest RTO ever used. RFC 6298 §2.4 says 1 s; Linux uses 200 ms, which is the default
   * here.
   */
  minRto?: Duration;
  /** The largest RTO ever used, backoff included (RFC 6298 §2.5 allows ≥ 60 s). Default 60000. */
  maxRto?: Duration;
  /** The clock granularity G of RFC 6298 §2, the least variance term. Default 1. */
  granularity?: Duration;
}

/**
 * The defaults {@linkcode RttEstimator} uses for options left out, in milliseconds.
 *
 * @example
 * ```ts
 * import { RTT_DEFAULTS } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(RTT_DEFAULTS.initialRto, 1000);
 * assert.equal(RTT_DEFAULTS.minRto, 200);
 * assert.equal(RTT_DEFAULTS.maxRto, 60000);
 * ```
 */
export const RTT_DEFAULTS: Readonly<Required<RttOptions>> = Object.freeze({
  initialRto: 1000,
  minRto: 200,
  maxRto: 60_000,
  granularity: 1,
});

// RFC 6298 §2.3: alpha = 1/8, beta = 1/4; §2.2: K = 4.
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/**
 * Round-trip time estimator and retransmission timeout per RFC 6298.
 *
 * Before the first sample the RTO is `initialRto`. The first sample R sets SRTT = R and
 * RTTVAR = R/2 (§2.2); later samples update RTTVAR = 3/4·RTTVAR + 1/4·|SRTT − R| and then
 * SRTT = 7/8·SRTT + 1/8·R (§2.3). The base RTO is SRTT + max(G, 4·RTTVAR). Each
 * {@linkcode RttEstimator.backoff} doubles the RTO (§5.5); a new sample or
 * {@linkcode RttEstimator.resetBackoff} undoes the doubling. The RTO reported is always clamped to
 * `[minRto, maxRto]` (§2.4, §2.5).
 *
 * Samples that are negative or not finite are ignored: they can only come from a broken clock or
 * a peer-controlled timestamp echo, and must not poison the estimate.
 *
 * @example
 * ```ts
 * import { RttEstimator } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const rtt = new RttEstimator();
 * assert.equal(rtt.rto, 1000); // no sample yet
 * rtt.sample(100);
 * assert.equal(rtt.srtt, 100);
 * assert.equal(rtt.rttvar, 50);
 * assert.equal(rtt.rto, 300);
 * rtt.backoff();
 * assert.equal(rtt.rto, 600);
 * assert.equal(rtt.backoffCount, 1);
 * ```
 */
export class RttEstimator {
  readonly #minRto: Duration;
  readonly #maxRto: Duration;
  readonly #granularity: Duration;
  #hasSample = false;
  #srtt = 0;
  #rttvar = 0;
  /** RTO before backoff and clamping. */
  #baseRto: Duration;
  #backoffCount = 0;
  /** 2^backoffCount, but it stops doubling once the backed-off RTO reaches `#maxRto`. */
  #multiplier = 1;

  /**
   * Creates an estimator with no samples.
   *
   * @param opts Timer bounds and granularity; see {@linkcode RttOptions}.
   * @throws {RangeError} When a value is negative or not finite, `initialRto` is not positive, or
   * `minRto > maxRto`.
   */
  constructor(opts: RttOptions = {}) {
    const initialRto = opts.initialRto ?? RTT_DEFAULTS.initialRto;
    const minRto = opts.minRto ?? RTT_DEFAULTS.minRto;
    const maxRto = opts.maxRto ?? RTT_DEFAULTS.maxRto;
    const granularity = opts.granularity ?? RTT_DEFAULTS.granularity;
    if (!(initialRto > 0) || !Number.isFinite(initialRto)) {
      throw new RangeError(`Invalid initial RTO ${initialRto}`);
    }
    if (!(minRto >= 0) || !(maxRto >= minRto) || !Number.isFinite(maxRto)) {
      throw new RangeError(`Invalid RTO bounds ${minRto}..${maxRto}`);
    }
    if (!(granularity >= 0) || !Number.isFinite(granularity)) {
      throw new RangeError(`Invalid clock granularity ${granularity}`);
    }
    this.#minRto = minRto;
    this.#maxRto = maxRto;
    this.#granularity = granularity;
    this.#baseRto = initialRto;
  }

  /**
   * The smoothed round-trip time in milliseconds, or `null` before the first sample.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator();
   * assert.equal(rtt.srtt, null);
   * rtt.sample(80);
   * assert.equal(rtt.srtt, 80);
   * ```
   */
  get srtt(): number | null {
    return this.#hasSample ? this.#srtt : null;
  }

  /**
   * The round-trip time variation in milliseconds, or `null` before the first sample.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator();
   * rtt.sample(80);
   * assert.equal(rtt.rttvar, 40);
   * ```
   */
  get rttvar(): number | null {
    return this.#hasSample ? this.#rttvar : null;
  }

  /**
   * The current retransmission timeout in milliseconds: backoff included, clamped to
   * `[minRto, maxRto]`.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator({ minRto: 200 });
   * rtt.sample(10); // 10 + 4 * 5 = 30, below the floor
   * assert.equal(rtt.rto, 200);
   * ```
   */
  get rto(): Duration {
    const rto = this.#flooredRto() * this.#multiplier;
    return rto > this.#maxRto ? this.#maxRto : rto;
  }

  /**
   * How many times {@linkcode RttEstimator.backoff} ran since the last sample or reset. Keeps
   * counting after the RTO reached `maxRto`, so a socket can give up after N timeouts.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator();
   * rtt.backoff();
   * rtt.backoff();
   * assert.equal(rtt.backoffCount, 2);
   * ```
   */
  get backoffCount(): number {
    return this.#backoffCount;
  }

  /**
   * Feeds one round-trip measurement (RFC 6298 §2.2, §2.3) and cancels any backoff.
   *
   * @param rtt The measured round-trip time in milliseconds. Negative or non-finite values are
   * ignored.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator();
   * rtt.sample(100); // SRTT 100, RTTVAR 50
   * rtt.sample(200); // RTTVAR 3/4·50 + 1/4·100 = 62.5, SRTT 7/8·100 + 1/8·200 = 112.5
   * assert.equal(rtt.srtt, 112.5);
   * assert.equal(rtt.rttvar, 62.5);
   * assert.equal(rtt.rto, 362.5);
   * ```
   */
  sample(rtt: Duration): void {
    if (!(rtt >= 0) || rtt === Number.POSITIVE_INFINITY) return;
    if (this.#hasSample) {
      // RFC 6298 §2.3: RTTVAR first, with the SRTT from before this sample.
      const err = this.#srtt > rtt ? this.#srtt - rtt : rtt - this.#srtt;
      this.#rttvar = (1 - BETA) * this.#rttvar + BETA * err;
      this.#srtt = (1 - ALPHA) * this.#srtt + ALPHA * rtt;
    } else {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
      this.#hasSample = true;
    }
    const variance = K * this.#rttvar;
    this.#baseRto = this.#srtt + (variance > this.#granularity ? variance : this.#granularity);
    this.resetBackoff();
  }

  /**
   * Doubles the RTO after a retransmission timeout (RFC 6298 §5.5), never beyond `maxRto`.
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator({ initialRto: 1000, maxRto: 3000 });
   * rtt.backoff();
   * assert.equal(rtt.rto, 2000);
   * rtt.backoff();
   * assert.equal(rtt.rto, 3000);
   * ```
   */
  backoff(): void {
    this.#backoffCount++;
    if (this.#flooredRto() * this.#multiplier < this.#maxRto) this.#multiplier *= 2;
  }

  /**
   * Cancels the backoff: the RTO goes back to the one computed from SRTT and RTTVAR (RFC 6298
   * §5.7 leaves this to a new sample; a socket may also call it when a new ACK arrives).
   *
   * @example
   * ```ts
   * import { RttEstimator } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const rtt = new RttEstimator();
   * rtt.backoff();
   * rtt.resetBackoff();
   * assert.equal(rtt.rto, 1000);
   * assert.equal(rtt.backoffCount, 0);
   * ```
   */
  resetBackoff(): void {
    this.#backoffCount = 0;
    this.#multiplier = 1;
  }

  /** The RTO before backoff, raised to `minRto`: backoff doubles the RTO actually in use. */
  #flooredRto(): Duration {
    return this.#baseRto > this.#minRto ? this.#baseRto : this.#minRto;
  }
}
