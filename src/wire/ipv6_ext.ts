/**
 * IPv6 extension headers (RFC 8200 §4): Hop-by-Hop and Destination Options with their option
 * TLVs and the Routing header (kept raw); the Fragment header is in `ipv6_fragment.ts`, re-exported here. {@linkcode walkIpv6Headers} (in
 * `ipv6.ts`) finds the upper-layer protocol behind a chain of them.
 *
 * @module
 */

import type { EmitOptions, ParseOptions } from "./checksum.ts";
import { requireLength, WireError } from "./error.ts";
import { checkByte } from "./_bytes.ts";

const FIELD = {
  NXT_HDR: 0,
  LENGTH: 1,
  OPTIONS: 2,
  ROUTING_TYPE: 2,
  SEG_LEFT: 3,
  ROUTING_DATA: 4,
} as const;

/** An option TLV: type, data length, data. */
const OPT = { TYPE: 0, LEN: 1, DATA: 2 } as const;
/** The Hdr Ext Len field counts 8-octet units beyond the first 8 (RFC 8200 §4.3). */
const MAX_EXT_HEADER_LEN = 256 * 8;

/**
 * Option types for Hop-by-Hop and Destination Options that smolnet knows by name.
 *
 * @example
 * ```ts
 * import { Ipv6OptionType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(Ipv6OptionType.RouterAlert, 5);
 * ```
 */
export const Ipv6OptionType = {
  /** One byte of padding, with no length or data (RFC 8200 §4.2). */
  Pad1: 0,
  /** Two or more bytes of padding (RFC 8200 §4.2). */
  PadN: 1,
  /** Router Alert (RFC 2711), two bytes of data. */
  RouterAlert: 5,
} as const;

/**
 * One of the named {@linkcode Ipv6OptionType} values.
 *
 * @example
 * ```ts
 * import { Ipv6OptionType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const t: Ipv6OptionType = Ipv6OptionType.PadN;
 * assert.equal(t, 1);
 * ```
 */
export type Ipv6OptionType = typeof Ipv6OptionType[keyof typeof Ipv6OptionType];

/**
 * Router Alert values (RFC 2711 §2.1).
 *
 * @example
 * ```ts
 * import { Ipv6RouterAlert } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(Ipv6RouterAlert.Mld, 0);
 * ```
 */
export const Ipv6RouterAlert = {
  /** The datagram contains a Multicast Listener Discovery message. */
  Mld: 0,
  /** The datagram contains an RSVP message. */
  Rsvp: 1,
  /** The datagram contains an Active Networks message. */
  ActiveNetworks: 2,
} as const;

/**
 * What a node must do with an option it does not recognise, from the two high-order bits of the
 * option type (RFC 8200 §4.2).
 *
 * @example
 * ```ts
 * import { Ipv6OptionAction } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(Ipv6OptionAction.DiscardSendIcmp, 2);
 * ```
 */
export const Ipv6OptionAction = {
  /** 00: skip the option and continue. */
  Skip: 0,
  /** 01: discard the packet silently. */
  Discard: 1,
  /** 10: discard and send an ICMPv6 Parameter Problem, code 2, even to a multicast destination. */
  DiscardSendIcmp: 2,
  /** 11: discard and send the Parameter Problem only if the destination was not multicast. */
  DiscardSendIcmpUnlessMulticast: 3,
} as const;

/**
 * One of the {@linkcode Ipv6OptionAction} values.
 *
 * @example
 * ```ts
 * import { Ipv6OptionAction } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a: Ipv6OptionAction = Ipv6OptionAction.Skip;
 * assert.equal(a, 0);
 * ```
 */
export type Ipv6OptionAction = typeof Ipv6OptionAction[keyof typeof Ipv6OptionAction];

/**
 * The action RFC 8200 §4.2 prescribes for an unrecognised option of this type.
 *
 * @param type The option type byte.
 * @returns The action from its two high-order bits.
 *
 * @example
 * ```ts
 * import { ipv6OptionAction, Ipv6OptionAction } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6OptionAction(0xc2), Ipv6OptionAction.DiscardSendIcmpUnlessMulticast);
 * ```
 */
export function ipv6OptionAction(type: number): Ipv6OptionAction {
  return ((type >>> 6) & 3) as Ipv6OptionAction;
}

