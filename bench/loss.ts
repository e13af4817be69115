/**
 * bench:loss — goodput under packet loss and reordering, smolnet against Linux, in one run
 * (issue 13). Root, /dev/net/tun, `ip`, `nft` (nftables), `ethtool` and python3 are needed.
 *
 * ```sh
 * deno task bench:loss [--quick] [--seconds S] [--runs N] [--drops 0,1,5] [--reorders 0,5]
 *                      [--depth D] [--buffer KiB] [--json FILE] [--only smolUp,smolDown,...]
 *                      [--relay-all]
 * deno task bench:loss --from-json FILE   # prints the table of a saved run again
 * ```
 *
 * `SMOLNET_LOSS_COUNTERS=1` prints the sender's counters after each smolnet upload (timeouts,
 * fast retransmits, tail loss probes, undos, SRTT, RTO, cwnd; SRTT percentiles and maximum over
 * the transfer; HyStart++ exits and CSS rounds) and the receiver's after each
 * download (segments, out-of-order, D-SACKs sent, PAWS and out-of-window drops) to stderr.
 * `SMOLNET_LOSS_TRACE=DIR` records each smolnet upload (`NetStack.trace`) and writes the trace of
 * one that had a retransmission timeout to DIR as JSON lines.
 *
 * Topology (bench/_loss_net.ts): namespaces `smolnet-loss-*` created by name and deleted in
 * `finally` and on SIGINT/SIGTERM. A router namespace forwards between a Linux client namespace
 * (veth), smolnet (a TUN device whose fd this process holds; the stack is a `NetStack` from the
 * package entry point) and a Linux server namespace (veth; with reordering, a second server
 * namespace behind the relay). TSO, GSO and GRO are off on every veth, so both contenders send
 * MTU-sized segments (MSS 1448 with timestamps).
 *
 * The same loss from the same mechanism for both contenders:
 * - drop: nftables in the router, `ip length > 100 numgen random mod 10000 < N drop` on the
 *   forward hook: data segments in either direction, pure ACKs pass. Each transfer resets the
 *   rule's counters and the table reports the drop rate measured over both contenders.
 * - reorder (the kernel has no netem): cells with reordering route the server's subnet through
 *   bench/_loss_relay.ts, a process between two TUN devices that holds each packet (both
 *   directions) back with the given probability until `--depth` (default 8) later packets have
 *   passed, or 2 ms. Linux↔Linux crosses the same relay, so its ceiling is the relay's too.
 *
 * Contenders per cell, each timed by its receiver (first byte after the command line to EOF):
 * - Linux CUBIC: python3 in the client namespace sends to python3 in the server namespace,
 *   `TCP_CONGESTION` cubic set on the socket and read back (a namespace's default controller
 *   can only be one the host allows, so it is not relied on);
 * - Linux BBR: the same with bbr, when the kernel offers it (else the column says why not);
 * - smolnet upload: smolnet (CUBIC, `--buffer` or the stack's default buffers) sends to the
 *   Linux server; smolnet download: the Linux server sends (CUBIC) to smolnet.
 *
 * Sizes: the lossless cell of each reorder setting runs for `--seconds` (default 10) per
 * transfer; its median goodput per contender sets that contender's transfer size for the lossy
 * cells of the same setting (about `--seconds` at the lossless rate). A transfer that has not
 * sent its size after 3 × `--seconds` stops sending there (marked `*`: goodput is then what
 * arrived over the time taken). Each figure is the median of `--runs` (default 3) transfers;
 * contenders take turns within a run. `--quick`: 1 s, 1 run.
 *
 * Ratios: our sender against Linux's (smolnet upload / Linux CUBIC, and / BBR), and our upload
 * against our download. Issue 13's target is ≥ 0.8 for both in every cell. The last column
 * separates loss handling from raw speed: the fraction of its own lossless goodput (same
 * reordering) that smolnet's sender keeps, over the fraction Linux CUBIC keeps.
 *
 * @module
 */

