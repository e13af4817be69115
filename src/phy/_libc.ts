/**
 * Internal: libc bindings through Deno FFI (Linux, x86_64 and aarch64) for the host adapters
 * ({@linkcode TunTapDevice}, {@linkcode RawSocketDevice}): symbols, constants, errors, interface
 * configuration and the counters they keep. The engine and base class are in `_fd_device.ts`.
 *
 * Not exported from the phy layer's `mod.ts`.
 *
 * @module
 */

/**
 * The libc symbols the host adapters use. `read`, `write` and `recvmsg` are declared with an
 * `i32` result instead of `isize` (which Deno returns as a bigint on every call): the counts are
 * frame sized and -1 stays -1, since both x86_64 and aarch64 return in a 64-bit register whose low
 * half is the 32-bit value.
 */
const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  readv: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  // The same call for requests that take their argument by value (TUNSETOFFLOAD).
  ioctlValue: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // Runs on a worker thread so the event loop stays free; its errno is not observable.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // The same call, blocking the calling thread (the writer worker of `_tx_ring.ts`).
  pollSync: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The opened C library with {@linkcode SYMBOLS}. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;

/** Linux constants (asm-generic and x86_64/aarch64 agree on all of these). */
export const O_RDWR = 0o2;
/** Non-blocking open / fcntl flag. */
export const O_NONBLOCK = 0o4000;
/** Close on exec. */
export const O_CLOEXEC = 0o2000000;
/** fcntl commands. */
export const F_GETFL = 3;
/** fcntl set flags. */
export const F_SETFL = 4;
/** eventfd flags. */
export const EFD_NONBLOCK = 0o4000;
/** eventfd close-on-exec. */
export const EFD_CLOEXEC = 0o2000000;
/** poll events. */
export const POLLIN = 0x1;
/** poll: writable. */
export const POLLOUT = 0x4;
/** Error condition. */
export const POLLERR = 0x8;
/** Hang up. */
export const POLLHUP = 0x10;
/** Invalid fd. */
export const POLLNVAL = 0x20;
/** Socket families and types. */
export const AF_INET = 2;
/** Packet sockets. */
export const AF_PACKET = 17;
/** IPv6 sockets. */
export const AF_INET6 = 10;
/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** Raw socket type. */
export const SOCK_RAW = 3;
/** Close-on-exec socket flag. */
export const SOCK_CLOEXEC = 0o2000000;
/** Non-blocking socket flag. */
export const SOCK_NONBLOCK = 0o4000;
/** Socket options (SOL_SOCKET level). */
export const SOL_SOCKET = 1;
/** Send buffer size (capped by net.core.wmem_max). */
export const SO_SNDBUF = 7;
/** Receive buffer size (capped by net.core.rmem_max). */
export const SO_RCVBUF = 8;
/** Send buffer size past the cap (CAP_NET_ADMIN). */
export const SO_SNDBUFFORCE = 32;
/** Receive buffer size past the cap (CAP_NET_ADMIN). */
export const SO_RCVBUFFORCE = 33;
/** errno values. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMSGSIZE: 90,
  EBADFD: 77,
  ENOBUFS: 105,
  ENETDOWN: 100,
} as const;

/**
 * A read that fails with an error the device only counts (not EAGAIN, not one that ends the
 * device) is retried at once; when it fails again with neither a frame nor an empty fd between,
 * the reader pauses `backoffMs(n)` before the next try, and after this many failures in a row the
 * device fails: an fd that stays readable and keeps failing would otherwise spin its reader.
 */
export const MAX_READ_FAILURES = 32;

/** The pause before retrying after `n` failed reads in a row: 0, then 1, 2, 4 … 50 ms. */
export function backoffMs(n: number): number {
  return n < 2 ? 0 : Math.min(1 << (n - 2), 50);
}

const ERRNO_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Errno).map(([k, v]) => [v, k]),
);

/**
 * Opens the C library. Each device opens its own handle and closes it in `close()`; the dynamic
 * loader counts references, so this is cheap.
 *
 * @returns The library.
 */
