/**
 * {@linkcode Router}: several devices driven by one loop, with forwarding between them and
 * optional NAPT on an outside interface. Its own class rather than a `NetStack` option: a
 * router has interfaces and routes but no application sockets, and a `NetStack` keeps its
 * one-interface socket API.
 *
 * @module
 */

import { type ForwardCounters, Forwarder, type ReversePathMode } from "../iface/forward.ts";
import type { ForwardRouteInit, RouteTable } from "../iface/forward_routes.ts";
import type { DropCounters } from "../iface/counters.ts";
import { Interface } from "../iface/interface.ts";
import { type NatMapping, type NatOptions, NatTable } from "../iface/nat.ts";
import type { NptOptions } from "../iface/forward_npt.ts";
import { SocketSet } from "../iface/socket_set.ts";
import {
  closeDevice,
  type Device,
  deviceClosed,
  deviceDeadline,
  hasReadinessHook,
} from "../phy/device.ts";
import { earliest, type Instant, NEVER } from "../time.ts";
import type { Ipv4Address } from "../wire/address.ts";
import { Driver, type Watcher } from "./driver.ts";
import { claimDevice, randomMac, releaseDevice } from "./_device_owner.ts";
import { badResource } from "./errors.ts";

/**
 * One interface of a {@linkcode Router}.
 *
 * @example
 * ```ts
 * import { Router, type RouterInterfaceOptions } from "@smol/net";
 * import { linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const o: RouterInterfaceOptions = {
 *   device: linkPair({ medium: "ip" })[0],
 *   addresses: ["198.51.100.1/24"],
 *   nat: true,
 * };
 * const inside = { device: linkPair({ medium: "ip" })[0], addresses: ["192.0.2.1/24"] };
 * await using router = new Router({ interfaces: [inside, o], allowDocumentation: true });
 * assert.equal(router.nat(1)?.externalAddress.toString(), "198.51.100.1"); // its first IPv4 address
 * assert.equal(router.nat(0), null);
 * ```
 */
export interface RouterInterfaceOptions {
  /** The device (IP or Ethernet medium). */
  readonly device: Device;
  /** The interface's addresses with prefix (`"192.0.2.1/24"`); their prefixes are on-link. */
  readonly addresses: readonly string[];
  /** The MAC address on Ethernet; default a random locally administered one. */
  readonly hardwareAddr?: string;
  /** The IPv4 default gateway reached through this interface. */
  readonly gateway4?: string;
  /** The IPv6 default gateway reached through this interface. */
  readonly gateway6?: string;
  /** The metric of this interface's gateways (lower wins); default 0. */
  readonly metric?: number;
  /**
   * NAPT on this interface (the outside): `true`, or NAT options without the external address,
   * which is the interface's first IPv4 address.
   */
  readonly nat?: boolean | Omit<NatOptions, "externalAddress">;
  /**
   * NPTv6 on this interface (the outside, RFC 6296): inside sources leaving here take the
   * `outside` prefix, and packets to it are mapped back to `inside`.
   */
  readonly npt?: NptOptions;
}

/**
 * Options of {@linkcode Router}.
 *
 * @example
 * ```ts
 * import { Router, type RouterOptions } from "@smol/net";
 * import { linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const o: RouterOptions = {
 *   interfaces: [
 *     { device: linkPair({ medium: "ip" })[0], addresses: ["192.0.2.1/24"] },
 *     { device: linkPair({ medium: "ip" })[0], addresses: ["198.51.100.1/24"], nat: true },
 *   ],
 *   allowDocumentation: true,
 * };
 * await using router = new Router(o);
 * assert.equal(router.forwarding, true); // the default
 * assert.notEqual(router.nat(1), null);
 * assert.equal(router.interfaceCounters(0).totalDrops(), 0);
 * ```
 */
export interface RouterOptions {
  /** The interfaces, in index order (routes name them by index). */
  readonly interfaces: readonly RouterInterfaceOptions[];
  /** More routes; each names its interface by index. */
  readonly routes?: readonly ForwardRouteInit[];
  /** Forward between interfaces; default `true`. */
  readonly forwarding?: boolean;
  /** Reverse-path check of sources; default `"loose"`. */
  readonly reversePath?: ReversePathMode;
  /** Forward the documentation prefixes (TEST-NET, 2001:db8::/32); default `false`. */
  readonly allowDocumentation?: boolean;
}

interface Port {
  readonly iface: Interface;
  readonly device: Device;
  readonly sockets: SocketSet;
}

/** How long idle NAT expiry may lag: the loop sweeps at most this often. */
const NAT_SWEEP_MS = 1000;

