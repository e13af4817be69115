/**
 * The accept machinery a listener of the async layer shares (`TcpListener`,
 * `UdpFlowListener`): the callers waiting in `accept()`, the closed and refed flags, settling
 * after a poll, failing, and async iteration. Each listener supplies how to take its next item
 * out of the core and what closing releases; it stays the watcher the driver settles.
 *
 * @module
 */

import type { Watcher } from "./driver.ts";
import { badResource } from "./errors.ts";
import { takeFirst } from "./_waiters.ts";
import type { StreamHost } from "./tcp_stream.ts";

/** What an accept queue needs from its stack. */
export type AcceptHost = Pick<StreamHost, "watch" | "unwatch" | "refChanged">;

interface AcceptWaiter<T> {
  resolve(item: T): void;
  reject(e: unknown): void;
}

/** Callers waiting for the next item of a listener, in order. */
export class AcceptQueue<T> {
  readonly #host: AcceptHost;
  readonly #owner: Watcher;
  readonly #take: () => T | null;
  readonly #waiters: AcceptWaiter<T>[] = [];
  #closed = false;
  #refed = true;

  /**
   * @param host The stack.
   * @param owner The listener, watched while a caller waits.
   * @param take Takes the next item out of the core, or `null` when none is ready.
   */
  constructor(host: AcceptHost, owner: Watcher, take: () => T | null) {
    this.#host = host;
    this.#owner = owner;
    this.#take = take;
  }

  /** Whether `close` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a pending accept keeps the process alive. */
  get refed(): boolean {
    return this.#refed;
  }

  /** The next item: at once when one is ready and nobody waits before, else after a poll. */
  accept(): Promise<T> {
    if (this.#closed) return Promise.reject(badResource("Listener"));
    if (this.#waiters.length === 0) {
      const item = this.#take();
      if (item !== null) return Promise.resolve(item);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#host.watch(this.#owner);
    });
  }

  /**
   * Marks the queue closed, rejects pending accepts with `BadResource` and stops watching;
   * the listener then releases its core state. Throws `BadResource` when already closed.
   */
  close(): void {
    if (this.#closed) throw badResource("Listener");
    this.#closed = true;
    const err = badResource("Listener");
    for (const w of this.#waiters.splice(0)) w.reject(err);
    this.#host.unwatch(this.#owner);
  }

  /** Sets whether a pending accept keeps the process alive. */
  setRefed(refed: boolean): void {
    this.#refed = refed;
    this.#host.refChanged();
  }

  /** Rejects every pending accept with `error`. */
  fail(error: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  /** Settles pending accepts with the items ready; returns whether any still wait. */
  settle(): boolean {
    while (this.#waiters.length > 0) {
      const item = this.#take();
      if (item === null) break;
      takeFirst(this.#waiters)!.resolve(item);
    }
    return this.#waiters.length > 0;
  }

  /** Accepted items until the queue closes. */
  async *items(): AsyncIterableIterator<T> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }
}
