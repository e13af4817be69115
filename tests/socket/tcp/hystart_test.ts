// HyStart++ (RFC 9406): the state machine on its own, then inside NewReno and CUBIC driven by a
// lock-step sender (one round trip per call, an ACK per two segments, the window refilled after
// every ACK), then two TcpSockets over a rate-limited path.

import assert from "node:assert/strict";
import type { CongestionController } from "../../../src/socket/tcp/congestion.ts";
import { resolveOptions } from "../../../src/socket/tcp/config.ts";
import { Cubic } from "../../../src/socket/tcp/cubic.ts";
import { HyStart } from "../../../src/socket/tcp/hystart.ts";
import { NewReno } from "../../../src/socket/tcp/newreno.ts";
import { Path } from "./_path.ts";

const MSS = 1000;
const INITIAL_SSTHRESH = 65_535 * 2 ** 14;

/** Feeds `hs` one round of eight ACKs of 1000 bytes, each with the sample `rtt`. */
function hsRound(hs: HyStart, rtt: number | null, acks = 8): void {
  // The first ACK leaves 7000 outstanding: the round is exactly these eight ACKs.
  for (let i = 0; i < acks; i++) hs.onAck(1000, 8000 - 1000 * (i + 1), rtt);
}

/** A sender in lock step with its controller, on byte sequence numbers. */
class Flow {
  una = 0;
  nxt: number;
  now = 0;
  constructor(readonly cc: CongestionController) {
    this.nxt = cc.cwnd;
  }
  /** One round trip: every byte outstanding now is acknowledged, 2·SMSS per ACK. */
  round(rtt: number | null, each?: (cc: CongestionController) => void): void {
    const end = this.nxt;
    this.now += rtt ?? 20;
    while (this.una < end) {
      const acked = Math.min(2 * MSS, end - this.una);
      this.una += acked;
      this.cc.onAck(this.now, acked, this.nxt - this.una, rtt);
      each?.(this.cc);
      if (this.nxt - this.una < this.cc.cwnd) this.nxt = this.una + this.cc.cwnd;
    }
  }
}

Deno.test("HyStart begins a round with the first ACK past what was outstanding when the last began", () => {
  const hs = new HyStart();
  hs.onAck(1000, 4000, 20); // round 1: ends with the ACK of the next 4000 bytes
  hs.onAck(4000, 3000, 30); // that ACK: still round 1
  assert.equal(hs.lastRoundMinRtt, Infinity);
  hs.onAck(1000, 6000, 40); // past it: round 2 begins, round 1's minimum was 20
  assert.equal(hs.lastRoundMinRtt, 20);
  hs.onAck(6000, 500, 50); // round 2 ends
  hs.onAck(500, 0, 60); // round 3
  assert.equal(hs.lastRoundMinRtt, 40);
});

Deno.test("HyStart leaves slow start when a round's minimum RTT reaches the last one's plus the threshold", () => {
  // RttThresh = clamp(lastRoundMinRTT / 8, 4, 16): 4 at 20 ms and 8 ms, 10 at 80 ms, 16 at 200 ms.
  for (const [base, thresh] of [[20, 4], [8, 4], [80, 10], [200, 16]] as const) {
    const below = new HyStart();
    hsRound(below, base);
    hsRound(below, base + thresh - 0.1);
    assert.equal(below.phase, "slowStart", `${base} ms + ${thresh - 0.1}`);
    assert.equal(below.rttThreshold, thresh);
    const at = new HyStart();
    hsRound(at, base);
    hsRound(at, base + thresh);
    assert.equal(at.phase, "css", `${base} ms + ${thresh}`);
    assert.equal(at.growthDivisor, 4);
    assert.deepEqual({ ...at.counters }, { exits: 1, cssRounds: 1, cssResumes: 0 });
  }
});

Deno.test("HyStart decides only once a round has eight RTT samples", () => {
  const hs = new HyStart();
  hsRound(hs, 20);
  for (let i = 0; i < 7; i++) hs.onAck(1000, 7000 - 1000 * i, 30);
  hs.onAck(500, 500, null); // an ACK without a sample
  assert.equal(hs.phase, "slowStart", "seven samples");
  hs.onAck(500, 0, 30);
  assert.equal(hs.phase, "css", "the eighth");
});

