/**
 * TCP segments (RFC 9293 §3.1): a zero-copy {@linkcode TcpPacket} view and a plain-data
 * {@linkcode TcpRepr} with {@linkcode parseTcp} / {@linkcode emitTcp}.
 *
 * Options understood: end of list, no-operation, maximum segment size (RFC 9293 §3.2), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018). Other options are skipped
 * by their length.
 *
 * @module
 */

import type { IpAddress } from "./address.ts";
import {
  checksumFinish,
  checksumSum,
  type EmitOptions,
  type ParseOptions,
  pseudoHeaderSum,
} from "./checksum.ts";
import { WireError } from "./error.ts";

/** Byte offsets of the fixed header fields (RFC 9293 §3.1). */
const FIELD = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

/** IP protocol number of TCP, for the pseudo-header. */
const PROTOCOL_TCP = 6;
/** The data offset field is 4 bits of 32-bit words: 15 words at most. */
const MAX_HEADER_LEN = 60;
/** RFC 7323 §2.3: a shift count above 14 is treated as 14. */
const MAX_WINDOW_SCALE = 14;
/** SACK option: 2 bytes of kind and length, then 8 bytes per block (RFC 2018 §3). */
const SACK_BLOCK_LEN = 8;
/** At most four SACK blocks fit in the 40 bytes of option space. */
const MAX_SACK_BLOCKS = 4;

/**
 * Length of the fixed TCP header in bytes (a header without options).
 *
 * @example
 * ```ts
 * import { TCP_HEADER_LEN } from "@smol/net/wire";
 * console.log(TCP_HEADER_LEN); // 20
 * ```
 */
export const TCP_HEADER_LEN = 20;

/**
 * The control bits of the flags byte (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR).
 *
 * @example
 * ```ts
 * import { TcpFlags } from "@smol/net/wire";
 * const synAck = TcpFlags.SYN | TcpFlags.ACK;
 * console.log(synAck, (synAck & TcpFlags.ACK) !== 0); // 18 true
 * ```
 */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * One control bit of {@linkcode TcpFlags}.
 *
 * @example
 * ```ts
 * import { type TcpFlags } from "@smol/net/wire";
 * const f: TcpFlags = 0x02;
 * ```
 */
export type TcpFlags = typeof TcpFlags[keyof typeof TcpFlags];

/**
 * Option kinds (IANA "TCP Option Kind Numbers"). Kinds not listed are kept as plain numbers and
 * skipped on parse.
 *
 * @example
 * ```ts
 * import { TcpOption } from "@smol/net/wire";
 * console.log(TcpOption.MSS, TcpOption.TIMESTAMP); // 2 8
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
} as const;

/**
 * An option kind of {@linkcode TcpOption}.
 *
 * @example
 * ```ts
 * import { type TcpOption } from "@smol/net/wire";
 * const k: TcpOption = 8;
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
 * const block: SackBlock = [1000, 2460];
 * ```
 */
export type SackBlock = readonly [left: number, right: number];

/**
 * The timestamps option values (RFC 7323 §3.2), unsigned 32-bit.
 *
 * @example
 * ```ts
 * import type { TcpTimestamp } from "@smol/net/wire";
 * const ts: TcpTimestamp = { tsVal: 12345, tsEcr: 0 };
 * ```
 */
export interface TcpTimestamp {
  /** The sender's timestamp clock value. */
  readonly tsVal: number;
  /** The echoed value of the peer's most recent TSval (0 when not yet known). */
  readonly tsEcr: number;
}

/**
 * A TCP segment as plain data: header fields, understood options, and the payload.
 *
 * On parse, `payload` is a subarray of the packet; on emit it is copied into the packet after the
 * header. `ack` is written as given even without the ACK flag.
 *
 * @example
 * ```ts
 * import { type TcpRepr, TcpFlags } from "@smol/net/wire";
 * const syn: TcpRepr = {
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * };
 * ```
 */
export interface TcpRepr {
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Sequence number, u32. */
  readonly seq: number;
  /** Acknowledgment number, u32; meaningful only when `flags` has ACK. */
  readonly ack: number;
  /** {@linkcode TcpFlags} bits. */
  readonly flags: number;
  /** The raw 16-bit window field (not scaled). */
  readonly window: number;
  /** The urgent pointer field. */
  readonly urgent: number;
  /** Maximum segment size option, or `null` when absent. */
  readonly mss: number | null;
  /** Window scale shift count as sent (parse clamps values above 14 to 14), or `null`. */
  readonly windowScale: number | null;
  /** Whether the SACK-permitted option is present. */
  readonly sackPermitted: boolean;
  /** SACK blocks: at most 4, or 3 together with timestamps. */
  readonly sackBlocks: readonly SackBlock[];
  /** Timestamps option, or `null` when absent. */
  readonly timestamp: TcpTimestamp | null;
  /** The segment's data. */
  readonly payload: Uint8Array;
}

