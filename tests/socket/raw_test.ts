import assert from "node:assert/strict";
import { Rng } from "../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../src/socket/context.ts";
import { RawSocket } from "../../src/socket/raw.ts";

const cx: SocketContext = {
  now: 0,
  random: new Rng(1),
  ipMtu: 1500,
  isnSecret: new Uint8Array(16),
  challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }),
};

Deno.test("RawSocket validates its version and protocol", () => {
  assert.throws(() => new RawSocket({ version: 5 as 4, protocol: 1 }), RangeError);
  assert.throws(() => new RawSocket({ version: 4, protocol: 256 }), RangeError);
});

Deno.test("RawSocket passes whole packets both ways and keeps them while the device is full", () => {
  const s = new RawSocket({ version: 6, protocol: 253, rxSlots: 1 });
  assert.ok(s.process(cx, new Uint8Array(48)));
  assert.equal(s.process(cx, new Uint8Array(48)), false);
  assert.equal(s.rxDropped, 1);
  assert.deepEqual(s.recv(new Uint8Array(40)), { length: 40, truncated: true });
  s.send(new Uint8Array(44));
  assert.equal(s.dispatch(cx, { emitRaw: () => false }), false);
  assert.equal(s.pollAt(cx), 0);
  let len = 0;
  assert.ok(s.dispatch(cx, { emitRaw: (v, p) => (len = p.length, v === 6) }));
  assert.equal(len, 44);
  assert.equal(s.pollAt(cx), Infinity);
});
