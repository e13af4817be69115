// Opening and closing: the state machine of RFC 9293 §3.10, segment by segment.

import assert from "node:assert/strict";
import { initialSequenceNumber } from "../../../src/socket/tcp/isn.ts";
import {
  ACK,
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
  SYN,
  synReceived,
  synSent,
} from "./_harness.ts";

// ---- Opening ----

Deno.test("TcpSocket in CLOSED answers a SYN with RST seq=0 ack=seq+len (closed_rejects)", () => {
  const h = new Harness();
  const r = h.send({ flags: SYN, seq: 100, ack: 0, payload: bytes(1, 2) });
  assert.deepStrictEqual(r, {
    srcPort: LOCAL.port,
    dstPort: REMOTE.port,
    seq: 0,
    ack: 103,
    flags: RST | ACK,
    window: 0,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload: new Uint8Array(0),
  });
});

Deno.test("TcpSocket in CLOSED answers an ACK with RST seq=ack and never answers a RST (closed_rejects)", () => {
  const h = new Harness();
  const r = h.send({ flags: ACK, seq: 100, ack: 555 });
  assert.equal(r?.flags, RST);
  assert.equal(r?.seq, 555);
  assert.equal(r?.ack, 0);
  assert.equal(h.send({ flags: RST, seq: 100 }), null);
  assert.equal(h.send({ flags: RST | ACK, seq: 100, ack: 5 }), null);
  h.expectNothing();
});

Deno.test("TcpSocket in LISTEN answers a SYN with a SYN-ACK carrying our MSS (listen_syn_synack)", () => {
  const h = listening();
  assert.equal(h.send({ flags: SYN, seq: REMOTE_SEQ, ack: 0, mss: 1400 }), null);
  assert.equal(h.sock.state, "synReceived");
  h.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460, window: 64 });
  h.expectNothing();
});

Deno.test("TcpSocket in LISTEN echoes window scale, SACK-permitted and timestamps only when offered (listen_syn_synack)", () => {
  const opts = { sack: true, timestamps: true, windowScale: true, rxBufferSize: 1 << 20 };
  const h = listening(opts);
  h.at(5);
  h.send({
    flags: SYN,
    seq: REMOTE_SEQ,
    mss: 1400,
    windowScale: 7,
    sackPermitted: true,
    timestamp: { tsVal: 500, tsEcr: 0 },
  });
  h.expect({
    flags: SYN | ACK,
    seq: LOCAL_SEQ,
    ack: REMOTE_SEQ + 1,
    mss: 1460,
    window: 65535,
    windowScale: 5,
    sackPermitted: true,
    timestamp: { tsVal: 5, tsEcr: 500 },
  });
  const bare = listening(opts);
  bare.send({ flags: SYN, seq: REMOTE_SEQ, mss: 1400 });
  bare.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460, window: 65535 });
});

Deno.test("TcpSocket in LISTEN answers an ACK with RST (listen_ack_rst)", () => {
  const h = listening();
  const r = h.send({ flags: ACK, seq: 5, ack: 77 });
  assert.equal(r?.flags, RST);
  assert.equal(r?.seq, 77);
  assert.equal(h.sock.state, "listen");
  h.expectNothing();
});

Deno.test("TcpSocket in LISTEN ignores a RST (listen_rst_ignored)", () => {
  const h = listening();
  assert.equal(h.send({ flags: RST, seq: 5 }), null);
  assert.equal(h.send({ flags: RST | ACK, seq: 5, ack: 9 }), null);
  assert.equal(h.sock.state, "listen");
  h.expectNothing();
  assert.equal(h.sock.info.droppedRst, 2);
});

Deno.test("TcpSocket in LISTEN does not acknowledge SYN data, so the peer resends it after the handshake (listen_syn_with_data)", () => {
  const h = listening();
  h.send({ flags: SYN, seq: REMOTE_SEQ, payload: bytes(1, 2, 3) });
  h.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460 });
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1 }), null);
  assert.equal(h.sock.recvQueue, 0);
  const r = h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, payload: bytes(1, 2, 3) });
  assert.equal(r?.ack, REMOTE_SEQ + 4);
  const buf = new Uint8Array(8);
  assert.equal(h.sock.recv(buf), 3);
  assert.deepStrictEqual(buf.subarray(0, 3), bytes(1, 2, 3));
});

