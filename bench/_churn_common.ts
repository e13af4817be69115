/**
 * What `bench/tun_churn.ts` and its kernel-side peer (`_churn_peer.ts`) share: the byte pattern
 * every connection carries, and the client side of a round (`n` connects at once, each reading to
 * EOF, checking and closing) with its report.
 *
 * @module
 */

/** `n` bytes of the pattern every connection carries: byte i is i % 251. */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

/** What one round of connects measured (the kernel-side peer prints it as one JSON line). */
export interface ConnectReport {
  wall: number;
  median: number;
  p99: number;
  slowest: number;
  over1s: number;
  over5s: number;
  perSecond: number[];
  complete: number;
  errors: Record<string, number>;
  rss: number;
}

/** The part of a `Deno.Conn` (or a smolnet `TcpStream`) a client round uses. */
export interface ChurnConn {
  read(p: Uint8Array): Promise<number | null>;
  close(): void;
}

/** How many connects took 0-1 s, 1-2 s, ... (the last bucket: 7 s and more). */
function perSecond(times: number[]): number[] {
  const b = new Array<number>(8).fill(0);
  for (const t of times) b[Math.min(7, Math.floor(t / 1000))]!++;
  return b;
}

/**
 * `n` connects at once through `connect`; each reads to EOF into a buffer from `readBuffers`
 * (reused by the next connection, so a round adds no garbage per connection), checks the count
 * (`bytes`) and the pattern, and closes. Errors are counted by name.
 */
export async function connectAll(
  n: number,
  bytes: number,
  connect: () => Promise<ChurnConn>,
  readBuffers: Uint8Array[],
  bufferSize = 16384,
): Promise<ConnectReport> {
  const errors: Record<string, number> = {};
  const count = (k: string) => errors[k] = (errors[k] ?? 0) + 1;
  const times: number[] = [];
  let complete = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async () => {
    const t = performance.now();
    let c: ChurnConn;
    try {
      c = await connect();
    } catch (e) {
      count(`connect ${(e as Error).name}`);
      return;
    }
    times.push(performance.now() - t);
    const buf = readBuffers.pop() ?? new Uint8Array(bufferSize);
    let got = 0;
    let bad = false;
    try {
      for (let k = await c.read(buf); k !== null; k = await c.read(buf)) {
        for (let i = 0; i < k && !bad; i++) bad = buf[i] !== (got + i) % 251;
        got += k;
      }
    } catch (e) {
      count(`read ${(e as Error).name}`);
    }
    c.close();
    readBuffers.push(buf);
    if (got === bytes && !bad) complete++;
    else count(got !== bytes ? "short" : "corrupt");
  }));
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  const at = (q: number) => times.length === 0 ? 0 : times[Math.floor(q * (times.length - 1))]!;
  return {
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
  };
}
