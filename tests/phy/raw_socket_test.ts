// AF_PACKET against the Linux kernel: a veth pair across two namespaces the test creates. The
// kernel side (namespace K) has 192.0.2.1/24; the raw socket is opened inside namespace R (the
// test thread switches in with setns only while the socket is created) and answers ARP and
// ICMP echo by hand for 192.0.2.2.
import assert from "node:assert/strict";
import { Medium } from "../../src/phy/device.ts";
import { completeChecksum, RawSocketDevice } from "../../src/phy/raw_socket.ts";
import {
  checksumFinish,
  Ipv4Address,
  Ipv6Address,
  pseudoHeaderSum,
  TcpPacket,
  UdpPacket,
} from "../../src/wire/mod.ts";
import type { IpAddress } from "../../src/wire/mod.ts";
import {
  answerPings,
  createNetns,
  deleteNetns,
  hasCommand,
  inNetns,
  ipIn,
  linkName,
  netAdmin,
  quietIpv6,
  reportSkip,
  runIn,
} from "./_netns.ts";

reportSkip("raw_socket_test.ts");

const privileged = {
  ignore: !netAdmin.ok,
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

/** Whether the kernel side can run `ping` (iputils-ping); the tests that use it skip without. */
const hasPing = hasCommand("ping");
if (netAdmin.ok && !hasPing) {
  console.log("tests/phy/raw_socket_test.ts: skipping the ping tests: no `ping` on PATH");
}
const withPing = { ...privileged, ignore: !netAdmin.ok || !hasPing } as const;

const OUR_MAC = "02:00:5e:00:53:02";

interface Veth {
  kernelNs: string;
  rawNs: string;
  kernelIf: string;
  rawIf: string;
}

/** Two namespaces joined by a veth pair; the kernel end has 192.0.2.1/24; both up. */
async function vethPair(): Promise<Veth> {
  const kernelNs = await createNetns("rawk");
  let rawNs = "";
  try {
    rawNs = await createNetns("rawr");
    const kernelIf = linkName("k");
    const rawIf = linkName("r");
    await ipIn(
      kernelNs,
      "link",
      "add",
      kernelIf,
      "type",
      "veth",
      "peer",
      "name",
      rawIf,
      "netns",
      rawNs,
    );
    await quietIpv6(kernelNs, kernelIf);
    await quietIpv6(rawNs, rawIf);
    await ipIn(kernelNs, "addr", "add", "192.0.2.1/24", "dev", kernelIf);
    await ipIn(kernelNs, "link", "set", kernelIf, "up");
    await ipIn(rawNs, "link", "set", rawIf, "up");
    return { kernelNs, rawNs, kernelIf, rawIf };
  } catch (e) {
    await deleteNetns(kernelNs);
    if (rawNs !== "") await deleteNetns(rawNs);
    throw e;
  }
}

async function removeVeth(v: Veth): Promise<void> {
  await deleteNetns(v.kernelNs);
  await deleteNetns(v.rawNs);
}

function openIn(ns: string, name: string): Promise<RawSocketDevice> {
  return inNetns(ns, () => RawSocketDevice.open({ name }));
}

const V4_SRC = Ipv4Address.parse("192.0.2.1");
const V4_DST = Ipv4Address.parse("192.0.2.2");
const V6_SRC = Ipv6Address.parse("2001:db8::1");
const V6_DST = Ipv6Address.parse("2001:db8::2");

/**
 * An Ethernet frame holding an IPv4 or IPv6 packet with a TCP or UDP segment of `payloadLen`
 * bytes (odd lengths exercise the padding byte) and its correct checksum, followed by `padding`
 * bytes of Ethernet padding; returns the frame and the transport header offset.
 */
function frameWith(
  version: 4 | 6,
  proto: 6 | 17,
  payloadLen: number,
  padding = 0,
): { frame: Uint8Array; t: number; src: IpAddress; dst: IpAddress } {
  const ipLen = version === 4 ? 20 : 40;
  const tLen = (proto === 6 ? 20 : 8) + payloadLen;
  const frame = new Uint8Array(14 + ipLen + tLen + padding);
  const dv = new DataView(frame.buffer);
  dv.setUint16(12, version === 4 ? 0x0800 : 0x86dd);
  const src = version === 4 ? V4_SRC : V6_SRC;
  const dst = version === 4 ? V4_DST : V6_DST;
  if (version === 4) {
    frame[14] = 0x45;
    dv.setUint16(16, ipLen + tLen);
    frame[22] = 64;
    frame[23] = proto;
  } else {
    frame[14] = 0x60;
    dv.setUint16(18, tLen);
    frame[20] = proto;
    frame[21] = 64;
  }
  src.writeTo(frame, version === 4 ? 26 : 22);
  dst.writeTo(frame, version === 4 ? 30 : 38);
  const t = 14 + ipLen;
  dv.setUint16(t, 40000);
  dv.setUint16(t + 2, 5001);
  for (let i = 0; i < payloadLen; i++) frame[t + tLen - payloadLen + i] = (i * 37 + 11) & 0xff;
  const seg = frame.subarray(t, t + tLen);
  if (proto === 6) {
    dv.setUint32(t + 4, 0xfffffff0);
    frame[t + 12] = 0x50;
    frame[t + 13] = 0x18;
    dv.setUint16(t + 14, 0xffff);
    new TcpPacket(seg).fillChecksum(src, dst);
  } else {
    dv.setUint16(t + 4, tLen);
    new UdpPacket(seg).fillChecksum(src, dst);
  }
  return { frame, t, src, dst };
}

for (const version of [4, 6] as const) {
  for (const proto of [6, 17] as const) {
    const name = `${proto === 6 ? "TCP" : "UDP"}/IPv${version}`;
    Deno.test(`completeChecksum turns a CHECKSUM_PARTIAL ${name} frame into a valid one`, () => {
      for (const [payloadLen, padding] of [[0, 0], [1, 0], [5, 7], [1200, 0], [1201, 0]]) {
        const { frame, t, src, dst } = frameWith(version, proto, payloadLen!, padding);
        const at = t + (proto === 6 ? 16 : 6);
        const want = (frame[at]! << 8) | frame[at + 1]!;
        // What the sender with TX offload leaves: the folded pseudo-header sum, not inverted.
        const len = frame.length - padding! - t;
        const partial = ~checksumFinish(pseudoHeaderSum(src, dst, proto, len)) & 0xffff;
        frame[at] = partial >> 8;
        frame[at + 1] = partial & 0xff;
        assert.equal(completeChecksum(frame, frame.length, 14), true);
        assert.equal((frame[at]! << 8) | frame[at + 1]!, want, `payload ${payloadLen}`);
      }
    });
  }
}

Deno.test("completeChecksum leaves fragments, other protocols and short frames alone", () => {
  const frag = frameWith(4, 17, 10).frame;
  frag[20] = 0x20; // more fragments
  const before = frag.slice();
  assert.equal(completeChecksum(frag, frag.length, 14), false);
  assert.deepEqual(frag, before);
  const icmp = frameWith(4, 6, 10).frame;
  icmp[23] = 1;
  assert.equal(completeChecksum(icmp, icmp.length, 14), false);
  const tcp = frameWith(6, 6, 100).frame;
  assert.equal(completeChecksum(tcp, 80, 14), false); // the IPv6 length runs past the frame
  assert.equal(completeChecksum(tcp, tcp.length, 200), false);
});

Deno.test({
  name:
    "RawSocketDevice answers the kernel's ARP and ping over a veth and never sees its own frames",
  ...withPing,
  fn: async () => {
    const v = await vethPair();
    let dev: RawSocketDevice | null = null;
    try {
      dev = await openIn(v.rawNs, v.rawIf);
      assert.equal(dev.capabilities.medium, Medium.Ethernet);
      assert.equal(dev.capabilities.mtu, 1514);
      const responder = answerPings(dev, { ip: "192.0.2.2", mac: OUR_MAC });
      const ping = await runIn(v.kernelNs, "ping", [
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "192.0.2.2",
      ]);
      // A broadcast frame of our own: it goes out but must not come back to receive().
      const buf = dev.transmit(0, 60)!;
      buf.fill(0);
      buf.fill(0xff, 0, 6);
      buf.set([0x02, 0x00, 0x5e, 0x00, 0x53, 0x02], 6);
      buf.set([0x88, 0xb5], 12); // local experimental EtherType
      dev.commit();
      await new Promise((r) => setTimeout(r, 100));
      responder.stop();
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, / 3 received/);
      assert.ok(responder.log.arpReplies >= 1);
      assert.equal(responder.log.echoReplies, 3);
      assert.equal(responder.log.ownFrames, 0, "own outgoing frames were received");
      assert.ok(dev.stats.framesSent >= 5);
      assert.equal(dev.stats.writeErrors, 0);
    } finally {
      await dev?.close();
      await removeVeth(v);
    }
  },
});

