// Content codings (RFC 9110 §8.4.1, §12.5.3): choosing gzip/deflate for a response, and undoing
// them on the client. The work itself is CompressionStream / DecompressionStream.

/** A content coding both sides here can apply. */
export type Coding = "gzip" | "deflate";

/**
 * The coding to answer with for an `Accept-Encoding` value (RFC 9110 §12.5.3): gzip before
 * deflate, each only with a non-zero q (a `*` counts for both), or null.
 */
export function chooseCoding(acceptEncoding: string): Coding | null {
  // Clients send the same value on every request: the last answer is kept.
  if (acceptEncoding === lastAccept) return lastCoding;
  lastCoding = parseAccept(acceptEncoding);
  lastAccept = acceptEncoding;
  return lastCoding;
}

let lastAccept = "";
let lastCoding: Coding | null = null;

function parseAccept(acceptEncoding: string): Coding | null {
  let gzip = -1;
  let deflate = -1;
  let star = -1;
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.split(";");
    const coding = name!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    if (!(q >= 0 && q <= 1)) continue;
    if (coding === "gzip" || coding === "x-gzip") gzip = q;
    else if (coding === "deflate") deflate = q;
    else if (coding === "*") star = q;
  }
  if (gzip < 0) gzip = star;
  if (deflate < 0) deflate = star;
  if (gzip > 0 && gzip >= deflate) return "gzip";
  if (deflate > 0) return "deflate";
  return null;
}

/** Media types worth compressing: text, JSON, JavaScript, XML and their `+json`/`+xml` kin. */
const COMPRESSIBLE =
  /^(text\/|application\/(json|javascript|ecmascript|xml|x-javascript|wasm|manifest\+json|ld\+json)\b|application\/[\w.+-]+\+(json|xml)\b|image\/svg\+xml\b)/i;

/** Bodies shorter than this are sent as they are (the gzip framing alone is 20 bytes). */
export const MIN_COMPRESS = 64;

/**
 * Whether a response may be compressed, from its status and fields (as `Deno.serve` decides): a
 * compressible content type, no `Content-Encoding` yet, no `Cache-Control: no-transform`
 * (RFC 9111 §5.2.2.6), a status with a body that is not a range (206), and a declared length,
 * if any, of at least {@linkcode MIN_COMPRESS} bytes.
 */
export function compressibleFields(
  status: number,
  type: string | null,
  encoded: boolean,
  noTransform: boolean,
  length: string | null,
): boolean {
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  if (type === null || !COMPRESSIBLE.test(type)) return false;
  if (encoded || noTransform) return false;
  return length === null || !(Number(length) < MIN_COMPRESS);
}

/** The body decoded when the response's `Content-Encoding` is one coding this client undoes. */
export function decodedBody(
  encoding: string | null,
  body: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> | null {
  if (encoding === null) return null;
  const e = encoding.trim().toLowerCase();
  const format = e === "gzip" || e === "x-gzip" ? "gzip" : e === "deflate" ? "deflate" : null;
  if (format === null) return null;
  return body.pipeThrough(new DecompressionStream(format) as ReadableWritablePair<Uint8Array>);
}
