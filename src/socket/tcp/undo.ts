/**
 * Undo of spurious loss recovery, as Linux does it (`tcp_init_undo`, `tcp_try_undo_*`): a
 * recovery episode (fast recovery or RTO recovery) remembers `cwnd` and `ssthresh` from before
 * its reduction and counts its retransmissions. It was spurious when D-SACK blocks (RFC 2883
 * §4, RFC 3708) report every one of those retransmissions as a duplicate, or when an ACK during
 * recovery echoes a timestamp older than the first retransmission (Eifel, RFC 3522: the ACK
 * was for the original transmission), or, after a retransmission timeout and without
 * timestamps, when the first ACK after it delivers a segment sent before the timeout and never
 * retransmitted (the SACK-enhanced F-RTO test of RFC 5682 §3, step 3b, as Linux's
 * `FLAG_ORIG_SACK_ACKED`: not everything was lost, the timeout was premature). Then the window
 * comes back, the lost marks are cleared and recovery ends. When that first ACK advances SND.UNA
 * with only retransmitted data (the late original of the resent segment looks the same), F-RTO
 * step 2b probes: new data goes instead of further retransmissions (the congestion window, two
 * segments by then, bounds it), and the next ACK decides by the same test (step 3; Linux's
 * `REXMIT_NEW`). Without new data to send, or with the peer's window full, recovery goes on
 * conventionally, as RFC 5682 §3 recommends.
 *
 * Episodes overlap: a timeout in fast recovery continues its episode (as Linux keeps
 * `undo_marker` then), and an episode that begins while the previous one's D-SACKs may still be
 * on the way joins it in a run ({@linkcode undoBegin}). An episode shown spurious restores the
 * window from before it; the window from before the run's first reduction comes back only once
 * every retransmission of the run is shown spurious. Each undo counts in `spuriousUndos`.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import type { TcpConn } from "./conn.ts";
import { MAX_REORDERING } from "./rack.ts";
import { DUP_THRESH } from "./sack.ts";
import { SegFlag } from "./seg_log.ts";
import { seqLe, seqLt } from "./seq.ts";

/** The undo state of the current recovery episode; fields are public to the tcp folder only. */
export class UndoState {
  /**
   * SND.UNA when the first episode of the run began (a run is one episode, or several joined
   * by {@linkcode undoBegin}), or `null` when nothing can be undone.
   */
  marker: number | null = null;
  /** SND.UNA when the current episode began: D-SACKs below it are for earlier episodes. */
  start = 0;
  /** Segments retransmitted in the current episode that no D-SACK has yet shown to be duplicates. */
  retrans = 0;
  /** Segments retransmitted in the run's earlier episodes not yet shown to be duplicates. */
  carried = 0;
  /** The current episode was shown spurious and its reduction undone; earlier ones still wait. */
  proven = false;
  /** When the current episode's first retransmission left, `NEVER` before it. */
  stamp: Instant = NEVER;
  /** When the run's latest retransmission left, `NEVER` before it. */
  lastRetx: Instant = NEVER;
  /** `cwnd` before the current episode's reduction. */
  priorCwnd = 0;
  /** `ssthresh` before the current episode's reduction. */
  priorSsthresh = 0;
  /** `cwnd` before the run's first reduction. */
  firstCwnd = 0;
  /** `ssthresh` before the run's first reduction. */
  firstSsthresh = 0;
  /** F-RTO: SND.MAX when the first timeout of the episode fired, `null` when F-RTO is off. */
  frtoHigh: number | null = null;
  /**
   * F-RTO step 3 (RFC 5682 §3): step 2b sent new data instead of retransmissions; the next ACK
   * decides, and until then nothing is retransmitted.
   */
  frtoProbing = false;
  /**
   * Without SACK: the duplicate ACKs that start fast recovery. RFC 5681's 3, raised for this
   * connection when a fast retransmit proves spurious (Linux's `tp->reordering` for a peer
   * without SACK), at most `MAX_REORDERING`.
   */
  dupThresh: number = DUP_THRESH;
}

/**
 * A recovery episode begins (call before the controller reduces the window). As Linux's
 * `retrans_stamp`, the stamp is the earliest retransmission still unacknowledged: an ACK for a
 * retransmission of an earlier episode must not look like one for an original transmission.
 *
 * When the previous episode's evidence may still come (some of its retransmissions are not yet
 * shown duplicates, and the latest left less than an RTO ago: its D-SACK can still be on the
 * way), the new episode joins it in one run, as Linux's `undo_marker` / `undo_retrans` span a
 * timeout that falls in fast recovery: the run's marker and its window from before the first
 * reduction stay, and D-SACKs for either episode count. Each episode is still judged on its own
 * evidence: the current one shown spurious restores the window from before it, and the window
 * from before the first comes back only once every retransmission of the run is shown spurious.
 */
