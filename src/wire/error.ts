/**
 * The single error type of the wire layer.
 *
 * @module
 */

/**
 * Raised only by `newChecked` constructors and `parse*` functions when bytes do not form a valid
 * packet. The message names the field and the value, so a drop counter or a trace can say why.
 *
 * @example
 * ```ts
 * import { WireError } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const e = new WireError("ipv4.ihl", 3, "header length below the minimum of 5 words");
 * assert.equal(e.field, "ipv4.ihl");
 * assert.equal(e.value, 3);
 * assert.equal(e.message, "Invalid ipv4.ihl 3: header length below the minimum of 5 words");
 * ```
 */
export class WireError extends Error {
  /** The field that failed validation, as `protocol.field` (for example `tcp.dataOffset`). */
  readonly field: string;
  /** The offending value (a number for most fields; a length for truncation). */
  readonly value: number;

  /**
   * Creates a wire error.
   *
   * @param field The field as `protocol.field`.
   * @param value The offending value.
   * @param reason What is wrong, in sentence case without a full stop.
   */
  constructor(field: string, value: number, reason: string) {
    super(`Invalid ${field} ${value}: ${reason}`);
    this.name = "WireError";
    this.field = field;
    this.value = value;
  }
}

/**
 * Throws a truncation {@linkcode WireError} unless `buffer` holds at least `needed` bytes.
 *
 * @param protocol Protocol name for the error's field (`tcp`, `ipv4`, ...).
 * @param buffer The bytes being parsed.
 * @param needed The minimum length.
 *
 * @example
 * ```ts
 * import { requireLength, WireError } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.throws(() => requireLength("udp", new Uint8Array(4), 8), WireError);
 * requireLength("udp", new Uint8Array(8), 8); // long enough: returns
 * ```
 */
export function requireLength(protocol: string, buffer: Uint8Array, needed: number): void {
  if (buffer.length < needed) {
    throw new WireError(
      `${protocol}.length`,
      buffer.length,
      `buffer truncated, need at least ${needed} bytes`,
    );
  }
}
