// The receive path: acceptability, trimming, the assembler, SACK blocks, window
// advertisement with SWS avoidance, delayed ACKs, timestamps and window scaling.

import assert from "node:assert/strict";
import { ACK, bytes, established, fill, LOCAL_SEQ, PSH, REMOTE_SEQ, URG } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

Deno.test("TcpSocket in ESTABLISHED takes in-order data and acknowledges it (established_recv_in_order)", () => {
  const h = established();
  const r = h.send({ seq: R, ack: L, payload: bytes(1, 2, 3, 4, 5, 6) });
  assert.deepStrictEqual([r?.flags, r?.seq, r?.ack, r?.window], [ACK, L, R + 6, 58]);
  const buf = new Uint8Array(10);
  assert.equal(h.sock.recv(buf), 6);
  assert.deepStrictEqual(buf.subarray(0, 6), bytes(1, 2, 3, 4, 5, 6));
  assert.equal(h.sock.info.bytesIn, 6);
});

Deno.test("TcpSocket holds out-of-order data and sends a duplicate ACK with a SACK block (established_recv_out_of_order)", () => {
  const h = established({ sack: true }, { sackPermitted: true });
  const r = h.send({ seq: R + 3, ack: L, payload: bytes(4, 5, 6) });
  assert.deepStrictEqual([r?.flags, r?.seq, r?.ack, r?.window], [ACK, L, R, 64]);
  assert.deepStrictEqual(r?.sackBlocks, [[R + 3, R + 6]]);
  assert.equal(h.sock.recvQueue, 0);
  assert.equal(h.sock.info.outOfOrderSegments, 1);
});

Deno.test("TcpSocket acknowledges past all held data when the hole fills (established_fill_hole)", () => {
  const h = established({ sack: true }, { sackPermitted: true });
  h.send({ seq: R + 3, ack: L, payload: bytes(4, 5, 6) });
  const r = h.send({ seq: R, ack: L, payload: bytes(1, 2, 3) });
  assert.deepStrictEqual([r?.ack, r?.window, r?.sackBlocks], [R + 6, 58, []]);
  const buf = new Uint8Array(10);
  assert.equal(h.sock.recv(buf), 6);
  assert.deepStrictEqual(buf.subarray(0, 6), bytes(1, 2, 3, 4, 5, 6));
});

Deno.test("TcpSocket trims a segment partly outside the window and keeps the inside (established_partially_outside_window)", () => {
  const h = established();
  const r = h.send({ seq: R, ack: L, payload: fill(70) });
  assert.deepStrictEqual([r?.ack, r?.window], [R + 64, 0]);
  const buf = new Uint8Array(100);
  assert.equal(h.sock.recv(buf), 64);
  assert.deepStrictEqual(buf.subarray(0, 64), fill(64));
});

Deno.test("TcpSocket trims bytes it already has from the front of a segment", () => {
  const h = established();
  h.send({ seq: R, ack: L, payload: bytes(1, 2, 3, 4, 5, 6) });
  const r = h.send({ seq: R + 3, ack: L, payload: bytes(4, 5, 6, 7, 8, 9) });
  assert.equal(r?.ack, R + 9);
  const buf = new Uint8Array(20);
  assert.equal(h.sock.recv(buf), 9);
  assert.deepStrictEqual(buf.subarray(0, 9), bytes(1, 2, 3, 4, 5, 6, 7, 8, 9));
});

Deno.test("TcpSocket answers an out-of-window segment with an ACK and drops its data (established_bad_seq_ack)", () => {
  const h = established();
  const r = h.send({ seq: R + 1000, ack: L, payload: bytes(1, 2, 3) });
  assert.deepStrictEqual([r?.flags, r?.seq, r?.ack, r?.window], [ACK, L, R, 64]);
  assert.equal(h.sock.recvQueue, 0);
  const old = h.send({ seq: R - 10, ack: L, payload: bytes(1, 2, 3) });
  assert.equal(old?.ack, R);
  assert.equal(h.sock.info.droppedOutOfWindow, 2);
  h.expectNothing();
});

Deno.test("TcpSocket announces a reopened window only once it grew by min(MSS, buffer/2) (window_update_after_read)", () => {
  const h = established();
  h.send({ seq: R, ack: L, payload: fill(64) });
  const buf = new Uint8Array(64);
  assert.equal(h.sock.recv(buf.subarray(0, 10)), 10);
  h.expectNothing();
  assert.equal(h.pollAt, Infinity);
  assert.equal(h.sock.recv(buf.subarray(0, 22)), 22);
  assert.equal(h.pollAt, 0);
  h.expect({ seq: L, ack: R + 64, window: 32 });
  h.expectNothing();
});

