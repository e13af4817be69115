/**
 * TCP under bench:loss's reordering without drop, in virtual time: 5 % of frames, both ways, are
 * held until 8 later frames of the same direction have passed (or 2 ms), on a 0.2 ms RTT path at
 * 400 Mbit/s. A frame held that long arrives more than an SRTT late, past the widest reordering
 * window RACK allows (RFC 8985 §6.2: at most SRTT), so fast retransmits are spurious; D-SACK must
 * undo them, and nothing may end in a retransmission timeout.
 */

import assert from "node:assert/strict";
import { Simulator, twoNodes } from "./sim.ts";
import { startBulk } from "./bulk.ts";

for (const seed of [1, 2]) {
  Deno.test(`TCP with 5 % of frames held until 8 later ones pass (no loss) completes without a timeout and undoes its spurious recoveries (seed ${seed})`, () => {
    const sim = new Simulator(seed);
    const pair = twoNodes(sim, {
      latency: 0.1,
      bandwidth: 400_000_000,
      queueBytes: 1 << 20,
      reorder: 0.05,
      reorderDepth: 8,
      reorderDelay: 2,
    });
    const bulk = startBulk(pair, { aToB: 4 * 1024 * 1024 });
    sim.runOrFail(bulk.done, 60_000, "reordered transfer");
    const i = bulk.a.socket.info;
    console.log(
      `seed ${seed}: ${pair.link.ab.reordered + pair.link.ba.reordered} held, fast retransmits ` +
        `${i.fastRetransmits}, undone ${i.spuriousUndos}, D-SACKs ${i.dsacksReceived}, rtos ${i.rtos}`,
    );
    assert.equal(bulk.a.sentDigest(), bulk.b.receivedDigest(), `seed ${seed}`);
    assert.equal(pair.link.ab.lost + pair.link.ba.lost, 0);
    assert.ok(pair.link.ab.reordered > 50 && pair.link.ba.reordered > 50);
    assert.equal(i.rtos, 0, `seed ${seed}: retransmission timeouts without loss`);
    assert.ok(i.fastRetransmits > 0, "holds beyond SRTT look like losses to RACK");
    assert.ok(
      i.spuriousUndos >= 0.9 * i.fastRetransmits,
      `seed ${seed}: ${i.spuriousUndos} of ${i.fastRetransmits} spurious recoveries undone`,
    );
  });
}
