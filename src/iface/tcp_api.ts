/**
 * The TCP socket surface the interface drives (tcp-core's `TcpSocket` and `TcpListenSocket`).
 * Until those land this file states the contract structurally.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import type { SocketContext } from "../socket/context.ts";
import type { Instant } from "../time.ts";

/** What a TCP socket calls to send one segment. */
export interface TcpEmitter {
  /** Sends `repr` from `src` to `dst`; `false` when the device is full. */
  emitTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr): boolean;
}

/** The TCP socket surface the interface uses. */
export interface TcpSocket {
  /** The RFC 9293 state name. */
  readonly state: string;
  /** The local endpoint once bound. */
  readonly localEndpoint: IpEndpoint | null;
  /** The remote endpoint once connected. */
  readonly remoteEndpoint: IpEndpoint | null;
  /** Active open. */
  connect(cx: SocketContext, remote: IpEndpoint, local: IpEndpoint): void;
  /** Passive open. */
  listen(local: IpEndpoint): void;
  /** Ingress. */
  process(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpRepr | null;
  /** Egress. */
  dispatch(cx: SocketContext, emitter: TcpEmitter): boolean;
  /** Next timer. */
  pollAt(cx: SocketContext): Instant;
}

/** The TCP listener surface the interface uses. */
export interface TcpListenSocket {
  /** The listening endpoint. */
  readonly local: IpEndpoint;
  /** A SYN arrived: a new child in LISTEN, or `null` to drop it. */
  onSyn(cx: SocketContext, src: IpAddress, dst: IpAddress, repr: TcpRepr): TcpSocket | null;
  /** The next established child. */
  accept(): TcpSocket | null;
  /** Stops listening. */
  close(): void;
}
