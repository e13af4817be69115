// SYN cookies (src/socket/tcp/syn_cookie.ts, TcpListenSocket.synCookie / onCookieAck): a full
// SYN queue answers with cookies, a legitimate client gets in with its options intact, forged
// cookies are rejected and counted.

import assert from "node:assert/strict";
import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import { TcpListenSocket } from "../../../src/socket/tcp/listener.ts";
import { COOKIE_TICK } from "../../../src/socket/tcp/syn_cookie.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { Ipv4Address } from "../../../src/wire/address.ts";
import { TcpFlags, type TcpRepr } from "../../../src/wire/tcp.ts";

const SERVER = { addr: Ipv4Address.parse("192.0.2.1"), port: 80 };
const CLIENT = { addr: Ipv4Address.parse("192.0.2.2"), port: 40000 };
const { SYN, ACK } = TcpFlags;

let now = 1000;
const rng = new Rng(1);
const limiter = new TokenBucket({ burst: 1000, interval: 1000 });
const secret = new Uint8Array(16).fill(0x5a);
function cx(): SocketContext {
  return { now, random: rng, ipMtu: 1500, isnSecret: secret, challengeAckLimiter: limiter };
}

function floodSyn(port: number): TcpRepr {
  return {
    srcPort: port,
    dstPort: 80,
    seq: 12345,
    ack: 0,
    flags: SYN,
    window: 1000,
    urgent: 0,
    mss: 1460,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload: new Uint8Array(0),
  };
}

/** A listener whose SYN queue (4) is full of flood entries from 198.51.100.9. */
function flooded(): TcpListenSocket {
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { synQueue: 4 });
  const flooder = Ipv4Address.parse("198.51.100.9");
  for (let p = 2000; p < 2004; p++) {
    const child = l.onSyn(cx(), flooder, SERVER.addr, floodSyn(p));
    assert.ok(child !== null);
    child.process(cx(), flooder, SERVER.addr, floodSyn(p));
  }
  assert.equal(l.synQueueLength, 4);
  return l;
}

/** One segment from the client socket (drains dispatch). */
function emitted(s: TcpSocket): TcpRepr[] {
  const out: TcpRepr[] = [];
  while (s.dispatch(cx(), { emitTcp: (_a, _b, r) => (out.push({ ...r }), true) })) { /* drain */ }
  return out;
}

Deno.test("TcpListenSocket answers a SYN with a cookie when the SYN queue is full, and the client gets in with MSS, window scale, SACK and timestamps intact", () => {
  const l = flooded();
  const client = new TcpSocket();
  client.connect(cx(), SERVER, CLIENT);
  const [syn] = emitted(client);
  assert.ok(syn !== undefined && syn.windowScale !== null && syn.timestamp !== null);
  assert.equal(l.onSyn(cx(), CLIENT.addr, SERVER.addr, syn), null, "no room in the SYN queue");
  const synAck = l.synCookie(cx(), CLIENT.addr, SERVER.addr, syn);
  assert.ok(synAck !== null);
  assert.equal(synAck.flags, SYN | ACK);
  assert.equal(synAck.ack, (syn.seq + 1) >>> 0);
  assert.equal(synAck.windowScale, 7);
  assert.equal(synAck.sackPermitted, true);
  assert.equal(l.synQueueLength, 4, "nothing kept for it");
  assert.equal(l.info.synCookiesSent, 1);
  now += 30; // one RTT
  const reply = client.process(cx(), SERVER.addr, CLIENT.addr, synAck);
  assert.equal(client.state, "established");
  const ack = reply ?? emitted(client)[0]!;
  assert.equal(ack.flags & (SYN | ACK), ACK);
  const child = l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, ack);
  assert.ok(child !== null, "the cookie is valid");
  assert.equal(child.process(cx(), CLIENT.addr, SERVER.addr, ack), null);
  assert.equal(child.state, "established");
  assert.equal(l.info.synCookiesAccepted, 1);
  assert.equal(l.accept(), child);
  // The options the cookie carried: MSS 1460 less timestamps, the client's shift of 7 on its
  // window, SACK blocks and timestamps in the child's segments.
  const info = child.info;
  assert.equal(info.mss, 1460 - 12);
  assert.equal(info.peerWindow, ack.window * 128);
  client.send(new Uint8Array(3000).fill(7));
  const data = emitted(client);
  assert.equal(data.length, 3);
  // The middle segment is lost: the child must report the third with a SACK block.
  assert.equal(child.process(cx(), CLIENT.addr, SERVER.addr, data[0]!)?.ack, undefined);
  const dup = child.process(cx(), CLIENT.addr, SERVER.addr, data[2]!);
  assert.ok(dup !== null);
  assert.equal(dup.sackBlocks.length, 1, "SACK was negotiated through the cookie");
  assert.ok(dup.timestamp !== null, "timestamps too");
  assert.equal(dup.timestamp.tsEcr, data[2]!.timestamp!.tsVal);
  child.process(cx(), CLIENT.addr, SERVER.addr, data[1]!);
  const got = new Uint8Array(4000);
  assert.equal(child.recv(got), 3000);
});

