// The worker threads behind the TUN device's rings (src/phy/_ring_worker.ts): one that dies after
// it started fails the device it serves, counted, and the failure reaches the stack as a
// Deno error. The device fd is an eventfd, so no privileges are needed.
import assert from "node:assert/strict";
import { checksumAll, Medium } from "../../src/phy/device.ts";
import { FdDevice, FdEngine } from "../../src/phy/_fd_device.ts";
import { TxRing } from "../../src/phy/_tx_ring.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, openLibc } from "../../src/phy/_libc.ts";
import { NetStack } from "../../src/net/stack.ts";

class EventFdDevice extends FdDevice {
  constructor(engine: FdEngine) {
    super(engine);
  }
}

/** An engine over a fresh non-blocking eventfd (never readable; writes of frames fail). */
function eventFdEngine(): { engine: FdEngine; fd: number } {
  const lib = openLibc();
  const fd = lib.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  assert.ok(fd >= 0);
  const engine = new FdEngine({
    lib,
    fd,
    capabilities: { medium: Medium.Ip, mtu: 1500, checksum: checksumAll(), maxBurstSize: null },
    rxQueueLen: 4,
    label: "test device",
    classify: () => null,
  });
  return { engine, fd };
}

/** Names of this process's Worker threads (Deno names them `worker-N`). */
function workerThreads(): string[] {
  const names: string[] = [];
  for (const t of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
    const comm = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${t.name}/comm`).trim();
    if (comm.startsWith("worker-")) names.push(comm);
  }
  return names;
}

/** Waits (up to 2 s) until the terminated workers' threads have exited, and asserts it. */
async function noWorkerLeft(): Promise<void> {
  for (let i = 0; i < 100 && workerThreads().length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(workerThreads(), []);
}

Deno.test({
  name: "FdEngine fails with BrokenPipe when its writer thread dies after it started",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const { engine, fd } = eventFdEngine();
    const ring = await TxRing.start(fd, 4, engine.txFrameSize);
    engine.useWriter(ring);
    const dev = new EventFdDevice(engine);
    const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
    try {
      assert.equal(dev.canTransmit(0), true);
      // A slot length beyond the slot: the worker throws on it and dies.
      ring.fill(0, ring.slotSize + 1, 20);
      ring.publish(1);
      await assert.rejects(dev.closed, (e: Error) => {
        assert.ok(e instanceof Deno.errors.BrokenPipe);
        assert.match(e.message, /^test device: its writer thread died: Transmit worker failed: /);
        assert.match(e.message, /Invalid frame length 1537 in slot 0/);
        return true;
      });
      assert.equal(dev.stats.threadFailures, 1);
      assert.equal(dev.error, await dev.closed.catch((e) => e));
      assert.equal(dev.canTransmit(0), false);
      assert.equal(dev.transmit(0, 40), null);
      // The stack fails with it: calls reject with ConnectionAborted caused by the device error.
      await assert.rejects(stack.connect({ hostname: "192.0.2.1", port: 80 }), (e: Error) => {
        assert.ok(e instanceof Deno.errors.ConnectionAborted);
        assert.match(e.message, /its writer thread died/);
        return true;
      });
      assert.equal(stack.deviceError?.cause, dev.error);
    } finally {
      await stack.close();
      await dev.close();
    }
    await noWorkerLeft();
  },
});

Deno.test({
  name: "FdEngine with a healthy writer thread closes cleanly and counts no thread failure",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const { engine, fd } = eventFdEngine();
    engine.useWriter(await TxRing.start(fd, 4, engine.txFrameSize));
    const dev = new EventFdDevice(engine);
    // An eventfd refuses a 40-byte write: the worker counts a write error and lives on.
    dev.transmit(0, 40)!.fill(0x45, 0, 1);
    dev.commit();
    await dev.close();
    await dev.closed;
    assert.equal(dev.stats.threadFailures, 0);
    assert.equal(dev.stats.writeErrors, 1);
    assert.equal(dev.error, null);
    await noWorkerLeft();
  },
});
