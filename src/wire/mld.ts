/**
 * Multicast Listener Discovery: MLDv1 query, report and done (RFC 2710) and MLDv2 query and
 * report with multicast address records (RFC 3810).
 *
 * These messages are ICMPv6 messages: {@linkcode parseMld} and {@linkcode emitMld} work on an
 * {@linkcode Icmpv6Packet} and are normally reached through `parseIcmpv6` / `emitIcmpv6`, which
 * verify and fill the checksum.
 *
 * A query of exactly 24 bytes is MLDv1, one of 28 bytes or more is MLDv2, anything between is
 * invalid (RFC 3810 §8.1). Codes are ignored on receipt and sent as 0 (RFC 2710 §3.2); bytes past
 * the described fields ("additional data", RFC 3810 §5.1.12, §5.2.11) are ignored, and so is the
 * auxiliary data of address records (§5.2.10). What parsing cannot see belongs to the interface:
 * a link-local IPv6 source, hop limit 1 and the router alert option (RFC 3810 §5.1.14, §5.2.13,
 * §7.4).
 *
 * @module
 */

import { Ipv6Address } from "./address.ts";
import { requireLength, WireError } from "./error.ts";
import type { Icmpv6Packet } from "./icmpv6.ts";

/** Offsets inside the ICMPv6 message. */
const FIELD = {
  TYPE: 0,
  CODE: 1,
  /** Queries and MLDv1 messages. */
  MAX_RESPONSE: 4,
  RESERVED: 6,
  GROUP: 8,
  /** MLDv2 query: S flag and QRV. */
  QUERY_FLAGS: 24,
  QQIC: 25,
  QUERY_NUM_SOURCES: 26,
  QUERY_SOURCES: 28,
  /** MLDv2 report. */
  REPORT_RESERVED: 4,
  REPORT_NUM_RECORDS: 6,
  REPORT_RECORDS: 8,
} as const;

/** Offsets inside an MLDv2 multicast address record. */
const RECORD = {
  TYPE: 0,
  AUX_LEN: 1,
  NUM_SOURCES: 2,
  GROUP: 4,
  SOURCES: 20,
} as const;

/** The ICMPv6 types of this file (the {@linkcode Icmpv6Type} values). */
const TYPE = { QUERY: 130, REPORT: 131, DONE: 132, REPORT_V2: 143 } as const;

const MLDV1_LEN = 24;
const ADDR_LEN = 16;
const QUERY_FLAG_SUPPRESS = 0x08;
const QUERY_QRV_MASK = 0x07;

/**
 * MLDv2 multicast address record types (RFC 3810 §5.2.12).
 *
 * @example
 * ```ts
 * import { MldRecordType } from "@smol/net/wire";
 * console.log(MldRecordType.ChangeToExclude); // 4
 * ```
 */
export const MldRecordType = {
  /** Current state: INCLUDE the listed sources. */
  ModeIsInclude: 1,
  /** Current state: EXCLUDE the listed sources. */
  ModeIsExclude: 2,
  /** Filter mode changed to INCLUDE. */
  ChangeToInclude: 3,
  /** Filter mode changed to EXCLUDE (an empty list means "join"). */
  ChangeToExclude: 4,
  /** Start listening to the listed sources. */
  AllowNewSources: 5,
  /** Stop listening to the listed sources. */
  BlockOldSources: 6,
} as const;

/**
 * One of the named {@linkcode MldRecordType} values.
 *
 * @example
 * ```ts
 * import { MldRecordType } from "@smol/net/wire";
 * const t: MldRecordType = MldRecordType.ModeIsExclude;
 * console.log(t); // 2
 * ```
 */
export type MldRecordType = typeof MldRecordType[keyof typeof MldRecordType];

/**
 * One multicast address record of an MLDv2 report (RFC 3810 §5.2.4).
 *
 * @example
 * ```ts
 * import { Ipv6Address, type MldAddressRecord, MldRecordType } from "@smol/net/wire";
 * const join: MldAddressRecord = {
 *   recordType: MldRecordType.ChangeToExclude,
 *   group: Ipv6Address.parse("ff02::1:ff00:1"),
 *   sources: [],
 * };
 * console.log(join.sources.length); // 0
 * ```
 */
