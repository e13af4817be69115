/**
 * The send path: what `dispatch` sends next and what `pollAt` reports. Deciding is split from
 * doing: {@linkcode plan} fills the connection's plan fields (allocating nothing),
 * {@linkcode buildSegment} turns the plan into a `TcpRepr`, and {@linkcode commitSegment} applies
 * its effects only after the emitter took it.
 *
 * Rules applied: retransmission on RTO from SND.UNA with backoff (RFC 6298 §5); with SACK, tail
 * loss probes and the resending of what RACK marked lost (RFC 8985) within PRR's window in fast
 * recovery (RFC 6937), without SACK the RFC 6582 NewReno retransmission; the congestion and
 * peer windows, sender SWS avoidance (RFC 9293 §3.8.6.2.1), Nagle with the
 * Minshall refinement (at most one small segment in flight; RFC 896, RFC 1122 §4.2.3.4), PSH on
 * the segment that empties the send buffer, zero window probes with backoff (RFC 9293
 * §3.8.6.1), keep-alive probes (RFC 1122 §4.2.3.6), delayed ACKs and window updates.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import { TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import {
  EMPTY,
  Plan,
  SACK_BLOCK_LEN,
  SACK_OPTION_BASE,
  type TcpConn,
  TS_OPTION_LEN,
} from "./conn.ts";
import { ecnSynFlags, IpEcn } from "./ecn.ts";
import {
  fastOpenHolds,
  fastOpenOnExpiry,
  fastOpenOnTimeout,
  fastOpenSynData,
  withFastOpen,
} from "./fast_open.ts";
import {
  mtuProbeOnRetransmit,
  mtuProbeOnRto,
  mtuProbeSent,
  mtuProbeSize,
  mtuRoom,
} from "./plpmtud.ts";
import { windowUpdateDue } from "./recv.ts";
import { armProbe, rackOnRto, recoveryStalled, reorderTimerFired } from "./recovery.ts";
import { undoBegin, undoNoteRetransmit, undoRenoOnRto } from "./undo.ts";
import { SegFlag } from "./seg_log.ts";
import { seqAdd, seqGt, seqLe, seqLt, seqMax, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

const MAX_PERSIST: number = 60_000;

/**
 * Applies timeouts that end the connection (RFC 9293 §3.8.3, RFC 5482, RFC 1122 §4.2.3.6) and
 * the RACK reorder timer (RFC 8985 §6.3).
 */
export function checkTimeouts(c: TcpConn, now: Instant): void {
  const s = c.state;
  if (s === TcpState.Closed || s === TcpState.Listen) return;
  const t = c.timers;
  if (t.reorder <= now) reorderTimerFired(c, now);
  if (s === TcpState.TimeWait) {
    if (now >= t.timeWait) c.closeWith(null);
    return;
  }
  if ((s === TcpState.SynSent || s === TcpState.SynReceived) && now >= t.connect) {
    if (c.tfoSynData !== 0) fastOpenOnExpiry(c, now);
    c.closeWith("timedOut");
    return;
  }
  if (now >= t.rto && c.rtoCount >= c.o.maxRetransmissions) {
    if (c.tfoSynData !== 0) fastOpenOnExpiry(c, now);
    c.closeWith("timedOut");
    return;
  }
  // RFC 8899 §4.3: repeated timeouts may be a black hole; the timeout's segment then goes in
  // the smaller size (the same condition as plan's retransmission on RTO).
  if (c.mtuProbe !== null && t.rto <= now && c.sndUna !== c.sndMax && t.probe > t.rto) {
    mtuProbeOnRto(c, now);
  }
  if (c.userTimeout !== null && now >= c.waitSince + c.userTimeout) {
    if (c.tfoSynData !== 0) fastOpenOnExpiry(c, now);
    c.closeWith("timedOut");
    return;
  }
  const ka = c.keepAlive;
  if (ka !== null && c.kaProbes >= ka.count && now >= keepAliveDue(c)) {
    c.closeWith("timedOut");
    return;
  }
  if (c.persistProbes > c.o.maxRetransmissions && now >= t.persist) c.closeWith("timedOut");
}

