/**
 * A loopback device: every committed frame comes back on `receive`, in order.
 *
 * @module
 */

import { checkInt, checksumNone, Medium } from "./device.ts";
import { checkMtu, checkOneOf, checkOptions } from "../_validate.ts";
import type { Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import { FrameQueue, newLinkCounters } from "./link.ts";
import type { LinkStats } from "./link.ts";
import type { Instant } from "../time.ts";

/**
 * Options for {@linkcode Loopback}.
 *
 * @example
 * ```ts
 * import { Loopback, Medium } from "@smol/net/phy";
 * import type { LoopbackOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: LoopbackOptions = { medium: Medium.Ethernet, mtu: 1514 };
 * const lo = new Loopback(opts);
 * assert.equal(lo.capabilities.medium, "ethernet");
 * assert.throws(() => new Loopback({ mtu: 40 }), RangeError); // cannot carry 68 bytes of IP
 * ```
 */
export interface LoopbackOptions {
  /** Medium; default IP. */
  medium?: Medium;
  /** MTU in bytes; default 65535. At least 68 bytes of IP (RFC 791), at most 65535. */
  mtu?: number;
  /** Frames held before `transmit` returns `null`; default 64. */
  queueLen?: number;
}

/**
 * A device whose transmitted frames are received by itself. Integrity is guaranteed, so its
 * capabilities ask for no checksums. Slot buffers are allocated on first use and then reused.
 *
 * @example
 * ```ts
 * import { Loopback } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const lo = new Loopback();
 * lo.transmit(0, 2)!.set([4, 2]);
 * lo.commit();
 * assert.deepEqual(lo.receive(0), new Uint8Array([4, 2]));
 * assert.equal(lo.receive(0), null);
 * ```
 */
export class Loopback implements Device, ReadinessHook {
  /** Medium, MTU and (no) checksum capabilities. */
  readonly capabilities: DeviceCapabilities;
  readonly #queue: FrameQueue;
  #pendingLen = -1;
  #onReadable: (() => void) | null = null;
  readonly #stats = newLinkCounters();

  /**
   * Creates an empty loopback.
   *
   * @param options Medium, MTU and queue length.
   * @throws {TypeError} When an option has the wrong type or `medium` is unknown.
   * @throws {RangeError} When the MTU cannot carry a 68-byte IPv4 packet (RFC 791) or exceeds
   * 65535 bytes of IP, or the queue length is not from 1 to 2^20.
   */
  constructor(options: LoopbackOptions = {}) {
    checkOptions("options", options);
    const medium = options.medium === undefined
      ? Medium.Ip
      : checkOneOf("medium", options.medium, [Medium.Ethernet, Medium.Ip]);
    const mtu = options.mtu ?? 65535;
    checkMtu("mtu", mtu, medium);
    const queueLen = options.queueLen ?? 64;
    checkInt("queueLen", queueLen, 1, 1 << 20);
    this.capabilities = Object.freeze({
      medium,
      mtu,
      checksum: Object.freeze(checksumNone()),
      maxBurstSize: null,
    });
    this.#queue = new FrameQueue(queueLen, mtu);
  }

  /** Counters; the object is live (updated in place). */
  get stats(): LinkStats {
    return this.#stats;
  }

  /** Frames waiting to be received. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * The oldest committed frame not yet received, valid until the next `receive`, or `null`.
   *
   * @param _now The current instant (unused).
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new Loopback().receive(0), null);
   * ```
   */
  receive(_now: Instant): Uint8Array | null {
    const frame = this.#queue.pop();
    if (frame === null) return null;
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += frame.length;
    return frame;
  }

  /**
   * Whether the queue has room.
   *
   * @param _now The current instant (unused).
   * @returns `true` when a `transmit` of up to `mtu` bytes would succeed.
   *
   * @example
   * ```ts
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new Loopback().canTransmit(0), true);
   * ```
   */
  canTransmit(_now: Instant): boolean {
    return !this.#queue.isFull();
  }

  /**
   * A buffer of exactly `len` bytes, or `null` when the queue is full (counted in
   * `dropsQueueFull`) or `len > mtu` (counted in `dropsTooBig`).
   *
   * @param _now The current instant (unused).
   * @param len The frame length.
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const lo = new Loopback({ queueLen: 1 });
   * lo.transmit(0, 1);
   * lo.commit();
   * assert.equal(lo.transmit(0, 1), null);
   * assert.equal(lo.stats.dropsQueueFull, 1);
   * ```
   */
  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pendingLen = -1;
    if (len > this.capabilities.mtu) {
      this.#stats.dropsTooBig++;
      return null;
    }
    const buf = this.#queue.reserve(len);
    if (buf === null) {
      this.#stats.dropsQueueFull++;
      return null;
    }
    this.#pendingLen = len;
    return buf;
  }

  /**
   * Queues the frame of the last `transmit` for `receive`.
   *
   * @example
   * ```ts
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const lo = new Loopback();
   * lo.transmit(0, 1);
   * lo.commit();
   * assert.equal(lo.pending, 1);
   * ```
   */
  commit(): void {
    const len = this.#pendingLen;
    if (len < 0) return;
    this.#pendingLen = -1;
    const wasEmpty = this.#queue.isEmpty();
    this.#queue.commit();
    this.#stats.framesSent++;
    this.#stats.bytesSent += len;
    if (wasEmpty && this.#onReadable !== null) this.#onReadable();
  }

  /**
   * Registers the callback run when a frame is queued while none was pending (edge triggered).
   * It runs synchronously inside `commit`: keep it cheap and do not call into the device from
   * it. A new registration replaces the old one.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts
   * import { Loopback } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const lo = new Loopback();
   * let wakes = 0;
   * lo.onReadable(() => wakes++);
   * lo.transmit(0, 1);
   * lo.commit(); // runs the callback
   * lo.transmit(0, 1);
   * lo.commit(); // a frame was already pending: no new wake-up
   * assert.equal(wakes, 1);
   * ```
   */
  onReadable(callback: () => void): void {
    this.#onReadable = callback;
  }
}
