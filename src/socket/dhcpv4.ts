/**
 * A sans-IO DHCPv4 client (RFC 2131 §4.4): it decides which message is due, keeps the lease
 * timers and reports what to configure; whoever drives it moves its datagrams over UDP port 68
 * and applies its events. It never reads a clock: every call takes the time in `cx.now`, and the
 * retransmission jitter comes from `cx.random`, the interface's seeded generator.
 *
 * States (RFC 2131 Figure 5): `init` → `selecting` (DISCOVER sent) → `requesting` (REQUEST for
 * an offer) → `bound`; `bound` → `renewing` at T1 (unicast REQUEST to the server) → `rebinding`
 * at T2 (broadcast REQUEST) → back to `init` when the lease expires. A client created with a
 * remembered address starts in `initReboot` and asks for it again (`rebooting`).
 *
 * Not done: address conflict detection by ARP before use (DHCPDECLINE, RFC 2131 §4.4.1) and
 * DHCPRELEASE on shutdown.
 *
 * @module
 */

import type { Rng } from "../rand.ts";
import { type Instant, NEVER } from "../time.ts";
import { type IpEndpoint, Ipv4Address } from "../wire/address.ts";
import { IpCidr } from "../wire/cidr.ts";
import {
  DHCPV4_CLIENT_PORT,
  DHCPV4_SERVER_PORT,
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4OptionCode,
  Dhcpv4Packet,
  type Dhcpv4Repr,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  parseDhcpv4,
} from "../wire/dhcpv4.ts";
import { WireError } from "../wire/error.ts";
import type { EthernetAddress } from "../wire/mac.ts";
import type { UdpEmitter } from "./udp.ts";

/** RFC 2131 §4.1: first retransmission after 4 s, doubling up to 64 s, randomised by ±1 s. */
const RETRANSMIT_FIRST_MS = 4_000;
const RETRANSMIT_MAX_MS = 64_000;
const RETRANSMIT_JITTER_MS = 1_000;
/** REQUEST (requesting, rebooting) is sent this many times before going back to INIT. */
const REQUEST_ATTEMPTS = 5;
/** RFC 2131 §4.4.5: in RENEWING and REBINDING, retransmit no sooner than 60 s. */
const RENEW_MIN_WAIT_MS = 60_000;
const INFINITE_LEASE = 0xffffffff;
const CLIENT_PORT = DHCPV4_CLIENT_PORT;

/**
 * The part of the socket context the DHCPv4 client uses (a `SocketContext` fits).
 *
 * @example
 * ```ts
 * import { Dhcpv4Client } from "@smol/net/socket";
 * import type { Dhcpv4Context } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: Dhcpv4Context = { now: 250, random: new Rng(1) };
 * const client = new Dhcpv4Client({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01") });
 * assert.ok(client.pollAt(cx) <= cx.now); // a new client wants to send its DISCOVER now
 * ```
 */
export interface Dhcpv4Context {
  /** The current instant. */
  readonly now: Instant;
  /** The interface's seeded generator (transaction ids, jitter). */
  readonly random: Rng;
}

/**
 * The states of RFC 2131 Figure 5.
 *
 * @example
 * ```ts
 * import { Dhcpv4Client } from "@smol/net/socket";
 * import type { Dhcpv4State } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const client = new Dhcpv4Client({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01") });
 * const states: Dhcpv4State[] = [client.state];
 * client.dispatch({ now: 0, random: new Rng(1) }, { emitUdp: () => true }); // DISCOVER
 * states.push(client.state);
 * assert.deepEqual(states, ["init", "selecting"]);
 * ```
 */
export type Dhcpv4State =
  | "init"
  | "selecting"
  | "requesting"
  | "initReboot"
  | "rebooting"
  | "bound"
  | "renewing"
  | "rebinding";

