import assert from "node:assert/strict";
import { chooseCoding } from "../../src/http/_compress.ts";
import { httpPair, readResponses, send } from "./_helpers.ts";

Deno.test("chooseCoding follows Accept-Encoding q-values, gzip first", () => {
  assert.equal(chooseCoding("gzip, deflate, br"), "gzip");
  assert.equal(chooseCoding("deflate"), "deflate");
  assert.equal(chooseCoding("gzip;q=0.5, deflate"), "deflate");
  assert.equal(chooseCoding("gzip;q=0, deflate;q=0"), null);
  assert.equal(chooseCoding("br"), null);
  assert.equal(chooseCoding("identity"), null);
  assert.equal(chooseCoding("*"), "gzip");
  assert.equal(chooseCoding("*;q=0.3, gzip;q=0"), "deflate");
  assert.equal(chooseCoding("X-GZIP"), "gzip");
  assert.equal(chooseCoding("gzip;q=2"), null); // q out of range is ignored
});

const TEXT = "smolnet ".repeat(100);

async function gunzip(
  bytes: Uint8Array<ArrayBuffer>,
  format: CompressionFormat = "gzip",
): Promise<string> {
  const s = ReadableStream.from<BufferSource>([bytes]).pipeThrough(new DecompressionStream(format));
  return await new Response(s).text();
}

/** One raw request; returns the head (lower-cased field names) and the body bytes. */
async function rawGet(
  pair: ReturnType<typeof httpPair>,
  path: string,
  fields: string,
): Promise<{ head: string; body: Uint8Array<ArrayBuffer> }> {
  const conn = await pair.raw();
  await send(conn, `GET ${path} HTTP/1.1\r\nHost: a\r\n${fields}Connection: close\r\n\r\n`);
  const chunks: number[] = [];
  const buf = new Uint8Array(65536);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    chunks.push(...buf.subarray(0, n));
  }
  conn.close();
  const all = new Uint8Array(chunks);
  let end = 0;
  while (!(all[end] === 13 && all[end + 1] === 10 && all[end + 2] === 13 && all[end + 3] === 10)) {
    end++;
  }
  const head = new TextDecoder().decode(all.subarray(0, end)).toLowerCase();
  let body = all.subarray(end + 4);
  if (head.includes("\r\ntransfer-encoding: chunked")) body = dechunk(body);
  return { head, body };
}

