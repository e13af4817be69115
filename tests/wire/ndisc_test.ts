import assert from "node:assert/strict";
import fc from "fast-check";
import { EthernetAddress, Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
  parseIcmpv6,
} from "../../src/wire/icmpv6.ts";
import {
  emitNdisc,
  ndiscBufferLen,
  ndiscHopLimitValid,
  NdiscOptionType,
  type NdiscRepr,
  parseNdisc,
  type PrefixInfo,
} from "../../src/wire/ndisc.ts";
import { hex, NA, NA_NO_OPTION, NDISC_REDIRECT, NS, NS_DAD, RS } from "./golden_b/kernel_frames.ts";
import { ipv6Parts } from "./golden_b/frame_parts.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

const MAC_B1 = EthernetAddress.parse("02:00:00:00:b1:01");
const MAC_B2 = EthernetAddress.parse("02:00:00:00:b2:02");
const LL_B2 = Ipv6Address.parse("fe80::ff:fe00:b202");
const A = Ipv6Address.parse("2001:db8:b::1");
const B = Ipv6Address.parse("2001:db8:b::2");
const ALL_NODES = Ipv6Address.LINK_LOCAL_ALL_NODES;

/** The NDP message of a golden frame, parsed through parseIcmpv6. */
function parseFrame(frame: Uint8Array) {
  const { src, dst, hopLimit, nextHeader, payload } = ipv6Parts(frame);
  assert.equal(nextHeader, 58);
  assert.ok(ndiscHopLimitValid(hopLimit));
  const repr = parseIcmpv6(Icmpv6Packet.newChecked(payload), src, dst);
  assert.ok(repr.kind === "ndisc");
  return { repr: repr.repr, src, dst, message: payload };
}

function emit(repr: NdiscRepr, src: Ipv6Address, dst: Ipv6Address): Uint8Array {
  const icmp: Icmpv6Repr = { kind: "ndisc", repr };
  const packet = new Icmpv6Packet(new Uint8Array(icmpv6BufferLen(icmp)));
  emitIcmpv6(icmp, packet, src, dst);
  return packet.buffer;
}

/** Parses `bytes` as an NDP message from `src` to `dst` after fixing its checksum. */
function parse(bytes: Uint8Array, src: Ipv6Address, dst: Ipv6Address): NdiscRepr {
  const packet = new Icmpv6Packet(bytes);
  packet.fillChecksum(src, dst);
  const repr = parseIcmpv6(packet, src, dst);
  assert.ok(repr.kind === "ndisc");
  return repr.repr;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WireError && e.field === field);
}

/** A neighbor solicitation for B from A (to B's solicited-node group) with `options`. */
function nsWith(options: string): Uint8Array {
  return hex(`87 00 0000 00000000 20010db8000b00000000000000000002 ${options}`);
}
const SOLICITED_B = Ipv6Address.solicitedNode(B);

// Emitted by smolnet and checked field by field with `tshark -V` (Wireshark 4.0.17), from
// fe80::ff:fe00:b202 to ff02::1.
const RA_GOLDEN = hex(
  "86004f72 40 40 0708 00007530 000003e8" + // hop limit 64, O flag, 1800 s, 30000 ms, 1000 ms
    "0101 02000000b202" + // source link-layer address
    "0501 0000 000005dc" + // MTU 1500
    "0304 40 c0 00015180 00003840 00000000 20010db8000b00000000000000000000", // prefix /64 L A
);
const RA_REPR: NdiscRepr = {
  kind: "routerAdvert",
  hopLimit: 64,
  managed: false,
  other: true,
  routerLifetime: 1800,
  reachableTime: 30000,
  retransTime: 1000,
  sourceLinkAddr: MAC_B2,
  mtu: 1500,
  prefixes: [{
    prefixLen: 64,
    onLink: true,
    autonomous: true,
    validLifetime: 86400,
    preferredLifetime: 14400,
    prefix: Ipv6Address.parse("2001:db8:b::"),
  }],
};
const REDIRECT_GOLDEN = hex(
  "8900913e 00000000 fe80000000000000000000fffe00b203 20010db8000b00000000000000000100" +
    "0201 02000000b203" + // target link-layer address
    "0407 000000000000" + // redirected header, 7 units: 43 bytes of packet plus 5 bytes padding
    "6000000000003a40" + "00".repeat(32) + "010203" + "0000000000",
);

