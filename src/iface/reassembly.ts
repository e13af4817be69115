/**
 * IP fragment reassembly for IPv4 (RFC 791 §3.2, RFC 815) and IPv6 (RFC 8200 §4.5): datagrams
 * keyed by (source, destination, protocol, identification) for IPv4 and (source, destination,
 * identification) for IPv6; out-of-order and duplicate fragments; overlapping fragments kept
 * first-come for IPv4 and fatal to the whole datagram for IPv6 (RFC 5722); bounded total memory and
 * datagram count, with the oldest datagram evicted first; a timeout on explicit time.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import { mix } from "../wire/_bytes.ts";
import { type Duration, type Instant, NEVER } from "../time.ts";

/**
 * Bounds and timeout of a {@linkcode Reassembler}.
 *
 * @example
 * ```ts
 * import { Reassembler, type ReassemblyOptions } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const opts: ReassemblyOptions = { maxDatagrams: 8, maxBytes: 128 * 1024, timeout: 5_000 };
 * const r = new Reassembler(4, opts);
 * const src = parseIpAddress("192.0.2.1"), dst = parseIpAddress("192.0.2.2");
 * r.add({ src, dst, protocol: 17, ident: 1, offset: 0, more: true, data: new Uint8Array(8), packet: null }, 100);
 * assert.equal(r.pollAt(), 5_100); // the timeout runs from the first fragment
 * assert.throws(() => new Reassembler(4, { maxDatagrams: 0 }), RangeError);
 * ```
 */
export interface ReassemblyOptions {
  /** Datagrams being reassembled at once; default 16. */
  readonly maxDatagrams?: number;
  /** Buffer bytes over all datagrams; default 256 KiB. */
  readonly maxBytes?: number;
  /** Time from the first fragment to giving up; default 30 s (IPv4) or 60 s (IPv6, RFC 8200). */
  readonly timeout?: Duration;
}

/**
 * One fragment, as the interface hands it to {@linkcode Reassembler.add}.
 *
 * @example
 * ```ts
 * import { type Fragment, Reassembler } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const f: Fragment = { src: parseIpAddress("192.0.2.1"), dst: parseIpAddress("192.0.2.2"),
 *   protocol: 17, ident: 7, offset: 0, more: true, data: new Uint8Array(8), packet: null };
 * const r = new Reassembler(4);
 * assert.equal(r.add(f, 0), null); // held until the rest arrives
 * assert.equal(r.count, 1);
 * ```
 */
export interface Fragment {
  /** Source address. */
  readonly src: IpAddress;
  /** Destination address. */
  readonly dst: IpAddress;
  /** IPv4 protocol, or the IPv6 Fragment header's next header. */
  readonly protocol: number;
  /** Identification (16 bits for IPv4, 32 for IPv6). */
  readonly ident: number;
  /** Byte offset of `data` in the reassembled payload. */
  readonly offset: number;
  /** The more-fragments flag. */
  readonly more: boolean;
  /** The fragment's data. */
  readonly data: Uint8Array;
  /** The whole IP packet of the first fragment, kept (truncated) to quote in a Time Exceeded error, or `null`. */
  readonly packet: Uint8Array | null;
}

/**
 * A completed datagram.
 *
 * @example
 * ```ts
 * import { type Reassembled, Reassembler } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const src = parseIpAddress("2001:db8::1"), dst = parseIpAddress("2001:db8::2");
 * const base = { src, dst, protocol: 17, ident: 9, packet: null };
 * const r = new Reassembler(6);
 * r.add({ ...base, offset: 0, more: true, data: new Uint8Array(8).fill(1) }, 0);
 * const done = r.add({ ...base, offset: 8, more: false, data: new Uint8Array(2).fill(2) }, 0);
 * const whole = done as Reassembled;
 * assert.equal(whole.protocol, 17);
 * assert.deepEqual([...whole.payload], [1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
 * ```
 */
