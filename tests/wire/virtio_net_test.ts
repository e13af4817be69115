import assert from "node:assert/strict";
import fc from "fast-check";
import { WireError } from "../../src/wire/error.ts";
import {
  emitVirtioNetHdr,
  parseVirtioNetHdr,
  VIRTIO_NET_HDR_LEN,
  VIRTIO_NET_HDR_MRG_LEN,
  VirtioNetGsoType,
  VirtioNetHdr,
  type VirtioNetHdrRepr,
} from "../../src/wire/virtio_net.ts";

/**
 * The header a 6.x kernel wrote in front of a 65,212-byte coalesced TCP/IPv4 read from a TUN
 * device with TUNSETVNETHDRSZ 12 and TUNSETOFFLOAD CSUM|TSO4|TSO6 (platform.md): NEEDS_CSUM,
 * TCPV4, hdr_len 52, gso_size 1448, csum_start 20, csum_offset 16, num_buffers 0.
 */
const KERNEL_TSO4 = [0x01, 0x01, 0x34, 0x00, 0xa8, 0x05, 0x14, 0x00, 0x10, 0x00, 0x00, 0x00];

const PLAIN: VirtioNetHdrRepr = {
  needsCsum: false,
  dataValid: false,
  gsoType: VirtioNetGsoType.None,
  ecn: false,
  hdrLen: 0,
  gsoSize: 0,
  csumStart: 0,
  csumOffset: 0,
};

function rejects(bytes: number[], frameLen: number, field: string): void {
  assert.throws(
    () => parseVirtioNetHdr(new VirtioNetHdr(new Uint8Array(bytes)), frameLen),
    (e: unknown) => e instanceof WireError && e.field === field,
  );
}

Deno.test("VirtioNetHdr parses the kernel's TSO4 super-frame header", () => {
  const hdr = VirtioNetHdr.newChecked(new Uint8Array(KERNEL_TSO4));
  assert.deepEqual(parseVirtioNetHdr(hdr, 65212), {
    needsCsum: true,
    dataValid: false,
    gsoType: VirtioNetGsoType.TcpV4,
    ecn: false,
    hdrLen: 52,
    gsoSize: 1448,
    csumStart: 20,
    csumOffset: 16,
  });
  assert.equal(hdr.numBuffers, 0);
});

Deno.test("emitVirtioNetHdr writes the kernel's TSO4 header byte for byte", () => {
  const buf = new Uint8Array(VIRTIO_NET_HDR_MRG_LEN).fill(0xaa);
  emitVirtioNetHdr({
    ...PLAIN,
    needsCsum: true,
    gsoType: VirtioNetGsoType.TcpV4,
    hdrLen: 52,
    gsoSize: 1448,
    csumStart: 20,
    csumOffset: 16,
  }, new VirtioNetHdr(buf));
  assert.deepEqual([...buf], KERNEL_TSO4);
});

Deno.test("emitVirtioNetHdr zeroes sizes and checksum position that do not apply", () => {
  const buf = new Uint8Array(VIRTIO_NET_HDR_LEN).fill(0xaa);
  emitVirtioNetHdr(
    { ...PLAIN, dataValid: true, hdrLen: 9, gsoSize: 9, csumStart: 9, csumOffset: 9, ecn: true },
    new VirtioNetHdr(buf),
  );
  assert.deepEqual([...buf], [0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("VirtioNetHdr parses a plain frame's header and ignores stale sizes", () => {
  const r = parseVirtioNetHdr(new VirtioNetHdr(new Uint8Array([0, 0, 9, 9, 9, 9, 9, 9, 9, 9])), 60);
  assert.deepEqual(r, PLAIN);
});

Deno.test("VirtioNetHdr keeps the TSO_ECN bit apart from the type", () => {
  const b = [...KERNEL_TSO4];
  b[1] = 0x84;
  const r = parseVirtioNetHdr(new VirtioNetHdr(new Uint8Array(b)), 65212);
  assert.equal(r.gsoType, VirtioNetGsoType.TcpV6);
  assert.equal(r.ecn, true);
});

Deno.test("VirtioNetHdr rejects a buffer shorter than 10 bytes", () => {
  assert.throws(() => VirtioNetHdr.newChecked(new Uint8Array(9)), WireError);
});

Deno.test("VirtioNetHdr rejects a super-frame with gso_size 0", () => {
  const b = [...KERNEL_TSO4];
  b[4] = 0;
  b[5] = 0;
  rejects(b, 65212, "virtio_net.gsoSize");
});

Deno.test("VirtioNetHdr rejects hdr_len beyond the frame", () => {
  rejects(KERNEL_TSO4, 51, "virtio_net.hdrLen");
});

Deno.test("VirtioNetHdr rejects a checksum position beyond the frame", () => {
  // csum_start 20 + csum_offset 16 + 2 bytes = 38 > 37.
  rejects([1, 0, 0, 0, 0, 0, 20, 0, 16, 0], 37, "virtio_net.csumOffset");
});

Deno.test("VirtioNetHdr rejects an unknown gso_type", () => {
  for (const t of [2, 6, 0x7f]) {
    rejects([1, t, 52, 0, 0xa8, 5, 20, 0, 16, 0], 65212, "virtio_net.gsoType");
  }
});

Deno.test("VirtioNetHdr rejects the ECN bit on a UDP type", () => {
  rejects([1, 0x85, 28, 0, 0xb8, 5, 20, 0, 6, 0], 65212, "virtio_net.gsoType");
});

Deno.test("VirtioNetHdr rejects unknown flag bits", () => {
  rejects([0x09, 0, 0, 0, 0, 0, 20, 0, 16, 0], 100, "virtio_net.flags");
});

Deno.test("VirtioNetHdr rejects a super-frame without NEEDS_CSUM", () => {
  rejects([0, 1, 52, 0, 0xa8, 5, 0, 0, 0, 0], 65212, "virtio_net.flags");
});

Deno.test("parseVirtioNetHdr returns a repr or throws WireError for any bytes, and round-trips", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 10, maxLength: 12 }),
      fc.integer({ min: 0, max: 70000 }),
      (bytes, frameLen) => {
        let r: VirtioNetHdrRepr;
        try {
          r = parseVirtioNetHdr(new VirtioNetHdr(bytes), frameLen);
        } catch (e) {
          assert.ok(e instanceof WireError);
          return;
        }
        const out = new Uint8Array(bytes.length);
        emitVirtioNetHdr(r, new VirtioNetHdr(out));
        assert.deepEqual(parseVirtioNetHdr(new VirtioNetHdr(out), frameLen), r);
      },
    ),
    { numRuns: 20_000 },
  );
});
