// AF_PACKET against the kernel: a NetStack on a RawSocketDevice bound to one end of a veth pair
// (in its own namespace), the kernel on the other end. Bulk TCP both ways, SHA-256 equal.
import {
  interop,
  interopBytes,
  KERNEL_V4,
  KernelPeer,
  peerResult,
  PY_PEER,
  readHash,
  reportSkip,
  withTimeout,
} from "./_kernel_peer.ts";
import { transfer } from "./_transfer.ts";
import { inNetns } from "../phy/_netns.ts";
import { RawSocketDevice } from "../../src/phy/raw_socket.ts";
import assert from "node:assert/strict";

reportSkip("raw_socket_test.ts");

const hasEthtool = (() => {
  try {
    return new Deno.Command("ethtool", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
if (!hasEthtool) console.log("tests/interop/raw_socket_test.ts: skipping: no `ethtool` on PATH");

for (const direction of ["download", "upload"] as const) {
  Deno.test({
    name: `interop: smolnet ${direction}s through AF_PACKET on a veth (kernel TX checksum ` +
      "offload off), SHA-256 equal",
    ...interop,
    ignore: interop.ignore || !hasEthtool,
    fn: () =>
      transfer(
        direction,
        interopBytes(16),
        false,
        () => KernelPeer.createVeth({ txChecksumOffload: false }),
      ),
  });
}

// With the kernel's default offloads on the veth, the frames our AF_PACKET socket reads carry a
// partial TCP checksum (CHECKSUM_PARTIAL: only the pseudo-header sum; TP_STATUS_CSUMNOTREADY in
// PACKET_AUXDATA) and bulk data arrives as TSO super-frames up to 64 KiB: RawSocketDevice
// completes the checksums and splits the super-frames, as a NIC would have.
for (const direction of ["download", "upload"] as const) {
  Deno.test({
    name: `interop: smolnet ${direction}s through AF_PACKET on a veth with the kernel's default ` +
      "TX checksum and segmentation offload, SHA-256 equal",
    ...interop,
    fn: async () => {
      let peer: KernelPeer | null = null;
      await transfer(direction, interopBytes(16), false, async () => {
        peer = await KernelPeer.createVeth();
        return peer;
      });
      const stats = (peer as KernelPeer | null)!.device.stats;
      console.log(
        `checksums completed ${stats.checksumsCompleted}, super-frames split ` +
          `${stats.framesSegmented}, truncated ${stats.dropsTruncated}, oversize ` +
          `${stats.dropsOversize}`,
      );
      assert.ok(stats.checksumsCompleted > 0, "no CHECKSUM_PARTIAL frame seen");
      if (direction === "download") assert.ok(stats.framesSegmented > 0, "no TSO frame seen");
      assert.equal(stats.dropsTruncated, 0);
    },
  });
}

Deno.test({
  name: "interop: AF_PACKET with the kernel's default TX checksum offload connects and carries TCP",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.createVeth();
    const stack = peer.stack();
    const server = peer.python(PY_PEER, ["send", "5401", String(1 << 20)]);
    await peer.waitListening(5401);
    const conn = await withTimeout(
      stack.connect({ hostname: KERNEL_V4, port: 5401 }),
      5000,
      "connect",
    );
    const got = await withTimeout(readHash(conn), 10_000, "download");
    conn.close();
    assert.equal(got.sha256, peerResult(await server.output).sha256);
    assert.equal(stack.iface.counters.snapshot().badChecksum ?? 0, 0);
    assert.ok(peer.device.stats.checksumsCompleted > 0);
  },
});

// A receive ring much shorter than a TSO super-frame's segment count: the device stages the
// segments that do not fit and appends them as `receive` frees slots, in order, none lost.
Deno.test({
  name: "interop: AF_PACKET with an 8-frame ring splits 64 KiB TSO frames across refills",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.createVeth();
    const small = await inNetns(
      peer.rawNs!,
      () => RawSocketDevice.open({ name: (peer.device as RawSocketDevice).name, rxQueueLen: 8 }),
    );
    try {
      const stack = peer.stack({ device: small });
      const bytes = 4 << 20;
      const server = peer.python(PY_PEER, ["send", "5402", String(bytes)]);
      await peer.waitListening(5402);
      const conn = await withTimeout(
        stack.connect({ hostname: KERNEL_V4, port: 5402 }),
        5000,
        "connect",
      );
      const got = await withTimeout(readHash(conn), 60_000, "download");
      conn.close();
      assert.equal(got.bytes, bytes);
      assert.equal(got.sha256, peerResult(await server.output).sha256);
      const st = small.stats;
      console.log(
        `super-frames split ${st.framesSegmented}, ring full ${st.rxQueueFull}, ` +
          `checksums completed ${st.checksumsCompleted}`,
      );
      assert.ok(st.framesSegmented > 0, "no TSO frame seen");
      assert.ok(st.rxQueueFull > 0, "the ring never filled");
    } finally {
      await small.close();
    }
  },
});
