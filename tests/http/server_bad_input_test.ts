// serve() and hostile or broken clients: malformed heads, oversized heads and bodies, request
// smuggling (RFC 9112 §6.3), bad chunked framing, slow clients. Each gets its 4xx or a closed
// connection, and the server keeps answering other connections.
import assert from "node:assert/strict";
import { httpPair, readToEnd, send, statusOf } from "./_helpers.ts";
import type { ServeOptions } from "../../src/http/mod.ts";

/** Sends `raw` on a new connection; returns what came back until the server closed. */
async function exchange(
  p: Awaited<ReturnType<typeof httpPair>>,
  raw: string,
): Promise<string> {
  const conn = await p.raw();
  try {
    await send(conn, raw);
    return await readToEnd(conn);
  } finally {
    conn.close();
  }
}

function counting(options: ServeOptions = {}) {
  const calls: string[] = [];
  const p = httpPair(async (req) => {
    calls.push(`${req.method} ${new URL(req.url).pathname}`);
    const body = req.body === null ? "" : await req.text();
    return new Response(`ok ${body.length}`);
  }, options);
  return { p, calls };
}

async function stillServes(p: Awaited<ReturnType<typeof httpPair>>): Promise<void> {
  const res = await p.fetch("http://192.0.2.1/alive");
  assert.equal(res.status, 200);
  await res.body?.cancel();
}

Deno.test("serve answers malformed request lines with 400 (505 for HTTP/2) and closes", async () => {
  const { p, calls } = counting();
  await using _ = p;
  const cases: [string, number][] = [
    ["GARBAGE\r\n\r\n", 400],
    ["GET /\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400],
    ["GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["G\0T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["GET / HTTP/1.1\r\n\r\n", 400], // no Host (RFC 9112 §3.2)
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
    ["GET / HTTP/1.1\nHost: a\n\n\r\n\r\n", 400], // bare LF
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400], // bare CR
    ["GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n", 400], // RFC 9112 §5.1
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400], // obs-fold
    ["GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400],
  ];
  for (const [raw, status] of cases) {
    const text = await exchange(p, raw);
    assert.equal(statusOf(text), status, JSON.stringify(raw));
    assert.match(text, /connection: close/i, JSON.stringify(raw));
  }
  assert.deepEqual(calls, []);
  await stillServes(p);
});

Deno.test("serve answers an oversized head with 431 and closes; other connections go on", async () => {
  const { p, calls } = counting({ maxHeaderSize: 4096 });
  await using _ = p;
  const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(5000)}\r\n\r\n`;
  assert.equal(statusOf(await exchange(p, big)), 431);
  // A head that never ends is cut off at the limit too.
  const endless = `GET / HTTP/1.1\r\nHost: a\r\n${"X: y\r\n".repeat(2000)}`;
  assert.equal(statusOf(await exchange(p, endless)), 431);
  const fits = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${
    "a".repeat(3000)
  }\r\nConnection: close\r\n\r\n`;
  assert.equal(statusOf(await exchange(p, fits)), 200);
  assert.equal(calls.length, 1);
  await stillServes(p);
});

Deno.test("serve refuses Content-Length with Transfer-Encoding (smuggling) and never runs the hidden request", async () => {
  const { p, calls } = counting();
  await using _ = p;
  const hidden = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  const cases: [string, number][] = [
    // CL.TE and TE.CL shapes: both headers present
    [
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
      400,
    ],
    [
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${hidden}`,
      400,
    ],
    // obfuscated Transfer-Encoding
    [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${hidden}`, 400],
    [
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${hidden}`,
      400,
    ],
    [
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${hidden}`,
      501,
    ],
    [`POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`, 400],
    // conflicting or malformed Content-Length
    [
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef${hidden}`,
      400,
    ],
    [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nabcdef${hidden}`, 400],
    [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nabcde${hidden}`, 400],
    [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n${hidden}`, 400],
    [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n${hidden}`, 400],
    [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n${hidden}`, 400],
  ];
  for (const [raw, status] of cases) {
    const text = await exchange(p, raw);
    assert.equal(statusOf(text), status, JSON.stringify(raw));
    assert.equal(text.split("HTTP/1.1").length, 2, `one answer only: ${JSON.stringify(raw)}`);
  }
  assert.deepEqual(calls, []);
  // Identical repeated Content-Length values are one value (RFC 9110 §8.6).
  const same = await exchange(
    p,
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
  );
  assert.ok(same.endsWith("ok 3"), same);
  await stillServes(p);
});

