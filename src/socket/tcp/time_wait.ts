/**
 * TIME-WAIT without a socket (RFC 9293 §3.10.7.4, RFC 1337, RFC 6191): when a connection has
 * entered TIME-WAIT and has nothing left to send, {@linkcode takeTimeWait} copies the few values
 * the state still needs into a {@linkcode TimeWaitState} and closes the socket (its buffers are
 * released). The interface keeps those values in a compact table and answers segments for the
 * 4-tuple with {@linkcode timeWaitInput}. Internal: not exported from the socket module.
 *
 * @module
 */

import type { Duration, Instant } from "../../time.ts";
import { TcpFlags, type TcpRepr, tcpSegmentLen } from "../../wire/tcp.ts";
import { EMPTY, NO_BLOCKS } from "./conn.ts";
import { seqAdd, seqGt, seqLe, seqLt, seqSub } from "./seq.ts";
import { connOf, type TcpSocket } from "./socket.ts";
import { TcpState } from "./state.ts";

/** What a TIME-WAIT connection still needs: the 4-tuple is kept by the caller. */
export interface TimeWaitState {
  /** SND.MAX: the sequence number of our ACKs, and the floor for a new incarnation's ISN. */
  sndNxt: number;
  /** RCV.NXT: one past the peer's FIN. */
  rcvNxt: number;
  /** The window field of our ACKs (already scaled). */
  window: number;
  /** Whether the connection uses timestamps (RFC 7323). */
  tsOn: boolean;
  /** Our TSval offset (RFC 7323 §5.4). */
  tsOffset: number;
  /** TS.Recent: the peer's latest timestamp (RFC 7323 §4.3). */
  tsRecent: number;
  /** When TIME-WAIT ends (2×MSL after the last FIN). */
  expires: Instant;
  /** The 2×MSL duration, to restart the timer on a retransmitted FIN. */
  duration: Duration;
  /** When the last rate-limited ACK left. */
  lastAck: Instant;
}

/** What to do with a segment that reached a TIME-WAIT record. */
export const TimeWaitVerdict = {
  /** Drop it silently (RFC 1337 RST, an old duplicate, a SYN not allowed to reuse the tuple). */
  Drop: 0,
  /** Answer with {@linkcode timeWaitAck}. */
  Ack: 1,
  /** A new SYN that may reuse the 4-tuple (RFC 6191): end TIME-WAIT and hand it to a listener. */
  Reuse: 2,
} as const;
/** One of {@linkcode TimeWaitVerdict}. */
export type TimeWaitVerdict = typeof TimeWaitVerdict[keyof typeof TimeWaitVerdict];

/** Least time between two rate-limited ACKs from a TIME-WAIT record (as `OOW_ACK_INTERVAL`). */
const ACK_INTERVAL = 500;

/**
 * Hands a socket's TIME-WAIT over: when the socket is in TIME-WAIT and has nothing due at `now`,
 * fills `into`, closes the socket cleanly (state CLOSED, no error) and releases its send buffer,
 * and its receive buffer once read empty. Unread received bytes stay readable.
 *
 * @param s The socket.
 * @param now The current instant.
 * @param into The record to fill.
 * @returns `true` when the socket was handed over.
 */
export function takeTimeWait(s: TcpSocket, now: Instant, into: TimeWaitState): boolean {
  const c = connOf(s);
  if (c.state !== TcpState.TimeWait || c.ackNow || c.rstPending) return false;
  const expires = c.timers.timeWait;
  if (expires <= now) return false; // due: the socket closes itself in dispatch
  into.sndNxt = c.ackSeq();
  into.rcvNxt = c.rcvNxt;
  into.window = c.windowField(c.windowToAdvertise());
  into.tsOn = c.tsOn;
  into.tsOffset = c.tsOffset;
  into.tsRecent = c.tsRecent;
  into.expires = expires;
  into.duration = c.o.timeWait;
  into.lastAck = c.lastOowAck;
  c.closeWith(null);
  c.tx.release();
  if (c.rx.length === 0) c.rx.release();
  c.asm.clear();
  return true;
}

