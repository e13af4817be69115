/**
 * A sans-IO ICMP echo socket (ping): bound to an echo identifier, it sends echo requests and
 * receives the matching echo replies and the ICMP errors that quote its requests.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import { PacketBuffer } from "../storage/packet_buffer.ts";
import { type Instant, NEVER } from "../time.ts";
import type { SocketContext } from "./context.ts";
import type { DatagramBufferOptions } from "./udp.ts";
import { wakeSocket } from "./waker.ts";

/**
 * An ICMP error (destination unreachable, time exceeded, packet too big, parameter problem) about
 * a packet one of our sockets sent, as delivered to that socket.
 *
 * @example
 * ```ts
 * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { IcmpErrorInfo } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function isHostUnreachable(e: IcmpErrorInfo): boolean {
 *   return e.version === 4 ? e.type === 3 && e.code === 1 : e.type === 1 && e.code === 3;
 * }
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const s = new IcmpSocket();
 * s.bind(7);
 * const a = Ipv4Address.parse("192.0.2.1");
 * const b = Ipv4Address.parse("192.0.2.9");
 * s.processError(cx, { version: 4, type: 3, code: 1, from: a, local: { addr: a, port: 7 }, remote: { addr: b, port: 7 }, mtu: null }, 1);
 * const error = s.recv(new Uint8Array(0))?.error;
 * assert.ok(error && isHostUnreachable(error));
 * ```
 */
export interface IcmpErrorInfo {
  /** 4 for ICMPv4, 6 for ICMPv6. */
  readonly version: 4 | 6;
  /** The ICMP type. */
  readonly type: number;
  /** The ICMP code. */
  readonly code: number;
  /** The node that sent the error. */
  readonly from: IpAddress;
  /** Our side of the quoted packet (for echo, the port is the identifier). */
  readonly local: IpEndpoint;
  /** The destination of the quoted packet (for echo, the port is the identifier). */
  readonly remote: IpEndpoint;
  /** The next-hop MTU of a "fragmentation needed" / "packet too big" error, else `null`. */
  readonly mtu: number | null;
}

/**
 * What {@linkcode IcmpSocket.recv} returns: an echo reply or an error about one of our requests.
 *
 * @example
 * ```ts
 * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { IcmpRecvResult } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function rtt(r: IcmpRecvResult, sentAt: number, now: number): number | null {
 *   return r.kind === "echoReply" ? now - sentAt : null;
 * }
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const s = new IcmpSocket();
 * s.bind(7);
 * s.processEchoReply(cx, Ipv4Address.parse("192.0.2.1"), 1, new Uint8Array(8));
 * const r = s.recv(new Uint8Array(64))!;
 * assert.equal(r.length, 8);
 * assert.equal(rtt(r, 100, 112), 12);
 * ```
 */
export interface IcmpRecvResult {
  /** `"echoReply"` or `"error"`. */
  readonly kind: "echoReply" | "error";
  /** Bytes of echo data copied into the caller's buffer (0 for errors). */
  readonly length: number;
  /** Whether the echo data was longer than the buffer. */
  readonly truncated: boolean;
  /** Who sent the reply or the error. */
  readonly remote: IpAddress;
  /** The echo sequence number (of the reply, or of the request the error quotes). */
  readonly seq: number;
  /** The error, for `kind === "error"`, else `null`. */
  readonly error: IcmpErrorInfo | null;
}

/**
 * What the interface gives {@linkcode IcmpSocket.dispatch} to send one echo request.
 *
 * @example
 * ```ts
 * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { IcmpEmitter } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const sent: string[] = [];
 * const emitter: IcmpEmitter = {
 *   emitEchoRequest: (_src, dst, ident, seq) => (sent.push(`${dst} ${ident} ${seq}`), true),
 * };
 * const s = new IcmpSocket();
 * s.bind(7);
 * s.sendEcho(Ipv4Address.parse("192.0.2.1"), 1, new Uint8Array(8));
 * s.dispatch(cx, emitter);
 * assert.deepEqual(sent, ["192.0.2.1 7 1"]);
 * ```
 */
export interface IcmpEmitter {
  /**
   * Sends an ICMPv4 or ICMPv6 echo request (the family follows `dst`).
   *
   * @param src The source address, or `null` for the interface's choice.
   * @param dst The destination.
   * @param ident The echo identifier.
   * @param seq The sequence number.
   * @param data The echo data.
   * @returns `false` when the device is full: the request stays queued.
   */
  emitEchoRequest(
    src: IpAddress | null,
    dst: IpAddress,
    ident: number,
    seq: number,
    data: Uint8Array,
  ): boolean;
}

