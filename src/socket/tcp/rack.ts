/**
 * RACK-TLP loss detection (RFC 8985) over the {@linkcode SegmentLog}: the most recently
 * delivered segment's transmit time (RACK.xmit_ts, RACK.end_seq, RACK.rtt), the reordering
 * window (min_RTT/4, grown per D-SACK round, §6.2), time-based loss marking with the reorder
 * timer (§6.2 step 5, §6.3), and the tail loss probe timeout (§7.2).
 *
 * Beyond RFC 8985, a reordering degree as Linux's `tp->reordering`: how far past a segment
 * delivery had gone when it arrived late (learnt from RACK's reordering detection and from
 * D-SACK, in bytes). A path that holds a packet back longer than an SRTT (the RFC's cap on the
 * window) until a number of later ones passed makes every such hold a spurious fast retransmit;
 * once such a degree is known, a segment that passed the time test with no more than that much
 * delivered above it waits up to one more SRTT before it counts as lost.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import { DUP_THRESH } from "./sack.ts";
import { SegFlag, type SegmentLog, type SegmentVisitor } from "./seg_log.ts";
import { seqGt, seqLt, seqSub } from "./seq.ts";

/** RFC 8985 §7.2: the worst-case delayed ACK time a lone segment's probe waits for. */
export const WC_DEL_ACK_T = 200;
/** RFC 8985 §6.2: RACK.reo_wnd_persist after a D-SACK round. */
const REO_WND_PERSIST = 16;
/** A time difference in ms below which a deadline counts as reached (floating-point rounding). */
const TIME_EPSILON = 1e-6;
/** Linux's `sysctl_tcp_max_reordering`: the largest reordering degree learnt, in segments. */
export const MAX_REORDERING = 300;

/** RACK state of one connection; fields are public to the tcp folder only. */
export class Rack implements SegmentVisitor {
  /** RACK.xmit_ts: transmit time of the most recently sent segment that was delivered. */
  xmitTs: Instant = Number.NEGATIVE_INFINITY;
  /** RACK.end_seq of that segment. */
  endSeq = 0;
  /** RACK.rtt: the RTT measured on that segment. */
  rtt = 0;
  /** Whether any segment was delivered yet (RACK.xmit_ts is valid). */
  valid = false;
  /** RACK.min_RTT: the least RTT seen. */
  minRtt = Number.POSITIVE_INFINITY;
  /** RACK.fack: the highest end sequence ever delivered. */
  fack = 0;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** RACK.reo_wnd_mult. */
  reoWndMult = 1;
  /** RACK.reo_wnd_persist. */
  reoWndPersist = REO_WND_PERSIST;
  /**
   * The reordering degree in bytes (Linux `tp->reordering` × MSS): the most data delivered above
   * a segment that still arrived, 0 until reordering is seen. Forgotten with the window's
   * multiplier after 16 recoveries without D-SACK.
   */
  reorderBytes = 0;
  /** RACK.dsack_round: SND.NXT when the last D-SACK round began, or `null`. */
  dsackRound: number | null = null;
  /** TLP.end_seq: SND.NXT when the outstanding probe left, or `null` when none is outstanding. */
  tlpEndSeq: number | null = null;
  /** TLP.is_retrans: whether that probe was a retransmission. */
  tlpIsRetrans = false;

  // Per-ACK delivery scan (set by `beginAck`, read by `delivered`).
  #now: Instant = 0;
  #tsEcr = -1;
  #tsOffset = 0;
  #fackBefore = 0;
  /** Segments delivered by the ACK being processed. */
  deliveredCount = 0;
  /**
   * The lowest end sequence of a never-retransmitted segment that the ACK being processed
   * delivered (newly acknowledged or SACKed), or `null` (F-RTO, RFC 5682 §3 step 3b).
   */
  origDeliveredEnd: number | null = null;
  /**
   * The latest transmit time of a never-retransmitted segment that the ACK being processed
   * delivered, or -Infinity: `now` less it is this ACK's RTT sample for delay-based slow-start
   * exit (RACK.rtt's sample, RFC 8985 §6.2 step 2, as Linux's per-ACK `ca_rtt`), free of
   * Karn's ambiguity.
   */
  origDeliveredXmitTs: Instant = Number.NEGATIVE_INFINITY;