/** When the next keep-alive probe (or the give-up check) is due, `NEVER` when not applicable. */
export function keepAliveDue(c: TcpConn): Instant {
  const ka = c.keepAlive;
  if (ka === null) return NEVER;
  const s = c.state;
  if (s !== TcpState.Established && s !== TcpState.CloseWait && s !== TcpState.FinWait2) {
    return NEVER;
  }
  if (c.sndUna !== c.sndMax) return NEVER; // the retransmission timer is in charge
  return c.lastRecv + ka.idle + c.kaProbes * ka.interval;
}

/** The next deadline of `c` (for `pollAt`), `NEVER` when idle. Does not consider the plan. */
export function nextDeadline(c: TcpConn): Instant {
  let t = c.timers.earliest();
  const ka = keepAliveDue(c);
  if (ka < t) t = ka;
  if (c.userTimeout !== null && c.waitSince !== NEVER) {
    const u = c.waitSince + c.userTimeout;
    if (u < t) t = u;
  }
  return t;
}

function persistInterval(c: TcpConn): number {
  const t = c.rtt.rto * 2 ** c.persistShift;
  return t > MAX_PERSIST ? MAX_PERSIST : t;
}

function setPlan(c: TcpConn, kind: Plan, seq: number, len: number, fin: boolean): Plan {
  c.pKind = kind;
  c.pSeq = seq;
  c.pLen = len;
  c.pFin = fin;
  return kind;
}

/**
 * Decides the next segment at `now` into `c.p*`. Arms or disarms the persist timer (the only
 * state it touches; doing so twice is harmless).
 */
