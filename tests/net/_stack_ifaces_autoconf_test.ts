import assert from "node:assert/strict";
import { type AutoconfEvent, linkPair, NetStack, type UdpSocket } from "../../mod.ts";
import { EthernetAddress, Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import type { LinkDevice } from "../../src/phy/link.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { Icmpv6Packet } from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv6, Ipv6Packet, walkIpv6Headers } from "../../src/wire/ipv6.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr } from "../../src/wire/ndisc.ts";
import {
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4Packet,
  type Dhcpv4Repr,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  parseDhcpv4,
} from "../../src/wire/dhcpv4.ts";

/** A DHCP server on a stack's port 67 that hands out `leased`, itself the router. */
async function serveDhcp(
  udp: UdpSocket,
  o: {
    server: string;
    leased: string;
    leaseTime: number;
    renewalTime?: number;
    nak?: () => boolean;
  },
) {
  const server = Ipv4Address.parse(o.server);
  for await (const [data] of udp) {
    let req: Dhcpv4Repr;
    try {
      req = parseDhcpv4(new Dhcpv4Packet(data));
    } catch {
      continue;
    }
    const renewal = !req.clientIp.isUnspecified;
    const nak = renewal && (o.nak?.() ?? false);
    const type = req.messageType === Dhcpv4MessageType.Discover
      ? Dhcpv4MessageType.Offer
      : nak
      ? Dhcpv4MessageType.Nak
      : Dhcpv4MessageType.Ack;
    const reply: Dhcpv4Repr = {
      ...dhcpv4ReprDefaults(),
      op: Dhcpv4Op.Reply,
      messageType: type,
      transactionId: req.transactionId,
      broadcast: req.broadcast,
      clientHardwareAddress: req.clientHardwareAddress,
      clientIp: req.clientIp,
      yourIp: nak ? Ipv4Address.UNSPECIFIED : Ipv4Address.parse(o.leased),
      serverIdentifier: server,
      ...(nak ? {} : {
        leaseTime: o.leaseTime,
        renewalTime: o.renewalTime ?? null,
        rebindingTime: null,
        subnetMask: Ipv4Address.parse("255.255.255.0"),
        routers: [server],
        dnsServers: [server],
      }),
    };
    const bytes = new Uint8Array(dhcpv4BufferLen(reply));
    emitDhcpv4(reply, new Dhcpv4Packet(bytes));
    const hostname = renewal && !nak ? req.clientIp.toString() : "255.255.255.255";
    await udp.send(bytes, { transport: "udp", hostname, port: 68 });
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * A host whose two interfaces both take DHCP leases: interface 0 (metric 10) on link A from
 * server A (192.0.2.1, leases 192.0.2.63), interface 1 (metric 5) on link B from server B
 * (198.51.100.1, leases 198.51.100.63, renewals after 1 s, refused when `nakB` says so). Both
 * servers also own 203.0.113.9, an address behind either default route.
 */
function twoLeases() {
  const [a0, a1] = linkPair(), [b0, b1] = linkPair();
  const srvA = new NetStack({ device: a1, addresses: ["192.0.2.1/24", "203.0.113.9/32"], seed: 1 });
  const srvB = new NetStack({
    device: b1,
    addresses: ["198.51.100.1/24", "203.0.113.9/32"],
    seed: 2,
  });
  const host = new NetStack({ device: a0, addresses: "auto", metric: 10, seed: 3 });
  const index = host.addInterface({ device: b0, addresses: "auto", metric: 5 });
  const udpA = srvA.listenDatagram({ port: 67 }), udpB = srvB.listenDatagram({ port: 67 });
  let nakB = false;
  const serving = Promise.all([
    serveDhcp(udpA, { server: "192.0.2.1", leased: "192.0.2.63", leaseTime: 3600 }),
    serveDhcp(udpB, {
      server: "198.51.100.1",
      leased: "198.51.100.63",
      leaseTime: 3600,
      renewalTime: 1,
      nak: () => nakB,
    }),
  ]).catch(() => {});
  return {
    host,
    index,
    srvA,
    srvB,
    refuseB() {
      nakB = true;
    },
    async [Symbol.asyncDispose]() {
      await host.close();
      udpA.close();
      udpB.close();
      await serving;
      await srvA.close();
      await srvB.close();
    },
  };
}

/** Which server a connection to 203.0.113.9 reaches, by the address it leaves from. */
async function reached(t: ReturnType<typeof twoLeases>): Promise<string> {
  using la = t.srvA.listen({ port: 80 });
  using lb = t.srvB.listen({ port: 80 });
  using conn = await t.host.connect({ hostname: "203.0.113.9", port: 80 });
  const viaA = conn.localAddr.hostname === "192.0.2.63";
  using peer = await (viaA ? la : lb).accept();
  assert.equal(peer.remoteAddr.hostname, conn.localAddr.hostname);
  return viaA ? "A" : "B";
}

Deno.test("NetStack addInterface with addresses auto: each interface takes its own lease, address and default route with its metric", async () => {
  await using t = twoLeases();
  const auto0 = t.host.interfaceAutoconf(0)!, auto1 = t.host.interfaceAutoconf(t.index)!;
  assert.equal(auto0, t.host.autoconf);
  await within(Promise.all([auto0.configured, auto1.configured]), 10_000, "both leases");
  assert.deepEqual(t.host.iface.routes.addresses.map(String), ["192.0.2.63/24"]);
  assert.equal(auto0.lease?.address.toString(), "192.0.2.63/24");
  assert.equal(auto1.lease?.address.toString(), "198.51.100.63/24");
  // The default route of interface 1 (metric 5) beats interface 0's (metric 10).
  assert.equal(await reached(t), "B");
  assert.deepEqual(auto0.dnsServers.map(String), ["192.0.2.1"]);
  assert.deepEqual(auto1.dnsServers.map(String), ["198.51.100.1"]);
});

Deno.test("NetStack addInterface with addresses auto: a refused renewal removes only that interface's address and route", async () => {
  await using t = twoLeases();
  const auto0 = t.host.interfaceAutoconf(0)!, auto1 = t.host.interfaceAutoconf(t.index)!;
  await within(Promise.all([auto0.configured, auto1.configured]), 10_000, "both leases");
  const events0: string[] = [];
  auto0.addEventListener("change", (e) => events0.push((e as AutoconfEvent).change));
  const removed = new Promise<AutoconfEvent>((resolve) =>
    auto1.addEventListener("change", (e) => {
      if ((e as AutoconfEvent).change === "addressRemoved") resolve(e as AutoconfEvent);
    })
  );
  t.refuseB();
  const e = await within(removed, 10_000, "NAK on interface 1");
  assert.equal(e.address?.toString(), "198.51.100.63/24");
  assert.equal(auto1.lease, null);
  // Interface 0 keeps its lease and route: the connection now leaves through link A.
  assert.deepEqual(t.host.iface.routes.addresses.map(String), ["192.0.2.63/24"]);
  assert.equal(auto0.state, "bound");
  assert.deepEqual(events0, []);
  assert.equal(await reached(t), "A");
});

Deno.test("NetStack removeInterface stops the interface's DHCP client: its configured rejects, nothing keeps running", async () => {
  const [a0] = linkPair(), [b0] = linkPair();
  await using host = new NetStack({ device: a0, addresses: ["192.0.2.1/24"] });
  host.addInterface({ device: b0, addresses: "auto" });
  const auto1 = host.interfaceAutoconf(1)!;
  const configured = auto1.configured; // no server: it would wait for 60 s
  await new Promise((r) => setTimeout(r, 50));
  await host.removeInterface(1);
  await assert.rejects(configured, Deno.errors.BadResource);
  assert.throws(() => host.interfaceAutoconf(1), RangeError);
  // Its port-68 sender is gone; the first interface's stack carries on.
  assert.equal(host.autoconf, null);
  assert.throws(
    () =>
      host.addInterface({ device: linkPair()[0], addresses: "auto", autoconf: { timeout: -1 } }),
    RangeError,
  );
  host.addInterface({ device: b0, addresses: "auto" }); // b0 is free again, port 68 reusable
});

const ROUTER_MAC = EthernetAddress.parse("02:00:00:00:00:99");
const ROUTER = Ipv6Address.parse("fe80::99");
const ALL_NODES = Ipv6Address.LINK_LOCAL_ALL_NODES;

/** A router advertisement of one autonomous /64 from fe80::99, sent into `dev`. */
function advertise(dev: LinkDevice, prefix: string): void {
  const repr: NdiscRepr = {
    kind: "routerAdvert",
    hopLimit: 64,
    managed: false,
    other: false,
    routerLifetime: 1800,
    reachableTime: 0,
    retransTime: 0,
    sourceLinkAddr: ROUTER_MAC,
    mtu: null,
    prefixes: [{
      prefixLen: 64,
      onLink: true,
      autonomous: true,
      validLifetime: 3600,
      preferredLifetime: 3600,
      prefix: Ipv6Address.parse(prefix),
    }],
    rdnss: [],
  };
  const len = ndiscBufferLen(repr);
  const f = dev.transmit(0, 14 + 40 + len)!;
  const dst = new EthernetAddress(0x3333, ALL_NODES.w3);
  emitEthernet(
    { src: ROUTER_MAC, dst, etherType: EtherType.Ipv6, vlan: null },
    new EthernetFrame(f),
  );
  emitIpv6({
    src: ROUTER,
    dst: ALL_NODES,
    nextHeader: IpProtocol.Icmpv6,
    payloadLen: len,
    hopLimit: 255,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(f.subarray(14)));
  const msg = new Icmpv6Packet(f.subarray(54));
  emitNdisc(repr, msg);
  msg.fillChecksum(ROUTER, ALL_NODES);
  dev.commit();
}

/** Whether the frames sent into `dev` since the last call include a router solicitation. */
function solicited(dev: LinkDevice): boolean {
  let rs = false;
  for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
    if (new EthernetFrame(f).etherType !== EtherType.Ipv6) continue;
    const ip = new Ipv6Packet(f.subarray(14));
    const chain = walkIpv6Headers(ip);
    if (chain.upperLayer === IpProtocol.Icmpv6 && ip.payload[chain.upperLayerOffset] === 133) {
      rs = true;
    }
  }
  return rs;
}

Deno.test("NetStack addInterface with addresses auto on Ethernet: SLAAC on each interface from its own link's router only", async () => {
  const [routerA, devA] = linkPair({ medium: "ethernet" });
  const [routerB, devB] = linkPair({ medium: "ethernet" });
  await using host = new NetStack({
    device: devA,
    addresses: "auto",
    seed: 5,
    autoconf: { secretKey: new Uint8Array(16).fill(1) },
  });
  host.addInterface({
    device: devB,
    addresses: "auto",
    autoconf: { secretKey: new Uint8Array(16).fill(2) },
  });
  // Each router answers the first solicitation on its own link, with its own prefix.
  const answered = { a: false, b: false };
  const timer = setInterval(() => {
    if (!answered.a && solicited(routerA)) {
      answered.a = true;
      advertise(routerA, "2001:db8:1::");
    }
    if (!answered.b && solicited(routerB)) {
      answered.b = true;
      advertise(routerB, "2001:db8:2::");
    }
  }, 20);
  const auto0 = host.interfaceAutoconf(0)!, auto1 = host.interfaceAutoconf(1)!;
  try {
    await within(Promise.all([auto0.configured, auto1.configured]), 10_000, "both SLAAC");
  } finally {
    clearInterval(timer);
  }
  const globals = (a: typeof auto0) =>
    a.ipv6Addresses.filter((x) => !(x.address.address as Ipv6Address).isLinkLocal)
      .map((x) => x.address.address.toString().split(":").slice(0, 3).join(":"));
  assert.deepEqual(globals(auto0), ["2001:db8:1"]);
  assert.deepEqual(globals(auto1), ["2001:db8:2"]);
  assert.ok(
    host.iface.routes.addresses.every((c) => !c.address.toString().startsWith("2001:db8:2:")),
  );
});
