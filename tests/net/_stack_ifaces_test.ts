import assert from "node:assert/strict";
import { linkPair, NetStack, type NetStackOptions } from "../../mod.ts";
import type { Device, ReadinessHook } from "../../src/phy/device.ts";
import type { InterfaceOptions } from "../../src/net/options.ts";
import { IpCidr } from "../../src/wire/cidr.ts";
import { readAll, writeAll } from "./_helpers.ts";

/**
 * A host with two interfaces: 0 on link A (192.0.2.1/24, 2001:db8:1::1/64), 1 on link B
 * (198.51.100.1/24, 2001:db8:2::1/64); a peer on each link (.2 / ::2).
 */
function twoLinks(
  o: { host?: Partial<NetStackOptions>; second?: Partial<InterfaceOptions>; mtuB?: number } = {},
) {
  const [a0, a1] = linkPair();
  const [b0, b1] = linkPair({ mtu: o.mtuB ?? 1500 });
  const host = new NetStack({
    device: a0,
    addresses: ["192.0.2.1/24", "2001:db8:1::1/64"],
    seed: 1,
    ...o.host,
  });
  const index = host.addInterface({
    device: b0,
    addresses: ["198.51.100.1/24", "2001:db8:2::1/64"],
    ...o.second,
  });
  const peerA = new NetStack({ device: a1, addresses: ["192.0.2.2/24", "2001:db8:1::2/64"] });
  const peerB = new NetStack({ device: b1, addresses: ["198.51.100.2/24", "2001:db8:2::2/64"] });
  return {
    host,
    index,
    peerA,
    peerB,
    async [Symbol.asyncDispose]() {
      await peerA.close();
      await peerB.close();
      await host.close();
    },
  };
}

Deno.test("NetStack with two interfaces connects to each subnet through its interface, from its address", async () => {
  await using t = twoLinks();
  assert.equal(t.index, 1);
  using la = t.peerA.listen({ port: 80 });
  using lb = t.peerB.listen({ port: 80 });
  using lb6 = t.peerB.listen({ port: 80, hostname: "::" });
  const txA = t.host.interfaceCounters(0).txFrames;
  const txB = t.host.interfaceCounters(1).txFrames;
  using toA = await t.host.connect({ hostname: "192.0.2.2", port: 80 });
  const afterA = t.host.interfaceCounters(1).txFrames;
  using toB = await t.host.connect({ hostname: "198.51.100.2", port: 80 });
  using toB6 = await t.host.connect({ hostname: "2001:db8:2::2", port: 80 });
  assert.equal(toA.localAddr.hostname, "192.0.2.1");
  assert.equal(toB.localAddr.hostname, "198.51.100.1");
  assert.equal(toB6.localAddr.hostname, "2001:db8:2::1");
  using pa = await la.accept();
  using pb = await lb.accept();
  using pb6 = await lb6.accept();
  assert.equal(pa.remoteAddr.hostname, "192.0.2.1");
  assert.equal(pb.remoteAddr.hostname, "198.51.100.1");
  assert.equal(pb6.remoteAddr.hostname, "2001:db8:2::1");
  assert.ok(t.host.interfaceCounters(0).txFrames > txA);
  assert.equal(afterA, txB, "the connection to link A sent nothing on link B");
  assert.ok(t.host.interfaceCounters(1).txFrames > txB);
  // Data both ways on each connection, woken by the application (not by ingress).
  const data = new Uint8Array(200_000).map((_, i) => i % 251);
  for (const [mine, theirs] of [[toA, pa], [toB, pb], [toB6, pb6]] as const) {
    const got = readAll(theirs);
    await writeAll(mine, data);
    await mine.closeWrite();
    assert.deepEqual(await got, data);
  }
  assert.equal(t.host.interfaceCounters(0).noRoute, 0);
  assert.equal(t.host.interfaceCounters(1).noRoute, 0);
});

Deno.test("NetStack with two interfaces: a wildcard listener accepts on both, each on the address it was reached at", async () => {
  await using t = twoLinks();
  using listener = t.host.listen({ port: 8080 });
  using c1 = await t.peerA.connect({ hostname: "192.0.2.1", port: 8080 });
  const s1 = await listener.accept();
  using c2 = await t.peerB.connect({ hostname: "198.51.100.1", port: 8080 });
  const s2 = await listener.accept();
  assert.equal(s1.localAddr.hostname, "192.0.2.1");
  assert.equal(s1.remoteAddr.hostname, "192.0.2.2");
  assert.equal(s2.localAddr.hostname, "198.51.100.1");
  assert.equal(s2.remoteAddr.hostname, "198.51.100.2");
  // The accepted connections answer through their own interface, also when the application
  // writes first.
  const enc = new TextEncoder();
  await writeAll(s2, enc.encode("via B"));
  await writeAll(s1, enc.encode("via A"));
  s1.close();
  s2.close();
  assert.equal(new TextDecoder().decode(await readAll(c1)), "via A");
  assert.equal(new TextDecoder().decode(await readAll(c2)), "via B");
});

