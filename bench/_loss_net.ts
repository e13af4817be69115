/**
 * bench:loss topology: network namespaces created by name (random suffix), veths with
 * TSO/GSO/GRO off, the nftables random drop in the router namespace, the reordering relay, and a
 * cleanup stack run in `finally` and on SIGINT/SIGTERM.
 *
 * ```
 *  ns C (Linux sender) 192.0.2.18 ─veth─ 192.0.2.17 ┐
 *  smolnet (this process, TUN fd) 192.0.2.2 ─TUN─ 192.0.2.1 ┤ ns R: forwarding, nftables drop
 *                               ┌──────── 198.51.100.1 ─────┤
 *  ns L (Linux server) 198.51.100.2 ─veth─┘                 │
 *  ns L2 (Linux server) 198.51.100.18 ─TUN═relay═TUN─ 198.51.100.17 ┘
 * ```
 *
 * Cells without reordering talk to L, cells with reordering to L2 (through the relay, which
 * both contenders then cross).
 *
 * @module
 */

import { TunTapDevice } from "../src/phy/mod.ts";
import { createNetns, deleteNetns, linkName, must, offloadsOff, run } from "../tests/phy/_netns.ts";
import { type Proc, spawnProc } from "./_proc.ts";
import { acquire, interruptHandler } from "./_cleanup.ts";

export { must, run };

/** Addresses of the topology (TEST-NET-1 and TEST-NET-2 only). */
export const ADDR = {
  smol: "192.0.2.2",
  routerSmol: "192.0.2.1",
  client: "192.0.2.18",
  routerClient: "192.0.2.17",
  server: "198.51.100.2",
  routerServer: "198.51.100.1",
  relayServer: "198.51.100.18",
  routerRelay: "198.51.100.17",
} as const;

/** The TCP port of the kernel-side servers. */
export const SERVER_PORT = 5201;

// --- cleanup --------------------------------------------------------------------------------

export { acquire, cleanUp, isInterrupted as wasInterrupted, onCleanup } from "./_cleanup.ts";

/** On SIGINT/SIGTERM: wait for the resource being created, clean up, exit 130. */
export function installSignalHandlers(): void {
  const handler = interruptHandler("\ninterrupted: removing namespaces, devices and processes\n");
  Deno.addSignalListener("SIGINT", handler);
  Deno.addSignalListener("SIGTERM", handler);
}

// --- topology -------------------------------------------------------------------------------

/** The namespaces, devices and processes of one bench:loss run. */
export interface Topology {
  readonly router: string;
  readonly client: string;
  readonly server: string;
  readonly relayServer: string;
  /** smolnet's TUN device (its interface is in the router namespace). */
  readonly smolDevice: TunTapDevice;
  readonly relay: Proc;
  /** The python3 servers in `server` and `relayServer` (replaced by {@linkcode restartServer}). */
  readonly servers: { direct: Proc; relayed: Proc };
  /** The server script both run. */
  readonly serverScript: string;
  /** Congestion controllers the kernel offers (`tcp_available_congestion_control`). */
  readonly availableCc: readonly string[];
  /** The namespaces' default controller (unused: every socket sets its own). */
  readonly defaultCc: string;
}

function sysctl(ns: string, kv: string): Promise<string> {
  return must("ip", ["netns", "exec", ns, "sysctl", "-qw", kv]);
}

async function noOffloads(ns: string, dev: string, required: boolean): Promise<void> {
  const r = await offloadsOff(ns, dev);
  if (r.code !== 0 && required) {
    throw new Error(`ethtool -K ${dev} tso off gso off gro off: ${r.stderr.trim()}`);
  }
}

