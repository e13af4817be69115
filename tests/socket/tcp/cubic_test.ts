import assert from "node:assert/strict";
import { CUBIC, Cubic } from "../../../src/socket/tcp/cubic.ts";
import { NewReno } from "../../../src/socket/tcp/newreno.ts";

const MSS = 1000;

/** W_cubic(t) per RFC 9438 §4.2 in bytes: C·(t − K)³ + W_max in segments, times SMSS. */
function wCubic(tSeconds: number, wMaxBytes: number, k: number): number {
  return (CUBIC.C * (tSeconds - k) ** 3 + wMaxBytes / MSS) * MSS;
}

/**
 * One round trip of a window-limited sender: `cwnd / MSS` one-segment ACKs spread evenly over
 * `rtt` ms from `start`. Returns the time at the end of the round.
 */
function round(cc: Cubic | NewReno, start: number, rtt: number): number {
  const n = Math.max(1, Math.floor(cc.cwnd / MSS));
  for (let i = 1; i <= n; i++) cc.onAck(start + (i * rtt) / n, MSS, cc.cwnd - MSS, rtt);
  return start + rtt;
}

/**
 * A CUBIC sender that grew to `segments` (10·2^n) in slow start, lost at t = 1000 with a full
 * window in flight, and recovered: W_max = `segments`, cwnd = 0.7·W_max.
 */
function afterLoss(segments = 80): Cubic {
  const cc = new Cubic(MSS, { initialWindowSegments: segments === 200 ? 25 : 10 });
  let now = 0;
  while (cc.cwnd < segments * MSS) now = round(cc, now, 100);
  assert.equal(cc.cwnd, segments * MSS);
  cc.onEnterRecovery(1000, segments * MSS);
  cc.onExitRecovery(1100);
  return cc;
}

Deno.test("Cubic has the RFC 9438 constants", () => {
  assert.equal(CUBIC.C, 0.4);
  assert.equal(CUBIC.BETA, 0.7);
  assert.ok(Math.abs(CUBIC.ALPHA - (3 * 0.3) / 1.7) < 1e-15);
  const cc = new Cubic(MSS);
  assert.equal(cc.name, "cubic");
  assert.equal(cc.cwnd, 10_000);
  assert.equal(cc.wMax, 0);
  assert.equal(cc.k, 0);
  assert.ok(Number.isNaN(cc.cubicWindow(0)));
});

Deno.test("Cubic slow start is the same as NewReno's", () => {
  const cubic = new Cubic(MSS);
  const reno = new NewReno(MSS);
  for (let now = 0; now < 500; now += 100) {
    round(cubic, now, 100);
    round(reno, now, 100);
    assert.equal(cubic.cwnd, reno.cwnd);
  }
  assert.equal(cubic.cwnd, 320_000);
});

Deno.test("Cubic reduces ssthresh and cwnd with beta 0.7 on loss", () => {
  const cc = afterLoss();
  assert.equal(cc.ssthresh, 56_000);
  assert.equal(cc.cwnd, 56_000);
  assert.equal(cc.wMax, 80_000);
  const inRecovery = new Cubic(MSS);
  inRecovery.onEnterRecovery(0, 10_000);
  assert.equal(inRecovery.cwnd, 7000 + 3 * MSS); // RFC 6582 inflation, as NewReno
  const small = new Cubic(MSS);
  small.onEnterRecovery(0, 2000);
  assert.equal(small.ssthresh, 2 * MSS);
});

Deno.test("Cubic collapses to one SMSS on RTO with ssthresh = 0.7·FlightSize", () => {
  const cc = afterLoss();
  cc.onRto(2000, 56_000);
  assert.equal(cc.cwnd, MSS);
  assert.equal(cc.ssthresh, 39_200);
});

