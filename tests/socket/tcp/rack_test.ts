// RACK-TLP (RFC 8985): time-based loss marking with a reordering window, the reorder timer,
// tail loss probes, lost retransmissions found without a timeout, and bad SACK input.

import assert from "node:assert/strict";
import type { SackBlock } from "../../../src/wire/tcp.ts";
import { establishedAfter, fill, LOCAL_SEQ, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const W = 4000;

/** A SACK sender whose handshake took 100 ms (SRTT = min RTT = 100, RTO 300), MSS 100. */
function sender(window = W) {
  return establishedAfter(
    100,
    { sack: true, txBufferSize: 8192, congestion: "newreno" },
    { mss: 100, window, sackPermitted: true },
    { window },
  );
}

/** A duplicate ACK at SND.UNA = L + `una` carrying `blocks` (offsets from L). */
function sackAck(una: number, ...blocks: [number, number][]) {
  return {
    seq: R,
    ack: L + una,
    window: W,
    sackBlocks: blocks.map(([l, r]) => [L + l, L + r] as SackBlock),
  };
}

Deno.test("TcpSocket with RACK waits out the reordering window once reordering was seen, then marks the hole lost (RFC 8985 §6.2)", () => {
  const h = sender();
  h.sock.send(fill(600));
  assert.equal(h.out().length, 6); // all sent at 100
  h.at(200);
  h.send(sackAck(0, [200, 300]));
  // segment 2 arrives after segment 3: it was reordered, not lost (RACK.reordering_seen)
  h.send(sackAck(0, [100, 300]));
  h.send(sackAck(0, [100, 600]));
  // five segments SACKed above segment 1, yet inside the window: nothing is resent
  h.expectNothing();
  assert.equal(h.pollAt, 225); // sent at 100 + RACK.rtt 100 + min_RTT/4
  h.at(224).expectNothing();
  h.at(225).expect({ seq: L, ack: R, payload: fill(100) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.retransmits, i.fastRetransmits, i.rtos, i.rackLost], [1, 1, 0, 1]);
});

Deno.test("TcpSocket with RACK does not retransmit a segment that arrives inside the reordering window", () => {
  const h = sender();
  h.sock.send(fill(600));
  h.out();
  h.at(200);
  h.send(sackAck(0, [100, 200]));
  h.send(sackAck(0, [100, 300]));
  h.expectNothing(); // two SACKed segments: the window is min_RTT/4
  assert.equal(h.pollAt, 225);
  h.at(220);
  h.send({ seq: R, ack: L + 300, window: W }); // segment 1 was only late
  h.at(225).expectNothing();
  h.send({ seq: R, ack: L + 600, window: W });
  const i = h.sock.info;
  assert.deepStrictEqual([i.retransmits, i.fastRetransmits, i.rackLost, i.cwnd > 1000], [
    0,
    0,
    0,
    true,
  ]);
});

/**
 * A sender that has seen segment 6 arrive after the five sent behind it (a reordering degree of
 * six segments, Linux `tp->reordering`), then sends segments 12.. (`count` of them) at 310.
 */
function reorderedSender(count: number) {
  const h = sender();
  h.sock.send(fill(600));
  h.out(); // segments 0-5 at 100
  h.at(200);
  h.send(sackAck(0, [100, 200])); // segment 1 before 0: reordering seen, two segments deep
  h.send({ seq: R, ack: L + 600, window: W });
  h.sock.send(fill(600, 600));
  assert.equal(h.out().length, 6); // segments 6-11 at 200
  h.at(300);
  h.send(sackAck(600, [700, 1200])); // five above segment 6: inside min_RTT/4, nothing resent
  h.at(310);
  h.send({ seq: R, ack: L + 1200, window: W }); // segment 6 was held back behind five
  h.expectNothing();
  h.sock.send(fill(100 * count, 1200));
  assert.equal(h.out().length, count); // segments 12.. at 310
  h.at(410);
  return h;
}

Deno.test("TcpSocket with RACK gives a segment one more SRTT while no more than the learnt reordering degree was delivered above it", () => {
  const h = reorderedSender(6);
  h.send(sackAck(1200, [1300, 1800])); // five above segment 12: no more than the six seen
  // RFC 8985 alone marks it lost at 310 + RACK.rtt 100 + min_RTT/4 = 435; it waits on.
  h.at(435).expectNothing();
  h.at(500);
  h.send({ seq: R, ack: L + 1800, window: W }); // held back 90 ms longer than the window
  h.expectNothing();
  const i = h.sock.info;
  assert.deepStrictEqual([i.fastRetransmits, i.retransmits, i.rackLost], [0, 0, 0]);
});

Deno.test("TcpSocket with RACK marks a segment lost at RFC 8985's time once more than the learnt reordering degree was delivered above it", () => {
  const h = reorderedSender(8);
  h.send(sackAck(1200, [1300, 2000])); // seven above segment 12: more than the six seen
  assert.equal(h.pollAt, 435);
  h.at(435).expect({ seq: L + 1200, ack: R, payload: fill(100, 1200) });
});

Deno.test("TcpSocket with SACK resends no more than was sent when the RTO fires with a window-limited flight", () => {
  const h = sender(50);
  h.sock.send(fill(600));
  h.expect({ seq: L, ack: R, payload: fill(50) }); // the peer's window takes 50 bytes
  h.expectNothing();
  // The peer's window has opened by now, but no ACK says so: the timeout resends the 50 bytes
  // sent, not a full segment past SND.MAX (whose ACK would then be refused as acknowledging
  // data never sent).
  h.at(h.pollAt).expect({ seq: L, ack: R, payload: fill(50) }); // the tail loss probe
  h.at(h.pollAt).expect({ seq: L, ack: R, payload: fill(50) }); // then the RTO
  assert.deepStrictEqual([h.sock.info.tlpProbes, h.sock.info.rtos], [1, 1]);
  h.send({ seq: R, ack: L + 50, window: W });
  assert.equal(h.sock.info.sndUna, L + 50);
});

Deno.test("TcpSocket with RACK finds a lost retransmission by time, without an RTO (RFC 8985 §6.2 step 5)", () => {
  const h = sender();
  h.sock.send(fill(1400));
  assert.equal(h.out().length, 10); // the initial window, sent at 100
  h.at(200);
  h.send(sackAck(0, [100, 400])); // segment 1 lost: three SACKed above it, window 0
  // the retransmission and, as PRR allows (RFC 6937: ⌈3 · 500 / 1000⌉ = 2 segments), new data
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [0, 1000]);
  h.at(210);
  h.send(sackAck(0, [100, 1000]));
  // pipe fell below ssthresh: more new data goes, sent after the retransmission
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [1100, 1200, 1300]);
  h.at(300);
  // the new data is SACKed, the retransmission of segment 1 is not: it was lost too
  h.send(sackAck(0, [100, 1400]));
  h.expect({ seq: L, ack: R, payload: fill(100) });
  h.at(400);
  h.send({ seq: R, ack: L + 1400, window: W });
  const i = h.sock.info;
  assert.deepStrictEqual([i.retransmits, i.rtos, i.inRecovery], [2, 0, false]);
});