Deno.test("NetStack with two interfaces: each interface's MTU sets the MSS its connections announce and send", async () => {
  await using t = twoLinks({ mtuB: 1280, second: { mtu: 1280 } });
  using la = t.peerA.listen({ port: 80 });
  using lb = t.peerB.listen({ port: 80 });
  using toA = await t.host.connect({ hostname: "192.0.2.2", port: 80 });
  using toB = await t.host.connect({ hostname: "198.51.100.2", port: 80 });
  using pa = await la.accept();
  using pb = await lb.accept();
  // IPv4: MTU − 40 (options are taken from the payload, not from the MSS).
  assert.equal(pa.info.mss <= 1460 && pa.info.mss > 1400, true, `A: ${pa.info.mss}`);
  assert.equal(pb.info.mss <= 1240 && pb.info.mss > 1180, true, `B: ${pb.info.mss}`);
  assert.equal(toB.info.mss, pb.info.mss);
  assert.notEqual(pa.info.mss, pb.info.mss);
  // A bulk write on B leaves in segments that fit B's MTU: no fragments.
  const data = new Uint8Array(100_000).fill(7);
  const got = readAll(pb);
  await writeAll(toB, data);
  await toB.closeWrite();
  assert.deepEqual(await got, data);
  assert.equal(t.peerB.counters.reassemblyTimeout, 0);
  void toA;
});

Deno.test("NetStack with two interfaces: an interface's smaller mtu option lowers the MSS and the segments below its device's", async () => {
  const [a0, a1] = linkPair(), [b0, b1] = linkPair();
  let largest = 0;
  const watched: Device & ReadinessHook = {
    capabilities: b0.capabilities,
    onReadable: (wake) => b0.onReadable(wake),
    receive: (now) => b0.receive(now),
    canTransmit: (now) => b0.canTransmit(now),
    transmit: (now, len) => {
      if (len > largest) largest = len;
      return b0.transmit(now, len);
    },
    commit: () => b0.commit(),
  };
  await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
  host.addInterface({ device: watched, addresses: ["198.51.100.1/24"], mtu: 1300 });
  await using peerA = new NetStack({ device: a1, addresses: ["192.0.2.2/24"] });
  await using peerB = new NetStack({ device: b1, addresses: ["198.51.100.2/24"] });
  using la = peerA.listen({ port: 80 });
  using lb = peerB.listen({ port: 80 });
  using toA = await host.connect({ hostname: "192.0.2.2", port: 80 });
  using toB = await host.connect({ hostname: "198.51.100.2", port: 80 });
  using pa = await la.accept();
  using pb = await lb.accept();
  assert.ok(pb.info.mss <= 1260, `announced on B: ${pb.info.mss}`);
  assert.ok(pa.info.mss > 1400, `announced on A: ${pa.info.mss}`);
  // The peer on B announced 1460; the host still sends segments that fit its 1300-byte MTU,
  // also when link A's interface polls first.
  assert.ok(toB.info.mss <= 1260, `sent on B: ${toB.info.mss}`);
  const data = new Uint8Array(100_000).fill(9);
  const got = readAll(pb);
  await writeAll(toB, data);
  await toB.closeWrite();
  assert.deepEqual(await got, data);
  assert.ok(largest <= 1300 + 14, `largest frame on B: ${largest}`);
  assert.ok(largest > 1200, `largest frame on B: ${largest}`);
  void toA;
});

