import assert from "node:assert/strict";
import fc from "fast-check";
import { type IpAddress, Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitTcp,
  parseTcp,
  type SackBlock,
  TCP_HEADER_LEN,
  tcpBufferLen,
  TcpFlags,
  tcpHeaderLen,
  TcpOption,
  tcpOptionsLen,
  TcpPacket,
  type TcpRepr,
  tcpSegmentLen,
} from "../../src/wire/tcp.ts";
import * as gold from "./golden_c/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const V4_A = Ipv4Address.parse("192.0.2.65");
const V4_B = Ipv4Address.parse("192.0.2.66");
const V6_A = Ipv6Address.parse("2001:db8:c::1");
const V6_B = Ipv6Address.parse("2001:db8:c::2");

/** The TCP segment of a golden frame, its addresses, as a fresh copy (tests may mutate it). */
function segmentOf(frame: Uint8Array): { bytes: Uint8Array; src: IpAddress; dst: IpAddress } {
  const ethType = (frame[12]! << 8) | frame[13]!;
  if (ethType === 0x0800) {
    const ihl = (frame[gold.ETH_LEN]! & 0x0f) * 4;
    return {
      bytes: frame.slice(gold.ETH_LEN + ihl),
      src: Ipv4Address.fromBytes(frame, gold.ETH_LEN + 12),
      dst: Ipv4Address.fromBytes(frame, gold.ETH_LEN + 16),
    };
  }
  assert.equal(ethType, 0x86dd);
  return {
    bytes: frame.slice(gold.ETH_LEN + 40),
    src: Ipv6Address.fromBytes(frame, gold.ETH_LEN + 8),
    dst: Ipv6Address.fromBytes(frame, gold.ETH_LEN + 24),
  };
}

function parseGolden(frame: Uint8Array): TcpRepr {
  const { bytes, src, dst } = segmentOf(frame);
  return parseTcp(new TcpPacket(bytes), src, dst);
}

/** Asserts that `fn` throws a WireError for `field` (and `value` when given). */
function assertWireError(fn: () => unknown, field: string, value?: number): WireError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WireError, `expected a WireError, got ${String(caught)}`);
  assert.equal(caught.field, field, caught.message);
  if (value !== undefined) assert.equal(caught.value, value, caught.message);
  return caught;
}

const BASE: TcpRepr = {
  srcPort: 49152,
  dstPort: 80,
  seq: 1000,
  ack: 0,
  flags: TcpFlags.ACK,
  window: 1024,
  urgent: 0,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: null,
  payload: new Uint8Array(0),
};

/** A 20-byte header plus `options` (padded with zeros to a multiple of 4), checksum filled. */
function withOptions(options: number[], src: IpAddress = V4_A, dst: IpAddress = V4_B): TcpPacket {
  const optLen = (options.length + 3) & ~3;
  const p = new TcpPacket(new Uint8Array(TCP_HEADER_LEN + optLen));
  p.srcPort = 49152;
  p.dstPort = 80;
  p.dataOffset = (TCP_HEADER_LEN + optLen) / 4;
  p.flags = TcpFlags.SYN;
  p.buffer.set(options, TCP_HEADER_LEN);
  p.fillChecksum(src, dst);
  return p;
}

function emitToBytes(repr: TcpRepr, src: IpAddress = V4_A, dst: IpAddress = V4_B): Uint8Array {
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
  emitTcp(repr, p, src, dst);
  return p.buffer;
}

// ---------------------------------------------------------------------------------------------
// Golden frames from the Linux kernel

Deno.test("parseTcp reads the Linux IPv4 SYN with MSS, SACK-permitted, timestamps and window scale", () => {
  const repr = parseGolden(gold.V4_SYN);
  assert.deepEqual(repr, {
    srcPort: 49152,
    dstPort: 8000,
    seq: 4123642845,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 64240,
    urgent: 0,
    mss: 1460,
    windowScale: 10,
    sackPermitted: true,
    sackBlocks: [],
    timestamp: { tsVal: 1401166648, tsEcr: 0 },
    payload: new Uint8Array(0),
  });
  assert.equal(tcpSegmentLen(repr), 1);
});

Deno.test("parseTcp reads the Linux IPv4 SYN-ACK and echoes the SYN's timestamp", () => {
  const repr = parseGolden(gold.V4_SYN_ACK);
  assert.equal(repr.srcPort, 8000);
  assert.equal(repr.dstPort, 49152);
  assert.equal(repr.seq, 3158262710);
  assert.equal(repr.ack, 4123642846);
  assert.equal(repr.flags, TcpFlags.SYN | TcpFlags.ACK);
  assert.equal(repr.window, 65160);
  assert.equal(repr.mss, 1460);
  assert.equal(repr.windowScale, 10);
  assert.equal(repr.sackPermitted, true);
  assert.deepEqual(repr.timestamp, { tsVal: 3909838953, tsEcr: 1401166648 });
  assert.equal(repr.payload.length, 0);
});

