/**
 * UDP (RFC 768): the {@linkcode UdpPacket} view and the {@linkcode UdpRepr} header
 * representation, with the pseudo-header checksum of RFC 768 (IPv4) and RFC 8200 §8.1 (IPv6).
 *
 * The payload is not part of the repr: {@linkcode parseUdp} leaves it in
 * {@linkcode UdpPacket.payload} and {@linkcode emitUdp} takes it as an argument.
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
import { requireLength, WireError } from "./error.ts";
import { IpProtocol } from "./ip.ts";

const FIELD = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;

/**
 * Length of the UDP header in bytes.
 *
 * @example
 * ```ts
 * import { UDP_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(UDP_HEADER_LEN, 8);
 * ```
 */
export const UDP_HEADER_LEN = 8;

/**
 * A zero-copy view of a UDP datagram (header and payload) over a byte buffer. The buffer is
 * the IP payload; bytes past the UDP length field (link padding) are ignored.
 *
 * @example
 * ```ts
 * import { UdpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x9c, 0x41, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x68, 0x69]);
 * const udp = UdpPacket.newChecked(bytes);
 * assert.equal(udp.srcPort, 40001);
 * assert.equal(udp.dstPort, 53);
 * assert.equal(udp.payload.length, 2);
 * ```
 */
export class UdpPacket {
  /** The underlying bytes, starting at the UDP header. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without any check; call {@linkcode UdpPacket.checkLen} before reading
   * untrusted bytes, or use {@linkcode UdpPacket.newChecked}.
   *
   * @param buffer The bytes, starting at the UDP header.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and validates its length fields.
   *
   * @param buffer The bytes, starting at the UDP header.
   * @returns The view.
   * @throws {WireError} When the buffer is truncated or the length field is inconsistent.
   *
   * @example
   * ```ts
   * import { UdpPacket, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => UdpPacket.newChecked(new Uint8Array(7)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): UdpPacket {
    const packet = new UdpPacket(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Validates that the header fits and that the length field lies between 8 and the buffer
   * length (RFC 768).
   *
   * @throws {WireError} When the buffer is truncated or the length field is inconsistent.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * // Length field says 9, but only 8 bytes are present.
   * const p = new UdpPacket(new Uint8Array([0, 1, 0, 2, 0, 9, 0, 0]));
   * assert.throws(() => p.checkLen(), { name: "WireError", field: "udp.length", value: 9 });
   * ```
   */
  checkLen(): void {
    requireLength("udp", this.buffer, UDP_HEADER_LEN);
    const n = this.buffer.length;
    const len = this.length;
    if (len < UDP_HEADER_LEN) {
      throw new WireError("udp.length", len, "length field below the 8-byte header");
    }
    if (len > n) {
      throw new WireError("udp.length", len, `length field exceeds the ${n} bytes received`);
    }
  }

  /**
   * Source port.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new UdpPacket(new Uint8Array(8));
   * p.srcPort = 5353;
   * assert.equal(p.srcPort, 5353);
   * ```
   */
  get srcPort(): number {
    const b = this.buffer;
    return (b[FIELD.SRC_PORT]! << 8) | b[FIELD.SRC_PORT + 1]!;
  }
  set srcPort(v: number) {
    this.buffer[FIELD.SRC_PORT] = v >>> 8;
    this.buffer[FIELD.SRC_PORT + 1] = v;
  }

  /**
   * Destination port.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new UdpPacket(new Uint8Array(8));
   * p.dstPort = 53;
   * assert.equal(p.dstPort, 53);
   * ```
   */
  get dstPort(): number {
    const b = this.buffer;
    return (b[FIELD.DST_PORT]! << 8) | b[FIELD.DST_PORT + 1]!;
  }
  set dstPort(v: number) {
    this.buffer[FIELD.DST_PORT] = v >>> 8;
    this.buffer[FIELD.DST_PORT + 1] = v;
  }

  /**
   * The length field: header plus payload, in bytes.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new UdpPacket(new Uint8Array(12));
   * p.length = 12;
   * assert.equal(p.length, 12);
   * ```
   */
  get length(): number {
    const b = this.buffer;
    return (b[FIELD.LENGTH]! << 8) | b[FIELD.LENGTH + 1]!;
  }
  set length(v: number) {
    this.buffer[FIELD.LENGTH] = v >>> 8;
    this.buffer[FIELD.LENGTH + 1] = v;
  }

