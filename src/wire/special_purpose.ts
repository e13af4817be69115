/**
 * The IANA special-purpose address registries (RFC 6890, with RFC 8190's updates and the
 * blocks registered since), as data: for any address, the most specific special-purpose block
 * that holds it and what the registry says of it (valid as source, as destination, forwardable,
 * globally reachable). A router uses it to drop martians; a stack to pick source addresses.
 *
 * @module
 */

import type { IpAddress } from "./address.ts";
import { IpCidr } from "./cidr.ts";

/**
 * One special-purpose address block.
 *
 * @example
 * ```ts
 * import { specialPurposeOf, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const b = specialPurposeOf(parseIpAddress("192.0.2.7"))!;
 * assert.equal(b.name, "Documentation (TEST-NET-1)");
 * assert.equal(b.forwardable, false);
 * ```
 */
export interface SpecialPurposeBlock {
  /** The block. */
  readonly prefix: IpCidr;
  /** The registry's name for it. */
  readonly name: string;
  /** Where it is defined. */
  readonly rfc: string;
  /** An address of the block may be a packet's source. */
  readonly source: boolean;
  /** An address of the block may be a packet's destination. */
  readonly destination: boolean;
  /** A router may forward packets with such addresses beyond the link. */
  readonly forwardable: boolean;
  /** The address is reachable across the Internet. */
  readonly globallyReachable: boolean;
}

type Row = readonly [string, string, string, boolean, boolean, boolean, boolean];

// prefix, name, RFC, source, destination, forwardable, globally reachable
const ROWS: readonly Row[] = [
  ["0.0.0.0/8", '"This network"', "RFC 791", false, false, false, false],
  ["0.0.0.0/32", '"This host on this network"', "RFC 1122", true, false, false, false],
  ["10.0.0.0/8", "Private-Use", "RFC 1918", true, true, true, false],
  ["100.64.0.0/10", "Shared Address Space", "RFC 6598", true, true, true, false],
  ["127.0.0.0/8", "Loopback", "RFC 1122", false, false, false, false],
  ["169.254.0.0/16", "Link Local", "RFC 3927", true, true, false, false],
  ["172.16.0.0/12", "Private-Use", "RFC 1918", true, true, true, false],
  ["192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", false, false, false, false],
  ["192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", true, true, true, false],
  ["192.0.0.8/32", "IPv4 dummy address", "RFC 7600", true, false, false, false],
  ["192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", true, true, true, true],
  [
    "192.0.0.10/32",
    "Traversal Using Relays around NAT Anycast",
    "RFC 8155",
    true,
    true,
    true,
    true,
  ],
  ["192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880", false, true, false, false],
  ["192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", false, false, false, false],
  ["192.31.196.0/24", "AS112-v4", "RFC 7535", true, true, true, true],
  ["192.52.193.0/24", "AMT", "RFC 7450", true, true, true, true],
  ["192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", false, false, false, false],
  ["192.168.0.0/16", "Private-Use", "RFC 1918", true, true, true, false],
  ["192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", true, true, true, true],
  ["198.18.0.0/15", "Benchmarking", "RFC 2544", true, true, true, false],
  ["198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", false, false, false, false],
  ["203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", false, false, false, false],
  ["224.0.0.0/4", "Multicast", "RFC 5771", false, true, true, true],
  ["240.0.0.0/4", "Reserved", "RFC 1112", false, false, false, false],
  ["255.255.255.255/32", "Limited Broadcast", "RFC 919", false, true, false, false],
  ["::1/128", "Loopback Address", "RFC 4291", false, false, false, false],
  ["::/128", "Unspecified Address", "RFC 4291", true, false, false, false],
  ["::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", false, false, false, false],
  ["64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", true, true, true, true],
  ["64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", true, true, true, false],
  ["100::/64", "Discard-Only Address Block", "RFC 6666", true, true, true, false],
  ["2001::/23", "IETF Protocol Assignments", "RFC 2928", false, false, false, false],
  ["2001::/32", "TEREDO", "RFC 4380", true, true, true, false],
  ["2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", true, true, true, true],
  [
    "2001:1::2/128",
    "Traversal Using Relays around NAT Anycast",
    "RFC 8155",
    true,
    true,
    true,
    true,
  ],
  ["2001:2::/48", "Benchmarking", "RFC 5180", true, true, true, false],
  ["2001:3::/32", "AMT", "RFC 7450", true, true, true, true],
  ["2001:4:112::/48", "AS112-v6", "RFC 7535", true, true, true, true],
  ["2001:20::/28", "ORCHIDv2", "RFC 7343", true, true, true, true],
  ["2001:db8::/32", "Documentation", "RFC 3849", false, false, false, false],
  ["2002::/16", "6to4", "RFC 3056", true, true, true, false],
  ["2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", true, true, true, true],
  ["fc00::/7", "Unique-Local", "RFC 4193", true, true, true, false],
  ["fe80::/10", "Link-Local Unicast", "RFC 4291", true, true, false, false],
  ["ff00::/8", "Multicast", "RFC 4291", false, true, true, true],
];

