/**
 * Loss recovery of a SACK connection, driven by RACK-TLP (RFC 8985): the SACK blocks of each
 * ACK go into the segment log (D-SACK blocks, RFC 2883, are told apart and checked; absurd
 * blocks are dropped and counted), RACK marks lost segments by time, a loss starts fast
 * recovery, the reorder timer and the tail loss probe are armed, and an RTO marks everything
 * outstanding lost. Connections without SACK keep the RFC 5681 / RFC 6582 duplicate ACK
 * path in `ack.ts`.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import type { TcpConn } from "./conn.ts";
import { MAX_REORDERING, probeTimeout } from "./rack.ts";
import { DUP_THRESH } from "./sack.ts";
import { SegFlag } from "./seg_log.ts";
import { seqAdd, seqGt, seqLe, seqLt, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";
import { undoBegin, undoOnDsack } from "./undo.ts";

/** Whether `c` detects loss with RACK-TLP (SACK was negotiated). */
export function usesRack(c: TcpConn): boolean {
  return c.sackOn;
}

/** Starts RACK's per-ACK bookkeeping (before the cumulative ACK is applied to the log). */
export function rackBeginAck(c: TcpConn, now: Instant, repr: TcpRepr): void {
  const ts = repr.timestamp;
  const ecr = c.tsOn && ts !== null && ts.tsEcr !== 0 ? ts.tsEcr : -1;
  c.rack.beginAck(now, ecr, c.tsOffset);
  c.prr.unaBefore = c.sndUna;
  c.prr.sackedBefore = c.log.sackedBytes;
}

/**
 * The SACK side of an acceptable ACK (SND.UNA already moved): SACK and D-SACK blocks, RACK
 * loss marking, entry into recovery, the PRR window (RFC 6937), TLP episode bookkeeping
 * (RFC 8985 §7.4) and the reorder and probe timers. `advanced`: SND.UNA moved on this ACK.
 */
export function rackOnAck(c: TcpConn, now: Instant, repr: TcpRepr, advanced: boolean): void {
  const blocks = repr.sackBlocks;
  let dsack = false;
  let sackedNew = false;
  const una = c.sndUna;
  for (let i = 0; i < blocks.length; i++) {
    const blk = blocks[i]!;
    const l = blk[0];
    const r = blk[1];
    const len = seqSub(r, l);
    if (len <= 0 || len > c.maxSndWnd + c.sndMss) {
      c.counters.sackBlocksIgnored++; // empty, inverted or wider than anything we sent
      continue;
    }
    // RFC 2883 §4: the first block reports a duplicate when it lies below the cumulative ACK
    // of the segment that carries it (not SND.UNA: an ACK overtaken by newer ones names data
    // acknowledged since, as Linux's tcp_check_dsack compares with the ACK's own ack_seq) or
    // inside the second block.
    if (
      i === 0 &&
      (seqLe(r, repr.ack) ||
        (blocks.length > 1 && seqLe(blocks[1]![0], l) && seqLe(r, blocks[1]![1])))
    ) {
      if (seqLt(l, seqAdd(una, -c.maxSndWnd)) || seqGt(r, c.sndMax)) {
        c.counters.dsackIgnored++; // outside anything sent within a window: not ours
      } else {
        dsack = true;
        c.counters.dsacksReceived++;
        // Linux tcp_sacktag_one: a D-SACKed segment arrived late, after delivery reached FACK.
        if (seqGt(c.rack.fack, l)) c.rack.noteReordering(seqSub(c.rack.fack, l));
        undoOnDsack(c, now, l, r);
      }
      continue;
    }
    if (seqGt(r, c.sndMax)) {
      c.counters.sackBlocksIgnored++; // SACKs data never sent
      continue;
    }
    if (seqLe(r, una)) continue; // stale: already cumulatively acknowledged
    if (c.log.sack(seqLt(l, una) ? una : l, r, c.rack) > 0) sackedNew = true;
  }
  if (dsack) c.rack.onDsack(una, c.sndNxt);
  const rack = c.rack;
  if (rack.tlpEndSeq !== null) tlpOnAck(c, now, repr.ack, dsack, advanced || sackedNew);
  detectLoss(c, now);
  if (c.inRecovery) {
    // RFC 6937: DeliveredData = ΔSND.UNA + ΔSACKed.
    const prr = c.prr;
    const delivered = seqSub(c.sndUna, prr.unaBefore) + c.log.sackedBytes - prr.sackedBefore;
    prr.onAck(delivered, c.log.inFlight(), c.cc.ssthresh, c.sndMss);
  }
  // §7.2: restart the PTO on an ACK of new data; a duplicate ACK does not push it back.
  if (advanced || c.timers.probe === NEVER) armProbe(c, now);
}

