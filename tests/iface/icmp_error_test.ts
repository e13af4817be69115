import assert from "node:assert/strict";
import { RawSocket } from "../../src/socket/raw.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import {
  type Ipv4Address,
  Ipv4Address as V4,
  Ipv6Address,
  parseIpAddress,
} from "../../src/wire/address.ts";
import { internetChecksum } from "../../src/wire/checksum.ts";
import { emitIpv4, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { emitUdp, UdpPacket } from "../../src/wire/udp.ts";
import { pair, run } from "./helpers.ts";

const A = parseIpAddress("192.0.2.1") as Ipv4Address;
const B = parseIpAddress("192.0.2.2") as Ipv4Address;

function ipv4(src: Ipv4Address, dst: Ipv4Address, protocol: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + body.length);
  emitIpv4({
    src,
    dst,
    protocol,
    payloadLen: body.length,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 1,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
  }, new Ipv4Packet(b));
  b.set(body, 20);
  return b;
}

function udp4(src: Ipv4Address, dst: Ipv4Address, sport: number, dport: number): Uint8Array {
  const u = new Uint8Array(8 + 4);
  emitUdp({ srcPort: sport, dstPort: dport }, new Uint8Array(4), new UdpPacket(u), src, dst);
  return ipv4(src, dst, 17, u);
}

for (const v of [4, 6] as const) {
  Deno.test(`Interface answers a datagram to a closed UDP port with port unreachable over IPv${v}`, () => {
    const [a, b] = pair("ethernet");
    const client = new UdpSocket();
    const any = v === 4 ? V4.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
    const local = a.iface.bindUdp(a.sockets, client, { addr: any, port: 0 });
    const dst = parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2");
    client.send(new Uint8Array(10), { addr: dst, port: 9999 });
    run([a, b], 0, 4);
    assert.equal(b.iface.counters.noSocket, 1);
    const err = client.takeError();
    assert.ok(err !== null);
    assert.deepEqual([err.version, err.type, err.code], v === 4 ? [4, 3, 3] : [6, 1, 4]);
    assert.equal(err.remote.port, 9999);
    assert.equal(err.local.port, local.port);
    assert.equal(err.from.toString(), dst.toString());
  });
}

Deno.test("Interface answers an unknown protocol with protocol unreachable", () => {
  const [a, b] = pair("ip");
  const sender = new RawSocket({ version: 4, protocol: 253 });
  const icmp = new RawSocket({ version: 4, protocol: 1 });
  a.sockets.add(sender);
  a.sockets.add(icmp);
  sender.send(ipv4(A, B, 253, new Uint8Array(16)));
  run([a, b], 0, 3);
  assert.equal(b.iface.counters.unsupported, 1);
  const buf = new Uint8Array(600);
  const r = icmp.recv(buf);
  assert.ok(r !== null);
  assert.deepEqual([buf[20], buf[21]], [3, 2]); // destination unreachable, protocol
  assert.equal(r.length, 20 + 8 + 36); // the whole invoking packet is quoted
  assert.equal(a.iface.counters.icmpError, 1); // no socket for protocol 253 errors
});

Deno.test("Interface never sends an ICMP error about a broadcast or an ICMP error", () => {
  const [a, b] = pair("ip");
  const raw = new RawSocket({ version: 4, protocol: 17 });
  const rawIcmp = new RawSocket({ version: 4, protocol: 1 });
  a.sockets.add(raw);
  a.sockets.add(rawIcmp);
  // UDP to a closed port at the subnet broadcast address.
  raw.send(udp4(A, parseIpAddress("192.0.2.255") as Ipv4Address, 1000, 9));
  // A port unreachable quoting a datagram B never sent: B counts it and stays silent.
  const quoted = udp4(B, A, 2000, 3000);
  const icmpMsg = new Uint8Array(8 + quoted.length);
  icmpMsg[0] = 3;
  icmpMsg[1] = 3;
  icmpMsg.set(quoted, 8);
  const c = internetChecksum(icmpMsg);
  icmpMsg[2] = c >>> 8;
  icmpMsg[3] = c & 0xff;
  rawIcmp.send(ipv4(A, B, 1, icmpMsg));
  run([a, b], 0, 3);
  assert.equal(b.iface.counters.icmpError, 1);
  assert.equal(b.iface.counters.noSocket, 1);
  assert.equal(b.dev.stats.framesSent, 0);
});

Deno.test("Interface rate-limits ICMP errors with its token bucket", () => {
  const [a, b] = pair("ip", {}, { icmpErrorRate: { burst: 3, interval: 1000 } });
  const client = new UdpSocket();
  a.iface.bindUdp(a.sockets, client, { addr: V4.UNSPECIFIED, port: 0 });
  for (let i = 0; i < 10; i++) client.send(new Uint8Array(1), { addr: B, port: 9 });
  run([a, b], 0, 0);
  assert.equal(b.iface.counters.noSocket, 10);
  assert.equal(b.iface.counters.icmpRateLimited, 7);
  assert.equal(b.dev.stats.framesSent, 3);
});
