// DNS over TCP against dnsmasq (RFC 7766): a name with 40 A records does not fit a 512-byte UDP
// answer, so dnsmasq sets TC and the resolver asks again over the stack's own TCP. dnsmasq runs
// in the peer's namespace on 192.0.2.1 with local records only (no upstream); its hosts file is
// written to a temporary file removed afterwards. Skips with one line where the machine cannot
// run interop tests or has no dnsmasq.
import assert from "node:assert/strict";
import { resolveDns } from "../../src/net/dns.ts";
import { dnsCounters } from "../../src/net/dns_cache.ts";
import { interop, interopTool, KERNEL_V4, KernelPeer, reportSkip } from "./_kernel_peer.ts";

reportSkip("dns_tcp_test.ts");

const dnsmasq = interopTool("dns_tcp_test.ts", "dnsmasq", "dnsmasq-base");

const MANY = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);

Deno.test({
  name: "interop: a truncated dnsmasq answer is asked again over TCP and gives every address",
  ...interop,
  ignore: interop.ignore || !dnsmasq,
  fn: async () => {
    const hostsFile = await Deno.makeTempFile({ prefix: "smolnet_dns_tcp_", suffix: ".hosts" });
    try {
      await Deno.writeTextFile(hostsFile, MANY.map((a) => `${a} many.example.net\n`).join(""));
      await using peer = await KernelPeer.create();
      const stack = peer.stack();
      const server = peer.spawn("dnsmasq", [
        "--keep-in-foreground",
        "--log-facility=-",
        "--log-queries",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        `--addn-hosts=${hostsFile}`,
        "--bind-interfaces",
        `--listen-address=${KERNEL_V4}`,
        "--pid-file=",
        "--user=root",
        "--local=/example.net/",
      ]);
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const r = await peer.exec("ss", ["-Hltn", "sport = :53"]);
        if (r.stdout.includes(KERNEL_V4)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const counters = dnsCounters();
      const addrs = await resolveDns(stack, "many.example.net", {
        servers: [KERNEL_V4],
        family: 4,
        counters,
      });
      assert.deepEqual(addrs.map(String).sort(), [...MANY].sort());
      assert.equal(counters.tcpRetries, 1);
      assert.equal(counters.malformed + counters.mismatchedId, 0);
      server.child.kill("SIGTERM");
      const out = await server.output;
      // Two queries for the same name: the UDP one and the TCP one.
      const queries = (out.stdout + out.stderr).match(/query\[A\] many\.example\.net/g) ?? [];
      assert.equal(queries.length, 2);
    } finally {
      await Deno.remove(hostsFile);
    }
  },
});
