/**
 * The state of one TCP connection (the TCB of RFC 9293 §3.3.1) and the small helpers the
 * receive path, the send path and the socket share. Internal: the public face is `TcpSocket`.
 *
 * @module
 */

import { Assembler } from "../../storage/assembler.ts";
import { RingBuffer } from "../../storage/ring_buffer.ts";
import { type Instant, NEVER } from "../../time.ts";
import type { IpEndpoint } from "../../wire/address.ts";
import { type SackBlock, TcpFlags, type TcpRepr } from "../../wire/tcp.ts";
import { blankTcpRepr, type MutableTcpRepr } from "../../wire/_tcp_parse.ts";
import { TokenBucket } from "../context.ts";
import { BufferTuner } from "./autotune.ts";
import { EcnState } from "./ecn.ts";
import type { KeepAliveOptions, ResolvedTcpOptions } from "./config.ts";
import { type CongestionController, createCongestionController } from "./congestion.ts";
import { Prr } from "./prr.ts";
import { Rack } from "./rack.ts";
import { RttEstimator } from "./rtt.ts";
import { SegmentLog } from "./seg_log.ts";
import { UndoState } from "./undo.ts";
import type { MtuProber } from "./plpmtud.ts";
import { seqAdd, seqLt, seqSub } from "./seq.ts";
import { type TcpError, TcpState } from "./state.ts";
import { newCounters, type TcpCounters } from "./stats.ts";
import { TcpTimers } from "./timers.ts";
import type { TcpTraceSink } from "./trace_sink.ts";

/** The listener side of a child connection (see `listener.ts`). */
export interface ParentHooks {
  /** Called after every state change of the child. */
  childStateChanged(child: unknown, from: TcpState, to: TcpState): void;
  /**
   * Asked before the child leaves SYN-RECEIVED on the ACK of its SYN-ACK: `false` when the
   * accept queue is full, and the child then drops that ACK and stays half-open.
   */
  mayComplete(child: unknown): boolean;
}

/** No payload. */
export const EMPTY: Uint8Array = new Uint8Array(0);
/** No SACK blocks. */
export const NO_BLOCKS: readonly SackBlock[] = Object.freeze([]) as readonly SackBlock[];

/** `TcpConn.sackRecent` before the first out-of-order segment. */
const NO_RECENT = new Uint32Array(0);

/** The timestamps of {@linkcode OUT}. */
const OUT_TS = { tsVal: 0, tsEcr: 0 };
/** The repr `segment(…, reuse = true)` fills. */
const OUT: MutableTcpRepr = blankTcpRepr();

/** RFC 9293 §3.7.1: the MSS to assume when the peer sends none (IPv4; 1220 for IPv6). */
export const DEFAULT_MSS_V4 = 536;
/** RFC 8200 §5 minimum MTU 1280 − 40 − 20. */
export const DEFAULT_MSS_V6 = 1220;
/** The smallest payload per segment we ever use, whatever the peer announces. */
export const MIN_MSS = 64;
/** NOP NOP TS: the bytes timestamps take in every segment. */
export const TS_OPTION_LEN = 12;
/** NOP NOP plus the SACK option's kind and length (RFC 2018 §3); 8 more bytes per block. */
export const SACK_OPTION_BASE = 4;
/** Bytes per SACK block. */
export const SACK_BLOCK_LEN = 8;
/** Per-connection challenge ACK limit (RFC 5961 §7): this many per second. */
export const CHALLENGE_ACK_BURST = 10;
/** Least time between two rate-limited duplicate ACKs (Linux `tcp_invalid_ratelimit`). */
export const OOW_ACK_INTERVAL = 500;

/** What `dispatch` decided to send (the plan is built first and committed only on success). */
export const Plan = {
  None: 0,
  Rst: 1,
  Syn: 2,
  Data: 3,
  Probe: 4,
  Ack: 5,
} as const;
/** One of {@linkcode Plan}. */
export type Plan = typeof Plan[keyof typeof Plan];

