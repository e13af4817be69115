/**
 * A two-interface router between two TUN devices: hosts on the inside link (`--inside`) reach
 * the outside link (`--outside`) through it. IPv4 connections leave with the router's outside
 * address (NAPT); IPv6 is routed without translation (the outside needs a route back to the
 * inside prefix, as for any IPv6 router), or with `--npt6 INSIDE,OUTSIDE` through a stateless
 * NPTv6 (RFC 6296): inside sources take the outside prefix, which the outside routes to the
 * router, and replies are mapped back. The kernel ends of the two TUN
 * devices are the hosts: move them into two network namespaces and each namespace sees the
 * router as its next hop.
 *
 *   # as root: two namespaces, two TUN devices the router opens, then the kernel ends moved
 *   ip netns add inside && ip netns add outside
 *   ip tuntap add dev rt-in mode tun && ip tuntap add dev rt-out mode tun
 *   deno run --allow-ffi examples/router.ts --inside rt-in --outside rt-out --allow-documentation &
 *   ip link set rt-in netns inside && ip link set rt-out netns outside
 *   ip -n inside addr add 192.0.2.2/24 dev rt-in && ip -n inside link set rt-in up
 *   ip -n inside route add default via 192.0.2.1
 *   ip -n outside addr add 198.51.100.2/24 dev rt-out && ip -n outside link set rt-out up
 *   ip netns exec outside python3 -m http.server --bind 198.51.100.2 8000 &
 *   ip netns exec inside curl http://198.51.100.2:8000/    # the server logs 198.51.100.1
 *   # IPv6, routed: the router is 2001:db8:1::1 inside and 2001:db8:2::1 outside
 *   ip -n inside addr add 2001:db8:1::2/64 dev rt-in nodad
 *   ip -n inside route add default via 2001:db8:1::1
 *   ip -n outside addr add 2001:db8:2::2/64 dev rt-out nodad
 *   ip -n outside route add 2001:db8:1::/64 via 2001:db8:2::1
 *   ip netns exec inside curl 'http://[2001:db8:2::2]:8000/'  # a server bound there logs 2001:db8:1::2
 *
 * With `--offload` both devices are opened with virtio-net offloads: the kernel hands over a TCP
 * flow as coalesced super-frames of up to 64 KiB (GRO) and cuts the ones the router writes
 * back into MTU-sized segments (TSO), so one read and one write move dozens of segments; the
 * router rewrites only the super-frame's headers (TTL, NAT). The device reports the size of the
 * segments each super-frame was made of: when they would not fit the outgoing link, the sender
 * gets Fragmentation Needed / Packet Too Big with that link's MTU, as for single segments
 * (tests/interop/router_pmtu_test.ts).
 *
 * A TUN device keeps working for the process that opened it when its kernel end moves to
 * another namespace. The router answers pings to each of its addresses from either link (the
 * outside address from inside too), prints a line
 * when it runs, and its counters and NAT mappings on SIGINT / SIGTERM.
 * tests/interop/router_test.ts runs exactly this.
 *
 * @module
 */

import { Router, TunTapDevice } from "../mod.ts";

const USAGE = `Usage: deno run --allow-ffi examples/router.ts [options]

Forwards IPv4 and IPv6 between two TUN devices, with IPv4 NAT on the outside one (IPv6 is
routed untranslated). A device is attached when it exists and created otherwise (needs
CAP_NET_ADMIN).
  --inside NAME            inside TUN interface (default rt-in)
  --inside-address CIDR    the router's inside IPv4 address (default 192.0.2.1/24)
  --inside-address6 CIDR   the router's inside IPv6 address (default 2001:db8:1::1/64)
  --outside NAME           outside TUN interface (default rt-out)
  --outside-address CIDR   the router's outside IPv4 address, the NAT address (default 198.51.100.1/24)
  --outside-address6 CIDR  the router's outside IPv6 address (default 2001:db8:2::1/64)
  --gateway IP             IPv4 default route on the outside link (default none)
  --gateway6 IP            IPv6 default route on the outside link (default none)
  --no-ipv6                IPv4 only
  --no-nat                 route IPv4 without address translation
  --npt6 INSIDE,OUTSIDE    NPTv6 (RFC 6296) on the outside link: IPv6 sources in the INSIDE
                           prefix leave with the OUTSIDE one (same length, /1 to /64)
  --offload                open both devices with virtio-net offloads (checksums, TSO/GRO): TCP
                           crosses as coalesced super-frames the kernel cuts again on the way out
  --reader-thread          read each device's frames on a thread of its own (a Worker filling a
                           shared ring): many frames per wake-up, no read system call in the
                           forwarding loop; not with --offload; needs --allow-read
  --writer-thread          write each device's frames from a thread of its own (a Worker and a
                           shared ring): the write system calls leave the forwarding loop;
                           needs --allow-read for the thread's module
  --allow-documentation    forward TEST-NET addresses (labs and tests)
  --help                   this text
Prints its counters and stops on SIGINT or SIGTERM.`;