Deno.test("parseTcp reads the Linux IPv4 data segment with its payload as a subarray", () => {
  const { bytes, src, dst } = segmentOf(gold.V4_DATA);
  const repr = parseTcp(new TcpPacket(bytes), src, dst);
  assert.equal(repr.seq, 4123642846);
  assert.equal(repr.ack, 3158262711);
  assert.equal(repr.flags, TcpFlags.PSH | TcpFlags.ACK);
  assert.equal(repr.window, 63);
  assert.equal(repr.mss, null);
  assert.equal(repr.windowScale, null);
  assert.equal(repr.sackPermitted, false);
  assert.deepEqual(repr.timestamp, { tsVal: 1401166648, tsEcr: 3909838953 });
  assert.equal(repr.payload.length, 88);
  assert.equal(repr.payload.buffer, bytes.buffer);
  assert.equal(repr.payload.byteOffset, bytes.byteOffset + 32);
  const text = new TextDecoder().decode(repr.payload);
  assert.ok(text.startsWith("GET /hello.txt HTTP/1.1\r\n"), text);
  assert.equal(tcpSegmentLen(repr), 88);
});

Deno.test("parseTcp reads the Linux IPv4 response body and FIN", () => {
  const body = parseGolden(gold.V4_DATA_BODY);
  assert.equal(new TextDecoder().decode(body.payload), "hello\n");
  assert.equal(body.seq, 3158262896);
  const fin = parseGolden(gold.V4_FIN);
  assert.equal(fin.flags, TcpFlags.FIN | TcpFlags.ACK);
  assert.equal(fin.seq, 3158262902);
  assert.equal(fin.ack, 4123642934);
  assert.equal(fin.window, 64);
  assert.deepEqual(fin.timestamp, { tsVal: 3909838961, tsEcr: 1401166656 });
  assert.equal(tcpSegmentLen(fin), 1);
});

Deno.test("parseTcp reads the Linux IPv6 SYN, SYN-ACK, data segment and FIN", () => {
  const syn = parseGolden(gold.V6_SYN);
  assert.equal(syn.srcPort, 49153);
  assert.equal(syn.seq, 1091715979);
  assert.equal(syn.flags, TcpFlags.SYN);
  assert.equal(syn.window, 64800);
  assert.equal(syn.mss, 1440);
  assert.equal(syn.windowScale, 10);
  assert.equal(syn.sackPermitted, true);
  assert.deepEqual(syn.timestamp, { tsVal: 361386613, tsEcr: 0 });

  const synAck = parseGolden(gold.V6_SYN_ACK);
  assert.equal(synAck.seq, 1460920884);
  assert.equal(synAck.ack, 1091715980);
  assert.equal(synAck.window, 64260);

  const data = parseGolden(gold.V6_DATA);
  assert.equal(data.payload.length, 93);
  assert.ok(new TextDecoder().decode(data.payload).startsWith("GET /hello.txt"));

  const fin = parseGolden(gold.V6_FIN);
  assert.equal(fin.flags, TcpFlags.FIN | TcpFlags.ACK);
  assert.equal(fin.seq, 1460921076);
  assert.equal(fin.ack, 1091716073);
});

Deno.test("TcpPacket reads every field of the Linux SYN-ACK", () => {
  const { bytes } = segmentOf(gold.V4_SYN_ACK);
  const p = TcpPacket.newChecked(bytes);
  assert.equal(p.srcPort, 8000);
  assert.equal(p.dstPort, 49152);
  assert.equal(p.seq, 3158262710);
  assert.equal(p.ack, 4123642846);
  assert.equal(p.dataOffset, 10);
  assert.equal(p.headerLen, 40);
  assert.equal(p.flags, 0x12);
  assert.deepEqual(
    [p.finFlag, p.synFlag, p.rstFlag, p.pshFlag, p.ackFlag, p.urgFlag, p.eceFlag, p.cwrFlag],
    [false, true, false, false, true, false, false, false],
  );
  assert.equal(p.window, 65160);
  assert.equal(p.checksum, 0x63cf);
  assert.equal(p.urgent, 0);
  assert.equal(p.options.length, 20);
  assert.deepEqual([...p.options.subarray(0, 4)], [TcpOption.MSS, 4, 0x05, 0xb4]);
  assert.equal(p.payload.length, 0);
});

Deno.test("emitTcp reproduces the Linux ACK, data and FIN segments byte for byte", () => {
  for (const frame of [gold.V4_ACK, gold.V4_DATA, gold.V4_DATA_BODY, gold.V4_FIN, gold.V6_DATA]) {
    const { bytes, src, dst } = segmentOf(frame);
    const repr = parseTcp(new TcpPacket(bytes), src, dst);
    const out = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
    emitTcp(repr, out, src, dst);
    assert.deepEqual(out.buffer, bytes);
  }
});

