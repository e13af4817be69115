/**
 * TCP options (RFC 9293 §3.2): the option kinds, their plain-data forms, and their parsing and
 * emission for {@linkcode parseTcp} / {@linkcode emitTcp} in `tcp.ts`.
 *
 * Options understood: end of list, no-operation, maximum segment size (RFC 9293 §3.2), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018), TCP Fast Open (RFC 7413,
 * kind 34; the experimental kind 254 with magic 0xF989 is understood on receive only). Other
 * options are skipped by their length.
 *
 * @module
 */

import { readU32, writeU16, writeU32 } from "./_bytes.ts";
import { WireError } from "./error.ts";
import type { TcpRepr } from "./tcp.ts";

/** The data offset field is 4 bits of 32-bit words: 15 words at most. */
const MAX_HEADER_LEN = 60;
/** Length of the fixed header, before the options. */
const FIXED_HEADER_LEN = 20;
/** RFC 7323 §2.3: a shift count above 14 is treated as 14. */
const MAX_WINDOW_SCALE = 14;
/** SACK option: 2 bytes of kind and length, then 8 bytes per block (RFC 2018 §3). */
const SACK_BLOCK_LEN = 8;
/** At most four SACK blocks fit in the 40 bytes of option space. */
const MAX_SACK_BLOCKS = 4;
/** RFC 7413 §4.1.1: a Fast Open cookie is 4 to 16 bytes, an even number. */
const TFO_COOKIE_MIN = 4;
/** RFC 7413 §4.1.1: the longest Fast Open cookie. */
const TFO_COOKIE_MAX = 16;
/** The magic after the experimental option kind 254 that marks Fast Open (RFC 6994, RFC 7413 §4.1.1). */
const TFO_EXP_MAGIC = 0xf989;

/**
 * Option kinds (IANA "TCP Option Kind Numbers"). Kinds not listed are kept as plain numbers and
 * skipped on parse.
 *
 * @example
 * ```ts
 * import { TcpOption } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(TcpOption.MSS, 2);
 * assert.equal(TcpOption.TIMESTAMP, 8);
 * ```
 */
export const TcpOption = {
  /** End of option list (RFC 9293 §3.2). */
  EOL: 0,
  /** No-operation, used for alignment (RFC 9293 §3.2). */
  NOP: 1,
  /** Maximum segment size, length 4 (RFC 9293 §3.7.1). */
  MSS: 2,
  /** Window scale shift count, length 3 (RFC 7323 §2). */
  WINDOW_SCALE: 3,
  /** SACK permitted, length 2 (RFC 2018 §2). */
  SACK_PERMITTED: 4,
  /** SACK blocks, length 2 + 8n (RFC 2018 §3). */
  SACK: 5,
  /** Timestamps, length 10 (RFC 7323 §3). */
  TIMESTAMP: 8,
  /** TCP Fast Open cookie, length 2 (a cookie request) or 6–18 (RFC 7413 §4.1.1). */
  FAST_OPEN: 34,
  /** Experimental option (RFC 6994); with magic 0xF989 the pre-RFC Fast Open cookie. */
  EXPERIMENTAL: 254,
} as const;

/**
 * An option kind of {@linkcode TcpOption}.
 *
 * @example
 * ```ts
 * import { TcpOption } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const k: TcpOption = 8;
 * assert.equal(k, TcpOption.TIMESTAMP);
 * ```
 */
export type TcpOption = typeof TcpOption[keyof typeof TcpOption];

/**
 * A SACK block: the left edge (first sequence number of the block) and the right edge (the
 * sequence number just after it), both unsigned 32-bit (RFC 2018 §3).
 *
 * @example
 * ```ts
 * import type { SackBlock } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const block: SackBlock = [1000, 2460]; // bytes 1000 to 2459 arrived
 * const [left, right] = block;
 * assert.equal(right - left, 1460); // the right edge is the first byte after the block
 * ```
 */
export type SackBlock = readonly [left: number, right: number];

/**
 * The timestamps option values (RFC 7323 §3.2), unsigned 32-bit.
 *
 * @example
 * ```ts
 * import { TcpFlags, tcpOptionsLen, type TcpTimestamp } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const ts: TcpTimestamp = { tsVal: 12345, tsEcr: 0 }; // tsEcr is 0 until the peer's is known
 * const syn = {
 *   srcPort: 49152, dstPort: 80, seq: 0, ack: 0, flags: TcpFlags.SYN, window: 65535, urgent: 0,
 *   mss: null, windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: ts,
 *   payload: new Uint8Array(0),
 * };
 * assert.equal(tcpOptionsLen(syn), 12); // 10 bytes of option, padded to 12
 * ```
 */
export interface TcpTimestamp {
  /** The sender's timestamp clock value. */
  readonly tsVal: number;
  /** The echoed value of the peer's most recent TSval (0 when not yet known). */
  readonly tsEcr: number;
}

/**
 * The understood options of one segment, filled by {@linkcode parseTcpOptions}.
 *
 * @internal
 */
