// A NetStack with `addresses: "auto"` on a TAP device configures itself from dnsmasq: dnsmasq
// runs in the peer's namespace on 192.0.2.1 as DHCPv4 server (pool 192.0.2.50-99, 2 min leases,
// so the renewal comes after 1 min) and DNS server (local records only, no upstream, no lease
// file). The stack gets a lease, renews it by unicast, resolves a name through the DNS server the
// lease names and connects by name to a kernel-side TCP server. Skips with one line where the
// machine cannot run interop tests or has no dnsmasq.
import assert from "node:assert/strict";
import type { AutoconfEvent } from "../../src/net/autoconf.ts";
import { resolveDns } from "../../src/net/dns.ts";
import {
  interop,
  interopTool,
  KERNEL_V4,
  KernelPeer,
  reportSkip,
  withTimeout,
} from "./_kernel_peer.ts";

reportSkip("dhcp_test.ts");

const dnsmasq = interopTool("dhcp_test.ts", "dnsmasq", "dnsmasq-base");

function dnsmasqArgs(ifname: string): string[] {
  return [
    "--keep-in-foreground",
    "--log-facility=-",
    "--log-dhcp",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--bind-interfaces",
    `--interface=${ifname}`,
    "--except-interface=lo",
    "--pid-file=",
    "--user=root",
    "--leasefile-ro",
    "--dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,120",
    `--dhcp-option=option:router,${KERNEL_V4}`,
    `--dhcp-option=option:dns-server,${KERNEL_V4}`,
    "--dhcp-option=option:domain-name,example.net",
    "--local=/example.net/",
    "--host-record=peer.example.net,192.0.2.1",
    "--cname=www.example.net,peer.example.net",
  ];
}

// One connection: sends a greeting with the client's address and closes.
const GREETER = String.raw`
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.1", int(sys.argv[1])))
s.listen(1)
c, addr = s.accept()
c.sendall(("hello " + addr[0] + "\n").encode())
c.close()
`;

function nextChange(target: EventTarget, change: string): Promise<AutoconfEvent> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      if ((e as AutoconfEvent).change !== change) return;
      target.removeEventListener("change", on);
      resolve(e as AutoconfEvent);
    };
    target.addEventListener("change", on);
  });
}

Deno.test({
  name: "interop: a stack with addresses auto leases from dnsmasq, renews, and connects by name",
  ...interop,
  ignore: interop.ignore || !dnsmasq,
  fn: async () => {
    await using peer = await KernelPeer.create({ mode: "tap" });
    const server = peer.spawn("dnsmasq", dnsmasqArgs(peer.ifname));
    const stack = peer.stack({ addresses: "auto" });
    const autoconf = stack.autoconf!;
    await withTimeout(stack.configured, 30_000, "DHCP lease");
    const lease = autoconf.lease!;
    const addr = lease.address.address.toString();
    assert.match(addr, /^192\.0\.2\.(5\d|[6-9]\d)$/);
    assert.equal(lease.address.prefixLen, 24);
    assert.deepEqual(lease.routers.map(String), [KERNEL_V4]);
    assert.deepEqual(autoconf.dnsServers.map(String), [KERNEL_V4]);
    assert.equal(lease.domainName, "example.net");
    assert.equal(lease.leaseTime, 120);
    // dnsmasq's shortest lease is 2 min; it sends T1 = 1 min (it keeps T1 at 1 min or more even
    // when told less) and T2 = 7/8 of the lease.
    assert.equal(Math.round(lease.renewAt - lease.acquiredAt), 60_000);
    assert.equal(Math.round(lease.rebindAt - lease.acquiredAt), 105_000);
    // IPv4 only: SLAAC also adds the link-local IPv6 address on this Ethernet device.
    assert.deepEqual(
      stack.iface.routes.addresses.filter((c) => c.address.version === 4).map(String),
      [`${addr}/24`],
    );

    // The kernel reaches the leased address (ARP through the TAP device).
    await peer.must("ping", ["-c", "1", "-W", "5", addr]);

    // Renewal at T1: unicast REQUEST, unicast ACK, same address.
    const renewed = await withTimeout(
      nextChange(autoconf, "leaseRenewed"),
      90_000,
      "lease renewal",
    );
    assert.equal(renewed.lease?.address.address.toString(), addr);
    assert.equal(autoconf.state, "bound");

    // DNS through the server the lease named.
    assert.deepEqual(
      (await resolveDns(stack, "www.example.net", { servers: autoconf.dnsServers, family: 4 }))
        .map(String),
      [KERNEL_V4],
    );

    // connect by name uses the lease's DNS servers.
    const greeter = peer.python(GREETER, ["8087"]);
    await peer.waitListening(8087);
    const conn = await stack.connect({ hostname: "peer.example.net", port: 8087 });
    const buf = new Uint8Array(64);
    let text = "";
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    assert.equal(text, `hello ${addr}\n`);
    await greeter.output;

    assert.equal(autoconf.counters.malformed, 0);
    server.child.kill("SIGTERM");
    const out = await server.output;
    const log = out.stdout + out.stderr;
    assert.match(log, /DHCPDISCOVER/);
    assert.match(log, new RegExp(`DHCPACK\\(${peer.ifname}\\) ${addr.replaceAll(".", "\\.")}`));
  },
});
