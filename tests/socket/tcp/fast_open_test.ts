// TCP Fast Open (RFC 7413) between a client TcpSocket and a TcpListenSocket in memory, on
// explicit time: cookie request, data in the SYN, invalid cookie, a server that does not take
// Fast Open (and its refusal expiring after an hour), a lost SYN with data, a lost SYN-ACK, the
// pending cap, key rotation, the hold.

import assert from "node:assert/strict";
import { fastOpenCookie, FastOpenServer } from "../../../src/socket/tcp/fast_open.ts";
import { FastOpenCache } from "../../../src/socket/tcp/fast_open_cache.ts";
import { Ipv4Address } from "../../../src/wire/address.ts";
import { TcpFlags, type TcpRepr } from "../../../src/wire/tcp.ts";
import { CLIENT, FastOpenNet, readAll, SERVER } from "./_fast_open_net.ts";

const { SYN, ACK, FIN } = TcpFlags;
const DATA = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
const KEY = new Uint8Array(16).fill(3);

function synsOf(net: FastOpenNet) {
  return net.log.filter((s) => s.toServer && (s.repr.flags & (SYN | ACK)) === SYN);
}
function synAcksOf(net: FastOpenNet) {
  return net.log.filter((s) => !s.toServer && (s.repr.flags & (SYN | ACK)) === (SYN | ACK));
}
/** Payload bytes the client sent, SYN data included. */
function clientBytes(net: FastOpenNet): number {
  return net.log.filter((s) => s.toServer).reduce((n, s) => n + s.repr.payload.length, 0);
}

/** A net whose client already holds a valid cookie from a first connection. */
function primed(listen = {}): { net: FastOpenNet; cache: FastOpenCache } {
  const net = new FastOpenNet({ fastOpen: { key: KEY }, ...listen });
  const cache = new FastOpenCache();
  cache.set(SERVER.addr, fastOpenCookie(KEY, CLIENT, SERVER.addr), 1460);
  return { net, cache };
}

Deno.test("Fast Open: a first connection asks for a cookie and caches the one the SYN-ACK carries", () => {
  const net = new FastOpenNet({ fastOpen: { key: KEY } });
  const cache = new FastOpenCache();
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(5);
  const [syn] = synsOf(net);
  assert.equal(syn!.repr.fastOpen?.length, 0); // the request
  assert.equal(syn!.repr.payload.length, 0); // no cookie yet: no data in the SYN
  const [synAck] = synAcksOf(net);
  const expected = fastOpenCookie(KEY, CLIENT, SERVER.addr);
  assert.deepEqual(synAck!.repr.fastOpen, expected);
  assert.deepEqual(cache.cookie(SERVER.addr), expected);
  assert.equal(cache.mss(SERVER.addr), 1460);
  assert.equal(net.listener.info.fastOpenCookiesSent, 1);
  assert.equal(net.listener.info.fastOpenAccepted, 0);
  // The data went after the handshake, once.
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA);
  assert.equal(c.info.fastOpenSynData, 0);
  assert.equal(clientBytes(net), DATA.length);
});

