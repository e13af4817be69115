/**
 * Introspection of a TCP connection: one reused object, refreshed on read, no allocation.
 *
 * @module
 */

import type { Duration } from "../../time.ts";
import type { TcpConn } from "./conn.ts";
import type { TcpError, TcpState } from "./state.ts";

/**
 * Event counters of one connection (all start at 0 and only grow).
 *
 * @example
 * ```ts
 * import { TcpSocket, TokenBucket, type SocketContext, type TcpCounters } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = (now: number): SocketContext => ({ now, random: new Rng(1), ipMtu: 1500,
 *   isnSecret: new Uint8Array(16), challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) });
 * const s = new TcpSocket();
 * s.connect(cx(0), { addr: Ipv4Address.parse("192.0.2.2"), port: 80 }, { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 });
 * s.dispatch(cx(0), { emitTcp: () => true }); // the SYN; no answer comes
 * s.dispatch(cx(1000), { emitTcp: () => true }); // the initial RTO expires: sent again
 * const c: TcpCounters = s.info;
 * assert.equal(c.segmentsOut, 2);
 * assert.equal(c.retransmits, 1);
 * assert.equal(c.rtos, 1);
 * ```
 */
export interface TcpCounters {
  /** Segments retransmitted, for any reason. */
  retransmits: number;
  /** Fast retransmits (entries into loss recovery on duplicate ACKs or SACK, RFC 5681/6675). */
  fastRetransmits: number;
  /** Retransmission timeouts that fired. */
  rtos: number;
  /** Duplicate ACKs received (RFC 5681 §2 definition). */
  dupAcks: number;
  /** Segments received out of order (held by the assembler). */
  outOfOrderSegments: number;
  /** Challenge ACKs sent (RFC 5961). */
  challengeAcks: number;
  /** Challenge ACKs suppressed by the per-connection or global limit. */
  challengeAcksLimited: number;
  /**
   * Duplicate ACKs not sent for out-of-window or PAWS-dropped segments: at most one per 500 ms
   * for those without data or FIN or with an unacceptable ACK field.
   */
  oowAcksLimited: number;
  /** Segments received by {@linkcode TcpSocket.process}. */
  segmentsIn: number;
  /** Segments sent (by `dispatch` and as replies of `process`). */
  segmentsOut: number;
  /** Payload bytes received in order. */
  bytesIn: number;
  /** Payload bytes sent, retransmissions included. */
  bytesOut: number;
  /** Segments (or their data) dropped as outside the receive window. */
  droppedOutOfWindow: number;
  /** Segments dropped by PAWS (RFC 7323 §5). */
  droppedPaws: number;
  /** Segments dropped for an unacceptable ACK (RFC 5961 §5). */
  droppedBadAck: number;
  /** RST segments ignored (out of window, TIME-WAIT, LISTEN). */
  droppedRst: number;
  /** Out-of-order segments dropped because the assembler was full. */
  droppedAssembler: number;
  /** Other dropped segments (no ACK bit, wrong state). */
  droppedOther: number;
  /** ICMP errors taken (their quoted sequence number was in flight, RFC 5927). */
  icmpErrors: number;
  /** ICMP errors ignored: quoted sequence number outside SND.UNA..SND.NXT, or no connection. */
  icmpIgnored: number;
  /** Times an ICMP Packet Too Big lowered the path MTU (RFC 1191, RFC 8201). */
  pathMtuReductions: number;
  /** Tail loss probes sent (RFC 8985 §7). */
  tlpProbes: number;
  /** Tail loss probes that repaired a loss (no D-SACK came back for them). */
  tlpRecoveries: number;
  /**
   * Probes of a stalled fast recovery: everything marked lost was resent and nothing new could
   * follow, so the probe timer resent the first unSACKed segment (counted in `retransmits` too).
   */
  recoveryProbes: number;
  /** ACKs or reorder timeouts on which RACK (RFC 8985) marked segments lost. */
  rackLost: number;
  /** D-SACK blocks received (RFC 2883): the peer got a segment twice. */
  dsacksReceived: number;
  /** Recovery episodes undone as spurious (D-SACK, RFC 3708; timestamps, RFC 3522). */
  spuriousUndos: number;
  /**
   * Recovery episodes that began while an earlier one's undo still waited for its evidence, and
   * joined it (see `undoBegin`): the window from before the first comes back only when every
   * retransmission of both is shown spurious.
   */
  undoJoined: number;
  /**
   * Without SACK: fast retransmits shown spurious (timestamps, or an ACK sooner than the minimum
   * RTT) whose reordering raised the duplicate-ACK threshold (`TcpInfo.dupThresh`).
   */
  dupThreshRaised: number;
  /** D-SACK blocks sent (RFC 2883): we received a segment twice. */
  dsacksSent: number;
  /** D-SACK blocks ignored: they name data outside anything sent within a window. */
  dsackIgnored: number;
  /** SACK blocks ignored as absurd: empty, inverted, wider than the window or beyond SND.MAX. */
  sackBlocksIgnored: number;
  /** Retransmission timeouts undone as spurious by F-RTO (RFC 5682; counted in spuriousUndos too). */
  frtoUndos: number;
  /** Segments that arrived marked Congestion Experienced on an ECN connection (RFC 3168). */
  ceReceived: number;
  /** Window reductions for an ECN-Echo (RFC 3168 §6.1.2), at most one per window of data. */
  ecnReductions: number;
  /** SYNs sent carrying data with a Fast Open cookie (RFC 7413). */
  fastOpenSynData: number;
  /** SYN-ACKs that acknowledged the data of our Fast Open SYN. */
  fastOpenDataAcked: number;
  /** Fast Open SYN data the peer did not acknowledge: sent again after the handshake. */
  fastOpenFallbacks: number;
  /** Path MTU probes sent (RFC 8899 packetization-layer probing). */
  mtuProbes: number;
  /** Path MTU probes acknowledged: each raised the segment size. */
  mtuProbesAcked: number;
  /** Black holes detected (RFC 8899 §4.3): repeated timeouts lowered the segment size. */
  mtuBlackHoles: number;
}

