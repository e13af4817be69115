// Retransmission timer (RFC 6298), Karn's rule, give-up limits, user timeout, pollAt.

import assert from "node:assert/strict";
import {
  ACK,
  bytes,
  established,
  fill,
  FIN,
  LOCAL_SEQ,
  PSH,
  REMOTE_SEQ,
  RST,
  SYN,
  synSent,
} from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

Deno.test("TcpSocket retransmits from SND.UNA on RTO with backoff and collapses cwnd (retransmit_after_rto)", () => {
  const h = established({ txBufferSize: 256 }, { mss: 64, window: 256 }, { window: 256 });
  h.sock.send(fill(128));
  assert.equal(h.out().length, 2);
  h.at(50);
  h.send({ seq: R, ack: L + 64, window: 256 });
  assert.equal(h.pollAt, 250); // restarted by the ACK of new data
  h.at(250).expect({ flags: ACK | PSH, seq: L + 64, ack: R, payload: fill(64, 64) });
  assert.equal(h.pollAt, 650); // 2 × 200 ms
  const i = h.sock.info;
  assert.deepStrictEqual([i.rtos, i.retransmits, i.cwnd], [1, 1, 64]);
  h.at(650).expect({ flags: ACK | PSH, seq: L + 64, ack: R, payload: fill(64, 64) });
  assert.equal(h.pollAt, 1450);
});

Deno.test("TcpSocket retransmits a lost FIN (retransmit_fin)", () => {
  const h = established();
  h.sock.close();
  h.expect({ flags: ACK | FIN, seq: L, ack: R });
  h.at(200).expect({ flags: ACK | FIN, seq: L, ack: R });
  assert.equal(h.sock.state, "finWait1");
});

Deno.test("TcpSocket uses a 1 s initial RTO and takes no RTT sample from a retransmitted SYN (Karn)", () => {
  const h = synSent();
  h.at(1000).out();
  h.at(1100);
  h.send({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: L });
  assert.equal(h.sock.info.srtt, null);
  assert.equal(h.sock.info.rto, 2000); // the backed-off RTO is kept until a valid sample
});

Deno.test("TcpSocket takes an RTT sample from a retransmitted SYN when timestamps disambiguate", () => {
  const h = synSent({ timestamps: true, timestampOffset: 5000 });
  h.at(1000).out();
  h.at(1100);
  h.send({
    flags: SYN | ACK,
    seq: REMOTE_SEQ,
    ack: L,
    timestamp: { tsVal: 1, tsEcr: 6000 }, // echoes the retransmission's TSval
  });
  assert.equal(h.sock.info.srtt, 100);
});

Deno.test("TcpSocket measures RTT from a timed segment and restarts the timer on a partial ACK", () => {
  const h = established({ txBufferSize: 256 }, { mss: 64, window: 256 }, { window: 256 });
  h.at(1000);
  h.sock.send(fill(128));
  h.out();
  assert.equal(h.pollAt, 1200);
  h.at(1080);
  h.send({ seq: R, ack: L + 64, window: 256 });
  assert.equal(h.sock.info.srtt, 10); // 7/8·0 + 1/8·80
  assert.equal(h.pollAt, 1080 + h.sock.info.rto);
});

Deno.test("TcpSocket gives up after the retransmission limit with timedOut", () => {
  const h = established({ maxRetransmissions: 3 });
  h.sock.send(bytes(1));
  h.out();
  for (const t of [200, 600, 1400]) {
    assert.equal(h.pollAt, t);
    assert.equal(h.at(t).out().length, 1);
  }
  assert.equal(h.pollAt, 3000);
  h.at(3000).expectNothing();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "timedOut");
});

Deno.test("TcpSocket gives up when data stays unacknowledged past the user timeout", () => {
  const h = established({ userTimeout: 500 });
  h.sock.send(bytes(1));
  h.out();
  h.at(200).out();
  assert.equal(h.pollAt, 500);
  h.at(500).expectNothing();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "timedOut");
});

Deno.test("TcpSocket pollAt is NEVER when idle, now when due, else the next timer", () => {
  const h = established({ delayedAck: 40, rxBufferSize: 4096 });
  assert.equal(h.pollAt, Infinity);
  h.sock.send(bytes(1));
  assert.equal(h.pollAt, 0);
  h.out();
  assert.equal(h.pollAt, 200);
  h.at(10);
  h.send({ seq: R, ack: L + 1, payload: bytes(2) });
  assert.equal(h.pollAt, 50);
  h.at(50).expect({ flags: ACK, seq: L + 1, ack: R + 1, window: 4095 });
  assert.equal(h.pollAt, Infinity);
});