/** RFC 8985 §7.4.2 (as Linux's tcp_process_tlp_ack): did the probe repair a loss? */
function tlpOnAck(
  c: TcpConn,
  now: Instant,
  ack: number,
  dsack: boolean,
  progress: boolean,
): void {
  const rack = c.rack;
  const end = rack.tlpEndSeq!;
  if (seqLt(ack, end)) return;
  if (!rack.tlpIsRetrans || dsack) {
    rack.tlpEndSeq = null; // new data delivered, or the probe was a duplicate (D-SACK)
  } else if (seqGt(ack, end)) {
    // The probe repaired a tail loss: reduce the window once, as fast recovery would.
    rack.tlpEndSeq = null;
    c.counters.tlpRecoveries++;
    if (!c.inRecovery && !c.inLoss) {
      c.cc.onEnterRecovery(now, c.tlpFlight);
      c.cc.onExitRecovery(now);
    }
  } else if (!progress) {
    rack.tlpEndSeq = null; // a pure duplicate ACK: both copies arrived, nothing was lost
  }
}

/**
 * RFC 8985 §6.2 step 5 and §6.3: marks lost segments, arms the reorder timer for those still
 * inside the window, and enters fast recovery on the first loss.
 */
export function detectLoss(c: TcpConn, now: Instant): void {
  const log = c.log;
  if (log.count === 0) {
    c.timers.reorder = NEVER;
    return;
  }
  const srtt = c.rtt.srtt ?? Number.POSITIVE_INFINITY;
  const sackedSegs = Math.ceil(log.sackedBytes / c.sndMss);
  const reo = c.rack.reoWnd(c.inRecovery || c.inLoss, sackedSegs, srtt);
  const lostBefore = log.lostBytes;
  // A learnt reordering degree above DupThresh: a segment with no more than that delivered
  // above it may be held back on the path rather than lost; it gets one more SRTT.
  const degree = c.rack.reorderBytes;
  const guarded = degree > DUP_THRESH * c.sndMss && c.rtt.srtt !== null;
  const cap = MAX_REORDERING * c.sndMss;
  const wait = guarded
    ? c.rack.detectLoss(log, now, reo, degree < cap ? degree : cap, srtt)
    : c.rack.detectLoss(log, now, reo);
  c.timers.reorder = wait > 0 ? now + wait : NEVER;
  if (log.lostBytes > lostBefore) {
    c.counters.rackLost++;
    if (!c.inRecovery && !c.inLoss) enterRecovery(c, now);
  }
}

/** RFC 6675 §5 / RFC 8985 §6.2: a loss was detected outside recovery. */
function enterRecovery(c: TcpConn, now: Instant): void {
  c.inRecovery = true;
  c.recover = c.sndMax;
  c.forceRetransmit = true;
  c.timers.probe = NEVER;
  undoBegin(c, now);
  // RFC 9438 §4.6 FlightSize: the flight in use, not what the ACKs before this one left.
  const flight = c.usedFlight();
  c.cc.onEnterRecovery(now, flight);
  c.prr.begin(flight);
  c.counters.fastRetransmits++;
}

/** The reorder timer expired (RFC 8985 §6.3 RACK_reo_timeout): look for losses again. */
export function reorderTimerFired(c: TcpConn, now: Instant): void {
  c.timers.reorder = NEVER;
  detectLoss(c, now);
}

/**
 * RFC 8985 §7.2: arms the probe timeout after new data left or an ACK arrived, when a SACK
 * connection in the open state has data outstanding; disarms it otherwise. In fast recovery it
 * is armed only while the recovery is stalled ({@linkcode recoveryStalled}), at 2·SRTT + 2 ms.
 */
