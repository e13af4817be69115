import assert from "node:assert/strict";
import { Rng } from "../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../src/socket/context.ts";
import { IcmpSocket } from "../../src/socket/icmp.ts";
import { parseIpAddress } from "../../src/wire/address.ts";

const cx: SocketContext = {
  now: 0,
  random: new Rng(1),
  ipMtu: 1500,
  isnSecret: new Uint8Array(16),
  challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }),
};
const PEER = parseIpAddress("2001:db8::1");

Deno.test("IcmpSocket sends echo requests with its identifier through dispatch", () => {
  const s = new IcmpSocket();
  assert.throws(() => s.sendEcho(PEER, 0, new Uint8Array(0)), TypeError);
  s.bind(0xbeef);
  assert.throws(() => s.bind(1), TypeError);
  assert.throws(() => s.sendEcho(PEER, 70000, new Uint8Array(0)), RangeError);
  s.sendEcho(PEER, 5, new Uint8Array([1]));
  const got: unknown[] = [];
  s.dispatch(cx, {
    emitEchoRequest(src, dst, ident, seq, data) {
      got.push([src, dst.toString(), ident, seq, [...data]]);
      return true;
    },
  });
  assert.deepEqual(got, [[null, "2001:db8::1", 0xbeef, 5, [1]]]);
  assert.equal(s.pollAt(cx), Infinity);
});

Deno.test("IcmpSocket receives echo replies and errors in arrival order", () => {
  const s = new IcmpSocket({ rxSlots: 2 });
  s.bind(1);
  assert.ok(s.processEchoReply(cx, PEER, 3, new Uint8Array([7, 7])));
  assert.ok(s.processError(cx, {
    version: 6,
    type: 1,
    code: 3,
    from: PEER,
    local: { addr: PEER, port: 1 },
    remote: { addr: PEER, port: 1 },
    mtu: null,
  }, 4));
  assert.equal(s.processEchoReply(cx, PEER, 5, new Uint8Array(1)), false);
  assert.equal(s.rxDropped, 1);
  const buf = new Uint8Array(1);
  const r1 = s.recv(buf);
  assert.deepEqual([r1?.kind, r1?.seq, r1?.length, r1?.truncated], ["echoReply", 3, 1, true]);
  const r2 = s.recv(buf);
  assert.deepEqual([r2?.kind, r2?.seq, r2?.error?.code], ["error", 4, 3]);
  assert.equal(s.recv(buf), null);
});
