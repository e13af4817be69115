/**
 * Internal: the offload paths of a TUN device opened with `IFF_VNET_HDR` — negotiation of
 * `TUNSETOFFLOAD` flags with fallback, the receive path that reads the `virtio_net_hdr` and the
 * packet with one `readv` and never trusts the header, and the transmit path that writes the
 * header with a partial TCP checksum and segmentation metadata.
 *
 * @module
 */

import { WireError } from "../wire/error.ts";
import {
  emitVirtioNetHdr,
  parseVirtioNetHdr,
  VIRTIO_NET_GSO_ECN,
  VirtioNetGsoType,
  VirtioNetHdr,
  type VirtioNetHdrRepr,
} from "../wire/virtio_net.ts";
import type { FrameReceiver, FrameSender } from "./_fd_device.ts";
import type { FrameQueue } from "./link.ts";
import type { Libc, MutableHostDeviceStats } from "./_libc.ts";
import {
  completeChecksum,
  fillTransportChecksum,
  fold,
  foundProto,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  ipEnd,
  pointerValue,
  put16,
  sum16,
  transportChecksumOk,
  transportOf,
  writePartialChecksum,
} from "./_transport.ts";

/** `TUNSETOFFLOAD` flag bits (linux/if_tun.h). */
export const TunOffload = {
  CSUM: 0x01,
  TSO4: 0x02,
  TSO6: 0x04,
  TSO_ECN: 0x08,
  UFO: 0x10,
  USO4: 0x20,
  USO6: 0x40,
} as const;

/** The flag sets tried in order; the first the kernel accepts wins (a refusal keeps the old set). */
const OFFLOAD_TRIES = [
  // USO (Linux 6.2+): the kernel may hand over UDP super-frames, split here into datagrams.
  TunOffload.CSUM | TunOffload.TSO4 | TunOffload.TSO6 | TunOffload.USO4 | TunOffload.USO6,
  TunOffload.CSUM | TunOffload.TSO4 | TunOffload.TSO6,
  TunOffload.CSUM | TunOffload.TSO4,
  TunOffload.CSUM,
] as const;

/**
 * Sets the best offload flags the kernel accepts, trying CSUM|TSO4|TSO6|USO4|USO6, CSUM|TSO4|TSO6,
 * CSUM|TSO4, CSUM (or only CSUM when `tso` is false); returns the flags set, 0 when every attempt
 * was refused.
 *
 * @param set Calls TUNSETOFFLOAD with the flags; `false` when the kernel refused them.
 * @param tso Whether to ask for segmentation offload at all.
 */
export function negotiateOffload(set: (flags: number) => boolean, tso: boolean): number {
  for (const flags of OFFLOAD_TRIES) {
    if (!tso && (flags & (TunOffload.TSO4 | TunOffload.TSO6)) !== 0) continue; // USO goes too
    if (set(flags)) return flags;
  }
  return 0;
}

/** The largest IP packet a TSO frame carries (the IPv4 total length field). */
export const TSO_MAX_FRAME = 65535;

/** Bytes of room for each frame that `readv` fills past the packet (so truncation shows). */
const IOV_BLOCK = 256;

/**
 * The receive path: `readv` into [offload header, ring slot]. The header is validated against
 * the packet (`parseVirtioNetHdr`, then its checksum position against the real transport header
 * and its segmentation type against the IP version): a bad one drops the frame
 * (`dropsBadOffloadHeader`). A TCP frame the kernel neither verified (DATA_VALID) nor left partial
 * (NEEDS_CSUM) is verified here (`dropsBadChecksum`), since the stack skips TCP checksums on this
 * device; a partial UDP checksum is completed (`checksumsCompleted`), since the stack verifies
 * UDP. A super-frame goes to the stack whole (`framesCoalesced`).
 */
