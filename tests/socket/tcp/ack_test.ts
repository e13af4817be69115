// The sender's side of an ACK (src/socket/tcp/ack.ts): the flight that validates the congestion
// window (RFC 7661) and sets ssthresh on a loss (RFC 9438 §4.6) when the ACKs of a round are
// taken in a batch, before anything is sent again; the RTT samples handed to the congestion
// controller without timestamps.

import assert from "node:assert/strict";
import { connOf } from "../../../src/socket/tcp/socket.ts";
import type { SackBlock } from "../../../src/wire/tcp.ts";
import { establishedAfter, fill, LOCAL_SEQ, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const W = 60_000;

/** A NewReno sender whose handshake took 100 ms, MSS 100: initial window 10 segments. */
function sender(sack: boolean) {
  const h = establishedAfter(
    100,
    { sack, txBufferSize: 8192, congestion: "newreno" },
    { mss: 100, window: W, sackPermitted: sack },
    { window: W },
  );
  assert.equal(h.sock.info.cwnd, 1000);
  return h;
}

Deno.test("TcpSocket grows the window in slow start for every ACK of a round taken in one batch (RFC 7661: the round's flight validates it)", () => {
  const h = sender(false);
  h.sock.send(fill(2000));
  assert.equal(h.out().length, 10); // the whole initial window at 100
  h.at(200);
  // All ten ACKs arrive before the sender runs again: the later ones leave less than half the
  // window outstanding, yet the window was full when they were sent.
  for (let k = 1; k <= 10; k++) h.send({ seq: R, ack: L + 100 * k, window: W });
  assert.equal(h.sock.info.cwnd, 2000);
  assert.equal(h.out().length, 10); // the rest of the data, within the doubled window
});

Deno.test("TcpSocket takes ssthresh from the round's flight when a loss is found at the end of a batch of ACKs (RFC 9438 §4.6 FlightSize)", () => {
  const h = sender(true);
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 10);
  h.at(200);
  for (let k = 1; k <= 6; k++) h.send({ seq: R, ack: L + 100 * k, window: W });
  // Segment 6 lost: three SACKed above it make RACK mark it lost at once. Only 400 bytes are
  // outstanding now, but the round had 1000 in flight.
  h.send({ seq: R, ack: L + 600, window: W, sackBlocks: [[L + 700, L + 1000] as SackBlock] });
  const i = h.sock.info;
  assert.equal(i.fastRetransmits, 1);
  assert.equal(i.ssthresh, 500); // NewReno: FlightSize / 2 of the 1000 in flight, not of 400
  const out = h.out();
  assert.equal(out[0]!.seq, L + 600); // the lost segment goes again
});

/** Records `[rtt, ackRtt]` of every `onAck` the connection makes on its controller. */
function spyOnAck(h: ReturnType<typeof sender>): (number | null | undefined)[][] {
  const cc = connOf(h.sock).cc;
  const onAck = cc.onAck.bind(cc);
  const seen: (number | null | undefined)[][] = [];
  cc.onAck = (now, acked, out, rtt, used, ackRtt) => {
    seen.push([rtt, ackRtt]);
    onAck(now, acked, out, rtt, used, ackRtt);
  };
  return seen;
}

Deno.test("TcpSocket without timestamps gives HyStart++ RACK's RTT sample on every ACK, the RTO estimator only the timed segment's", () => {
  const h = sender(true);
  const seen = spyOnAck(h);
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 10); // all sent at 100, the first one timed
  h.at(150).send({ seq: R, ack: L + 500, window: W });
  h.at(160).send({ seq: R, ack: L + 600, window: W });
  // The first ACK ends the timed segment (50 ms for both); the second gives the RTO estimator
  // nothing (Karn: one timed segment per round trip) and HyStart++ the newest segment's 60 ms.
  assert.deepEqual(seen, [[50, 50], [null, 60]]);
});

Deno.test("TcpSocket without timestamps gives HyStart++ no RTT sample from an ACK of retransmitted segments only", () => {
  const h = sender(true);
  const seen = spyOnAck(h);
  h.sock.send(fill(300));
  assert.equal(h.out().length, 3); // all at 100
  h.at(150).send({ seq: R, ack: L + 100, window: W });
  assert.deepEqual(seen, [[50, 50]]);
  // Nothing more is acknowledged: the tail loss probe resends the last segment, the RTO the
  // first outstanding one.
  h.at(h.pollAt);
  assert.deepEqual(h.out().map((s) => s.seq), [L + 200]);
  h.at(h.pollAt);
  assert.deepEqual(h.out().map((s) => s.seq), [L + 100]);
  assert.equal(h.sock.info.retransmits, 2);
  // Both were sent twice: the ACK may be for either transmission, so no sample (Karn).
  h.at(h.now + 5).send({ seq: R, ack: L + 300, window: W });
  assert.deepEqual(seen, [[50, 50], [null, null]]);
  // New data, sent once, gives a sample again.
  h.sock.send(fill(100));
  assert.equal(h.out().length, 1);
  const sent = h.now;
  h.at(sent + 20).send({ seq: R, ack: L + 400, window: W });
  assert.equal(seen.length, 3);
  assert.equal(seen[2]![1], 20);
});