export function plan(c: TcpConn, now: Instant, ipMtu: number, offloadMax = 0): Plan {
  c.pRto = false;
  c.pHole = false;
  c.pIdle = false;
  c.pKeepAlive = false;
  c.pCut = false;
  c.pTlp = false;
  c.pStall = false;
  c.pProbe = false;
  c.pKind = Plan.None;
  if (c.rstPending) return setPlan(c, Plan.Rst, c.ackSeq(), 0, false);
  const s = c.state;
  const t = c.timers;
  switch (s) {
    case TcpState.Closed:
    case TcpState.Listen:
      return Plan.None;
    case TcpState.TimeWait:
      return c.ackNow || t.delayedAck <= now
        ? setPlan(c, Plan.Ack, c.ackSeq(), 0, false)
        : Plan.None;
    case TcpState.SynSent:
    case TcpState.SynReceived: {
      const rtoDue = t.rto <= now && c.sndMax !== c.iss;
      if (c.sndNxt === c.iss || rtoDue) {
        // RFC 7413: a Fast Open SYN waits briefly for the data it can carry.
        if (!rtoDue && t.hold !== NEVER && fastOpenHolds(c, now)) return Plan.None;
        c.pRto = rtoDue;
        const data = rtoDue || c.tfoCookie === null ? 0 : fastOpenSynData(c, ipMtu);
        return setPlan(c, Plan.Syn, c.iss, data, false);
      }
      return c.ackNow ? setPlan(c, Plan.Ack, c.ackSeq(), 0, false) : Plan.None;
    }
  }
  // RFC 6691: a full-sized segment is SMSS less the options this segment carries.
  const mss = c.pMss = c.segmentRoom(ipMtu);
  const base = c.txBase();
  const txEnd = seqAdd(base, c.tx.length);
  const finQ = c.finQueued;

  // RFC 6298 §5.4: on expiry retransmit the earliest unacknowledged segment.
  // A tail loss probe due no later than the RTO goes first (RFC 8985 §7.2: PTO ≤ RTO).
  if (t.rto <= now && c.sndUna !== c.sndMax && t.probe > t.rto) {
    c.pRto = true;
    c.pHole = c.sackOn; // with SACK, SND.NXT stays: lost segments are resent in order
    // With SACK the resend is a hole and moves neither SND.NXT nor SND.MAX: it must not reach
    // past SND.MAX, or the peer's ACK of it would acknowledge data never sent (a flight smaller
    // than a segment, limited by the peer's window, was resent as a full segment).
    const dataEnd = c.sackOn && seqLt(c.sndMax, txEnd) ? c.sndMax : txEnd;
    const avail = seqSub(dataEnd, c.sndUna);
    const len = avail < mss ? avail : mss;
    return setPlan(c, Plan.Data, c.sndUna, len, finQ && seqAdd(c.sndUna, len) === txEnd);
  }

  if (c.sackOn) {
    const p = planRack(c, now, mss, txEnd);
    if (p !== Plan.None) return p;
  } else if (c.inRecovery && c.forceRetransmit) {
    // Loss recovery without SACK: the RFC 6582 retransmission (fast retransmit or the hole
    // after a partial ACK), one whole segment from HighRxt.
    const from = seqSub(c.highRxt, c.sndUna);
    const out = c.outstanding();
    if (from >= 0 && from < out) {
      const seq = c.highRxt;
      const dataLeft = seqSub(txEnd, seq);
      let len = out - from < mss ? out - from : mss;
      if (len > dataLeft) len = dataLeft > 0 ? dataLeft : 0;
      c.pHole = true;
      return setPlan(c, Plan.Data, seq, len, finQ && seqAdd(seq, len) === txEnd);
    }
  }

  // New data (RFC 9293 §3.8.6.2.1, RFC 5681 §3.1).
  const seq = c.sndNxt;
  const avail = seqSub(txEnd, seq);
  const finToSend = finQ && seqLe(seq, txEnd);
  if (c.mtuProbe !== null && avail > 0) {
    // RFC 8899: a path MTU probe, one segment larger than the MSS, of new data.
    const len = mtuProbeSize(c, now, mtuRoom(c, ipMtu), avail);
    if (len > 0) {
      c.pProbe = true;
      t.persist = NEVER;
      return setPlan(c, Plan.Data, seq, len, finToSend && seqAdd(seq, len) === txEnd);
    }
  }
  if (avail > 0 || finToSend) {
    const wndLimit = seqSub(seqAdd(c.sndUna, c.sndWnd), seq);
    // With SACK the flight excludes SACKed and lost bytes (RFC 6675 §4 pipe) and in fast
    // recovery PRR (RFC 6937) says how much may leave; without SACK the controller's cwnd is
    // inflated per duplicate ACK (RFC 6582) against the outstanding bytes.
    const flight = c.sackOn ? c.log.inFlight() : seqSub(c.sndNxt, c.sndUna);
    let cwndLimit = c.sackOn && c.inRecovery ? c.prr.allowance : c.cc.cwnd - flight;
    // RFC 3042 limited transmit: the first two duplicate ACKs each let one new segment go
    // beyond cwnd (flight ≤ cwnd + 2·SMSS), so that a small window still makes three of them.
    if (!c.inRecovery && !c.sackOn && c.dupAcks > 0) {
      cwndLimit += (c.dupAcks < 2 ? c.dupAcks : 2) * c.sndMss;
    }
    let usable = wndLimit < cwndLimit ? wndLimit : cwndLimit;
    if (usable < 0) usable = 0;
    let len = avail < mss ? avail : mss;
    if (offloadMax > 0 && avail > mss && usable >= 2 * mss) {
      // The device segments: whole MSS units within both windows, so it cuts what we would send.
      const room = offloadRoom(c, mss, ipMtu, offloadMax);
      const g = avail < room ? (avail < usable ? avail : usable) : (room < usable ? room : usable);
      if (g > mss) len = g - g % mss;
    }
    if (len > usable) len = usable;
    let blocked = false;
    if (len === 0) {
      // A lone FIN takes no window; it waits only for the congestion window.
      blocked = !(avail === 0 && finToSend && (cwndLimit > 0 || flight === 0));
    } else if (len < mss && len < avail) {
      // Window-limited to a partial segment (sender SWS avoidance, RFC 9293 §3.8.6.2.1): send it
      // when it is at least half the largest window the peer ever offered, or, as Linux does,
      // when it fills the usable window and Nagle's test passes (no other small segment is
      // unacknowledged), so at most one runt per round trip. Never when cwnd is the limit.
      blocked = !(wndLimit <= cwndLimit &&
        (len >= c.maxSndWnd / 2 || !(c.smallOut && seqGt(c.smallEnd, c.sndUna))));
    } else if (len < mss && !c.noDelay && !finToSend) {
      // Nagle/Minshall: hold a small segment while another small one is unacknowledged.
      blocked = c.smallOut && seqGt(c.smallEnd, c.sndUna);
    }
    if (!blocked) {
      t.persist = NEVER;
      c.persistShift = 0;
      c.pIdle = c.sndUna === c.sndMax && now - c.lastSend >= c.rtt.rto;
      const end = seqAdd(seq, len);
      return setPlan(c, Plan.Data, seq, len, finToSend && end === txEnd);
    }
    if (c.sndUna === c.sndMax && avail > 0 && len < mss) {
      // Nothing in flight to clock us: the persist timer probes a zero window or overrides
      // SWS avoidance (RFC 9293 §3.8.6.1, §3.8.6.2.1).
      if (t.persist === NEVER) t.persist = now + persistInterval(c);
      // RFC 5482: the user timeout also runs while the peer keeps its window closed.
      if (c.waitSince === NEVER) c.waitSince = now;
      else if (t.persist <= now) {
        if (wndLimit <= 0) return setPlan(c, Plan.Probe, seqAdd(c.sndUna, -1), 0, false);
        let n = avail < mss ? avail : mss;
        if (n > wndLimit) n = wndLimit;
        return setPlan(c, Plan.Data, seq, n, finToSend && seqAdd(seq, n) === txEnd);
      }
    } else {
      t.persist = NEVER;
    }
  } else {
    t.persist = NEVER;
    c.persistShift = 0;
  }

  if (keepAliveDue(c) <= now) {
    c.pKeepAlive = true;
    return setPlan(c, Plan.Probe, seqAdd(c.sndUna, -1), 0, false);
  }
  if (c.ackNow || t.delayedAck <= now || windowUpdateDue(c)) {
    return setPlan(c, Plan.Ack, c.ackSeq(), 0, false);
  }
  return Plan.None;
}

