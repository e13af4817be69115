/**
 * The UDP tunnel rows of `bench/throughput.ts --tun`: smolnet TCP over a `UdpTunnelDevice`
 * between two processes against raw `Deno.listenDatagram` throughput between the same two.
 *
 * @module
 */

import {
  DATAGRAM,
  defaultFlowWindow,
  freeUdpPorts,
  TunnelEnd,
  type TunnelResult,
} from "./_udp_tunnel_peer.ts";
import {
  advanceProgress,
  ARGS,
  BULK_TCP,
  fmt,
  progress,
  rows,
  stat,
} from "./_throughput_common.ts";
import { acquire, budget, onCleanup, spawnProc } from "./_throughput_host.ts";

/** Issue 7 target: the UDP tunnel against raw datagrams. */
const UDP_RATIO_TARGET = 80;
/** The UDP tunnel rows move a quarter of the TUN size (64 MiB by default, 8 MiB with --quick). */
export const UDP_BYTES = Math.max(1 << 20, Math.round(ARGS.tunBytes / 4));
const RAW_COUNT = Math.ceil(UDP_BYTES / DATAGRAM);

interface Source {
  tcp(bytes: number): Promise<TunnelResult>;
  raw(count: number): Promise<TunnelResult>;
}

function parseResult(line: string): TunnelResult {
  const r = JSON.parse(line) as TunnelResult & { error?: string };
  if (r.error !== undefined) throw new Error(`UDP tunnel source: ${r.error}`);
  return r;
}

