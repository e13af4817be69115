/**
 * bench/router.ts — forwarding rate of `examples/router.ts` between two TUN devices against
 * the Linux kernel forwarding between two veth pairs, in one run, and the memory a NAT
 * conntrack table takes for 100,000 flows (issue 20).
 *
 * ```sh
 * deno run -A bench/router.ts [--seconds S] [--runs N] [--size BYTES] [--senders K] [--nat]
 *   [--python-sender] [--arms plain,writer,reader,both] [--baseline DIR] [--profile DIR] [--json FILE]
 * deno run -A bench/router.ts --tcp [--seconds S] [--runs N] [--nat]
 * deno run --v8-flags=--expose-gc bench/router.ts --conntrack [--flows N] [--json FILE]
 * deno run --allow-read --allow-run --allow-sys bench/router.ts --core [--baseline DIR] [--runs N] [--packets N]
 * ```
 *
 * Forwarding (root, /dev/net/tun, `ip`, `nft`, python3): for each contender, three namespaces
 * created by name and deleted afterwards (`smolnet-rb*-…`): an inside host (192.0.2.2/24) whose
 * `--senders` processes send UDP datagrams of `--size` bytes as fast as they can for
 * `--seconds` to an outside host (198.51.100.2/24), which drops them in nftables' input hook
 * (no socket, no ICMP back). A sender is bench/_udp_flood.ts (libc `sendmmsg`, 64 datagrams per
 * call; several hundred thousand datagrams/s into a TUN device on one core), or with
 * `--python-sender` a python3 loop of `send` (about 50k/s each: too weak to load the router). The router between them is either examples/router.ts in its own
 * namespace, holding two TUN devices whose kernel ends are the two hosts, or the kernel itself
 * (`ip_forward=1`, veth pairs; with `--nat` an nftables masquerade). The rate is the packets the
 * outside host's interface received over the sending window (its kernel counters), offered is
 * what the senders' kernel accepted, and dropped what the inside host's device dropped on
 * transmit (a TUN device's queue was full: the router read too slowly); offered ≈ rate + dropped.
 * Each line also gives the router process's CPU share over the window (/proc/PID/stat), the
 * packets it forwarded per CPU-second it got (less sensitive to the machine's load than pps),
 * and the senders' CPU share (their own count, start-up included), then the Router's own non-zero
 * drop counters (forwarder and devices, from what examples/router.ts prints on SIGTERM; a device's
 * `rxQueueFull` counts the times its receive ring was full, leaving frames in the kernel's queue,
 * which then drops: part of "dropped at the inside device"). Contenders alternate, `--runs` times each; the load
 * average is printed, as the machine is shared. A third contender, `--copy`, is the device
 * ceiling: this script reading one TUN device and writing every frame to the other, no stack.
 * The senders do not block (a full TUN queue drops), so the rate is what the router drains.
 * The router runs up to four times per run (`--arms`): as it is (`plain`), with `--writer-thread`
 * (`writer`: each device's writes on a thread of their own), with `--reader-thread` (`reader`:
 * its reads on one) and with both (`both`); each line also gives the load average then; `--baseline DIR`
 * adds another checkout's `examples/router.ts`
 * (e.g. made by `git worktree add --detach /tmp/base <commit>`). `--profile DIR` writes a V8 CPU
 * profile of each router process into DIR (the router is stopped with SIGTERM so it writes it).
 *
 * `--tcp` (also iperf3): one TCP flow, iperf3 from the inside host to the outside host, through
 * the kernel (veth, whose senders hand it 64 KiB GSO packets), the TUN copy and the `Router`,
 * the last two with and without `--offload` (IFF_VNET_HDR: the kernel coalesces what enters a
 * TUN device into super-frames of up to 64 KiB, GRO, and cuts what leaves it, TSO; the router
 * forwards each super-frame whole). The rate is the bytes iperf3 received per second and, like
 * the kernel's own accounting of a TCP flow on a 1500-byte link, the packets/s it would take in
 * wire-MTU segments (bytes / 1448: MTU 1500 less 20 IP, 20 TCP and 12 timestamp bytes); a
 * super-frame counts as the segments it carries, not as one packet.
 *
 * `--core`: the in-process cost of forwarding (bench/_router_core.ts: a `Forwarder` over
 * `linkPair`, one 64-byte UDP flow, CPU ns per packet), without and with NAT, `--runs` runs of
 * `--packets` each, every run its own process; with `--baseline DIR` the other checkout's code runs
 * alternately with this one's (which goes first changes every run) and the new/old ratio of the
 * medians is printed.
 *
 * Conntrack: a heap delta (`gc()` before and after) of a `NatTable` made and filled with
 * `--flows` flows (half TCP, half UDP; distinct inside hosts and ports, each address a fresh
 * object as forwarding makes them), per flow and in MiB.
 *
 * `--json FILE` (forwarding and conntrack) also writes the figures as JSON: every contender's
 * rate in every run, or the flows and heap bytes (bench/throughput.ts --tun reads them). On
 * SIGINT/SIGTERM the forwarding runs take down the lab being measured (router killed,
 * namespaces deleted) before exiting.
 *
 * @module
 */

