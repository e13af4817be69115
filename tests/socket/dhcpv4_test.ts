import assert from "node:assert/strict";
import fc from "fast-check";
import { Rng } from "../../src/rand.ts";
import { NEVER } from "../../src/time.ts";
import { type IpEndpoint, Ipv4Address } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import {
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4Packet,
  type Dhcpv4Repr,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  parseDhcpv4,
} from "../../src/wire/dhcpv4.ts";
import {
  Dhcpv4Client,
  type Dhcpv4ClientOptions,
  type Dhcpv4Event,
} from "../../src/socket/dhcpv4.ts";

const MAC = EthernetAddress.parse("02:00:00:00:00:01");
const OTHER_MAC = EthernetAddress.parse("02:00:00:00:00:02");
const SERVER = Ipv4Address.parse("192.0.2.1");
const OTHER_SERVER = Ipv4Address.parse("192.0.2.2");
const LEASED = Ipv4Address.parse("192.0.2.63");
const FROM_SERVER: IpEndpoint = { addr: SERVER, port: 67 };

interface Sent {
  readonly src: Ipv4Address;
  readonly dst: IpEndpoint;
  readonly repr: Dhcpv4Repr;
}

/** A client with a seeded generator and explicit time. */
class Harness {
  readonly client: Dhcpv4Client;
  readonly random: Rng;
  now = 0;
  readonly sent: Sent[] = [];

  constructor(options: Partial<Dhcpv4ClientOptions> = {}, seed = 1) {
    this.client = new Dhcpv4Client({ hardwareAddress: MAC, ...options });
    this.random = new Rng(seed);
  }

  get cx(): { now: number; random: Rng } {
    return { now: this.now, random: this.random };
  }

  /** Dispatches at `now`; returns the message sent, or null. */
  dispatch(): Sent | null {
    let out: Sent | null = null;
    this.client.dispatch(this.cx, {
      emitUdp: (src, srcPort, dst, payload) => {
        assert.equal(srcPort, 68);
        out = {
          src: src as Ipv4Address,
          dst,
          repr: parseDhcpv4(new Dhcpv4Packet(payload.slice())),
        };
        return true;
      },
    });
    if (out !== null) this.sent.push(out);
    return out;
  }

  /** Moves to the client's next deadline and dispatches. */
  advance(): Sent | null {
    const at = this.client.pollAt(this.cx);
    assert.ok(at !== NEVER, "the client has no deadline");
    if (at > this.now) this.now = at;
    return this.dispatch();
  }

  receive(repr: Dhcpv4Repr, from: IpEndpoint = FROM_SERVER): boolean {
    return this.client.process(this.cx, from, bytes(repr));
  }

  events(): Dhcpv4Event[] {
    const out: Dhcpv4Event[] = [];
    for (let e = this.client.takeEvent(); e !== null; e = this.client.takeEvent()) out.push(e);
    return out;
  }
}

function bytes(repr: Dhcpv4Repr): Uint8Array {
  const p = new Dhcpv4Packet(new Uint8Array(dhcpv4BufferLen(repr)));
  emitDhcpv4(repr, p);
  return p.buffer;
}

/** A server reply to `request` (dnsmasq's option set: lease 120 s, T1 60 s, T2 105 s). */
function reply(
  request: Dhcpv4Repr,
  messageType: number,
  extra: Partial<Dhcpv4Repr> = {},
): Dhcpv4Repr {
  return {
    ...dhcpv4ReprDefaults(),
    op: Dhcpv4Op.Reply,
    messageType,
    transactionId: request.transactionId,
    broadcast: request.broadcast,
    clientHardwareAddress: request.clientHardwareAddress,
    yourIp: messageType === Dhcpv4MessageType.Nak ? Ipv4Address.UNSPECIFIED : LEASED,
    serverIdentifier: SERVER,
    ...(messageType === Dhcpv4MessageType.Nak ? {} : {
      leaseTime: 120,
      renewalTime: 60,
      rebindingTime: 105,
      subnetMask: Ipv4Address.parse("255.255.255.0"),
      routers: [SERVER],
      dnsServers: [SERVER],
      domainName: "example.net",
      interfaceMtu: 1400,
    }),
    ...extra,
  };
}

/** Runs DISCOVER/OFFER/REQUEST/ACK; the ACK arrives 100 ms after the REQUEST left. */
function bind(h: Harness): Sent {
  const discover = h.dispatch()!;
  h.now += 50;
  assert.ok(h.receive(reply(discover.repr, Dhcpv4MessageType.Offer)));
  const request = h.dispatch()!;
  h.now += 100;
  assert.ok(h.receive(reply(request.repr, Dhcpv4MessageType.Ack)));
  assert.equal(h.client.state, "bound");
  return request;
}

