/**
 * A small seeded pseudo-random generator (xoshiro128**) for the core: reproducible runs from a
 * seed, no allocation per draw. Security-relevant values (ISNs, ephemeral ports) combine it with
 * a secret drawn from `crypto.getRandomValues` by the interface.
 *
 * @module
 */

/**
 * A seeded 32-bit generator.
 *
 * @example
 * ```ts
 * import { Rng } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 *
 * const a = new Rng(42), b = new Rng(42);
 * assert.equal(a.nextU32(), b.nextU32());
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Creates a generator from a 32-bit seed (expanded with splitmix32).
   *
   * @param seed Any number; equal seeds give equal sequences.
   */
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next() | 1;
  }

  /**
   * The next unsigned 32-bit value.
   *
   * @returns An integer in [0, 2^32).
   *
   * @example
   * ```ts
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * assert.ok(new Rng(1).nextU32() < 2 ** 32);
   * ```
   */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return r;
  }

  /**
   * The next float in [0, 1).
   *
   * @returns A uniformly distributed number.
   *
   * @example
   * ```ts
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const f = new Rng(7).nextFloat();
   * assert.ok(f >= 0 && f < 1);
   * ```
   */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * An integer in [0, n) without modulo bias (n ≤ 2^32).
   *
   * @param n The exclusive upper bound.
   * @returns The integer.
   *
   * @example
   * ```ts
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * assert.ok(new Rng(3).below(10) < 10);
   * ```
   */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let v = this.nextU32();
    while (v >= limit) v = this.nextU32();
    return v % n;
  }

  /**
   * Fills `bytes` with generated values.
   *
   * @param bytes The buffer to fill.
   * @returns The same buffer.
   *
   * @example
   * ```ts
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * assert.equal(new Rng(9).fill(new Uint8Array(4)).length, 4);
   * ```
   */
  fill(bytes: Uint8Array): Uint8Array {
    for (let i = 0; i < bytes.length; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < i + 4 && j < bytes.length; j++) {
        bytes[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return bytes;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
