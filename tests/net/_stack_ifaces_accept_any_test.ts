import assert from "node:assert/strict";
import { linkPair, NetStack } from "../../mod.ts";
import { readAll, writeAll } from "./_helpers.ts";
import { IpCidr, Ipv4Address } from "../../src/wire/address.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

/**
 * A proxy host with two interfaces: 0 on link A (192.0.2.1/24, a default route and a route to
 * 203.0.113.0/25 via 192.0.2.254), 1 on link B (198.51.100.1/24, 203.0.113.0/24 on-link) in
 * accept-any mode. A client on link B (203.0.113.2/24) routes everything into B. The host's
 * route table puts the client on link A (the /25 beats the /24), so replies that reach it show
 * that an accept-any flow answers on the interface it came in on.
 */
function proxyOnSecond(o: { maxFlows?: number; firstAcceptAny?: boolean } = {}) {
  const [a0, a1] = linkPair();
  const [b0, b1] = linkPair();
  const host = new NetStack({
    device: a0,
    addresses: ["192.0.2.1/24"],
    gateways: ["192.0.2.254"],
    seed: 1,
    iface: {
      routes: [{ cidr: IpCidr.parse("203.0.113.0/25"), via: Ipv4Address.parse("192.0.2.254") }],
    },
    ...(o.firstAcceptAny ? { acceptAny: { allowDocumentation: true } } : {}),
  });
  host.addInterface({
    device: b0,
    addresses: ["198.51.100.1/24"],
    routes: [{ cidr: "203.0.113.0/24" }],
    acceptAny: { allowDocumentation: true, ...(o.maxFlows ? { maxFlows: o.maxFlows } : {}) },
  });
  const client = new NetStack({
    device: b1,
    addresses: ["203.0.113.2/24"],
    gateways: ["203.0.113.1"],
    seed: 2,
    tcp: { connectTimeout: 3000 }, // a SYN-ACK sent out of the wrong interface fails in 3 s
  });
  const peerA = new NetStack({
    device: a1,
    addresses: ["192.0.2.2/24", "203.0.113.9/24"],
    gateways: ["192.0.2.1"],
    seed: 3,
  });
  return {
    host,
    client,
    peerA,
    async [Symbol.asyncDispose]() {
      await client.close();
      await peerA.close();
      await host.close();
    },
  };
}

Deno.test("NetStack accept-any on an added interface: a transparent listener takes its connections, with the original destination, and answers on that interface", async () => {
  await using t = proxyOnSecond();
  using listener = t.host.listen({ transparent: true });
  const txA = t.host.interfaceCounters(0).txFrames;
  using conn = await t.client.connect({ hostname: "192.0.2.80", port: 8080 });
  using peer = await listener.accept();
  assert.deepEqual(peer.localAddr, { transport: "tcp", hostname: "192.0.2.80", port: 8080 });
  assert.equal(peer.remoteAddr.hostname, "203.0.113.2");
  assert.equal(t.host.interfaceOf(peer), 1);
  // Data both ways; the host's route to 203.0.113.2 is link A's default, yet nothing left on A.
  const data = new Uint8Array(100_000).map((_, i) => i % 253);
  const got = readAll(peer);
  await writeAll(conn, data);
  await conn.closeWrite();
  assert.deepEqual(await got, data);
  await writeAll(peer, enc.encode("from the proxy"));
  peer.close();
  assert.equal(dec.decode(await readAll(conn)), "from the proxy");
  assert.equal(t.host.interfaceCounters(0).txFrames, txA, "nothing left on link A");
  assert.equal(t.host.acceptAnyCounters(1)?.flowsOpened, 1);
  assert.equal(t.host.acceptAnyCounters(0), null);
});

Deno.test("NetStack accept-any on an added interface: UDP flows are terminated and answered on it", async () => {
  await using t = proxyOnSecond();
  using flows = t.host.listenDatagram({ transparent: true });
  const udp = t.client.listenDatagram({ port: 5353 });
  const txA = t.host.interfaceCounters(0).txFrames;
  const to = { transport: "udp" as const, hostname: "192.0.2.53", port: 53 };
  await udp.send(enc.encode("query"), to);
  const flow = await flows.accept();
  assert.deepEqual(flow.addr, to);
  assert.equal(t.host.interfaceOf(flow), 1);
  const [q, from] = await flow.receive();
  assert.equal(dec.decode(q), "query");
  await flow.send(enc.encode("answer"), from);
  const [a, server] = await udp.receive();
  assert.equal(dec.decode(a), "answer");
  assert.equal(server.hostname, "192.0.2.53");
  assert.equal(t.host.interfaceCounters(0).txFrames, txA, "nothing left on link A");
  flow.close();
  udp.close();
});

