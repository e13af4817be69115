// HTTPS between smolnet and the Linux kernel's TLS peers through a TUN device in a namespace the
// test creates (TEST-NET addresses only): createFetch against `openssl s_server -www`, and curl
// against serve({ cert, key }). Certificates are made by openssl at test time.
import assert from "node:assert/strict";
import { createFetch, serve } from "../../src/http/mod.ts";
import { interop, KernelPeer, reportSkip, withTimeout } from "../interop/_kernel_peer.ts";
import { hasOpenssl, selfSigned } from "./_helpers.ts";

reportSkip("tls_kernel_test.ts");

Deno.test({
  name: "interop: createFetch gets https: from openssl s_server and curl gets https: from serve",
  ...interop,
  ignore: interop.ignore || !hasOpenssl,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "smolnet-tls-" });
    try {
      await using peer = await KernelPeer.create({ mode: "tun" });
      const stack = peer.stack();
      // The kernel side serves TLS with a certificate for 192.0.2.1.
      const kernelCert = await selfSigned("192.0.2.1", "IP:192.0.2.1");
      await Deno.writeTextFile(`${dir}/k_cert.pem`, kernelCert.cert);
      await Deno.writeTextFile(`${dir}/k_key.pem`, kernelCert.key);
      peer.spawn("openssl", [
        "s_server",
        "-accept",
        "192.0.2.1:4433",
        "-cert",
        `${dir}/k_cert.pem`,
        "-key",
        `${dir}/k_key.pem`,
        "-www",
        "-quiet",
      ]);
      await peer.waitListening(4433);
      const fetch = createFetch(stack, { caCerts: [kernelCert.cert] });
      try {
        const res = await withTimeout(fetch("https://192.0.2.1:4433/"), 20_000, "fetch");
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.match(text, /Ciphers supported in s_server binary/);
        assert.match(text, /TLSv1\.3/);
        const untrusting = createFetch(stack);
        await assert.rejects(untrusting("https://192.0.2.1:4433/"));
        untrusting.close();
      } finally {
        fetch.close();
      }

      // Our serve() with a certificate for 192.0.2.2, fetched by the kernel's curl.
      const ours = await selfSigned("192.0.2.2", "IP:192.0.2.2");
      await Deno.writeTextFile(`${dir}/o_cert.pem`, ours.cert);
      const http = serve(
        stack.listen({ port: 8443 }),
        (req) => new Response(`hello ${req.url} ${"x".repeat(100_000)}`),
        { cert: ours.cert, key: ours.key },
      );
      try {
        const r = await peer.exec("curl", [
          "-sS",
          "--max-time",
          "20",
          "--cacert",
          `${dir}/o_cert.pem`,
          "https://192.0.2.2:8443/a",
          "https://192.0.2.2:8443/b",
          "-w",
          "\n%{http_code} %{num_connects} %{ssl_verify_result}\n",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(`hello https://192.0.2.2:8443/a ${"x".repeat(100_000)}`));
        assert.ok(r.stdout.includes(`hello https://192.0.2.2:8443/b`));
        // Two answers on one verified keep-alive connection.
        assert.match(r.stdout, /\n200 1 0\n[\s\S]*\n200 0 0\n$/);
      } finally {
        await http.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