/**
 * Payload bytes of one segment the device cuts into MSS-sized ones (TSO) when it takes IP packets
 * of up to `offloadMax` bytes: whole `mss` units. The device cuts at its MTU less the segment's
 * headers, so this is 0 unless that is `mss` (the MTU, not the peer's MSS or the path, limits it).
 */
function offloadRoom(c: TcpConn, mss: number, ipMtu: number, offloadMax: number): number {
  if (offloadMax <= ipMtu || c.pathMtu < ipMtu) return 0;
  const blocks = c.sackBlockCount();
  const headers = (c.local!.addr.version === 4 ? 20 : 40) + 20 + (c.tsOn ? TS_OPTION_LEN : 0) +
    (blocks === 0 ? 0 : SACK_OPTION_BASE + blocks * SACK_BLOCK_LEN);
  if (ipMtu - headers !== mss) return 0;
  const room = offloadMax - headers;
  return room - room % mss;
}

/**
 * The SACK connection's retransmissions (RACK-TLP, RFC 8985): a tail loss probe when its timer
 * expired (§7.3), else during fast or RTO recovery the first segment marked lost, within the
 * window (PRR's allowance in fast recovery, RFC 6937; pipe < cwnd after an RTO).
 */
function planRack(c: TcpConn, now: Instant, mss: number, txEnd: number): Plan {
  const t = c.timers;
  if (t.probe <= now && recoveryStalled(c)) {
    // A stalled fast recovery (see recoveryStalled): resend the first unSACKed segment.
    const log = c.log;
    for (let i = 0; i < log.count; i++) {
      const k = log.slot(i);
      if ((log.flags[k]! & SegFlag.Sacked) !== 0) continue;
      const seq = log.startSeq[k]!;
      const recEnd = log.endSeq[k]!;
      const dataEnd = seqLt(txEnd, recEnd) ? txEnd : recEnd;
      let len = seqSub(dataEnd, seq);
      if (len > mss) len = mss;
      if (len < 0) len = 0;
      c.pHole = true;
      c.pStall = true;
      return setPlan(
        c,
        Plan.Data,
        seq,
        len,
        c.finQueued && seqAdd(seq, len) === txEnd && seqGt(recEnd, txEnd),
      );
    }
  }
  if (t.probe <= now) {
    if (c.sndUna === c.sndMax || c.inRecovery || c.inLoss || c.rack.tlpEndSeq !== null) {
      t.probe = NEVER; // nothing to probe for (the ACK path disarms it too)
    } else {
      c.pTlp = true;
      // §7.3: new data when the peer's window allows, else the highest segment sent.
      const avail = seqSub(txEnd, c.sndNxt);
      const wnd = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
      if (avail > 0 && wnd > 0) {
        let len = avail < mss ? avail : mss;
        if (len > wnd) len = wnd;
        return setPlan(c, Plan.Data, c.sndNxt, len, c.finQueued && seqAdd(c.sndNxt, len) === txEnd);
      }
      const log = c.log;
      const last = log.slot(log.count - 1);
      const fin = c.finQueued && c.sndMax === seqAdd(txEnd, 1);
      const dataEnd = fin ? txEnd : c.sndMax;
      let seq = log.startSeq[last]!;
      if (seqLt(dataEnd, seq)) seq = dataEnd; // a lone FIN
      if (seqSub(dataEnd, seq) > mss) seq = seqAdd(dataEnd, -mss);
      c.pHole = true;
      return setPlan(c, Plan.Data, seq, seqSub(dataEnd, seq), fin);
    }
  }
  if (!(c.inRecovery || c.inLoss)) return Plan.None;
  // RFC 5682 step 2b: F-RTO probes with new data; the next ACK decides whether to resend.
  if (c.inLoss && c.undo.frtoProbing) return Plan.None;
  const log = c.log;
  const i = log.firstLost();
  if (i < 0) return Plan.None;
  const k = log.slot(i);
  const seq = log.startSeq[k]!;
  // Following lost records join up to one MSS (as Linux collapses retransmissions): after a
  // smaller MSS or a partial SACK, remnants go together rather than as runts.
  let recEnd = log.endSeq[k]!;
  for (let j = i + 1; j < log.count && seqSub(recEnd, seq) < mss; j++) {
    const kj = log.slot(j);
    if ((log.flags[kj]! & SegFlag.Lost) === 0) break;
    recEnd = log.endSeq[kj]!;
  }
  const dataEnd = seqLt(txEnd, recEnd) ? txEnd : recEnd;
  let len = seqSub(dataEnd, seq);
  if (len > mss) len = mss;
  if (len < 0) len = 0;
  const fin = c.finQueued && seqAdd(seq, len) === txEnd && seqGt(recEnd, txEnd);
  const room = c.inRecovery ? c.prr.allowance : c.cc.cwnd - log.inFlight();
  if (!c.forceRetransmit && room < (len > 0 ? len : 1)) return Plan.None;
  c.pHole = true;
  return setPlan(c, Plan.Data, seq, len, fin);
}

