// Segment size against the MTU (RFC 6691, RFC 9293 §3.7.1): the payload of every segment fits
// the effective MSS minus the TCP options that segment actually carries (timestamps and SACK
// blocks), and no segment the socket builds exceeds the interface's IP MTU.

import assert from "node:assert/strict";
import { tcpBufferLen, type TcpRepr } from "../../../src/wire/tcp.ts";
import { ACK, established, fill, FIN, LOCAL_SEQ, PSH, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const TS = { tsVal: 1, tsEcr: 9 };

/** IPv4 packet length of a segment. */
function ipLen(s: TcpRepr): number {
  return 20 + tcpBufferLen(s);
}

/** An established connection with SACK and timestamps, peer MSS 1460, 1500-byte IP MTU. */
function sackTs(window = 30_000) {
  return established(
    { sack: true, timestamps: true, timestampOffset: 9, txBufferSize: 32_768 },
    { mss: 1460, window, sackPermitted: true, timestamp: { tsVal: 1, tsEcr: 0 } },
    { window, timestamp: TS },
  );
}

/** Out-of-order segments from the peer, so that our segments carry `n` SACK blocks. */
function holes(h: ReturnType<typeof sackTs>, n: number): void {
  for (let i = 0; i < n; i++) {
    const r = h.send({
      seq: R + 4 + 4 * i,
      ack: L,
      window: 30_000,
      payload: fill(1),
      timestamp: TS,
    });
    assert.equal(r?.sackBlocks.length, i + 1);
  }
}

Deno.test("TcpSocket shortens data segments that carry SACK blocks to fit the MSS (RFC 6691)", () => {
  for (const blocks of [1, 2, 3]) {
    const h = sackTs();
    holes(h, blocks);
    h.sock.send(fill(3000));
    const segs = h.out();
    const room = 1460 - 12 - (4 + 8 * blocks); // MSS − timestamps − SACK blocks
    assert.deepStrictEqual(
      segs.map((s) => [s.sackBlocks.length, s.payload.length]),
      [[blocks, room], [blocks, room], [blocks, 3000 - 2 * room]],
      `${blocks} SACK blocks`,
    );
    for (const s of segs) assert.ok(ipLen(s) <= 1500, `${ipLen(s)} bytes with ${blocks} blocks`);
    assert.equal(ipLen(segs[0]!), 1500);
  }
});

Deno.test("TcpSocket shortens a retransmission when SACK blocks appeared since the original (RFC 6691)", () => {
  const h = sackTs();
  h.sock.send(fill(1448));
  h.expect({
    flags: ACK | PSH,
    seq: L,
    ack: R,
    payload: fill(1448),
    timestamp: { tsVal: 9, tsEcr: 1 },
  });
  h.at(100);
  holes(h, 1);
  // RFC 8985 §7.3: the tail loss probe goes first (2·SRTT + 200 ms for a lone segment), with the
  // last 1436 bytes (MSS less the block)
  h.at(200);
  assert.deepStrictEqual(
    h.out().map((s) => [s.seq - L, s.payload.length, s.sackBlocks.length, s.flags]),
    [[12, 1436, 1, ACK | PSH]],
  );
  // RFC 6298 §5.4: the RTO resends from SND.UNA, now with a SACK block, so 12 bytes less; the
  // other 12 bytes follow within the one-segment loss window.
  h.at(1000);
  const segs = h.out();
  assert.deepStrictEqual(
    segs.map((s) => [s.seq - L, s.payload.length, s.sackBlocks.length, s.flags]),
    [[0, 1436, 1, ACK], [1436, 12, 1, ACK | PSH]],
  );
  assert.equal(ipLen(segs[0]!), 1500);
});

Deno.test("TcpSocket keeps every segment within the IP MTU when the MTU is below the peer's MSS", () => {
  // We announced 9000 (explicit option) and so did the peer; the interface MTU is 1500.
  const h = established(
    { mss: 9000, txBufferSize: 32_768 },
    { mss: 9000, window: 30_000 },
    { window: 30_000 },
  );
  h.sock.send(fill(4000));
  h.sock.close();
  const segs = h.out();
  assert.deepStrictEqual(segs.map((s) => s.payload.length), [1460, 1460, 1080]);
  assert.equal(segs[2]!.flags, ACK | PSH | FIN);
  // the MTU drops (a new route, or path MTU discovery): later segments follow it
  h.ipMtu = 1280;
  h.at(1000);
  const [rtx] = h.out();
  assert.deepStrictEqual([rtx?.seq, rtx?.payload.length, rtx?.flags], [L, 1240, ACK]);
  for (const s of [...segs, rtx!]) assert.ok(ipLen(s) <= 1500);
});

Deno.test("TcpSocket keeps the FIN and the SACK-recovery retransmissions within the MSS", () => {
  const h = sackTs();
  holes(h, 3);
  h.sock.send(fill(10 * 1420));
  h.sock.close();
  const segs = h.out();
  assert.equal(segs.length, 10);
  assert.ok(segs.every((s) => s.payload.length === 1420 && s.sackBlocks.length === 3));
  assert.equal(segs[9]!.flags, ACK | PSH | FIN);
  // the first and third segments are lost; the peer SACKs the rest (RFC 6675 recovery)
  const sacks = (hi: number): [number, number][] => [[L + 3 * 1420, L + hi * 1420], [
    L + 1420,
    L + 2 * 1420,
  ]];
  for (const hi of [5, 7, 10]) {
    h.send({ seq: R, ack: L, window: 30_000, timestamp: TS, sackBlocks: sacks(hi) });
  }
  const rtx = h.out();
  assert.deepStrictEqual(rtx.map((s) => [s.seq - L, s.payload.length]), [[0, 1420], [2840, 1420]]);
  for (const s of [...segs, ...rtx]) assert.ok(ipLen(s) <= 1500, `${ipLen(s)} bytes`);
});