Deno.test("emitTcp of the parsed Linux SYN parses back to the same repr in our option layout", () => {
  for (const frame of [gold.V4_SYN, gold.V4_SYN_ACK, gold.V6_SYN, gold.V6_SYN_ACK]) {
    const { bytes, src, dst } = segmentOf(frame);
    const repr = parseTcp(new TcpPacket(bytes), src, dst);
    const out = emitToBytes(repr, src, dst);
    assert.equal(out.length, 44); // 20 + MSS 4 + NOP WS 4 + SACK-permitted 2 + NOP NOP TS 12 + 2
    assert.deepEqual(parseTcp(new TcpPacket(out), src, dst), repr);
  }
});

// ---------------------------------------------------------------------------------------------
// Checksums

Deno.test("TcpPacket verifies the IPv4 and IPv6 checksums of the Linux segments", () => {
  for (const frame of [gold.V4_SYN, gold.V4_DATA, gold.V4_FIN, gold.V6_SYN, gold.V6_DATA]) {
    const { bytes, src, dst } = segmentOf(frame);
    assert.equal(new TcpPacket(bytes).verifyChecksum(src, dst), true);
  }
});

Deno.test("TcpPacket fails the checksum when a payload byte or an address changes", () => {
  const v4 = segmentOf(gold.V4_DATA);
  const p = new TcpPacket(v4.bytes);
  assert.equal(p.verifyChecksum(v4.src, Ipv4Address.parse("192.0.2.67")), false);
  assert.equal(p.verifyChecksum(v4.dst, v4.src), true); // the sum is symmetric in src and dst
  p.buffer[40] = p.buffer[40]! ^ 0x01;
  assert.equal(p.verifyChecksum(v4.src, v4.dst), false);

  const v6 = segmentOf(gold.V6_DATA);
  assert.equal(
    new TcpPacket(v6.bytes).verifyChecksum(V6_A, Ipv6Address.parse("2001:db8:c::3")),
    false,
  );
});

Deno.test("TcpPacket checksum uses the IPv6 pseudo-header when src is IPv6", () => {
  const v6 = segmentOf(gold.V6_SYN);
  // The same bytes under an IPv4 pseudo-header do not verify.
  assert.equal(new TcpPacket(v6.bytes).verifyChecksum(V4_A, V4_B), false);
  assert.equal(new TcpPacket(v6.bytes).verifyChecksum(v6.src, v6.dst), true);
});

Deno.test("TcpPacket fillChecksum restores the Linux checksum for IPv4 and IPv6", () => {
  for (const frame of [gold.V4_SYN_ACK, gold.V6_SYN_ACK, gold.V6_FIN]) {
    const { bytes, src, dst } = segmentOf(frame);
    const p = new TcpPacket(bytes);
    const expected = p.checksum;
    p.checksum = 0x1234;
    p.fillChecksum(src, dst);
    assert.equal(p.checksum, expected);
  }
});

Deno.test("parseTcp rejects a bad checksum with the expected value in the message", () => {
  const { bytes, src, dst } = segmentOf(gold.V4_SYN);
  const p = new TcpPacket(bytes);
  p.checksum = 0xb8e4;
  const e = assertWireError(() => parseTcp(p, src, dst), "tcp.checksum", 0xb8e4);
  assert.match(e.message, /expected 0xb8e3/);
  assert.equal(parseTcp(p, src, dst, { verifyChecksum: false }).mss, 1460);
});

Deno.test("parseTcp rejects an IPv6 segment checked against the wrong addresses", () => {
  const { bytes } = segmentOf(gold.V6_DATA);
  assertWireError(() => parseTcp(new TcpPacket(bytes), V6_B, V6_B), "tcp.checksum");
});

Deno.test("emitTcp leaves the checksum zero when fillChecksum is false", () => {
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(BASE)).fill(0xee));
  emitTcp(BASE, p, V4_A, V4_B, { fillChecksum: false });
  assert.equal(p.checksum, 0);
  emitTcp(BASE, p, V4_A, V4_B);
  assert.notEqual(p.checksum, 0);
  assert.equal(p.verifyChecksum(V4_A, V4_B), true);
});

Deno.test("emitTcp computes the checksum over the segment only when the buffer is longer", () => {
  const repr = { ...BASE, payload: new Uint8Array([1, 2, 3]) };
  const big = new TcpPacket(new Uint8Array(tcpBufferLen(repr) + 5).fill(0xff));
  emitTcp(repr, big, V6_A, V6_B);
  const exact = new TcpPacket(big.buffer.subarray(0, tcpBufferLen(repr)));
  assert.equal(exact.verifyChecksum(V6_A, V6_B), true);
  assert.deepEqual([...big.buffer.subarray(tcpBufferLen(repr))], [255, 255, 255, 255, 255]);
});

// ---------------------------------------------------------------------------------------------
// Options

Deno.test("parseTcp reads every option kind", () => {
  const p = withOptions([
    2,
    4,
    0x05,
    0xb4, // MSS 1460
    1,
    3,
    3,
    7, // NOP, window scale 7
    4,
    2, // SACK-permitted
    8,
    10,
    0,
    0,
    0,
    1,
    0xff,
    0xff,
    0xff,
    0xff, // timestamps 1, 2^32 - 1
    5,
    10,
    0,
    0,
    0x03,
    0xe8,
    0,
    0,
    0x09,
    0x9c, // SACK 1000-2460
  ]);
  const repr = parseTcp(p, V4_A, V4_B);
  assert.equal(repr.mss, 1460);
  assert.equal(repr.windowScale, 7);
  assert.equal(repr.sackPermitted, true);
  assert.deepEqual(repr.timestamp, { tsVal: 1, tsEcr: 0xffffffff });
  assert.deepEqual(repr.sackBlocks, [[1000, 2460]]);
});

