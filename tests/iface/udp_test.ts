import assert from "node:assert/strict";
import { UdpSocket } from "../../src/socket/udp.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";
import { pair, run } from "./helpers.ts";

function payload(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

for (const medium of ["ethernet", "ip"] as const) {
  for (const v of [4, 6] as const) {
    Deno.test(`Interface echoes UDP over IPv${v} on the ${medium} medium`, () => {
      const [a, b] = pair(medium);
      const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
      const server = new UdpSocket();
      b.iface.bindUdp(b.sockets, server, { addr: any, port: 7 });
      const client = new UdpSocket();
      const local = a.iface.bindUdp(a.sockets, client, { addr: any, port: 0 });
      assert.ok(local.port >= 49152);
      const bAddr = parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2");
      const msg = payload(100, 1);
      assert.ok(client.send(msg, { addr: bAddr, port: 7 }));
      run([a, b], 0, 3);
      const buf = new Uint8Array(2000);
      const got = server.recv(buf);
      assert.ok(got !== null);
      assert.equal(got.local.toString(), bAddr.toString());
      assert.equal(got.remote.port, local.port);
      server.send(buf.subarray(0, got.length), got.remote);
      run([a, b], 4, 6);
      const back = client.recv(buf);
      assert.ok(back !== null);
      assert.deepEqual(buf.subarray(0, back.length), msg);
      assert.equal(back.remote.addr.toString(), bAddr.toString());
      assert.deepEqual(a.iface.counters.snapshot(), {});
      assert.deepEqual(b.iface.counters.snapshot(), {});
    });

    Deno.test(`Interface fragments a large UDP datagram over IPv${v} (${medium}) and reassembles it`, () => {
      const [a, b] = pair(medium);
      const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
      const server = new UdpSocket();
      b.iface.bindUdp(b.sockets, server, { addr: any, port: 9 });
      const client = new UdpSocket();
      a.iface.bindUdp(a.sockets, client, { addr: any, port: 0 });
      const msg = payload(20_000, 9);
      client.send(msg, { addr: parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2"), port: 9 });
      run([a, b], 0, 3);
      assert.ok(a.dev.stats.framesSent >= 14, `only ${a.dev.stats.framesSent} frames`);
      const buf = new Uint8Array(30_000);
      const got = server.recv(buf);
      assert.ok(got !== null, JSON.stringify(b.iface.counters.snapshot()));
      assert.equal(got.length, msg.length);
      assert.deepEqual(buf.subarray(0, got.length), msg);
      assert.deepEqual(b.iface.counters.snapshot(), {});
    });
  }
}

Deno.test("UdpSocket reports truncation and drops datagrams beyond its receive queue", () => {
  const [a, b] = pair("ip");
  const server = new UdpSocket({ rxSlots: 2, rxBytes: 4096 });
  b.iface.bindUdp(b.sockets, server, { addr: Ipv4Address.UNSPECIFIED, port: 7 });
  const client = new UdpSocket();
  a.iface.bindUdp(a.sockets, client, { addr: Ipv4Address.UNSPECIFIED, port: 0 });
  for (let i = 0; i < 3; i++) {
    client.send(payload(50, i), { addr: parseIpAddress("192.0.2.2"), port: 7 });
  }
  run([a, b], 0, 2);
  assert.equal(b.iface.counters.queueFull, 1);
  assert.equal(server.rxDropped, 1);
  const r = server.recv(new Uint8Array(10));
  assert.equal(r?.truncated, true);
  assert.equal(r?.length, 10);
  assert.equal(r?.datagramLength, 50);
});
