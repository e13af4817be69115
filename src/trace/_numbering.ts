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

const TWO32 = 2 ** 32;
/** Shared by every segment without SACK blocks. */
const NO_SACK: (readonly [number, number])[] = Object.freeze([]) as unknown as (readonly [
  number,
  number,
])[];

/** Per-direction state. */
interface Side {
  isn: number | null;
  wscale: number | null;
  /** Highest relative sequence number sent so far (end of data, SYN and FIN included). */
  highest: number;
  lastSeq: number;
  lastAck: number;
}

function newSide(): Side {
  return { isn: null, wscale: null, highest: 0, lastSeq: 0, lastAck: 0 };
}

/** `seq − isn` as a number that keeps growing across the 2^32 wrap, closest to `near`. */
function relative(seq: number, isn: number, near: number): number {
  let r = ((seq - isn) >>> 0) + Math.floor(near / TWO32) * TWO32;
  if (r - near > TWO32 / 2) r -= TWO32;
  else if (near - r > TWO32 / 2) r += TWO32;
  return r;
}

/** The numbering state of one connection. */
export class SegmentNumbering {
  readonly #ab: Side = newSide();
  readonly #ba: Side = newSide();

  /** The initial sequence number seen for `dir`, or `null` before its first segment. */
  isn(dir: TraceDirection): number | null {
    return (dir === "ab" ? this.#ab : this.#ba).isn;
  }

  /**
   * The trace segment for `tcp`, sent at `time` in direction `dir`.
   *
   * @param reason Why it was sent, when known (the in-socket recorder knows).
   */
  segment(
    time: number,
    dir: TraceDirection,
    tcp: TraceableSegment,
    reason?: string,
  ): TraceSegment {
    const me = dir === "ab" ? this.#ab : this.#ba;
    const peer = dir === "ab" ? this.#ba : this.#ab;
    const isSyn = (tcp.flags & TcpFlags.SYN) !== 0;
    const isAck = (tcp.flags & TcpFlags.ACK) !== 0;
    if (me.isn === null) me.isn = isSyn ? tcp.seq : (tcp.seq - 1) >>> 0;
    if (isSyn) me.wscale = tcp.windowScale;
    if (isAck && peer.isn === null) peer.isn = (tcp.ack - 1) >>> 0;
    const seq = relative(tcp.seq, me.isn, me.lastSeq);
    me.lastSeq = seq;
    let ack = 0;
    if (isAck && peer.isn !== null) {
      ack = relative(tcp.ack, peer.isn, me.lastAck);
      me.lastAck = ack;
    }
    const used = tcp.payload.length + (isSyn ? 1 : 0) + ((tcp.flags & TcpFlags.FIN) !== 0 ? 1 : 0);
    const retransmit = used > 0 && seq < me.highest;
    if (seq + used > me.highest) me.highest = seq + used;
    const scaled = !isSyn && me.wscale !== null && peer.wscale !== null;
    let sack: (readonly [number, number])[] = NO_SACK;
    if (peer.isn !== null && tcp.sackBlocks.length > 0) {
      sack = [];
      for (const [l, r] of tcp.sackBlocks) {
        sack.push([relative(l, peer.isn, me.lastAck), relative(r, peer.isn, me.lastAck)]);
      }
    }
    const window = scaled ? tcp.window * 2 ** me.wscale! : tcp.window;
    return {
      kind: "segment",
      time,
      dir,
      seq,
      ack,
      len: tcp.payload.length,
      flags: tcp.flags,
      window,
      sack,
      mss: tcp.mss,
      retransmit,
      reason,
    };
  }
}
