// ECN for TCP (RFC 3168 §6.1): negotiation both ways and its refusal, the ECT(0) codepoint on
// new data only, the receiver's CE → ECE → CWR exchange, the sender's one reduction per window,
// and ECN flags on a connection that did not negotiate ECN being ignored. All on explicit time.

import assert from "node:assert/strict";
import { Ipv4Packet } from "../../../src/wire/ipv4.ts";
import { Ipv6Packet } from "../../../src/wire/ipv6.ts";
import { TcpListenSocket } from "../../../src/socket/tcp/listener.ts";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../../src/wire/address.ts";
import { drain, inject, pair } from "../../iface/helpers.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";
import type { TcpSocketOptions } from "../../../src/socket/tcp/config.ts";
import {
  ACK,
  established,
  fill,
  Harness,
  listening,
  LOCAL,
  LOCAL_SEQ,
  REMOTE,
  REMOTE_SEQ,
  SEND_TEMPL,
  SYN,
  TcpFlags,
  TcpSocket,
} from "./_harness.ts";

const { ECE, CWR } = TcpFlags;
const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;
const CE = 3;
const ECT0 = 2;

interface Out {
  repr: TcpRepr;
  ecn: number;
}

/** Drains dispatch() with the IP ECN codepoint the socket asks for on each segment. */
function outEcn(h: Harness): Out[] {
  const got: Out[] = [];
  const emitter = {
    emitTcp: (_s: unknown, _d: unknown, repr: TcpRepr, ecn?: number): boolean => {
      got.push({ repr, ecn: ecn ?? 0 });
      return true;
    },
  };
  while (got.length < 1000 && h.sock.dispatch(h.cx, emitter)) { /* drain */ }
  return got;
}

/** Injects a segment from REMOTE whose IP header carried the ECN field `ecn`. */
function sendMarked(h: Harness, seg: Partial<TcpRepr>, ecn: number): TcpRepr | null {
  return h.sock.process({ ...h.cx, ecn }, REMOTE.addr, LOCAL.addr, { ...SEND_TEMPL, ...seg });
}

/** A passive ECN connection (MSS 100, window 8000) whose SYN asked for ECN. */
function ecnEstablished(opts: TcpSocketOptions = {}): Harness {
  const h = established(
    { txBufferSize: 8192, rxBufferSize: 8192, ...opts },
    { flags: SYN | ECE | CWR, mss: 100, window: 8000 },
    { window: 8000 },
  );
  assert.equal(h.sock.info.ecn, true);
  return h;
}

Deno.test("TcpSocket with ecn on sends an ECN-setup SYN and uses ECN after an ECN-setup SYN-ACK", () => {
  const h = new Harness({ ecn: "on" });
  h.sock.connect(h.cx, REMOTE, LOCAL);
  const [syn] = outEcn(h);
  assert.equal(syn!.repr.flags, SYN | ECE | CWR);
  assert.equal(syn!.ecn, 0); // RFC 3168 §6.1.1: a SYN is never ECT
  h.send({ flags: SYN | ACK | ECE, seq: REMOTE_SEQ, ack: L });
  assert.deepStrictEqual([h.sock.state, h.sock.info.ecn], ["established", true]);
});

Deno.test("TcpSocket with ecn on refuses ECN when the SYN-ACK has no ECE or has ECE and CWR", () => {
  for (const flags of [SYN | ACK, SYN | ACK | ECE | CWR]) {
    const h = new Harness({ ecn: "on" });
    h.sock.connect(h.cx, REMOTE, LOCAL);
    h.out();
    h.send({ flags, seq: REMOTE_SEQ, ack: L });
    assert.deepStrictEqual([h.sock.state, h.sock.info.ecn], ["established", false]);
    h.sock.send(fill(10));
    const [data] = outEcn(h);
    assert.deepStrictEqual([data!.repr.payload.length, data!.ecn], [10, 0]);
  }
});

Deno.test("TcpSocket sends its SYN again after a timeout without the ECN flags", () => {
  const h = new Harness({ ecn: "on" });
  h.sock.connect(h.cx, REMOTE, LOCAL);
  assert.equal(outEcn(h)[0]!.repr.flags, SYN | ECE | CWR);
  h.at(1000);
  assert.equal(outEcn(h)[0]!.repr.flags, SYN); // RFC 3168 §6.1.1.1
});

