/**
 * Per-socket interface data (smoltcp's `socket_meta`) and the egress schedule built on it. Each
 * socket in a `SocketSet` has one {@linkcode SocketMeta}: its handle, its index keys, and when it
 * next needs the interface. The {@linkcode Scheduler} keeps the sockets that may have something
 * to send now (the ready list: woken by ingress, by an application call through the socket's
 * waker, or by their timer) apart from the sleeping ones (a min-heap on their next deadline), so
 * a poll visits only sockets with work and `pollAt` reads the heap's top. Internal to the iface
 * folder.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import { Ipv4Address } from "../wire/address.ts";
import type { SocketWaker } from "../socket/waker.ts";
import { type Instant, NEVER } from "../time.ts";

/** Which index holds a socket. */
export const I_NONE = 0, I_TUPLE = 1, I_LISTEN = 2, I_UDP = 3, I_ICMP = 4;

/**
 * Empties a list and keeps its storage: `length = 0` would drop the backing store, and the next
 * push would allocate a new one (once per poll for the ready lists).
 */
export function emptyList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}

/** What the set knows of one socket. */
export class SocketMeta<S = unknown> implements SocketWaker {
  readonly handle: number;
  readonly socket: S;
  readonly kind: number;
  readonly #sched: Scheduler<S>;
  /** Position in the set's dense list. */
  pos = 0;
  index = I_NONE;
  hash = 0;
  /** The next entry with the same hash in its index (an intrusive chain: no bucket arrays). */
  next: SocketMeta<S> | null = null;
  lAddr: IpAddress = Ipv4Address.UNSPECIFIED;
  lPort = 0;
  rAddr: IpAddress = Ipv4Address.UNSPECIFIED;
  rPort = 0;
  /** Reaped by the interface when it closes: a listener's unadopted child, or released. */
  child = false;
  /** Released by the application: its handle is refused; it lingers until it closes. */
  released = false;
  /** When it next needs a dispatch (valid while asleep), `NEVER` when only ingress helps. */
  at: Instant = NEVER;
  /** Position in the scheduler's heap, or -1. */
  heapPos = -1;
  /** In the ready list. */
  ready = false;
  /**
   * Kept in the ready list by a poll that did not reach it (the device filled up), untouched
   * since: the next poll that takes it does not report it changed again.
   */
  quiet = false;
  /** Removed from the set (a ready-list entry left behind is skipped). */
  removed = false;

  constructor(handle: number, socket: S, kind: number, sched: Scheduler<S>) {
    this.handle = handle;
    this.socket = socket;
    this.kind = kind;
    this.#sched = sched;
  }

  /** The socket changed (the waker its socket calls). */
  wake(): void {
    if (this.ready) this.quiet = false;
    else if (!this.removed) this.#sched.wake(this);
  }
}

/** The ready list and the deadline heap of a socket set. */
export class Scheduler<S = unknown> {
  #ready: SocketMeta<S>[] = [];
  /** The ready list being worked through by a poll (swapped with `#ready`). */
  #taken: SocketMeta<S>[] = [];
  readonly #heap: SocketMeta<S>[] = [];
  /**
   * Told of each socket a poll takes (woken by ingress, an application call or its timer: the
   * sockets whose state may change in this poll) and of each socket that leaves the set, so an
   * async layer settles only the callers of those sockets; `null` for none.
   */
  onChange: ((socket: S) => void) | null = null;

  /** The number of ready sockets. */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** The ready sockets (do not modify). */
  get readyList(): readonly SocketMeta<S>[] {
    return this.#ready;
  }

  /** The earliest deadline of a sleeping socket, or `NEVER`. */
  get nextDeadline(): Instant {
    return this.#heap.length === 0 ? NEVER : this.#heap[0]!.at;
  }

  /** The number of sleeping sockets with a deadline. */
  get sleeping(): number {
    return this.#heap.length;
  }

