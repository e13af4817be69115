/**
 * Worker threads of this test process, read from /proc through `cat`: Deno asks for --allow-all to
 * read /proc/<pid>/task directly, and the test task runs with named permissions (--allow-run).
 * @module
 */

import assert from "node:assert/strict";

/** Names of this process's Worker threads (Deno names them `worker-N`). */
export function workerThreads(): string[] {
  const out = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${Deno.pid}/task/*/comm 2>/dev/null; true`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((n) => n.startsWith("worker-"));
}

/** Waits (up to 2 s) until the terminated workers' threads have exited, and asserts it. */
export async function noWorkerLeft(): Promise<void> {
  for (let i = 0; i < 100 && workerThreads().length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(workerThreads(), []);
}