/** Command-line options. */
export interface RouterArgs {
  inside: string;
  insideAddress: string;
  outside: string;
  outsideAddress: string;
  /** The inside IPv6 address, or `null` with `--no-ipv6`. */
  insideAddress6: string | null;
  /** The outside IPv6 address, or `null` with `--no-ipv6`. */
  outsideAddress6: string | null;
  gateway: string | null;
  gateway6: string | null;
  nat: boolean;
  allowDocumentation: boolean;
  offload: boolean;
  /** NPTv6 prefixes (`--npt6`), or `null`. */
  npt6: { inside: string; outside: string } | null;
  /** Write frames from a writer thread (`TunTapDevice` `writerThread`). */
  writerThread: boolean;
  /** Read frames on a reader thread (`TunTapDevice` `readerThread`). */
  readerThread: boolean;
}

/**
 * Parses the command line.
 *
 * @param argv The arguments.
 * @returns The options, or `null` for `--help`.
 */
export function parseArgs(argv: readonly string[]): RouterArgs | null {
  const a: RouterArgs = {
    inside: "rt-in",
    insideAddress: "192.0.2.1/24",
    outside: "rt-out",
    outsideAddress: "198.51.100.1/24",
    insideAddress6: "2001:db8:1::1/64",
    outsideAddress6: "2001:db8:2::1/64",
    gateway: null,
    gateway6: null,
    nat: true,
    allowDocumentation: false,
    offload: false,
    npt6: null,
    writerThread: false,
    readerThread: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${flag}`);
      return v;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return null;
      case "--inside":
        a.inside = value();
        break;
      case "--inside-address":
        a.insideAddress = value();
        break;
      case "--outside":
        a.outside = value();
        break;
      case "--outside-address":
        a.outsideAddress = value();
        break;
      case "--inside-address6":
        a.insideAddress6 = value();
        break;
      case "--outside-address6":
        a.outsideAddress6 = value();
        break;
      case "--gateway":
        a.gateway = value();
        break;
      case "--gateway6":
        a.gateway6 = value();
        break;
      case "--no-ipv6":
        a.insideAddress6 = a.outsideAddress6 = null;
        break;
      case "--no-nat":
        a.nat = false;
        break;
      case "--allow-documentation":
        a.allowDocumentation = true;
        break;
      case "--offload":
        a.offload = true;
        break;
      case "--npt6": {
        const [inside, outside, ...rest] = value().split(",");
        if (inside === undefined || outside === undefined || rest.length > 0) {
          throw new TypeError(`Invalid --npt6: expected INSIDE,OUTSIDE prefixes`);
        }
        a.npt6 = { inside, outside };
        break;
      }
      case "--writer-thread":
        a.writerThread = true;
        break;
      case "--reader-thread":
        a.readerThread = true;
        break;
      default:
        throw new TypeError(`Unknown option ${JSON.stringify(flag)}`);
    }
  }
  return a;
}

function withV6(v4: string, v6: string | null): string[] {
  return v6 === null ? [v4] : [v4, v6];
}

async function main(): Promise<void> {
  let args: RouterArgs | null;
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
  const open = (name: string) =>
    TunTapDevice.open({
      name,
      mode: "tun",
      offload: args.offload,
      ...(args.writerThread ? { writerThread: true } : {}),
      ...(args.readerThread ? { readerThread: true } : {}),
    });
  const inside = await open(args.inside);
  const outside = await open(args.outside);
  const router = new Router({
    interfaces: [
      { device: inside, addresses: withV6(args.insideAddress, args.insideAddress6) },
      {
        device: outside,
        addresses: withV6(args.outsideAddress, args.outsideAddress6),
        nat: args.nat,
        ...(args.npt6 === null ? {} : { npt: args.npt6 }),
        ...(args.gateway === null ? {} : { gateway4: args.gateway }),
        ...(args.gateway6 === null ? {} : { gateway6: args.gateway6 }),
      },
    ],
    allowDocumentation: args.allowDocumentation,
  });
  const stop = async () => {
    const maps = router.mappings().map((m) =>
      `${m.protocol} ${m.internalAddress}:${m.internalPort} -> :${m.externalPort} (${m.packetsOut}/${m.packetsIn} packets)`
    );
    // Each device's counters: frames, and what it refused or dropped (a full ring, a busy write).
    const dev = (d: TunTapDevice) => {
      const { framesReceived, framesSent, rxQueueFull, txQueueFull, dropsTxBusy, writeErrors } =
        d.stats;
      return { framesReceived, framesSent, rxQueueFull, txQueueFull, dropsTxBusy, writeErrors };
    };
    console.log(JSON.stringify({
      forward: router.counters,
      devices: { inside: dev(inside), outside: dev(outside) },
      mappings: maps,
      ...(router.error === null ? {} : { error: String(router.error) }),
    }));
    await router.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  console.log(
    `router: forwarding ${args.inside} <-> ${args.outside}${
      args.npt6 === null ? "" : ` (NPTv6 ${args.npt6.inside} as ${args.npt6.outside})`
    }${args.nat ? ` (NAT as ${args.outsideAddress.split("/")[0]})` : ""}`,
  );
}

if (import.meta.main) await main();