/**
 * A lease as the client holds it. Instants are on the caller's clock, in milliseconds.
 *
 * @example
 * ```ts
 * import type { Dhcpv4Lease } from "@smol/net/socket";
 * import { IpCidr, Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function describe(lease: Dhcpv4Lease): string {
 *   return `${lease.address} via ${lease.routers[0] ?? "no router"} until ${lease.expiresAt}`;
 * }
 * const lease: Dhcpv4Lease = {
 *   address: IpCidr.parse("192.0.2.63/24"),
 *   serverIdentifier: Ipv4Address.parse("192.0.2.1"),
 *   routers: [Ipv4Address.parse("192.0.2.1")],
 *   dnsServers: [],
 *   domainName: null,
 *   mtu: null,
 *   leaseTime: 3600,
 *   acquiredAt: 0,
 *   renewAt: 1_800_000, // T1: half the lease
 *   rebindAt: 3_150_000, // T2: seven eighths
 *   expiresAt: 3_600_000,
 * };
 * assert.equal(describe(lease), "192.0.2.63/24 via 192.0.2.1 until 3600000");
 * ```
 */
export interface Dhcpv4Lease {
  /** The address with the prefix length of the subnet mask (classful when the mask is absent). */
  readonly address: IpCidr;
  /** The server that granted the lease (option 54). */
  readonly serverIdentifier: Ipv4Address;
  /** Routers (option 3), in order of preference. */
  readonly routers: readonly Ipv4Address[];
  /** DNS servers (option 6), in order of preference. */
  readonly dnsServers: readonly Ipv4Address[];
  /** Domain name (option 15). */
  readonly domainName: string | null;
  /** Interface MTU (option 26). */
  readonly mtu: number | null;
  /** Lease length in seconds; `Infinity` for an infinite lease. */
  readonly leaseTime: number;
  /** When the lease started: the time the REQUEST that earned it was sent (RFC 2131 §4.4.1). */
  readonly acquiredAt: Instant;
  /** T1: when the client starts renewing. */
  readonly renewAt: Instant;
  /** T2: when the client starts rebinding. */
  readonly rebindAt: Instant;
  /** When the lease ends. */
  readonly expiresAt: Instant;
}

/**
 * What the driver of the client must apply. `bound`: configure `lease` (replacing `previous`, the
 * lease it renews, when not `null`). `deconfigured`: remove `lease`'s address, routes and DNS
 * servers (`reason`: the lease expired, the server refused it, or the client was reset).
 *
 * @example
 * ```ts
 * import type { Dhcpv4Event, Dhcpv4Lease } from "@smol/net/socket";
 * import assert from "node:assert/strict";
 * function log(e: Dhcpv4Event): string {
 *   return e.type === "bound" ? `bound ${e.lease.address}` : `lost ${e.lease.address} (${e.reason})`;
 * }
 * const lease = { address: "192.0.2.63/24" } as unknown as Dhcpv4Lease; // the fields log() reads
 * assert.equal(log({ type: "bound", lease, previous: null }), "bound 192.0.2.63/24");
 * assert.equal(log({ type: "deconfigured", lease, reason: "nak" }), "lost 192.0.2.63/24 (nak)");
 * ```
 */
export type Dhcpv4Event =
  | { readonly type: "bound"; readonly lease: Dhcpv4Lease; readonly previous: Dhcpv4Lease | null }
  | {
    readonly type: "deconfigured";
    readonly lease: Dhcpv4Lease;
    readonly reason: "expired" | "nak" | "reset";
  };

/**
 * Datagrams the client ignored, by reason.
 *
 * @example
 * ```ts
 * import { Dhcpv4Client } from "@smol/net/socket";
 * import type { Dhcpv4Counters } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const c = new Dhcpv4Client({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01") });
 * const server = { addr: Ipv4Address.parse("192.0.2.1"), port: 67 };
 * c.process({ now: 0, random: new Rng(1) }, server, new Uint8Array(10)); // not a DHCP message
 * const counters: Dhcpv4Counters = c.counters;
 * assert.equal(counters.malformed, 1);
 * assert.equal(counters.unexpected, 0);
 * ```
 */
