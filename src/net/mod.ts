/**
 * The async layer: {@linkcode NetStack} with `listen` / `connect` / `listenDatagram` shaped like
 * Deno's, {@linkcode TcpListener} (a `Deno.Listener`), {@linkcode TcpStream} (a `Deno.TcpConn`)
 * and {@linkcode UdpSocket} (a `Deno.DatagramConn`). Failures are `Deno.errors.*` with `code`.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 80 });
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
 * (await listener.accept()).close();
 * conn.close();
 * listener.close();
 * ```
 *
 * @module
 */

export * from "./stack.ts";
export * from "./tcp_stream.ts";
export * from "./tcp_listener.ts";
export * from "./udp_socket.ts";
export * from "./errors.ts";
export * from "./dns.ts";
export * from "./autoconf.ts";
export type { PingOptions, PingResult } from "./ping.ts";
export type { PollTarget, Watcher } from "./driver.ts";
