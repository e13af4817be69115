// TcpListenSocket: SYN queue, accept queue, eviction under SYN flood, close.

import assert from "node:assert/strict";
import type { TcpListenOptions } from "../../../src/socket/tcp/listener.ts";
import { Ipv4Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";
import {
  ACK,
  BASE_OPTS,
  bytes,
  Harness,
  LOCAL,
  LOCAL_SEQ,
  REMOTE,
  REMOTE_SEQ,
  RST,
  SEND_TEMPL,
  SYN,
  TcpListenSocket,
  type TcpSocket,
} from "./_harness.ts";

const H = new Harness();

function listener(opts: TcpListenOptions = {}): TcpListenSocket {
  return new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: LOCAL.port }, {
    socket: BASE_OPTS,
    ...opts,
  });
}

function syn(port: number, extra: Partial<TcpRepr> = {}): TcpRepr {
  return { ...SEND_TEMPL, srcPort: port, flags: SYN, seq: REMOTE_SEQ, ack: 0, ...extra };
}

/** Offers a SYN from `port`, feeds it to the child and drains its SYN-ACK. */
function open(l: TcpListenSocket, port: number): TcpSocket | null {
  const child = l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, syn(port));
  if (child === null) return null;
  assert.equal(child.state, "listen");
  assert.equal(child.process(H.cx, REMOTE.addr, LOCAL.addr, syn(port)), null);
  const out: TcpRepr[] = [];
  child.dispatch(H.cx, { emitTcp: (_s, _d, r) => (out.push(r), true) });
  assert.equal(out[0]?.flags, SYN | ACK);
  assert.equal(out[0]?.dstPort, port);
  return child;
}

function ackFrom(child: TcpSocket, port: number, payload: Uint8Array = new Uint8Array(0)): void {
  child.process(H.cx, REMOTE.addr, LOCAL.addr, {
    ...SEND_TEMPL,
    srcPort: port,
    seq: REMOTE_SEQ + 1,
    ack: LOCAL_SEQ + 1,
    payload,
  });
}

Deno.test("TcpListenSocket hands out a child once its handshake completes", () => {
  const l = listener();
  const child = open(l, 40000)!;
  assert.equal(child.state, "synReceived");
  assert.deepStrictEqual([l.synQueueLength, l.pendingAccepts, l.accept()], [1, 0, null]);
  ackFrom(child, 40000);
  assert.deepStrictEqual([l.synQueueLength, l.pendingAccepts], [0, 1]);
  assert.equal(l.accept(), child);
  assert.equal(l.accept(), null);
  assert.equal(l.info.accepted, 1);
  assert.equal(child.localEndpoint?.addr.equals(LOCAL.addr), true);
});

Deno.test("TcpListenSocket buffers data that arrives before accept() in the child", () => {
  const l = listener();
  const child = open(l, 40001)!;
  ackFrom(child, 40001, bytes(1, 2, 3));
  const c = l.accept()!;
  const buf = new Uint8Array(3);
  assert.equal(c.recv(buf), 3);
  assert.deepStrictEqual(buf, bytes(1, 2, 3));
});

Deno.test("TcpListenSocket drops SYNs beyond the backlog without a RST", () => {
  const l = listener({ backlog: 2 });
  for (const p of [41000, 41001]) ackFrom(open(l, p)!, p);
  assert.equal(l.pendingAccepts, 2);
  assert.equal(l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, syn(41002)), null);
  assert.equal(l.info.synsDropped, 1);
  l.accept();
  assert.notEqual(open(l, 41002), null);
});

// Issue 13: SYN cookies now answer a full SYN queue by default; eviction is what
// `synCookies: false` keeps (tests/socket/tcp/syn_cookie_test.ts covers the cookies).
Deno.test("TcpListenSocket with synCookies: false evicts the oldest half-open child when the SYN queue is full (SYN flood)", () => {
  const l = listener({ synQueue: 3, synCookies: false });
  const flood = [42000, 42001, 42002].map((p) => open(l, p)!);
  const real = open(l, 42003)!;
  assert.equal(flood[0]!.state, "closed");
  assert.equal(flood[0]!.pollAt(H.cx), Infinity); // evicted silently: no RST due
  assert.deepStrictEqual([l.synQueueLength, l.info.evicted], [3, 1]);
  ackFrom(real, 42003);
  assert.equal(l.accept(), real);
  for (let p = 43000; p < 43100; p++) open(l, p);
  assert.equal(l.synQueueLength, 3);
});