export function armProbe(c: TcpConn, now: Instant): void {
  const out = c.outstanding();
  const s = c.state;
  if (
    out === 0 || c.inLoss || c.rack.tlpEndSeq !== null ||
    (s !== TcpState.Established && s !== TcpState.CloseWait && s !== TcpState.FinWait1 &&
      s !== TcpState.Closing && s !== TcpState.LastAck)
  ) {
    c.timers.probe = NEVER;
    return;
  }
  if (c.inRecovery) {
    const srtt = c.rtt.srtt;
    c.timers.probe = srtt !== null && recoveryStalled(c)
      ? probeTimeout(now, srtt, false, c.timers.rto)
      : NEVER;
    return;
  }
  c.timers.probe = probeTimeout(now, c.rtt.srtt, out <= c.sndMss, c.timers.rto);
}

/**
 * Whether fast recovery is stalled: everything marked lost was resent, and nothing new will
 * leave before an ACK comes back: no new data may go (the peer's window is full, or nothing is
 * unsent), or PRR allows less than a segment and only retransmissions are in flight (nothing
 * else un-SACKed whose ACK could clock PRR on). Then nothing will leave after the outstanding
 * retransmissions, so RACK cannot find one of them lost (RFC 8985 §6.2 needs a later
 * transmission delivered), and only the RTO would, after most of its 200 ms minimum on a short
 * path. A tail loss probe covers that case outside recovery (§7); this extends it: the probe
 * timer resends the first unSACKed segment, in the same episode (no further reduction). The
 * both-ways soak (10 % loss, 64 KiB windows) took 37/24/23 RTOs over seeds 1–3, 35/22/21 of them
 * the full-window shape; with the probe 5/1/4. bench:loss at 5 % random drop (the window a few
 * segments) timed out on the PRR shape: two retransmissions in flight, pipe 2,896 against
 * ssthresh 3,040, both lost.
 */
export function recoveryStalled(c: TcpConn): boolean {
  const log = c.log;
  if (!c.inRecovery || log.lostBytes > 0 || log.count === 0) return false;
  const unsent = seqSub(c.txEnd(), c.sndNxt);
  if (unsent <= 0) return true;
  const seg = unsent < c.sndMss ? unsent : c.sndMss;
  const room = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
  if (room < seg) return true;
  return c.prr.allowance < seg && onlyRetransmissionsInFlight(c);
}

/** Whether every un-SACKed segment in the log was retransmitted (scanned from the top). */
function onlyRetransmissionsInFlight(c: TcpConn): boolean {
  const log = c.log;
  for (let i = log.count - 1; i >= 0; i--) {
    const f = log.flags[log.slot(i)]!;
    if ((f & (SegFlag.Sacked | SegFlag.Retrans)) === 0) return false;
  }
  return true;
}

/** RFC 8985 §6.3 and RFC 5681 §3.1: an RTO marks every unSACKed segment lost. */
export function rackOnRto(c: TcpConn): void {
  c.log.markAllLost();
  c.inLoss = true;
  c.inRecovery = false;
  c.recover = c.sndMax;
  c.rack.tlpEndSeq = null;
  c.timers.probe = NEVER;
  c.timers.reorder = NEVER;
}

/**
 * Sends the whole flight again without a congestion response (RFC 1191 §6.4 after a smaller
 * path MTU): with SACK every unSACKed segment is marked lost and resent in order within cwnd
 * (as Linux's tcp_simple_retransmit); without SACK SND.NXT goes back to SND.UNA.
 */
export function resendFlight(c: TcpConn): void {
  if (usesRack(c)) {
    rackOnRto(c); // the same marking as after a timeout, without its congestion response
    return;
  }
  c.sndNxt = c.sndUna;
  c.highRxt = c.sndUna;
}

/** Recovery ends once SND.UNA reaches the recovery point (RFC 6675 §5, RFC 8985 §6.2). */
export function rackRecoveryEnded(c: TcpConn): void {
  c.rack.onRecoveryEnd();
}
