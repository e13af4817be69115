import assert from "node:assert/strict";
import fc from "fast-check";
import { checksumNone, FrameQueue, linkPair, Medium } from "../../src/phy/mod.ts";
import type { LinkDevice } from "../../src/phy/mod.ts";

/** Bytes `from`, `from + 1`, ... of length n (mod 256). */
function seq(n: number, from = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) & 0xff;
  return b;
}

/** Transmits a copy of `bytes` and commits; returns false when the device refuses. */
function send(dev: LinkDevice, bytes: Uint8Array, now = 0): boolean {
  const buf = dev.transmit(now, bytes.length);
  if (buf === null) return false;
  buf.set(bytes);
  dev.commit();
  return true;
}

Deno.test("linkPair defaults to IP medium, MTU 1500 and every checksum", () => {
  const [a, b] = linkPair();
  for (const dev of [a, b]) {
    assert.equal(dev.capabilities.medium, Medium.Ip);
    assert.equal(dev.capabilities.mtu, 1500);
    assert.deepEqual(Object.values(dev.capabilities.checksum), [true, true, true, true, true]);
    assert.equal(dev.capabilities.maxBurstSize, null);
  }
});

Deno.test("linkPair defaults to MTU 1514 on Ethernet medium and takes options", () => {
  assert.equal(linkPair({ medium: Medium.Ethernet })[0].capabilities.mtu, 1514);
  const [a] = linkPair({ medium: Medium.Ethernet, mtu: 9014, checksum: checksumNone() });
  assert.equal(a.capabilities.mtu, 9014);
  assert.equal(a.capabilities.checksum.tcp, false);
});

Deno.test("linkPair carries frames both ways byte-exact and in order", () => {
  const [a, b] = linkPair();
  const toB = [seq(1500), seq(1, 9), seq(0), seq(60, 200)];
  const toA = [seq(40, 7), seq(1499, 3)];
  for (const f of toB) assert.ok(send(a, f));
  for (const f of toA) assert.ok(send(b, f));
  for (const f of toB) assert.deepEqual(b.receive(0), f);
  for (const f of toA) assert.deepEqual(a.receive(0), f);
  assert.equal(a.receive(0), null);
  assert.equal(b.receive(0), null);
  assert.equal(a.stats.framesSent, 4);
  assert.equal(a.stats.bytesSent, 1561);
  assert.equal(b.stats.framesReceived, 4);
  assert.equal(b.stats.bytesReceived, 1561);
  assert.equal(a.stats.framesReceived, 2);
  assert.equal(b.stats.bytesSent, 1539);
});

Deno.test("linkPair drops frames with a count when the queue is full", () => {
  const [a, b] = linkPair({ queueLen: 256 });
  for (let i = 0; i < 256; i++) assert.ok(send(a, seq(10, i)));
  assert.equal(a.canTransmit(0), false);
  assert.equal(send(a, seq(10)), false);
  assert.equal(send(a, seq(10)), false);
  assert.equal(a.stats.dropsQueueFull, 2);
  assert.equal(b.pending, 256);
  // The other direction is independent.
  assert.ok(b.canTransmit(0));
  // Receiving two frames frees one slot (the last one stays lent until the next receive).
  b.receive(0);
  b.receive(0);
  assert.ok(send(a, seq(10, 99)));
  assert.equal(send(a, seq(10)), false);
  assert.equal(a.stats.framesSent, 257);
});

Deno.test("linkPair refuses frames over the MTU with a count", () => {
  const [a, b] = linkPair({ mtu: 576 });
  assert.equal(a.transmit(0, 577), null);
  assert.equal(a.stats.dropsTooBig, 1);
  assert.equal(a.stats.dropsQueueFull, 0);
  assert.ok(send(a, seq(576)));
  assert.equal(b.receive(0)?.length, 576);
  assert.throws(() => a.transmit(0, 1.5), RangeError);
  assert.throws(() => a.transmit(0, -1), RangeError);
});

Deno.test("linkPair rejects a bad MTU or queue length", () => {
  assert.throws(() => linkPair({ mtu: 0 }), RangeError);
  assert.throws(() => linkPair({ mtu: 1500.5 }), RangeError);
  assert.throws(() => linkPair({ queueLen: 0 }), RangeError);
});

