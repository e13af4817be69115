/**
 * ICMP for IPv6 (RFC 4443): the {@linkcode Icmpv6Packet} view and the {@linkcode Icmpv6Repr}
 * union, with the IPv6 pseudo-header checksum (RFC 8200 §8.1, next header 58). Neighbor
 * Discovery messages are parsed by `ndisc.ts` and MLD messages by `mld.ts`; both arrive here as
 * `kind: "ndisc"` / `kind: "mld"`.
 *
 * Error messages carry the quoted invoking packet as raw bytes (`data`); the interface parses it
 * to find the socket the error is about. Parsing only checks that the quote holds a whole IPv6
 * header.
 *
 * @module
 */

import { Ipv6Address } from "./address.ts";
import {
  checksumFinish,
  checksumSum,
  type EmitOptions,
  type ParseOptions,
  pseudoHeaderSum,
} from "./checksum.ts";
import { requireLength, WireError } from "./error.ts";
import { readU32, writeU32 } from "./_bytes.ts";
import { IcmpMessage } from "./icmp_message.ts";
import { IpProtocol } from "./ip.ts";
import { emitMld, mldBufferLen, type MldRepr, parseMld } from "./mld.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr, parseNdisc } from "./ndisc.ts";

const FIELD = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** Start of the message body (the 4 type-specific bytes of the 8-byte header). */
  REST: 4,
  ECHO_IDENT: 4,
  ECHO_SEQNO: 6,
  MTU: 4,
  POINTER: 4,
  /** End of the 8-byte header; error quotes and echo data start here. */
  DATA: 8,
} as const;

/** Length of the fixed IPv6 header. */
const IPV6_HEADER_LEN = 40;
/** Type, code and checksum: the part every ICMPv6 message has (RFC 4443 §2.1). */
const ICMPV6_MIN_LEN = 4;

/**
 * Length of the ICMPv6 header of echo and error messages (type, code, checksum, and four
 * type-specific bytes).
 *
 * @example
 * ```ts
 * import { ICMPV6_HEADER_LEN } from "@smol/net/wire";
 * console.log(ICMPV6_HEADER_LEN); // 8
 * ```
 */
export const ICMPV6_HEADER_LEN = 8;

/**
 * The largest IPv6 packet carrying an ICMPv6 error: the IPv6 minimum MTU, 1280 bytes
 * (RFC 4443 §2.4 (c)).
 *
 * @example
 * ```ts
 * import { ICMPV6_ERROR_MAX_LEN } from "@smol/net/wire";
 * console.log(ICMPV6_ERROR_MAX_LEN); // 1280
 * ```
 */
export const ICMPV6_ERROR_MAX_LEN = 1280;

/**
 * ICMPv6 message types (IANA "ICMPv6 Parameters"). Types below 128 are errors (RFC 4443 §2.1).
 * Fields typed `number` keep unknown values.
 *
 * @example
 * ```ts
 * import { Icmpv6Type } from "@smol/net/wire";
 * console.log(Icmpv6Type.EchoRequest, Icmpv6Type.NeighborSolicit); // 128 135
 * ```
 */
export const Icmpv6Type = {
  /** Destination unreachable (RFC 4443 §3.1). */
  DstUnreachable: 1,
  /** Packet too big (RFC 4443 §3.2). */
  PktTooBig: 2,
  /** Time exceeded (RFC 4443 §3.3). */
  TimeExceeded: 3,
  /** Parameter problem (RFC 4443 §3.4). */
  ParamProblem: 4,
  /** Echo request (RFC 4443 §4.1). */
  EchoRequest: 128,
  /** Echo reply (RFC 4443 §4.2). */
  EchoReply: 129,
  /** Multicast listener query, MLDv1 or MLDv2 (RFC 2710 §3, RFC 3810 §5.1). */
  MldQuery: 130,
  /** MLDv1 multicast listener report (RFC 2710 §3). */
  MldReport: 131,
  /** MLDv1 multicast listener done (RFC 2710 §3). */
  MldDone: 132,
  /** Router solicitation (RFC 4861 §4.1). */
  RouterSolicit: 133,
  /** Router advertisement (RFC 4861 §4.2). */
  RouterAdvert: 134,
  /** Neighbor solicitation (RFC 4861 §4.3). */
  NeighborSolicit: 135,
  /** Neighbor advertisement (RFC 4861 §4.4). */
  NeighborAdvert: 136,
  /** Redirect (RFC 4861 §4.5). */
  Redirect: 137,
  /** MLDv2 multicast listener report (RFC 3810 §5.2). */
  Mldv2Report: 143,
} as const;

