/**
 * The iface layer: the {@linkcode Interface} that polls a device and serves a
 * {@linkcode SocketSet}, with its neighbor cache (ARP/NDP), routes, IP fragment reassembly, ICMP
 * and drop counters. The core is driven by `poll(now, device, sockets)` and never reads a clock.
 *
 * @example Demultiplexing and ephemeral ports
 * ```ts
 * import { Rng, SocketSet } from "@smol/net/iface";
 * import { UdpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const sockets = new SocketSet();
 * const udp = new UdpSocket();
 * sockets.add(udp);
 * const port = sockets.allocatePort("udp", new Rng(1));
 * sockets.indexUdp(udp, { addr: Ipv4Address.UNSPECIFIED, port });
 * assert.ok(port >= 49152);
 * assert.equal(sockets.findUdp(Ipv4Address.parse("192.0.2.1"), port), udp);
 * assert.equal(sockets.findUdp(Ipv4Address.parse("192.0.2.1"), port - 1), null);
 * ```
 *
 * @module
 */

export { Rng } from "../rand.ts";
export * from "./counters.ts";
export * from "./errors.ts";
export * from "./neighbor.ts";
export * from "./reassembly.ts";
export * from "./route.ts";
export {
  type AnySocket,
  DEFAULT_MAX_SOCKETS,
  EPHEMERAL_PORT_MAX,
  EPHEMERAL_PORT_MIN,
  type PortProtocol,
  type SocketHandle,
  SocketSet,
} from "./socket_set.ts";
export * from "./interface.ts";
export {
  AcceptAny,
  type AcceptAnyCounters,
  type AcceptAnyOptions,
  type UdpFlow,
} from "./accept_any.ts";
export * from "./nat.ts";
export {
  type ForwardCounters,
  Forwarder,
  type ForwarderOptions,
  type ForwardPortOptions,
  type ReversePathMode,
} from "./forward.ts";
export type { NptOptions } from "./forward_npt.ts";
export {
  type ForwardRoute,
  type ForwardRouteInit,
  type RouteChoice,
  type RouteSource,
  RouteTable,
} from "./forward_routes.ts";
export * from "./source_address.ts";
export * from "./iface_group.ts";
export * from "./slaac.ts";
export * from "./ndp_host.ts";
// The other layers' types that this layer's signatures use.
export type {
  FastOpenCache,
  FastOpenCacheInfo,
  FastOpenCacheOptions,
  FastOpenServerInfo,
  IcmpEmitter,
  IcmpErrorInfo,
  IcmpRecvResult,
  IcmpSocket,
  KeepAliveOptions,
  RawEmitter,
  RawRecvResult,
  RawSocket,
  RttOptions,
  SocketContext,
  TcpCounters,
  TcpEmitter,
  TcpError,
  TcpIcmpError,
  TcpInfo,
  TcpListenerInfo,
  TcpListenSocket,
  TcpSendReason,
  TcpSocket,
  TcpSocketOptions,
  TcpState,
  TcpTimerDeadlines,
  TcpTraceSink,
  TokenBucket,
  UdpEmitter,
  UdpRecvResult,
  UdpSocket,
} from "../socket/mod.ts";
export type {
  ChecksumCapabilities,
  Device,
  DeviceCapabilities,
  Medium,
  OffloadCapabilities,
} from "../phy/mod.ts";
export type {
  DnsslInfo,
  EthernetAddress,
  IpAddress,
  IpCidr,
  IpEndpoint,
  Ipv4Address,
  Ipv6Address,
  MldAddressRecord,
  MldRepr,
  NdiscRepr,
  PrefixInfo,
  RdnssInfo,
  SackBlock,
  TcpRepr,
  TcpTimestamp,
} from "../wire/mod.ts";
export type { Duration, Instant } from "../time.ts";
