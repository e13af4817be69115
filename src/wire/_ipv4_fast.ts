/**
 * IPv4 headers read and written where they lie in a frame, at an offset, without a view object,
 * a subarray or a repr per packet: the body of `emitIpv4` (src/wire/ipv4.ts), which egress
 * calls at the link header's offset, and the check ingress runs before it reads an unfragmented
 * packet in place. Internal to the wire layer and the interface, not exported from `mod.ts`.
 *
 * @module
 */

import { readU16, writeU16, writeU32 } from "./_bytes.ts";
import { checksumFinish } from "./checksum.ts";
import { sumHeader } from "./_checksum_fast.ts";
import type { Ipv4Repr } from "./ipv4.ts";

/** The length of a header without options. */
const HEADER_LEN = 20;
/** The largest IPv4 packet: the total length field is 16 bits. */
const MAX_TOTAL_LEN = 0xffff;
/** Flags in the high bits of the 16-bit flags/fragment-offset word (RFC 791 §3.1). */
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
/** The More Fragments flag and the fragment offset: zero in an unfragmented packet. */
const FRAGMENT_BITS = 0x3fff;

/**
 * Throws a `RangeError` for a field of `repr` out of range (the checks of `emitIpv4`).
 *
 * @throws {RangeError} Naming the field.
 */
export function checkIpv4Repr(repr: Ipv4Repr): void {
  checkUint("protocol", repr.protocol, 0xff);
  checkUint("TTL", repr.ttl, 0xff);
  checkUint("DSCP", repr.dscp, 0x3f);
  checkUint("ECN", repr.ecn, 0x03);
  checkUint("identification", repr.ident, 0xffff);
  checkUint("payload length", repr.payloadLen, MAX_TOTAL_LEN - HEADER_LEN);
  const off = repr.fragOffset;
  if (
    !Number.isInteger(off) || off < 0 || off % 8 !== 0 ||
    off + repr.payloadLen > MAX_TOTAL_LEN - HEADER_LEN
  ) {
    throw new RangeError(
      `Invalid IPv4 fragment offset ${off}: must be a multiple of 8 and end by byte 65515`,
    );
  }
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Invalid IPv4 ${name} ${v}: must be 0 to ${max}`);
  }
}

/**
 * Checks `repr` and writes its 20-byte header at `b[off, off + 20)` (no options), with the
 * header checksum when `fill`.
 *
 * @throws {RangeError} When a field is out of range or `b` is shorter than the packet.
 */
export function writeIpv4Header(repr: Ipv4Repr, b: Uint8Array, off: number, fill: boolean): void {
  checkIpv4Repr(repr);
  const len = HEADER_LEN + repr.payloadLen;
  if (b.length - off < len) {
    throw new RangeError(
      `Buffer of ${b.length - off} bytes is too short for a ${len}-byte IPv4 packet`,
    );
  }
  const tos = (repr.dscp << 2) | repr.ecn;
  const flagsOff = (repr.dontFrag ? FLAG_DF : 0) | (repr.moreFrags ? FLAG_MF : 0) |
    (repr.fragOffset >>> 3);
  const src = repr.src.value, dst = repr.dst.value;
  b[off] = 0x45;
  b[off + 1] = tos;
  writeU16(b, off + 2, len);
  writeU16(b, off + 4, repr.ident);
  writeU16(b, off + 6, flagsOff);
  b[off + 8] = repr.ttl;
  b[off + 9] = repr.protocol;
  writeU32(b, off + 12, src);
  writeU32(b, off + 16, dst);
  // The header checksum from the field values (the 16-bit words just written, checksum zero),
  // without reading the bytes back.
  const sum = fill
    ? 0x4500 + tos + len + repr.ident + flagsOff + (repr.ttl << 8) + repr.protocol +
      (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff)
    : 0xffff; // checksumFinish(0xffff) is 0: the field left for offload
  writeU16(b, off + 10, checksumFinish(sum));
}

/**
 * The total length of the IPv4 packet at `b[off, end)` when it is a plain one that ingress may
 * read in place: a 20-byte header (no options), a total length that fits, not a fragment, and a
 * correct header checksum when `verify`. `-1` for anything else, which the caller hands to the
 * general path (`Ipv4Packet.newChecked` and `parseIpv4`, which raise the precise `WireError`).
 */
export function plainIpv4Len(b: Uint8Array, off: number, end: number, verify: boolean): number {
  if (end - off < HEADER_LEN || b[off] !== 0x45) return -1;
  const total = readU16(b, off + 2);
  if (total < HEADER_LEN || total > end - off) return -1;
  if ((readU16(b, off + 6) & FRAGMENT_BITS) !== 0) return -1;
  if (verify && checksumFinish(sumHeader(b, off, off + HEADER_LEN, 0)) !== 0) return -1;
  return total;
}
