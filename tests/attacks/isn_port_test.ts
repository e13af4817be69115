/**
 * ISN and ephemeral port unpredictability (issue 8 item 6; RFC 6528, RFC 6056).
 *
 * - 10,000 connections opened with `Interface.connectTcp` at one instant (so the RFC 6528 clock
 *   term is the same for all and only the keyed hash differs) and 10,000 core `TcpSocket.connect`
 *   calls toward 10,000 remote addresses. The ISNs must pass a battery of checks that a uniform
 *   generator passes with overwhelming probability (per-bit balance, byte chi-square, avalanche
 *   between neighbouring 4-tuples, chi-square of successive differences), and the same battery
 *   must reject deliberately bad sequences (linear in the port, a multiplicative hash, a
 *   clock-only ISN), so the checks can fail.
 * - The same 4-tuple later: the ISN moves forward with the 4 µs clock (250 per ms), so a new
 *   incarnation starts beyond an old one that sent less than 250 bytes per ms of its life.
 * - Ports: the 10,000 concurrent ones are distinct and in every 1/16th of 49152–65535; 10,000
 *   sequential picks spread evenly (chi-square over 64 buckets) with no structure between
 *   successive picks; a sequential allocator fails the same checks.
 */

import assert from "node:assert/strict";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { TcpSocket } from "../../src/socket/tcp/mod.ts";
import { initialSequenceNumber } from "../../src/socket/tcp/isn.ts";
import { Rng } from "../../src/rand.ts";
import { Ipv4Address } from "../../src/wire/address.ts";

const N = 10_000;
const PORT_MIN = 49152, PORT_MAX = 65535, PORT_COUNT = PORT_MAX - PORT_MIN + 1;
/** Tolerance in standard deviations: a fair check fails by chance with p < 1e-8 per statistic. */
const Z = 6;

/** Upper chi-square critical value for `df` degrees of freedom at Z sigma (Wilson–Hilferty). */
function chiCritical(df: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + Z * Math.sqrt(a)) ** 3;
}

function chiSquare(counts: number[], total: number): number {
  const e = total / counts.length;
  let x = 0;
  for (const c of counts) x += (c - e) ** 2 / e;
  return x;
}

interface Verdict {
  pass: boolean;
  failures: string[];
  worstBitDeviation: number;
  chiTopByte: number;
  chiLowByte: number;
  worstAvalancheDeviation: number;
  chiDiffTopByte: number;
  duplicates: number;
}

/** The battery: `xs` are u32 values in the order of their 4-tuples (neighbours differ by one field). */
function battery(xs: readonly number[]): Verdict {
  const n = xs.length;
  const failures: string[] = [];
  const tol = Z * Math.sqrt(n) / 2; // binomial(n, 1/2) standard deviation × Z
  const bitDev = (vals: Iterable<number>, count: number): number => {
    const ones = new Array<number>(32).fill(0);
    for (const v of vals) for (let b = 0; b < 32; b++) ones[b]! += (v >>> b) & 1;
    let worst = 0;
    for (const o of ones) worst = Math.max(worst, Math.abs(o - count / 2));
    return worst;
  };
  const worstBit = bitDev(xs, n);
  if (worstBit > tol) failures.push(`bit balance off by ${worstBit} > ${tol.toFixed(0)}`);
  const top = new Array<number>(256).fill(0), low = new Array<number>(256).fill(0);
  for (const v of xs) {
    top[v >>> 24]!++;
    low[v & 0xff]!++;
  }
  const crit = chiCritical(255);
  const chiTop = chiSquare(top, n), chiLow = chiSquare(low, n);
  if (chiTop > crit) failures.push(`top byte chi-square ${chiTop.toFixed(0)} > ${crit.toFixed(0)}`);
  if (chiLow > crit) failures.push(`low byte chi-square ${chiLow.toFixed(0)} > ${crit.toFixed(0)}`);
  // Avalanche: neighbouring 4-tuples' ISNs differ in each bit half the time.
  const xors: number[] = [], diffs = new Array<number>(256).fill(0);
  for (let i = 1; i < n; i++) {
    xors.push((xs[i]! ^ xs[i - 1]!) >>> 0);
    diffs[((xs[i]! - xs[i - 1]!) >>> 0) >>> 24]!++;
  }
  const worstAval = bitDev(xors, n - 1);
  if (worstAval > tol) failures.push(`avalanche off by ${worstAval} > ${tol.toFixed(0)}`);
  const chiDiff = chiSquare(diffs, n - 1);
  if (chiDiff > crit) {
    failures.push(`successive differences chi-square ${chiDiff.toFixed(0)} > ${crit.toFixed(0)}`);
  }
  const duplicates = n - new Set(xs).size;
  // Birthday bound for n uniform u32 values: n²/2^33 ≈ 0.012 expected for n = 10,000.
  if (duplicates > 3) failures.push(`${duplicates} duplicate values`);
  return {
    pass: failures.length === 0,
    failures,
    worstBitDeviation: worstBit,
    chiTopByte: chiTop,
    chiLowByte: chiLow,
    worstAvalancheDeviation: worstAval,
    chiDiffTopByte: chiDiff,
    duplicates,
  };
}

