/**
 * {@linkcode RawSocketDevice}: a Linux AF_PACKET raw socket bound to an existing interface (for
 * example one end of a veth pair), carrying whole Ethernet frames. Needs `--allow-ffi` and
 * CAP_NET_RAW.
 *
 * @module
 */

import { checksumAll, ETHERNET_HEADER_LEN, Medium } from "./device.ts";
import type { DeviceCapabilities } from "./device.ts";
import { FdDevice, FdEngine } from "./_fd_device.ts";
import type { FrameReceiver } from "./_fd_device.ts";
import type { FrameQueue } from "./link.ts";
import {
  AF_PACKET,
  configureInterface,
  cString,
  Errno,
  errno,
  errnoText,
  ifreqFor,
  openLibc,
  osError,
  POLLNVAL,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_SOCKET,
} from "./_libc.ts";
import type { Libc, MutableHostDeviceStats } from "./_libc.ts";
import {
  completeChecksum,
  fillTransportChecksum,
  fold,
  foundProto,
  IP_PROTO_TCP,
  ipEnd,
  pointerValue,
  put16,
  sum16,
  transportOf,
} from "./_transport.ts";

export { completeChecksum } from "./_transport.ts";

/** ETH_P_ALL in network byte order, as `socket` and `sockaddr_ll` take it. */
const ETH_P_ALL_BE = 0x0300;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_PROMISC = 1;
const PACKET_IGNORE_OUTGOING = 23;

/**
 * Options of {@linkcode RawSocketDevice.open}.
 *
 * @example
 * ```ts
 * import { RawSocketDevice } from "@smol/net/phy";
 * import type { RawSocketOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: RawSocketOptions = { name: "veth1", promiscuous: true };
 * // Names are checked before anything is opened: at most 15 bytes (IFNAMSIZ).
 * await assert.rejects(RawSocketDevice.open({ ...opts, name: "a-very-long-name" }), TypeError);
 * ```
 */
export interface RawSocketOptions {
  /** The existing interface to bind to. */
  readonly name: string;
  /** Socket receive buffer in bytes (SO_RCVBUFFORCE, else SO_RCVBUF). Default 8 MiB. */
  readonly receiveBufferSize?: number;
  /**
   * Put the interface in promiscuous mode while the socket is open, so a NIC delivers frames for
   * the stack's own MAC address. Default `false` (a veth delivers every frame anyway).
   */
  readonly promiscuous?: boolean;
  /**
   * Coalesce outgoing pure TCP ACKs: an ACK sent while the stack takes a received burst waits
   * until the stack has drained the receive queue and the fd (or sends another frame), and a
   * newer ACK of the same connection replaces it (the older one is counted in
   * `stats.acksCoalesced`, never sent). Each write to the kernel costs a system call
   * plus the kernel's whole receive path, so this removes most of the writes of a download.
   * Duplicate ACKs, SACKs and anything else always leave in order. Default `true`.
   */
  readonly coalesceAcks?: boolean;
  /** Receive ring length in frames. Default 256. */
  readonly rxQueueLen?: number;
  /** Called once when the device fails (the interface was deleted); `closed` rejects too. */
  readonly onError?: (error: Error) => void;
}

/**
 * An AF_PACKET `SOCK_RAW` socket for all EtherTypes, bound to one interface. Frames this socket
 * sends are not received back: the kernel is asked not to loop them (PACKET_IGNORE_OUTGOING,
 * Linux 4.20+) and the receive path also skips any frame whose `sll_pkttype` is
 * PACKET_OUTGOING (counted in `stats.outgoingSkipped`), which also hides frames the host's own
 * stack sends on the interface. The MTU is the interface's MTU plus the 14-byte header.
 *
 * Frames the host's stack sent with TX checksum offload (the default on a veth) reach a packet
 * socket with only the pseudo-header sum in their TCP/UDP checksum field; the kernel says so per
 * frame (PACKET_AUXDATA, TP_STATUS_CSUMNOTREADY) and the device computes the checksum, as a NIC
 * would have (`stats.checksumsCompleted`). TCP super-frames larger than the MTU (segmentation
 * offload, GSO/TSO) are split into MTU-sized segments (`stats.framesSegmented`), so the stack
 * sees what the wire would carry and keeps verifying every checksum in software.
 *
 * The reader, the receive ring, the synchronous transmit path (EAGAIN/ENOBUFS drop the frame,
 * counted in `dropsTxBusy`) and `close()` work as in {@linkcode TunTapDevice}. When the
 * interface is deleted, the loop ends and `closed` rejects with `Deno.errors.NotFound`; a link
 * that merely goes down (ENETDOWN) is counted in `readErrors` and the socket resumes when it
 * comes back up.
 *
 * @example
 * ```ts ignore
 * import { RawSocketDevice } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * // As root, with a veth pair veth0/veth1 up: frames sent on veth1 arrive on veth0
 * const dev = await RawSocketDevice.open({ name: "veth1" });
 * const frames = new Promise<void>((resolve) => dev.onReadable(resolve));
 * const peer = await RawSocketDevice.open({ name: "veth0" });
 * peer.transmit(0, 60)!.fill(0xff, 0, 6); // to the broadcast address
 * peer.commit();
 * await frames;
 * assert.equal(dev.receive(0)?.length, 60);
 * await peer.close();
 * await dev.close();
 * ```
 */
