import assert from "node:assert/strict";
import {
  type TcpInfoFields,
  TcpTraceRecorder,
  type TraceSegmentSink,
} from "../../src/trace/recorder.ts";
import { TcpFlags } from "../../src/wire/tcp.ts";
import { explain } from "../../examples/explain.ts";
import { TcpSocket } from "../../src/socket/tcp/socket.ts";
import type { TraceSegment, TraceTimer } from "../../src/trace/events.ts";
import {
  established,
  fill,
  Harness,
  LOCAL,
  LOCAL_SEQ,
  REMOTE,
  REMOTE_SEQ,
} from "../socket/tcp/_harness.ts";

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
  assert.throws(() => new TcpTraceRecorder({ capacity: 2 ** 24 + 1 }), RangeError);
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

Deno.test("TcpTraceRecorder records an RTO that fires before the retransmission it caused", () => {
  const h = new Harness();
  const rec = new TcpTraceRecorder();
  rec.attach(h.sock);
  h.sock.connect(h.cx, REMOTE, LOCAL);
  assert.equal(h.out().length, 1); // the SYN at 0
  const rto = h.sock.info.rto;
  h.at(rto);
  assert.equal(h.out().length, 1); // the SYN again, after the timeout
  const ev = rec.events();
  const rtoEvents = ev.filter((e): e is TraceTimer => e.kind === "timer" && e.timer === "rto");
  assert.deepEqual(rtoEvents.map((e) => [e.action, e.time, e.due]), [
    ["arm", 0, rto],
    ["fire", rto, rto],
    ["arm", rto, rto + h.sock.info.rto],
  ]);
  assert.ok(h.sock.info.rto > rto, "the timer backed off");
  const connect = ev.filter((e) => e.kind === "timer" && e.timer === "connect");
  assert.deepEqual(connect.map((e) => e.kind === "timer" && e.action), ["arm"]);
  const fire = ev.indexOf(rtoEvents[1]!);
  const resent = ev.findIndex((e) => e.kind === "segment" && e.retransmit);
  assert.ok(fire >= 0 && fire < resent, `fire at ${fire}, retransmission at ${resent}`);
});

Deno.test("TcpTraceRecorder records application writes and reads, and a timer cancelled by an ACK", () => {
  const h = established();
  const rec = new TcpTraceRecorder();
  rec.attach(h.sock);
  h.at(5);
  h.expectNothing(); // the recorder learns the time and the (idle) timers
  assert.equal(h.sock.send(fill(60)), 60);
  assert.equal(h.out().length, 1);
  h.at(9);
  h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 61, payload: fill(40) });
  assert.equal(h.sock.recv(new Uint8Array(25)), 25);
  h.sock.consumeRecv(h.sock.peekRecv(100).length);
  const ev = rec.events();
  const apps = ev.filter((e) => e.kind === "app").map((e) =>
    e.kind === "app" && [e.op, e.bytes, e.time]
  );
  assert.deepEqual(apps, [["write", 60, 5], ["read", 25, 9], ["read", 15, 9]]);
  const rto = ev.filter((e) => e.kind === "timer" && e.timer === "rto");
  assert.deepEqual(rto.map((e) => e.kind === "timer" && [e.action, e.time]), [
    ["arm", 5],
    ["cancel", 9],
  ]);
});

Deno.test("TcpTraceRecorder records a retransmission timer moved by an ACK only when restarts are asked for", () => {
  for (const restarts of [false, true]) {
    const h = established();
    const rec = new TcpTraceRecorder({ restarts });
    rec.attach(h.sock);
    assert.equal(h.sock.send(fill(60)), 60);
    h.out(); // 60 bytes in up to two segments at 0: the timer is armed
    h.at(50);
    h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 10 }); // a partial ACK moves the timer
    const rto = rec.events().filter((e) => e.kind === "timer" && e.timer === "rto");
    assert.deepEqual(
      rto.map((e) => e.kind === "timer" && e.action),
      restarts ? ["arm", "restart"] : ["arm"],
    );
  }
});

Deno.test("TcpTraceRecorder keeps a 1 GiB transfer's trace within its bound and counts every event", () => {
  // The sender's view of 1 GiB in 1448-byte segments with an ACK every two, across the 2^32
  // wrap: fed straight into the sink, so the test counts events instead of timing a transfer.
  const info = { ...base, state: "established", srtt: 20, rto: 220 };
  const socket = { traceSink: null as TraceSegmentSink | null, state: "established", info };
  const rec = new TcpTraceRecorder({ capacity: 4096 });
  rec.attach(socket);
  const sink = socket.traceSink!;
  const isn = 0xffff0000, peerIsn = 5000, mss = 1448;
  const seg = (seq: number, ack: number, flags: number, len: number) => ({
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    window: 512,
    windowScale: null,
    mss: null,
    sackBlocks: [],
    payload: { length: len },
  });
  sink.segment(0, "out", { ...seg(isn, 0, TcpFlags.SYN, 0), mss: 1460 }, "syn");
  sink.segment(1, "in", seg(peerIsn, isn + 1, TcpFlags.SYN | TcpFlags.ACK, 0), null);
  let events = 3; // the SYN, the SYN-ACK and the first sample
  const total = 1 << 30;
  let sent = 0, now = 2;
  while (sent < total) {
    const len = Math.min(mss, total - sent);
    sink.segment(now, "out", seg(isn + 1 + sent, peerIsn + 1, TcpFlags.ACK, len), "new data");
    sent += len;
    events++;
    if (sent % (2 * mss) === 0 || sent === total) {
      info.sndUna = (isn + 1 + sent) >>> 0; // what the ACK acknowledges changes the sample
      info.cwnd = 10 * mss + (now % 7);
      sink.segment(now, "in", seg(peerIsn + 1, isn + 1 + sent, TcpFlags.ACK, 0), null);
      events += 2; // the ACK and a sample
      now++;
    }
  }
  const ev = rec.events();
  assert.equal(ev.length, 4096);
  assert.equal(rec.dropped, events - 4096);
  const last = ev.findLast((e): e is TraceSegment => e.kind === "segment" && e.dir === "ba")!;
  assert.equal(last.ack, total + 1, "the ACK number keeps growing across the wrap");
  assert.ok(ev.every((e) => e.kind !== "segment" || !e.retransmit));
});
