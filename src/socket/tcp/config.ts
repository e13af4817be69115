/**
 * Options of a {@linkcode TcpSocket} and their defaults.
 *
 * @module
 */

import type { Duration } from "../../time.ts";
import { RX_BUFFER_DEFAULT, RX_BUFFER_MAX, TX_BUFFER_DEFAULT, TX_BUFFER_MAX } from "./autotune.ts";
import { DEFAULT_FAST_OPEN_CACHE, FastOpenCache } from "./fast_open_cache.ts";
import type { RttOptions } from "./rtt.ts";

/**
 * Keep-alive tuning (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): after `idle` ms without hearing from
 * the peer, send a probe every `interval` ms; after `count` unanswered probes the connection
 * fails with `"timedOut"`.
 *
 * @example
 * ```ts
 * import { TcpSocket } from "@smol/net/socket";
 * import type { KeepAliveOptions } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const ka: KeepAliveOptions = { idle: 7_200_000, interval: 75_000, count: 9 }; // RFC 1122 defaults
 * new TcpSocket({ keepAlive: ka });
 * assert.throws(() => new TcpSocket({ keepAlive: { ...ka, count: 0 } }), RangeError);
 * ```
 */
export interface KeepAliveOptions {
  /** Idle time before the first probe, in ms. */
  readonly idle: Duration;
  /** Time between probes, in ms. */
  readonly interval: Duration;
  /** Unanswered probes before giving up. */
  readonly count: number;
}

/**
 * Options of a {@linkcode TcpSocket}; every field is optional.
 *
 * @example
 * ```ts
 * import { TcpSocket, type TcpSocketOptions } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const opts: TcpSocketOptions = { rxBufferSize: 256 * 1024, congestion: "cubic", noDelay: true };
 * const sock = new TcpSocket(opts);
 * assert.equal(sock.recvCapacity, 262144);
 * ```
 *
 * @example Fast Open: with a cached cookie the first SYN carries the data written before it
 * ```ts
 * import { FastOpenCache, TcpSocket, TokenBucket, type TcpSocketOptions } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
 * const server = Ipv4Address.parse("192.0.2.1");
 * const cache = new FastOpenCache();
 * cache.set(server, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 1460); // from an earlier connection
 * const opts: TcpSocketOptions = { fastOpen: cache, mtuProbing: "blackHole" };
 * const s = new TcpSocket(opts);
 * s.connect(cx, { addr: server, port: 80 }, { addr: Ipv4Address.parse("192.0.2.2"), port: 40000 });
 * assert.equal(s.send(new TextEncoder().encode("GET /")), 5); // allowed in SYN-SENT
 * let syn: TcpRepr | null = null;
 * s.dispatch(cx, { emitTcp: (_s, _d, r) => (syn = r, true) });
 * assert.equal(syn!.payload.length, 5);
 * assert.deepEqual(syn!.fastOpen, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
 * ```
 */
