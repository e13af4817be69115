import assert from "node:assert/strict";
import fc from "fast-check";
import { AcceptAny } from "../../src/iface/accept_any.ts";
import type { InterfaceConfig } from "../../src/iface/interface.ts";
import { IcmpSocket } from "../../src/socket/icmp.ts";
import { TcpSocket } from "../../src/socket/tcp/socket.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { Ipv4Address, parseIpAddress } from "../../src/wire/address.ts";
import { emitIpv4, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { emitUdp, UdpPacket } from "../../src/wire/udp.ts";
import { drain, type Host, inject, pair, run } from "./helpers.ts";

const ip = parseIpAddress;
const DEFAULT_ROUTES: NonNullable<InterfaceConfig["routes"]> = [
  { cidr: "0.0.0.0/0", via: null },
  { cidr: "::/0", via: null },
];

/** A = client (192.0.2.1) routing everything onto the link; B = proxy (192.0.2.2) in accept-any. */
function proxyPair(
  acceptAny: NonNullable<InterfaceConfig["acceptAny"]> = { allowDocumentation: true },
) {
  return pair("ip", { routes: DEFAULT_ROUTES }, { acceptAny, routes: DEFAULT_ROUTES });
}

function connect(h: Host, dst: string, port: number, localPort?: number): TcpSocket {
  const s = new TcpSocket();
  h.iface.connectTcp(
    h.sockets,
    s,
    { addr: ip(dst), port },
    localPort === undefined ? {} : { localPort },
    0,
  );
  return s;
}

function readAll(s: TcpSocket): string {
  const buf = new Uint8Array(4096);
  const n = s.recv(buf);
  return new TextDecoder().decode(buf.subarray(0, n));
}

function ipv4Udp(src: string, dst: string, ttl: number, sport: number, dport: number): Uint8Array {
  const s = ip(src) as Ipv4Address, d = ip(dst) as Ipv4Address;
  const u = new Uint8Array(8 + 4);
  emitUdp({ srcPort: sport, dstPort: dport }, new Uint8Array(4), new UdpPacket(u), s, d);
  const b = new Uint8Array(20 + u.length);
  emitIpv4({
    src: s,
    dst: d,
    protocol: 17,
    payloadLen: u.length,
    ttl,
    dscp: 0,
    ecn: 0,
    ident: 1,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
  }, new Ipv4Packet(b));
  b.set(u, 20);
  return b;
}

Deno.test("Interface without acceptAny counts TCP to a foreign address as not for us", () => {
  const [a, b] = pair("ip", { routes: DEFAULT_ROUTES }, { routes: DEFAULT_ROUTES });
  const c = connect(a, "198.51.100.7", 80);
  run([a, b], 0, 5);
  assert.equal(c.state, "synSent");
  assert.ok(b.iface.counters.notForUs >= 1);
  assert.equal(b.iface.acceptAny, null);
});

for (const v of [4, 6] as const) {
  Deno.test(`AcceptAny terminates TCP to any address and port with localEndpoint = the original destination over IPv${v}`, () => {
    const [a, b] = proxyPair();
    const l = b.iface.acceptAny!.listenTcp();
    const d1 = v === 4 ? "198.51.100.7" : "2001:db8:1::7";
    const d2 = v === 4 ? "198.51.100.8" : "2001:db8:1::8";
    // Same client port to two destinations: two distinct flows.
    const c1 = connect(a, d1, 443, 40000);
    const c2 = connect(a, d2, 8080, 40000);
    run([a, b], 0, 5);
    const s1 = b.iface.acceptTcp(b.sockets, l)!, s2 = b.iface.acceptTcp(b.sockets, l)!;
    assert.ok(s1 !== null && s2 !== null);
    const byDst = new Map([s1, s2].map((s) => [s.localEndpoint!.addr.toString(), s]));
    assert.equal(byDst.get(ip(d1).toString())!.localEndpoint!.port, 443);
    assert.equal(byDst.get(ip(d2).toString())!.localEndpoint!.port, 8080);
    assert.equal(byDst.get(ip(d1).toString())!.remoteEndpoint!.port, 40000);
    // No byte of one flow reaches the other, either way.
    c1.send(new TextEncoder().encode("to-one"));
    c2.send(new TextEncoder().encode("to-two"));
    byDst.get(ip(d1).toString())!.send(new TextEncoder().encode("from-one"));
    byDst.get(ip(d2).toString())!.send(new TextEncoder().encode("from-two"));
    run([a, b], 6, 12);
    assert.equal(readAll(byDst.get(ip(d1).toString())!), "to-one");
    assert.equal(readAll(byDst.get(ip(d2).toString())!), "to-two");
    assert.equal(readAll(c1), "from-one");
    assert.equal(readAll(c2), "from-two");
    assert.equal(b.iface.acceptAny!.counters.flowsOpened, 2);
    assert.equal(b.iface.acceptAny!.flowCount, 2);
  });
}

Deno.test("AcceptAny resets TCP to a foreign address when no transparent listener is open", () => {
  const [a, b] = proxyPair();
  const c = connect(a, "198.51.100.7", 80);
  run([a, b], 0, 5);
  assert.equal(c.state, "closed");
  assert.equal(b.iface.counters.noSocket, 1);
});

Deno.test("AcceptAny drops SYNs beyond maxFlows silently and admits again after a flow closes", () => {
  const [a, b] = proxyPair({ allowDocumentation: true, maxFlows: 2 });
  const l = b.iface.acceptAny!.listenTcp();
  const c1 = connect(a, "198.51.100.1", 80);
  const c2 = connect(a, "198.51.100.2", 80);
  run([a, b], 0, 5);
  const c3 = connect(a, "198.51.100.3", 80);
  run([a, b], 6, 10);
  assert.equal(c1.state, "established");
  assert.equal(c2.state, "established");
  assert.equal(c3.state, "synSent"); // no RST: the client retries
  assert.ok(b.iface.acceptAny!.counters.flowLimit >= 1);
  assert.equal(b.iface.counters.noSocket, 0);
  // One flow ends (reset by the proxy); the retried SYN gets in.
  const s1 = b.iface.acceptTcp(b.sockets, l)!;
  s1.abort();
  run([a, b], 11, 20);
  run([a, b], 1000, 1100, 100); // the SYN retransmission (RTO 1 s)
  assert.equal(c3.state, "established");
});

Deno.test("AcceptAny answers SYNs beyond the transparent listener's SYN queue with SYN cookies", () => {
  const [a, b] = proxyPair();
  const l = b.iface.acceptAny!.listenTcp({ synQueue: 1 });
  const c1 = connect(a, "198.51.100.1", 80);
  const c2 = connect(a, "198.51.100.2", 81);
  run([a, b], 0, 5);
  assert.equal(l.info.synCookiesSent, 1);
  assert.equal(l.info.synCookiesAccepted, 1);
  assert.equal(c1.state, "established");
  assert.equal(c2.state, "established");
  const got = [b.iface.acceptTcp(b.sockets, l)!, b.iface.acceptTcp(b.sockets, l)!]
    .map((s) => `${s.localEndpoint!.addr}:${s.localEndpoint!.port}`).sort();
  assert.deepEqual(got, ["198.51.100.1:80", "198.51.100.2:81"]);
});

Deno.test("AcceptAny drops martian sources and destinations and counts them", () => {
  const [a, b] = pair("ip", {}, { acceptAny: {}, routes: DEFAULT_ROUTES });
  b.iface.acceptAny!.listenUdp();
  // Loopback source, then a TEST-NET destination without allowDocumentation.
  inject(a.dev, [
    ipv4Udp("127.0.0.1", "198.51.100.9", 64, 1000, 53),
    ipv4Udp("192.0.2.1", "198.51.100.9", 64, 1000, 53),
    ipv4Udp("192.0.2.1", "0.1.2.3", 64, 1000, 53),
  ]);
  run([b], 0, 1);
  assert.equal(b.iface.acceptAny!.counters.martian, 3);
  assert.equal(b.iface.acceptAny!.acceptUdp(), null);
  assert.equal(drain(a.dev).length, 0); // nothing answers a martian
});

Deno.test("AcceptAny drops a packet whose TTL expires here and answers ICMP time exceeded", () => {
  const [a, b] = proxyPair();
  b.iface.acceptAny!.listenUdp();
  inject(a.dev, [ipv4Udp("192.0.2.1", "198.51.100.9", 1, 1000, 53)]);
  run([b], 0, 1);
  assert.equal(b.iface.counters.ttlExceeded, 1);
  assert.equal(b.iface.acceptAny!.acceptUdp(), null);
  const out = drain(a.dev);
  assert.equal(out.length, 1);
  const p = new Ipv4Packet(out[0]!);
  assert.equal(p.protocol, 1);
  assert.equal(p.payload[0], 11); // time exceeded
  assert.equal(p.src.toString(), "192.0.2.2"); // from the proxy's own address
  // TTL 2 is terminated.
  inject(a.dev, [ipv4Udp("192.0.2.1", "198.51.100.9", 2, 1000, 53)]);
  run([b], 2, 3);
  assert.ok(b.iface.acceptAny!.acceptUdp() !== null);
});

Deno.test("AcceptAny keeps UDP flows apart by 4-tuple, replies from the original destination and expires idle flows", () => {
  const [a, b] = proxyPair({ allowDocumentation: true, udpIdleTimeout: 5000 });
  const any = b.iface.acceptAny!;
  any.listenUdp();
  const c1 = new UdpSocket(), c2 = new UdpSocket();
  a.iface.bindUdp(a.sockets, c1, { addr: Ipv4Address.UNSPECIFIED, port: 5001 });
  a.iface.bindUdp(a.sockets, c2, { addr: Ipv4Address.UNSPECIFIED, port: 5002 });
  const dns = { addr: ip("198.51.100.53"), port: 53 };
  c1.send(new TextEncoder().encode("q1"), dns);
  c2.send(new TextEncoder().encode("q2"), dns);
  c1.send(new TextEncoder().encode("q1b"), dns);
  run([a, b], 0, 3);
  const f1 = any.acceptUdp()!, f2 = any.acceptUdp()!;
  assert.equal(any.acceptUdp(), null);
  const flows = new Map([f1, f2].map((f) => [f.remote.port, f]));
  const buf = new Uint8Array(64);
  const take = (s: UdpSocket): string[] => {
    const out: string[] = [];
    for (let r = s.recv(buf); r !== null; r = s.recv(buf)) {
      out.push(new TextDecoder().decode(buf.subarray(0, r.length)));
    }
    return out;
  };
  assert.deepEqual(take(flows.get(5001)!.socket), ["q1", "q1b"]);
  assert.deepEqual(take(flows.get(5002)!.socket), ["q2"]);
  assert.equal(flows.get(5001)!.local.addr.toString(), "198.51.100.53");
  assert.equal(flows.get(5001)!.local.port, 53);
  // Replies leave from the original destination.
  flows.get(5001)!.socket.send(new TextEncoder().encode("a1"), flows.get(5001)!.remote);
  flows.get(5002)!.socket.send(new TextEncoder().encode("a2"), flows.get(5002)!.remote);
  run([a, b], 4, 6);
  const r1 = c1.recv(buf)!;
  assert.equal(new TextDecoder().decode(buf.subarray(0, r1.length)), "a1");
  assert.equal(r1.remote.addr.toString(), "198.51.100.53");
  assert.equal(r1.remote.port, 53);
  const r2 = c2.recv(buf)!;
  assert.equal(new TextDecoder().decode(buf.subarray(0, r2.length)), "a2");
  assert.equal(c1.recv(buf), null);
  // Idle expiry: 5 s after the last datagram from the client.
  assert.equal(b.iface.pollAt(6, b.sockets), 5000);
  run([a, b], 4999, 4999);
  assert.equal(any.flowCount, 2);
  run([a, b], 5000, 5000);
  assert.equal(any.flowCount, 0);
  assert.equal(any.counters.udpExpired, 2);
  assert.equal(flows.get(5001)!.socket.isOpen, false);
  assert.equal(b.sockets.size, 0);
});

Deno.test("AcceptAny bounds UDP flows by maxFlows and the accept backlog", () => {
  const [a, b] = proxyPair({ allowDocumentation: true, maxFlows: 3, udpBacklog: 2 });
  const any = b.iface.acceptAny!;
  any.listenUdp();
  const c = new UdpSocket({ txSlots: 16 });
  a.iface.bindUdp(a.sockets, c, { addr: Ipv4Address.UNSPECIFIED, port: 5001 });
  for (let i = 1; i <= 4; i++) c.send(new Uint8Array(1), { addr: ip(`198.51.100.${i}`), port: 9 });
  run([a, b], 0, 3);
  assert.equal(any.pendingUdp, 2);
  assert.equal(any.counters.udpBacklogFull, 2);
  any.acceptUdp();
  any.acceptUdp();
  for (let i = 5; i <= 7; i++) c.send(new Uint8Array(1), { addr: ip(`198.51.100.${i}`), port: 9 });
  run([a, b], 4, 6);
  assert.equal(any.flowCount, 3);
  assert.equal(any.counters.flowLimit, 2);
});

Deno.test("AcceptAny answers ICMP echo for any destination only when echo is set", () => {
  for (const echo of [true, false]) {
    const [a, b] = proxyPair({ allowDocumentation: true, echo });
    const ping = new IcmpSocket();
    a.iface.bindIcmp(a.sockets, ping, 7);
    ping.sendEcho(ip("198.51.100.77"), 1, new Uint8Array(8));
    run([a, b], 0, 3);
    const r = ping.recv(new Uint8Array(8));
    if (echo) {
      assert.equal(r?.kind, "echoReply");
      assert.equal(r?.remote.toString(), "198.51.100.77");
    } else {
      assert.equal(r, null);
    }
  }
});

Deno.test("AcceptAny rejects bad options with TypeError and RangeError", () => {
  assert.throws(() => new AcceptAny({ maxFlows: 0 }), RangeError);
  assert.throws(() => new AcceptAny({ udpIdleTimeout: -1 }), RangeError);
  assert.throws(() => new AcceptAny({ maxFlows: "9" as unknown as number }), TypeError);
  assert.throws(() => new AcceptAny(null as unknown as object), TypeError);
  const any = new AcceptAny();
  any.listenTcp();
  assert.throws(() => any.listenTcp(), /already open/);
});

Deno.test("AcceptAny leaves multicast and broadcast alone", () => {
  const [a, b] = proxyPair();
  b.iface.acceptAny!.listenUdp();
  inject(a.dev, [
    ipv4Udp("192.0.2.1", "224.0.0.9", 64, 1000, 520),
    ipv4Udp("192.0.2.1", "255.255.255.255", 64, 1000, 67),
  ]);
  run([b], 0, 1);
  assert.equal(b.iface.acceptAny!.acceptUdp(), null);
});

Deno.test("AcceptAny survives random IPv4 packets to any address: no throw, every frame taken, flows within maxFlows and expired when idle", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          src: fc.integer({ min: 0, max: 0xffffffff }),
          dst: fc.integer({ min: 0, max: 0xffffffff }),
          protocol: fc.constantFrom(1, 6, 17, 47),
          ttl: fc.integer({ min: 0, max: 255 }),
          frag: fc.constantFrom(0, 0, 0, 1, 0x2000),
          body: fc.uint8Array({ maxLength: 80 }),
          garbage: fc.boolean(),
        }),
        { maxLength: 40 },
      ),
      (pkts) => {
        const [a, b] = proxyPair({ allowDocumentation: true, maxFlows: 8, echo: true });
        const any = b.iface.acceptAny!;
        any.listenTcp();
        any.listenUdp();
        const frames = pkts.map((p) => {
          if (p.garbage) return p.body;
          const f = new Uint8Array(20 + p.body.length);
          emitIpv4({
            src: new Ipv4Address(p.src),
            dst: new Ipv4Address(p.dst),
            protocol: p.protocol,
            payloadLen: p.body.length,
            ttl: p.ttl,
            dscp: 0,
            ecn: 0,
            ident: 7,
            dontFrag: false,
            moreFrags: p.frag === 0x2000,
            fragOffset: p.frag === 1 ? 8 : 0,
          }, new Ipv4Packet(f));
          f.set(p.body, 20);
          return f;
        });
        inject(a.dev, frames);
        run([b], 0, 2);
        assert.ok(any.flowCount <= 8);
        run([b], 70_000, 70_000); // past the UDP idle timeout
        assert.equal(any.pendingUdp, 0);
        assert.equal(b.iface.counters.rxFrames, frames.length);
      },
    ),
    { numRuns: 200 },
  );
});

