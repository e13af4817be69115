/**
 * Wakers: how a socket tells whoever serves it (the Interface's socket set) that an application
 * call changed it (data queued or read, a close, options), so that a poll visits only the
 * sockets that changed or whose timer is due. Internal: not exported from the socket module.
 *
 * @module
 */

/** What a socket calls after an application call changed it. */
export interface SocketWaker {
  /** The socket changed: it may have something to send or a new deadline. */
  wake(): void;
}

/**
 * The waker rides on the socket as a symbol-keyed property rather than in a WeakMap: a WeakMap
 * insert per socket was a measurable part of connection churn (and ephemerons cost the GC).
 */
const WAKER: unique symbol = Symbol("smolnet.waker");

interface Wakeable {
  [WAKER]?: SocketWaker | null;
}

/**
 * Sets (or, with `null`, clears) the waker of a socket.
 *
 * @param socket The socket.
 * @param waker Its waker.
 */
export function setWaker(socket: object, waker: SocketWaker | null): void {
  // Cleared by writing null, never by delete: the socket keeps its hidden class.
  (socket as Wakeable)[WAKER] = waker;
}

/**
 * Calls the waker of a socket, if it has one.
 *
 * @param socket The socket that changed.
 */
export function wakeSocket(socket: object): void {
  (socket as Wakeable)[WAKER]?.wake();
}
