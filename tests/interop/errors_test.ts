// What the kernel's refusals do to a smolnet application, through TUN:
// - RST answering our SYN (closed port)        → connect rejects Deno.errors.ConnectionRefused;
// - RST on an open connection (SO_LINGER 0)     → read rejects Deno.errors.ConnectionReset;
// - ICMP port unreachable for our UDP datagram  → delivered to the core UdpSocket (takeError),
//   but, like an unconnected Linux UDP socket, NOT reported by the async UdpSocket: send
//   resolves, a pending receive stays pending and still gets the next datagram;
// - zero window (a kernel server that stops reading) → our writes stall without loss or error,
//   the kernel advertises window 0, and everything arrives once it reads again.
import assert from "node:assert/strict";
import { Interface, SocketSet } from "../../src/iface/mod.ts";
import { MemorySink, PcapWriter } from "../../src/phy/pcap_writer.ts";
import { UdpSocket as CoreUdpSocket } from "../../src/socket/mod.ts";
import { parseIpAddress } from "../../src/wire/mod.ts";
import {
  driveCore,
  interop,
  KERNEL_V4,
  KERNEL_V6,
  KernelPeer,
  peerResult,
  PY_PEER,
  reportSkip,
  run,
  STACK_V4,
  STACK_V6,
  withTimeout,
  writeAll,
} from "./_kernel_peer.ts";
import { createHash } from "node:crypto";

reportSkip("errors_test.ts");

function hasCode(e: unknown, cls: new (...a: never[]) => Error, code: string): void {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
  assert.equal((e as Error & { code?: string }).code, code);
}

Deno.test({
  name: "interop: connecting to a closed kernel port rejects with ConnectionRefused (IPv4, IPv6)",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ ipv6: true });
    const stack = peer.stack({ ipv6: true });
    for (const hostname of [KERNEL_V4, KERNEL_V6]) {
      const t0 = performance.now();
      const e = await withTimeout(
        stack.connect({ hostname, port: 9 }).then(() => null, (e) => e),
        5000,
        "connect",
      );
      hasCode(e, Deno.errors.ConnectionRefused, "ECONNREFUSED");
      assert.match((e as Error).message, /connection refused/);
      assert.ok(performance.now() - t0 < 1000, "refused at once, not after retries");
    }
  },
});

Deno.test({
  name: "interop: a kernel server that resets (SO_LINGER 0) makes read reject with ConnectionReset",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    const stack = peer.stack();
    const server = peer.python(PY_PEER, ["reset", "5201"]);
    await peer.waitListening(5201);
    const conn = await stack.connect({ hostname: KERNEL_V4, port: 5201 });
    try {
      await writeAll(conn, new TextEncoder().encode("hello"));
      const e = await withTimeout(
        conn.read(new Uint8Array(100)).then((n) => `read ${n}`, (e) => e),
        5000,
        "read after the peer's RST",
      );
      hasCode(e, Deno.errors.ConnectionReset, "ECONNRESET");
      // Writing after the reset is a broken pipe, as on Linux after the first ECONNRESET.
      const w = await conn.write(new Uint8Array(10)).then((n) => `wrote ${n}`, (e) => e);
      assert.ok(
        w instanceof Deno.errors.BrokenPipe || w instanceof Deno.errors.ConnectionReset,
        String(w),
      );
    } finally {
      conn.close();
    }
    assert.equal((await server.output).code, 0);
  },
});

/** The kernel's count of ICMP(v6) destination unreachable messages it sent, in `ns`. */
async function outUnreachables(peer: KernelPeer): Promise<{ v4: number; v6: number }> {
  const snmp = (await peer.must("cat", ["/proc/net/snmp"])).split("\n");
  const head = snmp.find((l) => l.startsWith("Icmp: InMsgs"))!.split(/\s+/);
  const vals = snmp.filter((l) => l.startsWith("Icmp:"))[1]!.split(/\s+/);
  const v4 = Number(vals[head.indexOf("OutDestUnreachs")]);
  const snmp6 = await peer.must("cat", ["/proc/net/snmp6"]);
  const v6 = Number(/Icmp6OutDestUnreachs\s+(\d+)/.exec(snmp6)?.[1]);
  return { v4, v6 };
}

Deno.test({
  name:
    "interop: ICMP port unreachable reaches the core UdpSocket as type 3 code 3 / type 1 code 4",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ ipv6: true });
    const iface = new Interface({
      medium: "ip",
      addresses: [`${STACK_V4}/24`, `${STACK_V6}/64`],
    });
    const sockets = new SocketSet();
    const udp = new CoreUdpSocket();
    iface.bindUdp(sockets, udp, { addr: parseIpAddress("0.0.0.0"), port: 40000 });
    const udp6 = new CoreUdpSocket();
    iface.bindUdp(sockets, udp6, { addr: parseIpAddress("::"), port: 40000 });
    for (
      const [s, target, type, code] of [
        [udp, KERNEL_V4, 3, 3],
        [udp6, KERNEL_V6, 1, 4],
      ] as const
    ) {
      assert.ok(s.send(new TextEncoder().encode("anyone?"), {
        addr: parseIpAddress(target),
        port: 9,
      }));
      let err = null as ReturnType<typeof s.takeError>;
      const done = await driveCore(peer.device, iface, sockets, () => {
        err = s.takeError();
        return err !== null;
      }, 3000);
      assert.ok(done, `no ICMP error from ${target}`);
      assert.equal(err!.type, type);
      assert.equal(err!.code, code);
      assert.equal(err!.from.toString(), target);
      assert.equal(err!.remote.port, 9);
      assert.equal(err!.local.port, 40000);
    }
  },
});

