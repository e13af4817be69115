/**
 * Shared by the TCP wire tests (`tcp_test.ts`, `tcp_option_test.ts`): addresses, the golden
 * Linux segments, a base repr, builders for segments with given option bytes, and checks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type IpAddress, Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import { WireError } from "../../src/wire/error.ts";
import {
  emitTcp,
  parseTcp,
  TCP_HEADER_LEN,
  tcpBufferLen,
  TcpFlags,
  TcpPacket,
  type TcpRepr,
} from "../../src/wire/tcp.ts";
import * as gold from "./golden_c/kernel_frames.ts";

export const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

export const V4_A = Ipv4Address.parse("192.0.2.65");
export const V4_B = Ipv4Address.parse("192.0.2.66");
export const V6_A = Ipv6Address.parse("2001:db8:c::1");
export const V6_B = Ipv6Address.parse("2001:db8:c::2");

/** The TCP segment of a golden frame, its addresses, as a fresh copy (tests may mutate it). */
export function segmentOf(
  frame: Uint8Array,
): { bytes: Uint8Array; src: IpAddress; dst: IpAddress } {
  const ethType = (frame[12]! << 8) | frame[13]!;
  if (ethType === 0x0800) {
    const ihl = (frame[gold.ETH_LEN]! & 0x0f) * 4;
    return {
      bytes: frame.slice(gold.ETH_LEN + ihl),
      src: Ipv4Address.fromBytes(frame, gold.ETH_LEN + 12),
      dst: Ipv4Address.fromBytes(frame, gold.ETH_LEN + 16),
    };
  }
  assert.equal(ethType, 0x86dd);
  return {
    bytes: frame.slice(gold.ETH_LEN + 40),
    src: Ipv6Address.fromBytes(frame, gold.ETH_LEN + 8),
    dst: Ipv6Address.fromBytes(frame, gold.ETH_LEN + 24),
  };
}

export function parseGolden(frame: Uint8Array): TcpRepr {
  const { bytes, src, dst } = segmentOf(frame);
  return parseTcp(new TcpPacket(bytes), src, dst);
}

/** Asserts that `fn` throws a WireError for `field` (and `value` when given). */
export function assertWireError(fn: () => unknown, field: string, value?: number): WireError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WireError, `expected a WireError, got ${String(caught)}`);
  assert.equal(caught.field, field, caught.message);
  if (value !== undefined) assert.equal(caught.value, value, caught.message);
  return caught;
}

export const BASE: TcpRepr = {
  srcPort: 49152,
  dstPort: 80,
  seq: 1000,
  ack: 0,
  flags: TcpFlags.ACK,
  window: 1024,
  urgent: 0,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: null,
  payload: new Uint8Array(0),
};

/** A 20-byte header plus `options` (padded with zeros to a multiple of 4), checksum filled. */
export function withOptions(
  options: number[],
  src: IpAddress = V4_A,
  dst: IpAddress = V4_B,
): TcpPacket {
  const optLen = (options.length + 3) & ~3;
  const p = new TcpPacket(new Uint8Array(TCP_HEADER_LEN + optLen));
  p.srcPort = 49152;
  p.dstPort = 80;
  p.dataOffset = (TCP_HEADER_LEN + optLen) / 4;
  p.flags = TcpFlags.SYN;
  p.buffer.set(options, TCP_HEADER_LEN);
  p.fillChecksum(src, dst);
  return p;
}

export function emitToBytes(
  repr: TcpRepr,
  src: IpAddress = V4_A,
  dst: IpAddress = V4_B,
): Uint8Array {
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
  emitTcp(repr, p, src, dst);
  return p.buffer;
}

/** Option bytes on the wire, computed independently of the code under test. */
export function expectedOptionsLen(r: TcpRepr): number {
  const raw = (r.mss === null ? 0 : 4) + (r.windowScale === null ? 0 : 4) +
    (r.sackPermitted ? 2 : 0) + (r.timestamp === null ? 0 : 12) +
    (r.sackBlocks.length === 0 ? 0 : 4 + 8 * r.sackBlocks.length) +
    (r.fastOpen === undefined || r.fastOpen === null ? 0 : 2 + r.fastOpen.length);
  return Math.ceil(raw / 4) * 4;
}

export function expectReprOrWireError(fn: () => TcpRepr): TcpRepr | null {
  try {
    const repr = fn();
    assert.equal(typeof repr.srcPort, "number");
    return repr;
  } catch (e) {
    if (e instanceof WireError) return null;
    throw e;
  }
}

/** A parsed repr that fits our option layout re-emits to bytes that parse to the same repr. */
export function checkReemit(repr: TcpRepr, src: IpAddress, dst: IpAddress): void {
  if (expectedOptionsLen(repr) > 40) return;
  const p = new TcpPacket(new Uint8Array(tcpBufferLen(repr)));
  emitTcp(repr, p, src, dst);
  assert.deepEqual(parseTcp(p, src, dst), repr);
}
