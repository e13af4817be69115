import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitIcmpv6,
  ICMPV6_ERROR_MAX_LEN,
  ICMPV6_HEADER_LEN,
  icmpv6BufferLen,
  icmpv6ErrorQuoteLen,
  Icmpv6Packet,
  Icmpv6ParamProblemCode,
  type Icmpv6Repr,
  Icmpv6TimeExceededCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  parseIcmpv6,
  parseIcmpv6Quote,
} from "../../src/wire/icmpv6.ts";
import {
  hex,
  ICMPV6_ADDR_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_PKT_TOO_BIG,
  ICMPV6_PORT_UNREACHABLE,
  ICMPV6_TIME_EXCEEDED,
  UDP6,
} from "./golden_b/kernel_frames.ts";
import { ipv6Parts } from "./golden_b/frame_parts.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const A = Ipv6Address.parse("2001:db8:b::1");
const B = Ipv6Address.parse("2001:db8:b::2");

/** The ICMPv6 message of a golden frame, parsed. */
function parseFrame(frame: Uint8Array) {
  const { src, dst, nextHeader, payload } = ipv6Parts(frame);
  assert.equal(nextHeader, 58);
  return {
    repr: parseIcmpv6(Icmpv6Packet.newChecked(payload), src, dst),
    src,
    dst,
    message: payload,
  };
}

function emit(repr: Icmpv6Repr, src = A, dst = B): Uint8Array {
  const packet = new Icmpv6Packet(new Uint8Array(icmpv6BufferLen(repr)));
  emitIcmpv6(repr, packet, src, dst);
  return packet.buffer;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.field === field);
}

/** `bytes` with a correct checksum for A -> B. */
function fixed(bytes: Uint8Array): Icmpv6Packet {
  const p = new Icmpv6Packet(bytes);
  p.fillChecksum(A, B);
  return p;
}

Deno.test("Icmpv6Packet parses the kernel's echo request and reply and re-emits them", () => {
  const req = parseFrame(ICMPV6_ECHO_REQUEST);
  const rep = parseFrame(ICMPV6_ECHO_REPLY);
  assert.ok(req.repr.kind === "echoRequest" && rep.repr.kind === "echoReply");
  assert.equal(req.repr.seqNo, 1);
  assert.equal(rep.repr.ident, req.repr.ident);
  assert.equal(req.repr.data.length, 56);
  assert.deepEqual(rep.repr.data, req.repr.data);
  assert.deepEqual(emit(req.repr, req.src, req.dst), req.message);
  assert.deepEqual(emit(rep.repr, rep.src, rep.dst), rep.message);
});

Deno.test("Icmpv6Packet parses the kernel's port unreachable quoting the UDP datagram", () => {
  const { repr, src, dst, message } = parseFrame(ICMPV6_PORT_UNREACHABLE);
  assert.ok(repr.kind === "dstUnreachable");
  assert.equal(repr.code, Icmpv6UnreachableCode.PortUnreachable);
  assert.deepEqual(repr.data, UDP6.subarray(14));
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's address unreachable", () => {
  const { repr, src, dst, message } = parseFrame(ICMPV6_ADDR_UNREACHABLE);
  assert.ok(repr.kind === "dstUnreachable");
  assert.equal(repr.code, Icmpv6UnreachableCode.AddrUnreachable);
  assert.ok(Ipv6Address.fromBytes(repr.data, 24).equals(Ipv6Address.parse("2001:db8:b::100")));
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's packet too big within the 1280-byte minimum MTU", () => {
  const { repr, src, dst, message } = parseFrame(ICMPV6_PKT_TOO_BIG);
  assert.ok(repr.kind === "pktTooBig");
  assert.equal(repr.mtu, 1280);
  // Linux fills the error up to exactly the IPv6 minimum MTU, as icmpv6ErrorQuoteLen does.
  assert.equal(ICMPV6_PKT_TOO_BIG.length - 14, ICMPV6_ERROR_MAX_LEN);
  assert.equal(repr.data.length, icmpv6ErrorQuoteLen(1448));
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's hop limit exceeded", () => {
  const { repr, src, dst, message } = parseFrame(ICMPV6_TIME_EXCEEDED);
  assert.ok(repr.kind === "timeExceeded");
  assert.equal(repr.code, Icmpv6TimeExceededCode.HopLimitExceeded);
  assert.equal(repr.data[7], 1); // the quoted hop limit
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's unrecognized next header with pointer 6", () => {
  const { repr, src, dst, message } = parseFrame(ICMPV6_PARAM_PROBLEM);
  assert.ok(repr.kind === "paramProblem");
  assert.equal(repr.code, Icmpv6ParamProblemCode.UnrecognizedNextHeader);
  assert.equal(repr.pointer, 6);
  assert.equal(repr.data[repr.pointer], 253);
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet keeps an unknown type as other", () => {
  // Type 200 (private experimentation, RFC 4443 §2.1) with a 4-byte body.
  const p = fixed(hex("c8 07 0000 01020304"));
  const repr = parseIcmpv6(p, A, B);
  assert.deepEqual(repr, { kind: "other", type: 200, code: 7, data: hex("01020304") });
  assert.deepEqual(emit(repr), p.buffer);
  // Only type, code and checksum are required of an unknown type.
  const short = fixed(hex("c9 00 0000"));
  assert.deepEqual(parseIcmpv6(short, A, B), {
    kind: "other",
    type: 201,
    code: 0,
    data: new Uint8Array(0),
  });
});

