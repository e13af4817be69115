/**
 * A Hono app served by `serve` from `@smol/net/http` on a smolnet stack behind a TUN (or TAP)
 * device, reached by `curl` on the host: `/` serves a short page and `/bytes/N` serves N bytes
 * where byte i is `i % 251`. Keep-alive by default; `Connection: close` (or HTTP/1.0 without
 * keep-alive) closes after the response.
 *
 *   # as root: create the device, give the host side an address, run the server
 *   ip tuntap add dev smhttp0 mode tun user $USER
 *   ip addr add 192.0.2.1/24 dev smhttp0 && ip link set smhttp0 up
 *   deno run --allow-ffi examples/tun_http_server.ts --device smhttp0 --address 192.0.2.2/24
 *   curl http://192.0.2.2:8080/ && curl -s http://192.0.2.2:8080/bytes/1000000 | sha256sum
 *
 * @module
 */

import { Hono } from "hono";
import {
  type Device,
  FaultInjector,
  fileSink,
  NetStack,
  type PcapFileSink,
  PcapWriter,
  type TcpListener,
  type TcpStream,
  TunTapDevice,
} from "../mod.ts";
import { serve as serveHttp } from "../src/http/mod.ts";

const USAGE = `Usage: deno run --allow-ffi [--allow-write] examples/tun_http_server.ts [options]

Serves a Hono app over HTTP/1.1 from a smolnet stack through a TUN/TAP device: / is a short
page, /bytes/N is N bytes where byte i is i % 251. The device is attached when it exists (ip tuntap add dev NAME
mode tun user $USER) and created otherwise (needs CAP_NET_ADMIN); give the host side an address
and bring it up (ip addr add 192.0.2.1/24 dev NAME && ip link set NAME up).
  --device NAME     TUN/TAP interface to attach to or create (default smhttp0)
  --tap             TAP (Ethernet medium, ARP/NDP through the kernel) instead of TUN
  --address CIDR    an address of the stack, IPv4 or IPv6; repeatable (default 192.0.2.2/24)
  --gateway ADDR    a default gateway (one per IP version; repeatable)
  --port N          the TCP port (default 8080), on every IPv4 and IPv6 address of the stack
  --pcap FILE       write a libpcap capture of what the stack sends and receives
  --drop P          drop each frame with probability P (0..1) in both directions
  --help            this text
Stops on SIGINT or SIGTERM.`;

/** Command-line options. */
export interface ServerArgs {
  device: string;
  tap: boolean;
  addresses: string[];
  gateways: string[];
  port: number;
  pcap: string | null;
  drop: number;
}

/**
 * Parses the command line.
 *
 * @param argv The arguments.
 * @returns The options, or `null` for `--help`.
 */
export function parseArgs(argv: readonly string[]): ServerArgs | null {
  const a: ServerArgs = {
    device: "smhttp0",
    tap: false,
    addresses: [],
    gateways: [],
    port: 8080,
    pcap: null,
    drop: 0,
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
    else if (flag === "--port") {
      a.port = Number(value());
      if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) {
        throw new RangeError(`Invalid --port "${a.port}": expected 1 to 65535`);
      }
    } else if (flag === "--pcap") a.pcap = value();
    else if (flag === "--drop") {
      a.drop = Number(value());
      if (!(a.drop >= 0 && a.drop <= 1)) {
        throw new RangeError(`Invalid --drop "${a.drop}": expected a probability from 0 to 1`);
      }
    } else throw new TypeError(`Unknown argument "${flag}"`);
  }
  if (a.addresses.length === 0) a.addresses.push("192.0.2.2/24");
  return a;
}

/** 256 periods of the `i % 251` pattern: any chunk of it starting at 0 continues the pattern. */
const PATTERN = Uint8Array.from({ length: 251 * 256 }, (_, i) => i % 251);
const PAGE = "<!doctype html>\n<title>smolnet</title>\n<h1>smolnet</h1>\n" +
  "<p>Served by a userspace TCP/IP stack with Hono. Try /bytes/N.</p>\n";

/** Statistics of a server, shared by its connections. */
export interface ServerStats {
  connections: number;
  requests: number;
  bodyBytes: number;
}

