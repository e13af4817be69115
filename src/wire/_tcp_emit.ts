/**
 * Writing a TCP segment at an offset of a buffer: the body of `emitTcp` (src/wire/tcp.ts), which
 * egress calls directly with the IP header's length as the offset, so a frame needs no subarray
 * or view object per segment. Internal to the wire layer and egress, not exported from `mod.ts`.
 *
 * @module
 */

import { writeU16, writeU32 } from "./_bytes.ts";
import type { IpAddress } from "./address.ts";
import { checksumFinish, pseudoHeaderSum } from "./checksum.ts";
import { sumAt, sumHeader } from "./_checksum_fast.ts";
import { emitTcpOptions, tcpOptionsLen } from "./tcp_option.ts";
import type { TcpRepr } from "./tcp.ts";

/** Offsets of the TCP header's fields (RFC 9293 §3.1). */
export const TCP_FIELD = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

const FIELD = TCP_FIELD;

/** IP protocol number of TCP, for the pseudo-header. */
const PROTOCOL_TCP = 6;

/**
 * Writes `repr` at `b[off, off + tcpBufferLen(repr))` as `emitTcp` does (header, options,
 * payload, then the checksum when `fill`).
 *
 * @throws {RangeError} When the buffer is too short or the options do not fit.
 */
export function writeTcpSegment(
  repr: TcpRepr,
  b: Uint8Array,
  off: number,
  src: IpAddress,
  dst: IpAddress,
  fill: boolean,
): void {
  const headerLen = FIELD.OPTIONS + tcpOptionsLen(repr);
  const total = headerLen + repr.payload.length;
  const end = off + total;
  if (b.length < end) {
    throw new RangeError(`TCP buffer of ${b.length - off} bytes is too short, need ${total}`);
  }
  writeU16(b, off + FIELD.SRC_PORT, repr.srcPort);
  writeU16(b, off + FIELD.DST_PORT, repr.dstPort);
  writeU32(b, off + FIELD.SEQ, repr.seq);
  writeU32(b, off + FIELD.ACK, repr.ack);
  b[off + FIELD.DATA_OFFSET] = (headerLen >>> 2) << 4; // reserved bits zero
  b[off + FIELD.FLAGS] = repr.flags & 0xff;
  writeU16(b, off + FIELD.WINDOW, repr.window);
  b[off + FIELD.CHECKSUM] = 0;
  b[off + FIELD.CHECKSUM + 1] = 0;
  writeU16(b, off + FIELD.URGENT, repr.urgent);

  emitTcpOptions(repr, b, off + FIELD.OPTIONS, off + headerLen);

  b.set(repr.payload, off + headerLen);

  if (fill) {
    // The header is summed here (its length is a multiple of 4, so the payload sum can follow
    // it) and the payload where it now lies in the packet, without a subarray: in place, with
    // no copy, when the packet is a device frame in a checksum buffer.
    const sum = sumHeader(b, off, off + headerLen, pseudoHeaderSum(src, dst, PROTOCOL_TCP, total));
    writeU16(b, off + FIELD.CHECKSUM, checksumFinish(sumAt(b, off + headerLen, end, sum)));
  }
}