Deno.test("TcpSocket delays an ACK up to the bound and sends it then (delayed ACK)", () => {
  // A buffer of several segments: with less than two segments of window left the ACK would go
  // at once (see below).
  const h = established({ delayedAck: 40, rxBufferSize: 4096 });
  h.at(100);
  assert.equal(h.send({ seq: R, ack: L, payload: bytes(1, 2) }), null);
  assert.equal(h.pollAt, 140);
  h.at(139).expectNothing();
  h.at(140).expect({ seq: L, ack: R + 2, window: 4094 });
  assert.equal(h.pollAt, Infinity);
});

Deno.test("TcpSocket acknowledges at once when less than two of the peer's segments of window are left (delayed ACK, small windows)", () => {
  // 4 KiB buffer; the peer's segment is the largest seen so far (Linux's rcv_mss), not its MSS.
  const h = established({ delayedAck: 40, rxBufferSize: 4096, mss: 1460 }, { mss: 1448 });
  assert.equal(h.send({ seq: R, ack: L, payload: fill(1000) }), null); // 3096 ≥ 2 × 1000 left
  assert.equal(h.pollAt, 40);
  const r = h.send({ seq: R + 1000, ack: L, payload: fill(1200) }); // 1896 < 2 × 1200 left
  assert.deepStrictEqual([r?.ack, r?.window], [R + 2200, 1896]);
  // a segment that fills the buffer (PSH, the last of a write) is acknowledged at once
  h.at(10);
  const full = h.send({ seq: R + 2200, ack: L, payload: fill(1896), flags: ACK | PSH });
  assert.deepStrictEqual([full?.ack, full?.window], [R + 4096, 0]);
  h.expectNothing();
});

Deno.test("TcpSocket delays the ACK of a small segment though its MSS exceeds half the window (request/response on a 64 KiB MTU)", () => {
  // 128 KiB buffer, 65483-byte MSS: under two MSS of window always, yet a 1102-byte answer's
  // ACK can wait for the next request to carry it.
  const h = established({ delayedAck: 40, rxBufferSize: 131072, mss: 65495, windowScale: true }, {
    mss: 65483,
    windowScale: 7,
  });
  assert.equal(h.out().length, 1); // the window beyond the SYN-ACK's unscaled 65535
  assert.equal(h.pollAt, Infinity);
  assert.equal(h.send({ seq: R, ack: L, payload: fill(1102), flags: ACK | PSH }), null);
  assert.equal(h.pollAt, 40);
  h.at(39).expectNothing();
});

Deno.test("TcpSocket acknowledges at least every second full-sized segment at once (delayed ACK)", () => {
  const h = established({ delayedAck: 40, rxBufferSize: 4096 });
  assert.equal(h.send({ seq: R, ack: L, payload: fill(536) }), null);
  const r = h.send({ seq: R + 536, ack: L, payload: fill(536) });
  assert.equal(r?.ack, R + 1072);
  h.expectNothing();
});

Deno.test("TcpSocket acknowledges out-of-order data at once even with delayed ACKs", () => {
  const h = established({ delayedAck: 40 });
  const r = h.send({ seq: R + 5, ack: L, payload: bytes(1) });
  assert.equal(r?.ack, R);
});

Deno.test("TcpSocket accepts and ignores the urgent pointer, keeping the data inline", () => {
  const h = established();
  const r = h.send({ flags: ACK | URG | PSH, urgent: 2, seq: R, ack: L, payload: bytes(7, 8, 9) });
  assert.equal(r?.ack, R + 3);
  const buf = new Uint8Array(3);
  assert.equal(h.sock.recv(buf), 3);
  assert.deepStrictEqual(buf, bytes(7, 8, 9));
});

Deno.test("TcpSocket receives correctly across the receive ring's wrap point", () => {
  const h = established();
  let seq = R;
  const buf = new Uint8Array(64);
  for (let i = 0; i < 7; i++) {
    const data = fill(40, i * 40);
    const r = h.send({ seq, ack: L, payload: data });
    seq += 40;
    assert.equal(r?.ack, seq);
    assert.equal(h.sock.recv(buf), 40);
    assert.deepStrictEqual(buf.subarray(0, 40), data);
  }
});

Deno.test("TcpSocket exposes received bytes zero-copy with peekRecv and consumeRecv", () => {
  const h = established();
  h.send({ seq: R, ack: L, payload: bytes(1, 2, 3) });
  assert.deepStrictEqual(h.sock.peekRecv(2), bytes(1, 2));
  h.sock.consumeRecv(2);
  assert.equal(h.sock.recvQueue, 1);
});

