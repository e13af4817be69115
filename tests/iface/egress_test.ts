import assert from "node:assert/strict";
import { IfaceCore } from "../../src/iface/iface_state.ts";
import { Emitter, sendIcmpv6, sendPacket } from "../../src/iface/egress.ts";
import { NeighborCache } from "../../src/iface/neighbor.ts";
import { Reassembler } from "../../src/iface/reassembly.ts";
import { IpCidr, Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import { EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { Icmpv6Packet, parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { Ipv6Packet, parseIpv6, walkIpv6Headers } from "../../src/wire/ipv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { parseTcp, TcpFlags, TcpPacket, type TcpRepr } from "../../src/wire/tcp.ts";
import { parseUdp, UdpPacket } from "../../src/wire/udp.ts";
import { Rng } from "../../src/rand.ts";
import { TokenBucket } from "../../src/socket/context.ts";
import { linkPair } from "../../src/phy/link.ts";
import { drain } from "./helpers.ts";

const MAC = EthernetAddress.parse("02:00:00:00:00:0a");

function core(medium: "ethernet" | "ip"): IfaceCore {
  const c = new IfaceCore({
    medium,
    hw: medium === "ethernet" ? MAC : EthernetAddress.ZERO,
    rng: new Rng(1),
    isnSecret: new Uint8Array(16),
    hopLimit: 64,
    icmpEchoReply: true,
    neighbors: new NeighborCache(),
    reasm4: new Reassembler(4),
    reasm6: new Reassembler(6),
    icmpLimiter: new TokenBucket({ burst: 10, interval: 1000 }),
    announce: false,
  });
  c.routes.addAddress(IpCidr.parse("192.0.2.1/24"));
  c.routes.addAddress(IpCidr.parse("2001:db8::1/64"));
  return c;
}

const A4 = Ipv4Address.parse("192.0.2.1"), B4 = Ipv4Address.parse("192.0.2.2");
const A6 = Ipv6Address.parse("2001:db8::1"), B6 = Ipv6Address.parse("2001:db8::2");

function segment(payload: Uint8Array): TcpRepr {
  return {
    srcPort: 1000,
    dstPort: 80,
    seq: 1,
    ack: 2,
    flags: TcpFlags.ACK | TcpFlags.PSH,
    window: 1000,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload,
  };
}

Deno.test("egress: a UDP packet value leaves as one datagram the wire layer parses back", () => {
  const c = core("ip");
  const [da, db] = linkPair({ medium: "ip" });
  c.begin(0, da, null);
  const data = new Uint8Array([1, 2, 3, 4, 5]);
  c.pkt.setUdp(A4, 5000, B4, 53, data, 64);
  assert.equal(sendPacket(c, c.pkt), true);
  const frames = drain(db);
  assert.equal(frames.length, 1);
  const ip = parseIpv4(new Ipv4Packet(frames[0]!));
  assert.equal(ip.src.toString(), "192.0.2.1");
  assert.equal(ip.dst.toString(), "192.0.2.2");
  assert.equal(ip.ttl, 64);
  const udpView = new UdpPacket(frames[0]!.subarray(20));
  const udp = parseUdp(udpView, A4, B4);
  assert.deepEqual([udp.srcPort, udp.dstPort], [5000, 53]);
  assert.deepEqual(udpView.payload, data);
  // The value keeps no reference to the sent payload.
  assert.equal(c.pkt.payload.length, 0);
  assert.equal(c.pkt.tcp, null);
});

Deno.test("egress: a socket's TCP segment carries its ECN codepoint in IPv4 and IPv6 headers", () => {
  const c = core("ip");
  const [da, db] = linkPair({ medium: "ip" });
  c.begin(0, da, null);
  const emitter = new Emitter(c);
  assert.equal(emitter.emitTcp(A4, B4, segment(new Uint8Array(10)), 2), true);
  assert.equal(emitter.emitTcp(A6, B6, segment(new Uint8Array(10)), 2), true);
  assert.equal(emitter.emitTcp(A4, B4, segment(new Uint8Array(0))), true);
  const [f4, f6, plain] = drain(db);
  const ip4 = parseIpv4(new Ipv4Packet(f4!));
  assert.equal(ip4.ecn, 2);
  assert.equal(ip4.dontFrag, true, "IPv4 TCP carries DF (RFC 1191)");
  const tcp = parseTcp(new TcpPacket(f4!.subarray(20)), A4, B4);
  assert.equal(tcp.payload.length, 10);
  const ip6 = parseIpv6(new Ipv6Packet(f6!));
  assert.equal(ip6.trafficClass & 3, 2);
  assert.equal(parseIpv4(new Ipv4Packet(plain!)).ecn, 0);
});

Deno.test("egress: a full device refuses the packet (false) and counts nothing as sent", () => {
  const c = core("ip");
  const [da] = linkPair({ medium: "ip", queueLen: 1 });
  c.begin(0, da, null);
  c.pkt.setUdp(A4, 1, B4, 2, new Uint8Array(1), 64);
  assert.equal(sendPacket(c, c.pkt), true);
  c.pkt.setUdp(A4, 1, B4, 2, new Uint8Array(1), 64);
  assert.equal(sendPacket(c, c.pkt), false);
  assert.equal(c.counters.txFrames, 1);
});

Deno.test("egress: an unresolved neighbor gets the packet queued as a copy, nothing sent", () => {
  const c = core("ethernet");
  const [da, db] = linkPair({ medium: "ethernet" });
  c.begin(0, da, null);
  const data = new Uint8Array(8).fill(9);
  c.pkt.setUdp(A4, 1, B4, 2, data, 64);
  assert.equal(sendPacket(c, c.pkt), true);
  assert.equal(drain(db).length, 0);
  data.fill(0); // the queued copy does not change with the caller's buffer
  c.neighbors.fill(B4, EthernetAddress.parse("02:00:00:00:00:0b"), 0, false);
  const ready = c.neighbors.readyToFlush(0);
  assert.notEqual(ready, null);
  const queued = ready!.queue[0]!;
  assert.deepEqual(new UdpPacket(queued.subarray(20)).payload, new Uint8Array(8).fill(9));
});

Deno.test("egress: an oversized UDP packet value leaves as IPv4 fragments of the MTU", () => {
  const c = core("ip");
  const [da, db] = linkPair({ medium: "ip", mtu: 1280 });
  c.begin(0, da, null);
  c.pkt.setUdp(A4, 1, B4, 2, new Uint8Array(3000), 64);
  assert.equal(sendPacket(c, c.pkt), true);
  const frames = drain(db);
  assert.equal(frames.length, 3);
  let covered = 0;
  for (const f of frames) {
    assert.ok(f.length <= 1280);
    const ip = parseIpv4(new Ipv4Packet(f));
    assert.equal(ip.fragOffset, covered);
    covered += ip.payloadLen;
  }
  assert.equal(covered, 8 + 3000);
});

Deno.test("egress: sendIcmpv6 sends an NDP message built by the wire layer, hop limit 255", () => {
  const c = core("ethernet");
  const [da, db] = linkPair({ medium: "ethernet" });
  c.begin(0, da, null);
  const target = parseIpAddress("2001:db8::1") as Ipv6Address;
  const to = Ipv6Address.LINK_LOCAL_ALL_NODES;
  const ok = sendIcmpv6(c, A6, to, {
    kind: "ndisc",
    repr: {
      kind: "neighborAdvert",
      router: false,
      solicited: false,
      override: true,
      target,
      targetLinkAddr: MAC,
    },
  }, 255);
  assert.equal(ok, true);
  const [f] = drain(db);
  const eth = new EthernetFrame(f!);
  assert.equal(eth.etherType, EtherType.Ipv6);
  assert.equal(eth.dst.toString(), "33:33:00:00:00:01");
  const ip = parseIpv6(new Ipv6Packet(eth.payload));
  assert.equal(ip.hopLimit, 255);
  const msg = parseIcmpv6(new Icmpv6Packet(eth.payload.subarray(40)), A6, to);
  assert.equal(msg.kind, "ndisc");
  assert.ok(msg.kind === "ndisc" && msg.repr.kind === "neighborAdvert");
  assert.equal(msg.repr.targetLinkAddr?.toString(), MAC.toString());
  assert.equal(msg.repr.override, true);
});

Deno.test("egress: an MLD report leaves with hop limit 1 and a Router Alert (RFC 3810 §5)", () => {
  const c = core("ethernet");
  const [da, db] = linkPair({ medium: "ethernet" });
  c.begin(0, da, null);
  const src = Ipv6Address.parse("fe80::1");
  const group = Ipv6Address.parse("ff02::1:ff00:1");
  // hopLimit 255 asked for: MLD overrides it with 1.
  assert.equal(
    sendIcmpv6(c, src, group, { kind: "mld", repr: { kind: "report", group } }, 255),
    true,
  );
  const [f] = drain(db);
  const eth = new EthernetFrame(f!);
  const ip6 = new Ipv6Packet(eth.payload);
  const ip = parseIpv6(ip6);
  assert.equal(ip.hopLimit, 1);
  const chain = walkIpv6Headers(ip6);
  assert.deepEqual(chain.hopByHop?.options, [{ kind: "routerAlert", value: 0 }]);
  assert.equal(chain.upperLayer, IpProtocol.Icmpv6);
  const msg = parseIcmpv6(
    new Icmpv6Packet(ip6.payload.subarray(chain.upperLayerOffset)),
    src,
    group,
  );
  assert.ok(msg.kind === "mld" && msg.repr.kind === "report");
  assert.equal(msg.repr.group.toString(), "ff02::1:ff00:1");
});
