/**
 * bench/tun2proxy.ts — one TCP flow relayed by `examples/tun2proxy.ts --offload` beside the
 * Linux kernel forwarding the same flow, in one run (issue 20's ≥ 150 MB/s target).
 *
 * ```sh
 * deno run -A bench/tun2proxy.ts [--seconds S] [--runs N] [--direction both|up|down] [--baseline DIR]
 *   [--flows N] [--json FILE]
 * ```
 *
 * Root, /dev/net/tun, `ip`, iperf3. Three namespaces created by name and deleted afterwards
 * (`smolnet-b2*-…`), the topology of tests/interop/tun2proxy_test.ts: a client (C) whose
 * traffic to 198.51.100.0/24 a proxy namespace (P) policy-routes into a TUN device held by the
 * example, which relays each connection through its own kernel socket to an iperf3 server in S
 * (198.51.100.7). Each run measures iperf3 download (`-R`) and upload through the proxy, then
 * the same with the policy rule removed (P's kernel forwards C's packets itself), and prints MB/s,
 * the ratios and the load average (the machine is shared).
 *
 * For each transfer through the proxy it also prints the proxy process's CPU use (user + system
 * time over the transfer's wall time, from `/proc/PID/stat`) and the megabytes it relayed per
 * CPU-second. On a shared machine the rate follows the CPU share the proxy gets; the bytes per
 * CPU-second depend much less on the load and are the figure to compare between commits. The
 * whole machine's idle share over each transfer (`/proc/stat`) says whether the CPUs were all
 * busy: a proxy that waits while the machine has no idle time waits for its peers (the client's
 * and server's kernels and iperf3 processes) to be scheduled, not for the network.
 *
 * `--baseline DIR` (another checkout, e.g. `git worktree add --detach /tmp/base <commit>`) runs
 * that tree's example too, in the same namespaces, alternating which goes first in each run, and
 * prints the new/old ratio of the medians of both figures at the end.
 *
 * `--flows N` (issue 20's ≥ 1,000 concurrent flows without loss) adds, in the first run, N
 * concurrent TCP flows from C to a python3 echo server in S (198.51.100.7:7), each sending its
 * own 4 KiB and reading back exactly those bytes, through the proxy and then through P's kernel
 * forwarding (the check of tests/interop/tun2proxy_test.ts, `FLOWS_TS`): flows intact, flows
 * not, wall time. `--json FILE` writes every transfer and that check as JSON
 * (bench/throughput.ts --tun reads it). SIGINT/SIGTERM kill the processes and delete the
 * namespaces before exiting.
 *
 * @module
 */

import { createNetns, deleteNetns, must, run } from "../tests/phy/_netns.ts";
import {
  ECHO_PY,
  FLOWS_TS,
  proxyTopology,
  tun2proxyArgs,
  waitListening,
} from "../tests/interop/_fixtures.ts";
import { interruptHandler, onCleanup } from "./_cleanup.ts";
import { type Proc, spawnProc as startProc } from "./_proc.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(Deno.args[i + 1]);
  if (!(n > 0)) throw new RangeError(`Invalid ${name}: ${Deno.args[i + 1]}`);
  return n;
}

function text(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const v = Deno.args[i + 1];
  if (v === undefined) throw new TypeError(`Missing value after ${name}`);
  return v;
}

const seconds = arg("--seconds", 4), runs = arg("--runs", 2), flowCount = arg("--flows", 0);
if (!Number.isInteger(flowCount)) throw new RangeError(`Invalid --flows: ${flowCount}`);
const jsonFile = text("--json", "");
const direction = text("--direction", "both");
if (!["both", "up", "down"].includes(direction)) {
  throw new RangeError(`Invalid --direction: ${direction}`);
}
const here = new URL("../", import.meta.url).pathname;
const baseline = text("--baseline", "");
/** The trees whose example is measured: the baseline's first (when given), then this one. */
const trees: { name: string; root: string }[] = baseline === ""
  ? [{ name: "new", root: here }]
  : [{ name: "old", root: baseline.endsWith("/") ? baseline : `${baseline}/` }, {
    name: "new",
    root: here,
  }];
const loadavg = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");

/** User + system CPU seconds of process `pid` (USER_HZ is 100 on Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Idle and total jiffies of the whole machine, from the first line of `/proc/stat`. */
async function machineJiffies(): Promise<{ idle: number; total: number }> {
  const f = (await Deno.readTextFile("/proc/stat")).split("\n")[0]!.trim().split(/\s+/).slice(1)
    .map(Number);
  return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
}

