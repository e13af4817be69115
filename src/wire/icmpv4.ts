/**
 * ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU, RFC 1812 §4.3 for error sizes): the
 * {@linkcode Icmpv4Packet} view and the {@linkcode Icmpv4Repr} union.
 *
 * Error messages carry the quoted invoking packet as raw bytes (`data`); the interface parses it
 * to find the socket the error is about. Parsing only checks that the quote holds a whole IPv4
 * header.
 *
 * @module
 */

import { Ipv4Address } from "./address.ts";
import { checksumFinish, checksumSum, type EmitOptions, type ParseOptions } from "./checksum.ts";
import { requireLength, WireError } from "./error.ts";
import { readU16, readU32, writeU16, writeU32 } from "./_bytes.ts";
import { IcmpMessage } from "./icmp_message.ts";

const FIELD = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** Start of the 4 type-specific header bytes (the "rest of header"). */
  REST: 4,
  ECHO_IDENT: 4,
  ECHO_SEQNO: 6,
  POINTER: 4,
  GATEWAY: 4,
  NEXT_HOP_MTU: 6,
  /** End of the 8-byte header; error quotes and echo data start here. */
  DATA: 8,
} as const;

/** Smallest IPv4 header, in bytes. */
const IPV4_MIN_HEADER_LEN = 20;

/**
 * The largest IPv4 datagram carrying an ICMP error: 576 bytes (RFC 1812 §4.3.2.3).
 *
 * @example
 * ```ts
 * import { ICMPV4_ERROR_MAX_LEN } from "@smol/net/wire";
 * console.log(ICMPV4_ERROR_MAX_LEN); // 576
 * ```
 */
export const ICMPV4_ERROR_MAX_LEN = 576;

/**
 * Length of the ICMPv4 header (type, code, checksum and four type-specific bytes).
 *
 * @example
 * ```ts
 * import { ICMPV4_HEADER_LEN } from "@smol/net/wire";
 * console.log(ICMPV4_HEADER_LEN); // 8
 * ```
 */
export const ICMPV4_HEADER_LEN = 8;

/**
 * ICMPv4 message types (IANA "ICMP Type Numbers"). Fields typed `number` keep unknown values.
 *
 * @example
 * ```ts
 * import { Icmpv4Type } from "@smol/net/wire";
 * console.log(Icmpv4Type.EchoRequest, Icmpv4Type.DstUnreachable); // 8 3
 * ```
 */
export const Icmpv4Type = {
  /** Echo reply (RFC 792). */
  EchoReply: 0,
  /** Destination unreachable (RFC 792). */
  DstUnreachable: 3,
  /** Source quench (RFC 792, deprecated by RFC 6633). */
  SourceQuench: 4,
  /** Redirect (RFC 792). */
  Redirect: 5,
  /** Echo request (RFC 792). */
  EchoRequest: 8,
  /** Router advertisement (RFC 1256). */
  RouterAdvert: 9,
  /** Router solicitation (RFC 1256). */
  RouterSolicit: 10,
  /** Time exceeded (RFC 792). */
  TimeExceeded: 11,
  /** Parameter problem (RFC 792). */
  ParamProblem: 12,
  /** Timestamp request (RFC 792). */
  Timestamp: 13,
  /** Timestamp reply (RFC 792). */
  TimestampReply: 14,
} as const;

/**
 * One of the named {@linkcode Icmpv4Type} values.
 *
 * @example
 * ```ts
 * import { Icmpv4Type } from "@smol/net/wire";
 * const t: Icmpv4Type = Icmpv4Type.TimeExceeded;
 * console.log(t); // 11
 * ```
 */
export type Icmpv4Type = typeof Icmpv4Type[keyof typeof Icmpv4Type];

/**
 * Codes of the destination unreachable message (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
 *
 * @example
 * ```ts
 * import { Icmpv4UnreachableCode } from "@smol/net/wire";
 * console.log(Icmpv4UnreachableCode.PortUnreachable, Icmpv4UnreachableCode.FragRequired); // 3 4
 * ```
 */