/**
 * A zero-copy view of a TCP segment. The constructor does not validate; use
 * {@linkcode TcpPacket.newChecked} (or call {@linkcode TcpPacket.checkLen}) before reading
 * `options` or `payload` of untrusted bytes.
 *
 * @example
 * ```ts
 * import { TcpPacket } from "@smol/net/wire";
 *
 * const p = new TcpPacket(new Uint8Array(20));
 * p.srcPort = 49152;
 * p.dstPort = 80;
 * p.dataOffset = 5;
 * p.synFlag = true;
 * console.log(p.srcPort, p.dstPort, p.flags, p.headerLen); // 49152 80 2 20
 * ```
 */
export class TcpPacket {
  /** The underlying bytes: header, options and payload. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it.
   *
   * @param buffer The segment bytes (the whole IP payload).
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks its length fields.
   *
   * @param buffer The segment bytes (the whole IP payload).
   * @returns The view.
   * @throws {WireError} When the buffer is truncated or the data offset is invalid.
   *
   * @example
   * ```ts
   * import { TcpPacket, WireError } from "@smol/net/wire";
   * try {
   *   TcpPacket.newChecked(new Uint8Array(10));
   * } catch (e) {
   *   console.log(e instanceof WireError); // true
   * }
   * ```
   */
  static newChecked(buffer: Uint8Array): TcpPacket {
    const p = new TcpPacket(buffer);
    p.checkLen();
    return p;
  }

  /**
   * Checks that the buffer holds the fixed header, that the data offset is at least 5 words, and
   * that the header it announces fits in the buffer.
   *
   * @throws {WireError} `tcp.length` or `tcp.dataOffset` when the check fails.
   *
   * @example
   * ```ts
   * import { TcpPacket } from "@smol/net/wire";
   * const b = new Uint8Array(20);
   * b[12] = 0x60; // 24-byte header in a 20-byte buffer
   * try { new TcpPacket(b).checkLen(); } catch (e) { console.log((e as Error).message); }
   * // Invalid tcp.dataOffset 6: header of 24 bytes runs past the buffer of 20 bytes
   * ```
   */
  checkLen(): void {
    const len = this.buffer.length;
    if (len < TCP_HEADER_LEN) {
      throw new WireError(
        "tcp.length",
        len,
        `buffer truncated, need at least ${TCP_HEADER_LEN} bytes`,
      );
    }
    const off = this.dataOffset;
    if (off < 5) {
      throw new WireError("tcp.dataOffset", off, "header length below the minimum of 5 words");
    }
    if (off * 4 > len) {
      throw new WireError(
        "tcp.dataOffset",
        off,
        `header of ${off * 4} bytes runs past the buffer of ${len} bytes`,
      );
    }
  }

  /** Source port. */
  get srcPort(): number {
    const b = this.buffer;
    return (b[FIELD.SRC_PORT]! << 8) | b[FIELD.SRC_PORT + 1]!;
  }
  set srcPort(v: number) {
    writeU16(this.buffer, FIELD.SRC_PORT, v);
  }

  /** Destination port. */
  get dstPort(): number {
    const b = this.buffer;
    return (b[FIELD.DST_PORT]! << 8) | b[FIELD.DST_PORT + 1]!;
  }
  set dstPort(v: number) {
    writeU16(this.buffer, FIELD.DST_PORT, v);
  }

  /** Sequence number, u32. */
  get seq(): number {
    return readU32(this.buffer, FIELD.SEQ);
  }
  set seq(v: number) {
    writeU32(this.buffer, FIELD.SEQ, v);
  }

  /** Acknowledgment number, u32. */
  get ack(): number {
    return readU32(this.buffer, FIELD.ACK);
  }
  set ack(v: number) {
    writeU32(this.buffer, FIELD.ACK, v);
  }

