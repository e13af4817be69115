// Undo of spurious recovery (Linux tcp_try_undo_*): D-SACK (RFC 2883, RFC 3708) shows a fast
// retransmission was a duplicate; a timestamp echo older than the retransmission (Eifel,
// RFC 3522) shows an RTO was spurious. The window from before the reduction comes back.

import assert from "node:assert/strict";
import { resolveOptions } from "../../../src/socket/tcp/config.ts";
import { TcpConn } from "../../../src/socket/tcp/conn.ts";
import { undoBegin } from "../../../src/socket/tcp/undo.ts";
import type { SackBlock } from "../../../src/wire/tcp.ts";
import { ACK, establishedAfter, fill, LOCAL_SEQ, PSH, REMOTE_SEQ } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const W = 4000;
const TS_OFF = 1000;

function sackSender() {
  return establishedAfter(
    100,
    { sack: true, txBufferSize: 8192 },
    { mss: 100, window: W, sackPermitted: true },
    { window: W },
  );
}

/** SACK and timestamps; our TSval is now + 1000, the peer echoes what we sent. */
function tsSender() {
  return establishedAfter(
    100,
    { sack: true, timestamps: true, timestampOffset: TS_OFF, txBufferSize: 8192 },
    { mss: 112, window: W, sackPermitted: true, timestamp: { tsVal: 1, tsEcr: 0 } },
    { window: W, timestamp: { tsVal: 2, tsEcr: TS_OFF } },
  );
}

function blocks(...b: [number, number][]): SackBlock[] {
  return b.map(([l, r]) => [L + l, L + r]);
}

Deno.test("TcpSocket undoes a fast retransmit that a D-SACK shows was spurious (RFC 3708)", () => {
  const h = sackSender();
  h.sock.send(fill(600));
  assert.equal(h.out().length, 6);
  const before = h.sock.info;
  const [cwnd, ssthresh] = [before.cwnd, before.ssthresh];
  h.at(200);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 400]) });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // three SACKed above: deemed lost
  assert.ok(h.sock.info.ssthresh < ssthresh);
  h.at(210);
  h.send({ seq: R, ack: L + 600, window: W }); // the original was only late
  assert.ok(h.sock.info.cwnd < cwnd);
  h.at(300);
  // the retransmission arrives as a duplicate: the peer reports it in a D-SACK block
  h.send({ seq: R, ack: L + 600, window: W, sackBlocks: blocks([0, 100]) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.dsacksReceived, i.inRecovery], [1, 1, false]);
  assert.deepStrictEqual([i.cwnd, i.ssthresh], [cwnd, ssthresh]);
});

Deno.test("TcpSocket takes the D-SACK of an old ACK that arrives behind a newer one, and undoes the spurious fast retransmit", () => {
  const h = sackSender();
  h.sock.send(fill(600));
  assert.equal(h.out().length, 6);
  const before = h.sock.info;
  const [cwnd, ssthresh] = [before.cwnd, before.ssthresh];
  h.at(200);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 400]) });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // deemed lost: it was only held back
  h.at(300);
  // The peer got the original, then the retransmission: ACK 100 with a D-SACK for [0, 100), then
  // ACK 600. The path (as bench:loss's relay) delivers the second first.
  h.send({ seq: R, ack: L + 600, window: W });
  assert.equal(h.sock.info.spuriousUndos, 0);
  h.send({ seq: R, ack: L + 100, window: W, sackBlocks: blocks([0, 100], [100, 400]) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.dsacksReceived, i.inRecovery], [1, 1, false]);
  assert.deepStrictEqual([i.cwnd, i.ssthresh], [cwnd, ssthresh]);
  h.expectNothing(); // an old ACK moves nothing else
});

Deno.test("TcpSocket reads an old ACK's SACK block below a newer cumulative ACK as stale, not as a D-SACK (RFC 2883 §4)", () => {
  const h = sackSender();
  h.sock.send(fill(600));
  assert.equal(h.out().length, 6);
  h.at(200);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 400]) });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // really lost: the retransmission repairs it
  const reduced = h.sock.info.ssthresh;
  h.at(300);
  h.send({ seq: R, ack: L + 600, window: W });
  // An ACK the peer sent before the retransmission arrived, overtaken on the way: its block lies
  // below SND.UNA now but above its own cumulative ACK, so it reports nothing received twice.
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 500]) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.dsacksReceived, i.spuriousUndos, i.ssthresh], [0, 0, reduced]);
  h.expectNothing();
});

