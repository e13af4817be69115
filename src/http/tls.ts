// TLS over any HttpConn through node:tls (Deno.startTls needs a kernel resource; node:tls runs
// over a node:stream Duplex that wraps our connection).
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import type { HttpConn } from "./conn.ts";

/**
 * Options of {@linkcode startTls}. A client gives `hostname` (and `caCerts` to trust other
 * roots than the system's); a server gives `cert` and `key`.
 *
 * @example
 * ```ts
 * import { startTls, type StartTlsOptions } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const closed = {
 *   read: () => Promise.resolve(null),
 *   write: (p: Uint8Array) => Promise.resolve(p.length),
 *   close: () => {},
 *   localAddr: { transport: "tcp", hostname: "192.0.2.2", port: 50000 },
 *   remoteAddr: { transport: "tcp", hostname: "192.0.2.1", port: 443 },
 * } as const;
 * const client: StartTlsOptions = { hostname: "example.test", caCerts: [] };
 * await assert.rejects(startTls(closed, client)); // the peer closed before the handshake
 * const halfServer: StartTlsOptions = { cert: "-----BEGIN CERTIFICATE-----" };
 * await assert.rejects(startTls(closed, halfServer), TypeError); // cert and key go together
 * ```
 */
export interface StartTlsOptions {
  /** Client: the server's name, checked against its certificate (and sent as SNI). */
  readonly hostname?: string;
  /** Client: PEM certificates to trust instead of the default roots. */
  readonly caCerts?: readonly string[];
  /** Server: the PEM certificate chain. */
  readonly cert?: string;
  /** Server: the PEM private key. */
  readonly key?: string;
  /** ALPN protocols to offer (client) or accept (server). */
  readonly alpnProtocols?: readonly string[];
}

/**
 * Runs TLS over `conn` and returns the encrypted connection, with the same shape (like
 * `Deno.startTls`, which cannot take a userspace connection). With `cert` and `key` it is the
 * server side, else the client side, which verifies the peer's certificate and name.
 * It uses `node:tls` over a `node:stream` Duplex wrapping `conn`.
 *
 * @param conn The plain connection (a smolnet `TcpStream`, or any {@linkcode HttpConn}).
 * @param options Host name and trusted roots (client), or certificate and key (server).
 * @returns The TLS connection, once the handshake is done.
 *
 * @example A client whose handshake fails: the peer closes at once
 * ```ts
 * import { startTls } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const closed = {
 *   read: () => Promise.resolve(null),
 *   write: (p: Uint8Array) => Promise.resolve(p.length),
 *   close: () => {},
 *   localAddr: { transport: "tcp", hostname: "192.0.2.2", port: 50000 },
 *   remoteAddr: { transport: "tcp", hostname: "192.0.2.1", port: 443 },
 * } as const;
 * await assert.rejects(startTls(closed, { hostname: "192.0.2.1" }));
 * ```
 */
export function startTls(conn: HttpConn, options: StartTlsOptions = {}): Promise<HttpConn> {
  const server = options.cert !== undefined || options.key !== undefined;
  if (server && (options.cert === undefined || options.key === undefined)) {
    return Promise.reject(new TypeError("Invalid TLS options: cert and key go together"));
  }
  const alpn = options.alpnProtocols === undefined ? {} : {
    ALPNProtocols: [...options.alpnProtocols],
  };
  const duplex = duplexOf(conn);
  return new Promise<HttpConn>((resolve, reject) => {
    let socket: tls.TLSSocket;
    let settled = false;
    const fail = (e: Error) => {
      settled = true;
      socket?.destroy();
      reject(e);
    };
    if (server) {
      socket = new tls.TLSSocket(duplex, {
        isServer: true,
        secureContext: tls.createSecureContext({ cert: options.cert!, key: options.key! }),
        ...alpn,
      });
      socket.once("secure", () => {
        settled = true;
        socket.off("error", fail);
        resolve(new TlsConn(socket, conn));
      });
    } else {
      const host = options.hostname ?? hostOf(conn.remoteAddr);
      const isIp = /^[0-9.]+$|:/.test(host);
      socket = tls.connect({
        socket: duplex,
        host,
        ...(isIp ? {} : { servername: host }),
        ...(options.caCerts !== undefined ? { ca: [...options.caCerts] } : {}),
        ...alpn,
      });
      socket.once("secureConnect", () => {
        settled = true;
        socket.off("error", fail);
        resolve(new TlsConn(socket, conn));
      });
    }
    socket.once("error", fail);
    const ended = () => {
      if (!settled) fail(new Deno.errors.ConnectionReset("Connection closed in the TLS handshake"));
    };
    socket.once("end", ended);
    socket.once("close", ended);
  });
}

