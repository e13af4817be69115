/**
 * Issue 20's rows of `bench/throughput.ts --tun`: tun2proxy (one TCP flow each way, 1,000
 * concurrent flows without loss), the `Router` between two TUN devices and the NAT conntrack
 * memory. They are measured by `bench/tun2proxy.ts` and `bench/router.ts`, run here as child
 * processes with `--json` (one run each, short), beside the kernel reference rows those scripts
 * already measure: kernel forwarding of the same flow, kernel veth forwarding and the TUN copy
 * with no stack. A child is sent SIGTERM (it then removes its namespaces and processes) when
 * this process is interrupted; `--no-router` / `--no-tun2proxy` leave a script out.
 *
 * @module
 */

import { advanceProgress, ARGS, fmt, progress, rows, stat } from "./_throughput_common.ts";
import { isInterrupted, onCleanup, skip } from "./_throughput_host.ts";
import { hasCommand } from "../tests/phy/_netns.ts";

const here = new URL("./", import.meta.url).pathname;

/** What `bench/router.ts --json` writes for forwarding (the fields read here). */
interface RouterJson {
  rates: Record<string, { pps: number; offered: number; routerCpu: number | null }[]>;
}

/** What `bench/tun2proxy.ts --json` writes (the fields read here). */
interface Tun2proxyJson {
  transfers: Record<string, { mbps: number; perCpu: number }[]>;
  flowChecks: { proxy?: { ok: number; bad: number; ms: number }; kernel?: { ms: number } };
}

/**
 * Runs `deno <args>` to its end and returns what it wrote to `--json` (a temporary file). On
 * SIGINT/SIGTERM the cleanup sends the child SIGTERM and waits for it to clean up.
 */
async function runJson<T>(args: string[]): Promise<T> {
  if (isInterrupted()) throw new Error("interrupted");
  const file = await Deno.makeTempFile({ prefix: "smolnet-bench-", suffix: ".json" });
  onCleanup(() => Deno.remove(file).catch(() => {})); // after the child's (newest first)
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...args, "--json", file],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let ended = false;
    onCleanup(async () => {
      if (!ended) {
        try {
          child.kill("SIGTERM");
        } catch { /* it has just ended */ }
      }
      await child.status;
    });
    const out = await child.output();
    ended = true;
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
      throw new Error(`exit ${out.code}: ${text}`);
    }
    return JSON.parse(await Deno.readTextFile(file)) as T;
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** The rows of the Router's forwarding rate and the two kernel/device references beside it. */
async function routerRows(): Promise<void> {
  const seconds = ARGS.quick ? 1 : 2;
  progress(`Router TUN → TUN, UDP 64 B (kernel veth, TUN copy, Router: ${seconds} s each)`);
  const r = await runJson<RouterJson>([
    "run",
    "-A",
    `${here}router.ts`,
    "--seconds",
    String(seconds),
    "--runs",
    "1",
    "--arms",
    "plain",
  ]);
  const pps = (name: string) => stat(r.rates[name]!.map((x) => x.pps));
  const router = pps("plain");
  const first = r.rates["plain"]![0]!;
  rows.push({
    name: "Router TUN → TUN, UDP 64 B, no NAT (1 sendmmsg sender)",
    unit: "pps",
    stat: router,
    target: "≥ 100000 pps",
    met: router.median >= 100_000,
    note: `offered ${Math.round(first.offered)} pps, router CPU ${
      first.routerCpu === null ? "-" : `${Math.round(first.routerCpu * 100)} %`
    }`,
  });
  rows.push({
    name: "  reference: kernel veth forwarding, same flood",
    unit: "pps",
    stat: pps("kernel"),
    target: "reference",
    met: null,
  });
  rows.push({
    name: "  reference: TUN copy, no stack, same flood",
    unit: "pps",
    stat: pps("copy"),
    target: "reference",
    met: null,
  });
}

