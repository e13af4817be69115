/**
 * The sender's side of an incoming ACK (RFC 9293 §3.10.7.4 "fifth, check the ACK field"):
 * RFC 5961 §5 acceptability, SND.UNA and the send window, RTT samples (RFC 6298 with Karn's
 * rule, RFC 7323 §4), congestion control, duplicate ACKs (RFC 5681 §2), the SACK scoreboard and
 * entry into loss recovery (RFC 5681 §3.2, RFC 6582, RFC 6675 §5).
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import { TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import type { TcpConn } from "./conn.ts";
import { rackBeginAck, rackOnAck, rackRecoveryEnded, usesRack } from "./recovery.ts";
import { DUP_THRESH } from "./sack.ts";
import { undoOnAck, undoOnFrto, undoRenoBegin, undoRenoOnAck } from "./undo.ts";
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

/** What the caller does with the segment after {@linkcode processAck}. */
export const AckResult = { Ok: 0, Challenge: 1 } as const;
/** One of {@linkcode AckResult}. */
export type AckResult = typeof AckResult[keyof typeof AckResult];

/** Processes the ACK field of an acceptable segment in a synchronized state. */
export function processAck(c: TcpConn, now: Instant, repr: TcpRepr): AckResult {
  const ack = repr.ack;
  // RFC 5961 §5.2: acceptable iff SND.UNA − MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT (SND.MAX here).
  if (seqGt(ack, c.sndMax) || seqLt(ack, seqAdd(c.sndUna, -c.maxSndWnd))) {
    c.counters.droppedBadAck++;
    return AckResult.Challenge;
  }
  const acked = seqSub(ack, c.sndUna);
  const win = repr.window * 2 ** c.sndShift;
  // RFC 5681 §2: a duplicate ACK carries no data, no SYN/FIN, acknowledges SND.UNA with data
  // outstanding, and leaves the window unchanged (a window update is not a duplicate).
  const dup = acked === 0 && repr.payload.length === 0 &&
    (repr.flags & (TcpFlags.SYN | TcpFlags.FIN)) === 0 && win === c.sndWnd &&
    c.sndMax !== c.sndUna;
  const rack = usesRack(c);
  const recovering = c.inRecovery || c.inLoss;
  if (rack) rackBeginAck(c, now, repr);
  if (acked > 0) onNewAck(c, now, ack, acked, repr);
  if (c.state === TcpState.Closed || c.state === TcpState.TimeWait) return AckResult.Ok;
  // RFC 9293 §3.10.7.4: update the window only from newer segments (SND.WL1/SND.WL2);
  // an old ACK (SEG.ACK < SND.UNA) is otherwise ignored.
  if (
    acked >= 0 &&
    (seqLt(c.sndWl1, repr.seq) || (c.sndWl1 === repr.seq && seqLe(c.sndWl2, ack)))
  ) {
    c.sndWnd = win;
    c.sndWl1 = repr.seq;
    c.sndWl2 = ack;
    if (win > c.maxSndWnd) c.maxSndWnd = win;
  }
  if (acked < 0) {
    // An old ACK (reordered behind a newer one) moves nothing, but its SACK and D-SACK blocks
    // are still news (Linux `tcp_ack`, old_ack): a D-SACK lost here would leave a spurious
    // recovery undone.
    if (rack && repr.sackBlocks.length > 0) rackOnAck(c, now, repr, false);
    return AckResult.Ok;
  }
  if (rack) {
    // RFC 8985: RACK-TLP decides what is lost; duplicate ACKs are only counted.
    if (dup) {
      c.dupAcks++;
      c.counters.dupAcks++;
    }
    if (acked > 0) undoOnAck(c, now, repr, recovering);
    rackOnAck(c, now, repr, acked > 0);
    if (c.undo.frtoHigh !== null && (acked > 0 || c.rack.deliveredCount > 0 || dup)) {
      undoOnFrto(c, now, recovering, acked > 0);
    }
    return AckResult.Ok;
  }
  if (dup) {
    c.dupAcks++;
    c.counters.dupAcks++;
    if (c.inRecovery && !c.sackOn) c.cc.onDupAckInRecovery(); // RFC 6582 §3.2 step 3
  }
  if (acked > 0) undoRenoOnAck(c, now, repr, recovering, acked);
  // RFC 5681 §3.2 DupThresh (raised by reordering, see undo.ts) or RFC 5827 early retransmit;
  // RFC 6582 §3.2 step 2: not again until SND.UNA passes the previous recovery point.
  if (
    !c.inRecovery && c.sndMax !== c.sndUna && seqGe(c.sndUna, c.recover) &&
    (c.dupAcks >= c.undo.dupThresh || earlyRetransmitDue(c))
  ) {
    c.inRecovery = true;
    c.recover = c.sndMax;
    c.highRxt = c.sndUna;
    c.forceRetransmit = true;
    undoRenoBegin(c, now);
    c.cc.onEnterRecovery(now, c.outstanding());
    c.counters.fastRetransmits++;
  }
  return AckResult.Ok;
}

