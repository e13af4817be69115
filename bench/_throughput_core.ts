/**
 * The loopback rows of `bench/throughput.ts`: two `NetStack`s in one process over `linkPair`
 * against Deno's kernel TCP on 127.0.0.1 (bulk, connection setup, round trips), memory per idle
 * connection, and the core at scale.
 *
 * @module
 */

import { linkPair, NetStack } from "../mod.ts";
import type { TcpStream } from "../mod.ts";
import { coreScale } from "./_core_scale.ts";
import {
  advanceProgress,
  ARGS,
  BULK_TCP,
  fmt,
  gc,
  mibLabel,
  progress,
  repeat,
  rows,
  type Stat,
  stat,
  tick,
} from "./_throughput_common.ts";

const SETUP_COUNT = ARGS.quick ? 50 : 1000;
const RR_COUNT = ARGS.quick ? 500 : 10_000;
const IDLE_COUNT = ARGS.quick ? 500 : 10_000;
const SCALE_COUNT = ARGS.quick ? 5_000 : 100_000;
const CHUNK = 64 * 1024;

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

export async function coreRows(): Promise<void> {
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
  advanceProgress(1);
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
