/**
 * Address resolution on the interface: ARP (RFC 826) and IPv6 neighbor discovery's NS/NA
 * (RFC 4861 §7) received and answered, neighbor solicitations and ARP requests sent when the
 * neighbor cache says one is due, and packets queued for a next hop flushed once it resolves.
 * Messages are parsed and built by the wire layer (`parseArp`, `NdiscRepr`); they leave through
 * `egress.ts`. Internal to the iface folder.
 *
 * @module
 */

import { EthernetAddress, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { ArpOperation, ArpPacket, parseArp } from "../wire/arp.ts";
import type { NdiscRepr } from "../wire/ndisc.ts";
import { sendArp, sendBuilt, sendIcmpv6 } from "./egress.ts";
import type { IfaceCore } from "./iface_state.ts";

/** RFC 4861 §6.1.1 / §7.1: every NDP message is sent with hop limit 255. */
const NDP_HOP_LIMIT = 255;

/** RFC 826 "Packet Reception", with the merge flag. */
export function receiveArp(core: IfaceCore, bytes: Uint8Array): void {
  const repr = parseArp(ArpPacket.newChecked(bytes));
  const spa = repr.senderProtocolAddr, sha = repr.senderHardwareAddr;
  if (sha.isMulticast || !spa.isUnicast || core.routes.hasAddress(spa)) {
    // A sender claiming our address (a conflict) or a bogus sender: never learned.
    core.counters.notForUs++;
    return;
  }
  const merged = core.neighbors.fill(spa, sha, core.now, false);
  if (!core.routes.hasAddress(repr.targetProtocolAddr)) {
    if (!merged) core.counters.notForUs++;
    return;
  }
  if (!merged) core.neighbors.fill(spa, sha, core.now, true);
  if (repr.operation === ArpOperation.Request) {
    sendArp(core, ArpOperation.Reply, sha, repr.targetProtocolAddr, sha, spa);
  }
}

/**
 * A neighbor solicitation for one of our addresses (RFC 4861 §7.2.3): learn the soliciter, answer
 * with a solicited NA, or for DAD (source `::`) with an NA to all-nodes. `repr` is validated by
 * `parseNdisc` and the hop limit by the caller.
 */
export function receiveNeighborSolicit(
  core: IfaceCore,
  src: Ipv6Address,
  repr: NdiscRepr & { kind: "neighborSolicit" },
): void {
  const target = repr.target;
  if (!core.routes.hasAddress(target)) {
    core.counters.notForUs++;
    return;
  }
  const sll = repr.sourceLinkAddr;
  if (sll !== null && !src.isUnspecified) core.neighbors.fill(src, sll, core.now, true);
  if (core.medium !== "ethernet") return;
  if (!src.isUnspecified && core.neighbors.lookup(src, core.now) === null) {
    // No way to reach the soliciter without its address: learn it first (sll was absent).
    core.counters.unsupported++;
    return;
  }
  // RFC 4861 §7.2.4: solicited NA to the source, or unsolicited to all-nodes for DAD.
  const to = src.isUnspecified ? Ipv6Address.LINK_LOCAL_ALL_NODES : src;
  sendIcmpv6(core, target, to, {
    kind: "ndisc",
    repr: {
      kind: "neighborAdvert",
      router: false,
      solicited: !src.isUnspecified,
      override: true,
      target,
      targetLinkAddr: core.hw,
    },
  }, NDP_HOP_LIMIT);
}

/** A neighbor advertisement (RFC 4861 §7.2.5): updates an entry we are resolving or hold. */
export function receiveNeighborAdvert(
  core: IfaceCore,
  repr: NdiscRepr & { kind: "neighborAdvert" },
): void {
  const tll = repr.targetLinkAddr;
  if (tll === null || !core.neighbors.fill(repr.target, tll, core.now, false)) {
    core.counters.notForUs++;
  }
}

/** Sends a neighbor solicitation for `target` to its solicited-node group (RFC 4861 §7.2.2). */
function sendNeighborSolicit(core: IfaceCore, target: Ipv6Address): boolean {
  const src = core.routes.sourceFor(target);
  if (src === null) return true;
  return sendIcmpv6(core, src as Ipv6Address, Ipv6Address.solicitedNode(target), {
    kind: "ndisc",
    repr: { kind: "neighborSolicit", target, sourceLinkAddr: core.hw },
  }, NDP_HOP_LIMIT);
}

/**
 * Flushes the packets queued for neighbors that resolved, then sends the ARP request or
 * neighbor solicitation of each neighbor whose request is due (Ethernet only).
 */
export function serviceNeighbors(core: IfaceCore): void {
  const now = core.now;
  const lost = core.neighbors.expire(now);
  if (lost > 0) core.counters.neighborUnresolved += lost;
  for (;;) {
    const ready = core.neighbors.readyToFlush(now);
    if (ready === null) break;
    while (ready.queue.length > 0) {
      if (!sendBuilt(core, ready.queue[0]!, ready.hw!)) return;
      ready.queue.shift();
    }
    core.neighbors.settle(ready);
  }
  for (;;) {
    if (core.deviceFull) return;
    const e = core.neighbors.dueRequest(now);
    if (e === null) break;
    const a = e.addr;
    if (a.version === 4) {
      const spa = (core.routes.sourceFor(a) as Ipv4Address | null) ?? Ipv4Address.UNSPECIFIED;
      sendArp(core, ArpOperation.Request, EthernetAddress.BROADCAST, spa, EthernetAddress.ZERO, a);
    } else {
      sendNeighborSolicit(core, a);
    }
  }
}
