/**
 * The demultiplexing index of a socket set: hashed lookup of TCP connections by 4-tuple, of
 * listeners and UDP sockets by local endpoint (exact address first, then the unspecified
 * address of the family), of ICMP sockets by echo identifier, the per-port use counts, and the
 * RFC 6056 ephemeral port allocator. It holds the sockets' `SocketMeta` records, never their
 * lifetime: the `SocketSet` adds and removes them. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress, IpEndpoint } from "../wire/address.ts";
import { formatEndpoint, Ipv4Address, Ipv6Address } from "../wire/address.ts";
import { mix } from "../wire/_bytes.ts";
import type { Rng } from "../rand.ts";
import { NetError } from "./errors.ts";
import { I_ICMP, I_LISTEN, I_NONE, I_TUPLE, I_UDP, type SocketMeta } from "./socket_meta.ts";
import { tupleHash } from "./time_wait.ts";

/**
 * First port of the RFC 6335 dynamic range, where RFC 6056 ephemeral ports come from.
 *
 * @example
 * ```ts
 * import { EPHEMERAL_PORT_MIN, Rng, SocketSet } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(EPHEMERAL_PORT_MIN, 49152); // RFC 6335 §6, the dynamic range
 * assert.ok(new SocketSet().allocatePort("tcp", new Rng(7)) >= EPHEMERAL_PORT_MIN);
 * ```
 */
export const EPHEMERAL_PORT_MIN = 49152;
/**
 * Last ephemeral port.
 *
 * @example
 * ```ts
 * import { EPHEMERAL_PORT_MAX, Rng, SocketSet } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(EPHEMERAL_PORT_MAX, 65535);
 * assert.ok(new SocketSet().allocatePort("udp", new Rng(7)) <= EPHEMERAL_PORT_MAX);
 * ```
 */
export const EPHEMERAL_PORT_MAX = 65535;
const EPHEMERAL_COUNT = EPHEMERAL_PORT_MAX - EPHEMERAL_PORT_MIN + 1;

/**
 * The transport protocols that have ports.
 *
 * @example
 * ```ts
 * import { type PortProtocol, SocketSet } from "@smol/net/iface";
 * import { TcpListenSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const set = new SocketSet();
 * const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * set.add(l);
 * set.indexTcpListener(l, { addr: Ipv4Address.UNSPECIFIED, port: 80 });
 * const p: PortProtocol = "tcp";
 * assert.equal(set.portInUse(p, 80), true);
 * assert.equal(set.portInUse("udp", 80), false); // each protocol has its own ports
 * ```
 */
export type PortProtocol = "tcp" | "udp";

/** Hash → the first entry of a chain linked through `SocketMeta.next`. */
type Buckets<S> = Map<number, SocketMeta<S>>;

function endpointHash(a: IpAddress, p: number): number {
  return mix(a.hash(), p | 0x10000);
}

function unspecifiedOf(version: 4 | 6): IpAddress {
  return version === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetError("EINVAL", `Invalid port ${port}`);
  }
}

/** Hashed indexes over socket records, with the port use counts. */
export class DemuxIndex<S> {
  readonly #tuples: Buckets<S> = new Map();
  readonly #listeners: Buckets<S> = new Map();
  readonly #udp: Buckets<S> = new Map();
  readonly #icmp = new Map<number, SocketMeta<S>>();
  readonly #tcpPorts = new Uint16Array(65536);
  readonly #udpPorts = new Uint16Array(65536);

  /** The record connected on this 4-tuple, or `null`. */
  findTcp(
    localAddr: IpAddress,
    localPort: number,
    remoteAddr: IpAddress,
    remotePort: number,
  ): SocketMeta<S> | null {
    const h = tupleHash(localAddr, localPort, remoteAddr, remotePort);
    return this.#findTcpHashed(h, localAddr, localPort, remoteAddr, remotePort);
  }

