/**
 * `TcpListener`: a listening TCP endpoint of a {@linkcode NetStack}, shaped like
 * `Deno.Listener`.
 *
 * @module
 */

import type { TcpListenerInfo, TcpListenSocket } from "../socket/tcp/listener.ts";
import type { TcpSocket } from "../socket/tcp/socket.ts";
import { AcceptQueue } from "./_accept_queue.ts";
import { badResource } from "./errors.ts";
import { type StreamHost, TcpStream, toNetAddr } from "./tcp_stream.ts";

/** What a listener needs from its stack. */
export interface ListenerHost extends StreamHost {
  /** Takes the next established connection of `listener` out of the core, or `null`. */
  accept(listener: TcpListenSocket): TcpSocket | null;
  /** Removes the listening socket from the stack (after `close`). */
  unlisten(listener: TcpListenSocket): void;
}

/**
 * A listening endpoint with a real backlog: the core keeps a bounded SYN queue and a bounded
 * accept queue, so connections complete their handshake before `accept()` is called.
 *
 * `accept()` resolves to a {@linkcode TcpStream}; `close()` rejects pending accepts with
 * `Deno.errors.BadResource` and ends async iteration.
 *
 * @example Serve connections one by one
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 8080 });
 * assert.equal(listener.addr.port, 8080);
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 8080 });
 * for await (const peer of listener) {
 *   assert.equal(peer.remoteAddr.hostname, "192.0.2.2");
 *   peer.close();
 *   break;
 * }
 * conn.close();
 * listener.close();
 * ```
 */
export class TcpListener implements Deno.Listener<TcpStream, Deno.NetAddr> {
  readonly #host: ListenerHost;
  readonly #socket: TcpListenSocket;
  readonly #addr: Deno.NetAddr;
  readonly #queue: AcceptQueue<TcpStream>;

