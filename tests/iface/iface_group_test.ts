import assert from "node:assert/strict";
import { Interface } from "../../src/iface/interface.ts";
import { InterfaceGroup } from "../../src/iface/iface_group.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { linkPair } from "../../src/phy/link.ts";
import type { Device } from "../../src/phy/device.ts";
import { TcpSocket } from "../../src/socket/tcp/socket.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { IpCidr } from "../../src/wire/cidr.ts";

const ip = parseIpAddress;

/**
 * A host with interface A (192.0.2.1/24, device MTU `mtuA`) and B (198.51.100.1/24, `mtuB`),
 * grouped or not, sharing one socket set; a peer on each link. All on explicit time.
 */
function fixture(o: { group: boolean; mtuA?: number; mtuB?: number }) {
  const [a0, a1] = linkPair({ medium: "ip", mtu: o.mtuA ?? 1500 });
  const [b0, b1] = linkPair({ medium: "ip", mtu: o.mtuB ?? 1500 });
  const ifA = new Interface({ addresses: ["192.0.2.1/24", "2001:db8:1::1/64"], seed: 1 });
  const ifB = new Interface({ addresses: ["198.51.100.1/24", "2001:db8:2::1/64"], seed: 2 });
  const group = new InterfaceGroup();
  if (o.group) {
    group.add(ifA, a0);
    group.add(ifB, b0);
  }
  const sockets = new SocketSet();
  const peerA = new Interface({ addresses: ["192.0.2.2/24", "2001:db8:1::2/64"], seed: 3 });
  const peerB = new Interface({ addresses: ["198.51.100.2/24", "2001:db8:2::2/64"], seed: 4 });
  const setA = new SocketSet(), setB = new SocketSet();
  let now = 0;
  /** Polls everything for `ms` milliseconds, the host's interface A first. */
  const run = (ms: number, peerB1: Device = b1) => {
    for (const end = now + ms; now < end; now++) {
      ifA.poll(now, a0, sockets);
      ifB.poll(now, b0, sockets);
      peerA.poll(now, a1, setA);
      peerB.poll(now, peerB1, setB);
    }
  };
  return { ifA, ifB, group, sockets, peerA, peerB, setA, setB, run, a0, a1, b1 };
}

/** A connection from the peer on link B to a socket of the host listening on B's address. */
function connectOnB(f: ReturnType<typeof fixture>) {
  const server = new TcpSocket();
  f.ifB.listenTcp(f.sockets, server, { addr: ip("198.51.100.1"), port: 80 });
  const client = new TcpSocket();
  f.peerB.connectTcp(f.setB, client, { addr: ip("198.51.100.1"), port: 80 }, {}, 0);
  f.run(10);
  assert.equal(server.state, "established");
  return { server, client };
}

function recvAll(s: TcpSocket): number {
  const buf = new Uint8Array(1 << 16);
  let n = 0;
  for (let r = s.recv(buf); r > 0; r = s.recv(buf)) n += r;
  return n;
}

Deno.test("InterfaceGroup sends a connection's data out the interface holding its address, whichever interface polls first", () => {
  for (const grouped of [false, true]) {
    const f = fixture({ group: grouped });
    const { server, client } = connectOnB(f);
    // The application writes: the socket is woken outside ingress, and interface A polls first.
    server.send(new Uint8Array(5000).fill(1));
    f.run(20);
    if (grouped) {
      assert.equal(recvAll(client), 5000);
      assert.equal(f.ifA.counters.noRoute, 0);
      assert.equal(f.ifA.counters.txFrames, 0, "nothing left on link A");
    } else {
      // The contrast: without the group, A's egress takes the socket and has no route.
      assert.equal(recvAll(client), 0);
      assert.ok(f.ifA.counters.noRoute > 0);
    }
  }
});

