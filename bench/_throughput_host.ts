/**
 * What the `--tun` rows of `bench/throughput.ts` create on the host (namespaces, devices,
 * processes) and how it is undone: in `finally` and on SIGINT/SIGTERM; also the commands they
 * run and the list of skipped rows.
 *
 * @module
 */

import { encoder } from "./_throughput_common.ts";
import { type Proc, spawnProc as startProc } from "./_proc.ts";

/** What to undo, newest first: run by `cleanUp()` in `finally` and on SIGINT/SIGTERM. */
export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

/** Set by SIGINT/SIGTERM: nothing new is started while the cleanup runs. */
let interrupted = false;

/** Whether SIGINT or SIGTERM came. */
export function isInterrupted(): boolean {
  return interrupted;
}
/** The resource being created, if any: the signal handler waits for it before cleaning up. */
let creating: Promise<unknown> = Promise.resolve();

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

export function onSignal(): void {
  if (interrupted) return;
  interrupted = true;
  Deno.stderr.writeSync(
    encoder.encode("\r\x1b[2Kinterrupted: removing namespace and processes\n"),
  );
  creating.then(cleanUp).finally(() => Deno.exit(130));
}

export function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

export async function runCmd(cmd: string, args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

export async function mustCmd(cmd: string, args: string[]): Promise<void> {
  const r = await runCmd(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.text.trim()}`);
}

/** Generous time for moving `bytes`: a minute, or 1 MB/s. */
export function budget(bytes: number): number {
  return Math.max(60_000, bytes / 1e3);
}

/** Starts `cmd` with piped stdio unless interrupted; the caller registers `kill` as a cleanup. */
export function spawnProc(cmd: string, args: string[]): Proc {
  if (interrupted) throw new Error("interrupted");
  return startProc(cmd, args);
}

/** The `--tun` rows that could not run, and why (printed, and in the JSON report). */
export const tunSkipped: string[] = [];

export function skip(what: string, why: string): void {
  if (interrupted) return; // the failure is the interruption's
  const text = `--tun: ${what} rows skipped: ${why}`;
  tunSkipped.push(text);
  Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  console.log(text);
}
