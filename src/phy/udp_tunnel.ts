/**
 * {@linkcode UdpTunnelDevice}: one IP packet or Ethernet frame per UDP datagram to a fixed peer,
 * over `Deno.listenDatagram` (needs `--unstable-net` and `--allow-net`). Two processes, on one
 * host or two, share a virtual network without any privilege.
 *
 * @module
 */

import { checkInt, checksumAll, ETHERNET_HEADER_LEN, Medium } from "./device.ts";
import type { Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import { FrameQueue } from "./link.ts";
import { newHostStats } from "./_libc.ts";
import type { HostDeviceStats } from "./_libc.ts";
import type { Instant } from "../time.ts";

/**
 * A UDP endpoint of a tunnel.
 *
 * @example
 * ```ts
 * import type { UdpTunnelEndpoint } from "@smol/net/phy";
 * const ep: UdpTunnelEndpoint = { hostname: "127.0.0.1", port: 40000 };
 * ```
 */
export interface UdpTunnelEndpoint {
  /** An IP address (`"localhost"` is taken as 127.0.0.1). */
  readonly hostname: string;
  /** The UDP port; 0 for the local end picks a free one. */
  readonly port: number;
}

/**
 * Options of {@linkcode UdpTunnelDevice.open}.
 *
 * @example
 * ```ts
 * import type { UdpTunnelOptions } from "@smol/net/phy";
 * const opts: UdpTunnelOptions = {
 *   local: { hostname: "0.0.0.0", port: 40000 },
 *   peer: { hostname: "198.51.100.7", port: 40000 },
 *   medium: "ethernet",
 * };
 * ```
 */
export interface UdpTunnelOptions {
  /** Where to listen. */
  readonly local: UdpTunnelEndpoint;
  /** Where to send; datagrams from any other source are dropped (`stats.readErrors`). */
  readonly peer: UdpTunnelEndpoint;
  /** `"ip"` (default) or `"ethernet"`. */
  readonly medium?: Medium;
  /**
   * Largest frame in bytes (for Ethernet including the 14-byte header). Default 1500 for IP,
   * 1514 for Ethernet; keep datagrams under the path MTU (1500-byte UDP payloads fit in a 1528-byte
   * IPv4 packet, which fragments on a 1500-byte path; use 1472 / 1486 there).
   */
  readonly mtu?: number;
  /** Receive ring length in frames. Default 256. */
  readonly rxQueueLen?: number;
  /** Transmit queue length: committed frames not yet sent, at most. Default 64. */
  readonly maxInFlight?: number;
  /**
   * Credit-based flow control, for both ends to set alike: at most this many frames sent and not
   * yet read from its socket by the peer, so a busy receiver's kernel buffer (about 90 datagrams
   * of 1400 bytes by default) never overflows. The receiver reports its count in an 8-byte
   * control datagram every quarter window; a sender that hears nothing for 50 ms while blocked
   * asks, and counts what never arrived in `stats.tunnelLost`. `0` (default) turns it off.
   */
  readonly flowWindow?: number;
}

/** Control datagrams of the flow control: 8 bytes, which no IP packet or Ethernet frame is. */
const CTRL_LEN = 8;
const CTRL_MAGIC = 0x5f;
const CTRL_CREDIT = 1;
const CTRL_PROBE = 2;
/** A blocked sender asks for credit after this long without one. */
const PROBE_AFTER = 50;

/**
 * A tunnel device over one UDP socket. A reader loop receives each datagram straight into a free
 * slot of a bounded ring of MTU-sized buffers (one extra byte tells oversize datagrams apart,
 * dropped and counted) and runs the {@linkcode ReadinessHook} callback on an empty-to-non-empty
 * transition; when the ring is full it stops receiving until `receive` frees a slot (the
 * kernel's socket buffer holds or drops meanwhile; counted in `stats.rxQueueFull`).
 *
 * `commit` appends the frame to a bounded transmit queue of `maxInFlight` reused slots, sent in
 * order, one `send` at a time (concurrent sends on one Deno socket may complete out of order).
 * While the queue is full, `canTransmit` is false and `transmit` returns `null` (counted in
 * `txQueueFull`: back-pressure, nothing is lost), and the readiness callback runs once a slot
 * frees so the stack retries.
 *
 * @example Two ends in one process
 * ```ts
 * import { UdpTunnelDevice } from "@smol/net/phy";
 *
 * const a = await UdpTunnelDevice.open({
 *   local: { hostname: "127.0.0.1", port: 40100 },
 *   peer: { hostname: "127.0.0.1", port: 40101 },
 * });
 * const b = await UdpTunnelDevice.open({
 *   local: { hostname: "127.0.0.1", port: 40101 },
 *   peer: { hostname: "127.0.0.1", port: 40100 },
 * });
 * const got = new Promise<void>((resolve) => b.onReadable(resolve));
 * a.transmit(0, 3)!.set([1, 2, 3]);
 * a.commit();
 * await got;
 * console.log(b.receive(0)); // Uint8Array(3) [ 1, 2, 3 ]
 * await a.close();
 * await b.close();
 * ```
 */
export class UdpTunnelDevice implements Device, ReadinessHook {
  /** Medium and MTU as configured; software checksums. */
  readonly capabilities: DeviceCapabilities;
  readonly #conn: Deno.DatagramConn;
  readonly #peer: Deno.NetAddr;
  readonly #rx: FrameQueue;
  readonly #slotSize: number;
  readonly #tx: FrameQueue;
  #sending = false;
  #pendingLen = -1;
  #refused = false;
  #onReadable: (() => void) | null = null;
  #closing = false;
  #spaceWaiter: (() => void) | null = null;
  #drainWaiter: (() => void) | null = null;
  readonly #stats = newHostStats();
  /** Flow control (`flowWindow` > 0): frames committed, credited by the peer, inferred lost. */
  readonly #window: number;
  #committed = 0;
  #credited = 0;
  #lost = 0;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #probing = false;
  /** The peer's count in its last answer to a probe (-1: none yet in this blocked spell). */
  #probeCount = -1;
  /** Frames read from the socket, and the count last reported to the peer. */
  #read = 0;
  #reported = 0;
  #ctrlSending = false;
  #ctrlDirty = false;
  readonly #ctrlOut = new Uint8Array(CTRL_LEN);
  readonly #loop: Promise<void>;
  #closeCall: Promise<void> | null = null;

  private constructor(
    conn: Deno.DatagramConn,
    peer: Deno.NetAddr,
    capabilities: DeviceCapabilities,
    rxQueueLen: number,
    maxInFlight: number,
    flowWindow: number,
  ) {
    this.#window = flowWindow;
    this.#conn = conn;
    this.#peer = peer;
    this.capabilities = capabilities;
    this.#slotSize = capabilities.mtu + 1;
    this.#rx = new FrameQueue(rxQueueLen, this.#slotSize);
    this.#tx = new FrameQueue(maxInFlight, capabilities.mtu);
    this.#loop = this.#run();
  }

  /**
   * Binds the local UDP socket and starts the reader loop.
   *
   * @param options Local and peer endpoints, medium, MTU, queue bounds.
   * @returns The open device.
   * @throws {Deno.errors.AddrInUse} When the local port is taken.
   * @throws {RangeError} For a bad port, MTU or queue bound.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   *   medium: "ethernet",
   * });
   * console.log(dev.capabilities.mtu); // 1514
   * await dev.close();
   * ```
   */
  static open(options: UdpTunnelOptions): Promise<UdpTunnelDevice> {
    return new Promise((resolve) => {
      const medium = options.medium ?? Medium.Ip;
      if (medium !== Medium.Ip && medium !== Medium.Ethernet) {
        throw new TypeError(`Invalid medium "${medium}": expected "ip" or "ethernet"`);
      }
      const mtu = options.mtu ?? (medium === Medium.Ethernet ? 1514 : 1500);
      checkInt("MTU", mtu, medium === Medium.Ethernet ? ETHERNET_HEADER_LEN + 1 : 1, 65507);
      const rxQueueLen = options.rxQueueLen ?? 256;
      checkInt("receive queue length", rxQueueLen, 1, 1 << 16);
      const maxInFlight = options.maxInFlight ?? 64;
      checkInt("in-flight bound", maxInFlight, 1, 1 << 16);
      const flowWindow = options.flowWindow ?? 0;
      checkInt("flow window", flowWindow, 0, 1 << 16);
      checkInt("local port", options.local.port, 0, 65535);
      checkInt("peer port", options.peer.port, 1, 65535);
      const conn = Deno.listenDatagram({
        transport: "udp",
        hostname: normalizeHost(options.local.hostname),
        port: options.local.port,
      });
      const peer: Deno.NetAddr = {
        transport: "udp",
        hostname: normalizeHost(options.peer.hostname),
        port: options.peer.port,
      };
      const capabilities: DeviceCapabilities = Object.freeze({
        medium,
        mtu,
        checksum: Object.freeze(checksumAll()),
        maxBurstSize: null,
      });
      resolve(
        new UdpTunnelDevice(conn, peer, capabilities, rxQueueLen, maxInFlight, flowWindow),
      );
    });
  }

  /** The bound local address (its port, when 0 was asked for). */
  get localAddr(): Deno.NetAddr {
    return this.#conn.addr as Deno.NetAddr;
  }

  /** The peer datagrams go to. */
  get peerAddr(): Deno.NetAddr {
    return this.#peer;
  }

  /** Counters; the object is live. */
  get stats(): HostDeviceStats {
    return this.#stats;
  }

  /**
   * Datagrams the host kernel dropped for this socket (its receive buffer overflowed, or a bad
   * UDP checksum): the `drops` column of `/proc/net/udp` and `/proc/net/udp6` for the local port.
   * The tunnel never sees these; TCP recovers them by retransmission. `null` where that file
   * cannot be read (not Linux, or without `--allow-all`: Deno reads `/proc` only with it).
   *
   * @returns The count, or `null`.
   *
   * @example
   * ```ts ignore
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * console.log(dev.hostReceiveDrops()); // 0 with --allow-all on Linux, else null
   * await dev.close();
   * ```
   */
  hostReceiveDrops(): number | null {
    const port = this.localAddr.port.toString(16).toUpperCase().padStart(4, "0");
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
        if (cols.length < 13 || !cols[1]!.endsWith(`:${port}`)) continue;
        found += Number(cols[cols.length - 1]) || 0;
      }
    }
    return found;
  }

  /** Frames waiting in the receive ring. */
  get pending(): number {
    return this.#rx.length;
  }

  /** Frames committed whose send has not completed yet (queued or being sent). */
  get inFlight(): number {
    return this.#tx.length + (this.#sending ? 1 : 0);
  }

  /**
   * The next received frame, valid until the next `receive`, or `null`.
   *
   * @param _now The current instant (unused).
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * console.log(dev.receive(0)); // null
   * await dev.close();
   * ```
   */
  receive(_now: Instant): Uint8Array | null {
    const frame = this.#rx.pop();
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
    if (frame === null) return null;
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += frame.length;
    return frame;
  }

  /**
   * Whether a `transmit` would find a free send slot.
   *
   * @param _now The current instant (unused).
   * @returns `false` while `maxInFlight` sends are pending or after `close()`.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * console.log(dev.canTransmit(0)); // true
   * await dev.close();
   * ```
   */
  canTransmit(_now: Instant): boolean {
    return !this.#closing && !this.#tx.isFull() && !this.#windowFull();
  }

  /**
   * A send slot as a view of exactly `len` bytes, or `null` when `len > mtu` (`dropsTooBig`), all
   * slots are in flight (`txQueueFull`; the caller keeps the frame) or the device is closed.
   *
   * @param _now The current instant (unused).
   * @param len The frame length.
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   *   mtu: 1000,
   * });
   * console.log(dev.transmit(0, 1001), dev.stats.dropsTooBig); // null 1
   * await dev.close();
   * ```
   */
  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pendingLen = -1;
    if ((len >>> 0) !== len || len > this.capabilities.mtu) {
      this.#stats.dropsTooBig++;
      return null;
    }
    if (this.#closing) return null;
    const buf = this.#windowFull() ? null : this.#tx.reserve(len);
    if (buf === null) {
      this.#stats.txQueueFull++;
      this.#refused = true;
      return null;
    }
    this.#pendingLen = len;
    return buf;
  }

  /**
   * Starts sending the frame of the last `transmit` as one datagram to the peer.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * dev.transmit(0, 3)!.set([1, 2, 3]);
   * dev.commit();
   * console.log(dev.inFlight); // 1
   * await dev.close();
   * ```
   */
  commit(): void {
    if (this.#pendingLen < 0 || this.#closing) return;
    this.#pendingLen = -1;
    this.#tx.commit();
    this.#committed++;
    if (!this.#sending) {
      this.#sending = true;
      this.#sendLoop();
    }
  }

  /**
   * Registers the callback run when frames arrive in an empty ring (edge triggered), and when a
   * send slot frees after a refused `transmit`. It must be cheap and must not call into devices.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * dev.onReadable(() => {});
   * await dev.close();
   * ```
   */
  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }

  /**
   * Waits for pending sends, closes the socket and ends the reader loop. Idempotent.
   *
   * @returns Settles when the socket is closed and no operation is pending.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * await dev.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closeCall === null) this.#closeCall = this.#close();
    return this.#closeCall;
  }

  /**
   * Same as `close()`, for `await using`.
   *
   * @returns Settles when everything is released.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Whether flow control forbids another frame; arms the credit probe when it does. */
  #windowFull(): boolean {
    if (this.#window === 0) return false;
    if (((this.#committed - this.#credited) >>> 0) < this.#window) return false;
    this.#refused = true; // a credit that opens the window wakes the stack
    if (this.#probeTimer === undefined) {
      this.#probeCount = -1;
      this.#probeTimer = setTimeout(() => this.#probe(), PROBE_AFTER);
      Deno.unrefTimer(this.#probeTimer);
    }
    return true;
  }

  /** No credit for a while: ask the peer for its count. */
  #probe(): void {
    this.#probeTimer = undefined;
    if (this.#closing) return;
    this.#probing = true;
    this.#sendControl(CTRL_PROBE, 0);
    this.#probeTimer = setTimeout(() => this.#probe(), PROBE_AFTER);
    Deno.unrefTimer(this.#probeTimer);
  }

  /** Handles a control datagram from the peer. */
  #control(b: Uint8Array): void {
    if (b[2] === CTRL_PROBE) {
      this.#report();
      return;
    }
    if (b[2] !== CTRL_CREDIT || this.#window === 0) return;
    const sent = (this.#committed - this.#tx.length - (this.#sending ? 1 : 0)) >>> 0;
    const count = ctrlCount(b);
    let credited = (count + this.#lost) >>> 0;
    const over = (credited - sent) >>> 0;
    if (over !== 0 && over < 0x80000000) {
      // Frames written off as lost arrived after all: take them back.
      this.#lost = (this.#lost - over) >>> 0;
      this.#stats.tunnelLost -= over;
      credited = sent;
    }
    if (((credited - this.#credited) >>> 0) < 0x80000000) this.#credited = credited;
    if (this.#probing) {
      // Frames the peer has not read are written off only when its count stood still between
      // two answers and its reader was not paused on a full ring (then they wait in its kernel
      // buffer): they were lost on the way or dropped by its kernel.
      const still = count === this.#probeCount && b[3] !== 1;
      this.#probeCount = count;
      const missing = (sent - this.#credited) >>> 0;
      if (still && missing !== 0 && missing < 0x80000000) {
        this.#stats.tunnelLost += missing;
        this.#lost = (this.#lost + missing) >>> 0;
        this.#credited = sent;
      }
    }
    if (((this.#committed - this.#credited) >>> 0) < this.#window) {
      this.#probing = false;
      clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
      if (this.#refused) {
        this.#refused = false;
        this.#onReadable?.();
      }
    }
  }

  /** Tells the peer how many frames were read (cumulative). */
  #report(): void {
    this.#reported = this.#read;
    this.#sendControl(CTRL_CREDIT, this.#read);
  }

  /** Sends one control datagram; while one is pending the next waits and carries the latest. */
  #sendControl(type: number, count: number): void {
    const out = this.#ctrlOut;
    if (this.#ctrlSending) {
      this.#ctrlDirty = true;
      if (type === CTRL_PROBE) out[2] = CTRL_PROBE;
      return;
    }
    out[0] = 0;
    out[1] = CTRL_MAGIC;
    out[2] = type;
    out[3] = this.#rx.isFull() ? 1 : 0; // our reader is paused
    out[4] = count >>> 24;
    out[5] = (count >>> 16) & 0xff;
    out[6] = (count >>> 8) & 0xff;
    out[7] = count & 0xff;
    this.#ctrlSending = true;
    this.#conn.send(out, this.#peer).catch(() => this.#stats.writeErrors++).finally(() => {
      this.#ctrlSending = false;
      if (this.#ctrlDirty && !this.#closing) {
        this.#ctrlDirty = false;
        const t = out[2]!;
        this.#sendControl(t === CTRL_PROBE ? CTRL_PROBE : CTRL_CREDIT, this.#read);
      }
    });
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#probeTimer);
    this.#pendingLen = -1;
    if (this.#sending) {
      await new Promise<void>((resolve) => this.#drainWaiter = resolve);
    }
    this.#conn.close();
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
    await this.#loop;
    this.#rx.clear();
  }

  /**
   * Sends queued frames one at a time, in order. Deno may complete concurrent `send` calls on one
   * socket in any order (measured: a burst of three arrived reversed), so at most one is pending;
   * the frame stays lent from the queue until its send completes.
   */
  async #sendLoop(): Promise<void> {
    const q = this.#tx;
    for (let f = q.pop(); f !== null; f = q.pop()) {
      const len = f.length;
      try {
        await this.#conn.send(f, this.#peer);
        this.#stats.framesSent++;
        this.#stats.bytesSent += len;
      } catch {
        this.#stats.writeErrors++;
      }
      // A freed slot wakes a refused stack, unless the flow-control window still holds it (then a
      // credit will).
      if (this.#refused && !this.#closing && !this.#windowFull()) {
        this.#refused = false;
        q.release();
        this.#onReadable?.();
      }
    }
    q.release();
    this.#sending = false;
    const w = this.#drainWaiter;
    if (w !== null) {
      this.#drainWaiter = null;
      w();
    }
  }

  async #run(): Promise<void> {
    const peer = this.#peer;
    const rx = this.#rx;
    const mtu = this.capabilities.mtu;
    let errors = 0;
    while (!this.#closing) {
      if (rx.isFull()) {
        this.#stats.rxQueueFull++;
        await new Promise<void>((resolve) => this.#spaceWaiter = resolve);
        continue;
      }
      const slot = rx.reserve(this.#slotSize)!;
      let n: number;
      let from: Deno.Addr;
      try {
        const [view, addr] = await this.#conn.receive(slot);
        n = view.length;
        from = addr;
      } catch {
        if (this.#closing) break;
        this.#stats.readErrors++;
        // An error that repeats without a datagram in between is not transient.
        if (++errors > 100) break;
        continue;
      }
      errors = 0;
      if (this.#closing) break;
      const fromNet = from as Deno.NetAddr;
      if (fromNet.port !== peer.port || fromNet.hostname !== peer.hostname) {
        this.#stats.readErrors++;
        continue;
      }
      if (n === CTRL_LEN && slot[0] === 0 && slot[1] === CTRL_MAGIC) {
        this.#control(slot);
        continue;
      }
      if (this.#window > 0 && ++this.#read - this.#reported >= this.#window >> 2) {
        this.#report();
      }
      if (n > mtu) {
        this.#stats.dropsOversize++;
        continue;
      }
      const wasEmpty = rx.isEmpty();
      rx.reserve(n);
      rx.commit();
      if (wasEmpty) this.#onReadable?.();
    }
  }
}

/** Big-endian u32 at 4 of a control datagram. */
function ctrlCount(b: Uint8Array): number {
  return ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}

/** `"localhost"` as the address Deno reports for it, so peer filtering compares like with like. */
function normalizeHost(hostname: string): string {
  return hostname === "localhost" ? "127.0.0.1" : hostname;
}
