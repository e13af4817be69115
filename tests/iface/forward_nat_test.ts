import assert from "node:assert/strict";
import { Forwarder } from "../../src/iface/forward.ts";
import { Interface } from "../../src/iface/interface.ts";
import { NatTable } from "../../src/iface/nat.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { linkPair } from "../../src/phy/link.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { Icmpv4Packet, parseIcmpv4, parseIcmpv4Quote } from "../../src/wire/icmpv4.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { parseTcp, TcpPacket } from "../../src/wire/tcp.ts";
import { parseUdp, UdpPacket } from "../../src/wire/udp.ts";
import { Reassembler } from "../../src/iface/reassembly.ts";
import {
  echo4,
  error4,
  fragment4,
  lab,
  other4,
  receiveAll,
  send,
  tcp4,
  udp4,
} from "./_forward_fixture.ts";

const SYN = 0x02, ACK = 0x10;

function natLab(
  options: { maxMappings?: number; timeouts?: { udp?: number } } = {},
  mtu: { inside?: number; outside?: number } = {},
) {
  const nat = new NatTable({ externalAddress: "198.51.100.1", ...options });
  return { nat, ...lab(undefined, { outside: { nat } }, {}, mtu) };
}

/** Parses a packet fully (every checksum verified) and returns its addresses and ports. */
function open(bytes: Uint8Array) {
  const ip = new Ipv4Packet(bytes);
  const r = parseIpv4(ip);
  if (r.protocol === 17) {
    const u = parseUdp(new UdpPacket(ip.payload), r.src, r.dst);
    return { src: `${r.src}:${u.srcPort}`, dst: `${r.dst}:${u.dstPort}`, ttl: r.ttl };
  }
  if (r.protocol === 6) {
    const t = parseTcp(new TcpPacket(ip.payload), r.src, r.dst);
    return { src: `${r.src}:${t.srcPort}`, dst: `${r.dst}:${t.dstPort}`, ttl: r.ttl };
  }
  const m = parseIcmpv4(new Icmpv4Packet(ip.payload));
  const id = m.kind === "echoRequest" || m.kind === "echoReply" ? m.ident : -1;
  return { src: `${r.src}`, dst: `${r.dst}`, ttl: r.ttl, kind: m.kind, ident: id };
}

Deno.test("NAT translates UDP out to the external address, preserving the port, and the reply back", () => {
  const l = natLab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.deepEqual(open(out[0]!), { src: "198.51.100.1:5000", dst: "198.51.100.20:53", ttl: 63 });
  send(l.hostOut, udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: 5000 }));
  l.poll(1);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  assert.deepEqual(open(back[0]!), { src: "198.51.100.20:53", dst: "192.0.2.10:5000", ttl: 63 });
  assert.equal(l.fwd.counters.natOut, 1);
  assert.equal(l.fwd.counters.natIn, 1);
  const maps = [...l.nat.mappings()];
  assert.equal(maps.length, 1);
  assert.equal(maps[0]!.internalAddress.toString(), "192.0.2.10");
  assert.equal(maps[0]!.externalPort, 5000);
  assert.equal(maps[0]!.packetsOut, 1);
  assert.equal(maps[0]!.packetsIn, 1);
});

Deno.test("NAT translates a TCP handshake both ways with valid checksums and tracks its state", () => {
  const l = natLab();
  send(l.hostIn, tcp4("192.0.2.10", 40000, "198.51.100.20", 80, SYN));
  l.poll(0);
  assert.deepEqual(open(receiveAll(l.hostOut)[0]!).src, "198.51.100.1:40000");
  send(l.hostOut, tcp4("198.51.100.20", 80, "198.51.100.1", 40000, SYN | ACK));
  l.poll(1);
  assert.equal(open(receiveAll(l.hostIn)[0]!).dst, "192.0.2.10:40000");
  assert.equal([...l.nat.mappings()][0]!.tcpState, "established");
});

Deno.test("NAT translates ICMP echo by identifier", () => {
  const l = natLab();
  send(l.hostIn, echo4("192.0.2.10", "198.51.100.20", 777));
  l.poll(0);
  const out = open(receiveAll(l.hostOut)[0]!);
  assert.equal(out.src, "198.51.100.1");
  assert.equal(out.kind, "echoRequest");
  send(l.hostOut, echo4("198.51.100.20", "198.51.100.1", out.ident!, "echoReply"));
  l.poll(1);
  const back = open(receiveAll(l.hostIn)[0]!);
  assert.equal(back.dst, "192.0.2.10");
  assert.equal(back.kind, "echoReply");
  assert.equal(back.ident, 777);
});

