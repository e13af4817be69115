/**
 * smolnet against Deno's kernel TCP, in one run on one machine (issue 7).
 *
 * ```sh
 * deno run --allow-net --allow-write --allow-sys --v8-flags=--expose-gc bench/throughput.ts \
 *   [--quick] [--runs N] [--mib N] [--json FILE]
 * deno run -A bench/throughput.ts --tun [--tun-mib N] ...   # adds the TUN and UDP tunnel rows
 * deno run -A bench/throughput.ts --tun-only [--tun-mib N] ...   # only those rows and the veth ceiling
 * ```
 *
 * Rows:
 * - bulk transfer (default 1 GiB) between two `NetStack`s in one process over `linkPair`, at MTU
 *   1500 and 65535, device checksums on and off; the same through `Deno.listen`/`Deno.connect`
 *   on 127.0.0.1, and the ratio smolnet/kernel;
 * - connection setup (connect + accept + close of both ends) per second, smolnet and kernel;
 * - 64-byte request/response round trips per second (no Nagle), smolnet and kernel;
 * - heap bytes per idle established connection (10,000 connections in one stack, both ends
 *   counted as two connections), after GC when `--v8-flags=--expose-gc` is given.
 * - the core at scale (`bench/_core_scale.ts`, 100,000 connections, 5,000 with `--quick`): heap
 *   + external per idle connection end, the cost of a poll with that many idle connections
 *   against a poll with 10, and the memory of as many TIME-WAIT records.
 * - with `--tun` (root, /dev/net/tun, `ip`, python3; `-A`): smolnet↔kernel through a TUN device
 *   at MTU 1500 in a namespace `smolnet-bench-<random>` the script creates (kernel 192.0.2.1,
 *   smolnet 192.0.2.2), bulk download and upload of `--tun-mib` (default 256, 32 with `--quick`)
 *   to/from a python3 server in the namespace, byte counts checked on every run and SHA-256 on an
 *   untimed check transfer per direction, with a plain TUN, a plain TUN with its writer thread
 *   (`writerThread`), and one opened with offloads (IFF_VNET_HDR, TSO4/TSO6: 64 KiB frames each
 *   way); beside them, as the ceiling, Linux to
 *   Linux TCP (iperf3, one stream) over a veth pair between two more namespaces, with the default
 *   offloads and with TSO/GSO/GRO off (needs iperf3 and ethtool); and the UDP tunnel between two processes (a child
 *   `bench/_udp_tunnel_peer.ts` sinks TCP over a `UdpTunnelDevice` on 127.0.0.1) against raw
 *   `Deno.listenDatagram` throughput with 1400-byte datagrams (at most 64 unacknowledged)
 *   between the same two processes. The sending side runs in this process when it has
 *   `--unstable-net`, else in a second child. Namespace, device and processes are removed in
 *   `finally` and on SIGINT/SIGTERM; children also exit when their stdin closes.
 *
 * Each figure is the median of `--runs` runs (default 5) with the minimum and maximum. The
 * 1-minute load average is printed before and after, since figures from a loaded machine are
 * not comparable. An untimed warm-up transfer runs first (V8 optimises the hot path on a
 * background thread, late on a busy machine). `--quick` (CI smoke) moves 16 MiB once and runs
 * small counts.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { linkPair, NetStack } from "../mod.ts";
import type { TcpStream } from "../mod.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import { coreScale } from "./_core_scale.ts";
import {
  DATAGRAM,
  defaultFlowWindow,
  freeUdpPorts,
  TunnelEnd,
  type TunnelResult,
} from "./_udp_tunnel_peer.ts";
import { type Proc, spawnProc as startProc, withTimeout } from "./_proc.ts";

// --- arguments ------------------------------------------------------------------------------

interface Args {
  quick: boolean;
  runs: number;
  bytes: number;
  json: string | null;
  tun: boolean;
  /** Only the TUN, veth ceiling and UDP tunnel rows (`--tun-only`). */
  tunOnly: boolean;
  tunBytes: number;
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes("--quick");
  let runs = quick ? 1 : 5;
  let mib = quick ? 16 : 1024;
  let json: string | null = null;
  let tun = false;
  let tunOnly = false;
  let tunMib = quick ? 32 : 256;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--runs") runs = Number(argv[++i]);
    else if (a === "--mib") mib = Number(argv[++i]);
    else if (a === "--json") json = argv[++i] ?? null;
    else if (a === "--tun") tun = true;
    else if (a === "--tun-only") tun = tunOnly = true;
    else if (a === "--tun-mib") tunMib = Number(argv[++i]);
    else if (a !== "--quick") throw new TypeError(`Unknown argument "${a}"`);
  }
  if (!(runs >= 1) || !(mib > 0) || !(tunMib > 0)) {
    throw new RangeError("Invalid --runs, --mib or --tun-mib");
  }
  return {
    quick,
    runs,
    bytes: Math.round(mib * 1024 * 1024),
    json,
    tun,
    tunOnly,
    tunBytes: Math.round(tunMib * 1024 * 1024),
  };
}

const ARGS = parseArgs(Deno.args);
const SETUP_COUNT = ARGS.quick ? 50 : 1000;
const RR_COUNT = ARGS.quick ? 500 : 10_000;
const IDLE_COUNT = ARGS.quick ? 500 : 10_000;
const SCALE_COUNT = ARGS.quick ? 5_000 : 100_000;
const CHUNK = 64 * 1024;
/** Socket buffers of the smolnet stacks in the bulk rows (Linux loopback autotunes to MiBs). */
const BULK_TCP = { rxBufferSize: 1 << 20, txBufferSize: 1 << 20 } as const;

// --- progress and statistics ----------------------------------------------------------------

const encoder = new TextEncoder();
let progressStep = 0;
const progressTotal = (ARGS.tunOnly ? 0 : 4 + 1 + 2 + 2 + 1 + 1) + (ARGS.tun ? 10 : 0);

