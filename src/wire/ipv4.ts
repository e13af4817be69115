/**
 * IPv4 headers (RFC 791). Options are kept in the view but not interpreted: parsing skips them,
 * emitting never writes them.
 *
 * @module
 */

import { Ipv4Address } from "./address.ts";
import { checksumFinish, type EmitOptions, type ParseOptions } from "./checksum.ts";
import { sumHeader } from "./_checksum_fast.ts";
import { requireLength, WireError } from "./error.ts";
import { writeIpv4Header } from "./_ipv4_fast.ts";

const FIELD = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  LENGTH: 2,
  IDENT: 4,
  FLG_OFF: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
} as const;

/** Flags in the high bits of the 16-bit flags/fragment-offset word (RFC 791 §3.1). */
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;
/** The largest IPv4 packet: the total length field is 16 bits. */
const MAX_TOTAL_LEN = 0xffff;

/**
 * The length of an IPv4 header without options.
 *
 * @example
 * ```ts
 * import { IPV4_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IPV4_HEADER_LEN, 20);
 * ```
 */
export const IPV4_HEADER_LEN = 20;

/**
 * A zero-copy view of an IPv4 packet.
 *
 * @example
 * ```ts
 * import { Ipv4Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const packet = Ipv4Packet.newChecked(new Uint8Array([
 *   0x45, 0, 0, 0x1c, 0, 0, 0x40, 0, 0x40, 0x01, 0xb6, 0xdd, 192, 0, 2, 1, 192, 0, 2, 2,
 *   8, 0, 0xf7, 0xff, 0, 0, 0, 0,
 * ]));
 * assert.equal(packet.protocol, 1);
 * assert.equal(packet.dst.toString(), "192.0.2.2");
 * assert.equal(packet.verifyChecksum(), true);
 * ```
 */
export class Ipv4Packet {
  /** The bytes of the packet, header first; may extend past the total length (link padding). */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it; call {@linkcode Ipv4Packet.checkLen} before reading
   * untrusted input, or use {@linkcode Ipv4Packet.newChecked}.
   *
   * @param buffer The packet bytes.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks the version and length fields against it.
   *
   * @param buffer The packet bytes.
   * @returns The view.
   * @throws {WireError} When the header is truncated or its length fields are inconsistent.
   *
   * @example
   * ```ts
   * import { Ipv4Packet, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => Ipv4Packet.newChecked(new Uint8Array(19)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): Ipv4Packet {
    const packet = new Ipv4Packet(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Checks, in order: at least 20 bytes, version 4, IHL of at least 5 words, the header fits the
   * buffer, the total length covers the header, the total length fits the buffer.
   *
   * @throws {WireError} On the first check that fails.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(20);
   * b[0] = 0x44; // IHL 4
   * assert.throws(() => new Ipv4Packet(b).checkLen(), { name: "WireError", field: "ipv4.ihl" });
   * ```
   */
  checkLen(): void {
    const len = this.buffer.length;
    requireLength("ipv4", this.buffer, IPV4_HEADER_LEN);
    if (this.version !== 4) {
      throw new WireError("ipv4.version", this.version, "not an IPv4 packet");
    }
    if (this.ihl < 5) {
      throw new WireError("ipv4.ihl", this.ihl, "header length below the minimum of 5 words");
    }
    const headerLen = this.headerLen;
    if (headerLen > len) {
      throw new WireError(
        "ipv4.ihl",
        this.ihl,
        `header of ${headerLen} bytes exceeds the ${len}-byte buffer`,
      );
    }
    const totalLen = this.totalLen;
    if (totalLen < headerLen) {
      throw new WireError("ipv4.totalLen", totalLen, `shorter than the ${headerLen}-byte header`);
    }
    if (totalLen > len) {
      throw new WireError("ipv4.totalLen", totalLen, `exceeds the ${len}-byte buffer`);
    }
  }

