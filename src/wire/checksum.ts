/**
 * The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit
 * big-endian words, with the IPv4 / IPv6 pseudo-headers of TCP, UDP and ICMPv6, and incremental
 * update (RFC 1624).
 *
 * Sums are plain numbers kept below 2^31 so V8 keeps them as small integers. A running sum may be
 * fed several buffers; every buffer but the last must have an even length. Buffers of 64 bytes
 * or more are summed 32 bits at a time (RFC 1071 §2(B) and §2(C)).
 *
 * @module
 */

import type { IpAddress } from "./address.ts";

/** Folds a running sum to 16 bits with end-around carry. */
function fold(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

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
  if (n >= SIMD_PATH_MIN && simdSum !== null) return sumSimd(data, initial);
  if (n >= WORD_PATH_MIN && LITTLE_ENDIAN) return sumWords(data, initial);
  let hi = 0; // bytes at even offsets
  let lo = 0; // bytes at odd offsets
  let i = 0;
  // Each inner block adds at most 8 * 255 per lane per step; flush well before 2^31.
  while (i + 16 <= n) {
    const end = Math.min(n - 15, i + 16 * 2048);
    for (; i < end; i += 16) {
      hi += data[i]! + data[i + 2]! + data[i + 4]! + data[i + 6]! + data[i + 8]! + data[i + 10]! +
        data[i + 12]! + data[i + 14]!;
      lo += data[i + 1]! + data[i + 3]! + data[i + 5]! + data[i + 7]! + data[i + 9]! +
        data[i + 11]! + data[i + 13]! + data[i + 15]!;
    }
    initial = fold(initial + fold(hi * 256 + lo));
    hi = 0;
    lo = 0;
  }
  for (; i + 1 < n; i += 2) {
    hi += data[i]!;
    lo += data[i + 1]!;
  }
  if (i < n) hi += data[i]!;
  return fold(initial + fold(hi * 256 + lo));
}

/**
 * WebAssembly SIMD summing, 2-4x the speed of the 32-bit JavaScript loop on segment-sized
 * buffers here even with the copy into its memory. The module is this text, assembled with wabt's
 * `wat2wasm --enable-simd` (154 bytes):
 *
 * ```wat
 * (module
 *   (memory (export "memory") 2)
 *   ;; The little-endian u32 words of memory[0, n) (n a multiple of 16) summed in two u64 lanes,
 *   ;; returned modulo 2^16 - 1 as a ones'-complement value: 0 only for an all-zero sum.
 *   (func (export "sum") (param $n i32) (result i32)
 *     (local $p i32) (local $acc v128) (local $t i64)
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
 *         (local.set $acc (i64x2.add (local.get $acc)
 *           (i64x2.extend_low_i32x4_u (v128.load (local.get $p)))))
 *         (local.set $acc (i64x2.add (local.get $acc)
 *           (i64x2.extend_high_i32x4_u (v128.load (local.get $p)))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *         (br $next)))
 *     (local.set $t (i64.add (i64x2.extract_lane 0 (local.get $acc))
 *                            (i64x2.extract_lane 1 (local.get $acc))))
 *     (if (i64.eqz (local.get $t)) (then (return (i32.const 0))))
 *     (local.set $t (i64.rem_u (local.get $t) (i64.const 65535)))
 *     (if (i64.eqz (local.get $t)) (then (return (i32.const 65535))))
 *     (i32.wrap_i64 (local.get $t))))
 * ```
 */
const SIMD_MODULE =
  "AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAAgcQAgZtZW1vcnkCAANzdW0AAAptAWsDAX8BewF+AkADQCABIABPDQEgAiAB/QAE" +
  "AP3JAf3OASECIAIgAf0ABAD9ygH9zgEhAiABQRBqIQEMAAsLIAL9HQAgAv0dAXwhAyADUARAQQAPCyADQv//A4IhAyAD" +
  "UARAQf//Aw8LIAOnCw==";
/** Below this length the JavaScript loops beat the copy and the call. */
const SIMD_PATH_MIN = 256;
/** Bytes copied into the module's memory and summed per call (even, a multiple of 16). */
const SIMD_CHUNK = 65536;