Deno.test("Icmpv6Packet keeps an echo request with a non-zero code as other", () => {
  const p = fixed(hex("80 01 0000 0001 0001 ff"));
  const repr = parseIcmpv6(p, A, B);
  assert.equal(repr.kind, "other");
  assert.deepEqual(emit(repr), p.buffer);
});

Deno.test("Icmpv6Packet takes a packet too big with a non-zero code and emits code 0", () => {
  const quote = new Uint8Array(40);
  quote[0] = 0x60;
  const bytes = new Uint8Array(48);
  bytes.set(hex("02 05 0000 00000500"));
  bytes.set(quote, 8);
  const repr = parseIcmpv6(fixed(bytes), A, B);
  assert.deepEqual(repr, { kind: "pktTooBig", mtu: 1280, data: quote });
  assert.equal(emit(repr)[1], 0);
});

Deno.test("Icmpv6Packet accessors read and write every field", () => {
  const p = new Icmpv6Packet(new Uint8Array(9));
  p.msgType = Icmpv6Type.ParamProblem;
  p.msgCode = 2;
  p.checksum = 0x1234;
  p.pointer = 0x01020304;
  assert.deepEqual(p.buffer, hex("04 02 1234 01020304 00"));
  assert.deepEqual([p.mtu, p.echoIdent, p.echoSeqNo], [0x01020304, 0x0102, 0x0304]);
  p.mtu = 0xfffffffe;
  assert.equal(p.pointer, 0xfffffffe);
  p.echoIdent = 7;
  p.echoSeqNo = 8;
  assert.deepEqual(p.buffer.subarray(4, 8), hex("0007 0008"));
  assert.equal(p.data.length, 1);
});

Deno.test("Icmpv6Packet rejects a message shorter than its header", () => {
  rejects(() => Icmpv6Packet.newChecked(hex("c8 00 00")), "icmpv6.length");
  for (const type of [1, 2, 3, 4, 128, 129, 130, 133, 137, 143]) {
    const b = new Uint8Array(7);
    b[0] = type;
    rejects(() => Icmpv6Packet.newChecked(b), "icmpv6.length");
  }
});

Deno.test("Icmpv6Packet rejects a wrong checksum, including one for other addresses", () => {
  const { src, dst, message } = parseFrame(ICMPV6_ECHO_REQUEST);
  rejects(() => parseIcmpv6(new Icmpv6Packet(message), src, A), "icmpv6.checksum");
  const bad = message.slice();
  bad[10]! ^= 0x40;
  rejects(() => parseIcmpv6(new Icmpv6Packet(bad), src, dst), "icmpv6.checksum");
  const repr = parseIcmpv6(new Icmpv6Packet(bad), src, dst, { verifyChecksum: false });
  assert.equal(repr.kind, "echoRequest");
});

Deno.test("Icmpv6Packet rejects an error whose quote is not an IPv6 header", () => {
  const short = new Uint8Array(8 + 39);
  short[0] = Icmpv6Type.DstUnreachable;
  short[8] = 0x60;
  rejects(() => parseIcmpv6(fixed(short), A, B), "icmpv6.data");
  const v4 = new Uint8Array(8 + 40);
  v4[0] = Icmpv6Type.TimeExceeded;
  v4[8] = 0x45;
  rejects(() => parseIcmpv6(fixed(v4), A, B), "icmpv6.data");
});

Deno.test("emitIcmpv6 with fillChecksum false leaves the checksum zero", () => {
  const repr: Icmpv6Repr = { kind: "echoReply", ident: 1, seqNo: 2, data: hex("0102") };
  const packet = new Icmpv6Packet(new Uint8Array(icmpv6BufferLen(repr)).fill(0xff));
  emitIcmpv6(repr, packet, A, B, { fillChecksum: false });
  assert.deepEqual(packet.buffer, hex("81 00 0000 0001 0002 0102"));
});

