import assert from "node:assert/strict";
import fc from "fast-check";
import { RingBuffer } from "../../src/storage/ring_buffer.ts";

/** Bytes 1, 2, ..., n (never 0, so they differ from fresh memory). */
function seq(n: number, from = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) & 0xff;
  return b;
}

/** Every queued byte, read without consuming. */
function contents(ring: RingBuffer): number[] {
  const out = new Uint8Array(ring.length);
  assert.equal(ring.readAllocated(0, out), ring.length);
  return [...out];
}

/** Drains the ring through `dequeueSlice`. */
function drain(ring: RingBuffer): number[] {
  const out = new Uint8Array(ring.length);
  assert.equal(ring.dequeueSlice(out), out.length);
  return [...out];
}

/** A ring whose read position sits at `at`, with nothing queued. */
function ringAt(capacity: number, at: number): RingBuffer {
  const ring = new RingBuffer(capacity);
  ring.enqueueUnallocated(at);
  ring.dequeueAllocated(at);
  return ring;
}

Deno.test("RingBuffer starts empty with the whole capacity free", () => {
  const ring = new RingBuffer(10);
  assert.equal(ring.capacity, 10);
  assert.equal(ring.length, 0);
  assert.equal(ring.window, 10);
  assert.equal(ring.isEmpty(), true);
  assert.equal(ring.isFull(), false);
});

Deno.test("RingBuffer rejects a capacity that is not a non-negative integer", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => new RingBuffer(bad), RangeError, String(bad));
  }
});

Deno.test("RingBuffer enqueueSlice copies what fits and reports the count", () => {
  const ring = new RingBuffer(5);
  assert.equal(ring.enqueueSlice(seq(3)), 3);
  assert.equal(ring.enqueueSlice(seq(4, 10)), 2);
  assert.equal(ring.enqueueSlice(seq(1)), 0);
  assert.equal(ring.isFull(), true);
  assert.equal(ring.window, 0);
  assert.deepEqual(contents(ring), [1, 2, 3, 10, 11]);
});

Deno.test("RingBuffer enqueueSlice of an empty slice changes nothing", () => {
  const ring = new RingBuffer(4);
  assert.equal(ring.enqueueSlice(new Uint8Array(0)), 0);
  assert.equal(ring.length, 0);
});

Deno.test("RingBuffer dequeueSlice moves out at most what is queued", () => {
  const ring = new RingBuffer(8);
  ring.enqueueSlice(seq(5));
  const dst = new Uint8Array(3);
  assert.equal(ring.dequeueSlice(dst), 3);
  assert.deepEqual([...dst], [1, 2, 3]);
  const big = new Uint8Array(6).fill(0xee);
  assert.equal(ring.dequeueSlice(big), 2);
  assert.deepEqual([...big], [4, 5, 0xee, 0xee, 0xee, 0xee]);
  assert.equal(ring.dequeueSlice(big), 0);
  assert.equal(ring.isEmpty(), true);
});

