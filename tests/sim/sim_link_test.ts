import assert from "node:assert/strict";
import { SimLink, type SimLinkOptions, Simulator } from "./sim.ts";

interface Arrival {
  t: number;
  id: number;
  bytes: Uint8Array;
}

/** Sends `count` frames of `len` bytes from `a` at `sendAt(i)` and records arrivals at `b`. */
function drive(
  seed: number,
  options: SimLinkOptions,
  count: number,
  len: number,
  sendAt: (i: number) => number = () => 0,
): { sim: Simulator; link: SimLink; arrivals: Arrival[] } {
  const sim = new Simulator(seed);
  const link = new SimLink(sim, options);
  const arrivals: Arrival[] = [];
  link.b.onArrival = () => {
    for (let f = link.b.receive(sim.now); f !== null; f = link.b.receive(sim.now)) {
      const id = f[0]! | (f[1]! << 8) | (f[2]! << 16);
      arrivals.push({ t: sim.now, id, bytes: f.slice() });
    }
  };
  for (let i = 0; i < count; i++) {
    sim.at(sendAt(i), () => {
      const buf = link.a.transmit(sim.now, len);
      assert.ok(buf !== null);
      buf.fill(0x5a);
      buf[0] = i & 0xff;
      buf[1] = (i >>> 8) & 0xff;
      buf[2] = (i >>> 16) & 0xff;
      link.a.commit();
    });
  }
  sim.runUntil(() => false, Infinity);
  return { sim, link, arrivals };
}

Deno.test("Simulator runs events in time order and equal times in insertion order", () => {
  const sim = new Simulator(1);
  const seen: string[] = [];
  for (const [t, name] of [[5, "c"], [1, "a"], [5, "d"], [3, "b"], [0, "z"], [5, "e"]] as const) {
    sim.at(t, () => seen.push(`${name}@${sim.now}`));
  }
  sim.runUntil(() => false, Infinity);
  assert.deepEqual(seen, ["z@0", "a@1", "b@3", "c@5", "d@5", "e@5"]);
  assert.throws(() => sim.at(4, () => {}), RangeError);
});

Deno.test("Simulator.runUntil stops at the predicate or at the time bound, and failures name the seed", () => {
  const sim = new Simulator(77);
  let n = 0;
  for (let t = 0; t < 100; t++) sim.at(t, () => n++);
  assert.equal(sim.runUntil(() => n === 10, 1000), true);
  assert.equal(sim.now, 9);
  assert.equal(sim.runUntil(() => false, 50.5), false);
  assert.equal(sim.now, 50.5);
  assert.equal(n, 51);
  assert.throws(() => sim.runOrFail(() => false, 60, "never"), /seed 77, t=60 ms/);
});

Deno.test("SimLink delivers after exactly the latency when bandwidth is unlimited", () => {
  const { arrivals } = drive(1, { latency: 50 }, 3, 100, (i) => i * 10);
  assert.deepEqual(arrivals.map((a) => [a.id, a.t]), [[0, 50], [1, 60], [2, 70]]);
});