Deno.test("emitIcmpv6 rejects a buffer too short for the message", () => {
  const repr: Icmpv6Repr = { kind: "echoReply", ident: 1, seqNo: 2, data: hex("0102") };
  assert.throws(() => emitIcmpv6(repr, new Icmpv6Packet(new Uint8Array(9)), A, B), RangeError);
});

Deno.test("icmpv6ErrorQuoteLen keeps the error packet within the IPv6 minimum MTU", () => {
  assert.equal(ICMPV6_HEADER_LEN, 8);
  assert.equal(icmpv6ErrorQuoteLen(48), 48);
  assert.equal(icmpv6ErrorQuoteLen(1232), 1232);
  assert.equal(icmpv6ErrorQuoteLen(1233), 1232);
  assert.equal(icmpv6ErrorQuoteLen(9000), 1232);
  assert.equal(40 + 8 + icmpv6ErrorQuoteLen(65575), ICMPV6_ERROR_MAX_LEN);
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Ipv6Address(a, b, c, d));
/** A quote that starts with an IPv6 header. */
const quote = fc.uint8Array({ minLength: 40, maxLength: 200 }).map((q) => {
  q[0] = 0x60 | (q[0]! & 0x0f);
  return q;
});
const KNOWN = new Set<number>([1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143]);

/** Every kind but `ndisc` and `mld`, whose round trips live in ndisc_test.ts and mld_test.ts. */
const icmpv6Repr: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("echoRequest" as const, "echoReply" as const),
    ident: u16,
    seqNo: u16,
    data: fc.uint8Array({ maxLength: 200 }),
  }),
  fc.record({ kind: fc.constant("dstUnreachable" as const), code: u8, data: quote }),
  fc.record({ kind: fc.constant("pktTooBig" as const), mtu: u32, data: quote }),
  fc.record({ kind: fc.constant("timeExceeded" as const), code: u8, data: quote }),
  fc.record({ kind: fc.constant("paramProblem" as const), code: u8, pointer: u32, data: quote }),
  fc.record({
    kind: fc.constant("other" as const),
    type: u8.filter((t) => !KNOWN.has(t)),
    code: u8,
    data: fc.uint8Array({ maxLength: 100 }),
  }),
);

Deno.test("parseIcmpv6 gives back what emitIcmpv6 wrote, for every kind", () => {
  fc.assert(
    fc.property(icmpv6Repr, ipv6, ipv6, (repr, src, dst) => {
      const out = emit(repr, src, dst);
      assert.equal(out.length, icmpv6BufferLen(repr));
      assert.deepEqual(parseIcmpv6(Icmpv6Packet.newChecked(out), src, dst), repr);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("parseIcmpv6 returns a repr or throws WireError for any bytes", () => {
  const TYPES = [1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143, 200];
  const LL = Ipv6Address.parse("fe80::1");
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 96 }),
      fc.integer({ min: 0, max: 63 }),
      (input, mode) => {
        const src = (mode & 16) !== 0 ? LL : A;
        if (input.length >= 9) {
          if ((mode & 1) !== 0) input[0] = TYPES[mode % TYPES.length]!;
          if ((mode & 2) !== 0) input[8] = 0x60;
          if ((mode & 32) !== 0) input[1] = 0;
        }
        const packet = new Icmpv6Packet(input);
        if ((mode & 4) !== 0 && input.length >= 4) packet.fillChecksum(src, B);
        try {
          const repr = parseIcmpv6(packet, src, B, { verifyChecksum: (mode & 8) === 0 });
          assert.equal(typeof repr.kind, "string");
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("parseIcmpv6Quote: next header, addresses and the bytes after the fixed header", () => {
  const q = new Uint8Array(40 + 12);
  q[0] = 0x60;
  q[6] = 17;
  Ipv6Address.parse("2001:db8::1").writeTo(q, 8);
  Ipv6Address.parse("2001:db8::2").writeTo(q, 24);
  q.set([0xc0, 0, 0, 53], 40);
  const quote = parseIcmpv6Quote(q);
  assert.equal(quote.nextHeader, 17);
  assert.equal(quote.src.toString(), "2001:db8::1");
  assert.equal(quote.dst.toString(), "2001:db8::2");
  assert.deepEqual(quote.upper, q.subarray(40));
});

Deno.test("parseIcmpv6Quote: shorter than an IPv6 header, or not IPv6, is a WireError", () => {
  const short = new Uint8Array(39);
  short[0] = 0x60;
  assert.throws(() => parseIcmpv6Quote(short), WireError);
  const v4 = new Uint8Array(48);
  v4[0] = 0x45;
  assert.throws(() => parseIcmpv6Quote(v4), WireError);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    try {
      assert.equal(parseIcmpv6Quote(b).upper.length, b.length - 40);
    } catch (e) {
      assert.ok(e instanceof WireError);
    }
  }));
});