Deno.test("parseTcp reads one to four SACK blocks", () => {
  for (let n = 1; n <= 4; n++) {
    const opts = [1, 1, 5, 2 + 8 * n];
    const blocks: SackBlock[] = [];
    for (let k = 0; k < n; k++) {
      const left = 0xfffffff0 + k * 0x10; // wraps past 2^32
      const right = (left + 8) >>> 0;
      blocks.push([left >>> 0, right]);
      for (const v of [left >>> 0, right]) {
        opts.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
      }
    }
    assert.deepEqual(parseTcp(withOptions(opts), V4_A, V4_B).sackBlocks, blocks);
  }
});

Deno.test("parseTcp clamps a window scale above 14 to 14 (RFC 7323 §2.3)", () => {
  for (const [sent, seen] of [[0, 0], [14, 14], [15, 14], [255, 14]] as const) {
    assert.equal(parseTcp(withOptions([3, 3, sent]), V4_A, V4_B).windowScale, seen);
  }
});

Deno.test("parseTcp skips unknown options by their length", () => {
  const repr = parseTcp(
    withOptions([
      34,
      2, // TFO cookie request, empty (RFC 7413)
      30,
      6,
      0xde,
      0xad,
      0xbe,
      0xef, // MPTCP-like, 4 data bytes
      253,
      4,
      0x12,
      0x34, // experimental (RFC 6994)
      2,
      4,
      0x02,
      0x18, // MSS 536
    ]),
    V4_A,
    V4_B,
  );
  assert.equal(repr.mss, 536);
});

Deno.test("parseTcp stops at the end-of-list option and ignores what follows", () => {
  const repr = parseTcp(withOptions([2, 4, 1, 0, 0, 0xff, 0x00, 0x99]), V4_A, V4_B);
  assert.equal(repr.mss, 256);
  assert.equal(repr.windowScale, null);
});

Deno.test("parseTcp skips NOP options", () => {
  const repr = parseTcp(withOptions([1, 1, 1, 1, 1, 1, 1, 4, 2]), V4_A, V4_B);
  assert.equal(repr.sackPermitted, true);
});

Deno.test("parseTcp accepts a header of exactly 20 bytes with no options", () => {
  const repr = parseTcp(withOptions([], V6_A, V6_B), V6_A, V6_B);
  assert.equal(repr.mss, null);
  assert.equal(repr.timestamp, null);
  assert.deepEqual(repr.sackBlocks, []);
});

// ---------------------------------------------------------------------------------------------
// Malformed input

Deno.test("TcpPacket rejects a buffer shorter than 20 bytes", () => {
  for (let n = 0; n < 20; n++) {
    assertWireError(() => TcpPacket.newChecked(new Uint8Array(n)), "tcp.length", n);
    assertWireError(() => parseTcp(new TcpPacket(new Uint8Array(n)), V4_A, V4_B), "tcp.length", n);
  }
});

Deno.test("TcpPacket rejects a data offset below 5", () => {
  for (let off = 0; off < 5; off++) {
    const b = new Uint8Array(40);
    b[12] = off << 4;
    assertWireError(() => TcpPacket.newChecked(b), "tcp.dataOffset", off);
  }
});

Deno.test("TcpPacket rejects a header longer than the buffer", () => {
  const b = new Uint8Array(59);
  b[12] = 0xf0;
  const e = assertWireError(() => TcpPacket.newChecked(b), "tcp.dataOffset", 15);
  assert.match(e.message, /60 bytes runs past the buffer of 59 bytes/);
  assert.doesNotThrow(() => TcpPacket.newChecked(new Uint8Array(60).fill(0xf0, 12, 13)));
});

Deno.test("TcpPacket rejects an option whose length runs past the header", () => {
  const e = assertWireError(
    () => parseTcp(withOptions([1, 1, 1, 1, 2, 6, 0, 0]), V4_A, V4_B),
    "tcp.option",
    TcpOption.MSS,
  );
  assert.match(e.message, /MSS option of length 6 runs past the header end/);
  assertWireError(() => parseTcp(withOptions([99, 40, 0, 0]), V4_A, V4_B), "tcp.option", 99);
});

Deno.test("parseTcp rejects an option length below 2", () => {
  for (const kind of [TcpOption.MSS, TcpOption.SACK, 77]) {
    for (const len of [0, 1]) {
      const e = assertWireError(
        () => parseTcp(withOptions([kind, len, 0, 0]), V4_A, V4_B),
        "tcp.option",
        kind,
      );
      assert.match(e.message, /below the minimum of 2/);
    }
  }
});

