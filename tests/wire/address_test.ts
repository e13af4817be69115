import assert from "node:assert/strict";
import fc from "fast-check";
import {
  EthernetAddress,
  formatEndpoint,
  IpCidr,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
} from "../../src/wire/address.ts";

/** An independent RFC 5952 formatter over eight groups, used as the reference. */
function rfc5952(groups: number[]): string {
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return hex.slice(0, best).join(":") + "::" + hex.slice(best + bestLen).join(":");
}

function groupsOf(a: Ipv6Address): number[] {
  const o = a.octets();
  return Array.from({ length: 8 }, (_, i) => (o[2 * i]! << 8) | o[2 * i + 1]!);
}

/** Reference CIDR membership over BigInt. */
function bigOf(a: Ipv4Address | Ipv6Address): bigint {
  return [...a.octets()].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

const v6Arb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Mostly-zero addresses, where "::" placement matters.
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 }).map(
    (g) => new Uint8Array(g.flatMap((x) => [x >> 8, x & 0xff])),
  ),
).map((b) => Ipv6Address.fromBytes(b));
const v4Arb = fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v));

Deno.test("Ipv6Address formats the RFC 5952 §4 examples canonically", () => {
  const cases: [string, string][] = [
    // §4.1: leading zeros suppressed.
    ["2001:0db8::0001", "2001:db8::1"],
    // §4.2.1: "::" shortens as much as possible.
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    // §4.2.2: never for one 16-bit zero field.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.3: the longest run; the first one on a tie.
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    // §4.3: lower case.
    ["2001:DB8::ABCD:EF", "2001:db8::abcd:ef"],
    // §2.1 and §2.2 variants of one address.
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"],
    // §5: IPv4-mapped addresses keep the dotted tail.
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"],
    // Edges.
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["fe80::ff:fe00:a101", "fe80::ff:fe00:a101"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
  ];
  for (const [input, canonical] of cases) {
    assert.equal(Ipv6Address.parse(input).toString(), canonical, input);
  }
});

Deno.test("Ipv6Address text round-trips and matches a reference RFC 5952 formatter", () => {
  fc.assert(
    fc.property(v6Arb, (a) => {
      const text = a.toString();
      assert.ok(Ipv6Address.parse(text).equals(a), text);
      if (!a.isIpv4Mapped) assert.equal(text, rfc5952(groupsOf(a)));
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("Ipv6Address.parse rejects malformed text", () => {
  const bad = [
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2::3",
    ":1::2",
    "1::2:",
    "12345::",
    "g::",
    "::1.2.3",
    "::256.0.0.1",
    "::1.2.3.04",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "fe80::1%eth0",
    "[::1]",
    " ::1",
    "0000:0000:0000:0000:0000:0000:0000:0000:0",
  ];
  for (const text of bad) {
    assert.throws(() => Ipv6Address.parse(text), TypeError, JSON.stringify(text));
  }
  assert.equal(Ipv6Address.parse("1:2:3:4:5:6:1.2.3.4").toString(), "1:2:3:4:5:6:102:304");
});

Deno.test("Ipv4Address parses dotted decimal and rejects everything else", () => {
  assert.equal(Ipv4Address.parse("192.0.2.1").value, 0xc0000201);
  assert.equal(Ipv4Address.parse("0.0.0.0").value, 0);
  assert.equal(Ipv4Address.parse("255.255.255.255").value, 0xffffffff);
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    "0x1.2.3.4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1..3.4",
    "1.2.3.1e1",
  ];
  for (const text of bad) {
    assert.throws(() => Ipv4Address.parse(text), TypeError, JSON.stringify(text));
  }
  fc.assert(
    fc.property(v4Arb, (a) => assert.ok(Ipv4Address.parse(a.toString()).equals(a))),
    { numRuns: 2_000 },
  );
});

Deno.test("Ipv4Address classifies special ranges", () => {
  const p = Ipv4Address.parse;
  assert.ok(p("0.0.0.0").isUnspecified && !p("0.0.0.0").isUnicast);
  assert.ok(p("255.255.255.255").isBroadcast);
  assert.ok(p("224.0.0.1").isMulticast && p("239.255.255.255").isMulticast);
  assert.ok(!p("240.0.0.1").isMulticast);
  assert.ok(p("127.0.0.1").isLoopback);
  assert.ok(p("169.254.1.1").isLinkLocal);
  assert.ok(p("192.0.2.1").isUnicast);
});

Deno.test("Ipv6Address classifies special ranges", () => {
  const p = Ipv6Address.parse;
  assert.ok(p("::").isUnspecified && !p("::").isUnicast);
  assert.ok(p("::1").isLoopback);
  assert.ok(p("ff02::1").isMulticast && !p("ff02::1").isUnicast);
  assert.ok(p("fe80::1").isLinkLocal && p("febf::1").isLinkLocal && !p("fec0::1").isLinkLocal);
  assert.ok(p("::ffff:192.0.2.1").isIpv4Mapped);
  assert.ok(p("ff02::1:ff00:2").isSolicitedNode && !p("ff02::1:fe00:2").isSolicitedNode);
  assert.ok(Ipv6Address.LINK_LOCAL_ALL_NODES.equals(p("ff02::1")));
  assert.ok(Ipv6Address.LINK_LOCAL_ALL_ROUTERS.equals(p("ff02::2")));
  assert.ok(Ipv6Address.LINK_LOCAL_ALL_MLDV2_ROUTERS.equals(p("ff02::16")));
});

Deno.test("Ipv6Address.solicitedNode follows RFC 4291 §2.7.1", () => {
  // The RFC's own example: 4037::01:800:200E:8C6C joins FF02::1:FF0E:8C6C.
  const target = Ipv6Address.parse("4037::01:800:200E:8C6C");
  assert.equal(Ipv6Address.solicitedNode(target).toString(), "ff02::1:ff0e:8c6c");
  // The group the Linux kernel solicited for 2001:db8::2 (kernel_frames.ts, IPV6_NS).
  assert.equal(
    Ipv6Address.solicitedNode(Ipv6Address.parse("2001:db8::2")).toString(),
    "ff02::1:ff00:2",
  );
  fc.assert(
    fc.property(v6Arb, (a) => {
      const s = Ipv6Address.solicitedNode(a);
      assert.ok(s.isSolicitedNode && s.isMulticast);
      assert.equal(s.w3 & 0xffffff, a.w3 & 0xffffff);
    }),
    { numRuns: 1_000 },
  );
});

Deno.test("Ipv6Address.linkLocalFromMac builds the EUI-64 identifier (RFC 4291 appendix A)", () => {
  // Appendix A: 34-56-78-9A-BC-DE gives the identifier 3656:78ff:fe9a:bcde.
  const mac = EthernetAddress.parse("34-56-78-9A-BC-DE");
  assert.equal(Ipv6Address.linkLocalFromMac(mac).toString(), "fe80::3656:78ff:fe9a:bcde");
  // What the Linux kernel derived for the veth ends in kernel_frames.ts.
  assert.equal(
    Ipv6Address.linkLocalFromMac(EthernetAddress.parse("02:00:00:00:a1:01")).toString(),
    "fe80::ff:fe00:a101",
  );
  assert.equal(
    Ipv6Address.linkLocalFromMac(EthernetAddress.parse("ff:ff:ff:ff:ff:ff")).toString(),
    "fe80::fdff:ffff:feff:ffff",
  );
});

Deno.test("EthernetAddress parses, formats and classifies", () => {
  const mac = EthernetAddress.parse("02:00:00:00:A1:01");
  assert.equal(mac.toString(), "02:00:00:00:a1:01");
  assert.ok(mac.isUnicast && mac.isLocal && !mac.isMulticast && !mac.isBroadcast);
  assert.ok(EthernetAddress.parse("33:33:00:00:00:16").isMulticast);
  assert.ok(EthernetAddress.BROADCAST.isBroadcast && EthernetAddress.BROADCAST.isMulticast);
  assert.ok(EthernetAddress.fromBytes(mac.octets()).equals(mac));
  const b = new Uint8Array(8);
  mac.writeTo(b, 1);
  assert.deepEqual([...b], [0, 2, 0, 0, 0, 0xa1, 1, 0]);
  for (const text of ["02:00:00:00:00", "02:00:00:00:00:001", "zz:00:00:00:00:00", ""]) {
    assert.throws(() => EthernetAddress.parse(text), TypeError, text);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (octets) => {
      const m = EthernetAddress.fromBytes(octets);
      assert.deepEqual(m.octets(), octets);
      assert.ok(EthernetAddress.parse(m.toString()).equals(m));
    }),
    { numRuns: 1_000 },
  );
});

Deno.test("IP addresses compare and hash by value", () => {
  const a = Ipv6Address.parse("2001:db8::1"), b = Ipv6Address.parse("2001:db8:0::1");
  assert.ok(a.equals(b));
  assert.equal(a.hash(), b.hash());
  assert.ok(!a.equals(Ipv4Address.parse("192.0.2.1")));
  assert.ok(!Ipv4Address.parse("0.0.0.0").equals(Ipv6Address.UNSPECIFIED));
  assert.equal(Ipv4Address.parse("192.0.2.1").hash(), new Ipv4Address(0xc0000201).hash());
  const hashes = new Set<number>();
  for (let i = 0; i < 1000; i++) hashes.add(new Ipv4Address(0xc0000200 + i).hash());
  assert.ok(hashes.size > 990, "hashes of neighbouring addresses differ");
});

Deno.test("parseIpAddress and formatEndpoint handle both families", () => {
  assert.equal(parseIpAddress("192.0.2.1").version, 4);
  assert.equal(parseIpAddress("2001:db8::1").version, 6);
  assert.equal(parseIpAddress("[2001:db8::1]").toString(), "2001:db8::1");
  assert.throws(() => parseIpAddress("example.com"), TypeError);
  assert.equal(formatEndpoint({ addr: parseIpAddress("192.0.2.1"), port: 80 }), "192.0.2.1:80");
  assert.equal(formatEndpoint({ addr: parseIpAddress("::1"), port: 443 }), "[::1]:443");
});

Deno.test("IpCidr contains, network and broadcast for IPv4", () => {
  const c = IpCidr.parse("192.0.2.77/24");
  assert.ok(c.contains(Ipv4Address.parse("192.0.2.0")));
  assert.ok(c.contains(Ipv4Address.parse("192.0.2.255")));
  assert.ok(!c.contains(Ipv4Address.parse("192.0.3.0")));
  assert.ok(!c.contains(Ipv6Address.parse("::ffff:192.0.2.1")));
  assert.equal(c.network().toString(), "192.0.2.0/24");
  assert.equal(c.broadcast()?.toString(), "192.0.2.255");
  assert.equal(IpCidr.parse("192.0.2.6/30").broadcast()?.toString(), "192.0.2.7");
  assert.equal(IpCidr.parse("192.0.2.6/31").broadcast(), undefined);
  assert.equal(IpCidr.parse("192.0.2.6/32").broadcast(), undefined);
  assert.equal(IpCidr.parse("192.0.2.6/0").broadcast()?.toString(), "255.255.255.255");
  assert.equal(IpCidr.parse("192.0.2.6/0").network().toString(), "0.0.0.0/0");
  assert.ok(IpCidr.parse("0.0.0.0/0").contains(Ipv4Address.parse("203.0.113.9")));
  assert.ok(IpCidr.parse("192.0.2.1").contains(Ipv4Address.parse("192.0.2.1")));
  assert.ok(!IpCidr.parse("192.0.2.1").contains(Ipv4Address.parse("192.0.2.2")));
  assert.equal(IpCidr.parse("192.0.2.1").prefixLen, 32);
  assert.equal(IpCidr.parse("198.51.100.1/25").network().toString(), "198.51.100.0/25");
  assert.equal(IpCidr.parse("198.51.100.200/25").network().toString(), "198.51.100.128/25");
});

Deno.test("IpCidr contains and network for IPv6 at every word boundary", () => {
  const c = IpCidr.parse("2001:db8::2/64");
  assert.ok(c.contains(Ipv6Address.parse("2001:db8::ffff:ffff:ffff:ffff")));
  assert.ok(!c.contains(Ipv6Address.parse("2001:db8:0:1::")));
  assert.ok(!c.contains(Ipv4Address.parse("192.0.2.1")));
  assert.equal(c.network().toString(), "2001:db8::/64");
  assert.equal(c.broadcast(), undefined);
  assert.ok(IpCidr.parse("::/0").contains(Ipv6Address.parse("ff02::1")));
  assert.equal(
    IpCidr.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/33").network().toString(),
    "ffff:ffff:8000::/33",
  );
  assert.equal(
    IpCidr.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/97").network().toString(),
    "ffff:ffff:ffff:ffff:ffff:ffff:8000:0/97",
  );
  assert.equal(IpCidr.parse("2001:db8::1/128").network().toString(), "2001:db8::1/128");
  assert.ok(IpCidr.parse("2001:db8::/127").contains(Ipv6Address.parse("2001:db8::1")));
  assert.ok(!IpCidr.parse("2001:db8::/127").contains(Ipv6Address.parse("2001:db8::2")));
});

Deno.test("IpCidr agrees with a BigInt reference for random blocks and addresses", () => {
  const v4 = fc.tuple(v4Arb, v4Arb, fc.integer({ min: 0, max: 32 }));
  const v6 = fc.tuple(v6Arb, v6Arb, fc.integer({ min: 0, max: 128 }));
  const check = (
    net: Ipv4Address | Ipv6Address,
    addr: Ipv4Address | Ipv6Address,
    prefix: number,
    bits: number,
  ) => {
    const cidr = new IpCidr(net, prefix);
    const shift = BigInt(bits - prefix);
    assert.equal(cidr.contains(addr), bigOf(net) >> shift === bigOf(addr) >> shift);
    // An address is always inside its own network, and the network address is inside too.
    const network = cidr.network();
    assert.equal(bigOf(network.address), (bigOf(net) >> shift) << shift);
    assert.ok(network.contains(net) && cidr.contains(network.address));
  };
  fc.assert(fc.property(v4, ([n, a, p]) => check(n, a, p, 32)), { numRuns: 3_000 });
  fc.assert(fc.property(v6, ([n, a, p]) => check(n, a, p, 128)), { numRuns: 3_000 });
  // Addresses that share a random-length prefix with the block.
  fc.assert(
    fc.property(
      v6Arb,
      fc.integer({ min: 0, max: 128 }),
      fc.bigInt(0n, (1n << 128n) - 1n),
      (n, p, r) => {
        const keep = (1n << BigInt(128 - p)) - 1n;
        const v = (bigOf(n) & ~keep) | (r & keep);
        const bytes = new Uint8Array(16);
        for (let i = 0; i < 16; i++) bytes[i] = Number((v >> BigInt(8 * (15 - i))) & 0xffn);
        assert.ok(new IpCidr(n, p).contains(Ipv6Address.fromBytes(bytes)));
      },
    ),
    { numRuns: 3_000 },
  );
});

Deno.test("IpCidr rejects bad prefix lengths", () => {
  const a = Ipv4Address.parse("192.0.2.1");
  assert.throws(() => new IpCidr(a, 33), RangeError);
  assert.throws(() => new IpCidr(a, -1), RangeError);
  assert.throws(() => new IpCidr(a, 1.5), RangeError);
  assert.throws(() => new IpCidr(Ipv6Address.LOOPBACK, 129), RangeError);
  for (const text of ["192.0.2.0/33", "192.0.2.0/", "/24", "192.0.2.0/x", "2001:db8::/129"]) {
    assert.throws(() => IpCidr.parse(text), TypeError, text);
  }
});
