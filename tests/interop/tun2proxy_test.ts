// examples/tun2proxy.ts between three namespaces it creates: a client (C) whose traffic to
// 198.51.100.0/24 a proxy namespace (P) forwards into a TUN device, where the example terminates
// it and relays it through its own kernel sockets to a server namespace (S) holding
// 198.51.100.10 (python3 http.server), 198.51.100.53 (dnsmasq) and 198.51.100.7 (an echo
// server). curl and dig run in C; a policy rule in P sends only what arrives from C into the
// device, so the proxy's own connections go to S. Skips with one line where the machine cannot.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hasCommand, must, run } from "../phy/_netns.ts";
import { canRun, interop, interopTool, reportSkip } from "./_kernel_peer.ts";
import {
  dnsmasqArgs,
  ECHO_PY,
  FLOWS_TS,
  type Proc,
  proxyTopology,
  Scene,
  tun2proxyArgs,
  waitListening,
} from "./_fixtures.ts";

reportSkip("tun2proxy_test.ts");
const tools = interopTool("tun2proxy_test.ts", "dnsmasq", "dnsmasq-base") &&
  interopTool("tun2proxy_test.ts", "dig", "dnsutils");
const root = new URL("../../", import.meta.url).pathname;

const HTTP = "198.51.100.10", DNS = "198.51.100.53", ECHO = "198.51.100.7";

/** Starts `cmd` in `ns` with room for the 1,000-flow test's file descriptors. */
function spawnIn(scene: Scene, ns: string, cmd: string, args: string[]): Proc {
  return scene.spawnIn(ns, cmd, args, { maxFiles: 16384 });
}

