/**
 * bench:loss helpers: the kernel-side peers (python3 scripts run in a namespace) and the child
 * process wrapper that talks to them and to the reordering relay line by line.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The kernel-side server (python3, one per server namespace; connections one after another).
 * A client's first line says what to do:
 * - `recv`: read to EOF, print `{"bytes":N,"seconds":S}` (S from the end of the command line to
 *   EOF), close;
 * - `send N CC SECS`: set TCP_CONGESTION to CC, send N bytes (or until SECS seconds passed),
 *   half-close, wait for the client's EOF, print `{"bytes":N,"cc":CC}`, close.
 * Exits when its stdin closes.
 */
export const PY_SERVER = String.raw`
import json, os, socket, sys, threading, time
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(4)
print("listening", flush=True)
block = memoryview(bytearray(os.urandom(1 << 20)))
buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept()
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        line += b
    parts = line.decode().split()
    out = {"error": "bad command %r" % line}
    try:
        if parts and parts[0] == "recv":
            t0 = time.monotonic()
            n = 0
            while True:
                k = c.recv_into(buf)
                if not k:
                    break
                n += k
            out = {"bytes": n, "seconds": time.monotonic() - t0}
        elif len(parts) == 4 and parts[0] == "send":
            total, cc, secs = int(parts[1]), parts[2], float(parts[3])
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
            got = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
            end = time.monotonic() + secs
            n = 0
            while n < total and time.monotonic() < end:
                k = min(len(block), total - n)
                c.sendall(block[:k])
                n += k
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
            out = {"bytes": n, "cc": got.rstrip(b"\0").decode()}
    except OSError as e:
        out = {"error": str(e)}
    print(json.dumps(out), flush=True)
    c.close()
`;

/**
 * The Linux sender (python3, one process per transfer): `HOST PORT N CC SECS` connects with
 * TCP_CONGESTION CC, sends `recv`, then N bytes (or until SECS seconds passed), half-closes and
 * waits for the server's close; prints `{"bytes":N,"cc":CC}`.
 */
export const PY_CLIENT = String.raw`
import json, os, socket, sys, time
host, port, total, cc, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
got = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
c.connect((host, port))
c.sendall(b"recv\n")
block = memoryview(bytearray(os.urandom(1 << 20)))
end = time.monotonic() + secs
n = 0
while n < total and time.monotonic() < end:
    k = min(len(block), total - n)
    c.sendall(block[:k])
    n += k
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
print(json.dumps({"bytes": n, "cc": got}), flush=True)
`;

/** A child process we started: line-oriented stdin/stdout, ended by PID. */
export interface Proc {
  readonly pid: number;
  /** The next stdout line; rejects after `timeoutMs` or when the process ended. */
  line(timeoutMs: number, what: string): Promise<string>;
  /** Writes one line to its stdin. */
  send(line: string): Promise<void>;
  /** Closes stdin, SIGKILLs it by PID if it still runs, and waits for it. */
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

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
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
      await writer.close().catch(() => {});
      if (!ended) {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
      }
      await status;
      await stderr;
    },
  };
}

/** Parses a JSON result line of a peer; throws with the peer's error text. */
export function parseResult<T>(line: string, what: string): T {
  let r: T & { error?: string };
  try {
    r = JSON.parse(line);
  } catch {
    throw new Error(`${what}: not a result line: ${line}`);
  }
  if (r.error !== undefined) throw new Error(`${what}: ${r.error}`);
  return r;
}
