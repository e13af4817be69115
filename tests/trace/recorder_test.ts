import assert from "node:assert/strict";
import { type TcpInfoFields, TcpTraceRecorder } from "../../src/trace/recorder.ts";

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
