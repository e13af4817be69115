import assert from "node:assert/strict";
import fc from "fast-check";
import { RTT_DEFAULTS, RttEstimator } from "../../../src/socket/tcp/rtt.ts";

Deno.test("RttEstimator starts with the initial RTO and no estimate", () => {
  const rtt = new RttEstimator();
  assert.equal(rtt.srtt, null);
  assert.equal(rtt.rttvar, null);
  assert.equal(rtt.rto, 1000);
  assert.equal(rtt.backoffCount, 0);
  assert.deepEqual({ ...RTT_DEFAULTS }, {
    initialRto: 1000,
    minRto: 200,
    maxRto: 60_000,
    granularity: 1,
  });
});

Deno.test("RttEstimator takes SRTT = R and RTTVAR = R/2 from the first sample", () => {
  const rtt = new RttEstimator();
  rtt.sample(100);
  assert.equal(rtt.srtt, 100);
  assert.equal(rtt.rttvar, 50);
  assert.equal(rtt.rto, 300); // 100 + 4 * 50
});

Deno.test("RttEstimator updates RTTVAR before SRTT on later samples (RFC 6298 §2.3)", () => {
  const rtt = new RttEstimator();
  rtt.sample(100);
  rtt.sample(200);
  // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
  assert.equal(rtt.rttvar, 62.5);
  assert.equal(rtt.srtt, 112.5);
  assert.equal(rtt.rto, 362.5);
  rtt.sample(50);
  // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 62.5; SRTT = 7/8 * 112.5 + 1/8 * 50 = 104.6875
  assert.equal(rtt.rttvar, 62.5);
  assert.equal(rtt.srtt, 104.6875);
  assert.equal(rtt.rto, 354.6875);
});

Deno.test("RttEstimator never goes below the minimum RTO", () => {
  const rtt = new RttEstimator();
  rtt.sample(10); // 10 + 4 * 5 = 30
  assert.equal(rtt.rto, 200);
  const strict = new RttEstimator({ minRto: 1000 });
  strict.sample(100); // 300
  assert.equal(strict.rto, 1000);
  const tiny = new RttEstimator({ initialRto: 50 });
  assert.equal(tiny.rto, 200);
});

Deno.test("RttEstimator never goes above the maximum RTO", () => {
  const rtt = new RttEstimator();
  rtt.sample(30_000); // 30000 + 4 * 15000 = 90000
  assert.equal(rtt.rto, 60_000);
  const low = new RttEstimator({ maxRto: 500 });
  assert.equal(low.rto, 500);
});

Deno.test("RttEstimator uses the clock granularity as the least variance term", () => {
  const rtt = new RttEstimator({ minRto: 0, granularity: 10 });
  for (let i = 0; i < 200; i++) rtt.sample(100);
  assert.equal(rtt.srtt, 100);
  assert.ok(rtt.rttvar! < 1e-6);
  assert.equal(rtt.rto, 110);
  const zero = new RttEstimator({ minRto: 0 });
  zero.sample(0);
  assert.equal(zero.rto, 1); // SRTT 0 + G
});

Deno.test("RttEstimator doubles the RTO on backoff up to the maximum", () => {
  const rtt = new RttEstimator();
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    rtt.backoff();
    seen.push(rtt.rto);
  }
  assert.deepEqual(seen, [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(rtt.backoffCount, 8);
  for (let i = 0; i < 2000; i++) rtt.backoff();
  assert.equal(rtt.rto, 60_000);
  assert.equal(rtt.backoffCount, 2008);
});

Deno.test("RttEstimator doubles the floored RTO, not the computed one below the floor", () => {
  const rtt = new RttEstimator();
  rtt.sample(10); // computed 30, in use 200
  rtt.backoff();
  assert.equal(rtt.rto, 400);
  rtt.backoff();
  assert.equal(rtt.rto, 800);
});

Deno.test("RttEstimator resets the backoff on a new sample", () => {
  const rtt = new RttEstimator();
  rtt.sample(100);
  rtt.backoff();
  rtt.backoff();
  assert.equal(rtt.rto, 1200);
  rtt.sample(100);
  // RTTVAR = 3/4 * 50 + 0 = 37.5; SRTT 100
  assert.equal(rtt.backoffCount, 0);
  assert.equal(rtt.rto, 250);
});

Deno.test("RttEstimator resets the backoff on request and keeps the estimate", () => {
  const rtt = new RttEstimator();
  rtt.sample(100);
  for (let i = 0; i < 20; i++) rtt.backoff();
  assert.equal(rtt.rto, 60_000);
  rtt.resetBackoff();
  assert.equal(rtt.backoffCount, 0);
  assert.equal(rtt.rto, 300);
  assert.equal(rtt.srtt, 100);
  rtt.backoff();
  assert.equal(rtt.rto, 600);
});

Deno.test("RttEstimator ignores negative and non-finite samples", () => {
  const rtt = new RttEstimator();
  rtt.sample(-1);
  rtt.sample(Number.NaN);
  rtt.sample(Number.POSITIVE_INFINITY);
  assert.equal(rtt.srtt, null);
  rtt.sample(100);
  rtt.backoff();
  rtt.sample(-5);
  assert.equal(rtt.srtt, 100);
  assert.equal(rtt.backoffCount, 1);
});

Deno.test("RttEstimator rejects invalid options with RangeError", () => {
  assert.throws(() => new RttEstimator({ initialRto: 0 }), RangeError);
  assert.throws(() => new RttEstimator({ initialRto: Number.NaN }), RangeError);
  assert.throws(() => new RttEstimator({ minRto: -1 }), RangeError);
  assert.throws(() => new RttEstimator({ minRto: 2000, maxRto: 1000 }), RangeError);
  assert.throws(() => new RttEstimator({ maxRto: Number.POSITIVE_INFINITY }), RangeError);
  assert.throws(() => new RttEstimator({ granularity: -1 }), RangeError);
});

Deno.test("RttEstimator keeps the RTO within bounds for any samples and backoffs", () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(
      fc.double({ min: -10, max: 1e6, noNaN: false }),
      fc.constant("backoff" as const),
      fc.constant("reset" as const),
    )),
    (events) => {
      const rtt = new RttEstimator();
      for (const e of events) {
        if (e === "backoff") rtt.backoff();
        else if (e === "reset") rtt.resetBackoff();
        else rtt.sample(e);
        assert.ok(rtt.rto >= 200 && rtt.rto <= 60_000, `rto ${rtt.rto}`);
        if (rtt.srtt !== null) assert.ok(rtt.srtt >= 0 && rtt.rttvar! >= 0);
      }
    },
  ));
});