Deno.test("HyStart goes back from CSS to slow start when the RTT falls below the CSS baseline", () => {
  const hs = new HyStart();
  hsRound(hs, 20);
  hsRound(hs, 25); // CSS, baseline 25
  hsRound(hs, 25); // not below the baseline: CSS goes on
  assert.equal(hs.phase, "css");
  hsRound(hs, 24.5, 7);
  assert.equal(hs.phase, "css", "seven samples below");
  hs.onAck(1000, 0, 24.5);
  assert.equal(hs.phase, "slowStart");
  assert.deepEqual({ ...hs.counters }, { exits: 1, cssRounds: 3, cssResumes: 1 });
  hsRound(hs, 30); // 30 ≥ 24.5 + 4: CSS again
  assert.equal(hs.phase, "css");
  assert.equal(hs.counters.exits, 2);
});

Deno.test("NewReno grows a quarter as fast in CSS and ends slow start after five CSS rounds with ssthresh = cwnd", () => {
  const cc = new NewReno(MSS);
  const flow = new Flow(cc);
  flow.round(20); // 10 segments, 5 samples: no decision
  flow.round(20); // 20 segments
  assert.equal(cc.cwnd, 40_000);
  const growth: number[] = [];
  let before = cc.cwnd;
  flow.round(30, (c) => { // ≥ 20 + 4 from the eighth ACK on
    growth.push(c.cwnd - before);
    before = c.cwnd;
  });
  assert.equal(cc.hystart?.phase, "css");
  // Slow start (+2000 per ACK of 2000) up to the seventh ACK, then CSS: +500 per ACK.
  assert.deepEqual(growth.slice(0, 7), Array(7).fill(2000));
  assert.deepEqual(growth.slice(7), Array(growth.length - 7).fill(500));
  for (let r = 2; r <= 5; r++) {
    flow.round(30);
    assert.equal(cc.hystart?.phase, "css", `CSS round ${r}`);
    assert.equal(cc.ssthresh, INITIAL_SSTHRESH);
  }
  const cwnd = cc.cwnd;
  flow.round(30, (c) => {
    if (c.ssthresh !== INITIAL_SSTHRESH) return;
    assert.fail("the first ACK of the sixth round ends CSS");
  });
  assert.equal(cc.ssthresh, cwnd, "ssthresh = cwnd when CSS ended");
  assert.equal(cc.hystart?.phase, "off");
  assert.deepEqual({ ...cc.hystart!.counters }, { exits: 1, cssRounds: 5, cssResumes: 0 });
  // Congestion avoidance: one SMSS per round trip.
  const ca = cc.cwnd;
  flow.round(30);
  assert.ok(cc.cwnd - ca <= 2 * MSS, `${ca} -> ${cc.cwnd}`);
});

Deno.test("CUBIC leaves CSS into an avoidance stage that starts at the window with no W_max", () => {
  const cc = new Cubic(MSS);
  const flow = new Flow(cc);
  flow.round(20);
  flow.round(20);
  for (let r = 0; r < 6; r++) flow.round(30);
  assert.equal(cc.hystart?.phase, "off");
  assert.ok(cc.ssthresh < INITIAL_SSTHRESH);
  assert.ok(cc.cwnd >= cc.ssthresh);
  assert.equal(cc.wMax, 0);
  assert.equal(cc.k, 0, "K = 0: the stage's curve starts at cwnd_epoch (convex)");
});

