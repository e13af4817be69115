/**
 * Segment arrival (RFC 9293 §3.10.7): the per-state checks in the RFC's order, with RFC 5961
 * (RST and SYN challenge ACKs) and RFC 7323 (PAWS, TS.Recent) folded in. Returns at most one
 * reply for the caller to send at once.
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import type { IpAddress } from "../../wire/address.ts";
import { TcpFlags, type TcpRepr, tcpSegmentLen } from "../../wire/tcp.ts";
import type { SocketContext } from "../context.ts";
import { AckResult, processAck } from "./ack.ts";
import { ecnInput, ecnTakeSyn } from "./ecn.ts";
import { fastOpenSynAck, fastOpenTakeData } from "./fast_open.ts";
import { mtuProbeInit, mtuProbeOnAck } from "./plpmtud.ts";
import {
  DEFAULT_MSS_V4,
  DEFAULT_MSS_V6,
  MIN_MSS,
  mssForMtu,
  type TcpConn,
  TS_OPTION_LEN,
} from "./conn.ts";
import { initialSequenceNumber, timestampOffset } from "./isn.ts";
import { isAcceptable, receiveText, receiveWindow } from "./recv.ts";
import { tcpResetFor } from "./reply.ts";
import { seqAdd, seqGe, seqLe, seqLt } from "./seq.ts";
import { TcpState } from "./state.ts";

/** RFC 7323 §5.5: TS.Recent older than 24 days is no longer used for PAWS. */
const PAWS_IDLE_LIMIT = 24 * 24 * 3600 * 1000;
/** Ticks of the peer's timestamp clock PAWS tolerates (Linux `TCP_PAWS_WINDOW`). */
const PAWS_WINDOW = 1;

/** Entry point of `TcpSocket.process`. */
export function processSegment(
  c: TcpConn,
  cx: SocketContext,
  src: IpAddress,
  dst: IpAddress,
  repr: TcpRepr,
): TcpRepr | null {
  c.counters.segmentsIn++;
  switch (c.state) {
    case TcpState.Closed:
      return tcpResetFor(repr);
    case TcpState.Listen:
      return onListen(c, cx, src, dst, repr);
    case TcpState.SynSent:
      return onSynSent(c, cx.now, repr);
    default:
      return onSynchronized(c, cx, repr);
  }
}

/** Whether `repr` from `src` to `dst` belongs to this connection's 4-tuple. */
export function matches(c: TcpConn, src: IpAddress, dst: IpAddress, repr: TcpRepr): boolean {
  if (c.state === TcpState.Closed) return true;
  const l = c.local;
  if (l !== null) {
    if (repr.dstPort !== l.port) return false;
    if (!l.addr.isUnspecified && !l.addr.equals(dst)) return false;
  }
  const r = c.remote;
  if (r !== null && c.state !== TcpState.Listen) {
    if (repr.srcPort !== r.port || !r.addr.equals(src)) return false;
  }
  return true;
}

/** Chooses the ISS: RFC 6528, or the test override. */
export function chooseIss(c: TcpConn, cx: SocketContext): number {
  return c.o.initialSequenceNumber ??
    initialSequenceNumber(cx.now, cx.isnSecret, c.local!, c.remote!);
}

/**
 * Chooses the TSval offset (RFC 7323 §5.4): keyed on the address pair so that successive
 * incarnations of a 4-tuple keep monotonic timestamps (RFC 6191), or the test override.
 */
export function chooseTsOffset(c: TcpConn, cx: SocketContext): number {
  return c.o.timestampOffset ?? timestampOffset(cx.isnSecret, c.local!.addr, c.remote!.addr);
}