Deno.test("Dhcpv4Client in INIT broadcasts a DISCOVER from 0.0.0.0 and enters SELECTING", () => {
  const h = new Harness();
  assert.equal(h.client.state, "init");
  assert.equal(h.client.pollAt(h.cx), 0);
  const d = h.dispatch()!;
  assert.equal(h.client.state, "selecting");
  assert.ok(d.src.isUnspecified);
  assert.ok(d.dst.addr.equals(Ipv4Address.BROADCAST));
  assert.equal(d.dst.port, 67);
  assert.equal(d.repr.messageType, Dhcpv4MessageType.Discover);
  assert.equal(d.repr.op, Dhcpv4Op.Request);
  assert.equal(d.repr.broadcast, true);
  assert.ok(d.repr.clientHardwareAddress.equals(MAC));
  assert.deepEqual(d.repr.clientIdentifier, Uint8Array.of(1, 2, 0, 0, 0, 0, 1));
  assert.deepEqual(d.repr.parameterRequestList, [1, 3, 6, 15, 26, 51, 58, 59]);
  assert.equal(d.repr.requestedIp, null);
  assert.equal(h.dispatch(), null, "nothing more is due at the same instant");
});

Deno.test("Dhcpv4Client in SELECTING retransmits after 4, 8, 16, 32, 64, 64 s within 1 s", () => {
  const h = new Harness({}, 7);
  const first = h.dispatch()!;
  let last = 0;
  for (const base of [4, 8, 16, 32, 64, 64]) {
    const at = h.client.pollAt(h.cx);
    assert.ok(at - last >= base * 1000 - 1000 && at - last <= base * 1000 + 1000, `${at - last}`);
    h.now = at - 1;
    assert.equal(h.dispatch(), null, "not before the deadline");
    h.now = at;
    const again = h.dispatch()!;
    assert.equal(again.repr.messageType, Dhcpv4MessageType.Discover);
    assert.equal(again.repr.transactionId, first.repr.transactionId);
    assert.equal(again.repr.secs, Math.floor(at / 1000));
    last = at;
  }
  assert.equal(h.client.state, "selecting");
});

Deno.test("Dhcpv4Client jitter comes from the seeded generator", () => {
  const times = (seed: number): number[] => {
    const h = new Harness({}, seed);
    h.dispatch();
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.advance();
      out.push(h.now);
    }
    return out;
  };
  assert.deepEqual(times(3), times(3));
  assert.notDeepEqual(times(3), times(4));
});

Deno.test("Dhcpv4Client in SELECTING requests the first offer with its server id", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.now = 10;
  assert.ok(h.receive(reply(d.repr, Dhcpv4MessageType.Offer)));
  assert.equal(h.client.state, "requesting");
  // A second offer is not taken.
  assert.equal(
    h.receive(reply(d.repr, Dhcpv4MessageType.Offer, { serverIdentifier: OTHER_SERVER })),
    false,
  );
  assert.equal(h.client.counters.unexpected, 1);
  const r = h.dispatch()!;
  assert.equal(r.repr.messageType, Dhcpv4MessageType.Request);
  assert.equal(r.repr.transactionId, d.repr.transactionId);
  assert.ok(r.src.isUnspecified);
  assert.ok(r.dst.addr.equals(Ipv4Address.BROADCAST));
  assert.ok(r.repr.requestedIp?.equals(LEASED));
  assert.ok(r.repr.serverIdentifier?.equals(SERVER));
  assert.ok(r.repr.clientIp.isUnspecified);
});