Deno.test("Cubic computes K = cbrt(W_max·(1 − β)/C) at the start of congestion avoidance", () => {
  const cc = afterLoss();
  assert.equal(cc.k, 0); // no stage yet
  cc.onAck(1200, MSS, 55_000, 100);
  // W_max = 80 segments, cwnd_epoch = 56: K = cbrt((80 − 56) / 0.4) = cbrt(60)
  assert.ok(Math.abs(cc.k - Math.cbrt(80 * (1 - 0.7) / 0.4)) < 1e-12);
  assert.ok(Math.abs(cc.k - 3.9149) < 1e-4);
});

Deno.test("Cubic W(t) matches C·(t − K)³ + W_max", () => {
  const cc = afterLoss();
  const start = 1200;
  cc.onAck(start, MSS, 55_000, 100);
  const k = cc.k;
  for (const t of [0, 0.5, 1, 2, k, 5, 8, 12]) {
    const expected = wCubic(t, 80_000, k);
    assert.ok(Math.abs(cc.cubicWindow(start + t * 1000) - expected) < 1e-6, `t = ${t}`);
  }
  assert.ok(Math.abs(cc.cubicWindow(start) - 56_000) < 1e-6); // starts at cwnd_epoch
  assert.ok(Math.abs(cc.cubicWindow(start + k * 1000) - 80_000) < 1e-6); // plateau at W_max
  assert.ok(Math.abs(cc.cubicWindow(start + 5000) - 80_000 - 400 * (5 - k) ** 3) < 1e-6);
});

Deno.test("Cubic window follows the cubic curve over time", () => {
  // W_max 200 segments at RTT 100 ms: the Reno-friendly estimate stays below the curve.
  const cc = afterLoss(200);
  const rtt = 100;
  let now = 1200;
  now = round(cc, now, rtt); // the stage starts at the first ACK of this round
  const start = 1200 + rtt / 140;
  const k = cc.k;
  assert.ok(Math.abs(k - Math.cbrt(150)) < 1e-12);
  while (now < start + 9000) {
    now = round(cc, now, rtt);
    const t = (now - start) / 1000;
    // The window aims at W(t + RTT) on each ACK; after a round it sits within 2% of the curve.
    const curve = wCubic(t, 200_000, k);
    assert.ok(
      Math.abs(cc.cwnd - curve) / curve < 0.02,
      `t = ${t.toFixed(2)}: cwnd ${cc.cwnd}, W ${curve.toFixed(0)}`,
    );
  }
});

Deno.test("Cubic grows concave below W_max and convex above it", () => {
  const cc = afterLoss(200); // K = cbrt(150) ≈ 5.3 s
  const rtt = 100;
  let now = round(cc, 1200, rtt);
  const growthPerSecond: number[] = [];
  let last = cc.cwnd;
  while (now < 1200 + 9000) {
    for (let i = 0; i < 10; i++) now = round(cc, now, rtt);
    growthPerSecond.push(cc.cwnd - last);
    last = cc.cwnd;
  }
  const g = growthPerSecond;
  // Growth per second shrinks until the plateau around K, then rises again.
  assert.ok(g[0]! > g[1]! && g[1]! > g[2]! && g[2]! > g[3]! && g[3]! > g[4]!, `concave ${g}`);
  assert.ok(g[5]! < 1000, `plateau ${g}`);
  assert.ok(g[8]! > g[7]! && g[7]! > g[6]! && g[6]! > g[5]!, `convex ${g}`);
  assert.ok(cc.cwnd > 200_000);
});

Deno.test("Cubic stays near W_max around time K", () => {
  const cc = afterLoss();
  let now = round(cc, 1200, 100);
  while (now < 1200 + cc.k * 1000) now = round(cc, now, 100);
  assert.ok(Math.abs(cc.cwnd - 80_000) < 0.02 * 80_000, `cwnd ${cc.cwnd}`);
});

