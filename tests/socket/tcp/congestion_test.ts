import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CongestionController,
  CongestionKind,
  createCongestionController,
} from "../../../src/socket/tcp/congestion.ts";
import { Cubic } from "../../../src/socket/tcp/cubic.ts";
import { NewReno } from "../../../src/socket/tcp/newreno.ts";

Deno.test("createCongestionController builds NewReno and CUBIC by name", () => {
  const reno = createCongestionController("newreno", 1460);
  assert.ok(reno instanceof NewReno);
  assert.equal(reno.name, "newreno");
  assert.equal(reno.cwnd, 14_600);
  const cubic = createCongestionController(CongestionKind.Cubic, 1000);
  assert.ok(cubic instanceof Cubic);
  assert.equal(cubic.name, "cubic");
  assert.equal(cubic.cwnd, 10_000);
  assert.deepEqual(CongestionKind, { NewReno: "newreno", Cubic: "cubic" });
});

Deno.test("createCongestionController passes the initial window option", () => {
  for (const kind of ["newreno", "cubic"] as const) {
    assert.equal(createCongestionController(kind, 1000, { initialWindowSegments: 3 }).cwnd, 3000);
  }
});

Deno.test("createCongestionController rejects unknown algorithms and bad sizes", () => {
  assert.throws(
    () => createCongestionController("vegas" as CongestionKind, 1000),
    TypeError,
  );
  assert.throws(() => createCongestionController("cubic", 0), RangeError);
});

type Event =
  | { type: "ack"; dt: number; acked: number; inFlight: number; rtt: number | null }
  | { type: "enter"; dt: number; inFlight: number }
  | { type: "dup" }
  | { type: "partial"; dt: number; acked: number }
  | { type: "exit"; dt: number }
  | { type: "rto"; dt: number; inFlight: number }
  | { type: "idle"; dt: number; idleFor: number; rto: number }
  | { type: "mss"; mss: number };

const bytes = fc.oneof(
  fc.integer({ min: 0, max: 200_000 }),
  fc.integer({ min: -10_000, max: 0 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1e15),
);
const dt = fc.oneof(
  fc.integer({ min: 0, max: 5_000 }),
  fc.double({ min: -1000, max: 1e7, noNaN: true }),
  fc.constant(Number.NaN),
);
const event: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant("ack" as const),
      dt,
      acked: bytes,
      inFlight: bytes,
      rtt: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 5000, noNaN: true })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("enter" as const), dt, inFlight: bytes }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("dup" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant("partial" as const), dt, acked: bytes }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("exit" as const), dt }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("rto" as const), dt, inFlight: bytes }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("idle" as const),
      dt,
      idleFor: fc.double({ min: 0, max: 1e5, noNaN: true }),
      rto: fc.double({ min: 200, max: 60_000, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("mss" as const),
      mss: fc.integer({ min: 1, max: 9000 }),
    }),
  },
);

function apply(cc: CongestionController, now: number, e: Event): number {
  switch (e.type) {
    case "ack":
      cc.onAck(now + e.dt, e.acked, e.inFlight, e.rtt);
      return now + e.dt;
    case "enter":
      cc.onEnterRecovery(now + e.dt, e.inFlight);
      return now + e.dt;
    case "dup":
      cc.onDupAckInRecovery();
      return now;
    case "partial":
      cc.onPartialAck(now + e.dt, e.acked);
      return now + e.dt;
    case "exit":
      cc.onExitRecovery(now + e.dt);
      return now + e.dt;
    case "rto":
      cc.onRto(now + e.dt, e.inFlight);
      return now + e.dt;
    case "idle":
      cc.onIdle(now + e.dt, e.idleFor, e.rto);
      return now + e.dt;
    case "mss":
      cc.setMss(e.mss);
      return now;
  }
}

Deno.test("CongestionController keeps cwnd at least one SMSS and finite for any event sequence", () => {
  fc.assert(
    fc.property(
      fc.constantFrom<CongestionKind>("newreno", "cubic"),
      fc.integer({ min: 1, max: 9000 }),
      fc.array(event, { maxLength: 300 }),
      (kind: CongestionKind, mss: number, events: Event[]) => {
        const cc = createCongestionController(kind, mss);
        let now = 0;
        for (const e of events) {
          if (e.type === "mss") mss = e.mss;
          now = apply(cc, now, e);
          assert.ok(Number.isFinite(cc.cwnd), `cwnd ${cc.cwnd} after ${e.type}`);
          assert.ok(Number.isInteger(cc.cwnd), `cwnd ${cc.cwnd} after ${e.type}`);
          assert.ok(cc.cwnd >= mss, `cwnd ${cc.cwnd} < mss ${mss} after ${e.type}`);
          assert.ok(Number.isFinite(cc.ssthresh), `ssthresh ${cc.ssthresh}`);
          assert.ok(cc.ssthresh >= 2 * mss, `ssthresh ${cc.ssthresh} < 2·${mss}`);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("CongestionController keeps cwnd at least one SMSS for well-formed traffic", () => {
  // Sensible arguments only: time moves forward, flights and ACKs are window-sized.
  const wellFormed = fc.array(
    fc.record({
      kind: fc.constantFrom("ack", "ack", "ack", "enter", "dup", "partial", "exit", "rto", "idle"),
      dt: fc.integer({ min: 0, max: 2000 }),
      amount: fc.integer({ min: 1, max: 64_000 }),
    }),
    { maxLength: 500 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom<CongestionKind>("newreno", "cubic"),
      wellFormed,
      (kind: CongestionKind, evs) => {
        const cc = createCongestionController(kind, 1460);
        let now = 0;
        for (const { kind: k, dt, amount } of evs) {
          now += dt;
          const e: Event = k === "ack"
            ? { type: "ack", dt: 0, acked: amount, inFlight: cc.cwnd, rtt: 50 }
            : k === "enter"
            ? { type: "enter", dt: 0, inFlight: cc.cwnd }
            : k === "partial"
            ? { type: "partial", dt: 0, acked: amount }
            : k === "rto"
            ? { type: "rto", dt: 0, inFlight: amount }
            : k === "idle"
            ? { type: "idle", dt: 0, idleFor: dt, rto: 1000 }
            : k === "dup"
            ? { type: "dup" }
            : { type: "exit", dt: 0 };
          apply(cc, now, e);
          assert.ok(cc.cwnd >= 1460 && Number.isFinite(cc.cwnd));
          assert.ok(cc.ssthresh >= 2920);
        }
      },
    ),
    { numRuns: 300 },
  );
});
