/**
 * Internal: the file-descriptor engine shared by {@linkcode TunTapDevice} and
 * {@linkcode RawSocketDevice}: a bounded receive ring filled by a background reader loop,
 * synchronous writes, pure-ACK holding, counters and a clean stop. `FdDevice` in
 * `_fd_device.ts` wraps it with the public `Device` methods.
 *
 * @module
 */

import { checkInt } from "./device.ts";
import type { DeviceCapabilities } from "./device.ts";
import { FrameQueue } from "./link.ts";
import { pureAckOffset, supersedes } from "./_ack_filter.ts";
import {
  backoffMs,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  Errno,
  errno,
  MAX_READ_FAILURES,
  newHostStats,
  osError,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
} from "./_libc.ts";
import type { Libc, MutableHostDeviceStats } from "./_libc.ts";
import type { TxRing } from "./_tx_ring.ts";
import { RxRing } from "./_rx_ring.ts";
import type { FdEngineOptions, FrameReceiver, FrameSender } from "./_fd_engine_options.ts";
import { type Instant, NEVER } from "../time.ts";

/** The transmit counters: in ring mode the sum of the worker's and the frames written inline. */
type TxCounters = Pick<
  MutableHostDeviceStats,
  "framesSent" | "bytesSent" | "dropsTxBusy" | "writeErrors"
>;

/** Extra room in each receive slot so oversize and truncated frames can be told apart. */
const RX_SLACK = 64;
/** Room for one held ACK (Ethernet 14 + IPv6 40 + TCP 60, and the offload header). */
const HOLD_SIZE = 256;
/**
 * At most this many ACKs in a row are replaced by a newer one before the held ACK is sent anyway,
 * so a long burst still acknowledges as it goes: with an ACK every second segment that is one
 * ACK per ~32 segments (~46 KB), about what a Linux receiver sends behind GRO's 64 KiB.
 */
const MAX_ACK_RUN = 16;
/**
 * A pure ACK leaves at once when this many bytes were received since the last frame written:
 * `receive` reads on while the kernel keeps sending, so without a bound a burst of 64 KiB
 * super-frames (TUN offloads) would go unacknowledged until the peer's window ran out.
 */
const ACK_BYTES = 64 * 1024;
/** Consecutive failed polls (whose errno is invisible) before the loop gives up. */
const MAX_POLL_FAILURES = 100;

/**
 * The engine behind the FFI devices: a reader loop that awaits a non-blocking `poll()` on
 * [device fd, eventfd], then reads synchronously until EAGAIN into a {@linkcode FrameQueue} of
 * MTU-sized slots; when the ring is full it waits for `receive` to free a slot instead of
 * spinning. `receive` reads the fd itself when the ring is empty, and after handing frames over
 * the loop arms its poll again only once such a read found the fd empty: a busy transfer pays
 * one synchronous `read` per frame and no worker-thread round trip (`stats.readerWakeups`).
 * Transmit writes synchronously from one preallocated buffer; a write that would block drops the
 * frame (counted in `dropsTxBusy`) — there is no transmit queue. With a writer thread
 * (`useWriter`, `_tx_ring.ts`) frames are built in the slots of a shared ring instead and a
 * Worker writes them in order; a pure ACK is still written here when the ring holds nothing
 * unwritten. With a reader thread (`startReader`, `_rx_ring.ts`) the loop here does not run: a
 * Worker reads the fd into a shared ring and `receive` takes frames from it.
 */
