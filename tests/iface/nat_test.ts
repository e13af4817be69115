import assert from "node:assert/strict";
import { NAT_DEFAULT_TIMEOUTS, NatTable } from "../../src/iface/nat.ts";
import { Ipv4Address } from "../../src/wire/address.ts";

const ip = Ipv4Address.parse;
const H1 = ip("192.0.2.10"), H2 = ip("192.0.2.11");
const S1 = ip("203.0.113.5"), S2 = ip("203.0.113.6");
const EXT = "198.51.100.1";

Deno.test("NatTable maps one inside endpoint to one external port for every destination (REQ-1)", () => {
  const nat = new NatTable({ externalAddress: EXT });
  const a = nat.outbound(0, "udp", H1, 4000, S1, 53)!.port;
  const b = nat.outbound(1, "udp", H1, 4000, S2, 123)!.port;
  assert.equal(a, b);
  assert.equal(nat.size, 1);
  assert.equal(nat.stats.created, 1);
});

Deno.test("NatTable preserves the port when free and picks another when taken", () => {
  const nat = new NatTable({ externalAddress: EXT });
  assert.equal(nat.outbound(0, "tcp", H1, 40000, S1, 80, 0x02)!.port, 40000);
  const other = nat.outbound(0, "tcp", H2, 40000, S1, 80, 0x02)!.port;
  assert.notEqual(other, 40000);
  assert.ok(other >= 1024 && other <= 65535);
  // Protocols have separate port spaces.
  assert.equal(nat.outbound(0, "udp", H2, 40000, S1, 80)!.port, 40000);
  // A port below the range is not preserved.
  assert.ok(nat.outbound(0, "udp", H1, 53, S1, 53)!.port >= 1024);
});

Deno.test("NatTable filters inbound packets by address by default, and as configured", () => {
  for (
    const [filtering, sameAddrOtherPort, otherAddr] of [
      ["endpoint-independent", true, true],
      ["address-dependent", true, false],
      ["address-and-port-dependent", false, false],
    ] as const
  ) {
    const nat = new NatTable({ externalAddress: EXT, filtering });
    const port = nat.outbound(0, "udp", H1, 5000, S1, 53)!.port;
    assert.equal(nat.inbound(1, "udp", port, S1, 53)?.address.toString(), "192.0.2.10", filtering);
    assert.equal(nat.inbound(1, "udp", port, S1, 54) !== null, sameAddrOtherPort, filtering);
    assert.equal(nat.inbound(1, "udp", port, S2, 53) !== null, otherAddr, filtering);
  }
  const nat = new NatTable({ externalAddress: EXT });
  assert.equal(nat.inbound(0, "udp", 9999, S1, 53), null);
  assert.equal(nat.stats.inboundNoMapping, 1);
});

Deno.test("NatTable lets in answers from every destination the inside host has sent to", () => {
  const nat = new NatTable({ externalAddress: EXT, filtering: "address-and-port-dependent" });
  const port = nat.outbound(0, "udp", H1, 5000, S1, 53)!.port;
  nat.outbound(0, "udp", H1, 5000, S2, 123);
  assert.notEqual(nat.inbound(1, "udp", port, S1, 53), null);
  assert.notEqual(nat.inbound(1, "udp", port, S2, 123), null);
  assert.equal(nat.inbound(1, "udp", port, S2, 53), null);
  assert.equal(nat.stats.inboundFiltered, 1);
});

Deno.test("NatTable expires UDP after 2 minutes of outbound silence, refreshed by traffic", () => {
  const nat = new NatTable({ externalAddress: EXT });
  const port = nat.outbound(0, "udp", H1, 5000, S1, 53)!.port;
  nat.outbound(100_000, "udp", H1, 5000, S1, 53); // refresh
  assert.equal(nat.nextExpiry(), 100_000 + NAT_DEFAULT_TIMEOUTS.udp);
  assert.equal(nat.expire(219_999), 0);
  assert.notEqual(nat.inbound(219_999, "udp", port, S1, 53), null); // inbound refreshes too
  assert.equal(nat.expire(339_998), 0);
  assert.equal(nat.expire(339_999), 1);
  assert.equal(nat.size, 0);
  assert.equal(nat.inbound(340_000, "udp", port, S1, 53), null);
  assert.equal(nat.stats.expired, 1);
});

