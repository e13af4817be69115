/**
 * {@linkcode Tracer}: a device wrapper that reports every received and transmitted frame to a
 * callback, and {@linkcode stderrTracer}, which prints one line per frame.
 *
 * @module
 */

import type { Device, Medium } from "./device.ts";
import { DeviceWrapper } from "./wrapper.ts";
import type { Instant } from "../time.ts";
import { prettyPrint } from "../wire/pretty_print.ts";

/**
 * Renders a frame as one line of text.
 *
 * @example
 * ```ts
 * import { Loopback, Tracer } from "@smol/net/phy";
 * import type { FrameFormatter } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const lengthOnly: FrameFormatter = (frame, medium) => `${medium} ${frame.length} bytes`;
 * const lines: string[] = [];
 * const dev = new Tracer(new Loopback(), (e) => lines.push(e.format()), { formatFrame: lengthOnly });
 * dev.transmit(0, 20);
 * dev.commit();
 * assert.deepEqual(lines, ["ip 20 bytes"]);
 * ```
 */
export type FrameFormatter = (frame: Uint8Array, medium: Medium) => string;

/**
 * One frame seen by a {@linkcode Tracer}. The tracer reuses a single event object: the event and
 * its `frame` are valid only during the `onFrame` call (copy what you keep).
 *
 * @example
 * ```ts
 * import { Loopback, Tracer } from "@smol/net/phy";
 * import type { TraceEvent } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const seen: string[] = [];
 * const log = (e: TraceEvent): void => void seen.push(`${e.now} ${e.direction} ${e.frame.length}`);
 * const dev = new Tracer(new Loopback(), log);
 * dev.transmit(7, 3);
 * dev.commit();
 * dev.receive(9);
 * assert.deepEqual(seen, ["7 tx 3", "9 rx 3"]);
 * ```
 */
export interface TraceEvent {
  /** `rx` for a received frame, `tx` for a transmitted one. */
  readonly direction: "rx" | "tx";
  /** The `now` given to `receive` / `transmit`. */
  readonly now: Instant;
  /** The frame bytes (for `tx`, as filled by the caller just before `commit`). */
  readonly frame: Uint8Array;
  /** The device's medium. */
  readonly medium: Medium;
  /**
   * The frame rendered by the tracer's `formatFrame`.
   *
   * @returns One line of text.
   */
  format(): string;
}

/**
 * Options for {@linkcode Tracer}.
 *
 * @example
 * ```ts
 * import { Loopback, Tracer } from "@smol/net/phy";
 * import type { TracerOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: TracerOptions = { formatFrame: (f) => `${f.length}` };
 * let line = "";
 * const dev = new Tracer(new Loopback(), (e) => line = e.format(), opts);
 * dev.transmit(0, 5);
 * dev.commit();
 * assert.equal(line, "5");
 * ```
 */
export interface TracerOptions {
  /**
   * How `event.format()` renders a frame; default: the wire layer's tcpdump-style `prettyPrint`
   * (`IP 192.0.2.1.1000 > 192.0.2.2.7: UDP, length 0`). {@linkcode formatHex} shows raw bytes.
   */
  formatFrame?: FrameFormatter;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX_BYTES = 64;

/**
 * A frame formatter showing raw bytes: medium, length and the first 64 bytes in hex.
 *
 * @param frame The frame.
 * @param medium The device's medium.
 * @returns One line, such as `ip 3 bytes 450000`.
 *
 * @example
 * ```ts
 * import { formatHex } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(formatHex(new Uint8Array([0x45, 0, 0]), "ip"), "ip 3 bytes 450000");
 * assert.ok(formatHex(new Uint8Array(100), "ethernet").endsWith("…")); // only 64 bytes shown
 * ```
 */
export function formatHex(frame: Uint8Array, medium: Medium): string {
  const n = frame.length < HEX_BYTES ? frame.length : HEX_BYTES;
  let hex = "";
  for (let i = 0; i < n; i++) hex += HEX[frame[i]!]!;
  return `${medium} ${frame.length} bytes ${hex}${frame.length > n ? "…" : ""}`;
}

/** The reused event object. */
class Event implements TraceEvent {
  direction: "rx" | "tx" = "rx";
  now: Instant = 0;
  frame: Uint8Array = new Uint8Array(0);
  readonly medium: Medium;
  readonly #format: FrameFormatter;

  constructor(medium: Medium, format: FrameFormatter) {
    this.medium = medium;
    this.#format = format;
  }