Deno.test("linkPair discards a transmit not followed by commit", () => {
  const [a, b] = linkPair();
  a.transmit(0, 3)!.set([1, 1, 1]);
  assert.ok(send(a, seq(2)));
  a.commit(); // nothing pending
  assert.deepEqual(b.receive(0), seq(2));
  assert.equal(b.receive(0), null);
  assert.equal(a.stats.framesSent, 1);
});

Deno.test("linkPair hands out the same backing buffers again (no per-frame allocation)", () => {
  const [a, b] = linkPair({ medium: Medium.Ethernet, queueLen: 8 });
  const buffers = new Set<ArrayBufferLike>();
  const views = new Set<Uint8Array>();
  for (let i = 0; i < 1000; i++) {
    const tx = a.transmit(0, 1514)!;
    buffers.add(tx.buffer);
    views.add(tx);
    a.commit();
    const rx = b.receive(0)!;
    assert.equal(rx, tx, "the receiver gets the very buffer the sender filled");
  }
  assert.ok(buffers.size <= 8, `at most one backing buffer per slot, saw ${buffers.size}`);
  assert.ok(views.size <= 8, `views are cached per slot, saw ${views.size}`);
});

Deno.test("linkPair calls onReadable once per empty-to-non-empty transition", () => {
  const [a, b] = linkPair();
  let wakesB = 0;
  let wakesA = 0;
  b.onReadable(() => wakesB++);
  a.onReadable(() => wakesA++);
  send(a, seq(1));
  send(a, seq(1));
  assert.equal(wakesB, 1);
  assert.equal(wakesA, 0);
  b.receive(0);
  send(a, seq(1)); // one still pending: no new edge
  assert.equal(wakesB, 1);
  b.receive(0);
  b.receive(0);
  assert.equal(b.receive(0), null);
  send(a, seq(1));
  assert.equal(wakesB, 2);
  b.onReadable(() => {});
  b.receive(0);
  send(a, seq(1));
  assert.equal(wakesB, 2, "a new registration replaces the old one");
});

Deno.test("linkPair keeps a received frame valid while the receiver's peer refills the queue", () => {
  const [a, b] = linkPair({ queueLen: 2 });
  send(a, seq(4, 10));
  send(a, seq(4, 20));
  const first = b.receive(0)!;
  assert.equal(send(a, seq(4, 30)), false, "the lent slot is not handed out");
  assert.deepEqual(first, seq(4, 10));
});

Deno.test("linkPair behaves like a bounded FIFO for any send/receive sequence", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(-1)), { maxLength: 200 }),
    (queueLen, ops) => {
      const [a, b] = linkPair({ queueLen, mtu: 68 });
      const model: Uint8Array[] = [];
      let lent = false;
      let n = 0;
      for (const op of ops) {
        if (op < 0) {
          const got = b.receive(0);
          const want = model.shift() ?? null;
          assert.deepEqual(got, want);
          lent = want !== null;
        } else {
          const f = seq(op, n++);
          const room: boolean = model.length + (lent ? 1 : 0) < queueLen;
          assert.equal(send(a, f), room);
          if (room) model.push(f);
        }
      }
    },
  ));
});

Deno.test("FrameQueue keeps stamps, lends the head and refuses oversized frames", () => {
  const q = new FrameQueue(3, 16);
  assert.equal(q.capacity, 3);
  assert.equal(q.frameSize, 16);
  assert.equal(q.reserve(17), null);
  assert.ok(q.push(seq(2), 5));
  assert.ok(q.push(seq(3), 6));
  assert.equal(q.peekStamp(), 5);
  assert.deepEqual(q.peek(), seq(2));
  assert.deepEqual(q.pop(), seq(2));
  assert.equal(q.peekStamp(), 6);
  assert.equal(q.length, 1);
  assert.ok(q.push(seq(1), 7));
  assert.equal(q.isFull(), true, "two waiting plus one lent");
  assert.equal(q.push(seq(1), 8), false);
  q.release();
  assert.equal(q.isFull(), false);
  q.clear();
  assert.equal(q.pop(), null);
  assert.throws(() => new FrameQueue(0, 16), RangeError);
});
