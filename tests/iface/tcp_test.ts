import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { type Host, pair } from "./helpers.ts";

const MiB = 1024 * 1024;

/** A deterministic pseudo-random stream, generated chunk by chunk. */
function chunkOf(seed: number, offset: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed ^ Math.imul(offset + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function step(hosts: Host[], t: number): void {
  for (let i = 0; i < 8; i++) {
    let any = false;
    for (const h of hosts) any = h.iface.poll(t, h.dev, h.sockets) || any;
    if (!any) break;
  }
}

/** Runs the link until `done()` or the time limit, jumping to the next deadline when idle. */
function runUntil(hosts: Host[], start: number, limit: number, done: () => boolean): number {
  let t = start;
  while (!done()) {
    assert.ok(t < limit, `timed out at ${t}`);
    step(hosts, t);
    const next = Math.min(...hosts.map((h) => h.iface.pollAt(t, h.sockets)));
    t = Math.max(t + 1, Number.isFinite(next) ? Math.min(next, t + 1000) : t + 1);
  }
  return t;
}

for (const v of [4, 6] as const) {
  Deno.test(`Interface carries 16 MiB each way over TCP/IPv${v} with SHA-256 equality`, () => {
    const [a, b] = pair("ethernet", {}, {}, { queueLen: 1024 });
    const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
    const opts = { rxBufferSize: 256 * 1024, txBufferSize: 256 * 1024 };
    const listener = new TcpListenSocket({ addr: any, port: 8080 }, { socket: opts });
    b.iface.listenTcp(b.sockets, listener);
    const client = new TcpSocket(opts);
    const remote = { addr: parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2"), port: 8080 };
    const local = a.iface.connectTcp(a.sockets, client, remote, {}, 0);
    assert.ok(local.port >= 49152);
    let server: TcpSocket | null = null;
    let t = runUntil([a, b], 0, 10_000, () => {
      server ??= b.iface.acceptTcp(b.sockets, listener);
      return server !== null && client.state === "established";
    });
    const srv = server! as TcpSocket;
    assert.equal(srv.state, "established");
    assert.equal(srv.remoteEndpoint?.port, local.port);

    const total = 16 * MiB, chunk = 64 * 1024;
    const ends = [
      {
        tx: client,
        rx: srv,
        seed: 1,
        sent: 0,
        got: 0,
        hIn: createHash("sha256"),
        hOut: createHash("sha256"),
      },
      {
        tx: srv,
        rx: client,
        seed: 2,
        sent: 0,
        got: 0,
        hIn: createHash("sha256"),
        hOut: createHash("sha256"),
      },
    ];
    const buf = new Uint8Array(chunk);
    t = runUntil([a, b], t, 600_000, () => {
      for (const e of ends) {
        while (e.sent < total) {
          const want = Math.min(chunk, total - e.sent);
          const data = chunkOf(e.seed, e.sent, want);
          const n = e.tx.send(data);
          if (n === 0) break;
          e.hIn.update(data.subarray(0, n));
          e.sent += n;
          if (n < want) break;
        }
        for (let n = e.rx.recv(buf); n > 0; n = e.rx.recv(buf)) {
          e.hOut.update(buf.subarray(0, n));
          e.got += n;
        }
      }
      return ends.every((e) => e.got === total);
    });
    for (const e of ends) assert.equal(e.hOut.digest("hex"), e.hIn.digest("hex"));
    // Close both ways; the listener's child is reaped once it is CLOSED.
    client.close();
    srv.close();
    runUntil([a, b], t, t + 300_000, () => client.state === "closed" && srv.state === "closed");
    assert.equal(a.sockets.isIndexed(client), false);
    assert.equal(b.sockets.portInUse("tcp", 8080), true); // the listener still holds it
    assert.equal(a.iface.counters.malformed + b.iface.counters.malformed, 0);
    assert.equal(a.iface.counters.badChecksum + b.iface.counters.badChecksum, 0);
  });
}

for (const v of [4, 6] as const) {
  Deno.test(`Interface answers a SYN to a closed TCP port with RST over IPv${v}`, () => {
    const [a, b] = pair("ip");
    const client = new TcpSocket();
    const remote = { addr: parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2"), port: 81 };
    a.iface.connectTcp(a.sockets, client, remote, {}, 0);
    runUntil([a, b], 0, 5000, () => client.state === "closed");
    assert.equal(b.iface.counters.noSocket, 1);
    assert.equal(client.error, "refused");
    assert.equal(a.sockets.isIndexed(client), false);
    assert.equal(a.sockets.size, 1); // user sockets stay; only listener children are reaped
  });
}

Deno.test("Interface rejects a second connection on the same 4-tuple with EADDRINUSE", () => {
  const [a] = pair("ip");
  const remote = { addr: parseIpAddress("192.0.2.2"), port: 80 };
  a.iface.connectTcp(a.sockets, new TcpSocket(), remote, { localPort: 5000 }, 0);
  assert.throws(
    () => a.iface.connectTcp(a.sockets, new TcpSocket(), remote, { localPort: 5000 }, 0),
    (e: unknown) => (e as { code?: string }).code === "EADDRINUSE",
  );
  assert.throws(
    () =>
      a.iface.connectTcp(
        a.sockets,
        new TcpSocket(),
        { addr: parseIpAddress("203.0.113.1"), port: 80 },
        {},
        0,
      ),
    (e: unknown) => (e as { code?: string }).code === "ENETUNREACH",
  );
});

Deno.test("Interface reaps a listener child that closes before it is accepted", () => {
  const [a, b] = pair("ip");
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket();
  a.iface.connectTcp(a.sockets, client, { addr: parseIpAddress("192.0.2.2"), port: 80 }, {}, 0);
  const t = runUntil([a, b], 0, 5000, () => client.state === "established" && b.sockets.size === 2);
  client.abort(); // RST to the child
  runUntil([a, b], t, t + 5000, () => b.sockets.size === 1);
  // tcp-core still hands the reset connection to accept (as Linux does); it is CLOSED.
  assert.equal(listener.accept()?.state ?? "closed", "closed");
  assert.equal(b.sockets.portInUse("tcp", 80), true);
});
