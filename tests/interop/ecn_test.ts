// ECN (RFC 3168) negotiated with the Linux kernel through TUN, both ways: smolnet asks
// (`ecn: "on"`) and a kernel server with net.ipv4.tcp_ecn=2 (accept only) agrees; a kernel
// client with net.ipv4.tcp_ecn=1 asks and our default (`"accept"`) agrees; a kernel with
// tcp_ecn=0 refuses. The kernel's view comes from TCP_INFO read by the kernel-side process
// (`ss` 6.1 does not print the options of this 6.18 kernel), ours from `info.ecn`. The sysctl
// is per namespace: the host is not touched.
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

reportSkip("ecn_test.ts");

/**
 * `tcpi_options` of the kernel's socket (struct tcp_info byte 5): TCPI_OPT_ECN (8) when ECN was
 * negotiated, TCPI_OPT_ECN_SEEN (16) once a packet arrived ECT or CE.
 */
const ECN_OK = 8, ECN_SEEN = 16;

/** A kernel server: reads BYTES from one client, prints `tcpi_options`, then reads to EOF. */
const PY_SERVER = String.raw`
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(1)
c, _ = ls.accept()
want, n = int(sys.argv[2]), 0
while n < want:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
print(n, c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5], flush=True)
while c.recv(65536):
    pass
c.close()
`;

/** The `bytes options` line a kernel peer printed. */
function parseLine(out: string): [number, number] {
  const m = /^(\d+) (\d+)$/m.exec(out);
  if (m === null) throw new Error(`unexpected kernel peer output: ${out}`);
  return [Number(m[1]), Number(m[2])];
}

for (const [sysctl, expected] of [[2, true], [0, false]] as const) {
  Deno.test({
    name: `interop: smolnet asks for ECN and a kernel server with tcp_ecn=${sysctl} ` +
      (expected ? "agrees" : "refuses"),
    ...interop,
    fn: async () => {
      await using peer = await KernelPeer.create();
      await peer.must("sysctl", ["-qw", `net.ipv4.tcp_ecn=${sysctl}`]);
      const stack = peer.stack({ tcp: { ecn: "on" } });
      const server = peer.python(PY_SERVER, ["5301", "100000"]);
      await peer.waitListening(5301);
      const conn = await stack.connect({ hostname: KERNEL_V4, port: 5301 });
      await writeAll(conn, new Uint8Array(100_000));
      assert.equal(conn.info.ecn, expected);
      await conn.closeWrite();
      const out = await withTimeout(server.output, 10_000, "kernel server");
      const [bytes, options] = parseLine(out.stdout);
      assert.equal(bytes, 100_000);
      // The kernel agreed, and saw our data arrive ECT (the IP header carried our codepoint).
      assert.equal(options & ECN_OK, expected ? ECN_OK : 0);
      assert.equal(options & ECN_SEEN, expected ? ECN_SEEN : 0);
      conn.close();
    },
  });
}

const PY_CLIENT = String.raw`
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b"x" * 100000)
print(100000, c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5], flush=True)
sys.stdin.readline()
c.close()
`;

Deno.test({
  name: "interop: a kernel client with tcp_ecn=1 asks for ECN and our default listener agrees",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.tcp_ecn=1"]);
    const stack = peer.stack();
    const listener = stack.listen({ hostname: STACK_V4, port: 5302 });
    const client = peer.python(PY_CLIENT, [STACK_V4, "5302"], { stdin: true });
    const conn = await withTimeout(listener.accept(), 10_000, "accept");
    const buf = new Uint8Array(65536);
    let got = 0;
    while (got < 100_000) {
      const n = await withTimeout(conn.read(buf), 10_000, "read");
      if (n === null) break;
      got += n;
    }
    assert.equal(got, 100_000);
    assert.equal(conn.info.ecn, true);
    await client.send("done\n");
    const out = await withTimeout(client.output, 10_000, "kernel client");
    assert.equal(parseLine(out.stdout)[1] & ECN_OK, ECN_OK);
    conn.close();
    listener.close();
  },
});

/**
 * A SYN flood from a raw socket in the namespace: `argv[3]` SYNs to `argv[1]:argv[2]` from
 * spoofed on-link sources 192.0.2.100–.199 (TEST-NET-1; the kernel owns none of them, so our
 * SYN-ACKs to them are dropped and each SYN stays half-open in our SYN queue).
 */
const PY_FLOOD = String.raw`
import socket, struct, sys
dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
d = socket.inet_aton(dst)
for i in range(count):
    src = socket.inet_aton("192.0.2.%d" % (100 + i % 100))
    sport = 20000 + i
    tcp = struct.pack("!HHIIBBHHH", sport, port, 1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(src + d + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + tcp, (dst, 0))
print(count, flush=True)
`;

Deno.test({
  name:
    "interop: under a SYN flood a kernel client with tcp_ecn=1 gets in through a SYN cookie with ECN",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create();
    await peer.must("sysctl", ["-qw", "net.ipv4.tcp_ecn=1"]);
    const stack = peer.stack();
    const listener = stack.listen({ hostname: STACK_V4, port: 5303 });
    // 1100 half-open connections fill the listener's SYN queue (1024).
    const flood = peer.python(PY_FLOOD, [STACK_V4, "5303", "1100"]);
    await withTimeout(flood.output, 10_000, "flood");
    for (let i = 0; i < 100 && listener.info.synQueueLength < 1024; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(listener.info.synQueueLength, 1024);
    const client = peer.python(PY_CLIENT, [STACK_V4, "5303"], { stdin: true });
    const conn = await withTimeout(listener.accept(), 10_000, "accept");
    const buf = new Uint8Array(65536);
    let got = 0;
    while (got < 100_000) {
      const n = await withTimeout(conn.read(buf), 10_000, "read");
      if (n === null) break;
      got += n;
    }
    assert.equal(got, 100_000);
    const info = listener.info;
    assert.ok(info.synCookiesSent >= 1, `${info.synCookiesSent} cookies sent`);
    assert.equal(info.synCookiesAccepted, 1);
    assert.equal(conn.info.ecn, true, "ECN negotiated through the cookie");
    await client.send("done\n");
    const out = await withTimeout(client.output, 10_000, "kernel client");
    assert.equal(parseLine(out.stdout)[1] & ECN_OK, ECN_OK);
    conn.close();
    listener.close();
  },
});