export interface Dhcpv4Counters {
  /** Bytes that do not parse as a DHCP message (`WireError`), or a message missing a required option. */
  malformed: number;
  /** A transaction id other than the one in flight. */
  wrongXid: number;
  /** A reply for another client hardware address. */
  otherClient: number;
  /** A message that does not fit the state (a request, an OFFER while requesting, a wrong server). */
  unexpected: number;
}

/**
 * Options of a {@linkcode Dhcpv4Client}.
 *
 * @example
 * ```ts
 * import { Dhcpv4Client } from "@smol/net/socket";
 * import type { Dhcpv4ClientOptions } from "@smol/net/socket";
 * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const options: Dhcpv4ClientOptions = {
 *   hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01"),
 *   requestedAddress: Ipv4Address.parse("192.0.2.63"),
 * };
 * assert.equal(new Dhcpv4Client(options).state, "initReboot"); // asks for the remembered address
 * ```
 */
export interface Dhcpv4ClientOptions {
  /** The interface's hardware address (`chaddr`). */
  readonly hardwareAddress: EthernetAddress;
  /** Option 61 (default: type 1 followed by the hardware address, RFC 2132 §9.14). */
  readonly clientIdentifier?: Uint8Array;
  /** A remembered address: the client starts in INIT-REBOOT and asks for it (RFC 2131 §3.2). */
  readonly requestedAddress?: Ipv4Address;
  /** Option 55 (default: subnet mask, router, DNS, domain, MTU, lease, T1, T2). */
  readonly parameterRequestList?: readonly number[];
}

const C = Dhcpv4OptionCode;
const DEFAULT_PRL: readonly number[] = [
  C.SubnetMask,
  C.Router,
  C.DnsServers,
  C.DomainName,
  C.InterfaceMtu,
  C.LeaseTime,
  C.RenewalTime,
  C.RebindingTime,
];

/**
 * A DHCPv4 client state machine. Feed it datagrams received on UDP port 68 with
 * {@linkcode Dhcpv4Client.process}, let it send with {@linkcode Dhcpv4Client.dispatch}, wake it
 * at {@linkcode Dhcpv4Client.pollAt}, and apply what {@linkcode Dhcpv4Client.takeEvent} returns.
 *
 * @example Sends a DISCOVER as soon as it is dispatched
 * ```ts
 * import { Dhcpv4Client } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { EthernetAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const client = new Dhcpv4Client({ hardwareAddress: EthernetAddress.parse("02:00:00:00:00:01") });
 * const sent: string[] = [];
 * client.dispatch({ now: 0, random: new Rng(1) }, {
 *   emitUdp(src, _port, dst) { sent.push(`${src} -> ${dst.addr}:${dst.port}`); return true; },
 * });
 * assert.deepEqual(sent, ["0.0.0.0 -> 255.255.255.255:67"]);
 * assert.equal(client.state, "selecting");
 * ```
 */
export class Dhcpv4Client {
  readonly #hw: EthernetAddress;
  readonly #clientId: Uint8Array;
  readonly #prl: readonly number[];
  #state: Dhcpv4State;
  #xid = 0;
  /** The address asked for in REQUESTING / REBOOTING. */
  #requested: Ipv4Address | null;
  /** The server chosen in SELECTING. */
  #server: Ipv4Address | null = null;
  #lease: Dhcpv4Lease | null = null;
  /** When the next message is due (NEVER when none is). */
  #sendAt: Instant = 0;
  /** Messages sent in the current exchange (for the backoff and the give-up rule). */
  #attempts = 0;
  /** When the current exchange began (the `secs` field) and when its last request left. */
  #exchangeStart: Instant = 0;
  #lastSent: Instant = 0;
  readonly #events: Dhcpv4Event[] = [];
  /** Ignored datagrams by reason. */
  readonly counters: Dhcpv4Counters = { malformed: 0, wrongXid: 0, otherClient: 0, unexpected: 0 };

