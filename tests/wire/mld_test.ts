import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
  parseIcmpv6,
} from "../../src/wire/icmpv6.ts";
import {
  emitMld,
  type MldAddressRecord,
  mldBufferLen,
  mldMaxResponseDelay,
  mldQueryInterval,
  MldRecordType,
  type MldRepr,
  parseMld,
} from "../../src/wire/mld.ts";
import {
  hex,
  MLDV1_DONE,
  MLDV1_QUERY,
  MLDV1_REPORT,
  MLDV2_QUERY,
  MLDV2_REPORT_ALLOW,
  MLDV2_REPORT_DAD,
} from "./golden_b/kernel_frames.ts";
import { ipv6Parts } from "./golden_b/frame_parts.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const LL = Ipv6Address.parse("fe80::ff:fe00:b101");
const ALL_MLDV2 = Ipv6Address.LINK_LOCAL_ALL_MLDV2_ROUTERS;
const addr = (s: string) => Ipv6Address.parse(s);

/** The MLD message of a golden frame (after its hop-by-hop header), parsed through parseIcmpv6. */
function parseFrame(frame: Uint8Array) {
  const { src, dst, hopLimit, nextHeader, payload } = ipv6Parts(frame);
  assert.equal(nextHeader, 58);
  assert.equal(hopLimit, 1);
  assert.equal(frame[14 + 6], 0); // RFC 3810 §5: sent with a hop-by-hop router alert
  const repr = parseIcmpv6(Icmpv6Packet.newChecked(payload), src, dst);
  assert.ok(repr.kind === "mld");
  return { repr: repr.repr, src, dst, message: payload };
}

function emit(repr: MldRepr, src = LL, dst = ALL_MLDV2): Uint8Array {
  const icmp: Icmpv6Repr = { kind: "mld", repr };
  const packet = new Icmpv6Packet(new Uint8Array(icmpv6BufferLen(icmp)));
  emitIcmpv6(icmp, packet, src, dst);
  return packet.buffer;
}

/** Parses `bytes` as an MLD message after fixing its checksum. */
function parse(bytes: Uint8Array): MldRepr {
  const packet = new Icmpv6Packet(bytes);
  packet.fillChecksum(LL, ALL_MLDV2);
  const repr = parseIcmpv6(packet, LL, ALL_MLDV2);
  assert.ok(repr.kind === "mld");
  return repr.repr;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.field === field);
}

// Emitted by smolnet and checked with `tshark -V` (Wireshark 4.0.17), fe80::ff:fe00:b202 to
// ff02::1: maximum response code 0x8123 (35096 ms), S flag, QRV 3, QQIC 0x90 (256 s), 2 sources.
const QUERY_V2_GOLDEN = hex(
  "8200677e 8123 0000 ff3e0000000000000000000080000001 0b 90 0002" +
    "20010db8000b00000000000000000002 20010db8000b00000000000000000003",
);

Deno.test("Icmpv6Packet parses the kernel's MLDv2 report sent from :: during DAD", () => {
  const { repr, src, dst, message } = parseFrame(MLDV2_REPORT_DAD);
  assert.ok(src.isUnspecified && dst.equals(ALL_MLDV2));
  const join = (group: string): MldAddressRecord => ({
    recordType: MldRecordType.ChangeToExclude,
    group: addr(group),
    sources: [],
  });
  assert.deepEqual(repr, {
    kind: "reportV2",
    records: [join("ff02::1:ff00:b202"), join("ff02::1:ff00:2"), join("ff05::2"), join("ff02::2")],
  });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's MLDv2 report allowing one source", () => {
  const { repr, src, dst, message } = parseFrame(MLDV2_REPORT_ALLOW);
  assert.deepEqual(repr, {
    kind: "reportV2",
    records: [{
      recordType: MldRecordType.AllowNewSources,
      group: addr("ff3e::8000:1"),
      sources: [addr("2001:db8:b::2")],
    }],
  });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's MLDv1 report and done", () => {
  const report = parseFrame(MLDV1_REPORT);
  assert.deepEqual(report.repr, { kind: "report", group: addr("ff05::1:3") });
  assert.ok(report.dst.equals(addr("ff05::1:3")));
  assert.deepEqual(emit(report.repr, report.src, report.dst), report.message);
  const done = parseFrame(MLDV1_DONE);
  assert.deepEqual(done.repr, { kind: "done", group: addr("ff05::1:3") });
  assert.ok(done.dst.equals(Ipv6Address.LINK_LOCAL_ALL_ROUTERS));
  assert.deepEqual(emit(done.repr, done.src, done.dst), done.message);
});

