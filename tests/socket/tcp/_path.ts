// A two-socket path on explicit time for the buffer autotuning tests: two TcpSockets over a
// simulated path with a fixed one-way delay and rate, stepped 1 ms at a time. The application at A
// writes (and never reads); the one at B either reads at a set rate or echoes what it reads back
// (a `readable.pipeTo(writable)` echo server: one chunk read, then written whole, then the next).

import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";

export const A: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.1"), port: 50000 };
export const B: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };

export interface PathOptions {
  /** One-way delay in ms. */
  delay: number;
  /** Bytes per ms each way. */
  rate: number;
  /** Bytes the reader at B takes per ms (Infinity: all). */
  readRate: number;
  /** Whether A's application keeps writing. */
  write: boolean;
  /** Bytes A's application writes in all (default: no end). */
  limit?: number;
  /** Whether B's application writes what it reads back to A, one chunk at a time. */
  echo?: boolean;
  /** Whether A's application reads (all it can, every ms). */
  aRead?: boolean;
  a?: TcpSocketOptions;
  b?: TcpSocketOptions;
}

/** A writer at A, a reader (or echo) at B, stepped 1 ms at a time. */
export class Path {
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
  /** B's echo chunk: bytes read and not yet written back. */
  readonly #echo = new Uint8Array(65536);
  #echoOff = 0;
  #echoLen = 0;
  written = 0;
  read = 0;
  /** Bytes B's echo wrote back. */
  echoed = 0;
  /** Bytes A's application read. */
  readBack = 0;
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
        const limit = this.o.limit ?? Infinity;
        while (this.a.canSend && this.written < limit) {
          this.written += this.a.send(
            this.#chunk.subarray(0, Math.min(65536, limit - this.written)),
          );
        }
      }
      while (this.o.aRead && this.a.canRecv) this.readBack += this.a.recv(this.#sink);
      if (this.o.echo) this.#runEcho();
      else {
        let budget = this.o.readRate;
        while (budget > 0 && this.b.canRecv) {
          const n = this.b.recv(this.#sink.subarray(0, Math.min(budget, this.#sink.length)));
          this.read += n;
          budget -= n;
        }
      }
      const held = this.a.sendQueue + this.b.recvQueue;
      if (held > this.peakHeld) this.peakHeld = held;
      while (this.a.dispatch(this.cx, toB) || this.b.dispatch(this.cx, toA)) { /* drain */ }
    }
  }

  /** Like `readable.pipeTo(writable)`: read a chunk, write all of it back, then read again. */
  #runEcho(): void {
    let budget = this.o.readRate;
    while (true) {
      if (this.#echoOff < this.#echoLen) {
        if (!this.b.canSend) return;
        const n = this.b.send(this.#echo.subarray(this.#echoOff, this.#echoLen));
        this.#echoOff += n;
        this.echoed += n;
      } else {
        if (budget <= 0 || !this.b.canRecv) return;
        const n = this.b.recv(this.#echo.subarray(0, Math.min(budget, this.#echo.length)));
        this.read += n;
        budget -= n;
        this.#echoOff = 0;
        this.#echoLen = n;
      }
    }
  }
}
