import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import { IpProtocol, ipVersionOf } from "../../src/wire/ip.ts";
import {
  emitIpv6,
  IPV6_HEADER_LEN,
  IPV6_MAX_EXT_HEADERS,
  ipv6BufferLen,
  type Ipv6HeaderChain,
  Ipv6Packet,
  type Ipv6Repr,
  parseIpv6,
  walkIpv6Headers,
} from "../../src/wire/ipv6.ts";
import { Ipv6OptionAction } from "../../src/wire/ipv6_ext.ts";
import {
  fromHex,
  IPV6_ECHO_REQUEST,
  IPV6_FRAGMENT_FIRST,
  IPV6_FRAGMENT_LAST,
  IPV6_ICMP_UNREACH_HBH,
  IPV6_NA,
  IPV6_NS_DAD,
  IPV6_UDP_HBH_DSTOPTS,
  IPV6_UDP_SRH,
  MLD_REPORT_HBH,
} from "./golden/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const ECHO = IPV6_ECHO_REQUEST.subarray(14);
const H1 = Ipv6Address.parse("2001:db8::1");
const H2 = Ipv6Address.parse("2001:db8::2");

const addrArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) =>
  Ipv6Address.fromBytes(b)
);
const reprArb: fc.Arbitrary<Ipv6Repr> = fc.record({
  src: addrArb,
  dst: addrArb,
  nextHeader: fc.integer({ min: 0, max: 255 }),
  payloadLen: fc.integer({ min: 0, max: 2000 }),
  hopLimit: fc.integer({ min: 0, max: 255 }),
  trafficClass: fc.integer({ min: 0, max: 255 }),
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
});

function expectWireError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

/** An IPv6 packet from 2001:db8::1 to 2001:db8::2 with `nextHeader` and the given payload. */
function packet(nextHeader: number, payloadHex: string): Ipv6Packet {
  const payload = fromHex(payloadHex);
  const repr: Ipv6Repr = {
    src: H1,
    dst: H2,
    nextHeader,
    payloadLen: payload.length,
    hopLimit: 64,
    trafficClass: 0,
    flowLabel: 0,
  };
  const p = new Ipv6Packet(new Uint8Array(ipv6BufferLen(repr)));
  emitIpv6(repr, p);
  p.payload.set(payload);
  return p;
}

function walk(frame: Uint8Array): Ipv6HeaderChain {
  return walkIpv6Headers(Ipv6Packet.newChecked(frame.subarray(14)));
}

function walkRejects(p: Ipv6Packet, reason: RegExp): void {
  assert.throws(() => walkIpv6Headers(p), (e: unknown) => {
    assert.ok(e instanceof WireError, String(e));
    assert.match(e.message, reason);
    return true;
  });
}

Deno.test("Ipv6Packet reads every field of the kernel's echo request", () => {
  const p = Ipv6Packet.newChecked(ECHO);
  assert.equal(ipVersionOf(ECHO), 6);
  assert.equal(p.version, 6);
  assert.equal(p.trafficClass, 0);
  assert.equal(p.flowLabel, 0xe50cd);
  assert.equal(p.payloadLen, 64);
  assert.equal(p.nextHeader, IpProtocol.Icmpv6);
  assert.equal(p.hopLimit, 64);
  assert.ok(p.src.equals(H1));
  assert.ok(p.dst.equals(H2));
  assert.equal(p.payload.length, 64);
  assert.equal(p.payload[0], 128, "ICMPv6 echo request type");
});

Deno.test("emitIpv6 reproduces the kernel's headers byte for byte", () => {
  for (const frame of [IPV6_ECHO_REQUEST, IPV6_NA, IPV6_NS_DAD, MLD_REPORT_HBH, IPV6_UDP_SRH]) {
    const golden = frame.subarray(14);
    const repr = parseIpv6(new Ipv6Packet(golden));
    const out = new Uint8Array(ipv6BufferLen(repr));
    const p = new Ipv6Packet(out);
    emitIpv6(repr, p);
    p.payload.set(new Ipv6Packet(golden).payload);
    assert.deepEqual(out, golden);
  }
});

