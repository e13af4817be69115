/**
 * Internal: TCP/UDP checksum and header helpers for the FFI adapters (the AF_PACKET receive path
 * and the TUN offload path): find the transport header of an IP packet in a frame, compute,
 * complete or verify its checksum, write the partial (pseudo-header) sum a segmenting host
 * completes. Byte offsets here are positions in a frame whose IP header starts at `net`.
 *
 * @module
 */

import { checksumSum } from "../wire/checksum.ts";

/** The address of a buffer's first byte as a bigint, for C structures. */
export function pointerValue(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** IP protocol numbers of the transports whose checksums are handled here. */
export const IP_PROTO_TCP = 6;
/** UDP. */
export const IP_PROTO_UDP = 17;

export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** Adds the big-endian 16-bit words of `b[from, to)` (an odd last byte padded) to `sum`. */
export function sum16(b: Uint8Array, from: number, to: number, sum: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < to) sum += b[i]! << 8;
  return sum;
}

/** Folds a sum of 16-bit words to 16 bits with end-around carry (RFC 1071 §4.1). */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Where the IP packet at `net` ends (its length fields; Ethernet padding excluded). */
export function ipEnd(f: Uint8Array, net: number): number {
  return f[net]! >> 4 === 4
    ? net + ((f[net + 2]! << 8) | f[net + 3]!)
    : net + 40 + ((f[net + 4]! << 8) | f[net + 5]!);
}

/** The transport protocol found by the last successful {@linkcode transportOf}. */
export let foundProto = 0;

/**
 * The offset of the TCP or UDP header of the IP packet at `net` in the first `n` bytes of `f`, or
 * -1 when it is not an unfragmented TCP/UDP packet with consistent lengths. IPv6 hop-by-hop,
 * routing and destination options headers are skipped.
 */
export function transportOf(f: Uint8Array, n: number, net: number): number {
  if (net < 0 || net + 20 > n) return -1;
  const version = f[net]! >> 4;
  let t: number;
  let proto: number;
  if (version === 4) {
    const ihl = (f[net]! & 0xf) << 2;
    if (ihl < 20 || (((f[net + 6]! << 8) | f[net + 7]!) & 0x3fff) !== 0) return -1;
    t = net + ihl;
    proto = f[net + 9]!;
  } else if (version === 6) {
    if (net + 40 > n) return -1;
    t = net + 40;
    proto = f[net + 6]!;
    while (proto === 0 || proto === 43 || proto === 60) {
      if (t + 8 > n) return -1;
      proto = f[t]!;
      t += (f[t + 1]! + 1) << 3;
    }
  } else {
    return -1;
  }
  const end = ipEnd(f, net);
  if (end > n) return -1;
  foundProto = proto;
  if (proto === IP_PROTO_TCP) return t + 20 <= end ? t : -1;
  if (proto === IP_PROTO_UDP) return t + 8 <= end ? t : -1;
  return -1;
}

/**
 * Computes the TCP or UDP checksum of the packet at `net` whose transport header is at `t` and
 * which ends at `end`: pseudo-header (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1) plus the segment,
 * written with the field zeroed first (UDP's 0 sent as 0xffff).
 */
export function fillTransportChecksum(
  f: Uint8Array,
  net: number,
  t: number,
  end: number,
  proto: number,
): void {
  const at = t + (proto === IP_PROTO_TCP ? 16 : 6);
  f[at] = 0;
  f[at + 1] = 0;
  let sum = proto + (end - t);
  sum = f[net]! >> 4 === 4 ? sum16(f, net + 12, net + 20, sum) : sum16(f, net + 8, net + 40, sum);
  let c = ~fold(sum16(f, t, end, sum)) & 0xffff;
  if (c === 0 && proto === IP_PROTO_UDP) c = 0xffff;
  put16(f, at, c);
}

/**
 * Completes the transport checksum of a frame received with TP_STATUS_CSUMNOTREADY: its TCP or
 * UDP checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL); the checksum is
 * recomputed whole over the first `len` bytes of `frame`, whose IP header starts at `net`.
 *
 * @param frame The frame (may be longer than `len`).
 * @param len The frame's length.
 * @param net The offset of the IPv4 or IPv6 header (`tp_net`).
 * @returns `false` when the frame is not an unfragmented TCP/UDP packet (left unchanged).
 */
export function completeChecksum(frame: Uint8Array, len: number, net: number): boolean {
  const t = transportOf(frame, len, net);
  if (t < 0) return false;
  fillTransportChecksum(frame, net, t, ipEnd(frame, net), foundProto);
  return true;
}

/** The pseudo-header sum (RFC 9293 §3.1, RFC 8200 §8.1) of the packet at `net`, unfolded. */
function pseudoSum(f: Uint8Array, net: number, t: number, end: number, proto: number): number {
  const sum = proto + (end - t);
  return f[net]! >> 4 === 4 ? sum16(f, net + 12, net + 20, sum) : sum16(f, net + 8, net + 40, sum);
}

/**
 * Whether the TCP or UDP checksum of the packet at `net` (transport header at `t`, IP end at
 * `end`) is right; a UDP checksum of 0 (none sent, IPv4 only) counts as right.
 */
export function transportChecksumOk(
  f: Uint8Array,
  net: number,
  t: number,
  end: number,
  proto: number,
): boolean {
  if (proto === IP_PROTO_UDP && f[t + 6] === 0 && f[t + 7] === 0 && f[net]! >> 4 === 4) {
    return true;
  }
  const sum = checksumSum(f.subarray(t, end), fold(pseudoSum(f, net, t, end, proto)));
  return fold(sum) === 0xffff;
}

/**
 * Writes the folded pseudo-header sum, not inverted, into the TCP or UDP checksum field: the
 * CHECKSUM_PARTIAL form a host with checksum offload completes by adding the bytes from `t`.
 * Returns the field's offset from `t`.
 */
export function writePartialChecksum(
  f: Uint8Array,
  net: number,
  t: number,
  end: number,
  proto: number,
): number {
  const off = proto === IP_PROTO_TCP ? 16 : 6;
  put16(f, t + off, fold(pseudoSum(f, net, t, end, proto)));
  return off;
}
