import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  dnsBufferLen,
  DnsClass,
  dnsNameEquals,
  DnsPacket,
  DnsRcode,
  type DnsRdata,
  type DnsRecord,
  type DnsRepr,
  DnsType,
  emitDns,
  parseDns,
} from "../../src/wire/dns.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

function hex(s: string): Uint8Array {
  return Uint8Array.from((s.match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

// Captured from dnsmasq 2.90 in a network namespace (loopback only), queried by python3:
//   dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
//     --host-record=host.example.net,192.0.2.10,2001:db8::10 \
//     --cname=www.example.net,host.example.net --local=/example.net/
// The queries are python3's bytes (id 0x1234.., RD); the responses are dnsmasq's, with
// compression pointers in owner names and in the A/AAAA owner (pointing into CNAME rdata).
const QUERY_A = hex("12340100000100000000000003777777076578616d706c65036e65740000010001");
const RESPONSE_A = hex(
  "12348580000100020000000003777777076578616d706c65036e65740000010001c00c00050001000000000012" +
    "04686f7374076578616d706c65036e657400c02d00010001000000000004c000020a",
);
const RESPONSE_AAAA = hex(
  "12358580000100020000000003777777076578616d706c65036e657400001c0001c00c00050001000000000012" +
    "04686f7374076578616d706c65036e657400c02d001c000100000000001020010db8000000000000000000000010",
);
const RESPONSE_NXDOMAIN = hex(
  "123681830001000000000000046e6f7065076578616d706c65036e65740000010001",
);

const QUERY_REPR: DnsRepr = {
  id: 0x1234,
  qr: false,
  opcode: 0,
  aa: false,
  tc: false,
  rd: true,
  ra: false,
  rcode: 0,
  questions: [{ name: "www.example.net", type: DnsType.A, class: DnsClass.IN }],
  answers: [],
  authorities: [],
  additionals: [],
};

function emitted(repr: DnsRepr): Uint8Array {
  const packet = new DnsPacket(new Uint8Array(dnsBufferLen(repr)));
  emitDns(repr, packet);
  return packet.buffer;
}

function rejects(bytes: Uint8Array, field: string): void {
  assert.throws(
    () => parseDns(new DnsPacket(bytes)),
    (e: unknown) => e instanceof WireError && e.field === field,
  );
}

Deno.test("parseDns reads python3's A query", () => {
  assert.deepEqual(parseDns(DnsPacket.newChecked(QUERY_A)), QUERY_REPR);
});

Deno.test("emitDns writes python3's A query byte for byte", () => {
  assert.deepEqual(emitted(QUERY_REPR), QUERY_A);
});

Deno.test("parseDns follows dnsmasq's compression pointers in a CNAME + A response", () => {
  const p = DnsPacket.newChecked(RESPONSE_A);
  assert.equal(p.qr, true);
  assert.equal(p.aa, true);
  assert.equal(p.rd, true);
  assert.equal(p.ra, true);
  assert.equal(p.tc, false);
  assert.equal(p.rcode, DnsRcode.NoError);
  const r = parseDns(p);
  assert.equal(r.id, 0x1234);
  assert.deepEqual(r.questions, [{ name: "www.example.net", type: 1, class: 1 }]);
  assert.deepEqual(r.answers, [
    {
      name: "www.example.net",
      type: DnsType.CNAME,
      class: 1,
      ttl: 0,
      data: { kind: "cname", name: "host.example.net" },
    },
    {
      name: "host.example.net",
      type: DnsType.A,
      class: 1,
      ttl: 0,
      data: { kind: "a", address: Ipv4Address.parse("192.0.2.10") },
    },
  ]);
  assert.deepEqual([r.authorities, r.additionals], [[], []]);
});

Deno.test("parseDns reads dnsmasq's CNAME + AAAA response", () => {
  const r = parseDns(new DnsPacket(RESPONSE_AAAA));
  assert.equal(r.answers.length, 2);
  const aaaa = r.answers[1]!;
  assert.equal(aaaa.name, "host.example.net");
  assert.deepEqual(aaaa.data, { kind: "aaaa", address: Ipv6Address.parse("2001:db8::10") });
});

Deno.test("parseDns reads dnsmasq's NXDOMAIN response", () => {
  const r = parseDns(new DnsPacket(RESPONSE_NXDOMAIN));
  assert.equal(r.rcode, DnsRcode.NXDomain);
  assert.equal(r.aa, false);
  assert.deepEqual(r.questions, [{ name: "nope.example.net", type: 1, class: 1 }]);
  assert.equal(r.answers.length, 0);
});

Deno.test("emitDns of a parsed compressed response parses back to the same message", () => {
  for (const bytes of [RESPONSE_A, RESPONSE_AAAA, RESPONSE_NXDOMAIN]) {
    const repr = parseDns(new DnsPacket(bytes));
    const out = emitted(repr);
    assert.ok(out.length >= bytes.length);
    assert.deepEqual(parseDns(new DnsPacket(out)), repr);
  }
});

Deno.test("parseDns keeps unknown record types as raw rdata with their type", () => {
  const repr: DnsRepr = {
    ...QUERY_REPR,
    qr: true,
    additionals: [
      { name: "", type: DnsType.OPT, class: 1232, ttl: 0, data: { kind: "raw", bytes: hex("") } },
      {
        name: "example.net",
        type: DnsType.TXT,
        class: 1,
        ttl: 0xffffffff,
        data: { kind: "raw", bytes: hex("026869") },
      },
      {
        name: "x",
        type: DnsType.A,
        class: DnsClass.CH,
        ttl: 5,
        data: { kind: "raw", bytes: hex("00") },
      },
    ],
  };
  assert.deepEqual(parseDns(new DnsPacket(emitted(repr))), repr);
});

Deno.test("parseDns escapes dots, backslashes and non-printable bytes in labels", () => {
  const bytes = hex("0000000000010000000000000461 2e5c 00 0000010001".replaceAll(" ", ""));
  const r = parseDns(new DnsPacket(bytes));
  assert.equal(r.questions[0]!.name, "a\\.\\\\\\000");
  assert.deepEqual(emitted(r), bytes);
});

Deno.test("parseDns rejects a header shorter than 12 bytes", () => {
  rejects(new Uint8Array(11), "dns.length");
});

Deno.test("parseDns rejects counts that cannot fit the buffer", () => {
  const b = QUERY_A.slice();
  b[5] = 9; // qdcount 9
  rejects(b, "dns.qdcount");
  const c = QUERY_A.slice();
  c[6] = 0xff; // ancount 65280
  rejects(c, "dns.ancount");
});

Deno.test("parseDns rejects a truncated question and a truncated record", () => {
  rejects(QUERY_A.subarray(0, QUERY_A.length - 1), "dns.question");
  rejects(RESPONSE_A.subarray(0, RESPONSE_A.length - 2), "dns.rdlength");
  rejects(RESPONSE_A.subarray(0, 40), "dns.record");
  rejects(RESPONSE_A.subarray(0, 50), "dns.rdlength");
  rejects(QUERY_A.subarray(0, 20), "dns.label");
});

Deno.test("parseDns rejects reserved label types 0x40 and 0x80", () => {
  for (const t of [0x40, 0x7f, 0x80, 0xbf]) {
    const b = QUERY_A.slice();
    b[12] = t;
    rejects(b, "dns.label");
  }
});

Deno.test("parseDns rejects a name longer than 255 bytes", () => {
  const labels = Array.from({ length: 5 }, () => "3f" + "61".repeat(63)).join("");
  rejects(hex("000000000001000000000000" + labels + "000001" + "0001"), "dns.name");
});

Deno.test("parseDns rejects pointer loops and forward pointers", () => {
  rejects(hex("000000000001000000000000c00c00010001"), "dns.pointer"); // points at itself
  rejects(hex("000000000001000000000000c01000010001"), "dns.pointer"); // forward
  rejects(hex("0000000000010000000000000161c00e00010001"), "dns.pointer"); // into its own label
  rejects(hex("00000000000100000000000001610162c0"), "dns.pointer"); // truncated pointer
});

Deno.test("parseDns rejects A and AAAA rdata of the wrong length", () => {
  const b = RESPONSE_A.slice(0, RESPONSE_A.length - 1);
  b[b.length - 5] = 3; // rdlength 3
  rejects(b, "dns.rdlength");
  const c = RESPONSE_AAAA.slice(0, RESPONSE_AAAA.length - 1);
  c[c.length - 16] = 15;
  rejects(c, "dns.rdlength");
});

Deno.test("parseDns rejects CNAME rdata longer than its name", () => {
  const b = new Uint8Array([...RESPONSE_A.subarray(0, 45), 0, 0]);
  // Keep just the CNAME: ancount 1, rdlength 2 holding the root name and one extra byte.
  b[7] = 1;
  b[43] = 0;
  b[44] = 2;
  rejects(b, "dns.rdlength");
});

Deno.test("emitDns rejects malformed names and mismatched data", () => {
  const q = (name: string) => ({ ...QUERY_REPR, questions: [{ name, type: 1, class: 1 }] });
  assert.throws(() => dnsBufferLen(q("a".repeat(64) + ".net")), RangeError);
  assert.throws(() => dnsBufferLen(q("a..net")), RangeError);
  assert.throws(() => dnsBufferLen(q(Array(128).fill("a").join("."))), RangeError);
  assert.throws(() => dnsBufferLen(q("bad\\1")), RangeError);
  const rr = (data: DnsRdata, type: number): DnsRepr => ({
    ...QUERY_REPR,
    answers: [{ name: "a", type, class: 1, ttl: 0, data }],
  });
  assert.throws(
    () => emitted(rr({ kind: "a", address: Ipv4Address.parse("192.0.2.1") }, 28)),
    RangeError,
  );
  assert.throws(() => emitted(rr({ kind: "raw", bytes: new Uint8Array(4) }, 1)), RangeError);
  assert.throws(() => emitDns(QUERY_REPR, new DnsPacket(new Uint8Array(20))), RangeError);
  assert.throws(() => emitted({ ...QUERY_REPR, id: 0x10000 }), RangeError);
});

Deno.test("dnsNameEquals ignores ASCII case and one trailing dot", () => {
  assert.ok(dnsNameEquals("WWW.Example.NET", "www.example.net."));
  assert.ok(!dnsNameEquals("www.example.net", "www.example.org"));
  assert.ok(!dnsNameEquals("a\\.", "a"));
});

// --- properties ---------------------------------------------------------------------------

function escapeLabel(bytes: number[]): string {
  return bytes.map((c) =>
    c === 0x2e
      ? "\\."
      : c === 0x5c
      ? "\\\\"
      : c > 0x20 && c < 0x7f
      ? String.fromCharCode(c)
      : "\\" + String(c).padStart(3, "0")
  ).join("");
}

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((s) => [...s].map((c) => c.charCodeAt(0))),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 63 }),
);
const nameArb = fc.array(label, { maxLength: 6 })
  .filter((ls) => ls.reduce((n, l) => n + l.length + 1, 1) <= 255)
  .map((ls) => ls.map(escapeLabel).join("."));

