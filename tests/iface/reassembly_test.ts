import assert from "node:assert/strict";
import { type Fragment, Reassembler } from "../../src/iface/reassembly.ts";
import { parseIpAddress } from "../../src/wire/address.ts";

const SRC = parseIpAddress("192.0.2.1");
const DST = parseIpAddress("192.0.2.2");
const SRC6 = parseIpAddress("2001:db8::1");
const DST6 = parseIpAddress("2001:db8::2");

function payload(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

function frag(data: Uint8Array, offset: number, len: number, more: boolean, ident = 1): Fragment {
  return {
    src: SRC,
    dst: DST,
    protocol: 17,
    ident,
    offset,
    more,
    data: data.subarray(offset, offset + len),
    packet: null,
  };
}

function frag6(data: Uint8Array, offset: number, len: number, more: boolean, ident = 1): Fragment {
  return { ...frag(data, offset, len, more, ident), src: SRC6, dst: DST6, protocol: 58 };
}

function done(r: unknown): Uint8Array {
  assert.ok(typeof r === "object" && r !== null && "payload" in r, `not complete: ${r}`);
  return (r as { payload: Uint8Array }).payload;
}

Deno.test("Reassembler completes a datagram from out-of-order fragments", () => {
  const r = new Reassembler(4);
  const data = payload(3000);
  assert.equal(r.add(frag(data, 2400, 600, false), 0), null);
  assert.equal(r.add(frag(data, 0, 800, true), 0), null);
  assert.equal(r.add(frag(data, 1600, 800, true), 0), null);
  assert.deepEqual(done(r.add(frag(data, 800, 800, true), 0)), data);
  assert.equal(r.count, 0);
  assert.equal(r.bytes, 0);
});

Deno.test("Reassembler ignores duplicate fragments and keeps the first copy of IPv4 overlaps", () => {
  const r = new Reassembler(4);
  const data = payload(1600);
  assert.equal(r.add(frag(data, 0, 808, true), 0), null);
  assert.equal(r.add(frag(data, 0, 808, true), 0), "duplicate");
  const evil = data.slice();
  evil.fill(0xee, 800, 808);
  // 800..1600 overlaps the first fragment on 800..808 with different bytes: first copy wins.
  const last: Fragment = { ...frag(evil, 800, 800, false) };
  assert.deepEqual(done(r.add(last, 0)), data);
});

Deno.test("Reassembler drops the whole IPv6 datagram on an overlapping fragment (RFC 5722)", () => {
  const r = new Reassembler(6);
  const data = payload(1600);
  assert.equal(r.add(frag6(data, 0, 808, true), 0), null);
  assert.equal(r.add(frag6(data, 0, 808, true), 0), "duplicate");
  assert.equal(r.add(frag6(data, 800, 800, false), 0), "overlap");
  assert.equal(r.count, 0);
  // The remaining fragments of the dropped datagram start a new one that never completes.
  assert.equal(r.add(frag6(data, 808, 792, false), 0), null);
  assert.equal(r.count, 1);
});

Deno.test("Reassembler rejects fragments that are not multiples of 8 or exceed 65535 bytes", () => {
  const r = new Reassembler(4);
  const data = payload(70000);
  assert.equal(r.add(frag(data, 0, 100, true), 0), "malformed");
  assert.equal(r.add(frag(data, 65528, 100, false), 0), "malformed");
  assert.equal(r.add(frag(data, 0, 0, true), 0), "malformed");
});

Deno.test("Reassembler drops a datagram whose last fragment contradicts earlier data", () => {
  const r = new Reassembler(4);
  const data = payload(3000);
  assert.equal(r.add(frag(data, 1600, 800, true), 0), null);
  assert.equal(r.add(frag(data, 800, 800, false), 0), "malformed");
  assert.equal(r.count, 0);
});

Deno.test("Reassembler times out a partial datagram at exactly its deadline", () => {
  const r = new Reassembler(4, { timeout: 30_000 });
  const data = payload(1600);
  const first: Fragment = { ...frag(data, 0, 800, true), packet: new Uint8Array(828) };
  r.add(first, 1000);
  r.add(frag(data, 0, 800, true, 2), 5000);
  assert.equal(r.pollAt(), 31_000);
  assert.equal(r.expire(30_999).length, 0);
  const gone = r.expire(31_000);
  assert.equal(gone.length, 1);
  assert.equal(gone[0]!.firstPacket?.length, 828);
  assert.equal(r.pollAt(), 35_000);
  assert.equal(r.add(frag(data, 800, 800, false), 31_000), null); // the late rest starts over
});

Deno.test("Reassembler keeps a fragment flood within its memory and datagram bounds", () => {
  const maxBytes = 64 * 1024;
  const r = new Reassembler(4, { maxDatagrams: 8, maxBytes });
  const data = payload(65528);
  let evicted = 0;
  for (let i = 0; i < 5000; i++) {
    // Each flood datagram claims a far offset so that its buffer would be large.
    const res = r.add(frag(data, (i * 8) % 60000, 8, true, i), i);
    if (res === "overflow") evicted++;
    evicted += r.takeEvicted();
    assert.ok(r.bytes <= maxBytes, `bytes ${r.bytes}`);
    assert.ok(r.count <= 8);
  }
  assert.ok(evicted >= 4992 - 8);
  // A legitimate datagram still gets through afterwards.
  const small = payload(1200);
  r.add(frag(small, 0, 600, true, 99999), 6000);
  assert.deepEqual(done(r.add(frag(small, 600, 600, false, 99999), 6000)), small);
});
