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

import process from "node:process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Tree {
  readonly name: string;
  // deno-lint-ignore no-explicit-any
  readonly iface: any;
  // deno-lint-ignore no-explicit-any
  readonly socket: any;
  // deno-lint-ignore no-explicit-any
  readonly phy: any;
  // deno-lint-ignore no-explicit-any
  readonly wire: any;
}

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

async function load(name: string, root: string): Promise<Tree> {
  const at = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  return {
    name,
    iface: await at("src/iface/mod.ts"),
    socket: await at("src/socket/mod.ts"),
    phy: await at("src/phy/mod.ts"),
    wire: await at("src/wire/mod.ts"),
  };
}

/** One transfer of `bytes`; returns [MB/s by wall time, MB/s by CPU time]. */
function transfer(t: Tree, mtu: number, bytes: number): [number, number] {
  const [da, db] = t.phy.linkPair({ mtu });
  const a = new t.iface.Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
  const b = new t.iface.Interface({ addresses: ["192.0.2.2/24"], seed: 2 });
  const sa = new t.iface.SocketSet(), sb = new t.iface.SocketSet();
  const listener = new t.socket.TcpListenSocket(
    { addr: t.wire.Ipv4Address.UNSPECIFIED, port: 80 },
    { socket: { rxBufferSize: 1 << 20 } },
  );
  a.listenTcp(sa, listener);
  const client = new t.socket.TcpSocket({ txBufferSize: 1 << 20 });
  b.connectTcp(sb, client, { addr: t.wire.Ipv4Address.parse("192.0.2.1"), port: 80 }, {}, 0);
  const chunk = new Uint8Array(1 << 16).fill(7);
  const sink = new Uint8Array(1 << 16);
  let sent = 0, got = 0;
  // deno-lint-ignore no-explicit-any
  let server: any = null;
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  for (let now = 0; got < bytes; now++) {
    b.poll(now, db, sb);
    a.poll(now, da, sa);
    server ??= listener.accept();
    while (sent < bytes && client.maySend) {
      const n = client.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (n === 0) break;
      sent += n;
    }
    if (server !== null) {
      let n;
      while ((n = server.recv(sink)) > 0) got += n;
    }
  }
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  return [bytes / 1e3 / wall, bytes / ((cpu.user + cpu.system) / 1e6) / 1e6];
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
  const trees = [await load("old", baseline), await load("new", here)];
  for (const t of trees) transfer(t, mtu, 16 << 20); // warm-up: V8 optimises the hot path
  const wall: number[][] = [[], []], cpu: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const i = (r + k) % 2; // old first in even rounds, new first in odd ones
      const [w, c] = transfer(trees[i]!, mtu, mib << 20);
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
