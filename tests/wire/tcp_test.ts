import assert from "node:assert/strict";
import fc from "fast-check";
import { type IpAddress, Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import {
  emitTcp,
  parseTcp,
  type SackBlock,
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
import {
  assertWireError,
  BASE,
  emitToBytes,
  expectedOptionsLen,
  expectReprOrWireError,
  parseGolden,
  RUNS,
  segmentOf,
  V4_A,
  V4_B,
  V6_A,
  V6_B,
  withOptions,
} from "./_tcp_fixtures.ts";

// Option parsing, option layout on emit and TCP Fast Open are in tcp_option_test.ts.

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
