import assert from "node:assert/strict";
import fc from "fast-check";
import { WireError } from "../../src/wire/error.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import {
  emitIpv6Fragment,
  emitIpv6Options,
  emitIpv6Routing,
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv6ExtHeader,
  Ipv6FragmentHeader,
  type Ipv6FragmentRepr,
  type Ipv6Option,
  Ipv6OptionAction,
  ipv6OptionAction,
  Ipv6OptionsHeader,
  ipv6OptionsHeaderLen,
  type Ipv6OptionsRepr,
  Ipv6OptionType,
  Ipv6RouterAlert,
  Ipv6RoutingHeader,
  ipv6RoutingHeaderLen,
  type Ipv6RoutingRepr,
  parseIpv6Fragment,
  parseIpv6Options,
  parseIpv6Routing,
} from "../../src/wire/ipv6_ext.ts";
import {
  fromHex,
  IPV6_FRAGMENT_FIRST,
  IPV6_FRAGMENT_LAST,
  IPV6_UDP_HBH_DSTOPTS,
  IPV6_UDP_SRH,
  MLD_REPORT_HBH,
} from "./golden/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

/** Ethernet (14) + IPv6 (40): where the first extension header starts in a kernel frame. */
const EXT = 54;
const MLD_HBH = MLD_REPORT_HBH.subarray(EXT, EXT + 8);
const UDP_HBH = IPV6_UDP_HBH_DSTOPTS.subarray(EXT, EXT + 8);
const UDP_DSTOPTS = IPV6_UDP_HBH_DSTOPTS.subarray(EXT + 8, EXT + 16);
const SRH = IPV6_UDP_SRH.subarray(EXT, EXT + 24);
const FRAG_FIRST = IPV6_FRAGMENT_FIRST.subarray(EXT, EXT + 8);
const FRAG_LAST = IPV6_FRAGMENT_LAST.subarray(EXT, EXT + 8);

