/**
 * TCP demultiplexing on the interface: a segment goes to its connection, to a TIME-WAIT record,
 * or to a listener (creating, indexing and feeding its child) or a `TcpSocket` in LISTEN; closed
 * sockets are reaped. Replies leave through `egress.ts`. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import { TcpFlags } from "../wire/tcp.ts";
import { TcpListenSocket, type TcpSocket } from "../socket/tcp/mod.ts";
import type { IfaceCore } from "./iface_state.ts";
import { sendTcp } from "./egress.ts";
import {
  raiseIss,
  takeTimeWait,
  timeWaitAck,
  timeWaitInput,
  TimeWaitVerdict,
} from "../socket/tcp/time_wait.ts";
import { timeWaitTable } from "./socket_set.ts";
import { wakeSocket } from "../socket/waker.ts";
import { acceptAnyListener, acceptAnyTrack } from "./accept_any.ts";

/** Feeds a segment to its socket; `false` when no socket takes it (the caller resets). */
export function deliverTcp(
  core: IfaceCore,
  src: IpAddress,
  dst: IpAddress,
  repr: TcpRepr,
): boolean {
  const sockets = core.sockets;
  if (sockets === null) return false;
  const conn = sockets.findTcp(dst, repr.dstPort, src, repr.srcPort);
  if (conn !== null) {
    const reply = conn.process(core.cx, src, dst, repr);
    if (reply !== null) sendTcp(core, dst, src, reply);
    wakeSocket(conn);
    afterTcp(core, conn);
    return true;
  }
  // RFC 9293 §3.10.7.4 TIME-WAIT, held as a record (see time_wait.ts).
  let issFloor = -1;
  const table = timeWaitTable(sockets);
  const slot = table.find(dst, repr.dstPort, src, repr.srcPort);
  if (slot >= 0) {
    if (table.expired(slot, core.now)) {
      table.remove(slot);
    } else {
      const tw = core.tw;
      table.read(slot, tw);
      const verdict = timeWaitInput(tw, core.now, repr);
      if (verdict === TimeWaitVerdict.Reuse) {
        table.remove(slot);
        issFloor = tw.sndNxt;
      } else {
        table.write(slot, tw);
        if (verdict === TimeWaitVerdict.Ack) {
          sendTcp(core, dst, src, timeWaitAck(tw, core.now, repr));
        } else core.counters.timeWait++;
        return true;
      }
    }
  }
  let listener = sockets.findTcpListener(dst, repr.dstPort);
  if (listener === null && core.acceptAny !== null) {
    const l = acceptAnyListener(core.acceptAny, core.now, repr);
    if (l === false) return true; // beyond the flow bound: dropped and counted
    listener = l;
  }
  if (listener === null) return false;
  if (listener instanceof TcpListenSocket) {
    const f = repr.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST);
    if (f !== TcpFlags.SYN && f !== TcpFlags.ACK) return false;
    if (sockets.isFull) {
      core.counters.socketLimit++; // no room for a child: dropped silently, the peer retries
      return true;
    }
    let child: TcpSocket | null;
    if (f === TcpFlags.ACK) {
      // RFC 4987 §3.6: an ACK may return a SYN cookie; any other is answered with a RST.
      child = listener.onCookieAck(core.cx, src, dst, repr);
      if (child === null) return false;
    } else {
      child = listener.onSyn(core.cx, src, dst, repr);
      if (child === null) {
        // SYN queue full: a SYN-ACK carrying a SYN cookie, keeping nothing; else (backlog
        // full, listener closed) dropped silently.
        const synAck = listener.synCookie(core.cx, src, dst, repr);
        if (synAck !== null) sendTcp(core, dst, src, synAck);
        else core.counters.queueFull++;
        return true;
      }
    }
    sockets.add(child);
    sockets.markChild(child);
    // Its segments leave on the interface its SYN came in on (zones, accept-any).
    if (core.group !== null) core.group.pin(core, child);
    if (core.acceptAny !== null) acceptAnyTrack(core.acceptAny, listener, child);
    sockets.indexTcp(child, { addr: dst, port: repr.dstPort }, { addr: src, port: repr.srcPort });
    const reply = child.process(core.cx, src, dst, repr);
    if (issFloor >= 0) raiseIss(child, issFloor);
    if (reply !== null) sendTcp(core, dst, src, reply);
    afterTcp(core, child);
    return true;
  }
  // A TcpSocket in LISTEN (one connection per socket, smoltcp style).
  const reply = listener.process(core.cx, src, dst, repr);
  wakeSocket(listener);
  const remote = listener.remoteEndpoint, local = listener.localEndpoint;
  if (remote !== null && local !== null) {
    sockets.unindex(listener);
    sockets.indexTcp(listener, local, remote);
    if (issFloor >= 0) raiseIss(listener, issFloor);
  }
  if (reply !== null) sendTcp(core, dst, src, reply);
  afterTcp(core, listener);
  return true;
}

/**
 * After a socket processed a segment or dispatched: a connection in TIME-WAIT with nothing left
 * to send becomes a TIME-WAIT record and closes; a socket that reached CLOSED leaves the index;
 * an unadopted listener child leaves the set.
 */
export function afterTcp(core: IfaceCore, s: TcpSocket): void {
  const state = s.state;
  if (state === "timeWait") {
    const local = s.localEndpoint, remote = s.remoteEndpoint;
    if (local === null || remote === null || !takeTimeWait(s, core.now, core.tw)) return;
    timeWaitTable(core.sockets!).insert(local.addr, local.port, remote.addr, remote.port, core.tw);
  } else if (state !== "closed") {
    return;
  }
  const sockets = core.sockets!;
  if (sockets.isChild(s)) {
    const h = sockets.handleOf(s);
    if (h !== undefined && !core.reap.includes(h)) core.reap.push(h);
  } else if (sockets.isIndexed(s)) {
    sockets.unindex(s);
  }
}
