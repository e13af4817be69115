/**
 * Internal: a connected, non-blocking UDP socket made through libc for the
 * {@linkcode UdpTunnelDevice}, moving many datagrams per system call: `recvmmsg` into a staging
 * area of fixed slots and `sendmmsg` from another (Linux; x86_64 and aarch64 share the
 * `mmsghdr` layout used here). Being connected, the kernel delivers only the peer's datagrams and
 * sends need no address. The tunnel falls back to `Deno.listenDatagram` where this cannot open.
 *
 * @module
 */

import { parseIpAddress } from "../wire/address.ts";
import {
  AF_INET,
  AF_INET6,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  errno,
  openLibc,
  osError,
  POLLIN,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "./_libc.ts";
import type { Libc } from "./_libc.ts";
import { pointerValue } from "./_transport.ts";

const MSG_DONTWAIT = 0x40;
/** `struct mmsghdr`: a 56-byte `msghdr` and the 4-byte `msg_len`, padded to 64. */
const MMSG = 64;
const IOV = 16;
/** Socket buffers asked for (SO_*BUFFORCE with CAP_NET_ADMIN, else capped by net.core.*mem_max). */
const SOCKET_BUFFER = 4 << 20;

/** A literal IP endpoint as a `sockaddr_in` / `sockaddr_in6`, or `null` for a name. */
export function sockaddrOf(hostname: string, port: number): Uint8Array | null {
  let addr;
  try {
    addr = parseIpAddress(hostname);
  } catch {
    return null;
  }
  const sa = new Uint8Array(addr.version === 4 ? 16 : 28);
  const dv = new DataView(sa.buffer);
  dv.setUint16(0, addr.version === 4 ? AF_INET : AF_INET6, true);
  dv.setUint16(2, port, false);
  addr.writeTo(sa, addr.version === 4 ? 4 : 8);
  return sa;
}

/** The port of a `sockaddr_in` / `sockaddr_in6`. */
function portOf(sa: Uint8Array): number {
  return (sa[2]! << 8) | sa[3]!;
}

/** A connected UDP socket with batched I/O (see the module documentation). */
export class BatchUdpSocket {
  /** The bound local port. */
  readonly localPort: number;
  /** Datagrams per `recvmmsg` / `sendmmsg` call at most. */
  readonly batch: number;
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #eventFd: number;
  readonly #slotSize: number;
  readonly #rxData: Uint8Array;
  readonly #rxSlots: Uint8Array[];
  readonly #rxHdrs: Uint8Array;
  readonly #rxIov: Uint8Array;
  readonly #rxView: DataView;
  readonly #txData: Uint8Array;
  readonly #txHdrs: Uint8Array;
  readonly #txIovBytes: Uint8Array;
  readonly #txIov: DataView;
  readonly #txView: DataView;
  readonly #pollFds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollFds.buffer);
  #closed = false;

  private constructor(lib: Libc, fd: number, efd: number, port: number, slot: number, n: number) {
    this.#lib = lib;
    this.#fd = fd;
    this.#eventFd = efd;
    this.localPort = port;
    this.batch = n;
    this.#slotSize = slot;
    this.#rxData = new Uint8Array(n * slot);
    this.#rxSlots = Array.from(
      { length: n },
      (_, i) => this.#rxData.subarray(i * slot, (i + 1) * slot),
    );
    // The iovec arrays must live as long as the headers that point at them.
    [this.#rxHdrs, this.#rxIov] = messages(this.#rxData, slot, n, true);
    this.#rxView = new DataView(this.#rxHdrs.buffer);
    this.#txData = new Uint8Array(n * slot);
    [this.#txHdrs, this.#txIovBytes] = messages(this.#txData, slot, n, false);
    this.#txIov = new DataView(this.#txIovBytes.buffer);
    this.#txView = new DataView(this.#txHdrs.buffer);
    const pv = this.#pollView;
    pv.setInt32(0, fd, true);
    pv.setInt16(4, POLLIN, true);
    pv.setInt32(8, efd, true);
    pv.setInt16(12, POLLIN, true);
  }

  /**
   * Opens the socket bound to `local` and connected to `peer`, or returns `null` where it cannot
   * (not Linux, no FFI permission, a host name rather than an IP literal, mixed families).
   * Errors binding the local endpoint throw, as `Deno.listenDatagram` would.
   */
  static open(
    local: { hostname: string; port: number },
    peer: { hostname: string; port: number },
    slotSize: number,
    batch: number,
  ): BatchUdpSocket | null {
    if (Deno.build.os !== "linux") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const la = sockaddrOf(local.hostname, local.port);
    const pa = sockaddrOf(peer.hostname, peer.port);
    if (la === null || pa === null || la.length !== pa.length) return null;
    const lib = openLibc();
    const s = lib.symbols;
    let fd = -1;
    let efd = -1;
    try {
      const family = la.length === 16 ? AF_INET : AF_INET6;
      fd = s.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) throw osError(lib, "Cannot create a UDP socket", errno(lib));
      const v = new Int32Array([SOCKET_BUFFER]);
      const vb = new Uint8Array(v.buffer);
      for (const [force, plain] of [[SO_RCVBUFFORCE, SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]]) {
        if (s.setsockopt(fd, SOL_SOCKET, force!, vb, 4) < 0) {
          s.setsockopt(fd, SOL_SOCKET, plain!, vb, 4);
        }
      }
      if (s.bind(fd, la, la.length) < 0) {
        throw osError(lib, `Cannot bind ${local.hostname}:${local.port}`, errno(lib));
      }
      if (s.connect(fd, pa, pa.length) < 0) {
        throw osError(lib, `Cannot connect to ${peer.hostname}:${peer.port}`, errno(lib));
      }
      const name = new Uint8Array(28);
      const nameLen = new Uint32Array([28]);
      if (s.getsockname(fd, name, new Uint8Array(nameLen.buffer)) < 0) {
        throw osError(lib, "Cannot read the UDP socket's address", errno(lib));
      }
      efd = s.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (efd < 0) throw osError(lib, "Cannot create an eventfd", errno(lib));
      return new BatchUdpSocket(lib, fd, efd, portOf(name), slotSize, batch);
    } catch (e) {
      if (fd >= 0) s.close(fd);
      if (efd >= 0) s.close(efd);
      lib.close();
      throw e;
    }
  }

  /** Waits (on a worker thread) until a datagram is ready; `false` once `close` was called. */
  async wait(): Promise<boolean> {
    const pv = this.#pollView;
    while (!this.#closed) {
      pv.setInt16(6, 0, true);
      pv.setInt16(14, 0, true);
      const r = await this.#lib.symbols.poll(this.#pollFds, 2n, -1);
      if (this.#closed || (pv.getInt16(14, true) & POLLIN) !== 0) return false;
      if (r > 0) return true;
    }
    return false;
  }

  /**
   * Receives up to `max` datagrams (at most `batch`) into the staging slots without blocking;
   * returns how many, 0 when none is waiting, or -errno.
   */
  receive(max: number): number {
    if (this.#closed) return 0;
    const n = this.#lib.symbols.recvmmsg(
      this.#fd,
      this.#rxHdrs,
      Math.min(max, this.batch),
      MSG_DONTWAIT,
      null,
    );
    if (n >= 0) return n;
    const code = errno(this.#lib);
    return code === 11 ? 0 : -code; // EAGAIN
  }

  /** Staging slot `i` (its whole size; the datagram is the first `length(i)` bytes). */
  slot(i: number): Uint8Array {
    return this.#rxSlots[i]!;
  }

  /** The size of the datagram received into slot `i` (more than the slot: truncated). */
  length(i: number): number {
    return this.#rxView.getUint32(i * MMSG + 56, true);
  }

  /** Copies `frame` into transmit slot `i` of the next `send`. */
  stage(i: number, frame: Uint8Array): void {
    this.#txData.set(frame, i * this.#slotSize);
    this.#txIov.setBigUint64(i * IOV + 8, BigInt(frame.length), true);
  }

  /** Sends staged slots `[from, to)` in one `sendmmsg`; returns how many left, or -errno. */
  send(from: number, to: number): number {
    if (this.#closed) return -9; // EBADF
    const hdrs = from === 0 ? this.#txHdrs : this.#txHdrs.subarray(from * MMSG);
    const n = this.#lib.symbols.sendmmsg(this.#fd, hdrs, to - from, MSG_DONTWAIT);
    return n >= 0 ? n : -errno(this.#lib);
  }

  /** Sends one small datagram (a control frame) with `write`; true when it left. */
  sendOne(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    return this.#lib.symbols.write(this.#fd, frame, BigInt(frame.length)) === frame.length;
  }

  /** Wakes a pending `wait` (it returns `false`) and stops further I/O; `release` frees. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const one = new Uint8Array(8);
    one[0] = 1;
    this.#lib.symbols.write(this.#eventFd, one, 8n);
  }

  /** Closes both descriptors and the library; call after the `wait` loop has ended. */
  release(): void {
    this.#lib.symbols.close(this.#fd);
    this.#lib.symbols.close(this.#eventFd);
    this.#lib.close();
  }
}

/** `n` mmsghdrs whose single iovec each point at slot `i` of `data`; returns [headers, iovecs]. */
function messages(
  data: Uint8Array,
  slot: number,
  n: number,
  fullSlots: boolean,
): [Uint8Array, Uint8Array] {
  const hdrs = new Uint8Array(n * MMSG);
  const iov = new Uint8Array(n * IOV);
  const hv = new DataView(hdrs.buffer);
  const iv = new DataView(iov.buffer);
  const base = pointerValue(data);
  const iovBase = pointerValue(iov);
  for (let i = 0; i < n; i++) {
    iv.setBigUint64(i * IOV, base + BigInt(i * slot), true);
    iv.setBigUint64(i * IOV + 8, fullSlots ? BigInt(slot) : 0n, true);
    // msg_name NULL (connected), msg_iov, msg_iovlen 1, no control.
    hv.setBigUint64(i * MMSG + 16, iovBase + BigInt(i * IOV), true);
    hv.setBigUint64(i * MMSG + 24, 1n, true);
  }
  return [hdrs, iov];
}

/**
 * The kernel's receive-buffer drops of the UDP sockets bound to `port` (the last column of
 * `/proc/net/udp` and `/proc/net/udp6`), or `null` where /proc cannot be read.
 */
export function udpReceiveDrops(port: number): number | null {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  let found: number | null = null;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    found ??= 0;
    for (const line of text.split("\n")) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13 || !cols[1]!.endsWith(`:${hex}`)) continue;
      found += Number(cols[cols.length - 1]) || 0;
    }
  }
  return found;
}
