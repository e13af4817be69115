/**
 * Internal: the writer thread of the file-descriptor devices. The stack's thread builds frames
 * straight into the slots of a ring in a `SharedArrayBuffer` and publishes them; a Worker
 * (`_tx_worker.ts`) with its own libc handle writes them to the fd in order, with blocking
 * calls. On a TUN device the kernel runs its whole receive path (IP, TCP, the ACK it answers
 * with) inside each `write`: on the writer thread that work no longer stops the stack.
 *
 * Shared layout (one `SharedArrayBuffer`, offsets in bytes):
 * - `[0, 64)` control, `Int32Array`: `HEAD` frames published (stack), `TAIL` frames written or
 *   dropped (worker), `STOP` set by `close`, `SLEEP` the worker is about to wait, `WAKE` bumped
 *   (and notified) by a publish that saw `SLEEP` and by `close`: the worker waits on it;
 * - `[64, 96)` counters, `Float64Array`, written by the worker only: frames and bytes written,
 *   frames dropped because the fd stayed full, frames refused with another error;
 * - `[96, 96 + 8n)` per slot: bytes to write (offload header included; 0 = skip) and the frame's
 *   own length;
 * - then `n` slots of `slotSize` bytes, each starting on a 64-byte boundary.
 *
 * HEAD and TAIL count frames modulo 2^32; the slot of frame `i` is `i % n`.
 *
 * @module
 */

import { type RingWorker, startRingWorker } from "./_ring_worker.ts";

/** Control word indices. */
export const HEAD = 0;
/** Frames the worker has finished with. */
export const TAIL = 1;
/** Non-zero: write what is published, then exit. */
export const STOP = 2;
/** The worker is about to wait (a publish then bumps and notifies `WAKE`). */
export const SLEEP = 3;
/**
 * The word the worker waits on. It reads `WAKE` before it checks `HEAD` and `STOP`, so a bump
 * between that check and its wait makes the wait return at once: no wake-up is lost.
 */
export const WAKE = 4;
/** Counter indices (`Float64Array`). */
export const C_FRAMES = 0;
/** Bytes of frames written (without the offload header). */
export const C_BYTES = 1;
/** Frames dropped after the fd stayed full (EAGAIN/ENOBUFS). */
export const C_BUSY = 2;
/** Frames the kernel refused with another error. */
export const C_ERRORS = 3;
/** Byte offset of the counters. */
export const COUNTERS_AT = 64;
/** Byte offset of the per-slot lengths. */
export const LENS_AT = 96;

/** Byte offset of the first slot for `slots` slots. */
export function dataOffset(slots: number): number {
  return (LENS_AT + slots * 8 + 63) & ~63;
}

/** Rounds a slot size up to a 64-byte boundary. */
export function alignSlot(size: number): number {
  return (size + 63) & ~63;
}

/** The message that starts the worker. */
export interface TxWorkerInit {
  /** The shared ring. */
  readonly sab: SharedArrayBuffer;
  /** The device fd (shared by the process's threads). */
  readonly fd: number;
  /** Number of slots. */
  readonly slots: number;
  /** Bytes per slot (a multiple of 64). */
  readonly slotSize: number;
}

/**
 * The stack's side of the ring: hands out slots, publishes frames, wakes the worker only when it
 * sleeps, reads the worker's counters, and stops it on `close` after the published frames are
 * written.
 */
export class TxRing {
  /** Number of slots. */
  readonly slots: number;
  /** A view of each whole slot, made once. */
  readonly #views: Uint8Array[] = [];
  readonly #ctrl: Int32Array;
  readonly #counters: Float64Array;
  readonly #lens: Int32Array;
  readonly #data: Uint8Array;
  readonly #slotSize: number;
  readonly #w: RingWorker;
  #head = 0;
  #closing: Promise<void> | null = null;

