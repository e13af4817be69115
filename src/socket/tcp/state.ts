/**
 * The eleven TCP connection states of RFC 9293 §3.3.2.
 *
 * @module
 */

/**
 * TCP connection states (RFC 9293 §3.3.2).
 *
 * @example
 * ```ts
 * import { TcpSocket, TcpState } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * assert.equal(new TcpSocket().state, TcpState.Closed);
 * ```
 */
export const TcpState = {
  Closed: "closed",
  Listen: "listen",
  SynSent: "synSent",
  SynReceived: "synReceived",
  Established: "established",
  FinWait1: "finWait1",
  FinWait2: "finWait2",
  CloseWait: "closeWait",
  Closing: "closing",
  LastAck: "lastAck",
  TimeWait: "timeWait",
} as const;

/**
 * One of the {@linkcode TcpState} values.
 *
 * @example
 * ```ts
 * import type { TcpState } from "@smol/net/socket";
 * const s: TcpState = "established";
 * ```
 */
export type TcpState = typeof TcpState[keyof typeof TcpState];

/**
 * Why a connection ended abnormally: the peer refused it (RST to our SYN, or an ICMP port
 * unreachable), reset it, it timed out (retransmissions, keep-alive, user or connect timeout),
 * the network reported the destination unreachable (ICMP), or this side aborted it.
 *
 * @example
 * ```ts
 * import type { TcpError } from "@smol/net/socket";
 * const e: TcpError = "refused";
 * ```
 */
export type TcpError = "refused" | "reset" | "timedOut" | "unreachable" | "aborted";

/** States in which both sides have exchanged SYNs (RFC 9293 §3.10.7.4). */
export function isSynchronized(s: TcpState): boolean {
  return s !== TcpState.Closed && s !== TcpState.Listen && s !== TcpState.SynSent;
}
