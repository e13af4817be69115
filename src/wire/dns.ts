/**
 * DNS messages (RFC 1035 §4): the {@linkcode DnsPacket} header view and the
 * {@linkcode DnsRepr} representation of a whole message (header, questions and resource
 * records), with name decompression on parse (RFC 1035 §4.1.4) and plain, uncompressed
 * names on emit.
 *
 * Names are text in master-file form without the trailing dot (`www.example.com`; the root is
 * `""`): bytes outside `!`–`~`, and `.` and `\` inside a label, are escaped as `\DDD`, `\.` and
 * `\\` (RFC 1035 §5.1), so every wire name survives a parse/emit round trip. Case is kept.
 *
 * A, AAAA (class IN) and CNAME records are parsed into data; every other type keeps its rdata
 * as raw bytes with its type number. Names inside raw rdata (NS, PTR, MX, SOA, ...) are not
 * decompressed, so their pointers still refer to the original message.
 *
 * @module
 */

import { Ipv4Address, Ipv6Address } from "./address.ts";
import { requireLength, WireError } from "./error.ts";
import { readU16, readU32, writeU16 } from "./_bytes.ts";
import { encodeName, need, readName, writeName } from "./_dns_name.ts";

const FIELD = { ID: 0, FLAGS: 2, QDCOUNT: 4, ANCOUNT: 6, NSCOUNT: 8, ARCOUNT: 10 } as const;

const FLAG = {
  QR: 0x8000,
  OPCODE_SHIFT: 11,
  OPCODE_MASK: 0xf,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  RCODE_MASK: 0xf,
} as const;

/** Question: QTYPE and QCLASS after the name. RR: TYPE, CLASS, TTL, RDLENGTH after the name. */
const QUESTION_FIXED_LEN = 4;
const RECORD_FIXED_LEN = 10;
/** A name takes at least one byte (the root). */
const MIN_NAME_LEN = 1;

/**
 * Length of the DNS header in bytes (RFC 1035 §4.1.1).
 *
 * @example
 * ```ts
 * import { DNS_HEADER_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DNS_HEADER_LEN, 12);
 * ```
 */
export const DNS_HEADER_LEN = 12;

/**
 * Record types this module names (RFC 1035 §3.2.2, RFC 3596, RFC 6891). Other values are kept
 * as plain numbers.
 *
 * @example
 * ```ts
 * import { DnsType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DnsType.AAAA, 28);
 * ```
 */
export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;
/**
 * A record type number (a {@linkcode DnsType} value or any other 16-bit number).
 *
 * @example
 * ```ts
 * import { DnsType, type DnsTypeValue } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const t: DnsTypeValue = DnsType.A;
 * const privateUse: DnsTypeValue = 65280; // types without a name stay plain numbers
 * assert.equal(t, 1);
 * assert.equal(privateUse, 0xff00);
 * ```
 */
export type DnsTypeValue = (typeof DnsType)[keyof typeof DnsType] | number;

/**
 * Record classes (RFC 1035 §3.2.4).
 *
 * @example
 * ```ts
 * import { DnsClass } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DnsClass.IN, 1);
 * ```
 */
export const DnsClass = { IN: 1, CH: 3, HS: 4, ANY: 255 } as const;

/**
 * Opcodes (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
 *
 * @example
 * ```ts
 * import { DnsOpcode } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DnsOpcode.Query, 0);
 * ```
 */
export const DnsOpcode = { Query: 0, IQuery: 1, Status: 2, Notify: 4, Update: 5 } as const;

/**
 * Response codes (RFC 1035 §4.1.1).
 *
 * @example
 * ```ts
 * import { DnsRcode } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DnsRcode.NXDomain, 3);
 * ```
 */
export const DnsRcode = {
  NoError: 0,
  FormErr: 1,
  ServFail: 2,
  NXDomain: 3,
  NotImp: 4,
  Refused: 5,
} as const;

/**
 * A zero-copy view of a DNS message header over a byte buffer (the UDP payload, or a TCP
 * message without its 2-byte length prefix).
 *
 * @example
 * ```ts
 * import { DnsPacket } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
 * const dns = DnsPacket.newChecked(bytes);
 * assert.equal(dns.id, 4660);
 * assert.equal(dns.rd, true);
 * assert.equal(dns.questionCount, 1);
 * ```
 */
