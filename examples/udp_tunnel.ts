/**
 * Two smolnet stacks in two processes, joined by a UDP tunnel (one IP packet per datagram), with
 * TCP between them. No privileges needed.
 *
 *   deno run --unstable-net --allow-net examples/udp_tunnel.ts --side a
 *   deno run --unstable-net --allow-net examples/udp_tunnel.ts --side b
 *
 * Add `--allow-ffi` on Linux and the tunnel moves its datagrams in batches (`recvmmsg` /
 * `sendmmsg` on a libc socket) instead of one `Deno.listenDatagram` operation each; the line
 * printed at start says which path runs.
 *
 * Side a (192.0.2.1) listens on TCP port 7 and echoes. Side b (192.0.2.2) connects, sends 1 MiB,
 * reads the echo, compares SHA-256 digests and prints the throughput.
 *
 * @module
 */

import { NetStack, UdpTunnelDevice } from "../mod.ts";

const USAGE =
  `Usage: deno run --unstable-net --allow-net examples/udp_tunnel.ts --side a|b [options]

Two smolnet stacks talk TCP through a UDP tunnel; start side a first.
  --side a        listen on 192.0.2.1 TCP port 7 and echo every byte back
  --side b        connect from 192.0.2.2, send --bytes, check the echo by SHA-256
  --host H        the other process's host (default 127.0.0.1)
  --port-a N      UDP port of side a (default 47001)
  --port-b N      UDP port of side b (default 47002)
  --bytes N       bytes side b sends (default 1048576)
  --help          this text`;

interface Args {
  side: "a" | "b";
  host: string;
  portA: number;
  portB: number;
  bytes: number;
}

function parseArgs(argv: string[]): Args | null {
  const args: Args = { side: "a", host: "127.0.0.1", portA: 47001, portB: 47002, bytes: 1 << 20 };
  let side: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${flag}`);
      return v;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return null;
      case "--side":
        side = value();
        break;
      case "--host":
        args.host = value();
        break;
      case "--port-a":
        args.portA = Number(value());
        break;
      case "--port-b":
        args.portB = Number(value());
        break;
      case "--bytes":
        args.bytes = Number(value());
        break;
      default:
        throw new TypeError(`Unknown argument "${flag}"`);
    }
  }
  if (side !== "a" && side !== "b") {
    throw new TypeError(`Invalid --side "${side}": expected a or b`);
  }
  args.side = side;
  return args;
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sideA(args: Args): Promise<void> {
  const device = await UdpTunnelDevice.open({
    local: { hostname: "0.0.0.0", port: args.portA },
    peer: { hostname: args.host, port: args.portB },
    flowWindow: 64, // both sides: never overrun the other's kernel receive buffer
  });
  const stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
  const listener = stack.listen({ port: 7 });
  const path = device.batchSize > 1 ? "batched recvmmsg/sendmmsg" : "Deno.listenDatagram";
  console.log(`side a: echo on 192.0.2.1:7 over UDP port ${args.portA} (${path}); Ctrl-C to stop`);
  Deno.addSignalListener("SIGINT", () => {
    listener.close();
  });
  try {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        let total = 0;
        try {
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
            let off = 0;
            while (off < n) off += await conn.write(buf.subarray(off, n));
            total += n;
          }
          await conn.closeWrite();
          console.log(`side a: echoed ${total} bytes to ${conn.remoteAddr.hostname}`);
        } catch (e) {
          console.error(`side a: connection failed: ${(e as Error).message}`);
        } finally {
          conn.close();
        }
      })();
    }
  } finally {
    await stack.close();
    await device.close();
  }
}

async function sideB(args: Args): Promise<number> {
  const device = await UdpTunnelDevice.open({
    local: { hostname: "0.0.0.0", port: args.portB },
    peer: { hostname: args.host, port: args.portA },
    flowWindow: 64,
  });
  const stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
  try {
    const data = new Uint8Array(args.bytes);
    crypto.getRandomValues(data.subarray(0, Math.min(65536, data.length)));
    for (let i = 65536; i < data.length; i++) data[i] = data[i - 65536]! ^ (i & 0xff);
    const t0 = performance.now();
    const conn = await stack.connect({ hostname: "192.0.2.1", port: 7 });
    const echo = new Uint8Array(args.bytes);
    const reader = (async () => {
      let got = 0;
      while (got < echo.length) {
        const n = await conn.read(echo.subarray(got));
        if (n === null) break;
        got += n;
      }
      return got;
    })();
    for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
    await conn.closeWrite();
    const got = await reader;
    const secs = (performance.now() - t0) / 1000;
    conn.close();
    const [want, have] = await Promise.all([sha256(data), sha256(echo.subarray(0, got))]);
    const ok = got === data.length && want === have;
    const s = device.stats;
    const kernelDrops = device.hostReceiveDrops(); // null unless run with -A (Deno reads /proc only then)
    // Frames the tunnel lost; waits for a free send slot or receive slot lose nothing.
    const lost = s.dropsTxBusy + s.writeErrors + s.readErrors + s.dropsOversize +
      s.dropsTruncated + s.tunnelLost;
    console.log(
      `side b: sent ${data.length} bytes, echoed ${got}, sha256 ${ok ? "match" : "MISMATCH"} ` +
        `(${have.slice(0, 16)}…), ${(2 * got / secs / 1e6).toFixed(2)} MB/s both ways, ` +
        `${secs.toFixed(2)} s; tunnel: ${lost === 0 ? "no frame lost" : `${lost} frames lost`} ` +
        `(flow control: ${s.txQueueFull} waits for a send slot, ${s.rxQueueFull} receive stalls)` +
        (kernelDrops === null ? "" : `; kernel receive-buffer drops here: ${kernelDrops}`),
    );
    return ok ? 0 : 1;
  } finally {
    await stack.close();
    await device.close();
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
  if (args === null) {
    console.log(USAGE);
  } else if (args.side === "a") {
    await sideA(args);
  } else {
    Deno.exit(await sideB(args));
  }
}
