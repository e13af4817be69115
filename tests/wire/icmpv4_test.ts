import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitIcmpv4,
  ICMPV4_ERROR_MAX_LEN,
  ICMPV4_HEADER_LEN,
  icmpv4BufferLen,
  icmpv4ErrorQuoteLen,
  Icmpv4Packet,
  Icmpv4ParamProblemCode,
  Icmpv4RedirectCode,
  type Icmpv4Repr,
  Icmpv4TimeExceededCode,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  parseIcmpv4,
  parseIcmpv4Quote,
} from "../../src/wire/icmpv4.ts";
import {
  hex,
  ICMPV4_ECHO_REPLY,
  ICMPV4_ECHO_REQUEST,
  ICMPV4_FRAG_REQUIRED,
  ICMPV4_HOST_UNREACHABLE,
  ICMPV4_PARAM_PROBLEM,
  ICMPV4_PORT_UNREACHABLE,
  ICMPV4_PROTO_UNREACHABLE,
  ICMPV4_REDIRECT,
  ICMPV4_TIME_EXCEEDED,
  UDP4,
} from "./golden_b/kernel_frames.ts";
import { ipv4Parts } from "./golden_b/frame_parts.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

/** The ICMP message of a golden frame, parsed. */
function parseFrame(frame: Uint8Array): { repr: Icmpv4Repr; message: Uint8Array } {
  const { protocol, payload } = ipv4Parts(frame);
  assert.equal(protocol, 1);
  return { repr: parseIcmpv4(Icmpv4Packet.newChecked(payload)), message: payload };
}

function emit(repr: Icmpv4Repr): Uint8Array {
  const packet = new Icmpv4Packet(new Uint8Array(icmpv4BufferLen(repr)));
  emitIcmpv4(repr, packet);
  return packet.buffer;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.field === field);
}

