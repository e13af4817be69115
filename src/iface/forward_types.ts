/**
 * The public option, mode and counter types of {@linkcode Forwarder} (in `forward.ts`, which
 * re-exports them).
 *
 * @module
 */

import type { NatTable } from "./nat.ts";
import type { NptOptions } from "./forward_npt.ts";
import type { ReassemblyOptions } from "./reassembly.ts";

/**
 * How strictly a packet's source is checked against the route back to it (RFC 3704 §2).
 *
 * @example
 * ```ts
 * import { Forwarder, Interface, type ReversePathMode, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * function forwardFrom(source: string, reversePath: ReversePathMode) {
 *   const [host, routerIn] = linkPair({ medium: "ip" });
 *   const [routerOut] = linkPair({ medium: "ip" });
 *   const a = new Interface({ addresses: [`${source}/24`], routes: [{ cidr: "0.0.0.0/0", via: null }], seed: 1 });
 *   const r0 = new Interface({ addresses: ["192.0.2.1/24"], seed: 2 });
 *   const r1 = new Interface({ addresses: ["198.51.100.1/24"], gateway4: "198.51.100.254", seed: 3 });
 *   const fwd = new Forwarder({ reversePath, allowDocumentation: true });
 *   fwd.attach(r0, routerIn);
 *   fwd.attach(r1, routerOut);
 *   const sa = new SocketSet(), none = new SocketSet(), tx = new UdpSocket();
 *   a.bindUdp(sa, tx, { addr: parseIpAddress(source), port: 5000 });
 *   tx.send(new Uint8Array(1), { addr: parseIpAddress("198.51.100.2"), port: 53 });
 *   for (let t = 0; t < 3; t++) {
 *     a.poll(t, host, sa); r0.poll(t, routerIn, none); r1.poll(t, routerOut, none);
 *   }
 *   return fwd.counters;
 * }
 * // The route back to 203.0.113.5 (the default route) leaves on interface 1, not 0.
 * const m: ReversePathMode = "strict";
 * assert.equal(forwardFrom("203.0.113.5", m).reversePath, 1);
 * assert.equal(forwardFrom("203.0.113.5", "loose").forwarded, 1); // some route back exists
 * ```
 */
export type ReversePathMode = "strict" | "loose" | "off";

/**
 * Options of {@linkcode Forwarder}.
 *
 * @example
 * ```ts
 * import { Forwarder, type ForwarderOptions, Interface, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * function send(options: ForwarderOptions) {
 *   const [host, routerIn] = linkPair({ medium: "ip" });
 *   const [routerOut] = linkPair({ medium: "ip" });
 *   const a = new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1", seed: 1 });
 *   const r0 = new Interface({ addresses: ["192.0.2.1/24"], seed: 2 });
 *   const r1 = new Interface({ addresses: ["198.51.100.1/24"], seed: 3 });
 *   const fwd = new Forwarder(options);
 *   fwd.attach(r0, routerIn);
 *   fwd.attach(r1, routerOut);
 *   const sa = new SocketSet(), none = new SocketSet(), tx = new UdpSocket();
 *   a.bindUdp(sa, tx, { addr: parseIpAddress("192.0.2.2"), port: 5000 });
 *   tx.send(new Uint8Array(1), { addr: parseIpAddress("198.51.100.2"), port: 53 });
 *   for (let t = 0; t < 3; t++) {
 *     a.poll(t, host, sa); r0.poll(t, routerIn, none); r1.poll(t, routerOut, none);
 *   }
 *   return fwd.counters;
 * }
 * const o: ForwarderOptions = { reversePath: "strict", allowDocumentation: true };
 * assert.equal(send(o).forwarded, 1);
 * assert.equal(send({}).martianSource, 1); // TEST-NET blocks are not forwardable by default
 * assert.throws(() => new Forwarder({ reversePath: "sometimes" as "off" }), TypeError);
 * ```
 */
export interface ForwarderOptions {
  /**
   * `"strict"`: the best route back to the source must leave on the interface the packet came
   * in on; `"loose"` (default): some route to the source must exist; `"off"`: no check.
   */
  readonly reversePath?: ReversePathMode;
  /**
   * Forward the documentation blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
   * 2001:db8::/32) like ordinary addresses, as labs and tests need; default `false` (RFC 6890
   * says they are not forwardable).
   */
  readonly allowDocumentation?: boolean;
  /**
   * Bounds of the reassembly of IPv4 fragments that pass through NAT (reassembled, translated,
   * then fragmented again to the outgoing MTU, as Linux's conntrack does): default 16 datagrams,
   * 256 KiB and 30 s. Fragments beyond them are dropped and counted as `natFragment`.
   */
  readonly natReassembly?: ReassemblyOptions;
}

/**
 * Options of {@linkcode Forwarder.attach}.
 *
 * @example
 * ```ts
 * import { Forwarder, type ForwardPortOptions, Interface } from "@smol/net/iface";
 * import { Loopback } from "@smol/net/phy";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const fwd = new Forwarder();
 * const o: ForwardPortOptions = { metric: 100 };
 * fwd.attach(new Interface({ addresses: ["192.0.2.1/24"], gateway4: "192.0.2.254" }), new Loopback(), o);
 * fwd.attach(new Interface({ addresses: ["198.51.100.1/24"], gateway4: "198.51.100.254" }), new Loopback());
 * assert.equal(fwd.lookup(parseIpAddress("203.0.113.1"))?.iface, 1); // metric 0 beats 100
 * assert.throws(() => fwd.attach(new Interface(), new Loopback(), { metric: -1 }), RangeError);
 * ```
 */
