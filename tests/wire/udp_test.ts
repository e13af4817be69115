import assert from "node:assert/strict";
import fc from "fast-check";
import { type IpAddress, Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitUdp,
  parseUdp,
  UDP_HEADER_LEN,
  udpBufferLen,
  UdpPacket,
  type UdpRepr,
} from "../../src/wire/udp.ts";
import { hex, UDP4, UDP4_NO_CHECKSUM, UDP6 } from "./golden_b/kernel_frames.ts";
import { ipv4Parts, ipv6Parts } from "./golden_b/frame_parts.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const A4 = Ipv4Address.parse("198.51.100.1");
const B4 = Ipv4Address.parse("198.51.100.2");
const A6 = Ipv6Address.parse("2001:db8:b::1");
const B6 = Ipv6Address.parse("2001:db8:b::2");

function emitted(repr: UdpRepr, payload: Uint8Array, src: IpAddress, dst: IpAddress): UdpPacket {
  const packet = new UdpPacket(new Uint8Array(udpBufferLen(repr, payload.length)));
  emitUdp(repr, payload, packet, src, dst);
  return packet;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.field === field);
}

Deno.test("UdpPacket parses the kernel's IPv4 datagram with an odd payload length", () => {
  const { src, dst, protocol, payload } = ipv4Parts(UDP4);
  assert.equal(protocol, 17);
  const packet = UdpPacket.newChecked(payload);
  assert.deepEqual(parseUdp(packet, src, dst), { srcPort: 40001, dstPort: 9 });
  assert.equal(packet.length, 13);
  assert.deepEqual(packet.payload, new TextEncoder().encode("hello"));
});

Deno.test("UdpPacket emits the kernel's IPv4 datagram byte for byte", () => {
  const { src, dst, payload } = ipv4Parts(UDP4);
  const out = emitted({ srcPort: 40001, dstPort: 9 }, new TextEncoder().encode("hello"), src, dst);
  assert.deepEqual(out.buffer, payload);
});

Deno.test("UdpPacket accepts the kernel's zero checksum over IPv4 (SO_NO_CHECK)", () => {
  const { src, dst, payload } = ipv4Parts(UDP4_NO_CHECKSUM);
  const packet = new UdpPacket(payload);
  assert.equal(packet.checksum, 0);
  assert.deepEqual(parseUdp(packet, src, dst), { srcPort: 40002, dstPort: 9 });
  assert.deepEqual(packet.payload, new TextEncoder().encode("smolnet\n"));
});

Deno.test("UdpPacket emits with fillChecksum false and leaves the checksum zero", () => {
  const { src, dst, payload } = ipv4Parts(UDP4_NO_CHECKSUM);
  const packet = new UdpPacket(new Uint8Array(16));
  emitUdp({ srcPort: 40002, dstPort: 9 }, new TextEncoder().encode("smolnet\n"), packet, src, dst, {
    fillChecksum: false,
  });
  assert.deepEqual(packet.buffer, payload);
});

Deno.test("UdpPacket parses and re-emits the kernel's IPv6 datagram", () => {
  const { src, dst, nextHeader, payload } = ipv6Parts(UDP6);
  assert.equal(nextHeader, 17);
  const packet = UdpPacket.newChecked(payload);
  const repr = parseUdp(packet, src, dst);
  assert.deepEqual(repr, { srcPort: 40003, dstPort: 9 });
  assert.deepEqual(emitted(repr, packet.payload, src, dst).buffer, payload);
});

Deno.test("UdpPacket sends a computed checksum of zero as 0xffff", () => {
  // 192.0.2.1:1 -> 192.0.2.2:2, payload chosen so that the ones'-complement sum is 0xffff.
  const src = Ipv4Address.parse("192.0.2.1");
  const dst = Ipv4Address.parse("192.0.2.2");
  const golden = hex("0001 0002 000a ffff 7bd3");
  const out = emitted({ srcPort: 1, dstPort: 2 }, hex("7bd3"), src, dst);
  assert.deepEqual(out.buffer, golden);
  assert.equal(out.checksum, 0xffff);
  assert.deepEqual(parseUdp(out, src, dst), { srcPort: 1, dstPort: 2 });
});

Deno.test("UdpPacket rejects a zero checksum over IPv6", () => {
  const packet = emitted({ srcPort: 1, dstPort: 2 }, hex("0102"), A6, B6);
  packet.checksum = 0;
  rejects(() => parseUdp(packet, A6, B6), "udp.checksum");
  // Without verification (offloaded) the datagram is taken as it is.
  assert.deepEqual(parseUdp(packet, A6, B6, { verifyChecksum: false }), { srcPort: 1, dstPort: 2 });
});

