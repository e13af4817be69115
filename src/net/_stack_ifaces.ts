/**
 * The interfaces of a `NetStack` beyond its first: `NetStack.addInterface`, and the questions
 * the other methods ask of all interfaces at once (which one holds an address, whether a
 * destination has a route, which interface and source address a connection takes).
 *
 * @module
 */

import { Interface, type InterfaceConfig } from "../iface/interface.ts";
import { InterfaceGroup } from "../iface/iface_group.ts";
import type { DropCounters } from "../iface/counters.ts";
import type { AcceptAnyCounters } from "../iface/accept_any.ts";
import type { Autoconf } from "./autoconf.ts";
import { deviceChain } from "../phy/wrapper.ts";
import type { IpAddress } from "../wire/address.ts";
import { closeDevice } from "../phy/device.ts";
import { TcpSocket } from "../socket/tcp/socket.ts";
import type { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { checkInteger } from "../_validate.ts";
import { claimDevice, randomMac, releaseDevice } from "./_device_owner.ts";
import { netError } from "./errors.ts";
import type { InterfaceOptions } from "./options.ts";
import { checkInterfaceOptions } from "./_options.ts";
import { DEFAULT_INGRESS_BUDGET, type StackState } from "./_stack_state.ts";
import { acceptAnyConfig, joinTransparent } from "./transparent.ts";

/** `NetStack.addInterface`: `owner` is the stack that claims the device. */
export function addInterface(s: StackState, owner: object, options: InterfaceOptions): number {
  s.checkOpen();
  const o = checkInterfaceOptions(options);
  const chain = deviceChain(o.device);
  for (const m of s.members) {
    if (deviceChain(m.device).some((d) => chain.includes(d))) {
      throw new TypeError("Invalid device: an interface of this stack uses it already");
    }
  }
  const medium = o.device.capabilities.medium;
  const hw = o.hardwareAddress ?? (medium === "ethernet" ? randomMac() : undefined);
  const gateway4 = o.gateways.find((g) => g.version === 4);
  const gateway6 = o.gateways.find((g) => g.version === 6);
  const config: InterfaceConfig = {
    ...options.iface,
    medium,
    addresses: o.addresses,
    routes: [...(options.iface?.routes ?? []), ...o.routes.map(({ cidr, via }) => ({ cidr, via }))],
    ...(hw !== undefined ? { hardwareAddr: hw } : {}),
    ...(gateway4 !== undefined ? { gateway4 } : {}),
    ...(gateway6 !== undefined ? { gateway6 } : {}),
    ...acceptAnyConfig(options.acceptAny),
  };
  const iface = new Interface(config);
  if (o.mtu !== undefined) iface.linkMtu = o.mtu;
  // DHCP and SLAAC; checks its options (port 68, bound on first use, is unbound when it throws).
  const autoconf = o.auto ? s.startAutoconf(iface, options.autoconf) : null;
  try {
    claimDevice(o.device, owner);
  } catch (e) {
    if (autoconf !== null) {
      autoconf.close();
      s.autoconfs.pop();
    }
    throw e;
  }
  if (s.group === null) {
    s.group = new InterfaceGroup();
    s.group.add(s.iface, s.device, { metric: s.metric });
    // The first interface's DHCP messages (from 0.0.0.0) leave on it alone.
    if (s.autoconf !== null) s.group.pin(s.autoconf.sendSocket, 0);
  }
  const routeMetrics = o.routes.flatMap((r) =>
    r.metric === null ? [] : [{ cidr: r.cidr, via: r.via, metric: r.metric }]
  );
  const others = s.acceptAnys();
  s.group.add(iface, o.device, { metric: o.metric, routeMetrics });
  // Transparent listeners already open take this interface's flows too.
  if (iface.acceptAny !== null) joinTransparent(iface.acceptAny, others);
  s.members.push({
    iface,
    device: o.device,
    ingressBudget: config.ingressBudget ?? DEFAULT_INGRESS_BUDGET,
    autoconf,
  });
  if (autoconf !== null) s.group.pin(autoconf.sendSocket, s.members.length - 1);
  s.watchDevice(o.device);
  s.driver.wake();
  return s.members.length - 1;
}

/**
 * `NetStack.removeInterface`: what is bound to the interface's addresses fails with a
 * `ConnectionAborted` naming it (connections are reset), the interface leaves the group (and
 * with it its prefixes and routes), the loop stops polling and waiting on its device, and the
 * device is released (closed if it can be). `owner` is the stack that claimed the device.
 */
export async function removeInterface(s: StackState, owner: object, index: number): Promise<void> {
  s.checkOpen();
  checkInteger("index", index, 0, Number.MAX_SAFE_INTEGER);
  if (index === 0) {
    throw new RangeError("Invalid index 0: the first interface cannot be removed; close the stack");
  }
  if (index >= s.members.length) {
    throw new RangeError(`Invalid index ${index}: the stack has no interface ${index}`);
  }
  const m = s.members[index]!;
  const routes = m.iface.routes;
  const err = netError("ConnectionAborted", `Interface ${index} was removed from the stack`);
  for (const l of [...s.listeners]) {
    if (routes.hasAddress(l.socket.local.addr)) {
      l.fail(err);
      l.close();
    }
  }
  const group = s.group!;
  // Bound to its addresses, or pinned to it (accepted there: accept-any, link-local).
  const onIt = (socket: object, addr: IpAddress | null) =>
    (addr !== null && routes.hasAddress(addr)) || group.pinnedIndex(socket) === index;
  for (const u of [...s.udp]) {
    const core = u.key as CoreUdpSocket;
    if (onIt(core, core.endpoint?.addr ?? null)) {
      u.fail(err);
      u.close();
      s.udp.delete(u);
    }
  }
  for (let i = 0; i < s.sockets.size; i++) {
    const t = s.sockets.at(i);
    if (!(t instanceof TcpSocket) || t.state === "closed") continue;
    if (!onIt(t, t.localEndpoint?.addr ?? null)) continue;
    s.abortCauses.set(t, err);
    t.abort();
  }
  // Flows it terminated and nobody accepted yet are closed with it.
  m.iface.acceptAny?.unlistenUdp(s.sockets);
  // One poll while the interface is still a member sends the resets through it.
  s.driver.flush();
  // Its DHCP client and SLAAC stop (their timers and waiters with them; `configured` rejects).
  if (m.autoconf !== null) {
    m.autoconf.close();
    s.autoconfs.splice(s.autoconfs.indexOf(m.autoconf), 1);
  }
  s.group!.remove(index);
  s.members.splice(index, 1);
  s.unwatchDevice(m.device);
  releaseDevice(m.device, owner);
  s.driver.wake();
  await closeDevice(m.device);
}

/** `NetStack.interfaceCounters`. */
export function interfaceCounters(s: StackState, index: number): DropCounters {
  checkInteger("index", index, 0, s.members.length - 1);
  return s.members[index]!.iface.counters;
}

/** `NetStack.interfaceAutoconf`. */
export function interfaceAutoconf(s: StackState, index: number): Autoconf | null {
  checkInteger("index", index, 0, s.members.length - 1);
  return s.members[index]!.autoconf;
}

/** `NetStack.acceptAnyCounters`. */
export function acceptAnyCounters(
  s: StackState,
  index: number,
): Readonly<AcceptAnyCounters> | null {
  checkInteger("index", index, 0, s.members.length - 1);
  return s.members[index]!.iface.acceptAny?.counters ?? null;
}

/** `NetStack.interfaceOf`: `key` is the stream's or socket's core socket. */
export function interfaceOf(s: StackState, key: object): number {
  if (s.group === null) return 0;
  const pinned = s.group.pinnedIndex(key);
  if (pinned >= 0) return pinned;
  const local = key instanceof TcpSocket ? key.localEndpoint : (key as CoreUdpSocket).endpoint;
  if (local === null || local.addr.isUnspecified) return -1;
  return s.group.indexOf(local.addr);
}

/**
 * Splits an RFC 4007 §11 zone off a hostname: `fe80::1%1` names interface 1 (zones are
 * interface indices, as `addInterface` returns them). `zone` is `null` without one.
 */
export function splitZone(s: StackState, name: string): { host: string; zone: number | null } {
  const i = name.indexOf("%");
  if (i < 0) return { host: name, zone: null };
  const z = name.slice(i + 1);
  if (!/^[0-9]{1,9}$/.test(z)) {
    throw new TypeError(
      `Invalid hostname "${name}": expected a zone that is an interface index, such as "fe80::1%1"`,
    );
  }
  const zone = Number(z);
  if (zone >= s.members.length) {
    throw new RangeError(`Invalid hostname "${name}": the stack has no interface ${zone}`);
  }
  return { host: name.slice(0, i), zone };
}

/**
 * The interface a zoned or link-local address is on: the zone's; `null` when the address needs
 * none (not IPv6 link-local, or a stack with one interface).
 *
 * @throws {TypeError} For a zone on an address that is not IPv6 link-local, or (code `EINVAL`,
 * as Linux's `connect` to a link-local address without a scope) an IPv6 link-local address
 * without a zone on a stack with several interfaces, where it could be on any of them.
 */
export function zoneOf(
  s: StackState,
  name: string,
  addr: IpAddress,
  zone: number | null,
): number | null {
  const linkLocal = addr.version === 6 && addr.isLinkLocal;
  if (zone !== null) {
    if (!linkLocal) {
      throw new TypeError(
        `Invalid hostname "${name}": a zone applies to IPv6 link-local addresses (fe80::/10) only`,
      );
    }
    return zone;
  }
  if (!linkLocal || s.members.length === 1) return null;
  const e = new TypeError(
    `Invalid hostname "${name}": a link-local address needs a zone on a stack with ${s.members.length} interfaces, such as "${name}%1"`,
  );
  Object.defineProperty(e, "code", { value: "EINVAL", enumerable: false, configurable: true });
  throw e;
}

/** The interface that holds `addr`, or the first one (for the unspecified address). */
export function ifaceFor(s: StackState, addr: IpAddress): Interface {
  if (s.group === null || addr.isUnspecified) return s.iface;
  const i = s.group.indexOf(addr);
  return i < 0 ? s.iface : s.members[i]!.iface;
}

/** Whether an interface holds `addr`. */
export function ownsAddress(s: StackState, addr: IpAddress): boolean {
  return s.group === null ? s.iface.routes.hasAddress(addr) : s.group.indexOf(addr) >= 0;
}

/** Whether some interface has a route to `dst`. */
export function hasRoute(s: StackState, dst: IpAddress): boolean {
  return s.group === null ? s.iface.routes.nextHop(dst) !== null : s.group.lookup(dst) !== null;
}

/**
 * The interface a connection to `dst` leaves on and its source address (RFC 6724 over that
 * interface's addresses), or `null` without a route; only with several interfaces.
 */
export function connectVia(
  s: StackState,
  dst: IpAddress,
): { iface: Interface; source: IpAddress } | null {
  const source = s.group!.sourceFor(dst);
  if (source === null) return null;
  return { iface: s.members[s.group!.indexOf(source)]!.iface, source };
}