Deno.test({
  name: "RawSocketDevice reports a missing interface as NotFound",
  ...privileged,
  fn: async () => {
    const ns = await createNetns("rawnf");
    try {
      await assert.rejects(
        openIn(ns, "smnothere0"),
        (e: Error) => e instanceof Deno.errors.NotFound && /"smnothere0"/.test(e.message),
      );
    } finally {
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "RawSocketDevice ends its loop with a clear NotFound error when the interface is deleted",
  ...privileged,
  fn: async () => {
    const v = await vethPair();
    let dev: RawSocketDevice | null = null;
    try {
      dev = await openIn(v.rawNs, v.rawIf);
      const closed = dev.closed.then(() => null, (e: Error) => e);
      await ipIn(v.rawNs, "link", "del", v.rawIf);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 3000));
      const err = await Promise.race([closed, timeout]);
      clearTimeout(timer);
      assert.notEqual(err, "timeout", "the loop did not notice the deletion within 3 s");
      assert.ok(err instanceof Deno.errors.NotFound, String(err));
      assert.match(err.message, /interface is gone/);
      assert.equal(dev.canTransmit(0), false);
    } finally {
      await dev?.close();
      await removeVeth(v);
    }
  },
});

/**
 * The kernel end keeps its default TX checksum offload, so the TCP SYN and UDP datagram it sends
 * reach the packet socket as CHECKSUM_PARTIAL (TP_STATUS_CSUMNOTREADY) frames: the device must
 * hand them over with complete, valid checksums.
 */