/** The transmission control block. Fields are public to the tcp folder only. */
export class TcpConn {
  readonly o: ResolvedTcpOptions;
  owner: unknown = null;
  /** Where segments are traced, or `null` (the default: tracing off). */
  traceSink: TcpTraceSink | null = null;
  parent: ParentHooks | null = null;
  state: TcpState = TcpState.Closed;
  error: TcpError | null = null;
  /** The last ICMP soft error (RFC 1122 §4.2.3.9): reported instead of `"timedOut"`. */
  softError: TcpError | null = null;
  local: IpEndpoint | null = null;
  remote: IpEndpoint | null = null;
  /** For a passive open: the endpoint to listen on again after RST in SYN-RECEIVED. */
  listenOn: IpEndpoint | null = null;
  activeOpen = false;

  // Send sequence space (RFC 9293 §3.3.1) plus SND.MAX, the highest sequence number sent.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  synAcked = false;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** The peer's window shift, applied to its window fields. */
  sndShift = 0;
  /** Our window shift, applied to the windows we announce. */
  rcvShift = 0;
  /** Payload bytes per segment we send (options deducted, floor {@linkcode MIN_MSS}). */
  sndMss = DEFAULT_MSS_V4;
  /** The path MTU learnt from ICMP (RFC 1191, RFC 8201); `Infinity` until one arrives. */
  pathMtu = Number.POSITIVE_INFINITY;
  /** The MSS we announce. */
  ourMss = DEFAULT_MSS_V4;
  /** The largest payload seen from the peer: "a full-sized segment" for delayed ACKs. */
  rcvMss = DEFAULT_MSS_V4;
  finQueued = false;
  rstPending = false;
  readonly tx: RingBuffer;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  readonly rx: RingBuffer;
  readonly asm: Assembler;
  finRcvd = false;
  finHeld = false;
  finHeldSeq = 0;
  /** RCV.NXT + RCV.WND as last announced: never moved left (RFC 9293 §3.8.6.2.2). */
  rcvAdvRight = 0;
  lastAckSent = 0;
  synWindow = 0;
  /**
   * Left edges of the latest out-of-order segments, most recent first (RFC 2018 §4); allocated
   * at the first out-of-order segment (most connections never see one).
   */
  sackRecent: Uint32Array = NO_RECENT;
  sackRecentCount = 0;
  /** A D-SACK block (RFC 2883) for the next ACK: a duplicate segment's range, reported once. */
  dsackLeft = 0;
  dsackRight = 0;
  dsackPending = false;

  // Negotiated options.
  wsOn = false;
  tsOn = false;
  sackOn = false;
  tsRecent = 0;
  tsRecentAge: Instant = 0;
  tsOffset = 0;

  // RTT, congestion and loss recovery.
  readonly rtt: RttEstimator;
  readonly cc: CongestionController;
  /** Segments in flight with their transmit times (SACK connections, RACK-TLP). */
  readonly log: SegmentLog = new SegmentLog();
  readonly rack: Rack = new Rack();
  #prr: Prr | null = null;
  /** The window in fast recovery (RFC 6937, SACK connections); made at the first recovery. */
  get prr(): Prr {
    return this.#prr ??= new Prr();
  }
  /** What a spurious recovery episode restores (SACK connections). */
  readonly undo: UndoState = new UndoState();
  /** ECN (RFC 3168): negotiated or not, the echo and the sender's response. */
  readonly ecn: EcnState = new EcnState();
  /** RTO recovery (after a timeout, SACK connections): lost segments are resent in order. */
  inLoss = false;
  /** Bytes outstanding when the last tail loss probe left (its congestion response). */
  tlpFlight = 0;
  rttSeq = 0;
  rttTime: Instant = NEVER;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;
  highRxt = 0;
  forceRetransmit = false;
  rtoCount = 0;
  smallEnd = 0;
  smallOut = false;
  lastSend: Instant = Number.NEGATIVE_INFINITY;
  /**
   * The most bytes outstanding after a transmission of the current round, and where that round
   * ends (SND.MAX when it began; `null` before the first send): the flight that validates the
   * congestion window (RFC 7661, as Linux's `max_packets_out` / `cwnd_usage_seq`).
   */
  peakFlight = 0;
  peakFlightEnd: number | null = null;
  lastRecv: Instant = 0;
  /** Since when we have been waiting for the peer to acknowledge (RFC 5482 user timeout). */
  waitSince: Instant = NEVER;
  noDelay: boolean;
  keepAlive: KeepAliveOptions | null;
  kaProbes = 0;
  userTimeout: number | null;
  persistShift = 0;
  persistProbes = 0;
  ackNow = false;

