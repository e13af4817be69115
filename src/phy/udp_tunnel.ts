/**
 * {@linkcode UdpTunnelDevice}: one IP packet or Ethernet frame per UDP datagram to a fixed peer,
 * through a connected libc UDP socket with batched `recvmmsg`/`sendmmsg` (Linux, `--allow-ffi`)
 * or else over `Deno.listenDatagram` (needs `--unstable-net` and `--allow-net`). Two processes,
 * on one host or two, share a virtual network without any privilege.
 *
 * @module
 */

import { checkInt, checksumAll, ETHERNET_HEADER_LEN, Medium } from "./device.ts";
import type { Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import { FrameQueue } from "./link.ts";
import { Errno, newHostStats } from "./_libc.ts";
import { BatchUdpSocket, udpReceiveDrops } from "./_udp_socket.ts";
import { pureAckOffset, supersedes } from "./_ack_filter.ts";
import type { HostDeviceStats } from "./_libc.ts";
import type { Instant } from "../time.ts";
import type { UdpTunnelOptions } from "./udp_tunnel_options.ts";

import {
  CTRL_CREDIT,
  CTRL_LEN,
  CTRL_PROBE,
  ctrlCount,
  isControl,
  PROBE_AFTER,
  writeControl,
} from "./_tunnel_ctrl.ts";
export type { UdpTunnelEndpoint, UdpTunnelOptions } from "./udp_tunnel_options.ts";

/** Datagrams per recvmmsg / sendmmsg. */
const BATCH = 64;
/** At most this many ACKs in a row replaced by a newer one (as in `_fd_device.ts`). */
const MAX_ACK_RUN = 16;

/**
 * A tunnel device over one UDP socket. A reader loop receives each datagram straight into a free
 * slot of a bounded ring of MTU-sized buffers (one extra byte tells oversize datagrams apart,
 * dropped and counted) and runs the {@linkcode ReadinessHook} callback on an empty-to-non-empty
 * transition; when the ring is full it stops receiving until `receive` frees a slot (the
 * kernel's socket buffer holds or drops meanwhile; counted in `stats.rxQueueFull`).
 *
 * `commit` appends the frame to a bounded transmit queue of reused slots, sent in order. On the
 * batched path (`batchIo`, see `batchSize`) the reader takes everything waiting with one
 * `recvmmsg` per wake-up, and the queue (64 frames) leaves in one `sendmmsg` at the end of the
 * event-loop turn, or at once when it is full. On the `Deno.listenDatagram` path the queue holds
 * `maxInFlight` frames sent one `send` at a time (concurrent sends on one Deno socket may
 * complete out of order); while it is full, `canTransmit` is false and `transmit` returns `null`
 * (counted in `txQueueFull`: back-pressure, nothing is lost), and the readiness callback runs
 * once a slot frees so the stack retries. Either way a pure TCP ACK still queued is replaced by
 * a newer ACK of the same connection (`coalesceAcks`).
 *
 * @example Two ends in one process
 * ```ts
 * import { UdpTunnelDevice } from "@smol/net/phy";
 * import assert from "node:assert/strict";
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
 * assert.deepEqual(b.receive(0), new Uint8Array([1, 2, 3]));
 * await a.close();
 * await b.close();
 * ```
 */
export class UdpTunnelDevice implements Device, ReadinessHook {
  /** Medium and MTU as configured; software checksums. */
  readonly capabilities: DeviceCapabilities;
  readonly #conn: Deno.DatagramConn | null;
  readonly #sock: BatchUdpSocket | null;
  #flushQueued = false;
  readonly #coalesce: boolean;
  readonly #ethernet: boolean;
  readonly #localAddr: Deno.NetAddr;
  readonly #peer: Deno.NetAddr;
  readonly #rx: FrameQueue;
  readonly #slotSize: number;
  readonly #tx: FrameQueue;
  #sending = false;
  #pendingLen = -1;
  #pendingBuf: Uint8Array | null = null;
  /** ACKs replaced in a row by `#coalesceAck`. */
  #ackRun = 0;
  readonly #txLens = new Uint32Array(BATCH);
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
    io: Deno.DatagramConn | BatchUdpSocket,
    local: Deno.NetAddr,
    peer: Deno.NetAddr,
    capabilities: DeviceCapabilities,
    sizes: readonly [rxQueueLen: number, maxInFlight: number, flowWindow: number],
    coalesce: boolean,
  ) {
    const [rxQueueLen, maxInFlight, flowWindow] = sizes;
    this.#window = flowWindow;
    this.#sock = io instanceof BatchUdpSocket ? io : null;
    this.#conn = io instanceof BatchUdpSocket ? null : io;
    this.#localAddr = local;
    this.#peer = peer;
    this.#coalesce = coalesce;
    this.#ethernet = capabilities.medium === Medium.Ethernet;
    this.capabilities = capabilities;
    this.#slotSize = capabilities.mtu + 1;
    this.#rx = new FrameQueue(rxQueueLen, this.#slotSize);
    this.#tx = new FrameQueue(maxInFlight, capabilities.mtu);
    this.#loop = this.#sock !== null ? this.#runBatched(this.#sock) : this.#run();
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
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   *   medium: "ethernet",
   * });
   * assert.equal(dev.capabilities.mtu, 1514);
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
      const localHost = normalizeHost(options.local.hostname);
      const peer: Deno.NetAddr = {
        transport: "udp",
        hostname: normalizeHost(options.peer.hostname),
        port: options.peer.port,
      };
      const sock = options.batchIo === false ? null : BatchUdpSocket.open(
        { hostname: localHost, port: options.local.port },
        peer,
        mtu + 1,
        BATCH,
      );
      const io = sock ?? Deno.listenDatagram({
        transport: "udp",
        hostname: localHost,
        port: options.local.port,
      });
      const local: Deno.NetAddr = sock !== null
        ? { transport: "udp", hostname: localHost, port: sock.localPort }
        : (io as Deno.DatagramConn).addr as Deno.NetAddr;
      const capabilities: DeviceCapabilities = Object.freeze({
        medium,
        mtu,
        checksum: Object.freeze(checksumAll()),
        maxBurstSize: null,
      });
      const sizes = [
        rxQueueLen,
        sock !== null ? Math.min(maxInFlight, BATCH) : maxInFlight,
        flowWindow,
      ] as const;
      resolve(
        new UdpTunnelDevice(io, local, peer, capabilities, sizes, options.coalesceAcks !== false),
      );
    });
  }

  /** The bound local address (its port, when 0 was asked for). */
  get localAddr(): Deno.NetAddr {
    return this.#localAddr;
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
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * const drops = dev.hostReceiveDrops(); // null without --allow-all or off Linux
   * assert.ok(drops === null || drops === 0); // a fresh socket has lost nothing
   * await dev.close();
   * ```
   */
  hostReceiveDrops(): number | null {
    return udpReceiveDrops(this.#localAddr.port);
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
   * Datagrams moved per system call at most: 64 on the batched libc path (`recvmmsg` /
   * `sendmmsg`), 1 on the `Deno.listenDatagram` fallback.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   *   batchIo: false,
   * });
   * assert.equal(dev.batchSize, 1);
   * await dev.close();
   * ```
   */
  get batchSize(): number {
    return this.#sock !== null ? BATCH : 1;
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
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * assert.equal(dev.receive(0), null);
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
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * assert.equal(dev.canTransmit(0), true);
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
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   *   mtu: 1000,
   * });
   * assert.equal(dev.transmit(0, 1001), null);
   * assert.equal(dev.stats.dropsTooBig, 1);
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
    // Batched: a full queue goes out now, in one sendmmsg.
    if (this.#sock !== null && this.#tx.isFull()) this.#flush();
    const buf = this.#windowFull() ? null : this.#tx.reserve(len);
    if (buf === null) {
      this.#stats.txQueueFull++;
      this.#refused = true;
      return null;
    }
    this.#pendingLen = len;
    this.#pendingBuf = buf;
    return buf;
  }

  /**
   * Starts sending the frame of the last `transmit` as one datagram to the peer.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * dev.transmit(0, 3)!.set([1, 2, 3]);
   * dev.commit();
   * assert.equal(dev.inFlight, 1);
   * await dev.close();
   * ```
   */
  commit(): void {
    if (this.#pendingLen < 0 || this.#closing) return;
    this.#pendingLen = -1;
    if (this.#coalesce && this.#coalesceAck(this.#pendingBuf!)) return;
    this.#tx.commit();
    this.#committed++;
    if (this.#sock !== null) {
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(this.#flush);
      }
    } else if (!this.#sending) {
      this.#sending = true;
      this.#sendLoop();
    }
  }

  /**
   * Whether the pure ACK `frame` replaced the newest queued frame, an older ACK of the same
   * connection (at most `MAX_ACK_RUN` times in a row).
   */
  #coalesceAck(frame: Uint8Array): boolean {
    const tcp = pureAckOffset(frame, this.#ethernet);
    const last = tcp < 0 ? null : this.#tx.newest();
    if (
      last === null || last.length !== frame.length || this.#ackRun >= MAX_ACK_RUN ||
      pureAckOffset(last, this.#ethernet) !== tcp || !supersedes(last, frame, tcp)
    ) {
      this.#ackRun = 0;
      return false;
    }
    last.set(frame);
    this.#ackRun++;
    this.#stats.acksCoalesced++;
    return true;
  }

  /** Batched path: sends every queued frame with as few `sendmmsg` calls as the batch allows. */
  readonly #flush = (): void => {
    this.#flushQueued = false;
    const sock = this.#sock!;
    const q = this.#tx;
    const lens = this.#txLens;
    const st = this.#stats;
    while (!q.isEmpty()) {
      let k = 0;
      for (let f = q.pop(); f !== null; f = k < BATCH ? q.pop() : null) {
        sock.stage(k, f);
        lens[k++] = f.length;
        if (k === BATCH) break;
      }
      q.release();
      for (let sent = 0; sent < k;) {
        const r = sock.send(sent, k);
        if (r > 0) {
          for (let i = sent; i < sent + r; i++) st.bytesSent += lens[i]!;
          st.framesSent += r;
          sent += r;
        } else if (r === -Errno.EAGAIN || r === -Errno.ENOBUFS) {
          st.dropsTxBusy += k - sent;
          break;
        } else {
          st.writeErrors++; // the first unsent datagram failed (ECONNREFUSED: no peer yet)
          sent++;
        }
      }
    }
    if (this.#refused && !this.#closing && !this.#windowFull()) {
      this.#refused = false;
      this.#onReadable?.();
    }
  };

  /**
   * Registers the callback run when frames arrive in an empty ring (edge triggered), and when a
   * send slot frees after a refused `transmit`. It must be cheap and must not call into devices.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts
   * import { UdpTunnelDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const a = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 40102 },
   *   peer: { hostname: "127.0.0.1", port: 40103 },
   * });
   * const b = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 40103 },
   *   peer: { hostname: "127.0.0.1", port: 40102 },
   * });
   * let wakes = 0;
   * const readable = new Promise<void>((resolve) => b.onReadable(() => (wakes++, resolve())));
   * a.transmit(0, 20);
   * a.commit();
   * await readable;
   * assert.equal(wakes, 1);
   * assert.equal(b.receive(0)?.length, 20);
   * await a.close();
   * await b.close();
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
   * import assert from "node:assert/strict";
   * const dev = await UdpTunnelDevice.open({
   *   local: { hostname: "127.0.0.1", port: 0 },
   *   peer: { hostname: "127.0.0.1", port: 40001 },
   * });
   * await dev.close();
   * await dev.close(); // idempotent
   * assert.equal(dev.canTransmit(0), false);
   * assert.equal(dev.transmit(0, 20), null);
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
    const paused = this.#rx.isFull(); // our reader waits for `receive` to free a slot
    writeControl(out, type, paused, count);
    if (this.#sock !== null) {
      if (!this.#sock.sendOne(out)) this.#stats.writeErrors++;
      return;
    }
    this.#ctrlSending = true;
    this.#conn!.send(out, this.#peer).catch(() => this.#stats.writeErrors++).finally(() => {
      this.#ctrlSending = false;
      if (this.#ctrlDirty && !this.#closing) {
        this.#ctrlDirty = false;
        const t = out[2]!;
        this.#sendControl(t === CTRL_PROBE ? CTRL_PROBE : CTRL_CREDIT, this.#read);
      }
    });
  }

  async #close(): Promise<void> {
    const sock = this.#sock;
    if (sock !== null) {
      this.#flush();
      this.#closing = true;
      clearTimeout(this.#probeTimer);
      this.#pendingLen = -1;
      sock.close();
      this.#spaceWaiter?.();
      this.#spaceWaiter = null;
      await this.#loop;
      sock.release();
      this.#rx.clear();
      return;
    }
    this.#closing = true;
    clearTimeout(this.#probeTimer);
    this.#pendingLen = -1;
    if (this.#sending) {
      await new Promise<void>((resolve) => this.#drainWaiter = resolve);
    }
    this.#conn!.close();
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
        await this.#conn!.send(f, this.#peer);
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

  /** Resolves when `receive` frees a slot of the full ring (counted in `rxQueueFull`). */
  #roomInRing(): Promise<void> {
    this.#stats.rxQueueFull++;
    return new Promise<void>((resolve) => this.#spaceWaiter = resolve);
  }

  /** Batched path: waits in poll(), then takes everything waiting with recvmmsg. */
  async #runBatched(sock: BatchUdpSocket): Promise<void> {
    const rx = this.#rx;
    let errors = 0;
    while (!this.#closing) {
      if (rx.isFull()) {
        await this.#roomInRing();
        continue;
      }
      if (!(await sock.wait()) || this.#closing) break;
      const wasEmpty = rx.isEmpty();
      while (rx.room > 0) {
        const k = sock.receive(rx.room);
        if (k === 0) break;
        if (k < 0) {
          // ECONNREFUSED (an ICMP error for an earlier send) is transient; a run is not.
          this.#stats.readErrors++;
          if (++errors > 100) return;
          break;
        }
        errors = 0;
        for (let i = 0; i < k; i++) this.#accept(sock.slot(i), sock.length(i));
      }
      if (wasEmpty && !rx.isEmpty()) this.#onReadable?.();
    }
  }

  /** One datagram of `n` bytes in a staging slot: control, or a frame copied into the ring. */
  #accept(slot: Uint8Array, n: number): void {
    if (isControl(slot, n)) {
      this.#control(slot);
      return;
    }
    if (this.#window > 0 && ++this.#read - this.#reported >= this.#window >> 2) this.#report();
    if (n > this.capabilities.mtu) {
      this.#stats.dropsOversize++;
      return;
    }
    this.#rx.reserve(this.#slotSize)!.set(slot);
    this.#rx.reserve(n);
    this.#rx.commit();
  }

  async #run(): Promise<void> {
    const peer = this.#peer;
    const rx = this.#rx;
    const mtu = this.capabilities.mtu;
    let errors = 0;
    while (!this.#closing) {
      if (rx.isFull()) {
        await this.#roomInRing();
        continue;
      }
      const slot = rx.reserve(this.#slotSize)!;
      let n: number;
      let from: Deno.Addr;
      try {
        const [view, addr] = await this.#conn!.receive(slot);
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
      if (isControl(slot, n)) {
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

/** `"localhost"` as the address Deno reports for it, so peer filtering compares like with like. */
function normalizeHost(hostname: string): string {
  return hostname === "localhost" ? "127.0.0.1" : hostname;
}
