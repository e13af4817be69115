/**
 * The reply to a segment that reaches no connection (RFC 9293 §3.10.7.1).
 *
 * @module
 */

import { TcpFlags, type TcpRepr, tcpSegmentLen } from "../../wire/tcp.ts";
import { EMPTY, NO_BLOCKS } from "./conn.ts";

/**
 * The RST to send back for `repr` when no socket takes it (a closed port, or an ACK to a
 * listening port): with ACK set in `repr`, `<SEQ=SEG.ACK><CTL=RST>`; otherwise
 * `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. A RST is never answered (`null`).
 *
 * @param repr The segment received.
 * @returns The reset to send from the segment's destination to its source, or `null`.
 *
 * @example
 * ```ts
 * import { tcpResetFor } from "@smol/net/socket";
 * import { TcpFlags } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const rst = tcpResetFor({
 *   srcPort: 40000, dstPort: 80, seq: 100, ack: 0, flags: TcpFlags.SYN, window: 1024,
 *   urgent: 0, mss: null, windowScale: null, sackPermitted: false, sackBlocks: [],
 *   timestamp: null, payload: new Uint8Array(0),
 * });
 * assert.equal(rst?.seq, 0);
 * assert.equal(rst?.ack, 101);
 * assert.equal(rst?.flags, TcpFlags.RST | TcpFlags.ACK);
 * ```
 */
export function tcpResetFor(repr: TcpRepr): TcpRepr | null {
  if (repr.flags & TcpFlags.RST) return null;
  const hasAck = (repr.flags & TcpFlags.ACK) !== 0;
  return {
    srcPort: repr.dstPort,
    dstPort: repr.srcPort,
    seq: hasAck ? repr.ack : 0,
    ack: hasAck ? 0 : (repr.seq + tcpSegmentLen(repr)) >>> 0,
    flags: hasAck ? TcpFlags.RST : TcpFlags.RST | TcpFlags.ACK,
    window: 0,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: NO_BLOCKS,
    timestamp: null,
    payload: EMPTY,
  };
}
