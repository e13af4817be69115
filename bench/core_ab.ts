/**
 * Old against new on the core bulk path: a TCP transfer between two `Interface`s over
 * `linkPair` on virtual time (no async layer, device checksums on), with this checkout's code and
 * with another checkout's (`--baseline DIR`, for example made by
 * `git worktree add --detach /tmp/base <commit>`), alternating old and new runs in one process
 * (which goes first changes every round) after an untimed warm-up transfer each (`--warmup`,
 * 128 MiB by default: in a fresh process the first 50–100 MiB at MTU 1500 ran at a third to
 * half of the steady speed while V8 was still optimising, measured 2026-12-08). Prints MB/s per run, by wall time and by process CPU time
 * (user + system, less disturbed by other processes on a shared machine), and the new/old ratio
 * of the medians. With `--split` each run is its own process (old and new alternating), which
 * removes the advantage of the tree imported first into a process. The kernel is not in this comparison: `deno task bench:net` is the bench that
 * sets smolnet against Deno's kernel TCP.
 *
 * ```sh
 * deno run --allow-read --allow-run --allow-sys bench/core_ab.ts --baseline DIR [--mtu 1500] [--mib 128] [--rounds 5] [--warmup 128] [--split] [--no-coalesce]
 * ```
 *
 * `--no-coalesce` sets `InterfaceConfig.coalesceTcp: false` (no receive coalescing) in both trees,
 * to compare other changes alone; a baseline older than the option ignores it and never
 * coalesces.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { coreTransfer, loadCore } from "./_core_transfer.ts";
import { arg, loadText, median, positive } from "./_args.ts";

/**
 * One tree per process (`--one old|new`): prints `[wall, cpu]` MB/s of one transfer after a
 * warm-up. The parent runs these alternately with `--split`, because the tree imported first into
 * a process measured up to 40 % faster than an identical copy imported second.
 */
async function one(
  which: string,
  baseline: string,
  here: string,
  mtu: number,
  mib: number,
  warmup: number,
) {
  const t = await loadCore(which, which === "old" ? baseline : here);
  coreTransfer(t, mtu, warmup << 20, undefined, IFACE);
  console.log(JSON.stringify(coreTransfer(t, mtu, mib << 20, undefined, IFACE)));
}

/** Interface options of both trees: no receive coalescing with `--no-coalesce`. */
const IFACE = Deno.args.includes("--no-coalesce") ? { coalesceTcp: false } : {};

async function spawnOne(which: string, extra: string[]): Promise<[number, number]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", fileURLToPath(import.meta.url), "--one", which, ...extra],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`core_ab --one ${which} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

if (import.meta.main) {
  const baseline = arg("--baseline", null);
  const mtu = positive("--mtu", 1500), mib = positive("--mib", 128);
  const rounds = positive("--rounds", 5), warmup = positive("--warmup", 128);
  const here = fileURLToPath(new URL("..", import.meta.url));
  const only = arg("--one", "");
  if (only !== "") {
    await one(only, baseline, here, mtu, mib, warmup);
    Deno.exit(0);
  }
  const split = Deno.args.includes("--split");
  const trees = split ? [] : [await loadCore("old", baseline), await loadCore("new", here)];
  for (const t of trees) coreTransfer(t, mtu, warmup << 20, undefined, IFACE); // V8 optimises
  const wall: number[][] = [[], []], cpu: number[][] = [[], []];
  const extra = ["--baseline", baseline, "--mtu", String(mtu), "--mib", String(mib)];
  extra.push("--warmup", String(warmup));
  if (Deno.args.includes("--no-coalesce")) extra.push("--no-coalesce");
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const i = (r + k) % 2; // old first in even rounds, new first in odd ones
      const [w, c] = split
        ? await spawnOne(i === 0 ? "old" : "new", extra)
        : coreTransfer(trees[i]!, mtu, mib << 20, undefined, IFACE);
      wall[i]!.push(w);
      cpu[i]!.push(c);
    }
  }
  const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
  console.log(
    `core bulk, MTU ${mtu}, checksums on, ${mib} MiB x ${rounds}${
      split ? ", one process per run" : ""
    }, warm-up ${warmup} MiB${
      "coalesceTcp" in IFACE ? ", coalesceTcp false" : ""
    }, old = ${baseline}, load ${loadText()}`,
  );
  for (const [what, m] of [["wall", wall], ["cpu", cpu]] as const) {
    const o = median(m[0]!), n = median(m[1]!);
    console.log(
      `${what}: old ${f(m[0]!)} | new ${f(m[1]!)} MB/s; medians ${o.toFixed(0)} -> ${
        n.toFixed(0)
      } = ${(n / o).toFixed(2)}x`,
    );
  }
}
