/**
 * DNS resource records (RFC 1035 §3.2, §4.1.3): the record type and class numbers, the
 * {@linkcode DnsRecord} representation with its parsed or raw data, and the codecs that read and
 * write one record. Internal to dns.ts, which re-exports the public names.
 *
 * @module
 */

import { Ipv4Address, Ipv6Address } from "./address.ts";
import { WireError } from "./error.ts";
import { readU16, readU32, writeU16 } from "./_bytes.ts";
import { encodeName, need, readName, writeName } from "./_dns_name.ts";

/** RR: TYPE, CLASS, TTL, RDLENGTH after the name. */
export const RECORD_FIXED_LEN = 10;

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

// ---------------------------------------------------------------------------------------------
// Parse helpers

export function readRecords(b: Uint8Array, r: { pos: number }, count: number): DnsRecord[] {
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

export function checkUint(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Invalid DNS ${what} ${v}: must be an integer from 0 to ${max}`);
  }
}

export function rdataLen(data: DnsRdata): number {
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

export function writeRecord(b: Uint8Array, pos: number, rr: DnsRecord): number {
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
