// Path MTU discovery through super-frames: an ingress device that coalesces TCP (a TUN device
// with offloads) says each super-frame's segment size; when those segments would not fit the
// outgoing MTU, the sender gets Fragmentation Needed / Packet Too Big as if each segment had
// come alone (RFC 1191 §4, RFC 8201), instead of the router cutting them smaller unseen.
import assert from "node:assert/strict";
import { Forwarder } from "../../src/iface/forward.ts";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { linkPair } from "../../src/phy/link.ts";
import type { Device, DeviceCapabilities } from "../../src/phy/device.ts";
import { FaultInjector } from "../../src/phy/fault_injector.ts";
import { Tracer } from "../../src/phy/tracer.ts";
import { DeviceWrapper } from "../../src/phy/wrapper.ts";
import type { Ipv6Address } from "../../src/wire/address.ts";
import { Icmpv4Packet, parseIcmpv4 } from "../../src/wire/icmpv4.ts";
import { Icmpv6Packet, parseIcmpv6 } from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { emitIpv6, Ipv6Packet, parseIpv6 } from "../../src/wire/ipv6.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { receiveAll, send, tcp4 } from "./_forward_fixture.ts";

/** A TUN device with offloads: MTU `mtu`, TSO, and the segment size of what it received last. */
class Tun extends DeviceWrapper {
  segmentSize = 0;
  constructor(inner: ConstructorParameters<typeof DeviceWrapper>[0], readonly mtu: number) {
    super(inner);
  }
  override get receivedSegmentSize(): number {
    return this.segmentSize;
  }
  override get capabilities(): DeviceCapabilities {
    return {
      ...this.inner.capabilities,
      mtu: this.mtu,
      checksum: { ...this.inner.capabilities.checksum, tcp: false },
      offload: { checksum: true, tcpv4: true, tcpv6: true, maxFrameSize: 65535 },
    };
  }
}

/** Inside MTU 1500, outside MTU 1280, both with offloads; `wrap` wraps the inside device. */
function pmtuLab(wrap: (d: Device) => Device = (d) => d) {
  const [hostIn, routerIn] = linkPair({ medium: "ip", mtu: 65535 });
  const [routerOut, hostOut] = linkPair({ medium: "ip", mtu: 65535 });
  const inside = new Interface({ addresses: ["192.0.2.1/24", "2001:db8:1::1/64"], seed: 1 });
  const outside = new Interface({ addresses: ["198.51.100.1/24", "2001:db8:2::1/64"], seed: 2 });
  const fwd = new Forwarder({ allowDocumentation: true });
  const rin = new Tun(routerIn, 1500), rout = new Tun(routerOut, 1280);
  const din = wrap(rin);
  fwd.attach(inside, din);
  fwd.attach(outside, rout);
  const si = new SocketSet(), so = new SocketSet();
  return {
    fwd,
    rin,
    hostIn,
    hostOut,
    poll(now: number) {
      inside.poll(now, din, si);
      outside.poll(now, rout, so);
    },
  };
}

/** A DF TCP/IPv4 super-frame of `payload` bytes (20 IP + 20 TCP header bytes). */
function superFrame4(payload: number, df = true): Uint8Array {
  const b = tcp4("192.0.2.10", 40000, "198.51.100.20", 80, 0x18, payload);
  if (!df) {
    b[6]! &= ~0x40;
    new Ipv4Packet(b).fillChecksum();
  }
  return b;
}

Deno.test("Forwarder answers a DF super-frame whose segments exceed the outgoing MTU with Fragmentation Needed", () => {
  const l = pmtuLab();
  l.rin.segmentSize = 1448; // 20 + 20 + 1448 = 1488 > 1280
  const big = superFrame4(20_000);
  send(l.hostIn, big);
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.tooBig, 1);
  assert.equal(l.fwd.counters.forwarded, 0);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const ip = new Ipv4Packet(back[0]!);
  const repr = parseIpv4(ip);
  assert.equal(repr.dst.toString(), "192.0.2.10");
  assert.equal(repr.src.toString(), "192.0.2.1");
  const icmp = parseIcmpv4(new Icmpv4Packet(ip.payload));
  assert.equal(icmp.kind, "dstUnreachable");
  assert.ok(icmp.kind === "dstUnreachable");
  assert.equal(icmp.code, 4); // fragmentation needed and DF set
  assert.equal(icmp.nextHopMtu, 1280);
});

