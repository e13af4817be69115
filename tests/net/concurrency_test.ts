import assert from "node:assert/strict";
import { pattern, readAll, stackPair, writeAll } from "./_helpers.ts";

Deno.test("NetStack echoes over 1,000 concurrent connections", async () => {
  const small = { rxBufferSize: 4096, txBufferSize: 4096 };
  await using net = stackPair({ server: { tcp: small }, client: { tcp: small } });
  const listener = net.server.listen({ port: 7, backlog: 1024 });
  const served = (async () => {
    const echoes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const conn = await listener.accept();
      echoes.push((async () => {
        await writeAll(conn, await readAll(conn));
        await conn.closeWrite();
        conn.close();
      })());
    }
    await Promise.all(echoes);
  })();
  const clients = Array.from({ length: 1000 }, async (_, i) => {
    const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
    const msg = pattern(100 + (i % 50) * 37, i + 1);
    await writeAll(conn, msg);
    await conn.closeWrite();
    const back = await readAll(conn);
    conn.close();
    assert.deepEqual(back, msg, `connection ${i} echoed different bytes`);
    return conn.localAddr.port;
  });
  const ports = await Promise.all(clients);
  await served;
  assert.equal(new Set(ports).size, 1000, "two connections shared a local port");
  listener.close();
});

Deno.test("One stalled connection does not stall the others", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const stalled = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const stalledPeer = await accepted;
  // Fill the stalled connection: its reader never reads.
  const blocked = writeAll(stalled, new Uint8Array(1 << 20)).catch(() => {});
  const accepted2 = listener.accept();
  const other = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const otherPeer = await accepted2;
  const received = readAll(otherPeer);
  await writeAll(other, pattern(200_000));
  await other.closeWrite();
  assert.equal((await received).length, 200_000);
  // The stalled connection is still stalled: its peer holds a full window (less the sliver that
  // sender-side SWS avoidance keeps back), unread.
  const held = stalledPeer.socket.recvQueue;
  assert.ok(held > stalledPeer.socket.recvCapacity - 1460, `peer holds only ${held} bytes`);
  other.close();
  otherPeer.close();
  stalled.close();
  stalledPeer.close();
  await blocked;
  listener.close();
});
