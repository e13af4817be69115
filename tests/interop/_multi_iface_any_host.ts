// The smolnet side of multi_interface_any_test.ts, run inside the test's host namespace: one
// NetStack on two TUN devices, interface 0 (192.0.2.1/24) plain, interface 1 (198.51.100.1/24,
// a route to 203.0.113.0/24 on its link) in accept-any mode; interface 0 also routes
// 203.0.113.0/25 to 192.0.2.2, so the stack's route table sends 203.0.113.2 out of interface 0.
// It echoes every TCP connection and UDP flow its transparent listeners take, printing one JSON
// line per connection or flow (original destination, client, interface), and prints "ready".
// On SIGTERM it prints both interfaces' counters and interface 1's accept-any counters as its last
// line and exits.
import { NetStack, TunTapDevice } from "../../mod.ts";

const [nameA, nameB] = Deno.args;
const a = await TunTapDevice.open({ name: nameA!, mode: "tun" });
const b = await TunTapDevice.open({ name: nameB!, mode: "tun" });
const stack = new NetStack({
  device: a,
  addresses: ["192.0.2.1/24"],
  iface: { routes: [{ cidr: "203.0.113.0/25", via: "192.0.2.2" }] },
});
stack.addInterface({
  device: b,
  addresses: ["198.51.100.1/24"],
  routes: [{ cidr: "203.0.113.0/24" }],
  acceptAny: { allowDocumentation: true },
});
Deno.addSignalListener("SIGTERM", () => {
  console.log(JSON.stringify({
    counters: [stack.interfaceCounters(0), stack.interfaceCounters(1)],
    acceptAny: stack.acceptAnyCounters(1),
  }));
  Deno.exit(0);
});

void (async () => {
  for await (const conn of stack.listen({ transparent: true })) {
    console.log(JSON.stringify({
      tcp: `${conn.localAddr.hostname}:${conn.localAddr.port}`,
      from: conn.remoteAddr.hostname,
      iface: stack.interfaceOf(conn),
    }));
    void (async () => {
      const buf = new Uint8Array(4096);
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        await conn.write(buf.subarray(0, n));
      }
      conn.close();
    })();
  }
})();
void (async () => {
  for await (const flow of stack.listenDatagram({ transparent: true })) {
    console.log(JSON.stringify({
      udp: `${flow.addr.hostname}:${flow.addr.port}`,
      iface: stack.interfaceOf(flow),
    }));
    void (async () => {
      for await (const [data, from] of flow) await flow.send(data, from);
    })().catch(() => {});
  }
})();
console.log("ready");
