/**
 * `UdpSocket`: a UDP socket of a {@linkcode NetStack}, shaped like `Deno.DatagramConn`.
 *
 * @module
 */

import type { UdpSocket as CoreUdpSocket } from "../socket/udp.ts";
import type { IpEndpoint } from "../wire/address.ts";
import {
  checkAddress,
  checkBytes,
  checkOneOf,
  checkOptions,
  checkPort,
  checkString,
} from "../_validate.ts";
import type { Watcher } from "./driver.ts";
import { badResource } from "./errors.ts";
import { toNetAddr } from "./tcp_stream.ts";

/** What a UDP socket needs from its stack. */
export interface DatagramHost {
  /** Schedules a poll soon. */
  wake(): void;
  /** Settles this socket after each poll that reported its core socket changed. */
  watch(w: Watcher): void;
  /** Stops settling this socket. */
  unwatch(w: Watcher): void;
  /** Re-evaluates keep-alive after ref/unref. */
  refChanged(): void;
  /** Unregisters the core socket. */
  release(socket: CoreUdpSocket): void;
}

interface RecvWaiter {
  p: Uint8Array | undefined;
  resolve(v: [Uint8Array<ArrayBuffer>, Deno.NetAddr]): void;
  reject(e: unknown): void;
}

interface SendWaiter {
  p: Uint8Array;
  remote: IpEndpoint;
  resolve(n: number): void;
  reject(e: unknown): void;
}

const MAX_DATAGRAM = 65535;

/**
 * A bound UDP socket with the `Deno.DatagramConn` surface: `send`, `receive`, async iteration of
 * `[data, addr]`, `close()` and `addr`. Datagrams longer than the buffer passed to `receive` are
 * truncated, as with Deno; without a buffer the whole datagram is returned.
 *
 * Multicast membership is not supported yet: `joinMulticastV4/V6` reject with
 * `Deno.errors.NotSupported`.
 *
 * @example UDP echo between two stacks
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const server = s1.listenDatagram({ port: 7 });
 * const client = s2.listenDatagram({ port: 0 });
 * await client.send(new TextEncoder().encode("ping"), { transport: "udp", hostname: "192.0.2.1", port: 7 });
 * const [data, from] = await server.receive();
 * assert.equal(new TextDecoder().decode(data), "ping");
 * assert.deepEqual(from, { transport: "udp", hostname: "192.0.2.2", port: client.addr.port });
 * server.close();
 * client.close();
 * ```
 */
export class UdpSocket implements AsyncIterable<[Uint8Array<ArrayBuffer>, Deno.Addr]> {
  readonly #host: DatagramHost;
  readonly #socket: CoreUdpSocket;
  readonly #addr: Deno.NetAddr;
  readonly #recvs: RecvWaiter[] = [];
  readonly #sends: SendWaiter[] = [];
  #scratch: Uint8Array | null = null;
  #closed = false;
  #refed = true;

  /**
   * Wraps a bound core socket. Applications get sockets from `NetStack.listenDatagram`.
   *
   * @param host The stack.
   * @param socket The bound core socket.
   * @internal
   */
  constructor(host: DatagramHost, socket: CoreUdpSocket) {
    this.#host = host;
    this.#socket = socket;
    this.#addr = toNetAddr(socket.endpoint, "udp");
  }

  /** The bound address (`transport: "udp"`). */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /**
   * The core socket, as the key the stack's loop settles this socket by: after a poll that
   * received a datagram for it or sent from it, never after the others.
   *
   * @internal
   */
  get key(): object {
    return this.#socket;
  }

  /** Whether a pending receive keeps the process alive. */
  get refed(): boolean {
    return this.#refed;
  }