Deno.test("TcpSocket by default does not ask for ECN but accepts an ECN-setup SYN", () => {
  const active = new Harness({});
  active.sock.connect(active.cx, REMOTE, LOCAL);
  assert.equal(outEcn(active)[0]!.repr.flags, SYN);

  const h = listening({});
  h.send({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ });
  const [synAck] = outEcn(h);
  assert.equal(synAck!.repr.flags, SYN | ACK | ECE); // §6.1.1: ECE without CWR
  assert.equal(synAck!.ecn, 0);
  h.send({ seq: R, ack: L });
  assert.equal(h.sock.info.ecn, true);
});

Deno.test("TcpSocket refuses ECN with ecn off, and for a SYN with ECE alone", () => {
  const cases: [TcpSocketOptions, number][] = [
    [{ ecn: "off" }, SYN | ECE | CWR],
    [{}, SYN | ECE],
  ];
  for (const [opts, flags] of cases) {
    const h = listening(opts);
    h.send({ flags, seq: REMOTE_SEQ });
    assert.equal(outEcn(h)[0]!.repr.flags, SYN | ACK);
    h.send({ seq: R, ack: L });
    assert.deepStrictEqual([h.sock.state, h.sock.info.ecn], ["established", false]);
  }
});

Deno.test("TcpSocket rejects an ecn mode that does not exist", () => {
  assert.throws(() => new TcpSocket({ ecn: "maybe" as "on" }), RangeError);
  assert.throws(() => new TcpSocket({ ecn: 1 as unknown as "on" }), TypeError);
});

Deno.test("TcpSocket marks new data ECT(0) and pure ACKs, probes and retransmissions Not-ECT", () => {
  const h = ecnEstablished();
  h.sock.send(fill(300));
  const first = outEcn(h);
  assert.deepStrictEqual(first.map((o) => [o.repr.payload.length, o.ecn]), [
    [100, ECT0],
    [100, ECT0],
    [100, ECT0],
  ]);
  // Data from the peer: the ACK for it is a reply of process(), which the interface sends
  // Not-ECT (RFC 3168 §6.1.4; see the interface test below).
  const reply = h.send({ seq: R, ack: L, payload: fill(50), window: 8000 });
  assert.deepStrictEqual([reply?.flags, reply?.payload.length], [ACK, 0]);
  // The RTO retransmission is Not-ECT (§6.1.5).
  h.at(1000);
  const rtx = outEcn(h);
  assert.equal(rtx[0]!.repr.seq, L);
  assert.deepStrictEqual([rtx[0]!.repr.payload.length, rtx[0]!.ecn], [100, 0]);
});

Deno.test("TcpSocket echoes CE with ECE on every ACK until the peer's CWR", () => {
  const h = ecnEstablished();
  let seq = R;
  const data = (ecn: number, flags: number = ACK): TcpRepr[] => {
    const r = sendMarked(h, { seq, ack: L, flags, payload: fill(10), window: 8000 }, ecn);
    seq += 10;
    return [...(r === null ? [] : [r]), ...h.out()];
  };
  const ackFlags = (segs: TcpRepr[]) => segs.map((s) => s.flags & (ECE | CWR | ACK));
  assert.deepStrictEqual(ackFlags(data(ECT0)), [ACK]);
  assert.deepStrictEqual(ackFlags(data(CE)), [ACK | ECE]);
  assert.deepStrictEqual(ackFlags(data(ECT0)), [ACK | ECE]); // still echoing: no CWR yet
  assert.deepStrictEqual(ackFlags(data(ECT0, ACK | CWR)), [ACK]);
  assert.deepStrictEqual(ackFlags(data(ECT0)), [ACK]);
  assert.deepStrictEqual(ackFlags(data(CE, ACK | CWR)), [ACK | ECE]); // CWR and a new CE
  assert.equal(h.sock.info.ceReceived, 2);
});

Deno.test("TcpSocket acknowledges the first CE at once despite delayed ACKs", () => {
  const h = ecnEstablished({ delayedAck: 40 });
  const r = sendMarked(h, { seq: R, ack: L, payload: fill(10), window: 8000 }, CE);
  const segs = [...(r === null ? [] : [r]), ...h.out()];
  assert.equal(segs.length, 1);
  assert.equal(segs[0]!.flags & ECE, ECE);
});

