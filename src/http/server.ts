// serve(): HTTP/1.1 (RFC 9112) with a fetch handler over any listener of connections.
import type { HttpConn } from "./conn.ts";
import {
  type BodySource,
  BufReader,
  ChunkedBody,
  EMPTY_BODY,
  FixedBody,
  HttpParseError,
  parseContentLength,
  parseHead,
  TOKEN,
} from "./_reader.ts";
import { writeResponse } from "./_response.ts";
import { chooseCoding } from "./_compress.ts";
import { startTls } from "./tls.ts";
import { bindTrailers } from "./trailers.ts";
import { closedOf, closeWith, failHandshake, type NetWebSocket } from "./websocket.ts";
import { markUpgradable, switchProtocols, type UpgradeSlot } from "./websocket_handshake.ts";

/**
 * What a handler learns about the request besides the request itself (like
 * `Deno.ServeHandlerInfo`).
 *
 * @example
 * ```ts
 * import type { ServeHandlerInfo } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const handler = (_req: Request, info: ServeHandlerInfo) =>
 *   new Response((info.remoteAddr as Deno.NetAddr).hostname);
 * const info = {
 *   remoteAddr: { transport: "tcp", hostname: "192.0.2.2", port: 1 },
 *   completed: Promise.resolve(),
 * } as const;
 * assert.equal(await handler(new Request("http://a/"), info).text(), "192.0.2.2");
 * ```
 */
export interface ServeHandlerInfo {
  /** The client's address. */
  readonly remoteAddr: Deno.Addr;
  /** Settles once the response has been written (or failed to be). */
  readonly completed: Promise<void>;
}

/**
 * A fetch handler: a `Request` in, a `Response` out.
 *
 * @example
 * ```ts
 * import type { ServeHandler } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const hello: ServeHandler = (req) => new Response(`hello ${req.method}`);
 * const info = { remoteAddr: { transport: "tcp", hostname: "::1", port: 1 }, completed: Promise.resolve() } as const;
 * assert.equal(await (await hello(new Request("http://a/"), info)).text(), "hello GET");
 * ```
 */
export type ServeHandler = (
  request: Request,
  info: ServeHandlerInfo,
) => Response | Promise<Response>;

/**
 * Options of {@linkcode serve}. Times are milliseconds.
 *
 * @example
 * ```ts
 * import { serve, type ServeOptions } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const options: ServeOptions = { maxHeaderSize: 8192, maxBodySize: 1 << 20 };
 * const none = async function* (): AsyncGenerator<never> {};
 * assert.throws(() => serve(none(), () => new Response(), { maxHeaderSize: 0 }), RangeError);
 * await serve(none(), () => new Response(), options).finished;
 * ```
 */
export interface ServeOptions {
  /** Aborting it shuts the server down gracefully, like {@linkcode HttpServer.shutdown}. */
  readonly signal?: AbortSignal;
  /** Answers when the handler throws or returns no Response-like object (default: 500). */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
  /** Largest request head (request line and header fields), else 431 (default 16 KiB). */
  readonly maxHeaderSize?: number;
  /** Largest request body, else 413 (default: no limit). */
  readonly maxBodySize?: number;
  /** Time allowed from the first byte of a request head to its end, else the connection closes (default 10 s). */
  readonly headersTimeout?: number;
  /** Time an idle keep-alive connection is kept waiting for the next request (default 5 s). */
  readonly keepAliveTimeout?: number;
  /** Time a read of the request body or a write of the response may stall (default 30 s). */
  readonly idleTimeout?: number;
  /** PEM certificate chain: with `key`, every connection speaks TLS first (HTTPS). */
  readonly cert?: string;
  /** PEM private key of `cert`. */
  readonly key?: string;
  /**
   * Compress responses with gzip or deflate when the request accepts it and the response is
   * worth it (a text, JSON, JavaScript or XML type, at least 64 bytes, no `Content-Encoding`
   * or `Cache-Control: no-transform`), as `Deno.serve` does (default true).
   */
  readonly compression?: boolean;
}

