// examples/http_get.ts as a process: it attaches to a persistent TUN device the test created in a
// namespace and downloads a file from `python3 -m http.server` on the kernel side (plain, and
// with --drop and --pcap), byte-exact; and every example of issue 6 prints its usage on --help.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { canRun, interop, linkName, reportSkip, run } from "./_kernel_peer.ts";
import { httpServer, persistentTun, randomBytes, Scene, waitListening } from "./_fixtures.ts";

reportSkip("examples_test.ts");

const root = new URL("../../examples/", import.meta.url).pathname;

Deno.test({
  name: "interop: the examples print their usage on --help",
  ignore: false,
  fn: async () => {
    for (const ex of ["tun_http_server.ts", "http_get.ts", "ping.ts", "tcpdump.ts"]) {
      const r = await run(Deno.execPath(), ["run", `${root}${ex}`, "--help"]);
      assert.equal(r.code, 0, `${ex}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: /, ex);
      assert.match(r.stdout, /--help/, ex);
    }
    const bad = await run(Deno.execPath(), ["run", `${root}tun_http_server.ts`, "--port", "x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid --port/);
  },
});

Deno.test({
  name: "interop: examples/http_get.ts downloads from a kernel http.server through a persistent " +
    "TUN, byte-exact, also with --drop 0.05 and --pcap",
  ...interop,
  ignore: !canRun,
  fn: async () => {
    await using scene = await Scene.create();
    const dir = scene.dir;
    const dev = linkName("eg");
    const size = 4 * 1048576 + 123;
    const body = randomBytes(size);
    await Deno.writeFile(`${dir}/blob.bin`, body);
    const want = createHash("sha256").update(body).digest("hex");
    const [ns] = await scene.netns("eg");
    await persistentTun(ns, dev);
    httpServer(scene, ns, { bind: "192.0.2.1", port: 8000 });
    await waitListening(ns, "t", 8000);
    const get = (...extra: string[]) =>
      run("ip", [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "--allow-ffi",
        "--allow-write",
        `${root}http_get.ts`,
        "--device",
        dev,
        "--address",
        "192.0.2.2/24",
        ...extra,
        "http://192.0.2.1:8000/blob.bin",
      ]);
    const out = `${dir}/got.bin`;
    const plain = await get("--output", out);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /^HTTP\/1\.[01] 200/);
    assert.match(plain.stdout, new RegExp(`${size} bytes in`));
    assert.match(plain.stdout, new RegExp(`sha256 ${want}`));
    assert.equal(createHash("sha256").update(await Deno.readFile(out)).digest("hex"), want);
    const pcap = `${dir}/get.pcap`;
    const lossy = await get("--drop", "0.05", "--pcap", pcap);
    assert.equal(lossy.code, 0, lossy.stdout + lossy.stderr);
    assert.match(lossy.stdout, new RegExp(`sha256 ${want}`));
    assert.ok((await Deno.stat(pcap)).size > size);
    const missing = await run("ip", [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "--allow-ffi",
      `${root}http_get.ts`,
      "--device",
      dev,
      "http://192.0.2.1:8000/nothing-here",
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, / 404 /);
    console.log(
      `http_get: ${plain.stdout.split("\n")[1]}; with 5 % drop: ` +
        `${lossy.stdout.split("\n")[1]}`,
    );
  },
});
