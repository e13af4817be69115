/**
 * Interop test helper: the Linux kernel as the peer of a smolnet stack. {@linkcode KernelPeer}
 * creates a network namespace `smolnet-it-<random>`, a TUN or TAP device whose fd stays in this
 * process while its interface moves into the namespace (kernel side 192.0.2.1/24 and
 * 2001:db8::1/64) — or a veth pair with our AF_PACKET socket in a second namespace — runs
 * kernel-side processes there by PID, and removes everything in `dispose()` (`await using`):
 * processes it started (SIGKILL by PID), stacks, the device and the namespaces (by name), even
 * when the test failed. Tests skip with one line per file where the machine cannot run them.
 *
 * Environment: `SMOLNET_INTEROP_MIB` sets the bulk transfer size (default 16 MiB);
 * `SMOLNET_KNOWN_BUGS=1` runs the tests that document open bugs in src/ (they fail until fixed).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { NetStack, type NetStackOptions, type TcpStream } from "../../mod.ts";
import { TunTapDevice } from "../../src/phy/tun_tap.ts";
import { RawSocketDevice } from "../../src/phy/raw_socket.ts";
import type { Device } from "../../src/phy/device.ts";
import type { Interface, SocketSet } from "../../src/iface/mod.ts";
import {
  hasCommand,
  inNetns,
  linkName,
  must,
  netAdmin,
  randomHex,
  run,
  type RunResult,
} from "../phy/_netns.ts";

export { linkName, must, run };
export type { RunResult };

let missing = "";

/** Whether this machine can run the interop suite (root, /dev/net/tun, `ip`, peer tools). */
export const canRun: boolean = netAdmin.ok && hasTools();

function hasTools(): boolean {
  for (const tool of ["python3", "curl", "ping", "ss"]) {
    if (!hasCommand(tool)) {
      missing = `no \`${tool}\` on PATH`;
      return false;
    }
  }
  return true;
}

/**
 * Whether the interop tests of `file` that need `tool` (from Debian package `pkg`) can run; when
 * only the tool is missing, prints the one line saying why they skip.
 */
export function interopTool(file: string, tool: string, pkg: string): boolean {
  if (!canRun) return false;
  if (hasCommand(tool)) return true;
  console.log(`tests/interop/${file}: skipping: no \`${tool}\` on PATH (apt-get install ${pkg})`);
  return false;
}

/** Prints one line saying why the interop tests of `file` are skipped. */
export function reportSkip(file: string): void {
  if (!canRun) {
    console.log(`tests/interop/${file}: skipping: ${netAdmin.ok ? missing : netAdmin.reason}`);
  }
}

/** A fresh namespace name `smolnet-it-<8 hex>`. */
export function netnsName(): string {
  return `smolnet-it-${randomHex(8)}`;
}

/** Test definition defaults for the interop tests: skip where the machine cannot, sanitize. */
export const interop = {
  ignore: !canRun,
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

/** The kernel side's addresses. */
export const KERNEL_V4 = "192.0.2.1";
/** The kernel side's IPv6 address. */
export const KERNEL_V6 = "2001:db8::1";
/** The smolnet side's addresses. */
export const STACK_V4 = "192.0.2.2";
/** The smolnet side's IPv6 address. */
export const STACK_V6 = "2001:db8::2";
/** The MAC address smolnet uses on TAP. */
export const STACK_MAC = "02:00:5e:00:53:02";

/** Options of {@linkcode KernelPeer.create}. */
export interface KernelPeerOptions {
  /** TUN (IP medium, default) or TAP (Ethernet, ARP/NDP through the kernel). */
  readonly mode?: "tun" | "tap";
  /** Configure IPv6 on the kernel side (otherwise it is disabled: no MLD/RS noise). */
  readonly ipv6?: boolean;
  /** The interface MTU (default the kernel's 1500). */
  readonly mtu?: number;
  /** Open the TUN device with offloads (`TunTapOptions.offload`, `tso`). */
  readonly offload?: { readonly tso?: boolean };
}

/** A kernel-side process started in the namespace, ended by PID. */
export interface PeerProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Resolves with the output when the process ends. */
  readonly output: Promise<RunResult>;
  /** Writes a line to its stdin (for processes started with `stdin: true`). */
  send(line: string): Promise<void>;
}

/** The host devices a peer can hold. */
export type HostDevice = TunTapDevice | RawSocketDevice;

/**
 * A namespace with a TUN/TAP device whose fd this process holds, or (`createVeth`) a veth pair
 * between the kernel's namespace and a second one where our AF_PACKET socket is bound.
 */
