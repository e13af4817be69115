import assert from "node:assert/strict";
import { Medium } from "../../src/phy/device.ts";
import { UdpTunnelDevice } from "../../src/phy/udp_tunnel.ts";
import { segment } from "./_tcp_frames.ts";

const sanitized = { sanitizeOps: true, sanitizeResources: true } as const;

/** Two tunnel ends on 127.0.0.1 pointing at each other (ports picked by the OS). */
async function pair(
  opts: {
    medium?: Medium;
    mtu?: number;
    rxQueueLen?: number;
    maxInFlight?: number;
    batchIo?: boolean;
    coalesceAcks?: boolean;
  } = {},
): Promise<[UdpTunnelDevice, UdpTunnelDevice]> {
  // Bind b first on a free port, then a pointing at b, then b is re-opened pointing at a.
  const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const portB = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const a = await UdpTunnelDevice.open({
    ...opts,
    local: { hostname: "127.0.0.1", port: 0 },
    peer: { hostname: "127.0.0.1", port: portB },
  });
  const b = await UdpTunnelDevice.open({
    ...opts,
    local: { hostname: "127.0.0.1", port: portB },
    peer: { hostname: "127.0.0.1", port: a.localAddr.port },
  });
  return [a, b];
}

/** Frame i: length 20 + (i * 37) % (mtu - 19), bytes (i + j) % 251. */
function frame(i: number, mtu: number): Uint8Array {
  const len = 20 + (i * 37) % (mtu - 19);
  const f = new Uint8Array(len);
  for (let j = 0; j < len; j++) f[j] = (i + j) % 251;
  return f;
}

