/**
 * What tracing costs: a bulk transfer between two cores on an in-memory link (MTU 1500,
 * checksums on, no delay), run without a recorder, with `TcpTraceRecorder.attach` on the
 * sender, and without again, in one process. Prints MB/s of each run and the ratios: the two
 * untraced runs say how noisy the machine is; traced over untraced is the cost of tracing.
 *
 *   deno run --v8-flags=--expose-gc bench/trace_overhead.ts [--mib 256] [--rounds 3]
 *
 * @module
 */

import { Interface, SocketSet } from "@smol/net/iface";
import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
import { linkPair } from "@smol/net/phy";
import { Ipv4Address } from "@smol/net/wire";
import { TcpTraceRecorder } from "@smol/net/trace";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid ${name} ${Deno.args[i + 1]}`);
  return v;
}

/** Sends `bytes` from one core to the other on virtual time; returns MB/s of wall time. */
function transfer(bytes: number, recorder: TcpTraceRecorder | null): number {
  const [da, db] = linkPair({ mtu: 1500 });
  const a = new Interface({ addresses: ["192.0.2.1/24"] }), sa = new SocketSet();
  const b = new Interface({ addresses: ["192.0.2.2/24"] }), sb = new SocketSet();
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, {
    socket: { rxBufferSize: 1 << 20 },
  });
  a.listenTcp(sa, listener);
  const client = new TcpSocket({ txBufferSize: 1 << 20 });
  if (recorder !== null) recorder.attach(client);
  b.connectTcp(sb, client, { addr: Ipv4Address.parse("192.0.2.1"), port: 80 }, {}, 0);
  const chunk = new Uint8Array(1 << 16).fill(7);
  const sink = new Uint8Array(1 << 16);
  let sent = 0, got = 0, server: TcpSocket | null = null;
  const t0 = performance.now();
  for (let now = 0; got < bytes; now++) {
    b.poll(now, db, sb);
    a.poll(now, da, sa);
    server ??= listener.accept();
    while (sent < bytes && client.maySend) {
      const n = client.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (n === 0) break;
      sent += n;
    }
    if (server !== null) {
      let n;
      while ((n = server.recv(sink)) > 0) got += n;
    }
  }
  const ms = performance.now() - t0;
  recorder?.detach();
  return bytes / 1e6 / (ms / 1000);
}

if (import.meta.main) {
  const mib = arg("--mib", 256), rounds = arg("--rounds", 3);
  const bytes = mib << 20;
  transfer(16 << 20, null); // warm up
  const off1: number[] = [], on: number[] = [], off2: number[] = [];
  let kept = 0, dropped = 0;
  for (let r = 0; r < rounds; r++) {
    off1.push(transfer(bytes, null));
    const rec = new TcpTraceRecorder({ capacity: 65_536 });
    on.push(transfer(bytes, rec));
    kept = rec.events().length;
    dropped = rec.dropped;
    off2.push(transfer(bytes, null));
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const [m1, mOn, m2] = [med(off1), med(on), med(off2)];
  console.log(`${mib} MiB, MTU 1500, checksums on, median of ${rounds}`);
  console.log(`untraced      ${m1.toFixed(0)} MB/s`);
  console.log(
    `traced        ${mOn.toFixed(0)} MB/s  (${(mOn / ((m1 + m2) / 2)).toFixed(2)}x untraced)`,
  );
  console.log(`untraced      ${m2.toFixed(0)} MB/s  (${(m2 / m1).toFixed(2)}x the first: noise)`);
  console.log(`trace ring: ${kept} events kept, ${dropped} overwritten (bounded at 65,536)`);
}
