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

const wakers = new WeakMap<object, SocketWaker>();

/**
 * Sets (or, with `null`, clears) the waker of a socket.
 *
 * @param socket The socket.
 * @param waker Its waker.
 */
export function setWaker(socket: object, waker: SocketWaker | null): void {
  if (waker === null) wakers.delete(socket);
  else wakers.set(socket, waker);
}

/**
 * Calls the waker of a socket, if it has one.
 *
 * @param socket The socket that changed.
 */
export function wakeSocket(socket: object): void {
  wakers.get(socket)?.wake();
}
