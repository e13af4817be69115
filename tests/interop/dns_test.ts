// The stub resolver against dnsmasq, the kernel-side DNS server, over TUN: dnsmasq runs in the
// peer's namespace on 192.0.2.1 and 2001:db8::1 with local records only (no upstream), and a
// NetStack at 192.0.2.2 / 2001:db8::2 resolves through it. Skips with one line where the
// machine cannot run interop tests or has no dnsmasq.
import assert from "node:assert/strict";
import { DnsError, resolveDns } from "../../src/net/dns.ts";
import {
  interop,
  interopTool,
  KERNEL_V4,
  KERNEL_V6,
  KernelPeer,
  reportSkip,
} from "./_kernel_peer.ts";

reportSkip("dns_test.ts");

const dnsmasq = interopTool("dns_test.ts", "dnsmasq", "dnsmasq-base");

const DNSMASQ_ARGS = [
  "--keep-in-foreground",
  "--log-facility=-",
  "--conf-file=/dev/null",
  "--no-resolv",
  "--no-hosts",
  "--bind-interfaces",
  `--listen-address=${KERNEL_V4}`,
  `--listen-address=${KERNEL_V6}`,
  "--port=53",
  "--pid-file=",
  "--user=root",
  "--local=/example.net/",
  "--host-record=host.example.net,192.0.2.10,2001:db8::10",
  "--host-record=v4.example.net,198.51.100.4",
  "--cname=www.example.net,alias.example.net",
  "--cname=alias.example.net,host.example.net",
];

/** Waits until dnsmasq has its UDP socket on port 53 (polls `ss`). */
async function waitUdp53(peer: KernelPeer): Promise<void> {
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    const r = await peer.exec("ss", ["-Hlun", "sport = :53"]);
    if (r.stdout.includes(KERNEL_V4)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("dnsmasq does not listen on UDP port 53 after 5 s");
}

Deno.test({
  name: "interop: resolve asks dnsmasq for A and AAAA over IPv4 and IPv6, CNAME and NXDOMAIN",
  ...interop,
  ignore: interop.ignore || !dnsmasq,
  fn: async () => {
    await using peer = await KernelPeer.create({ ipv6: true });
    const stack = peer.stack({ ipv6: true });
    const server = peer.spawn("dnsmasq", DNSMASQ_ARGS);
    await waitUdp53(peer);
    const str = (a: { toString(): string }[]) => a.map(String);

    assert.deepEqual(
      str(await resolveDns(stack, "host.example.net", { servers: [KERNEL_V4] })),
      ["192.0.2.10", "2001:db8::10"],
    );
    assert.deepEqual(
      str(await resolveDns(stack, "www.example.net", { servers: [KERNEL_V6], family: 6 })),
      ["2001:db8::10"],
    );
    assert.deepEqual(
      str(await resolveDns(stack, "WWW.Example.NET", { servers: [KERNEL_V4], family: 4 })),
      ["192.0.2.10"],
    );
    assert.deepEqual(
      str(await resolveDns(stack, "v4.example.net", { servers: [KERNEL_V4] })),
      ["198.51.100.4"],
    );
    await assert.rejects(
      resolveDns(stack, "nope.example.net", { servers: [KERNEL_V4] }),
      (e: unknown) => e instanceof Deno.errors.NotFound && /NXDOMAIN/.test(e.message),
    );
    // No upstream: dnsmasq refuses names outside its local domain.
    await assert.rejects(
      resolveDns(stack, "example.org", { servers: [KERNEL_V4], family: 4, timeout: 500 }),
      (e: unknown) => e instanceof DnsError && e.rcode === 5 && /REFUSED/.test(e.message),
    );
    assert.equal(stack.iface.counters.malformed, 0);
    server.child.kill("SIGTERM");
    const out = await server.output;
    assert.match(out.stdout + out.stderr, /started, version/);
  },
});