export interface MldAddressRecord {
  /** An {@linkcode MldRecordType} value (unknown values are kept). */
  readonly recordType: number;
  /** The multicast address the record is about. */
  readonly group: Ipv6Address;
  /** The source addresses. */
  readonly sources: readonly Ipv6Address[];
}

/**
 * An MLD message as plain data, discriminated by `kind`: MLDv1 `query`, `report`, `done`
 * (RFC 2710) and MLDv2 `queryV2`, `reportV2` (RFC 3810). A group of `::` in a query means a
 * general query.
 *
 * @example
 * ```ts
 * import { Ipv6Address, type MldRepr } from "@smol/net/wire";
 * const report: MldRepr = { kind: "report", group: Ipv6Address.parse("ff05::1:3") };
 * console.log(report.kind); // report
 * ```
 */
export type MldRepr =
  | {
    readonly kind: "query";
    /** Maximum response delay in milliseconds. */
    readonly maxResponseDelay: number;
    /** `::` for a general query, else the group queried. */
    readonly group: Ipv6Address;
  }
  | {
    readonly kind: "report" | "done";
    /** The group joined or left. */
    readonly group: Ipv6Address;
  }
  | {
    readonly kind: "queryV2";
    /** The Maximum Response Code; decode with {@linkcode mldMaxResponseDelay}. */
    readonly maxResponseCode: number;
    /** `::` for a general query, else the group queried. */
    readonly group: Ipv6Address;
    /** S flag: suppress router-side processing. */
    readonly suppressRouterSide: boolean;
    /** Querier's Robustness Variable, 0–7 (0: above 7). */
    readonly robustness: number;
    /** Querier's Query Interval Code; decode with {@linkcode mldQueryInterval}. */
    readonly queryIntervalCode: number;
    /** Sources of a group-and-source-specific query. */
    readonly sources: readonly Ipv6Address[];
  }
  | {
    readonly kind: "reportV2";
    /** The multicast address records. */
    readonly records: readonly MldAddressRecord[];
  };

/**
 * The maximum response delay in milliseconds encoded by an MLDv2 Maximum Response Code
 * (RFC 3810 §5.1.3: exact below 32768, else a floating-point form).
 *
 * @param code The 16-bit code.
 * @returns The delay in milliseconds.
 *
 * @example
 * ```ts
 * import { mldMaxResponseDelay } from "@smol/net/wire";
 * console.log(mldMaxResponseDelay(10000), mldMaxResponseDelay(0x8000)); // 10000 32768
 * ```
 */
export function mldMaxResponseDelay(code: number): number {
  if (code < 0x8000) return code;
  return ((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x7) + 3);
}

/**
 * The query interval in seconds encoded by an MLDv2 QQIC (RFC 3810 §5.1.9: exact below 128,
 * else a floating-point form).
 *
 * @param code The 8-bit code.
 * @returns The interval in seconds.
 *
 * @example
 * ```ts
 * import { mldQueryInterval } from "@smol/net/wire";
 * console.log(mldQueryInterval(125), mldQueryInterval(0x80)); // 125 128
 * ```
 */
export function mldQueryInterval(code: number): number {
  if (code < 0x80) return code;
  return ((code & 0x0f) | 0x10) << (((code >> 4) & 0x7) + 3);
}

/**
 * Validates an MLD message (ICMPv6 types 130, 131, 132, 143) and returns it as a repr. The
 * checksum is not verified here: {@linkcode parseIcmpv6} does that before calling this.
 *
 * @param packet The ICMPv6 message.
 * @returns The message.
 * @throws {WireError} On truncation, a query of 25–27 bytes, or source lists and records that run
 * past the message.
 *
 * @example
 * ```ts
 * import { Icmpv6Packet, parseMld } from "@smol/net/wire";
 * const done = new Uint8Array(24);
 * done.set([132, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x05], 0);
 * done[23] = 3;
 * const repr = parseMld(new Icmpv6Packet(done));
 * console.log(repr.kind, repr.kind === "done" && repr.group.toString()); // done ff05::3
 * ```
 */