function show(v: Verdict): string {
  return `worst bit ±${v.worstBitDeviation}, chi² top ${v.chiTopByte.toFixed(0)} low ${
    v.chiLowByte.toFixed(0)
  } (critical ${chiCritical(255).toFixed(0)}), avalanche ±${v.worstAvalancheDeviation}, ` +
    `chi² of differences ${v.chiDiffTopByte.toFixed(0)}, duplicates ${v.duplicates}` +
    (v.pass ? "" : ` → FAILS: ${v.failures.join("; ")}`);
}

const SERVER = { addr: Ipv4Address.parse("10.0.0.2"), port: 80 };

function iface(): Interface {
  return new Interface({
    medium: "ip",
    addresses: ["10.0.0.1/8"],
    seed: 0x15a,
    isnSecret: new Rng(0x5ec7e7).fill(new Uint8Array(16)),
  });
}

Deno.test("ISNs of 10,000 connections pass the randomness battery; bad generators fail it", () => {
  // Interface.connectTcp: 10,000 concurrent connections to one server at t = 0.
  const a = iface();
  const set = new SocketSet();
  const conns: { port: number; iss: number }[] = [];
  for (let i = 0; i < N; i++) {
    const s = new TcpSocket();
    const local = a.connectTcp(set, s, SERVER, {}, 0);
    conns.push({ port: local.port, iss: s.info.sndUna });
  }
  conns.sort((x, y) => x.port - y.port);
  const viaIface = battery(conns.map((c) => c.iss));
  console.log(`ISN via Interface.connectTcp (${N} ports, t = 0): ${show(viaIface)}`);

  // Core sockets: one local endpoint, 10,000 remote addresses 10.1.0.0 + i, at t = 5 s.
  const b = iface();
  const cx = b.context(5000);
  const core: number[] = [];
  const local = { addr: Ipv4Address.parse("10.0.0.1"), port: 50000 };
  for (let i = 0; i < N; i++) {
    const s = new TcpSocket();
    s.connect(cx, { addr: new Ipv4Address(0x0a010000 + i), port: 443 }, local);
    core.push(s.info.sndUna);
  }
  const viaCore = battery(core);
  console.log(`ISN via TcpSocket.connect (${N} remote addresses): ${show(viaCore)}`);

  // The same battery must reject bad generators.
  const ports = conns.map((c) => c.port);
  const bad: Record<string, number[]> = {
    "linear in the port (64000 × port)": ports.map((p) => Math.imul(p, 64000) >>> 0),
    "multiplicative hash (port × 2654435761)": ports.map((p) => Math.imul(p, 2654435761) >>> 0),
    "clock only (RFC 793 style, all at t = 0)": ports.map(() => 0x12345678),
    "sum of tuple fields with a secret": ports.map((p) => (p * 0x01000193 + 0xdeadbeef) >>> 0),
  };
  for (const [name, xs] of Object.entries(bad)) {
    const v = battery(xs);
    console.log(`ISN battery on a bad generator, ${name}: ${v.failures.join("; ")}`);
    assert.ok(!v.pass, `the battery accepted ${name}`);
  }
  assert.ok(viaIface.pass, viaIface.failures.join("; "));
  assert.ok(viaCore.pass, viaCore.failures.join("; "));
});