/** One transfer: MB/s, for the proxy its CPU share and MB per CPU-second, the machine's idle. */
interface Transfer {
  mbps: number;
  cpu: number;
  perCpu: number;
  idle: number;
}

/** Processes and namespaces alive now: SIGINT/SIGTERM kill and delete them. */
const liveProcs = new Set<Proc>();
const liveNetns = new Set<string>();
let liveDir = "";
onCleanup(async () => {
  for (const p of liveProcs) await p.kill();
  for (const n of liveNetns) await deleteNetns(n);
  if (liveDir !== "") await Deno.remove(liveDir, { recursive: true });
});
const stop = interruptHandler("tun2proxy.ts: interrupted, removing namespaces\n");
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

/** Starts `args` in `ns` (the PID is the command's: `ip netns exec` and `sh` exec it). */
function spawnIn(ns: string, args: string[]): Proc {
  const p = startProc("ip", [
    "netns",
    "exec",
    ns,
    "sh",
    "-c",
    'ulimit -n 16384; exec "$@"',
    "sh",
    ...args,
  ]);
  liveProcs.add(p); // p.kill() does nothing once it has ended
  return p;
}

/** One N-flow check: flows that got exactly their bytes back, those that did not, wall ms. */
interface FlowCheck {
  ok: number;
  bad: number;
  ms: number;
}

/** The `--flows` check through the proxy and through kernel forwarding (first run only). */
const flowChecks: { proxy?: FlowCheck; kernel?: FlowCheck } = {};

