/**
 * {@linkcode TcpListenSocket}: one listening endpoint with a bounded SYN queue and a bounded
 * accept queue (a listen backlog), creating one child {@linkcode TcpSocket} per connection.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../../wire/address.ts";
import { TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import type { SocketContext } from "../context.ts";
import { type ResolvedTcpOptions, resolveOptions, type TcpSocketOptions } from "./config.ts";
import {
  DEFAULT_MSS_V4,
  DEFAULT_MSS_V6,
  EMPTY,
  mssForMtu,
  NO_BLOCKS,
  type ParentHooks,
  windowShift,
} from "./conn.ts";
import { FastOpenServer, type FastOpenServerInfo } from "./fast_open.ts";
import { timestampOffset } from "./isn.ts";
import {
  checkCookie,
  COOKIE_MSS,
  COOKIE_TICK,
  cookieMssIndex,
  cookieOptions,
  cookieTsVal,
  makeCookie,
  markSynAckSent,
} from "./syn_cookie.ts";
import { attachParent, connOf, TcpSocket } from "./socket.ts";
import { TcpState } from "./state.ts";
import { wakeSocket } from "../waker.ts";

/**
 * Options of a {@linkcode TcpListenSocket}.
 *
 * @example
 * ```ts
 * import { TcpListenSocket, TokenBucket } from "@smol/net/socket";
 * import type { TcpListenOptions } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
 * const opts: TcpListenOptions = { backlog: 16, synQueue: 1, synCookies: false, socket: { noDelay: true } };
 * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, opts);
 * const syn = {
 *   srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN, window: 100, urgent: 0,
 *   mss: null, windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
 *   payload: new Uint8Array(0) };
 * const [a, b] = [Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2")];
 * l.onSyn(cx, a, b, syn);
 * l.onSyn(cx, a, b, { ...syn, srcPort: 4001 }); // the SYN queue is full and cookies are off
 * assert.equal(l.synQueueLength, 1);
 * assert.equal(l.info.evicted, 1); // the older half-open connection made room
 * assert.throws(() => new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { backlog: 0 }), RangeError);
 * ```
 *
 * @example Fast Open: a SYN asking for a cookie gets one in the SYN-ACK
 * ```ts
 * import { fastOpenCookie, TcpListenSocket, TokenBucket } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, TcpFlags, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
 * const key = new Uint8Array(16).fill(7);
 * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { fastOpen: { key } });
 * const syn: TcpRepr = { srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN,
 *   window: 100, urgent: 0, mss: 1460, windowScale: null, sackPermitted: false, sackBlocks: [],
 *   timestamp: null, fastOpen: new Uint8Array(0), payload: new Uint8Array(0) };
 * const [client, server] = [Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2")];
 * const child = l.onSyn(cx, client, server, syn)!;
 * child.process(cx, client, server, syn);
 * let synAck: TcpRepr | null = null;
 * child.dispatch(cx, { emitTcp: (_s, _d, r) => (synAck = r, true) });
 * assert.deepEqual(synAck!.fastOpen, fastOpenCookie(key, client, server));
 * assert.equal(l.info.fastOpenCookiesSent, 1);
 * ```
 */
export interface TcpListenOptions {
  /** Established connections waiting for `accept()` (default 128); SYNs beyond it are dropped. */
  backlog?: number;
  /**
   * Half-open (SYN-RECEIVED) connections kept (default 1024). Beyond it SYNs are answered with
   * SYN cookies, or, with `synCookies: false`, the oldest half-open connection is evicted.
   */
  synQueue?: number;
  /** Answer SYNs with SYN cookies (RFC 4987) while the SYN queue is full (default `true`). */
  synCookies?: boolean;
  /** Options for every child socket. */
  socket?: TcpSocketOptions;
  /**
   * Take TCP Fast Open (RFC 7413), default `false` (off, like Linux): a SYN asking for a cookie
   * gets one; a SYN with a valid cookie has its data taken and its child goes to the accept
   * queue at once, readable before the handshake completes. `true` issues cookies under the
   * interface secret; `key` (16 bytes) sets the key, `maxPending` (default 64) caps the children
   * whose SYN data was taken and whose handshake is not complete (RFC 7413 §5.1). See
   * {@linkcode TcpListenSocket.rotateFastOpenKey}.
   */
  fastOpen?: boolean | { key?: Uint8Array; maxPending?: number };
  /**
   * Take segments for every destination address and port (default `false`): each child is bound
   * to its SYN's destination. For an interface in accept-any mode (`InterfaceConfig.acceptAny`),
   * which hands such a listener every SYN no other listener takes; the local port may then be 0.
   */
  transparent?: boolean;
}

