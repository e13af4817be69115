import assert from "node:assert/strict";
import { linkPair, NetStack } from "../../mod.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

/**
 * A host with the same link-local address, fe80::1, on two links (as two interfaces with the
 * same hardware address would have it); on each link a peer at fe80::2. Only a zone tells the
 * two peers apart.
 */
function twoLinks() {
  const [a0, a1] = linkPair();
  const [b0, b1] = linkPair();
  const host = new NetStack({ device: a0, addresses: ["fe80::1/64", "2001:db8:1::1/64"], seed: 1 });
  host.addInterface({ device: b0, addresses: ["fe80::1/64", "2001:db8:2::1/64"] });
  const peerA = new NetStack({ device: a1, addresses: ["fe80::2/64"], seed: 2 });
  const peerB = new NetStack({ device: b1, addresses: ["fe80::2/64"], seed: 3 });
  return {
    host,
    peerA,
    peerB,
    async [Symbol.asyncDispose]() {
      await peerA.close();
      await peerB.close();
      await host.close();
    },
  };
}

Deno.test("NetStack zones: fe80::2%1 and fe80::2%0 reach the peer on that interface, from its link-local address", async () => {
  await using t = twoLinks();
  using la = t.peerA.listen({ port: 80, hostname: "::" });
  using lb = t.peerB.listen({ port: 80, hostname: "::" });
  const txA = t.host.interfaceCounters(0).txFrames;
  using toB = await t.host.connect({ hostname: "fe80::2%1", port: 80 });
  assert.equal(t.host.interfaceCounters(0).txFrames, txA, "nothing left on interface 0");
  using pb = await lb.accept();
  assert.equal(toB.localAddr.hostname, "fe80::1");
  assert.equal(toB.remoteAddr.hostname, "fe80::2");
  assert.equal(t.host.interfaceOf(toB), 1);
  using toA = await t.host.connect({ hostname: "fe80::2%0", port: 80 });
  using pa = await la.accept();
  assert.equal(t.host.interfaceOf(toA), 0);
  await toB.write(enc.encode("B"));
  await toA.write(enc.encode("A"));
  const buf = new Uint8Array(4);
  assert.equal(dec.decode(buf.subarray(0, (await pb.read(buf))!)), "B");
  assert.equal(dec.decode(buf.subarray(0, (await pa.read(buf))!)), "A");
  // Both peers answer through their own link: data back on each connection.
  await pb.write(enc.encode("b"));
  assert.equal(dec.decode(buf.subarray(0, (await toB.read(buf))!)), "b");
});

Deno.test("NetStack zones: a link-local connect without a zone on a stack with several interfaces is a TypeError with code EINVAL", async () => {
  await using t = twoLinks();
  await assert.rejects(
    t.host.connect({ hostname: "fe80::2", port: 80 }),
    (e: Error & { code?: string }) =>
      e instanceof TypeError && e.code === "EINVAL" && e.message.includes('"fe80::2%1"'),
  );
  await assert.rejects(t.host.connect({ hostname: "fe80::2%2", port: 80 }), RangeError);
  await assert.rejects(t.host.connect({ hostname: "fe80::2%eth1", port: 80 }), TypeError);
  await assert.rejects(t.host.connect({ hostname: "2001:db8:2::9%1", port: 80 }), TypeError);
  await assert.rejects(t.host.connect({ hostname: "192.0.2.1%1", port: 80 }), TypeError);
  // A stack with one interface needs no zone (the host refuses port 9: it was reached).
  await assert.rejects(
    t.peerA.connect({ hostname: "fe80::1", port: 9 }),
    Deno.errors.ConnectionRefused,
  );
  await assert.rejects(t.peerA.connect({ hostname: "fe80::1%1", port: 9 }), RangeError);
});

Deno.test("NetStack zones: a UDP socket bound to fe80::1%1 sends on interface 1; listen takes a zone too", async () => {
  await using t = twoLinks();
  const ua = t.peerA.listenDatagram({ port: 53, hostname: "::" });
  const ub = t.peerB.listenDatagram({ port: 53, hostname: "::" });
  const u = t.host.listenDatagram({ port: 5353, hostname: "fe80::1%1" });
  assert.equal(t.host.interfaceOf(u), 1);
  await u.send(enc.encode("to B"), { transport: "udp", hostname: "fe80::2", port: 53 });
  const [got, from] = await ub.receive();
  assert.equal(dec.decode(got), "to B");
  assert.deepEqual(from, { transport: "udp", hostname: "fe80::1", port: 5353 });
  // The answer reaches the socket (it came in on interface 1).
  await ub.send(enc.encode("back"), from);
  const [back] = await u.receive();
  assert.equal(dec.decode(back), "back");
  assert.equal(t.peerA.counters.rxFrames, 0, "nothing reached link A");
  assert.throws(
    () => t.host.listenDatagram({ port: 1, hostname: "fe80::9%1" }),
    Deno.errors.AddrNotAvailable,
  );
  using l = t.host.listen({ port: 80, hostname: "fe80::1%1" });
  assert.equal(l.addr.hostname, "fe80::1");
  assert.throws(
    () => t.host.listen({ port: 81, hostname: "fe80::9%0" }),
    Deno.errors.AddrNotAvailable,
  );
  u.close();
  ua.close();
  ub.close();
});

Deno.test("NetStack zones: ping fe80::2%1 echoes through interface 1 only; a link-local ping without a zone is a TypeError", async () => {
  await using t = twoLinks();
  const rxA = t.peerA.counters.rxFrames;
  const reply = await t.host.ping({ hostname: "fe80::2%1", timeout: 2000 });
  assert.equal(reply.from, "fe80::2");
  assert.equal(t.peerA.counters.rxFrames, rxA, "nothing reached link A");
  const again = await t.host.ping({ hostname: "fe80::2%0", timeout: 2000 });
  assert.equal(again.from, "fe80::2");
  assert.ok(t.peerA.counters.rxFrames > rxA, "the %0 echo went to link A");
  await assert.rejects(
    t.host.ping({ hostname: "fe80::2" }),
    (e: Error & { code?: string }) => e instanceof TypeError && e.code === "EINVAL",
  );
  await assert.rejects(t.host.ping({ hostname: "fe80::2%7" }), RangeError);
});
