/**
 * Old against new on connection churn through the async layer: sequential
 * connect+accept+close between two `NetStack`s on `linkPair` (MTU 1500), each run in its own
 * process (old and new alternating, the order flipping every round) and beside Deno's kernel TCP
 * on 127.0.0.1 measured in the same process, after 300 warm-up connections of each. Prints per
 * tree the median connections per second, the median ratio to the kernel (by wall time and by
 * process CPU time) and the load average. `deno task bench:net` holds the table row; this is the
 * A/B for a change to the churn path. `--rr` measures 64-byte request/response round trips on one
 * connection instead (no Nagle; `--count` round trips), the path of small reads and writes.
 * `--bulk MTU` moves `--count` MiB one way over one connection at that MTU instead (MB per
 * second), to check that a change to the loop costs the bulk path nothing.
 *
 * ```sh
 * deno run -A bench/churn_ab.ts --baseline DIR [--count 1000] [--rounds 6] [--rr | --bulk MTU]
 * ```
 *
 * @module
 */

import process from "node:process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { arg, loadText, median, positive } from "./_args.ts";

interface Conn {
  close(): void;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  setNoDelay(on: boolean): void;
}
interface Listener {
  accept(): Promise<Conn>;
  close(): void;
}

/** Connections per wall second and per CPU second. */
async function rate(
  n: number,
  listen: () => Listener,
  connect: () => Promise<Conn>,
): Promise<[number, number]> {
  const l = listen();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const pending = l.accept();
    const c = await connect();
    const s = await pending;
    c.close();
    s.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  l.close();
  return [n / seconds, n / ((cpu.user + cpu.system) / 1e6)];
}

/** Round trips of 64 bytes per wall second and per CPU second (`n` of them, one connection). */
async function roundTrips(
  n: number,
  listen: () => Listener,
  connect: () => Promise<Conn>,
): Promise<[number, number]> {
  const l = listen();
  const pending = l.accept();
  const c = await connect();
  const s = await pending;
  c.setNoDelay(true);
  s.setNoDelay(true);
  const full = async (conn: Conn, b: Uint8Array) => {
    for (let at = 0; at < b.length;) {
      const got = await conn.read(b.subarray(at));
      if (got === null) throw new Error("Unexpected end of stream");
      at += got;
    }
  };
  const echo = (async () => {
    const b = new Uint8Array(64);
    for (let i = 0; i < n; i++) {
      await full(s, b);
      await s.write(b);
    }
  })();
  const msg = new Uint8Array(64).fill(1), back = new Uint8Array(64);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await c.write(msg);
    await full(c, back);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await echo;
  c.close();
  s.close();
  l.close();
  return [n / seconds, n / ((cpu.user + cpu.system) / 1e6)];
}

/** MB per wall second and per CPU second moving `n` MiB one way over one connection. */
async function bulk(
  n: number,
  listen: () => Listener,
  connect: () => Promise<Conn>,
): Promise<[number, number]> {
  const l = listen();
  const pending = l.accept();
  const c = await connect();
  const s = await pending;
  const total = n * 1024 * 1024;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const received = (async () => {
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    while (got < total) {
      const k = await s.read(buf);
      if (k === null) throw new Error("Unexpected end of stream");
      got += k;
    }
  })();
  const chunk = new Uint8Array(256 * 1024).fill(1);
  for (let sent = 0; sent < total;) {
    sent += await c.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  }
  await received;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  c.close();
  s.close();
  l.close();
  return [total / 1e6 / seconds, total / 1e6 / ((cpu.user + cpu.system) / 1e6)];
}

const bulkMtu = Number(arg("--bulk", "0"));
const measure = Deno.args.includes("--rr") ? roundTrips : bulkMtu > 0 ? bulk : rate;
/** Warm-up size: connections or round trips, or MiB for `--bulk`. */
const WARM_UP = bulkMtu > 0 ? 16 : 300;

// deno-lint-ignore no-explicit-any
async function smol(m: any, n: number): Promise<[number, number]> {
  const [a, b] = m.linkPair({ mtu: bulkMtu > 0 ? bulkMtu : 1500 });
  const server = new m.NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new m.NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  try {
    return await measure(
      n,
      () => server.listen({ port: 5002 }),
      () => client.connect({ hostname: "192.0.2.1", port: 5002 }),
    );
  } finally {
    await client.close();
    await server.close();
  }
}

function kernel(n: number): Promise<[number, number]> {
  let port = 0;
  return measure(n, () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = l.addr.port;
    return l;
  }, () => Deno.connect({ hostname: "127.0.0.1", port }));
}

/** One run in this process: prints `[smol wall, smol cpu, kernel wall, kernel cpu]`. */
async function one(root: string, n: number): Promise<void> {
  const m = await import(pathToFileURL(resolve(root, "mod.ts")).href);
  await smol(m, WARM_UP);
  await kernel(WARM_UP);
  const s = await smol(m, n);
  const k = await kernel(n);
  console.log(JSON.stringify([...s, ...k]));
}

async function spawnOne(root: string, n: number): Promise<number[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(import.meta.url),
      "--one",
      root,
      "--count",
      String(n),
      ...(measure === roundTrips ? ["--rr"] : []),
      ...(bulkMtu > 0 ? ["--bulk", String(bulkMtu)] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`churn_ab --one ${root} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

if (import.meta.main) {
  const n = positive("--count", 1000);
  const only = arg("--one", "");
  if (only !== "") {
    await one(only, n);
    Deno.exit(0);
  }
  const trees = [arg("--baseline", null), fileURLToPath(new URL("..", import.meta.url))];
  const rounds = positive("--rounds", 6);
  const runs: number[][][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const i = (r + k) % 2; // old first in even rounds, new first in odd ones
      runs[i]!.push(await spawnOne(trees[i]!, n));
    }
  }
  const what = measure === roundTrips
    ? "64-byte round trips"
    : bulkMtu > 0
    ? `MB moved at MTU ${bulkMtu} (count: MiB)`
    : "connect+accept+close";
  console.log(`${what} per second: count ${n}, ${rounds} rounds, load ${loadText()}`);
  ["old", "new"].forEach((name, i) => {
    const rs = runs[i]!;
    const wall = median(rs.map((x) => x[0]!)), cpu = median(rs.map((x) => x[1]!));
    const rw = median(rs.map((x) => x[0]! / x[2]!)), rc = median(rs.map((x) => x[1]! / x[3]!));
    console.log(
      `${name} (${trees[i]}): ${wall.toFixed(0)}/s, ${cpu.toFixed(0)} per CPU-second; ` +
        `smolnet / kernel ${rw.toFixed(2)}x by wall, ${rc.toFixed(2)}x by CPU`,
    );
  });
}
