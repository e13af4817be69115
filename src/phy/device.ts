/**
 * The device contract: how the core moves whole frames (Ethernet medium) or whole IP packets (IP
 * medium) in and out of a network device, synchronously and without a clock.
 *
 * ## Receive
 * `receive(now)` returns the next received frame or `null`. The returned bytes stay valid until
 * the next `receive` call on the same device; the device may then reuse the buffer, so a caller
 * that needs the bytes longer copies them. The caller may modify the bytes in place.
 *
 * ## Transmit
 * `transmit(now, len)` returns a writable buffer of exactly `len` bytes, or `null` when the device
 * has no room right now (the caller keeps its data and retries on a later poll) or when `len` is
 * larger than `capabilities.mtu` (the device counts that and returns `null`). The caller fills the
 * whole buffer and calls `commit()` once; only then is the frame sent. A `transmit` not followed by
 * `commit` before the next `transmit` is discarded, and a `commit` without a pending `transmit` does
 * nothing. `canTransmit(now)` answers "would `transmit` find room?" without reserving anything.
 *
 * ## Allocation
 * Devices allocate nothing per frame on the hot path: queues are preallocated slot arrays of
 * MTU-sized buffers that are reused, and the buffers handed out are views of those slots.
 *
 * ## Optional hooks
 * Devices fed from outside the core (a link peer, a host adapter) also implement
 * {@linkcode ReadinessHook} so the async layer can sleep until a frame arrives, and devices that
 * hold frames until a later time (the fault injector) implement {@linkcode DeadlineSource}.
 *
 * @module
 */

import { NEVER } from "../time.ts";
import { checkBoolean, checkInteger, checkOptions } from "../_validate.ts";
import type { Instant } from "../time.ts";

/**
 * What a device carries: Ethernet frames or bare IP packets.
 *
 * @example
 * ```ts
 * import { Medium } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(Medium.Ethernet, "ethernet");
 * ```
 */
export const Medium = { Ethernet: "ethernet", Ip: "ip" } as const;

/**
 * One of the values of {@linkcode Medium}.
 *
 * @example
 * ```ts
 * import { Loopback } from "@smol/net/phy";
 * import type { Medium } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const m: Medium = new Loopback().capabilities.medium;
 * assert.equal(m, "ip"); // a loopback carries bare IP packets unless told otherwise
 * ```
 */
export type Medium = typeof Medium[keyof typeof Medium];

/**
 * The length of an Ethernet II header (two addresses and the EtherType). The MTU of an
 * Ethernet-medium device includes it: a 1514-byte Ethernet MTU carries 1500-byte IP packets.
 *
 * @example
 * ```ts
 * import { ETHERNET_HEADER_LEN } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(1514 - ETHERNET_HEADER_LEN, 1500);
 * ```
 */
export const ETHERNET_HEADER_LEN = 14;

/**
 * Which checksums the stack computes on emit and verifies on parse in software. `true` means
 * "compute / verify"; `false` means the device guarantees integrity (a loopback) or offloads it.
 *
 * @example
 * ```ts
 * import { linkPair, Loopback } from "@smol/net/phy";
 * import type { ChecksumCapabilities } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const lo: ChecksumCapabilities = new Loopback().capabilities.checksum;
 * const link: ChecksumCapabilities = linkPair()[0].capabilities.checksum;
 * assert.equal(lo.tcp, false); // integrity is guaranteed: nothing to compute
 * assert.equal(link.tcp, true);
 * ```
 */
export interface ChecksumCapabilities {
  /** IPv4 header checksum. */
  ipv4: boolean;
  /** UDP checksum (IPv4 and IPv6). */
  udp: boolean;
  /** TCP checksum (IPv4 and IPv6). */
  tcp: boolean;
  /** ICMPv4 checksum. */
  icmpv4: boolean;
  /** ICMPv6 checksum. */
  icmpv6: boolean;
}

/**
 * What a host device negotiated to offload (a TUN device opened with `offload: true`): checksums
 * the host completes, and TCP segments larger than the MTU the host cuts itself (TSO) and
 * coalesces on receive (the kernel's GRO), so one frame moves up to `maxFrameSize` bytes.
 *
 * @example
 * ```ts
 * import { Loopback } from "@smol/net/phy";
 * import type { OffloadCapabilities } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const tso: OffloadCapabilities = { checksum: true, tcpv4: true, tcpv6: true, maxFrameSize: 65535 };
 * assert.equal(tso.maxFrameSize, 65535);
 * assert.equal(new Loopback().capabilities.offload, undefined); // in-memory devices offload nothing
 * ```
 */
