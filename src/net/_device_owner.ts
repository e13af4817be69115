/**
 * One stack per device: a device, and every device it wraps, belongs to at most one
 * `NetStack` at a time. Also the random hardware address a stack takes on Ethernet.
 *
 * @module
 */

import type { Device } from "../phy/device.ts";
import { deviceChain } from "../phy/wrapper.ts";
import { EthernetAddress } from "../wire/address.ts";

/** The stack each device in use belongs to: a device, or any device it wraps, has one owner. */
const OWNERS = new WeakMap<Device, object>();

/** Makes `stack` the owner of `device` and the devices it wraps; `Busy` when one has another. */
export function claimDevice(device: Device, stack: object): void {
  const chain = deviceChain(device);
  for (const d of chain) {
    const owner = OWNERS.get(d);
    if (owner !== undefined && owner !== stack) {
      const what = d === device ? "the device" : `the device it wraps (${d.constructor.name})`;
      const e = new Deno.errors.Busy(
        `Cannot attach a NetStack to ${device.constructor.name}: ${what} belongs to another NetStack; close that stack first`,
      );
      Object.defineProperty(e, "code", { value: "EBUSY", configurable: true, writable: true });
      throw e;
    }
  }
  for (const d of chain) OWNERS.set(d, stack);
}

/** Lets another stack use `device` (and what it wraps) once `stack` has closed. */
export function releaseDevice(device: Device, stack: object): void {
  for (const d of deviceChain(device)) if (OWNERS.get(d) === stack) OWNERS.delete(d);
}

/** A random locally administered unicast MAC address. */
export function randomMac(): EthernetAddress {
  const b = crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0]! & 0xfe) | 0x02;
  return EthernetAddress.fromBytes(b);
}
