/**
 * The door of the async layer: every option of `NetStack` and its methods is checked here, when
 * the call is made, with the rules of `src/_validate.ts`. Nothing that passes can make the poll
 * loop throw later (a TCP option is resolved once here, not first when a SYN arrives).
 *
 * @module
 */

import {
  checkAddress,
  checkArray,
  checkBoolean,
  checkBufferSize,
  checkCidr,
  checkDuration,
  checkInteger,
  checkMtu,
  checkOneOf,
  checkOptions,
  checkPort,
  checkSignal,
  checkString,
  checkTimeout,
  typeError,
} from "../_validate.ts";
import type { Device } from "../phy/device.ts";
import {
  type KeepAliveOptions,
  resolveOptions,
  type TcpSocketOptions,
} from "../socket/tcp/config.ts";
import { RttEstimator } from "../socket/tcp/rtt.ts";
import { FastOpenCache } from "../socket/tcp/fast_open_cache.ts";
import type { InterfaceOptions, NetStackOptions } from "./options.ts";
import { EthernetAddress, type IpAddress, type IpCidr, parseIpAddress } from "../wire/address.ts";

/** The most connections a listener queues (Linux caps `somaxconn` at 65535 too). */
export const MAX_BACKLOG = 65535;

/** A `Device`: an object with capabilities and the four frame methods. */
export function checkDevice(name: string, value: unknown): Device {
  const d = value as Partial<Device> | null;
  if (
    typeof d !== "object" || d === null || typeof d.capabilities !== "object" ||
    d.capabilities === null || typeof d.receive !== "function" ||
    typeof d.transmit !== "function" || typeof d.commit !== "function" ||
    typeof d.canTransmit !== "function"
  ) {
    throw typeError(name, value, "a Device (capabilities, receive, canTransmit, transmit, commit)");
  }
  checkOneOf(`${name}.capabilities.medium`, d.capabilities.medium, ["ethernet", "ip"]);
  return d as Device;
}

/** Checks every TCP option's type and range; returns them unchanged when they are valid. */
export function checkTcpOptions(
  name: string,
  value: TcpSocketOptions | undefined,
): TcpSocketOptions {
  const o = checkOptions(name, value);
  const opt = <K extends keyof TcpSocketOptions>(
    k: K,
    check: (n: string, v: unknown) => unknown,
  ) => {
    const v = o[k];
    if (v !== undefined) check(`${name}.${k}`, v);
  };
  const nullable = (check: (n: string, v: unknown) => unknown) => (n: string, v: unknown) =>
    v === null ? null : check(n, v);
  opt("rxBufferSize", checkBufferSize);
  opt("txBufferSize", checkBufferSize);
  opt("congestion", (n, v) => checkOneOf(n, v, ["newreno", "cubic"]));
  opt("hystart", checkBoolean);
  opt("noDelay", checkBoolean);
  opt("sack", checkBoolean);
  opt("timestamps", checkBoolean);
  opt("windowScale", checkBoolean);
  opt("keepAlive", nullable(checkKeepAlive));
  opt("userTimeout", nullable(checkTimeout));
  opt("connectTimeout", checkTimeout);
  opt("timeWait", checkDuration);
  opt("delayedAck", (n, v) => checkInteger(n, v, 0, 500)); // RFC 1122 §4.2.3.2: under 0.5 s
  opt("mss", nullable((n, v) => checkInteger(n, v, 64, 65535)));
  opt("maxRetransmissions", (n, v) => checkInteger(n, v, 1, 1000));
  opt("initialSequenceNumber", nullable((n, v) => checkInteger(n, v, 0, 0xffffffff)));
  opt("timestampOffset", nullable((n, v) => checkInteger(n, v, 0, 0xffffffff)));
  opt("rto", (n, v) => {
    const rto = checkOptions(n, v as Record<string, unknown>);
    for (const k of ["initialRto", "minRto", "maxRto", "granularity"] as const) {
      if (rto[k] !== undefined) checkDuration(`${n}.${k}`, rto[k], k === "initialRto");
    }
    new RttEstimator(rto); // minRto ≤ maxRto
  });
  resolveOptions(o); // the socket's own checks, so none of them can fire in the poll loop
  return o;
}