/**
 * Whether the planned segment is new data, the only kind that is ECT(0) and carries CWR on an
 * ECN connection (RFC 3168 §6.1.2, §6.1.4, §6.1.5: never a SYN, pure ACK, probe or
 * retransmission).
 */
export function isNewData(c: TcpConn): boolean {
  return c.pKind === Plan.Data && c.pLen > 0 && !c.pHole && !c.pRto && !seqLt(c.pSeq, c.sndMax);
}

/** The IP ECN field for the planned segment: ECT(0) for new data on an ECN connection. */
export function ecnOf(c: TcpConn): number {
  return c.ecn.on && isNewData(c) ? IpEcn.Ect0 : IpEcn.NotEct;
}

/**
 * The segment for the current plan (into the shared repr with `reuse`, see `TcpConn.segment`). May
 * shorten `c.pLen` at the send ring's wrap point.
 */
export function buildSegment(c: TcpConn, now: Instant, reuse = false): TcpRepr {
  switch (c.pKind) {
    case Plan.Rst:
      return c.rst(c.pSeq, true);
    case Plan.Syn: {
      const synAck = c.state !== TcpState.SynSent;
      const flags = synAck ? TcpFlags.SYN | TcpFlags.ACK : TcpFlags.SYN;
      let payload = EMPTY;
      if (c.pLen > 0) {
        payload = c.tx.getAllocated(0, c.pLen); // Fast Open data, from the first byte queued
        c.pLen = payload.length;
      }
      const r = c.segment(now, flags | ecnSynFlags(c, synAck, c.pRto), c.iss, payload, reuse);
      return c.tfoCookie === null && c.tfoCookieOut === null
        ? r
        : withFastOpen(c, r, synAck, c.pRto);
    }
    case Plan.Data: {
      const base = c.txBase();
      let payload = EMPTY;
      if (c.pLen > 0) {
        payload = c.tx.getAllocated(seqSub(c.pSeq, base), c.pLen);
        if (payload.length < c.pLen) {
          c.pLen = payload.length; // the rest goes in the next segment
          c.pFin = false;
          c.pCut = true;
        }
      }
      const end = seqAdd(c.pSeq, c.pLen);
      let flags = TcpFlags.ACK;
      if (c.pFin) flags |= TcpFlags.FIN;
      if (c.pLen > 0 && end === seqAdd(base, c.tx.length)) flags |= TcpFlags.PSH;
      if (c.ecn.cwrPending && isNewData(c)) flags |= TcpFlags.CWR; // RFC 3168 §6.1.2
      return c.segment(now, flags, c.pSeq, payload, reuse);
    }
    case Plan.Probe:
      return c.segment(now, TcpFlags.ACK, c.pSeq, EMPTY, reuse);
    default:
      return c.segment(now, TcpFlags.ACK, c.pSeq, EMPTY, reuse);
  }
}

