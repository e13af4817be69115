import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { Ipv4Packet } from "../../src/wire/ipv4.ts";
import { drain, type Host, inject, pair, run } from "./helpers.ts";

const ENCODER = new TextEncoder();

/** A connection from A (client) to B (a listener's child) on `medium`, established at t = 0–50. */
function connected(
  medium: "ethernet" | "ip",
): { a: Host; b: Host; client: TcpSocket; server: TcpSocket } {
  const [a, b] = pair(medium);
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 8080 });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket();
  a.iface.connectTcp(a.sockets, client, { addr: parseIpAddress("192.0.2.2"), port: 8080 }, {}, 0);
  run([a, b], 0, 50);
  const server = b.iface.acceptTcp(b.sockets, listener);
  assert.ok(server !== null && client.state === "established");
  return { a, b, client, server: server as TcpSocket };
}

/**
 * Sends `text` from the client and returns the frames on their way to B, taken off the link
 * (so a test can change them before B sees them).
 */
function dataFrames(c: ReturnType<typeof connected>, text: string): Uint8Array[] {
  assert.equal(c.client.send(ENCODER.encode(text)), text.length);
  c.a.iface.poll(60, c.a.dev, c.a.sockets);
  const frames = drain(c.b.dev, 60);
  assert.equal(frames.length, 1);
  return frames;
}

/** What the server has received, as text. */
function received(server: TcpSocket): string {
  const buf = new Uint8Array(256);
  const n = server.recv(buf);
  return new TextDecoder().decode(buf.subarray(0, n));
}

for (const medium of ["ethernet", "ip"] as const) {
  const link = medium === "ethernet" ? 14 : 0;

  Deno.test(`ingress (${medium}): a frame padded past the IPv4 total length delivers only the packet's data`, () => {
    const c = connected(medium);
    const [f] = dataFrames(c, "hello");
    const padded = new Uint8Array(f!.length + 9).fill(0xee);
    padded.set(f!);
    inject(c.a.dev, [padded], 61);
    c.b.iface.poll(61, c.b.dev, c.b.sockets);
    assert.equal(received(c.server), "hello");
    assert.equal(c.b.iface.counters.badChecksum + c.b.iface.counters.malformed, 0);
  });

  Deno.test(`ingress (${medium}): a wrong IPv4 header checksum is counted and the data not delivered`, () => {
    const c = connected(medium);
    const [f] = dataFrames(c, "hello");
    f![link + 10]! ^= 0x01; // the header checksum
    inject(c.a.dev, [f!], 61);
    c.b.iface.poll(61, c.b.dev, c.b.sockets);
    assert.equal(c.b.iface.counters.badChecksum, 1);
    assert.equal(received(c.server), "");
  });

  Deno.test(`ingress (${medium}): a wrong TCP checksum in a plain IPv4 packet is counted and not delivered`, () => {
    const c = connected(medium);
    const [f] = dataFrames(c, "hello");
    f![f!.length - 1]! ^= 0x20; // a payload byte: the TCP checksum no longer matches
    inject(c.a.dev, [f!], 61);
    c.b.iface.poll(61, c.b.dev, c.b.sockets);
    assert.equal(c.b.iface.counters.badChecksum, 1);
    assert.equal(received(c.server), "");
  });

  Deno.test(`ingress (${medium}): a TCP segment in an IPv4 packet with options is delivered`, () => {
    const c = connected(medium);
    const [f] = dataFrames(c, "hello");
    // Rebuild the packet with a 4-byte option (three NOPs and End of Options): IHL 6.
    const ip = f!.subarray(link);
    const out = new Uint8Array(f!.length + 4);
    out.set(f!.subarray(0, link));
    out.set(ip.subarray(0, 20), link);
    out.set([1, 1, 1, 0], link + 20);
    out.set(ip.subarray(20), link + 24);
    const p = new Ipv4Packet(out.subarray(link));
    p.ihl = 6;
    p.totalLen = ip.length + 4;
    p.fillChecksum();
    inject(c.a.dev, [out], 61);
    c.b.iface.poll(61, c.b.dev, c.b.sockets);
    assert.equal(received(c.server), "hello");
    assert.equal(c.b.iface.counters.badChecksum + c.b.iface.counters.malformed, 0);
  });

  Deno.test(`ingress (${medium}): a total length past the frame is malformed`, () => {
    const c = connected(medium);
    const [f] = dataFrames(c, "hello");
    const p = new Ipv4Packet(f!.subarray(link));
    p.totalLen = p.totalLen + 1;
    p.fillChecksum();
    inject(c.a.dev, [f!], 61);
    c.b.iface.poll(61, c.b.dev, c.b.sockets);
    assert.equal(c.b.iface.counters.malformed, 1);
    assert.equal(received(c.server), "");
  });
}

