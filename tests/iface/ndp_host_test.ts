import assert from "node:assert/strict";
import { Interface } from "../../src/iface/interface.ts";
import { NdpHost } from "../../src/iface/ndp_host.ts";
import type { SlaacEvent } from "../../src/iface/slaac.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { type LinkDevice, linkPair } from "../../src/phy/link.ts";
import { NEVER } from "../../src/time.ts";
import { EthernetAddress, Ipv6Address } from "../../src/wire/address.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { Icmpv6Packet } from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv6, Ipv6Packet, walkIpv6Headers } from "../../src/wire/ipv6.ts";
import {
  emitMld,
  mldBufferLen,
  MldRecordType,
  type MldRepr,
  parseMld,
} from "../../src/wire/mld.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr, parseNdisc } from "../../src/wire/ndisc.ts";
import { drain, inject } from "./helpers.ts";

const MAC = EthernetAddress.parse("02:00:00:00:00:0a");
const ROUTER_MAC = EthernetAddress.parse("02:00:00:00:00:99");
const ROUTER = Ipv6Address.parse("fe80::99");
const PREFIX = Ipv6Address.parse("2001:db8:1::");
const DNS = Ipv6Address.parse("2001:db8:1::53");
const ALL_NODES = Ipv6Address.LINK_LOCAL_ALL_NODES;

const RA: NdiscRepr = {
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
    validLifetime: 600,
    preferredLifetime: 300,
    prefix: PREFIX,
  }],
  rdnss: [{ lifetime: 120, servers: [DNS] }],
};

/** An Ethernet frame carrying an ICMPv6 message written by `write` into `len` bytes. */
function frame(
  src: Ipv6Address,
  dst: Ipv6Address,
  hopLimit: number,
  len: number,
  write: (p: Icmpv6Packet) => void,
): Uint8Array {
  const f = new Uint8Array(14 + 40 + len);
  const mac = dst.isMulticast ? new EthernetAddress(0x3333, dst.w3) : MAC;
  emitEthernet(
    { src: ROUTER_MAC, dst: mac, etherType: EtherType.Ipv6, vlan: null },
    new EthernetFrame(f),
  );
  emitIpv6(
    {
      src,
      dst,
      nextHeader: IpProtocol.Icmpv6,
      payloadLen: len,
      hopLimit,
      trafficClass: 0,
      flowLabel: 0,
    },
    new Ipv6Packet(f.subarray(14)),
  );
  const msg = new Icmpv6Packet(f.subarray(54));
  write(msg);
  msg.fillChecksum(src, dst);
  return f;
}

function ndFrame(src: Ipv6Address, dst: Ipv6Address, repr: NdiscRepr, hopLimit = 255) {
  return frame(src, dst, hopLimit, ndiscBufferLen(repr), (p) => emitNdisc(repr, p));
}

function mldFrame(dst: Ipv6Address, repr: MldRepr) {
  return frame(ROUTER, dst, 1, mldBufferLen(repr), (p) => emitMld(repr, p));
}

interface Out {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly macDst: EthernetAddress;
  readonly hopLimit: number;
  readonly routerAlert: boolean;
  readonly msg: Uint8Array;
}

function parseOut(f: Uint8Array): Out {
  const eth = new EthernetFrame(f);
  const ip = new Ipv6Packet(f.subarray(14));
  const chain = walkIpv6Headers(ip);
  const msg = ip.payload.subarray(chain.upperLayerOffset);
  assert.equal(chain.upperLayer, IpProtocol.Icmpv6);
  assert.ok(new Icmpv6Packet(msg).verifyChecksum(ip.src, ip.dst), "checksum");
  return {
    src: ip.src,
    dst: ip.dst,
    macDst: eth.dst,
    hopLimit: ip.hopLimit,
    routerAlert: ip.nextHeader === IpProtocol.HopByHop,
    msg: msg.slice(),
  };
}

class Rig {
  readonly iface = new Interface({ hardwareAddr: MAC.toString(), seed: 3, gratuitousArp: false });
  readonly host = new NdpHost({
    hardwareAddress: MAC,
    secretKey: Uint8Array.from({ length: 16 }, (_, i) => i * 7),
  });
  readonly sockets = new SocketSet();
  readonly dev: LinkDevice;
  readonly peer: LinkDevice;
  now = 0;
  readonly out: Out[] = [];
  readonly events: SlaacEvent[] = [];

