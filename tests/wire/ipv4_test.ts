import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address } from "../../src/wire/address.ts";
import { internetChecksum } from "../../src/wire/checksum.ts";
import { WireError } from "../../src/wire/error.ts";
import { IpProtocol, ipVersionOf } from "../../src/wire/ip.ts";
import {
  emitIpv4,
  IPV4_HEADER_LEN,
  ipv4BufferLen,
  Ipv4Packet,
  type Ipv4Repr,
  parseIpv4,
} from "../../src/wire/ipv4.ts";
import {
  fromHex,
  IPV4_ECHO_REQUEST,
  IPV4_FRAGMENT_FIRST,
  IPV4_FRAGMENT_LAST,
  IPV4_ICMP_UNREACH,
  IPV4_UDP_RECORD_ROUTE,
} from "./golden/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const ECHO = IPV4_ECHO_REQUEST.subarray(14);
const RR = IPV4_UDP_RECORD_ROUTE.subarray(14);
const A1 = Ipv4Address.parse("192.0.2.1");
const A2 = Ipv4Address.parse("192.0.2.2");

const BASE: Ipv4Repr = {
  src: A1,
  dst: A2,
  protocol: IpProtocol.Udp,
  payloadLen: 8,
  ttl: 64,
  dscp: 0,
  ecn: 0,
  ident: 0,
  dontFrag: false,
  moreFrags: false,
  fragOffset: 0,
};

const reprArb: fc.Arbitrary<Ipv4Repr> = fc.record({
  src: fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v)),
  dst: fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v)),
  protocol: fc.integer({ min: 0, max: 255 }),
  payloadLen: fc.integer({ min: 0, max: 1500 }),
  ttl: fc.integer({ min: 0, max: 255 }),
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  ident: fc.integer({ min: 0, max: 0xffff }),
  dontFrag: fc.boolean(),
  moreFrags: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: (65515 - 1500) >> 3 }).map((u) => u * 8),
});

function expectWireError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

function rejects(bytes: Uint8Array, field: string): void {
  assert.throws(() => Ipv4Packet.newChecked(bytes), (e: unknown) => {
    assert.ok(e instanceof WireError, String(e));
    assert.equal(e.field, field);
    return true;
  });
}

/** A valid 20-byte header (checksum filled) followed by `payloadLen` zero bytes. */
function packetOf(repr: Ipv4Repr): Uint8Array {
  const b = new Uint8Array(ipv4BufferLen(repr));
  emitIpv4(repr, new Ipv4Packet(b));
  return b;
}

Deno.test("Ipv4Packet reads every field of the kernel's echo request", () => {
  const p = Ipv4Packet.newChecked(ECHO);
  assert.equal(ipVersionOf(ECHO), 4);
  assert.equal(p.version, 4);
  assert.equal(p.ihl, 5);
  assert.equal(p.headerLen, 20);
  assert.equal(p.dscp, 0);
  assert.equal(p.ecn, 0);
  assert.equal(p.totalLen, 84);
  assert.equal(p.ident, 0xf4f3);
  assert.equal(p.dontFrag, true);
  assert.equal(p.moreFrags, false);
  assert.equal(p.fragOffset, 0);
  assert.equal(p.ttl, 64);
  assert.equal(p.protocol, IpProtocol.Icmp);
  assert.equal(p.checksum, 0xc1b1);
  assert.ok(p.src.equals(A1));
  assert.ok(p.dst.equals(A2));
  assert.equal(p.options.length, 0);
  assert.equal(p.payload.length, 64);
  assert.equal(p.payload[0], 8, "ICMP echo request type");
  assert.ok(p.verifyChecksum());
});

Deno.test("emitIpv4 reproduces the kernel's echo request header byte for byte", () => {
  const repr = parseIpv4(new Ipv4Packet(ECHO));
  assert.deepEqual(repr, {
    src: A1,
    dst: A2,
    protocol: IpProtocol.Icmp,
    payloadLen: 64,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 0xf4f3,
    dontFrag: true,
    moreFrags: false,
    fragOffset: 0,
  });
  const out = new Uint8Array(ipv4BufferLen(repr));
  const packet = new Ipv4Packet(out);
  emitIpv4(repr, packet);
  packet.payload.set(new Ipv4Packet(ECHO).payload);
  assert.deepEqual(out, ECHO);
});

