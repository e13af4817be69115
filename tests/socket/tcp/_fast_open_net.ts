// Two endpoints in memory on explicit time for the TCP Fast Open tests: a client TcpSocket and a
// TcpListenSocket server with its children, one-millisecond hops, and a hook that may drop or
// inspect each segment. Segments are copied when sent (the sender's buffers are reused).

import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { type TcpListenOptions, TcpListenSocket } from "../../../src/socket/tcp/listener.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";

export const CLIENT = Ipv4Address.parse("192.0.2.10");
export const SERVER: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.1"), port: 80 };

/** A segment on the wire: which way it goes, and what it is. */
export interface Sent {
  toServer: boolean;
  repr: TcpRepr;
  t: number;
}

export class FastOpenNet {
  now = 0;
  readonly listener: TcpListenSocket;
  readonly children: TcpSocket[] = [];
  readonly clients: TcpSocket[] = [];
  /** Every segment sent, in order (dropped ones too). */
  readonly log: Sent[] = [];
  /** Return `true` to drop the segment. */
  drop: (s: Sent) => boolean = () => false;
  /** The application's turn in each millisecond, after arrivals and before dispatch. */
  onStep: () => void = () => {};
  #queue: Sent[] = [];
  readonly #rng = new Rng(7);
  readonly #limiter = new TokenBucket({ burst: 1000, interval: 1000 });
  readonly secret = new Uint8Array(16).fill(42);
  #port = 40000;

  constructor(listen: TcpListenOptions) {
    this.listener = new TcpListenSocket(SERVER, listen);
  }

  get cx(): SocketContext {
    return {
      now: this.now,
      random: this.#rng,
      ipMtu: 1500,
      isnSecret: this.secret,
      challengeAckLimiter: this.#limiter,
    };
  }

  /** A new client socket connecting to the server now (`data` is written before any dispatch). */
  connect(opts: TcpSocketOptions, data?: Uint8Array): TcpSocket {
    const s = new TcpSocket(opts);
    s.connect(this.cx, SERVER, { addr: CLIENT, port: this.#port++ });
    if (data !== undefined) s.send(data);
    this.clients.push(s);
    return s;
  }

  #emit(toServer: boolean, repr: TcpRepr): void {
    const copy: TcpRepr = {
      ...repr,
      payload: repr.payload.slice(),
      ...(repr.fastOpen ? { fastOpen: repr.fastOpen.slice() } : {}),
    };
    const s = { toServer, repr: copy, t: this.now };
    this.log.push(s);
    if (!this.drop(s)) this.#queue.push(s);
  }

  /** A segment from the client that arrives in the next millisecond (logged as sent now). */
  inject(repr: TcpRepr): void {
    const s = { toServer: true, repr, t: this.now };
    this.log.push(s);
    this.#queue.push(s);
  }

  #toServer(r: TcpRepr): void {
    const cx = this.cx;
    let child = this.children.find((c) =>
      c.remoteEndpoint?.port === r.srcPort && c.state !== "closed"
    );
    if (child === undefined) {
      const made = this.listener.onSyn(cx, CLIENT, SERVER.addr, r);
      if (made === null) return;
      this.children.push(made);
      child = made;
    }
    const reply = child.process(cx, CLIENT, SERVER.addr, r);
    if (reply !== null) this.#emit(false, reply);
  }

  #toClient(r: TcpRepr): void {
    const c = this.clients.find((s) => s.localEndpoint?.port === r.dstPort);
    const reply = c?.process(this.cx, SERVER.addr, CLIENT, r) ?? null;
    if (reply !== null) this.#emit(true, reply);
  }

  /** Dispatches everything due now. */
  dispatch(): void {
    const cx = this.cx;
    const toServer = {
      emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#emit(true, r), true),
    };
    const toClient = {
      emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#emit(false, r), true),
    };
    let more = true;
    while (more) {
      more = false;
      for (const c of this.clients) while (c.dispatch(cx, toServer)) more = true;
      for (const c of this.children) while (c.dispatch(cx, toClient)) more = true;
    }
  }

  /** Runs the milliseconds before `until`: each segment arrives one millisecond after it left. */
  run(until: number): void {
    for (; this.now < until; this.now++) {
      const due = this.#queue.filter((s) => s.t < this.now);
      this.#queue = this.#queue.filter((s) => s.t >= this.now);
      for (const s of due) {
        if (s.toServer) this.#toServer(s.repr);
        else this.#toClient(s.repr);
      }
      this.onStep();
      this.dispatch();
    }
  }
}

/** Everything readable on `s` now. */
export function readAll(s: TcpSocket): Uint8Array {
  const out: number[] = [];
  const buf = new Uint8Array(65536);
  for (let n = s.recv(buf); n > 0; n = s.recv(buf)) out.push(...buf.subarray(0, n));
  return new Uint8Array(out);
}
