/**
 * Internal: the reader thread of the TUN/TAP device. A Worker (`_rx_worker.ts`) with its own libc
 * handle reads frames from the fd into the slots of a ring in a `SharedArrayBuffer`, blocking in
 * `poll()` when the fd is empty; the stack's thread takes them in `receive` with no system call,
 * as many as are ready, and is woken (one `Atomics.waitAsync` settling) only when it had found
 * the ring empty and said so.
 *
 * Shared layout (one `SharedArrayBuffer`, offsets in bytes):
 * - `[0, 64)` control, `Int32Array`: `HEAD` frames published (worker), `TAIL` frames released
 *   (stack), `STOP` set by `close`, `SLEEP` the worker waits for a free slot, `WAKE` bumped (and
 *   notified) by a release that saw `SLEEP` and by `close`, `WANT` the stack found the ring empty
 *   and waits, `SEQ` bumped and notified by a publish that saw `WANT`, `FAILED` and the fatal
 *   error's `ERR_REVENTS` / `ERR_CODE` / `ERR_RUN`;
 * - `[64, 96)` counters, `Float64Array`, written by the worker only: its polls, times it found
 *   the ring full, failed reads it counted and went on;
 * - `[96, 96 + 4n)` each slot's frame length;
 * - then `n` slots of `slotSize` bytes, each starting on a 64-byte boundary.
 *
 * HEAD and TAIL count frames modulo 2^32; the slot of frame `i` is `i % n`.
 *
 * @module
 */

import { type RingWorker, startRingWorker } from "./_ring_worker.ts";
import type { MutableHostDeviceStats } from "./_libc.ts";

/** Frames published by the worker. */
export const HEAD = 0;
/** Frames the stack has released. */
export const TAIL = 1;
/** Non-zero: the worker stops. */
export const STOP = 2;
/** The worker is about to wait for a free slot (a release then bumps and notifies `WAKE`). */
export const SLEEP = 3;
/** The word the worker waits on for a free slot (read before its check: no lost wake-up). */
export const WAKE = 4;
/** The stack found the ring empty: the next publish bumps and notifies `SEQ`. */
export const WANT = 5;
/** The word the stack's `Atomics.waitAsync` waits on. */
export const SEQ = 6;
/** Non-zero: the worker stopped on a fatal error (`ERR_REVENTS`, `ERR_CODE`). */
export const FAILED = 7;
/** The poll revents of the fatal error (0 when a read failed). */
export const ERR_REVENTS = 8;
/** The errno of the fatal error (0 when poll reported it). */
export const ERR_CODE = 9;
/**
 * Failed reads in a row when the worker stopped (0 unless it gave up on an error that a single
 * read would only count: `MAX_READ_FAILURES`).
 */
export const ERR_RUN = 10;
/** Counter indices (`Float64Array`): the worker's polls. */
export const C_POLLS = 0;
/** Times the worker found the ring full and waited. */
export const C_FULL = 1;
/** Failed reads counted and passed over. */
export const C_READ_ERRORS = 2;
/** Byte offset of the counters. */
export const COUNTERS_AT = 64;
/** Byte offset of the per-slot lengths. */
export const LENS_AT = 96;

/** Byte offset of the first slot for `slots` slots. */
export function dataOffset(slots: number): number {
  return (LENS_AT + slots * 4 + 63) & ~63;
}

/** The message that starts the worker. */
export interface RxWorkerInit {
  /** The shared ring. */
  readonly sab: SharedArrayBuffer;
  /** The device fd (non-blocking, shared by the process's threads). */
  readonly fd: number;
  /** An eventfd that `close` writes to end the worker's poll. */
  readonly eventFd: number;
  /** Number of slots. */
  readonly slots: number;
  /** Bytes per slot (a multiple of 64). */
  readonly slotSize: number;
}

/**
 * The stack's side of the reader ring: `next` lends the next frame (releasing the one lent
 * before), `wait` settles when frames arrive after `next` found none, `close` stops the worker.
 */
export class RxRing {
  /** Number of slots. */
  readonly slots: number;
  /** Bytes per slot. */
  readonly slotSize: number;
  readonly #ctrl: Int32Array;
  readonly #counters: Float64Array;
  readonly #lens: Int32Array;
  readonly #whole: Uint8Array[] = [];
  /** A frame view per slot, remade only when the length changes. */
  readonly #views: Uint8Array[] = [];
  readonly #w: RingWorker;
  readonly #eventFd: number;
  readonly #signal: (fd: number) => void;
  /** Frames published as last seen (a cached `HEAD`). */
  #head = 0;
  #tail = 0;
  #lent = false;
  #seq = 0;
  #closing: Promise<void> | null = null;

  private constructor(
    sab: SharedArrayBuffer,
    slots: number,
    slotSize: number,
    w: RingWorker,
    eventFd: number,
    signal: (fd: number) => void,
  ) {
    this.slots = slots;
    this.slotSize = slotSize;
    this.#ctrl = new Int32Array(sab, 0, 16);
    this.#counters = new Float64Array(sab, COUNTERS_AT, 4);
    this.#lens = new Int32Array(sab, LENS_AT, slots);
    const data = new Uint8Array(sab, dataOffset(slots), slots * slotSize);
    for (let i = 0; i < slots; i++) {
      const whole = data.subarray(i * slotSize, (i + 1) * slotSize);
      this.#whole.push(whole);
      this.#views.push(whole);
    }
    this.#w = w;
    this.#eventFd = eventFd;
    this.#signal = signal;
  }