/**
 * One of the named {@linkcode Icmpv6Type} values.
 *
 * @example
 * ```ts
 * import { Icmpv6Type } from "@smol/net/wire";
 * const t: Icmpv6Type = Icmpv6Type.PktTooBig;
 * console.log(t); // 2
 * ```
 */
export type Icmpv6Type = typeof Icmpv6Type[keyof typeof Icmpv6Type];

/**
 * Codes of the destination unreachable message (RFC 4443 §3.1, RFC 8554).
 *
 * @example
 * ```ts
 * import { Icmpv6UnreachableCode } from "@smol/net/wire";
 * console.log(Icmpv6UnreachableCode.PortUnreachable); // 4
 * ```
 */
export const Icmpv6UnreachableCode = {
  /** No route to destination. */
  NoRoute: 0,
  /** Communication administratively prohibited. */
  AdminProhibited: 1,
  /** Beyond the scope of the source address. */
  BeyondScope: 2,
  /** Address unreachable (neighbor discovery failed). */
  AddrUnreachable: 3,
  /** Port unreachable. */
  PortUnreachable: 4,
  /** Source address failed ingress/egress policy. */
  FailedPolicy: 5,
  /** Reject route to destination. */
  RejectRoute: 6,
  /** Error in source routing header (RFC 8554). */
  SourceRoutingHeader: 7,
} as const;

/**
 * One of the named {@linkcode Icmpv6UnreachableCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv6UnreachableCode } from "@smol/net/wire";
 * const c: Icmpv6UnreachableCode = Icmpv6UnreachableCode.AddrUnreachable;
 * console.log(c); // 3
 * ```
 */
export type Icmpv6UnreachableCode =
  typeof Icmpv6UnreachableCode[keyof typeof Icmpv6UnreachableCode];

/**
 * Codes of the time exceeded message (RFC 4443 §3.3).
 *
 * @example
 * ```ts
 * import { Icmpv6TimeExceededCode } from "@smol/net/wire";
 * console.log(Icmpv6TimeExceededCode.HopLimitExceeded); // 0
 * ```
 */
export const Icmpv6TimeExceededCode = {
  /** Hop limit exceeded in transit. */
  HopLimitExceeded: 0,
  /** Fragment reassembly time exceeded. */
  FragReassemblyExceeded: 1,
} as const;

/**
 * One of the named {@linkcode Icmpv6TimeExceededCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv6TimeExceededCode } from "@smol/net/wire";
 * const c: Icmpv6TimeExceededCode = Icmpv6TimeExceededCode.FragReassemblyExceeded;
 * console.log(c); // 1
 * ```
 */
export type Icmpv6TimeExceededCode =
  typeof Icmpv6TimeExceededCode[keyof typeof Icmpv6TimeExceededCode];

/**
 * Codes of the parameter problem message (RFC 4443 §3.4, RFC 7112).
 *
 * @example
 * ```ts
 * import { Icmpv6ParamProblemCode } from "@smol/net/wire";
 * console.log(Icmpv6ParamProblemCode.UnrecognizedNextHeader); // 1
 * ```
 */