// ---- Timestamps (RFC 7323) ----

const TS = { timestamps: true, timestampOffset: 1000 };

Deno.test("TcpSocket with timestamps puts TSval on every segment and echoes TS.Recent", () => {
  const h = established(TS, { timestamp: { tsVal: 500, tsEcr: 0 } }, {
    timestamp: { tsVal: 501, tsEcr: 1000 },
  });
  h.at(20);
  const r = h.send({
    seq: R,
    ack: L,
    payload: bytes(1),
    timestamp: { tsVal: 510, tsEcr: 1000 },
  });
  assert.deepStrictEqual(r?.timestamp, { tsVal: 1020, tsEcr: 510 });
  h.sock.send(bytes(2));
  h.at(30).expect({
    flags: ACK | PSH,
    seq: L,
    ack: R + 1,
    window: 63,
    payload: bytes(2),
    timestamp: { tsVal: 1030, tsEcr: 510 },
  });
});

Deno.test("TcpSocket with timestamps takes RTT samples from TSecr", () => {
  const h = established(TS, { timestamp: { tsVal: 500, tsEcr: 0 } }, {
    timestamp: { tsVal: 501, tsEcr: 1000 },
  });
  h.at(100);
  h.sock.send(bytes(1, 2));
  h.out();
  h.at(130);
  h.send({ seq: R, ack: L + 2, timestamp: { tsVal: 530, tsEcr: 1100 } });
  const i = h.sock.info;
  // First sample was the handshake (0 ms); the second is 30 ms.
  assert.equal(i.srtt, 30 / 8);
});

Deno.test("TcpSocket with timestamps drops old duplicates by PAWS and answers with an ACK", () => {
  const h = established(TS, { timestamp: { tsVal: 500, tsEcr: 0 } }, {
    timestamp: { tsVal: 501, tsEcr: 1000 },
  });
  const r = h.send({ seq: R, ack: L, payload: bytes(1, 2), timestamp: { tsVal: 400, tsEcr: 0 } });
  assert.deepStrictEqual([r?.ack, r?.timestamp], [R, { tsVal: 1000, tsEcr: 501 }]);
  assert.equal(h.sock.recvQueue, 0);
  assert.equal(h.sock.info.droppedPaws, 1);
});

Deno.test("TcpSocket with timestamps tolerates one tick of the peer's clock in PAWS, as Linux (TCP_PAWS_WINDOW)", () => {
  const h = established(TS, { timestamp: { tsVal: 500, tsEcr: 0 } }, {
    timestamp: { tsVal: 501, tsEcr: 1000 },
  });
  // A segment sent in the tick before TS.Recent, overtaken on the way: taken.
  h.send({ seq: R, ack: L, payload: bytes(1, 2), timestamp: { tsVal: 500, tsEcr: 1000 } });
  assert.deepStrictEqual([h.sock.recvQueue, h.sock.info.droppedPaws], [2, 0]);
  // Two ticks older is an old duplicate as RFC 7323 §5.3 R1 says.
  h.send({ seq: R + 2, ack: L, payload: bytes(3), timestamp: { tsVal: 499, tsEcr: 1000 } });
  assert.deepStrictEqual([h.sock.recvQueue, h.sock.info.droppedPaws], [2, 1]);
});

Deno.test("TcpSocket reports old data that PAWS drops in a D-SACK block, as Linux's tcp_send_dupack (RFC 2883 §4)", () => {
  const h = established({ ...TS, sack: true }, {
    sackPermitted: true,
    timestamp: { tsVal: 500, tsEcr: 0 },
  }, { timestamp: { tsVal: 501, tsEcr: 1000 } });
  h.send({ seq: R, ack: L, payload: bytes(1, 2), timestamp: { tsVal: 510, tsEcr: 1000 } });
  h.send({ seq: R + 2, ack: L, payload: bytes(3, 4), timestamp: { tsVal: 520, tsEcr: 1000 } });
  // The original of the first segment, held back on the path, arrives after its retransmission
  // with its older TSval: PAWS drops it, and the ACK tells the sender it came twice.
  const r = h.send({
    seq: R,
    ack: L,
    payload: bytes(1, 2),
    timestamp: { tsVal: 505, tsEcr: 1000 },
  });
  assert.deepStrictEqual([r?.ack, r?.sackBlocks], [R + 4, [[R, R + 2]]]);
  assert.deepStrictEqual([h.sock.info.droppedPaws, h.sock.info.dsacksSent], [1, 1]);
});

