// A NetStack with `addresses: "auto"` on a TAP device configures IPv6 from dnsmasq's router
// advertisements: dnsmasq runs in the peer's namespace (2001:db8::1/64 and 192.0.2.1/24 on the
// kernel side) with `--enable-ra` and an `ra-only` range for 2001:db8::/64 (A flag, no DHCPv6),
// a router lifetime set by `--ra-param`, and answers DNS for local records only (the first test
// also serves DHCPv4: one stack takes both). The stack solicits, forms an RFC 7217 address after
// DAD, takes dnsmasq as DNS server from the RDNSS option, resolves a AAAA name over IPv6 and
// connects over IPv6 to a kernel-side server. A second
// test gives the kernel side the address the stack will form: DAD finds it, the duplicate is
// reported and a new address is formed; the RA's DNSSL option gives the search domain for a
// single-label name. Skips where the machine cannot run interop tests or has
// no dnsmasq.
import assert from "node:assert/strict";
import { Slaac } from "../../src/iface/slaac.ts";
import type { AutoconfEvent } from "../../src/net/autoconf.ts";
import { resolveDns } from "../../src/net/dns.ts";
import { Rng } from "../../src/rand.ts";
import { type Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import {
  interop,
  interopTool,
  KERNEL_V6,
  KernelPeer,
  reportSkip,
  STACK_MAC,
  withTimeout,
} from "./_kernel_peer.ts";

reportSkip("slaac_test.ts");

const dnsmasq = interopTool("slaac_test.ts", "dnsmasq", "dnsmasq-base");
const SECRET = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function dnsmasqArgs(ifname: string, dhcp4 = false): string[] {
  return [
    "--keep-in-foreground",
    "--log-facility=-",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--bind-interfaces",
    `--interface=${ifname}`,
    "--except-interface=lo",
    "--pid-file=",
    "--user=root",
    "--leasefile-ro",
    "--enable-ra",
    "--dhcp-range=2001:db8::,ra-only,64,10m",
    // RA interval 10 s, router lifetime 600 s (dnsmasq sends 0 without a default route).
    `--ra-param=${ifname},10,600`,
    "--local=/example.net/",
    "--domain=example.net",
    // dnsmasq puts the DHCPv6 domain-search option in its RAs as DNSSL.
    "--dhcp-option=option6:domain-search,example.net",
    `--host-record=peer6.example.net,${KERNEL_V6}`,
    ...(dhcp4 ? ["--dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,120"] : []),
  ];
}

// One connection over IPv6: sends a greeting with the client's address and closes.
const GREETER6 = String.raw`
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("2001:db8::1", int(sys.argv[1])))
s.listen(1)
c, addr = s.accept()
c.sendall(("hello " + addr[0] + "\n").encode())
c.close()
`;

function nextChange(
  target: EventTarget,
  change: string,
  pred: (e: AutoconfEvent) => boolean = () => true,
): Promise<AutoconfEvent> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      const ev = e as AutoconfEvent;
      if (ev.change !== change || !pred(ev)) return;
      target.removeEventListener("change", on);
      resolve(ev);
    };
    target.addEventListener("change", on);
  });
}

const isGlobal = (e: AutoconfEvent) =>
  e.address !== null && e.address.address.version === 6 &&
  !(e.address.address as Ipv6Address).isLinkLocal;

/** The address SLAAC forms first from 2001:db8::/64 for the stack's MAC and SECRET. */
function firstAddress(): string {
  const s = new Slaac({ hardwareAddress: EthernetAddress.parse(STACK_MAC), secretKey: SECRET });
  const cx = { now: 0, random: new Rng(1) };
  s.processRouterAdvert(cx, parseIpAddress("fe80::1") as Ipv6Address, 255, {
    kind: "routerAdvert",
    hopLimit: 64,
    managed: false,
    other: false,
    routerLifetime: 0,
    reachableTime: 0,
    retransTime: 0,
    sourceLinkAddr: null,
    mtu: null,
    prefixes: [{
      prefixLen: 64,
      onLink: true,
      autonomous: true,
      validLifetime: 600,
      preferredLifetime: 600,
      prefix: parseIpAddress("2001:db8::") as Ipv6Address,
    }],
  });
  const e = s.takeEvent();
  assert.ok(e?.type === "address");
  return e.address.toString();
}