Deno.test("serve answers bad chunked framing with 400 and closes", async () => {
  const { p, calls } = counting();
  await using _ = p;
  const head = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (
    const body of [
      "zz\r\nabc\r\n0\r\n\r\n", // not hex
      "-1\r\nabc\r\n0\r\n\r\n", // negative
      "fffffffffffffffff\r\n", // too many digits
      "3\r\nabcXY0\r\n\r\n", // no CRLF after the data
      "3\nabc\r\n0\r\n\r\n", // bare LF after the size
      " 3\r\nabc\r\n0\r\n\r\n", // leading space
      `3;${"e".repeat(20000)}\r\nabc\r\n0\r\n\r\n`, // endless extension
    ]
  ) {
    const text = await exchange(p, head + body);
    assert.equal(statusOf(text), 400, JSON.stringify(body.slice(0, 30)));
    assert.match(text, /connection: close/i);
  }
  assert.ok(calls.every((c) => c === "POST /c"));
  const good = await exchange(
    p,
    head.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n") +
      "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
  );
  assert.ok(good.endsWith("ok 5"), good);
  await stillServes(p);
});

Deno.test("serve answers a body over maxBodySize with 413, declared or chunked", async () => {
  const { p, calls } = counting({ maxBodySize: 1000 });
  await using _ = p;
  const declared = await exchange(
    p,
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n${"a".repeat(2000)}`,
  );
  assert.equal(statusOf(declared), 413);
  assert.deepEqual(calls, [], "refused before the handler");
  const chunk = `600\r\n${"a".repeat(0x600)}\r\n`;
  const chunked = await exchange(
    p,
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
  );
  assert.equal(statusOf(chunked), 413);
  await stillServes(p);
});

Deno.test("serve closes a slowloris connection at headersTimeout while others are answered", async () => {
  const { p } = counting({ headersTimeout: 300 });
  await using _ = p;
  const conn = await p.raw();
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n");
  const closed = readToEnd(conn);
  let dribbled = 0;
  let writeFailed = false;
  let closedYet = false;
  const dribble = (async () => {
    // One header byte every 40 ms for up to 4 s: the head never completes in time.
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 40));
      try {
        await send(conn, "X");
        dribbled++;
      } catch {
        writeFailed = true;
        return;
      }
      if (closedYet) return;
    }
  })();
  // Meanwhile other clients are served.
  for (let i = 0; i < 5; i++) await stillServes(p);
  const text = await closed;
  closedYet = true;
  await dribble;
  conn.close();
  assert.equal(text, "", "no answer, just a close");
  assert.ok(dribbled < 100 || writeFailed, "closed before the slow head could finish");
});

Deno.test("serve closes a connection whose body stalls past idleTimeout", async () => {
  const { p } = counting({ idleTimeout: 200 });
  await using _ = p;
  const conn = await p.raw();
  await send(conn, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
  const text = await readToEnd(conn); // the handler's read stalls; the server gives up
  conn.close();
  assert.ok(text === "" || statusOf(text) === 400, text);
  await stillServes(p);
});

Deno.test("serve answers a connection closed mid-head with 400 (or nothing) and carries on", async () => {
  const { p, calls } = counting();
  await using _ = p;
  const conn = await p.raw();
  await send(conn, "GET / HTTP/1.1\r\nHos");
  await conn.closeWrite();
  const text = await readToEnd(conn);
  conn.close();
  assert.equal(statusOf(text), 400);
  assert.deepEqual(calls, []);
  await stillServes(p);
});
