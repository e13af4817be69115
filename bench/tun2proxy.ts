/**
 * bench/tun2proxy.ts — one TCP flow relayed by `examples/tun2proxy.ts --offload` beside the
 * Linux kernel forwarding the same flow, in one run (issue 20's ≥ 150 MB/s target).
 *
 * ```sh
 * deno run -A bench/tun2proxy.ts [--seconds S] [--runs N]
 * ```
 *
 * Root, /dev/net/tun, `ip`, iperf3. Three namespaces created by name and deleted afterwards
 * (`smolnet-b2*-…`), the topology of tests/interop/tun2proxy_test.ts: a client (C) whose
 * traffic to 198.51.100.0/24 a proxy namespace (P) policy-routes into a TUN device held by the
 * example, which relays each connection through its own kernel socket to an iperf3 server in S
 * (198.51.100.7). Each run measures iperf3 download (`-R`) and upload through the proxy, then
 * the same with the policy rule removed (P's kernel forwards C's packets itself), and prints MB/s,
 * the ratios and the load average (the machine is shared).
 *
 * @module
 */

import { createNetns, deleteNetns, linkName, must, run } from "../tests/phy/_netns.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(Deno.args[i + 1]);
  if (!(n > 0)) throw new RangeError(`Invalid ${name}: ${Deno.args[i + 1]}`);
  return n;
}

const seconds = arg("--seconds", 4), runs = arg("--runs", 2);
const root = new URL("../", import.meta.url).pathname;
const loadavg = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");

async function oneRun(): Promise<{ pd: number; pu: number; kd: number; ku: number }> {
  const names: string[] = [];
  const children: Deno.ChildProcess[] = [];
  try {
    const [c, p, s] = [
      await createNetns("b2c"),
      await createNetns("b2p"),
      await createNetns("b2s"),
    ];
    names.push(c, p, s);
    const vc = linkName("vc"), vpc = linkName("vpc"), vps = linkName("vps"), vs = linkName("vs");
    const tun = linkName("tp");
    await must("ip", ["link", "add", vc, "netns", c, "type", "veth", "peer", vpc, "netns", p]);
    await must("ip", ["link", "add", vps, "netns", p, "type", "veth", "peer", vs, "netns", s]);
    const sh = (ns: string, cmd: string) => must("ip", ["netns", "exec", ns, "sh", "-ec", cmd]);
    await sh(
      c,
      `ip addr add 192.0.2.1/30 dev ${vc}; ip link set ${vc} up; ip route add default via 192.0.2.2`,
    );
    await sh(
      s,
      `ip addr add 192.0.2.6/30 dev ${vs}; ip link set ${vs} up; ip route add default via 192.0.2.5
       ip addr add 198.51.100.7/32 dev lo`,
    );
    await sh(
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
    const spawn = (ns: string, args: string[]) => {
      // `ip netns exec` execs the command: the PID is the command's own, and we kill only it.
      const child = new Deno.Command("ip", {
        args: ["netns", "exec", ns, ...args],
        stdout: "null",
        stderr: "null",
      }).spawn();
      children.push(child);
    };
    spawn(s, ["iperf3", "-s", "-B", "198.51.100.7"]);
    spawn(p, [
      Deno.execPath(),
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
    ]);
    for (let i = 0;; i++) {
      const l = await run("ip", ["netns", "exec", s, "ss", "-Hltn", "sport = :5201"]);
      if (l.stdout.includes(":5201")) break;
      if (i === 400) throw new Error("iperf3 server: not listening after 10 s");
      await new Promise((r) => setTimeout(r, 25));
    }
    const mbps = async (reverse: boolean) => {
      for (let attempt = 0;; attempt++) {
        const r = await run("ip", [
          "netns",
          "exec",
          c,
          "iperf3",
          "-c",
          "198.51.100.7",
          "-t",
          String(seconds),
          "-J",
          ...(reverse ? ["-R"] : []),
        ]);
        const got = r.code === 0 ? JSON.parse(r.stdout).end?.sum_received : undefined;
        if (got !== undefined) return got.bits_per_second / 8e6;
        // The example may still be starting.
        if (attempt === 20) throw new Error(`iperf3 failed: ${r.stdout.slice(-300)}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    const pd = await mbps(true), pu = await mbps(false);
    await must("ip", ["-n", p, "rule", "del", "iif", vpc, "lookup", "100"]);
    const kd = await mbps(true), ku = await mbps(false);
    return { pd, pu, kd, ku };
  } finally {
    for (const ch of children) {
      try {
        ch.kill("SIGKILL");
      } catch { /* already ended */ }
      await ch.status;
    }
    for (const n of names) await deleteNetns(n);
  }
}

console.log(`tun2proxy --offload, one TCP flow x ${seconds} s; load average ${await loadavg()}`);
for (let i = 0; i < runs; i++) {
  const r = await oneRun();
  const f = (x: number) => x.toFixed(0);
  console.log(
    `run ${i + 1}: tun2proxy down ${f(r.pd)} up ${f(r.pu)} MB/s; kernel forwarding down ${
      f(r.kd)
    } up ${f(r.ku)} MB/s; ratio ${(r.pd / r.kd).toFixed(2)}x / ${(r.pu / r.ku).toFixed(2)}x`,
  );
}
console.log(`load average after: ${await loadavg()}`);
