import assert from "node:assert/strict";
import { TimeWaitTable } from "../../src/iface/time_wait.ts";
import { Rng } from "../../src/rand.ts";
import type { TimeWaitState } from "../../src/socket/tcp/time_wait.ts";
import { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";

function state(expires: number, sndNxt: number): TimeWaitState {
  return {
    sndNxt,
    rcvNxt: (sndNxt ^ 0x5a5a5a5a) >>> 0,
    window: sndNxt & 0xffff,
    tsOn: (sndNxt & 1) === 1,
    tsOffset: 7,
    tsRecent: 0xfffffff0,
    expires,
    duration: 60_000,
    lastAck: Number.NEGATIVE_INFINITY,
  };
}

Deno.test("TimeWaitTable finds, updates, removes and expires records like a map ordered by expiry", () => {
  const rng = new Rng(5);
  const table = new TimeWaitTable();
  const ref = new Map<string, { expires: number; sndNxt: number }>();
  const local = Ipv4Address.parse("192.0.2.1");
  const remotes = [Ipv4Address.parse("198.51.100.7"), Ipv4Address.parse("198.51.100.8")];
  const key = (r: number, p: number) => `${r}:${p}`;
  const scratch = state(0, 0);
  let now = 0;
  for (let i = 0; i < 20_000; i++) {
    const r = rng.below(2), port = 1 + rng.below(3000);
    const addr = remotes[r]!;
    const op = rng.below(10);
    const slot = table.find(local, 80, addr, port);
    const want = ref.get(key(r, port));
    assert.equal(slot >= 0, want !== undefined);
    if (op < 5) {
      const st = state(now + 1 + rng.below(5000), rng.nextU32());
      table.insert(local, 80, addr, port, st);
      ref.set(key(r, port), { expires: st.expires, sndNxt: st.sndNxt });
    } else if (op < 7 && slot >= 0) {
      table.read(slot, scratch);
      assert.equal(scratch.sndNxt, want!.sndNxt);
      assert.equal(scratch.expires, want!.expires);
      assert.equal(scratch.tsOn, (want!.sndNxt & 1) === 1);
      scratch.expires = now + rng.below(5000);
      table.write(slot, scratch);
      want!.expires = scratch.expires;
    } else if (op < 8 && slot >= 0) {
      table.remove(slot);
      ref.delete(key(r, port));
    } else {
      now += rng.below(40);
      let due = 0;
      for (const [k, v] of ref) {
        if (v.expires <= now) {
          ref.delete(k);
          due++;
        }
      }
      assert.equal(table.expire(now), due);
      const next = Math.min(...[...ref.values()].map((v) => v.expires));
      assert.equal(table.nextExpiry(), ref.size === 0 ? Infinity : next);
    }
    assert.equal(table.size, ref.size);
  }
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.find(local, 80, remotes[0]!, 1), -1);
});

Deno.test("TimeWaitTable tells IPv4 and IPv6 tuples and both ports apart", () => {
  const table = new TimeWaitTable();
  const v4 = Ipv4Address.parse("192.0.2.1"), v6 = Ipv6Address.parse("2001:db8::1");
  table.insert(v4, 1, v4, 2, state(10, 1));
  table.insert(v6, 1, v6, 2, state(20, 2));
  assert.equal(table.find(v4, 2, v4, 1), -1);
  const s = table.find(v6, 1, v6, 2);
  const into = state(0, 0);
  table.read(s, into);
  assert.equal(into.sndNxt, 2);
  assert.equal(table.expire(10), 1);
  assert.equal(table.find(v4, 1, v4, 2), -1);
  assert.equal(table.size, 1);
});

Deno.test("TimeWaitTable works on after it empties and gives its arrays back", () => {
  const table = new TimeWaitTable();
  const a = Ipv4Address.parse("192.0.2.1");
  for (let round = 0; round < 3; round++) {
    for (let p = 1; p <= 100; p++) table.insert(a, 80, a, p, state(10 + p, p));
    assert.equal(table.size, 100);
    assert.equal(table.expire(60), 50);
    assert.ok(table.find(a, 80, a, 51) >= 0);
    assert.equal(table.expire(200), 50);
    assert.equal(table.find(a, 80, a, 100), -1);
    assert.equal(table.nextExpiry(), Infinity);
  }
});
