import assert from "node:assert/strict";
import { pattern, readAll, sha256, stackPair, writeAll } from "./_helpers.ts";

Deno.test("TcpStream moves 4 MiB each way over IPv4 with equal SHA-256", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 9000 });
  const up = pattern(4 << 20, 7);
  const down = pattern(4 << 20, 9);
  const serverSide = (async () => {
    const conn = await listener.accept();
    const [got] = await Promise.all([
      readAll(conn),
      writeAll(conn, down).then(() => conn.closeWrite()),
    ]);
    conn.close();
    return got;
  })();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 9000 });
  const [got] = await Promise.all([
    readAll(conn),
    writeAll(conn, up).then(() => conn.closeWrite()),
  ]);
  conn.close();
  assert.equal(await sha256(got), await sha256(down));
  assert.equal(await sha256(await serverSide), await sha256(up));
  listener.close();
});

Deno.test("TcpStream works over IPv6 and reports bracket-free addresses", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 80, hostname: "2001:db8::1" });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "2001:db8::1", port: 80 });
  const peer = await accepted;
  assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "2001:db8::1", port: 80 });
  assert.equal(conn.localAddr.hostname, "2001:db8::2");
  assert.deepEqual(peer.remoteAddr, conn.localAddr);
  await writeAll(conn, new TextEncoder().encode("v6"));
  const buf = new Uint8Array(2);
  assert.equal(await peer.read(buf), 2);
  assert.equal(new TextDecoder().decode(buf), "v6");
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("TcpStream half-close: the client's FIN ends the server's reads and the server still sends", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await writeAll(conn, new TextEncoder().encode("request"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(peer)), "request");
  await writeAll(peer, new TextEncoder().encode("response after your FIN"));
  await peer.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(conn)), "response after your FIN");
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("TcpStream half-close: the server's FIN ends the client's reads and the client still sends", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await peer.closeWrite();
  assert.equal(await conn.read(new Uint8Array(10)), null);
  await writeAll(conn, new TextEncoder().encode("still talking"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(peer)), "still talking");
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("TcpStream back-pressure: a writer stalls while nobody reads, memory stays bounded", async () => {
  const buffer = 64 * 1024;
  await using net = stackPair({
    server: { tcp: { rxBufferSize: buffer, txBufferSize: buffer } },
    client: { tcp: { rxBufferSize: buffer, txBufferSize: buffer } },
  });
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  const chunk = new Uint8Array(16 * 1024);
  let written = 0;
  let pending: Promise<number> | null = null;
  while (written <= 16 * buffer) {
    const w = conn.write(chunk);
    const r = await settlesWithin(w, 250);
    if (r === null) {
      pending = w;
      break;
    }
    written += r;
  }
  assert.ok(pending !== null, `the writer never stalled after ${written} bytes`);
  // Without a reader, at most the sender's buffer plus the receiver's window can be taken.
  assert.ok(written <= 2 * buffer, `took ${written} bytes without a reader`);
  const drained = readAll(peer);
  written += await pending;
  await conn.closeWrite();
  assert.equal((await drained).length, written);
  conn.close();
  peer.close();
  listener.close();
});

/** Resolves with `p`'s value, or `null` if it has not settled after `ms` (the timer is cleared). */
async function settlesWithin<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    id = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(id);
  }
}

Deno.test("TcpStream readable supports BYOB readers and readable.pipeTo between two connections", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const data = pattern(300_000, 3);
  // Server: pipe whatever arrives straight back (readable → writable of the same connection).
  const echo = (async () => {
    const c = await listener.accept();
    await c.readable.pipeTo(c.writable);
    c.close();
  })();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const writer = (async () => {
    await writeAll(conn, data);
    await conn.closeWrite();
  })();
  const reader = conn.readable.getReader({ mode: "byob" });
  const out = new Uint8Array(data.length);
  let off = 0;
  while (true) {
    const { value, done } = await reader.read(new Uint8Array(8192));
    if (done) break;
    out.set(value, off);
    off += value.length;
  }
  reader.releaseLock();
  await writer;
  await echo;
  assert.equal(off, data.length);
  assert.equal(await sha256(out), await sha256(data));
  conn.close();
  listener.close();
});

Deno.test("TcpStream is async-iterable over received chunks", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await writeAll(peer, pattern(50_000));
  await peer.closeWrite();
  let total = 0;
  for await (const chunk of conn) total += chunk.length;
  assert.equal(total, 50_000);
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("TcpStream type-checks as Deno.TcpConn and TcpListener as Deno.Listener", async () => {
  await using net = stackPair();
  const listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr> = net.server.listen({ port: 0 });
  assert.ok(listener.addr.port >= 49152, `port 0 picked ${listener.addr.port}`);
  const accepted = listener.accept();
  const conn: Deno.TcpConn = await net.client.connect({
    hostname: "192.0.2.1",
    port: listener.addr.port,
  });
  const peer: Deno.TcpConn = await accepted;
  conn.setNoDelay(true);
  conn.setKeepAlive(true);
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("NetStack.connect right after construction negotiates the MSS of the device's MTU", async () => {
  await using net = stackPair({ mtu: 65535 });
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  // 65535 − 20 (IPv4) − 20 (TCP) − 12 (timestamps) = 65483.
  assert.equal(conn.socket.info.mss, 65483);
  assert.equal(peer.socket.info.mss, 65483);
  conn.close();
  peer.close();
  listener.close();
});

/** Lets `n` turns of the event loop run (each stack polls at most once per turn it is woken). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** A connection whose client end holds `size` received bytes, both stacks idle. */
async function withReceived(size: number, rxBufferSize: number) {
  // ACKs at once (no delayed-ACK timer), fixed buffers (no growth while the test reads).
  const tcp = { delayedAck: 0, rxBufferSize, txBufferSize: rxBufferSize };
  const net = stackPair({ server: { tcp }, client: { tcp } });
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  await writeAll(peer, pattern(size, 3));
  for (let i = 0; i < 1000 && conn.socket.recvQueue < size; i++) await turns(1);
  assert.equal(conn.socket.recvQueue, size);
  await turns(4);
  return { net, listener, conn, peer };
}

Deno.test("TcpStream: a read that frees less than the window-update threshold leaves the loop idle", async () => {
  const { net, listener, conn, peer } = await withReceived(100, 64 * 1024);
  const polls = net.client.polls;
  const sent = conn.socket.info.segmentsOut;
  assert.equal(await conn.read(new Uint8Array(100)), 100);
  await turns(4);
  // 100 bytes are under one MSS: no window update is due, so the read costs no poll.
  assert.equal(net.client.polls, polls);
  assert.equal(conn.socket.info.segmentsOut, sent);
  conn.close();
  peer.close();
  listener.close();
  await net[Symbol.asyncDispose]();
});

Deno.test("TcpStream: a read that frees a full window polls at once and sends the window update", async () => {
  // 4 KiB buffer, 4 KiB received: the announced window is closed until the application reads.
  const { net, listener, conn, peer } = await withReceived(4096, 4096);
  assert.equal(peer.socket.info.peerWindow, 0);
  const polls = net.client.polls;
  const sent = conn.socket.info.segmentsOut;
  assert.equal(await conn.read(new Uint8Array(4096)), 4096);
  for (let i = 0; i < 1000 && peer.socket.info.peerWindow === 0; i++) await turns(1);
  assert.ok(net.client.polls > polls);
  assert.equal(conn.socket.info.segmentsOut, sent + 1); // one pure window update
  assert.equal(peer.socket.info.peerWindow, 4096);
  conn.close();
  peer.close();
  listener.close();
  await net[Symbol.asyncDispose]();
});