  readonly timers: TcpTimers = new TcpTimers();
  /** Buffer autotuning, `null` when both buffer sizes are fixed. */
  readonly tune: BufferTuner | null;
  readonly counters: TcpCounters = newCounters();
  limiter: TokenBucket | null = null;
  /** When the last rate-limited duplicate ACK left ({@linkcode TcpConn.oowAck}). */
  lastOowAck: Instant = Number.NEGATIVE_INFINITY;

  // The current dispatch plan.
  pKind: Plan = Plan.None;
  pSeq = 0;
  pLen = 0;
  pFin = false;
  pRto = false;
  pHole = false;
  pIdle = false;
  pKeepAlive = false;
  pCut = false;
  /** The planned segment is a tail loss probe (RFC 8985 §7.3). */
  pTlp = false;
  /** The planned segment is the probe of a stalled fast recovery (`recoveryStalled`). */
  pStall = false;
  /** The payload room of a full-sized segment for this plan (SMSS less this segment's SACK blocks, within the MTU). */
  pMss = DEFAULT_MSS_V4;

  // TCP Fast Open (RFC 7413), see `fast_open.ts`.
  /** Client: the option our first SYN carries (a cookie, or empty to ask for one), or `null`. */
  tfoCookie: Uint8Array | null = null;
  /** Client: data bytes our first SYN carried. */
  tfoSynData = 0;
  /** Server: the cookie our SYN-ACK carries, or `null`. */
  tfoCookieOut: Uint8Array | null = null;
  /** Server: the listener took this connection's SYN data (RFC 7413 §4.2.2). */
  tfoAccept = false;

  /** Packetization-layer path MTU discovery (`plpmtud.ts`), `null` when off. */
  mtuProbe: MtuProber | null = null;
  /** The planned segment is a path MTU probe. */
  pProbe = false;

  constructor(o: ResolvedTcpOptions) {
    this.o = o;
    this.tx = new RingBuffer(o.txBufferSize);
    this.rx = new RingBuffer(o.rxBufferSize);
    this.asm = new Assembler(assemblerRanges(o.rxBufferMax));
    this.tune = o.rxBufferMax > o.rxBufferSize || o.txBufferMax > o.txBufferSize
      ? new BufferTuner(o.rxBufferMax, o.txBufferSize, o.txBufferMax)
      : null;
    this.rtt = new RttEstimator(o.rto);
    this.cc = createCongestionController(o.congestion, DEFAULT_MSS_V4, {
      hystart: o.hystart,
    });
    this.noDelay = o.noDelay;
    this.keepAlive = o.keepAlive;
    this.userTimeout = o.userTimeout;
    this.rcvShift = o.windowScale ? windowShift(o.rxBufferMax) : 0;
  }

  /** Sequence number of the first byte in the send buffer. */
  txBase(): number {
    return this.synAcked ? this.sndUna : seqAdd(this.iss, 1);
  }

  /** Sequence number just past the last queued byte (where our FIN goes). */
  txEnd(): number {
    return seqAdd(this.txBase(), this.tx.length);
  }

  /** Changes state and tells the parent listener, if any. */
  setState(s: TcpState): void {
    const from = this.state;
    if (from === s) return;
    this.state = s;
    if (this.parent !== null) this.parent.childStateChanged(this.owner, from, s);
  }