export function parseMld(packet: Icmpv6Packet): MldRepr {
  const b = packet.buffer;
  requireLength("mld", b, FIELD.REPORT_RECORDS);
  const type = b[FIELD.TYPE]!;
  switch (type) {
    case TYPE.QUERY:
      requireLength("mld", b, MLDV1_LEN);
      if (b.length === MLDV1_LEN) {
        return {
          kind: "query",
          maxResponseDelay: readU16(b, FIELD.MAX_RESPONSE),
          group: Ipv6Address.fromBytes(b, FIELD.GROUP),
        };
      }
      return parseQueryV2(b);
    case TYPE.REPORT:
    case TYPE.DONE:
      requireLength("mld", b, MLDV1_LEN);
      return {
        kind: type === TYPE.REPORT ? "report" : "done",
        group: Ipv6Address.fromBytes(b, FIELD.GROUP),
      };
    case TYPE.REPORT_V2:
      return parseReportV2(b);
  }
  throw new WireError("mld.type", type, "not an MLD message type");
}

function parseQueryV2(b: Uint8Array): MldRepr {
  if (b.length < FIELD.QUERY_SOURCES) {
    // RFC 3810 §8.1: 25–27 bytes is neither version.
    throw new WireError("mld.length", b.length, "query is neither 24 bytes nor at least 28");
  }
  const n = readU16(b, FIELD.QUERY_NUM_SOURCES);
  const end = FIELD.QUERY_SOURCES + n * ADDR_LEN;
  if (end > b.length) {
    throw new WireError("mld.numSources", n, "source list runs past the end of the query");
  }
  const sources: Ipv6Address[] = [];
  for (let o = FIELD.QUERY_SOURCES; o < end; o += ADDR_LEN) {
    sources.push(Ipv6Address.fromBytes(b, o));
  }
  const flags = b[FIELD.QUERY_FLAGS]!;
  return {
    kind: "queryV2",
    maxResponseCode: readU16(b, FIELD.MAX_RESPONSE),
    group: Ipv6Address.fromBytes(b, FIELD.GROUP),
    suppressRouterSide: (flags & QUERY_FLAG_SUPPRESS) !== 0,
    robustness: flags & QUERY_QRV_MASK,
    queryIntervalCode: b[FIELD.QQIC]!,
    sources,
  };
}

function parseReportV2(b: Uint8Array): MldRepr {
  const n = readU16(b, FIELD.REPORT_NUM_RECORDS);
  const records: MldAddressRecord[] = [];
  let o: number = FIELD.REPORT_RECORDS;
  for (let i = 0; i < n; i++) {
    if (o + RECORD.SOURCES > b.length) {
      throw new WireError("mld.numRecords", n, "address records run past the end of the report");
    }
    const count = readU16(b, o + RECORD.NUM_SOURCES);
    const sourcesEnd = o + RECORD.SOURCES + count * ADDR_LEN;
    const next = sourcesEnd + b[o + RECORD.AUX_LEN]! * 4;
    if (next > b.length) {
      throw new WireError(
        "mld.numSources",
        count,
        "address record runs past the end of the report",
      );
    }
    const sources: Ipv6Address[] = [];
    for (let s = o + RECORD.SOURCES; s < sourcesEnd; s += ADDR_LEN) {
      sources.push(Ipv6Address.fromBytes(b, s));
    }
    records.push({
      recordType: b[o + RECORD.TYPE]!,
      group: Ipv6Address.fromBytes(b, o + RECORD.GROUP),
      sources,
    });
    o = next;
  }
  return { kind: "reportV2", records };
}

/**
 * Bytes needed to emit `repr` as an ICMPv6 message.
 *
 * @param repr The message.
 * @returns The ICMPv6 message length.
 *
 * @example
 * ```ts
 * import { Ipv6Address, mldBufferLen } from "@smol/net/wire";
 * console.log(mldBufferLen({ kind: "done", group: Ipv6Address.parse("ff05::3") })); // 24
 * ```
 */