export interface ParsedTcpOptions {
  mss: number | null;
  windowScale: number | null;
  sackPermitted: boolean;
  sackBlocks: readonly SackBlock[];
  timestamp: TcpTimestamp | null;
  fastOpen: Uint8Array | null;
}

/** Shared empty list for segments without SACK blocks (never mutated). */
const NO_SACK_BLOCKS: readonly SackBlock[] = Object.freeze([]);

function optionName(kind: number): string {
  switch (kind) {
    case TcpOption.MSS:
      return "MSS";
    case TcpOption.WINDOW_SCALE:
      return "window scale";
    case TcpOption.SACK_PERMITTED:
      return "SACK-permitted";
    case TcpOption.SACK:
      return "SACK";
    case TcpOption.TIMESTAMP:
      return "timestamps";
    case TcpOption.FAST_OPEN:
      return "Fast Open";
    default:
      return `kind ${kind}`;
  }
}

function badOptionLength(kind: number, len: number, expected: string): WireError {
  return new WireError(
    "tcp.option",
    kind,
    `${optionName(kind)} option has length ${len}, expected ${expected}`,
  );
}

/** A {@linkcode TcpTimestamp} that a reader fills again for each segment. */
export interface MutableTcpTimestamp {
  tsVal: number;
  tsEcr: number;
}

/**
 * Parses the options in `b[start..end)` into `out` (every field is reset first). With `ts`, a
 * timestamps option is read into that object (and `out.timestamp` is it) instead of a new one.
 *
 * @internal
 * @throws {WireError} `tcp.option` (the value is the kind) for a missing or bad length byte, an
 * option past `end`, or a wrong length for a known kind.
 */
export function parseTcpOptions(
  b: Uint8Array,
  start: number,
  end: number,
  out: ParsedTcpOptions,
  ts: MutableTcpTimestamp | null = null,
): void {
  out.mss = null;
  out.windowScale = null;
  out.sackPermitted = false;
  out.sackBlocks = NO_SACK_BLOCKS;
  out.timestamp = null;
  out.fastOpen = null;
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TcpOption.EOL) break; // RFC 9293 §3.2: the rest is padding
    if (kind === TcpOption.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      throw new WireError(
        "tcp.option",
        kind,
        `${optionName(kind)} option has no length byte before the header end`,
      );
    }
    const len = b[i + 1]!;
    if (len < 2) {
      throw new WireError(
        "tcp.option",
        kind,
        `${optionName(kind)} option has length ${len}, below the minimum of 2`,
      );
    }
    if (i + len > end) {
      throw new WireError(
        "tcp.option",
        kind,
        `${optionName(kind)} option of length ${len} runs past the header end`,
      );
    }
    switch (kind) {
      case TcpOption.MSS:
        if (len !== 4) throw badOptionLength(kind, len, "4");
        out.mss = (b[i + 2]! << 8) | b[i + 3]!;
        break;
      case TcpOption.WINDOW_SCALE:
        if (len !== 3) throw badOptionLength(kind, len, "3");
        out.windowScale = Math.min(b[i + 2]!, MAX_WINDOW_SCALE); // RFC 7323 §2.3
        break;
      case TcpOption.SACK_PERMITTED:
        if (len !== 2) throw badOptionLength(kind, len, "2");
        out.sackPermitted = true;
        break;
      case TcpOption.SACK: {
        const n = (len - 2) / SACK_BLOCK_LEN;
        if (n < 1 || n > MAX_SACK_BLOCKS || n !== (n | 0)) {
          throw badOptionLength(kind, len, "10, 18, 26 or 34");
        }
        const blocks: SackBlock[] = [];
        for (let k = 0, o = i + 2; k < n; k++, o += SACK_BLOCK_LEN) {
          blocks.push([readU32(b, o), readU32(b, o + 4)]);
        }
        out.sackBlocks = blocks;
        break;
      }
      case TcpOption.TIMESTAMP:
        if (len !== 10) throw badOptionLength(kind, len, "10");
        if (ts === null) out.timestamp = { tsVal: readU32(b, i + 2), tsEcr: readU32(b, i + 6) };
        else {
          ts.tsVal = readU32(b, i + 2);
          ts.tsEcr = readU32(b, i + 6);
          out.timestamp = ts;
        }
        break;
      case TcpOption.FAST_OPEN:
        // RFC 7413 §4.1.1: a malformed cookie is ignored (the SYN goes on as a plain SYN), as
        // Linux's tcp_parse_fastopen_option does, rather than costing the segment.
        if (isCookieLen(len - 2)) out.fastOpen = b.subarray(i + 2, i + len);
        break;
      case TcpOption.EXPERIMENTAL:
        if (len >= 4 && ((b[i + 2]! << 8) | b[i + 3]!) === TFO_EXP_MAGIC && isCookieLen(len - 4)) {
          out.fastOpen = b.subarray(i + 4, i + len);
        }
        break;
      default:
        break; // unknown kinds are skipped by their length
    }
    i += len;
  }
}

