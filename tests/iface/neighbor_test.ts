import assert from "node:assert/strict";
import { NeighborCache } from "../../src/iface/neighbor.ts";
import { EthernetAddress, parseIpAddress } from "../../src/wire/address.ts";

const IP1 = parseIpAddress("192.0.2.1");
const IP2 = parseIpAddress("192.0.2.2");
const MAC1 = EthernetAddress.parse("02:00:00:00:00:01");

Deno.test("NeighborCache resolves, expires after the reachable time and learns only when asked to create", () => {
  const c = new NeighborCache({ reachableTime: 500 });
  assert.equal(c.fill(IP1, MAC1, 0, false), false);
  assert.equal(c.lookup(IP1, 0), null);
  assert.equal(c.fill(IP1, MAC1, 100, true), true);
  assert.ok(c.lookup(IP1, 599)?.equals(MAC1));
  assert.equal(c.lookup(IP1, 600), null);
  assert.equal(c.fill(IP1, MAC1, 600, false), true); // existing entry: merged
  assert.ok(c.lookup(IP1, 1099)?.equals(MAC1));
});

Deno.test("NeighborCache rate-limits requests and drops the queue of a neighbor that never answers", () => {
  const c = new NeighborCache({ retransmitInterval: 1000, maxRequests: 3, queueLimit: 2 });
  assert.equal(c.enqueue(IP1, new Uint8Array(1), 0), "queued");
  assert.equal(c.enqueue(IP1, new Uint8Array(1), 0), "queued");
  assert.equal(c.enqueue(IP1, new Uint8Array(1), 0), "full");
  assert.equal(c.pollAt(0), 0);
  assert.equal(c.dueRequest(0)?.requests, 1);
  assert.equal(c.dueRequest(0), null); // rate limit: one request per interval
  assert.equal(c.pollAt(0), 1000);
  assert.equal(c.dueRequest(999), null);
  assert.equal(c.dueRequest(1000)?.requests, 2);
  assert.equal(c.dueRequest(2000)?.requests, 3);
  assert.equal(c.dueRequest(3000), null); // budget spent
  assert.equal(c.expire(2999), 0);
  assert.equal(c.expire(3000), 2);
  assert.equal(c.size, 0);
  assert.equal(c.pollAt(3000), Infinity);
});

Deno.test("NeighborCache hands back queued packets once the neighbor resolves", () => {
  const c = new NeighborCache();
  const p = new Uint8Array([1, 2, 3]);
  c.enqueue(IP1, p, 0);
  c.dueRequest(0);
  c.fill(IP1, MAC1, 10, true);
  assert.equal(c.pollAt(10), 10);
  const e = c.readyToFlush(10)!;
  assert.equal(e.queue.shift(), p);
  c.settle(e);
  assert.equal(c.readyToFlush(10), null);
  assert.equal(c.pollAt(10), Infinity);
});

Deno.test("NeighborCache stays within its capacity and counts packets lost to eviction", () => {
  const c = new NeighborCache({ capacity: 4 });
  for (let i = 0; i < 100; i++) {
    c.enqueue(parseIpAddress(`198.51.100.${i}`), new Uint8Array(1), 0);
    assert.ok(c.size <= 4);
  }
  assert.equal(c.queued, 4);
  assert.equal(c.expire(0), 96);
  c.fill(IP2, MAC1, 0, true);
  assert.ok(c.size <= 4);
});