export const Icmpv4UnreachableCode = {
  /** Network unreachable. */
  NetUnreachable: 0,
  /** Host unreachable. */
  HostUnreachable: 1,
  /** Protocol unreachable. */
  ProtoUnreachable: 2,
  /** Port unreachable. */
  PortUnreachable: 3,
  /** Fragmentation needed and DF set; the next-hop MTU is in the header (RFC 1191). */
  FragRequired: 4,
  /** Source route failed. */
  SrcRouteFailed: 5,
  /** Destination network unknown. */
  DstNetUnknown: 6,
  /** Destination host unknown. */
  DstHostUnknown: 7,
  /** Source host isolated. */
  SrcHostIsolated: 8,
  /** Network administratively prohibited. */
  NetProhibited: 9,
  /** Host administratively prohibited. */
  HostProhibited: 10,
  /** Network unreachable for type of service. */
  NetUnreachToS: 11,
  /** Host unreachable for type of service. */
  HostUnreachToS: 12,
  /** Communication administratively prohibited (RFC 1812). */
  CommProhibited: 13,
  /** Host precedence violation (RFC 1812). */
  HostPrecedViol: 14,
  /** Precedence cutoff in effect (RFC 1812). */
  PrecedCutoff: 15,
} as const;

/**
 * One of the named {@linkcode Icmpv4UnreachableCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv4UnreachableCode } from "@smol/net/wire";
 * const c: Icmpv4UnreachableCode = Icmpv4UnreachableCode.HostUnreachable;
 * console.log(c); // 1
 * ```
 */
export type Icmpv4UnreachableCode =
  typeof Icmpv4UnreachableCode[keyof typeof Icmpv4UnreachableCode];

/**
 * Codes of the time exceeded message (RFC 792).
 *
 * @example
 * ```ts
 * import { Icmpv4TimeExceededCode } from "@smol/net/wire";
 * console.log(Icmpv4TimeExceededCode.TtlExpired); // 0
 * ```
 */
export const Icmpv4TimeExceededCode = {
  /** TTL reached zero in transit. */
  TtlExpired: 0,
  /** Fragment reassembly time exceeded. */
  FragExpired: 1,
} as const;

/**
 * One of the named {@linkcode Icmpv4TimeExceededCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv4TimeExceededCode } from "@smol/net/wire";
 * const c: Icmpv4TimeExceededCode = Icmpv4TimeExceededCode.FragExpired;
 * console.log(c); // 1
 * ```
 */
export type Icmpv4TimeExceededCode =
  typeof Icmpv4TimeExceededCode[keyof typeof Icmpv4TimeExceededCode];

/**
 * Codes of the redirect message (RFC 792).
 *
 * @example
 * ```ts
 * import { Icmpv4RedirectCode } from "@smol/net/wire";
 * console.log(Icmpv4RedirectCode.Host); // 1
 * ```
 */
export const Icmpv4RedirectCode = {
  /** Redirect datagrams for the network. */
  Net: 0,
  /** Redirect datagrams for the host. */
  Host: 1,
  /** Redirect for the type of service and network. */
  TosNet: 2,
  /** Redirect for the type of service and host. */
  TosHost: 3,
} as const;

/**
 * One of the named {@linkcode Icmpv4RedirectCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv4RedirectCode } from "@smol/net/wire";
 * const c: Icmpv4RedirectCode = Icmpv4RedirectCode.Net;
 * console.log(c); // 0
 * ```
 */
export type Icmpv4RedirectCode = typeof Icmpv4RedirectCode[keyof typeof Icmpv4RedirectCode];

/**
 * Codes of the parameter problem message (RFC 792, RFC 1108).
 *
 * @example
 * ```ts
 * import { Icmpv4ParamProblemCode } from "@smol/net/wire";
 * console.log(Icmpv4ParamProblemCode.PointerIndicatesError); // 0
 * ```
 */
export const Icmpv4ParamProblemCode = {
  /** The pointer field locates the error. */
  PointerIndicatesError: 0,
  /** A required option is missing. */
  MissingOption: 1,
  /** Bad length. */
  BadLength: 2,
} as const;

/**
 * One of the named {@linkcode Icmpv4ParamProblemCode} values.
 *
 * @example
 * ```ts
 * import { Icmpv4ParamProblemCode } from "@smol/net/wire";
 * const c: Icmpv4ParamProblemCode = Icmpv4ParamProblemCode.BadLength;
 * console.log(c); // 2
 * ```
 */