Deno.test("TcpListenSocket forgets a child reset in SYN-RECEIVED", () => {
  const l = listener();
  const child = open(l, 44000)!;
  child.process(H.cx, REMOTE.addr, LOCAL.addr, {
    ...SEND_TEMPL,
    srcPort: 44000,
    flags: RST,
    seq: REMOTE_SEQ + 1,
  });
  assert.equal(child.state, "closed");
  assert.equal(l.synQueueLength, 0);
});

Deno.test("TcpListenSocket refuses non-SYN segments and SYNs for another port", () => {
  const l = listener();
  assert.equal(l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, { ...syn(1), flags: ACK }), null);
  assert.equal(l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, { ...syn(1), flags: SYN | ACK }), null);
  assert.equal(l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, { ...syn(1), dstPort: 81 }), null);
  assert.equal(l.info.synsDropped, 3);
});

Deno.test("TcpListenSocket close() resets children never accepted and stops taking SYNs", () => {
  const l = listener();
  const half = open(l, 45000)!;
  const done = open(l, 45001)!;
  ackFrom(done, 45001);
  l.close();
  for (const s of [half, done]) {
    const out: TcpRepr[] = [];
    s.dispatch(H.cx, { emitTcp: (_s, _d, r) => (out.push(r), true) });
    assert.equal(out.length, 1);
    assert.equal(out[0]!.flags & RST, RST);
    assert.equal(s.state, "closed");
  }
  assert.equal(l.onSyn(H.cx, REMOTE.addr, LOCAL.addr, syn(45002)), null);
});

/** What `child` sends if dispatched now. */
function sent(child: TcpSocket): TcpRepr[] {
  const out: TcpRepr[] = [];
  child.dispatch(H.cx, { emitTcp: (_s, _d, r) => (out.push(r), true) });
  return out;
}

Deno.test("TcpListenSocket asks children held back by a full accept queue to send their SYN-ACK again as accept() makes room", () => {
  const l = listener({ backlog: 2 });
  const ports = [42000, 42001, 42002, 42003, 42004, 42005];
  const children = ports.map((p) => open(l, p)!);
  ports.forEach((p, i) => ackFrom(children[i]!, p));
  // Two completed; the peers of the other four count themselves established.
  assert.deepStrictEqual([l.pendingAccepts, l.heldBack, l.info.acceptOverflows], [2, 4, 4]);
  for (const c of children.slice(2)) {
    assert.equal(c.state, "synReceived");
    assert.deepStrictEqual(sent(c), [], "nothing is due before the SYN-ACK's retransmission timer");
  }
  // One accept makes room for one: the oldest held-back child sends its SYN-ACK again at once.
  assert.equal(l.accept(), children[0]);
  assert.equal(l.heldBack, 3);
  const again = sent(children[2]!);
  assert.equal(again.length, 1);
  assert.equal(again[0]!.flags, SYN | ACK);
  assert.equal(again[0]!.seq, LOCAL_SEQ);
  assert.deepStrictEqual(sent(children[3]!), [], "no room for a second one");
  // A second accept: the accept queue holds one, one child was asked: room for one more.
  assert.equal(l.accept(), children[1]);
  assert.equal(l.heldBack, 2);
  assert.equal(sent(children[3]!)[0]?.flags, SYN | ACK);
  // The peers answer: both complete and wait for accept().
  ackFrom(children[2]!, 42002);
  ackFrom(children[3]!, 42003);
  assert.deepStrictEqual([children[2]!.state, children[3]!.state], ["established", "established"]);
  assert.deepStrictEqual([l.pendingAccepts, l.heldBack, l.info.acceptOverflows], [2, 2, 4]);
  // Draining the queue brings in the rest the same way, none of them reset.
  const accepted = [l.accept(), l.accept()];
  assert.deepStrictEqual(accepted, [children[2], children[3]]);
  for (const [i, p] of [[4, 42004], [5, 42005]] as const) {
    assert.equal(sent(children[i]!)[0]?.flags, SYN | ACK);
    ackFrom(children[i]!, p);
  }
  assert.deepStrictEqual([l.pendingAccepts, l.heldBack, l.synQueueLength], [2, 0, 0]);
});
