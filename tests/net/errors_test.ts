import assert from "node:assert/strict";
import { stackPair, writeAll } from "./_helpers.ts";

function assertDenoError(e: unknown, cls: new (...a: never[]) => Error, code: string | undefined) {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
  assert.equal((e as { code?: string }).code, code);
}

Deno.test("NetStack.connect rejects with ConnectionRefused when the peer answers RST", async () => {
  await using net = stackPair();
  const e = await net.client.connect({ hostname: "192.0.2.1", port: 81 }).catch((e) => e);
  assertDenoError(e, Deno.errors.ConnectionRefused, "ECONNREFUSED");
  assert.equal(e.message, "Cannot connect to 192.0.2.1:81: connection refused");
});

Deno.test("TcpStream.read rejects with ConnectionReset when the peer resets", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await writeAll(conn, new Uint8Array(100));
  // Wait until the server has the bytes, then close without reading them: RFC 9293 says RST.
  while (peer.socket.recvQueue < 100) await new Promise((r) => setTimeout(r, 1));
  peer.close();
  const e = await conn.read(new Uint8Array(10)).catch((e) => e);
  assertDenoError(e, Deno.errors.ConnectionReset, "ECONNRESET");
  // A write after the reset is a broken pipe, and closeWrite finds nothing connected.
  assertDenoError(
    await conn.write(new Uint8Array(1)).catch((e) => e),
    Deno.errors.BrokenPipe,
    "EPIPE",
  );
  assertDenoError(await conn.closeWrite().catch((e) => e), Deno.errors.NotConnected, "ENOTCONN");
  conn.close();
  listener.close();
});

Deno.test("NetStack.connect rejects with TimedOut when nobody answers the SYN", async () => {
  await using net = stackPair({ client: { tcp: { connectTimeout: 1500 } } });
  // 192.0.2.9 is on the link but no stack owns it: the SYNs go unanswered.
  const e = await net.client.connect({ hostname: "192.0.2.9", port: 80 }).catch((e) => e);
  assertDenoError(e, Deno.errors.TimedOut, "ETIMEDOUT");
});

Deno.test("NetStack.listen throws AddrInUse for a taken port and AddrNotAvailable for a foreign address", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 8080 });
  assert.throws(() => net.server.listen({ port: 8080 }), (e) => {
    assertDenoError(e, Deno.errors.AddrInUse, "EADDRINUSE");
    return true;
  });
  assert.throws(() => net.server.listen({ port: 8081, hostname: "198.51.100.1" }), (e) => {
    assertDenoError(e, Deno.errors.AddrNotAvailable, "EADDRNOTAVAIL");
    return true;
  });
  listener.close();
  // Closing frees the port.
  net.server.listen({ port: 8080 }).close();
});

Deno.test("NetStack.connect rejects with NetworkUnreachable without a route", async () => {
  await using net = stackPair();
  const e = await net.client.connect({ hostname: "198.51.100.1", port: 80 }).catch((e) => e);
  assertDenoError(e, Deno.errors.NetworkUnreachable, "ENETUNREACH");
});

Deno.test("TcpStream.write after closeWrite rejects with BrokenPipe", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await conn.closeWrite();
  assertDenoError(
    await conn.write(new Uint8Array(1)).catch((e) => e),
    Deno.errors.BrokenPipe,
    "EPIPE",
  );
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("Closing the stack aborts open connections: reads reject with ConnectionAborted", async () => {
  const net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  const pending = conn.read(new Uint8Array(10));
  await net.client.close();
  assertDenoError(await pending.catch((e) => e), Deno.errors.ConnectionAborted, "ECONNABORTED");
  // The server sees the RST of the abort.
  assertDenoError(
    await peer.read(new Uint8Array(10)).catch((e) => e),
    Deno.errors.ConnectionReset,
    "ECONNRESET",
  );
  conn.close();
  peer.close();
  await net.server.close();
});

Deno.test("Use after close rejects with BadResource", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  conn.close();
  assert.ok(
    (await conn.read(new Uint8Array(1)).catch((e) => e)) instanceof Deno.errors.BadResource,
  );
  assert.ok(
    (await conn.write(new Uint8Array(1)).catch((e) => e)) instanceof Deno.errors.BadResource,
  );
  assert.throws(() => conn.close(), Deno.errors.BadResource);
  peer.close();
  listener.close();
  assert.ok((await listener.accept().catch((e) => e)) instanceof Deno.errors.BadResource);
  assert.throws(() => listener.close(), Deno.errors.BadResource);
});

Deno.test("Bad arguments throw TypeError or RangeError", async () => {
  await using net = stackPair();
  assert.throws(() => net.server.listen({ port: 70000 }), RangeError);
  assert.throws(() => net.server.listen({ port: -1 }), RangeError);
  assert.throws(() => net.server.listen({ port: 80, hostname: "not an address" }), TypeError);
  await assert.rejects(net.client.connect({ hostname: "192.0.2.1", port: 0 }), RangeError);
  await assert.rejects(net.client.connect({ hostname: "192.0.2.300", port: 80 }), TypeError);
  await assert.rejects(net.client.connect({ hostname: "224.0.0.1", port: 80 }), TypeError);
  assert.throws(() => net.server.listenDatagram({ port: 1.5 }), RangeError);
});

Deno.test("An aborted signal rejects connect with AbortError and aborts the handshake", async () => {
  await using net = stackPair();
  const already = AbortSignal.abort();
  const e1 = await net.client.connect({ hostname: "192.0.2.1", port: 7, signal: already }).catch((
    e,
  ) => e);
  assert.equal(e1.name, "AbortError");
  // Abort while the SYN goes unanswered.
  const controller = new AbortController();
  const pending = net.client.connect({ hostname: "192.0.2.9", port: 7, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  const e2 = await pending.catch((e) => e);
  assert.equal(e2.name, "AbortError");
});

Deno.test("A connect with a signal that aborts only after it resolved gives an open stream", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const controller = new AbortController();
  const pendingAccept = listener.accept();
  const conn = await net.client.connect({
    hostname: "192.0.2.1",
    port: 7,
    signal: controller.signal,
  });
  const peer = await pendingAccept;
  controller.abort(); // too late: the connect is done, the connection stays
  assert.equal(conn.info.state, "established");
  assert.equal(conn.remoteAddr.port, 7);
  await writeAll(peer, new Uint8Array([1, 2, 3]));
  const buf = new Uint8Array(8);
  assert.equal(await conn.read(buf), 3);
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("Bad connect arguments reject, never throw, even on a closed stack", async () => {
  const net = stackPair();
  const bad = net.client.connect({ hostname: "192.0.2.1", port: 0 });
  assert.ok(bad instanceof Promise);
  await assert.rejects(bad, RangeError);
  await net[Symbol.asyncDispose]();
  const closed = net.client.connect({ hostname: "192.0.2.1", port: 7 });
  assert.ok(closed instanceof Promise);
  await assert.rejects(closed, Deno.errors.BadResource);
});

Deno.test("TcpListener.close rejects pending accepts with BadResource and ends iteration", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const a = listener.accept();
  const b = listener.accept();
  const iterated = (async () => {
    let n = 0;
    for await (const _ of listener) n++;
    return n;
  })();
  listener.close();
  assert.ok((await a.catch((e) => e)) instanceof Deno.errors.BadResource);
  assert.ok((await b.catch((e) => e)) instanceof Deno.errors.BadResource);
  assert.equal(await iterated, 0);
  // Connections to the closed port are now refused.
  await assert.rejects(
    net.client.connect({ hostname: "192.0.2.1", port: 7 }),
    Deno.errors.ConnectionRefused,
  );
});