export class TunOffloadReceiver implements FrameReceiver {
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #mtu: number;
  readonly #stats: MutableHostDeviceStats;
  readonly #hdrLen: number;
  /** iovec[2] and the header in one block off V8's moving heap (the iovec holds pointers). */
  readonly #mem = new Uint8Array(IOV_BLOCK);
  readonly #iov = new BigUint64Array(this.#mem.buffer, 0, 4);
  readonly #hdr: VirtioNetHdr;
  readonly #slotPointers = new WeakMap<Uint8Array, bigint>();
  /** Splits UDP super-frames (USO) into datagrams. */
  readonly #uso: UsoSplitter;
  /** The `gso_size` of the TCP super-frame read last, 0 for any other frame. */
  segmentSize = 0;

  constructor(
    lib: Libc,
    fd: number,
    opts: { mtu: number; hdrLen: number; slotSize: number },
    stats: MutableHostDeviceStats,
  ) {
    this.#lib = lib;
    this.#fd = fd;
    this.#mtu = opts.mtu;
    this.#stats = stats;
    this.#hdrLen = opts.hdrLen;
    this.#hdr = new VirtioNetHdr(this.#mem.subarray(64, 64 + opts.hdrLen));
    this.#iov[0] = pointerValue(this.#hdr.buffer);
    this.#iov[1] = BigInt(opts.hdrLen);
    this.#iov[3] = BigInt(opts.slotSize);
    this.#uso = new UsoSplitter(opts.mtu, stats);
  }

  /** Whether datagrams of a UDP super-frame wait for room in the ring (a TCP one goes up whole). */
  get staged(): boolean {
    return this.#uso.staged;
  }

  flush(rx: FrameQueue): void {
    this.#uso.flush(rx);
  }

