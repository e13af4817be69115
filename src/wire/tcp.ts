/**
 * TCP segments (RFC 9293 §3.1): a zero-copy {@linkcode TcpPacket} view and a plain-data
 * {@linkcode TcpRepr} with {@linkcode parseTcp} / {@linkcode emitTcp}.
 *
 * The options (end of list, no-operation, MSS, window scale, timestamps, SACK-permitted, SACK,
 * TCP Fast Open; unknown kinds skipped by their length) are parsed and emitted in `tcp_option.ts`, whose public
 * names this module re-exports.
 *
 * @module
 */

import { readU32, writeU16, writeU32 } from "./_bytes.ts";
import type { IpAddress } from "./address.ts";
import {
  checksumFinish,
  checksumSum,
  type EmitOptions,
  type ParseOptions,
  pseudoHeaderSum,
} from "./checksum.ts";
import { TCP_FIELD, writeTcpSegment } from "./_tcp_emit.ts";
import { checkTcpLen, readTcpSegment } from "./_tcp_parse.ts";
import { type SackBlock, tcpOptionsLen, type TcpTimestamp } from "./tcp_option.ts";

export { TcpOption, tcpOptionsLen } from "./tcp_option.ts";
export type { SackBlock, TcpTimestamp } from "./tcp_option.ts";

/** Byte offsets of the fixed header fields (RFC 9293 §3.1). */
const FIELD = TCP_FIELD;

/** IP protocol number of TCP, for the pseudo-header. */
const PROTOCOL_TCP = 6;

/**
 * Length of the fixed TCP header in bytes (a header without options).
 *
 * @example
 * ```ts
 * import { TCP_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(TCP_HEADER_LEN, 20);
 * ```
 */
export const TCP_HEADER_LEN = 20;

/**
 * The control bits of the flags byte (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR).
 *
 * @example
 * ```ts
 * import { TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const synAck = TcpFlags.SYN | TcpFlags.ACK;
 * assert.equal(synAck, 18);
 * assert.notEqual((synAck & TcpFlags.ACK), 0);
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
 * import { TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const f: TcpFlags = 0x02;
 * assert.equal(f, TcpFlags.SYN);
 * ```
 */
export type TcpFlags = typeof TcpFlags[keyof typeof TcpFlags];

