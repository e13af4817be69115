/**
 * Automatic configuration for a {@linkcode NetStack} created with `addresses: "auto"`: a
 * DHCPv4 client ({@linkcode Dhcpv4Client}) on UDP port 68, whose leases are applied to the
 * interface (address, default route) and whose DNS servers are used by `connect`.
 *
 * @module
 */

import type { Interface } from "../iface/interface.ts";
import type { SocketSet } from "../iface/socket_set.ts";
import {
  Dhcpv4Client,
  type Dhcpv4Counters,
  type Dhcpv4Lease,
  type Dhcpv4State,
} from "../socket/dhcpv4.ts";
import { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { type Instant, NEVER } from "../time.ts";
import { type IpAddress, IpCidr, Ipv4Address } from "../wire/address.ts";
import { DHCPV4_CLIENT_PORT } from "../wire/dhcpv4.ts";
import { badResource, netError } from "./errors.ts";
import { checkTimeout } from "../_validate.ts";
import type { Watcher } from "./driver.ts";

/** The largest DHCP message taken from the socket (RFC 2131 §2: 576 at least; we take more). */
const MAX_MESSAGE = 1500;
const DEFAULT_ROUTE = IpCidr.parse("0.0.0.0/0");
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Options of automatic configuration (`NetStackOptions.autoconf`).
 *
 * @example
 * ```ts
 * import type { AutoconfOptions } from "@smol/net";
 * const options: AutoconfOptions = { requestedAddress: "192.0.2.63" };
 * ```
 */
export interface AutoconfOptions {
  /** A remembered IPv4 address to ask for first (DHCP INIT-REBOOT, RFC 2131 §3.2). */
  readonly requestedAddress?: string | Ipv4Address;
  /**
   * DHCP option 61 (default: type 1 followed by the hardware address on Ethernet; on an IP
   * medium, which has no hardware address, type 0 followed by 8 random bytes, RFC 2132 §9.14).
   */
  readonly clientIdentifier?: Uint8Array;
  /**
   * Milliseconds after the stack's creation at which a wait on `configured` ends in
   * `Deno.errors.TimedOut` when no lease has come (default 60,000: five DISCOVERs, RFC 2131
   * §4.1). The client keeps trying in the background.
   */
  readonly timeout?: number;
}

/**
 * What changed, in an {@linkcode AutoconfEvent}.
 *
 * @example
 * ```ts
 * import type { AutoconfChange } from "@smol/net";
 * const c: AutoconfChange = "addressAdded";
 * ```
 */
export type AutoconfChange =
  | "addressAdded"
  | "addressRemoved"
  | "leaseRenewed"
  | "routerChanged"
  | "dnsChanged";

/**
 * A `"change"` event of {@linkcode Autoconf}.
 *
 * @example
 * ```ts
 * import { AutoconfEvent } from "@smol/net";
 * const e = new AutoconfEvent("dnsChanged", null, null);
 * console.log(e.type, e.change); // change dnsChanged
 * ```
 */
export class AutoconfEvent extends Event {
  /** What changed. */
  readonly change: AutoconfChange;
  /** The address gained or lost, for `addressAdded` / `addressRemoved`. */
  readonly address: IpCidr | null;
  /** The lease after the change (`null` once it is gone). */
  readonly lease: Dhcpv4Lease | null;

  /**
   * Creates a change event.
   *
   * @param change What changed.
   * @param address The address gained or lost, or `null`.
   * @param lease The lease after the change, or `null`.
   */
  constructor(change: AutoconfChange, address: IpCidr | null, lease: Dhcpv4Lease | null) {
    super("change");
    this.change = change;
    this.address = address;
    this.lease = lease;
  }
}

/** What {@linkcode Autoconf} needs from its stack (internal wiring). */
export interface AutoconfHost {
  /** The interface whose addresses and routes are configured. */
  readonly iface: Interface;
  /** The stack's sockets (the DHCP socket is added to them). */
  readonly sockets: SocketSet;
  /** Keeps the loop (and the process) alive while someone waits for `configured`. */
  watch(w: Watcher): void;
  /** Stops doing so. */
  unwatch(w: Watcher): void;
}

/**
 * The automatic configuration of one stack: a DHCPv4 client whose lease is applied to the
 * interface. Listen for `"change"` events ({@linkcode AutoconfEvent}) or await
 * {@linkcode Autoconf.configured}.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: "auto" });
 * console.log(stack.autoconf?.state); // init
 * ```
 */
export class Autoconf extends EventTarget {
  readonly #host: AutoconfHost;
  readonly #client: Dhcpv4Client;
  readonly #socket = new CoreUdpSocket({ rxSlots: 8, txSlots: 4 });
  readonly #buffer = new Uint8Array(MAX_MESSAGE);
  #lease: Dhcpv4Lease | null = null;
  #configured: Promise<void> | null = null;
  #settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #waiter: Watcher | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #timeout: number;
  readonly #createdAt = performance.now();

  /**
   * Binds UDP port 68 on `host`'s interface and creates the client. Used by `NetStack`.
   *
   * @param host The stack's interface and sockets.
   * @param options Client options.
   */
  constructor(host: AutoconfHost, options: AutoconfOptions = {}) {
    super();
    this.#host = host;
    this.#timeout = options.timeout === undefined
      ? DEFAULT_TIMEOUT_MS
      : checkTimeout("autoconf.timeout", options.timeout);
    const requested = typeof options.requestedAddress === "string"
      ? Ipv4Address.parse(options.requestedAddress)
      : options.requestedAddress;
    this.#client = new Dhcpv4Client({
      hardwareAddress: host.iface.hardwareAddr,
      ...(requested !== undefined ? { requestedAddress: requested } : {}),
      clientIdentifier: options.clientIdentifier ?? defaultClientId(host.iface),
    });
    host.iface.bindUdp(host.sockets, this.#socket, {
      addr: Ipv4Address.UNSPECIFIED,
      port: DHCPV4_CLIENT_PORT,
    });
  }

  /**
   * Resolves once a DHCP lease is in use; waiting for it keeps the process alive. Rejects with
   * `Deno.errors.TimedOut` when no lease has come `timeout` ms after the stack was created
   * (default 60 s; a later access waits again, as long again), and with
   * `Deno.errors.BadResource` when the stack is closed first. The client keeps retrying in the
   * background (RFC 2131 §4.1 backoff, up to 64 s between tries).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * const stack = new NetStack({ device, addresses: "auto" });
   * const done = stack.autoconf!.configured.catch((e) => e.name);
   * await stack.close();
   * console.log(await done); // BadResource
   * ```
   */
  get configured(): Promise<void> {
    if (this.#configured !== null) return this.#configured;
    if (this.#lease !== null) return this.#configured = Promise.resolve();
    if (this.#closed) return this.#configured = Promise.reject(badResource("Autoconf"));
    this.#configured = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const waiter: Watcher = {
      refed: true,
      settle: () => this.#lease === null && !this.#closed,
      fail: (e) => this.#finish(e),
    };
    this.#waiter = waiter;
    this.#host.watch(waiter);
    const elapsed = performance.now() - this.#createdAt;
    const wait = elapsed < this.#timeout ? this.#timeout - elapsed : this.#timeout;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#configured = null; // the next access waits again
      this.#finish(netError("TimedOut", `No DHCP lease after ${Math.round(wait)} ms`));
    }, wait);
    return this.#configured;
  }

  /**
   * The DHCP client's state.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * console.log(stack.autoconf?.state); // init
   * ```
   */
  get state(): Dhcpv4State {
    return this.#client.state;
  }

  /**
   * The lease in use, or `null`.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * console.log(stack.autoconf?.lease); // null
   * ```
   */
  get lease(): Dhcpv4Lease | null {
    return this.#lease;
  }

  /**
   * The DNS servers of the lease (empty without one).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * console.log(stack.autoconf?.dnsServers.length); // 0
   * ```
   */
  get dnsServers(): readonly IpAddress[] {
    return this.#lease?.dnsServers ?? [];
  }

  /**
   * DHCP datagrams the client ignored, by reason.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * console.log(stack.autoconf?.counters.wrongXid); // 0
   * ```
   */
  get counters(): Readonly<Dhcpv4Counters> {
    return this.#client.counters;
  }

  /**
   * @internal Runs the client after an interface poll: feeds it what arrived on port 68,
   * queues what it sends, applies its events.
   *
   * @param now The current instant.
   * @returns Whether a datagram was queued for sending or the configuration changed.
   */
  poll(now: Instant): boolean {
    if (this.#closed) return false;
    const cx = { now, random: this.#host.iface.random };
    const socket = this.#socket;
    let changed = false;
    for (let got = socket.recv(this.#buffer); got !== null; got = socket.recv(this.#buffer)) {
      if (got.truncated) {
        this.#client.counters.malformed++;
        continue;
      }
      this.#client.process(cx, got.remote, this.#buffer.subarray(0, got.length));
    }
    changed = this.#client.dispatch(cx, {
      emitUdp: (src, _port, dst, payload) => {
        const options = src === null ? {} : { localAddr: src };
        return socket.send(payload, dst, options);
      },
    });
    for (let e = this.#client.takeEvent(); e !== null; e = this.#client.takeEvent()) {
      changed = true;
      if (e.type === "bound") this.#apply(e.lease, e.previous);
      else this.#apply(null, e.lease);
    }
    return changed;
  }

  /**
   * @internal When the client next needs {@linkcode Autoconf.poll}.
   *
   * @param now The current instant.
   * @returns The instant, or `NEVER`.
   */
  pollAt(now: Instant): Instant {
    if (this.#closed) return NEVER;
    return this.#client.pollAt({ now, random: this.#host.iface.random });
  }

  /**
   * @internal Stops the client and releases port 68 (the lease is left to expire).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const h = this.#host.sockets.handleOf(this.#socket);
    if (h !== undefined) this.#host.sockets.remove(h);
    this.#finish(badResource("Autoconf"));
  }

  #finish(error: Error | null): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const settle = this.#settle;
    this.#settle = null;
    if (this.#waiter !== null) this.#host.unwatch(this.#waiter);
    this.#waiter = null;
    if (settle === null) return;
    if (error === null) settle.resolve();
    else settle.reject(error);
  }

  /** Moves the interface from lease `old` to lease `next` and reports what changed. */
  #apply(next: Dhcpv4Lease | null, old: Dhcpv4Lease | null): void {
    const routes = this.#host.iface.routes;
    const events: AutoconfEvent[] = [];
    const oldRouter = old?.routers[0] ?? null;
    const newRouter = next?.routers[0] ?? null;
    const sameAddress = old !== null && next !== null &&
      old.address.address.equals(next.address.address) &&
      old.address.prefixLen === next.address.prefixLen;
    if (oldRouter !== null && !sameOrBothNull(oldRouter, newRouter)) routes.remove(DEFAULT_ROUTE);
    if (old !== null && !sameAddress) {
      routes.removeAddress(old.address.address);
      events.push(new AutoconfEvent("addressRemoved", old.address, next));
    }
    if (next !== null && !sameAddress) {
      routes.addAddress(next.address);
      this.#host.iface.announce();
      events.push(new AutoconfEvent("addressAdded", next.address, next));
    }
    if (newRouter !== null && !sameOrBothNull(oldRouter, newRouter)) {
      routes.add({ cidr: DEFAULT_ROUTE, via: newRouter });
    }
    if (!sameOrBothNull(oldRouter, newRouter)) {
      events.push(new AutoconfEvent("routerChanged", null, next));
    }
    const oldDns = (old?.dnsServers ?? []).join(",");
    const newDns = (next?.dnsServers ?? []).join(",");
    if (oldDns !== newDns) events.push(new AutoconfEvent("dnsChanged", null, next));
    if (sameAddress) events.push(new AutoconfEvent("leaseRenewed", null, next));
    this.#lease = next;
    if (next !== null) this.#finish(null);
    for (const e of events) this.dispatchEvent(e);
  }
}

function sameOrBothNull(a: IpAddress | null, b: IpAddress | null): boolean {
  return a === null ? b === null : b !== null && a.equals(b);
}

/** Option 61 for the interface: its MAC on Ethernet, else 8 bytes from its generator. */
function defaultClientId(iface: Interface): Uint8Array {
  if (iface.medium === "ethernet") return Uint8Array.of(1, ...iface.hardwareAddr.octets());
  const id = new Uint8Array(9);
  iface.random.fill(id.subarray(1));
  return id;
}
