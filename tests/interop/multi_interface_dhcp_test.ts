// DHCPv4 on two interfaces of one NetStack against dnsmasq: _multi_iface_dhcp_host.ts runs the
// stack on two TAP devices in a host namespace (H) the test creates, both interfaces with
// `addresses: "auto"`; the kernel ends move into namespace A (192.0.2.1/24, dnsmasq leasing
// 192.0.2.50-59) and namespace B (198.51.100.1/24, dnsmasq leasing 198.51.100.50-59, also
// 203.0.113.9 so that a connection there shows which default route was taken). Each interface
// must get a lease from its own link's server, each dnsmasq must see the DISCOVERs of one client
// only (a DISCOVER from 0.0.0.0 leaves on its own interface), both servers must be reachable from
// the leased addresses, and 203.0.113.9 must be reached through interface 1 (metric 5 beats 10).
// Skips with one line where the machine cannot run interop tests or has no dnsmasq.
import assert from "node:assert/strict";
import { linkName, must } from "../phy/_netns.ts";
import { canRun, interop, interopTool, reportSkip } from "./_kernel_peer.ts";
import { Scene, shIn, until } from "./_fixtures.ts";

reportSkip("multi_interface_dhcp_test.ts");
const dnsmasq = interopTool("multi_interface_dhcp_test.ts", "dnsmasq", "dnsmasq-base");
const here = new URL(".", import.meta.url).pathname;

function dnsmasqArgs(ifname: string, net: string): string[] {
  return [
    "--keep-in-foreground",
    "--log-facility=-",
    "--log-dhcp",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--port=0",
    "--bind-interfaces",
    `--interface=${ifname}`,
    "--except-interface=lo",
    "--pid-file=",
    "--user=root",
    "--leasefile-ro",
    `--dhcp-range=${net}.50,${net}.59,255.255.255.0,600`,
    `--dhcp-option=option:router,${net}.1`,
  ];
}

Deno.test({
  name: "NetStack with two TAP interfaces takes a DHCP lease on each from its own link's server",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited by the scene
  sanitizeOps: false,
  ignore: !canRun || !dnsmasq,
  fn: async () => {
    await using scene = await Scene.create("smolnet-mid-");
    const [h, na, nb] = await scene.netns("h", "a", "b");
    const ta = linkName("da"), tb = linkName("db");
    await must("ip", ["-n", h, "tuntap", "add", "dev", ta, "mode", "tap"]);
    await must("ip", ["-n", h, "tuntap", "add", "dev", tb, "mode", "tap"]);
    const host = scene.spawnIn(h, Deno.execPath(), [
      "run",
      "--allow-ffi",
      "--allow-read",
      `${here}_multi_iface_dhcp_host.ts`,
      ta,
      tb,
    ]);
    await until("the stack to start", () => Promise.resolve(host.text().includes("ready")));
    await must("ip", ["-n", h, "link", "set", ta, "netns", na]);
    await must("ip", ["-n", h, "link", "set", tb, "netns", nb]);
    await shIn(na, `ip addr add 192.0.2.1/24 dev ${ta}; ip link set ${ta} up`);
    await shIn(
      nb,
      `ip addr add 198.51.100.1/24 dev ${tb}; ip addr add 203.0.113.9/32 dev lo
       ip link set ${tb} up`,
    );
    const srvA = scene.spawnIn(na, "dnsmasq", dnsmasqArgs(ta, "192.0.2"));
    const srvB = scene.spawnIn(nb, "dnsmasq", dnsmasqArgs(tb, "198.51.100"));
    await until("the leases and connections", () => Promise.resolve(host.text().includes("done")));
    const lines = host.text().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l)
    );
    const { leases, servers } = lines.find((l) => l.leases);
    assert.match(leases[0], /^192\.0\.2\.5\d\/24$/, host.text());
    assert.match(leases[1], /^198\.51\.100\.5\d\/24$/, host.text());
    assert.deepEqual(servers, ["192.0.2.1", "198.51.100.1"]);
    const results = new Map(lines.filter((l) => l.to).map((l) => [l.to, l.result]));
    assert.equal(results.get("192.0.2.1"), "ConnectionRefused", host.text());
    assert.equal(results.get("198.51.100.1"), "ConnectionRefused", host.text());
    assert.equal(results.get("203.0.113.9"), "ConnectionRefused", host.text());
    srvA.child.kill("SIGTERM");
    srvB.child.kill("SIGTERM");
    const logA = (await srvA.out).stdout + (await srvA.out).stderr;
    const logB = (await srvB.out).stdout + (await srvB.out).stderr;
    // One client per link: every DISCOVER a server saw came from one hardware address, and the
    // two links saw different ones.
    const macs = (log: string) =>
      new Set([...log.matchAll(/DHCPDISCOVER\([^)]*\) ([0-9a-f:]{17})/g)].map((m) => m[1]));
    const [ma, mb] = [macs(logA), macs(logB)];
    assert.equal(ma.size, 1, logA);
    assert.equal(mb.size, 1, logB);
    assert.notDeepEqual([...ma], [...mb]);
    assert.match(
      logA,
      new RegExp(`DHCPACK\\(${ta}\\) ${leases[0].split("/")[0].replaceAll(".", "\\.")}`),
    );
    assert.match(
      logB,
      new RegExp(`DHCPACK\\(${tb}\\) ${leases[1].split("/")[0].replaceAll(".", "\\.")}`),
    );
    host.child.kill("SIGTERM");
    await host.out;
  },
});
