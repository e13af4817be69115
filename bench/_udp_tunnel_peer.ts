/**
 * One end of the UDP tunnel rows of `bench/throughput.ts --tun` (issue 7): a `NetStack` over a
 * {@linkcode UdpTunnelDevice} on 127.0.0.1, and a plain `Deno.listenDatagram` socket for the
 * raw-datagram reference, between two processes.
 *
 * ```sh
 * deno run --unstable-net --allow-net --allow-ffi bench/_udp_tunnel_peer.ts --role sink|source \
 *   --tun-port Q --peer-tun-port P --raw-port R --peer-raw-port S [--no-batch]
 * ```
 *
 * - `sink` (192.0.2.1): accepts TCP on port 5001, reads each connection to EOF, writes back the
 *   byte count in decimal and closes; counts raw datagrams and acknowledges every 16th.
 * - `source` (192.0.2.2): reads commands from stdin, one per line — `tcp BYTES` (bulk upload to
 *   the sink) or `raw COUNT` (1400-byte datagrams, at most 64 unacknowledged) — and prints one
 *   JSON line per command: `{"mbps":..,"bytes":..,"lost":..}`.
 * - either role: `stats` prints the tunnel device's counters and `hostReceiveDrops` as JSON.
 *
 * Both roles print `ready` once set up and exit when stdin reaches EOF, so a parent that dies
 * leaves nothing running. The parent may instead import {@linkcode TunnelEnd} and run the
 * source in its own process (it needs `--unstable-net` for that).
 *
 * @module
 */

import { NetStack } from "../mod.ts";
import { lines } from "./_proc.ts";
import { UdpTunnelDevice } from "../src/phy/udp_tunnel.ts";

/** Size of the raw reference datagrams. */
export const DATAGRAM = 1400;
/** At most this many raw datagrams unacknowledged (platform.md: more starves the receiver). */
export const WINDOW = 64;
const ACK_EVERY = 16;
/**
 * The tunnel's flow-control window (frames unread by the peer) on the `Deno.listenDatagram`
 * path, as the raw reference's 64 unacknowledged datagrams: it keeps the receiver's kernel
 * buffer (the default ~208 KiB, about 90 datagrams) from overflowing.
 */
export const FLOW_WINDOW = 64;
/**
 * The window on the batched libc path, whose sockets ask for 4 MiB buffers (granted to root):
 * 512 datagrams take about 1.2 MiB of buffer. Measured under load 15 (2 cores), TCP over the
 * tunnel moved 9.8 MB/s with 64 and 24.1 MB/s with 512 in the same run, no datagram lost.
 */
export const FLOW_WINDOW_BATCHED = 512;

/** The window both ends use: {@linkcode FLOW_WINDOW_BATCHED} when the batched path can run. */
export function defaultFlowWindow(batchIo = true): number {
  const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  return batchIo && ffi && Deno.build.os === "linux" ? FLOW_WINDOW_BATCHED : FLOW_WINDOW;
}
const TCP_PORT = 5001;

const T_DATA = 0, T_FIN = 1, T_FINAL = 2, T_ACK = 3;

/** UDP ports of one end. */
export interface TunnelPorts {
  readonly tunPort: number;
  readonly peerTunPort: number;
  readonly rawPort: number;
  readonly peerRawPort: number;
  /** The tunnel's flow-control window in frames (0: off; default {@linkcode defaultFlowWindow}). */
  readonly flowWindow?: number;
  /** TCP send and receive buffer size (default: the stack's default). */
  readonly tcpBuffer?: number;
  /** `UdpTunnelOptions.batchIo` (default `true`: recvmmsg/sendmmsg where FFI is allowed). */
  readonly batchIo?: boolean;
}

/** The result of one transfer. */
export interface TunnelResult {
  mbps: number;
  bytes: number;
  lost: number;
  /** TCP rows: the sender's retransmitted segments, of which by timeout, and its final SRTT. */
  retransmits?: number;
  rtos?: number;
  srtt?: number;
}

const LOCAL = "127.0.0.1";

/** One end: the stack on the tunnel and the raw socket. */
export class TunnelEnd {
  readonly stack: NetStack;
  readonly device: UdpTunnelDevice;
  readonly raw: Deno.DatagramConn;
  readonly #rawPeer: Deno.NetAddr;
  #rawLoop: Promise<void> = Promise.resolve();
  #closed = false;
  // source state
  #runId = 0;
  #acked = 0;
  #ackWaiter: (() => void) | null = null;
  #final: ((count: number) => void) | null = null;

