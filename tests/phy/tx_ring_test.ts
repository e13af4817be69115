// The writer thread of the TUN device (src/phy/_tx_ring.ts, _tx_worker.ts) against the Linux
// kernel: frames published to the ring reach a kernel receiver in a namespace the test creates,
// byte-exact and in order; a full ring refuses `transmit` and counts it; `close` writes what is
// published, then ends the worker; frames the kernel refuses count as write errors.
import assert from "node:assert/strict";
import { TunTapDevice } from "../../src/phy/tun_tap.ts";
import type { TunTapOptions } from "../../src/phy/tun_tap.ts";
import { NetStack } from "../../src/net/stack.ts";
import { downloadPattern } from "./_kernel_download.ts";
import { segment } from "./_tcp_frames.ts";
import {
  deleteNetns,
  type DeviceInNetns,
  deviceInNetns,
  hasCommand,
  linkName,
  netAdmin,
  reportSkip,
  runIn,
} from "./_netns.ts";
import { newWorkers, untilGone, workerTids } from "./_threads.ts";

reportSkip("tx_ring_test.ts");

const withPython = {
  ignore: !netAdmin.ok || !hasCommand("python3"),
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

/** A TUN device with a writer thread, moved into a new namespace with 192.0.2.1/24, up. */
function kernelSide(options: Partial<TunTapOptions> = {}): Promise<DeviceInNetns> {
  return deviceInNetns("txr", { mtu: 1500, ...options, mode: "tun", writerThread: true });
}

/**
 * python3 in the namespace: receives `n` datagrams on 192.0.2.1:9000 (a large forced receive
 * buffer, so none is lost there), checks each one's sequence number (its first 4 bytes, big
 * endian) against the count so far and its bytes against the pattern, and prints
 * `received in_order exact` once `n` arrived or nothing came for 3 s.
 */
const PY_RECV = String.raw`
import socket, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
s.bind(("192.0.2.1", 9000)); s.settimeout(3)
print("ready", flush=True)
got = in_order = exact = 0
try:
    while got < n:
        d = s.recv(65536)
        seq = int.from_bytes(d[:4], "big")
        if seq == got: in_order += 1
        if all(d[i] == (seq + i) & 0xff for i in range(4, len(d))): exact += 1
        got += 1
except socket.timeout:
    pass
print(got, in_order, exact, flush=True)
`;

/** Starts PY_RECV for `n` datagrams; resolves once it is bound. */
async function receiver(ns: string, n: number): Promise<() => Promise<number[]>> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, "python3", "-u", "-c", PY_RECV, String(n)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const r = await out.read();
    if (r.done) break;
    text += r.value;
  }
  assert.equal(text.split("\n")[0], "ready");
  return async () => {
    for (let r = await out.read(); !r.done; r = await out.read()) text += r.value;
    const status = await child.status;
    const err = await new Response(child.stderr).text();
    assert.ok(status.success, err);
    return text.split("\n")[1]!.trim().split(" ").map(Number);
  };
}