  /** Ends the connection: CLOSED, timers off, send side dropped; `error` says why. */
  closeWith(error: TcpError | null): void {
    if (error !== null && this.error === null) {
      this.error = error === "timedOut" && this.softError !== null ? this.softError : error;
    }
    this.timers.clear();
    this.tx.clear();
    this.log.release();
    this.finQueued = false;
    this.ackNow = false;
    this.setState(TcpState.Closed);
  }

  /** RFC 9293 §3.10.7.4: TIME-WAIT for 2×MSL. */
  enterTimeWait(now: Instant): void {
    this.timers.clear();
    this.timers.timeWait = now + this.o.timeWait;
    this.setState(TcpState.TimeWait);
  }

  /** Our TSval for `now` (RFC 7323 §5.4: a millisecond clock plus a per-connection offset). */
  tsVal(now: Instant): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  /** Eff.snd.MSS of the peer (RFC 9293 §3.7.1): the MSS we announced less its timestamps. */
  peerEffMss(): number {
    return this.ourMss - (this.tsOn ? TS_OPTION_LEN : 0);
  }

  /** The receive window to announce now, in bytes, with receiver SWS avoidance. */
  windowToAdvertise(): number {
    const free = this.rx.window;
    let current = seqSub(this.rcvAdvRight, this.rcvNxt);
    if (current < 0) current = 0;
    let win = current;
    // RFC 9293 §3.8.6.2.2: move the right edge only by min(Fr·RCV.BUFF, Eff.snd.MSS) or more,
    // with the peer's effective MSS (ours less the timestamp option it sends) and Fr = 1/4
    // rather than the suggested 1/2: in a buffer of under four segments a runt that fills the
    // window would otherwise keep its length of window unannounced until the next segment, and
    // a quarter of the buffer is still no silly window.
    const quarter = this.rx.capacity >>> 2;
    const effMss = this.peerEffMss();
    const threshold = quarter < effMss ? quarter : effMss;
    if (free - current >= threshold) win = free;
    const max = 65535 * (1 << this.rcvShift); // RFC 7323 §2.3: a shift of at most 14
    return win > max ? max : win;
  }

  /** The 16-bit window field for `win` bytes (scaled; rounded up only when the buffer has room). */
  windowField(win: number): number {
    const unit = 1 << this.rcvShift;
    let f = Math.ceil(win / unit);
    if (f * unit > this.rx.window) f = Math.floor(win / unit);
    return f > 65535 ? 65535 : f;
  }

  /** Records that an ACK carrying RCV.NXT and window field `field` has left. */
  noteAckSent(field: number): void {
    this.lastAckSent = this.rcvNxt;
    const right = seqAdd(this.rcvNxt, field * (1 << this.rcvShift));
    if (seqSub(right, this.rcvAdvRight) > 0) this.rcvAdvRight = right;
    this.timers.delayedAck = NEVER;
    this.ackNow = false;
    this.counters.segmentsOut++;
    if (this.dsackPending) {
      this.dsackPending = false;
      this.counters.dsacksSent++;
    }
  }

  /** Whether the out-of-order data already holds all of `[start, start + len)` (offsets from RCV.NXT). */
  holdsOutOfOrder(start: number, len: number): boolean {
    for (const [s, e] of this.asm.ranges()) {
      if (s > start) return false;
      if (e >= start + len) return true;
    }
    return false;
  }

  /** RFC 2883 §4: the next ACK reports `[left, right)` as received twice (SACK connections). */
  noteDuplicate(left: number, right: number): void {
    if (!this.sackOn || seqSub(right, left) <= 0) return;
    this.dsackLeft = left;
    this.dsackRight = right;
    this.dsackPending = true;
  }

