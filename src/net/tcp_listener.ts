/**
 * `TcpListener`: a listening TCP endpoint of a {@linkcode NetStack}, shaped like
 * `Deno.Listener`.
 *
 * @module
 */

import type { TcpListenerInfo, TcpListenSocket } from "../socket/tcp/listener.ts";
import type { TcpSocket } from "../socket/tcp/socket.ts";
import { badResource } from "./errors.ts";
import { type StreamHost, TcpStream, toNetAddr } from "./tcp_stream.ts";

/** What a listener needs from its stack. */
export interface ListenerHost extends StreamHost {
  /** Takes the next established connection of `listener` out of the core, or `null`. */
  accept(listener: TcpListenSocket): TcpSocket | null;
  /** Removes the listening socket from the stack (after `close`). */
  unlisten(listener: TcpListenSocket): void;
}

interface AcceptWaiter {
  resolve(conn: TcpStream): void;
  reject(e: unknown): void;
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
  readonly #accepts: AcceptWaiter[] = [];
  #closed = false;
  #refed = true;

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
  }

  /** The listening address; `port` is the one chosen when `port: 0` was asked for. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** Whether a pending accept keeps the process alive. */
  get refed(): boolean {
    return this.#refed;
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
    if (this.#closed) return Promise.reject(badResource("Listener"));
    if (this.#accepts.length === 0) {
      const child = this.#host.accept(this.#socket);
      if (child !== null) return Promise.resolve(new TcpStream(this.#host, child));
    }
    return new Promise((resolve, reject) => {
      this.#accepts.push({ resolve, reject });
      this.#host.watch(this);
    });
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
    if (this.#closed) throw badResource("Listener");
    this.#closed = true;
    const err = badResource("Listener");
    for (const w of this.#accepts.splice(0)) w.reject(err);
    this.#host.unwatch(this);
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
    this.#refed = true;
    this.#host.refChanged();
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
    this.#refed = false;
    this.#host.refChanged();
  }

  /** Closes the listener if still open. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /**
   * Accepted connections until the listener closes.
   *
   * @example
   * ```ts ignore
   * for await (const conn of listener) handle(conn);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<TcpStream> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }

  /** Rejects every pending accept with `error`. */
  fail(error: Error): void {
    for (const w of this.#accepts.splice(0)) w.reject(error);
  }

  /** Settles pending accepts; returns whether any still wait. */
  settle(): boolean {
    try {
      while (this.#accepts.length > 0) {
        const child = this.#host.accept(this.#socket);
        if (child === null) break;
        this.#accepts.shift()!.resolve(new TcpStream(this.#host, child));
      }
    } catch (e) {
      // Never out of the poll loop: the waiting callers get the failure.
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
    return this.#accepts.length > 0;
  }
}
