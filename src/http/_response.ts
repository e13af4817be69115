// Writing a Response as HTTP/1.1 (RFC 9112 §4, §6, §7).
import type { HttpConn } from "./conn.ts";
import { encodeLatin1, encodeLatin1Into, httpDate, writeAll } from "./_reader.ts";
import { type Coding, compressibleFields, MIN_COMPRESS } from "./_compress.ts";

/** Reason phrases of the common status codes (RFC 9110 §15). */
export const REASON: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** How {@linkcode writeResponse} frames the message. */
export interface WriteOptions {
  /** The request was HEAD: the head only. */
  head: boolean;
  /** The connection may stay open after this response. */
  keepAlive: boolean;
  /** The request's minor version (0: no chunked, close-delimited instead). */
  minor: number;
  /** The coding the request accepts, to compress a compressible response with (or null). */
  coding: Coding | null;
  /** The connection's stall timer and scratch buffer. */
  timer: WriteState;
  /** Milliseconds a write may stall. */
  idleTimeout: number;
}

/** What the writer keeps per connection: the stall deadline and a scratch buffer. */
export interface WriteState {
  /** Arms the stall deadline `ms` from now. */
  arm(ms: number): void;
  /** Disarms it. */
  disarm(): void;
  /**
   * Scratch for a head and a small body, reused by each message on the connection (a write
   * has taken its bytes once it resolves).
   */
  out: Uint8Array;
}

const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]);
const SMALL = 16384;

/**
 * The result of `p` if it settles within a few microtask turns (a body from a string, bytes or a
 * Blob does in one to five), else `undefined`: no timer, and a live stream is not held back.
 */
async function settledSoon<T>(p: Promise<T>): Promise<T | undefined> {
  let done = false;
  let value: T | undefined;
  let error: unknown = null;
  p.then((v) => {
    done = true;
    value = v;
  }, (e) => {
    done = true;
    error = e ?? new Error("Body read failed");
  });
  for (let i = 0; i < 8 && !done; i++) await undefined;
  if (error !== null) throw error;
  return done ? value : undefined;
}

function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError("Invalid response body chunk: expected a Uint8Array");
}

/**
 * Writes `res` on `conn`. A body whose stream ends within a few microtask turns goes out with
 * `Content-Length` in one write with the head; a longer stream is chunked (or, to an
 * HTTP/1.0 client, delimited by closing). Returns whether the connection may stay open.
 */
