/**
 * {@linkcode DeviceWrapper}: the base of devices that wrap another device (PcapWriter,
 * FaultInjector, Tracer). It forwards everything to the inner device, so a wrapper overrides only
 * what it changes, and readiness, deadlines and the host device's lifecycle (`closed`, `close()`)
 * pass through any number of wrappers.
 *
 * @module
 */

import type { Instant } from "../time.ts";
import {
  closeDevice,
  type DeadlineSource,
  type Device,
  type DeviceCapabilities,
  deviceClosed,
  deviceDeadline,
  hasReadinessHook,
  type ReadinessHook,
} from "./device.ts";

/** Each wrapper's inner device, for {@linkcode deviceChain}. */
const INNER = new WeakMap<Device, Device>();

/**
 * The device and every device it wraps, outermost first (`PcapWriter(Tracer(link))` gives the
 * writer, the tracer and the link).
 *
 * @internal
 */
export function deviceChain(device: Device): Device[] {
  const chain: Device[] = [];
  for (let d: Device | undefined = device; d !== undefined; d = INNER.get(d)) chain.push(d);
  return chain;
}

/**
 * A device that forwards every call to an inner device. Subclass it to observe or change frames.
 *
 * @example A wrapper that counts received frames
 * ```ts
 * import { DeviceWrapper, Loopback } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * class Counting extends DeviceWrapper {
 *   frames = 0;
 *   override receive(now: number): Uint8Array | null {
 *     const f = super.receive(now);
 *     if (f !== null) this.frames++;
 *     return f;
 *   }
 * }
 * const dev = new Counting(new Loopback());
 * dev.transmit(0, 1)!.set([7]);
 * dev.commit();
 * dev.receive(0);
 * assert.equal(dev.frames, 1);
 * ```
 */
export class DeviceWrapper implements Device, ReadinessHook, DeadlineSource {
  /** The wrapped device. */
  protected readonly inner: Device;

  /**
   * Wraps `inner`.
   *
   * @param inner The device to forward to.
   */
  constructor(inner: Device) {
    this.inner = inner;
    INNER.set(this, inner);
  }

  /** The inner device's capabilities. */
  get capabilities(): DeviceCapabilities {
    return this.inner.capabilities;
  }

  /**
   * The inner device's next received frame.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new DeviceWrapper(new Loopback()).receive(0), null);
   * ```
   */
  receive(now: Instant): Uint8Array | null {
    return this.inner.receive(now);
  }

  /**
   * Whether the inner device has room.
   *
   * @param now The current instant.
   * @returns `true` when a transmit would succeed.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new DeviceWrapper(new Loopback()).canTransmit(0), true);
   * ```
   */
  canTransmit(now: Instant): boolean {
    return this.inner.canTransmit(now);
  }

  /**
   * The inner device's transmit buffer.
   *
   * @param now The current instant.
   * @param len The frame length.
   * @returns The buffer or `null`.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new DeviceWrapper(new Loopback()).transmit(0, 20)?.length, 20);
   * ```
   */
  transmit(now: Instant, len: number): Uint8Array | null {
    return this.inner.transmit(now, len);
  }

  /**
   * Sends the frame of the last `transmit` through the inner device.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const lo = new Loopback();
   * const dev = new DeviceWrapper(lo);
   * dev.transmit(0, 1)!.set([1]);
   * dev.commit();
   * assert.deepEqual(lo.receive(0), new Uint8Array([1]));
   * ```
   */
  commit(): void {
    this.inner.commit();
  }

  /**
   * The segment size (virtio `gso_size`) of the TCP super-frame the inner device handed over
   * last, as a TUN device with offloads reports it (`TunTapDevice.receivedSegmentSize`), so that a
   * router's path MTU check sees through any number of wrappers; 0 when the inner device does not
   * report one or that frame was not a super-frame.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback, Tracer } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const tun = Object.assign(new Loopback(), { receivedSegmentSize: 1448 });
   * assert.equal(new DeviceWrapper(new Tracer(tun, () => {})).receivedSegmentSize, 1448);
   * assert.equal(new DeviceWrapper(new Loopback()).receivedSegmentSize, 0);
   * ```
   */
  get receivedSegmentSize(): number {
    const size = (this.inner as { readonly receivedSegmentSize?: unknown }).receivedSegmentSize;
    return typeof size === "number" ? size : 0;
  }

  /**
   * The inner device's `closed` promise (a host adapter's), so a stack over this wrapper sees
   * the device fail; `undefined` for in-memory devices.
   */
  get closed(): Promise<void> | undefined {
    return deviceClosed(this.inner);
  }

  /**
   * Closes the inner device when it can be closed.
   *
   * @returns Resolves once the inner device is released.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * let closed = 0;
   * const inner = Object.assign(new Loopback(), { close: () => void closed++ });
   * await new DeviceWrapper(inner).close();
   * await new DeviceWrapper(new Loopback()).close(); // an in-memory device has nothing to release
   * assert.equal(closed, 1);
   * ```
   */
  close(): Promise<void> {
    return closeDevice(this.inner);
  }

  /**
   * Forwards to the inner device's readiness hook.
   *
   * @param callback The wake-up function.
   * @throws {TypeError} When the inner device has no readiness hook.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * let wakes = 0;
   * new DeviceWrapper(b).onReadable(() => wakes++);
   * a.transmit(0, 20);
   * a.commit();
   * assert.equal(wakes, 1);
   * ```
   */
  onReadable(callback: () => void): void {
    if (!hasReadinessHook(this.inner)) {
      throw new TypeError("Inner device has no readiness hook");
    }
    this.inner.onReadable(callback);
  }

  /**
   * The inner device's next deadline, `NEVER` when it has none.
   *
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { DeviceWrapper, FaultInjector, Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new DeviceWrapper(new Loopback()).nextDeadline(), Infinity); // no deadline source
   * const dev = new DeviceWrapper(new FaultInjector(new Loopback(), { delay: 5 }));
   * dev.transmit(0, 20);
   * dev.commit();
   * assert.equal(dev.nextDeadline(), 5);
   * ```
   */
  nextDeadline(): Instant {
    return deviceDeadline(this.inner);
  }
}
