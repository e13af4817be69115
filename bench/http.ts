/**
 * HTTP over smolnet against Deno's own HTTP over the kernel, in one run (issue 16).
 *
 * ```sh
 * deno task bench:http [--runs N] [--mtu N] [--checksums] [--machinery] [--quick] [--baseline DIR]
 * ```
 *
 * Rows (requests per second, the median of `--runs` runs, default 3):
 * - 1 KiB GETs and 1 MiB POSTs (the server reads the body and answers its length), on 1 and on
 *   64 keep-alive connections: `serve` + `createFetch` from `@smol/net/http` between two
 *   `NetStack`s on `linkPair` (MTU 65535 like the kernel's loopback, `--mtu` to change; no
 *   software checksums, as the kernel's loopback computes none, `--checksums` to compute them),
 *   beside `Deno.serve` + `fetch` on the kernel's 127.0.0.1, and the ratio smolnet/kernel. The
 *   rows on one connection also give the median time of one request on each side (less
 *   disturbed than the mean when other processes take the CPU now and then).
 * - with `--machinery`: the choice of HTTP machinery, 2,000 sequential 1 KiB GETs on one
 *   keep-alive connection over the same two stacks: our HTTP/1.1 on both sides; `node:http`'s
 *   server fed with `emit("connection", duplex)` plus `@hono/node-server`'s fetch adapter
 *   (`overrideGlobalObjects: false`) under our client; `node:http`'s client (keep-alive Agent
 *   whose `createConnection` returns a Duplex over our connection) against our server.
 *
 * - with `--baseline DIR` (another checkout of this repository, e.g. from `git worktree add` or
 *   `git archive`): the 1 KiB GET row on one connection again with that checkout's `serve`,
 *   `createFetch` and stacks, interleaved with ours and the kernel's in the same run, and the
 *   ratio ours/baseline.
 *
 * The 1-minute load average is printed before and after: figures from a loaded machine are not
 * comparable. An untimed warm-up runs before each row.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import * as nodeHttp from "node:http";
import { loadavg } from "node:os";
import { getRequestListener } from "@hono/node-server";
import { checksumAll, checksumNone, linkPair, NetStack, type TcpListener } from "../mod.ts";
import { createFetch, serve } from "../src/http/mod.ts";
import { duplexOf } from "../src/http/tls.ts";

const argv = Deno.args;
const quick = argv.includes("--quick");
const runsAt = argv.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 1 : 3;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new RangeError(`Invalid --runs "${RUNS}"`);
const mtuAt = argv.indexOf("--mtu");
const MTU = mtuAt >= 0 ? Number(argv[mtuAt + 1]) : 65535;
if (!Number.isInteger(MTU) || MTU < 1280 || MTU > 65535) {
  throw new RangeError(`Invalid --mtu "${MTU}": expected 1280 to 65535`);
}

const CHECKSUM = argv.includes("--checksums") ? checksumAll() : checksumNone();

const SMALL = new Uint8Array(1024).fill(120);
const BIG = new Uint8Array(1 << 20).fill(7);

async function handler(req: Request): Promise<Response> {
  if (req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength));
  return new Response(SMALL);
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * `total` requests spread over `conns` sequential workers; returns requests per second. With
 * `times`, each request's duration (ms) is pushed to it.
 */
async function drive(
  f: Fetch,
  url: string,
  post: boolean,
  conns: number,
  total: number,
  times?: number[],
) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const t = times === undefined ? 0 : performance.now();
      const res = await f(url, post ? { method: "POST", body: BIG } : undefined);
      const body = await res.arrayBuffer();
      if (res.status !== 200 || (post ? 0 : body.byteLength) !== (post ? 0 : SMALL.length)) {
        throw new Error(`Bad answer ${res.status} (${body.byteLength} bytes)`);
      }
      times?.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conns }, worker));
  return total / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function stacks(): { server: NetStack; client: NetStack; close(): Promise<void> } {
  const [a, b] = linkPair({ mtu: MTU, checksum: CHECKSUM });
  const server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  const client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** The 1 KiB GET row on one connection: ours, a baseline checkout's, the kernel's, interleaved. */
/** `Deno.serve` on kernel loopback with the same handler, and `fetch` through one client. */
function kernelSide(): { kernelUrl: string; kernelFetch: Fetch; closeKernel(): Promise<void> } {
  const ac = new AbortController();
  const kernel = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    handler,
  );
  const client = Deno.createHttpClient({});
  return {
    kernelUrl: `http://127.0.0.1:${kernel.addr.port}/`,
    kernelFetch: (url, init) => fetch(url, { ...init, client }),
    async closeKernel() {
      client.close();
      ac.abort();
      await kernel.finished;
    },
  };
}