Deno.test("RingBuffer wraps around when enqueuing past the end", () => {
  const ring = ringAt(8, 6);
  assert.equal(ring.enqueueSlice(seq(5)), 5); // 2 bytes at the end, 3 at the start
  assert.deepEqual(contents(ring), [1, 2, 3, 4, 5]);
  assert.equal(ring.enqueueSlice(seq(4, 6)), 3);
  assert.equal(ring.isFull(), true);
  assert.deepEqual(drain(ring), [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("RingBuffer wraps around when dequeuing past the end", () => {
  const ring = ringAt(7, 5);
  ring.enqueueSlice(seq(7));
  const a = new Uint8Array(4);
  assert.equal(ring.dequeueSlice(a), 4);
  assert.deepEqual([...a], [1, 2, 3, 4]);
  ring.enqueueSlice(seq(4, 8));
  assert.deepEqual(drain(ring), [5, 6, 7, 8, 9, 10, 11]);
});

Deno.test("RingBuffer of capacity 1 cycles one byte at a time", () => {
  const ring = new RingBuffer(1);
  const one = new Uint8Array(1);
  for (let i = 1; i <= 5; i++) {
    assert.equal(ring.enqueueSlice(new Uint8Array([i, 99])), 1);
    assert.equal(ring.isFull(), true);
    assert.equal(ring.enqueueSlice(new Uint8Array([99])), 0);
    assert.equal(ring.dequeueSlice(one), 1);
    assert.equal(one[0], i);
  }
  assert.equal(ring.writeUnallocated(0, new Uint8Array([42])), 1);
  ring.enqueueUnallocated(1);
  assert.deepEqual([...ring.getAllocated(0, 5)], [42]);
});

Deno.test("RingBuffer of capacity 0 is always empty and full", () => {
  const ring = new RingBuffer(0);
  assert.equal(ring.isEmpty(), true);
  assert.equal(ring.isFull(), true);
  assert.equal(ring.window, 0);
  assert.equal(ring.enqueueSlice(seq(3)), 0);
  assert.equal(ring.dequeueSlice(new Uint8Array(3)), 0);
  assert.equal(ring.writeUnallocated(0, seq(3)), 0);
  assert.equal(ring.readAllocated(0, new Uint8Array(3)), 0);
  assert.equal(ring.getAllocated(0, 3).length, 0);
  assert.equal(ring.getUnallocated(0, 3).length, 0);
  ring.enqueueUnallocated(0);
  ring.dequeueAllocated(0);
  assert.throws(() => ring.enqueueUnallocated(1), RangeError);
  assert.throws(() => ring.dequeueAllocated(1), RangeError);
  ring.clear();
  assert.equal(ring.length, 0);
});

Deno.test("RingBuffer writeUnallocated places bytes after the end without queueing them", () => {
  const ring = new RingBuffer(10);
  ring.enqueueSlice(seq(2));
  assert.equal(ring.writeUnallocated(3, seq(2, 20)), 2);
  assert.equal(ring.length, 2);
  assert.equal(ring.writeUnallocated(0, seq(3, 10)), 3);
  ring.enqueueUnallocated(5);
  assert.deepEqual(drain(ring), [1, 2, 10, 11, 12, 20, 21]);
});

Deno.test("RingBuffer writeUnallocated clips to the window and ignores offsets past it", () => {
  const ring = new RingBuffer(6);
  ring.enqueueSlice(seq(2));
  assert.equal(ring.writeUnallocated(2, seq(5, 30)), 2);
  assert.equal(ring.writeUnallocated(4, seq(1)), 0);
  assert.equal(ring.writeUnallocated(100, seq(1)), 0);
  assert.equal(ring.writeUnallocated(0, new Uint8Array(0)), 0);
  ring.enqueueUnallocated(4);
  assert.deepEqual(contents(ring).slice(4), [30, 31]);
});

Deno.test("RingBuffer writeUnallocated wraps around the end", () => {
  const ring = ringAt(8, 5);
  ring.enqueueSlice(seq(1));
  assert.equal(ring.writeUnallocated(1, seq(5, 40)), 5); // physical 7, 0, 1, 2, 3
  assert.equal(ring.writeUnallocated(0, seq(1, 39)), 1);
  ring.enqueueUnallocated(6);
  assert.deepEqual(drain(ring), [1, 39, 40, 41, 42, 43, 44]);
});

Deno.test("RingBuffer keeps unallocated bytes when the queue empties before they are committed", () => {
  const ring = new RingBuffer(8);
  ring.enqueueSlice(seq(3));
  ring.writeUnallocated(2, seq(3, 50)); // out-of-order data beyond a 2-byte gap
  assert.deepEqual(drain(ring), [1, 2, 3]);
  ring.writeUnallocated(0, seq(2, 60)); // the gap arrives
  ring.enqueueUnallocated(5);
  assert.deepEqual(drain(ring), [60, 61, 50, 51, 52]);
});

Deno.test("RingBuffer enqueueUnallocated rejects committing more than is free", () => {
  const ring = new RingBuffer(4);
  ring.enqueueSlice(seq(3));
  assert.throws(
    () => ring.enqueueUnallocated(2),
    RangeError,
    "Cannot commit 2 bytes: only 1 are free",
  );
  assert.equal(ring.length, 3);
  ring.enqueueUnallocated(1);
  assert.equal(ring.isFull(), true);
});

Deno.test("RingBuffer enqueueUnallocated before any write commits zeros", () => {
  const ring = new RingBuffer(4);
  ring.enqueueUnallocated(3);
  assert.deepEqual(contents(ring), [0, 0, 0]);
});

Deno.test("RingBuffer rejects negative and fractional counts and offsets", () => {
  const ring = new RingBuffer(8);
  ring.enqueueSlice(seq(4));
  const dst = new Uint8Array(2);
  for (const bad of [-1, 0.5, NaN]) {
    assert.throws(() => ring.enqueueUnallocated(bad), RangeError);
    assert.throws(() => ring.dequeueAllocated(bad), RangeError);
    assert.throws(() => ring.writeUnallocated(bad, dst), RangeError);
    assert.throws(() => ring.readAllocated(bad, dst), RangeError);
    assert.throws(() => ring.getAllocated(bad, 1), RangeError);
    assert.throws(() => ring.getAllocated(0, bad), RangeError);
    assert.throws(() => ring.getUnallocated(bad, 1), RangeError);
    assert.throws(() => ring.getUnallocated(0, bad), RangeError);
  }
  assert.deepEqual(contents(ring), [1, 2, 3, 4]);
});

Deno.test("RingBuffer readAllocated copies from an offset without consuming", () => {
  const ring = new RingBuffer(8);
  ring.enqueueSlice(seq(6));
  const dst = new Uint8Array(3).fill(0xee);
  assert.equal(ring.readAllocated(2, dst), 3);
  assert.deepEqual([...dst], [3, 4, 5]);
  const tail = new Uint8Array(4).fill(0xee);
  assert.equal(ring.readAllocated(4, tail), 2);
  assert.deepEqual([...tail], [5, 6, 0xee, 0xee]);
  assert.equal(ring.readAllocated(6, tail), 0);
  assert.equal(ring.readAllocated(60, tail), 0);
  assert.equal(ring.length, 6);
});

Deno.test("RingBuffer readAllocated reads across the wrap", () => {
  const ring = ringAt(6, 4);
  ring.enqueueSlice(seq(6));
  const dst = new Uint8Array(4);
  assert.equal(ring.readAllocated(1, dst), 4);
  assert.deepEqual([...dst], [2, 3, 4, 5]);
});

Deno.test("RingBuffer getAllocated returns a view that stops at the wrap", () => {
  const ring = ringAt(8, 5);
  ring.enqueueSlice(seq(6)); // physical 5, 6, 7, 0, 1, 2
  const first = ring.getAllocated(0, 10);
  assert.deepEqual([...first], [1, 2, 3]);
  assert.deepEqual([...ring.getAllocated(first.length, 10)], [4, 5, 6]);
  assert.deepEqual([...ring.getAllocated(1, 1)], [2]);
  assert.deepEqual([...ring.getAllocated(4, 10)], [5, 6]);
  assert.equal(ring.getAllocated(6, 10).length, 0);
  assert.equal(ring.getAllocated(0, 0).length, 0);
});

Deno.test("RingBuffer getAllocated aliases the queued bytes", () => {
  const ring = new RingBuffer(4);
  ring.enqueueSlice(seq(2));
  ring.getAllocated(0, 2)[1] = 77;
  assert.deepEqual(contents(ring), [1, 77]);
});

Deno.test("RingBuffer getAllocated on an untouched ring returns an empty view", () => {
  assert.equal(new RingBuffer(16).getAllocated(0, 16).length, 0);
});

Deno.test("RingBuffer getUnallocated returns writable free space that stops at the wrap", () => {
  const ring = ringAt(8, 6);
  ring.enqueueSlice(seq(1)); // physical 6; free space starts at 7
  const a = ring.getUnallocated(0, 10);
  assert.equal(a.length, 1);
  a.set([20]);
  const b = ring.getUnallocated(1, 3);
  assert.equal(b.length, 3);
  b.set([21, 22, 23]);
  assert.equal(ring.getUnallocated(7, 3).length, 0);
  ring.enqueueUnallocated(4);
  assert.deepEqual(drain(ring), [1, 20, 21, 22, 23]);
});

Deno.test("RingBuffer dequeueAllocated drops from the front and rejects more than is queued", () => {
  const ring = new RingBuffer(5);
  ring.enqueueSlice(seq(4));
  ring.dequeueAllocated(3);
  assert.deepEqual(contents(ring), [4]);
  assert.throws(
    () => ring.dequeueAllocated(2),
    RangeError,
    "Cannot drop 2 bytes: only 1 are queued",
  );
  ring.enqueueSlice(seq(4, 10)); // wraps
  ring.dequeueAllocated(2);
  assert.deepEqual(contents(ring), [11, 12, 13]);
});

Deno.test("RingBuffer clear empties the queue and frees the whole window", () => {
  const ring = ringAt(6, 4);
  ring.enqueueSlice(seq(5));
  ring.clear();
  assert.equal(ring.isEmpty(), true);
  assert.equal(ring.window, 6);
  ring.enqueueSlice(seq(6, 30));
  assert.deepEqual([...ring.getAllocated(0, 6)], [30, 31, 32, 33, 34, 35]);
});

Deno.test("RingBuffer copes with a source that aliases its own storage", () => {
  const ring = ringAt(8, 2);
  ring.enqueueSlice(seq(4));
  const view = ring.getAllocated(0, 4);
  assert.equal(ring.enqueueSlice(view), 4);
  assert.deepEqual(drain(ring), [1, 2, 3, 4, 1, 2, 3, 4]);
});

// Issue 13 changed this test on purpose: a ring used to allocate its whole capacity on the first
// write; its storage now grows with the bytes written.
Deno.test("RingBuffer allocates its bytes on the first write and only as many as are used", () => {
  const before = Deno.memoryUsage().external;
  const rings = Array.from({ length: 256 }, () => new RingBuffer(1 << 20));
  const idle = Deno.memoryUsage().external - before;
  assert.ok(idle < 16 << 20, `256 idle 1 MiB rings took ${idle} external bytes`);
  const mid = Deno.memoryUsage().external;
  for (let i = 0; i < 16; i++) rings[i]!.enqueueSlice(seq(1));
  const used = Deno.memoryUsage().external - mid;
  assert.ok(used < 1 << 20, `16 rings holding one byte each took ${used} external bytes`);
  assert.equal(rings[0]!.storageSize, 4096);
  const full = Deno.memoryUsage().external;
  for (let i = 0; i < 16; i++) rings[i]!.enqueueSlice(new Uint8Array(1 << 20));
  const grown = Deno.memoryUsage().external - full;
  assert.ok(grown >= 8 << 20, `16 filled 1 MiB rings took only ${grown} external bytes`);
  assert.equal(rings[0]!.storageSize, 1 << 20, "never more than the capacity");
});

Deno.test("RingBuffer keeps queued and written-ahead bytes at their offsets when its storage grows", () => {
  const ring = new RingBuffer(100_000);
  ring.enqueueSlice(seq(3000));
  ring.dequeueAllocated(2500); // the read position is now inside the first 4 KiB storage
  ring.enqueueSlice(seq(3000, 1)); // wraps
  assert.equal(ring.storageSize, 4096);
  ring.writeUnallocated(10_000, seq(500, 9)); // far ahead: the storage doubles to fit it
  assert.ok(ring.storageSize >= 13_500);
  const out = new Uint8Array(3500);
  assert.equal(ring.readAllocated(0, out), 3500);
  assert.deepEqual([...out], [...seq(3000).subarray(2500), ...seq(3000, 1)]);
  ring.writeUnallocated(0, new Uint8Array(10_000));
  ring.enqueueUnallocated(10_500);
  const tail = new Uint8Array(500);
  ring.readAllocated(13_500, tail);
  assert.deepEqual(tail, seq(500, 9));
});

Deno.test("RingBuffer resize raises and lowers the bound, keeping bytes and refusing to drop queued ones", () => {
  const ring = new RingBuffer(10);
  ring.enqueueSlice(seq(10));
  assert.equal(ring.enqueueSlice(seq(1)), 0);
  ring.resize(20);
  assert.equal(ring.window, 10);
  assert.equal(ring.enqueueSlice(seq(5, 100)), 5);
  assert.throws(() => ring.resize(14), RangeError);
  assert.throws(() => ring.resize(-1), RangeError);
  ring.resize(15);
  assert.equal(ring.capacity, 15);
  assert.ok(ring.isFull());
  const out = new Uint8Array(15);
  ring.dequeueSlice(out);
  assert.deepEqual(out, new Uint8Array([...seq(10), ...seq(5, 100)]));
});

Deno.test("RingBuffer shrinkStorage frees an empty ring and halves a sparse one, keeping its bytes", () => {
  const ring = new RingBuffer(1 << 20);
  ring.enqueueSlice(new Uint8Array(100_000));
  assert.equal(ring.storageSize, 100_000, "grown to what the write needs");
  ring.dequeueAllocated(99_000);
  ring.enqueueSlice(seq(100, 7));
  assert.equal(ring.shrinkStorage(), 50_000);
  assert.equal(ring.shrinkStorage(), 25_000);
  const out = new Uint8Array(1100);
  ring.readAllocated(0, out);
  assert.deepEqual(out.subarray(1000), seq(100, 7));
  ring.dequeueAllocated(1100);
  assert.equal(ring.shrinkStorage(), 0);
  assert.equal(ring.storageSize, 0);
  assert.equal(ring.enqueueSlice(seq(3)), 3, "and grows again on the next write");
  assert.equal(ring.storageSize, 4096);
});

Deno.test("RingBuffer costs well under 4 KiB of heap while idle", () => {
  const n = 20_000;
  const keep: RingBuffer[] = new Array(n);
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) keep[i] = new RingBuffer(65536);
  const perRing = (Deno.memoryUsage().heapUsed - before) / n;
  assert.ok(perRing < 512, `an idle ring takes ${perRing} bytes of heap`);
  assert.equal(keep.length, n);
});

// ---------------------------------------------------------------------------------------------
// Model-based property tests: a plain array for the queued bytes and a sparse array for bytes
// written into free space (relative to the end of the queue). `undefined` means "not known",
// for free space that was never written or that held dequeued bytes.

type Byte = number | undefined;

type Op =
  | { op: "enqueueSlice"; data: Uint8Array }
  | { op: "dequeueSlice"; len: number; fill: number }
  | { op: "writeUnallocated"; offset: number; data: Uint8Array }
  | { op: "enqueueUnallocated"; count: number }
  | { op: "readAllocated"; offset: number; len: number; fill: number }
  | { op: "getAllocated"; offset: number; maxLen: number }
  | { op: "getUnallocated"; offset: number; maxLen: number; seed: number }
  | { op: "dequeueAllocated"; count: number }
  | { op: "clear" }
  | { op: "resize"; capacity: number }
  | { op: "shrinkStorage" };

function opArb(capacity: number): fc.Arbitrary<Op> {
  const n = fc.integer({ min: 0, max: capacity + 2 });
  const data = fc.uint8Array({ maxLength: capacity + 2, size: "max" });
  const byte = fc.integer({ min: 0, max: 255 });
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant("enqueueSlice" as const), data }), weight: 4 },
    {
      arbitrary: fc.record({ op: fc.constant("dequeueSlice" as const), len: n, fill: byte }),
      weight: 3,
    },
    {
      arbitrary: fc.record({ op: fc.constant("writeUnallocated" as const), offset: n, data }),
      weight: 3,
    },
    {
      arbitrary: fc.record({ op: fc.constant("enqueueUnallocated" as const), count: n }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        op: fc.constant("readAllocated" as const),
        offset: n,
        len: n,
        fill: byte,
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({ op: fc.constant("getAllocated" as const), offset: n, maxLen: n }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        op: fc.constant("getUnallocated" as const),
        offset: n,
        maxLen: n,
        seed: byte,
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ op: fc.constant("dequeueAllocated" as const), count: n }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant("clear" as const) }), weight: 1 },
    {
      arbitrary: fc.record({
        op: fc.constant("resize" as const),
        capacity: fc.integer({ min: 0, max: capacity * 2 + 2 }),
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ op: fc.constant("shrinkStorage" as const) }), weight: 1 },
  );
}

