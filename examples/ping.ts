/**
 * ICMP echo from a smolnet stack over a TUN (or TAP) device to the Linux kernel, with
 * `NetStack.ping`: each request resolves with the reply's round-trip time, or rejects with
 * `Deno.errors.TimedOut` when no reply comes in time.
 *
 *   # as root: make a namespace with the kernel side at 192.0.2.1, ping it, clean up
 *   deno run --allow-ffi --allow-run --allow-read examples/ping.ts --setup
 *   # or against a device you configured (ip tuntap add dev tun0 mode tun user $USER; ...)
 *   deno run --allow-ffi examples/ping.ts --device tun0 --address 192.0.2.2/24 192.0.2.1
 *
 * @module
 */

import { NetStack, TunTapDevice } from "@smol/net";

const USAGE =
  `Usage: deno run --allow-ffi [--allow-run --allow-read] examples/ping.ts [options] [TARGET]

Sends ICMP echo requests from a smolnet stack through a TUN/TAP device (default target 192.0.2.1).
  --device NAME     TUN/TAP interface to create or attach to (default smping0)
  --tap             TAP (Ethernet, ARP through the kernel) instead of TUN
  --address CIDR    the stack's address (default 192.0.2.2/24)
  --count N         requests to send (default 4)
  --interval MS     between requests (default 1000)
  --size N          echo data bytes (default 56)
  --setup           (root) create a network namespace, move the device there with 192.0.2.1/24
                    on the kernel side, and delete the namespace afterwards
  --help            this text`;

interface Args {
  device: string;
  tap: boolean;
  address: string;
  count: number;
  interval: number;
  size: number;
  setup: boolean;
  target: string;
}

function parseArgs(argv: string[]): Args | null {
  const a: Args = {
    device: "smping0",
    tap: false,
    address: "192.0.2.2/24",
    count: 4,
    interval: 1000,
    size: 56,
    setup: false,
    target: "192.0.2.1",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${flag}`);
      return v;
    };
    if (flag === "--help" || flag === "-h") return null;
    else if (flag === "--device") a.device = value();
    else if (flag === "--tap") a.tap = true;
    else if (flag === "--address") a.address = value();
    else if (flag === "--count") a.count = Number(value());
    else if (flag === "--interval") a.interval = Number(value());
    else if (flag === "--size") a.size = Number(value());
    else if (flag === "--setup") a.setup = true;
    else if (!flag.startsWith("-")) a.target = flag;
    else throw new TypeError(`Unknown argument "${flag}"`);
  }
  return a;
}

async function sh(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

async function main(args: Args): Promise<number> {
  const dev = await TunTapDevice.open({ name: args.device, mode: args.tap ? "tap" : "tun" });
  const ns = args.setup ? `smolnet-ping-${crypto.randomUUID().slice(0, 8)}` : null;
  let stack: NetStack | null = null;
  try {
    if (ns !== null) {
      await sh("ip", "netns", "add", ns);
      await sh("ip", "link", "set", "dev", dev.name, "netns", ns);
      await sh(
        "ip",
        "netns",
        "exec",
        ns,
        "sysctl",
        "-qw",
        `net.ipv6.conf.${dev.name}.disable_ipv6=1`,
      );
      await sh("ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", dev.name);
      await sh("ip", "-n", ns, "link", "set", dev.name, "up");
    }
    stack = new NetStack({ device: dev, addresses: [args.address] });
    console.log(
      `PING ${args.target} from ${args.address} via ${dev.name}: ${args.size} data bytes`,
    );
    const rtts: number[] = [];
    let sent = 0;
    for (; sent < args.count; sent++) {
      const started = performance.now();
      try {
        const r = await stack.ping({
          hostname: args.target,
          size: args.size,
          timeout: Math.max(args.interval, 1000),
        });
        rtts.push(r.rtt);
        console.log(
          `${r.bytes} bytes from ${r.from}: icmp_seq=${r.seq} time=${r.rtt.toFixed(3)} ms`,
        );
      } catch (e) {
        if (!(e instanceof Deno.errors.TimedOut)) throw e;
        console.log(`no reply for icmp_seq=${sent}: ${e.message}`);
      }
      const wait = args.interval - (performance.now() - started);
      if (sent + 1 < args.count && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const loss = 100 * (1 - rtts.length / Math.max(sent, 1));
    console.log(`--- ${args.target} ping statistics ---`);
    console.log(
      `${sent} packets transmitted, ${rtts.length} received, ${loss.toFixed(0)}% packet loss`,
    );
    if (rtts.length > 0) {
      const avg = rtts.reduce((x, y) => x + y, 0) / rtts.length;
      console.log(
        `rtt min/avg/max = ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)}/` +
          `${Math.max(...rtts).toFixed(3)} ms`,
      );
    }
    return rtts.length === sent ? 0 : 1;
  } finally {
    if (stack !== null) await stack.close(); // closes the device too
    else await dev.close();
    if (ns !== null) await sh("ip", "netns", "del", ns);
  }
}

if (import.meta.main) {
  let args: Args | null;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (args === null) console.log(USAGE);
  else Deno.exit(await main(args));
}