/** Waits for the next readiness callback or `ms`, whichever comes first. */
function readable(dev: UdpTunnelDevice, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    dev.onReadable(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

Deno.test({
  name: "UdpTunnelDevice pair exchanges 1,000 frames each way byte-exact with bounded queues",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ rxQueueLen: 32, maxInFlight: 16 });
    try {
      const mtu = a.capabilities.mtu;
      const N = 1000;
      const WINDOW = 48;
      const got: [number, number] = [0, 0];
      let maxPending = 0;
      let maxInFlight = 0;
      const sent: [number, number] = [0, 0];
      const ends = [a, b] as const;
      const deadline = Date.now() + 20_000;
      const t0 = performance.now();
      while ((got[0] < N || got[1] < N) && Date.now() < deadline) {
        for (let side = 0; side < 2; side++) {
          const dev = ends[side]!;
          // UDP has no flow control: like any sender over it, keep at most WINDOW frames
          // unreceived, or the kernel drops what the receiver cannot take yet.
          while (sent[side]! < N && sent[side]! - got[1 - side]! < WINDOW) {
            const f = frame(sent[side]! + side * N, mtu);
            const buf = dev.transmit(0, f.length);
            if (buf === null) break;
            buf.set(f);
            dev.commit();
            sent[side]!++;
          }
          maxInFlight = Math.max(maxInFlight, dev.inFlight);
        }
        for (let side = 0; side < 2; side++) {
          const dev = ends[side]!;
          maxPending = Math.max(maxPending, dev.pending);
          for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
            const from = 1 - side;
            const want = frame(got[side]! + from * N, mtu);
            assert.deepEqual(f, want, `frame ${got[side]} to side ${side}`);
            got[side]!++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(got, [N, N]);
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `${
          (2 * N / secs).toFixed(0)
        } frames/s through two tunnel ends in one process (harness compares every frame)`,
      );
      assert.ok(maxPending <= 32, `receive ring held ${maxPending}`);
      assert.ok(maxInFlight <= 16, `${maxInFlight} sends in flight`);
      for (const dev of ends) {
        assert.equal(dev.stats.framesSent, N);
        assert.equal(dev.stats.framesReceived, N);
        assert.equal(dev.stats.writeErrors, 0);
        assert.equal(dev.stats.dropsOversize, 0);
      }
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "UdpTunnelDevice wakes the receiver once per empty-to-non-empty transition",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ medium: Medium.Ethernet });
    try {
      assert.equal(a.capabilities.medium, Medium.Ethernet);
      assert.equal(a.capabilities.mtu, 1514);
      const woke = readable(b, 2000);
      a.transmit(0, 60)!.fill(7);
      a.commit();
      await woke;
      const f = b.receive(0);
      assert.equal(f?.length, 60);
      assert.ok(f!.every((x) => x === 7));
      assert.equal(b.receive(0), null);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "UdpTunnelDevice drops and counts oversize datagrams and datagrams from strangers",
  ...sanitized,
  fn: async () => {
    const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const portB = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const a = await UdpTunnelDevice.open({
      local: { hostname: "127.0.0.1", port: 0 },
      peer: { hostname: "127.0.0.1", port: portB },
      mtu: 200,
    });
    const b = await UdpTunnelDevice.open({
      local: { hostname: "127.0.0.1", port: portB },
      peer: { hostname: "localhost", port: a.localAddr.port },
      mtu: 100,
      batchIo: false, // the Deno.listenDatagram path sees and counts strangers
    });
    const stranger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      assert.equal(b.transmit(0, 101), null);
      assert.equal(b.stats.dropsTooBig, 1);
      await stranger.send(new Uint8Array(10), b.localAddr);
      const woke = readable(b, 1000);
      for (const len of [150, 101, 100]) {
        a.transmit(0, len)!.fill(1);
        a.commit();
      }
      await woke;
      assert.equal(b.receive(0)?.length, 100);
      assert.equal(b.receive(0), null);
      assert.equal(b.stats.dropsOversize, 2);
      assert.equal(b.stats.readErrors, 1, "the stranger's datagram is dropped and counted");
    } finally {
      stranger.close();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "UdpTunnelDevice refuses transmit while maxInFlight sends are pending and close() is idempotent",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ maxInFlight: 2, batchIo: false });
    try {
      for (let i = 0; i < 2; i++) {
        a.transmit(0, 10)!.fill(i);
        a.commit();
      }
      assert.equal(a.inFlight, 2);
      assert.equal(a.canTransmit(0), false);
      assert.equal(a.transmit(0, 10), null);
      assert.equal(a.stats.txQueueFull, 1); // back-pressure, not a loss
      assert.equal(a.stats.dropsTxBusy, 0);
      const woke = readable(a, 2000); // a slot frees after a refusal: the stack is woken
      await woke;
      assert.ok(a.canTransmit(0));
    } finally {
      await Promise.all([a.close(), a.close()]);
      await b.close();
    }
    assert.equal(a.canTransmit(0), false);
    assert.equal(a.transmit(0, 10), null);
  },
});