Deno.test("NAT maps endpoint-independently and gives a second host a different port", () => {
  const l = natLab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000 }));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.30", { srcPort: 5000 }));
  send(l.hostIn, udp4("192.0.2.11", "198.51.100.20", { srcPort: 5000 }));
  l.poll(0);
  const out = receiveAll(l.hostOut).map(open);
  assert.equal(out[0]!.src, "198.51.100.1:5000");
  assert.equal(out[1]!.src, "198.51.100.1:5000"); // same mapping for another destination
  assert.notEqual(out[2]!.src, "198.51.100.1:5000"); // the port was taken
  assert.equal(l.nat.size, 2);
});

Deno.test("NAT refuses new flows beyond its cap and counts them", () => {
  const l = natLab({ maxMappings: 1 });
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000 }));
  send(l.hostIn, udp4("192.0.2.11", "198.51.100.20", { srcPort: 5001 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 1);
  assert.equal(l.fwd.counters.natRefused, 1);
  assert.equal(l.nat.stats.refusedFull, 1);
});

Deno.test("NAT leaves an unsolicited inbound packet to the router itself", () => {
  const l = natLab();
  send(l.hostOut, udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: 6000 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(l.nat.stats.inboundNoMapping, 1);
  assert.equal(l.outside.counters.noSocket, 1); // the router's own UDP said port unreachable
  assert.equal(open(receiveAll(l.hostOut)[0]!).kind, "dstUnreachable");
});

Deno.test("NAT filters a reply from another address (address-dependent filtering)", () => {
  const l = natLab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000 }));
  l.poll(0);
  receiveAll(l.hostOut);
  send(l.hostOut, udp4("198.51.100.99", "198.51.100.1", { srcPort: 53, dstPort: 5000 }));
  l.poll(1);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(l.nat.stats.inboundFiltered, 1);
});

Deno.test("NAT hairpins an inside host's packet to the external address back inside", () => {
  const l = natLab();
  // 192.0.2.11 has a mapping at external port 6000 (it sent out first).
  send(l.hostIn, udp4("192.0.2.11", "198.51.100.20", { srcPort: 6000 }));
  l.poll(0);
  receiveAll(l.hostOut);
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.1", { srcPort: 5000, dstPort: 6000 }));
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  assert.deepEqual(open(back[0]!), { src: "198.51.100.1:5000", dst: "192.0.2.11:6000", ttl: 63 });
  assert.equal(l.nat.stats.hairpinned, 1);
});

Deno.test("NAT mappings expire after their timeout and replies are then not translated", () => {
  const l = natLab({ timeouts: { udp: 1000 } });
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000 }));
  l.poll(0);
  receiveAll(l.hostOut);
  assert.equal(l.fwd.pollAt(), 1000);
  assert.equal(l.fwd.expire(1000), 1);
  assert.equal(l.nat.size, 0);
  send(l.hostOut, udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: 5000 }));
  l.poll(1001);
  assert.equal(receiveAll(l.hostIn).length, 0);
});

Deno.test("NAT holds a lone fragment, counts it when it times out, and drops protocols it cannot translate", () => {
  const l = natLab();
  send(l.hostIn, other4("192.0.2.10", "198.51.100.20", 17, true));
  send(l.hostIn, other4("192.0.2.10", "198.51.100.20", 47));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.natFragment, 0); // held for reassembly
  assert.equal(l.fwd.counters.natUnsupported, 1);
  assert.equal(l.fwd.pollAt(), 30_000);
  l.fwd.expire(30_000);
  assert.equal(l.fwd.counters.natFragment, 1);
  assert.equal(l.fwd.pollAt(), Infinity);
});

