// The WebSocket opening handshake (RFC 6455 §4): upgradeWebSocket() for serve(), createWebSocket().
import type { Dialer, HttpConn } from "./conn.ts";
import { BufReader, encodeLatin1, HttpParseError, parseHead, TOKEN, writeAll } from "./_reader.ts";
import { acceptKey, base64, validClientKey } from "./_ws_frame.ts";
import { attachSocket, failHandshake, NetWebSocket, type WebSocketLimits } from "./websocket.ts";
import { startTls } from "./tls.ts";

/**
 * Options of {@linkcode upgradeWebSocket}.
 *
 * @example
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket, type UpgradeWebSocketOptions } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const options: UpgradeWebSocketOptions = { protocol: "chat", idleTimeout: 30 };
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   const { socket, response } = upgradeWebSocket(req, options);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/", { protocols: ["chat", "v2.chat"] });
 * await new Promise((resolve) => ws.addEventListener("open", resolve));
 * assert.equal(ws.protocol, "chat"); // the one the server answered with
 * const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
 * ws.close(1000);
 * await closed;
 * await http.shutdown();
 * ```
 */
export interface UpgradeWebSocketOptions extends WebSocketLimits {
  /** The subprotocol to answer with (one of those the client offered). */
  readonly protocol?: string;
}

/**
 * What {@linkcode upgradeWebSocket} returns: the socket, and the response the handler must
 * return for the upgrade to happen.
 *
 * @example
 * ```ts
 * import type { WebSocketUpgrade } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const keys: (keyof WebSocketUpgrade)[] = ["socket", "response"];
 * assert.equal(keys.length, 2);
 * ```
 */
export interface WebSocketUpgrade {
  /** The socket; it opens once the handler has returned `response`. */
  readonly socket: NetWebSocket;
  /** The `101 Switching Protocols` answer to return from the handler. */
  readonly response: Response;
}

/** What `serve` and `upgradeWebSocket` share about one request that asked to upgrade. */
export interface UpgradeSlot {
  result: { socket: NetWebSocket; response: Response; protocol: string; key: string } | null;
}

const slots = new WeakMap<Request, UpgradeSlot>();
/** Time from the dial to the end of the server's handshake (ms). */
const HANDSHAKE_TIMEOUT = 30_000;

/** Marks a request from `serve` as one that may be upgraded (internal to the server). */
export function markUpgradable(request: Request): UpgradeSlot {
  const slot: UpgradeSlot = { result: null };
  slots.set(request, slot);
  return slot;
}

/** Whether a comma-separated header value has `token`, case-insensitively. */
function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const t of value.split(",")) if (t.trim().toLowerCase() === token) return true;
  return false;
}

/**
 * Upgrades a request that {@linkcode serve} handed to a handler to a WebSocket, like
 * `Deno.upgradeWebSocket`: the handler returns `response`, the server answers
 * `101 Switching Protocols` with the `Sec-WebSocket-Accept` of RFC 6455 §4.2.2, and `socket`
 * opens on the same connection. The Fetch API cannot build a 101 response, so `response` is a
 * placeholder whose `status` reads 101; any header set on it (a cookie, say) is sent with the
 * 101. A socket whose response is not returned never opens (it fires `error` and `close`).
 *
 * @param request The request, as `serve` passed it to the handler.
 * @param options Subprotocol, maximum message size, idle timeout.
 * @returns The socket and the response to return.
 * @throws {TypeError} When the request is not from `serve`, was already upgraded, or is not a
 * valid WebSocket upgrade (GET, `Upgrade: websocket`, `Connection: Upgrade`, a 16-byte
 * `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`; RFC 6455 §4.2.1).
 *
 * @example
 * ```ts
 * import { serve, upgradeWebSocket } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a] = linkPair();
 * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * const http = serve(stack.listen({ port: 80 }), (req) => {
 *   if (req.headers.get("upgrade") !== "websocket") return new Response("not a WebSocket");
 *   const { socket, response } = upgradeWebSocket(req);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * assert.throws(() => upgradeWebSocket(new Request("http://a/")), TypeError);
 * await http.shutdown();
 * ```
 */
