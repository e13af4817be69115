import assert from "node:assert/strict";
import { linkPair } from "../../src/phy/link.ts";
import { NetStack, type NetStackOptions } from "../../src/net/stack.ts";
import type { TcpStream } from "../../src/net/tcp_stream.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

function stacks(acceptAny: NetStackOptions["acceptAny"] = { allowDocumentation: true }) {
  const [a, b] = linkPair();
  const proxy = new NetStack({ device: a, addresses: ["192.0.2.1/24"], acceptAny });
  const client = new NetStack({
    device: b,
    addresses: ["192.0.2.2/24"],
    gateways: ["192.0.2.1"],
  });
  return { proxy, client };
}

async function readN(conn: TcpStream, n: number): Promise<string> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return dec.decode(buf.subarray(0, got));
}

Deno.test("NetStack listen({ transparent: true }) accepts connections to any address with localAddr = the original destination", async () => {
  const { proxy, client } = stacks();
  try {
    const listener = proxy.listen({ transparent: true });
    assert.equal(listener.addr.port, 0);
    const c1 = await client.connect({ hostname: "198.51.100.80", port: 8080 });
    const c2 = await client.connect({ hostname: "198.51.100.81", port: 443 });
    const s1 = await listener.accept(), s2 = await listener.accept();
    const byPort = new Map([s1, s2].map((s) => [s.localAddr.port, s]));
    assert.deepEqual(byPort.get(8080)!.localAddr, {
      transport: "tcp",
      hostname: "198.51.100.80",
      port: 8080,
    });
    assert.equal(byPort.get(443)!.localAddr.hostname, "198.51.100.81");
    assert.equal(byPort.get(443)!.remoteAddr.hostname, "192.0.2.2");
    // Each stream carries only its own connection's bytes.
    await c1.write(enc.encode("one->"));
    await c2.write(enc.encode("two->"));
    await byPort.get(8080)!.write(enc.encode("<-one"));
    await byPort.get(443)!.write(enc.encode("<-two"));
    assert.equal(await readN(byPort.get(8080)!, 5), "one->");
    assert.equal(await readN(byPort.get(443)!, 5), "two->");
    assert.equal(await readN(c1, 5), "<-one");
    assert.equal(await readN(c2, 5), "<-two");
    for (const c of [c1, c2, s1, s2]) c.close();
    listener.close();
    // The transparent listener can be opened again once closed.
    proxy.listen({ transparent: true }).close();
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("NetStack ordinary listeners keep their own address and port in accept-any mode", async () => {
  const { proxy, client } = stacks();
  try {
    const own = proxy.listen({ port: 80 });
    const any = proxy.listen({ transparent: true });
    const c = await client.connect({ hostname: "192.0.2.1", port: 80 });
    const s = await own.accept();
    assert.equal(s.localAddr.port, 80);
    assert.equal(any.info.synsReceived, 0);
    c.close();
    s.close();
    own.close();
    any.close();
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("NetStack transparent listen needs the acceptAny option and is one per stack", async () => {
  const { proxy, client } = stacks(false);
  try {
    assert.throws(() => proxy.listen({ transparent: true }), TypeError);
    assert.throws(() => proxy.listenDatagram({ transparent: true }), TypeError);
  } finally {
    await client.close();
    await proxy.close();
  }
  const s = stacks(true);
  try {
    const l = s.proxy.listen({ transparent: true });
    assert.throws(() => s.proxy.listen({ transparent: true }), Deno.errors.AddrInUse);
    const f = s.proxy.listenDatagram({ transparent: true });
    assert.throws(() => s.proxy.listenDatagram({ transparent: true }), Deno.errors.AddrInUse);
    l.close();
    f.close();
  } finally {
    await s.client.close();
    await s.proxy.close();
  }
});

Deno.test("NetStack transparent UDP flows are one per client 4-tuple and close when idle", async () => {
  const { proxy, client } = stacks({ allowDocumentation: true, udpIdleTimeout: 50 });
  try {
    const flows = proxy.listenDatagram({ transparent: true });
    const u1 = client.listenDatagram({ port: 5001 });
    const u2 = client.listenDatagram({ port: 5002 });
    const dst = { transport: "udp" as const, hostname: "198.51.100.53", port: 53 };
    await u1.send(enc.encode("a"), dst);
    await u2.send(enc.encode("b"), dst);
    const f1 = await flows.accept(), f2 = await flows.accept();
    const got = await Promise.all([f1.receive(), f2.receive()]);
    const seen = got.map(([d, from]) => `${dec.decode(d)}@${from.port}`).sort();
    assert.deepEqual(seen, ["a@5001", "b@5002"]);
    assert.deepEqual(f1.addr, dst);
    // Without datagrams from the client the flow closes: receive rejects, iteration ends.
    await assert.rejects(f1.receive(), Deno.errors.BadResource);
    const rest: unknown[] = [];
    for await (const x of f2) rest.push(x);
    assert.equal(rest.length, 0);
    assert.equal(proxy.iface.acceptAny!.counters.udpExpired, 2);
    flows.close();
    u1.close();
    u2.close();
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("NetStack close ends transparent accepts and flows", async () => {
  const { proxy, client } = stacks();
  const flows = proxy.listenDatagram({ transparent: true });
  const u = client.listenDatagram({ port: 5001 });
  await u.send(enc.encode("x"), { transport: "udp", hostname: "198.51.100.9", port: 9 });
  const flow = await flows.accept();
  assert.equal(dec.decode((await flow.receive())[0]), "x");
  const pendingFlow = flows.accept();
  const pendingData = flow.receive();
  await proxy.close();
  await assert.rejects(pendingFlow, Deno.errors.BadResource);
  await assert.rejects(pendingData, Deno.errors.BadResource);
  u.close();
  await client.close();
});