Deno.test("parseTcp rejects an option kind in the last header byte with no length", () => {
  assertWireError(
    () => parseTcp(withOptions([1, 1, 1, TcpOption.TIMESTAMP]), V4_A, V4_B),
    "tcp.option",
    TcpOption.TIMESTAMP,
  );
});

Deno.test("parseTcp rejects known options with the wrong length and names the kind", () => {
  const cases: [kind: number, len: number, name: RegExp][] = [
    [TcpOption.MSS, 3, /MSS option has length 3, expected 4/],
    [TcpOption.MSS, 5, /MSS/],
    [TcpOption.WINDOW_SCALE, 2, /window scale option has length 2, expected 3/],
    [TcpOption.WINDOW_SCALE, 4, /window scale/],
    [TcpOption.SACK_PERMITTED, 3, /SACK-permitted option has length 3, expected 2/],
    [TcpOption.SACK, 2, /SACK option has length 2/],
    [TcpOption.SACK, 9, /SACK/],
    [TcpOption.SACK, 11, /SACK/],
    [TcpOption.SACK, 38, /SACK/], // five blocks would need 42
    [TcpOption.TIMESTAMP, 8, /timestamps option has length 8, expected 10/],
    [TcpOption.TIMESTAMP, 12, /timestamps/],
  ];
  for (const [kind, len, name] of cases) {
    const opts = [kind, len, ...new Array<number>(len - 2).fill(0)];
    const e = assertWireError(() => parseTcp(withOptions(opts), V4_A, V4_B), "tcp.option", kind);
    assert.match(e.message, name);
  }
});

Deno.test("parseTcp rejects port 0 on either side", () => {
  const p = withOptions([]);
  p.srcPort = 0;
  p.fillChecksum(V4_A, V4_B);
  assertWireError(() => parseTcp(p, V4_A, V4_B), "tcp.srcPort", 0);
  p.srcPort = 1;
  p.dstPort = 0;
  p.fillChecksum(V4_A, V4_B);
  assertWireError(() => parseTcp(p, V4_A, V4_B), "tcp.dstPort", 0);
});

// ---------------------------------------------------------------------------------------------
// Emit layout and lengths

Deno.test("emitTcp writes options in the contract order with NOP padding", () => {
  const repr: TcpRepr = {
    ...BASE,
    flags: TcpFlags.SYN,
    mss: 1460,
    windowScale: 7,
    sackPermitted: true,
    timestamp: { tsVal: 0x01020304, tsEcr: 0x05060708 },
  };
  const out = emitToBytes(repr);
  assert.equal(out.length, 44);
  assert.equal(out[12], 11 << 4);
  assert.deepEqual([...out.subarray(20)], [
    2,
    4,
    0x05,
    0xb4, // MSS
    1,
    3,
    3,
    7, // NOP, window scale
    4,
    2, // SACK-permitted
    1,
    1,
    8,
    10,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // NOP NOP timestamps
    0,
    0, // zero padding to 4
  ]);
});

Deno.test("emitTcp writes timestamps then SACK blocks, each after two NOPs", () => {
  const repr: TcpRepr = {
    ...BASE,
    timestamp: { tsVal: 9, tsEcr: 10 },
    sackBlocks: [[1, 2], [0xfffffffe, 0xffffffff]],
  };
  const out = emitToBytes(repr);
  assert.equal(tcpOptionsLen(repr), 32);
  assert.deepEqual([...out.subarray(20)], [
    1,
    1,
    8,
    10,
    0,
    0,
    0,
    9,
    0,
    0,
    0,
    10,
    1,
    1,
    5,
    18,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    2,
    0xff,
    0xff,
    0xff,
    0xfe,
    0xff,
    0xff,
    0xff,
    0xff,
  ]);
});

Deno.test("emitTcp writes the header fields, zero reserved bits and copies the payload", () => {
  const payload = new Uint8Array([10, 20, 30]);
  const repr: TcpRepr = {
    ...BASE,
    srcPort: 65535,
    dstPort: 1,
    seq: 0xffffffff,
    ack: 0x80000000,
    flags: 0xff,
    window: 0xffff,
    urgent: 0xabcd,
    payload,
  };
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)).fill(0x0f));
  emitTcp(repr, p, V4_A, V4_B);
  assert.equal(p.srcPort, 65535);
  assert.equal(p.dstPort, 1);
  assert.equal(p.seq, 0xffffffff);
  assert.equal(p.ack, 0x80000000);
  assert.equal(p.buffer[12], 0x50);
  assert.equal(p.flags, 0xff);
  assert.equal(p.window, 0xffff);
  assert.equal(p.urgent, 0xabcd);
  assert.deepEqual(p.payload, payload);
  assert.notEqual(p.payload.buffer, payload.buffer);
});

