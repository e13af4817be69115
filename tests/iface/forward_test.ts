import assert from "node:assert/strict";
import { Forwarder } from "../../src/iface/forward.ts";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { linkPair } from "../../src/phy/link.ts";
import type { DeviceCapabilities } from "../../src/phy/device.ts";
import { DeviceWrapper } from "../../src/phy/wrapper.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { Icmpv4Packet, parseIcmpv4, parseIcmpv4Quote } from "../../src/wire/icmpv4.ts";
import { Icmpv6Packet, parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import type { Ipv6Address } from "../../src/wire/address.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { Ipv6Packet, parseIpv6 } from "../../src/wire/ipv6.ts";
import { parseUdp, UdpPacket } from "../../src/wire/udp.ts";
import { parseTcp, TcpPacket } from "../../src/wire/tcp.ts";
import { echo4, echo6, lab, receiveAll, send, tcp4, udp4, udp6 } from "./_forward_fixture.ts";

function icmp4(bytes: Uint8Array) {
  const ip = new Ipv4Packet(bytes);
  const repr = parseIpv4(ip);
  return { ip: repr, icmp: parseIcmpv4(new Icmpv4Packet(ip.payload)) };
}

function icmp6(bytes: Uint8Array) {
  const ip = new Ipv6Packet(bytes);
  const repr = parseIpv6(ip);
  return {
    ip: repr,
    icmp: parseIcmpv6(
      new Icmpv6Packet(ip.payload),
      repr.src as Ipv6Address,
      repr.dst as Ipv6Address,
    ),
  };
}

Deno.test("Forwarder sends an IPv4 packet on with the TTL one lower and a valid header checksum", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { ttl: 64 }));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  const ip = new Ipv4Packet(out[0]!);
  const repr = parseIpv4(ip); // verifies the header checksum
  assert.equal(repr.ttl, 63);
  assert.equal(repr.src.toString(), "192.0.2.10");
  assert.equal(repr.dst.toString(), "198.51.100.20");
  const udp = parseUdp(new UdpPacket(ip.payload), repr.src, repr.dst); // payload untouched
  assert.equal(udp.dstPort, 53);
  assert.equal(l.fwd.counters.forwarded, 1);
  assert.equal(receiveAll(l.hostIn).length, 0);
});

Deno.test("Forwarder sends an IPv6 packet on with the hop limit one lower", () => {
  const l = lab();
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20", { ttl: 9 }));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.equal(parseIpv6(new Ipv6Packet(out[0]!)).hopLimit, 8);
  assert.equal(l.fwd.counters.forwarded, 1);
});

Deno.test("Forwarder answers TTL 1 with ICMP Time Exceeded and drops the packet", () => {
  const l = lab();
  const pkt = udp4("192.0.2.10", "198.51.100.20", { ttl: 1 });
  send(l.hostIn, pkt);
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const { ip, icmp } = icmp4(back[0]!);
  assert.equal(ip.src.toString(), "192.0.2.1"); // the router's address on the ingress link
  assert.equal(ip.dst.toString(), "192.0.2.10");
  assert.equal(icmp.kind, "timeExceeded");
  assert.equal(icmp.kind === "timeExceeded" && icmp.code, 0);
  const q = parseIcmpv4Quote(icmp.kind === "timeExceeded" ? icmp.data : new Uint8Array());
  assert.equal(q.dst.toString(), "198.51.100.20");
  assert.equal(l.fwd.counters.ttlExceeded, 1);
  assert.equal(l.fwd.counters.forwarded, 0);
});

Deno.test("Forwarder answers IPv6 hop limit 1 with ICMPv6 Time Exceeded", () => {
  const l = lab();
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20", { ttl: 1 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const { ip, icmp } = icmp6(back[0]!);
  assert.equal(ip.src.toString(), "2001:db8:1::1");
  assert.equal(icmp.kind, "timeExceeded");
  assert.equal(l.fwd.counters.ttlExceeded, 1);
});

Deno.test("Forwarder answers a destination with no route with Destination Unreachable (net)", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "203.0.113.5"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const { icmp } = icmp4(back[0]!);
  assert.equal(icmp.kind, "dstUnreachable");
  assert.equal(icmp.kind === "dstUnreachable" && icmp.code, 0);
  assert.equal(l.fwd.counters.noRoute, 1);
});

