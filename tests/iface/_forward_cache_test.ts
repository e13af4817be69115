import assert from "node:assert/strict";
import { DecisionCache } from "../../src/iface/_forward_cache.ts";
import { IpCidr } from "../../src/wire/cidr.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { linkPair } from "../../src/phy/link.ts";
import { lab, receiveAll, send, udp4, udp6 } from "./_forward_fixture.ts";

const ip = parseIpAddress;

Deno.test("DecisionCache finds what was filled, per ingress, family, source and destination", () => {
  const c = new DecisionCache();
  const s4 = ip("192.0.2.10"), d4 = ip("198.51.100.20"), gw = ip("198.51.100.254");
  assert.equal(c.find(1, 0, s4, d4), -1);
  c.fill(0, s4, d4, 1, gw);
  const e = c.find(1, 0, ip("192.0.2.10"), ip("198.51.100.20")); // equal, not the same objects
  assert.ok(e >= 0);
  assert.equal(c.iface(e), 1);
  assert.equal(c.via(e), gw);
  assert.equal(c.find(1, 1, s4, d4), -1); // another ingress interface
  assert.equal(c.find(1, 0, d4, s4), -1); // the reverse direction
  assert.equal(c.find(1, 0, s4, ip("198.51.100.21")), -1);
  // IPv6 keys use every word; an on-link decision has no gateway.
  const s6 = ip("2001:db8:1::10"), d6 = ip("2001:db8:2::20");
  c.fill(0, s6, d6, 1, null);
  const e6 = c.find(1, 0, ip("2001:db8:1::10"), ip("2001:db8:2::20"));
  assert.ok(e6 >= 0);
  assert.equal(c.via(e6), null);
  assert.equal(c.find(1, 0, ip("2001:db8:1::10"), ip("2001:db9:2::20")), -1);
  assert.equal(c.find(1, 0, ip("2001:db8:1::10"), ip("2001:db8:2:0:1::20")), -1);
  // A new generation empties it.
  assert.equal(c.find(2, 0, s4, d4), -1);
  assert.equal(c.find(2, 0, s6, d6), -1);
});

Deno.test("DecisionCache: a decision that shares an entry replaces the older one", () => {
  const c = new DecisionCache();
  const s = ip("192.0.2.10");
  const first = ip("198.51.100.1");
  assert.equal(c.find(0, 0, s, first), -1); // generation 0 from here
  c.fill(0, s, first, 1, null);
  const e = c.find(0, 0, s, first);
  // Find another destination hashed to the same entry.
  let other = null;
  for (let i = 2; i < 100_000 && other === null; i++) {
    const d = ip(`198.51.${100 + (i >>> 8)}.${i & 255}`);
    c.fill(0, s, d, 0, null);
    if (c.find(0, 0, s, first) < 0) other = d;
  }
  assert.ok(other !== null);
  assert.equal(c.iface(c.find(0, 0, s, other)), 0);
  assert.ok(e >= 0);
});

Deno.test("Forwarder checks the TTL of every packet of a flow, cached or not", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { ttl: 64 }));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { ttl: 1 }));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20", { ttl: 2 }));
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.deepEqual(out.map((f) => parseIpv4(new Ipv4Packet(f)).ttl), [63, 1]);
  assert.equal(l.fwd.counters.ttlExceeded, 1);
  assert.equal(receiveAll(l.hostIn).length, 1); // the Time Exceeded
});

Deno.test("Forwarder decides afresh after a route is removed from its table", () => {
  const l = lab();
  l.fwd.routes.add({ cidr: "203.0.113.0/24", via: "198.51.100.254", iface: 1 });
  send(l.hostIn, udp4("192.0.2.10", "203.0.113.5"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 1);
  assert.equal(l.fwd.routes.remove("203.0.113.0/24"), 1);
  send(l.hostIn, udp4("192.0.2.10", "203.0.113.5"));
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.noRoute, 1);
  assert.equal(l.fwd.counters.forwarded, 1);
});

Deno.test("Forwarder decides afresh after an interface's addresses or routes change", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 2);
  // The source becomes one of the router's own addresses: spoofed from now on.
  l.inside.routes.addAddress(IpCidr.parse("192.0.2.10/24"));
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.spoofedSource, 1);
  // The outside prefix goes: no route for the IPv6 flow any more.
  assert.equal(l.outside.routes.removeAddress(ip("2001:db8:2::1")), true);
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20"));
  l.poll(2);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.noRoute, 1);
  // And back: a route through the outside interface's own table.
  l.outside.routes.add({ cidr: IpCidr.parse("2001:db8:2::/64"), via: null });
  send(l.hostIn, udp6("2001:db8:1::10", "2001:db8:2::20"));
  l.poll(3);
  assert.equal(receiveAll(l.hostOut).length, 1);
  assert.equal(l.fwd.counters.forwarded, 3);
});

Deno.test("Forwarder decides afresh after its interfaces are detached and others attached", () => {
  const l = lab();
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 1);
  l.fwd.detachAll();
  // Index 1 is now another link, with as many addresses as the old one (the same sum of
  // route generations): only the attachment count tells the cached decision is stale.
  const [other, host] = linkPair({ medium: "ip" });
  const third = new Interface({ addresses: ["203.0.113.1/24", "2001:db8:3::1/64"], seed: 3 });
  l.fwd.attach(l.inside, l.routerIn);
  l.fwd.attach(third, other);
  send(l.hostIn, udp4("192.0.2.10", "198.51.100.20"));
  const none = new SocketSet();
  l.inside.poll(1, l.routerIn, none);
  third.poll(1, other, none);
  assert.equal(receiveAll(host).length, 0);
  assert.equal(l.fwd.counters.noRoute, 1);
  assert.equal(l.fwd.counters.forwarded, 1);
});
