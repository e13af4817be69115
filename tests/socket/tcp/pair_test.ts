// Two TcpSockets wired back to back in virtual time: 16 MiB each way, SHA-256 checked, with
// delay, optional seeded loss, and a run across the 2^32 sequence wrap.

import assert from "node:assert/strict";
import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";

const A: IpEndpoint = { addr: Ipv4Address.parse("10.0.0.1"), port: 50000 };
const B: IpEndpoint = { addr: Ipv4Address.parse("10.0.0.2"), port: 443 };

interface Flight {
  t: number;
  toB: boolean;
  repr: TcpRepr;
}

export interface PairResult {
  time: number;
  segments: number;
  retransmitsA: number;
  retransmitsB: number;
  fastA: number;
  rtosA: number;
}

export interface PairOptions {
  size: number;
  delay: number;
  loss: number;
  seed: number;
  a?: TcpSocketOptions;
  b?: TcpSocketOptions;
  /** Bytes per ms the link carries each way (serialisation), 0 for unlimited. */
  rate?: number;
}

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

export async function runPair(o: PairOptions): Promise<PairResult> {
  const rng = new Rng(o.seed);
  const lossRng = new Rng(o.seed ^ 0x5555);
  const limiter = new TokenBucket({ burst: 1000, interval: 1000 });
  let now = 0;
  const cx = (): SocketContext => ({
    now,
    random: rng,
    ipMtu: 1500,
    isnSecret: new Uint8Array(16).fill(9),
    challengeAckLimiter: limiter,
  });
  const a = new TcpSocket(o.a);
  const b = new TcpSocket(o.b);
  b.listen(B);
  a.connect(cx(), B, A);

  const srcA = new Uint8Array(o.size);
  const srcB = new Uint8Array(o.size);
  new Rng(o.seed + 1).fill(srcA);
  new Rng(o.seed + 2).fill(srcB);
  const dstA = new Uint8Array(o.size); // what A received (from B)
  const dstB = new Uint8Array(o.size);
  let sentA = 0, sentB = 0, gotA = 0, gotB = 0;
  let closedA = false, closedB = false;

  const queue: Flight[] = [];
  let segments = 0;
  let busyUntilAB = 0, busyUntilBA = 0;
  const push = (toB: boolean, repr: TcpRepr) => {
    segments++;
    if (o.loss > 0 && lossRng.nextFloat() < o.loss) return;
    let t = now;
    if (o.rate) {
      const ser = (repr.payload.length + 40) / o.rate;
      if (toB) t = busyUntilAB = Math.max(busyUntilAB, now) + ser;
      else t = busyUntilBA = Math.max(busyUntilBA, now) + ser;
    }
    queue.push({ t: t + o.delay, toB, repr: { ...repr, payload: repr.payload.slice() } });
  };
  const toLinkA = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (push(true, r), true) };
  const toLinkB = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (push(false, r), true) };

  const app = () => {
    if (a.maySend && sentA < o.size) sentA += a.send(srcA.subarray(sentA, sentA + 65536));
    if (b.maySend && sentB < o.size) sentB += b.send(srcB.subarray(sentB, sentB + 65536));
    gotA += a.recv(dstA.subarray(gotA));
    gotB += b.recv(dstB.subarray(gotB));
    if (!closedA && sentA === o.size && a.maySend) {
      a.close();
      closedA = true;
    }
    if (!closedB && sentB === o.size && b.maySend) {
      b.close();
      closedB = true;
    }
  };

  let steps = 0;
  while (true) {
    assert.ok(++steps < 5_000_000, "simulation runs away");
    app();
    let progress = true;
    while (progress) {
      progress = false;
      while (a.dispatch(cx(), toLinkA)) progress = true;
      while (b.dispatch(cx(), toLinkB)) progress = true;
      app();
    }
    const done = (a.state === "closed" || a.state === "timeWait") &&
      (b.state === "closed" || b.state === "timeWait") && gotA === o.size && gotB === o.size;
    if (done || (a.state === "closed" && b.state === "closed")) break;
    let next = Math.min(a.pollAt(cx()), b.pollAt(cx()));
    for (const f of queue) if (f.t < next) next = f.t;
    assert.ok(next !== Infinity, `deadlock: ${a.state}/${b.state} got ${gotA}/${gotB}`);
    if (next > now) now = next;
    // deliver everything due, in order of arrival time
    queue.sort((x, y) => x.t - y.t);
    let i = 0;
    while (i < queue.length && queue[i]!.t <= now) {
      const f = queue[i++]!;
      const r = f.toB
        ? b.process(cx(), A.addr, B.addr, f.repr)
        : a.process(cx(), B.addr, A.addr, f.repr);
      if (r !== null) push(!f.toB, r);
    }
    queue.splice(0, i);
  }
  assert.equal(a.error, null);
  assert.equal(b.error, null);
  assert.equal(gotA, o.size);
  assert.equal(gotB, o.size);
  assert.equal(await sha256(dstB), await sha256(srcA));
  assert.equal(await sha256(dstA), await sha256(srcB));
  return {
    time: now,
    segments,
    retransmitsA: a.info.retransmits,
    retransmitsB: b.info.retransmits,
    fastA: a.info.fastRetransmits,
    rtosA: a.info.rtos,
  };
}

const MiB = 1 << 20;

Deno.test("TcpSocket pair moves 16 MiB each way intact (SACK, timestamps, scaling)", async () => {
  const r = await runPair({ size: 16 * MiB, delay: 5, loss: 0, seed: 1 });
  console.log("clean:", r);
});

Deno.test("TcpSocket pair moves 16 MiB each way across the 2^32 sequence wrap", async () => {
  const r = await runPair({
    size: 16 * MiB,
    delay: 5,
    loss: 0,
    seed: 2,
    a: { initialSequenceNumber: 2 ** 32 - 1000 },
    b: { initialSequenceNumber: 2 ** 32 - 5_000_000 },
  });
  console.log("wrap:", r);
});

Deno.test("TcpSocket pair moves 16 MiB each way with 1% loss (SACK recovery)", async () => {
  const r = await runPair({
    size: 16 * MiB,
    delay: 5,
    loss: 0.01,
    seed: 3,
    a: { initialSequenceNumber: 2 ** 32 - 3000 },
  });
  console.log("loss 1%:", r);
  assert.ok(r.retransmitsA > 0);
});

Deno.test("TcpSocket pair moves 4 MiB each way with 1% loss without SACK or timestamps (NewReno)", async () => {
  const r = await runPair({
    size: 4 * MiB,
    delay: 5,
    loss: 0.01,
    seed: 4,
    a: { sack: false, timestamps: false },
    b: { sack: false, timestamps: false },
  });
  console.log("newreno 1%:", r);
});

Deno.test("TcpSocket pair moves 4 MiB each way with CUBIC and small buffers that wrap often", async () => {
  const r = await runPair({
    size: 4 * MiB,
    delay: 3,
    loss: 0.005,
    seed: 5,
    a: { congestion: "cubic", rxBufferSize: 10_000, txBufferSize: 7_777 },
    b: { congestion: "cubic", rxBufferSize: 9_999, txBufferSize: 12_345, delayedAck: 0 },
  });
  console.log("cubic small buffers:", r);
});
