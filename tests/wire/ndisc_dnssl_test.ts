import assert from "node:assert/strict";
import { Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import { Icmpv6Packet } from "../../src/wire/icmpv6.ts";
import { emitNdisc, ndiscBufferLen, type NdiscRepr, parseNdisc } from "../../src/wire/ndisc.ts";

const ROUTER = Ipv6Address.parse("fe80::1");
const ALL = Ipv6Address.LINK_LOCAL_ALL_NODES;
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

function emit(repr: NdiscRepr): Uint8Array {
  const b = new Uint8Array(ndiscBufferLen(repr));
  emitNdisc(repr, new Icmpv6Packet(b));
  return b;
}

Deno.test("ndisc DNSSL: two domains are written in DNS form, padded to 8 bytes, and parsed back", () => {
  const repr: NdiscRepr = {
    ...BASE,
    dnssl: [{ lifetime: 600, domains: ["example.net", "lab.example.org"] }],
  };
  const b = emit(repr);
  // 8 bytes of header, 13 + 17 bytes of names, 2 bytes of padding: 5 units.
  assert.equal(b.length, 16 + 40);
  assert.deepEqual([...b.subarray(16, 24)], [31, 5, 0, 0, 0, 0, 2, 88]);
  assert.deepEqual([...b.subarray(24, 32)], [7, 101, 120, 97, 109, 112, 108, 101]);
  assert.deepEqual([...b.subarray(54, 56)], [0, 0]);
  assert.deepEqual(parseNdisc(new Icmpv6Packet(b), ROUTER, ALL), repr);
});

Deno.test("ndisc DNSSL: a label past the option, a too short option, a control byte are WireErrors", () => {
  const good = emit({ ...BASE, dnssl: [{ lifetime: 1, domains: ["example.net"] }] });
  const cases: [string, (b: Uint8Array) => void][] = [
    ["label past the end", (b) => b[24] = 60],
    ["length 1 unit", (b) => b[17] = 1],
    ["control byte", (b) => b[25] = 0x07],
    ["no domain", (b) => b.fill(0, 24)],
  ];
  for (const [what, spoil] of cases) {
    const b = good.slice();
    spoil(b);
    const msg = b[17] === 1 ? b.subarray(0, 24) : b;
    assert.throws(() => parseNdisc(new Icmpv6Packet(msg), ROUTER, ALL), WireError, what);
  }
});

Deno.test("ndisc DNSSL: emitting an empty label or no domain is a RangeError", () => {
  assert.throws(() => emit({ ...BASE, dnssl: [{ lifetime: 1, domains: ["a..b"] }] }), RangeError);
  assert.throws(() => emit({ ...BASE, dnssl: [{ lifetime: 1, domains: [] }] }), RangeError);
});
