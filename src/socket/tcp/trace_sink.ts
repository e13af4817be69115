/**
 * The hook a trace recorder plugs into a {@linkcode TcpSocket}: every segment the socket takes
 * in or sends out, with the decision that sent it. Off by default (`traceSink` is `null`), and
 * then it costs one `null` check per segment.
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import { Plan } from "./conn.ts";

/**
 * Why the socket sent a segment.
 *
 * @example
 * ```ts
 * import { TcpSendReason } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(TcpSendReason.Rto, "rto");
 * ```
 */
export const TcpSendReason = {
  /** A SYN or SYN-ACK (its first transmission). */
  Syn: "syn",
  /** New data (or a FIN) never sent before. */
  NewData: "new data",
  /** A retransmission after the retransmission timeout (RFC 6298). */
  Rto: "rto",
  /** A tail loss probe (RFC 8985 §7). */
  Tlp: "tlp",
  /** A fast retransmission on entering recovery (RFC 5681, RFC 6675, RFC 8985). */
  FastRetransmit: "fast retransmit",
  /** Another retransmission during loss recovery (RACK-marked or SACK hole). */
  Recovery: "recovery",
  /** A zero-window or keep-alive probe. */
  Probe: "probe",
  /** A pure ACK or window update from dispatch. */
  Ack: "ack",
  /** An immediate answer returned by `process` (duplicate ACK, challenge ACK, RST). */
  Reply: "reply",
  /** A reset. */
  Rst: "rst",
} as const;

/**
 * One of {@linkcode TcpSendReason}.
 *
 * @example
 * ```ts
 * import { TcpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { TcpSendReason } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const reasons: TcpSendReason[] = [];
 * const s = new TcpSocket();
 * s.traceSink = { segment: (_now, _dir, _repr, reason) => void (reason && reasons.push(reason)) };
 * s.connect(cx, { addr: Ipv4Address.parse("192.0.2.2"), port: 80 }, { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 });
 * s.dispatch(cx, { emitTcp: () => true });
 * assert.deepEqual(reasons, ["syn"]);
 * ```
 */
export type TcpSendReason = typeof TcpSendReason[keyof typeof TcpSendReason];

/**
 * Receives a socket's segments. Called synchronously from `process` and `dispatch`; the repr
 * and its payload are valid only during the call.
 *
 * @example
 * ```ts
 * import { TcpSocket, type TcpTraceSink } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const seen: string[] = [];
 * const sink: TcpTraceSink = { segment: (_now, dir, _repr, reason) => seen.push(`${dir} ${reason}`) };
 * const socket = new TcpSocket();
 * socket.traceSink = sink;
 * assert.equal(socket.traceSink, sink);
 * ```
 */
export interface TcpTraceSink {
  /**
   * One segment.
   *
   * @param now When.
   * @param dir `"in"` for a segment the socket took in, `"out"` for one it sent.
   * @param repr The segment: read it during the call, copy what you keep (an Interface reads
   *   every received segment into one reused repr, and a dispatch through its emitter builds
   *   every sent one into another).
   * @param reason For `"out"`, why it was sent; `null` for `"in"`.
   */
  segment(now: Instant, dir: "in" | "out", repr: TcpRepr, reason: TcpSendReason | null): void;
  /**
   * The connection's timer deadlines after each `process` and `dispatch` (optional). A
   * recorder compares them with the previous call's to tell arms, restarts, cancels and fires.
   *
   * @param now When.
   * @param timers The deadlines (`Infinity` when off); live: read them during the call only.
   */
  timers?(now: Instant, timers: TcpTimerDeadlines): void;
  /**
   * The application moved bytes (optional): `"write"` for bytes `send` took into the send
   * buffer, `"read"` for bytes `recv` or `consumeRecv` took out of the receive buffer. The core
   * has no clock outside `process` and `dispatch`, so no time is given: a recorder stamps it
   * with the latest time it has seen.
   *
   * @param op Which way.
   * @param bytes How many (never 0).
   */
  app?(op: "read" | "write", bytes: number): void;
}

/**
 * The deadlines of a connection's timers, as {@linkcode TcpTraceSink.timers} sees them: absolute
 * instants in milliseconds, `Infinity` while a timer is off.
 *
 * @example
 * ```ts
 * import type { TcpTimerDeadlines } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const t: TcpTimerDeadlines = {
 *   rto: 1200, delayedAck: Infinity, persist: Infinity, timeWait: Infinity,
 *   connect: Infinity, reorder: Infinity, probe: 240,
 * };
 * assert.ok(t.probe < t.rto);
 * ```
 */
export interface TcpTimerDeadlines {
  /** Retransmission timeout (RFC 6298). */
  readonly rto: Instant;
  /** Delayed ACK (RFC 1122 §4.2.3.2). */
  readonly delayedAck: Instant;
  /** Persist: zero-window probe or sender SWS override (RFC 9293 §3.8.6.1). */
  readonly persist: Instant;
  /** TIME-WAIT expiry. */
  readonly timeWait: Instant;
  /** The opening handshake's deadline. */
  readonly connect: Instant;
  /** RACK reorder timer (RFC 8985 §6.3). */
  readonly reorder: Instant;
  /** Tail loss probe timeout (RFC 8985 §7.2). */
  readonly probe: Instant;
}

/** Counters read before a dispatch, to tell afterwards what triggered a retransmission. */
interface Before {
  rtos: number;
  tlp: number;
  fast: number;
  sndMax: number;
}

const before: Before = { rtos: 0, tlp: 0, fast: 0, sndMax: 0 };

/** What the trace needs to know of the connection (a subset of `TcpConn`). */
interface Traced {
  readonly counters: {
    readonly rtos: number;
    readonly tlpProbes: number;
    readonly fastRetransmits: number;
  };
  readonly sndMax: number;
}

/** Remembers the counters before a dispatch that has a trace sink. */
export function traceBefore(c: Traced): void {
  before.rtos = c.counters.rtos;
  before.tlp = c.counters.tlpProbes;
  before.fast = c.counters.fastRetransmits;
  before.sndMax = c.sndMax;
}

/**
 * Why `dispatch` sent `repr`, from its plan and what changed since {@linkcode traceBefore}.
 *
 * @param c The connection after the segment was committed.
 * @param plan What `plan` decided.
 * @param repr The segment sent.
 */
export function sendReason(c: Traced, plan: Plan, repr: TcpRepr): TcpSendReason {
  if (plan === Plan.Rst) return TcpSendReason.Rst;
  if (plan === Plan.Probe) return TcpSendReason.Probe;
  if (plan === Plan.Ack) return TcpSendReason.Ack;
  const c2 = c.counters;
  if (c2.tlpProbes !== before.tlp) return TcpSendReason.Tlp;
  const fresh = ((repr.seq - before.sndMax) | 0) >= 0;
  if (plan === Plan.Syn) {
    return fresh || c2.rtos === before.rtos ? TcpSendReason.Syn : TcpSendReason.Rto;
  }
  if (fresh) return TcpSendReason.NewData;
  if (c2.rtos !== before.rtos) return TcpSendReason.Rto;
  if (c2.fastRetransmits !== before.fast) return TcpSendReason.FastRetransmit;
  return TcpSendReason.Recovery;
}
