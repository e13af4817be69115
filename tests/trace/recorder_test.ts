import assert from "node:assert/strict";
import { type TcpInfoFields, TcpTraceRecorder } from "../../src/trace/recorder.ts";
import { explain } from "../../examples/explain.ts";
import { TcpSocket } from "../../src/socket/tcp/socket.ts";
import type { TraceSegment } from "../../src/trace/events.ts";

const base: TcpInfoFields = {
  state: "synSent",
  cwnd: 14600,
  ssthresh: 2 ** 31,
  srtt: null,
  rto: 1000,
  sndUna: 100,
  sndNxt: 101,
};

Deno.test("TcpTraceRecorder records a state change and a sample only when something changed", () => {
  const r = new TcpTraceRecorder({ side: "b" });
  r.record(0, base);
  r.record(1, base);
  r.record(2, { ...base, state: "established", srtt: 20, rto: 220, sndUna: 101 });
  const ev = r.events();
  assert.deepEqual(ev.map((e) => e.kind), ["sample", "state", "sample"]);
  assert.deepEqual(ev[1], {
    kind: "state",
    time: 2,
    side: "b",
    from: "synSent",
    to: "established",
  });
  const s = ev[2]!;
  assert.ok(s.kind === "sample");
  assert.equal(s.dir, "ba");
  assert.equal(s.inFlight, 0);
  assert.equal(s.srtt, 20);
});

Deno.test("TcpTraceRecorder computes bytes in flight across the 2^32 wrap", () => {
  const r = new TcpTraceRecorder();
  r.record(0, { ...base, sndUna: 0xffffff00, sndNxt: 0x100 });
  const s = r.events()[0]!;
  assert.ok(s.kind === "sample");
  assert.equal(s.inFlight, 0x200);
});

Deno.test("TcpTraceRecorder keeps the newest events within its capacity and counts the rest", () => {
  const r = new TcpTraceRecorder({ capacity: 4 });
  for (let i = 0; i < 10; i++) r.note(i, `n${i}`);
  const ev = r.events();
  assert.equal(ev.length, 4);
  assert.deepEqual(ev.map((e) => e.time), [6, 7, 8, 9]);
  assert.equal(r.dropped, 6);
});

Deno.test("TcpTraceRecorder rejects a bad capacity or side", () => {
  assert.throws(() => new TcpTraceRecorder({ capacity: 0 }), RangeError);
  assert.throws(() => new TcpTraceRecorder({ capacity: 1.5 }), RangeError);
  assert.throws(() => new TcpTraceRecorder({ side: "c" as "a" }), TypeError);
});

function segs(events: readonly { kind: string }[]): TraceSegment[] {
  return events.filter((e): e is TraceSegment => e.kind === "segment");
}

Deno.test("TcpTraceRecorder.attach records the segments the capture saw, in order, with reasons", () => {
  const r = explain(32768, 12);
  const shape = (s: TraceSegment) => [s.dir, s.seq, s.ack, s.len, s.flags, s.window].join(" ");
  const recorded = segs(r.trace.events);
  const captured = segs(r.captured.events);
  // The recorder also sees the handshake ACK as the reply of process(), as the capture does.
  assert.deepEqual(recorded.map(shape), captured.map(shape));
  for (const s of recorded) {
    if (s.dir === "ab") assert.ok(s.reason !== undefined, `reason of ${shape(s)}`);
    else assert.equal(s.reason, undefined);
  }
  assert.equal(recorded.filter((s) => s.retransmit).length, 1);
  const re = recorded.find((s) => s.retransmit)!;
  assert.ok(["fast retransmit", "recovery"].includes(re.reason!), re.reason);
});

Deno.test("TcpTraceRecorder.attach marks a tail loss probe as tlp", () => {
  // 32 KiB is 23 data frames after the SYN and the handshake ACK: frame 25 is the last one.
  const r = explain(32768, 25);
  const reasons = segs(r.trace.events).map((s) => s.reason);
  assert.ok(reasons.includes("tlp"), reasons.join(","));
  assert.ok(!reasons.includes("rto"), "the tail is repaired without a timeout");
});

Deno.test("TcpTraceRecorder.detach clears the socket's sink and keeps what was recorded", () => {
  const socket = new TcpSocket();
  const rec = new TcpTraceRecorder();
  rec.attach(socket);
  assert.notEqual(socket.traceSink, null);
  rec.detach();
  assert.equal(socket.traceSink, null);
  // A sink set by someone else after attach is left alone.
  rec.attach(socket);
  const other = { segment() {} };
  socket.traceSink = other;
  rec.detach();
  assert.equal(socket.traceSink, other);
});
