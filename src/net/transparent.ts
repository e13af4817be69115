/**
 * Transparent termination in the async layer: a {@linkcode NetStack} made with `acceptAny`
 * takes TCP connections and UDP flows to every address and port that enters its device (and the
 * devices of interfaces added with `acceptAny`: one transparent listener serves them all, and
 * each flow answers through the interface it came in on).
 * `stack.listen({ transparent: true })` returns a `TcpListener` whose accepted streams have
 * `localAddr` = the original destination, and `stack.listenDatagram({ transparent: true })`
 * returns a {@linkcode UdpFlowListener} whose accepted `UdpSocket`s are one client's flow each,
 * with `addr` = the original destination. This is what a tun2socks-style proxy or a traffic
 * recorder needs (see `examples/tun2proxy.ts`).
 *
 * @module
 */

import type { AcceptAny, AcceptAnyOptions } from "../iface/accept_any.ts";
import type { SocketSet } from "../iface/socket_set.ts";
import type { TcpSocketOptions } from "../socket/tcp/config.ts";
import { checkOptions } from "../_validate.ts";
import { checkBacklog } from "./_options.ts";
import { type ListenerHost, TcpListener } from "./tcp_listener.ts";
import type { DatagramHost, UdpSocket } from "./udp_socket.ts";
import type { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import { toNetAddr } from "./tcp_stream.ts";
import { AcceptQueue } from "./_accept_queue.ts";

/**
 * Options of a transparent `NetStack.listen`: every TCP connection that enters the stack's
 * device, whatever its destination, unless an ordinary listener takes it.
 *
 * @example Accept a connection to an address the stack does not own
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [a, b] = linkPair();
 * await using proxy = new NetStack({ device: a, addresses: ["192.0.2.1/24"],
 *   acceptAny: { allowDocumentation: true } });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
 * const listener = proxy.listen({ transparent: true, tcpBacklog: 1024 });
 * const conn = await client.connect({ hostname: "198.51.100.80", port: 8080 });
 * const peer = await listener.accept();
 * assert.deepEqual(peer.localAddr, { transport: "tcp", hostname: "198.51.100.80", port: 8080 });
 * assert.equal(peer.remoteAddr.hostname, "192.0.2.2");
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export interface TransparentListenOptions {
  /** Listen on every address and port. */
  readonly transparent: true;
  /** Accept queue length, 1–65535 (default: the stack's `backlog`). */
  readonly tcpBacklog?: number;
  /** Half-open connections kept, 1–65535 (default 1024); SYN cookies answer beyond it. */
  readonly synQueue?: number;
}

/**
 * Options of a transparent `NetStack.listenDatagram`: every UDP flow that enters the stack's
 * device and that no bound socket takes.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack, type TransparentDatagramOptions } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using proxy = new NetStack({ device, addresses: ["192.0.2.1/24"], acceptAny: true });
 * const options: TransparentDatagramOptions = { transparent: true };
 * const flows = proxy.listenDatagram(options);
 * assert.deepEqual(flows.addr, { transport: "udp", hostname: "0.0.0.0", port: 0 }); // the wildcard
 * flows.close();
 * ```
 */
export interface TransparentDatagramOptions {
  /** Receive for every address and port. */
  readonly transparent: true;
  /** Only `"udp"`. */
  readonly transport?: "udp";
}

/** Whether listen options ask for transparent termination. */
export function isTransparent(options: unknown): boolean {
  return typeof options === "object" && options !== null &&
    (options as { transparent?: unknown }).transparent === true;
}

/** The interface setting for the stack option `acceptAny`. */
export function acceptAnyConfig(
  value: AcceptAnyOptions | boolean | undefined,
): { acceptAny?: AcceptAnyOptions } {
  if (value === undefined || value === false) return {};
  if (value === true) return { acceptAny: {} };
  return { acceptAny: checkOptions("acceptAny", value) };
}

function checkAny(anys: readonly AcceptAny[]): void {
  if (anys.length === 0) {
    throw new TypeError(
      "Cannot listen transparently: the stack was made without the acceptAny option",
    );
  }
}

/**
 * `NetStack.listen({ transparent: true })`: one listener shared by the accept-any state of every
 * interface in `anys` (interfaces added later join it, see `joinTransparent`).
 */