Deno.test("TcpSocket clamps a tiny peer MSS to 64 bytes (listen_tiny_mss_clamped)", () => {
  const h = established({ txBufferSize: 256 }, { mss: 10 });
  assert.equal(h.sock.info.mss, 64);
  h.sock.send(new Uint8Array(150).fill(7));
  const out = h.out();
  assert.deepStrictEqual(out.map((s) => [s.seq - LOCAL_SEQ, s.payload.length, s.flags]), [
    [1, 64, ACK],
    [65, 64, ACK],
    [129, 22, ACK | PSH],
  ]);
});

Deno.test("TcpSocket in SYN-RECEIVED goes to ESTABLISHED on the ACK of its SYN (synrecv_ack_established)", () => {
  const h = synReceived();
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, window: 300 }), null);
  assert.equal(h.sock.state, "established");
  assert.equal(h.sock.info.peerWindow, 300);
  h.expectNothing();
});

Deno.test("TcpSocket in SYN-RECEIVED from a passive open goes back to LISTEN on RST (synrecv_rst_back_to_listen)", () => {
  const h = synReceived();
  assert.equal(h.send({ flags: RST, seq: REMOTE_SEQ + 1 }), null);
  assert.equal(h.sock.state, "listen");
  assert.equal(h.sock.remoteEndpoint, null);
  h.expectNothing();
  h.send({ flags: SYN, seq: 42 });
  h.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: 43, mss: 1460 });
});

Deno.test("TcpSocket in SYN-RECEIVED answers an ACK of unsent data with RST (synrecv_ack_too_high_rst)", () => {
  const h = synReceived();
  const r = h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 5 });
  assert.equal(r?.flags, RST);
  assert.equal(r?.seq, LOCAL_SEQ + 5);
  assert.equal(h.sock.state, "synReceived");
});

Deno.test("TcpSocket in SYN-RECEIVED retransmits the SYN-ACK with backoff (synrecv_retransmits_synack)", () => {
  const h = synReceived();
  assert.equal(h.pollAt, 1000);
  h.at(999).expectNothing();
  const synAck = { flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460 };
  h.at(1000).expect(synAck);
  assert.equal(h.pollAt, 3000);
  h.at(3000).expect(synAck);
  assert.equal(h.pollAt, 7000);
  assert.equal(h.sock.info.retransmits, 2);
});

Deno.test("TcpSocket in SYN-RECEIVED answers a duplicate SYN with the SYN-ACK again (synrecv_dup_syn)", () => {
  const h = synReceived();
  h.at(10);
  assert.equal(h.send({ flags: SYN, seq: REMOTE_SEQ }), null);
  h.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460 });
  assert.equal(h.sock.state, "synReceived");
});

Deno.test("TcpSocket connect() only changes state; the first dispatch emits the SYN (connect_only_changes_state)", () => {
  const h = new Harness();
  h.sock.connect(h.cx, REMOTE, LOCAL);
  assert.equal(h.sock.state, "synSent");
  assert.equal(h.pollAt, 0);
  h.expect({ flags: SYN, seq: LOCAL_SEQ, ack: 0, mss: 1460, window: 64 });
  h.expectNothing();
  assert.equal(h.pollAt, 1000);
});

Deno.test("TcpSocket announces the MSS of the MTU at SYN time, not the one known at connect()", () => {
  const h = new Harness();
  h.sock.connect(h.cx, REMOTE, LOCAL); // the interface still assumes 1500
  h.ipMtu = 9000; // it learns the device's MTU before the SYN leaves
  h.expect({ flags: SYN, seq: LOCAL_SEQ, ack: 0, mss: 9000 - 40, window: 64 });
  h.expectNothing();
});

Deno.test("TcpSocket connect() rejects bad endpoints with TypeError and a second connect with Error", () => {
  const h = new Harness();
  assert.throws(() => h.sock.connect(h.cx, { ...REMOTE, port: 0 }, LOCAL), TypeError);
  assert.throws(() => h.sock.connect(h.cx, { ...REMOTE, port: 70000 }, LOCAL), TypeError);
  h.sock.connect(h.cx, REMOTE, LOCAL);
  assert.throws(() => h.sock.connect(h.cx, REMOTE, LOCAL), Error);
});