  /** How many SACK blocks {@linkcode TcpConn.sackBlocks} reports now. */
  sackBlockCount(): number {
    if (!this.sackOn) return 0;
    const n = this.asm.count + (this.dsackPending ? 1 : 0);
    const max = this.tsOn ? 3 : 4;
    return n < max ? n : max;
  }

  /**
   * The payload room of a data segment sent now (RFC 6691, RFC 9293 §3.7.1): SMSS (the peer's
   * MSS, ours and the timestamp option already deducted) less the SACK blocks this segment will
   * carry, and never more than the IP MTU leaves after the IP and TCP headers and options.
   */
  segmentRoom(ipMtu: number): number {
    const blocks = this.sackBlockCount();
    const sack = blocks === 0 ? 0 : SACK_OPTION_BASE + blocks * SACK_BLOCK_LEN;
    const ipHeader = this.local!.addr.version === 4 ? 20 : 40;
    const mtu = ipMtu < this.pathMtu ? ipMtu : this.pathMtu;
    const byMtu = mtu - ipHeader - 20 - (this.tsOn ? TS_OPTION_LEN : 0) - sack;
    const byMss = this.sndMss - sack;
    const room = byMss < byMtu ? byMss : byMtu;
    return room < 1 ? 1 : room;
  }

  /**
   * SACK blocks to report (RFC 2018 §4): a pending D-SACK block first (RFC 2883 §4), then the
   * newest, at most 3 with timestamps, else 4.
   */
  sackBlocks(): readonly SackBlock[] {
    if (!this.sackOn || (this.asm.isEmpty() && !this.dsackPending)) return NO_BLOCKS;
    const max = (this.tsOn ? 3 : 4) - (this.dsackPending ? 1 : 0);
    const out: SackBlock[] = [];
    for (let k = 0; k < this.sackRecentCount && out.length < max; k++) {
      const off = seqSub(this.sackRecent[k]!, this.rcvNxt);
      if (off <= 0) continue;
      for (const [s, e] of this.asm.ranges()) {
        if (off >= s && off < e) {
          pushBlock(out, seqAdd(this.rcvNxt, s), seqAdd(this.rcvNxt, e));
          break;
        }
      }
    }
    for (const [s, e] of this.asm.ranges()) {
      if (out.length >= max) break;
      pushBlock(out, seqAdd(this.rcvNxt, s), seqAdd(this.rcvNxt, e));
    }
    if (this.dsackPending) out.unshift([this.dsackLeft, this.dsackRight]);
    return out;
  }

  /** Remembers the left edge of an out-of-order segment for SACK block ordering. */
  noteOutOfOrder(seq: number): void {
    let r = this.sackRecent;
    if (r === NO_RECENT) r = this.sackRecent = new Uint32Array(4);
    r.copyWithin(1, 0, 3);
    r[0] = seq;
    if (this.sackRecentCount < 4) this.sackRecentCount++;
  }

