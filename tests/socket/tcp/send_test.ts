// The send path: peer window, SWS avoidance, zero window probes, Nagle, PSH, MSS, the send
// ring's wrap point.

import assert from "node:assert/strict";
import { ACK, bytes, established, fill, FIN, LOCAL_SEQ, PSH, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

Deno.test("TcpSocket sends no more than the peer's window (send_respects_peer_window)", () => {
  const h = established({ txBufferSize: 256 }, { window: 10 }, { window: 10 });
  h.sock.send(fill(30));
  h.expect({ seq: L, ack: R, payload: fill(10) });
  h.expectNothing();
  h.send({ seq: R, ack: L + 10, window: 10 });
  h.expect({ seq: L + 10, ack: R, payload: fill(10, 10) });
  h.send({ seq: R, ack: L + 20, window: 10 });
  h.expect({ flags: ACK | PSH, seq: L + 20, ack: R, payload: fill(10, 20) });
});

Deno.test("TcpSocket stops sending when the peer shrinks its window (send_window_shrink)", () => {
  const h = established();
  h.sock.send(bytes(1, 2));
  h.out();
  h.send({ seq: R, ack: L + 2, window: 0 });
  assert.equal(h.sock.info.peerWindow, 0);
  h.sock.send(bytes(3, 4));
  h.expectNothing();
});

Deno.test("TcpSocket fills a small window with one small segment per round trip (sender SWS avoidance, RFC 9293 §3.8.6.2.1)", () => {
  const h = established({ txBufferSize: 256 }, { window: 256 }, { window: 256 });
  h.sock.send(fill(200));
  h.out();
  // 200 in flight; the peer acknowledges all but offers only 20 bytes (< 256/2). No other small
  // segment is unacknowledged, so a segment that fills the window may go (as Linux does with
  // Nagle's test), where the old rule waited for half the largest window ever offered.
  h.send({ seq: R, ack: L + 200, window: 20 });
  h.sock.send(fill(100));
  h.expect({ seq: L + 200, ack: R, payload: fill(20) });
  // the window opens by 10: a small segment is still unacknowledged, so nothing goes
  h.send({ seq: R, ack: L + 210, window: 20 });
  h.expectNothing();
  // the small segment is acknowledged: the next window-filling segment may go
  h.send({ seq: R, ack: L + 220, window: 20 });
  h.expect({ seq: L + 220, ack: R, payload: fill(20, 20) });
  // once it is acknowledged and the window reopens, the rest goes in one segment (the send
  // ring emptied at the first ACK and started over at its front, so it does not wrap)
  h.send({ seq: R, ack: L + 240, window: 148 });
  h.expect({ seq: L + 240, ack: R, payload: fill(60, 40), flags: ACK | PSH });
});

Deno.test("TcpSocket does not send a small segment when only the congestion window limits it", () => {
  const h = established({ txBufferSize: 16384 }, { mss: 1448, window: 30000 }, {
    window: 30000,
  });
  h.sock.send(fill(16384));
  assert.equal(h.out().length, 10);
  h.at(1000);
  h.expect({ seq: L, ack: R, payload: fill(1448) });
  // cwnd 1448 after the timeout; an ACK of 1000 bytes grows it to 2448: one full segment
  // leaves, and the remaining 552 bytes of congestion window do not make a runt
  h.send({ seq: R, ack: L + 1000, window: 30000 });
  assert.deepStrictEqual(h.out().map((s) => [s.seq - L, s.payload.length]), [[1448, 1448]]);
});

Deno.test("TcpSocket probes a zero window with backoff (zero_window_probe)", () => {
  const h = established();
  h.send({ seq: R, ack: L, window: 0 });
  h.sock.send(bytes(1, 2, 3, 4, 5));
  h.expectNothing();
  assert.equal(h.pollAt, 200);
  const probe = { flags: ACK, seq: LOCAL_SEQ, ack: R };
  h.at(200).expect(probe);
  assert.equal(h.pollAt, 600);
  h.at(250);
  assert.equal(h.send({ seq: R, ack: L, window: 0 }), null);
  h.at(600).expect(probe);
  assert.equal(h.pollAt, 1400);
  h.at(700);
  h.send({ seq: R, ack: L, window: 100 });
  h.expect({ flags: ACK | PSH, seq: L, ack: R, payload: bytes(1, 2, 3, 4, 5) });
  assert.equal(h.pollAt, 900);
});

Deno.test("TcpSocket keeps probing a zero window as long as the peer answers (zero_window_probe)", () => {
  const h = established({ maxRetransmissions: 3 });
  h.send({ seq: R, ack: L, window: 0 });
  h.sock.send(bytes(1));
  for (let i = 0; i < 20; i++) {
    h.at(h.pollAt);
    assert.equal(h.out().length, 1);
    h.send({ seq: R, ack: L, window: 0 });
  }
  assert.equal(h.sock.state, "established");
  assert.equal(h.pollAt - h.now, 60_000);
});

Deno.test("TcpSocket gives up probing a zero window that never answers", () => {
  const h = established({ maxRetransmissions: 3 });
  h.send({ seq: R, ack: L, window: 0 });
  h.sock.send(bytes(1));
  for (let i = 0; i < 10 && h.sock.state === "established"; i++) {
    h.at(h.pollAt);
    h.out();
  }
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "timedOut");
});