Deno.test("Icmpv6Packet parses the Linux bridge's MLDv2 general query", () => {
  const { repr, src, dst, message } = parseFrame(MLDV2_QUERY);
  assert.deepEqual(repr, {
    kind: "queryV2",
    maxResponseCode: 10000,
    group: Ipv6Address.UNSPECIFIED,
    suppressRouterSide: false,
    robustness: 2,
    queryIntervalCode: 125,
    sources: [],
  });
  assert.equal(mldMaxResponseDelay(10000), 10000);
  assert.equal(mldQueryInterval(125), 125);
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the Linux bridge's MLDv1 general query", () => {
  const { repr, src, dst, message } = parseFrame(MLDV1_QUERY);
  assert.deepEqual(repr, {
    kind: "query",
    maxResponseDelay: 10000,
    group: Ipv6Address.UNSPECIFIED,
  });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("emitIcmpv6 writes an MLDv2 group-and-source-specific query", () => {
  const repr: MldRepr = {
    kind: "queryV2",
    maxResponseCode: 0x8123,
    group: addr("ff3e::8000:1"),
    suppressRouterSide: true,
    robustness: 3,
    queryIntervalCode: 0x90,
    sources: [addr("2001:db8:b::2"), addr("2001:db8:b::3")],
  };
  const src = addr("fe80::ff:fe00:b202");
  assert.deepEqual(emit(repr, src, Ipv6Address.LINK_LOCAL_ALL_NODES), QUERY_V2_GOLDEN);
  assert.equal(mldMaxResponseDelay(repr.maxResponseCode), 35096);
  assert.equal(mldQueryInterval(repr.queryIntervalCode), 256);
});

Deno.test("mldMaxResponseDelay and mldQueryInterval decode the floating-point forms", () => {
  assert.equal(mldMaxResponseDelay(0), 0);
  assert.equal(mldMaxResponseDelay(0x7fff), 32767);
  assert.equal(mldMaxResponseDelay(0x8000), 32768);
  assert.equal(mldMaxResponseDelay(0xffff), 0x1fff << 10);
  assert.equal(mldQueryInterval(0x7f), 127);
  assert.equal(mldQueryInterval(0x80), 128);
  assert.equal(mldQueryInterval(0xff), 0x1f << 10);
});

Deno.test("Icmpv6Packet rejects an MLD query of 25 to 27 bytes", () => {
  for (const len of [25, 26, 27]) {
    const b = new Uint8Array(len);
    b[0] = 130;
    rejects(() => parse(b), "mld.length");
  }
});

Deno.test("Icmpv6Packet rejects truncated MLD messages", () => {
  for (const type of [130, 131, 132]) {
    const b = new Uint8Array(23);
    b[0] = type;
    rejects(() => parse(b), "mld.length");
  }
});

Deno.test("Icmpv6Packet rejects an MLDv2 query whose sources run past the message", () => {
  const b = QUERY_V2_GOLDEN.slice(0, QUERY_V2_GOLDEN.length - 1);
  rejects(() => parse(b), "mld.numSources");
});

Deno.test("Icmpv6Packet rejects an MLDv2 report whose records run past the message", () => {
  // Says two records, holds one.
  const one = "04 00 0000 ff020000000000000000000000000002";
  rejects(() => parse(hex(`8f 00 0000 0000 0002 ${one}`)), "mld.numRecords");
  // A record claiming one source with none present.
  rejects(
    () => parse(hex("8f 00 0000 0000 0001 04 00 0001 ff020000000000000000000000000002")),
    "mld.numSources",
  );
  // Auxiliary data (1 word) that is missing.
  rejects(
    () => parse(hex(`8f 00 0000 0000 0001 04 01 0000 ff020000000000000000000000000002`)),
    "mld.numSources",
  );
});

Deno.test("Icmpv6Packet skips auxiliary data and additional data in MLDv2 messages", () => {
  const record = (group: string, aux: string) =>
    `02 ${(aux.length / 8).toString(16).padStart(2, "0")} 0000 ${group} ${aux}`;
  const report = hex(
    `8f 00 0000 0000 0002 ${record("ff020000000000000000000000000002", "aabbccdd")} ` +
      `${record("ff050000000000000000000000000002", "")} eeeeeeee`,
  );
  assert.deepEqual(parse(report), {
    kind: "reportV2",
    records: [
      { recordType: MldRecordType.ModeIsExclude, group: addr("ff02::2"), sources: [] },
      { recordType: MldRecordType.ModeIsExclude, group: addr("ff05::2"), sources: [] },
    ],
  });
  const query = new Uint8Array(QUERY_V2_GOLDEN.length + 4);
  query.set(QUERY_V2_GOLDEN);
  const repr = parse(query);
  assert.ok(repr.kind === "queryV2");
  assert.equal(repr.sources.length, 2);
});

Deno.test("Icmpv6Packet ignores the code and reserved fields of MLD messages", () => {
  const done = hex("84 07 0000 1234 ffff ff050000000000000000000000010003");
  assert.deepEqual(parse(done), { kind: "done", group: addr("ff05::1:3") });
});

Deno.test("parseMld rejects ICMPv6 types that are not MLD", () => {
  rejects(() => parseMld(new Icmpv6Packet(new Uint8Array(24))), "mld.type");
});

Deno.test("emitMld rejects a short buffer", () => {
  const repr: MldRepr = { kind: "report", group: addr("ff05::1:3") };
  assert.equal(mldBufferLen(repr), 24);
  assert.throws(() => emitMld(repr, new Icmpv6Packet(new Uint8Array(23))), RangeError);
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Ipv6Address(a, b, c, d));
const record: fc.Arbitrary<MldAddressRecord> = fc.record({
  recordType: u8,
  group: ipv6,
  sources: fc.array(ipv6, { maxLength: 4 }),
});

const mldRepr: fc.Arbitrary<MldRepr> = fc.oneof(
  fc.record({ kind: fc.constant("query" as const), maxResponseDelay: u16, group: ipv6 }),
  fc.record({ kind: fc.constantFrom("report" as const, "done" as const), group: ipv6 }),
  fc.record({
    kind: fc.constant("queryV2" as const),
    maxResponseCode: u16,
    group: ipv6,
    suppressRouterSide: fc.boolean(),
    robustness: fc.integer({ min: 0, max: 7 }),
    queryIntervalCode: u8,
    sources: fc.array(ipv6, { maxLength: 5 }),
  }),
  fc.record({
    kind: fc.constant("reportV2" as const),
    records: fc.array(record, { maxLength: 4 }),
  }),
);

Deno.test("parseIcmpv6 gives back the MLD message emitIcmpv6 wrote, for every kind", () => {
  fc.assert(
    fc.property(mldRepr, ipv6, ipv6, (repr, src, dst) => {
      const out = emit(repr, src, dst);
      assert.equal(out.length, mldBufferLen(repr));
      assert.deepEqual(parseIcmpv6(Icmpv6Packet.newChecked(out), src, dst), { kind: "mld", repr });
    }),
    { numRuns: 3000 },
  );
});

/** Raw MLD messages: random bodies around the interesting lengths, with small counts. */
const rawMessage = fc.tuple(
  fc.constantFrom(130, 131, 132, 143),
  fc.uint8Array({ maxLength: 120 }),
  fc.integer({ min: 0, max: 255 }),
).map(([type, body, mode]) => {
  const b = new Uint8Array(4 + body.length);
  b.set(body, 4);
  b[0] = type;
  b[1] = mode & 3;
  if ((mode & 4) !== 0 && b.length >= 28) {
    b[26] = 0; // query: few sources
    b[27] = mode >> 5;
  }
  if ((mode & 8) !== 0 && b.length >= 8) {
    b[6] = 0; // report: few records, each with few sources and little aux data
    b[7] = mode >> 6;
    for (let o = 8; o + 4 <= b.length; o += 36) {
      b[o + 1] = b[o + 1]! & 1;
      b[o + 2] = 0;
      b[o + 3] = b[o + 3]! & 1;
    }
  }
  return b;
});

Deno.test("parseIcmpv6 returns a repr or throws WireError for any MLD bytes", () => {
  fc.assert(
    fc.property(rawMessage, fc.boolean(), (bytes, fix) => {
      const packet = new Icmpv6Packet(bytes);
      if (fix) packet.fillChecksum(LL, ALL_MLDV2);
      try {
        const repr = parseIcmpv6(packet, LL, ALL_MLDV2);
        assert.equal(typeof repr.kind, "string");
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: RUNS },
  );
});
