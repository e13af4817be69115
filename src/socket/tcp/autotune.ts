/**
 * Buffer autotuning, when the application gave no fixed buffer sizes.
 *
 * - Receive buffer, dynamic right-sizing (Linux `tcp_rcv_space_adjust`; Fisk and Feng's DRS):
 *   once per receiver RTT, compare what the application read during it with the previous
 *   measurement. To keep a sender at full speed the window must hold about twice what one RTT
 *   delivers, plus more while the sender is still doubling in slow start; the buffer grows to
 *   that, from {@linkcode RX_BUFFER_DEFAULT} up to {@linkcode RX_BUFFER_MAX}. It never grows
 *   for data that is not read, so a slow reader keeps a small window however fast the writer.
 *   The receiver RTT comes from timestamp echoes on full-sized segments (Linux
 *   `tcp_rcv_rtt_measure_ts`), else from the sender's smoothed RTT.
 * - Write-before-read: when neither side can move (the application's send buffer is full, the
 *   peer's window is closed, and the window we announced is closed too, because our own
 *   application is not reading), the receive buffer doubles, up to {@linkcode RX_BUFFER_MAX}, and
 *   the window update goes out at once. This is the state of a client that writes a large request
 *   before reading the reply from an echo-like server: the bytes in flight are bounded by the sum
 *   of the four buffers on the way (client send, server receive, server send, client receive),
 *   and DRS alone grows none of them once the echo stops reading. Linux reaches the same sum
 *   (about 9 MB at MTU 1500 on loopback) only because its receiver RTT has a 1 ms floor, so its
 *   first measurement spans many true RTTs; this rule makes the outcome independent of timing.
 *   A one-way slow reader never meets it: the writer's receive window stays open.
 * - Send buffer: twice the congestion window (the unacknowledged flight plus the next one,
 *   Linux `tcp_sndbuf_expand`), from {@linkcode TX_BUFFER_DEFAULT} up to
 *   {@linkcode TX_BUFFER_MAX}. The congestion window only grows while it is used (RFC 7661),
 *   so a writer to a slow reader stays bounded too.
 * - Memory follows use: the ring buffers allocate as bytes arrive, and a connection idle for
 *   {@linkcode IDLE_RELEASE} ms with empty buffers gives its storage back and its send buffer
 *   returns to the initial size, at its next dispatch (the interface dispatches every socket
 *   on each poll; no timer is armed for it, so an idle stack stays asleep). The receive buffer keeps its size: shrinking it would shrink
 *   a window already announced (RFC 9293 §3.8.6.2.2).
 *
 * The window scale is chosen for the largest receive buffer (RFC 7323 §2.3), so growth needs no
 * renegotiation.
 *
 * @module
 */

import { type Instant, NEVER } from "../../time.ts";
import type { TcpConn } from "./conn.ts";
import { seqSub } from "./seq.ts";
import { TcpState } from "./state.ts";

/** Initial receive buffer when none is given (Linux `tcp_rmem[1]`). */
export const RX_BUFFER_DEFAULT = 128 * 1024;
/** Largest autotuned receive buffer (Linux `tcp_rmem[2]`). */
export const RX_BUFFER_MAX = 6 * 1024 * 1024;
/**
 * Initial send buffer when none is given: Linux starts from `tcp_wmem[1]` (16 KiB) and expands
 * it at establishment to twice the initial window in truesize (`tcp_init_buffer_space`), some
 * 64 KiB.
 */
export const TX_BUFFER_DEFAULT = 64 * 1024;
/** Largest autotuned send buffer (Linux `tcp_wmem[2]`). */
export const TX_BUFFER_MAX = 4 * 1024 * 1024;
/** Idle time after which empty buffers give their memory back, in ms. */
export const IDLE_RELEASE = 1000;
/** Segments of headroom DRS adds to twice the bytes read per RTT (Linux: 16 × advmss). */
const HEADROOM_SEGMENTS = 16;
/** Linux sizes buffers in skb truesize, about twice the payload of a full-sized segment. */
const MEMORY_RATIO = 2;
/** The initial per-RTT estimate: the peer's initial window (RFC 6928, 10 segments). */
const INITIAL_SEGMENTS = 10;

/** Autotuning state of one connection. */
export class BufferTuner {
  /** Largest receive buffer. */
  readonly rxMax: number;
  /** Send buffer to return to when idle. */
  readonly txInitial: number;
  /** Largest send buffer. */
  readonly txMax: number;
  /** Receiver RTT estimate in ms (0: no sample yet). */
  rcvRtt = 0;
  /** The echoed TSval of the last sample (one sample per echo). */
  lastTsEcr = 0;
  /** Bytes the application read in the last measured RTT (0: not started). */
  space = 0;
  /** Bytes read so far (RCV.NXT − queued) when the current measurement began. */
  spaceSeq = 0;
  /** When the current measurement began. */
  spaceTime: Instant = NEVER;

