/**
 * Frame fuzzing (issue 8 item 5). A corpus of valid frames (ARP, NDP, ICMPv4/v6 echo, UDP over
 * IPv4 and IPv6 including IPv4 fragments, TCP handshakes, data, ACKs with SACK and timestamps,
 * FIN) is captured from two Ethernet interfaces talking through the stack's own emit path. The
 * frames are then mutated with a seeded generator (bit flips, byte overwrites, truncation,
 * extension, IP/UDP length-field edits, splices of two frames) and fed to `poll` of a target
 * interface that holds a listening TcpSocket, a TcpListenSocket, an established connection, a
 * UDP socket and an ICMP socket. No exception may escape `poll`, and after every frame:
 * SND.UNA ≤ SND.NXT in sequence space, buffer lengths ≤ capacities, and no counter decreases.
 *
 * Two targets run in turn: one verifying checksums (most mutations die at the checksum), one on a
 * device that declares integrity (no checksum verification), so mutations reach the parsers and
 * the TCP state machine.
 *
 * Budget: `SMOLNET_FUZZ_SECONDS` of wall time (default 8), seed `SMOLNET_FUZZ_SEED` (default 1).
 */

import assert from "node:assert/strict";
import { Interface } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import {
  checksumAll,
  checksumNone,
  type Device,
  type DeviceCapabilities,
} from "../../src/phy/device.ts";
import { Rng } from "../../src/rand.ts";
import { IcmpSocket } from "../../src/socket/icmp.ts";
import { UdpSocket } from "../../src/socket/udp.ts";
import { TcpListenSocket, TcpSocket } from "../../src/socket/tcp/mod.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/wire/address.ts";

/** Two ends of a wire in the same process; optionally records what `receive` hands out. */
class Wire implements Device {
  readonly capabilities: DeviceCapabilities;
  readonly rx: Uint8Array[] = [];
  peer: Wire | null = null;
  captured: Uint8Array[] | null = null;
  #scratch = new Uint8Array(1514);
  #pending = -1;

  constructor(caps: DeviceCapabilities) {
    this.capabilities = caps;
  }

  receive(): Uint8Array | null {
    const f = this.rx.shift() ?? null;
    if (f !== null) this.captured?.push(f.slice());
    return f;
  }

  canTransmit(): boolean {
    return true;
  }

  transmit(_now: number, len: number): Uint8Array | null {
    if (len > this.capabilities.mtu) return null;
    this.#pending = len;
    return this.#scratch.subarray(0, len);
  }