export type Icmpv4ParamProblemCode =
  typeof Icmpv4ParamProblemCode[keyof typeof Icmpv4ParamProblemCode];

/**
 * A zero-copy view of an ICMPv4 message over a byte buffer. The buffer must span exactly the
 * message (the IPv4 payload): the checksum covers all of it.
 *
 * @example
 * ```ts
 * import { Icmpv4Packet } from "@smol/net/wire";
 *
 * const msg = Icmpv4Packet.newChecked(new Uint8Array([8, 0, 0xf7, 0xfc, 0, 1, 0, 2]));
 * console.log(msg.msgType, msg.echoIdent, msg.echoSeqNo, msg.verifyChecksum()); // 8 1 2 true
 * ```
 */
export class Icmpv4Packet extends IcmpMessage {
  /**
   * Wraps `buffer` and checks that the 8-byte header is present.
   *
   * @param buffer The ICMP message.
   * @returns The view.
   * @throws {WireError} When the buffer is shorter than 8 bytes.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet, WireError } from "@smol/net/wire";
   * try {
   *   Icmpv4Packet.newChecked(new Uint8Array(4));
   * } catch (e) {
   *   console.log(e instanceof WireError); // true
   * }
   * ```
   */
  static newChecked(buffer: Uint8Array): Icmpv4Packet {
    const packet = new Icmpv4Packet(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Checks that the 8-byte header every ICMPv4 message has (RFC 792) is present.
   *
   * @throws {WireError} When the buffer is shorter than 8 bytes.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * new Icmpv4Packet(new Uint8Array(8)).checkLen(); // fine
   * ```
   */
  checkLen(): void {
    requireLength("icmpv4", this.buffer, ICMPV4_HEADER_LEN);
  }

  /**
   * The next-hop MTU of a "fragmentation needed" message (RFC 1191 §4); 0 from routers that
   * predate RFC 1191.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * const p = new Icmpv4Packet(new Uint8Array(8));
   * p.nextHopMtu = 1400;
   * console.log(p.nextHopMtu); // 1400
   * ```
   */
  get nextHopMtu(): number {
    return readU16(this.buffer, FIELD.NEXT_HOP_MTU);
  }
  set nextHopMtu(v: number) {
    writeU16(this.buffer, FIELD.NEXT_HOP_MTU, v);
  }

  /**
   * The octet offset of the error in the quoted packet (parameter problem).
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * const p = new Icmpv4Packet(new Uint8Array(8));
   * p.pointer = 22;
   * console.log(p.pointer); // 22
   * ```
   */
  get pointer(): number {
    return this.buffer[FIELD.POINTER]!;
  }
  set pointer(v: number) {
    this.buffer[FIELD.POINTER] = v;
  }

  /**
   * The gateway address of a redirect, as a 32-bit number (see {@linkcode Ipv4Address.value}).
   *
   * @example
   * ```ts
   * import { Icmpv4Packet, Ipv4Address } from "@smol/net/wire";
   * const p = new Icmpv4Packet(new Uint8Array(8));
   * p.gateway = Ipv4Address.parse("198.51.100.100").value;
   * console.log(new Ipv4Address(p.gateway).toString()); // 198.51.100.100
   * ```
   */
  get gateway(): number {
    return readU32(this.buffer, FIELD.GATEWAY);
  }
  set gateway(v: number) {
    writeU32(this.buffer, FIELD.GATEWAY, v);
  }

  /**
   * Whether the checksum over the whole message is correct (RFC 792: no pseudo-header).
   *
   * @returns `true` when it verifies.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * const p = new Icmpv4Packet(new Uint8Array([8, 0, 0xf7, 0xff, 0, 0, 0, 0]));
   * console.log(p.verifyChecksum()); // true
   * ```
   */
  verifyChecksum(): boolean {
    return checksumFinish(checksumSum(this.buffer)) === 0;
  }

  /**
   * Computes and writes the checksum over the whole message.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * const p = new Icmpv4Packet(new Uint8Array([0, 0, 0, 0, 0, 1, 0, 1]));
   * p.fillChecksum();
   * console.log(p.checksum.toString(16)); // fffd
   * ```
   */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksumFinish(checksumSum(this.buffer));
  }
}

/**
 * An ICMPv4 message as plain data, discriminated by `kind`. `data` is a subarray of the parsed
 * packet: echo data, or for errors the quoted invoking packet (IPv4 header and at least the
 * start of its payload) as raw bytes. Messages of other types, and echo messages with a non-zero
 * code, are `kind: "other"`, whose `data` starts right after the checksum (at byte 4), so
 * nothing is lost.
 *
 * @example
 * ```ts
 * import type { Icmpv4Repr } from "@smol/net/wire";
 *
 * function describe(repr: Icmpv4Repr): string {
 *   switch (repr.kind) {
 *     case "echoRequest":
 *     case "echoReply":
 *       return `${repr.kind} ${repr.ident}/${repr.seqNo}`;
 *     case "dstUnreachable":
 *       return `unreachable code ${repr.code}`;
 *     default:
 *       return repr.kind;
 *   }
 * }
 * const reply: Icmpv4Repr = { kind: "echoReply", ident: 1, seqNo: 2, data: new Uint8Array() };
 * console.log(describe(reply)); // echoReply 1/2
 * ```
 */
export type Icmpv4Repr =
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
    /** An {@linkcode Icmpv4UnreachableCode} value. */
    readonly code: number;
    /** Next-hop MTU for `FragRequired` (RFC 1191); 0 otherwise. */
    readonly nextHopMtu: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "redirect";
    /** An {@linkcode Icmpv4RedirectCode} value. */
    readonly code: number;
    /** The better first hop for the quoted packet's destination. */
    readonly gateway: Ipv4Address;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "timeExceeded";
    /** An {@linkcode Icmpv4TimeExceededCode} value. */
    readonly code: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "paramProblem";
    /** An {@linkcode Icmpv4ParamProblemCode} value. */
    readonly code: number;
    /** Octet offset of the error in the quoted packet. */
    readonly pointer: number;
    /** The quoted invoking packet. */
    readonly data: Uint8Array;
  }
  | {
    readonly kind: "other";
    /** The message type. */
    readonly type: number;
    /** The message code. */
    readonly code: number;
    /** Everything after the checksum: at least the 4 type-specific header bytes. */
    readonly data: Uint8Array;
  };

