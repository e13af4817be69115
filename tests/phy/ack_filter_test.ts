// The ACK filter's rules (src/phy/_ack_filter.ts) on hand-built frames: which frames count as
// coalescible pure ACKs, and when a newer one supersedes an older one.
import assert from "node:assert/strict";
import { pureAckOffset, supersedes } from "../../src/phy/_ack_filter.ts";
import { SACK, segment } from "./_tcp_frames.ts";

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
