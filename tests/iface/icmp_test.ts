import assert from "node:assert/strict";
import { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import { emitIcmpv4, Icmpv4Packet, type Icmpv4Repr } from "../../src/wire/icmpv4.ts";
import { emitIcmpv6, Icmpv6Packet, type Icmpv6Repr } from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { emitIpv6, Ipv6Packet } from "../../src/wire/ipv6.ts";
import { drain, inject, pair } from "./helpers.ts";

const A4 = Ipv4Address.parse("192.0.2.1"), B4 = Ipv4Address.parse("192.0.2.2");
const A6 = Ipv6Address.parse("2001:db8::1");

/** An IPv4 packet from A to B carrying `icmp` (bytes of the ICMP message). */
function ipv4(icmp: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + icmp.length);
  emitIpv4({
    src: A4,
    dst: B4,
    protocol: IpProtocol.Icmp,
    payloadLen: icmp.length,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 1,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
  }, new Ipv4Packet(b));
  b.set(icmp, 20);
  return b;
}

function icmpv4(repr: Icmpv4Repr): Uint8Array {
  const b = new Uint8Array(8 + repr.data.length);
  emitIcmpv4(repr, new Icmpv4Packet(b));
  return b;
}

/** An IPv6 packet from A to `dst` with hop limit 255 carrying `repr`. */
function ipv6(dst: Ipv6Address, repr: Icmpv6Repr, len: number): Uint8Array {
  const b = new Uint8Array(40 + len);
  emitIpv6({
    src: A6,
    dst,
    nextHeader: IpProtocol.Icmpv6,
    payloadLen: len,
    hopLimit: 255,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(b));
  emitIcmpv6(repr, new Icmpv6Packet(b.subarray(40)), A6, dst);
  return b;
}

Deno.test("icmp: an echo request with a bad checksum is counted and not answered", () => {
  const [a, b] = pair("ip");
  const msg = icmpv4({ kind: "echoRequest", ident: 1, seqNo: 1, data: new Uint8Array(4) });
  msg[2]! ^= 0xff;
  inject(a.dev, [ipv4(msg)]);
  b.iface.poll(0, b.dev, b.sockets);
  assert.equal(b.iface.counters.badChecksum, 1);
  assert.equal(drain(a.dev).length, 0);
});

Deno.test("icmp: an echo request with a non-zero code is not an echo (RFC 792) and gets no reply", () => {
  const [a, b] = pair("ip");
  const msg = icmpv4({ kind: "echoRequest", ident: 1, seqNo: 1, data: new Uint8Array(4) });
  msg[1] = 1;
  new Icmpv4Packet(msg).fillChecksum();
  inject(a.dev, [ipv4(msg)]);
  b.iface.poll(0, b.dev, b.sockets);
  assert.equal(b.iface.counters.unsupported, 1);
  assert.equal(drain(a.dev).length, 0);
});

Deno.test("icmp: the echo reply is built by the wire layer with the request's identifier, sequence and data", () => {
  const [a, b] = pair("ip");
  const data = new Uint8Array([9, 8, 7, 6, 5]);
  inject(a.dev, [ipv4(icmpv4({ kind: "echoRequest", ident: 0x1234, seqNo: 77, data }))]);
  b.iface.poll(0, b.dev, b.sockets);
  const [reply] = drain(a.dev);
  const ip = new Ipv4Packet(reply!);
  assert.equal(ip.src.toString(), "192.0.2.2");
  const icmp = Icmpv4Packet.newChecked(ip.payload);
  assert.equal(icmp.verifyChecksum(), true);
  assert.deepEqual([icmp.msgType, icmp.echoIdent, icmp.echoSeqNo], [0, 0x1234, 77]);
  assert.deepEqual(icmp.data, data);
});

Deno.test("icmp: an ICMPv4 error quoting fewer than 8 bytes past the IP header is malformed", () => {
  const [a, b] = pair("ip");
  const quoted = ipv4(new Uint8Array(4)).subarray(0, 24); // header + 4 bytes
  inject(a.dev, [ipv4(icmpv4({ kind: "dstUnreachable", code: 3, nextHopMtu: 0, data: quoted }))]);
  b.iface.poll(0, b.dev, b.sockets);
  assert.equal(b.iface.counters.malformed, 1);
  assert.equal(b.iface.counters.icmpError, 0);
});

Deno.test("icmp: a solicited neighbor advertisement sent to a multicast group is malformed (RFC 4861 §7.1.2)", () => {
  const [a, b] = pair("ethernet");
  const mac = EthernetAddress.parse("02:00:00:00:00:0a");
  const na: Icmpv6Repr = {
    kind: "ndisc",
    repr: {
      kind: "neighborAdvert",
      router: false,
      solicited: true,
      override: true,
      target: A6,
      targetLinkAddr: mac,
    },
  };
  const pkt = ipv6(Ipv6Address.LINK_LOCAL_ALL_NODES, na, 32);
  const frame = new Uint8Array(14 + pkt.length);
  frame.set([0x33, 0x33, 0, 0, 0, 1], 0);
  mac.writeTo(frame, 6);
  frame[12] = 0x86;
  frame[13] = 0xdd;
  frame.set(pkt, 14);
  inject(a.dev, [frame]);
  b.iface.poll(0, b.dev, b.sockets);
  assert.equal(b.iface.counters.malformed, 1);
  assert.equal(b.iface.neighbors.lookup(A6, 0), null);
});