/**
 * A TCP segment as plain data: header fields, understood options, and the payload.
 *
 * On parse, `payload` is a subarray of the packet; on emit it is copied into the packet after the
 * header. `ack` is written as given even without the ACK flag.
 *
 * @example
 * ```ts
 * import { TcpFlags, tcpHeaderLen, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const syn: TcpRepr = {
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * };
 * assert.equal(tcpHeaderLen(syn), 44); // 20 bytes plus 24 of options
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
  /**
   * TCP Fast Open option (RFC 7413 §4.1.1): absent (`undefined` or `null`), a cookie request
   * (empty), or a cookie of 4–16 bytes (even length). On parse it is a subarray of the packet and
   * present only on segments that carry it; a malformed one is treated as absent. The
   * experimental form (kind 254, magic 0xF989) is parsed too, never emitted.
   */
  readonly fastOpen?: Uint8Array | null;
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
 * import assert from "node:assert/strict";
 *
 * const p = new TcpPacket(new Uint8Array(20));
 * p.srcPort = 49152;
 * p.dstPort = 80;
 * p.dataOffset = 5;
 * p.synFlag = true;
 * assert.equal(p.srcPort, 49152);
 * assert.equal(p.dstPort, 80);
 * assert.equal(p.flags, 2);
 * assert.equal(p.headerLen, 20);
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
   * import assert from "node:assert/strict";
   * assert.throws(() => TcpPacket.newChecked(new Uint8Array(10)), WireError);
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
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(20);
   * b[12] = 0x60; // 24-byte header in a 20-byte buffer
   * assert.throws(() => new TcpPacket(b).checkLen(), {
   *   name: "WireError",
   *   message: "Invalid tcp.dataOffset 6: header of 24 bytes runs past the buffer of 20 bytes",
   * });
   * ```
   */
  checkLen(): void {
    checkTcpLen(this.buffer, 0, this.buffer.length);
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
   * import assert from "node:assert/strict";
   * const p = new TcpPacket(new Uint8Array(32));
   * p.dataOffset = 8;
   * assert.equal(p.dataOffset, 8);
   * assert.equal(p.headerLen, 32);
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
   * import assert from "node:assert/strict";
   * const p = new TcpPacket(new Uint8Array(20));
   * p.flags = TcpFlags.SYN | TcpFlags.ACK;
   * assert.equal(p.synFlag, true);
   * assert.equal(p.ackFlag, true);
   * assert.equal(p.finFlag, false);
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
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(24);
   * b[12] = 0x60;
   * b.set([2, 4, 5, 0xb4], 20);
   * assert.deepEqual([...TcpPacket.newChecked(b).options], [2, 4, 5, 180]);
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
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(22);
   * b[12] = 0x50;
   * b.set([104, 105], 20);
   * assert.equal(new TextDecoder().decode(TcpPacket.newChecked(b).payload), "hi");
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
   * import assert from "node:assert/strict";
   * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
   * const p = new TcpPacket(new Uint8Array(20));
   * p.dataOffset = 5;
   * p.fillChecksum(a, b);
   * assert.equal(p.verifyChecksum(a, b), true);
   * assert.equal(p.verifyChecksum(b, b), false);
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
   * import assert from "node:assert/strict";
   * const a = Ipv6Address.parse("2001:db8::1"), b = Ipv6Address.parse("2001:db8::2");
   * const p = new TcpPacket(new Uint8Array(20));
   * p.dataOffset = 5;
   * p.fillChecksum(a, b);
   * assert.equal(p.verifyChecksum(a, b), true);
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

/**
 * Validates a segment and returns its plain-data form: checks the length fields, the checksum
 * (unless `opts.verifyChecksum` is `false`), the ports, and every option.
 *
 * @param packet The segment view (the whole IP payload).
 * @param src Source IP address (its version selects the IPv4 or IPv6 pseudo-header).
 * @param dst Destination IP address.
 * @param opts `verifyChecksum: false` skips the checksum check.
 * @returns The representation; `payload` is a subarray of `packet.buffer` (a shared empty array
 *   when the segment carries no data).
 * @throws {WireError} On truncation, a bad data offset (`tcp.dataOffset`), a bad checksum
 * (`tcp.checksum`), port 0 (`tcp.srcPort` / `tcp.dstPort`) or a malformed option
 * (`tcp.option`, the value is the option kind).
 *
 * @example
 * ```ts
 * import { Ipv4Address, parseTcp, TcpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([
 *   0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xfa, 0xf0,
 *   0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
 * ]);
 * const repr = parseTcp(new TcpPacket(bytes), Ipv4Address.parse("192.0.2.1"),
 *   Ipv4Address.parse("192.0.2.2"), { verifyChecksum: false });
 * assert.equal(repr.srcPort, 49152);
 * assert.equal(repr.dstPort, 80);
 * assert.equal(repr.seq, 1000);
 * assert.equal(repr.mss, 1460);
 * ```
 */
export function parseTcp(
  packet: TcpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: ParseOptions,
): TcpRepr {
  const b = packet.buffer;
  return readTcpSegment(b, 0, b.length, src, dst, opts?.verifyChecksum !== false);
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
 * import assert from "node:assert/strict";
 * assert.equal(tcpHeaderLen({
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * }), 44);
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
 * import assert from "node:assert/strict";
 * assert.equal(tcpBufferLen({
 *   srcPort: 80, dstPort: 49152, seq: 1, ack: 1, flags: TcpFlags.ACK | TcpFlags.PSH,
 *   window: 512, urgent: 0, mss: null, windowScale: null, sackPermitted: false,
 *   sackBlocks: [], timestamp: null, payload: new Uint8Array(100),
 * }), 120);
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
 * import assert from "node:assert/strict";
 * assert.equal(tcpSegmentLen({
 *   srcPort: 80, dstPort: 49152, seq: 1, ack: 1, flags: TcpFlags.FIN | TcpFlags.ACK,
 *   window: 512, urgent: 0, mss: null, windowScale: null, sackPermitted: false,
 *   sackBlocks: [], timestamp: null, payload: new Uint8Array(10),
 * }), 11);
 * ```
 */
export function tcpSegmentLen(repr: TcpRepr): number {
  const f = repr.flags;
  return repr.payload.length + (f & TcpFlags.SYN ? 1 : 0) + (f & TcpFlags.FIN ? 1 : 0);
}

/**
 * Writes `repr` into `packet`: the header, the options in the order MSS, NOP + window scale,
 * SACK-permitted, NOP NOP + timestamps, NOP NOP + SACK blocks, Fast Open, zero padding to a
 * multiple of 4, then the payload, then the checksum unless `opts.fillChecksum` is `false` (the
 * field is left zero). The segment covers the first {@linkcode tcpBufferLen} bytes of the buffer; size the
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
 * import assert from "node:assert/strict";
 * const src = Ipv4Address.parse("192.0.2.1"), dst = Ipv4Address.parse("192.0.2.2");
 * const repr = {
 *   srcPort: 49152, dstPort: 80, seq: 1000, ack: 0, flags: TcpFlags.SYN, window: 64240,
 *   urgent: 0, mss: 1460, windowScale: 7, sackPermitted: true, sackBlocks: [],
 *   timestamp: { tsVal: 1, tsEcr: 0 }, payload: new Uint8Array(0),
 * };
 * const packet = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
 * emitTcp(repr, packet, src, dst);
 * assert.equal(parseTcp(packet, src, dst).windowScale, 7);
 * ```
 */
export function emitTcp(
  repr: TcpRepr,
  packet: TcpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: EmitOptions,
): void {
  writeTcpSegment(repr, packet.buffer, 0, src, dst, opts?.fillChecksum !== false);
}
