// TunTapDevice.receivedSegmentSize against the Linux kernel: a kernel TCP sender in a namespace
// the test creates hands a TUN device opened with offloads super-frames (TSO), each tagged with
// the segment size it was cut for; every other frame is tagged 0. The namespace is deleted by
// name afterwards, even on failure.
import assert from "node:assert/strict";
import { NetStack } from "../../src/net/stack.ts";
import { DeviceWrapper } from "../../src/phy/wrapper.ts";
import type { TunTapDevice } from "../../src/phy/tun_tap.ts";
import { deleteNetns, deviceInNetns, hasCommand, netAdmin, reportSkip, runIn } from "./_netns.ts";

reportSkip("tun_segment_size_test.ts");

/** python3 in the namespace: listens on 192.0.2.1:5001 and sends `n` bytes to who connects. */
const PY_SEND = String.raw`
import socket, sys
n = int(sys.argv[1])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 5001)); ls.listen(1)
c, _ = ls.accept()
block = bytes(200_000)
sent = 0
while sent < n:
    k = min(len(block), n - sent); c.sendall(block[:k]); sent += k
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
print(sent, flush=True)
`;

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
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) got += n;
      await conn.closeWrite();
      const out = await py;
      conn.close();
      assert.equal(got, bytes);
      assert.equal(out.stdout.trim(), String(bytes), out.stderr);
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
