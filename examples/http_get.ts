/**
 * An HTTP/1.1 client on a smolnet stack behind a TUN (or TAP) device: downloads a URL from a
 * server on the host (reached through the device) and prints the status, the size, the time,
 * the throughput and the SHA-256 of the body.
 *
 *   # as root: a device for your user, the host side at 192.0.2.1, a server there
 *   ip tuntap add dev smget0 mode tun user $USER
 *   ip addr add 192.0.2.1/24 dev smget0 && ip link set smget0 up
 *   python3 -m http.server --bind 192.0.2.1 8000 &
 *   deno run --allow-ffi examples/http_get.ts --device smget0 http://192.0.2.1:8000/
 *
 * @module
 */

import { NetStack, type TcpStream } from "../mod.ts";
import { FaultInjector } from "../src/phy/fault_injector.ts";
import { fileSink, PcapWriter } from "../src/phy/pcap_writer.ts";
import type { PcapFileSink } from "../src/phy/pcap_writer.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import type { Device } from "../src/phy/device.ts";
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
  /** The status line. */
  statusLine: string;
  /** Response headers, lower-case names. */
  headers: Map<string, string>;
  /** Body bytes received. */
  bytes: number;
  /** SHA-256 of the body, hex. */
  sha256: string;
}

/** Reads an HTTP/1.1 response, feeding the body to `onBody`; handles Content-Length, chunked, EOF. */
class ResponseReader {
  readonly #conn: TcpStream;
  readonly #buf = new Uint8Array(256 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;

  constructor(conn: TcpStream) {
    this.#conn = conn;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** A CRLF-terminated line (without it), as latin1. */
  async line(): Promise<string> {
    while (true) {
      for (let i = this.#start; i + 1 < this.#end; i++) {
        if (this.#buf[i] === 13 && this.#buf[i + 1] === 10) {
          let s = "";
          for (let j = this.#start; j < i; j++) s += String.fromCharCode(this.#buf[j]!);
          this.#start = i + 2;
          return s;
        }
      }
      if (this.#end - this.#start > 64 * 1024) throw new Error("Response line too long");
      if (!(await this.#fill())) throw new Error("Connection closed in the response head");
    }
  }

  /** Up to `max` body bytes (at least one unless EOF), or `null` at EOF. */
  async chunk(max: number): Promise<Uint8Array | null> {
    if (this.#start === this.#end && !(await this.#fill())) return null;
    const n = Math.min(max, this.#end - this.#start);
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }
}

/**
 * Sends `GET` for `url` on `conn` (with `Connection: close`) and reads the whole response.
 *
 * @param conn A connection to the URL's host.
 * @param url The URL.
 * @param onBody Receives every piece of the body (valid only during the call).
 * @returns Status, headers, size and SHA-256 of the body.
 */
export async function httpGet(
  conn: TcpStream,
  url: URL,
  onBody: (chunk: Uint8Array) => void = () => {},
): Promise<GetResult> {
  const req = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    "User-Agent: smolnet-http-get\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  const data = new TextEncoder().encode(req);
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
  const r = new ResponseReader(conn);
  const statusLine = await r.line();
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (m === null) throw new Error(`Not an HTTP response: "${statusLine.slice(0, 80)}"`);
  const headers = new Map<string, string>();
  for (let l = await r.line(); l !== ""; l = await r.line()) {
    const i = l.indexOf(":");
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const hash = createHash("sha256");
  let bytes = 0;
  const take = (c: Uint8Array) => {
    hash.update(c);
    onBody(c);
    bytes += c.length;
  };
  const status = Number(m[1]);
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) {
    // nothing
  } else if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    while (true) {
      const size = parseInt((await r.line()).split(";")[0]!, 16);
      if (!Number.isFinite(size)) throw new Error("Bad chunk size");
      if (size === 0) break;
      for (let left = size; left > 0;) {
        const c = await r.chunk(left);
        if (c === null) throw new Error("Connection closed in a chunk");
        take(c);
        left -= c.length;
      }
      await r.line();
    }
  } else if (headers.has("content-length")) {
    for (let left = Number(headers.get("content-length")); left > 0;) {
      const c = await r.chunk(left);
      if (c === null) throw new Error(`Connection closed with ${left} body bytes missing`);
      take(c);
      left -= c.length;
    }
  } else {
    for (let c = await r.chunk(Infinity); c !== null; c = await r.chunk(Infinity)) take(c);
  }
  return { status, statusLine, headers, bytes, sha256: hash.digest("hex") };
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
    const hostname = args.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = args.url.port === "" ? 80 : Number(args.url.port);
    const t0 = performance.now();
    const conn = await stack.connect({ hostname, port, signal });
    const tConnect = performance.now() - t0;
    let result: GetResult;
    try {
      // A wrapper hides the device's `closed`: a deleted device also ends the download.
      const failed = tun.closed.then(
        () => Promise.reject(new Error("Device closed")),
        (e) => Promise.reject(e),
      );
      const aborted = new Promise<never>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      failed.catch(() => {});
      aborted.catch(() => {});
      result = await Promise.race([
        httpGet(conn, args.url, (c) => {
          if (out !== null) {
            for (let off = 0; off < c.length;) off += out.writeSync(c.subarray(off));
          }
        }),
        failed,
        aborted,
      ]);
    } finally {
      conn.close();
    }
    const ms = performance.now() - t0;
    console.log(result.statusLine);
    console.log(
      `${result.bytes} bytes in ${ms.toFixed(0)} ms (connect ${tConnect.toFixed(1)} ms), ` +
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
