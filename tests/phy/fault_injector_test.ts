import assert from "node:assert/strict";
import { FaultInjector, linkPair, Loopback } from "../../src/phy/mod.ts";
import type { Device, FaultInjectorOptions, LinkDevice } from "../../src/phy/mod.ts";
import { NEVER } from "../../src/time.ts";

const N = 100_000;

/** A frame of `len` bytes whose first four bytes hold `index` (big-endian), the rest zero. */
function fill(buf: Uint8Array, index: number): void {
  buf.fill(0);
  buf[0] = index >>> 24;
  buf[1] = (index >>> 16) & 0xff;
  buf[2] = (index >>> 8) & 0xff;
  buf[3] = index & 0xff;
}

function indexOf(frame: Uint8Array): number {
  return ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
}

/** Transmits a numbered frame through `dev`; false when refused. */
function send(dev: Device, now: number, index: number, len = 64): boolean {
  const buf = dev.transmit(now, len);
  if (buf === null) return false;
  fill(buf, index);
  dev.commit();
  return true;
}

/** Copies of every frame `dev` receives at `now`. */
function drain(dev: Device, now: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = dev.receive(now); f !== null; f = dev.receive(now)) out.push(f.slice());
  return out;
}

/**
 * Sends N numbered frames through a FaultInjector on one end of a link (tx faults), one per
 * millisecond, and returns what the other end received, in order, plus the injector.
 */
function runTx(
  options: FaultInjectorOptions,
  n = N,
): { got: Uint8Array[]; dev: FaultInjector } {
  const [a, b] = linkPair({ queueLen: 1024 });
  const dev = new FaultInjector(a, options);
  const got: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    assert.ok(send(dev, i, i), `frame ${i} refused`);
    for (const f of drain(b, i)) got.push(f);
  }
  // Release anything still held.
  for (let t = dev.nextDeadline(); t !== NEVER; t = dev.nextDeadline()) {
    dev.receive(t);
    for (const f of drain(b, t)) got.push(f);
  }
  return { got, dev };
}

/** Asserts `count` out of N is within `tol` (absolute fraction) of `rate`. */
function assertRate(count: number, rate: number, tol = 0.005): void {
  const observed = count / N;
  assert.ok(Math.abs(observed - rate) <= tol, `rate ${observed} not within ${tol} of ${rate}`);
}

Deno.test("FaultInjector drops frames at the configured rate", () => {
  const { got, dev } = runTx({ seed: 1, dropRate: 0.1 });
  const s = dev.stats.tx;
  assert.equal(s.frames, N);
  assert.equal(got.length, N - s.dropped);
  assertRate(s.dropped, 0.1);
  // Survivors arrive in order and intact.
  let last = -1;
  for (const f of got) {
    assert.ok(indexOf(f) > last);
    last = indexOf(f);
  }
});

Deno.test("FaultInjector duplicates frames at the configured rate, copies right behind", () => {
  const { got, dev } = runTx({ seed: 2, duplicateRate: 0.05 });
  const s = dev.stats.tx;
  assert.equal(got.length, N + s.duplicated);
  assertRate(s.duplicated, 0.05);
  let dups = 0;
  for (let i = 1; i < got.length; i++) {
    if (indexOf(got[i]!) === indexOf(got[i - 1]!)) {
      assert.deepEqual(got[i], got[i - 1]);
      dups++;
    }
  }
  assert.equal(dups, s.duplicated);
});

Deno.test("FaultInjector corrupts one random bit at the configured rate", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(b, { seed: 3, corruptRate: 0.02 });
  const bytesHit = new Set<number>();
  let flipped = 0;
  for (let i = 0; i < N; i++) {
    a.transmit(i, 64)!.fill(0);
    a.commit();
    const f = dev.receive(i)!;
    let bits = 0;
    for (let j = 0; j < f.length; j++) {
      if (f[j] !== 0) {
        bits += f[j]!.toString(2).replaceAll("0", "").length;
        bytesHit.add(j);
      }
    }
    assert.ok(bits <= 1, "at most one bit flipped");
    flipped += bits;
  }
  assert.equal(flipped, dev.stats.rx.corrupted);
  assertRate(flipped, 0.02);
  assert.equal(bytesHit.size, 64, "every byte position gets hit");
});

