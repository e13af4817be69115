/**
 * ICMP echo from a smolnet stack over a TUN (or TAP) device to the Linux kernel. The async layer
 * has no ICMP API yet, so this drives the core directly: an `Interface`, a `SocketSet` and an
 * `IcmpSocket`, polled by a small loop that sleeps until the device is readable or the next
 * deadline.
 *
 *   # as root: make a namespace with the kernel side at 192.0.2.1, ping it, clean up
 *   deno run --allow-ffi --allow-run --allow-read examples/ping.ts --setup
 *   # or against a device you configured (ip tuntap add dev tun0 mode tun user $USER; ...)
 *   deno run --allow-ffi examples/ping.ts --device tun0 --address 192.0.2.2/24 192.0.2.1
 *
 * @module
 */

import { Interface, SocketSet } from "../src/iface/mod.ts";
import { IcmpSocket } from "../src/socket/mod.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import { parseIpAddress } from "../src/wire/mod.ts";

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
  const target = parseIpAddress(args.target);
  const dev = await TunTapDevice.open({ name: args.device, mode: args.tap ? "tap" : "tun" });
  const ns = args.setup ? `smolnet-ping-${crypto.randomUUID().slice(0, 8)}` : null;
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
    const iface = new Interface({
      medium: dev.capabilities.medium,
      addresses: [args.address],
      ...(args.tap ? { hardwareAddr: "02:00:5e:00:53:02" } : {}),
    });
    const sockets = new SocketSet();
    const icmp = new IcmpSocket();
    iface.bindIcmp(sockets, icmp);

    let wake: (() => void) | null = null;
    dev.onReadable(() => wake?.());
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          wake = null;
          resolve();
        }, Math.max(0, ms));
        wake = () => {
          clearTimeout(t);
          wake = null;
          resolve();
        };
      });

    console.log(
      `PING ${args.target} from ${args.address} via ${dev.name}: ${args.size} data bytes`,
    );
    const data = new Uint8Array(args.size);
    const rxBuf = new Uint8Array(65536);
    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    const t0 = performance.now();
    let seq = 0;
    let nextSend = t0;
    const end = () => t0 + args.count * args.interval + 1000;
    while (performance.now() < end() && rtts.length < args.count) {
      const now = performance.now();
      if (seq < args.count && now >= nextSend) {
        if (icmp.sendEcho(target, seq, data)) sentAt.set(seq, now);
        seq++;
        nextSend += args.interval;
      }
      iface.poll(now, dev, sockets);
      for (let r = icmp.recv(rxBuf); r !== null; r = icmp.recv(rxBuf)) {
        const at = sentAt.get(r.seq);
        if (r.kind === "echoReply" && at !== undefined) {
          const rtt = performance.now() - at;
          rtts.push(rtt);
          sentAt.delete(r.seq);
          console.log(
            `${r.length} bytes from ${r.remote}: icmp_seq=${r.seq} time=${rtt.toFixed(3)} ms`,
          );
        } else if (r.kind === "error") {
          console.log(`from ${r.remote}: icmp_seq=${r.seq} ${JSON.stringify(r.error)}`);
        }
      }
      if (dev.error !== null) throw dev.error;
      const due = Math.min(
        iface.pollAt(performance.now(), sockets),
        seq < args.count ? nextSend : end(),
      );
      await sleep(due - performance.now());
    }
    const loss = 100 * (1 - rtts.length / Math.max(seq, 1));
    console.log(`--- ${args.target} ping statistics ---`);
    console.log(
      `${seq} packets transmitted, ${rtts.length} received, ${loss.toFixed(0)}% packet loss`,
    );
    if (rtts.length > 0) {
      const avg = rtts.reduce((x, y) => x + y, 0) / rtts.length;
      console.log(
        `rtt min/avg/max = ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)}/` +
          `${Math.max(...rtts).toFixed(3)} ms`,
      );
    }
    return rtts.length === seq ? 0 : 1;
  } finally {
    await dev.close();
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
