/**
 * Automatic configuration for a {@linkcode NetStack} created with `addresses: "auto"`: a
 * DHCPv4 client ({@linkcode Dhcpv4Client}) on UDP port 68, whose leases are applied to the
 * interface (address, default route) and whose DNS servers are used by `connect`; and on
 * Ethernet IPv6 stateless autoconfiguration ({@linkcode NdpHost}: router solicitation, router
 * advertisements, RFC 7217 addresses after DAD, MLDv2, RDNSS), whose addresses, default routers,
 * on-link prefixes and DNS servers are applied the same way.
 *
 * @module
 */

import type { Interface } from "../iface/interface.ts";
import { NdpHost } from "../iface/ndp_host.ts";
import type { SlaacAddressState, SlaacCounters, SlaacEvent } from "../iface/slaac.ts";
import type { SocketSet } from "../iface/socket_set.ts";
import {
  Dhcpv4Client,
  type Dhcpv4Counters,
  type Dhcpv4Lease,
  type Dhcpv4State,
} from "../socket/dhcpv4.ts";
import { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { type Instant, NEVER } from "../time.ts";
import {
  type IpAddress,
  IpCidr,
  type IpEndpoint,
  Ipv4Address,
  type Ipv6Address,
} from "../wire/address.ts";
import { DHCPV4_CLIENT_PORT } from "../wire/dhcpv4.ts";
import { badResource, netError } from "./errors.ts";
import { checkTimeout } from "../_validate.ts";
import type { Watcher } from "./driver.ts";

/** The largest DHCP message taken from the socket (RFC 2131 §2: 576 at least; we take more). */
const MAX_MESSAGE = 1500;
const DEFAULT_ROUTE = IpCidr.parse("0.0.0.0/0");
const DEFAULT_ROUTE6 = IpCidr.parse("::/0");
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Options of automatic configuration (`NetStackOptions.autoconf`).
 *
 * @example
 * ```ts
 * import { type AutoconfOptions, linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * const options: AutoconfOptions = { requestedAddress: "192.0.2.63", timeout: 100 };
 * await using stack = new NetStack({ device, addresses: "auto", autoconf: options });
 * assert.equal(stack.autoconf?.state, "initReboot"); // asks for the remembered address first
 * await assert.rejects(stack.configured, Deno.errors.TimedOut); // no DHCP server on this link
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
   * `Deno.errors.TimedOut` when no lease and no global IPv6 address has come (default 60,000:
   * five DISCOVERs, RFC 2131 §4.1). Both keep trying in the background.
   */
  readonly timeout?: number;
  /** IPv6 stateless autoconfiguration on an Ethernet device (default `true`). */
  readonly ipv6?: boolean;
  /**
   * 16 secret bytes for stable IPv6 addresses (RFC 7217 secret_key): keep them across restarts
   * to keep the addresses. Default: 16 bytes from the interface's generator (a new address per
   * stack unless its `seed` is fixed).
   */
  readonly secretKey?: Uint8Array;
  /** Duplicate address detection probes per IPv6 address (default 1; 0 skips DAD). */
  readonly dadTransmits?: number;
  /**
   * Also form RFC 8981 temporary addresses beside the stable ones (default `false`). They are
   * added to the interface like the others; source address selection does not prefer them yet.
   */
  readonly temporaryAddresses?: boolean;
}

/**
 * What changed, in an {@linkcode AutoconfEvent}: an address is in use (`addressAdded`: a lease,
 * or an IPv6 address that passed DAD) or gone; an IPv6 address is being checked
 * (`addressTentative`), was found in use by another node (`addressDuplicate`; a new identifier
 * is tried up to three times, RFC 7217 §6) or is past its preferred lifetime
 * (`addressDeprecated`); the lease was renewed; the default router or the DNS servers changed.
 *
 * @example
 * ```ts
 * import { type AutoconfChange, AutoconfEvent, linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair({ medium: "ethernet" });
 * await using stack = new NetStack({ device, addresses: "auto", autoconf: { timeout: 300, dadTransmits: 0 } });
 * const seen: AutoconfChange[] = [];
 * stack.autoconf?.addEventListener("change", (e) => seen.push((e as AutoconfEvent).change));
 * await assert.rejects(stack.configured); // no DHCP lease and no global IPv6 address
 * assert.deepEqual(seen, ["addressTentative", "addressAdded"]); // the IPv6 link-local address
 * ```
 */
export type AutoconfChange =
  | "addressAdded"
  | "addressRemoved"
  | "addressTentative"
  | "addressDuplicate"
  | "addressDeprecated"
  | "leaseRenewed"
  | "routerChanged"
  | "dnsChanged";

/**
 * A `"change"` event of {@linkcode Autoconf}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AutoconfEvent } from "@smol/net";
 * const e = new AutoconfEvent("dnsChanged", null, null);
 * assert.equal(e.type, "change");
 * assert.equal(e.change, "dnsChanged");
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
  /**
   * The stack's shared port 68 when it has several interfaces: the client reads its replies
   * from `batch` (filled once per poll) and sends from a socket of its own, not indexed for
   * ingress. Without it the client binds port 68 itself.
   */
  readonly dhcpPort?: {
    readonly batch: readonly {
      readonly remote: IpEndpoint;
      readonly data: Uint8Array;
      readonly truncated: boolean;
    }[];
  };
}

/**
 * The automatic configuration of one stack: a DHCPv4 client whose lease is applied to the
 * interface. Listen for `"change"` events ({@linkcode AutoconfEvent}) or await
 * {@linkcode Autoconf.configured}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkPair, NetStack } from "@smol/net";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: "auto" });
 * assert.equal(stack.autoconf?.state, "init");
 * ```
 */
export class Autoconf extends EventTarget {
  readonly #host: AutoconfHost;
  readonly #client: Dhcpv4Client;
  readonly #ndp: NdpHost | null = null;
  #ndpStarted = false;
  /** IPv6 addresses and their states, as last reported by SLAAC. */
  readonly #v6 = new Map<
    string,
    { address: IpCidr; state: SlaacAddressState; temporary: boolean }
  >();
  readonly #socket = new CoreUdpSocket({ rxSlots: 8, txSlots: 4 });
  readonly #buffer = new Uint8Array(MAX_MESSAGE);
  #lease: Dhcpv4Lease | null = null;
  #dhcpMtu: number | null = null;
  #raMtu: number | null = null;
  #hopLimit = 0;
  #configured: Promise<void> | null = null;
  #settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #waiter: Watcher | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #timeout: number;
  readonly #createdAt = performance.now();

  /** @internal The socket the client sends from (the stack pins it to its interface). */
  get sendSocket(): object {
    return this.#socket;
  }

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
    const local = { addr: Ipv4Address.UNSPECIFIED, port: DHCPV4_CLIENT_PORT };
    if (host.dhcpPort === undefined) {
      host.iface.bindUdp(host.sockets, this.#socket, local);
    } else {
      // Sends only: replies come through the shared port.
      this.#socket.bind(local);
      host.sockets.add(this.#socket);
    }
    if (options.ipv6 !== undefined && typeof options.ipv6 !== "boolean") {
      throw new TypeError(`Invalid autoconf.ipv6 "${options.ipv6}": must be a boolean`);
    }
    if (options.ipv6 !== false && host.iface.medium === "ethernet") {
      const key = options.secretKey;
      if (key !== undefined && !(key instanceof Uint8Array)) {
        throw new TypeError(`Invalid autoconf.secretKey "${key}": must be a Uint8Array`);
      }
      const secretKey = key ?? new Uint8Array(16);
      if (key === undefined) host.iface.random.fill(secretKey);
      this.#ndp = new NdpHost({
        hardwareAddress: host.iface.hardwareAddr,
        secretKey,
        ...(options.dadTransmits !== undefined ? { dadTransmits: options.dadTransmits } : {}),
        ...(options.temporaryAddresses !== undefined
          ? { temporaryAddresses: options.temporaryAddresses }
          : {}),
      });
      host.iface.attachNdp(this.#ndp);
    }
  }

  /**
   * Resolves once a DHCP lease or a global IPv6 address (past DAD) is in use; waiting for it
   * keeps the process alive. Rejects with `Deno.errors.TimedOut` when neither has come
   * `timeout` ms after the stack was created
   * (default 60 s; a later access waits again, as long again), and with
   * `Deno.errors.BadResource` when the stack is closed first. The client keeps retrying in the
   * background (RFC 2131 §4.1 backoff, up to 64 s between tries).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * const stack = new NetStack({ device, addresses: "auto" });
   * const done = stack.autoconf!.configured.catch((e) => e.name);
   * await stack.close();
   * assert.equal(await done, "BadResource");
   * ```
   */
  get configured(): Promise<void> {
    if (this.#configured !== null) return this.#configured;
    if (this.#usable()) return this.#configured = Promise.resolve();
    if (this.#closed) return this.#configured = Promise.reject(badResource("Autoconf"));
    this.#configured = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const waiter: Watcher = {
      refed: true,
      settle: () => !this.#usable() && !this.#closed,
      fail: (e) => this.#finish(e),
    };
    this.#waiter = waiter;
    this.#host.watch(waiter);
    const elapsed = performance.now() - this.#createdAt;
    const wait = elapsed < this.#timeout ? this.#timeout - elapsed : this.#timeout;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#configured = null; // the next access waits again
      this.#finish(
        netError(
          "TimedOut",
          `No DHCP lease or IPv6 address ${
            Math.round(performance.now() - this.#createdAt)
          } ms after the stack started (autoconf.timeout: ${this.#timeout} ms)`,
        ),
      );
    }, wait);
    return this.#configured;
  }

  /**
   * The DHCP client's state.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.state, "init");
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
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.lease, null);
   * ```
   */
  get lease(): Dhcpv4Lease | null {
    return this.#lease;
  }

  /**
   * The DNS servers of the lease, then those of router advertisements (RFC 8106).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.dnsServers.length, 0);
   * ```
   */
  get dnsServers(): readonly IpAddress[] {
    const v4 = this.#lease?.dnsServers ?? [];
    const v6 = this.#ndp?.slaac.dnsServers ?? [];
    return v6.length === 0 ? v4 : [...v4, ...v6];
  }

  /**
   * The DNS search domains: the lease's domain name, then those of router advertisements
   * (RFC 8106 DNSSL). `connect` tries a single-label name in each.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair({ medium: "ethernet" });
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.deepEqual(stack.autoconf?.searchDomains, []);
   * ```
   */
  get searchDomains(): readonly string[] {
    const v4 = this.#lease?.domainName ? [this.#lease.domainName] : [];
    const v6 = this.#ndp?.slaac.searchDomains ?? [];
    return v6.length === 0 ? v4 : [...new Set([...v4, ...v6])];
  }

  /**
   * The autoconfigured IPv6 addresses (link-local, stable and temporary global ones) with
   * their states; addresses that are gone are not listed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair({ medium: "ethernet" });
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.ipv6Addresses.length, 0); // nothing before the first poll
   * ```
   */
  get ipv6Addresses(): readonly {
    address: IpCidr;
    state: SlaacAddressState;
    temporary: boolean;
  }[] {
    return [...this.#v6.values()];
  }

  /**
   * Router advertisements ignored, by reason (`null` without IPv6 autoconfiguration).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair({ medium: "ethernet" });
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.ipv6Counters?.badHopLimit, 0);
   * ```
   */
  get ipv6Counters(): Readonly<SlaacCounters> | null {
    return this.#ndp?.slaac.counters ?? null;
  }

  /**
   * DHCP datagrams the client ignored, by reason.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: "auto" });
   * assert.equal(stack.autoconf?.counters.wrongXid, 0);
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
    const port = this.#host.dhcpPort;
    if (port !== undefined) {
      for (const got of port.batch) {
        if (got.truncated) this.#client.counters.malformed++;
        else this.#client.process(cx, got.remote, got.data);
      }
    }
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
    const ndp = this.#ndp;
    if (ndp !== null) {
      if (!this.#ndpStarted) {
        this.#ndpStarted = true;
        ndp.start(cx);
        changed = true;
      }
      for (let e = ndp.slaac.takeEvent(); e !== null; e = ndp.slaac.takeEvent()) {
        changed = true;
        this.#apply6(e);
      }
      // A router's Cur Hop Limit, applied when it changes (a value set by hand stays until then).
      const hopLimit = ndp.slaac.advertisedHopLimit;
      if (hopLimit !== 0 && hopLimit !== this.#hopLimit) {
        this.#hopLimit = hopLimit;
        this.#host.iface.hopLimit = hopLimit;
      }
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
    if (this.#ndp !== null && !this.#ndpStarted) return now;
    return this.#client.pollAt({ now, random: this.#host.iface.random });
  }

  /**
   * @internal Stops the client and releases port 68 (the lease is left to expire).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ndp !== null) this.#host.iface.attachNdp(null);
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
    this.#dhcpMtu = next?.mtu ?? null;
    this.#applyMtu();
    if (next !== null) this.#finish(null);
    for (const e of events) this.dispatchEvent(e);
  }

  /**
   * The link MTU from the lease (RFC 2132 §5.1, 576 and above) and the router advertisement
   * (RFC 4861 §6.3.4): the lower bounds the interface's IP MTU; the device's MTU stays the
   * ceiling.
   */
  #applyMtu(): void {
    const dhcp = this.#dhcpMtu !== null && this.#dhcpMtu >= 576 && this.#dhcpMtu <= 65535
      ? this.#dhcpMtu
      : null;
    const ra = this.#raMtu;
    this.#host.iface.linkMtu = dhcp === null ? ra : ra === null ? dhcp : Math.min(dhcp, ra);
  }

  /** Whether a lease or a global IPv6 address is in use. */
  #usable(): boolean {
    if (this.#lease !== null) return true;
    for (const a of this.#v6.values()) {
      if (a.state === "preferred" && !(a.address.address as Ipv6Address).isLinkLocal) return true;
    }
    return false;
  }

  /** Applies one SLAAC event to the interface's addresses and routes and reports it. */
  #apply6(e: SlaacEvent): void {
    const routes = this.#host.iface.routes;
    switch (e.type) {
      case "address": {
        const key = e.address.toString();
        const cidr = new IpCidr(e.address, e.prefixLen);
        const was = this.#v6.get(key)?.state;
        // Preferred and deprecated addresses are on the interface (deprecated ones for the
        // connections that use them, RFC 4862 §5.5.4); tentative and duplicate ones are not.
        const inUse = e.state === "preferred" || e.state === "deprecated";
        const wasInUse = was === "preferred" || was === "deprecated";
        if (inUse && !wasInUse) routes.addAddress(cidr);
        if (!inUse && wasInUse) routes.removeAddress(e.address);
        this.#v6.set(key, { address: cidr, state: e.state, temporary: e.temporary });
        if (e.state === "duplicate") this.#v6.delete(key);
        this.dispatchEvent(new AutoconfEvent(STATE_CHANGE[e.state], cidr, this.#lease));
        if (e.state === "preferred" && !e.address.isLinkLocal) this.#finish(null);
        return;
      }
      case "addressRemoved": {
        const key = e.address.toString();
        const known = this.#v6.get(key);
        if (known === undefined) return;
        this.#v6.delete(key);
        routes.removeAddress(e.address);
        this.dispatchEvent(new AutoconfEvent("addressRemoved", known.address, this.#lease));
        return;
      }
      case "router":
      case "routerRemoved": {
        // One default route per router, rebuilt from the current list (RFC 4861 §6.3.6).
        const before = routes.routes.filter((r) => r.cidr.prefixLen === 0 && r.via?.version === 6);
        routes.remove(DEFAULT_ROUTE6);
        const routers = this.#ndp!.slaac.routers;
        for (const r of routers) routes.add({ cidr: DEFAULT_ROUTE6, via: r.router });
        if (before.length !== routers.length || e.type === "routerRemoved") {
          this.dispatchEvent(new AutoconfEvent("routerChanged", null, this.#lease));
        }
        return;
      }
      case "onLink":
        routes.add({ cidr: new IpCidr(e.prefix, e.prefixLen), via: null });
        return;
      case "onLinkRemoved":
        routes.remove(new IpCidr(e.prefix, e.prefixLen));
        return;
      case "dns":
      case "searchDomains":
        this.dispatchEvent(new AutoconfEvent("dnsChanged", null, this.#lease));
        return;
      case "mtu":
        this.#raMtu = e.mtu;
        this.#applyMtu();
        return;
    }
  }
}

/** Events of the IPv6 state machine that `#apply6` reports, by address state. */
const STATE_CHANGE: Record<SlaacAddressState, AutoconfChange> = {
  tentative: "addressTentative",
  preferred: "addressAdded",
  deprecated: "addressDeprecated",
  duplicate: "addressDuplicate",
};

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
