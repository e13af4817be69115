// TcpListenSocket with `transparent: true` (the accept-any listener): SYNs for any address and
// port, children bound to the SYN's destination, cookies carrying that port.

import assert from "node:assert/strict";
import { Ipv4Address, Ipv6Address } from "../../../src/wire/address.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";
import {
  BASE_OPTS,
  Harness,
  REMOTE,
  REMOTE_SEQ,
  SEND_TEMPL,
  SYN,
  TcpListenSocket,
} from "./_harness.ts";

const H = new Harness();

function syn(dstPort: number, extra: Partial<TcpRepr> = {}): TcpRepr {
  return { ...SEND_TEMPL, srcPort: 4000, dstPort, flags: SYN, seq: REMOTE_SEQ, ack: 0, ...extra };
}

Deno.test("TcpListenSocket transparent takes SYNs to any address and port and binds each child to the SYN's destination", () => {
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 0 }, {
    transparent: true,
    socket: BASE_OPTS,
  });
  assert.equal(l.local.port, 0);
  const a = Ipv4Address.parse("198.51.100.7"), b = Ipv4Address.parse("203.0.113.9");
  const c1 = l.onSyn(H.cx, REMOTE.addr, a, syn(443))!;
  const c2 = l.onSyn(H.cx, REMOTE.addr, b, syn(8080))!;
  assert.deepEqual([c1.localEndpoint!.addr.toString(), c1.localEndpoint!.port], [
    "198.51.100.7",
    443,
  ]);
  assert.deepEqual([c2.localEndpoint!.addr.toString(), c2.localEndpoint!.port], [
    "203.0.113.9",
    8080,
  ]);
  // Families must match; IPv6 to IPv6 is taken too.
  assert.equal(l.onSyn(H.cx, REMOTE.addr, Ipv6Address.parse("2001:db8::1"), syn(80)), null);
  const v6 = Ipv6Address.parse("2001:db8::2");
  assert.equal(
    l.onSyn(H.cx, v6, Ipv6Address.parse("2001:db8::1"), syn(80))?.localEndpoint?.port,
    80,
  );
});

Deno.test("TcpListenSocket without transparent refuses port 0 and other ports", () => {
  assert.throws(() => new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 0 }), TypeError);
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }, { socket: BASE_OPTS });
  assert.equal(l.onSyn(H.cx, REMOTE.addr, Ipv4Address.parse("198.51.100.7"), syn(81)), null);
});

Deno.test("TcpListenSocket transparent SYN cookies carry the SYN's destination port", () => {
  const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 0 }, {
    transparent: true,
    synQueue: 1,
    socket: BASE_OPTS,
  });
  const dst = Ipv4Address.parse("198.51.100.7");
  assert.ok(l.onSyn(H.cx, REMOTE.addr, dst, syn(443)) !== null);
  const second = syn(8443, { srcPort: 4001 });
  assert.equal(l.onSyn(H.cx, REMOTE.addr, dst, second), null);
  const synAck = l.synCookie(H.cx, REMOTE.addr, dst, second)!;
  assert.equal(synAck.srcPort, 8443);
  const child = l.onCookieAck(H.cx, REMOTE.addr, dst, {
    ...SEND_TEMPL,
    srcPort: 4001,
    dstPort: 8443,
    flags: 0x10,
    seq: (REMOTE_SEQ + 1) >>> 0,
    ack: (synAck.seq + 1) >>> 0,
    timestamp: synAck.timestamp === null ? null : { tsVal: 1, tsEcr: synAck.timestamp.tsVal },
  })!;
  assert.ok(child !== null);
  assert.equal(child.localEndpoint!.port, 8443);
});