Deno.test("TcpSocket undoes an RTO whose ACK echoes a timestamp from before the retransmission (Eifel, RFC 3522)", () => {
  const h = tsSender();
  h.sock.send(fill(300));
  assert.equal(h.out().length, 3); // TSval 1100, sent at 100
  const cwnd = h.sock.info.cwnd;
  // no ACK for a while: the tail loss probe at 2·SRTT + 2 ms, then the RTO 300 ms later
  h.at(302).expect({
    seq: L + 200,
    ack: R,
    flags: ACK | PSH,
    payload: fill(100, 200),
    timestamp: { tsVal: 1302, tsEcr: 2 },
  });
  h.at(602).expect({
    seq: L,
    ack: R,
    payload: fill(100),
    timestamp: { tsVal: 1602, tsEcr: 2 },
  });
  assert.deepStrictEqual([h.sock.info.rtos, h.sock.info.cwnd], [1, 100]);
  h.at(650);
  // the ACK of the first transmission, delayed: it echoes TSval 1100 < 1602
  h.send({ seq: R, ack: L + 300, window: W, timestamp: { tsVal: 3, tsEcr: 1100 } });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.inRecovery, i.cwnd >= cwnd], [1, false, true]);
  h.expectNothing(); // segments 2 and 3 are not resent
});

Deno.test("TcpSocket keeps the reduction when the retransmission repaired a real loss", () => {
  const h = tsSender();
  h.sock.send(fill(600));
  h.out(); // TSval 1100
  h.at(200);
  h.send({
    seq: R,
    ack: L,
    window: W,
    sackBlocks: blocks([100, 400]),
    timestamp: { tsVal: 3, tsEcr: 1100 },
  });
  h.expect({
    seq: L,
    ack: R,
    payload: fill(100),
    sackBlocks: [],
    timestamp: { tsVal: 1200, tsEcr: 3 },
  });
  const reduced = h.sock.info.ssthresh;
  h.at(300);
  // the retransmission filled the hole: the ACK echoes its TSval (1200)
  h.send({ seq: R, ack: L + 600, window: W, timestamp: { tsVal: 4, tsEcr: 1200 } });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.ssthresh, i.inRecovery], [0, reduced, false]);
});

Deno.test("A recovery episode's Eifel stamp is the earliest retransmission still unacknowledged (Linux retrans_stamp)", () => {
  const c = new TcpConn(resolveOptions({ sack: true, timestamps: true }));
  c.sackOn = true;
  c.log.sent(1000, 1100, 10);
  c.log.sent(1100, 1200, 10);
  c.log.sent(1100, 1200, 150); // a retransmission of an earlier episode, still in flight
  c.sndUna = 1000;
  undoBegin(c, 0);
  // an ACK for that retransmission echoes 150: not older than the stamp, so no undo
  assert.equal(c.undo.stamp, 150);
  c.log.acked(1200, null);
  undoBegin(c, 0);
  assert.equal(c.undo.stamp, Number.POSITIVE_INFINITY);
});

// F-RTO (RFC 5682 §3, SACK-enhanced, decided on the first ACK): without timestamps, a timeout
// is spurious when the first ACK after it delivers data sent before it and never resent.
function rtoWithoutTimestamps() {
  const h = sackSender();
  h.sock.send(fill(300));
  assert.equal(h.out().length, 3);
  const { cwnd, ssthresh } = h.sock.info; // (info is one object, refreshed on read)
  // the tail loss probe at 2·SRTT + 2 ms, then the RTO
  h.at(302);
  assert.equal(h.out().length, 1);
  h.at(602);
  const rto = h.out();
  assert.deepStrictEqual(rto.map((s) => s.seq), [L]);
  assert.deepStrictEqual([h.sock.info.rtos, h.sock.info.cwnd], [1, 100]);
  return { h, cwnd, ssthresh };
}

