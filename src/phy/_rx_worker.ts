/**
 * Internal: the reader thread of `_rx_ring.ts`, run as a module Worker. It opens its own libc
 * handle, answers `ready`, then reads frames from the non-blocking device fd into the ring's
 * slots until EAGAIN, blocks in `poll()` on [fd, eventfd] until more come, waits for a free slot
 * when the ring is full, and wakes the stack only when it waits for frames (`WANT`). It stops on
 * `STOP` (answering `done`) or on a fatal error, which it records for the stack to classify.
 *
 * @module
 */

import {
  backoffMs,
  Errno,
  errno,
  MAX_READ_FAILURES,
  openLibc,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
} from "./_libc.ts";
import {
  C_FULL,
  C_POLLS,
  C_READ_ERRORS,
  COUNTERS_AT,
  dataOffset,
  ERR_CODE,
  ERR_REVENTS,
  ERR_RUN,
  FAILED,
  HEAD,
  LENS_AT,
  SEQ,
  SLEEP,
  STOP,
  TAIL,
  WAKE,
  WANT,
} from "./_rx_ring.ts";
import type { Libc } from "./_libc.ts";
import type { RxWorkerInit } from "./_rx_ring.ts";
import type { RingWorkerReply } from "./_ring_worker.ts";

/** Consecutive failed polls (other than EINTR) before the worker gives up. */
const MAX_POLL_FAILURES = 100;

interface WorkerScope {
  onmessage: ((e: MessageEvent<RxWorkerInit>) => void) | null;
  postMessage(reply: RingWorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e: MessageEvent<RxWorkerInit>) => {
  scope.onmessage = null;
  let lib: Libc;
  try {
    lib = openLibc();
  } catch (err) {
    scope.postMessage({ kind: "error", message: `Receive worker: ${(err as Error).message}` });
    return;
  }
  scope.postMessage({ kind: "ready" });
  run(lib, e.data);
  lib.close();
  scope.postMessage({ kind: "done" });
};

/** Reads frames into the ring until `STOP` or a fatal error. */
function run(lib: Libc, init: RxWorkerInit): void {
  const { sab, fd, eventFd, slots, slotSize } = init;
  const ctrl = new Int32Array(sab, 0, 16);
  const counters = new Float64Array(sab, COUNTERS_AT, 4);
  const lens = new Int32Array(sab, LENS_AT, slots);
  const data = new Uint8Array(sab, dataOffset(slots), slots * slotSize);
  const views: Uint8Array[] = [];
  for (let i = 0; i < slots; i++) views.push(data.subarray(i * slotSize, (i + 1) * slotSize));
  const size = BigInt(slotSize);
  const pfd = new Uint8Array(16);
  const pv = new DataView(pfd.buffer);
  pv.setInt32(0, fd, true);
  pv.setInt16(4, POLLIN, true);
  pv.setInt32(8, eventFd, true);
  pv.setInt16(12, POLLIN, true);
  let head = Atomics.load(ctrl, HEAD);
  let pollFailures = 0;
  /** Failed reads in a row, with neither a frame nor an empty fd (EAGAIN) between them. */
  let readFailures = 0;
  const clear = new Uint8Array(8);
  const fail = (revents: number, code: number) => {
    Atomics.store(ctrl, ERR_RUN, readFailures);
    Atomics.store(ctrl, ERR_REVENTS, revents);
    Atomics.store(ctrl, ERR_CODE, code);
    Atomics.store(ctrl, FAILED, 1);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
  };
  while (Atomics.load(ctrl, STOP) === 0) {
    if (((head - Atomics.load(ctrl, TAIL)) | 0) >= slots) {
      counters[C_FULL]!++;
      const wake = Atomics.load(ctrl, WAKE);
      Atomics.store(ctrl, SLEEP, 1);
      if (((head - Atomics.load(ctrl, TAIL)) | 0) >= slots && Atomics.load(ctrl, STOP) === 0) {
        Atomics.wait(ctrl, WAKE, wake);
      }
      Atomics.store(ctrl, SLEEP, 0);
      continue;
    }
    const s = (head >>> 0) % slots;
    const n = lib.symbols.read(fd, views[s]!, size);
    if (n > 0) {
      readFailures = 0;
      lens[s] = n;
      head = (head + 1) | 0;
      Atomics.store(ctrl, HEAD, head);
      if (Atomics.load(ctrl, WANT) !== 0) {
        Atomics.store(ctrl, WANT, 0);
        Atomics.add(ctrl, SEQ, 1);
        Atomics.notify(ctrl, SEQ);
      }
      continue;
    }
    const code = n < 0 ? errno(lib) : Errno.EIO;
    if (code === Errno.EINTR) continue;
    if (code === Errno.EAGAIN) {
      readFailures = 0;
      pv.setInt16(6, 0, true);
      pv.setInt16(14, 0, true);
      counters[C_POLLS]!++;
      if (lib.symbols.pollSync(pfd, 2n, -1) < 0) {
        // A signal handled on this thread ends the poll with EINTR (a CPU profiler's SIGPROF
        // every millisecond, under `--cpu-prof`): not a failure, poll again.
        const code = errno(lib);
        if (code !== Errno.EINTR && ++pollFailures >= MAX_POLL_FAILURES) return fail(0, code);
        continue;
      }
      pollFailures = 0;
      if ((pv.getInt16(14, true) & POLLIN) !== 0) {
        // close() sets STOP first; any other signal is cleared so the next poll blocks again.
        if (Atomics.load(ctrl, STOP) === 0) lib.symbols.read(eventFd, clear, 8n);
        continue;
      }
      const rev = pv.getInt16(6, true);
      if ((rev & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (rev & POLLIN) === 0) {
        // The read that fetches the pending error decides (the stack classifies it).
        const m = lib.symbols.read(fd, views[s]!, size);
        return fail(rev, m < 0 ? errno(lib) : 0);
      }
      continue;
    }
    // EBADF, EBADFD, EIO: the device is gone; anything else is counted and passed over, but a
    // read that keeps failing is retried after a growing pause (`close` cuts it short through
    // `WAKE`), and after MAX_READ_FAILURES in a row the worker gives up.
    if (code === Errno.EBADF || code === Errno.EBADFD || code === Errno.EIO) return fail(0, code);
    counters[C_READ_ERRORS]!++;
    if (++readFailures >= MAX_READ_FAILURES) return fail(0, code);
    const pause = backoffMs(readFailures);
    if (pause > 0) Atomics.wait(ctrl, WAKE, Atomics.load(ctrl, WAKE), pause);
  }
}
