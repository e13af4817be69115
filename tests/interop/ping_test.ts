// ICMP echo both ways between smolnet and the Linux kernel, IPv4 and IPv6, over TUN and TAP (on
// TAP the kernel resolves us by ARP and NDP and we resolve it). Kernel → smolnet: `ping` in the
// namespace, answered by a NetStack's Interface. smolnet → kernel: the async layer has no ICMP
// API, so a core Interface + IcmpSocket is polled directly, as examples/ping.ts does.
import assert from "node:assert/strict";
import { Interface, SocketSet } from "../../src/iface/mod.ts";
import { IcmpSocket } from "../../src/socket/mod.ts";
import { parseIpAddress } from "../../src/wire/mod.ts";
import {
  driveCore,
  interop,
  KERNEL_V4,
  KERNEL_V6,
  KernelPeer,
  reportSkip,
  STACK_MAC,
  STACK_V4,
  STACK_V6,
} from "./_kernel_peer.ts";

reportSkip("ping_test.ts");

const COUNT = 10;

/** "min/avg ms" from ping's summary line. */
function minAvg(out: string): string {
  const m = /= ([\d.]+)\/([\d.]+)\//.exec(out);
  assert.ok(m !== null, out);
  return `${m[1]}/${m[2]} ms`;
}

for (const mode of ["tun", "tap"] as const) {
  Deno.test({
    name: `interop: the kernel pings smolnet over ${mode.toUpperCase()}, IPv4 and IPv6`,
    ...interop,
    fn: async () => {
      await using peer = await KernelPeer.create({ mode, ipv6: true });
      const stack = peer.stack({ ipv6: true });
      const rtts: string[] = [];
      for (const target of [STACK_V4, STACK_V6]) {
        const r = await peer.exec("ping", [
          "-c",
          String(COUNT),
          "-i",
          "0.05",
          "-W",
          "2",
          "-s",
          "1000",
          target,
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(` ${COUNT} received`));
        rtts.push(`${target} min/avg ${minAvg(r.stdout)}`);
      }
      if (mode === "tap") {
        assert.match(await peer.must("ip", ["-4", "neigh", "show", STACK_V4]), /02:00:5e:00:53:02/);
        assert.match(await peer.must("ip", ["-6", "neigh", "show", STACK_V6]), /02:00:5e:00:53:02/);
      }
      assert.equal(stack.iface.counters.malformed, 0);
      assert.equal(stack.iface.counters.badChecksum, 0);
      console.log(`kernel → smolnet over ${mode}: ${rtts.join(", ")}`);
    },
  });

  Deno.test({
    name: `interop: smolnet pings the kernel over ${mode.toUpperCase()}, IPv4 and IPv6`,
    ...interop,
    fn: async () => {
      await using peer = await KernelPeer.create({ mode, ipv6: true });
      const iface = new Interface({
        medium: peer.device.capabilities.medium,
        addresses: [`${STACK_V4}/24`, `${STACK_V6}/64`],
        ...(mode === "tap" ? { hardwareAddr: STACK_MAC } : {}),
      });
      const sockets = new SocketSet();
      const icmp = new IcmpSocket();
      iface.bindIcmp(sockets, icmp);
      const summary: string[] = [];
      for (const target of [KERNEL_V4, KERNEL_V6]) {
        const addr = parseIpAddress(target);
        const data = new Uint8Array(1000).map((_, i) => i);
        const rx = new Uint8Array(2000);
        const sentAt = new Map<number, number>();
        const rtts: number[] = [];
        let seq = 0;
        let next = 0;
        const done = await driveCore(peer.device, iface, sockets, (now) => {
          for (let r = icmp.recv(rx); r !== null; r = icmp.recv(rx)) {
            const at = sentAt.get(r.seq);
            assert.equal(r.kind, "echoReply", JSON.stringify(r.error));
            assert.equal(r.remote.toString(), addr.toString());
            assert.deepEqual(rx.subarray(0, r.length), data);
            if (at !== undefined) {
              rtts.push(performance.now() - at);
              sentAt.delete(r.seq);
            }
          }
          if (seq < COUNT && now >= next) {
            assert.ok(icmp.sendEcho(addr, seq, data));
            sentAt.set(seq++, now);
            next = now + 50;
          }
          return rtts.length === COUNT;
        }, 5000);
        assert.ok(done, `${rtts.length} of ${COUNT} replies from ${target}`);
        const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
        summary.push(
          `${target} min/avg ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)} ms ` +
            `(first ${rtts[0]!.toFixed(3)} ms)`,
        );
      }
      if (mode === "tap") {
        assert.ok(iface.neighbors.size >= 2, "ARP and NDP entries for the kernel");
      }
      assert.equal(iface.counters.malformed, 0);
      console.log(`smolnet → kernel over ${mode}: ${summary.join(", ")}`);
    },
  });
}