export class DnsPacket {
  /** The underlying bytes, starting at the DNS header. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without any check; call {@linkcode DnsPacket.checkLen} before reading
   * untrusted bytes, or use {@linkcode DnsPacket.newChecked}.
   *
   * @param buffer The bytes, starting at the DNS header.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and validates that the header fits.
   *
   * @param buffer The bytes, starting at the DNS header.
   * @returns The view.
   * @throws {WireError} When the buffer is shorter than 12 bytes.
   *
   * @example
   * ```ts
   * import { DnsPacket, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => DnsPacket.newChecked(new Uint8Array(11)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): DnsPacket {
    const packet = new DnsPacket(buffer);
    packet.checkLen();
    return packet;
  }

  /**
   * Validates that the 12-byte header fits. The sections are checked by {@linkcode parseDns}.
   *
   * @throws {WireError} When the buffer is truncated.
   *
   * @example
   * ```ts
   * import { DnsPacket, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * new DnsPacket(new Uint8Array(12)).checkLen(); // a bare header is enough
   * assert.throws(() => new DnsPacket(new Uint8Array(11)).checkLen(), WireError);
   * ```
   */
  checkLen(): void {
    requireLength("dns", this.buffer, DNS_HEADER_LEN);
  }

  /**
   * The message id that matches a response to its query.
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new DnsPacket(new Uint8Array(12));
   * p.id = 0xbeef;
   * assert.equal(p.id, 48879);
   * ```
   */
  get id(): number {
    return readU16(this.buffer, FIELD.ID);
  }
  set id(v: number) {
    writeU16(this.buffer, FIELD.ID, v);
  }

  /**
   * The 16-bit flags word (QR, opcode, AA, TC, RD, RA, Z/AD/CD, rcode).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new DnsPacket(new Uint8Array(12));
   * p.flags = 0x8180;
   * assert.equal(p.qr, true);
   * assert.equal(p.rd, true);
   * assert.equal(p.ra, true);
   * ```
   */
  get flags(): number {
    return readU16(this.buffer, FIELD.FLAGS);
  }
  set flags(v: number) {
    writeU16(this.buffer, FIELD.FLAGS, v);
  }

  /**
   * Whether the message is a response (QR).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).qr, false);
   * ```
   */
  get qr(): boolean {
    return (this.flags & FLAG.QR) !== 0;
  }

  /**
   * The opcode (0 for a standard query).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).opcode, 0);
   * ```
   */
  get opcode(): number {
    return (this.flags >>> FLAG.OPCODE_SHIFT) & FLAG.OPCODE_MASK;
  }

  /**
   * Whether the answer is authoritative (AA).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).aa, false);
   * ```
   */
  get aa(): boolean {
    return (this.flags & FLAG.AA) !== 0;
  }

  /**
   * Whether the message was truncated to fit (TC).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).tc, false);
   * ```
   */
  get tc(): boolean {
    return (this.flags & FLAG.TC) !== 0;
  }

  /**
   * Whether recursion is desired (RD).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).rd, false);
   * ```
   */
  get rd(): boolean {
    return (this.flags & FLAG.RD) !== 0;
  }

  /**
   * Whether recursion is available (RA).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).ra, false);
   * ```
   */
  get ra(): boolean {
    return (this.flags & FLAG.RA) !== 0;
  }

  /**
   * The response code (low 4 bits; see {@linkcode DnsRcode}).
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new DnsPacket(new Uint8Array(12));
   * p.flags = 0x8183;
   * assert.equal(p.rcode, 3);
   * ```
   */
  get rcode(): number {
    return this.flags & FLAG.RCODE_MASK;
  }

  /**
   * QDCOUNT: entries in the question section.
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).questionCount, 0);
   * ```
   */
  get questionCount(): number {
    return readU16(this.buffer, FIELD.QDCOUNT);
  }
  set questionCount(v: number) {
    writeU16(this.buffer, FIELD.QDCOUNT, v);
  }

  /**
   * ANCOUNT: records in the answer section.
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).answerCount, 0);
   * ```
   */
  get answerCount(): number {
    return readU16(this.buffer, FIELD.ANCOUNT);
  }
  set answerCount(v: number) {
    writeU16(this.buffer, FIELD.ANCOUNT, v);
  }