  /** The version nibble (4 for a valid packet). */
  get version(): number {
    return this.buffer[FIELD.VER_IHL]! >>> 4;
  }
  set version(value: number) {
    const b = this.buffer;
    b[FIELD.VER_IHL] = ((value & 0x0f) << 4) | (b[FIELD.VER_IHL]! & 0x0f);
  }

  /** The Internet Header Length in 32-bit words (5 without options). */
  get ihl(): number {
    return this.buffer[FIELD.VER_IHL]! & 0x0f;
  }
  set ihl(value: number) {
    const b = this.buffer;
    b[FIELD.VER_IHL] = (b[FIELD.VER_IHL]! & 0xf0) | (value & 0x0f);
  }

  /** The header length in bytes (IHL × 4); setting it writes IHL = value / 4. */
  get headerLen(): number {
    return this.ihl * 4;
  }
  set headerLen(value: number) {
    this.ihl = value >>> 2;
  }

  /** The Differentiated Services Code Point, 6 bits (RFC 2474). */
  get dscp(): number {
    return this.buffer[FIELD.DSCP_ECN]! >>> 2;
  }
  set dscp(value: number) {
    const b = this.buffer;
    b[FIELD.DSCP_ECN] = ((value & 0x3f) << 2) | (b[FIELD.DSCP_ECN]! & 0x03);
  }

  /** The Explicit Congestion Notification field, 2 bits (RFC 3168). */
  get ecn(): number {
    return this.buffer[FIELD.DSCP_ECN]! & 0x03;
  }
  set ecn(value: number) {
    const b = this.buffer;
    b[FIELD.DSCP_ECN] = (b[FIELD.DSCP_ECN]! & 0xfc) | (value & 0x03);
  }

  /** The total length of header and payload in bytes. */
  get totalLen(): number {
    return readU16(this.buffer, FIELD.LENGTH);
  }
  set totalLen(value: number) {
    writeU16(this.buffer, FIELD.LENGTH, value);
  }

  /** The identification field. */
  get ident(): number {
    return readU16(this.buffer, FIELD.IDENT);
  }
  set ident(value: number) {
    writeU16(this.buffer, FIELD.IDENT, value);
  }

  /** The Don't Fragment flag. */
  get dontFrag(): boolean {
    return (readU16(this.buffer, FIELD.FLG_OFF) & FLAG_DF) !== 0;
  }
  set dontFrag(value: boolean) {
    const w = readU16(this.buffer, FIELD.FLG_OFF);
    writeU16(this.buffer, FIELD.FLG_OFF, value ? w | FLAG_DF : w & ~FLAG_DF);
  }

  /** The More Fragments flag. */
  get moreFrags(): boolean {
    return (readU16(this.buffer, FIELD.FLG_OFF) & FLAG_MF) !== 0;
  }
  set moreFrags(value: boolean) {
    const w = readU16(this.buffer, FIELD.FLG_OFF);
    writeU16(this.buffer, FIELD.FLG_OFF, value ? w | FLAG_MF : w & ~FLAG_MF);
  }

  /** The fragment offset in bytes (the field counts 8-byte units; setting divides by 8). */
  get fragOffset(): number {
    return (readU16(this.buffer, FIELD.FLG_OFF) & OFFSET_MASK) * 8;
  }
  set fragOffset(value: number) {
    const w = readU16(this.buffer, FIELD.FLG_OFF);
    writeU16(this.buffer, FIELD.FLG_OFF, (w & ~OFFSET_MASK) | ((value >>> 3) & OFFSET_MASK));
  }

  /** The time to live. */
  get ttl(): number {
    return this.buffer[FIELD.TTL]!;
  }
  set ttl(value: number) {
    this.buffer[FIELD.TTL] = value;
  }

  /** The payload's protocol number (see {@linkcode IpProtocol}). */
  get protocol(): number {
    return this.buffer[FIELD.PROTOCOL]!;
  }
  set protocol(value: number) {
    this.buffer[FIELD.PROTOCOL] = value;
  }

  /** The header checksum field. */
  get checksum(): number {
    return readU16(this.buffer, FIELD.CHECKSUM);
  }
  set checksum(value: number) {
    writeU16(this.buffer, FIELD.CHECKSUM, value);
  }

