/**
 * Old against new on the core bulk path: a TCP transfer between two `Interface`s over
 * `linkPair` on virtual time (no async layer, device checksums on), with this checkout's code and
 * with another checkout's (`--baseline DIR`, for example made by
 * `git worktree add --detach /tmp/base <commit>`), alternating old and new runs in one process
 * (which goes first changes every round) after one warm-up transfer each. Prints MB/s per run, by wall time and by process CPU time
 * (user + system, less disturbed by other processes on a shared machine), and the new/old ratio
 * of the medians. The kernel is not in this comparison: `deno task bench:net` is the bench that
 * sets smolnet against Deno's kernel TCP.
 *
 * ```sh
 * deno run --allow-read bench/core_ab.ts --baseline DIR [--mtu 1500] [--mib 128] [--rounds 5]
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { coreTransfer, loadCore } from "./_core_transfer.ts";

function arg(name: string, fallback: string | null): string {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Deno.args[i + 1] : undefined;
  if (v !== undefined) return v;
  if (fallback === null) throw new TypeError(`Missing ${name}`);
  return fallback;
}

function positive(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid ${name} ${v}`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 === 1
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (import.meta.main) {
  const baseline = arg("--baseline", null);
  const mtu = positive("--mtu", 1500), mib = positive("--mib", 128);
  const rounds = positive("--rounds", 5);
  const here = fileURLToPath(new URL("..", import.meta.url));
  const trees = [await loadCore("old", baseline), await loadCore("new", here)];
  for (const t of trees) coreTransfer(t, mtu, 16 << 20); // warm-up: V8 optimises the hot path
  const wall: number[][] = [[], []], cpu: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const i = (r + k) % 2; // old first in even rounds, new first in odd ones
      const [w, c] = coreTransfer(trees[i]!, mtu, mib << 20);
      wall[i]!.push(w);
      cpu[i]!.push(c);
    }
  }
  const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
  console.log(`core bulk, MTU ${mtu}, checksums on, ${mib} MiB x ${rounds}, old = ${baseline}`);
  for (const [what, m] of [["wall", wall], ["cpu", cpu]] as const) {
    const o = median(m[0]!), n = median(m[1]!);
    console.log(
      `${what}: old ${f(m[0]!)} | new ${f(m[1]!)} MB/s; medians ${o.toFixed(0)} -> ${
        n.toFixed(0)
      } = ${(n / o).toFixed(2)}x`,
    );
  }
}
