// Packetization-layer path MTU discovery (RFC 8899 style) on explicit time: two TcpSockets over a
// path that silently drops every IP packet larger than its MTU (no ICMP), 1 ms each way.

import assert from "node:assert/strict";
import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { PROBE_THRESHOLD } from "../../../src/socket/tcp/plpmtud.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address, Ipv6Address } from "../../../src/wire/address.ts";
import { tcpBufferLen, type TcpRepr } from "../../../src/wire/tcp.ts";

const A: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.1"), port: 50000 };
const B: IpEndpoint = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
const A6: IpEndpoint = { addr: Ipv6Address.parse("2001:db8::1"), port: 50000 };
const B6: IpEndpoint = { addr: Ipv6Address.parse("2001:db8::2"), port: 80 };

/** The payload of a full segment with timestamps in an IPv4 packet of `mtu` bytes. */
const mssOf = (mtu: number) => mtu - 20 - 20 - 12;

class BlackHolePath {
  now = 0;
  readonly a: TcpSocket;
  readonly b: TcpSocket;
  /** IP packets larger than this vanish. */
  pathMtu: number;
  /** Largest IP packet that left A, and that reached B. */
  largestSent = 0;
  largestDelivered = 0;
  dropped = 0;
  received = 0;
  written = 0;
  /** A's ssthresh, sampled whenever a segment leaves A. */
  readonly ssthreshSeen = new Set<number>();
  /** A's segment size, sampled whenever a segment leaves A. */
  readonly mssSeen = new Set<number>();
  /** Each data segment A sent: when, its sequence number, payload length and A's MSS then. */
  readonly sent: { t: number; seq: number; len: number; mss: number }[] = [];
  /** Return `true` to drop a segment that fits the path too (congestion). */
  drop: (toB: boolean, r: TcpRepr) => boolean = () => false;
  #q: { t: number; toB: boolean; r: TcpRepr }[] = [];
  readonly #rng = new Rng(1);
  readonly #lim = new TokenBucket({ burst: 1000, interval: 1000 });
  readonly #buf = new Uint8Array(1 << 16);

  readonly #ends: [IpEndpoint, IpEndpoint];