export class RawSocketDevice extends FdDevice {
  readonly #name: string;
  readonly #ifindex: number;

  private constructor(engine: FdEngine, name: string, ifindex: number) {
    super(engine);
    this.#name = name;
    this.#ifindex = ifindex;
  }

  /**
   * Opens the socket, binds it to the interface and starts the reader loop.
   *
   * @param options Interface name, receive buffer, promiscuous mode, ring length, error callback.
   * @returns The open device.
   * @throws {Deno.errors.NotFound} When the interface does not exist.
   * @throws {Deno.errors.PermissionDenied} Without CAP_NET_RAW (the message says what to run).
   * @throws {TypeError} For a bad interface name.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await RawSocketDevice.open({ name: "eth0" });
   * assert.equal(dev.capabilities.mtu, 1514);
   * await dev.close();
   * ```
   */
  static open(options: RawSocketOptions): Promise<RawSocketDevice> {
    return new Promise((resolve) => resolve(RawSocketDevice.#openSync(options)));
  }

  static #openSync(options: RawSocketOptions): RawSocketDevice {
    const name = options.name;
    ifreqFor(name); // validates the name
    const lib = openLibc();
    let fd = -1;
    try {
      const s = lib.symbols;
      const ifindex = s.if_nametoindex(cString(name));
      if (ifindex === 0) {
        throw new Deno.errors.NotFound(
          `Cannot bind a raw socket to interface "${name}": no such interface (see \`ip link\`)`,
        );
      }
      fd = s.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE);
      if (fd < 0) {
        throw osError(
          lib,
          "Cannot open an AF_PACKET socket",
          errno(lib),
          "raw sockets need CAP_NET_RAW: run as root (sudo), grant it with " +
            "`sudo setcap cap_net_raw+ep $(command -v deno)`, or run inside `unshare -Urn` " +
            "with an interface of that namespace",
        );
      }
      setIntOption(lib, fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1); // best effort: pkttype check too
      // Per-frame tp_status: which frames carry only a partial checksum (packet(7)).
      if (!setIntOption(lib, fd, SOL_PACKET, PACKET_AUXDATA, 1)) {
        throw osError(
          lib,
          `Cannot enable PACKET_AUXDATA on the raw socket for "${name}"`,
          errno(lib),
        );
      }
      const rcvbuf = options.receiveBufferSize ?? 8 << 20;
      if (!setIntOption(lib, fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)) {
        setIntOption(lib, fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
      }
      const sll = new Uint8Array(SOCKADDR_LL_LEN);
      const dv = new DataView(sll.buffer);
      dv.setUint16(0, AF_PACKET, true);
      dv.setUint16(2, ETH_P_ALL_BE, true);
      dv.setInt32(4, ifindex, true);
      if (s.bind(fd, sll, SOCKADDR_LL_LEN) < 0) {
        throw osError(lib, `Cannot bind the raw socket to "${name}"`, errno(lib));
      }
      if (options.promiscuous === true) {
        const mreq = new Uint8Array(16);
        const mv = new DataView(mreq.buffer);
        mv.setInt32(0, ifindex, true);
        mv.setUint16(4, PACKET_MR_PROMISC, true);
        if (s.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16) < 0) {
          throw osError(lib, `Cannot make "${name}" promiscuous`, errno(lib));
        }
      }
      const ipMtu = configureInterface(lib, name, {});
      const capabilities: DeviceCapabilities = Object.freeze({
        medium: Medium.Ethernet,
        mtu: ipMtu + ETHERNET_HEADER_LEN,
        checksum: Object.freeze(checksumAll()),
        maxBurstSize: null,
      });
      const label = `Raw socket on "${name}"`;
      const engine = new FdEngine({
        lib,
        fd,
        capabilities,
        rxQueueLen: options.rxQueueLen ?? 256,
        receiver: (stats, slotSize) =>
          new PacketReceiver(lib, fd, capabilities.mtu, slotSize, stats),
        label,
        onError: options.onError,
        coalesceAcks: options.coalesceAcks !== false,
        classify: (revents, code) => classifyRawError(lib, label, name, ifindex, revents, code),
      });
      return new RawSocketDevice(engine, name, ifindex);
    } catch (e) {
      if (fd >= 0) lib.symbols.close(fd);
      lib.close();
      throw e;
    }
  }

