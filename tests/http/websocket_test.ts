import assert from "node:assert/strict";
import { linkPair, NetStack, type TcpStream } from "../../mod.ts";
import {
  createWebSocket,
  type NetWebSocket,
  serve,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
} from "../../src/http/mod.ts";
import { encodeFrame, Opcode } from "../../src/http/_ws_frame.ts";
import { hasOpenssl, httpPair, selfSigned, send } from "./_helpers.ts";

const URL_ = "ws://192.0.2.1/chat";

/** A server whose sockets echo every message, and keeps them for inspection. */
function echoPair(options: UpgradeWebSocketOptions = {}) {
  const sockets: NetWebSocket[] = [];
  const pair = httpPair((req) => {
    if (req.headers.get("upgrade") === null) return new Response("plain");
    const { socket, response } = upgradeWebSocket(req, options);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => socket.send(e.data);
    sockets.push(socket);
    return response;
  });
  return { pair, sockets };
}

function opened(ws: NetWebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onclose = (e) => reject(new Error(`closed ${e.code}`));
  });
}
const next = (ws: NetWebSocket) =>
  new Promise<MessageEvent>((resolve) => ws.addEventListener("message", resolve, { once: true }));
const closed = (ws: NetWebSocket) =>
  new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve, { once: true }));

Deno.test("createWebSocket and upgradeWebSocket exchange text and binary messages", async () => {
  const { pair, sockets } = echoPair();
  await using _ = pair;
  const ws = createWebSocket(pair.client, URL_);
  assert.equal(ws.readyState, ws.CONNECTING);
  assert.throws(() => ws.send("early"), DOMException);
  await opened(ws);
  assert.equal(ws.readyState, ws.OPEN);
  assert.equal(sockets[0]!.url, URL_);
  ws.send("héllo ✓");
  assert.equal((await next(ws)).data, "héllo ✓");
  ws.binaryType = "arraybuffer";
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff);
  ws.send(big);
  const back = new Uint8Array((await next(ws)).data as ArrayBuffer);
  assert.deepEqual(back, big);
  ws.binaryType = "blob";
  ws.send(new Blob([new Uint8Array([1, 2, 3])]));
  const blob = (await next(ws)).data as Blob;
  assert.deepEqual([...await blob.bytes()], [1, 2, 3]);
  assert.equal(ws.stats.messagesReceived, 3);
  assert.equal(sockets[0]!.stats.messagesReceived, 3);
  // The same server still answers plain HTTP.
  assert.equal(await (await pair.fetch("http://192.0.2.1/")).text(), "plain");
  const serverClosed = closed(sockets[0]!);
  ws.close(1000, "done");
  assert.equal(ws.readyState, ws.CLOSING);
  const c = await closed(ws);
  assert.deepEqual([c.code, c.wasClean], [1000, true]);
  const s = await serverClosed;
  assert.deepEqual([s.code, s.reason, s.wasClean], [1000, "done", true]);
  assert.equal(ws.readyState, ws.CLOSED);
});

Deno.test("the server starts the close handshake and shutdown closes sockets with 1001", async () => {
  const { pair, sockets } = echoPair();
  await using _ = pair;
  const a = createWebSocket(pair.client, URL_);
  const b = createWebSocket(pair.client, URL_);
  await Promise.all([opened(a), opened(b)]);
  const aClosed = closed(a);
  sockets[0]!.close(4000, "bye");
  const ca = await aClosed;
  assert.deepEqual([ca.code, ca.reason, ca.wasClean], [4000, "bye", true]);
  const bClosed = closed(b);
  await pair.http.shutdown(); // resolves once every socket has ended
  const cb = await bClosed;
  assert.deepEqual([cb.code, cb.wasClean], [1001, true]);
  assert.throws(() => a.close(1001), DOMException); // 1000 or 3000-4999 only
  assert.throws(() => a.close(1000, "x".repeat(124)), DOMException);
});

