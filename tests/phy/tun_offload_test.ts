// The TUN offload paths without a device: header validation and checksum settling on receive,
// header and partial checksum on transmit, and the TUNSETOFFLOAD fallback order.
import assert from "node:assert/strict";
import {
  acceptOffloadFrame,
  negotiateOffload,
  TunOffload,
  TunOffloadSender,
  UsoSplitter,
} from "../../src/phy/_tun_offload.ts";
import { FrameQueue } from "../../src/phy/link.ts";
import { Ipv4Packet, parseIpv4 } from "../../src/wire/ipv4.ts";
import { newHostStats } from "../../src/phy/_libc.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { checksumFinish, checksumSum } from "../../src/wire/checksum.ts";
import { parseTcp, TcpPacket } from "../../src/wire/tcp.ts";
import { parseUdp, UdpPacket } from "../../src/wire/udp.ts";
import { VirtioNetHdr } from "../../src/wire/virtio_net.ts";

const SRC = Ipv4Address.parse("192.0.2.1");
const DST = Ipv4Address.parse("192.0.2.2");
const MTU = 1500;

/** An IPv4 packet (20-byte header) to 192.0.2.2 carrying `proto` with a transport of `tlen`. */
function ipv4(proto: number, tlen: number, at = 0): Uint8Array {
  const f = new Uint8Array(at + 20 + tlen);
  const total = 20 + tlen;
  f.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, proto], at);
  f.set([192, 0, 2, 1, 192, 0, 2, 2], at + 12);
  return f;
}

/** TCP/IPv4 with a 32-byte header (timestamps) and `payload` bytes 0, 1, 2...; checksum 0. */
function tcp4(payload: number, at = 0): Uint8Array {
  const f = ipv4(6, 32 + payload, at);
  const t = at + 20;
  f.set([0x9c, 0x41, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 1, 0x80, 0x10, 0xff, 0xff], t);
  f.set([1, 1, 8, 10], t + 20);
  for (let i = 0; i < payload; i++) f[t + 32 + i] = i & 0xff;
  return f;
}

/** Writes the complete TCP/UDP checksum of the IPv4 packet at 0, as a sending host would. */
function finishChecksum(f: Uint8Array, field: number): void {
  f[20 + field] = 0;
  f[20 + field + 1] = 0;
  const pseudo = [
    192,
    0,
    2,
    1,
    192,
    0,
    2,
    2,
    0,
    f[9]!,
    (f.length - 20) >> 8,
    (f.length - 20) & 0xff,
  ];
  const c = checksumFinish(checksumSum(f.subarray(20), checksumSum(new Uint8Array(pseudo))));
  f[20 + field] = c >> 8;
  f[20 + field + 1] = c & 0xff;
}

/** The kernel's side of NEEDS_CSUM: sum from csum_start (the field holds the pseudo sum). */
function kernelCompletes(f: Uint8Array, start: number, offset: number): void {
  const c = checksumFinish(checksumSum(f.subarray(start)));
  f[start + offset] = c >> 8;
  f[start + offset + 1] = c & 0xff;
}

function hdr(bytes: number[]): VirtioNetHdr {
  return new VirtioNetHdr(new Uint8Array([...bytes, 0, 0].slice(0, 12)));
}

const TSO4 = [1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0];

Deno.test("acceptOffloadFrame passes a coalesced TSO4 super-frame whole and counts it", () => {
  const stats = newHostStats();
  const f = tcp4(64_000);
  assert.equal(acceptOffloadFrame(hdr(TSO4), f, f.length, MTU, stats), f.length);
  assert.equal(stats.framesCoalesced, 1);
  assert.equal(stats.dropsBadOffloadHeader, 0);
});

