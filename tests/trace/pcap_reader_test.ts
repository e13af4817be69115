import assert from "node:assert/strict";
import { CaptureLinkType, readCapture } from "../../src/trace/pcap_reader.ts";
import { MemorySink, PcapWriter } from "../../src/phy/pcap_writer.ts";
import { Loopback } from "../../src/phy/loopback.ts";

/** A classic pcap file built by hand: header, then (sec, frac, bytes) records. */
function pcap(
  order: "le" | "be",
  nano: boolean,
  linkType: number,
  records: [number, number, number[]][],
): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => {
    const b = [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    parts.push(...(order === "be" ? b : b.reverse()));
  };
  const u16 = (v: number) => {
    const b = [(v >>> 8) & 255, v & 255];
    parts.push(...(order === "be" ? b : b.reverse()));
  };
  u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(linkType);
  for (const [sec, frac, bytes] of records) {
    u32(sec);
    u32(frac);
    u32(bytes.length);
    u32(bytes.length + 10);
    parts.push(...bytes);
  }
  return new Uint8Array(parts);
}

Deno.test("readCapture reads classic pcap in both byte orders, with µs and ns time stamps", () => {
  for (const order of ["le", "be"] as const) {
    for (const nano of [false, true]) {
      const file = pcap(order, nano, 101, [[2, nano ? 500_000_000 : 500_000, [1, 2, 3]], [3, 0, [
        9,
      ]]]);
      const frames = readCapture(file);
      assert.equal(frames.length, 2, `${order} nano=${nano}`);
      assert.equal(frames[0]!.time, 2500);
      assert.equal(frames[1]!.time, 3000);
      assert.equal(frames[0]!.linkType, CaptureLinkType.Raw);
      assert.deepEqual([...frames[0]!.data], [1, 2, 3]);
      assert.equal(frames[0]!.originalLength, 13);
    }
  }
});

Deno.test("readCapture reads back what PcapWriter wrote, frame for frame", () => {
  const sink = new MemorySink();
  const dev = new PcapWriter(new Loopback(), sink);
  for (let i = 0; i < 5; i++) {
    const buf = dev.transmit(100 + i, 20 + i)!;
    buf.fill(i);
    dev.commit();
  }
  const frames = readCapture(sink.bytes());
  assert.equal(frames.length, 5);
  frames.forEach((f, i) => {
    assert.equal(f.time, 100 + i);
    assert.equal(f.data.length, 20 + i);
    assert.ok(f.data.every((b) => b === i));
  });
});

Deno.test("readCapture stops at a record cut short by the end of the file", () => {
  const file = pcap("le", false, 1, [[1, 0, [1, 2, 3, 4]], [2, 0, [5, 6, 7, 8]]]);
  assert.equal(readCapture(file.subarray(0, file.length - 2)).length, 1);
});

Deno.test("readCapture rejects a file that is neither pcap nor pcapng with a RangeError", () => {
  assert.throws(() => readCapture(new Uint8Array([1, 2, 3, 4, 5, 6])), RangeError);
  assert.throws(() => readCapture(new Uint8Array(2)), RangeError);
  assert.throws(() => readCapture(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 0])), RangeError);
});

/** A little-endian pcapng file: SHB, one IDB (with if_tsresol when given), EPBs. */
function pcapng(tsresol: number | null, packets: [bigint, number[]][]): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => out.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  const u16 = (v: number) => out.push(v & 255, (v >>> 8) & 255);
  // Section Header Block
  u32(0x0a0d0d0a),
    u32(28),
    u32(0x1a2b3c4d),
    u16(1),
    u16(0),
    u32(0xffffffff),
    u32(0xffffffff),
    u32(28);
  // Interface Description Block
  const idbLen = tsresol === null ? 20 : 32;
  u32(1), u32(idbLen), u16(228), u16(0), u32(65535);
  if (tsresol !== null) u16(9), u16(1), out.push(tsresol, 0, 0, 0), u16(0), u16(0);
  u32(idbLen);
  for (const [ts, bytes] of packets) {
    const padded = (bytes.length + 3) & ~3;
    const len = 32 + padded;
    u32(6), u32(len), u32(0), u32(Number(ts >> 32n)), u32(Number(ts & 0xffffffffn));
    u32(bytes.length), u32(bytes.length);
    out.push(...bytes, ...new Array(padded - bytes.length).fill(0));
    u32(len);
  }
  // An unknown block (type 0x0bad) is skipped.
  u32(0x0bad), u32(16), u32(0), u32(16);
  return new Uint8Array(out);
}

Deno.test("readCapture reads pcapng enhanced packet blocks with the interface's time resolution", () => {
  const us = readCapture(pcapng(null, [[1_500_000n, [0x45, 0]]]));
  assert.equal(us.length, 1);
  assert.equal(us[0]!.time, 1500);
  assert.equal(us[0]!.linkType, CaptureLinkType.Ipv4);
  assert.deepEqual([...us[0]!.data], [0x45, 0]);
  const ns = readCapture(pcapng(9, [[2_000_000_000n, [1]], [2_000_500_000n, [2, 3, 4, 5, 6]]]));
  assert.deepEqual(ns.map((f) => f.time), [2000, 2000.5]);
  assert.deepEqual([...ns[1]!.data], [2, 3, 4, 5, 6]);
});
