/**
 * The async layer: {@linkcode NetStack} with `listen` / `connect` / `listenDatagram` shaped like
 * Deno's, {@linkcode TcpListener} (a `Deno.Listener`), {@linkcode TcpStream} (a `Deno.TcpConn`)
 * and {@linkcode UdpSocket} (a `Deno.DatagramConn`). Failures are `Deno.errors.*` with `code`.
 *
 * The root entry point (`@smol/net`) re-exports what an application uses; this one adds the
 * building blocks of the layer: the error helpers, DNS resolution and the loop's contracts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
 * const peer = await listener.accept();
 * assert.equal(peer.remoteAddr.hostname, "192.0.2.2");
 * peer.close();
 * conn.close();
 * listener.close();
 * ```
 *
 * @module
 */

export {
  type ConnectOptions,
  type DatagramOptions,
  type ListenOptions,
  NetStack,
  type NetStackOptions,
} from "./stack.ts";
export { type StreamHost, TcpStream, toNetAddr } from "./tcp_stream.ts";
export { type ListenerHost, TcpListener } from "./tcp_listener.ts";
export { type DatagramHost, UdpSocket } from "./udp_socket.ts";
export { abortError, badResource, NET_ERROR_CODES, netError, type NetErrorKind } from "./errors.ts";
export * from "./dns.ts";
export * from "./dns_cache.ts";
export * from "./autoconf.ts";
export type { PingOptions, PingResult } from "./ping.ts";
export type { PollTarget, Watcher } from "./driver.ts";