export async function writeResponse(
  conn: HttpConn,
  res: Response,
  o: WriteOptions,
): Promise<boolean> {
  const status = res.status;
  let keepAlive = o.keepAlive;
  let head = `HTTP/1.1 ${status} ${res.statusText || REASON[status] || "Unknown"}\r\n`;
  let length: string | null = null;
  let hasDate = false;
  const body = res.body;
  // The fields a content coding changes, held back until it is known whether one is applied,
  // and those that decide it (read in the one pass over the fields).
  let etag: string | null = null;
  let vary: string | null = null;
  let type: string | null = null;
  let encoded = false;
  let noTransform = false;
  // forEach, not for-of: Deno's Headers iterator costs several times more.
  forEachField(res.headers, (v, k) => {
    switch (k) {
      case "connection":
        if (v.toLowerCase().includes("close")) keepAlive = false;
        return;
      case "transfer-encoding":
      case "keep-alive":
        return;
      case "content-length":
        length = v;
        return;
      case "date":
        hasDate = true;
        break;
      case "etag":
        return void (etag = v);
      case "vary":
        return void (vary = v);
      case "content-type":
        type = v;
        break;
      case "content-encoding":
        encoded = true;
        break;
      case "cache-control":
        if (/no-transform/i.test(v)) noTransform = true;
    }
    head += `${k}: ${v}\r\n`;
  });
  const coding = o.coding !== null && !o.head && body !== null &&
      compressibleFields(status, type, encoded, noTransform, length)
    ? o.coding
    : null;
  if (coding === null) {
    if (etag !== null) head += `etag: ${etag}\r\n`;
    if (vary !== null) head += `vary: ${vary}\r\n`;
  }
  if (!hasDate) head += `date: ${httpDate()}\r\n`;
  /** The held-back fields, as they go out with (`encoded`) or without the coding. */
  const codingFields = (encoded: boolean): string => {
    let f = "";
    if (etag !== null) {
      // RFC 9110 §8.8.3: a strong validator names the bytes sent, so it becomes weak.
      f += `etag: ${encoded && !etag.startsWith("W/") ? `W/${etag}` : etag}\r\n`;
    }
    // The answer depends on Accept-Encoding whether or not it was compressed this time.
    if (vary === null) f += "vary: accept-encoding\r\n";
    else if (/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) f += `vary: ${vary}\r\n`;
    else f += `vary: ${vary}, accept-encoding\r\n`;
    return encoded ? f + `content-encoding: ${coding}\r\n` : f;
  };
  const noBody = status < 200 || status === 204 || status === 304;
  if (noBody || body === null || o.head) {
    if (o.head && !noBody) {
      let n = 0;
      if (length !== null) {
        n = Number(length);
        await body?.cancel().catch(() => {});
      } else if (body !== null) {
        for await (const c of body) n += bytesOf(c).length;
      }
      head += `content-length: ${n}\r\n`;
    } else {
      await body?.cancel().catch(() => {});
      if (!noBody) head += "content-length: 0\r\n";
    }
    await send(conn, o, closing(head, keepAlive, o.minor), null);
    return keepAlive;
  }
  const reader = body.getReader();
  try {
    const first = await reader.read();
    if (first.done) {
      if (coding !== null) head += codingFields(false);
      await send(conn, o, closing(head + "content-length: 0\r\n", keepAlive, o.minor), null);
      return keepAlive;
    }
    const data = bytesOf(first.value);
    const second = reader.read();
    const next = await settledSoon(second);
    if (next !== undefined && next.done) {
      // The whole body: compressed in one go when worth it, sent with its length.
      let out = data;
      if (coding !== null) {
        const encode = data.length >= MIN_COMPRESS;
        if (encode) out = await compressAll(data, coding);
        head += codingFields(encode);
      }
      head += `content-length: ${out.length}\r\n`;
      await send(conn, o, closing(head, keepAlive, o.minor), out);
      return keepAlive;
    }
    // A stream: declared length, chunked, or (HTTP/1.0) until close.
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = second;
    let chunk: Uint8Array | null = data;
    let source: ReadableStreamDefaultReader<Uint8Array> = reader;
    if (coding !== null) {
      head += codingFields(true);
      length = null;
      const rest = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(data);
        },
        async pull(c) {
          const r = await (pending ?? reader.read());
          pending = null;
          if (r.done) c.close();
          else c.enqueue(bytesOf(r.value));
        },
        cancel(e) {
          return reader.cancel(e);
        },
      }, { highWaterMark: 0 });
      source = rest.pipeThrough(new CompressionStream(coding) as ReadableWritablePair<Uint8Array>)
        .getReader();
      const r = await source.read();
      chunk = r.done ? null : r.value;
    }
    const declared = length === null ? -1 : Number(length);
    let mode: "length" | "chunked" | "close";
    if (declared >= 0) {
      mode = "length";
      head += `content-length: ${declared}\r\n`;
    } else if (o.minor >= 1) {
      mode = "chunked";
      head += "transfer-encoding: chunked\r\n";
    } else {
      mode = "close";
      keepAlive = false;
    }
    await send(conn, o, closing(head, keepAlive, o.minor), null);
    let sent = 0;
    while (chunk !== null) {
      sent += chunk.length;
      if (mode === "chunked") await sendChunk(conn, o, chunk);
      else await send(conn, o, null, chunk);
      if (mode === "length" && sent > declared) return false;
      const r: ReadableStreamReadResult<Uint8Array> = source === reader
        ? await (pending ?? reader.read())
        : await source.read();
      if (source === reader) pending = null;
      chunk = r.done ? null : bytesOf(r.value);
    }
    if (mode === "chunked") await send(conn, o, null, LAST_CHUNK);
    if (mode === "length" && sent !== declared) return false;
    return keepAlive;
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  }
}

/** `data` compressed with `coding` in one piece. */
async function compressAll(data: Uint8Array, coding: Coding): Promise<Uint8Array> {
  const stream = ReadableStream.from([data]).pipeThrough(
    new CompressionStream(coding) as ReadableWritablePair<Uint8Array>,
  );
  return await new Response(stream as ReadableStream<Uint8Array<ArrayBuffer>>).bytes();
}

/** `headers.forEach`, or iteration for a Headers-like object from elsewhere that lacks it. */
function forEachField(headers: Headers, f: (value: string, name: string) => void): void {
  if (typeof headers.forEach === "function") return headers.forEach(f);
  for (const [k, v] of headers) f(v, k);
}

function closing(head: string, keepAlive: boolean, minor: number): string {
  if (!keepAlive) return head + "connection: close\r\n\r\n";
  return minor === 0 ? head + "connection: keep-alive\r\n\r\n" : head + "\r\n";
}

async function send(
  conn: HttpConn,
  o: WriteOptions,
  head: string | null,
  body: Uint8Array | null,
): Promise<void> {
  o.timer.arm(o.idleTimeout);
  if (head !== null && (body === null || body.length <= SMALL)) {
    const n = body === null ? 0 : body.length;
    const out = o.timer.out = encodeLatin1Into(head, o.timer.out, n);
    if (body !== null) out.set(body, head.length);
    await writeAll(conn, out.subarray(0, head.length + n));
  } else {
    if (head !== null) await writeAll(conn, encodeLatin1(head));
    if (body !== null && body.length > 0) await writeAll(conn, body);
  }
  o.timer.disarm();
}

async function sendChunk(conn: HttpConn, o: WriteOptions, chunk: Uint8Array): Promise<void> {
  if (chunk.length === 0) return; // a zero-size chunk would end the body
  const size = `${chunk.length.toString(16)}\r\n`;
  o.timer.arm(o.idleTimeout);
  if (chunk.length <= SMALL) {
    const out = o.timer.out = encodeLatin1Into(size, o.timer.out, chunk.length + 2);
    out.set(chunk, size.length);
    out.set(CRLF, size.length + chunk.length);
    await writeAll(conn, out.subarray(0, size.length + chunk.length + 2));
  } else {
    await writeAll(conn, encodeLatin1(size));
    await writeAll(conn, chunk);
    await writeAll(conn, CRLF);
  }
  o.timer.disarm();
}
