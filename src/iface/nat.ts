/**
 * A NAPT translation table (conntrack) for IPv4 TCP, UDP and ICMP echo, with the behaviour the
 * IETF asks of a NAT: endpoint-independent mapping (RFC 4787 REQ-1, RFC 5382 REQ-1), port
 * preservation where the port is free, configurable filtering (REQ-8), hairpinning (REQ-9),
 * timeouts per protocol and TCP state (RFC 4787 REQ-5: UDP ≥ 2 min; RFC 5382 REQ-5: established
 * TCP ≥ 2 h 4 min, transitory 4 min; RFC 5508 REQ-1: ICMP query 60 s), a bound on the number of
 * mappings, and counters. Sans-IO: time is an argument, expiry happens in {@linkcode NatTable.expire}
 * (and lazily on lookup), in time proportional to what expires.
 *
 * @module
 */

import { Ipv4Address } from "../wire/address.ts";

/**
 * The protocols the table translates. For ICMP the "port" is the echo identifier.
 *
 * @example
 * ```ts
 * import { NatTable, type NatProtocol } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const nat = new NatTable({ externalAddress: "198.51.100.1" });
 * const inside = Ipv4Address.parse("192.0.2.10"), server = Ipv4Address.parse("203.0.113.5");
 * const p: NatProtocol = "udp";
 * nat.outbound(0, p, inside, 5000, server, 53);
 * assert.notEqual(nat.inbound(1, "udp", 5000, server, 53), null);
 * assert.equal(nat.inbound(1, "tcp", 5000, server, 53), null); // mappings are per protocol
 * ```
 */
export type NatProtocol = "tcp" | "udp" | "icmp";

/**
 * Which inbound packets a mapping lets in (RFC 4787 §5).
 *
 * @example
 * ```ts
 * import { type NatFiltering, NatTable } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const f: NatFiltering = "address-dependent";
 * const nat = new NatTable({ externalAddress: "198.51.100.1", filtering: f });
 * const inside = Ipv4Address.parse("192.0.2.10"), server = Ipv4Address.parse("203.0.113.5");
 * nat.outbound(0, "udp", inside, 5000, server, 53);
 * assert.notEqual(nat.inbound(1, "udp", 5000, server, 5353), null); // same address, any port
 * assert.equal(nat.inbound(1, "udp", 5000, Ipv4Address.parse("203.0.113.6"), 53), null);
 * assert.equal(nat.stats.inboundFiltered, 1);
 * ```
 */
export type NatFiltering =
  | "endpoint-independent"
  | "address-dependent"
  | "address-and-port-dependent";

/**
 * Options of {@linkcode NatTable}.
 *
 * @example
 * ```ts
 * import { type NatOptions, NatTable } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const o: NatOptions = { externalAddress: "198.51.100.1", maxMappings: 1 };
 * const nat = new NatTable(o);
 * const server = Ipv4Address.parse("203.0.113.5");
 * assert.notEqual(nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.10"), 5000, server, 53), null);
 * assert.equal(nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.11"), 5000, server, 53), null);
 * assert.equal(nat.stats.refusedFull, 1);
 * assert.throws(() => new NatTable({ externalAddress: "2001:db8::1" }), TypeError);
 * ```
 */
export interface NatOptions {
  /** The address mappings are made on (the router's outside address). */
  externalAddress: string | Ipv4Address;
  /** First and last external port handed out; default 1024–65535. */
  portRange?: readonly [number, number];
  /** Mappings kept at most; new flows beyond are refused (counted). Default 65,536. */
  maxMappings?: number;
  /** Inbound filtering; default `"address-dependent"` (RFC 4787 REQ-8). */
  filtering?: NatFiltering;
  /** Idle timeouts in milliseconds. */
  timeouts?: Partial<NatTimeouts>;
}

/**
 * Idle timeouts of a mapping, in milliseconds.
 *
 * @example
 * ```ts
 * import { NAT_DEFAULT_TIMEOUTS } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(NAT_DEFAULT_TIMEOUTS.udp, 120_000);
 * ```
 */
