/**
 * Packetization Layer Path MTU Discovery (RFC 4821, RFC 8899 style), as Linux's
 * `tcp_mtu_probing`: for paths that drop large packets without sending ICMP (a "black hole").
 *
 * - Black-hole detection (RFC 8899 §4.3): when the retransmission timer fires for the
 *   {@linkcode BLACK_HOLE_RTOS}th time in a row on the same data, the segment size drops to a
 *   base ({@linkcode BASE_MSS_V4}, or what an IPv6 minimum MTU of 1280 leaves), or halves when it
 *   is there already, and probing starts. The RTO's retransmission already leaves in the smaller
 *   size.
 * - Probing: a binary search between the size known to work and the negotiated MSS. A probe
 *   is one segment of the candidate size carrying new data, sent when nothing is being recovered
 *   and the windows have room for it. Its acknowledgment raises the segment size to it.
 * - A lost probe is the probe's own loss when it is the first loss of a new episode: with SACK,
 *   recovery starts with the probe marked lost; without SACK, the duplicate ACKs that start
 *   recovery stop at the probe (SND.UNA is its first byte, Linux's test); on a timeout, the
 *   probe is the oldest unacknowledged segment. Then the search's upper bound falls below it,
 *   and when nothing else was lost (always assumed without SACK, as Linux) the window reduction
 *   is undone (a probe's loss says nothing about congestion) and its data goes again in
 *   ordinary segments. A probe lost with other data, or found lost in a recovery that another
 *   loss started, says nothing about the path: the same size is probed again later, and only
 *   {@linkcode MAX_PROBES} such losses in a row count as a failure (RFC 8899 §5.1.2).
 * - The search stops when the bounds are within {@linkcode PROBE_THRESHOLD} bytes and starts
 *   again {@linkcode REPROBE_INTERVAL} later (RFC 8899 §5.1.1 PMTU_RAISE_TIMER), since the path
 *   may have grown: with the first new data after that time, also after the connection was
 *   idle (TCP has no padding to probe with when there is nothing to send).
 * - ICMP Packet Too Big (`icmp_error.ts`) still lowers the path MTU and the segment size at once;
 *   probes never exceed the MTU it reported, nor the interface's.
 *
 * Modes (`TcpSocketOptions.mtuProbing`): `"off"` (the default, like Linux's 0), `"blackHole"`
 * (probing only after a black hole is detected, Linux's 1), `"on"` (start at the base size and
 * probe upwards from the first segment, Linux's 2).
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import { SACK_BLOCK_LEN, SACK_OPTION_BASE, type TcpConn, TS_OPTION_LEN } from "./conn.ts";
import { SegFlag } from "./seg_log.ts";
import { seqAdd, seqGe, seqGt, seqLt, seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

/** Consecutive timeouts of the same data that mean a black hole. */
export const BLACK_HOLE_RTOS = 2;
/** The base segment size over IPv4 (Linux's `tcp_base_mss`). */
export const BASE_MSS_V4 = 1024;
/** The smallest size black-hole detection goes down to (Linux's `tcp_mtu_probe_floor`). */
export const MSS_FLOOR = 48;
/** A search ends when its bounds are this close (Linux's `tcp_probe_threshold`), in bytes. */
export const PROBE_THRESHOLD = 8;
/** When a finished search starts again, in ms (RFC 8899 §5.1.1; Linux's `tcp_probe_interval`). */
export const REPROBE_INTERVAL = 600_000;
/** Probe losses in a row, none the probe's own, that still count as a failure (RFC 8899). */
export const MAX_PROBES = 3;

/** The per-connection search. Fields are public to the tcp folder only. */
export class MtuProber {
  /** Whether probing runs (from the start with `"on"`, after a black hole with `"blackHole"`). */
  enabled: boolean;
  /** The largest segment size known to get through. */
  low = 0;
  /** The largest segment size that may get through (inclusive bound of the search). */
  high = 0;
  /** The segment size of the handshake: never exceeded. */
  maxMss = 0;
  /** The payload of the probe in flight, 0 when none. */
  probeLen = 0;
  probeSeq = 0;
  probeEnd = 0;
  /** When a finished search may start again. */
  next: Instant = 0;
  /** `rtoCount` at the last black-hole detection (one per timeout). */
  blackHoleAt = -1;
  /** Losses in a row of probes of this size that were not the probe's own. */
  tries = 0;

  constructor(on: boolean) {
    this.enabled = on;
  }
}

