// createFetch(): a fetch-compatible HTTP/1.1 client (RFC 9112) that dials through a stack.
import type { Dialer, HttpConn } from "./conn.ts";
import {
  type BodySource,
  BufReader,
  ChunkedBody,
  EMPTY_BODY,
  encodeLatin1,
  EofBody,
  FixedBody,
  HttpParseError,
  parseContentLength,
  parseHead,
  writeAll,
} from "./_reader.ts";
import { startTls } from "./tls.ts";
import { bindTrailers } from "./trailers.ts";
import { decodedBody } from "./_compress.ts";

/**
 * Options of {@linkcode createFetch}.
 *
 * @example
 * ```ts
 * import { createFetch, type CreateFetchOptions } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const options: CreateFetchOptions = { maxIdlePerHost: 4, maxRedirects: 5 };
 * const dialer = { connect: () => Promise.reject(new Error("offline")) };
 * await assert.rejects(createFetch(dialer, options)("http://192.0.2.1/"), /offline/);
 * ```
 */
export interface CreateFetchOptions {
  /** Idle keep-alive connections kept per origin (default 64; 0 disables reuse). */
  readonly maxIdlePerHost?: number;
  /** Redirects followed before failing with a `TypeError` (default 20, like fetch). */
  readonly maxRedirects?: number;
  /** Largest response head accepted (default 64 KiB). */
  readonly maxHeaderSize?: number;
  /** `User-Agent` sent when the request has none (default `smolnet`). */
  readonly userAgent?: string;
  /** PEM certificates trusted for `https:` instead of the default roots. */
  readonly caCerts?: readonly string[];
}

/**
 * The function {@linkcode createFetch} returns: `fetch`'s signature, plus `close()`, which
 * closes the idle pooled connections.
 *
 * @example
 * ```ts
 * import { createFetch, type FetchFunction } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const f: FetchFunction = createFetch({ connect: () => Promise.reject(new Error("offline")) });
 * await assert.rejects(f("ftp://192.0.2.1/"), TypeError); // http: and https: only
 * f.close();
 * ```
 */
export interface FetchFunction {
  /** Fetches `input` like the global `fetch`. */
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Closes every idle pooled connection (connections in use close when their body ends). */
  close(): void;
}

interface Pooled {
  conn: HttpConn;
  reader: BufReader;
}

const enc = new TextEncoder();
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Request heads kept per client (see `Client.#head`). */
const HEAD_CACHE = 256;
/** Request bodies up to this size go out with the head in one write. */
const SMALL_BODY = 16384;

/**
 * Creates a `fetch` that opens its connections through `stack` (a smolnet `NetStack`, or any
 * {@linkcode Dialer}): HTTP/1.1 with a pool of keep-alive connections per origin, redirects
 * (`follow`, `manual`, `error`), streaming request bodies (chunked) and response bodies,
 * `AbortSignal`, and real `globalThis.Response` objects (`url` and `redirected` set). Like
 * `fetch`, it asks for gzip and deflate and decodes them, unless the caller sets its own
 * `Accept-Encoding`.
 *
 * @param stack What to dial through.
 * @param options Pool size, redirect limit, head size limit, TLS.
 * @returns A fetch function with a `close()` for the pool.
 *
 * @example Fetch from a server on another stack
 * ```ts
 * import { createFetch, serve } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 80 }), async (req) => new Response(await req.text()));
 * const fetch = createFetch(client);
 * const res = await fetch("http://192.0.2.1/", { method: "POST", body: "echo" });
 * assert.ok(res instanceof Response);
 * assert.equal(await res.text(), "echo");
 * fetch.close();
 * await http.shutdown();
 * ```
 */
export function createFetch(stack: Dialer, options: CreateFetchOptions = {}): FetchFunction {
  if (stack === null || typeof stack !== "object" || typeof stack.connect !== "function") {
    throw new TypeError("Invalid stack: expected an object with connect()");
  }
  const client = new Client(stack, options);
  const f =
    ((input: string | URL | Request, init?: RequestInit) =>
      client.fetch(input, init)) as FetchFunction;
  f.close = () => client.close();
  return f;
}

type Body = Uint8Array | ReadableStream<Uint8Array> | null;