function onRtoFired(c: TcpConn, now: Instant): void {
  // RFC 5681 §3.1 eq. 4 and RFC 6298 §5.5–5.7: collapse cwnd once per loss event, back off.
  // A timeout outside a recovery episode starts one that a later proof can undo.
  const episode = c.sackOn && c.rtoCount === 0 && !c.inRecovery && !c.inLoss;
  if (episode) undoBegin(c, now);
  // RFC 5682: F-RTO judges the first timeout of an episode; a repeated timeout ends it.
  c.undo.frtoHigh = episode ? c.sndMax : null;
  c.undo.frtoProbing = false;
  if (c.rtoCount === 0) c.cc.onRto(now, c.outstanding());
  c.rtoCount++;
  c.counters.rtos++;
  if (c.tfoSynData !== 0) fastOpenOnTimeout(c, now);
  c.rtt.backoff();
  if (!c.sackOn) undoRenoOnRto(c);
  c.dupAcks = 0;
  c.forceRetransmit = false;
  c.rttTime = NEVER;
  if (c.sackOn) {
    // RFC 8985 §6.3: everything unSACKed is lost and is resent in order as the window opens.
    rackOnRto(c);
    return;
  }
  c.recover = c.sndMax;
  c.inRecovery = false;
  c.highRxt = c.sndUna;
  c.sndNxt = c.sndUna; // go-back-N
}

