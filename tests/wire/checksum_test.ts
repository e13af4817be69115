import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import {
  checksumFinish,
  checksumSum,
  checksumUpdate,
  internetChecksum,
  pseudoHeaderSum,
} from "../../src/wire/checksum.ts";
import { Ipv4Packet } from "../../src/wire/ipv4.ts";
import { Ipv6Packet, walkIpv6Headers } from "../../src/wire/ipv6.ts";
import {
  IPV4_ECHO_REQUEST,
  IPV4_UDP_RECORD_ROUTE,
  IPV6_ECHO_REQUEST,
  IPV6_NA,
  IPV6_UDP_HBH_DSTOPTS,
  IPV6_UDP_SRH,
  MLD_REPORT_HBH,
} from "./golden/kernel_frames.ts";

/** RFC 1071 by the book: 16-bit big-endian words, end-around carry after every addition. */
function reference(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i]! << 8) | (data[i + 1] ?? 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

/** A deterministic pseudo-random buffer (xorshift32) so failures reproduce. */
function randomBytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed | 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Equal as ones'-complement numbers: 0x0000 and 0xffff are both zero. */
function sameOnesComplement(a: number, b: number): boolean {
  return a === b || (a % 0xffff === 0 && b % 0xffff === 0);
}

Deno.test("internetChecksum matches the reference for every length from 0 to 2000", () => {
  for (let len = 0; len <= 2000; len++) {
    const b = randomBytes(len, len * 7919 + 1);
    assert.equal(internetChecksum(b), reference(b), `length ${len}`);
  }
});

Deno.test("internetChecksum matches the reference at every byte alignment", () => {
  const backing = randomBytes(4096 + 8, 12345);
  for (let offset = 0; offset < 8; offset++) {
    for (const len of [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1460, 1461, 4096]) {
      const b = backing.subarray(offset, offset + len);
      assert.equal(internetChecksum(b), reference(b), `offset ${offset} length ${len}`);
    }
  }
});

Deno.test("internetChecksum matches the reference on 64 KiB buffers, random and worst case", () => {
  for (const seed of [1, 2, 3]) {
    const b = randomBytes(65536, seed);
    assert.equal(internetChecksum(b), reference(b));
    const odd = b.subarray(1, 65536);
    assert.equal(internetChecksum(odd), reference(odd));
  }
  // All ones: the largest possible lane sums.
  const ones = new Uint8Array(65536).fill(0xff);
  assert.equal(internetChecksum(ones), reference(ones));
  assert.equal(internetChecksum(ones), 0);
  const big = new Uint8Array(1 << 20).fill(0xff);
  big[0] = 0x12;
  assert.equal(internetChecksum(big), reference(big));
  assert.equal(internetChecksum(new Uint8Array(65536)), 0xffff);
});

Deno.test("internetChecksum matches the reference for random slices of a shared buffer", () => {
  const backing = randomBytes(8192, 777);
  fc.assert(
    fc.property(fc.nat({ max: 8192 }), fc.nat({ max: 8192 }), (a, b) => {
      const slice = backing.subarray(Math.min(a, b), Math.max(a, b));
      assert.equal(internetChecksum(slice), reference(slice));
    }),
    { numRuns: 3_000 },
  );
});

Deno.test("internetChecksum is right across several 4 MiB chunks of 32-bit words", () => {
  const big = randomBytes(9 * 1024 * 1024 + 5, 4242);
  for (const offset of [0, 1, 2, 3]) {
    const b = big.subarray(offset);
    assert.equal(internetChecksum(b), reference(b), `offset ${offset}`);
  }
  const ones = new Uint8Array(9 * 1024 * 1024).fill(0xff);
  assert.equal(internetChecksum(ones.subarray(2)), 0);
});

Deno.test("internetChecksum handles shared, resized and alternating buffers", () => {
  const shared = new Uint8Array(new SharedArrayBuffer(3000));
  shared.set(randomBytes(3000, 5));
  assert.equal(internetChecksum(shared.subarray(1)), reference(shared.subarray(1)));
  const rab = new ArrayBuffer(4096, { maxByteLength: 8192 });
  const view = new Uint8Array(rab);
  view.set(randomBytes(4096, 6));
  assert.equal(internetChecksum(view.subarray(2, 4000)), reference(view.subarray(2, 4000)));
  rab.resize(1024); // the cached word view is now out of bounds
  assert.equal(
    internetChecksum(new Uint8Array(rab, 6, 1000)),
    reference(new Uint8Array(rab, 6, 1000)),
  );
  rab.resize(8192); // and now too short
  const grown = new Uint8Array(rab, 3);
  grown.set(randomBytes(grown.length, 7));
  assert.equal(internetChecksum(grown), reference(grown));
  const a = randomBytes(1500, 8), b = randomBytes(1500, 9);
  for (let i = 0; i < 4; i++) {
    assert.equal(internetChecksum(a), reference(a));
    assert.equal(internetChecksum(b), reference(b));
  }
});

Deno.test("internetChecksum of RFC 1071 §3's example", () => {
  // 00 01 f2 03 f4 f5 f6 f7: the one's complement sum is ddf2, so the checksum is 220d.
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(checksumSum(b), 0xddf2);
  assert.equal(internetChecksum(b), 0x220d);
});

Deno.test("checksumSum chains over several buffers with even lengths", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }).map((b) => b.subarray(0, b.length & ~1)), {
        maxLength: 5,
      }),
      fc.uint8Array({ maxLength: 301 }),
      (parts, last) => {
        let sum = 0;
        for (const p of parts) sum = checksumSum(p, sum);
        sum = checksumSum(last, sum);
        const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + last.length);
        let o = 0;
        for (const p of [...parts, last]) {
          whole.set(p, o);
          o += p.length;
        }
        assert.ok(sameOnesComplement(checksumFinish(sum), reference(whole)));
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("pseudoHeaderSum for IPv4 equals a hand computation", () => {
  // c000 + 0201 + c000 + 0202 + 0011 + 0008 = 1841c; end-around carry: 841c + 1 = 841d.
  const sum = pseudoHeaderSum(
    Ipv4Address.parse("192.0.2.1"),
    Ipv4Address.parse("192.0.2.2"),
    17,
    8,
  );
  assert.equal(sum, 0x841d);
});

