/**
 * A download from the kernel through a device under test: python3 in the device's namespace
 * serves a byte pattern over TCP on 192.0.2.1:5001 and a NetStack on the device fetches it,
 * checking every byte. Shared by the reader and writer thread tests.
 *
 * @module
 */

import type { NetStack } from "../../src/net/stack.ts";

/** python3: serves `n` bytes (byte i is i % 251) on 192.0.2.1:5001 to one client, prints `n`. */
const PY_SERVE = String.raw`
import socket, sys
n = int(sys.argv[1])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 5001)); ls.listen(1); print("listening", flush=True)
c, _ = ls.accept()
block = bytes(i % 251 for i in range(251 * 256)); sent = 0
while sent < n:
    k = min(len(block) - sent % 251, n - sent)
    c.sendall(block[sent % 251:sent % 251 + k]); sent += k
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
print(sent, flush=True)
`;

/** What a {@linkcode downloadPattern} saw. */
export interface DownloadResult {
  /** Bytes the stack received. */
  readonly got: number;
  /** The offset of the first byte that differs from the pattern, or -1. */
  readonly bad: number;
  /** What the kernel side says it sent (its last output line). */
  readonly sent: string;
}

/**
 * Downloads `bytes` from a python3 server in namespace `ns` (on 192.0.2.1) through `stack`,
 * then half-closes; the server ends when it sees our FIN. The server process is awaited (and
 * killed first if the download failed).
 */
export async function downloadPattern(
  stack: NetStack,
  ns: string,
  bytes: number,
): Promise<DownloadResult> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, "python3", "-u", "-c", PY_SERVE, String(bytes)],
    stdout: "piped",
  }).spawn();
  let ok = false;
  try {
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await out.read()).value ?? "";
    const conn = await stack.connect({ hostname: "192.0.2.1", port: 5001 });
    const buf = new Uint8Array(65536);
    let got = 0;
    let bad = -1;
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== (got + i) % 251) bad = got + i;
      got += n;
    }
    await conn.closeWrite();
    for (let r = await out.read(); !r.done; r = await out.read()) text += r.value;
    conn.close();
    ok = true;
    return { got, bad, sent: text.split("\n")[1]!.trim() };
  } finally {
    if (!ok) {
      try {
        child.kill("SIGKILL");
      } catch { /* already ended */ }
    }
    await child.status;
  }
}