export class KernelPeer implements AsyncDisposable {
  /** The kernel side's namespace. */
  readonly ns: string;
  /** The kernel side's interface. */
  readonly ifname: string;
  readonly device: HostDevice;
  /** `"raw"`: AF_PACKET on a veth end (Ethernet medium, like TAP). */
  readonly mode: "tun" | "tap" | "raw";
  /** The namespace holding our veth end (raw mode), else `null`. */
  readonly rawNs: string | null;
  /** Our veth end's MAC (raw mode), the stack's hardware address. */
  readonly rawMac: string | null;
  readonly #procs = new Set<PeerProcess>();
  readonly #stacks: NetStack[] = [];
  #disposed = false;

  private constructor(
    ns: string,
    ifname: string,
    device: HostDevice,
    mode: "tun" | "tap" | "raw",
    raw: { ns: string; mac: string } | null = null,
  ) {
    this.ns = ns;
    this.ifname = ifname;
    this.device = device;
    this.mode = mode;
    this.rawNs = raw?.ns ?? null;
    this.rawMac = raw?.mac ?? null;
  }

  /**
   * Two namespaces joined by a veth pair: the kernel's end has 192.0.2.1/24; our end (up, no
   * address) carries an AF_PACKET {@linkcode RawSocketDevice} opened inside its namespace.
   * `txChecksumOffload: false` turns the kernel end's checksum offload off (ethtool), so the
   * frames we read carry complete checksums.
   */
  static async createVeth(options: { txChecksumOffload?: boolean } = {}): Promise<KernelPeer> {
    const ns = netnsName();
    const rawNs = netnsName();
    await must("ip", ["netns", "add", ns]);
    let dev: RawSocketDevice | null = null;
    try {
      await must("ip", ["netns", "add", rawNs]);
      const kif = linkName("vk");
      const rif = linkName("vr");
      await must("ip", [
        "-n",
        ns,
        "link",
        "add",
        kif,
        "type",
        "veth",
        "peer",
        "name",
        rif,
        "netns",
        rawNs,
      ]);
      for (const [n, i] of [[ns, kif], [rawNs, rif]] as const) {
        await must("ip", [
          "netns",
          "exec",
          n,
          "sysctl",
          "-qw",
          `net.ipv6.conf.${i}.disable_ipv6=1`,
        ]);
        await must("ip", ["-n", n, "link", "set", i, "up"]);
      }
      await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await must("ip", ["-n", ns, "addr", "add", `${KERNEL_V4}/24`, "dev", kif]);
      if (options.txChecksumOffload === false) {
        await must("ip", ["netns", "exec", ns, "ethtool", "-K", kif, "tx", "off"]);
      }
      const mac = /link\/ether ([0-9a-f:]{17})/.exec(
        await must("ip", ["-n", rawNs, "link", "show", rif]),
      )?.[1];
      if (mac === undefined) throw new Error(`No MAC address on ${rif}`);
      dev = await inNetns(rawNs, () => RawSocketDevice.open({ name: rif }));
      return new KernelPeer(ns, kif, dev, "raw", { ns: rawNs, mac });
    } catch (e) {
      await dev?.close();
      await run("ip", ["netns", "del", ns]);
      await run("ip", ["netns", "del", rawNs]);
      throw e;
    }
  }

  /**
   * Creates the namespace and the device, moves the interface into the namespace, configures the
   * kernel side (192.0.2.1/24, and 2001:db8::1/64 with `ipv6`) and brings it up.
   */
  static async create(options: KernelPeerOptions = {}): Promise<KernelPeer> {
    const mode = options.mode ?? "tun";
    const ns = netnsName();
    await must("ip", ["netns", "add", ns]);
    let dev: TunTapDevice | null = null;
    try {
      await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
      const ifname = linkName(mode === "tun" ? "it" : "ia");
      dev = await TunTapDevice.open({
        name: ifname,
        mode,
        ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
        ...(options.offload !== undefined ? { offload: true, ...options.offload } : {}),
      });
      await must("ip", ["link", "set", "dev", ifname, "netns", ns]);
      const sysctl = (k: string) => must("ip", ["netns", "exec", ns, "sysctl", "-qw", k]);
      if (options.ipv6) {
        await sysctl(`net.ipv6.conf.${ifname}.disable_ipv6=0`);
        await sysctl(`net.ipv6.conf.${ifname}.accept_dad=0`);
        await must("ip", [
          "-n",
          ns,
          "addr",
          "add",
          `${KERNEL_V6}/64`,
          "dev",
          ifname,
          "nodad",
        ]);
      } else {
        await sysctl(`net.ipv6.conf.${ifname}.disable_ipv6=1`);
      }
      await must("ip", ["-n", ns, "addr", "add", `${KERNEL_V4}/24`, "dev", ifname]);
      await must("ip", ["-n", ns, "link", "set", ifname, "up"]);
      return new KernelPeer(ns, ifname, dev, mode);
    } catch (e) {
      await dev?.close();
      await run("ip", ["netns", "del", ns]);
      throw e;
    }
  }

