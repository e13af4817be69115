import assert from "node:assert/strict";
import {
  martianReason,
  specialPurposeBlocks,
  specialPurposeOf,
} from "../../src/wire/special_purpose.ts";
import { parseIpAddress } from "../../src/wire/address.ts";

const a = parseIpAddress;

Deno.test("specialPurposeOf finds the most specific block", () => {
  assert.equal(specialPurposeOf(a("0.0.0.0"))?.name, '"This host on this network"');
  assert.equal(specialPurposeOf(a("0.1.2.3"))?.name, '"This network"');
  assert.equal(specialPurposeOf(a("192.0.0.9"))?.name, "Port Control Protocol Anycast");
  assert.equal(specialPurposeOf(a("192.0.0.100"))?.name, "IETF Protocol Assignments");
  assert.equal(specialPurposeOf(a("2001:db8::1"))?.name, "Documentation");
  assert.equal(specialPurposeOf(a("2001:0:1::1"))?.name, "TEREDO");
  assert.equal(specialPurposeOf(a("fe80::1"))?.forwardable, false);
  assert.equal(specialPurposeOf(a("8.8.8.8")), null);
  assert.equal(specialPurposeOf(a("2a00:1450::1")), null);
});

Deno.test("specialPurposeBlocks is ordered most specific first", () => {
  const b = specialPurposeBlocks();
  for (let i = 1; i < b.length; i++) {
    assert.ok(b[i - 1]!.prefix.prefixLen >= b[i]!.prefix.prefixLen);
  }
});

Deno.test("martianReason refuses RFC 1812 martians and allows ordinary and private traffic", () => {
  const m = (s: string, d: string) => martianReason(a(s), a(d));
  assert.equal(m("10.0.0.1", "93.184.216.34"), null);
  assert.match(m("127.0.0.1", "10.0.0.1")!, /source 127\.0\.0\.1 is Loopback/);
  assert.match(m("10.0.0.1", "127.0.0.1")!, /destination/);
  assert.match(m("224.0.0.1", "10.0.0.1")!, /Multicast/);
  assert.match(m("10.0.0.1", "255.255.255.255")!, /Limited Broadcast/);
  assert.match(m("10.0.0.1", "0.0.0.1")!, /This network/);
  assert.match(m("169.254.0.1", "10.0.0.1")!, /not forwardable/);
  assert.match(m("fe80::1", "2a00::1")!, /Link-Local/);
  assert.match(m("2001:db8::1", "2a00::1")!, /Documentation/);
  assert.equal(
    martianReason(a("2001:db8::1"), a("2001:db8::2"), { allowDocumentation: true }),
    null,
  );
  assert.match(m("10.0.0.1", "2a00::1")!, /IP version/);
  assert.match(m("240.0.0.1", "10.0.0.1")!, /Reserved/);
});
