/**
 * TCP Fast Open (RFC 7413) between two in-memory stacks: the first connection fetches a cookie,
 * the second sends its request in the SYN, and the server reads it before the handshake
 * completes. Both sides opt in (`fastOpen: true`), as on Linux. Then the server rotates its
 * cookie key (the client's cookie stays valid for one rotation), and the client's cache says
 * what it holds.
 *
 * Run: `deno run examples/fast_open.ts`
 *
 * @module
 */

import { linkPair, NetStack } from "@smol/net";

if (Deno.args.includes("--help")) {
  console.log(
    "Usage: deno run examples/fast_open.ts\n\nTwo requests with TCP Fast Open between two in-memory stacks.",
  );
  Deno.exit(0);
}

const [a, b] = linkPair();
await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });

const listener = server.listen({ port: 80, fastOpen: true });
const served = (async () => {
  for await (const conn of listener) {
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    const state = conn.info.state; // "synReceived" when the request came in the SYN
    await conn.write(new TextEncoder().encode(`got ${n} bytes while ${state}\n`));
    conn.close();
  }
})();

for (const round of [1, 2, 3]) {
  // Before the third connection the server starts issuing cookies under a new key.
  if (round === 3) listener.rotateFastOpenKey(crypto.getRandomValues(new Uint8Array(16)));
  const conn = await client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
  await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
  const buf = new Uint8Array(256);
  const n = await conn.read(buf) ?? 0;
  const i = conn.info;
  console.log(
    `connection ${round}: ${new TextDecoder().decode(buf.subarray(0, n)).trim()}; ` +
      `SYN carried data: ${i.fastOpenSynData === 1}, acknowledged in the SYN-ACK: ${
        i.fastOpenDataAcked === 1
      }`,
  );
  conn.close();
}
const li = listener.info;
console.log(
  `server: ${li.fastOpenCookiesSent} cookie sent, ${li.fastOpenAccepted} SYNs with data taken`,
);
const ci = client.fastOpenCache.info;
console.log(
  `client cache: ${ci.servers} of ${ci.capacity} servers, ${ci.synDataDrops} SYN-data drops, ` +
    `${ci.blackholes} black holes`,
);
listener.close();
await served;