  /**
   * A NetStack on `device` (default: this peer's TUN/TAP) at 192.0.2.2/24 (and 2001:db8::2/64
   * with `ipv6`), closed by `dispose()`.
   */
  stack(
    options: Partial<NetStackOptions> & { ipv6?: boolean; device?: Device } = {},
  ): NetStack {
    const { ipv6, ...rest } = options;
    const stack = new NetStack({
      device: this.device,
      addresses: ipv6 ? [`${STACK_V4}/24`, `${STACK_V6}/64`] : [`${STACK_V4}/24`],
      ...(this.mode === "tap" ? { hardwareAddress: STACK_MAC } : {}),
      ...(this.rawMac !== null ? { hardwareAddress: this.rawMac } : {}),
      ...rest,
    });
    this.#stacks.push(stack);
    return stack;
  }

  /** Runs a command in the namespace to completion. */
  exec(cmd: string, args: string[]): Promise<RunResult> {
    return run("ip", ["netns", "exec", this.ns, cmd, ...args]);
  }

  /** Runs a command in the namespace and throws when it fails. */
  async must(cmd: string, args: string[]): Promise<string> {
    const r = await this.exec(cmd, args);
    if (r.code !== 0) {
      throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    }
    return r.stdout;
  }

  /**
   * Starts a process in the namespace (`ip netns exec` execs it: the PID is the process's own).
   * `dispose()` kills it by PID if it is still running.
   */
  spawn(cmd: string, args: string[], options: { stdin?: boolean } = {}): PeerProcess {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", this.ns, cmd, ...args],
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = options.stdin ? child.stdin.getWriter() : null;
    const dec = new TextDecoder();
    const output = child.output().then(async (o) => {
      // With stdin piped, output() leaves it open: close it once the process has ended.
      await writer?.close().catch(() => {});
      return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
    });
    const proc: PeerProcess = {
      child,
      pid: child.pid,
      output: output.finally(() => this.#procs.delete(proc)),
      send: async (line: string) => {
        if (writer === null) throw new Error("spawned without stdin");
        await writer.write(new TextEncoder().encode(`${line}\n`));
      },
    };
    this.#procs.add(proc);
    return proc;
  }

  /** Starts `python3 -c SCRIPT args...` in the namespace. */
  python(script: string, args: string[] = [], options: { stdin?: boolean } = {}): PeerProcess {
    return this.spawn("python3", ["-u", "-c", script, ...args], options);
  }

  /** Waits until a TCP socket listens on `port` in the namespace (polls `ss`). */
  async waitListening(port: number, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const r = await this.exec("ss", ["-Hltn", `sport = :${port}`]);
      if (r.stdout.includes(`:${port}`)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`Nothing listens on port ${port} in ${this.ns} after ${timeoutMs} ms`);
  }

  /**
   * Ends what is still running (processes by PID with SIGKILL, stacks, the device) and deletes the
   * namespace by name. Safe to call twice.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const p of [...this.#procs]) {
      try {
        p.child.kill("SIGKILL");
      } catch { /* already ended */ }
      await p.output.catch(() => {});
    }
    for (const s of this.#stacks) await s.close().catch(() => {});
    await this.device.close().catch(() => {});
    await run("ip", ["netns", "del", this.ns]);
    if (this.rawNs !== null) await run("ip", ["netns", "del", this.rawNs]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** Resolves with `p`'s value, or rejects after `ms` with a message naming `what`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Writes all of `data`. */
export async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads to EOF, hashing; returns the byte count and the SHA-256 in hex. */
export async function readHash(
  conn: TcpStream,
  onChunk?: (total: number) => void,
): Promise<{ bytes: number; sha256: string }> {
  const h = createHash("sha256");
  const buf = new Uint8Array(256 * 1024);
  let bytes = 0;
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    bytes += n;
    onChunk?.(bytes);
  }
  return { bytes, sha256: h.digest("hex") };
}

/**
 * Writes `total` bytes of seeded pseudo-random data (a random 1 MiB block with a counter in
 * every 4 KiB), then half-closes; returns the SHA-256 of what was sent.
 */
export async function writeHashed(
  conn: TcpStream,
  total: number,
  onChunk?: (total: number) => void,
): Promise<string> {
  const h = createHash("sha256");
  const block = crypto.getRandomValues(new Uint8Array(1 << 16));
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < 16; i++) big.set(block, i << 16);
  let sent = 0;
  let round = 0;
  while (sent < total) {
    const chunk = big.subarray(0, Math.min(big.length, total - sent));
    // A different first word per MiB: a repeated or skipped MiB changes the digest.
    for (let o = 0; o < chunk.length; o += 4096) chunk[o] = (round + o) & 0xff;
    round++;
    h.update(chunk);
    await writeAll(conn, chunk);
    sent += chunk.length;
    onChunk?.(sent);
  }
  await conn.closeWrite();
  return h.digest("hex");
}

