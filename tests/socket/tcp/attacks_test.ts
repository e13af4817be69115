// RFC 5961 challenge ACKs and their limits, RFC 1337, bad checksums.

import assert from "node:assert/strict";
import { TokenBucket } from "../../../src/socket/context.ts";
import { WireError } from "../../../src/wire/error.ts";
import { emitTcp, parseTcp, tcpBufferLen, TcpPacket, type TcpRepr } from "../../../src/wire/tcp.ts";
import { timestampOffset } from "../../../src/socket/tcp/isn.ts";
import { Ipv4Address } from "../../../src/wire/address.ts";
import {
  ACK,
  assertReply,
  BASE_OPTS,
  bytes,
  established,
  FIN,
  Harness,
  listening,
  LOCAL,
  LOCAL_SEQ,
  PSH,
  REMOTE,
  REMOTE_SEQ,
  RST,
  SEND_TEMPL,
  SYN,
  TcpListenSocket,
} from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const CHALLENGE = { flags: ACK, seq: L, ack: R, window: 64 };

function isChallenge(r: unknown): void {
  const x = r as Record<string, unknown> | null;
  assert.ok(x !== null);
  assert.deepStrictEqual([x.flags, x.seq, x.ack, x.window], [
    CHALLENGE.flags,
    CHALLENGE.seq,
    CHALLENGE.ack,
    CHALLENGE.window,
  ]);
}

Deno.test("TcpSocket in ESTABLISHED is reset by a RST with seq = RCV.NXT", () => {
  const h = established();
  assert.equal(h.send({ flags: RST, seq: R }), null);
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "reset");
  h.expectNothing();
});

Deno.test("TcpSocket answers an in-window inexact RST with a challenge ACK (RFC 5961 §3.2)", () => {
  const h = established();
  isChallenge(h.send({ flags: RST, seq: R + 10 }));
  assert.equal(h.sock.state, "established");
  assert.equal(h.sock.info.challengeAcks, 1);
});

Deno.test("TcpSocket drops an out-of-window RST silently", () => {
  const h = established();
  assert.equal(h.send({ flags: RST, seq: R + 1000 }), null);
  assert.equal(h.send({ flags: RST | ACK, seq: R - 1, ack: L }), null);
  assert.equal(h.sock.state, "established");
  h.expectNothing();
});

Deno.test("TcpSocket answers a SYN in a synchronized state with a challenge ACK, never a reset (RFC 5961 §4)", () => {
  const h = established();
  isChallenge(h.send({ flags: SYN, seq: R + 5, ack: 0 }));
  isChallenge(h.send({ flags: SYN, seq: REMOTE_SEQ - 1000, ack: 0 }));
  assert.equal(h.sock.state, "established");
});

Deno.test("TcpSocket answers an ACK of data never sent with a challenge ACK and drops the segment (RFC 5961 §5.2)", () => {
  const h = established();
  isChallenge(h.send({ seq: R, ack: L + 100, payload: bytes(1, 2, 3) }));
  assert.equal(h.sock.recvQueue, 0);
  assert.equal(h.sock.info.droppedBadAck, 1);
});

Deno.test("TcpSocket ignores an old ACK but keeps the segment's data", () => {
  const h = established();
  h.sock.send(bytes(1, 2, 3, 4));
  h.out();
  h.send({ seq: R, ack: L + 4 });
  const r = h.send({ seq: R, ack: L + 1, payload: bytes(9) });
  assert.equal(r?.ack, R + 1);
  assert.equal(h.sock.recvQueue, 1);
  assert.equal(h.sock.info.sndUna, L + 4);
});

Deno.test("TcpSocket drops a segment whose ACK is older than the largest window and challenges it", () => {
  const h = established();
  isChallenge(h.send({ seq: R, ack: L - 10_000, payload: bytes(9) }));
  assert.equal(h.sock.recvQueue, 0);
});

Deno.test("TcpSocket rate-limits challenge ACKs per connection", () => {
  const h = established();
  let sent = 0;
  for (let i = 0; i < 15; i++) if (h.send({ flags: RST, seq: R + 10 }) !== null) sent++;
  assert.equal(sent, 10);
  assert.equal(h.sock.info.challengeAcksLimited, 5);
  h.at(1000);
  assert.notEqual(h.send({ flags: RST, seq: R + 10 }), null);
});

