// Garbage written into the TUN/TAP device from the kernel side (an AF_PACKET socket in the
// namespace sends crafted bytes out of the interface, so they reach our fd unchanged): random
// bytes, truncated and inconsistent IPv4/IPv6 headers, bad checksums, bad TCP/UDP/ICMP headers,
// runt and unknown Ethernet frames on TAP, and oversized packets (the kernel side's MTU raised
// above ours). Each is dropped and counted (stack.iface.counters, device stats), and the stack
// keeps serving curl during and after it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { serve } from "../../examples/tun_http_server.ts";
import { interop, KernelPeer, reportSkip, STACK_MAC, STACK_V4 } from "./_kernel_peer.ts";

reportSkip("garbage_test.ts");

/**
 * `garbage.py IFNAME ROUNDS tun|tap`: sends ROUNDS rounds of every kind below and prints how many
 * frames it sent. Every frame is addressed to 192.0.2.2 (and our MAC on TAP) where it has headers.
 */
const GARBAGE = String.raw`
import os, random, socket, struct, sys
ifname, rounds, tap = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "tap"
random.seed(6)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
SRC, DST = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")
OUR_MAC = bytes.fromhex(sys.argv[4].replace(":", ""))
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff
def ip4(proto, payload, ihl=5, tot=None, bad_csum=False, ver=4):
    opts = b"\x01" * ((ihl - 5) * 4) if ihl > 5 else b""
    tot = 20 + len(opts) + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tot, random.randrange(65536), 0, 64,
                    proto, 0, SRC, DST) + opts
    c = csum(h) ^ (0x1234 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload
def l4sum(proto, seg):
    return csum(SRC + DST + struct.pack("!BBH", 0, proto, len(seg)) + seg)
def tcp(dport, flags=0x02, doff=5, bad=False, payload=b""):
    h = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, doff << 4, flags, 65535, 0, 0)
    seg = h + payload
    c = l4sum(6, seg) ^ (0x0101 if bad else 0)
    return seg[:16] + struct.pack("!H", c) + seg[18:]
def udp(dport, length=None, bad=False, payload=b"xyz"):
    ln = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", 40000, dport, ln, 0) + payload
    c = l4sum(17, seg) ^ (0x0101 if bad else 0)
    return seg[:6] + struct.pack("!H", c or 0xffff) + seg[8:]
def icmp(bad=False):
    m = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"abcd"
    c = csum(m) ^ (0x0101 if bad else 0)
    return m[:2] + struct.pack("!H", c) + m[4:]
def ip6(nh, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 6 << 28, plen, nh, 64) + SRC6 + DST6 + payload
kinds = [
    lambda: os.urandom(random.randrange(1, 1400)),            # random bytes
    lambda: bytes([0x45]) + os.urandom(random.randrange(0, 19)),  # truncated IPv4 header
    lambda: ip4(6, tcp(8080), bad_csum=True),                 # bad IPv4 header checksum
    lambda: ip4(6, tcp(8080), tot=1400),                      # total length past the end
    lambda: ip4(6, tcp(8080), tot=10),                        # total length below the header
    lambda: ip4(6, tcp(8080), ihl=4),                         # IHL below 5
    lambda: ip4(6, tcp(8080), ihl=15)[:40],                   # IHL past the end
    lambda: ip4(6, tcp(8080, bad=True)),                      # bad TCP checksum
    lambda: ip4(6, tcp(8080, doff=3)),                        # TCP data offset below 5
    lambda: ip4(6, tcp(8080, doff=15)),                       # TCP data offset past the end
    lambda: ip4(6, tcp(8080)[:12]),                           # truncated TCP header
    lambda: ip4(17, udp(53, length=200)),                     # UDP length past the end
    lambda: ip4(17, udp(53, length=4)),                       # UDP length below 8
    lambda: ip4(17, udp(53, bad=True)),                       # bad UDP checksum
    lambda: ip4(1, icmp(bad=True)),                           # bad ICMP checksum
    lambda: ip4(1, b"\x08"),                                  # truncated ICMP
    lambda: ip6(6, tcp(8080), plen=1000),                     # IPv6 payload length past the end
    lambda: ip6(6, b"")[:30],                                 # truncated IPv6 header
    lambda: ip4(6, tcp(8080), ver=5),                         # IP version 5
]
sent = 0
for r in range(rounds):
    for k in kinds:
        pkt = k()
        if tap:
            et = b"\x86\xdd" if pkt[0] >> 4 == 6 else b"\x08\x00"
            pkt = OUR_MAC + bytes.fromhex("020000000001") + et + pkt
        s.send(pkt)
        sent += 1
    if tap:
        s.send(OUR_MAC + bytes.fromhex("020000000001") + b"\x08\x00")     # header only
        s.send(OUR_MAC + bytes.fromhex("020000000001") + b"\x88\xb5" + os.urandom(50))  # unknown type
        s.send(OUR_MAC + bytes.fromhex("020000000001") + b"\x08\x06" + os.urandom(10))  # short ARP
        sent += 3
print(sent)
`;