for (const v of [4, 6] as const) {
  Deno.test(`AcceptAny answers a datagram sent with TTL 1 with time exceeded that reaches the sender over IPv${v}`, () => {
    const [a, b] = pair("ip", { routes: DEFAULT_ROUTES, hopLimit: 1 }, {
      acceptAny: { allowDocumentation: true },
      routes: DEFAULT_ROUTES,
    });
    b.iface.acceptAny!.listenUdp();
    const c = new UdpSocket();
    const any = v === 4 ? Ipv4Address.UNSPECIFIED : parseIpAddress("::");
    a.iface.bindUdp(a.sockets, c, { addr: any, port: 5001 });
    c.send(new Uint8Array(4), { addr: ip(v === 4 ? "198.51.100.9" : "2001:db8:1::9"), port: 53 });
    run([a, b], 0, 3);
    assert.equal(b.iface.counters.ttlExceeded, 1);
    assert.equal(b.iface.acceptAny!.acceptUdp(), null);
    const err = c.takeError();
    assert.ok(err !== null);
    assert.deepEqual([err.version, err.type, err.code], v === 4 ? [4, 11, 0] : [6, 3, 0]);
    assert.equal(err.from.toString(), v === 4 ? "192.0.2.2" : "2001:db8::2");
  });
}
