/**
 * What a connection trace holds: segments as seen at one capture point, state changes, samples
 * of the sender's congestion state, and notes that say what the application or the stack did.
 * Plain data, so a trace can be stored as JSON Lines and drawn later.
 *
 * @module
 */

/**
 * Which way a segment went: `"ab"` from endpoint `a` (the side that sent the first SYN, or the
 * first sender seen) to endpoint `b`, `"ba"` the other way.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceDirection, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const syn = {
 *   seq: 1000, ack: 0, flags: 0x02, window: 64240, windowScale: 7, mss: 1460, sackBlocks: [],
 *   payload: new Uint8Array(0),
 * };
 * sink.segment(0, "out", syn, "connect");
 * sink.segment(5, "in", { ...syn, seq: 5000, ack: 1001, flags: 0x12 }, null);
 * const dirs: TraceDirection[] = rec.events().flatMap((e) => e.kind === "segment" ? [e.dir] : []);
 * assert.deepEqual(dirs, ["ab", "ba"]); // side "a" sends a→b and receives b→a
 * ```
 */
export type TraceDirection = "ab" | "ba";

/**
 * One TCP segment.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceSegment, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const syn = {
 *   seq: 1000, ack: 0, flags: 0x02, window: 64240, windowScale: 7, mss: 1460, sackBlocks: [],
 *   payload: new Uint8Array(0),
 * };
 * sink.segment(0, "out", syn, "connect");
 * const s = rec.events().find((e): e is TraceSegment => e.kind === "segment");
 * assert.deepEqual(s, {
 *   kind: "segment", time: 0, dir: "ab", seq: 0, ack: 0, len: 0, flags: 0x02, window: 64240,
 *   sack: [], mss: 1460, retransmit: false, reason: "connect",
 * }); // seq is relative to the first one seen
 * ```
 */
export interface TraceSegment {
  /** Discriminant. */
  readonly kind: "segment";
  /** When it was captured, in milliseconds. */
  readonly time: number;
  /** Which way it went. */
  readonly dir: TraceDirection;
  /** Sequence number relative to the sender's initial sequence number (0 = the SYN). */
  readonly seq: number;
  /** Acknowledgment number relative to the receiver's initial sequence number (valid with ACK). */
  readonly ack: number;
  /** Payload bytes. */
  readonly len: number;
  /** TCP flag bits (`TcpFlags`). */
  readonly flags: number;
  /** Advertised receive window in bytes (window scaling applied once both SYNs were seen). */
  readonly window: number;
  /** SACK blocks, relative like `ack`. */
  readonly sack: readonly (readonly [number, number])[];
  /** MSS option, or `null`. */
  readonly mss: number | null;
  /** Whether it carries sequence space below the highest already sent in its direction. */
  readonly retransmit: boolean;
  /**
   * Why it was sent, when the sender recorded it (`TcpTraceRecorder.attach`): `"syn"`,
   * `"new data"`, `"rto"`, `"tlp"`, `"fast retransmit"`, `"recovery"`, `"probe"`, `"ack"`,
   * `"reply"`, `"rst"`. Absent for segments read from a capture or received.
   */
  readonly reason?: string | undefined;
}

/**
 * The fields of a TCP segment a trace reads (the wire layer's `TcpRepr` has them all).
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceableSegment, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const s: TraceableSegment = {
 *   seq: 1, ack: 0, flags: 0x02, window: 64240, windowScale: 7, mss: 1460, sackBlocks: [],
 *   payload: new Uint8Array(0),
 * };
 * sink.segment(0, "out", s, "connect");
 * sink.segment(1, "in", { ...s, seq: 5000, ack: 2, flags: 0x12 }, null);
 * sink.segment(2, "out", { ...s, seq: 2, ack: 5001, flags: 0x18, window: 502, windowScale: null,
 *   mss: null, payload: new Uint8Array(100) }, "new data");
 * const last = rec.events().at(-1);
 * assert.ok(last?.kind === "segment");
 * assert.equal(last.len, 100);
 * assert.equal(last.window, 502 << 7); // both SYNs carried a scale: RFC 7323 §2.3
 * ```
 */
export interface TraceableSegment {
  /** Sequence number (u32). */
  readonly seq: number;
  /** Acknowledgment number (u32). */
  readonly ack: number;
  /** TCP flag bits. */
  readonly flags: number;
  /** The raw 16-bit window field. */
  readonly window: number;
  /** The window scale option, or `null`. */
  readonly windowScale: number | null;
  /** The MSS option, or `null`. */
  readonly mss: number | null;
  /** SACK blocks as u32 sequence numbers. */
  readonly sackBlocks: readonly (readonly [number, number])[];
  /** The payload (only its length is read). */
  readonly payload: { readonly length: number };
}

/**
 * The sender's congestion state at one instant.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceSample, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * rec.record(5, socket.info);
 * const s = rec.events()[0] as TraceSample;
 * assert.equal(s.kind, "sample");
 * assert.equal(s.time, 5);
 * assert.equal(s.srtt, null); // no round trip measured yet
 * assert.equal(s.cwnd, socket.info.cwnd);
 * ```
 */