Deno.test("Icmpv6Packet parses the kernel's router solicitation and re-emits it", () => {
  const { repr, src, dst, message } = parseFrame(RS);
  assert.deepEqual(repr, { kind: "routerSolicit", sourceLinkAddr: MAC_B1 });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's address resolution solicitation", () => {
  const { repr, src, dst, message } = parseFrame(NS);
  assert.ok(dst.equals(SOLICITED_B));
  assert.deepEqual(repr, { kind: "neighborSolicit", target: B, sourceLinkAddr: MAC_B1 });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's DAD solicitation and skips its nonce option", () => {
  const { repr, src, dst, message } = parseFrame(NS_DAD);
  assert.ok(src.isUnspecified);
  assert.equal(message[24], 14); // RFC 7527 nonce, unknown to smolnet
  assert.deepEqual(repr, { kind: "neighborSolicit", target: B, sourceLinkAddr: null });
  // Re-emitted without the nonce: same body, shorter message.
  const out = emit(repr, src, dst);
  assert.deepEqual(out.subarray(4), message.subarray(4, 24));
});

Deno.test("Icmpv6Packet parses the kernel's solicited advertisement with R, S and O", () => {
  const { repr, src, dst, message } = parseFrame(NA);
  assert.deepEqual(repr, {
    kind: "neighborAdvert",
    router: true,
    solicited: true,
    override: true,
    target: B,
    targetLinkAddr: MAC_B2,
  });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's advertisement without an option", () => {
  const { repr, src, dst, message } = parseFrame(NA_NO_OPTION);
  assert.deepEqual(repr, {
    kind: "neighborAdvert",
    router: false,
    solicited: true,
    override: false,
    target: A,
    targetLinkAddr: null,
  });
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("Icmpv6Packet parses the kernel's redirect with its redirected header", () => {
  const { repr, src, dst, message } = parseFrame(NDISC_REDIRECT);
  assert.ok(repr.kind === "redirect");
  const target = Ipv6Address.parse("2001:db8:b::100");
  assert.ok(repr.target.equals(target) && repr.destination.equals(target));
  assert.equal(repr.targetLinkAddr, null);
  const inner = repr.redirectedHeader!;
  assert.equal(inner.length, 104); // the whole 104-byte echo request
  assert.equal(inner[0]! >> 4, 6);
  assert.ok(Ipv6Address.fromBytes(inner, 8).equals(A));
  assert.ok(Ipv6Address.fromBytes(inner, 24).equals(target));
  assert.deepEqual(emit(repr, src, dst), message);
});

Deno.test("emitIcmpv6 writes a router advertisement with link-layer, MTU and prefix options", () => {
  assert.deepEqual(emit(RA_REPR, LL_B2, ALL_NODES), RA_GOLDEN);
  assert.deepEqual(parse(RA_GOLDEN.slice(), LL_B2, ALL_NODES), RA_REPR);
});

Deno.test("emitIcmpv6 pads a redirected header to a multiple of 8 bytes", () => {
  const packet = new Uint8Array(43);
  packet.set(hex("6000000000003a40"));
  packet.set(hex("010203"), 40);
  const repr: NdiscRepr = {
    kind: "redirect",
    target: Ipv6Address.parse("fe80::ff:fe00:b203"),
    destination: Ipv6Address.parse("2001:db8:b::100"),
    targetLinkAddr: EthernetAddress.parse("02:00:00:00:b2:03"),
    redirectedHeader: packet,
  };
  assert.deepEqual(emit(repr, LL_B2, ALL_NODES), REDIRECT_GOLDEN);
  const back = parse(REDIRECT_GOLDEN.slice(), LL_B2, ALL_NODES);
  assert.ok(back.kind === "redirect");
  assert.deepEqual(
    back.redirectedHeader,
    hex("6000000000003a40" + "00".repeat(32) + "0102030000000000"),
  );
});

Deno.test("Icmpv6Packet rejects a neighbor solicitation with a zero-length option", () => {
  rejects(() => parse(nsWith("0100 02000000b101"), A, SOLICITED_B), "ndisc.option.length");
  // Also when the zero-length option is one smolnet does not know.
  rejects(
    () => parse(nsWith("0101 02000000b101 2000 000000000000"), A, SOLICITED_B),
    "ndisc.option.length",
  );
});

Deno.test("Icmpv6Packet rejects an option that runs past the message", () => {
  rejects(() => parse(nsWith("0102 02000000b101"), A, SOLICITED_B), "ndisc.option.length");
  rejects(() => parse(nsWith("01"), A, SOLICITED_B), "ndisc.option.length");
  rejects(() => parse(nsWith("0101 02000000b1"), A, SOLICITED_B), "ndisc.option.length");
});

Deno.test("Icmpv6Packet rejects a link-layer address option longer than Ethernet's", () => {
  rejects(
    () => parse(nsWith("0102 02000000b101 0000000000000000"), A, SOLICITED_B),
    "ndisc.option.length",
  );
  const na = hex(
    "88 00 0000 40000000 20010db8000b00000000000000000001 0202 02000000b101 0000000000000000",
  );
  rejects(() => parse(na, A, B), "ndisc.option.length");
});

Deno.test("Icmpv6Packet rejects malformed prefix and MTU options in a router advertisement", () => {
  const ra = "86 00 0000 40 00 0708 00000000 00000000";
  const prefix = "40 c0 00015180 00003840 00000000 20010db8000b00000000000000000000";
  rejects(
    () => parse(hex(`${ra} 0305 ${prefix} 0000000000000000`), LL_B2, ALL_NODES),
    "ndisc.option.length",
  );
  rejects(() => parse(hex(`${ra} 0304 81${prefix.slice(2)}`), LL_B2, ALL_NODES), "ndisc.prefixLen");
  rejects(
    () => parse(hex(`${ra} 0502 0000 000005dc 0000000000000000`), LL_B2, ALL_NODES),
    "ndisc.option.length",
  );
});

Deno.test("Icmpv6Packet skips unknown options and options the message does not use", () => {
  // RDNSS (type 25) and a prefix option in a neighbor solicitation; the latter even malformed.
  const repr = parse(
    nsWith(
      "1903 0000 00000e10 20010db8000b00000000000000000053 0301 000000000000 0101 02000000b101",
    ),
    A,
    SOLICITED_B,
  );
  assert.deepEqual(repr, { kind: "neighborSolicit", target: B, sourceLinkAddr: MAC_B1 });
});

Deno.test("Icmpv6Packet takes the first of duplicated single-valued options", () => {
  const repr = parse(nsWith("0101 02000000b101 0101 02000000b202"), A, SOLICITED_B);
  assert.ok(repr.kind === "neighborSolicit");
  assert.ok(repr.sourceLinkAddr?.equals(MAC_B1));
});

Deno.test("Icmpv6Packet rejects a Neighbor Discovery message with a non-zero code", () => {
  const ns = nsWith("");
  ns[1] = 1;
  rejects(() => parse(ns, A, SOLICITED_B), "ndisc.code");
  rejects(
    () => parse(hex("85 09 0000 00000000"), A, Ipv6Address.LINK_LOCAL_ALL_ROUTERS),
    "ndisc.code",
  );
});

Deno.test("Icmpv6Packet rejects truncated Neighbor Discovery messages", () => {
  rejects(() => parse(nsWith("").subarray(0, 23), A, SOLICITED_B), "ndisc.length");
  rejects(
    () => parse(hex("86 00 0000 40 00 0708 00000000 000000"), LL_B2, ALL_NODES),
    "ndisc.length",
  );
  rejects(
    () => parse(new Uint8Array([137, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80]), LL_B2, A),
    "ndisc.length",
  );
});

Deno.test("Icmpv6Packet rejects a solicitation or advertisement for a multicast target", () => {
  const ns = hex("87 00 0000 00000000 ff020000000000000000000000000001");
  rejects(() => parse(ns, A, ALL_NODES), "ndisc.target");
  const na = hex("88 00 0000 20000000 ff020000000000000000000000000001");
  rejects(() => parse(na, A, ALL_NODES), "ndisc.target");
});

Deno.test("Icmpv6Packet rejects a DAD solicitation not sent to a solicited-node group", () => {
  rejects(() => parse(nsWith(""), Ipv6Address.UNSPECIFIED, B), "ndisc.destination");
  rejects(() => parse(nsWith(""), Ipv6Address.UNSPECIFIED, ALL_NODES), "ndisc.destination");
  assert.equal(parse(nsWith(""), Ipv6Address.UNSPECIFIED, SOLICITED_B).kind, "neighborSolicit");
});

Deno.test("Icmpv6Packet rejects a source link-layer option sent from the unspecified address", () => {
  rejects(
    () => parse(nsWith("0101 02000000b101"), Ipv6Address.UNSPECIFIED, SOLICITED_B),
    "ndisc.option.type",
  );
  const rs = hex("85 00 0000 00000000 0101 02000000b101");
  rejects(
    () => parse(rs, Ipv6Address.UNSPECIFIED, Ipv6Address.LINK_LOCAL_ALL_ROUTERS),
    "ndisc.option.type",
  );
  const bare = parse(
    hex("85 00 0000 00000000"),
    Ipv6Address.UNSPECIFIED,
    Ipv6Address.LINK_LOCAL_ALL_ROUTERS,
  );
  assert.deepEqual(bare, { kind: "routerSolicit", sourceLinkAddr: null });
});

Deno.test("Icmpv6Packet rejects a solicited advertisement sent to a multicast address", () => {
  const na = hex("88 00 0000 40000000 20010db8000b00000000000000000002");
  rejects(() => parse(na, B, ALL_NODES), "ndisc.flags");
  const unsolicited = hex("88 00 0000 20000000 20010db8000b00000000000000000002");
  assert.equal(parse(unsolicited, B, ALL_NODES).kind, "neighborAdvert");
});

Deno.test("Icmpv6Packet rejects router advertisements and redirects from non-link-local sources", () => {
  rejects(() => parse(RA_GOLDEN.slice(), B, ALL_NODES), "ndisc.source");
  rejects(() => parse(REDIRECT_GOLDEN.slice(), B, A), "ndisc.source");
});

Deno.test("Icmpv6Packet rejects a redirect for a multicast destination or to an off-link target", () => {
  const multicast = REDIRECT_GOLDEN.slice();
  multicast.set(hex("ff0e"), 24);
  rejects(() => parse(multicast, LL_B2, A), "ndisc.destination");
  const global = REDIRECT_GOLDEN.slice();
  global.set(hex("2001"), 8);
  rejects(() => parse(global, LL_B2, A), "ndisc.target");
});

Deno.test("parseNdisc rejects ICMPv6 types that are not Neighbor Discovery", () => {
  rejects(() => parseNdisc(new Icmpv6Packet(hex("80 00 0000 00000000")), A, B), "ndisc.type");
});

Deno.test("ndiscHopLimitValid accepts only 255", () => {
  assert.ok(ndiscHopLimitValid(255));
  for (const h of [0, 1, 64, 254, 256]) assert.ok(!ndiscHopLimitValid(h));
});

Deno.test("emitNdisc rejects a short buffer and an oversized redirected header", () => {
  const rs: NdiscRepr = { kind: "routerSolicit", sourceLinkAddr: MAC_B1 };
  assert.equal(ndiscBufferLen(rs), 16);
  assert.throws(() => emitNdisc(rs, new Icmpv6Packet(new Uint8Array(15))), RangeError);
  const redirect: NdiscRepr = {
    kind: "redirect",
    target: B,
    destination: B,
    targetLinkAddr: null,
    redirectedHeader: new Uint8Array(2033),
  };
  const packet = new Icmpv6Packet(new Uint8Array(ndiscBufferLen(redirect)));
  assert.throws(() => emitNdisc(redirect, packet), RangeError);
});

Deno.test("NdiscOptionType names the RFC 4861 option types", () => {
  assert.deepEqual(Object.values(NdiscOptionType), [1, 2, 3, 4, 5]);
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Ipv6Address(a, b, c, d));
const unicast = ipv6.filter((a) => !a.isMulticast && !a.isUnspecified);
const linkLocal = fc.tuple(u32, u32).map(([c, d]) => new Ipv6Address(0xfe800000, 0, c, d));
const mac = fc.tuple(u16, u32).map(([hi, lo]) => new EthernetAddress(hi, lo));
const maybeMac = fc.option(mac, { nil: null });
const prefix: fc.Arbitrary<PrefixInfo> = fc.record({
  prefixLen: fc.integer({ min: 0, max: 128 }),
  onLink: fc.boolean(),
  autonomous: fc.boolean(),
  validLifetime: u32,
  preferredLifetime: u32,
  prefix: ipv6,
});

/** A message with a source and destination it is valid for. */
type Case = [NdiscRepr, Ipv6Address, Ipv6Address];

const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(maybeMac, linkLocal).map(([sll, src]): Case => [
    { kind: "routerSolicit", sourceLinkAddr: sll },
    src,
    Ipv6Address.LINK_LOCAL_ALL_ROUTERS,
  ]),
  fc.constant<Case>([
    { kind: "routerSolicit", sourceLinkAddr: null },
    Ipv6Address.UNSPECIFIED,
    Ipv6Address.LINK_LOCAL_ALL_ROUTERS,
  ]),
  fc.tuple(
    fc.record({
      kind: fc.constant("routerAdvert" as const),
      hopLimit: u8,
      managed: fc.boolean(),
      other: fc.boolean(),
      routerLifetime: u16,
      reachableTime: u32,
      retransTime: u32,
      sourceLinkAddr: maybeMac,
      mtu: fc.option(u32, { nil: null }),
      prefixes: fc.array(prefix, { maxLength: 4 }),
    }),
    linkLocal,
  ).map(([ra, src]): Case => [ra, src, ALL_NODES]),
  fc.tuple(unicast, maybeMac, unicast).map(([target, sll, src]): Case => [
    { kind: "neighborSolicit", target, sourceLinkAddr: sll },
    src,
    Ipv6Address.solicitedNode(target),
  ]),
  fc.tuple(unicast).map(([target]): Case => [
    { kind: "neighborSolicit", target, sourceLinkAddr: null },
    Ipv6Address.UNSPECIFIED,
    Ipv6Address.solicitedNode(target),
  ]),
  fc.tuple(
    fc.record({
      kind: fc.constant("neighborAdvert" as const),
      router: fc.boolean(),
      solicited: fc.boolean(),
      override: fc.boolean(),
      target: unicast,
      targetLinkAddr: maybeMac,
    }),
    unicast,
    unicast,
  ).map(([na, src, dst]): Case => [na, src, dst]),
  fc.tuple(
    unicast,
    fc.option(linkLocal, { nil: null }),
    maybeMac,
    fc.option(
      fc.integer({ min: 0, max: 30 }).chain((n) =>
        fc.uint8Array({ minLength: 8 * n, maxLength: 8 * n })
      ),
      {
        nil: null,
      },
    ),
    linkLocal,
    unicast,
  ).map(([destination, router, tll, header, src, dst]): Case => [
    {
      kind: "redirect",
      target: router ?? destination,
      destination,
      targetLinkAddr: tll,
      redirectedHeader: header,
    },
    src,
    dst,
  ]),
);

Deno.test("parseIcmpv6 gives back the Neighbor Discovery message emitIcmpv6 wrote, for every kind", () => {
  fc.assert(
    fc.property(cases, ([repr, src, dst]) => {
      const out = emit(repr, src, dst);
      assert.equal(out.length, ndiscBufferLen(repr));
      const back = parseIcmpv6(Icmpv6Packet.newChecked(out), src, dst);
      assert.deepEqual(back, { kind: "ndisc", repr });
    }),
    { numRuns: 3000 },
  );
});

/** Raw NDP messages: a fixed part of the type's size, then loosely shaped options. */
const rawMessage = fc.tuple(
  fc.constantFrom(133, 134, 135, 136, 137),
  fc.uint8Array({ minLength: 36, maxLength: 36 }),
  fc.array(
    fc.tuple(
      fc.constantFrom(1, 2, 3, 4, 5, 14, 25, 0, 200),
      fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(1), fc.constant(4)),
      fc.uint8Array({ maxLength: 40 }),
    ),
    { maxLength: 4 },
  ),
  fc.integer({ min: 0, max: 255 }),
).map(([type, body, options, mode]) => {
  const fixed = { 133: 8, 134: 16, 135: 24, 136: 24, 137: 40 }[type]!;
  const parts: number[] = [type, (mode & 1) !== 0 ? 0 : mode, 0, 0, ...body.subarray(0, fixed - 4)];
  if ((mode & 2) !== 0 && fixed >= 24) parts[8] = 0x20; // a non-multicast target
  if ((mode & 4) !== 0 && type === 137) parts.splice(8, 2, 0xfe, 0x80);
  for (const [t, units, content] of options) {
    const bytes = new Uint8Array(Math.max(units * 8, 2));
    bytes.set(content.subarray(0, bytes.length - 2), 2);
    bytes[0] = t;
    bytes[1] = units;
    parts.push(...bytes);
  }
  const out = new Uint8Array(parts);
  // Sometimes cut the message short, possibly in the middle of an option.
  return (mode & 8) !== 0 ? out.subarray(0, out.length - (mode >> 4)) : out;
});

Deno.test("parseIcmpv6 returns a repr or throws WireError for any Neighbor Discovery bytes", () => {
  const sources = [Ipv6Address.UNSPECIFIED, LL_B2, A];
  const destinations = [ALL_NODES, SOLICITED_B, B];
  fc.assert(
    fc.property(rawMessage, fc.integer({ min: 0, max: 31 }), (bytes, pick) => {
      const src = sources[pick % 3]!;
      const dst = destinations[(pick >> 2) % 3]!;
      const packet = new Icmpv6Packet(bytes);
      if ((pick & 16) === 0 && bytes.length >= 4) packet.fillChecksum(src, dst);
      try {
        const repr = parseIcmpv6(packet, src, dst);
        assert.equal(typeof repr.kind, "string");
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: RUNS },
  );
});
