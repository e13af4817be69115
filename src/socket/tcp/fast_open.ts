/**
 * TCP Fast Open (RFC 7413): data in the SYN for a client that holds a cookie from an earlier
 * connection to the same server.
 *
 * - The server side ({@linkcode FastOpenServer}, owned by a listener): a cookie is a keyed MAC
 *   (SipHash-2-4) of the client's and the server's addresses (RFC 7413 §4.1.2). A SYN that asks
 *   for one (an empty option) gets it in the SYN-ACK; a SYN whose cookie checks out under the
 *   current or the previous key has its data taken before the handshake completes (§4.2.2), up
 *   to a cap on such pending connections (§5.1); an invalid cookie means a normal handshake that
 *   ignores the data and hands out a valid cookie. A FIN right behind taken data (SYN+data+FIN)
 *   is taken too (`input.ts`); our client's FIN follows the handshake instead, since Linux
 *   listeners drop SYN+FIN.
 * - The client side (its cookies in a `FastOpenCache`, `fast_open_cache.ts`): cookies per server
 *   address, bounded, with the server's MSS; the first SYN of a connection carries the first write's data and the cookie,
 *   or asks for a cookie. The data stays in the send buffer until acknowledged: a SYN-ACK that
 *   acknowledges only the SYN makes it go again after the handshake, so nothing is lost or
 *   delivered twice. A server that answers without Fast Open is remembered as not taking it,
 *   for an hour. A SYN with data that is lost, or a Fast Open connection that takes two
 *   timeouts in a row (or fails of a timeout before its second), pauses Fast Open for a while
 *   (see `fast_open_cache.ts`).
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import type { IpAddress } from "../../wire/address.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import type { SocketContext } from "../context.ts";
import { DEFAULT_MSS_V4, DEFAULT_MSS_V6, EMPTY, mssForMtu, type TcpConn } from "./conn.ts";
import { sipHash24 } from "./isn.ts";
import { seqAdd, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

/**
 * Length of the Fast Open cookies we issue, in bytes (Linux's too; RFC 7413 allows 4–16).
 *
 * @example
 * ```ts
 * import { FAST_OPEN_COOKIE_LEN, fastOpenCookie } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = Ipv4Address.parse("192.0.2.1");
 * assert.equal(fastOpenCookie(new Uint8Array(16), a, a).length, FAST_OPEN_COOKIE_LEN);
 * ```
 */
export const FAST_OPEN_COOKIE_LEN = 8;
/** How long a client's SYN waits for the first write before it leaves without data, in ms. */
export const FAST_OPEN_HOLD = 5;
/** Option space a SYN may take (40 bytes): deducted from the SYN's data room (RFC 6691). */
const SYN_OPTION_ROOM = 40;
/** Domain byte of the cookie MAC: apart from the ISN's, the TSval offset's and SYN cookies'. */
const COOKIE_DOMAIN = 0x46;

/** Scratch input of the cookie MAC: domain byte and two IPv6 addresses at most. */
const macInput = new Uint8Array(1 + 16 + 16);

/**
 * The Fast Open cookie a server issues to `client` (RFC 7413 §4.1.2): the first 8 bytes of
 * SipHash-2-4 over a domain byte, the client's and the server's addresses, keyed with `key`.
 *
 * @param key 16 secret bytes.
 * @param client The client's address.
 * @param server The server's address the SYN was sent to.
 * @returns A new 8-byte cookie.
 * @throws {RangeError} When `key` is not 16 bytes.
 *
 * @example The cookie depends on the key and the client
 * ```ts
 * import { fastOpenCookie } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const key = new Uint8Array(16).fill(1);
 * const server = Ipv4Address.parse("192.0.2.1");
 * const a = fastOpenCookie(key, Ipv4Address.parse("192.0.2.2"), server);
 * assert.equal(a.length, 8);
 * assert.deepEqual(fastOpenCookie(key, Ipv4Address.parse("192.0.2.2"), server), a);
 * assert.notDeepEqual(fastOpenCookie(key, Ipv4Address.parse("192.0.2.3"), server), a);
 * assert.notDeepEqual(fastOpenCookie(new Uint8Array(16), Ipv4Address.parse("192.0.2.2"), server), a);
 * ```
 */
export function fastOpenCookie(key: Uint8Array, client: IpAddress, server: IpAddress): Uint8Array {
  macInput[0] = COOKIE_DOMAIN;
  client.writeTo(macInput, 1);
  const o = 1 + (client.version === 4 ? 4 : 16);
  server.writeTo(macInput, o);
  const len = o + (server.version === 4 ? 4 : 16);
  const h = sipHash24(key, macInput.subarray(0, len));
  const out = new Uint8Array(FAST_OPEN_COOKIE_LEN);
  new DataView(out.buffer).setBigUint64(0, h);
  return out;
}

