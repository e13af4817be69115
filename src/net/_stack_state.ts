/**
 * The state of one `NetStack` (its device, interface, socket set, loop and open resources) and
 * what is done to all of it at once: building it from the options, failing and checking it is
 * open. Internal: `NetStack` holds one and its methods delegate to the `_stack_*` modules.
 *
 * @module
 */

import type { FastOpenCache } from "../socket/tcp/fast_open_cache.ts";
import { Interface, type InterfaceConfig } from "../iface/interface.ts";
import type { InterfaceGroup } from "../iface/iface_group.ts";
import { SocketSet } from "../iface/socket_set.ts";
import { type Device, deviceClosed, hasReadinessHook } from "../phy/device.ts";
import { TcpSocket } from "../socket/tcp/socket.ts";
import type { TcpSocketOptions } from "../socket/tcp/config.ts";
import type { IpAddress } from "../wire/address.ts";
import { monotonicNow } from "../time.ts";
import { Driver, type PollTarget } from "./driver.ts";
import { claimDevice, randomMac } from "./_device_owner.ts";
import type { NetStackOptions } from "./options.ts";
import { badResource, netError } from "./errors.ts";
import { checkStackOptions } from "./_options.ts";
import type { ListenerHost, TcpListener } from "./tcp_listener.ts";
import type { UdpSocket } from "./udp_socket.ts";
import { DnsCache, type DnsCounters, dnsCounters, type DnsHosts } from "./dns_cache.ts";
import type { Pinger } from "./ping.ts";
import { Autoconf, type AutoconfEvent, type AutoconfOptions } from "./autoconf.ts";
import { DhcpPort } from "./_stack_dhcp.ts";
import { acceptAnyConfig, type UdpFlowListener } from "./transparent.ts";
import type { AcceptAny } from "../iface/accept_any.ts";

/** The readiness callback of a device the stack no longer waits on. */
function ignore(): void {}

/** The Interface's default `ingressBudget`. */
export const DEFAULT_INGRESS_BUDGET = 256;

/** One interface of a stack with its device; the first is the one `NetStackOptions` describes. */
export interface StackMember {
  readonly iface: Interface;
  readonly device: Device;
  /** Its DHCPv4 client and SLAAC when it was made with `addresses: "auto"`, else `null`. */
  readonly autoconf: Autoconf | null;
  /** Frames its poll takes before egress runs. */
  readonly ingressBudget: number;
}

/** Each stack's state, for tests and benchmarks that count its sockets ({@linkcode stateOf}). */
const STATES = new WeakMap<object, StackState>();

/** The state of `stack` (a `NetStack`), or `undefined`: for tests and benchmarks only. */
export function stateOf(stack: object): StackState | undefined {
  return STATES.get(stack);
}

/** What a stack is: `stack` is the `NetStack` it belongs to (its event target and poll target). */
export class StackState {
  readonly stack: EventTarget & PollTarget;
  readonly device: Device;
  readonly iface: Interface;
  readonly sockets: SocketSet;
  readonly driver: Driver;
  readonly host: ListenerHost;
  readonly tcpOptions: TcpSocketOptions;
  readonly backlog: number;
  readonly ingressBudget: number;
  readonly listeners = new Set<TcpListener>();
  readonly udp = new Set<UdpSocket>();
  readonly flowListeners = new Set<UdpFlowListener>();
  pinger: Pinger | null = null;
  /** Pingers of zoned destinations (`fe80::2%1`), one per interface, made on first use. */
  readonly zonePingers = new WeakMap<Interface, Pinger>();
  /** Why a connection was aborted, when not by its application (`NetStack.removeInterface`). */
  readonly abortCauses = new WeakMap<TcpSocket, Error>();
  closed = false;
  deviceError: Error | null = null;
  readonly dnsServers: readonly IpAddress[];
  readonly hosts: DnsHosts | undefined;
  readonly dnsCache = new DnsCache();
  /** The stack's TCP Fast Open cookies, one per server (`ConnectOptions.fastOpen`). */
  readonly fastOpenCache: FastOpenCache;
  readonly dnsCounters: DnsCounters = dnsCounters();
  readonly families: readonly (4 | 6)[];
  readonly autoconf: Autoconf | null = null;
  /** Every interface's autoconfiguration, the first interface's first (often empty). */
  readonly autoconfs: Autoconf[] = [];
  /** UDP port 68, shared by the DHCP clients of every interface (see `_stack_dhcp.ts`). */
  dhcpPort: DhcpPort | null = null;
  /** Every interface, the first one first. */
  readonly members: StackMember[];
  /** Routes between the interfaces once there are several (see `NetStack.addInterface`). */
  group: InterfaceGroup | null = null;
  /** The first interface's metric in the group. */
  readonly metric: number;

