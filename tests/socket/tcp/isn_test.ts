import assert from "node:assert/strict";
import { initialSequenceNumber, sipHash24, timestampOffset } from "../../../src/socket/tcp/isn.ts";
import { type IpEndpoint, Ipv4Address, parseIpAddress } from "../../../src/wire/address.ts";

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);

function ep(addr: string, port: number): IpEndpoint {
  return { addr: parseIpAddress(addr), port };
}

const LOCAL = ep("192.0.2.2", 49152);
const REMOTE = ep("192.0.2.1", 80);

Deno.test("sipHash24 matches the SipHash-2-4 reference vectors", () => {
  // Key 00..0f, message 00..(n-1): the paper's Appendix A vector (n = 15) and the reference
  // implementation's vectors for every tail length and several blocks.
  const vectors: [number, bigint][] = [
    [0, 0x726fdb47dd0e0e31n],
    [1, 0x74f839c593dc67fdn],
    [2, 0x0d6c8009d9a94f5an],
    [3, 0x85676696d7fb7e2dn],
    [4, 0xcf2794e0277187b7n],
    [5, 0x18765564cd99a68dn],
    [6, 0xcbc9466e58fee3cen],
    [7, 0xab0200f58b01d137n],
    [8, 0x93f5f5799a932462n],
    [9, 0x9e0082df0ba9e4b0n],
    [15, 0xa129ca6149be45e5n],
    [16, 0x3f2acc7f57c29bdbn],
    [31, 0x32d892fad841c342n],
    [63, 0x958a324ceb064572n],
  ];
  for (const [n, expected] of vectors) {
    const msg = Uint8Array.from({ length: n }, (_, i) => i);
    assert.equal(sipHash24(KEY, msg), expected, `length ${n}`);
  }
});

Deno.test("sipHash24 rejects keys that are not 16 bytes", () => {
  assert.throws(() => sipHash24(new Uint8Array(15), new Uint8Array(0)), RangeError);
  assert.throws(
    () => initialSequenceNumber(0, new Uint8Array(32), LOCAL, REMOTE),
    RangeError,
  );
});

Deno.test("initialSequenceNumber hashes local address, local port, remote address, remote port", () => {
  const tuple = new Uint8Array([192, 0, 2, 2, 0xc0, 0x00, 192, 0, 2, 1, 0x00, 80]);
  const f = Number(sipHash24(KEY, tuple) & 0xffffffffn);
  assert.equal(initialSequenceNumber(0, KEY, LOCAL, REMOTE), f);
  assert.equal(initialSequenceNumber(1, KEY, LOCAL, REMOTE), (f + 250) >>> 0);
});

Deno.test("initialSequenceNumber gives the same number for the same inputs", () => {
  const a = initialSequenceNumber(12_345.678, KEY, LOCAL, REMOTE);
  const b = initialSequenceNumber(12_345.678, KEY, LOCAL, REMOTE);
  assert.equal(a, b);
  assert.ok(Number.isInteger(a) && a >= 0 && a <= 0xffffffff);
  const six = [ep("2001:db8::2", 40000), ep("2001:db8::1", 443)] as const;
  assert.equal(
    initialSequenceNumber(5, KEY, six[0], six[1]),
    initialSequenceNumber(5, KEY, six[0], six[1]),
  );
});

Deno.test("initialSequenceNumber differs when any part of the 4-tuple differs", () => {
  const base = initialSequenceNumber(0, KEY, LOCAL, REMOTE);
  const variants = [
    initialSequenceNumber(0, KEY, ep("192.0.2.3", 49152), REMOTE),
    initialSequenceNumber(0, KEY, ep("192.0.2.2", 49153), REMOTE),
    initialSequenceNumber(0, KEY, LOCAL, ep("192.0.2.9", 80)),
    initialSequenceNumber(0, KEY, LOCAL, ep("192.0.2.1", 81)),
    initialSequenceNumber(0, KEY, REMOTE, LOCAL),
    initialSequenceNumber(0, KEY, ep("::ffff:192.0.2.2", 49152), ep("::ffff:192.0.2.1", 80)),
  ];
  assert.equal(new Set([base, ...variants]).size, variants.length + 1);
});