/** Asserts that `actual` equals `expected` wherever `expected` is known. */
function assertKnown(actual: ArrayLike<number>, expected: readonly Byte[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== undefined) assert.equal(actual[i], expected[i], `${what}: byte ${i}`);
  }
}

/** Runs `ops` on a ring and on the model, comparing after every step. */
function runModel(initialCapacity: number, ops: readonly Op[]): void {
  let capacity = initialCapacity;
  const ring = new RingBuffer(capacity);
  let queue: Byte[] = [];
  let pending: Byte[] = [];
  const window = (): number => capacity - queue.length;
  const takePending = (n: number): Byte[] => {
    const taken = Array.from({ length: n }, (_, i) => pending[i]);
    pending = pending.slice(n);
    return taken;
  };
  for (const o of ops) {
    switch (o.op) {
      case "enqueueSlice": {
        const n = Math.min(o.data.length, window());
        assert.equal(ring.enqueueSlice(o.data), n);
        takePending(n);
        queue.push(...o.data.subarray(0, n));
        break;
      }
      case "dequeueSlice": {
        const dst = new Uint8Array(o.len).fill(o.fill);
        const n = Math.min(o.len, queue.length);
        assert.equal(ring.dequeueSlice(dst), n);
        assertKnown(dst, [...queue.slice(0, n), ...new Array(o.len - n).fill(o.fill)], "dequeued");
        queue = queue.slice(n);
        break;
      }
      case "writeUnallocated": {
        const n = o.offset >= window() ? 0 : Math.min(o.data.length, window() - o.offset);
        assert.equal(ring.writeUnallocated(o.offset, o.data), n);
        for (let i = 0; i < n; i++) pending[o.offset + i] = o.data[i];
        break;
      }
      case "enqueueUnallocated": {
        if (o.count > window()) {
          assert.throws(() => ring.enqueueUnallocated(o.count), RangeError);
        } else {
          ring.enqueueUnallocated(o.count);
          queue.push(...takePending(o.count));
        }
        break;
      }
      case "readAllocated": {
        const dst = new Uint8Array(o.len).fill(o.fill);
        const n = o.offset >= queue.length ? 0 : Math.min(o.len, queue.length - o.offset);
        assert.equal(ring.readAllocated(o.offset, dst), n);
        const expected = [
          ...queue.slice(o.offset, o.offset + n),
          ...new Array(o.len - n).fill(o.fill),
        ];
        assertKnown(dst, expected, "read");
        break;
      }
      case "getAllocated": {
        const want = o.offset >= queue.length ? 0 : Math.min(o.maxLen, queue.length - o.offset);
        const first = ring.getAllocated(o.offset, o.maxLen);
        assert.ok(want === 0 ? first.length === 0 : first.length >= 1 && first.length <= want);
        assertKnown(first, queue.slice(o.offset, o.offset + first.length), "first view");
        // A wrapped range comes in exactly two views.
        const rest = want - first.length;
        const second = ring.getAllocated(o.offset + first.length, rest);
        assert.equal(second.length, rest);
        assertKnown(second, queue.slice(o.offset + first.length, o.offset + want), "second view");
        break;
      }
      case "getUnallocated": {
        const w = window();
        const want = o.offset >= w ? 0 : Math.min(o.maxLen, w - o.offset);
        const first = ring.getUnallocated(o.offset, o.maxLen);
        assert.ok(want === 0 ? first.length === 0 : first.length >= 1 && first.length <= want);
        const second = ring.getUnallocated(o.offset + first.length, want - first.length);
        assert.equal(second.length, want - first.length);
        for (let i = 0; i < want; i++) {
          const v = (o.seed + 7 * i) & 0xff;
          if (i < first.length) first[i] = v;
          else second[i - first.length] = v;
          pending[o.offset + i] = v;
        }
        break;
      }
      case "dequeueAllocated": {
        if (o.count > queue.length) {
          assert.throws(() => ring.dequeueAllocated(o.count), RangeError);
        } else {
          ring.dequeueAllocated(o.count);
          queue = queue.slice(o.count);
        }
        break;
      }
      case "clear": {
        ring.clear();
        queue = [];
        pending = [];
        break;
      }
      case "resize": {
        if (o.capacity < queue.length) {
          assert.throws(() => ring.resize(o.capacity), RangeError);
        } else {
          ring.resize(o.capacity);
          capacity = o.capacity;
          pending = pending.slice(0, capacity - queue.length);
        }
        break;
      }
      case "shrinkStorage": {
        ring.shrinkStorage();
        pending = []; // bytes written ahead may be dropped
        break;
      }
    }
    assert.equal(ring.length, queue.length);
    assert.equal(ring.window, capacity - queue.length);
    assert.equal(ring.isEmpty(), queue.length === 0);
    assert.equal(ring.isFull(), queue.length === capacity);
    assertKnown(contents(ring), queue, "contents");
  }
}

