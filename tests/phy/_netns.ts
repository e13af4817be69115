/**
 * Test helpers for host-device tests: privilege detection, network namespaces the test creates
 * and deletes by name, commands run by PID, and a hand-written responder that answers ARP and
 * ICMP echo requests on a device (so the kernel's `ping` succeeds without any stack).
 *
 * @module
 */

import {
  ArpOperation,
  ArpPacket,
  emitArp,
  emitEthernet,
  emitIcmpv4,
  emitIpv4,
  EthernetAddress,
  EthernetFrame,
  EtherType,
  Icmpv4Packet,
  IpProtocol,
  Ipv4Address,
  Ipv4Packet,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIpv4,
} from "../../src/wire/mod.ts";
import type { Device, ReadinessHook } from "../../src/phy/device.ts";
import { TunTapDevice, type TunTapOptions } from "../../src/phy/tun_tap.ts";

/** CAP_NET_ADMIN in the effective set, /dev/net/tun present and `ip` runnable; or why not. */
export const netAdmin: { readonly ok: boolean; readonly reason: string } = detect();

function detect(): { ok: boolean; reason: string } {
  if (Deno.build.os !== "linux") return { ok: false, reason: "not Linux" };
  try {
    // Deno reads /proc/self only with --allow-all; a child started by us has our capabilities.
    const out = new Deno.Command("cat", { args: ["/proc/self/status"], stderr: "null" })
      .outputSync();
    const status = new TextDecoder().decode(out.stdout);
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    const caps = m === null ? 0n : BigInt(`0x${m[1]}`);
    if ((caps & (1n << 12n)) === 0n) return { ok: false, reason: "no CAP_NET_ADMIN (run as root)" };
    if ((caps & (1n << 13n)) === 0n) return { ok: false, reason: "no CAP_NET_RAW (run as root)" };
  } catch (e) {
    return { ok: false, reason: `cannot read the capability set (${(e as Error).message})` };
  }
  // Deno stats device files only with --allow-all: ask test(1).
  const tun = new Deno.Command("test", { args: ["-c", "/dev/net/tun"] }).outputSync();
  if (!tun.success) return { ok: false, reason: "no /dev/net/tun (modprobe tun)" };
  try {
    const out = new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync();
    if (!out.success) return { ok: false, reason: "`ip -V` failed" };
  } catch {
    return { ok: false, reason: "no `ip` command (apt-get install iproute2)" };
  }
  return { ok: true, reason: "" };
}

/** Whether `name` is on PATH (asked through `sh`, so it works without --allow-all). */
export function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Prints one line saying why privileged tests of `file` are skipped (once per file). */
export function reportSkip(file: string): void {
  if (!netAdmin.ok) console.log(`${file}: skipping privileged tests: ${netAdmin.reason}`);
}

/** The result of a finished command. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (it ends on its own; we never kill it by name). */
export async function run(cmd: string, args: string[]): Promise<RunResult> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command and throws with its output when it fails. */
export async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** A random suffix of `n` hex digits. */
export function randomHex(n: number): string {
  const b = crypto.getRandomValues(new Uint8Array(Math.ceil(n / 2)));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").slice(0, n);
}

/** A fresh interface name (at most 15 bytes): `sm<tag><6 hex>`. */
export function linkName(tag: string): string {
  return `sm${tag}${randomHex(6)}`.slice(0, 15);
}

