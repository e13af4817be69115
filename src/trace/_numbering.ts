/**
 * Turns the TCP segments of one connection into trace segments: sequence and ACK numbers
 * relative to each side's initial sequence number (growing across the 2^32 wrap), windows
 * scaled once both SYNs offered scaling, and retransmissions marked. Shared by the capture
 * reader and the in-socket recorder. Internal.
 *
 * @module
 */

import { TcpFlags } from "../wire/tcp.ts";
import type { TraceableSegment, TraceDirection, TraceSegment } from "./events.ts";

/** Shared by every segment without SACK blocks. */
export const NO_SACK: (readonly [number, number])[] = Object.freeze([]) as unknown as (readonly [
  number,
  number,
])[];

/** Per-direction state. */
interface Side {
  isn: number | null;
  wscale: number | null;
  /** `2 ** wscale` (1 without scaling). */
  scale: number;
  /** Highest relative sequence number sent so far (end of data, SYN and FIN included). */
  highest: number;
  lastSeq: number;
  lastAck: number;
}

function newSide(): Side {
  return { isn: null, wscale: null, scale: 1, highest: 0, lastSeq: 0, lastAck: 0 };
}

/**
 * `seq − isn` as a number that keeps growing across the 2^32 wrap: of the values congruent to
 * it modulo 2^32, the one within [−2^31, 2^31) of `near`. `| 0` reduces any safe integer modulo
 * 2^32 to a signed 32-bit number, so no division is needed.
 */
function relative(seq: number, isn: number, near: number): number {
  return near + ((seq - isn - near) | 0);
}

/** The numbers of one segment, written by {@linkcode SegmentNumbering.number}; reused. */
export interface NumberedSegment {
  /** Relative sequence number. */
  seq: number;
  /** Relative acknowledgment number (0 without ACK). */
  ack: number;
  /** Window in bytes, scaled when both SYNs offered scaling. */
  window: number;
  /** Whether it carries sequence space below the highest sent so far in its direction. */
  retransmit: boolean;
  /** Relative SACK blocks ({@linkcode NO_SACK} when there are none: no allocation). */
  sack: readonly (readonly [number, number])[];
}

/** A fresh {@linkcode NumberedSegment} to reuse. */
export function newNumberedSegment(): NumberedSegment {
  return { seq: 0, ack: 0, window: 0, retransmit: false, sack: NO_SACK };
}

/** The numbering state of one connection. */
export class SegmentNumbering {
  readonly #ab: Side = newSide();
  readonly #ba: Side = newSide();
  readonly #scratch = newNumberedSegment();

  /** The initial sequence number seen for `dir`, or `null` before its first segment. */
  isn(dir: TraceDirection): number | null {
    return (dir === "ab" ? this.#ab : this.#ba).isn;
  }

  /**
   * Numbers `tcp`, sent in direction `dir` (`ab` true for "ab"), into `out`, and moves the
   * connection's numbering state on. Allocates only for SACK blocks.
   */
  number(ab: boolean, tcp: TraceableSegment, out: NumberedSegment): void {
    const me = ab ? this.#ab : this.#ba;
    const peer = ab ? this.#ba : this.#ab;
    const flags = tcp.flags;
    const isSyn = (flags & TcpFlags.SYN) !== 0;
    const isAck = (flags & TcpFlags.ACK) !== 0;
    if (me.isn === null) me.isn = isSyn ? tcp.seq : (tcp.seq - 1) >>> 0;
    if (isSyn) {
      me.wscale = tcp.windowScale;
      me.scale = me.wscale === null ? 1 : 2 ** me.wscale;
    }
    if (isAck && peer.isn === null) peer.isn = (tcp.ack - 1) >>> 0;
    const seq = relative(tcp.seq, me.isn, me.lastSeq);
    me.lastSeq = seq;
    let ack = 0;
    if (isAck && peer.isn !== null) {
      ack = relative(tcp.ack, peer.isn, me.lastAck);
      me.lastAck = ack;
    }
    const used = tcp.payload.length + (isSyn ? 1 : 0) + ((flags & TcpFlags.FIN) !== 0 ? 1 : 0);
    out.retransmit = used > 0 && seq < me.highest;
    if (seq + used > me.highest) me.highest = seq + used;
    const blocks = tcp.sackBlocks;
    let sack: (readonly [number, number])[] = NO_SACK;
    if (peer.isn !== null && blocks.length > 0) {
      sack = [];
      for (const [l, r] of blocks) {
        sack.push([relative(l, peer.isn, me.lastAck), relative(r, peer.isn, me.lastAck)]);
      }
    }
    const scaled = !isSyn && me.wscale !== null && peer.wscale !== null;
    out.seq = seq;
    out.ack = ack;
    out.window = scaled ? tcp.window * me.scale : tcp.window;
    out.sack = sack;
  }

  /**
   * The trace segment for `tcp`, sent at `time` in direction `dir`.
   *
   * @param reason Why it was sent, when known.
   */
  segment(
    time: number,
    dir: TraceDirection,
    tcp: TraceableSegment,
    reason?: string,
  ): TraceSegment {
    const n = this.#scratch;
    this.number(dir === "ab", tcp, n);
    return {
      kind: "segment",
      time,
      dir,
      seq: n.seq,
      ack: n.ack,
      len: tcp.payload.length,
      flags: tcp.flags,
      window: n.window,
      sack: n.sack,
      mss: tcp.mss,
      retransmit: n.retransmit,
      reason,
    };
  }
}