import { NatTable } from "../src/iface/nat.ts";
import { TunTapDevice } from "../src/phy/mod.ts";
import { Ipv4Address } from "../src/wire/address.ts";
import {
  createNetns as makeNetns,
  deleteNetns as dropNetns,
  linkName,
  must,
} from "../tests/phy/_netns.ts";
import { interruptHandler, onCleanup } from "./_cleanup.ts";
import { type Proc, spawnProc } from "./_proc.ts";
import { forwardCost } from "./_router_core.ts";

interface Args {
  seconds: number;
  runs: number;
  size: number;
  senders: number;
  nat: boolean;
  conntrack: boolean;
  flows: number;
  tcp: boolean;
  core: boolean;
  packets: number;
  baseline: string;
  profile: string;
  /** `mmsg`: bench/_udp_flood.ts (sendmmsg, 64 per call); `python`: the python3 loop. */
  sender: "mmsg" | "python";
  /** Which Router arms run (`plain`, `writer`, `reader`, `both`), comma-separated. */
  arms: string[];
  /** `--json FILE`: the figures as JSON too (bench/throughput.ts --tun reads them). */
  json: string;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    seconds: 5,
    runs: 2,
    size: 64,
    senders: 0, // 1 sendmmsg sender or 2 python3 ones unless given
    nat: false,
    conntrack: false,
    flows: 100_000,
    tcp: false,
    core: false,
    packets: 1_000_000,
    baseline: "",
    profile: "",
    sender: "mmsg",
    arms: ["plain", "writer", "reader", "both"],
    json: "",
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!(n > 0)) throw new RangeError(`Invalid ${f}: ${argv[i]}`);
      return n;
    };
    if (f === "--seconds") a.seconds = num();
    else if (f === "--runs") a.runs = num();
    else if (f === "--size") a.size = num();
    else if (f === "--senders") a.senders = num();
    else if (f === "--flows") a.flows = num();
    else if (f === "--nat") a.nat = true;
    else if (f === "--conntrack") a.conntrack = true;
    else if (f === "--tcp") a.tcp = true;
    else if (f === "--core") a.core = true;
    else if (f === "--packets") a.packets = num();
    else if (f === "--python-sender") a.sender = "python";
    else if (f === "--arms") {
      a.arms = (argv[++i] ?? "").split(",");
      for (const x of a.arms) {
        if (!["plain", "writer", "reader", "both"].includes(x)) {
          throw new TypeError(`Invalid --arms entry ${JSON.stringify(x)}`);
        }
      }
    } else if (f === "--baseline" || f === "--profile" || f === "--json") {
      const v = argv[++i];
      if (v === undefined) throw new TypeError(`Missing value after ${f}`);
      if (f === "--baseline") a.baseline = v.endsWith("/") ? v : `${v}/`;
      else if (f === "--json") a.json = v;
      else a.profile = v;
    } else throw new TypeError(`Unknown option ${f}`);
  }
  if (a.senders === 0) a.senders = a.sender === "python" ? 2 : 1;
  return a;
}