/**
 * Counters of a {@linkcode TcpListenSocket}.
 *
 * @example
 * ```ts
 * import { TcpListenSocket, TokenBucket, type TcpListenerInfo } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
 * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * const syn = {
 *   srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN, window: 100, urgent: 0,
 *   mss: null, windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
 *   payload: new Uint8Array(0) };
 * const [a, b] = [Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2")];
 * l.onSyn(cx, a, b, syn);
 * l.onSyn(cx, a, b, { ...syn, dstPort: 81 }); // not this listener's port
 * const info: TcpListenerInfo = l.info;
 * assert.equal(info.synsReceived, 2);
 * assert.equal(info.synsDropped, 1);
 * assert.equal(info.synQueueLength, 1);
 * ```
 */
export interface TcpListenerInfo extends FastOpenServerInfo {
  /** SYNs offered through `onSyn`. */
  synsReceived: number;
  /** SYNs dropped (accept queue full, invalid, or listener closed). */
  synsDropped: number;
  /** Half-open children evicted to make room in the SYN queue. */
  evicted: number;
  /** Children handed out by `accept()`. */
  accepted: number;
  /**
   * Handshake-completing ACKs dropped because the accept queue held `backlog` children (the
   * child stays in SYN-RECEIVED until there is room; the peer retransmits).
   */
  acceptOverflows: number;
  /** Children waiting for `accept()`. */
  pendingAccepts: number;
  /** Children in the SYN queue. */
  synQueueLength: number;
  /** SYN-ACKs sent with a SYN cookie because the SYN queue was full. */
  synCookiesSent: number;
  /** ACKs that returned a valid cookie: connections rebuilt from it. */
  synCookiesAccepted: number;
  /** ACKs whose cookie was forged, altered or expired (answered like any stray ACK: RST). */
  synCookiesRejected: number;
}

/**
 * A listen backlog: the Interface gives it each SYN that matches no connection; it returns a
 * child socket in LISTEN that the Interface registers under the SYN's 4-tuple and then feeds
 * the same SYN. Children that reach ESTABLISHED wait in the accept queue.
 *
 * SYN flood policy: when the accept queue holds `backlog` children, new SYNs are dropped
 * (never answered with RST, so the peer retries), and a half-open child whose handshake completes
 * then drops the completing ACK and stays in SYN-RECEIVED until `accept()` makes room (its peer
 * retransmits), so the accept queue never holds more than `backlog`. When the SYN queue is full,
 * new SYNs get a SYN-ACK carrying a SYN cookie ({@linkcode TcpListenSocket.synCookie}) and no
 * state; the client's ACK returns it and {@linkcode TcpListenSocket.onCookieAck} rebuilds the
 * connection with its MSS, window scale, SACK-permitted and timestamps (RFC 4987 §3.6). Memory
 * stays bounded, no half-open connection is dropped, and a client that counts itself
 * established is never reset. With `synCookies: false` the oldest half-open child is aborted
 * silently instead.
 *
 * @example
 * ```ts
 * import { TcpListenSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 8080 }, { backlog: 4 });
 * assert.equal(listener.accept(), null);
 * assert.equal(listener.pendingAccepts, 0);
 * ```
 */