export interface TcpSocketOptions {
  /**
   * A fixed receive buffer size in bytes; it also sets the window scale shift. By default the
   * buffer is autotuned: 128 KiB at first, growing with what the application reads per round
   * trip up to 6 MiB (Linux's dynamic right-sizing and `tcp_rmem`).
   */
  rxBufferSize?: number;
  /**
   * A fixed send buffer size in bytes. By default the buffer is autotuned: 64 KiB at first,
   * then twice the congestion window, up to 4 MiB (Linux's `tcp_wmem`); it returns to 64 KiB
   * when the connection idles.
   */
  txBufferSize?: number;
  /** Congestion control algorithm (default `"newreno"`). */
  congestion?: "newreno" | "cubic";
  /**
   * HyStart++ (RFC 9406) for either congestion control, default `true` (as Linux's CUBIC, whose
   * HyStart is on by default): in the initial slow start, when the minimum RTT of a round trip
   * rises by clamp(RTT/8, 4 ms, 16 ms) over the last one, the window grows a quarter as fast
   * (Conservative Slow Start) and, unless the RTT falls back, slow start ends after five round
   * trips with `ssthresh = cwnd`, before the path's queue overflows. It needs RTT samples on
   * most ACKs: timestamps (on by default) or, without them, RACK's sample of the newest segment
   * each ACK acknowledges (needs SACK). `false` leaves slow start only on loss.
   */
  hystart?: boolean;
  /** Disable Nagle's algorithm (default `false`, i.e. Nagle on). */
  noDelay?: boolean;
  /** Keep-alive probing, or `null` (default) for none. */
  keepAlive?: KeepAliveOptions | null;
  /**
   * RFC 5482 user timeout in ms, default `null` (none): fail with `"timedOut"` when sent data
   * stays unacknowledged this long, or when queued data waits this long for a peer that keeps
   * its window closed (counted from the moment the persist timer first armed; zero window
   * probes that the peer answers do not extend it).
   */
  userTimeout?: Duration | null;
  /** Give up an opening handshake after this many ms (default 75000). */
  connectTimeout?: Duration;
  /** RFC 6298 retransmission timer tuning. */
  rto?: RttOptions;
  /** TIME-WAIT duration, 2×MSL, in ms (default 60000). */
  timeWait?: Duration;
  /** Delayed ACK bound in ms (default 40); 0 acknowledges every segment at once. */
  delayedAck?: Duration;
  /** Offer/accept SACK (RFC 2018), default `true`. */
  sack?: boolean;
  /** Offer/accept timestamps (RFC 7323), default `true`. */
  timestamps?: boolean;
  /** Offer/accept window scaling (RFC 7323), default `true`. */
  windowScale?: boolean;
  /**
   * Explicit Congestion Notification (RFC 3168): `"on"` asks for it on our SYNs and accepts it,
   * `"accept"` (the default) uses it only when the peer's SYN asks, `"off"` never. The default
   * is Linux's (`net.ipv4.tcp_ecn = 2`): answering a peer that asked is safe, since that peer
   * already sends ECN-setup SYNs through the path, while asking on our own SYNs can meet the
   * rare middlebox that drops them (RFC 3168 §6.1.1.1; a SYN sent again after a timeout goes
   * without the ECN flags, so such a path costs one SYN timeout).
   */
  ecn?: "off" | "accept" | "on";
  /** The MSS to announce; `null` (default) derives it from the interface MTU. */
  mss?: number | null;
  /** Consecutive retransmission timeouts before failing with `"timedOut"` (default 15). */
  maxRetransmissions?: number;
  /**
   * TCP Fast Open (RFC 7413) for active opens, default `false` (off, like Linux): `true` uses a
   * process-wide cookie cache, a {@linkcode FastOpenCache} its own. The first SYN to a server
   * whose cookie is cached carries the data written before it leaves (it waits up to 5 ms for
   * a first write), and `send` works in SYN-SENT; without a cookie the SYN asks for one. A
   * listener takes Fast Open with `TcpListenOptions.fastOpen`.
   */
  fastOpen?: boolean | FastOpenCache;
  /**
   * Packetization-layer path MTU discovery (RFC 4821, RFC 8899) for paths that drop large
   * packets without an ICMP error, as Linux's `tcp_mtu_probing`: `"off"` (the default, as
   * Linux), `"blackHole"` (after two timeouts in a row of the same data the segment size drops to
   * 1024 bytes, or the IPv6 minimum, then probes search upwards), `"on"` (start at that base
   * size and probe upwards at once). Probing needs SACK; ICMP Packet Too Big is used either way.
   */
  mtuProbing?: "off" | "blackHole" | "on";
  /**
   * For tests and simulations only: force the initial sequence number instead of the RFC 6528
   * one (e.g. just below 2^32 to exercise the sequence wrap). Default `null`.
   */
  initialSequenceNumber?: number | null;
  /**
   * For tests only: the offset added to the millisecond clock for TSval (RFC 7323 §5.4); `null`
   * (default) draws a random one.
   */
  timestampOffset?: number | null;
}

/** Options with every default applied (internal). */
export interface ResolvedTcpOptions {
  /** The initial (or fixed) receive buffer. */
  rxBufferSize: number;
  /** The largest receive buffer: `rxBufferSize` when fixed. */
  rxBufferMax: number;
  /** The initial (or fixed) send buffer. */
  txBufferSize: number;
  /** The largest send buffer: `txBufferSize` when fixed. */
  txBufferMax: number;
  congestion: "newreno" | "cubic";
  hystart: boolean;
  noDelay: boolean;
  keepAlive: KeepAliveOptions | null;
  userTimeout: Duration | null;
  connectTimeout: Duration;
  rto: RttOptions;
  timeWait: Duration;
  delayedAck: Duration;
  sack: boolean;
  timestamps: boolean;
  windowScale: boolean;
  ecn: "off" | "accept" | "on";
  mss: number | null;
  maxRetransmissions: number;
  /** The client's cookie cache, `null` when Fast Open is off. */
  fastOpen: FastOpenCache | null;
  mtuProbing: "off" | "blackHole" | "on";
  initialSequenceNumber: number | null;
  timestampOffset: number | null;
}

function checkPositiveInt(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`Invalid ${what} ${v}`);
  return v;
}

