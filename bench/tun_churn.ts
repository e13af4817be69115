/**
 * Issue 15's churn targets over TUN: rounds of `--count` concurrent connections between a
 * `NetStack` on a TUN device and Linux in a network namespace this bench creates, each
 * connection downloading `--kib` KiB and closing, in both directions:
 *
 * - `in`: kernel clients (Deno's `Deno.connect`, run with `ip netns exec`) against our listener,
 *   which writes the bytes and closes;
 * - `out`: our clients against a kernel listener (Deno's `Deno.listen`) that does the same;
 * - `veth`: the kernel against itself, the same two Deno programs in two namespaces joined by a
 *   veth pair: the reference, measured in the same run.
 *
 * Per round: connections per second, connect times (median, p99, slowest, how many over 1 s and
 * 5 s), errors (resets, short or corrupt downloads), this process's RSS, heap and external memory,
 * the stack's sockets, TIME-WAIT records, drop counters and listener counters. After the rounds, a
 * `--burst` of concurrent connects in each direction (issue 15: none over 5 s), then the memory
 * after `--idle` seconds. Targets: RSS after the last round within 32 MB of the first round's end;
 * no connect of the burst over 5 s.
 *
 * Addresses: 192.0.2.1 (kernel) and 192.0.2.2 (us) on the TUN device; 198.51.100.1/.2 on the veth
 * pair. Everything is deleted by name on exit and on Ctrl-C.
 *
 * ```sh
 * deno run -A bench/tun_churn.ts [--count 2000] [--rounds 5] [--kib 16] [--burst 5000] [--idle 5]
 *   [--backlog 4096] [--kernel-queue N] [--reader-thread] [--only in|out|veth] [--json out.json] [--snapshot after_rounds.heapsnapshot]
 * ```
 *
 * @module
 */

import { NetStack, type TcpStream } from "../mod.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import { stateOf } from "../src/net/_stack_state.ts";
import { arg, loadText, positive } from "./_args.ts";
import { acquire, cleanUp, interruptHandler, isInterrupted, onCleanup } from "./_cleanup.ts";
import { spawnProc, withTimeout } from "./_proc.ts";
import { linkName, must, quietIpv6, randomHex, run } from "../tests/phy/_netns.ts";
import { connectAll, type ConnectReport, pattern } from "./_churn_common.ts";

const COUNT = positive("--count", 2000);
const ROUNDS = positive("--rounds", 5);
const BYTES = positive("--kib", 16) * 1024;
const BURST = positive("--burst", 5000);
const IDLE_S = Number(arg("--idle", "5"));
const ONLY = arg("--only", "");
const JSON_OUT = arg("--json", "");
const SNAPSHOT = arg("--snapshot", "");
/** Both listeners' backlog (the kernel caps it at net.core.somaxconn, 4096 by default). */
const BACKLOG = positive("--backlog", 4096);
/** The TUN's kernel queue toward us (`TunTapOptions.kernelQueueLen`; the device's default). */
const KERNEL_QUEUE = arg("--kernel-queue", "");
const PEER = new URL("./_churn_peer.ts", import.meta.url).pathname;
const MB = 1024 * 1024;
/**
 * The clients' read buffers come from a free list (as in `_churn_peer.ts`), so the application
 * adds no garbage per connection and the memory figures are the stack's.
 */
const READ_BUFFER = 16384;
const readBuffers: Uint8Array[] = [];
const onSignal = interruptHandler("\r\x1b[2Kinterrupted: removing namespaces and processes\n");

/** One round's line. */
interface Round extends ConnectReport {
  side: string;
  n: number;
  connPerS: number;
  rssMB: number;
  heapMB: number;
  heapTotalMB: number;
  externalMB: number;
  sockets: number;
  timeWait: number;
  drops: Record<string, number>;
  listener: Record<string, number>;
  /** The kernel's counters over the round (namespaces of its side), and the TUN's TX drops. */
  kernel: Record<string, number>;
}

function mem(): { rssMB: number; heapMB: number; heapTotalMB: number; externalMB: number } {
  // With --v8-flags=--expose-gc: collect first, so what remains is what is still referenced.
  (globalThis as { gc?: () => void }).gc?.();
  const m = Deno.memoryUsage();
  return {
    rssMB: m.rss / MB,
    heapMB: m.heapUsed / MB,
    heapTotalMB: m.heapTotal / MB,
    externalMB: m.external / MB,
  };
}