/** A URL parsed once per input string, with what is derived from it. */
interface Target {
  readonly url: URL;
  readonly origin: string;
  /** The encoded head of a GET without fields of the caller's, once built. */
  getHead: Uint8Array | null;
}

interface Head {
  status: number;
  statusText: string;
  /** Field names and values, flat. */
  headers: string[];
  source: BodySource;
  keepAlive: boolean;
  /** The Content-Encoding field, or null. */
  encoding: string | null;
}

class Client {
  readonly #stack: Dialer;
  readonly #pool = new Map<string, Pooled[]>();
  readonly #maxIdle: number;
  readonly #maxRedirects: number;
  readonly #maxHead: number;
  readonly #userAgent: string;
  readonly #caCerts: readonly string[] | undefined;
  readonly #heads = new Map<string, Uint8Array>();
  readonly #targets = new Map<string, Target>();

  constructor(stack: Dialer, o: CreateFetchOptions) {
    this.#stack = stack;
    this.#maxIdle = count("maxIdlePerHost", o.maxIdlePerHost, 64);
    this.#maxRedirects = count("maxRedirects", o.maxRedirects, 20);
    this.#maxHead = count("maxHeaderSize", o.maxHeaderSize, 65536);
    this.#userAgent = o.userAgent ?? "smolnet";
    this.#caCerts = o.caCerts;
  }

