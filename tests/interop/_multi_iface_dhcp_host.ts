// The smolnet side of multi_interface_dhcp_test.ts, run inside the test's host namespace: one
// NetStack on two TAP devices, both with `addresses: "auto"` (DHCPv4 only; interface 1 at
// metric 5). It prints "ready", waits for both leases and prints them as one JSON line, then
// connects to port 9 of each DHCP server's address (the kernel refuses: the reset proves the
// path back to the leased address) and to 203.0.113.9 (off both links: the default route with
// the lower metric, interface 1, whose server refuses too), printing one JSON line each, then
// "done". It exits on SIGTERM.
import { NetStack, TunTapDevice } from "../../mod.ts";

const [nameA, nameB] = Deno.args;
const a = await TunTapDevice.open({ name: nameA!, mode: "tap" });
const b = await TunTapDevice.open({ name: nameB!, mode: "tap" });
const stack = new NetStack({
  device: a,
  addresses: "auto",
  autoconf: { ipv6: false },
  metric: 10,
});
stack.addInterface({ device: b, addresses: "auto", autoconf: { ipv6: false }, metric: 5 });
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
console.log("ready");
const [auto0, auto1] = [stack.interfaceAutoconf(0)!, stack.interfaceAutoconf(1)!];
await Promise.all([auto0.configured, auto1.configured]);
console.log(JSON.stringify({
  leases: [auto0.lease?.address.toString(), auto1.lease?.address.toString()],
  servers: [auto0.lease?.serverIdentifier?.toString(), auto1.lease?.serverIdentifier?.toString()],
}));
for (const hostname of ["192.0.2.1", "198.51.100.1", "203.0.113.9"]) {
  const result = await stack.connect({ hostname, port: 9 }).then(
    (c) => {
      c.close();
      return "connected";
    },
    (e: Error) => e.name,
  );
  console.log(JSON.stringify({ to: hostname, result }));
}
console.log("done");
