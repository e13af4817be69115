/**
 * A WebSocket chat room on two smolnet stacks in one process: `serve` with `upgradeWebSocket`
 * on one stack relays every message to every member; three clients made with `createWebSocket`
 * on the other stack join, each says hello, and the room shows who said what. Then the clients
 * leave with a clean close handshake and the server shuts down.
 *
 * Run: `deno run examples/http_websocket.ts [--clients N]`
 *
 * @module
 */

import { linkPair, NetStack } from "../mod.ts";
import { createWebSocket, type NetWebSocket, serve, upgradeWebSocket } from "../src/http/mod.ts";

const args = Deno.args;
if (args.includes("--help")) {
  console.log(
    "Usage: deno run examples/http_websocket.ts [--clients N]\n\n" +
      "A chat room served on 192.0.2.1:80 (WebSocket at /chat); N clients (default 3) talk in it.",
  );
  Deno.exit(0);
}
const at = args.indexOf("--clients");
const CLIENTS = at >= 0 ? Number(args[at + 1]) : 3;
if (!Number.isInteger(CLIENTS) || CLIENTS < 1 || CLIENTS > 100) {
  throw new RangeError(`Invalid --clients "${args[at + 1]}": expected 1 to 100`);
}

const [a, b] = linkPair();
await using serverStack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
await using clientStack = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });

// The room: every message from a member goes to all members.
const members = new Set<NetWebSocket>();
const everyoneIn = Promise.withResolvers<void>();
const http = serve(serverStack.listen({ port: 80 }), (req) => {
  if (new URL(req.url).pathname !== "/chat") return new Response("not found\n", { status: 404 });
  const name = new URL(req.url).searchParams.get("name") ?? "anonymous";
  const { socket, response } = upgradeWebSocket(req, { maxMessageSize: 64 * 1024 });
  socket.onopen = () => {
    members.add(socket);
    if (members.size === CLIENTS) everyoneIn.resolve();
  };
  socket.onmessage = (e) => {
    for (const m of members) m.send(`${name}: ${e.data}`);
  };
  socket.onclose = () => members.delete(socket);
  return response;
});

// The clients: join, wait until everyone is in, say hello, read every greeting.
const names = Array.from({ length: CLIENTS }, (_, i) => `user${i + 1}`);
const sockets = names.map((n) => createWebSocket(clientStack, `ws://192.0.2.1/chat?name=${n}`));
await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.onopen = resolve)));
await everyoneIn.promise;
const heard = sockets.map((ws) =>
  new Promise<string[]>((resolve) => {
    const lines: string[] = [];
    ws.onmessage = (e) => {
      lines.push(e.data);
      if (lines.length === CLIENTS) resolve(lines);
    };
  })
);
sockets.forEach((ws, i) => ws.send(`hello from ${names[i]}`));
const transcripts = await Promise.all(heard);
console.log(`${names[0]} heard:\n  ${transcripts[0]!.join("\n  ")}`);
console.log(
  `every client heard ${CLIENTS} messages: ${transcripts.every((t) => t.length === CLIENTS)}`,
);

const closes = sockets.map((ws) => new Promise<CloseEvent>((resolve) => ws.onclose = resolve));
for (const ws of sockets) ws.close(1000, "bye");
const codes = (await Promise.all(closes)).map((e) => `${e.code}${e.wasClean ? " clean" : ""}`);
console.log(`closed: ${codes.join(", ")}`);
await http.shutdown();
