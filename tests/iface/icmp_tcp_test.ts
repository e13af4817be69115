import assert from "node:assert/strict";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import {
  type IpAddress,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
} from "../../src/wire/address.ts";
import {
  emitIcmpv4,
  icmpv4BufferLen,
  Icmpv4Packet,
  type Icmpv4Repr,
} from "../../src/wire/icmpv4.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
} from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { emitIpv6, Ipv6Packet } from "../../src/wire/ipv6.ts";
import { drain, type Host, inject, pair, run } from "./helpers.ts";

/** An IP packet from `src` to `dst` carrying an ICMP error that quotes `invoking`. */
function icmpError(
  src: IpAddress,
  dst: IpAddress,
  invoking: Uint8Array,
  kind: "unreachable" | "packetTooBig",
  code: number,
  mtu: number,
): Uint8Array {
  if (src.version === 4) {
    const repr: Icmpv4Repr = {
      kind: "dstUnreachable",
      code: kind === "packetTooBig" ? 4 : code,
      nextHopMtu: kind === "packetTooBig" ? mtu : 0,
      data: invoking.subarray(0, 28),
    };
    const len = icmpv4BufferLen(repr);
    const p = new Uint8Array(20 + len);
    emitIpv4({
      src,
      dst: dst as Ipv4Address,
      protocol: IpProtocol.Icmp,
      payloadLen: len,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      ident: 9,
      dontFrag: false,
      moreFrags: false,
      fragOffset: 0,
    }, new Ipv4Packet(p));
    emitIcmpv4(repr, new Icmpv4Packet(p.subarray(20)));
    return p;
  }
  const repr: Icmpv6Repr = kind === "packetTooBig"
    ? { kind: "pktTooBig", mtu, data: invoking.subarray(0, 48) }
    : { kind: "dstUnreachable", code, data: invoking.subarray(0, 48) };
  const len = icmpv6BufferLen(repr);
  const p = new Uint8Array(40 + len);
  emitIpv6({
    src,
    dst: dst as Ipv6Address,
    nextHeader: IpProtocol.Icmpv6,
    payloadLen: len,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(p));
  emitIcmpv6(repr, new Icmpv6Packet(p.subarray(40)), src, dst as Ipv6Address);
  return p;
}

/** Polls only `h` at `t` and returns (and drops) what it sent to the peer device `peer`. */
function pollAlone(h: Host, peer: Host, t: number): Uint8Array[] {
  h.iface.poll(t, h.dev, h.sockets);
  return drain(peer.dev, t);
}

for (const v of [4, 6] as const) {
  const a = parseIpAddress(v === 4 ? "192.0.2.1" : "2001:db8::1");
  const b = parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2");

  Deno.test(`Interface hands a Packet Too Big quoting a TCP segment to its connection (IPv${v})`, () => {
    const [ha, hb] = pair("ip");
    const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
    const listener = new TcpListenSocket({ addr: any, port: 80 });
    hb.iface.listenTcp(hb.sockets, listener);
    const client = new TcpSocket();
    ha.iface.connectTcp(ha.sockets, client, { addr: b, port: 80 }, {}, 0);
    run([ha, hb], 0, 5);
    assert.equal(client.state, "established");
    const mss = client.info.mss;
    client.send(new Uint8Array(8000));
    const sent = pollAlone(ha, hb, 6); // lost on the way: a router answers
    assert.ok(sent.length > 0 && sent[0]!.length > 1300);
    inject(hb.dev, [icmpError(b, a, sent[0]!, "packetTooBig", 0, 1280)], 7);
    const again = pollAlone(ha, hb, 7);
    assert.equal(client.info.icmpErrors, 1);
    assert.equal(client.info.pathMtuReductions, 1);
    assert.ok(client.info.mss < mss, `${client.info.mss} < ${mss}`);
    // The flight leaves again at once in packets of the new path MTU.
    assert.ok(again.length > 0 && again.every((f) => f.length <= 1280), "resent at 1280");
    assert.equal(ha.iface.counters.icmpError, 0);
  });

  Deno.test(`Interface ends a connect on a port unreachable quoting its SYN (IPv${v})`, () => {
    const [ha, hb] = pair("ip");
    const client = new TcpSocket();
    ha.iface.connectTcp(ha.sockets, client, { addr: b, port: 81 }, {}, 0);
    const syn = pollAlone(ha, hb, 0);
    assert.equal(syn.length, 1);
    inject(hb.dev, [icmpError(b, a, syn[0]!, "unreachable", v === 4 ? 3 : 4, 0)], 1);
    pollAlone(ha, hb, 1);
    assert.equal(client.state, "closed");
    assert.equal(client.error, "refused");
  });

  Deno.test(`Interface counts an ICMP error quoting a sequence number outside the flight (IPv${v})`, () => {
    const [ha, hb] = pair("ip");
    const client = new TcpSocket();
    ha.iface.connectTcp(ha.sockets, client, { addr: b, port: 81 }, {}, 0);
    const syn = pollAlone(ha, hb, 0)[0]!.slice();
    // A blind attacker's guess: the quoted sequence number is not ours (RFC 5927 §4.1).
    const tcpAt = v === 4 ? 20 : 40;
    syn[tcpAt + 4]! ^= 0x80;
    inject(hb.dev, [icmpError(b, a, syn, "unreachable", v === 4 ? 3 : 4, 0)], 1);
    pollAlone(ha, hb, 1);
    assert.equal(client.state, "synSent");
    assert.equal(client.info.icmpIgnored, 1);
  });
}