Deno.test("ingress: a TCP segment to an address that is not ours is not delivered", () => {
  const c = connected("ip");
  const [f] = dataFrames(c, "hello");
  const p = new Ipv4Packet(f!);
  p.dst = Ipv4Address.parse("192.0.2.9");
  p.fillChecksum();
  inject(c.a.dev, [f!], 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.equal(c.b.iface.counters.notForUs, 1);
  assert.equal(received(c.server), "");
});

// --- receive coalescing (InterfaceConfig.coalesceTcp) ---------------------------------------

/**
 * A connection (B's `coalesceTcp` as given, else the default) with `n` full segments from A
 * waiting in B's queue.
 */
function burst(
  n: number,
  coalesceTcp?: boolean,
  to = "192.0.2.2",
): { c: ReturnType<typeof connected>; data: Uint8Array; frames: Uint8Array[] } {
  const [a, b] = pair("ethernet", {}, coalesceTcp === undefined ? {} : { coalesceTcp });
  const any = to.includes(":") ? Ipv6Address.UNSPECIFIED : Ipv4Address.UNSPECIFIED;
  const listener = new TcpListenSocket({ addr: any, port: 8080 });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket();
  a.iface.connectTcp(a.sockets, client, { addr: parseIpAddress(to), port: 8080 }, {}, 0);
  run([a, b], 0, 50);
  const server = b.iface.acceptTcp(b.sockets, listener) as TcpSocket;
  const data = new Uint8Array(n * 1460 - 333).map((_, i) => (i * 7 + (i >>> 8)) & 0xff);
  assert.equal(client.send(data), data.length);
  a.iface.poll(60, a.dev, a.sockets);
  const frames = drain(b.dev, 60);
  assert.equal(frames.length, n);
  return { c: { a, b, client, server }, data, frames };
}

/** Everything the server can read now. */
function readAll(server: TcpSocket): Uint8Array {
  const out: number[] = [];
  const buf = new Uint8Array(65536);
  for (let n = server.recv(buf); n > 0; n = server.recv(buf)) out.push(...buf.subarray(0, n));
  return Uint8Array.from(out);
}

Deno.test("coalesceTcp (the default): segments of one flow read in one poll reach the socket as one, acknowledged once", () => {
  const { c, data, frames } = burst(6);
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 1);
  const acks = drain(c.a.dev, 61);
  assert.equal(acks.length, 1); // without coalescing: one per two full segments
});

Deno.test("coalesceTcp false: each segment reaches the socket alone, one ACK per two", () => {
  const { c, data, frames } = burst(6, false);
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 6);
  assert.equal(drain(c.a.dev, 61).length, 2); // after the 2nd and the 4th; the short 6th waits
});

Deno.test("coalesceTcp: out of order frames break the batch and every byte still arrives in order", () => {
  const { c, data, frames } = burst(6);
  inject(c.a.dev, [frames[0]!, frames[1]!, frames[3]!, frames[2]!, frames[4]!, frames[5]!], 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.ok(drain(c.a.dev, 61).length >= 2); // the gap drew an immediate (duplicate) ACK
});

Deno.test("coalesceTcp: a corrupt frame in a batch is counted and dropped, the rest delivered", () => {
  const { c, data, frames } = burst(4);
  frames[2]![frames[2]!.length - 1]! ^= 0x01;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.equal(c.b.iface.counters.badChecksum, 1);
  assert.deepEqual(readAll(c.server), data.subarray(0, 2 * 1460 - 12 * 2)); // up to the hole
  // The retransmission fills the hole; the last segment was held out of order.
  run([c.a, c.b], 62, 2000, 10);
  const rest = readAll(c.server);
  assert.deepEqual(rest, data.subarray(data.length - rest.length));
  assert.equal(rest.length + 2 * (1460 - 12), data.length);
});

Deno.test("coalesceTcp: a FIN after data in the same poll is taken after the data", () => {
  const { c, data, frames } = burst(3);
  c.client.close();
  c.a.iface.poll(62, c.a.dev, c.a.sockets);
  const fin = drain(c.b.dev, 62); // the FIN, after a tail loss probe of the last segment
  assert.equal(fin.at(-1)!.length, 14 + 20 + 32);
  inject(c.a.dev, [...frames, ...fin], 63);
  c.b.iface.poll(63, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.state, "closeWait");
});

Deno.test("coalesceTcp: two flows interleaved in one poll each get all their bytes", () => {
  const [a, b] = pair("ip", {}, { coalesceTcp: true });
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 8080 });
  b.iface.listenTcp(b.sockets, listener);
  const clients = [new TcpSocket(), new TcpSocket()];
  for (const s of clients) {
    a.iface.connectTcp(a.sockets, s, { addr: parseIpAddress("192.0.2.2"), port: 8080 }, {}, 0);
  }
  run([a, b], 0, 50);
  const servers = [b.iface.acceptTcp(b.sockets, listener), b.iface.acceptTcp(b.sockets, listener)];
  const sent = clients.map((s, k) => {
    const d = new Uint8Array(4 * 1448).fill(k + 1);
    assert.equal(s.send(d), d.length);
    return d;
  });
  a.iface.poll(60, a.dev, a.sockets);
  const frames = drain(b.dev, 60);
  assert.equal(frames.length, 8);
  // Alternate the two flows' frames: every frame ends the other flow's batch.
  const mixed = [0, 4, 1, 5, 2, 6, 3, 7].map((i) => frames[i]!);
  inject(a.dev, mixed, 61);
  b.iface.poll(61, b.dev, b.sockets);
  for (const s of servers) {
    const got = readAll(s as TcpSocket);
    const k = got[0]! - 1;
    assert.deepEqual(got, sent[k]);
  }
});

