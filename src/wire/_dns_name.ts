/**
 * DNS names (RFC 1035 §3.1, §4.1.4): reading possibly compressed names as master-file text with
 * escapes, encoding text as uncompressed labels, and comparing names. Internal to dns.ts, which
 * re-exports the public names.
 *
 * @module
 */

import { WireError } from "./error.ts";

/** Bound on compression pointers followed while reading one name. */
const MAX_POINTER_HOPS = 64;

/**
 * Longest label in bytes (RFC 1035 §2.3.4).
 *
 * @example
 * ```ts
 * import { DNS_MAX_LABEL_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DNS_MAX_LABEL_LEN, 63);
 * ```
 */
export const DNS_MAX_LABEL_LEN = 63;

/**
 * Longest name in wire bytes, length octets and the root included (RFC 1035 §2.3.4).
 *
 * @example
 * ```ts
 * import { DNS_MAX_NAME_LEN } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(DNS_MAX_NAME_LEN, 255);
 * ```
 */
export const DNS_MAX_NAME_LEN = 255;

/**
 * Whether two names are equal, ignoring ASCII case (RFC 4343) and one trailing dot.
 *
 * @param a A name in master-file text.
 * @param b Another name.
 * @returns `true` when they name the same node.
 *
 * @example
 * ```ts
 * import { dnsNameEquals } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(dnsNameEquals("WWW.Example.com", "www.example.com."), true);
 * ```
 */
export function dnsNameEquals(a: string, b: string): boolean {
  return trimDot(a).toLowerCase() === trimDot(b).toLowerCase();
}

/** Drops one trailing unescaped dot (an odd number of backslashes before it escapes it). */
export function trimDot(s: string): string {
  if (!s.endsWith(".")) return s;
  let slashes = 0;
  for (let i = s.length - 2; i >= 0 && s.charCodeAt(i) === 0x5c; i--) slashes++;
  return slashes % 2 === 0 ? s.slice(0, -1) : s;
}

/** Reads a possibly compressed name at `r.pos` and advances `r.pos` past it (RFC 1035 §4.1.4). */
export function readName(b: Uint8Array, r: { pos: number }): string {
  let pos = r.pos;
  let end = -1; // where the caller continues: after the first pointer, or after the root
  let wireLen = 0;
  let hops = 0;
  let text = "";
  while (true) {
    if (pos >= b.length) throw new WireError("dns.name", pos, "name runs past the buffer");
    const len = b[pos]!;
    if ((len & 0xc0) === 0xc0) {
      need(b, pos, 2, "dns.pointer");
      const target = ((len & 0x3f) << 8) | b[pos + 1]!;
      if (target >= pos) {
        throw new WireError("dns.pointer", target, `pointer at ${pos} does not point backwards`);
      }
      if (++hops > MAX_POINTER_HOPS) {
        throw new WireError("dns.pointer", target, `more than ${MAX_POINTER_HOPS} pointers`);
      }
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) {
      // 0x40 (RFC 6891 extended label, deprecated by RFC 6891 §5) and 0x80 are reserved.
      throw new WireError("dns.label", len, "reserved label type");
    }
    wireLen += len + 1;
    if (wireLen > DNS_MAX_NAME_LEN) {
      throw new WireError("dns.name", wireLen, `name longer than ${DNS_MAX_NAME_LEN} bytes`);
    }
    if (len === 0) {
      r.pos = end < 0 ? pos + 1 : end;
      return text;
    }
    need(b, pos + 1, len, "dns.label");
    if (text.length > 0) text += ".";
    for (let i = pos + 1; i <= pos + len; i++) text += escapeByte(b[i]!);
    pos += len + 1;
  }
}

function escapeByte(c: number): string {
  if (c === 0x2e) return "\\.";
  if (c === 0x5c) return "\\\\";
  if (c > 0x20 && c < 0x7f) return String.fromCharCode(c);
  return "\\" + String(c).padStart(3, "0");
}

/** Encodes master-file text as uncompressed wire labels, root included. */
export function encodeName(name: string): Uint8Array {
  const out: number[] = [];
  const text = trimDot(name);
  if (text === "") return new Uint8Array([0]);
  let label: number[] = [];
  const flush = () => {
    if (label.length === 0) throw new RangeError(`Invalid DNS name "${name}": empty label`);
    if (label.length > DNS_MAX_LABEL_LEN) {
      throw new RangeError(
        `Invalid DNS name "${name}": label of ${label.length} bytes exceeds ${DNS_MAX_LABEL_LEN}`,
      );
    }
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      flush();
    } else if (c === 0x5c) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d) && Number(d) <= 255) {
        label.push(Number(d));
        i += 3;
      } else if (i + 1 < text.length && !/[0-9]/.test(text[i + 1]!)) {
        label.push(text.charCodeAt(i + 1));
        i += 1;
      } else {
        throw new RangeError(`Invalid DNS name "${name}": bad escape at ${i}`);
      }
    } else if (c > 0xff) {
      throw new RangeError(`Invalid DNS name "${name}": character beyond one byte at ${i}`);
    } else {
      label.push(c);
    }
  }
  flush();
  out.push(0);
  if (out.length > DNS_MAX_NAME_LEN) {
    throw new RangeError(
      `Invalid DNS name "${name}": ${out.length} bytes exceeds ${DNS_MAX_NAME_LEN}`,
    );
  }
  return new Uint8Array(out);
}

export function writeName(b: Uint8Array, pos: number, name: string): number {
  const wire = encodeName(name);
  b.set(wire, pos);
  return pos + wire.length;
}

/** Throws a truncation `WireError` unless `n` bytes are available at `pos`. */
export function need(b: Uint8Array, pos: number, n: number, field: string): void {
  if (pos + n > b.length) {
    throw new WireError(field, pos, `truncated, need ${n} bytes at offset ${pos} of ${b.length}`);
  }
}
