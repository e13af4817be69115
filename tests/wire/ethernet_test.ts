import assert from "node:assert/strict";
import fc from "fast-check";
import { EthernetAddress } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitEthernet,
  ETHERNET_HEADER_LEN,
  ethernetBufferLen,
  EthernetFrame,
  ethernetHeaderLen,
  type EthernetRepr,
  EtherType,
  parseEthernet,
} from "../../src/wire/ethernet.ts";
import { ARP_REQUEST, fromHex, IPV6_NS_DAD, MLD_REPORT_HBH } from "./golden/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const MAC_A1 = EthernetAddress.parse("02:00:00:00:a1:01");

/** Hand-made: 802.1Q tag with PCP 5, DEI 0, VLAN 100 carrying IPv4 (4 payload bytes). */
const VLAN_FRAME = fromHex(
  "020000000002" + "020000000001" + "8100" + "a064" + "0800" + "deadbeef",
);

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) =>
  EthernetAddress.fromBytes(b)
);
const reprArb: fc.Arbitrary<EthernetRepr> = fc.record({
  src: macArb,
  dst: macArb,
  etherType: fc.integer({ min: 0, max: 0xffff }),
  vlan: fc.option(
    fc.record({ id: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }) }),
    { nil: null },
  ),
});

function expectWireError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

Deno.test("EthernetFrame reads a kernel ARP broadcast", () => {
  const frame = EthernetFrame.newChecked(ARP_REQUEST);
  assert.ok(frame.dst.equals(EthernetAddress.BROADCAST));
  assert.ok(frame.src.equals(MAC_A1));
  assert.equal(frame.etherType, EtherType.Arp);
  assert.equal(frame.hasVlanTag, false);
  assert.equal(frame.vlanId, null);
  assert.equal(frame.vlanPcp, null);
  assert.equal(frame.vlanDei, null);
  assert.equal(frame.headerLen, ETHERNET_HEADER_LEN);
  assert.equal(frame.payload.length, 28);
  assert.equal(frame.payload.buffer, ARP_REQUEST.buffer, "payload is a view");
});

Deno.test("parseEthernet reads kernel multicast IPv6 frames", () => {
  const mld = parseEthernet(new EthernetFrame(MLD_REPORT_HBH));
  assert.equal(mld.dst.toString(), "33:33:00:00:00:16");
  assert.equal(mld.src.toString(), "02:00:00:00:a2:01");
  assert.equal(mld.etherType, EtherType.Ipv6);
  assert.equal(mld.vlan, null);
  assert.ok(mld.dst.isMulticast);
  const ns = parseEthernet(new EthernetFrame(IPV6_NS_DAD));
  assert.equal(ns.dst.toString(), "33:33:ff:00:a2:01");
});

Deno.test("emitEthernet reproduces the kernel's ARP frame header", () => {
  const repr = parseEthernet(new EthernetFrame(ARP_REQUEST));
  const out = new Uint8Array(ethernetBufferLen(repr, 28));
  emitEthernet(repr, new EthernetFrame(out));
  assert.deepEqual(out.subarray(0, 14), ARP_REQUEST.subarray(0, 14));
  assert.equal(ethernetHeaderLen(repr), 14);
});

Deno.test("EthernetFrame skips an 802.1Q tag", () => {
  const frame = EthernetFrame.newChecked(VLAN_FRAME);
  assert.equal(frame.hasVlanTag, true);
  assert.equal(frame.vlanId, 100);
  assert.equal(frame.vlanPcp, 5);
  assert.equal(frame.vlanDei, false);
  assert.equal(frame.etherType, EtherType.Ipv4);
  assert.equal(frame.headerLen, 18);
  assert.deepEqual(frame.payload, fromHex("deadbeef"));
  assert.deepEqual(parseEthernet(frame), {
    src: EthernetAddress.parse("02:00:00:00:00:01"),
    dst: EthernetAddress.parse("02:00:00:00:00:02"),
    etherType: EtherType.Ipv4,
    vlan: { id: 100, pcp: 5 },
  });
});

Deno.test("emitEthernet writes the 802.1Q tag byte for byte", () => {
  const out = new Uint8Array(VLAN_FRAME.length);
  const frame = new EthernetFrame(out);
  const repr = parseEthernet(new EthernetFrame(VLAN_FRAME));
  assert.equal(ethernetHeaderLen(repr), 18);
  emitEthernet(repr, frame);
  frame.payload.set(fromHex("deadbeef"));
  assert.deepEqual(out, VLAN_FRAME);
});