  constructor(rxMax: number, txInitial: number, txMax: number) {
    this.rxMax = rxMax;
    this.txInitial = txInitial;
    this.txMax = txMax;
  }
}

/**
 * Takes a receiver RTT sample from an in-order, full-sized data segment whose timestamp echo is
 * new (RFC 7323 §4: the echo is a TSval of ours).
 */
export function sampleReceiveRtt(c: TcpConn, now: Instant, len: number, tsEcr: number): void {
  const t = c.tune;
  if (t === null || tsEcr === 0 || tsEcr === t.lastTsEcr || len < c.rcvMss) return;
  t.lastTsEcr = tsEcr;
  const d = (c.tsVal(now) - tsEcr) >>> 0;
  if (d >= 0x80000000) return;
  const m = d < 1 ? 1 : d;
  t.rcvRtt = t.rcvRtt === 0 ? m : t.rcvRtt + (m - t.rcvRtt) / 8;
}

function receiverRtt(c: TcpConn, t: BufferTuner): number {
  if (t.rcvRtt > 0) return t.rcvRtt;
  const s = c.rtt.srtt;
  return s === null ? 0 : s < 1 ? 1 : s;
}

function synchronizedOpen(s: TcpState): boolean {
  return s === TcpState.Established || s === TcpState.FinWait1 ||
    s === TcpState.FinWait2 || s === TcpState.CloseWait;
}

/** Grows (or, when idle, releases) the buffers of `c`; called before each dispatch. */
export function tuneBuffers(c: TcpConn, now: Instant): void {
  const t = c.tune;
  if (t === null || !synchronizedOpen(c.state)) return;
  if (now >= idleDeadline(c)) {
    releaseIdle(c, t);
    return;
  }
  tuneReceive(c, t, now);
  if (mutuallyBlocked(c) && c.rx.capacity < t.rxMax) {
    const grown = 2 * c.rx.capacity;
    c.rx.resize(grown < t.rxMax ? grown : t.rxMax);
  }
  // Send: twice the congestion window, while the application has data queued.
  const want = 2 * MEMORY_RATIO * c.cc.cwnd;
  const tx = c.tx;
  if (want > tx.capacity && tx.capacity < t.txMax && tx.length > 0) {
    tx.resize(want < t.txMax ? want : t.txMax);
  }
}

function tuneReceive(c: TcpConn, t: BufferTuner, now: Instant): void {
  const rx = c.rx;
  const read = seqSub(c.rcvNxt, rx.length);
  if (t.space === 0) {
    const iw = INITIAL_SEGMENTS * c.ourMss;
    t.space = iw < rx.capacity ? iw : rx.capacity;
    t.spaceSeq = read;
    t.spaceTime = now;
    return;
  }
  const rtt = receiverRtt(c, t);
  if (rtt === 0 || now - t.spaceTime < rtt) return;
  const copied = seqSub(read, t.spaceSeq);
  if (copied > t.space) {
    let win = 2 * copied + HEADROOM_SEGMENTS * c.ourMss;
    // Reads that grew since the last RTT mean a sender still in slow start: it doubles again.
    win += 2 * Math.floor(win * (copied - t.space) / t.space);
    win *= MEMORY_RATIO;
    const cap = win < t.rxMax ? win : t.rxMax;
    if (cap > rx.capacity) rx.resize(cap);
    t.space = copied;
  }
  t.spaceSeq = read;
  t.spaceTime = now;
}

/**
 * Whether neither direction of `c` can move: the send buffer is full (the application is blocked
 * writing), the peer's window has no room for a segment, and the window we announced has none
 * either (our application is not reading).
 */
function mutuallyBlocked(c: TcpConn): boolean {
  if (c.tx.window > 0) return false;
  if (seqSub(c.rcvAdvRight, c.rcvNxt) >= c.peerEffMss()) return false;
  const usable = c.sndWnd - seqSub(c.sndNxt, c.sndUna);
  return usable < c.sndMss;
}

/**
 * From when the buffers of `c` may give their memory back: {@linkcode IDLE_RELEASE} after the last
 * segment either way, once both are empty (no out-of-order data held) and hold storage; `NEVER`
 * otherwise.
 */
export function idleDeadline(c: TcpConn): Instant {
  const t = c.tune;
  if (t === null || !synchronizedOpen(c.state)) return NEVER;
  const tx = c.tx, rx = c.rx;
  const holds = rx.storageSize > 0 || tx.storageSize > 0 || tx.capacity > t.txInitial;
  if (!holds || tx.length > 0 || rx.length > 0 || !c.asm.isEmpty() || c.sndUna !== c.sndMax) {
    return NEVER;
  }
  const last = c.lastSend > c.lastRecv ? c.lastSend : c.lastRecv;
  return last + IDLE_RELEASE;
}

function releaseIdle(c: TcpConn, t: BufferTuner): void {
  c.rx.shrinkStorage();
  c.tx.shrinkStorage();
  c.tx.resize(t.txInitial);
  // The next burst starts a new measurement from the initial estimate.
  t.space = 0;
}
