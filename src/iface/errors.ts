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
 * import { NetErrorCode } from "@smol/net/iface";
 * console.log(NetErrorCode.AddrInUse); // EADDRINUSE
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
 * import type { NetErrorCode } from "@smol/net/iface";
 * const code: NetErrorCode = "EADDRINUSE";
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
 * console.log(e.code, e instanceof Error); // EADDRINUSE true
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
