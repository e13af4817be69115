/**
 * The state behind a `SocketSet` and the bodies of its lifecycle methods: handles, the dense
 * list, the released (lingering) connections, the demux index, the egress schedule and the
 * TIME-WAIT records. `SocketSet` keeps the public methods and delegates here. Internal to the
 * iface folder.
 *
 * @module
 */

import { IcmpSocket } from "../socket/icmp.ts";
import { RawSocket } from "../socket/raw.ts";
import { UdpSocket } from "../socket/udp.ts";
import { TcpListenSocket, TcpSocket } from "../socket/tcp/mod.ts";
import { Ipv4Address } from "../wire/address.ts";
import { setWaker } from "../socket/waker.ts";
import { NetError } from "./errors.ts";
import { TimeWaitTable } from "./time_wait.ts";
import { DemuxIndex } from "./demux_index.ts";
import { I_NONE, Scheduler, SocketMeta } from "./socket_meta.ts";

/**
 * A number naming a socket in a {@linkcode SocketSet}. Handles are never reused by a set.
 *
 * @example
 * ```ts
 * import { SocketSet } from "@smol/net/iface";
 * import { UdpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const set = new SocketSet();
 * const udp = new UdpSocket();
 * const handle: number = set.add(udp);
 * assert.equal(set.socket(handle), udp);
 * set.remove(handle);
 * assert.notEqual(set.add(new UdpSocket()), handle); // handles are never reused
 * ```
 */
export type SocketHandle = number;

/**
 * Any socket a {@linkcode SocketSet} holds.
 *
 * @example
 * ```ts
 * import { type AnySocket, SocketSet } from "@smol/net/iface";
 * import { IcmpSocket, TcpSocket, UdpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const all: AnySocket[] = [new TcpSocket(), new UdpSocket(), new IcmpSocket()];
 * const set = new SocketSet();
 * for (const s of all) set.add(s);
 * assert.equal(set.size, 3);
 * ```
 */
export type AnySocket = TcpSocket | TcpListenSocket | UdpSocket | IcmpSocket | RawSocket;

/** The default bound on the sockets of a {@linkcode SocketSet}. */
export const DEFAULT_MAX_SOCKETS = 65536;

/** Socket kinds as `SocketMeta.kind` holds them. */
export const K_TCP = 0, K_LISTEN = 1, K_UDP = 2, K_ICMP = 3, K_RAW = 4;

/** What the set knows of one socket. */
export type Entry = SocketMeta<AnySocket>;

function kindOf(socket: AnySocket): number {
  return socket instanceof UdpSocket
    ? K_UDP
    : socket instanceof IcmpSocket
    ? K_ICMP
    : socket instanceof RawSocket
    ? K_RAW
    : socket instanceof TcpListenSocket
    ? K_LISTEN
    : socket instanceof TcpSocket
    ? K_TCP
    : -1;
}

function notOpen(handle: SocketHandle): NetError {
  return new NetError(
    "EBADF",
    `Socket handle ${handle} is not open: it was removed, reaped or released`,
  );
}

/**
 * A permanent entry in each registry's Maps and released Set, under keys no caller can name (an
 * object among number handles, a plain object among sockets), never in the dense list. V8
 * shrinks a Map or Set (allocating a new table) on a delete that leaves fewer entries than a
 * quarter of its capacity; a client's set holds one connection at a time, so without it
 * every connection's removal allocated new tables.
 */
const PAD: Entry = new SocketMeta<AnySocket>(
  0,
  new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 1 }),
  K_LISTEN,
  new Scheduler<AnySocket>(),
);
const PAD_KEY = {};

/** The sockets of one set and who owns their lifetimes. */
export class SocketRegistry {
  readonly maxSockets: number;
  nextHandle = 1;
  readonly byHandle = new Map<SocketHandle | object, Entry>([[PAD_KEY, PAD]]);
  readonly bySocket = new Map<AnySocket | object, Entry>([[PAD_KEY, PAD]]);
  readonly list: Entry[] = [];
  readonly index = new DemuxIndex<AnySocket>();
  readonly raw: RawSocket[] = [];
  readonly timeWait = new TimeWaitTable();
  readonly sched = new Scheduler<AnySocket>();
  /** Released TCP connections that linger until they close, and the pad. */
  readonly #released = new Set<Entry>([PAD]);

  constructor(maxSockets: number = DEFAULT_MAX_SOCKETS) {
    if (!Number.isInteger(maxSockets) || maxSockets < 1) {
      throw new RangeError(`Invalid maxSockets ${maxSockets}: must be a positive integer`);
    }
    this.maxSockets = maxSockets;
  }