Deno.test("emitTcp throws RangeError for a short buffer, too many SACK blocks or too many options", () => {
  assert.throws(() => emitTcp(BASE, new TcpPacket(new Uint8Array(19)), V4_A, V4_B), RangeError);
  const five: SackBlock[] = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
  assert.throws(() => tcpHeaderLen({ ...BASE, sackBlocks: five }), RangeError);
  const crowded: TcpRepr = {
    ...BASE,
    mss: 1460,
    timestamp: { tsVal: 1, tsEcr: 1 },
    sackBlocks: [[1, 2], [3, 4], [5, 6]],
  };
  assert.throws(() => tcpBufferLen(crowded), /exceed the 40-byte option space/);
  assert.equal(tcpHeaderLen({ ...crowded, mss: null }), 60);
  assert.equal(tcpHeaderLen({ ...BASE, sackBlocks: five.slice(0, 4) }), 56);
});

Deno.test("tcpHeaderLen, tcpBufferLen and tcpSegmentLen count options, payload, SYN and FIN", () => {
  assert.equal(tcpHeaderLen(BASE), 20);
  assert.equal(tcpOptionsLen({ ...BASE, sackPermitted: true }), 4);
  assert.equal(tcpOptionsLen({ ...BASE, mss: 536 }), 4);
  assert.equal(tcpOptionsLen({ ...BASE, windowScale: 0 }), 4);
  const data = { ...BASE, payload: new Uint8Array(1460), timestamp: { tsVal: 1, tsEcr: 2 } };
  assert.equal(tcpHeaderLen(data), 32);
  assert.equal(tcpBufferLen(data), 1492);
  assert.equal(tcpSegmentLen(data), 1460);
  assert.equal(tcpSegmentLen({ ...BASE, flags: TcpFlags.SYN | TcpFlags.FIN }), 2);
  assert.equal(tcpSegmentLen({ ...BASE, flags: TcpFlags.RST }), 0);
});

Deno.test("TcpPacket setters write each field and flag without touching the others", () => {
  const p = new TcpPacket(new Uint8Array(20));
  p.buffer[12] = 0x0f; // reserved bits and the AE bit set
  p.dataOffset = 6;
  assert.equal(p.buffer[12], 0x6f);
  assert.equal(p.dataOffset, 6);
  const setters: [keyof TcpPacket, number][] = [
    ["finFlag", TcpFlags.FIN],
    ["synFlag", TcpFlags.SYN],
    ["rstFlag", TcpFlags.RST],
    ["pshFlag", TcpFlags.PSH],
    ["ackFlag", TcpFlags.ACK],
    ["urgFlag", TcpFlags.URG],
    ["eceFlag", TcpFlags.ECE],
    ["cwrFlag", TcpFlags.CWR],
  ];
  for (const [name, bit] of setters) {
    p.flags = 0;
    (p as unknown as Record<string, boolean>)[name] = true;
    assert.equal(p.flags, bit, name);
    assert.equal(p[name], true);
    p.flags = 0xff;
    (p as unknown as Record<string, boolean>)[name] = false;
    assert.equal(p.flags, 0xff & ~bit, name);
    assert.equal(p[name], false);
  }
  p.seq = 2 ** 32 + 5; // taken modulo 2^32
  assert.equal(p.seq, 5);
  p.window = 0x12345;
  assert.equal(p.window, 0x2345);
});

// ---------------------------------------------------------------------------------------------
// Properties

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const port = fc.integer({ min: 1, max: 0xffff });
const ipv4 = u32.map((v) => new Ipv4Address(v));
const ipv6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Ipv6Address(a, b, c, d));
const addrPair: fc.Arbitrary<[IpAddress, IpAddress]> = fc.oneof(
  fc.tuple(ipv4, ipv4),
  fc.tuple(ipv6, ipv6),
);

/** Option bytes on the wire, computed independently of the code under test. */
function expectedOptionsLen(r: TcpRepr): number {
  const raw = (r.mss === null ? 0 : 4) + (r.windowScale === null ? 0 : 4) +
    (r.sackPermitted ? 2 : 0) + (r.timestamp === null ? 0 : 12) +
    (r.sackBlocks.length === 0 ? 0 : 4 + 8 * r.sackBlocks.length) +
    (r.fastOpen === undefined || r.fastOpen === null ? 0 : 2 + r.fastOpen.length);
  return Math.ceil(raw / 4) * 4;
}

const reprArb: fc.Arbitrary<TcpRepr> = fc.record({
  srcPort: port,
  dstPort: port,
  seq: u32,
  ack: u32,
  flags: fc.integer({ min: 0, max: 0xff }),
  window: u16,
  urgent: u16,
  mss: fc.option(u16, { nil: null }),
  windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: null }),
  sackPermitted: fc.boolean(),
  sackBlocks: fc.array(fc.tuple(u32, u32) as fc.Arbitrary<SackBlock>, { maxLength: 4 }),
  timestamp: fc.option(fc.record({ tsVal: u32, tsEcr: u32 }), { nil: null }),
  payload: fc.uint8Array({ maxLength: 64 }),
}).filter((r) => expectedOptionsLen(r) <= 40);

