// startTls (node:tls over our connections): HTTPS between two stacks with a self-signed
// certificate made by openssl at test time (nothing committed), certificate and name checks.
import assert from "node:assert/strict";
import { linkPair, NetStack } from "../../mod.ts";
import { createFetch, serve, startTls } from "../../src/http/mod.ts";
import { hasOpenssl, selfSigned } from "./_helpers.ts";

Deno.test({
  name: "serve with cert/key and createFetch with caCerts speak HTTPS between two stacks",
  ignore: !hasOpenssl,
  fn: async () => {
    const { cert, key } = await selfSigned("192.0.2.1", "IP:192.0.2.1");
    const [a, b] = linkPair();
    await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
    await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
    const http = serve(server.listen({ port: 443 }), async (req) => {
      if (req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength));
      return new Response(`secure ${req.url}`);
    }, { cert, key });
    const fetch = createFetch(client, { caCerts: [cert] });
    try {
      const res = await fetch("https://192.0.2.1/x");
      assert.equal(await res.text(), "secure https://192.0.2.1/x");
      // Keep-alive over TLS, and 1 MiB up intact.
      const up = await fetch("https://192.0.2.1/", {
        method: "POST",
        body: new Uint8Array(1 << 20),
      });
      assert.equal(await up.text(), String(1 << 20));
      // Without the self-signed root, verification fails.
      const untrusting = createFetch(client);
      await assert.rejects(untrusting("https://192.0.2.1/"), (e: Error & { code?: string }) => {
        return /SELF_SIGNED|self.signed/i.test(`${e.code} ${e.message}`);
      });
      untrusting.close();
    } finally {
      fetch.close();
      await http.shutdown();
    }
  },
});

Deno.test({
  name: "startTls checks the server's name and negotiates ALPN",
  ignore: !hasOpenssl,
  fn: async () => {
    const { cert, key } = await selfSigned("other.test", "DNS:other.test");
    const [a, b] = linkPair();
    await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
    await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], seed: 2 });
    const listener = server.listen({ port: 443 });
    const accepted = (async () => {
      const out: string[] = [];
      for (let i = 0; i < 2; i++) {
        const conn = await listener.accept();
        try {
          const t = await startTls(conn, { cert, key, alpnProtocols: ["h2", "http/1.1"] });
          const buf = new Uint8Array(100);
          const n = await t.read(buf);
          out.push(new TextDecoder().decode(buf.subarray(0, n!)));
          await t.write(new TextEncoder().encode("pong"));
          t.close();
        } catch (e) {
          out.push(`server: ${(e as Error).message}`);
          try {
            conn.close();
          } catch { /* closed */ }
        }
      }
      return out;
    })();
    // Wrong name: the certificate says other.test.
    const c1 = await client.connect({ hostname: "192.0.2.1", port: 443 });
    await assert.rejects(
      startTls(c1, { hostname: "wrong.test", caCerts: [cert] }),
      (e: Error & { code?: string }) => e.code === "ERR_TLS_CERT_ALTNAME_INVALID",
    );
    const c2 = await client.connect({ hostname: "192.0.2.1", port: 443 });
    const t = await startTls(c2, {
      hostname: "other.test",
      caCerts: [cert],
      alpnProtocols: ["http/1.1"],
    });
    assert.equal((t as unknown as { alpnProtocol: string | null }).alpnProtocol, "http/1.1");
    await t.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(100);
    const n = await t.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "pong");
    assert.equal(await t.read(buf), null);
    t.close();
    const seen = await accepted;
    assert.equal(seen[1], "ping");
    listener.close();
  },
});

Deno.test("startTls rejects a certificate without a key", async () => {
  const conn = {
    read: () => Promise.resolve(null),
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close: () => {},
    localAddr: { transport: "tcp", hostname: "192.0.2.1", port: 1 },
    remoteAddr: { transport: "tcp", hostname: "192.0.2.2", port: 2 },
  } as const;
  await assert.rejects(startTls(conn, { cert: "x" }), TypeError);
  assert.throws(
    () => serve((async function* () {})(), () => new Response(), { cert: "x" }),
    TypeError,
  );
});