Deno.test("parseIpv6 reads the kernel's DAD solicitation from the unspecified address", () => {
  const repr = parseIpv6(new Ipv6Packet(IPV6_NS_DAD.subarray(14)));
  assert.ok(repr.src.isUnspecified);
  assert.equal(repr.dst.toString(), "ff02::1:ff00:a201");
  assert.equal(repr.hopLimit, 255);
  assert.equal(repr.payloadLen, 32);
});

Deno.test("Ipv6Packet payload stops at the payload length (link padding trimmed)", () => {
  const padded = new Uint8Array(ECHO.length + 10);
  padded.set(ECHO);
  padded.fill(0xee, ECHO.length);
  const p = Ipv6Packet.newChecked(padded);
  assert.equal(p.payload.length, 64);
  assert.equal(p.payload.buffer, padded.buffer, "payload is a view");
});

Deno.test("Ipv6Packet accepts a zero payload length as an empty payload", () => {
  const p = packet(IpProtocol.Ipv6NoNxt, "");
  assert.equal(parseIpv6(p).payloadLen, 0);
  assert.equal(p.payload.length, 0);
  assert.equal(walkIpv6Headers(p).upperLayer, IpProtocol.Ipv6NoNxt);
});

Deno.test("Ipv6Packet rejects a buffer shorter than 40 bytes", () => {
  assert.throws(() => Ipv6Packet.newChecked(ECHO.subarray(0, 39)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv6.length");
    assert.equal(e.value, 39);
    return true;
  });
});

Deno.test("Ipv6Packet rejects a version other than 6", () => {
  const b = ECHO.slice();
  b[0] = 0x45;
  assert.throws(() => parseIpv6(new Ipv6Packet(b)), /ipv6\.version/);
});

Deno.test("Ipv6Packet rejects a payload length past the buffer", () => {
  assert.throws(() => Ipv6Packet.newChecked(ECHO.subarray(0, 103)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv6.payloadLen");
    assert.equal(e.value, 64);
    return true;
  });
});

Deno.test("Ipv6Packet setters write each field without touching its neighbours", () => {
  const p = new Ipv6Packet(ECHO.slice());
  p.trafficClass = 0xb9;
  assert.equal(p.flowLabel, 0xe50cd);
  p.flowLabel = 0xfffff;
  assert.equal(p.trafficClass, 0xb9);
  assert.equal(p.version, 6);
  assert.deepEqual(p.buffer.subarray(0, 4), fromHex("6b9fffff"));
  p.version = 6;
  p.trafficClass = 0;
  p.flowLabel = 0;
  assert.deepEqual(p.buffer.subarray(0, 4), fromHex("60000000"));
  p.payloadLen = 8;
  p.nextHeader = IpProtocol.Udp;
  p.hopLimit = 1;
  p.src = H2;
  p.dst = H1;
  assert.deepEqual(parseIpv6(p), {
    src: H2,
    dst: H1,
    nextHeader: 17,
    payloadLen: 8,
    hopLimit: 1,
    trafficClass: 0,
    flowLabel: 0,
  });
});

Deno.test("emitIpv6 rejects out-of-range fields and short buffers", () => {
  const base = parseIpv6(new Ipv6Packet(ECHO));
  const p = new Ipv6Packet(new Uint8Array(200));
  const bad: Partial<Ipv6Repr>[] = [
    { nextHeader: 256 },
    { payloadLen: 0x10000 },
    { hopLimit: -1 },
    { trafficClass: 256 },
    { flowLabel: 0x100000 },
    { flowLabel: 0.5 },
  ];
  for (const patch of bad) {
    assert.throws(() => emitIpv6({ ...base, ...patch }, p), RangeError, JSON.stringify(patch));
  }
  assert.throws(() => emitIpv6(base, new Ipv6Packet(new Uint8Array(103))), RangeError);
});

Deno.test("walkIpv6Headers finds ICMPv6 right after a plain header", () => {
  const chain = walk(IPV6_ECHO_REQUEST);
  assert.deepEqual(chain, {
    upperLayer: IpProtocol.Icmpv6,
    upperLayerOffset: 0,
    nextHeaderPointer: 6,
    hopByHop: null,
    destinationOptions: [],
    routing: null,
    routingHeaderOffset: null,
    fragment: null,
    fragmentHeaderOffset: null,
    optionProblem: null,
  });
});

