import assert from "node:assert/strict";
import { MAX_BATCH_PAYLOAD, MAX_BATCH_SEGMENT, TcpBatch } from "../../src/iface/_ingress_gro.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { tcpBufferLen, TcpFlags, type TcpRepr } from "../../src/wire/tcp.ts";
import { writeTcpSegment } from "../../src/wire/_tcp_emit.ts";
import { readTcpSegment } from "../../src/wire/_tcp_parse.ts";

const SRC = Ipv4Address.parse("192.0.2.1"), DST = Ipv4Address.parse("192.0.2.2");

function seg(over: Partial<TcpRepr> = {}, len = 1000): [TcpRepr, Uint8Array] {
  const repr: TcpRepr = {
    srcPort: 1000,
    dstPort: 80,
    seq: 5000,
    ack: 77,
    flags: TcpFlags.ACK,
    window: 512,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: { tsVal: 10, tsEcr: 20 },
    payload: new Uint8Array(len).fill(len & 0xff),
    ...over,
  };
  const b = new Uint8Array(tcpBufferLen(repr));
  writeTcpSegment(repr, b, 0, SRC, DST, true);
  return [readTcpSegment(b, 0, b.length, SRC, DST, true), b];
}

function started(): TcpBatch {
  const batch = new TcpBatch();
  const [r, b] = seg();
  batch.start(r, b, 0, SRC, DST, 0);
  return batch;
}

Deno.test("TcpBatch joins the next in-order segment of the same flow and merges the payloads", () => {
  const batch = started();
  const [r2, b2] = seg({ seq: 6000, flags: TcpFlags.ACK | TcpFlags.PSH }, 400);
  assert.equal(batch.extends(r2, b2, 0, SRC, DST, 0), true);
  batch.add(r2);
  const [r3, b3] = seg({ seq: 6400 }, 10);
  assert.equal(batch.extends(r3, b3, 0, SRC, DST, 0), false); // PSH (and a shorter one) ended it
  const m = batch.take();
  assert.equal(batch.active, false);
  assert.equal(m.seq, 5000);
  assert.equal(m.flags, TcpFlags.ACK | TcpFlags.PSH);
  assert.equal(m.payload.length, 1400);
  assert.deepEqual(m.payload.subarray(0, 1000), new Uint8Array(1000).fill(1000 & 0xff));
  assert.deepEqual(m.payload.subarray(1000), new Uint8Array(400).fill(400 & 0xff));
});

Deno.test("TcpBatch refuses what merging would change", () => {
  const refused: [string, Partial<TcpRepr>, number, number?, Ipv4Address?][] = [
    ["a gap", { seq: 6001 }, 1000],
    ["a longer segment", { seq: 6000 }, 1001],
    ["another acknowledgment", { seq: 6000, ack: 78 }, 1000],
    ["another window", { seq: 6000, window: 511 }, 1000],
    ["another timestamp", { seq: 6000, timestamp: { tsVal: 11, tsEcr: 20 } }, 1000],
    ["no timestamp", { seq: 6000, timestamp: null }, 1000],
    ["SACK blocks", { seq: 6000, sackBlocks: [[1, 2]] }, 1000],
    ["another port", { seq: 6000, srcPort: 1001 }, 1000],
    ["another ECN codepoint", { seq: 6000 }, 1000, 3],
    ["another source", { seq: 6000 }, 1000, 0, Ipv4Address.parse("192.0.2.9")],
  ];
  for (const [what, over, len, ecn = 0, src = SRC] of refused) {
    const batch = started();
    const [r, b] = seg(over, len);
    assert.equal(batch.extends(r, b, 0, src, DST, ecn), false, what);
  }
  const batch = started();
  const [r, b] = seg({ seq: 6000 }, 1000);
  assert.equal(batch.extends(r, b, 0, Ipv4Address.parse("192.0.2.1"), DST, 0), true);
});

Deno.test("TcpBatch takes only data with ACK (and PSH) and stops at 64 KiB", () => {
  assert.equal(TcpBatch.takes(seg()[0]), true);
  assert.equal(TcpBatch.takes(seg({}, 0)[0]), false);
  assert.equal(TcpBatch.takes(seg({}, MAX_BATCH_SEGMENT)[0]), true);
  assert.equal(TcpBatch.takes(seg({}, MAX_BATCH_SEGMENT + 1)[0]), false); // alone, no copy
  assert.equal(TcpBatch.takes(seg({ flags: TcpFlags.ACK | TcpFlags.FIN })[0]), false);
  assert.equal(TcpBatch.takes(seg({ flags: TcpFlags.ACK | TcpFlags.URG })[0]), false);
  assert.equal(TcpBatch.takes(seg({ flags: TcpFlags.ACK | TcpFlags.CWR })[0]), false);
  assert.equal(TcpBatch.takes(seg({ flags: TcpFlags.PSH })[0]), false);
  const batch = started();
  let seq = 6000;
  while (batch.len + 1000 <= MAX_BATCH_PAYLOAD) {
    const [r, b] = seg({ seq }, 1000);
    assert.equal(batch.extends(r, b, 0, SRC, DST, 0), true);
    batch.add(r);
    seq += 1000;
  }
  const [r, b] = seg({ seq }, 1000);
  assert.equal(batch.extends(r, b, 0, SRC, DST, 0), false);
  assert.equal(batch.take().payload.length, batch.len);
});

Deno.test("TcpBatch refuses another IPv6 flow label and keeps the one it started with", () => {
  const batch = new TcpBatch();
  const [r, b] = seg();
  batch.start(r, b, 0, SRC, DST, 0, 0x12345);
  assert.equal(batch.label, 0x12345);
  const [r2, b2] = seg({ seq: 6000 });
  assert.equal(batch.extends(r2, b2, 0, SRC, DST, 0, 0x12346), false);
  assert.equal(batch.extends(r2, b2, 0, SRC, DST, 0), false); // no label is label 0
  assert.equal(batch.extends(r2, b2, 0, SRC, DST, 0, 0x12345), true);
});
