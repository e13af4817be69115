/**
 * A sans-IO raw IP socket: receives whole IP packets (header included) of one IP version and
 * protocol, and sends whole IP packets the user built.
 *
 * @module
 */

import { PacketBuffer } from "../storage/packet_buffer.ts";
import { type Instant, NEVER } from "../time.ts";
import type { SocketContext } from "./context.ts";
import type { DatagramBufferOptions } from "./udp.ts";
import { wakeSocket } from "./waker.ts";

/**
 * What the interface gives {@linkcode RawSocket.dispatch} to send one packet.
 *
 * @example
 * ```ts
 * import { RawSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { RawEmitter } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const sent: number[] = [];
 * const emitter: RawEmitter = { emitRaw: (version, packet) => (sent.push(version, packet.length), true) };
 * const raw = new RawSocket({ version: 4, protocol: 253 });
 * raw.send(new Uint8Array(20));
 * assert.equal(raw.dispatch(cx, emitter), true);
 * assert.deepEqual(sent, [4, 20]);
 * ```
 */
export interface RawEmitter {
  /**
   * Routes and sends a whole IP packet.
   *
   * @param version 4 or 6.
   * @param packet The IP packet, header included.
   * @returns `false` when the device is full: the packet stays queued.
   */
  emitRaw(version: 4 | 6, packet: Uint8Array): boolean;
}

/**
 * What {@linkcode RawSocket.recv} returns.
 *
 * @example
 * ```ts
 * import { RawSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { RawRecvResult } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const raw = new RawSocket({ version: 4, protocol: 253 });
 * raw.process(cx, new Uint8Array(24));
 * const r: RawRecvResult | null = raw.recv(new Uint8Array(20));
 * assert.deepEqual(r, { length: 20, truncated: true }); // the last 4 bytes are lost
 * ```
 */
export interface RawRecvResult {
  /** Bytes copied. */
  readonly length: number;
  /** Whether the packet was longer than the buffer. */
  readonly truncated: boolean;
}

/**
 * A raw socket for one IP version and protocol number.
 *
 * @example
 * ```ts
 * import { RawSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const raw = new RawSocket({ version: 4, protocol: 253 }); // RFC 3692 experimentation
 * assert.equal(raw.version, 4);
 * assert.equal(raw.protocol, 253);
 * ```
 */
export class RawSocket {
  readonly #version: 4 | 6;
  readonly #protocol: number;
  readonly #rx: PacketBuffer<null>;
  readonly #tx: PacketBuffer<null>;
  #rxDropped = 0;

  /**
   * Creates a raw socket.
   *
   * @param options `version` and `protocol` (the IPv4 protocol or the IPv6 upper-layer next
   * header), and queue sizes.
   * @throws {RangeError} When the version or protocol is invalid.
   */
  constructor(options: { version: 4 | 6; protocol: number } & DatagramBufferOptions) {
    if (options.version !== 4 && options.version !== 6) {
      throw new RangeError(`Invalid IP version ${options.version}`);
    }
    if (!Number.isInteger(options.protocol) || options.protocol < 0 || options.protocol > 255) {
      throw new RangeError(`Invalid IP protocol ${options.protocol}`);
    }
    this.#version = options.version;
    this.#protocol = options.protocol;
    this.#rx = new PacketBuffer({
      slots: options.rxSlots ?? 16,
      bytes: options.rxBytes ?? 64 * 1024,
    });
    this.#tx = new PacketBuffer({
      slots: options.txSlots ?? 16,
      bytes: options.txBytes ?? 64 * 1024,
    });
  }

  /** The IP version. */
  get version(): 4 | 6 {
    return this.#version;
  }

  /** The protocol / next header number. */
  get protocol(): number {
    return this.#protocol;
  }

  /** Packets dropped on ingress because the receive queue was full. */
  get rxDropped(): number {
    return this.#rxDropped;
  }

  /**
   * Whether a packet is waiting.
   *
   * @returns `true` when `recv` would return a packet.
   *
   * @example
   * ```ts
   * import { RawSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new RawSocket({ version: 6, protocol: 253 }).canRecv(), false);
   * ```
   */
  canRecv(): boolean {
    return !this.#rx.isEmpty();
  }

  /**
   * Queues a whole IP packet to send. The interface routes it by its destination address and
   * sends it as is (fragmenting an oversized IPv4 packet); the caller fills every header field
   * including the IPv4 header checksum.
   *
   * @param packet The IP packet (copied).
   * @returns `false` when the send queue is full.
   * @throws {RangeError} When the packet is larger than the send queue.
   *
   * @example
   * ```ts
   * import { RawSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const raw = new RawSocket({ version: 4, protocol: 253 });
   * assert.equal(raw.send(new Uint8Array(20)), true);
   * ```
   */
  send(packet: Uint8Array): boolean {
    if (packet.length > 65535 || packet.length > this.#tx.byteCapacity) {
      throw new RangeError(`Raw packet of ${packet.length} bytes is too large`);
    }
    const region = this.#tx.enqueue(packet.length, null);
    if (region === null) return false;
    region.set(packet);
    wakeSocket(this);
    return true;
  }

  /**
   * Takes the next received IP packet.
   *
   * @param buffer Where to copy it.
   * @returns The length, or `null` when none is waiting.
   *
   * @example
   * ```ts
   * import { RawSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new RawSocket({ version: 4, protocol: 253 }).recv(new Uint8Array(100)), null);
   * ```
   */
  recv(buffer: Uint8Array): RawRecvResult | null {
    const d = this.#rx.dequeue();
    if (d === null) return null;
    const n = Math.min(buffer.length, d.payload.length);
    buffer.set(d.payload.subarray(0, n));
    return { length: n, truncated: n < d.payload.length };
  }

  /**
   * Ingress: a whole IP packet of this socket's version and protocol.
   *
   * @param _cx The poll context.
   * @param packet The packet, header included (copied).
   * @returns `false` when the receive queue is full.
   *
   * @example
   * ```ts
   * import { RawSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const raw = new RawSocket({ version: 4, protocol: 253 });
   * raw.process(cx, new Uint8Array(24));
   * assert.equal(raw.recv(new Uint8Array(100))?.length, 24);
   * ```
   */
  process(_cx: SocketContext, packet: Uint8Array): boolean {
    const region = this.#rx.enqueue(packet.length, null);
    if (region === null) {
      this.#rxDropped++;
      return false;
    }
    region.set(packet);
    return true;
  }

  /**
   * Egress: sends the oldest queued packet.
   *
   * @param _cx The poll context.
   * @param emitter The interface's emitter.
   * @returns `true` when a packet left the queue.
   *
   * @example
   * ```ts
   * import { RawSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const raw = new RawSocket({ version: 4, protocol: 253 });
   * raw.send(new Uint8Array(20));
   * assert.equal(raw.dispatch(cx, { emitRaw: () => true }), true);
   * ```
   */
  dispatch(_cx: SocketContext, emitter: RawEmitter): boolean {
    const d = this.#tx.peek();
    if (d === null) return false;
    if (!emitter.emitRaw(this.#version, d.payload)) return false;
    this.#tx.dequeue();
    return true;
  }

  /**
   * When the socket next wants `dispatch`.
   *
   * @param cx The poll context.
   * @returns `cx.now` when a packet is queued, otherwise `NEVER`.
   *
   * @example
   * ```ts
   * import { RawSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * assert.equal(new RawSocket({ version: 4, protocol: 253 }).pollAt(cx), Infinity);
   * ```
   */
  pollAt(cx: SocketContext): Instant {
    return this.#tx.isEmpty() ? NEVER : cx.now;
  }
}