Deno.test("Fast Open: with a cached cookie the SYN carries the data, readable before the handshake completes", () => {
  const { net, cache } = primed();
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(2); // t=0 the SYN leaves, t=1 it arrives; the SYN-ACK is on its way
  const [syn] = synsOf(net);
  assert.deepEqual(syn!.repr.payload, DATA);
  assert.deepEqual(syn!.repr.fastOpen, cache.cookie(SERVER.addr));
  assert.equal(c.state, "synSent");
  // RFC 7413 §4.2.2: the child is in the accept queue in SYN-RECEIVED, its data readable.
  const child = net.listener.accept()!;
  assert.equal(child.state, "synReceived");
  assert.deepEqual(readAll(child), DATA);
  const [synAck] = synAcksOf(net);
  assert.equal(synAck!.repr.ack, (syn!.repr.seq + 1 + DATA.length) >>> 0); // data acknowledged
  assert.equal(synAck!.repr.fastOpen, undefined); // a valid cookie is not echoed
  net.run(10);
  assert.equal(child.state, "established");
  assert.equal(c.state, "established");
  assert.equal(net.listener.info.fastOpenAccepted, 1);
  assert.equal(c.info.fastOpenSynData, 1);
  assert.equal(c.info.fastOpenDataAcked, 1);
  assert.equal(c.info.retransmits, 0);
  assert.equal(c.sendQueue, 0);
  assert.equal(clientBytes(net), DATA.length); // sent once, never again
  // The server answers over the connection; the stream goes on as usual.
  child.send(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
  c.send(new Uint8Array([1, 2, 3]));
  net.run(20);
  assert.equal(new TextDecoder().decode(readAll(c)), "HTTP/1.1 200 OK\r\n\r\n");
  assert.deepEqual(readAll(child), new Uint8Array([1, 2, 3]));
});

Deno.test("Fast Open: the request reaches the server one round trip earlier", () => {
  /** The first millisecond at which the server can read the request (1 ms per hop). */
  const readableAt = (tfo: boolean): number => {
    const { net, cache } = primed();
    const c = net.connect({ fastOpen: tfo ? cache : false }, tfo ? DATA : undefined);
    let sent = tfo;
    net.onStep = () => {
      if (!sent && c.maySend) sent = c.send(DATA) > 0; // the application writes when it may
    };
    for (let t = 1; t < 20; t++) {
      net.run(t);
      const child = net.children[0];
      if (child !== undefined && child.recvQueue === DATA.length) return net.now;
    }
    return Infinity;
  };
  assert.equal(readableAt(false), 4); // SYN, SYN-ACK, then the data with the ACK: 3 hops
  assert.equal(readableAt(true), 2); // in the SYN: 1 hop
});

Deno.test("Fast Open: closing the send half in SYN-SENT keeps the SYN's data and sends the FIN after it", () => {
  const { net, cache } = primed();
  const c = net.connect({ fastOpen: cache }, DATA);
  c.closeWrite(); // before the SYN even left
  assert.equal(c.state, "synSent");
  net.run(20);
  assert.deepEqual(synsOf(net)[0]!.repr.payload, DATA);
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA);
  assert.equal(child.isEof, true);
  assert.equal(c.state, "finWait2");
  assert.equal(clientBytes(net), DATA.length);
});

Deno.test("Fast Open: a server may write in SYN-RECEIVED after taking SYN data; it leaves after the handshake", () => {
  const { net, cache } = primed();
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(2);
  const child = net.listener.accept()!;
  assert.equal(child.maySend, true);
  assert.equal(child.send(new Uint8Array([7, 8])), 2);
  net.run(10);
  assert.deepEqual(readAll(c), new Uint8Array([7, 8]));
});

Deno.test("Fast Open: an invalid cookie falls back to a normal handshake and hands out a valid cookie", () => {
  const { net } = primed();
  const cache = new FastOpenCache();
  cache.set(SERVER.addr, new Uint8Array(8).fill(0xee), 1460); // forged or from an old key
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(2);
  assert.equal(net.listener.accept(), null); // not queued before the handshake
  assert.equal(net.listener.info.fastOpenRejected, 1);
  const [syn] = synsOf(net);
  assert.deepEqual(syn!.repr.payload, DATA);
  const [synAck] = synAcksOf(net);
  assert.equal(synAck!.repr.ack, (syn!.repr.seq + 1) >>> 0); // only the SYN: data ignored
  net.run(20);
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA); // sent again after the handshake, delivered once
  assert.equal(c.info.fastOpenFallbacks, 1);
  assert.equal(c.info.fastOpenDataAcked, 0);
  assert.deepEqual(cache.cookie(SERVER.addr), fastOpenCookie(KEY, CLIENT, SERVER.addr));
  assert.equal(clientBytes(net), 2 * DATA.length); // once in the SYN, once after
});

