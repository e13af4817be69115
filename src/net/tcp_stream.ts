/**
 * `TcpStream`: a TCP connection of a {@linkcode NetStack}, shaped like `Deno.TcpConn`.
 *
 * @module
 */

import type { TcpSocket } from "../socket/tcp/socket.ts";
import type { TcpInfo } from "../socket/tcp/stats.ts";
import { formatEndpoint, type IpEndpoint } from "../wire/address.ts";
import { badResource, coreError, netError } from "./errors.ts";
import { checkBoolean, checkBytes } from "../_validate.ts";
import type { Watcher } from "./driver.ts";
import { takeFirst } from "./_waiters.ts";

/** What a stream needs from its stack (kept narrow so streams stay testable). */
export interface StreamHost {
  /** Schedules a poll soon. */
  wake(): void;
  /** Starts or stops settling this stream after each poll. */
  watch(w: Watcher): void;
  /** Stops settling this stream. */
  unwatch(w: Watcher): void;
  /** Re-evaluates keep-alive after ref/unref. */
  refChanged(): void;
  /**
   * The application took received bytes from `socket`: polls soon only when that made a
   * segment due (the window opened by the core's update threshold); otherwise the socket's new
   * deadline joins the loop's without a poll.
   */
  consumed(socket: TcpSocket): void;
  /** Hands a socket the application has let go of to the stack, which keeps polling it until it is done. */
  release(socket: TcpSocket): void;
  /**
   * The stack's device failure, once its device has failed; else why `socket` was aborted when
   * the stack aborted it (its interface was removed), or `null`.
   */
  deviceError(socket?: TcpSocket): Error | null;
}

interface ReadWaiter {
  p: Uint8Array;
  resolve(n: number | null): void;
  reject(e: unknown): void;
}

interface WriteWaiter {
  p: Uint8Array;
  resolve(n: number): void;
  reject(e: unknown): void;
}

/** The waiter list of every stream with none yet (never pushed to: a stream makes its own). */
const NO_WAITERS: never[] = [];

/** Linux's defaults: probe after 2 h idle, every 75 s, give up after 9 unanswered probes. */
const DEFAULT_KEEPALIVE = { idle: 7_200_000, interval: 75_000, count: 9 } as const;

/** Converts an endpoint to Deno's `NetAddr`. */
export function toNetAddr(ep: IpEndpoint | null, transport: "tcp" | "udp"): Deno.NetAddr {
  return ep === null
    ? { transport, hostname: "0.0.0.0", port: 0 }
    : { transport, hostname: ep.addr.toString(), port: ep.port };
}