export interface NatTimeouts {
  /** UDP, refreshed by outbound traffic (RFC 4787 REQ-5 and REQ-6). */
  udp: number;
  /** TCP after the handshake (RFC 5382 REQ-5). */
  tcpEstablished: number;
  /** TCP opening, closing or reset (RFC 5382 REQ-5). */
  tcpTransitory: number;
  /** ICMP echo (RFC 5508 REQ-1). */
  icmp: number;
}

/**
 * The defaults: UDP 2 min, TCP established 2 h 4 min, TCP transitory 4 min, ICMP 60 s.
 *
 * @example
 * ```ts
 * import { NAT_DEFAULT_TIMEOUTS } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(NAT_DEFAULT_TIMEOUTS.tcpEstablished, 7_440_000);
 * ```
 */
export const NAT_DEFAULT_TIMEOUTS: Readonly<NatTimeouts> = Object.freeze({
  udp: 120_000,
  tcpEstablished: 7_440_000,
  tcpTransitory: 240_000,
  icmp: 60_000,
});

/**
 * One mapping, as {@linkcode NatTable.mappings} shows it.
 *
 * @example
 * ```ts
 * import { type NatMapping, NatTable } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function show(m: NatMapping): string {
 *   return `${m.protocol} ${m.internalAddress}:${m.internalPort} -> :${m.externalPort}`;
 * }
 * const nat = new NatTable({ externalAddress: "198.51.100.1" });
 * const server = Ipv4Address.parse("203.0.113.5");
 * nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.10"), 5000, server, 53);
 * assert.deepEqual([...nat.mappings()].map(show), ["udp 192.0.2.10:5000 -> :5000"]);
 * ```
 */
export interface NatMapping {
  /** The protocol. */
  readonly protocol: NatProtocol;
  /** The inside host. */
  readonly internalAddress: Ipv4Address;
  /** The inside port (or echo identifier). */
  readonly internalPort: number;
  /** The port on the external address. */
  readonly externalPort: number;
  /** For TCP: `"opening"`, `"established"` or `"closing"`; `null` otherwise. */
  readonly tcpState: "opening" | "established" | "closing" | null;
  /** When it was made. */
  readonly created: number;
  /** When it expires unless refreshed. */
  readonly expires: number;
  /** Packets translated outbound and inbound. */
  readonly packetsOut: number;
  /** Packets translated inbound. */
  readonly packetsIn: number;
}

/**
 * Counters of a {@linkcode NatTable}.
 *
 * @example
 * ```ts
 * import { NatTable } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const nat = new NatTable({ externalAddress: "198.51.100.1" });
 * const server = Ipv4Address.parse("203.0.113.5");
 * nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.10"), 5000, server, 53);
 * nat.inbound(1, "udp", 6000, server, 53); // no mapping on port 6000
 * assert.equal(nat.stats.created, 1);
 * assert.equal(nat.stats.inboundNoMapping, 1);
 * ```
 */
export interface NatStats {
  /** Mappings made. */
  created: number;
  /** Mappings removed after their timeout. */
  expired: number;
  /** New flows refused because the table was full or no port was free. */
  refusedFull: number;
  /** Inbound packets with no mapping for their port. */
  inboundNoMapping: number;
  /** Inbound packets a mapping exists for but its filtering refused. */
  inboundFiltered: number;
  /** Outbound packets to the external address turned around to an inside host (REQ-9). */
  hairpinned: number;
}

const TCP_FIN = 0x01, TCP_RST = 0x04, TCP_ACK = 0x10;
const TWO16 = 65536;

/** The timeout class of a mapping: which LRU list it is on. */
const Lane = { Udp: 0, TcpEstablished: 1, TcpTransitory: 2, Icmp: 3 } as const;
type Lane = typeof Lane[keyof typeof Lane];

class Entry implements NatMapping {
  tcpState: "opening" | "established" | "closing" | null;
  expires = 0;
  packetsOut = 0;
  packetsIn = 0;
  lane: Lane;
  /** The one remote endpoint seen, as addr * 65536 + port (most flows have one). */
  remote: number;
  /** More remote endpoints, when there are. */
  remotes: Set<number> | null = null;
  finOut = false;
  finIn = false;