const optionArb: fc.Arbitrary<Ipv6Option> = fc.oneof(
  fc.record({
    kind: fc.constant("routerAlert" as const),
    value: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({
    kind: fc.constant("unknown" as const),
    type: fc.integer({ min: 2, max: 255 }).filter((t) => t !== 5),
    data: fc.uint8Array({ maxLength: 40 }),
  }),
);
const optionsReprArb: fc.Arbitrary<Ipv6OptionsRepr> = fc.record({
  nextHeader: fc.integer({ min: 0, max: 255 }),
  options: fc.array(optionArb, { maxLength: 6 }),
});
const routingReprArb: fc.Arbitrary<Ipv6RoutingRepr> = fc.record({
  nextHeader: fc.integer({ min: 0, max: 255 }),
  routingType: fc.integer({ min: 0, max: 255 }),
  segmentsLeft: fc.integer({ min: 0, max: 255 }),
  data: fc.integer({ min: 0, max: 20 }).chain((units) =>
    fc.uint8Array({ minLength: 4 + 8 * units, maxLength: 4 + 8 * units })
  ),
});
const fragmentReprArb: fc.Arbitrary<Ipv6FragmentRepr> = fc.record({
  nextHeader: fc.integer({ min: 0, max: 255 }),
  fragOffset: fc.integer({ min: 0, max: 8191 }).map((u) => u * 8),
  moreFrags: fc.boolean(),
  ident: fc.integer({ min: 0, max: 0xffffffff }),
});

function expectWireError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

function emitOptions(repr: Ipv6OptionsRepr): Uint8Array {
  const b = new Uint8Array(ipv6OptionsHeaderLen(repr));
  emitIpv6Options(repr, new Ipv6OptionsHeader(b));
  return b;
}

Deno.test("parseIpv6Options reads the kernel's MLD Router Alert and drops its PadN", () => {
  const header = new Ipv6OptionsHeader(MLD_HBH);
  assert.equal(header.nextHeader, IpProtocol.Icmpv6);
  assert.equal(header.hdrExtLen, 0);
  assert.equal(header.headerLen, 8);
  assert.deepEqual(header.options, fromHex("0502 0000 0100"));
  assert.deepEqual(parseIpv6Options(header), {
    nextHeader: IpProtocol.Icmpv6,
    options: [{ kind: "routerAlert", value: Ipv6RouterAlert.Mld }],
  });
});

Deno.test("emitIpv6Options lays out options exactly as the kernel does", () => {
  for (const golden of [MLD_HBH, UDP_HBH, UDP_DSTOPTS]) {
    assert.deepEqual(emitOptions(parseIpv6Options(new Ipv6OptionsHeader(golden))), golden);
  }
});

Deno.test("parseIpv6Options keeps an unknown option with its type and data", () => {
  const repr = parseIpv6Options(new Ipv6OptionsHeader(UDP_DSTOPTS));
  assert.deepEqual(repr, {
    nextHeader: IpProtocol.Udp,
    options: [{ kind: "unknown", type: 0x1e, data: fromHex("deadbeef") }],
  });
  const opt = repr.options[0]!;
  assert.ok(opt.kind === "unknown");
  assert.equal(opt.data.buffer, IPV6_UDP_HBH_DSTOPTS.buffer, "data is a view");
});

Deno.test("parseIpv6Options skips Pad1 and PadN anywhere", () => {
  const b = fromHex("3a01 00 0100 00 0502 0001  0103 000000 0000");
  assert.deepEqual(parseIpv6Options(new Ipv6OptionsHeader(b)), {
    nextHeader: 58,
    options: [{ kind: "routerAlert", value: 1 }],
  });
});

Deno.test("emitIpv6Options aligns Router Alert at 2n and pads to 8", () => {
  const b = emitOptions({
    nextHeader: 17,
    options: [
      { kind: "unknown", type: 0x1e, data: fromHex("aa") },
      { kind: "routerAlert", value: Ipv6RouterAlert.Rsvp },
    ],
  });
  // 1e 01 aa | Pad1 | 05 02 00 01 | PadN(4 bytes of data)
  assert.deepEqual(b, fromHex("1101 1e01aa 00 05020001 0104 00000000"));
  assert.equal(ipv6OptionsHeaderLen({ nextHeader: 0, options: [] }), 8);
  assert.deepEqual(emitOptions({ nextHeader: 59, options: [] }), fromHex("3b00 0104 00000000"));
  // One byte short of 8: a single Pad1 finishes the header.
  const pad1 = emitOptions({
    nextHeader: 59,
    options: [{ kind: "unknown", type: 0x1e, data: fromHex("aabbcc") }],
  });
  assert.deepEqual(pad1, fromHex("3b00 1e03aabbcc 00"));
});

Deno.test("parseIpv6Options rejects an option that overruns its header", () => {
  assert.throws(() => parseIpv6Options(new Ipv6OptionsHeader(fromHex("3a00 1e05 00000000"))), (
    e: unknown,
  ) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv6opt.length");
    assert.equal(e.value, 5);
    return true;
  });
  // The type byte is the last byte of the header: its length byte is missing.
  assert.throws(
    () => parseIpv6Options(new Ipv6OptionsHeader(fromHex("3a00 0103 000000 1e"))),
    /option truncated/,
  );
});

Deno.test("parseIpv6Options rejects a Router Alert that is not 2 bytes", () => {
  assert.throws(
    () => parseIpv6Options(new Ipv6OptionsHeader(fromHex("3a00 0504 00000000"))),
    /Router Alert/,
  );
});

Deno.test("Ipv6OptionsHeader rejects a header longer than its buffer", () => {
  assert.throws(() => Ipv6OptionsHeader.newChecked(fromHex("3a01 0000 0000 0000")), (
    e: unknown,
  ) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv6ext.hdrExtLen");
    assert.equal(e.value, 1);
    return true;
  });
  assert.throws(() => Ipv6ExtHeader.newChecked(new Uint8Array(7)), /ipv6ext\.length/);
});

