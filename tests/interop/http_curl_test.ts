// The kernel's curl (in the namespace) fetches from the smolnet HTTP server of
// examples/tun_http_server.ts through TUN and TAP: 200 fetches with keep-alive (one curl, one
// connection, many URLs) and 200 without (Connection: close, one connection per URL), over IPv4
// and IPv6, bodies checked by length and SHA-256; and the example itself run as a process on a
// persistent TUN device it attaches to.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { serve, type ServerStats } from "../../examples/tun_http_server.ts";
import {
  interop,
  KernelPeer,
  linkName,
  reportSkip,
  run,
  STACK_V4,
  STACK_V6,
  withTimeout,
} from "./_kernel_peer.ts";
import { persistentTun, Scene } from "./_fixtures.ts";

reportSkip("http_curl_test.ts");

const PORT = 8080;
const FETCHES = 200;

/** The URLs: mostly `/bytes/N` of varied sizes, every tenth `/`. */
function urls(host: string): { urls: string[]; sizes: number[] } {
  const out: string[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < FETCHES; i++) {
    if (i % 10 === 0) {
      out.push(`http://${host}:${PORT}/`);
      sizes.push(-1);
    } else {
      const n = (i * 7919) % 70_000;
      out.push(`http://${host}:${PORT}/bytes/${n}`);
      sizes.push(n);
    }
  }
  return { urls: out, sizes };
}

/** SHA-256 of the first `n` bytes of the `i % 251` pattern. */
function patternSha(n: number): string {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return createHash("sha256").update(b).digest("hex");
}

async function curlMany(
  peer: KernelPeer,
  host: string,
  keepAlive: boolean,
): Promise<{ connects: number; ms: number }> {
  const { urls: list, sizes } = urls(host);
  const args = [
    "-sS",
    "--max-time",
    "60",
    "-w",
    "%{http_code} %{size_download} %{num_connects}\\n",
  ];
  if (!keepAlive) args.push("-H", "Connection: close");
  for (const u of list) args.push("-o", "/dev/null", u);
  const t0 = performance.now();
  const r = await peer.exec("curl", args);
  const ms = performance.now() - t0;
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, FETCHES);
  let connects = 0;
  let failures = 0;
  lines.forEach((line, i) => {
    const [code, size, nc] = line.split(" ").map(Number) as [number, number, number];
    const want = sizes[i]!;
    if (code !== 200 || (want >= 0 && size !== want) || (want < 0 && size < 20)) failures++;
    connects += nc;
  });
  assert.equal(failures, 0, `${failures} of ${FETCHES} fetches failed`);
  return { connects, ms };
}

async function servedBy(
  mode: "tun" | "tap",
  fn: (peer: KernelPeer, stats: ServerStats) => Promise<void>,
): Promise<void> {
  await using peer = await KernelPeer.create({ mode, ipv6: true });
  const stack = peer.stack({ ipv6: true });
  const l4 = stack.listen({ port: PORT, hostname: "0.0.0.0" });
  const l6 = stack.listen({ port: PORT, hostname: "::" });
  const stats: ServerStats = { connections: 0, requests: 0, bodyBytes: 0 };
  const serving = Promise.all([serve(l4, stats), serve(l6, stats)]);
  try {
    await fn(peer, stats);
  } finally {
    l4.close();
    l6.close();
    await withTimeout(serving, 5000, "server shutdown");
  }
}

for (const mode of ["tun", "tap"] as const) {
  Deno.test({
    name: `interop: curl fetches ${FETCHES} times with keep-alive and ${FETCHES} without, ` +
      `IPv4 over ${mode.toUpperCase()}`,
    ...interop,
    fn: () =>
      servedBy(mode, async (peer, stats) => {
        const ka = await curlMany(peer, STACK_V4, true);
        assert.equal(ka.connects, 1, "keep-alive: one connection for every URL");
        const nka = await curlMany(peer, STACK_V4, false);
        assert.equal(nka.connects, FETCHES, "Connection: close: one connection per URL");
        assert.equal(stats.requests, 2 * FETCHES);
        assert.equal(stats.connections, 1 + FETCHES);
        console.log(
          `${mode}: ${FETCHES} fetches keep-alive ${ka.ms.toFixed(0)} ms, ` +
            `${FETCHES} with Connection: close ${nka.ms.toFixed(0)} ms`,
        );
      }),
  });
}

Deno.test({
  name: "interop: curl over IPv6 (TAP, NDP through the kernel) keep-alive and not, and a 4 MiB " +
    "body matches the pattern",
  ...interop,
  fn: () =>
    servedBy("tap", async (peer) => {
      const host = `[${STACK_V6}]`;
      const ka = await curlMany(peer, host, true);
      assert.equal(ka.connects, 1);
      const nka = await curlMany(peer, host, false);
      assert.equal(nka.connects, FETCHES);
      const n = 4 * 1048576;
      const r = await peer.exec("sh", [
        "-c",
        `curl -sS --max-time 60 http://${host}:${PORT}/bytes/${n} | sha256sum`,
      ]);
      assert.equal(r.stdout.split(" ")[0], patternSha(n), r.stderr);
      const neigh = await peer.must("ip", ["-6", "neigh", "show", STACK_V6]);
      assert.match(neigh, /02:00:5e:00:53:02/);
    }),
});

Deno.test({
  name: "interop: examples/tun_http_server.ts attaches to a persistent TUN and serves curl " +
    "with --pcap and --drop, then stops on SIGTERM",
  ...interop,
  fn: async () => {
    await using scene = await Scene.create();
    const [ns] = await scene.netns("ex");
    const dev = linkName("ex");
    const pcap = `${scene.dir}/capture.pcap`;
    await persistentTun(ns, dev);
    const script = new URL("../../examples/tun_http_server.ts", import.meta.url).pathname;
    const example = scene.spawnIn(ns, Deno.execPath(), [
      "run",
      "--allow-ffi",
      "--allow-write",
      "--allow-read",
      script,
      "--device",
      dev,
      "--address",
      "192.0.2.2/24",
      "--port",
      "8081",
      "--pcap",
      pcap,
      "--drop",
      "0.02",
    ]);
    // Wait for the server, then fetch with retries covering the 2 % drop.
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      const r = await run("ip", [
        "netns",
        "exec",
        ns,
        "curl",
        "-s",
        "--max-time",
        "2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://192.0.2.2:8081/",
      ]);
      ok = r.stdout === "200";
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, "the example did not answer within 10 s");
    const r = await run("ip", [
      "netns",
      "exec",
      ns,
      "sh",
      "-c",
      "curl -sS --max-time 30 http://192.0.2.2:8081/bytes/1000000 | sha256sum",
    ]);
    assert.equal(r.stdout.split(" ")[0], patternSha(1_000_000), r.stderr);
    example.child.kill("SIGTERM");
    const out = await withTimeout(example.out, 10_000, "example exit");
    const text = out.stdout;
    assert.equal(out.code, 0, text + out.stderr);
    assert.match(text, /serving on TUN device/);
    assert.match(text, /stopped: \d+ connections, \d+ requests/);
    const size = (await Deno.stat(pcap)).size;
    assert.ok(size > 1_000_000, `capture of ${size} bytes`);
  },
});
