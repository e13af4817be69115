import assert from "node:assert/strict";
import { IfaceCore } from "../../src/iface/iface_state.ts";
import { NeighborCache } from "../../src/iface/neighbor.ts";
import { Reassembler } from "../../src/iface/reassembly.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { EthernetAddress } from "../../src/wire/mac.ts";
import { Rng } from "../../src/rand.ts";
import { TokenBucket } from "../../src/socket/context.ts";

function core(): IfaceCore {
  return new IfaceCore({
    medium: "ip",
    hw: EthernetAddress.ZERO,
    rng: new Rng(1),
    isnSecret: new Uint8Array(16),
    hopLimit: 64,
    icmpEchoReply: true,
    neighbors: new NeighborCache(),
    reasm4: new Reassembler(4),
    reasm6: new Reassembler(6),
    icmpLimiter: new TokenBucket({ burst: 10, interval: 1000 }),
    announce: false,
  });
}

Deno.test("IfaceCore.ipv4At reads the address at an offset and hands out the same object while it repeats", () => {
  const c = core();
  const b = new Uint8Array([0, 192, 0, 2, 1, 192, 0, 2, 2, 198, 51, 100, 7, 0, 0, 0, 0]);
  const s = c.ipv4At(b, 1), d = c.ipv4At(b, 5);
  assert.equal(s.toString(), "192.0.2.1");
  assert.equal(d.toString(), "192.0.2.2");
  // A flow's source and destination alternate: both stay cached.
  for (let i = 0; i < 3; i++) {
    assert.equal(c.ipv4At(b, 1), s);
    assert.equal(c.ipv4At(b, 5), d);
  }
  // A third address evicts the older of the two; every answer keeps the right value.
  const third = c.ipv4At(b, 9);
  assert.equal(third.toString(), "198.51.100.7");
  assert.equal(c.ipv4At(b, 9), third);
  assert.equal(c.ipv4At(b, 5), d); // the most recent of the first two is still there
  const again = c.ipv4At(b, 1);
  assert.equal(again.toString(), "192.0.2.1");
  assert.equal(again.equals(s), true);
  assert.equal(c.ipv4At(b, 13).equals(Ipv4Address.UNSPECIFIED), true);
});
