/**
 * Argument validation at the door, one validator per kind of value, used by every layer's public
 * constructors and methods. Internal: not exported from any entry point.
 *
 * One rule for error classes:
 * - `TypeError` when a value has the wrong type (`port: "80"`, `write("hello")`, a malformed
 *   address string, a string that is not one of the allowed names);
 * - `RangeError` when a number is out of its range or not an integer (`port: 70000`,
 *   `rxBufferSize: -1`, `mtu: 10`);
 * - network conditions are never raised here: the async layer maps them to `Deno.errors.*` with
 *   a `code` (see `src/net/errors.ts`).
 *
 * Every message names the option and quotes the value, in sentence case without a full stop:
 * `Invalid port 70000: expected an integer from 0 to 65535`,
 * `Invalid port "80": expected a number, got a string`.
 *
 * @module
 */

import { type IpAddress, IpCidr, parseIpAddress } from "./wire/address.ts";

/** The largest TCP window with scaling (RFC 7323 §2.3: shift 14), our bound for any buffer. */
export const MAX_BUFFER_SIZE = 2 ** 30;
/** RFC 791: every IPv4 module takes a 68-byte datagram unfragmented. */
export const MIN_IPV4_MTU = 68;
/** RFC 8200 §5: every IPv6 link carries 1280-byte packets. */
export const MIN_IPV6_MTU = 1280;
/** The largest IP packet (IPv4 total length, IPv6 payload length plus header, no jumbograms). */
export const MAX_IP_MTU = 65535;
/** The Ethernet II header an Ethernet-medium MTU includes. */
const ETHERNET_HEADER = 14;

/** `"80"` quoted, numbers and other primitives as written, objects by kind. */
export function showValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    default:
      if (value === null) return "null";
      if (Array.isArray(value)) return "an array";
      return `an object (${(value as object).constructor?.name ?? "null prototype"})`;
  }
}

/** The type of `value` as a message says it: `a string`, `null`, `an array`. */
export function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "a Uint8Array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  const t = typeof value;
  if (t === "undefined") return "undefined";
  return t === "object" ? "an object" : `a ${t}`;
}

/**
 * The `TypeError` for a value of the wrong type.
 *
 * @param name The option or argument, as the caller wrote it (`port`, `tcp.rxBufferSize`).
 * @param value What was given.
 * @param expected What is accepted (`a number`, `a Uint8Array`).
 */
export function typeError(name: string, value: unknown, expected: string): TypeError {
  return new TypeError(
    `Invalid ${name} ${showValue(value)}: expected ${expected}, got ${typeOf(value)}`,
  );
}

/**
 * The `RangeError` for a number out of its range.
 *
 * @param name The option or argument.
 * @param value What was given.
 * @param expected The range (`an integer from 1 to 65535`).
 */
export function rangeError(name: string, value: unknown, expected: string): RangeError {
  return new RangeError(`Invalid ${name} ${showValue(value)}: expected ${expected}`);
}

/** An options object: `undefined` gives `{}` unless `required`; anything else not an object is a TypeError. */
export function checkOptions<T extends object>(
  name: string,
  value: T | undefined,
  required = false,
): T {
  if (value === undefined && !required) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(name, value, "an object");
  }
  return value;
}

/** A number of any value (TypeError otherwise, and for NaN). */
function checkNumberType(name: string, value: unknown): number {
  if (typeof value !== "number") throw typeError(name, value, "a number");
  if (Number.isNaN(value)) throw rangeError(name, value, "a number");
  return value;
}

/** An integer in `[min, max]`. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  const v = checkNumberType(name, value);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw rangeError(name, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

/** A port: an integer from `min` (0 where 0 means "pick a free one", else 1) to 65535. */
export function checkPort(name: string, value: unknown, min: 0 | 1): number {
  return checkInteger(name, value, min, 65535);
}

/** A buffer size in bytes: an integer from 1 to 2^30. */
export function checkBufferSize(name: string, value: unknown): number {
  return checkInteger(name, value, 1, MAX_BUFFER_SIZE);
}

/**
 * A device MTU in bytes, which includes the 14-byte header on an Ethernet medium: room for a
 * 68-byte IPv4 packet (RFC 791), or 1280 bytes when `ipv6` (RFC 8200 §5), and at most 65535
 * bytes of IP.
 */
export function checkMtu(
  name: string,
  value: unknown,
  medium: "ethernet" | "ip",
  ipv6 = false,
): number {
  const header = medium === "ethernet" ? ETHERNET_HEADER : 0;
  const min = (ipv6 ? MIN_IPV6_MTU : MIN_IPV4_MTU) + header;
  const v = checkNumberType(name, value);
  if (!Number.isInteger(v) || v < min || v > MAX_IP_MTU + header) {
    const why = ipv6 ? "IPv6 needs 1280 bytes, RFC 8200" : "IPv4 needs 68 bytes, RFC 791";
    const on = header > 0 ? ` on Ethernet (14-byte header included)` : "";
    throw rangeError(name, v, `an integer from ${min} to ${MAX_IP_MTU + header}${on}; ${why}`);
  }
  return v;
}

/** A duration in milliseconds: a finite number ≥ 0 (> 0 when `positive`). */
export function checkDuration(name: string, value: unknown, positive = false): number {
  const v = checkNumberType(name, value);
  if (!Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw rangeError(name, v, `a finite number of milliseconds ${positive ? "> 0" : "≥ 0"}`);
  }
  return v;
}

/** A timeout in milliseconds: finite and > 0. */
export function checkTimeout(name: string, value: unknown): number {
  return checkDuration(name, value, true);
}

/** `undefined` or an `AbortSignal`. */
export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw typeError(name, value, "an AbortSignal");
}

/** A `Uint8Array` (like Deno's `Conn.write`, no other view or string). */
export function checkBytes(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw typeError(name, value, "a Uint8Array");
}

/** A boolean. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw typeError(name, value, "a boolean");
}

/** A string. */
export function checkString(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  throw typeError(name, value, "a string");
}

/** One of the given names (a TypeError otherwise: the value is not of the named type). */
export function checkOneOf<const T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  throw typeError(name, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
}

/** An IP address: an `Ipv4Address` / `Ipv6Address`, or a literal string. */
export function checkAddress(name: string, value: unknown): IpAddress {
  if (typeof value === "string") {
    try {
      return parseIpAddress(value);
    } catch {
      throw new TypeError(`Invalid ${name} ${showValue(value)}: expected an IPv4 or IPv6 address`);
    }
  }
  if (
    typeof value === "object" && value !== null &&
    ((value as IpAddress).version === 4 || (value as IpAddress).version === 6) &&
    typeof (value as IpAddress).equals === "function"
  ) {
    return value as IpAddress;
  }
  throw typeError(name, value, "an IP address string or Ipv4Address / Ipv6Address");
}

/** An address with prefix: an `IpCidr` or a string such as `192.0.2.2/24`. */
export function checkCidr(name: string, value: unknown): IpCidr {
  if (value instanceof IpCidr) return value;
  if (typeof value === "string") {
    try {
      return IpCidr.parse(value);
    } catch {
      throw new TypeError(
        `Invalid ${name} ${
          showValue(value)
        }: expected an address with prefix such as "192.0.2.2/24"`,
      );
    }
  }
  throw typeError(name, value, "a CIDR string or IpCidr");
}

/** An array (TypeError otherwise). */
export function checkArray<T>(name: string, value: readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw typeError(name, value, "an array");
  return value;
}
