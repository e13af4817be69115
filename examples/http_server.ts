/**
 * `serve` and `createFetch` from `@smol/net/http` on two smolnet stacks in one process: the
 * server answers `/` with a short page and `/bytes/N` with N bytes where byte i is `i % 251`
 * (streamed), and the client fetches both over one keep-alive connection.
 *
 * Run: `deno run examples/http_server.ts`
 *
 * @module
 */

import { linkPair, NetStack } from "../mod.ts";
import { createFetch, serve } from "../src/http/mod.ts";

if (Deno.args.includes("--help")) {
  console.log(
    "Usage: deno run examples/http_server.ts\n\nServes / and /bytes/N on 192.0.2.1:80 and fetches both.",
  );
  Deno.exit(0);
}

/**
 * The fetch handler: `/`, `/bytes/N`, else 404.
 *
 * @param req The request.
 * @returns The response.
 */
export function handler(req: Request): Response {
  const path = new URL(req.url).pathname;
  if (path === "/") {
    return new Response("<h1>smolnet</h1>\n", { headers: { "content-type": "text/html" } });
  }
  const m = /^\/bytes\/(\d{1,9})$/.exec(path);
  if (m === null) return new Response("not found\n", { status: 404 });
  let left = Number(m[1]);
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (left === 0) return c.close();
      const chunk = new Uint8Array(Math.min(left, 65536));
      for (let j = 0; j < chunk.length; j++) chunk[j] = i++ % 251;
      left -= chunk.length;
      c.enqueue(chunk);
    },
  });
  return new Response(body, { headers: { "content-length": m[1]! } });
}

if (import.meta.main) {
  const [a, b] = linkPair();
  await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
  const http = serve(server.listen({ port: 80 }), handler);
  const fetch = createFetch(client);
  for (const path of ["/", "/bytes/100000"]) {
    const res = await fetch(`http://192.0.2.1${path}`);
    const body = new Uint8Array(await res.arrayBuffer());
    console.log(`${res.status} ${res.statusText} (${body.length} bytes) for ${path}`);
  }
  fetch.close();
  await http.shutdown();
}