Deno.test("InterfaceGroup sizes a connection's segments by its own interface's MTU", () => {
  const f = fixture({ group: true, mtuA: 9000, mtuB: 1500 });
  f.ifB.linkMtu = 1280;
  let largest = 0, frames = 0;
  const b1 = f.b1;
  const seen: Device = {
    capabilities: b1.capabilities,
    receive: (now) => {
      const fr = b1.receive(now);
      if (fr !== null) {
        frames++;
        if (fr.length > largest) largest = fr.length;
        // No IPv4 fragment: MF clear and offset 0.
        assert.equal(((fr[6]! << 8) | fr[7]!) & 0x3fff, 0);
      }
      return fr;
    },
    canTransmit: (now) => b1.canTransmit(now),
    transmit: (now, len) => b1.transmit(now, len),
    commit: () => b1.commit(),
  };
  // The host opens the connection on B; the peer announces an MSS for 1500 bytes.
  const listener = new TcpSocket();
  f.peerB.listenTcp(f.setB, listener, { addr: ip("198.51.100.2"), port: 80 });
  const server = new TcpSocket();
  f.ifB.connectTcp(f.sockets, server, { addr: ip("198.51.100.2"), port: 80 }, {}, 0);
  const client = listener;
  f.run(10, seen);
  assert.equal(server.state, "established");
  server.send(new Uint8Array(60_000).fill(2));
  let got = 0;
  for (let i = 0; i < 200 && got < 60_000; i++) {
    f.run(1, seen);
    got += recvAll(client);
  }
  assert.equal(got, 60_000);
  assert.ok(largest <= 1280 && largest > 1200, `largest packet on B: ${largest}`);
  assert.ok(frames >= 60_000 / 1240, `${frames} packets`);
});

Deno.test("InterfaceGroup: a datagram from an unbound socket leaves by the route, from that interface's address", () => {
  const f = fixture({ group: true });
  for (
    const [any, dst, src] of [["0.0.0.0", "198.51.100.2", "198.51.100.1"], [
      "::",
      "2001:db8:2::2",
      "2001:db8:2::1",
    ]] as const
  ) {
    const host = new UdpSocket(), atB = new UdpSocket();
    f.ifA.bindUdp(f.sockets, host, { addr: ip(any), port: 9000 });
    f.peerB.bindUdp(f.setB, atB, { addr: ip(any), port: 9001 });
    assert.equal(host.send(new Uint8Array([7]), { addr: ip(dst), port: 9001 }), true);
    f.run(5);
    const r = atB.recv(new Uint8Array(16));
    assert.equal(r?.length, 1);
    assert.equal(r?.remote.addr.toString(), src);
  }
  assert.equal(f.ifA.counters.txFrames, 0);
  assert.equal(f.ifA.counters.noRoute, 0);
});

Deno.test("InterfaceGroup: a packet to one member's address arriving on another is not for us (strong host)", () => {
  const f = fixture({ group: true });
  const server = new TcpSocket();
  f.ifA.listenTcp(f.sockets, server, { addr: ip("0.0.0.0"), port: 80 });
  f.peerB.routes.add({ cidr: IpCidr.parse("192.0.2.0/24"), via: null });
  const client = new TcpSocket();
  f.peerB.connectTcp(f.setB, client, { addr: ip("192.0.2.1"), port: 80 }, {}, 0);
  f.run(10);
  assert.equal(client.state, "synSent");
  assert.ok(f.ifB.counters.notForUs > 0);
  assert.equal(f.ifA.counters.rxFrames, 0);
});

Deno.test("InterfaceGroup.lookup: the longest prefix, then the lowest metric, over every member", () => {
  const group = new InterfaceGroup();
  const a = new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1" });
  const b = new Interface({
    addresses: ["198.51.100.2/24"],
    gateway4: "198.51.100.1",
    routes: [{ cidr: "203.0.113.0/25", via: "198.51.100.254" }],
  });
  group.add(a, linkPair({ medium: "ip" })[0], { metric: 20 });
  group.add(b, linkPair({ medium: "ip" })[0], { metric: 10 });
  assert.equal(group.lookup(ip("8.8.8.8"))?.iface, 1); // both defaults: metric 10 wins
  assert.equal(group.lookup(ip("8.8.8.8"))?.nextHop.toString(), "198.51.100.1");
  assert.equal(group.lookup(ip("192.0.2.77"))?.iface, 0); // connected /24 beats the defaults
  assert.equal(group.lookup(ip("192.0.2.77"))?.nextHop.toString(), "192.0.2.77");
  assert.equal(group.lookup(ip("203.0.113.5"))?.nextHop.toString(), "198.51.100.254");
  assert.equal(group.indexOf(ip("198.51.100.2")), 1);
  assert.equal(group.sourceFor(ip("8.8.8.8"))?.toString(), "198.51.100.2");
  assert.equal(group.size, 2);
});