export interface Reassembled {
  /** The protocol (IPv6: the next header of the first fragment). */
  readonly protocol: number;
  /** The reassembled payload (owned by the caller). */
  readonly payload: Uint8Array;
  /**
   * The first fragment's IP packet as given to {@linkcode Reassembler.add} (truncated to 1232
   * bytes; its header is what a forwarder rebuilds the whole datagram with), or `null` when it
   * came without one.
   */
  readonly firstPacket: Uint8Array | null;
}

/**
 * Why {@linkcode Reassembler.add} dropped a fragment or datagram.
 *
 * @example
 * ```ts
 * import { Reassembler, type ReassemblyDrop } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const src = parseIpAddress("2001:db8::1"), dst = parseIpAddress("2001:db8::2");
 * const base = { src, dst, protocol: 17, ident: 9, more: true, packet: null };
 * const r = new Reassembler(6);
 * r.add({ ...base, offset: 0, data: new Uint8Array(16) }, 0);
 * const d = r.add({ ...base, offset: 8, data: new Uint8Array(16).fill(1) }, 0) as ReassemblyDrop;
 * assert.equal(d, "overlap"); // RFC 5722: overlapping IPv6 fragments drop the datagram
 * assert.equal(r.count, 0);
 * ```
 */
export type ReassemblyDrop = "malformed" | "overlap" | "overflow" | "duplicate" | "incomplete";

/**
 * A datagram that timed out, with the first fragment's packet when it had arrived.
 *
 * @example
 * ```ts
 * import { type ExpiredDatagram, Reassembler } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 * const src = parseIpAddress("192.0.2.1"), dst = parseIpAddress("192.0.2.2");
 * const first = new Uint8Array(28);
 * const r = new Reassembler(4, { timeout: 1000 });
 * r.add({ src, dst, protocol: 17, ident: 1, offset: 0, more: true, data: new Uint8Array(8), packet: first }, 0);
 * const [e]: readonly ExpiredDatagram[] = r.expire(1000);
 * assert.equal(e?.src.toString(), "192.0.2.1");
 * assert.equal(e?.firstPacket?.length, 28); // kept for the ICMP Time Exceeded quote
 * ```
 */
export interface ExpiredDatagram {
  /** The datagram's source. */
  readonly src: IpAddress;
  /** The first fragment's IP packet (truncated), or `null`. */
  readonly firstPacket: Uint8Array | null;
}

class Datagram {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly key: number;
  readonly ident: number;
  readonly hash: number;
  protocol = -1;
  buf: Uint8Array = EMPTY;
  /** Sorted, disjoint, non-adjacent covered ranges as [start0, end0, start1, end1, ...]. */
  readonly ranges: number[] = [];
  total = -1;
  readonly deadline: Instant;
  first: Uint8Array | null = null;
  constructor(
    src: IpAddress,
    dst: IpAddress,
    key: number,
    ident: number,
    hash: number,
    deadline: Instant,
  ) {
    this.src = src;
    this.dst = dst;
    this.key = key;
    this.ident = ident;
    this.hash = hash;
    this.deadline = deadline;
  }
}

const EMPTY = new Uint8Array(0);
const MAX_PAYLOAD = 65535;
const FIRST_PACKET_KEEP = 1232;

/**
 * A reassembly buffer for one IP version.
 *
 * @example
 * ```ts
 * import { Reassembler } from "@smol/net/iface";
 * import { parseIpAddress } from "@smol/net/wire";
 *
 * const r = new Reassembler(4);
 * const base = { src: parseIpAddress("192.0.2.1"), dst: parseIpAddress("192.0.2.2"), protocol: 17, ident: 1, packet: null };
 * import assert from "node:assert/strict";
 * assert.equal(r.add({ ...base, offset: 8, more: false, data: new Uint8Array(4).fill(2) }, 0), null);
 * const done = r.add({ ...base, offset: 0, more: true, data: new Uint8Array(8).fill(1) }, 0);
 * assert.ok(typeof done === "object" && done !== null);
 * assert.equal(done.protocol, 17);
 * assert.deepEqual([...done.payload], [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
 * ```
 */
