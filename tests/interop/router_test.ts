// examples/router.ts between two namespaces it creates: the example runs in a router namespace
// (R) where it opens two TUN devices; their kernel ends then move into an inside namespace (I,
// 192.0.2.2/24 and 2001:db8:1::2/64, default routes via the router's 192.0.2.1 and
// 2001:db8:1::1) and an outside namespace (O, 198.51.100.2/24 and 2001:db8:2::2/64, a route to
// 2001:db8:1::/64 via the router's 2001:db8:2::1, python3 http.server on both). curl in I
// fetches a file from O through the router over IPv4 and IPv6; the IPv4 server's log must show
// the NAT address 198.51.100.1, the IPv6 server's the inside host (IPv6 is routed, not
// translated; with --npt6, its outside name), and the example's counters must show the
// translations. Skips with one line where the machine cannot.
import assert from "node:assert/strict";
import { linkName, must, run } from "../phy/_netns.ts";
import { canRun, interop, reportSkip } from "./_kernel_peer.ts";
import { httpServer, randomBytes, Scene, shIn, until, waitListening } from "./_fixtures.ts";

reportSkip("router_test.ts");
const root = new URL("../../", import.meta.url).pathname;

// With NPTv6 (RFC 6296's example prefixes) the inside host is fd01:203:405:1::1234 and the
// router fd01:203:405::1; the outside server must see 2001:db8:1:d550::1234.
const NPT_HOST = "fd01:203:405:1::1234", NPT_NAME = "2001:db8:1:d550::1234";

async function routeThrough(offload: boolean, npt = false): Promise<void> {
  const host6 = npt ? NPT_HOST : "2001:db8:1::2",
    router6 = npt ? "fd01:203:405::1" : "2001:db8:1::1";
  await using scene = await Scene.create();
  const dir = scene.dir;
  const [r, i, o] = await scene.netns("r", "i", "o");
  const tin = linkName("ri"), tout = linkName("ro");
  await must("ip", ["-n", r, "tuntap", "add", "dev", tin, "mode", "tun"]);
  await must("ip", ["-n", r, "tuntap", "add", "dev", tout, "mode", "tun"]);
  const router = scene.spawnIn(r, Deno.execPath(), [
    "run",
    "--allow-ffi",
    `${root}examples/router.ts`,
    "--inside",
    tin,
    "--outside",
    tout,
    "--allow-documentation",
    ...(offload ? ["--offload"] : []),
    ...(npt
      ? ["--inside-address6", `${router6}/48`, "--npt6", "fd01:203:405::/48,2001:db8:1::/48"]
      : []),
  ]);
  // It prints its first line once it holds both devices.
  await until("the router to start", () => Promise.resolve(router.text().includes("router:")));
  await must("ip", ["-n", r, "link", "set", tin, "netns", i]);
  await must("ip", ["-n", r, "link", "set", tout, "netns", o]);
  await shIn(
    i,
    `ip addr add 192.0.2.2/24 dev ${tin}; ip addr add ${host6}/${npt ? 48 : 64} dev ${tin} nodad
     ip link set ${tin} up
     ip route add default via 192.0.2.1; ip -6 route add default via ${router6}`,
  );
  await shIn(
    o,
    `ip addr add 198.51.100.2/24 dev ${tout}; ip addr add 2001:db8:2::2/64 dev ${tout} nodad
     ip link set ${tout} up
     ip -6 route add 2001:db8:1::/48 via 2001:db8:2::1`,
  );
  const body = randomBytes(200_000);
  await Deno.writeFile(`${dir}/blob.bin`, body);
  const server = httpServer(scene, o, { bind: "198.51.100.2", port: 8000 });
  const server6 = httpServer(scene, o, { bind: "2001:db8:2::2", port: 8001 });
  for (const port of [8000, 8001]) await waitListening(o, "t", port);
  const download = async (url: string, file: string) => {
    const curl = await run("ip", [
      "netns",
      "exec",
      i,
      "curl",
      "-s",
      "-g",
      "--max-time",
      "20",
      "-o",
      `${dir}/${file}`,
      "-w",
      "%{http_code}",
      url,
    ]);
    assert.equal(curl.code, 0, `curl ${url} failed: ${curl.stderr}`);
    assert.equal(curl.stdout, "200");
    assert.deepEqual(await Deno.readFile(`${dir}/${file}`), body);
  };
  await download("http://198.51.100.2:8000/blob.bin", "got.bin");
  await download("http://[2001:db8:2::2]:8001/blob.bin", "got6.bin");
  // The router answers pings to each of its addresses from the inside, the outside ones
  // included (they are reached through the inside interface).
  for (const addr of ["192.0.2.1", "198.51.100.1", router6, "2001:db8:2::1"]) {
    const ping = await run("ip", ["netns", "exec", i, "ping", "-c", "1", "-W", "2", addr]);
    assert.equal(ping.code, 0, `ping ${addr}: ${ping.stdout}${ping.stderr}`);
    assert.match(ping.stdout, new RegExp(`from ${addr.replaceAll(".", "\\.")}`));
  }
  // The IPv4 server saw the NAT address, never the inside host; the IPv6 one the inside
  // host itself.
  server.child.kill("SIGTERM");
  const log = (await server.out).stderr;
  assert.match(log, /^198\.51\.100\.1 - - .*"GET \/blob\.bin HTTP\/1\.1" 200/m);
  assert.doesNotMatch(log, /192\.0\.2\.2/);
  server6.child.kill("SIGTERM");
  const log6 = (await server6.out).stderr;
  // With NPTv6 the outside name of the inside host, never its inside address.
  const seen6 = npt ? NPT_NAME : host6;
  assert.match(log6, new RegExp(`^${seen6} - - .*"GET /blob\\.bin HTTP/1\\.1" 200`, "m"));
  if (npt) assert.doesNotMatch(log6, /fd01:/);
  router.child.kill("SIGTERM");
  const text = (await router.out).stdout;
  assert.match(text, /^router: forwarding .* \(NAT as 198\.51\.100\.1\)$/m);
  const stats = JSON.parse(text.trim().split("\n").at(-1)!);
  assert.ok(stats.forward.natOut > 0 && stats.forward.natIn > 0, text);
  assert.ok(stats.mappings.some((m: string) => m.startsWith("tcp 192.0.2.2:")), text);
  assert.ok(stats.forward.forwarded > stats.forward.natOut + stats.forward.natIn, text);
  // With offloads the kernels hand over coalesced TCP super-frames, forwarded whole.
  if (offload) assert.ok(stats.forward.superFrames > 0, text);
  else assert.equal(stats.forward.superFrames, 0, text);
  if (npt) assert.ok(stats.forward.nptOut > 0 && stats.forward.nptIn > 0, text);
  else assert.equal(stats.forward.nptOut, 0, text);
}

Deno.test({
  name:
    "examples/router.ts routes curl from an inside namespace to an outside server, IPv4 with NAT and IPv6",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun,
  fn: () => routeThrough(false),
});

Deno.test({
  name: "examples/router.ts --offload forwards TCP super-frames whole, IPv4 with NAT and IPv6",
  ...interop,
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !canRun,
  fn: () => routeThrough(true),
});

Deno.test({
  name:
    "examples/router.ts --npt6 maps the inside IPv6 prefix to the outside one (RFC 6296), IPv4 with NAT",
  ...interop,
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !canRun,
  fn: () => routeThrough(false, true),
});