/**
 * A snapshot of a connection's state and counters; {@linkcode TcpSocket.info} refreshes and
 * returns the same object each time.
 *
 * @example
 * ```ts
 * import { TcpSocket, TokenBucket, type SocketContext, type TcpInfo } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx = (now: number): SocketContext => ({ now, random: new Rng(1), ipMtu: 1500,
 *   isnSecret: new Uint8Array(16), challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) });
 * const s = new TcpSocket();
 * assert.equal(s.info.rto, 1000); // RFC 6298 §2.1: 1 s before any sample
 * s.connect(cx(0), { addr: Ipv4Address.parse("192.0.2.2"), port: 80 }, { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 });
 * s.dispatch(cx(0), { emitTcp: () => true });
 * s.dispatch(cx(1000), { emitTcp: () => true }); // no SYN-ACK: the timer backs off (§5.5)
 * const info: TcpInfo = s.info;
 * assert.equal(info.state, "synSent");
 * assert.equal(info.rto, 2000);
 * ```
 */
export interface TcpInfo extends TcpCounters {
  /** The connection state. */
  state: TcpState;
  /** Why the connection failed, or `null`. */
  error: TcpError | null;
  /** Smoothed RTT in ms, `null` before the first sample. */
  srtt: Duration | null;
  /** RTT variation in ms, `null` before the first sample. */
  rttvar: Duration | null;
  /** Current retransmission timeout, backoff included. */
  rto: Duration;
  /** Congestion window in bytes. */
  cwnd: number;
  /** Slow start threshold in bytes. */
  ssthresh: number;
  /** The peer's window in bytes (scaled). */
  peerWindow: number;
  /** Oldest unacknowledged sequence number. */
  sndUna: number;
  /** Next sequence number to send. */
  sndNxt: number;
  /** Next sequence number expected from the peer. */
  rcvNxt: number;
  /** Payload bytes per segment we send (after options). */
  mss: number;
  /** Bytes in the send buffer (unacknowledged and unsent). */
  sendQueue: number;
  /** Bytes in the receive buffer ready to read. */
  recvQueue: number;
  /** Whether loss recovery (fast recovery) is in progress. */
  inRecovery: boolean;
  /** The send buffer's size now (autotuned unless `txBufferSize` was given). */
  sendCapacity: number;
  /** The receive buffer's size now (autotuned unless `rxBufferSize` was given). */
  recvCapacity: number;
  /** Bytes of memory the send and receive buffers hold now (they grow with use). */
  bufferMemory: number;
  /** Whether ECN (RFC 3168) was negotiated. */
  ecn: boolean;
  /**
   * Without SACK, the duplicate ACKs that start fast recovery: 3 (RFC 5681), more once
   * reordering was seen (see `dupThreshRaised`).
   */
  dupThresh: number;
  /** HyStart++ (RFC 9406): slow starts ended by a rise in RTT (entries into CSS). */
  hystartExits: number;
  /** HyStart++: round trips spent in Conservative Slow Start. */
  hystartCssRounds: number;
  /** HyStart++: returns from CSS to slow start because the RTT fell back. */
  hystartCssResumes: number;
}