async function netns(tag: string): Promise<string> {
  const name = `smolnet-${tag}-${randomHex(8)}`;
  await acquire(
    () => must("ip", ["netns", "add", name]).then(() => name),
    (n) => run("ip", ["netns", "del", n]),
  );
  await must("ip", ["-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** Starts the peer program in `ns`; it is killed by PID at cleanup if still running. */
function peer(ns: string, args: string[]) {
  if (isInterrupted()) throw new Error("interrupted");
  const p = spawnProc("ip", ["netns", "exec", ns, Deno.execPath(), "run", "-A", PEER, ...args]);
  onCleanup(() => p.kill());
  return p;
}

/** Runs the kernel clients in `ns` against host:port and returns their report. */
async function kernelClients(ns: string, host: string, port: number, n: number) {
  const p = peer(ns, ["connect", host, String(port), String(n), String(BYTES)]);
  const line = await p.line(120_000, `kernel clients in ${ns}`);
  await p.kill();
  return JSON.parse(line) as ConnectReport;
}

/** Our side of `in`: accepts, writes the bytes, closes, until `stop` resolves. */
function serveOurs(stack: NetStack, port: number, data: Uint8Array) {
  const listener = stack.listen({ port, backlog: BACKLOG });
  const loop = (async () => {
    for (;;) {
      let c: TcpStream;
      try {
        c = await listener.accept();
      } catch {
        return; // the listener closed
      }
      (async () => {
        try {
          for (let off = 0; off < data.length;) off += await c.write(data.subarray(off));
        } catch { /* reset: the kernel client counts it */ }
        c.close();
      })();
    }
  })();
  return { listener, loop };
}

/** Our side of `out`: `n` connects at once, each reads to EOF, checks and closes. */
function ourClients(stack: NetStack, host: string, port: number, n: number) {
  return connectAll(
    n,
    BYTES,
    () => stack.connect({ hostname: host, port }),
    readBuffers,
    READ_BUFFER,
  );
}

function roundOf(
  side: string,
  n: number,
  r: ConnectReport,
  stack: NetStack | null,
  sockets: () => [number, number],
  listener: Record<string, number>,
  kernel: Record<string, number>,
): Round {
  const [s, tw] = sockets();
  const drops = stack === null ? {} : stack.counters.snapshot() as Record<string, number>;
  return {
    side,
    n,
    ...r,
    connPerS: n / (r.wall / 1000),
    ...(stack === null ? { rssMB: 0, heapMB: 0, heapTotalMB: 0, externalMB: 0 } : mem()),
    sockets: s,
    timeWait: tw,
    drops,
    listener,
    kernel,
  };
}

function print(r: Round): void {
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const ours = r.side === "veth"
    ? `peer RSS ${(r.rss / MB).toFixed(0)} MB`
    : `RSS ${r.rssMB.toFixed(1)} MB, heap ${r.heapMB.toFixed(1)} of ${
      r.heapTotalMB.toFixed(1)
    }, external ${r.externalMB.toFixed(1)}; sockets ${r.sockets}, TIME-WAIT ${r.timeWait}`;
  const drops = Object.entries(r.drops).filter(([k]) => k !== "rxFrames" && k !== "txFrames")
    .map(([k, v]) => `${k} ${v}`).join(" ");
  const kern = Object.entries(r.kernel).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`)
    .join(" ");
  const lst = Object.entries(r.listener).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`)
    .join(" ");
  console.log(
    `${r.side.padEnd(5)} ${r.n}: ${r.connPerS.toFixed(0)} conn/s (${
      (r.wall / 1000).toFixed(2)
    } s), connect median ${r.median.toFixed(0)} p99 ${r.p99.toFixed(0)} slowest ${
      r.slowest.toFixed(0)
    } ms, >1s ${r.over1s} >5s ${r.over5s} (per s ${
      r.perSecond.join(" ")
    }); ok ${r.complete}, errors: ${errs}; ${ours}` +
      (drops ? `; drops ${drops}` : "") + (lst ? `; listener ${lst}` : "") +
      (kern ? `; kernel ${kern}` : ""),
  );
}

/** Kernel counters of namespace `ns` worth watching here, and the TUN's drops toward us. */
const KERNEL_COUNTERS = [
  "TcpExtListenOverflows",
  "TcpExtListenDrops",
  "TcpExtTCPReqQFullDrop",
  "TcpExtSyncookiesSent",
  "TcpExtTCPTimeWaitOverflow",
  "TcpRetransSegs",
  "TcpOutRsts",
  "TcpExtTCPSynRetrans",
];

/** The kernel's counters in `ns` (cumulative) and the TX drops of `dev` there. */
async function kernelCounters(ns: string, dev: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const r = await run("ip", ["netns", "exec", ns, "nstat", "-asz", ...KERNEL_COUNTERS]);
  for (const line of r.stdout.split("\n")) {
    const m = /^(\w+)\s+(\d+)/.exec(line);
    if (m !== null) out[m[1]!.replace(/^TcpExt/, "")] = Number(m[2]);
  }
  const link = await run("ip", ["-n", ns, "-s", "link", "show", dev]);
  const tx = /TX:[^\n]*\n\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(link.stdout);
  if (tx !== null) out["tunTxDropped"] = Number(tx[4]);
  return out;
}

async function main(): Promise<void> {
  const results: Round[] = [];
  const data = pattern(BYTES);
  const want = (s: string) => ONLY === "" || ONLY === s;
  console.log(
    `${ROUNDS} rounds of ${COUNT} concurrent connections, ${
      BYTES / 1024
    } KiB each, burst ${BURST}; load ${loadText()}`,
  );

  // The TUN device, its kernel side in a namespace (192.0.2.1/24), our stack at 192.0.2.2.
  const ns = await netns("tch");
  const ifname = linkName("tc");
  const dev = await acquire(
    () =>
      TunTapDevice.open({
        name: ifname,
        mode: "tun",
        ...(KERNEL_QUEUE === "" ? {} : { kernelQueueLen: Number(KERNEL_QUEUE) }),
        ...(Deno.args.includes("--reader-thread") ? { readerThread: true } : {}),
      }),
    (d) => d.close(),
  );
  await must("ip", ["link", "set", "dev", ifname, "netns", ns]);
  await quietIpv6(ns, ifname);
  await must("ip", ["-n", ns, "addr", "add", "192.0.2.1/24", "dev", ifname]);
  await must("ip", ["-n", ns, "link", "set", ifname, "up"]);
  const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
  onCleanup(() => stack.close());
  const set = stateOf(stack)!.sockets;
  const sockets = (): [number, number] => [set.size, set.timeWaitCount];

  // The veth reference: two namespaces, 198.51.100.1 (clients) and .2 (server).
  let vA = "", vB = "";
  if (want("veth")) {
    vA = await netns("tva");
    vB = await netns("tvb");
    const a = linkName("va"), b = linkName("vb");
    await must("ip", ["-n", vA, "link", "add", a, "type", "veth", "peer", "name", b, "netns", vB]);
    for (const [n, i, ip] of [[vA, a, "198.51.100.1"], [vB, b, "198.51.100.2"]]) {
      await quietIpv6(n!, i!);
      await must("ip", ["-n", n!, "addr", "add", `${ip}/24`, "dev", i!]);
      await must("ip", ["-n", n!, "link", "set", i!, "up"]);
    }
  }

  // Kernel listeners: in the TUN namespace (for `out`) and on the veth server side.
  await peer(ns, ["serve", "192.0.2.1", "7001", String(BYTES), String(BACKLOG)])
    .line(30_000, "kernel listener");
  if (want("veth")) {
    await peer(vB, ["serve", "198.51.100.2", "7002", String(BYTES), String(BACKLOG)])
      .line(30_000, "veth listener");
  }
  const ours = serveOurs(stack, 7000, data);
  const info = () => ({ ...ours.listener.info } as unknown as Record<string, number>);

  const kernelOf = async (side: string) => {
    if (side !== "veth") return await kernelCounters(ns, ifname);
    const [a, b] = [await kernelCounters(vA, ""), await kernelCounters(vB, "")];
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
    return a;
  };
  const side = async (name: string, go: () => Promise<ConnectReport>, listener = {}) => {
    if (!want(name) || isInterrupted()) return;
    const k0 = await kernelOf(name);
    const r = await go();
    const k1 = await kernelOf(name);
    for (const k of Object.keys(k1)) k1[k] = k1[k]! - (k0[k] ?? 0);
    const row = name === "veth"
      ? roundOf(name, n0, r, null, () => [0, 0], {}, k1)
      : roundOf(name, n0, r, stack, sockets, name === "in" ? info() : listener, k1);
    results.push(row);
    print(row);
  };
  let n0 = 0;
  const oneRound = async (n: number) => {
    n0 = n;
    await side("in", () => kernelClients(ns, "192.0.2.2", 7000, n));
    await side(
      "out",
      () => withTimeout(ourClients(stack, "192.0.2.1", 7001, n), 120_000, "our clients"),
    );
    await side("veth", () => kernelClients(vA, "198.51.100.2", 7002, n));
  };

  const base = mem();
  console.log(`start: RSS ${base.rssMB.toFixed(1)} MB, heap ${base.heapMB.toFixed(1)}`);
  for (let round = 0; round < ROUNDS && !isInterrupted(); round++) await oneRound(COUNT);
  const rounds = results.filter((r) => r.side !== "veth");
  if (rounds.length > 0) {
    const first = rounds.slice(0, ONLY === "" ? 2 : 1).at(-1)!;
    const last = rounds.at(-1)!;
    console.log(
      `RSS after the first round ${first.rssMB.toFixed(1)} MB, after the last ${
        last.rssMB.toFixed(1)
      } MB: growth ${(last.rssMB - first.rssMB).toFixed(1)} MB (target <= 32)`,
    );
  }
  if (SNAPSHOT !== "") {
    const v8 = await import("node:v8");
    console.log(`heap snapshot: ${v8.writeHeapSnapshot(SNAPSHOT)}`);
  }
  if (BURST > 0 && !isInterrupted()) await oneRound(BURST);
  if (IDLE_S > 0 && !isInterrupted()) {
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const m = mem();
    const [s, tw] = sockets();
    console.log(
      `after ${IDLE_S} s idle: RSS ${m.rssMB.toFixed(1)} MB, heap ${
        m.heapMB.toFixed(1)
      }, external ${m.externalMB.toFixed(1)}; sockets ${s}, TIME-WAIT ${tw}`,
    );
  }
  console.log(`load ${loadText()}`);
  ours.listener.close();
  await ours.loop;
  if (JSON_OUT !== "") await Deno.writeTextFile(JSON_OUT, JSON.stringify(results, null, 2) + "\n");
}

Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);
try {
  await main();
} finally {
  await cleanUp();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}