/**
 * A TCP connection with the whole `Deno.TcpConn` surface: `read` / `write`, `readable` (a byte
 * stream: BYOB readers work, and the receive window reopens as the consumer reads) and
 * `writable` (its `close()` half-closes with a FIN, unlike Deno's), `closeWrite()`, `close()`,
 * addresses, `setNoDelay()`, `setKeepAlive()`, `ref()` / `unref()` and disposal. It is also
 * async-iterable over received chunks.
 *
 * Failures are `Deno.errors.*`: `ConnectionReset` when the peer resets, `TimedOut` when
 * retransmissions or keep-alives give up, `BrokenPipe` for a write after `closeWrite()` or after
 * a reset, `BadResource` after `close()`. A stream from a Fast Open connect that resolved before
 * its handshake rejects its reads and writes with the connect's error when the handshake fails
 * (`ConnectionRefused`, `TimedOut`, `NetworkUnreachable`, or the signal's `AbortError`).
 *
 * @example Echo one message over an in-memory link
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const listener = server.listen({ port: 7 });
 * const accepted = listener.accept();
 * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
 * const peer = await accepted;
 * await conn.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * await peer.read(buf);
 * assert.equal(new TextDecoder().decode(buf), "hi");
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export class TcpStream implements Deno.TcpConn, AsyncIterable<Uint8Array> {
  readonly #host: StreamHost;
  readonly #socket: TcpSocket;
  /** The endpoints at construction, turned into `NetAddr`s on first use (most never are). */
  readonly #local: IpEndpoint | null;
  readonly #remote: IpEndpoint | null;
  #localAddr: Deno.NetAddr | null = null;
  #remoteAddr: Deno.NetAddr | null = null;
  /** Pending reads and writes; the shared empty list until the first one waits. */
  #reads: ReadWaiter[] = NO_WAITERS;
  #writes: WriteWaiter[] = NO_WAITERS;
  #closed = false;
  #writeClosed = false;
  #refed = true;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;
  /** Made before the handshake completed (a Fast Open connect): a failure is the connect's. */
  #connecting: boolean;

  /**
   * Wraps an open socket. Applications get streams from `NetStack.connect` and
   * `TcpListener.accept`, not from this constructor.
   *
   * @param host The stack that polls the socket.
   * @param socket A synchronized (or synchronizing) TCP socket.
   * @internal
   */
  constructor(host: StreamHost, socket: TcpSocket) {
    this.#host = host;
    this.#socket = socket;
    this.#local = socket.localEndpoint;
    this.#remote = socket.remoteEndpoint;
    this.#connecting = socket.state === "synSent";
  }

  /**
   * Tells a stream made before its handshake completed (a Fast Open connect) that it has
   * completed: later failures are the connection's, no longer the connect's.
   *
   * @internal
   */
  connected(): void {
    this.#connecting = false;
  }

  /** The local address (`transport: "tcp"`). */
  get localAddr(): Deno.NetAddr {
    return this.#localAddr ??= toNetAddr(this.#local, "tcp");
  }

  /** The remote address (`transport: "tcp"`). */
  get remoteAddr(): Deno.NetAddr {
    return this.#remoteAddr ??= toNetAddr(this.#remote, "tcp");
  }

  /**
   * The core socket, as the key the stack's loop settles this stream by.
   *
   * @internal
   */
  get key(): object {
    return this.#socket;
  }

  /** Whether this stream keeps the process alive while it waits. */
  get refed(): boolean {
    return this.#refed;
  }

  /**
   * The connection's state, timers and counters (state, SRTT, RTO, cwnd, MSS, bytes and
   * segments sent and received, retransmissions), like Linux's `TCP_INFO`. Live: read it again
   * for new values.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { linkPair, NetStack } from "@smol/net";
   *
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * assert.equal(conn.info.state, "established");
   * assert.equal(conn.info.mss, 1448); // 1500 - 20 (IPv4) - 20 (TCP) - 12 (timestamps)
   * (await listener.accept()).close();
   * conn.close();
   * listener.close();
   * ```
   */
  get info(): TcpInfo {
    return this.#socket.info;
  }

  /**
   * The core socket, for tests and code that imports the layer entry points
   * (`@smol/net/socket`).
   *
   * @internal
   */
  get socket(): TcpSocket {
    return this.#socket;
  }

  /**
   * Reads into `p`. Resolves to the number of bytes read, or `null` at end of stream (the
   * peer's FIN, after all its data). A read may fill less than `p`.
   *
   * @param p The buffer to fill.
   * @returns Bytes read, or `null` at EOF.
   * @throws {TypeError} When `p` is not a `Uint8Array` (as a rejection, like Deno).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * await peer.write(new Uint8Array([1, 2, 3]));
   * await peer.closeWrite();
   * const buf = new Uint8Array(1024);
   * assert.equal(await conn.read(buf), 3);
   * assert.equal(await conn.read(buf), null); // the peer's FIN
   * await assert.rejects(conn.read("x" as unknown as Uint8Array), TypeError);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.reject(badResource("Connection"));
    try {
      checkBytes("buffer", p);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#reads.length === 0) {
      try {
        const r = this.#tryRead(p);
        if (r !== undefined) return Promise.resolve(r);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise((resolve, reject) => {
      // The first wait makes the list at the size of one (a push onto `[]` reserves 17).
      if (this.#reads === NO_WAITERS) this.#reads = [{ p, resolve, reject }];
      else this.#reads.push({ p, resolve, reject });
      this.#host.watch(this);
    });
  }

  /**
   * Writes from `p`. Resolves once some bytes are in the send buffer, with their count (which
   * may be less than `p.length`): back-pressure is a pending promise, not unbounded memory.
   *
   * @param p The bytes to send.
   * @returns Bytes taken.
   * @throws {TypeError} When `p` is not a `Uint8Array` (as a rejection, like Deno: strings are
   * not encoded for you).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * const data = new Uint8Array(100_000).fill(7);
   * let off = 0;
   * while (off < data.length) off += await conn.write(data.subarray(off)); // may take part
   * await conn.closeWrite();
   * let got = 0;
   * for await (const chunk of peer) got += chunk.length;
   * assert.equal(got, data.length);
   * await assert.rejects(conn.write("text" as unknown as Uint8Array), TypeError);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(badResource("Connection"));
    try {
      checkBytes("data", p);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#writes.length === 0) {
      try {
        const r = this.#tryWrite(p);
        if (r !== undefined) return Promise.resolve(r);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise((resolve, reject) => {
      if (this.#writes === NO_WAITERS) this.#writes = [{ p, resolve, reject }];
      else this.#writes.push({ p, resolve, reject });
      this.#host.watch(this);
    });
  }

  /**
   * Half-closes: a FIN follows the data already written; reading goes on until the peer's FIN.
   *
   * @returns Resolves once the FIN is queued.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * await conn.closeWrite();
   * const buf = new Uint8Array(8);
   * assert.equal(await peer.read(buf), null); // the peer sees our FIN
   * await peer.write(new Uint8Array([9])); // and can still answer
   * assert.equal(await conn.read(buf), 1);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(badResource("Connection"));
    if (this.#writeClosed) return Promise.resolve();
    if (this.#socket.error !== null || this.#socket.state === "closed") {
      // Like shutdown(2) on a connection that is gone: ENOTCONN.
      return Promise.reject(
        netError("NotConnected", `Cannot close the write side to ${this.#peer()}: not connected`),
      );
    }
    this.#writeClosed = true;
    this.#socket.closeWrite();
    this.#host.wake();
    return Promise.resolve();
  }

  /**
   * Closes the connection: queued data and a FIN still go out (a RST instead when received data
   * was left unread, RFC 9293 §3.10.4); pending reads and writes reject with `BadResource`.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * const pending = conn.read(new Uint8Array(8));
   * conn.close();
   * await assert.rejects(pending, Deno.errors.BadResource);
   * assert.equal(await peer.read(new Uint8Array(8)), null); // a FIN, not a reset: nothing was unread
   * peer.close();
   * listener.close();
   * ```
   */
  close(): void {
    if (this.#closed) throw badResource("Connection");
    this.#closed = true;
    if (this.#reads.length > 0 || this.#writes.length > 0) {
      // An Error captures a stack: made only when a caller waits for it.
      const err = badResource("Connection");
      for (const w of this.#reads.splice(0)) w.reject(err);
      for (const w of this.#writes.splice(0)) w.reject(err);
    }
    this.#host.unwatch(this);
    this.#socket.close();
    this.#host.release(this.#socket);
    this.#host.wake();
  }

  /**
   * Turns Nagle's algorithm off (`true`, the default argument) or on.
   *
   * @param noDelay `true` sends small segments at once.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * conn.setNoDelay(); // small writes go out at once
   * await conn.write(new Uint8Array([1]));
   * assert.equal(await peer.read(new Uint8Array(8)), 1);
   * assert.throws(() => conn.setNoDelay("yes" as unknown as boolean), TypeError);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(checkBoolean("noDelay", noDelay));
  }

  /**
   * Turns keep-alive probes on (`true`, the default argument) or off, with the socket's
   * configured idle time, interval and count.
   *
   * @param keepAlive Whether to probe an idle connection.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * conn.setKeepAlive(true); // probes after 2 h idle, every 75 s, 9 times
   * conn.setKeepAlive(false);
   * assert.throws(() => conn.setKeepAlive(1 as unknown as boolean), TypeError);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(checkBoolean("keepAlive", keepAlive) ? DEFAULT_KEEPALIVE : null);
    this.#host.wake();
  }

  /**
   * Keeps the process alive while this connection waits (the default).
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * conn.unref();
   * conn.ref();
   * assert.equal(conn.refed, true);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  ref(): void {
    this.#refed = true;
    this.#host.refChanged();
  }

  /**
   * Lets the process exit even while this connection waits.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * assert.equal(conn.refed, true);
   * conn.unref(); // a pending read no longer keeps the process alive
   * assert.equal(conn.refed, false);
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  unref(): void {
    this.#refed = false;
    this.#host.refChanged();
  }

  /** Closes the connection if still open. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /**
   * The received bytes as a byte stream (BYOB readers supported). Reaching its end does not
   * close the write side; cancelling it closes the connection.
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#readable === null) {
      this.#readable = new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: 16 * 1024,
        pull: async (controller) => {
          const req = controller.byobRequest!;
          const view = req.view!;
          const n = await this.read(
            new Uint8Array(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength),
          );
          if (n === null) {
            controller.close();
            req.respond(0);
          } else {
            req.respond(n);
          }
        },
        cancel: () => {
          if (!this.#closed) this.close();
        },
      });
    }
    return this.#readable;
  }

  /** The byte sink. Its `close()` half-closes with a FIN; `abort()` closes the connection. */
  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === null) {
      this.#writable = new WritableStream<Uint8Array>({
        write: async (chunk) => {
          let off = 0;
          while (off < chunk.length) off += await this.write(chunk.subarray(off));
        },
        close: () => this.closeWrite(),
        abort: () => {
          if (!this.#closed) this.close();
        },
      });
    }
    return this.#writable;
  }

  /**
   * Received chunks (each a fresh copy) until the peer's FIN.
   *
   * @example
   * ```ts
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const listener = server.listen({ port: 7 });
   * const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
   * const peer = await listener.accept();
   * await peer.write(new TextEncoder().encode("hello"));
   * await peer.closeWrite();
   * let text = "";
   * for await (const chunk of conn) text += new TextDecoder().decode(chunk);
   * assert.equal(text, "hello"); // until the peer's FIN
   * conn.close();
   * peer.close();
   * listener.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const buf = new Uint8Array(16 * 1024);
    while (true) {
      const n = await this.read(buf);
      if (n === null) return;
      if (n > 0) yield buf.slice(0, n);
    }
  }

  /** Rejects every pending read and write with `error`. */
  fail(error: Error): void {
    for (const w of this.#reads.splice(0)) w.reject(error);
    for (const w of this.#writes.splice(0)) w.reject(error);
  }

  /** Settles waiting reads and writes; returns whether any still wait. */
  settle(): boolean {
    while (this.#reads.length > 0) {
      const w = this.#reads[0]!;
      let r: number | null | undefined;
      try {
        r = this.#tryRead(w.p);
      } catch (e) {
        takeFirst(this.#reads);
        w.reject(e);
        continue;
      }
      if (r === undefined) break;
      takeFirst(this.#reads);
      w.resolve(r);
    }
    while (this.#writes.length > 0) {
      const w = this.#writes[0]!;
      let r: number | undefined;
      try {
        r = this.#tryWrite(w.p);
      } catch (e) {
        takeFirst(this.#writes);
        w.reject(e);
        continue;
      }
      if (r === undefined) break;
      takeFirst(this.#writes);
      w.resolve(r);
    }
    return this.#reads.length > 0 || this.#writes.length > 0;
  }

  /** A read now: a count, `null` at EOF, `undefined` when it would block; throws on failure. */
  #tryRead(p: Uint8Array): number | null | undefined {
    const s = this.#socket;
    if (p.length === 0) return 0;
    if (s.canRecv) {
      const n = s.recv(p);
      // A poll only when the window opened enough for an update (receiver SWS avoidance).
      this.#host.consumed(s);
      return n;
    }
    const err = this.#socketError();
    if (err !== null) throw err;
    if (!s.mayRecv) return null;
    return undefined;
  }

  /** A write now: a count, or `undefined` when it would block; throws on failure. */
  #tryWrite(p: Uint8Array): number | undefined {
    const s = this.#socket;
    if (this.#writeClosed) {
      throw netError("BrokenPipe", `Cannot write to ${this.#peer()}: the write side is closed`);
    }
    const err = this.#socketError();
    if (err !== null) {
      // A handshake that failed after a Fast Open connect resolved: the connect's error, as
      // Linux's first write after TCP_FASTOPEN_CONNECT.
      if (this.#connecting) throw err;
      throw netError("BrokenPipe", `Cannot write to ${this.#peer()}: ${err.message}`);
    }
    if (!s.maySend) {
      throw netError("BrokenPipe", `Cannot write to ${this.#peer()}: connection closed`);
    }
    if (p.length === 0) return 0;
    if (!s.canSend) return undefined;
    const n = s.send(p);
    if (n === 0) return undefined;
    this.#host.wake();
    return n;
  }

  #peer(): string {
    const ep = this.#socket.remoteEndpoint;
    return ep === null ? "peer" : formatEndpoint(ep);
  }

  #socketError(): Error | null {
    const error = this.#socket.error;
    // A socket aborted because the device failed reports the device's failure.
    if (error === "aborted") {
      const deviceError = this.#host.deviceError(this.#socket);
      if (deviceError !== null) return deviceError;
    }
    if (error === null) return null;
    const what = this.#connecting ? "Cannot connect to" : "Connection to";
    return coreError(error, `${what} ${this.#peer()}`);
  }
}