Deno.test("emitTcp then parseTcp gives back any repr within the contract", () => {
  fc.assert(
    fc.property(reprArb, addrPair, (repr, [src, dst]) => {
      assert.equal(tcpOptionsLen(repr), expectedOptionsLen(repr));
      const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
      emitTcp(repr, p, src, dst);
      assert.equal(p.verifyChecksum(src, dst), true);
      assert.deepEqual(parseTcp(p, src, dst), repr);
    }),
    { numRuns: Math.max(1, Math.min(RUNS, 20_000)) },
  );
});

function expectReprOrWireError(fn: () => TcpRepr): TcpRepr | null {
  try {
    const repr = fn();
    assert.equal(typeof repr.srcPort, "number");
    return repr;
  } catch (e) {
    if (e instanceof WireError) return null;
    throw e;
  }
}

/** A parsed repr that fits our option layout re-emits to bytes that parse to the same repr. */
function checkReemit(repr: TcpRepr, src: IpAddress, dst: IpAddress): void {
  if (expectedOptionsLen(repr) > 40) return;
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
  emitTcp(repr, p, src, dst);
  assert.deepEqual(parseTcp(p, src, dst), repr);
}

Deno.test("parseTcp of arbitrary bytes returns a repr or throws WireError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, verify) => {
      expectReprOrWireError(() =>
        parseTcp(new TcpPacket(bytes), V4_A, V4_B, { verifyChecksum: verify })
      );
    }),
    { numRuns: RUNS },
  );
});

Deno.test("parseTcp of arbitrary options with a fixed-up checksum returns a repr or throws WireError", () => {
  // Bias towards reaching option parsing: a valid data offset, a buffer that holds the header,
  // option bytes drawn mostly from the known kinds and small lengths.
  const optByte = fc.oneof(
    fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10, 18, 26, 34),
    fc.integer({ min: 0, max: 255 }),
  );
  const input = fc.record({
    off: fc.integer({ min: 5, max: 15 }),
    opts: fc.array(optByte, { maxLength: 40 }),
    extra: fc.uint8Array({ maxLength: 16 }),
    cut: fc.integer({ min: 0, max: 4 }),
    v6: fc.boolean(),
  });
  let parsed = 0;
  fc.assert(
    fc.property(input, ({ off, opts, extra, cut, v6 }) => {
      const headerLen = off * 4;
      const len = Math.max(0, headerLen + extra.length - (cut === 0 ? 1 : 0));
      const b = new Uint8Array(len);
      b[0] = 0x30; // ports non-zero
      b[3] = 0x50;
      if (len > 12) b[12] = off << 4;
      for (let i = 0; i < opts.length && 20 + i < Math.min(headerLen, len); i++) {
        b[20 + i] = opts[i]!;
      }
      if (len >= headerLen) b.set(extra.subarray(0, len - headerLen), headerLen);
      const [src, dst] = v6 ? [V6_A, V6_B] : [V4_A, V4_B];
      const p = new TcpPacket(b);
      if (len >= 20) p.fillChecksum(src, dst);
      const repr = expectReprOrWireError(() => parseTcp(p, src, dst));
      if (repr !== null) {
        parsed++;
        assert.ok(repr.windowScale === null || repr.windowScale <= 14);
        assert.ok(repr.sackBlocks.length <= 4);
        assert.equal(repr.payload.length, len - headerLen);
        checkReemit(repr, src, dst);
      }
    }),
    { numRuns: RUNS },
  );
  // The generator must reach successful option parsing often enough to mean something.
  assert.ok(parsed > RUNS / 20, `only ${parsed} of ${RUNS} inputs parsed`);
});

// ---------------------------------------------------------------------------------------------
// TCP Fast Open (RFC 7413 §4.1.1)

/** A SYN's options as Linux lays them out with a Fast Open cookie (MSS, SACK-permitted +
 * timestamps, NOP + window scale, then kind 34 and NOP padding), assembled by hand from
 * RFC 7413 §4.1.1 and RFC 7323. */
const TFO_SYN_OPTIONS = [
  0x02,
  0x04,
  0x05,
  0xb4, // MSS 1460
  0x04,
  0x02,
  0x08,
  0x0a,
  0x00,
  0x00,
  0x00,
  0x07,
  0x00,
  0x00,
  0x00,
  0x00, // SACK-perm, TS 7/0
  0x01,
  0x03,
  0x03,
  0x07, // NOP, window scale 7
  0x22,
  0x0a,
  0xc0,
  0xc1,
  0xc2,
  0xc3,
  0xc4,
  0xc5,
  0xc6,
  0xc7,
  0x01,
  0x01, // TFO, 8-byte cookie
];

Deno.test("parseTcp reads a Fast Open cookie (kind 34) as a subarray of the packet", () => {
  const p = withOptions(TFO_SYN_OPTIONS);
  const repr = parseTcp(p, V4_A, V4_B);
  assert.deepEqual([...repr.fastOpen!], [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]);
  assert.equal(repr.fastOpen!.buffer, p.buffer.buffer); // zero-copy
  assert.equal(repr.mss, 1460);
  assert.equal(repr.windowScale, 7);
  assert.deepEqual(repr.timestamp, { tsVal: 7, tsEcr: 0 });
});