Deno.test("coalesceTcp must be a boolean", () => {
  assert.throws(() => pair("ip", { coalesceTcp: "yes" as unknown as boolean }), TypeError);
});

/**
 * 4 MiB each way in odd-sized writes through 64 KiB rings (so the rings wrap), coalescing on at
 * both ends; asserts SHA-256 equality and no drops, returns the hosts.
 */
function exchange(medium: "ethernet" | "ip", mtu: number, to = "192.0.2.2"): [Host, Host] {
  const [a, b] = pair(medium, { coalesceTcp: true }, { coalesceTcp: true }, { queueLen: 256, mtu });
  const opts = { rxBufferSize: 65536, txBufferSize: 65536 };
  const any = to.includes(":") ? Ipv6Address.UNSPECIFIED : Ipv4Address.UNSPECIFIED;
  const listener = new TcpListenSocket({ addr: any, port: 8080 }, { socket: opts });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket(opts);
  a.iface.connectTcp(a.sockets, client, { addr: parseIpAddress(to), port: 8080 }, {}, 0);
  run([a, b], 0, 50);
  const server = b.iface.acceptTcp(b.sockets, listener) as TcpSocket;
  const ends = [client, server].map((tx, k) => ({
    tx,
    rx: k === 0 ? server : client,
    sent: 0,
    got: 0,
    hIn: createHash("sha256"),
    hOut: createHash("sha256"),
  }));
  const chunk = new Uint8Array(7919);
  const buf = new Uint8Array(5003);
  let t = 51;
  while (ends.some((e) => e.got < TOTAL)) {
    assert.ok(t < 200_000, `stalled at ${t}`);
    for (const e of ends) {
      while (e.sent < TOTAL) {
        const n0 = Math.min(chunk.length, TOTAL - e.sent);
        for (let i = 0; i < n0; i++) chunk[i] = (e.sent + i) * (e === ends[0] ? 7 : 13) >>> 3;
        const n = e.tx.send(chunk.subarray(0, n0));
        e.hIn.update(chunk.subarray(0, n));
        e.sent += n;
        if (n < n0) break;
      }
      for (let n = e.rx.recv(buf); n > 0; n = e.rx.recv(buf)) {
        e.hOut.update(buf.subarray(0, n));
        e.got += n;
      }
    }
    run([a, b], t, t);
    t++;
  }
  for (const e of ends) assert.equal(e.hOut.digest("hex"), e.hIn.digest("hex"));
  for (const h of [a, b]) {
    assert.equal(h.iface.counters.badChecksum + h.iface.counters.malformed, 0);
  }
  return [a, b];
}

const TOTAL = 4 << 20;

Deno.test("coalesceTcp: 4 MiB each way at MTU 1500 arrive byte-exact, with a fraction of the ACKs", () => {
  const [a, b] = exchange("ethernet", 1514);
  // Pure ACKs on top of the data segments: about 7 % here, 56 % without coalescing (one per two
  // segments, less what rides on data).
  const segments = Math.ceil(TOTAL / 1448);
  assert.ok(a.dev.stats.framesSent < segments * 1.15, `${a.dev.stats.framesSent} frames`);
  assert.ok(b.dev.stats.framesSent < segments * 1.15, `${b.dev.stats.framesSent} frames`);
});

