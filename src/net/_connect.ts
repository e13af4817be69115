/**
 * The wait of `NetStack.connect`: a watcher that settles when the connecting socket is
 * established or closed, and the abort signal that cuts it short.
 *
 * @module
 */

import type { TcpSocket } from "../socket/tcp/socket.ts";
import { formatEndpoint, type IpEndpoint } from "../wire/address.ts";
import type { Driver, Watcher } from "./driver.ts";
import { abortError, coreError, netError } from "./errors.ts";
import { type StreamHost, TcpStream } from "./tcp_stream.ts";

/**
 * Waits for a connecting socket to be established or to fail. With a `host`, resolves with the
 * socket's stream (made then, so the connect needs no continuation of its own to make it).
 */
class ConnectWaiter implements Watcher {
  get key(): object {
    return this.socket;
  }
  constructor(
    readonly host: StreamHost | null,
    readonly socket: TcpSocket,
    readonly remote: IpEndpoint,
    readonly resolve: (stream: TcpStream | null) => void,
    readonly reject: (e: unknown) => void,
    readonly causes?: WeakMap<TcpSocket, Error>,
    readonly refed = true,
  ) {}
  fail(error: Error): void {
    this.reject(error);
  }
  settle(): boolean {
    const s = this.socket;
    if (s.state === "established" || s.state === "closeWait") {
      this.resolve(this.host === null ? null : new TcpStream(this.host, s));
      return false;
    }
    if (s.state === "closed") {
      const e = s.error;
      const cause = e === "aborted" ? this.causes?.get(s) : undefined;
      if (cause !== undefined) {
        const to = formatEndpoint(this.remote);
        this.reject(netError("ConnectionAborted", `Cannot connect to ${to}: ${cause.message}`));
        return false;
      }
      const reason = e === "timedOut" || e === "aborted" || e === "unreachable" ? e : "refused";
      this.reject(coreError(reason, `Cannot connect to ${formatEndpoint(this.remote)}`));
      return false;
    }
    return true;
  }
}

/**
 * Waits until `socket` (just registered with the stack's interface) is established, then
 * resolves with its stream on `host`; rejects as `Deno.connect` does when it fails, or with the
 * signal's reason when `signal` aborts (the socket is aborted then). `causes` says why the stack
 * aborted a socket, when it did.
 */
export function awaitConnect(
  driver: Driver,
  host: StreamHost,
  socket: TcpSocket,
  remote: IpEndpoint,
  signal: AbortSignal | undefined,
  causes?: WeakMap<TcpSocket, Error>,
): Promise<TcpStream> {
  if (signal === undefined) {
    // Without a signal: one promise and its waiter, no abort closure and no async frame.
    return new Promise<TcpStream>((resolve, reject) => {
      watchConnect(driver, host, socket, remote, resolve, reject, causes);
    });
  }
  return awaitConnectOrAbort(driver, host, socket, remote, signal, causes);
}

/** Makes the connect's waiter, has the driver watch it and wakes the driver. */
function watchConnect(
  driver: Driver,
  host: StreamHost,
  socket: TcpSocket,
  remote: IpEndpoint,
  resolve: (s: TcpStream) => void,
  reject: (e: unknown) => void,
  causes: WeakMap<TcpSocket, Error> | undefined,
): ConnectWaiter {
  const waiter = new ConnectWaiter(
    host,
    socket,
    remote,
    resolve as (s: TcpStream | null) => void,
    reject,
    causes,
  );
  driver.watch(waiter);
  driver.wake();
  return waiter;
}

async function awaitConnectOrAbort(
  driver: Driver,
  host: StreamHost,
  socket: TcpSocket,
  remote: IpEndpoint,
  signal: AbortSignal,
  causes?: WeakMap<TcpSocket, Error>,
): Promise<TcpStream> {
  let waiter: ConnectWaiter | null = null;
  const onAbort = () => {
    socket.abort();
    driver.wake();
    if (waiter !== null) {
      driver.unwatch(waiter);
      waiter.reject(abortError(signal));
    }
  };
  try {
    return await new Promise<TcpStream>((resolve, reject) => {
      signal.addEventListener("abort", onAbort, { once: true });
      waiter = watchConnect(driver, host, socket, remote, resolve, reject, causes);
    });
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * For a connect that resolved before its handshake (Fast Open, `stream` made in SYN-SENT): until
 * the handshake completes, `signal` still aborts the connection (the stream's reads and writes
 * then reject with the signal's reason), and `stream` learns when it completed. Does not keep
 * the process alive by itself.
 */
export function watchHandshake(
  driver: Driver,
  socket: TcpSocket,
  remote: IpEndpoint,
  stream: { connected(): void },
  signal: AbortSignal | undefined,
  causes: WeakMap<TcpSocket, Error>,
): void {
  let waiter: ConnectWaiter | null = null;
  const onAbort = () => {
    if (waiter !== null) driver.unwatch(waiter);
    const reason = abortError(signal!);
    causes.set(
      socket,
      reason instanceof Error ? reason : new DOMException(String(reason), "AbortError"),
    );
    socket.abort();
    driver.wake();
  };
  const done = () => {
    signal?.removeEventListener("abort", onAbort);
    stream.connected();
  };
  const failed = () => signal?.removeEventListener("abort", onAbort);
  waiter = new ConnectWaiter(null, socket, remote, done, failed, causes, false);
  signal?.addEventListener("abort", onAbort, { once: true });
  driver.watch(waiter);
}