/**
 * A Router Alert option (RFC 2711).
 *
 * @example
 * ```ts
 * import type { Ipv6RouterAlertOption } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const ra: Ipv6RouterAlertOption = { kind: "routerAlert", value: 0 };
 * assert.equal(ra.kind, "routerAlert");
 * ```
 */
export interface Ipv6RouterAlertOption {
  /** Discriminant. */
  readonly kind: "routerAlert";
  /** The 16-bit value (see {@linkcode Ipv6RouterAlert}). */
  readonly value: number;
}

/**
 * An option smolnet does not interpret, kept with its type so the caller can apply
 * {@linkcode ipv6OptionAction}.
 *
 * @example
 * ```ts
 * import type { Ipv6UnknownOption } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const opt: Ipv6UnknownOption = { kind: "unknown", type: 0x1e, data: new Uint8Array(4) };
 * assert.equal(opt.type, 30);
 * ```
 */
export interface Ipv6UnknownOption {
  /** Discriminant. */
  readonly kind: "unknown";
  /** The option type byte (not 0, 1 or 5). */
  readonly type: number;
  /** The option data, 0–255 bytes; a subarray of the packet after parsing. */
  readonly data: Uint8Array;
}

/**
 * A Hop-by-Hop or Destination option. Padding (Pad1, PadN) is not represented: parsing drops it
 * and emitting inserts what alignment needs.
 *
 * @example
 * ```ts
 * import type { Ipv6Option } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const options: Ipv6Option[] = [{ kind: "routerAlert", value: 0 }];
 * assert.equal(options.length, 1);
 * ```
 */
export type Ipv6Option = Ipv6RouterAlertOption | Ipv6UnknownOption;

/**
 * A zero-copy view of the generic extension header layout shared by Hop-by-Hop, Destination
 * Options and Routing headers (RFC 8200 §4, RFC 6564): Next Header, Hdr Ext Len, data.
 *
 * @example
 * ```ts
 * import { Ipv6ExtHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = Ipv6ExtHeader.newChecked(new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
 * assert.equal(header.nextHeader, 17);
 * assert.equal(header.headerLen, 16);
 * ```
 */
export class Ipv6ExtHeader {
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
   * Wraps `buffer` and checks that the header its length field announces fits. Called on a
   * subclass (`Ipv6RoutingHeader.newChecked(b)`), it returns that subclass.
   *
   * @param buffer The bytes, starting at this header.
   * @returns The view.
   * @throws {WireError} When the header is truncated.
   *
   * @example
   * ```ts
   * import { Ipv6RoutingHeader, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const rh = Ipv6RoutingHeader.newChecked(new Uint8Array([17, 0, 4, 0, 0, 0, 0, 0]));
   * assert.equal(rh.routingType, 4);
   * assert.throws(() => Ipv6RoutingHeader.newChecked(new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0])), WireError);
   * ```
   */
  static newChecked<T extends Ipv6ExtHeader>(
    this: new (buffer: Uint8Array) => T,
    buffer: Uint8Array,
  ): T {
    const header = new this(buffer);
    header.checkLen();
    return header;
  }

  /**
   * Checks that at least 8 bytes and the whole header announced by Hdr Ext Len fit the buffer.
   *
   * @throws {WireError} When the header is truncated.
   *
   * @example
   * ```ts
   * import { Ipv6ExtHeader, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * new Ipv6ExtHeader(new Uint8Array(8)).checkLen(); // Hdr Ext Len 0: exactly 8 bytes
   * const long = new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0]); // Hdr Ext Len 1: 16 bytes
   * assert.throws(() => new Ipv6ExtHeader(long).checkLen(), WireError);
   * ```
   */
  checkLen(): void {
    requireLength("ipv6ext", this.buffer, 8);
    if (this.headerLen > this.buffer.length) {
      throw new WireError(
        "ipv6ext.hdrExtLen",
        this.hdrExtLen,
        `header of ${this.headerLen} bytes exceeds the ${this.buffer.length}-byte buffer`,
      );
    }
  }

  /** The type of the header that follows (see {@linkcode IpProtocol}). */
  get nextHeader(): number {
    return this.buffer[FIELD.NXT_HDR]!;
  }
  set nextHeader(value: number) {
    this.buffer[FIELD.NXT_HDR] = value;
  }

  /** The raw Hdr Ext Len field: 8-octet units, not counting the first 8 octets. */
  get hdrExtLen(): number {
    return this.buffer[FIELD.LENGTH]!;
  }
  set hdrExtLen(value: number) {
    this.buffer[FIELD.LENGTH] = value;
  }