  constructor() {
    [this.dev, this.peer] = linkPair({ medium: "ethernet" });
    this.iface.attachNdp(this.host);
    this.host.start(this.iface.context(0));
  }

  poll(): Out[] {
    this.iface.poll(this.now, this.dev, this.sockets);
    const got = drain(this.peer, this.now).map(parseOut);
    this.out.push(...got);
    for (let e = this.host.slaac.takeEvent(); e !== null; e = this.host.slaac.takeEvent()) {
      this.events.push(e);
      // Apply as NetStack's autoconf does: addresses in use go on the interface.
      if (e.type === "address" && e.state === "preferred") {
        this.iface.routes.addAddress({ address: e.address, prefixLen: e.prefixLen } as never);
      }
    }
    return got;
  }

  /** Polls at each deadline up to `until`. */
  runTo(until: number): void {
    this.poll();
    for (let i = 0; i < 1000; i++) {
      const at = this.iface.pollAt(this.now, this.sockets);
      if (at === NEVER || at > until) break;
      this.now = Math.max(this.now, at);
      this.poll();
    }
    this.now = until;
    this.poll();
  }

  receive(...frames: Uint8Array[]): Out[] {
    inject(this.peer, frames, this.now);
    return this.poll();
  }

  state(prefix: Ipv6Address): string | undefined {
    return this.host.slaac.addresses.find((a) =>
      a.address.w0 === prefix.w0 && a.address.w1 === prefix.w1
    )
      ?.state;
  }
}

const kinds = (outs: Out[]) => outs.map((o) => o.msg[0]);

Deno.test("NdpHost sends an MLDv2 join with a router alert, a DAD probe from ::, then a router solicitation", () => {
  const r = new Rig();
  r.runTo(10_000);
  const ll = r.host.slaac.addresses[0]!.address;
  assert.ok(ll.isLinkLocal);
  assert.equal(r.state(ll), "preferred");
  const [mld, ns, rs] = [
    r.out.find((o) => o.msg[0] === 143)!,
    r.out.find((o) => o.msg[0] === 135)!,
    r.out.find((o) => o.msg[0] === 133)!,
  ];
  assert.ok(mld.routerAlert && mld.hopLimit === 1);
  assert.ok(mld.dst.equals(Ipv6Address.LINK_LOCAL_ALL_MLDV2_ROUTERS));
  assert.ok(mld.macDst.equals(EthernetAddress.parse("33:33:00:00:00:16")));
  const join = parseMld(new Icmpv6Packet(mld.msg));
  assert.equal(join.kind, "reportV2");
  if (join.kind === "reportV2") {
    assert.equal(join.records[0]!.recordType, MldRecordType.ChangeToExclude);
    assert.ok(join.records[0]!.group.equals(Ipv6Address.solicitedNode(ll)));
  }
  assert.ok(ns.src.isUnspecified && ns.hopLimit === 255);
  assert.ok(ns.dst.equals(Ipv6Address.solicitedNode(ll)));
  const probe = parseNdisc(new Icmpv6Packet(ns.msg), ns.src, ns.dst);
  assert.ok(probe.kind === "neighborSolicit" && probe.target.equals(ll));
  assert.equal(probe.kind === "neighborSolicit" && probe.sourceLinkAddr, null);
  assert.ok(rs.dst.equals(Ipv6Address.LINK_LOCAL_ALL_ROUTERS) && rs.hopLimit === 255);
  assert.equal(r.out.filter((o) => o.msg[0] === 133).length, 3, "three solicitations, no RA");
});

Deno.test("NdpHost takes a router advertisement: address after DAD, router, DNS; all expire on time", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.receive(ndFrame(ROUTER, ALL_NODES, RA));
  assert.equal(r.state(PREFIX), "tentative");
  assert.deepEqual(r.host.slaac.dnsServers, [DNS]);
  assert.deepEqual(r.host.slaac.routers.map((x) => String(x.router)), [String(ROUTER)]);
  // No more solicitations once an RA came.
  const rsBefore = r.out.filter((o) => o.msg[0] === 133).length;
  r.runTo(8_000);
  assert.equal(r.state(PREFIX), "preferred");
  assert.equal(r.out.filter((o) => o.msg[0] === 133).length, rsBefore);
  r.runTo(5_000 + 120_000);
  assert.deepEqual(r.host.slaac.dnsServers, [], "RDNSS lifetime 120 s");
  assert.ok(r.events.some((e) => e.type === "dns" && e.servers.length === 0));
  r.runTo(5_000 + 300_000);
  assert.equal(r.state(PREFIX), "deprecated");
  r.runTo(5_000 + 600_000);
  assert.equal(r.state(PREFIX), undefined);
  assert.ok(r.events.some((e) => e.type === "addressRemoved" && e.address.w0 === PREFIX.w0));
  r.runTo(5_000 + 1_800_000);
  assert.equal(r.host.slaac.routers.length, 0);
});

