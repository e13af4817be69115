import assert from "node:assert/strict";
import { Rng } from "../../src/rand.ts";
import { NEVER } from "../../src/time.ts";
import { Ipv6Address } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import type { MldRepr } from "../../src/wire/mld.ts";
import type { NdiscRepr, PrefixInfo } from "../../src/wire/ndisc.ts";
import { Slaac, type SlaacEvent, type SlaacOptions } from "../../src/iface/slaac.ts";

const MAC = EthernetAddress.parse("02:00:00:00:00:01");
const ROUTER = Ipv6Address.parse("fe80::1");
const PREFIX = Ipv6Address.parse("2001:db8:1::");

type Ra = Extract<NdiscRepr, { kind: "routerAdvert" }>;
const RA: Ra = {
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
};
const PI: PrefixInfo = {
  prefixLen: 64,
  onLink: true,
  autonomous: true,
  validLifetime: 86_400,
  preferredLifetime: 14_400,
  prefix: PREFIX,
};

interface Sent {
  readonly kind: string;
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address | null;
  readonly repr: NdiscRepr | MldRepr;
}

class Harness {
  readonly slaac: Slaac;
  readonly random = new Rng(5);
  now = 0;
  readonly sent: Sent[] = [];

  constructor(options: Partial<SlaacOptions> = {}) {
    this.slaac = new Slaac({
      hardwareAddress: MAC,
      secretKey: Uint8Array.from({ length: 16 }, (_, i) => i),
      ...options,
    });
  }

  get cx() {
    return { now: this.now, random: this.random };
  }

  /** Dispatches until nothing more is due at `now`. */
  flush(): Sent[] {
    const out: Sent[] = [];
    const emitter = {
      emitNdisc: (src: Ipv6Address, dst: Ipv6Address, repr: NdiscRepr) => {
        out.push({ kind: repr.kind, src, dst, repr });
        return true;
      },
      emitMld: (src: Ipv6Address, repr: MldRepr) => {
        out.push({ kind: repr.kind, src, dst: null, repr });
        return true;
      },
    };
    for (let i = 0; i < 50 && this.slaac.dispatch(this.cx, emitter); i++);
    this.sent.push(...out);
    return out;
  }

  /** Runs to the next deadline. */
  step(): Sent[] {
    const at = this.slaac.pollAt(this.cx);
    assert.notEqual(at, NEVER, "no deadline");
    if (at > this.now) this.now = at;
    return this.flush();
  }

  events(): SlaacEvent[] {
    const out: SlaacEvent[] = [];
    for (let e = this.slaac.takeEvent(); e !== null; e = this.slaac.takeEvent()) out.push(e);
    return out;
  }

  /** Runs DAD of every tentative address to completion (no answers). */
  settle(): void {
    for (let i = 0; i < 20 && this.slaac.addresses.some((a) => a.state === "tentative"); i++) {
      this.step();
    }
  }
}

const states = (events: SlaacEvent[]) =>
  events.map((e) => e.type === "address" ? `${e.state}` : e.type);

Deno.test("Slaac on start joins the solicited-node group, probes once, then prefers the link-local address", () => {
  const h = new Harness();
  h.slaac.start(h.cx);
  const [e] = h.events();
  assert.equal(e?.type, "address");
  if (e?.type !== "address") return;
  const ll = e.address;
  assert.ok(ll.isLinkLocal);
  assert.equal(e.state, "tentative");
  const first = h.flush();
  assert.equal(first[0]?.kind, "reportV2");
  assert.ok(first[0]!.src.isUnspecified);
  const mld = first[0]!.repr as Extract<MldRepr, { kind: "reportV2" }>;
  assert.ok(mld.records[0]!.group.equals(Ipv6Address.solicitedNode(ll)));
  // The probe after a random delay of at most 1 s, from ::, to the solicited-node group.
  let probe = h.sent.find((s) => s.kind === "neighborSolicit");
  while (probe === undefined) probe = h.step().find((s) => s.kind === "neighborSolicit");
  assert.ok(h.now <= 1000);
  assert.ok(probe.src.isUnspecified);
  assert.ok(probe.dst!.equals(Ipv6Address.solicitedNode(ll)));
  assert.ok((probe.repr as { target: Ipv6Address }).target.equals(ll));
  const probedAt = h.now;
  while (h.slaac.addresses[0]!.state === "tentative") h.step();
  assert.ok(h.now >= probedAt + 1000, "RetransTimer after the last probe");
  assert.deepEqual(states(h.events()), ["preferred"]);
});

