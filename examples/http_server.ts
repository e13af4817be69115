/**
 * A small HTTP/1.1 server on a smolnet stack, fetched by a client stack in the same process.
 * `/` serves a short page and `/bytes/N` N bytes where byte i is `i % 251`.
 *
 * Run: `deno run examples/http_server.ts`
 *
 * @module
 */

import { linkPair, NetStack, type TcpStream } from "../mod.ts";

if (Deno.args.includes("--help")) {
  console.log(
    "Usage: deno run examples/http_server.ts\n\nServes / and /bytes/N on 192.0.2.1:80 and fetches both.",
  );
  Deno.exit(0);
}

/**
 * Answers requests on one connection until the client closes it (keep-alive).
 *
 * @param conn The connection.
 */
export async function handle(conn: TcpStream): Promise<void> {
  const buf = new Uint8Array(8192);
  let pending = "";
  try {
    while (true) {
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) {
        const n = await conn.read(buf);
        if (n === null) break;
        pending += new TextDecoder().decode(buf.subarray(0, n));
        continue;
      }
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const path = /^GET (\S+) HTTP\/1\.[01]/.exec(head)?.[1];
      const close = /\r\nconnection: close/i.test(head);
      let body: Uint8Array;
      let status = "200 OK";
      const m = path ? /^\/bytes\/(\d{1,9})$/.exec(path) : null;
      if (path === "/") body = new TextEncoder().encode("<h1>smolnet</h1>\n");
      else if (m) body = Uint8Array.from({ length: Number(m[1]) }, (_, i) => i % 251);
      else {
        status = "404 Not Found";
        body = new TextEncoder().encode("not found\n");
      }
      const header = `HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n` +
        `Connection: ${close ? "close" : "keep-alive"}\r\n\r\n`;
      await writeAll(conn, new TextEncoder().encode(header));
      await writeAll(conn, body);
      if (close) break;
    }
  } finally {
    conn.close();
  }
}

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

if (import.meta.main) {
  const [a, b] = linkPair();
  await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
  const listener = server.listen({ port: 80 });
  const handlers: Promise<void>[] = [];
  (async () => {
    for await (const conn of listener) handlers.push(handle(conn));
  })();

  const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
  for (const path of ["/", "/bytes/100000"]) {
    await writeAll(conn, new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    let got = "";
    const buf = new Uint8Array(65536);
    let want = -1;
    let bodyLen = 0;
    while (want < 0 || bodyLen < want) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (want < 0) {
        got += new TextDecoder("latin1").decode(buf.subarray(0, n));
        const end = got.indexOf("\r\n\r\n");
        if (end >= 0) {
          want = Number(/Content-Length: (\d+)/i.exec(got)?.[1] ?? 0);
          bodyLen = got.length - end - 4;
          console.log(got.slice(0, got.indexOf("\r\n")), `(${want} bytes) for ${path}`);
        }
      } else bodyLen += n;
    }
  }
  await conn.closeWrite(); // the handler sees EOF and closes its side
  await Promise.all(handlers);
  conn.close();
  listener.close();
}
