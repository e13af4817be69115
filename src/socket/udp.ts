/**
 * A sans-IO UDP socket: bound to a local endpoint, with bounded datagram queues in each direction.
 * `send` only queues; the datagram leaves when the interface is polled and calls
 * {@linkcode UdpSocket.dispatch}. Ingress arrives through {@linkcode UdpSocket.process}.
 *
 * @module
 */

import { checkPort } from "../_validate.ts";
import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import { PacketBuffer } from "../storage/packet_buffer.ts";
import { type Instant, NEVER } from "../time.ts";
import type { SocketContext } from "./context.ts";
import type { IcmpErrorInfo } from "./icmp.ts";
import { wakeSocket } from "./waker.ts";

/** The largest UDP payload an IPv4 datagram can carry (65535 - 20 - 8). */
const MAX_UDP_PAYLOAD = 65507;

/**
 * Sizes of a datagram socket's queues.
 *
 * @example
 * ```ts
 * import { UdpSocket } from "@smol/net/socket";
 * import type { DatagramBufferOptions } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const opts: DatagramBufferOptions = { txSlots: 1, txBytes: 1024 };
 * const s = new UdpSocket(opts);
 * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 4000 });
 * const dst = { addr: Ipv4Address.parse("192.0.2.1"), port: 7 };
 * assert.equal(s.send(new Uint8Array(10), dst), true);
 * assert.equal(s.send(new Uint8Array(10), dst), false); // one slot: the queue is full
 * ```
 */
export interface DatagramBufferOptions {
  /** Datagrams the receive queue holds; default 64. */
  readonly rxSlots?: number;
  /** Payload bytes the receive queue holds; default 256 KiB. */
  readonly rxBytes?: number;
  /** Datagrams the send queue holds; default 64. */
  readonly txSlots?: number;
  /** Payload bytes the send queue holds; default 256 KiB. */
  readonly txBytes?: number;
}

/**
 * Where a queued or received UDP datagram goes to or comes from.
 *
 * @example
 * ```ts
 * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
 * import type { UdpMetadata } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const meta: UdpMetadata = { remote: { addr: Ipv4Address.parse("192.0.2.1"), port: 53 }, local: null };
 * const s = new UdpSocket();
 * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5353 });
 * s.send(new Uint8Array(1), meta.remote); // no localAddr: the interface picks the source
 * let sent: UdpMetadata | null = null;
 * s.dispatch(cx, { emitUdp: (local, _port, remote) => (sent = { remote, local }, true) });
 * assert.deepEqual(sent, meta);
 * ```
 */
export interface UdpMetadata {
  /** The peer: the sender of a received datagram, the destination of a sent one. */
  readonly remote: IpEndpoint;
  /** The local address: the destination of a received datagram; for a sent one the source to use, or `null` to let the interface choose. */
  readonly local: IpAddress | null;
}

/**
 * What {@linkcode UdpSocket.recv} returns for one datagram.
 *
 * @example
 * ```ts
 * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
 * import type { UdpRecvResult } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function show(r: UdpRecvResult): string {
 *   return `${r.length} of ${r.datagramLength} bytes${r.truncated ? " (truncated)" : ""}`;
 * }
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const s = new UdpSocket();
 * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
 * const from = { addr: Ipv4Address.parse("192.0.2.1"), port: 1000 };
 * s.process(cx, from, Ipv4Address.parse("192.0.2.2"), new Uint8Array(3));
 * const r = s.recv(new Uint8Array(2))!;
 * assert.equal(show(r), "2 of 3 bytes (truncated)");
 * assert.equal(r.remote.port, 1000);
 * ```
 */
export interface UdpRecvResult {
  /** Bytes copied into the caller's buffer. */
  readonly length: number;
  /** The datagram's full payload length. */
  readonly datagramLength: number;
  /** Whether the datagram was longer than the buffer (the rest is lost). */
  readonly truncated: boolean;
  /** The sender. */
  readonly remote: IpEndpoint;
  /** The address the datagram was sent to. */
  readonly local: IpAddress;
}

/**
 * What the interface gives {@linkcode UdpSocket.dispatch} to send one datagram.
 *
 * @example
 * ```ts
 * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
 * import type { UdpEmitter } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const sent: number[] = [];
 * let room = false;
 * const emitter: UdpEmitter = {
 *   emitUdp(_src, _srcPort, _dst, payload) {
 *     if (room) sent.push(payload.length);
 *     return room; // false: the device is full and the datagram stays queued
 *   },
 * };
 * const s = new UdpSocket();
 * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
 * s.send(new Uint8Array(4), { addr: Ipv4Address.parse("192.0.2.1"), port: 7 });
 * assert.equal(s.dispatch(cx, emitter), false);
 * room = true;
 * assert.equal(s.dispatch(cx, emitter), true);
 * assert.deepEqual(sent, [4]);
 * ```
 */
