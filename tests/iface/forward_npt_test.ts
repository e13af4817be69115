import assert from "node:assert/strict";
import { Forwarder } from "../../src/iface/forward.ts";
import { Interface } from "../../src/iface/interface.ts";
import { Loopback } from "../../src/phy/loopback.ts";
import { type Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
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

Deno.test("NPTv6 options: same-length IPv6 prefixes of /48 or shorter", () => {
  const fwd = new Forwarder();
  const attach = (inside: string, outside: string) =>
    fwd.attach(new Interface(), new Loopback(), { npt: { inside, outside } });
  assert.throws(() => attach("fd00::/48", "2001:db8::/56"), RangeError);
  assert.throws(() => attach("fd00::/56", "2001:db8::/56"), RangeError);
  assert.throws(() => attach("192.0.2.0/24", "198.51.100.0/24"), TypeError);
  assert.throws(() => attach("not a prefix", "2001:db8::/48"), TypeError);
  assert.equal(attach("fd00:1::/32", "2001:db8::/32"), 0);
});