  /** Whether the set holds `maxSockets` sockets. */
  get isFull(): boolean {
    return this.list.length >= this.maxSockets;
  }

  /** `SocketSet.add`. */
  add(socket: AnySocket): SocketHandle {
    if (this.bySocket.has(socket)) throw new TypeError("Socket is already in the set");
    if (this.isFull) {
      throw new NetError(
        "ENOBUFS",
        `Socket set is full: it holds its maximum of ${this.maxSockets}`,
      );
    }
    const kind = kindOf(socket);
    if (kind < 0) throw new TypeError("Not a socket");
    const e: Entry = new SocketMeta(this.nextHandle++, socket, kind, this.sched);
    e.pos = this.list.length;
    this.list.push(e);
    this.byHandle.set(e.handle, e);
    this.bySocket.set(socket, e);
    if (kind === K_RAW) this.raw.push(socket as RawSocket);
    setWaker(socket, e);
    this.sched.wake(e);
    return e.handle;
  }

  /** `SocketSet.remove`. */
  remove(handle: SocketHandle): AnySocket | undefined {
    const e = this.byHandle.get(handle);
    if (e === undefined) return undefined;
    this.index.unindex(e);
    this.byHandle.delete(handle);
    this.bySocket.delete(e.socket);
    const last = this.list.pop()!;
    if (last !== e) {
      last.pos = e.pos;
      this.list[e.pos] = last;
    }
    if (e.kind === K_RAW) this.raw.splice(this.raw.indexOf(e.socket as RawSocket), 1);
    this.sched.remove(e);
    setWaker(e.socket, null);
    if (e.released) this.#released.delete(e);
    return e.socket;
  }

  /** `SocketSet.at`. */
  at(i: number): AnySocket {
    const e = this.list[i];
    if (e === undefined) throw new RangeError(`Invalid socket position ${i}`);
    return e.socket;
  }

  /** `SocketSet[Symbol.iterator]`: over a copy, so the set may change meanwhile. */
  *entries(): IterableIterator<[SocketHandle, AnySocket]> {
    for (const e of [...this.list]) yield [e.handle, e.socket];
  }

  /** `SocketSet.socket`. */
  socket(handle: SocketHandle): AnySocket {
    const e = this.byHandle.get(handle);
    if (e === undefined || e.released) throw notOpen(handle);
    return e.socket;
  }

  /** `SocketSet.release`. */
  release(handle: SocketHandle): boolean {
    const e = this.byHandle.get(handle);
    if (e === undefined || e.released) throw notOpen(handle);
    const s = e.socket;
    if (!(s instanceof TcpSocket) || s.state === "closed" || s.state === "listen") {
      this.remove(handle);
      return true;
    }
    e.released = true;
    e.child = true; // reaped by the interface when it closes
    this.#released.add(e);
    return false;
  }

  /** The number of released TCP connections still in the set. */
  get releasedCount(): number {
    return this.#released.size - 1;
  }

  /** `SocketSet.lingering`. */
  lingering(): boolean {
    if (this.#released.size === 1) return false; // asked after every turn: no iterator then
    for (const e of this.#released) {
      if (e === PAD) continue;
      const st = (e.socket as TcpSocket).state;
      if (st !== "closed" && st !== "timeWait" && st !== "finWait2") return true;
    }
    return false;
  }

  /** `SocketSet.adopt`. */
  adopt(socket: TcpSocket): SocketHandle | undefined {
    const e = this.bySocket.get(socket);
    if (e === undefined || e.released) return undefined;
    e.child = false;
    return e.handle;
  }

  /**
   * The entry of a socket about to be indexed: in the set, of `kind` (any when negative), and
   * not yet indexed.
   */
  entryForIndex(socket: AnySocket, kind: number): Entry {
    const e = this.bySocket.get(socket);
    if (e === undefined) throw new NetError("EINVAL", "Socket is not in the set");
    if (kind >= 0 && e.kind !== kind) {
      throw new NetError("EINVAL", "Wrong socket kind for this index");
    }
    if (e.index !== I_NONE) throw new NetError("EINVAL", "Socket is already bound");
    return e;
  }

  /** The entry of a listener about to be indexed (`SocketSet.indexTcpListener`). */
  listenerForIndex(socket: TcpListenSocket | TcpSocket): Entry {
    const e = this.entryForIndex(socket, -1);
    if (e.kind !== K_TCP && e.kind !== K_LISTEN) {
      throw new NetError("EINVAL", "Only TCP sockets can listen");
    }
    return e;
  }
}
