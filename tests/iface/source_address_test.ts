import assert from "node:assert/strict";
import { addressScope, selectSourceAddress } from "../../src/iface/source_address.ts";
import { parseIpAddress } from "../../src/wire/address.ts";

const a = parseIpAddress;
const pick = (
  d: string,
  cands: Parameters<typeof selectSourceAddress>[1],
  preferTemporary = true,
) => selectSourceAddress(a(d), cands, { preferTemporary })?.toString() ?? null;

// The cases below are RFC 6724 §10.1's examples (source address selection), one per rule.
Deno.test("selectSourceAddress rule 1: the destination itself", () => {
  assert.equal(
    pick("2001:db8::1", [{ address: a("2001:db8::2") }, { address: a("2001:db8::1") }]),
    "2001:db8::1",
  );
});

Deno.test("selectSourceAddress rule 2: the smallest scope that reaches the destination", () => {
  assert.equal(
    pick("2001:db8:1::1", [{ address: a("2001:db8:3::1") }, { address: a("fe80::1") }]),
    "2001:db8:3::1",
  );
  assert.equal(
    pick("ff05::1", [{ address: a("2001:db8:3::1") }, { address: a("fe80::1") }]),
    "2001:db8:3::1",
  );
  assert.equal(
    pick("fe80::2", [{ address: a("2001:db8:3::1") }, { address: a("fe80::1") }]),
    "fe80::1",
  );
});

Deno.test("selectSourceAddress rule 3: avoid deprecated addresses", () => {
  assert.equal(
    pick("2001:db8:1::1", [{ address: a("2001:db8:1::2"), deprecated: true }, {
      address: a("2001:db8:3::2"),
    }]),
    "2001:db8:3::2",
  );
});

Deno.test("selectSourceAddress rule 5: prefer the outgoing interface", () => {
  assert.equal(
    pick("2001:db8:1::1", [{ address: a("2001:db8:1::2") }, {
      address: a("2001:db8:3::2"),
      onOutgoingInterface: true,
    }]),
    "2001:db8:3::2",
  );
});

Deno.test("selectSourceAddress rule 6: a matching label (6to4 with 6to4, ULA with ULA)", () => {
  assert.equal(
    pick("2002:c633:6401::1", [{ address: a("2002:c633:6401::d5e3:7953:13eb:22e8") }, {
      address: a("2001:db8:1::2"),
    }]),
    "2002:c633:6401:0:d5e3:7953:13eb:22e8",
  );
  assert.equal(
    pick("fd00::9", [{ address: a("2001:db8:1::2") }, { address: a("fd00::2") }]),
    "fd00::2",
  );
});

Deno.test("selectSourceAddress rule 7: temporary addresses unless the application asks otherwise", () => {
  const cands = [{ address: a("2001:db8:1::2") }, {
    address: a("2001:db8:1::d5e3:0:0:1"),
    temporary: true,
  }];
  assert.equal(pick("2001:db8:1::1", cands), "2001:db8:1:0:d5e3::1");
  assert.equal(pick("2001:db8:1::1", cands, false), "2001:db8:1::2");
});

Deno.test("selectSourceAddress rule 8: the longest matching prefix, IPv4 too", () => {
  assert.equal(
    pick("2001:db8:1::1", [{ address: a("2001:db8:3::2") }, { address: a("2001:db8:1::2") }]),
    "2001:db8:1::2",
  );
  assert.equal(
    pick("198.51.100.7", [{ address: a("192.0.2.1") }, { address: a("198.51.100.1") }]),
    "198.51.100.1",
  );
  assert.equal(
    pick("192.0.2.9", [{ address: a("2001:db8::1") }]),
    null,
    "no candidate of the version",
  );
});

Deno.test("addressScope follows RFC 6724 §3.1-3.2", () => {
  assert.equal(addressScope(a("::1")), 0x2);
  assert.equal(addressScope(a("ff02::1")), 0x2);
  assert.equal(addressScope(a("ff0e::1")), 0xe);
  assert.equal(addressScope(a("fec0::1")), 0x5);
  assert.equal(addressScope(a("127.0.0.1")), 0x2);
  assert.equal(addressScope(a("169.254.1.1")), 0x2);
  assert.equal(addressScope(a("10.0.0.1")), 0xe);
});
