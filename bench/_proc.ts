/**
 * Child processes of the benchmark scripts: started with piped stdio, read line by line with a
 * timeout, ended by PID (never by name).
 *
 * @module
 */

const encoder = new TextEncoder();

/** A child process we started: line-oriented stdin/stdout, ended by PID. */
export interface Proc {
  readonly pid: number;
  /** The next stdout line; rejects after `timeoutMs` or when the process ended. */
  line(timeoutMs: number, what: string): Promise<string>;
  /** Writes one line to its stdin. */
  send(line: string): Promise<void>;
  /** SIGKILLs it by PID if it still runs, closes its stdin and waits for it. */
  kill(): Promise<void>;
  /** Resolves when it ends on its own. */
  readonly status: Promise<Deno.CommandStatus>;
}

/** Rejects after `ms` with a message naming `what`, unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    for (let i = rest.indexOf("\n"); i >= 0; i = rest.indexOf("\n")) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
}

/** Starts `cmd args` with piped stdio. The caller registers `kill` as a cleanup. */
export function spawnProc(cmd: string, args: string[]): Proc {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const stdout = lines(child.stdout);
  const stderr = new Response(child.stderr).text().catch(() => "");
  let ended = false;
  const status = child.status.finally(() => ended = true);
  return {
    pid: child.pid,
    status,
    async line(timeoutMs: number, what: string): Promise<string> {
      const r = await withTimeout(stdout.next(), timeoutMs, what);
      if (r.done) {
        const s = await status;
        throw new Error(`${what}: ${cmd} exited ${s.code}: ${(await stderr).trim()}`);
      }
      return r.value;
    },
    async send(line: string): Promise<void> {
      await writer.write(encoder.encode(`${line}\n`));
    },
    async kill(): Promise<void> {
      if (!ended) {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
      }
      await writer.close().catch(() => {});
      await status;
      await stderr;
    },
  };
}
