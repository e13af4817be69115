// D-SACK generation (RFC 2883): a receiver reports a segment it got twice in the first SACK
// block of its next ACK, once.

import assert from "node:assert/strict";
import { bytes, established, fill, LOCAL_SEQ, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

function receiver(sack = true) {
  return established({ sack, rxBufferSize: 4096 }, { sackPermitted: sack });
}

Deno.test("TcpSocket reports a wholly duplicate segment in a D-SACK block, once (RFC 2883 §4)", () => {
  const h = receiver();
  assert.equal(h.send({ seq: R, ack: L, payload: fill(100) })?.ack, R + 100);
  const r = h.send({ seq: R, ack: L, payload: fill(100) }); // the sender resent it
  assert.deepStrictEqual([r?.ack, r?.sackBlocks], [R + 100, [[R, R + 100]]]);
  assert.equal(h.sock.info.dsacksSent, 1);
  // reported once: the next ACK has no D-SACK
  const next = h.send({ seq: R + 100, ack: L, payload: fill(10) });
  assert.deepStrictEqual([next?.ack, next?.sackBlocks], [R + 110, []]);
});

Deno.test("TcpSocket reports the already received front of a partly duplicate segment (RFC 2883 §4.1.2)", () => {
  const h = receiver();
  h.send({ seq: R, ack: L, payload: fill(100) });
  const r = h.send({ seq: R + 50, ack: L, payload: fill(100, 50) });
  assert.deepStrictEqual([r?.ack, r?.sackBlocks], [R + 150, [[R + 50, R + 100]]]);
});

Deno.test("TcpSocket reports a duplicate out-of-order segment first, then the block holding it (RFC 2883 §4.2)", () => {
  const h = receiver();
  h.send({ seq: R + 100, ack: L, payload: fill(100) });
  h.send({ seq: R + 300, ack: L, payload: fill(100) });
  const r = h.send({ seq: R + 100, ack: L, payload: fill(100) });
  assert.deepStrictEqual(r?.sackBlocks, [[R + 100, R + 200], [R + 100, R + 200], [
    R + 300,
    R + 400,
  ]]);
  const next = h.send({ seq: R + 500, ack: L, payload: bytes(1) });
  assert.equal(next?.sackBlocks[0]?.[0], R + 500); // the D-SACK went once
});

Deno.test("TcpSocket sends no D-SACK when SACK was not negotiated", () => {
  const h = receiver(false);
  h.send({ seq: R, ack: L, payload: fill(100) });
  const r = h.send({ seq: R, ack: L, payload: fill(100) });
  assert.deepStrictEqual([r?.ack, r?.sackBlocks, h.sock.info.dsacksSent], [R + 100, [], 0]);
});