interface TxMeta {
  readonly remote: IpAddress;
  readonly local: IpAddress | null;
  readonly seq: number;
}

interface RxMeta {
  readonly kind: "echoReply" | "error";
  readonly remote: IpAddress;
  readonly seq: number;
  readonly error: IcmpErrorInfo | null;
}

/**
 * An echo socket. Bind an identifier through the interface (`iface.bindIcmp`), then
 * `sendEcho` / `recv`.
 *
 * @example
 * ```ts
 * import { IcmpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const ping = new IcmpSocket();
 * ping.bind(0x1234);
 * ping.sendEcho(Ipv4Address.parse("192.0.2.1"), 1, new TextEncoder().encode("hello"));
 * assert.equal(ping.ident, 4660);
 * ```
 */
export class IcmpSocket {
  #ident: number | null = null;
  readonly #rx: PacketBuffer<RxMeta>;
  readonly #tx: PacketBuffer<TxMeta>;
  #rxDropped = 0;

  /**
   * Creates an unbound socket.
   *
   * @param options Queue sizes.
   */
  constructor(options: DatagramBufferOptions = {}) {
    this.#rx = new PacketBuffer({
      slots: options.rxSlots ?? 16,
      bytes: options.rxBytes ?? 64 * 1024,
    });
    this.#tx = new PacketBuffer({
      slots: options.txSlots ?? 16,
      bytes: options.txBytes ?? 64 * 1024,
    });
  }

  /** The bound echo identifier, or `null`. */
  get ident(): number | null {
    return this.#ident;
  }

  /** Whether the socket is bound. */
  get isOpen(): boolean {
    return this.#ident !== null;
  }

  /** Messages dropped on ingress because the receive queue was full. */
  get rxDropped(): number {
    return this.#rxDropped;
  }

  /**
   * Binds an echo identifier. Prefer `iface.bindIcmp`, which also indexes the socket.
   *
   * @param ident The identifier, 0–65535.
   * @throws {RangeError} When the identifier is out of range.
   * @throws {TypeError} When the socket is already bound.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const s = new IcmpSocket();
   * s.bind(7);
   * assert.equal(s.isOpen, true);
   * ```
   */
  bind(ident: number): void {
    if (!Number.isInteger(ident) || ident < 0 || ident > 0xffff) {
      throw new RangeError(`Invalid ICMP echo identifier ${ident}`);
    }
    if (this.#ident !== null) throw new TypeError(`ICMP socket is already bound to ${this.#ident}`);
    this.#ident = ident;
  }

  /**
   * Unbinds and empties both queues.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const s = new IcmpSocket();
   * s.bind(1);
   * s.close();
   * assert.equal(s.ident, null);
   * ```
   */
  close(): void {
    this.#ident = null;
    this.#rx.clear();
    this.#tx.clear();
  }

  /**
   * Whether a reply or error is waiting.
   *
   * @returns `true` when `recv` would return a message.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new IcmpSocket().canRecv(), false);
   * ```
   */
  canRecv(): boolean {
    return !this.#rx.isEmpty();
  }

  /**
   * Whether the send queue has a free slot.
   *
   * @returns `true` when not full.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new IcmpSocket().canSend(), true);
   * ```
   */
  canSend(): boolean {
    return !this.#tx.isFull();
  }

  /**
   * Queues an echo request to `remote` (ICMPv4 or ICMPv6 by the address family).
   *
   * @param remote The destination.
   * @param seq The sequence number, 0–65535.
   * @param data The echo data (copied).
   * @param options `localAddr`: the source address to use.
   * @returns `false` when the send queue is full.
   * @throws {TypeError} When the socket is not bound.
   * @throws {RangeError} When `seq` is out of range or the data too large.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import { Ipv6Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new IcmpSocket();
   * s.bind(1);
   * assert.equal(s.sendEcho(Ipv6Address.parse("2001:db8::1"), 0, new Uint8Array(8)), true);
   * ```
   */
  sendEcho(
    remote: IpAddress,
    seq: number,
    data: Uint8Array,
    options: { localAddr?: IpAddress } = {},
  ): boolean {
    if (this.#ident === null) throw new TypeError("ICMP socket is not bound");
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) {
      throw new RangeError(`Invalid ICMP echo sequence number ${seq}`);
    }
    if (data.length > 65000 || data.length > this.#tx.byteCapacity) {
      throw new RangeError(`Echo data of ${data.length} bytes is too large`);
    }
    const region = this.#tx.enqueue(data.length, {
      remote,
      local: options.localAddr ?? null,
      seq,
    });
    if (region === null) return false;
    region.set(data);
    wakeSocket(this);
    return true;
  }

  /**
   * Takes the next echo reply or error, copying echo data into `buffer`.
   *
   * @param buffer Where to copy the echo data.
   * @returns The message, or `null` when none is waiting.
   *
   * @example
   * ```ts
   * import { IcmpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new IcmpSocket().recv(new Uint8Array(64)), null);
   * ```
   */
  recv(buffer: Uint8Array): IcmpRecvResult | null {
    const d = this.#rx.dequeue();
    if (d === null) return null;
    const n = Math.min(buffer.length, d.payload.length);
    buffer.set(d.payload.subarray(0, n));
    return {
      kind: d.meta.kind,
      length: n,
      truncated: n < d.payload.length,
      remote: d.meta.remote,
      seq: d.meta.seq,
      error: d.meta.error,
    };
  }

  /**
   * Ingress: an echo reply carrying this socket's identifier.
   *
   * @param _cx The poll context.
   * @param src The replying node.
   * @param seq The sequence number.
   * @param data The echo data (copied).
   * @returns `false` when the receive queue is full.
   *
   * @example
   * ```ts
   * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new IcmpSocket();
   * s.bind(1);
   * s.processEchoReply(cx, Ipv4Address.parse("192.0.2.1"), 3, new Uint8Array(4));
   * assert.equal(s.recv(new Uint8Array(4))?.seq, 3);
   * ```
   */
  processEchoReply(_cx: SocketContext, src: IpAddress, seq: number, data: Uint8Array): boolean {
    const region = this.#rx.enqueue(data.length, {
      kind: "echoReply",
      remote: src,
      seq,
      error: null,
    });
    if (region === null) {
      this.#rxDropped++;
      return false;
    }
    region.set(data);
    return true;
  }

  /**
   * Ingress: an ICMP error quoting an echo request with this socket's identifier.
   *
   * @param _cx The poll context.
   * @param error The error; `error.remote.port` is the identifier.
   * @param seq The quoted request's sequence number.
   * @returns `false` when the receive queue is full.
   *
   * @example
   * ```ts
   * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new IcmpSocket();
   * s.bind(1);
   * const a = Ipv4Address.parse("192.0.2.1");
   * s.processError(cx, { version: 4, type: 11, code: 0, from: a, local: { addr: a, port: 1 }, remote: { addr: a, port: 1 }, mtu: null }, 9);
   * assert.equal(s.recv(new Uint8Array(0))?.kind, "error");
   * ```
   */
  processError(_cx: SocketContext, error: IcmpErrorInfo, seq: number): boolean {
    const region = this.#rx.enqueue(0, { kind: "error", remote: error.from, seq, error });
    if (region === null) {
      this.#rxDropped++;
      return false;
    }
    return true;
  }

  /**
   * Egress: sends the oldest queued echo request.
   *
   * @param _cx The poll context.
   * @param emitter The interface's emitter.
   * @returns `true` when a request left the queue.
   *
   * @example
   * ```ts
   * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * const s = new IcmpSocket();
   * s.bind(1);
   * s.sendEcho(Ipv4Address.parse("192.0.2.1"), 0, new Uint8Array(0));
   * assert.equal(s.dispatch(cx, { emitEchoRequest: () => true }), true);
   * ```
   */
  dispatch(_cx: SocketContext, emitter: IcmpEmitter): boolean {
    const ident = this.#ident;
    if (ident === null) return false;
    const d = this.#tx.peek();
    if (d === null) return false;
    if (!emitter.emitEchoRequest(d.meta.local, d.meta.remote, ident, d.meta.seq, d.payload)) {
      return false;
    }
    this.#tx.dequeue();
    return true;
  }

  /**
   * When the socket next wants `dispatch`.
   *
   * @param cx The poll context.
   * @returns `cx.now` when a request is queued, otherwise `NEVER`.
   *
   * @example
   * ```ts
   * import { IcmpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx: SocketContext = { now: 5, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
   * assert.equal(new IcmpSocket().pollAt(cx), Infinity);
   * ```
   */
  pollAt(cx: SocketContext): Instant {
    return this.#ident !== null && !this.#tx.isEmpty() ? cx.now : NEVER;
  }
}
