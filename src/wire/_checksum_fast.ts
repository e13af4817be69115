/**
 * The summing loops behind `checksumSum` (src/wire/checksum.ts): a byte loop, a 32-bit word loop
 * and a WebAssembly SIMD kernel, each returning the same running sum. Internal to the wire
 * layer (tests check each against RFC 1071's definition), not exported from `mod.ts`.
 *
 * @module
 */

/** Folds a running sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

/**
 * The 16-bit big-endian words of `b[start, end)` added to `initial`, for short headers read in
 * place (no subarray). `end - start` must be even.
 */
export function sumHeader(b: Uint8Array, start: number, end: number, initial: number): number {
  let s = initial;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  return fold(s);
}

/**
 * The byte loop: bytes at even and odd offsets in two lanes, 16 at a time. Any length, any
 * offset, any host.
 */
export function sumBytes(data: Uint8Array, initial: number): number {
  const n = data.length;
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
 * WebAssembly SIMD summing, faster than the 32-bit JavaScript loop from 128 bytes up even with
 * the copy into its memory. The module is this text, assembled by hand (198 bytes; the test
 * `tests/wire/_checksum_fast_test.ts` assembles the same instructions and compares):
 *
 * ```wat
 * (module
 *   (memory (export "memory") 2)
 *   ;; memory[n, roundup64(n)) is zeroed, then the little-endian u16 words of memory[0, roundup64(n))
 *   ;; are added pairwise into 32-bit lanes (i32x4.extadd_pairwise_i16x8_u), two accumulators, 64
 *   ;; bytes a step. A lane gains at most 2 * 65535 per 16 bytes: for n <= 65536 each of the 8 lanes
 *   ;; stays below 2^28 and their total below 2^32, returned as an i32 (read back with >>> 0).
 *   (func (export "sum") (param $n i32) (result i32)
 *     (local $p i32) (local $a v128) (local $b v128)
 *     (memory.fill (local.get $n) (i32.const 0)
 *       (i32.sub (i32.and (i32.add (local.get $n) (i32.const 63)) (i32.const -64)) (local.get $n)))
 *     (local.set $n (i32.and (i32.add (local.get $n) (i32.const 63)) (i32.const -64)))
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
 *         (local.set $a (i32x4.add (local.get $a)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load offset=0 (local.get $p)))))
 *         (local.set $b (i32x4.add (local.get $b)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load offset=16 (local.get $p)))))
 *         (local.set $a (i32x4.add (local.get $a)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load offset=32 (local.get $p)))))
 *         (local.set $b (i32x4.add (local.get $b)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load offset=48 (local.get $p)))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *         (br $next)))
 *     (local.set $a (i32x4.add (local.get $a) (local.get $b)))
 *     (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
 *              (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a))))))
 * ```
 */
export const SIMD_MODULE =
  "AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAAgcQAgZtZW1vcnkCAANzdW0AAAqYAQGVAQIBfwJ7IABBACAAQT9qQUBxIABr" +
  "/AsAIABBP2pBQHEhAAJAA0AgASAATw0BIAIgAf0ABAD9f/2uASECIAMgAf0ABBD9f/2uASEDIAIgAf0ABCD9f/2uASEC" +
  "IAMgAf0ABDD9f/2uASEDIAFBwABqIQEMAAsLIAIgA/2uASECIAL9GwAgAv0bAWogAv0bAmogAv0bA2oL";
/** Below this length the JavaScript loops beat the copy and the call. */
export const SIMD_PATH_MIN = 128;
/** Bytes copied into the module's memory and summed per call (even; the memory has 64 more). */
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
  simdSum = null; // no WebAssembly, no SIMD or no bulk memory: the JavaScript loops serve
}

/** Whether the WebAssembly kernel loaded (no WebAssembly, SIMD or bulk memory: `false`). */
export function simdAvailable(): boolean {
  return simdSum !== null;
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/**
 * `checksumSum` through the WebAssembly module: each chunk of `data` is copied to the start of
 * the module's memory and summed there as little-endian 16-bit words, zero-padded to 64 bytes
 * (RFC 1071 §4.1's padding of an odd final byte included). Chunks start at even offsets of
 * `data`, so each chunk's sum is the big-endian sum byte-swapped (RFC 1071 §2(B)).
 */
export function sumSimd(data: Uint8Array, initial: number): number {
  const sum = simdSum!;
  const mem = simdMemory;
  const n = data.length;
  let total = 0; // sum of the chunks' sums, each below 2^32: exact in a double
  if (n <= SIMD_CHUNK) {
    mem.set(data, 0);
    total = sum(n) >>> 0;
  } else {
    for (let off = 0; off < n; off += SIMD_CHUNK) {
      const len = n - off < SIMD_CHUNK ? n - off : SIMD_CHUNK;
      mem.set(data.subarray(off, off + len), 0);
      total += sum(len) >>> 0;
    }
  }
  if (total === 0) return fold(initial);
  // A byte swap is a multiplication by 2^8 modulo 2^16 − 1; a non-zero sum that is 0 modulo
  // 2^16 − 1 is 0xffff (negative zero), as in `sumWords`.
  const swapped = ((total % 0xffff) * 256) % 0xffff || 0xffff;
  return fold(initial + swapped);
}

/** Below this length the byte loop is as fast as setting up the 32-bit one. */
export const WORD_PATH_MIN = 64;
/** Uint32Array reads are little-endian here (every platform Deno runs on, but checked). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
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
export function sumWords(data: Uint8Array, initial: number): number {
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