  /**
   * A segment from this connection: ports, sequence numbers, window, timestamps. `flags` must
   * include ACK except for a bare RST or our first SYN. Does not change state. With `reuse` it
   * fills one shared repr (and timestamps object) instead of allocating them, valid until the
   * next such call: for a dispatch to an emitter that is done with a segment when `emitTcp`
   * returns (`TcpEmitter.writesThrough`).
   */
  segment(now: Instant, flags: number, seq: number, payload: Uint8Array, reuse = false): TcpRepr {
    const syn = (flags & TcpFlags.SYN) !== 0;
    const hasAck = (flags & TcpFlags.ACK) !== 0;
    let window = 0;
    if (syn) {
      const free = this.rx.window;
      window = free > 65535 ? 65535 : free; // RFC 7323 §2.2: SYN windows are never scaled
    } else if (hasAck) {
      window = this.windowField(this.windowToAdvertise());
    }
    const synAck = syn && hasAck;
    // RFC 3168 §6.1.3: every ACK carries ECE from a CE mark until the peer's CWR.
    if (this.ecn.echo && hasAck && !syn && (flags & TcpFlags.RST) === 0) flags |= TcpFlags.ECE;
    const ts = (syn && !synAck ? this.o.timestamps : this.tsOn) && (flags & TcpFlags.RST) === 0;
    if (reuse) {
      const r = OUT;
      r.srcPort = this.local!.port;
      r.dstPort = this.remote!.port;
      r.seq = seq;
      r.ack = hasAck ? this.rcvNxt : 0;
      r.flags = flags;
      r.window = window;
      r.mss = syn ? this.ourMss : null;
      r.windowScale = syn && (synAck ? this.wsOn : this.o.windowScale) ? this.rcvShift : null;
      r.sackPermitted = syn && (synAck ? this.sackOn : this.o.sack);
      r.sackBlocks = !syn && hasAck ? this.sackBlocks() : NO_BLOCKS;
      if (ts) {
        OUT_TS.tsVal = this.tsVal(now);
        OUT_TS.tsEcr = hasAck ? this.tsRecent : 0;
        r.timestamp = OUT_TS;
      } else r.timestamp = null;
      r.payload = payload;
      return r;
    }
    return {
      srcPort: this.local!.port,
      dstPort: this.remote!.port,
      seq,
      ack: hasAck ? this.rcvNxt : 0,
      flags,
      window,
      urgent: 0,
      mss: syn ? this.ourMss : null,
      windowScale: syn && (synAck ? this.wsOn : this.o.windowScale) ? this.rcvShift : null,
      sackPermitted: syn && (synAck ? this.sackOn : this.o.sack),
      sackBlocks: !syn && hasAck ? this.sackBlocks() : NO_BLOCKS,
      timestamp: ts ? { tsVal: this.tsVal(now), tsEcr: hasAck ? this.tsRecent : 0 } : null,
      payload,
    };
  }

  /**
   * An ACK to return from `process` (sent immediately by the caller); updates ACK bookkeeping.
   * Its sequence number is SND.MAX (see {@linkcode TcpConn.ackSeq}).
   */
  replyAck(now: Instant): TcpRepr {
    const r = this.segment(now, TcpFlags.ACK, this.ackSeq(), EMPTY);
    this.noteAckSent(r.window);
    return r;
  }

  /**
   * A challenge ACK (RFC 5961 §3.2, §4.2, §5.2), or `null` when the per-connection or the
   * interface-wide limit (RFC 5961 §7) says no.
   */
  challengeAck(now: Instant, global: TokenBucket): TcpRepr | null {
    const lim = this.limiter ??= new TokenBucket({ burst: CHALLENGE_ACK_BURST, interval: 1000 });
    if (!lim.allow(now) || !global.allow(now)) {
      this.counters.challengeAcksLimited++;
      return null;
    }
    this.counters.challengeAcks++;
    return this.replyAck(now);
  }

  /**
   * The duplicate ACK for a segment dropped as out of window or by PAWS (RFC 9293 §3.10.7.4,
   * RFC 7323 §5.3), or `null` when rate-limited: a segment without data or FIN (a pure ACK, as in
   * an ACK loop) or one whose ACK field is unacceptable (RFC 5961 §5.2: not from the peer, e.g. a
   * blind forgery) draws at most one such ACK per {@linkcode OOW_ACK_INTERVAL}, as Linux's
   * `tcp_oow_rate_limited`. Genuine old data or FINs (a lost ACK) are always answered.
   */
  oowAck(now: Instant, repr: TcpRepr): TcpRepr | null {
    const f = repr.flags;
    const ack = repr.ack;
    const limited = (repr.payload.length === 0 && (f & TcpFlags.FIN) === 0) ||
      (f & TcpFlags.ACK) === 0 || seqSub(ack, this.sndMax) > 0 ||
      seqSub(ack, seqAdd(this.sndUna, -this.maxSndWnd)) < 0;
    if (limited) {
      if (now - this.lastOowAck < OOW_ACK_INTERVAL) {
        this.counters.oowAcksLimited++;
        return null;
      }
      this.lastOowAck = now;
    }
    return this.replyAck(now);
  }

