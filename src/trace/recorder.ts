/**
 * A bounded recorder of what one TCP endpoint did: state changes and samples of its congestion
 * state, taken from the socket's allocation-free `info` snapshot whenever the caller asks
 * (typically once after each poll), plus free-text notes. Nothing is recorded unless `record` is
 * called, so a connection without a recorder pays nothing.
 *
 * @module
 */

import type { ConnectionTrace, TraceableSegment, TraceEvent, TraceTimerName } from "./events.ts";
import { newNumberedSegment, NO_SACK, SegmentNumbering } from "./_numbering.ts";
import { EventRing, Kind, NO_REASON, SEG_AB, SEG_RETRANSMIT } from "./_event_ring.ts";

/**
 * The fields of a TCP socket's `info` snapshot that the recorder reads (`TcpSocket.info` and
 * `TcpStream.socket.info` have them all).
 *
 * @example
 * ```ts
 * import { type TcpInfoFields, TcpTraceRecorder } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const fields: TcpInfoFields = {
 *   state: "synSent", cwnd: 14600, ssthresh: 65535, srtt: null, rto: 1000, sndUna: 0, sndNxt: 1,
 * };
 * const rec = new TcpTraceRecorder();
 * rec.record(3, fields);
 * assert.deepEqual(rec.events(), [{
 *   kind: "sample", time: 3, dir: "ab", cwnd: 14600, ssthresh: 65535, srtt: null, rto: 1000,
 *   inFlight: 1, // sndNxt - sndUna
 * }]);
 * ```
 */
export interface TcpInfoFields {
  /** Connection state. */
  readonly state: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  /** Slow start threshold in bytes. */
  readonly ssthresh: number;
  /** Smoothed RTT in milliseconds, `null` before the first sample. */
  readonly srtt: number | null;
  /** Retransmission timeout in milliseconds. */
  readonly rto: number;
  /** Oldest unacknowledged sequence number. */
  readonly sndUna: number;
  /** Next sequence number to send. */
  readonly sndNxt: number;
}

/**
 * The hook a socket calls for each segment (`TcpTraceSink` of `@smol/net/socket`, as the
 * recorder sees it).
 *
 * @example
 * ```ts
 * import type { TraceSegmentSink } from "@smol/net/trace";
 * import { Interface, SocketSet } from "@smol/net/iface";
 * import { Loopback } from "@smol/net/phy";
 * import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const iface = new Interface({ addresses: ["127.0.0.1/8"], seed: 1 });
 * const sockets = new SocketSet(), dev = new Loopback();
 * iface.listenTcp(sockets, new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }));
 * const seen: string[] = [];
 * const sink: TraceSegmentSink = { segment: (_now, dir, repr) => void seen.push(`${dir} ${repr.flags}`) };
 * const conn = new TcpSocket();
 * conn.traceSink = sink;
 * iface.connectTcp(sockets, conn, { addr: Ipv4Address.parse("127.0.0.1"), port: 80 }, {}, 0);
 * for (let t = 0; t < 5; t++) iface.poll(t, dev, sockets);
 * assert.deepEqual(seen.slice(0, 3), ["out 2", "in 18", "out 16"]); // SYN, SYN-ACK, ACK
 * ```
 */
export interface TraceSegmentSink {
  /**
   * One segment the socket took in (`"in"`) or sent (`"out"`), with why it was sent.
   *
   * @param now When.
   * @param dir Which way.
   * @param repr The segment (valid during the call only).
   * @param reason Why it was sent, `null` for received segments.
   */
  segment(now: number, dir: "in" | "out", repr: TraceableSegment, reason: string | null): void;
  /**
   * The socket's timer deadlines after each segment it took in or each dispatch.
   *
   * @param now When.
   * @param timers The deadlines, `Infinity` when off (read during the call).
   */
  timers?(now: number, timers: TraceTimerDeadlines): void;
  /**
   * The application moved bytes through the socket's buffers.
   *
   * @param op `"write"` into the send buffer, `"read"` out of the receive buffer.
   * @param bytes How many.
   */
  app?(op: "read" | "write", bytes: number): void;
}

/**
 * A socket's timer deadlines as the recorder reads them (`TcpTimerDeadlines` of
 * `@smol/net/socket`).
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceSegmentSink, type TraceTimerDeadlines } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!;
 * const t: TraceTimerDeadlines = { rto: 1000, delayedAck: Infinity, persist: Infinity,
 *   timeWait: Infinity, connect: 3000, reorder: Infinity, probe: Infinity };
 * sink.timers?.(0, t);
 * const armed = rec.events().flatMap((e) => e.kind === "timer" ? [`${e.timer} ${e.due}`] : []);
 * assert.deepEqual(armed.sort(), ["connect 3000", "rto 1000"]); // Infinity: off
 * ```
 */