/** Whether two cookies are the same bytes (lengths included). */
function sameCookie(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Counters of a listener's Fast Open server (in `TcpListenerInfo`).
 *
 * @example
 * ```ts
 * import { TcpListenSocket, type FastOpenServerInfo } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { fastOpen: true });
 * const info: FastOpenServerInfo = l.info;
 * assert.equal(info.fastOpenAccepted, 0);
 * ```
 */
export interface FastOpenServerInfo {
  /** SYN-ACKs that carried a cookie: for a cookie request, or instead of an invalid cookie. */
  fastOpenCookiesSent: number;
  /** SYNs whose cookie was valid and whose data was taken before the handshake completed. */
  fastOpenAccepted: number;
  /** SYNs with an invalid cookie: a normal handshake, their data ignored. */
  fastOpenRejected: number;
  /** SYNs with a valid cookie and data that found the pending Fast Open connections at the cap. */
  fastOpenOverflows: number;
}

/**
 * The server side of Fast Open for one listener: its cookie keys (current and previous, for
 * rotation) and the connections whose SYN data it took and that are still in SYN-RECEIVED.
 *
 * @example A cookie request, then a SYN that returns the cookie with data
 * ```ts
 * import { FastOpenServer, fastOpenCookie } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const key = new Uint8Array(16).fill(9);
 * const srv = new FastOpenServer({ key, maxPending: 1 });
 * const client = Ipv4Address.parse("192.0.2.2"), server = Ipv4Address.parse("192.0.2.1");
 * assert.deepEqual(srv.check(client, server, fastOpenCookie(key, client, server)), true);
 * srv.rotateKey(new Uint8Array(16).fill(10));
 * assert.equal(srv.check(client, server, fastOpenCookie(key, client, server)), true); // previous key
 * srv.rotateKey(new Uint8Array(16).fill(11));
 * assert.equal(srv.check(client, server, fastOpenCookie(key, client, server)), false); // too old
 * ```
 */
export class FastOpenServer {
  /** The key cookies are issued under; `null` is the interface's secret (`cx.isnSecret`). */
  #key: Uint8Array | null;
  /** The key before the last rotation, still accepted; `undefined` when there is none. */
  #prev: Uint8Array | null | undefined = undefined;
  readonly #maxPending: number;
  readonly #pending: Set<TcpConn> = new Set();
  /** The interface secret seen last (for a default key). */
  #secret: Uint8Array | null = null;

  /**
   * Creates the server side.
   *
   * @param options `key`: 16 secret bytes (default: the interface's `isnSecret`);
   * `maxPending`: connections whose SYN data was taken and that have not completed the
   * handshake (default 64, RFC 7413 §5.1).
   * @throws {RangeError} For a key that is not 16 bytes or a non-positive `maxPending`.
   */
  constructor(options: { key?: Uint8Array; maxPending?: number } = {}) {
    this.#key = options.key === undefined ? null : checkKey(options.key);
    const max = options.maxPending ?? 64;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`Invalid Fast Open pending limit ${max}`);
    }
    this.#maxPending = max;
  }

  /**
   * Issues cookies under `key` from now on; cookies under the key before stay valid until the
   * next rotation (as Linux's primary and backup keys).
   *
   * @param key 16 secret bytes.
   * @throws {RangeError} When `key` is not 16 bytes.
   *
   * @example
   * ```ts
   * import { FastOpenServer } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const srv = new FastOpenServer();
   * assert.throws(() => srv.rotateKey(new Uint8Array(8)), RangeError);
   * ```
   */
  rotateKey(key: Uint8Array): void {
    checkKey(key);
    this.#prev = this.#key;
    this.#key = key.slice();
  }

  /**
   * Whether `cookie` is valid for `client` talking to `server` under the current or the
   * previous key. A default key (the interface secret) is only known after the first SYN.
   *
   * @param client The client's address.
   * @param server The server's address.
   * @param cookie The cookie from the SYN.
   * @returns `true` when it checks out.
   *
   * @example
   * ```ts
   * import { FastOpenServer } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const srv = new FastOpenServer({ key: new Uint8Array(16) });
   * const a = Ipv4Address.parse("192.0.2.2"), b = Ipv4Address.parse("192.0.2.1");
   * assert.equal(srv.check(a, b, new Uint8Array(8)), false);
   * ```
   */
  check(client: IpAddress, server: IpAddress, cookie: Uint8Array): boolean {
    const key = this.#key ?? this.#secret;
    if (key !== null && sameCookie(cookie, fastOpenCookie(key, client, server))) return true;
    if (this.#prev === undefined) return false;
    const prev = this.#prev ?? this.#secret;
    return prev !== null && sameCookie(cookie, fastOpenCookie(prev, client, server));
  }

  /** Connections whose SYN data was taken and that are still in SYN-RECEIVED. */
  get pending(): number {
    this.#prune();
    return this.#pending.size;
  }

  #prune(): void {
    for (const c of this.#pending) if (c.state !== TcpState.SynReceived) this.#pending.delete(c);
  }

  /**
   * Judges the Fast Open option of a SYN the listener takes, for the child connection `c` that
   * will process it: sets the cookie its SYN-ACK carries and whether it takes the SYN's data.
   *
   * @internal
   * @returns `true` when the data is taken (the child belongs in the accept queue at once).
   */
  offer(
    cx: SocketContext,
    src: IpAddress,
    dst: IpAddress,
    repr: TcpRepr,
    c: TcpConn,
    info: FastOpenServerInfo,
  ): boolean {
    const cookie = repr.fastOpen;
    if (cookie === undefined || cookie === null) return false;
    this.#secret = cx.isnSecret;
    if (cookie.length === 0) {
      // RFC 7413 §4.1.2: a cookie request; any data in it is ignored (§4.2.1).
      c.tfoCookieOut = fastOpenCookie(this.#key ?? cx.isnSecret, src, dst);
      info.fastOpenCookiesSent++;
      return false;
    }
    if (!this.check(src, dst, cookie)) {
      // §4.2.2: an invalid cookie: a normal handshake acknowledging only the SYN, and (as Linux)
      // a valid cookie for the next connection.
      info.fastOpenRejected++;
      info.fastOpenCookiesSent++;
      c.tfoCookieOut = fastOpenCookie(this.#key ?? cx.isnSecret, src, dst);
      return false;
    }
    if (repr.payload.length === 0) return false;
    this.#prune();
    if (this.#pending.size >= this.#maxPending) {
      info.fastOpenOverflows++; // §5.1: too many pending: fall back to the normal handshake
      return false;
    }
    this.#pending.add(c);
    c.tfoAccept = true;
    info.fastOpenAccepted++;
    return true;
  }
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 16) {
    throw new RangeError(`Invalid Fast Open key: need 16 bytes`);
  }
  return key.slice();
}

/**
 * At an active open with Fast Open on: the option our SYN carries (the cached cookie, or a
 * request), or none for a server that refused it within the hour or while Fast Open is paused after lost
 * SYN data. With a cookie the SYN waits up to {@linkcode FAST_OPEN_HOLD} for the first write.
 */
export function fastOpenConnect(c: TcpConn, now: Instant): void {
  const cache = c.o.fastOpen;
  if (cache === null) return;
  const server = c.remote!.addr;
  if (cache.disabled(server, now) || cache.paused(server, now)) return;
  const cookie = cache.cookie(server);
  c.tfoCookie = cookie ?? EMPTY;
  if (cookie !== null) c.timers.hold = now + FAST_OPEN_HOLD;
}

/**
 * Whether our first SYN still waits for data (a cookie is ready, nothing written yet, the hold
 * not over).
 */
export function fastOpenHolds(c: TcpConn, now: Instant): boolean {
  if (c.timers.hold === NEVER) return false;
  if (c.tx.length > 0 || now >= c.timers.hold) {
    c.timers.hold = NEVER;
    return false;
  }
  return true;
}

/**
 * Data bytes our first SYN carries: the queued data up to the server's MSS (remembered with the
 * cookie, else the RFC 9293 default) and ours, less the SYN's option room (RFC 6691); 0 without
 * a cookie.
 */
export function fastOpenSynData(c: TcpConn, ipMtu: number): number {
  const cookie = c.tfoCookie;
  if (cookie === null || cookie.length === 0 || c.sndMax !== c.iss) return 0;
  const local = c.local!;
  let mss = c.o.fastOpen!.mss(c.remote!.addr) ??
    (local.addr.version === 6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
  const ours = c.o.mss ?? mssForMtu(ipMtu, local);
  if (ours < mss) mss = ours;
  const room = mss - SYN_OPTION_ROOM;
  const n = c.tx.length;
  return n < room ? n : room > 0 ? room : 0;
}

/** The Fast Open option of the SYN or SYN-ACK `r` is about to carry, as a new repr. */
export function withFastOpen(c: TcpConn, r: TcpRepr, synAck: boolean, again: boolean): TcpRepr {
  if (synAck) return c.tfoCookieOut === null ? r : { ...r, fastOpen: c.tfoCookieOut };
  // A SYN sent again after a timeout goes plain, without data (as Linux after a SYN-data loss):
  // a middlebox may drop SYNs with unknown options or data.
  if (c.tfoCookie === null || again) return r;
  return { ...r, fastOpen: c.tfoCookie };
}

/**
 * The client's side of the SYN-ACK (before its ACK is applied): drops the SYN data it
 * acknowledged from the send buffer (the rest goes again after the handshake) and updates the
 * cookie cache.
 */
export function fastOpenSynAck(c: TcpConn, repr: TcpRepr, now: Instant): void {
  if (c.tfoCookie === null) return;
  const cache = c.o.fastOpen!;
  const server = c.remote!.addr;
  const sent = c.tfoSynData;
  let acked = seqSub(repr.ack, seqAdd(c.iss, 1));
  if (acked < 0) acked = 0;
  if (acked > sent) acked = sent;
  if (acked > 0) {
    c.tx.dequeueAllocated(acked);
    c.counters.fastOpenDataAcked++;
    cache.noteSynDataAcked(server, now);
  }
  if (sent > acked) c.counters.fastOpenFallbacks++;
  const cookie = repr.fastOpen;
  if (cookie !== undefined && cookie !== null && cookie.length > 0) {
    cache.set(server, cookie, repr.mss);
  } else if (sent > 0 && acked === 0 && c.rtoCount > 0) {
    // The SYN with data timed out and the SYN-ACK to a plain SYN sent again neither carries a
    // cookie nor acknowledges the data: the path (or the server) dropped the SYN data (Linux's
    // `syn_drop` in tcp_rcv_fastopen_synack). Recurring drops pause Fast Open to this server.
    cache.noteSynDataDrop(server, now);
  } else if (c.rtoCount === 0 && (c.tfoCookie.length === 0 || (sent > 0 && acked === 0))) {
    // The server answered our first SYN (a cookie request, or data with a cookie) without Fast
    // Open: it does not take it (RFC 7413 §4.1.3). A valid cookie without data draws no option
    // either, and a SYN sent again after a timeout goes plain: neither teaches anything.
    cache.noteRefused(server, now);
  }
  c.tfoCookie = null;
}

/** Timeouts in a row that make a Fast Open connection a suspected black hole (Linux's). */
const BLACKHOLE_RTOS = 2;

/**
 * After a retransmission timeout of `c` (its SYN or its data): a connection whose SYN carried
 * data that now took its second timeout in a row suggests a middlebox that drops Fast Open
 * connections (during or after the handshake): Fast Open pauses for every server of its cache
 * (Linux's `tcp_fastopen_active_detect_blackhole`).
 */
export function fastOpenOnTimeout(c: TcpConn, now: Instant): void {
  if (c.tfoSynData === 0 || c.rtoCount !== BLACKHOLE_RTOS) return;
  c.o.fastOpen?.noteBlackhole(now);
}

/**
 * When `c` is about to fail with `"timedOut"` from its retransmission timer's side (the connect
 * timeout, the user timeout, or the last retransmission given up): a connection whose SYN
 * carried data that dies before its second timeout is a suspected black hole too, as in Linux's
 * `tcp_fastopen_active_detect_blackhole` (`timeouts < 2 && expired`). Without this, a connect
 * timeout shorter than the first two RTOs (1 s + 2 s) would hide every black hole. Keep-alive
 * and zero-window probes that give up are not counted (Linux checks neither).
 */
export function fastOpenOnExpiry(c: TcpConn, now: Instant): void {
  if (c.tfoSynData === 0 || c.rtoCount >= BLACKHOLE_RTOS) return; // the 2nd timeout counted
  c.o.fastOpen?.noteBlackhole(now);
}

/**
 * The server's side of a SYN whose data the listener took: the data goes into the receive
 * buffer and RCV.NXT past it, so the SYN-ACK acknowledges it (RFC 7413 §4.2.2). Called after the
 * SYN's options are taken.
 */
export function fastOpenTakeData(c: TcpConn, repr: TcpRepr): void {
  if (!c.tfoAccept || repr.payload.length === 0) return;
  const n = c.rx.enqueueSlice(repr.payload);
  c.rcvNxt = seqAdd(c.rcvNxt, n);
  c.lastAckSent = c.rcvNxt;
  c.rcvAdvRight = c.rcvNxt;
  c.counters.bytesIn += n;
}
