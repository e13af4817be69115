// SACK both ways (RFC 2018, RFC 6675), fast retransmit and NewReno recovery (RFC 5681, RFC 6582),
// congestion window behaviour.

import assert from "node:assert/strict";
import type { SackBlock } from "../../../src/wire/tcp.ts";
import {
  ACK,
  bytes,
  established,
  establishedAfter,
  fill,
  LOCAL_SEQ,
  PSH,
  REMOTE_SEQ,
} from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

Deno.test("TcpSocket reports up to 4 SACK blocks without timestamps, most recent first (RFC 2018 §4)", () => {
  const h = established({ sack: true }, { sackPermitted: true });
  let r = null;
  for (const off of [10, 20, 30, 40, 50]) {
    r = h.send({ seq: R + off, ack: L, payload: bytes(1, 2) });
  }
  const blocks: SackBlock[] = [[R + 50, R + 52], [R + 40, R + 42], [R + 30, R + 32], [
    R + 20,
    R + 22,
  ]];
  assert.deepStrictEqual(r?.sackBlocks, blocks);
  // a segment merging into an older range puts that range first
  r = h.send({ seq: R + 22, ack: L, payload: bytes(3) });
  assert.deepStrictEqual(r?.sackBlocks?.[0], [R + 20, R + 23]);
});

Deno.test("TcpSocket reports at most 3 SACK blocks together with timestamps", () => {
  const ts = { timestamp: { tsVal: 1, tsEcr: 0 } };
  const h = established({ sack: true, timestamps: true, timestampOffset: 9 }, {
    sackPermitted: true,
    ...ts,
  }, { timestamp: { tsVal: 1, tsEcr: 9 } });
  let r = null;
  for (const off of [10, 20, 30, 40]) {
    r = h.send({ seq: R + off, ack: L, payload: bytes(1), timestamp: { tsVal: 2, tsEcr: 9 } });
  }
  assert.deepStrictEqual(r?.sackBlocks, [[R + 40, R + 41], [R + 30, R + 31], [R + 20, R + 21]]);
});

function sender(sack: boolean) {
  return established(
    { sack, txBufferSize: 4096, congestion: "newreno" },
    { mss: 100, window: 4000, sackPermitted: sack },
    { window: 4000 },
  );
}

Deno.test("TcpSocket sends an initial window of 10 segments (RFC 6928)", () => {
  const h = sender(false);
  h.sock.send(fill(2000));
  assert.equal(h.out().length, 10);
  assert.equal(h.sock.info.cwnd, 1000);
});

Deno.test("TcpSocket fast-retransmits on the third duplicate ACK (RFC 5681 §3.2)", () => {
  const h = sender(false);
  h.sock.send(fill(500));
  assert.equal(h.out().length, 5);
  h.send({ seq: R, ack: L, window: 4000 });
  h.send({ seq: R, ack: L, window: 4000 });
  h.expectNothing();
  h.send({ seq: R, ack: L, window: 4000 });
  h.expect({ seq: L, ack: R, payload: fill(100) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.dupAcks, i.fastRetransmits, i.retransmits, i.inRecovery], [
    3,
    1,
    1,
    true,
  ]);
  assert.equal(i.ssthresh, 250);
});

Deno.test("TcpSocket does not count a window update as a duplicate ACK", () => {
  const h = sender(false);
  h.sock.send(fill(500));
  h.out();
  for (const w of [4001, 4002, 4003, 4004]) h.send({ seq: R, ack: L, window: w });
  h.expectNothing();
  assert.equal(h.sock.info.dupAcks, 0);
});

Deno.test("TcpSocket retransmits the next hole at once on a NewReno partial ACK (RFC 6582)", () => {
  const h = sender(false);
  h.sock.send(fill(500));
  h.out();
  for (let i = 0; i < 3; i++) h.send({ seq: R, ack: L, window: 4000 });
  h.out();
  h.send({ seq: R, ack: L + 100, window: 4000 }); // partial: 101..200 also lost
  h.expect({ seq: L + 100, ack: R, payload: fill(100, 100) });
  h.send({ seq: R, ack: L + 500, window: 4000 });
  assert.equal(h.sock.info.inRecovery, false);
  h.expectNothing();
});