/** The `i % 251` pattern's SHA-256 for `n` bytes. */
function patternSha(n: number): string {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return createHash("sha256").update(b).digest("hex");
}

for (const mode of ["tun", "tap"] as const) {
  Deno.test({
    name: `interop: garbage from the kernel side of the ${mode.toUpperCase()} is dropped and ` +
      "counted, and the stack keeps serving curl",
    ...interop,
    fn: async () => {
      await using peer = await KernelPeer.create({ mode });
      const stack = peer.stack();
      const listener = stack.listen({ port: 8080 });
      const serving = serve(listener);
      try {
        const c = stack.iface.counters;
        // Quiet phase: every injected frame is accounted for by exactly one drop counter.
        const rounds = 20;
        const drops0 = c.totalDrops();
        const rx0 = c.rxFrames;
        const out = await peer.must("python3", [
          "-c",
          GARBAGE,
          peer.ifname,
          String(rounds),
          mode,
          STACK_MAC,
        ]);
        const sent = Number(out.trim());
        for (let i = 0; i < 100 && c.rxFrames - rx0 < sent; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 100));
        const drops = c.totalDrops() - drops0;
        const rx = c.rxFrames - rx0;
        console.log(
          `${mode}: sent ${sent} garbage frames, stack saw ${rx}, dropped ${drops}:`,
          c.snapshot(),
        );
        assert.equal(rx, sent, "frames the stack received");
        assert.equal(drops, sent, "every garbage frame counted as exactly one drop");
        assert.ok(c.malformed > 0 && c.badChecksum > 0);

        // Oversized: raise the kernel side's MTU above ours and send big packets (a ping the
        // kernel cannot fragment, DF set); the device drops and counts them.
        const ipMtu = peer.device.capabilities.mtu - (mode === "tap" ? 14 : 0);
        await peer.must("ip", ["link", "set", peer.ifname, "mtu", "4000"]);
        const big = await peer.exec("ping", [
          "-c",
          "3",
          "-i",
          "0.05",
          "-W",
          "1",
          "-M",
          "do",
          "-s",
          String(ipMtu + 500),
          STACK_V4,
        ]);
        assert.notEqual(big.code, 0, "no reply to an oversized ping");
        const ds = peer.device.stats;
        assert.ok(ds.dropsOversize + ds.dropsTruncated >= 3, JSON.stringify(ds));
        await peer.must("ip", ["link", "set", peer.ifname, "mtu", String(ipMtu)]);

        // Loaded phase: garbage while curl downloads; the download is byte-exact.
        const n = 8 * 1048576;
        const fetch = peer.exec("sh", [
          "-c",
          `curl -sS --max-time 60 http://${STACK_V4}:8080/bytes/${n} | sha256sum`,
        ]);
        const noise = peer.exec("python3", ["-c", GARBAGE, peer.ifname, "50", mode, STACK_MAC]);
        const [f, g] = await Promise.all([fetch, noise]);
        assert.equal(g.code, 0, g.stderr);
        assert.equal(f.stdout.split(" ")[0], patternSha(n), f.stderr);
        const ping = await peer.exec("ping", ["-c", "2", "-i", "0.05", "-W", "2", STACK_V4]);
        assert.equal(ping.code, 0, ping.stdout);
        console.log(`${mode}: device stats`, JSON.stringify(ds));
      } finally {
        listener.close();
        await serving;
      }
    },
  });
}
