/**
 * A cache of the forwarder's route decisions: for a packet from one ingress interface, source
 * and destination that passed the source checks (martian source and destination, the router's
 * own address as source, the reverse path) and found a route that is not a directed broadcast,
 * the outgoing interface and gateway. Direct-mapped, fixed size, no allocation per lookup;
 * stamped with a generation (the sum of every attached interface's `Routes.generation`, the
 * route table's and the attachment count), and emptied when that changes. Internal to the iface
 * folder.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";

/** Entries (a power of two). */
const SIZE = 256;
/** Key words per entry: a tag (ingress index·2 + IPv6, plus 1; 0 is empty), source, destination. */
const WORDS = 9;

/** The decisions, keyed by (ingress interface, source, destination). */
export class DecisionCache {
  readonly #keys = new Uint32Array(SIZE * WORDS);
  readonly #iface = new Int32Array(SIZE);
  /** The gateway, or `null` when the destination is on-link (the next hop is the destination). */
  readonly #via: (IpAddress | null)[] = new Array<IpAddress | null>(SIZE).fill(null);
  #generation = -1;
  /** Decisions taken from the cache and made afresh (for tests and profiles). */
  hits = 0;
  misses = 0;

  /**
   * The entry for this packet, or -1. A `generation` other than the entries' empties the cache
   * first.
   */
  find(generation: number, ingress: number, src: IpAddress, dst: IpAddress): number {
    if (generation !== this.#generation) {
      this.#keys.fill(0);
      this.#via.fill(null);
      this.#generation = generation;
    }
    const e = slotOf(src, dst);
    const k = this.#keys, b = e * WORDS;
    if (k[b] !== tagOf(ingress, src) || !same(k, b + 1, src) || !same(k, b + 5, dst)) {
      this.misses++;
      return -1;
    }
    this.hits++;
    return e;
  }

  /** The outgoing interface of entry `e`. */
  iface(e: number): number {
    return this.#iface[e]!;
  }

  /** The gateway of entry `e`, `null` for on-link. */
  via(e: number): IpAddress | null {
    return this.#via[e]!;
  }

  /** Records a decision (replacing whatever shared its entry). */
  fill(
    ingress: number,
    src: IpAddress,
    dst: IpAddress,
    iface: number,
    via: IpAddress | null,
  ): void {
    const e = slotOf(src, dst);
    const k = this.#keys, b = e * WORDS;
    k[b] = tagOf(ingress, src);
    put(k, b + 1, src);
    put(k, b + 5, dst);
    this.#iface[e] = iface;
    this.#via[e] = via;
  }
}

function tagOf(ingress: number, a: IpAddress): number {
  return ((ingress << 1) | (a.version === 6 ? 1 : 0)) + 1;
}

function slotOf(src: IpAddress, dst: IpAddress): number {
  let h: number;
  if (src.version === 4) h = src.value ^ Math.imul(dst.version === 4 ? dst.value : 0, 0x9e3779b1);
  else {
    const d = dst.version === 6 ? dst : null;
    h = src.w3 ^ src.w1 ^ Math.imul((d?.w3 ?? 0) ^ (d?.w1 ?? 0), 0x9e3779b1);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & (SIZE - 1);
}

function same(k: Uint32Array, b: number, a: IpAddress): boolean {
  if (a.version === 4) return k[b] === a.value && k[b + 1] === 0 && k[b + 2] === 0;
  return k[b] === a.w0 && k[b + 1] === a.w1 && k[b + 2] === a.w2 && k[b + 3] === a.w3;
}

function put(k: Uint32Array, b: number, a: IpAddress): void {
  if (a.version === 4) {
    k[b] = a.value;
    k[b + 1] = k[b + 2] = k[b + 3] = 0;
  } else {
    k[b] = a.w0;
    k[b + 1] = a.w1;
    k[b + 2] = a.w2;
    k[b + 3] = a.w3;
  }
}
