/**
 * TCP demultiplexing on the interface: a segment goes to its connection, to a TIME-WAIT record,
 * or to a listener (creating, indexing and feeding its child) or a `TcpSocket` in LISTEN; closed
 * sockets are reaped; and the one emitter object every socket's `dispatch` writes through, which
 * hands everything to the egress path of `core.ts`. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import type { TcpRepr } from "../wire/tcp.ts";
import { TcpFlags } from "../wire/tcp.ts";
import { TcpListenSocket, type TcpSocket } from "../socket/tcp/mod.ts";
import type { IcmpEmitter } from "../socket/icmp.ts";
import type { RawEmitter } from "../socket/raw.ts";
import type { UdpEmitter } from "../socket/udp.ts";
import type { TcpEmitter } from "../socket/tcp/mod.ts";
import { Ipv4Address, Ipv6Address } from "../wire/address.ts";
import type { IfaceCore } from "./core.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
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
    if (reply !== null) core.sendTcp(dst, src, reply);
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
          core.sendTcp(dst, src, timeWaitAck(tw, core.now, repr));
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
        if (synAck !== null) core.sendTcp(dst, src, synAck);
        else core.counters.queueFull++;
        return true;
      }
    }
    sockets.add(child);
    sockets.markChild(child);
    if (core.acceptAny !== null) acceptAnyTrack(core.acceptAny, listener, child);
    sockets.indexTcp(child, { addr: dst, port: repr.dstPort }, { addr: src, port: repr.srcPort });
    const reply = child.process(core.cx, src, dst, repr);
    if (issFloor >= 0) raiseIss(child, issFloor);
    if (reply !== null) core.sendTcp(dst, src, reply);
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
  if (reply !== null) core.sendTcp(dst, src, reply);
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

/** The single emitter object the interface hands to every socket's `dispatch`. */
export class Emitter implements TcpEmitter, UdpEmitter, IcmpEmitter, RawEmitter {
  readonly #core: IfaceCore;

  constructor(core: IfaceCore) {
    this.#core = core;
  }

  emitTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr, ecn = 0): boolean {
    return this.#core.sendTcp(src, dst, repr, ecn);
  }

  emitUdp(src: IpAddress | null, srcPort: number, dst: IpEndpoint, payload: Uint8Array): boolean {
    const core = this.#core;
    const from = src ?? core.routes.sourceFor(dst.addr);
    if (from === null) {
      core.counters.noRoute++;
      return true;
    }
    return core.sendUdp(from, srcPort, dst.addr, dst.port, payload);
  }

  emitEchoRequest(
    src: IpAddress | null,
    dst: IpAddress,
    ident: number,
    seq: number,
    data: Uint8Array,
  ): boolean {
    const core = this.#core;
    const from = src ?? core.routes.sourceFor(dst);
    if (from === null) {
      core.counters.noRoute++;
      return true;
    }
    const type = dst.version === 4 ? Icmpv4Type.EchoRequest : Icmpv6Type.EchoRequest;
    return core.sendIcmp(from, dst, type, 0, ((ident << 16) | seq) >>> 0, data);
  }

  emitRaw(version: 4 | 6, packet: Uint8Array): boolean {
    const core = this.#core;
    const hdr = version === 4 ? 20 : 40;
    if (packet.length < hdr || packet[0]! >>> 4 !== version) {
      core.counters.malformed++;
      return true;
    }
    const dst = version === 4
      ? Ipv4Address.fromBytes(packet, 16)
      : Ipv6Address.fromBytes(packet, 24);
    return core.sendPacket(packet, dst);
  }
}
