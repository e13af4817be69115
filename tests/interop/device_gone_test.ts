// A TUN/TAP interface deleted (`ip link del`) in the middle of a transfer ends the stack's loop
// with a clear error instead of a hang: the pending read, a pending accept and any later call
// reject with Deno.errors.ConnectionAborted naming the device, within a few seconds.
import assert from "node:assert/strict";
import { MemorySink, PcapWriter } from "../../src/phy/pcap_writer.ts";
import {
  interop,
  KERNEL_V4,
  KernelPeer,
  PY_PEER,
  reportSkip,
  withTimeout,
} from "./_kernel_peer.ts";

reportSkip("device_gone_test.ts");

async function startTransfer(peer: KernelPeer) {
  const stack = peer.stack();
  const listener = stack.listen({ port: 7000 });
  peer.python(PY_PEER, ["send", "5301", String(1 << 30)]);
  // An idle connection: the server accepts and sends nothing until told (never, here).
  peer.python(PY_PEER, ["stall", "5302", "65536"], { stdin: true });
  await peer.waitListening(5301);
  await peer.waitListening(5302);
  const conn = await stack.connect({ hostname: KERNEL_V4, port: 5301 });
  const idle = await stack.connect({ hostname: KERNEL_V4, port: 5302 });
  const buf = new Uint8Array(65536);
  let got = 0;
  while (got < 1048576) {
    const n = await conn.read(buf);
    assert.ok(n !== null);
    got += n;
  }
  return { stack, listener, conn, idle, buf, got };
}

function assertAborted(e: unknown, ifname: string): asserts e is Error {
  assert.ok(e instanceof Deno.errors.ConnectionAborted, String(e));
  assert.equal((e as Error & { code?: string }).code, "ECONNABORTED");
  assert.match(e.message, new RegExp(`${ifname}.*(gone|deleted)`));
}

for (const mode of ["tun", "tap"] as const) {
  Deno.test({
    name: `interop: deleting the ${mode.toUpperCase()} interface during a download ends the ` +
      "loop: pending operations reject with ConnectionAborted naming the device",
    ...interop,
    fn: async () => {
      await using peer = await KernelPeer.create({ mode });
      const { stack, listener, conn, idle, buf, got } = await startTransfer(peer);
      const accepting = listener.accept().then(() => null, (e: Error) => e);
      const idleRead = idle.read(new Uint8Array(100)).then((n) => `read ${n}`, (e: Error) => e);
      try {
        // The download goes on while the interface is deleted.
        const reading = (async () => {
          while (true) {
            if (await conn.read(buf) === null) return new Error("EOF instead of an error");
          }
        })().catch((e) => e);
        await peer.must("ip", ["link", "del", peer.ifname]);
        const t0 = performance.now();
        const e = await withTimeout(reading, 5000, "read after the device disappeared");
        const ms = performance.now() - t0;
        assert.ok(e instanceof Deno.errors.ConnectionAborted, String(e));
        const pending = await withTimeout(idleRead, 1000, "pending read");
        assertAborted(pending, peer.ifname);
        assertAborted(await withTimeout(accepting, 1000, "pending accept"), peer.ifname);
        assertAborted(stack.deviceError, peer.ifname);
        const later = await stack.connect({ hostname: KERNEL_V4, port: 5301 }).catch((e) => e);
        assertAborted(later, peer.ifname);
        console.log(`${mode}: after ${got} bytes, ${ms.toFixed(0)} ms to: ${pending.message}`);
      } finally {
        conn.close();
        idle.close();
        listener.close();
      }
    },
  });
}

// Fixed in 25218d5: a read or write issued after the device failed rejects with the device's
// error (ConnectionAborted naming the device), not a generic "aborted".
Deno.test({
  name: "interop: a read issued after the device failed names the device",
  ...interop,
  ignore: interop.ignore,
  fn: async () => {
    await using peer = await KernelPeer.create();
    const { stack, listener, conn, idle, buf } = await startTransfer(peer);
    try {
      await peer.must("ip", ["link", "del", peer.ifname]);
      for (let i = 0; i < 100 && stack.deviceError === null; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(stack.deviceError !== null);
      const e = await (async () => {
        while (true) if (await conn.read(buf) === null) return new Error("EOF");
      })().catch((e) => e);
      assertAborted(e, peer.ifname);
    } finally {
      conn.close();
      idle.close();
      listener.close();
    }
  },
});

// Fixed in 25218d5: the wrappers forward the inner device's `closed` promise and `close()`, so
// a stack on PcapWriter(TunTapDevice) ends its loop when the interface is deleted.
Deno.test({
  name: "interop: a stack on PcapWriter(TUN) sees the interface deletion",
  ...interop,
  ignore: interop.ignore,
  fn: async () => {
    await using peer = await KernelPeer.create();
    const stack = peer.stack({ device: new PcapWriter(peer.device, new MemorySink()) });
    peer.python(PY_PEER, ["stall", "5303", "65536"], { stdin: true });
    await peer.waitListening(5303);
    const idle = await stack.connect({ hostname: KERNEL_V4, port: 5303 });
    try {
      const reading = idle.read(new Uint8Array(10)).then((n) => `read ${n}`, (e: Error) => e);
      await peer.must("ip", ["link", "del", peer.ifname]);
      const e = await withTimeout(reading, 3000, "pending read after the device was deleted");
      assertAborted(e, peer.ifname);
    } finally {
      idle.close();
    }
  },
});
