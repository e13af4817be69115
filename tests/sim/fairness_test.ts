/**
 * Fairness (issue 8 item 3): N flows from node a to node b share one 200 Mbit/s bottleneck with a
 * 64 KiB drop-tail queue and 20 ms RTT. Each flow has a 1 MiB receive buffer (above the 500 kB BDP) and unbounded
 * data; goodput is measured per flow over a window after a warm-up, and Jain's index
 * (Σx)² / (n·Σx²) must be at least 0.95.
 *
 * CI: 1 and 8 flows, 1 s warm-up, 4 s measured. `SMOLNET_SIM_FULL=1`: 1, 2, 4, 8, 16, 32 and 64
 * flows, 5 s warm-up, 20 s measured.
 */

import assert from "node:assert/strict";
import { fullRun, Simulator, twoNodes } from "./sim.ts";
import { type Bulk, startBulk } from "./bulk.ts";

const SEED = 3;
const BOTTLENECK = { latency: 10, bandwidth: 200_000_000, queueBytes: 64 * 1024 };

/** Jain's fairness index of `xs`. */
export function jain(xs: readonly number[]): number {
  let sum = 0, sq = 0;
  for (const x of xs) {
    sum += x;
    sq += x * x;
  }
  return sq === 0 ? 0 : (sum * sum) / (xs.length * sq);
}

interface FairnessResult {
  flows: number;
  aggregate: number;
  min: number;
  max: number;
  index: number;
  queueDrops: number;
  wallMs: number;
}

function fairness(flows: number, warmupMs: number, measureMs: number): FairnessResult {
  const sim = new Simulator(SEED + flows);
  const pair = twoNodes(sim, BOTTLENECK);
  const bulks: Bulk[] = [];
  for (let i = 0; i < flows; i++) {
    bulks.push(startBulk(pair, {
      aToB: 2 ** 40,
      port: 5001 + i,
      close: false,
      socket: { rxBufferSize: 1024 * 1024, txBufferSize: 1024 * 1024 },
    }));
  }
  const t0 = performance.now();
  sim.runUntil(() => false, warmupMs);
  const start = bulks.map((b) => b.b.sink.received);
  sim.runUntil(() => false, warmupMs + measureMs);
  const rates = bulks.map((b, i) => (b.b.sink.received - start[i]!) / (measureMs / 1000));
  for (const [i, b] of bulks.entries()) {
    if (b.a.socket.state !== "established") {
      sim.fail(`flow ${i} is ${b.a.socket.state} (error ${b.a.socket.error})`);
    }
  }
  return {
    flows,
    aggregate: rates.reduce((s, x) => s + x, 0),
    min: Math.min(...rates),
    max: Math.max(...rates),
    index: jain(rates),
    queueDrops: pair.link.ab.droppedQueue,
    wallMs: performance.now() - t0,
  };
}

Deno.test("Jain's index is 1 for equal shares and 1/n when one flow takes everything", () => {
  assert.equal(jain([5, 5, 5, 5]), 1);
  assert.equal(jain([8, 0, 0, 0]), 0.25);
  assert.ok(Math.abs(jain([1, 2]) - 0.9) < 1e-12);
});

const full = fullRun();
const counts = full ? [1, 2, 4, 8, 16, 32, 64] : [1, 8];
const warmup = full ? 5_000 : 1_000;
const measure = full ? 20_000 : 4_000;

Deno.test(
  `TCP flows sharing a 200 Mbit/s bottleneck with a 64 KiB queue get fair shares (Jain >= 0.95; ${
    counts.join(", ")
  } flows)`,
  () => {
    const results: FairnessResult[] = [];
    for (const n of counts) {
      const r = fairness(n, warmup, measure);
      results.push(r);
      console.log(
        `fairness ${String(n).padStart(2)} flows: aggregate ${
          (r.aggregate * 8 / 1e6).toFixed(1)
        } ` +
          `Mbit/s, per flow ${(r.min * 8 / 1e6).toFixed(2)}..${
            (r.max * 8 / 1e6).toFixed(2)
          } Mbit/s, ` +
          `Jain ${r.index.toFixed(3)}, queue drops ${r.queueDrops}, wall ${r.wallMs.toFixed(0)} ms`,
      );
    }
    for (const r of results) {
      assert.ok(r.aggregate > 0.5 * 25_000_000, `${r.flows} flows: aggregate ${r.aggregate} B/s`);
      assert.ok(
        r.index >= 0.95,
        `${r.flows} flows: Jain's index ${r.index.toFixed(3)} < 0.95 (seed ${SEED + r.flows})`,
      );
    }
  },
);
