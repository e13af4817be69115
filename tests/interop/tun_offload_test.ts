// TUN with offloads (IFF_VNET_HDR, TUNSETOFFLOAD) against the Linux kernel: the kernel hands
// over coalesced TCP super-frames of up to 64 KiB that the stack takes whole and acknowledges,
// and cuts the large segments smolnet sends; with TSO refused, checksum offload alone still
// carries both directions.
import assert from "node:assert/strict";
import {
  interop,
  KERNEL_V4,
  KernelPeer,
  peerResult,
  PY_PEER,
  readHash,
  reportSkip,
  withTimeout,
  writeHashed,
} from "./_kernel_peer.ts";
import type { TunTapDevice } from "../../src/phy/tun_tap.ts";

reportSkip("tun_offload_test.ts");

/**
 * Sends `BYTES` seeded random bytes to the one client, waits (10 s at most) until the client has
 * acknowledged all of them while the connection is still open, and prints the SHA-256 with the
 * kernel's TCP_INFO: bytes acknowledged, unacknowledged segments and retransmissions.
 */
const PY_SEND_ACKED = String.raw`
import hashlib, json, os, socket, struct, sys, time
port, total = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(1)
c, _ = ls.accept()
data = os.urandom(total)
c.sendall(data)
def info():
    b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 136)
    return struct.unpack_from("<I", b, 24)[0], struct.unpack_from("<I", b, 100)[0], struct.unpack_from("<Q", b, 120)[0]
# Wait until every byte is acknowledged (bytes_acked), not only until nothing is in flight:
# the flight is also empty while our window is closed and data still waits in the send queue.
until = time.time() + 10
while (info()[0] != 0 or info()[2] < total) and time.time() < until:
    time.sleep(0.005)
unacked, retrans, acked = info()
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
print(json.dumps({"bytes": total, "sha256": hashlib.sha256(data).hexdigest(),
                  "unacked": unacked, "retrans": retrans, "acked": acked}))
`;

Deno.test({
  name: "interop: TUN with offloads negotiates checksum and TSO and shows them in capabilities",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ offload: {} });
    const caps = peer.device.capabilities;
    // USO (TUN_F_USO4/6) came with Linux 6.2; it is asked for first and negotiated with TSO.
    const [major, minor] = Deno.osRelease().split(".").map(Number);
    const uso = major! > 6 || (major === 6 && minor! >= 2);
    assert.deepEqual(caps.offload, {
      checksum: true,
      tcpv4: true,
      tcpv6: true,
      udpv4: uso,
      udpv6: uso,
      maxFrameSize: 65535,
    });
    assert.equal(caps.mtu, 1500);
    assert.equal(caps.checksum.tcp, false); // the kernel completes and vouches for TCP checksums
    assert.equal(caps.checksum.udp, true);
  },
});

Deno.test({
  name: "interop: TUN with offloads delivers coalesced 64 KiB frames whole, intact and acked",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ offload: {} });
    const dev = peer.device as TunTapDevice;
    const stack = peer.stack({ tcp: { rxBufferSize: 1 << 20, txBufferSize: 1 << 20 } });
    const bytes = 8 << 20;
    const server = peer.python(PY_SEND_ACKED, ["5001", String(bytes)]);
    await peer.waitListening(5001);
    const conn = await stack.connect({ hostname: KERNEL_V4, port: 5001 });
    let ours;
    try {
      ours = await withTimeout(readHash(conn), 120_000, "download");
      await conn.closeWrite();
    } finally {
      conn.close();
    }
    const out = await withTimeout(server.output, 30_000, "kernel peer exit");
    const theirs = peerResult(out) as ReturnType<typeof peerResult> & {
      unacked: number;
      retrans: number;
      acked: number;
    };
    assert.equal(ours.bytes, bytes);
    assert.equal(ours.sha256, theirs.sha256, "SHA-256 differs");
    // Every byte acknowledged before our FIN: a coalesced frame is acked as a whole.
    assert.equal(theirs.unacked, 0);
    assert.ok(theirs.acked >= bytes && theirs.acked <= bytes + 1, `acked ${theirs.acked}`);
    const s = dev.stats;
    assert.ok(s.framesCoalesced > 0, "no frame larger than the MTU arrived");
    assert.ok(s.bytesReceived / s.framesReceived > 1500, "frames averaged at most the MTU");
    assert.equal(s.dropsBadOffloadHeader, 0);
    assert.equal(s.dropsBadChecksum, 0);
    console.log(
      `${s.framesReceived} frames for ${bytes} bytes, ${s.framesCoalesced} coalesced; ` +
        `kernel retransmissions ${theirs.retrans}`,
    );
  },
});

Deno.test({
  name: "interop: TUN with TSO refused falls back to checksum offload, both ways intact",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ offload: { tso: false } });
    const dev = peer.device as TunTapDevice;
    assert.deepEqual(dev.capabilities.offload, {
      checksum: true,
      tcpv4: false,
      tcpv6: false,
      udpv4: false,
      udpv6: false,
      maxFrameSize: 1500,
    });
    const stack = peer.stack();
    const bytes = 2 << 20;
    const down = peer.python(PY_PEER, ["send", "5001", String(bytes)]);
    await peer.waitListening(5001);
    const c1 = await stack.connect({ hostname: KERNEL_V4, port: 5001 });
    let got;
    try {
      got = await withTimeout(readHash(c1), 60_000, "download");
      await c1.closeWrite();
    } finally {
      c1.close();
    }
    assert.equal(got.sha256, peerResult(await down.output).sha256);
    const up = peer.python(PY_PEER, ["recv", "5002"]);
    await peer.waitListening(5002);
    const c2 = await stack.connect({ hostname: KERNEL_V4, port: 5002 });
    let sent;
    try {
      sent = await withTimeout(writeHashed(c2, bytes), 60_000, "upload");
      await withTimeout(c2.read(new Uint8Array(1)), 30_000, "peer FIN");
    } finally {
      c2.close();
    }
    assert.equal(sent, peerResult(await up.output).sha256);
    assert.equal(dev.stats.framesCoalesced, 0);
    assert.equal(dev.stats.framesSentSegmented, 0);
    assert.equal(dev.stats.dropsBadOffloadHeader, 0);
  },
});

Deno.test({
  name: "interop: TUN with offloads: our large segments are cut by the kernel, SHA-256 equal",
  ...interop,
  fn: async () => {
    await using peer = await KernelPeer.create({ offload: {} });
    const dev = peer.device as TunTapDevice;
    const stack = peer.stack({ tcp: { rxBufferSize: 1 << 20, txBufferSize: 1 << 20 } });
    const bytes = 8 << 20;
    const server = peer.python(PY_PEER, ["recv", "5002"]);
    await peer.waitListening(5002);
    const conn = await stack.connect({ hostname: KERNEL_V4, port: 5002 });
    let sent;
    try {
      sent = await withTimeout(writeHashed(conn, bytes), 120_000, "upload");
      await withTimeout(conn.read(new Uint8Array(1)), 30_000, "peer FIN");
    } finally {
      conn.close();
    }
    const theirs = peerResult(await withTimeout(server.output, 30_000, "kernel peer exit"));
    assert.equal(theirs.bytes, bytes);
    assert.equal(theirs.sha256, sent, "SHA-256 differs");
    const s = dev.stats;
    assert.ok(s.framesSentSegmented > 0, "no segment larger than the MTU was sent");
    assert.equal(s.writeErrors, 0);
    assert.equal(s.dropsTooBig, 0);
    console.log(
      `${s.framesSent} writes for ${bytes} bytes, ${s.framesSentSegmented} cut by the kernel`,
    );
  },
});