Deno.test("Slaac sends up to three router solicitations 4 s apart, from the link-local address once usable", () => {
  const h = new Harness({ dadTransmits: 0 });
  h.slaac.start(h.cx);
  const rs: { at: number; s: Sent }[] = [];
  for (let i = 0; i < 10; i++) {
    const at = h.slaac.pollAt(h.cx);
    if (at === NEVER) break;
    for (const s of h.step()) if (s.kind === "routerSolicit") rs.push({ at: h.now, s });
  }
  assert.equal(rs.length, 3);
  assert.equal(rs[1]!.at - rs[0]!.at, 4000);
  assert.equal(rs[2]!.at - rs[1]!.at, 4000);
  for (const { s } of rs) {
    assert.ok(s.dst!.equals(Ipv6Address.LINK_LOCAL_ALL_ROUTERS));
    assert.ok(s.src.isLinkLocal, "DAD is off: the link-local address is usable at once");
    assert.ok((s.repr as { sourceLinkAddr: EthernetAddress | null }).sourceLinkAddr?.equals(MAC));
  }
});

Deno.test("Slaac forms a stable address from an advertised /64 and reports router and MTU", () => {
  const a = new Harness();
  a.slaac.start(a.cx);
  a.settle();
  a.events();
  assert.ok(a.slaac.processRouterAdvert(a.cx, ROUTER, 255, { ...RA, mtu: 1400, prefixes: [PI] }));
  const ev = a.events();
  assert.deepEqual(ev.map((e) => e.type), ["router", "mtu", "address"]);
  const addr = ev[2]!.type === "address" ? ev[2]!.address : null;
  assert.ok(addr !== null && addr.w0 === PREFIX.w0 && addr.w1 === PREFIX.w1);
  assert.equal(ev[0]!.type === "router" && ev[0]!.expiresAt, a.now + 1_800_000);
  a.settle();
  assert.deepEqual(states(a.events()), ["preferred"]);
  // RFC 7217: the same inputs give the same address; another key gives another.
  const b = new Harness();
  b.slaac.processRouterAdvert(b.cx, ROUTER, 255, { ...RA, prefixes: [PI] });
  assert.ok(b.slaac.addresses.some((x) => x.address.equals(addr!)));
  const c = new Harness({ secretKey: new Uint8Array(16).fill(9) });
  c.slaac.processRouterAdvert(c.cx, ROUTER, 255, { ...RA, prefixes: [PI] });
  assert.ok(!c.slaac.addresses.some((x) => x.address.equals(addr!)));
});

Deno.test("Slaac ignores and counts RAs with a bad hop limit or an off-link source", () => {
  const h = new Harness();
  assert.equal(h.slaac.processRouterAdvert(h.cx, ROUTER, 64, { ...RA, prefixes: [PI] }), false);
  assert.equal(
    h.slaac.processRouterAdvert(h.cx, Ipv6Address.parse("2001:db8::1"), 255, {
      ...RA,
      prefixes: [PI],
    }),
    false,
  );
  assert.equal(h.slaac.counters.badHopLimit, 1);
  assert.equal(h.slaac.counters.offLinkSource, 1);
  assert.deepEqual(h.events(), []);
  assert.deepEqual(h.slaac.routers, []);
});