Deno.test("TcpSocket dispatch changes nothing when the emitter refuses the segment", () => {
  const h = established();
  h.sock.send(bytes(1, 2));
  assert.equal(h.sock.dispatch(h.cx, { emitTcp: () => false }), false);
  assert.equal(h.sock.info.sndNxt, L);
  h.expect({ flags: ACK | PSH, seq: L, ack: R, payload: bytes(1, 2) });
});

Deno.test("TcpSocket caps the backed-off RTO at the configured maximum", () => {
  const h = established({ rto: { initialRto: 1000, minRto: 200, maxRto: 1000 } });
  h.sock.send(bytes(1));
  h.out();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    times.push(h.pollAt);
    h.at(h.pollAt).out();
  }
  assert.deepStrictEqual(times, [200, 600, 1400, 2400, 3400]);
});

Deno.test("TcpSocket sends ACKs and RSTs at SND.MAX after a timeout rewinds SND.NXT (RFC 9293 §3.10.7.4)", () => {
  // The peer got all three segments but its ACK was lost; our RTO resends the first. An ACK at
  // the rewound SND.NXT would be below the peer's RCV.NXT: unacceptable, dropped with its ACK
  // field, and with data flowing both ways each side then drops the other's ACKs forever.
  const h = established({ txBufferSize: 256 }, { mss: 64, window: 256 }, { window: 256 });
  h.sock.send(fill(192));
  assert.equal(h.out().length, 3);
  h.at(200).expect({ seq: L, ack: R, payload: fill(64) });
  assert.equal(h.sock.info.sndNxt, L + 64);
  // the peer's data draws an immediate ACK (delayedAck 0): sequence number SND.MAX
  const ack = h.send({ seq: R, ack: L, window: 256, payload: bytes(1, 2) });
  assert.deepStrictEqual([ack?.seq, ack?.ack, ack?.payload.length], [L + 192, R + 2, 0]);
  // an out-of-window segment draws the same
  const dup = h.send({ seq: R + 500, ack: L, window: 256, payload: bytes(3) });
  assert.deepStrictEqual([dup?.seq, dup?.ack], [L + 192, R + 2]);
  // and so does the RST of an abort (RFC 5961 §3.2: the peer resets only at RCV.NXT)
  h.sock.abort();
  h.expect({ flags: RST | ACK, seq: L + 192, ack: R + 2, window: 0 });
});

Deno.test("TcpSocket drops a peer that keeps a zero window past the user timeout although it answers every probe (RFC 5482)", () => {
  const h = established({ userTimeout: 30_000 }, {}, { window: 0 });
  h.sock.send(bytes(1, 2, 3));
  h.expectNothing(); // zero window: the persist timer arms at 0
  let probes = 0;
  while (h.sock.state !== "closed") {
    const t = h.pollAt;
    assert.ok(t <= 30_000, `deadline ${t} past the user timeout`);
    h.at(t);
    for (const s of h.out()) {
      assert.equal(s.seq, L - 1, "a zero window probe");
      probes++;
      // The peer answers each probe at once, still with a zero window.
      assert.equal(h.send({ seq: R, ack: L, window: 0 }), null);
    }
  }
  assert.equal(h.now, 30_000);
  assert.ok(probes >= 4, `${probes} probes`);
  assert.equal(h.sock.error, "timedOut");
});

Deno.test("TcpSocket without a user timeout keeps probing a zero window that the peer answers", () => {
  const h = established({}, {}, { window: 0 });
  h.sock.send(bytes(1));
  h.expectNothing();
  for (let i = 0; i < 40; i++) {
    h.at(h.pollAt);
    for (const _ of h.out()) assert.equal(h.send({ seq: R, ack: L, window: 0 }), null);
  }
  assert.equal(h.sock.state, "established");
  // The window opens: the byte goes, and a user timeout set now counts from this send.
  assert.equal(h.send({ seq: R, ack: L, window: 100 }), null);
  const sent = h.out();
  assert.deepEqual(sent.map((s) => s.payload.length), [1]);
});
