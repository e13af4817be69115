/**
 * Shared by the interop tests that put the kernel in network namespaces and run programs there
 * (router, multi_interface, tun2proxy; bench/tun2proxy.ts too): a {@linkcode Scene} that owns
 * the namespaces, child processes and temporary directory of one test and removes them
 * together, waits for a condition or a listening port, random file bodies, and the client /
 * proxy / server topology of the tun2proxy tests with their echo server and 1,000-flow client. Namespaces are created with a random suffix
 * and deleted by name (tests/phy/_netns.ts); children are killed by their own PID.
 *
 * @module
 */

import { createNetns, deleteNetns, linkName, must, run } from "../phy/_netns.ts";

/** A child process started in a namespace. */
export interface Proc {
  readonly child: Deno.ChildProcess;
  /** Resolves with stdout, stderr and the exit code once the process ended. */
  readonly out: Promise<{ stdout: string; stderr: string; code: number }>;
  /** Its stdout so far. */
  text(): string;
}

async function collect(stream: ReadableStream<Uint8Array>, into: { s: string }): Promise<string> {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.s += dec.decode(chunk, { stream: true });
  return into.s;
}

/** Options of {@linkcode Scene.spawnIn}. */
export interface SpawnOptions {
  /** Raise the open-file limit (`ulimit -n`) before the command starts. */
  readonly maxFiles?: number;
}

/**
 * The namespaces, child processes and temporary directory of one test. `close()` (or `await
 * using`) kills every child that still runs (SIGKILL, by PID), waits for its pipes, deletes the
 * namespaces by name and removes the directory, even when the test failed half-way.
 */
export class Scene {
  /** A temporary directory for the test's files. */
  readonly dir: string;
  readonly #names: string[] = [];
  readonly #procs: Proc[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A new scene with an empty temporary directory named `<prefix>…`. */
  static async create(prefix = "smolnet-it-"): Promise<Scene> {
    return new Scene(await Deno.makeTempDir({ prefix }));
  }

  /** Creates `smolnet-<tag>-<random>` for each tag, in order, and returns their names. */
  async netns<T extends string[]>(...tags: T): Promise<{ [K in keyof T]: string }> {
    const names: string[] = [];
    for (const tag of tags) {
      const name = await createNetns(tag);
      this.#names.push(name);
      names.push(name);
    }
    return names as { [K in keyof T]: string };
  }

  /** Starts `cmd` in `ns` with piped output; `close()` kills it if it still runs. */
  spawnIn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}): Proc {
    // `ip netns exec` execs the command (and `sh` execs it in turn): the PID is the command's
    // own, and we kill only it.
    const argv = options.maxFiles === undefined
      ? [cmd, ...args]
      : ["sh", "-c", `ulimit -n ${options.maxFiles}; exec "$@"`, "sh", cmd, ...args];
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...argv],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const o = { s: "" }, e = { s: "" };
    const out = Promise.all([collect(child.stdout, o), collect(child.stderr, e), child.status])
      .then(([stdout, stderr, status]) => ({ stdout, stderr, code: status.code }));
    const p = { child, out, text: () => o.s };
    this.#procs.push(p);
    return p;
  }

  /** Kills what still runs, deletes the namespaces and the directory. */
  async close(): Promise<void> {
    for (const { child, out } of this.#procs) {
      try {
        child.kill("SIGKILL");
      } catch { /* already ended */ }
      await out.catch(() => {});
    }
    for (const n of this.#names) await deleteNetns(n);
    await Deno.remove(this.dir, { recursive: true });
  }

  /** Same as {@linkcode Scene.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Runs a shell script (`sh -ec`) in a namespace; throws with its output when it fails. */
export function shIn(ns: string, script: string): Promise<string> {
  return must("ip", ["netns", "exec", ns, "sh", "-ec", script]);
}

/**
 * Creates a persistent TUN device `name` in `ns` for an example to attach to: the kernel side
 * has 192.0.2.1/24, up, IPv6 off.
 */
export async function persistentTun(ns: string, name: string): Promise<void> {
  await shIn(
    ns,
    `ip tuntap add dev ${name} mode tun; sysctl -qw net.ipv6.conf.${name}.disable_ipv6=1
     ip addr add 192.0.2.1/24 dev ${name}; ip link set ${name} up`,
  );
}

/** Polls `f` every 25 ms until it is true; throws after 10 s. */
export async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until something in `ns` listens on TCP (`"t"`) or UDP (`"u"`) `port`. */
export function waitListening(ns: string, proto: "t" | "u", port: number): Promise<void> {
  const what = `${proto === "t" ? "TCP" : "UDP"} port ${port} in ${ns} to listen`;
  return until(what, async () => {
    const r = await run("ip", ["netns", "exec", ns, "ss", `-Hl${proto}n`, `sport = :${port}`]);
    return r.stdout.includes(`:${port}`);
  });
}

/** `size` random bytes (getRandomValues takes at most 64 KiB at a time). */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(size);
  for (let k = 0; k < size; k += 65536) {
    crypto.getRandomValues(body.subarray(k, Math.min(size, k + 65536)));
  }
  return body;
}