Deno.test("FaultInjector reordering actually reorders, at the configured rate", () => {
  const { got, dev } = runTx({ seed: 4, reorderRate: 0.05, reorderDelay: 5 });
  const s = dev.stats.tx;
  assert.equal(got.length, N, "reordering loses nothing");
  assertRate(s.reordered, 0.05);
  let late = 0;
  let max = -1;
  for (const f of got) {
    const i = indexOf(f);
    if (i < max) late++;
    else max = i;
  }
  assert.ok(late > 0);
  assert.equal(late, s.reordered, "every held-back frame is overtaken");
  assert.deepEqual(got.map(indexOf).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
});

Deno.test("FaultInjector applies several faults together with matching counters", () => {
  const opts = {
    seed: 5,
    dropRate: 0.05,
    duplicateRate: 0.02,
    corruptRate: 0.01,
    reorderRate: 0.01,
  };
  const { got, dev } = runTx(opts);
  const s = dev.stats.tx;
  assert.equal(got.length, N - s.dropped + s.duplicated);
  assertRate(s.dropped, 0.05);
  assertRate(s.duplicated, 0.95 * 0.02);
  assertRate(s.corrupted, 0.95 * 0.01);
  assertRate(s.reordered, 0.95 * 0.01);
});

Deno.test("FaultInjector gives the same faults for the same seed and different ones otherwise", () => {
  const opts = { dropRate: 0.1, duplicateRate: 0.05, corruptRate: 0.05, reorderRate: 0.05 };
  const one = runTx({ ...opts, seed: 99 }, 20_000);
  const two = runTx({ ...opts, seed: 99 }, 20_000);
  const other = runTx({ ...opts, seed: 100 }, 20_000);
  assert.deepEqual(one.dev.stats, two.dev.stats);
  assert.deepEqual(one.got, two.got);
  assert.notDeepEqual(one.got, other.got);
});

Deno.test("FaultInjector releases a transmitted frame exactly at its delay", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { tx: { delay: 10 } });
  assert.equal(dev.nextDeadline(), NEVER);
  assert.ok(send(dev, 100, 1));
  assert.ok(send(dev, 103, 2));
  assert.equal(dev.nextDeadline(), 110);
  assert.equal(dev.canTransmit(109.999), true);
  assert.equal(b.receive(109.999), null);
  dev.receive(110); // any call releases due frames
  assert.equal(indexOf(b.receive(110)!), 1);
  assert.equal(b.receive(110), null);
  assert.equal(dev.nextDeadline(), 113);
  dev.canTransmit(113);
  assert.equal(indexOf(b.receive(113)!), 2);
  assert.equal(dev.nextDeadline(), NEVER);
  assert.equal(dev.stats.tx.delayed, 2);
  assert.equal(dev.stats.rx.delayed, 0);
});

Deno.test("FaultInjector releases a received frame exactly at its delay", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { rx: { delay: 10 } });
  assert.ok(send(b, 0, 7));
  assert.equal(dev.receive(0), null, "pulled from the link and held");
  assert.equal(dev.nextDeadline(), 10);
  assert.equal(dev.receive(9.999), null);
  assert.equal(indexOf(dev.receive(10)!), 7);
  assert.equal(dev.receive(10), null);
  // Transmit is not delayed.
  assert.ok(send(dev, 20, 8));
  assert.equal(indexOf(b.receive(20)!), 8);
});

Deno.test("FaultInjector jitter stays within bounds, never reorders and meets its deadlines", () => {
  const [a, b] = linkPair({ queueLen: 1024 });
  const dev = new FaultInjector(a, { seed: 6, delay: 10, jitter: 5 });
  // All sent within 2 ms, before the first release at 10 ms.
  for (let i = 0; i < 200; i++) assert.ok(send(dev, i / 100, i));
  let prev = -1;
  let t = 0;
  let spread = 0;
  while ((t = dev.nextDeadline()) !== NEVER) {
    assert.equal(b.receive(t - 1e-6), null, "nothing arrives before the deadline");
    dev.receive(t);
    const got = drain(b, t);
    assert.ok(got.length > 0, "something is due at the deadline");
    for (const f of got) {
      const i = indexOf(f);
      assert.equal(i, prev + 1, "jitter keeps order");
      prev = i;
      assert.ok(t >= i / 100 + 10, `frame ${i} early at ${t}`);
      spread = Math.max(spread, t - i / 100 - 10);
    }
  }
  assert.equal(prev, 199);
  assert.ok(spread > 2 && spread < 5, `jitter spread ${spread}`);
});

Deno.test("FaultInjector holds back-pressure when its delay queue is full", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { delay: 1, queueLen: 4 });
  for (let i = 0; i < 4; i++) assert.ok(send(dev, 0, i));
  assert.equal(dev.canTransmit(0), false);
  assert.equal(dev.transmit(0, 10), null);
  assert.equal(dev.canTransmit(1), true, "due frames leave first");
  assert.equal(drain(b, 1).length, 4);
  // Received frames beyond the queue stay in the link until there is room.
  for (let i = 0; i < 10; i++) assert.ok(send(b, 2, i));
  const got: number[] = [];
  for (let t = 2; t < 20; t++) for (const f of drain(dev, t)) got.push(indexOf(f));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(dev.stats.rx.queueFull, 0);
});