function progress(text: string): void {
  const line = `[${progressStep}/${progressTotal}] ${text}`;
  Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
}

function load(): number {
  try {
    return Deno.loadavg()[0]!;
  } catch {
    return NaN;
  }
}

interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
}

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

async function repeat(label: string, fn: () => Promise<number>): Promise<Stat> {
  const xs: number[] = [];
  for (let r = 0; r < ARGS.runs; r++) {
    progress(`${label}: run ${r + 1}/${ARGS.runs}${xs.length ? ` (last ${fmt(xs.at(-1)!)})` : ""}`);
    xs.push(await fn());
  }
  progressStep++;
  return stat(xs);
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// --- smolnet --------------------------------------------------------------------------------

interface Pair {
  server: NetStack;
  client: NetStack;
  close(): Promise<void>;
}

async function smolPair(mtu: number, checksum: boolean, tcp = {}): Promise<Pair> {
  const c = { ipv4: checksum, udp: checksum, tcp: checksum, icmpv4: checksum, icmpv6: checksum };
  const [left, right] = linkPair({ mtu, checksum: c });
  const server = new NetStack({ device: left, addresses: ["192.0.2.1/24"], tcp, seed: 1 });
  const client = new NetStack({ device: right, addresses: ["192.0.2.2/24"], tcp, seed: 2 });
  // Let each stack's first poll see its device, so the MSS offered in the SYN follows the MTU.
  await tick();
  await tick();
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

async function bulk(
  listen: () => { accept(): Promise<Deno.TcpConn | TcpStream>; close(): void },
  connect: () => Promise<Deno.TcpConn | TcpStream>,
  total: number,
): Promise<number> {
  const listener = listen();
  const pending = listener.accept();
  const conn = await connect();
  const peer = await pending;
  const buf = new Uint8Array(CHUNK);
  const data = new Uint8Array(CHUNK).fill(0x5a);
  const t0 = performance.now();
  const reader = (async () => {
    let got = 0;
    while (got < total) {
      const n = await peer.read(buf);
      if (n === null) break;
      got += n;
    }
    return got;
  })();
  let sent = 0;
  while (sent < total) sent += await conn.write(data.subarray(0, Math.min(CHUNK, total - sent)));
  const got = await reader;
  const seconds = (performance.now() - t0) / 1000;
  if (got !== total) throw new Error(`Received ${got} of ${total} bytes`);
  conn.close();
  peer.close();
  listener.close();
  return total / seconds / 1e6;
}

async function smolBulk(mtu: number, checksum: boolean, bytes = ARGS.bytes): Promise<number> {
  const p = await smolPair(mtu, checksum, BULK_TCP);
  try {
    return await bulk(
      () => p.server.listen({ port: 5001 }),
      () => p.client.connect({ hostname: "192.0.2.1", port: 5001 }),
      bytes,
    );
  } finally {
    await p.close();
  }
}

function kernelBulk(bytes = ARGS.bytes): Promise<number> {
  let port = 0;
  return bulk(
    () => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      port = l.addr.port;
      return l;
    },
    () => Deno.connect({ hostname: "127.0.0.1", port }),
    bytes,
  );
}

async function setupRate(
  listen: () => { accept(): Promise<Deno.TcpConn | TcpStream>; close(): void },
  connect: () => Promise<Deno.TcpConn | TcpStream>,
): Promise<number> {
  const listener = listen();
  const t0 = performance.now();
  for (let i = 0; i < SETUP_COUNT; i++) {
    const pending = listener.accept();
    const conn = await connect();
    const peer = await pending;
    conn.close();
    peer.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  listener.close();
  return SETUP_COUNT / seconds;
}

async function smolSetup(): Promise<number> {
  const p = await smolPair(1500, true);
  try {
    return await setupRate(
      () => p.server.listen({ port: 5002 }),
      () => p.client.connect({ hostname: "192.0.2.1", port: 5002 }),
    );
  } finally {
    await p.close();
  }
}

function kernelSetup(): Promise<number> {
  let port = 0;
  return setupRate(() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = l.addr.port;
    return l;
  }, () => Deno.connect({ hostname: "127.0.0.1", port }));
}

async function readFull(c: Deno.TcpConn | TcpStream, buf: Uint8Array): Promise<void> {
  let at = 0;
  while (at < buf.length) {
    const n = await c.read(buf.subarray(at));
    if (n === null) throw new Error("Unexpected end of stream");
    at += n;
  }
}

async function roundTrips(
  listen: () => { accept(): Promise<Deno.TcpConn | TcpStream>; close(): void },
  connect: () => Promise<Deno.TcpConn | TcpStream>,
): Promise<number> {
  const listener = listen();
  const pending = listener.accept();
  const conn = await connect();
  const peer = await pending;
  conn.setNoDelay(true);
  peer.setNoDelay(true);
  const echo = (async () => {
    const b = new Uint8Array(64);
    for (let i = 0; i < RR_COUNT; i++) {
      await readFull(peer, b);
      await peer.write(b);
    }
  })();
  const msg = new Uint8Array(64).fill(1), back = new Uint8Array(64);
  const t0 = performance.now();
  for (let i = 0; i < RR_COUNT; i++) {
    await conn.write(msg);
    await readFull(conn, back);
  }
  const seconds = (performance.now() - t0) / 1000;
  await echo;
  conn.close();
  peer.close();
  listener.close();
  return RR_COUNT / seconds;
}

async function smolRr(): Promise<number> {
  const p = await smolPair(1500, true);
  try {
    return await roundTrips(
      () => p.server.listen({ port: 5003 }),
      () => p.client.connect({ hostname: "192.0.2.1", port: 5003 }),
    );
  } finally {
    await p.close();
  }
}

function kernelRr(): Promise<number> {
  let port = 0;
  return roundTrips(() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = l.addr.port;
    return l;
  }, () => Deno.connect({ hostname: "127.0.0.1", port }));
}

