/**
 * IP protocol numbers (the IPv4 Protocol field and the IPv6 Next Header field) and the IP
 * version nibble shared by IPv4 and IPv6.
 *
 * @module
 */

/**
 * Protocol numbers from the IANA "Assigned Internet Protocol Numbers" registry that smolnet
 * knows by name. Values not listed here are kept as plain numbers.
 *
 * @example
 * ```ts
 * import { IpProtocol } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IpProtocol.Tcp, 6);
 * assert.equal(IpProtocol.Icmpv6, 58);
 * ```
 */
export const IpProtocol = {
  /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3). */
  HopByHop: 0,
  /** ICMP for IPv4 (RFC 792). */
  Icmp: 1,
  /** IGMP (RFC 3376). */
  Igmp: 2,
  /** TCP (RFC 9293). */
  Tcp: 6,
  /** UDP (RFC 768). */
  Udp: 17,
  /** IPv6 Routing header (RFC 8200 §4.4). */
  Ipv6Route: 43,
  /** IPv6 Fragment header (RFC 8200 §4.5). */
  Ipv6Frag: 44,
  /** Encapsulating Security Payload (RFC 4303). */
  Esp: 50,
  /** Authentication Header (RFC 4302). */
  Ah: 51,
  /** ICMP for IPv6 (RFC 4443). */
  Icmpv6: 58,
  /** IPv6 No Next Header (RFC 8200 §4.7). */
  Ipv6NoNxt: 59,
  /** IPv6 Destination Options (RFC 8200 §4.6). */
  Ipv6Opts: 60,
} as const;

/**
 * One of the named {@linkcode IpProtocol} values. Fields that hold a protocol number are typed
 * `number`, because unknown values are kept as they are.
 *
 * @example
 * ```ts
 * import { IpProtocol } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const p: IpProtocol = IpProtocol.Udp;
 * assert.equal(p, 17);
 * ```
 */
export type IpProtocol = typeof IpProtocol[keyof typeof IpProtocol];

/**
 * The two IP versions, as found in the first nibble of every IP packet.
 *
 * @example
 * ```ts
 * import { IpVersion } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(IpVersion.Ipv4, 4);
 * assert.equal(IpVersion.Ipv6, 6);
 * ```
 */
export const IpVersion = {
  /** IPv4 (RFC 791). */
  Ipv4: 4,
  /** IPv6 (RFC 8200). */
  Ipv6: 6,
} as const;

/**
 * `4` or `6`.
 *
 * @example
 * ```ts
 * import type { IpVersion } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const v: IpVersion = 6;
 * assert.equal(v, 6);
 * ```
 */
export type IpVersion = typeof IpVersion[keyof typeof IpVersion];

/**
 * The IP version of a packet, read from the first nibble. On an IP-medium device this tells
 * which parser to use; it validates nothing else.
 *
 * @param bytes The packet, starting at the IP header.
 * @returns `4` or `6`, or `null` when the buffer is empty or the nibble is any other value.
 *
 * @example
 * ```ts
 * import { ipVersionOf } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(ipVersionOf(new Uint8Array([0x45, 0])), 4);
 * assert.equal(ipVersionOf(new Uint8Array([0x60])), 6);
 * assert.equal(ipVersionOf(new Uint8Array(0)), null);
 * ```
 */
export function ipVersionOf(bytes: Uint8Array): IpVersion | null {
  if (bytes.length === 0) return null;
  const v = bytes[0]! >>> 4;
  return v === 4 ? 4 : v === 6 ? 6 : null;
}
