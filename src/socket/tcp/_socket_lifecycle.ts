/**
 * What {@linkcode TcpSocket}'s lifecycle calls (listen, connect, close, abort) do to the
 * connection block, kept out of the class: endpoint checks, a fresh TCB that keeps the socket
 * options set so far, the passive and active opens, closing the send half, and aborting. None of
 * these is on a per-packet path. Internal to the tcp folder.
 *
 * @module
 */

import { fastOpenConnect } from "./fast_open.ts";
import type { IpEndpoint } from "../../wire/address.ts";
import type { SocketContext } from "../context.ts";
import type { ResolvedTcpOptions } from "./config.ts";
import { mssForMtu, type ParentHooks, TcpConn } from "./conn.ts";
import { chooseIss, chooseTsOffset } from "./input.ts";
import { TcpState } from "./state.ts";
import type { TcpSocket } from "./socket.ts";

/**
 * Throws unless `ep` is a usable endpoint: port 1..65535, not multicast, and unicast unless
 * `allowUnspecified` (a listener may bind the unspecified address).
 *
 * @param what Named in the error ("local" or "remote").
 * @param ep The endpoint.
 * @param allowUnspecified Whether the unspecified address is accepted.
 * @throws {TypeError} For a bad endpoint.
 */
export function checkEndpoint(what: string, ep: IpEndpoint, allowUnspecified: boolean): void {
  if (
    !Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535 ||
    (!allowUnspecified && !ep.addr.isUnicast) || ep.addr.isMulticast
  ) {
    throw new TypeError(`Invalid ${what} endpoint ${ep.addr}:${ep.port}`);
  }
}

/**
 * Throws unless `c` is CLOSED, the only state a socket may listen or connect from.
 *
 * @param c The current TCB.
 * @param verb What the application tried ("listen" or "connect"), named in the error.
 * @throws {Error} When the socket is not CLOSED.
 */
export function checkClosed(c: TcpConn, verb: string): void {
  if (c.state !== TcpState.Closed) {
    throw new Error(`Cannot ${verb} in state ${c.state}`);
  }
}

/**
 * The checks of an active open: both endpoints usable, of one address family, and the socket
 * CLOSED.
 *
 * @param c The current TCB.
 * @param remote The peer.
 * @param local The local endpoint.
 * @throws {TypeError} For bad endpoints. {@linkcode Error} when the socket is not CLOSED.
 */
export function checkConnect(c: TcpConn, remote: IpEndpoint, local: IpEndpoint): void {
  checkEndpoint("remote", remote, false);
  checkEndpoint("local", local, false);
  if (remote.addr.version !== local.addr.version) {
    throw new TypeError(`Address families differ: ${local.addr} and ${remote.addr}`);
  }
  checkClosed(c, "connect");
}

/**
 * Passive open on a fresh TCB: CLOSED → LISTEN on `local`.
 *
 * @param c The fresh TCB.
 * @param local The endpoint to listen on.
 */
export function openPassive(c: TcpConn, local: IpEndpoint): void {
  c.listenOn = local;
  c.local = local;
  c.setState(TcpState.Listen);
}

/**
 * A new TCB for `owner` that keeps the per-socket settings of `prev` (Nagle, keep-alive, user
 * timeout, trace sink).
 *
 * @param o The socket's resolved options.
 * @param owner The socket.
 * @param parent The listener's hooks, or `null`.
 * @param prev The TCB being replaced (`undefined` in the constructor).
 * @returns The fresh TCB.
 */
export function freshConn(
  o: ResolvedTcpOptions,
  owner: TcpSocket,
  parent: ParentHooks | null,
  prev: TcpConn | undefined,
): TcpConn {
  if (prev !== undefined && neverOpened(prev)) {
    // The constructor's TCB, untouched but for the settings a fresh one would copy: keep it
    // (an active or passive open would otherwise build a second TCB per connection).
    prev.parent = parent;
    return prev;
  }
  const c = new TcpConn(o);
  c.owner = owner;
  c.parent = parent;
  if (prev !== undefined) {
    c.noDelay = prev.noDelay;
    c.keepAlive = prev.keepAlive;
    c.userTimeout = prev.userTimeout;
    c.traceSink = prev.traceSink;
  }
  return c;
}

