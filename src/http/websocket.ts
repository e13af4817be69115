// The WebSocket object (RFC 6455 data transfer and closing, WHATWG `WebSocket` surface).
import type { HttpConn } from "./conn.ts";
import { type BufReader, writeAll } from "./_reader.ts";
import {
  CloseCode,
  closePayload,
  decodeUtf8,
  encodeFrame,
  type FrameHead,
  Opcode,
  parseClosePayload,
  parseFrameHead,
  unmask,
  WsProtocolError,
} from "./_ws_frame.ts";

/**
 * Counters of one {@linkcode NetWebSocket}: messages and bytes of payload each way, pings and
 * pongs received, and protocol violations by the peer (each one closed the connection with
 * 1002, 1007 or 1009).
 *
 * @example
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket, type WebSocketStats } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   const { socket, response } = upgradeWebSocket(req);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/");
 * ws.onopen = () => ws.send("hi");
 * await new Promise((resolve) => ws.addEventListener("message", resolve));
 * const s: WebSocketStats = ws.stats;
 * assert.deepEqual(s, {
 *   messagesReceived: 1, messagesSent: 1, bytesReceived: 2, bytesSent: 2,
 *   pingsReceived: 0, pongsReceived: 0, protocolErrors: 0,
 * });
 * const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
 * ws.close(1000);
 * await closed;
 * await http.shutdown();
 * ```
 */
export interface WebSocketStats {
  /** Whole messages delivered to `onmessage`. */
  readonly messagesReceived: number;
  /** Messages queued by `send`. */
  readonly messagesSent: number;
  /** Payload bytes of the messages received. */
  readonly bytesReceived: number;
  /** Payload bytes of the messages sent. */
  readonly bytesSent: number;
  /** Pings received (each answered with a pong). */
  readonly pingsReceived: number;
  /** Pongs received. */
  readonly pongsReceived: number;
  /** Frames that broke RFC 6455 (the connection was failed with the matching close code). */
  readonly protocolErrors: number;
}

/**
 * Limits of a {@linkcode NetWebSocket}, taken by {@linkcode upgradeWebSocket} and
 * {@linkcode createWebSocket}.
 *
 * @example
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket, type WebSocketLimits } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const limits: WebSocketLimits = { maxMessageSize: 4, idleTimeout: 30 };
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   const { socket, response } = upgradeWebSocket(req, limits);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/");
 * ws.onopen = () => ws.send("too long");
 * const closed = await new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
 * assert.equal(closed.code, 1009); // the server refused a message over maxMessageSize
 * await http.shutdown();
 * ```
 */
export interface WebSocketLimits {
  /** Largest message (all fragments together) accepted, else close 1009 (default 16 MiB). */
  readonly maxMessageSize?: number;
  /**
   * Seconds without any frame from the peer before a ping is sent; as long again without an
   * answer and the connection is dropped (like `Deno.upgradeWebSocket`'s; default 120, 0: off).
   */
  readonly idleTimeout?: number;
}

/**
 * The events a {@linkcode NetWebSocket} fires, as for the WHATWG `WebSocket`.
 *
 * @example
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket, type NetWebSocketEventMap } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   const { socket, response } = upgradeWebSocket(req);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/");
 * const seen: (keyof NetWebSocketEventMap)[] = [];
 * const done = Promise.withResolvers<void>();
 * ws.addEventListener("open", (e) => { seen.push(e.type as "open"); ws.send("x"); });
 * ws.addEventListener("message", (e) => { seen.push(e.type as "message"); ws.close(1000); });
 * ws.addEventListener("close", (e) => { seen.push(e.type as "close"); done.resolve(); });
 * await done.promise;
 * assert.deepEqual(seen, ["open", "message", "close"]);
 * await http.shutdown();
 * ```
 */
export interface NetWebSocketEventMap {
  /** The handshake is done. */
  open: Event;
  /** A message arrived. */
  message: MessageEvent;
  /** The connection failed (an `ErrorEvent` with the reason). */
  error: Event;
  /** The connection is closed. */
  close: CloseEvent;
}

/** How long a started close handshake may take before the connection is dropped. */
const CLOSE_TIMEOUT = 5000;
const DEFAULT_MAX_MESSAGE = 16 << 20;
const utf8 = new TextEncoder();

type State = 0 | 1 | 2 | 3;

