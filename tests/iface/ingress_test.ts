import assert from "node:assert/strict";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address, parseIpAddress } from "../../src/wire/address.ts";
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