Deno.test("Slaac ignores prefixes with lifetimes out of order, not /64, link-local or not autonomous", () => {
  const h = new Harness();
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [
      { ...PI, preferredLifetime: 100, validLifetime: 50 },
      { ...PI, prefixLen: 48 },
      { ...PI, prefix: Ipv6Address.parse("fe80::") },
      { ...PI, autonomous: false },
    ],
  });
  assert.equal(h.slaac.counters.lifetimesOutOfOrder, 1);
  assert.equal(h.slaac.counters.badPrefixLength, 1);
  assert.deepEqual(h.slaac.addresses, []);
});

Deno.test("Slaac gives a tentative address a new identifier when DAD finds a duplicate", () => {
  const h = new Harness();
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, { ...RA, prefixes: [PI] });
  const first = h.slaac.addresses[0]!.address;
  h.events();
  // Another node probes for the same address (NS from ::).
  assert.ok(h.slaac.processNeighborSolicit(h.cx, Ipv6Address.UNSPECIFIED, first));
  const ev = h.events();
  assert.deepEqual(states(ev), ["duplicate", "tentative"]);
  const second = h.slaac.addresses[0]!.address;
  assert.ok(!second.equals(first));
  // An NS from a real address (address resolution) is not a DAD collision.
  assert.equal(h.slaac.processNeighborSolicit(h.cx, ROUTER, second), false);
  // Three more collisions (NA): IDGEN_RETRIES exhausted, the address stays duplicate.
  for (let i = 0; i < 3; i++) h.slaac.processNeighborAdvert(h.cx, h.slaac.addresses[0]!.address);
  h.slaac.processNeighborAdvert(h.cx, h.slaac.addresses[0]!.address);
  assert.equal(h.slaac.addresses[0]!.state, "duplicate");
  assert.equal(h.events().at(-1)?.type, "address");
  h.settle();
  assert.equal(h.slaac.addresses[0]!.state, "duplicate");
});

Deno.test("Slaac deprecates at the preferred lifetime and removes at the valid lifetime", () => {
  const h = new Harness({ dadTransmits: 0 });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 600,
    prefixes: [{ ...PI, preferredLifetime: 100, validLifetime: 300 }],
  });
  h.flush();
  h.events();
  h.step();
  assert.equal(h.now, 100_000);
  assert.deepEqual(states(h.events()), ["deprecated"]);
  h.step();
  assert.equal(h.now, 300_000);
  assert.deepEqual(h.events().map((e) => e.type), ["addressRemoved"]);
  h.step();
  assert.equal(h.now, 600_000);
  assert.deepEqual(h.events(), [{ type: "routerRemoved", router: ROUTER }]);
  assert.equal(h.slaac.pollAt(h.cx), NEVER);
});

Deno.test("Slaac applies the two-hour rule to a shorter valid lifetime (RFC 4862 §5.5.3 e)", () => {
  const h = new Harness({ dadTransmits: 0 });
  const ra = (valid: number) => ({
    ...RA,
    routerLifetime: 0,
    prefixes: [{ ...PI, preferredLifetime: Math.min(60, valid), validLifetime: valid }],
  });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(86_400));
  h.flush();
  h.events();
  // A spoofed RA with valid lifetime 10 s cannot cut the lease below two hours.
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(10));
  h.now = 60_000;
  h.flush();
  assert.deepEqual(states(h.events()), ["deprecated"]);
  h.now = 7_200_000 - 1;
  h.flush();
  assert.deepEqual(h.events(), []);
  h.now = 7_200_000;
  h.flush();
  assert.deepEqual(h.events().map((e) => e.type), ["addressRemoved"]);
});

Deno.test("Slaac prefers a deprecated address again when a new RA extends it", () => {
  const h = new Harness({ dadTransmits: 0 });
  const ra = (preferred: number) => ({
    ...RA,
    prefixes: [{ ...PI, preferredLifetime: preferred, validLifetime: 86_400 }],
  });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(10));
  h.flush();
  h.now = 10_000;
  h.flush();
  h.events();
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(600));
  assert.deepEqual(states(h.events()).filter((s) => s !== "router"), ["preferred"]);
});