/** A correct checksum for `bytes`, written in place. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  new Icmpv4Packet(bytes).fillChecksum();
  return bytes;
}

const PING_DATA = ipv4Parts(ICMPV4_ECHO_REQUEST).payload.subarray(8);

Deno.test("Icmpv4Packet parses the kernel's echo request and re-emits it byte for byte", () => {
  const { repr, message } = parseFrame(ICMPV4_ECHO_REQUEST);
  assert.equal(repr.kind, "echoRequest");
  assert.ok(repr.kind === "echoRequest");
  assert.equal(repr.seqNo, 1);
  assert.equal(repr.data.length, 56);
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's echo reply with the request's identifier and data", () => {
  const req = parseFrame(ICMPV4_ECHO_REQUEST).repr;
  const { repr, message } = parseFrame(ICMPV4_ECHO_REPLY);
  assert.ok(req.kind === "echoRequest" && repr.kind === "echoReply");
  assert.equal(repr.ident, req.ident);
  assert.deepEqual(repr.data, PING_DATA);
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's port unreachable quoting the UDP datagram", () => {
  const { repr, message } = parseFrame(ICMPV4_PORT_UNREACHABLE);
  assert.ok(repr.kind === "dstUnreachable");
  assert.equal(repr.code, Icmpv4UnreachableCode.PortUnreachable);
  assert.equal(repr.nextHopMtu, 0);
  // The kernel quotes the whole (short) invoking packet, with the TTL it arrived with.
  assert.deepEqual(repr.data, UDP4.subarray(14));
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's fragmentation-needed with next-hop MTU 1000", () => {
  const { repr, message } = parseFrame(ICMPV4_FRAG_REQUIRED);
  assert.ok(repr.kind === "dstUnreachable");
  assert.equal(repr.code, Icmpv4UnreachableCode.FragRequired);
  assert.equal(repr.nextHopMtu, 1000);
  // The error datagram is exactly 576 bytes: Linux applies the same bound as icmpv4ErrorQuoteLen.
  assert.equal(ICMPV4_FRAG_REQUIRED.length - 14, ICMPV4_ERROR_MAX_LEN);
  assert.equal(repr.data.length, icmpv4ErrorQuoteLen(1228));
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's host and protocol unreachable", () => {
  const host = parseFrame(ICMPV4_HOST_UNREACHABLE);
  assert.ok(host.repr.kind === "dstUnreachable");
  assert.equal(host.repr.code, Icmpv4UnreachableCode.HostUnreachable);
  assert.deepEqual(emit(host.repr), host.message);
  const proto = parseFrame(ICMPV4_PROTO_UNREACHABLE);
  assert.ok(proto.repr.kind === "dstUnreachable");
  assert.equal(proto.repr.code, Icmpv4UnreachableCode.ProtoUnreachable);
  assert.equal(proto.repr.data[9], 253);
  assert.deepEqual(emit(proto.repr), proto.message);
});

Deno.test("Icmpv4Packet parses the kernel's time exceeded in transit", () => {
  const { repr, message } = parseFrame(ICMPV4_TIME_EXCEEDED);
  assert.ok(repr.kind === "timeExceeded");
  assert.equal(repr.code, Icmpv4TimeExceededCode.TtlExpired);
  assert.equal(repr.data[8], 1); // the quoted TTL
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's parameter problem with pointer 22", () => {
  const { repr, message } = parseFrame(ICMPV4_PARAM_PROBLEM);
  assert.ok(repr.kind === "paramProblem");
  assert.equal(repr.code, Icmpv4ParamProblemCode.PointerIndicatesError);
  assert.equal(repr.pointer, 22);
  // A 24-byte header with options and 4 payload bytes: the whole invoking packet.
  assert.equal(repr.data.length, 28);
  assert.equal(repr.data[0], 0x46);
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet parses the kernel's host redirect and its gateway", () => {
  const { repr, message } = parseFrame(ICMPV4_REDIRECT);
  assert.ok(repr.kind === "redirect");
  assert.equal(repr.code, Icmpv4RedirectCode.Host);
  assert.ok(repr.gateway.equals(Ipv4Address.parse("198.51.100.100")));
  assert.deepEqual(emit(repr), message);
});

Deno.test("Icmpv4Packet keeps an unknown type as other, including its header bytes", () => {
  // Timestamp request (RFC 792): identifier 0x1234, sequence 1, three timestamps.
  const golden = hex("0d00 e066 1234 0001 00000064 00000000 00000000");
  const repr = parseIcmpv4(new Icmpv4Packet(golden));
  assert.deepEqual(repr, {
    kind: "other",
    type: Icmpv4Type.Timestamp,
    code: 0,
    data: golden.subarray(4),
  });
  assert.deepEqual(emit(repr), golden);
});

Deno.test("Icmpv4Packet keeps an echo request with a non-zero code as other", () => {
  const bytes = fixChecksum(hex("0807 0000 0001 0002 aa"));
  const repr = parseIcmpv4(new Icmpv4Packet(bytes));
  assert.equal(repr.kind, "other");
  assert.deepEqual(emit(repr), bytes);
});

Deno.test("Icmpv4Packet accessors read and write every field", () => {
  const p = new Icmpv4Packet(new Uint8Array(8));
  p.msgType = 3;
  p.msgCode = 4;
  p.checksum = 0xbeef;
  p.nextHopMtu = 1280;
  assert.deepEqual(p.buffer, hex("0304 beef 0000 0500"));
  p.echoIdent = 0x0102;
  p.echoSeqNo = 0x0304;
  assert.equal(p.gateway, 0x01020304);
  p.gateway = 0xc6336464;
  assert.deepEqual([p.pointer, p.echoIdent, p.echoSeqNo], [0xc6, 0xc633, 0x6464]);
  p.pointer = 9;
  assert.equal(p.buffer[4], 9);
  assert.deepEqual(new Icmpv4Packet(hex("0800 0000 0000 0000 0102")).data, hex("0102"));
});

Deno.test("Icmpv4Packet rejects a message shorter than 8 bytes", () => {
  rejects(() => Icmpv4Packet.newChecked(new Uint8Array(7)), "icmpv4.length");
  rejects(() => parseIcmpv4(new Icmpv4Packet(hex("0000ffff"))), "icmpv4.length");
});

Deno.test("Icmpv4Packet rejects a wrong checksum unless verification is off", () => {
  const bytes = ipv4Parts(ICMPV4_ECHO_REQUEST).payload.slice();
  bytes[20]! ^= 0xff;
  rejects(() => parseIcmpv4(new Icmpv4Packet(bytes)), "icmpv4.checksum");
  assert.equal(parseIcmpv4(new Icmpv4Packet(bytes), { verifyChecksum: false }).kind, "echoRequest");
});

Deno.test("Icmpv4Packet rejects an error whose quote is shorter than an IPv4 header", () => {
  const bytes = fixChecksum(new Uint8Array(8 + 19));
  bytes[0] = Icmpv4Type.DstUnreachable;
  bytes[8] = 0x45;
  fixChecksum(bytes);
  rejects(() => parseIcmpv4(new Icmpv4Packet(bytes)), "icmpv4.data");
});

Deno.test("Icmpv4Packet rejects an error quoting something that is not IPv4", () => {
  for (const first of [0x65, 0x44, 0x4f]) {
    const bytes = new Uint8Array(8 + 40);
    bytes[0] = Icmpv4Type.TimeExceeded;
    bytes[8] = first; // version 6; IHL 4 (too small); IHL 15 (60 bytes, past the quote)
    rejects(() => parseIcmpv4(new Icmpv4Packet(fixChecksum(bytes))), "icmpv4.data");
  }
});

Deno.test("emitIcmpv4 zeroes unused header bytes and rejects a short buffer", () => {
  const packet = new Icmpv4Packet(new Uint8Array(8 + 20).fill(0xee));
  const quote = new Uint8Array(20);
  quote[0] = 0x45;
  emitIcmpv4({ kind: "timeExceeded", code: 1, data: quote }, packet);
  assert.deepEqual(packet.buffer.subarray(4, 8), new Uint8Array(4));
  assert.ok(packet.verifyChecksum());
  assert.throws(
    () =>
      emitIcmpv4(
        { kind: "timeExceeded", code: 1, data: quote },
        new Icmpv4Packet(new Uint8Array(27)),
      ),
    RangeError,
  );
  assert.throws(
    () => emit({ kind: "other", type: 42, code: 0, data: new Uint8Array(3) }),
    RangeError,
  );
});

Deno.test("emitIcmpv4 with fillChecksum false leaves the checksum zero", () => {
  const repr: Icmpv4Repr = { kind: "echoReply", ident: 9, seqNo: 9, data: hex("01") };
  const packet = new Icmpv4Packet(new Uint8Array(icmpv4BufferLen(repr)));
  emitIcmpv4(repr, packet, { fillChecksum: false });
  assert.equal(packet.checksum, 0);
  assert.deepEqual(parseIcmpv4(packet, { verifyChecksum: false }), repr);
});

Deno.test("icmpv4ErrorQuoteLen keeps the error datagram within 576 bytes and the MTU", () => {
  assert.equal(ICMPV4_HEADER_LEN, 8);
  assert.equal(icmpv4ErrorQuoteLen(28), 28);
  assert.equal(icmpv4ErrorQuoteLen(548), 548);
  assert.equal(icmpv4ErrorQuoteLen(549), 548);
  assert.equal(icmpv4ErrorQuoteLen(65535), 548);
  assert.equal(icmpv4ErrorQuoteLen(1500, 1500), 548);
  assert.equal(icmpv4ErrorQuoteLen(1500, 68), 40);
  assert.equal(icmpv4ErrorQuoteLen(100, 20), 0);
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
/** A quote that starts with a plausible IPv4 header (version 4, IHL 5–15, all of it present). */
const quote = fc.tuple(fc.integer({ min: 5, max: 15 }), bytes(600), bytes(40)).map(
  ([ihl, rest, more]) => {
    const q = new Uint8Array(ihl * 4 + more.length);
    q.set(rest.subarray(0, q.length));
    q.set(more, ihl * 4);
    q[0] = 0x40 | ihl;
    return q;
  },
);
const KNOWN = new Set<number>([0, 3, 5, 8, 11, 12]);

