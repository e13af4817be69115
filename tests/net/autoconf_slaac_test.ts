import assert from "node:assert/strict";
import { type AutoconfEvent, linkPair, NetStack } from "../../mod.ts";
import type { LinkDevice } from "../../src/phy/link.ts";
import { EthernetAddress, Ipv6Address } from "../../src/wire/address.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { Icmpv6Packet } from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv6, Ipv6Packet, walkIpv6Headers } from "../../src/wire/ipv6.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr } from "../../src/wire/ndisc.ts";

const ROUTER_MAC = EthernetAddress.parse("02:00:00:00:00:99");
const ROUTER = Ipv6Address.parse("fe80::99");
const DNS = Ipv6Address.parse("2001:db8:1::53");
const ALL_NODES = Ipv6Address.LINK_LOCAL_ALL_NODES;

function ra(validLifetime: number, rdnss: number): NdiscRepr {
  return {
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
      validLifetime,
      preferredLifetime: validLifetime,
      prefix: Ipv6Address.parse("2001:db8:1::"),
    }],
    rdnss: [{ lifetime: rdnss, servers: [DNS] }],
  };
}

function send(dev: LinkDevice, repr: NdiscRepr): void {
  const len = ndiscBufferLen(repr);
  const f = dev.transmit(0, 14 + 40 + len)!;
  emitEthernet(
    {
      src: ROUTER_MAC,
      dst: new EthernetAddress(0x3333, ALL_NODES.w3),
      etherType: EtherType.Ipv6,
      vlan: null,
    },
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

/** ICMPv6 types of the frames the stack sent since the last call. */
function sentTypes(dev: LinkDevice): number[] {
  const out: number[] = [];
  for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
    if (new EthernetFrame(f).etherType !== EtherType.Ipv6) continue;
    const ip = new Ipv6Packet(f.subarray(14));
    const chain = walkIpv6Headers(ip);
    if (chain.upperLayer === IpProtocol.Icmpv6) out.push(ip.payload[chain.upperLayerOffset]!);
  }
  return out;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

Deno.test("NetStack with addresses auto on Ethernet forms a SLAAC address after a router solicitation", async () => {
  const [router, device] = linkPair({ medium: "ethernet" });
  await using stack = new NetStack({
    device,
    addresses: "auto",
    seed: 4,
    autoconf: { secretKey: new Uint8Array(16).fill(9) },
  });
  const autoconf = stack.autoconf!;
  const events: AutoconfEvent[] = [];
  autoconf.addEventListener("change", (e) => events.push(e as AutoconfEvent));
  const seen: number[] = [];
  // The router answers the first solicitation (type 133) with an advertisement.
  let answered = false;
  const timer = setInterval(() => {
    const types = sentTypes(router);
    seen.push(...types);
    if (!answered && types.includes(133)) {
      answered = true;
      send(router, ra(3600, 600));
    }
  }, 20);
  try {
    await within(stack.configured, 10_000, "configured");
  } finally {
    clearInterval(timer);
  }
  assert.ok(seen.includes(143), "MLDv2 report");
  assert.ok(seen.includes(135), "DAD probe");
  const global = autoconf.ipv6Addresses.find((a) =>
    !(a.address.address as Ipv6Address).isLinkLocal
  );
  assert.equal(global?.state, "preferred");
  assert.equal(global!.address.prefixLen, 64);
  assert.ok(global!.address.address.toString().startsWith("2001:db8:1:0:"));
  assert.ok(stack.iface.routes.hasAddress(global!.address.address));
  assert.deepEqual(
    stack.iface.routes.routes.map((r) => `${r.cidr} via ${r.via}`),
    ["::/0 via fe80::99"],
  );
  assert.deepEqual(autoconf.dnsServers.map(String), [String(DNS)]);
  const changes = events.map((e) => e.change);
  for (const c of ["addressTentative", "addressAdded", "routerChanged", "dnsChanged"]) {
    assert.ok(changes.includes(c as never), `${c} in ${changes}`);
  }
  // The RDNSS withdrawn (lifetime 0) is reported and gone.
  const dnsGone = new Promise<void>((resolve) => {
    autoconf.addEventListener("change", (e) => {
      if ((e as AutoconfEvent).change === "dnsChanged") resolve();
    });
  });
  send(router, ra(3600, 0));
  await within(dnsGone, 5_000, "dnsChanged");
  assert.deepEqual(autoconf.dnsServers, []);
  assert.equal(autoconf.ipv6Counters?.badHopLimit, 0);
});

Deno.test("NetStack rejects an autoconf secretKey that is not a Uint8Array or not 16 bytes", () => {
  const [, device] = linkPair({ medium: "ethernet" });
  assert.throws(
    () => new NetStack({ device, addresses: "auto", autoconf: { secretKey: "x" as never } }),
    TypeError,
  );
  assert.throws(
    () => new NetStack({ device, addresses: "auto", autoconf: { secretKey: new Uint8Array(4) } }),
    RangeError,
  );
});

Deno.test("NetStack with autoconf temporaryAddresses forms a temporary address beside the stable one", async () => {
  const [router, device] = linkPair({ medium: "ethernet" });
  await using stack = new NetStack({
    device,
    addresses: "auto",
    seed: 5,
    autoconf: { secretKey: new Uint8Array(16).fill(3), temporaryAddresses: true, dadTransmits: 0 },
  });
  const autoconf = stack.autoconf!;
  const both = new Promise<void>((resolve) => {
    autoconf.addEventListener("change", () => {
      const global = autoconf.ipv6Addresses.filter((a) =>
        a.state === "preferred" && !(a.address.address as Ipv6Address).isLinkLocal
      );
      if (global.length === 2) resolve();
    });
  });
  const timer = setInterval(() => {
    if (sentTypes(router).includes(133)) send(router, ra(3600, 600));
  }, 20);
  try {
    await within(both, 10_000, "two global addresses");
  } finally {
    clearInterval(timer);
  }
  const global = autoconf.ipv6Addresses.filter((a) =>
    !(a.address.address as Ipv6Address).isLinkLocal
  );
  assert.deepEqual(global.map((a) => a.temporary).sort(), [false, true]);
  for (const a of global) assert.ok(stack.iface.routes.hasAddress(a.address.address));
  assert.throws(
    () =>
      new NetStack({
        device: linkPair({ medium: "ethernet" })[1],
        addresses: "auto",
        autoconf: { temporaryAddresses: 1 as never },
      }),
    TypeError,
  );
});

Deno.test("NetStack with addresses auto takes the link MTU and hop limit a router advertises", async () => {
  const [router, device] = linkPair({ medium: "ethernet" });
  await using stack = new NetStack({
    device,
    addresses: "auto",
    seed: 5,
    autoconf: { secretKey: new Uint8Array(16).fill(3) },
  });
  assert.equal(stack.iface.linkMtu, null);
  assert.equal(stack.iface.hopLimit, 64);
  let answered = false;
  const timer = setInterval(() => {
    if (!answered && sentTypes(router).includes(133)) {
      answered = true;
      const base = ra(3600, 600) as Extract<NdiscRepr, { kind: "routerAdvert" }>;
      send(router, { ...base, hopLimit: 40, mtu: 1400 });
    }
  }, 20);
  try {
    await within(stack.configured, 10_000, "configured");
  } finally {
    clearInterval(timer);
  }
  assert.equal(stack.iface.linkMtu, 1400);
  assert.equal(stack.iface.hopLimit, 40);
});
