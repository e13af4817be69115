import assert from "node:assert/strict";
import { IcmpSocket } from "../../src/socket/icmp.ts";
import { parseIpAddress } from "../../src/wire/address.ts";
import { pair, run } from "./helpers.ts";

for (const medium of ["ethernet", "ip"] as const) {
  for (const target of ["192.0.2.", "2001:db8::"]) {
    const v = target.includes(":") ? 6 : 4;
    Deno.test(`Interface pings both ways over IPv${v} on the ${medium} medium`, () => {
      const [a, b] = pair(medium);
      for (const [from, _to, n] of [[a, b, 2], [b, a, 1]] as const) {
        const ping = new IcmpSocket();
        from.iface.bindIcmp(from.sockets, ping, 0x4242);
        const data = new TextEncoder().encode(`hello from ${n}`);
        ping.sendEcho(parseIpAddress(`${target}${n}`), 7, data);
        run([a, b], 0, 5);
        const buf = new Uint8Array(64);
        const r = ping.recv(buf);
        assert.ok(r !== null, "no echo reply");
        assert.equal(r.kind, "echoReply");
        assert.equal(r.seq, 7);
        assert.equal(r.remote.toString(), `${target}${n}`);
        assert.deepEqual(buf.subarray(0, r.length), data);
        from.sockets.remove(from.sockets.handleOf(ping)!);
      }
      assert.deepEqual(a.iface.counters.snapshot(), {});
      assert.deepEqual(b.iface.counters.snapshot(), {});
    });
  }
}