export interface TraceSample {
  /** Discriminant. */
  readonly kind: "sample";
  /** When, in milliseconds. */
  readonly time: number;
  /** Whose state: the sender of direction `dir`. */
  readonly dir: TraceDirection;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  /** Slow start threshold in bytes. */
  readonly ssthresh: number;
  /** Smoothed RTT in milliseconds, `null` before the first sample. */
  readonly srtt: number | null;
  /** Retransmission timeout in milliseconds. */
  readonly rto: number;
  /** Bytes sent and not yet acknowledged. */
  readonly inFlight: number;
}

/**
 * A change of connection state at one endpoint.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceStateChange, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * rec.record(0, socket.info);
 * socket.listen({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * rec.record(1, socket.info);
 * const c = rec.events().find((e): e is TraceStateChange => e.kind === "state");
 * assert.deepEqual(c, { kind: "state", time: 1, side: "a", from: "closed", to: "listen" });
 * ```
 */
export interface TraceStateChange {
  /** Discriminant. */
  readonly kind: "state";
  /** When, in milliseconds. */
  readonly time: number;
  /** Which endpoint. */
  readonly side: "a" | "b";
  /** The state before. */
  readonly from: string;
  /** The state after. */
  readonly to: string;
}

/**
 * Free text about one endpoint at one instant: an application call, a poll, a timer.
 *
 * @example
 * ```ts
 * import { type TraceNote, TcpTraceRecorder } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const rec = new TcpTraceRecorder({ side: "b" });
 * rec.note(7, "accept()");
 * const n: TraceNote = { kind: "note", time: 7, side: "b", text: "accept()" };
 * assert.deepEqual(rec.events(), [n]);
 * ```
 */
export interface TraceNote {
  /** Discriminant. */
  readonly kind: "note";
  /** When, in milliseconds. */
  readonly time: number;
  /** Which endpoint. */
  readonly side: "a" | "b";
  /** What happened. */
  readonly text: string;
}

/**
 * A TCP timer of one endpoint: `rto` (RFC 6298), `delayedAck`, `persist`, `timeWait`, `connect`
 * (the opening handshake's deadline), `reorder` (RACK, RFC 8985 §6.3), `probe` (tail loss
 * probe, RFC 8985 §7.2).
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceTimerName, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const off = { rto: Infinity, delayedAck: Infinity, persist: Infinity, timeWait: Infinity,
 *   connect: Infinity, reorder: Infinity, probe: Infinity };
 * sink.timers?.(0, { ...off, probe: 200 });
 * const names: TraceTimerName[] = rec.events().flatMap((e) => e.kind === "timer" ? [e.timer] : []);
 * assert.deepEqual(names, ["probe"]);
 * ```
 */
export type TraceTimerName =
  | "rto"
  | "delayedAck"
  | "persist"
  | "timeWait"
  | "connect"
  | "reorder"
  | "probe";

/**
 * What happened to a timer: `arm` (it was off), `restart` (moved before it was due; recorded
 * only when the recorder's `restarts` option is on), `cancel`
 * (turned off before it was due), `fire` (it was due: turned off or moved at or after its
 * deadline; a timer that fires and is armed again gives `fire` then `arm`).
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceTimerAction, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const off = { rto: Infinity, delayedAck: Infinity, persist: Infinity, timeWait: Infinity,
 *   connect: Infinity, reorder: Infinity, probe: Infinity };
 * sink.timers?.(5, { ...off, rto: 205 }); // armed
 * sink.timers?.(205, off); // gone at its deadline: it fired
 * sink.timers?.(206, { ...off, delayedAck: 240 });
 * sink.timers?.(210, off); // gone before its deadline: cancelled
 * const actions: TraceTimerAction[] = rec.events().flatMap((e) => e.kind === "timer" ? [e.action] : []);
 * assert.deepEqual(actions, ["arm", "fire", "arm", "cancel"]);
 * ```
 */
export type TraceTimerAction = "arm" | "restart" | "cancel" | "fire";

/**
 * A timer armed, restarted, cancelled or fired at one endpoint.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceTimer, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const off = { rto: Infinity, delayedAck: Infinity, persist: Infinity, timeWait: Infinity,
 *   connect: Infinity, reorder: Infinity, probe: Infinity };
 * sink.timers?.(0, { ...off, rto: 1000 });
 * const t: TraceTimer = { kind: "timer", time: 0, side: "a", timer: "rto", action: "arm", due: 1000 };
 * assert.deepEqual(rec.events(), [t]);
 * ```
 */
export interface TraceTimer {
  /** Discriminant. */
  readonly kind: "timer";
  /** When, in milliseconds. */
  readonly time: number;
  /** Which endpoint. */
  readonly side: "a" | "b";
  /** Which timer. */
  readonly timer: TraceTimerName;
  /** What happened to it. */
  readonly action: TraceTimerAction;
  /** Its deadline: the new one for `arm` and `restart`, the old one for `cancel` and `fire`. */
  readonly due: number;
}