  /**
   * Data offset: the header length in 32-bit words (5–15). Setting it keeps the reserved bits.
   *
   * @example
   * ```ts
   * import { TcpPacket } from "@smol/net/wire";
   * const p = new TcpPacket(new Uint8Array(32));
   * p.dataOffset = 8;
   * console.log(p.dataOffset, p.headerLen); // 8 32
   * ```
   */
  get dataOffset(): number {
    return this.buffer[FIELD.DATA_OFFSET]! >>> 4;
  }
  set dataOffset(v: number) {
    const b = this.buffer;
    b[FIELD.DATA_OFFSET] = ((v & 0x0f) << 4) | (b[FIELD.DATA_OFFSET]! & 0x0f);
  }

  /** Header length in bytes, options included (`dataOffset * 4`). */
  get headerLen(): number {
    return (this.buffer[FIELD.DATA_OFFSET]! >>> 4) * 4;
  }

  /**
   * The flags byte ({@linkcode TcpFlags} bits).
   *
   * @example
   * ```ts
   * import { TcpFlags, TcpPacket } from "@smol/net/wire";
   * const p = new TcpPacket(new Uint8Array(20));
   * p.flags = TcpFlags.SYN | TcpFlags.ACK;
   * console.log(p.synFlag, p.ackFlag, p.finFlag); // true true false
   * ```
   */
  get flags(): number {
    return this.buffer[FIELD.FLAGS]!;
  }
  set flags(v: number) {
    this.buffer[FIELD.FLAGS] = v & 0xff;
  }

  /** FIN: no more data from the sender. */
  get finFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.FIN) !== 0;
  }
  set finFlag(v: boolean) {
    this.#setFlag(TcpFlags.FIN, v);
  }
  /** SYN: synchronize sequence numbers. */
  get synFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.SYN) !== 0;
  }
  set synFlag(v: boolean) {
    this.#setFlag(TcpFlags.SYN, v);
  }
  /** RST: reset the connection. */
  get rstFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.RST) !== 0;
  }
  set rstFlag(v: boolean) {
    this.#setFlag(TcpFlags.RST, v);
  }
  /** PSH: push function. */
  get pshFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.PSH) !== 0;
  }
  set pshFlag(v: boolean) {
    this.#setFlag(TcpFlags.PSH, v);
  }
  /** ACK: the acknowledgment number is significant. */
  get ackFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.ACK) !== 0;
  }
  set ackFlag(v: boolean) {
    this.#setFlag(TcpFlags.ACK, v);
  }
  /** URG: the urgent pointer is significant. */
  get urgFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.URG) !== 0;
  }
  set urgFlag(v: boolean) {
    this.#setFlag(TcpFlags.URG, v);
  }
  /** ECE: ECN-Echo (RFC 3168 §6.1). */
  get eceFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.ECE) !== 0;
  }
  set eceFlag(v: boolean) {
    this.#setFlag(TcpFlags.ECE, v);
  }
  /** CWR: congestion window reduced (RFC 3168 §6.1). */
  get cwrFlag(): boolean {
    return (this.buffer[FIELD.FLAGS]! & TcpFlags.CWR) !== 0;
  }
  set cwrFlag(v: boolean) {
    this.#setFlag(TcpFlags.CWR, v);
  }

  #setFlag(bit: number, on: boolean): void {
    const b = this.buffer;
    b[FIELD.FLAGS] = on ? b[FIELD.FLAGS]! | bit : b[FIELD.FLAGS]! & ~bit;
  }

  /** The raw 16-bit window field (not scaled). */
  get window(): number {
    const b = this.buffer;
    return (b[FIELD.WINDOW]! << 8) | b[FIELD.WINDOW + 1]!;
  }
  set window(v: number) {
    writeU16(this.buffer, FIELD.WINDOW, v);
  }

  /** The checksum field. */
  get checksum(): number {
    const b = this.buffer;
    return (b[FIELD.CHECKSUM]! << 8) | b[FIELD.CHECKSUM + 1]!;
  }
  set checksum(v: number) {
    writeU16(this.buffer, FIELD.CHECKSUM, v);
  }

  /** The urgent pointer field. */
  get urgent(): number {
    const b = this.buffer;
    return (b[FIELD.URGENT]! << 8) | b[FIELD.URGENT + 1]!;
  }
  set urgent(v: number) {
    writeU16(this.buffer, FIELD.URGENT, v);
  }

  /**
   * The option bytes between the fixed header and the payload (a subarray, never a copy).
   *
   * @example
   * ```ts
   * import { TcpPacket } from "@smol/net/wire";
   * const b = new Uint8Array(24);
   * b[12] = 0x60;
   * b.set([2, 4, 5, 0xb4], 20);
   * console.log(TcpPacket.newChecked(b).options); // Uint8Array(4) [ 2, 4, 5, 180 ]
   * ```
   */
  get options(): Uint8Array {
    return this.buffer.subarray(FIELD.OPTIONS, this.headerLen);
  }

  /**
   * The data after the header (a subarray, never a copy).
   *
   * @example
   * ```ts
   * import { TcpPacket } from "@smol/net/wire";
   * const b = new Uint8Array(22);
   * b[12] = 0x50;
   * b.set([104, 105], 20);
   * console.log(new TextDecoder().decode(TcpPacket.newChecked(b).payload)); // hi
   * ```
   */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }

  /**
   * Checks the checksum over the whole buffer with the pseudo-header of `src` and `dst`
   * (IPv4 or IPv6 chosen by `src.version`).
   *
   * @param src Source IP address.
   * @param dst Destination IP address.
   * @returns `true` when the checksum is correct.
   *
   * @example
   * ```ts
   * import { Ipv4Address, TcpPacket } from "@smol/net/wire";
   * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
   * const p = new TcpPacket(new Uint8Array(20));
   * p.dataOffset = 5;
   * p.fillChecksum(a, b);
   * console.log(p.verifyChecksum(a, b), p.verifyChecksum(b, b)); // true false
   * ```
   */
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    const b = this.buffer;
    const sum = checksumSum(b, pseudoHeaderSum(src, dst, PROTOCOL_TCP, b.length));
    return checksumFinish(sum) === 0;
  }

  /**
   * Computes the checksum over the whole buffer and writes it.
   *
   * @param src Source IP address.
   * @param dst Destination IP address.
   *
   * @example
   * ```ts
   * import { Ipv6Address, TcpPacket } from "@smol/net/wire";
   * const a = Ipv6Address.parse("2001:db8::1"), b = Ipv6Address.parse("2001:db8::2");
   * const p = new TcpPacket(new Uint8Array(20));
   * p.dataOffset = 5;
   * p.fillChecksum(a, b);
   * console.log(p.verifyChecksum(a, b)); // true
   * ```
   */
  fillChecksum(src: IpAddress, dst: IpAddress): void {
    const b = this.buffer;
    b[FIELD.CHECKSUM] = 0;
    b[FIELD.CHECKSUM + 1] = 0;
    const sum = checksumSum(b, pseudoHeaderSum(src, dst, PROTOCOL_TCP, b.length));
    writeU16(b, FIELD.CHECKSUM, checksumFinish(sum));
  }
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