import { NetStack, type TcpStream } from "../mod.ts";
import { traceToJsonLines } from "../src/trace/mod.ts";
import {
  acquire,
  ADDR,
  buildTopology,
  cleanUp,
  dropCounters,
  installSignalHandlers,
  onCleanup,
  restartServer,
  run,
  SERVER_PORT,
  setDrop,
  setReorder,
  type Topology,
  wasInterrupted,
} from "./_loss_net.ts";
import { parseResult, PY_CLIENT, PY_SERVER } from "./_loss_peer.ts";
import { median } from "./_args.ts";
import { type Proc, spawnProc, withTimeout } from "./_proc.ts";

// --- arguments ------------------------------------------------------------------------------

interface Args {
  seconds: number;
  runs: number;
  drops: number[];
  reorders: number[];
  depth: number;
  bufferKiB: number | null;
  json: string | null;
  fromJson: string | null;
  /** `--only a,b`: the contenders to run (all by default). */
  only: Contender[] | null;
  /**
   * `--relay-all`: cells without reordering cross the relay too (holding nothing), so every
   * contender has a userspace TUN path: Linux↔Linux through the same two TUN devices and the
   * copying process that smolnet's own TUN path resembles.
   */
  relayAll?: boolean;
}

function numbers(s: string | undefined, what: string): number[] {
  const xs = (s ?? "").split(",").map(Number);
  if (xs.length === 0 || xs.some((x) => !(x >= 0 && x < 100))) {
    throw new RangeError(`Invalid ${what} "${s}": expected percentages like 0,1,5`);
  }
  return xs;
}

const CONTENDERS = ["linuxCubic", "linuxBbr", "smolUp", "smolDown"] as const;

function contenderList(s: string | undefined): Contender[] {
  const xs = (s ?? "").split(",");
  for (const x of xs) {
    if (!(CONTENDERS as readonly string[]).includes(x)) {
      throw new RangeError(`Invalid --only "${s}": expected some of ${CONTENDERS.join(",")}`);
    }
  }
  return xs as Contender[];
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes("--quick");
  const a: Args = {
    seconds: quick ? 1 : 10,
    runs: quick ? 1 : 3,
    drops: [0, 0.5, 1, 2, 5, 10],
    reorders: [0, 5],
    depth: 8,
    bufferKiB: null,
    json: null,
    fromJson: null,
    only: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === "--seconds") a.seconds = Number(argv[++i]);
    else if (x === "--runs") a.runs = Number(argv[++i]);
    else if (x === "--drops") a.drops = numbers(argv[++i], "--drops");
    else if (x === "--reorders") a.reorders = numbers(argv[++i], "--reorders");
    else if (x === "--depth") a.depth = Number(argv[++i]);
    else if (x === "--buffer") a.bufferKiB = Number(argv[++i]);
    else if (x === "--json") a.json = argv[++i] ?? null;
    else if (x === "--from-json") a.fromJson = argv[++i] ?? null;
    else if (x === "--only") a.only = contenderList(argv[++i]);
    else if (x === "--relay-all") a.relayAll = true;
    else if (x !== "--quick") throw new TypeError(`Unknown argument "${x}"`);
  }
  if (!(a.seconds > 0) || !(Number.isInteger(a.runs) && a.runs >= 1)) {
    throw new RangeError("Invalid --seconds or --runs");
  }
  if (!(Number.isInteger(a.depth) && a.depth >= 1)) throw new RangeError("Invalid --depth");
  if (a.bufferKiB !== null && !(a.bufferKiB >= 4)) throw new RangeError("Invalid --buffer");
  // The lossless cell sizes the others: it runs first in each reorder setting.
  a.drops = [...new Set([0, ...a.drops])].sort((x, y) => x - y);
  return a;
}

const ARGS = parseArgs(Deno.args);

// --- measurement ----------------------------------------------------------------------------

type Contender = typeof CONTENDERS[number];

const LABEL: Record<Contender, string> = {
  linuxCubic: "Linux→Linux CUBIC",
  linuxBbr: "Linux→Linux BBR",
  smolUp: "smolnet→Linux (upload)",
  smolDown: "Linux→smolnet (download)",
};