export class TcpListenSocket {
  readonly #local: IpEndpoint;
  readonly #backlog: number;
  readonly #synMax: number;
  readonly #opts: TcpSocketOptions;
  readonly #resolved: ResolvedTcpOptions;
  readonly #cookies: boolean;
  readonly #transparent: boolean;
  /** The Fast Open server side, `null` when off. */
  readonly #tfo: FastOpenServer | null;
  /** When the last cookie went out (cookie ACKs are only checked for two ticks after). */
  #lastCookie = Number.NEGATIVE_INFINITY;
  readonly #syn: Set<TcpSocket> = new Set();
  readonly #ready: Set<TcpSocket> = new Set();
  /**
   * Children of the SYN queue whose completing ACK was dropped because the accept queue was full
   * (the peer counts itself established), oldest first; `accept()` asks them to complete again.
   */
  readonly #heldBack: Set<TcpSocket> = new Set();
  /** Held-back children asked again whose handshake has not completed yet. */
  readonly #asked: Set<TcpSocket> = new Set();
  readonly #hooks: ParentHooks;
  #closed = false;
  readonly #info: TcpListenerInfo = {
    synsReceived: 0,
    synsDropped: 0,
    evicted: 0,
    accepted: 0,
    acceptOverflows: 0,
    pendingAccepts: 0,
    synQueueLength: 0,
    synCookiesSent: 0,
    synCookiesAccepted: 0,
    synCookiesRejected: 0,
    fastOpenCookiesSent: 0,
    fastOpenAccepted: 0,
    fastOpenRejected: 0,
    fastOpenOverflows: 0,
  };

  /**
   * Creates a listener on `local` (the address may be unspecified).
   *
   * @param local The listening endpoint.
   * @param options Backlog, SYN queue size and child socket options.
   * @throws {RangeError} For a non-positive backlog or SYN queue size, or bad socket options.
   * @throws {TypeError} For a bad port.
   */
  constructor(local: IpEndpoint, options: TcpListenOptions = {}) {
    this.#transparent = options.transparent ?? false;
    const min = this.#transparent ? 0 : 1;
    if (!Number.isInteger(local.port) || local.port < min || local.port > 65535) {
      throw new TypeError(`Invalid listening port ${local.port}`);
    }
    const backlog = options.backlog ?? 128;
    const synMax = options.synQueue ?? 1024;
    if (!Number.isSafeInteger(backlog) || backlog < 1) {
      throw new RangeError(`Invalid backlog ${backlog}`);
    }
    if (!Number.isSafeInteger(synMax) || synMax < 1) {
      throw new RangeError(`Invalid SYN queue size ${synMax}`);
    }
    this.#local = local;
    this.#backlog = backlog;
    this.#synMax = synMax;
    this.#opts = options.socket ?? {};
    this.#resolved = resolveOptions(this.#opts);
    this.#cookies = options.synCookies ?? true;
    const tfo = options.fastOpen ?? false;
    this.#tfo = tfo === false ? null : new FastOpenServer(tfo === true ? {} : tfo);
    const syn = this.#syn;
    const ready = this.#ready;
    const heldBack = this.#heldBack;
    const asked = this.#asked;
    const info = this.#info;
    const grew = (): void => wakeSocket(this);
    this.#hooks = {
      mayComplete(child: unknown): boolean {
        // The backlog bounds the accept queue itself: SYNs are admitted while it has room, so
        // SYNs that arrive together can complete together; those beyond it wait half-open. A
        // Fast Open child is in the accept queue already.
        if (ready.size < backlog || ready.has(child as TcpSocket)) return true;
        info.acceptOverflows++;
        asked.delete(child as TcpSocket);
        heldBack.add(child as TcpSocket);
        return false;
      },
      childStateChanged(child: unknown, _from: TcpState, to: TcpState): void {
        const s = child as TcpSocket;
        if (to !== TcpState.SynReceived) {
          heldBack.delete(s);
          asked.delete(s);
        }
        if (to === TcpState.Closed) {
          // Died before the handshake completed: forget it. A child that dies after ESTABLISHED
          // stays queued; accept() hands it out and the reader sees the error.
          syn.delete(s);
          return;
        }
        if (to !== TcpState.SynReceived && syn.delete(s)) {
          ready.add(s);
          grew(); // the accept queue grew: the listener's waker tells whoever waits in accept()
        }
      },
    };
  }

  /**
   * The listening endpoint.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).local.port, 80);
   * ```
   */
  get local(): IpEndpoint {
    return this.#local;
  }

  /**
   * Offers a segment that matched no connection. For a valid SYN with room in the accept
   * queue, returns a new child socket in LISTEN bound to `(dst, port)`; the caller registers it
   * under the 4-tuple and calls `child.process(cx, src, dst, repr)` with the same SYN. Returns
   * `null` for anything else: the caller answers a non-SYN like a closed port (see
   * `tcpResetFor`) unless {@linkcode TcpListenSocket.onCookieAck} takes it, and for a refused
   * SYN sends what {@linkcode TcpListenSocket.synCookie} returns, or nothing.
   *
   * @param cx The interface context.
   * @param src The SYN's source address.
   * @param dst The SYN's destination address.
   * @param repr The segment.
   * @returns The child socket, or `null`.
   *
   * @example
   * ```ts
   * import { TcpListenSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * const child = l.onSyn(cx, Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2"), {
   *   srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN, window: 100, urgent: 0,
   *   mss: null, windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
   *   payload: new Uint8Array(0) });
   * assert.equal(child?.state, "listen");
   * assert.equal(l.synQueueLength, 1);
   * ```
   */
  onSyn(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpSocket | null {
    const info = this.#info;
    info.synsReceived++;
    if (!this.#takes(src, dst, repr, TcpFlags.SYN)) {
      info.synsDropped++;
      return null;
    }
    if (this.#ready.size >= this.#backlog) {
      info.synsDropped++;
      return null;
    }
    if (this.#syn.size >= this.#synMax) {
      if (this.#cookies) return null; // synCookie() answers it

      const oldest = this.#syn.values().next().value!;
      this.#syn.delete(oldest);
      info.evicted++;
      attachParent(oldest, null);
      oldest.abort();
      connOf(oldest).rstPending = false; // evicted silently: no RST
    }
    const child = new TcpSocket(this.#opts);
    child.listen({ addr: dst, port: this.#portFor(repr) });
    attachParent(child, this.#hooks);
    const tfo = this.#tfo;
    if (
      tfo !== null && repr.fastOpen !== undefined && repr.fastOpen !== null &&
      tfo.offer(cx, src, dst, repr, connOf(child), this.#info)
    ) {
      // RFC 7413 §4.2.2: the data is readable before the handshake completes, so the child goes
      // to the accept queue at once (the backlog check above bounds it).
      this.#ready.add(child);
      wakeSocket(this);
      return child;
    }
    this.#syn.add(child);
    return child;
  }

  /**
   * Whether this listener takes TCP Fast Open (`TcpListenOptions.fastOpen`).
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const local = { addr: Ipv4Address.UNSPECIFIED, port: 80 };
   * assert.equal(new TcpListenSocket(local, { fastOpen: true }).fastOpen, true);
   * assert.equal(new TcpListenSocket(local).fastOpen, false);
   * ```
   */
  get fastOpen(): boolean {
    return this.#tfo !== null;
  }

  /**
   * Issues Fast Open cookies under `key` from now on; cookies issued under the key before stay
   * valid until the next rotation.
   *
   * @param key 16 secret bytes.
   * @throws {Error} When Fast Open is off for this listener.
   * @throws {RangeError} When `key` is not 16 bytes.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { fastOpen: true });
   * l.rotateFastOpenKey(crypto.getRandomValues(new Uint8Array(16)));
   * assert.throws(() => l.rotateFastOpenKey(new Uint8Array(4)), RangeError);
   * ```
   */
  rotateFastOpenKey(key: Uint8Array): void {
    if (this.#tfo === null) throw new Error("Fast Open is off for this listener");
    this.#tfo.rotateKey(key);
  }

  /** Whether `repr` from `src` to `dst` is for this listener and has exactly `flag` of SYN/ACK/RST. */
  #takes(src: IpAddress, dst: IpAddress, repr: TcpRepr, flag: number): boolean {
    const f = repr.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST);
    if (this.#transparent) {
      return !this.#closed && f === flag && src.isUnicast && src.version === dst.version;
    }
    return !this.#closed && f === flag && repr.dstPort === this.#local.port && src.isUnicast &&
      (this.#local.addr.isUnspecified || this.#local.addr.equals(dst)) &&
      src.version === dst.version;
  }

  /** The local port of a child: the listener's, or the segment's for a transparent listener. */
  #portFor(repr: TcpRepr): number {
    return this.#transparent ? repr.dstPort : this.#local.port;
  }

  /**
   * The SYN-ACK for a SYN that {@linkcode TcpListenSocket.onSyn} refused because the SYN queue
   * is full: its sequence number is a SYN cookie (RFC 4987 §3.6) and nothing is kept. `null`
   * when cookies are off or the SYN is refused for another reason (send nothing then).
   *
   * @param cx The interface context (time, MTU, secret).
   * @param src The SYN's source address.
   * @param dst The SYN's destination address.
   * @param repr The SYN.
   * @returns The SYN-ACK to send from `dst` to `src`, or `null`.
   *
   * @example
   * ```ts
   * import { TcpListenSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { synQueue: 1 });
   * const syn = { srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN, window: 100,
   *   urgent: 0, mss: 1460, windowScale: null, sackPermitted: false, sackBlocks: [],
   *   timestamp: null, payload: new Uint8Array(0) };
   * const a = Ipv4Address.parse("192.0.2.1"), b = Ipv4Address.parse("192.0.2.2");
   * l.onSyn(cx, a, b, syn); // takes the only SYN queue slot
   * assert.equal(l.onSyn(cx, a, b, { ...syn, srcPort: 4001 }), null);
   * const synAck = l.synCookie(cx, a, b, { ...syn, srcPort: 4001 });
   * assert.equal(synAck?.flags, TcpFlags.SYN | TcpFlags.ACK);
   * assert.equal(l.synQueueLength, 1);
   * ```
   */
  synCookie(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpRepr | null {
    if (
      !this.#cookies || !this.#takes(src, dst, repr, TcpFlags.SYN) ||
      this.#ready.size >= this.#backlog || this.#syn.size < this.#synMax
    ) {
      return null;
    }
    const o = this.#resolved;
    const local = { addr: dst, port: this.#portFor(repr) };
    const remote = { addr: src, port: repr.srcPort };
    const mssIndex = cookieMssIndex(
      repr.mss ?? (dst.version === 6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4),
    );
    const iss = makeCookie(cx.now, cx.isnSecret, local, remote, repr.seq, mssIndex);
    const ws = o.windowScale && repr.windowScale !== null;
    const sack = o.sack && repr.sackPermitted;
    const ts = o.timestamps ? repr.timestamp : null;
    // RFC 3168 §6.1.1: an ECN-setup SYN (ECE and CWR) to a listener that takes ECN; the cookie
    // carries the verdict in the TSval, so only with timestamps.
    const ecnSetup = TcpFlags.ECE | TcpFlags.CWR;
    const ecn = ts !== null && o.ecn !== "off" && (repr.flags & ecnSetup) === ecnSetup;
    let timestamp = null;
    if (ts !== null) {
      const off = o.timestampOffset ?? timestampOffset(cx.isnSecret, dst, src);
      const tsVal = cookieTsVal(
        (Math.floor(cx.now) + off) >>> 0,
        ws ? repr.windowScale : null,
        sack,
        ecn,
      );
      timestamp = { tsVal, tsEcr: ts.tsVal };
    }
    this.#lastCookie = cx.now;
    this.#info.synCookiesSent++;
    // Without timestamps the cookie cannot carry window scale and SACK: offer neither.
    return {
      srcPort: local.port,
      dstPort: remote.port,
      seq: iss,
      ack: (repr.seq + 1) >>> 0,
      flags: TcpFlags.SYN | TcpFlags.ACK | (ecn ? TcpFlags.ECE : 0),
      window: o.rxBufferSize < 65535 ? o.rxBufferSize : 65535,
      urgent: 0,
      mss: o.mss ?? mssForMtu(cx.ipMtu, local),
      windowScale: ws && ts !== null ? windowShift(o.rxBufferMax) : null,
      sackPermitted: sack && ts !== null,
      sackBlocks: NO_BLOCKS,
      timestamp,
      payload: EMPTY,
    };
  }

  /**
   * Offers an ACK that matched no connection. When it returns a valid SYN cookie (sent in the
   * last two cookie periods), returns the connection rebuilt from it, in SYN-RECEIVED as if our
   * SYN-ACK had just been acknowledged-to-be: the caller registers it under the 4-tuple and calls
   * `child.process(cx, src, dst, repr)` with the same ACK, which completes the handshake. A
   * forged, altered or expired cookie is counted and `null` returned (the caller answers with a
   * RST, as to any stray ACK); so is any ACK while no cookie was sent recently.
   *
   * @param cx The interface context.
   * @param src The ACK's source address.
   * @param dst The ACK's destination address.
   * @param repr The ACK.
   * @returns The child socket, or `null`.
   *
   * @example A stray ACK while no cookie was sent is not ours
   * ```ts
   * import { TcpListenSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * const child = l.onCookieAck(cx, Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("192.0.2.2"), {
   *   srcPort: 4000, dstPort: 80, seq: 2, ack: 99, flags: TcpFlags.ACK, window: 100, urgent: 0,
   *   mss: null, windowScale: null, sackPermitted: false, sackBlocks: [], timestamp: null,
   *   payload: new Uint8Array(0) });
   * assert.equal(child, null); // the caller answers it like a closed port
   * ```
   */
  onCookieAck(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpSocket | null {
    if (
      !this.#cookies || !this.#takes(src, dst, repr, TcpFlags.ACK) ||
      cx.now - this.#lastCookie > 2 * COOKIE_TICK
    ) {
      return null;
    }
    const local = { addr: dst, port: this.#portFor(repr) };
    const remote = { addr: src, port: repr.srcPort };
    const clientIsn = (repr.seq - 1) >>> 0;
    const cookie = (repr.ack - 1) >>> 0;
    const mssIndex = checkCookie(cx.now, cx.isnSecret, local, remote, clientIsn, cookie);
    if (mssIndex < 0) {
      this.#info.synCookiesRejected++;
      return null;
    }
    this.#info.synCookiesAccepted++;
    const ts = this.#resolved.timestamps ? repr.timestamp : null;
    const opts = ts === null ? null : cookieOptions(ts.tsEcr);
    const child = new TcpSocket({ ...this.#opts, initialSequenceNumber: cookie });
    child.listen(local);
    attachParent(child, this.#hooks);
    // The client's SYN as the cookie remembers it (an ECN-setup SYN when ECN was agreed).
    child.process(cx, src, dst, {
      srcPort: remote.port,
      dstPort: local.port,
      seq: clientIsn,
      ack: 0,
      flags: TcpFlags.SYN | (opts !== null && opts.ecn ? TcpFlags.ECE | TcpFlags.CWR : 0),
      window: repr.window,
      urgent: 0,
      mss: COOKIE_MSS[mssIndex]!,
      windowScale: opts === null ? null : opts.windowScale,
      sackPermitted: opts !== null && opts.sack,
      sackBlocks: NO_BLOCKS,
      timestamp: ts === null ? null : { tsVal: ts.tsVal, tsEcr: 0 },
      payload: EMPTY,
    });
    markSynAckSent(connOf(child), cx.now);
    this.#syn.add(child);
    return child;
  }

  /**
   * The oldest established (or later) child not yet accepted, or `null`.
   *
   * @returns The connection.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).accept(), null);
   * ```
   */
  accept(): TcpSocket | null {
    for (const s of this.#ready) {
      this.#ready.delete(s);
      attachParent(s, null);
      this.#info.accepted++;
      if (this.#heldBack.size > 0) this.#askHeldBack();
      return s;
    }
    return null;
  }

  /**
   * Children whose handshake the peer completed while the accept queue was full: they wait in
   * SYN-RECEIVED with their completing ACK dropped (Linux's listen overflow). Each
   * {@linkcode TcpListenSocket.accept} that makes room asks the oldest of them, as many as there
   * is room for, to send their SYN-ACK again on the next poll; the peer's answering ACK then
   * completes the handshake. Without this they would wait for their SYN-ACK retransmission
   * timers, which back off to seconds, and a burst of held-back children, all retransmitting at
   * once, would fill the queue again: only `backlog` of them would complete per backoff, and the
   * rest could time out while their peers, established, wait for data forever.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).heldBack, 0);
   * ```
   */
  get heldBack(): number {
    return this.#heldBack.size;
  }

  /** Asks held-back children, oldest first, to send their SYN-ACK again, while there is room. */
  #askHeldBack(): void {
    const heldBack = this.#heldBack;
    for (const s of heldBack) {
      if (this.#ready.size + this.#asked.size >= this.#backlog) return;
      heldBack.delete(s);
      const c = connOf(s);
      if (c.state !== TcpState.SynReceived || c.sndMax === c.iss) continue;
      // Planned like the SYN-ACK sent again for a duplicate SYN: no backoff, no RTT sample.
      c.sndNxt = c.iss;
      this.#asked.add(s);
      wakeSocket(s);
    }
  }

  /**
   * Children waiting for {@linkcode TcpListenSocket.accept}.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).pendingAccepts, 0);
   * ```
   */
  get pendingAccepts(): number {
    return this.#ready.size;
  }

  /**
   * Half-open children in the SYN queue.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).synQueueLength, 0);
   * ```
   */
  get synQueueLength(): number {
    return this.#syn.size;
  }

  /**
   * Whether {@linkcode TcpListenSocket.close} was called.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).isClosed, false);
   * ```
   */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Stops taking SYNs and aborts every child never accepted (each sends a RST at its next
   * dispatch).
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * l.close();
   * assert.equal(l.isClosed, true);
   * ```
   */
  close(): void {
    this.#closed = true;
    for (const s of this.#syn) {
      attachParent(s, null);
      s.abort();
    }
    for (const s of this.#ready) {
      attachParent(s, null);
      s.abort();
    }
    this.#syn.clear();
    this.#ready.clear();
    this.#heldBack.clear();
    this.#asked.clear();
  }

  /**
   * Counters, refreshed into one reused object.
   *
   * @example
   * ```ts
   * import { TcpListenSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }).info.accepted, 0);
   * ```
   */
  get info(): TcpListenerInfo {
    this.#info.pendingAccepts = this.#ready.size;
    this.#info.synQueueLength = this.#syn.size;
    return this.#info;
  }
}
