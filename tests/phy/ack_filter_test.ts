// The ACK filter's rules (src/phy/_ack_filter.ts) on hand-built frames: which frames count as
// coalescible pure ACKs, and when a newer one supersedes an older one.
import assert from "node:assert/strict";
import { pureAckOffset, supersedes } from "../../src/phy/_ack_filter.ts";

interface Seg {
  ack?: number;
  flags?: number;
  /** TCP option bytes (padded to 4 by the caller). */
  options?: number[];
  payload?: number;
  srcPort?: number;
  v6?: boolean;
  ethernet?: boolean;
  /** IPv4 flags+fragment offset field. */
  frag?: number;
  dstLast?: number;
}

const TS = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // NOP NOP timestamps
const SACK = [1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0]; // NOP NOP one SACK block

/** An IPv4 or IPv6 TCP segment 198.51.100.1:srcPort -> 192.0.2.x:80 (checksums left zero). */
function segment(s: Seg = {}): Uint8Array {
  const opts = s.options ?? TS;
  const tcpLen = 20 + opts.length;
  const payload = s.payload ?? 0;
  const l2 = s.ethernet ? 14 : 0;
  const ipLen = s.v6 ? 40 : 20;
  const f = new Uint8Array(l2 + ipLen + tcpLen + payload);
  if (s.ethernet) {
    f.set([2, 0, 0x5e, 0, 0x53, 1, 2, 0, 0x5e, 0, 0x53, 2]);
    f[12] = s.v6 ? 0x86 : 0x08;
    f[13] = s.v6 ? 0xdd : 0x00;
  }
  const dstLast = s.dstLast ?? 2;
  if (s.v6) {
    f[l2] = 0x60;
    f[l2 + 4] = (tcpLen + payload) >> 8;
    f[l2 + 5] = (tcpLen + payload) & 0xff;
    f[l2 + 6] = 6;
    f[l2 + 7] = 64;
    f.set([0x20, 0x01, 0x0d, 0xb8], l2 + 8);
    f[l2 + 23] = 1;
    f.set([0x20, 0x01, 0x0d, 0xb8], l2 + 24);
    f[l2 + 39] = dstLast;
  } else {
    const total = 20 + tcpLen + payload;
    f[l2] = 0x45;
    f[l2 + 2] = total >> 8;
    f[l2 + 3] = total & 0xff;
    const frag = s.frag ?? 0x4000; // DF
    f[l2 + 6] = frag >> 8;
    f[l2 + 7] = frag & 0xff;
    f[l2 + 8] = 64;
    f[l2 + 9] = 6;
    f.set([198, 51, 100, 1, 192, 0, 2, dstLast], l2 + 12);
  }
  const t = l2 + ipLen;
  const sp = s.srcPort ?? 40000;
  f.set([sp >> 8, sp & 0xff, 0, 80], t);
  f.set([0, 0, 0x10, 0], t + 4); // seq
  const ack = s.ack ?? 1000;
  f.set([ack >>> 24, (ack >>> 16) & 0xff, (ack >>> 8) & 0xff, ack & 0xff], t + 8);
  f[t + 12] = (tcpLen / 4) << 4;
  f[t + 13] = s.flags ?? 0x10;
  f[t + 14] = 0xff;
  f[t + 15] = 0xff;
  f.set(opts, t + 20);
  return f;
}

Deno.test("pureAckOffset finds the TCP header of pure IPv4 and IPv6 ACKs, with and without Ethernet", () => {
  assert.equal(pureAckOffset(segment(), false), 20);
  assert.equal(pureAckOffset(segment({ v6: true }), false), 40);
  assert.equal(pureAckOffset(segment({ ethernet: true }), true), 34);
  assert.equal(pureAckOffset(segment({ ethernet: true, v6: true }), true), 54);
  assert.equal(pureAckOffset(segment({ options: [] }), false), 20);
});

Deno.test("pureAckOffset refuses data, other flags, SACK, fragments and non-TCP frames", () => {
  assert.equal(pureAckOffset(segment({ payload: 1 }), false), -1);
  for (const flags of [0x11, 0x12, 0x14, 0x18, 0x50, 0x90, 0x00]) {
    assert.equal(pureAckOffset(segment({ flags }), false), -1, `flags ${flags}`);
  }
  assert.equal(pureAckOffset(segment({ options: SACK }), false), -1);
  assert.equal(pureAckOffset(segment({ frag: 0x2000 }), false), -1); // MF
  assert.equal(pureAckOffset(segment({ frag: 0x0001 }), false), -1); // offset
  const udp = segment();
  udp[9] = 17;
  assert.equal(pureAckOffset(udp, false), -1);
  const arp = segment({ ethernet: true });
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(pureAckOffset(arp, true), -1);
  // A truncated header (data offset beyond the frame) and an IP length that disagrees.
  assert.equal(pureAckOffset(segment().subarray(0, 45), false), -1);
  const long = segment();
  long[3] = long[3]! + 4;
  assert.equal(pureAckOffset(long, false), -1);
});

Deno.test("pureAckOffset ignores Ethernet padding after the IP packet", () => {
  const small = segment({ ethernet: true, options: [] }); // 54 bytes
  const padded = new Uint8Array(60);
  padded.set(small);
  assert.equal(pureAckOffset(padded, true), 34);
});

Deno.test("supersedes: a newer ACK of the same connection replaces the older one", () => {
  assert.equal(supersedes(segment({ ack: 1000 }), segment({ ack: 3896 }), 20), true);
  assert.equal(
    supersedes(segment({ v6: true, ack: 1 }), segment({ v6: true, ack: 2 }), 40),
    true,
  );
  assert.equal(
    supersedes(segment({ ethernet: true, ack: 1 }), segment({ ethernet: true, ack: 2 }), 34),
    true,
  );
  // Across the sequence-space wrap.
  assert.equal(supersedes(segment({ ack: 0xffffff00 }), segment({ ack: 0x100 }), 20), true);
});

Deno.test("supersedes: duplicate or older ACKs and other connections are never merged", () => {
  // RFC 5681 duplicate ACK: same number, counted by the sender for fast retransmit.
  assert.equal(supersedes(segment({ ack: 1000 }), segment({ ack: 1000 }), 20), false);
  assert.equal(supersedes(segment({ ack: 1000 }), segment({ ack: 999 }), 20), false);
  assert.equal(supersedes(segment({ srcPort: 1 }), segment({ srcPort: 2, ack: 2000 }), 20), false);
  assert.equal(supersedes(segment({ dstLast: 3 }), segment({ dstLast: 4, ack: 2000 }), 20), false);
  assert.equal(
    supersedes(segment({ v6: true, dstLast: 3 }), segment({ v6: true, dstLast: 4, ack: 2000 }), 40),
    false,
  );
  const other = segment({ ethernet: true, ack: 2000 });
  other[0] = 4; // another destination MAC
  assert.equal(supersedes(segment({ ethernet: true }), other, 34), false);
});