Deno.test("parseTcp reads an empty Fast Open option as a cookie request", () => {
  const repr = parseTcp(withOptions([0x22, 0x02, 0x01, 0x01]), V4_A, V4_B);
  assert.equal(repr.fastOpen?.length, 0);
});

Deno.test("parseTcp reads the experimental Fast Open option (kind 254, magic 0xF989)", () => {
  const repr = parseTcp(
    withOptions([0xfe, 0x08, 0xf9, 0x89, 0xaa, 0xbb, 0xcc, 0xdd]),
    V4_A,
    V4_B,
  );
  assert.deepEqual([...repr.fastOpen!], [0xaa, 0xbb, 0xcc, 0xdd]);
  // Another experiment's magic is skipped like any unknown option.
  const other = parseTcp(withOptions([0xfe, 0x08, 0x12, 0x34, 0, 0, 0, 0]), V4_A, V4_B);
  assert.equal(other.fastOpen, undefined);
});

Deno.test("parseTcp ignores a malformed Fast Open option and keeps the segment", () => {
  // Lengths 3 (odd), 5 (a 3-byte cookie), 19 (a 17-byte cookie) are not cookies.
  for (
    const opt of [[0x22, 0x03, 0x00], [0x22, 0x05, 1, 2, 3], [0x22, 19, ...new Array(17).fill(9)]]
  ) {
    const repr = parseTcp(withOptions(opt), V4_A, V4_B);
    assert.equal(repr.fastOpen, undefined, `option ${opt.slice(0, 2)}`);
  }
  // A segment without the option has no fastOpen field at all (one shape for common segments).
  assert.equal("fastOpen" in parseTcp(withOptions([0x02, 0x04, 0x05, 0xb4]), V4_A, V4_B), false);
});

Deno.test("emitTcp writes a Fast Open cookie after the other options, golden bytes", () => {
  const cookie = new Uint8Array([0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]);
  const repr: TcpRepr = {
    ...BASE,
    flags: TcpFlags.SYN,
    mss: 1460,
    windowScale: 7,
    sackPermitted: true,
    timestamp: { tsVal: 7, tsEcr: 0 },
    fastOpen: cookie,
    payload: new Uint8Array([0x68, 0x69]),
  };
  assert.equal(tcpHeaderLen(repr), 52); // 20 + 4 + 4 + 2 + 12 + 10: no padding needed
  const b = emitToBytes(repr);
  assert.deepEqual([...b.subarray(20, 52)], [
    0x02,
    0x04,
    0x05,
    0xb4, // MSS
    0x01,
    0x03,
    0x03,
    0x07, // NOP, window scale
    0x04,
    0x02, // SACK-permitted
    0x01,
    0x01,
    0x08,
    0x0a,
    0,
    0,
    0,
    7,
    0,
    0,
    0,
    0, // NOP NOP timestamps
    0x22,
    0x0a,
    0xc0,
    0xc1,
    0xc2,
    0xc3,
    0xc4,
    0xc5,
    0xc6,
    0xc7, // Fast Open
  ]);
  assert.deepEqual([...b.subarray(52)], [0x68, 0x69]);
  const back = parseTcp(new TcpPacket(b), V4_A, V4_B);
  assert.deepEqual([...back.fastOpen!], [...cookie]);
  assert.deepEqual([...back.payload], [0x68, 0x69]);
});

Deno.test("emitTcp writes a cookie request as kind 34 length 2", () => {
  const b = emitToBytes({ ...BASE, flags: TcpFlags.SYN, fastOpen: new Uint8Array(0) });
  assert.deepEqual([...b.subarray(20, 24)], [0x22, 0x02, 0x00, 0x00]);
  assert.equal(new TcpPacket(b).dataOffset, 6);
});

Deno.test("tcpOptionsLen refuses a Fast Open cookie of a bad length or one that does not fit", () => {
  for (const n of [1, 2, 3, 5, 17, 18]) {
    assert.throws(
      () => tcpOptionsLen({ ...BASE, fastOpen: new Uint8Array(n) }),
      RangeError,
      `cookie of ${n} bytes`,
    );
  }
  assert.equal(tcpOptionsLen({ ...BASE, fastOpen: null }), 0);
  assert.equal(tcpOptionsLen({ ...BASE, fastOpen: new Uint8Array(16) }), 20);
  // A full SYN (24 bytes of options) leaves room for a 16-byte cookie (18) only just.
  const syn = {
    ...BASE,
    mss: 1460,
    windowScale: 7,
    sackPermitted: true,
    timestamp: { tsVal: 1, tsEcr: 0 },
  };
  assert.equal(tcpOptionsLen({ ...syn, fastOpen: new Uint8Array(16) }), 40);
  assert.throws(
    () => tcpOptionsLen({ ...syn, sackBlocks: [[1, 2]], fastOpen: new Uint8Array(16) }),
    RangeError,
  );
  assert.equal(tcpOptionsLen({ ...syn, sackBlocks: [[1, 2]] }), 36);
});