Deno.test("Dhcpv4Client in SELECTING ignores and counts offers for others and bad bytes", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  const offer = reply(d.repr, Dhcpv4MessageType.Offer);
  assert.equal(h.receive({ ...offer, clientHardwareAddress: OTHER_MAC }), false);
  assert.equal(h.client.counters.otherClient, 1);
  assert.equal(h.receive({ ...offer, transactionId: (offer.transactionId + 1) >>> 0 }), false);
  assert.equal(h.client.counters.wrongXid, 1);
  assert.equal(h.receive({ ...offer, op: Dhcpv4Op.Request }), false);
  assert.equal(h.receive(offer, { addr: SERVER, port: 1067 }), false);
  assert.equal(h.client.counters.unexpected, 2);
  assert.equal(h.receive({ ...offer, serverIdentifier: null }), false);
  assert.equal(h.receive({ ...offer, yourIp: Ipv4Address.UNSPECIFIED }), false);
  assert.equal(h.receive({ ...offer, yourIp: Ipv4Address.BROADCAST }), false);
  assert.equal(h.client.counters.malformed, 3);
  // An option that overruns the packet: the router option claims 8 bytes at the very end.
  const good = bytes(offer);
  const end = good.lastIndexOf(255);
  const overrun = new Uint8Array(end + 4);
  overrun.set(good.subarray(0, end), 0);
  overrun.set([3, 8, 192, 0], end);
  assert.equal(h.client.process(h.cx, FROM_SERVER, overrun), false);
  assert.equal(h.client.counters.malformed, 4);
  // An ACK while selecting is not for us either.
  assert.equal(h.receive(reply(d.repr, Dhcpv4MessageType.Ack)), false);
  assert.equal(h.client.state, "selecting");
  assert.deepEqual(h.events(), []);
});

Deno.test("Dhcpv4Client in REQUESTING binds on ACK and reports the lease", () => {
  const h = new Harness();
  const request = bind(h);
  assert.equal(h.sent.at(-1), request);
  const [e, ...rest] = h.events();
  assert.deepEqual(rest, []);
  assert.equal(e?.type, "bound");
  if (e?.type !== "bound") return;
  assert.equal(e.previous, null);
  const l = e.lease;
  assert.equal(l.address.toString(), "192.0.2.63/24");
  assert.deepEqual(l.routers.map(String), ["192.0.2.1"]);
  assert.deepEqual(l.dnsServers.map(String), ["192.0.2.1"]);
  assert.equal(l.domainName, "example.net");
  assert.equal(l.mtu, 1400);
  assert.equal(l.leaseTime, 120);
  assert.ok(l.serverIdentifier.equals(SERVER));
  // RFC 2131 §4.4.1: the lease counts from when the REQUEST left (t = 50 ms).
  assert.equal(l.acquiredAt, 50);
  assert.equal(l.renewAt, 50 + 60_000);
  assert.equal(l.rebindAt, 50 + 105_000);
  assert.equal(l.expiresAt, 50 + 120_000);
  assert.equal(h.client.lease, l);
  assert.equal(h.client.pollAt(h.cx), l.renewAt);
});

Deno.test("Dhcpv4Client in REQUESTING ignores an ACK from another server or for another address", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.receive(reply(d.repr, Dhcpv4MessageType.Offer));
  const r = h.dispatch()!;
  assert.equal(
    h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { serverIdentifier: OTHER_SERVER })),
    false,
  );
  assert.equal(h.client.counters.unexpected, 1);
  assert.equal(
    h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { yourIp: Ipv4Address.parse("192.0.2.64") })),
    false,
  );
  assert.equal(h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { leaseTime: null })), false);
  assert.equal(h.client.counters.malformed, 2);
  assert.equal(h.client.state, "requesting");
});

Deno.test("Dhcpv4Client in REQUESTING goes back to INIT on NAK and discovers with a new xid", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.receive(reply(d.repr, Dhcpv4MessageType.Offer));
  const r = h.dispatch()!;
  h.now = 200;
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Nak)));
  assert.equal(h.client.state, "init");
  assert.deepEqual(h.events(), [], "nothing was configured, nothing to remove");
  const again = h.dispatch()!;
  assert.equal(again.repr.messageType, Dhcpv4MessageType.Discover);
  assert.notEqual(again.repr.transactionId, d.repr.transactionId);
});

Deno.test("Dhcpv4Client in REQUESTING starts over after five unanswered REQUESTs", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.receive(reply(d.repr, Dhcpv4MessageType.Offer));
  for (let i = 0; i < 5; i++) {
    assert.equal(h.advance()?.repr.messageType, Dhcpv4MessageType.Request);
  }
  assert.equal(h.client.state, "requesting");
  const next = h.advance()!;
  assert.equal(next.repr.messageType, Dhcpv4MessageType.Discover);
  assert.equal(h.client.state, "selecting");
  // 4 + 8 + 16 + 32 + 64 s, each within 1 s.
  assert.ok(h.now >= 124_000 - 5_000 && h.now <= 124_000 + 5_000, `${h.now}`);
});