/** Table columns (MB/s). */
const COLUMN: Record<Contender, string> = {
  linuxCubic: "Linux CUBIC",
  linuxBbr: "Linux BBR",
  smolUp: "ours up",
  smolDown: "ours down",
};

interface Transfer {
  bytes: number;
  seconds: number;
  /** MB/s (10^6 bytes per second). */
  goodput: number;
  capped: boolean;
  dropSeen: number;
  dropped: number;
}

interface CellResult {
  drop: number;
  reorder: number;
  contender: Contender;
  size: number | null;
  transfers: Transfer[];
  median: number;
  capped: boolean;
  /** Transfers that failed (timeout, short count, error), with the reason. */
  failures?: string[];
}

/** Where upload traces go (`SMOLNET_LOSS_TRACE`), or `undefined`: not recorded. */
const TRACE_DIR = Deno.env.get("SMOLNET_LOSS_TRACE") || undefined;
/** `SMOLNET_LOSS_COUNTERS=1`: print the sender's counters and window samples after each upload. */
const COUNTERS = Deno.env.get("SMOLNET_LOSS_COUNTERS") === "1";

/**
 * This process's CPU time so far in ms, user and system apart (/proc/self/stat, all threads):
 * system time is the kernel's work inside the TUN reads and writes (with the forwarding it does
 * in this process's context), user time is smolnet's TCP and the runtime.
 */
function cpuTimes(): { user: number; sys: number } {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
    return { user: Number(f[11]) * 10, sys: Number(f[12]) * 10 };
  } catch {
    return { user: NaN, sys: NaN };
  }
}

/** `cpu user U ms + sys S ms = P % of one core over W ms` since `from` (taken at `t0`). */
function cpuLine(from: { user: number; sys: number }, t0: number): string {
  const now = cpuTimes();
  const wall = performance.now() - t0;
  const user = now.user - from.user;
  const sys = now.sys - from.sys;
  return `cpu user ${user} ms + sys ${sys} ms = ${(100 * (user + sys) / wall).toFixed(0)} % ` +
    `of one core over ${wall.toFixed(0)} ms`;
}
const encoder = new TextEncoder();
const CHUNK = 256 * 1024;
const block = new Uint8Array(CHUNK);
for (let o = 0; o < CHUNK; o += 65536) crypto.getRandomValues(block.subarray(o, o + 65536));
/** Size of a time-bound transfer (never reached). */
const UNBOUNDED = 2 ** 50;

