// createFetch(): pooling, redirects, streaming, abort, real Responses, broken servers.
import assert from "node:assert/strict";
import { linkPair, NetStack, type TcpStream } from "../../mod.ts";
import { createFetch } from "../../src/http/mod.ts";
import { httpPair, send } from "./_helpers.ts";

Deno.test("createFetch returns real Responses with url, status, headers and body", async () => {
  await using p = httpPair(() =>
    new Response("hi", { status: 201, statusText: "Made", headers: { "x-a": "1" } })
  );
  const res = await p.fetch(new URL("http://192.0.2.1/path?q"));
  assert.ok(res instanceof globalThis.Response);
  assert.equal(res.status, 201);
  assert.equal(res.statusText, "Made");
  assert.equal(res.headers.get("x-a"), "1");
  assert.equal(res.url, "http://192.0.2.1/path?q");
  assert.equal(res.redirected, false);
  assert.equal(await res.text(), "hi");
});

Deno.test("createFetch reuses one keep-alive connection and retries once on a stale one", async () => {
  // Reuse: a keep-alive timeout far longer than ten requests take even on a loaded CI box (2 s was
  // once exceeded between two requests with eight test processes on two cores).
  const reused: number[] = [];
  {
    await using p = httpPair((_req, info) => {
      reused.push((info.remoteAddr as Deno.NetAddr).port);
      return new Response("x");
    }, { keepAliveTimeout: 60_000 });
    for (let i = 0; i < 10; i++) await (await p.fetch("http://192.0.2.1/")).text();
    assert.equal(reused.length, 10);
    assert.equal(new Set(reused).size, 1);
    // Parallel requests open parallel connections.
    await Promise.all([1, 2, 3].map(async () => (await p.fetch("http://192.0.2.1/")).text()));
    assert.ok(new Set(reused).size >= 3);
  }
  // Stale: the server closes the idle connection; the next fetch notices and dials again.
  const ports: number[] = [];
  await using p = httpPair((_req, info) => {
    ports.push((info.remoteAddr as Deno.NetAddr).port);
    return new Response("x");
  }, { keepAliveTimeout: 200 });
  assert.equal(await (await p.fetch("http://192.0.2.1/")).text(), "x");
  await new Promise((r) => setTimeout(r, 2000)); // ten times the timeout
  assert.equal(await (await p.fetch("http://192.0.2.1/")).text(), "x");
  assert.equal(ports.length, 2);
  assert.equal(new Set(ports).size, 2);
});

Deno.test("createFetch follows redirects (303 to GET, 307 keeps the body) and honours redirect modes", async () => {
  await using p = httpPair(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/303") return new Response(null, { status: 303, headers: { location: "/echo" } });
    if (path === "/307") return new Response(null, { status: 307, headers: { location: "/echo" } });
    if (path === "/loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    return new Response(`${req.method} ${await req.text()}`);
  });
  const a = await p.fetch("http://192.0.2.1/303", { method: "POST", body: "data" });
  assert.equal(await a.text(), "GET ");
  assert.equal(a.redirected, true);
  assert.equal(a.url, "http://192.0.2.1/echo");
  const b = await p.fetch("http://192.0.2.1/307", { method: "PUT", body: "data" });
  assert.equal(await b.text(), "PUT data");
  const m = await p.fetch("http://192.0.2.1/303", { redirect: "manual" });
  assert.equal(m.status, 303);
  assert.equal(m.headers.get("location"), "/echo");
  await assert.rejects(p.fetch("http://192.0.2.1/303", { redirect: "error" }), TypeError);
  await assert.rejects(p.fetch("http://192.0.2.1/loop"), /Too many redirects/);
});