export type TraceTimerDeadlines = { readonly [K in TraceTimerName]: number };

/**
 * A socket a recorder can attach to: `TcpSocket` of `@smol/net/socket` (also reachable as
 * `TcpStream.socket` in the async layer).
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceableSocket } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const info = { state: "established", cwnd: 14600, ssthresh: 65535, srtt: 20, rto: 220, sndUna: 1, sndNxt: 1 };
 * const s: TraceableSocket = { traceSink: null, state: "established", info };
 * const rec = new TcpTraceRecorder();
 * rec.attach(s);
 * assert.notEqual(s.traceSink, null);
 * s.traceSink?.app?.("write", 10);
 * assert.deepEqual(rec.events().map((e) => e.kind), ["app"]);
 * rec.detach();
 * assert.equal(s.traceSink, null);
 * ```
 */
export interface TraceableSocket {
  /** Where the socket reports its segments; `null` when tracing is off. */
  traceSink: TraceSegmentSink | null;
  /** The connection state (read on every segment, so it must be cheap). */
  readonly state: string;
  /** The socket's snapshot of state and congestion variables. */
  readonly info: TcpInfoFields;
}

/** Reasons to send that change no congestion state: no sample is taken after them. */
const ROUTINE: ReadonlySet<string> = new Set(["new data", "ack", "reply"]);

/** The largest ring: 2^24 events, about 1 GiB of storage. */
const MAX_CAPACITY = 1 << 24;

/** Timer actions as codes of the ring's `code` column (see `TIMER_ACTIONS`). */
const ARM = 0, RESTART = 1, CANCEL = 2, FIRE = 3;

/**
 * Options of {@linkcode TcpTraceRecorder}.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TcpTraceRecorderOptions } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const o: TcpTraceRecorderOptions = { side: "b", capacity: 2 };
 * const rec = new TcpTraceRecorder(o);
 * rec.note(0, "x");
 * rec.note(1, "y");
 * rec.note(2, "z");
 * assert.deepEqual(rec.events().map((e) => e.kind === "note" && `${e.side} ${e.text}`), ["b y", "b z"]);
 * assert.equal(rec.dropped, 1); // the oldest was overwritten
 * ```
 */
export interface TcpTraceRecorderOptions {
  /** Which endpoint of the trace the socket is: `"a"` (default) or `"b"`. */
  side?: "a" | "b";
  /**
   * Events kept at most; the oldest are overwritten beyond. Default 65,536, at most 2^24. The
   * ring's storage (about 60 bytes an event: 3.75 MiB by default) is allocated by the
   * constructor, so recording allocates nothing.
   */
  capacity?: number;
  /**
   * Whether a timer moved before it was due is recorded as `restart` (default `false`: the
   * retransmission timer restarts on most ACKs of a bulk transfer, which would fill the ring).
   */
  restarts?: boolean;
  /** How {@linkcode TcpTraceRecorder.connection} names endpoint `a` (default `"a"`). */
  a?: string;
  /** How {@linkcode TcpTraceRecorder.connection} names endpoint `b` (default `"b"`). */
  b?: string;
}

/**
 * Records state changes and congestion samples of one TCP socket into a ring of bounded size.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder({ capacity: 8 });
 * rec.note(0, "created");
 * rec.record(0, socket.info); // first look: one sample
 * rec.record(1, socket.info); // nothing changed: nothing recorded
 * assert.deepEqual(rec.events().map((e) => e.kind), ["note", "sample"]);
 * ```
 */
