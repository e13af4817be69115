/**
 * The TUN rows of `bench/throughput.ts --tun`: smolnet↔kernel through a TUN device in a
 * namespace (plain, with its writer thread, with offloads), and the Linux↔Linux veth ceiling
 * (iperf3) they are compared with.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { NetStack } from "../mod.ts";
import type { TcpStream } from "../mod.ts";
import { TunTapDevice } from "../src/phy/tun_tap.ts";
import { type Proc, withTimeout } from "./_proc.ts";
import {
  ARGS,
  BULK_TCP,
  encoder,
  fmt,
  progress,
  repeat,
  rows,
  type Stat,
  tick,
} from "./_throughput_common.ts";
import {
  acquire,
  budget,
  cleanUp,
  must,
  offloadsOff,
  onCleanup,
  quietIpv6,
  randomHex,
  run,
  spawnProc,
} from "./_throughput_host.ts";

/** Issue 7 target: TUN at MTU 1500. */
const TUN_TARGET = 150;
/** Untimed transfer per direction with SHA-256 checked on both ends (also the warm-up). */
const TUN_CHECK_BYTES = Math.min(ARGS.tunBytes, ARGS.quick ? 4 << 20 : 32 << 20);

/**
 * The kernel-side server in the namespace (python3): per connection a command line `send N
 * [sha]` (sends N bytes of a random 1 MiB block with a counter per MiB, then waits for EOF) or
 * `recv [sha]` (reads to EOF), then prints `{"bytes":..,"sha256":..}` and closes. Exits when its
 * stdin closes.
 */
const PY_SERVER = String.raw`
import hashlib, json, os, socket, sys, threading
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(4)
print("listening", flush=True)
block = bytearray(os.urandom(1 << 20))
buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept()
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        line += b
    parts = line.decode().split()
    h = hashlib.sha256() if parts and parts[-1] == "sha" else None
    n = 0
    if parts and parts[0] == "send":
        total = int(parts[1])
        r = 0
        while n < total:
            k = min(len(block), total - n)
            block[0:8] = r.to_bytes(8, "little")
            view = memoryview(block)[:k]
            if h:
                h.update(view)
            c.sendall(view)
            n += k
            r += 1
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
    elif parts and parts[0] == "recv":
        while True:
            k = c.recv_into(buf)
            if not k:
                break
            if h:
                h.update(memoryview(buf)[:k])
            n += k
    print(json.dumps({"bytes": n, "sha256": h.hexdigest() if h else ""}), flush=True)
    c.close()
`;

const TUN_KERNEL = "192.0.2.1";
const TUN_PORT = 5001;

async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** One TUN transfer; returns MB/s after checking byte counts (and SHA-256 when `sha`). */
async function tunTransfer(
  stack: NetStack,
  py: Proc,
  direction: "download" | "upload",
  bytes: number,
  sha: boolean,
): Promise<number> {
  const conn = await stack.connect({ hostname: TUN_KERNEL, port: TUN_PORT });
  const h = sha ? createHash("sha256") : null;
  let ours = 0;
  let seconds: number;
  try {
    const t0 = performance.now();
    const io = (async () => {
      if (direction === "download") {
        await writeAll(conn, encoder.encode(`send ${bytes}${sha ? " sha" : ""}\n`));
        const buf = new Uint8Array(256 * 1024);
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
          h?.update(buf.subarray(0, n));
          ours += n;
        }
        seconds = (performance.now() - t0) / 1000;
        await conn.closeWrite();
      } else {
        await writeAll(conn, encoder.encode(`recv${sha ? " sha" : ""}\n`));
        const block = crypto.getRandomValues(new Uint8Array(1 << 16));
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < 16; i++) big.set(block, i << 16);
        for (let round = 0; ours < bytes; round++) {
          const chunk = big.subarray(0, Math.min(big.length, bytes - ours));
          chunk[0] = round & 0xff; // a repeated or skipped MiB changes the digest
          h?.update(chunk);
          await writeAll(conn, chunk);
          ours += chunk.length;
        }
        await conn.closeWrite();
        // The server closes after EOF: its FIN means every byte arrived.
        while ((await conn.read(new Uint8Array(16))) !== null) { /* nothing expected */ }
        seconds = (performance.now() - t0) / 1000;
      }
    })();
    await withTimeout(io, budget(bytes), `TUN ${direction}`);
  } finally {
    conn.close();
  }
  const line = await py.line(30_000, "kernel-side server result");
  const theirs = JSON.parse(line) as { bytes: number; sha256: string };
  if (ours !== bytes || theirs.bytes !== bytes) {
    throw new Error(
      `TUN ${direction}: smolnet counted ${ours}, kernel side ${theirs.bytes}, of ${bytes}`,
    );
  }
  if (h !== null && h.digest("hex") !== theirs.sha256) {
    throw new Error(`TUN ${direction}: SHA-256 differs`);
  }
  return bytes / seconds! / 1e6;
}