  /**
   * The checksum field as found on the wire (0 over IPv4 means "not computed").
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new UdpPacket(new Uint8Array(8)).checksum, 0);
   * ```
   */
  get checksum(): number {
    const b = this.buffer;
    return (b[FIELD.CHECKSUM]! << 8) | b[FIELD.CHECKSUM + 1]!;
  }
  set checksum(v: number) {
    this.buffer[FIELD.CHECKSUM] = v >>> 8;
    this.buffer[FIELD.CHECKSUM + 1] = v;
  }

  /**
   * The payload as delimited by the length field: a subarray, never a copy. Requires a
   * successful {@linkcode UdpPacket.checkLen}.
   *
   * @example
   * ```ts
   * import { UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * // Length 9: one payload byte; the trailing 0xee is link padding.
   * const p = UdpPacket.newChecked(new Uint8Array([0, 1, 0, 2, 0, 9, 0, 0, 0x41, 0xee]));
   * assert.deepEqual([...p.payload], [65]);
   * ```
   */
  get payload(): Uint8Array {
    return this.buffer.subarray(UDP_HEADER_LEN, this.length);
  }

  /**
   * Whether the checksum is correct for the pseudo-header of `src` and `dst`. Over IPv4 a zero
   * checksum means "not computed" and is accepted (RFC 768); over IPv6 it is invalid
   * (RFC 8200 §8.1). Requires a successful {@linkcode UdpPacket.checkLen}.
   *
   * @param src The IP source address.
   * @param dst The IP destination address.
   * @returns `true` when the checksum verifies (or is absent over IPv4).
   *
   * @example
   * ```ts
   * import { Ipv6Address, UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new UdpPacket(new Uint8Array([0, 1, 0, 2, 0, 8, 0, 0]));
   * const a = Ipv6Address.parse("2001:db8::1");
   * assert.equal(p.verifyChecksum(a, a), false);
   * p.fillChecksum(a, a);
   * assert.equal(p.verifyChecksum(a, a), true);
   * ```
   */
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    const stored = this.checksum;
    if (stored === 0) return src.version === 4;
    const len = this.length;
    const b = len === this.buffer.length ? this.buffer : this.buffer.subarray(0, len);
    return checksumFinish(checksumSum(b, pseudoHeaderSum(src, dst, IpProtocol.Udp, len))) === 0;
  }

  /**
   * Computes and writes the checksum over the pseudo-header, header and payload (as delimited
   * by the length field). A computed value of 0 is sent as 0xffff (RFC 768).
   *
   * @param src The IP source address.
   * @param dst The IP destination address.
   *
   * @example
   * ```ts
   * import { Ipv4Address, UdpPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new UdpPacket(new Uint8Array([0x04, 0xd2, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]));
   * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
   * p.fillChecksum(a, b);
   * assert.notEqual(p.checksum, 0);
   * assert.equal(p.verifyChecksum(a, b), true);
   * ```
   */
  fillChecksum(src: IpAddress, dst: IpAddress): void {
    const len = this.length;
    this.checksum = 0;
    const b = len === this.buffer.length ? this.buffer : this.buffer.subarray(0, len);
    const sum = checksumFinish(checksumSum(b, pseudoHeaderSum(src, dst, IpProtocol.Udp, len)));
    this.checksum = sum === 0 ? 0xffff : sum;
  }
}

/**
 * The UDP header as plain data; the payload travels separately.
 *
 * @example
 * ```ts
 * import type { UdpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const dns: UdpRepr = { srcPort: 40001, dstPort: 53 };
 * assert.equal(dns.dstPort, 53);
 * ```
 */
export interface UdpRepr {
  /** Source port, 0–65535 (0: no reply expected). */
  readonly srcPort: number;
  /** Destination port, 0–65535. */
  readonly dstPort: number;
}