Deno.test({
  name: "interop: the async UdpSocket ignores ICMP port unreachable like an unconnected Linux " +
    "socket: send resolves, receive stays pending and gets the next datagram",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    const stack = peer.stack();
    const udp = stack.listenDatagram({ port: 40001 });
    try {
      const before = await outUnreachables(peer);
      const pending = udp.receive();
      let settled = false;
      pending.then(() => settled = true, () => settled = true);
      const n = await udp.send(new TextEncoder().encode("anyone?"), {
        transport: "udp",
        hostname: KERNEL_V4,
        port: 9,
      });
      assert.equal(n, 7);
      // The kernel answers with port unreachable; nothing must surface.
      let after = before;
      for (let i = 0; i < 50 && after.v4 === before.v4; i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await outUnreachables(peer);
      }
      assert.equal(after.v4, before.v4 + 1, "the kernel sent one port unreachable");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(settled, false, "receive settled on an ICMP error");
      // A later datagram from the kernel arrives on the same socket.
      const r = await peer.exec("python3", [
        "-c",
        "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); " +
        `s.bind(("${KERNEL_V4}", 40002)); s.sendto(b"still here", ("${STACK_V4}", 40001))`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [data, from] = await withTimeout(pending, 3000, "receive");
      assert.equal(new TextDecoder().decode(data), "still here");
      assert.equal((from as Deno.NetAddr).port, 40002);
    } finally {
      udp.close();
    }
  },
});

Deno.test({
  name: "interop: a kernel server that stops reading closes its window: our writes stall with " +
    "no loss or error and resume when it reads",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    const sink = new MemorySink();
    const stack = peer.stack({ device: new PcapWriter(peer.device, sink) });
    const server = peer.python(PY_PEER, ["stall", "5202", "16384"], { stdin: true });
    await peer.waitListening(5202);
    const conn = await stack.connect({ hostname: KERNEL_V4, port: 5202 });
    const total = 2 * 1048576;
    const data = crypto.getRandomValues(new Uint8Array(1 << 16));
    const h = createHash("sha256");
    let written = 0;
    let failure: unknown = null;
    const writer = (async () => {
      try {
        while (written < total) {
          h.update(data);
          for (let off = 0; off < data.length;) {
            const n = await conn.write(data.subarray(off));
            off += n;
            written += n;
          }
        }
        await conn.closeWrite();
      } catch (e) {
        failure = e;
      }
    })();
    // Wait until nothing more is accepted for 1 s: the peer's window and our send buffer are full.
    let last = -1;
    let stillSince = performance.now();
    while (performance.now() - stillSince < 1000) {
      await new Promise((r) => setTimeout(r, 100));
      if (written !== last) {
        last = written;
        stillSince = performance.now();
      }
      assert.ok(written < total, "every write went through: the window never closed");
    }
    const stalledAt = written;
    const recvQ = await peer.must("ss", ["-Htn", "state", "established", "sport", "= :5202"]);
    // Stay stalled through persist probes; the connection must survive them.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(written, stalledAt, "writes went on while the window was closed");
    assert.equal(failure, null);
    await server.send("go");
    await withTimeout(writer, 60_000, "writes after the window reopened");
    assert.equal(failure, null, String(failure));
    await withTimeout(conn.read(new Uint8Array(1)), 10_000, "peer FIN");
    conn.close();
    const theirs = peerResult(await server.output);
    assert.equal(theirs.bytes, total);
    assert.equal(theirs.sha256, h.digest("hex"));
    // The capture shows the kernel advertising a zero window (tshark's analysis flag).
    let zeroWindows = "(tshark not run)";
    const file = await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(file, sink.bytes());
      const r = await run("tshark", [
        "-n",
        "-r",
        file,
        "-Y",
        "tcp.analysis.zero_window",
        "-T",
        "fields",
        "-e",
        "frame.number",
      ]).catch(() => null);
      if (r !== null && r.code === 0) {
        const count = r.stdout.trim() === "" ? 0 : r.stdout.trim().split("\n").length;
        assert.ok(count > 0, "no zero-window segment from the kernel in the capture");
        zeroWindows = String(count);
      }
    } finally {
      await Deno.remove(file);
    }
    console.log(
      `stalled at ${stalledAt} bytes (kernel: ${
        recvQ.trim().split(/\s+/).slice(0, 3).join(" ")
      }),` +
        ` zero-window segments ${zeroWindows}, then ${total} bytes delivered, SHA-256 equal`,
    );
  },
});

// The kernel as our gateway answers a SYN to a network it has no route to with ICMP "net
// unreachable". The interface hands it to the connection (TcpSocket.processIcmpError); in
// SYN-SENT it is a soft error (RFC 5461 §4), which ends the connect once the SYN has been
// retransmitted twice. Linux fails at once (ENETUNREACH), and so does Deno.connect.
Deno.test({
  name: "interop: ICMP net unreachable for our SYN ends connect with NetworkUnreachable after " +
    "two SYN retransmissions (RFC 5461 soft error)",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    const stack = peer.stack({ gateways: [KERNEL_V4] });
    const t0 = performance.now();
    const e = await stack.connect({
      hostname: "198.51.100.7",
      port: 80,
      signal: AbortSignal.timeout(30_000),
    }).then(() => null, (e) => e);
    const ms = performance.now() - t0;
    // SYN at 0, 1 s and 3 s (RTO backoff); each draws the kernel's net unreachable, and the
    // third one, after two retransmissions, ends the connect (SOFT_ERROR_SYN_RETRIES).
    assert.ok(e instanceof Deno.errors.NetworkUnreachable, String(e));
    assert.equal((e as Error & { code?: string }).code, "ENETUNREACH");
    console.log(
      `connect through a gateway without a route: ${e.name} after ${ms.toFixed(0)} ms`,
    );
  },
});
