/**
 * Builds an `Interface`'s state from its `InterfaceConfig`: medium and
 * hardware address checks, seeds, limits, addresses and routes. Internal to `src/iface`, not
 * exported.
 *
 * @module
 */

import { AcceptAny } from "./accept_any.ts";
import { EthernetAddress, type IpAddress, IpCidr, parseIpAddress } from "../wire/address.ts";
import { Rng } from "../rand.ts";
import { TokenBucket } from "../socket/context.ts";
import { IfaceCore } from "./iface_state.ts";
import { NeighborCache } from "./neighbor.ts";
import { Reassembler } from "./reassembly.ts";
import { TcpBatch } from "./_ingress_gro.ts";
import type { InterfaceConfig } from "./interface.ts";

function toAddr(a: IpAddress | string): IpAddress {
  return typeof a === "string" ? parseIpAddress(a) : a;
}

/**
 * The state behind a new `Interface`.
 *
 * @throws {TypeError} When an address or the hardware address is invalid, or Ethernet has no
 * hardware address.
 */
export function buildCore(config: InterfaceConfig): IfaceCore {
  const medium = config.medium ?? (config.hardwareAddr !== undefined ? "ethernet" : "ip");
  if (medium === "ethernet" && config.hardwareAddr === undefined) {
    throw new TypeError("An Ethernet interface needs a hardware address");
  }
  const hw = config.hardwareAddr === undefined
    ? EthernetAddress.ZERO
    : typeof config.hardwareAddr === "string"
    ? EthernetAddress.parse(config.hardwareAddr)
    : config.hardwareAddr;
  if (medium === "ethernet" && !hw.isUnicast) {
    throw new TypeError(`Invalid hardware address ${hw}: not unicast`);
  }
  const seed = config.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const isnSecret = config.isnSecret ?? crypto.getRandomValues(new Uint8Array(16));
  const rate = config.icmpErrorRate ?? { burst: 10, interval: 1000 };
  const core = new IfaceCore({
    medium,
    hw,
    rng: new Rng(seed),
    isnSecret,
    hopLimit: config.hopLimit ?? 64,
    icmpEchoReply: config.icmpEchoReply ?? true,
    neighbors: new NeighborCache(config.neighborCache),
    reasm4: new Reassembler(4, config.reassembly4),
    reasm6: new Reassembler(6, config.reassembly6),
    icmpLimiter: new TokenBucket(rate),
    announce: medium === "ethernet" && (config.gratuitousArp ?? true),
  });
  if (config.acceptAny !== undefined) core.acceptAny = new AcceptAny(config.acceptAny);
  if (config.coalesceTcp !== undefined && typeof config.coalesceTcp !== "boolean") {
    throw new TypeError(`Invalid coalesceTcp ${String(config.coalesceTcp)}: must be a boolean`);
  }
  if (config.coalesceTcp !== false) core.tcpBatch = new TcpBatch();
  const routes = core.routes;
  for (const a of config.addresses ?? []) {
    routes.addAddress(typeof a === "string" ? IpCidr.parse(a) : a);
  }
  for (const r of config.routes ?? []) {
    routes.add({
      cidr: typeof r.cidr === "string" ? IpCidr.parse(r.cidr) : r.cidr,
      via: r.via === null ? null : toAddr(r.via),
    });
  }
  if (config.gateway4 !== undefined) {
    routes.add({ cidr: IpCidr.parse("0.0.0.0/0"), via: toAddr(config.gateway4) });
  }
  if (config.gateway6 !== undefined) {
    routes.add({ cidr: IpCidr.parse("::/0"), via: toAddr(config.gateway6) });
  }
  return core;
}
