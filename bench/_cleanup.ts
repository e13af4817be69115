/**
 * The undo stack of the benchmarks that create namespaces, devices and processes
 * (`bench/loss.ts`, `bench/throughput.ts --tun`): each undo is registered with what it undoes,
 * and they run newest first in `finally` and on SIGINT/SIGTERM, after the resource being
 * created has been registered.
 *
 * @module
 */

/** What to undo, newest first. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
/** Set by SIGINT/SIGTERM: nothing new is started while the cleanup runs. */
let interrupted = false;
/** The resource being created, if any: the signal handler waits for it before cleaning up. */
let creating: Promise<unknown> = Promise.resolve();

/** Whether SIGINT or SIGTERM came (nothing new starts then). */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Runs every registered undo, newest first; a failing one is reported and the rest still run. */
export async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

/** Registers an undo. */
export function onCleanup(undo: () => Promise<unknown> | unknown): void {
  cleanups.push(undo);
}

/** Creates a resource and registers its undo in one step a signal cannot split. */
export function acquire<T>(make: () => Promise<T>, undo: (x: T) => unknown): Promise<T> {
  if (interrupted) return Promise.reject(new Error("interrupted"));
  const p = make().then((x) => {
    cleanups.push(() => undo(x));
    return x;
  });
  creating = p.catch(() => {});
  return p;
}

/**
 * A SIGINT/SIGTERM listener: the first signal writes `message` to stderr, waits for the resource
 * being created, runs the cleanup and exits with 130; later ones do nothing. Work still in
 * flight fails as the cleanup closes what it used: such failures are the interruption's, and an
 * unhandled one must not end the process before the cleanup has run.
 */
export function interruptHandler(message: string): () => void {
  return () => {
    if (interrupted) return;
    interrupted = true;
    globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());
    Deno.stderr.writeSync(new TextEncoder().encode(message));
    creating.then(cleanUp).finally(() => Deno.exit(130));
  };
}