/** Applies the effects of the planned segment `repr`, which the emitter has taken. */
export function commitSegment(c: TcpConn, now: Instant, repr: TcpRepr): void {
  switch (c.pKind) {
    case Plan.Rst:
      c.rstPending = false;
      c.counters.segmentsOut++;
      return;
    case Plan.Syn: {
      if (c.pRto) {
        c.rtoCount++;
        c.counters.rtos++;
        if (c.tfoSynData !== 0) fastOpenOnTimeout(c, now);
        c.counters.retransmits++;
        c.rtt.backoff();
        c.rttTime = NEVER;
      } else if (c.sndMax === c.iss) {
        c.rttSeq = c.iss;
        c.rttTime = now;
      } else {
        c.counters.retransmits++; // a SYN-ACK again for a duplicate SYN
        c.rttTime = NEVER;
      }
      // A Fast Open SYN's data takes sequence space after the SYN; a SYN sent again goes without
      // it, and SND.MAX keeps covering it so that a late SYN-ACK acknowledging it is acceptable.
      c.sndNxt = seqAdd(c.iss, 1 + c.pLen);
      c.sndMax = seqMax(c.sndMax, c.sndNxt);
      if (c.pLen > 0) {
        c.tfoSynData = c.pLen;
        c.counters.fastOpenSynData++;
        c.counters.bytesOut += c.pLen;
      }
      c.timers.rto = now + c.rtt.rto;
      c.lastSend = now;
      if (c.state === TcpState.SynSent) {
        c.synWindow = repr.window;
        c.counters.segmentsOut++;
      } else {
        c.noteAckSent(0);
        c.rcvAdvRight = seqAdd(c.rcvNxt, repr.window);
      }
      return;
    }
    case Plan.Data: {
      if (c.pRto) onRtoFired(c, now);
      if (repr.flags & TcpFlags.CWR) c.ecn.cwrPending = false;
      if (c.pIdle) c.cc.onIdle(now, now - c.lastSend, c.rtt.rto);
      const seq = c.pSeq;
      const len = c.pLen;
      const end = seqAdd(seq, len + (c.pFin ? 1 : 0));
      const retx = seqLt(seq, c.sndMax);
      if (c.sndUna === c.sndMax) c.waitSince = now;
      if (retx) {
        c.counters.retransmits++;
        if (c.pStall) c.counters.recoveryProbes++;
        if (c.rttTime !== NEVER && seqLe(seq, c.rttSeq) && seqLt(c.rttSeq, end)) c.rttTime = NEVER;
      } else if (c.rttTime === NEVER && !c.tsOn && len > 0) {
        c.rttSeq = seq;
        c.rttTime = now;
      }
      if (c.sackOn) {
        if (c.inRecovery) c.prr.onSent(len);
        c.log.sent(seq, end, now);
        if (retx) undoNoteRetransmit(c, now, seqSub(end, seq));
      }
      if (c.mtuProbe !== null) {
        if (retx) mtuProbeOnRetransmit(c, now, seq, end);
        else if (c.pProbe && !c.pCut) mtuProbeSent(c, seq, len);
      }
      if (c.pHole) {
        c.highRxt = seqMax(c.highRxt, end);
        c.forceRetransmit = false;
      } else {
        c.sndNxt = end;
        if (c.forceRetransmit && !c.inRecovery) c.forceRetransmit = false;
      }
      c.sndMax = seqMax(c.sndMax, c.sndNxt);
      c.notePeakFlight();
      // RFC 6298 §5.1 starts the timer when it is off; like Linux, also restart it when SND.UNA
      // itself is resent (fast or early retransmit, a partial ACK's hole), so the timeout
      // measures from that retransmission rather than from the ACK before it.
      if (c.timers.rto === NEVER || c.pRto || c.pTlp || (retx && seq === c.sndUna)) {
        c.timers.rto = now + c.rtt.rto;
      }
      if (c.pTlp) {
        // RFC 8985 §7.3: one probe per episode; the RTO (re-armed above) is the next resort.
        c.rack.tlpEndSeq = c.sndMax;
        c.rack.tlpIsRetrans = retx;
        c.tlpFlight = c.outstanding();
        c.timers.probe = NEVER;
        c.counters.tlpProbes++;
      } else if (c.pStall) {
        // One probe per stall: the next needs an ACK first (the ACK path re-arms it). Re-armed
        // here, every probe resent SND.UNA and restarted the RTO: on a dead path it probed every
        // 2·SRTT forever, never timing out, backing off or giving up.
        c.timers.probe = NEVER;
      } else if (c.sackOn && (!retx || c.inRecovery)) {
        armProbe(c, now); // in fast recovery: 2·SRTT after the last transmission, if stalled
      }
      if (len > 0 && len < c.pMss && !c.pHole && !c.pCut) {
        c.smallOut = true;
        c.smallEnd = end;
      }
      c.counters.bytesOut += len;
      c.lastSend = now;
      c.noteAckSent(repr.window);
      return;
    }
    case Plan.Probe:
      if (c.pKeepAlive) {
        c.kaProbes++;
      } else {
        c.persistProbes++;
        c.persistShift++;
        c.timers.persist = now + persistInterval(c);
      }
      c.noteAckSent(repr.window);
      return;
    case Plan.Ack:
      c.noteAckSent(repr.window);
      return;
  }
}