/** Deno reads /proc only with --allow-all. */
const procReadable = (() => {
  try {
    Deno.readTextFileSync("/proc/net/udp");
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "UdpTunnelDevice names the datagrams the kernel dropped when its receive buffer overflowed",
  ignore: !procReadable,
  ...sanitized,
  fn: async () => {
    // b's ring holds one frame and nobody drains it: its kernel receive buffer fills and overflows.
    // The Deno.listenDatagram path keeps the kernel's default buffer (the batched one asks 4 MiB).
    const [a, b] = await pair({ rxQueueLen: 1, maxInFlight: 64, batchIo: false });
    try {
      assert.equal(b.hostReceiveDrops(), 0);
      let sent = 0;
      while (sent < 3000) {
        const buf = a.transmit(0, 1400);
        if (buf === null) {
          await readable(a, 1000);
          continue;
        }
        buf.fill(sent & 0xff);
        a.commit();
        sent++;
      }
      while (a.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      const drops = b.hostReceiveDrops()!;
      // 3000 datagrams of 1400 bytes are far beyond the default 208 KiB receive buffer.
      assert.ok(drops > 0, "no kernel drop counted");
      assert.ok(drops < 3000, `${drops} drops of 3000`);
      assert.equal(b.stats.rxQueueFull > 0, true);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

/** Commits frames while `dev` accepts them (at most `max`); returns how many. */
function fill(dev: UdpTunnelDevice, max: number): number {
  let n = 0;
  while (n < max && dev.canTransmit(0)) {
    dev.transmit(0, 100)!.fill(n);
    dev.commit();
    n++;
  }
  return n;
}

Deno.test({
  name: "UdpTunnelDevice with flowWindow keeps at most that many frames unread by a stalled peer",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ rxQueueLen: 4 });
    await a.close();
    await b.close();
    const ports = [a.localAddr.port, b.localAddr.port] as const;
    const open = (me: number, peer: number, rxQueueLen: number) =>
      UdpTunnelDevice.open({
        local: { hostname: "127.0.0.1", port: me },
        peer: { hostname: "127.0.0.1", port: peer },
        flowWindow: 8,
        rxQueueLen,
      });
    const x = await open(ports[0], ports[1], 256);
    const y = await open(ports[1], ports[0], 4); // never drained: its reader stops after 4
    try {
      assert.equal(fill(x, 100), 8); // the window
      assert.equal(x.canTransmit(0), false);
      // y reads 4 into its ring and credits them; the other 4 wait in its kernel buffer.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(fill(x, 100), 4);
      // Probes find y's reader paused: nothing is written off, no further credit.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fill(x, 100), 0);
      assert.equal(x.stats.tunnelLost, 0);
      // Draining y lets everything through, in order, and reopens the window.
      const got: number[] = [];
      while (got.length < 12) {
        for (let f = y.receive(0); f !== null; f = y.receive(0)) got.push(f[0]!);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3]);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(fill(x, 100) > 0, "the window did not reopen");
      assert.equal(x.stats.tunnelLost, 0);
    } finally {
      await x.close();
      await y.close();
    }
  },
});

Deno.test({
  name: "UdpTunnelDevice with flowWindow writes off and counts frames the peer never received",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair();
    await a.close();
    await b.close();
    const ports = [a.localAddr.port, b.localAddr.port] as const;
    const open = (me: number, peer: number) =>
      UdpTunnelDevice.open({
        local: { hostname: "127.0.0.1", port: me },
        peer: { hostname: "127.0.0.1", port: peer },
        flowWindow: 8,
      });
    const x = await open(ports[0], ports[1]);
    try {
      // Nobody listens yet: these 8 frames are lost.
      assert.equal(fill(x, 100), 8);
      while (x.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      const y = await open(ports[1], ports[0]);
      try {
        // x probes; y answers "0 read" twice with its reader running: the 8 are written off.
        await readable(x, 2000);
        assert.equal(x.stats.tunnelLost, 8);
        assert.equal(fill(x, 100), 8);
        const got: number[] = [];
        while (got.length < 8) {
          for (let f = y.receive(0); f !== null; f = y.receive(0)) got.push(f[0]!);
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert.equal(x.stats.tunnelLost, 8);
      } finally {
        await y.close();
      }
    } finally {
      await x.close();
    }
  },
});

/** The acknowledgment number of an IPv4 TCP frame from `segment`. */
function ackOf(f: Uint8Array): number {
  return ((f[28]! << 24) | (f[29]! << 16) | (f[30]! << 8) | f[31]!) >>> 0;
}

/** Commits `frame` on `dev` (which must accept it). */
function send(dev: UdpTunnelDevice, frame: Uint8Array): void {
  dev.transmit(0, frame.length)!.set(frame);
  dev.commit();
}

/** Receives from `dev` until `n` frames arrived or `ms` passed. */
async function collect(dev: UdpTunnelDevice, n: number, ms = 2000): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  while (got.length < n && Date.now() < deadline) {
    for (let f = dev.receive(0); f !== null; f = dev.receive(0)) got.push(f.slice());
    if (got.length < n) await new Promise((r) => setTimeout(r, 5));
  }
  return got;
}

Deno.test({
  name: "UdpTunnelDevice with batchIo sends a turn's frames in order without refusing any",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ rxQueueLen: 512 });
    try {
      assert.equal(a.batchSize, 64);
      const mtu = a.capabilities.mtu;
      // 200 frames in one synchronous turn: a full queue is flushed by transmit, never refused.
      for (let i = 0; i < 200; i++) send(a, frame(i, mtu));
      assert.equal(a.stats.txQueueFull, 0);
      const got = await collect(b, 200);
      assert.equal(got.length, 200);
      got.forEach((f, i) => assert.deepEqual(f, frame(i, mtu), `frame ${i}`));
      assert.equal(a.stats.framesSent, 200);
      assert.equal(a.stats.writeErrors, 0);
      assert.equal(a.inFlight, 0);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "UdpTunnelDevice with batchIo never delivers a stranger's datagram (connected socket)",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair();
    const stranger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await stranger.send(new Uint8Array([9, 9, 9]), b.localAddr);
      send(a, new Uint8Array([1, 2, 3, 4]));
      const got = await collect(b, 1);
      await new Promise((r) => setTimeout(r, 100)); // the stranger's datagram had time too
      got.push(...await collect(b, 1, 0));
      assert.deepEqual(got, [new Uint8Array([1, 2, 3, 4])]);
      assert.equal(b.stats.readErrors, 0);
    } finally {
      stranger.close();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "UdpTunnelDevice without FFI permission falls back to Deno.listenDatagram",
  ...sanitized,
  fn: async () => {
    const url = new URL("../../src/phy/udp_tunnel.ts", import.meta.url).href;
    const code = `import { UdpTunnelDevice } from "${url}";
      const d = await UdpTunnelDevice.open({ local: { hostname: "127.0.0.1", port: 0 },
        peer: { hostname: "127.0.0.1", port: 9 } });
      console.log(d.batchSize); await d.close();`;
    // `deno eval` grants everything: run a file with net and read only.
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    let out: Deno.CommandOutput;
    try {
      await Deno.writeTextFile(file, code);
      out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--unstable-net", "--allow-net", "--allow-read", file],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } finally {
      await Deno.remove(file);
    }
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.equal(text, "1", new TextDecoder().decode(out.stderr));
    const [a, b] = await pair({ batchIo: false });
    try {
      assert.equal(a.batchSize, 1);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

for (const batchIo of [true, false]) {
  Deno.test({
    name: `UdpTunnelDevice ${
      batchIo ? "with" : "without"
    } batchIo replaces a queued pure ACK by a newer one of the same connection only`,
    ...sanitized,
    fn: async () => {
      const [a, b] = await pair({ batchIo });
      try {
        // Without batchIo frames queue behind the one being sent: a data frame goes first.
        send(a, segment({ payload: 100, flags: 0x18 }));
        send(a, segment({ ack: 1000 }));
        send(a, segment({ ack: 2000 })); // supersedes 1000
        send(a, segment({ ack: 2000 })); // a duplicate ACK: never merged
        send(a, segment({ ack: 3000, srcPort: 1 })); // another connection
        send(a, segment({ ack: 4000 })); // not adjacent to the 2000s: sent
        const got = await collect(b, 5);
        assert.deepEqual(got.slice(1).map(ackOf), [2000, 2000, 3000, 4000]);
        assert.equal(got[0]!.length, segment({ payload: 100 }).length);
        assert.equal(a.stats.acksCoalesced, 1);
        assert.equal(a.stats.framesSent, 5);
      } finally {
        await a.close();
        await b.close();
      }
    },
  });
}

Deno.test({
  name: "UdpTunnelDevice with coalesceAcks false sends every ACK",
  ...sanitized,
  fn: async () => {
    const [a, b] = await pair({ coalesceAcks: false });
    try {
      for (const ack of [1000, 2000, 3000]) send(a, segment({ ack }));
      const got = await collect(b, 3);
      assert.deepEqual(got.map(ackOf), [1000, 2000, 3000]);
      assert.equal(a.stats.acksCoalesced, 0);
    } finally {
      await a.close();
      await b.close();
    }
  },
});
