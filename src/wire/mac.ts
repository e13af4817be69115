/**
 * {@linkcode EthernetAddress}: a 48-bit MAC address held in two numbers.
 *
 * @module
 */

import { readU32, writeU32 } from "./_bytes.ts";

/**
 * A 48-bit IEEE 802 MAC address.
 *
 * @example
 * ```ts
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const mac = EthernetAddress.parse("02:00:00:00:00:01");
 * assert.equal(mac.toString(), "02:00:00:00:00:01");
 * assert.equal(mac.isUnicast, true);
 * ```
 */
export class EthernetAddress {
  /** The upper 16 bits (first two octets). */
  readonly hi: number;
  /** The lower 32 bits (last four octets). */
  readonly lo: number;

  /** ff:ff:ff:ff:ff:ff. */
  static readonly BROADCAST: EthernetAddress = new EthernetAddress(0xffff, 0xffffffff);
  /** 00:00:00:00:00:00. */
  static readonly ZERO: EthernetAddress = new EthernetAddress(0, 0);

  /**
   * Creates an address from its two words.
   *
   * @param hi The first two octets as a 16-bit number.
   * @param lo The last four octets as a 32-bit number.
   */
  constructor(hi: number, lo: number) {
    this.hi = hi & 0xffff;
    this.lo = lo >>> 0;
  }

  /**
   * Reads six octets at `offset`.
   *
   * @param bytes Source buffer.
   * @param offset Where the address starts.
   * @returns The address.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const mac = EthernetAddress.fromBytes(new Uint8Array([2, 0, 0, 0, 0, 1]));
   * assert.equal(mac.toString(), "02:00:00:00:00:01");
   * ```
   */
  static fromBytes(bytes: Uint8Array, offset = 0): EthernetAddress {
    return new EthernetAddress(
      (bytes[offset]! << 8) | bytes[offset + 1]!,
      readU32(bytes, offset + 2),
    );
  }

  /**
   * Parses `aa:bb:cc:dd:ee:ff` (or with `-` separators).
   *
   * @param text The textual form.
   * @returns The address.
   * @throws {TypeError} When the text is not a MAC address.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(EthernetAddress.parse("02-00-00-00-00-0A").toString(), "02:00:00:00:00:0a");
   * ```
   */
  static parse(text: string): EthernetAddress {
    const parts = text.split(/[:-]/);
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
      throw new TypeError(`Invalid Ethernet address "${text}"`);
    }
    const o = parts.map((p) => parseInt(p, 16));
    return new EthernetAddress(
      (o[0]! << 8) | o[1]!,
      ((o[2]! << 24) | (o[3]! << 16) | (o[4]! << 8) | o[5]!) >>> 0,
    );
  }

  /**
   * Writes the six octets at `offset`.
   *
   * @param bytes Destination buffer.
   * @param offset Where to write.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(6);
   * EthernetAddress.BROADCAST.writeTo(b, 0);
   * assert.equal(b[5], 255);
   * ```
   */
  writeTo(bytes: Uint8Array, offset: number): void {
    bytes[offset] = this.hi >>> 8;
    bytes[offset + 1] = this.hi & 0xff;
    writeU32(bytes, offset + 2, this.lo);
  }

  /**
   * The six octets as a new array.
   *
   * @returns A fresh `Uint8Array` of length 6.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(EthernetAddress.ZERO.octets().length, 6);
   * ```
   */
  octets(): Uint8Array {
    const b = new Uint8Array(6);
    this.writeTo(b, 0);
    return b;
  }

  /** Whether this is ff:ff:ff:ff:ff:ff. */
  get isBroadcast(): boolean {
    return this.hi === 0xffff && this.lo === 0xffffffff;
  }
  /** Whether the group bit is set (multicast or broadcast). */
  get isMulticast(): boolean {
    return (this.hi & 0x0100) !== 0;
  }
  /** Whether this is an individual (unicast) address. */
  get isUnicast(): boolean {
    return (this.hi & 0x0100) === 0;
  }
  /** Whether the locally-administered bit is set. */
  get isLocal(): boolean {
    return (this.hi & 0x0200) !== 0;
  }

  /**
   * Value equality.
   *
   * @param other The address to compare.
   * @returns `true` when both hold the same six octets.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(EthernetAddress.parse("ff:ff:ff:ff:ff:ff").equals(EthernetAddress.BROADCAST), true);
   * ```
   */
  equals(other: EthernetAddress): boolean {
    return this.hi === other.hi && this.lo === other.lo;
  }

  /**
   * Lower-case colon-separated form.
   *
   * @returns For example `02:00:00:00:00:01`.
   *
   * @example
   * ```ts
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(String(EthernetAddress.BROADCAST), "ff:ff:ff:ff:ff:ff");
   * ```
   */
  toString(): string {
    const o = this.octets();
    let s = "";
    for (let i = 0; i < 6; i++) s += (i ? ":" : "") + o[i]!.toString(16).padStart(2, "0");
    return s;
  }
}