Deno.test("Forwarder sends Fragmentation Needed with the next-hop MTU for a DF packet too big", () => {
  const l = lab(undefined, {}, {}, { outside: 1280 });
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { payloadLen: 1400, dontFrag: true }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const { icmp } = icmp4(back[0]!);
  assert.equal(icmp.kind, "dstUnreachable");
  if (icmp.kind !== "dstUnreachable") return;
  assert.equal(icmp.code, 4);
  assert.equal(icmp.nextHopMtu, 1280);
  assert.equal(l.fwd.counters.tooBig, 1);
});

Deno.test("Forwarder sends Packet Too Big with the MTU for an IPv6 packet too big", () => {
  const l = lab(undefined, {}, {}, { outside: 1280 });
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20", { payloadLen: 1400 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const { icmp } = icmp6(receiveAll(l.hostIn)[0]!);
  assert.equal(icmp.kind, "pktTooBig");
  assert.equal(icmp.kind === "pktTooBig" && icmp.mtu, 1280);
  assert.equal(l.fwd.counters.tooBig, 1);
});

Deno.test("Forwarder fragments an IPv4 packet without DF to the outgoing MTU", () => {
  const l = lab(undefined, {}, {}, { outside: 576 });
  const original = udp4("192.0.2.10", "198.51.100.20", { payloadLen: 1400, dontFrag: false });
  send(l.hostIn, original);
  l.poll(0);
  const frags = receiveAll(l.hostOut);
  assert.equal(frags.length, 3);
  const data: Uint8Array[] = [];
  let expectOff = 0;
  for (const [i, f] of frags.entries()) {
    assert.ok(f.length <= 576);
    const ip = new Ipv4Packet(f);
    const r = parseIpv4(ip);
    assert.equal(r.ttl, 63);
    assert.equal(r.fragOffset, expectOff);
    assert.equal(r.moreFrags, i < frags.length - 1);
    expectOff += ip.payload.length;
    data.push(ip.payload.slice());
  }
  const joined = new Uint8Array(expectOff);
  let at = 0;
  for (const d of data) {
    joined.set(d, at);
    at += d.length;
  }
  assert.deepEqual(joined, original.subarray(20));
  assert.equal(l.fwd.counters.fragmented, 1);
  assert.equal(l.fwd.counters.forwarded, 1);
});

