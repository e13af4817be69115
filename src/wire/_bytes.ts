/**
 * Byte helpers shared by the address types (internal).
 *
 * @module
 */

/** Reads a big-endian u32 at `o`. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Writes `v` as a big-endian u32 at `o`. */
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Mixes a 32-bit word into a running hash (FNV-style multiply, stays a small integer). */
export function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x01000193) >>> 0;
}

/** Reads a big-endian u16 at `o`. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Writes `v` as a big-endian u16 at `o`. */
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Throws a `RangeError` unless `v` is an integer byte value. */
export function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new RangeError(`Invalid ${name} ${v}: must be 0 to 255`);
  }
}
