/**
 * What the `--tun` rows of `bench/throughput.ts` create on the host (namespaces, devices,
 * processes) and how it is undone (`_cleanup.ts`): in `finally` and on SIGINT/SIGTERM; also the
 * commands they run and the list of skipped rows.
 *
 * @module
 */

import { encoder } from "./_throughput_common.ts";
import { type Proc, spawnProc as startProc } from "./_proc.ts";
import { interruptHandler, isInterrupted } from "./_cleanup.ts";

export { acquire, cleanUp, isInterrupted, onCleanup } from "./_cleanup.ts";
export { must, offloadsOff, quietIpv6, randomHex, run } from "../tests/phy/_netns.ts";

/** The SIGINT/SIGTERM listener of the `--tun` rows. */
export const onSignal: () => void = interruptHandler(
  "\r\x1b[2Kinterrupted: removing namespace and processes\n",
);

/** Generous time for moving `bytes`: a minute, or 1 MB/s. */
export function budget(bytes: number): number {
  return Math.max(60_000, bytes / 1e3);
}

/** Starts `cmd` with piped stdio unless interrupted; the caller registers `kill` as a cleanup. */
export function spawnProc(cmd: string, args: string[]): Proc {
  if (isInterrupted()) throw new Error("interrupted");
  return startProc(cmd, args);
}

/** The `--tun` rows that could not run, and why (printed, and in the JSON report). */
export const tunSkipped: string[] = [];

export function skip(what: string, why: string): void {
  if (isInterrupted()) return; // the failure is the interruption's
  const text = `--tun: ${what} rows skipped: ${why}`;
  tunSkipped.push(text);
  Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  console.log(text);
}