export class Reassembler {
  readonly #version: 4 | 6;
  readonly #maxDatagrams: number;
  readonly #maxBytes: number;
  readonly #timeout: Duration;
  readonly #map = new Map<number, Datagram[]>();
  /** Datagrams in arrival order (oldest first) for eviction and expiry. */
  readonly #order: Datagram[] = [];
  #bytes = 0;
  #evicted = 0;

  /**
   * Creates an empty buffer.
   *
   * @param version 4 or 6.
   * @param options Bounds and timeout.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(version: 4 | 6, options: ReassemblyOptions = {}) {
    this.#version = version;
    this.#maxDatagrams = options.maxDatagrams ?? 16;
    this.#maxBytes = options.maxBytes ?? 256 * 1024;
    this.#timeout = options.timeout ?? (version === 4 ? 30_000 : 60_000);
    if (!Number.isInteger(this.#maxDatagrams) || this.#maxDatagrams < 1) {
      throw new RangeError(`Invalid reassembly maxDatagrams ${this.#maxDatagrams}`);
    }
    if (!Number.isInteger(this.#maxBytes) || this.#maxBytes < 1) {
      throw new RangeError(`Invalid reassembly maxBytes ${this.#maxBytes}`);
    }
  }

  /** Datagrams in progress. */
  get count(): number {
    return this.#order.length;
  }

  /** Buffer bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Datagrams evicted to make room since the last call (for the overflow counter).
   *
   * @returns The count, reset to 0.
   *
   * @example
   * ```ts
   * import { Reassembler } from "@smol/net/iface";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Reassembler(6, { maxDatagrams: 1 });
   * const src = parseIpAddress("2001:db8::1"), dst = parseIpAddress("2001:db8::2");
   * const frag = { src, dst, protocol: 17, offset: 0, more: true, data: new Uint8Array(8), packet: null };
   * r.add({ ...frag, ident: 1 }, 0);
   * r.add({ ...frag, ident: 2 }, 0); // pushes out datagram 1
   * assert.equal(r.takeEvicted(), 1);
   * assert.equal(r.takeEvicted(), 0); // the count resets when read
   * ```
   */
  takeEvicted(): number {
    const n = this.#evicted;
    this.#evicted = 0;
    return n;
  }