Deno.test("TcpSocket with SACK retransmits only the holes (RFC 6675, RFC 8985)", () => {
  const h = establishedAfter(
    100,
    { sack: true, txBufferSize: 4096 },
    { mss: 100, window: 4000, sackPermitted: true },
    { window: 4000 },
  );
  h.sock.send(fill(600));
  assert.equal(h.out().length, 6);
  // segments 1 and 3 lost; the ACKs come one round trip later
  h.at(200);
  h.send({ seq: R, ack: L, window: 4000, sackBlocks: [[L + 100, L + 200]] });
  h.send({ seq: R, ack: L, window: 4000, sackBlocks: [[L + 300, L + 400], [L + 100, L + 200]] });
  h.expectNothing(); // inside the reordering window
  h.send({ seq: R, ack: L, window: 4000, sackBlocks: [[L + 300, L + 600], [L + 100, L + 200]] });
  h.expect(
    { seq: L, ack: R, payload: fill(100) },
    { seq: L + 200, ack: R, payload: fill(100, 200) },
  );
  h.send({ seq: R, ack: L + 600, window: 4000 });
  h.expectNothing();
  const i = h.sock.info;
  assert.deepStrictEqual([i.retransmits, i.fastRetransmits, i.inRecovery], [2, 1, false]);
});

Deno.test("TcpSocket collapses cwnd to one segment on RTO and restarts slow start", () => {
  const h = sender(true);
  h.sock.send(fill(500));
  h.out();
  // with SACK a tail loss probe (2·SRTT + 2 ms) comes first, then the RTO from the probe
  h.at(2).expect({ seq: L + 400, ack: R, payload: fill(100, 400), flags: ACK | PSH });
  h.at(201).expectNothing();
  h.at(202).expect({ seq: L, ack: R, payload: fill(100) });
  assert.equal(h.sock.info.cwnd, 100);
  assert.equal(h.sock.info.ssthresh, 250);
  h.at(212);
  h.send({ seq: R, ack: L + 100, window: 4000 });
  // slow start after the RTO: cwnd 200, resends from SND.UNA (go-back-N)
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [100, 200]);
});

Deno.test("TcpSocket restarts from the initial window after an idle period longer than the RTO", () => {
  const h = sender(false);
  let acked = 0;
  for (let round = 0; round < 3; round++) {
    h.sock.send(fill(Math.min(4000, 4096 - h.sock.sendQueue)));
    for (const s of h.out()) acked += s.payload.length;
    h.send({ seq: R, ack: L + acked, window: 4000 });
  }
  assert.ok(h.sock.info.cwnd > 1000);
  h.at(10_000);
  h.sock.send(fill(3000));
  assert.equal(h.out().length, 10);
  assert.equal(h.sock.info.cwnd, 1000);
});

Deno.test("TcpSocket uses CUBIC when asked", () => {
  const h = established({ congestion: "cubic" });
  h.sock.send(bytes(1));
  h.expect({ flags: ACK | PSH, seq: L, ack: R, payload: bytes(1) });
});

Deno.test("TcpSocket with a large buffer holds more than 32 out-of-order ranges (a burst of alternate losses)", () => {
  const h = established({ sack: true, rxBufferSize: 256 * 1024 }, { sackPermitted: true });
  let r = null;
  for (let i = 0; i < 60; i++) r = h.send({ seq: R + 2 * i + 1, ack: L, payload: bytes(i) });
  assert.equal(h.sock.info.droppedAssembler, 0);
  assert.deepStrictEqual(r?.sackBlocks?.[0], [R + 120 - 1, R + 120]);
  // the holes fill: everything is delivered
  for (let i = 0; i < 60; i++) r = h.send({ seq: R + 2 * i, ack: L, payload: bytes(0) });
  assert.equal(r?.ack, R + 120);
});

Deno.test("TcpSocket sends a new segment on each of the first two duplicate ACKs (RFC 3042 limited transmit)", () => {
  const h = sender(false);
  h.sock.send(fill(1300));
  assert.equal(h.out().length, 10); // the initial window: 10 × 100
  h.send({ seq: R, ack: L, window: 4000 });
  h.expect({ seq: L + 1000, ack: R, payload: fill(100, 1000) });
  h.send({ seq: R, ack: L, window: 4000 });
  h.expect({ seq: L + 1100, ack: R, payload: fill(100, 1100) });
  h.send({ seq: R, ack: L, window: 4000 });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // the third: fast retransmit
  assert.equal(h.sock.info.fastRetransmits, 1);
});

