/**
 * ARP for IPv4 over Ethernet (RFC 826). Other hardware or protocol types are rejected.
 *
 * @module
 */

import { EthernetAddress, Ipv4Address } from "./address.ts";
import type { EmitOptions, ParseOptions } from "./checksum.ts";
import { requireLength, WireError } from "./error.ts";

const FIELD = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  // The address fields below assume Ethernet (6 bytes) and IPv4 (4 bytes).
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
} as const;

/** The fixed part before the addresses. */
const FIXED_LEN = 8;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;

/**
 * The length of an Ethernet/IPv4 ARP packet.
 *
 * @example
 * ```ts
 * import { ARP_PACKET_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ARP_PACKET_LEN, 28);
 * ```
 */
export const ARP_PACKET_LEN = 28;

/**
 * ARP operation codes smolnet knows by name. Other values are kept as plain numbers.
 *
 * @example
 * ```ts
 * import { ArpOperation } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ArpOperation.Request, 1);
 * assert.equal(ArpOperation.Reply, 2);
 * ```
 */
export const ArpOperation = {
  /** Who has the target protocol address? */
  Request: 1,
  /** The sender protocol address is at the sender hardware address. */
  Reply: 2,
} as const;

/**
 * One of the named {@linkcode ArpOperation} values.
 *
 * @example
 * ```ts
 * import { ArpOperation } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const op: ArpOperation = ArpOperation.Reply;
 * assert.equal(op, 2);
 * ```
 */
export type ArpOperation = typeof ArpOperation[keyof typeof ArpOperation];

/**
 * A zero-copy view of an ARP packet. The address accessors assume Ethernet/IPv4 sizes; check
 * {@linkcode ArpPacket.hardwareLen} and {@linkcode ArpPacket.protocolLen} (or use
 * {@linkcode parseArp}) before trusting them.
 *
 * @example
 * ```ts
 * import { ArpPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const packet = new ArpPacket(new Uint8Array(28));
 * packet.operation = 1;
 * assert.equal(packet.operation, 1);
 * assert.equal(packet.buffer[7], 1);
 * ```
 */
export class ArpPacket {
  /** The bytes of the packet. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it.
   *
   * @param buffer The packet bytes.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks that the addresses its length fields announce fit.
   *
   * @param buffer The packet bytes.
   * @returns The view.
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { ArpPacket, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => ArpPacket.newChecked(new Uint8Array(7)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): ArpPacket {
    const packet = new ArpPacket(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Checks that the buffer holds the fixed part and the four addresses sized by the hardware
   * and protocol length fields (any sizes, not only Ethernet/IPv4).
   *
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { ArpPacket, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(28);
   * b[4] = 6; b[5] = 4; // 6-byte hardware and 4-byte protocol addresses
   * new ArpPacket(b).checkLen(); // fits exactly
   * assert.throws(() => new ArpPacket(b.subarray(0, 27)).checkLen(), WireError);
   * ```
   */
  checkLen(): void {
    requireLength("arp", this.buffer, FIXED_LEN);
    requireLength("arp", this.buffer, FIXED_LEN + 2 * (this.hardwareLen + this.protocolLen));
  }

  /** The hardware type (1 for Ethernet). */
  get hardwareType(): number {
    return readU16(this.buffer, FIELD.HTYPE);
  }
  set hardwareType(value: number) {
    writeU16(this.buffer, FIELD.HTYPE, value);
  }

  /** The protocol type, an EtherType (0x0800 for IPv4). */
  get protocolType(): number {
    return readU16(this.buffer, FIELD.PTYPE);
  }
  set protocolType(value: number) {
    writeU16(this.buffer, FIELD.PTYPE, value);
  }

  /** The hardware address length in bytes (6 for Ethernet). */
  get hardwareLen(): number {
    return this.buffer[FIELD.HLEN]!;
  }
  set hardwareLen(value: number) {
    this.buffer[FIELD.HLEN] = value;
  }

  /** The protocol address length in bytes (4 for IPv4). */
  get protocolLen(): number {
    return this.buffer[FIELD.PLEN]!;
  }
  set protocolLen(value: number) {
    this.buffer[FIELD.PLEN] = value;
  }

  /** The operation code (see {@linkcode ArpOperation}). */
  get operation(): number {
    return readU16(this.buffer, FIELD.OPER);
  }
  set operation(value: number) {
    writeU16(this.buffer, FIELD.OPER, value);
  }

  /** The sender hardware address. */
  get senderHardwareAddr(): EthernetAddress {
    return EthernetAddress.fromBytes(this.buffer, FIELD.SHA);
  }
  set senderHardwareAddr(addr: EthernetAddress) {
    addr.writeTo(this.buffer, FIELD.SHA);
  }

  /** The sender protocol address. */
  get senderProtocolAddr(): Ipv4Address {
    return Ipv4Address.fromBytes(this.buffer, FIELD.SPA);
  }
  set senderProtocolAddr(addr: Ipv4Address) {
    addr.writeTo(this.buffer, FIELD.SPA);
  }

  /** The target hardware address. */
  get targetHardwareAddr(): EthernetAddress {
    return EthernetAddress.fromBytes(this.buffer, FIELD.THA);
  }
  set targetHardwareAddr(addr: EthernetAddress) {
    addr.writeTo(this.buffer, FIELD.THA);
  }

  /** The target protocol address. */
  get targetProtocolAddr(): Ipv4Address {
    return Ipv4Address.fromBytes(this.buffer, FIELD.TPA);
  }
  set targetProtocolAddr(addr: Ipv4Address) {
    addr.writeTo(this.buffer, FIELD.TPA);
  }
}