  /** A RST from this connection's endpoints (no options). */
  rst(seq: number, withAck: boolean): TcpRepr {
    return {
      srcPort: this.local!.port,
      dstPort: this.remote!.port,
      seq,
      ack: withAck ? this.rcvNxt : 0,
      flags: withAck ? TcpFlags.RST | TcpFlags.ACK : TcpFlags.RST,
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

  /**
   * The sequence number of a segment that carries no data, SYN or FIN (ACK, window update,
   * RST): SND.MAX. After a timeout SND.NXT goes back to SND.UNA while the peer may already hold
   * everything up to SND.MAX; a zero-length segment at the rewound SND.NXT would then fail the
   * peer's acceptability test (RFC 9293 §3.10.7.4: RCV.NXT ≤ SEG.SEQ) and be dropped with its
   * ACK, and two such senders deadlock. BSD's tcp_output uses snd_max for the same reason.
   */
  ackSeq(): number {
    return this.sndMax;
  }

  /** Bytes sent and not yet acknowledged, in sequence space. */
  outstanding(): number {
    return seqSub(this.sndMax, this.sndUna);
  }

  /**
   * After a transmission: the round's peak flight grows to what is outstanding now, or a new
   * round starts when SND.UNA has passed the end of the last one (as Linux's
   * `tcp_cwnd_validate`).
   */
  notePeakFlight(): void {
    const out = this.outstanding();
    const end = this.peakFlightEnd;
    if (end === null || !seqLt(this.sndUna, end)) {
      this.peakFlight = out;
      this.peakFlightEnd = this.sndMax;
    } else if (out > this.peakFlight) {
      this.peakFlight = out;
    }
  }

  /**
   * The flight in use (RFC 5681's FlightSize for the window's validation, RFC 7661, and for the
   * reduction on loss, RFC 9438 §4.6): the most outstanding after a transmission of the current
   * round, or more if more is outstanding now. A sender that takes in a batch of ACKs before it
   * sends again (a busy event loop, a device read in bursts) sees the pipe drain within the
   * batch, so what an ACK leaves outstanding understates the window in use: its later ACKs did
   * not grow the window, and a loss found late in a batch set ssthresh from a fraction of it
   * (0.63 of cwnd on average with the ACKs of a 0.4 ms round trip read every 0.4 ms, against
   * 0.96 when each is read as it comes; under 1 % random loss the window settled at 7.4
   * segments instead of 13).
   */
  usedFlight(): number {
    const out = this.outstanding();
    return this.peakFlight > out ? this.peakFlight : out;
  }
}

/**
 * How many out-of-order ranges the receiver holds: enough for every other segment of a quarter of
 * the buffer (a burst of drop-tail losses leaves one hole per segment), at least 32, at most 512.
 * A receiver that must drop out-of-order data it has room for makes the sender's SACK scoreboard
 * count those bytes as in flight until a timeout.
 */
function assemblerRanges(rxBufferSize: number): number {
  const n = Math.ceil(rxBufferSize / 4096);
  return n < 32 ? 32 : n > 512 ? 512 : n;
}

function pushBlock(out: SackBlock[], l: number, r: number): void {
  for (let i = 0; i < out.length; i++) if (out[i]![0] === l) return;
  out.push([l, r]);
}

/** The window shift that lets a 16-bit window field cover `bytes` (RFC 7323 §2.3, at most 14). */
export function windowShift(bytes: number): number {
  let shift = 0;
  while (shift < 14 && bytes >>> shift > 65535) shift++;
  return shift;
}

/** The MSS to announce for a local endpoint on a link whose IP MTU is `ipMtu`. */
export function mssForMtu(ipMtu: number, local: IpEndpoint): number {
  const m = ipMtu - (local.addr.version === 4 ? 20 : 40) - 20;
  return m < MIN_MSS ? MIN_MSS : m > 65535 ? 65535 : m;
}
