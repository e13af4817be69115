/**
 * One full-size TCP segment through the whole core, both ways: the sender's `send` and `poll`
 * (dispatch, TCP and IPv4 emit, checksum) put a 1460-byte segment on an in-memory link, the
 * receiver's `poll` takes it (IPv4 and TCP parse, checksum verify, demultiplexing, reassembly
 * into the receive buffer) and answers with an ACK (delayed ACKs off), the application reads
 * the bytes, and the sender's next `poll` processes the ACK. Checksums on and off (device
 * capabilities), IP medium and Ethernet medium.
 *
 * Run with `deno bench bench/segment_path_bench.ts`; `deno run bench/segment_path_bench.ts`
 * prints nanoseconds per segment path instead.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { Interface, SocketSet } from "../src/iface/mod.ts";
import { type LinkDevice, linkPair } from "../src/phy/link.ts";
import { TcpListenSocket, TcpSocket } from "../src/socket/tcp/mod.ts";
import { Ipv4Address, parseIpAddress } from "../src/wire/address.ts";

const MSS = 1460;

export interface Path {
  /** Sends one segment, acknowledges it and reads it; returns the bytes read. */
  step(): number;
}

export function setup(medium: "ip" | "ethernet", checksum: boolean): Path {
  const c = { ipv4: checksum, udp: checksum, tcp: checksum, icmpv4: checksum, icmpv6: checksum };
  const [da, db]: [LinkDevice, LinkDevice] = linkPair({ medium, checksum: c });
  const hw = (n: number) => medium === "ethernet" ? { hardwareAddr: `02:00:00:00:00:0${n}` } : {};
  const a = new Interface({ medium, addresses: ["192.0.2.1/24"], seed: 1, ...hw(1) });
  const b = new Interface({ medium, addresses: ["192.0.2.2/24"], seed: 2, ...hw(2) });
  const sa = new SocketSet(), sb = new SocketSet();
  const opts = { rxBufferSize: 1 << 16, txBufferSize: 1 << 16, delayedAck: 0, noDelay: true };
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    socket: opts,
  });
  a.listenTcp(sa, listener);
  let now = 0;
  // First polls let each interface see its device (the SYN's MSS follows the device MTU).
  a.poll(now, da, sa);
  b.poll(now, db, sb);
  const client = new TcpSocket(opts);
  b.connectTcp(sb, client, { addr: parseIpAddress("192.0.2.1"), port: 80 }, {}, now);
  let server: TcpSocket | null = null;
  for (let i = 0; i < 100 && (server === null || client.state !== "established"); i++) {
    b.poll(now, db, sb);
    a.poll(now, da, sa);
    server ??= a.acceptTcp(sa, listener);
    now += 1;
  }
  if (server === null || client.state !== "established") throw new Error("No connection");
  const srv = server;
  const data = new Uint8Array(MSS).fill(0x5a);
  const buf = new Uint8Array(MSS);
  return {
    step(): number {
      now += 0.001;
      client.send(data);
      b.poll(now, db, sb); // the data segment
      a.poll(now, da, sa); // ingress, then the ACK
      const n = srv.recv(buf);
      b.poll(now, db, sb); // the ACK
      return n;
    },
  };
}

const cases = [
  ["IPv4 over IP medium, checksums on", "ip", true],
  ["IPv4 over IP medium, checksums off", "ip", false],
  ["IPv4 over Ethernet, checksums on", "ethernet", true],
] as const;

if (import.meta.main) {
  // deno run: nanoseconds of this process's CPU time per segment path (robust on a shared
  // machine, where wall time counts other processes' turns), best of five rounds of 200,000.
  for (const [name, medium, checksum] of cases) {
    const p = setup(medium, checksum);
    for (let i = 0; i < 50_000; i++) p.step();
    let best = Infinity, bestWall = Infinity;
    for (let r = 0; r < 5; r++) {
      const n = 200_000;
      const c0 = cpuUsage(), t0 = performance.now();
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += p.step();
      const wall = performance.now() - t0, c = cpuUsage(c0);
      if (bytes !== n * MSS) throw new Error(`Read ${bytes} of ${n * MSS} bytes`);
      best = Math.min(best, ((c.user + c.system) * 1e3) / n);
      bestWall = Math.min(bestWall, (wall * 1e6) / n);
    }
    console.log(
      `${name}: ${best.toFixed(0)} ns CPU (${bestWall.toFixed(0)} ns wall) per segment + ACK`,
    );
  }
}

for (const [name, medium, checksum] of cases) {
  const p = setup(medium, checksum);
  Deno.bench({ name: `segment + ACK, ${name}`, group: "segment path", baseline: checksum }, () => {
    p.step();
  });
}
