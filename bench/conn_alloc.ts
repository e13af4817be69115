/**
 * Bytes allocated per connection on the in-process churn, and where (issue 15): two `NetStack`s
 * on `linkPair` (MTU 1500), `--count` connections after 500 warm-up ones, each connect, accept,
 * a 16 KiB write from the accepting side read to the end by the connecting side, and close on
 * both sides, one at a time. V8's sampling heap profiler (through `node:inspector`, every
 * 512 bytes on average, objects a collection freed included) counts what the measured
 * connections allocate, this script's own promises included; prints the total per connection
 * and the `--top` allocation sites (a builtin's site names the nearest caller under `src/`; a
 * line is where the function starts in the emitted JavaScript, so only near the source's; a
 * function inlined by the optimizer counts under its caller). Allocation, not time: the load of the
 * machine changes the figure little, but compare trees in the same run (`--root` names the
 * tree whose `mod.ts` is measured, this one by default).
 *
 * ```sh
 * deno run -A bench/conn_alloc.ts [--root DIR] [--count 2000] [--top 30]
 * ```
 *
 * @module
 */

import { Session } from "node:inspector";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { arg, positive } from "./_args.ts";

/** A node of the sampling heap profile's call tree. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: ProfileNode[];
}

/** The sampling heap profile. */
interface Profile {
  head: ProfileNode;
  samples: { size: number; nodeId: number }[];
}

const WARM_UP = 500;

/** `functionName file:line`, the file relative to the tree (line of the function's start). */
function site(n: ProfileNode): string {
  const f = n.callFrame;
  const url = f.url.replace(/^.*\/(src|bench)\//, "$1/");
  return `${f.functionName || "(anonymous)"} ${url}:${f.lineNumber + 1}`;
}

/** Bytes per connection, total and by site, for `count` connections of the tree at `root`. */
async function measure(root: string, count: number): Promise<[number, Map<string, number>]> {
  const m = await import(pathToFileURL(resolve(root, "mod.ts")).href);
  const [a, b] = m.linkPair({ mtu: 1500 });
  const server = new m.NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new m.NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  const listener = server.listen({ port: 5002 });
  const payload = new Uint8Array(16384).fill(7);
  const buf = new Uint8Array(65536);
  const one = async () => {
    const pending = listener.accept();
    const c = await client.connect({ hostname: "192.0.2.1", port: 5002 });
    const s = await pending;
    const written = s.write(payload);
    for (let got = 0; got < payload.length;) {
      const k = await c.read(buf);
      if (k === null) throw new Error("Unexpected end of stream");
      got += k;
    }
    await written;
    c.close();
    s.close();
  };
  for (let i = 0; i < WARM_UP; i++) await one();
  const session = new Session();
  session.connect();
  // deno-lint-ignore no-explicit-any
  const post = (method: string, params: object = {}): Promise<any> =>
    new Promise((ok, fail) =>
      session.post(method, params, (e: unknown, r: unknown) => e ? fail(e) : ok(r))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < count; i++) await one();
  const { profile } = await post("HeapProfiler.stopSampling") as { profile: Profile };
  session.disconnect();
  listener.close();
  await client.close();
  await server.close();
  const byId = new Map<number, [ProfileNode, ProfileNode | null]>();
  const walk = (n: ProfileNode, parent: ProfileNode | null) => {
    byId.set(n.id, [n, parent]);
    for (const c of n.children) walk(c, n);
  };
  walk(profile.head, null);
  let total = 0;
  const sites = new Map<string, number>();
  for (const s of profile.samples) {
    total += s.size;
    const [n] = byId.get(s.nodeId)!;
    let key = site(n);
    if (!n.callFrame.url.includes("/src/")) {
      let p = byId.get(n.id)![1];
      while (p !== null && !p.callFrame.url.includes("/src/")) p = byId.get(p.id)![1];
      if (p !== null) key += `  <- ${site(p)}`;
    }
    sites.set(key, (sites.get(key) ?? 0) + s.size / count);
  }
  return [total / count, sites];
}

if (import.meta.main) {
  const root = arg("--root", fileURLToPath(new URL("..", import.meta.url)));
  const count = positive("--count", 2000);
  const top = Number(arg("--top", "30"));
  const [perConn, sites] = await measure(root, count);
  console.log(`${root}: ${perConn.toFixed(0)} bytes allocated per connection (count ${count})`);
  const rows = [...sites].sort((x, y) => y[1] - x[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`${v.toFixed(0).padStart(7)}  ${k}`);
}
