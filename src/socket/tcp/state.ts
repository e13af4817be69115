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
 * import { TcpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { TcpState } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const s = new TcpSocket();
 * const before: TcpState = s.state;
 * s.listen({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * assert.deepEqual([before, s.state], ["closed", "listen"]);
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
 * import { TcpSocket, tcpResetFor, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { TcpError } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const a = { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 };
 * const b = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
 * const s = new TcpSocket();
 * s.connect(cx, b, a);
 * let syn: TcpRepr | null = null;
 * s.dispatch(cx, { emitTcp: (_src, _dst, r) => (syn = r, true) });
 * s.process(cx, b.addr, a.addr, tcpResetFor(syn!)!); // the port is closed: RST to our SYN
 * const e: TcpError | null = s.error;
 * assert.equal(e, "refused");
 * assert.equal(s.state, "closed");
 * ```
 */
export type TcpError = "refused" | "reset" | "timedOut" | "unreachable" | "aborted";

/** States in which both sides have exchanged SYNs (RFC 9293 §3.10.7.4). */
export function isSynchronized(s: TcpState): boolean {
  return s !== TcpState.Closed && s !== TcpState.Listen && s !== TcpState.SynSent;
}
