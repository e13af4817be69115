// TunTapDevice.receivedSegmentSize against the Linux kernel: a kernel TCP sender in a namespace
// the test creates hands a TUN device opened with offloads super-frames (TSO), each tagged with
// the segment size it was cut for; every other frame is tagged 0. The namespace is deleted by
// name afterwards, even on failure.
import assert from "node:assert/strict";
import { NetStack } from "../../src/net/stack.ts";
import { DeviceWrapper } from "../../src/phy/wrapper.ts";
import type { TunTapDevice } from "../../src/phy/tun_tap.ts";
import { deleteNetns, deviceInNetns, hasCommand, netAdmin, reportSkip } from "./_netns.ts";
import { downloadPattern } from "./_kernel_download.ts";

reportSkip("tun_segment_size_test.ts");

/** Notes every received frame's length, TCP payload length and segment size. */
class Recorder extends DeviceWrapper {
  readonly frames: { len: number; payload: number; seg: number }[] = [];
  constructor(readonly dev: TunTapDevice) {
    super(dev);
  }
  override receive(now: number): Uint8Array | null {
    const f = super.receive(now);
    if (f !== null && f[0]! >> 4 === 4 && f[9] === 6) {
      const hl = (f[0]! & 15) * 4;
      const payload = f.length - hl - (f[hl + 12]! >> 4) * 4;
      this.frames.push({ len: f.length, payload, seg: this.dev.receivedSegmentSize });
    }
    return f;
  }
}

Deno.test({
  name: "TunTapDevice with offloads tags each TCP super-frame with its segment size, others with 0",
  ignore: !netAdmin.ok || !hasCommand("python3"),
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const { dev, ns } = await deviceInNetns("tseg", { mode: "tun", offload: true });
    const rec = new Recorder(dev);
    const stack = new NetStack({ device: rec, addresses: ["192.0.2.2/24"] });
    const bytes = 2 << 20;
    try {
      const r = await downloadPattern(stack, ns, bytes);
      assert.equal(r.got, bytes);
      assert.equal(r.sent, String(bytes));
      if (dev.capabilities.offload?.tcpv4 !== true) {
        console.log("TSO refused by this kernel: no super-frames to tag");
        return;
      }
      const mtu = dev.capabilities.mtu;
      const big = rec.frames.filter((f) => f.len > mtu);
      assert.ok(big.length > 0, "the kernel sent no super-frame in 2 MiB");
      // The stack's MSS is 1460 (MTU 1500); the kernel's segments carry 1448 with timestamps.
      const sizes = new Set(big.map((f) => f.seg));
      for (const s of sizes) assert.ok(s > 0 && s <= 1460, `segment size ${s}`);
      for (const f of big) {
        assert.ok(f.payload > f.seg, `${f.payload} bytes in segments of ${f.seg}`);
      }
      // The SYN-ACK and the FIN carry no data: never a super-frame.
      const empty = rec.frames.filter((f) => f.payload === 0);
      assert.ok(empty.length > 0);
      for (const f of empty) assert.equal(f.seg, 0);
      console.log(
        `${rec.frames.length} TCP frames, ${big.length} super-frames, segment sizes ${[...sizes]}`,
      );
    } finally {
      await stack.close();
      await dev.close();
      await deleteNetns(ns);
    }
  },
});