const icmpv4Repr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("echoRequest" as const, "echoReply" as const),
    ident: u16,
    seqNo: u16,
    data: bytes(200),
  }),
  fc.record({
    kind: fc.constant("dstUnreachable" as const),
    code: u8,
    nextHopMtu: u16,
    data: quote,
  }),
  fc.record({
    kind: fc.constant("redirect" as const),
    code: u8,
    gateway: fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v)),
    data: quote,
  }),
  fc.record({ kind: fc.constant("timeExceeded" as const), code: u8, data: quote }),
  fc.record({ kind: fc.constant("paramProblem" as const), code: u8, pointer: u8, data: quote }),
  fc.record({
    kind: fc.constant("other" as const),
    type: u8.filter((t) => !KNOWN.has(t)),
    code: u8,
    data: fc.uint8Array({ minLength: 4, maxLength: 100 }),
  }),
);

Deno.test("parseIcmpv4 gives back what emitIcmpv4 wrote, for every kind", () => {
  fc.assert(
    fc.property(icmpv4Repr, (repr) => {
      const out = emit(repr);
      assert.equal(out.length, icmpv4BufferLen(repr));
      assert.deepEqual(parseIcmpv4(Icmpv4Packet.newChecked(out)), repr);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("parseIcmpv4 returns a repr or throws WireError for any bytes", () => {
  const TYPES = [0, 3, 5, 8, 11, 12, 13];
  fc.assert(
    fc.property(bytes(64), fc.integer({ min: 0, max: 31 }), (input, mode) => {
      if (input.length >= 9) {
        // Steer most inputs to known types with a plausible quote, and fix up the checksum.
        if ((mode & 1) !== 0) input[0] = TYPES[mode % TYPES.length]!;
        if ((mode & 2) !== 0) input[8] = 0x40 | (input[8]! & 0x0f);
        if ((mode & 4) !== 0) fixChecksum(input);
      }
      try {
        const repr = parseIcmpv4(new Icmpv4Packet(input), { verifyChecksum: (mode & 8) === 0 });
        assert.equal(typeof repr.kind, "string");
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("parseIcmpv4Quote: protocol, addresses and the bytes after a header with options", () => {
  const q = new Uint8Array(24 + 8);
  q.set([0x46, 0, 0, 32, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7]);
  q.set([1, 1, 0, 0], 20); // 4 bytes of IPv4 options (NOPs and padding)
  q.set([0xc0, 0x00, 0x00, 0x50, 0, 0, 0x12, 0x34], 24); // TCP 49152 -> 80, seq 0x1234
  const quote = parseIcmpv4Quote(q);
  assert.equal(quote.protocol, 6);
  assert.equal(quote.src.toString(), "192.0.2.1");
  assert.equal(quote.dst.toString(), "198.51.100.7");
  assert.deepEqual(quote.upper, q.subarray(24));
});

Deno.test("parseIcmpv4Quote: fewer than 8 bytes after the quoted header, or not IPv4, is a WireError", () => {
  const q = new Uint8Array(27);
  q[0] = 0x45;
  assert.throws(() => parseIcmpv4Quote(q), WireError);
  const v6 = new Uint8Array(28);
  v6[0] = 0x60;
  assert.throws(() => parseIcmpv4Quote(v6), WireError);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    try {
      const quote = parseIcmpv4Quote(b);
      assert.ok(quote.upper.length >= 8);
    } catch (e) {
      assert.ok(e instanceof WireError);
    }
  }));
});
