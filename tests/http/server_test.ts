// serve(): keep-alive, pipelining, streaming bodies both ways, info, shutdown, onError, signal.
import assert from "node:assert/strict";
import { httpPair, readResponses, readToEnd, send, statusOf } from "./_helpers.ts";
import { serve } from "../../src/http/mod.ts";

Deno.test("serve answers GET and POST with the request's method, URL, headers and body", async () => {
  await using p = httpPair(async (req) =>
    Response.json({
      method: req.method,
      url: req.url,
      agent: req.headers.get("x-test"),
      body: await req.text(),
    })
  );
  const get = await p.fetch("http://192.0.2.1/a?b=1", { headers: { "x-test": "yes" } });
  assert.equal(get.status, 200);
  assert.deepEqual(await get.json(), {
    method: "GET",
    url: "http://192.0.2.1/a?b=1",
    agent: "yes",
    body: "",
  });
  const post = await p.fetch("http://192.0.2.1/p", { method: "POST", body: "hello" });
  assert.equal((await post.json()).body, "hello");
});

Deno.test("serve keeps one connection alive across requests and gives info.remoteAddr", async () => {
  const ports = new Set<number>();
  await using p = httpPair((_req, info) => {
    ports.add((info.remoteAddr as Deno.NetAddr).port);
    assert.equal((info.remoteAddr as Deno.NetAddr).hostname, "192.0.2.2");
    return new Response("ok");
  });
  for (let i = 0; i < 20; i++) {
    assert.equal(await (await p.fetch("http://192.0.2.1/")).text(), "ok");
  }
  assert.equal(ports.size, 1);
});