  /** The header length in bytes, `(hdrExtLen + 1) * 8`. */
  get headerLen(): number {
    return (this.buffer[FIELD.LENGTH]! + 1) * 8;
  }

  /** The bytes after this header, to the end of the buffer; a subarray. */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }
}

/**
 * A zero-copy view of a Hop-by-Hop Options or Destination Options header (same layout, RFC 8200
 * §4.3 and §4.6).
 *
 * @example
 * ```ts
 * import { Ipv6OptionsHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = new Ipv6OptionsHeader(new Uint8Array([58, 0, 5, 2, 0, 0, 1, 0]));
 * assert.equal(header.options.length, 6);
 * ```
 */
export class Ipv6OptionsHeader extends Ipv6ExtHeader {
  /** The option TLVs (padding included), from byte 2 to the end of the header; a subarray. */
  get options(): Uint8Array {
    return this.buffer.subarray(FIELD.OPTIONS, this.headerLen);
  }
}

/**
 * A Hop-by-Hop or Destination Options header as plain data.
 *
 * @example
 * ```ts
 * import { IpProtocol, type Ipv6OptionsRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const hbh: Ipv6OptionsRepr = {
 *   nextHeader: IpProtocol.Icmpv6,
 *   options: [{ kind: "routerAlert", value: 0 }],
 * };
 * assert.equal(hbh.options.length, 1);
 * ```
 */
export interface Ipv6OptionsRepr {
  /** The type of the header that follows, 0–255. */
  readonly nextHeader: number;
  /** The options in order, without padding. */
  readonly options: readonly Ipv6Option[];
}

/**
 * Checks an options header and reads its options, dropping padding.
 *
 * @param header The header view.
 * @param _opts Accepted for uniformity with the other parsers.
 * @returns The header as plain data; unknown option data are subarrays of the header.
 * @throws {WireError} When the header or an option is truncated, or a Router Alert is not 2 bytes.
 *
 * @example
 * ```ts
 * import { Ipv6OptionsHeader, parseIpv6Options } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = parseIpv6Options(new Ipv6OptionsHeader(new Uint8Array([58, 0, 5, 2, 0, 0, 1, 0])));
 * assert.equal(repr.nextHeader, 58);
 * assert.deepEqual(repr.options, [{ kind: "routerAlert", value: 0 }]);
 * ```
 */
export function parseIpv6Options(header: Ipv6OptionsHeader, _opts?: ParseOptions): Ipv6OptionsRepr {
  header.checkLen();
  const b = header.buffer, end = header.headerLen;
  const options: Ipv6Option[] = [];
  for (let o: number = FIELD.OPTIONS; o < end;) {
    const type = b[o + OPT.TYPE]!;
    if (type === Ipv6OptionType.Pad1) {
      o++;
      continue;
    }
    if (o + OPT.DATA > end) throw new WireError("ipv6opt.length", end - o, "option truncated");
    const len = b[o + OPT.LEN]!;
    const data = o + OPT.DATA;
    if (data + len > end) {
      throw new WireError("ipv6opt.length", len, `option of type ${type} overruns its header`);
    }
    if (type === Ipv6OptionType.RouterAlert) {
      if (len !== 2) {
        throw new WireError("ipv6opt.length", len, "a Router Alert has 2 bytes of data");
      }
      options.push({ kind: "routerAlert", value: (b[data]! << 8) | b[data + 1]! });
    } else if (type !== Ipv6OptionType.PadN) {
      options.push({ kind: "unknown", type, data: b.subarray(data, data + len) });
    }
    o = data + len;
  }
  return { nextHeader: header.nextHeader, options };
}

/**
 * Lays out the options of `repr` at `b` (or only measures them when `b` is null) and returns
 * the header length. Router Alert is aligned 2n+0 (RFC 2711 §2.1); the end is padded to 8.
 */
