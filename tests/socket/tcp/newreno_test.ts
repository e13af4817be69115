import assert from "node:assert/strict";
import { NewReno } from "../../../src/socket/tcp/newreno.ts";

const MSS = 1000;

/**
 * One round trip of a sender that keeps its window full: the window's segments are acked in
 * `perAck`-segment ACKs, and after each ACK the sender refills up to `cwnd`.
 */
function round(cc: NewReno, now: number, perAck = 1): void {
  const segments = Math.floor(cc.cwnd / MSS);
  for (let acked = 0; acked < segments; acked += perAck) {
    const n = Math.min(perAck, segments - acked);
    cc.onAck(now, n * MSS, cc.cwnd - n * MSS, 100);
  }
}

/** A controller in congestion avoidance at `cwnd` = `ssthresh` = `window`. */
function inAvoidance(window: number): NewReno {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 2 * window);
  cc.onExitRecovery(1);
  assert.equal(cc.cwnd, window);
  assert.equal(cc.ssthresh, window);
  return cc;
}

Deno.test("NewReno starts with the RFC 6928 initial window and a huge ssthresh", () => {
  assert.equal(new NewReno(1000).cwnd, 10_000);
  assert.equal(new NewReno(1460).cwnd, 14_600);
  assert.equal(new NewReno(4000).cwnd, 14_600); // min(10·MSS, max(2·MSS, 14600))
  assert.equal(new NewReno(9000).cwnd, 18_000);
  assert.equal(new NewReno(1000, { initialWindowSegments: 4 }).cwnd, 4000);
  assert.equal(new NewReno(1000).ssthresh, 65_535 * 2 ** 14);
  assert.equal(new NewReno(1000).name, "newreno");
});

Deno.test("NewReno rejects a bad MSS or initial window with RangeError", () => {
  assert.throws(() => new NewReno(0), RangeError);
  assert.throws(() => new NewReno(Number.NaN), RangeError);
  assert.throws(() => new NewReno(1000, { initialWindowSegments: 0 }), RangeError);
  assert.throws(() => new NewReno(1000).setMss(-1), RangeError);
});

Deno.test("NewReno doubles the window every round trip in slow start", () => {
  const cc = new NewReno(MSS);
  const seen: number[] = [];
  for (let rtt = 1; rtt <= 4; rtt++) {
    round(cc, rtt * 100);
    seen.push(cc.cwnd);
  }
  assert.deepEqual(seen, [20_000, 40_000, 80_000, 160_000]);
});

Deno.test("NewReno doubles the window per round trip under delayed ACKs", () => {
  const cc = new NewReno(MSS);
  round(cc, 100, 2);
  assert.equal(cc.cwnd, 20_000);
  round(cc, 200, 2);
  assert.equal(cc.cwnd, 40_000);
});

Deno.test("NewReno counts every byte of a stretch ACK in slow start (coalescing receivers), as Linux", () => {
  // Changed on purpose (fifth stop of wave 2): this test asserted RFC 3465's 2·SMSS limit per
  // ACK (5000 acked -> +2000). A receiver that coalesces acknowledges up to 64 KiB per ACK, and
  // under that limit the window grew by a few percent per round trip.
  const cc = new NewReno(MSS);
  cc.onAck(0, 5000, 5000, 100);
  assert.equal(cc.cwnd, 15_000);
  cc.onAck(1, 500, 14_500, 100);
  assert.equal(cc.cwnd, 15_500);
  // One ACK for 44 full segments (64 KiB coalesced) doubles a window of 44 segments.
  const big = new NewReno(MSS, { initialWindowSegments: 44 });
  const before = big.cwnd;
  big.onAck(2, before, before, 100);
  assert.equal(big.cwnd, 2 * before);
});

Deno.test("NewReno does not grow the window when the application leaves it unused", () => {
  const cc = new NewReno(MSS);
  cc.onAck(0, 1000, 0, 100); // flight before the ACK 1000 < cwnd/2
  assert.equal(cc.cwnd, 10_000);
  cc.onAck(1, 1000, 4000, 100); // flight 5000 = cwnd/2: in use
  assert.equal(cc.cwnd, 11_000);
});

