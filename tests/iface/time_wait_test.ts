import assert from "node:assert/strict";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { seqAdd, seqGt } from "../../src/socket/tcp/seq.ts";
import type { TcpSocketOptions } from "../../src/socket/tcp/config.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { TcpFlags, type TcpRepr } from "../../src/wire/tcp.ts";
import { forgeTcp4, tcpOf } from "../attacks/_forge.ts";
import { drain, type Host, inject, pair, run } from "./helpers.ts";

const A = Ipv4Address.parse("192.0.2.1");
const B = Ipv4Address.parse("192.0.2.2");
const TIME_WAIT = 5000;

interface Closed {
  a: Host;
  b: Host;
  /** The side that closed first (it holds the TIME-WAIT record). */
  closer: TcpSocket;
  closerHost: Host;
  /** The other side's host. */
  peerHost: Host;
  /** The other side's address and port (the source of forged segments). */
  peerAddr: Ipv4Address;
  peerPort: number;
  closerAddr: Ipv4Address;
  closerPort: number;
  /** SND.NXT and RCV.NXT of the closer when it entered TIME-WAIT. */
  sndNxt: number;
  rcvNxt: number;
  /** When the connection entered TIME-WAIT. */
  at: number;
}

/**
 * A connection between A (client) and B (server, listening on 80) closed by `first`; time runs to
 * 30 ms. Timestamp offsets are 0, so a TSval is the sender's clock in ms.
 */
function closedConnection(first: "client" | "server", opts: TcpSocketOptions = {}): Closed {
  const [a, b] = pair("ip");
  const o = { timeWait: TIME_WAIT, timestampOffset: 0, delayedAck: 0, ...opts };
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { socket: o });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket(o);
  const local = a.iface.connectTcp(a.sockets, client, { addr: B, port: 80 }, {}, 0);
  run([a, b], 0, 5);
  const server = b.iface.acceptTcp(b.sockets, listener)!;
  assert.equal(server.state, "established");
  client.send(new Uint8Array(100));
  server.send(new Uint8Array(200));
  run([a, b], 6, 10);
  const sink = new Uint8Array(1000);
  assert.equal(server.recv(sink), 100);
  assert.equal(client.recv(sink), 200);
  const closer = first === "client" ? client : server;
  const other = first === "client" ? server : client;
  closer.close();
  run([a, b], 11, 15);
  assert.equal(other.state, "closeWait");
  const sndNxt = closer.info.sndNxt, rcvNxt = seqAdd(other.info.sndNxt, 1);
  other.close();
  run([a, b], 16, 30);
  assert.equal(other.state, "closed");
  const isClient = first === "client";
  return {
    a,
    b,
    closer,
    closerHost: isClient ? a : b,
    peerHost: isClient ? b : a,
    peerAddr: isClient ? B : A,
    peerPort: isClient ? 80 : local.port,
    closerAddr: isClient ? A : B,
    closerPort: isClient ? local.port : 80,
    sndNxt,
    rcvNxt,
    at: 16,
  };
}

/** Delivers a forged segment from the peer to the closer at `t` and returns what the closer sent. */
function exchange(
  c: Closed,
  t: number,
  seg: Omit<Parameters<typeof forgeTcp4>[2], "srcPort" | "dstPort">,
): TcpRepr[] {
  inject(c.peerHost.dev, [
    forgeTcp4(c.peerAddr, c.closerAddr, { srcPort: c.peerPort, dstPort: c.closerPort, ...seg }),
  ], t);
  c.closerHost.iface.poll(t, c.closerHost.dev, c.closerHost.sockets);
  return drain(c.peerHost.dev, t).map((f) => tcpOf(f)).filter((r): r is TcpRepr => r !== null);
}

Deno.test("Interface turns a connection entering TIME-WAIT into a record and closes the socket cleanly", () => {
  const c = closedConnection("client");
  assert.equal(c.a.sockets.timeWaitCount, 1);
  assert.equal(c.closer.state, "closed");
  assert.equal(c.closer.error, null);
  assert.equal(c.a.sockets.isIndexed(c.closer), false);
  // The user still owns the socket: it stays in the set, closed, until removed.
  assert.ok(c.a.sockets.handleOf(c.closer) !== undefined);
  // The passive closer went through LAST-ACK and holds nothing.
  assert.equal(c.b.sockets.timeWaitCount, 0);
});