  /**
   * Queues one datagram to `addr`. Resolves with its length once it is in the send queue.
   *
   * @param p The payload.
   * @param addr The destination (`transport: "udp"`, an IP literal hostname).
   * @returns The number of bytes queued.
   * @throws {TypeError} When `p` is not a `Uint8Array`, or `addr` is not a UDP `NetAddr` with
   * an IP literal (as a rejection).
   * @throws {RangeError} When the port is out of 1–65535 or the datagram is too large.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const server = s1.listenDatagram({ port: 53 });
   * const udp = s2.listenDatagram({ port: 0 });
   * const to = { transport: "udp" as const, hostname: "192.0.2.1", port: 53 };
   * assert.equal(await udp.send(new Uint8Array(12), to), 12);
   * await assert.rejects(udp.send(new Uint8Array(1), { ...to, port: 0 }), RangeError);
   * await assert.rejects(udp.send(new Uint8Array(1), { ...to, hostname: "dns.example" }), TypeError);
   * const [data] = await server.receive();
   * assert.equal(data.length, 12);
   * server.close();
   * udp.close();
   * ```
   */
  send(p: Uint8Array, addr: Deno.Addr): Promise<number> {
    if (!this.#closed && !this.#socket.isOpen) this.close(); // closed by the core: expired
    if (this.#closed) return Promise.reject(badResource("Socket"));
    let remote: IpEndpoint;
    try {
      checkBytes("data", p);
      const a = checkOptions("addr", addr as Deno.NetAddr, true);
      checkOneOf("addr.transport", a.transport, ["udp"]);
      remote = {
        addr: checkAddress("addr.hostname", checkString("addr.hostname", a.hostname)),
        port: checkPort("addr.port", a.port, 1),
      };
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#sends.length === 0) {
      try {
        if (this.#socket.send(p, remote)) {
          this.#host.wake();
          return Promise.resolve(p.length);
        }
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise((resolve, reject) => {
      this.#sends.push({ p, remote, resolve, reject });
      this.#host.watch(this);
    });
  }

  /**
   * The next datagram and its sender.
   *
   * @param p Optional buffer; the result is a view of it (truncated to its length).
   * @returns `[data, addr]`.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const udp = s1.listenDatagram({ port: 7 });
   * const client = s2.listenDatagram({ port: 4000 });
   * await client.send(new Uint8Array([1, 2, 3, 4]), { transport: "udp", hostname: "192.0.2.1", port: 7 });
   * const buf = new Uint8Array(2);
   * const [data, from] = await udp.receive(buf);
   * assert.deepEqual([...data], [1, 2]); // truncated to the buffer, a view of it
   * assert.equal(data.buffer, buf.buffer);
   * assert.equal(from.port, 4000);
   * udp.close();
   * client.close();
   * ```
   */
  receive(p?: Uint8Array): Promise<[Uint8Array<ArrayBuffer>, Deno.NetAddr]> {
    if (!this.#closed && !this.#socket.isOpen) this.close(); // closed by the core: expired
    if (this.#closed) return Promise.reject(badResource("Socket"));
    if (p !== undefined) {
      try {
        checkBytes("buffer", p);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.#recvs.length === 0) {
      const r = this.#tryRecv(p);
      if (r !== null) return Promise.resolve(r);
    }
    return new Promise((resolve, reject) => {
      this.#recvs.push({ p, resolve, reject });
      this.#host.watch(this);
    });
  }

  /**
   * Not supported yet.
   *
   * @returns A rejected promise (`Deno.errors.NotSupported`).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const udp = stack.listenDatagram({ port: 5353 });
   * await assert.rejects(udp.joinMulticastV4("224.0.0.251", "0.0.0.0"), Deno.errors.NotSupported);
   * udp.close();
   * ```
   */
  joinMulticastV4(_address: string, _networkInterface: string): Promise<never> {
    return Promise.reject(
      new Deno.errors.NotSupported("Multicast membership is not supported yet"),
    );
  }

  /**
   * Not supported yet.
   *
   * @returns A rejected promise (`Deno.errors.NotSupported`).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["2001:db8::1/64"] });
   * const udp = stack.listenDatagram({ port: 5353, hostname: "::" });
   * await assert.rejects(udp.joinMulticastV6("ff02::fb", 0), Deno.errors.NotSupported);
   * udp.close();
   * ```
   */
  joinMulticastV6(_address: string, _networkInterface: number): Promise<never> {
    return Promise.reject(
      new Deno.errors.NotSupported("Multicast membership is not supported yet"),
    );
  }

  /**
   * Closes the socket; pending receives and sends reject with `BadResource`.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const udp = stack.listenDatagram({ port: 53 });
   * const pending = udp.receive();
   * udp.close();
   * await assert.rejects(pending, Deno.errors.BadResource);
   * assert.throws(() => udp.close(), Deno.errors.BadResource);
   * stack.listenDatagram({ port: 53 }).close(); // the port is free again
   * ```
   */
  close(): void {
    if (this.#closed) throw badResource("Socket");
    this.#closed = true;
    const err = badResource("Socket");
    for (const w of this.#recvs.splice(0)) w.reject(err);
    for (const w of this.#sends.splice(0)) w.reject(err);
    this.#host.unwatch(this);
    this.#socket.close();
    this.#host.release(this.#socket);
  }

  /**
   * Keeps the process alive while a receive is pending (the default).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const udp = stack.listenDatagram({ port: 53 });
   * udp.unref();
   * udp.ref();
   * assert.equal(udp.refed, true);
   * udp.close();
   * ```
   */
  ref(): void {
    this.#refed = true;
    this.#host.refChanged();
  }

  /**
   * Lets the process exit while a receive is pending.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [device] = linkPair();
   * await using stack = new NetStack({ device, addresses: ["192.0.2.1/24"] });
   * const udp = stack.listenDatagram({ port: 53 });
   * assert.equal(udp.refed, true);
   * udp.unref(); // a pending receive no longer keeps the process alive
   * assert.equal(udp.refed, false);
   * udp.close();
   * ```
   */
  unref(): void {
    this.#refed = false;
    this.#host.refChanged();
  }

  /**
   * Received datagrams until the socket closes.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const udp = s1.listenDatagram({ port: 9 });
   * const client = s2.listenDatagram({ port: 0 });
   * const to = { transport: "udp" as const, hostname: "192.0.2.1", port: 9 };
   * await client.send(new Uint8Array(1), to);
   * await client.send(new Uint8Array(2), to);
   * const sizes: number[] = [];
   * for await (const [data] of udp) {
   *   sizes.push(data.length);
   *   if (sizes.length === 2) udp.close(); // ends the loop
   * }
   * assert.deepEqual(sizes, [1, 2]);
   * client.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array<ArrayBuffer>, Deno.Addr]> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }

  /** Rejects every pending receive and send with `error`. */
  fail(error: Error): void {
    for (const w of this.#recvs.splice(0)) w.reject(error);
    for (const w of this.#sends.splice(0)) w.reject(error);
  }

  /** Settles pending receives and sends; returns whether any still wait. */
  settle(): boolean {
    if (!this.#socket.isOpen && !this.#closed) {
      // The core closed it (an accept-any UDP flow that expired): as if closed here.
      this.close();
      return false;
    }
    while (this.#recvs.length > 0) {
      let r: [Uint8Array<ArrayBuffer>, Deno.NetAddr] | null;
      try {
        r = this.#tryRecv(this.#recvs[0]!.p);
      } catch (e) {
        this.#recvs.shift()!.reject(e); // never out of the poll loop
        continue;
      }
      if (r === null) break;
      this.#recvs.shift()!.resolve(r);
    }
    while (this.#sends.length > 0) {
      const w = this.#sends[0]!;
      try {
        if (!this.#socket.send(w.p, w.remote)) break;
        this.#sends.shift();
        w.resolve(w.p.length);
        this.#host.wake();
      } catch (e) {
        this.#sends.shift();
        w.reject(e);
      }
    }
    return this.#recvs.length > 0 || this.#sends.length > 0;
  }

  #tryRecv(p: Uint8Array | undefined): [Uint8Array<ArrayBuffer>, Deno.NetAddr] | null {
    // Like an unconnected Linux UDP socket, ICMP errors are not reported to the application.
    this.#socket.takeError();
    if (p !== undefined) {
      const r = this.#socket.recv(p);
      if (r === null) return null;
      return [
        new Uint8Array(p.buffer as ArrayBuffer, p.byteOffset, r.length),
        toNetAddr(r.remote, "udp"),
      ];
    }
    this.#scratch ??= new Uint8Array(MAX_DATAGRAM);
    const r = this.#socket.recv(this.#scratch);
    if (r === null) return null;
    return [this.#scratch.slice(0, r.length), toNetAddr(r.remote, "udp")];
  }
}