Deno.test("Cubic follows the Reno-friendly estimate when the RTT is small", () => {
  const cc = afterLoss();
  const rtt = 10;
  let now = 1200;
  for (let i = 0; i < 20; i++) now = round(cc, now, rtt);
  // 20 round trips in 0.2 s: W_est gained about α_cubic per round, the curve much less.
  const start = 1200 + rtt / 56;
  const curve = wCubic((now - start) / 1000, 80_000, cc.k);
  const renoFriendly = 56_000 + 20 * CUBIC.ALPHA * MSS;
  assert.ok(cc.cwnd > curve + 5000, `cwnd ${cc.cwnd}, W ${curve}`);
  assert.ok(Math.abs(cc.cwnd - renoFriendly) < 0.02 * renoFriendly, `cwnd ${cc.cwnd}`);
  // Once W_est passes the window before the loss (80 segments), α becomes 1: one SMSS per round.
  while (cc.cwnd < 82_000) now = round(cc, now, rtt);
  const before = cc.cwnd;
  for (let i = 0; i < 10; i++) now = round(cc, now, rtt);
  const perRound = (cc.cwnd - before) / 10;
  assert.ok(Math.abs(perRound - MSS) < 50, `per round ${perRound}`);
});

Deno.test("Cubic stays in the cubic region when the RTT is large", () => {
  const cc = afterLoss();
  let now = 1200;
  for (let i = 0; i < 20; i++) now = round(cc, now, 100);
  const curve = wCubic((now - 1200) / 1000, 80_000, cc.k);
  assert.ok(Math.abs(cc.cwnd - curve) / curve < 0.03, `cwnd ${cc.cwnd}, W ${curve}`);
});

Deno.test("Cubic applies fast convergence when a loss comes below the previous W_max", () => {
  const cc = afterLoss(); // W_max 80000, cwnd 56000
  cc.onEnterRecovery(2000, 56_000);
  assert.equal(cc.wMax, 56_000 * (1 + 0.7) / 2);
  assert.equal(cc.ssthresh, 39_200);
  cc.onExitRecovery(2100);
  // A loss at or above W_max sets W_max to the window itself.
  const up = afterLoss();
  let now = round(up, 1200, 100);
  while (up.cwnd < 85_000) now = round(up, now, 100);
  const w = up.cwnd;
  up.onEnterRecovery(now, w);
  assert.equal(up.wMax, w);
});

Deno.test("Cubic uses K = 0 and W_max = cwnd_epoch in the first stage after a timeout", () => {
  const cc = afterLoss();
  cc.onRto(2000, 56_000); // ssthresh 39200, cwnd 1000
  let now = 2000;
  while (cc.cwnd < cc.ssthresh) cc.onAck(now += 5, MSS, cc.cwnd, 100);
  // The ACK that reached ssthresh (39200) had 800 bytes left: they started the avoidance stage.
  assert.ok(cc.cwnd > 39_200 && cc.cwnd < 39_300);
  assert.equal(cc.k, 0);
  assert.equal(cc.wMax, 39_200);
  assert.ok(Math.abs(cc.cubicWindow(now + 2000) - (39_200 + 400 * 8)) < 1e-6);
});

Deno.test("Cubic limits the per-ACK target to 1.5·cwnd", () => {
  const cc = afterLoss();
  cc.onAck(1200, MSS, 55_000, 100); // stage starts
  const w = cc.cwnd;
  cc.onAck(100_000, w, w, 100); // far into the convex region, a whole window acked at once
  assert.equal(cc.cwnd, Math.floor(1.5 * w));
});

Deno.test("Cubic shifts the stage start by an idle period shorter than the RTO", () => {
  const cc = afterLoss();
  cc.onAck(1200, MSS, 55_000, 100);
  const w = cc.cubicWindow(3000);
  cc.onIdle(3000, 800, 1000);
  assert.ok(Math.abs(cc.cubicWindow(3800) - w) < 1e-6);
  cc.onIdle(10_000, 5000, 1000); // longer than the RTO: restart window, stage ends
  assert.equal(cc.cwnd, 10_000);
  assert.ok(Number.isNaN(cc.cubicWindow(10_000)));
});

Deno.test("Cubic does not grow while the application leaves the window unused", () => {
  const cc = afterLoss();
  cc.onAck(1200, MSS, 0, 100);
  cc.onAck(50_000, MSS, 0, 100);
  assert.equal(cc.cwnd, 56_000);
});
