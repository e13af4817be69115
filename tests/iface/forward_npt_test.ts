import assert from "node:assert/strict";
import { Forwarder } from "../../src/iface/forward.ts";
import { Interface } from "../../src/iface/interface.ts";
import { Loopback } from "../../src/phy/loopback.ts";
import { Npt } from "../../src/iface/forward_npt.ts";
import { Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { IpCidr } from "../../src/wire/cidr.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
  parseIcmpv6,
} from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv6, IPV6_HEADER_LEN, Ipv6Packet, parseIpv6 } from "../../src/wire/ipv6.ts";
import { TcpPacket } from "../../src/wire/tcp.ts";
import { parseUdp, UdpPacket } from "../../src/wire/udp.ts";
import { lab, receiveAll, send, udp6 } from "./_forward_fixture.ts";

// RFC 6296 Appendix B's example: fd01:203:405::/48 inside, 2001:db8:1::/48 outside; the host
// fd01:203:405:1::1234 appears as 2001:db8:1:d550::1234 (the subnet word 0x0001 becomes 0xd550,
// so that the address sums to the same one's-complement value).
const INSIDE_HOST = "fd01:203:405:1::1234", OUTSIDE_NAME = "2001:db8:1:d550::1234";
const SERVER = "2001:db8:2::20";

function nptLab() {
  return lab(
    { allowDocumentation: true },
    { outside: { npt: { inside: "fd01:203:405::/48", outside: "2001:db8:1::/48" } } },
    {
      inside: { addresses: ["192.0.2.1/24", "fd01:203:405::1/48", "2001:db8:3::1/64"] },
      outside: { addresses: ["198.51.100.1/24", "2001:db8:2::1/64"] },
    },
  );
}

/** Parses an IPv6/UDP packet, verifying the UDP checksum against the addresses it carries. */
function openUdp6(bytes: Uint8Array) {
  const ip = new Ipv6Packet(bytes);
  const r = parseIpv6(ip);
  const u = parseUdp(new UdpPacket(ip.payload), r.src, r.dst);
  return { src: `${r.src}`, dst: `${r.dst}`, hopLimit: r.hopLimit, ports: [u.srcPort, u.dstPort] };
}

