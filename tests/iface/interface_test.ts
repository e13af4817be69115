import assert from "node:assert/strict";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { NetError } from "../../src/iface/errors.ts";
import { RawSocket } from "../../src/socket/raw.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { TcpSocket } from "../../src/socket/tcp/mod.ts";
import {
  EthernetAddress,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
} from "../../src/wire/address.ts";
import { emitEthernet, EthernetFrame, EtherType } from "../../src/wire/ethernet.ts";
import { emitIpv4, Ipv4Packet, type Ipv4Repr } from "../../src/wire/ipv4.ts";
import { emitUdp, UdpPacket } from "../../src/wire/udp.ts";
import { drain, inject, MAC_A, pair, run } from "./helpers.ts";

const A = parseIpAddress("192.0.2.1") as Ipv4Address;
const B = parseIpAddress("192.0.2.2") as Ipv4Address;

function udpPacket(
  over: Partial<Ipv4Repr>,
  payload: Uint8Array,
  dport = 7,
): Uint8Array {
  const repr: Ipv4Repr = {
    src: B,
    dst: A,
    protocol: 17,
    payloadLen: 8 + payload.length,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 77,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
    ...over,
  };
  const b = new Uint8Array(20 + repr.payloadLen);
  emitIpv4(repr, new Ipv4Packet(b));
  emitUdp(
    { srcPort: 1000, dstPort: dport },
    payload,
    new UdpPacket(b.subarray(20)),
    repr.src,
    repr.dst,
  );
  return b;
}

function fragmentsOf(packet: Uint8Array, size: number): Uint8Array[] {
  const data = packet.subarray(20);
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += size) {
    const n = Math.min(size, data.length - off);
    const f = new Uint8Array(20 + n);
    f.set(packet.subarray(0, 20));
    f.set(data.subarray(off, off + n), 20);
    const p = new Ipv4Packet(f);
    p.totalLen = 20 + n;
    p.fragOffset = off;
    p.moreFrags = off + n < data.length;
    p.fillChecksum();
    out.push(f);
  }
  return out;
}

function ethFrame(ip: Uint8Array, dst = EthernetAddress.parse(MAC_A)): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  emitEthernet(
    { src: EthernetAddress.parse("02:00:00:00:00:99"), dst, etherType: EtherType.Ipv4, vlan: null },
    new EthernetFrame(f),
  );
  f.set(ip, 14);
  return f;
}

Deno.test("Interface counts every dropped frame under exactly one reason", () => {
  const [a, b] = pair("ethernet");
  const sock = new UdpSocket();
  a.iface.bindUdp(a.sockets, sock, { addr: Ipv4Address.UNSPECIFIED, port: 7 });
  const good = udpPacket({}, new Uint8Array(4));
  const badSum = good.slice();
  badSum[20 + 8] = badSum[20 + 8]! ^ 0xff; // payload byte: UDP checksum fails
  const badHeader = good.slice();
  badHeader[0] = 0x44; // IHL 4
  const otherHost = udpPacket(
    { dst: parseIpAddress("192.0.2.77") as Ipv4Address },
    new Uint8Array(4),
  );
  const frames = [
    ethFrame(good),
    ethFrame(badSum),
    ethFrame(badHeader),
    ethFrame(otherHost),
    ethFrame(good, EthernetAddress.parse("02:00:00:00:00:55")), // another MAC
    new Uint8Array(5), // runt
    ethFrame(udpPacket({}, new Uint8Array(4), 8)), // closed port, no error back (b not polled)
  ];
  inject(b.dev, frames);
  a.iface.poll(0, a.dev, a.sockets);
  const c = a.iface.counters;
  assert.equal(c.rxFrames, frames.length);
  assert.deepEqual(c.snapshot(), { badChecksum: 1, malformed: 2, notForUs: 2, noSocket: 1 });
  assert.equal(c.totalDrops() + 1, frames.length); // the one good frame was delivered
  assert.ok(sock.canRecv());
  drain(b.dev);
});