const u16 = fc.integer({ min: 0, max: 0xffff });
const recordArb: fc.Arbitrary<DnsRecord> = fc.oneof(
  fc.record({
    name: nameArb,
    type: fc.constant(1),
    class: fc.constant(1),
    ttl: fc.nat({ max: 0xffffffff }),
    data: fc.integer({ min: 0, max: 0xffffffff }).map((v) => ({
      kind: "a" as const,
      address: new Ipv4Address(v),
    })),
  }),
  fc.record({
    name: nameArb,
    type: fc.constant(28),
    class: fc.constant(1),
    ttl: fc.nat({ max: 0xffffffff }),
    data: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ({
      kind: "aaaa" as const,
      address: Ipv6Address.fromBytes(b),
    })),
  }),
  fc.record({
    name: nameArb,
    type: fc.constant(5),
    class: u16,
    ttl: fc.nat({ max: 0xffffffff }),
    data: nameArb.map((name) => ({ kind: "cname" as const, name })),
  }),
  fc.record({
    name: nameArb,
    type: u16,
    class: u16,
    ttl: fc.nat({ max: 0xffffffff }),
    data: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ kind: "raw" as const, bytes })),
  }).filter((r) => r.type !== 5 && !(r.class === 1 && (r.type === 1 || r.type === 28))),
);