const gc = (globalThis as { gc?: () => void }).gc;

interface Memory {
  heap: number;
  external: number;
}

function memory(): Memory {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

/**
 * Bytes per idle established connection end (default socket options): JS heap, and external
 * (ArrayBuffer backing stores, where socket buffers live once allocated) in `idleExternal`.
 */
const idleExternal: number[] = [];

async function smolIdle(): Promise<number> {
  const p = await smolPair(1500, true);
  const conns: TcpStream[] = [];
  try {
    const listener = p.server.listen({ port: 5004, backlog: 1024 });
    // The first batch pays the one-time costs (link queue slots, maps growing from empty): it is
    // established before the baseline and left out of the count.
    const batch = 256;
    let before = memory();
    let counted = 0;
    for (let i = -batch; i < IDLE_COUNT; i += batch) {
      if (i === 0) {
        for (let k = 0; k < 4; k++) await tick();
        before = memory();
        counted = conns.length;
      }
      const n = Math.min(batch, IDLE_COUNT - i);
      const accepts: Promise<TcpStream>[] = [];
      const connects: Promise<TcpStream>[] = [];
      for (let k = 0; k < n; k++) {
        accepts.push(listener.accept());
        connects.push(p.client.connect({ hostname: "192.0.2.1", port: 5004 }));
      }
      conns.push(...await Promise.all(connects), ...await Promise.all(accepts));
    }
    for (let k = 0; k < 4; k++) await tick();
    const after = memory();
    listener.close();
    const n = conns.length - counted;
    idleExternal.push((after.external - before.external) / n);
    return (after.heap - before.heap) / n;
  } finally {
    for (const c of conns) c.close();
    await p.close();
  }
}

// --- TUN and UDP tunnel (--tun) -------------------------------------------------------------

/** Issue 7 targets: TUN at MTU 1500, and the UDP tunnel against raw datagrams. */
const TUN_TARGET = 150;
const UDP_RATIO_TARGET = 80;
/** The UDP tunnel rows move a quarter of the TUN size (64 MiB by default, 8 MiB with --quick). */
const UDP_BYTES = Math.max(1 << 20, Math.round(ARGS.tunBytes / 4));
const RAW_COUNT = Math.ceil(UDP_BYTES / DATAGRAM);
/** Untimed transfer per direction with SHA-256 checked on both ends (also the warm-up). */
const TUN_CHECK_BYTES = Math.min(ARGS.tunBytes, ARGS.quick ? 4 << 20 : 32 << 20);

/** What to undo, newest first: run by `cleanUp()` in `finally` and on SIGINT/SIGTERM. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];

async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

/** Set by SIGINT/SIGTERM: nothing new is started while the cleanup runs. */
let interrupted = false;
/** The resource being created, if any: the signal handler waits for it before cleaning up. */
let creating: Promise<unknown> = Promise.resolve();

/** Creates a resource and registers its undo in one step a signal cannot split. */
function acquire<T>(make: () => Promise<T>, undo: (x: T) => unknown): Promise<T> {
  if (interrupted) return Promise.reject(new Error("interrupted"));
  const p = make().then((x) => {
    cleanups.push(() => undo(x));
    return x;
  });
  creating = p.catch(() => {});
  return p;
}

function onSignal(): void {
  if (interrupted) return;
  interrupted = true;
  Deno.stderr.writeSync(
    encoder.encode("\r\x1b[2Kinterrupted: removing namespace and processes\n"),
  );
  creating.then(cleanUp).finally(() => Deno.exit(130));
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

async function runCmd(cmd: string, args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

async function mustCmd(cmd: string, args: string[]): Promise<void> {
  const r = await runCmd(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.text.trim()}`);
}

/** Generous time for moving `bytes`: a minute, or 1 MB/s. */
function budget(bytes: number): number {
  return Math.max(60_000, bytes / 1e3);
}

/** Starts `cmd` with piped stdio unless interrupted; the caller registers `kill` as a cleanup. */
function spawnProc(cmd: string, args: string[]): Proc {
  if (interrupted) throw new Error("interrupted");
  return startProc(cmd, args);
}

/**
 * The kernel-side server in the namespace (python3): per connection a command line `send N
 * [sha]` (sends N bytes of a random 1 MiB block with a counter per MiB, then waits for EOF) or
 * `recv [sha]` (reads to EOF), then prints `{"bytes":..,"sha256":..}` and closes. Exits when its
 * stdin closes.
 */
const PY_SERVER = String.raw`
import hashlib, json, os, socket, sys, threading
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(4)
print("listening", flush=True)
block = bytearray(os.urandom(1 << 20))
buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept()
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        line += b
    parts = line.decode().split()
    h = hashlib.sha256() if parts and parts[-1] == "sha" else None
    n = 0
    if parts and parts[0] == "send":
        total = int(parts[1])
        r = 0
        while n < total:
            k = min(len(block), total - n)
            block[0:8] = r.to_bytes(8, "little")
            view = memoryview(block)[:k]
            if h:
                h.update(view)
            c.sendall(view)
            n += k
            r += 1
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
    elif parts and parts[0] == "recv":
        while True:
            k = c.recv_into(buf)
            if not k:
                break
            if h:
                h.update(memoryview(buf)[:k])
            n += k
    print(json.dumps({"bytes": n, "sha256": h.hexdigest() if h else ""}), flush=True)
    c.close()
`;

const TUN_KERNEL = "192.0.2.1";
const TUN_PORT = 5001;

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** One TUN transfer; returns MB/s after checking byte counts (and SHA-256 when `sha`). */
async function tunTransfer(
  stack: NetStack,
  py: Proc,
  direction: "download" | "upload",
  bytes: number,
  sha: boolean,
): Promise<number> {
  const conn = await stack.connect({ hostname: TUN_KERNEL, port: TUN_PORT });
  const h = sha ? createHash("sha256") : null;
  let ours = 0;
  let seconds: number;
  try {
    const t0 = performance.now();
    const io = (async () => {
      if (direction === "download") {
        await writeAll(conn, encoder.encode(`send ${bytes}${sha ? " sha" : ""}\n`));
        const buf = new Uint8Array(256 * 1024);
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
          h?.update(buf.subarray(0, n));
          ours += n;
        }
        seconds = (performance.now() - t0) / 1000;
        await conn.closeWrite();
      } else {
        await writeAll(conn, encoder.encode(`recv${sha ? " sha" : ""}\n`));
        const block = crypto.getRandomValues(new Uint8Array(1 << 16));
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < 16; i++) big.set(block, i << 16);
        for (let round = 0; ours < bytes; round++) {
          const chunk = big.subarray(0, Math.min(big.length, bytes - ours));
          chunk[0] = round & 0xff; // a repeated or skipped MiB changes the digest
          h?.update(chunk);
          await writeAll(conn, chunk);
          ours += chunk.length;
        }
        await conn.closeWrite();
        // The server closes after EOF: its FIN means every byte arrived.
        while ((await conn.read(new Uint8Array(16))) !== null) { /* nothing expected */ }
        seconds = (performance.now() - t0) / 1000;
      }
    })();
    await withTimeout(io, budget(bytes), `TUN ${direction}`);
  } finally {
    conn.close();
  }
  const line = await py.line(30_000, "kernel-side server result");
  const theirs = JSON.parse(line) as { bytes: number; sha256: string };
  if (ours !== bytes || theirs.bytes !== bytes) {
    throw new Error(
      `TUN ${direction}: smolnet counted ${ours}, kernel side ${theirs.bytes}, of ${bytes}`,
    );
  }
  if (h !== null && h.digest("hex") !== theirs.sha256) {
    throw new Error(`TUN ${direction}: SHA-256 differs`);
  }
  return bytes / seconds! / 1e6;
}

/** Why the TUN rows cannot run here, or `null`. */
function tunUnavailable(): string | null {
  if (Deno.build.os !== "linux") return "not Linux";
  for (const name of ["run", "ffi", "sys", "read"] as const) {
    if (Deno.permissions.querySync({ name }).state !== "granted") {
      return `needs --allow-${name} (run with -A)`;
    }
  }
  const uid = Deno.uid();
  if (uid !== 0) {
    return `not root (uid ${uid}); they need CAP_NET_ADMIN for \`ip netns\` and TUNSETIFF`;
  }
  try {
    if (!Deno.statSync("/dev/net/tun").isCharDevice) return "/dev/net/tun is not a device";
  } catch {
    return "no /dev/net/tun (modprobe tun)";
  }
  for (const [cmd, arg] of [["ip", "-V"], ["python3", "-V"]]) {
    try {
      if (
        !new Deno.Command(cmd!, { args: [arg!], stdout: "null", stderr: "null" }).outputSync()
          .success
      ) {
        return `\`${cmd} ${arg}\` fails`;
      }
    } catch {
      return `no \`${cmd}\` on PATH`;
    }
  }
  return null;
}

function skip(what: string, why: string): void {
  if (interrupted) return; // the failure is the interruption's
  const text = `--tun: ${what} rows skipped: ${why}`;
  tunSkipped.push(text);
  Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  console.log(text);
}

/** Issue 17 targets for TUN with offloads: absolute, and against Linux over veth (same run). */
const TUN_OFFLOAD_TARGET = 1000;
const TUN_VETH_RATIO_TARGET = 0.5;
const VETH_SERVER = "198.51.100.1";
/** Seconds per iperf3 run of the veth ceiling rows. */
const VETH_SECONDS = ARGS.quick ? 1 : 3;

/** Why iperf3 and ethtool cannot run, or `null`. */
function vethUnavailable(): string | null {
  for (const [cmd, arg] of [["iperf3", "-v"], ["ethtool", "--version"]]) {
    try {
      if (
        !new Deno.Command(cmd!, { args: [arg!], stdout: "null", stderr: "null" }).outputSync()
          .success
      ) {
        return `\`${cmd} ${arg}\` fails`;
      }
    } catch {
      return `no \`${cmd}\` on PATH (apt-get install iperf3 ethtool)`;
    }
  }
  return null;
}

/**
 * The ceiling: Linux to Linux TCP (iperf3, one stream, MTU 1500) over a veth pair between two
 * namespaces the script creates, with the default offloads (TSO/GSO/GRO) and with them off on
 * both ends. Returns the medians in MB/s, offloads on first.
 */
async function vethRows(): Promise<{ on: Stat; off: Stat }> {
  const nsA = `smolnet-bench-${randomHex(4)}`;
  const nsB = `smolnet-bench-${randomHex(4)}`;
  const ifA = `sbva${randomHex(3)}`;
  const ifB = `sbvb${randomHex(3)}`;
  progress(`veth: creating namespaces ${nsA}, ${nsB}`);
  for (const ns of [nsA, nsB]) {
    await acquire(
      () => mustCmd("ip", ["netns", "add", ns]),
      () => runCmd("ip", ["netns", "del", ns]),
    );
  }
  await mustCmd("ip", [
    "-n",
    nsA,
    "link",
    "add",
    ifA,
    "type",
    "veth",
    "peer",
    "name",
    ifB,
    "netns",
    nsB,
  ]);
  await mustCmd("ip", ["-n", nsA, "addr", "add", `${VETH_SERVER}/24`, "dev", ifA]);
  await mustCmd("ip", ["-n", nsB, "addr", "add", "198.51.100.2/24", "dev", ifB]);
  for (const [ns, i] of [[nsA, ifA], [nsB, ifB]] as const) {
    await mustCmd("ip", ["-n", ns, "link", "set", i, "up"]);
    await mustCmd("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }
  const server = spawnProc("ip", ["netns", "exec", nsA, "iperf3", "-s", "-B", VETH_SERVER]);
  cleanups.push(() => server.kill());
  const once = async (): Promise<number> => {
    for (let attempt = 0;; attempt++) {
      const r = await runCmd("ip", [
        "netns",
        "exec",
        nsB,
        "iperf3",
        "-c",
        VETH_SERVER,
        "-t",
        String(VETH_SECONDS),
        "-J",
      ]);
      if (r.code === 0) {
        const j = JSON.parse(r.text.slice(0, r.text.lastIndexOf("}") + 1));
        return j.end.sum_received.bytes / j.end.sum_received.seconds / 1e6;
      }
      // The server may not listen yet on the first try.
      if (attempt >= 20) throw new Error(`iperf3 client: ${r.text.trim().slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const on = await repeat("Linux↔Linux veth, offloads on", once);
  for (const [ns, i] of [[nsA, ifA], [nsB, ifB]] as const) {
    await mustCmd("ip", [
      "netns",
      "exec",
      ns,
      "ethtool",
      "-K",
      i,
      "tso",
      "off",
      "gso",
      "off",
      "gro",
      "off",
    ]);
  }
  const off = await repeat("Linux↔Linux veth, offloads off", once);
  for (const [stat, what] of [[on, "on"], [off, "off"]] as const) {
    rows.push({
      name: `Linux↔Linux TCP over veth, MTU 1500, offloads ${what} (ceiling)`,
      unit: "MB/s",
      stat,
      target: "",
      met: null,
      note: `iperf3 one stream, ${VETH_SECONDS} s per run, between two namespaces`,
    });
  }
  return { on, off };
}

/** The kernel side's counters: TUN queue drops (tx_dropped) and TCP RetransSegs. */
async function kernelTunDrops(
  ns: string,
  ifname: string,
): Promise<{ queue: string; retransmitted: string }> {
  const link = await runCmd("ip", ["-n", ns, "-s", "-j", "link", "show", ifname]);
  const snmp = await runCmd("ip", ["netns", "exec", ns, "cat", "/proc/net/snmp"]);
  const tcp = snmp.text.split("\n").filter((l) => l.startsWith("Tcp:")).map((l) => l.split(" "));
  let queue = "?";
  try {
    queue = String(JSON.parse(link.text)[0].stats64.tx.dropped);
  } catch { /* unknown */ }
  return { queue, retransmitted: tcp[1]?.[tcp[0]!.indexOf("RetransSegs")] ?? "?" };
}

async function tunRows(
  offload: boolean,
  veth: { on: Stat; off: Stat } | null,
  writerThread = false,
): Promise<void> {
  const ns = `smolnet-bench-${randomHex(4)}`;
  const ifname = `sbtun${randomHex(3)}`;
  const mode = (offload ? "offloads on" : "offloads off") + (writerThread ? ", writer thread" : "");
  progress(`TUN (${mode}): creating namespace ${ns}`);
  await acquire(
    () => mustCmd("ip", ["netns", "add", ns]),
    () => runCmd("ip", ["netns", "del", ns]),
  );
  const dev = await acquire(
    () => TunTapDevice.open({ name: ifname, mode: "tun", mtu: 1500, offload, writerThread }),
    (d) => d.close(),
  );
  if (offload && dev.capabilities.offload?.tcpv4 !== true) {
    throw new Error(`the kernel refused TCP segmentation offload on ${ifname}`);
  }
  await mustCmd("ip", ["link", "set", "dev", ifname, "netns", ns]);
  await mustCmd("ip", [
    "netns",
    "exec",
    ns,
    "sysctl",
    "-qw",
    `net.ipv6.conf.${ifname}.disable_ipv6=1`,
  ]);
  await mustCmd("ip", ["-n", ns, "addr", "add", `${TUN_KERNEL}/24`, "dev", ifname]);
  await mustCmd("ip", ["-n", ns, "link", "set", ifname, "up"]);
  await mustCmd("ip", ["-n", ns, "link", "set", "lo", "up"]);
  const py = spawnProc("ip", [
    "netns",
    "exec",
    ns,
    "python3",
    "-u",
    "-c",
    PY_SERVER,
    TUN_KERNEL,
    String(TUN_PORT),
  ]);
  cleanups.push(() => py.kill());
  const ready = await py.line(30_000, "kernel-side server start");
  if (ready !== "listening") throw new Error(`kernel-side server: "${ready}"`);
  const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"], tcp: BULK_TCP, seed: 3 });
  cleanups.push(() => stack.close());
  await tick();
  await tick();
  const mib = `${ARGS.tunBytes / (1 << 20)} MiB`;
  for (const direction of ["download", "upload"] as const) {
    progress(`TUN ${direction} (${mode}): ${TUN_CHECK_BYTES >> 20} MiB with SHA-256 (untimed)`);
    await tunTransfer(stack, py, direction, TUN_CHECK_BYTES, true);
  }
  for (const direction of ["download", "upload"] as const) {
    const s = await repeat(
      `smolnet↔kernel TUN ${direction} ${mib}, ${mode}`,
      () => tunTransfer(stack, py, direction, ARGS.tunBytes, false),
    );
    const ceiling = veth === null ? null : offload ? veth.on : veth.off;
    const ratio = ceiling === null ? null : s.median / ceiling.median;
    const ratioNote = ratio === null ? "no veth ceiling measured" : `${fmt(ratio)}× Linux veth`;
    const st = dev.stats;
    const drops = await kernelTunDrops(ns, ifname);
    rows.push({
      name: `smolnet↔kernel TUN ${direction}, MTU 1500, ${mode}`,
      unit: "MB/s",
      stat: s,
      target: offload
        ? `≥ ${TUN_OFFLOAD_TARGET} MB/s and ≥ ${TUN_VETH_RATIO_TARGET}× veth`
        : `≥ ${TUN_TARGET} MB/s`,
      met: offload
        ? s.median >= TUN_OFFLOAD_TARGET && ratio !== null && ratio >= TUN_VETH_RATIO_TARGET
        : s.median >= TUN_TARGET,
      note: `${ratioNote}; ${mib} per run; SHA-256 checked on an untimed ` +
        `${TUN_CHECK_BYTES >> 20} MiB transfer, byte counts on every run; so far the kernel ` +
        `dropped ${drops.queue} frames at the TUN queue and retransmitted ${drops.retransmitted} ` +
        `segments, our ring filled ${st.rxQueueFull} times, write errors ${st.writeErrors}` +
        (writerThread ? `, writer ring full ${st.txQueueFull} times` : "") +
        (offload
          ? `; so far ${st.framesCoalesced} frames received coalesced, ` +
            `${st.framesSentSegmented} sent for the kernel to cut`
          : ""),
    });
  }
  // This mode's namespace, device, server and stack go before the next mode starts.
  await cleanUp();
}

interface Source {
  tcp(bytes: number): Promise<TunnelResult>;
  raw(count: number): Promise<TunnelResult>;
}

function parseResult(line: string): TunnelResult {
  const r = JSON.parse(line) as TunnelResult & { error?: string };
  if (r.error !== undefined) throw new Error(`UDP tunnel source: ${r.error}`);
  return r;
}

async function udpRows(): Promise<void> {
  // In-process source needs Deno.listenDatagram (--unstable-net); else it is a second child.
  const inProcess = typeof Deno.listenDatagram === "function";
  const [sinkTun, srcTun, sinkRaw, srcRaw] = inProcess
    ? freeUdpPorts(4)
    : Array.from({ length: 4 }, (_, i) => 20_000 + ((Math.random() * 2000) | 0) * 4 + i);
  const helper = new URL("./_udp_tunnel_peer.ts", import.meta.url).pathname;
  const helperArgs = (role: string, ports: number[]) => [
    "run",
    "--unstable-net",
    "--allow-net",
    // FFI lets the tunnel use its batched recvmmsg/sendmmsg path (and read /proc for drops).
    "--allow-ffi",
    "--allow-read",
    helper,
    "--role",
    role,
    "--tun-port",
    String(ports[0]),
    "--peer-tun-port",
    String(ports[1]),
    "--raw-port",
    String(ports[2]),
    "--peer-raw-port",
    String(ports[3]),
    "--tcp-buffer",
    String(BULK_TCP.rxBufferSize),
  ];
  progress("UDP tunnel: starting the peer process");
  const sink = spawnProc(
    Deno.execPath(),
    helperArgs("sink", [sinkTun!, srcTun!, sinkRaw!, srcRaw!]),
  );
  cleanups.push(() => sink.kill());
  if ((await sink.line(60_000, "UDP tunnel sink start")) !== "ready") {
    throw new Error("UDP tunnel sink did not start");
  }
  const srcPorts = {
    tunPort: srcTun!,
    peerTunPort: sinkTun!,
    rawPort: srcRaw!,
    peerRawPort: sinkRaw!,
    tcpBuffer: BULK_TCP.rxBufferSize,
  };
  let source: Source;
  // Both children get --allow-ffi: batched unless this process lacks it (then it is the sender).
  let batchNote = "recvmmsg/sendmmsg in the receiver";
  if (inProcess) {
    const end = await acquire(() => TunnelEnd.open("source", srcPorts), (e) => e.close());
    source = { tcp: (b) => end.tcpSend(b), raw: (c) => end.rawSend(c) };
    batchNote = end.device.batchSize > 1
      ? "recvmmsg/sendmmsg (batches of 64) at both ends"
      : "Deno.listenDatagram in the sender, recvmmsg/sendmmsg in the receiver";
  } else {
    const src = spawnProc(
      Deno.execPath(),
      helperArgs("source", [srcTun!, sinkTun!, srcRaw!, sinkRaw!]),
    );
    cleanups.push(() => src.kill());
    if ((await src.line(60_000, "UDP tunnel source start")) !== "ready") {
      throw new Error("UDP tunnel source did not start");
    }
    source = {
      async tcp(bytes) {
        await src.send(`tcp ${bytes}`);
        return parseResult(await src.line(budget(bytes), "UDP tunnel TCP run"));
      },
      async raw(count) {
        await src.send(`raw ${count}`);
        return parseResult(await src.line(budget(count * DATAGRAM), "raw datagram run"));
      },
    };
  }
  const where = inProcess ? "this process" : "a second child";
  progress(`UDP tunnel: warm-up (sender in ${where})`);
  // As in the bulk rows, V8 needs tens of MiB before the stack's hot path is optimised: TCP over
  // the tunnel ran at a third of its speed for its first 32 MiB (16 MiB transfers: 24, 30, then
  // 76–114 MB/s), so the warm-up moves at least 64 MiB.
  for (let done = 0; done < 64 << 20; done += UDP_BYTES) await source.tcp(UDP_BYTES);
  await source.raw(Math.min(RAW_COUNT, 4096));
  const mib = `${fmt(UDP_BYTES / (1 << 20))} MiB`;
  let retransmits = 0;
  let lost = 0;
  // TCP and raw runs alternate (which goes first swaps every round), so load that comes and
  // goes on a shared machine hits both alike; the ratio is the median of per-round ratios.
  const tcpRuns: number[] = [];
  const rawRuns: number[] = [];
  const ratios: number[] = [];
  const runTcp = async () => {
    const r = await source.tcp(UDP_BYTES);
    retransmits += r.retransmits ?? 0;
    return r.mbps;
  };
  const runRaw = async () => {
    const r = await source.raw(RAW_COUNT);
    lost += r.lost;
    return r.mbps;
  };
  for (let i = 0; i < ARGS.runs; i++) {
    progress(`UDP tunnel TCP ${mib} and raw datagrams, 2 processes: round ${i + 1}/${ARGS.runs}`);
    let t: number, r: number;
    if (i % 2 === 0) {
      t = await runTcp();
      r = await runRaw();
    } else {
      r = await runRaw();
      t = await runTcp();
    }
    tcpRuns.push(t);
    rawRuns.push(r);
    ratios.push(100 * t / r);
  }
  progressStep += 2;
  const tcp = stat(tcpRuns);
  const raw = stat(rawRuns);
  const paired = stat(ratios);
  rows.push({
    name: "smolnet TCP over UDP tunnel, 2 processes",
    unit: "MB/s",
    stat: tcp,
    target: `≥ ${UDP_RATIO_TARGET} % of raw (${fmt(raw.median * UDP_RATIO_TARGET / 100)} MB/s)`,
    met: tcp.median >= raw.median * UDP_RATIO_TARGET / 100,
    note: `${mib} per run, TCP buffers 1 MiB, tunnel flow window ${defaultFlowWindow()} frames, ` +
      `datagram I/O ${batchNote}, sender in ` +
      `${where}, receiver in a child; byte count checked; ${retransmits} segments retransmitted ` +
      "in all runs",
  });
  rows.push({
    name: "raw Deno.listenDatagram 1400 B, 2 processes",
    unit: "MB/s",
    stat: raw,
    target: "reference",
    met: null,
    note: `${RAW_COUNT} datagrams per run, ≤ 64 unacknowledged; ${lost} lost in all runs`,
  });
  rows.push({
    name: "ratio UDP tunnel TCP / raw datagrams",
    unit: "%",
    stat: paired,
    target: `≥ ${UDP_RATIO_TARGET} %`,
    met: paired.median >= UDP_RATIO_TARGET,
    note: "median of per-round ratios, TCP and raw runs interleaved (order swapped each round); " +
      `ratio of the medians ${fmt(100 * tcp.median / raw.median)} %`,
  });
}

async function tunAndUdpRows(): Promise<void> {
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const why = tunUnavailable();
    if (why !== null) {
      skip("TUN", why);
      progressStep += 8;
    } else {
      let veth: { on: Stat; off: Stat } | null = null;
      const noVeth = vethUnavailable();
      if (noVeth !== null) skip("Linux veth", noVeth);
      else {
        try {
          veth = await vethRows();
        } catch (e) {
          skip("Linux veth", `failed: ${(e as Error).message}`);
        } finally {
          await cleanUp();
        }
      }
      for (const [offload, writer] of [[false, false], [false, true], [true, false]]) {
        try {
          await tunRows(offload!, veth, writer);
        } catch (e) {
          const what = `offloads ${offload ? "on" : "off"}${writer ? ", writer thread" : ""}`;
          skip(`TUN (${what})`, `failed: ${(e as Error).message}`);
        } finally {
          await cleanUp();
        }
      }
    }
    if (interrupted) return;
    const noRun = (["run", "read", "net"] as const).find((name) =>
      Deno.permissions.querySync({ name }).state !== "granted"
    );
    if (noRun !== undefined) {
      skip("UDP tunnel", `needs --allow-${noRun} (run with -A)`);
    } else {
      try {
        await udpRows();
      } catch (e) {
        skip("UDP tunnel", `failed: ${(e as Error).message}`);
      } finally {
        await cleanUp();
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  // Interrupted: no table; onSignal exits once the cleanup is done (its pending work keeps the
  // event loop alive until then).
  if (interrupted) await new Promise<never>(() => {});
}

// --- run ------------------------------------------------------------------------------------

interface Row {
  name: string;
  unit: string;
  stat: Stat;
  target: string;
  met: boolean | null;
  note?: string;
}

const rows: Row[] = [];
const loadBefore = load();
const mibLabel = ARGS.bytes >= 1 << 30
  ? `${ARGS.bytes / (1 << 30)} GiB`
  : `${ARGS.bytes / (1 << 20)} MiB`;

async function coreRows(): Promise<void> {
  // V8 compiles the hot path on a background thread: on a busy 2-core machine the first few
  // hundred MiB run mostly unoptimised code. One untimed transfer per path warms it up.
  const WARMUP_BYTES = ARGS.quick ? 4 << 20 : 256 << 20;
  progress(`warm-up: ${WARMUP_BYTES >> 20} MiB through smolnet and the kernel`);
  await smolBulk(1500, true, WARMUP_BYTES);
  await kernelBulk(WARMUP_BYTES);

  const bulkRows: { mtu: number; checksum: boolean; stat: Stat }[] = [];
  for (const mtu of [1500, 65535]) {
    for (const checksum of [true, false]) {
      const label = `smolnet bulk ${mibLabel}, MTU ${mtu}, checksums ${checksum ? "on" : "off"}`;
      bulkRows.push({ mtu, checksum, stat: await repeat(label, () => smolBulk(mtu, checksum)) });
    }
  }
  const kernel = await repeat(`kernel bulk ${mibLabel} on 127.0.0.1`, () => kernelBulk());
  for (const b of bulkRows) {
    const name = `smolnet bulk, MTU ${b.mtu}, checksums ${b.checksum ? "on" : "off"}`;
    if (b.mtu === 1500) {
      rows.push({
        name,
        unit: "MB/s",
        stat: b.stat,
        // Issue 15 asks 1,000 MB/s with checksums; the first wave's 500 MB/s stays for without.
        target: b.checksum ? "≥ 1000 MB/s" : "≥ 500 MB/s",
        met: b.stat.median >= (b.checksum ? 1000 : 500),
      });
    } else {
      rows.push({
        name,
        unit: "MB/s",
        stat: b.stat,
        target: `≥ kernel (${fmt(kernel.median)} MB/s)`,
        met: b.stat.median >= kernel.median,
      });
    }
  }
  rows.push({
    name: "kernel TCP bulk, 127.0.0.1",
    unit: "MB/s",
    stat: kernel,
    target: "reference",
    met: null,
  });
  for (const b of bulkRows) {
    rows.push({
      name: `ratio smolnet/kernel, MTU ${b.mtu}, checksums ${b.checksum ? "on" : "off"}`,
      unit: "×",
      stat: {
        median: b.stat.median / kernel.median,
        min: b.stat.min / kernel.median,
        max: b.stat.max / kernel.median,
        runs: b.stat.runs,
      },
      target: b.mtu === 65535 ? "≥ 1.0" : "",
      met: b.mtu === 65535 ? b.stat.median >= kernel.median : null,
    });
  }

  const sSetup = await repeat(`smolnet setup, ${SETUP_COUNT} connections`, smolSetup);
  const kSetup = await repeat(`kernel setup, ${SETUP_COUNT} connections`, kernelSetup);
  rows.push({
    name: "smolnet connect+accept+close",
    unit: "conn/s",
    stat: sSetup,
    // Issue 15: connection churn at twice the kernel.
    target: `≥ 2× kernel (${fmt(2 * kSetup.median)}/s)`,
    met: sSetup.median >= 2 * kSetup.median,
  });
  rows.push({
    name: "kernel connect+accept+close",
    unit: "conn/s",
    stat: kSetup,
    target: "reference",
    met: null,
  });

  const sRr = await repeat(`smolnet 64-byte round trips, ${RR_COUNT}`, smolRr);
  const kRr = await repeat(`kernel 64-byte round trips, ${RR_COUNT}`, kernelRr);
  rows.push({
    name: "smolnet 64-byte request/response",
    unit: "RTT/s",
    stat: sRr,
    target: `≥ kernel (${fmt(kRr.median)}/s)`,
    met: sRr.median >= kRr.median,
  });
  rows.push({
    name: "kernel 64-byte request/response",
    unit: "RTT/s",
    stat: kRr,
    target: "reference",
    met: null,
  });

  const idle = await repeat(`smolnet idle connections, ${IDLE_COUNT} pairs`, smolIdle);
  const idleExt = stat(idleExternal);
  // Issue 7: at most 4 KiB per idle connection beyond its buffers, buffers allocated lazily. The
  // buffers would show as external memory (64 KiB each by default); what is there is counted in.
  rows.push({
    name: `smolnet heap per idle connection end${gc === undefined ? " (no GC)" : ""}`,
    unit: "bytes",
    stat: idle,
    target: "heap + external ≤ 4096 B",
    met: idle.median + idleExt.median <= 4096,
  });
  rows.push({
    name: "smolnet external per idle connection end",
    unit: "bytes",
    stat: idleExt,
    target: "no buffers (≪ 65536 B)",
    met: idleExt.median < 4096,
  });
  // Issue 15: the core at scale, one run (see bench/_core_scale.ts).
  progress(`smolnet core: ${SCALE_COUNT} idle connections and TIME-WAIT records`);
  const scale = coreScale(SCALE_COUNT);
  progressStep++;
  const one = (x: number): Stat => ({ median: x, min: x, max: x, runs: 1 });
  rows.push({
    name: `smolnet core: heap + external per idle connection end, ${SCALE_COUNT} connections`,
    unit: "bytes",
    stat: one(scale.bytesPerEnd),
    target: "≤ 4096 B",
    met: scale.bytesPerEnd <= 4096,
  });
  rows.push({
    name: `smolnet core: poll with ${SCALE_COUNT} idle connections / poll with 10`,
    unit: "×",
    stat: one(scale.pollUs / scale.pollUs10),
    target: `≤ 2 (${fmt(scale.pollUs)} µs vs ${fmt(scale.pollUs10)} µs)`,
    met: scale.pollUs <= 2 * scale.pollUs10,
  });
  rows.push({
    name: `smolnet core: ${SCALE_COUNT} TIME-WAIT records`,
    unit: "MiB",
    stat: one(scale.timeWaitBytes / (1 << 20)),
    target: `≤ ${fmt(16 * SCALE_COUNT / 100_000)} MiB`,
    met: scale.timeWaitBytes <= 16 * (1 << 20) * SCALE_COUNT / 100_000,
  });
}
if (!ARGS.tunOnly) await coreRows();
const tunSkipped: string[] = [];
if (ARGS.tun) await tunAndUdpRows();
const loadAfter = load();
Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));

// --- report ---------------------------------------------------------------------------------

const header = ["figure", "median", "min", "max", "unit", "target", "met"];
const table = rows.map((r) => [
  r.name,
  fmt(r.stat.median),
  fmt(r.stat.min),
  fmt(r.stat.max),
  r.unit,
  r.target,
  r.met === null ? "" : r.met ? "yes" : "no",
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(
  `smolnet throughput — Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
    `load ${fmt(loadBefore)} → ${fmt(loadAfter)}, bulk ${mibLabel}, ${ARGS.runs} run(s) per figure`,
);
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of table) console.log(line(r));

if (ARGS.json !== null) {
  const out = {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    loadBefore,
    loadAfter,
    bulkBytes: ARGS.bytes,
    runs: ARGS.runs,
    gc: gc !== undefined,
    ...(ARGS.tun ? { tunBytes: ARGS.tunBytes, udpTunnelBytes: UDP_BYTES, tunSkipped } : {}),
    rows,
  };
  Deno.writeTextFileSync(ARGS.json, JSON.stringify(out, null, 2) + "\n");
}