Deno.test("NetStack with two interfaces: the default route with the lower metric wins, per interface", async () => {
  for (const [metricA, metricB, expect] of [[10, 100, 0], [100, 10, 1]] as const) {
    const [a0, a1] = linkPair(), [b0, b1] = linkPair();
    await using host = new NetStack({
      device: a0,
      addresses: ["192.0.2.1/24"],
      gateways: ["192.0.2.254"],
      metric: metricA,
    });
    host.addInterface({
      device: b0,
      addresses: ["198.51.100.1/24"],
      gateways: ["198.51.100.254"],
      metric: metricB,
    });
    // Each gateway terminates every connection (accept-any), so the one that answers is the one
    // the route chose.
    await using gwA = new NetStack({
      device: a1,
      addresses: ["192.0.2.254/24"],
      acceptAny: { allowDocumentation: true },
    });
    await using gwB = new NetStack({
      device: b1,
      addresses: ["198.51.100.254/24"],
      acceptAny: { allowDocumentation: true },
    });
    using ta = gwA.listen({ transparent: true });
    using tb = gwB.listen({ transparent: true });
    using conn = await host.connect({ hostname: "203.0.113.7", port: 443 });
    const peer = await (expect === 0 ? ta : tb).accept();
    assert.equal(peer.localAddr.hostname, "203.0.113.7");
    assert.equal(peer.remoteAddr.hostname, expect === 0 ? "192.0.2.1" : "198.51.100.1");
    assert.equal(conn.localAddr.hostname, expect === 0 ? "192.0.2.1" : "198.51.100.1");
    assert.equal((expect === 0 ? gwB : gwA).counters.rxFrames, 0, "nothing on the other link");
    peer.close();
  }
});

Deno.test("NetStack with two interfaces: a route through an interface beats a default of the other", async () => {
  const [a0, a1] = linkPair(), [b0, b1] = linkPair();
  await using host = new NetStack({
    device: a0,
    addresses: ["192.0.2.1/24"],
    gateways: ["192.0.2.254"],
  });
  host.addInterface({
    device: b0,
    addresses: ["198.51.100.1/24"],
    routes: [{ cidr: "203.0.113.0/25", via: "198.51.100.254" }],
    metric: 500,
  });
  await using gwA = new NetStack({
    device: a1,
    addresses: ["192.0.2.254/24"],
    acceptAny: { allowDocumentation: true },
  });
  await using gwB = new NetStack({
    device: b1,
    addresses: ["198.51.100.254/24"],
    acceptAny: { allowDocumentation: true },
  });
  using ta = gwA.listen({ transparent: true });
  using tb = gwB.listen({ transparent: true });
  using near = await host.connect({ hostname: "203.0.113.7", port: 80 }); // the /25 via B
  using far = await host.connect({ hostname: "203.0.113.200", port: 80 }); // the default via A
  using pb = await tb.accept();
  using pa = await ta.accept();
  assert.equal(pb.localAddr.hostname, "203.0.113.7");
  assert.equal(pa.localAddr.hostname, "203.0.113.200");
  assert.equal(near.localAddr.hostname, "198.51.100.1");
  assert.equal(far.localAddr.hostname, "192.0.2.1");
});

Deno.test("NetStack with two interfaces: a socket bound to one interface's address is not reachable through the other (strong host)", async () => {
  await using t = twoLinks();
  using onA = t.host.listen({ port: 80, hostname: "192.0.2.1" });
  // The peer on link B believes 192.0.2.0/24 is on its link too.
  t.peerB.iface.routes.add({ cidr: IpCidr.parse("192.0.2.0/24"), via: null });
  const dropped = t.host.interfaceCounters(1).notForUs;
  const ac = new AbortController();
  const attempt = t.peerB.connect({ hostname: "192.0.2.1", port: 80, signal: ac.signal });
  while (t.host.interfaceCounters(1).notForUs === dropped) {
    await new Promise((r) => setTimeout(r, 5));
  }
  ac.abort();
  await assert.rejects(attempt, (e: Error) => e.name === "AbortError");
  // Through its own interface it is reachable.
  using c = await t.peerA.connect({ hostname: "192.0.2.1", port: 80 });
  using s = await onA.accept();
  assert.equal(s.remoteAddr.hostname, "192.0.2.2");
  void c;
  // A UDP socket bound to B's address takes datagrams to B's address only.
  const udpB = t.host.listenDatagram({ port: 53, hostname: "198.51.100.1", transport: "udp" });
  const fromB = t.peerB.listenDatagram({ port: 5353, transport: "udp" });
  await fromB.send(new Uint8Array([1, 2, 3]), {
    hostname: "198.51.100.1",
    port: 53,
    transport: "udp",
  });
  const [msg, from] = await udpB.receive();
  assert.deepEqual([...msg], [1, 2, 3]);
  assert.equal((from as Deno.NetAddr).hostname, "198.51.100.2");
  udpB.close();
  fromB.close();
});