async function baselineRow(dir: string): Promise<void> {
  const root = new URL(dir.endsWith("/") ? dir : `${dir}/`, `file://${Deno.cwd()}/`);
  const net = await import(new URL("mod.ts", root).href);
  const http = await import(new URL("src/http/mod.ts", root).href);
  const setups = [{ linkPair, NetStack, createFetch, serve }, {
    linkPair: net.linkPair,
    NetStack: net.NetStack,
    createFetch: http.createFetch,
    serve: http.serve,
  }];
  const sides = setups.map((m) => {
    const [a, b] = m.linkPair({ mtu: MTU, checksum: CHECKSUM });
    const server = new m.NetStack({ device: a, addresses: ["192.0.2.1/24"] });
    const client = new m.NetStack({ device: b, addresses: ["192.0.2.2/24"] });
    const srv = m.serve(server.listen({ port: 80 }), handler);
    const f = m.createFetch(client);
    return {
      f: f as Fetch,
      async close() {
        f.close();
        await srv.shutdown();
        await client.close();
        await server.close();
      },
    };
  });
  const { kernelUrl, kernelFetch, closeKernel } = kernelSide();
  const total = quick ? 200 : 2000;
  const runs = Math.max(RUNS, 5);
  const xs: number[][] = [[], [], []];
  const ts: number[][] = [[], [], []];
  try {
    for (const s of sides) await drive(s.f, "http://192.0.2.1/", false, 1, total / 4);
    await drive(kernelFetch, kernelUrl, false, 1, total / 4);
    for (let r = 0; r < runs; r++) {
      xs[0]!.push(await drive(sides[0]!.f, "http://192.0.2.1/", false, 1, total, ts[0]));
      xs[1]!.push(await drive(sides[1]!.f, "http://192.0.2.1/", false, 1, total, ts[1]));
      xs[2]!.push(await drive(kernelFetch, kernelUrl, false, 1, total, ts[2]));
    }
  } finally {
    await closeKernel();
    for (const s of sides) await s.close();
  }
  const [ours, base, kern] = xs.map(median) as [number, number, number];
  const [tOurs, tBase, tKern] = ts.map(median) as [number, number, number];
  console.log(`\n1 KiB GET, 1 connection, median of ${runs}, baseline ${dir}:`);
  console.log("| side | req/s | / kernel | median request µs | kernel / it |");
  console.log("|---|---:|---:|---:|---:|");
  const row = (name: string, x: number, t: number) =>
    console.log(
      `| ${name} | ${x.toFixed(0)} | ${(x / kern).toFixed(2)}x | ${(t * 1000).toFixed(0)} | ${
        (tKern / t).toFixed(2)
      }x |`,
    );
  row("this checkout", ours, tOurs);
  row("baseline", base, tBase);
  row("kernel (Deno.serve + fetch)", kern, tKern);
  console.log(`this checkout / baseline: ${(ours / base).toFixed(2)}x`);
}

async function mainRows(): Promise<void> {
  const rows: [string, boolean, number, number][] = [
    ["1 KiB GET, 1 connection", false, 1, quick ? 200 : 2000],
    ["1 KiB GET, 64 connections", false, 64, quick ? 640 : 6400],
    ["1 MiB POST, 1 connection", true, 1, quick ? 5 : 40],
    ["1 MiB POST, 64 connections", true, 64, quick ? 64 : 192],
  ];
  const s = stacks();
  const ours = serve(s.server.listen({ port: 80 }), handler);
  const smolFetch = createFetch(s.client);
  const { kernelUrl, kernelFetch, closeKernel } = kernelSide();
  console.log(
    "| workload | smolnet req/s | kernel req/s | smolnet/kernel | median request µs smolnet / kernel (ratio) |",
  );
  console.log("|---|---:|---:|---:|---:|");
  try {
    for (const [name, post, conns, total] of rows) {
      const warm = Math.max(conns, Math.floor(total / 4));
      await drive(smolFetch, "http://192.0.2.1/", post, conns, warm);
      await drive(kernelFetch, kernelUrl, post, conns, warm);
      const a: number[] = [];
      const b: number[] = [];
      const ta: number[] | undefined = conns === 1 ? [] : undefined;
      const tb: number[] | undefined = conns === 1 ? [] : undefined;
      for (let r = 0; r < RUNS; r++) {
        // Alternate so that load changes hit both sides alike.
        a.push(await drive(smolFetch, "http://192.0.2.1/", post, conns, total, ta));
        b.push(await drive(kernelFetch, kernelUrl, post, conns, total, tb));
      }
      const ma = median(a);
      const mb = median(b);
      const lat = ta === undefined || tb === undefined
        ? ""
        : `${(median(ta) * 1000).toFixed(0)} / ${(median(tb) * 1000).toFixed(0)} (${
          (median(tb) / median(ta)).toFixed(2)
        }x)`;
      console.log(
        `| ${name} | ${ma.toFixed(0)} | ${mb.toFixed(0)} | ${(ma / mb).toFixed(2)}x | ${lat} |`,
      );
    }
  } finally {
    smolFetch.close();
    await closeKernel();
    await ours.shutdown();
    await s.close();
  }
}

