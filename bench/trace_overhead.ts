/**
 * What tracing costs: a bulk transfer between two cores on an in-memory link (MTU 1500,
 * checksums on, no delay), run without a recorder, with `TcpTraceRecorder.attach` on the
 * sender, and without again, in one process. Prints MB/s of each run and the ratios: the two
 * untraced runs say how noisy the machine is; traced over untraced is the cost of tracing.
 *
 *   deno run --allow-read --v8-flags=--expose-gc bench/trace_overhead.ts [--mib 256] [--rounds 3]
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { TcpTraceRecorder } from "@smol/net/trace";
import { type CoreModules, coreTransfer, loadCore } from "./_core_transfer.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid ${name} ${Deno.args[i + 1]}`);
  return v;
}

/** Sends `bytes` from one core to the other on virtual time; returns MB/s of wall time. */
function transfer(core: CoreModules, bytes: number, recorder: TcpTraceRecorder | null): number {
  const [wall] = coreTransfer(core, 1500, bytes, (client, done) => {
    if (recorder === null) return;
    if (done) recorder.detach();
    else recorder.attach(client);
  });
  return wall;
}

if (import.meta.main) {
  const mib = arg("--mib", 256), rounds = arg("--rounds", 3);
  const bytes = mib << 20;
  const core = await loadCore("this", fileURLToPath(new URL("..", import.meta.url)));
  transfer(core, 16 << 20, null); // warm up
  const off1: number[] = [], on: number[] = [], off2: number[] = [];
  let kept = 0, dropped = 0;
  for (let r = 0; r < rounds; r++) {
    off1.push(transfer(core, bytes, null));
    const rec = new TcpTraceRecorder({ capacity: 65_536 });
    on.push(transfer(core, bytes, rec));
    kept = rec.events().length;
    dropped = rec.dropped;
    off2.push(transfer(core, bytes, null));
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const [m1, mOn, m2] = [med(off1), med(on), med(off2)];
  console.log(`${mib} MiB, MTU 1500, checksums on, median of ${rounds}`);
  console.log(`untraced      ${m1.toFixed(0)} MB/s`);
  console.log(
    `traced        ${mOn.toFixed(0)} MB/s  (${(mOn / ((m1 + m2) / 2)).toFixed(2)}x untraced)`,
  );
  console.log(`untraced      ${m2.toFixed(0)} MB/s  (${(m2 / m1).toFixed(2)}x the first: noise)`);
  console.log(`trace ring: ${kept} events kept, ${dropped} overwritten (bounded at 65,536)`);
}