/**
 * Decides what a segment for a TIME-WAIT record gets, updating the record (the 2×MSL timer
 * restarts on a retransmitted FIN, TS.Recent follows accepted timestamps, the ACK rate limit).
 *
 * - RST: dropped (RFC 1337: TIME-WAIT assassination hazards).
 * - SYN without ACK: reuse when its timestamp is newer than TS.Recent (both sides used
 *   timestamps), else when its sequence number is beyond RCV.NXT (RFC 6191 §2); otherwise an ACK
 *   (rate-limited) as for any old duplicate.
 * - PAWS failure (RFC 7323 §5.3): a rate-limited ACK.
 * - A retransmitted FIN (it ends at RCV.NXT): an ACK, and the timer restarts (RFC 9293).
 * - Anything else that is not a pure ACK at RCV.NXT: a rate-limited ACK.
 *
 * @param tw The record.
 * @param now The current instant.
 * @param repr The segment.
 * @returns The verdict.
 */
export function timeWaitInput(tw: TimeWaitState, now: Instant, repr: TcpRepr): TimeWaitVerdict {
  const f = repr.flags;
  if (f & TcpFlags.RST) return TimeWaitVerdict.Drop;
  const ts = repr.timestamp;
  if ((f & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN) {
    const newerTs = tw.tsOn && ts !== null && seqGt(ts.tsVal, tw.tsRecent);
    const reuse = tw.tsOn && ts !== null ? newerTs : seqGt(repr.seq, tw.rcvNxt);
    if (reuse) return TimeWaitVerdict.Reuse;
    return rateLimited(tw, now);
  }
  if (f & TcpFlags.SYN) return rateLimited(tw, now);
  if (tw.tsOn && ts !== null && seqLt(ts.tsVal, tw.tsRecent)) return rateLimited(tw, now);
  const end = seqAdd(repr.seq, tcpSegmentLen(repr));
  if ((f & TcpFlags.FIN) && end === tw.rcvNxt) {
    // RFC 9293 §3.10.7.4 TIME-WAIT: acknowledge the retransmitted FIN and restart the 2 MSL timeout.
    tw.expires = now + tw.duration;
    if (tw.tsOn && ts !== null && seqLe(repr.seq, tw.rcvNxt)) tw.tsRecent = ts.tsVal;
    tw.lastAck = now;
    return TimeWaitVerdict.Ack;
  }
  if (repr.payload.length === 0 && (f & TcpFlags.FIN) === 0 && repr.seq === tw.rcvNxt) {
    return TimeWaitVerdict.Drop; // a late pure ACK: nothing to answer
  }
  return rateLimited(tw, now);
}

function rateLimited(tw: TimeWaitState, now: Instant): TimeWaitVerdict {
  if (now - tw.lastAck < ACK_INTERVAL) return TimeWaitVerdict.Drop;
  tw.lastAck = now;
  return TimeWaitVerdict.Ack;
}

/**
 * The ACK a TIME-WAIT record sends in answer to `repr` (from `repr`'s destination to its
 * source).
 *
 * @param tw The record.
 * @param now The current instant.
 * @param repr The segment answered.
 * @returns The ACK.
 */
export function timeWaitAck(tw: TimeWaitState, now: Instant, repr: TcpRepr): TcpRepr {
  return {
    srcPort: repr.dstPort,
    dstPort: repr.srcPort,
    seq: tw.sndNxt,
    ack: tw.rcvNxt,
    flags: TcpFlags.ACK,
    window: tw.window,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: NO_BLOCKS,
    timestamp: tw.tsOn
      ? { tsVal: (Math.floor(now) + tw.tsOffset) >>> 0, tsEcr: tw.tsRecent }
      : null,
    payload: EMPTY,
  };
}

/** Distance Linux puts between an old incarnation's SND.NXT and the next ISN (65535 + 2). */
const ISN_GAP = 65537;

/**
 * Moves the ISN of a connection that has not sent its SYN (or SYN-ACK) yet beyond `above`, the
 * SND.NXT of the TIME-WAIT incarnation it replaces, so that no old segment of the peer's window
 * can be taken for a new one (as Linux's `tw_snd_nxt + 65535 + 2`). Does nothing when the ISN is
 * already beyond, or when a SYN has left.
 *
 * @param s The new connection (SYN-SENT or SYN-RECEIVED).
 * @param above The old incarnation's SND.NXT.
 * @returns Whether the ISN was moved.
 */
export function raiseIss(s: TcpSocket, above: number): boolean {
  const c = connOf(s);
  if (c.state !== TcpState.SynSent && c.state !== TcpState.SynReceived) return false;
  if (c.sndMax !== c.iss) return false; // the SYN has left
  if (seqSub(c.iss, above) > 0) return false;
  const iss = seqAdd(above, ISN_GAP);
  c.iss = iss;
  c.sndUna = iss;
  c.sndNxt = iss;
  c.sndMax = iss;
  c.recover = iss;
  c.highRxt = iss;
  c.smallEnd = iss;
  return true;
}
