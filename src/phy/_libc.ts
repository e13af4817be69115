/**
 * Internal: libc bindings through Deno FFI (Linux, x86_64 and aarch64) and the file-descriptor
 * engine shared by {@linkcode TunTapDevice} and {@linkcode RawSocketDevice}: a bounded receive
 * ring filled by a background reader loop, synchronous writes, counters and a clean stop.
 *
 * Not exported from the phy layer's `mod.ts`.
 *
 * @module
 */

import { checkInt } from "./device.ts";
import type { DeviceCapabilities } from "./device.ts";
import { FrameQueue } from "./link.ts";
import type { Instant } from "../time.ts";

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
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // Runs on a worker thread so the event loop stays free; its errno is not observable.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
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
/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** Raw socket type. */
export const SOCK_RAW = 3;
/** Close-on-exec socket flag. */
export const SOCK_CLOEXEC = 0o2000000;
/** Non-blocking socket flag. */
export const SOCK_NONBLOCK = 0o4000;
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
    return Deno.dlopen("libc.so.6", SYMBOLS);
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
  const p = lib.symbols.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
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
 * ```ts ignore
 * import { TunTapDevice } from "@smol/net/phy";
 * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
 * console.log(dev.stats.framesReceived, dev.stats.dropsOversize);
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
  /** Received frames dropped because they exceeded the MTU. */
  readonly dropsOversize: number;
  /** Received frames dropped because the host reported more bytes than the buffer held. */
  readonly dropsTruncated: number;
  /** Own outgoing frames seen and skipped by the receive path (AF_PACKET only). */
  readonly outgoingSkipped: number;
  /**
   * Received frames whose TCP/UDP checksum the device computed because the kernel handed them
   * over with only the pseudo-header sum in the field (TX checksum offload on the sending side,
   * TP_STATUS_CSUMNOTREADY), including each segment of a split super-frame (AF_PACKET only).
   */
  readonly checksumsCompleted: number;
  /**
   * Received TCP super-frames larger than the MTU (the sender's segmentation offload, GSO/TSO)
   * that the device split into MTU-sized segments (AF_PACKET only).
   */
  readonly framesSegmented: number;
  /** Failed reads (other than "would block"). */
  readonly readErrors: number;
  /** `transmit` calls refused because `len` exceeded the MTU. */
  readonly dropsTooBig: number;
  /**
   * Frames not sent because the host was busy: a write that failed with EAGAIN/ENOBUFS (FFI
   * devices), or a `transmit` refused while every send slot was in flight (UDP tunnel).
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
    dropsOversize: 0,
    dropsTruncated: 0,
    outgoingSkipped: 0,
    checksumsCompleted: 0,
    framesSegmented: 0,
    readErrors: 0,
    dropsTooBig: 0,
    dropsTxBusy: 0,
    writeErrors: 0,
  };
}

/**
 * How an fd device reads one frame: plain `read`, or `recvmsg` on a packet socket that skips
 * outgoing frames and completes offloaded checksums and segmentation (PACKET_AUXDATA).
 */
export type ReadMode = "read" | "packet";

/** Options of {@linkcode FdEngine}. */
export interface FdEngineOptions {
  /** Owned library handle (closed by `close`). */
  readonly lib: Libc;
  /** Owned non-blocking device fd (closed by `close`). */
  readonly fd: number;
  /** The device's capabilities (its MTU bounds delivered frames). */
  readonly capabilities: DeviceCapabilities;
  /** Receive ring length in frames. */
  readonly rxQueueLen: number;
  /** How frames are read. */
  readonly readMode: ReadMode;
  /** For messages: `TUN device "tun0"`. */
  readonly label: string;
  /**
   * Called when poll reports POLLERR/POLLHUP/POLLNVAL or a read fails with `code`: return the
   * fatal error that ends the loop, or `null` to count it and continue.
   */
  readonly classify: (revents: number, code: number) => Error | null;
  /** Called once with the fatal error. */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** Extra room in each receive slot so oversize and truncated frames can be told apart. */
const RX_SLACK = 64;
/** Consecutive failed polls (whose errno is invisible) before the loop gives up. */
const MAX_POLL_FAILURES = 100;

/**
 * The engine behind the FFI devices: a reader loop that awaits a non-blocking `poll()` on
 * [device fd, eventfd], then reads synchronously until EAGAIN into a {@linkcode FrameQueue} of
 * MTU-sized slots; when the ring is full it waits for `receive` to free a slot instead of
 * spinning. Transmit writes synchronously from one preallocated buffer; a write that would block
 * drops the frame (counted in `dropsTxBusy`) — there is no transmit queue.
 */
export class FdEngine {
  readonly capabilities: DeviceCapabilities;
  readonly stats: MutableHostDeviceStats = newHostStats();
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #eventFd: number;
  readonly #label: string;
  readonly #readMode: ReadMode;
  readonly #classify: FdEngineOptions["classify"];
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #rx: FrameQueue;
  readonly #slotSize: number;
  readonly #slotSizeBig: bigint;
  readonly #pollFds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollFds.buffer);
  readonly #packet: PacketReceiver | null;
  readonly #tx: Uint8Array;
  #txView: Uint8Array;
  #pendingLen = -1;
  #onReadable: (() => void) | null = null;
  #state: "open" | "closing" | "closed" | "failed" = "open";
  #error: Error | null = null;
  #spaceWaiter: (() => void) | null = null;
  readonly #loop: Promise<void>;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #rejectClosed!: (e: Error) => void;
  #closeCall: Promise<void> | null = null;

  constructor(options: FdEngineOptions) {
    checkInt("receive queue length", options.rxQueueLen, 1, 1 << 16);
    this.capabilities = options.capabilities;
    this.#lib = options.lib;
    this.#fd = options.fd;
    this.#label = options.label;
    this.#readMode = options.readMode;
    this.#classify = options.classify;
    this.#onError = options.onError;
    const mtu = options.capabilities.mtu;
    this.#slotSize = mtu + RX_SLACK;
    this.#slotSizeBig = BigInt(this.#slotSize);
    this.#rx = new FrameQueue(options.rxQueueLen, this.#slotSize);
    this.#packet = options.readMode === "packet"
      ? new PacketReceiver(options.lib, options.fd, mtu, this.#slotSize, this.stats)
      : null;
    this.#tx = new Uint8Array(mtu);
    this.#txView = this.#tx;
    const efd = this.#lib.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) throw osError(this.#lib, "Cannot create an eventfd", errno(this.#lib));
    this.#eventFd = efd;
    const pv = this.#pollView;
    pv.setInt32(0, this.#fd, true);
    pv.setInt16(4, POLLIN, true);
    pv.setInt32(8, efd, true);
    pv.setInt16(12, POLLIN, true);
    this.#closed = new Promise<void>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // A rejection nobody awaits must not end the process; `closed` still rejects for awaiters.
    this.#closed.catch(() => {});
    this.#loop = this.#run();
  }

  get closed(): Promise<void> {
    return this.#closed;
  }

  get error(): Error | null {
    return this.#error;
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  get pending(): number {
    return this.#rx.length;
  }

  receive(_now: Instant): Uint8Array | null {
    const frame = this.#rx.pop();
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
    if (frame === null) return null;
    this.stats.framesReceived++;
    this.stats.bytesReceived += frame.length;
    return frame;
  }

  canTransmit(_now: Instant): boolean {
    return this.#state === "open";
  }

  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pendingLen = -1;
    if (len > this.capabilities.mtu || (len >>> 0) !== len) {
      this.stats.dropsTooBig++;
      return null;
    }
    if (this.#state !== "open") return null;
    this.#pendingLen = len;
    if (this.#txView.length !== len) this.#txView = this.#tx.subarray(0, len);
    return this.#txView;
  }

  commit(): void {
    const len = this.#pendingLen;
    if (len < 0) return;
    this.#pendingLen = -1;
    if (this.#state !== "open") return;
    const n = this.#lib.symbols.write(this.#fd, this.#tx, BigInt(len));
    if (n === len) {
      this.stats.framesSent++;
      this.stats.bytesSent += len;
      return;
    }
    const code = n < 0 ? errno(this.#lib) : Errno.EIO;
    if (code === Errno.EAGAIN || code === Errno.ENOBUFS) this.stats.dropsTxBusy++;
    else this.stats.writeErrors++;
  }

  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }

  /** Stops the loop through the eventfd, waits for it, closes both fds and the library. */
  close(): Promise<void> {
    if (this.#closeCall === null) this.#closeCall = this.#close();
    return this.#closeCall;
  }

  async #close(): Promise<void> {
    if (this.#state === "open") this.#state = "closing";
    const one = new Uint8Array(8);
    one[0] = 1;
    this.#lib.symbols.write(this.#eventFd, one, 8n);
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
    await this.#loop;
    this.#lib.symbols.close(this.#fd);
    this.#lib.symbols.close(this.#eventFd);
    this.#lib.close();
    this.#rx.clear();
    if (this.#state !== "failed") {
      this.#state = "closed";
      this.#resolveClosed();
    }
  }

  #fail(error: Error): void {
    if (this.#state !== "open") return;
    this.#state = "failed";
    this.#error = error;
    this.#rejectClosed(error);
    if (this.#onError !== undefined) {
      try {
        this.#onError(error);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    // Wake the stack so it notices (its receive returns what is left, then null).
    this.#onReadable?.();
  }

  async #run(): Promise<void> {
    const s = this.#lib.symbols;
    const pv = this.#pollView;
    let failures = 0;
    while (this.#state === "open") {
      if (this.#rx.isFull()) {
        this.stats.rxQueueFull++;
        await new Promise<void>((resolve) => this.#spaceWaiter = resolve);
        continue;
      }
      // Segments of a super-frame left over when the ring filled go first.
      if (this.#packet?.staged === true) {
        if (!this.#drain()) break;
        continue;
      }
      pv.setInt16(6, 0, true);
      pv.setInt16(14, 0, true);
      const r = await s.poll(this.#pollFds, 2n, -1);
      if (this.#state !== "open") break;
      if (r < 0) {
        // EINTR is the only expected failure; an endless run of them means something is broken.
        if (++failures >= MAX_POLL_FAILURES) {
          this.#fail(new Error(`${this.#label}: poll() failed ${failures} times in a row`));
        }
        continue;
      }
      failures = 0;
      if ((pv.getInt16(14, true) & POLLIN) !== 0) break; // eventfd: close() was called
      const rev = pv.getInt16(6, true);
      if ((rev & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (rev & POLLIN) === 0) {
        // Fetch the pending error (a read returns it and clears it on sockets).
        const n = this.#readOne();
        const code = n === -1 ? errno(this.#lib) : 0;
        const fatal = this.#classify(rev, code);
        if (fatal !== null) {
          this.#fail(fatal);
          break;
        }
        this.stats.readErrors++;
        if (n >= 0) this.#accept(n);
        continue;
      }
      if (!this.#drain()) break;
    }
  }

  /** Reads until EAGAIN or the ring fills; false when a fatal error ended the device. */
  #drain(): boolean {
    const wasEmpty = this.#rx.isEmpty();
    const packet = this.#packet;
    if (packet !== null && packet.staged) packet.flush(this.#rx);
    let result = true;
    while (!this.#rx.isFull()) {
      const n = this.#readOne();
      if (n === -2) {
        if (packet !== null && packet.staged) packet.flush(this.#rx);
        continue;
      }
      if (n === 0) break;
      if (n < 0) {
        const code = errno(this.#lib);
        if (code === Errno.EAGAIN) break;
        if (code === Errno.EINTR) continue;
        const fatal = this.#classify(0, code);
        if (fatal !== null) {
          this.#fail(fatal);
          result = false;
          break;
        }
        this.stats.readErrors++;
        break;
      }
      this.#accept(n);
    }
    if (wasEmpty && !this.#rx.isEmpty() && this.#onReadable !== null) this.#onReadable();
    return result;
  }

  /**
   * Reads one frame into the ring's tail slot (reserved, not committed); -1 on error, -2 for a
   * frame handled otherwise (an outgoing frame skipped, a super-frame staged for segmenting).
   */
  #readOne(): number {
    const slot = this.#rx.reserve(this.#slotSize);
    if (slot === null) return 0;
    if (this.#packet !== null) return this.#packet.read(slot);
    return this.#lib.symbols.read(this.#fd, slot, this.#slotSizeBig);
  }

  /** Commits a frame of `n` bytes read into the reserved slot, or counts why it is dropped. */
  #accept(n: number): void {
    if (n === -2 || n === 0) return;
    if (n > this.#slotSize) this.stats.dropsTruncated++;
    else if (n > this.capabilities.mtu) this.stats.dropsOversize++;
    else {
      this.#rx.reserve(n);
      this.#rx.commit();
    }
  }
}

/** sockaddr_ll: family u16, protocol u16, ifindex i32, hatype u16, pkttype u8, halen u8, addr[8]. */
const SOCKADDR_LL_LEN = 20;
const SLL_PKTTYPE = 10;
const PACKET_OUTGOING = 4;
const MSG_TRUNC = 0x20;
/** packet(7): the `tpacket_auxdata` control message. */
export const SOL_PACKET = 263;
/** Socket option and control message type of `tpacket_auxdata`. */
export const PACKET_AUXDATA = 8;
/** `tp_status`: the transport checksum field holds only the pseudo-header sum. */
export const TP_STATUS_CSUMNOTREADY = 0x8;
/** `tp_status`: the kernel (or the NIC) verified the transport checksum. */
export const TP_STATUS_CSUM_VALID = 0x80;
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
class PacketReceiver {
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #mtu: number;
  readonly #slotSize: number;
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
    this.#slotSize = slotSize;
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
    let net = 0;
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

/** The address of a buffer's first byte as a bigint, for C structures. */
function pointerValue(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

const IP_PROTO_TCP = 6;
const IP_PROTO_UDP = 17;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** Adds the big-endian 16-bit words of `b[from, to)` (an odd last byte padded) to `sum`. */
function sum16(b: Uint8Array, from: number, to: number, sum: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < to) sum += b[i]! << 8;
  return sum;
}

/** Folds a sum of 16-bit words to 16 bits with end-around carry (RFC 1071 §4.1). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Where the IP packet at `net` ends (its length fields; Ethernet padding excluded). */
function ipEnd(f: Uint8Array, net: number): number {
  return f[net]! >> 4 === 4
    ? net + ((f[net + 2]! << 8) | f[net + 3]!)
    : net + 40 + ((f[net + 4]! << 8) | f[net + 5]!);
}

/** The transport protocol found by the last successful {@linkcode transportOf}. */
let foundProto = 0;

/**
 * The offset of the TCP or UDP header of the IP packet at `net` in the first `n` bytes of `f`, or
 * -1 when it is not an unfragmented TCP/UDP packet with consistent lengths. IPv6 hop-by-hop,
 * routing and destination options headers are skipped.
 */
function transportOf(f: Uint8Array, n: number, net: number): number {
  if (net < 0 || net + 20 > n) return -1;
  const version = f[net]! >> 4;
  let t: number;
  let proto: number;
  if (version === 4) {
    const ihl = (f[net]! & 0xf) << 2;
    if (ihl < 20 || (((f[net + 6]! << 8) | f[net + 7]!) & 0x3fff) !== 0) return -1;
    t = net + ihl;
    proto = f[net + 9]!;
  } else if (version === 6) {
    if (net + 40 > n) return -1;
    t = net + 40;
    proto = f[net + 6]!;
    while (proto === 0 || proto === 43 || proto === 60) {
      if (t + 8 > n) return -1;
      proto = f[t]!;
      t += (f[t + 1]! + 1) << 3;
    }
  } else {
    return -1;
  }
  const end = ipEnd(f, net);
  if (end > n) return -1;
  foundProto = proto;
  if (proto === IP_PROTO_TCP) return t + 20 <= end ? t : -1;
  if (proto === IP_PROTO_UDP) return t + 8 <= end ? t : -1;
  return -1;
}

/**
 * Computes the TCP or UDP checksum of the packet at `net` whose transport header is at `t` and
 * which ends at `end`: pseudo-header (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1) plus the segment,
 * written with the field zeroed first (UDP's 0 sent as 0xffff).
 */
function fillTransportChecksum(
  f: Uint8Array,
  net: number,
  t: number,
  end: number,
  proto: number,
): void {
  const at = t + (proto === IP_PROTO_TCP ? 16 : 6);
  f[at] = 0;
  f[at + 1] = 0;
  let sum = proto + (end - t);
  sum = f[net]! >> 4 === 4 ? sum16(f, net + 12, net + 20, sum) : sum16(f, net + 8, net + 40, sum);
  let c = ~fold(sum16(f, t, end, sum)) & 0xffff;
  if (c === 0 && proto === IP_PROTO_UDP) c = 0xffff;
  put16(f, at, c);
}

/**
 * Completes the transport checksum of a frame received with TP_STATUS_CSUMNOTREADY: its TCP or
 * UDP checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL); the checksum is
 * recomputed whole over the first `len` bytes of `frame`, whose IP header starts at `net`.
 *
 * @param frame The frame (may be longer than `len`).
 * @param len The frame's length.
 * @param net The offset of the IPv4 or IPv6 header (`tp_net`).
 * @returns `false` when the frame is not an unfragmented TCP/UDP packet (left unchanged).
 */
export function completeChecksum(frame: Uint8Array, len: number, net: number): boolean {
  const t = transportOf(frame, len, net);
  if (t < 0) return false;
  fillTransportChecksum(frame, net, t, ipEnd(frame, net), foundProto);
  return true;
}