Deno.test("Dhcpv4Client in BOUND is silent until T1, then unicasts a REQUEST (RENEWING)", () => {
  const h = new Harness();
  bind(h);
  const lease = h.client.lease!;
  h.now = lease.renewAt - 1;
  assert.equal(h.dispatch(), null);
  assert.equal(h.client.state, "bound");
  h.now = lease.renewAt;
  const r = h.dispatch()!;
  assert.equal(h.client.state, "renewing");
  assert.ok(r.src.equals(LEASED));
  assert.ok(r.dst.addr.equals(SERVER));
  assert.ok(r.repr.clientIp.equals(LEASED));
  assert.equal(r.repr.requestedIp, null);
  assert.equal(r.repr.serverIdentifier, null);
  assert.equal(r.repr.broadcast, false);
  assert.equal(r.repr.messageType, Dhcpv4MessageType.Request);
});

Deno.test("Dhcpv4Client in BOUND ignores a repeated ACK", () => {
  const h = new Harness();
  const request = bind(h);
  h.events();
  assert.equal(h.receive(reply(request.repr, Dhcpv4MessageType.Ack)), false);
  assert.equal(h.client.counters.unexpected, 1);
  assert.deepEqual(h.events(), []);
});

Deno.test("Dhcpv4Client in RENEWING extends the lease on ACK", () => {
  const h = new Harness();
  bind(h);
  const old = h.client.lease!;
  h.events();
  h.now = old.renewAt;
  const r = h.dispatch()!;
  h.now += 30;
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { dnsServers: [OTHER_SERVER] })));
  assert.equal(h.client.state, "bound");
  const [e] = h.events();
  assert.equal(e?.type, "bound");
  if (e?.type !== "bound") return;
  assert.equal(e.previous, old);
  assert.equal(e.lease.renewAt, old.renewAt + 60_000);
  assert.deepEqual(e.lease.dnsServers.map(String), ["192.0.2.2"]);
});

Deno.test("Dhcpv4Client in RENEWING retransmits after half the time to T2, at least 60 s", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.receive(reply(d.repr, Dhcpv4MessageType.Offer));
  const r = h.dispatch()!;
  // A long lease: T1 1000 s, T2 1750 s.
  h.receive(reply(r.repr, Dhcpv4MessageType.Ack, {
    leaseTime: 2000,
    renewalTime: null,
    rebindingTime: null,
  }));
  const lease = h.client.lease!;
  assert.equal(lease.renewAt - lease.acquiredAt, 1_000_000);
  assert.equal(lease.rebindAt - lease.acquiredAt, 1_750_000);
  h.now = lease.renewAt;
  h.dispatch();
  assert.equal(h.client.pollAt(h.cx), lease.renewAt + 375_000);
  h.now = lease.rebindAt - 100_000;
  h.dispatch();
  assert.equal(h.client.pollAt(h.cx), h.now + 60_000);
});

Deno.test("Dhcpv4Client in RENEWING deconfigures on NAK", () => {
  const h = new Harness();
  bind(h);
  const lease = h.client.lease!;
  h.events();
  h.now = lease.renewAt;
  const r = h.dispatch()!;
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Nak)));
  assert.deepEqual(h.events(), [{ type: "deconfigured", lease, reason: "nak" }]);
  assert.equal(h.client.state, "init");
  assert.equal(h.client.lease, null);
});

Deno.test("Dhcpv4Client in REBINDING broadcasts from its address at T2 and binds on ACK", () => {
  const h = new Harness();
  bind(h);
  const lease = h.client.lease!;
  h.now = lease.renewAt;
  const renew = h.dispatch()!;
  h.now = lease.rebindAt;
  const r = h.dispatch()!;
  assert.equal(h.client.state, "rebinding");
  assert.notEqual(r.repr.transactionId, renew.repr.transactionId);
  assert.ok(r.src.equals(LEASED));
  assert.ok(r.dst.addr.equals(Ipv4Address.BROADCAST));
  assert.ok(r.repr.clientIp.equals(LEASED));
  assert.equal(r.repr.serverIdentifier, null);
  // A late answer to the RENEWING request carries the old xid.
  assert.equal(h.receive(reply(renew.repr, Dhcpv4MessageType.Ack)), false);
  assert.equal(h.client.counters.wrongXid, 1);
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { serverIdentifier: OTHER_SERVER })));
  assert.equal(h.client.state, "bound");
  assert.ok(h.client.lease!.serverIdentifier.equals(OTHER_SERVER));
});

Deno.test("Dhcpv4Client deconfigures when the lease expires and discovers again", () => {
  const h = new Harness();
  bind(h);
  const lease = h.client.lease!;
  h.events();
  h.now = lease.renewAt;
  h.dispatch();
  h.now = lease.rebindAt;
  h.dispatch();
  assert.equal(h.client.pollAt(h.cx), lease.expiresAt);
  h.now = lease.expiresAt;
  const d = h.dispatch()!;
  assert.deepEqual(h.events(), [{ type: "deconfigured", lease, reason: "expired" }]);
  assert.equal(d.repr.messageType, Dhcpv4MessageType.Discover);
  assert.ok(d.src.isUnspecified);
  assert.equal(h.client.state, "selecting");
});

