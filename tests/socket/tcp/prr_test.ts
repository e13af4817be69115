// Proportional Rate Reduction (RFC 6937) in SACK fast recovery, for NewReno and CUBIC: the
// sending pattern of the RFC's worked example (§5: one loss in a flight of 20, ssthresh half
// of it) and the controller-independent window.

import assert from "node:assert/strict";
import type { SackBlock } from "../../../src/wire/tcp.ts";
import { Prr } from "../../../src/socket/tcp/prr.ts";
import { establishedAfter, fill, LOCAL_SEQ, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const W = 8000;

/**
 * A SACK sender (MSS 100) grown to cwnd = 20 segments with 20 segments in flight, the first of
 * them (at offset 1000) lost; returns it and the offset of the flight.
 */
function flightOf20(congestion: "newreno" | "cubic") {
  const h = establishedAfter(
    100,
    { sack: true, txBufferSize: 8192, congestion },
    { mss: 100, window: W, sackPermitted: true },
    { window: W },
  );
  h.sock.send(fill(6000));
  assert.equal(h.out().length, 10);
  h.at(200);
  let sent = 0;
  for (let i = 1; i <= 10; i++) {
    h.send({ seq: R, ack: L + 100 * i, window: W });
    sent += h.out().length;
  }
  assert.equal(sent, 20); // slow start: two per ACK
  assert.equal(h.sock.info.cwnd, 2000);
  return h;
}

/** For each duplicate ACK SACKing one more segment of the flight: what left ("N", "R" or "-"). */
function pattern(h: ReturnType<typeof flightOf20>, acks: number): string[] {
  h.at(300);
  const out: string[] = [];
  for (let n = 1; n <= acks; n++) {
    const sack: SackBlock = [L + 1100, L + 1100 + 100 * n];
    h.send({ seq: R, ack: L + 1000, window: W, sackBlocks: [sack] });
    const segs = h.out();
    assert.ok(segs.length <= 1, `ACK ${n} released ${segs.length} segments`);
    out.push(segs.length === 0 ? "-" : segs[0]!.seq === L + 1000 ? "R" : "N");
  }
  return out;
}

// RFC 6937 §5 (PRR row): after the two limited-transmit segments and the retransmission, one
// new segment every other ACK while pipe > ssthresh, then one per ACK (PRR-SSRB) once the pipe is
// down to ssthresh. Here RecoverFS is 22 segments (20 + the two sent on the first duplicate
// ACKs) and ssthresh 11 for NewReno, so the proportional phase ends on ACK 17.
const NEWRENO_PATTERN = [
  ..."NNR-N-N-N-N-N-N-".split(""),
  "-",
  "N",
  "N",
  "N",
  "N",
];

Deno.test("TcpSocket's fast recovery follows RFC 6937's sending pattern with NewReno (PRR)", () => {
  const h = flightOf20("newreno");
  assert.deepStrictEqual(pattern(h, 21), NEWRENO_PATTERN);
  const i = h.sock.info;
  assert.deepStrictEqual([i.inRecovery, i.ssthresh, i.fastRetransmits, i.rtos], [
    true,
    1100,
    1,
    0,
  ]);
  // recovery ends on the ACK of everything: cwnd = ssthresh
  h.at(400);
  h.send({ seq: R, ack: L + 1000 + 100 * (22 + 10), window: W });
  assert.deepStrictEqual([h.sock.info.inRecovery, h.sock.info.cwnd], [false, 1100]);
});

Deno.test("TcpSocket's PRR spreads CUBIC's smaller reduction over the same ACKs (β = 0.7)", () => {
  const h = flightOf20("cubic");
  // ssthresh 0.7 · 2200 = 1540: ⌈prr_delivered · 1540 / 2200⌉ segments in all while pipe >
  // ssthresh (two of every three ACKs release one), nothing on ACK 13 (pipe 15 segments, one
  // short of a segment below ssthresh), then one per ACK (PRR-SSRB)
  assert.deepStrictEqual(pattern(h, 21).join(""), "NNRNN-NN-NN--NNNNNNNN");
  assert.equal(h.sock.info.ssthresh, 1540);
});

Deno.test("Prr counts in whole segments and switches to the slow start reduction bound at ssthresh", () => {
  const prr = new Prr();
  prr.begin(2000);
  prr.onAck(100, 1800, 1000, 100); // ⌈100 · 1000 / 2000⌉ → one segment
  assert.equal(prr.allowance, 100);
  prr.onSent(100);
  prr.onAck(100, 1800, 1000, 100);
  assert.equal(prr.allowance, 0);
  prr.onAck(300, 900, 1000, 100); // SSRB: min(1000 − 900, max(500 − 100, 300) + 100)
  assert.equal(prr.allowance, 100);
});