/**
 * Validates a datagram and returns its header. The payload is `packet.payload`, delimited by
 * the length field.
 *
 * @param packet The datagram view (the IP payload).
 * @param src The IP source address, for the pseudo-header.
 * @param dst The IP destination address, for the pseudo-header.
 * @param opts `verifyChecksum: false` skips the checksum (for devices that verify it).
 * @returns The header fields.
 * @throws {WireError} On truncation, a length field below 8 or past the buffer, a wrong
 * checksum, or a zero checksum over IPv6 (RFC 8200 §8.1).
 *
 * @example
 * ```ts
 * import { Ipv4Address, parseUdp, UdpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * // Zero checksum over IPv4: "not computed", accepted (RFC 768).
 * const p = new UdpPacket(new Uint8Array([0x9c, 0x42, 0, 9, 0, 10, 0, 0, 0x68, 0x69]));
 * const a = Ipv4Address.parse("198.51.100.1"), b = Ipv4Address.parse("198.51.100.2");
 * assert.deepEqual(parseUdp(p, a, b), { srcPort: 40002, dstPort: 9 });
 * ```
 */
export function parseUdp(
  packet: UdpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: ParseOptions,
): UdpRepr {
  packet.checkLen();
  if (opts?.verifyChecksum !== false && !packet.verifyChecksum(src, dst)) {
    const c = packet.checksum;
    const reason = c === 0 ? "zero checksum is not allowed over IPv6" : "checksum mismatch";
    throw new WireError("udp.checksum", c, reason);
  }
  return { srcPort: packet.srcPort, dstPort: packet.dstPort };
}

/**
 * Writes header and payload into `packet`, sized with {@linkcode udpBufferLen}, and fills the
 * checksum unless `fillChecksum: false` (then the field is left 0 for offload). Ports are
 * taken modulo 2^16.
 *
 * @param repr The header fields.
 * @param payload The payload bytes, copied in after the header.
 * @param packet The view to write into; its buffer must hold at least `8 + payload.length` bytes.
 * @param src The IP source address, for the pseudo-header.
 * @param dst The IP destination address, for the pseudo-header.
 * @param opts `fillChecksum: false` leaves the checksum 0.
 * @throws {RangeError} When the buffer is too short or the datagram exceeds 65535 bytes.
 *
 * @example
 * ```ts
 * import { emitUdp, Ipv6Address, parseUdp, udpBufferLen, UdpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = { srcPort: 40003, dstPort: 9 };
 * const payload = new TextEncoder().encode("hello");
 * const packet = new UdpPacket(new Uint8Array(udpBufferLen(repr, payload.length)));
 * const a = Ipv6Address.parse("2001:db8:b::1"), b = Ipv6Address.parse("2001:db8:b::2");
 * emitUdp(repr, payload, packet, a, b);
 * assert.equal(parseUdp(packet, a, b).srcPort, 40003);
 * assert.equal(packet.payload.length, 5);
 * ```
 */
export function emitUdp(
  repr: UdpRepr,
  payload: Uint8Array,
  packet: UdpPacket,
  src: IpAddress,
  dst: IpAddress,
  opts?: EmitOptions,
): void {
  const len = UDP_HEADER_LEN + payload.length;
  if (len > 0xffff) {
    throw new RangeError(`UDP datagram of ${len} bytes exceeds the 65535-byte length field`);
  }
  if (packet.buffer.length < len) {
    throw new RangeError(`Buffer of ${packet.buffer.length} bytes cannot hold ${len} bytes`);
  }
  packet.srcPort = repr.srcPort;
  packet.dstPort = repr.dstPort;
  packet.length = len;
  packet.checksum = 0;
  packet.buffer.set(payload, UDP_HEADER_LEN);
  if (opts?.fillChecksum !== false) packet.fillChecksum(src, dst);
}

/**
 * Bytes needed to emit `repr` with a payload of `payloadLen` bytes.
 *
 * @param _repr The header fields (the UDP header has a fixed size).
 * @param payloadLen The payload length in bytes.
 * @returns `8 + payloadLen`.
 *
 * @example
 * ```ts
 * import { udpBufferLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(udpBufferLen({ srcPort: 1, dstPort: 2 }, 100), 108);
 * ```
 */
export function udpBufferLen(_repr: UdpRepr, payloadLen: number): number {
  return UDP_HEADER_LEN + payloadLen;
}
