// The send path with a device that segments TCP itself (SocketContext.tcpSegmentOffload, TSO):
// segments larger than the MSS in whole MSS units, cut to the peer's and the congestion window,
// and none when the device would cut at a size other than our MSS.

import assert from "node:assert/strict";
import type { SocketContext } from "../../../src/socket/context.ts";
import type { TcpRepr } from "../../../src/wire/tcp.ts";
import { tcpBufferLen } from "../../../src/wire/tcp.ts";
import { established, type Harness } from "./_harness.ts";

/** The harness with a device that takes TCP packets of up to `max` bytes and segments them. */
function offloaded(h: Harness, max: number): Harness {
  const base = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(h), "cx")!.get!;
  Object.defineProperty(h, "cx", {
    get: (): SocketContext => ({ ...base.call(h), tcpSegmentOffload: max }),
  });
  h.checkFits = (repr: TcpRepr) => {
    const len = 20 + tcpBufferLen(repr);
    assert.ok(len <= max, `a ${len}-byte IPv4 packet exceeds the ${max}-byte offload limit`);
  };
  return h;
}

function lengths(h: Harness): number[] {
  return h.out().map((s) => s.payload.length);
}

const BIG = { txBufferSize: 1 << 17, rxBufferSize: 1024 } as const;

Deno.test("TcpSocket with segmentation offload sends the congestion window as one segment of whole MSS", () => {
  // MSS 1460 (MTU 1500, no options): the initial window of 10 segments goes as one.
  const h = offloaded(established(BIG, { mss: 1460, window: 65535 }, { window: 65535 }), 65535);
  h.sock.send(new Uint8Array(100_000));
  assert.deepEqual(lengths(h), [14_600]);
});

Deno.test("TcpSocket with segmentation offload cuts a segment to the peer's window in whole MSS units", () => {
  const h = offloaded(established(BIG, { mss: 1460, window: 5000 }, { window: 5000 }), 65535);
  h.sock.send(new Uint8Array(100_000));
  // 5000 bytes of window: three whole segments in one, then the 620-byte rest fills the window.
  assert.deepEqual(lengths(h), [4380, 620]);
});

Deno.test("TcpSocket with segmentation offload keeps a segment within the device's limit", () => {
  const h = offloaded(established(BIG, { mss: 1460, window: 65535 }, { window: 65535 }), 8000);
  h.sock.send(new Uint8Array(100_000));
  // (8000 - 40) / 1460 = 5 whole segments per packet; the initial window of 14,600 is two.
  assert.deepEqual(lengths(h), [7300, 7300]);
});

Deno.test("TcpSocket does not use segmentation offload when the peer's MSS is below what the MTU allows", () => {
  // The device would cut at 1460 bytes, more than the peer takes: only MSS-sized segments.
  const h = offloaded(established(BIG, { mss: 1000, window: 65535 }, { window: 65535 }), 65535);
  h.sock.send(new Uint8Array(100_000));
  const l = lengths(h);
  assert.ok(l.length > 1 && l.every((n) => n === 1000), `lengths ${l}`);
});

Deno.test("TcpSocket without segmentation offload sends MSS-sized segments", () => {
  const h = established(BIG, { mss: 1460, window: 65535 }, { window: 65535 });
  h.sock.send(new Uint8Array(100_000));
  assert.deepEqual(lengths(h), Array(10).fill(1460));
});