Deno.test("Slaac rejects a secret key that is not 16 bytes and a bad DAD count", () => {
  assert.throws(
    () => new Slaac({ hardwareAddress: MAC, secretKey: new Uint8Array(8) }),
    RangeError,
  );
  assert.throws(
    () => new Slaac({ hardwareAddress: MAC, secretKey: new Uint8Array(16), dadTransmits: -1 }),
    RangeError,
  );
});

Deno.test("Slaac keeps an on-link-only prefix (L without A) for its valid lifetime and forms no address", () => {
  const h = new Harness({ dadTransmits: 0 });
  const onLinkOnly = { ...PI, autonomous: false, prefixLen: 48, validLifetime: 50 };
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [onLinkOnly],
  });
  const [e] = h.events();
  assert.deepEqual(e, {
    type: "onLink",
    prefix: Ipv6Address.parse("2001:db8:1::"),
    prefixLen: 48,
    expiresAt: 50_000,
  });
  assert.equal(h.slaac.addresses.length, 0);
  // A refresh extends it without a new event; lifetime 0 takes it off-link at once.
  h.now = 40_000;
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [onLinkOnly],
  });
  assert.deepEqual(h.events(), []);
  assert.equal(h.slaac.pollAt(h.cx), 90_000);
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [{ ...onLinkOnly, validLifetime: 0 }],
  });
  assert.deepEqual(h.events().map((x) => x.type), ["onLinkRemoved"]);
  assert.equal(h.slaac.pollAt(h.cx), NEVER);
});

Deno.test("Slaac forms a /128 address from an autonomous prefix that is not on-link (A without L)", () => {
  const h = new Harness({ dadTransmits: 0 });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, { ...RA, prefixes: [{ ...PI, onLink: false }] });
  h.flush();
  const addr = h.events().find((e) => e.type === "address" && e.state === "preferred");
  assert.ok(addr?.type === "address");
  assert.equal(addr.prefixLen, 128);
});

Deno.test("Slaac keeps RDNSS servers for their lifetime; a lifetime of 0 withdraws one", () => {
  const h = new Harness({ dadTransmits: 0 });
  const a = Ipv6Address.parse("2001:db8::53"), b = Ipv6Address.parse("2001:db8::54");
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    rdnss: [{ lifetime: 100, servers: [a] }, { lifetime: 200, servers: [b] }],
  });
  assert.deepEqual(h.events(), [{ type: "dns", servers: [a, b] }]);
  // The same list again: no event.
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    rdnss: [{ lifetime: 100, servers: [a] }],
  });
  assert.deepEqual(h.events(), []);
  h.step();
  assert.equal(h.now, 100_000);
  assert.deepEqual(h.events(), [{ type: "dns", servers: [b] }]);
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    rdnss: [{ lifetime: 0, servers: [b] }],
  });
  assert.deepEqual(h.events(), [{ type: "dns", servers: [] }]);
  assert.deepEqual(h.slaac.dnsServers, []);
});

Deno.test("Slaac counts prefixes out of order and not /64, and listens to the groups of non-duplicate addresses", () => {
  const h = new Harness({ dadTransmits: 0 });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    prefixes: [
      { ...PI, preferredLifetime: 20, validLifetime: 10 },
      { ...PI, prefix: Ipv6Address.parse("2001:db8:2::"), prefixLen: 56 },
    ],
  });
  assert.equal(h.slaac.counters.lifetimesOutOfOrder, 1);
  assert.equal(h.slaac.counters.badPrefixLength, 1);
  assert.equal(h.slaac.addresses.length, 0);
  h.slaac.start(h.cx);
  const ll = h.slaac.addresses[0]!.address;
  assert.ok(h.slaac.listensTo(Ipv6Address.solicitedNode(ll)));
  assert.deepEqual(h.slaac.groups.map(String), [String(Ipv6Address.solicitedNode(ll))]);
  assert.ok(!h.slaac.listensTo(Ipv6Address.parse("ff02::1:ff00:1")));
});

const INFINITE = 0xffffffff;
const addressEvents = (events: SlaacEvent[]) =>
  events.filter((e): e is Extract<SlaacEvent, { type: "address" }> => e.type === "address");

