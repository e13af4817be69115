/**
 * Internal: {@linkcode FdDevice}, the common base class of {@linkcode TunTapDevice} and
 * {@linkcode RawSocketDevice} with the public `Device` methods, over the file-descriptor engine
 * of `_fd_engine.ts` (re-exported here for the adapters).
 *
 * Not exported from the phy layer's `mod.ts` except the base class, for the adapters' types.
 *
 * @module
 */

import type { DeadlineSource, Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import type { HostDeviceStats } from "./_libc.ts";
import type { Instant } from "../time.ts";
import type { FdEngine } from "./_fd_engine.ts";

export { FdEngine } from "./_fd_engine.ts";
export type { FdEngineOptions, FrameReceiver, FrameSender } from "./_fd_engine_options.ts";

/**
 * The part of {@linkcode TunTapDevice} and {@linkcode RawSocketDevice} that does not depend on
 * the kind of file descriptor: the `Device` and {@linkcode ReadinessHook} methods, counters,
 * lifecycle and `close()`, all served by one engine. A background loop awaits a non-blocking FFI
 * `poll()` on the device fd and an eventfd, then reads synchronously until EAGAIN into a bounded
 * ring of preallocated slots and runs the readiness callback; `receive` on an empty ring reads the
 * fd itself, and the loop waits again only after such a read found nothing. When the ring is full
 * it stops reading until `receive` frees a slot (the kernel's queue holds or drops meanwhile,
 * counted in `stats.rxQueueFull`). `commit` writes synchronously; a write that would block drops the frame
 * (`stats.dropsTxBusy`) — there is no transmit queue, unless a TUN/TAP device was opened with
 * `writerThread` (a bounded ring written by a Worker; a full ring refuses `transmit`). The one exception is a pure TCP ACK with
 * `coalesceAcks` (the default) committed while the stack takes a received burst: it waits until
 * `receive` finds nothing more or another frame is committed, and a newer ACK of the same
 * connection replaces it (`stats.acksCoalesced`).
 * Instances come from the adapters' `open`.
 *
 * @example
 * ```ts ignore
 * import { TunTapDevice } from "@smol/net/phy";
 * import type { FdDevice } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const dev: FdDevice = await TunTapDevice.open({ name: "tun0", mode: "tun" });
 * assert.equal(dev.capabilities.medium, "ip");
 * await dev.close();
 * assert.equal(dev.canTransmit(0), false);
 * ```
 */
export abstract class FdDevice implements Device, ReadinessHook, DeadlineSource {
  /** Medium, MTU (Ethernet medium includes the 14-byte header) and software checksums. */
  readonly capabilities: DeviceCapabilities;
  readonly #engine: FdEngine;

  /**
   * Wraps a running engine (the adapters' `open` builds it).
   *
   * @param engine The engine that owns the fd.
   */
  protected constructor(engine: FdEngine) {
    this.#engine = engine;
    this.capabilities = engine.capabilities;
  }

  /**
   * Counters; the object is live.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * const stats = dev.stats; // live: updated in place
   * assert.equal(dev.transmit(0, 100_000), null);
   * assert.equal(stats.dropsTooBig, 1);
   * await dev.close();
   * ```
   */
  get stats(): HostDeviceStats {
    return this.#engine.stats;
  }

  /**
   * Frames waiting in the receive ring.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * assert.equal(dev.pending, 0); // nothing read yet
   * await dev.close();
   * ```
   */
  get pending(): number {
    return this.#engine.pending;
  }

  /**
   * The segment size (virtio `gso_size`) of the TCP super-frame `receive` returned last: how many
   * bytes of TCP payload each segment the sender's kernel put into it carried (a TUN device
   * opened with `offload`). A router needs it to tell whether those segments fit the outgoing
   * link (RFC 1191 path MTU discovery). 0 when that frame was not a super-frame.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun", offload: true });
   * const f = dev.receive(0);
   * if (f !== null && f.length > dev.capabilities.mtu) assert.ok(dev.receivedSegmentSize > 0);
   * await dev.close();
   * ```
   */
  get receivedSegmentSize(): number {
    return this.#engine.receivedSegmentSize;
  }

  /**
   * Settles when the device stops: resolves after `close()`, rejects with the device error
   * (`Deno.errors.NotFound` when the interface was deleted, for example by `ip link del`).
   * Never rejects unobserved.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * await dev.close();
   * await dev.closed; // resolves: the device was closed, it did not fail
   * assert.equal(dev.error, null);
   * ```
   */
  get closed(): Promise<void> {
    return this.#engine.closed;
  }

  /**
   * The error that stopped the device, or `null`.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * assert.equal(dev.error, null);
   * await dev.close();
   * ```
   */
  get error(): Error | null {
    return this.#engine.error;
  }

  /**
   * The next received frame (an IP packet on TUN, an Ethernet frame on TAP and raw sockets),
   * valid until the next `receive`, or `null`.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * assert.equal(dev.receive(0), null); // nothing read yet
   * await dev.close();
   * ```
   */
  receive(now: Instant): Uint8Array | null {
    return this.#engine.receive(now);
  }

  /**
   * Whether a `transmit` would be accepted: `true` while the device is open.
   *
   * @param now The current instant.
   * @returns `false` after `close()` or a device error.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * assert.equal(dev.canTransmit(0), true);
   * await dev.close();
   * ```
   */
  canTransmit(now: Instant): boolean {
    return this.#engine.canTransmit(now);
  }

  /**
   * The device's single transmit buffer as a view of `len` bytes, or `null` when `len > mtu`
   * (counted in `dropsTooBig`) or the device is closed.
   *
   * @param now The current instant.
   * @param len The frame length (including the Ethernet header on Ethernet medium).
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * assert.equal(dev.transmit(0, 100_000), null);
   * await dev.close();
   * ```
   */
  transmit(now: Instant, len: number): Uint8Array | null {
    return this.#engine.transmit(now, len);
  }

  /**
   * Writes the frame of the last `transmit` synchronously. EAGAIN/ENOBUFS drop it
   * (`dropsTxBusy`); other failures (for example a TUN write that is not IPv4/IPv6) count in
   * `writeErrors`.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * const ip = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0xf6, 0xdd, 192, 0, 2, 2, 192, 0, 2, 1];
   * dev.transmit(0, 28)!.set([...ip, 8, 0, 0xf7, 0xff, 0, 0, 0, 0]); // an ICMP echo request
   * dev.commit();
   * assert.equal(dev.stats.framesSent, 1);
   * await dev.close();
   * ```
   */
  commit(): void {
    this.#engine.commit();
  }

  /**
   * Registers the callback run when frames arrive in an empty ring (edge triggered), and once
   * when the device fails. It must be cheap and must not call into the device.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * // As root: ip tuntap add tun0 mode tun && ip addr add 192.0.2.1/24 dev tun0 && ip link set tun0 up
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * const readable = new Promise<void>((resolve) => dev.onReadable(resolve));
   * while (dev.receive(0) !== null); // drain first: the callback runs on empty to non-empty
   * const udp = Deno.listenDatagram({ hostname: "192.0.2.1", port: 0, transport: "udp" });
   * await udp.send(new Uint8Array(1), { hostname: "192.0.2.2", port: 9, transport: "udp" });
   * await readable;
   * assert.ok(dev.pending > 0);
   * udp.close();
   * await dev.close();
   * ```
   */
  onReadable(callback: () => void): void {
    this.#engine.onReadable(callback);
  }

  /**
   * When the stack should poll again regardless of readiness: "now" (`-Infinity`) after a frame
   * larger than a pure ACK was written and before a read found the fd empty, since the kernel
   * queues its answer (the ACK to that data) inside the `write`; reading it on the next
   * event-loop turn saves the reader loop's poll round trip. `NEVER` otherwise (after an ACK the
   * kernel sends its data later, paced).
   *
   * @returns The instant.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * console.log(dev.nextDeadline()); // Infinity: nothing written yet
   * await dev.close();
   * ```
   */
  nextDeadline(): Instant {
    return this.#engine.nextDeadline();
  }

  /**
   * Stops the reader loop (through the eventfd), closes the fds and releases the FFI library. A
   * TUN/TAP interface that this process created (not persistent) disappears with it. Idempotent.
   *
   * @returns Settles when everything is released.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
   * await dev.close();
   * await dev.close(); // idempotent
   * assert.equal(dev.transmit(0, 20), null);
   * ```
   */
  close(): Promise<void> {
    return this.#engine.close();
  }

  /**
   * Same as `close()`, for `await using`.
   *
   * @returns Settles when everything is released.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
