/**
 * Sans-IO sockets: state machines that the Interface feeds with parsed packets and asks for
 * packets to send. They never read a clock and never await.
 *
 * - {@linkcode TcpSocket}: RFC 9293 TCP with SACK, timestamps, window scaling, NewReno or CUBIC,
 *   RFC 5961 protections; {@linkcode TcpListenSocket}: a listening endpoint with a backlog.
 * - {@linkcode UdpSocket}, {@linkcode IcmpSocket}, {@linkcode RawSocket}.
 *
 * @example A TCP socket only changes state when asked to connect
 * ```ts
 * import { TcpSocket } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * const socket = new TcpSocket();
 * assert.equal(socket.state, "closed");
 * ```
 *
 * @module
 */

export * from "./context.ts";
export * from "./tcp/mod.ts";
export * from "./udp.ts";
export * from "./icmp.ts";
export * from "./raw.ts";
export * from "./dhcpv4.ts";
// The other layers' types that this layer's signatures use.
export type { Rng } from "../rand.ts";
export type {
  EthernetAddress,
  IpAddress,
  IpCidr,
  IpEndpoint,
  Ipv4Address,
  Ipv6Address,
  SackBlock,
  TcpRepr,
  TcpTimestamp,
} from "../wire/mod.ts";
export type { Duration, Instant } from "../time.ts";
