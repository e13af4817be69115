import assert from "node:assert/strict";
import { Loopback, Medium } from "../../src/phy/mod.ts";

/** Transmits `bytes` and commits; fails when the device refuses. */
function send(lo: Loopback, bytes: number[]): void {
  const buf = lo.transmit(0, bytes.length);
  assert.ok(buf !== null, "transmit refused");
  buf.set(bytes);
  lo.commit();
}

Deno.test("Loopback defaults to IP medium, MTU 65535 and no checksums", () => {
  const lo = new Loopback();
  assert.equal(lo.capabilities.medium, Medium.Ip);
  assert.equal(lo.capabilities.mtu, 65535);
  assert.equal(lo.capabilities.maxBurstSize, null);
  assert.deepEqual(Object.values(lo.capabilities.checksum), [false, false, false, false, false]);
  assert.equal(new Loopback({ medium: Medium.Ethernet }).capabilities.medium, Medium.Ethernet);
});

Deno.test("Loopback returns committed frames in order, byte-exact", () => {
  const lo = new Loopback();
  send(lo, [1, 2, 3]);
  send(lo, [4]);
  send(lo, []);
  assert.deepEqual([...lo.receive(0)!], [1, 2, 3]);
  assert.deepEqual([...lo.receive(0)!], [4]);
  assert.deepEqual([...lo.receive(0)!], []);
  assert.equal(lo.receive(0), null);
  assert.deepEqual({ ...lo.stats }, {
    framesSent: 3,
    framesReceived: 3,
    bytesSent: 4,
    bytesReceived: 4,
    dropsQueueFull: 0,
    dropsTooBig: 0,
  });
});

Deno.test("Loopback bounds its queue at 64 frames by default and counts refusals", () => {
  const lo = new Loopback();
  for (let i = 0; i < 64; i++) send(lo, [i]);
  assert.equal(lo.canTransmit(0), false);
  assert.equal(lo.transmit(0, 1), null);
  assert.equal(lo.stats.dropsQueueFull, 1);
  lo.receive(0);
  // The received frame is still lent until the next receive, so the queue is still full.
  assert.equal(lo.transmit(0, 1), null);
  lo.receive(0);
  assert.ok(lo.canTransmit(0));
  assert.equal(lo.pending, 62);
});

Deno.test("Loopback refuses frames over the MTU with a count", () => {
  const lo = new Loopback({ mtu: 100 });
  assert.equal(lo.transmit(0, 101), null);
  assert.equal(lo.stats.dropsTooBig, 1);
  assert.equal(lo.transmit(0, 100)?.length, 100);
});

Deno.test("Loopback keeps a received frame intact while the caller transmits a reply", () => {
  const lo = new Loopback({ queueLen: 2 });
  send(lo, [1, 1]);
  send(lo, [2, 2]);
  const rx = lo.receive(0)!;
  // With the received slot lent, the only free slot is not the one holding `rx`.
  const tx = lo.transmit(0, 2);
  assert.equal(tx, null, "queue of 2 with one waiting and one lent is full");
  assert.deepEqual([...rx], [1, 1]);
});

Deno.test("Loopback discards a transmit that is not committed", () => {
  const lo = new Loopback();
  lo.transmit(0, 1)!.set([9]);
  lo.transmit(0, 1)!.set([8]);
  lo.commit();
  lo.commit(); // no pending transmit: no effect
  assert.deepEqual([...lo.receive(0)!], [8]);
  assert.equal(lo.receive(0), null);
});

Deno.test("Loopback runs its readiness callback on each empty-to-non-empty transition", () => {
  const lo = new Loopback();
  let wakes = 0;
  lo.onReadable(() => wakes++);
  send(lo, [1]);
  send(lo, [2]);
  assert.equal(wakes, 1);
  lo.receive(0);
  lo.receive(0);
  send(lo, [3]);
  assert.equal(wakes, 2);
});

Deno.test("Loopback reuses its slot buffers instead of allocating per frame", () => {
  const lo = new Loopback({ queueLen: 4, mtu: 1500 });
  const seen = new Set<ArrayBufferLike>();
  for (let i = 0; i < 100; i++) {
    const buf = lo.transmit(0, 1500)!;
    seen.add(buf.buffer);
    lo.commit();
    lo.receive(0);
  }
  assert.ok(seen.size <= 4, `expected at most 4 backing buffers, saw ${seen.size}`);
});

Deno.test("Loopback rejects a bad MTU or queue length", () => {
  assert.throws(() => new Loopback({ mtu: 0 }), RangeError);
  assert.throws(() => new Loopback({ queueLen: 1.5 }), RangeError);
  assert.throws(() => new Loopback().transmit(0, -1), RangeError);
});
