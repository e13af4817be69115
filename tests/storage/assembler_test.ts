import assert from "node:assert/strict";
import fc from "fast-check";
import { Assembler } from "../../src/storage/assembler.ts";
import { RingBuffer } from "../../src/storage/ring_buffer.ts";

function rangesOf(asm: Assembler): [number, number][] {
  return [...asm.ranges()];
}

/** An assembler holding `ranges`, added in the given order. */
function holding(ranges: [number, number][], maxRanges?: number): Assembler {
  const asm = new Assembler(maxRanges);
  for (const [start, end] of ranges) assert.equal(asm.add(start, end - start), true);
  return asm;
}

Deno.test("Assembler starts empty with 32 ranges available by default", () => {
  const asm = new Assembler();
  assert.equal(asm.isEmpty(), true);
  assert.equal(asm.count, 0);
  assert.equal(asm.maxRanges, 32);
  assert.deepEqual(rangesOf(asm), []);
  assert.equal(asm.removeFront(), 0);
  assert.equal(asm.toString(), "empty");
});

Deno.test("Assembler rejects a range bound that is not a positive integer", () => {
  for (const bad of [0, -1, 2.5, NaN]) assert.throws(() => new Assembler(bad), RangeError);
  assert.equal(new Assembler(1).maxRanges, 1);
});

Deno.test("Assembler keeps disjoint ranges sorted whatever the arrival order", () => {
  const asm = holding([[50, 60], [10, 20], [30, 40], [70, 71]]);
  assert.deepEqual(rangesOf(asm), [[10, 20], [30, 40], [50, 60], [70, 71]]);
  assert.equal(asm.count, 4);
  assert.equal(asm.toString(), "[10, 20) [30, 40) [50, 60) [70, 71)");
});

Deno.test("Assembler merges a range that overlaps one end of another", () => {
  assert.deepEqual(rangesOf(holding([[10, 20], [15, 25]])), [[10, 25]]);
  assert.deepEqual(rangesOf(holding([[10, 20], [5, 12]])), [[5, 20]]);
});

Deno.test("Assembler merges adjacent ranges", () => {
  assert.deepEqual(rangesOf(holding([[10, 20], [20, 30]])), [[10, 30]]);
  assert.deepEqual(rangesOf(holding([[10, 20], [0, 10]])), [[0, 20]]);
  assert.deepEqual(rangesOf(holding([[0, 5], [10, 15], [5, 10]])), [[0, 15]]);
});

Deno.test("Assembler merges every range a new range spans", () => {
  const asm = holding([[10, 20], [30, 40], [50, 60], [70, 80]]);
  assert.equal(asm.add(15, 45), true); // [15, 60)
  assert.deepEqual(rangesOf(asm), [[10, 60], [70, 80]]);
  assert.equal(asm.add(0, 100), true);
  assert.deepEqual(rangesOf(asm), [[0, 100]]);
});

Deno.test("Assembler ignores a range it already holds", () => {
  const asm = holding([[10, 20], [30, 40]]);
  assert.equal(asm.add(12, 5), true);
  assert.equal(asm.add(10, 10), true);
  assert.deepEqual(rangesOf(asm), [[10, 20], [30, 40]]);
});

Deno.test("Assembler accepts an empty range without changing anything", () => {
  const asm = holding([[10, 20]], 1);
  assert.equal(asm.add(50, 0), true);
  assert.equal(asm.add(0, 0), true);
  assert.deepEqual(rangesOf(asm), [[10, 20]]);
});

Deno.test("Assembler refuses a range that needs one too many and changes nothing", () => {
  const asm = holding([[10, 20], [30, 40]], 2);
  assert.equal(asm.add(50, 5), false);
  assert.equal(asm.add(0, 5), false);
  assert.equal(asm.add(22, 5), false);
  assert.deepEqual(rangesOf(asm), [[10, 20], [30, 40]]);
});

Deno.test("Assembler at its bound still accepts ranges that merge", () => {
  const asm = holding([[10, 20], [30, 40]], 2);
  assert.equal(asm.add(40, 5), true);
  assert.equal(asm.add(5, 5), true);
  assert.deepEqual(rangesOf(asm), [[5, 20], [30, 45]]);
  assert.equal(asm.add(20, 10), true); // joins both: one range is free again
  assert.deepEqual(rangesOf(asm), [[5, 45]]);
  assert.equal(asm.add(50, 1), true);
  assert.deepEqual(rangesOf(asm), [[5, 45], [50, 51]]);
});