/** Options and receive sequence variables from the peer's SYN (both opens). */
function takeSyn(c: TcpConn, now: Instant, repr: TcpRepr): void {
  c.irs = repr.seq;
  c.rcvNxt = seqAdd(repr.seq, 1);
  c.lastAckSent = c.rcvNxt;
  c.rcvAdvRight = c.rcvNxt;
  // RFC 7323 §1.3, §2.2: scaling only when both sides offer it; SYN windows are unscaled.
  c.wsOn = c.o.windowScale && repr.windowScale !== null;
  c.sndShift = c.wsOn ? Math.min(repr.windowScale!, 14) : 0;
  if (!c.wsOn) c.rcvShift = 0;
  // RFC 7323 §3.2: timestamps only when both offer them.
  c.tsOn = c.o.timestamps && repr.timestamp !== null;
  if (c.tsOn) {
    c.tsRecent = repr.timestamp!.tsVal;
    c.tsRecentAge = now;
  }
  c.sackOn = c.o.sack && repr.sackPermitted; // RFC 2018 §2
  // RFC 9293 §3.7.1: 536 (IPv4) / 1220 (IPv6) when the peer sends no MSS; RFC 6691: options
  // come out of it; never below MIN_MSS.
  const v6 = c.local!.addr.version === 6;
  const peer = repr.mss ?? (v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
  const base = peer < c.ourMss ? peer : c.ourMss;
  const opt = c.tsOn ? TS_OPTION_LEN : 0;
  c.sndMss = base - opt < MIN_MSS ? MIN_MSS : base - opt;
  c.rcvMss = Math.min(c.ourMss - opt, v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
  c.cc.setMss(c.sndMss);
  c.sndWnd = repr.window;
  c.maxSndWnd = repr.window;
  c.sndWl1 = repr.seq;
  c.sndWl2 = repr.ack;
  c.lastRecv = now;
  mtuProbeInit(c);
}

function onListen(
  c: TcpConn,
  cx: SocketContext,
  src: IpAddress,
  dst: IpAddress,
  repr: TcpRepr,
): TcpRepr | null {
  const f = repr.flags;
  if (f & TcpFlags.RST) { // RFC 9293 §3.10.7.2 first
    c.counters.droppedRst++;
    return null;
  }
  if (f & TcpFlags.ACK) return tcpResetFor(repr); // second
  if (!(f & TcpFlags.SYN)) {
    c.counters.droppedOther++;
    return null;
  }
  // third: a SYN. Data carried by the SYN is not taken (and so not acknowledged), and the peer
  // sends it again after the handshake, unless the listener validated its Fast Open cookie
  // (RFC 7413 §4.2.2): then it is buffered and acknowledged by the SYN-ACK.
  c.local = { addr: dst, port: c.listenOn!.port };
  c.remote = { addr: src, port: repr.srcPort };
  c.ourMss = c.o.mss ?? mssForMtu(cx.ipMtu, c.local);
  c.tsOffset = chooseTsOffset(c, cx);
  takeSyn(c, cx.now, repr);
  fastOpenTakeData(c, repr);
  // RFC 9293 §3.10.7.2: other control in a SYN is processed after it. A FIN right behind the
  // SYN (and its data, when Fast Open took it: RFC 7413 allows SYN+data+FIN) is received now, so
  // the SYN-ACK acknowledges it and the handshake leads to CLOSE-WAIT. A FIN behind data not
  // taken waits, like that data, for the peer to send it again. (Linux drops SYN+FIN instead.)
  if ((f & TcpFlags.FIN) && seqAdd(repr.seq, 1 + repr.payload.length) === c.rcvNxt) {
    c.rcvNxt = seqAdd(c.rcvNxt, 1);
    c.lastAckSent = c.rcvNxt;
    c.rcvAdvRight = c.rcvNxt;
    c.finRcvd = true;
  }
  c.iss = chooseIss(c, cx);
  ecnTakeSyn(c, repr.flags, false, c.iss);
  c.sndUna = c.iss;
  c.sndNxt = c.iss;
  c.sndMax = c.iss;
  c.recover = c.iss;
  c.highRxt = c.iss;
  c.rack.reset(c.iss);
  c.smallEnd = c.iss;
  c.synAcked = false;
  c.activeOpen = false;
  c.timers.connect = cx.now + c.o.connectTimeout;
  c.setState(TcpState.SynReceived);
  return null;
}

function onSynSent(c: TcpConn, now: Instant, repr: TcpRepr): TcpRepr | null {
  const f = repr.flags;
  const hasAck = (f & TcpFlags.ACK) !== 0;
  // RFC 9293 §3.10.7.3 first: an ACK must acknowledge our SYN and nothing more.
  if (hasAck && (seqLe(repr.ack, c.iss) || seqLt(c.sndMax, repr.ack))) {
    c.counters.droppedBadAck++;
    return (f & TcpFlags.RST) ? null : c.rst(repr.ack, false);
  }
  if (f & TcpFlags.RST) { // second
    if (hasAck) c.closeWith("refused");
    else c.counters.droppedRst++;
    return null;
  }
  if (!(f & TcpFlags.SYN)) {
    c.counters.droppedOther++;
    return null;
  }
  takeSyn(c, now, repr);
  if (!hasAck) {
    // Simultaneous open (RFC 9293 §3.10.7.3 fourth, MUST-10): answer with SYN-ACK, same ISS.
    ecnTakeSyn(c, 0, true, c.iss); // no ECN on a simultaneous open
    c.sndNxt = c.iss;
    c.rcvAdvRight = c.rcvNxt;
    c.setState(TcpState.SynReceived);
    return null;
  }
  // Our SYN is acknowledged: ESTABLISHED.
  ecnTakeSyn(c, f, true, c.iss);
  if (c.tfoCookie !== null) fastOpenSynAck(c, repr, now);
  // RFC 6298 §3 / RFC 7323 §4: the SYN's RTT, unless the SYN was retransmitted (Karn).
  const ts = repr.timestamp;
  if (c.tsOn && ts !== null && ts.tsEcr !== 0) {
    const d = (c.tsVal(now) - ts.tsEcr) >>> 0;
    if (d < 0x80000000) c.rtt.sample(d);
  } else if (c.rttTime !== Number.POSITIVE_INFINITY) {
    c.rtt.sample(now - c.rttTime);
  }
  c.rttTime = Number.POSITIVE_INFINITY;
  c.synAcked = true;
  c.sndUna = repr.ack;
  c.sndNxt = repr.ack;
  c.sndMax = repr.ack;
  c.recover = repr.ack;
  c.highRxt = repr.ack;
  c.smallEnd = repr.ack;
  c.log.release(); // the SYN's record: nothing is in flight once it is acknowledged
  c.rack.reset(repr.ack);
  c.rtoCount = 0;
  c.timers.rto = Number.POSITIVE_INFINITY;
  c.timers.connect = Number.POSITIVE_INFINITY;
  c.waitSince = Number.POSITIVE_INFINITY;
  c.rcvAdvRight = seqAdd(c.rcvNxt, c.synWindow);
  c.setState(c.finQueued ? TcpState.FinWait1 : TcpState.Established);
  if (repr.payload.length > 0 || (f & TcpFlags.FIN)) {
    const r = receiveText(c, now, repr);
    if (r !== null) return r;
  }
  return c.replyAck(now);
}

function onSynchronized(c: TcpConn, cx: SocketContext, seg: TcpRepr): TcpRepr | null {
  const now = cx.now;
  let repr = seg;
  if (c.state === TcpState.SynReceived && (seg.flags & TcpFlags.SYN) && seg.seq === c.irs) {
    if (!(seg.flags & TcpFlags.ACK)) {
      c.sndNxt = c.iss; // a retransmitted SYN: send the SYN-ACK again
      return null;
    }
    // Simultaneous open (RFC 9293 §3.5 figure 7): the peer's SYN-ACK; its SYN is already in.
    repr = { ...seg, seq: seqAdd(seg.seq, 1), flags: seg.flags & ~TcpFlags.SYN };
  }
  const f = repr.flags;
  const ts = repr.timestamp;
  // RFC 5961 §4.2: a SYN in a synchronized state draws a challenge ACK whatever its sequence
  // number (and timestamp), throttled as RFC 5961 §7 asks; a SYN with RST is a RST (second).
  if ((f & (TcpFlags.SYN | TcpFlags.RST)) === TcpFlags.SYN) {
    return c.challengeAck(now, cx.challengeAckLimiter);
  }
  // RFC 7323 §5.3 R1: PAWS rejects old duplicates (never a RST). As Linux (`tcp_paws_check`,
  // TCP_PAWS_WINDOW), one tick of the peer's clock is tolerated: a segment overtaken by one sent
  // in the next tick (reordering, an ACK held back) is no duplicate from an earlier wrap, and
  // dropping it would lose its SACK and D-SACK blocks.
  if (
    c.tsOn && ts !== null && (f & TcpFlags.RST) === 0 &&
    seqLt(ts.tsVal, (c.tsRecent - PAWS_WINDOW) >>> 0) &&
    now - c.tsRecentAge < PAWS_IDLE_LIMIT
  ) {
    c.counters.droppedPaws++;
    // As Linux's tcp_send_dupack: data below RCV.NXT was received twice (an original held back
    // behind its retransmission carries an older TSval); a D-SACK tells the sender (RFC 2883 §4).
    const end = seqAdd(repr.seq, repr.payload.length);
    if (repr.payload.length > 0 && seqLt(repr.seq, c.rcvNxt)) {
      c.noteDuplicate(repr.seq, seqLt(end, c.rcvNxt) ? end : c.rcvNxt);
    }
    return c.oowAck(now, repr);
  }
  // RFC 9293 §3.10.7.4 first: sequence number acceptability.
  const wnd = receiveWindow(c);
  if (!isAcceptable(c.rcvNxt, wnd, repr.seq, tcpSegmentLen(repr))) {
    // With a zero window, control at exactly RCV.NXT is still processed (text is trimmed).
    if (!(wnd === 0 && repr.seq === c.rcvNxt)) {
      if (f & TcpFlags.RST) {
        c.counters.droppedRst++;
        return null;
      }
      c.counters.droppedOutOfWindow++;
      // RFC 2883 §4: a wholly old data segment (a spurious retransmission) gets a D-SACK.
      const end = seqAdd(repr.seq, repr.payload.length);
      if (repr.payload.length > 0 && seqLe(end, c.rcvNxt)) c.noteDuplicate(repr.seq, end);
      if (c.state === TcpState.TimeWait && (f & TcpFlags.FIN)) {
        c.timers.timeWait = now + c.o.timeWait; // RFC 9293: restart the 2 MSL timeout
      }
      return c.oowAck(now, repr);
    }
  }
  // second: RST (RFC 5961 §3.2; RFC 1337 in TIME-WAIT).
  if (f & TcpFlags.RST) {
    if (c.state === TcpState.TimeWait) {
      c.counters.droppedRst++;
      return null;
    }
    if (repr.seq !== c.rcvNxt) return c.challengeAck(now, cx.challengeAckLimiter);
    if (c.state === TcpState.SynReceived) {
      if (!c.activeOpen && c.parent === null && c.listenOn !== null && !c.tfoAccept) {
        backToListen(c);
        return null;
      }
      c.closeWith(c.activeOpen ? "refused" : "reset");
      return null;
    }
    c.closeWith("reset");
    return null;
  }
  // fourth: SYN, answered with a challenge ACK above.
  // fifth: ACK.
  if (!(f & TcpFlags.ACK)) {
    c.counters.droppedOther++;
    return null;
  }
  const synReceived = c.state === TcpState.SynReceived;
  if (synReceived) {
    if (!(seqLt(c.sndUna, repr.ack) && seqLe(repr.ack, c.sndMax))) {
      c.counters.droppedBadAck++;
      return c.rst(repr.ack, false);
    }
    // Accept queue full (listen backlog): drop the ACK and stay in SYN-RECEIVED; the SYN-ACK
    // retransmission or the peer's next segment completes the handshake once there is room
    // (Linux's listen overflow with tcp_abort_on_overflow = 0). Never a RST.
    if (c.parent !== null && !c.parent.mayComplete(c.owner)) {
      c.counters.droppedOther++;
      return null;
    }
    c.timers.connect = Number.POSITIVE_INFINITY;
    c.rack.reset(c.sndUna);
    // A FIN taken with the SYN (onListen) makes the handshake end in CLOSE-WAIT (LAST-ACK
    // once closed as well).
    c.setState(
      c.finRcvd
        ? (c.finQueued ? TcpState.LastAck : TcpState.CloseWait)
        : (c.finQueued ? TcpState.FinWait1 : TcpState.Established),
    );
    c.sndWnd = repr.window * 2 ** c.sndShift;
    if (c.sndWnd > c.maxSndWnd) c.maxSndWnd = c.sndWnd;
    c.sndWl1 = repr.seq;
    c.sndWl2 = repr.ack;
  }
  const recovering = c.inRecovery || c.inLoss;
  // With a path MTU probe in flight: the window before this ACK, restored if the ACK starts a
  // recovery for the probe's own loss.
  const probing = c.mtuProbe !== null && c.mtuProbe.probeLen > 0;
  const priorCwnd = probing ? c.cc.cwnd : 0;
  const priorSsthresh = probing ? c.cc.ssthresh : 0;
  if (processAck(c, now, repr) === AckResult.Challenge) {
    return c.challengeAck(now, cx.challengeAckLimiter);
  }
  if (probing) mtuProbeOnAck(c, now, recovering, priorCwnd, priorSsthresh);
  // The SYN-ACK's record is acknowledged: an idle connection holds no log storage.
  if (synReceived && c.log.count === 0) c.log.release();
  // RFC 7323 §4.3: TS.Recent from the segment at the left edge of the window (SEG.SEQ ≤
  // Last.ACK.sent), and only once the segment is accepted: its sequence number passed the window
  // test and its ACK field the RFC 5961 §5.2 test above. A forged segment with an unacceptable
  // ACK must not move TS.Recent, or every genuine segment after it fails PAWS (Linux updates it in
  // tcp_replace_ts_recent() after tcp_ack() validated the ACK).
  if (c.tsOn && ts !== null && seqGe(ts.tsVal, c.tsRecent) && seqLe(repr.seq, c.lastAckSent)) {
    c.tsRecent = ts.tsVal;
    c.tsRecentAge = now;
  }
  ecnInput(c, now, repr, cx.ecn ?? 0);
  c.lastRecv = now;
  c.kaProbes = 0;
  c.persistProbes = 0;
  if (c.state === TcpState.Closed) return null;
  // sixth: URG is accepted and ignored (RFC 6093: urgent data stays inline). seventh/eighth:
  return receiveText(c, now, repr);
}

/** A passive open that was reset in SYN-RECEIVED listens again (RFC 9293 §3.10.7.4). */
function backToListen(c: TcpConn): void {
  c.timers.clear();
  c.local = c.listenOn;
  c.remote = null;
  c.rx.clear();
  c.tx.clear();
  c.asm.clear();
  c.log.clear();
  c.rack.reset(0);
  c.finQueued = false;
  c.finRcvd = false;
  c.finHeld = false;
  c.ackNow = false;
  c.setState(TcpState.Listen);
}
