/**
 * ICMP errors that quote one of a connection's segments (RFC 1122 §4.2.3.9, RFC 5927, RFC 5461,
 * RFC 1191, RFC 8201). The Interface parses the ICMP message, finds the connection by the
 * quoted 4-tuple and hands over a {@linkcode TcpIcmpError}; the rules here decide what it means.
 *
 * - The quoted sequence number must lie in SND.UNA ≤ SEG.SEQ < SND.NXT (RFC 5927 §4.1), else
 *   the error is ignored and counted: a blind attacker must guess it.
 * - Packet Too Big / Fragmentation Needed lowers the path MTU (never raises it, RFC 1191 §6.3,
 *   RFC 8201 §4), and with it the segment size; data in flight is sent again at once in the
 *   new size without a congestion response (RFC 1191 §6.4; Linux's tcp_simple_retransmit).
 * - Destination unreachable: in SYN-SENT a hard error (port or protocol unreachable,
 *   administratively prohibited) ends the connect at once; a soft error (network or host
 *   unreachable) ends it once the SYN has been retransmitted {@linkcode SOFT_ERROR_SYN_RETRIES}
 *   times (RFC 5461 §4). In a synchronized state every unreachable is soft (RFC 1122 §4.2.3.9,
 *   RFC 5461 §2.2): it is remembered and becomes the error reported if the connection later
 *   times out, as Linux's `sk_err_soft`.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import { MIN_MSS, type TcpConn, TS_OPTION_LEN } from "./conn.ts";
import { resendFlight } from "./recovery.ts";
import { seqLe, seqLt } from "./seq.ts";
import { type TcpError, TcpState } from "./state.ts";

/**
 * An ICMP error that quotes one of a connection's segments, decoded by the Interface for
 * {@linkcode TcpSocket.processIcmpError}. Codes are those of the connection's IP version:
 * ICMPv4 Destination Unreachable (RFC 792, RFC 1812) or ICMPv6 (RFC 4443 §3.1).
 *
 * @example A Fragmentation Needed message quoting sequence number 1000
 * ```ts
 * import type { TcpIcmpError } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const e: TcpIcmpError = { kind: "packetTooBig", code: 4, mtu: 1400, seq: 1000 };
 * assert.equal(e.mtu, 1400);
 * ```
 */
export interface TcpIcmpError {
  /**
   * `"packetTooBig"`: ICMPv6 Packet Too Big, or ICMPv4 Destination Unreachable code 4
   * (Fragmentation Needed and DF set). `"unreachable"`: any other Destination Unreachable.
   */
  readonly kind: "unreachable" | "packetTooBig";
  /** The ICMP code field. */
  readonly code: number;
  /** The next-hop MTU for `"packetTooBig"` (0 when an old IPv4 router sent none); else 0. */
  readonly mtu: number;
  /** The sequence number of the quoted TCP header. */
  readonly seq: number;
}

/** SYN retransmissions after which a soft ICMP error ends a connect (RFC 5461 §4). */
export const SOFT_ERROR_SYN_RETRIES = 2;

/** The smallest IPv4 path MTU taken from a Fragmentation Needed message (Linux `min_pmtu`). */
export const MIN_PMTU_V4 = 552;
/** The IPv6 minimum link MTU (RFC 8200 §5); a smaller Packet Too Big is raised to it (RFC 8201 §4). */
export const MIN_PMTU_V6 = 1280;

/** RFC 1191 §7 plateau table, for a Fragmentation Needed message without a next-hop MTU. */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68] as const;

/** The IPv4 and IPv6 destination unreachable codes that are hard errors, and what they mean. */
function hardError(v6: boolean, code: number): TcpError | null {
  if (v6) {
    // RFC 4443 §3.1: 1 administratively prohibited, 4 port unreachable, 5/6 policy and reject.
    if (code === 4 || code === 1 || code === 5 || code === 6) return "refused";
    return null;
  }
  // RFC 792 / RFC 1812 §5.2.7.1: 2 protocol, 3 port unreachable; 9, 10, 13 prohibited.
  if (code === 2 || code === 3 || code === 9 || code === 10) return "refused";
  if (code === 13) return "unreachable";
  return null;
}

/** The IP packet size of our full-sized segments now (headers, timestamps and SMSS). */
function currentMtu(c: TcpConn): number {
  const ip = c.local!.addr.version === 4 ? 20 : 40;
  return ip + 20 + (c.tsOn ? TS_OPTION_LEN : 0) + c.sndMss;
}

/**
 * Applies an ICMP error to connection `c` (see the module documentation for the rules).
 *
 * @param c The connection.
 * @param now The current time.
 * @param e The error, as the Interface decoded it.
 */
export function applyIcmpError(c: TcpConn, now: Instant, e: TcpIcmpError): void {
  const s = c.state;
  if (s === TcpState.Closed || s === TcpState.Listen || s === TcpState.TimeWait) {
    c.counters.icmpIgnored++;
    return;
  }
  // RFC 5927 §4.1: SND.UNA ≤ SEG.SEQ < SND.NXT (SND.MAX here: SND.NXT rewinds on a timeout).
  if (!(seqLe(c.sndUna, e.seq) && seqLt(e.seq, c.sndMax))) {
    c.counters.icmpIgnored++;
    return;
  }
  c.counters.icmpErrors++;
  const v6 = c.local!.addr.version === 6;
  if (e.kind === "packetTooBig") {
    lowerPathMtu(c, now, v6, e.mtu);
    return;
  }
  const hard = hardError(v6, e.code);
  if (s === TcpState.SynSent || (s === TcpState.SynReceived && c.activeOpen)) {
    if (hard !== null) {
      c.closeWith(hard);
      return;
    }
    c.softError = "unreachable";
    if (c.rtoCount >= SOFT_ERROR_SYN_RETRIES) c.closeWith("unreachable");
    return;
  }
  // RFC 1122 §4.2.3.9 / RFC 5461 §2: never abort a synchronized connection on an ICMP error.
  c.softError = hard ?? "unreachable";
}

function lowerPathMtu(c: TcpConn, now: Instant, v6: boolean, reported: number): void {
  const current = currentMtu(c);
  let mtu = reported;
  if (!v6 && mtu === 0) {
    // RFC 1191 §5: an old router sent no next-hop MTU; guess the next plateau down.
    mtu = PLATEAUS.find((p) => p < current) ?? 68;
  }
  const floor = v6 ? MIN_PMTU_V6 : MIN_PMTU_V4;
  if (mtu < floor) mtu = floor;
  // RFC 1191 §6.3, RFC 8201 §4: a report at or above the current size changes nothing.
  if (mtu >= current || mtu >= c.pathMtu) return;
  c.pathMtu = mtu;
  const ip = v6 ? 40 : 20;
  const mss = mtu - ip - 20 - (c.tsOn ? TS_OPTION_LEN : 0);
  c.sndMss = mss < MIN_MSS ? MIN_MSS : mss;
  c.counters.pathMtuReductions++;
  // RFC 1191 §6.4: send the data in flight again at the new size now, without treating the
  // loss as congestion (the segments were too large, not dropped by a queue).
  if (c.synAcked && c.sndUna !== c.sndMax) {
    resendFlight(c);
    c.rttTime = NEVER;
    c.smallOut = false; // the runt in flight goes again too: Nagle must not hold it
    c.timers.rto = now + c.rtt.rto;
  }
}
