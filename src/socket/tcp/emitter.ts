/**
 * {@linkcode TcpEmitter}: where {@linkcode TcpSocket.dispatch} puts a segment.
 *
 * @module
 */

import type { IpAddress } from "../../wire/address.ts";
import type { TcpRepr } from "../../wire/tcp.ts";

/**
 * Where `dispatch` puts a segment: the Interface (or a test) implements it.
 *
 * @example
 * ```ts
 * import { TcpSocket, TokenBucket, type SocketContext } from "@smol/net/socket";
 * import type { TcpEmitter } from "@smol/net/socket";
 * import { Rng } from "@smol/net/iface";
 * import { Ipv4Address, TcpFlags, type TcpRepr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const cx: SocketContext = { now: 0, random: new Rng(1), ipMtu: 1500, isnSecret: new Uint8Array(16),
 *   challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }) };
 * const sent: TcpRepr[] = [];
 * let room = false;
 * const emitter: TcpEmitter = { emitTcp: (_src, _dst, repr) => room && sent.push(repr) > 0 };
 * const s = new TcpSocket();
 * s.connect(cx, { addr: Ipv4Address.parse("192.0.2.2"), port: 80 }, { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 });
 * assert.equal(s.dispatch(cx, emitter), false); // the device is full: nothing changes
 * room = true;
 * assert.equal(s.dispatch(cx, emitter), true);
 * assert.equal(sent.length, 1);
 * assert.ok(sent[0]!.flags & TcpFlags.SYN);
 * ```
 */
export interface TcpEmitter {
  /**
   * Sends `repr` from `src` to `dst`.
   *
   * @param src Source address.
   * @param dst Destination address.
   * @param repr The segment.
   * @param ecn The IP header's ECN field (RFC 3168 §5; 2 is ECT(0)); absent or 0 for Not-ECT.
   * @returns `false` when it could not be sent now (device full); the socket then changes nothing.
   */
  emitTcp(src: IpAddress, dst: IpAddress, repr: TcpRepr, ecn?: number): boolean;
  /**
   * `true` when the emitter is done with `repr` (and its timestamps) once `emitTcp` returns: it
   * writes the segment out and keeps no reference. `dispatch` then builds its segments into one
   * reused repr instead of a new one each (the Interface's emitter does). Absent or `false`:
   * every segment is a new object the emitter may keep.
   */
  readonly writesThrough?: boolean;
}