Deno.test("Forwarder drops martian sources and destinations and counts them", () => {
  const l = lab();
  send(l.hostIn, udp4("127.0.0.1", "198.51.100.20"));
  send(l.hostIn, udp4("192.0.2.10", "240.0.0.1"));
  send(l.hostIn, udp4("0.1.2.3", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(receiveAll(l.hostIn).length, 0); // no ICMP about martians
  assert.equal(l.fwd.counters.martianSource, 2);
  assert.equal(l.fwd.counters.martianDestination, 1);
});

Deno.test("Forwarder treats documentation addresses as martians unless allowed", () => {
  const l = lab({});
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.martianSource, 1);
});

Deno.test("Forwarder drops a packet whose source is one of the router's own addresses", () => {
  const l = lab();
  send(l.hostIn, udp4("198.51.100.1", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.spoofedSource, 1);
});

Deno.test("Forwarder in strict reverse-path mode drops a source that routes out another interface", () => {
  const l = lab({ allowDocumentation: true, reversePath: "strict" });
  // 198.51.100.77 lives behind the outside interface: it cannot arrive from inside.
  send(l.hostIn, udp4("198.51.100.77", "198.51.100.20"));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 1);
  assert.equal(l.fwd.counters.reversePath, 1);
});

Deno.test("Forwarder in loose reverse-path mode drops a source with no route at all", () => {
  const l = lab();
  send(l.hostIn, udp4("203.0.113.9", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.reversePath, 1);
});

Deno.test("Forwarder takes the longest prefix, then the lowest metric, across interfaces", () => {
  const l = lab(undefined, { inside: { metric: 10 }, outside: { metric: 20 } }, {
    inside: { gateway4: "192.0.2.254" },
    outside: { gateway4: "198.51.100.254" },
  });
  // Both interfaces have a default route: the inside one's metric is lower.
  assert.equal(l.fwd.lookup(parseIpAddress("8.8.8.8"))?.iface, 0);
  assert.equal(l.fwd.lookup(parseIpAddress("8.8.8.8"))?.nextHop.toString(), "192.0.2.254");
  l.fwd.routes.add({ cidr: "8.8.0.0/16", via: "198.51.100.253", iface: 1, metric: 50 });
  assert.equal(l.fwd.lookup(parseIpAddress("8.8.8.8"))?.nextHop.toString(), "198.51.100.253");
  l.fwd.routes.add({ cidr: "0.0.0.0/0", via: "198.51.100.252", iface: 1, metric: 5 });
  assert.equal(l.fwd.lookup(parseIpAddress("9.9.9.9"))?.nextHop.toString(), "198.51.100.252");
  // Connected prefixes (metric 0) beat routes of the same length.
  l.fwd.routes.add({ cidr: "192.0.2.0/24", via: "198.51.100.251", iface: 1, metric: 1 });
  assert.equal(l.fwd.lookup(parseIpAddress("192.0.2.50"))?.iface, 0);
});

Deno.test("Forwarder sends to a route's gateway on the interface the route names", () => {
  const l = lab();
  l.fwd.routes.add({ cidr: "203.0.113.0/24", via: "198.51.100.254", iface: 1 });
  send(l.hostIn, udp4("192.0.2.10", "203.0.113.5"));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.equal(parseIpv4(new Ipv4Packet(out[0]!)).dst.toString(), "203.0.113.5");
});

Deno.test("Interface without a forwarder does not forward (forwarding is off by default)", () => {
  const [hostIn, routerIn] = linkPair({ medium: "ip" });
  const iface = new Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
  send(hostIn, udp4("192.0.2.10", "198.51.100.20"));
  iface.poll(0, routerIn, new SocketSet());
  assert.equal(iface.counters.notForUs, 1);
  assert.equal(receiveAll(hostIn).length, 0);
});

Deno.test("Forwarder disabled leaves packets to the interface, which drops them as not for us", () => {
  const l = lab();
  l.fwd.enabled = false;
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.inside.counters.notForUs, 1);
  assert.equal(l.fwd.counters.forwarded, 0);
});

Deno.test("Forwarder leaves packets for the router itself to local delivery", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "192.0.2.1", { dstPort: 9 }));
  l.poll(0);
  assert.equal(l.fwd.counters.forwarded, 0);
  assert.equal(l.inside.counters.noSocket, 1); // reached the local UDP demux
  const { icmp } = icmp4(receiveAll(l.hostIn)[0]!);
  assert.equal(icmp.kind, "dstUnreachable"); // port unreachable from the router's own stack
});

Deno.test("Router answers a ping to another interface's address, from that address, on the ingress link", () => {
  const l = lab();
  send(l.hostIn, echo4("192.0.2.10", "198.51.100.1", 42));
  l.poll(0);
  assert.equal(l.fwd.counters.forwarded, 0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const { ip, icmp } = icmp4(back[0]!);
  assert.equal(icmp.kind, "echoReply");
  assert.equal(ip.src.toString(), "198.51.100.1");
  assert.equal(ip.dst.toString(), "192.0.2.10");
  assert.equal(l.inside.counters.notForUs, 0);
});

Deno.test("Router sources a port unreachable about another interface's address from that address", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.1", { dstPort: 9 }));
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::1", { dstPort: 9 }));
  l.poll(0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 2);
  const v4 = icmp4(back[0]!);
  assert.equal(v4.icmp.kind, "dstUnreachable");
  assert.equal(v4.ip.src.toString(), "198.51.100.1");
  const v6 = icmp6(back[1]!);
  assert.equal(v6.icmp.kind, "dstUnreachable");
  assert.equal(v6.ip.src.toString(), "2001:db8:2::1");
  assert.equal(l.fwd.counters.forwarded, 0);
});