function checkKeepAlive(name: string, value: unknown): KeepAliveOptions {
  const ka = checkOptions(name, value as KeepAliveOptions, true);
  checkTimeout(`${name}.idle`, ka.idle);
  checkTimeout(`${name}.interval`, ka.interval);
  checkInteger(`${name}.count`, ka.count, 1, 1000);
  return ka;
}

/** The checked options of a NetStack. */
export interface StackConfig {
  readonly device: Device;
  /** `addresses: "auto"`: IPv4 by DHCP. */
  readonly auto: boolean;
  readonly addresses: readonly IpCidr[];
  readonly gateways: readonly IpAddress[];
  readonly hardwareAddress: EthernetAddress | undefined;
  readonly metric: number;
  readonly tcp: TcpSocketOptions;
  readonly backlog: number;
  readonly maxSockets: number | undefined;
  readonly seed: number | undefined;
  readonly dnsServers: readonly IpAddress[];
  readonly fastOpenCache: FastOpenCache;
}

/** The device, `addresses` and `autoconf` shared by the stack's and `addInterface`'s options. */
function checkDeviceAddresses(
  o: NetStackOptions | InterfaceOptions,
): { device: Device; auto: boolean; addresses: IpCidr[]; ipv6: boolean } {
  const device = checkDevice("device", o.device);
  if (o.addresses === undefined) {
    throw typeError("addresses", o.addresses, 'an array of addresses with prefix or "auto"');
  }
  const auto = o.addresses === "auto";
  const addresses = auto
    ? []
    : checkArray("addresses", o.addresses as readonly (string | IpCidr)[]).map((a, i) =>
      checkCidr(`addresses[${i}]`, a)
    );
  if (o.autoconf !== undefined) checkOptions("autoconf", o.autoconf);
  const ipv6 = addresses.some((a) => a.address.version === 6);
  checkMtu("device MTU", device.capabilities.mtu, device.capabilities.medium, ipv6);
  return { device, auto, addresses, ipv6 };
}

/** Checks the options of `new NetStack(options)`. */
export function checkStackOptions(value: NetStackOptions): StackConfig {
  const o = checkOptions("options", value, true);
  const { device, auto, addresses } = checkDeviceAddresses(o);
  const gateways = checkArray("gateways", o.gateways).map((g, i) =>
    checkAddress(`gateways[${i}]`, g)
  );
  const hardwareAddress = checkHardwareAddress("hardwareAddress", o.hardwareAddress);
  if (o.iface !== undefined) checkOptions("iface", o.iface);
  return {
    device,
    auto,
    addresses,
    gateways,
    hardwareAddress,
    metric: o.metric === undefined ? 0 : checkInteger("metric", o.metric, 0, 0xffffffff),
    tcp: checkTcpOptions("tcp", o.tcp),
    backlog: o.backlog === undefined ? 511 : checkBacklog("backlog", o.backlog),
    maxSockets: o.maxSockets === undefined
      ? undefined
      : checkInteger("maxSockets", o.maxSockets, 1, 1 << 24),
    seed: o.seed === undefined ? undefined : checkInteger("seed", o.seed, 0, 0xffffffff),
    dnsServers: checkArray("dnsServers", o.dnsServers).map((s, i) =>
      checkAddress(`dnsServers[${i}]`, s)
    ),
    fastOpenCache: checkFastOpenCache(o.fastOpenCache),
  };
}

/** An optional `FastOpenCache` (a new one of 1024 servers when left out). */
function checkFastOpenCache(value: unknown): FastOpenCache {
  if (value === undefined) return new FastOpenCache();
  if (!(value instanceof FastOpenCache)) {
    throw typeError("fastOpenCache", value, "a FastOpenCache");
  }
  return value;
}

