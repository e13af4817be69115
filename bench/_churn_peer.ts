/**
 * The kernel side of `bench/tun_churn.ts`, run inside a network namespace with `ip netns exec`
 * (Deno's kernel TCP, so both sides of the comparison are Deno programs):
 *
 * - `serve HOST PORT BYTES BACKLOG`: listens and sends every connection BYTES of the
 *   pattern (byte i is i % 251), then closes it; prints `listening`, ends when stdin closes.
 * - `connect HOST PORT N BYTES`: starts N connects at once; each reads to EOF, checks the count
 *   and the pattern and closes. Prints one JSON line: wall ms, connect times (median, p99,
 *   slowest, over 1 s, over 5 s), completed downloads and errors by name.
 *
 * @module
 */

const [mode, host, portText, ...rest] = Deno.args;
const port = Number(portText);

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

/** How many connects took 0-1 s, 1-2 s, ... (the last bucket: 7 s and more). */
function perSecond(times: number[]): number[] {
  const b = new Array<number>(8).fill(0);
  for (const t of times) b[Math.min(7, Math.floor(t / 1000))]!++;
  return b;
}

async function serve(bytes: number, backlog: number): Promise<void> {
  const data = pattern(bytes);
  const l = Deno.listen({ hostname: host!, port, tcpBacklog: backlog } as Deno.TcpListenOptions);
  console.log("listening");
  // Stop when the bench closes our stdin (it never kills us by name).
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
    Deno.exit(0);
  })();
  for (;;) {
    const c = await l.accept();
    (async () => {
      try {
        for (let off = 0; off < data.length;) off += await c.write(data.subarray(off));
      } catch { /* a reset peer: counted on its side */ }
      c.close();
    })();
  }
}

/** Read buffers, reused by the next connection (no garbage per connection). */
const readBuffers: Uint8Array[] = [];

async function connectAll(n: number, bytes: number): Promise<void> {
  const want = pattern(bytes);
  const errors: Record<string, number> = {};
  const times: number[] = [];
  let complete = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async () => {
    const t = performance.now();
    let c: Deno.TcpConn;
    try {
      c = await Deno.connect({ hostname: host!, port });
    } catch (e) {
      const name = `connect ${(e as Error).name}`;
      errors[name] = (errors[name] ?? 0) + 1;
      return;
    }
    times.push(performance.now() - t);
    const buf = readBuffers.pop() ?? new Uint8Array(16384);
    let got = 0;
    let bad = false;
    try {
      for (let k = await c.read(buf); k !== null; k = await c.read(buf)) {
        for (let i = 0; i < k && !bad; i++) bad = buf[i] !== want[(got + i) % 251];
        got += k;
      }
    } catch (e) {
      const name = `read ${(e as Error).name}`;
      errors[name] = (errors[name] ?? 0) + 1;
    }
    c.close();
    readBuffers.push(buf);
    if (got === bytes && !bad) complete++;
    else if (got !== bytes) errors["short"] = (errors["short"] ?? 0) + 1;
    else errors["corrupt"] = (errors["corrupt"] ?? 0) + 1;
  }));
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  const at = (q: number) => times.length === 0 ? 0 : times[Math.floor(q * (times.length - 1))]!;
  console.log(JSON.stringify({
    wall,
    median: at(0.5),
    p99: at(0.99),
    slowest: at(1),
    over1s: times.filter((t) => t > 1000).length,
    over5s: times.filter((t) => t > 5000).length,
    perSecond: perSecond(times),
    complete,
    errors,
    rss: Deno.memoryUsage().rss,
  }));
}

if (mode === "serve") await serve(Number(rest[0]), Number(rest[1]));
else if (mode === "connect") await connectAll(Number(rest[0]), Number(rest[1]));
else throw new TypeError(`Unknown mode ${mode}`);
