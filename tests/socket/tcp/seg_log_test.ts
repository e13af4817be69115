// The sender's segment log: records per transmission, splits, SACK and loss marks, in-flight
// accounting (RFC 6675 §4 pipe as RACK-TLP uses it).

import assert from "node:assert/strict";
import { SegFlag, SegmentLog } from "../../../src/socket/tcp/seg_log.ts";

function records(log: SegmentLog): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let i = 0; i < log.count; i++) {
    const k = log.slot(i);
    out.push([log.startSeq[k]!, log.endSeq[k]!, log.xmitTs[k]!, log.flags[k]!]);
  }
  return out;
}

Deno.test("SegmentLog keeps every SACKed range of a long run of alternate losses", () => {
  const log = new SegmentLog();
  for (let i = 0; i < 400; i++) log.sent(1000 + 100 * i, 1100 + 100 * i, i);
  for (let i = 0; i < 400; i += 2) log.sack(1100 + 100 * i, 1200 + 100 * i, null);
  assert.equal(log.count, 400);
  assert.equal(log.sackedBytes, 20_000);
  assert.equal(log.inFlight(), 20_000);
  log.markAllLost(); // an RTO: the 200 unSACKed segments are lost, none in flight
  assert.deepStrictEqual([log.lostBytes, log.inFlight(), log.firstLost()], [20_000, 0, 0]);
  log.sent(1000, 1100, 500); // the first is resent: in flight again, no longer lost
  assert.deepStrictEqual([log.lostBytes, log.inFlight(), log.firstLost()], [19_900, 100, 2]);
});

Deno.test("SegmentLog splits a record where a retransmission or a SACK block ends inside it", () => {
  const log = new SegmentLog();
  log.sent(0, 300, 10);
  log.sent(300, 400, 11);
  log.sack(100, 200, null);
  log.sent(0, 50, 20);
  assert.deepStrictEqual(records(log), [
    [0, 50, 20, SegFlag.Retrans],
    [50, 100, 10, 0],
    [100, 200, 10, SegFlag.Sacked],
    [200, 300, 10, 0],
    [300, 400, 11, 0],
  ]);
  assert.deepStrictEqual([log.totalBytes, log.sackedBytes, log.inFlight()], [400, 100, 300]);
});

Deno.test("SegmentLog drops acknowledged records and trims the one the ACK falls into", () => {
  const log = new SegmentLog();
  log.sent(0xffff_ff00, 0x100, 1); // across the 2^32 wrap
  log.sent(0x100, 0x200, 2);
  log.sack(0x100, 0x200, null);
  log.acked(0x80, null);
  assert.deepStrictEqual(records(log), [[0x80, 0x100, 1, 0], [0x100, 0x200, 2, SegFlag.Sacked]]);
  log.acked(0x200, null);
  assert.deepStrictEqual([log.count, log.totalBytes, log.sackedBytes], [0, 0, 0]);
});

Deno.test("SegmentLog appends only the part of a transmission beyond the newest record", () => {
  const log = new SegmentLog();
  log.sent(0, 100, 1);
  assert.equal(log.sent(50, 150, 2), true);
  assert.deepStrictEqual(records(log), [
    [0, 50, 1, 0],
    [50, 100, 2, SegFlag.Retrans],
    [100, 150, 2, 0],
  ]);
});

Deno.test("SegmentLog grows past its initial capacity without losing records", () => {
  const log = new SegmentLog();
  for (let i = 0; i < 1000; i++) log.sent(i * 10, i * 10 + 10, i);
  log.acked(5000, null);
  for (let i = 1000; i < 1500; i++) log.sent(i * 10, i * 10 + 10, i);
  assert.equal(log.count, 1000);
  assert.equal(log.totalBytes, 10_000);
  const k = log.slot(999);
  assert.deepStrictEqual([log.startSeq[k], log.endSeq[k], log.xmitTs[k]], [14_990, 15_000, 1499]);
});

Deno.test("SegmentLog.release drops records and storage; storage given back is reused by the next log", () => {
  const a = new SegmentLog();
  assert.equal(a.startSeq.length, 0); // nothing allocated before the first record
  a.sent(1000, 1100, 1);
  const storage = a.startSeq;
  assert.ok(storage.length > 0);
  a.release();
  assert.deepStrictEqual([a.count, a.totalBytes, a.inFlight(), a.startSeq.length], [0, 0, 0, 0]);
  const b = new SegmentLog();
  b.sent(5000, 5100, 2);
  assert.equal(b.startSeq, storage); // the pooled storage, not a new allocation
  assert.deepStrictEqual(records(b), [[5000, 5100, 2, 0]]);
  a.sent(2000, 2200, 3); // a released log works again
  a.sent(2200, 2300, 4);
  assert.deepStrictEqual(records(a), [[2000, 2200, 3, 0], [2200, 2300, 4, 0]]);
  assert.notEqual(a.startSeq, storage);
});
