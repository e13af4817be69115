/**
 * The recorder's bounded ring, stored by column in typed arrays allocated once at full capacity
 * (about 60 bytes per event), so that recording an event allocates nothing and never moves the
 * storage under code V8 optimised with it: a kind and a time per slot, five numeric fields, a few small codes, and one
 * reference column for the rare fields that are objects (SACK blocks, note text). Strings that
 * repeat (send reasons, states) are kept once in a table and stored as codes. Events become
 * objects only when read ({@linkcode EventRing.events}). Internal.
 *
 * @module
 */

import type { TraceDirection, TraceEvent, TraceTimerAction, TraceTimerName } from "./events.ts";
import { NO_SACK } from "./_numbering.ts";

/** Event kinds as stored in {@linkcode EventRing.kind}. */
export const Kind = { Segment: 0, Sample: 1, State: 2, Note: 3, Timer: 4, App: 5 } as const;

/** Timer names by code (the order `TcpTraceRecorder` diffs them in). */
export const TIMER_NAMES: readonly TraceTimerName[] = [
  "connect",
  "rto",
  "probe",
  "reorder",
  "persist",
  "delayedAck",
  "timeWait",
];

/** Timer actions by code. */
export const TIMER_ACTIONS: readonly TraceTimerAction[] = ["arm", "restart", "cancel", "fire"];

/** Bits of {@linkcode EventRing.bits} for a segment. */
export const SEG_AB = 1, SEG_RETRANSMIT = 2;

/** {@linkcode EventRing.code} of a segment without a reason. */
export const NO_REASON = 0;

/**
 * What each column holds, by kind:
 *
 * | kind    | f0       | f1       | f2   | f3     | f4       | bits          | code   | code2 | ref  |
 * |---------|----------|----------|------|--------|----------|---------------|--------|-------|------|
 * | segment | seq      | ack      | len  | window | mss/NaN  | ab, retransmit| reason | –     | sack |
 * | sample  | cwnd     | ssthresh | srtt/NaN | rto | inFlight | –            | –      | –     | –    |
 * | state   | –        | –        | –    | –      | –        | –             | from   | to    | –    |
 * | note    | –        | –        | –    | –      | –        | –             | –      | –     | text |
 * | timer   | due      | –        | –    | –      | –        | name          | action | –     | –    |
 * | app     | bytes    | –        | –    | –      | –        | 1 = read      | –      | –     | –    |
 *
 * Segment flags go in {@linkcode EventRing.flags}.
 */
export class EventRing {
  /** The most events kept. */
  readonly capacity: number;
  readonly kind: Uint8Array;
  readonly time: Float64Array;
  readonly f0: Float64Array;
  readonly f1: Float64Array;
  readonly f2: Float64Array;
  readonly f3: Float64Array;
  readonly f4: Float64Array;
  readonly flags: Uint8Array;
  readonly bits: Uint8Array;
  readonly code: Uint16Array;
  readonly code2: Uint16Array;
  readonly ref: unknown[];
  /** Slot of the next event. */
  next = 0;
  /** Events held. */
  count = 0;
  /** Events overwritten because the ring was full. */
  dropped = 0;
  /** Interned strings by code; code 0 is "none". */
  readonly #strings: (string | undefined)[] = [undefined];
  readonly #codes = new Map<string, number>();

  constructor(capacity: number) {
    this.capacity = capacity;
    const n = capacity;
    this.kind = new Uint8Array(n);
    this.time = new Float64Array(n);
    this.f0 = new Float64Array(n);
    this.f1 = new Float64Array(n);
    this.f2 = new Float64Array(n);
    this.f3 = new Float64Array(n);
    this.f4 = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.bits = new Uint8Array(n);
    this.code = new Uint16Array(n);
    this.code2 = new Uint16Array(n);
    this.ref = new Array<unknown>(n).fill(undefined);
  }

  /**
   * Takes the slot for a new event of `kind` at `time` and returns its index; the caller fills
   * the kind's columns. When the ring is full the oldest event is overwritten and counted.
   */
  push(kind: number, time: number): number {
    let i = this.next;
    if (i === this.capacity) i = 0;
    if (this.count === this.capacity) this.dropped++;
    else this.count++;
    this.next = i + 1;
    this.kind[i] = kind;
    this.time[i] = time;
    if (this.ref[i] !== undefined) this.ref[i] = undefined;
    return i;
  }

  /** The code of `s` (interned on first use); codes are never 0. */
  intern(s: string): number {
    let c = this.#codes.get(s);
    if (c === undefined) {
      c = this.#strings.length;
      if (c > 0xffff) throw new RangeError("Too many distinct strings in one trace");
      this.#strings.push(s);
      this.#codes.set(s, c);
    }
    return c;
  }

  /** The string of code `c` (`undefined` for 0). */
  string(c: number): string | undefined {
    return this.#strings[c];
  }

  /**
   * The events held, oldest first, as objects of the shapes in `events.ts`.
   *
   * @param side The recording endpoint.
   */
  events(side: "a" | "b"): TraceEvent[] {
    const out: TraceEvent[] = [];
    const size = this.capacity;
    const start = this.count === size && this.next < size ? this.next : 0;
    const own: TraceDirection = side === "a" ? "ab" : "ba";
    for (let k = 0; k < this.count; k++) {
      let i = start + k;
      if (i >= size) i -= size;
      out.push(this.#event(i, side, own));
    }
    return out;
  }

  #event(i: number, side: "a" | "b", own: TraceDirection): TraceEvent {
    const time = this.time[i]!;
    switch (this.kind[i]) {
      case Kind.Segment: {
        const bits = this.bits[i]!;
        const mss = this.f4[i]!;
        return {
          kind: "segment",
          time,
          dir: (bits & SEG_AB) !== 0 ? "ab" : "ba",
          seq: this.f0[i]!,
          ack: this.f1[i]!,
          len: this.f2[i]!,
          flags: this.flags[i]!,
          window: this.f3[i]!,
          sack: (this.ref[i] ?? NO_SACK) as readonly (readonly [number, number])[],
          mss: Number.isNaN(mss) ? null : mss,
          retransmit: (bits & SEG_RETRANSMIT) !== 0,
          reason: this.#strings[this.code[i]!],
        };
      }
      case Kind.Sample: {
        const srtt = this.f2[i]!;
        return {
          kind: "sample",
          time,
          dir: own,
          cwnd: this.f0[i]!,
          ssthresh: this.f1[i]!,
          srtt: Number.isNaN(srtt) ? null : srtt,
          rto: this.f3[i]!,
          inFlight: this.f4[i]!,
        };
      }
      case Kind.State:
        return {
          kind: "state",
          time,
          side,
          from: this.#strings[this.code[i]!]!,
          to: this.#strings[this.code2[i]!]!,
        };
      case Kind.Note:
        return { kind: "note", time, side, text: this.ref[i] as string };
      case Kind.Timer:
        return {
          kind: "timer",
          time,
          side,
          timer: TIMER_NAMES[this.bits[i]!]!,
          action: TIMER_ACTIONS[this.code[i]!]!,
          due: this.f0[i]!,
        };
      default:
        return {
          kind: "app",
          time,
          side,
          op: this.bits[i] === 1 ? "read" : "write",
          bytes: this.f0[i]!,
        };
    }
  }
}
