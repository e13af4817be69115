/**
 * Explicit Congestion Notification for TCP (RFC 3168 §6.1): negotiation on the handshake, the
 * receiver's echo of Congestion Experienced, and the sender's response. Internal to the tcp
 * folder.
 *
 * - Negotiation (§6.1.1): an ECN-setup SYN carries ECE and CWR, an ECN-setup SYN-ACK carries ECE
 *   alone. A SYN that is sent again after a timeout goes without them (§6.1.1.1: a middlebox may
 *   drop ECN-setup SYNs), and a SYN-ACK with both ECE and CWR (a reflected SYN) does not count.
 * - Receiver (§6.1.3): a CE-marked segment sets ECE on every ACK until a segment with CWR
 *   arrives (one that is itself CE-marked keeps the echo on). The first CE is acknowledged at
 *   once, as Linux does, so the signal is not held by a delayed ACK.
 * - Sender (§6.1.2): ECE reduces the congestion window through the controller, as a loss
 *   would (`ssthresh` from the flight, `cwnd` to it), without retransmitting, at most once per
 *   window of data; CWR goes on the next segment of new data. During loss recovery the loss
 *   response already counts: only CWR is queued. The reduction is never undone (Linux's
 *   `tcp_enter_cwr` clears the undo marker).
 * - Marking (§6.1.4, §6.1.5): only new data is ECT(0); SYNs, pure ACKs, window and keep-alive
 *   probes, and retransmissions are Not-ECT.
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import { TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import type { TcpConn } from "./conn.ts";
import { seqLe } from "./seq.ts";

/** The IP ECN codepoints (RFC 3168 §5). */
export const IpEcn = { NotEct: 0, Ect1: 1, Ect0: 2, Ce: 3 } as const;

/** A connection's ECN state; fields are public to the tcp folder only. */
export class EcnState {
  /** ECN was negotiated. */
  on = false;
  /** Receiver: a CE mark arrived and no CWR since; ACKs carry ECE. */
  echo = false;
  /** Sender: the window was reduced; the next new data carries CWR. */
  cwrPending = false;
  /** Sender: SND.MAX at the last reduction; ECE for data up to it is the same event. */
  recover = 0;
}

/** The ECN flags of our SYN (`retry`: sent again after a timeout) or SYN-ACK. */
export function ecnSynFlags(c: TcpConn, synAck: boolean, retry: boolean): number {
  if (synAck) return c.ecn.on ? TcpFlags.ECE : 0;
  return c.o.ecn === "on" && !retry ? TcpFlags.ECE | TcpFlags.CWR : 0;
}

/**
 * Negotiation from the peer's SYN (`synAck` false: we are the passive side) or SYN-ACK.
 * `initial`: our ISS, from which the once-per-window test starts.
 */
export function ecnTakeSyn(c: TcpConn, flags: number, synAck: boolean, initial: number): void {
  const e = c.ecn;
  const both = TcpFlags.ECE | TcpFlags.CWR;
  const ask = flags & both;
  e.on = synAck ? c.o.ecn === "on" && ask === TcpFlags.ECE : c.o.ecn !== "off" && ask === both;
  e.echo = false;
  e.cwrPending = false;
  e.recover = initial;
}

/**
 * An acceptable segment in a synchronized state whose ACK was processed: its IP ECN field
 * `ipEcn` and its ECE and CWR flags.
 */
export function ecnInput(c: TcpConn, now: Instant, repr: TcpRepr, ipEcn: number): void {
  const e = c.ecn;
  if (!e.on) return; // ECE, CWR and CE mean nothing on a connection that did not negotiate ECN
  const f = repr.flags;
  if (f & TcpFlags.CWR) e.echo = false;
  if (ipEcn === IpEcn.Ce) {
    c.counters.ceReceived++;
    if (!e.echo) {
      e.echo = true;
      c.ackNow = true;
    }
  }
  if ((f & TcpFlags.ECE) === 0 || (f & TcpFlags.ACK) === 0) return;
  if (c.inRecovery || c.inLoss) {
    e.cwrPending = true; // the loss response is the response to this window's congestion
    e.recover = c.sndMax;
    return;
  }
  if (seqLe(repr.ack, e.recover)) return; // this window's congestion was already answered
  e.recover = c.sndMax;
  e.cwrPending = true;
  c.undo.marker = null;
  c.cc.onEnterRecovery(now, c.outstanding());
  c.cc.onExitRecovery(now);
  c.counters.ecnReductions++;
}
