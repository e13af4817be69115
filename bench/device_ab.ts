/**
 * Old against new in one run, for the host devices (issue 17): each argument is a checkout (a
 * source root, e.g. a `git worktree` of an older commit) with options, and the transfers of all
 * of them are interleaved round by round (the order reversed every other round), so load that
 * comes and goes on a shared machine hits each alike; the paired ratios are medians of
 * per-round ratios against the first root.
 *
 * ```sh
 * # TUN (root): smolnet <-> a python3 server in a namespace per root, download and upload
 * deno run -A bench/device_ab.ts tun MIB ROUNDS ROOT[:on|off[:option=value,...]]...
 * # AF_PACKET (root): the same with smolnet on a veth end (on: veth offloads, off: TSO/GSO/GRO off)
 * deno run -A bench/device_ab.ts packet MIB ROUNDS ROOT[:on|off[:option=value,...]]...
 * # UDP tunnel between two processes: TCP upload over the tunnel and raw datagrams per root
 * deno run -A --unstable-net bench/device_ab.ts tunnel MIB ROUNDS ROOT[:fw=N|:nobatch]...
 * ```
 *
 * `AB_DIR=down` (an environment variable; also `up`, `tcp`, `raw`) runs one direction only.
 * `on`/`off` opens the TUN device with or without offloads; `option=value` pairs go to
 * `TunTapDevice.open` (`coalesceAcks=false`), except `rxBuffer=`/`txBuffer=` (the stack's TCP
 * buffers) and `qlen=` (the kernel's queue in front of the TUN, its txqueuelen). For the tunnel, `fw=N` sets both ends' flow window
 * and `nobatch` turns the batched libc path off. CPU figures are this process's user+system
 * milliseconds per MB (from /proc/self/stat), less sensitive to load than MB/s; "waiting for a
 * CPU" is the share of a transfer's wall time the main thread was runnable but not running (its
 * run delay in /proc/thread-self/schedstat): what the load, not the code, cost.
 *
 * @module
 */

import { inNetns } from "../tests/phy/_netns.ts";

const [mode, mibArg, roundsArg, ...specs] = Deno.args;
const bytes = Number(mibArg) * (1 << 20);
const rounds = Number(roundsArg);
if (
  (mode !== "tun" && mode !== "tunnel" && mode !== "packet") || !(bytes > 0) || !(rounds > 0) ||
  specs.length < 1
) {
  console.error("Usage: deno run -A bench/device_ab.ts tun|packet|tunnel MIB ROUNDS ROOT[:...]...");
  Deno.exit(2);
}

/** `AB_DIR=up` (or down, tcp, raw) runs one direction only, for a profile of just that path. */
const ONLY = Deno.env.get("AB_DIR") || undefined;

const med = (x: number[]): number => {
  const s = [...x].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const hex = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
function sh(args: string[]): void {
  const o = new Deno.Command(args[0]!, { args: args.slice(1), stderr: "piped" }).outputSync();
  if (!o.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}
/** This process's CPU time in ms (user + system), from /proc/self/stat. */
function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}
/**
 * Milliseconds the main thread has spent runnable but waiting for a CPU (the run delay in
 * /proc/thread-self/schedstat): on a loaded machine most stalls of a transfer are this.
 */
function runDelayMs(): number {
  return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[1]) / 1e6;
}

/** A line reader over a child's stdout. */
function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const rd = stream.pipeThrough(new TextDecoderStream()).getReader();
  let pend = "";
  return async () => {
    while (!pend.includes("\n")) {
      const r = await rd.read();
      if (r.done) throw new Error("child output ended");
      pend += r.value;
    }
    const i = pend.indexOf("\n");
    const l = pend.slice(0, i);
    pend = pend.slice(i + 1);
    return l;
  };
}

/** One compared configuration: `run(dir)` returns MB/s and records CPU ms/MB. */
interface Arm {
  name: string;
  dirs: string[];
  res: Record<string, number[]>;
  cpu: Record<string, number[]>;
  /** Per transfer: the share of its wall time the main thread waited for a CPU. */
  wait: Record<string, number[]>;
  run(dir: string): Promise<number>;
  note(): string;
  close(): Promise<void>;
}

const PY = String.raw`
import os, socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.1", 5001)); ls.listen(4); print("listening", flush=True)
block = bytearray(os.urandom(1 << 20)); buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept(); line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b: break
        line += b
    p = line.decode().split(); n = 0
    if p[0] == "send":
        t = int(p[1])
        while n < t:
            k = min(len(block), t - n); c.sendall(memoryview(block)[:k]); n += k
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536): pass
    else:
        while True:
            k = c.recv_into(buf)
            if not k: break
            n += k
    print(n, flush=True); c.close()
`;