/**
 * A running server (like `Deno.HttpServer`).
 *
 * @example
 * ```ts
 * import { serve } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [a] = linkPair();
 * await using stack = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * import assert from "node:assert/strict";
 *
 * const server = serve(stack.listen({ port: 80 }), () => new Response("hi"));
 * await server.shutdown();
 * assert.equal(await server.finished, undefined); // stopped, every connection ended
 * ```
 */
export interface HttpServer extends AsyncDisposable {
  /** Settles when the server has stopped and every connection has ended. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes idle connections, lets requests in progress finish (their responses
   * carry `Connection: close`) and resolves with {@linkcode HttpServer.finished}.
   */
  shutdown(): Promise<void>;
}

/**
 * The listener shape {@linkcode serve} accepts: any async iterable of connections; its `close()`,
 * when it has one, is called at shutdown.
 *
 * @example
 * ```ts
 * import type { ConnSource, HttpConn } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const none: ConnSource = (async function* (): AsyncGenerator<HttpConn> {})();
 * assert.equal((await none[Symbol.asyncIterator]().next()).done, true);
 * ```
 */
export type ConnSource = AsyncIterable<HttpConn> & { close?(): void };

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * Serves HTTP/1.1 on every connection of `listener` with a fetch handler, like `Deno.serve`:
 * keep-alive, pipelining (answers in order), streaming request and response bodies (chunked
 * when the length is not known up front), `Expect: 100-continue`, limits with clear 4xx answers
 * (400 malformed, 413 body too large, 431 head too large, 501 unknown transfer
 * coding, 505 version) and timeouts. A request with both `Content-Length` and
 * `Transfer-Encoding` is refused with 400 and the connection closed (RFC 9112 §6.3).
 *
 * @param listener A smolnet `TcpListener`, or any async iterable of connections.
 * @param handler The fetch handler.
 * @param options Limits, timeouts, error handler, abort signal.
 * @returns The running server.
 *
 * @example A server and a client on two stacks
 * ```ts
 * import { createFetch, serve } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 80 }), (req) => new Response(`hello ${req.url}`));
 * const fetch = createFetch(client);
 * const res = await fetch("http://192.0.2.1/x");
 * assert.equal(await res.text(), "hello http://192.0.2.1/x");
 * fetch.close();
 * await http.shutdown();
 * ```
 */
export function serve(
  listener: ConnSource,
  handler: ServeHandler,
  options: ServeOptions = {},
): HttpServer {
  if (typeof handler !== "function") throw new TypeError("Invalid handler: expected a function");
  const server = new Server(listener, handler, options);
  return {
    finished: server.finished,
    shutdown: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v > 0)) {
    throw new RangeError(`Invalid ${name} "${v}": expected a positive number`);
  }
  return v;
}

/**
 * One connection's state as the server sees it. Its stall deadline is checked by the server's
 * sweep timer (one per server), so arming it per request costs no timer of its own.
 */
