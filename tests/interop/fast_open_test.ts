// TCP Fast Open (RFC 7413) against the Linux kernel through TUN, both ways, with
// net.ipv4.tcp_fastopen=3 (client and server) set inside the test's own namespace: a kernel
// server (TCP_FASTOPEN on the listener) gives our client a cookie on the first connection and
// takes the data of our second SYN; a kernel client (TCP_FASTOPEN_CONNECT) asks our listener
// for a cookie, then sends its second request in the SYN. The kernel's view comes from TCP_INFO
// (tcpi_options & TCPI_OPT_SYN_DATA: the SYN-ACK acknowledged data in the SYN).
import assert from "node:assert/strict";
import {
  interop,
  KERNEL_V4,
  KernelPeer,
  reportSkip,
  STACK_V4,
  withTimeout,
  writeAll,
} from "./_kernel_peer.ts";

reportSkip("fast_open_test.ts");

/** struct tcp_info byte 5 (tcpi_options): data in the SYN was acknowledged. */
const TCPI_OPT_SYN_DATA = 32;

/** A kernel server with Fast Open: for each of N connections, reads one request, prints it. */
const PY_SERVER = String.raw`
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(16)
for i in range(int(sys.argv[2])):
    c, _ = ls.accept()
    data = c.recv(65536)
    opts = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5]
    print(i, data.decode(), opts, flush=True)
    c.sendall(b"ok")
    c.close()
`;

/** A kernel client with TCP_FASTOPEN_CONNECT: N connections, each sends one request. */
const PY_CLIENT = String.raw`
import socket, sys
for i in range(int(sys.argv[3])):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, 30, 1)  # TCP_FASTOPEN_CONNECT
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(("request %d" % i).encode())
    reply = s.recv(64)
    opts = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5]
    print(i, reply.decode(), opts, flush=True)
    s.close()
`;

/** The `i text options` lines a kernel peer printed. */
function parseLines(out: string): { text: string; options: number }[] {
  return out.trim().split("\n").map((l) => {
    const m = /^(\d+) (.+) (\d+)$/.exec(l);
    if (m === null) throw new Error(`unexpected kernel peer output: ${out}`);
    return { text: m[2]!, options: Number(m[3]) };
  });
}

Deno.test({
  name:
    "interop: our Fast Open client gets a cookie from a kernel server and sends data in the SYN",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.tcp_fastopen=3"]);
    const stack = peer.stack();
    const server = peer.python(PY_SERVER, ["5401", "2"]);
    await peer.waitListening(5401);
    const infos = [];
    for (const i of [0, 1]) {
      const conn = await stack.connect({ hostname: KERNEL_V4, port: 5401, fastOpen: true });
      await writeAll(conn, new TextEncoder().encode(`request ${i}`));
      const buf = new Uint8Array(16);
      const n = await withTimeout(conn.read(buf), 10_000, "reply");
      assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "ok");
      infos.push({ synData: conn.info.fastOpenSynData, acked: conn.info.fastOpenDataAcked });
      conn.close();
    }
    const lines = parseLines((await withTimeout(server.output, 10_000, "kernel server")).stdout);
    assert.deepEqual(lines.map((l) => l.text), ["request 0", "request 1"]);
    // First connection: a cookie request, ordinary data. Second: the kernel took the SYN's data.
    assert.deepEqual(infos, [{ synData: 0, acked: 0 }, { synData: 1, acked: 1 }]);
    assert.equal(lines[0]!.options & TCPI_OPT_SYN_DATA, 0);
    assert.equal(lines[1]!.options & TCPI_OPT_SYN_DATA, TCPI_OPT_SYN_DATA);
  },
});

Deno.test({
  name: "interop: a kernel Fast Open client gets our cookie and its second SYN's data is taken",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.tcp_fastopen=3"]);
    const stack = peer.stack();
    const listener = stack.listen({ hostname: STACK_V4, port: 5402, fastOpen: true });
    const client = peer.python(PY_CLIENT, [STACK_V4, "5402", "2"]);
    const got: string[] = [];
    for (let i = 0; i < 2; i++) {
      const conn = await withTimeout(listener.accept(), 10_000, "accept");
      const buf = new Uint8Array(64);
      const n = await withTimeout(conn.read(buf), 10_000, "read");
      got.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
      await writeAll(conn, new TextEncoder().encode("ok"));
      conn.close();
    }
    const lines = parseLines((await withTimeout(client.output, 10_000, "kernel client")).stdout);
    assert.deepEqual(got, ["request 0", "request 1"]);
    assert.deepEqual(lines.map((l) => l.text), ["ok", "ok"]);
    const info = listener.info;
    assert.equal(info.fastOpenCookiesSent, 1);
    assert.equal(info.fastOpenAccepted, 1);
    assert.equal(info.fastOpenRejected, 0);
    assert.equal(lines[0]!.options & TCPI_OPT_SYN_DATA, 0);
    assert.equal(lines[1]!.options & TCPI_OPT_SYN_DATA, TCPI_OPT_SYN_DATA);
    listener.close();
  },
});

Deno.test({
  name:
    "interop: after two SYNs with data dropped by a middlebox our client stops using Fast Open to that kernel server",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.tcp_fastopen=3"]);
    // A middlebox in the namespace: SYNs (without ACK) longer than 120 bytes vanish, i.e. a SYN
    // with our cookie and a 300-byte request; a plain SYN or a cookie request passes.
    await peer.must("nft", ["add", "table", "inet", "tfo"]);
    await peer.must("nft", [
      ...["add", "chain", "inet", "tfo", "in"],
      "{ type filter hook input priority 0 ; }",
    ]);
    await peer.must("nft", [
      ...["add", "rule", "inet", "tfo", "in", "iifname", peer.ifname],
      ...["tcp", "flags", "&", "(syn|ack)", "==", "syn", "meta", "length", ">", "120"],
      ...["counter", "drop"],
    ]);
    const stack = peer.stack();
    const server = peer.python(PY_SERVER, ["5406", "4"]);
    await peer.waitListening(5406);
    const infos = [];
    for (const i of [0, 1, 2, 3]) {
      const conn = await stack.connect({ hostname: KERNEL_V4, port: 5406, fastOpen: true });
      const early = conn.info.state === "synSent";
      await writeAll(conn, new TextEncoder().encode(`request${i}:${"x".repeat(300)}`));
      const buf = new Uint8Array(16);
      const n = await withTimeout(conn.read(buf), 10_000, "reply");
      assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "ok");
      const { fastOpenSynData: synData, rtos } = conn.info;
      infos.push({ early, synData, rtos, drops: stack.fastOpenCache.info.synDataDrops });
      conn.close();
    }
    const lines = parseLines((await withTimeout(server.output, 10_000, "kernel server")).stdout);
    assert.deepEqual(lines.map((l) => l.text.slice(0, 9)), [0, 1, 2, 3].map((i) => `request${i}:`));
    assert.deepEqual(infos, [
      { early: false, synData: 0, rtos: 0, drops: 0 }, // the cookie request passes
      { early: true, synData: 1, rtos: 1, drops: 1 }, // SYN data dropped, the plain retry passes
      { early: true, synData: 1, rtos: 1, drops: 2 }, // again: Fast Open to it pauses (4 min)
      { early: false, synData: 0, rtos: 0, drops: 2 }, // a plain handshake, no timeout
    ]);
    const rules = await peer.must("nft", ["list", "chain", "inet", "tfo", "in"]);
    assert.match(rules, /counter packets 2 /);
  },
});
