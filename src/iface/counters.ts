/**
 * Drop counters: one named counter per reason a frame or packet was discarded, so that every
 * dropped frame is accounted for.
 *
 * @module
 */

/**
 * The reasons the interface drops a frame or packet.
 *
 * @example
 * ```ts
 * import { DropCounters, DropReason } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * assert.equal(DropReason.BadChecksum, "badChecksum");
 * const c = new DropCounters();
 * c.count(DropReason.BadChecksum);
 * assert.equal(c.badChecksum, 1);
 * ```
 */
export const DropReason = {
  /** A header failed validation (`WireError` other than a checksum). */
  Malformed: "malformed",
  /** A checksum did not verify. */
  BadChecksum: "badChecksum",
  /** Addressed to another host (link or IP destination). */
  NotForUs: "notForUs",
  /** No socket for a TCP/UDP/ICMP destination (an error or RST may have been sent). */
  NoSocket: "noSocket",
  /** A socket or neighbor queue was full. */
  QueueFull: "queueFull",
  /** The IPv4 TTL or IPv6 hop limit was exhausted, or NDP arrived with hop limit ≠ 255. */
  TtlExceeded: "ttlExceeded",
  /** A partially reassembled datagram timed out (counted once per datagram). */
  ReassemblyTimeout: "reassemblyTimeout",
  /** A fragment did not fit the reassembly memory or count bound, or overlapped (IPv6). */
  ReassemblyOverflow: "reassemblyOverflow",
  /** A queued packet was dropped because its next hop never resolved. */
  NeighborUnresolved: "neighborUnresolved",
  /** No route to the destination on egress. */
  NoRoute: "noRoute",
  /** A protocol, ether type or option we do not implement. */
  Unsupported: "unsupported",
  /** An ICMP error about a flow with no matching socket, or one we only count (TCP). */
  IcmpError: "icmpError",
  /** An ICMP error that we did not send because of the rate limit. */
  IcmpRateLimited: "icmpRateLimited",
  /** The device had no room for an egress frame that was not retried. */
  DeviceFull: "deviceFull",
  /** A packet too big for the link with fragmentation not allowed (DF or IPv6 transit). */
  TooBig: "tooBig",
  /** A SYN for a listener dropped because the socket set holds `maxSockets` sockets. */
  SocketLimit: "socketLimit",
  /**
   * A segment for a connection in TIME-WAIT that needed no answer: a RST (RFC 1337), a late
   * ACK, or an old duplicate within the ACK rate limit.
   */
  TimeWait: "timeWait",
} as const;

/**
 * One of the {@linkcode DropReason} values.
 *
 * @example
 * ```ts
 * import { DropCounters, type DropReason } from "@smol/net/iface";
 * import assert from "node:assert/strict";
 * const r: DropReason = "malformed";
 * const c = new DropCounters();
 * c.count(r);
 * assert.deepEqual(c.snapshot(), { malformed: 1 });
 * ```
 */
export type DropReason = typeof DropReason[keyof typeof DropReason];

/**
 * Counts per drop reason, plus frame totals. The interface mutates one instance in place.
 *
 * @example
 * ```ts
 * import { DropCounters } from "@smol/net/iface";
 *
 * const c = new DropCounters();
 * import assert from "node:assert/strict";
 * c.count("malformed");
 * c.count("noSocket");
 * assert.equal(c.malformed, 1);
 * assert.equal(c.totalDrops(), 2);
 * ```
 */
export class DropCounters {
  /** See {@linkcode DropReason.Malformed}. */
  malformed = 0;
  /** See {@linkcode DropReason.BadChecksum}. */
  badChecksum = 0;
  /** See {@linkcode DropReason.NotForUs}. */
  notForUs = 0;
  /** See {@linkcode DropReason.NoSocket}. */
  noSocket = 0;
  /** See {@linkcode DropReason.QueueFull}. */
  queueFull = 0;
  /** See {@linkcode DropReason.TtlExceeded}. */
  ttlExceeded = 0;
  /** See {@linkcode DropReason.ReassemblyTimeout}. */
  reassemblyTimeout = 0;
  /** See {@linkcode DropReason.ReassemblyOverflow}. */
  reassemblyOverflow = 0;
  /** See {@linkcode DropReason.NeighborUnresolved}. */
  neighborUnresolved = 0;
  /** See {@linkcode DropReason.NoRoute}. */
  noRoute = 0;
  /** See {@linkcode DropReason.Unsupported}. */
  unsupported = 0;
  /** See {@linkcode DropReason.IcmpError}. */
  icmpError = 0;
  /** See {@linkcode DropReason.IcmpRateLimited}. */
  icmpRateLimited = 0;
  /** See {@linkcode DropReason.DeviceFull}. */
  deviceFull = 0;
  /** See {@linkcode DropReason.TooBig}. */
  tooBig = 0;
  /** See {@linkcode DropReason.SocketLimit}. */
  socketLimit = 0;
  /** See {@linkcode DropReason.TimeWait}. */
  timeWait = 0;
  /** Frames taken from the device. */
  rxFrames = 0;
  /** Frames handed to the device. */
  txFrames = 0;

  /**
   * Adds one to the counter for `reason`.
   *
   * @param reason The drop reason.
   *
   * @example
   * ```ts
   * import { DropCounters } from "@smol/net/iface";
   * const c = new DropCounters();
   * import assert from "node:assert/strict";
   * c.count("noSocket");
   * c.count("noSocket");
   * assert.equal(c.noSocket, 2);
   * ```
   */
  count(reason: DropReason): void {
    this[reason]++;
  }

  /**
   * The sum of all drop counters (not the frame totals).
   *
   * @returns The number of drops.
   *
   * @example
   * ```ts
   * import { DropCounters } from "@smol/net/iface";
   * import assert from "node:assert/strict";
   * const c = new DropCounters();
   * assert.equal(c.totalDrops(), 0);
   * c.count("badChecksum");
   * c.count("malformed");
   * c.rxFrames = 5; // traffic counters are not drops
   * assert.equal(c.totalDrops(), 2);
   * ```
   */
  totalDrops(): number {
    let n = 0;
    for (const k of Object.values(DropReason)) n += this[k];
    return n;
  }

  /**
   * A plain snapshot of the non-zero counters, for logs and assertions.
   *
   * @returns The counters that are not zero.
   *
   * @example
   * ```ts
   * import { DropCounters } from "@smol/net/iface";
   * const c = new DropCounters();
   * import assert from "node:assert/strict";
   * c.count("malformed");
   * assert.deepEqual(c.snapshot(), { malformed: 1 }); // zero reasons are left out
   * ```
   */
  snapshot(): Partial<Record<DropReason, number>> {
    const out: Partial<Record<DropReason, number>> = {};
    for (const k of Object.values(DropReason)) if (this[k] !== 0) out[k] = this[k];
    return out;
  }
}
