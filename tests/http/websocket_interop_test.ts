// Our WebSocket against another implementation: the npm `ws` package, run over our connections
// through node:stream glue (duplexOf), both ways.
import assert from "node:assert/strict";
import * as nodeHttp from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { createWebSocket, upgradeWebSocket } from "../../src/http/mod.ts";
import { duplexOf } from "../../src/http/tls.ts";
import { httpPair } from "./_helpers.ts";

Deno.test("interop: the npm ws client talks to upgradeWebSocket", async () => {
  const closes: number[] = [];
  await using pair = httpPair((req) => {
    const { socket, response } = upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => socket.send(typeof e.data === "string" ? `echo ${e.data}` : e.data);
    socket.onclose = (e) => closes.push(e.code);
    return response;
  });
  const conn = await pair.raw();
  const ws = new WebSocket("ws://192.0.2.1/", {
    createConnection: () => duplexOf(conn) as unknown as import("node:net").Socket,
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const message = () =>
    new Promise<[Buffer, boolean]>((resolve) =>
      ws.once("message", (d: Buffer, binary: boolean) => resolve([d, binary]))
    );
  ws.send("héllo");
  const [text, isBinary] = await message();
  assert.deepEqual([text.toString(), isBinary], ["echo héllo", false]);
  const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 13) & 0xff);
  ws.send(big);
  const [bin] = await message();
  assert.deepEqual(new Uint8Array(bin), big);
  // ws fragments on request: three frames, one message.
  ws.send("a", { fin: false });
  ws.send("b", { fin: false });
  ws.send("c", { fin: true });
  assert.equal((await message())[0].toString(), "echo abc");
  const closed = new Promise<number>((resolve) => ws.once("close", resolve));
  ws.close(4001, "bye");
  assert.equal(await closed, 4001);
  assert.deepEqual(closes, [4001]);
});

Deno.test("interop: createWebSocket talks to an npm ws server behind node:http", async () => {
  await using pair = httpPair(() => new Response("unused"));
  const wss = new WebSocketServer({ noServer: true });
  const server = nodeHttp.createServer();
  const serverClose = Promise.withResolvers<number>();
  server.on("upgrade", (req, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (w: WebSocket) => {
      w.on("message", (d: Buffer, binary: boolean) => w.send(binary ? d : `ws ${d}`));
      w.on("close", (code: number) => serverClose.resolve(code));
    });
  });
  const listener = pair.server.listen({ port: 81 });
  const accepting = (async () => {
    for await (const c of listener) server.emit("connection", duplexOf(c));
  })().catch(() => {});
  try {
    const ws = createWebSocket(pair.client, "ws://192.0.2.1:81/x", { protocols: "chat" });
    ws.binaryType = "arraybuffer";
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = (e) => reject(new Error((e as ErrorEvent).message));
    });
    assert.equal(ws.protocol, "chat"); // ws picks the first offered protocol by default
    const next = () => new Promise<MessageEvent>((resolve) => ws.onmessage = resolve);
    ws.send("yo");
    assert.equal((await next()).data, "ws yo");
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => i & 0xff);
    ws.send(big);
    assert.deepEqual(new Uint8Array((await next()).data), big);
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.close(1000, "done");
    const c = await closed;
    assert.deepEqual([c.code, c.wasClean], [1000, true]);
    assert.equal(await serverClose.promise, 1000);
  } finally {
    listener.close();
    await accepting;
    wss.close();
    server.close();
  }
});