export interface OffloadCapabilities {
  /** The host completes partial TCP checksums of sent frames and vouches for received ones. */
  readonly checksum: boolean;
  /** `transmit` takes TCP/IPv4 frames up to `maxFrameSize` and the host segments them (TSO4). */
  readonly tcpv4: boolean;
  /** The same for TCP/IPv6 (TSO6). */
  readonly tcpv6: boolean;
  /**
   * The host may hand over UDP/IPv4 super-frames (USO4: a local sender's `UDP_SEGMENT`), which
   * the device splits into datagrams before the stack sees them; `transmit` takes none. Absent:
   * `false`.
   */
  readonly udpv4?: boolean;
  /** The same for UDP/IPv6 (USO6). */
  readonly udpv6?: boolean;
  /**
   * The largest frame `transmit` takes and `receive` may return when a TSO flag is set (an IP
   * packet on IP medium); the MTU otherwise.
   */
  readonly maxFrameSize: number;
}

/**
 * What a device carries and how big a frame may be.
 *
 * @example
 * ```ts
 * import { checksumAll, ipMtu, Medium } from "@smol/net/phy";
 * import type { DeviceCapabilities } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const caps: DeviceCapabilities = {
 *   medium: Medium.Ethernet,
 *   mtu: 1514,
 *   checksum: checksumAll(),
 *   maxBurstSize: null,
 * };
 * assert.equal(ipMtu(caps), 1500); // the MTU includes the 14-byte Ethernet header
 * ```
 */
export interface DeviceCapabilities {
  /** Ethernet frames or bare IP packets. */
  readonly medium: Medium;
  /** The largest frame the device takes, in bytes; for Ethernet it includes the 14-byte header. */
  readonly mtu: number;
  /** Which checksums the stack must compute and verify. */
  readonly checksum: ChecksumCapabilities;
  /** At most this many frames per poll in a burst, or `null` for no limit. */
  readonly maxBurstSize: number | null;
  /** Offloads the host device negotiated; absent or `null` for none. */
  readonly offload?: OffloadCapabilities | null | undefined;
}

/**
 * A network device as the core sees it. See the module documentation for the exact buffer
 * lifetimes.
 *
 * @example Send one frame and receive it back
 * ```ts
 * import { Loopback } from "@smol/net/phy";
 * import type { Device } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const dev: Device = new Loopback();
 * const buf = dev.transmit(0, 3);
 * if (buf !== null) {
 *   buf.set([1, 2, 3]);
 *   dev.commit();
 * }
 * assert.deepEqual(dev.receive(0), new Uint8Array([1, 2, 3]));
 * ```
 */
export interface Device {
  /** Medium, MTU, checksum and burst capabilities; constant for the device's lifetime. */
  readonly capabilities: DeviceCapabilities;
  /**
   * The next received frame, valid until the next `receive` call, or `null` when none is ready.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   */
  receive(now: Instant): Uint8Array | null;
  /**
   * Whether a `transmit` would find room now.
   *
   * @param now The current instant.
   * @returns `true` when a frame of up to `mtu` bytes can be sent.
   */
  canTransmit(now: Instant): boolean;
  /**
   * A buffer of exactly `len` bytes to fill, or `null` when the device is full or `len > mtu`.
   *
   * @param now The current instant.
   * @param len The frame length in bytes.
   * @returns The buffer or `null`.
   */
  transmit(now: Instant, len: number): Uint8Array | null;
  /** Sends the buffer returned by the last `transmit`; call once after each `transmit`. */
  commit(): void;
}

/**
 * A device that can tell the async layer when a frame arrives, so the loop can sleep in between.
 *
 * @example
 * ```ts
 * import { linkPair } from "@smol/net/phy";
 * import type { ReadinessHook } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * const hook: ReadinessHook = b;
 * let wakes = 0;
 * hook.onReadable(() => wakes++);
 * a.transmit(0, 20);
 * a.commit(); // runs the callback synchronously
 * a.transmit(0, 20);
 * a.commit(); // b already had a frame pending: no new wake-up
 * assert.equal(wakes, 1);
 * ```
 */
export interface ReadinessHook {
  /**
   * Registers the callback run when a frame becomes pending on a device that had none (edge
   * triggered). It runs synchronously inside the sender's `commit`: it must be cheap and must not
   * call back into any device (schedule the work instead). A new registration replaces the old.
   *
   * @param callback Runs once per empty-to-non-empty transition.
   */
  onReadable(callback: () => void): void;
}

/**
 * A device that holds frames until a later instant and says when the next one is due.
 *
 * @example
 * ```ts
 * import { FaultInjector, linkPair } from "@smol/net/phy";
 * import type { DeadlineSource } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const dev = new FaultInjector(linkPair()[0], { delay: 10 });
 * const src: DeadlineSource = dev;
 * assert.equal(src.nextDeadline(), Infinity); // holds nothing
 * dev.transmit(0, 20);
 * dev.commit();
 * assert.equal(src.nextDeadline(), 10); // the delayed frame leaves at 10
 * ```
 */
export interface DeadlineSource {
  /**
   * When the device next needs a call (to release a held frame), `NEVER` when it holds nothing.
   * A deadline at or before the current instant means "call now".
   *
   * @returns The instant.
   */
  nextDeadline(): Instant;
}

/**
 * Capabilities that make the stack compute and verify every checksum in software.
 *
 * @returns A fresh capabilities object with every field `true`.
 *
 * @example
 * ```ts
 * import { checksumAll } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(checksumAll().tcp, true);
 * ```
 */
