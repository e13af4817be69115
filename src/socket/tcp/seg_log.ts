/**
 * The sender's log of transmitted segments: one record per segment in flight (sequence range,
 * last transmit time, SACKed / lost / retransmitted marks), in sequence order, kept in a ring
 * of typed arrays that grows by doubling and never allocates per segment. RACK-TLP (RFC 8985)
 * reads transmit times from it, loss recovery picks what to resend from it, and its byte
 * counters give the bytes in flight (RFC 6675 §4 pipe, Linux `tcp_packets_in_flight`).
 *
 * Records cover `[SND.UNA, SND.MAX)` without gaps. A retransmission that starts or ends inside a
 * record splits it, so each record always has one transmit time; a SACK block that ends inside
 * a record splits it likewise.
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import { seqGt, seqLe, seqLt, seqSub } from "./seq.ts";

/** Record marks. */
export const SegFlag = {
  /** The peer holds the segment (RFC 2018). */
  Sacked: 1,
  /** Deemed lost and not yet retransmitted since. */
  Lost: 2,
  /** Retransmitted at least once. */
  Retrans: 4,
} as const;

/** First storage: 8 records keep each array within V8's on-heap typed array limit (64 bytes). */
const INITIAL_CAPACITY = 8;
/** Shared storage of every empty log (never written: a log grows before its first record). */
const NO_U32 = new Uint32Array(0), NO_F64 = new Float64Array(0), NO_U8 = new Uint8Array(0);
/**
 * First-size storage given back by {@linkcode SegmentLog.release}, taken again by the next log
 * that grows from empty (connection churn allocates none); bounded by `POOL_MAX`.
 */
const POOL_MAX = 64;
const poolS: Uint32Array[] = [], poolE: Uint32Array[] = [];
const poolT: Float64Array[] = [], poolF: Uint8Array[] = [];

/** The segment log; fields are public to the tcp folder only. */
export class SegmentLog {
  /** Start sequence numbers, by ring slot. */
  startSeq: Uint32Array = NO_U32;
  /** End sequence numbers (exclusive), by ring slot. */
  endSeq: Uint32Array = NO_U32;
  /** Last transmit times, by ring slot. */
  xmitTs: Float64Array = NO_F64;
  /** {@linkcode SegFlag} bits, by ring slot. */
  flags: Uint8Array = NO_U8;
  #head = 0;
  #n = 0;
  #mask = -1;
  /** Bytes of records marked SACKed. */
  sackedBytes = 0;
  /** Bytes of records marked lost (and not retransmitted since). */
  lostBytes = 0;
  /** Bytes covered by records (SND.MAX − SND.UNA once in step). */
  totalBytes = 0;

  /** Number of records. */
  get count(): number {
    return this.#n;
  }

