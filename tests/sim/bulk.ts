/**
 * Bulk TCP transfers over a simulated {@linkcode Pair}: node `a` connects to node `b`, each side
 * sends a deterministic pseudo-random stream of a given length and reads everything the other
 * sends, hashing both with SHA-256 so corruption anywhere shows up as a hash mismatch.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { Rng } from "../../src/rand.ts";
import { TcpSocket, type TcpSocketOptions } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import type { Instant } from "../../src/time.ts";
import type { Pair, SimNode } from "./sim.ts";

const CHUNK = 64 * 1024;

/** A deterministic byte stream fed to a socket, hashed as it is accepted. */
class Source {
  readonly total: number;
  readonly hash: Hash = createHash("sha256");
  #rng: Rng;
  #buf = new Uint8Array(CHUNK);
  #off = 0;
  #len = 0;
  sent = 0;

  constructor(total: number, seed: number) {
    this.total = total;
    this.#rng = new Rng(seed);
  }

  /** Writes as much as the socket takes; `true` when it took anything. */
  pump(sock: TcpSocket): boolean {
    let did = false;
    while (this.sent < this.total && sock.maySend) {
      if (this.#off === this.#len) {
        this.#len = Math.min(CHUNK, this.total - this.sent);
        this.#rng.fill(this.#buf.subarray(0, this.#len));
        this.#off = 0;
      }
      const n = sock.send(this.#buf.subarray(this.#off, this.#len));
      if (n === 0) break;
      this.hash.update(this.#buf.subarray(this.#off, this.#off + n));
      this.#off += n;
      this.sent += n;
      did = true;
    }
    return did;
  }
}

/** Reads everything a socket delivers, hashing it. */
class Sink {
  readonly hash: Hash = createHash("sha256");
  #buf = new Uint8Array(CHUNK);
  received = 0;
  doneAt: Instant = -1;

  drain(sock: TcpSocket, expect: number, now: Instant): boolean {
    let did = false;
    for (;;) {
      const n = sock.recv(this.#buf);
      if (n === 0) break;
      this.hash.update(this.#buf.subarray(0, n));
      this.received += n;
      did = true;
    }
    if (this.received >= expect && this.doneAt < 0) this.doneAt = now;
    return did;
  }
}

/** One side of a bulk transfer. */
export interface BulkEnd {
  readonly node: SimNode;
  readonly socket: TcpSocket;
  /** Bytes this side sends, and how many it handed to the socket so far. */
  readonly source: { readonly total: number; readonly sent: number };
  /** Bytes received so far and the instant the last expected byte was read (-1 until then). */
  readonly sink: { readonly received: number; readonly doneAt: Instant };
  /** When this side reached ESTABLISHED (-1 until then). */
  readonly establishedAt: Instant;
  /** SHA-256 (hex) of what this side sent; final once everything was sent. */
  sentDigest(): string;
  /** SHA-256 (hex) of what this side received. */
  receivedDigest(): string;
}

/** Options of {@linkcode startBulk}. */
export interface BulkOptions {
  /** Bytes `a` sends to `b`. */
  aToB: number;
  /** Bytes `b` sends to `a`; default 0. */
  bToA?: number;
  /** Socket options of both ends (receive buffer and so on). */
  socket?: TcpSocketOptions;
  /** Extra options of `a`'s socket (for example a forced ISN). */
  socketA?: TcpSocketOptions;
  /** Extra options of `b`'s socket. */
  socketB?: TcpSocketOptions;
  /** Server port on `b`; default 5001. */
  port?: number;
  /** Close each side once it has sent and received everything; default `true`. */
  close?: boolean;
}

/** A running transfer; `done()` holds once both sides read all they expect. */
export interface Bulk {
  readonly a: BulkEnd;
  readonly b: BulkEnd;
  done(): boolean;
}

function makeEnd(
  node: SimNode,
  socket: TcpSocket,
  sendTotal: number,
  recvTotal: number,
  seed: number,
  close: boolean,
): BulkEnd {
  const source = new Source(sendTotal, seed);
  const sink = new Sink();
  let establishedAt = -1;
  let closed = false;
  node.addApp((now) => {
    if (establishedAt < 0 && socket.state === "established") establishedAt = now;
    let did = source.pump(socket);
    did = sink.drain(socket, recvTotal, now) || did;
    if (
      close && !closed && source.sent === sendTotal && sink.received >= recvTotal &&
      (socket.state === "established" || socket.state === "closeWait")
    ) {
      closed = true;
      socket.close();
      did = true;
    }
    return did;
  });
  return {
    node,
    socket,
    source,
    sink,
    get establishedAt() {
      return establishedAt;
    },
    sentDigest: () => source.hash.copy().digest("hex"),
    receivedDigest: () => sink.hash.copy().digest("hex"),
  };
}

/** Opens a connection from `pair.a` to `pair.b` and moves data both ways from the next poll. */
export function startBulk(pair: Pair, options: BulkOptions): Bulk {
  const port = options.port ?? 5001;
  const bToA = options.bToA ?? 0;
  const close = options.close ?? true;
  const server = new TcpSocket({ ...options.socket, ...options.socketB });
  pair.b.iface.listenTcp(pair.b.sockets, server, { addr: Ipv4Address.UNSPECIFIED, port });
  const client = new TcpSocket({ ...options.socket, ...options.socketA });
  pair.a.iface.connectTcp(
    pair.a.sockets,
    client,
    { addr: Ipv4Address.parse("10.0.0.2"), port },
    {},
    pair.sim.now,
  );
  const seed = pair.sim.rng.nextU32();
  const a = makeEnd(pair.a, client, options.aToB, bToA, seed, close);
  const b = makeEnd(pair.b, server, bToA, options.aToB, seed ^ 0x5bd1e995, close);
  return {
    a,
    b,
    done: () => a.sink.received >= bToA && b.sink.received >= options.aToB,
  };
}
