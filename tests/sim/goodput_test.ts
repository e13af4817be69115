/**
 * Goodput regression (issue 8 item 2, issue 13's reordering and default-buffer cells). By
 * default (CI) the whole matrix and the extra cells run at 1 MiB per cell and the five cells
 * with smoltcp reference figures run at issue 8's 10 MiB; with `SMOLNET_SIM_FULL=1` every cell
 * runs at 10 MiB and must also meet smoltcp's figures. Each cell must stay within 10 % of
 * tests/sim/goodput_baseline.json; `SMOLNET_SIM_UPDATE=1` rewrites the cells of the baseline
 * the run measured.
 */

import assert from "node:assert/strict";
import {
  BUFFERS_KIB,
  type CellResult,
  type CellSpec,
  EXTRA_CELLS,
  extraTable,
  LOSS_PCT,
  matrixTable,
  runCell,
  runSmoltcpConditionsCell,
  SMOLTCP_REFERENCE,
} from "./goodput.ts";
import { envVar, fullRun } from "./sim.ts";

const BASELINE_URL = new URL("./goodput_baseline.json", import.meta.url);
const MIB = 1024 * 1024;

type Baseline = Record<string, Record<string, number>>;

function readBaseline(): Baseline {
  try {
    return JSON.parse(Deno.readTextFileSync(BASELINE_URL)) as Baseline;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
}

function checkAgainstBaseline(section: string, results: Map<string, CellResult>): void {
  const baseline = readBaseline();
  if (envVar("SMOLNET_SIM_UPDATE") === "1") {
    const figures: Record<string, number> = {};
    for (const [k, r] of results) figures[k] = r.goodput;
    baseline[section] = { ...baseline[section], ...figures };
    Deno.writeTextFileSync(BASELINE_URL, JSON.stringify(baseline, null, 2) + "\n");
    console.log(`baseline section "${section}" written`);
    return;
  }
  const base = baseline[section];
  assert.ok(base !== undefined, `no "${section}" baseline: run with SMOLNET_SIM_UPDATE=1`);
  const below: string[] = [];
  for (const [k, r] of results) {
    const b = base[k];
    assert.ok(b !== undefined, `no baseline for cell ${k}: run with SMOLNET_SIM_UPDATE=1`);
    if (r.goodput < b * 0.9) below.push(`${k}: ${r.goodput} B/s < 90 % of baseline ${b}`);
  }
  assert.deepEqual(below, [], "cells more than 10 % below the baseline (seed 8)");
}

function runMatrix(bytes: number, cells: readonly CellSpec[]): Map<string, CellResult> {
  const out = new Map<string, CellResult>();
  for (const c of cells) {
    const r = runCell(c.bufKiB, c.lossPct, bytes, c.reorderPct);
    assert.ok(r.intact, `cell ${r.key}: SHA-256 of received data differs (seed 8)`);
    // The cell measures the path it names: frames were lost / held back exactly when asked.
    assert.equal(r.lost > 0, c.lossPct > 0, `cell ${r.key}: ${r.lost} frames lost`);
    assert.equal(r.reordered > 0, c.reorderPct > 0, `cell ${r.key}: ${r.reordered} reordered`);
    out.set(r.key, r);
    console.log(
      `${r.key.padEnd(19)} ${String(r.goodput).padStart(9)} B/s  ` +
        `virtual ${(r.virtualMs / 1000).toFixed(1)} s  retx ${r.retransmits} ` +
        `(fast ${r.fastRetransmits}, rto ${r.rtos})  wall ${r.wallMs.toFixed(0)} ms`,
    );
  }
  return out;
}

const ALL: CellSpec[] = BUFFERS_KIB.flatMap((b) =>
  LOSS_PCT.map((l) => ({ bufKiB: b, lossPct: l, reorderPct: 0 }))
);
const REFERENCE_CELLS: CellSpec[] = ([[32, 0], [32, 1], [32, 10], [4, 0], [4, 10]] as const).map((
  [b, l],
) => ({ bufKiB: b, lossPct: l, reorderPct: 0 }));

function referenceShortfalls(results: Map<string, CellResult>): string[] {
  const short: string[] = [];
  for (const [k, ref] of Object.entries(SMOLTCP_REFERENCE)) {
    const r = results.get(k);
    if (r === undefined) continue;
    const verdict = r.goodput >= ref ? "meets" : "BELOW";
    console.log(`${k.padEnd(11)} ours ${r.goodput} B/s, smoltcp ${ref} B/s: ${verdict}`);
    if (r.goodput < ref) short.push(`${k}: ${r.goodput} < smoltcp ${ref}`);
  }
  return short;
}

if (!fullRun()) {
  Deno.test("TCP goodput matrix at 1 MiB per cell (100 ms RTT) stays within 10 % of the baseline", () => {
    const results = runMatrix(1 * MIB, ALL);
    console.log(matrixTable(results));
    checkAgainstBaseline("ci_1MiB", results);
  });

  Deno.test("TCP goodput of the smoltcp reference cells at 10 MiB stays within 10 % of the baseline", () => {
    const results = runMatrix(10 * MIB, REFERENCE_CELLS);
    referenceShortfalls(results);
    checkAgainstBaseline("full_10MiB", results);
  });

  Deno.test("TCP goodput with 5 % reordering and with default buffers (100 ms RTT) at 1 MiB per cell stays within 10 % of the baseline", () => {
    const results = runMatrix(1 * MIB, EXTRA_CELLS);
    console.log(extraTable(results));
    checkAgainstBaseline("ci_1MiB", results);
  });
} else {
  Deno.test("TCP goodput matrix at 10 MiB per cell stays within 10 % of the baseline", () => {
    const results = runMatrix(10 * MIB, ALL);
    console.log(matrixTable(results));
    checkAgainstBaseline("full_10MiB", results);
  });

  Deno.test("TCP goodput with 5 % reordering and with default buffers (100 ms RTT) at 10 MiB per cell stays within 10 % of the baseline", () => {
    const results = runMatrix(10 * MIB, EXTRA_CELLS);
    console.log(extraTable(results));
    checkAgainstBaseline("full_10MiB", results);
  });

  Deno.test("TCP goodput meets smoltcp's reference figures in every reference cell", () => {
    const results = runMatrix(10 * MIB, REFERENCE_CELLS);
    assert.deepEqual(referenceShortfalls(results), [], "cells below smoltcp's figures (seed 8)");
  });
}

// Why 32 KiB @ 1 % is below smoltcp's figure: smoltcp's netsim runs its default build, which has
// no congestion controller. Under its conditions (loss both ways, no rate limit, tx = rx buffer,
// time from connect) our loss recovery with the window left unbounded the same way meets the
// figure; NewReno and CUBIC halve (or cut by 0.3) at each loss, as a TCP-friendly sender must.
Deno.test("TCP under smoltcp's netsim conditions with the congestion window unbounded (its default NoControl) meets smoltcp's 32 KiB @ 1 % figure; NewReno stays near the Mathis bound below it", () => {
  const ref = SMOLTCP_REFERENCE["32KiB@1%"]!;
  const open = runSmoltcpConditionsCell(32, 1, 10 * MIB, "unbounded");
  const reno = runSmoltcpConditionsCell(32, 1, 10 * MIB, "newreno");
  for (const r of [open, reno]) {
    console.log(
      `${r.key}: ${r.goodput} B/s (smoltcp ${ref}), lost ${r.lost} frames both ways, retx ` +
        `${r.retransmits} (fast ${r.fastRetransmits}, rto ${r.rtos})`,
    );
    assert.ok(r.intact, `${r.key}: SHA-256 of received data differs`);
    assert.ok(r.lost > 0);
  }
  assert.ok(open.goodput >= ref, `${open.key}: ${open.goodput} < smoltcp ${ref}`);
  // A TCP-friendly sender at p = 1 %, 100 ms RTT: near 1.22 MSS / (RTT √p) ≈ 177 KB/s.
  assert.ok(reno.goodput < ref && reno.goodput > 140_000, `${reno.key}: ${reno.goodput}`);
});