Deno.test({
  name: "RawSocketDevice completes the partial checksums of the kernel's offloaded TCP and UDP",
  ...privileged,
  fn: async () => {
    const v = await vethPair();
    let dev: RawSocketDevice | null = null;
    try {
      const offload = await runIn(v.kernelNs, "ethtool", ["-k", v.kernelIf]);
      if (offload.code === 0) assert.match(offload.stdout, /tx-checksumming: on/);
      await ipIn(v.kernelNs, "neigh", "add", "192.0.2.2", "lladdr", OUR_MAC, "dev", v.kernelIf);
      dev = await openIn(v.rawNs, v.rawIf);
      const got: Uint8Array[] = [];
      let wake: (() => void) | null = null;
      dev.onReadable(() => wake?.());
      const py = runIn(v.kernelNs, "python3", [
        "-c",
        "import socket\n" +
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" +
        "u.sendto(bytes(range(201)), ('192.0.2.2', 5002))\n" +
        "t = socket.socket()\nt.settimeout(0.3)\n" +
        "try:\n  t.connect(('192.0.2.2', 5001))\nexcept OSError:\n  pass\n",
      ]);
      const until = Date.now() + 3000;
      const want = () => got.some((f) => f[23] === 6) && got.some((f) => f[23] === 17);
      while (!want() && Date.now() < until) {
        for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
          if (f[12] === 0x08 && f[13] === 0x00) got.push(f.slice());
        }
        if (want()) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
        wake = null;
      }
      dev.onReadable(() => {});
      assert.equal((await py).code, 0);
      const tcp = got.find((f) => f[23] === 6);
      const udp = got.find((f) => f[23] === 17);
      assert.ok(tcp !== undefined && udp !== undefined, `frames seen: ${got.length}`);
      const ihl = (f: Uint8Array) => 14 + ((f[14]! & 0xf) << 2);
      assert.equal((tcp[ihl(tcp) + 13]! & 0x02) !== 0, true, "a SYN");
      assert.ok(new TcpPacket(tcp.subarray(ihl(tcp))).verifyChecksum(V4_SRC, V4_DST));
      const udpLen = (udp[ihl(udp) + 4]! << 8) | udp[ihl(udp) + 5]!;
      assert.equal(udpLen, 8 + 201);
      assert.ok(new UdpPacket(udp.subarray(ihl(udp))).verifyChecksum(V4_SRC, V4_DST));
      assert.ok(dev.stats.checksumsCompleted >= 2, JSON.stringify(dev.stats));
    } finally {
      await dev?.close();
      await removeVeth(v);
    }
  },
});