class ConnState {
  readonly conn: HttpConn;
  readonly #clock: Clock;
  /** The response writer's scratch buffer. */
  out: Uint8Array = EMPTY;
  idle = true; // waiting for a request head with nothing buffered
  closed = false;
  deadline = Infinity;
  constructor(conn: HttpConn, clock: Clock) {
    this.conn = conn;
    this.#clock = clock;
  }
  arm(ms: number): void {
    this.deadline = this.#clock.now + ms;
  }
  disarm(): void {
    this.deadline = Infinity;
  }
  close(): void {
    this.deadline = Infinity;
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/** The handler's info: `completed` is made only when asked for. */
class Info implements ServeHandlerInfo {
  readonly remoteAddr: Deno.Addr;
  #completed: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #settled = false;
  constructor(conn: HttpConn) {
    this.remoteAddr = conn.remoteAddr;
  }
  get completed(): Promise<void> {
    if (this.#completed === null) {
      this.#completed = this.#settled
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.#resolve = resolve);
    }
    return this.#completed;
  }
  settle(): void {
    this.#settled = true;
    this.#resolve?.();
  }
}

/** A coarse clock, advanced by the sweep timer. */
interface Clock {
  now: number;
}

class Server {
  readonly finished: Promise<void>;
  readonly #listener: ConnSource;
  readonly #handler: ServeHandler;
  readonly #onError: (error: unknown) => Response | Promise<Response>;
  readonly #upgrade: ((conn: HttpConn) => HttpConn | Promise<HttpConn>) | undefined;
  readonly #maxHead: number;
  readonly #maxBody: number;
  readonly #headersTimeout: number;
  readonly #keepAliveTimeout: number;
  readonly #idleTimeout: number;
  readonly #compression: boolean;
  readonly #conns = new Set<ConnState>();
  readonly #sockets = new Set<NetWebSocket>();
  #closing = false;
  readonly #clock: Clock = { now: Date.now() };
  readonly #sweep: ReturnType<typeof setInterval>;
  #iterator: AsyncIterator<HttpConn> | null = null;

  constructor(listener: ConnSource, handler: ServeHandler, o: ServeOptions) {
    this.#listener = listener;
    this.#handler = handler;
    this.#onError = o.onError ?? ((e) => {
      console.error("serve: the handler failed:", e);
      return new Response("Internal Server Error", { status: 500 });
    });
    if ((o.cert === undefined) !== (o.key === undefined)) {
      throw new TypeError("Invalid TLS options: cert and key go together");
    }
    const tlsOptions = { cert: o.cert!, key: o.key! };
    this.#upgrade = o.cert === undefined ? undefined : (conn) => startTls(conn, tlsOptions);
    this.#maxHead = positive("maxHeaderSize", o.maxHeaderSize, 16384);
    this.#maxBody = positive("maxBodySize", o.maxBodySize, Infinity);
    this.#headersTimeout = positive("headersTimeout", o.headersTimeout, 10_000);
    this.#keepAliveTimeout = positive("keepAliveTimeout", o.keepAliveTimeout, 5_000);
    this.#idleTimeout = positive("idleTimeout", o.idleTimeout, 30_000);
    if (o.compression !== undefined && typeof o.compression !== "boolean") {
      throw new TypeError(`Invalid compression "${o.compression}": expected a boolean`);
    }
    this.#compression = o.compression ?? true;
    if (o.signal !== undefined) {
      if (o.signal.aborted) queueMicrotask(() => this.shutdown());
      else o.signal.addEventListener("abort", () => this.shutdown(), { once: true });
    }
    // Deadlines are checked every quarter of the shortest timeout (at least every 25 ms).
    const tick = Math.max(
      25,
      Math.min(this.#headersTimeout, this.#keepAliveTimeout, this.#idleTimeout, 4000) / 4,
    );
    this.#sweep = setInterval(() => {
      const now = this.#clock.now = Date.now();
      for (const c of this.#conns) if (c.deadline <= now) c.close();
    }, tick);
    this.finished = this.#acceptLoop().finally(() => clearInterval(this.#sweep));
  }

  shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        this.#listener.close?.();
      } catch { /* already closed */ }
      this.#iterator?.return?.().catch(() => {});
      for (const c of this.#conns) if (c.idle) c.close();
      for (const ws of this.#sockets) closeWith(ws, 1001, "Server shutting down");
    }
    return this.finished;
  }

  async #acceptLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    try {
      this.#iterator = this.#listener[Symbol.asyncIterator]();
      while (!this.#closing) {
        const next = await this.#iterator.next();
        if (next.done) break;
        const p = this.#serveConn(next.value);
        running.add(p);
        p.finally(() => running.delete(p));
      }
    } catch (e) {
      if (!this.#closing && !(e instanceof Deno.errors.BadResource)) {
        console.error("serve: accepting failed:", e);
      }
    }
    this.#closing = true;
    for (const c of this.#conns) if (c.idle) c.close();
    while (running.size > 0) await Promise.all(running);
  }

  async #serveConn(raw: HttpConn): Promise<void> {
    let st = new ConnState(raw, this.#clock);
    this.#conns.add(st);
    try {
      let conn = raw;
      if (this.#upgrade !== undefined) {
        st.arm(this.#headersTimeout);
        conn = await this.#upgrade(raw);
        st.disarm();
        this.#conns.delete(st);
        if (st.closed) {
          conn.close();
          return;
        }
        st = new ConnState(conn, this.#clock);
        this.#conns.add(st);
      }
      conn.setNoDelay?.(true);
      await this.#requests(st);
    } catch (e) {
      if (!isConnError(e)) console.error("serve: connection failed:", e);
    } finally {
      st.close();
      this.#conns.delete(st);
    }
  }

  async #requests(st: ConnState): Promise<void> {
    const conn = st.conn;
    const r = new BufReader(conn, 16384, Math.max(16384, this.#maxHead + 4));
    const scheme = this.#upgrade === undefined ? "http://" : "https://";
    while (!this.#closing || r.available > 0) {
      // The head: keep-alive timeout while nothing is buffered, then the headers timeout.
      let end = r.headEnd(0);
      let scanned = r.available - 3;
      let headTimer = false;
      while (end < 0) {
        if (r.available > this.#maxHead) {
          return await this.#reject(st, 431, "Request header fields too large");
        }
        st.idle = r.available === 0;
        if (st.idle && this.#closing) return;
        if (st.idle) st.arm(this.#keepAliveTimeout);
        else if (!headTimer) {
          headTimer = true;
          st.arm(this.#headersTimeout);
        }
        let more: boolean;
        try {
          more = await r.fill();
        } catch (e) {
          if (st.closed && headTimer && r.available > 0) {
            return; // a slow head: the timer closed the connection (no 408 on a closed conn)
          }
          throw e;
        }
        if (!more) {
          if (r.available > 0) await this.#reject(st, 400, "Incomplete request head");
          return;
        }
        end = r.headEnd(scanned);
        scanned = r.available - 3;
      }
      st.idle = false;
      st.disarm();
      if (end - r.start - 4 > this.#maxHead) {
        return await this.#reject(st, 431, "Request header fields too large");
      }
      let req: ParsedRequest;
      try {
        req = parseRequest(r, end, scheme, this.#maxBody, this.#maxHead);
      } catch (e) {
        if (e instanceof HttpParseError) return await this.#reject(st, e.status, e.message);
        throw e;
      }
      const keepAlive = await this.#exchange(st, r, req);
      if (!keepAlive) return;
    }
  }

  /** Runs one request through the handler and writes the answer; false to close after it. */
  async #exchange(st: ConnState, r: BufReader, p: ParsedRequest): Promise<boolean> {
    const conn = st.conn;
    let bodyError: HttpParseError | null = null;
    let received = 0;
    let sentContinue = !p.expectContinue;
    const source = p.body;
    const maxBody = this.#maxBody;
    const idleTimeout = this.#idleTimeout;
    let body: ReadableStream<Uint8Array> | null = null;
    if (source !== EMPTY_BODY && p.method !== "GET" && p.method !== "HEAD") {
      body = new ReadableStream<Uint8Array>({
        async pull(c) {
          try {
            if (!sentContinue) {
              sentContinue = true;
              await conn.write(enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
            }
            st.arm(idleTimeout);
            const chunk = await source.next();
            st.disarm();
            if (chunk === null) return c.close();
            received += chunk.length;
            if (received > maxBody) throw new HttpParseError(413, "Request body too large");
            c.enqueue(chunk);
          } catch (e) {
            st.disarm();
            bodyError = e instanceof HttpParseError ? e : new HttpParseError(400, String(e));
            c.error(bodyError);
          }
        },
      }, { highWaterMark: 0 });
    }
    let request: Request;
    let slot: UpgradeSlot | null = null;
    try {
      // Headers appended after construction: a headers init costs several times more.
      request = body === null
        ? new Request(p.url, p.method === "GET" ? undefined : { method: p.method })
        : new Request(p.url, { method: p.method, body, duplex: "half" } as RequestInit);
      const h = request.headers;
      const f = p.headers;
      for (let i = 0; i < f.length; i += 2) h.append(f[i]!, f[i + 1]!);
      if (source instanceof ChunkedBody) bindTrailers(request, source);
      if (p.upgrade && p.method === "GET") slot = markUpgradable(request);
    } catch (e) {
      await this.#reject(st, 400, `Invalid request: ${(e as Error).message}`);
      return false;
    }
    const info = new Info(conn);
    let response: Response;
    try {
      const out = await this.#handler(request, info);
      if (!(out instanceof Response) && !isResponseLike(out)) {
        throw new TypeError("Invalid handler result: expected a Response");
      }
      response = out;
    } catch (e) {
      if (bodyError !== null) {
        const err: HttpParseError = bodyError;
        await this.#reject(st, err.status, err.message);
        info.settle();
        return false;
      }
      try {
        response = await this.#onError(e);
      } catch (e2) {
        console.error("serve: onError failed:", e2);
        response = new Response("Internal Server Error", { status: 500 });
      }
    }
    const up = slot?.result ?? null;
    if (up !== null) {
      if (up.response === response && bodyError === null && source.done && !this.#closing) {
        return await this.#switch(st, r, up, info);
      }
      failHandshake(up.socket, new Error("The handler did not return the upgrade response"));
    }
    let keepAlive = p.keepAlive && !this.#closing && bodyError === null;
    try {
      keepAlive = await writeResponse(conn, response, {
        head: p.method === "HEAD",
        keepAlive,
        minor: p.minor,
        coding: this.#compression && p.acceptEncoding !== null
          ? chooseCoding(p.acceptEncoding)
          : null,
        timer: st,
        idleTimeout,
      });
    } finally {
      info.settle();
    }
    if (!keepAlive || bodyError !== null) return false;
    // The rest of an unread request body: drained up to 64 KiB, else the connection closes.
    let drained = 0;
    try {
      while (!source.done) {
        st.arm(idleTimeout);
        const c = await source.next();
        st.disarm();
        if (c === null) break;
        drained += c.length;
        if (drained > 65536) return false;
      }
    } catch {
      return false;
    }
    return !this.#closing || r.available > 0;
  }

  /** Answers 101 and runs the WebSocket on the connection until it closes; false: no more HTTP. */
  async #switch(
    st: ConnState,
    r: BufReader,
    up: NonNullable<UpgradeSlot["result"]>,
    info: Info,
  ): Promise<false> {
    try {
      st.arm(this.#idleTimeout);
      await switchProtocols(st.conn, r, up);
    } catch (e) {
      failHandshake(up.socket, e);
      return false;
    } finally {
      st.disarm();
      info.settle();
    }
    this.#sockets.add(up.socket);
    await closedOf(up.socket);
    this.#sockets.delete(up.socket);
    return false;
  }

  async #reject(st: ConnState, status: number, message: string): Promise<void> {
    if (st.closed) return;
    const reason = REJECT_REASON[status] ?? "Bad Request";
    const body = `${message}\n`;
    const text = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    st.arm(this.#idleTimeout);
    try {
      const data = enc.encode(text);
      for (let off = 0; off < data.length;) off += await st.conn.write(data.subarray(off));
      // A lingering close: closing with unread input would send a RST that can destroy the
      // answer in flight (RFC 9293 §3.10.4), so half-close and discard input for a while.
      if (st.conn.closeWrite !== undefined) {
        await st.conn.closeWrite();
        st.arm(Math.min(this.#idleTimeout, 2000));
        const sink = new Uint8Array(16384);
        let left = 1 << 20;
        while (left > 0) {
          const n = await st.conn.read(sink);
          if (n === null) break;
          left -= n;
        }
      }
    } catch { /* the peer is gone */ }
    st.close();
  }
}

const REJECT_REASON: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/**
 * A `Response` from another realm or polyfill (undici's, which npm builds of frameworks such as
 * oak return): status, iterable headers and a web stream body are all {@linkcode serve} uses.
 */
function isResponseLike(v: unknown): v is Response {
  if (v === null || typeof v !== "object") return false;
  const r = v as Partial<Response>;
  return typeof r.status === "number" && typeof r.headers?.[Symbol.iterator] === "function" &&
    (r.body === null || r.body instanceof ReadableStream);
}

function isConnError(e: unknown): boolean {
  return e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.TimedOut || e instanceof Deno.errors.ConnectionAborted ||
    (e instanceof Error && (e as { code?: string }).code === "ECONNRESET");
}

interface ParsedRequest {
  method: string;
  url: string;
  minor: number;
  /** Field names and values, flat. */
  headers: string[];
  body: BodySource;
  keepAlive: boolean;
  expectContinue: boolean;
  /** The request has an Upgrade field (RFC 9110 §7.8). */
  upgrade: boolean;
  /** The Accept-Encoding field, or null. */
  acceptEncoding: string | null;
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/(\d)\.(\d)$/;

/** Parses the head in `r` ending at `end` (consumed) and chooses the body framing. */
function parseRequest(
  r: BufReader,
  end: number,
  scheme: string,
  maxBody: number,
  maxHead: number,
): ParsedRequest {
  const { line, fields: headers } = parseHead(r.buf, r.start, end - 4);
  r.start = end;
  const m = REQUEST_LINE.exec(line);
  if (m === null) throw new HttpParseError(400, "Malformed request line");
  const method = m[1]!;
  const target = m[2]!;
  if (m[3] !== "1") throw new HttpParseError(505, "HTTP version not supported");
  const minor = m[4] === "1" ? 1 : Number(m[4]);
  let host: string | null = null;
  let te: string | null = null;
  let cl: string | null = null;
  let connection = "";
  let expect = "";
  let upgrade = false;
  let acceptEncoding: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") {
          if (host !== null) throw new HttpParseError(400, "More than one Host field");
          host = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === "expect") expect = value.toLowerCase();
        break;
      case 7:
        if (name.toLowerCase() === "upgrade") upgrade = true;
        break;
      case 10:
        if (name.toLowerCase() === "connection") connection += "," + value.toLowerCase();
        break;
      case 14:
        if (name.toLowerCase() === "content-length") cl = cl === null ? value : `${cl},${value}`;
        break;
      case 15:
        if (name.toLowerCase() === "accept-encoding") {
          acceptEncoding = acceptEncoding === null ? value : `${acceptEncoding},${value}`;
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") {
          te = te === null ? value : `${te},${value}`;
        }
        break;
    }
  }
  // RFC 9112 §3.2: a 1.1 request without Host, or with an invalid one, is a 400.
  if (host === null && minor >= 1) throw new HttpParseError(400, "Missing Host field");
  let url: string;
  if (target.charCodeAt(0) === 47 /* / */) {
    if (host !== null && /[^\x21-\x7e]|[/?#@\\]/.test(host)) {
      throw new HttpParseError(400, "Invalid Host field");
    }
    url = `${scheme}${host || "localhost"}${target}`;
  } else if (/^https?:\/\//i.test(target)) {
    url = target; // absolute-form (RFC 9112 §3.2.2)
  } else if (target === "*" && method === "OPTIONS") {
    url = `${scheme}${host}/*`;
  } else {
    throw new HttpParseError(400, "Invalid request target");
  }
  let body: BodySource = EMPTY_BODY;
  if (te !== null) {
    // RFC 9112 §6.1, §6.3: TE in 1.0, TE with CL, or chunked not last are errors; we close.
    if (minor === 0) throw new HttpParseError(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (cl !== null) throw new HttpParseError(400, "Both Content-Length and Transfer-Encoding");
    const codings = te.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "");
    if (codings[codings.length - 1] !== "chunked") {
      throw new HttpParseError(400, "Transfer-Encoding does not end in chunked");
    }
    if (codings.length !== 1 || !TOKEN.test(codings[0]!)) {
      throw new HttpParseError(501, "Transfer coding not implemented");
    }
    body = new ChunkedBody(r, Math.max(4096, maxHead));
  } else if (cl !== null) {
    const n = parseContentLength(cl);
    if (n > maxBody) throw new HttpParseError(413, "Request body too large");
    if (n > 0) body = new FixedBody(r, n);
  }
  const close = connection.includes("close");
  const keepAlive = minor >= 1 ? !close : !close && connection.includes("keep-alive");
  return {
    method,
    url,
    minor,
    headers,
    body,
    keepAlive,
    expectContinue: expect === "100-continue" && minor >= 1,
    upgrade,
    acceptEncoding,
  };
}