Deno.test("Slaac with temporaryAddresses forms a random temporary address beside the stable one (RFC 8981)", () => {
  const h = new Harness({ temporaryAddresses: true });
  const ra = { ...RA, prefixes: [{ ...PI, preferredLifetime: INFINITE, validLifetime: INFINITE }] };
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra);
  const made = addressEvents(h.events());
  assert.deepEqual(made.map((e) => [e.state, e.temporary]), [
    ["tentative", false],
    ["tentative", true],
  ]);
  const [stable, temp] = [made[0]!.address, made[1]!.address];
  assert.ok(!stable.equals(temp));
  assert.equal(temp.w0, stable.w0);
  assert.equal(temp.w1, stable.w1);
  h.settle();
  assert.deepEqual(h.slaac.addresses.map((a) => [a.state, a.temporary]), [
    ["preferred", false],
    ["preferred", true],
  ]);
  // Both were probed by DAD.
  const probed = h.sent.filter((s) => s.kind === "neighborSolicit")
    .map((s) => String((s.repr as { target: Ipv6Address }).target));
  assert.ok(probed.includes(String(stable)) && probed.includes(String(temp)));
  // A second stack with another seed but the same key: the same stable, another temporary.
  const h2 = new Harness({ temporaryAddresses: true });
  (h2 as { random: unknown }).random = new Rng(77);
  h2.slaac.processRouterAdvert(h2.cx, ROUTER, 255, ra);
  const made2 = addressEvents(h2.events());
  assert.ok(made2[0]!.address.equals(stable));
  assert.ok(!made2[1]!.address.equals(temp));
});

Deno.test("Slaac deprecates a temporary address within a day, makes its successor 5 s before, and removes it after two days", () => {
  const h = new Harness({ temporaryAddresses: true });
  const ra = {
    ...RA,
    routerLifetime: 0,
    prefixes: [{ ...PI, preferredLifetime: INFINITE, validLifetime: INFINITE }],
  };
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra);
  h.settle();
  h.events();
  const temp = h.slaac.addresses.find((a) => a.temporary)!.address;
  // The next deadline is the successor's creation: REGEN_ADVANCE = 2 + 3 * 1 * 1 s early.
  const regenAt = h.slaac.pollAt(h.cx);
  const DAY = 86_400_000;
  assert.ok(regenAt >= DAY - 0.4 * DAY - 5_000 && regenAt <= DAY - 5_000, `regen at ${regenAt}`);
  h.step();
  const succ = addressEvents(h.events());
  assert.equal(succ.length, 1);
  assert.ok(succ[0]!.temporary && succ[0]!.state === "tentative" && !succ[0]!.address.equals(temp));
  h.settle();
  h.now = regenAt + 5_000;
  h.flush();
  const dep = addressEvents(h.events()).filter((e) => e.address.equals(temp));
  assert.deepEqual(dep.map((e) => e.state), ["deprecated"]);
  h.now = 2 * DAY;
  h.flush();
  assert.ok(h.events().some((e) => e.type === "addressRemoved" && e.address.equals(temp)));
  assert.equal(h.slaac.addresses.filter((a) => a.temporary).length, 1, "only the successor");
  assert.ok(h.slaac.addresses.some((a) => !a.temporary && a.state === "preferred"));
});

Deno.test("Slaac gives a duplicate temporary address a new random identifier, three times at most", () => {
  const h = new Harness({ temporaryAddresses: true });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, { ...RA, prefixes: [PI] });
  h.events();
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const t = h.slaac.addresses.find((a) => a.temporary)!;
    assert.equal(t.state, "tentative");
    seen.add(String(t.address));
    assert.ok(h.slaac.processNeighborAdvert(h.cx, t.address));
  }
  assert.equal(seen.size, 4, "four different identifiers");
  assert.equal(h.slaac.addresses.find((a) => a.temporary)!.state, "duplicate");
  assert.equal(h.slaac.addresses.find((a) => !a.temporary)!.state, "tentative");
});