Deno.test("Interface reassembles IPv4 fragments arriving out of order and duplicated", () => {
  const [a, b] = pair("ip");
  const sock = new UdpSocket();
  a.iface.bindUdp(a.sockets, sock, { addr: Ipv4Address.UNSPECIFIED, port: 7 });
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const frags = fragmentsOf(udpPacket({}, data), 1000);
  assert.equal(frags.length, 4);
  inject(b.dev, [frags[3]!, frags[2]!, frags[0]!, frags[0]!, frags[1]!]);
  a.iface.poll(0, a.dev, a.sockets);
  const buf = new Uint8Array(4000);
  assert.equal(sock.recv(buf)?.length, 3000);
  assert.deepEqual(buf.subarray(0, 3000), data);
  assert.equal(a.iface.counters.reassemblyOverflow, 1); // the duplicate
});

Deno.test("Interface times out a partial datagram at the exact deadline pollAt announced and reports it", () => {
  const [a, b] = pair("ip", { reassembly4: { timeout: 15_000 } });
  const frags = fragmentsOf(udpPacket({}, new Uint8Array(3000)), 1000);
  inject(b.dev, [frags[0]!], 100);
  a.iface.poll(100, a.dev, a.sockets);
  assert.equal(a.iface.pollAt(100, a.sockets), 15_100);
  assert.equal(a.iface.pollDelay(100, a.sockets), 15_000);
  a.iface.poll(15_099, a.dev, a.sockets);
  assert.equal(a.iface.counters.reassemblyTimeout, 0);
  a.iface.poll(15_100, a.dev, a.sockets);
  assert.equal(a.iface.counters.reassemblyTimeout, 1);
  const out = drain(b.dev);
  assert.equal(out.length, 1);
  assert.deepEqual([out[0]![20], out[0]![21]], [11, 1]); // time exceeded in reassembly
  assert.equal(a.iface.pollAt(15_100, a.sockets), Infinity);
  assert.equal(a.iface.pollDelay(15_100, a.sockets), null);
});

Deno.test("Interface keeps a fragment flood within its reassembly bounds", () => {
  const [a, b] = pair("ip", { reassembly4: { maxDatagrams: 4, maxBytes: 32 * 1024 } }, {}, {
    queueLen: 100_000,
  });
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const f = fragmentsOf(udpPacket({ ident: i }, new Uint8Array(3000)), 1000)[i % 2]!;
    frames.push(f);
  }
  inject(b.dev, frames);
  for (let t = 0; t < 20; t++) a.iface.poll(t, a.dev, a.sockets);
  const c = a.iface.counters;
  assert.equal(c.rxFrames, 2000);
  assert.ok(c.reassemblyOverflow >= 1990);
  // Every frame is accounted for: held in the buffer (at most 4 datagrams) or counted.
  assert.ok(c.totalDrops() >= 1996, JSON.stringify(c.snapshot()));
});