  constructor(
    readonly protocol: NatProtocol,
    readonly internalAddress: Ipv4Address,
    readonly internalPort: number,
    readonly externalPort: number,
    readonly created: number,
    remote: number,
  ) {
    this.tcpState = protocol === "tcp" ? "opening" : null;
    this.lane = protocol === "udp"
      ? Lane.Udp
      : protocol === "icmp"
      ? Lane.Icmp
      : Lane.TcpTransitory;
    this.remote = remote;
  }
}

function protoIndex(p: NatProtocol): number {
  return p === "tcp" ? 0 : p === "udp" ? 1 : 2;
}

function checkPort(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 65535) {
    throw new RangeError(`Invalid ${name} ${v}: expected an integer from 0 to 65535`);
  }
}

/**
 * What {@linkcode NatTable.outbound} and {@linkcode NatTable.inbound} return: where the packet
 * goes after translation. Reused between calls: read it before the next call.
 *
 * @example
 * ```ts
 * import { NatTable, type NatResult } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * function text(r: NatResult): string { return `${r.address}:${r.port}`; }
 * const nat = new NatTable({ externalAddress: "198.51.100.1" });
 * const server = Ipv4Address.parse("203.0.113.5");
 * const out = nat.outbound(0, "tcp", Ipv4Address.parse("192.0.2.10"), 40000, server, 443, 0x02);
 * assert.ok(out !== null);
 * assert.equal(text(out), "198.51.100.1:40000");
 * assert.equal(out.hairpin, null);
 * ```
 */
export interface NatResult {
  /** The address to write into the packet (source outbound, destination inbound). */
  address: Ipv4Address;
  /** The port (or echo identifier) to write. */
  port: number;
  /** Outbound only: the destination was our own external address, and this is the inside host. */
  hairpin: Ipv4Address | null;
  /** With `hairpin`: the inside host's port. */
  hairpinPort: number;
}

/**
 * The translation table of a NAPT (IPv4).
 *
 * @example A flow out and its answer in
 * ```ts
 * import { NatTable } from "@smol/net/iface";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const nat = new NatTable({ externalAddress: "198.51.100.1" });
 * const inside = Ipv4Address.parse("192.0.2.10"), server = Ipv4Address.parse("203.0.113.5");
 * const out = nat.outbound(0, "udp", inside, 5000, server, 53)!;
 * assert.equal(out.address.toString(), "198.51.100.1");
 * assert.equal(out.port, 5000); // port preserved
 * const back = nat.inbound(10, "udp", 5000, server, 53)!;
 * assert.equal(back.address.toString(), "192.0.2.10");
 * assert.equal(nat.inbound(10, "udp", 5000, Ipv4Address.parse("203.0.113.6"), 53), null); // filtered
 * ```
 */
