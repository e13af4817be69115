/**
 * The TIME-WAIT table: connections that ended in TIME-WAIT, kept as compact records (4-tuple,
 * SND.NXT as the ISN floor, RCV.NXT, window, timestamps, expiry) rather than sockets. Records
 * live in parallel typed arrays indexed by slot, found through an open-addressing hash of the
 * 4-tuple and expired through a binary min-heap on the expiry instant, so holding 100,000 of
 * them costs a few megabytes and no poll ever visits them. Internal to the iface folder.
 *
 * @module
 */

import { type IpAddress, Ipv4Address } from "../wire/address.ts";
import { mix } from "../wire/_bytes.ts";
import type { TimeWaitState } from "../socket/tcp/time_wait.ts";
import { type Instant, NEVER } from "../time.ts";

const INITIAL_SLOTS = 16;
const UNUSED: IpAddress = Ipv4Address.UNSPECIFIED;

/** The hash of a 4-tuple (the same mixing as the socket set's connection index). */
export function tupleHash(la: IpAddress, lp: number, ra: IpAddress, rp: number): number {
  return mix(mix(mix(la.hash(), ra.hash()), lp), rp);
}

/** TIME-WAIT records by 4-tuple, with an expiry heap. */
export class TimeWaitTable {
  #cap = 0;
  #count = 0;
  // Per-slot fields.
  #hash: Uint32Array = new Uint32Array(0);
  #lPort: Uint16Array = new Uint16Array(0);
  #rPort: Uint16Array = new Uint16Array(0);
  #window: Uint16Array = new Uint16Array(0);
  #tsOn: Uint8Array = new Uint8Array(0);
  #sndNxt: Uint32Array = new Uint32Array(0);
  #rcvNxt: Uint32Array = new Uint32Array(0);
  #tsOffset: Uint32Array = new Uint32Array(0);
  #tsRecent: Uint32Array = new Uint32Array(0);
  #expires: Float64Array = new Float64Array(0);
  #duration: Float64Array = new Float64Array(0);
  #lastAck: Float64Array = new Float64Array(0);
  #lAddr: IpAddress[] = [];
  #rAddr: IpAddress[] = [];
  /** Free slots (a stack). */
  #free: Int32Array = new Int32Array(0);
  #freeTop = 0;
  /** Open addressing with linear probing: slot + 1, 0 when empty. */
  #index: Int32Array = new Int32Array(0);
  #mask = -1;
  /** Min-heap of slots by expiry, and each slot's position in it. */
  #heap: Int32Array = new Int32Array(0);
  #heapPos: Int32Array = new Int32Array(0);

  /** The number of records. */
  get size(): number {
    return this.#count;
  }

