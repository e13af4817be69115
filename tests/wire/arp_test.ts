import assert from "node:assert/strict";
import fc from "fast-check";
import { EthernetAddress, Ipv4Address } from "../../src/wire/address.ts";
import {
  ARP_PACKET_LEN,
  ArpOperation,
  ArpPacket,
  type ArpRepr,
  emitArp,
  parseArp,
} from "../../src/wire/arp.ts";
import { WireError } from "../../src/wire/error.ts";
import { ARP_REPLY, ARP_REQUEST, fromHex } from "./golden/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const REQUEST = ARP_REQUEST.subarray(14);
const REPLY = ARP_REPLY.subarray(14);

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) =>
  EthernetAddress.fromBytes(b)
);
const ipArb = fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v));
const reprArb: fc.Arbitrary<ArpRepr> = fc.record({
  operation: fc.oneof(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 0xffff })),
  senderHardwareAddr: macArb,
  senderProtocolAddr: ipArb,
  targetHardwareAddr: macArb,
  targetProtocolAddr: ipArb,
});

function expectWireError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
}

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
}

Deno.test("parseArp reads the kernel's request", () => {
  assert.deepEqual(parseArp(ArpPacket.newChecked(REQUEST)), {
    operation: ArpOperation.Request,
    senderHardwareAddr: EthernetAddress.parse("02:00:00:00:a1:01"),
    senderProtocolAddr: Ipv4Address.parse("192.0.2.1"),
    targetHardwareAddr: EthernetAddress.ZERO,
    targetProtocolAddr: Ipv4Address.parse("192.0.2.2"),
  });
});

Deno.test("parseArp reads the kernel's reply", () => {
  assert.deepEqual(parseArp(new ArpPacket(REPLY)), {
    operation: ArpOperation.Reply,
    senderHardwareAddr: EthernetAddress.parse("02:00:00:00:a2:01"),
    senderProtocolAddr: Ipv4Address.parse("192.0.2.2"),
    targetHardwareAddr: EthernetAddress.parse("02:00:00:00:a1:01"),
    targetProtocolAddr: Ipv4Address.parse("192.0.2.1"),
  });
});

Deno.test("emitArp reproduces the kernel's request and reply byte for byte", () => {
  for (const golden of [REQUEST, REPLY]) {
    const out = new Uint8Array(ARP_PACKET_LEN);
    emitArp(parseArp(new ArpPacket(golden)), new ArpPacket(out));
    assert.deepEqual(out, golden);
  }
});

Deno.test("ArpPacket accessors read and write every field", () => {
  const p = new ArpPacket(new Uint8Array(ARP_PACKET_LEN));
  p.hardwareType = 1;
  p.protocolType = 0x0800;
  p.hardwareLen = 6;
  p.protocolLen = 4;
  p.operation = 2;
  p.senderHardwareAddr = EthernetAddress.parse("02:00:00:00:a2:01");
  p.senderProtocolAddr = Ipv4Address.parse("192.0.2.2");
  p.targetHardwareAddr = EthernetAddress.parse("02:00:00:00:a1:01");
  p.targetProtocolAddr = Ipv4Address.parse("192.0.2.1");
  assert.deepEqual(p.buffer, REPLY);
  assert.equal(p.hardwareType, 1);
  assert.equal(p.protocolType, 0x0800);
  assert.equal(p.hardwareLen, 6);
  assert.equal(p.protocolLen, 4);
});

Deno.test("parseArp ignores Ethernet padding after the packet", () => {
  const padded = new Uint8Array(46);
  padded.set(REQUEST);
  padded.fill(0xee, ARP_PACKET_LEN);
  assert.deepEqual(parseArp(new ArpPacket(padded)), parseArp(new ArpPacket(REQUEST)));
});

Deno.test("parseArp keeps an unknown operation as a number", () => {
  const rarp = withByte(REQUEST, 7, 3);
  assert.equal(parseArp(new ArpPacket(rarp)).operation, 3);
});

Deno.test("ArpPacket rejects a buffer cut before the addresses end", () => {
  assert.throws(() => ArpPacket.newChecked(REQUEST.subarray(0, 27)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "arp.length");
    return true;
  });
  assert.throws(() => ArpPacket.newChecked(new Uint8Array(7)), WireError);
  // The length fields size the check: a 16-byte protocol address needs 52 bytes.
  const longAddrs = withByte(REQUEST, 5, 16);
  assert.throws(() => ArpPacket.newChecked(longAddrs), WireError);
});

Deno.test("parseArp rejects hardware types other than Ethernet", () => {
  assert.throws(() => parseArp(new ArpPacket(withByte(REQUEST, 1, 6))), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "arp.hardwareType");
    assert.equal(e.value, 6);
    return true;
  });
});

Deno.test("parseArp rejects protocol types other than IPv4", () => {
  const v6 = REQUEST.slice();
  v6.set(fromHex("86dd"), 2);
  assert.throws(() => parseArp(new ArpPacket(v6)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.field, "arp.protocolType");
    assert.equal(e.value, 0x86dd);
    return true;
  });
});

Deno.test("parseArp rejects address lengths other than 6 and 4", () => {
  const longHw = new Uint8Array(64);
  longHw.set(withByte(REQUEST, 4, 8));
  assert.throws(() => parseArp(new ArpPacket(longHw)), /arp\.hardwareLen/);
  const shortProto = withByte(REQUEST, 5, 2);
  assert.throws(() => parseArp(new ArpPacket(shortProto)), /arp\.protocolLen/);
});

Deno.test("emitArp rejects a bad operation and a short buffer", () => {
  const repr = parseArp(new ArpPacket(REQUEST));
  const packet = new ArpPacket(new Uint8Array(ARP_PACKET_LEN));
  assert.throws(() => emitArp({ ...repr, operation: 0x10000 }, packet), RangeError);
  assert.throws(() => emitArp({ ...repr, operation: -1 }, packet), RangeError);
  assert.throws(() => emitArp(repr, new ArpPacket(new Uint8Array(27))), RangeError);
});

Deno.test("ArpRepr survives emit then parse", () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const buf = new Uint8Array(ARP_PACKET_LEN);
      emitArp(repr, new ArpPacket(buf));
      assert.deepEqual(parseArp(ArpPacket.newChecked(buf)), repr);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("parseArp returns a repr or throws WireError for any bytes", () => {
  // Most inputs start with a valid Ethernet/IPv4 prefix so that parsing gets past the types.
  const prefix = fromHex("0001 0800 0604");
  const input = fc.tuple(fc.uint8Array({ maxLength: 40, size: "max" }), fc.nat({ max: 9 })).map(
    ([b, k]) => {
      if (k < 7) b.set(prefix.subarray(0, Math.min(b.length, k === 6 ? 5 : 6)));
      return b;
    },
  );
  let parsed = 0;
  fc.assert(
    fc.property(input, (bytes) => {
      expectWireError(() => {
        const repr = parseArp(new ArpPacket(bytes));
        assert.ok(repr.operation >= 0 && repr.operation <= 0xffff);
        parsed++;
      });
    }),
    { numRuns: RUNS },
  );
  if (RUNS >= 10_000) assert.ok(parsed > RUNS / 20, `only ${parsed} inputs parsed`);
});