  /**
   * Adds a fragment.
   *
   * @param f The fragment.
   * @param now The current instant.
   * @returns The completed datagram; `null` when more fragments are needed; or the reason the
   * fragment (and for `"overlap"` / `"malformed"` its whole datagram) was dropped. A
   * `"duplicate"` is dropped alone and the datagram goes on.
   *
   * @example
   * ```ts
   * import { Reassembler } from "@smol/net/iface";
   * import { parseIpAddress } from "@smol/net/wire";
   * const r = new Reassembler(4);
   * const f = { src: parseIpAddress("192.0.2.1"), dst: parseIpAddress("192.0.2.2"), protocol: 17,
   *   ident: 1, offset: 0, more: true, data: new Uint8Array(5), packet: null };
   * import assert from "node:assert/strict";
   * assert.equal(r.add(f, 0), "malformed"); // a non-final fragment must carry a multiple of 8 bytes
   * ```
   */
  add(f: Fragment, now: Instant): Reassembled | ReassemblyDrop | null {
    const len = f.data.length;
    const end = f.offset + len;
    // RFC 791 / RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes.
    if ((f.more && (len === 0 || (len & 7) !== 0)) || end > MAX_PAYLOAD || (f.offset & 7) !== 0) {
      return "malformed";
    }
    const key = this.#version === 4 ? f.protocol : 0;
    const hash = mix(mix(mix(f.src.hash(), f.dst.hash()), key), f.ident);
    let d = this.#find(hash, f.src, f.dst, key, f.ident);
    if (d === undefined) {
      if (this.#order.length >= this.#maxDatagrams) this.#evictOldest(null);
      d = new Datagram(f.src, f.dst, key, f.ident, hash, now + this.#timeout);
      const bucket = this.#map.get(hash);
      if (bucket === undefined) this.#map.set(hash, [d]);
      else bucket.push(d);
      this.#order.push(d);
    }
    // The last fragment fixes the total length; later data beyond it is inconsistent.
    if (!f.more) {
      if ((d.total >= 0 && d.total !== end) || this.#coveredEnd(d) > end) {
        this.#drop(d);
        return "malformed";
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.#drop(d);
      return "malformed";
    }
    const overlap = this.#overlaps(d, f.offset, end);
    if (overlap === 2) {
      // Fully inside received data: a duplicate when the bytes agree.
      if (bytesEqual(d.buf, f.offset, f.data)) return "duplicate";
      if (this.#version === 6) {
        this.#drop(d);
        return "overlap";
      }
      return "duplicate"; // IPv4: first arrival wins
    }
    if (overlap === 1 && this.#version === 6) {
      this.#drop(d); // RFC 5722 §4
      return "overlap";
    }
    if (end > d.buf.length && !this.#grow(d, end)) {
      this.#drop(d);
      return "overflow";
    }
    if (f.offset === 0) {
      d.protocol = f.protocol;
      if (f.packet !== null && d.first === null) {
        d.first = f.packet.slice(0, Math.min(f.packet.length, FIRST_PACKET_KEEP));
      }
    }
    if (len > 0) this.#write(d, f.offset, f.data);
    if (d.total >= 0 && d.ranges.length === 2 && d.ranges[0] === 0 && d.ranges[1] === d.total) {
      if (d.protocol < 0) {
        this.#drop(d);
        return "malformed";
      }
      const payload = d.buf.length === d.total ? d.buf : d.buf.slice(0, d.total);
      const protocol = d.protocol, firstPacket = d.first;
      this.#drop(d);
      return { protocol, payload, firstPacket };
    }
    if (d.total === 0) {
      const protocol = d.protocol, firstPacket = d.first;
      this.#drop(d);
      return protocol < 0 ? "malformed" : { protocol, payload: EMPTY, firstPacket };
    }
    return null;
  }

  /**
   * Removes datagrams whose timeout passed.
   *
   * @param now The current instant.
   * @returns The expired datagrams (empty array when none; the common case allocates nothing).
   *
   * @example
   * ```ts
   * import { Reassembler } from "@smol/net/iface";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Reassembler(4, { timeout: 1000 });
   * const src = parseIpAddress("192.0.2.1"), dst = parseIpAddress("192.0.2.2");
   * r.add({ src, dst, protocol: 17, ident: 1, offset: 0, more: true, data: new Uint8Array(8), packet: null }, 0);
   * assert.equal(r.expire(999).length, 0);
   * assert.equal(r.expire(1000).length, 1);
   * assert.equal(r.count, 0);
   * ```
   */
  expire(now: Instant): readonly ExpiredDatagram[] {
    if (this.#order.length === 0 || this.#order[0]!.deadline > now) return NONE;
    const out: ExpiredDatagram[] = [];
    while (this.#order.length > 0 && this.#order[0]!.deadline <= now) {
      const d = this.#order[0]!;
      out.push({ src: d.src, firstPacket: d.first });
      this.#drop(d);
    }
    return out;
  }

  /**
   * The earliest reassembly deadline.
   *
   * @returns The instant, or `NEVER` when nothing is in progress.
   *
   * @example
   * ```ts
   * import { Reassembler } from "@smol/net/iface";
   * import { parseIpAddress } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * const r = new Reassembler(4, { timeout: 1000 });
   * assert.equal(r.pollAt(), Infinity);
   * const src = parseIpAddress("192.0.2.1"), dst = parseIpAddress("192.0.2.2");
   * r.add({ src, dst, protocol: 17, ident: 1, offset: 0, more: true, data: new Uint8Array(8), packet: null }, 50);
   * assert.equal(r.pollAt(), 1050);
   * ```
   */
  pollAt(): Instant {
    return this.#order.length === 0 ? NEVER : this.#order[0]!.deadline;
  }

  #find(
    hash: number,
    src: IpAddress,
    dst: IpAddress,
    key: number,
    ident: number,
  ): Datagram | undefined {
    const bucket = this.#map.get(hash);
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const d = bucket[i]!;
      if (d.ident === ident && d.key === key && d.src.equals(src) && d.dst.equals(dst)) return d;
    }
    return undefined;
  }

  #coveredEnd(d: Datagram): number {
    return d.ranges.length === 0 ? 0 : d.ranges[d.ranges.length - 1]!;
  }

  /** 0: no overlap; 1: partial overlap; 2: entirely inside one covered range. */
  #overlaps(d: Datagram, start: number, end: number): number {
    const r = d.ranges;
    for (let i = 0; i < r.length; i += 2) {
      const s = r[i]!, e = r[i + 1]!;
      if (start >= s && end <= e && end > start) return 2;
      if (start < e && end > s) return 1;
    }
    return 0;
  }