Deno.test({
  name:
    "tun2proxy relays curl (TCP) and dig (UDP) from a client namespace to their real destinations",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun || !tools,
  fn: async (t) => {
    await using scene = await Scene.create();
    const dir = scene.dir;
    const netns = async (tag: string) => (await scene.netns(tag))[0];
    const { c, p, s, tun, vpc } = await proxyTopology(netns, {
      tags: ["c", "p", "s"],
      family: 4,
    }, [HTTP, DNS, ECHO]);
    // Servers in S.
    const size = 1048576 + 77;
    const blob = crypto.getRandomValues(new Uint8Array(65536));
    const body = new Uint8Array(size);
    for (let off = 0; off < size; off += blob.length) {
      body.set(blob.subarray(0, Math.min(blob.length, size - off)), off);
    }
    await Deno.writeFile(`${dir}/blob.bin`, body);
    const want = createHash("sha256").update(body).digest("hex");
    spawnIn(scene, s, "python3", [
      "-m",
      "http.server",
      "--bind",
      HTTP,
      "--directory",
      dir,
      "80",
    ]);
    await Deno.writeTextFile(`${dir}/echo.py`, ECHO_PY);
    spawnIn(scene, s, "python3", [`${dir}/echo.py`, ECHO, "7"]);
    spawnIn(scene, s, "dnsmasq", dnsmasqArgs(DNS, HTTP));
    // The proxy in P.
    const proxy = spawnIn(scene, p, Deno.execPath(), tun2proxyArgs(root, tun));
    await Promise.all([
      waitListening(s, "t", 80),
      waitListening(s, "t", 7),
      waitListening(s, "u", 53),
    ]);
    const inC = (cmd: string, args: string[]) => run("ip", ["netns", "exec", c, cmd, ...args]);

    await t.step("curl fetches a 1 MiB file byte-exact through the proxy", async () => {
      let r = await inC("curl", [
        "-s",
        "--max-time",
        "30",
        "-o",
        `${dir}/got.bin`,
        `http://${HTTP}/blob.bin`,
      ]);
      for (let i = 0; i < 20 && r.code !== 0; i++) {
        // The example may still be starting: the kernel retransmits, curl retries here.
        await new Promise((res) => setTimeout(res, 250));
        r = await inC("curl", [
          "-s",
          "--max-time",
          "30",
          "-o",
          `${dir}/got.bin`,
          `http://${HTTP}/blob.bin`,
        ]);
      }
      assert.equal(r.code, 0, r.stderr);
      const got = await Deno.readFile(`${dir}/got.bin`);
      assert.equal(got.length, size);
      assert.equal(createHash("sha256").update(got).digest("hex"), want);
    });

    await t.step("dig gets dnsmasq's answer through a relayed UDP flow", async () => {
      const r = await inC("dig", [
        "+short",
        "+time=3",
        "+tries=2",
        `@${DNS}`,
        "www.example.net",
        "A",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.trim(), HTTP);
    });

    await t.step("1,000 concurrent TCP flows each get back exactly their own bytes", async () => {
      await Deno.writeTextFile(`${dir}/flows.ts`, FLOWS_TS);
      const flows = async () => {
        const r = await run("ip", [
          "netns",
          "exec",
          c,
          "sh",
          "-c",
          `ulimit -n 16384; exec "$@"`,
          "sh",
          Deno.execPath(),
          "run",
          "--allow-net",
          `${dir}/flows.ts`,
          ECHO,
          "7",
          "1000",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
        assert.deepEqual({ ok: res.ok, bad: res.bad }, { ok: 1000, bad: 0 });
        return res.ms as number;
      };
      const viaProxy = await flows();
      // The same client and server with P's kernel forwarding instead of the proxy.
      await must("ip", ["-n", p, "rule", "del", "iif", vpc, "lookup", "100"]);
      const kernel = await flows();
      await must("ip", ["-n", p, "rule", "add", "iif", vpc, "lookup", "100"]);
      console.log(
        `1,000 concurrent echo flows: through tun2proxy ${viaProxy} ms, kernel forwarding ` +
          `${kernel} ms`,
      );
    });

    await t.step({
      name: "one-flow relay throughput beside kernel forwarding, iperf3 (reported, not asserted)",
      ignore: !hasCommand("iperf3"),
      fn: async () => {
        spawnIn(scene, s, "iperf3", ["-s", "-B", ECHO, "-p", "5201"]);
        await waitListening(s, "t", 5201);
        const mbps = async (reverse: boolean) => {
          const args = ["-c", ECHO, "-p", "5201", "-t", "4", "-J", ...(reverse ? ["-R"] : [])];
          const r = await inC("iperf3", args);
          assert.equal(r.code, 0, r.stderr);
          return JSON.parse(r.stdout).end.sum_received.bits_per_second / 8e6;
        };
        const proxyDown = await mbps(true), proxyUp = await mbps(false);
        // Without the rule C's traffic is forwarded by P's kernel straight to S.
        await must("ip", ["-n", p, "rule", "del", "iif", vpc, "lookup", "100"]);
        const kernelDown = await mbps(true), kernelUp = await mbps(false);
        await must("ip", ["-n", p, "rule", "add", "iif", vpc, "lookup", "100"]);
        const f = (x: number) => x.toFixed(0);
        console.log(
          `one TCP flow, MB/s: tun2proxy --offload down ${f(proxyDown)} up ${f(proxyUp)}; ` +
            `kernel forwarding down ${f(kernelDown)} up ${f(kernelUp)} ` +
            `(${(proxyDown / kernelDown).toFixed(2)}x / ${(proxyUp / kernelUp).toFixed(2)}x)`,
        );
      },
    });

    proxy.child.kill("SIGTERM");
    const stats = (await proxy.out).stdout.trim().split("\n").at(-1)!;
    const counters = JSON.parse(stats);
    console.log(`tun2proxy at exit: ${stats}`);
    assert.ok(counters.relay.tcpOpened >= 1001, stats);
    assert.ok(counters.relay.udpFlows >= 1, stats);
    assert.equal(counters.acceptAny.martian, 0, stats);
  },
});

// The same relay over IPv6 only: C (2001:db8:c::1) reaches S's 2001:db8:5::10 (http.server) and
// 2001:db8:5::53 (dnsmasq) through P, whose policy rule sends what arrives from C into the TUN
// device; the proxy's own connections to S leave over P's veth.
const HTTP6 = "2001:db8:5::10", DNS6 = "2001:db8:5::53";

Deno.test({
  name: "tun2proxy relays curl and dig over IPv6 to their real destinations",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun || !tools,
  fn: async () => {
    await using scene = await Scene.create();
    const dir = scene.dir;
    const netns = async (tag: string) => (await scene.netns(tag))[0];
    const { c, p, s, tun } = await proxyTopology(netns, {
      tags: ["c", "p", "s"],
      family: 6,
    }, [HTTP6, DNS6]);
    const body = crypto.getRandomValues(new Uint8Array(65536));
    await Deno.writeFile(`${dir}/blob.bin`, body);
    spawnIn(scene, s, "python3", [
      "-m",
      "http.server",
      "--bind",
      HTTP6,
      "--directory",
      dir,
      "80",
    ]);
    spawnIn(scene, s, "dnsmasq", dnsmasqArgs(DNS6, HTTP6));
    const proxy = spawnIn(scene, p, Deno.execPath(), tun2proxyArgs(root, tun));
    await Promise.all([waitListening(s, "t", 80), waitListening(s, "u", 53)]);
    const inC = (cmd: string, args: string[]) => run("ip", ["netns", "exec", c, cmd, ...args]);
    const curlArgs = ["-s", "-g", "--max-time", "20", "-o", `${dir}/got.bin`];
    let r = await inC("curl", [...curlArgs, `http://[${HTTP6}]/blob.bin`]);
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      // The example may still be starting: the kernel retransmits, curl retries here.
      await new Promise((res) => setTimeout(res, 250));
      r = await inC("curl", [...curlArgs, `http://[${HTTP6}]/blob.bin`]);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/got.bin`), body);
    const d = await inC("dig", [
      "+short",
      "+time=3",
      "+tries=2",
      `@${DNS6}`,
      "www.example.net",
      "AAAA",
    ]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal(d.stdout.trim(), HTTP6);

    proxy.child.kill("SIGTERM");
    const stats = (await proxy.out).stdout.trim().split("\n").at(-1)!;
    const counters = JSON.parse(stats);
    assert.ok(counters.relay.tcpOpened >= 1, stats);
    assert.ok(counters.relay.udpFlows >= 1, stats);
    assert.ok(counters.relay.bytesDown >= body.length, stats);
  },
});