/**
 * A router in the async layer: several devices polled by one loop, packets forwarded between
 * them by a {@linkcode Forwarder}, NAPT on the interfaces that ask for it. Each interface
 * answers pings to its own addresses. The router keeps the process alive until
 * {@linkcode Router.close} (or {@linkcode Router.unref}).
 *
 * @example A router between two in-memory links, with NAT on the outside
 * ```ts
 * import { NetStack, Router } from "@smol/net";
 * import { linkPair } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [hostIn, routerIn] = linkPair({ medium: "ip" });
 * const [routerOut, hostOut] = linkPair({ medium: "ip" });
 * const router = new Router({
 *   interfaces: [
 *     { device: routerIn, addresses: ["192.0.2.1/24"] },
 *     { device: routerOut, addresses: ["198.51.100.1/24"], nat: true },
 *   ],
 *   allowDocumentation: true,
 * });
 * const inside = new NetStack({ device: hostIn, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
 * const outside = new NetStack({ device: hostOut, addresses: ["198.51.100.2/24"] });
 * const listener = outside.listen({ port: 80 });
 * const [client, server] = await Promise.all([
 *   inside.connect({ hostname: "198.51.100.2", port: 80 }),
 *   listener.accept(),
 * ]);
 * assert.equal(server.remoteAddr.hostname, "198.51.100.1"); // the NAT address
 * assert.equal(router.mappings().length, 1);
 * client.close();
 * server.close();
 * listener.close();
 * await Promise.all([inside.close(), outside.close(), router.close()]);
 * ```
 */
export class Router {
  readonly #ports: Port[] = [];
  readonly #forwarder: Forwarder;
  readonly #driver: Driver;
  readonly #keeper: Watcher & { refed: boolean };
  #nextSweep = 0;
  /** The last poll moved frames (more may wait in the devices). */
  #busy = false;
  #closed = false;
  #error: Error | null = null;