export class TcpTraceRecorder {
  readonly #side: "a" | "b";
  /** Whether the side is `a`: then what it sends goes `ab`. */
  readonly #sideA: boolean;
  readonly #a: string;
  readonly #restarts: boolean;
  readonly #b: string;
  readonly #ring: EventRing;
  /** The state seen last, as a code of the ring's string table (0 before the first look). */
  #state = 0;
  #stateName: string | null = null;
  #numbering = new SegmentNumbering();
  readonly #numbered = newNumberedSegment();
  /** The reason seen last and its code: most segments sent in a row have the same reason. */
  #reason: string | null = null;
  #reasonCode = NO_REASON;
  #reasonSamples = false;
  #socket: TraceableSocket | null = null;
  readonly #sink: TraceSegmentSink = {
    segment: (now, dir, repr, reason) => this.#segment(now, dir === "out", repr, reason),
    timers: (now, timers) => {
      this.#now = now;
      this.#timers = timers;
      this.#diffTimers(now, timers);
    },
    app: (op, bytes) => {
      const r = this.#ring;
      const i = r.push(Kind.App, this.#now);
      r.f0[i] = bytes;
      r.bits[i] = op === "read" ? 1 : 0;
    },
  };
  /** The latest time seen: application calls are stamped with it. */
  #now = 0;
  /** The socket's live deadlines, known after its first `timers` call. */
  #timers: TraceTimerDeadlines | null = null;
  /** The deadlines seen last, in the ring's timer-name order. */
  readonly #due = new Float64Array(7).fill(Infinity);
  #cwnd = -1;
  #ssthresh = -1;
  #srtt: number | null = -1;
  #rto = -1;
  #inFlight = -1;