Deno.test("NAT is not applied between two inside interfaces", () => {
  const l = natLab();
  // Inside to inside (hairpin routing on the same interface) keeps the addresses.
  send(l.hostIn, udp4("192.0.2.10", "192.0.2.20", { srcPort: 5000 }));
  l.poll(0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  assert.equal(open(back[0]!).src, "192.0.2.10:5000");
  assert.equal(l.nat.size, 0);
});

/** The ICMP error's outer addresses and its quoted packet, every checksum verified. */
function openError(bytes: Uint8Array) {
  const ip = new Ipv4Packet(bytes);
  const outer = parseIpv4(ip);
  const m = parseIcmpv4(new Icmpv4Packet(ip.payload));
  assert.ok(m.kind === "dstUnreachable" || m.kind === "timeExceeded");
  const inner = new Ipv4Packet(m.data);
  assert.ok(inner.verifyChecksum(), "quoted IPv4 header checksum");
  return { outer: `${outer.src} -> ${outer.dst}`, kind: m.kind, quoted: open(m.data.slice()) };
}

Deno.test("NAT translates an outside ICMP error about a translated UDP flow back inside (RFC 5508)", () => {
  const l = natLab();
  // 192.0.2.11 takes external port 5000 first: 192.0.2.10's flow gets another port.
  send(l.hostIn, udp4("192.0.2.11", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const sent = receiveAll(l.hostOut)[1]!;
  assert.notEqual(open(sent).src, "198.51.100.1:5000");
  // Another router on the outside says the flow's packet was too big, quoting it whole.
  send(l.hostOut, error4("198.51.100.99", "198.51.100.1", sent, "dstUnreachable", 4));
  l.poll(1);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const e = openError(back[0]!);
  assert.equal(e.outer, "198.51.100.99 -> 192.0.2.10");
  // The quoted UDP checksum verifies against the rewritten addresses.
  assert.equal(e.quoted.src, "192.0.2.10:5000");
  assert.equal(e.quoted.dst, "198.51.100.20:53");
  assert.equal(l.fwd.counters.natIn, 1);
});

Deno.test("NAT translates a Time Exceeded quoting a TCP segment, with its TCP checksum", () => {
  const l = natLab();
  send(l.hostIn, tcp4("192.0.2.10", 40000, "198.51.100.20", 80, SYN));
  l.poll(0);
  const sent = receiveAll(l.hostOut)[0]!;
  send(l.hostOut, error4("198.51.100.99", "198.51.100.1", sent, "timeExceeded"));
  l.poll(1);
  const e = openError(receiveAll(l.hostIn)[0]!);
  assert.equal(e.kind, "timeExceeded");
  assert.equal(e.quoted.src, "192.0.2.10:40000");
});

Deno.test("NAT translates an inside host's port unreachable about an inbound packet out", () => {
  const l = natLab();
  send(l.hostIn, udp4("192.0.2.11", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const port = Number(open(receiveAll(l.hostOut)[1]!).src.split(":")[1]);
  assert.notEqual(port, 5000);
  send(l.hostOut, udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: port }));
  l.poll(1);
  const got = receiveAll(l.hostIn)[0]!;
  // The inside host has closed the port: it answers with port unreachable, quoting what it got.
  send(l.hostIn, error4("192.0.2.10", "198.51.100.20", got));
  l.poll(2);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  const e = openError(out[0]!);
  assert.equal(e.outer, "198.51.100.1 -> 198.51.100.20");
  assert.equal(e.quoted.src, "198.51.100.20:53");
  assert.equal(e.quoted.dst, `198.51.100.1:${port}`);
});

Deno.test("NAT leaves an ICMP error that matches no mapping to the router itself", () => {
  const l = natLab();
  const stray = udp4("198.51.100.1", "198.51.100.20", { srcPort: 7777 });
  send(l.hostOut, error4("198.51.100.99", "198.51.100.1", stray));
  send(l.hostIn, error4("192.0.2.10", "198.51.100.20", udp4("198.51.100.20", "192.0.2.10")));
  l.poll(0);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.natIn, 0);
  assert.equal(l.fwd.counters.natUnsupported, 1); // the inside error about no inbound flow
});

Deno.test("NAT: Fragmentation Needed about an inbound-translated packet quotes it as it arrived (RFC 5508)", () => {
  const l = natLab({}, { inside: 576 });
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 1);
  // The reply is too big for the inside link and has DF set.
  send(
    l.hostOut,
    udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: 5000, payloadLen: 1000 }),
  );
  l.poll(1);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(l.fwd.counters.tooBig, 1);
  const errs = receiveAll(l.hostOut);
  assert.equal(errs.length, 1);
  const ip = new Ipv4Packet(errs[0]!);
  const outer = parseIpv4(ip);
  assert.equal(outer.src.toString(), "198.51.100.1"); // from the address the sender used
  assert.equal(outer.dst.toString(), "198.51.100.20");
  const m = parseIcmpv4(new Icmpv4Packet(ip.payload)); // ICMP checksum verified
  assert.equal(m.kind, "dstUnreachable");
  if (m.kind !== "dstUnreachable") return;
  assert.equal(m.code, 4);
  assert.equal(m.nextHopMtu, 576);
  const q = parseIcmpv4Quote(m.data);
  assert.equal(q.src.toString(), "198.51.100.20");
  assert.equal(q.dst.toString(), "198.51.100.1"); // not the inside host 192.0.2.10
  assert.equal((q.upper[2]! << 8) | q.upper[3]!, 5000); // the external port
  // The quoted header's checksum is valid again after the undo.
  const qh = new Ipv4Packet(m.data.slice(0, 20));
  assert.equal(qh.verifyChecksum(), true);
});