export const Icmpv6ParamProblemCode = {
  /** Erroneous header field encountered. */
  ErroneousHeaderField: 0,
  /** Unrecognized next header type encountered. */
  UnrecognizedNextHeader: 1,
  /** Unrecognized IPv6 option encountered. */
  UnrecognizedOption: 2,
  /** IPv6 first fragment has an incomplete header chain (RFC 7112). */
  FirstFragmentIncomplete: 3,
} as const;

/**
 * One of the named {@linkcode Icmpv6ParamProblemCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv6ParamProblemCode } from "@smol/net/wire";
 * const c: Icmpv6ParamProblemCode = Icmpv6ParamProblemCode.UnrecognizedOption;
 * console.log(c); // 2
 * ```
 */
export type Icmpv6ParamProblemCode =
  typeof Icmpv6ParamProblemCode[keyof typeof Icmpv6ParamProblemCode];

/**
 * A zero-copy view of an ICMPv6 message over a byte buffer. The buffer must span exactly the
 * message (the upper-layer payload of the IPv6 packet): the checksum covers all of it.
 *
 * @example
 * ```ts
 * import { Icmpv6Packet, Ipv6Address } from "@smol/net/wire";
 *
 * const msg = Icmpv6Packet.newChecked(new Uint8Array([128, 0, 0, 0, 0, 1, 0, 2]));
 * const a = Ipv6Address.parse("2001:db8::1");
 * msg.fillChecksum(a, a);
 * console.log(msg.msgType, msg.echoIdent, msg.verifyChecksum(a, a)); // 128 1 true
 * ```
 */
export class Icmpv6Packet extends IcmpMessage {
  /**
   * Wraps `buffer` and checks its length with {@linkcode Icmpv6Packet.checkLen}.
   *
   * @param buffer The ICMPv6 message.
   * @returns The view.
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet, WireError } from "@smol/net/wire";
   * try {
   *   Icmpv6Packet.newChecked(new Uint8Array([128, 0, 0, 0]));
   * } catch (e) {
   *   console.log(e instanceof WireError); // true
   * }
   * ```
   */
  static newChecked(buffer: Uint8Array): Icmpv6Packet {
    const packet = new Icmpv6Packet(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Checks that type, code and checksum are present, and the whole 8-byte header for every type
   * named in {@linkcode Icmpv6Type}. Neighbor Discovery and MLD bodies are checked by their
   * parsers.
   *
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * new Icmpv6Packet(new Uint8Array([200, 0, 0, 0])).checkLen(); // an unknown type needs 4 bytes
   * ```
   */
  checkLen(): void {
    requireLength("icmpv6", this.buffer, ICMPV6_MIN_LEN);
    if (isKnownType(this.buffer[FIELD.TYPE]!)) {
      requireLength("icmpv6", this.buffer, ICMPV6_HEADER_LEN);
    }
  }

  /**
   * The MTU of a packet too big message (RFC 4443 §3.2), 32 bits.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * const p = new Icmpv6Packet(new Uint8Array(8));
   * p.mtu = 1280;
   * console.log(p.mtu); // 1280
   * ```
   */
  get mtu(): number {
    return readU32(this.buffer, FIELD.MTU);
  }
  set mtu(v: number) {
    writeU32(this.buffer, FIELD.MTU, v);
  }

  /**
   * The offset of the error in the quoted packet (parameter problem, RFC 4443 §3.4), 32 bits.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * const p = new Icmpv6Packet(new Uint8Array(8));
   * p.pointer = 6;
   * console.log(p.pointer); // 6
   * ```
   */
  get pointer(): number {
    return readU32(this.buffer, FIELD.POINTER);
  }
  set pointer(v: number) {
    writeU32(this.buffer, FIELD.POINTER, v);
  }

  /**
   * Whether the checksum over the pseudo-header and the whole message is correct.
   *
   * @param src The IPv6 source address.
   * @param dst The IPv6 destination address (the final one, if a routing header is present).
   * @returns `true` when it verifies.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet, Ipv6Address } from "@smol/net/wire";
   * const p = new Icmpv6Packet(new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]));
   * console.log(p.verifyChecksum(Ipv6Address.LOOPBACK, Ipv6Address.LOOPBACK)); // false
   * ```
   */
  verifyChecksum(src: Ipv6Address, dst: Ipv6Address): boolean {
    const b = this.buffer;
    return checksumFinish(
      checksumSum(b, pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, b.length)),
    ) ===
      0;
  }

  /**
   * Computes and writes the checksum over the pseudo-header and the whole message.
   *
   * @param src The IPv6 source address.
   * @param dst The IPv6 destination address.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet, Ipv6Address } from "@smol/net/wire";
   * const p = new Icmpv6Packet(new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]));
   * p.fillChecksum(Ipv6Address.LOOPBACK, Ipv6Address.LOOPBACK);
   * console.log(p.verifyChecksum(Ipv6Address.LOOPBACK, Ipv6Address.LOOPBACK)); // true
   * ```
   */
  fillChecksum(src: Ipv6Address, dst: Ipv6Address): void {
    this.checksum = 0;
    this.checksum = sumMessage(this.buffer, this.buffer.length, src, dst);
  }
}

/** The checksum of the first `len` bytes of `b` under the ICMPv6 pseudo-header. */
function sumMessage(b: Uint8Array, len: number, src: Ipv6Address, dst: Ipv6Address): number {
  const m = len === b.length ? b : b.subarray(0, len);
  return checksumFinish(checksumSum(m, pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, len)));
}

