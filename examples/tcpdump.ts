/**
 * Prints one line per frame that arrives on a device, and optionally writes a pcap capture that
 * Wireshark and tshark open. Attaches an AF_PACKET raw socket to an existing interface (default)
 * or creates/attaches a TUN/TAP device.
 *
 *   deno run --allow-ffi --allow-write examples/tcpdump.ts --interface veth1 --count 10
 *   deno run --allow-ffi --allow-write examples/tcpdump.ts --tun tun0 --pcap /tmp/tun0.pcap
 *
 * A raw socket sees every frame the interface carries except those it sends itself; a TUN/TAP
 * device sees what the kernel routes into it.
 *
 * @module
 */

import {
  type Device,
  fileSink,
  type PcapFileSink,
  PcapWriter,
  prettyPrint,
  RawSocketDevice,
  TunTapDevice,
} from "@smol/net";

const USAGE = `Usage: deno run --allow-ffi [--allow-write] examples/tcpdump.ts [options]

Prints one line per received frame (needs CAP_NET_RAW / CAP_NET_ADMIN, for example as root).
  --interface NAME  attach an AF_PACKET raw socket to an existing interface (default eth0)
  --tun NAME        create or attach a TUN device instead
  --tap NAME        create or attach a TAP device instead
  --count N         stop after N frames (default: until Ctrl-C)
  --pcap FILE       also write a libpcap capture
  --help            this text`;

interface Args {
  kind: "raw" | "tun" | "tap";
  name: string;
  count: number;
  pcap: string | null;
}

function parseArgs(argv: string[]): Args | null {
  const a: Args = { kind: "raw", name: "eth0", count: Infinity, pcap: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${flag}`);
      return v;
    };
    if (flag === "--help" || flag === "-h") return null;
    else if (flag === "--interface" || flag === "-i") {
      a.kind = "raw";
      a.name = value();
    } else if (flag === "--tun" || flag === "--tap") {
      a.kind = flag === "--tun" ? "tun" : "tap";
      a.name = value();
    } else if (flag === "--count" || flag === "-c") {
      a.count = Number(value());
      if (!Number.isInteger(a.count) || a.count < 1) {
        throw new RangeError(`Invalid --count ${a.count}: expected a positive integer`);
      }
    } else if (flag === "--pcap" || flag === "-w") a.pcap = value();
    else throw new TypeError(`Unknown argument "${flag}"`);
  }
  return a;
}

async function main(args: Args): Promise<void> {
  const dev = args.kind === "raw"
    ? await RawSocketDevice.open({ name: args.name })
    : await TunTapDevice.open({ name: args.name, mode: args.kind });
  const medium = dev.capabilities.medium;
  let sink: PcapFileSink | null = null;
  let source: Device = dev;
  if (args.pcap !== null) {
    sink = fileSink(args.pcap);
    source = new PcapWriter(dev, sink, { mode: "rx" });
  }
  let wake: (() => void) | null = null;
  dev.onReadable(() => wake?.());
  let stop = false;
  const onSignal = (): void => {
    stop = true;
    wake?.();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const epoch = performance.timeOrigin;
  let seen = 0;
  try {
    console.error(`listening on ${dev.name} (${medium}, MTU ${dev.capabilities.mtu})`);
    while (!stop && seen < args.count) {
      const now = epoch + performance.now(); // wall-clock ms: pcap time stamps
      for (let f = source.receive(now); f !== null; f = source.receive(now)) {
        const t = new Date(now).toISOString().slice(11, 23);
        console.log(`${t} ${prettyPrint(f, medium)}`);
        if (++seen >= args.count) break;
      }
      if (dev.error !== null) throw dev.error;
      if (seen >= args.count || stop) break;
      await new Promise<void>((resolve) => {
        wake = () => {
          wake = null;
          resolve();
        };
        if (dev.pending > 0 || dev.error !== null) wake();
      });
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await dev.close();
    sink?.close();
    console.error(`${seen} frames${args.pcap === null ? "" : ` written to ${args.pcap}`}`);
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
  else await main(args);
}