/**
 * The kernel side: a python3 server on 192.0.2.1 in namespace `ns` behind `ifn`. For `tun`,
 * smolnet's TUN device; for `packet`, smolnet's AF_PACKET socket on a veth end in a second
 * namespace, the other end being `ifn`.
 */
async function tunArm(spec: string, kind: "tun" | "packet" = "tun"): Promise<Arm> {
  const [root, off, extra] = spec.split(":");
  const opts: Record<string, unknown> = {};
  for (const kv of (extra ?? "").split(",").filter(Boolean)) {
    const [k, v] = kv.split("=");
    opts[k!] = v === "true" ? true : v === "false" ? false : Number(v);
  }
  // `rxBuffer=N` / `txBuffer=N` (bytes) size the stack's TCP buffers (default 1 MiB each).
  const tcp = { rxBufferSize: 1 << 20, txBufferSize: 1 << 20 };
  if (typeof opts.rxBuffer === "number") tcp.rxBufferSize = opts.rxBuffer;
  if (typeof opts.txBuffer === "number") tcp.txBufferSize = opts.txBuffer;
  delete opts.rxBuffer;
  delete opts.txBuffer;
  // `qlen=N` sets the kernel's queue in front of the device (the TUN's txqueuelen: 500 frames).
  const qlen = typeof opts.qlen === "number" ? opts.qlen : undefined;
  delete opts.qlen;
  const { NetStack } = await import(`${root}/mod.ts`);
  const { TunTapDevice } = await import(`${root}/src/phy/tun_tap.ts`);
  const { RawSocketDevice } = await import(`${root}/src/phy/raw_socket.ts`);
  const ns = `smolnet-ab-${hex()}`;
  const rawNs = `smolnet-abr-${hex()}`;
  const ifn = `ab${hex()}`;
  const rawIf = `abr${hex()}`;
  sh(["ip", "netns", "add", ns]);
  if (kind === "packet") sh(["ip", "netns", "add", rawNs]);
  // deno-lint-ignore no-explicit-any
  let dev: any = null, stack: any = null, py: Deno.ChildProcess | null = null;
  const close = async () => {
    await stack?.close().catch(() => {});
    await dev?.close().catch(() => {});
    if (py !== null) {
      try {
        py.kill();
      } catch { /* gone */ }
      await py.status;
    }
    new Deno.Command("ip", { args: ["netns", "del", ns] }).outputSync();
    if (kind === "packet") new Deno.Command("ip", { args: ["netns", "del", rawNs] }).outputSync();
  };
  try {
    if (kind === "tun") {
      dev = await TunTapDevice.open({
        name: ifn,
        mode: "tun",
        mtu: 1500,
        offload: off === "on",
        ...opts,
      });
      sh(["ip", "link", "set", "dev", ifn, "netns", ns]);
    } else {
      // veth with its default offloads (`on`) or TSO/GSO/GRO off on both ends (`off`).
      sh([
        "ip",
        "-n",
        ns,
        "link",
        "add",
        ifn,
        "type",
        "veth",
        "peer",
        "name",
        rawIf,
        "netns",
        rawNs,
      ]);
      sh(["ip", "netns", "exec", rawNs, "sysctl", "-qw", `net.ipv6.conf.${rawIf}.disable_ipv6=1`]);
      sh(["ip", "-n", rawNs, "link", "set", rawIf, "up"]);
      if (off !== "on") {
        for (const [n, i] of [[ns, ifn], [rawNs, rawIf]]) {
          sh([
            "ip",
            "netns",
            "exec",
            n!,
            "ethtool",
            "-K",
            i!,
            "tso",
            "off",
            "gso",
            "off",
            "gro",
            "off",
          ]);
        }
      }
      dev = await inNetns(rawNs, () => RawSocketDevice.open({ name: rawIf, ...opts }));
    }
    sh(["ip", "netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${ifn}.disable_ipv6=1`]);
    sh(["ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", ifn]);
    sh(["ip", "-n", ns, "link", "set", ifn, "up"]);
    if (qlen !== undefined) sh(["ip", "-n", ns, "link", "set", ifn, "txqueuelen", String(qlen)]);
    py = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "python3", "-u", "-c", PY],
      stdout: "piped",
      stdin: "piped",
    }).spawn();
    const line = lineReader(py.stdout);
    await line();
    stack = new NetStack({
      device: dev,
      addresses: ["192.0.2.2/24"],
      tcp,
      seed: 3,
    });
    const enc = new TextEncoder();
    let retx = 0, rtos = 0;
    const arm: Arm = {
      name: spec.replace(/.*\//, ""),
      dirs: ["down", "up"],
      res: { down: [], up: [] },
      cpu: { down: [], up: [] },
      wait: { down: [], up: [] },
      async run(dir) {
        const c0 = cpuMs();
        const w0 = runDelayMs();
        const conn = await stack.connect({ hostname: "192.0.2.1", port: 5001 });
        const wa = async (d: Uint8Array) => {
          for (let o = 0; o < d.length;) o += await conn.write(d.subarray(o));
        };
        const t0 = performance.now();
        let ours = 0, secs = 0;
        if (dir === "down") {
          await wa(enc.encode(`send ${bytes}\n`));
          const buf = new Uint8Array(256 * 1024);
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) ours += n;
          secs = (performance.now() - t0) / 1000;
          await conn.closeWrite();
        } else {
          await wa(enc.encode(`recv\n`));
          const big = new Uint8Array(1 << 20);
          crypto.getRandomValues(big.subarray(0, 65536));
          while (ours < bytes) {
            const x = big.subarray(0, Math.min(big.length, bytes - ours));
            await wa(x);
            ours += x.length;
          }
          await conn.closeWrite();
          while ((await conn.read(new Uint8Array(16))) !== null) { /* the server's FIN */ }
          secs = (performance.now() - t0) / 1000;
        }
        const info = conn.info;
        retx += info.retransmits;
        rtos += info.rtos;
        conn.close();
        const theirs = Number(await line());
        if (theirs !== bytes || ours !== bytes) throw new Error(`${dir}: ${ours} / ${theirs}`);
        arm.cpu[dir]!.push((cpuMs() - c0) / (bytes / 1e6));
        arm.wait[dir]!.push((runDelayMs() - w0) / (secs * 1000));
        return bytes / secs / 1e6;
      },
      note: () => {
        const s = dev.stats;
        const out = (args: string[]) =>
          new TextDecoder().decode(new Deno.Command("ip", { args }).outputSync().stdout);
        const link = JSON.parse(out(["-n", ns, "-s", "-j", "link", "show", ifn]))[0];
        const snmp = out(["netns", "exec", ns, "cat", "/proc/net/snmp"]).split("\n")
          .filter((l) => l.startsWith("Tcp:")).map((l) => l.split(" "));
        const kRetx = snmp[1]?.[snmp[0]!.indexOf("RetransSegs")] ?? "?";
        const ext = out(["netns", "exec", ns, "cat", "/proc/net/netstat"]).split("\n")
          .filter((l) => l.startsWith("TcpExt:")).map((l) => l.split(" "));
        const kRto = ext[1]?.[ext[0]!.indexOf("TCPTimeouts")] ?? "?";
        const kTlp = ext[1]?.[ext[0]!.indexOf("TCPLossProbes")] ?? "?";
        const kernel =
          `kernel: ${kind === "tun" ? "TUN" : "veth"} queue drops ${
            link?.stats64?.tx?.dropped ?? "?"
          }, ` +
          `retransmitted ${kRetx}, RTOs ${kRto}, loss probes ${kTlp}; `;
        return kernel +
          `frames in ${s.framesReceived} out ${s.framesSent}, ACKs coalesced ${s.acksCoalesced}, ` +
          `our retransmits ${retx} (RTOs ${rtos}), ` +
          `reader wake-ups ${s.readerWakeups ?? "-"}, receive ring full ${s.rxQueueFull}`;
      },
      close,
    };
    return arm;
  } catch (e) {
    await close();
    throw e;
  }
}