Deno.test("Interface quotes at most 576 bytes in an ICMPv4 error", () => {
  const [a, b] = pair("ip");
  const raw = new RawSocket({ version: 4, protocol: 1 });
  a.sockets.add(raw);
  const client = new UdpSocket();
  a.iface.bindUdp(a.sockets, client, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
  client.send(new Uint8Array(1400), { addr: B, port: 9 });
  run([a, b], 0, 3);
  const buf = new Uint8Array(2000);
  assert.equal(raw.recv(buf)?.length, 576);
});

Deno.test("Interface pollAt is now while a socket has data queued and never when idle", () => {
  const [a] = pair("ip");
  const sock = new UdpSocket();
  a.iface.bindUdp(a.sockets, sock, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
  assert.equal(a.iface.pollAt(50, a.sockets), Infinity);
  sock.send(new Uint8Array(1), { addr: B, port: 9 });
  assert.equal(a.iface.pollAt(50, a.sockets), 50);
  assert.equal(a.iface.pollDelay(50, a.sockets), 0);
  a.iface.poll(50, a.dev, a.sockets);
  assert.equal(a.iface.pollAt(51, a.sockets), Infinity);
});

Deno.test("Interface pollAt reports the TCP retransmission deadline exactly", () => {
  const [a] = pair("ip");
  const client = new TcpSocket();
  a.iface.connectTcp(a.sockets, client, { addr: B, port: 80 }, {}, 0);
  assert.equal(a.iface.pollAt(0, a.sockets), 0);
  a.iface.poll(0, a.dev, a.sockets); // the SYN leaves; nobody answers
  const at = a.iface.pollAt(0, a.sockets);
  assert.ok(at > 0 && Number.isFinite(at));
  assert.equal(at, client.pollAt(a.iface.context(0)));
  const sent = a.dev.stats.framesSent;
  a.iface.poll(at - 1, a.dev, a.sockets);
  assert.equal(a.dev.stats.framesSent, sent);
  a.iface.poll(at, a.dev, a.sockets);
  assert.equal(a.dev.stats.framesSent, sent + 1); // the retransmitted SYN
});

Deno.test("Interface bindUdp checks addresses and ports", () => {
  const iface = new Interface({ addresses: ["192.0.2.1/24"], seed: 3 });
  const sockets = new SocketSet();
  const err = (code: string) => (e: unknown) => e instanceof NetError && e.code === code;
  assert.throws(
    () => iface.bindUdp(sockets, new UdpSocket(), { addr: parseIpAddress("192.0.2.9"), port: 5 }),
    err("EADDRNOTAVAIL"),
  );
  iface.bindUdp(sockets, new UdpSocket(), { addr: Ipv6Address.UNSPECIFIED, port: 5 });
  assert.throws(
    () => iface.bindUdp(sockets, new UdpSocket(), { addr: Ipv6Address.UNSPECIFIED, port: 5 }),
    err("EADDRINUSE"),
  );
  iface.bindUdp(sockets, new UdpSocket(), { addr: A, port: 5 }); // other family: fine
});

Deno.test("Interface sends fairly: a busy socket does not starve the others", () => {
  const [a, b] = pair("ip", {}, {}, { queueLen: 8 });
  const socks = [0, 1, 2, 3].map(() => {
    const s = new UdpSocket();
    a.iface.bindUdp(a.sockets, s, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
    return s;
  });
  for (let i = 0; i < 20; i++) socks[0]!.send(new Uint8Array([0]), { addr: B, port: 9 });
  for (const s of socks.slice(1)) s.send(new Uint8Array([1]), { addr: B, port: 9 });
  a.iface.poll(0, a.dev, a.sockets); // the link takes 8 frames
  const frames = drain(b.dev);
  assert.equal(frames.length, 8);
  const ones = frames.filter((f) => f[28] === 1).length;
  assert.equal(ones, 3);
});

Deno.test("Interface.linkMtu bounds the IP MTU: a SYN announces the MSS it allows and UDP is fragmented to it", () => {
  const [a, b] = pair("ip");
  b.iface.linkMtu = 1280;
  const tcp = new TcpSocket();
  b.iface.connectTcp(b.sockets, tcp, { addr: A, port: 80 }, {}, 0);
  b.iface.poll(0, b.dev, b.sockets);
  const [syn] = drain(a.dev);
  const ip = new Ipv4Packet(syn!);
  // MSS option: kind 2, length 4, at the first option of the SYN (20-byte TCP header).
  const tcpHeader = ip.payload;
  const opts = tcpHeader.subarray(20, (tcpHeader[12]! >> 4) * 4);
  const at = opts.findIndex((v, i) => v === 2 && opts[i + 1] === 4);
  assert.ok(at >= 0, "an MSS option");
  assert.equal((opts[at + 2]! << 8) | opts[at + 3]!, 1280 - 40);
  const udp = new UdpSocket();
  b.iface.bindUdp(b.sockets, udp, { addr: B, port: 5000 });
  udp.send(new Uint8Array(2000), { addr: A, port: 5001 });
  b.iface.poll(1, b.dev, b.sockets);
  const frames = drain(a.dev);
  assert.ok(frames.length >= 2, `${frames.length} fragments`);
  assert.ok(frames.every((f) => f.length <= 1280), frames.map((f) => f.length).join(","));
  b.iface.linkMtu = 9000; // above the device's: the device's 1500 stays the bound
  udp.send(new Uint8Array(1400), { addr: A, port: 5001 });
  b.iface.poll(2, b.dev, b.sockets);
  assert.deepEqual(drain(a.dev).map((f) => f.length), [1400 + 28]);
  b.iface.linkMtu = null;
  assert.equal(b.iface.linkMtu, null);
  assert.throws(() => (b.iface.linkMtu = 1280.5), RangeError);
  assert.throws(() => (b.iface.hopLimit = 0), RangeError);
});