Deno.test("InterfaceGroup.add rejects an interface already in a group and a device of another medium", () => {
  const g1 = new InterfaceGroup(), g2 = new InterfaceGroup();
  const iface = new Interface({ addresses: ["192.0.2.1/24"] });
  g1.add(iface, linkPair({ medium: "ip" })[0]);
  assert.throws(() => g2.add(iface, linkPair({ medium: "ip" })[0]), TypeError);
  assert.throws(() => g2.add(new Interface(), linkPair({ medium: "ethernet" })[0]), TypeError);
  assert.throws(
    () => g2.add(new Interface(), linkPair({ medium: "ip" })[0], { metric: 2 ** 32 }),
    RangeError,
  );
  assert.equal(g2.size, 0);
});

Deno.test("InterfaceGroup: a datagram from an unbound socket takes the RFC 6724 source a connection takes, among one member's addresses", () => {
  // B has a link-local and two global IPv6 addresses; its gateway is in 2001:db8:2::/64, the
  // destination is behind it and shares the longer prefix with 2001:db8:3::1 (rule 8), which
  // the simpler next-hop rule of `Routes.sourceFor` would not pick.
  const [a0] = linkPair({ medium: "ip" }), [b0, b1] = linkPair({ medium: "ip" });
  const ifA = new Interface({ addresses: ["192.0.2.1/24", "2001:db8:1::1/64"], seed: 1 });
  const ifB = new Interface({
    addresses: ["fe80::1/64", "2001:db8:2::1/64", "2001:db8:3::1/64"],
    gateway6: "2001:db8:2::fe",
    seed: 2,
  });
  const group = new InterfaceGroup();
  group.add(ifA, a0);
  group.add(ifB, b0);
  const dst = ip("2001:db8:3:ff::9");
  assert.equal(ifB.routes.sourceFor(dst)?.toString(), "2001:db8:2::1"); // what the old rule gave
  assert.equal(group.sourceFor(dst)?.toString(), "2001:db8:3::1"); // what connect uses
  // The peer behind B's link holds the destination address (medium "ip": no link addresses).
  const peer = new Interface({ addresses: ["2001:db8:3:ff::9/64"], gateway6: "2001:db8:3:ff::1" });
  const sockets = new SocketSet(), peerSet = new SocketSet();
  const host = new UdpSocket(), at = new UdpSocket();
  ifA.bindUdp(sockets, host, { addr: ip("::"), port: 9000 }); // bound through A, leaves on B
  peer.bindUdp(peerSet, at, { addr: ip("::"), port: 9001 });
  const client = new TcpSocket(), server = new TcpSocket();
  peer.listenTcp(peerSet, server, { addr: ip("::"), port: 80 });
  ifB.connectTcp(sockets, client, { addr: dst, port: 80 }, { localAddr: group.sourceFor(dst)! }, 0);
  assert.equal(host.send(new Uint8Array([7]), { addr: dst, port: 9001 }), true);
  for (let now = 0; now < 10; now++) {
    ifA.poll(now, a0, sockets);
    ifB.poll(now, b0, sockets);
    peer.poll(now, b1, peerSet);
  }
  const r = at.recv(new Uint8Array(16));
  assert.equal(r?.length, 1);
  assert.equal(r?.remote.addr.toString(), "2001:db8:3::1");
  assert.equal(server.state, "established");
  assert.equal(server.remoteEndpoint?.addr.toString(), "2001:db8:3::1");
  // A link-local destination gets the link-local source (rule 2: the appropriate scope).
  assert.equal(group.sourceFor(ip("fe80::9"))?.toString(), "fe80::1");
});