/** Creates `smolnet-<tag>-<random>` and returns its name. */
export async function createNetns(tag: string): Promise<string> {
  const name = `smolnet-${tag}-${randomHex(8)}`;
  await must("ip", ["netns", "add", name]);
  await must("ip", ["-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** Deletes a namespace this test created, by name; ignores "not there". */
export async function deleteNetns(name: string): Promise<void> {
  await run("ip", ["netns", "del", name]);
}

/** `ip -n ns <args>`. */
export function ipIn(ns: string, ...args: string[]): Promise<string> {
  return must("ip", ["-n", ns, ...args]);
}

/** Runs a command inside a namespace. */
export function runIn(ns: string, cmd: string, args: string[]): Promise<RunResult> {
  return run("ip", ["netns", "exec", ns, cmd, ...args]);
}

/**
 * Turns TCP segmentation, generic segmentation and generic receive offload off on `dev` in
 * `ns` (`ethtool -K dev tso off gso off gro off`); the caller decides whether a failure matters.
 */
export function offloadsOff(ns: string, dev: string): Promise<RunResult> {
  return runIn(ns, "ethtool", ["-K", dev, "tso", "off", "gso", "off", "gro", "off"]);
}

/** Turns IPv6 off on an interface so the kernel sends no MLD/RS noise. */
export async function quietIpv6(ns: string, dev: string): Promise<void> {
  await must("ip", ["netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${dev}.disable_ipv6=1`]);
}

/** A TUN/TAP device whose kernel side is in a namespace of its own. */
export interface DeviceInNetns {
  readonly dev: TunTapDevice;
  /** The namespace (delete it with {@linkcode deleteNetns}). */
  readonly ns: string;
  /** The kernel's name of the device, in `ns`. */
  readonly name: string;
}

/**
 * Opens a TUN/TAP device with `options` and a fresh name `sm<tag>…` in the test process's own
 * namespace (the fd stays usable after the link moves), moves the link into a new namespace
 * `smolnet-<tag>-…` and gives the kernel side 192.0.2.1/24, up, with IPv6 off. When a step
 * fails the device is closed and the namespace deleted before the error is rethrown.
 */
export async function deviceInNetns(
  tag: string,
  options: Partial<TunTapOptions> & Pick<TunTapOptions, "mode">,
): Promise<DeviceInNetns> {
  const ns = await createNetns(tag);
  let dev: TunTapDevice | null = null;
  try {
    const name = linkName(tag);
    dev = await TunTapDevice.open({ ...options, name });
    await must("ip", ["link", "set", "dev", name, "netns", ns]);
    await quietIpv6(ns, name);
    await ipIn(ns, "addr", "add", "192.0.2.1/24", "dev", name);
    await ipIn(ns, "link", "set", name, "up");
    return { dev, ns, name };
  } catch (e) {
    await dev?.close();
    await deleteNetns(ns);
    throw e;
  }
}

/** What the responder saw and sent. */
export interface ResponderLog {
  echoRequests: number;
  echoReplies: number;
  arpRequests: number;
  arpReplies: number;
  /** Frames received whose Ethernet source is our own MAC (must stay 0). */
  ownFrames: number;
  frames: number;
}

/** Options of {@linkcode answerPings}. */
export interface ResponderOptions {
  /** The address we answer for. */
  readonly ip: string;
  /** Our MAC on Ethernet medium; absent for IP medium. */
  readonly mac?: string;
}

/**
 * Answers ARP requests for `ip` and ICMP echo requests to `ip` on `dev`, by hand, until the
 * returned stop function runs. Works from the device's readiness callback (drain scheduled with
 * `setImmediate`), so it runs inside the test's own event loop.
 */
export function answerPings(
  dev: Device & ReadinessHook,
  options: ResponderOptions,
): { log: ResponderLog; stop: () => void } {
  const log: ResponderLog = {
    echoRequests: 0,
    echoReplies: 0,
    arpRequests: 0,
    arpReplies: 0,
    ownFrames: 0,
    frames: 0,
  };
  const ip = Ipv4Address.parse(options.ip);
  const mac = options.mac === undefined ? null : EthernetAddress.parse(options.mac);
  let stopped = false;
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    if (stopped) return;
    for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
      log.frames++;
      if (mac === null) {
        answerIp(dev, f, ip, null, null, log);
        continue;
      }
      let eth;
      try {
        eth = parseEthernet(EthernetFrame.newChecked(f));
      } catch {
        continue;
      }
      if (eth.src.equals(mac)) log.ownFrames++;
      const payload = new EthernetFrame(f).payload;
      if (eth.etherType === EtherType.Arp) {
        answerArp(dev, payload, ip, mac, log);
      } else if (eth.etherType === EtherType.Ipv4 && eth.dst.equals(mac)) {
        answerIp(dev, payload, ip, mac, eth.src, log);
      }
    }
  };
  dev.onReadable(() => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  });
  // Frames that arrived before registration.
  scheduled = true;
  setImmediate(drain);
  return {
    log,
    stop: () => {
      stopped = true;
      dev.onReadable(() => {});
    },
  };
}

function answerArp(
  dev: Device,
  payload: Uint8Array,
  ip: Ipv4Address,
  mac: EthernetAddress,
  log: ResponderLog,
): void {
  let arp;
  try {
    arp = parseArp(ArpPacket.newChecked(payload));
  } catch {
    return;
  }
  if (arp.operation !== ArpOperation.Request || !arp.targetProtocolAddr.equals(ip)) return;
  log.arpRequests++;
  const buf = dev.transmit(0, 14 + 28);
  if (buf === null) return;
  emitEthernet(
    { src: mac, dst: arp.senderHardwareAddr, etherType: EtherType.Arp, vlan: null },
    new EthernetFrame(buf),
  );
  emitArp(
    {
      operation: ArpOperation.Reply,
      senderHardwareAddr: mac,
      senderProtocolAddr: ip,
      targetHardwareAddr: arp.senderHardwareAddr,
      targetProtocolAddr: arp.senderProtocolAddr,
    },
    new ArpPacket(buf.subarray(14)),
  );
  dev.commit();
  log.arpReplies++;
}

function answerIp(
  dev: Device,
  packet: Uint8Array,
  ip: Ipv4Address,
  mac: EthernetAddress | null,
  peerMac: EthernetAddress | null,
  log: ResponderLog,
): void {
  let v4;
  let icmp;
  try {
    const p = Ipv4Packet.newChecked(packet);
    v4 = parseIpv4(p);
    if (v4.protocol !== IpProtocol.Icmp || !v4.dst.equals(ip)) return;
    icmp = parseIcmpv4(Icmpv4Packet.newChecked(p.payload));
  } catch {
    return;
  }
  if (icmp.kind !== "echoRequest") return;
  log.echoRequests++;
  const link = mac === null ? 0 : 14;
  const icmpLen = 8 + icmp.data.length;
  const buf = dev.transmit(0, link + 20 + icmpLen);
  if (buf === null) return;
  if (mac !== null && peerMac !== null) {
    emitEthernet(
      { src: mac, dst: peerMac, etherType: EtherType.Ipv4, vlan: null },
      new EthernetFrame(buf),
    );
  }
  emitIpv4(
    {
      src: ip,
      dst: v4.src,
      protocol: IpProtocol.Icmp,
      payloadLen: icmpLen,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      ident: v4.ident,
      dontFrag: false,
      moreFrags: false,
      fragOffset: 0,
    },
    new Ipv4Packet(buf.subarray(link)),
  );
  emitIcmpv4(
    { kind: "echoReply", ident: icmp.ident, seqNo: icmp.seqNo, data: icmp.data },
    new Icmpv4Packet(buf.subarray(link + 20)),
  );
  dev.commit();
  log.echoReplies++;
}

const CLONE_NEWNET = 0x40000000;
const O_RDONLY_CLOEXEC = 0o2000000;

/**
 * Runs `fn` synchronously with the calling thread switched into namespace `ns` (setns), then
 * switches back. Sockets and TUN devices created inside stay in `ns`; only this thread moves, and
 * nothing else runs on it meanwhile because `fn` is synchronous.
 */
export function inNetns<T>(ns: string, fn: () => T): T {
  const lib = Deno.dlopen("libc.so.6", {
    setns: { parameters: ["i32", "i32"], result: "i32" },
    open: { parameters: ["buffer", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);
  const self = lib.symbols.open(cstr("/proc/thread-self/ns/net"), O_RDONLY_CLOEXEC);
  const target = lib.symbols.open(cstr(`/var/run/netns/${ns}`), O_RDONLY_CLOEXEC);
  try {
    if (self < 0 || target < 0) throw new Error(`Cannot open the namespace files of ${ns}`);
    if (lib.symbols.setns(target, CLONE_NEWNET) !== 0) throw new Error(`setns into ${ns} failed`);
    let result: T;
    try {
      result = fn();
    } finally {
      // Always switch back, even when fn throws; a failure here leaves the thread misplaced.
      const back = lib.symbols.setns(self, CLONE_NEWNET);
      if (back !== 0) console.error("setns back to the test's namespace failed");
    }
    return result;
  } finally {
    if (target >= 0) lib.symbols.close(target);
    if (self >= 0) lib.symbols.close(self);
    lib.close();
  }
}