Deno.test("TcpSocket in SYN-SENT goes to ESTABLISHED on a SYN-ACK and acknowledges it (synsent_synack_established)", () => {
  const h = synSent();
  const r = h.send({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: LOCAL_SEQ + 1, mss: 1000 });
  assert.deepStrictEqual(r, {
    srcPort: LOCAL.port,
    dstPort: REMOTE.port,
    seq: LOCAL_SEQ + 1,
    ack: REMOTE_SEQ + 1,
    flags: ACK,
    window: 64,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload: new Uint8Array(0),
  });
  assert.equal(h.sock.state, "established");
  assert.equal(h.sock.info.mss, 1000);
  h.expectNothing();
});

Deno.test("TcpSocket in SYN-SENT is refused by a RST only with an acceptable ACK (synsent_rst_refused)", () => {
  const h = synSent();
  assert.equal(h.send({ flags: RST, seq: 0 }), null);
  assert.equal(h.sock.state, "synSent");
  assert.equal(h.send({ flags: RST | ACK, seq: 0, ack: LOCAL_SEQ + 2 }), null);
  assert.equal(h.sock.state, "synSent");
  assert.equal(h.send({ flags: RST | ACK, seq: 0, ack: LOCAL_SEQ + 1 }), null);
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "refused");
  h.expectNothing();
});

Deno.test("TcpSocket in SYN-SENT answers a bad ACK with RST (synsent_bad_ack_rst)", () => {
  const h = synSent();
  const r = h.send({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: LOCAL_SEQ + 10 });
  assert.equal(r?.flags, RST);
  assert.equal(r?.seq, LOCAL_SEQ + 10);
  assert.equal(h.sock.state, "synSent");
  const r2 = h.send({ flags: ACK, seq: REMOTE_SEQ, ack: LOCAL_SEQ });
  assert.equal(r2?.seq, LOCAL_SEQ);
  assert.equal(h.sock.state, "synSent");
});

Deno.test("TcpSocket in SYN-SENT handles a simultaneous open via SYN-RECEIVED (simultaneous_open)", () => {
  const h = synSent();
  assert.equal(h.send({ flags: SYN, seq: REMOTE_SEQ, mss: 1200 }), null);
  assert.equal(h.sock.state, "synReceived");
  h.expect({ flags: SYN | ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1, mss: 1460 });
  assert.equal(h.send({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: LOCAL_SEQ + 1 }), null);
  assert.equal(h.sock.state, "established");
  h.expectNothing();
});

Deno.test("TcpSocket in SYN-SENT retransmits the SYN with exponential backoff (synsent_retransmit_backoff, retransmit_syn)", () => {
  const h = synSent();
  const syn = { flags: SYN, seq: LOCAL_SEQ, mss: 1460 };
  assert.equal(h.pollAt, 1000);
  h.at(1000).expect(syn);
  assert.equal(h.pollAt, 3000);
  h.at(3000).expect(syn);
  assert.equal(h.pollAt, 7000);
  h.at(7000).expect(syn);
  assert.equal(h.pollAt, 15000);
});

Deno.test("TcpSocket in SYN-SENT gives up after the connect timeout (synsent_gives_up)", () => {
  const h = synSent({ connectTimeout: 5000 });
  h.at(1000).out();
  h.at(3000).out();
  assert.equal(h.pollAt, 5000);
  h.at(5000).expectNothing();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "timedOut");
  assert.equal(h.pollAt, Infinity);
});

Deno.test("TcpSocket chooses its ISN with RFC 6528 from the clock, the secret and the 4-tuple", () => {
  const h = new Harness({ initialSequenceNumber: null });
  h.at(12345);
  h.sock.connect(h.cx, REMOTE, LOCAL);
  const [syn] = h.out();
  assert.equal(syn!.seq, initialSequenceNumber(12345, h.secret, LOCAL, REMOTE));
});

// ---- Closing ----

Deno.test("TcpSocket close() sends FIN after the queued data (close_sends_fin_after_data)", () => {
  const h = established();
  h.sock.send(bytes(1, 2, 3));
  h.sock.close();
  assert.equal(h.sock.state, "finWait1");
  h.expect({
    flags: ACK | PSH | FIN,
    seq: LOCAL_SEQ + 1,
    ack: REMOTE_SEQ + 1,
    payload: bytes(1, 2, 3),
  });
  h.expectNothing();
});

