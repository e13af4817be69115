/**
 * Access to a {@linkcode TcpSocket}'s private connection block for the rest of the tcp folder
 * (the listener and TIME-WAIT): the class grants it once, in its static block. Internal to the
 * tcp folder.
 *
 * @module
 */

import type { ParentHooks, TcpConn } from "./conn.ts";
import type { TcpSocket } from "./socket.ts";

let setParent: (s: TcpSocket, p: ParentHooks | null) => void;
let peekConn: (s: TcpSocket) => TcpConn;

/**
 * Called once by {@linkcode TcpSocket}'s static block with the two private accessors.
 *
 * @param set Sets a socket's listener hooks.
 * @param peek Returns a socket's TCB.
 */
export function grantAccess(
  set: (s: TcpSocket, p: ParentHooks | null) => void,
  peek: (s: TcpSocket) => TcpConn,
): void {
  setParent = set;
  peekConn = peek;
}

/**
 * Attaches a listener to a child socket (internal to the tcp folder).
 *
 * @param s The child.
 * @param p The listener's hooks, or `null` to detach.
 */
export function attachParent(s: TcpSocket, p: ParentHooks | null): void {
  setParent(s, p);
}

/**
 * The connection block of a socket (internal to the tcp folder).
 *
 * @param s The socket.
 * @returns Its TCB.
 */
export function connOf(s: TcpSocket): TcpConn {
  return peekConn(s);
}
