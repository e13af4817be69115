import assert from "node:assert/strict";
import { stackPair } from "./_helpers.ts";

Deno.test("UdpSocket sends and receives datagrams over IPv4 and IPv6 with sender addresses", async () => {
  await using net = stackPair();
  const server4 = net.server.listenDatagram({ port: 5353 });
  const server6 = net.server.listenDatagram({ port: 5353, hostname: "::" });
  const client = net.client.listenDatagram({ port: 0 });
  assert.ok(client.addr.port >= 49152);
  assert.equal(client.addr.transport, "udp");
  const client6 = net.client.listenDatagram({ port: 0, hostname: "::" });
  await client.send(new TextEncoder().encode("v4"), {
    transport: "udp",
    hostname: "192.0.2.1",
    port: 5353,
  });
  await client6.send(new TextEncoder().encode("v6"), {
    transport: "udp",
    hostname: "2001:db8::1",
    port: 5353,
  });
  const [d4, a4] = await server4.receive();
  const [d6, a6] = await server6.receive();
  assert.equal(new TextDecoder().decode(d4), "v4");
  assert.deepEqual(a4, { transport: "udp", hostname: "192.0.2.2", port: client.addr.port });
  assert.equal(new TextDecoder().decode(d6), "v6");
  assert.equal((a6 as Deno.NetAddr).hostname, "2001:db8::2");
  // Reply to the sender's address, receive into a caller buffer (truncating like Deno).
  await server4.send(new Uint8Array([1, 2, 3, 4]), a4);
  const [r, from] = await client.receive(new Uint8Array(2));
  assert.deepEqual([...r], [1, 2]);
  assert.equal((from as Deno.NetAddr).port, 5353);
  for (const s of [server4, server6, client, client6]) s.close();
});

Deno.test("UdpSocket iteration ends and pending receives reject with BadResource on close", async () => {
  await using net = stackPair();
  const sock = net.server.listenDatagram({ port: 9 });
  const pending = sock.receive();
  const iter = (async () => {
    let n = 0;
    for await (const _ of sock) n++;
    return n;
  })();
  sock.close();
  assert.ok((await pending.catch((e) => e)) instanceof Deno.errors.BadResource);
  assert.equal(await iter, 0);
  assert.throws(
    () => net.server.listenDatagram({ port: 9, hostname: "198.51.100.1" }),
    Deno.errors.AddrNotAvailable,
  );
});