/** The base segment size for `c`'s address family, less the timestamps option. */
function baseMss(c: TcpConn): number {
  const ts = c.tsOn ? TS_OPTION_LEN : 0;
  return c.local!.addr.version === 4 ? BASE_MSS_V4 : 1280 - 40 - 20 - ts;
}

function setMss(c: TcpConn, mss: number): void {
  c.sndMss = mss;
  c.cc.setMss(mss);
}

/**
 * After the handshake fixed the segment size: sets up the search when probing is not off. With
 * `"on"` the connection starts at the base size (as Linux with `tcp_mtu_probing = 2`).
 */
export function mtuProbeInit(c: TcpConn): void {
  const mode = c.o.mtuProbing;
  if (mode === "off") return;
  const p = c.mtuProbe = new MtuProber(mode === "on");
  p.maxMss = c.sndMss;
  p.high = c.sndMss;
  const base = baseMss(c);
  p.low = base < c.sndMss ? base : c.sndMss;
  if (p.enabled) setMss(c, p.low);
}

/**
 * The retransmission timer is due with data outstanding (called before the timeout's segment is
 * planned): a probe in flight failed; the {@linkcode BLACK_HOLE_RTOS}th timeout in a row lowers
 * the segment size and enables probing (RFC 8899 §4.3).
 */
export function mtuProbeOnRto(c: TcpConn, now: Instant): void {
  const p = c.mtuProbe;
  if (p === null || !c.synAcked) return;
  // The timeout is the probe's own when the probe is the oldest data unacknowledged.
  if (p.probeLen > 0) probeLost(c, now, c.sndUna === p.probeSeq);
  if (c.rtoCount + 1 < BLACK_HOLE_RTOS || p.blackHoleAt === c.rtoCount) return;
  p.blackHoleAt = c.rtoCount;
  const cur = c.sndMss;
  const base = baseMss(c);
  let mss = cur > base ? base : cur >> 1;
  if (mss < MSS_FLOOR) mss = MSS_FLOOR;
  if (mss >= cur) return;
  p.enabled = true;
  p.low = mss;
  p.high = cur - 1;
  p.next = 0;
  setMss(c, mss);
  c.counters.mtuBlackHoles++;
}

/**
 * The probe was lost: when `own` (see the module notes), or the {@linkcode MAX_PROBES}th loss in
 * a row at this size, the search's upper bound falls below it; else the same size goes again.
 * Returns whether it counted as a failure.
 */
function probeLost(c: TcpConn, now: Instant, own: boolean): boolean {
  const p = c.mtuProbe!;
  const len = p.probeLen;
  p.probeLen = 0;
  if (!own && ++p.tries < MAX_PROBES) return false;
  p.tries = 0;
  p.high = len - 1;
  if (p.high - p.low < PROBE_THRESHOLD) p.next = now + REPROBE_INTERVAL;
  return true;
}

/**
 * The probe's payload length when one should go now, else 0 (no allocation, no state change):
 * probing on, a connection in ESTABLISHED or CLOSE-WAIT with nothing being recovered or
 * retransmitted, no probe in flight, the search not finished, enough new data queued to fill it
 * and room for it in both windows. `mtuRoom` is the payload the interface's MTU and the path MTU
 * allow for this connection.
 */
export function mtuProbeSize(c: TcpConn, now: Instant, mtuRoom: number, avail: number): number {
  const p = c.mtuProbe;
  if (p === null || !p.enabled || p.probeLen > 0) return 0;
  if (c.inRecovery || c.inLoss || c.sndNxt !== c.sndMax || now < p.next) return 0;
  const s = c.state;
  if (s !== TcpState.Established && s !== TcpState.CloseWait) return 0;
  if (p.low > c.sndMss) p.low = c.sndMss; // an ICMP Packet Too Big lowered the size meanwhile
  if (p.next !== 0) {
    // RFC 8899 §5.1.1: the raise timer expired: search up to the handshake's size again.
    p.next = 0;
    p.high = p.maxMss;
  }
  let high = p.high < mtuRoom ? p.high : mtuRoom;
  if (high > p.maxMss) high = p.maxMss;
  if (high - p.low < PROBE_THRESHOLD) return 0;
  const len = (p.low + high + 1) >>> 1;
  if (len <= c.sndMss || avail < len) return 0;
  if (seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt) < len) return 0;
  const flight = c.sackOn ? c.log.inFlight() : seqSub(c.sndNxt, c.sndUna);
  if (c.cc.cwnd - flight < len + c.sndMss) return 0;
  return len;
}

