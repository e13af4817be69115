// Buffered reading and writing over a connection, shared by the server and the client.
import type { HttpConn } from "./conn.ts";

/** A protocol violation by the peer; `status` is the answer a server gives (RFC 9110 §15). */
export class HttpParseError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpParseError";
    this.status = status;
  }
}

/** Bytes of a connection read ahead into one growable buffer. */
export class BufReader {
  readonly conn: HttpConn;
  buf: Uint8Array;
  start = 0;
  end = 0;
  eof = false;
  readonly #max: number;

  constructor(conn: HttpConn, size: number, max: number) {
    this.conn = conn;
    this.buf = new Uint8Array(size);
    this.#max = max;
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Reads more bytes after `end`; false at EOF. Grows the buffer up to `max` when full. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else if (this.buf.length < this.#max) {
        const grown = new Uint8Array(Math.min(this.#max, this.buf.length * 2));
        grown.set(this.buf.subarray(0, this.end));
        this.buf = grown;
      } else {
        throw new HttpParseError(431, "Header section too large");
      }
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.end += n;
    return true;
  }

  /**
   * The index after the CRLF CRLF ending the head that starts at `start`, or -1. `from` is where
   * an earlier scan of the same head stopped, relative to `start` (so a head arriving byte by
   * byte is scanned once).
   */
  headEnd(from: number): number {
    const b = this.buf;
    for (let i = this.start + Math.max(3, from); i < this.end; i++) {
      if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
    }
    return -1;
  }

  /** Copies and consumes up to `max` buffered bytes (at least one is buffered). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.end - this.start);
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** Reads one CRLF-terminated line of at most `max` bytes (without the CRLF), as latin1. */
  async line(max: number): Promise<string> {
    while (true) {
      const b = this.buf;
      for (let i = this.start; i < this.end; i++) {
        if (b[i] === 10) {
          if (i === this.start || b[i - 1] !== 13) {
            throw new HttpParseError(400, "Bare LF in chunked body");
          }
          const s = latin1(b, this.start, i - 1);
          this.start = i + 1;
          return s;
        }
      }
      if (this.end - this.start > max) {
        throw new HttpParseError(400, "Line too long in chunked body");
      }
      if (!(await this.fill())) {
        throw new HttpParseError(400, "Connection closed in a chunked body");
      }
    }
  }
}

/** Decodes `b[from, to)` as latin1. */
export function latin1(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      b.subarray(i, Math.min(to, i + 4096)) as unknown as number[],
    );
  }
  return s;
}

const latin1Encoder = new TextEncoder();

/**
 * Encodes a latin1 string (every char code below 256, as header ByteStrings are) into a new
 * buffer with `extra` free bytes after it. ASCII, the usual case, goes through `encodeInto`
 * (native); a string with a char code of 128 or more is redone byte by byte.
 */
export function encodeLatin1(s: string, extra = 0): Uint8Array {
  const out = new Uint8Array(s.length + extra);
  const r = latin1Encoder.encodeInto(s, out);
  if (r.read !== s.length || r.written !== s.length) {
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    out.fill(0, s.length); // UTF-8 bytes may have spilled past the head
  }
  return out;
}

/**
 * Encodes the latin1 string `s` into the front of `buf` (grown when short, with `extra` bytes
 * of room after it) and returns the buffer: one scratch buffer serves message after message.
 */
export function encodeLatin1Into(s: string, buf: Uint8Array, extra: number): Uint8Array {
  const need = s.length + extra;
  if (buf.length < need) buf = new Uint8Array(Math.max(need, 2 * buf.length, 4096));
  const r = latin1Encoder.encodeInto(s, buf);
  if (r.read !== s.length || r.written !== s.length) {
    for (let i = 0; i < s.length; i++) buf[i] = s.charCodeAt(i);
  }
  return buf;
}