Deno.test("TcpSocket undoes an RTO when the first ACK after it acknowledges segments never resent (F-RTO, RFC 5682)", () => {
  const { h, cwnd, ssthresh } = rtoWithoutTimestamps();
  h.at(650);
  // the delayed ACK of the original flight: segments 2 and 3 were sent once, before the timeout
  h.send({ seq: R, ack: L + 300, window: W });
  const i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.spuriousUndos, i.inRecovery], [1, 1, false]);
  assert.deepStrictEqual([i.cwnd, i.ssthresh], [cwnd, ssthresh]);
  h.expectNothing();
});

Deno.test("TcpSocket undoes an RTO when the first ACK after it SACKs a segment never resent (F-RTO)", () => {
  const { h, cwnd } = rtoWithoutTimestamps();
  h.at(650);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 200]) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.cwnd >= cwnd], [1, true]);
});

Deno.test("TcpSocket keeps an RTO whose first ACK covers only the retransmission (F-RTO: loss was real)", () => {
  const { h, ssthresh } = rtoWithoutTimestamps();
  h.at(700);
  // only the retransmitted first segment arrived: segments 2 and 3 are still missing
  h.send({ seq: R, ack: L + 100, window: W });
  let i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.spuriousUndos], [0, 0]);
  assert.ok(i.ssthresh < ssthresh);
  // F-RTO decided on that ACK: a later ACK of segment 3 (sent once) does not undo
  const resent = h.out();
  assert.ok(resent.length >= 1 && resent[0]!.seq === L + 100, "RTO recovery resends segment 2");
  h.at(800);
  h.send({ seq: R, ack: L + 300, window: W });
  i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.spuriousUndos], [0, 0]);
});

// F-RTO step 2b (RFC 5682 §3): a first ACK that covers only the resent segment (its late original
// looks the same without timestamps) lets new data go instead of more retransmissions; the next
// ACK decides.
function rtoThenFirstAckOfResentSegment() {
  const r = rtoWithoutTimestamps();
  r.h.sock.send(fill(300)); // unsent data queued behind the flight
  r.h.at(700);
  r.h.send({ seq: R, ack: L + 100, window: W });
  return r;
}

Deno.test("TcpSocket sends new data, not segment 2 again, after an RTO whose first ACK covers only the resent segment (F-RTO step 2b)", () => {
  const { h } = rtoThenFirstAckOfResentSegment();
  const out = h.out();
  assert.ok(out.length >= 1, "something is sent");
  assert.deepStrictEqual(out.map((s) => s.seq), [L + 300, L + 400]);
  assert.deepStrictEqual([h.sock.info.retransmits, h.sock.info.frtoUndos], [2, 0]);
});

Deno.test("TcpSocket undoes the RTO when the ACK after F-RTO's new data acknowledges segments never resent (step 3b)", () => {
  const { h, cwnd, ssthresh } = rtoThenFirstAckOfResentSegment();
  h.out();
  h.at(720);
  // the delayed ACK of the original segments 2 and 3: the timeout was spurious
  h.send({ seq: R, ack: L + 300, window: W });
  const i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.spuriousUndos, i.inRecovery], [1, 1, false]);
  assert.deepStrictEqual([i.cwnd, i.ssthresh], [cwnd, ssthresh]);
  assert.equal(i.retransmits, 2, "segments 2 and 3 were never sent again");
});

Deno.test("TcpSocket resends after F-RTO's new data when the next ACK only SACKs that new data (step 3a: loss was real)", () => {
  const { h, ssthresh } = rtoThenFirstAckOfResentSegment();
  h.out();
  h.at(720);
  h.send({ seq: R, ack: L + 100, window: W, sackBlocks: blocks([300, 400]) });
  const i = h.sock.info;
  assert.deepStrictEqual([i.frtoUndos, i.spuriousUndos], [0, 0]);
  assert.ok(i.ssthresh < ssthresh);
  assert.equal(h.out()[0]?.seq, L + 100, "RTO recovery resends segment 2");
});