/** An ICMPv6 Destination Unreachable (code 3) or Time Exceeded quoting `quote`. */
function error6(src: string, dst: string, quote: Uint8Array): Uint8Array {
  const s = parseIpAddress(src) as Ipv6Address, d = parseIpAddress(dst) as Ipv6Address;
  const repr: Icmpv6Repr = { kind: "dstUnreachable", code: 3, data: quote };
  const len = icmpv6BufferLen(repr);
  const bytes = new Uint8Array(IPV6_HEADER_LEN + len);
  emitIpv6({
    src: s,
    dst: d,
    nextHeader: IpProtocol.Icmpv6,
    payloadLen: len,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(bytes));
  emitIcmpv6(repr, new Icmpv6Packet(bytes.subarray(IPV6_HEADER_LEN)), s, d);
  return bytes;
}

/** Parses an ICMPv6 error (checksum verified) and the UDP packet it quotes (checksum verified). */
function openError6(bytes: Uint8Array) {
  const ip = new Ipv6Packet(bytes);
  const r = parseIpv6(ip);
  const m = parseIcmpv6(new Icmpv6Packet(ip.payload), r.src as Ipv6Address, r.dst as Ipv6Address);
  assert.ok(m.kind === "dstUnreachable" || m.kind === "timeExceeded");
  return { outer: `${r.src} -> ${r.dst}`, kind: m.kind, quoted: openUdp6(m.data.slice()) };
}

Deno.test("NPTv6 maps an inside source to the outside prefix (RFC 6296 example) and the reply back, checksums untouched", () => {
  const l = nptLab();
  send(l.hostIn, udp6(INSIDE_HOST, SERVER, { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  // The UDP checksum, not rewritten, still verifies against the new source.
  assert.deepEqual(openUdp6(out[0]!), {
    src: OUTSIDE_NAME,
    dst: SERVER,
    hopLimit: 63,
    ports: [5000, 53],
  });
  send(l.hostOut, udp6(SERVER, OUTSIDE_NAME, { srcPort: 53, dstPort: 5000 }));
  l.poll(1);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  assert.deepEqual(openUdp6(back[0]!), {
    src: SERVER,
    dst: INSIDE_HOST,
    hopLimit: 63,
    ports: [53, 5000],
  });
  assert.equal(l.fwd.counters.nptOut, 1);
  assert.equal(l.fwd.counters.nptIn, 1);
  assert.equal(l.fwd.counters.forwarded, 2);
});

Deno.test("NPTv6 keeps the interface identifier and maps every subnet one to one", () => {
  const l = nptLab();
  const seen = new Set<string>();
  for (const subnet of ["0", "1", "2", "abcd", "fffe"]) {
    const host = `fd01:203:405:${subnet}:1:2:3:4`;
    send(l.hostIn, udp6(host, SERVER));
    l.poll(0);
    const got = openUdp6(receiveAll(l.hostOut)[0]!).src;
    assert.ok(IpCidr.parse("2001:db8:1::/48").contains(parseIpAddress(got)), got);
    assert.ok(got.endsWith(":1:2:3:4"), got);
    seen.add(got);
    // The outside name maps back to exactly the inside host.
    send(l.hostOut, udp6(SERVER, got));
    l.poll(1);
    assert.equal(openUdp6(receiveAll(l.hostIn)[0]!).dst, host);
  }
  assert.equal(seen.size, 5);
});

Deno.test("NPTv6 leaves other sources untranslated and drops subnet 0xffff, counted", () => {
  const l = nptLab();
  send(l.hostIn, udp6("2001:db8:3::5", SERVER));
  l.poll(0);
  assert.equal(openUdp6(receiveAll(l.hostOut)[0]!).src, "2001:db8:3::5");
  assert.equal(l.fwd.counters.nptOut, 0);
  // Subnet 0xffff has no checksum-neutral image that maps back.
  send(l.hostIn, udp6("fd01:203:405:ffff::1", SERVER));
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.nptUntranslatable, 1);
  assert.equal(l.fwd.counters.forwarded, 1);
});

Deno.test("NPTv6 maps the quoted packet of an ICMPv6 error both ways", () => {
  const l = nptLab();
  send(l.hostIn, udp6(INSIDE_HOST, SERVER, { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const sent = receiveAll(l.hostOut)[0]!;
  // A router outside says the translated packet's port is unreachable, quoting it.
  send(l.hostOut, error6("2001:db8:2::99", OUTSIDE_NAME, sent));
  l.poll(1);
  const inErr = receiveAll(l.hostIn);
  assert.equal(inErr.length, 1);
  const e = openError6(inErr[0]!); // ICMPv6 and quoted UDP checksums verified
  assert.equal(e.outer, `2001:db8:2::99 -> ${INSIDE_HOST}`);
  assert.equal(e.quoted.src, INSIDE_HOST);
  assert.equal(e.quoted.dst, SERVER);
  // The inside host's own error about an inbound packet leaves with the outside name.
  send(l.hostOut, udp6(SERVER, OUTSIDE_NAME, { srcPort: 53, dstPort: 5000 }));
  l.poll(2);
  const got = receiveAll(l.hostIn)[0]!;
  send(l.hostIn, error6(INSIDE_HOST, SERVER, got));
  l.poll(3);
  const outErr = openError6(receiveAll(l.hostOut)[0]!);
  assert.equal(outErr.outer, `${OUTSIDE_NAME} -> ${SERVER}`);
  assert.equal(outErr.quoted.src, SERVER);
  assert.equal(outErr.quoted.dst, OUTSIDE_NAME);
  assert.equal(l.fwd.counters.nptIn, 2);
  assert.equal(l.fwd.counters.nptOut, 2);
});

Deno.test("NPTv6: a Time Exceeded about an inbound packet quotes it as it arrived", () => {
  const l = nptLab();
  send(l.hostOut, udp6(SERVER, OUTSIDE_NAME, { srcPort: 53, dstPort: 5000, ttl: 1 }));
  l.poll(0);
  assert.equal(receiveAll(l.hostIn).length, 0);
  assert.equal(l.fwd.counters.ttlExceeded, 1);
  const errs = receiveAll(l.hostOut);
  assert.equal(errs.length, 1);
  const e = openError6(errs[0]!);
  assert.equal(e.kind, "timeExceeded");
  assert.equal(e.outer, `2001:db8:2::1 -> ${SERVER}`); // from the router's own address
  assert.equal(e.quoted.dst, OUTSIDE_NAME); // not the inside host
});

Deno.test("NPTv6 options: same-length IPv6 prefixes, /1 to /64", () => {
  const fwd = new Forwarder();
  const attach = (inside: string, outside: string) =>
    fwd.attach(new Interface(), new Loopback(), { npt: { inside, outside } });
  assert.throws(() => attach("fd00::/48", "2001:db8::/56"), /same length/);
  assert.throws(() => attach("fd00::/64", "2001:db8::/60"), RangeError);
  assert.throws(() => attach("fd00::/65", "2001:db8::/65"), RangeError);
  assert.throws(() => attach("fd00::/0", "::/0"), RangeError);
  assert.throws(() => attach("192.0.2.0/24", "198.51.100.0/24"), TypeError);
  assert.throws(() => attach("not a prefix", "2001:db8::/48"), TypeError);
  assert.equal(attach("fd00:1::/32", "2001:db8::/32"), 0);
  assert.equal(attach("fd00:1:2:3300::/56", "2001:db8:5:a00::/56"), 1);
  assert.equal(attach("fd00:1:2:3::/64", "2001:db8:5:6::/64"), 2);
});

/** A small seeded generator (mulberry32), so that a failure names its case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An IPv6 packet around a TCP (`tcp`) or UDP segment with random ports and payload, checksum filled. */
function segment6(src: Uint8Array, dst: Uint8Array, tcp: boolean, rand: () => number): Uint8Array {
  const l4 = (tcp ? 20 : 8) + 1 + Math.floor(rand() * 40);
  const bytes = new Uint8Array(IPV6_HEADER_LEN + l4);
  emitIpv6({
    src: Ipv6Address.fromBytes(src),
    dst: Ipv6Address.fromBytes(dst),
    nextHeader: tcp ? IpProtocol.Tcp : IpProtocol.Udp,
    payloadLen: l4,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(bytes));
  for (let i = IPV6_HEADER_LEN; i < bytes.length; i++) bytes[i] = rand() * 256;
  const body = bytes.subarray(IPV6_HEADER_LEN);
  if (tcp) {
    const t = new TcpPacket(body);
    t.dataOffset = 5;
    t.fillChecksum(Ipv6Address.fromBytes(src), Ipv6Address.fromBytes(dst));
  } else {
    const u = new UdpPacket(body);
    u.length = l4;
    u.checksum = 0;
    u.fillChecksum(Ipv6Address.fromBytes(src), Ipv6Address.fromBytes(dst));
  }
  return bytes;
}

/** Whether the TCP or UDP checksum of IPv6 packet `p` verifies against the addresses it carries. */
function checksumOk(p: Uint8Array): boolean {
  const s = Ipv6Address.fromBytes(p, 8), d = Ipv6Address.fromBytes(p, 24);
  const body = p.subarray(IPV6_HEADER_LEN);
  return p[6] === IpProtocol.Tcp
    ? new TcpPacket(body).verifyChecksum(s, d)
    : new UdpPacket(body).verifyChecksum(s, d);
}

/** A random address whose first `len` bits are `prefix`'s. */
function inPrefix(prefix: Uint8Array, len: number, rand: () => number): Uint8Array {
  const a = new Uint8Array(16).map(() => rand() * 256);
  for (let bit = 0; bit < len; bit++) {
    const m = 0x80 >>> (bit & 7);
    a[bit >>> 3] = (a[bit >>> 3]! & ~m) | (prefix[bit >>> 3]! & m);
  }
  return a;
}

/** The 16-bit words of an address. */
function words(a: Uint8Array): number[] {
  return Array.from({ length: 8 }, (_, i) => (a[2 * i]! << 8) | a[2 * i + 1]!);
}

/** One's-complement sum of an address's words, 0 and 0xffff folded together. */
function sum16(a: Uint8Array): number {
  let s = 0;
  for (const w of words(a)) s = (s + w) % 0xffff;
  return s;
}

Deno.test("NPTv6 from /1 to /64 is checksum-neutral both ways on random addresses (RFC 6296 §3.5-3.6)", () => {
  const lens = [1, 16, 33, 47, 48, 49, 52, 56, 60, 63, 64];
  let adjustedInIid = 0, skipped = 0, wrapped = 0;
  for (const len of lens) {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(len * 1000 + seed);
      const inside = IpCidr.parse(
        `${Ipv6Address.fromBytes(inPrefix(new Uint8Array(16), 0, rand))}/${len}`,
      ).network();
      const outside = IpCidr.parse(
        `${Ipv6Address.fromBytes(inPrefix(new Uint8Array(16), 0, rand))}/${len}`,
      ).network();
      const npt = new Npt({ inside, outside });
      const inBytes = (inside.address as Ipv6Address).octets();
      const outBytes = (outside.address as Ipv6Address).octets();
      const host = inPrefix(inBytes, len, rand);
      // Past /48, make some identifier words all ones: the adjustment must skip them.
      if (len > 48) {
        for (let w = 4; w < 7; w++) if (rand() < 0.3) host[2 * w] = host[2 * w + 1] = 0xff;
      }
      const server = inPrefix(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0xee]), 40, rand);
      const chosen = len <= 48 ? 3 : words(host).findIndex((w, i) => i >= 4 && w !== 0xffff);
      if (words(host)[chosen] === 0xffff) continue; // the counted-drop case, tested below
      // Now and then pick the word whose image would be 0xffff, which is written as 0.
      if (seed % 7 === 0) {
        const want = (0xffff - ((sum16(inBytes) - sum16(outBytes) + 0xffff) % 0xffff)) % 0xffff;
        if (want !== 0) [host[2 * chosen], host[2 * chosen + 1]] = [want >>> 8, want & 0xff];
      }
      const name = `/${len} seed ${seed}: ${Ipv6Address.fromBytes(host)}`;
      const p = segment6(host, server, seed % 2 === 0, rand);
      assert.ok(checksumOk(p), name);
      assert.equal(npt.outbound(p), true, name);
      const mapped = p.slice(8, 24);
      assert.ok(checksumOk(p), `${name}: checksum after outbound`);
      assert.ok(outside.contains(Ipv6Address.fromBytes(mapped)), name);
      assert.equal(sum16(mapped), sum16(host), name);
      // Only the prefix bits and the chosen word changed.
      const before = words(host), after = words(mapped);
      for (let i = Math.ceil(len / 16); i < 8; i++) {
        if (i !== chosen) assert.equal(after[i], before[i], `${name}: word ${i}`);
      }
      if (after[chosen] === 0 && before[chosen] !== 0) wrapped++;
      if (len > 48) adjustedInIid++;
      if (chosen > 4) skipped++;
      // The reply to the outside name maps back to exactly the host, its checksum still valid.
      const r = segment6(server, mapped, seed % 2 === 1, rand);
      assert.equal(npt.inbound(r), true, name);
      assert.ok(checksumOk(r), `${name}: checksum after inbound`);
      assert.deepEqual(r.slice(24, 40), host, name);
    }
  }
  // The cases the test is about did occur.
  assert.ok(adjustedInIid > 300, `${adjustedInIid}`);
  assert.ok(skipped > 50, `${skipped}`);
  assert.ok(wrapped > 10, `${wrapped}`);
});

Deno.test("NPTv6 past /48: an all-ones interface identifier is not translated, a counted drop", () => {
  const npt = new Npt({ inside: "fd00:1:2:3300::/56", outside: "2001:db8:5:a00::/56" });
  const p = udp6("fd00:1:2:3345:ffff:ffff:ffff:ffff", SERVER);
  const copy = p.slice();
  assert.equal(npt.outbound(p), false);
  assert.deepEqual(p, copy); // nothing written
  const q = udp6(SERVER, "2001:db8:5:a45:ffff:ffff:ffff:ffff");
  assert.equal(npt.inbound(q), false);
  // Through the forwarder: dropped and counted; a neighbour with one word not all ones passes.
  const l = lab(
    { allowDocumentation: true },
    { outside: { npt: { inside: "fd00:1:2:3300::/56", outside: "2001:db8:5:a00::/56" } } },
    {
      inside: { addresses: ["fd00:1:2:3300::1/56"] },
      outside: { addresses: ["2001:db8:2::1/64"] },
    },
  );
  send(l.hostIn, udp6("fd00:1:2:3345:ffff:ffff:ffff:ffff", SERVER));
  send(l.hostIn, udp6("fd00:1:2:3345:ffff:ffff:ffff:fffe", SERVER));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.equal(l.fwd.counters.nptUntranslatable, 1);
  assert.equal(l.fwd.counters.nptOut, 1);
  const got = openUdp6(out[0]!); // checksum verified
  assert.ok(IpCidr.parse("2001:db8:5:a00::/56").contains(parseIpAddress(got.src)), got.src);
  assert.ok(got.src.startsWith("2001:db8:5:a45:ffff:ffff:ffff:"), got.src);
});

Deno.test("NPTv6 /56 through the forwarder, ICMPv6 error quotes included, checksums untouched", () => {
  const l = lab(
    { allowDocumentation: true },
    { outside: { npt: { inside: "fd00:1:2:3300::/56", outside: "2001:db8:5:a00::/56" } } },
    {
      inside: { addresses: ["fd00:1:2:3300::1/56"] },
      outside: { addresses: ["2001:db8:2::1/64"] },
    },
  );
  const host = "fd00:1:2:3345:a:b:c:d";
  send(l.hostIn, udp6(host, SERVER, { srcPort: 5000, dstPort: 53 }));
  l.poll(0);
  const sent = receiveAll(l.hostOut)[0]!;
  const name = openUdp6(sent).src; // UDP checksum verified against the new source
  assert.ok(IpCidr.parse("2001:db8:5:a00::/56").contains(parseIpAddress(name)), name);
  assert.ok(name.startsWith("2001:db8:5:a45:"), name); // the subnet bits past the prefix kept
  assert.ok(name.endsWith(":b:c:d"), name); // the first identifier word took the adjustment
  send(l.hostOut, error6("2001:db8:2::99", name, sent));
  l.poll(1);
  const e = openError6(receiveAll(l.hostIn)[0]!); // ICMPv6 and quoted UDP checksums verified
  assert.equal(e.outer, `2001:db8:2::99 -> ${host}`);
  assert.equal(e.quoted.src, host);
  assert.equal(l.fwd.counters.nptOut, 1);
  assert.equal(l.fwd.counters.nptIn, 1);
});