Deno.test("TcpSocket goes FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT (fin_wait_1_to_2, fin_wait_2_to_time_wait)", () => {
  const h = established({ timeWait: 2000 });
  h.sock.close();
  h.expect({ flags: ACK | FIN, seq: LOCAL_SEQ + 1, ack: REMOTE_SEQ + 1 });
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 }), null);
  assert.equal(h.sock.state, "finWait2");
  h.at(100);
  const r = h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 });
  assert.equal(r?.flags, ACK);
  assert.equal(r?.seq, LOCAL_SEQ + 2);
  assert.equal(r?.ack, REMOTE_SEQ + 2);
  assert.equal(h.sock.state, "timeWait");
  assert.equal(h.pollAt, 2100);
});

Deno.test("TcpSocket in FIN-WAIT-2 still receives data (half-close)", () => {
  const h = established();
  h.sock.close();
  h.out();
  h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 });
  assert.equal(h.sock.state, "finWait2");
  const r = h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2, payload: bytes(9, 8) });
  assert.equal(r?.ack, REMOTE_SEQ + 3);
  assert.equal(h.sock.recvQueue, 2);
  assert.equal(h.sock.mayRecv, true);
});

Deno.test("TcpSocket handles a simultaneous close through CLOSING (closing)", () => {
  const h = established({ timeWait: 500 });
  h.sock.close();
  h.expect({ flags: ACK | FIN, seq: LOCAL_SEQ + 1, ack: REMOTE_SEQ + 1 });
  const r = h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1 });
  assert.equal(r?.ack, REMOTE_SEQ + 2);
  assert.equal(h.sock.state, "closing");
  assert.equal(h.send({ seq: REMOTE_SEQ + 2, ack: LOCAL_SEQ + 2 }), null);
  assert.equal(h.sock.state, "timeWait");
});

Deno.test("TcpSocket whose FIN has not left when the peer's FIN arrives acknowledges it on its own FIN", () => {
  const h = established({ timeWait: 500 });
  h.sock.close(); // FIN queued, not yet dispatched
  assert.equal(h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1 }), null);
  assert.equal(h.sock.state, "closing");
  // One segment, not a pure ACK and then the FIN; the peer's FIN took one sequence number and
  // the right edge stays put (window 63).
  h.expect({ flags: ACK | FIN, seq: LOCAL_SEQ + 1, ack: REMOTE_SEQ + 2, window: 63 });
  h.expectNothing();
  assert.equal(h.send({ seq: REMOTE_SEQ + 2, ack: LOCAL_SEQ + 2 }), null);
  assert.equal(h.sock.state, "timeWait");
});

Deno.test("TcpSocket in CLOSE-WAIT still sends, then LAST-ACK → CLOSED (close_wait_then_last_ack, last_ack_to_closed)", () => {
  const h = established();
  const r = h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1 });
  assert.equal(r?.ack, REMOTE_SEQ + 2);
  assert.equal(h.sock.state, "closeWait");
  assert.equal(h.sock.isEof, true);
  assert.equal(h.sock.maySend, true);
  h.sock.send(bytes(5));
  // The FIN took one sequence number; the right edge stays put (window 63, RFC 9293 §3.8.6.2.2).
  h.expect({
    flags: ACK | PSH,
    seq: LOCAL_SEQ + 1,
    ack: REMOTE_SEQ + 2,
    window: 63,
    payload: bytes(5),
  });
  h.sock.close();
  assert.equal(h.sock.state, "lastAck");
  h.expect({ flags: ACK | FIN, seq: LOCAL_SEQ + 2, ack: REMOTE_SEQ + 2, window: 63 });
  h.send({ seq: REMOTE_SEQ + 2, ack: LOCAL_SEQ + 3 });
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, null);
  h.expectNothing();
});

Deno.test("TcpSocket in TIME-WAIT acknowledges a retransmitted FIN and restarts the timer (time_wait_acks_retransmitted_fin)", () => {
  const h = established({ timeWait: 1000 });
  h.sock.close();
  h.out();
  h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 });
  assert.equal(h.sock.state, "timeWait");
  assert.equal(h.pollAt, 1000);
  h.at(600);
  const r = h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 });
  assert.equal(r?.flags, ACK);
  assert.equal(r?.seq, LOCAL_SEQ + 2);
  assert.equal(r?.ack, REMOTE_SEQ + 2);
  assert.equal(h.pollAt, 1600);
});

