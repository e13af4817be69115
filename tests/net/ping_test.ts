import assert from "node:assert/strict";
import { stackPair } from "./_helpers.ts";

Deno.test("NetStack.ping gets echo replies over IPv4 and IPv6 with their sequence numbers", async () => {
  await using net = stackPair();
  const r4 = await net.client.ping({ hostname: "192.0.2.1" });
  assert.equal(r4.from, "192.0.2.1");
  assert.equal(r4.bytes, 56);
  assert.ok(r4.rtt >= 0);
  const r6 = await net.client.ping({ hostname: "2001:db8::1", size: 1000 });
  assert.equal(r6.from, "2001:db8::1");
  assert.equal(r6.bytes, 1000);
  assert.equal(r6.seq, r4.seq + 1);
  // Concurrent pings are matched to their own replies.
  const many = await Promise.all(
    [1, 2, 3, 4].map((n) => net.client.ping({ hostname: "192.0.2.1", size: n })),
  );
  assert.deepEqual(many.map((r) => r.bytes), [1, 2, 3, 4]);
});

Deno.test("NetStack.ping rejects with TimedOut, NetworkUnreachable and AbortError", async () => {
  await using net = stackPair();
  const silent = await net.client.ping({ hostname: "192.0.2.9", timeout: 200 }).catch((e) => e);
  assert.ok(silent instanceof Deno.errors.TimedOut, String(silent));
  assert.equal((silent as { code?: string }).code, "ETIMEDOUT");
  const unreachable = await net.client.ping({ hostname: "198.51.100.1" }).catch((e) => e);
  assert.ok(unreachable instanceof Deno.errors.NetworkUnreachable, String(unreachable));
  const controller = new AbortController();
  const pending = net.client.ping({ hostname: "192.0.2.9", signal: controller.signal });
  controller.abort();
  assert.equal((await pending.catch((e) => e)).name, "AbortError");
  await assert.rejects(net.client.ping({ hostname: "192.0.2.1", size: -1 }), RangeError);
});
