// Shared test harness for segment-level TcpSocket tests: a fixed context, a recording
// emitter, segment templates and helpers to reach the common states.

import assert from "node:assert/strict";
import { Rng } from "../../../src/rand.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import { TcpListenSocket } from "../../../src/socket/tcp/listener.ts";
import { TcpSocket } from "../../../src/socket/tcp/socket.ts";
import { type IpEndpoint, Ipv4Address } from "../../../src/wire/address.ts";
import { tcpBufferLen, TcpFlags, type TcpRepr } from "../../../src/wire/tcp.ts";

export { TcpFlags };
export const { FIN, SYN, RST, PSH, ACK, URG } = TcpFlags;

export const LOCAL: IpEndpoint = { addr: Ipv4Address.parse("192.168.1.1"), port: 80 };
export const REMOTE: IpEndpoint = { addr: Ipv4Address.parse("192.168.1.2"), port: 49500 };
/** Our ISN (forced through the test-only option). */
export const LOCAL_SEQ = 10_000;
/** The peer's ISN. */
export const REMOTE_SEQ = 1_000_000;
export const EMPTY = new Uint8Array(0);

/** A segment from REMOTE to LOCAL; spread and override per test. */
export const SEND_TEMPL: TcpRepr = {
  srcPort: REMOTE.port,
  dstPort: LOCAL.port,
  seq: 0,
  ack: 0,
  flags: ACK,
  window: 256,
  urgent: 0,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: null,
  payload: EMPTY,
};

/** A segment from LOCAL to REMOTE, as the socket emits it; spread and override per test. */
export const RECV_TEMPL: TcpRepr = {
  srcPort: LOCAL.port,
  dstPort: REMOTE.port,
  seq: 0,
  ack: 0,
  flags: ACK,
  window: 64,
  urgent: 0,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: null,
  payload: EMPTY,
};

/** Options for segment tests: small buffers, no TCP options, immediate ACKs, fixed ISN. */
export const BASE_OPTS: TcpSocketOptions = {
  rxBufferSize: 64,
  txBufferSize: 64,
  initialSequenceNumber: LOCAL_SEQ,
  timestampOffset: 0,
  sack: false,
  timestamps: false,
  windowScale: false,
  delayedAck: 0,
  rto: { initialRto: 1000, minRto: 200 },
};

export function bytes(...b: number[]): Uint8Array {
  return new Uint8Array(b);
}

export function fill(n: number, start = 0): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (start + i) & 0xff;
  return a;
}

/** A TcpSocket under test with its own clock, context and recorded output. */
export class Harness {
  sock: TcpSocket;
  now = 0;
  readonly rng = new Rng(7);
  readonly secret = new Uint8Array(16).fill(3);
  limiter = new TokenBucket({ burst: 1000, interval: 1000 });
  ipMtu = 1500;

  constructor(opts: TcpSocketOptions = {}) {
    this.sock = new TcpSocket({ ...BASE_OPTS, ...opts });
  }

  get cx(): SocketContext {
    return {
      now: this.now,
      random: this.rng,
      ipMtu: this.ipMtu,
      isnSecret: this.secret,
      challengeAckLimiter: this.limiter,
    };
  }

  /** Injects a segment from REMOTE (template spread with `seg`); returns the reply. */
  send(seg: Partial<TcpRepr>): TcpRepr | null {
    const r = this.sock.process(this.cx, REMOTE.addr, LOCAL.addr, { ...SEND_TEMPL, ...seg });
    if (r !== null) this.checkFits(r);
    return r;
  }

  /** Every segment the socket builds must fit the IP MTU (RFC 6691, RFC 9293 §3.7.1). */
  checkFits(repr: TcpRepr): void {
    const len = 20 + tcpBufferLen(repr);
    assert.ok(len <= this.ipMtu, `a ${len}-byte IPv4 packet exceeds the ${this.ipMtu}-byte MTU`);
  }

