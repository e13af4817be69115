/**
 * {@linkcode TcpSocket}: one sans-IO TCP connection. Application calls only change state; the
 * Interface feeds parsed segments to {@linkcode TcpSocket.process} and asks
 * {@linkcode TcpSocket.dispatch} for segments to send, at the times {@linkcode TcpSocket.pollAt}
 * names.
 *
 * @module
 */

import type { Instant } from "../../time.ts";
import type { IpAddress, IpEndpoint } from "../../wire/address.ts";
import type { TcpRepr } from "../../wire/tcp.ts";
import type { SocketContext } from "../context.ts";
import {
  checkKeepAlive,
  type KeepAliveOptions,
  type ResolvedTcpOptions,
  resolveOptions,
  type TcpSocketOptions,
} from "./config.ts";
import type { ParentHooks, TcpConn } from "./conn.ts";
import * as life from "./_socket_lifecycle.ts";
import * as io from "./_socket_io.ts";
import { grantAccess } from "./_socket_access.ts";
import type { TcpEmitter } from "./emitter.ts";
import { applyIcmpError, type TcpIcmpError } from "./icmp_error.ts";
import { type TcpError, TcpState } from "./state.ts";
import { refreshInfo, type TcpInfo } from "./stats.ts";
import type { TcpTraceSink } from "./trace_sink.ts";
import { wakeSocket } from "../waker.ts";

export type { TcpEmitter } from "./emitter.ts";

export { attachParent, connOf } from "./_socket_access.ts";

/**
 * A TCP connection as a sans-IO state machine (RFC 9293 with RFC 7323, RFC 2018/6675,
 * RFC 5681/6582, RFC 6298 and RFC 5961).
 *
 * @example Two sockets wired back to back
 * ```ts
 * import { TcpSocket, TcpState, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const cx = (now: number): SocketContext => ({
 *   now, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 100, interval: 1000 }),
 * });
 * const a = { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 };
 * const b = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
 * const client = new TcpSocket(), server = new TcpSocket();
 * server.listen(b);
 * client.connect(cx(0), b, a);
 * const wire: TcpRepr[] = [];
 * const to = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (wire.push(r), true) };
 * for (let i = 0; i < 4; i++) {
 *   client.dispatch(cx(0), to);
 *   for (const r of wire.splice(0)) { const re = server.process(cx(0), a.addr, b.addr, r); if (re) client.process(cx(0), b.addr, a.addr, re); }
 *   server.dispatch(cx(0), to);
 *   for (const r of wire.splice(0)) { const re = client.process(cx(0), b.addr, a.addr, r); if (re) server.process(cx(0), a.addr, b.addr, re); }
 * }
 * assert.equal(client.state, TcpState.Established);
 * assert.equal(server.state, TcpState.Established);
 * ```
 *
 * @example Status: what the read-only getters report from CLOSED to SYN-SENT
 * ```ts
 * import { TcpSocket, TokenBucket } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const s = new TcpSocket({ txBufferSize: 4096 });
 * assert.equal(s.state, "closed"); // nothing to send, read or report
 * assert.deepEqual([s.localEndpoint, s.remoteEndpoint, s.error, s.traceSink], [null, null, null, null]);
 * assert.deepEqual([s.canSend, s.maySend, s.canRecv, s.mayRecv, s.isEof], [false, false, false, false, false]);
 * assert.deepEqual([s.isOpen, s.isActive, s.sendQueue, s.recvQueue], [false, false, 0, 0]);
 * assert.deepEqual([s.sendCapacity, s.recvCapacity], [4096, 131072]); // the receive side's default
 * const listener = new TcpSocket();
 * listener.listen({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * assert.deepEqual([listener.state, listener.isOpen, listener.isActive], ["listen", true, false]);
 * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * s.connect(cx, { addr: Ipv4Address.parse("192.0.2.2"), port: 80 },
 *   { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 });
 * assert.equal(s.state, "synSent");
 * assert.equal(s.localEndpoint?.port, 40000);
 * assert.equal(s.remoteEndpoint?.addr.toString(), "192.0.2.2");
 * assert.deepEqual([s.isOpen, s.isActive, s.mayRecv], [true, true, true]); // the peer may still send
 * ```
 */
export class TcpSocket {
  #o: ResolvedTcpOptions;
  #c: TcpConn;
  #parent: ParentHooks | null = null;
  #info: TcpInfo | null = null;

