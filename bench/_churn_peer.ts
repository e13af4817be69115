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

import { connectAll, pattern } from "./_churn_common.ts";

const [mode, host, portText, ...rest] = Deno.args;
const port = Number(portText);

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

async function connectRound(n: number, bytes: number): Promise<void> {
  const report = await connectAll(
    n,
    bytes,
    () => Deno.connect({ hostname: host!, port }),
    readBuffers,
  );
  console.log(JSON.stringify(report));
}

if (mode === "serve") await serve(Number(rest[0]), Number(rest[1]));
else if (mode === "connect") await connectRound(Number(rest[0]), Number(rest[1]));
else throw new TypeError(`Unknown mode ${mode}`);