Deno.test("TcpSocket leaves TIME-WAIT after 2×MSL (time_wait_expires)", () => {
  const h = established({ timeWait: 1000 });
  h.sock.close();
  h.out();
  h.send({ flags: FIN | ACK, seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 2 });
  h.at(999).expectNothing();
  assert.equal(h.sock.state, "timeWait");
  h.at(1000).expectNothing();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, null);
  assert.equal(h.pollAt, Infinity);
});

Deno.test("TcpSocket abort() sends RST and closes (abort_sends_rst)", () => {
  const h = established();
  h.sock.abort();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "aborted");
  assert.equal(h.pollAt, 0);
  h.expect({ flags: RST | ACK, seq: LOCAL_SEQ + 1, ack: REMOTE_SEQ + 1, window: 0 });
  h.expectNothing();
});

Deno.test("TcpSocket close() with unread received data sends RST (RFC 1122 4.2.2.13)", () => {
  const h = established();
  h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, payload: bytes(1, 2, 3) });
  h.sock.close();
  assert.equal(h.sock.state, "closed");
  h.expect({ flags: RST | ACK, seq: LOCAL_SEQ + 1, ack: REMOTE_SEQ + 4, window: 0 });
});

Deno.test("TcpSocket close() in LISTEN or SYN-SENT just closes, sending nothing", () => {
  const l = listening();
  l.sock.close();
  assert.equal(l.sock.state, "closed");
  l.expectNothing();
  const s = synSent();
  s.sock.close();
  assert.equal(s.sock.state, "closed");
  s.expectNothing();
});

Deno.test("TcpSocket holds a FIN that arrives beyond a hole until the hole fills", () => {
  const h = established();
  const r1 = h.send({
    flags: ACK | FIN,
    seq: REMOTE_SEQ + 4,
    ack: LOCAL_SEQ + 1,
    payload: bytes(4, 5, 6),
  });
  assert.equal(r1?.ack, REMOTE_SEQ + 1);
  assert.equal(h.sock.state, "established");
  const r2 = h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, payload: bytes(1, 2, 3) });
  assert.equal(r2?.ack, REMOTE_SEQ + 8);
  assert.equal(h.sock.state, "closeWait");
  const buf = new Uint8Array(10);
  assert.equal(h.sock.recv(buf), 6);
  assert.deepStrictEqual(buf.subarray(0, 6), bytes(1, 2, 3, 4, 5, 6));
  assert.equal(h.sock.isEof, true);
});

Deno.test("TcpSocket keep-alive probes with seq = SND.NXT − 1 and gives up after N probes", () => {
  const h = established({ keepAlive: { idle: 1000, interval: 100, count: 2 } });
  assert.equal(h.pollAt, 1000);
  const probe = { flags: ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1 };
  h.at(1000).expect(probe);
  assert.equal(h.pollAt, 1100);
  h.at(1100).expect(probe);
  assert.equal(h.pollAt, 1200);
  h.at(1200).expectNothing();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "timedOut");
});

Deno.test("TcpSocket keep-alive restarts the idle period when the peer answers", () => {
  const h = established({ keepAlive: { idle: 1000, interval: 100, count: 2 } });
  h.at(1000).expect({ flags: ACK, seq: LOCAL_SEQ, ack: REMOTE_SEQ + 1 });
  h.at(1050);
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1 }), null);
  assert.equal(h.pollAt, 2050);
  assert.equal(h.sock.state, "established");
});

// ---- Observability ----

Deno.test("TcpSocket info reports state, windows, timers and counters in one reused object", () => {
  const h = established({ txBufferSize: 256 }, { window: 200, mss: 100 }, { window: 200 });
  h.sock.send(bytes(1, 2, 3));
  h.out();
  const a = h.sock.info;
  assert.equal(h.sock.info, a);
  assert.deepStrictEqual(
    [a.state, a.sndUna, a.sndNxt, a.rcvNxt, a.peerWindow, a.mss, a.sendQueue, a.recvQueue],
    ["established", LOCAL_SEQ + 1, LOCAL_SEQ + 4, REMOTE_SEQ + 1, 200, 100, 3, 0],
  );
  assert.deepStrictEqual([a.srtt, a.rttvar, a.rto, a.cwnd], [0, 0, 200, 1000]);
  assert.deepStrictEqual([a.segmentsIn, a.segmentsOut, a.bytesOut, a.retransmits], [2, 2, 3, 0]);
  assert.equal(h.sock.localEndpoint?.port, LOCAL.port);
  assert.equal(h.sock.remoteEndpoint?.port, REMOTE.port);
});