  /**
   * Starts the worker reading `fd` into `slots` slots of `slotSize` bytes (a multiple of 64);
   * `close` writes `eventFd` through `signal` to end its poll. Resolves once it has opened libc;
   * rejects (and leaves nothing running) when it cannot start. `module` replaces the worker's
   * module (`_rx_worker.ts`): the tests run one that dies on purpose.
   */
  static async start(
    fd: number,
    eventFd: number,
    slots: number,
    slotSize: number,
    signal: (fd: number) => void,
    module: string = new URL("./_rx_worker.ts", import.meta.url).href,
  ): Promise<RxRing> {
    const sab = new SharedArrayBuffer(dataOffset(slots) + slots * slotSize);
    // The stack has not looked yet: the first frame wakes it.
    new Int32Array(sab, 0, 16)[WANT] = 1;
    const init: RxWorkerInit = { sab, fd, eventFd, slots, slotSize };
    const w = await startRingWorker(module, "smolnet-rx", "Receive worker", init);
    return new RxRing(sab, slots, slotSize, w, eventFd, signal);
  }

  /** Sets what runs (once) when the worker dies after it started. */
  onDeath(callback: (error: Error) => void): void {
    this.#w.onDeath(callback);
  }

  /**
   * Releases the frame lent before and lends the next one, valid until the next call; or
   * returns `null` when none is ready, after telling the worker to settle `wait` on the next.
   */
  next(): Uint8Array | null {
    const ctrl = this.#ctrl;
    if (this.#lent) this.#release();
    if (this.#tail === this.#head) {
      this.#head = Atomics.load(ctrl, HEAD);
      if (this.#tail === this.#head) {
        // Say so, then look again: a frame published in between is seen here or wakes `wait`.
        Atomics.store(ctrl, WANT, 1);
        this.#head = Atomics.load(ctrl, HEAD);
        if (this.#tail === this.#head) return null;
        Atomics.store(ctrl, WANT, 0);
      }
    }
    const i = (this.#tail >>> 0) % this.slots;
    const len = this.#lens[i]!;
    let view = this.#views[i]!;
    if (view.length !== len) view = this.#views[i] = this.#whole[i]!.subarray(0, len);
    this.#lent = true;
    return view;
  }

  /** Releases the frame lent by `next` without taking another (the stack dropped it). */
  #release(): void {
    this.#lent = false;
    this.#tail = (this.#tail + 1) | 0;
    Atomics.store(this.#ctrl, TAIL, this.#tail);
    if (Atomics.load(this.#ctrl, SLEEP) !== 0) {
      Atomics.add(this.#ctrl, WAKE, 1);
      Atomics.notify(this.#ctrl, WAKE);
    }
  }

  /** Frames ready and not yet lent. */
  get available(): number {
    return (Atomics.load(this.#ctrl, HEAD) - this.#tail - (this.#lent ? 1 : 0)) | 0;
  }

  /**
   * Settles when the worker published a frame after `next` found none (or failed, or `close`
   * was called); `null` when that already happened.
   */
  wait(): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.#ctrl, SEQ, this.#seq);
    if (!r.async) {
      this.#seq = Atomics.load(this.#ctrl, SEQ);
      return null;
    }
    return r.value.then(() => this.#seq = Atomics.load(this.#ctrl, SEQ));
  }

  /**
   * The worker's fatal error as `[revents, errno, failed reads in a row]`, or `null` while it
   * runs.
   */
  failure(): [number, number, number] | null {
    const ctrl = this.#ctrl;
    if (Atomics.load(ctrl, FAILED) === 0) return null;
    return [
      Atomics.load(ctrl, ERR_REVENTS),
      Atomics.load(ctrl, ERR_CODE),
      Atomics.load(ctrl, ERR_RUN),
    ];
  }

  /**
   * Makes `stats.readerWakeups`, `rxQueueFull` and `readErrors` read as the worker's counts
   * (polls, full-ring waits, failed reads) plus what `stats` held before. They become read-only:
   * with a reader thread only the worker counts them.
   */
  linkStats(stats: MutableHostDeviceStats): void {
    const link = (key: keyof MutableHostDeviceStats, worker: () => number) => {
      const before = stats[key];
      Object.defineProperty(stats, key, { get: () => before + worker(), enumerable: true });
    };
    link("readerWakeups", () => this.polls);
    link("rxQueueFull", () => this.fullCount);
    link("readErrors", () => this.readErrors);
  }

  /** Times the worker waited in `poll` for the fd. */
  get polls(): number {
    return this.#counters[C_POLLS]!;
  }

  /** Times the worker found the ring full. */
  get fullCount(): number {
    return this.#counters[C_FULL]!;
  }

  /** Failed reads the worker counted and passed over. */
  get readErrors(): number {
    return this.#counters[C_READ_ERRORS]!;
  }

  /**
   * Stops the worker (through `STOP`, the eventfd and `WAKE`), waits for it and terminates it,
   * and settles a pending `wait`. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing === null) {
      const ctrl = this.#ctrl;
      Atomics.store(ctrl, STOP, 1);
      this.#signal(this.#eventFd);
      Atomics.add(ctrl, WAKE, 1);
      Atomics.notify(ctrl, WAKE);
      Atomics.add(ctrl, SEQ, 1);
      Atomics.notify(ctrl, SEQ);
      this.#closing = this.#w.done.then(() => this.#w.worker.terminate());
    }
    return this.#closing;
  }
}