  static {
    grantAccess((s, p) => {
      s.#parent = p;
      s.#c.parent = p;
    }, (s) => s.#c);
  }

  /**
   * Creates a closed socket.
   *
   * @param options Buffer sizes, congestion control, timers and TCP options.
   * @throws {RangeError} For invalid option values.
   */
  constructor(options?: TcpSocketOptions) {
    this.#o = resolveOptions(options);
    this.#c = this.#fresh();
  }

  #fresh(): TcpConn {
    return life.freshConn(this.#o, this, this.#parent, this.#c);
  }

  /**
   * The connection state.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get state(): TcpState {
    return this.#c.state;
  }

  /**
   * The local endpoint once listening or connecting, else `null`.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get localEndpoint(): IpEndpoint | null {
    return this.#c.local;
  }

  /**
   * The remote endpoint once known, else `null`.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get remoteEndpoint(): IpEndpoint | null {
    return this.#c.remote;
  }

  /**
   * Passive open on `local` (the address may be unspecified to take any local address).
   * Sends nothing.
   *
   * @param local The endpoint to listen on.
   * @throws {TypeError} For a bad endpoint. {@linkcode Error} when the socket is not CLOSED.
   *
   * @example
   * ```ts
   * import { TcpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const s = new TcpSocket();
   * s.listen({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * assert.equal(s.state, "listen");
   * ```
   */
  listen(local: IpEndpoint): void {
    life.checkEndpoint("local", local, true);
    life.checkClosed(this.#c, "listen");
    life.openPassive(this.#c = this.#fresh(), local);
    wakeSocket(this);
  }

  /**
   * Active open: CLOSED → SYN-SENT with the ISN chosen (RFC 6528). Sends nothing; the SYN
   * leaves at the next {@linkcode TcpSocket.dispatch}.
   *
   * @param cx The interface context (time, MTU, ISN secret).
   * @param remote The peer.
   * @param local The local address and port (chosen by the caller).
   * @throws {TypeError} For bad endpoints. {@linkcode Error} when the socket is not CLOSED.
   *
   * @example
   * ```ts
   * import { TcpSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * const s = new TcpSocket();
   * s.connect(cx, { addr: Ipv4Address.parse("192.0.2.1"), port: 80 },
   *   { addr: Ipv4Address.parse("192.0.2.2"), port: 49152 });
   * assert.equal(s.state, "synSent");
   * ```
   */
  connect(cx: SocketContext, remote: IpEndpoint, local: IpEndpoint): void {
    life.checkConnect(this.#c, remote, local);
    life.openActive(this.#c = this.#fresh(), this.#o, cx, remote, local);
    wakeSocket(this);
  }

  /**
   * Queues data to send (copied into the send buffer).
   *
   * @param data The bytes.
   * @returns How many bytes were taken (0 when the buffer is full).
   * @throws {Error} When the send half is closed ({@linkcode TcpSocket.maySend} is false).
   *
   * @example
   * ```ts
   * import { TcpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const s = new TcpSocket();
   * assert.equal(s.maySend, false);
   * assert.throws(() => s.send(new Uint8Array(1)), { message: "Cannot send in state closed" });
   * ```
   */
  send(data: Uint8Array): number {
    if (!this.maySend) throw new Error(`Cannot send in state ${this.#c.state}`);
    return io.queueSend(this, this.#c, data);
  }

  /**
   * Copies received bytes out; the window reopens at the next dispatch when worthwhile.
   *
   * Shown in the {@linkcode TcpSocket.consumeRecv} example.
   *
   * @param dst Where to copy.
   * @returns The number of bytes copied (0 when none are ready).
   */
  recv(dst: Uint8Array): number {
    return io.readInto(this, this.#c, dst);
  }

  /**
   * A view of up to `maxLen` received bytes without consuming them (contiguous: it may be
   * shorter than what is available). Valid until the next call on this socket.
   *
   * Shown in the {@linkcode TcpSocket.consumeRecv} example.
   *
   * @param maxLen The most bytes wanted.
   * @returns A subarray of the receive buffer.
   */
  peekRecv(maxLen: number): Uint8Array {
    return this.#c.rx.getAllocated(0, maxLen);
  }

  /**
   * Consumes `n` received bytes (after {@linkcode TcpSocket.peekRecv}).
   *
   * @param n Bytes to drop from the front; at most {@linkcode TcpSocket.recvQueue}.
   *
   * @example
   * ```ts
   * import { TcpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, type TcpRepr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = (now: number): SocketContext => ({
   *   now, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 100, interval: 1000 }),
   * });
   * const a = { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 };
   * const b = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
   * const client = new TcpSocket(), server = new TcpSocket();
   * const wire: TcpRepr[] = [];
   * const to = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (wire.push(r), true) };
   * server.listen(b);
   * client.connect(cx(0), b, a);
   * client.dispatch(cx(0), to); // SYN
   * server.process(cx(0), a.addr, b.addr, wire.pop()!);
   * server.dispatch(cx(0), to); // SYN-ACK, answered with an ACK
   * server.process(cx(0), a.addr, b.addr, client.process(cx(0), b.addr, a.addr, wire.pop()!)!);
   * client.send(new Uint8Array([1, 2, 3]));
   * client.dispatch(cx(0), to);
   * server.process(cx(0), a.addr, b.addr, wire.pop()!);
   * assert.equal(new TcpSocket().recv(new Uint8Array(10)), 0); // nothing ready
   * assert.equal(new TcpSocket().peekRecv(10).length, 0);
   * assert.deepEqual(server.peekRecv(10), new Uint8Array([1, 2, 3]));
   * server.consumeRecv(2);
   * assert.equal(server.recvQueue, 1);
   * const dst = new Uint8Array(10);
   * assert.equal(server.recv(dst), 1);
   * assert.equal(dst[0], 3);
   * ```
   */
  consumeRecv(n: number): void {
    io.consumeRead(this, this.#c, n);
  }

  /**
   * Closes the connection as the application's `close()` does: with unread received data the
   * connection is reset (RFC 9293 §3.10.4, RFC 1122 §4.2.2.13); otherwise it is
   * {@linkcode TcpSocket.closeWrite}. In LISTEN or SYN-SENT the socket just closes.
   *
   * @example Three listeners closed three ways, and a closed socket left as it is
   * ```ts
   * import { TcpSocket } from "@smol/net/socket";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const [a, b, c] = [new TcpSocket(), new TcpSocket(), new TcpSocket()];
   * for (const s of [a, b, c]) s.listen({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
   * a.close();
   * b.closeWrite();
   * c.abort();
   * assert.deepEqual([a.state, b.state, c.state], ["closed", "closed", "closed"]);
   * assert.deepEqual([a.error, b.error, c.error], [null, null, "aborted"]);
   * const d = new TcpSocket();
   * d.close(); d.closeWrite(); d.abort();
   * assert.deepEqual([d.state, d.error], ["closed", null]);
   * ```
   */
  close(): void {
    if (life.closeResets(this.#c)) this.abort();
    else this.closeWrite();
  }

  /**
   * Closes the send half only: a FIN follows the queued data (RFC 9293 §3.10.4) and receiving
   * goes on until the peer's FIN, whatever is still unread. In LISTEN or SYN-SENT the socket
   * just closes.
   *
   * Shown in the {@linkcode TcpSocket.close} example.
   */
  closeWrite(): void {
    wakeSocket(this);
    life.closeSendHalf(this.#c);
  }

  /**
   * Aborts: the socket is CLOSED at once and a RST leaves at the next dispatch when the peer
   * knows the connection (RFC 9293 §3.10.5). {@linkcode TcpSocket.error} becomes `"aborted"`.
   *
   * Shown in the {@linkcode TcpSocket.close} example.
   */
  abort(): void {
    if (life.abortConn(this.#c)) wakeSocket(this);
  }

  /**
   * Turns Nagle's algorithm off (`true`) or on.
   *
   * @param on `true` to send small segments at once.
   *
   * @example The three per-connection options: keep-alive, Nagle, user timeout
   * ```ts
   * import { TcpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, type TcpRepr } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = (now: number): SocketContext => ({
   *   now, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 100, interval: 1000 }),
   * });
   * const a = { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 };
   * const b = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
   * const client = new TcpSocket(), server = new TcpSocket();
   * const wire: TcpRepr[] = [];
   * const to = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (wire.push(r), true) };
   * server.listen(b);
   * client.connect(cx(0), b, a);
   * client.dispatch(cx(0), to); // SYN
   * server.process(cx(0), a.addr, b.addr, wire.pop()!);
   * server.dispatch(cx(0), to); // SYN-ACK, answered with an ACK
   * server.process(cx(0), a.addr, b.addr, client.process(cx(0), b.addr, a.addr, wire.pop()!)!);
   * assert.equal(client.pollAt(cx(0)), Infinity); // idle, nothing to send
   * client.setKeepAlive({ idle: 60_000, interval: 10_000, count: 5 });
   * assert.equal(client.pollAt(cx(0)), 60_000); // the first probe
   * assert.throws(() => client.setKeepAlive({ idle: 0, interval: 1, count: 1 }), RangeError);
   * client.setNoDelay(false); // Nagle: one small segment in flight at a time (RFC 9293 §3.7.4)
   * client.send(new Uint8Array(10));
   * client.dispatch(cx(0), to);
   * client.send(new Uint8Array(10)); // the first is not acknowledged yet: this one waits
   * assert.equal(client.dispatch(cx(1), to), false);
   * client.setNoDelay(true);
   * assert.equal(client.dispatch(cx(1), to), true);
   * assert.equal(wire.length, 2);
   * client.setUserTimeout(30_000); // the server never acknowledges: it is gone
   * let now = 1;
   * while (client.state !== "closed") {
   *   now = client.pollAt(cx(now)); // retransmission timeouts, then the user timeout
   *   client.dispatch(cx(now), to);
   * }
   * assert.equal(now, 30_000);
   * assert.equal(client.error, "timedOut");
   * ```
   */
  setNoDelay(on: boolean): void {
    this.#c.noDelay = on;
    wakeSocket(this);
  }

  /**
   * Sets or clears keep-alive probing.
   *
   * Shown in the {@linkcode TcpSocket.setNoDelay} example.
   *
   * @param opts Idle time, probe interval and count, or `null` to disable.
   * @throws {RangeError} For invalid values.
   */
  setKeepAlive(opts: KeepAliveOptions | null): void {
    this.#c.keepAlive = checkKeepAlive(opts);
    this.#c.kaProbes = 0;
    wakeSocket(this);
  }

  /**
   * Sets the RFC 5482 user timeout: fail when sent data stays unacknowledged this long.
   *
   * Shown in the {@linkcode TcpSocket.setNoDelay} example.
   *
   * @param ms Milliseconds, or `null` for none.
   * @throws {RangeError} For a negative value.
   */
  setUserTimeout(ms: number | null): void {
    if (ms !== null && !(ms >= 0)) throw new RangeError(`Invalid user timeout ${ms}`);
    this.#c.userTimeout = ms;
    wakeSocket(this);
  }

  /**
   * Whether {@linkcode TcpSocket.send} would take at least one byte.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get canSend(): boolean {
    return this.maySend && this.#c.tx.window > 0;
  }

  /**
   * Whether the send half is open (ESTABLISHED or CLOSE-WAIT; also SYN-SENT with
   * `fastOpen`, whose first SYN may carry the data, and SYN-RECEIVED for a connection that took
   * Fast Open data, RFC 7413 §4.2.2).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get maySend(): boolean {
    const c = this.#c;
    const s = c.state;
    return s === TcpState.Established || s === TcpState.CloseWait ||
      (s === TcpState.SynSent && c.o.fastOpen !== null) ||
      (s === TcpState.SynReceived && c.tfoAccept);
  }

  /**
   * Whether received bytes are ready.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get canRecv(): boolean {
    return this.#c.rx.length > 0;
  }

  /**
   * Whether more bytes may still arrive or are ready (receive half open, or data buffered).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get mayRecv(): boolean {
    const s = this.#c.state;
    return this.#c.rx.length > 0 || s === TcpState.SynSent ||
      (s === TcpState.SynReceived && !this.#c.finRcvd) ||
      s === TcpState.Established || s === TcpState.FinWait1 || s === TcpState.FinWait2;
  }

  /**
   * Whether the socket is in use at all (not CLOSED or TIME-WAIT).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get isOpen(): boolean {
    const s = this.#c.state;
    return s !== TcpState.Closed && s !== TcpState.TimeWait;
  }

  /**
   * Whether a connection exists or is being made (not CLOSED, LISTEN or TIME-WAIT).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get isActive(): boolean {
    const s = this.#c.state;
    return s !== TcpState.Closed && s !== TcpState.TimeWait && s !== TcpState.Listen;
  }

  /**
   * Whether the peer's FIN was received and every byte before it has been read.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get isEof(): boolean {
    return this.#c.finRcvd && this.#c.rx.length === 0;
  }

  /**
   * Bytes in the send buffer (sent but unacknowledged, and unsent).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get sendQueue(): number {
    return this.#c.tx.length;
  }

  /**
   * Bytes ready to read.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get recvQueue(): number {
    return this.#c.rx.length;
  }

  /**
   * The send buffer size.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get sendCapacity(): number {
    return this.#c.tx.capacity;
  }

  /**
   * The receive buffer size.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get recvCapacity(): number {
    return this.#c.rx.capacity;
  }

  /**
   * Why the connection ended, or `null` (open, or closed cleanly).
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get error(): TcpError | null {
    return this.#c.error;
  }

  /**
   * Where every segment this socket takes in or sends is reported, with the reason it was sent;
   * `null` (the default) turns tracing off. `@smol/net/trace`'s `TcpTraceRecorder.attach` sets it.
   *
   * Shown in the status example of {@linkcode TcpSocket}.
   */
  get traceSink(): TcpTraceSink | null {
    return this.#c.traceSink;
  }

  /** Sets the trace sink; `null` turns tracing off. */
  set traceSink(sink: TcpTraceSink | null) {
    this.#c.traceSink = sink;
  }

  /**
   * State, timers, windows and counters, refreshed into one reused object (no allocation after
   * the first read).
   *
   * @example
   * ```ts
   * import { TcpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const s = new TcpSocket();
   * const info = s.info;
   * assert.equal(s.info, info); // one object, refreshed on each read
   * assert.equal(info.state, "closed");
   * assert.equal(info.cwnd, 5360); // 10 segments (RFC 6928) of the default 536-byte MSS
   * ```
   */
  get info(): TcpInfo {
    return refreshInfo(this.#info ??= { ...this.#c.counters } as TcpInfo, this.#c);
  }

  /**
   * Takes one segment addressed to this socket (RFC 9293 §3.10.7). Returns at most one reply
   * to send at once from `dst` to `src`: a RST, a challenge ACK, a duplicate ACK for
   * out-of-window or out-of-order data, or an ACK that may not wait.
   *
   * @param cx The interface context.
   * @param src The segment's source address.
   * @param dst The segment's destination address.
   * @param repr The parsed segment (checksum already verified).
   * @returns The reply, or `null`.
   *
   * @example
   * ```ts
   * import { TcpSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { Ipv4Address, TcpFlags } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * const reply = new TcpSocket().process(cx, Ipv4Address.parse("192.0.2.1"),
   *   Ipv4Address.parse("192.0.2.2"), { srcPort: 4000, dstPort: 80, seq: 1, ack: 0,
   *   flags: TcpFlags.SYN, window: 100, urgent: 0, mss: null, windowScale: null,
   *   sackPermitted: false, sackBlocks: [], timestamp: null, payload: new Uint8Array(0) });
   * assert.equal(reply?.flags, TcpFlags.RST | TcpFlags.ACK);
   * ```
   */
  process(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpRepr | null {
    return io.processIn(this.#c, cx, src, dst, repr);
  }

  /**
   * Takes an ICMP error that quotes a segment of this connection (the Interface matched the
   * quoted 4-tuple). It is ignored and counted (`info.icmpIgnored`) unless the quoted sequence
   * number lies in SND.UNA ≤ SEQ < SND.NXT (RFC 5927 §4.1). Packet Too Big lowers the path MTU
   * and the segment size and resends the data in flight (RFC 1191, RFC 8201); an unreachable
   * ends a connect (hard errors at once, soft ones after two SYN retransmissions, RFC 5461) and
   * is otherwise remembered as the error to report if the connection times out.
   *
   * @param now The current time.
   * @param error The decoded error.
   *
   * @example A Packet Too Big quoting nothing in flight is ignored
   * ```ts
   * import { TcpSocket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * const s = new TcpSocket();
   * s.processIcmpError(0, { kind: "packetTooBig", code: 0, mtu: 1280, seq: 1 });
   * assert.equal(s.info.icmpIgnored, 1);
   * ```
   */
  processIcmpError(now: Instant, error: TcpIcmpError): void {
    applyIcmpError(this.#c, now, error);
    wakeSocket(this);
  }

  /**
   * Emits at most one due segment (SYN, data, FIN, retransmission, probe, ACK or RST) through
   * `emitter`. When the emitter refuses it, nothing changes.
   *
   * @param cx The interface context.
   * @param emitter Where the segment goes.
   * @returns Whether a segment was emitted.
   *
   * @example
   * ```ts
   * import { TcpSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * assert.equal(new TcpSocket().dispatch(cx, { emitTcp: () => true }), false);
   * ```
   */
  dispatch(cx: SocketContext, emitter: TcpEmitter): boolean {
    const sent = io.dispatchOne(this.#c, this.#o, cx, emitter);
    this.#c.traceSink?.timers?.(cx.now, this.#c.timers);
    return sent;
  }

  /**
   * When this socket next needs `dispatch`: `cx.now` when something is due, `NEVER` when only
   * ingress can make progress, else the earliest timer.
   *
   * @param cx The interface context.
   * @returns The instant.
   *
   * @example
   * ```ts
   * import { TcpSocket, TokenBucket } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const cx = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
   *   challengeAckLimiter: new TokenBucket({ burst: 10, interval: 1000 }) };
   * assert.equal(new TcpSocket().pollAt(cx), Infinity);
   * ```
   */
  pollAt(cx: SocketContext): Instant {
    return io.nextPollAt(this.#c, cx);
  }
}