Deno.test("TcpSocket rate-limits challenge ACKs globally through the context limiter", () => {
  const a = established();
  const b = established();
  const shared = new TokenBucket({ burst: 3, interval: 1000 });
  a.limiter = shared;
  b.limiter = shared;
  const got = [
    a.send({ flags: RST, seq: R + 10 }),
    b.send({ flags: RST, seq: R + 10 }),
    a.send({ flags: SYN, seq: R }),
    b.send({ flags: SYN, seq: R }),
  ].map((r) => r !== null);
  assert.deepStrictEqual(got, [true, true, true, false]);
});

Deno.test("TcpSocket in TIME-WAIT ignores a RST (RFC 1337)", () => {
  const h = established({ timeWait: 1000 });
  h.sock.close();
  h.out();
  h.send({ flags: FIN | ACK, seq: R, ack: L + 1 });
  assert.equal(h.sock.state, "timeWait");
  assert.equal(h.send({ flags: RST, seq: R + 1 }), null);
  assert.equal(h.sock.state, "timeWait");
  assert.equal(h.pollAt, 1000);
});

Deno.test("A segment with a bad checksum never reaches the socket (parseTcp throws WireError)", () => {
  const h = established();
  const repr = { ...SEND_TEMPL, seq: R, ack: L, payload: bytes(1, 2, 3) };
  const buf = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, new TcpPacket(buf), REMOTE.addr, LOCAL.addr);
  buf[buf.length - 1]! ^= 0xff;
  assert.throws(() => parseTcp(new TcpPacket(buf), REMOTE.addr, LOCAL.addr), WireError);
  assert.equal(h.sock.info.segmentsIn, 2); // only the handshake
  assert.equal(h.sock.recvQueue, 0);
});

Deno.test("TcpSocket ignores a segment for another 4-tuple", () => {
  const h = established();
  assert.equal(h.send({ srcPort: REMOTE.port + 1, seq: R, ack: L, payload: bytes(1) }), null);
  assert.equal(h.sock.recvQueue, 0);
});

// ---- Fixes found by tests/attacks/ ----

const TS = { timestamps: true, timestampOffset: 1000 };
const TS_SYN = { timestamp: { tsVal: 500, tsEcr: 0 } };
const TS_ACK = { timestamp: { tsVal: 501, tsEcr: 1000 } };

Deno.test("TcpSocket does not move TS.Recent for a left-edge segment whose ACK is unacceptable (RFC 7323 §4.3, RFC 5961 §5.2)", () => {
  const h = established(TS, TS_SYN, TS_ACK);
  // t=10: forged, SEG.SEQ = RCV.NXT (the left edge), ACK 2^30 beyond SND.MAX, far-future TSval.
  h.at(10);
  assertReply(
    h.send({
      seq: R,
      ack: (L + 0x40000000) >>> 0,
      payload: bytes(1, 2, 3),
      timestamp: { tsVal: 0x3fffffff, tsEcr: 0 },
    }),
    { seq: L, ack: R, window: 64, timestamp: { tsVal: 1010, tsEcr: 501 } },
  );
  assert.equal(h.sock.info.droppedBadAck, 1);
  assert.equal(h.sock.recvQueue, 0);
  h.expectNothing();
  // t=20: the genuine next segment (TSval 510) passes PAWS and is taken; the ACK echoes 510.
  h.at(20);
  assertReply(
    h.send({ seq: R, ack: L, payload: bytes(7), timestamp: { tsVal: 510, tsEcr: 1010 } }),
    { seq: L, ack: R + 1, window: 63, timestamp: { tsVal: 1020, tsEcr: 510 } },
  );
  assert.equal(h.sock.info.droppedPaws, 0);
  assert.equal(h.sock.recvQueue, 1);
  h.expectNothing();
});

Deno.test("TcpSocket answers SYNs outside the window with rate-limited challenge ACKs (RFC 5961 §4.2, §7)", () => {
  const h = established();
  // t=0: 12 SYNs half the sequence space away; 10 challenge ACKs (the per-connection burst).
  const got: (TcpRepr | null)[] = [];
  for (let k = 0; k < 12; k++) {
    got.push(h.send({ flags: SYN, seq: (R + 0x80000000 + k) >>> 0, ack: 0 }));
  }
  for (const r of got.slice(0, 10)) assertReply(r, CHALLENGE);
  assert.deepStrictEqual(got.slice(10), [null, null]);
  assert.equal(h.sock.info.challengeAcks, 10);
  assert.equal(h.sock.info.challengeAcksLimited, 2);
  assert.equal(h.sock.info.droppedOutOfWindow, 0);
  h.expectNothing();
  // t=100: one token back (10 per second).
  h.at(100);
  assertReply(h.send({ flags: SYN, seq: R - 5000, ack: 0 }), CHALLENGE);
  assert.equal(h.send({ flags: SYN, seq: R - 5000, ack: 0 }), null);
  assert.equal(h.sock.state, "established");
  h.expectNothing();
});