function progress(text: string): void {
  Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}`));
}

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

function budgetMs(capSeconds: number): number {
  return capSeconds * 1000 + 120_000;
}

/** The Linux client's tcp_info samples (`SMOLNET_LOSS_COUNTERS=1`), see `PY_CLIENT`. */
interface LinuxSamples {
  cwnd: number[];
  flight: number[];
  rttUs: number[];
  recovering: number;
}

/** `p10/p50/p90` of `xs`, one decimal. */
function percentiles(xs: number[]): string {
  const v = xs.toSorted((a, b) => a - b);
  const at = (p: number) => (v[Math.floor(p * (v.length - 1))] ?? 0).toFixed(1);
  return `${at(0.1)}/${at(0.5)}/${at(0.9)}`;
}

/** `SMOLNET_LOSS_COUNTERS=1`: the Linux sender's struct tcp_info at the end of a transfer. */
function printLinuxInfo(who: string, bytes: number, info: Record<string, number> | undefined) {
  if (info === undefined) return;
  const busy = info.busyUs ?? 0;
  const share = (x: number | undefined) =>
    busy > 0 ? `${(100 * (x ?? 0) / busy).toFixed(0)} %` : "-";
  console.error(
    `\n${who} ${bytes} B: retrans ${info.retrans} of ${info.dataSegsOut} data segments, ` +
      `dsackDups ${info.dsackDups} reordSeen ${info.reordSeen} reordering ${info.reordering} ` +
      `rtos ${info.rtos} cwnd ${info.cwnd} ssthresh ${info.ssthresh} rtt ${info.rttUs} us ` +
      `minRtt ${info.minRttUs} us; rwnd-limited ${share(info.rwndLimitedUs)}, sndbuf-limited ` +
      `${share(info.sndbufLimitedUs)} of ${(busy / 1e6).toFixed(2)} s busy`,
  );
}

async function linuxSend(
  topo: Topology,
  server: Proc,
  host: string,
  cc: string,
  size: number,
  cap: number,
): Promise<{ bytes: number; seconds: number }> {
  const client = await acquire(
    () =>
      Promise.resolve(spawnProc("ip", [
        "netns",
        "exec",
        topo.client,
        "python3",
        "-u",
        "-c",
        PY_CLIENT,
        host,
        String(SERVER_PORT),
        String(size),
        cc,
        String(cap),
        COUNTERS ? "1" : "0",
      ])),
    (p) => p.kill(),
  );
  const sent = parseResult<
    { bytes: number; cc: string; info?: Record<string, number>; samples?: LinuxSamples }
  >(
    await client.line(budgetMs(cap), `Linux ${cc} client`),
    "Linux client",
  );
  if (sent.cc !== cc) throw new Error(`Linux client asked for ${cc}, got ${sent.cc}`);
  if (COUNTERS) {
    printLinuxInfo(`Linux ${cc} -> Linux`, sent.bytes, sent.info);
    const s = sent.samples;
    if (s !== undefined) {
      console.error(
        `  sampled every 2 ms: segments p10/50/90: cwnd ${percentiles(s.cwnd)} flight ` +
          `${percentiles(s.flight)}; srtt us ${percentiles(s.rttUs)}; in recovery ` +
          `${(100 * s.recovering / (s.cwnd.length || 1)).toFixed(0)} % of ${s.cwnd.length} samples`,
      );
    }
  }
  const got = parseResult<{ bytes: number; seconds: number }>(
    await server.line(30_000, "server result"),
    "server",
  );
  if (got.bytes !== sent.bytes) {
    throw new Error(`Linux ${cc}: sent ${sent.bytes}, server received ${got.bytes}`);
  }
  await client.status;
  return got;
}

async function smolUpload(
  stack: NetStack,
  server: Proc,
  host: string,
  size: number,
  cap: number,
): Promise<{ bytes: number; seconds: number }> {
  const conn = await stack.connect({ hostname: host, port: SERVER_PORT });
  const cpu0 = cpuTimes();
  const wall0 = performance.now();
  const rec = TRACE_DIR === undefined ? null : stack.trace(conn, { capacity: 1 << 20 });
  let sent = 0;
  // With the counters: cwnd, flight and the unsent queue sampled every 2 ms, to tell a window
  // kept small by the congestion controller from a sender limited by the device or the CPU.
  const samples: {
    cwnd: number[];
    flight: number[];
    queued: number[];
    srtt: number[];
    recovering: number;
  } = {
    cwnd: [],
    flight: [],
    queued: [],
    srtt: [],
    recovering: 0,
  };
  const sampler = COUNTERS
    ? setInterval(() => {
      const i = conn.info;
      const flight = (i.sndNxt - i.sndUna) >>> 0;
      samples.cwnd.push(i.cwnd / i.mss);
      samples.flight.push(flight / i.mss);
      samples.queued.push((i.sendQueue - flight) / i.mss);
      if (i.srtt !== null) samples.srtt.push(i.srtt);
      if (i.inRecovery) samples.recovering++;
    }, 2)
    : null;
  try {
    await withTimeout(
      (async () => {
        await writeAll(conn, encoder.encode("recv\n"));
        const end = performance.now() + cap * 1000;
        while (sent < size && performance.now() < end) {
          const chunk = block.subarray(0, Math.min(CHUNK, size - sent));
          await writeAll(conn, chunk);
          sent += chunk.length;
        }
        await conn.closeWrite();
        while ((await conn.read(new Uint8Array(16))) !== null) { /* the server sends nothing */ }
      })(),
      budgetMs(cap),
      "smolnet upload",
    );
  } finally {
    if (sampler !== null) {
      clearInterval(sampler);
      const i = conn.info;
      const q = percentiles;
      console.error(
        `\nup ${sent} B: rtos ${i.rtos} fastRetransmits ${i.fastRetransmits} tlpProbes ` +
          `${i.tlpProbes} tlpRecoveries ${i.tlpRecoveries} spuriousUndos ${i.spuriousUndos} ` +
          `dsacksReceived ${i.dsacksReceived} dsackIgnored ${i.dsackIgnored} rackLost ` +
          `${i.rackLost} retransmits ${i.retransmits} segmentsOut ${i.segmentsOut} srtt ` +
          `${i.srtt} rto ${i.rto} cwnd ${i.cwnd} ssthresh ${i.ssthresh}; segments p10/50/90: ` +
          `cwnd ${q(samples.cwnd)} flight ${q(samples.flight)} unsent ${q(samples.queued)}; ` +
          `srtt ms p10/50/90 ${q(samples.srtt)} max ${Math.max(0, ...samples.srtt).toFixed(1)}; ` +
          `hystart exits ${i.hystartExits} cssRounds ${i.hystartCssRounds} cssResumes ` +
          `${i.hystartCssResumes}; ` +
          `in recovery ${(100 * samples.recovering / (samples.cwnd.length || 1)).toFixed(0)} % ` +
          `of ${samples.cwnd.length} samples; ${cpuLine(cpu0, wall0)}`,
      );
    }
    if (rec !== null && conn.info.rtos > 0) {
      const file = `${TRACE_DIR}/up_${Date.now()}.jsonl`;
      await Deno.writeTextFile(file, traceToJsonLines(rec.connection()));
      console.error(`trace of an upload with ${conn.info.rtos} timeouts: ${file}`);
    }
    conn.close();
  }
  const got = parseResult<{ bytes: number; seconds: number }>(
    await server.line(30_000, "server result"),
    "server",
  );
  if (got.bytes !== sent) throw new Error(`smolnet upload: sent ${sent}, received ${got.bytes}`);
  return got;
}

async function smolDownload(
  stack: NetStack,
  server: Proc,
  host: string,
  size: number,
  cap: number,
): Promise<{ bytes: number; seconds: number }> {
  const conn = await stack.connect({ hostname: host, port: SERVER_PORT });
  const cpu0 = cpuTimes();
  const wall0 = performance.now();
  let bytes = 0;
  let seconds = 0;
  try {
    await withTimeout(
      (async () => {
        await writeAll(conn, encoder.encode(`send ${size} cubic ${cap}\n`));
        const t0 = performance.now();
        const buf = new Uint8Array(256 * 1024);
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) bytes += n;
        seconds = (performance.now() - t0) / 1000;
        await conn.closeWrite();
      })(),
      budgetMs(cap),
      "smolnet download",
    );
  } finally {
    if (COUNTERS) {
      const i = conn.info;
      console.error(
        `\ndown ${bytes} B in ${seconds.toFixed(2)} s: segmentsIn ${i.segmentsIn} segmentsOut ` +
          `${i.segmentsOut} outOfOrderSegments ${i.outOfOrderSegments} dsacksSent ${i.dsacksSent} ` +
          `droppedPaws ${i.droppedPaws} droppedOutOfWindow ${i.droppedOutOfWindow} ` +
          `droppedAssembler ${i.droppedAssembler} oowAcksLimited ${i.oowAcksLimited} ` +
          `recvCapacity ${i.recvCapacity} srtt ${i.srtt}; ${cpuLine(cpu0, wall0)}`,
      );
    }
    conn.close();
  }
  const sent = parseResult<{ bytes: number; cc: string; info?: Record<string, number> }>(
    await server.line(30_000, "server result"),
    "server",
  );
  if (COUNTERS) printLinuxInfo("Linux cubic -> smolnet", sent.bytes, sent.info);
  if (sent.cc !== "cubic") throw new Error(`Linux server asked for cubic, got ${sent.cc}`);
  if (sent.bytes !== bytes) {
    throw new Error(`smolnet download: server sent ${sent.bytes}, received ${bytes}`);
  }
  return { bytes, seconds };
}

async function transfer(
  topo: Topology,
  stack: NetStack,
  who: Contender,
  reorder: number,
  drop: number,
  size: number,
  cap: number,
): Promise<Transfer> {
  const relayed = reorder > 0 || ARGS.relayAll === true;
  const server = relayed ? topo.servers.relayed : topo.servers.direct;
  const host = relayed ? ADDR.relayServer : ADDR.server;
  await setDrop(topo.router, drop);
  let r: { bytes: number; seconds: number };
  if (who === "linuxCubic") r = await linuxSend(topo, server, host, "cubic", size, cap);
  else if (who === "linuxBbr") r = await linuxSend(topo, server, host, "bbr", size, cap);
  else if (who === "smolUp") r = await smolUpload(stack, server, host, size, cap);
  else r = await smolDownload(stack, server, host, size, cap);
  const c = await dropCounters(topo.router);
  return {
    bytes: r.bytes,
    seconds: r.seconds,
    goodput: r.bytes / r.seconds / 1e6,
    capped: r.bytes < size && size !== UNBOUNDED,
    dropSeen: c.seen,
    dropped: c.dropped,
  };
}

// --- output ---------------------------------------------------------------------------------

function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "–";
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !(b > 0)) return "–";
  return `${(a / b).toFixed(2)}×`;
}

function table(report: Report): string {
  const { cells, contenders } = report;
  const get = (d: number, r: number, c: Contender) =>
    cells.find((x) => x.drop === d && x.reorder === r && x.contender === c);
  const cell = (x: CellResult | undefined) => {
    if (x === undefined) return "–";
    const failed = x.failures?.length ?? 0;
    return `${fmt(x.median)}${x.capped ? "*" : ""}${failed > 0 ? ` (${failed} failed)` : ""}`;
  };
  const bbr = contenders.includes("linuxBbr");
  const cols = [
    "drop %",
    "reorder %",
    "measured drop %",
    ...contenders.map((c) => COLUMN[c]),
    "up / CUBIC",
    ...(bbr ? ["up / BBR"] : []),
    "up / down",
    "retained up / CUBIC",
  ];
  const lines = [`| ${cols.join(" | ")} |`, `|${cols.map(() => "---:").join("|")}|`];
  for (const r of report.args.reorders) {
    for (const d of report.args.drops) {
      const rs = contenders.map((c) => get(d, r, c));
      let seen = 0;
      let dropped = 0;
      for (const x of rs) {
        for (const t of x?.transfers ?? []) {
          seen += t.dropSeen;
          dropped += t.dropped;
        }
      }
      // A median is NaN (null once read back from JSON) when every transfer of the cell failed.
      const m = (dd: number, c: Contender): number | undefined => {
        const v = get(dd, r, c)?.median;
        return typeof v === "number" && Number.isFinite(v) ? v : undefined;
      };
      const up = m(d, "smolUp");
      const cubic = m(d, "linuxCubic");
      // Each sender's goodput as a fraction of its own lossless goodput (same reordering).
      const upKept = up === undefined ? undefined : up / (m(0, "smolUp") ?? NaN);
      const cubicKept = cubic === undefined ? undefined : cubic / (m(0, "linuxCubic") ?? NaN);
      lines.push(
        `| ${
          [
            d,
            r,
            seen > 0 ? (100 * dropped / seen).toFixed(2) : "–",
            ...rs.map(cell),
            ratio(up, cubic),
            ...(bbr ? [ratio(up, m(d, "linuxBbr"))] : []),
            ratio(up, m(d, "smolDown")),
            d === 0 ? "–" : ratio(upKept, cubicKept),
          ].join(" | ")
        } |`,
      );
    }
  }
  return lines.join("\n");
}

/** Everything a run measured; written with `--json`, printed again with `--from-json`. */
interface Report {
  started: string;
  commit: string;
  command: string;
  args: Args;
  load: [number, number];
  bbr: boolean;
  defaultCc: string;
  contenders: Contender[];
  relay: { forwarded: number; held: number; txDrops: number };
  cells: CellResult[];
}

function printReport(report: Report): void {
  const a = report.args;
  const smolTcp = a.bufferKiB === null
    ? "the stack's default buffers"
    : `${a.bufferKiB} KiB buffers`;
  console.log(
    `bench:loss ${report.started} commit ${report.commit.slice(0, 12)}: \`${report.command}\`; ` +
      `${a.runs} run(s) per cell, median MB/s (Linux → Linux, ours up = smolnet → Linux, ours ` +
      `down = Linux CUBIC → smolnet); ${a.seconds} s per transfer at the lossless ` +
      `rate (* = stopped sending at ${3 * a.seconds} s); reorder depth ${a.depth}; smolnet ` +
      `CUBIC with ${smolTcp}; Linux sockets set TCP_CONGESTION (namespace default ` +
      `${report.defaultCc}); load ${report.load[0].toFixed(2)} → ${report.load[1].toFixed(2)}` +
      (report.bbr ? "" : "; no BBR column: the kernel does not offer bbr") +
      (a.relayAll === true ? "; every cell through the relay (--relay-all)" : ""),
  );
  console.log(table(report));
  for (const c of report.cells) {
    for (const f of c.failures ?? []) {
      console.log(`failed: ${LABEL[c.contender]}, drop ${c.drop} %, reorder ${c.reorder} %: ${f}`);
    }
  }
  console.log(
    `relay: ${report.relay.held} packets held back, ${report.relay.forwarded} passed ` +
      `directly, ${report.relay.txDrops} write drops`,
  );
}

