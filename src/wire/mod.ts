/**
 * The wire layer: bytes to values and back, with no I/O and no clock. Every protocol has a
 * zero-copy view class over a `Uint8Array` and a plain-data representation with `parse*` /
 * `emit*` functions. Malformed input raises {@linkcode WireError} and nothing else.
 *
 * @example Parse an address and compute a checksum
 * ```ts
 * import { internetChecksum, parseIpAddress } from "@smol/net/wire";
 *
 * console.log(parseIpAddress("2001:db8::1").toString()); // 2001:db8::1
 * console.log(internetChecksum(new Uint8Array([0xff, 0xff]))); // 0
 * ```
 *
 * @module
 */

export * from "./address.ts";
export * from "./checksum.ts";
export * from "./error.ts";