export function upgradeWebSocket(
  request: Request,
  options: UpgradeWebSocketOptions = {},
): WebSocketUpgrade {
  const slot = request instanceof Request ? slots.get(request) : undefined;
  if (slot === undefined) {
    throw new TypeError("Invalid request: not an upgrade request from serve()");
  }
  if (slot.result !== null) throw new TypeError("Invalid request: already upgraded");
  const h = request.headers;
  if (request.method !== "GET") throw new TypeError("Invalid upgrade: the method must be GET");
  if (!hasToken(h.get("upgrade"), "websocket")) {
    throw new TypeError("Invalid upgrade: the Upgrade field must contain websocket");
  }
  if (!hasToken(h.get("connection"), "upgrade")) {
    throw new TypeError("Invalid upgrade: the Connection field must contain upgrade");
  }
  if (h.get("sec-websocket-version") !== "13") {
    throw new TypeError("Invalid upgrade: Sec-WebSocket-Version must be 13");
  }
  const key = h.get("sec-websocket-key") ?? "";
  if (!validClientKey(key)) {
    throw new TypeError("Invalid upgrade: Sec-WebSocket-Key must be 16 bytes in base64");
  }
  const protocol = options.protocol ?? "";
  if (protocol !== "" && !TOKEN.test(protocol)) {
    throw new TypeError(`Invalid protocol "${protocol}": expected a token`);
  }
  const url = request.url.replace(/^http/, "ws");
  const socket = new NetWebSocket(url, true, options);
  const response = new Response(null, { status: 200 });
  Object.defineProperty(response, "status", { value: 101 });
  Object.defineProperty(response, "statusText", { value: "Switching Protocols" });
  slot.result = { socket, response, protocol, key };
  return { socket, response };
}

/** Fields of the 101 this module writes itself; the same names set on the response are dropped. */
const OWN_FIELDS = new Set([
  "upgrade",
  "connection",
  "sec-websocket-accept",
  "sec-websocket-protocol",
  "content-length",
  "transfer-encoding",
]);

/** Writes the 101 for an upgraded request and opens its socket on `conn` (used by `serve`). */
export async function switchProtocols(
  conn: HttpConn,
  reader: BufReader,
  up: NonNullable<UpgradeSlot["result"]>,
): Promise<void> {
  let head = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
    `sec-websocket-accept: ${await acceptKey(up.key)}\r\n`;
  if (up.protocol !== "") head += `sec-websocket-protocol: ${up.protocol}\r\n`;
  up.response.headers.forEach((v, k) => {
    if (!OWN_FIELDS.has(k)) head += `${k}: ${v}\r\n`;
  });
  await writeAll(conn, encodeLatin1(head + "\r\n"));
  attachSocket(up.socket, conn, reader, up.protocol);
}

/**
 * Options of {@linkcode createWebSocket}.
 *
 * @example
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket, type CreateWebSocketOptions } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * let cookie: string | null = null;
 * const options: CreateWebSocketOptions = { protocols: ["chat"], headers: { cookie: "a=b" } };
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   cookie = req.headers.get("cookie");
 *   const { socket, response } = upgradeWebSocket(req, { protocol: "chat" });
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/", options);
 * await new Promise((resolve) => ws.addEventListener("open", resolve));
 * assert.equal(cookie, "a=b"); // sent with the handshake request
 * assert.equal(ws.protocol, "chat");
 * const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
 * ws.close(1000);
 * await closed;
 * await http.shutdown();
 * ```
 */
export interface CreateWebSocketOptions extends WebSocketLimits {
  /** Subprotocols offered, most preferred first. */
  readonly protocols?: string | readonly string[];
  /** More fields for the handshake request (a cookie, an authorization). */
  readonly headers?: HeadersInit;
  /** PEM certificates trusted for `wss:` instead of the default roots. */
  readonly caCerts?: readonly string[];
  /** Largest handshake response head accepted (default 16 KiB). */
  readonly maxHeaderSize?: number;
}

/**
 * Opens a WebSocket through `stack` (a smolnet `NetStack`, or any {@linkcode Dialer}), like
 * `new WebSocket(url)`: the socket is returned at once in `CONNECTING` and fires `open` after
 * the handshake (RFC 6455 §4.1), or `error` and `close` (code 1006) when the dial or the
 * handshake fails (a status other than 101, a wrong `Sec-WebSocket-Accept`, a subprotocol that
 * was not offered). `ws:` and `http:` URLs speak plain TCP, `wss:` and `https:` TLS.
 *
 * @param stack What to dial through.
 * @param url The `ws:`, `wss:`, `http:` or `https:` URL, without a fragment.
 * @param options Subprotocols, extra fields, TLS roots, limits.
 * @returns The socket, connecting.
 * @throws {DOMException} `SyntaxError` for a URL of another scheme or with a fragment.
 *
 * @example
 * ```ts
 * import { createWebSocket } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const offline = { connect: () => Promise.reject(new Error("offline")) };
 * const ws = createWebSocket(offline, "ws://192.0.2.1/chat");
 * assert.equal(ws.readyState, ws.CONNECTING);
 * const closed = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
 * assert.equal(closed.code, 1006);
 * assert.throws(() => createWebSocket(offline, "ftp://192.0.2.1/"), DOMException);
 * ```
 */
