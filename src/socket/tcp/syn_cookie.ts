/**
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full it answers a SYN with a
 * SYN-ACK whose sequence number encodes the connection, and keeps nothing. The client's ACK
 * brings the number back (SEG.ACK − 1) and the connection is rebuilt from it.
 *
 * The cookie (32 bits, our own layout after Linux's):
 * - bits 31–27: a counter of {@linkcode COOKIE_TICK} ms periods, so a cookie expires;
 * - bits 26–3: 24 bits of SipHash-2-4 keyed with the interface secret over the 4-tuple, the
 *   counter, the client's ISN and the MSS index (see `synCookieHash` in isn.ts), so an
 *   off-path attacker cannot forge one nor change the MSS it carries;
 * - bits 2–0: the index of the client's MSS in {@linkcode COOKIE_MSS}.
 *
 * Window scale, SACK-permitted and ECN ride in the low 6 bits of the SYN-ACK's TSval (as Linux's
 * `cookie_init_timestamp`), which the client echoes in every TSecr: bits 3–0 the client's shift
 * (15: none), bit 4 SACK-permitted, bit 5 ECN negotiated (RFC 3168 §6.1.1: the SYN was an
 * ECN-setup SYN, the cookie SYN-ACK an ECN-setup SYN-ACK). Without timestamps they cannot be
 * carried, and the rebuilt connection goes without window scaling, SACK and ECN, as on Linux
 * (whose cookie SYN-ACK may still offer ECN then; ours does not, so both ends agree).
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import type { IpEndpoint } from "../../wire/address.ts";
import type { TcpConn } from "./conn.ts";
import { synCookieHash } from "./isn.ts";
import { seqAdd } from "./seq.ts";

/** The MSS values a cookie can carry, ascending; a client's MSS rounds down to one of them. */
export const COOKIE_MSS = [536, 1200, 1220, 1300, 1360, 1400, 1440, 1460] as const;
/** Milliseconds per cookie counter tick; a cookie is accepted in its tick and the next. */
export const COOKIE_TICK = 64_000;
/** TSval bits that carry the options. */
export const COOKIE_TS_MASK = 0x3f;
const NO_WSCALE = 15;
const SACK_BIT = 0x10;
const ECN_BIT = 0x20;

/** The index in {@linkcode COOKIE_MSS} of the largest value not above `mss`. */
export function cookieMssIndex(mss: number): number {
  let i = COOKIE_MSS.length - 1;
  while (i > 0 && COOKIE_MSS[i]! > mss) i--;
  return i;
}

function tick(now: Instant): number {
  return Math.floor(now / COOKIE_TICK) & 31;
}

/**
 * The cookie for a SYN from `remote` (ISN `clientIsn`) to `local` at `now`.
 *
 * @returns The sequence number of our SYN-ACK.
 */
export function makeCookie(
  now: Instant,
  secret: Uint8Array,
  local: IpEndpoint,
  remote: IpEndpoint,
  clientIsn: number,
  mssIndex: number,
): number {
  const t = tick(now);
  const h = synCookieHash(secret, local, remote, t, clientIsn, mssIndex) & 0xffffff;
  return ((t << 27) | (h << 3) | mssIndex) >>> 0;
}

/**
 * Checks the cookie an ACK returns (SEG.ACK − 1) for the client ISN SEG.SEQ − 1.
 *
 * @returns The MSS index it carries, or -1 when it is forged, altered or expired.
 */
export function checkCookie(
  now: Instant,
  secret: Uint8Array,
  local: IpEndpoint,
  remote: IpEndpoint,
  clientIsn: number,
  cookie: number,
): number {
  const t = cookie >>> 27;
  if (((tick(now) - t) & 31) > 1) return -1;
  const idx = cookie & 7;
  const h = synCookieHash(secret, local, remote, t, clientIsn, idx) & 0xffffff;
  return ((cookie >>> 3) & 0xffffff) === h ? idx : -1;
}

/**
 * Our TSval `tsVal` with the options in its low bits, never above `tsVal` (so timestamps do not
 * jump ahead of our clock).
 */
export function cookieTsVal(
  tsVal: number,
  windowScale: number | null,
  sack: boolean,
  ecn: boolean,
): number {
  const bits = (windowScale === null ? NO_WSCALE : windowScale) | (sack ? SACK_BIT : 0) |
    (ecn ? ECN_BIT : 0);
  let v = ((tsVal & ~COOKIE_TS_MASK) | bits) >>> 0;
  if (((v - tsVal) | 0) > 0) v = (v - (COOKIE_TS_MASK + 1)) >>> 0;
  return v;
}

/**
 * The options a TSecr carries back: the client's window shift (or `null`), SACK-permitted and
 * whether ECN was negotiated.
 */
export function cookieOptions(
  tsEcr: number,
): { windowScale: number | null; sack: boolean; ecn: boolean } {
  const ws = tsEcr & 0xf;
  return {
    windowScale: ws === NO_WSCALE ? null : ws > 14 ? 14 : ws,
    sack: (tsEcr & SACK_BIT) !== 0,
    ecn: (tsEcr & ECN_BIT) !== 0,
  };
}

/**
 * Marks the SYN-ACK of a connection rebuilt from a cookie as sent: SND.NXT = SND.MAX = ISS + 1
 * and the window it announced (unscaled, RFC 7323 §2.2) as the right edge, so the ACK that
 * brought the cookie completes the handshake.
 */
export function markSynAckSent(c: TcpConn, now: Instant): void {
  c.sndNxt = seqAdd(c.iss, 1);
  c.sndMax = c.sndNxt;
  const w = c.rx.window;
  c.rcvAdvRight = seqAdd(c.rcvNxt, w > 65535 ? 65535 : w);
  c.lastAckSent = c.rcvNxt;
  c.timers.rto = now + c.rtt.rto;
}