  close(): void {
    for (const list of this.#pool.values()) for (const p of list) closeQuietly(p.conn);
    this.#pool.clear();
  }

  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    let url: URL;
    let target: Target | null = null;
    let method: string;
    let headers: Headers | null;
    let body: Body;
    let signal: AbortSignal | null;
    let redirect: RequestRedirect;
    const b = init?.body;
    if (
      !(input instanceof Request) &&
      (b === undefined || b === null || typeof b === "string" || b instanceof Uint8Array)
    ) {
      if (typeof input === "string") {
        target = this.#target(input);
        url = target.url;
      } else url = new URL(String(input));
      method = init?.method === undefined ? "GET" : normalizeMethod(init.method);
      // No Headers object when there are none to send (the common GET): it costs a microsecond.
      headers = init?.headers === undefined && typeof b !== "string"
        ? null
        : new Headers(init?.headers);
      body = typeof b === "string" ? enc.encode(b) : b ?? null;
      if (typeof b === "string" && !headers!.has("content-type")) {
        headers!.set("content-type", "text/plain;charset=UTF-8");
      }
      if (body !== null && (method === "GET" || method === "HEAD")) {
        throw new TypeError(`Request with ${method} method cannot have a body`);
      }
      signal = init?.signal ?? null;
      redirect = init?.redirect ?? "follow";
    } else {
      const streamed = init?.body instanceof ReadableStream;
      const req = new Request(input, streamed ? { ...init, duplex: "half" } as RequestInit : init);
      url = new URL(req.url);
      method = req.method;
      headers = new Headers(req.headers);
      signal = req.signal;
      redirect = req.redirect;
      const src = init?.body ?? (input instanceof Request ? input.body : null);
      if (req.body === null) body = null;
      else if (src instanceof ReadableStream) body = req.body;
      else body = new Uint8Array(await req.arrayBuffer());
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Invalid URL "${url.href}": only http: and https: are supported`);
    }
    signal?.throwIfAborted();
    let redirected = false;
    for (let hops = 0;; hops++) {
      const res = await this.#exchange(url, target, method, headers, body, signal);
      const location = REDIRECT.has(res.status) ? res.headers.get("location") : null;
      if (location !== null && redirect !== "manual") {
        await res.body?.cancel();
        if (redirect === "error") throw new TypeError(`Redirect to "${location}" refused`);
        if (hops >= this.#maxRedirects) throw new TypeError("Too many redirects");
        const next = new URL(location, url);
        if (
          (res.status === 303 && method !== "HEAD") ||
          ((res.status === 301 || res.status === 302) && method === "POST")
        ) {
          method = "GET";
          body = null;
          for (
            const h of [
              "content-type",
              "content-length",
              "content-encoding",
              "content-language",
              "content-location",
            ]
          ) headers?.delete(h);
        } else if (body instanceof ReadableStream) {
          throw new TypeError("Cannot follow a redirect with a streamed request body");
        }
        if (next.origin !== url.origin) headers?.delete("authorization");
        url = next;
        target = null;
        redirected = true;
        continue;
      }
      Object.defineProperty(res, "url", { value: url.href });
      if (redirected) Object.defineProperty(res, "redirected", { value: true });
      return res;
    }
  }

  async #dial(url: URL, signal: AbortSignal | null): Promise<Pooled> {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const https = url.protocol === "https:";
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    let conn = await this.#stack.connect(
      signal === null ? { hostname, port } : { hostname, port, signal },
    );
    conn.setNoDelay?.(true);
    if (https) {
      const opts = this.#caCerts === undefined
        ? { hostname }
        : { hostname, caCerts: this.#caCerts };
      conn = await startTls(conn, opts);
    }
    return { conn, reader: new BufReader(conn, 16384, this.#maxHead + 4) };
  }

  /** The parsed URL of `input`, kept per string (up to `HEAD_CACHE` of them). */
  #target(input: string): Target {
    let t = this.#targets.get(input);
    if (t === undefined) {
      const url = new URL(input);
      t = { url, origin: url.origin, getHead: null };
      if (this.#targets.size >= HEAD_CACHE) this.#targets.clear();
      this.#targets.set(input, t);
    }
    return t;
  }

  async #exchange(
    url: URL,
    target: Target | null,
    method: string,
    headers: Headers | null,
    body: Body,
    signal: AbortSignal | null,
  ): Promise<Response> {
    const key = target?.origin ?? url.origin;
    const head = this.#head(url, target, method, headers, body);
    // A request that fits the send buffer is written before the response is read; a larger
    // or streamed one is written alongside (the server may answer before reading it all).
    const small = body === null || (body instanceof Uint8Array && body.length <= SMALL_BODY);

    for (let attempt = 0;; attempt++) {
      const idle = attempt === 0 ? this.#pool.get(key)?.pop() : undefined;
      const pooled = idle ?? await this.#dial(url, signal);
      const reused = idle !== undefined;
      const conn = pooled.conn;
      let onAbort: (() => void) | null = null;
      if (signal !== null) {
        onAbort = () => closeQuietly(conn);
        signal.addEventListener("abort", onAbort, { once: true });
      }
      let writing: Promise<void> | null = null;
      let writeFailed = false;
      try {
        if (small) {
          try {
            await sendRequest(conn, head, body);
          } catch (e) {
            throw new StaleConnection("Connection failed before the response", { cause: e });
          }
        } else {
          writing = sendRequest(conn, head, body).catch((e) => {
            writeFailed = true;
            throw e;
          });
          writing.catch(() => {});
        }
        const res = await readHead(pooled.reader, this.#maxHead, method === "HEAD");
        const w = writing;
        const finish = (ok: boolean) => {
          if (onAbort !== null) signal!.removeEventListener("abort", onAbort);
          if (w === null) {
            if (ok && res.keepAlive) this.#release(key, pooled);
            else closeQuietly(conn);
          } else {
            w.then(() => {
              if (ok && res.keepAlive && !writeFailed) this.#release(key, pooled);
              else closeQuietly(conn);
            }, () => closeQuietly(conn));
          }
        };
        // Like fetch: the codings this client asked for itself are undone for the caller.
        const decode = headers === null || !headers.has("accept-encoding");
        return toResponse(res, signal, finish, decode);
      } catch (e) {
        if (onAbort !== null) signal!.removeEventListener("abort", onAbort);
        closeQuietly(conn);
        if (signal?.aborted) throw signal.reason;
        // A pooled connection the server closed meanwhile: one retry on a fresh one.
        if (reused && e instanceof StaleConnection && !(body instanceof ReadableStream)) continue;
        if (e instanceof StaleConnection) {
          throw new TypeError("Connection closed before the response head", { cause: e });
        }
        if (e instanceof HttpParseError) throw new TypeError(`Invalid response: ${e.message}`);
        throw e;
      }
    }
  }

  /**
   * The encoded request head. A head without fields of the caller's and without a body depends
   * on the method and URL only and is kept (up to `HEAD_CACHE` of them).
   */
  #head(
    url: URL,
    target: Target | null,
    method: string,
    headers: Headers | null,
    body: Body,
  ): Uint8Array {
    const cacheable = headers === null && body === null;
    const get = cacheable && target !== null && method === "GET";
    if (get && target.getHead !== null) return target.getHead;
    const cacheKey = cacheable && !get ? `${method} ${url.href}` : "";
    if (cacheKey !== "") {
      const hit = this.#heads.get(cacheKey);
      if (hit !== undefined) return hit;
    }
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    let hasUa = false;
    let hasAccept = false;
    let hasAcceptEncoding = false;
    headers?.forEach((v, k) => {
      if (
        k === "connection" || k === "content-length" || k === "transfer-encoding" || k === "host"
      ) return;
      if (k === "user-agent") hasUa = true;
      else if (k === "accept") hasAccept = true;
      else if (k === "accept-encoding") hasAcceptEncoding = true;
      head += `${k}: ${v}\r\n`;
    });
    if (!hasUa) head += `user-agent: ${this.#userAgent}\r\n`;
    if (!hasAccept) head += "accept: */*\r\n";
    if (!hasAcceptEncoding) head += "accept-encoding: gzip, deflate\r\n";
    if (body instanceof ReadableStream) head += "transfer-encoding: chunked\r\n\r\n";
    else if (body !== null || method === "POST" || method === "PUT") {
      head += `content-length: ${body?.length ?? 0}\r\n\r\n`;
    } else head += "\r\n";
    const bytes = encodeLatin1(head);
    if (get) target.getHead = bytes;
    else if (cacheKey !== "") {
      if (this.#heads.size >= HEAD_CACHE) this.#heads.clear();
      this.#heads.set(cacheKey, bytes);
    }
    return bytes;
  }

  #release(key: string, p: Pooled): void {
    let list = this.#pool.get(key);
    if (list === undefined) this.#pool.set(key, list = []);
    if (list.length < this.#maxIdle && p.reader.available === 0) list.push(p);
    else closeQuietly(p.conn);
  }
}

class StaleConnection extends Error {}

function count(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`Invalid ${name} "${v}": expected a non-negative integer`);
  }
  return v;
}

const METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

function normalizeMethod(m: string): string {
  if (m === "GET" || m === "POST") return m;
  const u = m.toUpperCase();
  if (METHODS.has(u)) return u;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) throw new TypeError(`Invalid method "${m}"`);
  return m;
}