  /** The interface name. */
  get name(): string {
    return this.#name;
  }

  /** The interface index the socket is bound to. */
  get ifindex(): number {
    return this.#ifindex;
  }
}

/** Sets an int socket option; `false` when the kernel refuses. */
function setIntOption(lib: Libc, fd: number, level: number, name: number, value: number): boolean {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, value, true);
  return lib.symbols.setsockopt(fd, level, name, v, 4) === 0;
}

/**
 * A packet socket reports ENETDOWN (POLLERR) when its interface goes down or is deleted: fatal
 * only when the name no longer resolves to the bound index.
 */
function classifyRawError(
  lib: Libc,
  label: string,
  name: string,
  ifindex: number,
  revents: number,
  code: number,
): Error | null {
  if ((revents & POLLNVAL) !== 0 || code === Errno.EBADF) {
    return new Deno.errors.BadResource(`${label}: the file descriptor is no longer valid`);
  }
  if (code === Errno.ENETDOWN || code === Errno.ENXIO || code === Errno.ENODEV || code === 0) {
    if (lib.symbols.if_nametoindex(cString(name)) !== ifindex) {
      return new Deno.errors.NotFound(
        `${label}: the interface is gone (deleted, for example by \`ip link del\`): ` +
          errnoText(code),
      );
    }
  }
  return null;
}

/** sockaddr_ll: family u16, protocol u16, ifindex i32, hatype u16, pkttype u8, halen u8, addr[8]. */
const SOCKADDR_LL_LEN = 20;
const SLL_PKTTYPE = 10;
const PACKET_OUTGOING = 4;
const MSG_TRUNC = 0x20;
/** packet(7): the `tpacket_auxdata` control message. */
const SOL_PACKET = 263;
/** Socket option and control message type of `tpacket_auxdata`. */
const PACKET_AUXDATA = 8;
/** `tp_status`: the transport checksum field holds only the pseudo-header sum. */
const TP_STATUS_CSUMNOTREADY = 0x8;
/** The largest frame read whole: a 64 KiB GSO super-frame, its link header and some slack. */
const PACKET_READ_MAX = 65536 + 256;
/** `struct msghdr` on 64-bit Linux: name, namelen, iov, iovlen, control, controllen, flags. */
const MSGHDR_LEN = 56;
const MSG_NAMELEN = 8;
const MSG_CONTROLLEN = 40;
/** `struct cmsghdr`: len (size_t), level, type; the data follows at 16. */
const CMSG_DATA = 16;
/** `struct tpacket_auxdata`: status u32, len u32, snaplen u32, mac u16, net u16, vlan... */
const AUXDATA_LEN = 20;
const CONTROL_LEN = 128;
const IOV_AT = 64;
const ADDR_AT = 96;
const CONTROL_AT = 128;
const CONTROL_LEN_BIG = BigInt(CONTROL_LEN);