Deno.test("walkIpv6Headers reads the Router Alert of the kernel's MLD report", () => {
  const chain = walk(MLD_REPORT_HBH);
  assert.equal(chain.upperLayer, IpProtocol.Icmpv6);
  assert.equal(chain.upperLayerOffset, 8);
  assert.equal(chain.nextHeaderPointer, 40);
  assert.deepEqual(chain.hopByHop, {
    nextHeader: IpProtocol.Icmpv6,
    options: [{ kind: "routerAlert", value: 0 }],
  });
  assert.equal(chain.optionProblem, null);
});

Deno.test("walkIpv6Headers follows Hop-by-Hop then Destination Options to UDP", () => {
  const p = Ipv6Packet.newChecked(IPV6_UDP_HBH_DSTOPTS.subarray(14));
  const chain = walkIpv6Headers(p);
  assert.equal(chain.upperLayer, IpProtocol.Udp);
  assert.equal(chain.upperLayerOffset, 16);
  assert.equal(chain.nextHeaderPointer, 48);
  assert.deepEqual(chain.hopByHop?.options, [{ kind: "routerAlert", value: 0 }]);
  assert.deepEqual(chain.destinationOptions, [{
    nextHeader: IpProtocol.Udp,
    options: [{ kind: "unknown", type: 0x1e, data: fromHex("deadbeef") }],
  }]);
  assert.equal(chain.optionProblem, null, "type 0x1e has action 00: skip");
  const udp = p.payload.subarray(chain.upperLayerOffset);
  assert.equal(new TextDecoder().decode(udp.subarray(8)), "smolnet-hbh-dst");
});

Deno.test("walkIpv6Headers stops at ICMPv6 in the kernel's error that quotes a chain", () => {
  const chain = walk(IPV6_ICMP_UNREACH_HBH);
  assert.equal(chain.upperLayer, IpProtocol.Icmpv6);
  assert.equal(chain.upperLayerOffset, 0);
  assert.equal(chain.hopByHop, null);
});

Deno.test("walkIpv6Headers keeps the kernel's Segment Routing header raw", () => {
  const chain = walk(IPV6_UDP_SRH);
  assert.equal(chain.upperLayer, IpProtocol.Udp);
  assert.equal(chain.upperLayerOffset, 24);
  assert.equal(chain.routingHeaderOffset, 0);
  assert.equal(chain.routing?.routingType, 4);
  assert.equal(chain.routing?.segmentsLeft, 0);
  assert.deepEqual(
    chain.routing?.data,
    fromHex("00000000 20010db8000000000000000000000002"),
  );
});

Deno.test("walkIpv6Headers stops after the Fragment header of a real fragment", () => {
  const first = walk(IPV6_FRAGMENT_FIRST);
  assert.equal(first.upperLayer, IpProtocol.Icmpv6);
  assert.equal(first.upperLayerOffset, 8);
  assert.equal(first.fragmentHeaderOffset, 0);
  assert.deepEqual(first.fragment, {
    nextHeader: IpProtocol.Icmpv6,
    fragOffset: 0,
    moreFrags: true,
    ident: 0x0f2d79f1,
  });
  const last = walk(IPV6_FRAGMENT_LAST);
  assert.deepEqual(last.fragment, {
    nextHeader: IpProtocol.Icmpv6,
    fragOffset: 1232,
    moreFrags: false,
    ident: 0x0f2d79f1,
  });
  assert.equal(last.upperLayerOffset, 8);
  assert.equal(Ipv6Packet.newChecked(IPV6_FRAGMENT_LAST.subarray(14)).payloadLen - 8, 776);
});

Deno.test("walkIpv6Headers stops after a non-atomic fragment whose data looks like headers", () => {
  // Fragment (offset 8) claiming Destination Options next; the data must not be parsed.
  const p = packet(IpProtocol.Ipv6Frag, "3c00 0008 00000001 ff ff ff");
  const chain = walkIpv6Headers(p);
  assert.equal(chain.upperLayer, IpProtocol.Ipv6Opts);
  assert.equal(chain.upperLayerOffset, 8);
  assert.equal(chain.nextHeaderPointer, 40);
});

