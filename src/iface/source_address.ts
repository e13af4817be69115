/**
 * Source address selection (RFC 6724 §5): of the addresses a stack holds, which one to use to
 * reach a destination. Rules applied, in order: 1 prefer the destination itself, 2 prefer the
 * appropriate scope, 3 avoid deprecated addresses, 5 prefer the outgoing interface, 6 prefer a
 * matching label in the default policy table, 7 prefer temporary addresses (when asked),
 * 8 prefer the longest matching prefix. Rule 4 (home addresses) does not apply: we have no
 * Mobile IPv6. IPv4 addresses take part as IPv4-mapped addresses, as §3.5 says.
 *
 * @module
 */

import { type IpAddress, Ipv4Address } from "../wire/address.ts";
import { IpCidr } from "../wire/cidr.ts";

/**
 * A candidate source address and what the stack knows of it.
 *
 * @example
 * ```ts
 * import { selectSourceAddress, type SourceCandidate } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const old: SourceCandidate = { address: parseIpAddress("2001:db8::2"), deprecated: true };
 * const fresh: SourceCandidate = { address: parseIpAddress("2001:db8::3"), deprecated: false };
 * const pick = selectSourceAddress(parseIpAddress("2001:db8::9"), [old, fresh]);
 * assert.equal(pick?.toString(), "2001:db8::3"); // rule 3: avoid deprecated addresses
 * ```
 */
export interface SourceCandidate {
  /** The address. */
  readonly address: IpAddress;
  /** Its preferred lifetime has ended (RFC 4862 §5.5.4). */
  readonly deprecated?: boolean;
  /** A temporary address (RFC 8981). */
  readonly temporary?: boolean;
  /** It is assigned to the interface the packet leaves on. */
  readonly onOutgoingInterface?: boolean;
}

/**
 * Options of {@linkcode selectSourceAddress}.
 *
 * @example
 * ```ts
 * import { selectSourceAddress, type SourceSelectionOptions } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const candidates = [
 *   { address: parseIpAddress("2001:db8::2") },
 *   { address: parseIpAddress("2001:db8::3"), temporary: true },
 * ];
 * const dst = parseIpAddress("2001:db8::9");
 * const o: SourceSelectionOptions = { preferTemporary: false };
 * assert.equal(selectSourceAddress(dst, candidates)?.toString(), "2001:db8::3");
 * assert.equal(selectSourceAddress(dst, candidates, o)?.toString(), "2001:db8::2");
 * ```
 */
export interface SourceSelectionOptions {
  /** Rule 7: prefer temporary addresses (RFC 8981 defaults to preferring them). Default true. */
  preferTemporary?: boolean;
}

/** RFC 6724 §2.1 default policy table: prefix, precedence, label. */
const POLICY: readonly (readonly [IpCidr, number, number])[] = (
  [
    ["::1/128", 50, 0],
    ["::/0", 40, 1],
    ["::ffff:0:0/96", 35, 4],
    ["2002::/16", 30, 2],
    ["2001::/32", 5, 5],
    ["fc00::/7", 3, 13],
    ["::/96", 1, 3],
    ["fec0::/10", 1, 11],
    ["3ffe::/16", 1, 12],
  ] as const
).map(([p, prec, label]) => [IpCidr.parse(p), prec, label] as const)
  .sort((x, y) => y[0].prefixLen - x[0].prefixLen);

/** The label of an IPv4 address as IPv4-mapped IPv6 (RFC 6724 §3.5): `::ffff:0:0/96`'s. */
const LABEL_V4 = 4;

/** The policy label of an address (IPv4 as IPv4-mapped), without building the mapped address. */
function label(a: IpAddress): number {
  if (a.version === 4) return LABEL_V4;
  for (let i = 0; i < POLICY.length; i++) {
    const p = POLICY[i]!;
    if (p[0].contains(a)) return p[2];
  }
  return 1;
}

/**
 * The scope of an address (RFC 6724 §3.1; RFC 4291 §2.7 for multicast): 0x1 interface-local,
 * 0x2 link-local, 0x5 site-local, 0xe global. IPv4 loopback and link-local (169.254/16) are
 * link-local; other IPv4 addresses global (§3.2).
 *
 * @param address Any address.
 * @returns The scope value; larger is wider.
 *
 * @example
 * ```ts
 * import { addressScope } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * assert.equal(addressScope(parseIpAddress("fe80::1")), 0x2);
 * assert.equal(addressScope(parseIpAddress("192.0.2.1")), 0xe);
 * ```
 */
