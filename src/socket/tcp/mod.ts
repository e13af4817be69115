/**
 * TCP for smolnet: a sans-IO {@linkcode TcpSocket} (all eleven RFC 9293 states, SACK and
 * D-SACK, timestamps with PAWS, window scaling, RFC 6298 RTO, RACK-TLP loss detection, PRR,
 * undo of spurious recovery, NewReno or CUBIC, RFC 5961 challenge ACKs) and a
 * {@linkcode TcpListenSocket} with a real listen backlog.
 *
 * @example
 * ```ts
 * import { TcpSocket, TcpState } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const s = new TcpSocket({ noDelay: true });
 * assert.equal(s.state, TcpState.Closed);
 * ```
 *
 * @module
 */

export { type TcpEmitter, TcpSocket } from "./socket.ts";
export { type TcpListenerInfo, type TcpListenOptions, TcpListenSocket } from "./listener.ts";
export { type TcpError, TcpState } from "./state.ts";
export {
  FAST_OPEN_COOKIE_LEN,
  fastOpenCookie,
  FastOpenServer,
  type FastOpenServerInfo,
} from "./fast_open.ts";
export {
  FAST_OPEN_BLACKHOLE_TIMEOUT,
  FastOpenCache,
  type FastOpenCacheInfo,
  type FastOpenCacheOptions,
} from "./fast_open_cache.ts";
export type { KeepAliveOptions, TcpSocketOptions } from "./config.ts";
export type { TcpCounters, TcpInfo } from "./stats.ts";
export type { TcpIcmpError } from "./icmp_error.ts";
export { TcpSendReason, type TcpTimerDeadlines, type TcpTraceSink } from "./trace_sink.ts";
export { tcpResetFor } from "./reply.ts";
export { seqAdd, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqMin, seqSub } from "./seq.ts";
export * from "./rtt.ts";
export * from "./congestion.ts";
export * from "./isn.ts";
export * from "./newreno.ts";
export * from "./cubic.ts";
export * from "./hystart.ts";
