/**
 * A stand-in for the reader thread (`src/phy/_rx_worker.ts`) that dies on purpose: it answers
 * `ready` like the real one, then waits in `poll` on the device fd and the stop eventfd, and
 * throws (an uncaught error ends the Worker) as soon as the device fd becomes readable. A stop
 * through the eventfd ends it cleanly. Used by `ring_worker_test.ts`.
 * @module
 */

import { openLibc, POLLIN } from "../../src/phy/_libc.ts";
import type { RxWorkerInit } from "../../src/phy/_rx_ring.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<RxWorkerInit>) => void) | null;
  postMessage(reply: unknown): void;
};

scope.onmessage = (e: MessageEvent<RxWorkerInit>) => {
  scope.onmessage = null;
  const lib = openLibc();
  scope.postMessage({ kind: "ready" });
  const pfd = new Uint8Array(16);
  const pv = new DataView(pfd.buffer);
  pv.setInt32(0, e.data.fd, true);
  pv.setInt16(4, POLLIN, true);
  pv.setInt32(8, e.data.eventFd, true);
  pv.setInt16(12, POLLIN, true);
  while (lib.symbols.pollSync(pfd, 2n, -1) < 0);
  const stopped = (pv.getInt16(14, true) & POLLIN) !== 0;
  lib.close();
  if (stopped) {
    scope.postMessage({ kind: "done" });
    return;
  }
  throw new Error("killed by the test");
};