/**
 * Validates a segment and returns its plain-data form: checks the length fields, the checksum
 * (unless `opts.verifyChecksum` is `false`), the ports, and every option.
 *
 * @param packet The segment view (the whole IP payload).
 * @param src Source IP address (its version selects the IPv4 or IPv6 pseudo-header).
 * @param dst Destination IP address.
 * @param opts `verifyChecksum: false` skips the checksum check.
 * @returns The representation; `payload` is a subarray of `packet.buffer`.
 * @throws {WireError} On truncation, a bad data offset (`tcp.dataOffset`), a bad checksum
 * (`tcp.checksum`), port 0 (`tcp.srcPort` / `tcp.dstPort`) or a malformed option
 * (`tcp.option`, the value is the option kind).
 *
 * @example
 * ```ts
 * import { Ipv4Address, parseTcp, TcpPacket } from "@smol/net/wire";
 * const bytes = new Uint8Array([
 *   0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xfa, 0xf0,
 *   0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
 * ]);
 * const repr = parseTcp(new TcpPacket(bytes), Ipv4Address.parse("192.0.2.1"),
 *   Ipv4Address.parse("192.0.2.2"), { verifyChecksum: false });
 * console.log(repr.srcPort, repr.dstPort, repr.seq, repr.mss); // 49152 80 1000 1460
 * ```
 */
