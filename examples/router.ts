/**
 * A two-interface IPv4 router with NAT between two TUN devices: hosts on the inside link
 * (`--inside`) reach the outside link (`--outside`) through it, their connections leaving with
 * the router's outside address (NAPT). The kernel ends of the two TUN devices are the hosts:
 * move them into two network namespaces and each namespace sees the router as its next hop.
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
 *
 * A TUN device keeps working for the process that opened it when its kernel end moves to
 * another namespace. The router answers pings to its own address on each link, prints a line
 * when it runs, and its counters and NAT mappings on SIGINT / SIGTERM.
 * tests/interop/router_test.ts runs exactly this.
 *
 * @module
 */

import { Router, TunTapDevice } from "../mod.ts";

const USAGE = `Usage: deno run --allow-ffi examples/router.ts [options]

Forwards IPv4 between two TUN devices, with NAT on the outside one. A device is attached when
it exists and created otherwise (needs CAP_NET_ADMIN).
  --inside NAME            inside TUN interface (default rt-in)
  --inside-address CIDR    the router's inside address (default 192.0.2.1/24)
  --outside NAME           outside TUN interface (default rt-out)
  --outside-address CIDR   the router's outside address, the NAT address (default 198.51.100.1/24)
  --gateway IP             default route on the outside link (default none)
  --no-nat                 route without address translation
  --allow-documentation    forward TEST-NET addresses (labs and tests)
  --help                   this text
Prints its counters and stops on SIGINT or SIGTERM.`;

/** Command-line options. */
export interface RouterArgs {
  inside: string;
  insideAddress: string;
  outside: string;
  outsideAddress: string;
  gateway: string | null;
  nat: boolean;
  allowDocumentation: boolean;
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
    gateway: null,
    nat: true,
    allowDocumentation: false,
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
      case "--gateway":
        a.gateway = value();
        break;
      case "--no-nat":
        a.nat = false;
        break;
      case "--allow-documentation":
        a.allowDocumentation = true;
        break;
      default:
        throw new TypeError(`Unknown option ${JSON.stringify(flag)}`);
    }
  }
  return a;
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
  const inside = await TunTapDevice.open({ name: args.inside, mode: "tun" });
  const outside = await TunTapDevice.open({ name: args.outside, mode: "tun" });
  const router = new Router({
    interfaces: [
      { device: inside, addresses: [args.insideAddress] },
      {
        device: outside,
        addresses: [args.outsideAddress],
        nat: args.nat,
        ...(args.gateway === null ? {} : { gateway4: args.gateway }),
      },
    ],
    allowDocumentation: args.allowDocumentation,
  });
  const stop = async () => {
    const maps = router.mappings().map((m) =>
      `${m.protocol} ${m.internalAddress}:${m.internalPort} -> :${m.externalPort} (${m.packetsOut}/${m.packetsIn} packets)`
    );
    console.log(JSON.stringify({
      forward: router.counters,
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
      args.nat ? ` (NAT as ${args.outsideAddress.split("/")[0]})` : ""
    }`,
  );
}

if (import.meta.main) await main();