Deno.test("NewReno stops slow start at ssthresh and counts the rest for congestion avoidance", () => {
  const cc = new NewReno(MSS);
  round(cc, 100); // 20000
  cc.onEnterRecovery(200, 30_000); // ssthresh 15000
  cc.onExitRecovery(300);
  assert.equal(cc.cwnd, 15_000);
  cc.onIdle(5000, 2000, 1000); // restart window min(IW, cwnd) = 10000 < ssthresh
  assert.equal(cc.cwnd, 10_000);
  cc.onAck(5100, 2000, 9000, 100);
  cc.onAck(5101, 2000, 9000, 100);
  assert.equal(cc.cwnd, 14_000);
  cc.onAck(5102, 2000, 9000, 100); // +1000 reaches ssthresh, 1000 bytes left for avoidance
  assert.equal(cc.cwnd, 15_000);
  assert.equal(cc.ssthresh, 15_000);
  // Congestion avoidance: 14000 more bytes complete the window of 15000.
  for (let i = 0; i < 13; i++) cc.onAck(5103 + i, 1000, 14_000, 100);
  assert.equal(cc.cwnd, 15_000);
  cc.onAck(5200, 1000, 14_000, 100);
  assert.equal(cc.cwnd, 16_000);
});

Deno.test("NewReno grows about one SMSS per round trip in congestion avoidance", () => {
  const cc = inAvoidance(10_000);
  const seen: number[] = [];
  for (let rtt = 1; rtt <= 5; rtt++) {
    round(cc, rtt * 100);
    seen.push(cc.cwnd);
  }
  assert.deepEqual(seen, [11_000, 12_000, 13_000, 14_000, 15_000]);
});

Deno.test("NewReno grows one SMSS per round trip in congestion avoidance under delayed ACKs", () => {
  const cc = inAvoidance(10_000);
  const seen: number[] = [];
  for (let rtt = 1; rtt <= 4; rtt++) {
    round(cc, rtt * 100, 2);
    seen.push(cc.cwnd);
  }
  // Byte counting: the round of 11 segments acks 12000 bytes (six ACKs of two); the surplus
  // carries over, so the long-run rate stays one SMSS per round.
  assert.deepEqual(seen, [11_000, 12_000, 13_000, 14_000]);
});

Deno.test("NewReno enters fast recovery with ssthresh = FlightSize/2 and cwnd = ssthresh + 3·SMSS", () => {
  const cc = new NewReno(MSS);
  round(cc, 100); // 20000
  cc.onEnterRecovery(150, 20_000);
  assert.equal(cc.ssthresh, 10_000);
  assert.equal(cc.cwnd, 13_000);
  assert.equal(cc.inRecovery, true);
  const small = new NewReno(MSS);
  small.onEnterRecovery(0, 3000);
  assert.equal(small.ssthresh, 2000); // floor 2·SMSS
  assert.equal(small.cwnd, 5000);
  const odd = new NewReno(MSS);
  odd.onEnterRecovery(0, 10_001);
  assert.equal(odd.ssthresh, 5000); // whole bytes
});

Deno.test("NewReno inflates by one SMSS per further duplicate ACK in recovery", () => {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 10_000);
  cc.onDupAckInRecovery();
  cc.onDupAckInRecovery();
  assert.equal(cc.cwnd, 10_000); // 5000 + 3000 + 2000
  const idle = new NewReno(MSS);
  idle.onDupAckInRecovery(); // not in recovery
  assert.equal(idle.cwnd, 10_000);
});

Deno.test("NewReno deflates on a partial ACK and adds back one SMSS when at least one was acked", () => {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 20_000); // cwnd 13000
  cc.onPartialAck(10, 3000);
  assert.equal(cc.cwnd, 11_000); // 13000 - 3000 + 1000
  cc.onPartialAck(20, 500);
  assert.equal(cc.cwnd, 10_500); // less than one SMSS acked: no add-back
  cc.onPartialAck(30, 50_000);
  assert.equal(cc.cwnd, MSS); // never below one SMSS
  assert.equal(cc.inRecovery, true);
  const outside = new NewReno(MSS);
  outside.onPartialAck(0, 3000);
  assert.equal(outside.cwnd, 10_000);
});

