/**
 * The IPv6 Fragment header (RFC 8200 §4.5): a zero-copy view, its representation, parse and
 * emit.
 *
 * @module
 */

import type { EmitOptions, ParseOptions } from "./checksum.ts";
import { requireLength } from "./error.ts";
import { checkByte } from "./_bytes.ts";

const FIELD = { NXT_HDR: 0, LENGTH: 1, FRAG_OFF_M: 2, FRAG_IDENT: 4 } as const;

/**
 * The length of the Fragment header.
 *
 * @example
 * ```ts
 * import { IPV6_FRAGMENT_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_FRAGMENT_HEADER_LEN, 8);
 * ```
 */
export const IPV6_FRAGMENT_HEADER_LEN = 8;

/**
 * A zero-copy view of a Fragment header (RFC 8200 §4.5).
 *
 * @example
 * ```ts
 * import { Ipv6FragmentHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = Ipv6FragmentHeader.newChecked(new Uint8Array([58, 0, 0x04, 0xd1, 0, 0, 0, 7]));
 * assert.equal(header.fragOffset, 1232);
 * assert.equal(header.moreFrags, true);
 * assert.equal(header.ident, 7);
 * ```
 */
export class Ipv6FragmentHeader {
  /** The bytes from the start of this header; may extend past it. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it.
   *
   * @param buffer The bytes, starting at this header.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks that the 8-byte header fits.
   *
   * @param buffer The bytes, starting at this header.
   * @returns The view.
   * @throws {WireError} When the header is truncated.
   *
   * @example
   * ```ts
   * import { Ipv6FragmentHeader, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => Ipv6FragmentHeader.newChecked(new Uint8Array(7)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): Ipv6FragmentHeader {
    const header = new Ipv6FragmentHeader(buffer);
    header.checkLen();
    return header;
  }

  /**
   * Checks that the buffer holds 8 bytes.
   *
   * @throws {WireError} When the header is truncated.
   *
   * @example
   * ```ts
   * import { Ipv6FragmentHeader, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * new Ipv6FragmentHeader(new Uint8Array(8)).checkLen(); // the header is always 8 bytes
   * assert.throws(() => new Ipv6FragmentHeader(new Uint8Array(7)).checkLen(), WireError);
   * ```
   */
  checkLen(): void {
    requireLength("ipv6frag", this.buffer, IPV6_FRAGMENT_HEADER_LEN);
  }

  /** The type of the header that follows (of the fragmentable part). */
  get nextHeader(): number {
    return this.buffer[FIELD.NXT_HDR]!;
  }
  set nextHeader(value: number) {
    this.buffer[FIELD.NXT_HDR] = value;
  }

  /** The fragment offset in bytes (the field counts 8-byte units; setting divides by 8). */
  get fragOffset(): number {
    const b = this.buffer;
    return ((b[FIELD.FRAG_OFF_M]! << 8) | b[FIELD.FRAG_OFF_M + 1]!) & 0xfff8;
  }
  set fragOffset(value: number) {
    const b = this.buffer;
    b[FIELD.FRAG_OFF_M] = (value >>> 8) & 0xff;
    b[FIELD.FRAG_OFF_M + 1] = (value & 0xf8) | (b[FIELD.FRAG_OFF_M + 1]! & 0x07);
  }

  /** The M flag: more fragments follow. */
  get moreFrags(): boolean {
    return (this.buffer[FIELD.FRAG_OFF_M + 1]! & 1) !== 0;
  }
  set moreFrags(value: boolean) {
    const b = this.buffer;
    b[FIELD.FRAG_OFF_M + 1] = (b[FIELD.FRAG_OFF_M + 1]! & 0xfe) | (value ? 1 : 0);
  }

  /** The 32-bit identification. */
  get ident(): number {
    const b = this.buffer, o = FIELD.FRAG_IDENT;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }
  set ident(value: number) {
    const b = this.buffer, o = FIELD.FRAG_IDENT;
    b[o] = value >>> 24;
    b[o + 1] = (value >>> 16) & 0xff;
    b[o + 2] = (value >>> 8) & 0xff;
    b[o + 3] = value & 0xff;
  }