Deno.test("Assembler removeFront returns 0 and keeps ranges while offset 0 is missing", () => {
  const asm = holding([[1, 10]]);
  assert.equal(asm.removeFront(), 0);
  assert.deepEqual(rangesOf(asm), [[1, 10]]);
});

Deno.test("Assembler removeFront takes the front run and rebases the rest", () => {
  const asm = holding([[0, 10], [15, 20], [30, 31]]);
  assert.equal(asm.removeFront(), 10);
  assert.deepEqual(rangesOf(asm), [[5, 10], [20, 21]]);
  assert.equal(asm.removeFront(), 0);
});

Deno.test("Assembler adding at 0 in front of held data returns the whole contiguous run", () => {
  const touching = holding([[10, 20], [25, 30]]);
  assert.equal(touching.add(0, 10), true);
  assert.equal(touching.removeFront(), 20);
  assert.deepEqual(rangesOf(touching), [[5, 10]]);

  const overlapping = holding([[5, 20]]);
  assert.equal(overlapping.add(0, 8), true);
  assert.equal(overlapping.removeFront(), 20);
  assert.equal(overlapping.isEmpty(), true);

  const gap = holding([[11, 20]]);
  assert.equal(gap.add(0, 10), true);
  assert.equal(gap.removeFront(), 10);
  assert.deepEqual(rangesOf(gap), [[1, 10]]);
});

Deno.test("Assembler rebase drops, cuts and shifts ranges", () => {
  const asm = holding([[2, 5], [8, 12], [20, 25]]);
  asm.rebase(10);
  assert.deepEqual(rangesOf(asm), [[0, 2], [10, 15]]);
  assert.equal(asm.removeFront(), 2);
  assert.deepEqual(rangesOf(asm), [[8, 13]]);
});

Deno.test("Assembler rebase to the exact end of a range drops it", () => {
  const asm = holding([[2, 5], [8, 12]]);
  asm.rebase(12);
  assert.equal(asm.isEmpty(), true);
  asm.rebase(5);
  assert.equal(asm.isEmpty(), true);
});

Deno.test("Assembler rebase to a range start leaves it at offset 0", () => {
  const asm = holding([[10, 20], [30, 40]]);
  asm.rebase(10);
  assert.deepEqual(rangesOf(asm), [[0, 10], [20, 30]]);
  asm.rebase(0);
  assert.deepEqual(rangesOf(asm), [[0, 10], [20, 30]]);
});

Deno.test("Assembler rebase for in-order data works when every range is in use", () => {
  const asm = holding([[10, 20], [30, 40]], 2);
  assert.equal(asm.add(0, 5), false); // the trap rebase avoids
  asm.rebase(5);
  assert.equal(asm.removeFront(), 0);
  asm.rebase(5);
  assert.equal(asm.removeFront(), 10);
  assert.deepEqual(rangesOf(asm), [[10, 20]]);
});

Deno.test("Assembler clear forgets every range", () => {
  const asm = holding([[1, 2], [4, 5]]);
  asm.clear();
  assert.equal(asm.isEmpty(), true);
  assert.deepEqual(rangesOf(asm), []);
  assert.equal(asm.add(0, 3), true);
  assert.equal(asm.removeFront(), 3);
});

Deno.test("Assembler ranges yields fresh tuples", () => {
  const asm = holding([[1, 2]]);
  const [first] = asm.ranges();
  first![0] = 99;
  assert.deepEqual(rangesOf(asm), [[1, 2]]);
});

Deno.test("Assembler handles offsets beyond 2^32", () => {
  const asm = holding([[2 ** 32, 2 ** 32 + 10], [2 ** 31, 2 ** 31 + 1]]);
  assert.deepEqual(rangesOf(asm), [[2 ** 31, 2 ** 31 + 1], [2 ** 32, 2 ** 32 + 10]]);
  asm.rebase(2 ** 31);
  assert.deepEqual(rangesOf(asm), [[0, 1], [2 ** 31, 2 ** 31 + 10]]);
});

Deno.test("Assembler rejects negative, fractional and unsafe arguments", () => {
  const asm = holding([[3, 4]]);
  for (const bad of [-1, 0.5, NaN, Infinity]) {
    assert.throws(() => asm.add(bad, 1), RangeError);
    assert.throws(() => asm.add(1, bad), RangeError);
    assert.throws(() => asm.rebase(bad), RangeError);
  }
  assert.throws(() => asm.add(Number.MAX_SAFE_INTEGER, 1), RangeError);
  assert.deepEqual(rangesOf(asm), [[3, 4]]);
});

// ---------------------------------------------------------------------------------------------
// Model-based property test: a boolean per byte offset.

const SPAN = 160;

