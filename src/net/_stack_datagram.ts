/**
 * `NetStack.listenDatagram` (bound UDP sockets and the transparent flow listener) and
 * `NetStack.ping`.
 *
 * @module
 */

import { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { IcmpSocket } from "../socket/icmp.ts";
import { formatEndpoint, type IpAddress, Ipv4Address } from "../wire/address.ts";
import { checkInteger, checkOneOf, checkOptions, checkSignal, checkTimeout } from "../_validate.ts";
import type { DatagramOptions } from "./options.ts";
import { coreError, fromCoreError } from "./errors.ts";
import { checkHostname, checkPort, parseHost } from "./_options.ts";
import { UdpSocket } from "./udp_socket.ts";
import { Pinger, type PingOptions, type PingResult } from "./ping.ts";
import type { StackState } from "./_stack_state.ts";
import { hasRoute, ifaceFor, splitZone, zoneOf } from "./_stack_ifaces.ts";
import {
  isTransparent,
  listenTransparentUdp,
  type TransparentDatagramOptions,
  type UdpFlowListener,
} from "./transparent.ts";

/** `NetStack.listenDatagram`. */
export function listenDatagram(
  s: StackState,
  options: DatagramOptions | TransparentDatagramOptions,
): UdpSocket | UdpFlowListener {
  s.checkOpen();
  if (isTransparent(options)) return listenFlows(s, options as TransparentDatagramOptions);
  const o = checkOptions("options", options as DatagramOptions, true);
  if (o.transport !== undefined) checkOneOf("transport", o.transport, ["udp"]);
  const port = checkPort("port", o.port, 0);
  const name = checkHostname("hostname", o.hostname);
  // RFC 4007 §11: `fe80::1%1` binds to interface 1's link-local address, and the socket's
  // datagrams leave on interface 1.
  const { host, zone } = name === undefined ? { host: name, zone: null } : splitZone(s, name);
  const addr = parseHost(host, Ipv4Address.UNSPECIFIED);
  const scope = zone === null ? null : zoneOf(s, name!, addr, zone);
  const iface = scope === null ? ifaceFor(s, addr) : s.members[scope]!.iface;
  if (scope !== null && !iface.routes.hasAddress(addr)) {
    throw coreError("EADDRNOTAVAIL", `Cannot bind to ${formatEndpoint({ addr, port })}%${scope}`);
  }
  const core = new CoreUdpSocket();
  try {
    iface.bindUdp(s.sockets, core, { addr, port });
  } catch (e) {
    throw fromCoreError(e, `Cannot bind to ${formatEndpoint({ addr, port })}`);
  }
  if (scope !== null && s.group !== null) s.group.pin(core, scope);
  return wrapUdp(s, core);
}

function wrapUdp(s: StackState, core: CoreUdpSocket): UdpSocket {
  const udp = new UdpSocket({
    wake: s.driver.wake,
    watch: (w) => s.driver.watch(w),
    unwatch: (w) => s.driver.unwatch(w),
    refChanged: () => s.driver.refChanged(),
    release: (c) => {
      const h = s.sockets.handleOf(c);
      if (h !== undefined) s.sockets.remove(h);
      s.udp.delete(udp);
    },
  }, core);
  s.udp.add(udp);
  return udp;
}

function listenFlows(s: StackState, options: TransparentDatagramOptions): UdpFlowListener {
  const d = s.driver;
  const flows = listenTransparentUdp(() => s.acceptAnys(), s.sockets, {
    wake: d.wake,
    watch: (w) => d.watch(w),
    unwatch: (w) => d.unwatch(w),
    refChanged: () => d.refChanged(),
    wrap: (core) => wrapUdp(s, core),
  }, options);
  s.flowListeners.add(flows);
  return flows;
}

/** `NetStack.ping`. */
export function ping(s: StackState, options: PingOptions): Promise<PingResult> {
  let addr: IpAddress;
  let o: PingOptions;
  let scope: number | null;
  try {
    s.checkOpen();
    o = checkOptions("options", options, true);
    const name = checkHostname("hostname", o.hostname);
    // RFC 4007 §11: `fe80::2%1` pings through interface 1.
    const { host, zone } = name === undefined ? { host: name, zone: null } : splitZone(s, name);
    addr = parseHost(host, Ipv4Address.UNSPECIFIED);
    scope = zone === null && addr.isUnspecified ? null : zoneOf(s, name!, addr, zone);
    if (o.size !== undefined) checkInteger("size", o.size, 0, 65000);
    if (o.timeout !== undefined) checkTimeout("timeout", o.timeout);
    checkSignal("signal", o.signal);
  } catch (e) {
    return Promise.reject(e);
  }
  if (addr.isUnspecified) {
    return Promise.reject(
      new TypeError(`Invalid hostname "${o.hostname}": a destination is required`),
    );
  }
  if (scope !== null && s.group !== null) {
    // A pinger of the zone's own, its ICMP socket pinned to that interface.
    const iface = s.members[scope]!.iface;
    if (iface.routes.nextHop(addr) === null) {
      return Promise.reject(coreError("ENETUNREACH", `Cannot ping ${addr}%${scope}`));
    }
    let pinger = s.zonePingers.get(iface);
    if (pinger === undefined) {
      const socket = new IcmpSocket();
      iface.bindIcmp(s.sockets, socket);
      s.group.pin(socket, scope);
      pinger = new Pinger(socket, s.driver.wake);
      s.zonePingers.set(iface, pinger);
    }
    return pinger.ping(addr, o, (w) => s.driver.watch(w));
  }
  if (!hasRoute(s, addr)) {
    return Promise.reject(coreError("ENETUNREACH", `Cannot ping ${addr}`));
  }
  if (s.pinger === null) {
    const socket = new IcmpSocket();
    s.iface.bindIcmp(s.sockets, socket);
    s.pinger = new Pinger(socket, s.driver.wake);
  }
  return s.pinger.ping(addr, o, (w) => s.driver.watch(w));
}