Deno.test("parseIpv4 skips the kernel's Record Route option", () => {
  const p = Ipv4Packet.newChecked(RR);
  assert.equal(p.ihl, 7);
  assert.equal(p.headerLen, 28);
  assert.deepEqual(p.options, fromHex("07 07 08 c0000201 00"));
  assert.ok(p.verifyChecksum(), "the checksum covers the options");
  const repr = parseIpv4(p);
  assert.equal(repr.protocol, IpProtocol.Udp);
  assert.equal(repr.payloadLen, 8 + 13);
  assert.equal(new TextDecoder().decode(p.payload.subarray(8)), "smolnet-ipopt");
});

Deno.test("parseIpv4 reads the kernel's first and last fragments", () => {
  const first = parseIpv4(new Ipv4Packet(IPV4_FRAGMENT_FIRST.subarray(14)));
  assert.equal(first.moreFrags, true);
  assert.equal(first.dontFrag, false);
  assert.equal(first.fragOffset, 0);
  assert.equal(first.payloadLen, 1480);
  const last = parseIpv4(new Ipv4Packet(IPV4_FRAGMENT_LAST.subarray(14)));
  assert.equal(last.moreFrags, false);
  assert.equal(last.fragOffset, 1480);
  assert.equal(last.payloadLen, 2008 - 1480);
  assert.equal(last.ident, first.ident);
});

Deno.test("parseIpv4 reads the kernel's ICMP error, which echoes the Record Route option", () => {
  const p = new Ipv4Packet(IPV4_ICMP_UNREACH.subarray(14));
  assert.equal(p.headerLen, 28);
  assert.equal(p.options[0], 7);
  const repr = parseIpv4(p);
  assert.equal(repr.protocol, IpProtocol.Icmp);
  assert.ok(repr.src.equals(A2));
  assert.equal(repr.payloadLen, 99 - 14 - 28);
});

Deno.test("Ipv4Packet payload stops at the total length (Ethernet padding trimmed)", () => {
  const padded = new Uint8Array(ECHO.length + 6);
  padded.set(ECHO);
  padded.fill(0xee, ECHO.length);
  const p = Ipv4Packet.newChecked(padded);
  assert.equal(p.payload.length, 64);
  assert.equal(parseIpv4(p).payloadLen, 64);
  assert.equal(p.payload.buffer, padded.buffer, "payload is a view");
});

Deno.test("Ipv4Packet rejects a buffer shorter than 20 bytes", () => {
  rejects(ECHO.subarray(0, 19), "ipv4.length");
  rejects(new Uint8Array(0), "ipv4.length");
});

Deno.test("Ipv4Packet rejects a version other than 4", () => {
  const v6 = ECHO.slice();
  v6[0] = 0x65;
  rejects(v6, "ipv4.version");
});

Deno.test("Ipv4Packet rejects a header length below 5 words", () => {
  const b = ECHO.slice();
  b[0] = 0x44;
  rejects(b, "ipv4.ihl");
  b[0] = 0x40;
  rejects(b, "ipv4.ihl");
});

Deno.test("Ipv4Packet rejects a header longer than the buffer", () => {
  const b = ECHO.slice(0, 40);
  b[0] = 0x4f; // 60-byte header in 40 bytes
  rejects(b, "ipv4.ihl");
});

Deno.test("Ipv4Packet rejects a total length shorter than the header", () => {
  const b = RR.slice();
  b[2] = 0;
  b[3] = 24; // header is 28
  rejects(b, "ipv4.totalLen");
});

Deno.test("Ipv4Packet rejects a total length past the buffer", () => {
  rejects(ECHO.subarray(0, 83), "ipv4.totalLen");
});

Deno.test("parseIpv4 rejects a bad checksum unless told not to verify", () => {
  const b = ECHO.slice();
  b[8] = 63; // TTL changed, checksum not updated
  assert.throws(() => parseIpv4(new Ipv4Packet(b)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ipv4.checksum");
    assert.equal(e.value, 0xc1b1);
    return true;
  });
  assert.equal(parseIpv4(new Ipv4Packet(b), { verifyChecksum: false }).ttl, 63);
});

Deno.test("parseIpv4 rejects a fragment that ends past the largest datagram", () => {
  const p = new Ipv4Packet(packetOf({ ...BASE, payloadLen: 24 }));
  p.fragOffset = 65496; // 65496 + 24 > 65515
  p.fillChecksum();
  assert.throws(() => parseIpv4(p), /ipv4\.fragOffset/);
  p.fragOffset = 65488; // ends at 65512: fine
  p.fillChecksum();
  assert.equal(parseIpv4(p).fragOffset, 65488);
});