Deno.test("A loss in CSS reduces the window as in slow start and ends HyStart; later RTT rises change nothing", () => {
  for (
    const make of [
      (o: { hystart: boolean }) => new NewReno(MSS, o),
      (o: { hystart: boolean }) => new Cubic(MSS, o),
    ]
  ) {
    const cc = make({ hystart: true });
    const flow = new Flow(cc);
    flow.round(20);
    flow.round(20);
    flow.round(30);
    assert.equal(cc.hystart?.phase, "css");
    const cwnd = cc.cwnd;
    cc.onEnterRecovery(flow.now, 30_000);
    // The controller's own reduction from the flight, as without HyStart.
    const ref = make({ hystart: false });
    assert.equal(cc.ssthresh, cc.name === "cubic" ? 21_000 : 15_000);
    assert.equal(cc.cwnd, cc.ssthresh + 3 * MSS);
    assert.equal(cc.hystart?.phase, "off");
    if (cc instanceof Cubic) assert.equal(cc.wMax, cwnd);
    cc.onExitRecovery(flow.now);
    ref.onEnterRecovery(0, 30_000);
    ref.onExitRecovery(0);
    assert.equal(cc.cwnd, ref.cwnd);
    cc.onRto(flow.now, cc.cwnd);
    ref.onRto(0, ref.cwnd);
    // The slow start after the timeout is the traditional one (RFC 9406 §4.3): an RTT rise
    // neither slows it nor ends it.
    for (const [i, rtt] of [20, 40, 80, 160].entries()) {
      cc.onAck(flow.now + i, MSS, 0, rtt);
      ref.onAck(i, MSS, 0, rtt);
    }
    assert.equal(cc.cwnd, ref.cwnd);
    assert.equal(cc.ssthresh, ref.ssthresh);
  }
});

Deno.test("A loss in slow start, before any RTT rise, reduces the window exactly as without HyStart and ends it", () => {
  for (const Kind of [NewReno, Cubic]) {
    const on = new Flow(new Kind(MSS));
    const off = new Flow(new Kind(MSS, { hystart: false }));
    for (let r = 0; r < 4; r++) {
      on.round(20);
      off.round(20);
    }
    assert.equal(on.cc.hystart?.phase, "slowStart");
    on.cc.onEnterRecovery(on.now, on.cc.cwnd);
    off.cc.onEnterRecovery(off.now, off.cc.cwnd);
    assert.equal(on.cc.hystart?.phase, "off");
    assert.equal(on.cc.ssthresh, off.cc.ssthresh);
    assert.equal(on.cc.cwnd, off.cc.cwnd);
    on.cc.onExitRecovery(on.now);
    off.cc.onExitRecovery(off.now);
    for (const rtt of [20, 40, 80]) {
      on.round(rtt);
      off.round(rtt);
    }
    assert.equal(on.cc.cwnd, off.cc.cwnd, "congestion avoidance is untouched");
  }
});

Deno.test("CSS counts every byte of a stretch ACK, a quarter of it (no RFC 9406 L limit, as slow start)", () => {
  const cc = new NewReno(MSS);
  const flow = new Flow(cc);
  flow.round(20);
  flow.round(20);
  flow.round(30);
  assert.equal(cc.hystart?.phase, "css");
  const before = cc.cwnd;
  cc.onAck(flow.now, 44 * MSS, before, 30); // a coalescing receiver's ACK of 44 segments
  assert.equal(cc.cwnd - before, 11 * MSS);
});

Deno.test("An undone reduction brings back the initial ssthresh and HyStart with it", () => {
  const cc = new NewReno(MSS);
  const flow = new Flow(cc);
  flow.round(20);
  flow.round(20);
  flow.round(30);
  const cwnd = cc.cwnd;
  cc.onEnterRecovery(flow.now, cwnd);
  assert.equal(cc.hystart?.phase, "off");
  cc.onUndo(flow.now, cwnd, INITIAL_SSTHRESH);
  assert.equal(cc.ssthresh, INITIAL_SSTHRESH);
  assert.equal(cc.hystart?.phase, "slowStart");
  flow.round(20); // round history starts afresh: the first round only sets the baseline
  assert.equal(cc.hystart?.phase, "slowStart");
  flow.round(30);
  assert.equal(cc.hystart?.phase, "css");
  assert.equal(cc.hystart?.counters.exits, 2);
});

Deno.test("hystart: false restores slow start that leaves only on loss", () => {
  for (const Kind of [NewReno, Cubic]) {
    const on = new Flow(new Kind(MSS));
    const off = new Flow(new Kind(MSS, { hystart: false }));
    assert.equal(off.cc.hystart, null);
    const rtts = [20, 20, 30, 40, 50, 60, 70, 80];
    for (const rtt of rtts) {
      on.round(rtt);
      off.round(rtt);
    }
    // Without HyStart: the window doubles every round trip, whatever the RTT does.
    assert.equal(off.cc.cwnd, 10_000 * 2 ** rtts.length);
    assert.equal(off.cc.ssthresh, INITIAL_SSTHRESH);
    assert.ok(on.cc.cwnd < off.cc.cwnd / 8, `${on.cc.cwnd} with HyStart`);
    assert.ok(on.cc.ssthresh < INITIAL_SSTHRESH);
  }
  assert.equal(resolveOptions({}).hystart, true);
  assert.equal(resolveOptions({ hystart: false }).hystart, false);
  assert.throws(() => resolveOptions({ hystart: "no" as unknown as boolean }), TypeError);
});