Deno.test("ipv6OptionAction reads the two high-order bits (RFC 8200 §4.2)", () => {
  assert.equal(ipv6OptionAction(0x1e), Ipv6OptionAction.Skip);
  assert.equal(ipv6OptionAction(Ipv6OptionType.RouterAlert), Ipv6OptionAction.Skip);
  assert.equal(ipv6OptionAction(0x4d), Ipv6OptionAction.Discard);
  assert.equal(ipv6OptionAction(0x8a), Ipv6OptionAction.DiscardSendIcmp);
  assert.equal(ipv6OptionAction(0xc2), Ipv6OptionAction.DiscardSendIcmpUnlessMulticast);
});

Deno.test("emitIpv6Options rejects invalid options and short buffers", () => {
  const bad: Ipv6OptionsRepr[] = [
    { nextHeader: 256, options: [] },
    { nextHeader: 17, options: [{ kind: "routerAlert", value: 0x10000 }] },
    { nextHeader: 17, options: [{ kind: "unknown", type: 0, data: new Uint8Array(0) }] },
    { nextHeader: 17, options: [{ kind: "unknown", type: 1, data: new Uint8Array(2) }] },
    { nextHeader: 17, options: [{ kind: "unknown", type: 5, data: new Uint8Array(2) }] },
    { nextHeader: 17, options: [{ kind: "unknown", type: 256, data: new Uint8Array(0) }] },
    { nextHeader: 17, options: [{ kind: "unknown", type: 0x1e, data: new Uint8Array(256) }] },
    {
      nextHeader: 17,
      options: Array.from({ length: 9 }, () => ({
        kind: "unknown" as const,
        type: 0x1e,
        data: new Uint8Array(255),
      })),
    },
  ];
  for (const repr of bad) {
    assert.throws(
      () => emitIpv6Options(repr, new Ipv6OptionsHeader(new Uint8Array(4096))),
      RangeError,
    );
  }
  const ok: Ipv6OptionsRepr = { nextHeader: 17, options: [{ kind: "routerAlert", value: 0 }] };
  assert.throws(() => emitIpv6Options(ok, new Ipv6OptionsHeader(new Uint8Array(7))), RangeError);
});

Deno.test("emitIpv6Options fills the largest header, 2048 bytes", () => {
  // 2 + 7 * 257 + 2 + 243 = 2046, then PadN(0) ends at 2048.
  const options: Ipv6Option[] = Array.from({ length: 7 }, () => ({
    kind: "unknown" as const,
    type: 0x1e,
    data: new Uint8Array(255),
  }));
  options.push({ kind: "unknown", type: 0x1f, data: new Uint8Array(243) });
  const repr: Ipv6OptionsRepr = { nextHeader: 59, options };
  assert.equal(ipv6OptionsHeaderLen(repr), 2048);
  const b = emitOptions(repr);
  assert.equal(b[1], 255);
  assert.deepEqual(parseIpv6Options(Ipv6OptionsHeader.newChecked(b)), repr);
});

Deno.test("parseIpv6Routing keeps the kernel's Segment Routing header raw", () => {
  const header = Ipv6RoutingHeader.newChecked(SRH);
  assert.equal(header.headerLen, 24);
  assert.equal(header.hdrExtLen, 2);
  const repr = parseIpv6Routing(header);
  assert.deepEqual(repr, {
    nextHeader: IpProtocol.Udp,
    routingType: 4,
    segmentsLeft: 0,
    data: fromHex("00000000 20010db8000000000000000000000002"),
  });
  const out = new Uint8Array(ipv6RoutingHeaderLen(repr));
  emitIpv6Routing(repr, new Ipv6RoutingHeader(out));
  assert.deepEqual(out, SRH);
});

Deno.test("Ipv6RoutingHeader setters write in place", () => {
  const h = new Ipv6RoutingHeader(SRH.slice());
  h.routingType = 2;
  h.segmentsLeft = 1;
  h.nextHeader = 59;
  assert.deepEqual(h.buffer.subarray(0, 4), fromHex("3b020201"));
  h.hdrExtLen = 0;
  assert.equal(h.data.length, 4);
  assert.equal(h.payload.length, 16);
});