async function gitCommit(): Promise<string> {
  const r = await run("git", ["-C", new URL("..", import.meta.url).pathname, "rev-parse", "HEAD"]);
  return r.code === 0 ? r.stdout.trim() : "unknown";
}

function load(): number {
  try {
    return Deno.loadavg()[0]!;
  } catch {
    return NaN;
  }
}

// --- main -----------------------------------------------------------------------------------

function unavailable(): string | null {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root: `ip netns`, TUNSETIFF and nft need CAP_NET_ADMIN";
  for (
    const [cmd, arg] of [["ip", "-V"], ["nft", "-v"], ["ethtool", "--version"], [
      "python3",
      "-V",
    ]]
  ) {
    try {
      const ok = new Deno.Command(cmd!, { args: [arg!], stdout: "null", stderr: "null" })
        .outputSync().success;
      if (!ok) return `\`${cmd} ${arg}\` fails`;
    } catch {
      return `no \`${cmd}\` on PATH (apt-get install iproute2 nftables ethtool python3)`;
    }
  }
  return null;
}

async function main(): Promise<void> {
  if (ARGS.fromJson !== null) {
    const r = JSON.parse(await Deno.readTextFile(ARGS.fromJson)) as Partial<Report> & Report;
    // Files from the first version lack these two.
    r.contenders ??= r.bbr
      ? ["linuxCubic", "linuxBbr", "smolUp", "smolDown"]
      : ["linuxCubic", "smolUp", "smolDown"];
    r.defaultCc ??= "not recorded";
    printReport(r);
    return;
  }
  const why = unavailable();
  if (why !== null) {
    console.error(`bench:loss cannot run here: ${why}`);
    Deno.exit(2);
  }
  installSignalHandlers();
  const started = new Date().toISOString();
  const load0 = load();
  const commit = await gitCommit();
  const topo = await buildTopology(PY_SERVER, (s) => progress(`setup: ${s}`));
  const bbr = topo.availableCc.includes("bbr");
  const contenders: Contender[] =
    (bbr
      ? ["linuxCubic", "linuxBbr", "smolUp", "smolDown"] as Contender[]
      : ["linuxCubic", "smolUp", "smolDown"] as Contender[])
      .filter((c) => ARGS.only === null || ARGS.only.includes(c));
  const tcp = {
    congestion: "cubic" as const,
    ...(ARGS.bufferKiB !== null
      ? { rxBufferSize: ARGS.bufferKiB * 1024, txBufferSize: ARGS.bufferKiB * 1024 }
      : {}),
  };
  const stack = new NetStack({
    device: topo.smolDevice,
    addresses: [`${ADDR.smol}/28`],
    gateways: [ADDR.routerSmol],
    tcp,
    seed: 13,
  });
  onCleanup(() => stack.close());

  // Untimed warm-up: V8 optimises smolnet's hot paths before the first timed transfer.
  progress("warm-up: smolnet upload and download, 2 s each");
  await setReorder(topo.relay, 0, ARGS.depth);
  await transfer(topo, stack, "smolUp", 0, 0, UNBOUNDED, 2);
  await transfer(topo, stack, "smolDown", 0, 0, UNBOUNDED, 2);

  const results: CellResult[] = [];
  const totalCells = ARGS.reorders.length * ARGS.drops.length;
  let cellNo = 0;
  for (const reorder of ARGS.reorders) {
    await setReorder(topo.relay, reorder, ARGS.depth);
    const sizes = new Map<Contender, number>();
    for (const drop of ARGS.drops) {
      cellNo++;
      const transfers = new Map<Contender, Transfer[]>(contenders.map((c) => [c, []]));
      const failures = new Map<Contender, string[]>(contenders.map((c) => [c, []]));
      for (let r = 0; r < ARGS.runs; r++) {
        for (let k = 0; k < contenders.length; k++) {
          if (wasInterrupted()) return;
          // Take turns: a different contender starts each run.
          const who = contenders[(k + r) % contenders.length]!;
          const size = sizes.get(who) ?? UNBOUNDED;
          const cap = size === UNBOUNDED ? ARGS.seconds : 3 * ARGS.seconds;
          progress(
            `cell ${cellNo}/${totalCells} drop ${drop} % reorder ${reorder} %: ` +
              `${LABEL[who]}, run ${r + 1}/${ARGS.runs}`,
          );
          try {
            transfers.get(who)!.push(await transfer(topo, stack, who, reorder, drop, size, cap));
          } catch (e) {
            if (wasInterrupted()) return;
            // One failed transfer is a result too: record it, resynchronise, go on.
            const msg = (e as Error).message;
            failures.get(who)!.push(msg);
            console.error(`\n${LABEL[who]}, drop ${drop} %, reorder ${reorder} %: ${msg}`);
            await restartServer(topo, reorder > 0 || ARGS.relayAll === true);
          }
        }
      }
      for (const c of contenders) {
        const ts = transfers.get(c)!;
        const m = ts.length === 0 ? NaN : median(ts.map((t) => t.goodput));
        results.push({
          drop,
          reorder,
          contender: c,
          size: sizes.get(c) ?? null,
          transfers: ts,
          median: m,
          capped: ts.some((t) => t.capped),
          failures: failures.get(c)!,
        });
        if (drop === 0 && ts.length > 0) {
          sizes.set(c, Math.max(1 << 20, Math.round(m * 1e6 * ARGS.seconds)));
        }
      }
    }
  }
  const relayStats = parseResult<{ forwarded: number; held: number; txDrops: number }>(
    await (async () => {
      await topo.relay.send("stats");
      return await topo.relay.line(10_000, "relay stats");
    })(),
    "relay",
  );
  progress("");
  const report: Report = {
    started,
    commit,
    command: ["deno task bench:loss", ...Deno.args].join(" "),
    args: ARGS,
    load: [load0, load()],
    bbr,
    defaultCc: topo.defaultCc,
    contenders,
    relay: relayStats,
    cells: results.map((r) => ({
      ...r,
      transfers: r.transfers.map((t) => ({
        ...t,
        goodput: Number(t.goodput.toFixed(3)),
        seconds: Number(t.seconds.toFixed(3)),
      })),
      median: Number(r.median.toFixed(3)), // NaN (no successful transfer) is written as null
    })),
  };
  printReport(report);
  if (ARGS.json !== null) {
    await Deno.writeTextFile(ARGS.json, JSON.stringify(report, null, 1) + "\n");
  }
}

try {
  await main();
} finally {
  if (!wasInterrupted()) await cleanUp();
}