Deno.test("Fast Open: a server without Fast Open acknowledges only the SYN; the client resends and stops trying", () => {
  const net = new FastOpenNet({}); // Fast Open off on the listener (the default)
  const cache = new FastOpenCache();
  cache.set(SERVER.addr, new Uint8Array(8).fill(1), 1460);
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(20);
  const [synAck] = synAcksOf(net);
  assert.equal(synAck!.repr.fastOpen, undefined);
  assert.equal(synAck!.repr.ack, (synsOf(net)[0]!.repr.seq + 1) >>> 0);
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA);
  assert.equal(c.info.fastOpenFallbacks, 1);
  assert.equal(cache.disabled(SERVER.addr, net.now), true);
  // The next connection to that server sends a plain SYN and waits for the handshake.
  net.connect({ fastOpen: cache }, DATA);
  net.run(40);
  const second = synsOf(net)[1]!;
  assert.equal(second.repr.fastOpen, undefined);
  assert.equal(second.repr.payload.length, 0);
  assert.deepEqual(readAll(net.listener.accept()!), DATA);
});

Deno.test("Fast Open: a server's refusal is remembered for an hour, then it is asked again", () => {
  const net = new FastOpenNet({}); // no Fast Open on the server at first
  const cache = new FastOpenCache();
  net.connect({ fastOpen: cache }, DATA);
  net.run(20);
  assert.equal(synsOf(net)[0]!.repr.fastOpen?.length, 0); // asked for a cookie at t=0
  const refusedAt = synAcksOf(net)[0]!.t + 1; // the SYN-ACK without the option arrived
  const [row] = cache.entries();
  assert.equal(row!.refused, true);
  assert.equal(row!.refusedUntil, refusedAt + 3_600_000);
  assert.equal(cache.disabled(SERVER.addr, refusedAt + 3_599_999), true);
  // 59 min 59 s later: still a plain SYN.
  net.now = refusedAt + 3_599_000;
  net.connect({ fastOpen: cache }, DATA);
  net.run(net.now + 20);
  assert.equal(synsOf(net)[1]!.repr.fastOpen, undefined);
  // The server restarts with Fast Open on. An hour after the refusal the client asks again and
  // gets a cookie, and the connection after that carries its data in the SYN.
  const later = new FastOpenNet({ fastOpen: { key: KEY } });
  later.now = refusedAt + 3_600_000;
  assert.equal(cache.disabled(SERVER.addr, later.now), false);
  later.connect({ fastOpen: cache }, DATA);
  later.run(later.now + 20);
  assert.equal(synsOf(later)[0]!.repr.fastOpen?.length, 0);
  assert.deepEqual(cache.cookie(SERVER.addr), fastOpenCookie(KEY, CLIENT, SERVER.addr));
  assert.equal(cache.entries()[0]!.refused, false);
  const c = later.connect({ fastOpen: cache }, DATA);
  later.run(later.now + 20);
  assert.deepEqual(synsOf(later)[1]!.repr.payload, DATA);
  assert.equal(c.info.fastOpenDataAcked, 1);
});

Deno.test("Fast Open: a lost SYN with data is sent again plain, and the data once after the handshake", () => {
  const { net, cache } = primed();
  net.drop = (s) => s.toServer && s.repr.payload.length > 0 && (s.repr.flags & SYN) !== 0;
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(1100); // the initial RTO is 1 s
  const syns = synsOf(net);
  assert.equal(syns.length, 2);
  assert.deepEqual(syns[0]!.repr.payload, DATA);
  assert.equal(syns[1]!.repr.payload.length, 0); // RFC 7413 §4.1.3 / Linux: retry without data
  assert.equal(syns[1]!.repr.fastOpen, undefined);
  assert.equal(c.state, "established");
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA);
  assert.equal(c.info.fastOpenFallbacks, 1);
  // A retransmitted SYN teaches nothing about the server: the cookie stays.
  assert.deepEqual(cache.cookie(SERVER.addr), fastOpenCookie(KEY, CLIENT, SERVER.addr));
});

Deno.test("Fast Open: a lost SYN-ACK after the server took the data neither loses nor duplicates it", () => {
  const { net, cache } = primed();
  let dropped = 0;
  net.drop = (s) => !s.toServer && (s.repr.flags & SYN) !== 0 && dropped++ === 0;
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(1100);
  assert.equal(c.state, "established");
  const child = net.listener.accept()!;
  assert.deepEqual(readAll(child), DATA);
  assert.equal(readAll(child).length, 0);
  // The second SYN-ACK (for the plain retransmitted SYN) acknowledges the data too.
  assert.equal(c.info.fastOpenDataAcked, 1);
  assert.equal(c.info.fastOpenFallbacks, 0);
  assert.equal(c.sendQueue, 0);
  assert.equal(child.info.bytesIn, DATA.length);
});

