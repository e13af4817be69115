/**
 * NewReno congestion control: RFC 5681 slow start and congestion avoidance with RFC 3465
 * byte counting, RFC 6582 fast recovery, RFC 6928 initial window, RFC 5681 §4.1 restart after
 * idle, HyStart++ (RFC 9406) in the initial slow start. {@linkcode NewReno} is also the base that CUBIC (`cubic.ts`) refines: it replaces only the
 * congestion avoidance increase and the multiplicative decrease.
 *
 * @module
 */

import type { CongestionController, CongestionKind, CongestionOptions } from "./congestion.ts";
import { HyStart } from "./hystart.ts";
import type { Duration, Instant } from "../../time.ts";

/** RFC 5681 §3.1: the initial ssthresh is the largest window a peer can advertise (RFC 7323). */
const INITIAL_SSTHRESH = 65_535 * 2 ** 14;
/** A ceiling that keeps the arithmetic finite whatever the caller passes. */
const MAX_CWND = 2 ** 40;

/**
 * NewReno (RFC 5681, RFC 6582) on byte windows.
 *
 * - Initial window: min(10·SMSS, max(2·SMSS, 14600)) bytes (RFC 6928), `ssthresh` very large.
 * - Slow start (`cwnd < ssthresh`): `cwnd += N` per ACK of N bytes, as Linux's `tcp_slow_start`,
 *   without RFC 3465 §2.2's per-ACK limit of 2·SMSS: receivers that coalesce (Linux's GRO, our
 *   `InterfaceConfig.coalesceTcp`) acknowledge up to 64 KiB per ACK, and a 2·SMSS limit then grows
 *   the window by a few percent per round trip instead of doubling it (measured: 16 MiB over a 20 ms
 *   RTT took 2.1 s instead of 0.4 s). In the slow start that follows a timeout the limit is
 *   1·SMSS per ACK (RFC 3465 §2.3). Growth stops at `ssthresh`; the rest of that ACK counts for
 *   congestion avoidance.
 * - HyStart++ (RFC 9406, on unless `hystart: false`): in the initial slow start a rise of the
 *   per-round minimum RTT moves to Conservative Slow Start (a quarter of the growth), and after
 *   five such rounds `ssthresh = cwnd` ends slow start without a loss (see `hystart.ts`).
 * - Congestion avoidance: byte counting (RFC 5681 §3.1, RFC 3465 §2.1): once a window's worth of
 *   bytes has been acked, `cwnd += SMSS`. That is one SMSS per RTT whatever the ACK pattern
 *   (delayed ACKs included), where `SMSS·SMSS/cwnd` per ACK would grow half as fast under
 *   delayed ACKs.
 * - The window grows only while in use: the flight before the ACK is at least `cwnd / 2`
 *   (RFC 7661 §4.3), so an application-limited sender does not inflate it.
 * - Fast recovery (RFC 6582): `ssthresh = max(FlightSize/2, 2·SMSS)`, `cwnd = ssthresh + 3·SMSS`;
 *   `+SMSS` per further duplicate ACK ({@linkcode NewReno.onDupAckInRecovery}); partial ACKs
 *   deflate; the full ACK sets `cwnd = ssthresh` (step 5 option 2: the exit call carries no
 *   FlightSize for option 1).
 * - Timeout: `ssthresh = max(FlightSize/2, 2·SMSS)` on the first RTO, `cwnd = 1·SMSS`.
 * - `cwnd` never drops below one SMSS.
 *
 * @example
 * ```ts
 * import { NewReno } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const cc = new NewReno(1000);
 * assert.equal(cc.cwnd, 10000);
 * cc.onRto(0, 10000);
 * assert.equal(cc.ssthresh, 5000);
 * assert.equal(cc.cwnd, 1000);
 * ```
 */
export class NewReno implements CongestionController {
  #mss: number;
  readonly #iwSegments: number;
  #cwnd: number;
  #ssthresh = INITIAL_SSTHRESH;
  /** Bytes acked in congestion avoidance since `cwnd` last grew (RFC 3465 bytes_acked). */
  #avoidanceBytes = 0;
  #inRecovery = false;
  /** In the slow start that follows a timeout: ABC limit L = 1·SMSS. */
  #afterTimeout = false;
  /** A timeout happened and no ACK has advanced since: a further RTO keeps `ssthresh`. */
  #timeoutPending = false;
  /** No ACK or loss yet: `setMss` may still reset the initial window. */
  #fresh = true;
  /**
   * HyStart++ (RFC 9406), `null` when turned off, `undefined` until first needed: made on the
   * first ACK with data still in flight (or when read), so that an idle connection, most of a
   * server's, does not carry its ~200 bytes.
   */
  #hystart: HyStart | null | undefined;