Deno.test("SimLink adds serialisation delay: 1000 bytes at 8 Mbit/s take exactly 1 ms each", () => {
  // Ten frames committed at t=0 leave back to back: frame i finishes at (i+1) ms, arrives 20 ms later.
  const { arrivals, link } = drive(1, { latency: 20, bandwidth: 8_000_000 }, 10, 1000);
  assert.deepEqual(arrivals.map((a) => a.t), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  assert.equal(link.ab.maxQueued, 10_000);
  // A frame sent after the queue drained starts at once.
  const late = drive(1, { latency: 0, bandwidth: 8_000_000 }, 2, 500, (i) => i * 5);
  assert.deepEqual(late.arrivals.map((a) => a.t), [0.5, 5.5]);
});

Deno.test("SimLink drops at the tail when the byte queue is full and frees room as frames leave", () => {
  // 1000-byte frames, 1 ms each, queue of 4000 bytes: four fit, the rest of the burst is dropped.
  const { arrivals, link } = drive(1, { bandwidth: 8_000_000, queueBytes: 4000 }, 10, 1000);
  assert.deepEqual(arrivals.map((a) => a.id), [0, 1, 2, 3]);
  assert.equal(link.ab.droppedQueue, 6);
  // One frame every 1 ms never overflows it.
  const paced = drive(1, { bandwidth: 8_000_000, queueBytes: 1000 }, 50, 1000, (i) => i);
  assert.equal(paced.arrivals.length, 50);
  assert.equal(paced.link.ab.droppedQueue, 0);
  // Half a millisecond apart, the queue of one frame takes every other frame.
  const fast = drive(1, { bandwidth: 8_000_000, queueBytes: 1000 }, 10, 1000, (i) => i * 0.5);
  assert.deepEqual(fast.arrivals.map((a) => a.id), [0, 2, 4, 6, 8]);
});

Deno.test("SimLink loss rate is within 1 point of 10 % over 20,000 frames for seed 12345", () => {
  const { arrivals, link } = drive(12345, { loss: 0.1 }, 20_000, 64, (i) => i);
  const rate = link.ab.lost / 20_000;
  console.log(`loss 10 %: ${link.ab.lost} of 20000 lost (${(rate * 100).toFixed(2)} %)`);
  assert.ok(Math.abs(rate - 0.1) < 0.01, `loss rate ${rate} (seed 12345)`);
  assert.equal(arrivals.length + link.ab.lost, 20_000);
});

Deno.test("SimLink duplicates, reorders and corrupts at their rates", () => {
  const n = 20_000;
  const { arrivals, link } = drive(
    9,
    { latency: 10, duplicate: 0.05, reorder: 0.05, reorderDelay: 3.5, corrupt: 0.01 },
    n,
    64,
    (i) => i,
  );
  const st = link.ab;
  for (
    const [name, count, p] of [
      ["duplicated", st.duplicated, 0.05],
      ["reordered", st.reordered, 0.05],
      ["corrupted", st.corrupted, 0.01],
    ] as const
  ) {
    assert.ok(Math.abs(count / n - p) < p * 0.2, `${name} ${count} of ${n} (seed 9)`);
  }
  assert.equal(arrivals.length, n + st.duplicated);
  // A reordered frame sent at i ms arrives at i + 13.5, after the frames sent at i+1..i+3: one
  // descent in the id sequence each (twice with its duplicate; a corrupted id byte adds up to two).
  let overtaken = 0;
  for (let k = 1; k < arrivals.length; k++) if (arrivals[k]!.id < arrivals[k - 1]!.id) overtaken++;
  assert.ok(
    overtaken >= st.reordered * 0.9 && overtaken <= 2 * (st.reordered + st.corrupted),
    `overtaken ${overtaken}, reordered ${st.reordered}`,
  );
  // Exactly one bit differs from the 0x5a fill in a corrupted frame's body (or the id bytes).
  let flipped = 0;
  for (const a of arrivals) {
    let bits = 0;
    for (let j = 3; j < a.bytes.length; j++) {
      let x = a.bytes[j]! ^ 0x5a;
      while (x !== 0) {
        bits += x & 1;
        x >>>= 1;
      }
    }
    assert.ok(bits <= 1);
    flipped += bits;
  }
  assert.ok(flipped > 0 && flipped <= st.corrupted + st.duplicated);
});

Deno.test("SimLink with reorderDepth holds a frame until that many later frames pass, or reorderDelay when none come", () => {
  // One frame per ms, 1 ms latency; every frame is a candidate at 5 %, held for 3 later frames.
  const n = 5_000;
  const { arrivals, link } = drive(
    4,
    { latency: 1, reorder: 0.05, reorderDepth: 3, reorderDelay: 50 },
    n,
    64,
    (i) => i,
  );
  assert.equal(arrivals.length, n, "nothing lost");
  assert.ok(link.ab.reordered > 150, `${link.ab.reordered} held`);
  let highest = -1;
  for (const [k, a] of arrivals.entries()) {
    if (a.t === a.id + 1) {
      assert.ok(a.id > highest, `frame ${a.id} on time, after no later frame`);
    } else {
      // Held: it arrives right after the third later frame it waited for, never by the 50 ms
      // bound here, since frames keep coming.
      const passed = arrivals.slice(0, k).filter((b) => b.id > a.id).length;
      assert.ok(passed >= 3, `frame ${a.id} overtaken by ${passed}`);
      assert.ok(a.t - (a.id + 1) < 50, `frame ${a.id} held ${a.t - a.id - 1} ms`);
    }
    if (a.id > highest) highest = a.id;
  }
  // The last frame has no later ones: held, it waits for the bound.
  const last = drive(4, { latency: 1, reorder: 1, reorderDepth: 3, reorderDelay: 50 }, 1, 64);
  assert.deepEqual(last.arrivals.map((a) => a.t), [51]);
});

Deno.test("SimLink runs are identical for the same seed and differ for another", () => {
  const opts: SimLinkOptions = {
    latency: 7,
    bandwidth: 10_000_000,
    queueBytes: 20_000,
    loss: 0.1,
    duplicate: 0.05,
    reorder: 0.05,
    corrupt: 0.02,
  };
  const trace = (seed: number): string => {
    const { arrivals } = drive(seed, opts, 2000, 300, (i) => i * 0.2);
    let h = 0;
    for (const a of arrivals) {
      h = Math.imul(h ^ a.id, 0x9e3779b1) ^ Math.round(a.t * 1000);
      for (const b of a.bytes) h = Math.imul(h ^ b, 0x85ebca6b);
    }
    return `${arrivals.length}:${h >>> 0}`;
  };
  assert.equal(trace(42), trace(42));
  assert.notEqual(trace(42), trace(43));
});

Deno.test("SimLink refuses frames over the MTU and rejects bad parameters", () => {
  const sim = new Simulator(1);
  const link = new SimLink(sim, { mtu: 200 });
  assert.equal(link.a.transmit(0, 201), null);
  assert.equal(link.ab.tooBig, 1);
  assert.ok(link.a.transmit(0, 200) !== null);
  assert.throws(() => new SimLink(sim, { loss: -0.1 }), RangeError);
  assert.throws(() => new SimLink(sim, { bandwidth: 0 }), RangeError);
});