  /**
   * NSCOUNT: records in the authority section.
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).authorityCount, 0);
   * ```
   */
  get authorityCount(): number {
    return readU16(this.buffer, FIELD.NSCOUNT);
  }
  set authorityCount(v: number) {
    writeU16(this.buffer, FIELD.NSCOUNT, v);
  }

  /**
   * ARCOUNT: records in the additional section.
   *
   * @example
   * ```ts
   * import { DnsPacket } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new DnsPacket(new Uint8Array(12)).additionalCount, 0);
   * ```
   */
  get additionalCount(): number {
    return readU16(this.buffer, FIELD.ARCOUNT);
  }
  set additionalCount(v: number) {
    writeU16(this.buffer, FIELD.ARCOUNT, v);
  }
}

/**
 * One entry of the question section.
 *
 * @example
 * ```ts
 * import { DnsClass, dnsBufferLen, type DnsQuestion, DnsType } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const q: DnsQuestion = { name: "example.com", type: DnsType.A, class: DnsClass.IN };
 * const query = {
 *   id: 1, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
 *   questions: [q], answers: [], authorities: [], additionals: [],
 * };
 * // Header, then the name as 7 "example" 3 "com" 0, then type and class.
 * assert.equal(dnsBufferLen(query), 12 + 13 + 4);
 * ```
 */
export interface DnsQuestion {
  /** The name, master-file text without the trailing dot. */
  readonly name: string;
  /** QTYPE (see {@linkcode DnsType}). */
  readonly type: number;
  /** QCLASS (see {@linkcode DnsClass}). */
  readonly class: number;
}

/**
 * Record data: parsed for A and AAAA (class IN) and CNAME, raw bytes otherwise.
 *
 * @example
 * ```ts
 * import { Ipv4Address, type DnsRdata } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a: DnsRdata = { kind: "a", address: Ipv4Address.parse("192.0.2.1") };
 * const txt: DnsRdata = { kind: "raw", bytes: new Uint8Array([2, 0x68, 0x69]) };
 * function describe(d: DnsRdata): string {
 *   if (d.kind === "a" || d.kind === "aaaa") return d.address.toString();
 *   return d.kind === "cname" ? d.name : `${d.bytes.length} raw bytes`;
 * }
 * assert.equal(describe(a), "192.0.2.1");
 * assert.equal(describe(txt), "3 raw bytes");
 * ```
 */
export type DnsRdata =
  | { readonly kind: "a"; readonly address: Ipv4Address }
  | { readonly kind: "aaaa"; readonly address: Ipv6Address }
  | { readonly kind: "cname"; readonly name: string }
  | { readonly kind: "raw"; readonly bytes: Uint8Array };

/**
 * One resource record (RFC 1035 §4.1.3). The data kind matches the type: `a` with type 1 and
 * class IN, `aaaa` with type 28 and class IN, `cname` with type 5, `raw` for the rest.
 *
 * @example
 * ```ts
 * import { DnsClass, DnsPacket, type DnsRecord, DnsType, Ipv6Address } from "@smol/net/wire";
 * import { dnsBufferLen, emitDns, parseDns } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const rr: DnsRecord = {
 *   name: "example.com",
 *   type: DnsType.AAAA,
 *   class: DnsClass.IN,
 *   ttl: 300,
 *   data: { kind: "aaaa", address: Ipv6Address.parse("2001:db8::1") },
 * };
 * const response = {
 *   id: 1, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, rcode: 0,
 *   questions: [], answers: [rr], authorities: [], additionals: [],
 * };
 * const packet = new DnsPacket(new Uint8Array(dnsBufferLen(response)));
 * emitDns(response, packet);
 * assert.deepEqual(parseDns(packet).answers, [rr]);
 * ```
 */
export interface DnsRecord {
  /** The owner name, master-file text without the trailing dot. */
  readonly name: string;
  /** TYPE (see {@linkcode DnsType}). */
  readonly type: number;
  /** CLASS (see {@linkcode DnsClass}); for OPT the UDP payload size. */
  readonly class: number;
  /** TTL in seconds, as the unsigned 32-bit field (for OPT: extended rcode and flags). */
  readonly ttl: number;
  /** The data. */
  readonly data: DnsRdata;
}

