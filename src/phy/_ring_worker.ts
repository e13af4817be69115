/**
 * Internal: starting and watching the Worker behind a shared ring (`_tx_ring.ts` writer,
 * `_rx_ring.ts` reader). The worker opens its own libc handle and answers `ready`, later `done`
 * once it has stopped, or `error` when it cannot start. A worker that dies after `ready` (an
 * uncaught error) is reported once to the ring's owner, which fails the device.
 *
 * @module
 */

/** The worker's replies: `ready` once libc is open, `done` after `STOP`, or a startup error. */
export type RingWorkerReply =
  | { readonly kind: "ready" }
  | { readonly kind: "done" }
  | { readonly kind: "error"; readonly message: string };

/** A started ring worker. */
export interface RingWorker {
  /** The Worker (terminated by the ring's `close`). */
  readonly worker: Worker;
  /** Settles when the worker answered `done` or died. */
  readonly done: Promise<void>;
  /** Sets what runs, once, when the worker dies after it started. */
  onDeath(callback: (error: Error) => void): void;
}

/**
 * Starts the module `url` as a Worker named `name`, posts `init` and resolves once it answered
 * `ready`; rejects (and terminates it) when it fails to start. `what` names it in messages
 * (`Transmit worker`).
 */
export async function startRingWorker(
  url: string,
  name: string,
  what: string,
  init: unknown,
): Promise<RingWorker> {
  const worker = new Worker(url, { type: "module", name });
  let started = false;
  let death: ((error: Error) => void) | null = null;
  let died: Error | null = null;
  let onReply!: (reply: RingWorkerReply) => void;
  let onFailure!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReply = (r) =>
      r.kind === "ready" ? resolve() : reject(
        new Error(r.kind === "error" ? r.message : `${what}: unexpected reply "${r.kind}"`),
      );
    onFailure = reject;
  });
  const done = new Promise<void>((resolve) => {
    worker.onmessage = (e: MessageEvent<RingWorkerReply>) => {
      if (e.data.kind === "done") resolve();
      else onReply(e.data);
    };
    // A worker that dies (a thrown error, a failed import) settles both waits.
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const error = new Error(`${what} failed: ${e.message}`);
      if (!started) onFailure(error);
      else if (death !== null) death(error);
      else died = error;
      resolve();
    };
  });
  worker.postMessage(init);
  try {
    await ready;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  started = true;
  return {
    worker,
    done,
    onDeath(callback) {
      death = callback;
      if (died !== null) callback(died);
    },
  };
}