Deno.test("walkIpv6Headers walks through an atomic fragment (RFC 6946)", () => {
  const p = packet(
    IpProtocol.Ipv6Frag,
    "3c00 0000 00000001  1100 0000 0000 0000  0000 0000 0000 0000",
  );
  const chain = walkIpv6Headers(p);
  assert.equal(chain.upperLayer, IpProtocol.Udp);
  assert.equal(chain.upperLayerOffset, 16);
  assert.equal(chain.fragmentHeaderOffset, 0);
  assert.equal(chain.destinationOptions.length, 1);
});

Deno.test("walkIpv6Headers rejects Hop-by-Hop anywhere but first", () => {
  walkRejects(packet(IpProtocol.Ipv6Opts, "0000 0000 0000 0000  3b00 0000 0000 0000"), /not first/);
  // Behind a non-atomic fragment too.
  walkRejects(packet(IpProtocol.Ipv6Frag, "0000 0001 00000001"), /not first/);
  // Behind an atomic fragment.
  walkRejects(packet(IpProtocol.Ipv6Frag, "0000 0000 00000001  3b00 0000 0000 0000"), /not first/);
});

Deno.test("walkIpv6Headers bounds the chain at 8 extension headers", () => {
  const dest = (next: number) => next.toString(16).padStart(2, "0") + "00 0000 0000 0000";
  const chainOf = (n: number) =>
    packet(
      IpProtocol.Ipv6Opts,
      Array.from({ length: n }, (_, i) => dest(i === n - 1 ? 59 : 60)).join(""),
    );
  const ok = walkIpv6Headers(chainOf(IPV6_MAX_EXT_HEADERS));
  assert.equal(ok.destinationOptions.length, 8);
  assert.equal(ok.upperLayer, IpProtocol.Ipv6NoNxt);
  assert.equal(ok.upperLayerOffset, 64);
  assert.equal(ok.nextHeaderPointer, 40 + 56);
  walkRejects(chainOf(IPV6_MAX_EXT_HEADERS + 1), /more than 8/);
});

Deno.test("walkIpv6Headers rejects a header cut by the payload length", () => {
  // Destination Options announcing 16 bytes in an 8-byte payload.
  walkRejects(packet(IpProtocol.Ipv6Opts, "1101 0000 0000 0000"), /exceeds/);
  // A Fragment header cut short.
  walkRejects(packet(IpProtocol.Ipv6Frag, "1100 0000 0000"), /truncated/);
  // A Routing header shorter than 8 bytes.
  walkRejects(packet(IpProtocol.Ipv6Route, "1100 0400"), /truncated/);
  // A chain that points to another header past the end.
  walkRejects(packet(IpProtocol.Ipv6Opts, "2b00 0000 0000 0000"), /truncated/);
});

Deno.test("walkIpv6Headers rejects malformed options", () => {
  walkRejects(packet(IpProtocol.HopByHop, "3a00 0503 000000 00"), /Router Alert/);
  walkRejects(packet(IpProtocol.HopByHop, "3a00 1e06 00000000"), /overruns/);
});

Deno.test("walkIpv6Headers reports the first option whose action is not skip", () => {
  // Hop-by-Hop: 0x3e (skip, 0 bytes), PadN; Destination Options: Jumbo 0xc2 (4 bytes).
  const p = packet(IpProtocol.HopByHop, "3c00 3e00 0102 0000  1100 c204 00000000");
  const chain = walkIpv6Headers(p);
  assert.deepEqual(chain.optionProblem, {
    type: 0xc2,
    action: Ipv6OptionAction.DiscardSendIcmpUnlessMulticast,
    pointer: 40 + 8 + 2,
  });
  assert.deepEqual(chain.hopByHop?.options, [{ kind: "unknown", type: 0x3e, data: fromHex("") }]);
  // The first problem wins.
  const two = packet(IpProtocol.HopByHop, "3c00 8000 0102 0000  1100 4000 0102 0000");
  assert.equal(walkIpv6Headers(two).optionProblem?.type, 0x80);
  assert.equal(walkIpv6Headers(two).optionProblem?.pointer, 42);
});