export function parseTcp(
  packet: TcpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: ParseOptions,
): TcpRepr {
  packet.checkLen();
  const b = packet.buffer;
  if (opts?.verifyChecksum !== false) {
    const sum = checksumSum(b, pseudoHeaderSum(src, dst, PROTOCOL_TCP, b.length));
    if (checksumFinish(sum) !== 0) {
      const field = packet.checksum;
      const expected = checksumFinish(sum + (~field & 0xffff));
      throw new WireError(
        "tcp.checksum",
        field,
        `checksum mismatch, expected 0x${expected.toString(16).padStart(4, "0")}`,
      );
    }
  }
  const srcPort = packet.srcPort;
  const dstPort = packet.dstPort;
  // RFC 9293 §3.1 / RFC 6335 §6: port 0 is reserved and never identifies a connection.
  if (srcPort === 0) throw new WireError("tcp.srcPort", 0, "port 0 is reserved");
  if (dstPort === 0) throw new WireError("tcp.dstPort", 0, "port 0 is reserved");

  let mss: number | null = null;
  let windowScale: number | null = null;
  let sackPermitted = false;
  let sackBlocks: readonly SackBlock[] = NO_SACK_BLOCKS;
  let timestamp: TcpTimestamp | null = null;

  const end = packet.headerLen;
  let i: number = FIELD.OPTIONS;
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
        mss = (b[i + 2]! << 8) | b[i + 3]!;
        break;
      case TcpOption.WINDOW_SCALE:
        if (len !== 3) throw badOptionLength(kind, len, "3");
        windowScale = Math.min(b[i + 2]!, MAX_WINDOW_SCALE); // RFC 7323 §2.3
        break;
      case TcpOption.SACK_PERMITTED:
        if (len !== 2) throw badOptionLength(kind, len, "2");
        sackPermitted = true;
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
        sackBlocks = blocks;
        break;
      }
      case TcpOption.TIMESTAMP:
        if (len !== 10) throw badOptionLength(kind, len, "10");
        timestamp = { tsVal: readU32(b, i + 2), tsEcr: readU32(b, i + 6) };
        break;
      default:
        break; // unknown kinds are skipped by their length
    }
    i += len;
  }

  return {
    srcPort,
    dstPort,
    seq: packet.seq,
    ack: packet.ack,
    flags: packet.flags,
    window: packet.window,
    urgent: packet.urgent,
    mss,
    windowScale,
    sackPermitted,
    sackBlocks,
    timestamp,
    payload: b.subarray(end),
  };
}

/**
 * Length of the options of `repr` on the wire, padded to a multiple of 4: MSS 4, window scale 4
 * (with its NOP), SACK-permitted 2, timestamps 12 (with two NOPs), SACK 4 + 8 per block (with two
 * NOPs).
 *
 * @param repr The segment.
 * @returns The option bytes, 0–40.
 * @throws {RangeError} When the options do not fit in 40 bytes or there are more than 4 SACK
 * blocks.
 *
 * @example
 * ```ts
 * import { tcpOptionsLen, TcpFlags } from "@smol/net/wire";
 * const base = {
 *   srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TcpFlags.ACK, window: 0, urgent: 0, mss: null,
 *   windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
 *   payload: new Uint8Array(0),
 * };
 * console.log(tcpOptionsLen(base), tcpOptionsLen({ ...base, timestamp: { tsVal: 1, tsEcr: 2 } }));
 * // 0 12
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
  n = (n + 3) & ~3;
  if (n > MAX_HEADER_LEN - TCP_HEADER_LEN) {
    throw new RangeError(`TCP options of ${n} bytes exceed the 40-byte option space`);
  }
  return n;
}

/**
 * Header length of `repr` in bytes: 20 plus its options, padded to a multiple of 4.
 *
 * @param repr The segment.
 * @returns 20–60.
 * @throws {RangeError} When the options do not fit (see {@linkcode tcpOptionsLen}).
 *
 * @example
 * ```ts
 * import { tcpHeaderLen, TcpFlags } from "@smol/net/wire";
 * console.log(tcpHeaderLen({
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * })); // 44
 * ```
 */
export function tcpHeaderLen(repr: TcpRepr): number {
  return TCP_HEADER_LEN + tcpOptionsLen(repr);
}

/**
 * Buffer length needed to emit `repr`: header plus payload.
 *
 * @param repr The segment.
 * @returns The segment length in bytes.
 * @throws {RangeError} When the options do not fit (see {@linkcode tcpOptionsLen}).
 *
 * @example
 * ```ts
 * import { tcpBufferLen, TcpFlags } from "@smol/net/wire";
 * console.log(tcpBufferLen({
 *   srcPort: 80, dstPort: 49152, seq: 1, ack: 1, flags: TcpFlags.ACK | TcpFlags.PSH,
 *   window: 512, urgent: 0, mss: null, windowScale: null, sackPermitted: false,
 *   sackBlocks: [], timestamp: null, payload: new Uint8Array(100),
 * })); // 120
 * ```
 */