export function listenTransparentTcp(
  anys: readonly AcceptAny[],
  host: ListenerHost,
  options: TransparentListenOptions,
  tcp: TcpSocketOptions,
  backlog: number,
): TcpListener {
  checkAny(anys);
  const o = checkOptions("options", options, true);
  const b = o.tcpBacklog !== undefined ? checkBacklog("tcpBacklog", o.tcpBacklog) : backlog;
  const synQueue = o.synQueue !== undefined ? checkBacklog("synQueue", o.synQueue) : 1024;
  if (anys.some((a) => a.tcpListener !== null)) {
    throw new Deno.errors.AddrInUse(
      "Cannot listen transparently: a transparent TCP listener is already open",
    );
  }
  const core = anys[0]!.listenTcp({ backlog: b, synQueue, socket: tcp });
  for (let i = 1; i < anys.length; i++) anys[i]!.listenTcp({ listener: core });
  // The accept-any listener is not in the socket set: its waiters are asked after every poll.
  return new TcpListener(host, core, { inSocketSet: false });
}

/**
 * An interface added to a stack with accept-any on: it joins the transparent TCP listener and
 * the UDP flow listener that are open on the stack's other interfaces (`others`).
 */
export function joinTransparent(any: AcceptAny, others: readonly AcceptAny[]): void {
  for (const o of others) {
    const l = o.tcpListener;
    if (l !== null) {
      any.listenTcp({ listener: l });
      break;
    }
  }
  if (others.some((o) => o.udpListening)) any.listenUdp();
}

/** `NetStack.listenDatagram({ transparent: true })`. */
export function listenTransparentUdp(
  anys: () => readonly AcceptAny[],
  sockets: SocketSet,
  host: FlowHost,
  options: TransparentDatagramOptions,
): UdpFlowListener {
  const all = anys();
  checkAny(all);
  const o = checkOptions("options", options, true);
  if (o.transport !== undefined && o.transport !== "udp") {
    throw new TypeError(`Invalid transport "${o.transport}": expected "udp"`);
  }
  if (all.some((a) => a.udpListening)) {
    throw new Deno.errors.AddrInUse("Cannot listen transparently: UDP flows are already taken");
  }
  for (const a of all) a.listenUdp();
  return new UdpFlowListener(anys, sockets, host);
}

/** What a flow listener needs from its stack. */
export interface FlowHost extends Omit<DatagramHost, "release"> {
  /** Wraps a flow's core socket for the application (and tracks it until it closes). */
  wrap(socket: CoreUdpSocket): UdpSocket;
}

/**
 * Hands out the UDP flows a stack in accept-any mode terminates, one `UdpSocket` per client
 * 4-tuple: its `addr` is the original destination, `receive()` yields the client's datagrams
 * and `send(data, clientAddr)` answers from the original destination. A flow closes after the
 * stack's `acceptAny.udpIdleTimeout` without a datagram from the client: its pending and later
 * `receive()` calls then reject with `BadResource` and its iteration ends.
 *
 * @example A flow to an address the stack does not own
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkPair, NetStack } from "@smol/net";
 *
 * const [a, b] = linkPair();
 * await using proxy = new NetStack({ device: a, addresses: ["192.0.2.1/24"],
 *   acceptAny: { allowDocumentation: true } });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
 * const flows = proxy.listenDatagram({ transparent: true });
 * const udp = client.listenDatagram({ port: 5353 });
 * await udp.send(new TextEncoder().encode("q"), { transport: "udp", hostname: "198.51.100.53", port: 53 });
 * const flow = await flows.accept();
 * assert.deepEqual(flow.addr, { transport: "udp", hostname: "198.51.100.53", port: 53 });
 * const [query, from] = await flow.receive();
 * assert.equal(new TextDecoder().decode(query), "q");
 * await flow.send(new TextEncoder().encode("a"), from);
 * const [answer, server] = await udp.receive();
 * assert.equal(new TextDecoder().decode(answer), "a");
 * assert.equal(server.hostname, "198.51.100.53");
 * flow.close();
 * flows.close();
 * udp.close();
 * ```
 */
export class UdpFlowListener implements AsyncIterable<UdpSocket> {
  readonly #anys: () => readonly AcceptAny[];
  readonly #sockets: SocketSet;
  readonly #host: FlowHost;
  readonly #queue: AcceptQueue<UdpSocket>;