Deno.test("TcpSocket resends a lost retransmission at 2·SRTT + 2 ms, not the RTO, when fast recovery is stalled by the peer's full window", () => {
  const h = sender(400); // the peer's window: four segments
  h.sock.send(fill(800));
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [0, 100, 200, 300]); // sent at 100
  h.at(200);
  // segment 1 lost: three SACKed above it; the window is full, so nothing new may follow the
  // retransmission, and RACK can never see the retransmission lost
  h.send({ ...sackAck(0, [100, 400]), window: 400 });
  h.expect({ seq: L, ack: R, payload: fill(100) });
  h.expectNothing();
  // the probe: 2·SRTT + 2 ms after the last ACK, before the RTO (200 + 300)
  assert.equal(h.pollAt, 402);
  h.at(401).expectNothing();
  h.at(402).expect({ seq: L, ack: R, payload: fill(100) });
  let i = h.sock.info;
  assert.deepStrictEqual(
    [i.retransmits, i.recoveryProbes, i.rtos, i.fastRetransmits, i.inRecovery],
    [2, 1, 0, 1, true],
  );
  // it arrives: recovery ends without a timeout, and new data flows
  h.at(502);
  h.send({ seq: R, ack: L + 400, window: 400 });
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [400, 500]);
  i = h.sock.info;
  assert.deepStrictEqual([i.rtos, i.inRecovery], [0, false]);
});

Deno.test("TcpSocket probes a stalled fast recovery once, then times out and backs off when nothing comes back", () => {
  const h = sender(400);
  h.sock.send(fill(800));
  h.out(); // sent at 100
  h.at(200);
  h.send({ ...sackAck(0, [100, 400]), window: 400 });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // the fast retransmit; the RTO is now 500
  h.at(402).expect({ seq: L, ack: R, payload: fill(100) }); // the probe restarts it: 702
  assert.equal(h.pollAt, 702); // no second probe without an ACK
  h.at(702).expect({ seq: L, ack: R, payload: fill(100) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.recoveryProbes, i.rtos, i.rto], [1, 1, 600]);
});

Deno.test("TcpSocket probes a fast recovery that PRR holds with only retransmissions in flight, though data waits and the window is open", () => {
  const h = sender();
  h.sock.send(fill(1400));
  assert.equal(h.out().length, 10); // cwnd-limited at 100: 400 bytes wait, the peer's window is open
  h.at(200);
  // segments 0-4 lost, 5-9 SACKed: all five resent, which fills ssthresh (500): PRR lets
  // nothing new go until an ACK, and only retransmissions are in flight
  h.send(sackAck(0, [500, 1000]));
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [0, 100, 200, 300, 400]);
  // nothing comes back: the probe 2·SRTT + 2 ms after the last send, not the RTO (200 + 300)
  assert.equal(h.pollAt, 402);
  h.at(402).expect({ seq: L, ack: R, payload: fill(100) });
  const i = h.sock.info;
  assert.deepStrictEqual(
    [i.recoveryProbes, i.rtos, i.fastRetransmits, i.inRecovery],
    [1, 0, 1, true],
  );
});

