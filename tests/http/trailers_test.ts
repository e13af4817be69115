// trailersOf: trailer fields of chunked requests (serve) and responses (createFetch).
import assert from "node:assert/strict";
import { linkPair, NetStack } from "../../mod.ts";
import { createFetch, trailersOf } from "../../src/http/mod.ts";
import { httpPair, readResponses, send } from "./_helpers.ts";

Deno.test("serve exposes a chunked request's trailer fields, without framing fields", async () => {
  await using p = httpPair(async (req) => {
    const body = await req.text();
    const t = await trailersOf(req);
    return Response.json({ body, trailers: [...t] });
  });
  const conn = await p.raw();
  await send(
    conn,
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
      "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum:  sha-256=1234 \r\nContent-Length: 5\r\n" +
      "X-Other: b\r\n\r\n",
  );
  const [res] = await readResponses(conn, 1);
  const json = JSON.parse(res!.slice(res!.indexOf("\r\n\r\n") + 4));
  assert.deepEqual(json, {
    body: "abcde",
    trailers: [["x-checksum", "sha-256=1234"], ["x-other", "b"]],
  });
  conn.close();
});

Deno.test("trailersOf gives empty fields for a request without a chunked body", async () => {
  await using p = httpPair(async (req) => {
    await req.text();
    return new Response(String([...await trailersOf(req)].length));
  });
  const res = await p.fetch("http://192.0.2.1/", { method: "POST", body: "x" });
  assert.equal(await res.text(), "0");
  assert.equal([...await trailersOf(new Request("http://a/"))].length, 0);
});

/** A server stack whose one connection answers with `answer`, and a client's fetch. */
function rawServer(answer: string) {
  const [a, b] = linkPair({ mtu: 1500 });
  const server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  const listener = server.listen({ port: 80 });
  const served = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(4096));
    await send(conn, answer);
    conn.close();
  })();
  const fetch = createFetch(client);
  return {
    fetch,
    async [Symbol.asyncDispose]() {
      await served;
      fetch.close();
      listener.close();
      await client.close();
      await server.close();
    },
  };
}

Deno.test("createFetch exposes a chunked response's trailer fields once the body is read", async () => {
  await using s = rawServer(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
      "5\r\nhello\r\n0\r\nServer-Timing: db;dur=53\r\nTransfer-Encoding: x\r\n\r\n",
  );
  const res = await s.fetch("http://192.0.2.1/");
  const trailers = trailersOf(res); // asked before the body is read: settles at its end
  assert.equal(await res.text(), "hello");
  assert.deepEqual([...await trailers], [["server-timing", "db;dur=53"]]);
});

Deno.test("createFetch fails the body and the trailers on a malformed trailer line", async () => {
  await using s = rawServer(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
      "1\r\nx\r\n0\r\nno colon here\r\n\r\n",
  );
  const res = await s.fetch("http://192.0.2.1/");
  const trailers = trailersOf(res);
  await assert.rejects(res.text(), TypeError);
  await assert.rejects(
    trailers,
    (e) => e instanceof TypeError && /Malformed trailer line/.test(e.message),
  );
});
