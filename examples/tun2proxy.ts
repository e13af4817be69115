/**
 * tun2proxy: every TCP connection and UDP flow that enters a TUN device, whatever its
 * destination, is terminated by a smolnet stack in accept-any mode and relayed to its real
 * destination through the host's kernel sockets (`Deno.connect`, `Deno.listenDatagram`). Route
 * traffic into the device and it reaches the network through this process: the shape of a
 * tun2socks VPN client, with the kernel in place of the SOCKS server.
 *
 *   # as root: a TUN device, a route into it for the traffic to relay, then the proxy
 *   ip tuntap add dev tun2p0 mode tun && ip link set tun2p0 up
 *   ip route add 198.51.100.0/24 dev tun2p0 table 100
 *   ip rule add iif veth-clients lookup 100     # only forwarded traffic, not the proxy's own
 *   deno run --allow-ffi --allow-net --unstable-net examples/tun2proxy.ts --device tun2p0
 *   # from a host behind veth-clients: curl http://198.51.100.10/ ; dig @198.51.100.53 name
 *
 * IPv6 is relayed the same way (`ip -6 route add default dev tun2p0 table 100`,
 * `ip -6 rule add iif veth-clients lookup 100`); the stack needs no IPv6 address of its own.
 *
 * The proxy's own connections must not be routed back into the device (hence the policy rule
 * above, matching only traffic that arrives from the clients). tests/interop/tun2proxy_test.ts
 * builds exactly this with three namespaces, over IPv4 and over IPv6.
 *
 * @module
 */

import {
  type AcceptAnyOptions,
  NetStack,
  type TcpStream,
  TunTapDevice,
  type UdpSocket,
} from "../mod.ts";

const USAGE =
  `Usage: deno run --allow-ffi --allow-net --unstable-net examples/tun2proxy.ts [options]

Relays every TCP connection and UDP flow entering a TUN device to its real destination through
the kernel's sockets. The device is attached when it exists and created otherwise (needs
CAP_NET_ADMIN); route the traffic to relay into it.
  --device NAME          TUN interface (default tun2p0)
  --address CIDR         the stack's own address (default 192.0.2.254/32); repeatable
  --max-flows N          the most TCP connections plus UDP flows at once (default 4096)
  --udp-idle MS          close a UDP flow after MS ms without a datagram from the client (default 60000)
  --echo                 answer ICMP echo requests for every destination
  --allow-documentation  relay TEST-NET destinations and sources (labs and tests)
  --offload              open the device with virtio-net offloads (checksum, TSO): fewer, larger writes
  --quiet                no line per flow
  --help                 this text
Prints its counters and stops on SIGINT or SIGTERM.`;

/** Command-line options. */
export interface ProxyArgs {
  device: string;
  addresses: string[];
  acceptAny: AcceptAnyOptions;
  quiet: boolean;
  offload: boolean;
}

/**
 * Parses the command line.
 *
 * @param argv The arguments.
 * @returns The options, or `null` for `--help`.
 */
export function parseArgs(argv: readonly string[]): ProxyArgs | null {
  let device = "tun2p0", quiet = false, echo = false, allowDocumentation = false, offload = false;
  let maxFlows = 4096, udpIdleTimeout = 60_000;
  const addresses: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${flag}`);
      return v;
    };
    const count = (): number => {
      const n = Number(value());
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Invalid ${flag}: ${argv[i]}`);
      return n;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return null;
      case "--device":
        device = value();
        break;
      case "--address":
        addresses.push(value());
        break;
      case "--max-flows":
        maxFlows = count();
        break;
      case "--udp-idle":
        udpIdleTimeout = count();
        break;
      case "--echo":
        echo = true;
        break;
      case "--allow-documentation":
        allowDocumentation = true;
        break;
      case "--quiet":
        quiet = true;
        break;
      case "--offload":
        offload = true;
        break;
      default:
        throw new TypeError(`Unknown option ${flag}`);
    }
  }
  if (addresses.length === 0) addresses.push("192.0.2.254/32");
  return {
    device,
    addresses,
    acceptAny: { maxFlows, udpIdleTimeout, echo, allowDocumentation },
    quiet,
    offload,
  };
}

/** Relay counters. */
export interface RelayStats {
  tcpOpened: number;
  tcpFailed: number;
  udpFlows: number;
  bytesUp: number;
  bytesDown: number;
}