Deno.test("serve answers pipelined requests in order on one connection", async () => {
  await using p = httpPair(async (req) => {
    const n = Number(new URL(req.url).pathname.slice(1));
    // Later requests finish first: order must still follow the requests.
    await new Promise((r) => setTimeout(r, (5 - n) * 3));
    return new Response(`r${n}`);
  });
  const conn = await p.raw();
  let batch = "";
  for (let i = 0; i < 5; i++) batch += `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
  await send(conn, batch);
  const res = await readResponses(conn, 5);
  assert.deepEqual(res.map((r) => r.slice(r.indexOf("\r\n\r\n") + 4)), [
    "r0",
    "r1",
    "r2",
    "r3",
    "r4",
  ]);
  conn.close();
});

Deno.test("serve streams a request body to the handler and a response body back, chunked", async () => {
  let chunks = 0;
  await using p = httpPair(async (req) => {
    let total = 0;
    for await (const c of req.body!) {
      chunks++;
      total += c.length;
    }
    let left = 3;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 2));
        if (left-- === 0) c.close();
        else c.enqueue(new TextEncoder().encode(`${total};`));
      },
    });
    return new Response(body);
  });
  const size = 1 << 20;
  let sent = 0;
  const reqBody = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      c.enqueue(new Uint8Array(65536).fill(7));
      sent += 65536;
    },
  });
  const res = await p.fetch("http://192.0.2.1/", { method: "POST", body: reqBody });
  assert.equal(await res.text(), `${size};${size};${size};`);
  assert.ok(chunks > 1, "the handler saw the body in pieces");

  const conn = await p.raw();
  await send(
    conn,
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
  );
  const text = await readToEnd(conn);
  conn.close();
  assert.match(text, /\r\ntransfer-encoding: chunked\r\n/);
  assert.ok(text.endsWith("2\r\n3;\r\n2\r\n3;\r\n2\r\n3;\r\n0\r\n\r\n"), text);
});

Deno.test("serve sends a known body with Content-Length, none for HEAD, 204 and 304", async () => {
  await using p = httpPair((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304 });
    return new Response("12345");
  });
  const conn = await p.raw();
  await send(
    conn,
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n" +
      "GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const text = await readToEnd(conn);
  conn.close();
  const parts = text.split("HTTP/1.1 ").slice(1);
  assert.equal(parts.length, 4, text);
  assert.match(parts[0]!, /content-length: 5\r\n/);
  assert.ok(parts[0]!.endsWith("\r\n\r\n12345"));
  assert.match(parts[1]!, /content-length: 5\r\n/);
  assert.ok(parts[1]!.endsWith("\r\n\r\n"), "HEAD has no body");
  assert.ok(parts[2]!.startsWith("204 No Content\r\n"));
  assert.doesNotMatch(parts[2]!, /content-length/);
  assert.ok(parts[3]!.startsWith("304 Not Modified\r\n"));
  assert.match(parts[3]!, /connection: close/);
});

Deno.test("serve closes after Connection: close and after an HTTP/1.0 request without keep-alive", async () => {
  await using p = httpPair(() => new Response("x"));
  for (
    const req of [
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
    ]
  ) {
    const conn = await p.raw();
    await send(conn, req);
    const text = await readToEnd(conn); // EOF: the server closed
    conn.close();
    assert.equal(statusOf(text), 200);
    assert.match(text, /connection: close/);
  }
  const conn = await p.raw();
  await send(conn, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
  const text = await readToEnd(conn);
  conn.close();
  assert.equal(text.split("HTTP/1.1 200").length, 3, "two answers on one HTTP/1.0 keep-alive conn");
});

Deno.test("serve answers Expect: 100-continue when the handler reads the body", async () => {
  await using p = httpPair(async (req) => new Response(`got ${await req.text()}`));
  const conn = await p.raw();
  await send(
    conn,
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
  );
  const buf = new Uint8Array(1024);
  const n = await conn.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "HTTP/1.1 100 Continue\r\n\r\n");
  await send(conn, "body");
  const [res] = await readResponses(conn, 1);
  assert.ok(res!.endsWith("got body"));
  conn.close();
});

Deno.test("serve turns a throwing handler into onError's answer, and 500 by default", async () => {
  const seen: unknown[] = [];
  await using p = httpPair(() => {
    throw new Error("boom");
  }, { onError: (e) => (seen.push(e), new Response("sorry", { status: 503 })) });
  const res = await p.fetch("http://192.0.2.1/");
  assert.equal(res.status, 503);
  assert.equal(await res.text(), "sorry");
  assert.equal((seen[0] as Error).message, "boom");

  const error = console.error;
  console.error = () => {};
  try {
    await using q = httpPair(() => "not a response" as unknown as Response);
    const r = await q.fetch("http://192.0.2.1/");
    assert.equal(r.status, 500);
    await r.body?.cancel();
  } finally {
    console.error = error;
  }
});

Deno.test("serve's shutdown lets a request in progress finish, closes idle connections, stops accepting", async () => {
  let release = () => {};
  const gate = new Promise<void>((r) => release = r);
  let started = () => {};
  const inHandler = new Promise<void>((r) => started = r);
  await using p = httpPair(async (req) => {
    if (new URL(req.url).pathname === "/slow") {
      started();
      await gate;
    }
    return new Response("done");
  });
  const idle = await p.raw();
  await send(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readResponses(idle, 1);
  const busy = await p.raw();
  await send(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  await inHandler;
  const finished = p.http.shutdown();
  assert.equal(await readToEnd(idle), "", "an idle keep-alive connection is closed at once");
  idle.close();
  await assert.rejects(
    p.client.connect({ hostname: "192.0.2.1", port: 80 }),
    Deno.errors.ConnectionRefused,
  );
  release();
  const text = await readToEnd(busy);
  busy.close();
  assert.equal(statusOf(text), 200);
  assert.ok(text.endsWith("done"));
  assert.match(text, /connection: close/);
  await finished;
});

Deno.test("serve stops when its signal aborts", async () => {
  const ac = new AbortController();
  await using p = httpPair(() => new Response("x"), { signal: ac.signal });
  assert.equal(await (await p.fetch("http://192.0.2.1/")).text(), "x");
  ac.abort();
  await p.http.finished;
  p.fetch.close();
  await assert.rejects(p.fetch("http://192.0.2.1/"), Deno.errors.ConnectionRefused);
});

Deno.test("serve closes an idle keep-alive connection after keepAliveTimeout", async () => {
  await using p = httpPair(() => new Response("x"), { keepAliveTimeout: 100 });
  const conn = await p.raw();
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readResponses(conn, 1);
  assert.equal(await readToEnd(conn), ""); // closed by the server, no answer
  conn.close();
});

Deno.test("serve takes any async iterable of connections and rejects bad arguments", async () => {
  await using p = httpPair(() => new Response("x"));
  const listener = p.server.listen({ port: 81 });
  async function* only(): AsyncGenerator<Deno.Conn> {
    for await (const c of listener) yield c as unknown as Deno.Conn;
  }
  const http = serve(only(), () => new Response("from iterable"));
  const res = await p.fetch("http://192.0.2.1:81/");
  assert.equal(await res.text(), "from iterable");
  p.fetch.close();
  listener.close();
  await http.shutdown();
  assert.throws(() => serve(only(), "x" as unknown as () => Response), TypeError);
  assert.throws(() => serve(only(), () => new Response(), { maxHeaderSize: -1 }), RangeError);
});
