/**
 * One stack, two interfaces: a host with an interface on each of two links (192.0.2.0/24 and
 * 198.51.100.0/24, the second with a smaller MTU and the cheaper default route), and a peer on
 * each link, all in one process over in-memory links. The example shows what the route table
 * and RFC 6724 source selection decide:
 *
 * - a connection to each link leaves on that link's interface, from that interface's address,
 *   with an MSS for that interface's MTU;
 * - a connection to an address on neither link takes the default route with the lower metric;
 * - one wildcard listener on the host accepts from both peers, each connection on the address
 *   it was reached at;
 * - a listener bound to one interface's address is not reachable through the other (strong host);
 * - a third interface in accept-any mode (link C) feeds the stack's transparent listener: a
 *   connection to any address that enters it is accepted with that address as `localAddr`,
 *   and `interfaceOf` names the interface it came in on;
 * - link A and link C both carry fe80::1 (host) and fe80::2 (peer): only a zone (`fe80::2%2`)
 *   says which peer is meant, and a link-local connect without one is a `TypeError` (`EINVAL`);
 * - a fourth interface (link D) takes its address by DHCP, from that link's server alone;
 * - once link B's interface is removed, its connection fails with `ConnectionAborted` and the
 *   far address is reached through link A's default route instead.
 *
 * Run: `deno run examples/multi_interface.ts` (it prints one line per check and exits 0 when all
 * hold; tests/net/_stack_ifaces_test.ts runs it).
 *
 * @module
 */

import { linkPair, NetStack, type UdpSocket } from "@smol/net";
import {
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4Packet,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  Ipv4Address,
  parseDhcpv4,
} from "@smol/net/wire";

// Link A: MTU 1500, default gateway 192.0.2.254 at metric 100.
// Link B: MTU 1280, default gateway 198.51.100.254 at metric 10 (preferred).
const [a0, a1] = linkPair({ mtu: 1500 });
const [b0, b1] = linkPair({ mtu: 1280 });
await using host = new NetStack({
  device: a0,
  addresses: ["192.0.2.1/24", "fe80::1/64"],
  gateways: ["192.0.2.254"],
  metric: 100,
});
host.addInterface({
  device: b0,
  addresses: ["198.51.100.1/24"],
  gateways: ["198.51.100.254"],
  metric: 10,
});
// The peers; each gateway terminates every connection it is handed (accept-any), so the one that
// answers a connection to 203.0.113.7 shows which default route was taken.
await using peerA = new NetStack({
  device: a1,
  addresses: ["192.0.2.2/24", "192.0.2.254/24", "fe80::2/64"],
  acceptAny: { allowDocumentation: true },
});
await using peerB = new NetStack({
  device: b1,
  addresses: ["198.51.100.2/24", "198.51.100.254/24"],
  acceptAny: { allowDocumentation: true },
  iface: { routes: [{ cidr: "192.0.2.0/24", via: null }] }, // for check 4
});

let failed = 0;
function check(what: string, ok: boolean, detail: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}: ${detail}`);
  if (!ok) failed++;
}

// 1. One connection to each link.
{
  using la = peerA.listen({ port: 80, hostname: "192.0.2.2" });
  using lb = peerB.listen({ port: 80, hostname: "198.51.100.2" });
  using toA = await host.connect({ hostname: "192.0.2.2", port: 80 });
  using toB = await host.connect({ hostname: "198.51.100.2", port: 80 });
  using pa = await la.accept();
  using pb = await lb.accept();
  check(
    "to link A",
    toA.localAddr.hostname === "192.0.2.1" && pa.info.mss > 1400 && pa.info.mss <= 1460,
    `from ${toA.localAddr.hostname}; the peer sends ${pa.info.mss}-byte segments (MTU 1500)`,
  );
  check(
    "to link B",
    toB.localAddr.hostname === "198.51.100.1" && pb.info.mss > 1180 && pb.info.mss <= 1240,
    `from ${toB.localAddr.hostname}; the peer sends ${pb.info.mss}-byte segments (MTU 1280)`,
  );
}

// 2. Off both links: the default route with the lower metric (link B).
{
  using ta = peerA.listen({ transparent: true });
  using tb = peerB.listen({ transparent: true });
  using far = await host.connect({ hostname: "203.0.113.7", port: 443 });
  const [gateway, peer] = await Promise.race([
    ta.accept().then((c) => ["A", c] as const),
    tb.accept().then((c) => ["B", c] as const),
  ]);
  check(
    "to 203.0.113.7",
    gateway === "B" && far.localAddr.hostname === "198.51.100.1" &&
      peer.localAddr.hostname === "203.0.113.7",
    `taken by link ${gateway}'s gateway (metric 10 beats 100), from ${far.localAddr.hostname}`,
  );
  peer.close();
}

// 3. One wildcard listener, both links.
{
  using server = host.listen({ port: 8080 });
  using ca = await peerA.connect({ hostname: "192.0.2.1", port: 8080 });
  using sa = await server.accept();
  using cb = await peerB.connect({ hostname: "198.51.100.1", port: 8080 });
  using sb = await server.accept();
  check(
    "wildcard listener",
    sa.localAddr.hostname === "192.0.2.1" && sb.localAddr.hostname === "198.51.100.1",
    `accepted ${sa.remoteAddr.hostname} on ${sa.localAddr.hostname}` +
      ` and ${sb.remoteAddr.hostname} on ${sb.localAddr.hostname}`,
  );
  void ca, cb;
}

