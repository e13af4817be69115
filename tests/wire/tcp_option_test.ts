import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseTcp,
  type SackBlock,
  TcpFlags,
  tcpHeaderLen,
  TcpOption,
  tcpOptionsLen,
  TcpPacket,
  type TcpRepr,
} from "../../src/wire/tcp.ts";
import {
  assertWireError,
  BASE,
  checkReemit,
  emitToBytes,
  expectReprOrWireError,
  RUNS,
  V4_A,
  V4_B,
  V6_A,
  V6_B,
  withOptions,
} from "./_tcp_fixtures.ts";

// TCP options (src/wire/tcp_option.ts) as parseTcp and emitTcp see them: parsing, malformed
// options, the layout on emit, and TCP Fast Open. The rest of the header is in tcp_test.ts.

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
// Malformed options

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

// ---------------------------------------------------------------------------------------------
// Option layout on emit

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

// ---------------------------------------------------------------------------------------------
// Properties

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
