// The worker threads behind the TUN device's rings (src/phy/_ring_worker.ts): one that dies after
// it started fails the device it serves, counted, and the failure reaches the stack as a
// Deno error; a read that keeps failing neither spins the reader nor goes on forever. The device
// fd is an eventfd (or a directory, whose reads always fail), so no privileges are needed.
import assert from "node:assert/strict";
import { checksumAll, Medium } from "../../src/phy/device.ts";
import { FdDevice, FdEngine } from "../../src/phy/_fd_device.ts";
import { TxRing } from "../../src/phy/_tx_ring.ts";
import {
  backoffMs,
  cString,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  MAX_READ_FAILURES,
  O_CLOEXEC,
  O_NONBLOCK,
  openLibc,
} from "../../src/phy/_libc.ts";
import { NetStack } from "../../src/net/stack.ts";
import { assertThreadsEnded, newWorkers, untilGone, workerTids } from "./_threads.ts";

class EventFdDevice extends FdDevice {
  constructor(engine: FdEngine) {
    super(engine);
  }
}

/** O_DIRECTORY: the fd of a directory, which poll reports readable and whose reads fail. */
const O_DIRECTORY = 0o200000;

/**
 * An engine over a fresh non-blocking eventfd (readable once something was added to it; writes
 * of frames fail), or with `directory` over the fd of `/` (always readable, every read fails
 * with EISDIR, an error the device only counts).
 */
function eventFdEngine(deferLoop = false, directory = false): { engine: FdEngine; fd: number } {
  const lib = openLibc();
  const fd = directory
    ? lib.symbols.open(cString("/"), O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, 0)
    : lib.symbols.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  assert.ok(fd >= 0);
  const engine = new FdEngine({
    lib,
    fd,
    capabilities: { medium: Medium.Ip, mtu: 1500, checksum: checksumAll(), maxBurstSize: null },
    rxQueueLen: 4,
    label: "test device",
    classify: () => null,
    deferLoop,
  });
  return { engine, fd };
}

Deno.test({
  name: "FdEngine fails with BrokenPipe when its writer thread dies after it started",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const before = workerTids();
    const { engine, fd } = eventFdEngine();
    const ring = await TxRing.start(fd, 4, engine.txFrameSize);
    const mine = newWorkers(before);
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
    await assertThreadsEnded(mine);
  },
});

Deno.test({
  name: "FdEngine with a healthy writer thread closes cleanly and counts no thread failure",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const before = workerTids();
    const { engine, fd } = eventFdEngine();
    engine.useWriter(await TxRing.start(fd, 4, engine.txFrameSize));
    const mine = newWorkers(before);
    const dev = new EventFdDevice(engine);
    // An eventfd refuses a 40-byte write: the worker counts a write error and lives on.
    dev.transmit(0, 40)!.fill(0x45, 0, 1);
    dev.commit();
    await dev.close();
    await dev.closed;
    assert.equal(dev.stats.threadFailures, 0);
    assert.equal(dev.stats.writeErrors, 1);
    assert.equal(dev.error, null);
    await assertThreadsEnded(mine);
  },
});

Deno.test({
  name:
    "FdEngine with a reader thread hands over what the worker read, and wakes the stack after it found the ring empty",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    // An eventfd reads as one 8-byte frame holding its counter once something was added to it.
    const before = workerTids();
    const { engine, fd } = eventFdEngine(true);
    await engine.startReader(4);
    const mine = newWorkers(before);
    const dev = new EventFdDevice(engine);
    const lib = openLibc();
    try {
      let woke = Promise.withResolvers<void>();
      dev.onReadable(() => woke.resolve());
      const add = (n: number) => {
        const v = new Uint8Array(8);
        new DataView(v.buffer).setBigUint64(0, BigInt(n), true);
        assert.equal(lib.symbols.write(fd, v, 8n), 8);
      };
      for (const n of [7, 9]) {
        assert.equal(dev.receive(0), null); // the ring is empty: the next frame wakes the stack
        add(n);
        await woke.promise;
        woke = Promise.withResolvers<void>();
        assert.equal(dev.pending, 1);
        const frame = dev.receive(0);
        assert.deepEqual(frame && [...frame], [n, 0, 0, 0, 0, 0, 0, 0]);
        assert.equal(dev.receive(0), null);
      }
      assert.equal(dev.stats.framesReceived, 2);
      assert.ok(dev.stats.readerWakeups >= 2, `${dev.stats.readerWakeups} polls`);
    } finally {
      lib.close();
      await dev.close();
    }
    assert.equal(dev.error, null);
    await assertThreadsEnded(mine);
  },
});