Deno.test("Dhcpv4Client in INIT-REBOOT asks for its remembered address", () => {
  const h = new Harness({ requestedAddress: LEASED });
  assert.equal(h.client.state, "initReboot");
  const r = h.dispatch()!;
  assert.equal(h.client.state, "rebooting");
  assert.equal(r.repr.messageType, Dhcpv4MessageType.Request);
  assert.ok(r.repr.requestedIp?.equals(LEASED));
  assert.equal(r.repr.serverIdentifier, null);
  assert.ok(r.repr.clientIp.isUnspecified);
  assert.ok(r.src.isUnspecified);
  assert.ok(r.dst.addr.equals(Ipv4Address.BROADCAST));
  h.now = 20;
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Ack)));
  assert.equal(h.client.state, "bound");
  assert.equal(h.events()[0]?.type, "bound");
});

Deno.test("Dhcpv4Client in REBOOTING falls back to DISCOVER on NAK or silence", () => {
  const h = new Harness({ requestedAddress: LEASED });
  const r = h.dispatch()!;
  assert.ok(h.receive(reply(r.repr, Dhcpv4MessageType.Nak)));
  assert.equal(h.client.state, "init");
  assert.equal(h.dispatch()?.repr.messageType, Dhcpv4MessageType.Discover);

  const quiet = new Harness({ requestedAddress: LEASED });
  quiet.dispatch();
  for (let i = 0; i < 4; i++) assert.equal(quiet.advance()?.repr.requestedIp?.equals(LEASED), true);
  assert.equal(quiet.advance()?.repr.messageType, Dhcpv4MessageType.Discover);
});

Deno.test("Dhcpv4Client repairs out-of-order T1/T2 and keeps an infinite lease forever", () => {
  const h = new Harness();
  const d = h.dispatch()!;
  h.receive(reply(d.repr, Dhcpv4MessageType.Offer));
  const r = h.dispatch()!;
  h.receive(reply(r.repr, Dhcpv4MessageType.Ack, { renewalTime: 200, rebindingTime: 100 }));
  const l = h.client.lease!;
  assert.equal(l.renewAt - l.acquiredAt, 60_000);
  assert.equal(l.rebindAt - l.acquiredAt, 105_000);

  const inf = new Harness();
  const d2 = inf.dispatch()!;
  inf.receive(reply(d2.repr, Dhcpv4MessageType.Offer));
  const r2 = inf.dispatch()!;
  inf.receive(reply(r2.repr, Dhcpv4MessageType.Ack, {
    leaseTime: 0xffffffff,
    renewalTime: null,
    rebindingTime: null,
    subnetMask: null,
  }));
  assert.equal(inf.client.lease!.leaseTime, Infinity);
  assert.equal(inf.client.pollAt(inf.cx), NEVER);
  // No mask: the classful prefix of 192.0.2.63 (class C).
  assert.equal(inf.client.lease!.address.prefixLen, 24);
});

Deno.test("Dhcpv4Client reset reports the lost lease", () => {
  const h = new Harness();
  bind(h);
  const lease = h.client.lease!;
  h.events();
  h.client.reset(h.cx);
  assert.deepEqual(h.events(), [{ type: "deconfigured", lease, reason: "reset" }]);
  assert.equal(h.client.state, "init");
});

Deno.test("Dhcpv4Client rejects a client identifier shorter than 2 bytes", () => {
  assert.throws(
    () => new Dhcpv4Client({ hardwareAddress: MAC, clientIdentifier: new Uint8Array(1) }),
    RangeError,
  );
  assert.throws(
    () => new Dhcpv4Client({ hardwareAddress: MAC, requestedAddress: Ipv4Address.BROADCAST }),
    RangeError,
  );
});

Deno.test("Dhcpv4Client never throws on random datagrams and counts each one", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (payload, cookie) => {
      const h = new Harness();
      h.dispatch();
      if (cookie && payload.length >= 240) payload.set([0x63, 0x82, 0x53, 0x63], 236);
      h.client.process(h.cx, FROM_SERVER, payload);
      const c = h.client.counters;
      const counted = c.malformed + c.otherClient + c.wrongXid + c.unexpected;
      assert.ok(counted === 1 || h.client.state !== "selecting");
    }),
    { numRuns: 2_000 },
  );
});