export interface UdpEmitter {
  /**
   * Sends one datagram.
   *
   * @param src The source address, or `null` for the interface's choice.
   * @param srcPort The source port.
   * @param dst The destination.
   * @param payload The UDP payload.
   * @returns `false` when the device is full: the datagram stays queued. `true` when it was sent
   * or dropped for good (no route): either way the socket moves on.
   */
  emitUdp(src: IpAddress | null, srcPort: number, dst: IpEndpoint, payload: Uint8Array): boolean;
}

/**
 * A UDP socket. Bind it through the interface (`iface.bindUdp`) so that it is demultiplexed and
 * port 0 picks a free port; then `send` / `recv` datagrams with endpoint metadata.
 *
 * @example
 * ```ts
 * import { UdpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const sock = new UdpSocket({ rxSlots: 4, txSlots: 4 });
 * sock.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5353 });
 * assert.equal(sock.send(new Uint8Array([1, 2]), { addr: Ipv4Address.parse("192.0.2.1"), port: 53 }), true);
 * ```
 */
export class UdpSocket {
  #local: IpEndpoint | null = null;
  readonly #rx: PacketBuffer<UdpRxMeta>;
  readonly #tx: PacketBuffer<UdpMetadata>;
  #error: IcmpErrorInfo | null = null;
  #rxDropped = 0;
  /** The hop limit (TTL) for sent datagrams, or `null` for the interface default. */
  hopLimit: number | null = null;