Deno.test("Slaac forms no temporary address when the prefix's preferred lifetime is within REGEN_ADVANCE, and caps one at the prefix's", () => {
  const h = new Harness({ temporaryAddresses: true });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, {
    ...RA,
    prefixes: [{ ...PI, preferredLifetime: 5, validLifetime: 600 }],
  });
  assert.deepEqual(h.slaac.addresses.map((a) => a.temporary), [false]);
  const h2 = new Harness({ temporaryAddresses: true, dadTransmits: 0 });
  h2.slaac.processRouterAdvert(h2.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [{ ...PI, preferredLifetime: 100, validLifetime: 600 }],
  });
  h2.flush();
  h2.events();
  // Both deprecate at the prefix's 100 s; the successor is considered 2 s before (no DAD) but
  // not formed: the prefix itself has no more than REGEN_ADVANCE left.
  assert.equal(h2.slaac.pollAt(h2.cx), 98_000);
  h2.step();
  assert.equal(h2.slaac.addresses.filter((a) => a.temporary).length, 1);
  // A new RA extends the prefix: the temporary address is extended too (up to its own caps).
  h2.slaac.processRouterAdvert(h2.cx, ROUTER, 255, {
    ...RA,
    routerLifetime: 0,
    prefixes: [{ ...PI, preferredLifetime: INFINITE, validLifetime: INFINITE }],
  });
  h2.now = 100_000;
  h2.flush();
  assert.deepEqual(h2.slaac.addresses.map((a) => a.state), ["preferred", "preferred"]);
  // Now capped by its own day less DESYNC_FACTOR: its successor is due again 2 s before that.
  const due = h2.slaac.pollAt(h2.cx);
  assert.ok(due >= 0.6 * 86_400_000 - 2_000 && due <= 86_400_000 - 2_000, `due ${due}`);
  h2.step();
  assert.equal(h2.slaac.addresses.filter((a) => a.temporary).length, 2);
});

Deno.test("Slaac keeps DNSSL search domains for their lifetime; a lifetime of 0 withdraws one", () => {
  const h = new Harness({ dadTransmits: 0 });
  const ra = (lifetime: number, domains: string[]) => ({
    ...RA,
    routerLifetime: 0,
    dnssl: [{ lifetime, domains }],
  });
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(60, ["example.net", "example.org"]));
  assert.deepEqual(h.events(), [{
    type: "searchDomains",
    domains: ["example.net", "example.org"],
  }]);
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(60, ["example.net"]));
  assert.deepEqual(h.events(), [], "a refresh is no change");
  h.now = 30_000;
  h.slaac.processRouterAdvert(h.cx, ROUTER, 255, ra(0, ["example.org"]));
  assert.deepEqual(h.events(), [{ type: "searchDomains", domains: ["example.net"] }]);
  assert.equal(h.slaac.pollAt(h.cx), 60_000);
  h.step();
  assert.deepEqual(h.events(), [{ type: "searchDomains", domains: [] }]);
  assert.deepEqual(h.slaac.searchDomains, []);
});

Deno.test("Slaac keeps the Cur Hop Limit of the latest advertisement that sets one; 0 leaves it", () => {
  const a = new Harness();
  a.slaac.start(a.cx);
  a.settle();
  assert.equal(a.slaac.advertisedHopLimit, 0);
  assert.ok(a.slaac.processRouterAdvert(a.cx, ROUTER, 255, { ...RA, hopLimit: 40 }));
  assert.equal(a.slaac.advertisedHopLimit, 40);
  assert.ok(a.slaac.processRouterAdvert(a.cx, ROUTER, 255, { ...RA, hopLimit: 0 }));
  assert.equal(a.slaac.advertisedHopLimit, 40);
  assert.equal(a.slaac.processRouterAdvert(a.cx, ROUTER, 64, { ...RA, hopLimit: 9 }), false);
  assert.equal(a.slaac.advertisedHopLimit, 40, "a dropped advertisement changes nothing");
});