Deno.test("NatTable gives established TCP 2 h 4 min and opening or closing TCP 4 min (RFC 5382)", () => {
  const nat = new NatTable({ externalAddress: EXT });
  const port = nat.outbound(0, "tcp", H1, 40000, S1, 80, 0x02)!.port; // SYN
  let m = [...nat.mappings()][0]!;
  assert.equal(m.tcpState, "opening");
  assert.equal(m.expires, NAT_DEFAULT_TIMEOUTS.tcpTransitory);
  nat.inbound(10, "tcp", port, S1, 80, 0x12); // SYN-ACK
  m = [...nat.mappings()][0]!;
  assert.equal(m.tcpState, "established");
  assert.equal(m.expires, 10 + NAT_DEFAULT_TIMEOUTS.tcpEstablished);
  assert.equal(
    nat.expire(10 + NAT_DEFAULT_TIMEOUTS.tcpTransitory + 1),
    0,
    "established outlives 4 min",
  );
  nat.outbound(20, "tcp", H1, 40000, S1, 80, 0x11); // FIN
  nat.inbound(30, "tcp", port, S1, 80, 0x11); // FIN
  m = [...nat.mappings()][0]!;
  assert.equal(m.tcpState, "closing");
  assert.equal(m.expires, 30 + NAT_DEFAULT_TIMEOUTS.tcpTransitory);
  // A reset closes at once into the transitory timeout.
  const p2 = nat.outbound(40, "tcp", H2, 40001, S1, 80, 0x02)!.port;
  nat.inbound(50, "tcp", p2, S1, 80, 0x12);
  nat.inbound(60, "tcp", p2, S1, 80, 0x04);
  assert.equal([...nat.mappings()].find((x) => x.externalPort === p2)!.tcpState, "closing");
});

Deno.test("NatTable refuses new flows beyond maxMappings and counts them, after expiring what it can", () => {
  const nat = new NatTable({ externalAddress: EXT, maxMappings: 2 });
  assert.notEqual(nat.outbound(0, "udp", H1, 1, S1, 53), null);
  assert.notEqual(nat.outbound(0, "udp", H1, 2, S1, 53), null);
  assert.equal(nat.outbound(0, "udp", H1, 3, S1, 53), null);
  assert.equal(nat.stats.refusedFull, 1);
  // An existing flow still passes.
  assert.notEqual(nat.outbound(1, "udp", H1, 1, S1, 53), null);
  // Once the others expire there is room again.
  assert.notEqual(nat.outbound(NAT_DEFAULT_TIMEOUTS.udp + 1, "udp", H1, 3, S1, 53), null);
  assert.equal(nat.size, 1);
});

Deno.test("NatTable refuses a new flow when every port of its range is taken", () => {
  const nat = new NatTable({ externalAddress: EXT, portRange: [2000, 2001] });
  nat.outbound(0, "udp", H1, 1, S1, 53);
  nat.outbound(0, "udp", H1, 2, S1, 53);
  assert.equal(nat.outbound(0, "udp", H1, 3, S1, 53), null);
  assert.deepEqual([...nat.mappings()].map((m) => m.externalPort).sort(), [2000, 2001]);
});

Deno.test("NatTable hairpins a packet sent to its own external address back inside (REQ-9)", () => {
  const nat = new NatTable({ externalAddress: EXT });
  const server = nat.outbound(0, "udp", H2, 7000, S1, 53)!.port;
  const r = nat.outbound(1, "udp", H1, 5000, ip(EXT), server)!;
  assert.equal(r.address.toString(), EXT, "the source is still translated");
  assert.equal(r.hairpin?.toString(), "192.0.2.11");
  assert.equal(r.hairpinPort, 7000);
  assert.equal(nat.stats.hairpinned, 1);
});

Deno.test("NatTable rejects bad options with the documented errors", () => {
  assert.throws(() => new NatTable({ externalAddress: "2001:db8::1" }), TypeError);
  assert.throws(() => new NatTable({ externalAddress: "nope" }));
  assert.throws(() => new NatTable({ externalAddress: EXT, portRange: [5, 2] }), RangeError);
  assert.throws(() => new NatTable({ externalAddress: EXT, portRange: [0, 70000] }), RangeError);
  assert.throws(() => new NatTable({ externalAddress: EXT, maxMappings: 0 }), RangeError);
  assert.throws(() => new NatTable({ externalAddress: EXT, timeouts: { udp: -1 } }), RangeError);
  assert.throws(
    () => new NatTable({ externalAddress: EXT, filtering: "open" as "address-dependent" }),
    TypeError,
  );
});

Deno.test("NatTable holds 100,000 mappings and expires them all in one pass", () => {
  const nat = new NatTable({
    externalAddress: EXT,
    maxMappings: 100_000,
    portRange: [1024, 65535],
  });
  let made = 0;
  for (let i = 0; i < 100_000; i++) {
    const host = new Ipv4Address((0xc0000200 + (i >>> 10)) >>> 0);
    if (nat.outbound(0, i % 2 ? "udp" : "tcp", host, 1024 + (i & 1023), S1, 80, 0x02) !== null) {
      made++;
    }
  }
  assert.equal(made, 100_000);
  assert.equal(nat.size, 100_000);
  assert.equal(nat.expire(NAT_DEFAULT_TIMEOUTS.tcpTransitory), 100_000);
  assert.equal(nat.size, 0);
});
