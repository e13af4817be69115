/**
 * DHCPv4 messages (RFC 2131 §2, options of RFC 2132): the {@linkcode Dhcpv4Packet} view over the
 * fixed BOOTP header and the {@linkcode Dhcpv4Repr} representation with the options a client
 * needs as typed fields. Options this module does not name are kept, in order, in
 * {@linkcode Dhcpv4Repr.otherOptions}.
 *
 * Only Ethernet hardware addresses are represented (htype 1, hlen 6). An option that appears
 * several times is concatenated before it is read (RFC 3396 §7); emit splits data longer than
 * 255 bytes the same way. The message is padded to the 300 bytes of a BOOTP message on emit
 * (RFC 1542 §3.1.1).
 *
 * @module
 */

import { Ipv4Address } from "./address.ts";
import { requireLength, WireError } from "./error.ts";
import { EthernetAddress } from "./mac.ts";
import { readU16, readU32, writeU16, writeU32 } from "./_bytes.ts";

const FIELD = {
  OP: 0,
  HTYPE: 1,
  HLEN: 2,
  HOPS: 3,
  XID: 4,
  SECS: 8,
  FLAGS: 10,
  CIADDR: 12,
  YIADDR: 16,
  SIADDR: 20,
  GIADDR: 24,
  CHADDR: 28,
  SNAME: 44,
  FILE: 108,
  MAGIC: 236,
  OPTIONS: 240,
} as const;

const MAGIC_COOKIE = 0x63825363;
const HTYPE_ETHERNET = 1;
const FLAG_BROADCAST = 0x8000;
const OPT_PAD = 0;
const OPT_END = 255;
/** RFC 1542 §3.1.1: a BOOTP message is at least 300 bytes. */
const MIN_MESSAGE_LEN = 300;
/** RFC 2132 §5.1: the smallest MTU an interface MTU option may carry. */
const MIN_MTU = 68;

/**
 * Length of the fixed part of a DHCPv4 message including the magic cookie (RFC 2131 §2).
 *
 * @example
 * ```ts
 * import { DHCPV4_HEADER_LEN } from "@smol/net/wire";
 * console.log(DHCPV4_HEADER_LEN); // 240
 * ```
 */
export const DHCPV4_HEADER_LEN = 240;

/**
 * UDP port of DHCPv4 servers (RFC 2131 §4.1).
 *
 * @example
 * ```ts
 * import { DHCPV4_SERVER_PORT } from "@smol/net/wire";
 * console.log(DHCPV4_SERVER_PORT); // 67
 * ```
 */
export const DHCPV4_SERVER_PORT = 67;

/**
 * UDP port of DHCPv4 clients (RFC 2131 §4.1).
 *
 * @example
 * ```ts
 * import { DHCPV4_CLIENT_PORT } from "@smol/net/wire";
 * console.log(DHCPV4_CLIENT_PORT); // 68
 * ```
 */
export const DHCPV4_CLIENT_PORT = 68;

/**
 * The BOOTP `op` field (RFC 2131 §2).
 *
 * @example
 * ```ts
 * import { Dhcpv4Op } from "@smol/net/wire";
 * console.log(Dhcpv4Op.Reply); // 2
 * ```
 */
export const Dhcpv4Op = { Request: 1, Reply: 2 } as const;

/**
 * A BOOTP `op` value.
 *
 * @example
 * ```ts
 * import { Dhcpv4Op, type Dhcpv4OpValue } from "@smol/net/wire";
 * const op: Dhcpv4OpValue = Dhcpv4Op.Request;
 * console.log(op); // 1
 * ```
 */
export type Dhcpv4OpValue = (typeof Dhcpv4Op)[keyof typeof Dhcpv4Op];

/**
 * DHCP message types (option 53, RFC 2132 §9.6). Other values are kept as plain numbers.
 *
 * @example
 * ```ts
 * import { Dhcpv4MessageType } from "@smol/net/wire";
 * console.log(Dhcpv4MessageType.Ack); // 5
 * ```
 */
