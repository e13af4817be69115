import assert from "node:assert/strict";
import { Routes } from "../../src/iface/route.ts";
import { IpCidr, parseIpAddress } from "../../src/wire/address.ts";

const ip = parseIpAddress;

Deno.test("Routes picks the longest matching prefix and falls back to the default gateway", () => {
  const r = new Routes();
  r.addAddress(IpCidr.parse("192.0.2.2/24"));
  r.add({ cidr: IpCidr.parse("0.0.0.0/0"), via: ip("192.0.2.1") });
  r.add({ cidr: IpCidr.parse("198.51.100.0/24"), via: ip("192.0.2.254") });
  r.add({ cidr: IpCidr.parse("198.51.100.128/25"), via: ip("192.0.2.253") });
  assert.equal(r.nextHop(ip("192.0.2.77"))?.toString(), "192.0.2.77");
  assert.equal(r.nextHop(ip("198.51.100.1"))?.toString(), "192.0.2.254");
  assert.equal(r.nextHop(ip("198.51.100.200"))?.toString(), "192.0.2.253");
  assert.equal(r.nextHop(ip("203.0.113.9"))?.toString(), "192.0.2.1");
  assert.equal(r.nextHop(ip("2001:db8::1")), null);
  r.remove(IpCidr.parse("0.0.0.0/0"));
  assert.equal(r.nextHop(ip("203.0.113.9")), null);
});

Deno.test("Routes selects the source address on the next hop's prefix and of matching scope", () => {
  const r = new Routes();
  r.addAddress(IpCidr.parse("10.0.0.2/8"));
  r.addAddress(IpCidr.parse("192.0.2.2/24"));
  r.addAddress(IpCidr.parse("fe80::2/64"));
  r.addAddress(IpCidr.parse("2001:db8:1::2/64"));
  r.addAddress(IpCidr.parse("2001:db8:2::2/64"));
  r.add({ cidr: IpCidr.parse("::/0"), via: ip("2001:db8:2::1") });
  assert.equal(r.sourceFor(ip("192.0.2.9"))?.toString(), "192.0.2.2");
  assert.equal(r.sourceFor(ip("10.1.2.3"))?.toString(), "10.0.0.2");
  assert.equal(r.sourceFor(ip("fe80::9"))?.toString(), "fe80::2");
  assert.equal(r.sourceFor(ip("2001:db8:1::9"))?.toString(), "2001:db8:1::2");
  assert.equal(r.sourceFor(ip("2001:db8:ffff::9"))?.toString(), "2001:db8:2::2");
  assert.equal(r.sourceFor(ip("ff02::1"))?.toString(), "fe80::2");
});

Deno.test("Routes recognises subnet broadcast addresses and its own addresses", () => {
  const r = new Routes();
  r.addAddress(IpCidr.parse("192.0.2.2/24"));
  const v4 = (s: string) => {
    const a = ip(s);
    if (a.version !== 4) throw new TypeError(s);
    return a;
  };
  assert.ok(r.isSubnetBroadcast(v4("192.0.2.255")));
  assert.ok(!r.isSubnetBroadcast(v4("192.0.3.255")));
  assert.ok(!r.isSubnetBroadcast(v4("192.0.2.254")));
  assert.ok(r.hasAddress(ip("192.0.2.2")));
  assert.throws(() => r.addAddress(IpCidr.parse("224.0.0.1/4")), TypeError);
  assert.throws(() => r.add({ cidr: IpCidr.parse("::/0"), via: ip("192.0.2.1") }), TypeError);
});

Deno.test("Routes.generation changes with every change of addresses or routes, and only then", () => {
  const r = new Routes();
  const seen = new Set<number>([r.generation]);
  const changed = () => {
    assert.ok(!seen.has(r.generation), "the generation did not change");
    seen.add(r.generation);
  };
  const same = (f: () => unknown) => {
    const g = r.generation;
    f();
    assert.equal(r.generation, g);
  };
  r.addAddress(IpCidr.parse("192.0.2.2/24"));
  changed();
  same(() => r.addAddress(IpCidr.parse("192.0.2.2/24")));
  r.add({ cidr: IpCidr.parse("0.0.0.0/0"), via: ip("192.0.2.1") });
  changed();
  same(() => r.remove(IpCidr.parse("203.0.113.0/24")));
  assert.equal(r.remove(IpCidr.parse("0.0.0.0/0")), 1);
  changed();
  same(() => r.removeAddress(ip("192.0.2.9")));
  assert.equal(r.removeAddress(ip("192.0.2.2")), true);
  changed();
  // Lookups do not change it.
  same(() => r.nextHop(ip("198.51.100.1")));
});
