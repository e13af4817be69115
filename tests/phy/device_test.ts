import assert from "node:assert/strict";
import {
  checksumAll,
  checksumNone,
  deviceDeadline,
  ETHERNET_HEADER_LEN,
  FaultInjector,
  hasReadinessHook,
  ipMtu,
  linkPair,
  Loopback,
  Medium,
} from "../../src/phy/mod.ts";
import type { Device, DeviceCapabilities } from "../../src/phy/mod.ts";
import { NEVER } from "../../src/time.ts";

/** A device with only the contract's members: no readiness hook, no deadline. */
const bare: Device = {
  capabilities: { medium: Medium.Ip, mtu: 1500, checksum: checksumAll(), maxBurstSize: null },
  receive: () => null,
  canTransmit: () => false,
  transmit: () => null,
  commit: () => {},
};

Deno.test("checksumAll asks for every checksum and checksumNone for none", () => {
  assert.deepEqual(checksumAll(), { ipv4: true, udp: true, tcp: true, icmpv4: true, icmpv6: true });
  assert.deepEqual(checksumNone(), {
    ipv4: false,
    udp: false,
    tcp: false,
    icmpv4: false,
    icmpv6: false,
  });
  assert.notEqual(checksumAll(), checksumAll(), "each call returns a fresh object");
});

Deno.test("ipMtu subtracts the Ethernet header only on Ethernet medium", () => {
  assert.equal(ETHERNET_HEADER_LEN, 14);
  const eth: DeviceCapabilities = {
    medium: Medium.Ethernet,
    mtu: 1514,
    checksum: checksumNone(),
    maxBurstSize: null,
  };
  assert.equal(ipMtu(eth), 1500);
  assert.equal(ipMtu({ ...eth, medium: Medium.Ip, mtu: 1500 }), 1500);
});

Deno.test("hasReadinessHook tells hooked devices from bare ones", () => {
  assert.equal(hasReadinessHook(bare), false);
  assert.equal(hasReadinessHook(linkPair()[0]), true);
  assert.equal(hasReadinessHook(new Loopback()), true);
});

Deno.test("deviceDeadline is NEVER without a deadline source and forwards one otherwise", () => {
  assert.equal(deviceDeadline(bare), NEVER);
  const lo = new Loopback();
  const dev = new FaultInjector(lo, { delay: 7 });
  dev.transmit(3, 1);
  dev.commit();
  assert.equal(deviceDeadline(dev), 10);
});
