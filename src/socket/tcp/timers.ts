/**
 * The deadlines of one TCP connection. Each is an absolute {@linkcode Instant}, `NEVER` when
 * the timer is off; the socket's `pollAt` is the earliest of them (RFC 9293 §3.8, RFC 6298,
 * RFC 1122 §4.2.3.6, RFC 5482).
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";

/** A small struct of deadlines; plain fields, no allocation when armed or cleared. */
export class TcpTimers {
  /** Retransmission timer (RFC 6298 §5): armed while data, SYN or FIN is unacknowledged. */
  rto: Instant = NEVER;
  /** Delayed ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2): the latest an owed ACK may wait. */
  delayedAck: Instant = NEVER;
  /** Persist timer (RFC 9293 §3.8.6.1): zero window probe or sender SWS override. */
  persist: Instant = NEVER;
  /** TIME-WAIT expiry (RFC 9293 §3.10.7.4, 2×MSL). */
  timeWait: Instant = NEVER;
  /** Opening handshake deadline (SYN-SENT, SYN-RECEIVED). */
  connect: Instant = NEVER;
  /** RACK reorder timer (RFC 8985 §6.3): when a segment inside the reordering window is due. */
  reorder: Instant = NEVER;
  /** Tail loss probe timeout (RFC 8985 §7.2). */
  probe: Instant = NEVER;
  /** A Fast Open SYN's wait for the first write (RFC 7413; see `fast_open.ts`). */
  hold: Instant = NEVER;

  /** Turns every timer off. */
  clear(): void {
    this.rto = NEVER;
    this.delayedAck = NEVER;
    this.persist = NEVER;
    this.timeWait = NEVER;
    this.connect = NEVER;
    this.reorder = NEVER;
    this.probe = NEVER;
    this.hold = NEVER;
  }

  /** The earliest armed deadline among the stored ones, or `NEVER`. */
  earliest(): Instant {
    let t = this.rto;
    if (this.delayedAck < t) t = this.delayedAck;
    if (this.persist < t) t = this.persist;
    if (this.timeWait < t) t = this.timeWait;
    if (this.connect < t) t = this.connect;
    if (this.reorder < t) t = this.reorder;
    if (this.probe < t) t = this.probe;
    if (this.hold < t) t = this.hold;
    return t;
  }
}
