/**
 * Failures of the async layer as `Deno.errors.*` instances carrying the POSIX `code`, so code
 * written for `Deno.connect` / `Deno.listen` catches ours unchanged.
 *
 * @module
 */

/**
 * The error kinds the async layer raises, with their `Deno.errors` class and POSIX code.
 *
 * @example
 * ```ts
 * import { NET_ERROR_CODES, netError } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * assert.equal(NET_ERROR_CODES.ConnectionRefused, "ECONNREFUSED");
 * const e = netError("ConnectionRefused", "Connection refused by 192.0.2.1:80");
 * assert.equal((e as { code?: string }).code, NET_ERROR_CODES.ConnectionRefused);
 * ```
 */
export const NET_ERROR_CODES = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  TimedOut: "ETIMEDOUT",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  NetworkUnreachable: "ENETUNREACH",
  BrokenPipe: "EPIPE",
  NotConnected: "ENOTCONN",
  Busy: "ENOBUFS",
} as const;

/**
 * A kind of failure that has a POSIX code.
 *
 * @example
 * ```ts
 * import { netError, type NetErrorKind } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * const kind: NetErrorKind = "TimedOut";
 * const e = netError(kind, "Connection to 192.0.2.1:80 timed out");
 * assert.ok(e instanceof Deno.errors.TimedOut);
 * assert.equal((e as { code?: string }).code, "ETIMEDOUT");
 * ```
 */
export type NetErrorKind = keyof typeof NET_ERROR_CODES;

/**
 * Builds the `Deno.errors` instance for `kind` with the POSIX `code` set.
 *
 * @param kind Which failure.
 * @param message The message, Deno style (`Cannot connect to 192.0.2.1:80: connection refused`).
 * @returns The error, ready to throw or reject with.
 *
 * @example
 * ```ts
 * import { netError } from "@smol/net/net";
 * const e = netError("ConnectionReset", "Connection reset by 192.0.2.1:80");
 * import assert from "node:assert/strict";
 * assert.ok(e instanceof Deno.errors.ConnectionReset);
 * assert.equal((e as { code?: string }).code, "ECONNRESET");
 * assert.equal(e.message, "Connection reset by 192.0.2.1:80");
 * ```
 */
export function netError(kind: NetErrorKind, message: string): Error {
  const e = new Deno.errors[kind](message);
  Object.defineProperty(e, "code", {
    value: NET_ERROR_CODES[kind],
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return e;
}

/**
 * The one table from a failure of the core (a socket's `TcpError`, an interface `NetError` code)
 * to the Deno error kind and the words that end its message.
 */
const CORE_ERRORS = {
  refused: ["ConnectionRefused", "connection refused"],
  reset: ["ConnectionReset", "connection reset"],
  timedOut: ["TimedOut", "connection timed out"],
  aborted: ["ConnectionAborted", "connection aborted"],
  unreachable: ["NetworkUnreachable", "network is unreachable"],
  EADDRINUSE: ["AddrInUse", "address in use"],
  EADDRNOTAVAIL: ["AddrNotAvailable", "address not available"],
  ENETUNREACH: ["NetworkUnreachable", "network is unreachable"],
  ENOBUFS: ["Busy", "too many sockets"],
} as const satisfies Record<CoreErrorReason, readonly [NetErrorKind, string]>;

/**
 * A failure of the core the async layer reports: a `TcpError` or a `NetError` code.
 *
 * @internal
 */
export type CoreErrorReason =
  | "refused"
  | "reset"
  | "timedOut"
  | "aborted"
  | "unreachable"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "ENETUNREACH"
  | "ENOBUFS";

/**
 * The Deno error for a failure of the core: `${what}: ${words}`, e.g.
 * `Cannot connect to 192.0.2.1:80: connection refused`.
 *
 * @internal
 */
export function coreError(reason: CoreErrorReason, what: string): Error {
  const [kind, words] = CORE_ERRORS[reason];
  return netError(kind, `${what}: ${words}`);
}

/**
 * Maps an error thrown by the core (`NetError` with a `code`) to its Deno error; an `EINVAL` or
 * `EISCONN` from the core is a bad argument (`TypeError`); anything else passes unchanged.
 *
 * @internal
 */
export function fromCoreError(e: unknown, what: string): unknown {
  if (!(e instanceof Error) || e.name !== "NetError") return e;
  const code = (e as Error & { code?: string }).code;
  if (code !== undefined && Object.hasOwn(CORE_ERRORS, code)) {
    return coreError(code as CoreErrorReason, what);
  }
  return new TypeError(`${what}: ${e.message}`);
}

/**
 * `Deno.errors.BadResource` for use after close.
 *
 * @param what The resource, e.g. `Listener` or `Connection`.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { badResource } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * const e = badResource("Listener");
 * assert.ok(e instanceof Deno.errors.BadResource);
 * assert.equal(e.message, "Listener has been closed");
 * ```
 */
export function badResource(what: string): Error {
  return new Deno.errors.BadResource(`${what} has been closed`);
}

/**
 * The `AbortError` `DOMException` Deno raises for an aborted signal, or the signal's own reason
 * when it has one.
 *
 * @param signal The aborted signal.
 * @returns What to reject with.
 *
 * @example
 * ```ts
 * import { abortError } from "@smol/net/net";
 * const c = new AbortController();
 * import assert from "node:assert/strict";
 * c.abort();
 * assert.equal((abortError(c.signal) as Error).name, "AbortError");
 * const d = new AbortController();
 * d.abort(new Error("Cancelled"));
 * assert.equal((abortError(d.signal) as Error).message, "Cancelled"); // the signal's own reason
 * ```
 */
export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The signal has been aborted", "AbortError");
}