Deno.test("NdpHost: a neighbor advertisement for the tentative address makes it a duplicate; a new one is tried", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.receive(ndFrame(ROUTER, ALL_NODES, RA));
  const first = r.host.slaac.addresses.find((a) => a.address.w0 === PREFIX.w0)!.address;
  r.receive(ndFrame(ROUTER, ALL_NODES, {
    kind: "neighborAdvert",
    router: false,
    solicited: false,
    override: true,
    target: first,
    targetLinkAddr: ROUTER_MAC,
  }));
  const dup = r.events.find((e) => e.type === "address" && e.state === "duplicate");
  assert.ok(dup?.type === "address" && dup.address.equals(first));
  const second = r.host.slaac.addresses.find((a) => a.address.w0 === PREFIX.w0)!;
  assert.ok(!second.address.equals(first));
  assert.equal(second.state, "tentative");
  r.runTo(10_000);
  assert.equal(r.state(PREFIX), "preferred");
  assert.ok(!r.iface.routes.hasAddress(first));
  assert.ok(r.iface.routes.hasAddress(second.address));
});

Deno.test("NdpHost: a DAD probe from another node for the tentative address makes it a duplicate", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.receive(ndFrame(ROUTER, ALL_NODES, RA));
  const first = r.host.slaac.addresses.find((a) => a.address.w0 === PREFIX.w0)!.address;
  // Sent to the tentative address's solicited-node group, which the interface must accept.
  r.receive(ndFrame(Ipv6Address.UNSPECIFIED, Ipv6Address.solicitedNode(first), {
    kind: "neighborSolicit",
    target: first,
    sourceLinkAddr: null,
  }));
  assert.ok(
    r.events.some((e) =>
      e.type === "address" && e.state === "duplicate" && e.address.equals(first)
    ),
  );
});

Deno.test("NdpHost ignores and counts RAs with hop limit 64, from a global source, with absurd options", () => {
  const r = new Rig();
  r.runTo(5_000);
  const malformed = r.iface.counters.malformed;
  r.receive(ndFrame(ROUTER, ALL_NODES, RA, 64));
  assert.equal(r.host.slaac.counters.badHopLimit, 1);
  r.receive(ndFrame(Ipv6Address.parse("2001:db8:9::1"), ALL_NODES, RA));
  assert.equal(r.host.slaac.counters.offLinkSource, 1);
  // An option whose length runs past the end of the message.
  const bad = ndFrame(ROUTER, ALL_NODES, RA);
  bad[14 + 40 + 16 + 1] = 200;
  const msg = new Icmpv6Packet(bad.subarray(54));
  msg.fillChecksum(ROUTER, ALL_NODES);
  r.receive(bad);
  assert.equal(r.iface.counters.malformed, malformed + 1);
  // Preferred above valid: the prefix is ignored and counted, the router is taken.
  const pi = (RA as { prefixes: readonly object[] }).prefixes[0]!;
  r.receive(ndFrame(ROUTER, ALL_NODES, {
    ...RA,
    prefixes: [{ ...pi, preferredLifetime: 900, validLifetime: 600 } as never],
  }));
  assert.equal(r.host.slaac.counters.lifetimesOutOfOrder, 1);
  assert.equal(r.state(PREFIX), undefined);
  assert.equal(r.host.slaac.routers.length, 1);
});