Deno.test("NetStack with two interfaces: a datagram from a wildcard socket leaves by the route, from that interface's address", async () => {
  await using t = twoLinks();
  const host = t.host.listenDatagram({ port: 9000, transport: "udp" });
  const atA = t.peerA.listenDatagram({ port: 9001, transport: "udp" });
  const atB = t.peerB.listenDatagram({ port: 9001, transport: "udp" });
  await host.send(new Uint8Array([0xa]), { hostname: "192.0.2.2", port: 9001, transport: "udp" });
  await host.send(new Uint8Array([0xb]), {
    hostname: "198.51.100.2",
    port: 9001,
    transport: "udp",
  });
  const [ma, fa] = await atA.receive();
  const [mb, fb] = await atB.receive();
  assert.deepEqual([...ma], [0xa]);
  assert.deepEqual([...mb], [0xb]);
  assert.equal((fa as Deno.NetAddr).hostname, "192.0.2.1");
  assert.equal((fb as Deno.NetAddr).hostname, "198.51.100.1");
  // Ping reaches both links too.
  assert.equal((await t.host.ping({ hostname: "198.51.100.2" })).from, "198.51.100.2");
  assert.equal((await t.host.ping({ hostname: "2001:db8:1::2" })).from, "2001:db8:1::2");
  await assert.rejects(t.host.ping({ hostname: "203.0.113.1" }), Deno.errors.NetworkUnreachable);
  await assert.rejects(
    t.host.connect({ hostname: "203.0.113.1", port: 80 }),
    Deno.errors.NetworkUnreachable,
  );
  for (const u of [host, atA, atB]) u.close();
});

Deno.test("NetStack.addInterface checks its options and the device", async () => {
  const [a] = linkPair(), [b] = linkPair(), [c] = linkPair();
  await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  await using other = new NetStack({ device: c, addresses: ["192.0.2.9/24"] });
  assert.throws(() => stack.addInterface({ device: a, addresses: [] }), TypeError);
  assert.throws(() => stack.addInterface({ device: c, addresses: [] }), Deno.errors.Busy);
  assert.throws(() => stack.addInterface({ device: b, addresses: ["nope"] }), TypeError);
  assert.throws(() => stack.addInterface({ device: b, addresses: [], metric: -1 }), RangeError);
  assert.throws(() => stack.addInterface({ device: b, addresses: [], mtu: 100 }), RangeError);
  assert.throws(
    () =>
      stack.addInterface({
        device: b,
        addresses: [],
        routes: [{ cidr: "2001:db8::/32", via: "192.0.2.5" }],
      }),
    TypeError,
  );
  assert.throws(() => new NetStack({ device: b, addresses: [], metric: 1.5 }), RangeError);
  // None of the rejected calls kept the device.
  assert.equal(stack.addInterface({ device: b, addresses: ["198.51.100.1/24"] }), 1);
  assert.throws(() => stack.interfaceCounters(2), RangeError);
  void other;
});

Deno.test("NetStack.close releases every interface's device", async () => {
  const [a] = linkPair(), [b] = linkPair();
  const stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  stack.addInterface({ device: b, addresses: ["198.51.100.1/24"] });
  await stack.close();
  assert.throws(() => stack.addInterface({ device: b, addresses: [] }), Deno.errors.BadResource);
  await using again = new NetStack({ device: b, addresses: ["198.51.100.1/24"] });
  await using againA = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  assert.equal(again.device, b);
  void againA;
});

Deno.test("examples/multi_interface.ts runs and every check it prints holds", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "examples/multi_interface.ts"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.equal(text.split("\n").filter((l) => l.startsWith("ok   ")).length, 9, text);
  assert.match(text, /all checks hold/);
});

Deno.test("NetStack.addInterface works on a stack with automatic configuration", async () => {
  const [a] = linkPair(), [b] = linkPair();
  await using stack = new NetStack({ device: a, addresses: "auto" });
  assert.equal(stack.addInterface({ device: b, addresses: ["198.51.100.1/24"] }), 1);
  assert.equal(stack.interfaceAutoconf(0), stack.autoconf);
  assert.equal(stack.interfaceAutoconf(1), null);
});