/** A fresh all-zero counter set. */
export function newCounters(): TcpCounters {
  return {
    retransmits: 0,
    fastRetransmits: 0,
    rtos: 0,
    dupAcks: 0,
    outOfOrderSegments: 0,
    challengeAcks: 0,
    challengeAcksLimited: 0,
    oowAcksLimited: 0,
    segmentsIn: 0,
    segmentsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    droppedOutOfWindow: 0,
    droppedPaws: 0,
    droppedBadAck: 0,
    droppedRst: 0,
    droppedAssembler: 0,
    droppedOther: 0,
    icmpErrors: 0,
    icmpIgnored: 0,
    pathMtuReductions: 0,
    tlpProbes: 0,
    tlpRecoveries: 0,
    recoveryProbes: 0,
    rackLost: 0,
    dsacksReceived: 0,
    spuriousUndos: 0,
    undoJoined: 0,
    dupThreshRaised: 0,
    dsacksSent: 0,
    dsackIgnored: 0,
    sackBlocksIgnored: 0,
    ceReceived: 0,
    ecnReductions: 0,
    frtoUndos: 0,
    fastOpenSynData: 0,
    fastOpenDataAcked: 0,
    fastOpenFallbacks: 0,
    mtuProbes: 0,
    mtuProbesAcked: 0,
    mtuBlackHoles: 0,
  };
}

/** Copies counters from `src` into `dst` without allocating. */
export function copyCounters(dst: TcpCounters, src: TcpCounters): void {
  dst.retransmits = src.retransmits;
  dst.fastRetransmits = src.fastRetransmits;
  dst.rtos = src.rtos;
  dst.dupAcks = src.dupAcks;
  dst.outOfOrderSegments = src.outOfOrderSegments;
  dst.challengeAcks = src.challengeAcks;
  dst.challengeAcksLimited = src.challengeAcksLimited;
  dst.oowAcksLimited = src.oowAcksLimited;
  dst.segmentsIn = src.segmentsIn;
  dst.segmentsOut = src.segmentsOut;
  dst.bytesIn = src.bytesIn;
  dst.bytesOut = src.bytesOut;
  dst.droppedOutOfWindow = src.droppedOutOfWindow;
  dst.droppedPaws = src.droppedPaws;
  dst.droppedBadAck = src.droppedBadAck;
  dst.droppedRst = src.droppedRst;
  dst.droppedAssembler = src.droppedAssembler;
  dst.droppedOther = src.droppedOther;
  dst.icmpErrors = src.icmpErrors;
  dst.icmpIgnored = src.icmpIgnored;
  dst.pathMtuReductions = src.pathMtuReductions;
  dst.tlpProbes = src.tlpProbes;
  dst.tlpRecoveries = src.tlpRecoveries;
  dst.recoveryProbes = src.recoveryProbes;
  dst.rackLost = src.rackLost;
  dst.dsacksReceived = src.dsacksReceived;
  dst.spuriousUndos = src.spuriousUndos;
  dst.undoJoined = src.undoJoined;
  dst.dupThreshRaised = src.dupThreshRaised;
  dst.dsacksSent = src.dsacksSent;
  dst.dsackIgnored = src.dsackIgnored;
  dst.sackBlocksIgnored = src.sackBlocksIgnored;
  dst.ceReceived = src.ceReceived;
  dst.ecnReductions = src.ecnReductions;
  dst.frtoUndos = src.frtoUndos;
  dst.fastOpenSynData = src.fastOpenSynData;
  dst.fastOpenDataAcked = src.fastOpenDataAcked;
  dst.fastOpenFallbacks = src.fastOpenFallbacks;
  dst.mtuProbes = src.mtuProbes;
  dst.mtuProbesAcked = src.mtuProbesAcked;
  dst.mtuBlackHoles = src.mtuBlackHoles;
}

/** Refreshes `i` from the connection `c` (counters, state, timers, windows, queues); returns `i`. */
export function refreshInfo(i: TcpInfo, c: TcpConn): TcpInfo {
  copyCounters(i, c.counters);
  i.state = c.state;
  i.error = c.error;
  i.srtt = c.rtt.srtt;
  i.rttvar = c.rtt.rttvar;
  i.rto = c.rtt.rto;
  i.cwnd = c.cc.cwnd;
  i.ssthresh = c.cc.ssthresh;
  i.peerWindow = c.sndWnd;
  i.sndUna = c.sndUna;
  i.sndNxt = c.sndNxt;
  i.rcvNxt = c.rcvNxt;
  i.mss = c.sndMss;
  i.sendQueue = c.tx.length;
  i.recvQueue = c.rx.length;
  i.inRecovery = c.inRecovery;
  i.sendCapacity = c.tx.capacity;
  i.recvCapacity = c.rx.capacity;
  i.bufferMemory = c.tx.storageSize + c.rx.storageSize;
  i.ecn = c.ecn.on;
  i.dupThresh = c.undo.dupThresh;
  const hs = c.cc.hystart;
  i.hystartExits = hs === null ? 0 : hs.counters.exits;
  i.hystartCssRounds = hs === null ? 0 : hs.counters.cssRounds;
  i.hystartCssResumes = hs === null ? 0 : hs.counters.cssResumes;
  return i;
}