Deno.test("createFetch streams a large response body and a streamed request body", async () => {
  const size = 4 << 20;
  await using p = httpPair(async (req) => {
    if (req.method === "POST") {
      let n = 0;
      for await (const c of req.body!) n += c.length;
      return new Response(String(n));
    }
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= size) return c.close();
          c.enqueue(new Uint8Array(65536).fill(sent / 65536 & 0xff));
          sent += 65536;
        },
      }),
    );
  });
  const res = await p.fetch("http://192.0.2.1/big");
  let got = 0;
  let pieces = 0;
  for await (const c of res.body!) {
    assert.equal(c[0], Math.floor(got / 65536) & 0xff);
    got += c.length;
    pieces++;
  }
  assert.equal(got, size);
  assert.ok(pieces > 1);
  const body = new Blob([new Uint8Array(size)]).stream();
  const up = await p.fetch("http://192.0.2.1/", { method: "POST", body });
  assert.equal(await up.text(), String(size));
});

Deno.test("createFetch rejects with the signal's reason when aborted before or during a request", async () => {
  let release = () => {};
  const gate = new Promise<void>((r) => release = r);
  let end = () => {};
  const ended = new Promise<void>((r) => end = r);
  await using p = httpPair(async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate;
    return new Response(
      new ReadableStream({
        async pull(c) {
          c.enqueue(new Uint8Array(10));
          await ended;
          c.close();
        },
      }),
    );
  });
  await assert.rejects(
    p.fetch("http://192.0.2.1/", { signal: AbortSignal.abort() }),
    (e: Error) => e.name === "AbortError",
  );
  const ac = new AbortController();
  const slow = p.fetch("http://192.0.2.1/slow", { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(slow, (e: Error) => e.name === "AbortError");
  release();
  const ac2 = new AbortController();
  const res = await p.fetch("http://192.0.2.1/", { signal: ac2.signal });
  const reader = res.body!.getReader();
  assert.equal((await reader.read()).value?.length, 10);
  ac2.abort();
  await assert.rejects(reader.read(), (e: Error) => e.name === "AbortError");
  end();
});

/** A server stack answering every connection with `answer` bytes, then closing. */
async function rawServer(answer: string, fn: (f: ReturnType<typeof createFetch>) => Promise<void>) {
  const [a, b] = linkPair();
  await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  const listener = server.listen({ port: 80 });
  const conns: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const c of listener) {
      conns.push((async (conn: TcpStream) => {
        await conn.read(new Uint8Array(4096));
        await send(conn, answer);
        await conn.closeWrite();
        while ((await conn.read(new Uint8Array(4096)).catch(() => null)) !== null) { /* drain */ }
        conn.close();
      })(c));
    }
  })();
  const fetch = createFetch(client);
  try {
    await fn(fetch);
  } finally {
    fetch.close();
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(conns);
  }
}

Deno.test("createFetch reads a body delimited by close and a chunked one, and fails on broken ones", async () => {
  await rawServer("HTTP/1.1 200 OK\r\n\r\nuntil close", async (f) => {
    assert.equal(await (await f("http://192.0.2.1/")).text(), "until close");
  });
  await rawServer(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    async (f) => assert.equal(await (await f("http://192.0.2.1/")).text(), "abc"),
  );
  await rawServer("NOT HTTP\r\n\r\n", async (f) => {
    await assert.rejects(f("http://192.0.2.1/"), TypeError);
  });
  await rawServer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", async (f) => {
    const res = await f("http://192.0.2.1/");
    await assert.rejects(res.text(), TypeError);
  });
  await rawServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", async (f) => {
    const res = await f("http://192.0.2.1/");
    await assert.rejects(res.text(), TypeError);
  });
  await rawServer("", async (f) => {
    await assert.rejects(f("http://192.0.2.1/"), TypeError);
  });
});

Deno.test("createFetch rejects bad arguments and URLs that are not http: or https:", async () => {
  assert.throws(() => createFetch({} as never), TypeError);
  assert.throws(
    () => createFetch({ connect: () => Promise.reject() }, { maxRedirects: -1 }),
    RangeError,
  );
  const f = createFetch({ connect: () => Promise.reject(new Error("not dialled")) });
  await assert.rejects(f("ftp://192.0.2.1/"), TypeError);
  await assert.rejects(f("http://192.0.2.1/", { method: "GET", body: "x" }), TypeError);
  await assert.rejects(f("http://192.0.2.1/"), /not dialled/);
});
