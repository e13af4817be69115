/**
 * The forwarder's checks that need no forwarder state: the special-purpose blocks it drops
 * (RFC 6890, screened by a first-octet table), and the ICMP errors it sends about a packet it
 * cannot forward. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import type { IpCidr } from "../wire/cidr.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
import { Ipv6Packet } from "../wire/ipv6.ts";
import { carriesIcmpv4Error, carriesIcmpv6Error, sendIcmpError } from "./icmp.ts";
import type { IfaceCore } from "./iface_state.ts";
import { cidrContains } from "./route.ts";

/** Special-purpose blocks to drop, with the IPv4 first octets any of them covers. */
export interface Martians {
  readonly list: readonly IpCidr[];
  /** 1 where some IPv4 block covers addresses with this first octet (most packets: 0). */
  readonly octets: Uint8Array;
}

export function martians(list: readonly IpCidr[]): Martians {
  const octets = new Uint8Array(256);
  for (const c of list) {
    if (c.address.version !== 4) continue;
    const first = c.address.value >>> 24;
    const span = c.prefixLen >= 8 ? 1 : 1 << (8 - c.prefixLen);
    octets.fill(1, first, first + span);
  }
  return { list, octets };
}

export function inList(m: Martians, addr: IpAddress): boolean {
  if (addr.version === 4 && m.octets[addr.value >>> 24] === 0) return false;
  const list = m.list;
  for (let i = 0; i < list.length; i++) if (cidrContains(list[i]!, addr)) return true;
  return false;
}

/** RFC 1812 §4.3.2.7 / RFC 4443 §2.4(e): no error about an error or a non-first fragment. */
export function sendError(
  core: IfaceCore,
  packet: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  type4: number,
  type6: number,
  code: number,
  rest: number,
): void {
  if (src.version === 4) {
    const ip = new Ipv4Packet(packet);
    sendIcmpError(core, packet, src, dst, type4, code, rest, {
      isFragment: ip.fragOffset !== 0,
      isIcmpError: carriesIcmpv4Error(ip.protocol, ip.payload),
    });
  } else {
    const ip = new Ipv6Packet(packet);
    sendIcmpError(core, packet, src, dst, type6, code, rest, {
      isFragment: false,
      isIcmpError: carriesIcmpv6Error(ip.nextHeader, ip.payload),
    });
  }
}