Deno.test("TcpSocket with timestamps deducts 12 option bytes from the MSS (mss_respected)", () => {
  const h = established({ ...TS, txBufferSize: 256 }, {
    mss: 100,
    timestamp: { tsVal: 500, tsEcr: 0 },
  }, { timestamp: { tsVal: 501, tsEcr: 1000 } });
  assert.equal(h.sock.info.mss, 88);
  h.sock.send(fill(100));
  assert.deepStrictEqual(h.out().map((s) => s.payload.length), [88, 12]);
});

Deno.test("TcpSocket announces an MSS from the interface MTU (mss_respected)", () => {
  const h = established();
  h.ipMtu = 1000;
  h.sock.abort();
  h.out();
  h.sock.listen({ addr: h.sock.localEndpoint!.addr, port: 80 });
  h.send({ flags: 0x02, seq: REMOTE_SEQ });
  assert.equal(h.out()[0]?.mss, 960);
});

// ---- Window scaling (RFC 7323) ----

Deno.test("TcpSocket scales windows only after the SYNs and only when both offered it", () => {
  const h = established({ windowScale: true, rxBufferSize: 1 << 20 }, {
    windowScale: 3,
    window: 1000,
  }, { window: 100 });
  assert.equal(h.sock.info.peerWindow, 800);
  const r = h.send({ seq: R, ack: L, payload: bytes(1), window: 100 });
  assert.equal(r?.window, ((1 << 20) - 1) >> 5);
  const none = established({ windowScale: true, rxBufferSize: 1 << 20 }, { window: 1000 }, {
    window: 100,
  });
  assert.equal(none.sock.info.peerWindow, 100);
  const r2 = none.send({ seq: R, ack: L, payload: bytes(1) });
  assert.equal(r2?.window, 65535);
});

Deno.test("TcpSocket does not scale the window of a SYN", () => {
  const h = established({ windowScale: true, rxBufferSize: 1 << 20 }, {
    windowScale: 3,
    window: 1000,
  }, { window: 100 });
  assert.equal(h.sock.info.peerWindow, 800);
  const s = established({ windowScale: true }, { windowScale: 3, window: 1000 }, {
    window: 1000,
  });
  // Before the ACK the SYN's 1000 applied unscaled; after it 1000 << 3.
  assert.equal(s.sock.info.peerWindow, 8000);
});

Deno.test("TcpSocket acknowledges a segment that fills a hole at once even with delayed ACKs", () => {
  const h = established({ delayedAck: 40 });
  h.send({ seq: R + 3, ack: L, payload: bytes(4) });
  const r = h.send({ seq: R, ack: L, payload: bytes(1, 2, 3) });
  assert.equal(r?.ack, R + 4);
});

Deno.test("TcpSocket moves the window's right edge by one effective MSS, timestamps deducted (RFC 9293 §3.8.6.2.2)", () => {
  const ts = (v: number) => ({ timestamp: { tsVal: v, tsEcr: 9 } });
  const h = established(
    { timestamps: true, timestampOffset: 9, rxBufferSize: 4096, mss: 1460 },
    { mss: 1460, timestamp: { tsVal: 1, tsEcr: 0 } },
    ts(1),
  );
  // full-sized segments carry 1448 bytes (1460 less the 12-byte timestamp option)
  h.send({ seq: R, ack: L, payload: fill(1448), ...ts(2) });
  h.send({ seq: R + 1448, ack: L, payload: fill(1448), ...ts(2) });
  h.send({ seq: R + 2896, ack: L, payload: fill(1200), ...ts(2) });
  h.out();
  assert.equal(h.sock.recv(new Uint8Array(1448)), 1448);
  // Eff.snd.MSS is 1448, not the 1460 we announced: the window update goes now
  const [upd] = h.out();
  assert.deepStrictEqual([upd?.ack, upd?.window], [R + 4096, 1448]);
});

Deno.test("TcpSocket reopens a small buffer after a runt is read (receiver SWS with Fr = 1/4, RFC 9293 §3.8.6.2.2)", () => {
  const h = established({ rxBufferSize: 4096, mss: 1460 }, { mss: 1460 });
  const buf = new Uint8Array(4096);
  h.send({ seq: R, ack: L, payload: fill(1460) });
  h.send({ seq: R + 1460, ack: L, payload: fill(1460) });
  h.sock.recv(buf);
  h.out();
  // the sender fills the rest of the window with a runt of 1176 bytes
  h.send({ seq: R + 2920, ack: L, payload: fill(1176) });
  assert.equal(h.sock.recv(buf), 1176);
  // 1176 < one MSS but ≥ a quarter of the buffer: the right edge moves now
  const [upd] = h.out();
  assert.deepStrictEqual([upd?.ack, upd?.window], [R + 4096, 4096]);
});