/** Runs FLOWS_TS in C against the echo server: what it prints. */
async function flowCheck(c: string, script: string): Promise<FlowCheck> {
  const r = await run("ip", [
    "netns",
    "exec",
    c,
    "sh",
    "-c",
    'ulimit -n 16384; exec "$@"',
    "sh",
    Deno.execPath(),
    "run",
    "--allow-net",
    script,
    "198.51.100.7",
    "7",
    String(flowCount),
  ]);
  if (r.code !== 0) throw new Error(`flows failed: ${r.stderr.slice(-300)}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

/** Per tree, per direction, the transfers of every run. */
const results = new Map<string, Transfer[]>();
const note = (key: string, t: Transfer) => {
  const list = results.get(key) ?? [];
  list.push(t);
  results.set(key, list);
};

async function oneRun(
  order: { name: string; root: string }[],
  flows: boolean,
): Promise<string[]> {
  const names: string[] = [];
  const out: string[] = [];
  let dir = "";
  try {
    const netns = async (tag: string) => {
      const n = await createNetns(tag);
      names.push(n);
      liveNetns.add(n);
      return n;
    };
    const { c, p, s, tun, vpc } = await proxyTopology(netns, {
      tags: ["b2c", "b2p", "b2s"],
      family: 4,
    }, ["198.51.100.7"]);
    // `ip netns exec` execs the command: the PID is the command's own, and we kill only it.
    const server = spawnIn(s, ["iperf3", "-s", "-B", "198.51.100.7"]);
    let echo: Proc | null = null;
    try {
      await waitListening(s, "t", 5201);
      let script = "";
      if (flows) {
        dir = liveDir = await Deno.makeTempDir({ prefix: "smolnet-b2-" });
        script = `${dir}/flows.ts`;
        await Deno.writeTextFile(`${dir}/echo.py`, ECHO_PY);
        await Deno.writeTextFile(script, FLOWS_TS);
        echo = spawnIn(s, ["python3", `${dir}/echo.py`, "198.51.100.7", "7"]);
        await waitListening(s, "t", 7);
      }
      const mbps = async (reverse: boolean) => {
        for (let attempt = 0;; attempt++) {
          const r = await run("ip", [
            "netns",
            "exec",
            c,
            "iperf3",
            "-c",
            "198.51.100.7",
            "-t",
            String(seconds),
            "-J",
            ...(reverse ? ["-R"] : []),
          ]);
          const got = r.code === 0 ? JSON.parse(r.stdout).end?.sum_received : undefined;
          if (got !== undefined) return got.bits_per_second / 8e6;
          // The server may still be busy with the previous test.
          if (attempt === 20) throw new Error(`iperf3 failed: ${r.stdout.slice(-300)}`);
          await new Promise((res) => setTimeout(res, 250));
        }
      };
      const dirs: { label: string; reverse: boolean }[] = [];
      if (direction !== "up") dirs.push({ label: "down", reverse: true });
      if (direction !== "down") dirs.push({ label: "up", reverse: false });
      for (const tree of order) {
        const proxy = spawnIn(p, [Deno.execPath(), ...tun2proxyArgs(tree.root, tun)]);
        try {
          await proxy.line(30_000, `${tree.name} tun2proxy start`);
          if (flows && tree.name === "new") {
            const f = flowChecks.proxy = await flowCheck(c, script);
            out.push(
              `${flowCount} concurrent echo flows through tun2proxy: ${f.ok} intact, ${f.bad} not, ${f.ms} ms`,
            );
          }
          for (const d of dirs) {
            const t0 = performance.now(), c0 = await cpuSeconds(proxy.pid);
            const m0 = await machineJiffies();
            const rate = await mbps(d.reverse);
            const wall = (performance.now() - t0) / 1000, used = await cpuSeconds(proxy.pid) - c0;
            const m1 = await machineJiffies();
            const idle = (m1.idle - m0.idle) / (m1.total - m0.total);
            const t = { mbps: rate, cpu: used / wall, perCpu: rate * wall / used, idle };
            note(`${tree.name} ${d.label}`, t);
            out.push(
              `${tree.name} tun2proxy ${d.label} ${t.mbps.toFixed(0)} MB/s, CPU ${
                (100 * t.cpu).toFixed(0)
              } %, ${t.perCpu.toFixed(0)} MB per CPU-second; machine idle ${
                (100 * t.idle).toFixed(0)
              } %`,
            );
          }
        } finally {
          await proxy.kill();
        }
      }
      await must("ip", ["-n", p, "rule", "del", "iif", vpc, "lookup", "100"]);
      if (flows) {
        const f = flowChecks.kernel = await flowCheck(c, script);
        out.push(
          `${flowCount} concurrent echo flows, kernel forwarding: ${f.ok} intact, ${f.bad} not, ${f.ms} ms`,
        );
      }
      for (const d of dirs) {
        const m0 = await machineJiffies();
        const rate = await mbps(d.reverse);
        const m1 = await machineJiffies();
        const idle = (m1.idle - m0.idle) / (m1.total - m0.total);
        note(`kernel ${d.label}`, { mbps: rate, cpu: 0, perCpu: 0, idle });
        out.push(
          `kernel forwarding ${d.label} ${rate.toFixed(0)} MB/s; machine idle ${
            (100 * idle).toFixed(0)
          } %`,
        );
      }
    } finally {
      await echo?.kill();
      await server.kill();
    }
    return out;
  } finally {
    for (const n of names) {
      liveNetns.delete(n);
      await deleteNetns(n);
    }
    if (dir !== "") {
      liveDir = "";
      await Deno.remove(dir, { recursive: true });
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(
  `tun2proxy --offload, one TCP flow x ${seconds} s, ${direction}${
    baseline === "" ? "" : `, old = ${baseline}`
  }; load average ${await loadavg()}`,
);
for (let i = 0; i < runs; i++) {
  // With a baseline, which tree goes first alternates from run to run.
  const order = i % 2 === 0 ? trees : [...trees].reverse();
  for (const line of await oneRun(order, i === 0 && flowCount > 0)) {
    console.log(`run ${i + 1}: ${line}`);
  }
  console.log(`run ${i + 1}: load average ${await loadavg()}`);
}
for (const d of ["down", "up"]) {
  const k = results.get(`kernel ${d}`);
  if (k === undefined) continue;
  const km = median(k.map((t) => t.mbps));
  for (const tree of trees) {
    const list = results.get(`${tree.name} ${d}`)!;
    const mb = median(list.map((t) => t.mbps)), pc = median(list.map((t) => t.perCpu));
    console.log(
      `median ${tree.name} ${d}: ${mb.toFixed(0)} MB/s (${(mb / km).toFixed(2)}x the kernel's ${
        km.toFixed(0)
      }), ${pc.toFixed(0)} MB per CPU-second`,
    );
  }
  if (trees.length === 2) {
    const [o, n] = trees.map((t) => results.get(`${t.name} ${d}`)!);
    const r = (f: (t: Transfer) => number) => (median(n!.map(f)) / median(o!.map(f))).toFixed(2);
    console.log(
      `new/old ${d}: ${r((t) => t.mbps)}x MB/s, ${r((t) => t.perCpu)}x MB per CPU-second`,
    );
  }
}
console.log(`load average after: ${await loadavg()}`);
if (jsonFile !== "") {
  const transfers = Object.fromEntries(results);
  Deno.writeTextFileSync(
    jsonFile,
    JSON.stringify({ seconds, runs, direction, flows: flowCount, transfers, flowChecks }) + "\n",
  );
}
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