Deno.test("Fast Open: beyond the pending cap a valid cookie falls back to the normal handshake", () => {
  const { net, cache } = primed({ fastOpen: { key: KEY, maxPending: 1 } });
  net.drop = (s) => s.toServer && (s.repr.flags & (SYN | ACK)) === ACK && s.t < 3; // keep #1 pending
  net.connect({ fastOpen: cache }, DATA);
  net.connect({ fastOpen: cache }, DATA);
  net.run(2);
  const info = net.listener.info;
  assert.equal(info.fastOpenAccepted, 1);
  assert.equal(info.fastOpenOverflows, 1);
  assert.equal(net.listener.pendingAccepts, 1); // only the first is queued early
  net.run(1500);
  const a = net.listener.accept()!, b = net.listener.accept()!;
  assert.deepEqual(readAll(a), DATA);
  assert.deepEqual(readAll(b), DATA);
  assert.equal(net.clients[1]!.info.fastOpenFallbacks, 1);
});

Deno.test("Fast Open: cookies stay valid across one key rotation, not two", () => {
  const srv = new FastOpenServer({ key: KEY });
  const old = fastOpenCookie(KEY, CLIENT, SERVER.addr);
  srv.rotateKey(new Uint8Array(16).fill(4));
  assert.equal(srv.check(CLIENT, SERVER.addr, old), true);
  assert.equal(
    srv.check(CLIENT, SERVER.addr, fastOpenCookie(new Uint8Array(16).fill(4), CLIENT, SERVER.addr)),
    true,
  );
  srv.rotateKey(new Uint8Array(16).fill(5));
  assert.equal(srv.check(CLIENT, SERVER.addr, old), false);
  assert.throws(() => new FastOpenServer({ key: new Uint8Array(8) }), RangeError);
  assert.throws(() => new FastOpenServer({ maxPending: 0 }), RangeError);
});

Deno.test("Fast Open: a listener rotated to a new key still takes the old cookie, then issues new ones", () => {
  const { net, cache } = primed();
  net.listener.rotateFastOpenKey(new Uint8Array(16).fill(9));
  net.connect({ fastOpen: cache }, DATA);
  net.run(10);
  assert.equal(net.listener.info.fastOpenAccepted, 1);
  assert.deepEqual(readAll(net.listener.accept()!), DATA);
});

Deno.test("Fast Open: with a cookie and nothing written the SYN waits 5 ms, then leaves without data", () => {
  const { net, cache } = primed();
  const c = net.connect({ fastOpen: cache });
  net.run(5);
  assert.equal(synsOf(net).length, 0);
  assert.equal(c.state, "synSent");
  net.run(6);
  const [syn] = synsOf(net);
  assert.equal(syn!.t, 5);
  assert.equal(syn!.repr.payload.length, 0);
  assert.deepEqual(syn!.repr.fastOpen, cache.cookie(SERVER.addr));
  net.run(20);
  assert.equal(c.state, "established");
  assert.equal(cache.disabled(SERVER.addr, net.now), false); // a cookie, no data: no verdict
});

Deno.test("Fast Open is off by default: no option on a plain SYN or SYN-ACK, no writes in SYN-SENT", () => {
  const net = new FastOpenNet({});
  const c = net.connect({});
  assert.equal(c.maySend, false); // no writes before the handshake without Fast Open
  net.run(5);
  assert.equal(synsOf(net)[0]!.repr.fastOpen, undefined);
  assert.equal(synAcksOf(net)[0]!.repr.fastOpen, undefined);
  assert.equal(net.listener.info.fastOpenCookiesSent, 0);
});

Deno.test("Fast Open options are validated", () => {
  assert.throws(
    () => new FastOpenNet({}).connect({ fastOpen: 1 as unknown as boolean }),
    TypeError,
  );
  assert.throws(() => new FastOpenCache(0), RangeError);
});