function hostOf(addr: Deno.Addr): string {
  return "hostname" in addr ? addr.hostname : "localhost";
}

/**
 * A `node:stream` Duplex over a connection, with the `net.Socket` methods node:tls and node:http
 * call. Internal (the entry point does not export it); `bench/http.ts` feeds node:http with it.
 */
export function duplexOf(conn: HttpConn): Duplex {
  const buf = new Uint8Array(65536);
  let reading = false;
  const d = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      conn.read(buf).then((n) => {
        reading = false;
        this.push(n === null ? null : buf.slice(0, n));
      }, (e) => this.destroy(e));
    },
    write(chunk: Uint8Array, _enc, cb) {
      (async () => {
        for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
      })().then(() => cb(), cb);
    },
    final(cb) {
      (conn.closeWrite?.() ?? Promise.resolve()).then(() => cb(), cb);
    },
    destroy(err, cb) {
      try {
        conn.close();
      } catch { /* closed */ }
      cb(err);
    },
  });
  // The net.Socket methods node:tls and node:http may call.
  return Object.assign(d, {
    setTimeout: () => d,
    setNoDelay: () => d,
    setKeepAlive: () => d,
    ref: () => d,
    unref: () => d,
  });
}

/** The decrypted side of a TLSSocket as an HttpConn. */
class TlsConn implements HttpConn {
  readonly #socket: tls.TLSSocket;
  readonly #inner: HttpConn;
  readonly #chunks: Uint8Array[] = [];
  #error: Error | null = null;
  #eof = false;
  #closed = false;
  #wake: (() => void) | null = null;
  readonly #writes = new Set<(e: Error) => void>();

  constructor(socket: tls.TLSSocket, inner: HttpConn) {
    this.#socket = socket;
    this.#inner = inner;
    socket.on("data", (c: Uint8Array) => {
      this.#chunks.push(c);
      if (this.#chunks.length > 16) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#eof = true;
      this.#notify();
    });
    socket.on("error", (e: Error) => {
      this.#error = e;
      this.#notify();
    });
    socket.on("close", () => {
      this.#eof = true;
      this.#notify();
      const e = this.#error ?? new Deno.errors.BrokenPipe("TLS connection closed");
      for (const reject of this.#writes) reject(e);
      this.#writes.clear();
    });
  }

  get localAddr(): Deno.Addr {
    return this.#inner.localAddr;
  }

  get remoteAddr(): Deno.Addr {
    return this.#inner.remoteAddr;
  }

  /** The ALPN protocol agreed on, or `null`. */
  get alpnProtocol(): string | null {
    return this.#socket.alpnProtocol || null;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (true) {
      if (this.#closed) throw new Deno.errors.BadResource("Connection is closed");
      const c = this.#chunks[0];
      if (c !== undefined) {
        const n = Math.min(p.length, c.length);
        p.set(c.subarray(0, n));
        if (n === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(n);
        if (this.#chunks.length <= 4 && this.#socket.isPaused()) this.#socket.resume();
        return n;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#eof) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Connection is closed"));
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#socket.destroyed) {
      return Promise.reject(new Deno.errors.BrokenPipe("TLS connection closed"));
    }
    return new Promise((resolve, reject) => {
      this.#writes.add(reject);
      this.#socket.write(p.slice(), (e) => {
        this.#writes.delete(reject);
        if (e) reject(e);
        else resolve(p.length);
      });
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  setNoDelay(noDelay = true): void {
    this.#inner.setNoDelay?.(noDelay);
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Connection is closed");
    this.#closed = true;
    this.#socket.destroy();
    this.#notify();
  }
}