export function undoBegin(c: TcpConn, now: Instant): void {
  const u = c.undo;
  const cc = c.cc;
  if (
    u.marker !== null && u.retrans + u.carried > 0 && u.lastRetx !== NEVER &&
    now - u.lastRetx < c.rtt.rto
  ) {
    u.carried += u.retrans > 0 ? u.retrans : 0;
    c.counters.undoJoined++;
  } else {
    u.marker = c.sndUna;
    u.carried = 0;
    u.firstCwnd = cc.cwnd;
    u.firstSsthresh = cc.ssthresh;
  }
  u.start = c.sndUna;
  u.retrans = 0;
  u.proven = false;
  u.stamp = NEVER;
  const log = c.log;
  for (let i = 0; i < log.count; i++) {
    const k = log.slot(i);
    if ((log.flags[k]! & SegFlag.Retrans) !== 0 && log.xmitTs[k]! < u.stamp) {
      u.stamp = log.xmitTs[k]!;
    }
  }
  u.priorCwnd = cc.cwnd;
  u.priorSsthresh = cc.ssthresh;
}

/** A retransmission of `len` bytes left at `now`. */
export function undoNoteRetransmit(c: TcpConn, now: Instant, len: number): void {
  const u = c.undo;
  if (u.marker === null) return;
  u.retrans += len > c.sndMss ? Math.ceil(len / c.sndMss) : 1;
  if (u.stamp === NEVER) u.stamp = now;
  u.lastRetx = now;
}

/**
 * A valid D-SACK block `[left, right)` arrived: when it names data of the run, its segments were
 * received twice. Once every retransmission of the current episode is accounted for, that
 * episode was spurious (RFC 3708 §3); once those of the earlier episodes of the run are too, the
 * whole run was.
 */
export function undoOnDsack(c: TcpConn, now: Instant, left: number, right: number): void {
  const u = c.undo;
  if (u.marker === null || seqLt(left, u.marker)) return;
  const len = right - left >>> 0;
  const segs = len > c.sndMss ? Math.ceil(len / c.sndMss) : 1;
  if (seqLt(left, u.start)) {
    if (u.carried <= 0) return;
    u.carried -= segs;
    if (u.carried <= 0 && u.proven) undo(c, now);
    return;
  }
  if (u.retrans <= 0) return;
  u.retrans -= segs;
  if (u.retrans <= 0) episodeSpurious(c, now);
}

/**
 * Eifel detection (RFC 3522 §3.2) on an ACK that acknowledged new data while in fast or RTO
 * recovery (`recovering`, taken before the ACK ended it): its echoed timestamp predates the
 * first retransmission, so the original transmission arrived.
 */
export function undoOnAck(c: TcpConn, now: Instant, repr: TcpRepr, recovering: boolean): void {
  const u = c.undo;
  if (!recovering || u.marker === null || u.stamp === NEVER || !c.tsOn) return;
  const ts = repr.timestamp;
  if (ts === null || ts.tsEcr === 0) return;
  if (((ts.tsEcr - c.tsVal(u.stamp)) | 0) < 0) episodeSpurious(c, now);
}

/**
 * F-RTO (RFC 5682 §3, SACK-enhanced) on an acceptable ACK after a retransmission timeout
 * (`recovering`: in RTO recovery before this ACK; `advanced`: it moved SND.UNA): when it
 * delivered a segment sent before the timeout that was never retransmitted, the timeout was
 * spurious and is undone (step 3b). A first ACK that advanced SND.UNA with nothing else, while
 * new data may go, starts step 2b: new data is sent instead of retransmissions and the next ACK
 * decides. Otherwise (a duplicate ACK, or SACKs of new data only: step 3a) conventional RTO
 * recovery goes on.
 */
