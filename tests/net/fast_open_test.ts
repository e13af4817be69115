// TCP Fast Open through the async layer (issue 13): NetStack.listen({ fastOpen }) and
// NetStack.connect({ fastOpen }) between two stacks over a link pair, and an early-resolved
// connect whose handshake fails (reset, timeout, ICMP errors from a hand-driven link end).

import assert from "node:assert/strict";
import { FastOpenCache, type LinkDevice, linkPair, NetStack, type TcpStream } from "../../mod.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import {
  emitIcmpv4,
  icmpv4BufferLen,
  Icmpv4Packet,
  type Icmpv4Repr,
} from "../../src/wire/icmpv4.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, Ipv4Packet } from "../../src/wire/ipv4.ts";
import { stackPair } from "./_helpers.ts";

async function readN(conn: TcpStream, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return out.subarray(0, got);
}

const REQUEST = new TextEncoder().encode("hello over fast open");

Deno.test("NetStack: the second fastOpen connect carries its first write in the SYN", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 80, fastOpen: true });
  // First connection: a cookie request, an ordinary handshake.
  const first = await net.client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
  assert.equal(first.info.state, "established");
  await first.write(REQUEST);
  const p1 = await listener.accept();
  assert.deepEqual(await readN(p1, REQUEST.length), REQUEST);
  assert.equal(listener.info.fastOpenCookiesSent, 1);
  assert.equal(first.info.fastOpenSynData, 0);
  // Second connection: resolves before the handshake; the write goes in the SYN.
  const second = await net.client.connect({ hostname: "192.0.2.1", port: 80, fastOpen: true });
  assert.equal(second.info.state, "synSent");
  await second.write(REQUEST);
  const p2 = await listener.accept();
  assert.deepEqual(await readN(p2, REQUEST.length), REQUEST);
  assert.equal(listener.info.fastOpenAccepted, 1);
  await p2.write(new Uint8Array([42]));
  assert.deepEqual(await readN(second, 1), new Uint8Array([42]));
  assert.equal(second.info.fastOpenSynData, 1);
  assert.equal(second.info.fastOpenDataAcked, 1);
  assert.equal(second.info.retransmits, 0);
  for (const c of [first, second, p1, p2]) c.close();
  listener.close();
});

Deno.test("NetStack: Fast Open over IPv6 too", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 83, hostname: "::", fastOpen: true });
  for (const round of [0, 1]) {
    const conn = await net.client.connect({ hostname: "2001:db8::1", port: 83, fastOpen: true });
    await conn.write(REQUEST);
    const peer = await listener.accept();
    assert.deepEqual(await readN(peer, REQUEST.length), REQUEST);
    assert.equal(conn.info.fastOpenSynData, round);
    peer.close();
    conn.close();
  }
  assert.equal(listener.info.fastOpenAccepted, 1);
  listener.close();
});

Deno.test("NetStack: fastOpen connect to a listener without it falls back and delivers once", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 81 });
  for (let i = 0; i < 2; i++) {
    const c = await net.client.connect({ hostname: "192.0.2.1", port: 81, fastOpen: true });
    assert.equal(c.info.state, "established"); // no cookie is ever given: each connect waits
    await c.write(REQUEST);
    const p = await listener.accept();
    assert.deepEqual(await readN(p, REQUEST.length), REQUEST);
    assert.equal(listener.info.fastOpenCookiesSent, 0);
    c.close();
    p.close();
  }
  listener.close();
});

Deno.test("NetStack: fastOpen must be a boolean", async () => {
  await using net = stackPair();
  assert.throws(
    () => net.server.listen({ port: 82, fastOpen: 1 as unknown as boolean }),
    TypeError,
  );
  await assert.rejects(
    net.client.connect({ hostname: "192.0.2.1", port: 82, fastOpen: "yes" as unknown as boolean }),
    TypeError,
  );
});

Deno.test("examples/fast_open.ts sends its second request in the SYN", async () => {
  const path = new URL("../../examples/fast_open.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", path] }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /connection 1: got 18 bytes while established; SYN carried data: false/);
  assert.match(
    text,
    /connection 2: got 18 bytes while synReceived; SYN carried data: true, acknowledged in the SYN-ACK: true/,
  );
  assert.match(
    text,
    /connection 3: got 18 bytes while synReceived; SYN carried data: true, acknowledged in the SYN-ACK: true/,
  ); // after a key rotation the previous key's cookie still counts
  assert.match(text, /server: 1 cookie sent, 2 SYNs with data taken/);
  assert.match(text, /client cache: 1 of 1024 servers, 0 SYN-data drops, 0 black holes/);
});

/** A stack pair whose client holds a cookie for 192.0.2.1:`port` (one connection made). */
async function primedPair(port: number) {
  const net = stackPair();
  const listener = net.server.listen({ port, fastOpen: true });
  const first = await net.client.connect({ hostname: "192.0.2.1", port, fastOpen: true });
  const peer = await listener.accept();
  first.close();
  peer.close();
  return { net, listener };
}

