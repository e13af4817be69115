// TCP Fast Open through the async layer (issue 13): NetStack.listen({ fastOpen }) and
// NetStack.connect({ fastOpen }) between two stacks over a link pair.

import assert from "node:assert/strict";
import type { TcpStream } from "../../mod.ts";
import { stackPair } from "./_helpers.ts";

async function readN(conn: TcpStream, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return out.subarray(0, got);
}

const REQUEST = new TextEncoder().encode("hello over fast open");

Deno.test("NetStack: the second fastOpen connect carries its first write in the SYN", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 80, fastOpen: true });
  // First connection: a cookie request, an ordinary handshake.
  const first = await net.client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
  assert.equal(first.info.state, "established");
  await first.write(REQUEST);
  const p1 = await listener.accept();
  assert.deepEqual(await readN(p1, REQUEST.length), REQUEST);
  assert.equal(listener.info.fastOpenCookiesSent, 1);
  assert.equal(first.info.fastOpenSynData, 0);
  // Second connection: resolves before the handshake; the write goes in the SYN.
  const second = await net.client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
  assert.equal(second.info.state, "synSent");
  await second.write(REQUEST);
  const p2 = await listener.accept();
  assert.deepEqual(await readN(p2, REQUEST.length), REQUEST);
  assert.equal(listener.info.fastOpenAccepted, 1);
  await p2.write(new Uint8Array([42]));
  assert.deepEqual(await readN(second, 1), new Uint8Array([42]));
  assert.equal(second.info.fastOpenSynData, 1);
  assert.equal(second.info.fastOpenDataAcked, 1);
  assert.equal(second.info.retransmits, 0);
  for (const c of [first, second, p1, p2]) c.close();
  listener.close();
});

Deno.test("NetStack: Fast Open over IPv6 too", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 83, hostname: "::", fastOpen: true });
  for (const round of [0, 1]) {
    const conn = await net.client.connect({ hostname: "2001:db8::1", port: 83, fastOpen: true });
    await conn.write(REQUEST);
    const peer = await listener.accept();
    assert.deepEqual(await readN(peer, REQUEST.length), REQUEST);
    assert.equal(conn.info.fastOpenSynData, round);
    peer.close();
    conn.close();
  }
  assert.equal(listener.info.fastOpenAccepted, 1);
  listener.close();
});

Deno.test("NetStack: fastOpen connect to a listener without it falls back and delivers once", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 81 });
  for (let i = 0; i < 2; i++) {
    const c = await net.client.connect({ hostname: "192.0.2.1", port: 81, fastOpen: true });
    assert.equal(c.info.state, "established"); // no cookie is ever given: each connect waits
    await c.write(REQUEST);
    const p = await listener.accept();
    assert.deepEqual(await readN(p, REQUEST.length), REQUEST);
    assert.equal(listener.info.fastOpenCookiesSent, 0);
    c.close();
    p.close();
  }
  listener.close();
});

Deno.test("NetStack: fastOpen must be a boolean", async () => {
  await using net = stackPair();
  assert.throws(
    () => net.server.listen({ port: 82, fastOpen: 1 as unknown as boolean }),
    TypeError,
  );
  await assert.rejects(
    net.client.connect({ hostname: "192.0.2.1", port: 82, fastOpen: "yes" as unknown as boolean }),
    TypeError,
  );
});

Deno.test("examples/fast_open.ts sends its second request in the SYN", async () => {
  const path = new URL("../../examples/fast_open.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", path] }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /connection 1: got 18 bytes while established; SYN carried data: false/);
  assert.match(
    text,
    /connection 2: got 18 bytes while synReceived; SYN carried data: true, acknowledged in the SYN-ACK: true/,
  );
  assert.match(text, /server: 1 cookie sent, 1 SYN with data taken/);
});