export function undoOnFrto(c: TcpConn, now: Instant, recovering: boolean, advanced: boolean): void {
  const u = c.undo;
  const high = u.frtoHigh;
  if (high === null) return;
  const probing = u.frtoProbing;
  u.frtoHigh = null;
  u.frtoProbing = false;
  if (!recovering || u.marker === null) return;
  const orig = c.rack.origDeliveredEnd;
  if (orig !== null && seqLe(orig, high)) {
    c.counters.frtoUndos++;
    episodeSpurious(c, now);
    return;
  }
  if (!probing && advanced && seqLt(c.sndUna, high) && newDataMayGo(c)) {
    u.frtoHigh = high; // step 2b: the next ACK decides
    u.frtoProbing = true;
  }
}

/**
 * Fast recovery without SACK begins on duplicate ACKs (RFC 6582; call before the controller
 * reduces the window). Its retransmission leaves no earlier than `now`, which stands for it in
 * the tests of {@linkcode undoRenoOnAck}.
 */
export function undoRenoBegin(c: TcpConn, now: Instant): void {
  undoBegin(c, now);
  c.undo.stamp = now;
}

/**
 * Without SACK, an ACK that acknowledged `acked` new bytes while in fast recovery
 * (`recovering`, taken before the ACK) shows the fast retransmit spurious when it echoes a
 * timestamp older than the retransmission (Eifel, RFC 3522) or, without timestamps, when it came
 * sooner than the connection's minimum RTT after the retransmission left (no answer to it can be
 * that fast: the original arrived, as Linux's RACK reasons with `tcp_min_rtt`). Then the window
 * comes back, and the segments it acknowledged above the resent one (they overtook the
 * original: the reordering degree) raise the duplicate-ACK threshold to one more than them,
 * as Linux raises `tp->reordering` (capped by `tcp_max_reordering`, 300).
 */
export function undoRenoOnAck(
  c: TcpConn,
  now: Instant,
  repr: TcpRepr,
  recovering: boolean,
  acked: number,
): void {
  const u = c.undo;
  if (!recovering || u.marker === null || u.stamp === NEVER) return;
  if (c.tsOn) {
    const ts = repr.timestamp;
    if (ts === null || ts.tsEcr === 0 || ((ts.tsEcr - c.tsVal(u.stamp)) | 0) >= 0) return;
  } else {
    const minRtt = c.rack.minRtt;
    if (!(now - u.stamp < minRtt)) return; // also without an RTT sample (minRtt infinite)
  }
  const above = Math.ceil(acked / c.sndMss) - 1;
  const thresh = above + 1 < MAX_REORDERING ? above + 1 : MAX_REORDERING;
  if (thresh > u.dupThresh) {
    u.dupThresh = thresh;
    c.counters.dupThreshRaised++;
  }
  episodeSpurious(c, now);
}

/**
 * A retransmission timeout without SACK: when the duplicate ACKs outside recovery reached
 * RFC 5681's threshold but not the raised one, the reordering degree was over-estimated and a
 * loss waited for the timer; the threshold goes back to 3 (Linux's `tcp_enter_loss`).
 */
export function undoRenoOnRto(c: TcpConn): void {
  const u = c.undo;
  if (!c.inRecovery && c.dupAcks >= DUP_THRESH && u.dupThresh > DUP_THRESH) {
    u.dupThresh = DUP_THRESH;
  }
}

/** Whether unsent data exists and the peer's window has room for some of it. */
function newDataMayGo(c: TcpConn): boolean {
  const next = c.sndNxt;
  return seqLt(next, c.txEnd()) && seqLt(next, c.sndUna + c.sndWnd >>> 0);
}

/**
 * The current episode was shown spurious: with nothing of the run's earlier episodes still
 * unproven the whole run is undone; otherwise only this episode's reduction is, and the run
 * waits for the rest of its evidence.
 */
function episodeSpurious(c: TcpConn, now: Instant): void {
  const u = c.undo;
  if (u.carried <= 0) {
    undo(c, now);
    return;
  }
  c.cc.onUndo(now, u.priorCwnd, u.priorSsthresh);
  u.retrans = 0;
  u.proven = true;
  endRecovery(c);
}

/** Restores the window from before the run and ends recovery (Linux `tcp_undo_cwnd_reduction`). */
function undo(c: TcpConn, now: Instant): void {
  const u = c.undo;
  c.cc.onUndo(now, u.firstCwnd, u.firstSsthresh);
  u.marker = null;
  u.carried = 0;
  u.proven = false;
  endRecovery(c);
}

function endRecovery(c: TcpConn): void {
  c.log.clearLost();
  c.inRecovery = false;
  c.inLoss = false;
  c.forceRetransmit = false;
  c.undo.frtoHigh = null;
  c.undo.frtoProbing = false;
  c.counters.spuriousUndos++;
}
