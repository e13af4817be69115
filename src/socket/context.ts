/**
 * What a socket gets from the interface on every call: the time, randomness, the path MTU and
 * shared limiters. Built by the Interface once per poll; sockets never keep it.
 *
 * @module
 */

import type { Rng } from "../rand.ts";
import type { Duration, Instant } from "../time.ts";

/**
 * A token bucket: at most `burst` events at once, refilled at `burst` per `interval`.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 *
 * const limiter = new TokenBucket({ burst: 2, interval: 1000 });
 * assert.equal(limiter.allow(0), true);
 * assert.equal(limiter.allow(0), true);
 * assert.equal(limiter.allow(0), false);
 * assert.equal(limiter.allow(1000), true);
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: Instant;
  readonly #burst: number;
  readonly #interval: Duration;

  /**
   * Creates a full bucket.
   *
   * @param options `burst`: the bucket size; `interval`: the time to refill it completely.
   */
  constructor(options: { burst: number; interval: Duration }) {
    if (!(options.burst >= 0) || !(options.interval > 0)) {
      throw new RangeError(`Invalid token bucket ${options.burst}/${options.interval}`);
    }
    this.#burst = options.burst;
    this.#interval = options.interval;
    this.#tokens = options.burst;
    this.#last = Number.NEGATIVE_INFINITY;
  }

  /**
   * Takes one token if there is one.
   *
   * @param now The current instant.
   * @returns `true` when the event is allowed.
   *
   * @example
   * ```ts
   * import { TokenBucket } from "@smol/net/socket";
   * import assert from "node:assert/strict";
   * assert.equal(new TokenBucket({ burst: 1, interval: 10 }).allow(0), true);
   * ```
   */
  allow(now: Instant): boolean {
    if (this.#last === Number.NEGATIVE_INFINITY) this.#last = now;
    const refill = ((now - this.#last) / this.#interval) * this.#burst;
    if (refill > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + refill);
      this.#last = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }
}

/**
 * The per-poll context an Interface passes to every socket call.
 *
 * @example
 * ```ts
 * import type { SocketContext } from "@smol/net/socket";
 * import { TokenBucket, UdpSocket } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const cx: SocketContext = {
 *   now: 250,
 *   random: new Rng(1),
 *   ipMtu: 1500,
 *   isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1000, interval: 1000 }),
 * };
 * const s = new UdpSocket();
 * s.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
 * s.send(new Uint8Array(1), { addr: Ipv4Address.parse("192.0.2.1"), port: 7 });
 * assert.equal(s.pollAt(cx), 250); // a queued datagram wants dispatch now
 * ```
 */
export interface SocketContext {
  /** The current instant. */
  readonly now: Instant;
  /** The interface's seeded generator. */
  readonly random: Rng;
  /** The largest IP packet (header included, no link header) the device takes. */
  readonly ipMtu: number;
  /** 16 secret random bytes for RFC 6528 initial sequence numbers. */
  readonly isnSecret: Uint8Array;
  /** The interface-wide limit on TCP challenge ACKs (RFC 5961 §7). */
  readonly challengeAckLimiter: TokenBucket;
  /**
   * The largest IP packet the device takes for TCP and cuts into MTU-sized segments itself
   * (segmentation offload for both IPv4 and IPv6); absent or 0 when it does not.
   */
  readonly tcpSegmentOffload?: number;
  /**
   * The ECN field (RFC 3168 §5: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE) of the IP packet being
   * delivered to `process`; absent or 0 otherwise.
   */
  readonly ecn?: number;
}
