/**
 * Ethernet II frames (IEEE 802.3 with an EtherType), with one optional IEEE 802.1Q VLAN tag.
 *
 * The frame check sequence is not part of the buffer: devices deliver and accept frames without
 * it. A frame shorter than the 60-byte minimum is accepted (padding is the device's business).
 *
 * @module
 */

import { EthernetAddress } from "./address.ts";
import type { EmitOptions, ParseOptions } from "./checksum.ts";
import { requireLength } from "./error.ts";

const FIELD = {
  DST: 0,
  SRC: 6,
  ETHERTYPE: 12,
  PAYLOAD: 14,
  // With an 802.1Q tag: the tag control information, then the inner EtherType.
  VLAN_TCI: 14,
  VLAN_ETHERTYPE: 16,
  VLAN_PAYLOAD: 18,
} as const;

/**
 * The length of an untagged Ethernet II header: destination, source, EtherType.
 *
 * @example
 * ```ts
 * import { ETHERNET_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ETHERNET_HEADER_LEN, 14);
 * ```
 */
export const ETHERNET_HEADER_LEN = 14;

/**
 * The length of the IEEE 802.1Q tag (TPID and TCI) inserted before the EtherType.
 *
 * @example
 * ```ts
 * import { ETHERNET_HEADER_LEN, VLAN_TAG_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ETHERNET_HEADER_LEN + VLAN_TAG_LEN, 18);
 * ```
 */
export const VLAN_TAG_LEN = 4;

/**
 * EtherType values smolnet knows by name. Other values are kept as plain numbers.
 *
 * @example
 * ```ts
 * import { EtherType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(EtherType.Ipv6.toString(16), "86dd");
 * ```
 */
export const EtherType = {
  /** IPv4 (RFC 894). */
  Ipv4: 0x0800,
  /** ARP (RFC 826). */
  Arp: 0x0806,
  /** IEEE 802.1Q VLAN tag protocol identifier. */
  Vlan: 0x8100,
  /** IPv6 (RFC 2464). */
  Ipv6: 0x86dd,
} as const;

/**
 * One of the named {@linkcode EtherType} values. Fields that hold an EtherType are typed
 * `number`, because unknown values are kept as they are.
 *
 * @example
 * ```ts
 * import { EtherType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const t: EtherType = EtherType.Arp;
 * assert.equal(t, 2054);
 * ```
 */
export type EtherType = typeof EtherType[keyof typeof EtherType];

/**
 * A zero-copy view of an Ethernet II frame. When the outer EtherType is 0x8100 the frame carries
 * an 802.1Q tag: {@linkcode EthernetFrame.vlanId} and {@linkcode EthernetFrame.vlanPcp} read it,
 * and {@linkcode EthernetFrame.etherType} and {@linkcode EthernetFrame.payload} skip it.
 *
 * @example
 * ```ts
 * import { EthernetFrame, EtherType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const frame = EthernetFrame.newChecked(new Uint8Array([
 *   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, 0xaa,
 * ]));
 * assert.equal(frame.dst.isBroadcast, true);
 * assert.equal(frame.etherType, EtherType.Arp);
 * assert.equal(frame.payload.length, 1);
 * ```
 */
export class EthernetFrame {
  /** The bytes of the whole frame, header first. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it; call {@linkcode EthernetFrame.checkLen} before reading
   * untrusted input, or use {@linkcode EthernetFrame.newChecked}.
   *
   * @param buffer The frame bytes.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks that the header (and tag, if any) fits.
   *
   * @param buffer The frame bytes.
   * @returns The view.
   * @throws {WireError} When the buffer is shorter than the header.
   *
   * @example
   * ```ts
   * import { EthernetFrame, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => EthernetFrame.newChecked(new Uint8Array(13)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): EthernetFrame {
    const frame = new EthernetFrame(buffer);
    frame.checkLen();
    return frame;
  }

  /**
   * Checks that the buffer holds the 14-byte header, and the 4-byte tag when the outer
   * EtherType is 0x8100.
   *
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { EthernetFrame, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * new EthernetFrame(new Uint8Array(14)).checkLen(); // no error: an empty payload is fine
   * assert.throws(() => new EthernetFrame(new Uint8Array(13)).checkLen(), WireError);
   * ```
   */
  checkLen(): void {
    requireLength("ethernet", this.buffer, ETHERNET_HEADER_LEN);
    if (this.hasVlanTag) requireLength("ethernet", this.buffer, FIELD.VLAN_PAYLOAD);
  }

  /** The destination address. */
  get dst(): EthernetAddress {
    return EthernetAddress.fromBytes(this.buffer, FIELD.DST);
  }
  set dst(addr: EthernetAddress) {
    addr.writeTo(this.buffer, FIELD.DST);
  }

  /** The source address. */
  get src(): EthernetAddress {
    return EthernetAddress.fromBytes(this.buffer, FIELD.SRC);
  }
  set src(addr: EthernetAddress) {
    addr.writeTo(this.buffer, FIELD.SRC);
  }

