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
  return sumBytesRange(data, 0, data.length, initial);
}

/** {@linkcode sumBytes} over `data[start, end)`, lanes counted from `start`, without a subarray. */
export function sumBytesRange(
  data: Uint8Array,
  start: number,
  end: number,
  initial: number,
): number {
  let hi = 0; // bytes at even offsets from `start`
  let lo = 0; // bytes at odd offsets
  let i = start;
  // Each inner block adds at most 8 * 255 per lane per step; flush well before 2^31.
  while (i + 16 <= end) {
    const stop = Math.min(end - 15, i + 16 * 2048);
    for (; i < stop; i += 16) {
      hi += data[i]! + data[i + 2]! + data[i + 4]! + data[i + 6]! + data[i + 8]! + data[i + 10]! +
        data[i + 12]! + data[i + 14]!;
      lo += data[i + 1]! + data[i + 3]! + data[i + 5]! + data[i + 7]! + data[i + 9]! +
        data[i + 11]! + data[i + 13]! + data[i + 15]!;
    }
    initial = fold(initial + fold(hi * 256 + lo));
    hi = 0;
    lo = 0;
  }
  for (; i + 1 < end; i += 2) {
    hi += data[i]!;
    lo += data[i + 1]!;
  }
  if (i < end) hi += data[i]!;
  return fold(initial + fold(hi * 256 + lo));
}

/**
 * WebAssembly SIMD summing, faster than the 32-bit JavaScript loop from 128 bytes up even with
 * a copy into its memory, and without the copy when the bytes already live in a WebAssembly
 * memory made by {@linkcode checksumBuffer} (the in-memory link's frames do). The module is this
 * text, assembled by hand (231 bytes; the test `tests/wire/_checksum_fast_test.ts` assembles the
 * same instructions and compares):
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 1))
 *   ;; The little-endian u16 words of memory[p, p + n), n a multiple of 16, added pairwise into
 *   ;; 32-bit lanes (i32x4.extadd_pairwise_i16x8_u), two accumulators, 64 bytes a step, then 16.
 *   ;; Reads only. For n <= 65536 the true total is below 2^32, so the lanes' wrapped i32 sum is
 *   ;; exact read back with >>> 0.
 *   (func (export "sum") (param $p i32) (param $n i32) (result i32)
 *     (local $end i32) (local $a v128) (local $b v128)
 *     (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -64))))
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
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
 *     (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 48))))
 *     (block $done16
 *       (loop $next16
 *         (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
 *         (local.set $a (i32x4.add (local.get $a)
 *           (i32x4.extadd_pairwise_i16x8_u (v128.load offset=0 (local.get $p)))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *         (br $next16)))
 *     (local.set $a (i32x4.add (local.get $a) (local.get $b)))
 *     (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a))
 *       (i32x4.extract_lane 1 (local.get $a))) (i32x4.extract_lane 2 (local.get $a)))
 *       (i32x4.extract_lane 3 (local.get $a)))))
 * ```
 */
export const SIMD_MODULE =
  "AGFzbQEAAAABBwFgAn9/AX8CDwEDZW52Bm1lbW9yeQIAAQMCAQAHBwEDc3VtAAAKtQEBsgECAX8CeyAAIAFBQHFqIQIC" +
  "QANAIAAgAk8NASADIAD9AAQA/X/9rgEhAyAEIAD9AAQQ/X/9rgEhBCADIAD9AAQg/X/9rgEhAyAEIAD9AAQw/X/9rgEh" +
  "BCAAQcAAaiEADAALCyACIAFBMHFqIQICQANAIAAgAk8NASADIAD9AAQA/X/9rgEhAyAAQRBqIQAMAAsLIAMgBP2uASED" +
  "IAP9GwAgA/0bAWogA/0bAmogA/0bA2oL";
/** Below this length the JavaScript loops beat the copy and the call. */
export const SIMD_PATH_MIN = 128;
/** Bytes summed per kernel call (even, so every chunk starts at an even offset of the data). */
const SIMD_CHUNK = 65536;
/** WebAssembly pages are 64 KiB. */
const PAGE = 65536;

type Kernel = (p: number, n: number) => number;

let module: WebAssembly.Module | null = null;
/** The kernel over each WebAssembly memory made here, by its buffer. */
const kernels = new WeakMap<ArrayBufferLike, Kernel>();
/** The copy path's memory (the data is copied to its start) and kernel. */
let scratch: Uint8Array = new Uint8Array(0);
let scratchSum: Kernel | null = null;
/** The last buffer looked up and its kernel (or `null`: copy), so a flow's frames hit at once. */
let lastBuffer: ArrayBufferLike | null = null;
let lastKernel: Kernel | null = null;