export async function udpRows(): Promise<void> {
  // In-process source needs Deno.listenDatagram (--unstable-net); else it is a second child.
  const inProcess = typeof Deno.listenDatagram === "function";
  const [sinkTun, srcTun, sinkRaw, srcRaw] = inProcess
    ? freeUdpPorts(4)
    : Array.from({ length: 4 }, (_, i) => 20_000 + ((Math.random() * 2000) | 0) * 4 + i);
  const helper = new URL("./_udp_tunnel_peer.ts", import.meta.url).pathname;
  const helperArgs = (role: string, ports: number[]) => [
    "run",
    "--unstable-net",
    "--allow-net",
    // FFI lets the tunnel use its batched recvmmsg/sendmmsg path (and read /proc for drops).
    "--allow-ffi",
    "--allow-read",
    helper,
    "--role",
    role,
    "--tun-port",
    String(ports[0]),
    "--peer-tun-port",
    String(ports[1]),
    "--raw-port",
    String(ports[2]),
    "--peer-raw-port",
    String(ports[3]),
    "--tcp-buffer",
    String(BULK_TCP.rxBufferSize),
  ];
  progress("UDP tunnel: starting the peer process");
  const sink = spawnProc(
    Deno.execPath(),
    helperArgs("sink", [sinkTun!, srcTun!, sinkRaw!, srcRaw!]),
  );
  onCleanup(() => sink.kill());
  if ((await sink.line(60_000, "UDP tunnel sink start")) !== "ready") {
    throw new Error("UDP tunnel sink did not start");
  }
  const srcPorts = {
    tunPort: srcTun!,
    peerTunPort: sinkTun!,
    rawPort: srcRaw!,
    peerRawPort: sinkRaw!,
    tcpBuffer: BULK_TCP.rxBufferSize,
  };
  let source: Source;
  // Both children get --allow-ffi: batched unless this process lacks it (then it is the sender).
  let batchNote = "recvmmsg/sendmmsg in the receiver";
  if (inProcess) {
    const end = await acquire(() => TunnelEnd.open("source", srcPorts), (e) => e.close());
    source = { tcp: (b) => end.tcpSend(b), raw: (c) => end.rawSend(c) };
    batchNote = end.device.batchSize > 1
      ? "recvmmsg/sendmmsg (batches of 64) at both ends"
      : "Deno.listenDatagram in the sender, recvmmsg/sendmmsg in the receiver";
  } else {
    const src = spawnProc(
      Deno.execPath(),
      helperArgs("source", [srcTun!, sinkTun!, srcRaw!, sinkRaw!]),
    );
    onCleanup(() => src.kill());
    if ((await src.line(60_000, "UDP tunnel source start")) !== "ready") {
      throw new Error("UDP tunnel source did not start");
    }
    source = {
      async tcp(bytes) {
        await src.send(`tcp ${bytes}`);
        return parseResult(await src.line(budget(bytes), "UDP tunnel TCP run"));
      },
      async raw(count) {
        await src.send(`raw ${count}`);
        return parseResult(await src.line(budget(count * DATAGRAM), "raw datagram run"));
      },
    };
  }
  const where = inProcess ? "this process" : "a second child";
  progress(`UDP tunnel: warm-up (sender in ${where})`);
  // As in the bulk rows, V8 needs tens of MiB before the stack's hot path is optimised: TCP over
  // the tunnel ran at a third of its speed for its first 32 MiB (16 MiB transfers: 24, 30, then
  // 76–114 MB/s), so the warm-up moves at least 64 MiB.
  for (let done = 0; done < 64 << 20; done += UDP_BYTES) await source.tcp(UDP_BYTES);
  await source.raw(Math.min(RAW_COUNT, 4096));
  const mib = `${fmt(UDP_BYTES / (1 << 20))} MiB`;
  let retransmits = 0;
  let lost = 0;
  // TCP and raw runs alternate (which goes first swaps every round), so load that comes and
  // goes on a shared machine hits both alike; the ratio is the median of per-round ratios.
  const tcpRuns: number[] = [];
  const rawRuns: number[] = [];
  const ratios: number[] = [];
  const runTcp = async () => {
    const r = await source.tcp(UDP_BYTES);
    retransmits += r.retransmits ?? 0;
    return r.mbps;
  };
  const runRaw = async () => {
    const r = await source.raw(RAW_COUNT);
    lost += r.lost;
    return r.mbps;
  };
  for (let i = 0; i < ARGS.runs; i++) {
    progress(`UDP tunnel TCP ${mib} and raw datagrams, 2 processes: round ${i + 1}/${ARGS.runs}`);
    let t: number, r: number;
    if (i % 2 === 0) {
      t = await runTcp();
      r = await runRaw();
    } else {
      r = await runRaw();
      t = await runTcp();
    }
    tcpRuns.push(t);
    rawRuns.push(r);
    ratios.push(100 * t / r);
  }
  advanceProgress(2);
  const tcp = stat(tcpRuns);
  const raw = stat(rawRuns);
  const paired = stat(ratios);
  rows.push({
    name: "smolnet TCP over UDP tunnel, 2 processes",
    unit: "MB/s",
    stat: tcp,
    target: `≥ ${UDP_RATIO_TARGET} % of raw (${fmt(raw.median * UDP_RATIO_TARGET / 100)} MB/s)`,
    met: tcp.median >= raw.median * UDP_RATIO_TARGET / 100,
    note: `${mib} per run, TCP buffers 1 MiB, tunnel flow window ${defaultFlowWindow()} frames, ` +
      `datagram I/O ${batchNote}, sender in ` +
      `${where}, receiver in a child; byte count checked; ${retransmits} segments retransmitted ` +
      "in all runs",
  });
  rows.push({
    name: "raw Deno.listenDatagram 1400 B, 2 processes",
    unit: "MB/s",
    stat: raw,
    target: "reference",
    met: null,
    note: `${RAW_COUNT} datagrams per run, ≤ 64 unacknowledged; ${lost} lost in all runs`,
  });
  rows.push({
    name: "ratio UDP tunnel TCP / raw datagrams",
    unit: "%",
    stat: paired,
    target: `≥ ${UDP_RATIO_TARGET} %`,
    met: paired.median >= UDP_RATIO_TARGET,
    note: "median of per-round ratios, TCP and raw runs interleaved (order swapped each round); " +
      `ratio of the medians ${fmt(100 * tcp.median / raw.median)} %`,
  });
}
