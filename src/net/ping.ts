/**
 * ICMP echo ("ping") for a {@linkcode NetStack}: one ICMP socket per stack, shared by every ping.
 *
 * @module
 */

import type { IcmpSocket } from "../socket/icmp.ts";
import type { IpAddress } from "../wire/address.ts";
import { monotonicNow } from "../time.ts";
import type { Watcher } from "./driver.ts";
import { abortError, netError } from "./errors.ts";

/**
 * Options of {@linkcode NetStack.ping}.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack, type PingOptions } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const options: PingOptions = { hostname: "192.0.2.1", size: 100, timeout: 1000 };
 * const reply = await s2.ping(options);
 * assert.equal(reply.bytes, 100);
 * await assert.rejects(s2.ping({ hostname: "192.0.2.1", size: 70000 }), RangeError);
 * ```
 */
export interface PingOptions {
  /** The destination: an IPv4 or IPv6 literal. */
  readonly hostname: string;
  /** Echo data bytes, 0–65000 (default 56, like ping(8)). */
  readonly size?: number;
  /** Milliseconds to wait for the reply, > 0 (default 2000). */
  readonly timeout?: number;
  /** Gives up early; rejects with the signal's reason (an `AbortError`). */
  readonly signal?: AbortSignal;
}

/**
 * The answer to one echo request.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack, type PingResult } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const show = (r: PingResult) => `${r.bytes} bytes from ${r.from}: seq=${r.seq}`;
 * const first = await s2.ping({ hostname: "192.0.2.1" });
 * const second = await s2.ping({ hostname: "192.0.2.1" });
 * assert.equal(show(first), `56 bytes from 192.0.2.1: seq=${first.seq}`);
 * assert.equal(second.seq, first.seq + 1);
 * assert.ok(first.rtt >= 0);
 * ```
 */
export interface PingResult {
  /** The replying address. */
  readonly from: string;
  /** The echo sequence number. */
  readonly seq: number;
  /** Echo data bytes in the reply. */
  readonly bytes: number;
  /** Round-trip time in milliseconds, measured by the async layer's clock. */
  readonly rtt: number;
}

interface Pending {
  readonly remote: IpAddress;
  readonly sentAt: number;
  readonly resolve: (r: PingResult) => void;
  readonly reject: (e: unknown) => void;
  readonly done: () => void;
}

/** Sends echo requests on one ICMP socket and matches replies and errors by sequence number. */
export class Pinger implements Watcher {
  readonly #socket: IcmpSocket;
  readonly #wake: () => void;
  readonly #pending = new Map<number, Pending>();
  readonly #buf = new Uint8Array(65536);
  #seq = 0;
  /** Pings keep the process alive while they wait, like any pending operation. */
  readonly refed = true;

  /** The ICMP socket: the stack's loop settles pings after a poll that changed it. */
  get key(): object {
    return this.#socket;
  }

  /**
   * @param socket A bound ICMP socket registered with the stack's interface.
   * @param wake Schedules a poll.
   */
  constructor(socket: IcmpSocket, wake: () => void) {
    this.#socket = socket;
    this.#wake = wake;
  }

  /**
   * Sends one echo request and waits for its reply.
   *
   * @param remote The destination.
   * @param options Size, timeout and signal.
   * @param watch Registers this pinger with the driver while a ping waits.
   * @returns The reply.
   */
  ping(
    remote: IpAddress,
    options: PingOptions,
    watch: (w: Watcher) => void,
  ): Promise<PingResult> {
    // NetStack.ping checked the options.
    const size = options.size ?? 56;
    const timeout = options.timeout ?? 2000;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i & 0xff;
    return new Promise<PingResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(netError("TimedOut", `Ping to ${remote} timed out after ${timeout} ms`));
      }, timeout);
      const onAbort = () => {
        done();
        reject(abortError(signal!));
      };
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(seq);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(seq, { remote, sentAt: monotonicNow(), resolve, reject, done });
      if (!this.#socket.sendEcho(remote, seq, data)) {
        done();
        reject(
          netError("TimedOut", `Ping to ${remote} could not be queued: the send queue is full`),
        );
        return;
      }
      watch(this);
      this.#wake();
    });
  }

  /** Matches received replies and errors; returns whether pings still wait. */
  settle(): boolean {
    try {
      this.#drain();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e))); // never out of the poll loop
    }
    return this.#pending.size > 0;
  }

  #drain(): void {
    for (let r = this.#socket.recv(this.#buf); r !== null; r = this.#socket.recv(this.#buf)) {
      const p = this.#pending.get(r.seq);
      if (p === undefined) continue; // a late reply to a ping that already gave up
      if (r.kind === "echoReply") {
        if (!r.remote.equals(p.remote)) continue;
        p.done();
        p.resolve({
          from: r.remote.toString(),
          seq: r.seq,
          bytes: r.length,
          rtt: monotonicNow() - p.sentAt,
        });
      } else if (r.error !== null) {
        p.done();
        const e = r.error;
        p.reject(
          netError(
            "NetworkUnreachable",
            `Ping to ${p.remote} failed: ICMPv${e.version} type ${e.type} code ${e.code} from ${e.from}`,
          ),
        );
      }
    }
  }

  /** Rejects every waiting ping. */
  fail(error: Error): void {
    for (const p of [...this.#pending.values()]) {
      p.done();
      p.reject(error);
    }
  }
}