function closeQuietly(conn: HttpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

async function sendRequest(conn: HttpConn, h: Uint8Array, body: Body): Promise<void> {
  if (body === null) return await writeAll(conn, h);
  if (body instanceof Uint8Array) {
    if (body.length <= SMALL_BODY) {
      const out = new Uint8Array(h.length + body.length);
      out.set(h);
      out.set(body, h.length);
      return await writeAll(conn, out);
    }
    await writeAll(conn, h);
    return await writeAll(conn, body);
  }
  await writeAll(conn, h);
  for await (const chunk of body) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Invalid body chunk: expected a Uint8Array");
    }
    if (chunk.length === 0) continue;
    await writeAll(conn, enc.encode(`${chunk.length.toString(16)}\r\n`));
    await writeAll(conn, chunk);
    await writeAll(conn, enc.encode("\r\n"));
  }
  await writeAll(conn, enc.encode("0\r\n\r\n"));
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/;

/** Reads a response head (skipping 1xx interim responses) and chooses the body framing. */
async function readHead(r: BufReader, maxHead: number, isHead: boolean): Promise<Head> {
  while (true) {
    let end = r.headEnd(0);
    let scanned = r.available - 3;
    const before = r.available;
    while (end < 0) {
      if (r.available > maxHead) throw new HttpParseError(431, "Response head too large");
      let more: boolean;
      try {
        more = await r.fill();
      } catch (e) {
        if (before === 0 && r.available === 0 && !(e instanceof HttpParseError)) {
          throw new StaleConnection("Connection failed before the response", { cause: e });
        }
        throw e;
      }
      if (!more) {
        if (r.available === 0) throw new StaleConnection("Connection closed before the response");
        throw new HttpParseError(400, "Connection closed in the response head");
      }
      end = r.headEnd(scanned);
      scanned = r.available - 3;
    }
    const { line, fields: headers } = parseHead(r.buf, r.start, end - 4);
    r.start = end;
    const m = STATUS_LINE.exec(line);
    if (m === null) throw new HttpParseError(400, "Malformed status line");
    const status = Number(m[2]);
    const minor = m[1] === "1" ? 1 : 0;
    if (status >= 100 && status < 200) {
      if (status === 101) throw new HttpParseError(400, "Unexpected 101 Switching Protocols");
      continue; // RFC 9110 §15.2: interim responses
    }
    let te: string | null = null;
    let cl: string | null = null;
    let connection = "";
    let encoding: string | null = null;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const len = name.length;
      if (len !== 10 && len !== 14 && len !== 16 && len !== 17) continue;
      const n = name.toLowerCase();
      const value = headers[i + 1]!;
      if (n === "transfer-encoding") te = te === null ? value : `${te},${value}`;
      else if (n === "content-length") cl = cl === null ? value : `${cl},${value}`;
      else if (n === "connection") connection += "," + value.toLowerCase();
      else if (n === "content-encoding") encoding = value;
    }
    let keepAlive = minor >= 1 ? !connection.includes("close") : connection.includes("keep-alive");
    let source: BodySource;
    if (isHead || status === 204 || status === 304) source = EMPTY_BODY;
    else if (te !== null) {
      // RFC 9112 §6.3 items 3-4: TE wins over CL; a final coding other than chunked reads to EOF.
      if (/(^|,)\s*chunked\s*$/i.test(te)) source = new ChunkedBody(r, 8192);
      else {
        source = new EofBody(r);
        keepAlive = false;
      }
      if (cl !== null) keepAlive = false;
    } else if (cl !== null) {
      const n = parseContentLength(cl);
      source = n === 0 ? EMPTY_BODY : new FixedBody(r, n);
    } else {
      source = new EofBody(r);
      keepAlive = false;
    }
    return { status, statusText: m[3] ?? "", headers, source, keepAlive, encoding };
  }
}