Deno.test("emitIpv6Routing rejects data that does not end on 8 bytes", () => {
  const repr = parseIpv6Routing(new Ipv6RoutingHeader(SRH));
  const h = new Ipv6RoutingHeader(new Uint8Array(4096));
  assert.throws(() => emitIpv6Routing({ ...repr, data: new Uint8Array(5) }, h), RangeError);
  assert.throws(() => emitIpv6Routing({ ...repr, data: new Uint8Array(2044 + 8) }, h), RangeError);
  assert.throws(() => emitIpv6Routing({ ...repr, segmentsLeft: 256 }, h), RangeError);
  assert.throws(() => emitIpv6Routing({ ...repr, routingType: -1 }, h), RangeError);
  assert.throws(() => emitIpv6Routing({ ...repr, nextHeader: 1.5 }, h), RangeError);
  assert.throws(() => emitIpv6Routing(repr, new Ipv6RoutingHeader(new Uint8Array(23))), RangeError);
  emitIpv6Routing({ ...repr, data: new Uint8Array(2044) }, h);
  assert.equal(h.headerLen, 2048);
});

Deno.test("parseIpv6Fragment reads the kernel's fragment headers", () => {
  assert.deepEqual(parseIpv6Fragment(Ipv6FragmentHeader.newChecked(FRAG_FIRST)), {
    nextHeader: IpProtocol.Icmpv6,
    fragOffset: 0,
    moreFrags: true,
    ident: 0x0f2d79f1,
  });
  const last = new Ipv6FragmentHeader(IPV6_FRAGMENT_LAST.subarray(EXT));
  assert.deepEqual(parseIpv6Fragment(last), {
    nextHeader: IpProtocol.Icmpv6,
    fragOffset: 1232,
    moreFrags: false,
    ident: 0x0f2d79f1,
  });
  assert.equal(last.payload.length, 776);
});

Deno.test("emitIpv6Fragment reproduces the kernel's fragment headers", () => {
  for (const golden of [FRAG_FIRST, FRAG_LAST]) {
    const out = new Uint8Array(IPV6_FRAGMENT_HEADER_LEN);
    emitIpv6Fragment(
      parseIpv6Fragment(new Ipv6FragmentHeader(golden)),
      new Ipv6FragmentHeader(out),
    );
    assert.deepEqual(out, golden);
  }
});

Deno.test("parseIpv6Fragment ignores the reserved fields", () => {
  const b = fromHex("11ff 0006 00000001");
  assert.deepEqual(parseIpv6Fragment(new Ipv6FragmentHeader(b)), {
    nextHeader: 17,
    fragOffset: 0,
    moreFrags: false,
    ident: 1,
  });
});

Deno.test("Ipv6FragmentHeader setters keep the other bits", () => {
  const h = new Ipv6FragmentHeader(fromHex("1100 0007 00000000"));
  h.fragOffset = 65528;
  assert.equal(h.buffer[3], 0xff, "reserved bits and M kept");
  h.moreFrags = false;
  assert.equal(h.buffer[3], 0xfe);
  h.ident = 0xffffffff;
  h.nextHeader = 58;
  assert.deepEqual(h.buffer, fromHex("3a00 fffe ffffffff"));
  assert.equal(h.fragOffset, 65528);
});

Deno.test("Ipv6FragmentHeader rejects a buffer shorter than 8 bytes", () => {
  assert.throws(() => Ipv6FragmentHeader.newChecked(FRAG_FIRST.subarray(0, 7)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv6frag.length");
    return true;
  });
});