  /** The slot of the record for a 4-tuple, or -1. */
  find(lAddr: IpAddress, lPort: number, rAddr: IpAddress, rPort: number): number {
    if (this.#count === 0) return -1;
    return this.#findHashed(tupleHash(lAddr, lPort, rAddr, rPort), lAddr, lPort, rAddr, rPort);
  }

  #findHashed(h: number, lAddr: IpAddress, lPort: number, rAddr: IpAddress, rPort: number): number {
    const index = this.#index, mask = this.#mask;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const v = index[i]!;
      if (v === 0) return -1;
      const s = v - 1;
      if (
        this.#hash[s] === h && this.#lPort[s] === lPort && this.#rPort[s] === rPort &&
        this.#lAddr[s]!.equals(lAddr) && this.#rAddr[s]!.equals(rAddr)
      ) return s;
    }
  }

  /**
   * Adds the record for a 4-tuple (replacing one that exists).
   *
   * @returns Its slot.
   */
  insert(
    lAddr: IpAddress,
    lPort: number,
    rAddr: IpAddress,
    rPort: number,
    st: TimeWaitState,
  ): number {
    const h = tupleHash(lAddr, lPort, rAddr, rPort);
    if (this.#count > 0) {
      const old = this.#findHashed(h, lAddr, lPort, rAddr, rPort);
      if (old >= 0) this.remove(old);
    }
    if (this.#freeTop === 0) this.#grow();
    const s = this.#free[--this.#freeTop]!;
    this.#hash[s] = h;
    this.#lPort[s] = lPort;
    this.#rPort[s] = rPort;
    this.#lAddr[s] = lAddr;
    this.#rAddr[s] = rAddr;
    this.#store(s, st);
    const index = this.#index, mask = this.#mask;
    let i = h & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = s + 1;
    const n = this.#count++;
    this.#heap[n] = s;
    this.#heapPos[s] = n;
    this.#up(n);
    return s;
  }

  /** Copies a record's state into `into`. */
  read(slot: number, into: TimeWaitState): void {
    into.sndNxt = this.#sndNxt[slot]!;
    into.rcvNxt = this.#rcvNxt[slot]!;
    into.window = this.#window[slot]!;
    into.tsOn = this.#tsOn[slot] === 1;
    into.tsOffset = this.#tsOffset[slot]!;
    into.tsRecent = this.#tsRecent[slot]!;
    into.expires = this.#expires[slot]!;
    into.duration = this.#duration[slot]!;
    into.lastAck = this.#lastAck[slot]!;
  }

  /** Stores `st` back into a record (its expiry may have moved). */
  write(slot: number, st: TimeWaitState): void {
    const before = this.#expires[slot]!;
    this.#store(slot, st);
    const p = this.#heapPos[slot]!;
    if (st.expires < before) this.#up(p);
    else if (st.expires > before) this.#down(p);
  }

  /** Removes a record. */
  remove(slot: number): void {
    // Heap: move the last entry into the hole.
    const p = this.#heapPos[slot]!;
    const last = --this.#count;
    if (p !== last) {
      const moved = this.#heap[last]!;
      this.#heap[p] = moved;
      this.#heapPos[moved] = p;
      this.#down(p);
      this.#up(this.#heapPos[moved]!);
    }
    this.#heapPos[slot] = -1;
    // Index: backward-shift deletion keeps probe chains intact without tombstones.
    const index = this.#index, mask = this.#mask;
    let i = this.#hash[slot]! & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const v = index[j]!;
      if (v === 0) break;
      const home = this.#hash[v - 1]! & mask;
      // Move v back into the hole at i when its home is not in (i, j] (cyclically).
      if (((j - home) & mask) >= ((j - i) & mask)) {
        index[i] = v;
        i = j;
      }
    }
    index[i] = 0;
    this.#lAddr[slot] = UNUSED;
    this.#rAddr[slot] = UNUSED;
    this.#free[this.#freeTop++] = slot;
    if (this.#count === 0 && this.#cap > INITIAL_SLOTS) this.#reset();
  }

  /** Gives the arrays of an empty table back (a burst of closes leaves no memory behind). */
  #reset(): void {
    this.#cap = 0;
    this.#hash = new Uint32Array(0);
    this.#lPort = new Uint16Array(0);
    this.#rPort = new Uint16Array(0);
    this.#window = new Uint16Array(0);
    this.#tsOn = new Uint8Array(0);
    this.#sndNxt = new Uint32Array(0);
    this.#rcvNxt = new Uint32Array(0);
    this.#tsOffset = new Uint32Array(0);
    this.#tsRecent = new Uint32Array(0);
    this.#expires = new Float64Array(0);
    this.#duration = new Float64Array(0);
    this.#lastAck = new Float64Array(0);
    this.#lAddr = [];
    this.#rAddr = [];
    this.#free = new Int32Array(0);
    this.#freeTop = 0;
    this.#index = new Int32Array(0);
    this.#mask = -1;
    this.#heap = new Int32Array(0);
    this.#heapPos = new Int32Array(0);
  }

  /** The earliest expiry, or `NEVER`. */
  nextExpiry(): Instant {
    return this.#count === 0 ? NEVER : this.#expires[this.#heap[0]!]!;
  }

  /** Whether a record's 2×MSL has run out at `now`. */
  expired(slot: number, now: Instant): boolean {
    return this.#expires[slot]! <= now;
  }

  /**
   * Removes every record whose expiry is at or before `now`.
   *
   * @returns How many were removed.
   */
  expire(now: Instant): number {
    let n = 0;
    while (this.#count > 0 && this.#expires[this.#heap[0]!]! <= now) {
      this.remove(this.#heap[0]!);
      n++;
    }
    return n;
  }

  /** Removes every record. */
  clear(): void {
    while (this.#count > 0) this.remove(this.#heap[0]!);
  }

  #store(s: number, st: TimeWaitState): void {
    this.#sndNxt[s] = st.sndNxt;
    this.#rcvNxt[s] = st.rcvNxt;
    this.#window[s] = st.window;
    this.#tsOn[s] = st.tsOn ? 1 : 0;
    this.#tsOffset[s] = st.tsOffset;
    this.#tsRecent[s] = st.tsRecent;
    this.#expires[s] = st.expires;
    this.#duration[s] = st.duration;
    this.#lastAck[s] = st.lastAck;
  }

  #up(p: number): void {
    const heap = this.#heap, pos = this.#heapPos, exp = this.#expires;
    const s = heap[p]!;
    const at = exp[s]!;
    while (p > 0) {
      const q = (p - 1) >> 1;
      const t = heap[q]!;
      if (exp[t]! <= at) break;
      heap[p] = t;
      pos[t] = p;
      p = q;
    }
    heap[p] = s;
    pos[s] = p;
  }

  #down(p: number): void {
    const heap = this.#heap, pos = this.#heapPos, exp = this.#expires, n = this.#count;
    const s = heap[p]!;
    const at = exp[s]!;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= n) break;
      if (c + 1 < n && exp[heap[c + 1]!]! < exp[heap[c]!]!) c++;
      const t = heap[c]!;
      if (exp[t]! >= at) break;
      heap[p] = t;
      pos[t] = p;
      p = c;
    }
    heap[p] = s;
    pos[s] = p;
  }

  #grow(): void {
    const old = this.#cap;
    const cap = old === 0 ? INITIAL_SLOTS : old * 2;
    this.#cap = cap;
    this.#hash = growU32(this.#hash, cap);
    this.#lPort = growU16(this.#lPort, cap);
    this.#rPort = growU16(this.#rPort, cap);
    this.#window = growU16(this.#window, cap);
    const tsOn = new Uint8Array(cap);
    tsOn.set(this.#tsOn);
    this.#tsOn = tsOn;
    this.#sndNxt = growU32(this.#sndNxt, cap);
    this.#rcvNxt = growU32(this.#rcvNxt, cap);
    this.#tsOffset = growU32(this.#tsOffset, cap);
    this.#tsRecent = growU32(this.#tsRecent, cap);
    this.#expires = growF64(this.#expires, cap);
    this.#duration = growF64(this.#duration, cap);
    this.#lastAck = growF64(this.#lastAck, cap);
    for (let s = old; s < cap; s++) {
      this.#lAddr.push(UNUSED);
      this.#rAddr.push(UNUSED);
    }
    const heap = new Int32Array(cap);
    heap.set(this.#heap);
    this.#heap = heap;
    const pos = new Int32Array(cap).fill(-1);
    pos.set(this.#heapPos);
    this.#heapPos = pos;
    // Every slot was in use (the free stack was empty): the new ones are free, lowest on top.
    const free = new Int32Array(cap);
    let top = 0;
    for (let s = cap - 1; s >= old; s--) free[top++] = s;
    this.#free = free;
    this.#freeTop = top;
    // Rehash at load factor 1/2.
    const size = cap * 2;
    const index = new Int32Array(size);
    const mask = size - 1;
    for (let s = 0; s < old; s++) {
      if (this.#heapPos[s]! < 0) continue;
      let i = this.#hash[s]! & mask;
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = s + 1;
    }
    this.#index = index;
    this.#mask = mask;
  }
}

function growU32(a: Uint32Array, cap: number): Uint32Array {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

function growU16(a: Uint16Array, cap: number): Uint16Array {
  const b = new Uint16Array(cap);
  b.set(a);
  return b;
}

function growF64(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}
