import assert from "node:assert/strict";
import { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN, SocketSet } from "../../src/iface/socket_set.ts";
import { NetError } from "../../src/iface/errors.ts";
import { Rng } from "../../src/rand.ts";
import { IcmpSocket } from "../../src/socket/icmp.ts";
import { RawSocket } from "../../src/socket/raw.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { TcpSocket } from "../../src/socket/tcp/mod.ts";

const A = parseIpAddress("192.0.2.1");
const B = parseIpAddress("192.0.2.2");
const V6 = parseIpAddress("2001:db8::1");

function fakeTcp(): TcpSocket {
  return new TcpSocket();
}

Deno.test("SocketSet hands out distinct handles and forgets removed sockets", () => {
  const set = new SocketSet();
  const a = new UdpSocket(), b = new IcmpSocket(), c = new RawSocket({ version: 4, protocol: 253 });
  const ha = set.add(a), hb = set.add(b), hc = set.add(c);
  assert.equal(new Set([ha, hb, hc]).size, 3);
  assert.equal(set.size, 3);
  assert.equal(set.get(hb), b);
  assert.deepEqual(set.rawSockets, [c]);
  assert.equal(set.remove(ha), a);
  assert.equal(set.get(ha), undefined);
  assert.equal(set.remove(ha), undefined);
  assert.equal(set.size, 2);
  assert.deepEqual(new Set([set.at(0), set.at(1)]), new Set([b, c]));
  set.remove(hc);
  assert.deepEqual(set.rawSockets, []);
  assert.throws(() => set.add(b), TypeError);
});

Deno.test("SocketSet demultiplexes UDP by exact address before the wildcard of the family", () => {
  const set = new SocketSet();
  const exact = new UdpSocket(), any4 = new UdpSocket(), any6 = new UdpSocket();
  for (const s of [exact, any4, any6]) set.add(s);
  set.indexUdp(exact, { addr: A, port: 53 });
  assert.throws(
    () => set.indexUdp(any4, { addr: Ipv4Address.UNSPECIFIED, port: 53 }),
    (e: unknown) => e instanceof NetError && e.code === "EADDRINUSE",
  );
  set.indexUdp(any4, { addr: Ipv4Address.UNSPECIFIED, port: 54 });
  set.indexUdp(any6, { addr: Ipv6Address.UNSPECIFIED, port: 53 });
  assert.equal(set.findUdp(A, 53), exact);
  assert.equal(set.findUdp(B, 53), null);
  assert.equal(set.findUdp(B, 54), any4);
  assert.equal(set.findUdp(V6, 53), any6);
  assert.equal(set.findUdp(V6, 54), null);
  set.unindex(exact);
  assert.equal(set.findUdp(A, 53), null);
  assert.equal(set.portInUse("udp", 53), true); // any6 still holds it
});

Deno.test("SocketSet finds TCP sockets by 4-tuple and rejects a duplicate 4-tuple", () => {
  const set = new SocketSet();
  const sockets = Array.from({ length: 200 }, fakeTcp);
  sockets.forEach((s, i) => {
    set.add(s);
    set.indexTcp(s, { addr: A, port: 80 }, { addr: B, port: 10000 + i });
  });
  for (let i = 0; i < 200; i++) assert.equal(set.findTcp(A, 80, B, 10000 + i), sockets[i]);
  assert.equal(set.findTcp(B, 80, A, 10000), null);
  const dup = fakeTcp();
  set.add(dup);
  assert.throws(
    () => set.indexTcp(dup, { addr: A, port: 80 }, { addr: B, port: 10000 }),
    (e: unknown) => e instanceof NetError && e.code === "EADDRINUSE",
  );
  set.remove(set.handleOf(sockets[0]!)!);
  assert.equal(set.findTcp(A, 80, B, 10000), null);
  set.indexTcp(dup, { addr: A, port: 80 }, { addr: B, port: 10000 });
  assert.equal(set.findTcp(A, 80, B, 10000), dup);
});