Deno.test("TcpSocket answers a SYN that fails PAWS with a challenge ACK (RFC 5961 §4.2)", () => {
  const h = established(TS, TS_SYN, TS_ACK);
  h.at(5);
  assertReply(h.send({ flags: SYN, seq: R + 7, ack: 0, timestamp: { tsVal: 100, tsEcr: 0 } }), {
    ...CHALLENGE,
    timestamp: { tsVal: 1005, tsEcr: 501 },
  });
  assert.deepStrictEqual([h.sock.info.challengeAcks, h.sock.info.droppedPaws], [1, 0]);
});

Deno.test("TcpSocket rate-limits duplicate ACKs for out-of-window segments without data or with a bad ACK (500 ms)", () => {
  const h = established();
  const DUP = { seq: L, ack: R, window: 64 };
  // t=0: a pure ACK beyond the window: answered once, then not again for 500 ms.
  assertReply(h.send({ seq: R + 1000, ack: L }), DUP);
  assert.equal(h.send({ seq: R + 2000, ack: L }), null);
  // Out-of-window data with an ACK beyond SND.MAX (not from the peer): limited too.
  h.at(100);
  assert.equal(h.send({ seq: R + 3000, ack: L + 0x40000000, payload: bytes(1, 2) }), null);
  // Old data with an acceptable ACK (a retransmission after a lost ACK) is always answered,
  // and so is an old FIN.
  assertReply(h.send({ seq: R - 2, ack: L, payload: bytes(1, 2) }), DUP);
  assertReply(h.send({ seq: R - 3, ack: L, payload: bytes(1, 2) }), DUP);
  assertReply(h.send({ flags: FIN | ACK, seq: R - 1, ack: L }), DUP);
  assert.equal(h.sock.info.oowAcksLimited, 2);
  assert.equal(h.sock.info.droppedOutOfWindow, 6);
  h.expectNothing();
  // t=499: still limited; t=500: one more.
  h.at(499);
  assert.equal(h.send({ seq: R + 1000, ack: L }), null);
  h.at(500);
  assertReply(h.send({ seq: R + 1000, ack: L }), DUP);
  assert.equal(h.send({ seq: R + 1000, ack: L }), null);
  assert.equal(h.sock.info.oowAcksLimited, 4);
  assert.equal(h.sock.state, "established");
  h.expectNothing();
});

Deno.test("TcpSocket rate-limits duplicate ACKs for PAWS drops without data (500 ms)", () => {
  const h = established(TS, TS_SYN, TS_ACK);
  const DUP = { seq: L, ack: R, window: 64, timestamp: { tsVal: 1010, tsEcr: 501 } };
  h.at(10);
  assertReply(h.send({ seq: R, ack: L, timestamp: { tsVal: 400, tsEcr: 0 } }), DUP);
  assert.equal(h.send({ seq: R, ack: L, timestamp: { tsVal: 401, tsEcr: 0 } }), null);
  // An old duplicate with data and an acceptable ACK is still answered.
  assertReply(
    h.send({ seq: R, ack: L, payload: bytes(1), timestamp: { tsVal: 402, tsEcr: 0 } }),
    DUP,
  );
  assert.deepStrictEqual([h.sock.info.droppedPaws, h.sock.info.oowAcksLimited], [3, 1]);
  assert.equal(h.sock.recvQueue, 0);
  h.expectNothing();
});