/** Bytes for a test from `SMOLNET_INTEROP_MIB` (default `defMib` MiB). */
export function interopBytes(defMib: number): number {
  const v = Deno.env.get("SMOLNET_INTEROP_MIB");
  const mib = v === undefined || v === "" ? defMib : Number(v);
  if (!(mib > 0)) throw new RangeError(`Invalid SMOLNET_INTEROP_MIB "${v}"`);
  return Math.round(mib * 1024 * 1024);
}

/** MB/s (10^6 bytes per second) with one decimal. */
export function mbps(bytes: number, ms: number): string {
  return (bytes / 1e3 / ms).toFixed(1);
}

/**
 * A kernel-side bulk peer in python3: `send PORT BYTES` sends seeded random bytes to the one
 * client and prints `{"bytes":..,"sha256":..}`; `recv PORT` reads to EOF and prints the same;
 * `stall PORT RCVBUF` accepts with a small receive buffer, waits for a line on stdin before
 * reading anything, then reads to EOF; `reset PORT` accepts, reads one chunk and closes with
 * SO_LINGER 0 (an RST). Listens on every address of both families.
 */
export const PY_PEER = String.raw`
import hashlib, json, os, socket, struct, sys
mode, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
if mode == "stall":
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[3]))
ls.bind(("::", port))
ls.listen(8)
c, addr = ls.accept()
h = hashlib.sha256()
n = 0
if mode == "send":
    total = int(sys.argv[3])
    block = bytearray(os.urandom(1 << 20))
    r = 0
    while n < total:
        k = min(len(block), total - n)
        block[0:8] = struct.pack("<Q", r)
        view = memoryview(block)[:k]
        h.update(view)
        c.sendall(view)
        n += k
        r += 1
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
elif mode in ("recv", "stall"):
    if mode == "stall":
        sys.stdout.write("accepted\n")
        sys.stdin.readline()
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
elif mode == "reset":
    c.recv(65536)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))
`;

/** The JSON line a {@linkcode PY_PEER} prints last. */
export function peerResult(out: RunResult): { bytes: number; sha256: string } {
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`kernel peer exited ${out.code}: ${out.stdout}${out.stderr}`);
  }
}

/**
 * Drives a core Interface on `dev` (no NetStack): polls, runs `step(now)` after every poll, and
 * sleeps until the device is readable or the next deadline, until `step` returns true or
 * `timeoutMs` passes. Returns whether `step` finished. `dev` must be this peer's device (its
 * readiness callback is taken over meanwhile).
 */
export async function driveCore(
  dev: HostDevice,
  iface: Interface,
  sockets: SocketSet,
  step: (now: number) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  let wake: (() => void) | null = null;
  dev.onReadable(() => wake?.());
  const end = performance.now() + timeoutMs;
  try {
    while (performance.now() < end) {
      const now = performance.now();
      iface.poll(now, dev, sockets);
      if (step(now)) return true;
      // What step queued leaves now, not at the next wake-up.
      iface.poll(performance.now(), dev, sockets);
      if (dev.error !== null) throw dev.error;
      const due = Math.min(iface.pollAt(performance.now(), sockets), now + 20, end);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          wake = null;
          resolve();
        }, Math.max(0, due - performance.now()));
        wake = () => {
          clearTimeout(t);
          wake = null;
          resolve();
        };
      });
    }
    return false;
  } finally {
    dev.onReadable(() => {});
  }
}
