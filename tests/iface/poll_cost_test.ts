import assert from "node:assert/strict";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { type Host, pair, run } from "./helpers.ts";

const B = Ipv4Address.parse("192.0.2.2");

/** `n` established idle connections from A to B; returns the client and server sockets. */
function idle(n: number): { a: Host; b: Host; clients: TcpSocket[]; servers: TcpSocket[] } {
  const [a, b] = pair("ip", {}, {}, { queueLen: 4 * n + 64 });
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    backlog: 1024,
    socket: { delayedAck: 0 },
  });
  b.iface.listenTcp(b.sockets, listener);
  const clients: TcpSocket[] = [];
  const servers: TcpSocket[] = [];
  let t = 0;
  for (let i = 0; i < n; i += 500, t += 10) {
    for (let k = i; k < Math.min(n, i + 500); k++) {
      const c = new TcpSocket({ delayedAck: 0 });
      a.iface.connectTcp(a.sockets, c, { addr: B, port: 80 }, {}, t);
      clients.push(c);
    }
    run([a, b], t, t + 9);
    for (let s = b.iface.acceptTcp(b.sockets, listener); s !== null;) {
      servers.push(s);
      s = b.iface.acceptTcp(b.sockets, listener);
    }
  }
  assert.equal(servers.length, n);
  assert.ok(clients.every((c) => c.state === "established"));
  return { a, b, clients, servers };
}

/** Sockets visited by one poll of each host at `t`. */
function visitsOfOnePoll(hosts: Host[], t: number): number {
  const before = hosts.reduce((x, h) => x + h.iface.socketVisits, 0);
  for (const h of hosts) h.iface.poll(t, h.dev, h.sockets);
  return hosts.reduce((x, h) => x + h.iface.socketVisits, 0) - before;
}

Deno.test("Interface poll visits no idle connection: the cost with 2,000 is that with 10", () => {
  const counts: number[][] = [];
  for (const n of [10, 2000]) {
    const { a, b, clients } = idle(n);
    const hosts = [a, b];
    const idleVisits = visitsOfOnePoll(hosts, 100);
    assert.equal(a.iface.pollAt(100, a.sockets), Infinity);
    assert.equal(b.iface.pollAt(100, b.sockets), Infinity);
    // One connection sends: only it (and then its peer, which acknowledges) is visited.
    clients[n >> 1]!.send(new Uint8Array(100));
    const send = visitsOfOnePoll([a], 101);
    const receive = visitsOfOnePoll([b], 101);
    const ack = visitsOfOnePoll([a], 102);
    counts.push([idleVisits, send, receive, ack]);
  }
  assert.deepEqual(counts[0], [0, 1, 1, 1]);
  assert.deepEqual(counts[1], counts[0]);
});

Deno.test("Interface poll visits only the connections whose timer is due", () => {
  const { a, b, clients } = idle(500);
  // Ten clients send data that B never acknowledges (B is not polled): each arms its RTO.
  for (let i = 0; i < 10; i++) clients[i * 50]!.send(new Uint8Array(10));
  assert.equal(visitsOfOnePoll([a], 100), 10);
  const rto = a.iface.pollAt(101, a.sockets);
  assert.ok(rto > 101 && rto < Infinity);
  assert.equal(visitsOfOnePoll([a], rto - 1), 0);
  assert.equal(visitsOfOnePoll([a], rto), 10); // the retransmissions, nothing else
  void b;
});

Deno.test("Interface poll reports a burst of connects waiting for room on the device once, and every socket it changes", () => {
  const [a, b] = pair("ip", {}, {}, { queueLen: 16 });
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    backlog: 1024,
  });
  b.iface.listenTcp(b.sockets, listener);
  let reported = new Set<unknown>();
  a.sockets.onChange((s) => reported.add(s));
  const clients = Array.from({ length: 200 }, () => {
    const c = new TcpSocket();
    a.iface.connectTcp(a.sockets, c, { addr: B, port: 80 }, {}, 0);
    return c;
  });
  a.iface.poll(0, a.dev, a.sockets);
  assert.equal(reported.size, 200); // woken by connect: each reported once
  // B has not read its device: it is full and A's poll dispatches nothing. Of the 184 SYNs that
  // wait, only the one whose dispatch found the device full is reported again.
  reported = new Set();
  a.iface.poll(0, a.dev, a.sockets);
  assert.equal(reported.size, 1);
  // Until every connection is established, each poll reports every socket whose state changed.
  for (let t = 1; t < 100 && clients.some((c) => c.state !== "established"); t++) {
    b.iface.poll(t, b.dev, b.sockets);
    for (let s = b.iface.acceptTcp(b.sockets, listener); s !== null;) {
      s = b.iface.acceptTcp(b.sockets, listener);
    }
    const before = clients.map((c) => c.state);
    reported = new Set();
    a.iface.poll(t, a.dev, a.sockets);
    clients.forEach((c, i) => {
      if (c.state !== before[i]) assert.ok(reported.has(c), `socket ${i} changed unreported`);
    });
  }
  assert.ok(clients.every((c) => c.state === "established"));
});