/**
 * A whole DNS message as plain data. The Z, AD and CD flag bits are not represented: parse
 * ignores them and emit writes them as 0.
 *
 * @example
 * ```ts
 * import { DnsClass, DnsPacket, type DnsRepr, DnsType } from "@smol/net/wire";
 * import { dnsBufferLen, emitDns, parseDns } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const query: DnsRepr = {
 *   id: 0x1234, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
 *   questions: [{ name: "example.com", type: DnsType.A, class: DnsClass.IN }],
 *   answers: [], authorities: [], additionals: [],
 * };
 * const packet = new DnsPacket(new Uint8Array(dnsBufferLen(query)));
 * emitDns(query, packet);
 * assert.deepEqual(parseDns(packet), query);
 * ```
 */
export interface DnsRepr {
  /** Message id, 0–65535. */
  readonly id: number;
  /** Response (true) or query (false). */
  readonly qr: boolean;
  /** Opcode, 0–15 (see {@linkcode DnsOpcode}). */
  readonly opcode: number;
  /** Authoritative answer. */
  readonly aa: boolean;
  /** Truncated. */
  readonly tc: boolean;
  /** Recursion desired. */
  readonly rd: boolean;
  /** Recursion available. */
  readonly ra: boolean;
  /** Response code, 0–15 (see {@linkcode DnsRcode}). */
  readonly rcode: number;
  /** The question section. */
  readonly questions: readonly DnsQuestion[];
  /** The answer section. */
  readonly answers: readonly DnsRecord[];
  /** The authority section. */
  readonly authorities: readonly DnsRecord[];
  /** The additional section. */
  readonly additionals: readonly DnsRecord[];
}

/**
 * Validates a message and returns it as data, decompressing names (RFC 1035 §4.1.4).
 * Compression pointers must point before themselves and at most 64 are followed per name.
 * Bytes after the last record are ignored.
 *
 * @param packet The message view.
 * @returns The message.
 * @throws {WireError} On truncation, counts that cannot fit the buffer, a reserved label type
 * (a length byte of 0x40–0xbf), a name longer than 255 bytes, a pointer out of range or not
 * pointing backwards, too many pointers, or A/AAAA rdata of the wrong length.
 *
 * @example
 * ```ts
 * import { DnsPacket, parseDns } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([
 *   0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
 *   7, ...new TextEncoder().encode("example"), 3, ...new TextEncoder().encode("com"), 0,
 *   0, 1, 0, 1,
 * ]);
 * const repr = parseDns(new DnsPacket(bytes));
 * assert.equal(repr.id, 4660);
 * assert.deepEqual(repr.questions, [{ name: "example.com", type: 1, class: 1 }]);
 * ```
 */
export function parseDns(packet: DnsPacket): DnsRepr {
  packet.checkLen();
  const b = packet.buffer;
  const qd = packet.questionCount;
  const an = packet.answerCount;
  const ns = packet.authorityCount;
  const ar = packet.additionalCount;
  // Reject impossible counts before allocating anything for them.
  const room = b.length - DNS_HEADER_LEN;
  if (qd * (MIN_NAME_LEN + QUESTION_FIXED_LEN) > room) {
    throw new WireError("dns.qdcount", qd, `too many questions for ${b.length} bytes`);
  }
  const rrMin = MIN_NAME_LEN + RECORD_FIXED_LEN;
  if (qd * (MIN_NAME_LEN + QUESTION_FIXED_LEN) + (an + ns + ar) * rrMin > room) {
    throw new WireError("dns.ancount", an + ns + ar, `too many records for ${b.length} bytes`);
  }
  const flags = packet.flags;
  const reader = { pos: DNS_HEADER_LEN };
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(b, reader);
    need(b, reader.pos, QUESTION_FIXED_LEN, "dns.question");
    questions.push({ name, type: readU16(b, reader.pos), class: readU16(b, reader.pos + 2) });
    reader.pos += QUESTION_FIXED_LEN;
  }
  const answers = readRecords(b, reader, an);
  const authorities = readRecords(b, reader, ns);
  const additionals = readRecords(b, reader, ar);
  return {
    id: packet.id,
    qr: (flags & FLAG.QR) !== 0,
    opcode: (flags >>> FLAG.OPCODE_SHIFT) & FLAG.OPCODE_MASK,
    aa: (flags & FLAG.AA) !== 0,
    tc: (flags & FLAG.TC) !== 0,
    rd: (flags & FLAG.RD) !== 0,
    ra: (flags & FLAG.RA) !== 0,
    rcode: flags & FLAG.RCODE_MASK,
    questions,
    answers,
    authorities,
    additionals,
  };
}

