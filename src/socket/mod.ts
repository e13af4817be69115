/**
 * Sans-IO sockets: state machines that the Interface feeds with parsed packets and asks for
 * packets to send. They never read a clock and never await.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "@smol/net/socket";
 * const limiter = new TokenBucket({ burst: 10, interval: 1000 });
 * console.log(limiter.allow(0)); // true
 * ```
 *
 * @module
 */

export * from "./context.ts";
export * from "./tcp/rtt.ts";
export * from "./tcp/isn.ts";
export * from "./tcp/congestion.ts";
export * from "./tcp/newreno.ts";
export * from "./tcp/cubic.ts";