Deno.test("EthernetFrame setters write the tag fields in place", () => {
  const frame = new EthernetFrame(VLAN_FRAME.slice());
  frame.vlanId = 4095;
  frame.vlanPcp = 7;
  frame.vlanDei = true;
  frame.etherType = EtherType.Ipv6;
  assert.deepEqual(frame.buffer.subarray(12, 18), fromHex("8100 ffff 86dd"));
  frame.vlanPcp = 0;
  frame.vlanDei = false;
  assert.deepEqual(frame.buffer.subarray(14, 16), fromHex("0fff"));
  frame.dst = EthernetAddress.BROADCAST;
  frame.src = MAC_A1;
  assert.deepEqual(frame.buffer.subarray(0, 12), fromHex("ffffffffffff 02000000a101"));
});

Deno.test("EthernetFrame refuses to set VLAN fields on an untagged frame", () => {
  const frame = new EthernetFrame(ARP_REQUEST.slice());
  assert.throws(() => (frame.vlanId = 1), RangeError);
  assert.throws(() => (frame.vlanPcp = 1), RangeError);
  assert.throws(() => (frame.vlanDei = true), RangeError);
  frame.etherType = EtherType.Ipv4;
  assert.deepEqual(frame.buffer.subarray(12, 14), fromHex("0800"));
});

Deno.test("EthernetFrame rejects a buffer shorter than 14 bytes", () => {
  assert.throws(() => EthernetFrame.newChecked(new Uint8Array(13)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "ethernet.length");
    assert.equal(e.value, 13);
    return true;
  });
  EthernetFrame.newChecked(new Uint8Array(14));
});

Deno.test("EthernetFrame rejects a tagged frame cut inside the tag", () => {
  const cut = VLAN_FRAME.subarray(0, 17);
  assert.throws(() => EthernetFrame.newChecked(cut), WireError);
  assert.throws(() => parseEthernet(new EthernetFrame(cut)), WireError);
  EthernetFrame.newChecked(VLAN_FRAME.subarray(0, 18));
});

Deno.test("emitEthernet rejects out-of-range fields and short buffers", () => {
  const base: EthernetRepr = { src: MAC_A1, dst: MAC_A1, etherType: 0x0800, vlan: null };
  const frame = new EthernetFrame(new Uint8Array(18));
  assert.throws(() => emitEthernet({ ...base, etherType: 0x10000 }, frame), RangeError);
  assert.throws(() => emitEthernet({ ...base, etherType: -1 }, frame), RangeError);
  assert.throws(() => emitEthernet({ ...base, vlan: { id: 4096, pcp: 0 } }, frame), RangeError);
  assert.throws(() => emitEthernet({ ...base, vlan: { id: 1, pcp: 8 } }, frame), RangeError);
  assert.throws(() => emitEthernet({ ...base, vlan: { id: 1.5, pcp: 0 } }, frame), RangeError);
  assert.throws(
    () => emitEthernet({ ...base, vlan: { id: 1, pcp: 0 } }, new EthernetFrame(new Uint8Array(17))),
    RangeError,
  );
  assert.throws(() => emitEthernet(base, new EthernetFrame(new Uint8Array(13))), RangeError);
});

Deno.test("EthernetRepr survives emit then parse", () => {
  fc.assert(
    fc.property(reprArb, fc.nat({ max: 64 }), (repr, payloadLen) => {
      const buf = new Uint8Array(ethernetBufferLen(repr, payloadLen));
      const frame = new EthernetFrame(buf);
      emitEthernet(repr, frame);
      assert.deepEqual(parseEthernet(EthernetFrame.newChecked(buf)), repr);
      assert.equal(frame.payload.length, payloadLen);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("parseEthernet returns a repr or throws WireError for any bytes", () => {
  // Half the inputs carry the 802.1Q TPID so that the tag path is exercised.
  const input = fc.tuple(fc.uint8Array({ maxLength: 24, size: "max" }), fc.boolean()).map(
    ([b, tag]) => {
      if (tag && b.length >= 14) b.set([0x81, 0x00], 12);
      return b;
    },
  );
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const repr = parseEthernet(new EthernetFrame(bytes));
        assert.ok(repr.etherType >= 0 && repr.etherType <= 0xffff);
      });
    }),
    { numRuns: RUNS },
  );
});
