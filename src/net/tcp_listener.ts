/**
 * `TcpListener`: a listening TCP endpoint of a {@linkcode NetStack}, shaped like
 * `Deno.Listener`.
 *
 * @module
 */

import type { TcpListenerInfo, TcpListenSocket } from "../socket/tcp/listener.ts";
import type { TcpSocket } from "../socket/tcp/socket.ts";
import { AcceptQueue } from "./_accept_queue.ts";
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
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 8080 });
 * console.log(listener.addr.port); // 8080
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 8080 });
 * for await (const peer of listener) {
 *   console.log(peer.remoteAddr.hostname); // 192.0.2.2
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
   * @internal
   */
  constructor(host: ListenerHost, socket: TcpListenSocket) {
    this.#host = host;
    this.#socket = socket;
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
   *
   * await using stack = new NetStack({ device: linkPair()[0], addresses: ["192.0.2.1/24"] });
   * const listener = stack.listen({ port: 80 });
   * console.log(listener.info.pendingAccepts); // 0
   * listener.close();
   * ```
   */
  get info(): TcpListenerInfo {
    return this.#socket.info;
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
   * ```ts ignore
   * const conn = await listener.accept();
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
   * ```ts ignore
   * listener.close();
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
   * ```ts ignore
   * listener.ref();
   * ```
   */
  ref(): void {
    this.#queue.setRefed(true);
  }

  /**
   * Lets the process exit while an accept is pending.
   *
   * @example
   * ```ts ignore
   * listener.unref();
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
   * ```ts ignore
   * for await (const conn of listener) handle(conn);
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