  constructor(pathMtu: number, a: TcpSocketOptions, public total: number, v6 = false) {
    this.pathMtu = pathMtu;
    this.#ends = v6 ? [A6, B6] : [A, B];
    this.a = new TcpSocket({ timestampOffset: 0, noDelay: true, ...a });
    this.b = new TcpSocket({ timestampOffset: 0 });
    this.b.listen(this.#ends[1]);
    this.a.connect(this.cx, this.#ends[1], this.#ends[0]);
  }

  get cx(): SocketContext {
    return {
      now: this.now,
      random: this.#rng,
      ipMtu: 1500,
      isnSecret: new Uint8Array(16).fill(1),
      challengeAckLimiter: this.#lim,
    };
  }

  #emit(toB: boolean, r: TcpRepr): void {
    const size = (this.#ends[0].addr.version === 4 ? 20 : 40) + tcpBufferLen(r);
    if (toB) {
      this.largestSent = Math.max(this.largestSent, size);
      this.ssthreshSeen.add(this.a.info.ssthresh);
      this.mssSeen.add(this.a.info.mss);
      if (r.payload.length > 0) {
        this.sent.push({ t: this.now, seq: r.seq, len: r.payload.length, mss: this.a.info.mss });
      }
    }
    if (size > this.pathMtu || this.drop(toB, r)) {
      this.dropped++;
      return;
    }
    if (toB) this.largestDelivered = Math.max(this.largestDelivered, size);
    this.#q.push({ t: this.now + 1, toB, r: { ...r, payload: r.payload.slice() } });
  }

  get done(): boolean {
    return this.received === this.total;
  }

  /** Runs until `until` ms or (unless `whole`) until B has everything. */
  run(until: number, whole = false): void {
    const toB = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#emit(true, r), true) };
    const toA = { emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => (this.#emit(false, r), true) };
    for (; this.now < until && (whole || !this.done); this.now++) {
      const due = this.#q.filter((f) => f.t <= this.now);
      this.#q = this.#q.filter((f) => f.t > this.now);
      for (const f of due) {
        const reply = f.toB
          ? this.b.process(this.cx, this.#ends[0].addr, this.#ends[1].addr, f.r)
          : this.a.process(this.cx, this.#ends[1].addr, this.#ends[0].addr, f.r);
        if (reply !== null) this.#emit(!f.toB, reply);
      }
      while (this.a.maySend && this.a.canSend && this.written < this.total) {
        this.written += this.a.send(
          this.#buf.subarray(0, Math.min(this.#buf.length, this.total - this.written)),
        );
      }
      while (this.b.canRecv) this.received += this.b.recv(this.#buf);
      while (this.a.dispatch(this.cx, toB) || this.b.dispatch(this.cx, toA)) { /* drain */ }
    }
  }
}

Deno.test("PLPMTUD off (the default): a path that drops large packets without ICMP stalls the transfer", () => {
  const p = new BlackHolePath(1280, {}, 300_000);
  p.run(60_000);
  assert.equal(p.received, 0);
  assert.ok(p.dropped > 5, `${p.dropped} dropped`);
  assert.equal(p.a.info.mtuBlackHoles, 0);
  assert.equal(p.a.info.mss, mssOf(1500)); // still the interface's size
});

Deno.test("PLPMTUD blackHole: two timeouts lower the size, probes converge to the path MTU, the transfer completes", () => {
  const p = new BlackHolePath(1280, { mtuProbing: "blackHole" }, 2_000_000);
  p.run(120_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.equal(i.mtuBlackHoles, 1);
  assert.ok(i.mtuProbesAcked >= 1, `${i.mtuProbesAcked} probes acknowledged`);
  assert.ok(i.mtuProbes > i.mtuProbesAcked, "some probe was too large and was lost");
  // Converged: within the search threshold below the path's segment size, never above it.
  assert.ok(i.mss <= mssOf(1280) && i.mss > mssOf(1280) - PROBE_THRESHOLD, `mss ${i.mss}`);
  assert.equal(p.largestDelivered, 1280 - (mssOf(1280) - i.mss)); // full segments of that size got through
});

Deno.test("PLPMTUD blackHole over IPv6: the base is what the 1280-byte minimum MTU leaves", () => {
  const p = new BlackHolePath(1400, { mtuProbing: "blackHole" }, 2_000_000, true);
  p.run(120_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.equal(i.mtuBlackHoles, 1);
  assert.ok(p.mssSeen.has(1280 - 40 - 20 - 12), [...p.mssSeen].join(", ")); // the base
  const pathMss = 1400 - 40 - 20 - 12;
  assert.ok(i.mss <= pathMss && i.mss > pathMss - PROBE_THRESHOLD, `mss ${i.mss}`);
  assert.ok(p.largestDelivered <= 1400);
});

Deno.test("PLPMTUD on: starts at the base size and probes up to the interface MTU on a clean path", () => {
  const p = new BlackHolePath(1500, { mtuProbing: "on" }, 1_000_000);
  p.run(3); // established at 2 ms; the first probe's ACK comes back at 4 ms
  assert.equal(p.a.state, "established");
  assert.equal(p.a.info.mss, 1024); // Linux's tcp_base_mss, before any probe
  p.run(60_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.ok(i.mss > mssOf(1500) - PROBE_THRESHOLD, `mss ${i.mss}`);
  assert.equal(i.mtuProbes, i.mtuProbesAcked); // nothing lost on a clean path
  assert.equal(i.rtos, 0);
});

Deno.test("PLPMTUD on: a lost probe does not reduce the window", () => {
  const p = new BlackHolePath(1400, { mtuProbing: "on" }, 2_000_000);
  p.run(120_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.ok(i.mtuProbes - i.mtuProbesAcked >= 1, "at least one probe was lost");
  assert.equal(i.rtos, 0);
  // Only probes were lost, and none of those losses was a congestion response: ssthresh never
  // left its initial value.
  assert.equal(p.ssthreshSeen.size, 1, [...p.ssthreshSeen].join(", "));
  assert.ok(i.mss <= mssOf(1400) && i.mss > mssOf(1400) - PROBE_THRESHOLD, `mss ${i.mss}`);
});

Deno.test("PLPMTUD with ICMP: a Packet Too Big lowers the size at once and probes never exceed it", () => {
  const p = new BlackHolePath(1500, { mtuProbing: "on" }, 1_000_000);
  p.run(100);
  const seq = p.a.info.sndUna;
  p.a.processIcmpError(p.now, { kind: "packetTooBig", code: 4, mtu: 1300, seq });
  assert.equal(p.a.info.pathMtuReductions, 1);
  p.largestSent = 0;
  p.run(60_000);
  assert.equal(p.received, p.total);
  assert.ok(p.largestSent <= 1300, `largest ${p.largestSent}`);
});

Deno.test("PLPMTUD searches again after 600 s and finds a path that grew", () => {
  // A 256 KiB send buffer bounds the flight, so the 6 MB of the last phase take enough round
  // trips for the search (one probe per round trip) whatever the window does.
  const p = new BlackHolePath(1280, { mtuProbing: "on", txBufferSize: 256 * 1024 }, 500_000);
  p.run(60_000);
  assert.equal(p.received, p.total);
  const converged = p.a.info.mss;
  assert.ok(converged <= mssOf(1280), `mss ${converged}`);
  const probes = p.a.info.mtuProbes;
  // The path grows; within the raise interval nothing is probed.
  p.pathMtu = 1500;
  p.total += 500_000;
  p.run(p.now + 60_000);
  assert.equal(p.received, p.total);
  assert.equal(p.a.info.mtuProbes, probes);
  assert.equal(p.a.info.mss, converged);
  // After 600 s (RFC 8899 PMTU_RAISE_TIMER) the search starts again from the handshake's size.
  p.now = 700_000;
  p.total += 6_000_000;
  p.run(p.now + 60_000);
  assert.equal(p.received, p.total);
  assert.ok(p.a.info.mtuProbes > probes);
  assert.ok(p.a.info.mss > mssOf(1500) - PROBE_THRESHOLD, `mss ${p.a.info.mss}`);
});

Deno.test("PLPMTUD on without SACK: probes converge, and a lost probe does not reduce the window", () => {
  const p = new BlackHolePath(1400, { mtuProbing: "on", sack: false }, 2_000_000);
  p.run(120_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.ok(i.mtuProbesAcked >= 1, `${i.mtuProbesAcked} probes acknowledged`);
  assert.ok(i.mtuProbes - i.mtuProbesAcked >= 1, "at least one probe was lost");
  assert.ok(i.mss <= mssOf(1400) && i.mss > mssOf(1400) - PROBE_THRESHOLD, `mss ${i.mss}`);
  // The duplicate ACKs stopped at each lost probe: taken as the probe's own loss, no response.
  assert.equal(p.ssthreshSeen.size, 1, [...p.ssthreshSeen].join(", "));
  assert.ok(i.fastRetransmits >= 1);
});

Deno.test("PLPMTUD blackHole without SACK: after two timeouts the size drops, then probes find the path", () => {
  const p = new BlackHolePath(1280, { mtuProbing: "blackHole", sack: false }, 2_000_000);
  p.run(120_000);
  assert.equal(p.received, p.total);
  const i = p.a.info;
  assert.equal(i.mtuBlackHoles, 1);
  assert.ok(p.mssSeen.has(1024), [...p.mssSeen].join(", ")); // the base
  // Before, without SACK the size stayed at the base.
  assert.ok(i.mss <= mssOf(1280) && i.mss > mssOf(1280) - PROBE_THRESHOLD, `mss ${i.mss}`);
});

for (const sack of [true, false]) {
  Deno.test(`PLPMTUD (${sack ? "SACK" : "no SACK"}): a probe lost with other data is probed again at the same size`, () => {
    // A clean 1500-byte path: every probe fits. The second probe is lost together with the
    // segment before it (congestion): that loss is not the probe's, so the size is tried again
    // and the search still reaches the interface's size. A learning run finds the two segments.
    const learn = new BlackHolePath(1500, { mtuProbing: "on", sack }, 3_000_000);
    learn.run(500);
    const isProbe = (x: { len: number; mss: number }) => x.len > x.mss;
    const probes = learn.sent.filter(isProbe);
    const probe = probes[1]!; // the second: the first is the connection's first segment
    const before = learn.sent[learn.sent.indexOf(probe) - 1]!;
    assert.ok(!isProbe(before));
    const p = new BlackHolePath(1500, { mtuProbing: "on", sack }, 3_000_000);
    let dropped = 0;
    p.drop = (toB, r) => {
      if (!toB || dropped >= 2) return false;
      const hit = (r.seq === probe.seq && r.payload.length === probe.len) ||
        (r.seq === before.seq && r.payload.length === before.len);
      if (hit) dropped++;
      return hit;
    };
    p.run(120_000);
    assert.equal(dropped, 2);
    assert.equal(p.received, p.total);
    // The next probe after the lost one has its size: the search's bound did not fall.
    const k = p.sent.findIndex((s) => s.seq === probe.seq && s.len === probe.len);
    const next = p.sent.slice(k + 1).find(isProbe)!;
    assert.equal(next.len, probe.len, p.sent.slice(k - 2, k + 40).map((s) => s.len).join(","));
    assert.ok(p.a.info.mss > mssOf(1500) - PROBE_THRESHOLD, `mss ${p.a.info.mss}`);
  });
}

Deno.test("PLPMTUD: the third probe of one size lost with other data counts as a failure", () => {
  // Every probe of the second size is lost with the data segment right after it.
  const p = new BlackHolePath(1500, { mtuProbing: "on" }, 3_000_000);
  let size = 0;
  let probesSeen = 0;
  let dropNext = false;
  let lossesAtSize = 0;
  p.drop = (toB, r) => {
    if (!toB || r.payload.length === 0) return false;
    const len = r.payload.length;
    if (len > p.a.info.mss) {
      if (++probesSeen === 2) size = len;
      if (len === size) {
        lossesAtSize++;
        dropNext = true;
        return true;
      }
      return false;
    }
    if (dropNext) {
      dropNext = false;
      return true;
    }
    return false;
  };
  p.run(120_000);
  assert.equal(p.received, p.total);
  assert.equal(lossesAtSize, 3); // tried three times, then the bound fell below it
  const later = p.sent.filter((s) => s.len > s.mss).slice(4);
  assert.ok(
    later.length > 0 && later.every((s) => s.len < size),
    later.map((s) => s.len).join(","),
  );
});

for (const sack of [true, false]) {
  Deno.test(`PLPMTUD (${sack ? "SACK" : "no SACK"}) on a path with 2 % random loss still completes and finds the path MTU`, () => {
    const p = new BlackHolePath(1400, { mtuProbing: "on", sack }, 2_000_000);
    const rng = new Rng(11);
    p.drop = (toB, r) => toB && r.payload.length > 0 && rng.nextU32() % 100 < 2;
    p.run(300_000);
    assert.equal(p.received, p.total);
    const i = p.a.info;
    assert.ok(i.retransmits > 10, `${i.retransmits} retransmissions`); // the loss was real
    assert.ok(i.mss <= mssOf(1400) && i.mss > mssOf(1400) - PROBE_THRESHOLD, `mss ${i.mss}`);
  });
}

Deno.test("PLPMTUD: after 600 s idle the first new data probes again; nothing is sent while idle", () => {
  const p = new BlackHolePath(1280, { mtuProbing: "on" }, 500_000);
  p.run(60_000);
  assert.equal(p.received, p.total);
  const converged = p.a.info.mss;
  const probes = p.a.info.mtuProbes;
  const sent = p.sent.length;
  p.pathMtu = 1500;
  // Idle with nothing to send: no probe (TCP has no padding), no segment, no timer at all.
  p.run(p.now + 1000, true);
  assert.equal(p.a.pollAt(p.cx), Infinity);
  p.now += 700_000;
  p.run(p.now + 1000, true);
  assert.equal(p.sent.length, sent);
  assert.equal(p.a.info.mtuProbes, probes);
  // Data again: the raise timer expired while idle, so the first window carries a probe.
  const t0 = p.now;
  p.total += 100_000;
  p.run(p.now + 20);
  assert.ok(p.a.info.mtuProbes > probes);
  const firstProbe = p.sent.slice(sent).find((s) => s.len > converged)!;
  assert.ok(firstProbe.t - t0 <= 1, `probe at +${firstProbe.t - t0} ms`);
});

Deno.test("mtuProbing is validated", () => {
  assert.throws(() => new TcpSocket({ mtuProbing: "always" as "on" }), RangeError);
  assert.throws(() => new TcpSocket({ mtuProbing: 2 as unknown as "on" }), TypeError);
});