Deno.test("SocketSet finds a listener by exact address, then by the wildcard address", () => {
  const set = new SocketSet();
  const exact = fakeTcp(), wild = fakeTcp();
  set.add(exact);
  set.add(wild);
  set.indexTcpListener(exact, { addr: A, port: 80 });
  set.indexTcpListener(wild, { addr: Ipv4Address.UNSPECIFIED, port: 8080 });
  assert.equal(set.findTcpListener(A, 80), exact);
  assert.equal(set.findTcpListener(B, 80), null);
  assert.equal(set.findTcpListener(B, 8080), wild);
  assert.equal(set.findTcpListener(V6, 8080), null);
  assert.equal(set.portInUse("tcp", 8080), true);
  assert.equal(set.portInUse("udp", 8080), false);
});

Deno.test("SocketSet reaps nothing by itself and tracks listener children until adopted", () => {
  const set = new SocketSet();
  const child = fakeTcp();
  const h = set.add(child);
  set.markChild(child);
  assert.equal(set.isChild(child), true);
  assert.equal(set.adopt(child), h);
  assert.equal(set.isChild(child), false);
});

Deno.test("SocketSet ephemeral ports spread over the whole range without collisions", () => {
  const set = new SocketSet();
  const rng = new Rng(7);
  const seen = new Set<number>();
  const buckets = new Array(16).fill(0);
  for (let i = 0; i < 4000; i++) {
    const port = set.allocatePort("tcp", rng);
    assert.ok(port >= EPHEMERAL_PORT_MIN && port <= EPHEMERAL_PORT_MAX);
    assert.ok(!seen.has(port), `port ${port} allocated twice`);
    seen.add(port);
    buckets[Math.floor((port - EPHEMERAL_PORT_MIN) / 1024)]++;
    const s = fakeTcp();
    set.add(s);
    set.indexTcp(s, { addr: A, port }, { addr: B, port: 80 });
  }
  // Each 1024-port sixteenth gets 250 on average; a uniform draw stays well inside 150..350.
  for (const n of buckets) assert.ok(n > 150 && n < 350, `uneven spread ${buckets}`);
});

Deno.test("SocketSet ephemeral port allocation fails with EADDRNOTAVAIL when exhausted", () => {
  const set = new SocketSet();
  const rng = new Rng(1);
  for (let port = EPHEMERAL_PORT_MIN; port <= EPHEMERAL_PORT_MAX; port++) {
    const s = new UdpSocket({ rxSlots: 1, rxBytes: 1, txSlots: 1, txBytes: 1 });
    set.add(s);
    set.indexUdp(s, { addr: Ipv4Address.UNSPECIFIED, port });
  }
  assert.throws(
    () => set.allocatePort("udp", rng),
    (e: unknown) =>
      e instanceof NetError && e.code === "EADDRNOTAVAIL" && /49152-65535/.test(e.message),
  );
  assert.ok(set.allocatePort("tcp", rng) >= EPHEMERAL_PORT_MIN);
});

Deno.test("SocketSet indexes ICMP sockets by echo identifier", () => {
  const set = new SocketSet();
  const a = new IcmpSocket(), b = new IcmpSocket();
  set.add(a);
  set.add(b);
  set.indexIcmp(a, 42);
  assert.throws(() => set.indexIcmp(b, 42), NetError);
  assert.equal(set.findIcmp(42), a);
  set.remove(set.handleOf(a)!);
  assert.equal(set.findIcmp(42), null);
});

Deno.test("An emptied SocketSet shows no socket, handle, release or lingering", () => {
  const set = new SocketSet();
  const s = fakeTcp();
  const h = set.add(s);
  set.remove(h);
  assert.equal(set.size, 0);
  assert.deepEqual([...set], []);
  for (const handle of [0, -1, h, h + 1]) assert.equal(set.get(handle), undefined);
  assert.equal(set.handleOf(s), undefined);
  assert.equal(set.releasedCount, 0);
  assert.equal(set.lingering(), false);
  assert.throws(() => set.socket(0), NetError);
  assert.throws(() => set.release(0), NetError);
});