// --- conntrack memory -----------------------------------------------------------------------

function conntrackMemory(flows: number): { flows: number; bytes: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const server = Ipv4Address.parse("198.51.100.7");
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const nat = new NatTable({ externalAddress: "198.51.100.1", maxMappings: flows });
  for (let i = 0; i < flows; i++) {
    // 64 ports on each of many inside hosts; a fresh address object per flow, as parsing does.
    const host = new Ipv4Address((0xc0000200 + (i >>> 6)) >>> 0);
    const r = nat.outbound(0, i % 2 === 0 ? "tcp" : "udp", host, 10_000 + (i & 63), server, 443);
    if (r === null) throw new Error(`flow ${i} refused`);
  }
  gc();
  const after = Deno.memoryUsage().heapUsed;
  if (nat.size !== flows) throw new Error(`expected ${flows} mappings, have ${nat.size}`);
  const bytes = after - before;
  console.log(
    `conntrack: ${flows} flows, heap delta ${(bytes / 2 ** 20).toFixed(1)} MiB (${
      Math.round(bytes / flows)
    } B/flow; target <= 32 MiB)`,
  );
  return { flows, bytes };
}

// --- forwarding rate ------------------------------------------------------------------------

const SENDER_PY = String.raw`
import socket, sys, time
dst, port, secs, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
s.connect((dst, port))
b = b"x" * size
n = 0
print("ready", flush=True)
sys.stdin.readline()
end = time.monotonic() + secs
while time.monotonic() < end:
    for _ in range(512):
        try:
            s.send(b)
            n += 1
        except OSError:
            pass
print(n, flush=True)
`;

interface Lab {
  /** The router process (examples/router.ts or the TUN copy), when it is one. */
  pid?: number;
  /** Stops examples/router.ts (SIGTERM) and returns the counters it prints as it ends. */
  finish?: () => Promise<RouterReport | null>;
  inside: string;
  outside: string;
  inDev: string;
  outDev: string;
  undo: (() => Promise<unknown>)[];
}

async function counters(
  ns: string,
  dev: string,
): Promise<{ rx: number; tx: number; txDropped: number }> {
  const out = await must("ip", ["-n", ns, "-s", "-j", "link", "show", "dev", dev]);
  const s = JSON.parse(out)[0].stats64;
  return { rx: s.rx.packets, tx: s.tx.packets, txDropped: s.tx.dropped };
}

async function hosts(lab: Lab): Promise<void> {
  const sh = (ns: string, cmd: string) => must("ip", ["netns", "exec", ns, "sh", "-ec", cmd]);
  await sh(
    lab.inside,
    `sysctl -qw net.ipv6.conf.${lab.inDev}.disable_ipv6=1
     ip addr add 192.0.2.2/24 dev ${lab.inDev}; ip link set ${lab.inDev} up txqueuelen 10000
     ip route add default via 192.0.2.1`,
  );
  await sh(
    lab.outside,
    `sysctl -qw net.ipv6.conf.${lab.outDev}.disable_ipv6=1
     ip addr add 198.51.100.2/24 dev ${lab.outDev}; ip link set ${lab.outDev} up
     ip route add 192.0.2.0/24 via 198.51.100.1
     nft add table inet sink
     nft add chain inet sink in '{ type filter hook input priority 0; }'
     nft add rule inet sink in udp dport 9000 drop`,
  );
}

/**
 * `--copy IN OUT [--offload]`: the device ceiling, every frame from IN written to OUT and back
 * (both ways, for TCP's ACKs), with no stack.
 */