type Op =
  | { op: "add"; offset: number; size: number }
  | { op: "removeFront" }
  | { op: "rebase"; count: number }
  | { op: "clear" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      offset: fc.integer({ min: 0, max: 60 }),
      size: fc.integer({ min: 0, max: 12 }),
    }),
    weight: 8,
  },
  { arbitrary: fc.record({ op: fc.constant("removeFront" as const) }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant("rebase" as const),
      count: fc.integer({ min: 0, max: 20 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant("clear" as const) }), weight: 1 },
);

function runsOf(bits: readonly boolean[]): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    const start = i;
    while (i < bits.length && bits[i]) i++;
    runs.push([start, i]);
  }
  return runs;
}

function shift(bits: boolean[], n: number): boolean[] {
  return [...bits.slice(n), ...new Array<boolean>(Math.min(n, bits.length)).fill(false)];
}

function runModel(maxRanges: number, ops: readonly Op[]): void {
  const asm = new Assembler(maxRanges);
  let bits = new Array<boolean>(SPAN).fill(false);
  for (const o of ops) {
    switch (o.op) {
      case "add": {
        const next = [...bits];
        for (let i = o.offset; i < o.offset + o.size; i++) next[i] = true;
        const fits = runsOf(next).length <= maxRanges;
        assert.equal(asm.add(o.offset, o.size), fits, `add(${o.offset}, ${o.size}) to ${asm}`);
        if (fits) bits = next;
        break;
      }
      case "removeFront": {
        let run = 0;
        while (bits[run]) run++;
        assert.equal(asm.removeFront(), run);
        bits = shift(bits, run);
        break;
      }
      case "rebase": {
        asm.rebase(o.count);
        bits = shift(bits, o.count);
        break;
      }
      case "clear": {
        asm.clear();
        bits.fill(false);
        break;
      }
    }
    const runs = runsOf(bits);
    assert.deepEqual(rangesOf(asm), runs);
    assert.equal(asm.count, runs.length);
    assert.equal(asm.isEmpty(), runs.length === 0);
  }
}

Deno.test("Assembler matches a bitmap model for random operation sequences", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(opArb, { maxLength: 60, size: "max" }),
      runModel,
    ),
    { numRuns: 5000 },
  );
});

Deno.test("Assembler matches a bitmap model with the default bound", () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 20, maxLength: 120, size: "max" }),
      (ops) => runModel(32, ops),
    ),
    { numRuns: 1000 },
  );
});

Deno.test("Assembler and RingBuffer reassemble a stream from shuffled, duplicated segments", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 80, size: "max" }),
      fc.integer({ min: 1, max: 8 }),
      (capacity, sizes, picks, maxRanges) => {
        // The stream is cut into segments that arrive in random order, with repeats; then the
        // sender retransmits whatever segment holds RCV.NXT until everything has arrived.
        const stream = Uint8Array.from(
          { length: sizes.reduce((a, b) => a + b, 0) },
          (_, i) => i * 7,
        );
        const segs: [number, number][] = [];
        let at = 0;
        for (const s of sizes) segs.push([at, at += s]);

        const rx = new RingBuffer(capacity);
        const asm = new Assembler(maxRanges);
        const received: number[] = [];
        let rcvNxt = 0;
        const arrive = ([start, end]: [number, number]): void => {
          // Trim to [RCV.NXT, RCV.NXT + window), as TCP does (RFC 9293 §3.10.7.4).
          const from = Math.max(start, rcvNxt);
          const to = Math.min(end, rcvNxt + rx.window);
          if (from < to) {
            const offset = from - rcvNxt;
            assert.equal(rx.writeUnallocated(offset, stream.subarray(from, to)), to - from);
            if (offset === 0) {
              asm.rebase(to - from);
              const ready = to - from + asm.removeFront();
              rx.enqueueUnallocated(ready);
              rcvNxt += ready;
            } else {
              asm.add(offset, to - from);
            }
          }
          // The application reads a little after each segment.
          const out = new Uint8Array(Math.min(rx.length, 17));
          received.push(...out.subarray(0, rx.dequeueSlice(out)));
        };
        for (const p of picks) arrive(segs[p % segs.length]!);
        for (let guard = 0; rcvNxt < stream.length; guard++) {
          assert.ok(guard < 10 * stream.length, "no progress");
          arrive(segs.find(([start, end]) => start <= rcvNxt && rcvNxt < end)!);
        }
        const out = new Uint8Array(rx.length);
        received.push(...out.subarray(0, rx.dequeueSlice(out)));
        assert.equal(rcvNxt, stream.length);
        assert.deepEqual(received, [...stream]);
      },
    ),
    { numRuns: 2000 },
  );
});