  read(slot: Uint8Array): number {
    let ptr = this.#slotPointers.get(slot);
    if (ptr === undefined) {
      ptr = pointerValue(slot);
      this.#slotPointers.set(slot, ptr);
    }
    this.#iov[2] = ptr;
    const n = this.#lib.symbols.readv(this.#fd, this.#mem, 2);
    if (n < 0) return n;
    const len = n - this.#hdrLen;
    if (len <= 0) {
      this.#stats.dropsBadOffloadHeader++;
      return -2;
    }
    if (len > slot.length) return len; // truncated: the engine counts it
    const r = acceptOffloadFrame(this.#hdr, slot, len, this.#mtu, this.#stats);
    const gso = this.#hdr.gsoType & ~VIRTIO_NET_GSO_ECN;
    this.segmentSize = gso === VirtioNetGsoType.TcpV4 || gso === VirtioNetGsoType.TcpV6
      ? this.#hdr.gsoSize
      : 0;
    if (r < 0 || this.#hdr.gsoType !== VirtioNetGsoType.UdpL4) return r;
    // A UDP super-frame (USO): more than one datagram of gso_size goes up in pieces.
    return this.#uso.stage(slot, len, this.#hdr.gsoSize) ? -2 : r;
  }
}

/**
 * Splits UDP super-frames (an IP packet whose UDP payload holds datagrams of `gso_size` bytes,
 * the last one shorter: USO, a local sender's `UDP_SEGMENT`) into datagrams, as the kernel's own
 * segmentation would: each carries the headers with its own IP length (IPv4: ID + index and a
 * new header checksum), UDP length and a complete UDP checksum. Counts `framesSegmented` per
 * super-frame and `checksumsCompleted` per datagram; a super-frame whose datagrams would exceed
 * the MTU is dropped (`dropsBadOffloadHeader`).
 */
export class UsoSplitter {
  readonly #mtu: number;
  readonly #stats: MutableHostDeviceStats;
  #big: Uint8Array | null = null;
  #off = 0;
  #end = 0;
  #hdr = 0;
  #size = 0;
  #index = 0;

  constructor(mtu: number, stats: MutableHostDeviceStats) {
    this.#mtu = mtu;
    this.#stats = stats;
  }

  /** Whether datagrams of a staged super-frame wait for `flush`. */
  get staged(): boolean {
    return this.#off < this.#end;
  }

  /**
   * Takes the UDP packet `f[0, len)` (validated: `acceptOffloadFrame`) whose datagrams are
   * `size` bytes: `false` when it is one datagram that fits the MTU (it goes up as it is), else
   * `true` (staged for `flush`, or dropped and counted).
   */
  stage(f: Uint8Array, len: number, size: number): boolean {
    const t = transportOf(f, len, 0);
    if (t < 0 || foundProto !== IP_PROTO_UDP || size <= 0) return false;
    const hdr = t + 8;
    const end = ipEnd(f, 0);
    if (end - hdr <= size && len <= this.#mtu) return false;
    if (hdr + size > this.#mtu) {
      this.#stats.dropsBadOffloadHeader++;
      return true;
    }
    let big = this.#big;
    if (big === null || big.length < len) big = this.#big = new Uint8Array(Math.max(len, 65536));
    big.set(f.subarray(0, len));
    this.#hdr = hdr;
    this.#off = hdr;
    this.#end = end;
    this.#size = size;
    this.#index = 0;
    this.#stats.framesSegmented++;
    return true;
  }

  /** Appends datagrams of the staged super-frame to `rx` until it is done or the ring is full. */
  flush(rx: FrameQueue): void {
    const f = this.#big!;
    const hdr = this.#hdr;
    const t = hdr - 8;
    const v4 = f[0]! >> 4 === 4;
    const id0 = (f[4]! << 8) | f[5]!;
    while (this.#off < this.#end) {
      const off = this.#off;
      const len = Math.min(this.#size, this.#end - off);
      const seg = rx.reserve(hdr + len);
      if (seg === null) return;
      for (let i = 0; i < hdr; i++) seg[i] = f[i]!;
      seg.set(f.subarray(off, off + len), hdr);
      if (v4) {
        put16(seg, 2, hdr + len);
        put16(seg, 4, (id0 + this.#index) & 0xffff);
        put16(seg, 10, 0);
        put16(seg, 10, ~fold(sum16(seg, 0, (seg[0]! & 0xf) << 2, 0)) & 0xffff);
      } else {
        put16(seg, 4, hdr + len - 40);
      }
      put16(seg, t + 4, 8 + len);
      fillTransportChecksum(seg, 0, t, hdr + len, IP_PROTO_UDP);
      rx.commit();
      this.#stats.checksumsCompleted++;
      this.#index++;
      this.#off = off + len;
    }
  }
}

/**
 * Validates the offload header `hdr` of the packet `f[0, len)` read from a TUN device and settles
 * its checksum; returns `len`, or -2 when the frame is dropped (and counted in `stats`). The
 * header must parse ({@linkcode parseVirtioNetHdr}), its checksum position must be the packet's
 * real TCP/UDP checksum field, and a segmentation type must match a TCP packet of its IP
 * version; a frame larger than `mtu` must be a TCP super-frame.
 */
export function acceptOffloadFrame(
  hdr: VirtioNetHdr,
  f: Uint8Array,
  len: number,
  mtu: number,
  stats: MutableHostDeviceStats,
): number {
  let repr: VirtioNetHdrRepr;
  try {
    repr = parseVirtioNetHdr(hdr, len);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    stats.dropsBadOffloadHeader++;
    return -2;
  }
  const t = transportOf(f, len, 0);
  const proto = t < 0 ? 0 : foundProto;
  const gso = repr.gsoType;
  if (gso !== VirtioNetGsoType.None) {
    const v = f[0]! >> 4;
    const ok = (proto === IP_PROTO_TCP &&
      ((gso === VirtioNetGsoType.TcpV4 && v === 4) ||
        (gso === VirtioNetGsoType.TcpV6 && v === 6))) ||
      (proto === IP_PROTO_UDP && gso === VirtioNetGsoType.UdpL4 && repr.gsoSize > 0);
    if (!ok) {
      stats.dropsBadOffloadHeader++;
      return -2;
    }
  } else if (len > mtu) {
    stats.dropsOversize++;
    return -2;
  }
  if (repr.needsCsum) {
    const off = proto === IP_PROTO_TCP ? 16 : proto === IP_PROTO_UDP ? 6 : -1;
    if (off < 0 || repr.csumStart !== t || repr.csumOffset !== off) {
      stats.dropsBadOffloadHeader++;
      return -2;
    }
    if (proto === IP_PROTO_UDP) {
      completeChecksum(f, len, 0);
      stats.checksumsCompleted++;
    }
  } else if (!repr.dataValid && proto === IP_PROTO_TCP) {
    if (!transportChecksumOk(f, 0, t, ipEnd(f, 0), proto)) {
      stats.dropsBadChecksum++;
      return -2;
    }
  }
  if (len > mtu && proto === IP_PROTO_TCP) stats.framesCoalesced++;
  return len;
}

/**
 * The transmit path: each frame gets an offload header. A TCP frame (IPv4, or IPv6 without
 * extension headers) gets NEEDS_CSUM with its partial checksum written in (the stack leaves TCP
 * checksums to this device); one larger than the MTU gets TCPV4/TCPV6 with `gso_size` = the MTU
 * less its headers, so the kernel cuts MTU-sized segments (`framesSentSegmented`). Anything else
 * larger than the MTU is refused (`dropsTooBig`).
 */
export class TunOffloadSender implements FrameSender {
  readonly headroom: number;
  readonly maxLen: number;
  readonly #mtu: number;
  readonly #flags: number;
  readonly #stats: MutableHostDeviceStats;
  #hdr: VirtioNetHdr | null = null;
  /** The buffer `#hdr` was made for. */
  #hdrOf: Uint8Array | null = null;
  /** One header view per buffer (the engine's own, or each slot of a writer ring). */
  readonly #hdrs = new WeakMap<Uint8Array, VirtioNetHdr>();
  /** Reused header content (mutable twin of the repr). */
  readonly #repr: { -readonly [K in keyof VirtioNetHdrRepr]: VirtioNetHdrRepr[K] } = {
    needsCsum: false,
    dataValid: false,
    gsoType: VirtioNetGsoType.None,
    ecn: false,
    hdrLen: 0,
    gsoSize: 0,
    csumStart: 0,
    csumOffset: 0,
  };

  constructor(
    opts: { mtu: number; hdrLen: number; flags: number },
    stats: MutableHostDeviceStats,
  ) {
    this.headroom = opts.hdrLen;
    this.#mtu = opts.mtu;
    this.#flags = opts.flags;
    this.#stats = stats;
    const tso = (opts.flags & (TunOffload.TSO4 | TunOffload.TSO6)) !== 0;
    this.maxLen = tso ? TSO_MAX_FRAME : opts.mtu;
  }

  prepare(buffer: Uint8Array, len: number): number {
    const h = this.headroom;
    let hdr = this.#hdr;
    if (hdr === null || this.#hdrOf !== buffer) {
      let made = this.#hdrs.get(buffer);
      if (made === undefined) {
        made = new VirtioNetHdr(buffer.subarray(0, h));
        this.#hdrs.set(buffer, made);
      }
      hdr = made;
      this.#hdr = hdr;
      this.#hdrOf = buffer;
    }
    const r = this.#repr;
    r.needsCsum = false;
    r.gsoType = VirtioNetGsoType.None;
    const end = h + len;
    const t = (this.#flags & TunOffload.CSUM) !== 0 ? transportOf(buffer, end, h) : -1;
    if (t >= 0 && foundProto === IP_PROTO_TCP) {
      r.needsCsum = true;
      r.csumStart = t - h;
      r.csumOffset = writePartialChecksum(buffer, h, t, ipEnd(buffer, h), IP_PROTO_TCP);
      if (len > this.#mtu) {
        const v4 = buffer[h]! >> 4 === 4;
        const want = v4 ? TunOffload.TSO4 : TunOffload.TSO6;
        const headers = t - h + ((buffer[t + 12]! >> 4) << 2);
        if ((this.#flags & want) === 0 || headers >= this.#mtu) {
          this.#stats.dropsTooBig++;
          return -1;
        }
        r.gsoType = v4 ? VirtioNetGsoType.TcpV4 : VirtioNetGsoType.TcpV6;
        r.hdrLen = headers;
        r.gsoSize = this.#mtu - headers;
        this.#stats.framesSentSegmented++;
      }
    } else if (len > this.#mtu) {
      this.#stats.dropsTooBig++;
      return -1;
    }
    emitVirtioNetHdr(r, hdr);
    return end;
  }
}
