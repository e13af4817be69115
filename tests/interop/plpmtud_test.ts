// Packetization-layer path MTU discovery against the Linux kernel through TUN: nftables in the
// kernel's namespace silently drops every IP packet over 1280 bytes that arrives from us (no ICMP,
// a black hole). Without probing our upload makes no progress; with `mtuProbing: "blackHole"`
// it detects the black hole after two timeouts, drops to the base size and probes up to the
// path's size, and the kernel receives every byte.
import assert from "node:assert/strict";
import {
  interop,
  KERNEL_V4,
  KernelPeer,
  reportSkip,
  withTimeout,
  writeAll,
} from "./_kernel_peer.ts";

reportSkip("plpmtud_test.ts");

/** Reads everything from one client, then prints the byte count. */
const PY_SINK = String.raw`
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(1)
c, _ = ls.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
print(n, flush=True)
c.close()
`;

const PATH_MTU = 1280;

/** A kernel peer whose namespace drops every IP packet over PATH_MTU bytes from us, silently. */
async function blackHolePeer(): Promise<KernelPeer> {
  const peer = await KernelPeer.create();
  try {
    await peer.must("nft", ["add", "table", "inet", "bh"]);
    await peer.must("nft", [
      ...["add", "chain", "inet", "bh", "in"],
      "{ type filter hook input priority 0 ; }",
    ]);
    await peer.must("nft", [
      ...["add", "rule", "inet", "bh", "in", "iifname", peer.ifname],
      ...["meta", "length", ">", String(PATH_MTU), "counter", "drop"],
    ]);
  } catch (e) {
    await peer.dispose();
    throw e;
  }
  return peer;
}

Deno.test({
  name: "interop: without mtuProbing an upload through the black hole makes no progress",
  ...interop,
  fn: async () => {
    await using peer = await blackHolePeer();
    const stack = peer.stack();
    peer.python(PY_SINK, ["5404"]); // never sees a byte; dispose() ends it by PID
    await peer.waitListening(5404);
    const conn = await stack.connect({ hostname: KERNEL_V4, port: 5404 });
    // Less than the initial send buffer: queued at once, whatever the path does.
    await withTimeout(writeAll(conn, new Uint8Array(20_000)), 10_000, "write");
    await new Promise((r) => setTimeout(r, 3000));
    const i = conn.info;
    assert.equal(i.sendQueue, 20_000); // nothing acknowledged
    assert.ok(i.rtos >= 2, `${i.rtos} timeouts`);
    assert.equal(i.mtuBlackHoles, 0);
    conn.close();
  },
});

for (const sack of [true, false]) {
  Deno.test({
    name: `interop: mtuProbing finds a black hole over 1280 bytes and the upload completes (${
      sack ? "SACK" : "no SACK"
    })`,
    ...interop,
    fn: async () => {
      await using peer = await blackHolePeer();
      const stack = peer.stack({ tcp: { mtuProbing: "blackHole", sack } });
      const server = peer.python(PY_SINK, [sack ? "5403" : "5405"]);
      await peer.waitListening(sack ? 5403 : 5405);
      const conn = await stack.connect({ hostname: KERNEL_V4, port: sack ? 5403 : 5405 });
      const size = 4 * 1048576;
      await withTimeout(writeAll(conn, new Uint8Array(size)), 60_000, "upload");
      await conn.closeWrite();
      const out = await withTimeout(server.output, 60_000, "kernel server");
      assert.equal(Number(out.stdout.trim()), size);
      const i = conn.info;
      assert.ok(i.mtuBlackHoles >= 1, `${i.mtuBlackHoles} black holes`);
      assert.ok(i.mtuProbesAcked >= 1, `${i.mtuProbesAcked} probes acknowledged`);
      // The path's segment size: 1280 less 20 (IP), 20 (TCP) and 12 (timestamps); the search ends
      // within 8 bytes of it.
      const pathMss = PATH_MTU - 52;
      assert.ok(i.mss <= pathMss && i.mss > pathMss - 8, `mss ${i.mss}`);
      // The black hole really dropped something (the rule's counter).
      const rules = await peer.must("nft", ["list", "chain", "inet", "bh", "in"]);
      assert.match(rules, /counter packets [1-9]/);
      conn.close();
    },
  });
}