/** Whether `type` is one of {@linkcode Icmpv6Type} (all of which have an 8-byte fixed part). */
function isKnownType(type: number): boolean {
  return (type >= 1 && type <= 4) || (type >= 128 && type <= 137) || type === 143;
}

/**
 * An ICMPv6 message as plain data, discriminated by `kind`. `data` is a subarray of the parsed
 * packet: echo data, or for errors the quoted invoking packet (IPv6 header and as much of the
 * rest as fitted) as raw bytes. Neighbor Discovery and MLD messages carry their own reprs.
 * Messages of other types, and echo messages with a non-zero code, are `kind: "other"`, whose
 * `data` starts right after the checksum (at byte 4), so nothing is lost.
 *
 * @example
 * ```ts
 * import type { Icmpv6Repr } from "@smol/net/wire";
 *
 * function isError(repr: Icmpv6Repr): boolean {
 *   return repr.kind === "dstUnreachable" || repr.kind === "pktTooBig" ||
 *     repr.kind === "timeExceeded" || repr.kind === "paramProblem" ||
 *     (repr.kind === "other" && repr.type < 128);
 * }
 * console.log(isError({ kind: "pktTooBig", mtu: 1280, data: new Uint8Array(40) })); // true
 * ```
 */
export type Icmpv6Repr =
  | {
    readonly kind: "echoRequest" | "echoReply";
    /** Identifier, 0–65535. */
    readonly ident: number;
    /** Sequence number, 0–65535. */
    readonly seqNo: number;
    /** Echo data. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "dstUnreachable";
    /** An {@linkcode Icmpv6UnreachableCode} value. */
    readonly code: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "pktTooBig";
    /** The next-hop MTU as sent; a path MTU never drops below 1280 (RFC 8201 §4). */
    readonly mtu: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "timeExceeded";
    /** An {@linkcode Icmpv6TimeExceededCode} value. */
    readonly code: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "paramProblem";
    /** An {@linkcode Icmpv6ParamProblemCode} value. */
    readonly code: number;
    /** Offset of the error in the quoted packet. */
    readonly pointer: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "ndisc";
    /** The Neighbor Discovery message. */
    readonly repr: NdiscRepr;
  }
  | {
    readonly kind: "mld";
    /** The multicast listener discovery message. */
    readonly repr: MldRepr;
  }
  | {
    readonly kind: "other";
    /** The message type. */
    readonly type: number;
    /** The message code. */
    readonly code: number;
    /** Everything after the checksum (the message body). */
    readonly data: Uint8Array;
  };