Deno.test("Interface reaps a listener child that enters TIME-WAIT and keeps only its record", () => {
  const c = closedConnection("server");
  assert.equal(c.b.sockets.timeWaitCount, 1);
  assert.equal(c.closer.state, "closed");
  // The accepted child belongs to the user (adopted): it leaves the index, not the set.
  assert.equal(c.b.sockets.isIndexed(c.closer), false);
});

Deno.test("Interface TIME-WAIT record answers a retransmitted FIN with an ACK and restarts 2MSL", () => {
  const c = closedConnection("client");
  const t = 1000;
  const out = exchange(c, t, {
    seq: seqAdd(c.rcvNxt, -1),
    ack: c.sndNxt,
    flags: TcpFlags.FIN | TcpFlags.ACK,
    timestamp: { tsVal: t, tsEcr: 0 },
  });
  assert.equal(out.length, 1);
  const ack = out[0]!;
  assert.equal(ack.flags, TcpFlags.ACK);
  assert.equal(ack.seq, c.sndNxt);
  assert.equal(ack.ack, c.rcvNxt);
  assert.equal(ack.timestamp?.tsEcr, t);
  assert.equal(ack.timestamp?.tsVal, t); // our clock, offset 0
  // The 2MSL timer restarted at t: the record outlives the original expiry.
  const { a } = c;
  a.iface.poll(c.at + TIME_WAIT + 1, a.dev, a.sockets);
  assert.equal(a.sockets.timeWaitCount, 1);
  a.iface.poll(t + TIME_WAIT, a.dev, a.sockets);
  assert.equal(a.sockets.timeWaitCount, 0);
});

Deno.test("Interface TIME-WAIT record ignores a RST (RFC 1337)", () => {
  const c = closedConnection("client");
  const before = c.a.iface.counters.timeWait;
  for (const flags of [TcpFlags.RST, TcpFlags.RST | TcpFlags.ACK]) {
    const out = exchange(c, 100, { seq: c.rcvNxt, ack: c.sndNxt, flags });
    assert.deepEqual(out, []);
  }
  assert.equal(c.a.sockets.timeWaitCount, 1);
  assert.equal(c.a.iface.counters.timeWait, before + 2);
});

Deno.test("Interface TIME-WAIT record drops a late ACK and rate-limits ACKs for old duplicates", () => {
  const c = closedConnection("client");
  const late = exchange(c, 100, {
    seq: c.rcvNxt,
    ack: c.sndNxt,
    flags: TcpFlags.ACK,
    timestamp: { tsVal: 100, tsEcr: 0 },
  });
  assert.deepEqual(late, []);
  const old = {
    seq: seqAdd(c.rcvNxt, -50),
    ack: c.sndNxt,
    flags: TcpFlags.ACK,
    payload: new Uint8Array(10),
    timestamp: { tsVal: 200, tsEcr: 0 },
  };
  assert.equal(exchange(c, 200, old).length, 1);
  assert.equal(exchange(c, 300, old).length, 0); // within 500 ms of the last ACK
  assert.equal(exchange(c, 800, old).length, 1);
  assert.equal(c.a.sockets.timeWaitCount, 1);
});

Deno.test("Interface TIME-WAIT record expires after 2MSL, and pollAt asks for a poll by then", () => {
  const c = closedConnection("client");
  const { a } = c;
  const at = a.iface.pollAt(100, a.sockets);
  assert.ok(at >= c.at + TIME_WAIT && at <= c.at + TIME_WAIT + 1000, `pollAt ${at}`);
  a.iface.poll(c.at + TIME_WAIT - 1, a.dev, a.sockets);
  assert.equal(a.sockets.timeWaitCount, 1);
  a.iface.poll(at, a.dev, a.sockets);
  assert.equal(a.sockets.timeWaitCount, 0);
  // With the record gone, a segment for the 4-tuple finds no connection: RST.
  const out = exchange(c, at + 1, { seq: c.rcvNxt, ack: c.sndNxt, flags: TcpFlags.ACK });
  assert.equal(out.length, 1);
  assert.ok(out[0]!.flags & TcpFlags.RST);
});

