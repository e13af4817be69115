// Accept-any on the second interface of one NetStack against the kernel: _multi_iface_any_host.ts
// runs the stack on two TUN devices in a host namespace (H) the test creates; their kernel ends
// move into namespace A (192.0.2.2/24) and namespace B (198.51.100.2/24, 203.0.113.2 on its
// loopback, and a route to 192.0.2.0/24 through its TUN).
// A python client in B connects from 203.0.113.2 to 192.0.2.80:7 and sends a UDP datagram to
// 192.0.2.53:53: interface 1 terminates both (the original destinations reach the application)
// and echoes them back, although the stack's route table would send 203.0.113.2 out of interface
// 0 (a /25 through A): replies leave where the flow came in, and A sees none of it. A client in A
// cannot reach 192.0.2.80 (interface 0 is not in accept-any mode). Skips with one line where the
// machine cannot run interop tests.
import assert from "node:assert/strict";
import { linkName, must, run } from "../phy/_netns.ts";
import { canRun, interop, reportSkip } from "./_kernel_peer.ts";
import { Scene, shIn, until } from "./_fixtures.ts";

reportSkip("multi_interface_any_test.ts");
const here = new URL(".", import.meta.url).pathname;

/** A python3 client in `ns` from `src`: TCP echo of `msg` to host:7, then UDP to host2:53. */
function pyClient(ns: string, src: string, tcpHost: string, udpHost: string) {
  const code = `import socket
s=socket.create_connection((${JSON.stringify(tcpHost)},7),timeout=3,source_address=(${
    JSON.stringify(src)
  },0))
s.sendall(b"over tcp");s.shutdown(socket.SHUT_WR)
d=b""
while True:
  c=s.recv(4096)
  if not c: break
  d+=c
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind((${JSON.stringify(src)},0));u.settimeout(3)
u.sendto(b"over udp",(${JSON.stringify(udpHost)},53))
e,f=u.recvfrom(4096)
print(d.decode()+"|"+e.decode()+"|"+f[0])`;
  return run("ip", ["netns", "exec", ns, "python3", "-c", code]);
}

Deno.test({
  name:
    "NetStack accept-any on its second TUN interface terminates kernel flows to any address and answers through that interface",
  ...interop,
  sanitizeResources: false, // the children's pipes are awaited by the scene
  sanitizeOps: false,
  ignore: !canRun,
  fn: async () => {
    await using scene = await Scene.create("smolnet-mia-");
    const [h, na, nb] = await scene.netns("h", "a", "b");
    const ta = linkName("aa"), tb = linkName("ab");
    await must("ip", ["-n", h, "tuntap", "add", "dev", ta, "mode", "tun"]);
    await must("ip", ["-n", h, "tuntap", "add", "dev", tb, "mode", "tun"]);
    const host = scene.spawnIn(h, Deno.execPath(), [
      "run",
      "--allow-ffi",
      "--allow-read",
      `${here}_multi_iface_any_host.ts`,
      ta,
      tb,
    ]);
    await until("the stack to start", () => Promise.resolve(host.text().includes("ready")));
    await must("ip", ["-n", h, "link", "set", ta, "netns", na]);
    await must("ip", ["-n", h, "link", "set", tb, "netns", nb]);
    await shIn(na, `ip addr add 192.0.2.2/24 dev ${ta}; ip link set ${ta} up`);
    await shIn(
      nb,
      `ip addr add 198.51.100.2/24 dev ${tb}; ip link set ${tb} up
       ip addr add 203.0.113.2/32 dev lo; ip route add 192.0.2.0/24 dev ${tb}`,
    );
    const viaB = await pyClient(nb, "203.0.113.2", "192.0.2.80", "192.0.2.53");
    assert.equal(viaB.stdout.trim(), "over tcp|over udp|192.0.2.53", viaB.stderr);
    // Interface 0 is not in accept-any mode: A's connection to 192.0.2.80 goes unanswered.
    const viaA = await run("ip", [
      "netns",
      "exec",
      na,
      "python3",
      "-c",
      `import socket;socket.create_connection(("192.0.2.80",7),timeout=1)`,
    ]);
    assert.notEqual(viaA.code, 0, "192.0.2.80 was reached through interface 0");
    host.child.kill("SIGTERM");
    const text = (await host.out).stdout;
    const lines = text.trim().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l)
    );
    const tcp = lines.find((l) => l.tcp);
    assert.deepEqual(tcp, { tcp: "192.0.2.80:7", from: "203.0.113.2", iface: 1 }, text);
    assert.deepEqual(lines.find((l) => l.udp), { udp: "192.0.2.53:53", iface: 1 }, text);
    assert.equal(lines.filter((l) => l.tcp || l.udp).length, 2, text);
    const { counters, acceptAny } = lines.at(-1)!;
    assert.equal(acceptAny.flowsOpened, 2, text);
    // Nothing of the flows left through interface 0 (its route to 203.0.113.2): A only got the
    // kernel's own traffic answered by nobody, i.e. interface 0 sent nothing at all.
    assert.equal(counters[0].txFrames, 0, text);
    assert.ok(counters[0].notForUs >= 1, text); // A's SYN to 192.0.2.80
  },
});