  /**
   * Wraps a registered listening socket. Applications get listeners from `NetStack.listen`.
   *
   * @param host The stack.
   * @param socket The core listening socket, already registered.
   * @param options `inSocketSet: false` for a listening socket outside the stack's socket set
   * (its accept queue growing is then not reported by the set; default `true`).
   * @internal
   */
  constructor(
    host: ListenerHost,
    socket: TcpListenSocket,
    options: { readonly inSocketSet?: boolean } = {},
  ) {
    this.#host = host;
    this.#socket = socket;
    this.key = options.inSocketSet === false ? undefined : socket;
    this.#addr = toNetAddr(socket.local, "tcp");
    this.#queue = new AcceptQueue(host, this, () => {
      const child = host.accept(socket);
      return child === null ? null : new TcpStream(host, child);
    });
  }

  /** The listening address; `port` is the one chosen when `port: 0` was asked for. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /**
   * The core listening socket, as the key the stack's loop settles this listener by: after a
   * poll in which its accept queue grew, never after the others. `undefined` (settled after
   * every poll) for a listener that is not in the stack's socket set (the accept-any one).
   *
   * @internal
   */
  readonly key: object | undefined;

  /** Whether a pending accept keeps the process alive. */
  get refed(): boolean {
    return this.#queue.refed;
  }

  /**
   * The listener's queues and counters: SYNs received and dropped, connections waiting in the
   * SYN and accept queues, accept-queue overflows. Live: read it again for new values.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 80 });
   * assert.equal(listener.info.pendingAccepts, 0);
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
   * (await listener.accept()).close();
   * assert.equal(listener.info.synsReceived, 1);
   * assert.equal(listener.info.accepted, 1);
   * assert.equal(listener.info.pendingAccepts, 0);
   * conn.close();
   * listener.close();
   * ```
   */
  get info(): TcpListenerInfo {
    return this.#socket.info;
  }

  /**
   * Issues TCP Fast Open cookies under `key` from now on (a listener made with
   * `fastOpen: true`). Cookies issued under the key before stay valid until the next rotation,
   * as Linux's primary and backup keys, so clients that hold one keep sending data in their SYN
   * while new clients get cookies under the new key. Rotate at least as often as cookies should
   * expire: a cookie lives for at most two rotations. The first key is derived from the stack's
   * secret.
   *
   * @param key 16 secret bytes (e.g. from `crypto.getRandomValues`).
   * @throws {TypeError} When `key` is not a `Uint8Array`, or the listener does not take Fast
   * Open.
   * @throws {RangeError} When `key` is not 16 bytes.
   * @throws {Deno.errors.BadResource} After `close()`.
   *
   * @example A cookie lives through one rotation, not two
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 80, fastOpen: true });
   * const opts = { hostname: "192.0.2.1", port: 80, fastOpen: true };
   * async function once(): Promise<number> {
   *   const conn = await client.connect(opts);
   *   await conn.write(new Uint8Array([1]));
   *   const peer = await listener.accept();
   *   assert.equal(await peer.read(new Uint8Array(1)), 1);
   *   peer.close();
   *   conn.close();
   *   return listener.info.fastOpenAccepted;
   * }
   * assert.equal(await once(), 0); // fetches a cookie
   * assert.equal(await once(), 1); // data in the SYN
   * listener.rotateFastOpenKey(crypto.getRandomValues(new Uint8Array(16)));
   * assert.equal(await once(), 2); // the previous key still counts
   * listener.rotateFastOpenKey(crypto.getRandomValues(new Uint8Array(16)));
   * listener.rotateFastOpenKey(crypto.getRandomValues(new Uint8Array(16)));
   * assert.equal(await once(), 2); // too old: an ordinary handshake and a fresh cookie
   * assert.equal(listener.info.fastOpenRejected, 1);
   * assert.equal(await once(), 3);
   * assert.throws(() => listener.rotateFastOpenKey(new Uint8Array(8)), RangeError);
   * listener.close();
   * ```
   */
  rotateFastOpenKey(key: Uint8Array): void {
    if (!(key instanceof Uint8Array)) {
      throw new TypeError(`Invalid Fast Open key: need a Uint8Array of 16 bytes`);
    }
    if (this.#queue.closed) throw badResource("Listener");
    if (!this.#socket.fastOpen) {
      throw new TypeError(
        "Cannot rotate the Fast Open key: the listener was made without fastOpen",
      );
    }
    this.#socket.rotateFastOpenKey(key);
  }

  /**
   * The core listening socket, for tests and code that imports the layer entry points
   * (`@smol/net/socket`).
   *
   * @internal
   */
  get socket(): TcpListenSocket {
    return this.#socket;
  }

  /**
   * The next established connection.
   *
   * @returns The connection.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 80 });
   * const pending = listener.accept();
   * const out = await client.connect({ hostname: "192.0.2.1", port: 80 });
   * const conn = await pending;
   * assert.equal(conn.remoteAddr.port, out.localAddr.port);
   * conn.close();
   * out.close();
   * listener.close();
   * ```
   */
  accept(): Promise<TcpStream> {
    return this.#queue.accept();
  }

  /**
   * Stops listening: pending accepts reject with `BadResource`, connections not yet accepted
   * are reset, and the port becomes free.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const listener = stack.listen({ port: 80 });
   * const pending = listener.accept();
   * listener.close();
   * await assert.rejects(pending, Deno.errors.BadResource);
   * stack.listen({ port: 80 }).close(); // the port is free again
   * ```
   */
  close(): void {
    this.#queue.close();
    this.#socket.close();
    this.#host.unlisten(this.#socket);
    this.#host.wake();
  }

  /**
   * Keeps the process alive while an accept is pending (the default).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const listener = stack.listen({ port: 80 });
   * listener.unref();
   * listener.ref();
   * assert.equal(listener.refed, true);
   * listener.close();
   * ```
   */
  ref(): void {
    this.#queue.setRefed(true);
  }

  /**
   * Lets the process exit while an accept is pending.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const listener = stack.listen({ port: 80 });
   * assert.equal(listener.refed, true);
   * listener.unref(); // a pending accept no longer keeps the process alive
   * assert.equal(listener.refed, false);
   * listener.close();
   * ```
   */
  unref(): void {
    this.#queue.setRefed(false);
  }

  /** Closes the listener if still open. */
  [Symbol.dispose](): void {
    if (!this.#queue.closed) this.close();
  }

  /**
   * Accepted connections until the listener closes.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 80 });
   * const c1 = await client.connect({ hostname: "192.0.2.1", port: 80 });
   * const c2 = await client.connect({ hostname: "192.0.2.1", port: 80 });
   * const ports: number[] = [];
   * for await (const conn of listener) {
   *   ports.push(conn.remoteAddr.port);
   *   conn.close();
   *   if (ports.length === 2) listener.close(); // ends the loop
   * }
   * assert.deepEqual(ports.sort(), [c1.localAddr.port, c2.localAddr.port].sort());
   * c1.close();
   * c2.close();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<TcpStream> {
    return this.#queue.items();
  }

  /** Rejects every pending accept with `error`. */
  fail(error: Error): void {
    this.#queue.fail(error);
  }

  /** Settles pending accepts; returns whether any still wait. */
  settle(): boolean {
    try {
      return this.#queue.settle();
    } catch (e) {
      // Never out of the poll loop: the waiting callers get the failure.
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }
}