interface Side {
  /** A server's socket: expects masked frames, sends unmasked ones, closes TCP first. */
  server: boolean;
  url: string;
  limits: WebSocketLimits;
}

/** Internal hooks for the handshake code (kept off the public surface). */
export let attachSocket: (
  ws: NetWebSocket,
  conn: HttpConn,
  reader: BufReader,
  protocol: string,
) => void;
/** Fails a socket that never opened (handshake refused, dial failed). */
export let failHandshake: (ws: NetWebSocket, error: unknown) => void;
/** Closes with any wire code (the server's 1001 at shutdown). */
export let closeWith: (ws: NetWebSocket, code: number, reason: string) => void;
/** Settles once the socket is closed. */
export let closedOf: (ws: NetWebSocket) => Promise<void>;

/**
 * A WebSocket connection over a smolnet connection, shaped like the WHATWG `WebSocket`
 * (`readyState`, `send`, `close`, `binaryType`, `bufferedAmount`, `onopen` / `onmessage` /
 * `onerror` / `onclose` and the same events through `addEventListener`). It comes from
 * {@linkcode upgradeWebSocket} on the server side and {@linkcode createWebSocket} on the client
 * side.
 *
 * RFC 6455 is enforced on what arrives: a client's frames must be masked and a server's must
 * not (§5.1), reserved bits and opcodes, fragmented or long control frames and a stray
 * continuation are protocol errors (close 1002), text must be valid UTF-8 (1007), and a message
 * over `maxMessageSize` is refused (1009). Each of these is counted in
 * {@linkcode NetWebSocket.stats}, fires `error` and then `close` with `wasClean: false` and the
 * code sent. Pings are answered with pongs; the close handshake follows §7 (the server closes
 * TCP first).
 *
 * @example Echo between two stacks
 * ```ts
 * import { createWebSocket, serve, upgradeWebSocket } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
 * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const http = serve(server.listen({ port: 80 }), (req) => {
 *   const { socket, response } = upgradeWebSocket(req);
 *   socket.onmessage = (e) => socket.send(`echo ${e.data}`);
 *   return response;
 * });
 * const ws = createWebSocket(client, "ws://192.0.2.1/");
 * ws.onopen = () => ws.send("hi");
 * const reply = await new Promise((resolve) => ws.onmessage = (e) => resolve(e.data));
 * assert.equal(reply, "echo hi");
 * ws.close();
 * await new Promise((resolve) => ws.onclose = resolve);
 * await http.shutdown();
 * ```
 */
export class NetWebSocket extends EventTarget {
  /** The connection is not yet open. */
  static readonly CONNECTING = 0;
  /** The connection is open. */
  static readonly OPEN = 1;
  /** The close handshake has started. */
  static readonly CLOSING = 2;
  /** The connection is closed. */
  static readonly CLOSED = 3;
  /** The connection is not yet open. */
  readonly CONNECTING = 0;
  /** The connection is open. */
  readonly OPEN = 1;
  /** The close handshake has started. */
  readonly CLOSING = 2;
  /** The connection is closed. */
  readonly CLOSED = 3;