/** Starts python3's http.server in `ns` on `bind`:`port`, serving `dir`. */
export function httpServer(
  scene: Scene,
  ns: string,
  options: { readonly bind: string; readonly port: number; readonly dir?: string },
): Proc {
  return scene.spawnIn(ns, "python3", [
    "-u",
    "-m",
    "http.server",
    "--bind",
    options.bind,
    "--directory",
    options.dir ?? scene.dir,
    String(options.port),
  ]);
}

/** The client / proxy / server namespaces of the tun2proxy tests and their links. */
export interface ProxyTopology {
  /** The client (C); its default route leads into P. */
  readonly c: string;
  /** The proxy's namespace (P): what arrives from C is routed into the TUN device `tun`. */
  readonly p: string;
  /** The servers (S), with `serverAddrs` on its loopback. */
  readonly s: string;
  /** The TUN device in P, up, for examples/tun2proxy.ts to open. */
  readonly tun: string;
  /** P's veth towards C: the policy rule is `iif <vpc> lookup 100`. */
  readonly vpc: string;
}

/**
 * Builds C ─veth─ P ─veth─ S: C's default route goes to P; in P a policy rule sends what arrives
 * from C into the TUN device `tun` (table 100), while P's own traffic (the proxy's connections
 * to the real destinations) leaves over its veth to S, which holds `serverAddrs` on its
 * loopback. IPv4: C 192.0.2.1/30, P 192.0.2.2/30 and 192.0.2.5/30, S 192.0.2.6/30, servers in
 * 198.51.100.0/24. IPv6: C 2001:db8:c::1/64, P 2001:db8:c::2 and 2001:db8:d::1, S
 * 2001:db8:d::2, servers in 2001:db8:5::/64.
 *
 * @param netns Creates one namespace for a tag and registers it for deletion.
 */
export async function proxyTopology(
  netns: (tag: string) => Promise<string>,
  options: { readonly tags: readonly [string, string, string]; readonly family: 4 | 6 },
  serverAddrs: readonly string[],
): Promise<ProxyTopology> {
  const c = await netns(options.tags[0]);
  const p = await netns(options.tags[1]);
  const s = await netns(options.tags[2]);
  const vc = linkName("vc"), vpc = linkName("vpc"), vps = linkName("vps"), vs = linkName("vs");
  const tun = linkName("tp");
  await must("ip", ["link", "add", vc, "netns", c, "type", "veth", "peer", vpc, "netns", p]);
  await must("ip", ["link", "add", vps, "netns", p, "type", "veth", "peer", vs, "netns", s]);
  if (options.family === 4) {
    await shIn(
      c,
      `ip addr add 192.0.2.1/30 dev ${vc}; ip link set ${vc} up; ip route add default via 192.0.2.2`,
    );
    await shIn(
      s,
      `ip addr add 192.0.2.6/30 dev ${vs}; ip link set ${vs} up; ip route add default via 192.0.2.5
       for a in ${serverAddrs.join(" ")}; do ip addr add $a/32 dev lo; done`,
    );
    await shIn(
      p,
      `ip addr add 192.0.2.2/30 dev ${vpc}; ip link set ${vpc} up
       ip addr add 192.0.2.5/30 dev ${vps}; ip link set ${vps} up
       ip route add 198.51.100.0/24 via 192.0.2.6
       sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
       ip tuntap add dev ${tun} mode tun
       sysctl -qw net.ipv6.conf.${tun}.disable_ipv6=1 net.ipv4.conf.${tun}.rp_filter=0
       ip link set ${tun} up
       ip route add default dev ${tun} table 100
       ip rule add iif ${vpc} lookup 100`,
    );
  } else {
    await shIn(
      c,
      `ip addr add 2001:db8:c::1/64 dev ${vc} nodad; ip link set ${vc} up
       ip -6 route add default via 2001:db8:c::2`,
    );
    await shIn(
      s,
      `ip addr add 2001:db8:d::2/64 dev ${vs} nodad; ip link set ${vs} up
       ip -6 route add default via 2001:db8:d::1
       for a in ${serverAddrs.join(" ")}; do ip addr add $a/128 dev lo nodad; done`,
    );
    await shIn(
      p,
      `sysctl -qw net.ipv6.conf.all.forwarding=1
       ip addr add 2001:db8:c::2/64 dev ${vpc} nodad; ip link set ${vpc} up
       ip addr add 2001:db8:d::1/64 dev ${vps} nodad; ip link set ${vps} up
       ip -6 route add 2001:db8:5::/64 via 2001:db8:d::2
       ip tuntap add dev ${tun} mode tun
       ip link set ${tun} up
       ip -6 route add default dev ${tun} table 100
       ip -6 rule add iif ${vpc} lookup 100`,
    );
  }
  return { c, p, s, tun, vpc };
}

