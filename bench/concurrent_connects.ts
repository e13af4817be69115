/**
 * Issue 15's "5,000 concurrent connects with no connection over 5 s": `--count` connects started
 * at once from one `NetStack` to a listener of another (in-memory `linkPair`, MTU 1500, default
 * backlog), the server accepting and closing as they come, beside Deno's kernel TCP on 127.0.0.1
 * doing the same in the same process. Prints per side the time for all of them, the median, 99th
 * percentile and slowest connect (start of `connect` to its resolution), and the load average.
 * The slowest connect is the figure: a SYN lost to a full queue costs a 1 s retransmission.
 *
 * ```sh
 * deno run -A bench/concurrent_connects.ts [--count 5000] [--rounds 3]
 * ```
 *
 * @module
 */

import { linkPair, NetStack } from "../mod.ts";
import { loadText, median, positive } from "./_args.ts";

interface Conn {
  close(): void;
}
interface Listener {
  accept(): Promise<Conn>;
  close(): void;
}

/** Total ms, then median, p99 and slowest connect in ms. */
async function concurrent(
  n: number,
  listener: Listener,
  connect: () => Promise<Conn>,
): Promise<number[]> {
  const accepting = (async () => {
    for (let i = 0; i < n; i++) (await listener.accept()).close();
  })();
  const t0 = performance.now();
  const times = await Promise.all(
    Array.from({ length: n }, async () => {
      const t = performance.now();
      const c = await connect();
      const dt = performance.now() - t;
      c.close();
      return dt;
    }),
  );
  await accepting;
  const total = performance.now() - t0;
  listener.close();
  times.sort((a, b) => a - b);
  return [total, median(times), times[Math.floor(0.99 * (n - 1))]!, times[n - 1]!];
}

async function smol(n: number): Promise<number[]> {
  const [a, b] = linkPair({ mtu: 1500 });
  await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  return await concurrent(
    n,
    server.listen({ port: 5004 }),
    () => client.connect({ hostname: "192.0.2.1", port: 5004 }),
  );
}

function kernel(n: number): Promise<number[]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  return concurrent(n, l, () => Deno.connect({ hostname: "127.0.0.1", port }));
}

if (import.meta.main) {
  const n = positive("--count", 5000);
  const rounds = positive("--rounds", 3);
  await smol(200);
  await kernel(200);
  const rows: Record<string, number[][]> = { smolnet: [], kernel: [] };
  for (let r = 0; r < rounds; r++) {
    rows.smolnet!.push(await smol(n));
    rows.kernel!.push(await kernel(n));
  }
  console.log(`${n} concurrent connects, ${rounds} rounds, load ${loadText()}`);
  for (const [name, rs] of Object.entries(rows)) {
    const f = (i: number) => rs.map((x) => x[i]!.toFixed(0)).join(" / ");
    console.log(
      `${name}: all in ${f(0)} ms; connect median ${f(1)} ms, p99 ${f(2)} ms, slowest ${f(3)} ms`,
    );
  }
}