Deno.test("NetStack accept-any on two interfaces: one transparent listener takes both, each flow bounded and counted by its own interface", async () => {
  await using t = proxyOnSecond({ maxFlows: 1, firstAcceptAny: true });
  using listener = t.host.listen({ transparent: true });
  // On B (maxFlows 1): the first is taken, the second is over the bound and dropped.
  using c1 = await t.client.connect({ hostname: "192.0.2.80", port: 1 });
  using p1 = await listener.accept();
  assert.equal(t.host.interfaceOf(p1), 1);
  const ctrl = new AbortController();
  const second = t.client.connect({ hostname: "192.0.2.81", port: 1, signal: ctrl.signal });
  while (t.host.acceptAnyCounters(1)!.flowLimit === 0) {
    await new Promise((r) => setTimeout(r, 5));
  }
  ctrl.abort();
  await assert.rejects(second, { name: "AbortError" });
  // On A, its own bound: peer A reaches 198.51.100.77 (a default route to the host).
  using c2 = await t.peerA.connect({ hostname: "198.51.100.77", port: 2 });
  using p2 = await listener.accept();
  assert.equal(t.host.interfaceOf(p2), 0);
  assert.deepEqual(p2.localAddr, { transport: "tcp", hostname: "198.51.100.77", port: 2 });
  assert.equal(p2.remoteAddr.hostname, "192.0.2.2");
  assert.equal(t.host.acceptAnyCounters(0)?.flowsOpened, 1);
  assert.equal(t.host.acceptAnyCounters(0)?.flowLimit, 0);
  assert.equal(t.host.acceptAnyCounters(1)?.flowsOpened, 1);
  assert.ok(t.host.acceptAnyCounters(1)!.flowLimit >= 1);
  assert.equal(c1.remoteAddr.hostname, "192.0.2.80");
  assert.equal(c2.localAddr.hostname, "192.0.2.2");
});

Deno.test("NetStack accept-any: an interface added while transparent listeners are open joins them; removing it aborts its flows", async () => {
  const [a0] = linkPair();
  const [b0, b1] = linkPair();
  await using host = new NetStack({
    device: a0,
    addresses: ["192.0.2.1/24"],
    acceptAny: { allowDocumentation: true },
  });
  using listener = host.listen({ transparent: true });
  using flows = host.listenDatagram({ transparent: true });
  host.addInterface({
    device: b0,
    addresses: ["198.51.100.1/24"],
    acceptAny: { allowDocumentation: true },
  });
  await using client = new NetStack({
    device: b1,
    addresses: ["198.51.100.2/24"],
    gateways: ["198.51.100.1"],
  });
  using conn = await client.connect({ hostname: "203.0.113.80", port: 443 });
  using peer = await listener.accept();
  assert.equal(host.interfaceOf(peer), 1);
  const udp = client.listenDatagram({ port: 7 });
  await udp.send(new Uint8Array(1), { transport: "udp", hostname: "203.0.113.7", port: 7 });
  const flow = await flows.accept();
  assert.equal(host.interfaceOf(flow), 1);
  await flow.receive(); // the first datagram
  const pendingRead = peer.read(new Uint8Array(8));
  const pendingFlow = flow.receive();
  await host.removeInterface(1);
  await assert.rejects(pendingRead, Deno.errors.ConnectionAborted);
  await assert.rejects(pendingFlow, Deno.errors.ConnectionAborted);
  udp.close();
  void conn;
});

Deno.test("NetStack accept-any: a transparent listener on a stack where no interface has acceptAny is a TypeError", async () => {
  const [a0] = linkPair(), [b0] = linkPair();
  await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
  host.addInterface({ device: b0, addresses: ["198.51.100.1/24"] });
  assert.throws(() => host.listen({ transparent: true }), TypeError);
  assert.throws(() => host.listenDatagram({ transparent: true }), TypeError);
  assert.throws(
    () => host.addInterface({ device: linkPair()[0], addresses: [], acceptAny: { maxFlows: 0 } }),
    RangeError,
  );
  assert.throws(() => host.interfaceOf({} as never), TypeError);
});
