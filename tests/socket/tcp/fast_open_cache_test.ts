// FastOpenCache on its own, on explicit time: the refusal mark (one hour after noteRefused, until
// a cookie or delete() when set by hand) and how it meets cookies and the other pauses.

import assert from "node:assert/strict";
import { FastOpenCache } from "../../../src/socket/tcp/fast_open_cache.ts";
import { Ipv4Address, Ipv6Address } from "../../../src/wire/address.ts";

const A = Ipv4Address.parse("192.0.2.1");
const B = Ipv6Address.parse("2001:db8::1");
const HOUR = 3_600_000;

Deno.test("FastOpenCache: a refusal lasts one hour from its last notice", () => {
  const cache = new FastOpenCache();
  cache.set(A, new Uint8Array(8).fill(1), 1460);
  cache.noteRefused(A, 10_000);
  assert.equal(cache.cookie(A), null); // the cookie it no longer takes is forgotten
  assert.equal(cache.mss(A), null);
  assert.equal(cache.disabled(A, 10_000), true);
  assert.equal(cache.disabled(A, 10_000 + HOUR - 1), true);
  assert.equal(cache.disabled(A, 10_000 + HOUR), false);
  // Refused again when asked again: a new hour from then.
  cache.noteRefused(A, 10_000 + HOUR);
  assert.equal(cache.disabled(A, 10_000 + 2 * HOUR - 1), true);
  assert.equal(cache.entries()[0]!.refusedUntil, 10_000 + 2 * HOUR);
  assert.equal(cache.disabled(B, 0), false); // per server
});

Deno.test("FastOpenCache: a cookie ends a refusal; a mark set by hand lasts until a cookie or delete", () => {
  const cache = new FastOpenCache();
  cache.noteRefused(A, 0);
  cache.set(A, new Uint8Array(8).fill(2), 1400);
  assert.equal(cache.disabled(A, 1), false);
  const [row] = cache.entries();
  assert.equal(row!.refused, false);
  assert.equal(row!.refusedUntil, -Infinity);
  cache.set(B, null, null);
  assert.equal(cache.disabled(B, 1e15), true);
  assert.equal(cache.entries()[1]!.refusedUntil, Infinity);
  assert.equal(cache.delete(B), true);
  assert.equal(cache.disabled(B, 0), false);
});

Deno.test("FastOpenCache: a refusal takes a place in the bounded cache and is dropped with it", () => {
  const cache = new FastOpenCache(1);
  cache.noteRefused(A, 0);
  assert.equal(cache.size, 1);
  cache.set(B, new Uint8Array(8), 1220); // A is the least recently used: dropped
  assert.equal(cache.size, 1);
  assert.equal(cache.disabled(A, 1), false);
  assert.equal(cache.entries()[0]!.server, "2001:db8::1");
});

Deno.test("FastOpenCache: a refusal and the SYN-drop pause are separate marks", () => {
  const cache = new FastOpenCache();
  cache.noteSynDataDrop(A, 0);
  cache.noteSynDataDrop(A, 0); // second in a row: 4 minutes
  cache.noteRefused(A, 0);
  assert.equal(cache.paused(A, 239_999), true);
  assert.equal(cache.paused(A, 240_000), false);
  assert.equal(cache.disabled(A, 240_000), true); // the refusal still holds
  assert.equal(cache.entries()[0]!.synDataDrops, 2);
});