// 4. Strong host: link B's peer, told that 192.0.2.0/24 is on its link, cannot reach the host's
// link A address through link B.
{
  using onA = host.listen({ port: 9090, hostname: "192.0.2.1" });
  const before = host.interfaceCounters(1).notForUs;
  const reached = await peerB.ping({ hostname: "192.0.2.1", timeout: 300 }).then(
    () => true,
    () => false,
  );
  check(
    "strong host",
    !reached && host.interfaceCounters(1).notForUs > before,
    `192.0.2.1 does not answer through link B (frames for it dropped there as not for us: ${
      host.interfaceCounters(1).notForUs - before
    })`,
  );
  void onA;
}

// 5. Accept-any on a third interface (link C, IPv6): the stack's transparent listener takes what
// enters it, whatever the destination.
const [c0, c1] = linkPair();
const linkC = host.addInterface({
  device: c0,
  addresses: ["2001:db8:3::1/64", "fe80::1/64"],
  acceptAny: { allowDocumentation: true },
});
await using peerC = new NetStack({
  device: c1,
  addresses: ["2001:db8:3::2/64", "fe80::2/64"],
  gateways: ["2001:db8:3::1"],
});
{
  using any = host.listen({ transparent: true });
  using conn = await peerC.connect({ hostname: "2001:db8:99::80", port: 443 });
  using peer = await any.accept();
  await conn.write(new TextEncoder().encode("hi"));
  const got = await peer.read(new Uint8Array(8));
  check(
    "accept-any on interface 2",
    peer.localAddr.hostname === "2001:db8:99::80" && host.interfaceOf(peer) === linkC &&
      got === 2 && host.acceptAnyCounters(linkC)?.flowsOpened === 1,
    `accepted ${peer.remoteAddr.hostname} -> [${peer.localAddr.hostname}]:${peer.localAddr.port}` +
      ` on interface ${host.interfaceOf(peer)}`,
  );
}

// 6. Zones: fe80::2 is on link A and on link C.
{
  using onA = peerA.listen({ port: 22, hostname: "::" });
  using onC = peerC.listen({ port: 22, hostname: "::" });
  const bare = await host.connect({ hostname: "fe80::2", port: 22 }).then(
    () => null,
    (e: Error) => e,
  );
  const code = (bare as { code?: string } | null)?.code;
  using zoned = await host.connect({ hostname: `fe80::2%${linkC}`, port: 22 });
  using taken = await onC.accept();
  check(
    "zones",
    bare instanceof TypeError && code === "EINVAL" &&
      zoned.localAddr.hostname === "fe80::1" && host.interfaceOf(zoned) === linkC &&
      taken.remoteAddr.hostname === "fe80::1",
    `fe80::2 alone: ${bare?.name} (${code}); fe80::2%${linkC} reached link C's peer`,
  );
  void onA;
}

// 7. DHCP on a fourth interface (link D): a minimal server there hands out 203.0.113.130/25.
const [d0, d1] = linkPair();
await using dhcpServer = new NetStack({ device: d1, addresses: ["203.0.113.129/25"] });
const port67 = dhcpServer.listenDatagram({ port: 67 });
const serving = serveDhcp(port67, "203.0.113.129", "203.0.113.130");
const linkD = host.addInterface({ device: d0, addresses: "auto", metric: 1000 });
{
  const auto = host.interfaceAutoconf(linkD)!;
  await auto.configured;
  check(
    "DHCP on interface 3",
    auto.lease?.address.toString() === "203.0.113.130/25" && host.autoconf === null,
    `leased ${auto.lease?.address} from ${auto.lease?.serverIdentifier}; interface 0 keeps its static address`,
  );
}

// 8. Removing link B's interface: its connection fails, the other default route takes over.
{
  using lb = peerB.listen({ port: 81, hostname: "198.51.100.2" });
  using ta = peerA.listen({ transparent: true });
  using onB = await host.connect({ hostname: "198.51.100.2", port: 81 });
  using pb = await lb.accept();
  const pending = onB.read(new Uint8Array(1));
  await host.removeInterface(1);
  const error = await pending.then(() => null, (e: Error) => e);
  using far = await host.connect({ hostname: "203.0.113.7", port: 443 });
  using peer = await ta.accept();
  check(
    "interface removed",
    error instanceof Deno.errors.ConnectionAborted && far.localAddr.hostname === "192.0.2.1" &&
      peer.localAddr.hostname === "203.0.113.7",
    `the connection on link B failed (${error?.message}); 203.0.113.7 now from ${far.localAddr.hostname} through link A`,
  );
  void pb;
}

port67.close();
await serving;
console.log(failed === 0 ? "all checks hold" : `${failed} check(s) failed`);
if (failed > 0) Deno.exitCode = 1;

/** A DHCP server for one client on `udp` (port 67): offers and acknowledges `leased`/25. */
async function serveDhcp(udp: UdpSocket, server: string, leased: string): Promise<void> {
  try {
    for await (const [data] of udp) {
      const req = parseDhcpv4(new Dhcpv4Packet(data));
      const reply = {
        ...dhcpv4ReprDefaults(),
        op: Dhcpv4Op.Reply,
        messageType: req.messageType === Dhcpv4MessageType.Discover
          ? Dhcpv4MessageType.Offer
          : Dhcpv4MessageType.Ack,
        transactionId: req.transactionId,
        broadcast: req.broadcast,
        clientHardwareAddress: req.clientHardwareAddress,
        yourIp: Ipv4Address.parse(leased),
        serverIdentifier: Ipv4Address.parse(server),
        leaseTime: 3600,
        subnetMask: Ipv4Address.parse("255.255.255.128"),
      };
      const bytes = new Uint8Array(dhcpv4BufferLen(reply));
      emitDhcpv4(reply, new Dhcpv4Packet(bytes));
      await udp.send(bytes, { transport: "udp", hostname: "255.255.255.255", port: 68 });
    }
  } catch { /* closed */ }
}
