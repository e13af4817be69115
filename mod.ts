/**
 * # smolnet
 *
 * A userspace TCP/IP stack for Deno, in the spirit of smoltcp. Its core never reads a clock and
 * never awaits: an application call only changes state (`connect()` moves a TCP socket to
 * SYN-SENT), and packets leave when the interface is polled and a socket's `dispatch()` finds
 * something due. The async layer drives that core with one loop per stack and gives you
 * connections shaped exactly like Deno's own, so code written for `Deno.listen` and
 * `Deno.connect` runs on smolnet by changing only those two calls.
 *
 * - {@linkcode NetStack}: one device plus addresses; `listen`, `connect`, `listenDatagram`.
 * - {@linkcode TcpStream} (a `Deno.TcpConn`), {@linkcode TcpListener} (a `Deno.Listener`),
 *   {@linkcode UdpSocket} (a `Deno.DatagramConn`).
 * - Devices: {@linkcode linkPair} (an in-memory link), {@linkcode Loopback}, and wrappers that
 *   compose around any device: {@linkcode PcapWriter}, {@linkcode FaultInjector},
 *   {@linkcode Tracer}.
 *
 * The layers are importable on their own: `@smol/net/wire` (packet formats), `/storage`,
 * `/socket` (sans-IO sockets), `/iface` (Interface and SocketSet), `/phy` (devices), `/net`
 * (this async layer) and `/time`.
 *
 * @example Serve and connect over an in-memory link
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [left, right] = linkPair({ mtu: 1500 });
 * await using server = new NetStack({ device: left, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: right, addresses: ["192.0.2.2/24"] });
 *
 * const listener = server.listen({ port: 8080 });
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 8080 });
 * const peer = await listener.accept();
 * await conn.write(new TextEncoder().encode("hello"));
 * const buf = new Uint8Array(5);
 * assert.equal(await peer.read(buf), 5);
 * assert.equal(new TextDecoder().decode(buf), "hello");
 * assert.equal(peer.remoteAddr.hostname, "192.0.2.2");
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 *
 * @module
 */

// The async layer.
export {
  type ConnectOptions,
  type DatagramOptions,
  type InterfaceOptions,
  type ListenOptions,
  NetStack,
  type NetStackOptions,
  type PingOptions,
  type PingResult,
  Router,
  type RouterInterfaceOptions,
  type RouterOptions,
  TcpListener,
  TcpStream,
  type TransparentDatagramOptions,
  type TransparentListenOptions,
  UdpFlowListener,
  UdpSocket,
} from "./src/net/mod.ts";
export {
  DnsCache,
  type DnsCacheEntry,
  type DnsCacheOptions,
  type DnsCounters,
  dnsCounters,
  DnsError,
  type DnsHosts,
  NET_ERROR_CODES,
  type NetErrorKind,
  parseHosts,
  resolveDns,
  type ResolveOptions,
} from "./src/net/mod.ts";
export {
  Autoconf,
  type AutoconfChange,
  AutoconfEvent,
  type AutoconfOptions,
} from "./src/net/mod.ts";
export type { Dhcpv4Counters, Dhcpv4Lease, Dhcpv4State } from "./src/socket/mod.ts";
export type { SlaacAddressState, SlaacCounters } from "./src/iface/mod.ts";
// Devices, the wrappers that compose around them, and the contract they implement.
export {
  checksumAll,
  type ChecksumCapabilities,
  checksumNone,
  type Closable,
  type DeadlineSource,
  type Device,
  type DeviceCapabilities,
  DeviceWrapper,
  type FaultConfig,
  type FaultCounters,
  FaultInjector,
  type FaultInjectorOptions,
  type FaultStats,
  type FdDevice,
  fileSink,
  type FrameFormatter,
  type HostDeviceStats,
  LinkDevice,
  type LinkOptions,
  linkPair,
  type LinkStats,
  Loopback,
  type LoopbackOptions,
  Medium,
  MemorySink,
  type OffloadCapabilities,
  type PcapFileSink,
  type PcapSink,
  PcapWriter,
  type PcapWriterOptions,
  RawSocketDevice,
  type RawSocketOptions,
  type ReadinessHook,
  stderrTracer,
  type TraceEvent,
  Tracer,
  type TracerOptions,
  TunTapDevice,
  type TunTapOptions,
  UdpTunnelDevice,
  type UdpTunnelEndpoint,
  type UdpTunnelOptions,
} from "./src/phy/mod.ts";
// Addresses, as options take and results give them.
export {
  EthernetAddress,
  formatEndpoint,
  type IpAddress,
  IpCidr,
  type IpEndpoint,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
  prettyPrint,
} from "./src/wire/mod.ts";
// The types of options, statistics and states the async layer's signatures use.
export { FastOpenCache, TcpState } from "./src/socket/mod.ts";
export type {
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
} from "./src/socket/mod.ts";
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
} from "./src/iface/mod.ts";
export type { Duration, Instant } from "./src/time.ts";
export type {
  ConnectionTrace,
  TcpInfoFields,
  TcpTraceRecorder,
  TcpTraceRecorderOptions,
  TraceableSegment,
  TraceableSocket,
  TraceAppCall,
  TraceDirection,
  TraceEvent as TcpTraceEvent,
  TraceNote,
  TraceSample,
  TraceSegment,
  TraceSegmentSink,
  TraceStateChange,
  TraceTimer,
  TraceTimerAction,
  TraceTimerDeadlines,
  TraceTimerName,
} from "./src/trace/mod.ts";