Deno.test("upgradeWebSocket checks the request and offers the subprotocol", async () => {
  const errors: string[] = [];
  await using pair = httpPair((req) => {
    try {
      const { socket, response } = upgradeWebSocket(req, { protocol: "chat" });
      socket.onopen = () => socket.send(socket.protocol);
      return response;
    } catch (e) {
      errors.push((e as Error).message);
      return new Response("no", { status: 400 });
    }
  });
  const ws = createWebSocket(pair.client, URL_, { protocols: ["v2", "chat"] });
  await opened(ws);
  assert.equal(ws.protocol, "chat");
  assert.equal((await next(ws)).data, "chat");
  ws.close();
  assert.equal((await closed(ws)).code, 1005); // no code sent: the peer reports 1005
  // A request without the version, and one with a short key: the handler gets a TypeError.
  const raw = await pair.raw();
  await send(
    raw,
    "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" +
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  const buf = new Uint8Array(4096);
  let text = "";
  while ((text.match(/ 400 /g) ?? []).length < 2) {
    text += new TextDecoder().decode(buf.subarray(0, (await raw.read(buf))!));
  }
  raw.close();
  assert.deepEqual(errors, [
    "Invalid upgrade: Sec-WebSocket-Version must be 13",
    "Invalid upgrade: Sec-WebSocket-Key must be 16 bytes in base64",
  ]);
  assert.throws(() => upgradeWebSocket(new Request("http://a/")), TypeError);
});

Deno.test("createWebSocket fails with 1006 when the server refuses the upgrade", async () => {
  await using pair = httpPair(() => new Response("no", { status: 403 }));
  const ws = createWebSocket(pair.client, URL_);
  let error = "";
  ws.onerror = (e) => error = (e as ErrorEvent).message;
  const c = await closed(ws);
  assert.deepEqual([c.code, c.wasClean], [1006, false]);
  assert.match(error, /status 403/);
  assert.throws(() => createWebSocket(pair.client, "ws://192.0.2.1/#x"), DOMException);
});

/** A raw client that did the handshake by hand: frames are written as given. */
async function rawSocket(pair: ReturnType<typeof httpPair>): Promise<TcpStream> {
  const raw = await pair.raw();
  await send(
    raw,
    "GET /raw HTTP/1.1\r\nHost: 192.0.2.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  let head = "";
  const one = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    assert.equal(await raw.read(one), 1);
    head += String.fromCharCode(one[0]!);
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  return raw;
}

/** Reads frames until EOF; returns [opcode, payload] of each (server frames are unmasked). */
async function readFrames(raw: TcpStream): Promise<[number, Uint8Array][]> {
  const chunks: number[] = [];
  const buf = new Uint8Array(65536);
  try {
    for (let n = await raw.read(buf); n !== null; n = await raw.read(buf)) {
      chunks.push(...buf.subarray(0, n));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionReset)) throw e;
  }
  const out: [number, Uint8Array][] = [];
  for (let i = 0; i < chunks.length;) {
    const len = chunks[i + 1]! & 0x7f; // every frame here is short
    out.push([chunks[i]! & 0x0f, new Uint8Array(chunks.slice(i + 2, i + 2 + len))]);
    i += 2 + len;
  }
  return out;
}

const closeCode = (p: Uint8Array) => (p[0]! << 8) | p[1]!;
const masked = (opcode: number, payload: number[] | Uint8Array, fin = true) => {
  const f = encodeFrame(opcode, new Uint8Array(payload), true);
  if (!fin) f[0] = f[0]! & 0x7f;
  return f;
};

Deno.test("fragments are reassembled, pings answered, and a raw close handshake completes", async () => {
  const { pair, sockets } = echoPair();
  await using _ = pair;
  const raw = await rawSocket(pair);
  const enc = new TextEncoder();
  // RFC 6455 §5.4: "Hel" + ping in the middle + "lo"; the ping is answered first.
  await send(raw, masked(Opcode.Text, enc.encode("Hel"), false));
  await send(raw, masked(Opcode.Ping, enc.encode("p")));
  await send(raw, masked(Opcode.Continuation, enc.encode("lo")));
  await send(raw, masked(Opcode.Close, [0x03, 0xe8]));
  const frames = await readFrames(raw);
  raw.close();
  assert.deepEqual(frames.map(([op]) => op), [Opcode.Pong, Opcode.Text, Opcode.Close]);
  assert.equal(new TextDecoder().decode(frames[0]![1]), "p");
  assert.equal(new TextDecoder().decode(frames[1]![1]), "Hello");
  assert.equal(closeCode(frames[2]![1]), 1000);
  assert.equal(sockets[0]!.stats.pingsReceived, 1);
  assert.equal(sockets[0]!.stats.protocolErrors, 0);
});

Deno.test("bad frames close with 1002, 1007 or 1009, are counted, and never stop the server", async () => {
  const { pair, sockets } = echoPair({ maxMessageSize: 1000 });
  await using _ = pair;
  const cases: [string, Uint8Array[], number][] = [
    ["unmasked client frame", [encodeFrame(Opcode.Text, new Uint8Array([0x61]), false)], 1002],
    ["reserved opcode", [masked(0x3, [1])], 1002],
    ["reserved bit", [(() => {
      const f = masked(Opcode.Text, [0x61]);
      f[0] = f[0]! | 0x40;
      return f;
    })()], 1002],
    ["continuation first", [masked(Opcode.Continuation, [0x61])], 1002],
    ["data frame inside a fragmented message", [
      masked(Opcode.Text, [0x61], false),
      masked(Opcode.Binary, [0x61]),
    ], 1002],
    ["fragmented ping", [masked(Opcode.Ping, [], false)], 1002],
    ["bad close code", [masked(Opcode.Close, [0x03, 0xed])], 1002],
    ["invalid UTF-8", [masked(Opcode.Text, [0xc3, 0x28])], 1007],
    ["over maxMessageSize", [masked(Opcode.Binary, new Uint8Array(1001))], 1009],
    ["fragments over maxMessageSize", [
      masked(Opcode.Binary, new Uint8Array(600), false),
      masked(Opcode.Continuation, new Uint8Array(600)),
    ], 1009],
  ];
  for (const [name, frames, code] of cases) {
    const raw = await rawSocket(pair);
    const ended = new Promise<CloseEvent>((resolve) => {
      const s = sockets.at(-1)!;
      s.addEventListener("close", resolve, { once: true });
    });
    for (const f of frames) await send(raw, f);
    const got = await readFrames(raw);
    raw.close();
    const last = got.at(-1);
    assert.equal(last?.[0], Opcode.Close, name);
    assert.equal(closeCode(last![1]), code, name);
    const e = await ended;
    assert.deepEqual([e.code, e.wasClean], [code, false], name);
    assert.equal(sockets.at(-1)!.stats.protocolErrors, 1, name);
  }
  // Still serving: a well-behaved client echoes.
  const ws = createWebSocket(pair.client, URL_);
  await opened(ws);
  ws.send("ok");
  assert.equal((await next(ws)).data, "ok");
  ws.close();
  await closed(ws);
});

Deno.test("a peer that goes silent is pinged, then dropped", async () => {
  const { pair, sockets } = echoPair({ idleTimeout: 0.05 });
  await using _ = pair;
  const raw = await rawSocket(pair);
  const frames = await readFrames(raw); // never answers: the ping comes, then the drop
  raw.close();
  assert.deepEqual(frames.map(([op]) => op), [Opcode.Ping]);
  assert.equal(sockets[0]!.readyState, sockets[0]!.CLOSED);
});

Deno.test({
  name: "wss: createWebSocket with caCerts talks to upgradeWebSocket on a serve with cert/key",
  ignore: !hasOpenssl,
  fn: async () => {
    const { cert, key } = await selfSigned("192.0.2.1", "IP:192.0.2.1");
    const [a, b] = linkPair();
    await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
    await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
    const http = serve(server.listen({ port: 443 }), (req) => {
      const { socket, response } = upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(`${socket.url} ${e.data}`);
      return response;
    }, { cert, key });
    try {
      const ws = createWebSocket(client, "wss://192.0.2.1/secure", { caCerts: [cert] });
      await opened(ws);
      ws.send("hi");
      assert.equal((await next(ws)).data, "wss://192.0.2.1/secure hi");
      ws.close(1000);
      assert.equal((await closed(ws)).wasClean, true);
      // Without the self-signed root the handshake fails: error, then close 1006.
      const untrusting = createWebSocket(client, "wss://192.0.2.1/secure");
      let error = "";
      untrusting.onerror = (e) => error = (e as ErrorEvent).message;
      assert.equal((await closed(untrusting)).code, 1006);
      assert.match(error, /SELF_SIGNED|self.signed/i);
    } finally {
      await http.shutdown();
    }
  },
});