/** The data of a chunked body (RFC 9112 §7.1), without extensions or trailers. */
function dechunk(b: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  let at = 0;
  while (true) {
    let eol = at;
    while (b[eol] !== 13) eol++;
    const size = parseInt(new TextDecoder().decode(b.subarray(at, eol)), 16);
    if (size === 0) return new Uint8Array(out);
    out.push(...b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function handler(req: Request): Response {
  const path = new URL(req.url).pathname;
  const text = { "content-type": "text/plain; charset=utf-8" };
  switch (path) {
    case "/text":
      return new Response(TEXT, { headers: { ...text, etag: '"v1"', vary: "cookie" } });
    case "/json":
      return Response.json({ text: TEXT });
    case "/short":
      return new Response("tiny", { headers: text });
    case "/png":
      return new Response(TEXT, { headers: { "content-type": "image/png" } });
    case "/no-transform":
      return new Response(TEXT, { headers: { ...text, "cache-control": "no-transform" } });
    case "/stream":
      return new Response(
        ReadableStream.from([TEXT, TEXT]).pipeThrough(new TextEncoderStream()),
        { headers: text },
      );
  }
  return new Response("not found", { status: 404 });
}

Deno.test("serve compresses compressible responses for clients that accept it", async () => {
  await using pair = httpPair(handler);
  const gz = await rawGet(pair, "/text", "Accept-Encoding: gzip, deflate\r\n");
  assert.match(gz.head, /\r\ncontent-encoding: gzip\r\n/);
  assert.match(gz.head, /\r\nvary: cookie, accept-encoding\r\n/);
  assert.match(gz.head, /\r\netag: w\/"v1"\r\n/); // a strong validator becomes weak
  assert.ok(gz.body.length < TEXT.length / 4);
  // A whole body is compressed in one piece and sent with its length.
  assert.match(gz.head, new RegExp(`\r\ncontent-length: ${gz.body.length}\r\n`));
  assert.equal(await gunzip(gz.body), TEXT);
  const df = await rawGet(pair, "/json", "Accept-Encoding: deflate\r\n");
  assert.match(df.head, /\r\ncontent-encoding: deflate\r\n/);
  assert.match(df.head, /\r\nvary: accept-encoding\r\n/);
  assert.deepEqual(JSON.parse(await gunzip(df.body, "deflate")), { text: TEXT });
  const streamed = await rawGet(pair, "/stream", "Accept-Encoding: gzip\r\n");
  assert.match(streamed.head, /\r\ncontent-encoding: gzip\r\n/);
  assert.match(streamed.head, /\r\ntransfer-encoding: chunked\r\n/);
  assert.equal(await gunzip(streamed.body), TEXT + TEXT);
  // Left alone: no Accept-Encoding, short, not a text type, no-transform.
  for (
    const [path, fields] of [
      ["/text", ""],
      ["/short", "Accept-Encoding: gzip\r\n"],
      ["/png", "Accept-Encoding: gzip\r\n"],
      ["/no-transform", "Accept-Encoding: gzip\r\n"],
    ]
  ) {
    const r = await rawGet(pair, path!, fields!);
    assert.doesNotMatch(r.head, /content-encoding/, path);
  }
});

Deno.test("serve with compression: false never compresses", async () => {
  await using pair = httpPair(handler, { compression: false });
  const r = await rawGet(pair, "/text", "Accept-Encoding: gzip\r\n");
  assert.doesNotMatch(r.head, /content-encoding/);
  assert.equal(new TextDecoder().decode(r.body), TEXT);
});

Deno.test("createFetch asks for gzip and deflate and decodes them, unless the caller asked", async () => {
  const seen: (string | null)[] = [];
  await using pair = httpPair(async (req) => {
    seen.push(req.headers.get("accept-encoding"));
    const path = new URL(req.url).pathname;
    if (path === "/deflate") {
      // Encoded by the handler itself: the client undoes whatever the server sent.
      const body = ReadableStream.from<BufferSource>([new TextEncoder().encode(TEXT)])
        .pipeThrough(new CompressionStream("deflate"));
      return new Response(await new Response(body).arrayBuffer(), {
        headers: { "content-encoding": "deflate" },
      });
    }
    return handler(req);
  });
  const res = await pair.fetch("http://192.0.2.1/text");
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(await res.text(), TEXT);
  assert.equal(await (await pair.fetch("http://192.0.2.1/stream")).text(), TEXT + TEXT);
  assert.equal(await (await pair.fetch("http://192.0.2.1/deflate")).text(), TEXT);
  assert.equal(seen[0], "gzip, deflate");
  // The caller's own Accept-Encoding: the body is handed over as it came.
  const raw = await pair.fetch("http://192.0.2.1/text", { headers: { "accept-encoding": "gzip" } });
  const bytes = new Uint8Array(await raw.arrayBuffer());
  assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
  assert.equal(await gunzip(bytes), TEXT);
});

Deno.test("a corrupt gzip body fails the body read with a TypeError, not the process", async () => {
  await using pair = httpPair(() =>
    new Response("this is not gzip data at all, not even close to it", {
      headers: { "content-encoding": "gzip" },
    })
  );
  const res = await pair.fetch("http://192.0.2.1/");
  await assert.rejects(res.text(), TypeError);
  // The connection and the server are fine afterwards.
  const [again] = await readResponses(
    await pair.raw().then(async (c) => {
      await send(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      return c;
    }),
    1,
  );
  assert.match(again!, /^HTTP\/1\.1 200 /);
});