Deno.test("RingBuffer matches an array model for random operation sequences", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }).chain((capacity) =>
        fc.tuple(fc.constant(capacity), fc.array(opArb(capacity), { maxLength: 80, size: "max" }))
      ),
      ([capacity, ops]) => runModel(capacity, ops),
    ),
    { numRuns: 4000 },
  );
});

Deno.test("RingBuffer matches an array model at every capacity from 1 to 300", () => {
  for (let capacity = 1; capacity <= 300; capacity++) {
    fc.assert(
      fc.property(
        fc.array(opArb(capacity), { minLength: 10, maxLength: 40, size: "max" }),
        (ops) => runModel(capacity, ops),
      ),
      { numRuns: 15, seed: capacity },
    );
  }
});

Deno.test("RingBuffer matches an array model across storage growth (capacities above 4 KiB)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4000, max: 20_000 }).chain((capacity) =>
        fc.tuple(fc.constant(capacity), fc.array(opArb(capacity), { maxLength: 25 }))
      ),
      ([capacity, ops]) => runModel(capacity, ops),
    ),
    { numRuns: 40 },
  );
});

Deno.test("RingBuffer streams bytes in order through random chunk sizes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.tuple(fc.nat(80), fc.nat(80)), { minLength: 1, maxLength: 100, size: "max" }),
      (capacity, steps) => {
        const ring = new RingBuffer(capacity);
        let written = 0;
        let read = 0;
        for (const [inLen, outLen] of steps) {
          written += ring.enqueueSlice(seq(inLen, written + 1));
          const out = new Uint8Array(outLen);
          const n = ring.dequeueSlice(out);
          assert.deepEqual([...out.subarray(0, n)], [...seq(n, read + 1)]);
          read += n;
        }
        assert.equal(written - read, ring.length);
      },
    ),
    { numRuns: 2000 },
  );
});