  /** The source address. */
  get src(): Ipv4Address {
    return Ipv4Address.fromBytes(this.buffer, FIELD.SRC);
  }
  set src(addr: Ipv4Address) {
    addr.writeTo(this.buffer, FIELD.SRC);
  }

  /** The destination address. */
  get dst(): Ipv4Address {
    return Ipv4Address.fromBytes(this.buffer, FIELD.DST);
  }
  set dst(addr: Ipv4Address) {
    addr.writeTo(this.buffer, FIELD.DST);
  }

  /** The option bytes between the fixed header and {@linkcode Ipv4Packet.headerLen}; a subarray. */
  get options(): Uint8Array {
    return this.buffer.subarray(IPV4_HEADER_LEN, this.headerLen);
  }

  /**
   * The bytes from the end of the header to the total length; link-layer padding after it is
   * excluded. A subarray, not a copy.
   */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen, this.totalLen);
  }

  /**
   * Whether the header checksum is correct.
   *
   * @returns `true` when the header (with options) sums to 0xffff.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const packet = new Ipv4Packet(new Uint8Array([
   *   0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
   * ]));
   * assert.equal(packet.verifyChecksum(), false);
   * packet.fillChecksum();
   * assert.equal(packet.verifyChecksum(), true);
   * ```
   */
  verifyChecksum(): boolean {
    return checksumFinish(sumHeader(this.buffer, 0, this.headerLen, 0)) === 0;
  }

  /**
   * Computes the header checksum (over the header and its options) and writes it.
   *
   * @example
   * ```ts
   * import { Ipv4Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const packet = new Ipv4Packet(new Uint8Array([
   *   0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
   * ]));
   * packet.fillChecksum();
   * assert.notEqual(packet.checksum, 0);
   * ```
   */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksumFinish(sumHeader(this.buffer, 0, this.headerLen, 0));
  }
}

/**
 * An IPv4 header as plain data. Options are not represented. The payload is not part of the
 * representation: it follows the header in the packet's buffer.
 *
 * @example
 * ```ts
 * import { IpProtocol, Ipv4Address, type Ipv4Repr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr: Ipv4Repr = {
 *   src: Ipv4Address.parse("192.0.2.1"),
 *   dst: Ipv4Address.parse("192.0.2.2"),
 *   protocol: IpProtocol.Udp,
 *   payloadLen: 8,
 *   ttl: 64,
 *   dscp: 0,
 *   ecn: 0,
 *   ident: 0,
 *   dontFrag: true,
 *   moreFrags: false,
 *   fragOffset: 0,
 * };
 * assert.equal(repr.payloadLen, 8);
 * ```
 */
export interface Ipv4Repr {
  /** Source address. */
  readonly src: Ipv4Address;
  /** Destination address. */
  readonly dst: Ipv4Address;
  /** The payload's protocol number (see {@linkcode IpProtocol}), 0–255. */
  readonly protocol: number;
  /** Payload length in bytes: total length minus header length. */
  readonly payloadLen: number;
  /** Time to live, 0–255. */
  readonly ttl: number;
  /** Differentiated Services Code Point, 0–63. */
  readonly dscp: number;
  /** Explicit Congestion Notification, 0–3. */
  readonly ecn: number;
  /** Identification, 0–65535. */
  readonly ident: number;
  /** Don't Fragment. */
  readonly dontFrag: boolean;
  /** More Fragments. */
  readonly moreFrags: boolean;
  /** Fragment offset in bytes, a multiple of 8. */
  readonly fragOffset: number;
}