/**
 * Validates an ICMPv6 message and returns it as a repr. Neighbor Discovery messages are
 * validated as RFC 4861 §6.1 and §7.1 require, except for the IP hop limit of 255, which the
 * caller checks with `ndiscHopLimitValid`; MLD messages as RFC 2710 / RFC 3810 describe.
 *
 * @param packet The message view (exactly the upper-layer payload).
 * @param src The IPv6 source address, for the pseudo-header and NDP checks.
 * @param dst The IPv6 destination address, for the pseudo-header and NDP checks.
 * @param opts `verifyChecksum: false` skips the checksum.
 * @returns The message.
 * @throws {WireError} On truncation, a wrong checksum, an error message whose quote does not hold
 * an IPv6 header, or a malformed Neighbor Discovery or MLD message.
 *
 * @example
 * ```ts
 * import { Icmpv6Packet, Ipv6Address, parseIcmpv6 } from "@smol/net/wire";
 * const a = Ipv6Address.parse("2001:db8::1");
 * const p = new Icmpv6Packet(new Uint8Array([129, 0, 0, 0, 0, 7, 0, 1]));
 * p.fillChecksum(a, a);
 * const repr = parseIcmpv6(p, a, a);
 * console.log(repr.kind, repr.kind === "echoReply" && repr.ident); // echoReply 7
 * ```
 */
export function parseIcmpv6(
  packet: Icmpv6Packet,
  src: Ipv6Address,
  dst: Ipv6Address,
  opts?: ParseOptions,
): Icmpv6Repr {
  packet.checkLen();
  if (opts?.verifyChecksum !== false && !packet.verifyChecksum(src, dst)) {
    throw new WireError("icmpv6.checksum", packet.checksum, "checksum mismatch");
  }
  const type = packet.msgType;
  const code = packet.msgCode;
  switch (type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      if (code !== 0) break;
      return {
        kind: type === Icmpv6Type.EchoRequest ? "echoRequest" : "echoReply",
        ident: packet.echoIdent,
        seqNo: packet.echoSeqNo,
        data: packet.data,
      };
    case Icmpv6Type.DstUnreachable:
      return { kind: "dstUnreachable", code, data: checkQuote(packet.data) };
    case Icmpv6Type.PktTooBig:
      // RFC 4443 §3.2: the code is set to 0 by the originator and ignored by the receiver.
      return { kind: "pktTooBig", mtu: packet.mtu, data: checkQuote(packet.data) };
    case Icmpv6Type.TimeExceeded:
      return { kind: "timeExceeded", code, data: checkQuote(packet.data) };
    case Icmpv6Type.ParamProblem:
      return { kind: "paramProblem", code, pointer: packet.pointer, data: checkQuote(packet.data) };
    case Icmpv6Type.MldQuery:
    case Icmpv6Type.MldReport:
    case Icmpv6Type.MldDone:
    case Icmpv6Type.Mldv2Report:
      return { kind: "mld", repr: parseMld(packet) };
    case Icmpv6Type.RouterSolicit:
    case Icmpv6Type.RouterAdvert:
    case Icmpv6Type.NeighborSolicit:
    case Icmpv6Type.NeighborAdvert:
    case Icmpv6Type.Redirect:
      return { kind: "ndisc", repr: parseNdisc(packet, src, dst) };
  }
  return { kind: "other", type, code, data: packet.buffer.subarray(FIELD.REST) };
}

/** Returns `data` when it starts with an IPv6 header (RFC 4443 §3: the invoking packet). */
function checkQuote(data: Uint8Array): Uint8Array {
  if (data.length < IPV6_HEADER_LEN) {
    throw new WireError("icmpv6.data", data.length, "quoted packet shorter than an IPv6 header");
  }
  const version = data[0]! >> 4;
  if (version !== 6) throw new WireError("icmpv6.data", version, "quoted packet is not IPv6");
  return data;
}

