// The public surface (issue 14): what the root entry point exports, every entry point passing
// `deno doc --lint` on its own, and examples that import only entry points.
import assert from "node:assert/strict";
import * as root from "../mod.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("mod.ts exports what an application uses and none of the layers' internals", () => {
  const names = Object.keys(root).sort();
  // Applications build stacks, use streams, listeners and datagram sockets, pick and wrap devices
  // (DeviceWrapper for their own wrappers), catch errors and handle addresses.
  for (
    const wanted of [
      "NetStack",
      "TcpStream",
      "TcpListener",
      "UdpSocket",
      "linkPair",
      "Loopback",
      "TunTapDevice",
      "UdpTunnelDevice",
      "RawSocketDevice",
      "DeviceWrapper",
      "PcapWriter",
      "MemorySink",
      "fileSink",
      "FaultInjector",
      "Tracer",
      "NET_ERROR_CODES",
      "IpCidr",
      "Ipv4Address",
      "Ipv6Address",
      "resolveDns",
    ]
  ) assert.ok(names.includes(wanted), `mod.ts lacks ${wanted}`);
  // The core and the loop's plumbing live in the layer entry points.
  for (
    const internal of [
      "Interface",
      "SocketSet",
      "TcpSocket",
      "TcpListenSocket",
      "WireError",
      "netError",
      "badResource",
      "abortError",
      "resolveForConnect",
      "Pinger",
      "Driver",
      "FrameQueue",
      "coreError",
      "fromCoreError",
    ]
  ) assert.ok(!names.includes(internal), `mod.ts exports ${internal}`);
  assert.ok(names.length <= 45, `mod.ts exports ${names.length} values: ${names.join(", ")}`);
});

Deno.test("every entry point of deno.json passes deno doc --lint on its own", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const failures: string[] = [];
  await Promise.all(
    Object.entries(config.exports as Record<string, string>).map(async ([name, file]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["doc", "--lint", file],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      if (!out.success) {
        const text = new TextDecoder().decode(out.stderr);
        failures.push(`${name}: ${text.split("\n").find((l) => l.startsWith("error")) ?? text}`);
      }
    }),
  );
  assert.deepEqual(failures, []);
});

Deno.test("examples import only the package's entry points", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const exports = Object.entries(config.exports as Record<string, string>);
  // What a user may write: the package's names, the entry files relative to examples/, and the
  // names of deno.json's import map (third-party packages).
  const entries = new Set([
    ...exports.map(([k]) => k === "." ? "@smol/net" : `@smol/net/${k.slice(2)}`),
    ...exports.map(([, file]) => `.${file}`),
    ...Object.keys(config.imports ?? {}),
  ]);
  const bad: string[] = [];
  for await (const e of Deno.readDir(new URL("examples/", ROOT))) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(`examples/${e.name}`, ROOT));
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms)) {
      const spec = m[1]!;
      if (spec.startsWith("node:") || spec.startsWith("npm:") || entries.has(spec)) continue;
      bad.push(`${e.name}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("README's runnable code blocks write files only under a temporary directory", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const bad: string[] = [];
  for (const m of readme.matchAll(/```(ts|typescript)([^\n]*)\n(.*?)```/gs)) {
    if (/\bignore\b/.test(m[2]!)) continue; // not run by `deno test --doc`
    const code = m[3]!;
    // A literal path handed to something that creates a file lands in the working directory.
    for (
      const w of code.matchAll(
        /(fileSink|Deno\.(?:writeFile|writeTextFile|create|open)\w*)\(\s*["'`]/g,
      )
    ) {
      bad.push(`${w[1]}: ${code.slice(w.index!, w.index! + 40)}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("README cites no file outside the repository", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  for (const outside of ["platform.md", "deno_api.md", "design.md", "style.md", "../shared"]) {
    assert.ok(!readme.includes(outside), `README cites ${outside}`);
  }
});