  /** The ring slot of the `i`-th record from the oldest (0 ≤ i < count). */
  slot(i: number): number {
    return (this.#head + i) & this.#mask;
  }

  /** Drops every record. */
  clear(): void {
    this.#head = 0;
    this.#n = 0;
    this.sackedBytes = 0;
    this.lostBytes = 0;
    this.totalBytes = 0;
  }

  /**
   * Drops every record and gives the storage back (an established connection with nothing in
   * flight holds none; the next record allocates it again).
   */
  release(): void {
    this.clear();
    if (this.#mask + 1 === INITIAL_CAPACITY && poolS.length < POOL_MAX) {
      poolS.push(this.startSeq);
      poolE.push(this.endSeq);
      poolT.push(this.xmitTs);
      poolF.push(this.flags);
    }
    this.startSeq = NO_U32;
    this.endSeq = NO_U32;
    this.xmitTs = NO_F64;
    this.flags = NO_U8;
    this.#mask = -1;
  }

  /** Bytes believed in the network: not SACKed and not lost-awaiting-retransmission. */
  inFlight(): number {
    return this.totalBytes - this.sackedBytes - this.lostBytes;
  }

  /**
   * Records that `[seq, end)` left at `now`. The part beyond the newest record is appended as a
   * new segment; the part inside the log is a retransmission: those records get the new time,
   * the retransmitted mark, and lose the lost mark. Returns whether any part was a
   * retransmission.
   */
  sent(seq: number, end: number, now: Instant): boolean {
    if (!seqLt(seq, end)) return false;
    let retx = false;
    const n = this.#n;
    const tail = n === 0 ? seq : this.endSeq[this.slot(n - 1)]!;
    if (n > 0 && seqLt(seq, tail)) {
      retx = true;
      const to = seqLt(end, tail) ? end : tail;
      this.#split(seq);
      this.#split(to);
      for (let i = this.#find(seq); i < this.#n; i++) {
        const k = this.slot(i);
        if (!seqLt(this.startSeq[k]!, to)) break;
        const f = this.flags[k]!;
        if (f & SegFlag.Lost) this.lostBytes -= seqSub(this.endSeq[k]!, this.startSeq[k]!);
        this.flags[k] = (f & ~SegFlag.Lost) | SegFlag.Retrans;
        this.xmitTs[k] = now;
      }
    }
    if (seqGt(end, tail) || n === 0) {
      const from = n === 0 || seqLt(seq, tail) ? (n === 0 ? seq : tail) : seq;
      this.#push(from, end, now);
    }
    return retx;
  }

  /**
   * The cumulative ACK moved to `una`: records wholly below it leave, one straddling it is
   * trimmed. Visits each record that leaves or is trimmed via `onAcked(slot)` before it goes,
   * unless it was already SACKed.
   */
  acked(una: number, visit: SegmentVisitor | null): void {
    while (this.#n > 0) {
      const k = this.#head;
      const s = this.startSeq[k]!;
      const e = this.endSeq[k]!;
      if (seqLe(una, s)) return;
      const f = this.flags[k]!;
      if (visit !== null && (f & SegFlag.Sacked) === 0) visit.delivered(this, k);
      if (seqLe(e, una)) {
        const len = seqSub(e, s);
        this.totalBytes -= len;
        if (f & SegFlag.Sacked) this.sackedBytes -= len;
        if (f & SegFlag.Lost) this.lostBytes -= len;
        this.#head = (k + 1) & this.#mask;
        this.#n--;
      } else {
        const cut = seqSub(una, s);
        this.totalBytes -= cut;
        if (f & SegFlag.Sacked) this.sackedBytes -= cut;
        if (f & SegFlag.Lost) this.lostBytes -= cut;
        this.startSeq[k] = una;
        return;
      }
    }
  }

  /**
   * Marks `[left, right)` SACKed (clipped to the log by the caller), splitting records at its
   * edges, and visits each record newly SACKed. Returns the bytes newly SACKed.
   */
  sack(left: number, right: number, visit: SegmentVisitor | null): number {
    if (this.#n === 0 || !seqLt(left, right)) return 0;
    this.#split(left);
    this.#split(right);
    let added = 0;
    for (let i = this.#find(left); i < this.#n; i++) {
      const k = this.slot(i);
      if (!seqLt(this.startSeq[k]!, right)) break;
      const f = this.flags[k]!;
      if (f & SegFlag.Sacked) continue;
      const len = seqSub(this.endSeq[k]!, this.startSeq[k]!);
      if (visit !== null) visit.delivered(this, k);
      if (f & SegFlag.Lost) this.lostBytes -= len;
      this.flags[k] = (f & ~SegFlag.Lost) | SegFlag.Sacked;
      this.sackedBytes += len;
      added += len;
    }
    return added;
  }

  /** Marks the record in `slot` lost (no-op when SACKed or already lost). */
  markLost(slot: number): void {
    const f = this.flags[slot]!;
    if (f & (SegFlag.Sacked | SegFlag.Lost)) return;
    this.flags[slot] = f | SegFlag.Lost;
    this.lostBytes += seqSub(this.endSeq[slot]!, this.startSeq[slot]!);
  }

  /** Marks every record that is not SACKed lost (RFC 8985 §6.3 after an RTO, RFC 5681 §3.1). */
  markAllLost(): void {
    for (let i = 0; i < this.#n; i++) this.markLost(this.slot(i));
  }

  /** Clears every lost mark (a loss proved spurious: the segments are in flight after all). */
  clearLost(): void {
    if (this.lostBytes === 0) return;
    for (let i = 0; i < this.#n; i++) {
      const k = this.slot(i);
      this.flags[k] = this.flags[k]! & ~SegFlag.Lost;
    }
    this.lostBytes = 0;
  }

  /** Index (from the oldest) of the first record marked lost, or -1. */
  firstLost(): number {
    if (this.lostBytes === 0) return -1;
    for (let i = 0; i < this.#n; i++) {
      if (this.flags[this.slot(i)]! & SegFlag.Lost) return i;
    }
    return -1;
  }

  /** Index of the record holding `seq` (the first whose end is past it), `count` if none. */
  #find(seq: number): number {
    let lo = 0;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLe(this.endSeq[this.slot(mid)]!, seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Splits the record containing `seq` strictly inside it into two with the same marks. */
  #split(seq: number): void {
    const i = this.#find(seq);
    if (i >= this.#n) return;
    const k = this.slot(i);
    if (!seqLt(this.startSeq[k]!, seq)) return;
    this.#grow();
    // shift records i+1.. one slot towards the tail
    for (let j = this.#n; j > i + 1; j--) {
      const to = this.slot(j);
      const from = this.slot(j - 1);
      this.startSeq[to] = this.startSeq[from]!;
      this.endSeq[to] = this.endSeq[from]!;
      this.xmitTs[to] = this.xmitTs[from]!;
      this.flags[to] = this.flags[from]!;
    }
    const k2 = this.slot(i + 1);
    this.startSeq[k2] = seq;
    this.endSeq[k2] = this.endSeq[k]!;
    this.xmitTs[k2] = this.xmitTs[k]!;
    this.flags[k2] = this.flags[k]!;
    this.endSeq[k] = seq;
    this.#n++;
  }

  #push(seq: number, end: number, now: Instant): void {
    this.#grow();
    const k = this.slot(this.#n);
    this.startSeq[k] = seq;
    this.endSeq[k] = end;
    this.xmitTs[k] = now;
    this.flags[k] = 0;
    this.#n++;
    this.totalBytes += seqSub(end, seq);
  }

  /** Makes room for one more record (doubling; amortised, not per segment). */
  #grow(): void {
    const cap = this.#mask + 1;
    if (this.#n < cap) return;
    if (cap === 0 && poolS.length > 0) {
      this.startSeq = poolS.pop()!;
      this.endSeq = poolE.pop()!;
      this.xmitTs = poolT.pop()!;
      this.flags = poolF.pop()!;
      this.#head = 0;
      this.#mask = INITIAL_CAPACITY - 1;
      return;
    }
    const next = cap === 0 ? INITIAL_CAPACITY : cap * 2;
    const s = new Uint32Array(next);
    const e = new Uint32Array(next);
    const t = new Float64Array(next);
    const f = new Uint8Array(next);
    for (let i = 0; i < this.#n; i++) {
      const k = this.slot(i);
      s[i] = this.startSeq[k]!;
      e[i] = this.endSeq[k]!;
      t[i] = this.xmitTs[k]!;
      f[i] = this.flags[k]!;
    }
    this.startSeq = s;
    this.endSeq = e;
    this.xmitTs = t;
    this.flags = f;
    this.#head = 0;
    this.#mask = next - 1;
  }
}

/** Told about each record that the peer newly acknowledges or SACKs. */
export interface SegmentVisitor {
  /** The record in `slot` of `log` was delivered (before its marks change). */
  delivered(log: SegmentLog, slot: number): void;
}
