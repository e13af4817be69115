import assert from "node:assert/strict";
import { Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import { Icmpv6Packet } from "../../src/wire/icmpv6.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr, parseNdisc } from "../../src/wire/ndisc.ts";

const ROUTER = Ipv6Address.parse("fe80::1");
const ALL = Ipv6Address.LINK_LOCAL_ALL_NODES;
const DNS1 = Ipv6Address.parse("2001:db8::53");
const DNS2 = Ipv6Address.parse("2001:db8::54");

function ra(repr: NdiscRepr): Uint8Array {
  const b = new Uint8Array(ndiscBufferLen(repr));
  emitNdisc(repr, new Icmpv6Packet(b));
  return b;
}

const BASE = {
  kind: "routerAdvert",
  hopLimit: 64,
  managed: false,
  other: false,
  routerLifetime: 1800,
  reachableTime: 0,
  retransTime: 0,
  sourceLinkAddr: null,
  mtu: null,
  prefixes: [],
} as const;

Deno.test("ndisc RDNSS: two servers are written as one option of length 5 and parsed back", () => {
  const repr: NdiscRepr = { ...BASE, rdnss: [{ lifetime: 600, servers: [DNS1, DNS2] }] };
  const b = ra(repr);
  assert.equal(b.length, 16 + 8 + 32);
  // Type 25, length 5 units, 2 reserved bytes, lifetime 600.
  assert.deepEqual([...b.subarray(16, 24)], [25, 5, 0, 0, 0, 0, 2, 88]);
  const back = parseNdisc(new Icmpv6Packet(b), ROUTER, ALL);
  assert.deepEqual(back, repr);
});

Deno.test("ndisc RDNSS: an advertisement without the option has no rdnss field", () => {
  const back = parseNdisc(new Icmpv6Packet(ra(BASE)), ROUTER, ALL);
  assert.equal("rdnss" in back, false);
});

Deno.test("ndisc RDNSS: an even length or a length below 3 is a WireError", () => {
  for (const units of [1, 2, 4]) {
    const b = new Uint8Array(16 + units * 8);
    b.set(ra(BASE));
    b[16] = 25;
    b[17] = units;
    assert.throws(() => parseNdisc(new Icmpv6Packet(b), ROUTER, ALL), WireError, `units ${units}`);
  }
});

Deno.test("ndisc RDNSS: emitting an option without servers is a RangeError", () => {
  const repr: NdiscRepr = { ...BASE, rdnss: [{ lifetime: 1, servers: [] }] };
  assert.throws(() => ra(repr), RangeError);
});