  private constructor(
    device: UdpTunnelDevice,
    raw: Deno.DatagramConn,
    ports: TunnelPorts,
    addr: string,
  ) {
    this.device = device;
    this.raw = raw;
    this.#rawPeer = { transport: "udp", hostname: LOCAL, port: ports.peerRawPort };
    const b = ports.tcpBuffer;
    this.stack = new NetStack({
      device,
      addresses: [addr],
      ...(b !== undefined ? { tcp: { rxBufferSize: b, txBufferSize: b } } : {}),
    });
  }

  /** Opens the device, the stack and the raw socket; a sink starts serving. */
  static async open(role: "sink" | "source", ports: TunnelPorts): Promise<TunnelEnd> {
    const device = await UdpTunnelDevice.open({
      local: { hostname: LOCAL, port: ports.tunPort },
      peer: { hostname: LOCAL, port: ports.peerTunPort },
      flowWindow: ports.flowWindow ?? defaultFlowWindow(ports.batchIo),
      batchIo: ports.batchIo ?? true,
    });
    let raw: Deno.DatagramConn;
    try {
      raw = Deno.listenDatagram({ transport: "udp", hostname: LOCAL, port: ports.rawPort });
    } catch (e) {
      await device.close();
      throw e;
    }
    const end = new TunnelEnd(
      device,
      raw,
      ports,
      role === "sink" ? "192.0.2.1/24" : "192.0.2.2/24",
    );
    if (role === "sink") {
      end.#rawLoop = end.#rawSink();
      end.#serveTcp();
    } else {
      end.#rawLoop = end.#rawAcks();
    }
    return end;
  }

  #serveTcp(): void {
    const listener = this.stack.listen({ port: TCP_PORT });
    (async () => {
      try {
        for await (const conn of listener) {
          const buf = new Uint8Array(64 * 1024);
          let total = 0;
          try {
            for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) total += n;
            const reply = new TextEncoder().encode(String(total));
            for (let off = 0; off < reply.length;) off += await conn.write(reply.subarray(off));
            await conn.closeWrite();
          } catch {
            // The source sees the missing reply.
          } finally {
            conn.close();
          }
        }
      } catch {
        // stack closed
      }
    })();
  }

  async #rawSink(): Promise<void> {
    const buf = new Uint8Array(2048);
    const out = new Uint8Array(12);
    const dv = new DataView(out.buffer);
    let cur = -1;
    let count = 0;
    let sending = false;
    const reply = (type: number, runId: number, n: number, to: Deno.Addr) => {
      out[0] = type;
      dv.setUint32(4, runId);
      dv.setUint32(8, n);
      sending = true;
      this.raw.send(out, to).catch(() => {}).finally(() => sending = false);
    };
    while (!this.#closed) {
      let v: Uint8Array, from: Deno.Addr;
      try {
        [v, from] = await this.raw.receive(buf);
      } catch {
        break;
      }
      if (v.length < 8) continue;
      const runId = new DataView(v.buffer, v.byteOffset, 8).getUint32(4);
      if (v[0] === T_DATA) {
        if (runId !== cur) {
          cur = runId;
          count = 0;
        }
        count++;
        // An ack lost while the previous one is still being sent is made up by the next.
        if (count % ACK_EVERY === 0 && !sending) reply(T_ACK, runId, count, from);
      } else if (v[0] === T_FIN) {
        // Copy the buffer first: a pending ack still owns `out`.
        const fin = new Uint8Array(12);
        const fdv = new DataView(fin.buffer);
        fin[0] = T_FINAL;
        fdv.setUint32(4, runId);
        fdv.setUint32(8, runId === cur ? count : 0);
        this.raw.send(fin, from).catch(() => {});
      }
    }
  }

  async #rawAcks(): Promise<void> {
    const buf = new Uint8Array(2048);
    while (!this.#closed) {
      let v: Uint8Array;
      try {
        [v] = await this.raw.receive(buf);
      } catch {
        break;
      }
      if (v.length < 12) continue;
      const dv = new DataView(v.buffer, v.byteOffset, 12);
      if (dv.getUint32(4) !== this.#runId) continue;
      const n = dv.getUint32(8);
      if (v[0] === T_ACK) {
        if (n > this.#acked) this.#acked = n;
        const w = this.#ackWaiter;
        this.#ackWaiter = null;
        w?.();
      } else if (v[0] === T_FINAL) {
        const f = this.#final;
        this.#final = null;
        f?.(n);
      }
    }
  }

  /** Sends `count` datagrams of 1400 bytes with at most 64 unacknowledged; MB/s received. */
  async rawSend(count: number): Promise<TunnelResult> {
    const runId = ++this.#runId;
    this.#acked = 0;
    const data = new Uint8Array(DATAGRAM).fill(0x5a);
    data[0] = T_DATA;
    new DataView(data.buffer).setUint32(4, runId);
    let assumedLost = 0;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      while (i - this.#acked - assumedLost >= WINDOW) {
        const got = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => {
            this.#ackWaiter = null;
            resolve(false);
          }, 50);
          this.#ackWaiter = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        // No ack for 50 ms: take the window as lost and go on (counted in the result).
        if (!got) assumedLost = i - this.#acked;
      }
      await this.raw.send(data, this.#rawPeer);
    }
    const fin = new Uint8Array(8);
    fin[0] = T_FIN;
    new DataView(fin.buffer).setUint32(4, runId);
    let received = -1;
    for (let attempt = 0; attempt < 50 && received < 0; attempt++) {
      const p = new Promise<number>((resolve) => {
        const t = setTimeout(() => {
          this.#final = null;
          resolve(-1);
        }, 100);
        this.#final = (n) => {
          clearTimeout(t);
          resolve(n);
        };
      });
      await this.raw.send(fin, this.#rawPeer);
      received = await p;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (received < 0) throw new Error("raw datagrams: no final count from the sink");
    const bytes = received * DATAGRAM;
    return { mbps: bytes / seconds / 1e6, bytes, lost: count - received };
  }

  /** Uploads `bytes` over TCP to the sink through the tunnel; MB/s until the sink's reply. */
  async tcpSend(bytes: number): Promise<TunnelResult> {
    const conn = await this.stack.connect({ hostname: "192.0.2.1", port: TCP_PORT });
    try {
      const chunk = new Uint8Array(64 * 1024).fill(0xa5);
      const t0 = performance.now();
      let sent = 0;
      while (sent < bytes) {
        sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      }
      await conn.closeWrite();
      const buf = new Uint8Array(64);
      let text = "";
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      const seconds = (performance.now() - t0) / 1000;
      const got = Number(text);
      if (got !== bytes) {
        throw new Error(`UDP tunnel TCP: the sink counted ${text} of ${bytes} bytes`);
      }
      const i = conn.socket.info;
      return {
        mbps: bytes / seconds / 1e6,
        bytes,
        lost: 0,
        retransmits: i.retransmits,
        rtos: i.rtos,
        srtt: i.srtt ?? NaN,
      };
    } finally {
      conn.close();
    }
  }

  /** Closes the stack, the device and the raw socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stack.close().catch(() => {});
    await this.device.close().catch(() => {});
    try {
      this.raw.close();
    } catch { /* closed */ }
    await this.#rawLoop;
  }
}