  /**
   * Creates a client in `init`, or in `initReboot` with a remembered address.
   *
   * @param options The hardware address and optional identity and remembered address.
   */
  constructor(options: Dhcpv4ClientOptions) {
    this.#hw = options.hardwareAddress;
    if (options.clientIdentifier !== undefined && options.clientIdentifier.length < 2) {
      throw new RangeError(
        `Invalid DHCP client identifier of ${options.clientIdentifier.length} bytes: need at least 2`,
      );
    }
    this.#clientId = options.clientIdentifier ??
      Uint8Array.of(1, ...options.hardwareAddress.octets());
    this.#prl = options.parameterRequestList ?? DEFAULT_PRL;
    const remembered = options.requestedAddress ?? null;
    if (remembered !== null && !remembered.isUnicast) {
      throw new RangeError(`Invalid requested address ${remembered}: not a unicast address`);
    }
    this.#requested = remembered;
    this.#state = remembered === null ? "init" : "initReboot";
  }

  /**
   * The current state.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO }).state, "init");
   * ```
   */
  get state(): Dhcpv4State {
    return this.#state;
  }

  /**
   * The lease in use (in `bound`, `renewing` and `rebinding`), or `null`.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO }).lease, null);
   * ```
   */
  get lease(): Dhcpv4Lease | null {
    return this.#lease;
  }

  /**
   * Takes the oldest event not yet taken.
   *
   * @returns The event, or `null` when there is none.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.equal(new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO }).takeEvent(), null);
   * ```
   */
  takeEvent(): Dhcpv4Event | null {
    return this.#events.shift() ?? null;
  }

  /**
   * Drops the lease (reported as `deconfigured` with reason `reset`) and starts over in `init`.
   *
   * @param _cx The context.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO });
   * c.reset({ now: 0, random: new Rng(1) });
   * assert.equal(c.state, "init");
   * ```
   */
  reset(_cx: Dhcpv4Context): void {
    this.#restart("reset");
  }