/**
 * Validates an ICMPv4 message and returns it as a repr.
 *
 * @param packet The message view (exactly the IPv4 payload).
 * @param opts `verifyChecksum: false` skips the checksum.
 * @returns The message.
 * @throws {WireError} On truncation, a wrong checksum, or an error message whose quote does not
 * hold a whole IPv4 header.
 *
 * @example
 * ```ts
 * import { Icmpv4Packet, parseIcmpv4 } from "@smol/net/wire";
 * const repr = parseIcmpv4(new Icmpv4Packet(new Uint8Array([0, 0, 0xff, 0xfc, 0, 1, 0, 2])));
 * console.log(repr); // { kind: "echoReply", ident: 1, seqNo: 2, data: Uint8Array(0) [] }
 * ```
 */
export function parseIcmpv4(packet: Icmpv4Packet, opts?: ParseOptions): Icmpv4Repr {
  packet.checkLen();
  if (opts?.verifyChecksum !== false && !packet.verifyChecksum()) {
    throw new WireError("icmpv4.checksum", packet.checksum, "checksum mismatch");
  }
  const type = packet.msgType;
  const code = packet.msgCode;
  switch (type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      if (code !== 0) break;
      return {
        kind: type === Icmpv4Type.EchoRequest ? "echoRequest" : "echoReply",
        ident: packet.echoIdent,
        seqNo: packet.echoSeqNo,
        data: packet.data,
      };
    case Icmpv4Type.DstUnreachable:
      return {
        kind: "dstUnreachable",
        code,
        nextHopMtu: packet.nextHopMtu,
        data: checkQuote(packet.data),
      };
    case Icmpv4Type.Redirect:
      return {
        kind: "redirect",
        code,
        gateway: new Ipv4Address(packet.gateway),
        data: checkQuote(packet.data),
      };
    case Icmpv4Type.TimeExceeded:
      return { kind: "timeExceeded", code, data: checkQuote(packet.data) };
    case Icmpv4Type.ParamProblem:
      return { kind: "paramProblem", code, pointer: packet.pointer, data: checkQuote(packet.data) };
  }
  return { kind: "other", type, code, data: packet.buffer.subarray(FIELD.REST) };
}