Deno.test("acceptOffloadFrame drops and counts a super-frame with gso_size 0", () => {
  const stats = newHostStats();
  const f = tcp4(64_000);
  assert.equal(
    acceptOffloadFrame(hdr([1, 1, 52, 0, 0, 0, 20, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadOffloadHeader, 1);
  assert.equal(stats.framesCoalesced, 0);
});

Deno.test("acceptOffloadFrame drops and counts hdr_len beyond the frame", () => {
  const stats = newHostStats();
  const f = tcp4(10);
  assert.equal(
    acceptOffloadFrame(hdr([1, 1, 0xff, 0, 0xa8, 5, 20, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadOffloadHeader, 1);
});

Deno.test("acceptOffloadFrame drops and counts an unknown gso_type", () => {
  const stats = newHostStats();
  const f = tcp4(3000);
  assert.equal(
    acceptOffloadFrame(hdr([1, 2, 52, 0, 0xa8, 5, 20, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadOffloadHeader, 1);
});

Deno.test("acceptOffloadFrame drops a TSO6 header on an IPv4 packet and a TSO4 header on UDP", () => {
  const stats = newHostStats();
  const f = tcp4(3000);
  assert.equal(
    acceptOffloadFrame(hdr([1, 4, 52, 0, 0xa8, 5, 20, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  const u = ipv4(17, 3000);
  assert.equal(
    acceptOffloadFrame(hdr([1, 1, 28, 0, 0xa8, 5, 20, 0, 6, 0]), u, u.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadOffloadHeader, 2);
});

Deno.test("acceptOffloadFrame drops a checksum position that is not the transport's field", () => {
  const stats = newHostStats();
  const f = tcp4(100);
  // csum_start 24 instead of the TCP header at 20.
  assert.equal(
    acceptOffloadFrame(hdr([1, 0, 0, 0, 0, 0, 24, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  // csum_offset 6 (UDP's) on a TCP packet.
  assert.equal(
    acceptOffloadFrame(hdr([1, 0, 0, 0, 0, 0, 20, 0, 6, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadOffloadHeader, 2);
});

Deno.test("acceptOffloadFrame drops a frame over the MTU that is not a super-frame", () => {
  const stats = newHostStats();
  const f = tcp4(2000);
  assert.equal(
    acceptOffloadFrame(hdr([1, 0, 0, 0, 0, 0, 20, 0, 16, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsOversize, 1);
});

Deno.test("acceptOffloadFrame verifies a TCP checksum the kernel neither verified nor left partial", () => {
  const stats = newHostStats();
  const f = tcp4(100);
  finishChecksum(f, 16);
  assert.equal(
    acceptOffloadFrame(hdr([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), f, f.length, MTU, stats),
    f.length,
  );
  f[60] = f[60]! ^ 1;
  assert.equal(
    acceptOffloadFrame(hdr([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), f, f.length, MTU, stats),
    -2,
  );
  assert.equal(stats.dropsBadChecksum, 1);
  // DATA_VALID: the kernel verified it; the device does not look.
  assert.equal(
    acceptOffloadFrame(hdr([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]), f, f.length, MTU, stats),
    f.length,
  );
  assert.equal(stats.dropsBadChecksum, 1);
});

Deno.test("acceptOffloadFrame completes a partial UDP checksum so the stack can verify it", () => {
  const stats = newHostStats();
  const u = ipv4(17, 8 + 33);
  u.set([0x9c, 0x41, 0, 53, 0, 41, 0, 0], 20);
  for (let i = 0; i < 33; i++) u[28 + i] = i * 7;
  finishChecksum(u, 6);
  const good = [u[26]!, u[27]!];
  u[26] = 0x12; // garbage the device must replace
  assert.equal(
    acceptOffloadFrame(hdr([1, 0, 0, 0, 0, 0, 20, 0, 6, 0]), u, u.length, MTU, stats),
    u.length,
  );
  assert.equal(stats.checksumsCompleted, 1);
  assert.deepEqual([u[26], u[27]], good);
  parseUdp(UdpPacket.newChecked(u.subarray(20)), SRC, DST);
});

Deno.test("TunOffloadSender marks a TCP frame NEEDS_CSUM with the partial checksum the kernel completes", () => {
  const stats = newHostStats();
  const sender = new TunOffloadSender({ mtu: MTU, hdrLen: 12, flags: 0x07 }, stats);
  assert.equal(sender.maxLen, 65535);
  const buf = tcp4(1000, 12);
  buf.fill(0xee, 0, 12);
  assert.equal(sender.prepare(buf, buf.length - 12), buf.length);
  assert.deepEqual([...buf.subarray(0, 12)], [1, 0, 0, 0, 0, 0, 20, 0, 16, 0, 0, 0]);
  const f = buf.subarray(12);
  kernelCompletes(f, 20, 16);
  parseTcp(TcpPacket.newChecked(f.subarray(20)), SRC, DST); // throws on a bad checksum
  assert.equal(stats.framesSentSegmented, 0);
});

Deno.test("TunOffloadSender sends a TCP frame over the MTU as TSO4 with gso_size MTU less headers", () => {
  const stats = newHostStats();
  const sender = new TunOffloadSender({ mtu: MTU, hdrLen: 12, flags: 0x07 }, stats);
  const buf = tcp4(60_000, 12);
  assert.equal(sender.prepare(buf, buf.length - 12), buf.length);
  // NEEDS_CSUM, TCPV4, hdr_len 52, gso_size 1448, csum_start 20, csum_offset 16.
  assert.deepEqual([...buf.subarray(0, 12)], [1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0, 0, 0]);
  assert.equal(stats.framesSentSegmented, 1);
});

Deno.test("TunOffloadSender refuses a frame over the MTU without TSO or that is not TCP", () => {
  const stats = newHostStats();
  const csumOnly = new TunOffloadSender({ mtu: MTU, hdrLen: 12, flags: TunOffload.CSUM }, stats);
  assert.equal(csumOnly.maxLen, MTU);
  const buf = tcp4(3000, 12);
  assert.equal(csumOnly.prepare(buf, buf.length - 12), -1);
  const tso = new TunOffloadSender({ mtu: MTU, hdrLen: 12, flags: 0x07 }, stats);
  const udp = ipv4(17, 3000, 12);
  assert.equal(tso.prepare(udp, udp.length - 12), -1);
  assert.equal(stats.dropsTooBig, 2);
});

Deno.test("TunOffloadSender leaves other frames with an empty header", () => {
  const stats = newHostStats();
  const sender = new TunOffloadSender({ mtu: MTU, hdrLen: 10, flags: 0x07 }, stats);
  const buf = ipv4(1, 64, 10);
  buf.fill(0xee, 0, 10);
  assert.equal(sender.prepare(buf, buf.length - 10), buf.length);
  assert.deepEqual([...buf.subarray(0, 10)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("negotiateOffload falls back from USO to TSO to checksum only, then to none", () => {
  const calls: number[] = [];
  const onlyCsum = (f: number) => {
    calls.push(f);
    return f === TunOffload.CSUM;
  };
  assert.equal(negotiateOffload(onlyCsum, true), TunOffload.CSUM);
  assert.deepEqual(calls, [0x67, 0x07, 0x03, 0x01]);
  assert.equal(negotiateOffload(() => false, true), 0);
  calls.length = 0;
  assert.equal(negotiateOffload((f) => (calls.push(f), true), false), TunOffload.CSUM);
  assert.deepEqual(calls, [0x01]);
  assert.equal(negotiateOffload(() => true, true), 0x67);
  // A kernel without USO (before 6.2) refuses 0x67 and keeps TSO.
  assert.equal(negotiateOffload((f) => f !== 0x67, true), 0x07);
});

/** UDP/IPv4 192.0.2.1:5000 -> 192.0.2.2:53 with `payload` bytes (i * 7) & 0xff, checksum 0. */
function udp4(payload: number): Uint8Array {
  const f = ipv4(17, 8 + payload);
  f.set([0x13, 0x88, 0, 53, (8 + payload) >> 8, (8 + payload) & 0xff, 0, 0], 20);
  for (let i = 0; i < payload; i++) f[28 + i] = (i * 7) & 0xff;
  return f;
}

Deno.test("UsoSplitter cuts a UDP super-frame into datagrams with their own lengths and checksums", () => {
  const stats = newHostStats();
  const uso = new UsoSplitter(MTU, stats);
  const f = udp4(3 * 1000 + 500); // 3,528-byte IP packet: datagrams of 1000, 1000, 1000, 500
  assert.equal(uso.stage(f, f.length, 1000), true);
  assert.equal(stats.framesSegmented, 1);
  // A ring of 3 takes three, the fourth waits for room.
  const rx = new FrameQueue(3, MTU);
  uso.flush(rx);
  assert.equal(rx.length, 3);
  assert.equal(uso.staged, true);
  const got: Uint8Array[] = [];
  for (let p = rx.pop(); p !== null; p = rx.pop()) got.push(p.slice());
  uso.flush(rx);
  assert.equal(uso.staged, false);
  for (let p = rx.pop(); p !== null; p = rx.pop()) got.push(p.slice());
  assert.deepEqual(got.map((d) => d.length), [1028, 1028, 1028, 528]);
  let at = 0;
  got.forEach((d, i) => {
    // IPv4 header: total length, ID 1 + i, a valid header checksum.
    const ip = parseIpv4(new Ipv4Packet(d));
    assert.equal(ip.payloadLen, d.length - 20);
    assert.equal((d[4]! << 8) | d[5]!, 1 + i);
    const udp = new UdpPacket(d.subarray(20));
    parseUdp(udp, SRC, DST); // verifies length and checksum
    assert.deepEqual(udp.payload, f.subarray(28 + at, 28 + at + udp.payload.length));
    at += udp.payload.length;
  });
  assert.equal(at, 3500);
  assert.equal(stats.checksumsCompleted, 4);
});

Deno.test("UsoSplitter leaves one datagram whole and drops datagrams that exceed the MTU", () => {
  const stats = newHostStats();
  const uso = new UsoSplitter(MTU, stats);
  const one = udp4(900);
  assert.equal(uso.stage(one, one.length, 1000), false);
  assert.equal(uso.staged, false);
  const huge = udp4(4000);
  assert.equal(uso.stage(huge, huge.length, 2000), true); // 2,028-byte datagrams > MTU 1500
  assert.equal(uso.staged, false);
  assert.equal(stats.dropsBadOffloadHeader, 1);
  assert.equal(stats.framesSegmented, 0);
});

Deno.test("acceptOffloadFrame takes a UDP_L4 super-frame and refuses UDP_L4 on TCP", () => {
  const stats = newHostStats();
  const f = udp4(3000);
  // NEEDS_CSUM at 20+6, UDP_L4, hdr_len 28, gso_size 1000 (what the kernel hands over).
  const uso = hdr([0x01, 5, 28, 0, 0xe8, 3, 20, 0, 6, 0]);
  assert.equal(acceptOffloadFrame(uso, f, f.length, MTU, stats), f.length);
  const t = tcp4(3000);
  assert.equal(acceptOffloadFrame(uso, t, t.length, MTU, stats), -2);
  assert.equal(stats.dropsBadOffloadHeader, 1);
});