  /** Drains dispatch() at the current time and returns every segment, in order. */
  out(limit = 1000): TcpRepr[] {
    const got: TcpRepr[] = [];
    const emitter = {
      emitTcp: (src: Ipv4Address | unknown, dst: unknown, repr: TcpRepr): boolean => {
        assert.ok((src as Ipv4Address).equals(LOCAL.addr), "source address");
        assert.ok((dst as Ipv4Address).equals(REMOTE.addr), "destination address");
        this.checkFits(repr);
        got.push({ ...repr, payload: repr.payload.slice() });
        return true;
      },
    };
    while (got.length < limit && this.sock.dispatch(this.cx, emitter)) { /* drain */ }
    return got;
  }

  /** Asserts that dispatch() emits exactly `expected` (each spread over RECV_TEMPL). */
  expect(...expected: Partial<TcpRepr>[]): void {
    assert.deepStrictEqual(this.out(), expected.map((e) => ({ ...RECV_TEMPL, ...e })));
  }

  /** Asserts that dispatch() emits nothing. */
  expectNothing(): void {
    assert.deepStrictEqual(this.out(), []);
  }

  /** Sets the clock. */
  at(t: number): this {
    this.now = t;
    return this;
  }

  get pollAt(): number {
    return this.sock.pollAt(this.cx);
  }
}

/** `{...RECV_TEMPL, ...seg}`, for comparing a process() reply. */
export function reply(seg: Partial<TcpRepr>): TcpRepr {
  return { ...RECV_TEMPL, ...seg };
}

/** Asserts a process() reply exactly. */
export function assertReply(actual: TcpRepr | null, expected: Partial<TcpRepr> | null): void {
  if (expected === null) {
    assert.equal(actual, null);
    return;
  }
  assert.ok(actual !== null, "expected a reply");
  assert.deepStrictEqual(
    { ...actual, payload: actual.payload.slice() },
    reply(expected),
  );
}

/** A socket in LISTEN on LOCAL. */
export function listening(opts: TcpSocketOptions = {}): Harness {
  const h = new Harness(opts);
  h.sock.listen(LOCAL);
  return h;
}

/** A passive socket in SYN-RECEIVED (SYN-ACK already emitted and discarded). */
export function synReceived(opts: TcpSocketOptions = {}, syn: Partial<TcpRepr> = {}): Harness {
  const h = listening(opts);
  assert.equal(h.send({ flags: SYN, seq: REMOTE_SEQ, ack: 0, ...syn }), null);
  assert.equal(h.out().length, 1);
  return h;
}

/** A passive socket in ESTABLISHED: our next seq is LOCAL_SEQ + 1, the peer's REMOTE_SEQ + 1. */
export function established(
  opts: TcpSocketOptions = {},
  syn: Partial<TcpRepr> = {},
  ack: Partial<TcpRepr> = {},
): Harness {
  const h = synReceived(opts, syn);
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, ...ack }), null);
  assert.equal(h.sock.state, "established");
  return h;
}

/**
 * A passive socket in ESTABLISHED whose handshake took `rtt` ms (SRTT = min RTT = `rtt`), the
 * clock left at `rtt`: for tests of time-based loss detection (RACK-TLP).
 */
export function establishedAfter(
  rtt: number,
  opts: TcpSocketOptions = {},
  syn: Partial<TcpRepr> = {},
  ack: Partial<TcpRepr> = {},
): Harness {
  const h = synReceived(opts, syn);
  h.at(rtt);
  assert.equal(h.send({ seq: REMOTE_SEQ + 1, ack: LOCAL_SEQ + 1, ...ack }), null);
  assert.equal(h.sock.state, "established");
  return h;
}

/** An active socket in SYN-SENT (the SYN already emitted and discarded). */
export function synSent(opts: TcpSocketOptions = {}): Harness {
  const h = new Harness(opts);
  h.sock.connect(h.cx, REMOTE, LOCAL);
  assert.equal(h.out().length, 1);
  return h;
}

export { TcpListenSocket, TcpSocket };