Deno.test("Interface TIME-WAIT record lets a new SYN above the old sequence reuse the 4-tuple (no timestamps)", () => {
  const c = closedConnection("server", { timestamps: false });
  assert.equal(c.b.sockets.timeWaitCount, 1);
  // At or below RCV.NXT: not a new incarnation; the record stays.
  const stale = exchange(c, 100, { seq: c.rcvNxt, flags: TcpFlags.SYN });
  assert.ok(stale.every((r) => (r.flags & TcpFlags.SYN) === 0));
  assert.equal(c.b.sockets.timeWaitCount, 1);
  const seq = seqAdd(c.rcvNxt, 1000);
  const out = exchange(c, 1000, { seq, flags: TcpFlags.SYN });
  assert.equal(c.b.sockets.timeWaitCount, 0);
  const synAck = out.find((r) => r.flags === (TcpFlags.SYN | TcpFlags.ACK));
  assert.ok(synAck !== undefined, `no SYN-ACK in ${JSON.stringify(out)}`);
  assert.equal(synAck.ack, seqAdd(seq, 1));
  // The new incarnation's ISN lies beyond the old sequence space.
  assert.ok(seqGt(synAck.seq, c.sndNxt));
});

Deno.test("Interface TIME-WAIT record lets a SYN with a newer timestamp reuse the 4-tuple (RFC 6191)", () => {
  const c = closedConnection("server");
  // The peer's clock is its TSval (offset 0); TS.Recent is at most 30.
  const below = seqAdd(c.rcvNxt, -10);
  const old = exchange(c, 100, {
    seq: below,
    flags: TcpFlags.SYN,
    timestamp: { tsVal: 1, tsEcr: 0 },
  });
  assert.ok(old.every((r) => (r.flags & TcpFlags.SYN) === 0));
  assert.equal(c.b.sockets.timeWaitCount, 1);
  const out = exchange(c, 1000, {
    seq: below,
    flags: TcpFlags.SYN,
    timestamp: { tsVal: 1000, tsEcr: 0 },
  });
  assert.equal(c.b.sockets.timeWaitCount, 0);
  const synAck = out.find((r) => r.flags === (TcpFlags.SYN | TcpFlags.ACK));
  assert.ok(synAck !== undefined, `no SYN-ACK in ${JSON.stringify(out)}`);
  assert.equal(synAck.ack, seqAdd(below, 1));
  assert.ok(seqGt(synAck.seq, c.sndNxt));
});

Deno.test("Interface connectTcp reuses a 4-tuple in TIME-WAIT with an ISN beyond the old one", () => {
  const c = closedConnection("client", { initialSequenceNumber: 1000 });
  const { a, b } = c;
  assert.equal(a.sockets.timeWaitCount, 1);
  const again = new TcpSocket({ timeWait: TIME_WAIT, initialSequenceNumber: 1000 });
  a.iface.connectTcp(a.sockets, again, { addr: B, port: 80 }, { localPort: c.closerPort }, 40);
  assert.equal(a.sockets.timeWaitCount, 0);
  assert.ok(seqGt(again.info.sndUna, c.sndNxt), `${again.info.sndUna} vs ${c.sndNxt}`);
  run([a, b], 40, 50);
  assert.equal(again.state, "established");
});

Deno.test("Interface connectTcp passes over an ephemeral port whose 4-tuple entered TIME-WAIT less than a second ago", () => {
  // Both ends may hold TIME-WAIT (simultaneous close); a SYN in the same millisecond carries a
  // timestamp no newer than the peer's TS.Recent and is refused there, so the client would wait
  // for its 1 s SYN timeout. connectTcp hands allocatePort a filter for such ports.
  const c = closedConnection("client");
  const { a } = c;
  const verdicts: boolean[] = [];
  const allocate = a.sockets.allocatePort.bind(a.sockets);
  a.sockets.allocatePort = (protocol, rng, avoid) => {
    assert.ok(avoid !== undefined);
    verdicts.push(avoid(c.closerPort), avoid(c.closerPort + 1 > 65535 ? 49152 : c.closerPort + 1));
    return allocate(protocol, rng, avoid);
  };
  a.iface.connectTcp(a.sockets, new TcpSocket(), { addr: B, port: 80 }, {}, c.at + 500);
  a.iface.connectTcp(a.sockets, new TcpSocket(), { addr: B, port: 8080 }, {}, c.at + 600);
  a.iface.connectTcp(a.sockets, new TcpSocket(), { addr: B, port: 80 }, {}, c.at + 30 + 1000);
  // Refused within the second for the same destination only, and never for other ports.
  assert.deepEqual(verdicts, [true, false, false, false, false, false]);
});
