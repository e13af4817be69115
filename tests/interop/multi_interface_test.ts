// NetStack.addInterface against the kernel: one stack on two TUN devices, run by
// _multi_iface_host.ts in a host namespace (H) the test creates; the kernel ends of the devices
// move into namespace A (192.0.2.2/24, 2001:db8:1::2/64) and namespace B (198.51.100.2/24,
// 2001:db8:2::2/64, and a route to 192.0.2.0/24 on its TUN link for the strong-host check). A
// python3 http.server in each serves a random file; the stack fetches it from A over IPv4 and
// from B over IPv4 and IPv6, and each fetch must leave from the address of its own interface
// (the server logs show it) with B's 1280-byte MTU in its segment size. Python clients in A and B
// reach the stack's wildcard echo listener through their own link, and B cannot reach the
// listener bound to A's address through B's link. Both links also carry fe80::1 (stack) and
// fe80::2 (kernel): the stack fetches from fe80::2%0 (port 8001, a link-local server in A) and
// fe80::2%1, and the zone alone picks the link (each server logs one fetch from fe80::1). Skips with one line where the machine cannot.
import assert from "node:assert/strict";
import { linkName, must, run } from "../phy/_netns.ts";
import { canRun, interop, reportSkip } from "./_kernel_peer.ts";
import { httpServer, randomBytes, Scene, shIn, until, waitListening } from "./_fixtures.ts";

reportSkip("multi_interface_test.ts");
const here = new URL(".", import.meta.url).pathname;

/** A python3 TCP client in `ns`: sends `msg`, half-closes, prints what comes back. */
function pyClient(ns: string, host: string, port: number, msg: string) {
  const code = `import socket,sys
s=socket.create_connection((${JSON.stringify(host)},${port}),timeout=2)
s.sendall(${JSON.stringify(msg)}.encode());s.shutdown(socket.SHUT_WR)
d=b""
while True:
  c=s.recv(4096)
  if not c: break
  d+=c
print(d.decode())`;
  return run("ip", ["netns", "exec", ns, "python3", "-c", code]);
}

