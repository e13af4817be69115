// Trailer fields of chunked messages (RFC 9110 §6.5, RFC 9112 §7.1.2), handed to the application.
import { type ChunkedBody, HttpParseError } from "./_reader.ts";

/** The chunked body each request (from `serve`) or response (from `createFetch`) was read from. */
const BODIES = new WeakMap<Request | Response, ChunkedBody>();

/** Ties `message` to the chunked body it is read from, for {@linkcode trailersOf}. */
export function bindTrailers(message: Request | Response, body: ChunkedBody): void {
  BODIES.set(message, body);
}

/** Trailer fields that must not appear in a trailer section (RFC 9110 §6.5.1), left out. */
const FRAMING = new Set([
  "content-length",
  "transfer-encoding",
  "host",
  "trailer",
  "content-encoding",
  "content-type",
  "content-range",
  "authorization",
  "set-cookie",
  "cache-control",
  "expect",
  "max-forwards",
  "pragma",
  "range",
  "te",
]);

/**
 * The trailer fields of a request `serve` handed to a handler, or of a response `createFetch`
 * returned (RFC 9110 §6.5): fields a chunked body sends after its last chunk, such as a checksum
 * of the content. Resolves once the body has been read to its end (read it first, or alongside),
 * with the fields in a `Headers` (empty when the message had none, had no chunked body, or did
 * not come from `serve` or `createFetch`); rejects when reading the body failed (a `TypeError`
 * for a malformed trailer section, like `fetch` for a malformed body). Fields
 * that control framing, routing, authentication or caching (RFC 9110 §6.5.1) are left out.
 *
 * @param message A request from `serve` or a response from `createFetch`.
 * @returns The trailer fields.
 *
 * @example A response with a trailer
 * ```ts
 * import { createFetch, trailersOf } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * (async () => {
 *   const conn = await listener.accept();
 *   await conn.read(new Uint8Array(1024));
 *   await conn.write(new TextEncoder().encode(
 *     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
 *       "2\r\nhi\r\n0\r\nX-Checksum: 42\r\n\r\n",
 *   ));
 *   conn.close();
 * })();
 * const fetch = createFetch(client);
 * const res = await fetch("http://192.0.2.1/");
 * assert.equal(await res.text(), "hi");
 * assert.equal((await trailersOf(res)).get("x-checksum"), "42");
 * fetch.close();
 * listener.close();
 * ```
 */
export async function trailersOf(message: Request | Response): Promise<Headers> {
  const out = new Headers();
  const body = BODIES.get(message);
  if (body === undefined) return out;
  let fields: string[];
  try {
    fields = await body.trailers();
  } catch (e) {
    if (e instanceof HttpParseError) throw new TypeError(`Invalid trailer section: ${e.message}`);
    throw e;
  }
  for (let i = 0; i < fields.length; i += 2) {
    if (!FRAMING.has(fields[i]!.toLowerCase())) out.append(fields[i]!, fields[i + 1]!);
  }
  return out;
}