Deno.test("FaultInjector drops frames over maxSize in both directions", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { maxSize: 100 });
  assert.ok(send(dev, 0, 1, 101), "transmit succeeds; the frame is lost");
  assert.ok(send(dev, 0, 2, 100));
  assert.deepEqual(drain(b, 0).map(indexOf), [2]);
  assert.ok(send(b, 0, 3, 200));
  assert.ok(send(b, 0, 4, 50));
  assert.deepEqual(drain(dev, 0).map(indexOf), [4]);
  assert.equal(dev.stats.tx.tooBig, 1);
  assert.equal(dev.stats.rx.tooBig, 1);
  assert.equal(dev.transmit(0, 1501), null, "the inner MTU still applies");
});

Deno.test("FaultInjector rate-limits received frames by dropping the excess", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { rxRateLimit: 10, rateInterval: 100 });
  for (let i = 0; i < 25; i++) assert.ok(send(b, 0, i));
  assert.equal(drain(dev, 0).length, 10);
  assert.equal(dev.stats.rx.rateLimited, 15);
  for (let i = 0; i < 25; i++) assert.ok(send(b, 50, i));
  assert.equal(drain(dev, 50).length, 0, "bucket still empty within the interval");
  for (let i = 0; i < 25; i++) assert.ok(send(b, 100, i));
  assert.equal(drain(dev, 100).length, 10);
});

Deno.test("FaultInjector rate-limits transmitted frames with back-pressure and a deadline", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { txRateLimit: 3, rateInterval: 100 });
  for (let i = 0; i < 3; i++) assert.ok(send(dev, 10, i));
  assert.equal(dev.canTransmit(10), false);
  assert.equal(dev.transmit(10, 64), null);
  assert.equal(dev.stats.tx.rateLimited, 1);
  assert.equal(dev.nextDeadline(), 110, "the refill time is the next deadline");
  assert.equal(dev.transmit(109, 64), null);
  assert.ok(send(dev, 110, 3));
  assert.equal(dev.nextDeadline(), NEVER);
  assert.deepEqual(drain(b, 110).map(indexOf), [0, 1, 2, 3], "nothing was lost");
});

Deno.test("FaultInjector takes per-direction overrides", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { dropRate: 1, tx: { dropRate: 0 } });
  assert.ok(send(dev, 0, 1));
  assert.equal(drain(b, 0).length, 1);
  assert.ok(send(b, 0, 2));
  assert.equal(drain(dev, 0).length, 0);
  assert.equal(dev.stats.rx.dropped, 1);
  assert.equal(dev.stats.tx.dropped, 0);
});

Deno.test("FaultInjector without queuing faults hands out the inner buffers", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { dropRate: 0.5, seed: 8 });
  const buf = dev.transmit(0, 64)!;
  assert.equal(buf, a.transmit(0, 64), "the same slot view as the link's");
  let delivered = 0;
  for (let i = 0; i < 20; i++) {
    const slot = b.transmit(0, 64)!;
    b.commit();
    const rx = dev.receive(0);
    if (rx === null) continue;
    assert.equal(rx, slot, "the received frame is the link's own slot, not a copy");
    delivered++;
  }
  assert.equal(delivered, 20 - dev.stats.rx.dropped);
  assert.ok(delivered > 0);
});

Deno.test("FaultInjector keeps received frames valid until the next receive while queuing", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { duplicateRate: 1, queueLen: 2 });
  for (let i = 0; i < 5; i++) assert.ok(send(b, 0, i));
  const got: number[] = [];
  for (let t = 0; t < 10; t++) {
    const f = dev.receive(t);
    if (f === null) continue;
    dev.transmit(t, 64); // unrelated traffic in between must not touch `f`
    got.push(indexOf(f));
  }
  assert.deepEqual(got, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

Deno.test("FaultInjector rejects bad options", () => {
  const lo = new Loopback();
  assert.throws(() => new FaultInjector(lo, { dropRate: 1.5 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { corruptRate: -0.1 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { tx: { duplicateRate: NaN } }), RangeError);
  assert.throws(() => new FaultInjector(lo, { delay: -1 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { jitter: Infinity }), RangeError);
  assert.throws(() => new FaultInjector(lo, { rateInterval: 0 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { txRateLimit: 1.5 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { queueLen: 0 }), RangeError);
  assert.throws(() => new FaultInjector(lo, { maxSize: -1 }), RangeError);
});

Deno.test("FaultInjector forwards readiness to the inner device", () => {
  const [a, b]: [LinkDevice, LinkDevice] = linkPair();
  const dev = new FaultInjector(a, { delay: 5 });
  let wakes = 0;
  dev.onReadable(() => wakes++);
  send(b, 0, 1);
  assert.equal(wakes, 1);
});

Deno.test("FaultInjector with a one-frame queue still delivers delayed frames", () => {
  const [a, b] = linkPair();
  const dev = new FaultInjector(a, { delay: 2, queueLen: 1 });
  for (let i = 0; i < 3; i++) assert.ok(send(b, 0, i));
  const got: number[] = [];
  for (let t = 0; t < 10; t++) for (const f of drain(dev, t)) got.push(indexOf(f));
  assert.deepEqual(got, [0, 1, 2]);
  assert.throws(() => dev.transmit(0, -1), RangeError);
});