/** Whether a TCB was never opened and holds nothing a fresh one would not. */
function neverOpened(c: TcpConn): boolean {
  return c.state === TcpState.Closed && c.local === null && c.error === null &&
    c.softError === null && c.counters.segmentsIn === 0;
}

/**
 * Active open on a fresh TCB: endpoints, MSS, timestamp offset and ISN (RFC 6528), the send
 * sequence variables, the connect timer, then CLOSED → SYN-SENT.
 *
 * @param c The fresh TCB.
 * @param o The socket's resolved options.
 * @param cx The interface context.
 * @param remote The peer.
 * @param local The local endpoint.
 */
export function openActive(
  c: TcpConn,
  o: ResolvedTcpOptions,
  cx: SocketContext,
  remote: IpEndpoint,
  local: IpEndpoint,
): void {
  c.local = local;
  c.remote = remote;
  c.activeOpen = true;
  c.ourMss = o.mss ?? mssForMtu(cx.ipMtu, local);
  c.tsOffset = chooseTsOffset(c, cx);
  c.iss = chooseIss(c, cx);
  c.sndUna = c.iss;
  c.sndNxt = c.iss;
  c.sndMax = c.iss;
  c.recover = c.iss;
  c.highRxt = c.iss;
  c.smallEnd = c.iss;
  c.timers.connect = cx.now + o.connectTimeout;
  c.lastRecv = cx.now;
  c.setState(TcpState.SynSent);
  fastOpenConnect(c, cx.now);
}

/**
 * Closes the send half (RFC 9293 §3.10.4): queues a FIN after the data and moves to
 * FIN-WAIT-1 or LAST-ACK; in LISTEN or SYN-SENT the connection just closes; in SYN-RECEIVED the
 * FIN waits for the handshake to complete.
 *
 * @param c The TCB.
 */
export function closeSendHalf(c: TcpConn): void {
  switch (c.state) {
    case TcpState.Closed:
    case TcpState.TimeWait:
      return;
    case TcpState.SynSent:
      // Data queued for a Fast Open SYN (RFC 7413) is kept: the FIN follows it once the
      // handshake completes, as from SYN-RECEIVED.
      if (c.tx.length > 0) {
        c.finQueued = true;
        return;
      }
      c.closeWith(null);
      return;
    case TcpState.Listen:
      c.closeWith(null);
      return;
    case TcpState.SynReceived:
      c.finQueued = true; // FIN-WAIT-1 once the handshake completes
      return;
    case TcpState.Established:
      c.finQueued = true;
      c.setState(TcpState.FinWait1);
      return;
    case TcpState.CloseWait:
      c.finQueued = true;
      c.setState(TcpState.LastAck);
      return;
  }
}

/**
 * Whether the application's `close()` must reset rather than close the send half: a synchronized
 * connection with unread received data (RFC 9293 §3.10.4, RFC 1122 §4.2.2.13).
 *
 * @param c The TCB.
 * @returns `true` to abort.
 */
export function closeResets(c: TcpConn): boolean {
  const synchronizing = c.state === TcpState.Listen || c.state === TcpState.SynSent;
  return !synchronizing && c.state !== TcpState.Closed && c.state !== TcpState.TimeWait &&
    c.rx.length > 0;
}

/**
 * Aborts (RFC 9293 §3.10.5): CLOSED at once with the error `"aborted"` (none from TIME-WAIT), and
 * a RST pending when the peer knows the connection.
 *
 * @param c The TCB.
 * @returns Whether anything changed (`false` when already CLOSED).
 */
export function abortConn(c: TcpConn): boolean {
  const s = c.state;
  if (s === TcpState.Closed) return false;
  const sendRst = s !== TcpState.Listen && s !== TcpState.SynSent && s !== TcpState.TimeWait;
  c.closeWith(s === TcpState.TimeWait ? null : "aborted");
  c.rstPending = sendRst;
  return true;
}
