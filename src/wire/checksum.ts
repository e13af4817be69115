/**
 * The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit
 * big-endian words, with the IPv4 / IPv6 pseudo-headers of TCP, UDP and ICMPv6, and incremental
 * update (RFC 1624).
 *
 * Sums are plain numbers kept below 2^31 so V8 keeps them as small integers. A running sum may be
 * fed several buffers; every buffer but the last must have an even length. Buffers of 128 bytes
 * or more are summed by a WebAssembly SIMD kernel, of 64 bytes or more 32 bits at a time
 * (RFC 1071 §2(B) and §2(C); the loops are in `_checksum_fast.ts`).
 *
 * @module
 */

import type { IpAddress } from "./address.ts";
import {
  fold,
  LITTLE_ENDIAN,
  SIMD_PATH_MIN,
  simdAvailable,
  sumBytes,
  sumSimd,
  sumWords,
  WORD_PATH_MIN,
} from "./_checksum_fast.ts";

/**
 * Adds the 16-bit big-endian words of `data` to a running sum. An odd final byte is padded with
 * zero (RFC 1071 §4.1).
 *
 * @param data The bytes to sum.
 * @param initial A running sum from earlier buffers or a pseudo-header.
 * @returns The new running sum, folded to at most 17 bits.
 *
 * @example
 * ```ts
 * import { checksumFinish, checksumSum } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const s = checksumSum(new Uint8Array([0x00, 0x01, 0xf2, 0x03]));
 * assert.equal(checksumFinish(s).toString(16), "dfb");
 * ```
 */
export function checksumSum(data: Uint8Array, initial = 0): number {
  const n = data.length;
  if (n >= SIMD_PATH_MIN && simdOn) return sumSimd(data, initial);
  if (n >= WORD_PATH_MIN && LITTLE_ENDIAN) return sumWords(data, initial);
  return sumBytes(data, initial);
}

const simdOn = simdAvailable();

/**
 * Turns a running sum into the checksum field value (ones'-complement of the folded sum).
 *
 * @param sum A running sum from {@linkcode checksumSum} or {@linkcode pseudoHeaderSum}.
 * @returns The 16-bit checksum.
 *
 * @example
 * ```ts
 * import { checksumFinish } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(checksumFinish(0xffff), 0);
 * ```
 */
export function checksumFinish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/**
 * The Internet checksum of `data` (RFC 1071). Over a buffer that contains a correct checksum
 * field, the result is 0.
 *
 * @param data The bytes.
 * @returns The 16-bit checksum.
 *
 * @example
 * ```ts
 * import { internetChecksum } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * // An IPv4 header whose checksum field (bytes 10–11) is already correct sums to zero.
 * const hdr = new Uint8Array([
 *   0x45, 0, 0, 0x1c, 0, 0, 0x40, 0, 0x40, 0x01, 0xb6, 0xdd, 192, 0, 2, 1, 192, 0, 2, 2,
 * ]);
 * assert.equal(internetChecksum(hdr), 0);
 * ```
 */
export function internetChecksum(data: Uint8Array): number {
  return checksumFinish(checksumSum(data));
}

/**
 * The running sum of a pseudo-header: IPv4 (RFC 793 §3.1: src, dst, zero, protocol, length) or
 * IPv6 (RFC 8200 §8.1: src, dst, 32-bit length, 24 zero bits, next header).
 *
 * @param src Source address.
 * @param dst Destination address (same family as `src`).
 * @param protocol The upper-layer protocol number (6 TCP, 17 UDP, 58 ICMPv6).
 * @param length The upper-layer length in bytes (header plus payload).
 * @returns A running sum to pass as `initial` to {@linkcode checksumSum}.
 *
 * @example
 * ```ts
 * import { checksumFinish, checksumSum, Ipv4Address, pseudoHeaderSum } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const udp = new Uint8Array([0x04, 0xd2, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
 * const ph = pseudoHeaderSum(Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2"), 17, 8);
 * assert.notEqual(checksumFinish(checksumSum(udp, ph)), 0);
 * ```
 */
export function pseudoHeaderSum(
  src: IpAddress,
  dst: IpAddress,
  protocol: number,
  length: number,
): number {
  let s = protocol + (length >>> 16) + (length & 0xffff);
  if (src.version === 4) {
    s += (src.value >>> 16) + (src.value & 0xffff);
  } else {
    s += (src.w0 >>> 16) + (src.w0 & 0xffff) + (src.w1 >>> 16) + (src.w1 & 0xffff) +
      (src.w2 >>> 16) + (src.w2 & 0xffff) + (src.w3 >>> 16) + (src.w3 & 0xffff);
  }
  if (dst.version === 4) {
    s += (dst.value >>> 16) + (dst.value & 0xffff);
  } else {
    s += (dst.w0 >>> 16) + (dst.w0 & 0xffff) + (dst.w1 >>> 16) + (dst.w1 & 0xffff) +
      (dst.w2 >>> 16) + (dst.w2 & 0xffff) + (dst.w3 >>> 16) + (dst.w3 & 0xffff);
  }
  return fold(s);
}

/**
 * Incrementally updates a checksum after one 16-bit word of the covered data changed
 * (RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`).
 *
 * @param checksum The old checksum field value.
 * @param oldWord The old 16-bit word.
 * @param newWord The new 16-bit word.
 * @returns The new checksum field value.
 *
 * @example
 * ```ts
 * import { checksumUpdate, internetChecksum } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
 * const b = new Uint8Array([0x12, 0x34, 0x9a, 0xbc]);
 * assert.equal(checksumUpdate(internetChecksum(a), 0x5678, 0x9abc), internetChecksum(b));
 * ```
 */
export function checksumUpdate(checksum: number, oldWord: number, newWord: number): number {
  return ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/**
 * Options every `parse*` function takes last.
 *
 * @example
 * ```ts
 * import { Ipv4Address, type ParseOptions, parseUdp, UdpPacket, WireError } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const trustLink: ParseOptions = { verifyChecksum: false };
 * const a = Ipv4Address.parse("198.51.100.1"), b = Ipv4Address.parse("198.51.100.2");
 * const bad = new UdpPacket(new Uint8Array([0x9c, 0x42, 0, 9, 0, 10, 0x12, 0x34, 0x68, 0x69]));
 * assert.throws(() => parseUdp(bad, a, b), WireError); // wrong checksum
 * assert.equal(parseUdp(bad, a, b, trustLink).dstPort, 9); // not checked
 * ```
 */
export interface ParseOptions {
  /** Verify checksums (default `true`); `false` when the device guarantees integrity. */
  readonly verifyChecksum?: boolean;
}

/**
 * Options every `emit*` function takes last.
 *
 * @example
 * ```ts
 * import { type EmitOptions, emitUdp, Ipv4Address, UdpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const offload: EmitOptions = { fillChecksum: false };
 * const a = Ipv4Address.parse("198.51.100.1"), b = Ipv4Address.parse("198.51.100.2");
 * const p = new UdpPacket(new Uint8Array(10));
 * emitUdp({ srcPort: 40002, dstPort: 9 }, new Uint8Array([0x68, 0x69]), p, a, b, offload);
 * assert.equal(p.checksum, 0); // left for the device to fill
 * emitUdp({ srcPort: 40002, dstPort: 9 }, new Uint8Array([0x68, 0x69]), p, a, b);
 * assert.equal(p.verifyChecksum(a, b), true);
 * ```
 */
export interface EmitOptions {
  /** Compute and write checksums (default `true`); `false` leaves the field zero for offload. */
  readonly fillChecksum?: boolean;
}