Deno.test("NewReno sets cwnd to ssthresh when recovery ends", () => {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 20_000);
  for (let i = 0; i < 5; i++) cc.onDupAckInRecovery();
  cc.onPartialAck(10, 2000);
  cc.onExitRecovery(20);
  assert.equal(cc.cwnd, 10_000);
  assert.equal(cc.ssthresh, 10_000);
  assert.equal(cc.inRecovery, false);
  cc.onExitRecovery(30); // a second exit changes nothing
  assert.equal(cc.cwnd, 10_000);
});

Deno.test("NewReno ignores onAck during recovery", () => {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 20_000);
  cc.onAck(10, 5000, 10_000, 100);
  assert.equal(cc.cwnd, 13_000);
});

Deno.test("NewReno collapses to one SMSS on RTO with ssthresh = FlightSize/2", () => {
  const cc = new NewReno(MSS);
  round(cc, 100); // 20000
  cc.onRto(1000, 20_000);
  assert.equal(cc.cwnd, 1000);
  assert.equal(cc.ssthresh, 10_000);
  cc.onRto(3000, 20_000); // the backed-off retransmission: ssthresh is not lowered again
  assert.equal(cc.ssthresh, 10_000);
  assert.equal(cc.cwnd, 1000);
  const tiny = new NewReno(MSS);
  tiny.onRto(0, 1000);
  assert.equal(tiny.ssthresh, 2000);
});

Deno.test("NewReno lowers ssthresh again on an RTO after new data was acked", () => {
  const cc = new NewReno(MSS);
  cc.onRto(0, 20_000); // ssthresh 10000
  cc.onAck(100, 1000, 1000, 100);
  cc.onRto(1000, 4000);
  assert.equal(cc.ssthresh, 2000);
});

Deno.test("NewReno counts one SMSS per ACK in the slow start after an RTO (RFC 3465 §2.3)", () => {
  const cc = new NewReno(MSS);
  cc.onRto(0, 20_000);
  cc.onAck(100, 2000, 0, 100);
  assert.equal(cc.cwnd, 2000);
  cc.onAck(200, 2000, 1000, 100);
  assert.equal(cc.cwnd, 3000);
});

Deno.test("NewReno ends recovery on RTO", () => {
  const cc = new NewReno(MSS);
  cc.onEnterRecovery(0, 20_000);
  cc.onRto(1000, 20_000);
  assert.equal(cc.inRecovery, false);
  assert.equal(cc.cwnd, 1000);
  assert.equal(cc.ssthresh, 10_000);
});

Deno.test("NewReno restarts from min(IW, cwnd) after an idle period longer than the RTO", () => {
  const cc = new NewReno(MSS);
  round(cc, 100); // 20000
  cc.onIdle(1000, 900, 1000); // not longer than the RTO
  assert.equal(cc.cwnd, 20_000);
  cc.onIdle(5000, 1000, 1000);
  assert.equal(cc.cwnd, 20_000);
  cc.onIdle(9000, 1001, 1000);
  assert.equal(cc.cwnd, 10_000);
  const small = new NewReno(MSS);
  small.onRto(0, 10_000);
  small.onIdle(5000, 4000, 1000);
  assert.equal(small.cwnd, 1000); // already below IW
});

Deno.test("NewReno resets the initial window on setMss before any traffic, and keeps bytes after", () => {
  const cc = new NewReno(536);
  assert.equal(cc.cwnd, 5360);
  cc.setMss(1460);
  assert.equal(cc.cwnd, 14_600);
  assert.equal(cc.mss, 1460);
  round(cc, 100);
  const before = cc.cwnd;
  cc.setMss(1200);
  assert.equal(cc.cwnd, before);
  cc.onRto(200, 10_000);
  assert.equal(cc.cwnd, 1200);
  cc.setMss(1400);
  assert.equal(cc.cwnd, 1400); // raised to one SMSS
});
