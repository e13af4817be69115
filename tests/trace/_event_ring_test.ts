import assert from "node:assert/strict";
import { EventRing, Kind } from "../../src/trace/_event_ring.ts";

function notes(ring: EventRing, from: number, to: number): void {
  for (let t = from; t < to; t++) ring.ref[ring.push(Kind.Note, t)] = `n${t}`;
}

Deno.test("EventRing holds its capacity in storage allocated once, and counts what it overwrites", () => {
  const ring = new EventRing(3000);
  const time = ring.time;
  assert.equal(time.length, 3000);
  notes(ring, 0, 10_000);
  assert.equal(ring.time, time, "the storage is never replaced");
  assert.equal(ring.count, 3000);
  assert.equal(ring.dropped, 7000);
  assert.equal(ring.events("a")[0]!.time, 7000);
});

Deno.test("EventRing gives the newest events oldest first after wrapping, at every fill level", () => {
  for (const total of [0, 1, 5, 6, 7, 13]) {
    const ring = new EventRing(6);
    notes(ring, 0, total);
    const times = ring.events("a").map((e) => e.time);
    const first = Math.max(0, total - 6);
    assert.deepEqual(times, Array.from({ length: total - first }, (_, i) => first + i), `${total}`);
    assert.deepEqual(
      ring.events("a").map((e) => e.kind === "note" && e.text),
      times.map((t) => `n${t}`),
    );
  }
});

Deno.test("EventRing drops the reference of an overwritten note", () => {
  const ring = new EventRing(2);
  notes(ring, 0, 2);
  const i = ring.push(Kind.App, 2);
  ring.f0[i] = 10;
  assert.equal(ring.ref[i], undefined);
  assert.deepEqual(ring.events("b").at(-1), {
    kind: "app",
    time: 2,
    side: "b",
    op: "write",
    bytes: 10,
  });
});

Deno.test("EventRing interns strings as non-zero codes, the same code for the same string", () => {
  const ring = new EventRing(4);
  const a = ring.intern("established"), b = ring.intern("finWait1");
  assert.ok(a > 0 && b > 0 && a !== b);
  assert.equal(ring.intern("established"), a);
  assert.equal(ring.string(b), "finWait1");
  assert.equal(ring.string(0), undefined);
});
