/**
 * Reading a TCP segment at an offset of a buffer: the body of `parseTcp` (src/wire/tcp.ts),
 * which ingress calls directly on the IP packet with the IP header's length as the offset, so a
 * received segment needs no subarray or view object before its payload. Internal to the wire
 * layer and ingress, not exported from `mod.ts`.
 *
 * @module
 */

import { readU16, readU32 } from "./_bytes.ts";
import type { IpAddress } from "./address.ts";
import { checksumFinish, pseudoHeaderSum } from "./checksum.ts";
import { sumAt } from "./_checksum_fast.ts";
import { WireError } from "./error.ts";
import { type MutableTcpTimestamp, type ParsedTcpOptions, parseTcpOptions } from "./tcp_option.ts";
import { TCP_FIELD as FIELD } from "./_tcp_emit.ts";
import type { TcpRepr } from "./tcp.ts";

/** The fixed header's length. */
const HEADER_LEN = 20;
/** IP protocol number of TCP, for the pseudo-header. */
const PROTOCOL_TCP = 6;

/** The payload of every parsed segment that carries no data. */
const NO_PAYLOAD = new Uint8Array(0);

/** Reused by `readTcpSegment`: the options of the segment being parsed (copied into its repr). */
const PARSED: ParsedTcpOptions = {
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: null,
  fastOpen: null,
};

/**
 * `TcpPacket.checkLen` for the segment at `b[off, end)`.
 *
 * @throws {WireError} When the buffer is shorter than the header or the data offset is bad.
 */
export function checkTcpLen(b: Uint8Array, off: number, end: number): void {
  const len = end - off;
  if (len < HEADER_LEN) {
    throw new WireError("tcp.length", len, `buffer truncated, need at least ${HEADER_LEN} bytes`);
  }
  const words = b[off + FIELD.DATA_OFFSET]! >>> 4;
  if (words < 5) {
    throw new WireError("tcp.dataOffset", words, "header length below the minimum of 5 words");
  }
  if (words * 4 > len) {
    throw new WireError(
      "tcp.dataOffset",
      words,
      `header of ${words * 4} bytes runs past the buffer of ${len} bytes`,
    );
  }
}

/**
 * Checks the segment at `b[off, end)`, verifies its checksum when `verify`, parses its options
 * into `PARSED` (the timestamps into `ts` when given) and returns where its header ends.
 */
function readHeader(
  b: Uint8Array,
  off: number,
  end: number,
  src: IpAddress,
  dst: IpAddress,
  verify: boolean,
  ts: MutableTcpTimestamp | null,
): number {
  checkTcpLen(b, off, end);
  if (verify) {
    const sum = sumAt(b, off, end, pseudoHeaderSum(src, dst, PROTOCOL_TCP, end - off));
    if (checksumFinish(sum) !== 0) {
      const field = readU16(b, off + FIELD.CHECKSUM);
      const expected = checksumFinish(sum + (~field & 0xffff));
      throw new WireError(
        "tcp.checksum",
        field,
        `checksum mismatch, expected 0x${expected.toString(16).padStart(4, "0")}`,
      );
    }
  }
  // RFC 9293 §3.1 / RFC 6335 §6: port 0 is reserved and never identifies a connection.
  if (readU16(b, off + FIELD.SRC_PORT) === 0) {
    throw new WireError("tcp.srcPort", 0, "port 0 is reserved");
  }
  if (readU16(b, off + FIELD.DST_PORT) === 0) {
    throw new WireError("tcp.dstPort", 0, "port 0 is reserved");
  }
  const headerEnd = off + (b[off + FIELD.DATA_OFFSET]! >>> 4) * 4;
  parseTcpOptions(b, off + FIELD.OPTIONS, headerEnd, PARSED, ts);
  return headerEnd;
}

/**
 * `parseTcp` for the segment at `b[off, end)`: checks, verifies the checksum when `verify`, and
 * reads the header and options; the payload is a subarray of `b` (a shared empty array when the
 * segment carries no data).
 *
 * @throws {WireError} As `parseTcp`.
 */
export function readTcpSegment(
  b: Uint8Array,
  off: number,
  end: number,
  src: IpAddress,
  dst: IpAddress,
  verify: boolean,
): TcpRepr {
  const headerEnd = readHeader(b, off, end, src, dst, verify, null);
  const repr = fill(blankTcpRepr(), b, off, end, headerEnd);
  // Only the rare segment with a Fast Open option gets the extra field: every other repr keeps
  // one shape (and compares equal to literals written without it).
  return PARSED.fastOpen === null ? repr : { ...repr, fastOpen: PARSED.fastOpen };
}

/** Fills `r` with the header at `b[off, …)`, the options in `PARSED` and the payload. */
function fill(
  r: MutableTcpRepr,
  b: Uint8Array,
  off: number,
  end: number,
  headerEnd: number,
): MutableTcpRepr {
  const o = PARSED;
  r.srcPort = readU16(b, off + FIELD.SRC_PORT);
  r.dstPort = readU16(b, off + FIELD.DST_PORT);
  r.seq = readU32(b, off + FIELD.SEQ);
  r.ack = readU32(b, off + FIELD.ACK);
  r.flags = b[off + FIELD.FLAGS]!;
  r.window = readU16(b, off + FIELD.WINDOW);
  r.urgent = readU16(b, off + FIELD.URGENT);
  r.mss = o.mss;
  r.windowScale = o.windowScale;
  r.sackPermitted = o.sackPermitted;
  r.sackBlocks = o.sackBlocks;
  r.timestamp = o.timestamp;
  // A segment without data (most ACKs) shares one empty array: a subarray costs more than the
  // rest of the parse.
  r.payload = headerEnd === end ? NO_PAYLOAD : b.subarray(headerEnd, end);
  return r;
}

/** A {@linkcode TcpRepr} whose fields a reader or a builder overwrites. */
export type MutableTcpRepr = { -readonly [K in keyof TcpRepr]: TcpRepr[K] };

/**
 * A repr to fill again and again: zero fields, no options, no payload, in the field order of
 * {@linkcode readTcpSegment}'s literal (one object shape for all).
 */
export function blankTcpRepr(): MutableTcpRepr {
  return {
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: PARSED.sackBlocks,
    timestamp: null,
    payload: NO_PAYLOAD,
  };
}

/**
 * {@linkcode readTcpSegment} into one repr (and one timestamps object) reused for every segment
 * it reads, for ingress, which hands each segment to its socket and is done with it before it
 * reads the next: a repr returned by `read` is valid only until the next `read`. Whoever keeps a
 * segment longer (the receive coalescing batch, a trace sink) copies it. A segment with a Fast
 * Open option (a SYN, rare) still gets a repr of its own.
 */
export class TcpSegmentReader {
  readonly #ts: MutableTcpTimestamp = { tsVal: 0, tsEcr: 0 };
  readonly #repr: MutableTcpRepr = blankTcpRepr();

  /**
   * The segment at `b[off, end)`, as {@linkcode readTcpSegment} reads it, in the reused repr.
   *
   * @throws {WireError} As `parseTcp`.
   */
  read(
    b: Uint8Array,
    off: number,
    end: number,
    src: IpAddress,
    dst: IpAddress,
    verify: boolean,
  ): TcpRepr {
    const headerEnd = readHeader(b, off, end, src, dst, verify, this.#ts);
    const r = fill(this.#repr, b, off, end, headerEnd);
    const o = PARSED;
    if (o.fastOpen === null) return r;
    const ts = r.timestamp;
    return { ...r, timestamp: ts === null ? null : { ...ts }, fastOpen: o.fastOpen };
  }
}
