import assert from "node:assert/strict";
import { Rng } from "../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../src/socket/context.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";

const cx: SocketContext = {
  now: 0,
  random: new Rng(1),
  ipMtu: 1500,
  isnSecret: new Uint8Array(16),
  challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }),
};
const PEER = { addr: parseIpAddress("192.0.2.1"), port: 53 };

Deno.test("UdpSocket queues sends until dispatch and keeps them when the device is full", () => {
  const s = new UdpSocket();
  s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 4000 });
  assert.ok(s.send(new Uint8Array([1, 2, 3]), PEER));
  assert.equal(s.pollAt(cx), 0);
  assert.equal(s.dispatch(cx, { emitUdp: () => false }), false);
  const seen: number[][] = [];
  assert.equal(
    s.dispatch(cx, {
      emitUdp(src, srcPort, dst, payload) {
        assert.equal(src, null);
        assert.equal(srcPort, 4000);
        assert.equal(dst.port, 53);
        seen.push([...payload]);
        return true;
      },
    }),
    true,
  );
  assert.deepEqual(seen, [[1, 2, 3]]);
  assert.equal(s.pollAt(cx), Infinity);
});

Deno.test("UdpSocket send queue is bounded by slots and bytes", () => {
  const s = new UdpSocket({ txSlots: 2, txBytes: 100 });
  s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 1 });
  assert.ok(s.send(new Uint8Array(40), PEER));
  assert.ok(s.send(new Uint8Array(40), PEER));
  assert.equal(s.canSend(), false);
  assert.equal(s.send(new Uint8Array(1), PEER), false);
  assert.throws(() => s.send(new Uint8Array(101), PEER), RangeError);
});

Deno.test("UdpSocket rejects sends before bind and across address families", () => {
  const s = new UdpSocket();
  assert.throws(() => s.send(new Uint8Array(1), PEER), TypeError);
  s.bind({ addr: parseIpAddress("2001:db8::1"), port: 9 });
  assert.throws(() => s.send(new Uint8Array(1), PEER), TypeError);
  assert.throws(() => s.bind({ addr: Ipv6Address.UNSPECIFIED, port: 10 }), TypeError);
  assert.throws(() => new UdpSocket().bind({ addr: Ipv6Address.UNSPECIFIED, port: 0 }), RangeError);
});

Deno.test("UdpSocket receives with endpoint metadata and reports truncation", () => {
  const s = new UdpSocket({ rxSlots: 1 });
  s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 7 });
  const dst = parseIpAddress("192.0.2.2");
  assert.ok(s.process(cx, PEER, dst, new Uint8Array([9, 8, 7, 6])));
  assert.equal(s.process(cx, PEER, dst, new Uint8Array(1)), false);
  assert.equal(s.rxDropped, 1);
  const buf = new Uint8Array(2);
  const r = s.recv(buf);
  assert.deepEqual(
    { ...r, remote: r?.remote.port, local: r?.local.toString() },
    { length: 2, datagramLength: 4, truncated: true, remote: 53, local: "192.0.2.2" },
  );
  assert.deepEqual([...buf], [9, 8]);
  assert.equal(s.recv(buf), null);
});

Deno.test("UdpSocket accepts datagrams for its address or the wildcard of its family", () => {
  const s = new UdpSocket();
  s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 7 });
  assert.ok(s.accepts(parseIpAddress("192.0.2.2")));
  assert.ok(!s.accepts(parseIpAddress("2001:db8::2")));
  s.close();
  assert.ok(!s.isOpen);
  assert.ok(!s.accepts(parseIpAddress("192.0.2.2")));
});
