/**
 * Internet checksum throughput on a full-size TCP segment payload (1460 B) and a 64 KiB buffer.
 *
 * `deno bench bench/checksum_bench.ts` for Deno's table; `deno run bench/checksum_bench.ts` for
 * GB/s (10^9 bytes per second) of both sizes.
 *
 * @module
 */

import { internetChecksum } from "../src/wire/checksum.ts";

function filled(len: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = 0x9e3779b9;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const SEGMENT = filled(1460);
const LARGE = filled(65536);
let sink = 0;

Deno.bench({ name: "internetChecksum 1460 B", group: "checksum", baseline: true }, () => {
  sink ^= internetChecksum(SEGMENT);
});

Deno.bench({ name: "internetChecksum 65536 B", group: "checksum" }, () => {
  sink ^= internetChecksum(LARGE);
});

/** Bytes per second over `totalBytes` of work, after a warm-up, best of five rounds. */
function throughput(buf: Uint8Array, totalBytes: number): number {
  const rounds = Math.max(1, Math.round(totalBytes / buf.length));
  for (let i = 0; i < Math.min(rounds, 2000); i++) sink ^= internetChecksum(buf);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) sink ^= internetChecksum(buf);
    best = Math.min(best, performance.now() - t0);
  }
  return (rounds * buf.length) / (best / 1000);
}

if (import.meta.main) {
  for (const [name, buf] of [["1460 B", SEGMENT], ["65536 B", LARGE]] as const) {
    const gbps = throughput(buf, 256 * 1024 * 1024) / 1e9;
    console.log(`internetChecksum ${name.padStart(8)}: ${gbps.toFixed(2)} GB/s`);
  }
  if (sink === 0x10000) console.log(sink); // keeps the results observable
}