/**
 * Writes `repr` into `packet`, sized with {@linkcode icmpv6BufferLen}, and fills the checksum
 * unless `fillChecksum: false`. Reserved and unused fields are zeroed.
 *
 * @param repr The message.
 * @param packet The view to write into; its buffer must be exactly `icmpv6BufferLen(repr)` bytes
 * for the view's own checksum helpers to agree.
 * @param src The IPv6 source address, for the pseudo-header.
 * @param dst The IPv6 destination address, for the pseudo-header.
 * @param opts `fillChecksum: false` leaves the checksum 0.
 * @throws {RangeError} When the buffer is too short.
 *
 * @example
 * ```ts
 * import {
 *   emitIcmpv6,
 *   icmpv6BufferLen,
 *   Icmpv6Packet,
 *   type Icmpv6Repr,
 *   Ipv6Address,
 * } from "@smol/net/wire";
 * const repr: Icmpv6Repr = { kind: "echoRequest", ident: 1, seqNo: 1, data: new Uint8Array(4) };
 * const p = new Icmpv6Packet(new Uint8Array(icmpv6BufferLen(repr)));
 * emitIcmpv6(repr, p, Ipv6Address.LOOPBACK, Ipv6Address.LOOPBACK);
 * console.log(p.buffer.length, p.msgType); // 12 128
 * ```
 */