Deno.test({
  name:
    "interop: a stack with addresses auto takes a DHCPv4 lease and a SLAAC address from dnsmasq and connects over IPv6 by name",
  ...interop,
  ignore: interop.ignore || !dnsmasq,
  fn: async () => {
    await using peer = await KernelPeer.create({ mode: "tap", ipv6: true });
    const server = peer.spawn("dnsmasq", dnsmasqArgs(peer.ifname, true));
    const stack = peer.stack({ addresses: "auto", autoconf: { secretKey: SECRET } });
    const autoconf = stack.autoconf!;
    const added = nextChange(autoconf, "addressAdded", isGlobal);
    const leased = nextChange(autoconf, "addressAdded", (e) => e.address?.address.version === 4);
    const ev = await withTimeout(added, 30_000, "SLAAC address");
    const addr = ev.address!.address.toString();
    assert.equal(addr, firstAddress(), "the RFC 7217 address for this MAC, key and prefix");
    assert.equal(ev.address!.prefixLen, 64);
    assert.ok(stack.iface.routes.hasAddress(ev.address!.address));
    assert.equal(
      autoconf.ipv6Addresses.find((a) => a.address.address.toString() === addr)?.state,
      "preferred",
    );
    await withTimeout(stack.configured, 5_000, "configured");
    // The same dnsmasq leases an IPv4 address: both families configured on one stack.
    const lease = await withTimeout(leased, 30_000, "DHCPv4 lease");
    assert.match(lease.address!.address.toString(), /^192\.0\.2\.(5\d|[6-9]\d)$/);
    assert.equal(autoconf.state, "bound");
    // The default route via dnsmasq's link-local address.
    const v6default = stack.iface.routes.routes.filter((r) => r.cidr.toString() === "::/0");
    assert.equal(v6default.length, 1);
    assert.ok((v6default[0]!.via as Ipv6Address).isLinkLocal);
    assert.equal(autoconf.ipv6Counters!.badHopLimit + autoconf.ipv6Counters!.offLinkSource, 0);

    // The kernel reaches the SLAAC address (its NS reaches our solicited-node group).
    await peer.must("ping", ["-6", "-c", "1", "-W", "5", addr]);

    // RDNSS: dnsmasq names itself; a AAAA name resolves over IPv6 through it.
    const dns6 = autoconf.dnsServers.filter((s) => s.version === 6);
    assert.ok(dns6.length >= 1, `RDNSS servers: ${autoconf.dnsServers.join(", ")}`);
    assert.deepEqual(
      (await resolveDns(stack, "peer6.example.net", { servers: dns6, family: 6 })).map(String),
      [KERNEL_V6],
    );

    // connect by name over IPv6 to a kernel-side server.
    const greeter = peer.python(GREETER6, ["8089"]);
    await peer.waitListening(8089);
    const conn = await stack.connect({ hostname: "peer6.example.net", port: 8089 });
    const buf = new Uint8Array(128);
    let text = "";
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    assert.equal(text, `hello ${addr}\n`);
    await greeter.output;
    server.child.kill("SIGTERM");
    await server.output;
  },
});

Deno.test({
  name:
    "interop: the address the stack would form is on the kernel side: DAD reports a duplicate, a new address is formed",
  ...interop,
  ignore: interop.ignore || !dnsmasq,
  fn: async () => {
    await using peer = await KernelPeer.create({ mode: "tap", ipv6: true });
    const taken = firstAddress();
    await peer.must("ip", ["addr", "add", `${taken}/64`, "dev", peer.ifname, "nodad"]);
    const server = peer.spawn("dnsmasq", dnsmasqArgs(peer.ifname));
    const stack = peer.stack({ addresses: "auto", autoconf: { secretKey: SECRET } });
    const autoconf = stack.autoconf!;
    const duplicate = nextChange(autoconf, "addressDuplicate", isGlobal);
    const added = nextChange(autoconf, "addressAdded", isGlobal);
    const dup = await withTimeout(duplicate, 30_000, "duplicate address");
    assert.equal(dup.address!.address.toString(), taken);
    const ev = await withTimeout(added, 10_000, "second SLAAC address");
    const addr = ev.address!.address.toString();
    assert.notEqual(addr, taken);
    assert.match(addr, /^2001:db8::/);
    assert.ok(!stack.iface.routes.hasAddress(dup.address!.address));
    assert.ok(stack.iface.routes.hasAddress(ev.address!.address));
    await peer.must("ping", ["-6", "-c", "1", "-W", "5", addr]);
    // No DHCPv4 here: the search domain came in the RA's DNSSL option (RFC 8106 §5.2).
    assert.equal(autoconf.lease, null);
    assert.deepEqual(autoconf.searchDomains, ["example.net"]);
    // So a single-label name is found in it, over IPv6 through the RDNSS server.
    const greeter = peer.python(GREETER6, ["8090"]);
    await peer.waitListening(8090);
    const conn = await stack.connect({ hostname: "peer6", port: 8090 });
    const buf = new Uint8Array(128);
    let text = "";
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    assert.equal(text, `hello ${addr}\n`);
    await greeter.output;
    server.child.kill("SIGTERM");
    await server.output;
  },
});