Deno.test("coalesceTcp: 4 MiB each way at MTU 65535 arrive byte-exact (segments too long to batch go alone)", () => {
  exchange("ip", 65535);
});

// IPv6 (ingress reads a packet whose Next Header is TCP in place and coalesces it by the IPv4
// rules, plus the flow label; one with an extension header takes the general path alone).

const V6 = "2001:db8::2";
/** Ethernet + IPv6 header: the TCP header's offset in a frame. */
const TCP6 = 14 + 40;

Deno.test("coalesceTcp IPv6: segments of one flow read in one poll reach the socket as one, acknowledged once", () => {
  const { c, data, frames } = burst(6, undefined, V6);
  assert.equal(frames[0]![12]! << 8 | frames[0]![13]!, 0x86dd);
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 1);
  assert.equal(drain(c.a.dev, 61).length, 1);
});

Deno.test("coalesceTcp false, IPv6: each segment reaches the socket alone, one ACK per two", () => {
  const { c, data, frames } = burst(6, false, V6);
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 6);
  assert.equal(drain(c.a.dev, 61).length, 2);
});

Deno.test("coalesceTcp IPv6: a different flow label ends the batch", () => {
  const { c, data, frames } = burst(6, undefined, V6);
  // The flow label is not in the pseudo-header: the TCP checksum stays right.
  for (const f of frames.slice(3)) f[14 + 3] = f[14 + 3]! ^ 0x01;
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 2);
});

Deno.test("coalesceTcp IPv6: a different ECN codepoint ends the batch", () => {
  const { c, data, frames } = burst(6, undefined, V6);
  for (const f of frames.slice(2)) f[14 + 1] = f[14 + 1]! | 0x20; // ECT(0) in the traffic class
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 2);
});

Deno.test("coalesceTcp IPv6: a segment behind an extension header goes alone", () => {
  const { c, data, frames } = burst(6, undefined, V6);
  // The last (short) frame gets an 8-byte Destination Options header (one PadN option) before
  // its TCP header; the TCP length and the pseudo-header do not change. Without it the short
  // segment would end the batch as its sixth.
  const f = frames[5]!;
  const ext = new Uint8Array(f.length + 8);
  ext.set(f.subarray(0, TCP6));
  ext.set([6, 0, 1, 4, 0, 0, 0, 0], TCP6);
  ext.set(f.subarray(TCP6), TCP6 + 8);
  ext[14 + 6] = 60; // Next Header: Destination Options
  const payloadLen = (ext[14 + 4]! << 8 | ext[14 + 5]!) + 8;
  ext[14 + 4] = payloadLen >>> 8;
  ext[14 + 5] = payloadLen & 0xff;
  frames[5] = ext;
  const before = c.server.info.segmentsIn;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.deepEqual(readAll(c.server), data);
  assert.equal(c.server.info.segmentsIn - before, 2); // [0, 4], then 5 alone
});

Deno.test("coalesceTcp IPv6: a corrupt frame in a batch is counted and dropped, the rest delivered", () => {
  const { c, data, frames } = burst(4, undefined, V6);
  frames[2]![frames[2]!.length - 1]! ^= 0x01;
  inject(c.a.dev, frames, 61);
  c.b.iface.poll(61, c.b.dev, c.b.sockets);
  assert.equal(c.b.iface.counters.badChecksum, 1);
  const mss = frames[0]!.length - TCP6 - 32;
  assert.deepEqual(readAll(c.server), data.subarray(0, 2 * mss));
  run([c.a, c.b], 62, 2000, 10);
  const rest = readAll(c.server);
  assert.equal(rest.length + 2 * mss, data.length);
  assert.deepEqual(rest, data.subarray(2 * mss));
});

Deno.test("coalesceTcp IPv6: 4 MiB each way at MTU 1500 arrive byte-exact, with a fraction of the ACKs", () => {
  const [a, b] = exchange("ethernet", 1514, V6);
  const segments = Math.ceil(TOTAL / 1428);
  assert.ok(a.dev.stats.framesSent < segments * 1.15, `${a.dev.stats.framesSent} frames`);
  assert.ok(b.dev.stats.framesSent < segments * 1.15, `${b.dev.stats.framesSent} frames`);
});

Deno.test("coalesceTcp IPv6: 4 MiB each way at MTU 65535 on IP medium arrive byte-exact", () => {
  exchange("ip", 65535, V6);
});