/**
 * The AF_PACKET receive path: `recvmsg` with PACKET_AUXDATA into the ring's slot, whose overflow
 * lands in a 64 KiB side buffer (`iov[1]`), all preallocated. A frame the kernel hands over
 * with TP_STATUS_CSUMNOTREADY (CHECKSUM_PARTIAL: the sender's TX checksum offload, for example a
 * veth peer) gets its TCP/UDP checksum computed here, as a NIC driver would on transmit; a TCP
 * frame larger than the MTU (a GSO/TSO super-frame that never passed a segmenting NIC) is
 * staged and split into MTU-sized segments by {@linkcode PacketReceiver.flush}. Frames with
 * TP_STATUS_CSUM_VALID are already verified and pass unchanged.
 */
class PacketReceiver implements FrameReceiver {
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #mtu: number;
  readonly #stats: MutableHostDeviceStats;
  /**
   * msghdr, iovecs, sockaddr_ll and the control buffer in one block, larger than V8 keeps on its
   * moving heap: the msghdr holds pointers to the others across calls.
   */
  readonly #mem = new Uint8Array(CONTROL_AT + CONTROL_LEN);
  readonly #msg = this.#mem.subarray(0, MSGHDR_LEN);
  readonly #msgView = new DataView(this.#mem.buffer, 0, MSGHDR_LEN);
  readonly #iov = new BigUint64Array(this.#mem.buffer, IOV_AT, 4);
  readonly #addr = this.#mem.subarray(ADDR_AT, ADDR_AT + SOCKADDR_LL_LEN);
  readonly #control = this.#mem.subarray(CONTROL_AT, CONTROL_AT + CONTROL_LEN);
  readonly #controlView = new DataView(this.#mem.buffer, CONTROL_AT, CONTROL_LEN);
  /** The whole of a frame longer than a slot: the slot's part is copied to its front. */
  readonly #big: Uint8Array;
  /** Pointer values of the ring's slots, looked up per read (the slots are reused). */
  readonly #slotPointers = new WeakMap<Uint8Array, bigint>();
  /** The super-frame being segmented: `#gsoOff < #gsoEnd` while segments remain. */
  #gsoOff = 0;
  #gsoEnd = 0;
  #gsoNet = 0;
  #gsoTh = 0;
  #gsoHdr = 0;
  #gsoMss = 0;
  #gsoIndex = 0;

