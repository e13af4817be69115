/**
 * The sender's SACK scoreboard and the RFC 6675 loss recovery queries on it: which bytes the
 * peer holds beyond SND.UNA, which are deemed lost (IsLost), what to retransmit next (NextSeg)
 * and how much is in the network (SetPipe).
 *
 * Ranges are kept as byte offsets from SND.UNA, so the 2^32 wrap never shows up here; the socket
 * converts sequence numbers and calls {@linkcode Scoreboard.advance} when SND.UNA moves.
 *
 * @module
 */

import type { SackBlock } from "../../wire/tcp.ts";
import { seqSub } from "./seq.ts";

/** RFC 6675 §2: DupThresh. */
export const DUP_THRESH = 3;

/** The most disjoint SACKed ranges remembered; more are merged away by dropping the highest. */
const MAX_RANGES = 512;

/**
 * SACKed ranges `[start, end)` as offsets from SND.UNA, sorted and disjoint. Allocation-free
 * after construction (the array is allocated on the first SACK block).
 */
export class Scoreboard {
  #b: Float64Array | null = null;
  #n = 0;
  #base = 0;
  /** Set by {@linkcode Scoreboard.nextHole}: offset and length of the hole found. */
  holeStart = 0;
  holeLen = 0;

  /** Number of disjoint SACKed ranges. */
  get count(): number {
    return this.#n;
  }

  /** Whether nothing is SACKed. */
  isEmpty(): boolean {
    return this.#n === 0;
  }

  /** Forgets everything (after an RTO, RFC 2018 §8: the peer may renege) and rebases. */
  clear(una: number): void {
    this.#n = 0;
    this.#base = una;
  }

  /**
   * Records SACK blocks from an ACK whose cumulative point is `una`, keeping only the parts in
   * `(una, una + outstanding]`. Returns whether any new byte became SACKed.
   */
  update(una: number, outstanding: number, blocks: readonly SackBlock[]): boolean {
    this.advance(una);
    let changed = false;
    for (let i = 0; i < blocks.length; i++) {
      const blk = blocks[i]!;
      let l = seqSub(blk[0], una);
      let r = seqSub(blk[1], una);
      if (l < 0) l = 0;
      if (r > outstanding) r = outstanding;
      if (r <= l) continue;
      if (this.#insert(l, r)) changed = true;
    }
    return changed;
  }

  /** Moves the base to the new SND.UNA, dropping what it covers. */
  advance(una: number): void {
    const d = seqSub(una, this.#base);
    this.#base = una;
    if (d === 0 || this.#n === 0) return;
    const b = this.#b!;
    let n = this.#n;
    let i = 0;
    while (i < n && b[2 * i + 1]! <= d) i++;
    if (i > 0) {
      b.copyWithin(0, 2 * i, 2 * n);
      n -= i;
    }
    for (let k = 0; k < 2 * n; k++) b[k]! -= d;
    if (n > 0 && b[0]! < 0) b[0] = 0;
    this.#n = n;
  }

  #insert(l: number, r: number): boolean {
    const b = this.#b ??= new Float64Array(2 * MAX_RANGES);
    const n = this.#n;
    let i = 0;
    while (i < n && b[2 * i + 1]! < l) i++;
    let j = i;
    while (j < n && b[2 * j]! <= r) j++;
    if (i === j) {
      if (n === MAX_RANGES) {
        if (i === n) return false; // keep the lowest ranges: they matter for recovery
        // drop the highest range to make room
        this.#n = n - 1;
        return this.#insert(l, r);
      }
      b.copyWithin(2 * i + 2, 2 * i, 2 * n);
      b[2 * i] = l;
      b[2 * i + 1] = r;
      this.#n = n + 1;
      return true;
    }
    const oldL = b[2 * i]!;
    const oldR = b[2 * j - 1]!;
    const covered = j - i === 1 && oldL <= l && oldR >= r;
    if (oldL > l) b[2 * i] = l;
    b[2 * i + 1] = oldR > r ? oldR : r;
    if (j - i > 1) {
      b.copyWithin(2 * i + 2, 2 * j, 2 * n);
      this.#n = n - (j - i) + 1;
    }
    return !covered;
  }

  /** Total SACKed bytes. */
  sackedBytes(): number {
    let s = 0;
    const b = this.#b;
    for (let i = 0; i < this.#n; i++) s += b![2 * i + 1]! - b![2 * i]!;
    return s;
  }

  /** The highest SACKed offset (end of the last range), 0 when empty. */
  highestSacked(): number {
    return this.#n === 0 ? 0 : this.#b![2 * this.#n - 1]!;
  }

  /** Whether the byte at `off` is SACKed. */
  isSacked(off: number): boolean {
    const b = this.#b;
    for (let i = 0; i < this.#n; i++) {
      if (off < b![2 * i]!) return false;
      if (off < b![2 * i + 1]!) return true;
    }
    return false;
  }

  /**
   * RFC 6675 §4 IsLost as a boundary: every un-SACKed byte below the returned offset is lost
   * (more than (DupThresh − 1)·MSS bytes or DupThresh discontiguous ranges SACKed above it).
   * Returns 0 when nothing is lost.
   */
  lossBoundary(mss: number): number {
    const b = this.#b;
    let bytes = 0;
    let ranges = 0;
    for (let i = this.#n - 1; i >= 0; i--) {
      bytes += b![2 * i + 1]! - b![2 * i]!;
      ranges++;
      if (ranges >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss) return b![2 * i]!;
    }
    return 0;
  }

  /** Un-SACKed bytes in `[from, to)`. */
  unsackedBytes(from: number, to: number): number {
    if (to <= from) return 0;
    let total = to - from;
    const b = this.#b;
    for (let i = 0; i < this.#n; i++) {
      const l = b![2 * i]! > from ? b![2 * i]! : from;
      const r = b![2 * i + 1]! < to ? b![2 * i + 1]! : to;
      if (r > l) total -= r - l;
    }
    return total;
  }

  /**
   * Finds the first un-SACKed byte at or after `from` and before `limit`; sets
   * {@linkcode Scoreboard.holeStart} and {@linkcode Scoreboard.holeLen} (up to the next SACKed
   * range or `limit`). Returns `false` when there is none.
   */
  nextHole(from: number, limit: number): boolean {
    const b = this.#b;
    let at = from;
    for (let i = 0; i < this.#n; i++) {
      const l = b![2 * i]!;
      const r = b![2 * i + 1]!;
      if (r <= at) continue;
      if (l > at) {
        const end = l < limit ? l : limit;
        if (end <= at) return false;
        this.holeStart = at;
        this.holeLen = end - at;
        return true;
      }
      at = r;
    }
    if (at >= limit) return false;
    this.holeStart = at;
    this.holeLen = limit - at;
    return true;
  }

  /**
   * RFC 6675 §4 SetPipe: bytes believed in the network, for `outstanding` bytes from SND.UNA of
   * which the first `highRxt` (offset) have been retransmitted in this recovery.
   */
  pipe(outstanding: number, highRxt: number, mss: number): number {
    const lost = this.lossBoundary(mss);
    // un-SACKed bytes not lost count once; lost and not retransmitted count zero; lost and
    // retransmitted count once (the retransmission is in flight).
    let p = this.unsackedBytes(0, outstanding);
    if (lost > highRxt) p -= this.unsackedBytes(highRxt, lost);
    return p < 0 ? 0 : p;
  }
}
