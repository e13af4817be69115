/**
 * Internal: ACK coalescing for the host adapters. A pure TCP acknowledgment that a newer pure
 * acknowledgment of the same connection supersedes before it leaves is not sent: the newer one
 * acknowledges everything the older one did and carries the newer window. This is the "ACK
 * filter" of CAKE (`sch_cake`'s `cake_ack_filter`, conservative mode) and of DOCSIS upstream
 * schedulers, kept to the cases that cannot change what the peer learns:
 *
 * - both frames are pure ACKs: flags exactly ACK, no payload, IPv4 without options or fragments
 *   or IPv6 with TCP as the first next header, and TCP options only NOP, EOL and timestamps (a
 *   SACK option carries loss information and is never dropped);
 * - same addresses, ports (and Ethernet header on Ethernet medium);
 * - the newer acknowledgment number is strictly ahead (RFC 5681 §2: an ACK with the same number
 *   and window is a duplicate ACK, which the peer counts for fast retransmit: never merged).
 *
 * Senders treat the surviving ACK as a stretch ACK (RFC 5681 §4.2 allows them; Linux and our own
 * stack grow the window by the bytes acknowledged, RFC 3465).
 *
 * @module
 */

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERNET_LEN = 14;
const TCP_PROTOCOL = 6;
const FLAG_ACK = 0x10;

/**
 * The offset of the TCP header in `frame` when the frame is a pure ACK that may be coalesced
 * (see the module documentation), else -1. `ethernet`: the frame starts with an Ethernet header.
 *
 * @param frame The frame.
 * @param ethernet Whether the frame has a 14-byte Ethernet header.
 * @returns The TCP header's offset, or -1.
 */
export function pureAckOffset(frame: Uint8Array, ethernet: boolean): number {
  const len = frame.length;
  let ip = 0;
  if (ethernet) {
    if (len < ETHERNET_LEN + 40) return -1;
    const type = (frame[12]! << 8) | frame[13]!;
    if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return -1;
    ip = ETHERNET_LEN;
  }
  if (len < ip + 40) return -1;
  const v = frame[ip]! >>> 4;
  let tcp: number;
  let tcpLen: number;
  if (v === 4) {
    if (frame[ip]! !== 0x45 || frame[ip + 9]! !== TCP_PROTOCOL) return -1;
    if ((((frame[ip + 6]! << 8) | frame[ip + 7]!) & 0x3fff) !== 0) return -1; // MF or offset
    tcp = ip + 20;
    tcpLen = ((frame[ip + 2]! << 8) | frame[ip + 3]!) - 20;
  } else if (v === 6) {
    if (len < ip + 60 || frame[ip + 6]! !== TCP_PROTOCOL) return -1;
    tcp = ip + 40;
    tcpLen = (frame[ip + 4]! << 8) | frame[ip + 5]!;
  } else {
    return -1;
  }
  const doff = (frame[tcp + 12]! >>> 4) << 2;
  // No payload (the IP length says so: Ethernet may pad), a whole header inside the frame.
  if (doff < 20 || tcpLen !== doff || tcp + doff > len) return -1;
  if (frame[tcp + 13]! !== FLAG_ACK) return -1;
  for (let o = tcp + 20, end = tcp + doff; o < end;) {
    const kind = frame[o]!;
    if (kind === 0) break; // EOL
    if (kind === 1) {
      o++;
      continue;
    }
    if (kind !== 8 || o + 10 > end || frame[o + 1]! !== 10) return -1; // only timestamps
    o += 10;
  }
  return tcp;
}

/**
 * Whether the pure ACK `newer` (TCP header at `tcp`) supersedes the pure ACK `older` (TCP header
 * at the same offset): same link and IP addresses and ports, acknowledgment strictly ahead.
 *
 * @param older The ACK waiting to be sent.
 * @param newer The ACK just committed.
 * @param tcp The TCP header offset of both (from {@linkcode pureAckOffset}).
 * @returns `true` when `older` may be dropped.
 */
export function supersedes(older: Uint8Array, newer: Uint8Array, tcp: number): boolean {
  if (older.length < tcp + 20) return false;
  // Addresses (and the link header): IPv4 bytes 12..20, IPv6 bytes 8..40 of the IP header.
  const ip = tcp === 20 || tcp === 40 ? 0 : ETHERNET_LEN;
  if (ip !== 0) {
    for (let i = 0; i < ETHERNET_LEN; i++) if (older[i] !== newer[i]) return false;
  }
  if ((older[ip]! >>> 4) !== (newer[ip]! >>> 4)) return false;
  const from = ip + (tcp - ip === 20 ? 12 : 8);
  for (let i = from; i < tcp + 4; i++) if (older[i] !== newer[i]) return false;
  const a = ((older[tcp + 8]! << 24) | (older[tcp + 9]! << 16) | (older[tcp + 10]! << 8) |
    older[tcp + 11]!) >>> 0;
  const b = ((newer[tcp + 8]! << 24) | (newer[tcp + 9]! << 16) | (newer[tcp + 10]! << 8) |
    newer[tcp + 11]!) >>> 0;
  const ahead = (b - a) >>> 0;
  return ahead !== 0 && ahead < 0x80000000;
}