async function acceptInto(listener: TcpListener, server: nodeHttp.Server): Promise<void> {
  try {
    for await (const conn of listener) {
      conn.setNoDelay();
      server.emit("connection", duplexOf(conn));
    }
  } catch { /* closed */ }
}

async function machinery(): Promise<void> {
  const N = quick ? 300 : 2000;
  const rows: [string, number[]][] = [];
  const run = async (name: string, f: () => Promise<number>) => {
    const xs: number[] = [];
    await f(); // warm-up
    for (let r = 0; r < RUNS; r++) xs.push(await f());
    rows.push([name, xs]);
  };
  // 1. Ours on both sides.
  {
    const s = stacks();
    const http = serve(s.server.listen({ port: 80 }), handler);
    const f = createFetch(s.client);
    await run(
      "createFetch → serve (ours, both sides)",
      () => drive(f, "http://192.0.2.1/", false, 1, N),
    );
    f.close();
    await http.shutdown();
    await s.close();
  }
  // 2. node:http server + @hono/node-server's fetch adapter, our client.
  {
    const s = stacks();
    const listener = s.server.listen({ port: 80 });
    const server = nodeHttp.createServer(
      getRequestListener(handler, { overrideGlobalObjects: false }),
    );
    // Deno's node:http closes a connection after each response unless the server "listens".
    Object.defineProperty(server, "listening", { get: () => true });
    const accepting = acceptInto(listener, server);
    const f = createFetch(s.client);
    await run(
      "createFetch → node:http + @hono/node-server adapter",
      () => drive(f, "http://192.0.2.1/", false, 1, N),
    );
    f.close();
    listener.close();
    await accepting;
    server.closeAllConnections();
    await s.close();
  }
  // 3. node:http client (keep-alive Agent over our connections) against our server.
  {
    const s = stacks();
    const http = serve(s.server.listen({ port: 80 }), handler);
    class StackAgent extends nodeHttp.Agent {
      // The connection opens asynchronously: answer through the callback (returning nothing).
      override createConnection(
        _o: unknown,
        cb?: (err: Error | null, socket: Duplex) => void,
      ): Duplex {
        s.client.connect({ hostname: "192.0.2.1", port: 80 }).then((c) => {
          c.setNoDelay();
          cb?.(null, duplexOf(c));
        }, (e) => cb?.(e, undefined as unknown as Duplex));
        return undefined as unknown as Duplex;
      }
    }
    const agent = new StackAgent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = nodeHttp.request({ host: "192.0.2.1", port: 80, path: "/", agent }, (res) => {
          let n = 0;
          res.on("data", (c: Uint8Array) => n += c.length);
          res.on("end", () => resolve(n));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    await run("node:http client (keep-alive Agent) → serve", async () => {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) {
        if ((await get()) !== SMALL.length) throw new Error("Bad body");
      }
      return N / ((performance.now() - t0) / 1000);
    });
    agent.destroy();
    await http.shutdown();
    await s.close();
  }
  console.log(`\n${N} sequential 1 KiB GETs on one keep-alive connection, two stacks on linkPair:`);
  console.log("| client → server | req/s (median) | min–max |");
  console.log("|---|---:|---:|");
  for (const [name, xs] of rows) {
    console.log(
      `| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${
        Math.max(...xs).toFixed(0)
      } |`,
    );
  }
}

if (import.meta.main) {
  console.log(`load average before: ${loadavg()[0]!.toFixed(2)}, runs: ${RUNS}, MTU ${MTU}`);
  const baselineAt = argv.indexOf("--baseline");
  if (baselineAt >= 0) await baselineRow(argv[baselineAt + 1] ?? ".");
  else await mainRows();
  if (argv.includes("--machinery")) await machinery();
  console.log(`load average after: ${loadavg()[0]!.toFixed(2)}`);
}