Deno.test("TcpSocket does not apply F-RTO to a second timeout in a row", () => {
  const { h } = rtoWithoutTimestamps();
  h.at(1300);
  assert.deepStrictEqual(h.out().map((s) => s.seq), [L]); // the backed-off second RTO
  assert.equal(h.sock.info.rtos, 2);
  h.at(1350);
  h.send({ seq: R, ack: L + 300, window: W });
  assert.equal(h.sock.info.frtoUndos, 0);
});

// Overlapping episodes (Linux's undo_marker / undo_retrans span them): a second episode that
// begins while the first one's D-SACK may still be on the way joins it in one run.
/** Episode 1 (segment 0 resent at 200) ends at 210; episode 2 resends segment 10 at `at2`. */
function twoEpisodes(at2 = 220) {
  const h = sackSender();
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 10);
  const { cwnd, ssthresh } = h.sock.info;
  h.at(200);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 400]) });
  h.expect({ seq: L, ack: R, payload: fill(100) });
  h.at(210);
  h.send({ seq: R, ack: L + 1000, window: W }); // the original was late: episode 1 ends
  const after1 = [h.sock.info.cwnd, h.sock.info.ssthresh];
  h.sock.send(fill(500, 1000));
  assert.deepStrictEqual(h.out().map((s) => s.seq - L), [1000, 1100, 1200, 1300, 1400]);
  h.at(at2);
  h.send({ seq: R, ack: L + 1000, window: W, sackBlocks: blocks([1100, 1400]) });
  h.expect({ seq: L + 1000, ack: R, payload: fill(100, 1000) }); // episode 2
  h.send({ seq: R, ack: L + 1500, window: W }); // its original was late too: it ends
  return { h, before: [cwnd, ssthresh], after1 };
}

/** cwnd, ssthresh and spuriousUndos now (`info` is one object, refreshed on read). */
function win(h: ReturnType<typeof sackSender>): number[] {
  const i = h.sock.info;
  return [i.cwnd, i.ssthresh, i.spuriousUndos];
}

Deno.test("TcpSocket restores the window from before the first of two overlapping episodes once both retransmissions are D-SACKed", () => {
  const { h, before } = twoEpisodes();
  assert.equal(h.sock.info.undoJoined, 1);
  const reduced = win(h).slice(0, 2);
  h.at(300);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([0, 100]) }); // episode 1's
  assert.deepStrictEqual(win(h), [...reduced, 0]);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([1000, 1100]) }); // episode 2's
  assert.deepStrictEqual(win(h), [...before, 1]);
  assert.deepStrictEqual([h.sock.info.dsacksReceived, h.sock.info.inRecovery], [2, false]);
});

Deno.test("TcpSocket undoes only the second of two overlapping episodes while the first is unproven, then the first when its D-SACK comes", () => {
  const { h, before, after1 } = twoEpisodes();
  h.at(300);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([1000, 1100]) }); // episode 2's
  assert.deepStrictEqual(win(h), [...after1, 1]);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([0, 100]) }); // episode 1's, late
  assert.deepStrictEqual(win(h), [...before, 2]);
});

Deno.test("TcpSocket keeps the first episode's reduction when only the second of two overlapping episodes is shown spurious", () => {
  const { h, after1 } = twoEpisodes();
  h.at(300);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([1000, 1100]) });
  h.at(400);
  h.send({ seq: R, ack: L + 1500, window: W }); // episode 1 repaired a real loss: no D-SACK
  assert.deepStrictEqual(win(h), [...after1, 1]);
});

Deno.test("TcpSocket starts a run afresh when the earlier episode's last retransmission left an RTO ago or more", () => {
  // RTO 300 (SRTT 100): episode 1's retransmission left at 200, episode 2 begins at 500
  const { h, after1 } = twoEpisodes(500);
  assert.equal(h.sock.info.undoJoined, 0);
  h.at(600);
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([0, 100]) }); // below the marker
  h.send({ seq: R, ack: L + 1500, window: W, sackBlocks: blocks([1000, 1100]) });
  assert.deepStrictEqual(win(h), [...after1, 1]);
});