/**
 * RFC 5827 early retransmit: with fewer than four segments outstanding and no new segment
 * allowed out (nothing unsent, or the peer's window is full), fewer than three duplicate ACKs
 * can ever come, so the threshold is the outstanding segment count less one.
 */
function earlyRetransmitDue(c: TcpConn): boolean {
  if (c.dupAcks === 0) return false;
  const mss = c.sndMss;
  const oseg = Math.ceil(c.outstanding() / mss);
  if (oseg < 2 || oseg >= DUP_THRESH + 1) return false;
  const unsent = seqSub(c.txEnd(), c.sndMax);
  if (unsent > 0) {
    const room = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndMax);
    if (room >= (unsent < mss ? unsent : mss)) return false; // limited transmit goes instead
  }
  return c.dupAcks >= oseg - 1;
}

function onNewAck(c: TcpConn, now: Instant, ack: number, acked: number, repr: TcpRepr): void {
  // RFC 7323 §4.1 / RFC 6298 §3: an RTT sample from the timestamp echo, or from the one timed
  // segment if it was never retransmitted (Karn).
  let rtt: number | null = null;
  let tsSample = false;
  const ts = repr.timestamp;
  if (c.tsOn && ts !== null && ts.tsEcr !== 0) {
    const d = (c.tsVal(now) - ts.tsEcr) >>> 0;
    if (d < 0x80000000) {
      rtt = d;
      tsSample = true;
    }
  } else if (c.rttTime !== NEVER && seqGt(ack, c.rttSeq)) {
    rtt = now - c.rttTime;
  }
  if (c.rttTime !== NEVER && seqGt(ack, c.rttSeq)) c.rttTime = NEVER;
  if (rtt !== null) {
    c.rtt.sample(rtt);
    if (rtt < c.rack.minRtt) c.rack.minRtt = rtt;
  }

  let dataAcked = acked;
  if (!c.synAcked) {
    c.synAcked = true;
    dataAcked--;
  }
  const finAcked = c.finQueued && seqGt(ack, c.txEnd());
  if (finAcked) dataAcked--;
  if (dataAcked > 0) {
    c.tx.dequeueAllocated(dataAcked < c.tx.length ? dataAcked : c.tx.length);
    // An emptied send ring starts over at its front, so the next write is contiguous: a small
    // message leaves as one segment instead of two at the wrap (a 1 KiB answer wrapped a 4 KiB
    // ring every fourth time).
    if (c.tx.length === 0) c.tx.clear();
  }
  c.sndUna = ack;
  if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
  // Without a timestamp sample, HyStart++ (only) takes RACK's per-ACK one: the newest original
  // transmission this ACK delivered (RFC 8985 §6.2). The RTO estimator keeps Karn's one timed
  // segment per round trip.
  let ackRtt = rtt;
  if (c.sackOn) {
    c.log.acked(ack, c.rack);
    const sent = c.rack.origDeliveredXmitTs;
    if (!tsSample && sent !== Number.NEGATIVE_INFINITY && now >= sent) ackRtt = now - sent;
  }
  if (seqLt(c.highRxt, ack)) c.highRxt = ack;
  c.rtoCount = 0;

  if (c.inRecovery) {
    if (seqGe(ack, c.recover)) {
      c.inRecovery = false;
      c.dupAcks = 0;
      c.forceRetransmit = false;
      c.cc.onExitRecovery(now);
      if (c.sackOn) rackRecoveryEnded(c);
    } else {
      // RFC 6582 §3.2 step 5: a partial ACK; without SACK retransmit the next hole at once.
      if (!c.sackOn) {
        c.cc.onPartialAck(now, acked);
        c.forceRetransmit = true;
        c.dupAcks = 0;
      }
    }
  } else {
    c.dupAcks = 0;
    // RFC 7661: the window is validated by the flight in use, not what this ACK left.
    const out = c.outstanding();
    const used = c.usedFlight();
    c.cc.onAck(now, acked, out, rtt, used > out + acked ? used : out + acked, ackRtt);
    if (c.inLoss && seqGe(ack, c.recover)) {
      c.inLoss = false;
      rackRecoveryEnded(c);
    }
  }
  // RFC 6298 §5.2, §5.3: stop the timer when all is acknowledged, else restart it.
  if (c.sndUna === c.sndMax) {
    c.timers.rto = NEVER;
    c.waitSince = NEVER;
  } else {
    c.timers.rto = now + c.rtt.rto;
    c.waitSince = now;
  }
  if (finAcked) {
    if (c.state === TcpState.FinWait1) c.setState(TcpState.FinWait2);
    else if (c.state === TcpState.Closing) c.enterTimeWait(now);
    else if (c.state === TcpState.LastAck) c.closeWith(null);
  }
}