/**
 * Writes `repr` into `packet`, sized with {@linkcode dnsBufferLen}. Names are written without
 * compression.
 *
 * @param repr The message.
 * @param packet The view to write into.
 * @throws {RangeError} When a name is malformed (empty label, label over 63 bytes, name over
 * 255 bytes, bad escape), a field is out of range, the data kind does not match the type, or
 * the buffer is too short.
 *
 * @example
 * ```ts
 * import { DnsPacket, dnsBufferLen, emitDns, parseDns, type DnsRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const repr: DnsRepr = {
 *   id: 7, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
 *   questions: [{ name: "example.com", type: 28, class: 1 }],
 *   answers: [], authorities: [], additionals: [],
 * };
 * const packet = new DnsPacket(new Uint8Array(dnsBufferLen(repr)));
 * emitDns(repr, packet);
 * assert.equal(packet.buffer.length, 29);
 * assert.equal(parseDns(packet).questions[0]!.name, "example.com");
 * ```
 */
export function emitDns(repr: DnsRepr, packet: DnsPacket): void {
  const len = dnsBufferLen(repr);
  const b = packet.buffer;
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes cannot hold ${len} bytes`);
  }
  checkUint("id", repr.id, 0xffff);
  checkUint("opcode", repr.opcode, 0xf);
  checkUint("rcode", repr.rcode, 0xf);
  packet.id = repr.id;
  packet.flags = (repr.qr ? FLAG.QR : 0) | (repr.opcode << FLAG.OPCODE_SHIFT) |
    (repr.aa ? FLAG.AA : 0) | (repr.tc ? FLAG.TC : 0) | (repr.rd ? FLAG.RD : 0) |
    (repr.ra ? FLAG.RA : 0) | repr.rcode;
  packet.questionCount = repr.questions.length;
  packet.answerCount = repr.answers.length;
  packet.authorityCount = repr.authorities.length;
  packet.additionalCount = repr.additionals.length;
  let pos = DNS_HEADER_LEN;
  for (const q of repr.questions) {
    pos = writeName(b, pos, q.name);
    checkUint("question type", q.type, 0xffff);
    checkUint("question class", q.class, 0xffff);
    writeU16(b, pos, q.type);
    writeU16(b, pos + 2, q.class);
    pos += QUESTION_FIXED_LEN;
  }
  for (const section of [repr.answers, repr.authorities, repr.additionals]) {
    for (const rr of section) pos = writeRecord(b, pos, rr);
  }
}

/**
 * Bytes needed to emit `repr` (names uncompressed).
 *
 * @param repr The message.
 * @returns The message length in bytes.
 * @throws {RangeError} When a name is malformed, a section has more than 65535 entries, or
 * rdata is longer than 65535 bytes.
 *
 * @example
 * ```ts
 * import { dnsBufferLen } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const len = dnsBufferLen({
 *   id: 1, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
 *   questions: [{ name: "example.com", type: 1, class: 1 }],
 *   answers: [], authorities: [], additionals: [],
 * });
 * assert.equal(len, 29);
 * ```
 */
export function dnsBufferLen(repr: DnsRepr): number {
  let len = DNS_HEADER_LEN;
  for (
    const [what, section] of [["questions", repr.questions], ["answers", repr.answers], [
      "authorities",
      repr.authorities,
    ], ["additionals", repr.additionals]] as const
  ) {
    if (section.length > 0xffff) {
      throw new RangeError(`Too many ${what} (${section.length}): at most 65535`);
    }
  }
  for (const q of repr.questions) len += encodeName(q.name).length + QUESTION_FIXED_LEN;
  for (const section of [repr.answers, repr.authorities, repr.additionals]) {
    for (const rr of section) {
      len += encodeName(rr.name).length + RECORD_FIXED_LEN + rdataLen(rr.data);
    }
  }
  return len;
}

// ---------------------------------------------------------------------------------------------
// Parse helpers

function readRecords(b: Uint8Array, r: { pos: number }, count: number): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = readName(b, r);
    need(b, r.pos, RECORD_FIXED_LEN, "dns.record");
    const p = r.pos;
    const type = readU16(b, p);
    const cls = readU16(b, p + 2);
    const ttl = readU32(b, p + 4);
    const rdlen = readU16(b, p + 8);
    const start = p + RECORD_FIXED_LEN;
    need(b, start, rdlen, "dns.rdlength");
    const end = start + rdlen;
    let data: DnsRdata;
    if (type === DnsType.A && cls === DnsClass.IN) {
      if (rdlen !== 4) throw new WireError("dns.rdlength", rdlen, "A record data is not 4 bytes");
      data = { kind: "a", address: Ipv4Address.fromBytes(b, start) };
    } else if (type === DnsType.AAAA && cls === DnsClass.IN) {
      if (rdlen !== 16) {
        throw new WireError("dns.rdlength", rdlen, "AAAA record data is not 16 bytes");
      }
      data = { kind: "aaaa", address: Ipv6Address.fromBytes(b, start) };
    } else if (type === DnsType.CNAME) {
      // The name must lie within the rdata; pointers may reach earlier parts of the message.
      const sub = { pos: start };
      const target = readName(b.subarray(0, end), sub);
      if (sub.pos !== end) {
        throw new WireError("dns.rdlength", rdlen, "CNAME data longer than its name");
      }
      data = { kind: "cname", name: target };
    } else {
      data = { kind: "raw", bytes: b.subarray(start, end) };
    }
    out.push({ name, type, class: cls, ttl, data });
    r.pos = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Emit helpers

function checkUint(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Invalid DNS ${what} ${v}: must be an integer from 0 to ${max}`);
  }
}

