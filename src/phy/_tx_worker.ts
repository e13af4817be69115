/**
 * Internal: the writer thread of `_tx_ring.ts`, run as a module Worker. It opens its own libc
 * handle, answers `ready`, then writes the published frames to the device fd in order with
 * blocking calls until `STOP`, and answers `done` once every published frame is written.
 *
 * @module
 */

import { Errno, errno, openLibc, POLLOUT } from "./_libc.ts";
import {
  C_BUSY,
  C_BYTES,
  C_ERRORS,
  C_FRAMES,
  COUNTERS_AT,
  dataOffset,
  HEAD,
  LENS_AT,
  SLEEP,
  STOP,
  TAIL,
  WAKE,
} from "./_tx_ring.ts";
import type { Libc } from "./_libc.ts";
import type { TxWorkerInit } from "./_tx_ring.ts";
import type { RingWorkerReply } from "./_ring_worker.ts";

/** How long one wait for room on a full fd lasts, in milliseconds. */
const FULL_WAIT_MS = 20;
/** Waits for room before a frame is dropped (counted in `dropsTxBusy`). */
const FULL_TRIES = 5;

interface WorkerScope {
  onmessage: ((e: MessageEvent<TxWorkerInit>) => void) | null;
  postMessage(reply: RingWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e: MessageEvent<TxWorkerInit>) => {
  scope.onmessage = null;
  let lib: Libc;
  try {
    lib = openLibc();
  } catch (err) {
    scope.postMessage({ kind: "error", message: `Transmit worker: ${(err as Error).message}` });
    return;
  }
  scope.postMessage({ kind: "ready" });
  run(lib, e.data);
  lib.close();
  scope.postMessage({ kind: "done" });
};

/** Writes published frames until `STOP` is set and nothing published is left. */
function run(lib: Libc, init: TxWorkerInit): void {
  const { sab, fd, slots, slotSize } = init;
  const ctrl = new Int32Array(sab, 0, 16);
  const counters = new Float64Array(sab, COUNTERS_AT, 4);
  const lens = new Int32Array(sab, LENS_AT, slots * 2);
  const data = new Uint8Array(sab, dataOffset(slots), slots * slotSize);
  const views: Uint8Array[] = [];
  for (let i = 0; i < slots; i++) views.push(data.subarray(i * slotSize, (i + 1) * slotSize));
  const pfd = new Uint8Array(8);
  const pv = new DataView(pfd.buffer);
  pv.setInt32(0, fd, true);
  pv.setInt16(4, POLLOUT, true);
  let tail = Atomics.load(ctrl, TAIL);
  for (;;) {
    if (Atomics.load(ctrl, HEAD) === tail) {
      const wake = Atomics.load(ctrl, WAKE);
      Atomics.store(ctrl, SLEEP, 1);
      if (Atomics.load(ctrl, HEAD) === tail) {
        if (Atomics.load(ctrl, STOP) !== 0) break;
        Atomics.wait(ctrl, WAKE, wake);
      }
      Atomics.store(ctrl, SLEEP, 0);
      continue;
    }
    const s = (tail >>> 0) % slots;
    const total = lens[s * 2]!;
    // A length beyond the slot would make `write` read past it: the ring is corrupt, so the
    // worker stops with an error (the device fails) rather than write foreign memory.
    if (total > slotSize || lens[s * 2 + 1]! > total) {
      throw new RangeError(`Invalid frame length ${total} in slot ${s} of ${slotSize} bytes`);
    }
    if (total > 0) {
      const outcome = writeFrame(lib, fd, views[s]!, total, pfd);
      if (outcome === 0) {
        counters[C_FRAMES]!++;
        counters[C_BYTES]! += lens[s * 2 + 1]!;
      } else if (outcome === 1) counters[C_BUSY]!++;
      else counters[C_ERRORS]!++;
    }
    tail = (tail + 1) | 0;
    Atomics.store(ctrl, TAIL, tail);
  }
}

/** Writes one frame: 0 written, 1 dropped because the fd stayed full, 2 refused. */
function writeFrame(
  lib: Libc,
  fd: number,
  view: Uint8Array,
  total: number,
  pfd: Uint8Array,
): 0 | 1 | 2 {
  const len = BigInt(total);
  for (let tries = 0;;) {
    const n = lib.symbols.write(fd, view, len);
    if (n === total) return 0;
    if (n >= 0) return 2; // a short write: the kernel took part of a frame
    const code = errno(lib);
    if (code === Errno.EINTR) continue;
    if (code !== Errno.EAGAIN && code !== Errno.ENOBUFS) return 2;
    if (++tries > FULL_TRIES) return 1;
    lib.symbols.pollSync(pfd, 1n, FULL_WAIT_MS);
  }
}