Deno.test("NetStack: the signal of a Fast Open connect still aborts it after connect resolved early", async () => {
  const { net, listener } = await primedPair(85);
  await using _ = net;
  const ac = new AbortController();
  const conn = await net.client.connect({
    hostname: "192.0.2.1",
    port: 85,
    fastOpen: true,
    signal: ac.signal,
  });
  assert.equal(conn.info.state, "synSent"); // resolved before the handshake
  ac.abort();
  const isAbort = (e: unknown) => e instanceof DOMException && e.name === "AbortError";
  await assert.rejects(conn.read(new Uint8Array(4)), isAbort);
  await assert.rejects(conn.write(REQUEST), isAbort);
  assert.equal(conn.info.state, "closed");
  assert.equal(listener.info.synsReceived, 1); // only the first connection's SYN
  conn.close();
  listener.close();
});

Deno.test("NetStack: after the handshake of an early Fast Open connect its signal no longer aborts it", async () => {
  const { net, listener } = await primedPair(86);
  await using _ = net;
  const ac = new AbortController();
  const conn = await net.client.connect({
    hostname: "192.0.2.1",
    port: 86,
    fastOpen: true,
    signal: ac.signal,
  });
  await conn.write(REQUEST);
  const peer = await listener.accept();
  assert.deepEqual(await readN(peer, REQUEST.length), REQUEST);
  await peer.write(new Uint8Array([7]));
  assert.deepEqual(await readN(conn, 1), new Uint8Array([7]));
  assert.equal(conn.info.state, "established");
  ac.abort();
  await conn.write(new Uint8Array([8]));
  assert.deepEqual(await readN(peer, 1), new Uint8Array([8]));
  assert.equal(conn.info.state, "established");
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("NetStack: a refused Fast Open handshake rejects the first read and write with ConnectionRefused", async () => {
  const { net, listener } = await primedPair(87);
  await using _ = net;
  listener.close(); // the server now answers the SYN with a reset
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 87, fastOpen: true });
  assert.equal(conn.info.state, "synSent");
  assert.equal(await conn.write(REQUEST), REQUEST.length); // queued for the SYN
  await assert.rejects(conn.read(new Uint8Array(4)), Deno.errors.ConnectionRefused);
  const e = await conn.write(REQUEST).then(() => null, (e) => e);
  assert.ok(e instanceof Deno.errors.ConnectionRefused, String(e)); // not BrokenPipe
  assert.match(e.message, /^Cannot connect to 192\.0\.2\.1:87/);
  assert.equal((e as { code?: string }).code, "ECONNREFUSED");
  conn.close();
});

Deno.test("NetStack: the stack's Fast Open cache is bounded and lists its servers", async () => {
  const { net, listener } = await primedPair(88);
  await using _ = net;
  const cache = net.client.fastOpenCache;
  assert.equal(cache.info.capacity, 1024);
  assert.equal(cache.size, 1);
  const [row] = cache.entries();
  assert.equal(row!.server, "192.0.2.1");
  assert.equal(row!.cookie?.length, 8);
  assert.equal(row!.mss, 1460);
  // A paused cache makes a Fast Open connect wait for its handshake, with a plain SYN.
  cache.noteBlackhole(performance.now());
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 88, fastOpen: true });
  assert.equal(conn.info.state, "established");
  await conn.write(REQUEST);
  const peer = await listener.accept();
  assert.deepEqual(await readN(peer, REQUEST.length), REQUEST);
  assert.equal(conn.info.fastOpenSynData, 0);
  assert.equal(listener.info.fastOpenAccepted, 0);
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("TcpListener.rotateFastOpenKey checks its key and the listener", async () => {
  await using net = stackPair();
  const plain = net.server.listen({ port: 89 });
  assert.throws(() => plain.rotateFastOpenKey(new Uint8Array(16)), TypeError);
  plain.close();
  const l = net.server.listen({ port: 90, fastOpen: true });
  assert.throws(() => l.rotateFastOpenKey("k" as unknown as Uint8Array), TypeError);
  assert.throws(() => l.rotateFastOpenKey(new Uint8Array(15)), RangeError);
  l.rotateFastOpenKey(new Uint8Array(16).fill(1));
  l.close();
  assert.throws(() => l.rotateFastOpenKey(new Uint8Array(16)), Deno.errors.BadResource);
});

Deno.test("NetStack takes a Fast Open cache of its own: sized, shared or with black-hole detection off", async () => {
  const cache = new FastOpenCache(2, { blackholeTimeout: 0 });
  await using net = stackPair({ client: { fastOpenCache: cache } });
  assert.equal(net.client.fastOpenCache, cache);
  assert.notEqual(net.server.fastOpenCache, cache); // each stack has its own by default
  const listener = net.server.listen({ port: 91, fastOpen: true });
  const first = await net.client.connect({ hostname: "192.0.2.1", port: 91, fastOpen: true });
  (await listener.accept()).close();
  first.close();
  assert.equal(cache.size, 1);
  assert.equal(cache.info.capacity, 2);
  cache.noteBlackhole(performance.now()); // detection off: no pause
  assert.equal(cache.info.blackholes, 0);
  listener.close();
  const [device] = linkPair();
  assert.throws(
    () =>
      new NetStack({
        device,
        addresses: ["192.0.2.9/24"],
        fastOpenCache: {} as unknown as FastOpenCache,
      }),
    TypeError,
  );
});