export function emitIcmpv6(
  repr: Icmpv6Repr,
  packet: Icmpv6Packet,
  src: Ipv6Address,
  dst: Ipv6Address,
  opts?: EmitOptions,
): void {
  const len = icmpv6BufferLen(repr);
  const b = packet.buffer;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes cannot hold a ${len}-byte ICMPv6 message`);
  }
  switch (repr.kind) {
    case "echoRequest":
    case "echoReply":
      packet.msgType = repr.kind === "echoRequest" ? Icmpv6Type.EchoRequest : Icmpv6Type.EchoReply;
      packet.msgCode = 0;
      packet.echoIdent = repr.ident;
      packet.echoSeqNo = repr.seqNo;
      b.set(repr.data, FIELD.DATA);
      break;
    case "dstUnreachable":
      writeError(packet, Icmpv6Type.DstUnreachable, repr.code, 0, repr.data);
      break;
    case "pktTooBig":
      writeError(packet, Icmpv6Type.PktTooBig, 0, repr.mtu, repr.data);
      break;
    case "timeExceeded":
      writeError(packet, Icmpv6Type.TimeExceeded, repr.code, 0, repr.data);
      break;
    case "paramProblem":
      writeError(packet, Icmpv6Type.ParamProblem, repr.code, repr.pointer, repr.data);
      break;
    case "ndisc":
      emitNdisc(repr.repr, packet);
      break;
    case "mld":
      emitMld(repr.repr, packet);
      break;
    case "other":
      packet.msgType = repr.type;
      packet.msgCode = repr.code;
      b.set(repr.data, FIELD.REST);
      break;
  }
  packet.checksum = 0;
  if (opts?.fillChecksum !== false) packet.checksum = sumMessage(b, len, src, dst);
}

/** Writes the 8-byte header of an error message (with its 32-bit field) and the quote. */
function writeError(
  packet: Icmpv6Packet,
  type: number,
  code: number,
  field: number,
  data: Uint8Array,
): void {
  packet.msgType = type;
  packet.msgCode = code;
  writeU32(packet.buffer, FIELD.REST, field);
  packet.buffer.set(data, FIELD.DATA);
}

/**
 * Bytes needed to emit `repr`.
 *
 * @param repr The message.
 * @returns The message length.
 *
 * @example
 * ```ts
 * import { icmpv6BufferLen } from "@smol/net/wire";
 * const unreachable = { kind: "dstUnreachable", code: 4, data: new Uint8Array(48) } as const;
 * console.log(icmpv6BufferLen(unreachable)); // 56
 * ```
 */
export function icmpv6BufferLen(repr: Icmpv6Repr): number {
  switch (repr.kind) {
    case "ndisc":
      return ndiscBufferLen(repr.repr);
    case "mld":
      return mldBufferLen(repr.repr);
    case "other":
      return FIELD.REST + repr.data.length;
    default:
      return ICMPV6_HEADER_LEN + repr.data.length;
  }
}

/**
 * How many bytes of an invoking packet an ICMPv6 error may quote so that the whole error packet
 * (40-byte IPv6 header without extension headers, 8-byte ICMPv6 header, quote) does not exceed
 * the IPv6 minimum MTU of 1280 bytes (RFC 4443 §2.4 (c)). The interface applies this bound when
 * it builds error messages.
 *
 * @param invokingLen Length of the invoking IPv6 packet (header, extension headers, payload).
 * @returns The number of leading bytes of the invoking packet to quote.
 *
 * @example
 * ```ts
 * import { icmpv6ErrorQuoteLen } from "@smol/net/wire";
 * console.log(icmpv6ErrorQuoteLen(1500), icmpv6ErrorQuoteLen(100)); // 1232 100
 * ```
 */
export function icmpv6ErrorQuoteLen(invokingLen: number): number {
  const room = ICMPV6_ERROR_MAX_LEN - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
  return Math.max(0, Math.min(invokingLen, room));
}

/**
 * What a receiver of an ICMPv6 error needs from the invoking packet it quotes to find the
 * connection or socket concerned: the quoted IPv6 header's next header and addresses, and the
 * bytes after the fixed header. Extension headers are not walked: `nextHeader` names the first
 * one when there are any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ipv6Address, type Icmpv6Quote } from "@smol/net/wire";
 * const q: Icmpv6Quote = {
 *   nextHeader: 6,
 *   src: Ipv6Address.parse("2001:db8::1"),
 *   dst: Ipv6Address.parse("2001:db8::2"),
 *   upper: new Uint8Array(8),
 * };
 * assert.equal(q.nextHeader, 6);
 * ```
 */
export interface Icmpv6Quote {
  /** The quoted packet's next header (see `IpProtocol`). */
  readonly nextHeader: number;
  /** The quoted packet's source: our address when we sent it. */
  readonly src: Ipv6Address;
  /** The quoted packet's destination. */
  readonly dst: Ipv6Address;
  /** The quoted bytes after the fixed 40-byte header (possibly fewer than 8, RFC 4443 §2.4 c). */
  readonly upper: Uint8Array;
}

/**
 * Reads the invoking packet quoted by an ICMPv6 error (the `data` of a `dstUnreachable`,
 * `pktTooBig`, `timeExceeded` or `paramProblem` repr).
 *
 * @param data The quoted packet.
 * @returns Its next header, addresses and the bytes after the fixed header (a subarray).
 * @throws {WireError} When `data` does not start with an IPv6 header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ipv6Address, parseIcmpv6Quote } from "@smol/net/wire";
 * const q = new Uint8Array(48);
 * q[0] = 0x60;
 * q[6] = 17;
 * Ipv6Address.parse("2001:db8::1").writeTo(q, 8);
 * Ipv6Address.parse("2001:db8::2").writeTo(q, 24);
 * const quote = parseIcmpv6Quote(q);
 * assert.equal(quote.nextHeader, 17);
 * assert.equal(quote.dst.toString(), "2001:db8::2");
 * assert.equal(quote.upper.length, 8);
 * ```
 */
export function parseIcmpv6Quote(data: Uint8Array): Icmpv6Quote {
  checkQuote(data);
  return {
    nextHeader: data[6]!,
    src: Ipv6Address.fromBytes(data, 8),
    dst: Ipv6Address.fromBytes(data, 24),
    upper: data.subarray(IPV6_HEADER_LEN),
  };
}