  /** The bytes after the header (the fragment data), to the end of the buffer; a subarray. */
  get payload(): Uint8Array {
    return this.buffer.subarray(IPV6_FRAGMENT_HEADER_LEN);
  }
}

/**
 * A Fragment header as plain data.
 *
 * @example
 * ```ts
 * import type { Ipv6FragmentRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const frag: Ipv6FragmentRepr = { nextHeader: 58, fragOffset: 1232, moreFrags: false, ident: 7 };
 * assert.equal(frag.fragOffset, 1232);
 * ```
 */
export interface Ipv6FragmentRepr {
  /** The type of the first header of the fragmentable part, 0–255. */
  readonly nextHeader: number;
  /** The fragment offset in bytes, a multiple of 8, 0–65528. */
  readonly fragOffset: number;
  /** More fragments follow. */
  readonly moreFrags: boolean;
  /** The identification, a u32. */
  readonly ident: number;
}

/**
 * Checks a Fragment header and reads it. The reserved fields are ignored (RFC 8200 §4.5).
 *
 * @param header The header view.
 * @param _opts Accepted for uniformity with the other parsers.
 * @returns The header as plain data.
 * @throws {WireError} When the header is truncated.
 *
 * @example
 * ```ts
 * import { Ipv6FragmentHeader, parseIpv6Fragment } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = parseIpv6Fragment(new Ipv6FragmentHeader(new Uint8Array([17, 0, 0, 1, 0, 0, 0, 9])));
 * assert.deepEqual(repr, { nextHeader: 17, fragOffset: 0, moreFrags: true, ident: 9 });
 * ```
 */
export function parseIpv6Fragment(
  header: Ipv6FragmentHeader,
  _opts?: ParseOptions,
): Ipv6FragmentRepr {
  header.checkLen();
  return {
    nextHeader: header.nextHeader,
    fragOffset: header.fragOffset,
    moreFrags: header.moreFrags,
    ident: header.ident,
  };
}

/**
 * Writes the Fragment header `repr` describes (reserved fields zero).
 *
 * @param repr The header.
 * @param header A view over at least {@linkcode IPV6_FRAGMENT_HEADER_LEN} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When a field is out of range or the buffer is too short.
 *
 * @example
 * ```ts
 * import { emitIpv6Fragment, Ipv6FragmentHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = new Ipv6FragmentHeader(new Uint8Array(8));
 * emitIpv6Fragment({ nextHeader: 58, fragOffset: 1232, moreFrags: false, ident: 7 }, header);
 * assert.deepEqual([...header.buffer], [58, 0, 4, 208, 0, 0, 0, 7]);
 * ```
 */
export function emitIpv6Fragment(
  repr: Ipv6FragmentRepr,
  header: Ipv6FragmentHeader,
  _opts?: EmitOptions,
): void {
  checkByte("next header", repr.nextHeader);
  const off = repr.fragOffset, ident = repr.ident;
  if (!Number.isInteger(off) || off < 0 || off > 0xfff8 || off % 8 !== 0) {
    throw new RangeError(`Invalid fragment offset ${off}: must be a multiple of 8 up to 65528`);
  }
  if (!Number.isInteger(ident) || ident < 0 || ident > 0xffffffff) {
    throw new RangeError(`Invalid fragment identification ${ident}: must be a u32`);
  }
  const b = header.buffer;
  if (b.length < IPV6_FRAGMENT_HEADER_LEN) {
    throw new RangeError(`Buffer of ${b.length} bytes is too short for an 8-byte header`);
  }
  b[FIELD.NXT_HDR] = repr.nextHeader;
  b[FIELD.LENGTH] = 0;
  b[FIELD.FRAG_OFF_M] = off >>> 8;
  b[FIELD.FRAG_OFF_M + 1] = (off & 0xf8) | (repr.moreFrags ? 1 : 0);
  header.ident = ident;
}