  #grow(d: Datagram, end: number): boolean {
    const cap = Math.min(MAX_PAYLOAD, Math.max(end, d.buf.length * 2, 1024));
    const extra = cap - d.buf.length;
    while (this.#bytes + extra > this.#maxBytes) {
      if (!this.#evictOldest(d)) {
        // Try the exact size before giving up.
        if (this.#bytes + (end - d.buf.length) <= this.#maxBytes) return this.#resize(d, end);
        return false;
      }
    }
    return this.#resize(d, cap);
  }

  #resize(d: Datagram, cap: number): boolean {
    const buf = new Uint8Array(cap);
    buf.set(d.buf);
    this.#bytes += cap - d.buf.length;
    d.buf = buf;
    return true;
  }

  /** Copies only the bytes of [start, start + data.length) not covered yet, then merges ranges. */
  #write(d: Datagram, start: number, data: Uint8Array): void {
    const end = start + data.length;
    const r = d.ranges;
    let pos = start;
    for (let i = 0; i < r.length && pos < end; i += 2) {
      const s = r[i]!, e = r[i + 1]!;
      if (e <= pos) continue;
      if (s >= end) break;
      if (s > pos) d.buf.set(data.subarray(pos - start, s - start), pos);
      pos = Math.max(pos, e);
    }
    if (pos < end) d.buf.set(data.subarray(pos - start), pos);
    // Merge [start, end) into the sorted range list.
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    let j = i;
    let ns = start, ne = end;
    while (j < r.length && r[j]! <= end) {
      ns = Math.min(ns, r[j]!);
      ne = Math.max(ne, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, ns, ne);
  }

  #evictOldest(keep: Datagram | null): boolean {
    for (const d of this.#order) {
      if (d === keep) continue;
      this.#drop(d);
      this.#evicted++;
      return true;
    }
    return false;
  }

  #drop(d: Datagram): void {
    const bucket = this.#map.get(d.hash);
    if (bucket !== undefined) {
      const i = bucket.indexOf(d);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.#map.delete(d.hash);
    }
    const j = this.#order.indexOf(d);
    if (j >= 0) this.#order.splice(j, 1);
    this.#bytes -= d.buf.length;
    d.buf = EMPTY;
  }
}

const NONE: readonly ExpiredDatagram[] = Object.freeze([]);

function bytesEqual(buf: Uint8Array, offset: number, data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (buf[offset + i] !== data[i]) return false;
  return true;
}