Deno.test("Fast Open: a second lost SYN with data in a row pauses Fast Open to that server for 4 minutes", () => {
  const { net, cache } = primed();
  net.drop = (s) => s.toServer && s.repr.payload.length > 0 && (s.repr.flags & SYN) !== 0;
  const first = net.connect({ fastOpen: cache }, DATA);
  net.run(1100);
  assert.equal(first.state, "established");
  assert.equal(cache.info.synDataDrops, 1);
  assert.equal(cache.paused(SERVER.addr, net.now), false); // one drop is no pattern (Linux)
  const second = net.connect({ fastOpen: cache }, DATA);
  net.run(2200);
  assert.equal(second.state, "established");
  assert.equal(cache.info.synDataDrops, 2);
  const dropAt = synAcksOf(net).at(-1)!.t + 1; // its SYN-ACK told: no data, no cookie
  assert.equal(cache.paused(SERVER.addr, net.now), true);
  // While paused: a plain SYN at once, no option, no data, no hold.
  const before = synsOf(net).length;
  const third = net.connect({ fastOpen: cache }, DATA);
  net.run(2210);
  const plain = synsOf(net)[before]!;
  assert.equal(plain.t, 2200);
  assert.equal(plain.repr.fastOpen, undefined);
  assert.equal(plain.repr.payload.length, 0);
  assert.equal(third.state, "established");
  assert.equal(third.info.fastOpenSynData, 0);
  // The pause is 60 s × 2^2 from the drop; the cookie is kept for after it.
  assert.equal(cache.paused(SERVER.addr, dropAt + 239_000), true);
  assert.deepEqual(cache.cookie(SERVER.addr), fastOpenCookie(KEY, CLIENT, SERVER.addr));
  net.drop = () => false;
  net.now = dropAt + 240_000;
  const fourth = net.connect({ fastOpen: cache }, DATA);
  net.run(net.now + 10);
  assert.equal(fourth.info.fastOpenSynData, 1);
  assert.equal(fourth.info.fastOpenDataAcked, 1);
  assert.equal(cache.entries()[0]!.synDataDrops, 0); // acknowledged SYN data clears the count
});

Deno.test("Fast Open: a Fast Open SYN lost twice pauses Fast Open to every server for an hour, then twice as long", () => {
  const { net, cache } = primed();
  let syns = 0;
  net.drop = (s) => s.toServer && (s.repr.flags & (SYN | ACK)) === SYN && syns++ < 2;
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(3100); // SYNs at 0 (data), 1000 and 3000 (plain): the second timeout is at 3000
  assert.equal(c.state, "established");
  assert.equal(c.info.rtos, 2);
  assert.equal(cache.info.blackholes, 1);
  assert.equal(cache.info.pausedUntil, 3000 + 3_600_000);
  const other = Ipv4Address.parse("198.51.100.7");
  assert.equal(cache.paused(other, net.now), true); // every server
  const before = synsOf(net).length;
  const plain = net.connect({ fastOpen: cache }, DATA);
  net.run(3110);
  assert.equal(synsOf(net)[before]!.repr.fastOpen, undefined);
  assert.equal(plain.info.fastOpenSynData, 0);
  assert.deepEqual(readAll(net.listener.accept()!), DATA);
  assert.deepEqual(readAll(net.listener.accept()!), DATA);
  // After the pause the next Fast Open SYN is lost twice again: the pause doubles.
  syns = 0;
  net.now = 3000 + 3_600_000;
  const again = net.connect({ fastOpen: cache }, DATA);
  const t0 = net.now;
  net.run(t0 + 3100);
  assert.equal(again.info.fastOpenSynData, 1);
  assert.equal(cache.info.blackholes, 2);
  assert.equal(cache.info.pausedUntil, t0 + 3000 + 2 * 3_600_000);
  // A Fast Open SYN whose data is acknowledged after that pause ends the series.
  net.now = cache.info.pausedUntil;
  const ok = net.connect({ fastOpen: cache }, DATA);
  net.run(net.now + 10);
  assert.equal(ok.info.fastOpenDataAcked, 1);
  assert.equal(cache.info.blackholesInRow, 0);
  assert.equal(cache.info.pausedUntil, -Infinity);
});

