import assert from "node:assert/strict";
import {
  congestionSvg,
  escapeXml,
  ladderSvg,
  segmentLabel,
  throughputSvg,
  timeSequenceSvg,
} from "../../src/trace/svg.ts";
import type { ConnectionTrace, TraceSegment } from "../../src/trace/events.ts";
import { explain } from "../../examples/explain.ts";

function count(svg: string, re: RegExp): number {
  return svg.match(re)?.length ?? 0;
}

const { trace } = explain(32768, 12);
const segs = trace.events.filter((e): e is TraceSegment => e.kind === "segment");

Deno.test("ladderSvg draws one arrow per segment and every note and state change", () => {
  const svg = ladderSvg(trace, { maxRows: 10_000 });
  assert.equal(count(svg, /<g class="seg"/g), segs.length);
  assert.equal(count(svg, /class="note"/g), trace.events.filter((e) => e.kind === "note").length);
  assert.equal(count(svg, /class="state"/g), trace.events.filter((e) => e.kind === "state").length);
  assert.ok(svg.includes("connect(): state → SYN-SENT"));
});

Deno.test("ladderSvg draws the first and last rows with a gap when there are too many", () => {
  const svg = ladderSvg(trace, { maxRows: 20 });
  assert.ok(count(svg, /<g class="seg"/g) <= 20);
  assert.match(svg, /… \d+ rows not drawn …/);
  assert.ok(svg.includes("SYN seq 0"), "the handshake is kept");
  assert.ok(svg.includes("FIN,ACK"), "the teardown is kept");
});

Deno.test("timeSequenceSvg draws each data segment, the retransmission in red, and the ACKs", () => {
  const svg = timeSequenceSvg(trace, "ab");
  const data = segs.filter((s) => s.dir === "ab" && (s.len > 0 || s.flags & 0x03));
  assert.equal(count(svg, /class="seg /g), data.length);
  assert.equal(count(svg, /class="seg retransmit"/g), 1);
  const acks = segs.filter((s) => s.dir === "ba" && s.flags & 0x10);
  assert.equal(count(svg, /class="ack"/g), acks.length);
  assert.equal(count(svg, /class="sack"/g), acks.reduce((n, s) => n + s.sack.length, 0));
  assert.ok(count(svg, /class="sack"/g) > 0, "the loss produced SACK blocks");
});

Deno.test("congestionSvg draws a point per sample for cwnd, in-flight and RTO", () => {
  const samples = trace.events.filter((e) => e.kind === "sample" && e.dir === "ab");
  const svg = congestionSvg(trace, "ab");
  assert.equal(count(svg, /class="sample cwnd"/g), samples.length);
  assert.equal(count(svg, /class="sample inflight"/g), samples.length);
  assert.equal(count(svg, /class="sample rto"/g), samples.length);
  const empty: ConnectionTrace = { a: "a", b: "b", events: [] };
  assert.match(congestionSvg(empty), /no samples/);
});

Deno.test("throughputSvg bins add up to the bytes acknowledged", () => {
  const svg = throughputSvg(trace, "ab", 20);
  assert.equal(count(svg, /class="bin"/g), 20);
  const t0 = trace.events[0]!.time, t1 = trace.events.at(-1)!.time;
  const width = (t1 - t0) / 20;
  let total = 0;
  for (const m of svg.matchAll(/<title>([\d.]+) MB\/s<\/title>/g)) {
    total += Number(m[1]) * width * 1000;
  }
  // Everything after the first ACK: the SYN-ACK's ack (1) to the FIN's (32770), within rounding.
  assert.ok(Math.abs(total - 32769) < 20 * 0.05 * width * 1000 + 1, `total ${total}`);
});

Deno.test("SVG text is escaped", () => {
  assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  const svg = ladderSvg({
    a: "<a>",
    b: "b",
    events: [{ kind: "note", time: 0, side: "a", text: "<script>alert(1)</script>" }],
  });
  assert.ok(!svg.includes("<script>"));
  assert.ok(!svg.includes("<a>"));
});

Deno.test("segmentLabel names flags, ranges, options and SACK blocks", () => {
  const s: TraceSegment = {
    kind: "segment",
    time: 0,
    dir: "ba",
    seq: 1,
    ack: 1449,
    len: 0,
    flags: 0x10,
    window: 65536,
    sack: [[2897, 4345]],
    mss: null,
    retransmit: false,
  };
  assert.equal(segmentLabel(s), "ACK ack 1449 win 65536 sack 2897:4345");
  assert.equal(
    segmentLabel({ ...s, seq: 0, ack: 0, flags: 0x02, mss: 1460, sack: [], window: 64240 }),
    "SYN seq 0 win 64240 mss 1460",
  );
});

Deno.test("ladderSvg writes application calls and fired timers beside their side; all timers on request", () => {
  const t: ConnectionTrace = {
    a: "a",
    b: "b",
    events: [
      { kind: "app", time: 0, side: "a", op: "write", bytes: 1000 },
      { kind: "timer", time: 0, side: "a", timer: "rto", action: "arm", due: 200 },
      { kind: "timer", time: 200, side: "a", timer: "rto", action: "fire", due: 200 },
      { kind: "app", time: 210, side: "b", op: "read", bytes: 1000 },
    ],
  };
  const fired = ladderSvg(t);
  assert.equal(count(fired, /class="app"/g), 2);
  assert.equal(count(fired, /class="timer"/g), 1);
  assert.ok(fired.includes("write 1000 B") && fired.includes("rto timer fired"));
  const all = ladderSvg(t, { timers: "all" });
  assert.equal(count(all, /class="timer"/g), 2);
  assert.ok(all.includes("rto timer arm (due 200)"));
});

Deno.test("timeSequenceSvg draws what the application wrote and the sender's timers that fired", () => {
  const seg = (time: number, dir: "ab" | "ba", seq: number, len: number, ack: number) => ({
    kind: "segment" as const,
    time,
    dir,
    seq,
    ack,
    len,
    flags: 0x10,
    window: 65535,
    sack: [],
    mss: null,
    retransmit: false,
  });
  const t: ConnectionTrace = {
    a: "a",
    b: "b",
    events: [
      { kind: "app", time: 0, side: "a", op: "write", bytes: 2000 },
      seg(1, "ab", 1, 1000, 1),
      { kind: "timer", time: 250, side: "a", timer: "rto", action: "fire", due: 250 },
      { kind: "timer", time: 250, side: "b", timer: "delayedAck", action: "fire", due: 250 },
      seg(250, "ab", 1, 1000, 1),
      { kind: "app", time: 300, side: "a", op: "write", bytes: 500 },
    ],
  };
  const svg = timeSequenceSvg(t, "ab");
  assert.equal(count(svg, /class="app-write"/g), 1);
  assert.equal(count(svg, /<g class="timer-fire" data-timer="rto"/g), 1);
  assert.equal(
    count(svg, /class="timer-fire"/g),
    1,
    "only the sender's timers, and no delayed ACK",
  );
  // The written line climbs twice: to 1 + 2000, then to 1 + 2500.
  assert.equal(count(svg.match(/class="app-write" d="[^"]*"/)![0], / V/g), 2);
});