/** Why the TUN rows cannot run here, or `null`. */
export function tunUnavailable(): string | null {
  if (Deno.build.os !== "linux") return "not Linux";
  for (const name of ["run", "ffi", "sys", "read"] as const) {
    if (Deno.permissions.querySync({ name }).state !== "granted") {
      return `needs --allow-${name} (run with -A)`;
    }
  }
  const uid = Deno.uid();
  if (uid !== 0) {
    return `not root (uid ${uid}); they need CAP_NET_ADMIN for \`ip netns\` and TUNSETIFF`;
  }
  try {
    if (!Deno.statSync("/dev/net/tun").isCharDevice) return "/dev/net/tun is not a device";
  } catch {
    return "no /dev/net/tun (modprobe tun)";
  }
  return cannotRun("ip", "-V") ?? cannotRun("python3", "-V");
}

/** Why `cmd arg` cannot run (`hint` added when it is not installed), or `null`. */
function cannotRun(cmd: string, arg: string, hint = ""): string | null {
  try {
    const ok = new Deno.Command(cmd, { args: [arg], stdout: "null", stderr: "null" }).outputSync()
      .success;
    return ok ? null : `\`${cmd} ${arg}\` fails`;
  } catch {
    return `no \`${cmd}\` on PATH${hint}`;
  }
}

/** Issue 17 targets for TUN with offloads: absolute, and against Linux over veth (same run). */
const TUN_OFFLOAD_TARGET = 1000;
const TUN_VETH_RATIO_TARGET = 0.5;
const VETH_SERVER = "198.51.100.1";
/** Seconds per iperf3 run of the veth ceiling rows. */
const VETH_SECONDS = ARGS.quick ? 1 : 3;

/** Why iperf3 and ethtool cannot run, or `null`. */
export function vethUnavailable(): string | null {
  const hint = " (apt-get install iperf3 ethtool)";
  return cannotRun("iperf3", "-v", hint) ?? cannotRun("ethtool", "--version", hint);
}

/**
 * The ceiling: Linux to Linux TCP (iperf3, one stream, MTU 1500) over a veth pair between two
 * namespaces the script creates, with the default offloads (TSO/GSO/GRO) and with them off on
 * both ends. Returns the medians in MB/s, offloads on first.
 */
