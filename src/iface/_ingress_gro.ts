/**
 * Receive coalescing (GRO in software, as Linux's `tcp_gro_receive`): in-order TCP segments of
 * one flow read in one poll are handed to the socket as one segment, so it processes and
 * acknowledges them once instead of once per frame. A batch takes only what merging cannot
 * change: data with ACK (and PSH on the last), the same addresses, ports, acknowledgment,
 * window, ECN codepoint, IPv6 flow label and option bytes (timestamps included), each segment
 * starting where the one before ended and as long as the first (a shorter one ends the batch),
 * up to 64 KiB. The payloads are copied into one buffer, because a device lends each frame only
 * until the next. Ingress flushes the batch before any frame it does not take and at the end of
 * the poll's ingress. IPv4 and IPv6 alike; IPv6 only without extension headers (ingress reads
 * only those in place). Internal to the iface folder; on unless `InterfaceConfig.coalesceTcp`
 * is `false`.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import { readU16, readU32 } from "../wire/_bytes.ts";
import { TcpFlags, type TcpRepr } from "../wire/tcp.ts";
import { blankTcpRepr, type MutableTcpRepr } from "../wire/_tcp_parse.ts";

/** The largest merged payload: what fits one IPv4 packet with a 60-byte TCP header. */
export const MAX_BATCH_PAYLOAD = 65535 - 20 - 60;
/**
 * The longest segment batched: a longer one goes to its socket alone, without the copy (its
 * fixed costs are small beside its bytes, and a 64 KiB segment would not fit a batch anyway).
 */
export const MAX_BATCH_SEGMENT = 16384;

const ACK_PSH = TcpFlags.ACK | TcpFlags.PSH;

/** One flow's pending segments. */
export class TcpBatch {
  /** The merged payload, allocated by the first batch. */
  #data: Uint8Array | null = null;
  /** The batch's copy of its first segment, filled by `start` (`first` while active). */
  readonly #first: MutableTcpRepr = blankTcpRepr();

  readonly #ts = { tsVal: 0, tsEcr: 0 };
  /** The first segment (its payload is replaced by the merged one on flush); `null` when none. */
  first: TcpRepr | null = null;
  src: IpAddress | null = null;
  dst: IpAddress | null = null;
  ecn = 0;
  /** The IPv6 flow label (0 for IPv4): as in Linux's `ipv6_gro_receive`, labels must match. */
  label = 0;
  /** Payload bytes held. */
  len = 0;
  /** The sequence number the next segment must carry. */
  nextSeq = 0;
  /** The first segment's payload length; later ones may not be longer. */
  segLen = 0;
  /** The flags seen (PSH of the last). */
  flags = 0;
  /** Set by a shorter or PSH segment: nothing more may follow. */
  closed = false;
  /** The first segment's header bytes from the acknowledgment number to the end of the options. */
  readonly header = new Uint8Array(52);
  headerLen = 0;

  /** Whether a batch is pending. */
  get active(): boolean {
    return this.first !== null;
  }

  /**
   * Whether `repr` may be batched: data (at most {@linkcode MAX_BATCH_SEGMENT} bytes) with ACK
   * and at most PSH besides, no Fast Open.
   */
  static takes(repr: TcpRepr): boolean {
    const n = repr.payload.length;
    return n > 0 && n <= MAX_BATCH_SEGMENT && (repr.flags & ~ACK_PSH) === 0 &&
      (repr.flags & TcpFlags.ACK) !== 0 && repr.fastOpen === undefined;
  }

  /**
   * Whether the segment may join the pending batch: same flow, next in sequence, same
   * acknowledgment, window, ECN, flow label and options (compared as bytes), no longer than the
   * first, and room left.
   */
  extends(
    repr: TcpRepr,
    b: Uint8Array,
    tcp: number,
    src: IpAddress,
    dst: IpAddress,
    ecn: number,
    label = 0,
  ): boolean {
    const first = this.first!;
    const n = repr.payload.length;
    if (
      this.closed || repr.seq !== this.nextSeq || n > this.segLen ||
      this.len + n > MAX_BATCH_PAYLOAD || ecn !== this.ecn || label !== this.label ||
      repr.srcPort !== first.srcPort || repr.dstPort !== first.dstPort ||
      !(src === this.src || src.equals(this.src!)) ||
      !(dst === this.dst || dst.equals(this.dst!))
    ) {
      return false;
    }
    // From the acknowledgment number (byte 8) to the end of the options, but for the flags
    // byte's PSH bit and the checksum (bytes 16-17).
    const end = (b[tcp + 12]! >>> 4) * 4;
    if (end - 8 !== this.headerLen) return false;
    const h = this.header;
    if (readU32(b, tcp + 8) !== readU32(h, 0) || b[tcp + 12] !== h[4]) return false;
    if ((b[tcp + 13]! & ~TcpFlags.PSH) !== (h[5]! & ~TcpFlags.PSH)) return false;
    if (readU16(b, tcp + 14) !== readU16(h, 6) || readU16(b, tcp + 18) !== readU16(h, 10)) {
      return false;
    }
    for (let i = 20; i < end; i++) if (b[tcp + i] !== h[i - 8]) return false;
    return true;
  }

  /** Starts a batch with (a copy of) `repr`, whose header is at `b[tcp, …)`. */
  start(
    repr: TcpRepr,
    b: Uint8Array,
    tcp: number,
    src: IpAddress,
    dst: IpAddress,
    ecn: number,
    label = 0,
  ): void {
    const end = (b[tcp + 12]! >>> 4) * 4;
    this.header.set(b.subarray(tcp + 8, tcp + end));
    this.headerLen = end - 8;
    // Ingress reads every segment into one reused repr: the batch keeps a copy of the first.
    const f = this.#first;
    f.srcPort = repr.srcPort;
    f.dstPort = repr.dstPort;
    f.seq = repr.seq;
    f.ack = repr.ack;
    f.flags = repr.flags;
    f.window = repr.window;
    f.urgent = repr.urgent;
    f.mss = repr.mss;
    f.windowScale = repr.windowScale;
    f.sackPermitted = repr.sackPermitted;
    f.sackBlocks = repr.sackBlocks;
    const ts = repr.timestamp;
    if (ts === null) f.timestamp = null;
    else {
      this.#ts.tsVal = ts.tsVal;
      this.#ts.tsEcr = ts.tsEcr;
      f.timestamp = this.#ts;
    }
    f.payload = repr.payload;
    this.first = f;
    this.src = src;
    this.dst = dst;
    this.ecn = ecn;
    this.label = label;
    this.len = 0;
    this.segLen = repr.payload.length;
    this.nextSeq = repr.seq;
    this.flags = 0;
    this.closed = false;
    this.add(repr);
  }

  /** Appends the payload of `repr` (which `extends` accepted, or the first). */
  add(repr: TcpRepr): void {
    const p = repr.payload;
    (this.#data ??= new Uint8Array(MAX_BATCH_PAYLOAD)).set(p, this.len);
    this.len += p.length;
    this.nextSeq = (this.nextSeq + p.length) >>> 0;
    this.flags |= repr.flags;
    if (p.length < this.segLen || (repr.flags & TcpFlags.PSH) !== 0) this.closed = true;
  }

  /**
   * The merged segment, and the batch emptied. Call only while `active`. The repr is the batch's
   * own, valid until the next `start`.
   */
  take(): TcpRepr {
    const merged = this.#first;
    merged.flags = this.flags;
    merged.payload = this.#data!.subarray(0, this.len);
    this.first = null;
    return merged;
  }
}