Deno.test({
  name: "FdEngine fails with BrokenPipe when its reader thread dies after it started",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const before = workerTids();
    const { engine, fd } = eventFdEngine(true);
    // The stand-in reader starts like the real one and dies when the device fd becomes readable.
    await engine.startReader(4, new URL("./_dying_reader.ts", import.meta.url).href);
    const mine = newWorkers(before);
    const dev = new EventFdDevice(engine);
    const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
    const lib = openLibc();
    try {
      assert.equal(dev.error, null);
      assert.equal(dev.canTransmit(0), true);
      const one = new Uint8Array(8);
      one[0] = 1;
      assert.equal(lib.symbols.write(fd, one, 8n), 8);
      await assert.rejects(dev.closed, (e: Error) => {
        assert.ok(e instanceof Deno.errors.BrokenPipe);
        assert.match(e.message, /^test device: its reader thread died: Receive worker failed: /);
        assert.match(e.message, /killed by the test/);
        return true;
      });
      assert.equal(dev.stats.threadFailures, 1);
      assert.equal(dev.canTransmit(0), false);
      assert.equal(dev.receive(0), null);
      await assert.rejects(stack.connect({ hostname: "192.0.2.1", port: 80 }), (e: Error) => {
        assert.ok(e instanceof Deno.errors.ConnectionAborted);
        assert.match(e.message, /its reader thread died/);
        return true;
      });
      assert.equal(stack.deviceError?.cause, dev.error);
    } finally {
      lib.close();
      await stack.close();
      await dev.close();
    }
    await assertThreadsEnded(mine);
  },
});

for (const reader of [false, true]) {
  Deno.test({
    name: `FdEngine ${
      reader ? "with a reader thread " : ""
    }fails the device after ${MAX_READ_FAILURES} failed reads in a row instead of retrying forever`,
    sanitizeOps: true,
    sanitizeResources: true,
    async fn() {
      const before = workerTids();
      const { engine } = eventFdEngine(reader, true);
      if (reader) await engine.startReader(4);
      const mine = newWorkers(before);
      const dev = new EventFdDevice(engine);
      try {
        await assert.rejects(dev.closed, (e: Error) => {
          assert.equal(
            e.message,
            `test device: ${MAX_READ_FAILURES} reads in a row failed: errno 21`,
          );
          return true;
        });
        // Every failed read was counted, and no more were made: the reader stopped there.
        assert.equal(dev.stats.readErrors, MAX_READ_FAILURES);
        // The loop polls once per retry (the fd is always readable); the worker retries without
        // polling (it polls only after EAGAIN).
        assert.ok(
          dev.stats.readerWakeups <= (reader ? 0 : MAX_READ_FAILURES),
          `${dev.stats.readerWakeups} polls`,
        );
        assert.equal(dev.stats.threadFailures, 0);
        assert.equal(dev.receive(0), null);
      } finally {
        await dev.close();
      }
      if (reader) assert.ok(mine.size >= 1);
      assert.deepEqual(await untilGone(mine), [], "the worker's thread is still alive");
    },
  });
}

Deno.test("backoffMs: a failed read is retried at once, then after 1, 2, 4 … ms, at most 50", () => {
  const pauses = Array.from({ length: 10 }, (_, i) => backoffMs(i));
  assert.deepEqual(pauses, [0, 0, 1, 2, 4, 8, 16, 32, 50, 50]);
  assert.equal(backoffMs(MAX_READ_FAILURES), 50);
});

Deno.test({
  name:
    "FdEngine's reader thread polls again when a signal interrupts its poll (EINTR is not a failure)",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    // A CPU profiler (`--cpu-prof`) sends SIGPROF to the worker's thread every millisecond; here
    // SIGWINCH, for which Deno then runs a handler, is sent to it 150 times (the worker used to
    // give up after 100 failed polls in a row and fail the device).
    const listener = () => {};
    Deno.addSignalListener("SIGWINCH", listener);
    const before = workerTids();
    const { engine, fd } = eventFdEngine(true);
    await engine.startReader(4);
    const mine = newWorkers(before);
    const dev = new EventFdDevice(engine);
    const lib = openLibc();
    const sys = Deno.dlopen("libc.so.6", {
      tgkill: { parameters: ["i32", "i32", "i32"], result: "i32" },
    });
    try {
      assert.ok(mine.size >= 1);
      const SIGWINCH = 28;
      for (let i = 0; i < 150; i++) {
        // Each signal once the worker is back in poll (it counts a poll before each).
        const polls = dev.stats.readerWakeups;
        for (const tid of mine) {
          assert.equal(sys.symbols.tgkill(Deno.pid, Number(tid), SIGWINCH), 0);
        }
        for (let spin = 0; dev.stats.readerWakeups === polls && dev.error === null; spin++) {
          if (spin % 64 === 63) await new Promise((r) => setTimeout(r, 1));
        }
      }
      assert.equal(dev.error, null);
      assert.equal(dev.stats.readErrors, 0);
      // And it still reads.
      const woke = Promise.withResolvers<void>();
      dev.onReadable(() => woke.resolve());
      assert.equal(dev.receive(0), null);
      const v = new Uint8Array(8);
      v[0] = 5;
      assert.equal(lib.symbols.write(fd, v, 8n), 8);
      await woke.promise;
      assert.deepEqual([...dev.receive(0)!], [5, 0, 0, 0, 0, 0, 0, 0]);
      assert.equal(dev.error, null);
      assert.equal(dev.stats.readErrors, 0);
      assert.ok(dev.stats.readerWakeups >= 1);
    } finally {
      sys.close();
      lib.close();
      await dev.close();
      Deno.removeSignalListener("SIGWINCH", listener);
    }
    assert.equal(dev.error, null);
    assert.deepEqual(await untilGone(mine), [], "the worker's thread is still alive");
  },
});
