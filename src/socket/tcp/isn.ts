/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), where M is a timer that ticks every 4 microseconds and F is SipHash-2-4 keyed with
 * a 16-byte secret the interface draws once from a cryptographic source.
 *
 * The clock term keeps successive incarnations of one connection moving forward through the
 * sequence space (RFC 9293 §3.4.1); the keyed hash gives every 4-tuple its own offset that an
 * off-path attacker cannot guess.
 *
 * SipHash-2-4 (Aumasson and Bernstein, 2012) is computed on 32-bit halves of its 64-bit words held
 * in local variables (the compiler keeps them in registers), so a call allocates nothing.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../../wire/address.ts";
import type { Instant } from "../../time.ts";

/** Room for a domain byte, two IPv6 endpoints (16 + 2 + 16 + 2 bytes) and a SYN cookie's 6 more. */
const tuple = new Uint8Array(48);

/**
 * The last hash: [high, low] u32 halves. The words are computed as int32 (`| 0`), which stay
 * unboxed in optimized code; unsigned comparisons flip the sign bit ({@linkcode SIGN}) first.
 */
const out = new Uint32Array(2);
/** XORed into two int32s before `<` to compare them as unsigned. */
const SIGN = -0x80000000;

/** Reads a little-endian 32-bit word as an int32 (SipHash reads key and message little-endian). */
function readLe32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

/**
 * SipHash-2-4 of `data[0, len)` under a 16-byte key. Leaves the 64-bit result in `out` and
 * returns its low half.
 */