  /**
   * Creates an unbound socket.
   *
   * @param options Queue sizes.
   */
  constructor(options: DatagramBufferOptions = {}) {
    this.#rx = new PacketBuffer({
      slots: options.rxSlots ?? 64,
      bytes: options.rxBytes ?? 256 * 1024,
    });
    this.#tx = new PacketBuffer({
      slots: options.txSlots ?? 64,
      bytes: options.txBytes ?? 256 * 1024,
    });
  }

  /** The bound local endpoint (an unspecified address means any local address), or `null`. */
  get endpoint(): IpEndpoint | null {
    return this.#local;
  }

  /** Whether the socket is bound. */
  get isOpen(): boolean {
    return this.#local !== null;
  }

  /** Datagrams dropped on ingress because the receive queue was full. */
  get rxDropped(): number {
    return this.#rxDropped;
  }

  /**
   * Binds to `local`. Prefer `iface.bindUdp`, which also indexes the socket and resolves port 0.
   *
   * @param local The local endpoint; an unspecified address accepts any local address of its family.
   * @throws {RangeError} When the port is not in 1–65535.
   * @throws {TypeError} When the socket is already bound.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv6Address.UNSPECIFIED, port: 9 });
   * assert.equal(s.endpoint?.port, 9);
   * ```
   */
  bind(local: IpEndpoint): void {
    checkPort("port", local.port, 1);
    if (this.#local !== null) {
      throw new TypeError(`UDP socket is already bound to port ${this.#local.port}`);
    }
    this.#local = { addr: local.addr, port: local.port };
  }

  /**
   * Unbinds and empties both queues. Remove the socket from its set (or call `iface.unbindUdp`) so
   * that the port is free again.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 7 });
   * s.close();
   * assert.equal(s.isOpen, false);
   * ```
   */
  close(): void {
    this.#local = null;
    this.#rx.clear();
    this.#tx.clear();
    this.#error = null;
  }

  /**
   * Whether a datagram is waiting in the receive queue.
   *
   * @returns `true` when `recv` would return a datagram.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new UdpSocket().canRecv(), false);
   * ```
   */
  canRecv(): boolean {
    return !this.#rx.isEmpty();
  }

  /**
   * Whether the send queue has a free slot (a datagram may still not fit by bytes).
   *
   * @returns `true` when the send queue is not full.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new UdpSocket().canSend(), true);
   * ```
   */
  canSend(): boolean {
    return !this.#tx.isFull();
  }

  /**
   * Queues one datagram for `remote`.
   *
   * @param data The payload (copied).
   * @param remote The destination.
   * @param options `localAddr`: the source address to use (default: the bound address, or the
   * interface's choice when bound to an unspecified address).
   * @returns `false` when the send queue is full (try again after a poll).
   * @throws {TypeError} When the socket is not bound or the families differ.
   * @throws {RangeError} When the remote port is not from 1 to 65535.
   * @throws {RangeError} When the datagram is larger than UDP allows or than the send queue.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 4000 });
   * assert.equal(s.send(new Uint8Array(10), { addr: Ipv4Address.parse("192.0.2.9"), port: 7 }), true);
   * ```
   */
  send(data: Uint8Array, remote: IpEndpoint, options: { localAddr?: IpAddress } = {}): boolean {
    const local = this.#local;
    if (local === null) throw new TypeError("UDP socket is not bound");
    checkPort("destination port", remote.port, 1);
    if (data.length > MAX_UDP_PAYLOAD) {
      throw new RangeError(`UDP payload of ${data.length} bytes exceeds ${MAX_UDP_PAYLOAD}`);
    }
    if (data.length > this.#tx.byteCapacity) {
      throw new RangeError(
        `UDP payload of ${data.length} bytes exceeds the send queue of ${this.#tx.byteCapacity}`,
      );
    }
    const src = options.localAddr ?? (local.addr.isUnspecified ? null : local.addr);
    if (src !== null && src.version !== remote.addr.version) {
      throw new TypeError(`Cannot send from ${src} to ${remote.addr}: address families differ`);
    }
    const region = this.#tx.enqueue(data.length, { remote, local: src });
    if (region === null) return false;
    region.set(data);
    wakeSocket(this);
    return true;
  }

  /**
   * Takes the next received datagram, copying as much as fits into `buffer`.
   *
   * @param buffer Where to copy the payload.
   * @returns The length and endpoints, or `null` when the queue is empty.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new UdpSocket().recv(new Uint8Array(1500)), null);
   * ```
   */
  recv(buffer: Uint8Array): UdpRecvResult | null {
    const d = this.#rx.dequeue();
    if (d === null) return null;
    const n = Math.min(buffer.length, d.payload.length);
    buffer.set(n === d.payload.length ? d.payload : d.payload.subarray(0, n));
    return {
      length: n,
      datagramLength: d.payload.length,
      truncated: n < d.payload.length,
      remote: d.meta.remote,
      local: d.meta.local,
    };
  }

  /**
   * The last ICMP error reported for a datagram this socket sent, cleared by the call.
   *
   * @returns The error, or `null`.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new UdpSocket().takeError(), null);
   * ```
   */
  takeError(): IcmpErrorInfo | null {
    const e = this.#error;
    this.#error = null;
    return e;
  }

  /**
   * Whether a datagram sent to `dst` belongs to this socket (the interface already matched the port).
   *
   * @param dst The datagram's destination address.
   * @returns `true` when bound to that address or to the unspecified address of its family.
   *
   * @example
   * ```ts
   * import { UdpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
   * assert.equal(s.accepts(Ipv4Address.parse("192.0.2.1")), true);
   * ```
   */
  accepts(dst: IpAddress): boolean {
    const l = this.#local;
    if (l === null) return false;
    return l.addr.isUnspecified ? l.addr.version === dst.version : l.addr.equals(dst);
  }

  /**
   * Ingress: queues a datagram the interface demultiplexed to this socket.
   *
   * @param _cx The poll context.
   * @param src The sender.
   * @param dst The destination address.
   * @param payload The UDP payload (copied).
   * @returns `false` when the receive queue is full (the datagram is dropped and counted).
   *
   * @example
   * ```ts
   * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
   * s.process(cx, { addr: Ipv4Address.parse("192.0.2.1"), port: 1000 }, Ipv4Address.parse("192.0.2.2"), new Uint8Array(3));
   * assert.equal(s.recv(new Uint8Array(2))?.truncated, true);
   * ```
   */
  process(_cx: SocketContext, src: IpEndpoint, dst: IpAddress, payload: Uint8Array): boolean {
    const region = this.#rx.enqueue(payload.length, { remote: src, local: dst });
    if (region === null) {
      this.#rxDropped++;
      return false;
    }
    region.set(payload);
    return true;
  }

  /**
   * Ingress: an ICMP error quoting a datagram this socket sent.
   *
   * @param _cx The poll context.
   * @param error The error.
   *
   * @example
   * ```ts
   * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new UdpSocket();
   * const a = Ipv4Address.parse("192.0.2.1");
   * s.processError(cx, { version: 4, type: 3, code: 3, from: a, local: { addr: a, port: 1 }, remote: { addr: a, port: 2 }, mtu: null });
   * assert.equal(s.takeError()?.code, 3);
   * ```
   */
  processError(_cx: SocketContext, error: IcmpErrorInfo): void {
    this.#error = error;
  }

  /**
   * Egress: sends the oldest queued datagram through `emitter`.
   *
   * @param _cx The poll context.
   * @param emitter The interface's emitter.
   * @returns `true` when a datagram left the queue.
   *
   * @example
   * ```ts
   * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new UdpSocket();
   * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
   * s.send(new Uint8Array(4), { addr: Ipv4Address.parse("192.0.2.1"), port: 7 });
   * assert.equal(s.dispatch(cx, { emitUdp: () => true }), true);
   * ```
   */
  dispatch(_cx: SocketContext, emitter: UdpEmitter): boolean {
    const local = this.#local;
    if (local === null) return false;
    const d = this.#tx.peek();
    if (d === null) return false;
    if (!emitter.emitUdp(d.meta.local, local.port, d.meta.remote, d.payload)) return false;
    this.#tx.dequeue();
    return true;
  }

  /**
   * When the socket next wants `dispatch`.
   *
   * @param cx The poll context.
   * @returns `cx.now` when a datagram is queued, otherwise `NEVER`.
   *
   * @example
   * ```ts
   * import { TokenBucket, UdpSocket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 5, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * assert.equal(new UdpSocket().pollAt(cx), Infinity);
   * ```
   */
  pollAt(cx: SocketContext): Instant {
    return this.#local !== null && !this.#tx.isEmpty() ? cx.now : NEVER;
  }
}

interface UdpRxMeta {
  readonly remote: IpEndpoint;
  readonly local: IpAddress;
}
