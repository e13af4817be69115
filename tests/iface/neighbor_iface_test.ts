import assert from "node:assert/strict";
import { UdpSocket } from "../../src/socket/udp.ts";
import { ArpOperation, ArpPacket, emitArp, parseArp } from "../../src/wire/arp.ts";
import {
  EthernetAddress,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
} from "../../src/wire/address.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { drain, inject, MAC_A, MAC_B, pair, run } from "./helpers.ts";

const MAC_X = EthernetAddress.parse("02:00:00:00:00:99");

function arpFrame(
  op: number,
  spa: string,
  tpa: string,
  dst = EthernetAddress.BROADCAST,
): Uint8Array {
  const f = new Uint8Array(42);
  emitEthernet({ src: MAC_X, dst, etherType: EtherType.Arp, vlan: null }, new EthernetFrame(f));
  emitArp({
    operation: op,
    senderHardwareAddr: MAC_X,
    senderProtocolAddr: Ipv4Address.parse(spa),
    targetHardwareAddr: EthernetAddress.ZERO,
    targetProtocolAddr: Ipv4Address.parse(tpa),
  }, new ArpPacket(f.subarray(14)));
  return f;
}

Deno.test("Interface answers an ARP request for its own address and learns the sender", () => {
  const [a, b] = pair("ethernet");
  inject(b.dev, [arpFrame(ArpOperation.Request, "192.0.2.99", "192.0.2.1")]);
  a.iface.poll(0, a.dev, a.sockets);
  const out = drain(b.dev);
  assert.equal(out.length, 1);
  const f = new EthernetFrame(out[0]!);
  assert.ok(f.dst.equals(MAC_X));
  const r = parseArp(new ArpPacket(f.payload));
  assert.equal(r.operation, ArpOperation.Reply);
  assert.ok(r.senderHardwareAddr.equals(EthernetAddress.parse(MAC_A)));
  assert.equal(r.senderProtocolAddr.toString(), "192.0.2.1");
  assert.ok(a.iface.neighbors.lookup(parseIpAddress("192.0.2.99"), 0)?.equals(MAC_X));
});

Deno.test("Interface ignores ARP requests for other hosts and does not learn from them", () => {
  const [a, b] = pair("ethernet");
  inject(b.dev, [arpFrame(ArpOperation.Request, "192.0.2.99", "192.0.2.77")]);
  a.iface.poll(0, a.dev, a.sockets);
  assert.equal(drain(b.dev).length, 0);
  assert.equal(a.iface.neighbors.lookup(parseIpAddress("192.0.2.99"), 0), null);
  assert.equal(a.iface.counters.notForUs, 1);
});

Deno.test("Interface sends a gratuitous ARP on its first poll when asked", () => {
  const [a, b] = pair("ethernet", { gratuitousArp: true });
  a.iface.poll(0, a.dev, a.sockets);
  const out = drain(b.dev);
  assert.equal(out.length, 1);
  const r = parseArp(new ArpPacket(new EthernetFrame(out[0]!).payload));
  assert.equal(r.senderProtocolAddr.toString(), "192.0.2.1");
  assert.equal(r.targetProtocolAddr.toString(), "192.0.2.1");
  a.iface.poll(1, a.dev, a.sockets);
  assert.equal(drain(b.dev).length, 0);
});

for (const v of [4, 6] as const) {
  Deno.test(`Interface drops queued packets with a count when an IPv${v} neighbor never answers`, () => {
    const [a, b] = pair("ethernet", {
      neighborCache: { queueLimit: 4, retransmitInterval: 1000, maxRequests: 3 },
    });
    const sock = new UdpSocket();
    const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
    a.iface.bindUdp(a.sockets, sock, { addr: any, port: 0 });
    const ghost = parseIpAddress(v === 4 ? "192.0.2.99" : "2001:db8::99");
    for (let i = 0; i < 6; i++) sock.send(new Uint8Array(10), { addr: ghost, port: 9 });
    a.iface.poll(0, a.dev, a.sockets);
    assert.equal(drain(b.dev).length, 1); // one request
    assert.equal(a.iface.counters.queueFull, 2);
    assert.equal(a.iface.pollAt(0, a.sockets), 1000);
    a.iface.poll(999, a.dev, a.sockets);
    assert.equal(drain(b.dev).length, 0); // rate limited
    a.iface.poll(1000, a.dev, a.sockets);
    a.iface.poll(2000, a.dev, a.sockets);
    assert.equal(drain(b.dev).length, 2);
    assert.equal(a.iface.pollAt(2000, a.sockets), 3000);
    a.iface.poll(3000, a.dev, a.sockets);
    assert.equal(a.iface.counters.neighborUnresolved, 4);
    assert.equal(a.iface.neighbors.size, 0);
    assert.equal(a.iface.pollAt(3000, a.sockets), Infinity);
    void b;
  });
}

Deno.test("Interface resolves a neighbor and flushes the packets it held", () => {
  const [a, b] = pair("ethernet");
  const server = new UdpSocket();
  b.iface.bindUdp(b.sockets, server, { addr: Ipv4Address.UNSPECIFIED, port: 7 });
  const client = new UdpSocket();
  a.iface.bindUdp(a.sockets, client, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
  for (let i = 0; i < 3; i++) {
    client.send(new Uint8Array([i]), { addr: parseIpAddress("192.0.2.2"), port: 7 });
  }
  run([a, b], 0, 2);
  for (let i = 0; i < 3; i++) assert.equal(server.recv(new Uint8Array(4))?.length, 1);
  assert.ok(
    a.iface.neighbors.lookup(parseIpAddress("192.0.2.2"), 2)?.equals(EthernetAddress.parse(MAC_B)),
  );
  assert.deepEqual(a.iface.counters.snapshot(), {});
});

Deno.test("Interface drops NDP messages whose hop limit is not 255", () => {
  const [a, b] = pair("ethernet");
  // B solicits A with hop limit 64 by hand: a raw IPv6 frame.
  const f = new Uint8Array(14 + 40 + 32);
  emitEthernet({
    src: MAC_X,
    dst: EthernetAddress.parse(MAC_A),
    etherType: EtherType.Ipv6,
    vlan: null,
  }, new EthernetFrame(f));
  f[14] = 0x60;
  f[14 + 5] = 32;
  f[14 + 6] = 58;
  f[14 + 7] = 64;
  parseIpAddress("2001:db8::99").version === 6 &&
    (parseIpAddress("2001:db8::99") as Ipv6Address).writeTo(f, 14 + 8);
  (parseIpAddress("2001:db8::1") as Ipv6Address).writeTo(f, 14 + 24);
  f[54] = 135;
  (parseIpAddress("2001:db8::1") as Ipv6Address).writeTo(f, 54 + 8);
  f[54 + 24] = 1;
  f[54 + 25] = 1;
  MAC_X.writeTo(f, 54 + 26);
  inject(b.dev, [f]);
  a.iface.poll(0, a.dev, a.sockets);
  // The checksum is not filled: verification happens first and counts it.
  assert.equal(a.iface.counters.badChecksum + a.iface.counters.ttlExceeded, 1);
  assert.equal(drain(b.dev).length, 0);
});