  format(): string {
    return this.#format(this.frame, this.medium);
  }
}

/**
 * A device wrapper that calls `onFrame` for every frame: received ones as `receive` returns them,
 * transmitted ones at `commit` (once filled, before the inner device sends them). Readiness and
 * deadlines are forwarded to the inner device. The callback must not call into the device.
 *
 * @example
 * ```ts
 * import { formatHex, Loopback, Tracer } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = (e: { direction: string; format(): string }) => lines.push(`${e.direction} ${e.format()}`);
 * const dev = new Tracer(new Loopback(), log, { formatFrame: formatHex });
 * dev.transmit(0, 2)!.set([1, 2]); // nothing yet
 * dev.commit(); // tx ip 2 bytes 0102
 * dev.receive(0); // rx ip 2 bytes 0102
 * assert.deepEqual(lines, ["tx ip 2 bytes 0102", "rx ip 2 bytes 0102"]);
 * ```
 */
export class Tracer extends DeviceWrapper {
  readonly #onFrame: (event: TraceEvent) => void;
  readonly #event: Event;
  #pending: Uint8Array | null = null;
  #pendingNow: Instant = 0;

  /**
   * Wraps `inner`.
   *
   * @param inner The device to observe.
   * @param onFrame Called once per frame with the reused event.
   * @param options The frame formatter behind `event.format()`.
   */
  constructor(inner: Device, onFrame: (event: TraceEvent) => void, options: TracerOptions = {}) {
    super(inner);
    this.#onFrame = onFrame;
    this.#event = new Event(inner.capabilities.medium, options.formatFrame ?? prettyPrint);
  }

  /**
   * The inner device's next frame, reported as `rx`.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { Loopback, Tracer } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new Tracer(new Loopback(), () => {}).receive(0), null);
   * ```
   */
  override receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame !== null) this.#emit("rx", now, frame);
    return frame;
  }

  /**
   * The inner device's buffer; the frame is reported at `commit`.
   *
   * @param now The current instant.
   * @param len The frame length.
   * @returns The buffer or `null`.
   *
   * @example
   * ```ts
   * import { Loopback, Tracer } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new Tracer(new Loopback(), () => {}).transmit(0, 4)?.length, 4);
   * ```
   */
  override transmit(now: Instant, len: number): Uint8Array | null {
    const buf = this.inner.transmit(now, len);
    this.#pending = buf;
    this.#pendingNow = now;
    return buf;
  }

  /**
   * Reports the filled frame as `tx`, then commits it to the inner device.
   *
   * @example
   * ```ts
   * import { Loopback, Tracer } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * let seen = 0;
   * const dev = new Tracer(new Loopback(), () => seen++);
   * dev.transmit(0, 1);
   * dev.commit();
   * assert.equal(seen, 1);
   * ```
   */
  override commit(): void {
    const buf = this.#pending;
    if (buf === null) return;
    this.#pending = null;
    this.#emit("tx", this.#pendingNow, buf);
    this.inner.commit();
  }

  #emit(direction: "rx" | "tx", now: Instant, frame: Uint8Array): void {
    const e = this.#event;
    e.direction = direction;
    e.now = now;
    e.frame = frame;
    this.#onFrame(e);
  }
}

/**
 * A {@linkcode Tracer} that writes `"<now> rx|tx <line>"` to standard error for every frame.
 *
 * @param inner The device to observe.
 * @param options The frame formatter.
 * @returns The tracer.
 *
 * @example
 * ```ts
 * import { Loopback, stderrTracer } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const udp = [69, 0, 0, 28, 0, 1, 0, 0, 64, 17, 246, 204, 192, 0, 2, 1, 192, 0, 2, 2, 3, 232, 0, 7, 0, 8, 0, 0];
 * const dev = stderrTracer(new Loopback());
 * dev.transmit(5, udp.length)!.set(udp);
 * dev.commit(); // stderr: 5 tx IP 192.0.2.1.1000 > 192.0.2.2.7: UDP, length 0
 * assert.deepEqual(dev.receive(5), new Uint8Array(udp)); // stderr: 5 rx IP ...; the frame is unchanged
 * ```
 */
export function stderrTracer(inner: Device, options: TracerOptions = {}): Tracer {
  const encoder = new TextEncoder();
  return new Tracer(inner, (e) => {
    const bytes = encoder.encode(`${e.now} ${e.direction} ${e.format()}\n`);
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  }, options);
}