export function addressScope(address: IpAddress): number {
  if (address instanceof Ipv4Address) {
    const top = address.value >>> 24;
    if (top === 127 || address.value >>> 16 === 0xa9fe) return 0x2;
    return 0xe;
  }
  if (address.isMulticast) return (address.w0 >>> 16) & 0xf;
  if (address.isLoopback || address.isLinkLocal) return 0x2;
  if (address.w0 >>> 22 === 0x3fb) return 0x5; // fec0::/10, deprecated site-local
  return 0xe;
}

/** Word `i` (0–3) of an address as IPv6 (IPv4 as IPv4-mapped: ::ffff:a.b.c.d). */
function word(a: IpAddress, i: number): number {
  if (a.version === 4) return i === 2 ? 0xffff : i === 3 ? a.value : 0;
  return i === 0 ? a.w0 : i === 1 ? a.w1 : i === 2 ? a.w2 : a.w3;
}

/** Length of the common prefix of two addresses as IPv6, in bits (rule 8 looks at 64 at most). */
function commonPrefixLen(a: IpAddress, b: IpAddress): number {
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const x = (word(a, i) ^ word(b, i)) >>> 0;
    if (x === 0) {
      n += 32;
      continue;
    }
    return n + Math.clz32(x);
  }
  return n;
}

/**
 * Whether candidate `a` is preferred to `b` for `destination` (RFC 6724 §5; rule 4 does not
 * apply); `dScope` and `dLabel` are the destination's scope and label.
 */
function better(
  a: SourceCandidate,
  b: SourceCandidate,
  destination: IpAddress,
  dScope: number,
  dLabel: number,
  preferTemporary: boolean,
): boolean {
  // Rule 1: prefer the same address.
  const aSame = a.address.equals(destination), bSame = b.address.equals(destination);
  if (aSame !== bSame) return aSame;
  // Rule 2: prefer the appropriate scope.
  const sa = addressScope(a.address), sb = addressScope(b.address);
  if (sa !== sb) return sa < sb ? sa >= dScope : sb < dScope;
  // Rule 3: avoid deprecated addresses.
  const da = a.deprecated === true, db = b.deprecated === true;
  if (da !== db) return !da;
  // Rule 5: prefer the outgoing interface.
  const oa = a.onOutgoingInterface === true, ob = b.onOutgoingInterface === true;
  if (oa !== ob) return oa;
  // Rule 6: prefer a matching label.
  const la = label(a.address) === dLabel, lb = label(b.address) === dLabel;
  if (la !== lb) return la;
  // Rule 7: prefer temporary addresses (or public ones when the application asked).
  const ta = a.temporary === true, tb = b.temporary === true;
  if (ta !== tb) return ta === preferTemporary;
  // Rule 8: prefer the longest matching prefix (up to the prefix length, 64 for IPv6).
  const cap = destination.version === 6 ? 64 : 128;
  const pa = Math.min(cap, commonPrefixLen(a.address, destination));
  const pb = Math.min(cap, commonPrefixLen(b.address, destination));
  return pa > pb;
}

/**
 * Picks the source address for a destination by RFC 6724 §5. Candidates of the other IP
 * version are never chosen.
 *
 * @param destination Where the packet goes.
 * @param candidates The addresses the stack holds (tentative and duplicate ones left out).
 * @param options Rule 7's preference.
 * @returns The best candidate's address, or `null` when none has the destination's IP version.
 *
 * @example
 * ```ts
 * import { selectSourceAddress } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const a = parseIpAddress;
 * const pick = selectSourceAddress(a("2001:db8:1::9"), [
 *   { address: a("fe80::2") },
 *   { address: a("2001:db8:2::2") },
 *   { address: a("2001:db8:1::2") },
 * ]);
 * assert.equal(pick?.toString(), "2001:db8:1::2"); // global scope, then the longest prefix
 * ```
 */
export function selectSourceAddress(
  destination: IpAddress,
  candidates: readonly SourceCandidate[],
  options?: SourceSelectionOptions,
): IpAddress | null {
  const preferTemporary = options?.preferTemporary ?? true;
  const dScope = addressScope(destination);
  const dLabel = label(destination);
  let best: SourceCandidate | null = null;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.address.version !== destination.version) continue;
    if (best === null || better(c, best, destination, dScope, dLabel, preferTemporary)) best = c;
  }
  return best?.address ?? null;
}