Deno.test("emitIpv6Fragment rejects out-of-range fields and short buffers", () => {
  const repr = parseIpv6Fragment(new Ipv6FragmentHeader(FRAG_LAST));
  const h = new Ipv6FragmentHeader(new Uint8Array(8));
  const bad: Partial<Ipv6FragmentRepr>[] = [
    { fragOffset: 4 },
    { fragOffset: 65536 },
    { fragOffset: -8 },
    { ident: 2 ** 32 },
    { ident: -1 },
    { nextHeader: 256 },
  ];
  for (const patch of bad) {
    assert.throws(
      () => emitIpv6Fragment({ ...repr, ...patch }, h),
      RangeError,
      JSON.stringify(patch),
    );
  }
  assert.throws(
    () => emitIpv6Fragment(repr, new Ipv6FragmentHeader(new Uint8Array(7))),
    RangeError,
  );
});

Deno.test("Ipv6OptionsRepr survives emit then parse", () => {
  fc.assert(
    fc.property(optionsReprArb, (repr) => {
      const b = emitOptions(repr);
      assert.equal(b.length % 8, 0);
      assert.deepEqual(parseIpv6Options(Ipv6OptionsHeader.newChecked(b)), repr);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("Ipv6RoutingRepr survives emit then parse", () => {
  fc.assert(
    fc.property(routingReprArb, (repr) => {
      const b = new Uint8Array(ipv6RoutingHeaderLen(repr));
      emitIpv6Routing(repr, new Ipv6RoutingHeader(b));
      assert.deepEqual(parseIpv6Routing(Ipv6RoutingHeader.newChecked(b)), repr);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("Ipv6FragmentRepr survives emit then parse", () => {
  fc.assert(
    fc.property(fragmentReprArb, (repr) => {
      const b = new Uint8Array(IPV6_FRAGMENT_HEADER_LEN);
      emitIpv6Fragment(repr, new Ipv6FragmentHeader(b));
      assert.deepEqual(parseIpv6Fragment(Ipv6FragmentHeader.newChecked(b)), repr);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("parseIpv6Options returns a repr or throws WireError for any bytes", () => {
  // When steered: a length byte that fits the buffer and a TLV sequence that mostly fits it,
  // with types drawn mostly from the known ones (Router Alert sometimes with a wrong length).
  const TYPES = [0, 1, 5, 0x1e, 0xc2, 0, 1];
  const input = fc.tuple(fc.uint8Array({ maxLength: 40, size: "max" }), fc.boolean()).map(
    ([b, steer]) => {
      if (!steer || b.length < 8) return b;
      b[1] = b[1]! % (b.length >> 3);
      const end = (b[1]! + 1) * 8;
      for (let i = 2; i < end;) {
        const t = TYPES[b[i]! % TYPES.length]!;
        b[i] = t;
        if (t === 0) {
          i++;
          continue;
        }
        const room = end - i - 2;
        if (room < 0) break;
        const r = b[i + 1]!;
        b[i + 1] = t === 5 && r < 240 ? 2 : r % (room + 2); // sometimes one byte too long
        i += 2 + b[i + 1]!;
      }
      return b;
    },
  );
  let parsed = 0;
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const repr = parseIpv6Options(new Ipv6OptionsHeader(bytes));
        for (const o of repr.options) assert.ok(o.kind === "routerAlert" || o.data.length < 256);
        parsed++;
      });
    }),
    { numRuns: RUNS },
  );
  if (RUNS >= 10_000) assert.ok(parsed > RUNS / 20, `only ${parsed} inputs parsed`);
});

Deno.test("parseIpv6Routing returns a repr or throws WireError for any bytes", () => {
  const input = fc.uint8Array({ maxLength: 40, size: "max" }).map((b) => {
    if (b.length >= 2 && b[0]! & 1) b[1] = b[1]! & 3;
    return b;
  });
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const repr = parseIpv6Routing(new Ipv6RoutingHeader(bytes));
        assert.equal((repr.data.length + 4) % 8, 0);
      });
    }),
    { numRuns: RUNS },
  );
});

Deno.test("parseIpv6Fragment returns a repr or throws WireError for any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12, size: "max" }), (bytes) => {
      expectWireError(() => {
        const repr = parseIpv6Fragment(new Ipv6FragmentHeader(bytes));
        assert.equal(repr.fragOffset % 8, 0);
      });
    }),
    { numRuns: RUNS },
  );
});
