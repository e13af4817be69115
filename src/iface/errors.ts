/**
 * The error the iface layer throws for bad user requests (bind, connect, listen). The async layer
 * maps {@linkcode NetError.code} to the matching `Deno.errors` class.
 *
 * @module
 */

/**
 * The reasons a user-facing iface call can fail, named after the POSIX errno values.
 *
 * @example
 * ```ts
 * import { NetError, NetErrorCode } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(NetErrorCode.AddrInUse, "EADDRINUSE");
 * const e = new NetError(NetErrorCode.AddrInUse, "Local endpoint 192.0.2.1:80 is already in use");
 * assert.equal(e.code, "EADDRINUSE");
 * ```
 */
export const NetErrorCode = {
  /** The local endpoint (or the 4-tuple) is already in use. */
  AddrInUse: "EADDRINUSE",
  /** The local address is not one of the interface's addresses, or no ephemeral port is free. */
  AddrNotAvail: "EADDRNOTAVAIL",
  /** No route and no source address for the destination. */
  NetUnreach: "ENETUNREACH",
  /** The request makes no sense in the socket's current state or with these arguments. */
  Invalid: "EINVAL",
  /** The socket is already connected or bound. */
  IsConn: "EISCONN",
  /** The socket set already holds its maximum number of sockets. */
  NoBufs: "ENOBUFS",
  /** A socket handle that was removed, reaped or released. */
  BadHandle: "EBADF",
} as const;

/**
 * One of the {@linkcode NetErrorCode} values.
 *
 * @example
 * ```ts
 * import { NetError, type NetErrorCode } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const code: NetErrorCode = "ENETUNREACH";
 * assert.equal(new NetError(code, "No route to 198.51.100.7").code, "ENETUNREACH");
 * ```
 */
export type NetErrorCode = typeof NetErrorCode[keyof typeof NetErrorCode];

/**
 * A failed bind, listen or connect request, with a POSIX-style `code`.
 *
 * @example
 * ```ts
 * import { NetError } from "@smol/net/iface";
 *
 * const e = new NetError("EADDRINUSE", "Local endpoint 192.0.2.1:80 is already in use");
 * import assert from "node:assert/strict";
 * assert.equal(e.code, "EADDRINUSE");
 * assert.equal(e.name, "NetError");
 * assert.ok(e instanceof Error);
 * ```
 */
export class NetError extends Error {
  /** The POSIX-style reason. */
  readonly code: NetErrorCode;

  /**
   * Creates an error.
   *
   * @param code The reason.
   * @param message What failed, in sentence case without a full stop, quoting the value.
   */
  constructor(code: NetErrorCode, message: string) {
    super(message);
    this.name = "NetError";
    this.code = code;
  }
}
