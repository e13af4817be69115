// Hono and oak apps run on serve() unchanged; Hono's app answers the same over serve() on a
// smolnet stack as over Deno.serve on the kernel's 127.0.0.1.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
import { Application, Router } from "@oakserver/oak";
import { httpPair } from "./_helpers.ts";

function honoApp(): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("x-powered", "hono");
  });
  app.get("/", (c) => c.text("hello hono"));
  app.get("/json/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));
  app.post("/echo", async (c) => c.json({ got: await c.req.json() }, 201));
  app.get("/redirect", (c) => c.redirect("/", 302));
  app.get("/stream", (c) =>
    streamText(c, async (s) => {
      for (let i = 0; i < 3; i++) await s.write(`part${i};`);
    }));
  app.get("/headers", (c) => c.text(c.req.header("x-in") ?? "none"));
  app.get("/error", () => {
    throw new Error("route failed");
  });
  app.onError((e, c) => c.text(`caught: ${e.message}`, 500));
  return app;
}

const REQUESTS: [string, RequestInit][] = [
  ["/", {}],
  ["/json/42?q=x", {}],
  ["/echo", {
    method: "POST",
    body: JSON.stringify({ a: [1, 2] }),
    headers: { "content-type": "application/json" },
  }],
  ["/redirect", { redirect: "manual" }],
  ["/stream", {}],
  ["/headers", { headers: { "x-in": "given" } }],
  ["/error", {}],
  ["/missing", {}],
  ["/", { method: "HEAD" }],
];

/** What must match between two servers: status, body and the headers the app sets. */
async function summary(res: Response): Promise<unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of res.headers) {
    if (
      !["date", "content-length", "transfer-encoding", "content-encoding", "vary", "connection"]
        .includes(k)
    ) {
      headers[k] = v;
    }
  }
  return { status: res.status, headers, body: await res.text() };
}

Deno.test("a Hono app answers identically over serve() on smolnet and over Deno.serve", async () => {
  const app = honoApp();
  await using p = httpPair(app.fetch);
  const ac = new AbortController();
  const kernel = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    app.fetch,
  );
  try {
    for (const [path, init] of REQUESTS) {
      const ours = await summary(await p.fetch(`http://192.0.2.1${path}`, init));
      const theirs = await summary(
        await fetch(`http://127.0.0.1:${kernel.addr.port}${path}`, {
          ...init,
          headers: { ...init.headers as Record<string, string>, "accept-encoding": "identity" },
        }),
      );
      assert.deepEqual(ours, theirs, path);
    }
    const r = await p.fetch("http://192.0.2.1/json/7");
    assert.deepEqual(await r.json(), { id: "7", q: null });
    assert.equal(r.headers.get("x-powered"), "hono");
  } finally {
    ac.abort();
    await kernel.finished;
  }
});

Deno.test("an oak app runs on serve() through app.handle", async () => {
  const router = new Router();
  router.get("/", (ctx) => {
    ctx.response.body = "hello oak";
  });
  router.get("/items/:id", (ctx) => {
    ctx.response.body = { id: ctx.params.id, from: ctx.request.ip };
  });
  router.post("/echo", async (ctx) => {
    ctx.response.status = 201;
    ctx.response.body = { got: await ctx.request.body.json() };
  });
  const app = new Application();
  app.use(router.routes());
  app.use(router.allowedMethods());
  // npm's oak is its Node build, typed with undici's Request/Response: casts for the types only.
  await using p = httpPair(async (req, info) =>
    ((await app.handle(req as never, info.remoteAddr as Deno.NetAddr)) as Response | undefined) ??
      new Response(null, { status: 404 })
  );
  const a = await p.fetch("http://192.0.2.1/");
  assert.equal(a.status, 200);
  assert.equal(await a.text(), "hello oak");
  const b = await p.fetch("http://192.0.2.1/items/9");
  assert.deepEqual(await b.json(), { id: "9", from: "192.0.2.2" });
  const c = await p.fetch("http://192.0.2.1/echo", {
    method: "POST",
    body: '{"x":1}',
    headers: { "content-type": "application/json" },
  });
  assert.equal(c.status, 201);
  assert.deepEqual(await c.json(), { got: { x: 1 } });
  const d = await p.fetch("http://192.0.2.1/nothing");
  assert.equal(d.status, 404);
  await d.body?.cancel();
});
