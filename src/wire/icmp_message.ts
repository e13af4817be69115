/**
 * The 8-byte header that ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) messages share: type, code,
 * checksum, and four type-specific bytes (the echo identifier and sequence number for echoes),
 * followed by the message data.
 *
 * @module
 */

import { readU16, writeU16 } from "./_bytes.ts";

const FIELD = { TYPE: 0, CODE: 1, CHECKSUM: 2, ECHO_IDENT: 4, ECHO_SEQNO: 6, DATA: 8 } as const;

/**
 * The fields every ICMP message has; {@linkcode Icmpv4Packet} and {@linkcode Icmpv6Packet} add
 * their type-specific fields and checksum rules.
 *
 * @example
 * ```ts
 * import { Icmpv4Packet } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const p = new Icmpv4Packet(new Uint8Array([8, 0, 0, 0, 0, 1, 0, 2, 0xaa]));
 * assert.equal(p.msgType, 8);
 * assert.equal(p.echoIdent, 1);
 * assert.equal(p.echoSeqNo, 2);
 * assert.equal(p.data.length, 1);
 * ```
 */
export class IcmpMessage {
  /** The underlying bytes, starting at the ICMP type field. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without any check; call `checkLen()` before reading untrusted bytes, or use
   * the subclass's `newChecked`.
   *
   * @param buffer The ICMP message.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * The message type.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet, Icmpv4Type } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new Icmpv4Packet(new Uint8Array(8));
   * p.msgType = Icmpv4Type.EchoReply;
   * assert.equal(p.msgType, 0);
   * ```
   */
  get msgType(): number {
    return this.buffer[FIELD.TYPE]!;
  }
  set msgType(v: number) {
    this.buffer[FIELD.TYPE] = v;
  }

  /**
   * The message code.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new Icmpv6Packet(new Uint8Array(8));
   * p.msgCode = 3;
   * assert.equal(p.msgCode, 3);
   * ```
   */
  get msgCode(): number {
    return this.buffer[FIELD.CODE]!;
  }
  set msgCode(v: number) {
    this.buffer[FIELD.CODE] = v;
  }

  /**
   * The checksum field.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new Icmpv4Packet(new Uint8Array([0, 0, 0x12, 0x34, 0, 0, 0, 0])).checksum, 4660);
   * ```
   */
  get checksum(): number {
    return readU16(this.buffer, FIELD.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buffer, FIELD.CHECKSUM, v);
  }

  /**
   * The echo identifier (echo request and reply).
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new Icmpv6Packet(new Uint8Array(8));
   * p.echoIdent = 0x1234;
   * assert.equal(p.echoIdent, 4660);
   * ```
   */
  get echoIdent(): number {
    return readU16(this.buffer, FIELD.ECHO_IDENT);
  }
  set echoIdent(v: number) {
    writeU16(this.buffer, FIELD.ECHO_IDENT, v);
  }

  /**
   * The echo sequence number (echo request and reply).
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new Icmpv4Packet(new Uint8Array(8));
   * p.echoSeqNo = 7;
   * assert.equal(p.echoSeqNo, 7);
   * ```
   */
  get echoSeqNo(): number {
    return readU16(this.buffer, FIELD.ECHO_SEQNO);
  }
  set echoSeqNo(v: number) {
    writeU16(this.buffer, FIELD.ECHO_SEQNO, v);
  }

  /**
   * The bytes after the 8-byte header (echo data, or the quoted packet of an error): a
   * subarray, never a copy.
   *
   * @example
   * ```ts
   * import { Icmpv6Packet } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const p = new Icmpv6Packet(new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1, 7]));
   * assert.deepEqual([...p.data], [7]);
   * ```
   */
  get data(): Uint8Array {
    return this.buffer.subarray(FIELD.DATA);
  }
}