function checkDuration(what: string, v: number): number {
  if (!(v >= 0)) throw new RangeError(`Invalid ${what} ${v}`);
  return v;
}

/** Validates a keep-alive setting. */
export function checkKeepAlive(ka: KeepAliveOptions | null): KeepAliveOptions | null {
  if (ka === null) return null;
  if (!(ka.idle > 0) || !(ka.interval > 0) || !Number.isSafeInteger(ka.count) || ka.count < 1) {
    throw new RangeError(`Invalid keep-alive ${ka.idle}/${ka.interval}/${ka.count}`);
  }
  return { idle: ka.idle, interval: ka.interval, count: ka.count };
}

/** The resolution of empty options, shared by every socket made without options. */
let defaults: ResolvedTcpOptions | null = null;

/**
 * Applies defaults and validates; throws `RangeError` for bad values. Empty options resolve to
 * one shared object (never modified), so default sockets carry no options of their own.
 */
export function resolveOptions(o: TcpSocketOptions = {}): ResolvedTcpOptions {
  for (const _ in o) return resolve(o);
  return defaults ??= resolve(o);
}

function resolve(o: TcpSocketOptions): ResolvedTcpOptions {
  const mss = o.mss ?? null;
  if (mss !== null && (!Number.isSafeInteger(mss) || mss < 64 || mss > 65535)) {
    throw new RangeError(`Invalid MSS ${mss}`);
  }
  const congestion = o.congestion ?? "newreno";
  if (congestion !== "newreno" && congestion !== "cubic") {
    throw new RangeError(`Invalid congestion control "${congestion}"`);
  }
  const hystart = o.hystart ?? true;
  if (typeof hystart !== "boolean") throw new TypeError(`Invalid hystart ${String(hystart)}`);
  const ecn = o.ecn ?? "accept";
  if (typeof ecn !== "string") throw new TypeError(`Invalid ECN mode ${String(ecn)}`);
  if (ecn !== "off" && ecn !== "accept" && ecn !== "on") {
    throw new RangeError(`Invalid ECN mode "${ecn}"`);
  }
  const tfo = o.fastOpen ?? false;
  if (typeof tfo !== "boolean" && !(tfo instanceof FastOpenCache)) {
    throw new TypeError(`Invalid fastOpen ${String(tfo)}: a boolean or a FastOpenCache`);
  }
  const mtuProbing = o.mtuProbing ?? "off";
  if (typeof mtuProbing !== "string") {
    throw new TypeError(`Invalid mtuProbing ${String(mtuProbing)}`);
  }
  if (mtuProbing !== "off" && mtuProbing !== "blackHole" && mtuProbing !== "on") {
    throw new RangeError(`Invalid mtuProbing "${mtuProbing}"`);
  }
  const isn = o.initialSequenceNumber ?? null;
  const tsOff = o.timestampOffset ?? null;
  const rx = o.rxBufferSize === undefined
    ? null
    : checkPositiveInt("receive buffer size", o.rxBufferSize);
  const tx = o.txBufferSize === undefined
    ? null
    : checkPositiveInt("send buffer size", o.txBufferSize);
  return {
    rxBufferSize: rx ?? RX_BUFFER_DEFAULT,
    rxBufferMax: rx ?? RX_BUFFER_MAX,
    txBufferSize: tx ?? TX_BUFFER_DEFAULT,
    txBufferMax: tx ?? TX_BUFFER_MAX,
    congestion,
    hystart,
    noDelay: o.noDelay ?? false,
    keepAlive: checkKeepAlive(o.keepAlive ?? null),
    userTimeout: o.userTimeout === undefined || o.userTimeout === null
      ? null
      : checkDuration("user timeout", o.userTimeout),
    connectTimeout: checkDuration("connect timeout", o.connectTimeout ?? 75_000),
    rto: o.rto ?? {},
    timeWait: checkDuration("TIME-WAIT duration", o.timeWait ?? 60_000),
    delayedAck: checkDuration("delayed ACK", o.delayedAck ?? 40),
    sack: o.sack ?? true,
    timestamps: o.timestamps ?? true,
    windowScale: o.windowScale ?? true,
    ecn,
    mss,
    maxRetransmissions: checkPositiveInt("retransmission limit", o.maxRetransmissions ?? 15),
    fastOpen: tfo === true ? DEFAULT_FAST_OPEN_CACHE : tfo === false ? null : tfo,
    mtuProbing,
    initialSequenceNumber: isn === null ? null : isn >>> 0,
    timestampOffset: tsOff === null ? null : tsOff >>> 0,
  };
}
