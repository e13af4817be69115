import assert from "node:assert/strict";
import { linkPair, NetStack, type TcpStream } from "../../mod.ts";
import {
  createFetch,
  type FetchFunction,
  type HttpServer,
  serve,
  type ServeHandler,
  type ServeOptions,
} from "../../src/http/mod.ts";

/** A server stack (192.0.2.1, port 80) running `handler`, and a client stack (192.0.2.2). */
export interface HttpPair extends AsyncDisposable {
  server: NetStack;
  client: NetStack;
  http: HttpServer;
  fetch: FetchFunction;
  /** A raw connection to the server, for hand-written requests. */
  raw(): Promise<TcpStream>;
}

export function httpPair(handler: ServeHandler, options: ServeOptions = {}): HttpPair {
  const [a, b] = linkPair({ mtu: 1500 });
  const server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
  const http = serve(server.listen({ port: 80 }), handler, options);
  const fetch = createFetch(client);
  return {
    server,
    client,
    http,
    fetch,
    raw: () => client.connect({ hostname: "192.0.2.1", port: 80 }),
    async [Symbol.asyncDispose]() {
      fetch.close();
      await http.shutdown();
      await client.close();
      await server.close();
    },
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

/** Writes `text` (latin1) or bytes. */
export async function send(conn: TcpStream, data: string | Uint8Array): Promise<void> {
  const b = typeof data === "string" ? enc.encode(data) : data;
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

/** Reads until EOF (or a reset), as latin1. */
export async function readToEnd(conn: TcpStream): Promise<string> {
  const buf = new Uint8Array(65536);
  let out = "";
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += dec.decode(buf.subarray(0, n));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionReset)) throw e;
  }
  return out;
}

/** Reads until `text` holds `count` complete responses with Content-Length bodies. */
export async function readResponses(conn: TcpStream, count: number): Promise<string[]> {
  const buf = new Uint8Array(65536);
  let pending = "";
  const out: string[] = [];
  while (out.length < count) {
    const end = pending.indexOf("\r\n\r\n");
    if (end >= 0) {
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
      if (pending.length >= end + 4 + len) {
        out.push(pending.slice(0, end + 4 + len));
        pending = pending.slice(end + 4 + len);
        continue;
      }
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`EOF after ${out.length} responses: ${pending}`);
    pending += dec.decode(buf.subarray(0, n));
  }
  return out;
}

/** The status code of a raw response. */
export function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? -1);
}

/** A self-signed EC certificate for `san` (e.g. "IP:192.0.2.1"), made with openssl. */
export async function selfSigned(cn: string, san: string): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "smolnet-tls-" });
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
        "-days",
        "1",
        "-subj",
        `/CN=${cn}`,
        "-addext",
        `subjectAltName=${san}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Whether openssl runs here (the TLS tests need it to make certificates). */
export const hasOpenssl: boolean = await new Deno.Command("openssl", {
  args: ["version"],
  stdout: "null",
}).output().then((o) => o.success, () => false);