/** A new memory of `pages` pages with the kernel instantiated over it. */
function instantiate(pages: number): [WebAssembly.Memory, Kernel] {
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(module!, { env: { memory } });
  const kernel = instance.exports.sum as Kernel;
  kernels.set(memory.buffer, kernel);
  return [memory, kernel];
}

try {
  if (isLittleEndianHost()) {
    module = new WebAssembly.Module(Uint8Array.from(atob(SIMD_MODULE), (c) => c.charCodeAt(0)));
    const [memory, kernel] = instantiate(SIMD_CHUNK / PAGE);
    scratch = new Uint8Array(memory.buffer);
    scratchSum = kernel;
  }
} catch {
  module = null; // no WebAssembly or no SIMD: the JavaScript loops serve
  scratchSum = null;
}

/** Whether the WebAssembly kernel loaded (no WebAssembly or SIMD: `false`). */
export function simdAvailable(): boolean {
  return scratchSum !== null;
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/**
 * A zeroed buffer of `length` bytes that the checksum sums in place, without a copy: its own
 * WebAssembly memory (never grown, so the view stays valid) with the kernel over it. A plain
 * `Uint8Array` when WebAssembly is unavailable. For buffers that are summed often and live long,
 * such as a device's frame slots.
 */
export function checksumBuffer(length: number): Uint8Array {
  if (module === null || length === 0) return new Uint8Array(length);
  const [memory] = instantiate(Math.ceil(length / PAGE));
  return new Uint8Array(memory.buffer, 0, length);
}

/**
 * `checksumSum` through the WebAssembly kernel, over `data[start, end)`: in place when `data`
 * lives in a memory of {@linkcode checksumBuffer}, else chunk by chunk copied to the start of the
 * scratch memory. The kernel sums whole 16-byte blocks as little-endian 16-bit words; each chunk
 * starts at an even offset of the range, so its sum is the big-endian sum byte-swapped
 * (RFC 1071 §2(B)). The last 0–15 bytes are added here, an odd final byte padded with zero
 * (RFC 1071 §4.1).
 */
export function sumRange(data: Uint8Array, start: number, end: number, initial: number): number {
  const buffer = data.buffer;
  let kernel: Kernel | null;
  if (buffer === lastBuffer) kernel = lastKernel;
  else {
    kernel = kernels.get(buffer) ?? null;
    lastBuffer = buffer;
    lastKernel = kernel;
  }
  const n = end - start;
  const body = n & ~15;
  let total = 0; // sum of the chunks' sums, each below 2^32: exact in a double
  if (kernel !== null) {
    const base = data.byteOffset + start;
    for (let off = 0; off < body; off += SIMD_CHUNK) {
      total += kernel(base + off, body - off < SIMD_CHUNK ? body - off : SIMD_CHUNK) >>> 0;
    }
  } else {
    const sum = scratchSum!;
    const mem = scratch;
    if (start === 0 && end === data.length && n <= SIMD_CHUNK) {
      mem.set(data, 0); // the common case, without a subarray
      total = sum(0, body) >>> 0;
    } else {
      for (let off = 0; off < body; off += SIMD_CHUNK) {
        const len = body - off < SIMD_CHUNK ? body - off : SIMD_CHUNK;
        mem.set(data.subarray(start + off, start + off + len), 0);
        total += sum(0, len) >>> 0;
      }
    }
  }
  let hi = 0; // bytes of the tail at even offsets of the range
  let lo = 0; // and at odd offsets
  let i = start + body;
  for (; i + 1 < end; i += 2) {
    hi += data[i]!;
    lo += data[i + 1]!;
  }
  if (i < end) hi += data[i]!;
  // A byte swap is a multiplication by 2^8 modulo 2^16 − 1; a non-zero sum that is 0 modulo
  // 2^16 − 1 is 0xffff (negative zero), as in `sumWords`.
  const swapped = total === 0 ? 0 : ((total % 0xffff) * 256) % 0xffff || 0xffff;
  return fold(initial + fold(hi * 256 + lo + swapped));
}

/**
 * The running sum of `data[start, end)` by the fastest loop for its length, without a subarray
 * on the SIMD path (`emitTcp` sums a segment's payload where it lies in the device's frame).
 */
export function sumAt(data: Uint8Array, start: number, end: number, initial: number): number {
  if (end - start >= SIMD_PATH_MIN && scratchSum !== null) {
    return sumRange(data, start, end, initial);
  }
  return sumBytesRange(data, start, end, initial);
}

/** Whether `data` lies in a memory of {@linkcode checksumBuffer}, summed without a copy. */
export function summedInPlace(data: Uint8Array): boolean {
  return kernels.has(data.buffer);
}

/** {@linkcode sumRange} over the whole of `data`. */
export function sumSimd(data: Uint8Array, initial: number): number {
  return sumRange(data, 0, data.length, initial);
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