function layoutOptions(repr: Ipv6OptionsRepr, b: Uint8Array | null): number {
  let o: number = FIELD.OPTIONS;
  for (const opt of repr.options) {
    if (opt.kind === "routerAlert") {
      if (!Number.isInteger(opt.value) || opt.value < 0 || opt.value > 0xffff) {
        throw new RangeError(`Invalid Router Alert value ${opt.value}: must be 0 to 65535`);
      }
      if (o % 2 !== 0) o = writePadding(b, o, 1);
      if (b !== null) {
        b[o + OPT.TYPE] = Ipv6OptionType.RouterAlert;
        b[o + OPT.LEN] = 2;
        b[o + OPT.DATA] = opt.value >>> 8;
        b[o + OPT.DATA + 1] = opt.value & 0xff;
      }
      o += OPT.DATA + 2;
    } else {
      const t = opt.type, len = opt.data.length;
      if (!Number.isInteger(t) || t < 0 || t > 0xff || t === 0 || t === 1 || t === 5) {
        throw new RangeError(`Invalid unknown option type ${t}: must be 2 to 255 and not 5`);
      }
      if (len > 0xff) throw new RangeError(`Invalid option data length ${len}: at most 255`);
      if (b !== null) {
        b[o + OPT.TYPE] = t;
        b[o + OPT.LEN] = len;
        b.set(opt.data, o + OPT.DATA);
      }
      o += OPT.DATA + len;
    }
  }
  o = writePadding(b, o, (8 - (o % 8)) % 8);
  if (o > MAX_EXT_HEADER_LEN) {
    throw new RangeError(`Options need ${o} bytes: an options header holds at most 2048`);
  }
  return o;
}

/** Writes `n` bytes of padding (Pad1 or PadN) at `o` when `b` is not null; returns `o + n`. */
function writePadding(b: Uint8Array | null, o: number, n: number): number {
  if (b !== null && n > 0) {
    if (n === 1) {
      b[o] = Ipv6OptionType.Pad1;
    } else {
      b[o + OPT.TYPE] = Ipv6OptionType.PadN;
      b[o + OPT.LEN] = n - 2;
      b.fill(0, o + OPT.DATA, o + n);
    }
  }
  return o + n;
}

/**
 * The length of the options header `repr` describes, padding included (a multiple of 8).
 *
 * @param repr The header.
 * @returns The length in bytes.
 * @throws {RangeError} When an option is invalid or the options do not fit 2048 bytes.
 *
 * @example
 * ```ts
 * import { ipv6OptionsHeaderLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6OptionsHeaderLen({ nextHeader: 58, options: [{ kind: "routerAlert", value: 0 }] }), 8);
 * ```
 */
export function ipv6OptionsHeaderLen(repr: Ipv6OptionsRepr): number {
  return layoutOptions(repr, null);
}

/**
 * Writes the options header `repr` describes, with the padding alignment needs.
 *
 * @param repr The header.
 * @param header A view over at least {@linkcode ipv6OptionsHeaderLen} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When a field is out of range or the buffer is too short.
 *
 * @example
 * ```ts
 * import { emitIpv6Options, Ipv6OptionsHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = new Ipv6OptionsHeader(new Uint8Array(8));
 * emitIpv6Options({ nextHeader: 58, options: [{ kind: "routerAlert", value: 0 }] }, header);
 * assert.deepEqual([...header.buffer], [58, 0, 5, 2, 0, 0, 1, 0]);
 * ```
 */