Deno.test({
  name:
    "NetStack with two TUN interfaces fetches from and serves each namespace through its own interface and address",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun,
  fn: async () => {
    await using scene = await Scene.create("smolnet-mi-");
    const dir = scene.dir;
    const [h, na, nb] = await scene.netns("h", "a", "b");
    const ta = linkName("ma"), tb = linkName("mb");
    await must("ip", ["-n", h, "tuntap", "add", "dev", ta, "mode", "tun"]);
    await must("ip", ["-n", h, "tuntap", "add", "dev", tb, "mode", "tun"]);
    const host = scene.spawnIn(h, Deno.execPath(), [
      "run",
      "--allow-ffi",
      "--allow-read",
      `${here}_multi_iface_host.ts`,
      ta,
      tb,
      `${dir}/go`,
      "192.0.2.2,198.51.100.2,2001:db8:2::2,fe80::2%0/8001,fe80::2%1",
    ]);
    await until("the stack to start", () => Promise.resolve(host.text().includes("ready")));
    await must("ip", ["-n", h, "link", "set", ta, "netns", na]);
    await must("ip", ["-n", h, "link", "set", tb, "netns", nb]);
    await shIn(
      na,
      `ip addr add 192.0.2.2/24 dev ${ta}; ip addr add 2001:db8:1::2/64 dev ${ta} nodad
       ip addr add fe80::2/64 dev ${ta} nodad; ip link set ${ta} up`,
    );
    await shIn(
      nb,
      `ip addr add 198.51.100.2/24 dev ${tb}; ip addr add 2001:db8:2::2/64 dev ${tb} nodad
       ip addr add fe80::2/64 dev ${tb} nodad
       ip link set ${tb} up; ip route add 192.0.2.0/24 dev ${tb}`,
    );
    const body = randomBytes(300_000);
    await Deno.writeFile(`${dir}/blob.bin`, body);
    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", body))]
      .map((x) => x.toString(16).padStart(2, "0")).join("");
    const serverA = httpServer(scene, na, { bind: "192.0.2.2", port: 8000 });
    const serverB = httpServer(scene, nb, { bind: "::", port: 8000 });
    // A's link-local address serves too, from a server of its own (its log tells them apart).
    const serverA6 = httpServer(scene, na, { bind: `fe80::2%${ta}`, port: 8001 });
    for (const ns of [na, nb]) await waitListening(ns, "t", 8000);
    await waitListening(na, "t", 8001);
    // Clients in A and B reach the wildcard echo listener through their own link.
    const echoA = await pyClient(na, "192.0.2.1", 7, "hello from A");
    assert.equal(echoA.stdout.trim(), "hello from A", echoA.stderr);
    const echoB = await pyClient(nb, "198.51.100.1", 7, "hello from B");
    assert.equal(echoB.stdout.trim(), "hello from B", echoB.stderr);
    const echoB6 = await pyClient(nb, "2001:db8:2::1", 7, "hello from B over IPv6");
    assert.equal(echoB6.stdout.trim(), "hello from B over IPv6", echoB6.stderr);
    // Strong host: B routes 192.0.2.0/24 onto its link, but the stack's interface there does
    // not answer for interface A's address.
    const cross = await pyClient(nb, "192.0.2.1", 9, "across");
    assert.notEqual(cross.code, 0, `reached 192.0.2.1:9 through B: ${cross.stdout}`);
    const viaA = await pyClient(na, "192.0.2.1", 9, "direct");
    assert.equal(viaA.stdout.trim(), "direct", viaA.stderr);
    // The stack fetches from each namespace.
    await Deno.writeTextFile(`${dir}/go`, "");
    await until("the fetches", () => Promise.resolve(host.text().includes("done")));
    const lines = host.text().split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const fetched = new Map(lines.filter((l) => l.fetched).map((l) => [l.fetched, l]));
    for (
      const [dst, local] of [
        ["192.0.2.2", "192.0.2.1"],
        ["198.51.100.2", "198.51.100.1"],
        ["2001:db8:2::2", "2001:db8:2::1"],
        ["fe80::2%0", "fe80::1"],
        ["fe80::2%1", "fe80::1"],
      ]
    ) {
      const f = fetched.get(dst);
      assert.ok(f, `no fetch from ${dst}: ${host.text()}`);
      assert.equal(f.status, "HTTP/1.0 200");
      assert.equal(f.local, local);
      assert.equal(f.bytes, body.length);
      assert.equal(f.sha256, sha);
    }
    assert.ok(fetched.get("192.0.2.2").mss > 1400, JSON.stringify(fetched.get("192.0.2.2")));
    assert.ok(
      fetched.get("198.51.100.2").mss <= 1240,
      JSON.stringify(fetched.get("198.51.100.2")),
    );
    assert.ok(
      fetched.get("2001:db8:2::2").mss <= 1220,
      JSON.stringify(fetched.get("2001:db8:2::2")),
    );
    // The zone picked the link: %1 took B's 1280-byte MTU, %0 A's.
    assert.ok(fetched.get("fe80::2%1").mss <= 1220, JSON.stringify(fetched.get("fe80::2%1")));
    assert.ok(fetched.get("fe80::2%0").mss > 1400, JSON.stringify(fetched.get("fe80::2%0")));
    const accepted = lines.filter((l) => l.accepted).map((l) => `${l.from}>${l.accepted}`);
    assert.deepEqual(accepted.sort(), [
      "192.0.2.2>192.0.2.1",
      "192.0.2.2>192.0.2.1",
      "198.51.100.2>198.51.100.1",
      "2001:db8:2::2>2001:db8:2::1",
    ]);
    // The servers saw each fetch from the stack's address on their own link.
    serverA.child.kill("SIGTERM");
    serverA6.child.kill("SIGTERM");
    serverB.child.kill("SIGTERM");
    const logA = (await serverA.out).stderr, logB = (await serverB.out).stderr;
    const logA6 = (await serverA6.out).stderr;
    // fe80::2%0 reached A's link-local server, fe80::2%1 B's: one fetch each.
    const fromLinkLocal = /^fe80::1 - - .*"GET \/blob\.bin HTTP\/1\.0" 200/gm;
    assert.equal(logA6.match(fromLinkLocal)?.length, 1, logA6);
    assert.equal(logB.match(fromLinkLocal)?.length, 1, logB);
    assert.match(logA, /^192\.0\.2\.1 - - .*"GET \/blob\.bin HTTP\/1\.0" 200/m);
    assert.match(logB, /198\.51\.100\.1 - - .*"GET \/blob\.bin HTTP\/1\.0" 200/m);
    assert.match(logB, /^2001:db8:2::1 - - .*"GET \/blob\.bin HTTP\/1\.0" 200/m);
    host.child.kill("SIGTERM");
    const text = (await host.out).stdout;
    const { counters } = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.ok(counters[1].notForUs > 0, "interface 1 dropped the SYNs for 192.0.2.1");
    assert.equal(counters[0].noRoute + counters[1].noRoute, 0);
    // Each interface carried at least one 300,000-byte download: over 200 frames received at MTU
    // 1500 or 1280 (receive coalescing merges them into fewer segments and acknowledges them
    // with fewer frames, so the frames sent are no measure of it).
    assert.ok(counters[0].rxFrames > 200 && counters[1].rxFrames > 200, text);
    assert.ok(counters[0].txFrames > 0 && counters[1].txFrames > 0, text);
  },
});