export class NatTable {
  readonly #external: Ipv4Address;
  readonly #min: number;
  readonly #max: number;
  readonly #maxMappings: number;
  readonly #filtering: NatFiltering;
  readonly #timeouts: NatTimeouts;
  /** Per protocol: internal addr * 65536 + port → entry. */
  readonly #byInternal: Map<number, Entry>[] = [new Map(), new Map(), new Map()];
  /** Per protocol: external port → entry (dense arrays of 65,536 slots). */
  readonly #byExternal: (Entry | undefined)[][] = [0, 1, 2].map(() =>
    new Array<Entry | undefined>(TWO16).fill(undefined)
  );
  /** Per timeout class, in order of last use (oldest first). */
  readonly #lanes: Set<Entry>[] = [new Set(), new Set(), new Set(), new Set()];
  /** Where the next port search starts, per protocol. */
  readonly #cursor = [0, 0, 0];
  #size = 0;
  readonly #result: NatResult = {
    address: Ipv4Address.UNSPECIFIED,
    port: 0,
    hairpin: null,
    hairpinPort: 0,
  };
  readonly #stats: NatStats = {
    created: 0,
    expired: 0,
    refusedFull: 0,
    inboundNoMapping: 0,
    inboundFiltered: 0,
    hairpinned: 0,
  };

  /**
   * Creates an empty table.
   *
   * @param options External address, ports, limits, filtering, timeouts.
   * @throws {TypeError} When the external address is not an IPv4 address.
   * @throws {RangeError} When a port range, limit or timeout is out of range.
   */
  constructor(options: NatOptions) {
    const ext = options.externalAddress;
    this.#external = typeof ext === "string" ? Ipv4Address.parse(ext) : ext;
    if (!(this.#external instanceof Ipv4Address)) {
      throw new TypeError(`Invalid externalAddress ${String(ext)}: expected an IPv4 address`);
    }
    const [min, max] = options.portRange ?? [1024, 65535];
    checkPort("portRange start", min);
    checkPort("portRange end", max);
    if (min < 1 || min > max) {
      throw new RangeError(`Invalid portRange ${min}-${max}: expected 1 <= start <= end`);
    }
    this.#min = min;
    this.#max = max;
    const maxMappings = options.maxMappings ?? 65_536;
    if (!Number.isInteger(maxMappings) || maxMappings < 1) {
      throw new RangeError(`Invalid maxMappings ${maxMappings}: expected a positive integer`);
    }
    this.#maxMappings = maxMappings;
    const filtering = options.filtering ?? "address-dependent";
    if (
      filtering !== "endpoint-independent" && filtering !== "address-dependent" &&
      filtering !== "address-and-port-dependent"
    ) {
      throw new TypeError(`Invalid filtering ${JSON.stringify(filtering)}`);
    }
    this.#filtering = filtering;
    this.#timeouts = { ...NAT_DEFAULT_TIMEOUTS, ...options.timeouts };
    for (const [k, v] of Object.entries(this.#timeouts)) {
      if (typeof v !== "number" || !(v > 0)) {
        throw new RangeError(`Invalid timeouts.${k} ${v}: expected a positive number of ms`);
      }
    }
  }

  /** The external address. */
  get externalAddress(): Ipv4Address {
    return this.#external;
  }

  /** Mappings in the table. */
  get size(): number {
    return this.#size;
  }

  /** Counters (live). */
  get stats(): Readonly<NatStats> {
    return this.#stats;
  }

  #timeoutOf(lane: Lane): number {
    const t = this.#timeouts;
    return lane === Lane.Udp
      ? t.udp
      : lane === Lane.Icmp
      ? t.icmp
      : lane === Lane.TcpEstablished
      ? t.tcpEstablished
      : t.tcpTransitory;
  }

  /** Moves `e` to the newest end of its lane (after a state change, to its new lane). */
  #touch(e: Entry, now: number): void {
    this.#lanes[e.lane]!.delete(e);
    this.#lanes[e.lane]!.add(e);
    e.expires = now + this.#timeoutOf(e.lane);
  }

  #setLane(e: Entry, lane: Lane, now: number): void {
    this.#lanes[e.lane]!.delete(e);
    e.lane = lane;
    this.#touch(e, now);
  }

  #remove(e: Entry): void {
    const pi = protoIndex(e.protocol);
    this.#byInternal[pi]!.delete(e.internalAddress.value * TWO16 + e.internalPort);
    this.#byExternal[pi]![e.externalPort] = undefined;
    this.#lanes[e.lane]!.delete(e);
    this.#size--;
  }

  /**
   * Removes every mapping whose timeout has passed.
   *
   * @param now The current time in milliseconds.
   * @returns How many were removed.
   */
  expire(now: number): number {
    let n = 0;
    for (const lane of this.#lanes) {
      for (const e of lane) {
        if (e.expires > now) break; // the lane is in order of last use
        this.#remove(e);
        n++;
      }
    }
    this.#stats.expired += n;
    return n;
  }

  /**
   * The earliest instant a mapping expires (`Infinity` when the table is empty): when to call
   * {@linkcode NatTable.expire} next.
   *
   * @returns An instant in milliseconds.
   */
  nextExpiry(): number {
    let t = Infinity;
    for (const lane of this.#lanes) {
      for (const e of lane) {
        if (e.expires < t) t = e.expires;
        break;
      }
    }
    return t;
  }

  #freePort(pi: number, preferred: number): number {
    const table = this.#byExternal[pi]!;
    if (preferred >= this.#min && preferred <= this.#max && table[preferred] === undefined) {
      return preferred;
    }
    const span = this.#max - this.#min + 1;
    let p = this.#min + (this.#cursor[pi]! % span);
    for (let i = 0; i < span; i++) {
      if (table[p] === undefined) {
        this.#cursor[pi] = p - this.#min + 1;
        return p;
      }
      p = p === this.#max ? this.#min : p + 1;
    }
    return -1;
  }

  /**
   * Translates an outbound packet: finds or makes the mapping of (protocol, source, source
   * port) - the same for every destination (endpoint-independent mapping) - and refreshes it.
   *
   * @param now The current time in milliseconds.
   * @param protocol The packet's protocol.
   * @param src The inside source address.
   * @param srcPort The source port (or echo identifier).
   * @param dst The destination address.
   * @param dstPort The destination port (0 for ICMP).
   * @param tcpFlags For TCP, the segment's flags (they move the mapping's TCP state).
   * @returns The external source to write; with `hairpin` set when the destination is our
   *   own external address and a mapping there leads back inside. `null` when the table is
   *   full or no port is free (counted in `refusedFull`).
   */
  outbound(
    now: number,
    protocol: NatProtocol,
    src: Ipv4Address,
    srcPort: number,
    dst: Ipv4Address,
    dstPort: number,
    tcpFlags = 0,
  ): NatResult | null {
    const pi = protoIndex(protocol);
    const key = src.value * TWO16 + srcPort;
    const remote = dst.value * TWO16 + dstPort;
    let e = this.#byInternal[pi]!.get(key);
    if (e !== undefined && e.expires <= now) {
      this.#remove(e);
      this.#stats.expired++;
      e = undefined;
    }
    if (e === undefined) {
      if (this.#size >= this.#maxMappings) this.expire(now);
      const port = this.#size >= this.#maxMappings ? -1 : this.#freePort(pi, srcPort);
      if (port < 0) {
        this.#stats.refusedFull++;
        return null;
      }
      e = new Entry(protocol, src, srcPort, port, now, remote);
      this.#byInternal[pi]!.set(key, e);
      this.#byExternal[pi]![port] = e;
      this.#size++;
      this.#stats.created++;
      this.#touch(e, now);
    } else if (e.remote !== remote) {
      (e.remotes ??= new Set()).add(remote);
    }
    e.packetsOut++;
    if (protocol === "tcp") this.#tcpOut(e, tcpFlags, now);
    else this.#touch(e, now);
    const r = this.#result;
    r.address = this.#external;
    r.port = e.externalPort;
    r.hairpin = null;
    r.hairpinPort = 0;
    if (dst.value === this.#external.value) {
      const inside = this.#byExternal[pi]![dstPort];
      if (inside !== undefined && inside.expires > now) {
        r.hairpin = inside.internalAddress;
        r.hairpinPort = inside.internalPort;
        this.#stats.hairpinned++;
      }
    }
    return r;
  }

  #tcpOut(e: Entry, flags: number, now: number): void {
    if (flags & TCP_RST) {
      e.tcpState = "closing";
      this.#setLane(e, Lane.TcpTransitory, now);
      return;
    }
    if (flags & TCP_FIN) e.finOut = true;
    this.#tcpCommon(e, now);
  }

  /** Both FINs seen: the flow is closing (RFC 5382 REQ-5 transitory timeout). */
  #tcpCommon(e: Entry, now: number): void {
    if (e.finOut && e.finIn && e.tcpState !== "closing") {
      e.tcpState = "closing";
      this.#setLane(e, Lane.TcpTransitory, now);
    } else this.#touch(e, now);
  }

  /**
   * Translates an inbound packet addressed to the external address: finds the mapping of the
   * destination port, applies the filtering, moves the TCP state and refreshes the mapping
   * (RFC 4787 REQ-6 requires outbound refresh and allows inbound refresh; we do both).
   *
   * @param now The current time in milliseconds.
   * @param protocol The packet's protocol.
   * @param dstPort The destination port on the external address (or echo identifier).
   * @param src The packet's source address.
   * @param srcPort The source port (0 for ICMP).
   * @param tcpFlags For TCP, the segment's flags.
   * @returns The inside destination, or `null` (no mapping, or filtered; both counted).
   */
  inbound(
    now: number,
    protocol: NatProtocol,
    dstPort: number,
    src: Ipv4Address,
    srcPort: number,
    tcpFlags = 0,
  ): NatResult | null {
    const pi = protoIndex(protocol);
    const e = this.#byExternal[pi]![dstPort];
    if (e === undefined || e.expires <= now) {
      this.#stats.inboundNoMapping++;
      return null;
    }
    if (!this.#allowed(e, src, srcPort)) {
      this.#stats.inboundFiltered++;
      return null;
    }
    e.packetsIn++;
    if (protocol === "tcp") {
      if (tcpFlags & TCP_RST) {
        e.tcpState = "closing";
        this.#setLane(e, Lane.TcpTransitory, now);
      } else {
        // The peer's SYN-ACK (or, for a flow picked up mid-stream, any ACK) opens it.
        if (tcpFlags & TCP_ACK && e.tcpState === "opening") {
          e.tcpState = "established";
          this.#setLane(e, Lane.TcpEstablished, now);
        }
        if (tcpFlags & TCP_FIN) e.finIn = true;
        this.#tcpCommon(e, now);
      }
    } else this.#touch(e, now);
    const r = this.#result;
    r.address = e.internalAddress;
    r.port = e.internalPort;
    r.hairpin = null;
    r.hairpinPort = 0;
    return r;
  }

  #allowed(e: Entry, src: Ipv4Address, srcPort: number): boolean {
    if (this.#filtering === "endpoint-independent") return true;
    const byPort = this.#filtering === "address-and-port-dependent";
    const want = src.value * TWO16 + (byPort ? srcPort : 0);
    const match = (r: number) => (byPort ? r : r - (r % TWO16)) === want;
    if (match(e.remote)) return true;
    if (e.remotes !== null) { for (const r of e.remotes) if (match(r)) return true; }
    return false;
  }

  /**
   * The live mapping at an external port, without refreshing it or applying filtering: what an
   * ICMP error about a translated flow is matched with (RFC 5508 §4.2).
   *
   * @param now The current time in milliseconds.
   * @param protocol The protocol.
   * @param externalPort The port (or echo identifier) on the external address.
   * @returns The mapping, or `null`.
   *
   * @example
   * ```ts
   * import { NatTable } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const nat = new NatTable({ externalAddress: "198.51.100.1" });
   * nat.outbound(0, "udp", Ipv4Address.parse("192.0.2.10"), 5000, Ipv4Address.parse("203.0.113.5"), 53);
   * assert.equal(nat.findExternal(1, "udp", 5000)?.internalPort, 5000);
   * assert.equal(nat.findExternal(1, "tcp", 5000), null);
   * ```
   */
  findExternal(now: number, protocol: NatProtocol, externalPort: number): NatMapping | null {
    const e = this.#byExternal[protoIndex(protocol)]![externalPort & 0xffff];
    return e === undefined || e.expires <= now ? null : e;
  }

  /**
   * The live mapping of an inside endpoint, without refreshing it: what an inside host's ICMP
   * error about an inbound flow is matched with (RFC 5508 §4.2).
   *
   * @param now The current time in milliseconds.
   * @param protocol The protocol.
   * @param internalAddress The inside host.
   * @param internalPort Its port (or echo identifier).
   * @returns The mapping, or `null`.
   *
   * @example
   * ```ts
   * import { NatTable } from "@smol/net/iface";
   * import { Ipv4Address } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const nat = new NatTable({ externalAddress: "198.51.100.1" });
   * const inside = Ipv4Address.parse("192.0.2.10");
   * nat.outbound(0, "tcp", inside, 40000, Ipv4Address.parse("203.0.113.5"), 80, 0x02);
   * assert.equal(nat.findInternal(1, "tcp", inside, 40000)?.externalPort, 40000);
   * ```
   */
  findInternal(
    now: number,
    protocol: NatProtocol,
    internalAddress: Ipv4Address,
    internalPort: number,
  ): NatMapping | null {
    const key = internalAddress.value * TWO16 + internalPort;
    const e = this.#byInternal[protoIndex(protocol)]!.get(key);
    return e === undefined || e.expires <= now ? null : e;
  }

  /**
   * Every live mapping, for inspection (`conntrack -L`).
   *
   * @returns The mappings, oldest use first per timeout class.
   */
  *mappings(): IterableIterator<NatMapping> {
    for (const lane of this.#lanes) yield* lane;
  }
}