async function tunnelArm(spec: string): Promise<Arm> {
  const [root, extra] = spec.split(":");
  const fw = extra?.startsWith("fw=") ? Number(extra.slice(3)) : undefined;
  const batch = extra !== "nobatch";
  const peer = await import(`${root}/bench/_udp_tunnel_peer.ts`);
  const [a, b, c, d] = peer.freeUdpPorts(4) as number[];
  const flags = [
    ...(batch ? [] : ["--no-batch"]),
    ...(fw !== undefined ? ["--flow-window", String(fw)] : []),
  ];
  const sink = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "-A",
      `${root}/bench/_udp_tunnel_peer.ts`,
      "--role",
      "sink",
      ...["--tun-port", String(a), "--peer-tun-port", String(b)],
      ...["--raw-port", String(c), "--peer-raw-port", String(d)],
      ...["--tcp-buffer", String(1 << 20), ...flags],
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const close = async (src?: { close(): Promise<void> }) => {
    await src?.close().catch(() => {});
    try {
      sink.stdin.close(); // the sink exits at EOF
    } catch { /* closed */ }
    const t = setTimeout(() => sink.kill(), 5000);
    await sink.status;
    clearTimeout(t);
  };
  try {
    if ((await lineReader(sink.stdout)()) !== "ready") throw new Error("sink did not start");
    const src = await peer.TunnelEnd.open("source", {
      tunPort: b,
      peerTunPort: a,
      rawPort: d,
      peerRawPort: c,
      tcpBuffer: 1 << 20,
      ...(fw !== undefined ? { flowWindow: fw } : {}),
      ...(batch ? {} : { batchIo: false }),
    });
    let retx = 0;
    const arm: Arm = {
      name: spec.replace(/.*\//, ""),
      dirs: ["tcp", "raw"],
      res: { tcp: [], raw: [] },
      cpu: { tcp: [], raw: [] },
      wait: { tcp: [], raw: [] },
      async run(dir) {
        const c0 = cpuMs();
        const w0 = runDelayMs();
        const t0 = performance.now();
        const r = dir === "tcp"
          ? await src.tcpSend(bytes)
          : await src.rawSend(Math.ceil(bytes / peer.DATAGRAM));
        retx += r.retransmits ?? 0;
        arm.cpu[dir]!.push((cpuMs() - c0) / (bytes / 1e6));
        arm.wait[dir]!.push((runDelayMs() - w0) / (performance.now() - t0));
        return r.mbps;
      },
      note: () => {
        const s = src.device.stats;
        const r = med(arm.res.tcp!.map((x, i) => x / arm.res.raw![i]!));
        return `tcp/raw paired median ${(100 * r).toFixed(1)} %, retransmitted ${retx}, ` +
          `frames out ${s.framesSent} in ${s.framesReceived}, lost ${s.tunnelLost}, ` +
          `kernel drops ${src.device.hostReceiveDrops()}, batch ${src.device.batchSize ?? 1}`;
      },
      close: () => close(src),
    };
    return arm;
  } catch (e) {
    await close();
    throw e;
  }
}

const arms: Arm[] = [];
try {
  for (const spec of specs) {
    arms.push(await (mode === "tunnel" ? tunnelArm(spec) : tunArm(spec, mode)));
  }
  // Warm-up (V8 optimises the hot path on a background thread), not recorded: at least 48 MiB
  // per direction and arm. TCP over the UDP tunnel ran at a third of its speed for its first
  // 32 MiB (rounds of 16 MiB: 24, 30, then 76–114 MB/s), which made its ratio to raw datagrams
  // swing when the warm-up was one transfer.
  const warm = Math.max(1, Math.ceil((48 << 20) / bytes));
  for (const arm of arms) {
    for (const dir of arm.dirs) {
      if (ONLY !== undefined && dir !== ONLY) continue;
      for (let i = 0; i < warm; i++) await arm.run(dir);
      arm.cpu[dir]!.length = 0;
      arm.wait[dir]!.length = 0;
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const dir of arms[0]!.dirs) {
      if (ONLY !== undefined && dir !== ONLY) continue;
      for (const arm of r & 1 ? [...arms].reverse() : arms) arm.res[dir]!.push(await arm.run(dir));
    }
  }
  const base = arms[0]!;
  console.log(`${mode}, ${bytes / (1 << 20)} MiB per transfer, ${rounds} rounds, medians`);
  for (const arm of arms) {
    const parts = arm.dirs.filter((d) => arm.res[d]!.length > 0).map((dir) => {
      const ratio = med(arm.res[dir]!.map((x, i) => x / base.res[dir]![i]!));
      return `${dir} ${med(arm.res[dir]!).toFixed(1)} MB/s (×${ratio.toFixed(2)}, ` +
        `${med(arm.cpu[dir]!).toFixed(2)} CPU ms/MB, ` +
        `${(100 * med(arm.wait[dir]!)).toFixed(0)} % waiting for a CPU)`;
    });
    console.log(`${arm.name}: ${parts.join(", ")}; ${arm.note()}`);
    console.log(
      `  runs: ${
        arm.dirs.filter((d) => arm.res[d]!.length > 0).map((d) =>
          `${d} ${arm.res[d]!.map((x) => x.toFixed(0)).join(" ")}`
        ).join("; ")
      }`,
    );
  }
  console.log(`load ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
} finally {
  for (const arm of arms) await arm.close();
}