// An early-resolved connect whose handshake fails another way than a reset: the link's other end
// is driven by the test (IP medium, no stack there), and the client holds a cookie for
// 192.0.2.1 from "an earlier connection", so connect({ fastOpen }) resolves in SYN-SENT.
const SERVER_V4 = Ipv4Address.parse("192.0.2.1");

function handDriven(connectTimeout: number): { peer: LinkDevice; client: NetStack } {
  const [peer, device] = linkPair({ medium: "ip" });
  const client = new NetStack({
    device,
    addresses: ["192.0.2.2/24"],
    seed: 2,
    tcp: { connectTimeout },
  });
  client.fastOpenCache.set(SERVER_V4, new Uint8Array(8).fill(7), 1460);
  return { peer, client };
}

/** The next IP packet the client sent on the link (polled, bounded). */
async function nextPacket(peer: LinkDevice): Promise<Uint8Array> {
  for (let i = 0; i < 5000; i++) {
    const p = peer.receive(0);
    if (p !== null) return p.slice();
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error("the client sent nothing");
}

/** Sends the client an ICMP Destination Unreachable with `code` from 192.0.2.1 quoting `packet`. */
function sendUnreachable(peer: LinkDevice, packet: Uint8Array, code: number): void {
  const repr: Icmpv4Repr = {
    kind: "dstUnreachable",
    code,
    nextHopMtu: 0,
    data: packet.subarray(0, 28),
  };
  const len = icmpv4BufferLen(repr);
  const buf = peer.transmit(0, 20 + len)!;
  emitIpv4({
    src: SERVER_V4,
    dst: Ipv4Address.parse("192.0.2.2"),
    protocol: IpProtocol.Icmp,
    payloadLen: len,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 1,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
  }, new Ipv4Packet(buf));
  emitIcmpv4(repr, new Icmpv4Packet(buf.subarray(20)));
  peer.commit();
}

/** Connects early with Fast Open, writes, and returns the stream and the SYN that left. */
async function earlyConnect(peer: LinkDevice, client: NetStack, port: number) {
  const conn = await client.connect({ hostname: "192.0.2.1", port, fastOpen: true });
  assert.equal(conn.info.state, "synSent"); // resolved before the handshake
  assert.equal(await conn.write(REQUEST), REQUEST.length); // queued for the SYN
  const syn = await nextPacket(peer);
  assert.equal(syn[9], IpProtocol.Tcp);
  assert.equal(syn[20 + 13]! & 0x12, 0x02); // SYN without ACK
  return { conn, syn };
}

/** The first read and the first write of `conn` both reject with `cls`, `code`, the connect's message. */
async function assertBothReject(
  conn: TcpStream,
  cls: new (...a: never[]) => Error,
  code: string,
  port: number,
): Promise<void> {
  for (const op of [() => conn.read(new Uint8Array(4)), () => conn.write(REQUEST)]) {
    const e = await op().then(() => null, (e) => e);
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    assert.equal((e as { code?: string }).code, code);
    assert.match((e as Error).message, new RegExp(`^Cannot connect to 192\\.0\\.2\\.1:${port}`));
  }
}

Deno.test("NetStack: a Fast Open handshake nobody answers rejects the first read and write with TimedOut", async () => {
  const { peer, client } = handDriven(300);
  await using _ = client;
  const { conn } = await earlyConnect(peer, client, 92);
  // Nothing answers: the connect timeout (300 ms) closes the connection.
  await assertBothReject(conn, Deno.errors.TimedOut, "ETIMEDOUT", 92);
  assert.equal(conn.info.state, "closed");
  conn.close();
});

Deno.test("NetStack: a Fast Open handshake answered by an ICMP hard error rejects the first read and write with NetworkUnreachable", async () => {
  // Connect timeout an hour: only the ICMP error can end the handshake.
  const { peer, client } = handDriven(3_600_000);
  await using _ = client;
  const { conn, syn } = await earlyConnect(peer, client, 93);
  sendUnreachable(peer, syn, 13); // communication administratively prohibited
  await assertBothReject(conn, Deno.errors.NetworkUnreachable, "ENETUNREACH", 93);
  conn.close();
});

Deno.test("NetStack: a Fast Open handshake that times out after an ICMP soft error rejects with NetworkUnreachable, not TimedOut", async () => {
  const { peer, client } = handDriven(300);
  await using _ = client;
  const { conn, syn } = await earlyConnect(peer, client, 94);
  sendUnreachable(peer, syn, 0); // net unreachable: soft in SYN-SENT, remembered
  await assertBothReject(conn, Deno.errors.NetworkUnreachable, "ENETUNREACH", 94);
  conn.close();
});