Deno.test("Router answers an IPv6 ping to another interface's address", () => {
  const l = lab();
  send(l.hostOut, echo6("2001:db8:2::10", "2001:db8:1::1", 7));
  l.poll(0);
  const back = receiveAll(l.hostOut);
  assert.equal(back.length, 1);
  const { ip, icmp } = icmp6(back[0]!);
  assert.equal(icmp.kind, "echoReply");
  assert.equal(ip.src.toString(), "2001:db8:1::1");
  assert.equal(receiveAll(l.hostIn).length, 0);
});

Deno.test("Interface without a forwarder still drops a packet to an address it does not have", () => {
  const [host, dev] = linkPair({ medium: "ip" });
  const iface = new Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
  send(host, echo4("192.0.2.10", "198.51.100.1", 1));
  iface.poll(0, dev, new SocketSet());
  assert.equal(iface.counters.notForUs, 1);
  assert.equal(receiveAll(host).length, 0);
});

Deno.test("Forwarder does not forward a subnet-directed broadcast of the outgoing link", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.255"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.directedBroadcast, 1);
});

Deno.test("Forwarder counts a full outgoing device and goes on", () => {
  const l = lab(undefined, {}, {}, { outsideQueue: 8 });
  for (let i = 0; i < 20; i++) send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(0);
  const c = l.fwd.counters;
  assert.equal(c.forwarded, 8);
  assert.equal(c.deviceFull, 12);
  assert.equal(receiveAll(l.hostOut).length, 8);
});

Deno.test("Forwarder forwards between Ethernet interfaces, resolving the next hop with ARP", () => {
  const [ha, ra] = linkPair({ medium: "ethernet" });
  const [rb, hb] = linkPair({ medium: "ethernet" });
  const mk = (mac: string, addr: string, seed: number, gw?: string) =>
    new Interface({
      hardwareAddr: mac,
      addresses: [addr],
      seed,
      gratuitousArp: false,
      ...(gw === undefined ? {} : { gateway4: gw }),
    });
  const a = mk("02:00:00:00:00:0a", "192.0.2.10/24", 1, "192.0.2.1");
  const b = mk("02:00:00:00:00:0b", "198.51.100.20/24", 2, "198.51.100.1");
  const r0 = mk("02:00:00:00:01:00", "192.0.2.1/24", 3);
  const r1 = mk("02:00:00:00:01:01", "198.51.100.1/24", 4);
  const fwd = new Forwarder({ allowDocumentation: true });
  fwd.attach(r0, ra);
  fwd.attach(r1, rb);
  const sa = new SocketSet(), sb = new SocketSet(), s0 = new SocketSet(), s1 = new SocketSet();
  const tx = new UdpSocket(), rx = new UdpSocket();
  a.bindUdp(sa, tx, { addr: parseIpAddress("192.0.2.10"), port: 5000 });
  b.bindUdp(sb, rx, { addr: parseIpAddress("198.51.100.20"), port: 53 });
  tx.send(new Uint8Array([7, 7, 7]), { addr: parseIpAddress("198.51.100.20"), port: 53 });
  for (let t = 0; t < 20; t++) {
    a.poll(t, ha, sa);
    r0.poll(t, ra, s0);
    r1.poll(t, rb, s1);
    b.poll(t, hb, sb);
  }
  const got = rx.recv(new Uint8Array(8));
  assert.equal(got?.length, 3);
  assert.equal(got?.remote.addr.toString(), "192.0.2.10");
  assert.equal(fwd.counters.forwarded, 1);
});

Deno.test("Forwarder refuses an interface attached twice and bad metrics", () => {
  const fwd = new Forwarder();
  const iface = new Interface();
  const [d] = linkPair({ medium: "ip" });
  fwd.attach(iface, d);
  assert.throws(() => fwd.attach(iface, d), TypeError);
  assert.throws(() => new Forwarder().attach(new Interface(), d, { metric: -1 }), RangeError);
  assert.throws(() => new Forwarder({ reversePath: "x" as "off" }), TypeError);
  assert.throws(() => fwd.routes.add({ cidr: "0.0.0.0/0", iface: -1 }), RangeError);
});