/**
 * An Ethernet/IPv4 ARP packet as plain data.
 *
 * @example
 * ```ts
 * import { ArpOperation, type ArpRepr, EthernetAddress, Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const request: ArpRepr = {
 *   operation: ArpOperation.Request,
 *   senderHardwareAddr: EthernetAddress.parse("02:00:00:00:00:01"),
 *   senderProtocolAddr: Ipv4Address.parse("192.0.2.1"),
 *   targetHardwareAddr: EthernetAddress.ZERO,
 *   targetProtocolAddr: Ipv4Address.parse("192.0.2.2"),
 * };
 * assert.equal(request.operation, 1);
 * ```
 */
export interface ArpRepr {
  /** The operation code (see {@linkcode ArpOperation}); unknown codes are kept, 0–65535. */
  readonly operation: number;
  /** The sender hardware address. */
  readonly senderHardwareAddr: EthernetAddress;
  /** The sender protocol address. */
  readonly senderProtocolAddr: Ipv4Address;
  /** The target hardware address (zero in a request). */
  readonly targetHardwareAddr: EthernetAddress;
  /** The target protocol address. */
  readonly targetProtocolAddr: Ipv4Address;
}

/**
 * Checks an ARP packet and reads it. Only hardware type 1 (Ethernet) with 6-byte addresses and
 * protocol type 0x0800 (IPv4) with 4-byte addresses is accepted. Bytes after the 28-byte packet
 * (Ethernet padding) are ignored.
 *
 * @param packet The packet view.
 * @param _opts Accepted for uniformity with the other parsers; ARP has no checksum.
 * @returns The packet as plain data.
 * @throws {WireError} When the packet is truncated or not Ethernet/IPv4.
 *
 * @example
 * ```ts
 * import { ArpPacket, parseArp } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([
 *   0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
 * ]);
 * const repr = parseArp(new ArpPacket(bytes));
 * assert.equal(repr.operation, 1);
 * assert.equal(repr.targetProtocolAddr.toString(), "192.0.2.2");
 * ```
 */
export function parseArp(packet: ArpPacket, _opts?: ParseOptions): ArpRepr {
  packet.checkLen();
  if (packet.hardwareType !== HTYPE_ETHERNET) {
    throw new WireError("arp.hardwareType", packet.hardwareType, "only Ethernet (1) is supported");
  }
  if (packet.protocolType !== PTYPE_IPV4) {
    throw new WireError("arp.protocolType", packet.protocolType, "only IPv4 (0x0800) is supported");
  }
  if (packet.hardwareLen !== 6) {
    throw new WireError("arp.hardwareLen", packet.hardwareLen, "an Ethernet address has 6 bytes");
  }
  if (packet.protocolLen !== 4) {
    throw new WireError("arp.protocolLen", packet.protocolLen, "an IPv4 address has 4 bytes");
  }
  return {
    operation: packet.operation,
    senderHardwareAddr: packet.senderHardwareAddr,
    senderProtocolAddr: packet.senderProtocolAddr,
    targetHardwareAddr: packet.targetHardwareAddr,
    targetProtocolAddr: packet.targetProtocolAddr,
  };
}

/**
 * Writes the 28-byte Ethernet/IPv4 ARP packet described by `repr`.
 *
 * @param repr The packet.
 * @param packet A view over a buffer of at least {@linkcode ARP_PACKET_LEN} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When the operation is not a 16-bit value or the buffer is too short.
 *
 * @example
 * ```ts
 * import {
 *   ARP_PACKET_LEN, ArpOperation, ArpPacket, emitArp, EthernetAddress, Ipv4Address,
 * } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const packet = new ArpPacket(new Uint8Array(ARP_PACKET_LEN));
 * emitArp({
 *   operation: ArpOperation.Reply,
 *   senderHardwareAddr: EthernetAddress.parse("02:00:00:00:00:02"),
 *   senderProtocolAddr: Ipv4Address.parse("192.0.2.2"),
 *   targetHardwareAddr: EthernetAddress.parse("02:00:00:00:00:01"),
 *   targetProtocolAddr: Ipv4Address.parse("192.0.2.1"),
 * }, packet);
 * assert.equal(packet.operation, 2);
 * assert.equal(packet.senderProtocolAddr.toString(), "192.0.2.2");
 * ```
 */
export function emitArp(repr: ArpRepr, packet: ArpPacket, _opts?: EmitOptions): void {
  const op = repr.operation;
  if (!Number.isInteger(op) || op < 0 || op > 0xffff) {
    throw new RangeError(`Invalid ARP operation ${op}: must be 0 to 65535`);
  }
  const b = packet.buffer;
  if (b.length < ARP_PACKET_LEN) {
    throw new RangeError(
      `Buffer of ${b.length} bytes is too short for a ${ARP_PACKET_LEN}-byte ARP packet`,
    );
  }
  writeU16(b, FIELD.HTYPE, HTYPE_ETHERNET);
  writeU16(b, FIELD.PTYPE, PTYPE_IPV4);
  b[FIELD.HLEN] = 6;
  b[FIELD.PLEN] = 4;
  writeU16(b, FIELD.OPER, op);
  repr.senderHardwareAddr.writeTo(b, FIELD.SHA);
  repr.senderProtocolAddr.writeTo(b, FIELD.SPA);
  repr.targetHardwareAddr.writeTo(b, FIELD.THA);
  repr.targetProtocolAddr.writeTo(b, FIELD.TPA);
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}