async function tunCopy(inName: string, outName: string, offload: boolean): Promise<void> {
  const tin = await TunTapDevice.open({ name: inName, mode: "tun", offload });
  const tout = await TunTapDevice.open({ name: outName, mode: "tun", offload });
  let wake: (() => void) | null = null;
  const onReadable = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  tin.onReadable(onReadable);
  tout.onReadable(onReadable);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  console.log("copy: ready");
  const copy = (from: TunTapDevice, to: TunTapDevice): boolean => {
    const f = from.receive(0);
    if (f === null) return false;
    const buf = to.transmit(0, f.length);
    if (buf !== null) {
      buf.set(f);
      to.commit();
    }
    return true;
  };
  for (;;) {
    const a = copy(tin, tout), b = copy(tout, tin);
    if (a || b) continue;
    await new Promise<void>((r) => wake = r);
  }
}

/** How the router runs: which tree's example, with reader/writer threads, profiled into a folder. */
interface RouterRun {
  root?: string;
  writerThread?: boolean;
  readerThread?: boolean;
  profile?: string;
}

async function smolnetLab(
  nat: boolean,
  copy = false,
  offload = false,
  how: RouterRun = {},
): Promise<Lab> {
  const undo: (() => Promise<unknown>)[] = [];
  const [r, i, o] = [
    await createNetns("rbr"),
    await createNetns("rbi"),
    await createNetns("rbo"),
  ];
  undo.push(() => deleteNetns(r), () => deleteNetns(i), () => deleteNetns(o));
  const tin = linkName("bi"), tout = linkName("bo");
  await must("ip", ["-n", r, "tuntap", "add", "dev", tin, "mode", "tun"]);
  await must("ip", ["-n", r, "tuntap", "add", "dev", tout, "mode", "tun"]);
  const here = new URL("../", import.meta.url).pathname;
  const root = how.root ?? here;
  const profile = how.profile ?? "";
  const proc: Proc = spawnProc("ip", [
    "netns",
    "exec",
    r,
    Deno.execPath(),
    "run",
    "--allow-ffi",
    ...(profile === "" || copy ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile}`]),
    // The writer thread is a module Worker: it reads its own module.
    ...(how.writerThread || how.readerThread ? [`--allow-read=${root}`] : []),
    ...(copy
      ? [`${here}bench/router.ts`, "--copy", tin, tout, ...(offload ? ["--offload"] : [])]
      : [
        `${root}examples/router.ts`,
        "--inside",
        tin,
        "--outside",
        tout,
        "--allow-documentation",
        "--no-ipv6",
        ...(nat ? [] : ["--no-nat"]),
        ...(offload ? ["--offload"] : []),
        ...(how.writerThread ? ["--writer-thread"] : []),
        ...(how.readerThread ? ["--reader-thread"] : []),
      ]),
  ]);
  undo.unshift(async () => {
    if (profile !== "") {
      // SIGTERM: the router prints its counters and exits, which writes the profile.
      try {
        Deno.kill(proc.pid, "SIGTERM");
      } catch { /* already ended */ }
      await Promise.race([proc.status, new Promise((r) => setTimeout(r, 5000))]);
    }
    await proc.kill();
  });
  await proc.line(30_000, "router start");
  await must("ip", ["-n", r, "link", "set", tin, "netns", i]);
  await must("ip", ["-n", r, "link", "set", tout, "netns", o]);
  let finished: Promise<RouterReport | null> | null = null;
  const finish = () =>
    finished ??= (async () => {
      try {
        Deno.kill(proc.pid, "SIGTERM");
        const line = await proc.line(10_000, "router counters");
        return line.startsWith("{") ? JSON.parse(line) as RouterReport : null;
      } catch {
        return null;
      }
    })();
  const lab = {
    pid: proc.pid,
    ...(copy ? {} : { finish }),
    inside: i,
    outside: o,
    inDev: tin,
    outDev: tout,
    undo,
  };
  await hosts(lab);
  return lab;
}

async function kernelLab(nat: boolean): Promise<Lab> {
  const undo: (() => Promise<unknown>)[] = [];
  const [r, i, o] = [
    await createNetns("rkr"),
    await createNetns("rki"),
    await createNetns("rko"),
  ];
  undo.push(() => deleteNetns(r), () => deleteNetns(i), () => deleteNetns(o));
  const vi = linkName("ki"), vri = linkName("kri"), vo = linkName("ko"), vro = linkName("kro");
  await must("ip", ["link", "add", vi, "netns", i, "type", "veth", "peer", vri, "netns", r]);
  await must("ip", ["link", "add", vo, "netns", o, "type", "veth", "peer", vro, "netns", r]);
  await must("ip", [
    "netns",
    "exec",
    r,
    "sh",
    "-ec",
    `sysctl -qw net.ipv4.ip_forward=1
     ip addr add 192.0.2.1/24 dev ${vri}; ip link set ${vri} up
     ip addr add 198.51.100.1/24 dev ${vro}; ip link set ${vro} up
     ${
      nat
        ? `nft add table ip nat
     nft add chain ip nat post '{ type nat hook postrouting priority 100; }'
     nft add rule ip nat post oifname ${vro} masquerade`
        : ""
    }`,
  ]);
  const lab = { inside: i, outside: o, inDev: vi, outDev: vo, undo };
  await hosts(lab);
  return lab;
}

/** What examples/router.ts prints when it stops (the parts read here). */
interface RouterReport {
  forward: Record<string, number>;
  devices: Record<"inside" | "outside", Record<string, number>>;
}

/** One forwarding measurement, per second of the sending window. */
interface Rate {
  /** Packets the outside host's interface received. */
  pps: number;
  /** Datagrams the senders' kernel accepted (what was offered to the path). */
  offered: number;
  /** Packets the inside host's device dropped on transmit (for TUN: the router read too slowly). */
  dropped: number;
  /** The router process's CPU time over the window, in CPU-seconds per second (NaN: kernel). */
  routerCpu: number;
  /** The senders' CPU time (user + system) per second of the window, summed. */
  senderCpu: number;
  /** The router's own drops by cause (examples/router.ts only), over the whole run. */
  drops: string;
}

/** User + system CPU seconds of process `pid` so far (/proc/PID/stat, 100 ticks a second). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime and stime are fields 14 and 15
}

async function measure(lab: Lab, a: Args): Promise<Rate> {
  const senders: Proc[] = [];
  const flood = new URL("./_udp_flood.ts", import.meta.url).pathname;
  try {
    for (let k = 0; k < a.senders; k++) {
      const args = ["198.51.100.2", "9000", String(a.seconds), String(a.size)];
      const p = spawnProc(
        "ip",
        a.sender === "python"
          ? ["netns", "exec", lab.inside, "python3", "-c", SENDER_PY, ...args]
          : ["netns", "exec", lab.inside, Deno.execPath(), "run", "--allow-ffi", flood, ...args],
      );
      senders.push(p);
      await p.line(30_000, "sender ready");
    }
    // Let the path settle (ARP-free on TUN; the first packets also make NAT mappings).
    const b0 = await counters(lab.outside, lab.outDev), i0 = await counters(lab.inside, lab.inDev);
    const r0 = await cpuSeconds(lab.pid);
    const t0 = performance.now();
    await Promise.all(senders.map((p) => p.send("go")));
    const sent = await Promise.all(
      senders.map((p) => p.line(a.seconds * 1000 + 30_000, "sender done")),
    );
    await new Promise((r) => setTimeout(r, 200)); // what is still queued
    const secs = (performance.now() - t0) / 1000;
    const r1 = await cpuSeconds(lab.pid);
    const b1 = await counters(lab.outside, lab.outDev), i1 = await counters(lab.inside, lab.inDev);
    // Each sender prints its count; the sendmmsg one also its CPU seconds.
    const offered = sent.reduce((n, l) => n + Number(l.split(" ")[0]), 0);
    const rep = lab.finish === undefined ? null : await lab.finish();
    const drops = rep === null ? "" : dropsOf(rep);
    const cpu = sent.reduce((n, l) => n + Number(l.split(" ")[1] ?? NaN), 0);
    return {
      pps: (b1.rx - b0.rx) / secs,
      offered: offered / secs,
      dropped: (i1.txDropped - i0.txDropped) / secs,
      routerCpu: (r1 - r0) / secs,
      senderCpu: cpu / a.seconds,
      drops,
    };
  } finally {
    for (const p of senders) await p.kill();
  }
}

/** The router's non-zero drop counters, `name n, …` (forwarder, then each device). */
function dropsOf(r: RouterReport): string {
  const out: string[] = [];
  const fwd = r.forward ?? {};
  for (const [k, v] of Object.entries(fwd)) {
    if (v > 0 && !["forwarded", "natOut", "natIn", "superFrames", "segmented"].includes(k)) {
      out.push(`${k} ${v}`);
    }
  }
  for (const side of ["inside", "outside"] as const) {
    const d = r.devices?.[side] ?? {};
    for (const k of ["rxQueueFull", "txQueueFull", "dropsTxBusy", "writeErrors"]) {
      if ((d[k] ?? 0) > 0) out.push(`${side} ${k} ${d[k]}`);
    }
  }
  return out.length === 0 ? "none" : out.join(", ");
}

/** Namespaces created and not yet deleted, and the undo of the lab being measured. */
const liveNetns = new Set<string>();
const liveUndo = new Set<() => Promise<void>>();
// On SIGINT/SIGTERM (see `forwarding`'s caller): the lab's undo, then any namespace left.
onCleanup(async () => {
  for (const u of liveUndo) await u();
  for (const n of liveNetns) await deleteNetns(n);
});

async function createNetns(tag: string): Promise<string> {
  const n = await makeNetns(tag);
  liveNetns.add(n);
  return n;
}

async function deleteNetns(name: string): Promise<void> {
  liveNetns.delete(name);
  await dropNetns(name);
}

async function withLab<T>(make: () => Promise<Lab>, f: (lab: Lab) => Promise<T>): Promise<T> {
  let lab: Lab | null = null;
  let undo: (() => Promise<void>) | null = null;
  try {
    lab = await make();
    const undone = lab.undo.splice(0);
    undo = async () => {
      liveUndo.delete(undo!);
      for (const u of undone) await u().catch(() => {});
    };
    liveUndo.add(undo);
    return await f(lab);
  } finally {
    if (undo !== null) await undo();
  }
}

/** Per contender (`kernel`, `copy`, `baseline`, or a Router arm), its rate in every run. */
type Rates = Record<string, Rate[]>;

async function forwarding(a: Args): Promise<Rates> {
  const rates: Rates = {};
  const note = (name: string, r: Rate) => (rates[name] ??= []).push(r);
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `router forwarding, UDP ${a.size} B payload, ${a.senders} ${
      a.sender === "python" ? "python3" : "sendmmsg"
    } senders x ${a.seconds} s, ${a.nat ? "with NAT" : "no NAT"}; load average ${load}`,
  );
  const profile = a.profile;
  const arms: Record<string, [boolean, boolean]> = {
    plain: [false, false],
    writer: [true, false],
    reader: [false, true],
    both: [true, true],
  };
  const pct = (x: number) => Number.isNaN(x) ? "-" : `${Math.round(x * 100)} %`;
  const f = (x: Rate) =>
    `${Math.round(x.pps)} pps (offered ${Math.round(x.offered)}, dropped at the inside device ${
      Math.round(x.dropped)
    }; CPU router ${pct(x.routerCpu)}${
      Number.isNaN(x.routerCpu) ? "" : `, ${Math.round(x.pps / x.routerCpu)} pps per router CPU-s`
    }, senders ${pct(x.senderCpu)}${x.drops === "" ? "" : `; router counters: ${x.drops}`})`;
  for (let run = 0; run < a.runs; run++) {
    const l = () => Deno.readTextFile("/proc/loadavg").then((t) => t.split(" ")[0]);
    const k = await withLab(() => kernelLab(a.nat), (lab) => measure(lab, a));
    note("kernel", k);
    console.log(`run ${run + 1}: kernel veth ${f(k)}; load ${await l()}`);
    const c = await withLab(() => smolnetLab(a.nat, true), (lab) => measure(lab, a));
    note("copy", c);
    console.log(`run ${run + 1}: TUN copy, no stack ${f(c)}; load ${await l()}`);
    const ratios = (x: Rate) =>
      `/kernel ${(x.pps / k.pps).toFixed(2)}, /copy ${(x.pps / c.pps).toFixed(2)}`;
    if (a.baseline !== "") {
      const old = await withLab(
        () => smolnetLab(a.nat, false, false, { root: a.baseline, profile }),
        (lab) => measure(lab, a),
      );
      note("baseline", old);
      console.log(`run ${run + 1}: baseline Router ${f(old)} (${ratios(old)}); load ${await l()}`);
    }
    for (const arm of a.arms) {
      const [writerThread, readerThread] = arms[arm]!;
      const r = await withLab(
        () => smolnetLab(a.nat, false, false, { writerThread, readerThread, profile }),
        (lab) => measure(lab, a),
      );
      note(arm, r);
      console.log(`run ${run + 1}: Router ${arm} ${f(r)} (${ratios(r)}); load ${await l()}`);
    }
  }
  const after = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(`load average after: ${after}`);
  return rates;
}

/** Bytes of TCP payload per wire packet on a 1500-byte link (20 IP, 20 TCP, 12 timestamps). */
const WIRE_SEGMENT = 1448;

async function measureTcp(lab: Lab, a: Args): Promise<{ mbps: number; pps: number }> {
  const server = spawnProc("ip", [
    "netns",
    "exec",
    lab.outside,
    "iperf3",
    "-s",
    "-1",
    "-B",
    "198.51.100.2",
    "-p",
    "5201",
  ]);
  try {
    // iperf3 buffers its output when it is not a terminal: wait until the port listens.
    for (let i = 0;; i++) {
      const l = await must("ip", ["netns", "exec", lab.outside, "ss", "-Hltn", "sport = :5201"]);
      if (l.includes(":5201")) break;
      if (i === 400) throw new Error("iperf3 server: not listening after 10 s");
      await new Promise((r) => setTimeout(r, 25));
    }
    const out = await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lab.inside,
        "iperf3",
        "-c",
        "198.51.100.2",
        "-p",
        "5201",
        "-t",
        String(a.seconds),
        "-J",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) throw new Error(`iperf3 failed: ${text.slice(0, 400)}`);
    const r = JSON.parse(text).end?.sum_received;
    if (r === undefined) throw new Error(`iperf3 gave no result: ${text.slice(-300)}`);
    const bytesPerSec = r.bytes / r.seconds;
    return { mbps: bytesPerSec / 1e6, pps: bytesPerSec / WIRE_SEGMENT };
  } finally {
    await server.kill();
  }
}

async function tcpForwarding(a: Args): Promise<void> {
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `router forwarding, one TCP flow (iperf3) x ${a.seconds} s, ${
      a.nat ? "with NAT" : "no NAT"
    }; packets/s in wire-MTU segments (bytes / ${WIRE_SEGMENT}); load average ${load}`,
  );
  for (let run = 0; run < a.runs; run++) {
    const k = await withLab(() => kernelLab(a.nat), (lab) => measureTcp(lab, a));
    const c = await withLab(() => smolnetLab(a.nat, true, false), (lab) => measureTcp(lab, a));
    const co = await withLab(() => smolnetLab(a.nat, true, true), (lab) => measureTcp(lab, a));
    const s = await withLab(() => smolnetLab(a.nat, false, false), (lab) => measureTcp(lab, a));
    const so = await withLab(() => smolnetLab(a.nat, false, true), (lab) => measureTcp(lab, a));
    const f = (x: { mbps: number; pps: number }) =>
      `${Math.round(x.pps)} pps (${x.mbps.toFixed(0)} MB/s)`;
    console.log(
      `run ${run + 1}: kernel veth ${f(k)}; TUN copy ${f(c)}, with offload ${f(co)}; ` +
        `Router ${f(s)}, with --offload ${f(so)}; Router --offload / kernel ${
          (so.pps / k.pps).toFixed(2)
        }, / copy with offload ${(so.pps / co.pps).toFixed(2)}, / Router ${
          (so.pps / s.pps).toFixed(2)
        }`,
    );
  }
  const after = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(`load average after: ${after}`);
}

// --- in-process cost ------------------------------------------------------------------------

async function coreCost(a: Args): Promise<void> {
  const here = new URL("../", import.meta.url).pathname;
  const load = () => Promise.resolve(Deno.loadavg()[0]!.toFixed(2));
  console.log(
    `forwarding cost in process, ${a.packets} packets per run, CPU ns/packet; load ${await load()}`,
  );
  const one = async (root: string, nat: boolean): Promise<number> => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", `${here}bench/router.ts`, "--core-one", root, String(a.packets)]
        .concat(nat ? ["nat"] : []),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`--core-one ${root} failed`);
    return Number(new TextDecoder().decode(out.stdout).trim());
  };
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  for (const nat of [false, true]) {
    const fresh: number[] = [], old: number[] = [];
    for (let r = 0; r < a.runs; r++) {
      if (a.baseline !== "" && r % 2 === 0) old.push(await one(a.baseline, nat));
      fresh.push(await one(here, nat));
      if (a.baseline !== "" && r % 2 === 1) old.push(await one(a.baseline, nat));
    }
    const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
    console.log(
      `${nat ? "with NAT" : "no NAT"}: new ${f(fresh)} (median ${med(fresh).toFixed(0)})${
        a.baseline === ""
          ? ""
          : `; old ${f(old)} (median ${med(old).toFixed(0)}); new/old ${
            (med(fresh) / med(old)).toFixed(2)
          }`
      }; load ${await load()}`,
    );
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--core-one") {
    const ns = await forwardCost(Deno.args[1]!, Number(Deno.args[2]), Deno.args[3] === "nat");
    console.log(ns.toFixed(1));
    Deno.exit(0);
  }
  if (Deno.args[0] === "--copy") {
    await tunCopy(Deno.args[1]!, Deno.args[2]!, Deno.args[3] === "--offload");
  }
  const a = parseArgs(Deno.args);
  if (a.conntrack) {
    const c = conntrackMemory(a.flows);
    if (a.json !== "") Deno.writeTextFileSync(a.json, JSON.stringify({ conntrack: c }) + "\n");
  } else if (a.core) await coreCost(a);
  else if (a.tcp) await tcpForwarding(a);
  else {
    // Interrupted (SIGINT/SIGTERM, e.g. from bench/throughput.ts): the lab being measured is
    // taken down (router and senders killed, namespaces deleted) before exiting.
    const stop = interruptHandler("router.ts: interrupted, removing namespaces\n");
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      const rates = await forwarding(a);
      const out = { seconds: a.seconds, size: a.size, nat: a.nat, rates };
      if (a.json !== "") Deno.writeTextFileSync(a.json, JSON.stringify(out) + "\n");
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
    }
  }
}