Deno.test("TcpSocket undoes the second of two joined episodes on a timestamp echo older than its retransmission (Eifel), the first on its late D-SACK", () => {
  const h = tsSender();
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 10); // TSval 1100
  const before = win(h).slice(0, 2);
  h.at(200);
  h.send({
    seq: R,
    ack: L,
    window: W,
    sackBlocks: blocks([100, 400]),
    timestamp: { tsVal: 3, tsEcr: 1100 },
  });
  assert.equal(h.out()[0]?.timestamp?.tsVal, 1200); // episode 1 resends segment 0
  h.at(210);
  // the retransmission is acknowledged first (its TSval echoed): no proof for episode 1 yet
  h.send({ seq: R, ack: L + 1000, window: W, timestamp: { tsVal: 4, tsEcr: 1200 } });
  const after1 = win(h).slice(0, 2);
  h.sock.send(fill(500, 1000));
  assert.equal(h.out().length, 5); // TSval 1210
  h.at(220);
  h.send({
    seq: R,
    ack: L + 1000,
    window: W,
    sackBlocks: blocks([1100, 1400]),
    timestamp: { tsVal: 5, tsEcr: 1210 },
  });
  assert.equal(h.out()[0]?.timestamp?.tsVal, 1220); // episode 2 resends segment 10
  assert.equal(h.sock.info.undoJoined, 1);
  h.at(230);
  // the late original of segment 10: its TSval 1210 is older than the retransmission's
  h.send({ seq: R, ack: L + 1500, window: W, timestamp: { tsVal: 6, tsEcr: 1210 } });
  assert.deepStrictEqual(win(h), [...after1, 1]);
  h.at(300);
  h.send({
    seq: R,
    ack: L + 1500,
    window: W,
    sackBlocks: blocks([0, 100]),
    timestamp: { tsVal: 7, tsEcr: 1210 },
  });
  assert.deepStrictEqual(win(h), [...before, 2]);
});

Deno.test("TcpSocket keeps one run across a timeout in fast recovery: every retransmission D-SACKed restores the window from before it", () => {
  const h = sackSender();
  h.sock.send(fill(1000));
  h.out();
  const { cwnd, ssthresh } = h.sock.info;
  h.at(200);
  h.send({ seq: R, ack: L, window: W, sackBlocks: blocks([100, 400]) });
  h.expect({ seq: L, ack: R, payload: fill(100) }); // fast retransmit
  // nothing more comes back: the stalled-recovery probe, then the RTO (no new episode)
  h.at(402).expect({ seq: L, ack: R, payload: fill(100) });
  h.at(702).expect({ seq: L, ack: R, payload: fill(100) });
  const resent = h.sock.info.retransmits;
  assert.deepStrictEqual([resent, h.sock.info.undoJoined], [3, 0]);
  h.at(h.pollAt - 1);
  for (let n = 1; n <= resent; n++) {
    assert.equal(h.sock.info.spuriousUndos, 0);
    h.send({ seq: R, ack: L + 1000, window: W, sackBlocks: blocks([0, 100]) });
  }
  assert.deepStrictEqual(win(h), [cwnd, ssthresh, 1]);
});

// Without SACK (RFC 5681 / RFC 6582): a fast retransmit shown spurious by a timestamp echo or by
// an ACK sooner than the minimum RTT is undone, and the reordering it shows raises the
// duplicate-ACK threshold for the connection (Linux's tp->reordering).
function renoSender(timestamps = false) {
  return establishedAfter(
    100,
    timestamps
      ? { timestamps: true, timestampOffset: TS_OFF, txBufferSize: 8192 }
      : { txBufferSize: 8192 },
    timestamps
      ? { mss: 112, window: W, timestamp: { tsVal: 1, tsEcr: 0 } }
      : { mss: 100, window: W },
    timestamps ? { window: W, timestamp: { tsVal: 2, tsEcr: TS_OFF } } : { window: W },
  );
}

/** `n` duplicate ACKs at SND.UNA = L. */
function dupAcks(h: ReturnType<typeof renoSender>, n: number, ts?: number) {
  for (let k = 0; k < n; k++) {
    h.send({
      seq: R,
      ack: L,
      window: W,
      ...(ts === undefined ? {} : { timestamp: { tsVal: 3, tsEcr: ts } }),
    });
  }
}

