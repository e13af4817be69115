// Buffer autotuning (src/socket/tcp/autotune.ts) on explicit time: two TcpSockets over a
// simulated path with a fixed one-way delay and rate, an application writer that fills the
// send buffer and a reader that takes a set number of bytes per millisecond.

import assert from "node:assert/strict";
import { IDLE_RELEASE } from "../../../src/socket/tcp/autotune.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";
import { A, B, Path } from "./_path.ts";

Deno.test("TcpSocket grows its receive buffer with what the application reads per RTT (DRS) and the send buffer with cwnd", () => {
  // 40 ms RTT at 10 MB/s: a bandwidth-delay product of 400 KB, three times the initial window.
  const p = new Path({ delay: 20, rate: 10_000, readRate: Infinity, write: true });
  p.run(60); // the handshake and the first data
  assert.equal(p.b.info.recvCapacity, 128 * 1024, "128 KiB at first");
  p.run(2500);
  const rx = p.b.info.recvCapacity, tx = p.a.info.sendCapacity;
  assert.ok(rx >= 800_000, `receive buffer ${rx}`);
  assert.ok(rx <= 6 * 1024 * 1024, `receive buffer ${rx} above the cap`);
  assert.ok(tx >= 800_000 && tx <= 4 * 1024 * 1024, `send buffer ${tx}`);
  // The last half second runs at the path's rate, which a fixed 128 KiB window could not
  // (3.2 MB/s).
  const before = p.read;
  p.run(3000);
  const rate = (p.read - before) / 500;
  assert.ok(rate > 8_000, `${rate} bytes/ms`);
});

Deno.test("TcpSocket keeps a slow reader's receive buffer small and bounds the writer (memory stays bounded)", () => {
  const p = new Path({ delay: 5, rate: 50_000, readRate: 50, write: true });
  p.run(5000);
  assert.equal(p.b.info.recvCapacity, 128 * 1024, "nothing read per RTT worth growing for");
  assert.ok(p.a.info.sendCapacity <= 4 * 1024 * 1024);
  assert.ok(p.peakHeld <= 128 * 1024 + 4 * 1024 * 1024, `${p.peakHeld} bytes held`);
  assert.ok(p.a.info.bufferMemory + p.b.info.bufferMemory <= 5 * 1024 * 1024);
  assert.ok(p.read > 200_000 && p.read <= 250_000, `read ${p.read}`);
});

Deno.test("TcpSocket gives buffer memory back at its first dispatch after an idle second, without arming a timer for it", () => {
  const p = new Path({ delay: 10, rate: 5_000, readRate: Infinity, write: true });
  p.run(1000);
  assert.ok(p.a.info.sendCapacity > 64 * 1024);
  assert.ok(p.a.info.bufferMemory > 0 && p.b.info.bufferMemory > 0);
  p.o = { ...p.o, write: false };
  while (p.a.sendQueue > 0 || p.b.recvQueue > 0) p.run(p.now + 1); // the flight drains
  const drained = p.now;
  p.run(drained + 300); // delayed ACKs settle
  const grownRx = p.b.info.recvCapacity; // as the reader left it (it grows while it drains)
  assert.ok(p.a.info.bufferMemory > 0 && p.b.info.bufferMemory > 0, "not after 300 ms");
  assert.equal(p.a.pollAt(p.cx), Infinity, "an idle connection sleeps");
  assert.equal(p.b.pollAt(p.cx), Infinity);
  p.run(drained + IDLE_RELEASE + 50); // the path still dispatches every ms, as a busy stack polls
  assert.equal(p.a.info.bufferMemory, 0);
  assert.equal(p.b.info.bufferMemory, 0);
  assert.equal(p.a.info.sendCapacity, 64 * 1024);
  assert.equal(p.b.info.recvCapacity, grownRx, "the announced window is not taken back");
  // Writing again works, from the small start.
  p.o = { ...p.o, write: true };
  const before = p.read;
  p.run(p.now + 500);
  assert.ok(p.read > before);
});

Deno.test("TcpSocket keeps fixed buffer sizes fixed", () => {
  const fixed = { rxBufferSize: 65536, txBufferSize: 32768 };
  const p = new Path({
    delay: 20,
    rate: 10_000,
    readRate: Infinity,
    write: true,
    a: fixed,
    b: fixed,
  });
  p.run(3000);
  assert.equal(p.b.info.recvCapacity, 65536);
  assert.equal(p.a.info.sendCapacity, 32768);
});

Deno.test("TcpSocket announces the window scale of the largest autotuned receive buffer", () => {
  const seen: TcpRepr[] = [];
  const s = new TcpSocket();
  const cx = new Path({ delay: 1, rate: 1000, readRate: 0, write: false }).cx;
  s.connect(cx, B, A);
  s.dispatch(cx, { emitTcp: (_s, _d, r) => (seen.push(r), true) });
  assert.equal(seen[0]!.windowScale, 7, "6 MiB needs a shift of 7 (RFC 7323 §2.3)");
  assert.equal(seen[0]!.window, 65535);
});

Deno.test("TcpSocket completes an 8 MB write-before-read against an echo server: a blocked writer whose peer and own windows are closed grows its receive buffer", () => {
  // 4 ms RTT at 100 MB/s, 1500-byte MTU. A writes 8 MB and reads nothing until it has written
  // all of it; B echoes. DRS alone stopped at 3.2 MB here: the echo stops reading once A's
  // receive buffer and B's send buffer are full, so nothing grows any more.
  const size = 8_000_000;
  const p = new Path({
    delay: 1,
    rate: 100_000,
    readRate: Infinity,
    write: true,
    echo: true,
    limit: size,
  });
  while (p.written < size && p.now < 20_000) p.run(p.now + 100);
  assert.equal(p.written, size, `the writer stalled at ${p.written} bytes (${p.now} ms)`);
  const held = p.a.info.recvCapacity + p.a.info.sendCapacity + p.b.info.recvCapacity +
    p.b.info.sendCapacity;
  assert.ok(held <= 2 * (6 + 4) * 1024 * 1024, `${held} bytes of buffers`);
  assert.ok(p.a.info.recvCapacity <= 6 * 1024 * 1024 && p.b.info.recvCapacity <= 6 * 1024 * 1024);
  // Now A reads: every byte comes back.
  p.o = { ...p.o, aRead: true };
  while (p.readBack < size && p.now < 40_000) p.run(p.now + 100);
  assert.equal(p.echoed, size);
  assert.equal(p.readBack, size);
});
