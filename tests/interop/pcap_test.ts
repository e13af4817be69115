// A capture written by PcapWriter around the TUN/TAP device during a transfer with the kernel
// (IPv4 and IPv6 TCP both ways, pings) opens in tshark with checksum validation on: no malformed
// packet, no bad IP/TCP/UDP/ICMP checksum, and as many packets as the writer recorded.
import assert from "node:assert/strict";
import { fileSink, PcapWriter } from "../../src/phy/pcap_writer.ts";
import {
  interop,
  KERNEL_V4,
  KERNEL_V6,
  KernelPeer,
  peerResult,
  PY_PEER,
  readHash,
  reportSkip,
  run,
  STACK_V4,
  STACK_V6,
  withTimeout,
  writeHashed,
} from "./_kernel_peer.ts";

reportSkip("pcap_test.ts");

const hasTshark = (() => {
  try {
    return new Deno.Command("tshark", { args: ["-v"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
if (!hasTshark) console.log("tests/interop/pcap_test.ts: skipping: no `tshark` on PATH");

const CHECKS = [
  // The transfers carry random bytes: decode them as plain data, or a heuristic dissector (THRIFT,
  // seen once) may take a payload for its protocol and report it malformed.
  "-d",
  "tcp.port==5101,data",
  "-d",
  "tcp.port==5102,data",
  "-o",
  "ip.check_checksum:TRUE",
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
];

async function tshark(file: string, ...args: string[]): Promise<string> {
  const r = await run("tshark", ["-n", "-r", file, ...CHECKS, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/**
 * Linux's `skb_checksum_help` (net/core/dev.c) writes a computed checksum of 0 as 0xffff
 * (`CSUM_MANGLED_0`) for TCP too, which tshark flags as an error (RFC 1624); in ones'-complement
 * both are zero, so the kernel's side may send it about once in 65,536 segments. Only the kernel's
 * addresses are excused: a 0xffff TCP checksum from our stack still fails the test.
 */
const KERNEL_FFFF =
  `tcp.checksum == 0xffff && (ip.src == ${KERNEL_V4} || ipv6.src == ${KERNEL_V6})`;

for (const mode of ["tun", "tap"] as const) {
  Deno.test({
    name: `interop: a PcapWriter capture of a ${mode.toUpperCase()} transfer opens in tshark ` +
      "with no malformed or bad-checksum packet",
    ...interop,
    ignore: interop.ignore || !hasTshark,
    fn: async () => {
      const file = await Deno.makeTempFile({ prefix: "smolnet-it-", suffix: ".pcap" });
      const sink = fileSink(file);
      try {
        await using peer = await KernelPeer.create({ mode, ipv6: true });
        const writer = new PcapWriter(peer.device, sink);
        const stack = peer.stack({ ipv6: true, device: writer });
        const bytes = 2 * 1048576;
        // Download over IPv4, upload over IPv6.
        const down = peer.python(PY_PEER, ["send", "5101", String(bytes)]);
        const up = peer.python(PY_PEER, ["recv", "5102"]);
        await peer.waitListening(5101);
        await peer.waitListening(5102);
        const c1 = await stack.connect({ hostname: KERNEL_V4, port: 5101 });
        const got = await withTimeout(readHash(c1), 60_000, "download");
        await c1.closeWrite();
        c1.close();
        const c2 = await stack.connect({ hostname: KERNEL_V6, port: 5102 });
        const sent = await withTimeout(writeHashed(c2, bytes), 60_000, "upload");
        await withTimeout(c2.read(new Uint8Array(1)), 10_000, "peer FIN");
        c2.close();
        assert.equal(got.sha256, peerResult(await down.output).sha256);
        assert.equal(sent, peerResult(await up.output).sha256);
        for (const target of [STACK_V4, STACK_V6]) {
          const r = await peer.exec("ping", ["-c", "2", "-i", "0.05", "-W", "2", target]);
          assert.equal(r.code, 0, r.stdout);
        }
        await stack.close();
        sink.close();

        const total = (await tshark(file, "-T", "fields", "-e", "frame.number")).trim()
          .split("\n").length;
        const bad = await tshark(
          file,
          "-Y",
          "(_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || " +
            "tcp.checksum.status == 0 || udp.checksum.status == 0 || " +
            "icmp.checksum.status == 0 || icmpv6.checksum.status == 0) && !(" + KERNEL_FFFF + ")",
        );
        assert.equal(bad.trim(), "", `bad packets:\n${bad.slice(0, 2000)}`);
        const tcp4 = Number(
          (await tshark(file, "-Y", "ip && tcp", "-T", "fields", "-e", "frame.number"))
            .trim().split("\n").length,
        );
        const tcp6 = Number(
          (await tshark(file, "-Y", "ipv6 && tcp", "-T", "fields", "-e", "frame.number"))
            .trim().split("\n").length,
        );
        const icmp = await tshark(
          file,
          "-Y",
          "icmp || icmpv6.type == 129",
          "-T",
          "fields",
          "-e",
          "frame.number",
        );
        assert.ok(tcp4 > 1000 && tcp6 > 1000, `${tcp4} IPv4 and ${tcp6} IPv6 TCP packets`);
        assert.ok(icmp.trim().split("\n").length >= 4, "echo requests and replies");
        if (mode === "tap") {
          const arp = await tshark(file, "-Y", "arp || icmpv6.type == 135 || icmpv6.type == 136");
          assert.notEqual(arp.trim(), "", "ARP and NDP in the capture");
        }
        console.log(
          `${mode}: ${total} packets (${tcp4} TCP/IPv4, ${tcp6} TCP/IPv6), ` +
            `${(await Deno.stat(file)).size} bytes, none malformed or with a bad checksum`,
        );
      } finally {
        sink.close();
        await Deno.remove(file).catch(() => {});
      }
    },
  });
}