Deno.test("initialSequenceNumber advances by one every 4 microseconds", () => {
  const at = (now: number): number => initialSequenceNumber(now, KEY, LOCAL, REMOTE);
  assert.equal((at(0.004) - at(0)) >>> 0, 1);
  assert.equal((at(0.003) - at(0)) >>> 0, 0);
  assert.equal((at(1000.004) - at(1000)) >>> 0, 1);
  assert.equal((at(1) - at(0)) >>> 0, 250);
  assert.equal((at(61_000) - at(1_000)) >>> 0, 15_000_000);
  // Five hours is 4.5e9 ticks: the clock term wraps modulo 2^32.
  assert.equal((at(18_000_000 + 7) - at(7)) >>> 0, 4_500_000_000 - 2 ** 32);
});

Deno.test("initialSequenceNumber under different secrets is uncorrelated", () => {
  const other = new Uint8Array(KEY);
  other[0]! ^= 1; // one bit apart
  const n = 4000;
  const agree = new Array<number>(32).fill(0);
  const diffs = new Set<number>();
  for (let i = 0; i < n; i++) {
    const local = { addr: new Ipv4Address(0x0a000000 + i), port: 1024 + (i * 7919) % 60000 };
    const a = initialSequenceNumber(0, KEY, local, REMOTE);
    const b = initialSequenceNumber(0, other, local, REMOTE);
    diffs.add((a - b) >>> 0);
    for (let bit = 0; bit < 32; bit++) if (((a ^ b) >>> bit & 1) === 0) agree[bit]!++;
  }
  // Each bit agrees about half the time (sd 0.8%), and the offset between the two is not fixed.
  for (const count of agree) assert.ok(Math.abs(count / n - 0.5) < 0.05, `agreement ${count}`);
  assert.ok(diffs.size > n - 5);
});

Deno.test("initialSequenceNumber spreads evenly over local ports", () => {
  const high = new Array<number>(256).fill(0);
  const low = new Array<number>(256).fill(0);
  const seen = new Set<number>();
  for (let port = 0; port < 65536; port++) {
    const isn = initialSequenceNumber(0, KEY, { addr: LOCAL.addr, port }, REMOTE);
    high[isn >>> 24]!++;
    low[isn & 0xff]!++;
    seen.add(isn);
  }
  const chiSquare = (counts: number[]): number => {
    const expected = 65536 / counts.length;
    return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  };
  // 255 degrees of freedom: mean 255, sd about 22.6.
  assert.ok(chiSquare(high) < 400, `high byte chi-square ${chiSquare(high)}`);
  assert.ok(chiSquare(low) < 400, `low byte chi-square ${chiSquare(low)}`);
  // 65536 draws from 2^32 values: about 0.5 collisions expected.
  assert.ok(seen.size >= 65536 - 5, `collisions ${65536 - seen.size}`);
});

Deno.test("timestampOffset repeated for one address pair equals a fresh computation, and follows the key and addresses", () => {
  const a = Ipv4Address.parse("192.0.2.2"), b = Ipv4Address.parse("192.0.2.1");
  const c = Ipv4Address.parse("192.0.2.3");
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  // Reference: the low 32 bits of SipHash-2-4 over 0x54, local, remote.
  const ref = (k: Uint8Array, l: Ipv4Address, r: Ipv4Address) =>
    Number(sipHash24(k, Uint8Array.from([0x54, ...l.octets(), ...r.octets()])) & 0xffffffffn);
  assert.equal(timestampOffset(key, a, b), ref(key, a, b));
  assert.equal(timestampOffset(key, a, b), ref(key, a, b)); // asked again: the same
  assert.equal(timestampOffset(key, a, c), ref(key, a, c));
  assert.equal(timestampOffset(key, c, b), ref(key, c, b));
  // The same key object changed in place gives the new key's offset, not the last answer.
  assert.equal(timestampOffset(key, a, b), ref(key, a, b));
  key[5] = 0xaa;
  assert.equal(timestampOffset(key, a, b), ref(key, a, b));
  assert.notEqual(
    ref(key, a, b),
    timestampOffset(Uint8Array.from({ length: 16 }, (_, i) => i), a, b),
  );
});
