import assert from "node:assert/strict";
import { DnsCache, parseHosts } from "../../src/net/dns_cache.ts";
import { parseIpAddress } from "../../src/wire/address.ts";

const A = 1;
const AAAA = 28;
const addr = (s: string) => ({ kind: "addresses" as const, addresses: [parseIpAddress(s)] });

Deno.test("DnsCache keys by name without case or trailing dot, and by type", () => {
  let now = 0;
  const cache = new DnsCache({ clock: () => now });
  cache.put("Host.Example.NET.", A, addr("192.0.2.10"), 10);
  assert.deepEqual(cache.get("host.example.net", A), addr("192.0.2.10"));
  assert.equal(cache.get("host.example.net", AAAA), null);
  now = 9_999;
  assert.notEqual(cache.get("host.example.net.", A), null);
  now = 10_000;
  assert.equal(cache.get("host.example.net", A), null);
  assert.equal(cache.size, 0, "an expired entry is dropped when looked at");
});

Deno.test("DnsCache caps answers at maxTtl and failures at maxNegativeTtl; TTL 0 stores nothing", () => {
  let now = 0;
  const cache = new DnsCache({ clock: () => now, maxTtl: 100, maxNegativeTtl: 5 });
  cache.put("a.example", A, addr("192.0.2.1"), 1_000_000);
  cache.put("b.example", A, { kind: "nxdomain" }, 3600);
  cache.put("c.example", A, addr("192.0.2.3"), 0);
  assert.equal(cache.get("c.example", A), null);
  now = 5_000;
  assert.equal(cache.get("b.example", A), null);
  assert.notEqual(cache.get("a.example", A), null);
  now = 100_000;
  assert.equal(cache.get("a.example", A), null);
});

Deno.test("DnsCache evicts the least recently used entry when full", () => {
  const cache = new DnsCache({ maxEntries: 2, clock: () => 0 });
  cache.put("one", A, addr("192.0.2.1"), 60);
  cache.put("two", A, addr("192.0.2.2"), 60);
  cache.get("one", A); // "two" is now the least recently used
  cache.put("three", A, addr("192.0.2.3"), 60);
  assert.equal(cache.size, 2);
  assert.notEqual(cache.get("one", A), null);
  assert.equal(cache.get("two", A), null);
  assert.notEqual(cache.get("three", A), null);
});

Deno.test("DnsCache rejects bad limits with RangeError", () => {
  assert.throws(() => new DnsCache({ maxEntries: 0 }), RangeError);
  assert.throws(() => new DnsCache({ maxTtl: -1 }), RangeError);
  assert.throws(() => new DnsCache({ maxNegativeTtl: 1.5 }), RangeError);
});

Deno.test("parseHosts reads addresses and aliases, skips comments and bad lines", () => {
  const hosts = parseHosts(
    [
      "# comment",
      "192.0.2.10  www.example.net www   # trailing comment",
      "not-an-address foo.example",
      "",
      "2001:db8::10 www.example.net",
      "192.0.2.10 WWW.example.net.",
    ].join("\n"),
  );
  assert.deepEqual(hosts.get("www.example.net")?.map(String), ["192.0.2.10", "2001:db8::10"]);
  assert.deepEqual(hosts.get("www")?.map(String), ["192.0.2.10"]);
  assert.equal(hosts.has("foo.example"), false);
  assert.equal(hosts.size, 2);
});