Deno.test("pseudoHeaderSum for IPv6 equals a hand computation", () => {
  // 2001 + 0db8 + 0001 + 2001 + 0db8 + 0002 + 0000 + 0020 + 003a = 5bcf (no carry).
  const sum = pseudoHeaderSum(
    Ipv6Address.parse("2001:db8::1"),
    Ipv6Address.parse("2001:db8::2"),
    58,
    32,
  );
  assert.equal(sum, 0x5bcf);
  // The 32-bit upper-layer length contributes both halves (RFC 8200 §8.1): 0x12345 adds 1 + 2345.
  const jumbo = pseudoHeaderSum(Ipv6Address.UNSPECIFIED, Ipv6Address.UNSPECIFIED, 0, 0x12345);
  assert.equal(jumbo, 0x2346);
  // All-ones addresses force several carries.
  const ones = Ipv6Address.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  // 16 words of ffff are -0; the length halves ffff + ffff are -0 too; what is left is 0xff.
  assert.equal(pseudoHeaderSum(ones, ones, 255, 0xffffffff), 0xff);
});

Deno.test("pseudoHeaderSum agrees with summing a pseudo-header built in bytes", () => {
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Ipv6Address.fromBytes(b));
  const v4 = fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v));
  fc.assert(
    fc.property(v4, v4, fc.nat({ max: 255 }), fc.nat({ max: 0xffff }), (s, d, p, len) => {
      const ph = new Uint8Array(12);
      s.writeTo(ph, 0);
      d.writeTo(ph, 4);
      ph.set([0, p, len >> 8, len & 0xff], 8);
      assert.ok(sameOnesComplement(~pseudoHeaderSum(s, d, p, len) & 0xffff, reference(ph)));
    }),
    { numRuns: 2_000 },
  );
  fc.assert(
    fc.property(v6, v6, fc.nat({ max: 255 }), fc.nat({ max: 0xffffffff }), (s, d, p, len) => {
      const ph = new Uint8Array(40);
      s.writeTo(ph, 0);
      d.writeTo(ph, 16);
      ph.set([len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0, 0, 0, p], 32);
      assert.ok(sameOnesComplement(~pseudoHeaderSum(s, d, p, len) & 0xffff, reference(ph)));
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("Checksums of the kernel's frames verify with our pseudo-headers", () => {
  // IPv4 header checksums, and the ICMP checksum (no pseudo-header).
  const echo = Ipv4Packet.newChecked(IPV4_ECHO_REQUEST.subarray(14));
  assert.equal(internetChecksum(echo.buffer.subarray(0, echo.headerLen)), 0);
  assert.equal(internetChecksum(echo.payload), 0);
  // The kernel left this UDP checksum to offload (CHECKSUM_PARTIAL on veth): the field holds
  // the uncomplemented pseudo-header sum, which is exactly what pseudoHeaderSum computes; the
  // full checksum is 0x898a, the value tshark expects.
  const rr = Ipv4Packet.newChecked(IPV4_UDP_RECORD_ROUTE.subarray(14));
  assert.equal(internetChecksum(rr.buffer.subarray(0, rr.headerLen)), 0);
  const udp = rr.payload.slice();
  const ph = pseudoHeaderSum(rr.src, rr.dst, 17, udp.length);
  assert.equal((udp[6]! << 8) | udp[7]!, ph);
  udp[6] = 0;
  udp[7] = 0;
  assert.equal(checksumFinish(checksumSum(udp, ph)), 0x898a);
  // ICMPv6 and UDP over IPv6, behind extension headers where present.
  for (
    const frame of [IPV6_ECHO_REQUEST, IPV6_NA, MLD_REPORT_HBH, IPV6_UDP_HBH_DSTOPTS, IPV6_UDP_SRH]
  ) {
    const p = Ipv6Packet.newChecked(frame.subarray(14));
    const chain = walkIpv6Headers(p);
    const upper = p.payload.subarray(chain.upperLayerOffset);
    // With a Routing header the pseudo-header uses the final destination: here segments left is
    // 0, so the final destination is the header's own.
    const ph = pseudoHeaderSum(p.src, p.dst, chain.upperLayer, upper.length);
    assert.equal(checksumFinish(checksumSum(upper, ph)), 0, `frame ${frame.length} bytes`);
  }
});

Deno.test("checksumUpdate follows RFC 1624 eqn. 3 for any single-word change", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2, maxLength: 200 }).map((b) => b.subarray(0, b.length & ~1)),
      fc.nat(),
      fc.nat({ max: 0xffff }),
      (data, pick, newWord) => {
        // Bytes 0–1 are the checksum field; change one other word.
        const b = new Uint8Array(data.length + 2);
        b.set(data, 2);
        const field = internetChecksum(b);
        b[0] = field >> 8;
        b[1] = field & 0xff;
        assert.equal(internetChecksum(b), 0);
        const at = 2 + 2 * (pick % Math.max(1, data.length / 2));
        if (at + 1 >= b.length) return;
        const oldWord = (b[at]! << 8) | b[at + 1]!;
        b[at] = newWord >> 8;
        b[at + 1] = newWord & 0xff;
        const updated = checksumUpdate(field, oldWord, newWord);
        b[0] = 0;
        b[1] = 0;
        assert.ok(sameOnesComplement(updated, internetChecksum(b)));
        // RFC 1624 §3: eqn. 3 yields 0x0000 where recomputation gives 0xffff only when every
        // other covered word is zero, which no real header is.
        if (b.some((x) => x !== 0)) {
          b[0] = updated >> 8;
          b[1] = updated & 0xff;
          assert.equal(internetChecksum(b), 0, "the updated field verifies");
        }
      },
    ),
    { numRuns: 5_000 },
  );
});

Deno.test("checksumUpdate of RFC 1624 §4's example gives 0x0000, not 0xffff", () => {
  // RFC 1624 §4: the other header words sum to 0xcd7a, so with m = 0x5555 the checksum is
  // 0xdd2f; m' = 0x3285 makes the recomputed checksum 0x0000, which eqn. 3 gets right and
  // RFC 1141's eqn. 2 did not (0xffff).
  assert.equal(checksumUpdate(0xdd2f, 0x5555, 0x3285), 0x0000);
});