/**
 * Length of the options of `repr` on the wire, padded to a multiple of 4: MSS 4, window scale 4
 * (with its NOP), SACK-permitted 2, timestamps 12 (with two NOPs), SACK 4 + 8 per block (with two
 * NOPs), Fast Open 2 + the cookie length.
 *
 * @param repr The segment.
 * @returns The option bytes, 0–40.
 * @throws {RangeError} When the options do not fit in 40 bytes, there are more than 4 SACK
 * blocks, or the Fast Open cookie is not 0 or 4–16 bytes of even length.
 *
 * @example
 * ```ts
 * import { tcpOptionsLen, TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const base = {
 *   srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TcpFlags.ACK, window: 0, urgent: 0, mss: null,
 *   windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
 *   payload: new Uint8Array(0),
 * };
 * assert.equal(tcpOptionsLen(base), 0);
 * assert.equal(tcpOptionsLen({ ...base, timestamp: { tsVal: 1, tsEcr: 2 } }), 12);
 * ```
 */
export function tcpOptionsLen(repr: TcpRepr): number {
  let n = 0;
  if (repr.mss !== null) n += 4;
  if (repr.windowScale !== null) n += 4;
  if (repr.sackPermitted) n += 2;
  if (repr.timestamp !== null) n += 12;
  const blocks = repr.sackBlocks.length;
  if (blocks > MAX_SACK_BLOCKS) {
    throw new RangeError(`Too many SACK blocks ${blocks}: at most ${MAX_SACK_BLOCKS} fit`);
  }
  if (blocks > 0) n += 4 + blocks * SACK_BLOCK_LEN;
  const tfo = repr.fastOpen;
  if (tfo !== undefined && tfo !== null) {
    if (!isCookieLen(tfo.length)) {
      throw new RangeError(
        `Invalid Fast Open cookie length ${tfo.length}: 0 or an even number from 4 to 16`,
      );
    }
    n += 2 + tfo.length;
  }
  n = (n + 3) & ~3;
  if (n > MAX_HEADER_LEN - FIXED_HEADER_LEN) {
    throw new RangeError(`TCP options of ${n} bytes exceed the 40-byte option space`);
  }
  return n;
}

/**
 * Writes the options of `repr` at `b[start..]` in the order MSS, NOP + window scale,
 * SACK-permitted, NOP NOP + timestamps, NOP NOP + SACK blocks, Fast Open, then end-of-list
 * padding up to `headerLen`.
 *
 * @internal
 */
export function emitTcpOptions(
  repr: TcpRepr,
  b: Uint8Array,
  start: number,
  headerLen: number,
): void {
  let i = start;
  if (repr.mss !== null) {
    b[i] = TcpOption.MSS;
    b[i + 1] = 4;
    writeU16(b, i + 2, repr.mss);
    i += 4;
  }
  if (repr.windowScale !== null) {
    b[i] = TcpOption.NOP;
    b[i + 1] = TcpOption.WINDOW_SCALE;
    b[i + 2] = 3;
    b[i + 3] = repr.windowScale & 0xff;
    i += 4;
  }
  if (repr.sackPermitted) {
    b[i] = TcpOption.SACK_PERMITTED;
    b[i + 1] = 2;
    i += 2;
  }
  const ts = repr.timestamp;
  if (ts !== null) {
    b[i] = TcpOption.NOP;
    b[i + 1] = TcpOption.NOP;
    b[i + 2] = TcpOption.TIMESTAMP;
    b[i + 3] = 10;
    writeU32(b, i + 4, ts.tsVal);
    writeU32(b, i + 8, ts.tsEcr);
    i += 12;
  }
  const blocks = repr.sackBlocks;
  if (blocks.length > 0) {
    b[i] = TcpOption.NOP;
    b[i + 1] = TcpOption.NOP;
    b[i + 2] = TcpOption.SACK;
    b[i + 3] = 2 + blocks.length * SACK_BLOCK_LEN;
    i += 4;
    for (let k = 0; k < blocks.length; k++) {
      const block = blocks[k]!;
      writeU32(b, i, block[0]);
      writeU32(b, i + 4, block[1]);
      i += SACK_BLOCK_LEN;
    }
  }
  const tfo = repr.fastOpen;
  if (tfo !== undefined && tfo !== null) {
    b[i] = TcpOption.FAST_OPEN;
    b[i + 1] = 2 + tfo.length;
    b.set(tfo, i + 2);
    i += 2 + tfo.length;
  }
  // RFC 9293 §3.1: the padding after the options is zeros (an end-of-list option).
  for (; i < headerLen; i++) b[i] = TcpOption.EOL;
}

/** Whether `n` bytes is a Fast Open option's valid content: a request (0) or a cookie. */
function isCookieLen(n: number): boolean {
  return n === 0 || (n >= TFO_COOKIE_MIN && n <= TFO_COOKIE_MAX && (n & 1) === 0);
}