export const Dhcpv4MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

/**
 * A DHCP message type: one of {@linkcode Dhcpv4MessageType} or an unknown number.
 *
 * @example
 * ```ts
 * import { Dhcpv4MessageType, type Dhcpv4MessageTypeValue } from "@smol/net/wire";
 * const t: Dhcpv4MessageTypeValue = Dhcpv4MessageType.Offer;
 * console.log(t); // 2
 * ```
 */
export type Dhcpv4MessageTypeValue =
  | (typeof Dhcpv4MessageType)[keyof typeof Dhcpv4MessageType]
  | number;

/**
 * Option codes this module reads into typed fields (RFC 2132).
 *
 * @example
 * ```ts
 * import { Dhcpv4OptionCode } from "@smol/net/wire";
 * console.log(Dhcpv4OptionCode.DnsServers); // 6
 * ```
 */
export const Dhcpv4OptionCode = {
  SubnetMask: 1,
  Router: 3,
  DnsServers: 6,
  DomainName: 15,
  InterfaceMtu: 26,
  RequestedIp: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientIdentifier: 61,
} as const;

const C = Dhcpv4OptionCode;

/**
 * An option kept as bytes: its code and its (concatenated) data.
 *
 * @example
 * ```ts
 * import type { Dhcpv4Option } from "@smol/net/wire";
 * const hostName: Dhcpv4Option = { code: 12, data: new TextEncoder().encode("smol") };
 * console.log(hostName.data.length); // 4
 * ```
 */
export interface Dhcpv4Option {
  /** The option code, 1 to 254. */
  readonly code: number;
  /** The option data (a copy on parse; any length, split into 255-byte pieces on emit). */
  readonly data: Uint8Array;
}

/**
 * A DHCPv4 message as plain data. Addresses that are absent on the wire are
 * `Ipv4Address.UNSPECIFIED` in the fixed fields and `null` in options; lists are empty when the
 * option is absent. Times are in seconds (`0xffffffff` is an infinite lease, RFC 2131 §3.3).
 *
 * @example
 * ```ts
 * import {
 *   Dhcpv4MessageType, type Dhcpv4Repr, dhcpv4ReprDefaults, EthernetAddress,
 * } from "@smol/net/wire";
 * const discover: Dhcpv4Repr = {
 *   ...dhcpv4ReprDefaults(),
 *   messageType: Dhcpv4MessageType.Discover,
 *   transactionId: 0x12345678,
 *   clientHardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 * };
 * console.log(discover.op); // 1
 * ```
 */
export interface Dhcpv4Repr {
  /** `op`: 1 for messages from a client, 2 from a server. */
  readonly op: Dhcpv4OpValue;
  /** Option 53. */
  readonly messageType: Dhcpv4MessageTypeValue;
  /** `xid`, a u32 chosen by the client. */
  readonly transactionId: number;
  /** `secs`: seconds since the client began the exchange. */
  readonly secs: number;
  /** `hops`, set by relay agents. */
  readonly hops: number;
  /** The broadcast bit of `flags`: the client asks for broadcast replies. */
  readonly broadcast: boolean;
  /** `chaddr`. */
  readonly clientHardwareAddress: EthernetAddress;
  /** `ciaddr`: the client's address, in BOUND, RENEWING and REBINDING only. */
  readonly clientIp: Ipv4Address;
  /** `yiaddr`: the address offered or assigned. */
  readonly yourIp: Ipv4Address;
  /** `siaddr`: next server (boot), not the server identifier. */
  readonly serverIp: Ipv4Address;
  /** `giaddr`: relay agent. */
  readonly relayAgentIp: Ipv4Address;
  /** Option 54. */
  readonly serverIdentifier: Ipv4Address | null;
  /** Option 50. */
  readonly requestedIp: Ipv4Address | null;
  /** Option 1. */
  readonly subnetMask: Ipv4Address | null;
  /** Option 3, in order of preference. */
  readonly routers: readonly Ipv4Address[];
  /** Option 6, in order of preference. */
  readonly dnsServers: readonly Ipv4Address[];
  /** Option 15, as ASCII text. */
  readonly domainName: string | null;
  /** Option 26, in bytes (at least 68). */
  readonly interfaceMtu: number | null;
  /** Option 51, in seconds. */
  readonly leaseTime: number | null;
  /** Option 58 (T1), in seconds. */
  readonly renewalTime: number | null;
  /** Option 59 (T2), in seconds. */
  readonly rebindingTime: number | null;
  /** Option 55: the option codes the client asks for. */
  readonly parameterRequestList: readonly number[] | null;
  /** Option 57, in bytes (at least 576). */
  readonly maxMessageSize: number | null;
  /** Option 61: type byte followed by the identifier. */
  readonly clientIdentifier: Uint8Array | null;
  /** Every other option, in the order of first appearance. */
  readonly otherOptions: readonly Dhcpv4Option[];
}