  /** Whether the outer EtherType is 0x8100, that is, an 802.1Q tag follows the source address. */
  get hasVlanTag(): boolean {
    const b = this.buffer;
    return ((b[FIELD.ETHERTYPE]! << 8) | b[FIELD.ETHERTYPE + 1]!) === EtherType.Vlan;
  }

  /**
   * The EtherType of the payload: the inner one when the frame is tagged. Setting it on a tagged
   * frame writes the inner EtherType and keeps the tag.
   */
  get etherType(): number {
    const b = this.buffer;
    const o = this.hasVlanTag ? FIELD.VLAN_ETHERTYPE : FIELD.ETHERTYPE;
    return (b[o]! << 8) | b[o + 1]!;
  }
  set etherType(value: number) {
    const o = this.hasVlanTag ? FIELD.VLAN_ETHERTYPE : FIELD.ETHERTYPE;
    this.buffer[o] = value >>> 8;
    this.buffer[o + 1] = value & 0xff;
  }

  /**
   * The 12-bit VLAN identifier, or `null` on an untagged frame. Setting it requires a tagged
   * frame (a `RangeError` otherwise).
   */
  get vlanId(): number | null {
    if (!this.hasVlanTag) return null;
    const b = this.buffer;
    return ((b[FIELD.VLAN_TCI]! & 0x0f) << 8) | b[FIELD.VLAN_TCI + 1]!;
  }
  set vlanId(value: number) {
    this.#requireTag(value);
    const b = this.buffer;
    b[FIELD.VLAN_TCI] = (b[FIELD.VLAN_TCI]! & 0xf0) | ((value >>> 8) & 0x0f);
    b[FIELD.VLAN_TCI + 1] = value & 0xff;
  }

  /**
   * The 3-bit priority code point of the tag, or `null` on an untagged frame. Setting it requires
   * a tagged frame (a `RangeError` otherwise).
   */
  get vlanPcp(): number | null {
    if (!this.hasVlanTag) return null;
    return this.buffer[FIELD.VLAN_TCI]! >>> 5;
  }
  set vlanPcp(value: number) {
    this.#requireTag(value);
    const b = this.buffer;
    b[FIELD.VLAN_TCI] = ((value & 0x07) << 5) | (b[FIELD.VLAN_TCI]! & 0x1f);
  }

  /**
   * The drop eligible indicator bit of the tag, or `null` on an untagged frame. It is not part of
   * {@linkcode EthernetRepr}; emitting writes it as zero. Setting it requires a tagged frame (a
   * `RangeError` otherwise).
   */
  get vlanDei(): boolean | null {
    if (!this.hasVlanTag) return null;
    return (this.buffer[FIELD.VLAN_TCI]! & 0x10) !== 0;
  }
  set vlanDei(value: boolean) {
    this.#requireTag(value);
    const b = this.buffer;
    b[FIELD.VLAN_TCI] = (b[FIELD.VLAN_TCI]! & 0xef) | (value ? 0x10 : 0);
  }

  /** The header length: 14, or 18 with an 802.1Q tag. */
  get headerLen(): number {
    return this.hasVlanTag ? FIELD.VLAN_PAYLOAD : FIELD.PAYLOAD;
  }

