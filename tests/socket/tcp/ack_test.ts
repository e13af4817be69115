// The sender's side of an ACK (src/socket/tcp/ack.ts): the flight that validates the congestion
// window (RFC 7661) and sets ssthresh on a loss (RFC 9438 §4.6) when the ACKs of a round are
// taken in a batch, before anything is sent again.

import assert from "node:assert/strict";
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