function rdataLen(data: DnsRdata): number {
  switch (data.kind) {
    case "a":
      return 4;
    case "aaaa":
      return 16;
    case "cname":
      return encodeName(data.name).length;
    case "raw":
      if (data.bytes.length > 0xffff) {
        throw new RangeError(`Record data of ${data.bytes.length} bytes exceeds 65535`);
      }
      return data.bytes.length;
  }
}

function writeRecord(b: Uint8Array, pos: number, rr: DnsRecord): number {
  checkUint("record type", rr.type, 0xffff);
  checkUint("record class", rr.class, 0xffff);
  checkUint("record TTL", rr.ttl, 0xffffffff);
  const d = rr.data;
  const expected = d.kind === "a"
    ? DnsType.A
    : d.kind === "aaaa"
    ? DnsType.AAAA
    : d.kind === "cname"
    ? DnsType.CNAME
    : null;
  const classOk = d.kind === "cname" || d.kind === "raw" || rr.class === DnsClass.IN;
  if (
    (expected !== null && (rr.type !== expected || !classOk)) ||
    (expected === null && (rr.type === DnsType.CNAME ||
      (rr.class === DnsClass.IN && (rr.type === DnsType.A || rr.type === DnsType.AAAA))))
  ) {
    throw new RangeError(
      `Invalid DNS record: data kind "${d.kind}" does not match type ${rr.type} class ${rr.class}`,
    );
  }
  pos = writeName(b, pos, rr.name);
  writeU16(b, pos, rr.type);
  writeU16(b, pos + 2, rr.class);
  b[pos + 4] = rr.ttl >>> 24;
  b[pos + 5] = rr.ttl >>> 16;
  b[pos + 6] = rr.ttl >>> 8;
  b[pos + 7] = rr.ttl;
  const start = pos + RECORD_FIXED_LEN;
  let len: number;
  switch (d.kind) {
    case "a":
      d.address.writeTo(b, start);
      len = 4;
      break;
    case "aaaa":
      d.address.writeTo(b, start);
      len = 16;
      break;
    case "cname": {
      len = writeName(b, start, d.name) - start;
      break;
    }
    case "raw":
      b.set(d.bytes, start);
      len = d.bytes.length;
      break;
  }
  writeU16(b, pos + 8, len);
  return start + len;
}

export { DNS_MAX_LABEL_LEN, DNS_MAX_NAME_LEN, dnsNameEquals } from "./_dns_name.ts";