Deno.test("UdpPacket rejects a wrong checksum unless verification is off", () => {
  const { src, dst, payload } = ipv4Parts(UDP4);
  const copy = payload.slice();
  copy[copy.length - 1]! ^= 0x01;
  rejects(() => parseUdp(new UdpPacket(copy), src, dst), "udp.checksum");
  const repr = parseUdp(new UdpPacket(copy), src, dst, { verifyChecksum: false });
  assert.equal(repr.srcPort, 40001);
  // The same bytes under other addresses fail too: the pseudo-header is covered.
  rejects(() => parseUdp(new UdpPacket(payload), src, A4), "udp.checksum");
});

Deno.test("UdpPacket rejects a buffer shorter than the header", () => {
  rejects(() => UdpPacket.newChecked(new Uint8Array(7)), "udp.length");
  rejects(() => parseUdp(new UdpPacket(new Uint8Array(0)), A4, B4), "udp.length");
});

Deno.test("UdpPacket rejects a length field below 8", () => {
  for (const len of [0, 1, 7]) {
    const b = hex("0001000200000000");
    b[5] = len;
    rejects(() => UdpPacket.newChecked(b), "udp.length");
  }
});

Deno.test("UdpPacket rejects a length field past the buffer", () => {
  rejects(() => UdpPacket.newChecked(hex("00010002 0009 0000")), "udp.length");
});

Deno.test("UdpPacket payload honours the length field and ignores link padding", () => {
  const packet = emitted({ srcPort: 7, dstPort: 7 }, hex("abcd"), A4, B4);
  const padded = new Uint8Array(46);
  padded.set(packet.buffer);
  padded.fill(0xee, packet.buffer.length);
  const view = UdpPacket.newChecked(padded);
  assert.deepEqual(parseUdp(view, A4, B4), { srcPort: 7, dstPort: 7 });
  assert.deepEqual(view.payload, hex("abcd"));
});

Deno.test("UdpPacket accessors read and write every field", () => {
  const p = new UdpPacket(new Uint8Array(8));
  p.srcPort = 0xfedc;
  p.dstPort = 0x0102;
  p.length = 8;
  p.checksum = 0xabcd;
  assert.deepEqual(p.buffer, hex("fedc 0102 0008 abcd"));
  assert.deepEqual([p.srcPort, p.dstPort, p.length, p.checksum], [0xfedc, 0x0102, 8, 0xabcd]);
});

Deno.test("emitUdp rejects a buffer too short for header and payload", () => {
  const packet = new UdpPacket(new Uint8Array(9));
  assert.throws(
    () => emitUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array(2), packet, A4, B4),
    RangeError,
  );
});

Deno.test("udpBufferLen is the header plus the payload", () => {
  assert.equal(UDP_HEADER_LEN, 8);
  assert.equal(udpBufferLen({ srcPort: 1, dstPort: 2 }, 0), 8);
  assert.equal(udpBufferLen({ srcPort: 1, dstPort: 2 }, 1472), 1480);
});

const port = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4 = u32.map((v) => new Ipv4Address(v));
const ipv6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Ipv6Address(a, b, c, d));
const addrPair = fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6));

Deno.test("parseUdp gives back what emitUdp wrote, over IPv4 and IPv6", () => {
  fc.assert(
    fc.property(
      fc.record({ srcPort: port, dstPort: port }),
      fc.uint8Array({ maxLength: 300 }),
      addrPair,
      (repr, payload, [src, dst]) => {
        const packet = emitted(repr, payload, src, dst);
        assert.notEqual(packet.checksum, 0);
        assert.deepEqual(parseUdp(UdpPacket.newChecked(packet.buffer), src, dst), repr);
        assert.deepEqual(packet.payload, payload);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseUdp returns a repr or throws WireError for any bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 0, max: 7 }),
      (bytes, mode) => {
        const [src, dst] = (mode & 1) !== 0 ? [A6, B6] : [A4, B4];
        const packet = new UdpPacket(bytes);
        // Half the inputs get a length field that fits, and then a correct checksum.
        if ((mode & 2) !== 0 && bytes.length >= 8) {
          packet.length = bytes.length - (bytes[0]! % Math.min(bytes.length - 7, 4));
          packet.fillChecksum(src, dst);
        }
        try {
          const repr = parseUdp(packet, src, dst, { verifyChecksum: (mode & 4) === 0 });
          assert.equal(typeof repr.srcPort, "number");
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      },
    ),
    { numRuns: RUNS },
  );
});