function sipHashInto(key: Uint8Array, data: Uint8Array, len: number): number {
  const k0l = readLe32(key, 0), k0h = readLe32(key, 4);
  const k1l = readLe32(key, 8), k1h = readLe32(key, 12);
  // "somepseudorandomlygeneratedbytes"
  let v0h = (k0h ^ 0x736f6d65) | 0, v0l = (k0l ^ 0x70736575) | 0;
  let v1h = (k1h ^ 0x646f7261) | 0, v1l = (k1l ^ 0x6e646f6d) | 0;
  let v2h = (k0h ^ 0x6c796765) | 0, v2l = (k0l ^ 0x6e657261) | 0;
  let v3h = (k1h ^ 0x74656462) | 0, v3l = (k1l ^ 0x79746573) | 0;
  const whole = len - (len & 7);
  // Word w < words is a message word (c = 2 rounds); the last word holds the 0–7 remaining
  // bytes and, in its top byte, len mod 256; then the finalization (d = 4 rounds).
  const words = whole / 8 + 1;
  for (let w = 0; w <= words; w++) {
    let mh = 0, ml = 0, rounds = 2;
    if (w < words - 1) {
      ml = readLe32(data, 8 * w);
      mh = readLe32(data, 8 * w + 4);
    } else if (w === words - 1) {
      mh = (len & 0xff) << 24;
      for (let j = 0; j < (len & 7); j++) {
        const b = data[whole + j]!;
        if (j < 4) ml |= b << (8 * j);
        else mh |= b << (8 * (j - 4));
      }
    } else {
      v2l = (v2l ^ 0xff) | 0;
      rounds = 4;
    }
    v3h = (v3h ^ mh) | 0;
    v3l = (v3l ^ ml) | 0;
    for (let r = 0; r < rounds; r++) {
      let t: number;
      // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      t = (v0l + v1l) | 0;
      v0h = (v0h + v1h + ((t ^ SIGN) < (v0l ^ SIGN) ? 1 : 0)) | 0;
      v0l = t;
      t = v1h;
      v1h = (((t << 13) | (v1l >>> 19)) ^ v0h) | 0;
      v1l = (((v1l << 13) | (t >>> 19)) ^ v0l) | 0;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 <<<= 16; v3 ^= v2
      t = (v2l + v3l) | 0;
      v2h = (v2h + v3h + ((t ^ SIGN) < (v2l ^ SIGN) ? 1 : 0)) | 0;
      v2l = t;
      t = v3h;
      v3h = (((t << 16) | (v3l >>> 16)) ^ v2h) | 0;
      v3l = (((v3l << 16) | (t >>> 16)) ^ v2l) | 0;
      // v0 += v3; v3 <<<= 21; v3 ^= v0
      t = (v0l + v3l) | 0;
      v0h = (v0h + v3h + ((t ^ SIGN) < (v0l ^ SIGN) ? 1 : 0)) | 0;
      v0l = t;
      t = v3h;
      v3h = (((t << 21) | (v3l >>> 11)) ^ v0h) | 0;
      v3l = (((v3l << 21) | (t >>> 11)) ^ v0l) | 0;
      // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      t = (v2l + v1l) | 0;
      v2h = (v2h + v1h + ((t ^ SIGN) < (v2l ^ SIGN) ? 1 : 0)) | 0;
      v2l = t;
      t = v1h;
      v1h = (((t << 17) | (v1l >>> 15)) ^ v2h) | 0;
      v1l = (((v1l << 17) | (t >>> 15)) ^ v2l) | 0;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    v0h = (v0h ^ mh) | 0;
    v0l = (v0l ^ ml) | 0;
  }
  const lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  out[0] = v0h ^ v1h ^ v2h ^ v3h;
  out[1] = lo;
  return lo;
}

/** Throws unless `key` is 16 bytes. */
function checkKey(key: Uint8Array): void {
  if (key.length !== 16) throw new RangeError(`Invalid SipHash key length ${key.length}`);
}

/**
 * SipHash-2-4 of `data` under a 16-byte key: the keyed hash behind {@linkcode initialSequenceNumber},
 * exported for tests and for other keyed uses (SYN cookies, hash tables fed by peers).
 *
 * @param key The 16-byte key (k0 is bytes 0–7, k1 bytes 8–15, little-endian).
 * @param data The message.
 * @returns The 64-bit hash as an unsigned bigint.
 * @throws {RangeError} When the key is not 16 bytes.
 *
 * @example The test vector from the SipHash paper (Appendix A)
 * ```ts
 * import { sipHash24 } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const key = Uint8Array.from({ length: 16 }, (_, i) => i);
 * const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
 * assert.equal(sipHash24(key, msg).toString(16), "a129ca6149be45e5");
 * ```
 */
export function sipHash24(key: Uint8Array, data: Uint8Array): bigint {
  checkKey(key);
  sipHashInto(key, data, data.length);
  return (BigInt(out[0]!) << 32n) | BigInt(out[1]!);
}

/** Writes an endpoint (address bytes, then the port big-endian) at `o`; returns the new offset. */
function writeEndpoint(ep: IpEndpoint, o: number): number {
  ep.addr.writeTo(tuple, o);
  o += ep.addr.version === 4 ? 4 : 16;
  tuple[o] = (ep.port >>> 8) & 0xff;
  tuple[o + 1] = ep.port & 0xff;
  return o + 2;
}

/**
 * The RFC 6528 initial sequence number for a connection: a 4-microsecond clock plus the low 32
 * bits of SipHash-2-4 over (local address, local port, remote address, remote port) keyed with
 * `secret`, modulo 2^32.
 *
 * The same inputs always give the same number; each millisecond of `now` adds 250. The clock term
 * wraps about every 4.8 hours, as RFC 9293 §3.4.1 expects.
 *
 * @param now The current instant in milliseconds (fractions count, down to 4 µs).
 * @param secret The interface's 16 secret bytes (`SocketContext.isnSecret`).
 * @param local Our endpoint.
 * @param remote The peer's endpoint.
 * @returns A u32 sequence number.
 * @throws {RangeError} When `secret` is not 16 bytes.
 *
 * @example
 * ```ts
 * import { initialSequenceNumber } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const secret = crypto.getRandomValues(new Uint8Array(16));
 * const local = { addr: Ipv4Address.parse("192.0.2.2"), port: 49152 };
 * const remote = { addr: Ipv4Address.parse("192.0.2.1"), port: 80 };
 * const a = initialSequenceNumber(1_000, secret, local, remote);
 * const b = initialSequenceNumber(1_001, secret, local, remote);
 * assert.equal((b - a) >>> 0, 250);
 * ```
 */
export function initialSequenceNumber(
  now: Instant,
  secret: Uint8Array,
  local: IpEndpoint,
  remote: IpEndpoint,
): number {
  checkKey(secret);
  const len = writeEndpoint(remote, writeEndpoint(local, 0));
  const f = sipHashInto(secret, tuple, len);
  // RFC 6528 §3: M is a timer that ticks every 4 microseconds; ToUint32 reduces it mod 2^32.
  const m = Math.floor(now * 250) >>> 0;
  return (m + f) >>> 0;
}

/**
 * The RFC 7323 §5.4 TSval offset for connections between two addresses: the low 32 bits of
 * SipHash-2-4 over a domain byte and (local address, remote address), keyed with `secret` (as
 * Linux's `secure_tcp_ts_off`). Every incarnation of a 4-tuple, and every connection between the
 * two hosts, gets the same offset, so with TSval = clock + offset the timestamps a host sees from
 * us only grow across connections and PAWS keeps rejecting segments of earlier incarnations
 * (RFC 6191); an off-path observer still learns nothing about our clock.
 *
 * @param secret The interface's 16 secret bytes (`SocketContext.isnSecret`).
 * @param local Our address.
 * @param remote The peer's address.
 * @returns A u32 offset.
 * @throws {RangeError} When `secret` is not 16 bytes.
 *
 * @example
 * ```ts
 * import { timestampOffset } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const secret = crypto.getRandomValues(new Uint8Array(16));
 * const a = Ipv4Address.parse("192.0.2.2"), b = Ipv4Address.parse("192.0.2.1");
 * const off = timestampOffset(secret, a, b);
 * assert.equal(timestampOffset(secret, a, b), off); // every connection between a and b
 * assert.throws(() => timestampOffset(new Uint8Array(8), a, b), RangeError); // 16-byte key
 * ```
 */
export function timestampOffset(secret: Uint8Array, local: IpAddress, remote: IpAddress): number {
  checkKey(secret);
  // The offset depends on the address pair only: connection churn between two hosts asks for
  // the same one again and again, so the last few answers are kept (each with a copy of the key
  // it used: every interface has its own, and two stacks in one process alternate).
  for (let i = 0; i < tsCache.length; i++) {
    const e = tsCache[i]!;
    if (e.local.equals(local) && e.remote.equals(remote) && sameKey(e.key, secret)) return e.offset;
  }
  // A leading domain byte keeps these inputs apart from the ISN's (local, port, remote, port).
  tuple[0] = 0x54;
  local.writeTo(tuple, 1);
  const o = 1 + (local.version === 4 ? 4 : 16);
  remote.writeTo(tuple, o);
  const offset = sipHashInto(secret, tuple, o + (remote.version === 4 ? 4 : 16));
  let e = tsCache[tsNext];
  if (e === undefined) {
    e = { key: new Uint8Array(16), local, remote, offset };
    tsCache.push(e);
  } else {
    e.local = local;
    e.remote = remote;
    e.offset = offset;
  }
  e.key.set(secret);
  tsNext = (tsNext + 1) % TS_CACHE_SIZE;
  return offset;
}

/** How many {@linkcode timestampOffset} answers are kept. */
const TS_CACHE_SIZE = 4;
/** The last {@linkcode timestampOffset} answers, with the keys they were computed under. */
const tsCache: { key: Uint8Array; local: IpAddress; remote: IpAddress; offset: number }[] = [];
/** The cache slot the next new answer takes. */
let tsNext = 0;

/** Whether two 16-byte keys are equal. */
function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The keyed hash of a SYN cookie (RFC 4987 §3.6): the low 32 bits of SipHash-2-4 over a domain
 * byte, the 4-tuple, the cookie's time counter, the client's ISN and the MSS index, keyed with
 * `secret`. Whoever does not know the secret cannot compute it, so an ACK that returns a valid
 * cookie answers a SYN-ACK we sent.
 *
 * @param secret The interface's 16 secret bytes (`SocketContext.isnSecret`).
 * @param local Our endpoint.
 * @param remote The client's endpoint.
 * @param count The cookie's time counter (0–255).
 * @param clientIsn The client's initial sequence number.
 * @param mssIndex The MSS index the cookie carries (0–255).
 * @returns A u32.
 * @throws {RangeError} When `secret` is not 16 bytes.
 *
 * @example Any input changes the hash
 * ```ts
 * import { synCookieHash } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const secret = new Uint8Array(16).fill(7);
 * const a = { addr: Ipv4Address.parse("192.0.2.1"), port: 80 };
 * const b = { addr: Ipv4Address.parse("192.0.2.2"), port: 40000 };
 * assert.notEqual(synCookieHash(secret, a, b, 1, 1000, 7), synCookieHash(secret, a, b, 1, 1001, 7));
 * ```
 */
export function synCookieHash(
  secret: Uint8Array,
  local: IpEndpoint,
  remote: IpEndpoint,
  count: number,
  clientIsn: number,
  mssIndex: number,
): number {
  checkKey(secret);
  tuple[0] = 0x43; // a domain byte: apart from the ISN's and the TSval offset's inputs
  let o = writeEndpoint(remote, writeEndpoint(local, 1));
  tuple[o++] = count & 0xff;
  tuple[o++] = clientIsn >>> 24;
  tuple[o++] = (clientIsn >>> 16) & 0xff;
  tuple[o++] = (clientIsn >>> 8) & 0xff;
  tuple[o++] = clientIsn & 0xff;
  tuple[o++] = mssIndex & 0xff;
  return sipHashInto(secret, tuple, o);
}
