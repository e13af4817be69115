import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checksumBuffer,
  SIMD_MODULE,
  simdAvailable,
  sumBytes,
  sumRange,
  sumSimd,
  sumWords,
  WORD_PATH_MIN,
} from "../../src/wire/_checksum_fast.ts";
import { checksumFinish } from "../../src/wire/checksum.ts";

/** RFC 1071 by the book: 16-bit big-endian words, end-around carry after every addition. */
function reference(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i]! << 8) | (data[i + 1] ?? 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

/** Equal as ones'-complement numbers: 0x0000 and 0xffff are both zero. */
function same(a: number, b: number): boolean {
  return a === b || (a % 0xffff === 0 && b % 0xffff === 0);
}

const loops = [["bytes", sumBytes], ["words", sumWords], ["simd", sumSimd]] as const;

/** The loops defined for `length` bytes (the word loop is for WORD_PATH_MIN bytes and up). */
function loopsFor(length: number) {
  return loops.filter(([name]) => name !== "words" || length >= WORD_PATH_MIN);
}

Deno.test("The SIMD kernel is loaded on this host", () => {
  assert.equal(simdAvailable(), true);
});

Deno.test("Each summing loop agrees with RFC 1071 on random slices (odd lengths and offsets)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 4200 }),
      fc.nat({ max: 70 }),
      fc.nat({ max: 0xffff }),
      (bytes, cut, initial) => {
        const data = bytes.subarray(Math.min(cut, bytes.length));
        // A running sum in: the checksum is that of `data` with the 16-bit word prepended.
        const prefix = new Uint8Array([(initial >>> 8) & 0xff, initial & 0xff]);
        const joined = new Uint8Array(2 + data.length);
        joined.set(prefix);
        joined.set(data, 2);
        const want = reference(joined);
        for (const [name, sum] of loopsFor(data.length)) {
          const got = checksumFinish(sum(data, initial));
          assert.ok(same(got, want), `${name}: length ${data.length}, got ${got}, want ${want}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Each summing loop is right for all-0xff and all-zero buffers across chunk sizes", () => {
  for (const len of [0, 1, 63, 64, 65, 127, 128, 129, 1480, 65535, 65536, 65537, 131073, 200001]) {
    for (const fill of [0, 0xff]) {
      const data = new Uint8Array(len + 3).fill(fill).subarray(3);
      const want = reference(data);
      for (const [name, sum] of loopsFor(data.length)) {
        const got = checksumFinish(sum(data, 0));
        assert.ok(same(got, want), `${name}: ${len} bytes of ${fill}, got ${got}, want ${want}`);
      }
    }
  }
});

Deno.test("The SIMD kernel leaves no state behind between calls of different lengths", () => {
  // A long buffer of 0xff, then a short one: bytes of the old copy must not be summed.
  const long = new Uint8Array(5000).fill(0xff);
  const short = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  const padded = new Uint8Array(200);
  padded.set(short);
  sumSimd(long, 0);
  assert.equal(
    checksumFinish(sumSimd(padded.subarray(0, 129), 0)),
    reference(padded.subarray(0, 129)),
  );
  sumSimd(long, 0);
  assert.equal(
    checksumFinish(sumSimd(padded.subarray(0, 131), 0)),
    reference(padded.subarray(0, 131)),
  );
});

/** The documented instructions of `_checksum_fast.ts`'s module, assembled (wasm binary format). */
function assemble(): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_ADD = 0x6a, I32_AND = 0x71;
  const I32_GE_U = 0x4f, BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b;
  const VOID = 0x40, I32 = 0x7f, V128 = 0x7b;
  const V128_LOAD = (offset: number) => [0xfd, 0x00, 0x04, ...leb(offset)];
  const EXTADD_PAIRWISE_U = [0xfd, 0x7f], I32X4_ADD = [0xfd, 0xae, 0x01];
  const EXTRACT = (lane: number) => [0xfd, 0x1b, lane];
  const P = 0, N = 1, END_AT = 2, A = 3, B = 4;
  const step = (acc: number, offset: number) => [
    LOCAL_GET,
    acc,
    LOCAL_GET,
    P,
    ...V128_LOAD(offset),
    ...EXTADD_PAIRWISE_U,
    ...I32X4_ADD,
    LOCAL_SET,
    acc,
  ];
  const loop = (steps: number[], stride: number[]) => [
    BLOCK,
    VOID,
    LOOP,
    VOID,
    LOCAL_GET,
    P,
    LOCAL_GET,
    END_AT,
    I32_GE_U,
    BR_IF,
    1,
    ...steps,
    LOCAL_GET,
    P,
    I32_CONST,
    ...stride,
    I32_ADD,
    LOCAL_SET,
    P,
    BR,
    0,
    END,
    END,
  ];
  const body = [
    2,
    1,
    I32,
    2,
    V128, // locals: $end, then $a and $b
    LOCAL_GET,
    P,
    LOCAL_GET,
    N,
    I32_CONST,
    0x40,
    I32_AND,
    I32_ADD,
    LOCAL_SET,
    END_AT, // -64
    ...loop([...step(A, 0), ...step(B, 16), ...step(A, 32), ...step(B, 48)], [0xc0, 0x00]), // 64
    LOCAL_GET,
    END_AT,
    LOCAL_GET,
    N,
    I32_CONST,
    48,
    I32_AND,
    I32_ADD,
    LOCAL_SET,
    END_AT,
    ...loop(step(A, 0), [16]),
    LOCAL_GET,
    A,
    LOCAL_GET,
    B,
    ...I32X4_ADD,
    LOCAL_SET,
    A,
    LOCAL_GET,
    A,
    ...EXTRACT(0),
    LOCAL_GET,
    A,
    ...EXTRACT(1),
    I32_ADD,
    LOCAL_GET,
    A,
    ...EXTRACT(2),
    I32_ADD,
    LOCAL_GET,
    A,
    ...EXTRACT(3),
    I32_ADD,
    END,
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]), // type: (i32, i32) -> i32
    ...section(2, [1, ...name("env"), ...name("memory"), 2, 0, 1]), // imported memory, min 1 page
    ...section(3, [1, 0]), // one function of that type
    ...section(7, [1, ...name("sum"), 0, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

Deno.test("The embedded module is the documented instructions", () => {
  const embedded = Uint8Array.from(atob(SIMD_MODULE), (c) => c.charCodeAt(0));
  assert.deepEqual(embedded, assemble());
});

Deno.test("sumRange in place over a checksumBuffer agrees with RFC 1071 at any range", () => {
  const buf = checksumBuffer(70000);
  assert.equal(buf.buffer instanceof ArrayBuffer, true);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      fc.nat({ max: 66000 }),
      fc.nat({ max: 40 }),
      fc.nat({ max: 40 }),
      (bytes, at, lead, trail) => {
        const place = Math.min(at, buf.length - bytes.length - lead - trail);
        const view = buf.subarray(place, place + lead + bytes.length + trail);
        view.set(bytes, lead);
        const want = reference(bytes);
        const inPlace = checksumFinish(sumRange(view, lead, lead + bytes.length, 0));
        assert.ok(same(inPlace, want), `in place: ${bytes.length} bytes at ${place + lead}`);
        // The same range of an ordinary array goes through the copy path.
        const plain = view.slice();
        const copied = checksumFinish(sumRange(plain, lead, lead + bytes.length, 0));
        assert.ok(same(copied, want), `copied: ${bytes.length} bytes at ${lead}`);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("sumRange in place is right across kernel chunks, for all-0xff frames", () => {
  for (const len of [65535, 65536, 65537, 131072, 140001]) {
    const buf = checksumBuffer(len + 5);
    buf.fill(0xff);
    const want = reference(buf.subarray(3, 3 + len));
    assert.ok(same(checksumFinish(sumRange(buf, 3, 3 + len, 0)), want), `length ${len}`);
    assert.ok(same(checksumFinish(sumSimd(buf.subarray(3, 3 + len), 0)), want), `length ${len}`);
  }
});
