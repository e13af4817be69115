// The reader thread of the TUN device (src/phy/_rx_ring.ts, _rx_worker.ts) against the Linux
// kernel: datagrams a kernel sender sends reach `receive` byte-exact and in order, many per
// wake-up; a full ring holds the worker back without losing frames; a 4 MiB download through a
// NetStack arrives intact; `close` leaves no worker thread behind.
import assert from "node:assert/strict";
import { TunTapDevice } from "../../src/phy/tun_tap.ts";
import type { TunTapOptions } from "../../src/phy/tun_tap.ts";
import { NetStack } from "../../src/net/stack.ts";
import { downloadPattern } from "./_kernel_download.ts";
import {
  deleteNetns,
  type DeviceInNetns,
  deviceInNetns,
  hasCommand,
  linkName,
  netAdmin,
  reportSkip,
} from "./_netns.ts";
import { newWorkers, untilGone, workerTids } from "./_threads.ts";

reportSkip("rx_ring_test.ts");

const withPython = {
  ignore: !netAdmin.ok || !hasCommand("python3"),
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

/** A TUN device with a reader thread, moved into a new namespace with 192.0.2.1/24, up. */
function kernelSide(options: Partial<TunTapOptions> = {}): Promise<DeviceInNetns> {
  // 192.0.2.2 answers no ARP on a TUN: the kernel sends to it straight away.
  return deviceInNetns("rxr", { mtu: 1500, ...options, mode: "tun", readerThread: true });
}

/**
 * python3 in the namespace: sends `n` UDP datagrams from 192.0.2.1 to 192.0.2.2:9000, datagram
 * `seq` being its sequence number (4 bytes, big endian) and then bytes `(seq + i) & 0xff`, of
 * 4..1472 bytes; prints `sent` when done.
 */
const PY_SEND = String.raw`
import socket, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for seq in range(n):
    ln = 4 + (seq * 389) % 1469
    d = seq.to_bytes(4, "big") + bytes((seq + i) & 0xff for i in range(4, ln))
    s.sendto(d, ("192.0.2.2", 9000))
print("sent", flush=True)
`;

/** Runs PY_SEND for `n` datagrams in `ns` and waits for it to finish. */
async function send(ns: string, n: number): Promise<void> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, "python3", "-u", "-c", PY_SEND, String(n)],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/**
 * Takes every ready frame; returns the UDP datagrams to port 9000 that check out (sequence in
 * order from `next`, bytes exact) as the next expected sequence number, or throws on the first
 * one that does not.
 */
function drain(dev: TunTapDevice, next: number): number {
  for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
    if (f[0]! >> 4 !== 4 || f[9] !== 17 || ((f[22]! << 8) | f[23]!) !== 9000) continue;
    const seq = ((f[28]! << 24) | (f[29]! << 16) | (f[30]! << 8) | f[31]!) >>> 0;
    assert.equal(seq, next, "datagrams out of order");
    const len = ((f[24]! << 8) | f[25]!) - 8;
    assert.equal(len, 4 + (seq * 389) % 1469);
    for (let i = 4; i < len; i++) {
      if (f[28 + i] !== ((seq + i) & 0xff)) assert.fail(`datagram ${seq}: byte ${i} differs`);
    }
    next++;
  }
  return next;
}

Deno.test({
  name:
    "TunTapDevice with a reader thread delivers 2,000 datagrams byte-exact and in order, many per wake-up",
  ...withPython,
  fn: async () => {
    const n = 2000;
    const before = workerTids();
    const { dev, ns } = await kernelSide();
    const mine = newWorkers(before);
    try {
      assert.equal(dev.readerThread, true);
      assert.ok(mine.size >= 1, "no worker thread started");
      let next = 0;
      let wakeups = 0;
      let most = 0;
      let woke = Promise.withResolvers<void>();
      dev.onReadable(() => woke.resolve());
      const sent = send(ns, n);
      while (next < n) {
        await woke.promise;
        woke = Promise.withResolvers<void>();
        wakeups++;
        most = Math.max(most, dev.pending);
        next = drain(dev, next);
      }
      await sent;
      assert.equal(next, n);
      // Frames arrive while the stack is away: a wake-up finds several ready.
      assert.ok(most > 1, `at most ${most} frame ready per wake-up`);
      assert.ok(wakeups < n, `${wakeups} wake-ups for ${n} datagrams`);
      assert.equal(dev.stats.readErrors, 0);
      assert.equal(dev.stats.dropsOversize, 0);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
    assert.deepEqual(await untilGone(mine), [], "the reader's thread is still alive");
  },
});

Deno.test({
  name:
    "TunTapDevice with a reader thread holds the worker back while its ring is full, and loses nothing",
  ...withPython,
  fn: async () => {
    const n = 200;
    const { dev, ns } = await kernelSide({ readerQueueLen: 4 });
    try {
      // Nothing is taken while the kernel sends: 4 frames fill the ring, the rest wait in the
      // kernel's TUN queue (500 frames).
      await send(ns, n);
      for (let i = 0; i < 100 && dev.stats.rxQueueFull === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(dev.stats.rxQueueFull > 0, "the worker never found the ring full");
      assert.equal(dev.pending, 4);
      let next = 0;
      for (let i = 0; i < 500 && next < n; i++) {
        next = drain(dev, next);
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.equal(next, n);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice with a reader thread carries a 4 MiB download through a NetStack intact",
  ...withPython,
  fn: async () => {
    const bytes = 4 << 20;
    const { dev, ns } = await kernelSide();
    const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
    try {
      const { got, bad, sent } = await downloadPattern(stack, ns, bytes);
      assert.equal(bad, -1, `byte ${bad} differs`);
      assert.equal(got, bytes);
      assert.equal(sent, String(bytes));
      assert.ok(dev.stats.framesReceived > bytes / 1500, `${dev.stats.framesReceived} frames`);
    } finally {
      await stack.close();
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice runs no reader thread with offloads, and refuses a reader ring under two",
  ignore: !netAdmin.ok,
  fn: async () => {
    const dev = await TunTapDevice.open({
      name: linkName("rxr"),
      mode: "tun",
      offload: true,
      readerThread: true,
    });
    try {
      assert.equal(dev.readerThread, false);
    } finally {
      await dev.close();
    }
    await assert.rejects(
      TunTapDevice.open({
        name: linkName("rxr"),
        mode: "tun",
        readerThread: true,
        readerQueueLen: 1,
      }),
      RangeError,
    );
  },
});