Deno.test("NAT: a reply translated to an inside host with no route back is net unreachable, quoted as it arrived", () => {
  // Reverse-path checks off: an inside source no route covers (203.0.113.10) is forwarded and
  // mapped, and the reply then translates to an address the router cannot reach.
  const nat = new NatTable({ externalAddress: "198.51.100.1" });
  const l = lab({ allowDocumentation: true, reversePath: "off" }, { outside: { nat } });
  send(l.hostIn, udp4("203.0.113.10", "198.51.100.20", { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  assert.equal(open(receiveAll(l.hostOut)[0]!).src, "198.51.100.1:5000");
  send(l.hostOut, udp4("198.51.100.20", "198.51.100.1", { srcPort: 53, dstPort: 5000 }));
  l.poll(1);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(l.fwd.counters.noRoute, 1);
  const errs = receiveAll(l.hostOut);
  assert.equal(errs.length, 1);
  const ip = new Ipv4Packet(errs[0]!);
  const outer = parseIpv4(ip);
  assert.equal(outer.src.toString(), "198.51.100.1"); // from the address the sender used
  assert.equal(outer.dst.toString(), "198.51.100.20");
  const m = parseIcmpv4(new Icmpv4Packet(ip.payload)); // ICMP checksum verified
  assert.equal(m.kind, "dstUnreachable");
  if (m.kind !== "dstUnreachable") return;
  assert.equal(m.code, 0); // net unreachable (RFC 1812 §5.2.7.1)
  const q = parseIcmpv4Quote(m.data);
  assert.equal(q.src.toString(), "198.51.100.20");
  assert.equal(q.dst.toString(), "198.51.100.1"); // the external address, not 203.0.113.10
  assert.equal((q.upper[2]! << 8) | q.upper[3]!, 5000); // the external port
  assert.equal(new Ipv4Packet(m.data.slice(0, 20)).verifyChecksum(), true);
});

/** Reassembles IPv4 fragments and parses the UDP datagram (every checksum verified). */
function reassembleUdp(frags: Uint8Array[]) {
  const r = new Reassembler(4);
  let out = null;
  for (const f of frags) {
    const ip = new Ipv4Packet(f);
    const h = parseIpv4(ip); // header checksum verified
    const res = r.add({
      src: h.src,
      dst: h.dst,
      protocol: h.protocol,
      ident: h.ident,
      offset: h.fragOffset,
      more: h.moreFrags,
      data: ip.payload,
      packet: null,
    }, 0);
    if (res !== null && typeof res !== "string") {
      const u = parseUdp(new UdpPacket(res.payload), h.src, h.dst); // UDP checksum verified
      out = {
        src: `${h.src}:${u.srcPort}`,
        dst: `${h.dst}:${u.dstPort}`,
        len: res.payload.length - 8,
      };
    }
  }
  return out;
}

Deno.test("NAT reassembles fragments out of order, translates the datagram and fragments it again", () => {
  const l = natLab({}, { outside: 1000 });
  const big = udp4("192.0.2.10", "198.51.100.20", {
    srcPort: 5000,
    dstPort: 53,
    payloadLen: 2000,
    dontFrag: false,
  });
  const frags = fragment4(big, 1480);
  assert.equal(frags.length, 2);
  send(l.hostIn, frags[1]!); // the last fragment first: no ports yet
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  send(l.hostIn, frags[0]!);
  l.poll(1);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 3); // 2028 bytes of UDP in fragments of the 1000-byte outside MTU
  for (const f of out) {
    assert.ok(f.length <= 1000);
    assert.equal(parseIpv4(new Ipv4Packet(f)).ttl, 63);
  }
  assert.deepEqual(reassembleUdp(out), {
    src: "198.51.100.1:5000",
    dst: "198.51.100.20:53",
    len: 2000,
  });
  assert.equal(l.fwd.counters.natReassembled, 1);
  assert.equal(l.fwd.counters.natOut, 1);
  assert.equal(l.fwd.counters.natFragment, 0);

  // The fragmented reply comes back to the inside host.
  const reply = udp4("198.51.100.20", "198.51.100.1", {
    srcPort: 53,
    dstPort: 5000,
    payloadLen: 1500,
    dontFrag: false,
  });
  for (const f of fragment4(reply, 976).reverse()) send(l.hostOut, f);
  l.poll(2);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 2); // inside MTU 1500: 1528 bytes in two fragments
  assert.deepEqual(reassembleUdp(back), {
    src: "198.51.100.20:53",
    dst: "192.0.2.10:5000",
    len: 1500,
  });
  assert.equal(l.fwd.counters.natIn, 1);
  assert.equal(l.fwd.counters.natReassembled, 2);
});

Deno.test("NAT drops malformed and overlapping fragments and datagrams beyond its bound, counting each", () => {
  const nat = new NatTable({ externalAddress: "198.51.100.1" });
  const l = lab({ allowDocumentation: true, natReassembly: { maxDatagrams: 1 } }, {
    outside: { nat },
  });
  const mk = (port: number) =>
    fragment4(
      udp4("192.0.2.10", "198.51.100.20", { srcPort: port, payloadLen: 100, dontFrag: false }),
      64,
    );
  const a = mk(5000), b = mk(5001);
  new Ipv4Packet(b[0]!).ident = 99;
  new Ipv4Packet(b[0]!).fillChecksum();
  send(l.hostIn, a[0]!); // held
  send(l.hostIn, b[0]!); // a second datagram: the first is evicted (bound of 1)
  l.poll(0);
  assert.equal(l.fwd.counters.natFragment, 1);
  // A non-final fragment whose length is not a multiple of 8.
  const bad = a[0]!.slice(0, a[0]!.length - 3);
  const v = new Ipv4Packet(bad);
  v.totalLen = bad.length;
  v.fillChecksum();
  send(l.hostIn, bad);
  l.poll(1);
  assert.equal(l.fwd.counters.natFragment, 2);
  // The same fragment twice: the copy overlaps data already held and is dropped.
  const c = mk(5002);
  new Ipv4Packet(c[0]!).ident = 77;
  new Ipv4Packet(c[0]!).fillChecksum();
  send(l.hostIn, c[0]!);
  send(l.hostIn, c[0]!);
  l.poll(2);
  assert.equal(l.fwd.counters.natFragment, 4); // c evicts b (bound 1), and the copy
  assert.equal(l.fwd.natFragmentsHeld, 1);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(nat.size, 0); // nothing was translated
});

Deno.test("NAT reassembles a fragmented datagram between Ethernet interfaces and the reply comes back", () => {
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
  const b = mk("02:00:00:00:00:0b", "198.51.100.20/24", 2);
  const r0 = mk("02:00:00:00:01:00", "192.0.2.1/24", 3);
  const r1 = mk("02:00:00:00:01:01", "198.51.100.1/24", 4);
  const fwd = new Forwarder({ allowDocumentation: true });
  fwd.attach(r0, ra);
  fwd.attach(r1, rb, { nat: new NatTable({ externalAddress: "198.51.100.1" }) });
  const sa = new SocketSet(), sb = new SocketSet(), s0 = new SocketSet(), s1 = new SocketSet();
  const tx = new UdpSocket(), rx = new UdpSocket();
  a.bindUdp(sa, tx, { addr: parseIpAddress("192.0.2.10"), port: 5000 });
  b.bindUdp(sb, rx, { addr: parseIpAddress("198.51.100.20"), port: 53 });
  const big = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  tx.send(big, { addr: parseIpAddress("198.51.100.20"), port: 53 });
  const run = (from: number) => {
    for (let t = from; t < from + 20; t++) {
      a.poll(t, ha, sa);
      r0.poll(t, ra, s0);
      r1.poll(t, rb, s1);
      b.poll(t, hb, sb);
    }
  };
  run(0);
  const buf = new Uint8Array(4096);
  const got = rx.recv(buf);
  assert.equal(got?.length, 3000);
  assert.deepEqual(buf.subarray(0, 3000), big);
  assert.equal(got?.remote.addr.toString(), "198.51.100.1"); // translated
  assert.equal(fwd.counters.natReassembled, 1);
  rx.send(big, got!.remote);
  run(100);
  const back = tx.recv(buf);
  assert.equal(back?.length, 3000);
  assert.equal(back?.remote.addr.toString(), "198.51.100.20");
  assert.equal(fwd.counters.natReassembled, 2);
  assert.equal(fwd.counters.natFragment, 0);
});