export function tcpBufferLen(repr: TcpRepr): number {
  return tcpHeaderLen(repr) + repr.payload.length;
}

/**
 * Sequence space used by `repr`: payload length, plus one for SYN and one for FIN
 * (RFC 9293 §3.4).
 *
 * @param repr The segment.
 * @returns The segment length in sequence numbers.
 *
 * @example
 * ```ts
 * import { tcpSegmentLen, TcpFlags } from "@smol/net/wire";
 * console.log(tcpSegmentLen({
 *   srcPort: 80, dstPort: 49152, seq: 1, ack: 1, flags: TcpFlags.FIN | TcpFlags.ACK,
 *   window: 512, urgent: 0, mss: null, windowScale: null, sackPermitted: false,
 *   sackBlocks: [], timestamp: null, payload: new Uint8Array(10),
 * })); // 11
 * ```
 */
export function tcpSegmentLen(repr: TcpRepr): number {
  const f = repr.flags;
  return repr.payload.length + (f & TcpFlags.SYN ? 1 : 0) + (f & TcpFlags.FIN ? 1 : 0);
}

/**
 * Writes `repr` into `packet`: the header, the options in the order MSS, NOP + window scale,
 * SACK-permitted, NOP NOP + timestamps, NOP NOP + SACK blocks, zero padding to a multiple of 4,
 * then the payload, then the checksum unless `opts.fillChecksum` is `false` (the field is left
 * zero). The segment covers the first {@linkcode tcpBufferLen} bytes of the buffer; size the
 * buffer exactly so that the IP length agrees. Does not allocate.
 *
 * @param repr The segment.
 * @param packet The view to write into, at least `tcpBufferLen(repr)` bytes.
 * @param src Source IP address (for the pseudo-header).
 * @param dst Destination IP address.
 * @param opts `fillChecksum: false` leaves the checksum zero for offload.
 * @throws {RangeError} When the buffer is too short or the options do not fit.
 *
 * @example
 * ```ts
 * import { emitTcp, Ipv4Address, parseTcp, tcpBufferLen, TcpFlags, TcpPacket } from "@smol/net/wire";
 * const src = Ipv4Address.parse("192.0.2.1"), dst = Ipv4Address.parse("192.0.2.2");
 * const repr = {
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * };
 * const packet = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
 * emitTcp(repr, packet, src, dst);
 * console.log(parseTcp(packet, src, dst).windowScale); // 7
 * ```
 */
export function emitTcp(
  repr: TcpRepr,
  packet: TcpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: EmitOptions,
): void {
  const headerLen = tcpHeaderLen(repr);
  const total = headerLen + repr.payload.length;
  const b = packet.buffer;
  if (b.length < total) {
    throw new RangeError(`TCP buffer of ${b.length} bytes is too short, need ${total}`);
  }
  writeU16(b, FIELD.SRC_PORT, repr.srcPort);
  writeU16(b, FIELD.DST_PORT, repr.dstPort);
  writeU32(b, FIELD.SEQ, repr.seq);
  writeU32(b, FIELD.ACK, repr.ack);
  b[FIELD.DATA_OFFSET] = (headerLen >>> 2) << 4; // reserved bits zero
  b[FIELD.FLAGS] = repr.flags & 0xff;
  writeU16(b, FIELD.WINDOW, repr.window);
  b[FIELD.CHECKSUM] = 0;
  b[FIELD.CHECKSUM + 1] = 0;
  writeU16(b, FIELD.URGENT, repr.urgent);

  let i: number = FIELD.OPTIONS;
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
  // RFC 9293 §3.1: the padding after the options is zeros (an end-of-list option).
  for (; i < headerLen; i++) b[i] = TcpOption.EOL;

  b.set(repr.payload, headerLen);

  if (opts?.fillChecksum !== false) {
    // The header is summed here (its length is a multiple of 4, so the payload sum can follow
    // it) and the payload from the caller's array: no subarray of the packet is needed.
    let sum = pseudoHeaderSum(src, dst, PROTOCOL_TCP, total);
    for (let k = 0; k < headerLen; k += 2) sum += (b[k]! << 8) | b[k + 1]!;
    writeU16(b, FIELD.CHECKSUM, checksumFinish(checksumSum(repr.payload, sum)));
  }
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
