import assert from "node:assert/strict";
import { Ipv4Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import { tcpBufferLen, TcpFlags, type TcpRepr } from "../../src/wire/tcp.ts";
import { writeTcpSegment } from "../../src/wire/_tcp_emit.ts";
import { readTcpSegment, TcpSegmentReader } from "../../src/wire/_tcp_parse.ts";

const SRC = Ipv4Address.parse("192.0.2.1"), DST = Ipv4Address.parse("192.0.2.2");

/** `repr` written at offset 7 of a buffer. */
function wire(over: Partial<TcpRepr>): Uint8Array {
  const repr: TcpRepr = {
    srcPort: 40000,
    dstPort: 80,
    seq: 0xfffffff0,
    ack: 12345,
    flags: TcpFlags.ACK,
    window: 4000,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: null,
    payload: new Uint8Array(0),
    ...over,
  };
  const b = new Uint8Array(7 + tcpBufferLen(repr));
  writeTcpSegment(repr, b, 7, SRC, DST, true);
  return b;
}

const CASES: Partial<TcpRepr>[] = [
  {},
  { timestamp: { tsVal: 1, tsEcr: 0xffffffff }, payload: new Uint8Array(1448).fill(3) },
  { timestamp: { tsVal: 9, tsEcr: 8 }, sackBlocks: [[10, 20], [30, 40]] },
  { flags: TcpFlags.SYN, mss: 1460, windowScale: 7, sackPermitted: true },
  { flags: TcpFlags.ACK | TcpFlags.PSH, payload: new Uint8Array(3).fill(1) },
  { timestamp: { tsVal: 2, tsEcr: 3 } },
];

Deno.test("TcpSegmentReader reads what readTcpSegment reads, into one reused repr", () => {
  const reader = new TcpSegmentReader();
  let first: TcpRepr | null = null;
  for (const c of CASES) {
    const b = wire(c);
    const r = reader.read(b, 7, b.length, SRC, DST, true);
    first ??= r;
    assert.equal(r, first); // the same object every time
    assert.deepEqual({ ...r }, readTcpSegment(b, 7, b.length, SRC, DST, true));
  }
});

Deno.test("TcpSegmentReader reuses its timestamps object and drops it when a segment has none", () => {
  const reader = new TcpSegmentReader();
  const a = wire({ timestamp: { tsVal: 5, tsEcr: 6 } }),
    b = wire({ timestamp: { tsVal: 7, tsEcr: 8 } });
  const t1 = reader.read(a, 7, a.length, SRC, DST, true).timestamp;
  const t2 = reader.read(b, 7, b.length, SRC, DST, true).timestamp;
  assert.equal(t1, t2);
  assert.deepEqual(t2, { tsVal: 7, tsEcr: 8 });
  const n = wire({});
  assert.equal(reader.read(n, 7, n.length, SRC, DST, true).timestamp, null);
});

Deno.test("TcpSegmentReader gives a Fast Open segment a repr and timestamps of its own", () => {
  const reader = new TcpSegmentReader();
  const plain = wire({ timestamp: { tsVal: 1, tsEcr: 1 } });
  const shared = reader.read(plain, 7, plain.length, SRC, DST, true);
  const cookie = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const tfo = wire({ flags: TcpFlags.SYN, timestamp: { tsVal: 4, tsEcr: 0 }, fastOpen: cookie });
  const r = reader.read(tfo, 7, tfo.length, SRC, DST, true);
  assert.notEqual(r, shared);
  assert.deepEqual(r.fastOpen, cookie);
  reader.read(plain, 7, plain.length, SRC, DST, true);
  assert.deepEqual(r.timestamp, { tsVal: 4, tsEcr: 0 }); // not overwritten by the next read
});

Deno.test("TcpSegmentReader raises readTcpSegment's errors", () => {
  const reader = new TcpSegmentReader();
  const bad = wire({ payload: new Uint8Array(10) });
  bad[bad.length - 1]! ^= 1;
  assert.throws(() => reader.read(bad, 7, bad.length, SRC, DST, true), {
    name: "WireError",
    field: "tcp.checksum",
  });
  const port0 = wire({ srcPort: 1 });
  port0[7] = 0;
  port0[8] = 0;
  assert.throws(() => reader.read(port0, 7, port0.length, SRC, DST, false), WireError);
  assert.throws(() => reader.read(port0, 7, 7 + 19, SRC, DST, false), {
    name: "WireError",
    field: "tcp.length",
  });
});