  constructor(lib: Libc, fd: number, mtu: number, slotSize: number, stats: MutableHostDeviceStats) {
    this.#lib = lib;
    this.#fd = fd;
    this.#mtu = mtu;
    this.#stats = stats;
    this.#big = new Uint8Array(Math.max(PACKET_READ_MAX, slotSize * 2));
    const mv = this.#msgView;
    mv.setBigUint64(0, pointerValue(this.#addr), true);
    mv.setBigUint64(16, pointerValue(this.#mem.subarray(IOV_AT, IOV_AT + 32)), true);
    mv.setBigUint64(24, 2n, true);
    mv.setBigUint64(32, pointerValue(this.#control), true);
    this.#iov[1] = BigInt(slotSize);
    this.#iov[2] = pointerValue(this.#big.subarray(slotSize));
    this.#iov[3] = BigInt(this.#big.length - slotSize);
  }

  /** Whether segments of a super-frame wait for room in the ring. */
  get staged(): boolean {
    return this.#gsoOff < this.#gsoEnd;
  }

  /**
   * Receives one frame into `slot` (a whole ring slot); returns its length, -1 on error (errno
   * set), -2 when it is skipped or staged, or a length above the slot size for a frame that is
   * dropped as oversize or truncated.
   */
  read(slot: Uint8Array): number {
    let ptr = this.#slotPointers.get(slot);
    if (ptr === undefined) {
      ptr = pointerValue(slot);
      this.#slotPointers.set(slot, ptr);
    }
    this.#iov[0] = ptr;
    const mv = this.#msgView;
    mv.setUint32(MSG_NAMELEN, SOCKADDR_LL_LEN, true);
    mv.setBigUint64(MSG_CONTROLLEN, CONTROL_LEN_BIG, true);
    const n = this.#lib.symbols.recvmsg(this.#fd, this.#msg, MSG_TRUNC);
    if (n < 0) return n;
    if (this.#addr[SLL_PKTTYPE] === PACKET_OUTGOING) {
      this.#stats.outgoingSkipped++;
      return -2;
    }
    // The first control message is the auxdata when the option took (the only one enabled).
    const cv = this.#controlView;
    let status = 0;
    let net = -1; // no auxdata: nothing is parsed as IP
    if (
      mv.getUint32(MSG_CONTROLLEN, true) >= CMSG_DATA + AUXDATA_LEN &&
      cv.getInt32(8, true) === SOL_PACKET && cv.getInt32(12, true) === PACKET_AUXDATA
    ) {
      status = cv.getUint32(CMSG_DATA, true);
      net = cv.getUint16(CMSG_DATA + 14, true) - cv.getUint16(CMSG_DATA + 12, true);
    }
    if (n > this.#mtu) {
      if (n > this.#big.length) this.#stats.dropsTruncated++;
      else {
        this.#big.set(slot);
        if (this.#stage(n, net)) this.#stats.framesSegmented++;
        else this.#stats.dropsOversize++;
      }
      return -2;
    }
    if ((status & TP_STATUS_CSUMNOTREADY) !== 0 && completeChecksum(slot, n, net)) {
      this.#stats.checksumsCompleted++;
    }
    return n;
  }

  /** Validates a TCP super-frame of `n` bytes in `#big` and stages it; false when it is not one. */
  #stage(n: number, net: number): boolean {
    const f = this.#big;
    const t = transportOf(f, n, net);
    if (t < 0 || foundProto !== IP_PROTO_TCP) return false;
    const end = ipEnd(f, net);
    const hdr = t + ((f[t + 12]! >> 4) << 2);
    if (hdr - t < 20 || hdr >= end) return false;
    const mss = this.#mtu - hdr;
    if (mss < 8) return false;
    this.#gsoNet = net;
    this.#gsoTh = t;
    this.#gsoHdr = hdr;
    this.#gsoMss = mss;
    this.#gsoIndex = 0;
    this.#gsoOff = hdr;
    this.#gsoEnd = end;
    return true;
  }

  /**
   * Appends segments of the staged super-frame to `rx` until it is done or the ring is full. Each
   * segment carries the headers with its own IP length (and IPv4 ID and header checksum), TCP
   * sequence number, flags (CWR only on the first, FIN and PSH only on the last) and a complete
   * TCP checksum: what a segmenting NIC puts on the wire.
   */
  flush(rx: FrameQueue): void {
    const f = this.#big;
    const net = this.#gsoNet;
    const t = this.#gsoTh;
    const hdr = this.#gsoHdr;
    const end = this.#gsoEnd;
    const v4 = f[net]! >> 4 === 4;
    const seq0 = ((f[t + 4]! << 24) | (f[t + 5]! << 16) | (f[t + 6]! << 8) | f[t + 7]!) >>> 0;
    const flags0 = f[t + 13]!;
    const id0 = (f[net + 4]! << 8) | f[net + 5]!;
    while (this.#gsoOff < end) {
      const off = this.#gsoOff;
      const len = Math.min(this.#gsoMss, end - off);
      const seg = rx.reserve(hdr + len);
      if (seg === null) return;
      for (let i = 0; i < hdr; i++) seg[i] = f[i]!;
      for (let i = 0; i < len; i++) seg[hdr + i] = f[off + i]!;
      const last = off + len >= end;
      const ipLen = hdr - net + len;
      if (v4) {
        put16(seg, net + 2, ipLen);
        put16(seg, net + 4, (id0 + this.#gsoIndex) & 0xffff);
        put16(seg, net + 10, 0);
        const ihl = (seg[net]! & 0xf) << 2;
        put16(seg, net + 10, ~fold(sum16(seg, net, net + ihl, 0)) & 0xffff);
      } else {
        put16(seg, net + 4, ipLen - 40);
      }
      const seq = (seq0 + (off - hdr)) >>> 0;
      seg[t + 4] = seq >>> 24;
      seg[t + 5] = (seq >>> 16) & 0xff;
      seg[t + 6] = (seq >>> 8) & 0xff;
      seg[t + 7] = seq & 0xff;
      let flags = flags0;
      if (!last) flags &= ~(TCP_FIN | TCP_PSH);
      if (this.#gsoIndex > 0) flags &= ~TCP_CWR;
      seg[t + 13] = flags;
      fillTransportChecksum(seg, net, t, hdr + len, IP_PROTO_TCP);
      rx.commit();
      this.#stats.checksumsCompleted++;
      this.#gsoIndex++;
      this.#gsoOff = off + len;
    }
  }
}

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;
