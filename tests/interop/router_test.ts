// examples/router.ts between two namespaces it creates: the example runs in a router namespace
// (R) where it opens two TUN devices; their kernel ends then move into an inside namespace (I,
// 192.0.2.2/24, default route via the router's 192.0.2.1) and an outside namespace (O,
// 198.51.100.2/24, python3 http.server). curl in I fetches a file from O through the router;
// the server's log must show the NAT address 198.51.100.1, and the example's counters must show
// the translations. Skips with one line where the machine cannot.
import assert from "node:assert/strict";
import { createNetns, deleteNetns, linkName, must, run } from "../phy/_netns.ts";
import { canRun, interop, reportSkip } from "./_kernel_peer.ts";

reportSkip("router_test.ts");
const root = new URL("../../", import.meta.url).pathname;

interface Proc {
  child: Deno.ChildProcess;
  /** Resolves with stdout and stderr once the process ended. */
  out: Promise<{ stdout: string; stderr: string }>;
  /** Its stdout so far. */
  text(): string;
}

async function collect(stream: ReadableStream<Uint8Array>, into: { s: string }): Promise<string> {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.s += dec.decode(chunk, { stream: true });
  return into.s;
}

function spawnIn(procs: Proc[], ns: string, cmd: string, args: string[]): Proc {
  // `ip netns exec` execs the command: the PID is the command's own, and we kill only it.
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, cmd, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const o = { s: "" }, e = { s: "" };
  const out = Promise.all([collect(child.stdout, o), collect(child.stderr, e), child.status])
    .then(([stdout, stderr]) => ({ stdout, stderr }));
  const p = { child, out, text: () => o.s };
  procs.push(p);
  return p;
}

async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name: "examples/router.ts routes curl from an inside namespace to an outside server with NAT",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun,
  fn: async () => {
    const procs: Proc[] = [];
    const names: string[] = [];
    const dir = await Deno.makeTempDir({ prefix: "smolnet-it-" });
    try {
      const [r, i, o] = [await createNetns("r"), await createNetns("i"), await createNetns("o")];
      names.push(r, i, o);
      const tin = linkName("ri"), tout = linkName("ro");
      await must("ip", ["-n", r, "tuntap", "add", "dev", tin, "mode", "tun"]);
      await must("ip", ["-n", r, "tuntap", "add", "dev", tout, "mode", "tun"]);
      const router = spawnIn(procs, r, Deno.execPath(), [
        "run",
        "--allow-ffi",
        `${root}examples/router.ts`,
        "--inside",
        tin,
        "--outside",
        tout,
        "--allow-documentation",
      ]);
      // It prints its first line once it holds both devices.
      await until("the router to start", () => Promise.resolve(router.text().includes("router:")));
      await must("ip", ["-n", r, "link", "set", tin, "netns", i]);
      await must("ip", ["-n", r, "link", "set", tout, "netns", o]);
      const sh = (ns: string, cmd: string) => must("ip", ["netns", "exec", ns, "sh", "-ec", cmd]);
      await sh(
        i,
        `sysctl -qw net.ipv6.conf.${tin}.disable_ipv6=1
         ip addr add 192.0.2.2/24 dev ${tin}; ip link set ${tin} up
         ip route add default via 192.0.2.1`,
      );
      await sh(
        o,
        `sysctl -qw net.ipv6.conf.${tout}.disable_ipv6=1
         ip addr add 198.51.100.2/24 dev ${tout}; ip link set ${tout} up`,
      );
      const body = new Uint8Array(200_000);
      for (let k = 0; k < body.length; k += 65536) {
        crypto.getRandomValues(body.subarray(k, Math.min(body.length, k + 65536)));
      }
      await Deno.writeFile(`${dir}/blob.bin`, body);
      const server = spawnIn(procs, o, "python3", [
        "-u",
        "-m",
        "http.server",
        "--bind",
        "198.51.100.2",
        "--directory",
        dir,
        "8000",
      ]);
      await until("the server to listen", async () => {
        const l = await run("ip", ["netns", "exec", o, "ss", "-Hltn", "sport = :8000"]);
        return l.stdout.includes(":8000");
      });
      const curl = await run("ip", [
        "netns",
        "exec",
        i,
        "curl",
        "-s",
        "--max-time",
        "20",
        "-o",
        `${dir}/got.bin`,
        "-w",
        "%{http_code}",
        "http://198.51.100.2:8000/blob.bin",
      ]);
      assert.equal(curl.code, 0, `curl failed: ${curl.stderr}`);
      assert.equal(curl.stdout, "200");
      assert.deepEqual(await Deno.readFile(`${dir}/got.bin`), body);
      // The router answers a ping to its inside address.
      const ping = await run("ip", ["netns", "exec", i, "ping", "-c", "1", "-W", "2", "192.0.2.1"]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      // The server saw the NAT address, never the inside host.
      server.child.kill("SIGTERM");
      const log = (await server.out).stderr;
      assert.match(log, /^198\.51\.100\.1 - - .*"GET \/blob\.bin HTTP\/1\.1" 200/m);
      assert.doesNotMatch(log, /192\.0\.2\.2/);
      router.child.kill("SIGTERM");
      const text = (await router.out).stdout;
      assert.match(text, /^router: forwarding .* \(NAT as 198\.51\.100\.1\)$/m);
      const stats = JSON.parse(text.trim().split("\n").at(-1)!);
      assert.ok(stats.forward.natOut > 0 && stats.forward.natIn > 0, text);
      assert.ok(stats.mappings.some((m: string) => m.startsWith("tcp 192.0.2.2:")), text);
    } finally {
      for (const { child, out } of procs) {
        try {
          child.kill("SIGKILL");
        } catch { /* already ended */ }
        await out.catch(() => {});
      }
      for (const n of names) await deleteNetns(n);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