export async function vethRows(): Promise<{ on: Stat; off: Stat }> {
  const nsA = `smolnet-bench-${randomHex(8)}`;
  const nsB = `smolnet-bench-${randomHex(8)}`;
  const ifA = `sbva${randomHex(6)}`;
  const ifB = `sbvb${randomHex(6)}`;
  progress(`veth: creating namespaces ${nsA}, ${nsB}`);
  for (const ns of [nsA, nsB]) {
    await acquire(
      () => must("ip", ["netns", "add", ns]),
      () => run("ip", ["netns", "del", ns]),
    );
  }
  await must("ip", [
    "-n",
    nsA,
    "link",
    "add",
    ifA,
    "type",
    "veth",
    "peer",
    "name",
    ifB,
    "netns",
    nsB,
  ]);
  await must("ip", ["-n", nsA, "addr", "add", `${VETH_SERVER}/24`, "dev", ifA]);
  await must("ip", ["-n", nsB, "addr", "add", "198.51.100.2/24", "dev", ifB]);
  for (const [ns, i] of [[nsA, ifA], [nsB, ifB]] as const) {
    await must("ip", ["-n", ns, "link", "set", i, "up"]);
    await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }
  const server = spawnProc("ip", ["netns", "exec", nsA, "iperf3", "-s", "-B", VETH_SERVER]);
  onCleanup(() => server.kill());
  const once = async (): Promise<number> => {
    for (let attempt = 0;; attempt++) {
      const r = await run("ip", [
        "netns",
        "exec",
        nsB,
        "iperf3",
        "-c",
        VETH_SERVER,
        "-t",
        String(VETH_SECONDS),
        "-J",
      ]);
      const text = r.stdout + r.stderr;
      if (r.code === 0) {
        const j = JSON.parse(text.slice(0, text.lastIndexOf("}") + 1));
        return j.end.sum_received.bytes / j.end.sum_received.seconds / 1e6;
      }
      // The server may not listen yet on the first try.
      if (attempt >= 20) throw new Error(`iperf3 client: ${text.trim().slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const on = await repeat("Linux↔Linux veth, offloads on", once);
  for (const [ns, i] of [[nsA, ifA], [nsB, ifB]] as const) {
    const r = await offloadsOff(ns, i);
    if (r.code !== 0) throw new Error(`ethtool -K ${i} off in ${ns}: ${r.stderr.trim()}`);
  }
  const off = await repeat("Linux↔Linux veth, offloads off", once);
  for (const [stat, what] of [[on, "on"], [off, "off"]] as const) {
    rows.push({
      name: `Linux↔Linux TCP over veth, MTU 1500, offloads ${what} (ceiling)`,
      unit: "MB/s",
      stat,
      target: "",
      met: null,
      note: `iperf3 one stream, ${VETH_SECONDS} s per run, between two namespaces`,
    });
  }
  return { on, off };
}

/** The kernel side's counters: TUN queue drops (tx_dropped) and TCP RetransSegs. */
async function kernelTunDrops(
  ns: string,
  ifname: string,
): Promise<{ queue: string; retransmitted: string }> {
  const link = await run("ip", ["-n", ns, "-s", "-j", "link", "show", ifname]);
  const snmp = await run("ip", ["netns", "exec", ns, "cat", "/proc/net/snmp"]);
  const tcp = snmp.stdout.split("\n").filter((l) => l.startsWith("Tcp:")).map((l) => l.split(" "));
  let queue = "?";
  try {
    queue = String(JSON.parse(link.stdout)[0].stats64.tx.dropped);
  } catch { /* unknown */ }
  return { queue, retransmitted: tcp[1]?.[tcp[0]!.indexOf("RetransSegs")] ?? "?" };
}

export async function tunRows(
  offload: boolean,
  veth: { on: Stat; off: Stat } | null,
  writerThread = false,
  readerThread = false,
): Promise<void> {
  const ns = `smolnet-bench-${randomHex(8)}`;
  const ifname = `sbtun${randomHex(6)}`;
  const mode = (offload ? "offloads on" : "offloads off") +
    (writerThread ? ", writer thread" : "") +
    (readerThread ? ", reader thread" : "");
  progress(`TUN (${mode}): creating namespace ${ns}`);
  await acquire(
    () => must("ip", ["netns", "add", ns]),
    () => run("ip", ["netns", "del", ns]),
  );
  const dev = await acquire(
    () =>
      TunTapDevice.open({
        name: ifname,
        mode: "tun",
        mtu: 1500,
        offload,
        writerThread,
        readerThread,
      }),
    (d) => d.close(),
  );
  if (offload && dev.capabilities.offload?.tcpv4 !== true) {
    throw new Error(`the kernel refused TCP segmentation offload on ${ifname}`);
  }
  await must("ip", ["link", "set", "dev", ifname, "netns", ns]);
  await quietIpv6(ns, ifname);
  await must("ip", ["-n", ns, "addr", "add", `${TUN_KERNEL}/24`, "dev", ifname]);
  await must("ip", ["-n", ns, "link", "set", ifname, "up"]);
  await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  const py = spawnProc("ip", [
    "netns",
    "exec",
    ns,
    "python3",
    "-u",
    "-c",
    PY_SERVER,
    TUN_KERNEL,
    String(TUN_PORT),
  ]);
  onCleanup(() => py.kill());
  const ready = await py.line(30_000, "kernel-side server start");
  if (ready !== "listening") throw new Error(`kernel-side server: "${ready}"`);
  const stack = new NetStack({ device: dev, addresses: ["192.0.2.2/24"], tcp: BULK_TCP, seed: 3 });
  onCleanup(() => stack.close());
  await tick();
  await tick();
  const mib = `${ARGS.tunBytes / (1 << 20)} MiB`;
  for (const direction of ["download", "upload"] as const) {
    progress(`TUN ${direction} (${mode}): ${TUN_CHECK_BYTES >> 20} MiB with SHA-256 (untimed)`);
    await tunTransfer(stack, py, direction, TUN_CHECK_BYTES, true);
  }
  for (const direction of ["download", "upload"] as const) {
    const s = await repeat(
      `smolnet↔kernel TUN ${direction} ${mib}, ${mode}`,
      () => tunTransfer(stack, py, direction, ARGS.tunBytes, false),
    );
    const ceiling = veth === null ? null : offload ? veth.on : veth.off;
    const ratio = ceiling === null ? null : s.median / ceiling.median;
    const ratioNote = ratio === null ? "no veth ceiling measured" : `${fmt(ratio)}× Linux veth`;
    const st = dev.stats;
    const drops = await kernelTunDrops(ns, ifname);
    rows.push({
      name: `smolnet↔kernel TUN ${direction}, MTU 1500, ${mode}`,
      unit: "MB/s",
      stat: s,
      target: offload
        ? `≥ ${TUN_OFFLOAD_TARGET} MB/s and ≥ ${TUN_VETH_RATIO_TARGET}× veth`
        : `≥ ${TUN_TARGET} MB/s`,
      met: offload
        ? s.median >= TUN_OFFLOAD_TARGET && ratio !== null && ratio >= TUN_VETH_RATIO_TARGET
        : s.median >= TUN_TARGET,
      note: `${ratioNote}; ${mib} per run; SHA-256 checked on an untimed ` +
        `${TUN_CHECK_BYTES >> 20} MiB transfer, byte counts on every run; so far the kernel ` +
        `dropped ${drops.queue} frames at the TUN queue and retransmitted ${drops.retransmitted} ` +
        `segments, our ring filled ${st.rxQueueFull} times, write errors ${st.writeErrors}` +
        (writerThread ? `, writer ring full ${st.txQueueFull} times` : "") +
        (offload
          ? `; so far ${st.framesCoalesced} frames received coalesced, ` +
            `${st.framesSentSegmented} sent for the kernel to cut`
          : ""),
    });
  }
  // This mode's namespace, device, server and stack go before the next mode starts.
  await cleanUp();
}