  /** Moves a socket to the ready list. */
  wake(m: SocketMeta<S>): void {
    if (m.ready) m.quiet = false;
    if (m.ready || m.removed) return;
    if (m.heapPos >= 0) this.#heapRemove(m);
    m.ready = true;
    this.#ready.push(m);
  }

  /** Wakes every sleeping socket whose deadline is at or before `now`. */
  due(now: Instant): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.at <= now) this.wake(heap[0]!);
  }

  /**
   * Takes the ready list for a poll: the returned array holds the ready sockets (and maybe
   * removed ones, flagged); sockets woken meanwhile go to a fresh list. Each taken socket stays
   * `ready` until {@linkcode Scheduler.sleep} or {@linkcode Scheduler.requeue}.
   */
  take(): SocketMeta<S>[] {
    const list = this.#ready;
    this.#ready = this.#taken;
    emptyList(this.#ready);
    this.#taken = list;
    const f = this.onChange;
    if (f !== null) {
      for (let i = 0; i < list.length; i++) {
        const m = list[i]!;
        if (!m.removed && !m.quiet) f(m.socket);
      }
    }
    return list;
  }

  /** Hands back the list {@linkcode Scheduler.take} gave, worked through: it is emptied. */
  done(list: SocketMeta<S>[]): void {
    emptyList(list);
  }

  /** A taken socket that still has work goes back to the ready list. */
  requeue(m: SocketMeta<S>): void {
    if (m.removed) return;
    m.ready = true;
    m.quiet = false;
    this.#ready.push(m);
  }

  /**
   * A taken socket the poll did not reach goes back to the ready list unchanged: the next poll
   * takes it without reporting it again (unless something wakes it meanwhile), so a burst that
   * waits for room on the device costs no settles per poll.
   */
  keep(m: SocketMeta<S>): void {
    if (m.removed) return;
    m.ready = true;
    m.quiet = true;
    this.#ready.push(m);
  }

  /** A taken socket sleeps until `at` (`NEVER`: until woken). */
  sleep(m: SocketMeta<S>, at: Instant): void {
    m.ready = false;
    m.quiet = false;
    m.at = at;
    if (m.removed || at === NEVER) return;
    const heap = this.#heap;
    m.heapPos = heap.length;
    heap.push(m);
    this.#up(m.heapPos);
  }

  /** Forgets a socket that leaves the set. */
  remove(m: SocketMeta<S>): void {
    m.removed = true;
    this.onChange?.(m.socket);
    if (m.heapPos >= 0) this.#heapRemove(m);
    if (m.ready) {
      // Shifted by hand: splice would allocate the array of removed entries.
      const r = this.#ready, i = r.indexOf(m);
      if (i >= 0) {
        for (let j = i + 1; j < r.length; j++) r[j - 1] = r[j]!;
        r.length--;
      }
      m.ready = false;
    }
  }

  #heapRemove(m: SocketMeta<S>): void {
    const heap = this.#heap;
    const p = m.heapPos;
    const last = heap.pop()!;
    m.heapPos = -1;
    if (last === m) return;
    heap[p] = last;
    last.heapPos = p;
    this.#down(p);
    this.#up(last.heapPos);
  }

  #up(p: number): void {
    const heap = this.#heap;
    const m = heap[p]!;
    while (p > 0) {
      const q = (p - 1) >> 1;
      const t = heap[q]!;
      if (t.at <= m.at) break;
      heap[p] = t;
      t.heapPos = p;
      p = q;
    }
    heap[p] = m;
    m.heapPos = p;
  }

  #down(p: number): void {
    const heap = this.#heap, n = heap.length;
    const m = heap[p]!;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.at < heap[c]!.at) c++;
      const t = heap[c]!;
      if (t.at >= m.at) break;
      heap[p] = t;
      t.heapPos = p;
      p = c;
    }
    heap[p] = m;
    m.heapPos = p;
  }
}