/** Free UDP ports on 127.0.0.1 (bound, read and released). */
export function freeUdpPorts(n: number): number[] {
  const socks = Array.from(
    { length: n },
    () => Deno.listenDatagram({ transport: "udp", hostname: LOCAL, port: 0 }),
  );
  const ports = socks.map((s) => (s.addr as Deno.NetAddr).port);
  for (const s of socks) s.close();
  return ports;
}

async function main(): Promise<void> {
  const a = Deno.args;
  const get = (flag: string): string => {
    const i = a.indexOf(flag);
    if (i < 0 || a[i + 1] === undefined) throw new TypeError(`Missing ${flag}`);
    return a[i + 1]!;
  };
  const role = get("--role");
  if (role !== "sink" && role !== "source") throw new TypeError(`Invalid --role "${role}"`);
  const end = await TunnelEnd.open(role, {
    tunPort: Number(get("--tun-port")),
    peerTunPort: Number(get("--peer-tun-port")),
    rawPort: Number(get("--raw-port")),
    peerRawPort: Number(get("--peer-raw-port")),
    ...(a.includes("--tcp-buffer") ? { tcpBuffer: Number(get("--tcp-buffer")) } : {}),
    ...(a.includes("--flow-window") ? { flowWindow: Number(get("--flow-window")) } : {}),
    ...(a.includes("--no-batch") ? { batchIo: false } : {}),
  });
  const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${s}\n`));
  out("ready");
  try {
    for await (const line of lines(Deno.stdin.readable)) {
      const [cmd, arg] = line.trim().split(" ");
      if (cmd === "stats") {
        // This end's tunnel counters and the kernel's drops for its socket (null without -A).
        out(
          JSON.stringify({
            ...end.device.stats,
            hostReceiveDrops: end.device.hostReceiveDrops(),
            iface: end.stack.counters,
          }),
        );
        continue;
      }
      if (role !== "source") continue;
      try {
        const r = cmd === "tcp"
          ? await end.tcpSend(Number(arg))
          : cmd === "raw"
          ? await end.rawSend(Number(arg))
          : null;
        out(r === null ? JSON.stringify({ error: `unknown command ${cmd}` }) : JSON.stringify(r));
      } catch (e) {
        out(JSON.stringify({ error: (e as Error).message }));
      }
    }
  } finally {
    await end.close();
  }
}

if (import.meta.main) {
  await main();
  Deno.exit(0);
}