export interface ForwardPortOptions {
  /** The metric of the interface's own routes (its gateways); default 0. */
  readonly metric?: number;
  /**
   * Make this the outside of a NAPT: packets from other interfaces that leave here take the
   * table's external address and a mapped port; packets arriving for that address and a
   * mapped port are translated back and forwarded inside.
   */
  readonly nat?: NatTable;
  /**
   * Make this the outside of an NPTv6 (RFC 6296): IPv6 packets from other interfaces that leave
   * here with a source in `inside` take the `outside` prefix; packets arriving for an address
   * in `outside` are mapped back and forwarded inside. Stateless and checksum-neutral.
   */
  readonly npt?: NptOptions;
}

/**
 * The forwarder's counters: what it forwarded, and one counter per reason it dropped.
 *
 * @example
 * ```ts
 * import { Forwarder, Interface, SocketSet } from "@smol/net/iface";
 * import { linkPair } from "@smol/net/phy";
 * import { UdpSocket } from "@smol/net/socket";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const [host, routerIn] = linkPair({ medium: "ip" });
 * const a = new Interface({ addresses: ["192.0.2.2/24"], gateway4: "192.0.2.1", seed: 1 });
 * const r0 = new Interface({ addresses: ["192.0.2.1/24"], seed: 2 });
 * const fwd = new Forwarder({ allowDocumentation: true });
 * fwd.attach(r0, routerIn);
 * const sa = new SocketSet(), none = new SocketSet(), tx = new UdpSocket();
 * a.bindUdp(sa, tx, { addr: parseIpAddress("192.0.2.2"), port: 5000 });
 * tx.send(new Uint8Array(1), { addr: parseIpAddress("203.0.113.9"), port: 53 }); // no route there
 * for (let t = 0; t < 3; t++) { a.poll(t, host, sa); r0.poll(t, routerIn, none); }
 * assert.equal(fwd.counters.noRoute, 1);
 * assert.equal(fwd.counters.forwarded, 0);
 * ```
 */
export interface ForwardCounters {
  /** Packets sent on (fragmented ones count once). */
  forwarded: number;
  /** IPv4 packets without DF cut into fragments to fit the outgoing MTU. */
  fragmented: number;
  /**
   * TCP super-frames (coalesced by the ingress device, GRO) sent on whole to a device that
   * segments TCP itself (TSO); also counted in `forwarded`.
   */
  superFrames: number;
  /**
   * TCP super-frames (coalesced by the ingress device, GRO) cut into MTU-sized segments here,
   * because the outgoing device does not segment TCP (one count per super-frame).
   */
  segmented: number;
  /** NAT: packets translated inside→outside. */
  natOut: number;
  /** NAT: packets translated outside→inside. */
  natIn: number;
  /** Dropped: TTL / hop limit ≤ 1 (Time Exceeded sent). */
  ttlExceeded: number;
  /** Dropped: no route (Destination Unreachable sent). */
  noRoute: number;
  /** Dropped: the source is a special-purpose address that may not be a source or forwarded. */
  martianSource: number;
  /** Dropped: the destination is a special-purpose address that may not be forwarded. */
  martianDestination: number;
  /** Dropped: the source is one of the router's own addresses. */
  spoofedSource: number;
  /** Dropped: the source failed the reverse-path check. */
  reversePath: number;
  /** Dropped: unicast IP in a link-layer broadcast or multicast frame (RFC 1812 §5.3.4). */
  linkBroadcast: number;
  /** Dropped: to the broadcast address of a subnet of the outgoing interface (RFC 2644). */
  directedBroadcast: number;
  /** Dropped: larger than the outgoing MTU and may not be fragmented (ICMP sent). */
  tooBig: number;
  /** Dropped: the outgoing device had no room. */
  deviceFull: number;
  /** Dropped: NAT table full or no free port. */
  natRefused: number;
  /** Dropped: through NAT with a protocol or ICMP type it does not translate. */
  natUnsupported: number;
  /** NAT: IPv4 datagrams reassembled from fragments so they could be translated. */
  natReassembled: number;
  /**
   * Dropped: an IPv4 fragment through NAT that could not be reassembled (malformed, duplicate
   * or overlapping, evicted beyond the reassembly bound), or a datagram whose fragments timed
   * out (once per datagram).
   */
  natFragment: number;
  /** Dropped: through NAT with a truncated transport header. */
  natMalformed: number;
  /** NPTv6: IPv6 packets whose source took the outside prefix. */
  nptOut: number;
  /** NPTv6: IPv6 packets whose destination took the inside prefix. */
  nptIn: number;
  /**
   * Dropped: NPTv6 could not map the address (its subnet word, bits 48–63, is 0xffff, which has
   * no checksum-neutral image that maps back).
   */
  nptUntranslatable: number;
}