Deno.test("TcpListenSocket holds a child in SYN-RECEIVED while the accept queue is full: the completing ACK is dropped, no RST, and it completes once accepted", () => {
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: LOCAL.port }, {
    backlog: 1,
    socket: BASE_OPTS,
  });
  const P1 = REMOTE.port, P2 = REMOTE.port + 1;
  const a = new Harness(), b = new Harness();
  const synOf = (port: number): TcpRepr => ({
    ...SEND_TEMPL,
    srcPort: port,
    flags: SYN,
    seq: REMOTE_SEQ,
    ack: 0,
  });
  const SYN_ACK = {
    flags: SYN | ACK,
    seq: LOCAL_SEQ,
    ack: R,
    window: 64,
    mss: 1460,
    dstPort: P2,
  };
  // t=0: two SYNs arrive together; both are admitted (the accept queue is empty).
  for (const [h, port] of [[a, P1], [b, P2]] as const) {
    const child = l.onSyn(h.cx, REMOTE.addr, LOCAL.addr, synOf(port));
    assert.ok(child !== null);
    h.sock = child;
    assert.equal(h.send(synOf(port)), null);
  }
  a.expect({ ...SYN_ACK, dstPort: P1 });
  b.expect(SYN_ACK);
  // t=10: both ACKs. The first fills the backlog of 1; the second is dropped, no reply.
  a.at(10);
  b.at(10);
  assert.equal(a.send({ srcPort: P1, seq: R, ack: L }), null);
  assert.equal(b.send({ srcPort: P2, seq: R, ack: L, payload: bytes(1, 2) }), null);
  assert.deepStrictEqual([a.sock.state, b.sock.state], ["established", "synReceived"]);
  assert.equal(b.sock.recvQueue, 0);
  assert.deepStrictEqual([l.pendingAccepts, l.synQueueLength, l.info.acceptOverflows], [1, 1, 1]);
  a.expectNothing();
  b.expectNothing();
  // t=1000: the held child retransmits its SYN-ACK (RTO); the peer's ACK is dropped again.
  b.at(1000);
  b.expect(SYN_ACK);
  assert.equal(b.send({ srcPort: P2, seq: R, ack: L }), null);
  assert.equal(b.sock.state, "synReceived");
  assert.equal(l.info.acceptOverflows, 2);
  // accept() makes room; the peer's retransmitted data completes the handshake and is taken.
  assert.equal(l.accept(), a.sock);
  b.at(1100);
  assertReply(b.send({ srcPort: P2, seq: R, ack: L, payload: bytes(1, 2) }), {
    dstPort: P2,
    seq: L,
    ack: R + 2,
    window: 62,
  });
  assert.equal(b.sock.state, "established");
  assert.deepStrictEqual([l.pendingAccepts, l.synQueueLength], [1, 0]);
  assert.equal(l.accept(), b.sock);
  b.expectNothing();
});

Deno.test("TcpSocket keys its TSval offset on the address pair, so successive incarnations of a 4-tuple send growing TSvals (RFC 7323 §5.4, RFC 6191)", () => {
  const TS_KEYED = { timestamps: true, timestampOffset: null };
  const secret = new Uint8Array(16).fill(3); // the Harness secret
  const off = timestampOffset(secret, LOCAL.addr, REMOTE.addr);
  const SYN_OUT = { flags: SYN, seq: LOCAL_SEQ, ack: 0, window: 64, mss: 1460 };
  // Incarnation 1, active open at t=0; it sends a data segment at t=40 and is aborted.
  const a = new Harness(TS_KEYED);
  a.sock.connect(a.cx, REMOTE, LOCAL);
  a.expect({ ...SYN_OUT, timestamp: { tsVal: off, tsEcr: 0 } });
  a.at(10);
  a.send({
    flags: SYN | ACK,
    seq: REMOTE_SEQ,
    ack: L,
    timestamp: { tsVal: 7, tsEcr: off },
  });
  assert.equal(a.sock.state, "established");
  a.at(40);
  a.sock.send(bytes(1));
  a.expect({
    flags: ACK | PSH,
    seq: L,
    ack: R,
    window: 64,
    payload: bytes(1),
    timestamp: { tsVal: (off + 40) >>> 0, tsEcr: 7 },
  });
  a.sock.abort();
  // Incarnation 2 on the same 4-tuple at t=50: TSval continues from the same clock and offset.
  const b = new Harness(TS_KEYED);
  b.at(50);
  b.sock.connect(b.cx, REMOTE, LOCAL);
  b.expect({ ...SYN_OUT, timestamp: { tsVal: (off + 50) >>> 0, tsEcr: 0 } });
  // The passive side uses the same offset for the pair.
  const p = listening(TS_KEYED);
  p.at(60);
  p.send({ flags: SYN, seq: REMOTE_SEQ, timestamp: { tsVal: 9, tsEcr: 0 } });
  p.expect({
    ...SYN_OUT,
    flags: SYN | ACK,
    ack: R,
    timestamp: { tsVal: (off + 60) >>> 0, tsEcr: 9 },
  });
  // Another peer address gets another offset; the test override still wins.
  const other = timestampOffset(secret, LOCAL.addr, Ipv4Address.parse("192.168.1.3"));
  assert.notEqual(other, off);
  const fixed = new Harness({ timestamps: true, timestampOffset: 1000 });
  fixed.sock.connect(fixed.cx, REMOTE, LOCAL);
  fixed.expect({ ...SYN_OUT, timestamp: { tsVal: 1000, tsEcr: 0 } });
});