Deno.test("Forwarder passes a super-frame whole when its segments fit the outgoing MTU", () => {
  const l = pmtuLab();
  l.rin.segmentSize = 1240; // 20 + 20 + 1240 = 1280: fits exactly
  const big = superFrame4(20_000);
  send(l.hostIn, big);
  l.poll(0);
  const out = receiveAll(l.hostOut);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, big.length); // whole: the outgoing host cuts it
  assert.equal(l.fwd.counters.superFrames, 1);
  assert.equal(l.fwd.counters.tooBig, 0);
  assert.equal(receiveAll(l.hostIn).length, 0);
});

Deno.test("Forwarder forwards a super-frame without DF, or of unknown segment size, as before", () => {
  const l = pmtuLab();
  l.rin.segmentSize = 1448;
  send(l.hostIn, superFrame4(20_000, false)); // no DF: the router may cut it smaller
  l.poll(0);
  l.rin.segmentSize = 0; // the device did not say: the segments fitted the ingress link
  send(l.hostIn, superFrame4(20_000));
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 2);
  assert.equal(l.fwd.counters.superFrames, 2);
  assert.equal(l.fwd.counters.tooBig, 0);
});

Deno.test("Forwarder answers an IPv6 super-frame whose segments exceed the outgoing MTU with Packet Too Big", () => {
  const l = pmtuLab();
  l.rin.segmentSize = 1428; // 40 + 20 + 1428 = 1488 > 1280
  const tcp = tcp4("192.0.2.10", 40000, "198.51.100.20", 80, 0x18, 20_000).subarray(20);
  const b = new Uint8Array(40 + tcp.length);
  emitIpv6({
    src: parseIpAddress("2001:db8:1::10") as Ipv6Address,
    dst: parseIpAddress("2001:db8:2::20") as Ipv6Address,
    nextHeader: IpProtocol.Tcp,
    payloadLen: tcp.length,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  }, new Ipv6Packet(b));
  b.set(tcp, 40);
  send(l.hostIn, b);
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.tooBig, 1);
  const back = receiveAll(l.hostIn);
  assert.equal(back.length, 1);
  const ip = new Ipv6Packet(back[0]!);
  const repr = parseIpv6(ip);
  const icmp = parseIcmpv6(
    new Icmpv6Packet(ip.payload),
    repr.src as Ipv6Address,
    repr.dst as Ipv6Address,
  );
  assert.ok(icmp.kind === "pktTooBig", icmp.kind);
  assert.equal(icmp.mtu, 1280);
  // Segments that fit go through whole.
  l.rin.segmentSize = 1220; // 40 + 20 + 1220 = 1280
  send(l.hostIn, b);
  l.poll(1);
  assert.equal(receiveAll(l.hostOut).length, 1);
  assert.equal(l.fwd.counters.superFrames, 1);
});

Deno.test("Forwarder sees the segment size through device wrappers (Tracer, FaultInjector)", () => {
  const l = pmtuLab((d) => new Tracer(new FaultInjector(d, {}), () => {}));
  l.rin.segmentSize = 1448; // 20 + 20 + 1448 = 1488 > 1280
  send(l.hostIn, superFrame4(20_000));
  l.poll(0);
  assert.equal(receiveAll(l.hostOut).length, 0);
  assert.equal(l.fwd.counters.tooBig, 1);
  assert.equal(receiveAll(l.hostIn).length, 1); // Fragmentation Needed, not a silent re-cut
});
