/**
 * The Worker threads of this test process (Deno names them `worker-N`), by thread id, read from
 * /proc through `cat`: Deno asks for --allow-all to read /proc/<pid>/task directly, and the test
 * task runs with named permissions (--allow-run). `deno task test` runs modules in parallel in one
 * process, so a test looks only at the threads that appeared while it opened its own device, never
 * at the process's whole count.
 * @module
 */

import assert from "node:assert/strict";

/** Thread ids of this process's Worker threads. */
export function workerTids(): Set<string> {
  const out = new Deno.Command("sh", {
    args: ["-c", `grep -H . /proc/${Deno.pid}/task/*/comm 2>/dev/null; true`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const tids = new Set<string>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    // /proc/<pid>/task/<tid>/comm:<name>
    const m = /\/task\/(\d+)\/comm:(.*)$/.exec(line);
    if (m !== null && m[2]!.startsWith("worker-")) tids.add(m[1]!);
  }
  return tids;
}

/** The Worker threads alive now that were not in `before`. */
export function newWorkers(before: Set<string>): Set<string> {
  const now = workerTids();
  for (const tid of before) now.delete(tid);
  return now;
}

/**
 * Waits (up to 10 s: a thread that has finished its work may wait for a core on a loaded machine)
 * until none of `tids` is alive; returns those still alive.
 */
export async function untilGone(tids: Set<string>): Promise<string[]> {
  for (let i = 0;; i++) {
    const alive = workerTids();
    const left = [...tids].filter((tid) => alive.has(tid));
    if (left.length === 0 || i === 500) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Asserts that `tids` (the threads a test started) is not empty and that all of them ended. */
export async function assertThreadsEnded(tids: Set<string>): Promise<void> {
  assert.ok(tids.size >= 1, "no worker thread started");
  assert.deepEqual(await untilGone(tids), [], "the worker's thread is still alive");
}