Deno.test("Fast Open: a Fast Open connect that times out before its second timeout is a black hole too", () => {
  const { net, cache } = primed();
  net.drop = (s) => s.toServer; // nothing reaches the server
  const c = net.connect({ fastOpen: cache, connectTimeout: 2000 }, DATA);
  net.run(2100); // SYN with data at 0, plain SYN at 1000 (first timeout), gives up at 2000
  assert.equal(c.state, "closed");
  assert.equal(c.error, "timedOut");
  assert.equal(c.info.fastOpenSynData, 1);
  assert.equal(c.info.rtos, 1);
  assert.equal(cache.info.blackholes, 1);
  assert.equal(cache.info.pausedUntil, 2000 + 3_600_000);
  // A connect that gave up before any timeout (Linux: a user timeout that expires at the first
  // RTO, clamped to it) counts as well, once the pause is over.
  net.now = cache.info.pausedUntil;
  const early = net.connect({ fastOpen: cache, connectTimeout: 500 }, DATA);
  const t0 = net.now;
  net.run(t0 + 600);
  assert.equal(early.error, "timedOut");
  assert.equal(early.info.fastOpenSynData, 1);
  assert.equal(early.info.rtos, 0);
  assert.equal(cache.info.blackholes, 2);
  assert.equal(cache.info.pausedUntil, t0 + 500 + 2 * 3_600_000);
});

Deno.test("Fast Open: a connect without SYN data (a cookie request) that times out is no black hole", () => {
  const net = new FastOpenNet({ fastOpen: { key: KEY } });
  const cache = new FastOpenCache();
  net.drop = (s) => s.toServer;
  const c = net.connect({ fastOpen: cache, connectTimeout: 2000 }, DATA);
  net.run(2100);
  assert.equal(c.error, "timedOut");
  assert.equal(synsOf(net)[0]!.repr.fastOpen?.length, 0); // it asked for a cookie
  assert.equal(c.info.fastOpenSynData, 0);
  assert.equal(cache.info.blackholes, 0);
});

Deno.test("Fast Open: two timeouts in a row after a Fast Open handshake also pause Fast Open", () => {
  const { net, cache } = primed();
  const c = net.connect({ fastOpen: cache }, DATA);
  net.run(10);
  assert.equal(c.info.fastOpenDataAcked, 1);
  net.drop = (s) => s.toServer && s.repr.payload.length > 0; // a middlebox drops the data after it
  c.send(DATA);
  net.run(4000);
  assert.equal(c.info.rtos >= 2, true);
  assert.equal(cache.info.blackholes, 1);
  // A connection that did not send SYN data (a cookie request) takes timeouts without a verdict.
  const fresh = new FastOpenCache();
  const net2 = new FastOpenNet({ fastOpen: { key: KEY } });
  const d = net2.connect({ fastOpen: fresh }, DATA);
  net2.run(10);
  net2.drop = (s) => s.toServer && s.repr.payload.length > 0;
  d.send(DATA);
  net2.run(4000);
  assert.equal(d.info.rtos >= 2, true);
  assert.equal(fresh.info.blackholes, 0);
});

Deno.test("Fast Open: black-hole detection is off with blackholeTimeout 0, and the cache checks its options", () => {
  const net = new FastOpenNet({ fastOpen: { key: KEY } });
  const cache = new FastOpenCache(4, { blackholeTimeout: 0 });
  cache.set(SERVER.addr, fastOpenCookie(KEY, CLIENT, SERVER.addr), 1460);
  let syns = 0;
  net.drop = (s) => s.toServer && (s.repr.flags & (SYN | ACK)) === SYN && syns++ < 2;
  net.connect({ fastOpen: cache }, DATA);
  net.run(3100);
  assert.equal(cache.info.blackholes, 0);
  assert.equal(cache.paused(SERVER.addr, net.now), false);
  assert.throws(() => new FastOpenCache(4, { blackholeTimeout: -1 }), RangeError);
  assert.throws(() => new FastOpenCache(4, { blackholeTimeout: NaN }), RangeError);
  // Bounded: the least recently used server goes beyond the capacity.
  for (let i = 0; i < 10; i++) cache.set(Ipv4Address.parse(`192.0.2.${100 + i}`), null, null);
  assert.equal(cache.size, 4);
  assert.deepEqual(cache.entries().map((e) => e.server), [
    "192.0.2.106",
    "192.0.2.107",
    "192.0.2.108",
    "192.0.2.109",
  ]);
});