Deno.test("TcpSocket with Nagle holds small segments while one is in flight (Nagle)", () => {
  const h = established();
  h.sock.send(bytes(1));
  h.expect({ flags: ACK | PSH, seq: L, ack: R, payload: bytes(1) });
  h.sock.send(bytes(2));
  h.sock.send(bytes(3));
  h.expectNothing();
  h.send({ seq: R, ack: L + 1 });
  h.expect({ flags: ACK | PSH, seq: L + 1, ack: R, payload: bytes(2, 3) });
});

Deno.test("TcpSocket with setNoDelay(true) sends small segments at once (Nagle off)", () => {
  const h = established();
  h.sock.setNoDelay(true);
  h.sock.send(bytes(1));
  h.out();
  h.sock.send(bytes(2));
  h.expect({ flags: ACK | PSH, seq: L + 1, ack: R, payload: bytes(2) });
});

Deno.test("TcpSocket with Nagle does not hold a pending FIN (Nagle)", () => {
  const h = established();
  h.sock.send(bytes(1));
  h.out();
  h.sock.send(bytes(2));
  h.sock.close();
  h.expect({ flags: ACK | PSH | FIN, seq: L + 1, ack: R, payload: bytes(2) });
});

Deno.test("TcpSocket sets PSH only on the segment that empties the send buffer", () => {
  const h = established({ txBufferSize: 256 }, { mss: 64 });
  h.sock.send(fill(100));
  assert.deepStrictEqual(h.out().map((s) => [s.payload.length, s.flags]), [
    [64, ACK],
    [36, ACK | PSH],
  ]);
});

Deno.test("TcpSocket respects the peer's MSS (mss_respected)", () => {
  const h = established({ txBufferSize: 1024 }, { mss: 300, window: 1024 }, { window: 1024 });
  h.sock.send(fill(700));
  assert.deepStrictEqual(h.out().map((s) => s.payload.length), [300, 300, 100]);
});

Deno.test("TcpSocket sends across the send ring's wrap point in two segments", () => {
  const h = established({ noDelay: true }); // Nagle would hold the runt behind the queued byte
  h.sock.send(fill(40));
  h.out();
  h.send({ seq: R, ack: L + 39 }); // one byte stays queued: the ring keeps its place
  assert.equal(h.sock.send(fill(40, 40)), 40);
  h.expect(
    { flags: ACK, seq: L + 40, ack: R, payload: fill(24, 40) },
    { flags: ACK | PSH, seq: L + 64, ack: R, payload: fill(16, 64) },
  );
});

Deno.test("TcpSocket starts an emptied send ring over at its front: a message after an ACK of all leaves in one segment", () => {
  const h = established();
  h.sock.send(fill(40));
  h.out();
  h.send({ seq: R, ack: L + 40 });
  assert.equal(h.sock.send(fill(60, 40)), 60);
  h.expect({ flags: ACK | PSH, seq: L + 40, ack: R, payload: fill(60, 40) });
});

Deno.test("TcpSocket send() throws when the send half is closed and returns 0 when full", () => {
  const h = established();
  assert.equal(h.sock.send(fill(100)), 64);
  assert.equal(h.sock.send(fill(1)), 0);
  assert.equal(h.sock.canSend, false);
  h.sock.close();
  assert.throws(() => h.sock.send(bytes(1)), Error);
});