/** The blocks, most specific first, so the first match is the answer. */
const BLOCKS: readonly SpecialPurposeBlock[] = ROWS.map((
  [prefix, name, rfc, source, destination, forwardable, globallyReachable],
) => ({
  prefix: IpCidr.parse(prefix),
  name,
  rfc,
  source,
  destination,
  forwardable,
  globallyReachable,
})).sort((x, y) => y.prefix.prefixLen - x.prefix.prefixLen);

/**
 * Every special-purpose block, most specific first.
 *
 * @returns The registry as data.
 *
 * @example
 * ```ts
 * import { specialPurposeBlocks } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.ok(specialPurposeBlocks().some((b) => b.prefix.toString() === "fe80::/10"));
 * ```
 */
export function specialPurposeBlocks(): readonly SpecialPurposeBlock[] {
  return BLOCKS;
}

/**
 * The most specific special-purpose block that holds `addr`, or `null` for an ordinary
 * (global unicast) address.
 *
 * @param addr An IPv4 or IPv6 address.
 * @returns The block, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpAddress, specialPurposeOf } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(specialPurposeOf(parseIpAddress("10.1.2.3"))?.name, "Private-Use");
 * assert.equal(specialPurposeOf(parseIpAddress("0.0.0.0"))?.source, true);
 * assert.equal(specialPurposeOf(parseIpAddress("2606:4700::1")), null);
 * ```
 */
export function specialPurposeOf(addr: IpAddress): SpecialPurposeBlock | null {
  for (const b of BLOCKS) {
    if (b.prefix.address.version === addr.version && b.prefix.contains(addr)) return b;
  }
  return null;
}

/**
 * Why a router must not forward a packet between these addresses (a martian, RFC 1812 §5.3.7
 * and §5.2.3; RFC 4291 §2.5.6 for link-local), or `null` when it may. Documentation and
 * other non-forwardable blocks are allowed when `allowDocumentation` is set (tests and labs use
 * TEST-NET addresses on purpose).
 *
 * @param src The packet's source.
 * @param dst The packet's destination.
 * @param options `allowDocumentation`: treat the documentation blocks as ordinary addresses.
 * @returns A reason such as `"source 127.0.0.1 is Loopback"`, or `null`.
 *
 * @example
 * ```ts
 * import { martianReason, parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = parseIpAddress;
 * assert.equal(martianReason(a("127.0.0.1"), a("8.8.8.8")), "source 127.0.0.1 is Loopback");
 * assert.equal(martianReason(a("192.0.2.1"), a("198.51.100.1"), { allowDocumentation: true }), null);
 * ```
 */
export function martianReason(
  src: IpAddress,
  dst: IpAddress,
  options: { allowDocumentation?: boolean } = {},
): string | null {
  if (src.version !== dst.version) return "source and destination differ in IP version";
  const allowDoc = options.allowDocumentation === true;
  const s = specialPurposeOf(src);
  if (s !== null && !(allowDoc && s.name.startsWith("Documentation"))) {
    if (!s.source) return `source ${src} is ${s.name}`;
    if (!s.forwardable) return `source ${src} is ${s.name} (not forwardable)`;
  }
  const d = specialPurposeOf(dst);
  if (d !== null && !(allowDoc && d.name.startsWith("Documentation"))) {
    if (!d.destination) return `destination ${dst} is ${d.name}`;
    if (!d.forwardable) return `destination ${dst} is ${d.name} (not forwardable)`;
  }
  return null;
}