Deno.test("TcpSocket reduces cwnd once per window on ECE, without retransmitting, and sends CWR", () => {
  const h = ecnEstablished();
  h.at(100);
  h.sock.send(fill(4000));
  assert.equal(outEcn(h).length, 10); // IW: 10 segments of 100
  const cwnd0 = h.sock.info.cwnd;
  assert.equal(cwnd0, 1000);
  h.at(200);
  // ECE on the ACK of two segments: one reduction, ssthresh from the flight of 800 (NewReno:
  // half), cwnd to it.
  h.send({ seq: R, ack: L + 200, flags: ACK | ECE, window: 8000 });
  let i = h.sock.info;
  assert.deepStrictEqual([i.ecnReductions, i.ssthresh, i.cwnd, i.retransmits], [1, 400, 400, 0]);
  // Nothing fits: 800 bytes are in flight against a cwnd of 400.
  assert.equal(outEcn(h).length, 0);
  // Further ECE for the same window changes nothing.
  for (let k = 3; k <= 8; k++) h.send({ seq: R, ack: L + 100 * k, flags: ACK | ECE, window: 8000 });
  i = h.sock.info;
  assert.deepStrictEqual([i.ecnReductions, i.retransmits], [1, 0]);
  // The first new data carries CWR, and only the first.
  const next = outEcn(h);
  assert.ok(next.length >= 2, `${next.length} segments`);
  assert.equal(next[0]!.repr.seq, L + 1000);
  assert.deepStrictEqual([next[0]!.repr.flags & CWR, next[0]!.ecn], [CWR, ECT0]);
  for (const o of next.slice(1)) assert.equal(o.repr.flags & CWR, 0);
  // The window that was in flight is acknowledged, no ECE: no reduction.
  h.send({ seq: R, ack: L + 1000, window: 8000 });
  assert.equal(h.sock.info.ecnReductions, 1);
  // ECE for data sent after the reduction: a new congestion event, a second reduction.
  h.send({ seq: R, ack: L + 1100, flags: ACK | ECE, window: 8000 });
  i = h.sock.info;
  assert.deepStrictEqual([i.ecnReductions, i.retransmits], [2, 0]);
  assert.ok(i.cwnd < 400, `cwnd ${i.cwnd}`);
});

Deno.test("TcpSocket ignores ECE, CWR and CE on a connection without ECN", () => {
  const h = established(
    { txBufferSize: 8192 },
    { mss: 100, window: 8000 },
    { window: 8000 },
  );
  assert.equal(h.sock.info.ecn, false);
  h.sock.send(fill(1000));
  assert.equal(outEcn(h).length, 10);
  const cwnd = h.sock.info.cwnd;
  h.send({ seq: R, ack: L + 200, flags: ACK | ECE, window: 8000 });
  h.sock.send(fill(200));
  const next = outEcn(h);
  assert.ok(next.length > 0);
  for (const o of next) assert.deepStrictEqual([o.repr.flags & CWR, o.ecn], [0, 0]);
  const r = sendMarked(h, { seq: R, ack: L + 200, payload: fill(10), window: 8000 }, CE);
  for (const s of [...(r === null ? [] : [r]), ...h.out()]) assert.equal(s.flags & ECE, 0);
  const i = h.sock.info;
  assert.deepStrictEqual([i.ecnReductions, i.ceReceived, i.cwnd >= cwnd], [0, 0, true]);
});

/** The ECN field and TCP payload length of an IP packet (medium "ip"). */
function ipEcnOf(pkt: Uint8Array): { ecn: number; tcpPayload: number; syn: boolean } {
  const v4 = pkt[0]! >> 4 === 4;
  const hdr = v4 ? (pkt[0]! & 15) * 4 : 40;
  const total = v4 ? (pkt[2]! << 8) | pkt[3]! : 40 + ((pkt[4]! << 8) | pkt[5]!);
  const ecn = v4 ? new Ipv4Packet(pkt).ecn : new Ipv6Packet(pkt).trafficClass & 3;
  const doff = (pkt[hdr + 12]! >> 4) * 4;
  return { ecn, tcpPayload: total - hdr - doff, syn: (pkt[hdr + 13]! & 2) !== 0 };
}