// A FIN in the SYN (RFC 9293 §3.10.7.2: control in a SYN is processed after it; RFC 7413 allows
// SYN+data+FIN). The client's SYN is taken from a real connect and sent again with FIN set.
function synWithFin(
  net: FastOpenNet,
  cache: FastOpenCache | false,
  data?: Uint8Array,
  synData?: Uint8Array,
) {
  let syn: TcpRepr | null = null;
  // Keep the real client out of it: its SYN is replaced, and nothing reaches it.
  net.drop = (s) => {
    if (s.toServer && (s.repr.flags & SYN) !== 0 && syn === null) syn = s.repr;
    return s.repr.dstPort !== SERVER.port || s.repr === syn;
  };
  net.connect({ fastOpen: cache }, data);
  net.run(1);
  const fin: TcpRepr = { ...syn!, flags: SYN | FIN, payload: synData ?? syn!.payload };
  net.inject(fin);
  net.run(3);
  const synAck = synAcksOf(net)[0]!.repr;
  /** The client's ACK of the SYN-ACK, its sequence number after what the server acknowledged. */
  const { fastOpen: _, ...plain } = fin;
  const ack: TcpRepr = {
    ...plain,
    seq: synAck.ack,
    ack: (synAck.seq + 1) >>> 0,
    flags: ACK,
    payload: new Uint8Array(0),
    mss: null,
    windowScale: null,
    sackPermitted: false,
  };
  return { fin, synAck, ack };
}

Deno.test("Fast Open: a SYN with data and FIN delivers both: the SYN-ACK acknowledges the FIN and the handshake ends in CLOSE-WAIT", () => {
  const { net, cache } = primed();
  const { fin, synAck, ack } = synWithFin(net, cache, DATA);
  assert.deepEqual(fin.payload, DATA);
  assert.equal(synAck.ack, (fin.seq + 1 + DATA.length + 1) >>> 0); // SYN, data and FIN
  const child = net.listener.accept()!;
  assert.equal(child.state, "synReceived");
  assert.deepEqual(readAll(child), DATA);
  assert.deepStrictEqual([child.isEof, child.mayRecv], [true, false]);
  net.inject(ack);
  net.run(5);
  assert.equal(child.state, "closeWait");
  child.close();
  net.run(7);
  assert.equal(child.state, "lastAck");
  const last = net.log.at(-1)!.repr;
  assert.deepStrictEqual([last.flags & FIN, last.seq], [FIN, (synAck.seq + 1) >>> 0]);
});

Deno.test("A SYN with FIN and no data: the SYN-ACK acknowledges the FIN, and the accepted connection is at its end", () => {
  const net = new FastOpenNet({});
  const { fin, synAck, ack } = synWithFin(net, false);
  assert.equal(fin.payload.length, 0);
  assert.equal(synAck.ack, (fin.seq + 2) >>> 0);
  net.inject(ack);
  net.run(5);
  const child = net.listener.accept()!;
  assert.deepStrictEqual([child.state, child.isEof], ["closeWait", true]);
});

Deno.test("A SYN with data not taken (no Fast Open) and FIN: neither is acknowledged; both wait to be sent again", () => {
  const net = new FastOpenNet({});
  const { fin, synAck, ack } = synWithFin(net, false, undefined, DATA);
  assert.deepEqual(fin.payload, DATA);
  assert.equal(synAck.ack, (fin.seq + 1) >>> 0); // the SYN only
  net.inject(ack);
  net.run(5);
  const child = net.listener.accept()!;
  assert.deepStrictEqual([child.state, child.isEof, child.recvQueue], ["established", false, 0]);
});