  /**
   * Creates a controller at the initial window.
   *
   * @param mss The sender maximum segment size in bytes.
   * @param options See {@linkcode CongestionOptions}.
   * @throws {RangeError} When `mss` is not positive and finite, or `initialWindowSegments` < 1.
   */
  constructor(mss: number, options: CongestionOptions = {}) {
    const iw = options.initialWindowSegments ?? 10;
    if (!(iw >= 1) || !Number.isFinite(iw)) {
      throw new RangeError(`Invalid initial window ${iw} segments`);
    }
    this.#iwSegments = iw;
    this.#hystart = options.hystart === false ? null : undefined;
    this.#mss = checkMss(mss);
    this.#cwnd = this.initialWindow;
  }

  /**
   * The algorithm's name.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new NewReno(1460).name, "newreno");
   * ```
   */
  get name(): CongestionKind {
    return "newreno";
  }

  /**
   * The congestion window in whole bytes, at least one SMSS.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new NewReno(1460).cwnd, 14600);
   * ```
   */
  get cwnd(): number {
    return Math.floor(this.#cwnd);
  }

  /**
   * The slow start threshold in bytes; 65535·2^14 until the first loss.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new NewReno(1460).ssthresh, 1073725440);
   * ```
   */
  get ssthresh(): number {
    return this.#ssthresh;
  }

  /**
   * The sender maximum segment size in use.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(536);
   * cc.setMss(1460);
   * assert.equal(cc.mss, 1460);
   * ```
   */
  get mss(): number {
    return this.#mss;
  }

  /**
   * The initial (and restart) window for the current SMSS: min(n·SMSS, max(2·SMSS, n·1460))
   * (RFC 6928 §2 with n = 10).
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new NewReno(9000).initialWindow, 18000); // two jumbo segments
   * ```
   */
  get initialWindow(): number {
    const mss = this.#mss;
    return Math.min(this.#iwSegments * mss, Math.max(2 * mss, this.#iwSegments * 1460));
  }

  /**
   * HyStart++ (RFC 9406) of this controller, with its phase and counters; `null` when the
   * controller was made with `hystart: false`.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new NewReno(1460).hystart?.phase, "slowStart");
   * assert.equal(new NewReno(1460, { hystart: false }).hystart, null);
   * ```
   */
  get hystart(): HyStart | null {
    return this.#hyStart();
  }

  /** HyStart++, made on first use; `null` when turned off. */
  #hyStart(): HyStart | null {
    const hs = this.#hystart;
    return hs === undefined ? (this.#hystart = new HyStart()) : hs;
  }

  /**
   * Whether the controller is in fast recovery (between `onEnterRecovery` and `onExitRecovery`
   * or `onRto`).
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 10000);
   * assert.equal(cc.inRecovery, true);
   * ```
   */
  get inRecovery(): boolean {
    return this.#inRecovery;
  }

  /**
   * Sets SMSS. Before the first ACK or loss, `cwnd` becomes the initial window for the new size;
   * later the byte window is kept, raised to one SMSS (and `ssthresh` to two) if needed.
   *
   * @param mss SMSS in bytes.
   * @throws {RangeError} When `mss` is not positive and finite.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(536);
   * cc.setMss(1000);
   * assert.equal(cc.cwnd, 10000);
   * ```
   */
  setMss(mss: number): void {
    this.#mss = checkMss(mss);
    if (this.#fresh) this.#cwnd = this.initialWindow;
    else if (this.#cwnd < mss) this.#cwnd = mss;
    if (this.#ssthresh < 2 * mss) this.#ssthresh = 2 * mss;
  }

  /**
   * A new cumulative ACK outside recovery. Ignored during recovery (use
   * {@linkcode NewReno.onPartialAck}) and for non-positive `bytesAcked`.
   *
   * @param now The current instant.
   * @param bytesAcked Bytes newly acknowledged.
   * @param inFlight Bytes still outstanding after this ACK.
   * @param rtt The smoothed RTT, or `null` before the first sample.
   * @param usedFlight The round's largest flight (RFC 7661); default `inFlight + bytesAcked`.
   * @param ackRtt This ACK's RTT sample for HyStart++ only (RACK's per-ACK sample when there
   * are no timestamps), default `rtt`.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onAck(10, 2000, 8000, 50); // one delayed ACK for two segments: +2 SMSS (RFC 3465 L)
   * assert.equal(cc.cwnd, 12000);
   * ```
   */
  onAck(
    now: Instant,
    bytesAcked: number,
    inFlight: number,
    rtt: number | null,
    usedFlight?: number,
    ackRtt?: number | null,
  ): void {
    if (!(bytesAcked > 0)) return;
    this.#fresh = false;
    this.#timeoutPending = false;
    if (this.#inRecovery) return;
    // RFC 9406: HyStart++ watches every ACK of the initial slow start (application-limited
    // ones included: they still end rounds and carry RTT samples).
    let divisor = 1;
    // An ACK that leaves nothing in flight before any data was (the handshake's) begins no
    // round: HyStart++ is made with the first one that does.
    const hs = this.#hystart === undefined && inFlight <= 0 ? null : this.#hyStart();
    if (hs !== null && hs.phase !== "off" && this.#cwnd < this.#ssthresh) {
      if (hs.onAck(bytesAcked, inFlight, ackRtt === undefined ? rtt : ackRtt)) {
        // The last CSS round ended: congestion avoidance from here (RFC 9406 §4.2).
        const floor = 2 * this.#mss;
        const cwnd = Math.floor(this.#cwnd);
        this.#ssthresh = cwnd > floor ? cwnd : floor;
      } else divisor = hs.growthDivisor;
    }
    const flight = usedFlight ?? (inFlight > 0 ? inFlight : 0) + bytesAcked;
    if (2 * flight < this.#cwnd) return; // RFC 7661 §4.3: not validated, do not grow
    let acked = bytesAcked;
    if (this.#cwnd < this.#ssthresh) {
      // Slow start: every byte acknowledged, as Linux (stretch ACKs from coalescing receivers);
      // 1·SMSS per ACK after a timeout (RFC 3465 §2.3); a quarter of that in CSS (RFC 9406).
      const full = this.#afterTimeout && acked > this.#mss ? this.#mss : acked;
      const increase = divisor === 1 ? full : full / divisor;
      const room = this.#ssthresh - this.#cwnd;
      if (increase < room) {
        this.#cwnd += increase;
        return;
      }
      this.#cwnd = this.#ssthresh;
      this.#afterTimeout = false;
      acked -= room;
      if (!(acked > 0)) return;
    }
    const next = this.avoidanceWindow(now, this.#cwnd, acked, rtt);
    this.#cwnd = next > MAX_CWND ? MAX_CWND : next > this.#cwnd ? next : this.#cwnd;
  }

  /**
   * Enters fast recovery on the third duplicate ACK: `ssthresh` from the flight (see
   * {@linkcode NewReno.reductionThreshold}), `cwnd = ssthresh + 3·SMSS` (RFC 6582 §3.2 step 2).
   *
   * @param now The current instant.
   * @param inFlight FlightSize when the loss was detected.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 20000);
   * assert.equal(cc.ssthresh, 10000);
   * assert.equal(cc.cwnd, 13000);
   * ```
   */
  onEnterRecovery(now: Instant, inFlight: number): void {
    this.#ssthresh = this.#reduce(now, inFlight, false);
    this.#cwnd = this.#ssthresh + 3 * this.#mss;
    this.#inRecovery = true;
  }

  /**
   * One more duplicate ACK during recovery: `cwnd += SMSS` (RFC 6582 §3.2 step 3). Call it when
   * the socket inflates the window the NewReno way; a socket that counts an RFC 6675 pipe does
   * not. Ignored outside recovery.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 20000);
   * cc.onDupAckInRecovery();
   * assert.equal(cc.cwnd, 14000);
   * ```
   */
  onDupAckInRecovery(): void {
    if (this.#inRecovery && this.#cwnd < MAX_CWND) this.#cwnd += this.#mss;
  }

  /**
   * A partial ACK during recovery (RFC 6582 §3.2 step 4): deflate `cwnd` by the bytes acked, add
   * back one SMSS when at least one SMSS was acked. Ignored outside recovery.
   *
   * @param now The current instant.
   * @param bytesAcked Bytes newly acknowledged.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 20000); // cwnd 13000
   * cc.onPartialAck(10, 3000);
   * assert.equal(cc.cwnd, 11000);
   * ```
   */
  onPartialAck(_now: Instant, bytesAcked: number): void {
    if (!this.#inRecovery || !(bytesAcked > 0)) return;
    this.#timeoutPending = false;
    let cwnd = this.#cwnd - bytesAcked;
    if (bytesAcked >= this.#mss) cwnd += this.#mss;
    this.#cwnd = cwnd > this.#mss ? cwnd : this.#mss;
  }

  /**
   * Leaves recovery on the full ACK: `cwnd = ssthresh` (RFC 6582 §3.2 step 5, option 2). The socket
   * should not send the whole window back to back afterwards. Ignored outside recovery.
   *
   * @param now The current instant.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 20000);
   * cc.onExitRecovery(100);
   * assert.equal(cc.cwnd, 10000);
   * assert.equal(cc.inRecovery, false);
   * ```
   */
  onExitRecovery(_now: Instant): void {
    if (!this.#inRecovery) return;
    this.#inRecovery = false;
    this.#timeoutPending = false;
    this.#cwnd = this.#ssthresh;
  }

  /**
   * The retransmission timer fired (RFC 5681 §3.1, equation 4 and the loss window): on the first
   * timeout since the last ACK `ssthresh` is reduced from the flight; `cwnd = 1·SMSS`; recovery
   * ends; the next slow start counts at most one SMSS per ACK (RFC 3465 §2.3).
   *
   * @param now The current instant.
   * @param inFlight FlightSize when the timer fired.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onRto(0, 10000);
   * cc.onRto(1000, 10000); // backed-off retransmission of the same data: ssthresh stays
   * assert.equal(cc.ssthresh, 5000);
   * assert.equal(cc.cwnd, 1000);
   * ```
   */
  onRto(now: Instant, inFlight: number): void {
    if (!this.#timeoutPending) this.#ssthresh = this.#reduce(now, inFlight, true);
    this.#timeoutPending = true;
    this.#inRecovery = false;
    this.#afterTimeout = true;
    this.#cwnd = this.#mss;
  }

  /**
   * Undoes a spurious reduction (RFC 3522, RFC 2883; Linux `tcp_undo_cwnd_reduction`):
   * `cwnd = max(cwnd, priorCwnd)`, `ssthresh = max(ssthresh, priorSsthresh)`, recovery and the
   * post-timeout slow start end.
   *
   * @param now The current instant.
   * @param priorCwnd `cwnd` before the reduction.
   * @param priorSsthresh `ssthresh` before the reduction.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 20000); // ssthresh 10000
   * cc.onUndo(50, 20000, 1 << 30);
   * assert.equal(cc.cwnd, 20000);
   * assert.equal(cc.inRecovery, false);
   * ```
   */
  onUndo(now: Instant, priorCwnd: number, priorSsthresh: number): void {
    this.#inRecovery = false;
    this.#timeoutPending = false;
    this.#afterTimeout = false;
    if (priorSsthresh > this.#ssthresh) this.#ssthresh = priorSsthresh;
    const cwnd = priorCwnd < MAX_CWND ? priorCwnd : MAX_CWND;
    if (cwnd > this.#cwnd) this.#cwnd = cwnd;
    // Back in the initial slow start: HyStart++ watches it again (RFC 9406 §4.3).
    if (this.#ssthresh >= INITIAL_SSTHRESH && this.#hystart?.phase === "off") {
      this.#hystart.restart();
    }
    this.undone(now);
  }

  /**
   * Restart after idle (RFC 5681 §4.1): when nothing was sent for more than one RTO, `cwnd`
   * becomes min(IW, cwnd).
   *
   * @param now The current instant.
   * @param idleFor How long nothing was in flight.
   * @param rto The current retransmission timeout.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * for (let i = 0; i < 10; i++) cc.onAck(i, 1000, 10000, 50); // cwnd 20000
   * cc.onIdle(5000, 4000, 1000);
   * assert.equal(cc.cwnd, 10000);
   * ```
   */
  onIdle(_now: Instant, idleFor: Duration, rto: Duration): void {
    if (!(idleFor > rto)) return;
    const iw = this.initialWindow;
    if (this.#cwnd > iw) this.#cwnd = iw;
    this.#avoidanceBytes = 0;
    this.restarted();
  }

  /**
   * The congestion avoidance step, `cwnd` for the next ACK. NewReno counts bytes: one SMSS per
   * window of acked bytes (RFC 3465 §2.1). Subclasses replace it; the result is never allowed to
   * shrink the window.
   *
   * @param now The current instant.
   * @param cwnd The window before this ACK, in bytes (may be fractional).
   * @param bytesAcked Bytes acked by this ACK that count for congestion avoidance.
   * @param rtt The smoothed RTT, or `null`.
   * @returns The new window in bytes.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onRto(0, 4000); // ssthresh 2000, cwnd 1000
   * cc.onAck(10, 1000, 1000, 50); // slow start to 2000
   * cc.onAck(20, 1000, 1000, 50); // bytes_acked 1000 < 2000
   * cc.onAck(30, 1000, 1000, 50); // bytes_acked 2000: +1 SMSS
   * assert.equal(cc.cwnd, 3000);
   * ```
   */
  protected avoidanceWindow(
    _now: Instant,
    cwnd: number,
    bytesAcked: number,
    _rtt: number | null,
  ): number {
    this.#avoidanceBytes += bytesAcked;
    if (this.#avoidanceBytes < cwnd) return cwnd;
    // One SMSS per window; leftover credit is capped so a stretch ACK adds one SMSS at most.
    this.#avoidanceBytes -= cwnd;
    if (this.#avoidanceBytes > cwnd) this.#avoidanceBytes = cwnd;
    return cwnd + this.#mss;
  }

  /**
   * The multiplicative decrease: the new `ssthresh` after a loss. NewReno halves the flight,
   * max(FlightSize/2, 2·SMSS) (RFC 5681 equation 4). Subclasses replace it (and may update their
   * own state); `cwnd` still holds the window from before the loss when it is called.
   *
   * @param now The current instant.
   * @param inFlight FlightSize in bytes.
   * @param timeout Whether the loss was a retransmission timeout rather than fast retransmit.
   * @returns The new `ssthresh` in bytes (raised to 2·SMSS by the caller if below).
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const cc = new NewReno(1000);
   * cc.onEnterRecovery(0, 3000); // half of 3000 is below 2·SMSS
   * assert.equal(cc.ssthresh, 2000);
   * ```
   */
  protected reductionThreshold(_now: Instant, inFlight: number, _timeout: boolean): number {
    return inFlight / 2;
  }

  /**
   * Called after the window restarted from the initial window following idle; subclasses reset
   * their growth state here.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const restarts: number[] = [];
   * class Traced extends NewReno {
   *   protected override restarted(): void {
   *     restarts.push(this.cwnd);
   *   }
   * }
   * const cc = new Traced(1000);
   * cc.onIdle(0, 500, 1000); // idle for less than an RTO: the window stays
   * cc.onIdle(0, 2000, 1000); // idle for longer: back to the initial window (RFC 5681 §4.1)
   * assert.deepEqual(restarts, [10000]);
   * ```
   */
  protected restarted(): void {}

  /**
   * Called after {@linkcode NewReno.onUndo} restored the window; subclasses restore their own
   * state from before the reduction.
   *
   * @param _now The current instant.
   *
   * @example
   * ```ts
   * import { NewReno } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * class Traced extends NewReno {
   *   undos = 0;
   *   protected override undone(): void {
   *     this.undos++;
   *   }
   * }
   * const cc = new Traced(1000);
   * cc.onUndo(0, 1000, 2000);
   * assert.equal(cc.undos, 1);
   * ```
   */
  protected undone(_now: Instant): void {}

  /** Applies a reduction: the subclass's threshold, floored to whole bytes and 2·SMSS. */
  #reduce(now: Instant, inFlight: number, timeout: boolean): number {
    this.#fresh = false;
    this.#hyStart()?.stop(); // RFC 9406 §4.2: a loss ends slow start and CSS alike
    this.#avoidanceBytes = 0;
    const flight = inFlight > 0 ? (inFlight < MAX_CWND ? inFlight : MAX_CWND) : 0;
    const threshold = Math.floor(this.reductionThreshold(now, flight, timeout));
    const floor = 2 * this.#mss;
    return threshold > floor ? threshold : floor;
  }
}

/** Validates an SMSS. */
function checkMss(mss: number): number {
  if (!(mss > 0) || !Number.isFinite(mss)) throw new RangeError(`Invalid MSS ${mss}`);
  return mss;
}