/** A probe of `len` bytes from `seq` left. */
export function mtuProbeSent(c: TcpConn, seq: number, len: number): void {
  const p = c.mtuProbe!;
  p.probeLen = len;
  p.probeSeq = seq;
  p.probeEnd = (seq + len) >>> 0;
  c.counters.mtuProbes++;
}

/**
 * After an acceptable ACK was processed (`recovering`: fast or RTO recovery before it;
 * `priorCwnd` / `priorSsthresh`: the controller's values before it): the probe is acknowledged
 * (the segment size rises to it), or recovery began on this ACK at the probe (the probe's own
 * loss: the bound falls, and when nothing else was lost the window reduction is undone and its
 * data goes again in ordinary segments, RFC 8899 §4.4), or with the probe lost among other
 * data (not its own: the size is probed again).
 */
export function mtuProbeOnAck(
  c: TcpConn,
  now: Instant,
  recovering: boolean,
  priorCwnd: number,
  priorSsthresh: number,
): void {
  const p = c.mtuProbe;
  if (p === null || p.probeLen === 0) return;
  if (seqGe(c.sndUna, p.probeEnd)) {
    // Acknowledged without a retransmission of its data (that would have failed it): the
    // probe itself got through.
    p.low = p.probeLen;
    p.probeLen = 0;
    p.tries = 0;
    setMss(c, p.low);
    c.counters.mtuProbesAcked++;
    if (p.high - p.low < PROBE_THRESHOLD) p.next = now + REPROBE_INTERVAL;
    return;
  }
  if (recovering || !c.inRecovery) return;
  if (!c.sackOn) {
    // RFC 6582 recovery began on this ACK: the duplicate ACKs stop at the probe, the first
    // loss. Without SACK nothing tells more, so (as Linux's tcp_fastretrans_alert) only the
    // probe is taken as lost: no window reduction, and the NewReno retransmissions resend its
    // data in segments of the current size as the partial ACKs come.
    if (c.sndUna !== p.probeSeq) return;
    probeLost(c, now, true);
    c.cc.onUndo(now, priorCwnd, priorSsthresh);
    return;
  }
  const flags = probeFlags(c);
  if ((flags & SegFlag.Lost) === 0) return;
  const lost = p.probeLen;
  const own = c.log.lostBytes <= lost;
  probeLost(c, now, own);
  if (!own) return; // more was lost: a congestion event, which says nothing of the probe's size
  // Only the probe was lost: no congestion response (as Linux's tcp_mtup_probe_failed and
  // tcp_simple_retransmit); its data goes again in segments of the current size.
  const u = c.undo;
  c.cc.onUndo(now, u.priorCwnd, u.priorSsthresh);
  u.marker = null;
  c.inRecovery = false;
  c.inLoss = true;
  c.forceRetransmit = true;
}

/** The log flags of the probe's record, 0 when it is not in the log. */
function probeFlags(c: TcpConn): number {
  const p = c.mtuProbe!;
  const log = c.log;
  for (let i = 0; i < log.count; i++) {
    const k = log.slot(i);
    const start = log.startSeq[k]!;
    if (seqGt(start, p.probeSeq)) break;
    if (start === p.probeSeq && seqLt(p.probeSeq, log.endSeq[k]!)) return log.flags[k]!;
  }
  return 0;
}

/**
 * A retransmission of `[seq, end)` left: when it covers probe data, the probe was lost in a
 * recovery another loss started (the probe's own losses are judged before): not its own.
 */
export function mtuProbeOnRetransmit(c: TcpConn, now: Instant, seq: number, end: number): void {
  const p = c.mtuProbe;
  if (p === null || p.probeLen === 0) return;
  if (seqLt(seq, p.probeEnd) && seqGt(end, p.probeSeq)) probeLost(c, now, false);
}

/**
 * The payload a segment may carry within the interface's MTU and the path MTU (not the MSS):
 * the most a probe may carry.
 */
export function mtuRoom(c: TcpConn, ipMtu: number): number {
  const blocks = c.sackBlockCount();
  const sack = blocks === 0 ? 0 : SACK_OPTION_BASE + blocks * SACK_BLOCK_LEN;
  const mtu = ipMtu < c.pathMtu ? ipMtu : c.pathMtu;
  return mtu - (c.local!.addr.version === 4 ? 20 : 40) - 20 - (c.tsOn ? TS_OPTION_LEN : 0) - sack;
}