  private constructor(
    sab: SharedArrayBuffer,
    slots: number,
    slotSize: number,
    w: RingWorker,
  ) {
    this.slots = slots;
    this.#slotSize = slotSize;
    this.#ctrl = new Int32Array(sab, 0, 16);
    this.#counters = new Float64Array(sab, COUNTERS_AT, 4);
    this.#lens = new Int32Array(sab, LENS_AT, slots * 2);
    const at = dataOffset(slots);
    this.#data = new Uint8Array(sab, at, slots * slotSize);
    for (let i = 0; i < slots; i++) {
      this.#views.push(this.#data.subarray(i * slotSize, (i + 1) * slotSize));
    }
    this.#w = w;
  }

  /**
   * Starts the worker on `fd` and resolves once it has opened libc; rejects (and leaves nothing
   * running) when it cannot start.
   */
  static async start(fd: number, slots: number, frameSize: number): Promise<TxRing> {
    const slotSize = alignSlot(frameSize);
    const sab = new SharedArrayBuffer(dataOffset(slots) + slots * slotSize);
    const init: TxWorkerInit = { sab, fd, slots, slotSize };
    const url = new URL("./_tx_worker.ts", import.meta.url).href;
    const w = await startRingWorker(url, "smolnet-tx", "Transmit worker", init);
    return new TxRing(sab, slots, slotSize, w);
  }

  /**
   * Sets what runs (once) when the worker dies after it started, for example on an uncaught
   * error: frames published after that are never written.
   */
  onDeath(callback: (error: Error) => void): void {
    this.#w.onDeath(callback);
  }

  /** Slots free for publishing. */
  free(): number {
    return this.slots - ((this.#head - Atomics.load(this.#ctrl, TAIL)) | 0);
  }

  /** The index of the slot `k` places after the next one to publish. */
  index(k: number): number {
    return ((this.#head + k) >>> 0) % this.slots;
  }

  /** The view of the slot `k` places after the next one to publish (`k` < `free()`). */
  slot(k: number): Uint8Array {
    return this.#views[((this.#head + k) >>> 0) % this.slots]!;
  }

  /**
   * Sets the lengths of the slot `k` places ahead: `total` bytes to write (0: skip it) of which
   * `len` are the frame.
   */
  fill(k: number, total: number, len: number): void {
    const i = (((this.#head + k) >>> 0) % this.slots) * 2;
    this.#lens[i] = total;
    this.#lens[i + 1] = len;
  }

  /** Copies `total` bytes of `src` into slot `k` ahead and sets its lengths. */
  put(k: number, src: Uint8Array, total: number, len: number): void {
    const view = this.slot(k);
    view.set(src.length === total ? src : src.subarray(0, total));
    this.fill(k, total, len);
  }

  /** Hands `count` filled slots to the worker, in order; wakes it when it sleeps. */
  publish(count: number): void {
    this.#head = (this.#head + count) | 0;
    Atomics.store(this.#ctrl, HEAD, this.#head);
    if (Atomics.load(this.#ctrl, SLEEP) !== 0) this.#wake();
  }

  #wake(): void {
    Atomics.add(this.#ctrl, WAKE, 1);
    Atomics.notify(this.#ctrl, WAKE);
  }

  /** Frames written by the worker. */
  get framesSent(): number {
    return this.#counters[C_FRAMES]!;
  }

  /** Bytes of the frames written. */
  get bytesSent(): number {
    return this.#counters[C_BYTES]!;
  }

  /** Frames dropped because the fd stayed full. */
  get dropsTxBusy(): number {
    return this.#counters[C_BUSY]!;
  }

  /** Frames the kernel refused. */
  get writeErrors(): number {
    return this.#counters[C_ERRORS]!;
  }

  /** Frames published and not yet written. */
  get inFlight(): number {
    return (this.#head - Atomics.load(this.#ctrl, TAIL)) | 0;
  }

  /**
   * Asks the worker to write every published frame and exit, waits for it and terminates it.
   * Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing === null) {
      Atomics.store(this.#ctrl, STOP, 1);
      this.#wake();
      this.#closing = this.#w.done.then(() => this.#w.worker.terminate());
    }
    return this.#closing;
  }

  /** Bytes per slot. */
  get slotSize(): number {
    return this.#slotSize;
  }
}