export function createWebSocket(
  stack: Dialer,
  url: string | URL,
  options: CreateWebSocketOptions = {},
): NetWebSocket {
  if (stack === null || typeof stack !== "object" || typeof stack.connect !== "function") {
    throw new TypeError("Invalid stack: expected an object with connect()");
  }
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    throw new DOMException(`Invalid URL "${url}"`, "SyntaxError");
  }
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if ((u.protocol !== "ws:" && u.protocol !== "wss:") || u.hash !== "") {
    throw new DOMException(`Invalid URL "${url}": ws: or wss: without a fragment`, "SyntaxError");
  }
  const protocols = typeof options.protocols === "string"
    ? [options.protocols]
    : [...(options.protocols ?? [])];
  for (const p of protocols) {
    if (!TOKEN.test(p)) throw new DOMException(`Invalid protocol "${p}"`, "SyntaxError");
  }
  if (new Set(protocols).size !== protocols.length) {
    throw new DOMException("Invalid protocols: duplicates", "SyntaxError");
  }
  const extra = new Headers(options.headers);
  const ws = new NetWebSocket(u.href, false, options);
  handshake(stack, u, protocols, extra, options).then(
    ({ conn, reader, protocol }) => {
      if (ws.readyState !== ws.CONNECTING) conn.close();
      else attachSocket(ws, conn, reader, protocol);
    },
    (e) => failHandshake(ws, e),
  );
  return ws;
}

async function handshake(
  stack: Dialer,
  u: URL,
  protocols: string[],
  extra: Headers,
  options: CreateWebSocketOptions,
): Promise<{ conn: HttpConn; reader: BufReader; protocol: string }> {
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const tls = u.protocol === "wss:";
  const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
  let conn = await stack.connect({ hostname, port });
  // A server that never answers: the handshake gives up after HANDSHAKE_TIMEOUT.
  const timer = setTimeout(() => conn.close(), HANDSHAKE_TIMEOUT);
  try {
    conn.setNoDelay?.(true);
    if (tls) {
      conn = await startTls(
        conn,
        options.caCerts === undefined ? { hostname } : { hostname, caCerts: options.caCerts },
      );
    }
    const key = base64(crypto.getRandomValues(new Uint8Array(16)));
    let head = `GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n` +
      `upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\n` +
      "sec-websocket-version: 13\r\n";
    if (protocols.length > 0) head += `sec-websocket-protocol: ${protocols.join(", ")}\r\n`;
    extra.forEach((v, k) => {
      if (!k.startsWith("sec-websocket-") && !OWN_FIELDS.has(k) && k !== "host") {
        head += `${k}: ${v}\r\n`;
      }
    });
    await writeAll(conn, encodeLatin1(head + "\r\n"));
    const maxHead = options.maxHeaderSize ?? 16384;
    const reader = new BufReader(conn, 4096, maxHead + 4);
    let end = reader.headEnd(0);
    while (end < 0) {
      if (!(await reader.fill())) throw new Error("Connection closed in the handshake");
      end = reader.headEnd(0);
    }
    const { line, fields: list } = parseHead(reader.buf, reader.start, end - 4);
    reader.start = end;
    const m = /^HTTP\/1\.1 ([0-9]{3})/.exec(line);
    if (m === null) throw new HttpParseError(400, "Malformed status line");
    if (m[1] !== "101") throw new Error(`Handshake refused with status ${m[1]}`);
    const fields = new Map<string, string>();
    for (let i = 0; i < list.length; i += 2) {
      const n = list[i]!.toLowerCase();
      const v = list[i + 1]!;
      fields.set(n, fields.has(n) ? `${fields.get(n)}, ${v}` : v);
    }
    // RFC 6455 §4.1, the client's checks of the server's handshake.
    if (!hasToken(fields.get("upgrade") ?? null, "websocket")) {
      throw new Error("Handshake without Upgrade: websocket");
    }
    if (!hasToken(fields.get("connection") ?? null, "upgrade")) {
      throw new Error("Handshake without Connection: Upgrade");
    }
    if (fields.get("sec-websocket-accept") !== await acceptKey(key)) {
      throw new Error("Handshake with a wrong Sec-WebSocket-Accept");
    }
    if (fields.has("sec-websocket-extensions")) {
      throw new Error("Handshake with an extension that was not offered");
    }
    const protocol = fields.get("sec-websocket-protocol") ?? "";
    if (protocol !== "" && !protocols.includes(protocol)) {
      throw new Error(`Handshake with subprotocol "${protocol}" that was not offered`);
    }
    return { conn, reader, protocol };
  } catch (e) {
    try {
      conn.close();
    } catch { /* closed by the timer */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
