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

import { requireLength, WireError } from "./error.ts";
import { readU16, writeU16 } from "./_bytes.ts";
import { encodeName, need, readName, writeName } from "./_dns_name.ts";
import {
  checkUint,
  type DnsRecord,
  rdataLen,
  readRecords,
  RECORD_FIXED_LEN,
  writeRecord,
} from "./_dns_record.ts";

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

/** Question: QTYPE and QCLASS after the name. */
const QUESTION_FIXED_LEN = 4;
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

export { DNS_MAX_LABEL_LEN, DNS_MAX_NAME_LEN, dnsNameEquals } from "./_dns_name.ts";
export { DnsClass, DnsType } from "./_dns_record.ts";
export type { DnsRdata, DnsRecord, DnsTypeValue } from "./_dns_record.ts";