  /**
   * Creates an empty recorder.
   *
   * @param options The endpoint's side and the ring's capacity.
   */
  constructor(options: TcpTraceRecorderOptions = {}) {
    const capacity = options.capacity ?? 65_536;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(
        `Invalid capacity ${capacity}: expected an integer from 1 to ${MAX_CAPACITY}`,
      );
    }
    const side = options.side ?? "a";
    if (side !== "a" && side !== "b") {
      throw new TypeError(`Invalid side ${JSON.stringify(side)}: expected "a" or "b"`);
    }
    this.#side = side;
    this.#sideA = side === "a";
    this.#restarts = options.restarts === true;
    this.#a = String(options.a ?? "a");
    this.#b = String(options.b ?? "b");
    this.#ring = new EventRing(capacity);
  }

  #segment(now: number, out: boolean, repr: TraceableSegment, reason: string | null): void {
    this.#now = now;
    // What a dispatch did to the timers comes before the segment it sent (an RTO fires,
    // then the retransmission leaves).
    if (out && this.#timers !== null) this.#diffTimers(now, this.#timers);
    const ab = out === this.#sideA;
    const n = this.#numbered;
    this.#numbering.number(ab, repr, n);
    let code = NO_REASON, samples = false;
    if (reason !== null) {
      if (reason !== this.#reason) {
        this.#reason = reason;
        this.#reasonCode = this.#ring.intern(reason);
        this.#reasonSamples = !ROUTINE.has(reason);
      }
      code = this.#reasonCode;
      samples = this.#reasonSamples;
    }
    const r = this.#ring;
    const i = r.push(Kind.Segment, now);
    r.f0[i] = n.seq;
    r.f1[i] = n.ack;
    r.f2[i] = repr.payload.length;
    r.f3[i] = n.window;
    r.f4[i] = repr.mss ?? NaN;
    r.flags[i] = repr.flags;
    r.bits[i] = (ab ? SEG_AB : 0) | (n.retransmit ? SEG_RETRANSMIT : 0);
    r.code[i] = code;
    if (n.sack !== NO_SACK) r.ref[i] = n.sack;
    // Congestion state moves on what comes in (ACKs) and on timeouts (RTO, TLP); a state
    // change can follow anything. `state` is cheap; `info` is a refresh of every field.
    const s = this.#socket!;
    if (!out || samples || s.state !== this.#stateName) this.record(now, s.info);
  }

  #diffTimers(now: number, t: TraceTimerDeadlines): void {
    // Plain property reads in a fixed order: this runs after every dispatch of a traced socket.
    const d = this.#due;
    if (t.connect !== d[0]) this.#timerChanged(now, 0, t.connect);
    if (t.rto !== d[1]) this.#timerChanged(now, 1, t.rto);
    if (t.probe !== d[2]) this.#timerChanged(now, 2, t.probe);
    if (t.reorder !== d[3]) this.#timerChanged(now, 3, t.reorder);
    if (t.persist !== d[4]) this.#timerChanged(now, 4, t.persist);
    if (t.delayedAck !== d[5]) this.#timerChanged(now, 5, t.delayedAck);
    if (t.timeWait !== d[6]) this.#timerChanged(now, 6, t.timeWait);
  }

  #timerChanged(now: number, name: number, is: number): void {
    const was = this.#due[name]!;
    this.#due[name] = is;
    if (was !== Infinity) {
      if (was > now) {
        if (is === Infinity) this.#timer(now, name, CANCEL, was);
        else if (this.#restarts) this.#timer(now, name, RESTART, is);
        return;
      }
      this.#timer(now, name, FIRE, was);
      if (is === Infinity) return;
    }
    this.#timer(now, name, ARM, is);
  }

  #timer(now: number, name: number, action: number, due: number): void {
    const r = this.#ring;
    const i = r.push(Kind.Timer, now);
    r.bits[i] = name;
    r.code[i] = action;
    r.f0[i] = due;
  }

  /** Events overwritten because the ring was full. */
  get dropped(): number {
    return this.#ring.dropped;
  }

  /**
   * Looks at the socket's snapshot: records a state change when the state moved, and a sample
   * when the congestion window, threshold, RTT, RTO or bytes in flight changed.
   *
   * @param now The current time in milliseconds.
   * @param info The socket's `info` (read it right before; it is reused by the socket).
   */
  record(now: number, info: TcpInfoFields): void {
    if (now > this.#now) this.#now = now;
    const r = this.#ring;
    if (info.state !== this.#stateName) {
      const to = r.intern(info.state);
      if (this.#stateName !== null) {
        const i = r.push(Kind.State, now);
        r.code[i] = this.#state;
        r.code2[i] = to;
      }
      this.#state = to;
      this.#stateName = info.state;
    }
    const inFlight = (info.sndNxt - info.sndUna) >>> 0;
    if (
      info.cwnd !== this.#cwnd || info.ssthresh !== this.#ssthresh || info.srtt !== this.#srtt ||
      info.rto !== this.#rto || inFlight !== this.#inFlight
    ) {
      this.#cwnd = info.cwnd;
      this.#ssthresh = info.ssthresh;
      this.#srtt = info.srtt;
      this.#rto = info.rto;
      this.#inFlight = inFlight;
      const i = r.push(Kind.Sample, now);
      r.f0[i] = info.cwnd;
      r.f1[i] = info.ssthresh;
      r.f2[i] = info.srtt ?? NaN;
      r.f3[i] = info.rto;
      r.f4[i] = inFlight;
    }
  }

  /**
   * Starts recording every segment `socket` takes in or sends, with why it was sent, and its
   * state and congestion variables after each; replaces the socket's current trace sink.
   * Segments are numbered relative to each side's initial sequence number, as in a capture.
   *
   * @param socket A `TcpSocket` (in the async layer: `stream.socket`).
   *
   * @example
   * ```ts
   * import { TcpTraceRecorder } from "@smol/net/trace";
   * import { TcpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const socket = new TcpSocket();
   * const rec = new TcpTraceRecorder();
   * rec.attach(socket);
   * assert.notEqual(socket.traceSink, null);
   * rec.detach();
   * assert.equal(socket.traceSink, null);
   * ```
   */
  attach(socket: TraceableSocket): void {
    this.detach();
    this.#socket = socket;
    this.#numbering = new SegmentNumbering();
    this.#timers = null;
    this.#due.fill(Infinity);
    socket.traceSink = this.#sink;
  }

  /** Stops recording the attached socket (its sink is cleared if it is still ours). */
  detach(): void {
    const s = this.#socket;
    if (s !== null && s.traceSink === this.#sink) s.traceSink = null;
    this.#socket = null;
  }

  /**
   * Records a note (an application call, a step of the explanation).
   *
   * @param now The current time in milliseconds.
   * @param text What happened.
   */
  note(now: number, text: string): void {
    if (now > this.#now) this.#now = now;
    const i = this.#ring.push(Kind.Note, now);
    this.#ring.ref[i] = text;
  }

  /**
   * The recorded events as a {@linkcode ConnectionTrace} named by the `a` and `b` options, ready
   * for `traceReportHtml`, the SVG functions and `traceToJsonLines`.
   *
   * @returns A new trace.
   *
   * @example
   * ```ts
   * import { TcpTraceRecorder, traceToJsonLines } from "@smol/net/trace";
   * import assert from "node:assert/strict";
   * const rec = new TcpTraceRecorder({ a: "192.0.2.2:49152", b: "192.0.2.1:80" });
   * rec.note(0, "connect()");
   * const trace = rec.connection();
   * assert.equal(trace.b, "192.0.2.1:80");
   * assert.equal(traceToJsonLines(trace).split("\n").length, 3);
   * ```
   */
  connection(): ConnectionTrace {
    return { a: this.#a, b: this.#b, events: this.events() };
  }

  /**
   * The recorded events, oldest first.
   *
   * @returns A new array.
   */
  events(): TraceEvent[] {
    return this.#ring.events(this.#side);
  }
}