export function checksumAll(): ChecksumCapabilities {
  return { ipv4: true, udp: true, tcp: true, icmpv4: true, icmpv6: true };
}

/**
 * Capabilities for a device that guarantees integrity: the stack neither computes nor verifies.
 *
 * @returns A fresh capabilities object with every field `false`.
 *
 * @example
 * ```ts
 * import { checksumNone } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(checksumNone().udp, false);
 * ```
 */
export function checksumNone(): ChecksumCapabilities {
  return { ipv4: false, udp: false, tcp: false, icmpv4: false, icmpv6: false };
}

/**
 * The largest IP packet a device carries: the MTU, less the Ethernet header on Ethernet medium.
 *
 * @param capabilities The device's capabilities.
 * @returns The IP MTU in bytes.
 *
 * @example
 * ```ts
 * import { ipMtu, linkPair, Medium } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(ipMtu(linkPair({ medium: Medium.Ethernet })[0].capabilities), 1500);
 * ```
 */
export function ipMtu(capabilities: DeviceCapabilities): number {
  return capabilities.medium === Medium.Ethernet
    ? capabilities.mtu - ETHERNET_HEADER_LEN
    : capabilities.mtu;
}

/**
 * Whether a device implements {@linkcode ReadinessHook}.
 *
 * @param device Any device.
 * @returns `true` when `device.onReadable` is a function.
 *
 * @example
 * ```ts
 * import { hasReadinessHook, linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(hasReadinessHook(linkPair()[0]), true);
 * ```
 */
export function hasReadinessHook(device: Device): device is Device & ReadinessHook {
  return typeof (device as Partial<ReadinessHook>).onReadable === "function";
}

/**
 * The device's {@linkcode DeadlineSource.nextDeadline}, or `NEVER` when it has none.
 *
 * @param device Any device.
 * @returns When the device next needs a call.
 *
 * @example
 * ```ts
 * import { deviceDeadline, Loopback } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(deviceDeadline(new Loopback()), Infinity);
 * ```
 */
export function deviceDeadline(device: Device): Instant {
  const d = device as Partial<DeadlineSource>;
  return typeof d.nextDeadline === "function" ? d.nextDeadline() : NEVER;
}

/**
 * Checks checksum capabilities: an object with the five boolean fields.
 *
 * @internal
 */
export function checkChecksum(name: string, value: unknown): ChecksumCapabilities {
  checkOptions(name, value as ChecksumCapabilities, true);
  const c = value as ChecksumCapabilities;
  for (const k of ["ipv4", "udp", "tcp", "icmpv4", "icmpv6"] as const) {
    checkBoolean(`${name}.${k}`, c[k]);
  }
  return { ipv4: c.ipv4, udp: c.udp, tcp: c.tcp, icmpv4: c.icmpv4, icmpv6: c.icmpv6 };
}

/**
 * Throws a `TypeError` unless `value` is a number and a `RangeError` unless it is an integer in
 * `[min, max]` (the rule of `src/_validate.ts`).
 *
 * @internal
 */
export function checkInt(name: string, value: number, min: number, max: number): void {
  checkInteger(name, value, min, max);
}

/**
 * A host device's lifecycle: `closed` settles when it stops (rejecting when it failed, for
 * example because its interface was deleted) and `close()` releases it. In-memory devices have
 * neither; wrappers forward both.
 *
 * @example
 * ```ts
 * import { DeviceWrapper, Loopback } from "@smol/net/phy";
 * import type { Closable } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const dev: Closable = new DeviceWrapper(new Loopback());
 * assert.equal(dev.closed, undefined); // wrappers forward; an in-memory device has no lifecycle
 * await dev.close?.();
 * ```
 */
export interface Closable {
  /** Settles when the device stops; rejects with the failure. */
  readonly closed?: Promise<void> | undefined;
  /** Releases the device. */
  close?(): void | Promise<void>;
}

/**
 * The device's `closed` promise, looking through wrappers, or `undefined` when it has none.
 *
 * @param device Any device.
 * @returns The promise or `undefined`.
 *
 * @example
 * ```ts
 * import { deviceClosed, linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(deviceClosed(linkPair()[0]), undefined);
 * ```
 */
export function deviceClosed(device: Device): Promise<void> | undefined {
  const c = (device as Closable).closed;
  return c instanceof Promise ? c : undefined;
}

/**
 * Closes the device if it can be closed (host adapters, and wrappers around them).
 *
 * @param device Any device.
 * @returns What the device's `close()` returned.
 *
 * @example
 * ```ts
 * import { closeDevice, Loopback } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * let closed = 0;
 * const dev = Object.assign(new Loopback(), { close: () => void closed++ });
 * await closeDevice(dev);
 * await closeDevice(new Loopback()); // nothing to release: resolves
 * assert.equal(closed, 1);
 * ```
 */
export async function closeDevice(device: Device): Promise<void> {
  const d = device as Closable;
  if (typeof d.close === "function") await d.close();
}
