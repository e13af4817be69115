// TUN/TAP against the Linux kernel. Each test creates the device in the test process's own
// namespace (the fd stays usable after the link moves), moves the link into a fresh network
// namespace, configures the kernel side there with TEST-NET addresses and deletes the namespace
// by name afterwards, even on failure.
import assert from "node:assert/strict";
import { Medium } from "../../src/phy/device.ts";
import { TunTapDevice } from "../../src/phy/tun_tap.ts";
import type { TunTapOptions } from "../../src/phy/tun_tap.ts";
import { NetStack } from "../../src/net/stack.ts";
import { segment } from "./_tcp_frames.ts";
import {
  answerPings,
  createNetns,
  deleteNetns,
  type DeviceInNetns,
  deviceInNetns,
  hasCommand,
  ipIn,
  linkName,
  must,
  netAdmin,
  reportSkip,
  runIn,
} from "./_netns.ts";

reportSkip("tun_tap_test.ts");

const privileged = {
  ignore: !netAdmin.ok,
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

/** Whether the kernel side can run `ping` (iputils-ping); the tests that use it skip without. */
const hasPing = hasCommand("ping");
if (netAdmin.ok && !hasPing) {
  console.log("tests/phy/tun_tap_test.ts: skipping the ping tests: no `ping` on PATH");
}
const withPing = { ...privileged, ignore: !netAdmin.ok || !hasPing } as const;

/** Opens a device, moves it into a new namespace with 192.0.2.1/24 on the kernel side, up. */
function kernelSide(
  mode: "tun" | "tap",
  options: Partial<TunTapOptions> = {},
): Promise<DeviceInNetns> {
  return deviceInNetns(mode, { ...options, mode });
}

Deno.test({
  name: "TunTapDevice delivers a kernel ping to the stack side and the kernel gets the reply",
  ...withPing,
  fn: async () => {
    const { dev, ns } = await kernelSide("tun");
    try {
      assert.equal(dev.capabilities.medium, Medium.Ip);
      assert.equal(dev.capabilities.mtu, 1500);
      const responder = answerPings(dev, { ip: "192.0.2.2" });
      const ping = await runIn(ns, "ping", ["-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      responder.stop();
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, / 3 received/);
      assert.equal(responder.log.echoRequests, 3);
      assert.equal(responder.log.echoReplies, 3);
      assert.equal(dev.stats.framesSent, 3);
      assert.equal(dev.stats.writeErrors, 0);
      const rtt = /= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1];
      console.log(`TUN ping RTT avg ${rtt} ms (responder in the test's event loop)`);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice in TAP mode answers the kernel's ARP and ping as an Ethernet device",
  ...withPing,
  fn: async () => {
    const { dev, ns } = await kernelSide("tap");
    try {
      assert.equal(dev.capabilities.medium, Medium.Ethernet);
      assert.equal(dev.capabilities.mtu, 1514);
      const responder = answerPings(dev, { ip: "192.0.2.2", mac: "02:00:5e:00:53:02" });
      const ping = await runIn(ns, "ping", ["-c", "2", "-i", "0.2", "-W", "2", "192.0.2.2"]);
      responder.stop();
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.ok(responder.log.arpReplies >= 1);
      assert.equal(responder.log.echoReplies, 2);
      const neigh = await ipIn(ns, "neigh", "show", "192.0.2.2");
      assert.match(neigh, /02:00:5e:00:53:02/);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice sets the MTU it is given and counts oversize transmits",
  ...privileged,
  fn: async () => {
    const ns = await createNetns("mtu");
    const name = linkName("mtu");
    const dev = await TunTapDevice.open({ name, mode: "tap", mtu: 1280 });
    try {
      await must("ip", ["link", "set", "dev", name, "netns", ns]);
      assert.equal(dev.capabilities.mtu, 1294);
      assert.match(await ipIn(ns, "link", "show", name), /mtu 1280/);
      assert.equal(dev.transmit(0, 1295), null);
      assert.equal(dev.stats.dropsTooBig, 1);
      assert.equal(dev.transmit(0, 1294)?.length, 1294);
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

for (const readerThread of [false, true]) {
  Deno.test({
    name: `TunTapDevice ends its loop with a clear NotFound error when the interface is deleted${
      readerThread ? " (reader thread)" : ""
    }`,
    ...privileged,
    fn: async () => {
      const { dev, ns, name } = await kernelSide("tun", { readerThread });
      assert.equal(dev.readerThread, readerThread);
      try {
        let reported: Error | null = null;
        let wakes = 0;
        dev.onReadable(() => wakes++);
        const closed = dev.closed.then(() => null, (e: Error) => e);
        await ipIn(ns, "link", "del", name);
        const timeout = new Promise<"timeout">((r) => {
          const t = setTimeout(() => r("timeout"), 3000);
          closed.then(() => clearTimeout(t));
        });
        const err = await Promise.race([closed, timeout]);
        assert.notEqual(err, "timeout", "the loop did not notice the deletion within 3 s");
        reported = err as Error;
        assert.ok(reported instanceof Deno.errors.NotFound, String(reported));
        assert.match(reported.message, new RegExp(`"${name}" is gone`));
        assert.equal(dev.error, reported);
        assert.equal(dev.canTransmit(0), false);
        assert.ok(wakes >= 1, "the readiness callback runs once on failure");
      } finally {
        await dev.close();
        await deleteNetns(ns);
      }
    },
  });
}

Deno.test({
  name: "TunTapDevice refuses an interface name that is taken by another kind of device",
  ...privileged,
  fn: async () => {
    const ns = await createNetns("busy");
    try {
      // A dummy link in the namespace: TUNSETIFF there would have to create the same name.
      await ipIn(ns, "link", "add", "smdummy0", "type", "veth", "peer", "name", "smdummy1");
      const r = await runIn(ns, Deno.execPath(), [
        "eval",
        `import { TunTapDevice } from ${
          JSON.stringify(import.meta.resolve("../../src/phy/tun_tap.ts"))
        };
         try { await TunTapDevice.open({ name: "smdummy0", mode: "tun" }); console.log("opened"); }
         catch (e) { console.log(e.name + ": " + e.message); }`,
      ]);
      assert.match(r.stdout, /^TypeError: .*"smdummy0".*is not a tun/, r.stderr);
      assert.doesNotMatch(r.stdout, /opened/);
    } finally {
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "TunTapDevice without CAP_NET_ADMIN fails with PermissionDenied naming what to run",
  ...privileged,
  fn: async () => {
    // Drop every capability for one child process (setpriv from util-linux).
    const out = await new Deno.Command("setpriv", {
      args: [
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        Deno.execPath(),
        "eval",
        `import { TunTapDevice } from ${
          JSON.stringify(import.meta.resolve("../../src/phy/tun_tap.ts"))
        };
         try { await TunTapDevice.open({ name: "smnocap0", mode: "tun" }); console.log("opened"); }
         catch (e) { console.log(e.name + ": " + e.message); }`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => null);
    if (out === null) return; // no setpriv here: nothing to check
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /^PermissionDenied: /, new TextDecoder().decode(out.stderr));
    assert.match(text, /sudo/);
    assert.match(text, /ip tuntap add dev smnocap0 mode tun user \$USER/);
    assert.match(text, /unshare -Urn/);
  },
});

/** Writes `frame` through `transmit` + `commit`. */
function send(dev: TunTapDevice, frame: Uint8Array): void {
  const buf = dev.transmit(0, frame.length);
  assert.ok(buf !== null);
  buf.set(frame);
  dev.commit();
}

Deno.test({
  name:
    "TunTapDevice holds a pure ACK only while the stack takes a received burst, and asks for a poll after a write",
  ...withPing,
  fn: async () => {
    const { dev, ns } = await kernelSide("tun");
    try {
      // Pure ACKs 198.51.100.1 -> 192.0.2.1 (the kernel drops them: bad checksums, no socket).
      const ack = (n: number) => segment({ ack: n, dstLast: 1 });
      // Outside a burst (a delayed ACK, a window update) an ACK leaves at once: nothing else
      // would send it before the next frame arrives.
      assert.equal(dev.nextDeadline(), Infinity);
      send(dev, ack(1000));
      assert.equal(dev.stats.framesSent, 1);
      // The kernel answers inside the write (the data an ACK lets out): poll now, until a read
      // finds nothing.
      assert.equal(dev.nextDeadline(), -Infinity);
      assert.equal(dev.receive(0), null);
      assert.equal(dev.nextDeadline(), Infinity);
      // Likewise for data (its ACK).
      send(dev, segment({ ack: 1000, payload: 600, dstLast: 1 }));
      assert.equal(dev.stats.framesSent, 2);
      assert.equal(dev.nextDeadline(), -Infinity);
      assert.equal(dev.receive(0), null);
      assert.equal(dev.nextDeadline(), Infinity);
      // A burst: the kernel's echo request, read by `receive` itself when the ring is empty.
      const ping = runIn(ns, "ping", ["-c", "1", "-W", "1", "192.0.2.2"]);
      let frame: Uint8Array | null = null;
      for (let i = 0; frame === null && i < 200; i++) {
        frame = dev.receive(0);
        if (frame === null) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(frame !== null, "no echo request arrived");
      assert.equal(frame[9], 1, "not ICMP");
      // The ACKs answering it wait; a newer one of the same connection replaces the older.
      send(dev, ack(2000));
      send(dev, ack(3000));
      assert.equal(dev.stats.framesSent, 2);
      assert.equal(dev.stats.acksCoalesced, 1);
      // The burst ends when `receive` finds nothing: the newest ACK leaves then.
      assert.equal(dev.receive(0), null);
      assert.equal(dev.stats.framesSent, 3);
      assert.equal(dev.stats.writeErrors, 0);
      await ping;
    } finally {
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

/** python3 in the namespace: accepts one connection on 192.0.2.1:5001, sends `n` bytes of
 * `i % 251`, half-closes, reads to EOF, prints the count sent. */
const PY_SEND = String.raw`
import socket, sys
n = int(sys.argv[1])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 5001)); ls.listen(1)
c, _ = ls.accept()
block = bytes(i % 251 for i in range(251 * 256))
sent = 0
while sent < n:
    k = min(len(block), n - sent); c.sendall(block[:k]); sent += k
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
print(sent, flush=True)
`;

const withPython = { ...privileged, ignore: !netAdmin.ok || !hasCommand("python3") } as const;

for (const coalesceAcks of [true, false]) {
  Deno.test({
    name: `TunTapDevice carries a 4 MiB kernel download intact with ACK coalescing ${
      coalesceAcks ? "on: superseded ACKs are counted, never sent" : "off: every ACK is sent"
    }`,
    ...withPython,
    fn: async () => {
      const { dev, ns } = await kernelSide("tun", { coalesceAcks });
      const bytes = 4 << 20;
      const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
      const py = runIn(ns, "python3", ["-c", PY_SEND, String(bytes)]);
      try {
        let conn = null;
        for (let i = 0; conn === null; i++) {
          try {
            conn = await stack.connect({ hostname: "192.0.2.1", port: 5001 });
          } catch (e) {
            if (!(e instanceof Deno.errors.ConnectionRefused) || i > 100) throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        const buf = new Uint8Array(65536);
        let got = 0;
        let bad = -1;
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
          for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== (got + i) % 251) bad = got + i;
          got += n;
        }
        await conn.closeWrite();
        const out = await py;
        conn.close();
        assert.equal(bad, -1, `byte ${bad} differs`);
        assert.equal(got, bytes);
        assert.equal(out.stdout.trim(), String(bytes), out.stderr);
        const st = dev.stats;
        // Nothing lost or refused on our side of the device.
        for (
          const k of ["dropsOversize", "dropsTruncated", "dropsTxBusy", "writeErrors"] as const
        ) {
          assert.equal(st[k], 0, k);
        }
        assert.equal(st.readErrors, 0);
        // While frames keep coming `receive` reads them itself; the reader loop waits in poll()
        // only when the fd ran dry (16 times for ~2,900 frames here).
        assert.ok(st.readerWakeups * 4 < st.framesReceived, `${st.readerWakeups} wake-ups`);
        if (coalesceAcks) {
          assert.ok(st.acksCoalesced > 0, "no ACK was coalesced in a 4 MiB download");
        } else {
          assert.equal(st.acksCoalesced, 0);
        }
        console.log(
          `coalesceAcks ${coalesceAcks}: ${st.framesReceived} frames in, ${st.framesSent} out, ` +
            `${st.acksCoalesced} ACKs coalesced, ${st.readerWakeups} reader wake-ups`,
        );
      } finally {
        await stack.close();
        await dev.close();
        await deleteNetns(ns);
      }
    },
  });
}

/** python3 in the namespace: one `UDP_SEGMENT` send of 3 × 1000 + 500 bytes to 192.0.2.2:5353. */
const PY_USO = String.raw`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, 1000)  # SOL_UDP, UDP_SEGMENT: datagrams of 1000 bytes
s.sendto(bytes((i * 7) & 0xff for i in range(3500)), ("192.0.2.2", 5353))
print("sent", flush=True)
`;

Deno.test({
  name: "TunTapDevice with offloads splits the kernel's UDP super-frame (USO) into its datagrams",
  ...withPython,
  fn: async () => {
    const { dev, ns } = await kernelSide("tun", { offload: true });
    const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"] });
    const udp = stack.listenDatagram({ port: 5353 });
    try {
      const uso = dev.capabilities.offload?.udpv4 === true;
      const out = await runIn(ns, "python3", ["-c", PY_USO]);
      assert.equal(out.stdout.trim(), "sent", out.stderr);
      const got: number[] = [];
      let at = 0;
      for (let i = 0; i < 4; i++) {
        const [data, from] = await udp.receive(new Uint8Array(2048));
        assert.equal(from.hostname, "192.0.2.1");
        for (let j = 0; j < data.length; j++) {
          assert.equal(data[j], ((at + j) * 7) & 0xff, `byte ${at + j}`);
        }
        at += data.length;
        got.push(data.length);
      }
      assert.deepEqual(got, [1000, 1000, 1000, 500]);
      // With USO negotiated the kernel hands over one super-frame and the device splits it;
      // without it the kernel segments and nothing is split here.
      assert.equal(dev.stats.framesSegmented, uso ? 1 : 0);
      console.log(`USO ${uso ? "negotiated" : "refused by this kernel"}`);
    } finally {
      udp.close();
      await stack.close();
      await dev.close();
      await deleteNetns(ns);
    }
  },
});

/** python3: sends `n` 1000-byte UDP datagrams from 192.0.2.1 to 192.0.2.2:9000 at once. */
const PY_BURST = String.raw`
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])): s.sendto(bytes(1000), ("192.0.2.2", 9000))
`;

for (const kernelQueueLen of [undefined, 500]) {
  Deno.test({
    name: `TunTapDevice with ${
      kernelQueueLen === undefined ? "the default kernel queue (4096)" : "a kernel queue of 500"
    } ${
      kernelQueueLen === undefined ? "keeps" : "drops part of"
    } a 3,000-datagram burst the stack is slow to take, every drop counted by the kernel`,
    ignore: !netAdmin.ok || !hasCommand("python3"),
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const n = 3000;
      const opts = kernelQueueLen === undefined ? {} : { kernelQueueLen };
      const { dev, ns, name } = await kernelSide("tun", opts);
      const linkStats = async () =>
        JSON.parse(await must("ip", ["-n", ns, "-s", "-j", "link", "show", name]))[0];
      try {
        assert.equal((await linkStats()).txqlen, kernelQueueLen ?? 4096);
        // The stack takes nothing meanwhile: the device's ring fills, the rest waits in the kernel.
        assert.equal((await runIn(ns, "python3", ["-c", PY_BURST, String(n)])).code, 0);
        let got = 0;
        for (let idle = 0; idle < 50; idle++) {
          for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
            if (f[9] === 17 && ((f[22]! << 8) | f[23]!) === 9000) {
              got++;
              idle = 0;
            }
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        const dropped = (await linkStats()).stats64.tx.dropped;
        assert.equal(got + dropped, n, `${got} received, ${dropped} dropped by the kernel`);
        if (kernelQueueLen === undefined) assert.equal(got, n);
        else assert.ok(dropped > 0, "a 500-frame queue held the whole burst");
      } finally {
        await dev.close();
        await deleteNetns(ns);
      }
    },
  });
}