  /**
   * Creates the router and starts its loop.
   *
   * @param options Interfaces, routes and forwarding options.
   * @throws {TypeError} For a malformed address, route or option, or an interface list that is
   *   empty.
   * @throws {RangeError} For a bad metric or NAT option.
   * @throws {Deno.errors.Busy} When a device belongs to another stack or router.
   */
  constructor(options: RouterOptions) {
    if (options === null || typeof options !== "object" || !Array.isArray(options.interfaces)) {
      throw new TypeError("Invalid options: expected { interfaces: [...] }");
    }
    if (options.interfaces.length === 0) {
      throw new TypeError("Invalid interfaces: a router needs at least one interface");
    }
    this.#forwarder = new Forwarder({
      ...(options.reversePath === undefined ? {} : { reversePath: options.reversePath }),
      allowDocumentation: options.allowDocumentation === true,
    });
    this.#forwarder.enabled = options.forwarding ?? true;
    const seedBase = crypto.getRandomValues(new Uint32Array(1))[0]!;
    for (const [i, o] of options.interfaces.entries()) {
      const medium = o.device.capabilities.medium;
      const iface = new Interface({
        medium,
        ...(medium === "ethernet" ? { hardwareAddr: o.hardwareAddr ?? randomMac() } : {}),
        addresses: o.addresses,
        ...(o.gateway4 === undefined ? {} : { gateway4: o.gateway4 }),
        ...(o.gateway6 === undefined ? {} : { gateway6: o.gateway6 }),
        seed: (seedBase + i) >>> 0,
      });
      let nat: NatTable | undefined;
      if (o.nat !== undefined && o.nat !== false) {
        const external: Ipv4Address | null = iface.routes.ipv4();
        if (external === null) {
          throw new TypeError(`Invalid interface ${i}: NAT needs an IPv4 address`);
        }
        nat = new NatTable({ ...(o.nat === true ? {} : o.nat), externalAddress: external });
      }
      this.#forwarder.attach(iface, o.device, {
        ...(o.metric === undefined ? {} : { metric: o.metric }),
        ...(nat === undefined ? {} : { nat }),
        ...(o.npt === undefined ? {} : { npt: o.npt }),
      });
      this.#ports.push({ iface, device: o.device, sockets: new SocketSet() });
    }
    for (const r of options.routes ?? []) {
      if (r.iface >= this.#ports.length) {
        throw new RangeError(`Invalid route ${r.cidr}: no interface ${r.iface}`);
      }
      this.#forwarder.routes.add(r);
    }
    const claimed: Device[] = [];
    try {
      for (const p of this.#ports) {
        claimDevice(p.device, this);
        claimed.push(p.device);
      }
    } catch (e) {
      for (const d of claimed) releaseDevice(d, this);
      throw e;
    }
    this.#driver = new Driver(this);
    this.#keeper = {
      refed: true,
      settle: () => !this.#closed,
      fail: () => {},
    };
    this.#driver.watch(this.#keeper);
    for (const p of this.#ports) {
      if (hasReadinessHook(p.device)) p.device.onReadable(this.#driver.wake);
      deviceClosed(p.device)?.catch((e: unknown) => this.#fail(e));
    }
    this.#driver.wake();
  }

  /** The forwarding counters (live): packets forwarded, translated, and dropped by reason. */
  get counters(): Readonly<ForwardCounters> {
    return this.#forwarder.counters;
  }

  /** The routes beyond each interface's connected prefixes and gateways; change them any time. */
  get routes(): RouteTable {
    return this.#forwarder.routes;
  }

  /** Whether packets are forwarded between interfaces (each still answers for itself). */
  get forwarding(): boolean {
    return this.#forwarder.enabled;
  }
  set forwarding(on: boolean) {
    this.#forwarder.enabled = on;
  }

  /**
   * The drop counters of one interface (what it received that was malformed, for nobody, ...).
   *
   * @param index The interface index.
   * @returns The counters (live).
   * @throws {RangeError} For an index that is not an interface.
   *
   * @example
   * ```ts
   * import { Router } from "@smol/net";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const router = new Router({
   *   interfaces: [{ device: linkPair({ medium: "ip" })[0], addresses: ["192.0.2.1/24"] }],
   * });
   * assert.equal(router.interfaceCounters(0).malformed, 0);
   * assert.throws(() => router.interfaceCounters(1), RangeError);
   * await router.close();
   * ```
   */
  interfaceCounters(index: number): DropCounters {
    const p = this.#ports[index];
    if (p === undefined) throw new RangeError(`Invalid interface index ${index}`);
    return p.iface.counters;
  }

  /**
   * The NAT table of one interface, or `null` when it does not translate.
   *
   * @param index The interface index.
   * @returns The table (its `stats`, `mappings()`, `size`).
   * @throws {RangeError} For an index that is not an interface.
   *
   * @example
   * ```ts
   * import { Router } from "@smol/net";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const router = new Router({
   *   interfaces: [{ device: linkPair({ medium: "ip" })[0], addresses: ["198.51.100.1/24"], nat: true }],
   * });
   * assert.equal(router.nat(0)?.externalAddress.toString(), "198.51.100.1");
   * await router.close();
   * ```
   */
  nat(index: number): NatTable | null {
    return this.#forwarder.natOf(index);
  }

  /** The error that stopped the router (a device failed), or `null`. */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Every NAT mapping of every NAT interface (`conntrack -L`).
   *
   * @returns The mappings.
   *
   * @example
   * ```ts
   * import { Router } from "@smol/net";
   * import { linkPair } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const router = new Router({
   *   interfaces: [{ device: linkPair({ medium: "ip" })[0], addresses: ["198.51.100.1/24"], nat: true }],
   * });
   * assert.deepEqual(router.mappings(), []);
   * await router.close();
   * ```
   */
  mappings(): NatMapping[] {
    const out: NatMapping[] = [];
    for (let i = 0; i < this.#ports.length; i++) {
      const nat = this.#forwarder.natOf(i);
      if (nat !== null) out.push(...nat.mappings());
    }
    return out;
  }

  /** Lets the process exit while the router runs. */
  unref(): void {
    this.#keeper.refed = false;
    this.#driver.refChanged();
  }

  /** Keeps the process alive while the router runs (the default). */
  ref(): void {
    this.#keeper.refed = true;
    this.#driver.refChanged();
  }

  /**
   * Stops the loop and closes the devices that can be closed.
   *
   * @returns When the devices are closed.
   * @throws {Deno.errors.BadResource} When already closed.
   */
  async close(): Promise<void> {
    if (this.#closed) throw badResource("Router is already closed");
    this.#closed = true;
    this.#driver.stop();
    this.#forwarder.detachAll();
    for (const p of this.#ports) releaseDevice(p.device, this);
    await Promise.all(this.#ports.map((p) => closeDevice(p.device)));
  }

  /** Closes the router (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) await this.close();
  }

  #fail(e: unknown): void {
    if (this.#closed || this.#error !== null) return;
    this.#error = e instanceof Error ? e : new Error(String(e));
    this.#closed = true;
    this.#driver.stop();
    this.#forwarder.detachAll();
    for (const p of this.#ports) releaseDevice(p.device, this);
  }

  /** @internal One poll of every interface; `true` when polling again at once may help. */
  pollOnce(now: Instant): boolean {
    try {
      let again = false;
      for (const p of this.#ports) {
        // While frames flow, poll again at once: the device reads its fd in `receive`, which
        // is cheaper than a wait for readiness; a poll that moves nothing ends the burst.
        if (p.iface.poll(now, p.device, p.sockets)) again = true;
      }
      this.#busy = again;
      if (now >= this.#nextSweep) {
        this.#forwarder.expire(now);
        this.#nextSweep = now + NAT_SWEEP_MS;
      }
      return again;
    } catch (e) {
      this.#fail(e);
      return false;
    }
  }

  /** @internal The next deadline of the interfaces, the devices and NAT expiry. */
  nextDeadline(now: Instant): Instant {
    // The loop's turn ended while frames still flowed: a device reads its fd only when asked
    // and signals readiness again only once a read found it empty, so go on at once.
    if (this.#busy) return now;
    let at = NEVER;
    for (const p of this.#ports) {
      at = earliest(at, earliest(p.iface.pollAt(now, p.sockets), deviceDeadline(p.device)));
    }
    const nat = this.#forwarder.pollAt();
    if (nat !== NEVER) at = earliest(at, Math.max(nat, this.#nextSweep));
    return at;
  }

  /** @internal A router has no sockets that linger. */
  lingering(): boolean {
    return false;
  }
}