  /** The accept-any state of every interface that has it, the first interface's first. */
  acceptAnys(): AcceptAny[] {
    const out: AcceptAny[] = [];
    for (const m of this.members) if (m.iface.acceptAny !== null) out.push(m.iface.acceptAny);
    return out;
  }

  /** Checks the options, builds the interface and claims the device for `stack`. */
  constructor(stack: EventTarget & PollTarget, options: NetStackOptions) {
    this.stack = stack;
    const o = checkStackOptions(options);
    STATES.set(stack, this);
    this.device = o.device;
    const medium = o.device.capabilities.medium;
    let hw = o.hardwareAddress;
    if (hw === undefined && medium === "ethernet") hw = randomMac();
    const gateway4 = o.gateways.find((g) => g.version === 4);
    const gateway6 = o.gateways.find((g) => g.version === 6);
    const config: InterfaceConfig = {
      ...options.iface,
      medium,
      addresses: o.addresses,
      ...(hw !== undefined ? { hardwareAddr: hw } : {}),
      ...(gateway4 !== undefined ? { gateway4 } : {}),
      ...(gateway6 !== undefined ? { gateway6 } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...acceptAnyConfig(options.acceptAny),
    };
    this.iface = new Interface(config);
    this.ingressBudget = config.ingressBudget ?? DEFAULT_INGRESS_BUDGET;
    const first = { iface: this.iface, device: this.device, ingressBudget: this.ingressBudget };
    this.metric = o.metric;
    this.sockets = new SocketSet(o.maxSockets !== undefined ? { maxSockets: o.maxSockets } : {});
    this.tcpOptions = o.tcp;
    this.fastOpenCache = o.fastOpenCache;
    this.backlog = o.backlog;
    this.dnsServers = o.dnsServers;
    if (options.hosts !== undefined && !(options.hosts instanceof Map)) {
      throw new TypeError("Invalid hosts: expected a Map from parseHosts");
    }
    this.hosts = options.hosts;
    // With autoconfiguration, IPv6 (SLAAC) runs on Ethernet unless turned off.
    const auto6 = medium === "ethernet" && options.autoconf?.ipv6 !== false;
    this.families = o.auto
      ? (auto6 ? [4, 6] : [4])
      : [...new Set(o.addresses.map((a) => a.address.version))].sort();
    // Validates its options (a throw here leaves the device unclaimed); binds port 68.
    if (o.auto) this.autoconf = this.startAutoconf(this.iface, options.autoconf);
    this.members = [{ ...first, autoconf: this.autoconf }];
    // Last: nothing above has side effects, so a rejected option leaves the device free.
    claimDevice(this.device, stack);
    this.driver = new Driver(stack);
    const driver = this.driver;
    this.sockets.onChange(driver.changed);
    this.host = {
      wake: driver.wake,
      watch: (w) => driver.watch(w),
      unwatch: (w) => driver.unwatch(w),
      refChanged: () => driver.refChanged(),
      consumed: (s) => {
        const now = monotonicNow();
        driver.wakeBy(s.pollAt(this.iface.context(now)), now);
      },
      release: (s) => {
        // The set owns the rest of its lifetime: it lingers while it has data to deliver and
        // the interface removes it, once, when it closes.
        const h = this.sockets.handleOf(s);
        if (h !== undefined) this.sockets.release(h);
      },
      deviceError: (socket) =>
        this.deviceError ?? (socket === undefined ? null : this.abortCauses.get(socket) ?? null),
      accept: (l) => {
        const held = l.heldBack;
        const child = this.iface.acceptTcp(this.sockets, l);
        // Held-back children were asked to send their SYN-ACK again: a poll sends them.
        if (l.heldBack !== held) driver.wake();
        return child;
      },
      unlisten: (l) => {
        const h = this.sockets.handleOf(l);
        if (h !== undefined) this.sockets.remove(h);
        for (const x of this.listeners) if (x.socket === l) this.listeners.delete(x);
      },
    };
    this.watchDevice(this.device);
    this.driver.wake();
  }

  /**
   * Starts DHCPv4 (and SLAAC on Ethernet) on `iface`, with replies from the stack's shared port
   * 68 (bound on first use).
   */
  startAutoconf(iface: Interface, options: AutoconfOptions | undefined): Autoconf {
    const fresh = this.dhcpPort === null;
    const port = this.dhcpPort ?? new DhcpPort(this.iface, this.sockets);
    let a: Autoconf;
    try {
      a = new Autoconf({
        iface,
        sockets: this.sockets,
        watch: (w) => this.driver.watch(w),
        unwatch: (w) => this.driver.unwatch(w),
        dhcpPort: port,
      }, options);
    } catch (e) {
      if (fresh) port.close();
      throw e;
    }
    this.dhcpPort = port;
    // Answers from the old servers may differ from the new ones'.
    a.addEventListener("change", (e) => {
      if ((e as AutoconfEvent).change === "dnsChanged") this.dnsCache.clear();
    });
    this.autoconfs.push(a);
    return a;
  }

  /** Polls when `device` becomes readable; fails the stack when it fails (while it is ours). */
  watchDevice(device: Device): void {
    if (hasReadinessHook(device)) device.onReadable(this.driver.wake);
    deviceClosed(device)?.catch((e) => {
      if (this.members.some((m) => m.device === device)) this.fail(e, "Device failed");
    });
  }

  /** Undoes `watchDevice` for a device the stack lets go of. */
  unwatchDevice(device: Device): void {
    if (hasReadinessHook(device)) device.onReadable(ignore);
  }

  /** Aborts every TCP connection of the set. */
  abortAll(): void {
    for (let i = 0; i < this.sockets.size; i++) {
      const s = this.sockets.at(i);
      if (s instanceof TcpSocket) s.abort();
    }
  }

  /**
   * Ends the loop: sockets abort, every pending operation rejects with a ConnectionAborted
   * whose cause is `e`, later calls throw it, and the `error` event is dispatched.
   */
  fail(e: unknown, what: string): void {
    if (this.closed || this.deviceError !== null) return;
    const cause = e instanceof Error ? e : new Error(String(e));
    const err = netError("ConnectionAborted", `${what}: ${cause.message}`);
    (err as Error & { cause?: unknown }).cause = cause;
    this.deviceError = err;
    try {
      this.abortAll();
    } catch { /* the socket set itself is broken: the sockets are unreachable anyway */ }
    this.driver.fail(err);
    // Dispatched after the current poll, so a listener that calls back into the stack finds the
    // loop stopped rather than half-way through a poll.
    queueMicrotask(() => {
      this.stack.dispatchEvent(new ErrorEvent("error", { error: err, message: err.message }));
    });
  }

  /** Throws when the stack is closed or failed. */
  checkOpen(): void {
    if (this.closed) throw badResource("NetStack");
    if (this.deviceError !== null) throw this.deviceError;
  }
}