let simdSum: ((n: number) => number) | null = null;
let simdMemory: Uint8Array = new Uint8Array(0);
try {
  if (isLittleEndianHost()) {
    const bytes = Uint8Array.from(atob(SIMD_MODULE), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    simdMemory = new Uint8Array(memory.buffer, 0, SIMD_CHUNK);
    simdSum = instance.exports.sum as (n: number) => number;
  }
} catch {
  simdSum = null; // no WebAssembly or no SIMD: the JavaScript loops serve
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/**
 * `checksumSum` through the WebAssembly module: each chunk of `data` is copied to the start of
 * the module's memory, its 16-byte-multiple body summed there as little-endian words (the
 * byte-swapped big-endian sum, since chunks start at even offsets of `data`; RFC 1071 §2(B)) and
 * the remaining bytes of the last chunk added here into the even/odd lanes.
 */
function sumSimd(data: Uint8Array, initial: number): number {
  const sum = simdSum!;
  const mem = simdMemory;
  const n = data.length;
  let middle = 0; // sum of the chunks' ones'-complement values, each in [0, 0xffff]
  let hi = 0; // bytes at even offsets of the tail
  let lo = 0; // bytes at odd offsets of the tail
  let tail = n;
  if (n <= SIMD_CHUNK) {
    mem.set(data, 0);
    tail = n & ~15;
    middle = sum(tail);
  } else {
    for (let off = 0; off < n; off += SIMD_CHUNK) {
      const len = n - off < SIMD_CHUNK ? n - off : SIMD_CHUNK;
      const body = len & ~15;
      mem.set(data.subarray(off, off + body), 0);
      middle += sum(body);
      tail = off + body;
    }
  }
  for (let i = tail; i < n; i++) {
    if ((i & 1) === 0) hi += data[i]!;
    else lo += data[i]!;
  }
  // A byte swap is a multiplication by 2^8 modulo 2^16 − 1; a non-zero sum that is 0 modulo
  // 2^16 − 1 is 0xffff (negative zero), as in `sumWords`.
  let swapped = 0;
  if (middle !== 0) swapped = ((middle % 0xffff) * 256) % 0xffff || 0xffff;
  return fold(initial + fold(hi * 256 + lo + swapped));
}

/** Below this length the byte loop is as fast as setting up the 32-bit one. */
const WORD_PATH_MIN = 64;
/** Uint32Array reads are little-endian here (every platform Deno runs on, but checked). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Words summed per chunk: 2^20 words of < 2^32 each stay below 2^53, exact in a double. */
const WORDS_PER_CHUNK = 1 << 20;

// A Uint32Array view over the whole of the last buffer summed, so that steady-state traffic
// through the same receive/transmit buffer creates no view per call. It keeps that one buffer
// reachable until another buffer is summed.
let cachedBuffer: ArrayBufferLike | null = null;
let cachedWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * `checksumSum` for `n >= WORD_PATH_MIN` on a little-endian host. The aligned middle is read as
 * little-endian u32 words w = b0 + b1·2^8 + b2·2^16 + b3·2^24 ≡ (b0 + b2) + 2^8·(b1 + b3)
 * (mod 2^16 − 1), so the middle's sum is the big-endian sum byte-swapped whenever the middle starts
 * at an even offset of `data`; a byte swap is a multiplication by 2^8 modulo 2^16 − 1
 * (RFC 1071 §2(B)). The ends are added byte by byte into the even/odd lanes.
 */
function sumWords(data: Uint8Array, initial: number): number {
  const n = data.length;
  const base = data.byteOffset;
  const lead = (4 - (base & 3)) & 3;
  let hi = 0; // bytes at even offsets of `data`
  let lo = 0; // bytes at odd offsets of `data`
  let i = 0;
  for (; i < lead; i++) {
    if ((i & 1) === 0) hi += data[i]!;
    else lo += data[i]!;
  }
  const first = (base + lead) >>> 2;
  const end = first + ((n - lead) >>> 2);
  const buffer = data.buffer;
  if (buffer !== cachedBuffer || cachedWords.length < end) {
    cachedBuffer = buffer;
    cachedWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  const w = cachedWords;
  let middle = 0; // the middle's sum modulo 2^16 - 1
  let nonZero = false;
  for (let k = first; k < end;) {
    const stop = Math.min(end, k + WORDS_PER_CHUNK);
    let s = 0;
    for (; k + 4 <= stop; k += 4) s += w[k]! + w[k + 1]! + w[k + 2]! + w[k + 3]!;
    for (; k < stop; k++) s += w[k]!;
    if (s !== 0) nonZero = true;
    middle = (middle + (s % 0xffff)) % 0xffff;
  }
  if ((lead & 1) === 0) middle = (middle * 256) % 0xffff;
  // Ones'-complement: a non-zero sum that is 0 modulo 2^16 - 1 is 0xffff (negative zero).
  if (middle === 0 && nonZero) middle = 0xffff;
  for (i = lead + (end - first) * 4; i < n; i++) {
    if ((i & 1) === 0) hi += data[i]!;
    else lo += data[i]!;
  }
  return fold(initial + fold(hi * 256 + lo + middle));
}

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