Deno.test("HyStart with a constant RTT never acts: the window matches slow start without it", () => {
  for (const Kind of [NewReno, Cubic]) {
    const on = new Flow(new Kind(MSS));
    const off = new Flow(new Kind(MSS, { hystart: false }));
    for (let r = 0; r < 10; r++) {
      on.round(20);
      off.round(20);
    }
    assert.equal(on.cc.cwnd, off.cc.cwnd);
    assert.equal(on.cc.hystart?.phase, "slowStart");
    assert.equal(on.cc.hystart?.lastRoundMinRtt, 20, "HyStart watched every round");
  }
});

/** The largest value of `read` on A's connection, sampled every 5 ms up to `until`. */
function peakOf(p: Path, until: number, read: (info: Path["a"]["info"]) => number): number {
  let peak = 0;
  while (p.now < until) {
    p.run(p.now + 5);
    const v = read(p.a.info);
    if (v > peak) peak = v;
  }
  return peak;
}

/**
 * A path of 20 ms RTT at 2 MB/s (a BDP of 40 KB) that queues without bound, so only the RTT says
 * that the window is past the bottleneck; A uploads 4 MiB with CUBIC.
 */
function bottleneck(hystart: boolean, timestamps = true): Path {
  return new Path({
    delay: 10,
    rate: 2_000,
    readRate: Infinity,
    write: true,
    limit: 4 << 20,
    a: { hystart, congestion: "cubic" as const, ...(timestamps ? {} : { timestamps: false }) },
  });
}

Deno.test("TcpSocket leaves slow start on a rising RTT before its window fills a bottleneck queue", () => {
  const on = bottleneck(true);
  const off = bottleneck(false);
  const peakOn = peakOf(on, 1000, (i) => i.srtt ?? 0);
  const peakOff = peakOf(off, 1000, (i) => i.srtt ?? 0);
  assert.equal(on.a.info.hystartExits, 1);
  assert.ok(on.a.info.hystartCssRounds >= 1);
  assert.ok(on.a.info.ssthresh < INITIAL_SSTHRESH, "slow start ended");
  assert.equal(on.a.info.retransmits, 0);
  assert.equal(off.a.info.hystartExits, 0);
  assert.equal(off.a.info.ssthresh, INITIAL_SSTHRESH, "without HyStart slow start goes on");
  assert.ok(peakOn * 2 < peakOff, `peak SRTT ${peakOn} ms with HyStart, ${peakOff} without`);
});

Deno.test("Without timestamps TcpSocket still leaves slow start by HyStart++, fed RACK's per-ACK RTT", () => {
  // As above with RFC 7323 timestamps off: the timed segment gives one sample per round trip,
  // RACK's newest newly acknowledged original transmission one per ACK. The SRTT, fed once per
  // round trip, lags the queue, so the window says how far slow start went.
  const on = bottleneck(true, false);
  const off = bottleneck(false, false);
  const peakOn = peakOf(on, 1000, (i) => i.cwnd);
  const peakOff = peakOf(off, 1000, (i) => i.cwnd);
  assert.equal(on.a.info.hystartExits, 1);
  assert.ok(on.a.info.hystartCssRounds >= 1);
  assert.ok(on.a.info.ssthresh < INITIAL_SSTHRESH, "slow start ended");
  assert.equal(on.a.info.retransmits, 0);
  assert.equal(off.a.info.ssthresh, INITIAL_SSTHRESH, "without HyStart slow start goes on");
  assert.equal(off.a.info.hystartExits, 0);
  assert.ok(peakOn * 2 < peakOff, `peak cwnd ${peakOn} B with HyStart, ${peakOff} without`);
});
