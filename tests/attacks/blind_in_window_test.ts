/**
 * RFC 5961 blind in-window attacks (issue 8 item 6) against an established connection between two
 * simulated Interfaces while a 4 MiB transfer runs through it.
 *
 * An off-path attacker knows the 4-tuple but not the sequence numbers. It injects raw frames into
 * the victim's device (node b, the receiver), claiming to come from the client: 10,000 RSTs,
 * 10,000 SYNs and 10,000 ACK-bearing data segments. 80 % of each kind carry a uniformly random
 * sequence number; 20 % are deliberately inside the receive window but not at RCV.NXT (the
 * test reads RCV.NXT as an oracle the attacker would not have). Data segments carry a random
 * ACK field (the attacker cannot know SND.UNA), and half of them a random timestamp.
 *
 * Checks: the connection survives; the SHA-256 of both directions matches; challenge ACKs (from
 * `socket.info` and counted on the wire as replies to forged frames) stay within the
 * per-connection limit (10 per second, burst 10) and, with 30 victims, within the global limit
 * (100 per second, burst 100); an RST at exactly RCV.NXT resets (positive control).
 */

import assert from "node:assert/strict";
import { startBulk } from "../sim/bulk.ts";
import { type Pair, type SimNode, Simulator, twoNodes } from "../sim/sim.ts";
import type { TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { TcpFlags } from "../../src/wire/tcp.ts";
import { forgeTcp4, tapPort, tcpOf } from "./_forge.ts";

const A = Ipv4Address.parse("10.0.0.1");
const B = Ipv4Address.parse("10.0.0.2");

/** Per-connection challenge ACK limit of src/socket/tcp/conn.ts (CHALLENGE_ACK_BURST per 1 s). */
const PER_CONN_BURST = 10;
/** The interface-wide limiter of src/iface/core.ts (burst 100 per 1 s; not configurable). */
const GLOBAL_BURST = 100;

type Kind = "rst" | "syn" | "data";

interface KindStats {
  sent: number;
  inWindow: number;
  /** Frames the victim sent while processing a forged frame of this kind. */
  replies: number;
  /** Of those, replies to the in-window share. */
  repliesInWindow: number;
  /** Replies that were anything but a pure ACK (a RST, data, a SYN). */
  oddReplies: number;
}

function newStats(): Record<Kind, KindStats> {
  const s = (): KindStats => ({
    sent: 0,
    inWindow: 0,
    replies: 0,
    repliesInWindow: 0,
    oddReplies: 0,
  });
  return { rst: s(), syn: s(), data: s() };
}

/** Tags forged frames and attributes the victim's replies to them. */
function tapVictim(node: SimNode, stats: Record<Kind, KindStats>): WeakMap<Uint8Array, string> {
  const marked = new WeakMap<Uint8Array, string>();
  tapPort(node.device, marked, (tag, frame) => {
    const [kind, where] = tag.split(":") as [Kind, string];
    const st = stats[kind];
    st.replies++;
    if (where === "in") st.repliesInWindow++;
    const t = tcpOf(frame);
    if (t === null || t.flags !== TcpFlags.ACK || t.payload.length !== 0) st.oddReplies++;
  });
  return marked;
}

function receiveWindowOf(s: TcpSocket): number {
  // What the victim accepts: at least the free receive buffer (src/socket/tcp/recv.ts).
  return Math.max(1, s.recvCapacity - s.recvQueue);
}

Deno.test("blind in-window RST, SYN and data segments: the connection survives byte-exact, challenge ACKs are rate-limited, an exact RST resets", () => {
  const seed = 61;
  const sim = new Simulator(seed);
  // Receive coalescing off: the tap charges every frame sent while a forged frame is processed to
  // that frame. With coalescing on, a forged data segment waits in the batch and its duplicate ACK
  // leaves when the next frame (often a forged RST) flushes the batch, so it would be charged to
  // that frame (measured: data replies 10 -> 0, RST replies 8 -> 18, all duplicate ACKs).
  const pair: Pair = twoNodes(sim, { latency: 5, bandwidth: 10_000_000 }, { coalesceTcp: false });
  const stats = newStats();
  const marked = tapVictim(pair.b, stats);
  const TOTAL = 4 * 2 ** 20;
  const bulk = startBulk(pair, { aToB: TOTAL, bToA: 256 * 1024, close: false });
  const victim = bulk.b.socket, client = bulk.a.socket;
  sim.runOrFail(() => victim.state === "established", 1000, "handshake");
  const cPort = client.localEndpoint!.port, sPort = victim.localEndpoint!.port;
  const before = { ...victim.info };

  // 30,000 forged frames, 10 per ms of virtual time, kinds interleaved.
  const PER_KIND = 10_000, PER_MS = 10;
  const rng = sim.rng;
  const attackStart = sim.now;
  let n = 0;
  const kinds: Kind[] = ["rst", "syn", "data"];
  const inject = (): void => {
    for (let k = 0; k < PER_MS && n < 3 * PER_KIND; k++, n++) {
      const kind = kinds[n % 3]!;
      const st = stats[kind];
      const inWin = rng.below(5) === 0;
      const info = victim.info;
      let seq = rng.nextU32();
      if (inWin) {
        // Inside [RCV.NXT + 1, RCV.NXT + window): acceptable, never exact.
        const wnd = receiveWindowOf(victim);
        seq = (info.rcvNxt + 1 + rng.below(Math.max(1, wnd - 1))) >>> 0;
        st.inWindow++;
      }
      st.sent++;
      const flags = kind === "rst"
        ? TcpFlags.RST
        : kind === "syn"
        ? TcpFlags.SYN
        : TcpFlags.ACK | TcpFlags.PSH;
      const withTs = kind === "data" && rng.below(2) === 0;
      const frame = forgeTcp4(A, B, {
        srcPort: cPort,
        dstPort: sPort,
        seq,
        ack: kind === "data" ? rng.nextU32() : 0,
        flags,
        timestamp: withTs ? { tsVal: rng.nextU32(), tsEcr: rng.nextU32() } : null,
        payload: kind === "data" ? new Uint8Array(1 + rng.below(512)).fill(0xee) : undefined,
      }, n);
      marked.set(frame, `${kind}:${inWin ? "in" : "rand"}`);
      pair.b.device.deliver(frame);
    }
    if (n < 3 * PER_KIND) sim.after(1, inject);
  };
  sim.after(1, inject);
  sim.runOrFail(() => bulk.done() && n >= 3 * PER_KIND, 60_000, "transfer under attack");
  const attackMs = sim.now - attackStart;
  const after = victim.info;
  const d = (k: keyof typeof before): number => (after[k] as number) - (before[k] as number);

  const sentA = bulk.a.sentDigest(), recvB = bulk.b.receivedDigest();
  const sentB = bulk.b.sentDigest(), recvA = bulk.a.receivedDigest();
  const challenge = d("challengeAcks"), limited = d("challengeAcksLimited");
  const seconds = Math.ceil(attackMs / 1000);
  const perConnBound = PER_CONN_BURST + PER_CONN_BURST * seconds;
  for (const k of kinds) {
    const s = stats[k];
    console.log(
      `blind ${k}: ${s.sent} forged (${s.inWindow} in window, not exact); victim replies on the wire ` +
        `${s.replies} (${s.repliesInWindow} to the in-window share, ${s.oddReplies} not a pure ACK)`,
    );
  }
  console.log(
    `blind: attack over ${attackMs} ms virtual while 4 MiB a→b and 256 KiB b→a ran; ` +
      `challenge ACKs sent ${challenge}, suppressed ${limited} (bound ${perConnBound} for ${seconds} s); ` +
      `droppedRst ${d("droppedRst")}, droppedOutOfWindow ${d("droppedOutOfWindow")}, ` +
      `droppedBadAck ${d("droppedBadAck")}, droppedPaws ${d("droppedPaws")}, droppedOther ${
        d("droppedOther")
      }; ` +
      `state ${victim.state}; SHA-256 a→b ${sentA === recvB ? "equal" : "DIFFERENT"}, b→a ${
        sentB === recvA ? "equal" : "DIFFERENT"
      }; victim retransmits ${d("retransmits")}, client retransmits ${client.info.retransmits}`,
  );

  // The same transfer without the attack, for the cost of the attack.
  const ctl = new Simulator(seed);
  const ctlPair = twoNodes(ctl, { latency: 5, bandwidth: 10_000_000 }, { coalesceTcp: false });
  const ctlBulk = startBulk(ctlPair, { aToB: TOTAL, bToA: 256 * 1024, close: false });
  ctl.runOrFail(() => ctlBulk.done(), 60_000, "control transfer");
  console.log(
    `blind: transfer done at ${bulk.b.sink.doneAt.toFixed(0)} ms under attack vs ${
      ctlBulk.b.sink.doneAt.toFixed(0)
    } ms without; client retransmits ${client.info.retransmits} vs ${ctlBulk.a.socket.info.retransmits}, ` +
      `client dupacks ${client.info.dupAcks} vs ${ctlBulk.a.socket.info.dupAcks}`,
  );

  assert.equal(victim.state, "established", `victim ${victim.state} (seed ${seed})`);
  assert.equal(client.state, "established");
  assert.equal(bulk.b.sink.received, TOTAL);
  assert.equal(recvB, sentA, "a→b stream corrupted");
  assert.equal(recvA, sentB, "b→a stream corrupted");
  // Rate limits: counters and wire agree, and stay within the per-connection bucket.
  assert.ok(challenge <= perConnBound, `${challenge} challenge ACKs in ${attackMs} ms`);
  assert.ok(challenge > 0 && limited > 0, "the attack never reached the limiter");
  // Every in-window forged RST and SYN asks for a challenge ACK: sent or suppressed.
  assert.ok(challenge + limited >= stats.rst.inWindow + stats.syn.inWindow);
  assert.equal(stats.rst.replies, stats.rst.repliesInWindow, "an out-of-window RST was answered");
  const inWindowReplies = stats.rst.repliesInWindow + stats.syn.repliesInWindow;
  assert.ok(inWindowReplies <= challenge, `${inWindowReplies} in-window replies > ${challenge}`);
  for (const k of kinds) assert.equal(stats[k].oddReplies, 0, `${k}: a reply was not a pure ACK`);

  // Positive control: a RST at exactly RCV.NXT resets the connection.
  const exact = forgeTcp4(A, B, {
    srcPort: cPort,
    dstPort: sPort,
    seq: victim.info.rcvNxt,
    flags: TcpFlags.RST,
  });
  pair.b.device.deliver(exact);
  sim.runUntil(() => victim.state === "closed", sim.now + 10);
  console.log(`blind: exact-sequence RST → victim ${victim.state}, error ${victim.error}`);
  assert.equal(victim.state, "closed");
  assert.equal(victim.error, "reset");
});

Deno.test("in-window RSTs against 30 connections at once: challenge ACKs capped by the global limit", () => {
  const sim = new Simulator(62);
  const pair: Pair = twoNodes(sim, { latency: 5 });
  const stats = newStats();
  const marked = tapVictim(pair.b, stats);
  const CONNS = 30, PER_CONN = 50;
  const bulks = Array.from(
    { length: CONNS },
    (_, i) => startBulk(pair, { aToB: 0, port: 6000 + i, close: false }),
  );
  sim.runOrFail(
    () => bulks.every((x) => x.b.socket.state === "established"),
    1000,
    "handshakes",
  );
  const start = sim.now;
  for (let k = 0; k < PER_CONN; k++) {
    for (const x of bulks) {
      const v = x.b.socket;
      const f = forgeTcp4(A, B, {
        srcPort: x.a.socket.localEndpoint!.port,
        dstPort: v.localEndpoint!.port,
        seq: (v.info.rcvNxt + 1 + sim.rng.below(receiveWindowOf(v) - 1)) >>> 0,
        flags: TcpFlags.RST,
      });
      marked.set(f, "rst:in");
      stats.rst.sent++;
      pair.b.device.deliver(f);
    }
  }
  sim.runUntil(() => false, start + 1); // all within one millisecond
  let sent = 0, limited = 0, maxPerConn = 0;
  for (const x of bulks) {
    const i = x.b.socket.info;
    sent += i.challengeAcks;
    limited += i.challengeAcksLimited;
    maxPerConn = Math.max(maxPerConn, i.challengeAcks);
    assert.equal(x.b.socket.state, "established");
  }
  console.log(
    `global limit: ${stats.rst.sent} in-window RSTs over ${CONNS} connections in 1 ms → ` +
      `${sent} challenge ACKs (${stats.rst.replies} on the wire), ${limited} suppressed, ` +
      `at most ${maxPerConn} per connection (per-connection burst ${PER_CONN_BURST}, global ${GLOBAL_BURST})`,
  );
  assert.equal(stats.rst.replies, sent, "wire and counters disagree");
  assert.ok(sent <= GLOBAL_BURST + 1, `${sent} challenge ACKs beyond the global burst`);
  assert.ok(sent >= GLOBAL_BURST - 1, `${sent}: the global bucket did not fill`);
  assert.ok(maxPerConn <= PER_CONN_BURST);
  assert.equal(sent + limited, CONNS * PER_CONN);
});

// Regression (was a bug in src/socket/tcp/input.ts): TS.Recent was updated before the ACK field
// was checked, so a forged segment at the left edge of the window with an unacceptable ACK and a
// far-future TSval moved TS.Recent; every genuine segment after it failed PAWS and the connection
// stalled. A blind attacker needs SEG.SEQ within one payload length below RCV.NXT (~1,460 of 2^32
// values) and two TSval guesses. Fixed: TS.Recent moves only after processAck accepted the ACK
// (RFC 7323 §4.3; Linux tcp_replace_ts_recent() after tcp_ack()).
Deno.test({
  name:
    "a forged left-edge segment with an unacceptable ACK does not move TS.Recent (PAWS poisoning)",
  fn() {
    const sim = new Simulator(7);
    const pair: Pair = twoNodes(sim, { latency: 5, bandwidth: 10_000_000 });
    const bulk = startBulk(pair, { aToB: 1 << 20, close: false });
    const victim = bulk.b.socket, client = bulk.a.socket;
    sim.runOrFail(() => victim.info.bytesIn > 100_000, 5000, "first 100 kB");
    const i = victim.info;
    // Two guesses cover both halves of the timestamp space; the ACK is 2^30 beyond SND.UNA.
    for (const tsVal of [0x3fffffff, 0xbfffffff]) {
      pair.b.device.deliver(forgeTcp4(A, B, {
        srcPort: client.localEndpoint!.port,
        dstPort: victim.localEndpoint!.port,
        seq: (i.rcvNxt - 10) >>> 0,
        ack: (i.sndUna + 0x40000000) >>> 0,
        flags: TcpFlags.ACK,
        timestamp: { tsVal, tsEcr: 0 },
        payload: new Uint8Array(500),
      }));
    }
    const done = sim.runUntil(() => bulk.done(), sim.now + 60_000);
    console.log(
      `TS.Recent poisoning: transfer ${
        done ? "completed" : "stalled"
      } at ${bulk.b.sink.received} ` +
        `of ${
          1 << 20
        } bytes; droppedBadAck ${victim.info.droppedBadAck}, droppedPaws ${victim.info.droppedPaws}`,
    );
    assert.ok(done, "one forged segment with a bad ACK stalled the connection (PAWS)");
    assert.equal(bulk.b.receivedDigest(), bulk.a.sentDigest());
  },
});

// Regression (was a bug in src/socket/tcp/input.ts): RFC 5961 §4.2 answers a SYN in a
// synchronized state with a challenge ACK "irrespective of the sequence number", and §7 throttles
// challenge ACKs. The acceptability test ran first, so a SYN outside the window got an unthrottled
// duplicate ACK: 1 ACK per forged SYN, not counted as a challenge ACK, reaching the real peer as
// dupacks. Fixed: onSynchronized handles SYN before PAWS and the window test with
// c.challengeAck (Linux tcp_validate_incoming, syn_challenge).
Deno.test({
  name: "forged SYNs outside the window get rate-limited challenge ACKs (RFC 5961 §4.2, §7)",
  fn() {
    const sim = new Simulator(3);
    const pair: Pair = twoNodes(sim, { latency: 5 });
    const stats = newStats();
    const marked = tapVictim(pair.b, stats);
    const bulk = startBulk(pair, { aToB: 0, close: false });
    const victim = bulk.b.socket, client = bulk.a.socket;
    sim.runOrFail(() => victim.state === "established", 1000, "handshake");
    const start = sim.now;
    for (let k = 0; k < 1000; k++) {
      const f = forgeTcp4(A, B, {
        srcPort: client.localEndpoint!.port,
        dstPort: victim.localEndpoint!.port,
        seq: (victim.info.rcvNxt + 0x80000000 + k) >>> 0,
        flags: TcpFlags.SYN,
      });
      marked.set(f, "syn:rand");
      pair.b.device.deliver(f);
    }
    sim.runUntil(() => false, start + 100);
    console.log(
      `out-of-window SYNs: 1000 forged in 100 ms → ${stats.syn.replies} ACKs on the wire, ` +
        `${victim.info.challengeAcks} counted as challenge ACKs`,
    );
    assert.ok(stats.syn.replies <= PER_CONN_BURST, `${stats.syn.replies} ACKs to 1000 SYNs`);
  },
});