/**
 * A zero-copy view of a DHCPv4 message (the UDP payload).
 *
 * @example
 * ```ts
 * import { Dhcpv4Packet } from "@smol/net/wire";
 * const p = new Dhcpv4Packet(new Uint8Array(300));
 * p.op = 1;
 * p.transactionId = 0xdeadbeef;
 * console.log(p.op, p.transactionId.toString(16)); // 1 deadbeef
 * ```
 */
export class Dhcpv4Packet {
  /** The underlying bytes, starting at `op`. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without any check.
   *
   * @param buffer The bytes, starting at `op`.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks that the fixed header and the magic cookie are present.
   *
   * @param buffer The bytes, starting at `op`.
   * @returns The view.
   * @throws {WireError} When the buffer is truncated or the magic cookie is wrong.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet, WireError } from "@smol/net/wire";
   * try {
   *   Dhcpv4Packet.newChecked(new Uint8Array(100));
   * } catch (e) {
   *   console.log(e instanceof WireError); // true
   * }
   * ```
   */
  static newChecked(buffer: Uint8Array): Dhcpv4Packet {
    const packet = new Dhcpv4Packet(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Validates the length of the fixed header and the magic cookie (RFC 2131 §3).
   *
   * @throws {WireError} When the buffer is truncated or the magic cookie is wrong.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * const p = new Dhcpv4Packet(new Uint8Array(240));
   * p.magicCookie = 0x63825363;
   * p.checkLen(); // does not throw
   * ```
   */
  checkLen(): void {
    requireLength("dhcpv4", this.buffer, DHCPV4_HEADER_LEN);
    const magic = this.magicCookie;
    if (magic !== MAGIC_COOKIE) {
      throw new WireError("dhcpv4.magicCookie", magic, "not the DHCP magic cookie 0x63825363");
    }
  }

  /**
   * The `op` field.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * const p = new Dhcpv4Packet(new Uint8Array(240));
   * p.op = 2;
   * console.log(p.op); // 2
   * ```
   */
  get op(): number {
    return this.buffer[FIELD.OP]!;
  }
  set op(v: number) {
    this.buffer[FIELD.OP] = v;
  }

  /**
   * The `htype` field (1 for Ethernet).
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * console.log(new Dhcpv4Packet(new Uint8Array([0, 1, 6])).hardwareType); // 1
   * ```
   */
  get hardwareType(): number {
    return this.buffer[FIELD.HTYPE]!;
  }

  /**
   * The `hlen` field (6 for Ethernet).
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * console.log(new Dhcpv4Packet(new Uint8Array([0, 1, 6])).hardwareLength); // 6
   * ```
   */
  get hardwareLength(): number {
    return this.buffer[FIELD.HLEN]!;
  }

  /**
   * The `xid` field.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * const p = new Dhcpv4Packet(new Uint8Array(240));
   * p.transactionId = 7;
   * console.log(p.transactionId); // 7
   * ```
   */
  get transactionId(): number {
    return readU32(this.buffer, FIELD.XID);
  }
  set transactionId(v: number) {
    writeU32(this.buffer, FIELD.XID, v);
  }

  /**
   * The magic cookie at offset 236.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * const p = new Dhcpv4Packet(new Uint8Array(240));
   * p.magicCookie = 0x63825363;
   * console.log(p.magicCookie.toString(16)); // 63825363
   * ```
   */
  get magicCookie(): number {
    return readU32(this.buffer, FIELD.MAGIC);
  }
  set magicCookie(v: number) {
    writeU32(this.buffer, FIELD.MAGIC, v);
  }

  /**
   * The options area after the magic cookie: a subarray, never a copy.
   *
   * @example
   * ```ts
   * import { Dhcpv4Packet } from "@smol/net/wire";
   * console.log(new Dhcpv4Packet(new Uint8Array(300)).options.length); // 60
   * ```
   */
  get options(): Uint8Array {
    return this.buffer.subarray(FIELD.OPTIONS);
  }
}

/**
 * A repr with every field empty: op 1, message type 0, zero addresses, no options. Spread it and
 * set what a message needs.
 *
 * @returns A fresh default repr.
 *
 * @example
 * ```ts
 * import { dhcpv4ReprDefaults } from "@smol/net/wire";
 * const r = dhcpv4ReprDefaults();
 * console.log(r.yourIp.toString(), r.routers.length); // 0.0.0.0 0
 * ```
 */
export function dhcpv4ReprDefaults(): Dhcpv4Repr {
  return {
    op: Dhcpv4Op.Request,
    messageType: 0,
    transactionId: 0,
    secs: 0,
    hops: 0,
    broadcast: false,
    clientHardwareAddress: EthernetAddress.ZERO,
    clientIp: Ipv4Address.UNSPECIFIED,
    yourIp: Ipv4Address.UNSPECIFIED,
    serverIp: Ipv4Address.UNSPECIFIED,
    relayAgentIp: Ipv4Address.UNSPECIFIED,
    serverIdentifier: null,
    requestedIp: null,
    subnetMask: null,
    routers: [],
    dnsServers: [],
    domainName: null,
    interfaceMtu: null,
    leaseTime: null,
    renewalTime: null,
    rebindingTime: null,
    parameterRequestList: null,
    maxMessageSize: null,
    clientIdentifier: null,
    otherOptions: [],
  };
}

/** Walks the options area once; returns the data of every code, concatenated (RFC 3396 §7). */
function collectOptions(area: Uint8Array): Map<number, Uint8Array> {
  const found = new Map<number, Uint8Array>();
  let pos = 0;
  while (pos < area.length) {
    const code = area[pos]!;
    if (code === OPT_PAD) {
      pos++;
      continue;
    }
    if (code === OPT_END) return found;
    if (pos + 1 >= area.length) {
      throw new WireError("dhcpv4.option", code, "option length byte past the end of the packet");
    }
    const len = area[pos + 1]!;
    const end = pos + 2 + len;
    if (end > area.length) {
      throw new WireError("dhcpv4.option", code, `option length ${len} overruns the packet`);
    }
    const data = area.subarray(pos + 2, end);
    const prev = found.get(code);
    if (prev === undefined) {
      found.set(code, data);
    } else {
      const joined = new Uint8Array(prev.length + data.length);
      joined.set(prev, 0);
      joined.set(data, prev.length);
      found.set(code, joined);
    }
    pos = end;
  }
  // RFC 2131 §4.1 asks for an end option; a message cut right after its last option is accepted.
  return found;
}

function fixedLen(code: number, data: Uint8Array | undefined, len: number): Uint8Array | null {
  if (data === undefined) return null;
  if (data.length !== len) {
    throw new WireError("dhcpv4.option", code, `length ${data.length}, expected ${len}`);
  }
  return data;
}

function addressOption(found: Map<number, Uint8Array>, code: number): Ipv4Address | null {
  const data = fixedLen(code, found.get(code), 4);
  return data === null ? null : Ipv4Address.fromBytes(data, 0);
}

function addressList(found: Map<number, Uint8Array>, code: number): Ipv4Address[] {
  const data = found.get(code);
  if (data === undefined) return [];
  if (data.length === 0 || data.length % 4 !== 0) {
    throw new WireError("dhcpv4.option", code, `length ${data.length} is not a multiple of 4`);
  }
  const out: Ipv4Address[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(Ipv4Address.fromBytes(data, i));
  return out;
}

function u32Option(found: Map<number, Uint8Array>, code: number): number | null {
  const data = fixedLen(code, found.get(code), 4);
  return data === null ? null : readU32(data, 0);
}

function u16Option(found: Map<number, Uint8Array>, code: number, min: number): number | null {
  const data = fixedLen(code, found.get(code), 2);
  if (data === null) return null;
  const v = readU16(data, 0);
  if (v < min) throw new WireError("dhcpv4.option", code, `value ${v} below the minimum ${min}`);
  return v;
}

function asciiOption(found: Map<number, Uint8Array>, code: number): string | null {
  const data = found.get(code);
  if (data === undefined) return null;
  let s = "";
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    // RFC 2132 §2: NUL termination is not required, but some servers send it.
    if (b === 0 && i === data.length - 1) break;
    if (b < 0x20 || b > 0x7e) {
      throw new WireError("dhcpv4.option", code, `byte ${b} is not printable ASCII`);
    }
    s += String.fromCharCode(b);
  }
  return s;
}

const NAMED_CODES: ReadonlySet<number> = new Set(Object.values(Dhcpv4OptionCode));

/**
 * Parses a DHCPv4 message. The options area is walked to its end option; the `sname` and `file`
 * fields are not read for options (option overload, code 52, is kept as an other option).
 *
 * @param packet The message.
 * @returns The representation.
 * @throws {WireError} When the message is truncated, the cookie, `op` or hardware type is not
 * one this module handles, an option overruns the packet or a named option has a bad length,
 * or option 53 is missing.
 *
 * @example
 * ```ts
 * import {
 *   Dhcpv4MessageType, Dhcpv4Packet, dhcpv4BufferLen, dhcpv4ReprDefaults, emitDhcpv4,
 *   EthernetAddress, parseDhcpv4,
 * } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr = {
 *   ...dhcpv4ReprDefaults(),
 *   messageType: Dhcpv4MessageType.Discover,
 *   transactionId: 42,
 *   clientHardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 * };
 * const packet = new Dhcpv4Packet(new Uint8Array(dhcpv4BufferLen(repr)));
 * emitDhcpv4(repr, packet);
 * assert.deepEqual(parseDhcpv4(packet), repr);
 * ```
 */
export function parseDhcpv4(packet: Dhcpv4Packet): Dhcpv4Repr {
  packet.checkLen();
  const b = packet.buffer;
  const op = b[FIELD.OP]!;
  if (op !== Dhcpv4Op.Request && op !== Dhcpv4Op.Reply) {
    throw new WireError("dhcpv4.op", op, "neither BOOTREQUEST (1) nor BOOTREPLY (2)");
  }
  if (b[FIELD.HTYPE] !== HTYPE_ETHERNET || b[FIELD.HLEN] !== 6) {
    throw new WireError("dhcpv4.htype", b[FIELD.HTYPE]!, "only Ethernet (1, length 6) is handled");
  }
  const found = collectOptions(packet.options);
  const typeData = fixedLen(C.MessageType, found.get(C.MessageType), 1);
  if (typeData === null) {
    throw new WireError("dhcpv4.option", C.MessageType, "message type option missing");
  }
  const prl = found.get(C.ParameterRequestList);
  const cid = found.get(C.ClientIdentifier);
  if (cid !== undefined && cid.length < 2) {
    throw new WireError("dhcpv4.option", C.ClientIdentifier, `length ${cid.length} below 2`);
  }
  const otherOptions: Dhcpv4Option[] = [];
  for (const [code, data] of found) {
    if (!NAMED_CODES.has(code)) otherOptions.push({ code, data: data.slice() });
  }
  return {
    op,
    messageType: typeData[0]!,
    transactionId: readU32(b, FIELD.XID),
    secs: readU16(b, FIELD.SECS),
    hops: b[FIELD.HOPS]!,
    broadcast: (readU16(b, FIELD.FLAGS) & FLAG_BROADCAST) !== 0,
    clientHardwareAddress: EthernetAddress.fromBytes(b, FIELD.CHADDR),
    clientIp: Ipv4Address.fromBytes(b, FIELD.CIADDR),
    yourIp: Ipv4Address.fromBytes(b, FIELD.YIADDR),
    serverIp: Ipv4Address.fromBytes(b, FIELD.SIADDR),
    relayAgentIp: Ipv4Address.fromBytes(b, FIELD.GIADDR),
    serverIdentifier: addressOption(found, C.ServerIdentifier),
    requestedIp: addressOption(found, C.RequestedIp),
    subnetMask: addressOption(found, C.SubnetMask),
    routers: addressList(found, C.Router),
    dnsServers: addressList(found, C.DnsServers),
    domainName: asciiOption(found, C.DomainName),
    interfaceMtu: u16Option(found, C.InterfaceMtu, MIN_MTU),
    leaseTime: u32Option(found, C.LeaseTime),
    renewalTime: u32Option(found, C.RenewalTime),
    rebindingTime: u32Option(found, C.RebindingTime),
    parameterRequestList: prl === undefined ? null : Array.from(prl),
    maxMessageSize: u16Option(found, C.MaxMessageSize, 576),
    clientIdentifier: cid === undefined ? null : cid.slice(),
    otherOptions,
  };
}

/** Calls `put(code, data)` for every option of `repr`, in emit order. */
function eachOption(repr: Dhcpv4Repr, put: (code: number, data: Uint8Array) => void): void {
  const addr = (a: Ipv4Address): Uint8Array => a.octets();
  const list = (l: readonly Ipv4Address[]): Uint8Array => {
    const out = new Uint8Array(l.length * 4);
    l.forEach((a, i) => a.writeTo(out, i * 4));
    return out;
  };
  const u32 = (v: number): Uint8Array => {
    const out = new Uint8Array(4);
    writeU32(out, 0, v);
    return out;
  };
  const u16 = (v: number): Uint8Array => {
    const out = new Uint8Array(2);
    writeU16(out, 0, v);
    return out;
  };
  put(C.MessageType, Uint8Array.of(repr.messageType));
  if (repr.clientIdentifier !== null) put(C.ClientIdentifier, repr.clientIdentifier);
  if (repr.requestedIp !== null) put(C.RequestedIp, addr(repr.requestedIp));
  if (repr.serverIdentifier !== null) put(C.ServerIdentifier, addr(repr.serverIdentifier));
  if (repr.maxMessageSize !== null) put(C.MaxMessageSize, u16(repr.maxMessageSize));
  if (repr.parameterRequestList !== null) {
    put(C.ParameterRequestList, Uint8Array.from(repr.parameterRequestList));
  }
  if (repr.leaseTime !== null) put(C.LeaseTime, u32(repr.leaseTime));
  if (repr.renewalTime !== null) put(C.RenewalTime, u32(repr.renewalTime));
  if (repr.rebindingTime !== null) put(C.RebindingTime, u32(repr.rebindingTime));
  if (repr.subnetMask !== null) put(C.SubnetMask, addr(repr.subnetMask));
  if (repr.routers.length > 0) put(C.Router, list(repr.routers));
  if (repr.dnsServers.length > 0) put(C.DnsServers, list(repr.dnsServers));
  if (repr.domainName !== null) {
    put(C.DomainName, Uint8Array.from(repr.domainName, (ch) => ch.charCodeAt(0)));
  }
  if (repr.interfaceMtu !== null) put(C.InterfaceMtu, u16(repr.interfaceMtu));
  for (const o of repr.otherOptions) put(o.code, o.data);
}

/** Bytes an option takes with RFC 3396 splitting: 2 bytes of header per 255 bytes of data. */
function optionLen(len: number): number {
  return len + 2 * Math.max(1, Math.ceil(len / 255));
}

/**
 * The number of bytes {@linkcode emitDhcpv4} writes for `repr`: header, options, the end option,
 * padded to 300 bytes.
 *
 * @param repr The message.
 * @returns The buffer length.
 *
 * @example
 * ```ts
 * import { dhcpv4BufferLen, dhcpv4ReprDefaults } from "@smol/net/wire";
 * console.log(dhcpv4BufferLen(dhcpv4ReprDefaults())); // 300
 * ```
 */
export function dhcpv4BufferLen(repr: Dhcpv4Repr): number {
  let len = DHCPV4_HEADER_LEN + 1;
  eachOption(repr, (_code, data) => len += optionLen(data.length));
  return Math.max(len, MIN_MESSAGE_LEN);
}

/**
 * Writes `repr` into `packet`, whose buffer the caller sized with {@linkcode dhcpv4BufferLen}.
 * Bytes after the end option are zeroed.
 *
 * @param repr The message.
 * @param packet The view to fill.
 * @throws {RangeError} When an option code is not 1 to 254, a text field is not printable ASCII,
 * or the buffer is too short.
 *
 * @example
 * ```ts
 * import {
 *   Dhcpv4MessageType, Dhcpv4Packet, dhcpv4BufferLen, dhcpv4ReprDefaults, emitDhcpv4,
 * } from "@smol/net/wire";
 * const repr = { ...dhcpv4ReprDefaults(), messageType: Dhcpv4MessageType.Discover };
 * const packet = new Dhcpv4Packet(new Uint8Array(dhcpv4BufferLen(repr)));
 * emitDhcpv4(repr, packet);
 * console.log(packet.options[0], packet.options[1], packet.options[2]); // 53 1 1
 * ```
 */
export function emitDhcpv4(repr: Dhcpv4Repr, packet: Dhcpv4Packet): void {
  const b = packet.buffer;
  const need = dhcpv4BufferLen(repr);
  if (b.length < need) {
    throw new RangeError(`Invalid DHCPv4 buffer length ${b.length}: need ${need} bytes`);
  }
  if (repr.domainName !== null && !/^[\x20-\x7e]*$/.test(repr.domainName)) {
    throw new RangeError(`Invalid domain name "${repr.domainName}": not printable ASCII`);
  }
  b.fill(0);
  b[FIELD.OP] = repr.op;
  b[FIELD.HTYPE] = HTYPE_ETHERNET;
  b[FIELD.HLEN] = 6;
  b[FIELD.HOPS] = repr.hops;
  writeU32(b, FIELD.XID, repr.transactionId);
  writeU16(b, FIELD.SECS, repr.secs);
  writeU16(b, FIELD.FLAGS, repr.broadcast ? FLAG_BROADCAST : 0);
  repr.clientIp.writeTo(b, FIELD.CIADDR);
  repr.yourIp.writeTo(b, FIELD.YIADDR);
  repr.serverIp.writeTo(b, FIELD.SIADDR);
  repr.relayAgentIp.writeTo(b, FIELD.GIADDR);
  repr.clientHardwareAddress.writeTo(b, FIELD.CHADDR);
  writeU32(b, FIELD.MAGIC, MAGIC_COOKIE);
  let pos: number = FIELD.OPTIONS;
  eachOption(repr, (code, data) => {
    if (!Number.isInteger(code) || code < 1 || code > 254) {
      throw new RangeError(`Invalid DHCPv4 option code ${code}: must be 1 to 254`);
    }
    let off = 0;
    do {
      const chunk = Math.min(255, data.length - off);
      b[pos] = code;
      b[pos + 1] = chunk;
      b.set(data.subarray(off, off + chunk), pos + 2);
      pos += 2 + chunk;
      off += chunk;
    } while (off < data.length);
  });
  b[pos] = OPT_END;
}
