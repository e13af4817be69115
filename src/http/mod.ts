/**
 * HTTP/1.1 over smolnet: {@linkcode serve} answers requests on a `TcpListener` (or any async
 * iterable of connections) with a fetch handler, the way `Deno.serve` does on a kernel socket,
 * and {@linkcode createFetch} returns a `fetch` that dials through a `NetStack`. Frameworks built
 * on fetch handlers (Hono, oak's `app.handle`) run on `serve` unchanged; responses from
 * `createFetch` are real `globalThis.Response` objects.
 *
 * Neither `Deno.serve` nor Deno's `fetch` can carry a userspace connection (they take kernel
 * resources only), so this module speaks HTTP/1.1 itself (RFC 9112): keep-alive, pipelining,
 * chunked streaming bodies, `Expect: 100-continue`, limits and timeouts, and the request
 * smuggling rules of RFC 9112 §6.3. HTTPS uses {@linkcode startTls}, which runs `node:tls` over
 * the connection (`Deno.startTls` takes kernel sockets only): `serve` with `cert` and `key`,
 * `createFetch` for `https:` URLs. It has no npm dependencies.
 *
 * @example Serve and fetch between two stacks
 * ```ts
 * import { createFetch, serve } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 8080 }), (req, info) =>
 *   Response.json({ path: new URL(req.url).pathname, from: info.remoteAddr }));
 * const fetch = createFetch(client);
 * const res = await fetch("http://192.0.2.1:8080/hello");
 * const json = await res.json();
 * assert.equal(json.path, "/hello");
 * assert.equal(json.from.hostname, "192.0.2.2");
 * fetch.close();
 * await http.shutdown();
 * ```
 *
 * @module
 */

export type { Dialer, HttpConn } from "./conn.ts";
export {
  type ConnSource,
  type HttpServer,
  serve,
  type ServeHandler,
  type ServeHandlerInfo,
  type ServeOptions,
} from "./server.ts";
export { createFetch, type CreateFetchOptions, type FetchFunction } from "./client.ts";
export { startTls, type StartTlsOptions } from "./tls.ts";
export { trailersOf } from "./trailers.ts";
export {
  NetWebSocket,
  type NetWebSocketEventMap,
  type WebSocketLimits,
  type WebSocketStats,
} from "./websocket.ts";
export {
  createWebSocket,
  type CreateWebSocketOptions,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  type WebSocketUpgrade,
} from "./websocket_handshake.ts";