Deno.test("InterfaceGroup: a route's own metric replaces its member's, also after a member before it leaves", () => {
  const dev = () => linkPair({ medium: "ip" })[0];
  const group = new InterfaceGroup();
  group.add(new Interface({ addresses: ["192.0.2.1/24"] }), dev());
  const b = new Interface({
    addresses: ["198.51.100.1/25"],
    routes: [{ cidr: IpCidr.parse("203.0.113.0/24"), via: ip("198.51.100.126") }],
  });
  const c = new Interface({
    addresses: ["198.51.100.129/25"],
    routes: [
      { cidr: IpCidr.parse("203.0.113.0/24"), via: ip("198.51.100.254") },
      { cidr: IpCidr.parse("203.0.113.0/25"), via: ip("198.51.100.254") },
    ],
  });
  group.add(b, dev(), { metric: 50 });
  // C's interface metric (100) loses to B's (50), but its /24 route has metric 10 of its own.
  group.add(c, dev(), {
    metric: 100,
    routeMetrics: [{ cidr: IpCidr.parse("203.0.113.7/24"), via: ip("198.51.100.254"), metric: 10 }],
  });
  let r = group.lookup(ip("203.0.113.200"))!;
  assert.equal(r.iface, 2);
  assert.equal(r.metric, 10);
  assert.equal(r.nextHop.toString(), "198.51.100.254");
  assert.equal(group.sourceFor(ip("203.0.113.200"))?.toString(), "198.51.100.129");
  // The longest prefix still comes first: C's /25 (at C's metric 100).
  r = group.lookup(ip("203.0.113.7"))!;
  assert.equal(r.iface, 2);
  assert.equal(r.prefixLen, 25);
  assert.equal(r.metric, 100);
  // Without C's own metric B wins (same /24, 50 against 100): C joins again without it.
  group.remove(0);
  r = group.lookup(ip("203.0.113.200"))!;
  assert.equal(r.iface, 1); // C, now at index 1
  assert.equal(r.metric, 10);
  group.remove(1);
  group.add(c, dev(), { metric: 100 });
  r = group.lookup(ip("203.0.113.200"))!;
  assert.equal(r.iface, 0); // B
  assert.equal(r.metric, 50);
  // A metric for a route the interface does not have, or out of range, is refused.
  const d = new Interface({ addresses: ["198.51.100.9/24"] });
  assert.throws(
    () => group.add(d, dev(), { routeMetrics: [{ cidr: IpCidr.parse("10.0.0.0/8"), metric: 1 }] }),
    TypeError,
  );
  assert.throws(
    () =>
      group.add(d, dev(), {
        routeMetrics: [{
          cidr: IpCidr.parse("203.0.113.0/24"),
          via: ip("198.51.100.254"),
          metric: -1,
        }],
      }),
    RangeError,
  );
  assert.equal(group.size, 2);
});

Deno.test("InterfaceGroup.remove: the member leaves the route table and the others send for it no more", () => {
  const f = fixture({ group: true });
  const { server, client } = connectOnB(f);
  assert.equal(f.group.lookup(ip("198.51.100.9"))?.iface, 1);
  assert.equal(f.group.remove(1), f.ifB);
  assert.equal(f.group.size, 1);
  assert.equal(f.group.lookup(ip("198.51.100.9")), null);
  assert.equal(f.group.indexOf(ip("198.51.100.1")), -1);
  assert.equal(f.group.sourceFor(ip("198.51.100.9")), null);
  // B's connection writes and only A polls: A no longer sends it through B's device (it has no
  // route of its own there, as without a group).
  server.send(new Uint8Array(1000).fill(1));
  const noRoute = f.ifA.counters.noRoute;
  for (let t = 100; t < 105; t++) {
    f.ifA.poll(t, f.a0, f.sockets);
    f.peerB.poll(t, f.b1, f.setB);
  }
  assert.equal(recvAll(client), 0);
  assert.ok(f.ifA.counters.noRoute > noRoute);
  assert.throws(() => f.group.remove(1), RangeError);
});