  /**
   * Ingress: a datagram received on UDP port 68. Anything that is not a reply for this client's
   * transaction in a state that expects it is ignored and counted in
   * {@linkcode Dhcpv4Client.counters}.
   *
   * @param cx The context.
   * @param src The sender.
   * @param payload The UDP payload.
   * @returns `true` when the message changed the client's state.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { EthernetAddress, Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO });
   * const from = { addr: Ipv4Address.parse("192.0.2.1"), port: 67 };
   * assert.equal(c.process({ now: 0, random: new Rng(1) }, from, new Uint8Array(10)), false);
   * assert.equal(c.counters.malformed, 1);
   * ```
   */
  process(cx: Dhcpv4Context, src: IpEndpoint, payload: Uint8Array): boolean {
    let repr: Dhcpv4Repr;
    try {
      repr = parseDhcpv4(new Dhcpv4Packet(payload));
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.counters.malformed++;
      return false;
    }
    if (src.port !== DHCPV4_SERVER_PORT || repr.op !== Dhcpv4Op.Reply) {
      this.counters.unexpected++;
      return false;
    }
    if (!repr.clientHardwareAddress.equals(this.#hw)) {
      this.counters.otherClient++;
      return false;
    }
    const st = this.#state;
    if (repr.transactionId !== this.#xid || st === "init" || st === "initReboot") {
      this.counters.wrongXid++;
      return false;
    }
    switch (repr.messageType) {
      case Dhcpv4MessageType.Offer:
        return this.#onOffer(cx, repr);
      case Dhcpv4MessageType.Ack:
        return this.#onAck(cx, repr);
      case Dhcpv4MessageType.Nak:
        return this.#onNak(repr);
      default:
        this.counters.unexpected++;
        return false;
    }
  }

  /**
   * Egress: sends the message that is due, if any.
   *
   * @param cx The context.
   * @param emitter Where the datagram goes (source address, port 68, destination).
   * @returns `true` when a message was sent.
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO });
   * const cx = { now: 0, random: new Rng(1) };
   * assert.equal(c.dispatch(cx, { emitUdp: () => true }), true);
   * assert.ok(c.pollAt(cx) >= 3000);
   * ```
   */
  dispatch(cx: Dhcpv4Context, emitter: UdpEmitter): boolean {
    this.#expire(cx);
    if (cx.now < this.#sendAt) return false;
    const msg = this.#message(cx);
    if (msg === null) return false;
    const packet = new Dhcpv4Packet(new Uint8Array(dhcpv4BufferLen(msg.repr)));
    emitDhcpv4(msg.repr, packet);
    if (!emitter.emitUdp(msg.src, CLIENT_PORT, msg.dst, packet.buffer)) return false;
    this.#lastSent = cx.now;
    this.#attempts++;
    this.#sendAt = cx.now + this.#retransmitDelay(cx);
    return true;
  }

  /**
   * When the client next needs {@linkcode Dhcpv4Client.dispatch}: a retransmission, T1, T2 or the
   * end of the lease.
   *
   * @param cx The context.
   * @returns The instant (`cx.now` or earlier when something is due).
   *
   * @example
   * ```ts
   * import { Dhcpv4Client } from "@smol/net/socket";
   * import { Rng } from "@smol/net/iface";
   * import { EthernetAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const c = new Dhcpv4Client({ hardwareAddress: EthernetAddress.ZERO });
   * assert.equal(c.pollAt({ now: 5, random: new Rng(1) }), 0);
   * ```
   */
  pollAt(_cx: Dhcpv4Context): Instant {
    const lease = this.#lease;
    if (lease === null) return this.#sendAt;
    const st = this.#state;
    if (st === "bound") return Math.min(lease.renewAt, lease.expiresAt);
    if (st === "renewing") return Math.min(this.#sendAt, lease.rebindAt, lease.expiresAt);
    return Math.min(this.#sendAt, lease.expiresAt);
  }

  /** Moves through T1, T2 and expiry when their time has come. */
  #expire(cx: Dhcpv4Context): void {
    const now = cx.now;
    const lease = this.#lease;
    if (lease === null) return;
    if (now >= lease.expiresAt) {
      this.#restart("expired");
      return;
    }
    if (this.#state === "bound" && now >= lease.renewAt) {
      this.#state = "renewing";
      this.#xid = cx.random.nextU32();
      this.#beginExchange(now);
    }
    if (this.#state === "renewing" && now >= lease.rebindAt) {
      this.#state = "rebinding";
      this.#xid = cx.random.nextU32();
      this.#beginExchange(now);
    }
  }

  #beginExchange(now: Instant): void {
    this.#attempts = 0;
    this.#exchangeStart = now;
    this.#sendAt = now;
  }

  /** The message due now, moving INIT → SELECTING and INIT-REBOOT → REBOOTING; null for none. */
  #message(
    cx: Dhcpv4Context,
  ): { repr: Dhcpv4Repr; src: Ipv4Address; dst: IpEndpoint } | null {
    const st = this.#state;
    const now = cx.now;
    if (st === "bound") return null;
    if (
      (st === "requesting" || st === "rebooting") && this.#attempts >= REQUEST_ATTEMPTS
    ) {
      // RFC 2131 §3.1 step 5 / §3.2 step 4: no answer after the retransmissions: start over.
      this.#restart(null);
      return this.#message(cx);
    }
    if (st === "init" || st === "initReboot") {
      this.#xid = cx.random.nextU32();
      this.#beginExchange(now);
      this.#state = st === "init" ? "selecting" : "rebooting";
    }
    const secs = Math.min(0xffff, Math.floor((now - this.#exchangeStart) / 1000));
    const base: Dhcpv4Repr = {
      ...dhcpv4ReprDefaults(),
      op: Dhcpv4Op.Request,
      transactionId: this.#xid,
      secs,
      clientHardwareAddress: this.#hw,
      clientIdentifier: this.#clientId,
      parameterRequestList: this.#prl,
    };
    const broadcast: IpEndpoint = { addr: Ipv4Address.BROADCAST, port: DHCPV4_SERVER_PORT };
    const unspecified = Ipv4Address.UNSPECIFIED;
    switch (this.#state) {
      case "selecting":
        return {
          repr: { ...base, messageType: Dhcpv4MessageType.Discover, broadcast: true },
          src: unspecified,
          dst: broadcast,
        };
      case "requesting":
        // RFC 2131 §4.3.2 (SELECTING): requested address and server identifier, ciaddr 0.
        return {
          repr: {
            ...base,
            messageType: Dhcpv4MessageType.Request,
            broadcast: true,
            requestedIp: this.#requested,
            serverIdentifier: this.#server,
          },
          src: unspecified,
          dst: broadcast,
        };
      case "rebooting":
        // INIT-REBOOT: requested address, no server identifier, ciaddr 0.
        return {
          repr: {
            ...base,
            messageType: Dhcpv4MessageType.Request,
            broadcast: true,
            requestedIp: this.#requested,
          },
          src: unspecified,
          dst: broadcast,
        };
      default: {
        // RENEWING (unicast to the server) and REBINDING (broadcast): ciaddr is the leased
        // address, no requested address or server identifier.
        const lease = this.#lease!;
        const mine = lease.address.address as Ipv4Address;
        const dst = this.#state === "renewing"
          ? { addr: lease.serverIdentifier, port: DHCPV4_SERVER_PORT }
          : broadcast;
        return {
          repr: { ...base, messageType: Dhcpv4MessageType.Request, clientIp: mine },
          src: mine,
          dst,
        };
      }
    }
  }

  /** RFC 2131 §4.1 backoff with ±1 s of jitter; RFC 2131 §4.4.5 in RENEWING and REBINDING. */
  #retransmitDelay(cx: Dhcpv4Context): number {
    const st = this.#state;
    if (st === "renewing" || st === "rebinding") {
      const lease = this.#lease!;
      const until = (st === "renewing" ? lease.rebindAt : lease.expiresAt) - cx.now;
      return Math.max(RENEW_MIN_WAIT_MS, until / 2);
    }
    const base = Math.min(
      RETRANSMIT_MAX_MS,
      RETRANSMIT_FIRST_MS * 2 ** Math.min(this.#attempts - 1, 4),
    );
    return base + (cx.random.nextFloat() * 2 - 1) * RETRANSMIT_JITTER_MS;
  }

  #onOffer(cx: Dhcpv4Context, repr: Dhcpv4Repr): boolean {
    if (this.#state !== "selecting") {
      this.counters.unexpected++;
      return false;
    }
    if (!usableAddress(repr.yourIp) || repr.serverIdentifier === null) {
      this.counters.malformed++;
      return false;
    }
    // RFC 2131 §4.4.1: the first acceptable offer is taken.
    this.#state = "requesting";
    this.#requested = repr.yourIp;
    this.#server = repr.serverIdentifier;
    this.#attempts = 0;
    this.#sendAt = cx.now;
    return true;
  }

  #onAck(cx: Dhcpv4Context, repr: Dhcpv4Repr): boolean {
    const st = this.#state;
    if (st === "selecting" || st === "bound") {
      this.counters.unexpected++;
      return false;
    }
    if (st === "requesting" && !sameAddress(repr.serverIdentifier, this.#server)) {
      this.counters.unexpected++;
      return false;
    }
    const wanted = st === "requesting" || st === "rebooting"
      ? this.#requested
      : this.#lease!.address.address;
    if (
      !usableAddress(repr.yourIp) || repr.serverIdentifier === null || repr.leaseTime === null ||
      (wanted !== null && !repr.yourIp.equals(wanted))
    ) {
      this.counters.malformed++;
      return false;
    }
    const lease = makeLease(repr, this.#lastSent);
    if (lease.expiresAt <= cx.now) {
      this.counters.malformed++;
      return false;
    }
    const previous = this.#lease;
    this.#lease = lease;
    this.#state = "bound";
    this.#requested = lease.address.address as Ipv4Address;
    this.#server = lease.serverIdentifier;
    this.#sendAt = NEVER;
    this.#attempts = 0;
    this.#events.push({ type: "bound", lease, previous });
    return true;
  }

  #onNak(repr: Dhcpv4Repr): boolean {
    const st = this.#state;
    if (st === "selecting" || st === "bound") {
      this.counters.unexpected++;
      return false;
    }
    if (st === "requesting" && !sameAddress(repr.serverIdentifier, this.#server)) {
      this.counters.unexpected++;
      return false;
    }
    // RFC 2131 §3.1 step 5, §4.4.5: a NAK sends the client back to INIT at once.
    this.#restart("nak");
    return true;
  }

  /** Back to INIT: reports the lost lease (when there is one and `reason` is given). */
  #restart(reason: "expired" | "nak" | "reset" | null): void {
    const lease = this.#lease;
    if (lease !== null) {
      this.#events.push({ type: "deconfigured", lease, reason: reason ?? "expired" });
    }
    this.#lease = null;
    this.#state = "init";
    this.#requested = null;
    this.#server = null;
    this.#attempts = 0;
    this.#sendAt = 0;
  }
}

function sameAddress(a: Ipv4Address | null, b: Ipv4Address | null): boolean {
  return a !== null && b !== null && a.equals(b);
}

function usableAddress(a: Ipv4Address): boolean {
  return a.isUnicast && !a.isLoopback;
}

/** The prefix length of a contiguous mask, or -1. */
function maskLen(mask: Ipv4Address): number {
  const v = mask.value;
  const inv = ~v >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return 32 - Math.log2(inv + 1);
}

/** RFC 1122 §3.3.1.4 fallback: the classful prefix when no (valid) mask was given. */
function classfulLen(a: Ipv4Address): number {
  const top = a.value >>> 24;
  return top < 128 ? 8 : top < 192 ? 16 : 24;
}

/** The lease of an ACK; times count from `start`, when the REQUEST left. */
function makeLease(repr: Dhcpv4Repr, start: Instant): Dhcpv4Lease {
  const raw = repr.leaseTime!;
  const leaseTime = raw === INFINITE_LEASE ? Infinity : raw;
  let t1 = repr.renewalTime ?? leaseTime * 0.5;
  let t2 = repr.rebindingTime ?? leaseTime * 0.875;
  // RFC 2131 §4.4.5: T1 < T2 < lease; out-of-order values fall back to the defaults.
  if (!(t2 <= leaseTime) || !(t1 <= t2)) {
    t1 = leaseTime * 0.5;
    t2 = leaseTime * 0.875;
  }
  const mask = repr.subnetMask === null ? -1 : maskLen(repr.subnetMask);
  const prefix = mask >= 1 && mask <= 32 ? mask : classfulLen(repr.yourIp);
  return {
    address: new IpCidr(repr.yourIp, prefix),
    serverIdentifier: repr.serverIdentifier!,
    routers: repr.routers.filter(usableAddress),
    dnsServers: repr.dnsServers.filter(usableAddress),
    domainName: repr.domainName,
    mtu: repr.interfaceMtu,
    leaseTime,
    acquiredAt: start,
    renewAt: start + t1 * 1000,
    rebindAt: start + t2 * 1000,
    expiresAt: start + leaseTime * 1000,
  };
}