/** An optional MAC address, as a string or an `EthernetAddress`. */
function checkHardwareAddress(name: string, value: unknown): EthernetAddress | undefined {
  if (value === undefined || value instanceof EthernetAddress) return value;
  if (typeof value !== "string") throw typeError(name, value, "a MAC string or EthernetAddress");
  try {
    return EthernetAddress.parse(value);
  } catch {
    throw new TypeError(
      `Invalid ${name} "${value}": expected a MAC such as "02:00:00:00:00:01"`,
    );
  }
}

/** The checked options of `NetStack.addInterface`. */
export interface InterfaceConfigChecked {
  readonly device: Device;
  /** `addresses: "auto"`: DHCPv4 (and SLAAC on Ethernet) on this interface. */
  readonly auto: boolean;
  readonly addresses: readonly IpCidr[];
  readonly gateways: readonly IpAddress[];
  readonly routes: readonly {
    readonly cidr: IpCidr;
    readonly via: IpAddress | null;
    readonly metric: number | null;
  }[];
  readonly hardwareAddress: EthernetAddress | undefined;
  readonly metric: number;
  readonly mtu: number | undefined;
}

/** Checks the options of `NetStack.addInterface`. */
export function checkInterfaceOptions(value: InterfaceOptions): InterfaceConfigChecked {
  const o = checkOptions("options", value, true);
  const { device, auto, addresses, ipv6 } = checkDeviceAddresses(o);
  const routes = checkArray("routes", o.routes).map((r, i) => {
    checkOptions(`routes[${i}]`, r, true);
    const cidr = checkCidr(`routes[${i}].cidr`, r.cidr);
    const via = r.via === undefined ? null : checkAddress(`routes[${i}].via`, r.via);
    if (via !== null && via.version !== cidr.address.version) {
      throw new TypeError(`Invalid routes[${i}]: ${cidr} via ${via} mixes IP versions`);
    }
    const metric = r.metric === undefined
      ? null
      : checkInteger(`routes[${i}].metric`, r.metric, 0, 0xffffffff);
    return { cidr, via, metric };
  });
  if (o.iface !== undefined) checkOptions("iface", o.iface);
  return {
    device,
    auto,
    addresses,
    gateways: checkArray("gateways", o.gateways).map((g, i) => checkAddress(`gateways[${i}]`, g)),
    routes,
    hardwareAddress: checkHardwareAddress("hardwareAddress", o.hardwareAddress),
    metric: o.metric === undefined ? 0 : checkInteger("metric", o.metric, 0, 0xffffffff),
    mtu: o.mtu === undefined ? undefined : checkInteger("mtu", o.mtu, ipv6 ? 1280 : 576, 65535),
  };
}

/** A listen backlog: 1 to 65535. */
export function checkBacklog(name: string, value: unknown): number {
  return checkInteger(name, value, 1, MAX_BACKLOG);
}

/** An optional hostname string (TypeError for another type). */
export function checkHostname(name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkString(name, value);
}

export { checkPort, checkSignal };

/** The last literal parsed (addresses are immutable): clients connect to one peer in a row. */
let lastHost = "";
let lastIp: IpAddress | null = null;

/** The address of an IPv4 or IPv6 literal, or `null` when `hostname` is no literal. */
export function tryParseIp(hostname: string): IpAddress | null {
  if (hostname === lastHost) return lastIp;
  let ip: IpAddress | null;
  try {
    ip = parseIpAddress(hostname);
  } catch {
    ip = null;
  }
  lastHost = hostname;
  lastIp = ip;
  return ip;
}

/**
 * The address of an IP literal hostname (`fallback` when none is given).
 *
 * @throws {TypeError} For `localhost` (a stack has no loopback) or a name that is no IP literal.
 */
export function parseHost(hostname: string | undefined, fallback: IpAddress): IpAddress {
  if (hostname === undefined || hostname === "") return fallback;
  if (hostname === "localhost") {
    throw new TypeError(
      `Invalid hostname "localhost": smolnet has no loopback; use an address of the stack`,
    );
  }
  try {
    return parseIpAddress(hostname);
  } catch {
    throw new TypeError(`Invalid hostname "${hostname}": expected an IPv4 or IPv6 address`);
  }
}