Deno.test("TcpSocket sends no probe in fast recovery while new data may still follow the retransmission", () => {
  const h = sender();
  h.sock.send(fill(1400));
  assert.equal(h.out().length, 10);
  h.at(200);
  h.send(sackAck(0, [100, 400]));
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [0, 1000]);
  // unsent data and room in the window: RACK finds a lost retransmission from what follows it
  assert.ok(h.pollAt >= 200 + 300, `next wake-up ${h.pollAt} is the RTO, not a probe`);
});

Deno.test("TcpSocket sends a tail loss probe instead of waiting for the RTO when the last segment is lost (RFC 8985 §7)", () => {
  const h = sender();
  h.sock.send(fill(300));
  assert.equal(h.out().length, 3); // sent at 100
  h.at(200);
  h.send({ seq: R, ack: L + 200, window: W }); // segment 3 lost: no ACK will ever mention it
  h.expectNothing();
  // PTO = 2·SRTT + 200 ms for a lone segment = 400, but never past the RTO (200 + 250)
  assert.equal(h.pollAt, 450);
  h.at(449).expectNothing();
  h.at(450).expect({ seq: L + 200, ack: R, payload: fill(100, 200), flags: 0x18 });
  let i = h.sock.info;
  assert.deepStrictEqual([i.tlpProbes, i.rtos, i.retransmits, i.recoveryProbes], [1, 0, 1, 0]);
  // the probe repaired the loss; one probe per episode, the RTO is the next resort
  h.at(550);
  h.send({ seq: R, ack: L + 300, window: W });
  h.sock.send(fill(100, 300));
  h.expect({ seq: L + 300, ack: R, payload: fill(100, 300), flags: 0x18 });
  const cwnd = h.sock.info.cwnd;
  h.at(650);
  h.send({ seq: R, ack: L + 400, window: W }); // beyond the probe: a loss was repaired
  i = h.sock.info;
  assert.deepStrictEqual([i.tlpRecoveries, i.rtos], [1, 0]);
  assert.ok(i.cwnd < cwnd, `cwnd ${i.cwnd} reduced from ${cwnd}`);
});

Deno.test("TcpSocket's tail loss probe sends new data when the peer's window allows it (RFC 8985 §7.3)", () => {
  const h = sender();
  h.sock.send(fill(1500));
  assert.equal(h.out().length, 10); // cwnd-limited: 500 bytes wait
  // no ACK of the flight comes back: the PTO armed at 100 fires after 2·SRTT + 2 ms
  assert.equal(h.pollAt, 302);
  h.at(302).expect({ seq: L + 1000, ack: R, payload: fill(100, 1000) });
  assert.deepStrictEqual([h.sock.info.tlpProbes, h.sock.info.retransmits], [1, 0]);
});

Deno.test("TcpSocket ignores and counts absurd SACK blocks and out-of-window D-SACK blocks", () => {
  const h = sender();
  h.sock.send(fill(600));
  h.out();
  h.at(200);
  const far = L - 100_000;
  h.send({
    seq: R,
    ack: L,
    window: W,
    sackBlocks: [[far, far + 100], [L + 500, L + 900], [L + 300, L + 200], [L + 100, L + 100]],
  });
  h.expectNothing();
  const i = h.sock.info;
  // a D-SACK far below SND.UNA; SACK of never-sent data; an inverted and an empty block
  assert.deepStrictEqual([i.dsackIgnored, i.sackBlocksIgnored, i.dsacksReceived], [1, 3, 0]);
  assert.deepStrictEqual([i.retransmits, i.rackLost, i.inRecovery], [0, 0, false]);
});

Deno.test("TcpSocket with SACK resends the whole flight at the new size after a Packet Too Big (RFC 1191 §6.4)", () => {
  const h = establishedAfter(
    100,
    { sack: true, txBufferSize: 16_384, rxBufferSize: 16_384 },
    { mss: 1460, window: 30_000, sackPermitted: true },
    { window: 30_000 },
  );
  h.sock.send(fill(6000));
  assert.equal(h.out().length, 5);
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 1280, seq: L });
  const again = h.out();
  assert.deepStrictEqual(again.map((s) => [s.seq - L, s.payload.length]), [
    [0, 1240],
    [1240, 1240],
    [2480, 1240],
    [3720, 1240],
    [4960, 1040],
  ]);
  const i = h.sock.info;
  assert.deepStrictEqual([i.retransmits, i.rtos, i.fastRetransmits, i.cwnd], [5, 0, 0, 14_600]);
  h.at(200);
  h.send({ seq: R, ack: L + 6000, window: 30_000 });
  assert.equal(h.sock.info.inRecovery, false);
  h.expectNothing();
});