/** `n` bytes of the `i % 251` pattern as a stream of up to 64 KiB pieces. */
function patternStream(n: number, stats: ServerStats): ReadableStream<Uint8Array> {
  let left = n;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left === 0) return c.close();
      const k = Math.min(left, PATTERN.length);
      c.enqueue(PATTERN.slice(0, k));
      left -= k;
      stats.bodyBytes += k;
    },
  }, { highWaterMark: 0 });
}

/**
 * The Hono app: `/` is a page, `/bytes/N` is N pattern bytes (streamed, with Content-Length),
 * other paths 404, methods other than GET and HEAD 405.
 *
 * @param stats Counters to update.
 * @returns The app.
 */
export function app(stats: ServerStats): Hono {
  const hono = new Hono();
  hono.use("*", async (c, next) => {
    stats.requests++;
    await next();
    c.header("server", "smolnet");
  });
  hono.get("/", (c) => {
    if (c.req.method === "GET") stats.bodyBytes += PAGE.length;
    return c.html(PAGE);
  });
  hono.get("/bytes/:n{[0-9]{1,15}}", (c) => {
    const n = Number(c.req.param("n"));
    return new Response(c.req.method === "HEAD" ? null : patternStream(n, stats), {
      headers: { "content-type": "application/octet-stream", "content-length": String(n) },
    });
  });
  hono.all("*", (c) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      return c.text("method not allowed\n", 405);
    }
    return c.text("not found\n", 404);
  });
  return hono;
}

/**
 * Serves the {@linkcode app} with `serve` from `@smol/net/http` on every connection of
 * `listener` (keep-alive by default; `Connection: close`, or HTTP/1.0 without keep-alive,
 * closes after the response).
 *
 * @param listener The listener.
 * @param stats Counters to update.
 * @returns Resolves when the listener is closed and every connection has ended.
 */
export function serve(
  listener: TcpListener,
  stats: ServerStats = { connections: 0, requests: 0, bodyBytes: 0 },
): Promise<void> {
  async function* counted(): AsyncGenerator<TcpStream> {
    for await (const conn of listener) {
      stats.connections++;
      yield conn;
    }
  }
  return serveHttp(counted(), app(stats).fetch, { onError: onError }).finished;
}

function onError(e: unknown): Response {
  console.error(`handler error: ${(e as Error).message}`);
  return new Response("internal error\n", { status: 500 });
}

async function main(args: ServerArgs): Promise<number> {
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
  const v4 = args.addresses.some((a) => !a.includes(":"));
  const v6 = args.addresses.some((a) => a.includes(":"));
  const listeners: TcpListener[] = [];
  if (v4) listeners.push(stack.listen({ port: args.port, hostname: "0.0.0.0" }));
  if (v6) listeners.push(stack.listen({ port: args.port, hostname: "::" }));
  const stats: ServerStats = { connections: 0, requests: 0, bodyBytes: 0 };
  const serving = Promise.all(listeners.map((l) => serve(l, stats)));

  let stop = (): void => {};
  const stopped = new Promise<"signal">((resolve) => {
    stop = () => resolve("signal");
  });
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // A wrapper hides the device's `closed`: watch the TUN/TAP itself.
  const failed = tun.closed.then(() => "closed" as const, (e: Error) => e);
  const urls = args.addresses.map((a) => {
    const ip = a.split("/")[0]!;
    return `http://${ip.includes(":") ? `[${ip}]` : ip}:${args.port}/`;
  });
  console.log(
    `serving on ${tun.mode.toUpperCase()} device ${tun.name}: ${urls.join(" ")}` +
      (args.pcap !== null ? ` (capture in ${args.pcap})` : ""),
  );
  const why = await Promise.race([stopped, failed]);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  for (const l of listeners) l.close();
  await stack.close();
  await serving.catch(() => {});
  await tun.close();
  sink?.close();
  console.log(
    `stopped: ${stats.connections} connections, ${stats.requests} requests, ` +
      `${stats.bodyBytes} body bytes`,
  );
  if (why instanceof Error) {
    console.error(`device failed: ${why.message}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  let args: ServerArgs | null;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (args === null) console.log(USAGE);
  else Deno.exit(await main(args));
}