  #findTcpHashed(
    h: number,
    localAddr: IpAddress,
    localPort: number,
    remoteAddr: IpAddress,
    remotePort: number,
  ): SocketMeta<S> | null {
    for (let e = this.#tuples.get(h) ?? null; e !== null; e = e.next) {
      if (
        e.lPort === localPort && e.rPort === remotePort && e.lAddr.equals(localAddr) &&
        e.rAddr.equals(remoteAddr)
      ) return e;
    }
    return null;
  }

  /** The listener for a local endpoint: bound to exactly `addr`, else to the wildcard. */
  findTcpListener(addr: IpAddress, port: number): SocketMeta<S> | null {
    return this.#findEndpoint(this.#listeners, addr, port);
  }

  /** The UDP socket for a local endpoint: bound to exactly `addr`, else to the wildcard. */
  findUdp(addr: IpAddress, port: number): SocketMeta<S> | null {
    return this.#findEndpoint(this.#udp, addr, port);
  }

  /** The ICMP socket bound to an echo identifier. */
  findIcmp(ident: number): SocketMeta<S> | null {
    return this.#icmp.get(ident) ?? null;
  }

  #findEndpoint(map: Buckets<S>, addr: IpAddress, port: number): SocketMeta<S> | null {
    for (let e = map.get(endpointHash(addr, port)) ?? null; e !== null; e = e.next) {
      if (e.lPort === port && e.lAddr.equals(addr)) return e;
    }
    const any = unspecifiedOf(addr.version);
    for (let e = map.get(endpointHash(any, port)) ?? null; e !== null; e = e.next) {
      if (e.lPort === port && e.lAddr.equals(any)) return e;
    }
    return null;
  }

  /** Whether a port is used by any TCP 4-tuple or listener, or by any UDP socket. */
  portInUse(protocol: PortProtocol, port: number): boolean {
    return (protocol === "tcp" ? this.#tcpPorts : this.#udpPorts)[port]! !== 0;
  }

  /**
   * A free ephemeral port (RFC 6056 §3.3.2: a random start in 49152–65535, then the next free
   * one), passing over ports `avoid` refuses while another free one exists; `EADDRNOTAVAIL` when
   * every one is in use.
   */
  allocatePort(protocol: PortProtocol, rng: Rng, avoid?: (port: number) => boolean): number {
    const use = protocol === "tcp" ? this.#tcpPorts : this.#udpPorts;
    const start = rng.below(EPHEMERAL_COUNT);
    let fallback = -1;
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_PORT_MIN + ((start + i) % EPHEMERAL_COUNT);
      if (use[port] !== 0) continue;
      if (avoid === undefined || !avoid(port)) return port;
      if (fallback < 0) fallback = port;
    }
    if (fallback >= 0) return fallback;
    throw new NetError(
      "EADDRNOTAVAIL",
      `No free ${protocol.toUpperCase()} ephemeral port in ${EPHEMERAL_PORT_MIN}-${EPHEMERAL_PORT_MAX}`,
    );
  }

  /** Indexes a connection under its 4-tuple; `EADDRINUSE` when taken. */
  indexTcp(e: SocketMeta<S>, local: IpEndpoint, remote: IpEndpoint): void {
    checkPort(local.port);
    checkPort(remote.port);
    const h = tupleHash(local.addr, local.port, remote.addr, remote.port);
    if (this.#findTcpHashed(h, local.addr, local.port, remote.addr, remote.port) !== null) {
      throw new NetError(
        "EADDRINUSE",
        `TCP 4-tuple ${formatEndpoint(local)} ${formatEndpoint(remote)} is in use`,
      );
    }
    e.lAddr = local.addr;
    e.lPort = local.port;
    e.rAddr = remote.addr;
    e.rPort = remote.port;
    e.hash = h;
    e.index = I_TUPLE;
    pushBucket(this.#tuples, e);
    this.#tcpPorts[local.port]!++;
  }

  /** Indexes a listener by local endpoint; `EADDRINUSE` when one overlaps it. */
  indexTcpListener(e: SocketMeta<S>, local: IpEndpoint): void {
    checkPort(local.port);
    if (this.#overlaps(this.#listeners, this.#tcpPorts, local.addr, local.port)) {
      throw new NetError("EADDRINUSE", `TCP endpoint ${formatEndpoint(local)} is in use`);
    }
    this.#indexEndpoint(this.#listeners, e, local, I_LISTEN);
    this.#tcpPorts[local.port]!++;
  }

  /** Indexes a UDP socket by local endpoint; `EADDRINUSE` when one overlaps it. */
  indexUdp(e: SocketMeta<S>, local: IpEndpoint): void {
    checkPort(local.port);
    if (this.#overlaps(this.#udp, this.#udpPorts, local.addr, local.port)) {
      throw new NetError("EADDRINUSE", `UDP endpoint ${formatEndpoint(local)} is in use`);
    }
    this.#indexEndpoint(this.#udp, e, local, I_UDP);
    this.#udpPorts[local.port]!++;
  }

  /** Indexes an ICMP socket by echo identifier; `EADDRINUSE` when taken. */
  indexIcmp(e: SocketMeta<S>, ident: number): void {
    if (this.#icmp.has(ident)) {
      throw new NetError("EADDRINUSE", `ICMP echo identifier ${ident} is in use`);
    }
    e.lPort = ident;
    e.index = I_ICMP;
    this.#icmp.set(ident, e);
  }

  /** Removes a record from whichever index holds it and frees its port. */
  unindex(e: SocketMeta<S>): void {
    switch (e.index) {
      case I_TUPLE:
        removeBucket(this.#tuples, e);
        this.#tcpPorts[e.lPort]!--;
        break;
      case I_LISTEN:
        removeBucket(this.#listeners, e);
        this.#tcpPorts[e.lPort]!--;
        break;
      case I_UDP:
        removeBucket(this.#udp, e);
        this.#udpPorts[e.lPort]!--;
        break;
      case I_ICMP:
        this.#icmp.delete(e.lPort);
        break;
    }
    e.index = I_NONE;
  }

  /** Same port and (same address, or either side the unspecified address of the family). */
  #overlaps(map: Buckets<S>, use: Uint16Array, addr: IpAddress, port: number): boolean {
    if (use[port] === 0) return false;
    if (addr.isUnspecified) {
      for (const first of map.values()) {
        for (let e: SocketMeta<S> | null = first; e !== null; e = e.next) {
          if (e.lPort === port && e.lAddr.version === addr.version) return true;
        }
      }
      return false;
    }
    return this.#findEndpoint(map, addr, port) !== null;
  }

  #indexEndpoint(map: Buckets<S>, e: SocketMeta<S>, local: IpEndpoint, index: number): void {
    e.lAddr = local.addr;
    e.lPort = local.port;
    e.hash = endpointHash(local.addr, local.port);
    e.index = index;
    pushBucket(map, e);
  }
}

function pushBucket<S>(map: Buckets<S>, e: SocketMeta<S>): void {
  e.next = map.get(e.hash) ?? null;
  map.set(e.hash, e);
}

function removeBucket<S>(map: Buckets<S>, e: SocketMeta<S>): void {
  const first = map.get(e.hash);
  if (first === e) {
    if (e.next === null) map.delete(e.hash);
    else map.set(e.hash, e.next);
  } else {
    for (let p = first ?? null; p !== null; p = p.next) {
      if (p.next === e) {
        p.next = e.next;
        break;
      }
    }
  }
  e.next = null;
}
