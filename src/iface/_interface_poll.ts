/**
 * The poll loop of an `Interface`: ingress into sockets, the IP layer's timers, then
 * egress rounds over the ready sockets; and `pollAt`, the next instant anything is due. Internal
 * to `src/iface`, not exported: `Interface` delegates to it.
 *
 * @module
 */

import { acceptAnyExpire, acceptAnyPollAt } from "./accept_any.ts";
import { EthernetAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { ArpOperation } from "../wire/arp.ts";
import { Icmpv4Type } from "../wire/icmpv4.ts";
import { Icmpv6Type } from "../wire/icmpv6.ts";
import type { Device } from "../phy/device.ts";
import type { SocketContext } from "../socket/context.ts";
import { IcmpSocket } from "../socket/icmp.ts";
import { RawSocket } from "../socket/raw.ts";
import { UdpSocket } from "../socket/udp.ts";
import { TcpListenSocket, TcpSocket } from "../socket/tcp/mod.ts";
import { type Instant, NEVER } from "../time.ts";
import type { IfaceCore } from "./iface_state.ts";
import { sendIcmpError } from "./icmp.ts";
import { serviceNeighbors } from "./address_resolution.ts";
import { Emitter, sendArp } from "./egress.ts";
import { flushTcpBatch, receiveFrame } from "./ingress.ts";
import { type AnySocket, schedulerOf, type SocketSet, timeWaitTable } from "./socket_set.ts";
import { afterTcp } from "./tcp_demux.ts";

/** Granularity (ms) at which expired TIME-WAIT records are freed when nothing else polls. */
const TIME_WAIT_BATCH = 1000;

/** An interface's poll loop and its per-interface scratch. */
export class Poller {
  readonly core: IfaceCore;
  readonly emitter: Emitter;
  readonly ingressBudget: number;
  /** Sockets visited by egress in all polls so far. */
  visits = 0;
  /** Egress scratch: positions (relative to the round-robin start) that sent last round. */
  active: number[] = [];
  activeNext: number[] = [];

  constructor(core: IfaceCore, ingressBudget: number) {
    this.core = core;
    this.emitter = new Emitter(core);
    this.ingressBudget = ingressBudget;
  }

  /** The shared socket context, at `now`. */
  context(now: Instant): SocketContext {
    this.core.cx.now = now;
    return this.core.cx;
  }

  /** See `Interface.poll`. */
  poll(now: Instant, device: Device, sockets: SocketSet): boolean {
    const core = this.core;
    if (device.capabilities.medium !== core.medium) {
      throw new TypeError(
        `Device medium ${device.capabilities.medium} differs from the interface's ${core.medium}`,
      );
    }
    core.begin(now, device, sockets);
    const group = core.group;
    if (group !== null) group.begin(core, now, sockets);
    const before = core.counters.rxFrames + core.counters.txFrames;
    let changed = false;
    // Ingress, bounded per poll. Replies leave on the member the packet came in on.
    if (group !== null) group.pinned = core;
    for (let i = 0; i < this.ingressBudget; i++) {
      const frame = device.receive(now);
      if (frame === null) break;
      receiveFrame(core, frame);
    }
    if (core.tcpBatch !== null) flushTcpBatch(core); // still pinned: replies leave here
    if (group !== null) group.pinned = null;
    this.reap(sockets);
    timeWaitTable(sockets).expire(now);
    if (core.acceptAny !== null) acceptAnyExpire(core.acceptAny, sockets, now);
    // Timers of the IP layer.
    for (let v = 0; v < 2; v++) {
      const gone = (v === 0 ? core.reasm4 : core.reasm6).expire(now);
      if (gone.length === 0) continue;
      core.counters.reassemblyTimeout += gone.length;
      changed = true;
      for (const d of gone) {
        const p = d.firstPacket;
        if (p === null) continue;
        // RFC 792 / RFC 8200 §4.5: time exceeded, fragment reassembly, when the first arrived.
        const v4 = p[0]! >>> 4 === 4;
        const dst = v4 ? Ipv4Address.fromBytes(p, 16) : Ipv6Address.fromBytes(p, 24);
        const type = v4 ? Icmpv4Type.TimeExceeded : Icmpv6Type.TimeExceeded;
        sendIcmpError(core, p, d.src, dst, type, 1, 0, {
          isFragment: false,
          isIcmpError: false,
        });
      }
    }
    if (core.announcePending) this.sendAnnouncements();
    if (core.ndpHost !== null) {
      // Link-scoped (RS, NS, MLD from `::` or a link-local source): they leave on this member.
      if (group !== null) group.pinned = core;
      core.ndpHost.dispatch(core.cx, this.emitter);
      if (group !== null) group.pinned = null;
    }
    if (core.medium === "ethernet") serviceNeighbors(core);
    // Egress over the ready sockets only (woken by ingress, by the application through their
    // waker, or by their deadline): one dispatch per socket per round, until no progress or the
    // device is full. Within one poll nothing but its own dispatch changes a socket, so a socket
    // that sent nothing in a round sends nothing in a later one: rounds after the first visit
    // only the sockets that sent in the round before, in the same order. Then each visited
    // socket sleeps until its next deadline, or stays ready when it still has work.
    const sched = schedulerOf(sockets);
    sched.due(now);
    if (sched.readyCount > 0) {
      const list = sched.take();
      const n = list.length;
      const emitter = this.emitter;
      const cx = core.cx;
      let active = this.active, next = this.activeNext;
      let count = 0;
      let k = 0;
      for (; k < n && !core.deviceFull; k++) {
        const m = list[k]!;
        if (m.removed) continue;
        if (dispatchOne(core, m.socket, cx, emitter)) active[count++] = k;
      }
      // The sockets from here on were not dispatched (the device filled up): still ready.
      const reached = k;
      while (count > 0 && !core.deviceFull) {
        let kept = 0;
        for (let j = 0; j < count && !core.deviceFull; j++) {
          const k = active[j]!;
          const m = list[k]!;
          if (!m.removed && dispatchOne(core, m.socket, cx, emitter)) next[kept++] = k;
        }
        const t = active;
        active = next;
        next = t;
        count = kept;
      }
      for (k = 0; k < n; k++) {
        const m = list[k]!;
        if (m.removed) continue;
        // Asking (and reporting) an untouched socket again would cost O(ready sockets) per
        // poll while a burst (thousands of connects) waits for room on the device.
        if (k >= reached) {
          sched.keep(m);
          continue;
        }
        const at = socketPollAt(m.socket, cx);
        if (at <= now) sched.requeue(m);
        else sched.sleep(m, at);
      }
      this.visits += n;
      sched.done(list);
      this.reap(sockets);
    }
    // Requests for next hops that egress just found unresolved leave in the same poll.
    if (core.medium === "ethernet") serviceNeighbors(core);
    if (group !== null) group.end(core);
    core.sockets = null;
    core.device = null;
    return changed || core.counters.rxFrames + core.counters.txFrames !== before;
  }

  /** Removes the sockets egress or ingress marked for removal. */
  reap(sockets: SocketSet): void {
    const reap = this.core.reap;
    while (reap.length > 0) sockets.remove(reap.pop()!);
  }

  /** RFC 5227 §3 announcements of each IPv4 address; pending again when the device is full. */
  sendAnnouncements(): void {
    const core = this.core;
    for (const c of core.routes.addresses) {
      const a = c.address;
      if (a.version !== 4) continue;
      // RFC 5227 §3: an ARP request with sender and target both our address.
      if (
        !sendArp(core, ArpOperation.Request, EthernetAddress.BROADCAST, a, EthernetAddress.ZERO, a)
      ) {
        return;
      }
    }
    core.announcePending = false;
  }

  /** See `Interface.pollAt`. */
  pollAt(now: Instant, sockets: SocketSet): Instant {
    const core = this.core;
    if (core.announcePending) return now;
    const sched = schedulerOf(sockets);
    let t = Math.min(core.neighbors.pollAt(now), core.reasm4.pollAt(), core.reasm6.pollAt());
    if (sched.nextDeadline < t) t = sched.nextDeadline;
    if (core.acceptAny !== null) t = Math.min(t, acceptAnyPollAt(core.acceptAny));
    if (core.ndpHost !== null) t = Math.min(t, core.ndpHost.pollAt(this.context(now)));
    // Sockets woken since the last poll: asked, as they may have changed (O(ready sockets)).
    if (sched.readyCount > 0) {
      const cx = this.context(now);
      const ready = sched.readyList;
      for (let i = 0; i < ready.length && t > now; i++) {
        const m = ready[i]!;
        if (m.removed) continue;
        const at = socketPollAt(m.socket, cx);
        if (at < t) t = at;
      }
    }
    // TIME-WAIT records are freed in batches: the deadline is rounded up to TIME_WAIT_BATCH.
    const tw = timeWaitTable(sockets).nextExpiry();
    if (tw !== NEVER) {
      const at = Math.ceil(tw / TIME_WAIT_BATCH) * TIME_WAIT_BATCH;
      if (at < t) t = at;
    }
    return t < now ? now : t;
  }
}

/** When a socket next needs a dispatch (a listener never does). */
function socketPollAt(s: AnySocket, cx: SocketContext): Instant {
  return s instanceof TcpListenSocket ? NEVER : s.pollAt(cx);
}

/** One egress dispatch; `true` when the socket sent something. */
function dispatchOne(
  core: IfaceCore,
  s: AnySocket,
  cx: SocketContext,
  emitter: Emitter,
): boolean {
  const g = core.group;
  if (g === null) return dispatchIn(core, s, cx, emitter);
  // A pinned socket (accepted on a member, zoned, accept-any) sends through its member only.
  g.pinned = g.pinOf(s);
  const sent = dispatchIn(core, s, cx, emitter);
  g.pinned = null;
  return sent;
}

function dispatchIn(
  core: IfaceCore,
  s: AnySocket,
  cx: SocketContext,
  emitter: Emitter,
): boolean {
  if (s instanceof TcpSocket) {
    // Segments are sized by the MTU of the interface the connection's address is on.
    const g = core.group;
    const local = g === null ? null : s.localEndpoint;
    const sent = s.dispatch(local === null ? cx : g!.contextFor(core, local.addr), emitter);
    const state = s.state;
    if (state === "closed" || state === "timeWait") afterTcp(core, s);
    return sent;
  }
  if (s instanceof UdpSocket || s instanceof IcmpSocket || s instanceof RawSocket) {
    return s.dispatch(cx, emitter);
  }
  return false;
}