Deno.test("NdpHost answers a general MLDv2 query within its delay with every solicited-node group", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.receive(ndFrame(ROUTER, ALL_NODES, RA));
  r.runTo(10_000);
  const groups = r.host.slaac.groups;
  assert.equal(groups.length, 2);
  r.out.length = 0;
  r.receive(mldFrame(ALL_NODES, {
    kind: "queryV2",
    maxResponseCode: 1000,
    group: Ipv6Address.UNSPECIFIED,
    suppressRouterSide: false,
    robustness: 2,
    queryIntervalCode: 125,
    sources: [],
  }));
  r.runTo(11_000);
  const reports = r.out.filter((o) => o.msg[0] === 143);
  assert.equal(reports.length, 1);
  assert.equal(r.host.counters.mldQueries, 1);
  const rep = parseMld(new Icmpv6Packet(reports[0]!.msg));
  assert.ok(rep.kind === "reportV2");
  if (rep.kind !== "reportV2") return;
  assert.deepEqual(rep.records.map((x) => x.recordType), [
    MldRecordType.ModeIsExclude,
    MldRecordType.ModeIsExclude,
  ]);
  assert.deepEqual(rep.records.map((x) => String(x.group)).sort(), groups.map(String).sort());
  assert.ok(reports[0]!.src.isLinkLocal, "from the link-local address once it is usable");
});

Deno.test("NdpHost answers an MLDv1 query with MLDv1 reports to each group", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.out.length = 0;
  r.receive(
    mldFrame(ALL_NODES, { kind: "query", maxResponseDelay: 500, group: Ipv6Address.UNSPECIFIED }),
  );
  r.runTo(5_600);
  const reports = r.out.filter((o) => o.msg[0] === 131);
  assert.equal(reports.length, 1);
  const ll = r.host.slaac.addresses[0]!.address;
  assert.ok(reports[0]!.dst.equals(Ipv6Address.solicitedNode(ll)));
  assert.equal(kinds(r.out).filter((k) => k === 143).length, 0);
});

/** The MLDv2 records sent, as "type group" strings. */
function mldRecords(outs: Out[]): string[] {
  const out: string[] = [];
  for (const o of outs) {
    if (o.msg[0] !== 143) continue;
    const rep = parseMld(new Icmpv6Packet(o.msg));
    if (rep.kind !== "reportV2") continue;
    for (const r of rep.records) out.push(`${r.recordType} ${r.group}`);
  }
  return out;
}

Deno.test("NdpHost sends each join twice, the second within 1 s (RFC 3810 §6.1 robustness)", () => {
  const r = new Rig();
  r.poll();
  const ll = r.host.slaac.addresses[0]!.address;
  const join = `${MldRecordType.ChangeToExclude} ${Ipv6Address.solicitedNode(ll)}`;
  assert.deepEqual(mldRecords(r.out), [join]);
  r.runTo(1_000);
  assert.deepEqual(mldRecords(r.out), [join, join]);
  const times: number[] = [];
  const r2 = new Rig();
  for (let t = 0; t <= 1_000; t++) {
    r2.now = t;
    if (mldRecords(r2.poll()).length > 0) times.push(t);
  }
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= 1 && times[1]! - times[0]! <= 1_000);
  r.runTo(20_000);
  assert.deepEqual(mldRecords(r.out), [join, join], "no more unsolicited reports");
});

Deno.test("NdpHost leaves the group of an address found duplicate and of an address that expired", () => {
  const r = new Rig();
  r.runTo(5_000);
  r.receive(ndFrame(ROUTER, ALL_NODES, RA));
  const first = r.host.slaac.addresses.find((a) => a.address.w0 === PREFIX.w0)!.address;
  const group = Ipv6Address.solicitedNode(first);
  r.out.length = 0;
  r.receive(ndFrame(ROUTER, ALL_NODES, {
    kind: "neighborAdvert",
    router: false,
    solicited: false,
    override: true,
    target: first,
    targetLinkAddr: ROUTER_MAC,
  }));
  r.runTo(7_000);
  const leave = `${MldRecordType.ChangeToInclude} ${group}`;
  assert.equal(mldRecords(r.out).filter((x) => x === leave).length, 2, "leave sent twice");
  const second = r.host.slaac.addresses.find((a) => a.address.w0 === PREFIX.w0)!.address;
  const group2 = Ipv6Address.solicitedNode(second);
  assert.ok(mldRecords(r.out).includes(`${MldRecordType.ChangeToExclude} ${group2}`));
  // The valid lifetime (600 s) ends: the address and its group go.
  r.out.length = 0;
  r.runTo(5_000 + 600_000 + 1_000);
  assert.equal(r.state(PREFIX), undefined);
  assert.deepEqual(
    mldRecords(r.out),
    [`${MldRecordType.ChangeToInclude} ${group2}`, `${MldRecordType.ChangeToInclude} ${group2}`],
  );
});
