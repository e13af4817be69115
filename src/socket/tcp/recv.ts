/**
 * The receive path of a synchronized connection: segment text and FIN (RFC 9293 §3.10.7.4
 * "seventh" and "eighth"), trimming to the window, the out-of-order assembler, and when to
 * acknowledge (RFC 5681 §4.2, RFC 1122 §4.2.3.2: at least every second full-sized segment,
 * within the delayed ACK bound, at once for out-of-order data, a filled hole or a FIN).
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import { TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import { sampleReceiveRtt } from "./autotune.ts";
import { type TcpConn, TS_OPTION_LEN } from "./conn.ts";
import { seqAdd, seqInWindow, seqLe, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

/**
 * RFC 9293 §3.10.7.4 segment acceptability test for a segment of `segLen` sequence numbers at
 * `seq` against a receive window of `wnd` bytes starting at RCV.NXT.
 */
export function isAcceptable(rcvNxt: number, wnd: number, seq: number, segLen: number): boolean {
  if (segLen === 0) return wnd === 0 ? seq === rcvNxt : seqInWindow(seq, rcvNxt, wnd);
  if (wnd === 0) return false;
  return seqInWindow(seq, rcvNxt, wnd) || seqInWindow(seqAdd(seq, segLen - 1), rcvNxt, wnd);
}

/** The receive window the acceptability test uses: at least what we announced. */
export function receiveWindow(c: TcpConn): number {
  const adv = seqSub(c.rcvAdvRight, c.rcvNxt);
  const free = c.rx.window;
  return adv > free ? adv : free;
}

/**
 * Takes the text and FIN of an acceptable segment. Returns an ACK to send at once, or `null`
 * (the ACK may then be delayed; `dispatch` sends it).
 */
export function receiveText(c: TcpConn, now: Instant, repr: TcpRepr): TcpRepr | null {
  const s = c.state;
  if (s !== TcpState.Established && s !== TcpState.FinWait1 && s !== TcpState.FinWait2) {
    // RFC 9293 §3.10.7.4: after the peer's FIN, text is ignored; a FIN is acknowledged again.
    return (repr.flags & TcpFlags.FIN) !== 0 ? c.replyAck(now) : null;
  }
  let seq = repr.seq;
  if (repr.flags & TcpFlags.SYN) seq = seqAdd(seq, 1);
  let payload = repr.payload;
  let fin = (repr.flags & TcpFlags.FIN) !== 0;
  let ackNow = false;
  const front = seqSub(c.rcvNxt, seq);
  if (front > 0) {
    // RFC 2883 §4: report the already received part in a D-SACK block.
    if (payload.length > 0) {
      c.noteDuplicate(seq, front < payload.length ? c.rcvNxt : seqAdd(seq, payload.length));
    }
    // Already received bytes at the front (RFC 9293 §3.10.7.4: trim, keep the rest).
    if (front >= payload.length) {
      if (fin && front > payload.length) fin = false; // an old FIN
      payload = payload.subarray(payload.length);
    } else {
      payload = payload.subarray(front);
    }
    seq = c.rcvNxt;
    ackNow = true;
  }
  const start = seqSub(seq, c.rcvNxt);
  const free = c.rx.window;
  if (start + payload.length > free) {
    payload = payload.subarray(0, free > start ? free - start : 0);
    fin = false;
    c.counters.droppedOutOfWindow++;
    ackNow = true;
  }
  const len = payload.length;
  if (len > 0) {
    if (start === 0) {
      const hadHoles = !c.asm.isEmpty();
      c.rx.writeUnallocated(0, payload);
      c.asm.rebase(len);
      const n = len + c.asm.removeFront();
      c.rx.enqueueUnallocated(n);
      c.rcvNxt = seqAdd(c.rcvNxt, n);
      c.counters.bytesIn += n;
      if (hadHoles) ackNow = true; // RFC 5681 §4.2: a segment that fills a gap
      if (len > c.rcvMss) {
        const cap = c.ourMss - (c.tsOn ? TS_OPTION_LEN : 0);
        c.rcvMss = len < cap ? len : cap;
      }
      if (c.tune !== null && repr.timestamp !== null) {
        sampleReceiveRtt(c, now, len, repr.timestamp.tsEcr);
      }
    } else {
      c.rx.writeUnallocated(start, payload);
      if (c.sackOn && c.holdsOutOfOrder(start, len)) c.noteDuplicate(seq, seqAdd(seq, len)); // RFC 2883
      if (c.asm.add(start, len)) {
        c.counters.outOfOrderSegments++;
        c.noteOutOfOrder(seq);
      } else {
        c.counters.droppedAssembler++;
      }
      ackNow = true; // RFC 5681 §4.2: out-of-order data draws an immediate duplicate ACK
    }
  }
  if (fin) {
    const finSeq = seqAdd(seq, len);
    if (finSeq === c.rcvNxt) {
      consumeFin(c, now);
    } else {
      // A FIN beyond a hole waits until the hole fills.
      c.finHeld = true;
      c.finHeldSeq = finSeq;
    }
    ackNow = true;
  }
  if (c.finHeld && c.rcvNxt === c.finHeldSeq) {
    consumeFin(c, now);
    ackNow = true;
  }
  if (ackNow) {
    if (c.state === TcpState.Closing && seqLe(c.sndMax, c.txEnd())) {
      // A simultaneous close whose FIN has yet to leave (never sent: SND.MAX short of it): the
      // FIN carries this ACK from the dispatch that follows, as Linux sends pending data before
      // a scheduled ACK, instead of a pure ACK and then the FIN. `ackNow` makes that dispatch
      // send an ACK even if the FIN must wait.
      c.ackNow = true;
      return null;
    }
    return c.replyAck(now);
  }
  if (len > 0) {
    // RFC 5681 §4.2: every second full-sized segment. Also at once when the window we
    // announced has less than two of the peer's segments left: the sender is (nearly)
    // window-blocked, so holding the ACK would only stall it (small buffers, or a PSH that fills
    // the buffer). "Segment" is the largest seen (Linux's rcv_mss), not the MSS: with a 64 KiB
    // MSS every window is under two MSS, and request/response traffic would lose its
    // piggybacked ACKs.
    if (
      c.o.delayedAck === 0 || seqSub(c.rcvNxt, c.lastAckSent) >= 2 * c.rcvMss ||
      seqSub(c.rcvAdvRight, c.rcvNxt) < 2 * c.rcvMss
    ) {
      return c.replyAck(now);
    }
    if (c.timers.delayedAck > now + c.o.delayedAck) c.timers.delayedAck = now + c.o.delayedAck;
  }
  return null;
}

/** RCV.NXT has reached the peer's FIN (RFC 9293 §3.10.7.4 "eighth"). */
function consumeFin(c: TcpConn, now: Instant): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finRcvd = true;
  c.finHeld = false;
  switch (c.state) {
    case TcpState.Established:
      c.setState(TcpState.CloseWait);
      break;
    case TcpState.FinWait1:
      c.setState(TcpState.Closing);
      break;
    case TcpState.FinWait2:
      c.enterTimeWait(now);
      break;
  }
}

/** Whether the window has grown enough (receiver SWS avoidance) to be worth a window update. */
export function windowUpdateDue(c: TcpConn): boolean {
  const s = c.state;
  if (s !== TcpState.Established && s !== TcpState.FinWait1 && s !== TcpState.FinWait2) {
    return false;
  }
  let current = seqSub(c.rcvAdvRight, c.rcvNxt);
  if (current < 0) current = 0;
  return c.windowToAdvertise() > current;
}