Deno.test("TcpListenSocket rejects and counts forged, altered and expired cookies", () => {
  const l = flooded();
  const client = new TcpSocket({ timestamps: false });
  client.connect(cx(), SERVER, CLIENT);
  const [syn] = emitted(client);
  const synAck = l.synCookie(cx(), CLIENT.addr, SERVER.addr, syn!)!;
  const good: TcpRepr = {
    ...syn!,
    flags: ACK,
    seq: (syn!.seq + 1) >>> 0,
    ack: (synAck.seq + 1) >>> 0,
  };
  // Blind forgeries: random acknowledgment numbers from the right address and port.
  const r = new Rng(9);
  for (let i = 0; i < 1000; i++) {
    assert.equal(
      l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, { ...good, ack: r.nextU32() }),
      null,
    );
  }
  // The right cookie from another port, or with its MSS bits changed.
  assert.equal(l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, { ...good, srcPort: 40001 }), null);
  assert.equal(
    l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, { ...good, ack: (good.ack ^ 1) >>> 0 }),
    null,
  );
  assert.equal(l.info.synCookiesRejected, 1002);
  // Expired after two cookie periods.
  const then = now;
  now += 2 * COOKIE_TICK + 1;
  assert.equal(l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, good), null);
  now = then;
  const child = l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, good);
  assert.ok(child !== null, "the genuine one still works");
  assert.equal(l.info.synCookiesAccepted, 1);
  // Without timestamps the cookie cannot carry window scale and SACK: neither is offered.
  assert.equal(synAck.windowScale, null);
  assert.equal(synAck.sackPermitted, false);
  assert.equal(synAck.mss, 1460);
});

Deno.test("TcpListenSocket checks no cookie while none was sent recently, and evicts instead with synCookies: false", () => {
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  const ack: TcpRepr = { ...floodSyn(3000), flags: ACK, seq: 5, ack: 77 };
  assert.equal(l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, ack), null);
  assert.equal(l.info.synCookiesRejected, 0);
  const off = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    synQueue: 1,
    synCookies: false,
  });
  const a = off.onSyn(cx(), CLIENT.addr, SERVER.addr, floodSyn(3001));
  const b = off.onSyn(cx(), CLIENT.addr, SERVER.addr, floodSyn(3002));
  assert.ok(a !== null && b !== null);
  assert.equal(off.info.evicted, 1);
  assert.equal(off.synCookie(cx(), CLIENT.addr, SERVER.addr, floodSyn(3003)), null);
});

