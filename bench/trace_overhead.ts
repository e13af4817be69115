/**
 * What tracing costs: a bulk transfer between two cores on an in-memory link (MTU 1500,
 * checksums on, no delay), run without a recorder and with `TcpTraceRecorder.attach` on the
 * sender, alternating in one process. Prints MB/s of each kind of run and the ratios: traced
 * over untraced is the cost of tracing; the untraced runs of the first and second half of the
 * rounds say how noisy the machine was. With `--against DIR` (another checkout, for example made
 * by `git worktree add --detach /tmp/base <commit>`), that checkout's recorder is run too, on
 * this checkout's core, so two recorders are compared in one run (which of the two goes first
 * changes every round). Two recorder classes in one process slow each other (the socket's sink
 * call sees both; one's garbage and deoptimisations land in the other's runs: this checkout
 * against a copy of itself gave 0.81x and 0.80x, runs of it alone 0.85-0.91x the same evening),
 * so for the figure of one recorder run this bench in each checkout, alternating the processes.
 * `--cpu` rates runs by process CPU time (user + system) instead of wall time, which other
 * processes on a shared machine disturb less.
 *
 *   deno run --allow-read --allow-sys=loadavg --v8-flags=--expose-gc bench/trace_overhead.ts
 *     [--mib 256] [--rounds 3] [--against DIR] [--cpu]
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TcpTraceRecorder } from "@smol/net/trace";
import { type CoreModules, coreTransfer, loadCore } from "./_core_transfer.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid ${name} ${Deno.args[i + 1]}`);
  return v;
}

/** The part of a recorder the bench uses, from this checkout or another. */
interface Recorder {
  attach(socket: unknown): void;
  detach(): void;
  events(): unknown[];
  readonly dropped: number;
}

type RecorderClass = new (options: { capacity: number }) => Recorder;

/** Which clock a figure is by: wall time, or process CPU time (user + system). */
let clock = 0;

/** Sends `bytes` from one core to the other on virtual time; returns MB/s by {@linkcode clock}. */
function transfer(core: CoreModules, bytes: number, recorder: Recorder | null): number {
  const speeds = coreTransfer(core, 1500, bytes, (client, done) => {
    if (recorder === null) return;
    if (done) recorder.detach();
    else recorder.attach(client);
  });
  return speeds[clock]!;
}

function loadAverage(): string {
  const granted = Deno.permissions.querySync({ name: "sys", kind: "loadavg" }).state;
  if (granted !== "granted") return "unknown (run with --allow-sys=loadavg)";
  return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 === 1
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (import.meta.main) {
  const mib = arg("--mib", 256), rounds = arg("--rounds", 3);
  const at = Deno.args.indexOf("--against");
  const against = at >= 0 ? Deno.args[at + 1] : undefined;
  if (at >= 0 && against === undefined) throw new TypeError("Missing --against DIR");
  const bytes = mib << 20;
  clock = Deno.args.includes("--cpu") ? 1 : 0;
  const core = await loadCore("this", fileURLToPath(new URL("..", import.meta.url)));
  const recorders: [string, RecorderClass][] = [["this", TcpTraceRecorder]];
  if (against !== undefined) {
    const url = pathToFileURL(resolve(against, "src/trace/recorder.ts")).href;
    recorders.push([against, (await import(url)).TcpTraceRecorder]);
  }
  transfer(core, 16 << 20, null); // warm up
  for (const [, R] of recorders) transfer(core, 16 << 20, new R({ capacity: 65_536 }));
  const off: number[] = [];
  const on: number[][] = recorders.map(() => []);
  const ratio: number[][] = recorders.map(() => []);
  const kept: number[] = [], dropped: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const before = transfer(core, bytes, null);
    for (let k = 0; k < recorders.length; k++) {
      const j = (r + k) % recorders.length;
      const rec = new recorders[j]![1]({ capacity: 65_536 });
      on[j]!.push(transfer(core, bytes, rec));
      kept[j] = rec.events().length;
      dropped[j] = rec.dropped;
    }
    const after = transfer(core, bytes, null);
    off.push(before, after);
    // Each traced run against the untraced runs on either side of it.
    for (let j = 0; j < recorders.length; j++) ratio[j]!.push(on[j]![r]! / ((before + after) / 2));
  }
  const half = off.length / 2;
  const early = median(off.slice(0, half)), late = median(off.slice(half));
  const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
  const by = clock === 0 ? "wall time" : "process CPU time";
  console.log(`${mib} MiB, MTU 1500, checksums on, ${rounds} rounds, MB/s by ${by}, medians`);
  console.log(`untraced   ${median(off).toFixed(0)} MB/s  [${f(off)}]`);
  for (let j = 0; j < recorders.length; j++) {
    console.log(
      `traced     ${median(on[j]!).toFixed(0)} MB/s  (${median(ratio[j]!).toFixed(2)}x untraced; ` +
        `per round ${ratio[j]!.map((x) => x.toFixed(2)).join(" ")})  recorder of ${
          recorders[j]![0]
        }`,
    );
    console.log(`  ring: ${kept[j]} events kept, ${dropped[j]} overwritten (bounded at 65,536)`);
  }
  console.log(
    `noise: untraced, second half of the rounds / first half = ${(late / early).toFixed(2)}`,
  );
  console.log(`load average: ${loadAverage()}`);
}