/**
 * The application moved bytes at one endpoint: `write` into the send buffer, `read` out of the
 * receive buffer.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceAppCall, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * sink.app?.("write", 1000);
 * const w: TraceAppCall = { kind: "app", time: 0, side: "a", op: "write", bytes: 1000 };
 * assert.deepEqual(rec.events(), [w]);
 * ```
 */
export interface TraceAppCall {
  /** Discriminant. */
  readonly kind: "app";
  /** When, in milliseconds (the latest time the recorder had seen; the core has no clock). */
  readonly time: number;
  /** Which endpoint. */
  readonly side: "a" | "b";
  /** Which way the bytes went. */
  readonly op: "read" | "write";
  /** How many bytes. */
  readonly bytes: number;
}

/**
 * Any trace event.
 *
 * @example
 * ```ts
 * import { TcpTraceRecorder, type TraceEvent, type TraceSegmentSink } from "@smol/net/trace";
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * const rec = new TcpTraceRecorder();
 * rec.attach(socket);
 * const sink: TraceSegmentSink = socket.traceSink!; // what the socket now reports to
 * const off = { rto: Infinity, delayedAck: Infinity, persist: Infinity, timeWait: Infinity,
 *   connect: Infinity, reorder: Infinity, probe: Infinity };
 * rec.note(0, "connect()");
 * sink.app?.("write", 10);
 * sink.timers?.(0, { ...off, connect: 3000 });
 * const events: TraceEvent[] = rec.events();
 * assert.deepEqual(events.map((e) => e.kind), ["note", "app", "timer"]); // narrowed by kind
 * ```
 */
export type TraceEvent =
  | TraceSegment
  | TraceSample
  | TraceStateChange
  | TraceNote
  | TraceTimer
  | TraceAppCall;

/**
 * The trace of one TCP connection, events in time order.
 *
 * @example
 * ```ts
 * import { type ConnectionTrace, TcpTraceRecorder } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const rec = new TcpTraceRecorder({ a: "192.0.2.2:49152", b: "192.0.2.1:80" });
 * rec.note(0, "connect()");
 * const t: ConnectionTrace = rec.connection();
 * assert.equal(t.a, "192.0.2.2:49152");
 * assert.equal(t.b, "192.0.2.1:80");
 * assert.equal(t.events.length, 1);
 * ```
 */
export interface ConnectionTrace {
  /** Endpoint `a` as `address:port` (IPv6 in brackets). */
  readonly a: string;
  /** Endpoint `b`. */
  readonly b: string;
  /** Events in time order. */
  readonly events: readonly TraceEvent[];
}

/** Order of kinds at equal times: what a side did comes before the segments it caused. */
const KIND_RANK = { note: 0, app: 1, timer: 2, state: 3, segment: 4, sample: 5 } as const;

/**
 * Merges events into a trace in time order; at equal times notes come first, then application
 * calls, timers, state changes, segments and samples, each group in the order given.
 *
 * @param trace A trace.
 * @param events More events for the same connection (for example from a `TcpTraceRecorder`).
 * @returns A new trace.
 *
 * @example
 * ```ts
 * import { mergeEvents } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const t = mergeEvents({ a: "a", b: "b", events: [] }, [
 *   { kind: "note", time: 2, side: "a", text: "second" },
 *   { kind: "note", time: 1, side: "a", text: "first" },
 * ]);
 * assert.deepEqual(t.events.map((e) => e.time), [1, 2]);
 * ```
 */
export function mergeEvents(
  trace: ConnectionTrace,
  events: readonly TraceEvent[],
): ConnectionTrace {
  const all = [...trace.events, ...events];
  const order = all.map((_, i) => i);
  order.sort((x, y) => {
    const ex = all[x]!, ey = all[y]!;
    return ex.time - ey.time || KIND_RANK[ex.kind] - KIND_RANK[ey.kind] || x - y;
  });
  return { a: trace.a, b: trace.b, events: order.map((i) => all[i]!) };
}

/**
 * One event per line as JSON (JSON Lines), the connection's endpoints first.
 *
 * @param trace The trace.
 * @returns The text, each line ending in a newline.
 *
 * @example
 * ```ts
 * import { traceToJsonLines } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const text = traceToJsonLines({
 *   a: "a", b: "b", events: [{ kind: "note", time: 0, side: "a", text: "connect()" }],
 * });
 * assert.equal(text.split("\n").length, 3);
 * assert.equal(JSON.parse(text.split("\n")[1]!).text, "connect()");
 * ```
 */
export function traceToJsonLines(trace: ConnectionTrace): string {
  let out = JSON.stringify({ kind: "connection", a: trace.a, b: trace.b }) + "\n";
  for (const e of trace.events) out += JSON.stringify(e) + "\n";
  return out;
}