/** The client's handshake through a cookie: its SYN, the cookie SYN-ACK, its ACK, the child. */
function throughCookie(l: TcpListenSocket, client: TcpSocket) {
  client.connect(cx(), SERVER, CLIENT);
  const [syn] = emitted(client);
  assert.equal(l.onSyn(cx(), CLIENT.addr, SERVER.addr, syn!), null, "no room in the SYN queue");
  const synAck = l.synCookie(cx(), CLIENT.addr, SERVER.addr, syn!)!;
  now += 30;
  const ack = client.process(cx(), SERVER.addr, CLIENT.addr, synAck) ?? emitted(client)[0]!;
  const child = l.onCookieAck(cx(), CLIENT.addr, SERVER.addr, ack)!;
  assert.ok(child !== null, "the cookie is valid");
  child.process(cx(), CLIENT.addr, SERVER.addr, ack);
  assert.equal(child.state, "established");
  return { syn: syn!, synAck, child };
}

Deno.test("TcpListenSocket under a SYN flood keeps ECN through the cookie, and CE gets the ECN response", () => {
  const l = flooded();
  const client = new TcpSocket({ ecn: "on" });
  const { syn, synAck, child } = throughCookie(l, client);
  assert.equal(syn.flags & (TcpFlags.ECE | TcpFlags.CWR), TcpFlags.ECE | TcpFlags.CWR);
  // RFC 3168 §6.1.1: the cookie SYN-ACK is an ECN-setup SYN-ACK (ECE without CWR).
  assert.equal(synAck.flags & (TcpFlags.ECE | TcpFlags.CWR), TcpFlags.ECE);
  assert.equal(client.info.ecn, true);
  assert.equal(child.info.ecn, true, "the cookie carried the ECN verdict");
  assert.equal(l.info.synCookiesAccepted, 1);
  // A router marks the client's first data CE: the child echoes ECE, the client reduces once.
  client.send(new Uint8Array(1000).fill(1));
  const [data] = emitted(client);
  const echo = child.process({ ...cx(), ecn: 3 }, CLIENT.addr, SERVER.addr, data!) ??
    emitted(child)[0]!; // the first CE is acknowledged at once
  assert.ok((echo.flags & TcpFlags.ECE) !== 0, "ECE echoed");
  assert.equal(child.info.ceReceived, 1);
  now += 30;
  client.process(cx(), SERVER.addr, CLIENT.addr, echo);
  assert.equal(client.info.ecnReductions, 1);
  client.send(new Uint8Array(100).fill(2));
  const [next] = emitted(client);
  assert.ok((next!.flags & TcpFlags.CWR) !== 0, "CWR on the next new data");
});

Deno.test("TcpListenSocket cookies carry no ECN without timestamps, for a plain SYN, or with ecn off", () => {
  // Without timestamps the TSval cannot carry it: no ECN-setup SYN-ACK, ECN off on both ends.
  const a = throughCookie(flooded(), new TcpSocket({ ecn: "on", timestamps: false }));
  assert.equal(a.synAck.flags & TcpFlags.ECE, 0);
  assert.equal(a.child.info.ecn, false);
  // A SYN that did not ask for ECN.
  const b = throughCookie(flooded(), new TcpSocket({ ecn: "accept" }));
  assert.equal(b.synAck.flags & TcpFlags.ECE, 0);
  assert.equal(b.child.info.ecn, false);
  // A listener with ECN off.
  const off = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    synQueue: 1,
    socket: { ecn: "off" },
  });
  const flooder = Ipv4Address.parse("198.51.100.9");
  off.onSyn(cx(), flooder, SERVER.addr, floodSyn(2000))!.process(
    cx(),
    flooder,
    SERVER.addr,
    floodSyn(2000),
  );
  const client = new TcpSocket({ ecn: "on" });
  const c = throughCookie(off, client);
  assert.equal(c.synAck.flags & TcpFlags.ECE, 0);
  assert.equal(c.child.info.ecn, false);
  assert.equal(client.info.ecn, false);
});