/** The conntrack row: the heap of a `NatTable` holding 100,000 flows. */
async function conntrackRow(): Promise<void> {
  progress("NAT conntrack, 100,000 flows");
  const c = await runJson<{ conntrack: { flows: number; bytes: number } }>([
    "run",
    "--v8-flags=--expose-gc",
    "--allow-write",
    `${here}router.ts`,
    "--conntrack",
  ]);
  const mib = c.conntrack.bytes / 2 ** 20;
  rows.push({
    name: `NAT conntrack, ${c.conntrack.flows} flows (heap delta)`,
    unit: "MiB",
    stat: stat([mib]),
    target: "≤ 32 MiB",
    met: mib <= 32,
    note: `${Math.round(c.conntrack.bytes / c.conntrack.flows)} B per flow`,
  });
}

/** Flows in the concurrent check (issue 20: ≥ 1,000 without loss). */
const FLOWS = 1000;

/** The tun2proxy rows: one flow each way beside kernel forwarding, then the 1,000-flow check. */
async function tun2proxyRows(): Promise<void> {
  const seconds = ARGS.quick ? 1 : 3;
  progress(`tun2proxy --offload: one TCP flow each way (${seconds} s), ${FLOWS} flows`);
  const t = await runJson<Tun2proxyJson>([
    "run",
    "-A",
    `${here}tun2proxy.ts`,
    "--seconds",
    String(seconds),
    "--runs",
    "1",
    "--flows",
    String(FLOWS),
  ]);
  for (const [dir, label] of [["down", "download"], ["up", "upload"]] as const) {
    const list = t.transfers[`new ${dir}`]!;
    const s = stat(list.map((x) => x.mbps));
    const kernel = stat(t.transfers[`kernel ${dir}`]!.map((x) => x.mbps));
    rows.push({
      name: `tun2proxy --offload, one TCP flow, ${label} (iperf3)`,
      unit: "MB/s",
      stat: s,
      target: "≥ 150 MB/s",
      met: s.median >= 150,
      note: `${fmt(s.median / kernel.median)}× kernel forwarding; ${
        Math.round(stat(list.map((x) => x.perCpu)).median)
      } MB per proxy CPU-second`,
    });
    rows.push({
      name: `  reference: kernel forwarding, same flow, ${label}`,
      unit: "MB/s",
      stat: kernel,
      target: "reference",
      met: null,
    });
  }
  const f = t.flowChecks.proxy!;
  rows.push({
    name: `tun2proxy, ${FLOWS} concurrent TCP echo flows, byte-exact`,
    unit: "flows",
    stat: stat([f.ok]),
    target: `${FLOWS} of ${FLOWS}, none lost`,
    met: f.ok === FLOWS && f.bad === 0,
    note: `${f.bad} lost; ${f.ms} ms, kernel forwarding ${t.flowChecks.kernel?.ms ?? "-"} ms`,
  });
}

/**
 * Issue 20's rows; each that cannot run is skipped with its reason (`noTun`: why TUN devices
 * cannot be made here, or null).
 */
export async function issue20Rows(noTun: string | null): Promise<void> {
  if (!ARGS.noRouter) {
    const missing = ["nft", "python3"].find((c) => !hasCommand(c));
    if (noTun !== null) skip("Router", noTun);
    else if (missing !== undefined) skip("Router", `needs ${missing}`);
    else {
      try {
        await routerRows();
      } catch (e) {
        skip("Router", `failed: ${(e as Error).message}`);
      }
      advanceProgress(1);
    }
  }
  if (isInterrupted()) return;
  try {
    await conntrackRow();
  } catch (e) {
    skip("conntrack", `failed: ${(e as Error).message}`);
  }
  advanceProgress(1);
  if (isInterrupted() || ARGS.noTun2proxy) return;
  const missing = ["iperf3", "python3"].find((c) => !hasCommand(c));
  if (noTun !== null) skip("tun2proxy", noTun);
  else if (missing !== undefined) skip("tun2proxy", `needs ${missing}`);
  else {
    try {
      await tun2proxyRows();
    } catch (e) {
      skip("tun2proxy", `failed: ${(e as Error).message}`);
    }
    advanceProgress(1);
  }
}