/** Copies `from` to `to` until EOF, then half-closes `to`; returns the bytes copied. */
async function pump(
  from: { read(p: Uint8Array): Promise<number | null> },
  to: { write(p: Uint8Array): Promise<number>; closeWrite(): Promise<void> },
): Promise<number> {
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
      total += n;
    }
    await to.closeWrite();
  } catch {
    // A reset on either side ends this direction; the caller closes both.
  }
  return total;
}

/**
 * Relays one terminated TCP connection to its original destination.
 *
 * @param conn The connection from the TUN side (`localAddr` is where the client meant to go).
 * @param stats Counters to update.
 * @param log Whether to print a line.
 */
export async function relayTcp(conn: TcpStream, stats: RelayStats, log: boolean): Promise<void> {
  const dst = conn.localAddr;
  let up: Deno.TcpConn;
  try {
    up = await Deno.connect({ hostname: dst.hostname, port: dst.port });
  } catch (e) {
    stats.tcpFailed++;
    if (log) {
      console.log(
        `tcp ${conn.remoteAddr.hostname} -> ${dst.hostname}:${dst.port} failed: ${
          (e as Error).name
        }`,
      );
    }
    conn.close();
    return;
  }
  stats.tcpOpened++;
  up.setNoDelay(true);
  const [a, b] = await Promise.all([pump(conn, up), pump(up, conn)]);
  stats.bytesUp += a;
  stats.bytesDown += b;
  if (log) {
    console.log(`tcp ${conn.remoteAddr.hostname} -> ${dst.hostname}:${dst.port} ${a}/${b} bytes`);
  }
  for (const c of [conn, up]) {
    try {
      c.close();
    } catch { /* already closed */ }
  }
}

/**
 * Relays one terminated UDP flow through a kernel socket of its own until the flow expires.
 *
 * @param flow The flow (`addr` is where the client meant to go).
 * @param stats Counters to update.
 */
export async function relayUdp(flow: UdpSocket, stats: RelayStats): Promise<void> {
  stats.udpFlows++;
  const dst = flow.addr;
  const up = Deno.listenDatagram({
    transport: "udp",
    hostname: dst.hostname.includes(":") ? "::" : "0.0.0.0",
    port: 0,
  });
  let client: Deno.NetAddr | null = null;
  const down = (async () => {
    const buf = new Uint8Array(65535);
    try {
      for (;;) {
        const [data] = await up.receive(buf);
        if (client === null) continue;
        await flow.send(data, client);
        stats.bytesDown += data.length;
      }
    } catch { /* up closed */ }
  })();
  try {
    for await (const [data, from] of flow) {
      client = from as Deno.NetAddr;
      await up.send(data, dst);
      stats.bytesUp += data.length;
    }
  } catch { /* the flow failed */ }
  up.close();
  await down;
}

async function main(): Promise<void> {
  let args: ProxyArgs | null;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (args === null) {
    console.log(USAGE);
    return;
  }
  const device = await TunTapDevice.open({
    name: args.device,
    mode: "tun",
    offload: args.offload,
  });
  // Every destination is on the TUN link: replies leave through the device, whatever the client.
  const stack = new NetStack({
    device,
    addresses: args.addresses,
    acceptAny: args.acceptAny,
    iface: { routes: [{ cidr: "0.0.0.0/0", via: null }, { cidr: "::/0", via: null }] },
  });
  const stats: RelayStats = { tcpOpened: 0, tcpFailed: 0, udpFlows: 0, bytesUp: 0, bytesDown: 0 };
  const listener = stack.listen({ transparent: true, tcpBacklog: 4096 });
  const flows = stack.listenDatagram({ transparent: true });
  const log = !args.quiet;
  const stop = async () => {
    listener.close();
    flows.close();
    console.log(JSON.stringify({
      relay: stats,
      acceptAny: stack.iface.acceptAny!.counters,
      listener: listener.info,
      drops: stack.counters.snapshot(),
    }));
    await stack.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  console.log(`tun2proxy: relaying everything entering ${args.device}`);
  void (async () => {
    for await (const flow of flows) void relayUdp(flow, stats);
  })();
  for await (const conn of listener) void relayTcp(conn, stats, log);
}

if (import.meta.main) await main();