async function veth(nsA: string, nsB: string, addrA: string, addrB: string): Promise<void> {
  const a = linkName("la");
  const b = linkName("lb");
  await must("ip", ["-n", nsA, "link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB]);
  for (const [ns, dev, addr] of [[nsA, a, addrA], [nsB, b, addrB]] as const) {
    await sysctl(ns, `net.ipv6.conf.${dev}.disable_ipv6=1`);
    await noOffloads(ns, dev, true);
    await must("ip", ["-n", ns, "addr", "add", `${addr}/28`, "dev", dev]);
    await must("ip", ["-n", ns, "link", "set", dev, "up"]);
  }
}

async function tunInto(ns: string, dev: string, addr: string): Promise<void> {
  await must("ip", ["link", "set", "dev", dev, "netns", ns]);
  await sysctl(ns, `net.ipv6.conf.${dev}.disable_ipv6=1`);
  await noOffloads(ns, dev, false);
  await must("ip", ["-n", ns, "addr", "add", `${addr}/28`, "dev", dev]);
  await must("ip", ["-n", ns, "link", "set", dev, "up"]);
}

/** Starts the python3 server in `ns` on `addr`. */
async function startServer(ns: string, addr: string, script: string): Promise<Proc> {
  const p = await acquire(
    () =>
      Promise.resolve(spawnProc("ip", [
        "netns",
        "exec",
        ns,
        "python3",
        "-u",
        "-c",
        script,
        addr,
        String(SERVER_PORT),
      ])),
    (p) => p.kill(),
  );
  const ready = await p.line(30_000, `server in ${ns}`);
  if (ready !== "listening") throw new Error(`server in ${ns}: "${ready}"`);
  return p;
}

/** Builds the whole topology; every piece is registered for cleanup as it is created. */
export async function buildTopology(
  serverScript: string,
  progress: (s: string) => void,
): Promise<Topology> {
  const ns = async (tag: string) => {
    // The default controller of a namespace other than the initial one can only be one the host
    // allows (`tcp_allowed_congestion_control`): every Linux socket here sets TCP_CONGESTION.
    return await acquire(() => createNetns(tag), (n) => deleteNetns(n));
  };
  progress("creating namespaces");
  const router = await ns("loss-r");
  const client = await ns("loss-c");
  const server = await ns("loss-l");
  const relayServer = await ns("loss-l2");
  await sysctl(router, "net.ipv4.ip_forward=1");
  await veth(router, client, ADDR.routerClient, ADDR.client);
  await veth(router, server, ADDR.routerServer, ADDR.server);
  await must("ip", ["-n", client, "route", "add", "default", "via", ADDR.routerClient]);
  await must("ip", ["-n", server, "route", "add", "default", "via", ADDR.routerServer]);

  progress("opening smolnet's TUN device");
  const smolName = linkName("ls");
  const smolDevice = await acquire(
    // No offloads: smolnet sends MTU-sized segments, as the Linux senders do with TSO/GSO off.
    () => TunTapDevice.open({ name: smolName, mode: "tun", mtu: 1500, offload: false }),
    (d) => d.close(),
  );
  await tunInto(router, smolName, ADDR.routerSmol);

  progress("starting the reordering relay");
  const relayA = linkName("ra");
  const relayB = linkName("rb");
  const relayScript = new URL("./_loss_relay.ts", import.meta.url).pathname;
  const relay = await acquire(
    () =>
      Promise.resolve(
        spawnProc(Deno.execPath(), ["run", "--allow-ffi", relayScript, relayA, relayB]),
      ),
    (p) => p.kill(),
  );
  const ready = await relay.line(60_000, "relay start");
  if (ready !== "ready") throw new Error(`relay: "${ready}"`);
  await tunInto(router, relayA, ADDR.routerRelay);
  await tunInto(relayServer, relayB, ADDR.relayServer);
  await must("ip", ["-n", relayServer, "route", "add", "default", "dev", relayB]);

  progress("nftables and servers");
  await must("ip", ["netns", "exec", router, "nft", "add", "table", "inet", "loss"]);
  await must("ip", [
    "netns",
    "exec",
    router,
    "nft",
    "add chain inet loss lossy { type filter hook forward priority 0 ; policy accept ; }",
  ]);
  const direct = await startServer(server, ADDR.server, serverScript);
  const relayed = await startServer(relayServer, ADDR.relayServer, serverScript);
  const proc = (f: string) =>
    must("ip", ["netns", "exec", client, "cat", `/proc/sys/net/ipv4/${f}`]);
  const avail = await proc("tcp_available_congestion_control");
  const defaultCc = (await proc("tcp_congestion_control")).trim();
  return {
    router,
    client,
    server,
    relayServer,
    smolDevice,
    relay,
    servers: { direct, relayed },
    serverScript,
    availableCc: avail.trim().split(/\s+/),
    defaultCc,
  };
}

/**
 * Sets the router's drop: each forwarded IPv4 packet longer than 100 bytes (a data segment, in
 * either direction; pure ACKs pass) is dropped with probability `pct` %, drawn by
 * `numgen random mod 10000`. Counters of both rules are reset.
 */
export async function setDrop(router: string, pct: number): Promise<void> {
  const per10k = Math.round(pct * 100);
  await must("ip", ["netns", "exec", router, "nft", "flush", "chain", "inet", "loss", "lossy"]);
  await must("ip", [
    "netns",
    "exec",
    router,
    "nft",
    "add rule inet loss lossy ip length > 100 counter",
  ]);
  if (per10k > 0) {
    await must("ip", [
      "netns",
      "exec",
      router,
      "nft",
      `add rule inet loss lossy ip length > 100 numgen random mod 10000 < ${per10k} counter drop`,
    ]);
  }
}

/** Data packets seen and dropped by the router since the last {@linkcode setDrop}. */
export async function dropCounters(router: string): Promise<{ seen: number; dropped: number }> {
  const text = await must("ip", [
    "netns",
    "exec",
    router,
    "nft",
    "list",
    "chain",
    "inet",
    "loss",
    "lossy",
  ]);
  const counts = [...text.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
  return { seen: counts[0] ?? 0, dropped: counts[1] ?? 0 };
}

/** Sets the relay's reordering. */
export async function setReorder(relay: Proc, pct: number, depth: number): Promise<void> {
  await relay.send(`reorder ${pct / 100} ${depth}`);
  const r = await relay.line(10_000, "relay reorder");
  if (r !== "ok") throw new Error(`relay: ${r}`);
}

/**
 * Replaces a server after a failed transfer (its result line may come late or never, so the
 * old process is killed by PID and a new one listens on the same port).
 */
export async function restartServer(topo: Topology, relayed: boolean): Promise<void> {
  const old = relayed ? topo.servers.relayed : topo.servers.direct;
  await old.kill();
  const p = relayed
    ? await startServer(topo.relayServer, ADDR.relayServer, topo.serverScript)
    : await startServer(topo.server, ADDR.server, topo.serverScript);
  if (relayed) topo.servers.relayed = p;
  else topo.servers.direct = p;
}