/** A device that says the host segments TCP frames up to 64 KiB (TSO) and coalesces them (GRO). */
class Tso extends DeviceWrapper {
  override get capabilities(): DeviceCapabilities {
    return {
      ...this.inner.capabilities,
      mtu: 1500,
      // As a TUN device with offloads: the host completes TCP checksums and vouches for them.
      checksum: { ...this.inner.capabilities.checksum, tcp: false },
      offload: { checksum: true, tcpv4: true, tcpv6: true, maxFrameSize: 65535 },
    };
  }
}

function tsoLab(outTso: boolean) {
  const [hostIn, routerIn] = linkPair({ medium: "ip", mtu: 65535 });
  const [routerOut, hostOut] = linkPair({ medium: "ip", mtu: outTso ? 65535 : 1500 });
  const inside = new Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
  const outside = new Interface({ addresses: ["198.51.100.1/24"], seed: 2 });
  const fwd = new Forwarder({ allowDocumentation: true });
  const rin = new Tso(routerIn), rout = outTso ? new Tso(routerOut) : routerOut;
  fwd.attach(inside, rin);
  fwd.attach(outside, rout);
  const si = new SocketSet(), so = new SocketSet();
  return {
    fwd,
    hostIn,
    hostOut,
    outside,
    poll(now: number) {
      inside.poll(now, rin, si);
      outside.poll(now, rout, so);
    },
  };
}

Deno.test("Forwarder passes a coalesced TCP super-frame whole to a device that segments TCP", () => {
  const l = tsoLab(true);
  const big = tcp4("192.0.2.10", 40000, "198.51.100.20", 80, 0x18, 20_000);
  send(l.hostIn, big);
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, big.length); // one frame: the host cuts it to the MTU
  const ip = parseIpv4(new Ipv4Packet(out[0]!)); // header checksum verified
  assert.equal(ip.ttl, 63);
  assert.deepEqual(out[0]!.subarray(20), big.subarray(20));
  assert.equal(l.fwd.counters.forwarded, 1);
  assert.equal(l.fwd.counters.superFrames, 1);
  assert.equal(l.fwd.counters.tooBig, 0);
});

Deno.test("Forwarder still answers a non-TCP packet over the MTU with Fragmentation Needed", () => {
  const l = tsoLab(true);
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { payloadLen: 3000 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.tooBig, 1);
  const { icmp } = icmp4(receiveAll(l.hostIn)[0]!);
  assert.equal(icmp.kind, "dstUnreachable");
});

Deno.test("Forwarder cuts a super-frame into checksummed segments for a device that does not segment TCP", () => {
  const l = tsoLab(false);
  const big = tcp4("192.0.2.10", 40000, "198.51.100.20", 80, 0x18 | 0x80, 4000); // PSH ACK CWR
  new TcpPacket(big.subarray(20)).checksum = 0x1234; // partial, as an offload device leaves it
  send(l.hostIn, big);
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 3); // 4000 bytes in segments of 1500 - 40
  const payload: number[] = [];
  out.forEach((f, i) => {
    assert.ok(f.length <= 1500);
    const ip = parseIpv4(new Ipv4Packet(f));
    assert.equal(ip.ttl, 63);
    const t = parseTcp(new TcpPacket(f.subarray(20)), ip.src, ip.dst); // checksum verified
    assert.equal(t.seq, (1000 + i * 1460) >>> 0);
    assert.equal((t.flags & 0x08) !== 0, i === 2); // PSH on the last only
    assert.equal((t.flags & 0x80) !== 0, i === 0); // CWR on the first only
    payload.push(...t.payload);
  });
  assert.deepEqual(payload, [...big.subarray(40)]);
  assert.equal(l.fwd.counters.segmented, 1);
  assert.equal(l.fwd.counters.forwarded, 1);
});

Deno.test("Forwarder completes a partial TCP checksum for a device that does not offload it", () => {
  const l = tsoLab(false);
  const seg = tcp4("192.0.2.10", 40000, "198.51.100.20", 80, 0x10, 100);
  new TcpPacket(seg.subarray(20)).checksum = 0x1234;
  send(l.hostIn, seg);
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  const ip = parseIpv4(new Ipv4Packet(out[0]!));
  assert.equal(parseTcp(new TcpPacket(out[0]!.subarray(20)), ip.src, ip.dst).payload.length, 100);
  assert.equal(l.fwd.counters.segmented, 0);
});