/** IPv4 + UDP 192.0.2.2:9000 -> 192.0.2.1:9000 (no UDP checksum) with `len` payload bytes. */
function datagram(buf: Uint8Array, seq: number, len: number): void {
  const total = 28 + len;
  buf.fill(0, 0, 28);
  buf.set([0x45, 0, total >> 8, total & 0xff, 0, 0, 0x40, 0, 64, 17], 0);
  buf.set([192, 0, 2, 2, 192, 0, 2, 1], 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf[10] = ~sum >> 8 & 0xff;
  buf[11] = ~sum & 0xff;
  buf.set([0x23, 0x28, 0x23, 0x28, (8 + len) >> 8, (8 + len) & 0xff, 0, 0], 20);
  buf.set([seq >>> 24, (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff], 28);
  for (let i = 4; i < len; i++) buf[28 + i] = (seq + i) & 0xff;
}

/** Lengths from 4 to 1472 bytes, varying frame to frame. */
const lenOf = (seq: number) => 4 + ((seq * 389) % 1469);

/** Publishes datagram `seq`, retrying while the ring is full; returns the refusals. */
function sendDatagram(dev: TunTapDevice, seq: number): number {
  const len = lenOf(seq);
  let refused = 0;
  for (;;) {
    const buf = dev.transmit(0, 28 + len);
    if (buf !== null) {
      datagram(buf, seq, len);
      dev.commit();
      return refused;
    }
    refused++;
    // The worker frees a slot per write; a full ring this long means it stopped.
    if (refused > 50_000_000) throw new Error("the ring stayed full");
  }
}

Deno.test({
  name:
    "TunTapDevice with a writer thread writes frames byte-exact and in order; a full ring refuses transmit and counts it",
  ...withPython,
  fn: async () => {
    const n = 3000;
    const { dev, ns } = await kernelSide({ writerQueueLen: 4 });
    try {
      const result = await receiver(ns, n);
      let refused = 0;
      for (let seq = 0; seq < n; seq++) refused += sendDatagram(dev, seq);
      const [got, inOrder, exact] = await result();
      assert.equal(got, n);
      assert.equal(inOrder, n);
      assert.equal(exact, n);
      const st = dev.stats;
      assert.equal(st.framesSent, n);
      let bytes = 0;
      for (let seq = 0; seq < n; seq++) bytes += 28 + lenOf(seq);
      assert.equal(st.bytesSent, bytes);
      // A 4-slot ring filled by a loop that only builds frames: the worker, one system call per
      // frame, cannot keep up, so `transmit` was refused, and each refusal was counted.
      assert.ok(refused > 0, "the ring never filled");
      assert.equal(st.txQueueFull, refused);
      assert.equal(st.writeErrors, 0);
      assert.equal(st.dropsTxBusy, 0);
      console.log(`${n} datagrams, ${refused} refusals of a full ring`);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

/** Runs `sh -c script` and returns its output (/proc/self needs --allow-all to read directly). */
async function shell(script: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped" }).output();
  assert.ok(out.success, script);
  return new TextDecoder().decode(out.stdout);
}

/**
 * This process's open fds attached to the TUN device `name` (the tun driver's fdinfo names its
 * interface in an `iff:` line). Counting only this device's fds keeps the check exact while other
 * test modules in the same process open and close TUN devices of their own. (Deno keeps an eventfd
 * and an epoll fd of its own after a Worker ends, so a plain fd count would not compare either.)
 */
async function tunFds(name: string): Promise<number> {
  const lines = await shell(`cat /proc/${Deno.pid}/fdinfo/* 2>/dev/null; true`);
  return lines.split("\n").filter((l) => /^iff:\s*(\S+)$/.exec(l)?.[1] === name).length;
}

Deno.test({
  name:
    "TunTapDevice with a writer thread writes every published frame before close settles, and leaves no worker or fd",
  ...withPython,
  fn: async () => {
    const n = 200;
    // Other test modules may run Workers in this process meanwhile: only the threads that
    // appeared while this device opened are checked.
    const before = workerTids();
    const { dev, ns, name } = await kernelSide({ writerQueueLen: 256 });
    const mine = newWorkers(before);
    try {
      assert.ok(mine.size >= 1, "no worker thread started");
      assert.equal(await tunFds(name), 1);
      const result = await receiver(ns, n);
      for (let seq = 0; seq < n; seq++) assert.equal(sendDatagram(dev, seq), 0);
      // Published, not necessarily written yet: close waits for the worker to write them all.
      await dev.close();
      assert.equal(dev.stats.framesSent, n);
      assert.equal(dev.transmit(0, 100), null);
      assert.equal(dev.canTransmit(0), false);
      assert.deepEqual(await result(), [n, n, n]);
      // The device's fd is closed; the terminated worker's thread exits soon after close.
      assert.deepEqual(await untilGone(mine), [], "the writer's thread is still alive");
      assert.equal(await tunFds(name), 0);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice with a writer thread counts frames the kernel refuses as write errors",
  ...withPython,
  fn: async () => {
    const { dev, ns } = await kernelSide();
    try {
      const result = await receiver(ns, 2);
      sendDatagram(dev, 0);
      // Neither IPv4 nor IPv6: the TUN driver refuses the write (EINVAL). Larger than a pure
      // ACK, so the worker writes them (an ACK-sized frame may be written inline).
      for (let i = 0; i < 3; i++) {
        const buf = dev.transmit(0, 400)!;
        buf.fill(0x11);
        dev.commit();
      }
      sendDatagram(dev, 1);
      await dev.close();
      const st = dev.stats;
      assert.equal(st.writeErrors, 3);
      assert.equal(st.framesSent, 2);
      // The frames after the refused ones still left, in order.
      assert.deepEqual(await result(), [2, 2, 2]);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

/**
 * python3 in the namespace: accepts one connection on 192.0.2.1:5001, reads to EOF, prints the
 * byte count and whether every byte matched `i % 251`.
 */
const PY_SINK = String.raw`
import socket
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 5001)); ls.listen(1); print("ready", flush=True)
c, _ = ls.accept()
pattern = bytes(i % 251 for i in range(251 * 264))
n = 0; bad = -1
while True:
    d = c.recv(1 << 16)
    if not d: break
    if bad < 0 and d != pattern[n % 251:n % 251 + len(d)]:
        bad = n + next(i for i in range(len(d)) if d[i] != (n + i) % 251)
    n += len(d)
c.close()
print(n, bad, flush=True)
`;

for (const offload of [false, true]) {
  Deno.test({
    name:
      `TunTapDevice with a writer thread carries a 4 MiB upload to the kernel intact (checksum offload ${
        offload ? "on" : "off"
      })`,
    ...withPython,
    fn: async () => {
      // Without TSO: with it the writer is not used (its own test below).
      const { dev, ns } = await kernelSide({ offload, tso: false });
      assert.equal(dev.writerThread, true);
      const bytes = 4 << 20;
      const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
      const child = new Deno.Command("ip", {
        args: ["netns", "exec", ns, "python3", "-u", "-c", PY_SINK],
        stdout: "piped",
      }).spawn();
      try {
        const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("\n")) text += (await out.read()).value ?? "";
        const conn = await stack.connect({ hostname: "192.0.2.1", port: 5001 });
        const block = new Uint8Array(251 * 257);
        for (let i = 0; i < block.length; i++) block[i] = i % 251;
        for (let sent = 0; sent < bytes;) {
          // A write may take part of what it is given: the next one starts where it stopped.
          const at = sent % 251;
          sent += await conn.write(block.subarray(at, at + Math.min(251 * 256, bytes - sent)));
        }
        await conn.closeWrite();
        while ((await conn.read(new Uint8Array(16))) !== null) { /* the kernel's FIN */ }
        conn.close();
        for (let r = await out.read(); !r.done; r = await out.read()) text += r.value;
        assert.deepEqual(text.split("\n")[1]!.trim().split(" ").map(Number), [bytes, -1]);
        const st = dev.stats;
        assert.equal(st.writeErrors, 0);
        assert.equal(st.dropsTxBusy, 0);
        if (offload) assert.equal(dev.capabilities.offload?.checksum, true);
      } finally {
        await stack.close();
        await dev.close();
        await child.status;
        await deleteNetns(ns);
      }
    },
  });
}

Deno.test({
  name: "TunTapDevice with TCP segmentation offload runs no writer thread, and still sends",
  ...withPython,
  fn: async () => {
    const { dev, ns } = await kernelSide({ offload: true });
    try {
      if (dev.capabilities.offload?.tcpv4 !== true) {
        console.log("skipped: the kernel refused TSO");
        return;
      }
      assert.equal(dev.writerThread, false);
      // Frames are written inline: the count moves at commit, with no worker in between.
      const ip = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0xf6, 0xdd, 192, 0, 2, 2, 192, 0, 2, 1];
      dev.transmit(0, 28)!.set([...ip, 8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
      dev.commit();
      assert.equal(dev.stats.framesSent, 1);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice refuses a writer ring of fewer than two frames",
  ignore: !netAdmin.ok,
  fn: async () => {
    await assert.rejects(
      TunTapDevice.open({
        name: linkName("txr"),
        mode: "tun",
        writerThread: true,
        writerQueueLen: 1,
      }),
      RangeError,
    );
  },
});

for (const offload of [false, true]) {
  Deno.test({
    name:
      `TunTapDevice with a writer thread carries a 4 MiB download intact, its ACKs coalesced (checksum offload ${
        offload ? "on" : "off"
      })`,
    ...withPython,
    fn: async () => {
      const { dev, ns } = await kernelSide({ offload, tso: false });
      assert.equal(dev.writerThread, true);
      const bytes = 4 << 20;
      const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
      try {
        const { got, bad, sent } = await downloadPattern(stack, ns, bytes);
        assert.equal(bad, -1, `byte ${bad} differs`);
        assert.equal(got, bytes);
        assert.equal(sent, String(bytes));
        const st = dev.stats;
        assert.equal(st.writeErrors, 0);
        assert.equal(st.dropsTxBusy, 0);
        assert.ok(st.acksCoalesced > 0, "no ACK was coalesced in a 4 MiB download");
      } finally {
        await stack.close();
        await dev.close();
        await deleteNetns(ns);
      }
    },
  });
}

Deno.test({
  name:
    "TunTapDevice.open with a writer thread that cannot start rejects, and leaves no device or worker behind",
  ignore: !netAdmin.ok,
  fn: async () => {
    // A child with --allow-ffi but no --allow-read: the worker's module cannot load.
    const dir = await Deno.makeTempDir({ prefix: "smolnet-txr-" });
    const name = linkName("txr");
    try {
      const script = `${dir}/open.ts`;
      const tunTap = new URL("../../src/phy/tun_tap.ts", import.meta.url).href;
      await Deno.writeTextFile(
        script,
        `import { TunTapDevice } from ${JSON.stringify(tunTap)};\n` +
          `try {\n` +
          `  await TunTapDevice.open({ name: ${
            JSON.stringify(name)
          }, mode: "tun", writerThread: true });\n` +
          `  console.log("opened");\n` +
          `} catch (e) {\n` +
          `  console.log("rejected: " + (e as Error).message);\n` +
          `}\n`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-ffi", "--no-prompt", script],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      // The process ended on its own (no worker or pending poll kept it alive) and said why.
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(text, /^rejected: Transmit worker failed: .*read access/m);
      // The device it created went with its fd.
      const link = await new Deno.Command("ip", { args: ["link", "show", name], stderr: "null" })
        .output();
      assert.equal(link.success, false, `${name} still exists`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * python3 in the namespace: an AF_PACKET socket on the TUN interface prints, once nothing came
 * for 1.5 s or the interface went down, `ack:payload` of every IPv4 TCP packet the kernel
 * received from us, in order.
 */
const PY_CAPTURE = String.raw`
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
s.bind((sys.argv[1], 0)); s.settimeout(1.5)
print("ready", flush=True)
seen = []
errors = 0
while errors < 10:
    try:
        d, addr = s.recvfrom(65536)
    except socket.timeout:
        break
    except OSError:
        # ENETDOWN once the device's fd closed. Linux reports it before the frames still queued
        # on this socket (a slow reader under load lost the last 20), so read on until the timeout.
        errors += 1
        continue
    if addr[2] == 4 or len(d) < 40 or d[0] >> 4 != 4 or d[9] != 6: continue  # 4: outgoing
    ihl = (d[0] & 15) * 4; th = (d[ihl + 12] >> 4) * 4
    seen.append("%d:%d" % (int.from_bytes(d[ihl + 8:ihl + 12], "big"), int.from_bytes(d[2:4], "big") - ihl - th))
print(" ".join(seen), flush=True)
`;

/** Writes `frame` through `transmit` + `commit` (the ring has room: it is long enough here). */
function send(dev: TunTapDevice, frame: Uint8Array): void {
  const buf = dev.transmit(0, frame.length);
  assert.ok(buf !== null, "the ring was full");
  buf.set(frame);
  dev.commit();
}

Deno.test({
  name:
    "TunTapDevice with a writer thread keeps held ACKs in order with the data the worker writes",
  ...withPython,
  ignore: withPython.ignore || !hasCommand("ping"),
  fn: async () => {
    const { dev, ns, name } = await kernelSide();
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "python3", "-u", "-c", PY_CAPTURE, name],
      stdout: "piped",
    }).spawn();
    try {
      const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) text += (await out.read()).value ?? "";
      // A burst: the kernel's echo request, taken by `receive`.
      const ping = runIn(ns, "ping", ["-c", "1", "-W", "1", "192.0.2.2"]);
      let frame: Uint8Array | null = null;
      for (let i = 0; frame === null && i < 200; i++) {
        frame = dev.receive(0);
        if (frame === null) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(frame !== null, "no echo request arrived");
      const ack = (n: number) => segment({ ack: n, dstLast: 1 });
      const data = (n: number, len: number) => segment({ ack: n, payload: len, dstLast: 1 });
      // Held, then replaced; the data frame after it sends the held ACK first (the ring is idle:
      // written inline), then the data through the worker.
      send(dev, ack(2000));
      send(dev, ack(3000));
      send(dev, data(3001, 600));
      // Forty data frames keep the worker busy; the ACK held meanwhile goes into the ring in
      // front of the data frame that flushes it.
      for (let i = 0; i < 40; i++) send(dev, data(4000 + i, 1400));
      send(dev, ack(5000));
      send(dev, ack(6000));
      send(dev, data(6001, 600));
      // Then the burst ends with an ACK still held: it leaves when `receive` finds nothing.
      send(dev, ack(7000));
      for (let i = 0; i < 100 && dev.receive(0) !== null; i++) { /* the kernel's chatter */ }
      await dev.close();
      assert.equal(dev.stats.acksCoalesced, 2);
      assert.equal(dev.stats.writeErrors, 0);
      for (let r = await out.read(); !r.done; r = await out.read()) text += r.value;
      const expected = [
        "3000:0",
        "3001:600",
        ...Array.from({ length: 40 }, (_, i) => `${4000 + i}:1400`),
        "6000:0",
        "6001:600",
        "7000:0",
      ];
      assert.deepEqual(text.split("\n")[1]!.trim().split(" "), expected);
      await ping;
    } finally {
      await dev.close();
      await child.status;
      await deleteNetns(ns);
    }
  },
});