Deno.test("emitIpv4 leaves the checksum zero when fillChecksum is false", () => {
  const b = new Uint8Array(ipv4BufferLen(BASE));
  const p = new Ipv4Packet(b);
  emitIpv4(BASE, p, { fillChecksum: false });
  assert.equal(p.checksum, 0);
  p.fillChecksum();
  assert.equal(internetChecksum(b.subarray(0, IPV4_HEADER_LEN)), 0);
  assert.ok(p.verifyChecksum());
});

Deno.test("emitIpv4 rejects out-of-range fields and short buffers", () => {
  const p = new Ipv4Packet(new Uint8Array(2000));
  const bad: Partial<Ipv4Repr>[] = [
    { protocol: 256 },
    { ttl: -1 },
    { ttl: 256 },
    { dscp: 64 },
    { ecn: 4 },
    { ident: 0x10000 },
    { payloadLen: 65516 },
    { payloadLen: 1.5 },
    { fragOffset: 4 },
    { fragOffset: -8 },
    { fragOffset: 65512, payloadLen: 8 },
  ];
  for (const patch of bad) {
    assert.throws(() => emitIpv4({ ...BASE, ...patch }, p), RangeError, JSON.stringify(patch));
  }
  assert.throws(() => emitIpv4(BASE, new Ipv4Packet(new Uint8Array(27))), RangeError);
  emitIpv4(BASE, new Ipv4Packet(new Uint8Array(28)));
});

Deno.test("Ipv4Packet setters write each field without touching its neighbours", () => {
  const p = new Ipv4Packet(packetOf(BASE));
  p.dscp = 46;
  p.ecn = 3;
  assert.equal(p.buffer[1], (46 << 2) | 3);
  p.ecn = 0;
  assert.equal(p.dscp, 46);
  p.dontFrag = true;
  p.moreFrags = true;
  p.fragOffset = 8 * 0x1fff;
  assert.equal((p.buffer[6]! << 8) | p.buffer[7]!, 0x7fff);
  p.dontFrag = false;
  assert.equal(p.moreFrags, true);
  assert.equal(p.fragOffset, 65528);
  p.moreFrags = false;
  p.fragOffset = 0;
  assert.equal((p.buffer[6]! << 8) | p.buffer[7]!, 0);
  p.headerLen = 24;
  assert.equal(p.ihl, 6);
  assert.equal(p.version, 4);
  p.version = 4;
  p.ihl = 5;
  p.totalLen = 28;
  p.ident = 0xbeef;
  p.ttl = 1;
  p.protocol = IpProtocol.Tcp;
  p.src = A2;
  p.dst = A1;
  p.checksum = 0x1234;
  assert.equal(p.checksum, 0x1234);
  p.fillChecksum();
  const r = parseIpv4(p);
  assert.deepEqual(
    [r.ident, r.ttl, r.protocol, r.src.toString(), r.dst.toString()],
    [0xbeef, 1, 6, "192.0.2.2", "192.0.2.1"],
  );
});

Deno.test("Ipv4Repr survives emit then parse", () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const b = new Uint8Array(ipv4BufferLen(repr));
      emitIpv4(repr, new Ipv4Packet(b));
      assert.deepEqual(parseIpv4(Ipv4Packet.newChecked(b)), repr);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("parseIpv4 returns a repr or throws WireError for any bytes", () => {
  // Mostly well-formed length fields (so that parsing reaches the checksum and the fragment
  // check), with the checksum verified on half of the inputs.
  const input = fc.tuple(
    fc.uint8Array({ minLength: 0, maxLength: 72, size: "max" }),
    fc.nat({ max: 7 }),
    fc.boolean(),
  ).map(([b, k, verify]) => {
    if (b.length >= 20 && k < 6) {
      const ihl = 5 + (k < 4 ? 0 : b[0]! % 3);
      b[0] = 0x40 | ihl;
      const total = Math.min(b.length, ihl * 4 + (b[3]! % 32));
      if (k < 5) {
        b[2] = total >>> 8;
        b[3] = total & 0xff;
      }
      if (k < 3) new Ipv4Packet(b).fillChecksum();
    }
    return [b, verify] as const;
  });
  let parsed = 0;
  fc.assert(
    fc.property(input, ([bytes, verify]) => {
      expectWireError(() => {
        const repr = parseIpv4(new Ipv4Packet(bytes), { verifyChecksum: verify });
        assert.ok(repr.payloadLen + IPV4_HEADER_LEN <= bytes.length);
        assert.equal(repr.fragOffset % 8, 0);
        parsed++;
      });
    }),
    { numRuns: RUNS },
  );
  if (RUNS >= 10_000) assert.ok(parsed > RUNS / 10, `only ${parsed} inputs parsed`);
});
