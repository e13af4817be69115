/**
 * smolnet in one process: two stacks over an in-memory link. One serves HTTP/1.1, the other
 * connects, asks for a few MiB, checks them, and the demo prints the handshake as a ladder of
 * segments plus the throughput and the sockets' TCP statistics.
 *
 * Run: `deno task demo` (or `deno run examples/demo.ts --mib 8`).
 *
 * @module
 */

import { linkPair, NetStack, prettyPrint, Tracer } from "@smol/net";
import type { TcpStream } from "@smol/net";

const args = parseArgs(Deno.args);
if (args.help) {
  console.log(`Usage: deno run examples/demo.ts [--mib N] [--mtu BYTES] [--ladder N]

Two smolnet stacks in one process over an in-memory link (MTU 1500 by default). The server on
192.0.2.1:80 answers GET /bytes/N with N bytes (byte i is i % 251); the client on 192.0.2.2
fetches --mib MiB (default 4) over HTTP/1.1, checks every byte and prints what happened.

  --mib N      MiB to transfer (default 4)
  --mtu BYTES  link MTU (default 1500)
  --ladder N   segments of the ladder to print (default 12)`);
  Deno.exit(0);
}

const ladder: string[] = [];
const t0 = performance.now();
const [left, right] = linkPair({ mtu: args.mtu });
// Trace the client's side of the link: tx goes right (to the server), rx comes back left.
const traced = new Tracer(right, (e) => {
  if (ladder.length >= args.ladder) return;
  const line = prettyPrint(e.frame, e.medium).replace(/^IP6? /, "");
  const ms = (performance.now() - t0).toFixed(3).padStart(8);
  ladder.push(
    e.direction === "tx" ? `${ms} ms  client ──▶ ${line}` : `${ms} ms  client ◀── ${line}`,
  );
});

await using server = new NetStack({ device: left, addresses: ["192.0.2.1/24"] });
await using client = new NetStack({ device: traced, addresses: ["192.0.2.2/24"] });

const listener = server.listen({ port: 80 });
const served = serve(listener.accept());

const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
const size = Math.round(args.mib * 1024 * 1024);
const request = `GET /bytes/${size} HTTP/1.1\r\nHost: 192.0.2.1\r\nConnection: close\r\n\r\n`;
const tStart = performance.now();
await writeAll(conn, new TextEncoder().encode(request));
const { status, body } = await readResponse(conn);
const seconds = (performance.now() - tStart) / 1000;
let bad = 0;
for (let i = 0; i < body.length; i++) if (body[i] !== i % 251) bad++;
const info = conn.socket.info;
await conn.closeWrite();
await served;
conn.close();
listener.close();

console.log("Handshake and first segments, as the client's device saw them:");
for (const l of ladder) console.log(l);
console.log();
console.log(`HTTP status:  ${status}`);
console.log(
  `Body:         ${body.length} bytes, ${bad === 0 ? "every byte correct" : `${bad} WRONG bytes`}`,
);
console.log(
  `Throughput:   ${(body.length / seconds / 1e6).toFixed(1)} MB/s over MTU ${args.mtu} (${
    seconds.toFixed(3)
  } s)`,
);
console.log(
  `Client TCP:   srtt ${
    info.srtt?.toFixed(2) ?? "-"
  } ms, rto ${info.rto} ms, cwnd ${info.cwnd} B, ` +
    `segments in/out ${info.segmentsIn}/${info.segmentsOut}, retransmits ${info.retransmits}`,
);
if (status !== 200 || bad !== 0 || body.length !== size) Deno.exit(1);

async function serve(pending: Promise<TcpStream>): Promise<void> {
  const conn = await pending;
  const head = await readHead(conn);
  const m = /^GET \/bytes\/(\d+) HTTP\/1\.1\r\n/.exec(head);
  const n = m ? Number(m[1]) : 0;
  await writeAll(
    conn,
    new TextEncoder().encode(
      `HTTP/1.1 ${
        m ? "200 OK" : "404 Not Found"
      }\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const chunk = new Uint8Array(251 * 256);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  let sent = 0;
  while (sent < n) {
    const len = Math.min(chunk.length, n - sent);
    await writeAll(conn, chunk.subarray(0, len));
    sent += len;
  }
  await conn.closeWrite();
  const buf = new Uint8Array(1024);
  while ((await conn.read(buf)) !== null) { /* drain until the client's FIN */ }
  conn.close();
}

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function readHead(conn: TcpStream): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

async function readResponse(conn: TcpStream): Promise<{ status: number; body: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  let end = 0;
  for (let i = 3; i < all.length; i++) {
    if (all[i - 3] === 13 && all[i - 2] === 10 && all[i - 1] === 13 && all[i] === 10) {
      end = i + 1;
      break;
    }
  }
  const head = new TextDecoder().decode(all.subarray(0, end));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, body: all.subarray(end) };
}

function parseArgs(argv: string[]): { mib: number; mtu: number; ladder: number; help: boolean } {
  const out = { mib: 4, mtu: 1500, ladder: 12, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) {
        console.error(`Invalid value for ${a}: "${argv[i]}"`);
        Deno.exit(2);
      }
      return v;
    };
    if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--mib") out.mib = num();
    else if (a === "--mtu") out.mtu = num();
    else if (a === "--ladder") out.ladder = num();
    else {
      console.error(`Unknown argument "${a}"; see --help`);
      Deno.exit(2);
    }
  }
  return out;
}