Deno.test("NetStack.removeInterface aborts what is bound to its addresses, drops its routes and lets its device go; the other interface carries on", async () => {
  const [a0, a1] = linkPair(), [b0, b1] = linkPair();
  await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"], seed: 1 });
  assert.equal(host.addInterface({ device: b0, addresses: ["198.51.100.1/24"] }), 1);
  await using peerA = new NetStack({ device: a1, addresses: ["192.0.2.2/24"] });
  await using peerB = new NetStack({ device: b1, addresses: ["198.51.100.2/24"] });
  using any = host.listen({ port: 81 });
  const onB = host.listen({ port: 80, hostname: "198.51.100.1" });
  const udpB = host.listenDatagram({ port: 53, hostname: "198.51.100.1", transport: "udp" });
  const udpAny = host.listenDatagram({ port: 54, transport: "udp" });
  using lb = peerB.listen({ port: 80 });
  using toB = await host.connect({ hostname: "198.51.100.2", port: 80 });
  using atB = await lb.accept();
  using fromA = await peerA.connect({ hostname: "192.0.2.1", port: 81 });
  using accA = await any.accept();
  const pendingRead = toB.read(new Uint8Array(16));
  const pendingAccept = onB.accept();
  const pendingRecv = udpB.receive();
  // A connect from B's address to a neighbor that never answers (its ARP goes unanswered).
  const counters = host.interfaceCounters(1);
  const tx = counters.txFrames;
  const pendingConnect = host.connect({ hostname: "198.51.100.77", port: 80 });
  while (counters.txFrames === tx) await new Promise((r) => setTimeout(r, 5)); // the ARP request
  await host.removeInterface(1);
  const removed = (e: Error) =>
    e instanceof Deno.errors.ConnectionAborted && /Interface 1 was removed/.test(e.message);
  await assert.rejects(pendingRead, removed);
  await assert.rejects(pendingAccept, removed);
  await assert.rejects(pendingRecv, removed);
  await assert.rejects(pendingConnect, removed);
  // A later write says it cannot, and why.
  await assert.rejects(
    toB.write(new Uint8Array([1])),
    (e: Error) => e instanceof Deno.errors.BrokenPipe && /Interface 1 was removed/.test(e.message),
  );
  // The peer got a reset for the connection.
  await assert.rejects(atB.read(new Uint8Array(16)), Deno.errors.ConnectionReset);
  // Its subnet left the table; the interface's index is gone.
  await assert.rejects(
    host.connect({ hostname: "198.51.100.2", port: 80 }),
    Deno.errors.NetworkUnreachable,
  );
  assert.throws(() => host.interfaceCounters(1), RangeError);
  await assert.rejects(host.removeInterface(1), RangeError);
  await assert.rejects(host.removeInterface(0), RangeError);
  // Frames on its link reach it no more: the loop neither waits on nor polls the device.
  const rx = counters.rxFrames;
  await peerB.listenDatagram({ port: 5353, transport: "udp" }).send(new Uint8Array([1]), {
    hostname: "198.51.100.1",
    port: 54,
    transport: "udp",
  });
  // The first interface and the wildcard sockets carry on.
  const enc = new TextEncoder();
  await writeAll(accA, enc.encode("still here"));
  accA.close();
  assert.equal(new TextDecoder().decode(await readAll(fromA)), "still here");
  await peerA.listenDatagram({ port: 5353, transport: "udp" }).send(new Uint8Array([2]), {
    hostname: "192.0.2.1",
    port: 54,
    transport: "udp",
  });
  const [msg] = await udpAny.receive();
  assert.deepEqual([...msg], [2]); // not B's datagram
  assert.equal(counters.rxFrames, rx);
  udpAny.close();
  // The device is free for another stack.
  await using again = new NetStack({ device: b0, addresses: ["198.51.100.1/24"] });
  assert.equal(again.device, b0);
});

Deno.test("NetStack.addInterface: a route's own metric beats another interface's route of the same prefix", async () => {
  const [a0] = linkPair(), [b0, b1] = linkPair(), [c0, c1] = linkPair();
  await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
  host.addInterface({
    device: b0,
    addresses: ["198.51.100.1/25"],
    routes: [{ cidr: "203.0.113.0/24", via: "198.51.100.126" }],
    metric: 50,
  });
  assert.throws(
    () =>
      host.addInterface({
        device: c0,
        addresses: ["198.51.100.129/25"],
        routes: [{ cidr: "203.0.113.0/24", via: "198.51.100.254", metric: -1 }],
      }),
    RangeError,
  );
  // C's interface metric (100) loses to B's (50), its route's own (10) wins.
  host.addInterface({
    device: c0,
    addresses: ["198.51.100.129/25"],
    routes: [{ cidr: "203.0.113.0/24", via: "198.51.100.254", metric: 10 }],
    metric: 100,
  });
  const gw = (device: Device, address: string) =>
    new NetStack({ device, addresses: [address], acceptAny: { allowDocumentation: true } });
  await using gwB = gw(b1, "198.51.100.126/25");
  await using gwC = gw(c1, "198.51.100.254/25");
  using tb = gwB.listen({ transparent: true });
  using tc = gwC.listen({ transparent: true });
  using conn = await host.connect({ hostname: "203.0.113.7", port: 80 });
  using atC = await tc.accept();
  assert.equal(conn.localAddr.hostname, "198.51.100.129");
  assert.equal(atC.localAddr.hostname, "203.0.113.7");
  assert.equal(host.interfaceCounters(1).txFrames, 0, "nothing left through B");
  void tb;
});