  /** Resets the state for a new connection. */
  reset(iss: number): void {
    this.xmitTs = Number.NEGATIVE_INFINITY;
    this.endSeq = iss;
    this.rtt = 0;
    this.valid = false;
    this.minRtt = Number.POSITIVE_INFINITY;
    this.fack = iss;
    this.reorderingSeen = false;
    this.reoWndMult = 1;
    this.reoWndPersist = REO_WND_PERSIST;
    this.reorderBytes = 0;
    this.dsackRound = null;
    this.tlpEndSeq = null;
    this.tlpIsRetrans = false;
  }

  /**
   * Starts processing an ACK at `now`. `tsEcr` is the ACK's echoed timestamp (our TSval units,
   * already offset) or -1; `tsOffset` converts our transmit times to TSvals.
   */
  beginAck(now: Instant, tsEcr: number, tsOffset: number): void {
    this.#now = now;
    this.#tsEcr = tsEcr;
    this.#tsOffset = tsOffset;
    this.#fackBefore = this.fack;
    this.deliveredCount = 0;
    this.origDeliveredEnd = null;
    this.origDeliveredXmitTs = Number.NEGATIVE_INFINITY;
  }

  /** RFC 8985 §6.2 steps 2–3: RACK_update and reordering detection for one delivered record. */
  delivered(log: SegmentLog, k: number): void {
    this.deliveredCount++;
    const ts = log.xmitTs[k]!;
    const end = log.endSeq[k]!;
    const f = log.flags[k]!;
    const rtt = this.#now - ts;
    if (seqGt(end, this.fack)) this.fack = end;
    if ((f & SegFlag.Retrans) === 0) {
      if (seqLt(end, this.#fackBefore)) {
        // Linux tcp_check_sack_reordering: the distance from the highest delivered sequence.
        this.reorderingSeen = true;
        this.noteReordering(seqSub(this.#fackBefore, log.startSeq[k]!));
      }
      const o = this.origDeliveredEnd;
      if (o === null || seqLt(end, o)) this.origDeliveredEnd = end;
      if (ts > this.origDeliveredXmitTs) this.origDeliveredXmitTs = ts;
    } else {
      // Step 2: an ACK of the original transmission, or a sample too short to be real, says
      // nothing about the retransmission.
      if (this.#tsEcr >= 0 && ((this.#tsEcr - tsVal(ts, this.#tsOffset)) | 0) < 0) return;
      if (rtt < this.minRtt) return;
    }
    if (rtt >= 0 && rtt < this.minRtt) this.minRtt = rtt;
    if (!this.valid || sentAfter(ts, end, this.xmitTs, this.endSeq)) {
      this.xmitTs = ts;
      this.endSeq = end;
      this.rtt = rtt;
      this.valid = true;
    }
  }

  /**
   * RFC 8985 §6.2 step 4: the reordering window. `recovering`: in fast or RTO recovery;
   * `sackedSegs`: SACKed segments counted as the RFC's RACK.segs_sacked.
   */
  reoWnd(recovering: boolean, sackedSegs: number, srtt: number): number {
    if (!this.reorderingSeen) {
      if (recovering || sackedSegs >= DUP_THRESH) return 0;
    }
    const m = this.minRtt === Number.POSITIVE_INFINITY ? 0 : this.minRtt;
    const w = (this.reoWndMult * m) / 4;
    return w < srtt ? w : srtt;
  }

  /**
   * RFC 8985 §6.2 step 4 (D-SACK part): a D-SACK on this ACK widens the window once per round
   * trip; `sndNxt` starts the next round.
   */
  onDsack(sndUna: number, sndNxt: number): void {
    if (this.dsackRound !== null && !seqLt(sndUna, this.dsackRound)) this.dsackRound = null;
    if (this.dsackRound === null) {
      this.dsackRound = sndNxt;
      this.reoWndMult++;
      this.reoWndPersist = REO_WND_PERSIST;
      this.reorderingSeen = true;
    }
  }

  /** RFC 8985 §6.2: after 16 recoveries without D-SACK the window falls back to min_RTT/4. */
  onRecoveryEnd(): void {
    if (--this.reoWndPersist <= 0) {
      this.reoWndMult = 1;
      this.reoWndPersist = REO_WND_PERSIST;
      this.reorderBytes = 0;
    }
  }

  /** Reordering of `distance` bytes was seen: the degree grows to it (never shrinks here). */
  noteReordering(distance: number): void {
    if (distance > this.reorderBytes) this.reorderBytes = distance;
  }

  /**
   * RFC 8985 §6.2 step 5 (RACK_detect_loss): marks lost every record in flight sent before the
   * RACK segment by more than RACK.rtt + `reoWnd` ago; returns how long until the next record
   * would qualify (the reorder timeout), 0 when none waits. A record with no more than
   * `degree` bytes SACKed above it waits `extra` ms longer (the learnt reordering degree; 0
   * turns that off).
   */
  detectLoss(log: SegmentLog, now: Instant, reoWnd: number, degree = 0, extra = 0): number {
    if (!this.valid) return 0;
    let timeout = 0;
    const n = log.count;
    const sackedTotal = log.sackedBytes;
    let sackedBelow = 0;
    for (let i = 0; i < n; i++) {
      const k = log.slot(i);
      const f = log.flags[k]!;
      const ts = log.xmitTs[k]!;
      if (f & SegFlag.Sacked) sackedBelow += seqSub(log.endSeq[k]!, log.startSeq[k]!);
      // A retransmission is passed only by a segment sent strictly later: with millisecond
      // times, new data sent just before it in the same millisecond has a higher sequence.
      const passed = (f & SegFlag.Retrans) === 0
        ? sentAfter(this.xmitTs, this.endSeq, ts, log.endSeq[k]!)
        : this.xmitTs > ts;
      if (!passed) {
        // Records are in sequence order, so every later one left no earlier than this one's
        // first transmission: past a never-retransmitted record sent after RACK's, none qualifies.
        if ((f & SegFlag.Retrans) === 0) break;
        continue;
      }
      if (f & (SegFlag.Sacked | SegFlag.Lost)) continue;
      let remaining = ts + this.rtt + reoWnd - now;
      if (degree > 0 && sackedTotal - sackedBelow <= degree) remaining += extra;
      // A timer armed at `now + remaining` may fire a rounding error early: not worth a wake-up.
      if (remaining <= TIME_EPSILON) log.markLost(k);
      else if (remaining > timeout) timeout = remaining;
    }
    return timeout;
  }
}

/** RFC 8985 §6.2 RACK_sent_after: `(t1, seq1)` was sent after `(t2, seq2)`. */
export function sentAfter(t1: Instant, seq1: number, t2: Instant, seq2: number): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));
}

/** Our TSval for a transmit time (as `TcpConn.tsVal`). */
function tsVal(t: Instant, offset: number): number {
  return (Math.floor(t) + offset) >>> 0;
}

/** Added to 2·SRTT when more than one segment is in flight (Linux `TCP_TIMEOUT_MIN`). */
const PTO_SLACK = 2;

/**
 * RFC 8985 §7.2 TLP_calc_PTO: 2·SRTT, plus the worst-case delayed ACK time when one segment is
 * in flight (else a 2 ms slack, as Linux), 1 s without an RTT sample; never later than the RTO
 * deadline `rtoAt`.
 */
export function probeTimeout(
  now: Instant,
  srtt: number | null,
  oneSegment: boolean,
  rtoAt: Instant,
): Instant {
  let pto = srtt === null ? 1000 : 2 * srtt;
  if (srtt !== null) pto += oneSegment ? WC_DEL_ACK_T : PTO_SLACK;
  const at = now + pto;
  return rtoAt !== NEVER && rtoAt < at ? rtoAt : at;
}
