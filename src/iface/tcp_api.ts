/**
 * The TCP socket types the interface drives, from tcp-core (`src/socket/tcp`).
 *
 * @module
 */

export { type TcpEmitter, TcpListenSocket, TcpSocket } from "../socket/tcp/mod.ts";
