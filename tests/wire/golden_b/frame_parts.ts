// Plain offset arithmetic over golden Ethernet frames, so the UDP/ICMP tests do not depend on the
// IPv4/IPv6 parsers: 14-byte Ethernet header, then an IPv4 header of IHL words or a 40-byte IPv6
// header, optionally followed by one hop-by-hop header (MLD's router alert).

import { Ipv4Address, Ipv6Address } from "../../../src/wire/address.ts";

/** The addresses and the upper-layer message of an Ethernet + IPv4 frame. */
export interface Ipv4Parts {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly ttl: number;
  /** The IP payload, delimited by the IPv4 total length (link padding removed). */
  readonly payload: Uint8Array;
}

/** Splits an Ethernet + IPv4 frame. */
export function ipv4Parts(frame: Uint8Array): Ipv4Parts {
  const ip = 14;
  const ihl = (frame[ip]! & 0x0f) * 4;
  const total = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  return {
    src: Ipv4Address.fromBytes(frame, ip + 12),
    dst: Ipv4Address.fromBytes(frame, ip + 16),
    protocol: frame[ip + 9]!,
    ttl: frame[ip + 8]!,
    payload: frame.subarray(ip + ihl, ip + total),
  };
}

/** The addresses and the upper-layer message of an Ethernet + IPv6 frame. */
export interface Ipv6Parts {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly hopLimit: number;
  /** The next header after a hop-by-hop header, if any. */
  readonly nextHeader: number;
  /** The upper-layer message after the fixed header (and a hop-by-hop header, if any). */
  readonly payload: Uint8Array;
}

/** Splits an Ethernet + IPv6 frame, skipping one hop-by-hop options header. */
export function ipv6Parts(frame: Uint8Array): Ipv6Parts {
  const ip = 14;
  const end = ip + 40 + ((frame[ip + 4]! << 8) | frame[ip + 5]!);
  let next = frame[ip + 6]!;
  let off = ip + 40;
  if (next === 0) {
    next = frame[off]!;
    off += (frame[off + 1]! + 1) * 8;
  }
  return {
    src: Ipv6Address.fromBytes(frame, ip + 8),
    dst: Ipv6Address.fromBytes(frame, ip + 24),
    hopLimit: frame[ip + 7]!,
    nextHeader: next,
    payload: frame.subarray(off, end),
  };
}