export function mldBufferLen(repr: MldRepr): number {
  switch (repr.kind) {
    case "query":
    case "report":
    case "done":
      return MLDV1_LEN;
    case "queryV2":
      return FIELD.QUERY_SOURCES + repr.sources.length * ADDR_LEN;
    case "reportV2": {
      let len: number = FIELD.REPORT_RECORDS;
      for (const r of repr.records) len += RECORD.SOURCES + r.sources.length * ADDR_LEN;
      return len;
    }
  }
}

/**
 * Writes `repr` into `packet` (type, code 0, body; reserved bytes zeroed) without the checksum:
 * {@linkcode emitIcmpv6} calls this and then fills it. Address records are written without
 * auxiliary data.
 *
 * @param repr The message.
 * @param packet The ICMPv6 view, at least {@linkcode mldBufferLen} bytes.
 * @throws {RangeError} When the buffer is too short or a list has more than 65535 entries.
 *
 * @example
 * ```ts
 * import { emitMld, Icmpv6Packet, Ipv6Address, mldBufferLen, type MldRepr } from "@smol/net/wire";
 * const report: MldRepr = { kind: "report", group: Ipv6Address.parse("ff05::1:3") };
 * const p = new Icmpv6Packet(new Uint8Array(mldBufferLen(report)));
 * emitMld(report, p);
 * console.log(p.msgType, p.buffer[8]); // 131 255
 * ```
 */
export function emitMld(repr: MldRepr, packet: Icmpv6Packet): void {
  const b = packet.buffer;
  const len = mldBufferLen(repr);
  if (b.length < len) {
    throw new RangeError(`Buffer of ${b.length} bytes cannot hold a ${len}-byte MLD message`);
  }
  b[FIELD.CODE] = 0;
  switch (repr.kind) {
    case "query":
    case "report":
    case "done":
      b[FIELD.TYPE] = repr.kind === "query"
        ? TYPE.QUERY
        : repr.kind === "report"
        ? TYPE.REPORT
        : TYPE.DONE;
      writeU16(b, FIELD.MAX_RESPONSE, repr.kind === "query" ? repr.maxResponseDelay : 0);
      writeU16(b, FIELD.RESERVED, 0);
      repr.group.writeTo(b, FIELD.GROUP);
      return;
    case "queryV2": {
      b[FIELD.TYPE] = TYPE.QUERY;
      writeU16(b, FIELD.MAX_RESPONSE, repr.maxResponseCode);
      writeU16(b, FIELD.RESERVED, 0);
      repr.group.writeTo(b, FIELD.GROUP);
      b[FIELD.QUERY_FLAGS] = (repr.suppressRouterSide ? QUERY_FLAG_SUPPRESS : 0) |
        (repr.robustness & QUERY_QRV_MASK);
      b[FIELD.QQIC] = repr.queryIntervalCode;
      writeU16(b, FIELD.QUERY_NUM_SOURCES, checkCount(repr.sources.length));
      let o: number = FIELD.QUERY_SOURCES;
      for (const s of repr.sources) {
        s.writeTo(b, o);
        o += ADDR_LEN;
      }
      return;
    }
    case "reportV2": {
      b[FIELD.TYPE] = TYPE.REPORT_V2;
      writeU16(b, FIELD.REPORT_RESERVED, 0);
      writeU16(b, FIELD.REPORT_NUM_RECORDS, checkCount(repr.records.length));
      let o: number = FIELD.REPORT_RECORDS;
      for (const r of repr.records) {
        b[o + RECORD.TYPE] = r.recordType;
        b[o + RECORD.AUX_LEN] = 0;
        writeU16(b, o + RECORD.NUM_SOURCES, checkCount(r.sources.length));
        r.group.writeTo(b, o + RECORD.GROUP);
        o += RECORD.SOURCES;
        for (const s of r.sources) {
          s.writeTo(b, o);
          o += ADDR_LEN;
        }
      }
      return;
    }
  }
}

function checkCount(n: number): number {
  if (n > 0xffff) throw new RangeError(`MLD list of ${n} entries exceeds the 16-bit count`);
  return n;
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
