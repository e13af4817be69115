/**
 * A TCP echo server on smolnet, with a client in the same process: the server code is exactly
 * what you would write for `Deno.listen`.
 *
 * Run: `deno run examples/echo_server.ts`
 *
 * @module
 */

import { linkPair, NetStack } from "@smol/net";

if (Deno.args.includes("--help")) {
  console.log(
    "Usage: deno run examples/echo_server.ts\n\nEchoes three messages between two in-memory stacks.",
  );
  Deno.exit(0);
}

const [a, b] = linkPair();
await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24", "2001:db8::1/64"] });
await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24", "2001:db8::2/64"] });

// Like Deno.listen, 0.0.0.0 is every IPv4 address and :: every IPv6 address.
const listeners = [server.listen({ port: 7 }), server.listen({ port: 7, hostname: "::" })];
const echoes: Promise<void>[] = [];
for (const listener of listeners) {
  (async () => {
    for await (const conn of listener) {
      // The same code works on a Deno.TcpConn: pipe the connection back to itself.
      echoes.push(conn.readable.pipeTo(conn.writable).finally(() => conn.close()));
    }
  })();
}

for (const hostname of ["192.0.2.1", "2001:db8::1"]) {
  const conn = await client.connect({ hostname, port: 7 });
  for (const msg of ["hello", "smol", "net"]) {
    await conn.write(new TextEncoder().encode(msg));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    console.log(`${hostname} echoed: ${new TextDecoder().decode(buf.subarray(0, n ?? 0))}`);
  }
  await conn.closeWrite();
  // The echo ends with the server's FIN once it has seen ours.
  const buf = new Uint8Array(1);
  while ((await conn.read(buf)) !== null) { /* drain */ }
  conn.close();
}
await Promise.all(echoes);
for (const listener of listeners) listener.close();
