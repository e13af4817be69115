// ICMP errors that quote a connection's segment (src/socket/tcp/icmp_error.ts): RFC 5927
// validation of the quoted sequence number, Packet Too Big (RFC 1191, RFC 8201) and
// unreachables in SYN-SENT and in synchronized states (RFC 1122 §4.2.3.9, RFC 5461).

import assert from "node:assert/strict";
import { ACK, established, fill, LOCAL_SEQ, REMOTE_SEQ, synSent } from "./_harness.ts";

const R = REMOTE_SEQ + 1;
const L = LOCAL_SEQ + 1;

/** ESTABLISHED, peer MSS 1460 and a 30000-byte window, 6000 bytes sent (five segments). */
function inFlight() {
  const h = established(
    { txBufferSize: 16_384, rxBufferSize: 16_384 },
    { mss: 1460, window: 30_000 },
    { window: 30_000 },
  );
  h.sock.send(fill(6000));
  const segs = h.out();
  assert.deepEqual(segs.map((s) => s.payload.length), [1460, 1460, 1460, 1460, 160]);
  return h;
}

Deno.test("TcpSocket lowers the MSS on a Packet Too Big quoting data in flight and resends it at the new size", () => {
  const h = inFlight();
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 1280, seq: L + 1460 });
  assert.equal(h.sock.info.mss, 1280 - 40);
  assert.equal(h.sock.info.pathMtuReductions, 1);
  assert.equal(h.sock.info.icmpErrors, 1);
  const again = h.out();
  assert.equal(again[0]!.seq, L, "the resend starts at SND.UNA");
  assert.ok(again.length >= 5, "the whole flight goes again");
  for (const s of again) assert.ok(s.payload.length <= 1240, `${s.payload.length} > 1240`);
  const total = again.reduce((n, s) => n + s.payload.length, 0);
  assert.equal(total, 6000);
  assert.equal(h.sock.info.retransmits, again.length);
});

Deno.test("TcpSocket ignores and counts a Packet Too Big whose quoted sequence number is outside SND.UNA..SND.NXT", () => {
  const h = inFlight();
  for (const seq of [L - 1, L + 6000, L + 100_000, (L - 70_000) >>> 0]) {
    h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 600, seq });
  }
  assert.equal(h.sock.info.icmpIgnored, 4);
  assert.equal(h.sock.info.icmpErrors, 0);
  assert.equal(h.sock.info.mss, 1460);
  h.expectNothing();
});

Deno.test("TcpSocket never raises the path MTU from a Packet Too Big and floors a tiny one", () => {
  const h = inFlight();
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 9000, seq: L });
  assert.equal(h.sock.info.mss, 1460, "a larger MTU changes nothing");
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 100, seq: L });
  assert.equal(h.sock.info.mss, 552 - 40, "IPv4 floor of 552 bytes");
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 1000, seq: L });
  assert.equal(h.sock.info.mss, 512, "and the path MTU never goes back up");
});

Deno.test("TcpSocket takes the next RFC 1191 plateau when Fragmentation Needed carries no MTU", () => {
  const h = inFlight();
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 0, seq: L });
  assert.equal(h.sock.info.mss, 1492 - 40);
  h.sock.processIcmpError(h.now, { kind: "packetTooBig", code: 4, mtu: 0, seq: L });
  assert.equal(h.sock.info.mss, 1006 - 40);
});

Deno.test("TcpSocket in SYN-SENT ends the connect at once on a port unreachable (hard error)", () => {
  const h = synSent();
  h.sock.processIcmpError(h.now, { kind: "unreachable", code: 3, mtu: 0, seq: LOCAL_SEQ });
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "refused");
});

Deno.test("TcpSocket in SYN-SENT ends the connect on a host unreachable only after two SYN retransmissions (RFC 5461)", () => {
  const h = synSent();
  const icmp = { kind: "unreachable", code: 1, mtu: 0, seq: LOCAL_SEQ } as const;
  h.sock.processIcmpError(h.now, icmp);
  assert.equal(h.sock.state, "synSent");
  h.at(1000).out(); // first retransmission
  h.sock.processIcmpError(h.now, icmp);
  assert.equal(h.sock.state, "synSent");
  h.at(3000).out(); // second
  h.sock.processIcmpError(h.now, icmp);
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "unreachable");
});

Deno.test("TcpSocket in SYN-SENT ignores an unreachable that quotes another sequence number", () => {
  const h = synSent();
  h.sock.processIcmpError(h.now, { kind: "unreachable", code: 3, mtu: 0, seq: LOCAL_SEQ + 1 });
  assert.equal(h.sock.state, "synSent");
  assert.equal(h.sock.info.icmpIgnored, 1);
});

Deno.test("TcpSocket keeps a synchronized connection on an unreachable and reports it if it later times out", () => {
  const h = established({ maxRetransmissions: 2 }, { window: 1000 }, { window: 1000 });
  h.sock.send(fill(10));
  h.out();
  h.sock.processIcmpError(h.now, { kind: "unreachable", code: 1, mtu: 0, seq: L });
  h.sock.processIcmpError(h.now, { kind: "unreachable", code: 3, mtu: 0, seq: L });
  assert.equal(h.sock.state, "established", "RFC 1122 §4.2.3.9: ICMP never aborts it");
  for (let i = 0; i < 10 && h.sock.isOpen; i++) h.at(h.pollAt).out();
  assert.equal(h.sock.state, "closed");
  assert.equal(h.sock.error, "refused", "the last soft error, as Linux's sk_err_soft");
  // A connection that answers normally is untouched by an old soft error.
  const ok = established({}, { window: 1000 }, { window: 1000 });
  ok.sock.send(fill(10));
  ok.out();
  ok.sock.processIcmpError(ok.now, { kind: "unreachable", code: 0, mtu: 0, seq: L });
  assert.equal(ok.send({ seq: R, ack: L + 10, flags: ACK, window: 1000 }), null);
  assert.equal(ok.sock.state, "established");
  assert.equal(ok.sock.error, null);
});