/** The arguments of `deno` that run examples/tun2proxy.ts (from checkout `root`) on `tun`. */
export function tun2proxyArgs(root: string, tun: string): string[] {
  return [
    "run",
    "--allow-ffi",
    "--allow-net",
    "--unstable-net",
    `${root}examples/tun2proxy.ts`,
    "--device",
    tun,
    "--allow-documentation",
    "--quiet",
    "--offload",
  ];
}

/**
 * The arguments of a dnsmasq in the foreground that answers on `listen`:53 for example.net only,
 * with www.example.net at `host`, and reads no host files.
 */
export function dnsmasqArgs(listen: string, host: string): string[] {
  return [
    "--keep-in-foreground",
    "--log-facility=-",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--bind-interfaces",
    `--listen-address=${listen}`,
    "--port=53",
    "--pid-file=",
    "--user=root",
    "--local=/example.net/",
    `--host-record=www.example.net,${host}`,
  ];
}

/** A python3 TCP echo server on `argv[1]`:`argv[2]` (asyncio, backlog 4096). */
export const ECHO_PY = String.raw`
import asyncio, sys
async def echo(r, w):
    while True:
        d = await r.read(65536)
        if not d:
            break
        w.write(d)
        await w.drain()
    w.close()
async def main():
    s = await asyncio.start_server(echo, sys.argv[1], int(sys.argv[2]), backlog=4096)
    async with s:
        await s.serve_forever()
asyncio.run(main())
`;

/**
 * A Deno script, `HOST PORT N`: opens N connections at once to an echo server; each sends its own
 * 4 KiB pattern, half-closes and must read back exactly its own bytes. Prints
 * `{"ok":…,"bad":…,"ms":…}` (the flows that got their bytes back, the others, the wall time).
 */
export const FLOWS_TS = String.raw`
const [host, port, n] = [Deno.args[0], Number(Deno.args[1]), Number(Deno.args[2])];
const t0 = performance.now();
const conns = await Promise.all(Array.from({ length: n }, () => Deno.connect({ hostname: host, port })));
let ok = 0, bad = 0;
await Promise.all(conns.map(async (c, i) => {
  const msg = new Uint8Array(4096);
  for (let k = 0; k < msg.length; k++) msg[k] = (i * 7 + k) & 0xff;
  new DataView(msg.buffer).setUint32(0, i);
  for (let off = 0; off < msg.length;) off += await c.write(msg.subarray(off));
  await c.closeWrite();
  const got = new Uint8Array(8192);
  let len = 0;
  for (;;) {
    const r = await c.read(got.subarray(len));
    if (r === null) break;
    len += r;
  }
  c.close();
  if (len === msg.length && got.subarray(0, len).every((b, k) => b === msg[k])) ok++;
  else bad++;
}));
console.log(JSON.stringify({ ok, bad, ms: Math.round(performance.now() - t0) }));
`;
