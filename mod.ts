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
 * await peer.read(buf);
 * console.log(new TextDecoder().decode(buf)); // hello
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 *
 * @module
 */

export * from "./src/net/mod.ts";
export {
  checksumAll,
  checksumNone,
  type Device,
  type DeviceCapabilities,
  DeviceWrapper,
  FaultInjector,
  type FaultInjectorOptions,
  fileSink,
  LinkDevice,
  type LinkOptions,
  linkPair,
  Loopback,
  Medium,
  MemorySink,
  type PcapSink,
  PcapWriter,
  type TraceEvent,
  Tracer,
} from "./src/phy/mod.ts";
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
  WireError,
} from "./src/wire/mod.ts";
export {
  type TcpError,
  type TcpInfo,
  TcpListenSocket,
  TcpSocket,
  type TcpSocketOptions,
  TcpState,
} from "./src/socket/mod.ts";
export { Interface, type InterfaceConfig, SocketSet } from "./src/iface/mod.ts";
export type { Duration, Instant } from "./src/time.ts";