/** Writes all of `data`. */
export async function writeAll(conn: HttpConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** A source of body bytes: the next piece (a copy), or `null` at the end. */
export interface BodySource {
  next(): Promise<Uint8Array | null>;
  /** True once the body has been read to its end (the connection is at the next message). */
  readonly done: boolean;
}

/** Bodies left at least this long are read without the buffer. */
const DIRECT_READ = 32768;

/** A body of `length` bytes (RFC 9112 §6.2). */
export class FixedBody implements BodySource {
  readonly #r: BufReader;
  #left: number;
  constructor(r: BufReader, length: number) {
    this.#r = r;
    this.#left = length;
  }
  get done(): boolean {
    return this.#left === 0;
  }
  /** True when every remaining byte of the body is in the buffer. */
  get buffered(): boolean {
    return this.#r.available >= this.#left;
  }
  /**
   * The rest of the body as a view of the buffer (only when {@linkcode buffered}); valid until
   * the next read.
   */
  takeView(): Uint8Array<ArrayBuffer> {
    const r = this.#r;
    const out = r.buf.subarray(r.start, r.start + this.#left) as Uint8Array<ArrayBuffer>;
    r.start += this.#left;
    this.#left = 0;
    return out;
  }
  /** Takes the rest of the body from the buffer (only when {@linkcode buffered}). */
  takeAll(): Uint8Array {
    const out = this.#r.take(this.#left);
    this.#left = 0;
    return out;
  }
  async next(): Promise<Uint8Array | null> {
    if (this.#left === 0) return null;
    if (this.#r.available === 0 && this.#left >= DIRECT_READ) {
      // A large body: read straight into the piece handed out, no copy through the buffer.
      const out = new Uint8Array(Math.min(this.#left, 262144));
      const n = await this.#r.conn.read(out);
      if (n === null) {
        throw new HttpParseError(400, `Connection closed with ${this.#left} body bytes missing`);
      }
      this.#left -= n;
      return out.subarray(0, n);
    }
    if (this.#r.available === 0 && !(await this.#r.fill())) {
      throw new HttpParseError(400, `Connection closed with ${this.#left} body bytes missing`);
    }
    const out = this.#r.take(this.#left);
    this.#left -= out.length;
    return out;
  }
}

/** A body up to the end of the connection (responses only, RFC 9112 §6.3 item 8). */
export class EofBody implements BodySource {
  readonly #r: BufReader;
  #done = false;
  constructor(r: BufReader) {
    this.#r = r;
  }
  get done(): boolean {
    return this.#done;
  }
  async next(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    if (this.#r.available === 0 && !(await this.#r.fill())) {
      this.#done = true;
      return null;
    }
    return this.#r.take(Infinity);
  }
}

const HEX = /^[0-9a-fA-F]{1,12}$/;

/**
 * A chunked body (RFC 9112 §7.1). Its trailer fields are parsed like header fields and kept:
 * {@linkcode ChunkedBody.trailers} settles with them once the body has been read to its end, or
 * rejects when reading it failed.
 */
export class ChunkedBody implements BodySource {
  readonly #r: BufReader;
  readonly #maxLine: number;
  #left = 0; // bytes left in the current chunk
  #state: "size" | "data" | "crlf" | "done" = "size";
  #fields: string[] | null = null;
  #error: unknown = null;
  #waiting: { resolve(f: string[]): void; reject(e: unknown): void }[] | null = null;
  constructor(r: BufReader, maxLine: number) {
    this.#r = r;
    this.#maxLine = maxLine;
  }
  get done(): boolean {
    return this.#state === "done";
  }
  /** The trailer fields, flat name/value, once the body has been read to its end. */
  trailers(): Promise<string[]> {
    if (this.#fields !== null) return Promise.resolve(this.#fields);
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => (this.#waiting ??= []).push({ resolve, reject }));
  }
  async next(): Promise<Uint8Array | null> {
    try {
      return await this.#next();
    } catch (e) {
      if (this.#error === null) {
        this.#error = e;
        for (const w of this.#waiting?.splice(0) ?? []) w.reject(e);
      }
      throw e;
    }
  }
  async #next(): Promise<Uint8Array | null> {
    while (true) {
      if (this.#state === "done") return null;
      if (this.#state === "size") {
        const line = await this.#r.line(4096);
        const semi = line.indexOf(";");
        const size = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
        if (!HEX.test(size)) {
          throw new HttpParseError(400, `Invalid chunk size "${size.slice(0, 20)}"`);
        }
        this.#left = parseInt(size, 16);
        if (this.#left === 0) {
          // RFC 9112 §7.1.2: trailer fields up to an empty line.
          let total = 0;
          const fields: string[] = [];
          for (
            let l = await this.#r.line(this.#maxLine);
            l !== "";
            l = await this.#r.line(this.#maxLine)
          ) {
            total += l.length;
            if (total > this.#maxLine) throw new HttpParseError(431, "Trailer section too large");
            parseFieldLine(l, fields);
          }
          this.#state = "done";
          this.#fields = fields;
          for (const w of this.#waiting?.splice(0) ?? []) w.resolve(fields);
          return null;
        }
        this.#state = "data";
      }
      if (this.#state === "data") {
        if (this.#r.available === 0 && !(await this.#r.fill())) {
          throw new HttpParseError(400, "Connection closed in a chunk");
        }
        const out = this.#r.take(this.#left);
        this.#left -= out.length;
        if (this.#left === 0) this.#state = "crlf";
        return out;
      }
      // "crlf": the CRLF after the chunk data.
      while (this.#r.available < 2) {
        if (!(await this.#r.fill())) throw new HttpParseError(400, "Connection closed in a chunk");
      }
      if (this.#r.buf[this.#r.start] !== 13 || this.#r.buf[this.#r.start + 1] !== 10) {
        throw new HttpParseError(400, "Chunk data not followed by CRLF");
      }
      this.#r.start += 2;
      this.#state = "size";
    }
  }
}

/** An empty body. */
export const EMPTY_BODY: BodySource = { next: () => Promise.resolve(null), done: true };

/** The start line and the header fields of a message head. */
export interface ParsedHead {
  /** The request or status line. */
  line: string;
  /** Field names and values, flat: name, value, name, value (names as sent). */
  fields: string[];
}

/** `TCHAR[c]` is 1 for the bytes of an RFC 9110 §5.6.2 token. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1;

/**
 * Parses the head `b[from, to)` (without its final CRLF CRLF) in one pass over the bytes
 * (RFC 9112 §2.2, §5): lines end in CRLF (a bare CR or LF is an error, as is a NUL), a field is
 * a token name directly followed by ":", the value loses its leading and trailing SP / HTAB, and
 * a line starting with whitespace (obs-fold) is refused.
 */
export function parseHead(b: Uint8Array, from: number, to: number): ParsedHead {
  const s = latin1(b, from, to);
  const fields: string[] = [];
  let line = "";
  let lineStart = from;
  let first = true;
  for (let i = from; i <= to; i++) {
    const c = i < to ? b[i]! : 13; // the end of the last line
    if (c > 13) continue;
    if (c === 13) {
      if (i < to && b[i + 1] !== 10) throw new HttpParseError(400, "Bare CR or LF in head");
      if (first) {
        line = s.slice(0, i - from);
        first = false;
      } else {
        parseField(b, s, from, lineStart, i, fields);
      }
      lineStart = i + 2;
      i++;
    } else if (c === 10) {
      throw new HttpParseError(400, "Bare CR or LF in head");
    } else if (c === 0) {
      throw new HttpParseError(400, first ? "Malformed start line" : "Invalid header value");
    }
  }
  return { line, fields };
}

/** Parses the field line `b[a, e)` (`s` holds the head from `base`) onto `out`. */
function parseField(
  b: Uint8Array,
  s: string,
  base: number,
  a: number,
  e: number,
  out: string[],
): void {
  let i = a;
  while (i < e && TCHAR[b[i]!] === 1) i++;
  if (i === a || i === e || b[i] !== 58 /* : */) {
    const colon = b.subarray(a, e).indexOf(58);
    throw new HttpParseError(400, colon <= 0 ? "Malformed header line" : "Invalid header name");
  }
  let v = i + 1;
  while (v < e && (b[v] === 32 || b[v] === 9)) v++;
  let w = e;
  while (w > v && (b[w - 1] === 32 || b[w - 1] === 9)) w--;
  out.push(s.slice(a - base, i - base), s.slice(v - base, w - base));
}

/** Parses one field line (a trailer's) like {@linkcode parseHead} does a header's. */
function parseFieldLine(l: string, out: string[]): void {
  const colon = l.indexOf(":");
  if (colon <= 0) throw new HttpParseError(400, "Malformed trailer line");
  const name = l.slice(0, colon);
  if (!TOKEN.test(name)) throw new HttpParseError(400, "Invalid trailer name");
  let v = colon + 1;
  let w = l.length;
  while (v < w && (l.charCodeAt(v) === 32 || l.charCodeAt(v) === 9)) v++;
  while (w > v && (l.charCodeAt(w - 1) === 32 || l.charCodeAt(w - 1) === 9)) w--;
  const value = l.slice(v, w);
  if (/[\0\r]/.test(value)) throw new HttpParseError(400, "Invalid trailer value");
  out.push(name, value);
}

/** RFC 9110 §5.6.2 token. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a Content-Length value (a list of identical values is one, RFC 9110 §8.6). */
export function parseContentLength(v: string): number {
  if (v.length <= 15) {
    // The usual case: digits only.
    let n = 0;
    let i = 0;
    for (; i < v.length; i++) {
      const c = v.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
    }
    if (i === v.length && i > 0) return n;
  }
  let n = -1;
  for (const part of v.split(",")) {
    const p = part.trim();
    if (!/^[0-9]{1,15}$/.test(p)) throw new HttpParseError(400, "Invalid Content-Length");
    const m = Number(p);
    if (n >= 0 && m !== n) throw new HttpParseError(400, "Conflicting Content-Length values");
    n = m;
  }
  return n;
}

/** The cached `Date` header value (RFC 9110 §6.6.1), recomputed once a second. */
let dateValue = "";
let dateSecond = -1;
export function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}