export function openLibc(): Libc {
  if (Deno.build.os !== "linux") {
    throw new Deno.errors.NotSupported(
      `TUN/TAP and AF_PACKET devices need Linux, not "${Deno.build.os}"`,
    );
  }
  try {
    const lib = Deno.dlopen("libc.so.6", SYMBOLS);
    errnoViews.set(lib, errnoViewOf(lib));
    return lib;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(
        "Host network devices call libc through FFI: run deno with --allow-ffi",
      );
    }
    throw e;
  }
}

/**
 * The calling thread's errno after a failed synchronous call.
 *
 * @param lib The library.
 * @returns The errno value.
 */
export function errno(lib: Libc): number {
  const view = errnoViews.get(lib) ?? errnoViewOf(lib);
  return view === null ? 0 : view.getInt32();
}

/**
 * A view of the calling thread's errno, made once per library when it is opened: every
 * synchronous call runs on that thread, whose errno address never changes. Reading it through a
 * view made in advance puts no FFI call and no first-time work between a failed call and the
 * read, where something else on the thread could overwrite errno.
 */
const errnoViews = new WeakMap<Libc, Deno.UnsafePointerView | null>();

function errnoViewOf(lib: Libc): Deno.UnsafePointerView | null {
  const p = lib.symbols.__errno_location();
  const view = p === null ? null : new Deno.UnsafePointerView(p);
  view?.getInt32(); // the first read's one-time work happens here, not after a failed call
  return view;
}

/**
 * `"EPERM (1)"`-style text for an errno value.
 *
 * @param code The errno value.
 * @returns The text.
 */
export function errnoText(code: number): string {
  const name = ERRNO_NAMES[code];
  return name === undefined ? `errno ${code}` : `${name} (${code})`;
}

/**
 * A NUL-terminated C string.
 *
 * @param s The text.
 * @returns Its UTF-8 bytes and a trailing 0.
 */
