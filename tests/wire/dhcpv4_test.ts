import assert from "node:assert/strict";
import fc from "fast-check";
import { Ipv4Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import {
  DHCPV4_HEADER_LEN,
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4Packet,
  type Dhcpv4Repr,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  parseDhcpv4,
} from "../../src/wire/dhcpv4.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

function hex(s: string): Uint8Array {
  return Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

/** op..chaddr (44 bytes), sname + file (192 zero bytes), cookie + options, zero padding. */
function message(head: string, options: string, padding: number): Uint8Array {
  const h = hex(head);
  const o = hex(options);
  const out = new Uint8Array(h.length + 192 + o.length + padding);
  out.set(h, 0);
  out.set(o, h.length + 192);
  return out;
}

// Captured in two network namespaces joined by a veth pair: dnsmasq 2.90 serving
//   --dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,120 --dhcp-option=option:router,192.0.2.1
//   --dhcp-option=option:dns-server,192.0.2.1 --dhcp-option=option:domain-name,example.net
//   --dhcp-option=option:mtu,1400
// and a python3 client (UDP socket on port 68, SO_BINDTODEVICE) whose DISCOVER and REQUEST
// were built by hand: xid 0x3903f326, broadcast flag, chaddr 02:00:00:00:00:01, client id
// 01 02:00:00:00:00:01, parameter request list 1 3 6 15 26 51, padded to 300 bytes.
const CLIENT_HEAD =
  "010106003903f326000080000000000000000000000000000000000002000000000100000000000000000000";
const SERVER_HEAD =
  "020106003903f3260000800000000000c000023fc00002010000000002000000000100000000000000000000";
const DISCOVER = message(CLIENT_HEAD, "638253633501013d070102000000000137060103060f1a33ff", 39);
const REQUEST = message(
  CLIENT_HEAD,
  "638253633501033d07010200000000013204c000023f3604c000020137060103060f1a33ff",
  27,
);
// dnsmasq sends options 53 54 51 58 59 1 28 26 15 6 3 and no padding (309 bytes).
const SERVER_OPTIONS = "3604c00002013304000000783a040000003c3b04000000690104ffffff001c04c00002ff" +
  "1a0205780f0b6578616d706c652e6e65740604c00002010304c0000201ff";
const OFFER = message(SERVER_HEAD, "63825363350102" + SERVER_OPTIONS, 0);
const ACK = message(SERVER_HEAD, "63825363350105" + SERVER_OPTIONS, 0);

const MAC = EthernetAddress.parse("02:00:00:00:00:01");
const SERVER = Ipv4Address.parse("192.0.2.1");
const LEASED = Ipv4Address.parse("192.0.2.63");
const PRL = [1, 3, 6, 15, 26, 51];
const CLIENT_ID = hex("01020000000001");

const CLIENT_TEMPL: Dhcpv4Repr = {
  ...dhcpv4ReprDefaults(),
  transactionId: 0x3903f326,
  broadcast: true,
  clientHardwareAddress: MAC,
  clientIdentifier: CLIENT_ID,
  parameterRequestList: PRL,
};

function emitted(repr: Dhcpv4Repr): Uint8Array {
  const packet = new Dhcpv4Packet(new Uint8Array(dhcpv4BufferLen(repr)));
  emitDhcpv4(repr, packet);
  return packet.buffer;
}

function rejects(bytes: Uint8Array, field: string): void {
  assert.throws(
    () => parseDhcpv4(new Dhcpv4Packet(bytes)),
    (e: unknown) => e instanceof WireError && e.field === field,
  );
}

Deno.test("Dhcpv4 parses dnsmasq's OFFER with every option a client uses", () => {
  const repr = parseDhcpv4(Dhcpv4Packet.newChecked(OFFER));
  assert.equal(repr.op, Dhcpv4Op.Reply);
  assert.equal(repr.messageType, Dhcpv4MessageType.Offer);
  assert.equal(repr.transactionId, 0x3903f326);
  assert.equal(repr.broadcast, true);
  assert.ok(repr.clientHardwareAddress.equals(MAC));
  assert.ok(repr.yourIp.equals(LEASED));
  assert.ok(repr.serverIp.equals(SERVER));
  assert.ok(repr.clientIp.isUnspecified);
  assert.ok(repr.serverIdentifier?.equals(SERVER));
  assert.equal(repr.leaseTime, 120);
  assert.equal(repr.renewalTime, 60);
  assert.equal(repr.rebindingTime, 105);
  assert.equal(repr.subnetMask?.toString(), "255.255.255.0");
  assert.deepEqual(repr.routers.map(String), ["192.0.2.1"]);
  assert.deepEqual(repr.dnsServers.map(String), ["192.0.2.1"]);
  assert.equal(repr.domainName, "example.net");
  assert.equal(repr.interfaceMtu, 1400);
  // Option 28 (broadcast address) is not named by the module and is kept as bytes.
  assert.deepEqual(repr.otherOptions, [{ code: 28, data: hex("c00002ff") }]);
  assert.equal(parseDhcpv4(new Dhcpv4Packet(ACK)).messageType, Dhcpv4MessageType.Ack);
});

Deno.test("Dhcpv4 emits the python client's DISCOVER and REQUEST byte for byte", () => {
  const discover = { ...CLIENT_TEMPL, messageType: Dhcpv4MessageType.Discover };
  assert.deepEqual(emitted(discover), DISCOVER);
  const request = {
    ...CLIENT_TEMPL,
    messageType: Dhcpv4MessageType.Request,
    requestedIp: LEASED,
    serverIdentifier: SERVER,
  };
  assert.deepEqual(emitted(request), REQUEST);
  assert.deepEqual(parseDhcpv4(new Dhcpv4Packet(REQUEST)), request);
});

Deno.test("Dhcpv4 re-emits dnsmasq's OFFER with the same options", () => {
  const repr = parseDhcpv4(new Dhcpv4Packet(OFFER));
  const again = emitted(repr);
  assert.equal(again.length, OFFER.length); // same options, in this module's order
  assert.deepEqual(parseDhcpv4(new Dhcpv4Packet(again)), repr);
});

Deno.test("Dhcpv4 concatenates an option that appears twice (RFC 3396)", () => {
  // Two router options of one address each, then end.
  const bytes = message(CLIENT_HEAD, "63825363350101" + "0304c0000201" + "0304c0000202" + "ff", 0);
  const repr = parseDhcpv4(new Dhcpv4Packet(bytes));
  assert.deepEqual(repr.routers.map(String), ["192.0.2.1", "192.0.2.2"]);
});

Deno.test("Dhcpv4 splits option data longer than 255 bytes on emit", () => {
  const data = new Uint8Array(300).map((_, i) => i & 0xff);
  const repr = {
    ...CLIENT_TEMPL,
    messageType: Dhcpv4MessageType.Discover,
    otherOptions: [{ code: 224, data }],
  };
  const bytes = emitted(repr);
  const opts = bytes.subarray(DHCPV4_HEADER_LEN);
  // 53 (3) + 61 (9) + 55 (8), then 224 255 ... 224 45 ...
  assert.equal(opts[20], 224);
  assert.equal(opts[21], 255);
  assert.equal(opts[20 + 257], 224);
  assert.equal(opts[20 + 258], 45);
  assert.deepEqual(parseDhcpv4(new Dhcpv4Packet(bytes)), repr);
});

Deno.test("Dhcpv4 skips pad bytes and accepts a missing end option at the buffer end", () => {
  const bytes = message(CLIENT_HEAD, "63825363" + "0000" + "350101" + "00" + "1a0205dc", 0);
  const repr = parseDhcpv4(new Dhcpv4Packet(bytes));
  assert.equal(repr.messageType, Dhcpv4MessageType.Discover);
  assert.equal(repr.interfaceMtu, 1500);
});

Deno.test("Dhcpv4 stops at the end option and ignores what follows", () => {
  const bytes = message(CLIENT_HEAD, "63825363350101ff" + "03ffffff", 0);
  assert.deepEqual(parseDhcpv4(new Dhcpv4Packet(bytes)).routers, []);
});

Deno.test("Dhcpv4 rejects an option that overruns the packet", () => {
  rejects(message(CLIENT_HEAD, "63825363350101" + "0608c0000201", 0), "dhcpv4.option");
  // Length byte itself missing.
  rejects(message(CLIENT_HEAD, "63825363350101" + "06", 0), "dhcpv4.option");
});

Deno.test("Dhcpv4 rejects named options with bad lengths", () => {
  const bad = [
    "350101" + "0103ffffff", // subnet mask of 3 bytes
    "350101" + "0305c000020101", // router list not a multiple of 4
    "350101" + "0600", // empty DNS list
    "35020101", // message type of 2 bytes
    "350101" + "1a020020", // MTU 32 below 68
    "350101" + "33020000", // lease time of 2 bytes
    "350101" + "3d0101", // client id of 1 byte
    "350101" + "0f02410a", // domain with a control byte
  ];
  for (const opts of bad) {
    rejects(message(CLIENT_HEAD, "63825363" + opts + "ff", 0), "dhcpv4.option");
  }
});

Deno.test("Dhcpv4 rejects a missing message type, a bad cookie, op or hardware type", () => {
  rejects(message(CLIENT_HEAD, "63825363ff", 0), "dhcpv4.option");
  rejects(message(CLIENT_HEAD, "63825364350101ff", 0), "dhcpv4.magicCookie");
  rejects(new Uint8Array(239), "dhcpv4.length");
  const badOp = DISCOVER.slice();
  badOp[0] = 3;
  rejects(badOp, "dhcpv4.op");
  const badHtype = DISCOVER.slice();
  badHtype[1] = 6;
  rejects(badHtype, "dhcpv4.htype");
  const badHlen = DISCOVER.slice();
  badHlen[2] = 16;
  rejects(badHlen, "dhcpv4.htype");
});

Deno.test("Dhcpv4 emit refuses a short buffer and a bad option code", () => {
  const repr = { ...CLIENT_TEMPL, messageType: Dhcpv4MessageType.Discover };
  assert.throws(() => emitDhcpv4(repr, new Dhcpv4Packet(new Uint8Array(299))), RangeError);
  const bad = { ...repr, otherOptions: [{ code: 255, data: new Uint8Array(1) }] };
  assert.throws(() => emitted(bad), RangeError);
  const badName = { ...repr, domainName: "é" };
  assert.throws(() => emitted(badName), RangeError);
});

const addr = fc.integer({ min: 0, max: 0xffffffff }).map((v) => new Ipv4Address(v >>> 0));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const NAMED = new Set([1, 3, 6, 15, 26, 50, 51, 53, 54, 55, 57, 58, 59, 61]);

const reprArb: fc.Arbitrary<Dhcpv4Repr> = fc.record({
  op: fc.constantFrom(Dhcpv4Op.Request, Dhcpv4Op.Reply),
  messageType: fc.integer({ min: 0, max: 255 }),
  transactionId: u32,
  secs: fc.integer({ min: 0, max: 0xffff }),
  hops: fc.integer({ min: 0, max: 255 }),
  broadcast: fc.boolean(),
  clientHardwareAddress: fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32)
    .map(([hi, lo]) => new EthernetAddress(hi, lo)),
  clientIp: addr,
  yourIp: addr,
  serverIp: addr,
  relayAgentIp: addr,
  serverIdentifier: opt(addr),
  requestedIp: opt(addr),
  subnetMask: opt(addr),
  routers: fc.array(addr, { maxLength: 70 }),
  dnsServers: fc.array(addr, { maxLength: 5 }),
  domainName: opt(fc.stringMatching(/^[\x20-\x7e]{0,300}$/)),
  interfaceMtu: opt(fc.integer({ min: 68, max: 0xffff })),
  leaseTime: opt(u32),
  renewalTime: opt(u32),
  rebindingTime: opt(u32),
  parameterRequestList: opt(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 })),
  maxMessageSize: opt(fc.integer({ min: 576, max: 0xffff })),
  clientIdentifier: opt(fc.uint8Array({ minLength: 2, maxLength: 20 })),
  otherOptions: fc.uniqueArray(
    fc.record({
      code: fc.integer({ min: 1, max: 254 }).filter((c) => !NAMED.has(c)),
      data: fc.uint8Array({ maxLength: 300 }),
    }),
    { selector: (o) => o.code, maxLength: 4 },
  ),
});

Deno.test("Dhcpv4 round-trips any repr through emit and parse", () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      assert.deepEqual(parseDhcpv4(new Dhcpv4Packet(emitted(repr))), repr);
    }),
    { numRuns: Math.min(RUNS, 2_000) },
  );
});

Deno.test("Dhcpv4 parse raises only WireError on any bytes", () => {
  const mutated = fc.tuple(fc.constantFrom(OFFER, DISCOVER), fc.array(fc.nat(), { maxLength: 8 }))
    .map(([base, flips]) => {
      const b = base.slice();
      for (const f of flips) b[f % b.length] = (b[f % b.length]! + f) & 0xff;
      return b.subarray(0, b.length - (flips[0] ?? 0) % 80);
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), (bytes) => {
      try {
        parseDhcpv4(new Dhcpv4Packet(bytes));
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }),
    { numRuns: Math.min(RUNS, 20_000) },
  );
});