  commit(): void {
    if (this.#pending < 0) return;
    this.peer?.rx.push(this.#scratch.slice(0, this.#pending));
    this.#pending = -1;
  }
}

function caps(checksum: boolean): DeviceCapabilities {
  return {
    medium: "ethernet",
    mtu: 1514,
    checksum: checksum ? checksumAll() : checksumNone(),
    maxBurstSize: null,
  };
}

interface Host {
  iface: Interface;
  sockets: SocketSet;
  dev: Wire;
}

function host(n: number, dev: Wire): Host {
  return {
    iface: new Interface({
      hardwareAddr: `02:00:00:00:00:0${n}`,
      addresses: [`10.0.0.${n}/24`, `fd00::${n}/64`],
      seed: n,
      isnSecret: new Uint8Array(16).fill(n),
      gratuitousArp: false,
    }),
    sockets: new SocketSet(),
    dev,
  };
}

function pump(hosts: Host[], t0: number, t1: number): void {
  for (let t = t0; t <= t1; t++) {
    for (let k = 0; k < 8; k++) {
      let any = false;
      for (const h of hosts) any = h.iface.poll(t, h.dev, h.sockets) || any;
      if (!any) break;
    }
  }
}

interface Target {
  b: Host;
  established: TcpSocket;
  now: number;
}

const B4 = parseIpAddress("10.0.0.2");
const B6 = parseIpAddress("fd00::2");

/** Builds a talking pair; returns the target (b) and the frames b received while talking. */
function setup(checksum: boolean): { target: Target; corpus: Uint8Array[] } {
  const da = new Wire(caps(checksum)), db = new Wire(caps(checksum));
  da.peer = db;
  db.peer = da;
  const a = host(1, da), b = host(2, db);
  const corpus: Uint8Array[] = [];
  db.captured = corpus;
  // b: a listening TcpSocket (port 80), a TcpListenSocket (81), a target of an established
  // connection (82), UDP 53 and an ICMP socket.
  const any4 = { addr: Ipv4Address.UNSPECIFIED, port: 0 };
  b.iface.listenTcp(b.sockets, new TcpSocket(), { ...any4, port: 80 });
  const listener = new TcpListenSocket({ addr: Ipv6Address.UNSPECIFIED, port: 81 });
  b.iface.listenTcp(b.sockets, listener);
  const server = new TcpSocket({ rxBufferSize: 8192, txBufferSize: 8192 });
  b.iface.listenTcp(b.sockets, server, { ...any4, port: 82 });
  const udpB = new UdpSocket();
  b.iface.bindUdp(b.sockets, udpB, { ...any4, port: 53 });
  b.iface.bindIcmp(b.sockets, new IcmpSocket(), 0x1234);
  // a: pings over both families, UDP (one datagram fragmented), TCP over v4 and v6.
  const ping = new IcmpSocket();
  a.iface.bindIcmp(a.sockets, ping, 0x4242);
  ping.sendEcho(B4, 1, new Uint8Array(56).fill(1));
  ping.sendEcho(B6, 2, new Uint8Array(56).fill(2));
  const udpA = new UdpSocket();
  a.iface.bindUdp(a.sockets, udpA, { ...any4, port: 0 });
  udpA.send(new Uint8Array(32).fill(3), { addr: B4, port: 53 });
  udpA.send(new Uint8Array(3000).fill(4), { addr: B4, port: 53 });
  const c6 = new TcpSocket();
  a.iface.connectTcp(a.sockets, c6, { addr: B6, port: 81 }, {}, 0);
  const client = new TcpSocket({ rxBufferSize: 8192, txBufferSize: 8192 });
  a.iface.connectTcp(a.sockets, client, { addr: B4, port: 82 }, {}, 0);
  pump([a, b], 0, 20);
  assert.equal(server.state, "established");
  // Data both ways, with a hole so SACK blocks appear, then a half-close on v6.
  client.send(new Uint8Array(6000).fill(5));
  server.send(new Uint8Array(3000).fill(6));
  pump([a, b], 21, 60);
  const sink = new Uint8Array(16384);
  server.recv(sink);
  client.recv(sink);
  const accepted = b.iface.acceptTcp(b.sockets, listener);
  c6.close();
  pump([a, b], 61, 120);
  accepted?.close();
  pump([a, b], 121, 200);
  db.captured = null;
  assert.ok(corpus.length >= 15, `corpus of ${corpus.length} frames`);
  return { target: { b, established: server, now: 200 }, corpus };
}

/** One mutation of `frame` (a fresh array). */
function mutate(rng: Rng, frame: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let f = frame.slice();
  const rounds = 1 + rng.below(3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.below(7)) {
      case 0: { // bit flips
        const n = 1 + rng.below(8);
        for (let i = 0; i < n && f.length > 0; i++) {
          const bit = rng.below(f.length * 8);
          f[bit >>> 3] = f[bit >>> 3]! ^ (1 << (bit & 7));
        }
        break;
      }
      case 1: { // interesting byte values
        if (f.length === 0) break;
        const vals = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x05, 0x45, 0x60];
        f[rng.below(f.length)] = vals[rng.below(vals.length)]!;
        break;
      }
      case 2: // truncation
        f = f.slice(0, rng.below(f.length + 1));
        break;
      case 3: { // extension with random bytes
        const g = new Uint8Array(Math.min(1514, f.length + 1 + rng.below(64)));
        g.set(f);
        rng.fill(g.subarray(f.length));
        f = g;
        break;
      }
      case 4: { // length fields: IPv4 total length / header length, IPv6 payload, UDP/TCP words
        const offs = [16, 17, 14, 18, 19, 14 + 20 + 4, 14 + 20 + 12, 14 + 40 + 4, 14 + 40 + 12];
        const o = offs[rng.below(offs.length)]!;
        if (o + 1 >= f.length) break;
        const cur = (f[o]! << 8) | f[o + 1]!;
        const choices = [
          0,
          0xffff,
          cur + 1,
          cur - 1,
          cur + 8,
          f.length,
          f.length - 14,
          rng.nextU32(),
        ];
        const v = choices[rng.below(choices.length)]! & 0xffff;
        f[o] = v >>> 8;
        f[o + 1] = v & 0xff;
        break;
      }
      case 5: { // splice: a prefix of this frame and a suffix of another
        const other = corpus[rng.below(corpus.length)]!;
        const cut = rng.below(f.length + 1), from = rng.below(other.length + 1);
        const g = new Uint8Array(Math.min(1514, cut + other.length - from));
        g.set(f.subarray(0, Math.min(cut, g.length)));
        g.set(
          other.subarray(from, from + g.length - Math.min(cut, g.length)),
          Math.min(cut, g.length),
        );
        f = g;
        break;
      }
      default: { // random run of bytes
        if (f.length === 0) break;
        const at = rng.below(f.length), n = 1 + rng.below(16);
        rng.fill(f.subarray(at, at + n));
      }
    }
  }
  return f;
}

