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

export { NetStack } from "./stack.ts";
export { FastOpenCache } from "../socket/tcp/fast_open_cache.ts";
export type {
  ConnectOptions,
  DatagramOptions,
  InterfaceOptions,
  ListenOptions,
  NetStackOptions,
} from "./options.ts";
export { TcpStream } from "./tcp_stream.ts";
export { TcpListener } from "./tcp_listener.ts";
export { UdpSocket } from "./udp_socket.ts";
export {
  type TransparentDatagramOptions,
  type TransparentListenOptions,
  UdpFlowListener,
} from "./transparent.ts";
export { Router, type RouterInterfaceOptions, type RouterOptions } from "./router.ts";
export { abortError, badResource, NET_ERROR_CODES, netError, type NetErrorKind } from "./errors.ts";
export * from "./dns.ts";
export * from "./dns_cache.ts";
export { Autoconf, type AutoconfChange, AutoconfEvent, type AutoconfOptions } from "./autoconf.ts";
export type { PingOptions, PingResult } from "./ping.ts";
export type { PollTarget, Watcher } from "./driver.ts";
// The lower layers' types that this layer's signatures use.
export type {
  ChecksumCapabilities,
  Closable,
  DeadlineSource,
  Device,
  DeviceCapabilities,
  Medium,
  OffloadCapabilities,
  ReadinessHook,
} from "../phy/mod.ts";
export type {
  AcceptAnyCounters,
  AcceptAnyOptions,
  DropCounters,
  DropReason,
  ForwardCounters,
  ForwardRoute,
  ForwardRouteInit,
  InterfaceConfig,
  NatFiltering,
  NatMapping,
  NatOptions,
  NatProtocol,
  NatResult,
  NatStats,
  NatTable,
  NatTimeouts,
  NeighborCacheOptions,
  NptOptions,
  ReassemblyOptions,
  ReversePathMode,
  Route,
  RouteChoice,
  RouteSource,
  RouteTable,
  SlaacAddressState,
  SlaacCounters,
} from "../iface/mod.ts";
export type {
  Dhcpv4Counters,
  Dhcpv4Lease,
  Dhcpv4State,
  FastOpenCacheInfo,
  FastOpenCacheOptions,
  FastOpenServerInfo,
  KeepAliveOptions,
  RttOptions,
  TcpCounters,
  TcpError,
  TcpInfo,
  TcpListenerInfo,
  TcpSocketOptions,
  TcpState,
} from "../socket/mod.ts";
export type { EthernetAddress, IpAddress, IpCidr, Ipv4Address, Ipv6Address } from "../wire/mod.ts";
export type { Duration, Instant } from "../time.ts";
export type {
  ConnectionTrace,
  TcpInfoFields,
  TcpTraceRecorder,
  TcpTraceRecorderOptions,
  TraceableSegment,
  TraceableSocket,
  TraceAppCall,
  TraceDirection,
  TraceEvent,
  TraceNote,
  TraceSample,
  TraceSegment,
  TraceSegmentSink,
  TraceStateChange,
  TraceTimer,
  TraceTimerAction,
  TraceTimerDeadlines,
  TraceTimerName,
} from "../trace/mod.ts";
