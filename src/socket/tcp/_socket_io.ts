/**
 * What {@linkcode TcpSocket}'s data and driver calls do to the connection block, kept out of the
 * class: queueing and reading application bytes, taking a segment in, emitting one segment, and
 * the next instant the socket needs the driver. Internal to the tcp folder.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import type { IpAddress } from "../../wire/address.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import type { SocketContext } from "../context.ts";
import type { ResolvedTcpOptions } from "./config.ts";
import { mssForMtu, Plan, type TcpConn } from "./conn.ts";
import { tuneBuffers } from "./autotune.ts";
import { matches, processSegment } from "./input.ts";
import { buildSegment, checkTimeouts, commitSegment, ecnOf, nextDeadline, plan } from "./send.ts";
import { TcpState } from "./state.ts";
import { sendReason, TcpSendReason, traceBefore } from "./trace_sink.ts";
import { wakeSocket } from "../waker.ts";
import type { TcpEmitter } from "./emitter.ts";
import type { TcpSocket } from "./socket.ts";

/**
 * Copies `data` into the send buffer and wakes the socket when any was taken.
 *
 * @param s The socket.
 * @param c Its TCB.
 * @param data The bytes.
 * @returns How many bytes were taken.
 */
export function queueSend(s: TcpSocket, c: TcpConn, data: Uint8Array): number {
  const n = c.tx.enqueueSlice(data);
  if (n > 0) {
    wakeSocket(s);
    c.traceSink?.app?.("write", n);
  }
  return n;
}

/**
 * Copies received bytes into `dst` and wakes the socket when any were read (the window may
 * reopen).
 *
 * @param s The socket.
 * @param c Its TCB.
 * @param dst Where to copy.
 * @returns The number of bytes copied.
 */
export function readInto(s: TcpSocket, c: TcpConn, dst: Uint8Array): number {
  const n = c.rx.dequeueSlice(dst);
  if (n > 0) {
    wakeSocket(s);
    c.traceSink?.app?.("read", n);
  }
  return n;
}

/**
 * Drops `n` received bytes from the front of the receive buffer (after a peek).
 *
 * @param s The socket.
 * @param c Its TCB.
 * @param n Bytes to drop.
 */
export function consumeRead(s: TcpSocket, c: TcpConn, n: number): void {
  c.rx.dequeueAllocated(n);
  if (n > 0) {
    wakeSocket(s);
    c.traceSink?.app?.("read", n);
  }
}

/**
 * Takes one segment (RFC 9293 §3.10.7), counting one for another connection as dropped, and
 * reports it and the reply to the trace sink when one is set.
 *
 * @param c The TCB.
 * @param cx The interface context.
 * @param src The segment's source address.
 * @param dst The segment's destination address.
 * @param repr The parsed segment.
 * @returns The reply, or `null`.
 */
export function processIn(
  c: TcpConn,
  cx: SocketContext,
  src: IpAddress,
  dst: IpAddress,
  repr: TcpRepr,
): TcpRepr | null {
  if (!matches(c, src, dst, repr)) {
    c.counters.droppedOther++;
    return null;
  }
  const sink = c.traceSink;
  if (sink === null) return processSegment(c, cx, src, dst, repr);
  sink.segment(cx.now, "in", repr, null);
  const reply = processSegment(c, cx, src, dst, repr);
  if (reply !== null) sink.segment(cx.now, "out", reply, TcpSendReason.Reply);
  sink.timers?.(cx.now, c.timers);
  return reply;
}

/**
 * Runs the timers, tunes the buffers, and emits at most one due segment through `emitter`;
 * nothing changes when the emitter refuses it.
 *
 * @param c The TCB.
 * @param o The socket's resolved options.
 * @param cx The interface context.
 * @param emitter Where the segment goes.
 * @returns Whether a segment was emitted.
 */
export function dispatchOne(
  c: TcpConn,
  o: ResolvedTcpOptions,
  cx: SocketContext,
  emitter: TcpEmitter,
): boolean {
  const now = cx.now;
  // The MSS a SYN announces follows the link it leaves on now, not the one known at connect()
  // (RFC 9293 §3.7.1: MSS from the MTU of the interface the segment is sent on).
  if (c.state === TcpState.SynSent && o.mss === null) {
    c.ourMss = mssForMtu(cx.ipMtu, c.local!);
  }
  const sink = c.traceSink;
  if (sink !== null) traceBefore(c);
  checkTimeouts(c, now);
  tuneBuffers(c, now);
  const p = plan(c, now, cx.ipMtu, cx.tcpSegmentOffload);
  if (p === Plan.None) return false;
  const repr = buildSegment(c, now, emitter.writesThrough === true); // see TcpEmitter.writesThrough
  if (!emitter.emitTcp(c.local!.addr, c.remote!.addr, repr, ecnOf(c))) return false;
  commitSegment(c, now, repr);
  if (sink !== null) sink.segment(now, "out", repr, sendReason(c, p, repr));
  return true;
}

/**
 * When the socket next needs the driver: `cx.now` when something is due, `NEVER` when only
 * ingress can make progress, else the earliest timer.
 *
 * @param c The TCB.
 * @param cx The interface context.
 * @returns The instant.
 */
export function nextPollAt(c: TcpConn, cx: SocketContext): Instant {
  const now = cx.now;
  if (c.state === TcpState.Closed) return c.rstPending ? now : NEVER;
  if (c.state === TcpState.Listen) return NEVER;
  if (plan(c, now, cx.ipMtu, cx.tcpSegmentOffload) !== Plan.None) return now;
  const t = nextDeadline(c);
  return t < now ? now : t;
}
