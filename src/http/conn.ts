/**
 * The connection shape the HTTP layer reads and writes: the part of `Deno.Conn` it uses. A
 * smolnet `TcpStream` and a `Deno.Conn` both have it.
 *
 * @example
 * ```ts
 * import type { HttpConn } from "@smol/net/http";
 * import assert from "node:assert/strict";
 *
 * const conn: HttpConn = {
 *   read: () => Promise.resolve(null),
 *   write: (p) => Promise.resolve(p.length),
 *   close: () => {},
 *   localAddr: { transport: "tcp", hostname: "192.0.2.1", port: 80 },
 *   remoteAddr: { transport: "tcp", hostname: "192.0.2.2", port: 50000 },
 * };
 * assert.equal(await conn.read(new Uint8Array(1)), null);
 * ```
 */
export interface HttpConn {
  /** Reads into `p`: the count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`: the count taken (maybe fewer than `p.length`). */
  write(p: Uint8Array): Promise<number>;
  /** Half-closes (sends FIN) where the transport can; reading goes on. */
  closeWrite?(): Promise<void>;
  /** Closes both directions; pending reads and writes reject. */
  close(): void;
  /** The local address. */
  readonly localAddr: Deno.Addr;
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** Turns Nagle's algorithm off, where the transport has it. */
  setNoDelay?(noDelay?: boolean): void;
}

/**
 * What `createFetch` dials through: a smolnet `NetStack` has this shape.
 *
 * @example
 * ```ts
 * import type { Dialer } from "@smol/net/http";
 * import { linkPair, NetStack } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [a] = linkPair();
 * await using stack = new NetStack({ device: a, addresses: ["192.0.2.2/24"] });
 * const dialer: Dialer = stack;
 * assert.equal(typeof dialer.connect, "function");
 * ```
 */
export interface Dialer {
  /** Opens a TCP connection to `hostname:port`. */
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<HttpConn>;
}