Deno.test("TcpSocket retransmits early when fewer than four segments are outstanding (RFC 5827)", () => {
  // a 300-byte window: three segments, the first lost, two duplicate ACKs can come
  const h = established(
    { txBufferSize: 4096 },
    { mss: 100, window: 300 },
    { window: 300 },
  );
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 3);
  h.send({ seq: R, ack: L, window: 300 });
  h.expectNothing();
  h.send({ seq: R, ack: L, window: 300 }); // oseg − 1 = 2 duplicate ACKs
  h.expect({ seq: L, ack: R, payload: fill(100) });
  assert.deepStrictEqual([h.sock.info.fastRetransmits, h.sock.info.rtos], [1, 0]);
});

Deno.test("TcpSocket with SACK retransmits when two of three segments are SACKed once the reordering window passes (RFC 8985, replacing RFC 5827)", () => {
  const h = establishedAfter(
    100,
    { sack: true, txBufferSize: 4096 },
    { mss: 100, window: 300, sackPermitted: true },
    { window: 300 },
  );
  h.sock.send(fill(300));
  assert.equal(h.out().length, 3);
  h.at(200);
  h.send({ seq: R, ack: L, window: 300, sackBlocks: [[L + 100, L + 200]] });
  h.expectNothing();
  h.send({ seq: R, ack: L, window: 300, sackBlocks: [[L + 100, L + 300]] });
  h.expectNothing();
  // RACK: sent at 100, RACK.rtt 100, reordering window min_RTT/4 = 25 ms
  assert.equal(h.pollAt, 225);
  h.at(225).expect({ seq: L, ack: R, payload: fill(100) });
  assert.deepStrictEqual([h.sock.info.fastRetransmits, h.sock.info.rtos], [1, 0]);
});

Deno.test("TcpSocket restarts the retransmission timer when it fast-retransmits SND.UNA (as Linux does)", () => {
  const h = sender(false);
  h.sock.send(fill(500));
  h.out();
  assert.equal(h.pollAt, 200);
  h.at(150);
  for (let i = 0; i < 3; i++) h.send({ seq: R, ack: L, window: 4000 });
  h.expect({ seq: L, ack: R, payload: fill(100) });
  // the timeout now counts from the retransmission: no spurious RTO at 200 while its ACK is
  // still on the way
  assert.equal(h.pollAt, 350);
  h.at(200).expectNothing();
  assert.equal(h.sock.info.rtos, 0);
});

Deno.test("TcpSocket with SACK resends every hole RACK deems lost in one round (RFC 8985 §6.2)", () => {
  const h = establishedAfter(
    100,
    { sack: true, txBufferSize: 4096 },
    { mss: 100, window: 500, sackPermitted: true },
    { window: 500 },
  );
  h.sock.send(fill(500));
  assert.equal(h.out().length, 5);
  h.at(200);
  // segments 1 and 3 lost: three duplicate ACKs SACK 2, 4 and 5
  const s2: SackBlock = [L + 100, L + 200];
  h.send({ seq: R, ack: L, window: 500, sackBlocks: [s2] });
  h.send({ seq: R, ack: L, window: 500, sackBlocks: [[L + 300, L + 400], s2] });
  h.send({ seq: R, ack: L, window: 500, sackBlocks: [[L + 300, L + 500], s2] });
  // three segments SACKed and no reordering seen: the window is 0, both holes are lost
  h.expect(
    { seq: L, ack: R, payload: fill(100) },
    { seq: L + 200, ack: R, payload: fill(100, 200) },
  );
  h.at(300);
  h.send({ seq: R, ack: L + 200, window: 500, sackBlocks: [[L + 300, L + 500]] });
  h.expectNothing();
  h.send({ seq: R, ack: L + 500, window: 500 });
  assert.deepStrictEqual([h.sock.info.inRecovery, h.sock.info.rtos], [false, 0]);
});
