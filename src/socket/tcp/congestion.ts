/**
 * Pluggable congestion control for the TCP socket: the {@linkcode CongestionController} contract
 * and {@linkcode createCongestionController}, which builds NewReno (RFC 5681, RFC 6582; the
 * default) or CUBIC (RFC 9438).
 *
 * A controller owns `cwnd` and `ssthresh`, in bytes, and nothing else: the socket detects ACKs,
 * duplicate ACKs, loss and idleness, and tells the controller through one call per event. Time
 * arrives as the `now` argument (milliseconds); controllers never read a clock.
 *
 * How the socket drives a controller:
 * - a new cumulative ACK outside recovery: {@linkcode CongestionController.onAck};
 * - the third duplicate ACK (fast retransmit): {@linkcode CongestionController.onEnterRecovery};
 * - each further duplicate ACK while in recovery, when the socket inflates the window the RFC 6582
 *   way (no SACK pipe accounting): {@linkcode CongestionController.onDupAckInRecovery};
 * - an ACK in recovery below the recovery point: {@linkcode CongestionController.onPartialAck};
 * - the ACK that reaches the recovery point: {@linkcode CongestionController.onExitRecovery}
 *   (and no `onAck` for that ACK);
 * - the retransmission timer fires: {@linkcode CongestionController.onRto};
 * - new data is about to leave after nothing was in flight: {@linkcode CongestionController.onIdle};
 * - the last reduction proved spurious: {@linkcode CongestionController.onUndo}.
 *
 * The socket may send while (bytes in flight + next segment) ≤ `cwnd` (and the peer's window).
 *
 * @module
 */

import { Cubic } from "./cubic.ts";
import type { HyStart } from "./hystart.ts";
import { NewReno } from "./newreno.ts";
import type { Duration, Instant } from "../../time.ts";

/**
 * The congestion control algorithms on offer.
 *
 * @example
 * ```ts
 * import { CongestionKind, createCongestionController } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(createCongestionController(CongestionKind.Cubic, 1460).name, "cubic");
 * ```
 */
export const CongestionKind = { NewReno: "newreno", Cubic: "cubic" } as const;

/**
 * `"newreno"` or `"cubic"`.
 *
 * @example
 * ```ts
 * import { createCongestionController } from "@smol/net/socket";
 * import type { CongestionKind } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const kind: CongestionKind = "newreno";
 * assert.equal(createCongestionController(kind, 1460).name, "newreno");
 * ```
 */
export type CongestionKind = typeof CongestionKind[keyof typeof CongestionKind];

/**
 * Options shared by every controller.
 *
 * @example
 * ```ts
 * import { createCongestionController, type CongestionOptions } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const opts: CongestionOptions = { initialWindowSegments: 4 };
 * assert.equal(createCongestionController("newreno", 1000, opts).cwnd, 4000);
 * ```
 */
export interface CongestionOptions {
  /**
   * The initial window in segments (RFC 6928: 10). The window is
   * min(n·SMSS, max(2·SMSS, n·1460)) bytes, which for n = 10 is RFC 6928's
   * min(10·MSS, max(2·MSS, 14600)).
   */
  initialWindowSegments?: number;
  /**
   * HyStart++ (RFC 9406) in the initial slow start, default `true` (Linux's CUBIC has HyStart
   * on by default): a rising RTT ends slow start before the path's queue overflows. `false`
   * leaves slow start only on loss.
   */
  hystart?: boolean;
}

/**
 * What the TCP socket calls on its congestion controller. Windows are in bytes, times in
 * milliseconds. See the module documentation for which event maps to which call.
 *
 * @example
 * ```ts
 * import { type CongestionController, createCongestionController } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const cc: CongestionController = createCongestionController("newreno", 1000);
 * cc.onAck(100, 1000, 9000, 100); // one segment acked, slow start: +1 MSS
 * assert.equal(cc.cwnd, 11000);
 * cc.onEnterRecovery(200, 11000);
 * assert.equal(cc.ssthresh, 5500);
 * assert.equal(cc.cwnd, 8500);
 * ```
 */