Deno.test("TcpSocket without SACK undoes a fast retransmit answered sooner than the minimum RTT and raises its duplicate-ACK threshold", () => {
  const h = renoSender();
  h.sock.send(fill(1000));
  assert.equal(h.out().length, 10); // sent at 100; min RTT 100 (the handshake)
  const { cwnd, ssthresh } = h.sock.info;
  assert.equal(h.sock.info.dupThresh, 3);
  h.at(200);
  dupAcks(h, 3);
  h.expect({ seq: L, ack: R, payload: fill(100) }); // fast retransmit at 200
  dupAcks(h, 6); // nine segments overtook the first
  h.out();
  h.at(210);
  // the first segment arrives 10 ms after the retransmission left: no answer to it is that fast
  h.send({ seq: R, ack: L + 1000, window: W });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.dupThreshRaised, i.dupThresh, i.inRecovery], [
    1,
    1,
    10,
    false,
  ]);
  assert.deepStrictEqual([i.cwnd >= cwnd, i.ssthresh], [true, ssthresh]);
});

Deno.test("TcpSocket without SACK waits for the raised threshold, and a timeout after more than three duplicate ACKs lowers it again", () => {
  const h = renoSender();
  h.sock.send(fill(1000));
  h.out();
  h.at(200);
  dupAcks(h, 9);
  h.out();
  h.at(210);
  h.send({ seq: R, ack: L + 1000, window: W }); // spurious: threshold 10
  h.sock.send(fill(1000, 1000));
  assert.equal(h.out().length, 10);
  h.at(300);
  for (let k = 0; k < 9; k++) h.send({ seq: R, ack: L + 1000, window: W });
  h.expectNothing(); // nine duplicate ACKs: below the threshold, no fast retransmit
  assert.deepStrictEqual([h.sock.info.fastRetransmits, h.sock.info.dupAcks], [1, 18]);
  h.at(h.pollAt);
  assert.equal(h.out()[0]?.seq, L + 1000); // the RTO resends it
  const i = h.sock.info;
  assert.deepStrictEqual([i.rtos, i.dupThresh], [1, 3]);
});

Deno.test("TcpSocket without SACK undoes a fast retransmit whose ACK echoes the original's timestamp (Eifel) and raises the threshold", () => {
  const h = renoSender(true);
  h.sock.send(fill(500));
  assert.equal(h.out().length, 5); // 100 bytes each after the timestamp option; TSval 1100
  const { cwnd } = h.sock.info;
  h.at(200);
  dupAcks(h, 4, 1100);
  assert.equal(h.out()[0]?.timestamp?.tsVal, 1200); // the fast retransmit
  h.at(300); // as late as an answer to the retransmission could be, but it echoes 1100
  h.send({ seq: R, ack: L + 500, window: W, timestamp: { tsVal: 4, tsEcr: 1100 } });
  const i = h.sock.info;
  assert.deepStrictEqual([i.spuriousUndos, i.dupThreshRaised, i.dupThresh], [1, 1, 5]);
  assert.ok(i.cwnd >= cwnd);
});

Deno.test("TcpSocket without SACK keeps the reduction and the threshold when the retransmission repaired a loss", () => {
  for (const ts of [false, true]) {
    const h = renoSender(ts);
    h.sock.send(fill(500));
    h.out();
    h.at(200);
    dupAcks(h, 4, ts ? 1100 : undefined);
    h.out();
    const reduced = h.sock.info.ssthresh;
    h.at(300); // one RTT after the retransmission, echoing its TSval
    h.send({
      seq: R,
      ack: L + 500,
      window: W,
      ...(ts ? { timestamp: { tsVal: 4, tsEcr: 1200 } } : {}),
    });
    const i = h.sock.info;
    assert.deepStrictEqual([i.spuriousUndos, i.dupThreshRaised, i.dupThresh, i.ssthresh], [
      0,
      0,
      3,
      reduced,
    ]);
  }
});