export class FdEngine {
  readonly capabilities: DeviceCapabilities;
  readonly stats: MutableHostDeviceStats = newHostStats();
  readonly #lib: Libc;
  readonly #fd: number;
  readonly #eventFd: number;
  readonly #label: string;
  readonly #classify: FdEngineOptions["classify"];
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #rx: FrameQueue;
  readonly #slotSize: number;
  readonly #rxFrameSize: number;
  readonly #sender: FrameSender | null;
  readonly #headroom: number;
  readonly #txMax: number;
  readonly #slotSizeBig: bigint;
  readonly #pollFds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollFds.buffer);
  readonly #receiver: FrameReceiver | null;
  readonly #tx: Uint8Array;
  #txView: Uint8Array;
  /** The buffer `#txView` lies in (after its headroom): `#tx`, or a slot of the writer ring. */
  #txBase: Uint8Array;
  #pendingLen = -1;
  /** The writer thread's ring (`useWriter`), or null when `commit` writes itself. */
  #ring: TxRing | null = null;
  /** Ring mode: the slot (ahead of the ring's head) the frame being built lies in. */
  #txK = 0;
  /** Ring mode: slots filled during this `commit`, published at its end. */
  #pub = 0;
  /** Where the frames `commit` writes itself are counted: `stats`, or apart in ring mode. */
  #txStats: TxCounters = this.stats;
  /** Inside `commit` (ring mode: the slot in front of the frame is kept for a held ACK). */
  #inCommit = false;
  /** Ring mode: a frame view per slot, remade only when the length changes. */
  #slotViews: Uint8Array[] = [];
  /** A pure ACK waiting (header included), or null when ACKs are not coalesced. */
  readonly #hold: Uint8Array | null;
  #holdLen = 0;
  #holdTcp = -1;
  /** How many ACKs the held one has replaced. */
  #holdRun = 0;
  /** The segment size of the frame `receive` returned last. */
  #rxSegment = 0;
  /** Between a `receive` that returned a frame and the next that returned `null`. */
  #receiving = false;
  /** Bytes returned by `receive` since the last frame written. */
  #rxSinceWrite = 0;
  /** The frame part of `#hold` (after the offload header). */
  readonly #holdFrame: Uint8Array | null;
  readonly #ethernet: boolean;
  #onReadable: (() => void) | null = null;
  #state: "open" | "closing" | "closed" | "failed" = "open";
  #error: Error | null = null;
  #spaceWaiter: (() => void) | null = null;
  /** The loop waits on this after a drain until `receive` has read the fd empty (EAGAIN). */
  #idleWaiter: (() => void) | null = null;
  /** Whether the last read on the stack's side found the fd empty. */
  #drained = true;
  /**
   * A frame was written since a read last found the fd empty: the kernel answers inside that
   * `write` (its receive path sends the ACK for data, and the data an ACK lets out), so
   * `nextDeadline` asks for a poll now.
   */
  #wrote = false;
  /** `nextDeadline` said "now": the stack will call `receive` soon, so the loop need not poll. */
  #promised = false;
  #loop: Promise<void> = Promise.resolve();
  /** The reader thread's ring (`useReader`), or null when the loop here reads the fd. */
  #reader: RxRing | null = null;
  /**
   * Settled by `#stopLoop` to end the reader-thread loop: a wake-up through `Atomics.notify` on
   * this thread (`RxRing.close`) settles `waitAsync` in a V8 task that Deno does not count as
   * pending work, so with nothing else pending the process could end before it ran.
   */
  #halt: PromiseWithResolvers<void> | null = null;
  /** Failed reads in a row (counted, not fatal), with neither a frame nor EAGAIN between. */
  #readFailures = 0;
  /** The errno of the last of them. */
  #readErrno = 0;
  /** The loop's pause before retrying a failing read (cut short by `close`). */
  #pauseTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #pauseWake: (() => void) | null = null;
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
    this.#classify = options.classify;
    this.#onError = options.onError;
    const mtu = options.capabilities.mtu;
    this.#rxFrameSize = options.rxFrameSize ?? mtu;
    this.#slotSize = this.#rxFrameSize + RX_SLACK;
    this.#slotSizeBig = BigInt(this.#slotSize);
    this.#rx = new FrameQueue(options.rxQueueLen, this.#slotSize);
    this.#receiver = options.receiver?.(this.stats, this.#slotSize) ?? null;
    this.#sender = options.sender?.(this.stats) ?? null;
    this.#headroom = this.#sender?.headroom ?? 0;
    this.#txMax = this.#sender?.maxLen ?? mtu;
    this.#tx = new Uint8Array(this.#headroom + this.#txMax);
    this.#txView = this.#tx.subarray(this.#headroom, this.#headroom + mtu);
    this.#txBase = this.#tx;
    this.#hold = options.coalesceAcks === true ? new Uint8Array(this.#headroom + HOLD_SIZE) : null;
    this.#holdFrame = this.#hold?.subarray(this.#headroom) ?? null;
    this.#ethernet = options.capabilities.medium === "ethernet";
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
    if (options.deferLoop !== true) this.#loop = this.#run();
  }

  /** Starts the reader loop of an engine made with `deferLoop`. */
  startLoop(): void {
    this.#loop = this.#run();
  }

  /**
   * Hands reading to a reader thread with a ring of `slots` frames (an engine made with
   * `deferLoop`, without a receive path of its own): `receive` takes frames from the ring it
   * fills, and the readiness callback runs when frames arrive after `receive` found none. Its
   * polls, full-ring waits and read errors count in `readerWakeups`, `rxQueueFull` and
   * `readErrors`. Rejects when the worker cannot start (the engine is then left to `close`).
   * `module` replaces the worker's module (for tests).
   */
  async startReader(slots: number, module?: string): Promise<void> {
    const lib = this.#lib;
    const one = new Uint8Array(8);
    one[0] = 1;
    const ring = await RxRing.start(
      this.#fd,
      this.#eventFd,
      slots,
      (this.#slotSize + 63) & ~63,
      (fd) => lib.symbols.write(fd, one, 8n),
      module,
    );
    this.#reader = ring;
    this.#halt = Promise.withResolvers<void>();
    ring.onDeath((e) => this.#threadDied("reader", e));
    ring.linkStats(this.stats);
    this.#loop = this.#watch(ring, this.#halt.promise);
  }

  /** The reader-thread loop: waits for frames after `receive` found none, then wakes the stack. */
  async #watch(ring: RxRing, halt: Promise<void>): Promise<void> {
    while (this.#state === "open") {
      const wait = ring.wait();
      if (wait !== null) await Promise.race([wait, halt]);
      if (this.#state !== "open") break;
      const failure = ring.failure();
      if (failure !== null) {
        const [revents, code, run] = failure;
        this.#fail(
          this.#classify(revents, code) ??
            (run > 0 ? this.#failedReads(run, code) : new Error(
              `${this.#label}: the reader thread stopped: revents ${revents}, errno ${code}`,
            )),
        );
        break;
      }
      this.#onReadable?.();
    }
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
    return this.#reader !== null ? this.#reader.available : this.#rx.length;
  }

  /** Bytes of the largest frame `commit` writes, offload header included (a ring slot's size). */
  get txFrameSize(): number {
    return this.#tx.length;
  }

  /**
   * Hands writing to a writer thread: from now on `commit` only fills and publishes ring slots,
   * and the frame, byte, busy and error counters of sent frames are the worker's. Call once,
   * before the first `transmit`; `close` stops the worker after the published frames are written.
   */
  useWriter(ring: TxRing): void {
    this.#ring = ring;
    ring.onDeath((e) => this.#threadDied("writer", e));
    const s = this.stats;
    const own: TxCounters = {
      framesSent: s.framesSent,
      bytesSent: s.bytesSent,
      dropsTxBusy: s.dropsTxBusy,
      writeErrors: s.writeErrors,
    };
    this.#txStats = own;
    Object.defineProperties(s, {
      framesSent: { get: () => own.framesSent + ring.framesSent, enumerable: true },
      bytesSent: { get: () => own.bytesSent + ring.bytesSent, enumerable: true },
      dropsTxBusy: { get: () => own.dropsTxBusy + ring.dropsTxBusy, enumerable: true },
      writeErrors: { get: () => own.writeErrors + ring.writeErrors, enumerable: true },
    });
  }

  /** The segment size of the super-frame `receive` returned last (0: not a super-frame). */
  get receivedSegmentSize(): number {
    return this.#rxSegment;
  }

  receive(_now: Instant): Uint8Array | null {
    let frame: Uint8Array | null;
    const reader = this.#reader;
    this.#rxSegment = 0;
    if (reader !== null) {
      frame = this.#state === "open" || this.#state === "failed" ? reader.next() : null;
      while (frame !== null && frame.length > this.#rxFrameSize) {
        this.stats.dropsOversize++;
        frame = reader.next();
      }
    } else {
      let seg = this.#rx.peekStamp(); // the frame's segment size (see `#accept`)
      frame = this.#rx.pop();
      // Ring empty: read the fd here rather than wait for the loop's poll (a worker-thread round
      // trip and an event-loop turn); frames that keep coming are taken without either. Not
      // while reads keep failing: the loop retries them, pausing.
      if (
        frame === null && this.#state === "open" && this.#readFailures < 2 && this.#pull()
      ) {
        seg = this.#rx.peekStamp();
        frame = this.#rx.pop();
      }
      if (frame !== null) this.#rxSegment = seg;
    }
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
    if (frame === null) {
      // The stack has taken every frame of this burst: the ACK it answered with leaves now.
      this.#receiving = false;
      if (this.#holdLen !== 0) this.#flushHeld();
      return null;
    }
    this.#receiving = true;
    this.#rxSinceWrite += frame.length;
    this.stats.framesReceived++;
    this.stats.bytesReceived += frame.length;
    return frame;
  }

  canTransmit(_now: Instant): boolean {
    if (this.#state !== "open") return false;
    return this.#ring === null || this.#ring.free() > (this.#holdLen !== 0 ? 1 : 0);
  }

  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pendingLen = -1;
    if (len > this.#txMax || (len >>> 0) !== len) {
      this.stats.dropsTooBig++;
      return null;
    }
    if (this.#state !== "open") return null;
    const ring = this.#ring;
    if (ring !== null) {
      // A held ACK leaves before this frame if this frame does not replace it: keep the slot
      // in front free for it.
      const k = this.#holdLen !== 0 ? 1 : 0;
      if (ring.free() <= k) {
        this.stats.txQueueFull++;
        return null;
      }
      const i = ring.index(k);
      const base = ring.slot(k);
      let view = this.#slotViews[i];
      if (view === undefined || view.length !== len) {
        view = this.#slotViews[i] = base.subarray(this.#headroom, this.#headroom + len);
      }
      this.#txK = k;
      this.#txBase = base;
      this.#txView = view;
      this.#pendingLen = len;
      return view;
    }
    this.#txBase = this.#tx;
    this.#pendingLen = len;
    if (this.#txView.length !== len) {
      this.#txView = this.#tx.subarray(this.#headroom, this.#headroom + len);
    }
    return this.#txView;
  }

  commit(): void {
    const len = this.#pendingLen;
    if (len < 0) return;
    this.#pendingLen = -1;
    if (this.#state !== "open") return;
    this.#inCommit = true;
    this.#commit(len);
    this.#inCommit = false;
    if (this.#pub !== 0) {
      this.#ring!.publish(this.#pub);
      this.#pub = 0;
    }
  }

  #commit(len: number): void {
    const buf = this.#txBase;
    let total = len;
    if (this.#sender !== null) {
      total = this.#sender.prepare(buf, len);
      if (total < 0) return;
    }
    const hold = this.#hold;
    // Only an ACK answering a frame of the burst being received waits: one sent after the
    // burst (a delayed ACK, a window update) would wait for a `receive` that may not come soon.
    if (hold !== null && this.#receiving) {
      const tcp = total <= hold.length ? pureAckOffset(this.#txView, this.#ethernet) : -1;
      if (tcp >= 0) {
        if (this.#holdLen !== 0) {
          if (
            this.#holdRun < MAX_ACK_RUN && tcp === this.#holdTcp &&
            supersedes(this.#holdFrame!, this.#txView, tcp)
          ) {
            this.stats.acksCoalesced++;
            this.#holdRun++;
          } else {
            this.#flushHeld();
          }
        }
        if (this.#rxSinceWrite >= ACK_BYTES) {
          // Enough arrived since the kernel last heard from us: this ACK (and the one it
          // replaced) leaves now.
          this.#holdLen = 0;
          this.#holdRun = 0;
          this.#write(buf, total, len);
          return;
        }
        for (let i = 0; i < total; i++) hold[i] = buf[i]!;
        this.#holdLen = total;
        this.#holdTcp = tcp;
        return;
      }
    }
    if (this.#holdLen !== 0) this.#flushHeld();
    this.#write(buf, total, len);
  }

  /**
   * Writes `total` bytes of `buf` (`len` of them the frame) and counts the outcome. In ring mode
   * `buf` is the frame being committed, already in its slot: it is marked for publishing.
   */
  #write(buf: Uint8Array, total: number, len: number): void {
    const ring = this.#ring;
    // A pure ACK is written here when the worker has written everything before it: the order
    // holds, and the kernel sends the data it was waiting for without a thread wake-up first.
    if (ring !== null && (len > HOLD_SIZE || !this.#idle(ring))) {
      // The slot in front was kept for a held ACK that this frame replaced: skip it.
      if (this.#txK === 1 && this.#pub === 0) ring.fill(0, 0, 0);
      ring.fill(this.#txK, total, len);
      this.#pub = this.#txK + 1;
      if (len > HOLD_SIZE) this.#wrote = true;
      this.#rxSinceWrite = 0;
      return;
    }
    const n = this.#lib.symbols.write(this.#fd, buf, BigInt(total));
    if (n === total) {
      // The kernel answers inside the write: its receive path sends the ACK for data, and the
      // data an ACK lets out (the TUN has no pacing qdisc, and a TUN's queued frames do not
      // count against TCP small queues), so a read finds the answer at once.
      this.#wrote = true;
      this.#rxSinceWrite = 0;
      this.#txStats.framesSent++;
      this.#txStats.bytesSent += len;
      return;
    }
    const code = n < 0 ? errno(this.#lib) : Errno.EIO;
    if (code === Errno.EAGAIN || code === Errno.ENOBUFS) this.#txStats.dropsTxBusy++;
    else this.#txStats.writeErrors++;
  }

  /** Ring mode: nothing is published or being filled that the worker has not written. */
  #idle(ring: TxRing): boolean {
    return this.#pub === 0 && ring.inFlight === 0;
  }

  /**
   * Sends the held ACK. In ring mode it takes the slot in front: inside `commit` that slot was
   * kept for it; elsewhere it stays held while the ring is full.
   */
  #flushHeld(): void {
    const total = this.#holdLen;
    const ring = this.#ring;
    const queue = ring !== null && !this.#idle(ring);
    if (queue && !this.#inCommit && ring.free() === 0) return;
    this.#holdLen = 0;
    this.#holdRun = 0;
    if (this.#state !== "open") return;
    if (queue) {
      ring.put(0, this.#hold!, total, total - this.#headroom);
      this.#rxSinceWrite = 0;
      if (this.#inCommit) this.#pub = 1;
      else ring.publish(1);
      return;
    }
    this.#write(this.#hold!, total, total - this.#headroom);
  }

  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }

  nextDeadline(): Instant {
    // With a reader thread the kernel's answer wakes the stack through the ring.
    if (!this.#wrote || this.#state !== "open" || this.#reader !== null) return NEVER;
    this.#promised = true;
    return -Infinity;
  }

  /** Stops the loop through the eventfd, waits for it, closes both fds and the library. */
  close(): Promise<void> {
    if (this.#closeCall === null) this.#closeCall = this.#close();
    return this.#closeCall;
  }

  async #close(): Promise<void> {
    const ring = this.#ring;
    // A held ACK waits for a free slot of a full ring (the worker frees one per write), for at
    // most about a second; then it is dropped and counted.
    for (
      let i = 0;
      ring !== null && this.#holdLen !== 0 && this.#state === "open" && ring.free() === 0;
      i++
    ) {
      if (i === 1000) {
        this.#holdLen = 0;
        this.#txStats.dropsTxBusy++;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (this.#holdLen !== 0) this.#flushHeld();
    if (this.#state === "open") this.#state = "closing";
    this.#stopLoop();
    await this.#loop;
    await this.#reader?.close();
    // Every published frame is written before the fd closes.
    if (ring !== null) await ring.close();
    this.#lib.symbols.close(this.#fd);
    this.#lib.symbols.close(this.#eventFd);
    this.#lib.close();
    this.#rx.clear();
    if (this.#state !== "failed") {
      this.#state = "closed";
      this.#resolveClosed();
    }
  }

  /** Wakes the reader loop wherever it waits (its poll through the eventfd), so it ends. */
  #stopLoop(): void {
    if (this.#reader !== null) {
      // Stops the worker through the eventfd, and ends the loop's wait.
      void this.#reader.close();
      this.#halt?.resolve();
      return;
    }
    const one = new Uint8Array(8);
    one[0] = 1;
    this.#lib.symbols.write(this.#eventFd, one, 8n);
    this.#wakeIdle();
    const pause = this.#pauseWake;
    if (pause !== null) {
      clearTimeout(this.#pauseTimer);
      this.#pauseWake = null;
      pause();
    }
    const waiter = this.#spaceWaiter;
    if (waiter !== null) {
      this.#spaceWaiter = null;
      waiter();
    }
  }

  #wakeIdle(): void {
    const idle = this.#idleWaiter;
    if (idle !== null) {
      this.#idleWaiter = null;
      idle();
    }
  }

  /**
   * Reads from the fd into the empty ring for `receive`; true when a frame was appended. The
   * loop's poll is re-armed once a read here finds the fd empty.
   */
  #pull(): boolean {
    const before = this.#rx.length;
    if (!this.#drain(false)) return false;
    if (this.#drained) this.#wakeIdle();
    return this.#rx.length > before;
  }

  /** The error that ends the device after `run` failed reads in a row, the last with `code`. */
  #failedReads(run: number, code: number): Error {
    return osError(this.#lib, `${this.#label}: ${run} reads in a row failed`, code);
  }

  /** Counts a failed read that does not end the device. */
  #readFailed(code: number): void {
    this.stats.readErrors++;
    this.#readFailures++;
    this.#readErrno = code;
  }

  /** A worker thread died after it started: the device fails (its frames would never move). */
  #threadDied(which: string, cause: Error): void {
    if (this.#state !== "open") return;
    this.stats.threadFailures++;
    this.#fail(
      new Deno.errors.BrokenPipe(`${this.#label}: its ${which} thread died: ${cause.message}`, {
        cause,
      }),
    );
    // The reader loop is still waiting in poll: stop it like close() does.
    this.#stopLoop();
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
    this.#wakeIdle();
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
      if (this.#receiver?.staged === true) {
        if (!this.#drain(true)) break;
        continue;
      }
      // Frames were handed over: the stack reads on in `receive` until the fd is empty, and
      // only then is the poll armed again.
      // Likewise while the stack has promised a `receive` (a write may have been answered).
      if (!this.#drained || this.#promised) {
        await new Promise<void>((resolve) => this.#idleWaiter = resolve);
        continue;
      }
      // Reads keep failing (counted, not fatal): pause before the next try, give up at last.
      const run = this.#readFailures;
      if (run >= MAX_READ_FAILURES) {
        this.#fail(this.#failedReads(run, this.#readErrno));
        break;
      }
      if (run >= 2) {
        await new Promise<void>((resolve) => {
          this.#pauseWake = resolve;
          this.#pauseTimer = setTimeout(resolve, backoffMs(run));
        });
        this.#pauseWake = null;
        if (this.#state !== "open") break;
      }
      pv.setInt16(6, 0, true);
      pv.setInt16(14, 0, true);
      this.stats.readerWakeups++;
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
        if (n < 0) this.#readFailed(code);
        else {
          this.stats.readErrors++;
          this.#readFailures = 0;
          this.#accept(n);
        }
        continue;
      }
      const before = this.#rx.length;
      if (!this.#drain(true)) break;
      if (this.#rx.length > before) this.#drained = false;
    }
  }

  /**
   * Reads until EAGAIN or the ring fills (`#drained` tells which); false when a fatal error ended
   * the device. With `notify`, frames landing in an empty ring run the readiness callback.
   */
  #drain(notify: boolean): boolean {
    const wasEmpty = this.#rx.isEmpty();
    this.#drained = false;
    const receiver = this.#receiver;
    if (receiver !== null && receiver.staged) receiver.flush(this.#rx);
    let result = true;
    while (!this.#rx.isFull()) {
      const n = this.#readOne();
      if (n === -2) {
        if (receiver !== null && receiver.staged) receiver.flush(this.#rx);
        continue;
      }
      if (n === 0) {
        this.#drained = true; // end of file: nothing more to read
        break;
      }
      if (n < 0) {
        const code = errno(this.#lib);
        if (code === Errno.EAGAIN) {
          this.#drained = true;
          this.#wrote = false;
          this.#promised = false;
          this.#readFailures = 0;
          break;
        }
        if (code === Errno.EINTR) continue;
        const fatal = this.#classify(0, code);
        if (fatal !== null) {
          this.#fail(fatal);
          result = false;
          break;
        }
        this.#readFailed(code);
        this.#drained = true;
        break;
      }
      this.#readFailures = 0;
      this.#accept(n);
    }
    if (notify && wasEmpty && !this.#rx.isEmpty() && this.#onReadable !== null) {
      this.#onReadable();
    }
    return result;
  }

  /**
   * Reads one frame into the ring's tail slot (reserved, not committed); -1 on error, -2 for a
   * frame handled otherwise (an outgoing frame skipped, a super-frame staged for segmenting).
   */
  #readOne(): number {
    const slot = this.#rx.reserve(this.#slotSize);
    if (slot === null) return 0;
    if (this.#receiver !== null) return this.#receiver.read(slot);
    return this.#lib.symbols.read(this.#fd, slot, this.#slotSizeBig);
  }

  /** Commits a frame of `n` bytes read into the reserved slot, or counts why it is dropped. */
  #accept(n: number): void {
    if (n === -2 || n === 0) return;
    if (n > this.#slotSize) this.stats.dropsTruncated++;
    else if (n > this.#rxFrameSize) this.stats.dropsOversize++;
    else {
      this.#rx.reserve(n);
      // The stamp (unused otherwise here) carries the frame's segment size to `receive`.
      this.#rx.commit(this.#receiver?.segmentSize ?? 0);
    }
  }
}
