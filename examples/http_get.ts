/**
 * `createFetch` from `@smol/net/http` on a smolnet stack behind a TUN (or TAP) device: downloads
 * a URL from a server on the host (reached through the device) and prints the status, the size,
 * the time, the throughput and the SHA-256 of the body.
 *
 *   # as root: a device for your user, the host side at 192.0.2.1, a server there
 *   ip tuntap add dev smget0 mode tun user $USER
 *   ip addr add 192.0.2.1/24 dev smget0 && ip link set smget0 up
 *   python3 -m http.server --bind 192.0.2.1 8000 &
 *   deno run --allow-ffi examples/http_get.ts --device smget0 http://192.0.2.1:8000/
 *
 * @module
 */

import {
  type Device,
  FaultInjector,
  fileSink,
  NetStack,
  type PcapFileSink,
  PcapWriter,
  TunTapDevice,
} from "../mod.ts";
import { createFetch, type FetchFunction } from "../src/http/mod.ts";
import { createHash } from "node:crypto";

const USAGE = `Usage: deno run --allow-ffi [--allow-write] examples/http_get.ts [options] URL

Downloads URL (http://ADDRESS[:PORT]/PATH, an IP literal) with a smolnet stack through a TUN/TAP
device and prints status, size, time, throughput and the body's SHA-256. The device is attached
when it exists (ip tuntap add dev NAME mode tun user $USER) and created otherwise (needs
CAP_NET_ADMIN); the host side needs an address on it and must be up.
  --device NAME     TUN/TAP interface to attach to or create (default smget0)
  --tap             TAP (Ethernet medium, ARP/NDP through the kernel) instead of TUN
  --address CIDR    an address of the stack, IPv4 or IPv6; repeatable (default 192.0.2.2/24)
  --gateway ADDR    a default gateway (one per IP version; repeatable)
  --output FILE     write the body to FILE (default: discard it)
  --pcap FILE       write a libpcap capture of what the stack sends and receives
  --drop P          drop each frame with probability P (0..1) in both directions
  --timeout MS      give up after MS milliseconds (default 60000)
  --help            this text
Exits 0 on a 2xx response, 1 otherwise.`;

/** Command-line options. */
export interface GetArgs {
  device: string;
  tap: boolean;
  addresses: string[];
  gateways: string[];
  output: string | null;
  pcap: string | null;
  drop: number;
  timeout: number;
  url: URL;
}

/**
 * Parses the command line.
 *
 * @param argv The arguments.
 * @returns The options, or `null` for `--help`.
 */
export function parseArgs(argv: readonly string[]): GetArgs | null {
  let url: string | null = null;
  const a: Omit<GetArgs, "url"> = {
    device: "smget0",
    tap: false,
    addresses: [],
    gateways: [],
    output: null,
    pcap: null,
    drop: 0,
    timeout: 60_000,
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
    else if (flag === "--address") a.addresses.push(value());
    else if (flag === "--gateway") a.gateways.push(value());
    else if (flag === "--output" || flag === "-o") a.output = value();
    else if (flag === "--pcap") a.pcap = value();
    else if (flag === "--drop") {
      a.drop = Number(value());
      if (!(a.drop >= 0 && a.drop <= 1)) {
        throw new RangeError(`Invalid --drop "${a.drop}": expected a probability from 0 to 1`);
      }
    } else if (flag === "--timeout") {
      a.timeout = Number(value());
      if (!(a.timeout > 0)) throw new RangeError(`Invalid --timeout "${a.timeout}"`);
    } else if (!flag.startsWith("-") && url === null) url = flag;
    else throw new TypeError(`Unknown argument "${flag}"`);
  }
  if (url === null) throw new TypeError("Missing URL");
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") {
    throw new TypeError(`Invalid URL "${url}": only http:// is supported`);
  }
  if (a.addresses.length === 0) a.addresses.push("192.0.2.2/24");
  return { ...a, url: parsed };
}

/** What {@linkcode httpGet} returns. */
export interface GetResult {
  /** The status code. */
  status: number;
  /** The status line (`HTTP/1.1 200 OK`). */
  statusLine: string;
  /** Response headers. */
  headers: Headers;
  /** Body bytes received. */
  bytes: number;
  /** SHA-256 of the body, hex. */
  sha256: string;
}

/**
 * Fetches `url` with `fetch` (from `createFetch`) and reads the whole body.
 *
 * @param fetch A fetch function.
 * @param url The URL.
 * @param onBody Receives every piece of the body.
 * @param signal Aborts the download.
 * @returns Status, headers, size and SHA-256 of the body.
 */
export async function httpGet(
  fetch: FetchFunction,
  url: URL,
  onBody: (chunk: Uint8Array) => void = () => {},
  signal?: AbortSignal,
): Promise<GetResult> {
  const res = await fetch(url, {
    headers: { "user-agent": "smolnet-http-get" },
    ...(signal !== undefined ? { signal } : {}),
  });
  const hash = createHash("sha256");
  let bytes = 0;
  if (res.body !== null) {
    for await (const c of res.body) {
      hash.update(c);
      onBody(c);
      bytes += c.length;
    }
  }
  return {
    status: res.status,
    statusLine: `HTTP/1.1 ${res.status} ${res.statusText}`,
    headers: res.headers,
    bytes,
    sha256: hash.digest("hex"),
  };
}

async function main(args: GetArgs): Promise<number> {
  const tun = await TunTapDevice.open({ name: args.device, mode: args.tap ? "tap" : "tun" });
  let device: Device = tun;
  if (args.drop > 0) {
    device = new FaultInjector(device, { seed: Date.now() >>> 0, dropRate: args.drop });
  }
  let sink: PcapFileSink | null = null;
  if (args.pcap !== null) {
    sink = fileSink(args.pcap);
    device = new PcapWriter(device, sink);
  }
  const stack = new NetStack({ device, addresses: args.addresses, gateways: args.gateways });
  const out = args.output === null
    ? null
    : await Deno.open(args.output, { write: true, create: true, truncate: true });
  const signal = AbortSignal.timeout(args.timeout);
  try {
    const t0 = performance.now();
    const fetch = createFetch(stack);
    let result: GetResult;
    try {
      // A wrapper hides the device's `closed`: a deleted device also ends the download.
      const failed = tun.closed.then(
        () => Promise.reject(new Error("Device closed")),
        (e) => Promise.reject(e),
      );
      failed.catch(() => {});
      result = await Promise.race([
        httpGet(fetch, args.url, (c) => {
          if (out !== null) {
            for (let off = 0; off < c.length;) off += out.writeSync(c.subarray(off));
          }
        }, signal),
        failed,
      ]);
    } finally {
      fetch.close();
    }
    const ms = performance.now() - t0;
    console.log(result.statusLine);
    console.log(
      `${result.bytes} bytes in ${ms.toFixed(0)} ms, ` +
        `${(result.bytes / 1e3 / ms).toFixed(2)} MB/s`,
    );
    console.log(`sha256 ${result.sha256}`);
    return result.status >= 200 && result.status < 300 ? 0 : 1;
  } catch (e) {
    console.error(`${args.url}: ${(e as Error).message}`);
    return 1;
  } finally {
    out?.close();
    await stack.close();
    await tun.close();
    sink?.close();
  }
}

if (import.meta.main) {
  let args: GetArgs | null;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (args === null) console.log(USAGE);
  else Deno.exit(await main(args));
}