  /**
   * Wraps the accept-any state of a stack. Applications get one from
   * `NetStack.listenDatagram({ transparent: true })`.
   *
   * @param anys The accept-any state of the stack's interfaces, already taking UDP.
   * @param sockets The stack's socket set.
   * @param host The stack.
   * @internal
   */
  constructor(anys: () => readonly AcceptAny[], sockets: SocketSet, host: FlowHost) {
    this.#anys = anys;
    this.#sockets = sockets;
    this.#host = host;
    this.#queue = new AcceptQueue(host, this, () => {
      for (const any of anys()) {
        const flow = any.acceptUdp();
        if (flow !== null) return host.wrap(flow.socket);
      }
      return null;
    });
  }

  /** Whether a pending accept keeps the process alive. */
  get refed(): boolean {
    return this.#queue.refed;
  }

  /** The wildcard address (`0.0.0.0:0`, `transport: "udp"`). */
  get addr(): Deno.NetAddr {
    return toNetAddr(null, "udp");
  }

  /**
   * The next new flow.
   *
   * @returns The flow's socket.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using proxy = new NetStack({ device: a, addresses: ["192.0.2.1/24"],
   *   acceptAny: { allowDocumentation: true } });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
   * const flows = proxy.listenDatagram({ transparent: true });
   * const udp = client.listenDatagram({ port: 5353 });
   * const to = { transport: "udp" as const, hostname: "198.51.100.53", port: 53 };
   * await udp.send(new Uint8Array(1), to);
   * const flow = await flows.accept();
   * assert.deepEqual(flow.addr, to); // the original destination
   * const [, from] = await flow.receive();
   * assert.deepEqual(from, { transport: "udp", hostname: "192.0.2.2", port: 5353 });
   * flow.close();
   * flows.close();
   * udp.close();
   * ```
   */
  accept(): Promise<UdpSocket> {
    return this.#queue.accept();
  }

  /**
   * Stops taking new flows: pending accepts reject with `BadResource`, flows not yet accepted
   * are closed; accepted flows stay open.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using proxy = new NetStack({ device, addresses: ["192.0.2.1/24"], acceptAny: true });
   * const flows = proxy.listenDatagram({ transparent: true });
   * const pending = flows.accept();
   * flows.close();
   * await assert.rejects(pending, Deno.errors.BadResource);
   * proxy.listenDatagram({ transparent: true }).close(); // it can be opened again
   * ```
   */
  close(): void {
    this.#queue.close();
    for (const any of this.#anys()) any.unlistenUdp(this.#sockets);
    this.#host.wake();
  }

  /**
   * Keeps the process alive while an accept is pending (the default).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using proxy = new NetStack({ device, addresses: ["192.0.2.1/24"], acceptAny: true });
   * const flows = proxy.listenDatagram({ transparent: true });
   * flows.unref();
   * flows.ref();
   * assert.equal(flows.refed, true);
   * flows.close();
   * ```
   */
  ref(): void {
    this.#queue.setRefed(true);
  }

  /**
   * Lets the process exit while an accept is pending.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using proxy = new NetStack({ device, addresses: ["192.0.2.1/24"], acceptAny: true });
   * const flows = proxy.listenDatagram({ transparent: true });
   * assert.equal(flows.refed, true);
   * flows.unref(); // a pending accept no longer keeps the process alive
   * assert.equal(flows.refed, false);
   * flows.close();
   * ```
   */
  unref(): void {
    this.#queue.setRefed(false);
  }

  /** Closes the listener if still open. */
  [Symbol.dispose](): void {
    if (!this.#queue.closed) this.close();
  }

  /**
   * Accepted flows until the listener closes.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using proxy = new NetStack({ device: a, addresses: ["192.0.2.1/24"],
   *   acceptAny: { allowDocumentation: true } });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"], gateways: ["192.0.2.1"] });
   * const flows = proxy.listenDatagram({ transparent: true });
   * const udp = client.listenDatagram({ port: 5353 });
   * await udp.send(new Uint8Array(1), { transport: "udp", hostname: "198.51.100.53", port: 53 });
   * await udp.send(new Uint8Array(1), { transport: "udp", hostname: "198.51.100.54", port: 53 });
   * const seen: string[] = [];
   * for await (const flow of flows) {
   *   seen.push(flow.addr.hostname);
   *   flow.close();
   *   if (seen.length === 2) flows.close(); // ends the loop
   * }
   * assert.deepEqual(seen, ["198.51.100.53", "198.51.100.54"]);
   * udp.close();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<UdpSocket> {
    return this.#queue.items();
  }

  /**
   * Rejects every pending accept with `error`.
   *
   * @param error The failure.
   * @internal
   */
  fail(error: Error): void {
    this.#queue.fail(error);
  }

  /**
   * Settles pending accepts; returns whether any still wait.
   *
   * @returns `true` while an accept waits.
   * @internal
   */
  settle(): boolean {
    return this.#queue.settle();
  }
}