/** Marks the ECN field of an IP packet CE (a router's AQM), fixing the IPv4 checksum. */
function markCe(pkt: Uint8Array): void {
  if (pkt[0]! >> 4 === 4) {
    const p = new Ipv4Packet(pkt);
    p.ecn = 3;
    p.fillChecksum();
  } else {
    const p = new Ipv6Packet(pkt);
    p.trafficClass = (p.trafficClass & ~3) | 3;
  }
}

for (const v of [4, 6] as const) {
  Deno.test(`Interface carries ECT(0) out and CE in for a TCP/IPv${v} ECN connection`, () => {
    const [a, b] = pair("ip", {}, {}, { queueLen: 1024 });
    const any = v === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
    const listener = new TcpListenSocket({ addr: any, port: 8080 }, { socket: {} });
    b.iface.listenTcp(b.sockets, listener);
    const client = new TcpSocket({ ecn: "on" });
    const remote = { addr: parseIpAddress(v === 4 ? "192.0.2.2" : "2001:db8::2"), port: 8080 };
    a.iface.connectTcp(a.sockets, client, remote, {}, 0);
    const data = fill(200_000);
    let sent = 0, got = 0, ectData = 0, marked = 0;
    let server: TcpSocket | null = null;
    const buf = new Uint8Array(65536);
    for (let t = 0; t < 20_000 && got < data.length; t++) {
      a.iface.poll(t, a.dev, a.sockets);
      // A → B: data must be ECT(0) (except the SYN and retransmissions); every 25th is marked.
      const ab = drain(b.dev, t);
      for (const f of ab) {
        const e = ipEcnOf(f);
        if (e.syn || e.tcpPayload === 0) assert.equal(e.ecn, 0, "a SYN or pure ACK is Not-ECT");
        else if (e.ecn === 2) {
          ectData++;
          if (ectData % 25 === 0) {
            markCe(f);
            marked++;
          }
        }
      }
      inject(a.dev, ab, t);
      b.iface.poll(t, b.dev, b.sockets);
      server ??= b.iface.acceptTcp(b.sockets, listener);
      for (const f of drain(a.dev, t)) {
        assert.equal(ipEcnOf(f).ecn, 0, "B sends only pure ACKs: Not-ECT");
        inject(b.dev, [f], t);
      }
      if (client.state === "established" && sent < data.length) {
        sent += client.send(data.subarray(sent));
      }
      if (server !== null) { for (let n = server.recv(buf); n > 0; n = server.recv(buf)) got += n; }
    }
    assert.equal(got, data.length);
    assert.ok(marked >= 4, `${marked} marked`);
    const ci = client.info, si = server!.info;
    assert.deepStrictEqual([ci.ecn, si.ecn], [true, true]);
    assert.equal(si.ceReceived, marked);
    assert.ok(ci.ecnReductions >= 1, `${ci.ecnReductions} reductions`);
    assert.ok(ci.ecnReductions <= marked);
    assert.equal(ci.retransmits, 0);
  });
}

Deno.test("TcpSocket answers ECE during loss recovery with CWR only: the loss already reduced", () => {
  const h = ecnEstablished();
  h.at(100);
  h.sock.send(fill(1000));
  assert.equal(outEcn(h).length, 10);
  h.at(200);
  // Three duplicate ACKs (no SACK on this connection): fast recovery (RFC 6582).
  for (let k = 0; k < 3; k++) h.send({ seq: R, ack: L, window: 8000 });
  const i0 = h.sock.info;
  assert.equal(i0.inRecovery, true);
  const ssthresh = i0.ssthresh;
  const rtx = outEcn(h);
  assert.equal(rtx[0]!.repr.seq, L);
  assert.equal(rtx[0]!.ecn, 0); // a retransmission is Not-ECT
  h.send({ seq: R, ack: L, flags: ACK | ECE, window: 8000 });
  const i1 = h.sock.info;
  assert.deepStrictEqual([i1.ecnReductions, i1.ssthresh], [0, ssthresh]);
  // Recovery ends; the next new data carries CWR.
  h.send({ seq: R, ack: L + 1000, window: 8000 });
  h.sock.send(fill(100));
  const next = outEcn(h);
  assert.equal(next[0]!.repr.flags & CWR, CWR);
  assert.equal(h.sock.info.ecnReductions, 0);
});