/**
 * Checks an IPv4 packet and reads its header. Options are skipped; the reserved flag bit is
 * ignored. A fragment whose data would end past the largest possible datagram is rejected
 * (RFC 791 §3.2: a datagram has at most 65535 bytes, with at least a 20-byte header).
 *
 * @param packet The packet view.
 * @param opts `verifyChecksum: false` skips the header checksum check.
 * @returns The header as plain data.
 * @throws {WireError} When the packet is truncated, inconsistent or fails its checksum.
 *
 * @example
 * ```ts
 * import { Ipv4Packet, parseIpv4 } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([
 *   0x45, 0, 0, 0x1c, 0, 0, 0x40, 0, 0x40, 0x01, 0xb6, 0xdd, 192, 0, 2, 1, 192, 0, 2, 2,
 *   8, 0, 0xf7, 0xff, 0, 0, 0, 0, 0, 0, // two bytes of link padding
 * ]);
 * const repr = parseIpv4(new Ipv4Packet(bytes));
 * assert.equal(repr.payloadLen, 8);
 * assert.equal(repr.dontFrag, true);
 * assert.equal(repr.src.toString(), "192.0.2.1");
 * ```
 */
export function parseIpv4(packet: Ipv4Packet, opts?: ParseOptions): Ipv4Repr {
  packet.checkLen();
  if (opts?.verifyChecksum !== false && !packet.verifyChecksum()) {
    throw new WireError("ipv4.checksum", packet.checksum, "header checksum mismatch");
  }
  const payloadLen = packet.totalLen - packet.headerLen;
  const fragOffset = packet.fragOffset;
  if (fragOffset + payloadLen > MAX_TOTAL_LEN - IPV4_HEADER_LEN) {
    throw new WireError("ipv4.fragOffset", fragOffset, "fragment ends past the largest datagram");
  }
  return {
    src: packet.src,
    dst: packet.dst,
    protocol: packet.protocol,
    payloadLen,
    ttl: packet.ttl,
    dscp: packet.dscp,
    ecn: packet.ecn,
    ident: packet.ident,
    dontFrag: packet.dontFrag,
    moreFrags: packet.moreFrags,
    fragOffset,
  };
}

/**
 * The buffer length `repr` needs: the 20-byte header plus the payload.
 *
 * @param repr The header.
 * @returns The packet length in bytes.
 *
 * @example
 * ```ts
 * import { Ipv4Address, ipv4BufferLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = Ipv4Address.UNSPECIFIED;
 * assert.equal(ipv4BufferLen({
 *   src: a, dst: a, protocol: 17, payloadLen: 100, ttl: 64, dscp: 0, ecn: 0, ident: 0,
 *   dontFrag: false, moreFrags: false, fragOffset: 0,
 * }), 120);
 * ```
 */
export function ipv4BufferLen(repr: Ipv4Repr): number {
  return IPV4_HEADER_LEN + repr.payloadLen;
}

/**
 * Writes the 20-byte header described by `repr` (no options) and, unless
 * `opts.fillChecksum === false`, its checksum (otherwise the field is zero). The caller fills
 * `packet.payload`, before or after; the header checksum does not cover it.
 *
 * @param repr The header.
 * @param packet A view over a buffer of at least {@linkcode ipv4BufferLen} bytes.
 * @param opts `fillChecksum: false` leaves the checksum to offload.
 * @throws {RangeError} When a field is out of range or the buffer is too short.
 *
 * @example
 * ```ts
 * import { emitIpv4, IpProtocol, Ipv4Address, ipv4BufferLen, Ipv4Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = {
 *   src: Ipv4Address.parse("192.0.2.1"), dst: Ipv4Address.parse("192.0.2.2"),
 *   protocol: IpProtocol.Icmp, payloadLen: 8, ttl: 64, dscp: 0, ecn: 0, ident: 0,
 *   dontFrag: true, moreFrags: false, fragOffset: 0,
 * };
 * const packet = new Ipv4Packet(new Uint8Array(ipv4BufferLen(repr)));
 * emitIpv4(repr, packet);
 * assert.equal(packet.checksum.toString(16), "b6dd");
 * assert.equal(packet.payload.length, 8);
 * ```
 */
export function emitIpv4(repr: Ipv4Repr, packet: Ipv4Packet, opts?: EmitOptions): void {
  writeIpv4Header(repr, packet.buffer, 0, opts?.fillChecksum !== false);
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}