/** Every numeric counter of the target, in a fixed order. */
function counters(t: Target): number[] {
  const out: number[] = [];
  const c = t.b.iface.counters as unknown as Record<string, unknown>;
  for (const k of Object.keys(c).sort()) if (typeof c[k] === "number") out.push(c[k] as number);
  const i = t.established.info as unknown as Record<string, unknown>;
  for (
    const k of [
      "retransmits",
      "fastRetransmits",
      "rtos",
      "dupAcks",
      "outOfOrderSegments",
      "challengeAcks",
      "challengeAcksLimited",
      "segmentsIn",
      "segmentsOut",
      "bytesIn",
      "bytesOut",
      "droppedOutOfWindow",
      "droppedPaws",
      "droppedBadAck",
      "droppedRst",
      "droppedAssembler",
      "droppedOther",
    ]
  ) out.push(i[k] as number);
  return out;
}

function checkInvariants(t: Target, before: number[], where: () => string): number[] {
  const s = t.b.sockets;
  for (let i = 0; i < s.size; i++) {
    const sock = s.at(i);
    if (!(sock instanceof TcpSocket)) continue;
    const info = sock.info;
    const inFlight = (info.sndNxt - info.sndUna) >>> 0;
    if (inFlight >= 2 ** 31) {
      assert.fail(`SND.UNA ${info.sndUna} > SND.NXT ${info.sndNxt} ${where()}`);
    }
    if (sock.sendQueue > sock.sendCapacity) assert.fail(`send queue over capacity ${where()}`);
    if (sock.recvQueue > sock.recvCapacity) assert.fail(`receive queue over capacity ${where()}`);
  }
  const after = counters(t);
  for (let k = 0; k < after.length; k++) {
    if (after[k]! < before[k]!) {
      assert.fail(`counter ${k} went from ${before[k]} to ${after[k]} ${where()}`);
    }
  }
  return after;
}

function envNumber(name: string, fallback: number): number {
  try {
    const v = Deno.env.get(name);
    return v === undefined ? fallback : Number(v);
  } catch {
    return fallback;
  }
}

Deno.test("Interface.poll survives mutated frames of every protocol with TCP, UDP and ICMP sockets open and invariants intact", () => {
  const budgetMs = envNumber("SMOLNET_FUZZ_SECONDS", 8) * 1000;
  const seed = envNumber("SMOLNET_FUZZ_SEED", 1) >>> 0;
  const rng = new Rng(seed);
  const wall0 = performance.now();
  let total = 0;
  const perTarget: string[] = [];
  for (const checksum of [true, false]) {
    const { target, corpus } = setup(checksum);
    const dev = target.b.dev;
    dev.peer = null; // egress goes nowhere
    let before = counters(target);
    let n = 0;
    const deadline = wall0 + (checksum ? budgetMs / 2 : budgetMs);
    while (performance.now() < deadline) {
      for (let k = 0; k < 256; k++) {
        const base = corpus[rng.below(corpus.length)]!;
        const frame = rng.below(16) === 0 ? base.slice() : mutate(rng, base, corpus);
        dev.rx.push(frame);
        target.now += rng.below(4) === 0 ? rng.below(2000) : 1;
        const where = (): string =>
          `(seed ${seed}, checksums ${checksum}, frame ${n}: ${
            Array.from(frame, (b) => b.toString(16).padStart(2, "0")).join("")
          })`;
        try {
          target.b.iface.poll(target.now, dev, target.b.sockets);
        } catch (e) {
          assert.fail(`poll threw ${e instanceof Error ? e.stack : e} ${where()}`);
        }
        before = checkInvariants(target, before, where);
        n++;
      }
    }
    total += n;
    perTarget.push(
      `${
        checksum ? "checksums verified" : "no checksum verification"
      }: ${n} frames, corpus ${corpus.length}, ` +
        `drops ${
          JSON.stringify(target.b.iface.counters.snapshot())
        }, established socket ${target.established.state}`,
    );
  }
  const secs = (performance.now() - wall0) / 1000;
  for (const line of perTarget) console.log(`fuzz ${line}`);
  console.log(
    `fuzz: ${total} frames in ${secs.toFixed(1)} s = ${
      Math.round(total / secs)
    } frames/s (seed ${seed})`,
  );
  assert.ok(total > 0);
});
