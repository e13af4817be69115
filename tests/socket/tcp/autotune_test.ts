// Buffer autotuning (src/socket/tcp/autotune.ts) on explicit time: two TcpSockets over a
// simulated path with a fixed one-way delay and rate, an application writer that fills the
// send buffer and a reader that takes a set number of bytes per millisecond.

import assert from "node:assert/strict";
import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import { IDLE_RELEASE } from "../../../src/socket/tcp/autotune.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";

const A: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.1"), port: 50000 };
const B: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };

interface PathOptions {
  /** One-way delay in ms. */
  delay: number;
  /** Bytes per ms each way. */
  rate: number;
  /** Bytes the reader at B takes per ms (Infinity: all). */
  readRate: number;
  /** Whether A's application keeps writing. */
  write: boolean;
  a?: TcpSocketOptions;
  b?: TcpSocketOptions;
}

/** A writer at A, a reader at B, stepped 1 ms at a time. */
class Path {
  now = 0;
  readonly a: TcpSocket;
  readonly b: TcpSocket;
  o: PathOptions;
  readonly #rng = new Rng(3);
  readonly #limiter = new TokenBucket({ burst: 1000, interval: 1000 });
  /** Per direction, in arrival order (one delay, serialised): to B, to A. */
  readonly #queues: { t: number; repr: TcpRepr }[][] = [[], []];
  readonly #heads = [0, 0];
  #busyAB = 0;
  #busyBA = 0;
  readonly #chunk = new Uint8Array(65536);
  readonly #sink = new Uint8Array(1 << 20);
  written = 0;
  read = 0;
  /** The most bytes ever queued in A's send buffer plus B's receive buffer. */
  peakHeld = 0;

  constructor(o: PathOptions) {
    this.o = o;
    this.a = new TcpSocket({ timestampOffset: 0, ...o.a });
    this.b = new TcpSocket({ timestampOffset: 0, ...o.b });
    this.b.listen(B);
    this.a.connect(this.cx, B, A);
  }

  get cx(): SocketContext {
    return {
      now: this.now,
      random: this.#rng,
      ipMtu: 1500,
      isnSecret: new Uint8Array(16).fill(5),
      challengeAckLimiter: this.#limiter,
    };
  }

  #send(toB: boolean, repr: TcpRepr): void {
    const ser = (repr.payload.length + 52) / this.o.rate;
    const start = Math.max(this.now, toB ? this.#busyAB : this.#busyBA);
    if (toB) this.#busyAB = start + ser;
    else this.#busyBA = start + ser;
    const copy = { ...repr, payload: repr.payload.slice() };
    this.#queues[toB ? 0 : 1]!.push({ t: start + ser + this.o.delay, repr: copy });
  }

  /** Runs until `until` (ms). */
  run(until: number): void {
    const toA = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#send(false, r), true) };
    const toB = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#send(true, r), true) };
    for (; this.now < until; this.now++) {
      for (let d = 0; d < 2; d++) {
        const q = this.#queues[d]!;
        while (this.#heads[d]! < q.length && q[this.#heads[d]!]!.t <= this.now) {
          const f = q[this.#heads[d]!++]!;
          if (d === 0) {
            const r = this.b.process(this.cx, A.addr, B.addr, f.repr);
            if (r !== null) this.#send(false, r);
          } else {
            const r = this.a.process(this.cx, B.addr, A.addr, f.repr);
            if (r !== null) this.#send(true, r);
          }
        }
        if (this.#heads[d]! > 4096) {
          q.splice(0, this.#heads[d]!);
          this.#heads[d] = 0;
        }
      }
      if (this.o.write && this.a.maySend) {
        while (this.a.canSend) this.written += this.a.send(this.#chunk);
      }
      let budget = this.o.readRate;
      while (budget > 0 && this.b.canRecv) {
        const n = this.b.recv(this.#sink.subarray(0, Math.min(budget, this.#sink.length)));
        this.read += n;
        budget -= n;
      }
      const held = this.a.sendQueue + this.b.recvQueue;
      if (held > this.peakHeld) this.peakHeld = held;
      while (this.a.dispatch(this.cx, toB) || this.b.dispatch(this.cx, toA)) { /* drain */ }
    }
  }
}

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
  const grownRx = p.b.info.recvCapacity;
  p.o = { ...p.o, write: false };
  while (p.a.sendQueue > 0 || p.b.recvQueue > 0) p.run(p.now + 1); // the flight drains
  const drained = p.now;
  p.run(drained + 300); // delayed ACKs settle
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