/** Returns `data` when it starts with a whole IPv4 header (RFC 792: header plus 64 bits). */
function checkQuote(data: Uint8Array): Uint8Array {
  if (data.length < IPV4_MIN_HEADER_LEN) {
    throw new WireError("icmpv4.data", data.length, "quoted packet shorter than an IPv4 header");
  }
  const first = data[0]!;
  if (first >> 4 !== 4) {
    throw new WireError("icmpv4.data", first >> 4, "quoted packet is not IPv4");
  }
  const ihl = (first & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER_LEN || ihl > data.length) {
    throw new WireError("icmpv4.data", ihl, "quoted IPv4 header length is invalid or truncated");
  }
  return data;
}

/**
 * Writes `repr` into `packet`, sized with {@linkcode icmpv4BufferLen}, and fills the checksum
 * unless `fillChecksum: false`. Unused header bytes are zeroed.
 *
 * @param repr The message.
 * @param packet The view to write into; its buffer must be exactly `icmpv4BufferLen(repr)` bytes
 * for the checksum to cover the right bytes.
 * @param opts `fillChecksum: false` leaves the checksum 0.
 * @throws {RangeError} When the buffer is too short, or an `other` message has fewer than
 * 4 data bytes.
 *
 * @example
 * ```ts
 * import { emitIcmpv4, icmpv4BufferLen, Icmpv4Packet, type Icmpv4Repr } from "@smol/net/wire";
 * const repr: Icmpv4Repr = { kind: "echoRequest", ident: 1, seqNo: 2, data: new Uint8Array(0) };
 * const p = new Icmpv4Packet(new Uint8Array(icmpv4BufferLen(repr)));
 * emitIcmpv4(repr, p);
 * console.log(p.buffer); // Uint8Array(8) [ 8, 0, 247, 252, 0, 1, 0, 2 ]
 * ```
 */
