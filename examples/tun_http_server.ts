/**
 * An HTTP/1.1 server on a smolnet stack behind a TUN (or TAP) device, reached by `curl` on the
 * host: `/` serves a short page and `/bytes/N` serves N bytes where byte i is `i % 251`.
 * Keep-alive by default; `Connection: close` (or HTTP/1.0 without keep-alive) closes after the
 * response.
 *
 *   # as root: create the device, give the host side an address, run the server
 *   ip tuntap add dev smhttp0 mode tun user $USER
 *   ip addr add 192.0.2.1/24 dev smhttp0 && ip link set smhttp0 up
 *   deno run --allow-ffi examples/tun_http_server.ts --device smhttp0 --address 192.0.2.2/24
 *   curl http://192.0.2.2:8080/ && curl -s http://192.0.2.2:8080/bytes/1000000 | sha256sum
 *
 * @module
 */

import { NetStack, type TcpListener, type TcpStream } from "../mod.ts";
import { FaultInjector } from "../src/phy/fault_injector.ts";
import { fileSink, PcapWriter } from "../src/phy/pcap_writer.ts";
import type { PcapFileSink } from "../src/phy/pcap_writer.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import type { Device } from "../src/phy/device.ts";

const USAGE = `Usage: deno run --allow-ffi [--allow-write] examples/tun_http_server.ts [options]

Serves HTTP/1.1 from a smolnet stack through a TUN/TAP device: / is a short page, /bytes/N is
N bytes where byte i is i % 251. The device is attached when it exists (ip tuntap add dev NAME
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

const enc = new TextEncoder();
/** 256 periods of the `i % 251` pattern: any chunk of it starting at 0 continues the pattern. */
const PATTERN = Uint8Array.from({ length: 251 * 256 }, (_, i) => i % 251);
const PAGE = enc.encode(
  "<!doctype html>\n<title>smolnet</title>\n<h1>smolnet</h1>\n" +
    "<p>Served by a userspace TCP/IP stack. Try /bytes/N.</p>\n",
);
const MAX_HEAD = 16 * 1024;

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Writes `n` bytes of the `i % 251` pattern. */
async function writePattern(conn: TcpStream, n: number): Promise<void> {
  let left = n;
  while (left > 0) {
    const k = Math.min(left, PATTERN.length);
    await writeAll(conn, PATTERN.subarray(0, k));
    left -= k;
  }
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Statistics of a server, shared by its connections. */
export interface ServerStats {
  connections: number;
  requests: number;
  bodyBytes: number;
}

/**
 * Answers HTTP/1.1 requests on one connection until the client closes it or asks to close.
 *
 * @param conn The connection.
 * @param stats Counters to update.
 */
export async function serveConnection(
  conn: TcpStream,
  stats: ServerStats = { connections: 0, requests: 0, bodyBytes: 0 },
): Promise<void> {
  stats.connections++;
  const buf = new Uint8Array(8192);
  let pending = "";
  try {
    while (true) {
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) {
        if (pending.length > MAX_HEAD) {
          await writeAll(
            conn,
            enc.encode("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"),
          );
          break;
        }
        const n = await conn.read(buf);
        if (n === null) break;
        pending += latin1(buf.subarray(0, n));
        continue;
      }
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      stats.requests++;
      const m = /^([A-Z]+) (\S+) HTTP\/1\.([01])\r?(?:\n|$)/.exec(head);
      const connection = /\r\nconnection:[ \t]*([^\r]*)/i.exec(head)?.[1]?.toLowerCase() ?? "";
      const close = m === null || connection.includes("close") ||
        (m[3] === "0" && !connection.includes("keep-alive"));
      let status = "200 OK";
      let type = "text/html; charset=utf-8";
      let body: Uint8Array | number = PAGE;
      const bytes = m === null ? null : /^\/bytes\/(\d{1,15})$/.exec(m[2]!);
      if (m === null) {
        status = "400 Bad Request";
        type = "text/plain";
        body = enc.encode("bad request\n");
      } else if (m[1] !== "GET" && m[1] !== "HEAD") {
        status = "405 Method Not Allowed";
        type = "text/plain";
        body = enc.encode("method not allowed\n");
      } else if (bytes !== null && bytes !== undefined) {
        type = "application/octet-stream";
        body = Number(bytes[1]);
      } else if (m[2] !== "/") {
        status = "404 Not Found";
        type = "text/plain";
        body = enc.encode("not found\n");
      }
      const length = typeof body === "number" ? body : body.length;
      const header = `HTTP/1.1 ${status}\r\nServer: smolnet\r\nContent-Type: ${type}\r\n` +
        `Content-Length: ${length}\r\nConnection: ${close ? "close" : "keep-alive"}\r\n\r\n`;
      await writeAll(conn, enc.encode(header));
      if (m?.[1] !== "HEAD") {
        if (typeof body === "number") await writePattern(conn, body);
        else await writeAll(conn, body);
        stats.bodyBytes += length;
      }
      if (close) break;
    }
  } catch (e) {
    // A reset or an aborted stack ends this connection only.
    if (!(e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe)) {
      throw e;
    }
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Accepts connections until the listener closes and serves each with
 * {@linkcode serveConnection}.
 *
 * @param listener The listener.
 * @param stats Counters to update.
 * @returns Resolves when the listener is closed and every connection has ended.
 */
export async function serve(
  listener: TcpListener,
  stats: ServerStats = { connections: 0, requests: 0, bodyBytes: 0 },
): Promise<void> {
  const conns = new Set<Promise<void>>();
  try {
    for await (const conn of listener) {
      const p = serveConnection(conn, stats).catch((e) => {
        console.error(`connection error: ${(e as Error).message}`);
      });
      conns.add(p);
      p.finally(() => conns.delete(p));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
  await Promise.all(conns);
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
