/**
 * The slow-start overshoot into a bottleneck queue, in virtual time: a 20 ms RTT path at
 * 100 Mbit/s (a 250 KB bandwidth-delay product) with a 1 MiB drop-tail queue, one 4 MiB upload
 * with CUBIC and the default buffers. Without HyStart++ slow start doubles the window until the
 * queue overflows; with it (RFC 9406, the default) the rise in RTT moves the sender to
 * Conservative Slow Start first, so far fewer segments are dropped and resent.
 */

import assert from "node:assert/strict";
import { Simulator, twoNodes } from "./sim.ts";
import { startBulk } from "./bulk.ts";

function upload(hystart: boolean, timestamps = true) {
  const sim = new Simulator(8);
  const pair = twoNodes(sim, { latency: 10, bandwidth: 100_000_000, queueBytes: 1 << 20 });
  const bulk = startBulk(pair, {
    aToB: 4 << 20,
    socket: { congestion: "cubic", hystart, timestamps },
  });
  sim.runOrFail(bulk.done, 60_000, `upload, hystart ${hystart}`);
  assert.equal(bulk.a.sentDigest(), bulk.b.receivedDigest());
  const i = bulk.a.socket.info;
  return {
    ms: bulk.b.sink.doneAt - bulk.a.establishedAt,
    drops: pair.link.ab.droppedQueue,
    retransmits: i.retransmits,
    exits: i.hystartExits,
    cssRounds: i.hystartCssRounds,
  };
}

Deno.test("HyStart++ ends slow start before a 1 MiB bottleneck queue overflows as far: fewer drops, no slower", () => {
  const off = upload(false);
  const on = upload(true);
  console.log(`hystart off: ${JSON.stringify(off)}\nhystart on:  ${JSON.stringify(on)}`);
  assert.equal(off.exits, 0);
  assert.equal(on.exits, 1);
  assert.ok(on.cssRounds >= 1);
  // Measured: 588 queue drops and 664 retransmissions without, 104 and 105 with.
  assert.ok(off.drops > 300, `${off.drops} drops without HyStart++`);
  assert.ok(on.drops * 3 < off.drops, `${on.drops} drops with HyStart++, ${off.drops} without`);
  assert.ok(on.retransmits * 3 < off.retransmits);
  assert.ok(on.ms <= off.ms * 1.05, `${on.ms} ms with HyStart++, ${off.ms} without`);
});

Deno.test("Without timestamps HyStart++ still ends slow start, on RACK's per-ACK RTT samples", () => {
  const off = upload(false, false);
  const on = upload(true, false);
  console.log(
    `no timestamps, hystart off: ${JSON.stringify(off)}\nhystart on:  ${JSON.stringify(on)}`,
  );
  assert.equal(off.exits, 0);
  assert.equal(on.exits, 1);
  // Measured: 576 queue drops and 640 retransmissions without, 99 and 100 with (before RACK's
  // samples fed it, HyStart++ never reached 8 samples a round: the same 576 and 640).
  assert.ok(on.drops * 3 < off.drops, `${on.drops} drops with HyStart++, ${off.drops} without`);
  assert.ok(on.retransmits * 3 < off.retransmits);
  assert.ok(on.ms <= off.ms * 1.05, `${on.ms} ms with HyStart++, ${off.ms} without`);
});