export function emitIcmpv4(repr: Icmpv4Repr, packet: Icmpv4Packet, opts?: EmitOptions): void {
  const len = icmpv4BufferLen(repr);
  const b = packet.buffer;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes cannot hold a ${len}-byte ICMPv4 message`);
  }
  writeU32(b, FIELD.REST, 0);
  switch (repr.kind) {
    case "echoRequest":
    case "echoReply":
      packet.msgType = repr.kind === "echoRequest" ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
      packet.msgCode = 0;
      packet.echoIdent = repr.ident;
      packet.echoSeqNo = repr.seqNo;
      break;
    case "dstUnreachable":
      packet.msgType = Icmpv4Type.DstUnreachable;
      packet.msgCode = repr.code;
      packet.nextHopMtu = repr.nextHopMtu;
      break;
    case "redirect":
      packet.msgType = Icmpv4Type.Redirect;
      packet.msgCode = repr.code;
      packet.gateway = repr.gateway.value;
      break;
    case "timeExceeded":
      packet.msgType = Icmpv4Type.TimeExceeded;
      packet.msgCode = repr.code;
      break;
    case "paramProblem":
      packet.msgType = Icmpv4Type.ParamProblem;
      packet.msgCode = repr.code;
      packet.pointer = repr.pointer;
      break;
    case "other":
      if (repr.data.length < 4) {
        throw new RangeError(
          `ICMPv4 "other" data of ${repr.data.length} bytes lacks the 4 type-specific header bytes`,
        );
      }
      packet.msgType = repr.type;
      packet.msgCode = repr.code;
      break;
  }
  b.set(repr.data, repr.kind === "other" ? FIELD.REST : FIELD.DATA);
  packet.checksum = 0;
  if (opts?.fillChecksum !== false) {
    packet.checksum = checksumFinish(checksumSum(len === b.length ? b : b.subarray(0, len)));
  }
}

/**
 * Bytes needed to emit `repr`.
 *
 * @param repr The message.
 * @returns The message length: the 8-byte header plus `data` (4 plus `data` for `other`).
 *
 * @example
 * ```ts
 * import { icmpv4BufferLen } from "@smol/net/wire";
 * const ping = { kind: "echoRequest", ident: 1, seqNo: 1, data: new Uint8Array(56) } as const;
 * console.log(icmpv4BufferLen(ping)); // 64
 * ```
 */
export function icmpv4BufferLen(repr: Icmpv4Repr): number {
  return (repr.kind === "other" ? FIELD.REST : ICMPV4_HEADER_LEN) + repr.data.length;
}

/**
 * How many bytes of an invoking packet an ICMPv4 error may quote so that the whole error
 * datagram (20-byte IPv4 header without options, 8-byte ICMP header, quote) fits in 576 bytes
 * (RFC 1812 §4.3.2.3) and in the outgoing link's MTU. The interface applies this bound when it
 * builds `dstUnreachable`, `timeExceeded` and `paramProblem` messages.
 *
 * @param invokingLen Length of the invoking IPv4 packet (header and payload).
 * @param mtu The IP MTU of the link the error leaves on (default: no tighter than 576).
 * @returns The number of leading bytes of the invoking packet to quote.
 *
 * @example
 * ```ts
 * import { icmpv4ErrorQuoteLen } from "@smol/net/wire";
 * console.log(icmpv4ErrorQuoteLen(1500)); // 548
 * console.log(icmpv4ErrorQuoteLen(33)); // 33
 * console.log(icmpv4ErrorQuoteLen(1500, 296)); // 268
 * ```
 */
export function icmpv4ErrorQuoteLen(
  invokingLen: number,
  mtu: number = ICMPV4_ERROR_MAX_LEN,
): number {
  const room = Math.min(ICMPV4_ERROR_MAX_LEN, mtu) - IPV4_MIN_HEADER_LEN - ICMPV4_HEADER_LEN;
  return Math.max(0, Math.min(invokingLen, room));
}

/**
 * What a receiver of an ICMPv4 error needs from the invoking packet it quotes to find the
 * connection or socket concerned: the quoted IPv4 header's protocol and addresses, and the
 * upper-layer bytes that follow it (RFC 792: at least 64 bits, so the ports and, for TCP, the
 * sequence number are there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Icmpv4Quote } from "@smol/net/wire";
 * import { Ipv4Address } from "@smol/net/wire";
 * const q: Icmpv4Quote = {
 *   protocol: 17,
 *   src: Ipv4Address.parse("192.0.2.1"),
 *   dst: Ipv4Address.parse("198.51.100.7"),
 *   upper: new Uint8Array(8),
 * };
 * assert.equal(q.upper.length, 8);
 * ```
 */
export interface Icmpv4Quote {
  /** The quoted packet's protocol (see `IpProtocol`). */
  readonly protocol: number;
  /** The quoted packet's source: our address when we sent it. */
  readonly src: Ipv4Address;
  /** The quoted packet's destination. */
  readonly dst: Ipv4Address;
  /** The quoted bytes after the quoted IPv4 header (options skipped), at least 8. */
  readonly upper: Uint8Array;
}

/** RFC 792: an error quotes the invoking header and at least the first 64 bits of its data. */
const QUOTED_DATA_MIN = 8;

/**
 * Reads the invoking packet quoted by an ICMPv4 error (the `data` of a `dstUnreachable`,
 * `redirect`, `timeExceeded` or `paramProblem` repr).
 *
 * @param data The quoted packet.
 * @returns Its protocol, addresses and upper-layer bytes (a subarray).
 * @throws {WireError} When `data` is not an IPv4 header followed by at least 8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIcmpv4Quote } from "@smol/net/wire";
 * const q = new Uint8Array(28);
 * q.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7]);
 * q.set([0x30, 0x39, 0, 53], 20); // UDP ports 12345 -> 53
 * const quote = parseIcmpv4Quote(q);
 * assert.equal(quote.protocol, 17);
 * assert.equal(quote.src.toString(), "192.0.2.1");
 * assert.equal((quote.upper[0]! << 8) | quote.upper[1]!, 12345);
 * ```
 */
export function parseIcmpv4Quote(data: Uint8Array): Icmpv4Quote {
  checkQuote(data);
  const ihl = (data[0]! & 0x0f) * 4;
  if (data.length < ihl + QUOTED_DATA_MIN) {
    throw new WireError(
      "icmpv4.data",
      data.length,
      "quoted packet shorter than its header and 8 bytes of data",
    );
  }
  return {
    protocol: data[9]!,
    src: Ipv4Address.fromBytes(data, 12),
    dst: Ipv4Address.fromBytes(data, 16),
    upper: data.subarray(ihl),
  };
}