const reprArb: fc.Arbitrary<DnsRepr> = fc.record({
  id: u16,
  qr: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 15 }),
  aa: fc.boolean(),
  tc: fc.boolean(),
  rd: fc.boolean(),
  ra: fc.boolean(),
  rcode: fc.integer({ min: 0, max: 15 }),
  questions: fc.array(fc.record({ name: nameArb, type: u16, class: u16 }), { maxLength: 3 }),
  answers: fc.array(recordArb, { maxLength: 4 }),
  authorities: fc.array(recordArb, { maxLength: 2 }),
  additionals: fc.array(recordArb, { maxLength: 2 }),
});

Deno.test("emitDns then parseDns gives back any message", () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const bytes = emitted(repr);
      assert.equal(bytes.length, dnsBufferLen(repr));
      assert.deepEqual(parseDns(new DnsPacket(bytes)), repr);
    }),
    { numRuns: Math.max(100, Math.floor(RUNS / 50)) },
  );
});

Deno.test("parseDns of arbitrary bytes returns a message or throws WireError", () => {
  const seeds = [QUERY_A, RESPONSE_A, RESPONSE_AAAA, RESPONSE_NXDOMAIN];
  const mutated = fc.record({
    seed: fc.constantFrom(...seeds),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    cut: fc.nat(),
  }).map(({ seed, edits, cut }) => {
    const b = seed.slice(0, seed.length - (cut % 8));
    for (const [at, v] of edits) b[at % b.length] = v;
    return b;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 96 }), mutated), (bytes) => {
      try {
        const repr = parseDns(new DnsPacket(bytes));
        assert.ok(repr.questions.length <= 0xffff);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: RUNS },
  );
});
