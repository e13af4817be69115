/**
 * The wait of `NetStack.connect`: a watcher that settles when the connecting socket is
 * established or closed, and the abort signal that cuts it short.
 *
 * @module
 */

import type { TcpSocket } from "../socket/tcp/socket.ts";
import { formatEndpoint, type IpEndpoint } from "../wire/address.ts";
import type { Driver, Watcher } from "./driver.ts";
import { abortError, coreError } from "./errors.ts";

/** Waits for a connecting socket to be established or to fail. */
class ConnectWaiter implements Watcher {
  readonly refed = true;
  get key(): object {
    return this.socket;
  }
  constructor(
    readonly socket: TcpSocket,
    readonly remote: IpEndpoint,
    readonly resolve: () => void,
    readonly reject: (e: unknown) => void,
  ) {}
  fail(error: Error): void {
    this.reject(error);
  }
  settle(): boolean {
    const s = this.socket;
    if (s.state === "established" || s.state === "closeWait") {
      this.resolve();
      return false;
    }
    if (s.state === "closed") {
      const e = s.error;
      const reason = e === "timedOut" || e === "aborted" || e === "unreachable" ? e : "refused";
      this.reject(coreError(reason, `Cannot connect to ${formatEndpoint(this.remote)}`));
      return false;
    }
    return true;
  }
}

/**
 * Waits until `socket` (just registered with the stack's interface) is established; rejects as
 * `Deno.connect` does when it fails, or with the signal's reason when `signal` aborts (the
 * socket is aborted then).
 */
export async function awaitConnect(
  driver: Driver,
  socket: TcpSocket,
  remote: IpEndpoint,
  signal: AbortSignal | undefined,
): Promise<void> {
  let waiter: ConnectWaiter | null = null;
  const onAbort = () => {
    socket.abort();
    driver.wake();
    if (waiter !== null) {
      driver.unwatch(waiter);
      waiter.reject(abortError(signal!));
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      waiter = new ConnectWaiter(socket, remote, resolve, reject);
      signal?.addEventListener("abort", onAbort, { once: true });
      driver.watch(waiter);
      driver.wake();
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