  /** The bytes after the header (and tag), up to the end of the buffer; a subarray, not a copy. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }

  #requireTag(value: number | boolean): void {
    if (!this.hasVlanTag) {
      throw new RangeError(`Cannot set VLAN field to ${value}: the frame has no 802.1Q tag`);
    }
  }
}

/**
 * An IEEE 802.1Q tag.
 *
 * @example
 * ```ts
 * import type { VlanTag } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const tag: VlanTag = { id: 100, pcp: 5 };
 * assert.equal(tag.id, 100);
 * ```
 */
export interface VlanTag {
  /** VLAN identifier, 0–4095 (0 means "priority tag only"). */
  readonly id: number;
  /** Priority code point, 0–7. */
  readonly pcp: number;
}

/**
 * The header of an Ethernet II frame as plain data.
 *
 * @example
 * ```ts
 * import { EthernetAddress, type EthernetRepr, EtherType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr: EthernetRepr = {
 *   src: EthernetAddress.parse("02:00:00:00:00:01"),
 *   dst: EthernetAddress.BROADCAST,
 *   etherType: EtherType.Arp,
 *   vlan: null,
 * };
 * assert.equal(repr.etherType, 2054);
 * ```
 */
export interface EthernetRepr {
  /** Source address. */
  readonly src: EthernetAddress;
  /** Destination address. */
  readonly dst: EthernetAddress;
  /** The payload's EtherType (the inner one when tagged), 0–65535. */
  readonly etherType: number;
  /** The 802.1Q tag, or `null` for an untagged frame. */
  readonly vlan: VlanTag | null;
}

/**
 * Checks a frame and reads its header.
 *
 * @param frame The frame view.
 * @param _opts Accepted for uniformity with the other parsers; Ethernet has no checksum here.
 * @returns The header as plain data.
 * @throws {WireError} When the frame is truncated.
 *
 * @example
 * ```ts
 * import { EthernetFrame, parseEthernet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(18);
 * bytes.set([0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd], 12); // tag: PCP 5, VLAN 100; then IPv6
 * const repr = parseEthernet(new EthernetFrame(bytes));
 * assert.deepEqual(repr.vlan, { id: 100, pcp: 5 });
 * assert.equal(repr.etherType.toString(16), "86dd");
 * ```
 */
export function parseEthernet(frame: EthernetFrame, _opts?: ParseOptions): EthernetRepr {
  frame.checkLen();
  const vlanId = frame.vlanId;
  return {
    src: frame.src,
    dst: frame.dst,
    etherType: frame.etherType,
    vlan: vlanId === null ? null : { id: vlanId, pcp: frame.vlanPcp! },
  };
}

/**
 * The header length `repr` needs: 14, or 18 with a VLAN tag.
 *
 * @param repr The header.
 * @returns The length in bytes.
 *
 * @example
 * ```ts
 * import { EthernetAddress, ethernetHeaderLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const mac = EthernetAddress.ZERO;
 * assert.equal(ethernetHeaderLen({ src: mac, dst: mac, etherType: 0x0800, vlan: { id: 7, pcp: 0 } }), 18);
 * ```
 */
export function ethernetHeaderLen(repr: EthernetRepr): number {
  return repr.vlan === null ? FIELD.PAYLOAD : FIELD.VLAN_PAYLOAD;
}

/**
 * The frame length for `repr` and a payload of `payloadLen` bytes.
 *
 * @param repr The header.
 * @param payloadLen The payload length in bytes.
 * @returns The frame length in bytes (without the frame check sequence).
 *
 * @example
 * ```ts
 * import { EthernetAddress, ethernetBufferLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const mac = EthernetAddress.ZERO;
 * assert.equal(ethernetBufferLen({ src: mac, dst: mac, etherType: 0x0806, vlan: null }, 28), 42);
 * ```
 */
export function ethernetBufferLen(repr: EthernetRepr, payloadLen: number): number {
  return ethernetHeaderLen(repr) + payloadLen;
}

/**
 * Writes the header (and tag) described by `repr`; the caller then fills `frame.payload`.
 *
 * @param repr The header.
 * @param frame A view over a buffer of at least {@linkcode ethernetHeaderLen} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When a field is out of range or the buffer is too short.
 *
 * @example
 * ```ts
 * import { emitEthernet, EthernetAddress, EthernetFrame, EtherType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const frame = new EthernetFrame(new Uint8Array(14 + 28));
 * emitEthernet({
 *   src: EthernetAddress.parse("02:00:00:00:00:01"),
 *   dst: EthernetAddress.BROADCAST,
 *   etherType: EtherType.Arp,
 *   vlan: null,
 * }, frame);
 * assert.equal(frame.buffer[12], 8);
 * assert.equal(frame.buffer[13], 6);
 * assert.equal(frame.payload.length, 28);
 * ```
 */
export function emitEthernet(repr: EthernetRepr, frame: EthernetFrame, _opts?: EmitOptions): void {
  const b = frame.buffer;
  if (!isU16(repr.etherType)) {
    throw new RangeError(`Invalid EtherType ${repr.etherType}: must be 0 to 65535`);
  }
  const len = ethernetHeaderLen(repr);
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes is too short for a ${len}-byte header`);
  }
  repr.dst.writeTo(b, FIELD.DST);
  repr.src.writeTo(b, FIELD.SRC);
  const vlan = repr.vlan;
  let o: number = FIELD.ETHERTYPE;
  if (vlan !== null) {
    if (!Number.isInteger(vlan.id) || vlan.id < 0 || vlan.id > 0xfff) {
      throw new RangeError(`Invalid VLAN id ${vlan.id}: must be 0 to 4095`);
    }
    if (!Number.isInteger(vlan.pcp) || vlan.pcp < 0 || vlan.pcp > 7) {
      throw new RangeError(`Invalid VLAN priority ${vlan.pcp}: must be 0 to 7`);
    }
    b[FIELD.ETHERTYPE] = EtherType.Vlan >>> 8;
    b[FIELD.ETHERTYPE + 1] = EtherType.Vlan & 0xff;
    b[FIELD.VLAN_TCI] = (vlan.pcp << 5) | (vlan.id >>> 8);
    b[FIELD.VLAN_TCI + 1] = vlan.id & 0xff;
    o = FIELD.VLAN_ETHERTYPE;
  }
  b[o] = repr.etherType >>> 8;
  b[o + 1] = repr.etherType & 0xff;
}

function isU16(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}