Deno.test("walkIpv6Headers prefers a Routing header with segments left", () => {
  const p = packet(
    IpProtocol.Ipv6Route,
    "2b00 0400 00000000  2b00 0001 00000000  1100 0302 00000000",
  );
  const chain = walkIpv6Headers(p);
  assert.equal(chain.routing?.routingType, 0);
  assert.equal(chain.routing?.segmentsLeft, 1);
  assert.equal(chain.routingHeaderOffset, 8);
  assert.equal(chain.upperLayerOffset, 24);
});

Deno.test("walkIpv6Headers stops at ESP, AH and unknown next headers", () => {
  for (const nh of [IpProtocol.Esp, IpProtocol.Ah, 135, 253]) {
    const chain = walkIpv6Headers(
      packet(IpProtocol.Ipv6Opts, `${nh.toString(16)}00 0000 0000 0000`),
    );
    assert.equal(chain.upperLayer, nh);
    assert.equal(chain.upperLayerOffset, 8);
    assert.equal(chain.nextHeaderPointer, 40);
  }
});

Deno.test("Ipv6Repr survives emit then parse", () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const b = new Uint8Array(ipv6BufferLen(repr));
      emitIpv6(repr, new Ipv6Packet(b));
      assert.deepEqual(parseIpv6(Ipv6Packet.newChecked(b)), repr);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("parseIpv6 returns a repr or throws WireError for any bytes", () => {
  const input = fc.tuple(fc.uint8Array({ maxLength: 64, size: "max" }), fc.nat({ max: 3 })).map(
    ([b, k]) => {
      if (b.length >= 40 && k < 3) {
        b[0] = 0x60 | (b[0]! & 0x0f);
        b[4] = 0;
        if (k < 2) b[5] = b[5]! % (b.length - 39);
      }
      return b;
    },
  );
  let parsed = 0;
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const repr = parseIpv6(new Ipv6Packet(bytes));
        assert.ok(IPV6_HEADER_LEN + repr.payloadLen <= bytes.length);
        parsed++;
      });
    }),
    { numRuns: RUNS },
  );
  if (RUNS >= 10_000) assert.ok(parsed > RUNS / 10, `only ${parsed} inputs parsed`);
});

Deno.test("walkIpv6Headers returns a chain or throws WireError for any bytes", () => {
  // Random payloads whose Next Header and length bytes are steered toward extension headers.
  const NEXT = [0, 43, 44, 60, 60, 43, 17, 58, 59, 0, 44, 60];
  const input = fc.tuple(
    fc.uint8Array({ maxLength: 96, size: "max" }),
    fc.array(fc.nat({ max: 255 }), { minLength: 12, maxLength: 12 }),
    fc.boolean(),
  ).map(([payload, picks, padOptions]) => {
    const b = new Uint8Array(IPV6_HEADER_LEN + payload.length);
    b.set(payload, IPV6_HEADER_LEN);
    b[0] = 0x60;
    b[4] = payload.length >>> 8;
    b[5] = payload.length & 0xff;
    b[6] = NEXT[picks[0]! % NEXT.length]!;
    let nh = b[6]!;
    for (let o = 0, i = 1; o < payload.length && i < picks.length; i++) {
      const at = IPV6_HEADER_LEN + o;
      b[at] = NEXT[picks[i]! % NEXT.length]!;
      if (nh === 44) {
        if (picks[i]! & 1) b.fill(0, at + 2, Math.min(at + 4, b.length)); // atomic
        o += 8;
      } else {
        if (at + 1 < b.length) b[at + 1] = picks[i]! % 3;
        const len = ((b[at + 1] ?? 0) + 1) * 8;
        if (padOptions && (nh === 0 || nh === 60)) b.fill(0, at + 2, at + len);
        o += len;
      }
      nh = b[at]!;
    }
    return b;
  });
  let walked = 0;
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const chain = walkIpv6Headers(new Ipv6Packet(bytes));
        assert.ok(chain.upperLayerOffset <= bytes.length - IPV6_HEADER_LEN);
        assert.notEqual(chain.upperLayer, IpProtocol.HopByHop);
        walked++;
      });
    }),
    { numRuns: RUNS },
  );
  if (RUNS >= 10_000) assert.ok(walked > RUNS / 20, `only ${walked} chains walked`);
});
