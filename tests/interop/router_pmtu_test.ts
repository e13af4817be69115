// Path MTU discovery through examples/router.ts --offload, with a kernel TCP sender in a
// namespace the test creates. The router's outside TUN device is opened with MTU 1280; the kernel
// ends of both devices then have MTU 1500, so the inside host (I) and the outside server (O)
// agree on 1460-byte segments and the inside kernel hands the router super-frames of 1448-byte
// segments (TSO). Those segments do not fit the router's outside link: it must answer
// Fragmentation Needed / Packet Too Big with MTU 1280, which the inside kernel records (its
// route to the server then shows `mtu 1280`), and the upload must arrive whole over IPv4 (with
// NAT) and IPv6. Before the router knew each super-frame's segment size, it cut them to 1280
// unseen and the sender never learnt the path MTU. Skips with one line where the machine cannot.
import assert from "node:assert/strict";
import { linkName, must, run } from "../phy/_netns.ts";
import { canRun, interop, PY_PEER, reportSkip } from "./_kernel_peer.ts";
import { Scene, shIn, until, waitListening } from "./_fixtures.ts";

reportSkip("router_pmtu_test.ts");
const root = new URL("../../", import.meta.url).pathname;

/** python3: connects to HOST PORT, sends N random bytes, prints their SHA-256. */
const PY_UPLOAD = String.raw`
import hashlib, os, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(n)
s = socket.create_connection((host, port), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print(hashlib.sha256(data).hexdigest(), flush=True)
`;

Deno.test({
  name:
    "examples/router.ts --offload answers super-frames of too-big segments with Fragmentation Needed / Packet Too Big, and the kernel sender adapts",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited in finally
  sanitizeOps: false,
  ignore: !canRun,
  fn: async () => {
    await using scene = await Scene.create();
    const [r, i, o] = await scene.netns("r", "i", "o");
    const tin = linkName("pi"), tout = linkName("po");
    await must("ip", ["-n", r, "tuntap", "add", "dev", tin, "mode", "tun"]);
    await must("ip", ["-n", r, "tuntap", "add", "dev", tout, "mode", "tun"]);
    // The router reads each device's MTU when it opens it: 1280 outside.
    await must("ip", ["-n", r, "link", "set", tout, "mtu", "1280"]);
    const router = scene.spawnIn(r, Deno.execPath(), [
      "run",
      "--allow-ffi",
      `${root}examples/router.ts`,
      "--inside",
      tin,
      "--outside",
      tout,
      "--allow-documentation",
      "--offload",
    ]);
    await until("the router to start", () => Promise.resolve(router.text().includes("router:")));
    await must("ip", ["-n", r, "link", "set", tin, "netns", i]);
    await must("ip", ["-n", r, "link", "set", tout, "netns", o]);
    await shIn(
      i,
      `ip addr add 192.0.2.2/24 dev ${tin}; ip addr add 2001:db8:1::2/64 dev ${tin} nodad
       ip link set ${tin} up
       ip route add default via 192.0.2.1; ip -6 route add default via 2001:db8:1::1`,
    );
    // The server's end has MTU 1500: it advertises MSS 1460, so only the router's link is narrow.
    await shIn(
      o,
      `ip link set ${tout} mtu 1500
       ip addr add 198.51.100.2/24 dev ${tout}; ip addr add 2001:db8:2::2/64 dev ${tout} nodad
       ip link set ${tout} up
       ip -6 route add 2001:db8:1::/64 via 2001:db8:2::1`,
    );
    const bytes = 3 << 20;
    for (const [dst, port] of [["198.51.100.2", 5001], ["2001:db8:2::2", 5002]] as const) {
      const server = scene.spawnIn(o, "python3", ["-c", PY_PEER, "recv", String(port)]);
      await waitListening(o, "t", port);
      const up = await run("ip", [
        "netns",
        "exec",
        i,
        "python3",
        "-c",
        PY_UPLOAD,
        dst,
        String(port),
        String(bytes),
      ]);
      assert.equal(up.code, 0, `upload to ${dst}: ${up.stderr}`);
      const got = JSON.parse((await server.out).stdout.trim().split("\n").at(-1)!);
      assert.equal(got.bytes, bytes, dst);
      assert.equal(got.sha256, up.stdout.trim(), dst);
      // The inside kernel learnt the path MTU from the router's ICMP error.
      const route = await must("ip", ["-n", i, "route", "get", dst]);
      assert.match(route, /mtu 1280/, `${dst}: ${route}`);
    }
    router.child.kill("SIGTERM");
    const text = (await router.out).stdout;
    const stats = JSON.parse(text.trim().split("\n").at(-1)!);
    // Errors were sent, and after them the smaller segments crossed as super-frames, whole.
    assert.ok(stats.forward.tooBig >= 2, text);
    assert.ok(stats.forward.superFrames > 0, text);
  },
});