export function emitIpv6Options(
  repr: Ipv6OptionsRepr,
  header: Ipv6OptionsHeader,
  _opts?: EmitOptions,
): void {
  checkByte("next header", repr.nextHeader);
  const len = layoutOptions(repr, null);
  const b = header.buffer;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes is too short for a ${len}-byte header`);
  }
  b[FIELD.NXT_HDR] = repr.nextHeader;
  b[FIELD.LENGTH] = len / 8 - 1;
  layoutOptions(repr, b);
}

/**
 * A zero-copy view of a Routing header (RFC 8200 §4.4). The type-specific data is kept raw.
 *
 * @example
 * ```ts
 * import { Ipv6RoutingHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = new Ipv6RoutingHeader(new Uint8Array([17, 0, 4, 0, 0, 0, 0, 0]));
 * assert.equal(header.routingType, 4);
 * assert.equal(header.segmentsLeft, 0);
 * assert.equal(header.data.length, 4);
 * ```
 */
export class Ipv6RoutingHeader extends Ipv6ExtHeader {
  /** The routing type (2 for Mobile IPv6, 3 for RPL, 4 for Segment Routing; 0 is deprecated). */
  get routingType(): number {
    return this.buffer[FIELD.ROUTING_TYPE]!;
  }
  set routingType(value: number) {
    this.buffer[FIELD.ROUTING_TYPE] = value;
  }

  /** The number of route segments still to visit. */
  get segmentsLeft(): number {
    return this.buffer[FIELD.SEG_LEFT]!;
  }
  set segmentsLeft(value: number) {
    this.buffer[FIELD.SEG_LEFT] = value;
  }

  /** The type-specific data, from byte 4 to the end of the header; a subarray. */
  get data(): Uint8Array {
    return this.buffer.subarray(FIELD.ROUTING_DATA, this.headerLen);
  }
}

/**
 * A Routing header as plain data.
 *
 * @example
 * ```ts
 * import type { Ipv6RoutingRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const rh: Ipv6RoutingRepr = { nextHeader: 17, routingType: 4, segmentsLeft: 0, data: new Uint8Array(4) };
 * assert.equal(rh.routingType, 4);
 * ```
 */
export interface Ipv6RoutingRepr {
  /** The type of the header that follows, 0–255. */
  readonly nextHeader: number;
  /** The routing type, 0–255. */
  readonly routingType: number;
  /** Segments left, 0–255. When not zero, RFC 8200 §4.4 says what to do by routing type. */
  readonly segmentsLeft: number;
  /** The type-specific data; `4 + data.length` is a multiple of 8, at most 2048. */
  readonly data: Uint8Array;
}

/**
 * Checks a Routing header and reads it.
 *
 * @param header The header view.
 * @param _opts Accepted for uniformity with the other parsers.
 * @returns The header as plain data; `data` is a subarray of the header.
 * @throws {WireError} When the header is truncated.
 *
 * @example
 * ```ts
 * import { Ipv6RoutingHeader, parseIpv6Routing } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = parseIpv6Routing(new Ipv6RoutingHeader(new Uint8Array([59, 0, 0, 0, 0, 0, 0, 0])));
 * assert.equal(repr.routingType, 0);
 * assert.equal(repr.data.length, 4);
 * ```
 */
export function parseIpv6Routing(header: Ipv6RoutingHeader, _opts?: ParseOptions): Ipv6RoutingRepr {
  header.checkLen();
  return {
    nextHeader: header.nextHeader,
    routingType: header.routingType,
    segmentsLeft: header.segmentsLeft,
    data: header.data,
  };
}

/**
 * The length of the Routing header `repr` describes.
 *
 * @param repr The header.
 * @returns `4 + repr.data.length`.
 *
 * @example
 * ```ts
 * import { ipv6RoutingHeaderLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6RoutingHeaderLen({ nextHeader: 17, routingType: 4, segmentsLeft: 0, data: new Uint8Array(20) }), 24);
 * ```
 */
export function ipv6RoutingHeaderLen(repr: Ipv6RoutingRepr): number {
  return FIELD.ROUTING_DATA + repr.data.length;
}

/**
 * Writes the Routing header `repr` describes.
 *
 * @param repr The header.
 * @param header A view over at least {@linkcode ipv6RoutingHeaderLen} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When a field is out of range, the data length is not 4 modulo 8, or the
 * buffer is too short.
 *
 * @example
 * ```ts
 * import { emitIpv6Routing, Ipv6RoutingHeader } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const header = new Ipv6RoutingHeader(new Uint8Array(8));
 * emitIpv6Routing({ nextHeader: 17, routingType: 4, segmentsLeft: 0, data: new Uint8Array(4) }, header);
 * assert.equal(header.headerLen, 8);
 * assert.equal(header.routingType, 4);
 * ```
 */
export function emitIpv6Routing(
  repr: Ipv6RoutingRepr,
  header: Ipv6RoutingHeader,
  _opts?: EmitOptions,
): void {
  checkByte("next header", repr.nextHeader);
  checkByte("routing type", repr.routingType);
  checkByte("segments left", repr.segmentsLeft);
  const len = ipv6RoutingHeaderLen(repr);
  if (len % 8 !== 0 || len > MAX_EXT_HEADER_LEN) {
    throw new RangeError(
      `Invalid routing data length ${repr.data.length}: the header must be a multiple of 8 up to 2048`,
    );
  }
  const b = header.buffer;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes is too short for a ${len}-byte header`);
  }
  b[FIELD.NXT_HDR] = repr.nextHeader;
  b[FIELD.LENGTH] = len / 8 - 1;
  b[FIELD.ROUTING_TYPE] = repr.routingType;
  b[FIELD.SEG_LEFT] = repr.segmentsLeft;
  b.set(repr.data, FIELD.ROUTING_DATA);
}

export * from "./ipv6_fragment.ts";
