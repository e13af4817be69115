import assert from "node:assert/strict";
import { NetStack } from "../../src/net/stack.ts";
import { Router } from "../../src/net/router.ts";
import { linkPair } from "../../src/phy/link.ts";
import { checksumAll, type Device, type ReadinessHook } from "../../src/phy/device.ts";
import { udp4 } from "../iface/_forward_fixture.ts";

function setup(nat: boolean) {
  const [hostIn, routerIn] = linkPair({ medium: "ip" });
  const [routerOut, hostOut] = linkPair({ medium: "ip" });
  const router = new Router({
    interfaces: [
      { device: routerIn, addresses: ["192.0.2.1/24"] },
      { device: routerOut, addresses: ["198.51.100.1/24"], nat },
    ],
    allowDocumentation: true,
  });
  const inside = new NetStack({
    device: hostIn,
    addresses: ["192.0.2.2/24"],
    gateways: ["192.0.2.1"],
  });
  const outside = new NetStack({
    device: hostOut,
    addresses: ["198.51.100.2/24"],
    gateways: ["198.51.100.1"],
  });
  return {
    router,
    inside,
    outside,
    async close() {
      await Promise.all([inside.close(), outside.close(), router.close()]);
    },
  };
}

Deno.test("Router forwards UDP between two stacks and keeps the source without NAT", async () => {
  const s = setup(false);
  const server = s.outside.listenDatagram({ port: 53 });
  const client = s.inside.listenDatagram({ port: 5000 });
  await client.send(new Uint8Array([1, 2, 3]), {
    transport: "udp",
    hostname: "198.51.100.2",
    port: 53,
  });
  const [data, from] = await server.receive();
  assert.deepEqual(data, new Uint8Array([1, 2, 3]));
  assert.equal((from as Deno.NetAddr).hostname, "192.0.2.2");
  assert.equal((from as Deno.NetAddr).port, 5000);
  assert.equal(s.router.counters.forwarded, 1);
  assert.deepEqual(s.router.mappings(), []);
  server.close();
  client.close();
  await s.close();
});

Deno.test("Router with NAT carries a TCP exchange and the server sees the NAT address", async () => {
  const s = setup(true);
  const listener = s.outside.listen({ port: 8080 });
  const [client, conn] = await Promise.all([
    s.inside.connect({ hostname: "198.51.100.2", port: 8080 }),
    listener.accept(),
  ]);
  assert.equal(conn.remoteAddr.hostname, "198.51.100.1");
  await client.write(new TextEncoder().encode("ping"));
  const buf = new Uint8Array(8);
  const n = await conn.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "ping");
  await conn.write(new TextEncoder().encode("pong"));
  const m = await client.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, m!)), "pong");
  const maps = s.router.mappings();
  assert.equal(maps.length, 1);
  assert.equal(maps[0]!.protocol, "tcp");
  assert.equal(maps[0]!.internalAddress.toString(), "192.0.2.2");
  assert.equal(maps[0]!.tcpState, "established");
  assert.ok(s.router.counters.natOut >= 2);
  assert.ok(s.router.counters.natIn >= 2);
  client.close();
  conn.close();
  listener.close();
  await s.close();
});

Deno.test("Router answers pings to its address on each link", async () => {
  const s = setup(true);
  const r = await s.inside.ping({ hostname: "192.0.2.1", timeout: 2000 });
  assert.equal(r.from, "192.0.2.1");
  const out = await s.outside.ping({ hostname: "198.51.100.1", timeout: 2000 });
  assert.equal(out.from, "198.51.100.1");
  await s.close();
});

Deno.test("Router rejects bad options with TypeError / RangeError and a second close", async () => {
  assert.throws(() => new Router({ interfaces: [] }), TypeError);
  assert.throws(() => new Router(null as unknown as { interfaces: [] }), TypeError);
  assert.throws(
    () =>
      new Router({
        interfaces: [{
          device: linkPair({ medium: "ip" })[0],
          addresses: ["2001:db8::1/64"],
          nat: true,
        }],
      }),
    TypeError,
  );
  assert.throws(
    () =>
      new Router({
        interfaces: [{ device: linkPair({ medium: "ip" })[0], addresses: ["192.0.2.1/24"] }],
        routes: [{ cidr: "0.0.0.0/0", via: "192.0.2.254", iface: 3 }],
      }),
    RangeError,
  );
  const [d] = linkPair({ medium: "ip" });
  const router = new Router({ interfaces: [{ device: d, addresses: ["192.0.2.1/24"] }] });
  assert.throws(
    () => new Router({ interfaces: [{ device: d, addresses: ["192.0.2.1/24"] }] }),
    Deno.errors.Busy,
  );
  await router.close();
  await assert.rejects(() => router.close(), Deno.errors.BadResource);
});

/**
 * An IP device holding `count` copies of one packet that signals readiness once, when asked,
 * like a TUN device: it says "readable" again only after a receive found it empty.
 */
class BurstDevice implements Device, ReadinessHook {
  readonly capabilities = {
    medium: "ip" as const,
    mtu: 1500,
    checksum: checksumAll(),
    maxBurstSize: null,
  };
  readonly #packet: Uint8Array;
  readonly #frame: Uint8Array;
  #left: number;
  #tx = new Uint8Array(1500);
  sent = 0;
  #onReadable: (() => void) | null = null;

  constructor(packet: Uint8Array, count: number) {
    this.#packet = packet;
    this.#frame = new Uint8Array(packet.length);
    this.#left = count;
  }
  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }
  signal(): void {
    this.#onReadable?.();
  }
  receive(): Uint8Array | null {
    if (this.#left === 0) return null;
    this.#left--;
    this.#frame.set(this.#packet); // a fresh copy: the router rewrites what it forwards
    return this.#frame;
  }
  canTransmit(): boolean {
    return true;
  }
  transmit(_now: number, len: number): Uint8Array {
    return this.#tx.subarray(0, len);
  }
  commit(): void {
    this.sent++;
  }
}

Deno.test("Router keeps forwarding a burst longer than one loop turn from a device that signals once", async () => {
  const n = 40_000; // more than one turn of the loop (64 polls of 256 frames)
  const inside = new BurstDevice(udp4("192.0.2.10", "198.51.100.20"), n);
  const outside = new BurstDevice(new Uint8Array(0), 0);
  const router = new Router({
    interfaces: [
      { device: inside, addresses: ["192.0.2.1/24"] },
      { device: outside, addresses: ["198.51.100.1/24"] },
    ],
    allowDocumentation: true,
  });
  inside.signal();
  for (let i = 0; i < 2000 && outside.sent < n; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(outside.sent, n);
  assert.equal(router.counters.forwarded, n);
  await router.close();
});