export interface CongestionController {
  /** Which algorithm this is. */
  readonly name: CongestionKind;
  /** The congestion window in bytes; never below one SMSS. */
  readonly cwnd: number;
  /** The slow start threshold in bytes (very large until the first loss or HyStart++ exit). */
  readonly ssthresh: number;
  /** HyStart++ (RFC 9406) with its phase and counters, `null` when turned off. */
  readonly hystart: HyStart | null;
  /**
   * Sets the sender maximum segment size (after the handshake, or on a path MTU change). Before
   * the first ACK or loss this also resets `cwnd` to the initial window for the new size.
   *
   * @param mss SMSS in bytes, positive.
   */
  setMss(mss: number): void;
  /**
   * A new cumulative ACK outside recovery: slow start or congestion avoidance growth. The window
   * grows only while it is in use: when the flight in use (`usedFlight`, by default the flight
   * before this ACK, `inFlight + bytesAcked`) was at least half of `cwnd` (RFC 7661 §4.3).
   *
   * @param now The current instant.
   * @param bytesAcked Bytes newly acknowledged by this ACK (SND.UNA advance).
   * @param inFlight Bytes still outstanding after this ACK (SND.NXT − SND.UNA).
   * @param rtt The RTT sample this ACK gave in milliseconds (RFC 7323 timestamps, or the timed
   * segment), or `null` when it gave none. HyStart++ takes the minimum per round.
   * @param usedFlight The most bytes outstanding in the current round (the connection passes
   * it so that ACKs taken in a batch, which drain the pipe before anything is sent, still
   * count as a window in use); default `inFlight + bytesAcked`.
   * @param ackRtt This ACK's RTT sample for HyStart++ only, default `rtt`: without timestamps
   * the connection passes RACK's sample of the newest original transmission it acknowledges
   * (RFC 8985 §6.2), which most ACKs give, while `rtt` keeps Karn's one timed segment.
   */
  onAck(
    now: Instant,
    bytesAcked: number,
    inFlight: number,
    rtt: number | null,
    usedFlight?: number,
    ackRtt?: number | null,
  ): void;
  /**
   * Fast retransmit: the third duplicate ACK arrived (RFC 6582 §3.2 step 2). Sets `ssthresh` from
   * the flight and `cwnd = ssthresh + 3·SMSS`.
   *
   * @param now The current instant.
   * @param inFlight FlightSize: bytes outstanding when the loss was detected.
   */
  onEnterRecovery(now: Instant, inFlight: number): void;
  /**
   * Another duplicate ACK during recovery: `cwnd += SMSS`, one segment has left the network
   * (RFC 6582 §3.2 step 3). A socket that limits sending by an RFC 6675 SACK pipe estimate
   * instead does not call this. Ignored outside recovery.
   */
  onDupAckInRecovery(): void;
  /**
   * A partial ACK during recovery (RFC 6582 §3.2 step 4): `cwnd` deflates by the bytes acked and
   * gets one SMSS back when at least one SMSS was acked. Ignored outside recovery.
   *
   * @param now The current instant.
   * @param bytesAcked Bytes newly acknowledged by the partial ACK.
   */
  onPartialAck(now: Instant, bytesAcked: number): void;
  /**
   * The full ACK that ends recovery (RFC 6582 §3.2 step 5): `cwnd = ssthresh` (option 2 of that
   * step). The socket should avoid sending the whole window in one burst afterwards.
   *
   * @param now The current instant.
   */
  onExitRecovery(now: Instant): void;
  /**
   * The retransmission timer expired (RFC 5681 §3.1): `ssthresh` from the flight, `cwnd` to the
   * loss window of one SMSS, recovery ends. A repeated timeout before any new ACK keeps
   * `ssthresh` (RFC 5681 §3.1: only the first RTO of a segment lowers it).
   *
   * @param now The current instant.
   * @param inFlight FlightSize: bytes outstanding when the timer fired.
   */
  onRto(now: Instant, inFlight: number): void;
  /**
   * The sender is about to send after `idleFor` ms with nothing in flight. When `idleFor > rto`,
   * `cwnd` restarts from min(IW, cwnd) (RFC 5681 §4.1).
   *
   * @param now The current instant.
   * @param idleFor How long nothing was in flight.
   * @param rto The current retransmission timeout.
   */
  onIdle(now: Instant, idleFor: Duration, rto: Duration): void;
  /**
   * The last reduction was spurious (a D-SACK or a timestamp showed that the retransmissions
   * were not needed, RFC 2883, RFC 3522): `cwnd` and `ssthresh` go back up to at least the values
   * from before it, as Linux's undo does, and recovery ends.
   *
   * @param now The current instant.
   * @param priorCwnd `cwnd` before the reduction.
   * @param priorSsthresh `ssthresh` before the reduction.
   */
  onUndo(now: Instant, priorCwnd: number, priorSsthresh: number): void;
}

/**
 * Builds a congestion controller.
 *
 * @param kind `"newreno"` (the default choice of the socket) or `"cubic"`.
 * @param mss The sender maximum segment size in bytes.
 * @param options See {@linkcode CongestionOptions}.
 * @returns A controller with `cwnd` at the initial window.
 * @throws {RangeError} When `mss` is not positive or the initial window is less than one
 * segment.
 * @throws {TypeError} When `kind` is not a known algorithm.
 *
 * @example
 * ```ts
 * import { createCongestionController } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const cc = createCongestionController("cubic", 1460);
 * assert.equal(cc.name, "cubic");
 * assert.equal(cc.cwnd, 14600);
 * ```
 */
export function createCongestionController(
  kind: CongestionKind,
  mss: number,
  options?: CongestionOptions,
): CongestionController {
  switch (kind) {
    case CongestionKind.NewReno:
      return new NewReno(mss, options);
    case CongestionKind.Cubic:
      return new Cubic(mss, options);
    default:
      throw new TypeError(`Unknown congestion control "${kind as string}"`);
  }
}