export function cString(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** `struct ifreq` is 40 bytes on 64-bit Linux: name at 0..15, the union at 16. */
export const IFREQ_LEN = 40;
/** The longest interface name (IFNAMSIZ less the terminating NUL). */
export const IFNAMSIZ = 16;

/**
 * Validates an interface name and returns a zeroed `ifreq` holding it.
 *
 * @param name The interface name.
 * @returns The 40-byte `ifreq`.
 * @throws {TypeError} When the name is empty, too long or contains `/`, whitespace or NUL.
 */
export function ifreqFor(name: string): Uint8Array {
  const b = new TextEncoder().encode(name);
  if (b.length === 0 || b.length >= IFNAMSIZ || /[\s/:\0]/.test(name)) {
    throw new TypeError(
      `Invalid interface name "${name}": expected 1 to 15 bytes without "/", ":" or whitespace`,
    );
  }
  const ifr = new Uint8Array(IFREQ_LEN);
  ifr.set(b);
  return ifr;
}

/**
 * The name stored in an `ifreq`.
 *
 * @param ifr The `ifreq`.
 * @returns The name.
 */
export function ifreqName(ifr: Uint8Array): string {
  let end = 0;
  while (end < IFNAMSIZ && ifr[end] !== 0) end++;
  return new TextDecoder().decode(ifr.subarray(0, end));
}

const SIOCGIFMTU = 0x8921n;
const SIOCSIFMTU = 0x8922n;
const SIOCGIFFLAGS = 0x8913n;
const SIOCSIFFLAGS = 0x8914n;
const SIOCSIFTXQLEN = 0x8943n;
const IFF_UP = 0x1;

/**
 * Reads, and optionally sets, an interface's MTU and brings it up, through a throwaway
 * `AF_INET` datagram socket (the usual handle for interface ioctls).
 *
 * @param lib The library.
 * @param name The interface name.
 * @param opts `mtu` to set it first, `up` to set IFF_UP.
 * @returns The interface MTU after any change.
 */
export function configureInterface(
  lib: Libc,
  name: string,
  opts: { mtu?: number | undefined; up?: boolean | undefined },
): number {
  const s = lib.symbols;
  const fd = s.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw osError(lib, `Cannot open a control socket for ${name}`, errno(lib));
  try {
    const ifr = ifreqFor(name);
    const dv = new DataView(ifr.buffer);
    if (opts.mtu !== undefined) {
      dv.setInt32(IFNAMSIZ, opts.mtu, true);
      if (s.ioctl(fd, SIOCSIFMTU, ifr) < 0) {
        throw osError(lib, `Cannot set the MTU of ${name} to ${opts.mtu}`, errno(lib));
      }
    }
    if (opts.up === true) {
      ifr.fill(0, IFNAMSIZ);
      if (s.ioctl(fd, SIOCGIFFLAGS, ifr) < 0) {
        throw osError(lib, `Cannot read the flags of ${name}`, errno(lib));
      }
      dv.setUint16(IFNAMSIZ, dv.getUint16(IFNAMSIZ, true) | IFF_UP, true);
      if (s.ioctl(fd, SIOCSIFFLAGS, ifr) < 0) {
        throw osError(lib, `Cannot bring ${name} up`, errno(lib));
      }
    }
    ifr.fill(0, IFNAMSIZ);
    if (s.ioctl(fd, SIOCGIFMTU, ifr) < 0) {
      throw osError(lib, `Cannot read the MTU of ${name}`, errno(lib));
    }
    return dv.getInt32(IFNAMSIZ, true);
  } finally {
    s.close(fd);
  }
}

/**
 * Sets the length of the kernel's transmit queue of interface `name` (its txqueuelen; for a TUN
 * device the frames waiting to be read). Returns 0, or the errno when the kernel refused.
 */
export function setTxQueueLen(lib: Libc, name: string, len: number): number {
  const s = lib.symbols;
  const fd = s.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno(lib);
  try {
    const ifr = ifreqFor(name);
    new DataView(ifr.buffer).setInt32(IFNAMSIZ, len, true);
    return s.ioctl(fd, SIOCSIFTXQLEN, ifr) < 0 ? errno(lib) : 0;
  } finally {
    s.close(fd);
  }
}

/**
 * An error for a failed system call: `PermissionDenied` for EPERM/EACCES, `NotFound` for
 * ENOENT/ENODEV/ENXIO, `Busy` for EBUSY, otherwise a plain `Error`; the message names the errno.
 *
 * @param _lib The library (unused; keeps call sites uniform).
 * @param what What was attempted.
 * @param code The errno.
 * @param hint Appended after the errno text.
 * @returns The error (not thrown).
 */
export function osError(_lib: Libc, what: string, code: number, hint = ""): Error {
  const msg = `${what}: ${errnoText(code)}${hint === "" ? "" : `; ${hint}`}`;
  switch (code) {
    case Errno.EPERM:
    case Errno.EACCES:
      return new Deno.errors.PermissionDenied(msg);
    case Errno.ENOENT:
    case Errno.ENODEV:
    case Errno.ENXIO:
      return new Deno.errors.NotFound(msg);
    case Errno.EBUSY:
      return new Deno.errors.Busy(msg);
    default:
      return new Error(msg);
  }
}

/**
 * Counters kept by the host adapters ({@linkcode TunTapDevice}, {@linkcode RawSocketDevice},
 * {@linkcode UdpTunnelDevice}). The object is live: it is updated in place.
 *
 * @example
 * ```ts
 * import { UdpTunnelDevice } from "@smol/net/phy";
 * import type { HostDeviceStats } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const dev = await UdpTunnelDevice.open({
 *   local: { hostname: "127.0.0.1", port: 0 },
 *   peer: { hostname: "127.0.0.1", port: 40001 },
 *   mtu: 1000,
 * });
 * const stats: HostDeviceStats = dev.stats; // live: updated in place
 * assert.equal(dev.transmit(0, 1001), null);
 * assert.equal(stats.dropsTooBig, 1);
 * assert.equal(stats.framesSent, 0);
 * await dev.close();
 * ```
 */
export interface HostDeviceStats {
  /** Frames returned by `receive`. */
  readonly framesReceived: number;
  /** Bytes returned by `receive`. */
  readonly bytesReceived: number;
  /** Frames handed to the host (written, or sent as a datagram). */
  readonly framesSent: number;
  /** Bytes handed to the host. */
  readonly bytesSent: number;
  /**
   * Times the reader found the receive ring full. File-descriptor devices then stop reading
   * until `receive` frees a slot (the kernel queues or drops meanwhile); the UDP tunnel drops
   * the datagram and this counts it.
   */
  readonly rxQueueFull: number;
  /**
   * Times `transmit` found every send slot in flight and returned `null` (UDP tunnel; TUN with
   * `writerThread`: the writer's ring was full): back-pressure, not a loss — the stack keeps the
   * frame and retries when a slot frees.
   */
  readonly txQueueFull: number;
  /**
   * Frames the UDP tunnel's peer never read, inferred by its flow control (a credit after a probe
   * fell short of what was sent): lost on the way or in the peer's kernel buffer.
   */
  readonly tunnelLost: number;
  /** Received frames dropped because they exceeded the MTU. */
  readonly dropsOversize: number;
  /** Received frames dropped because the host reported more bytes than the buffer held. */
  readonly dropsTruncated: number;
  /** Own outgoing frames seen and skipped by the receive path (AF_PACKET only). */
  readonly outgoingSkipped: number;
  /**
   * Received frames whose TCP/UDP checksum the device computed because the kernel handed them
   * over with only the pseudo-header sum in the field (TX checksum offload on the sending side,
   * TP_STATUS_CSUMNOTREADY), including each segment of a split super-frame.
   */
  readonly checksumsCompleted: number;
  /**
   * Received super-frames the device split before the stack saw them: TCP ones larger than the
   * MTU into MTU-sized segments (AF_PACKET: the sender's GSO/TSO), UDP ones into datagrams (TUN
   * with USO: a local sender's `UDP_SEGMENT`).
   */
  readonly framesSegmented: number;
  /**
   * Received TCP super-frames larger than the MTU handed to the stack whole, as one IP packet
   * (TUN with segmentation offload: the kernel coalesced them).
   */
  readonly framesCoalesced: number;
  /**
   * Received frames dropped because their offload header (`virtio_net_hdr`) was invalid or did
   * not match the packet (TUN with offloads).
   */
  readonly dropsBadOffloadHeader: number;
  /**
   * Received frames dropped because the device verified their TCP checksum and it was wrong (TUN
   * with checksum offload, for frames the kernel neither verified nor left partial).
   */
  readonly dropsBadChecksum: number;
  /** Frames larger than the MTU sent with segmentation metadata for the host to cut (TSO). */
  readonly framesSentSegmented: number;
  /**
   * Pure TCP ACKs not sent because a newer ACK of the same connection, committed before they
   * left, superseded them (ACK coalescing; see the adapters' `coalesceAcks` option).
   */
  readonly acksCoalesced: number;
  /**
   * Times the background reader of a file-descriptor device waited for the fd in a non-blocking
   * `poll()` (a worker-thread round trip and an event-loop turn each). `receive` reads the fd
   * itself when the ring is empty, so a busy transfer needs few: compare with `framesReceived`.
   */
  readonly readerWakeups: number;
  /**
   * Worker threads of the device (a TUN device's `writerThread` or `readerThread`) that died
   * after they started; the device then fails with `Deno.errors.BrokenPipe`.
   */
  readonly threadFailures: number;
  /** Failed reads (other than "would block"). */
  readonly readErrors: number;
  /** `transmit` calls refused because `len` exceeded the MTU. */
  readonly dropsTooBig: number;
  /**
   * Frames lost because the host was busy: a write that failed with EAGAIN/ENOBUFS (FFI
   * devices; the stack's retransmission recovers them).
   */
  readonly dropsTxBusy: number;
  /** Committed frames the host refused with another error. */
  readonly writeErrors: number;
}

/** Mutable twin of {@linkcode HostDeviceStats}. */
export type MutableHostDeviceStats = { -readonly [K in keyof HostDeviceStats]: number };

/**
 * A zeroed counter record.
 *
 * @returns The record.
 */
export function newHostStats(): MutableHostDeviceStats {
  return {
    framesReceived: 0,
    bytesReceived: 0,
    framesSent: 0,
    bytesSent: 0,
    rxQueueFull: 0,
    txQueueFull: 0,
    tunnelLost: 0,
    dropsOversize: 0,
    dropsTruncated: 0,
    outgoingSkipped: 0,
    checksumsCompleted: 0,
    framesSegmented: 0,
    framesCoalesced: 0,
    dropsBadOffloadHeader: 0,
    dropsBadChecksum: 0,
    framesSentSegmented: 0,
    acksCoalesced: 0,
    readerWakeups: 0,
    threadFailures: 0,
    readErrors: 0,
    dropsTooBig: 0,
    dropsTxBusy: 0,
    writeErrors: 0,
  };
}
