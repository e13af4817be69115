// Connection churn over TUN against Linux (issue 15; bench/tun_churn.ts measures it): 200
// concurrent connections each way, each carrying 4 KiB checked byte by byte, no reset, and every
// socket released afterwards. Our listener's backlog is small, so completing ACKs are held back
// by a full accept queue and must be brought in as accept() makes room. The 120 s bound is a hang
// guard only: a SYN dropped by the full queue costs the kernel 1, 3, 7, 15... s under load, while
// the listener that left held-back children to their timers hung the kernel clients for good.

import assert from "node:assert/strict";
import type { NetStack, TcpStream } from "../../mod.ts";
import { stateOf } from "../../src/net/_stack_state.ts";
import {
  interop,
  KERNEL_V4,
  KernelPeer,
  reportSkip,
  STACK_V4,
  withTimeout,
} from "./_kernel_peer.ts";

reportSkip("tun_churn_test.ts");

const N = 200;
const BYTES = 4096;
const BACKLOG = 8;

/**
 * python3 in the namespace. `connect HOST PORT N BYTES`: N connections at once (asyncio), each
 * reads to EOF and checks the pattern (byte i is i % 251). `serve HOST PORT BYTES`: sends each
 * connection the pattern and closes; ends when stdin closes. Prints one JSON line of results.
 */
const PY_CHURN = String.raw`
import asyncio, json, sys
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def pattern(n): return bytes(i % 251 for i in range(n))
async def client(n, size):
    want = pattern(size); res = {"ok": 0, "errors": {}}
    async def one():
        try:
            r, w = await asyncio.open_connection(host, port)
        except Exception as e:
            k = "connect " + type(e).__name__; res["errors"][k] = res["errors"].get(k, 0) + 1; return
        try:
            got = await r.read(-1)
            res["ok" if got == want else "short"] = res.get("ok" if got == want else "short", 0) + 1
        except Exception as e:
            k = "read " + type(e).__name__; res["errors"][k] = res["errors"].get(k, 0) + 1
        w.close()
    await asyncio.gather(*(one() for _ in range(n)))
    print(json.dumps(res), flush=True)
async def server(size):
    data = pattern(size)
    async def handle(r, w):
        w.write(data); await w.drain(); w.close()
    srv = await asyncio.start_server(handle, host, port, backlog=4096)
    print("listening", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
if mode == "connect": asyncio.run(client(int(sys.argv[4]), int(sys.argv[5])))
else: asyncio.run(server(int(sys.argv[4])))
`;

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % 251);
}

/** Waits until the stack holds only `n` sockets (released connections are reaped on close). */
async function socketsDownTo(stack: NetStack, n: number): Promise<number> {
  const set = stateOf(stack)!.sockets;
  for (let i = 0; i < 200 && set.size > n; i++) await new Promise((r) => setTimeout(r, 25));
  return set.size;
}

Deno.test({
  name:
    "tun churn: 200 concurrent kernel clients against our listener (backlog 8), byte-exact, none reset, all released",
  ...interop,
  async fn() {
    await using peer = await KernelPeer.create();
    const stack = peer.stack();
    const listener = stack.listen({ port: 7000, backlog: BACKLOG });
    const data = pattern(BYTES);
    const serving: Promise<void>[] = [];
    const accepting = (async () => {
      for (let i = 0; i < N; i++) {
        const c = await listener.accept();
        serving.push((async () => {
          for (let off = 0; off < data.length;) off += await c.write(data.subarray(off));
          c.close();
        })());
      }
    })();
    const clients = peer.python(PY_CHURN, ["connect", STACK_V4, "7000", String(N), String(BYTES)]);
    const out = await withTimeout(clients.output, 120_000, "kernel clients").catch((e) => {
      const set = stateOf(stack)!.sockets;
      const why = JSON.stringify({ ...listener.info, heldBack: listener.socket.heldBack });
      throw new Error(`${e.message}; listener ${why}; sockets ${set.size}`);
    });
    await withTimeout(accepting, 10_000, "accepting");
    await Promise.all(serving);
    assert.equal(out.code, 0, out.stderr);
    assert.deepStrictEqual(JSON.parse(out.stdout), { ok: N, errors: {} });
    const info = listener.info;
    assert.equal(info.accepted, N);
    assert.equal(listener.socket.heldBack, 0);
    // Only the listener is left; we closed first, so each connection is a TIME-WAIT record.
    assert.equal(await socketsDownTo(stack, 1), 1);
    assert.equal(stateOf(stack)!.sockets.timeWaitCount, N);
    listener.close();
  },
});

Deno.test({
  name:
    "tun churn: 200 concurrent connects of ours to a kernel listener, byte-exact, none reset, all released",
  ...interop,
  async fn() {
    await using peer = await KernelPeer.create();
    const stack = peer.stack();
    // Its stdin stays open: dispose() ends it by PID.
    peer.python(PY_CHURN, ["serve", KERNEL_V4, "7001", String(BYTES)], { stdin: true });
    await peer.waitListening(7001);
    const want = pattern(BYTES);
    const results = await withTimeout(
      Promise.all(Array.from({ length: N }, async () => {
        const c: TcpStream = await stack.connect({ hostname: KERNEL_V4, port: 7001 });
        const got = new Uint8Array(BYTES + 1);
        let n = 0;
        for (let k = await c.read(got.subarray(n)); k !== null; k = await c.read(got.subarray(n))) {
          n += k;
          if (n === got.length) break;
        }
        c.close();
        return n === BYTES && got.subarray(0, n).every((b, i) => b === want[i]);
      })),
      60_000,
      "our clients",
    );
    assert.equal(results.filter((ok) => ok).length, N);
    // The kernel closed first: nothing of ours stays, not even a TIME-WAIT record.
    assert.equal(await socketsDownTo(stack, 0), 0);
    assert.equal(stateOf(stack)!.sockets.timeWaitCount, 0);
  },
});