  readonly #side: Side;
  readonly #maxMessage: number;
  readonly #idleMs: number;
  #state: State = 0;
  #protocol = "";
  #binaryType: BinaryType = "blob";
  #conn: HttpConn | null = null;
  #writing: Promise<void> = Promise.resolve();
  #buffered = 0;
  #closeSent = false;
  #closeTimer: ReturnType<typeof setTimeout> | null = null;
  #idleTimer: ReturnType<typeof setInterval> | null = null;
  #lastRx = 0;
  #pingSent = false;
  #settleClosed!: () => void;
  readonly #closed: Promise<void>;
  readonly #stats = {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    pingsReceived: 0,
    pongsReceived: 0,
    protocolErrors: 0,
  };
  #onopen: ((this: NetWebSocket, ev: Event) => unknown) | null = null;
  #onmessage: ((this: NetWebSocket, ev: MessageEvent) => unknown) | null = null;
  #onerror: ((this: NetWebSocket, ev: Event) => unknown) | null = null;
  #onclose: ((this: NetWebSocket, ev: CloseEvent) => unknown) | null = null;

  static {
    attachSocket = (ws, conn, reader, protocol) => ws.#attach(conn, reader, protocol);
    failHandshake = (ws, error) => ws.#failHandshake(error);
    closeWith = (ws, code, reason) => ws.#close(code, reason);
    closedOf = (ws) => ws.#closed;
  }

  /**
   * Made by {@linkcode upgradeWebSocket} and {@linkcode createWebSocket}; not constructed
   * directly.
   *
   * @param url The URL of the connection.
   * @param server Whether this is the server's side.
   * @param limits Message size and idle limits.
   * @internal
   */
  constructor(url: string, server: boolean, limits: WebSocketLimits = {}) {
    super();
    this.#side = { server, url, limits };
    const max = limits.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Invalid maxMessageSize "${max}": expected a positive integer`);
    }
    const idle = limits.idleTimeout ?? 120;
    if (typeof idle !== "number" || !(idle >= 0) || idle === Infinity) {
      throw new RangeError(`Invalid idleTimeout "${idle}": expected a number of seconds >= 0`);
    }
    this.#maxMessage = max;
    this.#idleMs = idle * 1000;
    this.#closed = new Promise((resolve) => this.#settleClosed = resolve);
  }

  /** The URL: the request's on the server side, the one dialled on the client side. */
  get url(): string {
    return this.#side.url;
  }
  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): number {
    return this.#state;
  }
  /** The subprotocol agreed in the handshake, or `""`. */
  get protocol(): string {
    return this.#protocol;
  }
  /** Extensions in use: always `""` (none is negotiated). */
  get extensions(): string {
    return "";
  }
  /** Bytes queued by `send` and not yet handed to the connection. */
  get bufferedAmount(): number {
    return this.#buffered;
  }
  /** How binary messages are delivered: `"blob"` (the default) or `"arraybuffer"`. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(v: BinaryType) {
    if (v === "blob" || v === "arraybuffer") this.#binaryType = v;
  }
  /** Counters: messages, bytes, pings, pongs and protocol errors. */
  get stats(): WebSocketStats {
    return { ...this.#stats };
  }

  /** Called once the connection is open. */
  get onopen(): ((this: NetWebSocket, ev: Event) => unknown) | null {
    return this.#onopen;
  }
  set onopen(f: ((this: NetWebSocket, ev: Event) => unknown) | null) {
    this.#onopen = typeof f === "function" ? f : null;
  }
  /** Called with each message (`data` is a string, a Blob or an ArrayBuffer). */
  get onmessage(): ((this: NetWebSocket, ev: MessageEvent) => unknown) | null {
    return this.#onmessage;
  }
  set onmessage(f: ((this: NetWebSocket, ev: MessageEvent) => unknown) | null) {
    this.#onmessage = typeof f === "function" ? f : null;
  }
  /** Called when the connection fails (before `onclose`). */
  get onerror(): ((this: NetWebSocket, ev: Event) => unknown) | null {
    return this.#onerror;
  }
  set onerror(f: ((this: NetWebSocket, ev: Event) => unknown) | null) {
    this.#onerror = typeof f === "function" ? f : null;
  }
  /** Called once the connection is closed, with `code`, `reason` and `wasClean`. */
  get onclose(): ((this: NetWebSocket, ev: CloseEvent) => unknown) | null {
    return this.#onclose;
  }
  set onclose(f: ((this: NetWebSocket, ev: CloseEvent) => unknown) | null) {
    this.#onclose = typeof f === "function" ? f : null;
  }

  /**
   * Adds a listener; the event types of {@linkcode NetWebSocketEventMap} are typed.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   *
   * @example
   * ```ts
   * import { createWebSocket, serve, upgradeWebSocket } from "@smol/net/http";
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const http = serve(server.listen({ port: 80 }), (req) => {
   *   const { socket, response } = upgradeWebSocket(req);
   *   socket.onmessage = (e) => socket.send(e.data);
   *   return response;
   * });
   * const ws = createWebSocket(client, "ws://192.0.2.1/");
   * const echoed = new Promise<MessageEvent>((resolve) => ws.addEventListener("message", resolve, { once: true }));
   * ws.addEventListener("open", () => ws.send("hello"));
   * assert.equal((await echoed).data, "hello"); // e is a MessageEvent: the map types it
   * const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
   * ws.close(1000);
   * await closed;
   * await http.shutdown();
   * ```
   */
  override addEventListener<K extends keyof NetWebSocketEventMap>(
    type: K,
    listener: (this: NetWebSocket, ev: NetWebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   *
   * @example
   * ```ts
   * import { createWebSocket } from "@smol/net/http";
   * import assert from "node:assert/strict";
   * const offline = { connect: () => Promise.reject(new Error("offline")) };
   * const ws = createWebSocket(offline, "ws://192.0.2.1/chat");
   * const closed = new Promise<Event>((resolve) => ws.addEventListener("close", { handleEvent: resolve }));
   * assert.equal(((await closed) as CloseEvent).code, 1006); // the connection failed
   * ```
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Queues a message: a string goes as text, bytes (`ArrayBuffer`, a view, a `Blob`) as binary.
   * After the close handshake has started the data is dropped, as in the WHATWG API.
   *
   * @param data The message.
   * @throws {DOMException} `InvalidStateError` while still connecting.
   * @throws {TypeError} For data of another type.
   *
   * @example
   * ```ts
   * import { createWebSocket, serve, upgradeWebSocket } from "@smol/net/http";
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const http = serve(server.listen({ port: 80 }), (req) => {
   *   const { socket, response } = upgradeWebSocket(req);
   *   socket.onmessage = (e) => socket.send(e.data);
   *   return response;
   * });
   * const ws = createWebSocket(client, "ws://192.0.2.1/");
   * assert.throws(() => ws.send("too early"), DOMException); // still connecting
   * await new Promise((resolve) => ws.addEventListener("open", resolve));
   * const got: unknown[] = [];
   * const both = new Promise<void>((resolve) =>
   *   ws.addEventListener("message", (e) => got.push(e.data) === 2 && resolve())
   * );
   * ws.binaryType = "arraybuffer";
   * ws.send("text");
   * ws.send(new Uint8Array([1, 2, 3]));
   * await both;
   * assert.equal(got[0], "text");
   * assert.deepEqual(new Uint8Array(got[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
   * assert.equal(ws.stats.messagesSent, 2);
   * const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
   * ws.close(1000);
   * await closed;
   * await http.shutdown();
   * ```
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#state === 0) {
      throw new DOMException("The WebSocket is still connecting", "InvalidStateError");
    }
    let opcode: number;
    let payload: Uint8Array | Promise<Uint8Array>;
    if (typeof data === "string") {
      opcode = Opcode.Text;
      payload = utf8.encode(data);
    } else if (data instanceof Blob) {
      opcode = Opcode.Binary;
      payload = data.bytes();
    } else if (ArrayBuffer.isView(data)) {
      opcode = Opcode.Binary;
      payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) {
      opcode = Opcode.Binary;
      payload = new Uint8Array(data);
    } else {
      throw new TypeError("Invalid data: expected a string, bytes or a Blob");
    }
    if (this.#state !== 1) return;
    this.#stats.messagesSent++;
    if (payload instanceof Uint8Array) {
      this.#stats.bytesSent += payload.length;
      this.#send(encodeFrame(opcode, payload, !this.#side.server));
    } else {
      const bytes = payload;
      this.#enqueue(async () => {
        const b = await bytes;
        this.#stats.bytesSent += b.length;
        return encodeFrame(opcode, b, !this.#side.server);
      });
    }
  }

  /**
   * Starts the close handshake (RFC 6455 §7.1.2).
   *
   * @param code 1000 or 3000-4999 (default: none sent, the peer sees 1005).
   * @param reason At most 123 bytes of UTF-8.
   * @throws {DOMException} `InvalidAccessError` for another code, `SyntaxError` for a long reason.
   *
   * @example
   * ```ts
   * import { createWebSocket, serve, upgradeWebSocket } from "@smol/net/http";
   * import { linkPair, NetStack } from "@smol/net";
   * import assert from "node:assert/strict";
   * const [a, b] = linkPair();
   * await using server = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
   * await using client = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
   * const serverSaw = Promise.withResolvers<CloseEvent>();
   * const http = serve(server.listen({ port: 80 }), (req) => {
   *   const { socket, response } = upgradeWebSocket(req);
   *   socket.onmessage = (e) => socket.send(e.data);
   *   socket.onclose = (e) => serverSaw.resolve(e);
   *   return response;
   * });
   * const ws = createWebSocket(client, "ws://192.0.2.1/");
   * await new Promise((resolve) => ws.addEventListener("open", resolve));
   * assert.throws(() => ws.close(1001), DOMException); // only 1000 or 3000-4999
   * assert.throws(() => ws.close(1000, "x".repeat(124)), DOMException); // reason too long
   * const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
   * ws.close(1000, "done");
   * const e = await closed;
   * assert.equal(e.code, 1000);
   * assert.equal((await serverSaw.promise).reason, "done");
   * assert.equal(e.wasClean, true);
   * assert.equal(ws.readyState, ws.CLOSED);
   * await http.shutdown();
   * ```
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`Invalid close code "${code}"`, "InvalidAccessError");
    }
    const r = reason ?? "";
    if (utf8.encode(r).length > 123) {
      throw new DOMException("Invalid close reason: longer than 123 bytes", "SyntaxError");
    }
    this.#close(code ?? CloseCode.NoStatus, r);
  }

  #close(code: number, reason: string): void {
    if (this.#state === 0) {
      this.#failHandshake(new Error("Closed before the connection was open"));
      return;
    }
    if (this.#state !== 1) return;
    this.#state = 2;
    this.#sendClose(code, reason);
    this.#armCloseTimer();
  }

  /** Bounds the close handshake: a peer that stops reading or answering is dropped. */
  #armCloseTimer(): void {
    this.#closeTimer ??= setTimeout(
      () => this.#finish(CloseCode.Abnormal, "", false),
      CLOSE_TIMEOUT,
    );
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.#send(encodeFrame(Opcode.Close, closePayload(code, reason), !this.#side.server));
  }

  #send(frame: Uint8Array): void {
    this.#buffered += frame.length;
    const conn = this.#conn!;
    this.#writing = this.#writing.then(() => writeAll(conn, frame)).then(
      () => {
        this.#buffered -= frame.length;
      },
      () => {
        this.#buffered -= frame.length;
      },
    );
  }

  #enqueue(make: () => Promise<Uint8Array>): void {
    const conn = this.#conn!;
    this.#writing = this.#writing.then(async () => {
      const frame = await make();
      this.#buffered += frame.length;
      try {
        await writeAll(conn, frame);
      } finally {
        this.#buffered -= frame.length;
      }
    }).catch(() => {});
  }

  #emit<E extends Event>(event: E, handler: ((this: NetWebSocket, ev: E) => unknown) | null): void {
    if (handler !== null) {
      try {
        handler.call(this, event);
      } catch (e) {
        reportError(e);
      }
    }
    this.dispatchEvent(event);
  }

  #attach(conn: HttpConn, reader: BufReader, protocol: string): void {
    if (this.#state !== 0) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#protocol = protocol;
    this.#state = 1;
    this.#lastRx = Date.now();
    if (this.#idleMs > 0) {
      this.#idleTimer = setInterval(() => this.#checkIdle(), Math.max(10, this.#idleMs / 2));
      Deno.unrefTimer(this.#idleTimer);
    }
    this.#emit(new Event("open"), this.#onopen);
    this.#readLoop(reader);
  }

  #checkIdle(): void {
    const quiet = Date.now() - this.#lastRx;
    if (quiet < this.#idleMs || this.#state !== 1) return;
    if (!this.#pingSent) {
      this.#pingSent = true;
      this.#send(encodeFrame(Opcode.Ping, new Uint8Array(0), !this.#side.server));
    } else if (quiet >= 2 * this.#idleMs) {
      this.#finish(CloseCode.Abnormal, "No answer to a ping", false);
    }
  }

  #failHandshake(error: unknown): void {
    if (this.#state !== 0) return;
    this.#emit(new ErrorEvent("error", { message: String(error), error }), this.#onerror);
    this.#finish(CloseCode.Abnormal, "", false);
  }

  async #readLoop(r: BufReader): Promise<void> {
    const head: FrameHead = {
      fin: false,
      opcode: 0,
      masked: false,
      headLen: 0,
      payloadLen: 0,
      maskAt: 0,
    };
    const key = new Uint8Array(4);
    const server = this.#side.server;
    let parts: Uint8Array[] = [];
    let partsLen = 0;
    let partsOpcode = 0; // the opcode of the message being reassembled, 0 when none
    try {
      while (true) {
        let h: FrameHead | null;
        while ((h = parseFrameHead(r.buf, r.start, r.end, server, head)) === null) {
          if (!(await r.fill())) throw new ConnectionEnded();
        }
        if (h.masked) key.set(r.buf.subarray(h.maskAt, h.maskAt + 4));
        r.start += h.headLen;
        const op = h.opcode;
        const len = h.payloadLen;
        if (op < Opcode.Close) {
          // RFC 6455 §5.4: a continuation needs a message in progress, a new one needs none.
          if ((op === Opcode.Continuation) !== (partsOpcode !== 0)) {
            throw new WsProtocolError(
              CloseCode.ProtocolError,
              op === Opcode.Continuation ? "Continuation without a message" : "Message interleaved",
            );
          }
          if (partsLen + len > this.#maxMessage) {
            throw new WsProtocolError(CloseCode.TooBig, "Message too big");
          }
        }
        const payload = await readPayload(r, len);
        if (h.masked) unmask(payload, key, 0);
        this.#lastRx = Date.now();
        this.#pingSent = false;
        if (op >= Opcode.Close) {
          if (op === Opcode.Ping) {
            this.#stats.pingsReceived++;
            if (this.#state === 1) this.#send(encodeFrame(Opcode.Pong, payload, !server));
          } else if (op === Opcode.Pong) {
            this.#stats.pongsReceived++;
          } else {
            const { code, reason } = parseClosePayload(payload);
            // RFC 6455 §5.5.1: answer with a Close echoing the code, then the server closes TCP.
            this.#sendClose(code, "");
            this.#state = 2;
            await this.#endClean(r, code, reason);
            return;
          }
          continue;
        }
        if (op !== Opcode.Continuation) partsOpcode = op;
        if (!h.fin || parts.length > 0) {
          parts.push(payload);
          partsLen += len;
          if (!h.fin) continue;
        }
        const message = parts.length > 0 ? concat(parts, partsLen) : payload;
        const kind = partsOpcode;
        parts = [];
        partsLen = 0;
        partsOpcode = 0;
        this.#deliver(kind, message);
      }
    } catch (e) {
      if (e instanceof WsProtocolError) {
        this.#stats.protocolErrors++;
        // RFC 6455 §7.1.7: fail the connection: a Close with the code, then drop TCP.
        this.#emit(new ErrorEvent("error", { message: e.message, error: e }), this.#onerror);
        this.#state = 2;
        this.#sendClose(e.code, e.message.slice(0, 120));
        this.#armCloseTimer();
        await this.#writing;
        this.#finish(e.code, e.message, false);
      } else {
        this.#finish(CloseCode.Abnormal, "", false);
      }
    }
  }

  #deliver(opcode: number, message: Uint8Array): void {
    if (this.#state !== 1) return;
    this.#stats.messagesReceived++;
    this.#stats.bytesReceived += message.length;
    let data: string | ArrayBuffer | Blob;
    if (opcode === Opcode.Text) data = decodeUtf8(message);
    else if (this.#binaryType === "arraybuffer") data = message.buffer as ArrayBuffer;
    else data = new Blob([message as Uint8Array<ArrayBuffer>]);
    this.#emit(
      new MessageEvent("message", { data, origin: origin(this.#side.url) }),
      this.#onmessage,
    );
  }

  /** After both Close frames: the server drops TCP now, the client waits for it (§7.1.1). */
  async #endClean(r: BufReader, code: number, reason: string): Promise<void> {
    this.#armCloseTimer();
    await this.#writing;
    if (!this.#side.server) {
      try {
        while (await r.fill()) r.start = r.end;
      } catch { /* closed by the close timer, or reset */ }
    }
    this.#finish(code, reason, true);
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#state === 3) return;
    this.#state = 3;
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    if (this.#idleTimer !== null) clearInterval(this.#idleTimer);
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#emit(new CloseEvent("close", { code, reason, wasClean }), this.#onclose);
    this.#settleClosed();
  }
}

/** The peer closed the connection without a Close frame. */
class ConnectionEnded extends Error {}

/** Reads a payload of `len` bytes: what is buffered, then straight from the connection. */
async function readPayload(r: BufReader, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  let got = Math.min(len, r.available);
  out.set(r.buf.subarray(r.start, r.start + got));
  r.start += got;
  while (got < len) {
    if (len - got < 4096) {
      // Small rest: through the buffer, so the bytes after it stay buffered for the next head.
      if (!(await r.fill())) throw new ConnectionEnded();
      const n = Math.min(len - got, r.available);
      out.set(r.buf.subarray(r.start, r.start + n), got);
      r.start += n;
      got += n;
    } else {
      const n = await r.conn.read(out.subarray(got));
      if (n === null) throw new ConnectionEnded();
      got += n;
    }
  }
  return out;
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}