function toResponse(
  h: Head,
  signal: AbortSignal | null,
  finish: (ok: boolean) => void,
  decode: boolean,
): Response {
  const init = { status: h.status, statusText: h.statusText };
  const nullBody = h.status === 204 || h.status === 304 || h.status < 200;
  if (h.source === EMPTY_BODY) {
    finish(true);
    return withHeaders(new Response(nullBody ? null : new Uint8Array(0), init), h.headers);
  }
  const source = h.source;
  if (source instanceof FixedBody && source.buffered) {
    // The whole body is already read: no stream needed.
    if (!decode || h.encoding === null) {
      // A view of the read buffer: the Response copies it (Fetch, "extract a body"), before
      // the connection goes back to the pool.
      const res = withHeaders(new Response(source.takeView(), init), h.headers);
      finish(true);
      return res;
    }
    const bytes = source.takeAll() as Uint8Array<ArrayBuffer>;
    finish(true);
    const decoded = decodedBody(h.encoding, ReadableStream.from([bytes]));
    return withHeaders(new Response(decoded ?? bytes, init), h.headers);
  }
  let finished = false;
  const end = (ok: boolean) => {
    if (!finished) {
      finished = true;
      finish(ok);
    }
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const chunk = await source.next();
        if (chunk === null) {
          c.close();
          end(true);
        } else {
          c.enqueue(chunk);
          if (source.done) {
            c.close();
            end(true);
          }
        }
      } catch (e) {
        end(false);
        if (signal?.aborted) c.error(signal.reason);
        else if (e instanceof HttpParseError) {
          c.error(new TypeError(`Invalid response body: ${e.message}`));
        } else c.error(e);
      }
    },
    cancel() {
      end(false);
    },
  }, { highWaterMark: 0 });
  const decoded = decode ? decodedBody(h.encoding, stream) : null;
  const res = withHeaders(new Response(decoded ?? stream, init), h.headers);
  if (source instanceof ChunkedBody) bindTrailers(res, source);
  return res;
}

/** Appends the fields: cheaper than a headers init (which goes through WebIDL conversion). */
function withHeaders(res: Response, fields: string[]): Response {
  const h = res.headers;
  for (let i = 0; i < fields.length; i += 2) h.append(fields[i]!, fields[i + 1]!);
  return res;
}