Deno.test("InterfaceGroup pin: with the same link-local address on two members, a pinned socket's datagrams leave on its member only", () => {
  const [a0, a1] = linkPair({ medium: "ip" });
  const [b0, b1] = linkPair({ medium: "ip" });
  const ifA = new Interface({ addresses: ["fe80::1/64"], seed: 1 });
  const ifB = new Interface({ addresses: ["fe80::1/64"], seed: 2 });
  const group = new InterfaceGroup();
  group.add(ifA, a0);
  group.add(ifB, b0);
  const sockets = new SocketSet();
  const peerA = new Interface({ addresses: ["fe80::2/64"], seed: 3 });
  const peerB = new Interface({ addresses: ["fe80::2/64"], seed: 4 });
  const setA = new SocketSet(), setB = new SocketSet();
  const rxA = new UdpSocket(), rxB = new UdpSocket();
  peerA.bindUdp(setA, rxA, { addr: ip("::"), port: 53 });
  peerB.bindUdp(setB, rxB, { addr: ip("::"), port: 53 });
  const pinned = new UdpSocket(), loose = new UdpSocket();
  ifA.bindUdp(sockets, pinned, { addr: ip("fe80::1"), port: 1000 });
  ifA.bindUdp(sockets, loose, { addr: ip("fe80::1"), port: 1001 });
  group.pin(pinned, 1);
  const to = { addr: ip("fe80::2"), port: 53 };
  pinned.send(new Uint8Array([1]), to);
  loose.send(new Uint8Array([2]), to);
  for (let t = 0; t < 5; t++) {
    ifA.poll(t, a0, sockets);
    ifB.poll(t, b0, sockets);
    peerA.poll(t, a1, setA);
    peerB.poll(t, b1, setB);
  }
  const buf = new Uint8Array(8);
  const gotB = rxB.recv(buf);
  assert.equal(gotB?.length, 1);
  assert.equal(buf[0], 1, "the pinned socket's datagram reached link B");
  assert.equal(rxB.recv(buf), null);
  const gotA = rxA.recv(buf);
  assert.equal(buf[0], 2, "the unpinned one left by the route, on the first member");
  assert.equal(gotA?.remote.port, 1001);
  assert.equal(rxA.recv(buf), null);
});

Deno.test("InterfaceGroup: an accept-any connection on a member answers on that member, though the route to the client is another's", () => {
  const [a0] = linkPair({ medium: "ip" });
  const [b0, b1] = linkPair({ medium: "ip" });
  // The group's route to the client (203.0.113.2) is A's /25; B has the /24 on-link.
  const ifA = new Interface({
    addresses: ["192.0.2.1/24"],
    routes: [{ cidr: "203.0.113.0/25", via: "192.0.2.254" }],
    seed: 1,
  });
  const ifB = new Interface({
    addresses: ["198.51.100.1/24"],
    routes: [{ cidr: "203.0.113.0/24", via: null }],
    acceptAny: { allowDocumentation: true },
    seed: 2,
  });
  const group = new InterfaceGroup();
  group.add(ifA, a0);
  group.add(ifB, b0);
  assert.equal(group.lookup(ip("203.0.113.2"))?.iface, 0);
  const sockets = new SocketSet();
  const listener = ifB.acceptAny!.listenTcp();
  const client = new Interface({
    addresses: ["203.0.113.2/24"],
    routes: [{ cidr: "0.0.0.0/0", via: null }],
    seed: 3,
  });
  const setC = new SocketSet();
  const conn = new TcpSocket();
  client.connectTcp(setC, conn, { addr: ip("192.0.2.80"), port: 443 }, {}, 0);
  for (let t = 0; t < 10; t++) {
    client.poll(t, b1, setC);
    ifA.poll(t, a0, sockets);
    ifB.poll(t, b0, sockets);
  }
  assert.equal(conn.state, "established");
  assert.equal(ifA.counters.txFrames, 0, "nothing left on A");
  const accepted = ifB.acceptTcp(sockets, listener)!;
  assert.equal(accepted.localEndpoint?.addr.toString(), "192.0.2.80");
  assert.equal(group.pinnedIndex(accepted), 1);
  // Data the application writes later leaves on B as well.
  accepted.send(new Uint8Array(100));
  for (let t = 10; t < 20; t++) {
    ifA.poll(t, a0, sockets);
    ifB.poll(t, b0, sockets);
    client.poll(t, b1, setC);
  }
  assert.equal(recvAll(conn), 100);
  assert.equal(ifA.counters.txFrames, 0);
  assert.equal(ifB.acceptAny!.counters.flowsOpened, 1);
});
