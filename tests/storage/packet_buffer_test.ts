import assert from "node:assert/strict";
import fc from "fast-check";
import { PacketBuffer, type PacketBufferEntry } from "../../src/storage/packet_buffer.ts";

/** Bytes `from, from + 1, ...` (mod 256). */
function seq(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

/** Enqueues a datagram filled with `bytes`; asserts it was accepted. */
function put<M>(buf: PacketBuffer<M>, bytes: number[], meta: M): Uint8Array {
  const region = buf.enqueue(bytes.length, meta);
  assert.ok(region !== null, `enqueue of ${bytes.length} bytes refused`);
  assert.equal(region.length, bytes.length);
  region.set(bytes);
  return region;
}

function plain<M>(entry: PacketBufferEntry<M> | null): { meta: M; payload: number[] } | null {
  return entry === null ? null : { meta: entry.meta, payload: [...entry.payload] };
}

Deno.test("PacketBuffer starts empty with its bounds", () => {
  const buf = new PacketBuffer<string>({ slots: 3, bytes: 100 });
  assert.equal(buf.capacity, 3);
  assert.equal(buf.byteCapacity, 100);
  assert.equal(buf.length, 0);
  assert.equal(buf.isEmpty(), true);
  assert.equal(buf.isFull(), false);
  assert.equal(buf.dequeue(), null);
  assert.equal(buf.peek(), null);
});

Deno.test("PacketBuffer rejects bounds that are not non-negative integers", () => {
  for (const bad of [-1, 1.5, NaN]) {
    assert.throws(() => new PacketBuffer({ slots: bad, bytes: 10 }), RangeError);
    assert.throws(() => new PacketBuffer({ slots: 10, bytes: bad }), RangeError);
  }
});

Deno.test("PacketBuffer returns datagrams in order with their metadata", () => {
  const buf = new PacketBuffer<string>({ slots: 4, bytes: 64 });
  put(buf, seq(3), "a");
  put(buf, seq(5, 10), "b");
  put(buf, [], "c");
  assert.equal(buf.length, 3);
  assert.deepEqual(plain(buf.dequeue()), { meta: "a", payload: [1, 2, 3] });
  assert.deepEqual(plain(buf.dequeue()), { meta: "b", payload: [10, 11, 12, 13, 14] });
  assert.deepEqual(plain(buf.dequeue()), { meta: "c", payload: [] });
  assert.equal(buf.dequeue(), null);
  assert.equal(buf.isEmpty(), true);
});

Deno.test("PacketBuffer peek shows the oldest datagram without taking it", () => {
  const buf = new PacketBuffer<number>({ slots: 4, bytes: 16 });
  put(buf, seq(2), 7);
  put(buf, seq(2, 5), 8);
  assert.deepEqual(plain(buf.peek()), { meta: 7, payload: [1, 2] });
  assert.deepEqual(plain(buf.peek()), { meta: 7, payload: [1, 2] });
  assert.equal(buf.length, 2);
  assert.deepEqual(plain(buf.dequeue()), { meta: 7, payload: [1, 2] });
  assert.deepEqual(plain(buf.peek()), { meta: 8, payload: [5, 6] });
});

Deno.test("PacketBuffer refuses a datagram when every slot is taken", () => {
  const buf = new PacketBuffer<number>({ slots: 2, bytes: 100 });
  put(buf, seq(1), 1);
  put(buf, seq(1), 2);
  assert.equal(buf.isFull(), true);
  assert.equal(buf.enqueue(1, 3), null);
  assert.equal(buf.enqueue(0, 3), null);
  buf.dequeue();
  assert.equal(buf.isFull(), false);
  put(buf, seq(1, 9), 3);
  assert.deepEqual(plain(buf.dequeue()), { meta: 2, payload: [1] });
  assert.deepEqual(plain(buf.dequeue()), { meta: 3, payload: [9] });
});

Deno.test("PacketBuffer refuses a datagram when the payload bytes do not fit", () => {
  const buf = new PacketBuffer<number>({ slots: 8, bytes: 10 });
  put(buf, seq(6), 1);
  assert.equal(buf.enqueue(5, 2), null);
  assert.equal(buf.isFull(), false);
  put(buf, seq(4, 20), 2);
  assert.equal(buf.enqueue(1, 3), null);
  put(buf, [], 3); // zero-length datagrams take no bytes
  assert.deepEqual(plain(buf.dequeue()), { meta: 1, payload: seq(6) });
  assert.deepEqual(plain(buf.dequeue()), { meta: 2, payload: seq(4, 20) });
  assert.deepEqual(plain(buf.dequeue()), { meta: 3, payload: [] });
});

Deno.test("PacketBuffer refuses a datagram larger than its byte capacity, even when empty", () => {
  const buf = new PacketBuffer<null>({ slots: 8, bytes: 10 });
  assert.equal(buf.enqueue(11, null), null);
  assert.equal(buf.isEmpty(), true);
  put(buf, seq(10), null);
  assert.deepEqual(plain(buf.dequeue())?.payload, seq(10));
});

Deno.test("PacketBuffer never splits a payload: it skips the end of the ring and starts at 0", () => {
  const buf = new PacketBuffer<string>({ slots: 8, bytes: 10 });
  put(buf, seq(4), "a"); // [0, 4)
  const b = put(buf, seq(4, 10), "b"); // [4, 8)
  buf.dequeue(); // [0, 4) free, [8, 10) free but too short for 3 bytes
  const c = put(buf, seq(3, 20), "c");
  assert.equal(c.byteOffset, b.byteOffset - 4); // placed at 0, not split across 8..10 and 0
  assert.equal(buf.enqueue(2, "d"), null); // [3, 4) is all that is left before "b"
  put(buf, seq(1, 30), "d");
  assert.deepEqual(plain(buf.dequeue()), { meta: "b", payload: seq(4, 10) });
  assert.deepEqual(plain(buf.dequeue()), { meta: "c", payload: seq(3, 20) });
  assert.deepEqual(plain(buf.dequeue()), { meta: "d", payload: [30] });
});

Deno.test("PacketBuffer frees the skipped end of the ring with the datagram before it", () => {
  const buf = new PacketBuffer<string>({ slots: 8, bytes: 10 });
  put(buf, seq(4), "a"); // [0, 4)
  put(buf, seq(4, 10), "b"); // [4, 8), then [8, 10) is skipped
  buf.dequeue();
  put(buf, seq(4, 20), "c"); // [0, 4)
  buf.dequeue(); // "b" leaves with the skipped bytes: [4, 10) is free
  put(buf, seq(6, 30), "d");
  assert.equal(buf.enqueue(1, "e"), null);
  assert.deepEqual(plain(buf.dequeue()), { meta: "c", payload: seq(4, 20) });
  assert.deepEqual(plain(buf.dequeue()), { meta: "d", payload: seq(6, 30) });
});

Deno.test("PacketBuffer restarts at 0 when it empties, so a full-size datagram fits again", () => {
  const buf = new PacketBuffer<null>({ slots: 4, bytes: 8 });
  put(buf, seq(5), null);
  put(buf, [], null);
  buf.dequeue();
  put(buf, seq(8, 40), null); // only zero-length datagrams were held: the whole ring is free
  buf.dequeue();
  assert.deepEqual(plain(buf.dequeue())?.payload, seq(8, 40));
});

Deno.test("PacketBuffer with zero slots refuses everything", () => {
  const buf = new PacketBuffer<null>({ slots: 0, bytes: 10 });
  assert.equal(buf.isFull(), true);
  assert.equal(buf.isEmpty(), true);
  assert.equal(buf.enqueue(0, null), null);
  assert.equal(buf.dequeue(), null);
});

Deno.test("PacketBuffer with zero bytes takes only zero-length datagrams", () => {
  const buf = new PacketBuffer<number>({ slots: 2, bytes: 0 });
  assert.equal(buf.enqueue(1, 1), null);
  assert.equal(buf.enqueue(0, 1)?.length, 0);
  assert.deepEqual(plain(buf.dequeue()), { meta: 1, payload: [] });
});

Deno.test("PacketBuffer rejects a size that is not a non-negative integer", () => {
  const buf = new PacketBuffer<null>({ slots: 2, bytes: 10 });
  for (const bad of [-1, 0.5, NaN]) assert.throws(() => buf.enqueue(bad, null), RangeError);
  assert.equal(buf.isEmpty(), true);
});

Deno.test("PacketBuffer clear drops every datagram and frees every byte", () => {
  const buf = new PacketBuffer<number>({ slots: 3, bytes: 10 });
  put(buf, seq(6), 1);
  put(buf, seq(4), 2);
  buf.dequeue();
  put(buf, seq(5), 3);
  buf.clear();
  assert.equal(buf.isEmpty(), true);
  put(buf, seq(10, 50), 4);
  assert.deepEqual(plain(buf.dequeue()), { meta: 4, payload: seq(10, 50) });
});

Deno.test("PacketBuffer reuses a slot whose datagram was followed by skipped bytes", () => {
  const buf = new PacketBuffer<string>({ slots: 3, bytes: 10 });
  put(buf, seq(4), "a"); // slot 0 [0, 4)
  put(buf, seq(4), "b"); // slot 1 [4, 8)
  buf.dequeue();
  put(buf, seq(3), "c"); // slot 2 [0, 3); [8, 10) skipped after "b"
  buf.dequeue();
  put(buf, seq(3), "d"); // slot 0 [3, 6)
  put(buf, seq(2, 40), "e"); // slot 1 again [6, 8), nothing skipped after it
  buf.dequeue();
  put(buf, seq(2, 50), "f"); // [8, 10)
  buf.dequeue();
  put(buf, seq(2, 60), "g"); // [0, 2)
  buf.dequeue(); // "e" leaves: [6, 8) is free, "f" still holds [8, 10)
  assert.equal(buf.enqueue(8, "h"), null);
  put(buf, seq(6, 70), "h"); // [2, 8)
  assert.deepEqual(plain(buf.dequeue()), { meta: "f", payload: seq(2, 50) });
  assert.deepEqual(plain(buf.dequeue()), { meta: "g", payload: seq(2, 60) });
  assert.deepEqual(plain(buf.dequeue()), { meta: "h", payload: seq(6, 70) });
});

Deno.test("PacketBuffer keeps a dequeued payload intact until the next enqueue", () => {
  const buf = new PacketBuffer<null>({ slots: 2, bytes: 4 });
  put(buf, seq(4), null);
  const d = buf.dequeue();
  assert.deepEqual([...d!.payload], seq(4));
  assert.equal(buf.peek(), null);
  assert.deepEqual([...d!.payload], seq(4));
});

// ---------------------------------------------------------------------------------------------
// Model-based property test. The model keeps each held datagram with the place it must occupy,
// derived from the rule "payloads are contiguous, in arrival order, never split": a new payload
// goes right after the newest one if it fits before the end of the ring (or before the oldest,
// once the ring has wrapped), else at 0 if it fits before the oldest. Zero-length datagrams hold
// no place. The real buffer must accept exactly what the model accepts and return exact bytes.

interface Held {
  meta: number;
  bytes: number[];
  start: number;
}

type Op =
  | { op: "enqueue"; size: number }
  | { op: "enqueueEdge"; delta: number }
  | { op: "dequeue" }
  | { op: "peek" }
  | { op: "clear" };

function opArb(bytes: number): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      arbitrary: fc.record({
        op: fc.constant("enqueue" as const),
        size: fc.oneof(fc.integer({ min: 0, max: bytes + 1 }), fc.integer({ min: 0, max: 3 })),
      }),
      weight: 5,
    },
    {
      // The largest size the model would place, plus `delta`: exercises every fit boundary.
      arbitrary: fc.record({
        op: fc.constant("enqueueEdge" as const),
        delta: fc.integer({ min: -1, max: 1 }),
      }),
      weight: 3,
    },
    { arbitrary: fc.record({ op: fc.constant("dequeue" as const) }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant("peek" as const) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant("clear" as const) }), weight: 1 },
  );
}

