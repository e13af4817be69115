// Buffer autotuning seen from the async layer (issue 13): write-before-read against an echo
// server completes as with Deno's kernel TCP, and a slow reader still bounds a fast writer.

import assert from "node:assert/strict";
import type { TcpStream } from "../../mod.ts";
import { pattern, sha256, stackPair } from "./_helpers.ts";

/** Writes `data` to an echo server before reading anything, then reads the echo back. */
async function writeThenRead(conn: TcpStream, data: Uint8Array): Promise<Uint8Array> {
  let written = 0;
  while (written < data.length) {
    written += await conn.write(data.subarray(written, written + 65536));
  }
  await conn.closeWrite();
  const back = new Uint8Array(data.length + 1);
  let got = 0;
  while (true) {
    const n = await conn.read(back.subarray(got));
    if (n === null) break;
    got += n;
  }
  return back.subarray(0, got);
}

async function echoRun(mtu: number, size: number): Promise<void> {
  await using net = stackPair({ mtu });
  const listener = net.server.listen({ port: 7 });
  const served = (async () => {
    const s = await listener.accept();
    await s.readable.pipeTo(s.writable);
  })();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const data = pattern(size, 5);
  const back = await writeThenRead(conn, data);
  assert.equal(back.length, data.length);
  assert.equal(await sha256(back), await sha256(data));
  await served;
  conn.close();
  listener.close();
}

// Deno's kernel TCP on loopback (MTU 65536) completes this; with fixed 64 KiB buffers we
// deadlocked after about 300 KB.
Deno.test("TcpStream: a client that writes 8 MB before reading completes against an echo server (loopback MTU)", async () => {
  await echoRun(65535, 8_000_000);
});

// Linux's loopback at MTU 1500 completes 8 MB too (and stalls near 9 MB). With DRS alone we
// stalled between 3 and 7.4 MB, depending on timing: the echo stops reading once the client's
// receive buffer and the server's send buffer are full, and then nothing grows.
Deno.test("TcpStream: a client that writes 8 MB before reading completes against an echo server (MTU 1500)", async () => {
  await echoRun(1500, 8_000_000);
});

Deno.test("TcpStream: a slow reader holds a 64 MiB writer under 64 MiB of memory, then gets every byte", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 9 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 9 });
  const peer = await accepted;
  const total = 64 * 1024 * 1024;
  const chunk = new Uint8Array(65536);
  const before = Deno.memoryUsage().external;
  let peak = 0;
  let written = 0;
  const writer = (async () => {
    while (written < total) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = (written + i) & 0xff;
      let off = 0;
      while (off < chunk.length) off += await conn.write(chunk.subarray(off));
      written += chunk.length;
    }
    await conn.closeWrite();
  })();
  // Slow phase: 16 KiB every 10 ms for a second.
  const buf = new Uint8Array(16 * 1024);
  let read = 0;
  const check = (n: number): void => {
    for (let i = 0; i < n; i++) {
      if (buf[i] !== ((read + i) & 0xff)) assert.fail(`byte ${read + i} is wrong`);
    }
    read += n;
  };
  const slowUntil = performance.now() + 1000;
  while (performance.now() < slowUntil) {
    const n = await peer.read(buf);
    assert.ok(n !== null);
    check(n);
    const used = Deno.memoryUsage().external - before;
    if (used > peak) peak = used;
    await new Promise((r) => setTimeout(r, 10));
  }
  const held = written - read;
  assert.ok(written < total / 4, `the writer got ${written} bytes ahead of a slow reader`);
  assert.ok(held <= 4 * 1024 * 1024 + 6 * 1024 * 1024, `${held} bytes held between them`);
  assert.ok(peak < 64 * 1024 * 1024, `external memory grew by ${peak} bytes`);
  // Fast phase: everything arrives, in order.
  while (true) {
    const n = await peer.read(buf);
    if (n === null) break;
    check(n);
  }
  await writer;
  assert.equal(read, total);
  conn.close();
  peer.close();
  listener.close();
});