Deno.test("the same 4-tuple later gets an ISN that moved forward by the 4 µs clock", () => {
  const secret = new Rng(99).fill(new Uint8Array(16));
  const local = { addr: Ipv4Address.parse("10.0.0.1"), port: 50001 };
  let prev = initialSequenceNumber(0, secret, local, SERVER);
  let worst = Infinity;
  for (let k = 1; k <= N; k++) {
    const t = k * 7.5; // a new incarnation every 7.5 ms
    const isn = initialSequenceNumber(t, secret, local, SERVER);
    const step = (isn - prev) >>> 0;
    worst = Math.min(worst, step);
    assert.equal(step, 1875, `incarnation ${k}: ISN moved ${step}`);
    prev = isn;
  }
  console.log(
    `ISN reuse: ${N} incarnations of one 4-tuple 7.5 ms apart, each ISN ${worst} beyond the previous ` +
      `(250 per ms): an incarnation that sent < 1,875 bytes never overlaps the next`,
  );
});

Deno.test("ephemeral ports: 10,000 concurrent are distinct and cover 49152–65535; sequential picks are uniform", () => {
  const a = iface();
  const set = new SocketSet();
  const ports: number[] = [];
  for (let i = 0; i < N; i++) ports.push(a.connectTcp(set, new TcpSocket(), SERVER, {}, 0).port);
  const distinct = new Set(ports).size;
  const sixteenth = new Array<number>(16).fill(0);
  for (const p of ports) {
    assert.ok(p >= PORT_MIN && p <= PORT_MAX, `port ${p}`);
    sixteenth[Math.floor((p - PORT_MIN) / (PORT_COUNT / 16))]!++;
  }
  console.log(
    `ports, ${N} concurrent: ${distinct} distinct, min ${Math.min(...ports)}, max ${
      Math.max(...ports)
    }, per 1/16th of the range ${sixteenth.join(" ")}`,
  );
  assert.equal(distinct, N, "two concurrent connections share a local port");
  for (const c of sixteenth) assert.ok(c > 0, "a 1/16th of the range is never used");

  /** Chi-square over 64 buckets and of successive differences (64 buckets). */
  const spread = (xs: number[]): { chi: number; chiDiff: number; pass: boolean } => {
    const buckets = new Array<number>(64).fill(0), diffs = new Array<number>(64).fill(0);
    for (let i = 0; i < xs.length; i++) {
      buckets[Math.floor((xs[i]! - PORT_MIN) / (PORT_COUNT / 64))]!++;
      if (i > 0) {
        const d = (xs[i]! - xs[i - 1]! + PORT_COUNT) % PORT_COUNT;
        diffs[Math.floor(d / (PORT_COUNT / 64))]!++;
      }
    }
    const chi = chiSquare(buckets, xs.length), chiDiff = chiSquare(diffs, xs.length - 1);
    return { chi, chiDiff, pass: chi <= chiCritical(63) && chiDiff <= chiCritical(63) };
  };
  // Sequential connections: each closes (and leaves the set) before the next picks a port.
  const b = iface();
  const seqSet = new SocketSet();
  const seq: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = new TcpSocket();
    seq.push(b.connectTcp(seqSet, s, SERVER, {}, i).port);
    seqSet.remove(seqSet.handleOf(s)!);
  }
  const good = spread(seq);
  const sequential = spread(Array.from({ length: N }, (_, i) => PORT_MIN + ((i * 7) % PORT_COUNT)));
  console.log(
    `ports, ${N} sequential: chi² ${good.chi.toFixed(1)}, chi² of successive differences ${
      good.chiDiff.toFixed(1)
    } (critical ${chiCritical(63).toFixed(1)}); a sequential allocator: ${
      sequential.chiDiff.toFixed(0)
    } → ${sequential.pass ? "passes (battery too weak)" : "rejected"}`,
  );
  assert.ok(!sequential.pass, "the port checks accept a sequential allocator");
  assert.ok(good.pass, `ports not uniform: chi² ${good.chi}, differences ${good.chiDiff}`);
  // Exhaustion is a clear refusal, not a hang or a reuse.
  const c = iface();
  const full = new SocketSet();
  for (let i = 0; i < PORT_COUNT; i++) c.connectTcp(full, new TcpSocket(), SERVER, {}, 0);
  assert.throws(
    () => c.connectTcp(full, new TcpSocket(), SERVER, {}, 0),
    (e: Error) => e.name === "NetError" && /EADDRNOTAVAIL|ephemeral/.test(String(e)),
  );
  console.log(`ports: the ${PORT_COUNT + 1}th concurrent connection is refused with EADDRNOTAVAIL`);
});