/** Where the model puts a payload of `size > 0` bytes, or `null` when it does not fit. */
function place(held: readonly Held[], cap: number, size: number): number | null {
  if (size > cap) return null;
  const live = held.filter((h) => h.bytes.length > 0);
  if (live.length === 0) return 0;
  const head = live[0]!.start;
  const last = live[live.length - 1]!;
  const tail = last.start + last.bytes.length;
  if (last.start < head) return tail + size <= head ? tail : null; // wrapped
  if (tail + size <= cap) return tail;
  return size <= head ? 0 : null;
}

/** The largest payload the model would place now (ignoring the slot bound). */
function largestFit(held: readonly Held[], cap: number): number {
  const live = held.filter((h) => h.bytes.length > 0);
  if (live.length === 0) return cap;
  const head = live[0]!.start;
  const last = live[live.length - 1]!;
  const tail = last.start + last.bytes.length;
  return last.start < head ? head - tail : Math.max(cap - tail, head);
}

function runModel(slots: number, cap: number, ops: readonly Op[]): void {
  const buf = new PacketBuffer<number>({ slots, bytes: cap });
  let held: Held[] = [];
  let next = 0;
  for (const o of ops) {
    switch (o.op) {
      case "enqueue":
      case "enqueueEdge": {
        const size = o.op === "enqueue" ? o.size : Math.max(0, largestFit(held, cap) + o.delta);
        const meta = next++;
        const start = held.length === slots ? null : size === 0 ? 0 : place(held, cap, size);
        const region = buf.enqueue(size, meta);
        if (start === null) {
          assert.equal(region, null, `enqueue(${size}) accepted`);
        } else {
          assert.ok(region !== null, `enqueue(${size}) refused`);
          assert.equal(region.length, size);
          const bytes = seq(size, meta * 31);
          region.set(bytes);
          held.push({ meta, bytes, start });
        }
        break;
      }
      case "dequeue": {
        const want = held.shift();
        const got = plain(buf.dequeue());
        assert.deepEqual(got, want === undefined ? null : { meta: want.meta, payload: want.bytes });
        break;
      }
      case "peek": {
        const want = held[0];
        const got = plain(buf.peek());
        assert.deepEqual(got, want === undefined ? null : { meta: want.meta, payload: want.bytes });
        break;
      }
      case "clear": {
        buf.clear();
        held = [];
        break;
      }
    }
    assert.equal(buf.length, held.length);
    assert.equal(buf.isEmpty(), held.length === 0);
    assert.equal(buf.isFull(), held.length === slots);
  }
  // Drain: every held payload is still intact.
  for (const h of held) assert.deepEqual(plain(buf.dequeue()), { meta: h.meta, payload: h.bytes });
  assert.equal(buf.dequeue(), null);
}

Deno.test("PacketBuffer matches a placement model for random operation sequences", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 24 }).chain((bytes) =>
        fc.tuple(fc.constant(bytes), fc.array(opArb(bytes), { maxLength: 100, size: "max" }))
      ),
      (slots, [bytes, ops]) => runModel(slots, bytes, ops),
    ),
    { numRuns: 5000 },
  );
});

Deno.test("PacketBuffer matches a placement model at every byte capacity from 1 to 200", () => {
  for (let bytes = 1; bytes <= 200; bytes++) {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(opArb(bytes), { maxLength: 60, size: "max" }),
        (
          slots,
          ops,
        ) => runModel(slots, bytes, ops),
      ),
      { numRuns: 20, seed: bytes },
    );
  }
});
