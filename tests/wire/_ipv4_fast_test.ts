import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address } from "../../src/wire/address.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, Ipv4Packet, type Ipv4Repr, parseIpv4 } from "../../src/wire/ipv4.ts";
import { plainIpv4Len, writeIpv4Header } from "../../src/wire/_ipv4_fast.ts";
import { IPV4_FRAGMENT_FIRST, IPV4_UDP_RECORD_ROUTE } from "./golden/kernel_frames.ts";

const REPR: Ipv4Repr = {
  src: Ipv4Address.parse("192.0.2.1"),
  dst: Ipv4Address.parse("192.0.2.2"),
  protocol: IpProtocol.Tcp,
  payloadLen: 32,
  ttl: 64,
  dscp: 10,
  ecn: 2,
  ident: 0x1234,
  dontFrag: true,
  moreFrags: false,
  fragOffset: 0,
};

/** A plain packet of `REPR` at offset `off` of a buffer with `pad` bytes after it. */
function packetAt(off: number, pad = 0): Uint8Array {
  const b = new Uint8Array(off + 20 + REPR.payloadLen + pad).fill(0xa5);
  writeIpv4Header(REPR, b, off, true);
  return b;
}

Deno.test("writeIpv4Header at an offset writes what emitIpv4 writes at 0", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.boolean(),
    fc.boolean(),
    (off, ttl, ident, df, fill) => {
      const repr = { ...REPR, ttl, ident, dontFrag: df };
      const a = new Uint8Array(20 + repr.payloadLen);
      emitIpv4(repr, new Ipv4Packet(a), { fillChecksum: fill });
      const b = new Uint8Array(off + 20 + repr.payloadLen);
      writeIpv4Header(repr, b, off, fill);
      assert.deepEqual(b.subarray(off, off + 20), a.subarray(0, 20));
      assert.deepEqual(parseIpv4(new Ipv4Packet(b.subarray(off)), { verifyChecksum: fill }), repr);
    },
  ));
});

Deno.test("writeIpv4Header's checksum, computed from the fields, verifies for any header; 0 when not filled", () => {
  fc.assert(fc.property(
    fc.record({
      src: fc.integer({ min: 0, max: 0xffffffff }),
      dst: fc.integer({ min: 0, max: 0xffffffff }),
      protocol: fc.integer({ min: 0, max: 255 }),
      payloadLen: fc.integer({ min: 0, max: 1000 }),
      ttl: fc.integer({ min: 0, max: 255 }),
      dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }),
      ident: fc.integer({ min: 0, max: 0xffff }),
      dontFrag: fc.boolean(),
      moreFrags: fc.boolean(),
      fragOffset: fc.integer({ min: 0, max: 8000 }).map((x) => x * 8),
    }),
    (r) => {
      const repr = { ...r, src: new Ipv4Address(r.src), dst: new Ipv4Address(r.dst) };
      const b = new Uint8Array(7 + 20 + repr.payloadLen);
      writeIpv4Header(repr, b, 7, true);
      const p = new Ipv4Packet(b.subarray(7));
      assert.equal(p.verifyChecksum(), true);
      assert.deepEqual(parseIpv4(p), repr);
      writeIpv4Header(repr, b, 7, false);
      assert.equal(p.checksum, 0);
    },
  ));
});

Deno.test("writeIpv4Header refuses a field out of range or a short buffer with a RangeError", () => {
  const b = new Uint8Array(100);
  assert.throws(() => writeIpv4Header({ ...REPR, ttl: 256 }, b, 0, true), /TTL 256/);
  assert.throws(() => writeIpv4Header({ ...REPR, ecn: 4 }, b, 0, true), RangeError);
  assert.throws(() => writeIpv4Header({ ...REPR, fragOffset: 3 }, b, 0, true), /fragment offset/);
  assert.throws(() => writeIpv4Header(REPR, b, 60, true), /too short for a 52-byte/);
  writeIpv4Header(REPR, b, 48, true); // exactly fits
});

Deno.test("plainIpv4Len gives the total length of a plain packet at an offset, padding after it", () => {
  assert.equal(plainIpv4Len(packetAt(0), 0, 52, true), 52);
  const b = packetAt(14, 6);
  assert.equal(plainIpv4Len(b, 14, b.length, true), 52);
});

Deno.test("plainIpv4Len refuses what the general path must check: options, fragments, bad lengths and checksums", () => {
  const b = packetAt(14);
  const end = b.length;
  const changed = (edit: (p: Ipv4Packet) => void, refill = true) => {
    const c = b.slice();
    const p = new Ipv4Packet(c.subarray(14));
    edit(p);
    if (refill) p.fillChecksum();
    return c;
  };
  assert.equal(plainIpv4Len(changed((p) => (p.ihl = 6)), 14, end, true), -1);
  assert.equal(plainIpv4Len(changed((p) => (p.moreFrags = true)), 14, end, true), -1);
  assert.equal(plainIpv4Len(changed((p) => (p.fragOffset = 8)), 14, end, true), -1);
  assert.equal(plainIpv4Len(changed((p) => (p.totalLen = 53)), 14, end, true), -1);
  assert.equal(plainIpv4Len(changed((p) => (p.totalLen = 19)), 14, end, true), -1);
  assert.equal(plainIpv4Len(b, 14, 14 + 19, true), -1); // shorter than a header
  // A wrong header checksum: refused when verifying, taken when the device checks it.
  const bad = changed((p) => (p.ttl = 1), false);
  assert.equal(plainIpv4Len(bad, 14, end, true), -1);
  assert.equal(plainIpv4Len(bad, 14, end, false), 52);
  // IPv6 and the kernel's own IPv4 with options (Record Route) or a first fragment.
  assert.equal(plainIpv4Len(changed((p) => (p.buffer[0] = 0x65)), 14, end, false), -1);
  const rr = IPV4_UDP_RECORD_ROUTE;
  assert.equal(plainIpv4Len(rr, 14, rr.length, true), -1);
  const frag = IPV4_FRAGMENT_FIRST;
  assert.equal(plainIpv4Len(frag, 14, frag.length, true), -1);
});
