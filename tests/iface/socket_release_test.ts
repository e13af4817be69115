import assert from "node:assert/strict";
import { NetError } from "../../src/iface/errors.ts";
import { type SocketHandle, SocketSet } from "../../src/iface/socket_set.ts";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { type Host, pair } from "./helpers.ts";

/** A socket set that counts removals. */
class CountingSet extends SocketSet {
  readonly removed: SocketHandle[] = [];
  override remove(handle: SocketHandle): ReturnType<SocketSet["remove"]> {
    const s = super.remove(handle);
    if (s !== undefined) this.removed.push(handle);
    return s;
  }
}

function isBadHandle(e: unknown): boolean {
  return e instanceof NetError && e.code === "EBADF";
}

function step(hosts: Host[], t: number): void {
  for (let i = 0; i < 8; i++) {
    let any = false;
    for (const h of hosts) any = h.iface.poll(t, h.dev, h.sockets) || any;
    if (!any) break;
  }
}

Deno.test("SocketSet refuses the handle of a removed socket with EBADF, and never reuses it", () => {
  const set = new SocketSet();
  const h = set.add(new UdpSocket());
  set.remove(h);
  assert.throws(() => set.socket(h), isBadHandle);
  assert.throws(() => set.release(h), isBadHandle);
  const h2 = set.add(new UdpSocket());
  assert.notEqual(h2, h);
  assert.equal(set.get(h), undefined);
});

Deno.test("SocketSet release removes a datagram socket or a closed TCP socket at once", () => {
  const set = new SocketSet();
  const u = set.add(new UdpSocket());
  const t = set.add(new TcpSocket());
  assert.equal(set.release(u), true);
  assert.equal(set.release(t), true);
  assert.equal(set.size, 0);
  assert.throws(() => set.release(t), isBadHandle);
});

Deno.test("SocketSet: a TCP socket released with data queued delivers it, then is reaped exactly once", () => {
  const [a, b] = pair("ip");
  const sa = new CountingSet();
  a.sockets = sa;
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket({ timeWait: 1000 });
  a.iface.connectTcp(sa, client, { addr: Ipv4Address.parse("192.0.2.2"), port: 80 }, {}, 0);
  step([a, b], 0);
  step([a, b], 1);
  const server = b.iface.acceptTcp(b.sockets, listener)!;
  assert.equal(server.state, "established");
  const data = new Uint8Array(60_000).map((_, i) => i & 0xff);
  assert.equal(client.send(data), data.length);
  client.close();
  const h = sa.handleOf(client)!;
  assert.equal(sa.release(h), false); // it lingers: 60,000 bytes and a FIN to deliver
  assert.throws(() => sa.socket(h), isBadHandle);
  assert.equal(sa.lingering(), true);
  const got = new Uint8Array(data.length);
  let n = 0;
  for (let t = 2; t < 500 && !(server.isEof && (server.state as string) === "closeWait"); t++) {
    step([a, b], t);
    n += server.recv(got.subarray(n));
  }
  assert.equal(n, data.length);
  assert.deepEqual(got, data);
  assert.ok(server.isEof);
  server.close();
  for (let t = 500; t < 520; t++) step([a, b], t);
  // The client went through FIN-WAIT into TIME-WAIT: a record now, and the socket is gone.
  assert.equal(sa.timeWaitCount, 1);
  assert.deepEqual(sa.removed, [h]);
  assert.equal(sa.size, 0);
  assert.equal(sa.releasedCount, 0);
  assert.equal(sa.lingering(), false);
  for (let t = 520; t < 2000; t += 100) step([a, b], t);
  assert.deepEqual(sa.removed, [h]); // exactly once
});
