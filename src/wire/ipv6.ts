/**
 * The IPv6 fixed header (RFC 8200 §3), and {@linkcode walkIpv6Headers}, which walks the chain of
 * extension headers (from `ipv6_ext.ts`) to the upper layer.
 *
 * @module
 */

import { Ipv6Address } from "./address.ts";
import type { EmitOptions, ParseOptions } from "./checksum.ts";
import { requireLength, WireError } from "./error.ts";
import { IpProtocol } from "./ip.ts";
import {
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv6FragmentHeader,
  type Ipv6FragmentRepr,
  Ipv6OptionAction,
  ipv6OptionAction,
  Ipv6OptionsHeader,
  type Ipv6OptionsRepr,
  Ipv6OptionType,
  Ipv6RoutingHeader,
  type Ipv6RoutingRepr,
  parseIpv6Fragment,
  parseIpv6Options,
  parseIpv6Routing,
} from "./ipv6_ext.ts";

const FIELD = {
  VER_TC_FLOW: 0,
  LENGTH: 4,
  NXT_HDR: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;

/**
 * The length of the IPv6 fixed header.
 *
 * @example
 * ```ts
 * import { IPV6_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_HEADER_LEN, 40);
 * ```
 */
export const IPV6_HEADER_LEN = 40;

/**
 * A zero-copy view of an IPv6 packet.
 *
 * @example
 * ```ts
 * import { Ipv6Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(40);
 * b[0] = 0x60; b[6] = 59; b[7] = 64; // version 6, no next header, hop limit 64
 * const packet = Ipv6Packet.newChecked(b);
 * assert.equal(packet.nextHeader, 59);
 * assert.equal(packet.hopLimit, 64);
 * assert.equal(packet.payload.length, 0);
 * ```
 */
export class Ipv6Packet {
  /** The bytes of the packet, header first; may extend past the payload length (link padding). */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without checking it; call {@linkcode Ipv6Packet.checkLen} before reading
   * untrusted input, or use {@linkcode Ipv6Packet.newChecked}.
   *
   * @param buffer The packet bytes.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks the version and payload length against it.
   *
   * @param buffer The packet bytes.
   * @returns The view.
   * @throws {WireError} When the header is truncated or the payload length exceeds the buffer.
   *
   * @example
   * ```ts
   * import { Ipv6Packet, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => Ipv6Packet.newChecked(new Uint8Array(39)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): Ipv6Packet {
    const packet = new Ipv6Packet(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Checks, in order: at least 40 bytes, version 6, the payload length fits the buffer.
   * A payload length of 0 is an empty payload (jumbograms, RFC 2675, are not supported).
   *
   * @throws {WireError} On the first check that fails.
   *
   * @example
   * ```ts
   * import { Ipv6Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const b = new Uint8Array(40);
   * b[0] = 0x60; b[5] = 1; // payload length 1, but no payload
   * assert.throws(() => new Ipv6Packet(b).checkLen(), { name: "WireError", field: "ipv6.payloadLen" });
   * ```
   */
  checkLen(): void {
    const len = this.buffer.length;
    requireLength("ipv6", this.buffer, IPV6_HEADER_LEN);
    if (this.version !== 6) {
      throw new WireError("ipv6.version", this.version, "not an IPv6 packet");
    }
    const payloadLen = this.payloadLen;
    if (IPV6_HEADER_LEN + payloadLen > len) {
      throw new WireError(
        "ipv6.payloadLen",
        payloadLen,
        `exceeds the ${len - IPV6_HEADER_LEN} bytes after the header`,
      );
    }
  }

  /** The version nibble (6 for a valid packet). */
  get version(): number {
    return this.buffer[FIELD.VER_TC_FLOW]! >>> 4;
  }
  set version(value: number) {
    const b = this.buffer;
    b[FIELD.VER_TC_FLOW] = ((value & 0x0f) << 4) | (b[FIELD.VER_TC_FLOW]! & 0x0f);
  }

  /** The traffic class octet (DSCP in the upper 6 bits, ECN in the lower 2). */
  get trafficClass(): number {
    const b = this.buffer;
    return ((b[FIELD.VER_TC_FLOW]! & 0x0f) << 4) | (b[FIELD.VER_TC_FLOW + 1]! >>> 4);
  }
  set trafficClass(value: number) {
    const b = this.buffer;
    const o = FIELD.VER_TC_FLOW;
    b[o] = (b[o]! & 0xf0) | ((value >>> 4) & 0x0f);
    b[o + 1] = ((value & 0x0f) << 4) | (b[o + 1]! & 0x0f);
  }

  /** The 20-bit flow label (RFC 6437). */
  get flowLabel(): number {
    const b = this.buffer;
    const o = FIELD.VER_TC_FLOW;
    return ((b[o + 1]! & 0x0f) << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }
  set flowLabel(value: number) {
    const b = this.buffer;
    const o = FIELD.VER_TC_FLOW;
    b[o + 1] = (b[o + 1]! & 0xf0) | ((value >>> 16) & 0x0f);
    b[o + 2] = (value >>> 8) & 0xff;
    b[o + 3] = value & 0xff;
  }

  /** The payload length in bytes (extension headers included). */
  get payloadLen(): number {
    const b = this.buffer;
    return (b[FIELD.LENGTH]! << 8) | b[FIELD.LENGTH + 1]!;
  }
  set payloadLen(value: number) {
    this.buffer[FIELD.LENGTH] = value >>> 8;
    this.buffer[FIELD.LENGTH + 1] = value & 0xff;
  }

  /** The type of the first header after this one (see {@linkcode IpProtocol}). */
  get nextHeader(): number {
    return this.buffer[FIELD.NXT_HDR]!;
  }
  set nextHeader(value: number) {
    this.buffer[FIELD.NXT_HDR] = value;
  }

  /** The hop limit. */
  get hopLimit(): number {
    return this.buffer[FIELD.HOP_LIMIT]!;
  }
  set hopLimit(value: number) {
    this.buffer[FIELD.HOP_LIMIT] = value;
  }

  /** The source address. */
  get src(): Ipv6Address {
    return Ipv6Address.fromBytes(this.buffer, FIELD.SRC);
  }
  set src(addr: Ipv6Address) {
    addr.writeTo(this.buffer, FIELD.SRC);
  }

  /** The destination address. */
  get dst(): Ipv6Address {
    return Ipv6Address.fromBytes(this.buffer, FIELD.DST);
  }
  set dst(addr: Ipv6Address) {
    addr.writeTo(this.buffer, FIELD.DST);
  }

  /**
   * The payload length bytes after the header (extension headers and upper layer); link-layer
   * padding after them is excluded. A subarray, not a copy.
   */
  get payload(): Uint8Array {
    return this.buffer.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + this.payloadLen);
  }
}

/**
 * The IPv6 fixed header as plain data. The payload (extension headers and upper layer) is not
 * part of the representation: it follows the header in the packet's buffer.
 *
 * @example
 * ```ts
 * import { IpProtocol, Ipv6Address, type Ipv6Repr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr: Ipv6Repr = {
 *   src: Ipv6Address.parse("2001:db8::1"),
 *   dst: Ipv6Address.parse("2001:db8::2"),
 *   nextHeader: IpProtocol.Udp,
 *   payloadLen: 8,
 *   hopLimit: 64,
 *   trafficClass: 0,
 *   flowLabel: 0,
 * };
 * assert.equal(repr.nextHeader, 17);
 * ```
 */
export interface Ipv6Repr {
  /** Source address. */
  readonly src: Ipv6Address;
  /** Destination address. */
  readonly dst: Ipv6Address;
  /** The first header after the fixed header (see {@linkcode IpProtocol}), 0–255. */
  readonly nextHeader: number;
  /** Payload length in bytes (extension headers included), 0–65535. */
  readonly payloadLen: number;
  /** Hop limit, 0–255. */
  readonly hopLimit: number;
  /** Traffic class, 0–255. */
  readonly trafficClass: number;
  /** Flow label, 0–0xfffff. */
  readonly flowLabel: number;
}

/**
 * Checks an IPv6 packet and reads its fixed header. Extension headers are not looked at: use
 * {@linkcode walkIpv6Headers} on the same packet to find the upper layer.
 *
 * @param packet The packet view.
 * @param _opts Accepted for uniformity with the other parsers; IPv6 has no header checksum.
 * @returns The fixed header as plain data.
 * @throws {WireError} When the packet is truncated or not IPv6.
 *
 * @example
 * ```ts
 * import { Ipv6Packet, parseIpv6 } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(48);
 * b.set([0x60, 0x0a, 0xbc, 0xde, 0, 8, 17, 255]);
 * const repr = parseIpv6(new Ipv6Packet(b));
 * assert.equal(repr.trafficClass, 0);
 * assert.equal(repr.flowLabel.toString(16), "abcde");
 * assert.equal(repr.payloadLen, 8);
 * ```
 */
export function parseIpv6(packet: Ipv6Packet, _opts?: ParseOptions): Ipv6Repr {
  packet.checkLen();
  return {
    src: packet.src,
    dst: packet.dst,
    nextHeader: packet.nextHeader,
    payloadLen: packet.payloadLen,
    hopLimit: packet.hopLimit,
    trafficClass: packet.trafficClass,
    flowLabel: packet.flowLabel,
  };
}

/**
 * The buffer length `repr` needs: the 40-byte header plus the payload.
 *
 * @param repr The header.
 * @returns The packet length in bytes.
 *
 * @example
 * ```ts
 * import { Ipv6Address, ipv6BufferLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = Ipv6Address.UNSPECIFIED;
 * assert.equal(ipv6BufferLen({
 *   src: a, dst: a, nextHeader: 59, payloadLen: 0, hopLimit: 1, trafficClass: 0, flowLabel: 0,
 * }), 40);
 * ```
 */
export function ipv6BufferLen(repr: Ipv6Repr): number {
  return IPV6_HEADER_LEN + repr.payloadLen;
}

/**
 * Writes the 40-byte fixed header described by `repr`. The caller fills `packet.payload`.
 *
 * @param repr The header.
 * @param packet A view over a buffer of at least {@linkcode ipv6BufferLen} bytes.
 * @param _opts Accepted for uniformity with the other emitters.
 * @throws {RangeError} When a field is out of range or the buffer is too short.
 *
 * @example
 * ```ts
 * import { emitIpv6, IpProtocol, Ipv6Address, ipv6BufferLen, Ipv6Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = {
 *   src: Ipv6Address.parse("2001:db8::1"), dst: Ipv6Address.parse("2001:db8::2"),
 *   nextHeader: IpProtocol.Icmpv6, payloadLen: 8, hopLimit: 64, trafficClass: 0, flowLabel: 0,
 * };
 * const packet = new Ipv6Packet(new Uint8Array(ipv6BufferLen(repr)));
 * emitIpv6(repr, packet);
 * assert.equal(packet.version, 6);
 * assert.equal(packet.payload.length, 8);
 * ```
 */
export function emitIpv6(repr: Ipv6Repr, packet: Ipv6Packet, _opts?: EmitOptions): void {
  checkUint("next header", repr.nextHeader, 0xff);
  checkUint("payload length", repr.payloadLen, 0xffff);
  checkUint("hop limit", repr.hopLimit, 0xff);
  checkUint("traffic class", repr.trafficClass, 0xff);
  checkUint("flow label", repr.flowLabel, 0xfffff);
  const b = packet.buffer;
  const len = IPV6_HEADER_LEN + repr.payloadLen;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes is too short for a ${len}-byte IPv6 packet`);
  }
  const tc = repr.trafficClass, fl = repr.flowLabel;
  b[FIELD.VER_TC_FLOW] = 0x60 | (tc >>> 4);
  b[FIELD.VER_TC_FLOW + 1] = ((tc & 0x0f) << 4) | (fl >>> 16);
  b[FIELD.VER_TC_FLOW + 2] = (fl >>> 8) & 0xff;
  b[FIELD.VER_TC_FLOW + 3] = fl & 0xff;
  b[FIELD.LENGTH] = repr.payloadLen >>> 8;
  b[FIELD.LENGTH + 1] = repr.payloadLen & 0xff;
  b[FIELD.NXT_HDR] = repr.nextHeader;
  b[FIELD.HOP_LIMIT] = repr.hopLimit;
  repr.src.writeTo(b, FIELD.SRC);
  repr.dst.writeTo(b, FIELD.DST);
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Invalid IPv6 ${name} ${v}: must be 0 to ${max}`);
  }
}

/**
 * The most extension headers {@linkcode walkIpv6Headers} accepts in one packet.
 *
 * @example
 * ```ts
 * import { IPV6_MAX_EXT_HEADERS } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_MAX_EXT_HEADERS, 8);
 * ```
 */
export const IPV6_MAX_EXT_HEADERS = 8;

/**
 * The first unrecognised option whose action is not {@linkcode Ipv6OptionAction.Skip}, with
 * what an ICMPv6 Parameter Problem (code 2, RFC 4443 §3.4) needs.
 *
 * @example
 * ```ts
 * import type { Ipv6OptionProblem } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const p: Ipv6OptionProblem = { type: 0xc2, action: 3, pointer: 42 };
 * assert.equal(p.pointer, 42);
 * ```
 */
export interface Ipv6OptionProblem {
  /** The option type. */
  readonly type: number;
  /** What RFC 8200 §4.2 says to do. */
  readonly action: Ipv6OptionAction;
  /** The offset of the option type byte from the start of the IPv6 packet. */
  readonly pointer: number;
}

/**
 * What {@linkcode walkIpv6Headers} found between the fixed header and the upper layer.
 *
 * @example
 * ```ts
 * import { type Ipv6HeaderChain, walkIpv6Headers, Ipv6Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(40);
 * b[0] = 0x60; b[6] = 59;
 * const chain: Ipv6HeaderChain = walkIpv6Headers(new Ipv6Packet(b));
 * assert.equal(chain.upperLayer, 59);
 * assert.equal(chain.upperLayerOffset, 0);
 * ```
 */
export interface Ipv6HeaderChain {
  /**
   * The first header that is not Hop-by-Hop, Routing, Fragment or Destination Options: the
   * upper-layer protocol (TCP, UDP, ICMPv6...), or No Next Header, ESP, AH or any unknown value.
   * For a fragment that is not atomic, the Next Header of the Fragment header.
   */
  readonly upperLayer: number;
  /** The offset of the upper-layer header (or of the fragment data) within `packet.payload`. */
  readonly upperLayerOffset: number;
  /**
   * The offset from the start of the IPv6 packet of the Next Header field that holds
   * `upperLayer`: the pointer of a Parameter Problem (code 1) for an unrecognised next header.
   */
  readonly nextHeaderPointer: number;
  /** The Hop-by-Hop Options header, or `null`. */
  readonly hopByHop: Ipv6OptionsRepr | null;
  /** The Destination Options headers in order (RFC 8200 §4.1 allows two). */
  readonly destinationOptions: readonly Ipv6OptionsRepr[];
  /** The first Routing header with segments left, else the first Routing header, or `null`. */
  readonly routing: Ipv6RoutingRepr | null;
  /** The offset of {@linkcode Ipv6HeaderChain.routing} within `packet.payload`, or `null`. */
  readonly routingHeaderOffset: number | null;
  /** The Fragment header, or `null`. */
  readonly fragment: Ipv6FragmentRepr | null;
  /**
   * The offset of the Fragment header within `packet.payload` (the length of the
   * unfragmentable extension headers), or `null`.
   */
  readonly fragmentHeaderOffset: number | null;
  /** The first unrecognised option that asks for the packet to be discarded, or `null`. */
  readonly optionProblem: Ipv6OptionProblem | null;
}

const NO_OPTIONS: readonly Ipv6OptionsRepr[] = Object.freeze([]);

/**
 * Walks the extension headers of an IPv6 packet (RFC 8200 §4) up to the upper-layer header.
 *
 * The walk stops at the first header that is not Hop-by-Hop (0), Routing (43), Fragment (44)
 * or Destination Options (60). It also stops right after a Fragment header unless the fragment
 * is atomic (offset 0, no more fragments, RFC 6946): the data behind a fragment is only a chain
 * again after reassembly. Duplicated headers are accepted, as RFC 8200 §4.1 asks; the chain
 * length is bounded by {@linkcode IPV6_MAX_EXT_HEADERS}.
 *
 * @param packet The packet (checked with {@linkcode Ipv6Packet.checkLen} first).
 * @returns The chain.
 * @throws {WireError} When the packet or a header is truncated or malformed, when Hop-by-Hop is
 * not the first header (RFC 8200 §4.1), or when there are too many headers.
 *
 * @example
 * ```ts
 * import { Ipv6Packet, walkIpv6Headers } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(40 + 8 + 8);
 * b.set([0x60, 0, 0, 0, 0, 16, 0, 1]); // payload 16 bytes, next header Hop-by-Hop
 * b.set([58, 0, 5, 2, 0, 0, 1, 0], 40); // Router Alert (MLD), PadN; then ICMPv6
 * const chain = walkIpv6Headers(new Ipv6Packet(b));
 * assert.equal(chain.upperLayer, 58);
 * assert.equal(chain.upperLayerOffset, 8);
 * assert.deepEqual(chain.hopByHop?.options[0], { kind: "routerAlert", value: 0 });
 * ```
 */
export function walkIpv6Headers(packet: Ipv6Packet): Ipv6HeaderChain {
  packet.checkLen();
  const payload = packet.payload;
  let nh = packet.nextHeader;
  let off = 0;
  let pointer: number = FIELD.NXT_HDR;
  let count = 0;
  let hopByHop: Ipv6OptionsRepr | null = null;
  let destinationOptions = NO_OPTIONS;
  let routing: Ipv6RoutingRepr | null = null;
  let routingHeaderOffset: number | null = null;
  let fragment: Ipv6FragmentRepr | null = null;
  let fragmentHeaderOffset: number | null = null;
  let optionProblem: Ipv6OptionProblem | null = null;
  for (;;) {
    if (nh === IpProtocol.HopByHop && count > 0) {
      throw new WireError("ipv6.nextHeader", nh, "Hop-by-Hop Options header not first");
    }
    if (
      nh !== IpProtocol.HopByHop && nh !== IpProtocol.Ipv6Opts && nh !== IpProtocol.Ipv6Route &&
      nh !== IpProtocol.Ipv6Frag
    ) {
      break;
    }
    if (++count > IPV6_MAX_EXT_HEADERS) {
      throw new WireError(
        "ipv6.nextHeader",
        nh,
        `more than ${IPV6_MAX_EXT_HEADERS} extension headers`,
      );
    }
    const bytes = payload.subarray(off);
    let len: number;
    let next: number;
    let stop = false;
    if (nh === IpProtocol.Ipv6Frag) {
      fragment = parseIpv6Fragment(new Ipv6FragmentHeader(bytes));
      fragmentHeaderOffset = off;
      len = IPV6_FRAGMENT_HEADER_LEN;
      next = fragment.nextHeader;
      stop = fragment.fragOffset !== 0 || fragment.moreFrags;
    } else if (nh === IpProtocol.Ipv6Route) {
      const header = new Ipv6RoutingHeader(bytes);
      const repr = parseIpv6Routing(header);
      if (routing === null || (routing.segmentsLeft === 0 && repr.segmentsLeft !== 0)) {
        routing = repr;
        routingHeaderOffset = off;
      }
      len = header.headerLen;
      next = repr.nextHeader;
    } else {
      const header = new Ipv6OptionsHeader(bytes);
      const repr = parseIpv6Options(header);
      if (nh === IpProtocol.HopByHop) {
        hopByHop = repr;
      } else {
        destinationOptions = destinationOptions === NO_OPTIONS
          ? [repr]
          : [...destinationOptions, repr];
      }
      len = header.headerLen;
      optionProblem ??= findOptionProblem(bytes, len, IPV6_HEADER_LEN + off);
      next = repr.nextHeader;
    }
    pointer = IPV6_HEADER_LEN + off; // Next Header is the first byte of every extension header
    off += len;
    nh = next;
    if (stop) {
      if (nh === IpProtocol.HopByHop) {
        throw new WireError("ipv6.nextHeader", nh, "Hop-by-Hop Options header not first");
      }
      break;
    }
  }
  return {
    upperLayer: nh,
    upperLayerOffset: off,
    nextHeaderPointer: pointer,
    hopByHop,
    destinationOptions,
    routing,
    routingHeaderOffset,
    fragment,
    fragmentHeaderOffset,
    optionProblem,
  };
}

/** Scans already-validated option TLVs for the first unknown one whose action is not Skip. */
function findOptionProblem(b: Uint8Array, end: number, base: number): Ipv6OptionProblem | null {
  for (let o = 2; o < end;) {
    const type = b[o]!;
    if (type === Ipv6OptionType.Pad1) {
      o++;
      continue;
    }
    // PadN (1) and Router Alert (5) have action Skip (00), like every other type below 64.
    const action = ipv6OptionAction(type);
    if (action !== Ipv6OptionAction.Skip) return { type, action, pointer: base + o };
    o += 2 + b[o + 1]!;
  }
  return null;
}
