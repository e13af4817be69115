/**
 * A deterministic discrete-event network simulator in virtual time, for whole-stack tests.
 *
 * - {@linkcode Simulator}: the clock and a binary heap of events ordered by (time, insertion
 *   order), so equal-time events run first-in first-out and a run is a pure function of its seed.
 * - {@linkcode SimLink}: two {@linkcode SimPort} devices joined by a link with propagation latency,
 *   bandwidth (serialisation delay), a drop-tail queue bounded in bytes, and loss, duplication,
 *   reordering and corruption probabilities drawn from the simulator's seeded generator.
 * - {@linkcode SimNode}: an Interface, its SocketSet and its device, polled at its `pollAt`
 *   deadline or when a frame arrives, with application hooks run after every poll.
 *
 * Nothing here reads a clock. A failure message always carries the seed and the virtual time so
 * `SMOLNET_SIM_SEED=<seed>` (where a test reads it) reproduces the run exactly.
 *
 * @module
 */

import { Rng } from "../../src/rand.ts";
import { checksumAll, type Device, type DeviceCapabilities } from "../../src/phy/device.ts";
import { Interface, type InterfaceConfig } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { type Instant, NEVER } from "../../src/time.ts";

interface SimEvent {
  time: Instant;
  seq: number;
  run: () => void;
}

/** The virtual clock and event queue. */
export class Simulator {
  /** The seed every random choice of the run derives from. */
  readonly seed: number;
  /** The run's generator: links and nodes draw from it in event order. */
  readonly rng: Rng;
  #now: Instant = 0;
  #heap: SimEvent[] = [];
  #seq = 0;
  /** Events run so far. */
  eventsRun = 0;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.rng = new Rng(this.seed);
  }

  /** The current virtual instant in milliseconds. */
  get now(): Instant {
    return this.#now;
  }

  /** Events waiting. */
  get pending(): number {
    return this.#heap.length;
  }

  /** Schedules `run` at `time` (not before now). */
  at(time: Instant, run: () => void): void {
    if (!(time >= this.#now) || time === NEVER) {
      throw new RangeError(`Invalid event time ${time} at ${this.#now} (seed ${this.seed})`);
    }
    const h = this.#heap;
    const ev: SimEvent = { time, seq: this.#seq++, run };
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (before(parent, ev)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  /** Schedules `run` after `delay` ms. */
  after(delay: number, run: () => void): void {
    this.at(this.#now + delay, run);
  }

  /** The time of the next event, or `NEVER`. */
  nextTime(): Instant {
    return this.#heap.length > 0 ? this.#heap[0]!.time : NEVER;
  }

  /** Runs the next event; `false` when there is none. */
  step(): boolean {
    const h = this.#heap;
    const top = h[0];
    if (top === undefined) return false;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (before(last, h[c]!)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    this.#now = top.time;
    this.eventsRun++;
    top.run();
    return true;
  }

  /**
   * Runs events in order until `done()` holds (checked after every event), the queue is empty,
   * or the next event is after `maxTime`. On a timeout the clock is left at `maxTime`.
   *
   * @returns Whether `done()` held.
   */
  runUntil(done: () => boolean, maxTime: Instant): boolean {
    if (done()) return true;
    while (this.#heap.length > 0 && this.#heap[0]!.time <= maxTime) {
      this.step();
      if (done()) return true;
    }
    if (maxTime !== NEVER && maxTime > this.#now) this.#now = maxTime;
    return false;
  }

  /** Like {@linkcode Simulator.runUntil}, but throws with the seed when `done()` never holds. */
  runOrFail(done: () => boolean, maxTime: Instant, what: string): void {
    if (!this.runUntil(done, maxTime)) this.fail(`${what}: not done by ${maxTime} ms`);
  }

  /** Throws an error that names the seed and the virtual time. */
  fail(message: string): never {
    throw new Error(`${message} (seed ${this.seed}, t=${this.#now} ms)`);
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Parameters of one direction of a {@linkcode SimLink}. */
export interface LinkParams {
  /** One-way propagation delay in ms; default 0. */
  latency?: number;
  /** Bits per second; default `Infinity` (no serialisation delay). */
  bandwidth?: number;
  /** Drop-tail queue capacity in bytes, counting frames not yet serialised; default `Infinity`. */
  queueBytes?: number;
  /** Probability that a frame is lost on the wire. */
  loss?: number;
  /** Probability that a frame arrives twice. */
  duplicate?: number;
  /** Probability that a frame is held `reorderDelay` longer, so later frames overtake it. */
  reorder?: number;
  /** Extra delay of a reordered frame in ms; default 1. */
  reorderDelay?: number;
  /**
   * Hold a reordered frame until this many later frames of the same direction have arrived
   * instead, or `reorderDelay` ms passed, whichever comes first (bench:loss's relay); default 0:
   * by time alone.
   */
  reorderDepth?: number;
  /** Probability that one random bit of a frame is flipped. */
  corrupt?: number;
}

/** Counters of one direction of a {@linkcode SimLink}. */
export interface PipeStats {
  /** Frames committed by the sender. */
  sent: number;
  /** Frames handed to the receiving port (duplicates included). */
  delivered: number;
  /** Bytes handed to the receiving port. */
  bytesDelivered: number;
  /** Frames dropped because the queue was full (drop-tail). */
  droppedQueue: number;
  /** Frames lost on the wire. */
  lost: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Frames delayed by `reorderDelay`. */
  reordered: number;
  /** Frames with one bit flipped. */
  corrupted: number;
  /** Frames refused by `transmit` for exceeding the MTU. */
  tooBig: number;
  /** Largest queue occupancy seen, in bytes. */
  maxQueued: number;
}

function newPipeStats(): PipeStats {
  return {
    sent: 0,
    delivered: 0,
    bytesDelivered: 0,
    droppedQueue: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    tooBig: 0,
    maxQueued: 0,
  };
}

/** One direction of a link: a serialising transmitter with a byte-bounded queue, then the wire. */
class Pipe {
  readonly stats: PipeStats = newPipeStats();
  readonly #sim: Simulator;
  readonly #latency: number;
  readonly #bandwidth: number;
  readonly #queueBytes: number;
  readonly #loss: number;
  readonly #duplicate: number;
  readonly #reorder: number;
  readonly #reorderDelay: number;
  readonly #reorderDepth: number;
  /** Frames held until `reorderDepth` later frames pass (depth mode). */
  readonly #held: { frame: Uint8Array; remaining: number; released: boolean }[] = [];
  readonly #corrupt: number;
  #busyUntil = 0;
  // Frames still being serialised or waiting: their finish times and lengths (a FIFO).
  #finish: number[] = [];
  #lens: number[] = [];
  #head = 0;
  #queued = 0;
  to: SimPort | null = null;

  constructor(sim: Simulator, p: LinkParams) {
    this.#sim = sim;
    this.#latency = p.latency ?? 0;
    this.#bandwidth = p.bandwidth ?? Infinity;
    this.#queueBytes = p.queueBytes ?? Infinity;
    this.#loss = p.loss ?? 0;
    this.#duplicate = p.duplicate ?? 0;
    this.#reorder = p.reorder ?? 0;
    this.#reorderDelay = p.reorderDelay ?? 1;
    this.#reorderDepth = p.reorderDepth ?? 0;
    this.#corrupt = p.corrupt ?? 0;
    for (const [k, v] of Object.entries(p)) {
      if (typeof v !== "number" || Number.isNaN(v) || v < 0) {
        throw new RangeError(`Invalid link parameter ${k} ${v}`);
      }
    }
    if (this.#bandwidth === 0) throw new RangeError("Invalid link parameter bandwidth 0");
  }

  /** Bytes waiting or being serialised at `now`. */
  queuedAt(now: Instant): number {
    const f = this.#finish;
    while (this.#head < f.length && f[this.#head]! <= now) {
      this.#queued -= this.#lens[this.#head]!;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > f.length) {
      this.#finish = f.slice(this.#head);
      this.#lens = this.#lens.slice(this.#head);
      this.#head = 0;
    }
    return this.#queued;
  }

  /** Takes a frame committed at the current instant. */
  send(frame: Uint8Array): void {
    const sim = this.#sim;
    const now = sim.now;
    const len = frame.length;
    const st = this.stats;
    st.sent++;
    // One draw per fault kind per frame, whatever the outcome, so the fault pattern of a seed
    // does not shift when another probability changes.
    const rng = sim.rng;
    const rLoss = rng.nextFloat(), rDup = rng.nextFloat();
    const rReorder = rng.nextFloat(), rCorrupt = rng.nextFloat();
    const queued = this.queuedAt(now);
    if (queued + len > this.#queueBytes) {
      st.droppedQueue++;
      return;
    }
    const start = this.#busyUntil > now ? this.#busyUntil : now;
    const finish = this.#bandwidth === Infinity ? start : start + (len * 8000) / this.#bandwidth;
    this.#busyUntil = finish;
    if (finish > now) {
      this.#finish.push(finish);
      this.#lens.push(len);
      this.#queued += len;
      if (this.#queued > st.maxQueued) st.maxQueued = this.#queued;
    }
    if (rLoss < this.#loss) {
      st.lost++;
      return;
    }
    let arrival = finish + this.#latency;
    if (rCorrupt < this.#corrupt && len > 0) {
      const bit = rng.below(len * 8);
      frame[bit >>> 3] = frame[bit >>> 3]! ^ (1 << (bit & 7));
      st.corrupted++;
    }
    if (rReorder < this.#reorder) {
      st.reordered++;
      if (this.#reorderDepth > 0) {
        this.#hold(arrival, frame);
        return;
      }
      arrival += this.#reorderDelay;
    }
    this.#schedule(arrival, frame);
    this.#overtake(arrival);
    if (rDup < this.#duplicate) {
      st.duplicated++;
      this.#schedule(arrival, frame.slice());
    }
  }

  /** Depth mode: `frame` waits for `reorderDepth` later frames, at most `reorderDelay` ms. */
  #hold(arrival: Instant, frame: Uint8Array): void {
    const h = { frame, remaining: this.#reorderDepth, released: false };
    this.#held.push(h);
    this.#sim.at(arrival + this.#reorderDelay, () => {
      if (h.released) return;
      h.released = true;
      this.#held.splice(this.#held.indexOf(h), 1);
      this.#deliver(h.frame);
    });
  }

  /** Depth mode: a frame arriving at `arrival` overtakes the held ones; the last it needed go. */
  #overtake(arrival: Instant): void {
    const held = this.#held;
    for (let i = 0; i < held.length;) {
      const h = held[i]!;
      if (--h.remaining > 0) {
        i++;
        continue;
      }
      h.released = true;
      held.splice(i, 1);
      this.#schedule(arrival, h.frame);
    }
  }

  #deliver(frame: Uint8Array): void {
    const to = this.to;
    if (to === null) return;
    this.stats.delivered++;
    this.stats.bytesDelivered += frame.length;
    to.deliver(frame);
  }

  #schedule(arrival: Instant, frame: Uint8Array): void {
    const to = this.to;
    if (to === null) return;
    this.#sim.at(arrival, () => this.#deliver(frame));
  }
}

/** One end of a {@linkcode SimLink}: a `Device` whose frames travel through a `Pipe`. */
export class SimPort implements Device {
  readonly capabilities: DeviceCapabilities;
  readonly #out: Pipe;
  #rx: Uint8Array[] = [];
  #rxHead = 0;
  #scratch: Uint8Array;
  #pending = -1;
  /** Called at the instant a frame arrives (the node schedules a poll). */
  onArrival: (() => void) | null = null;

  constructor(capabilities: DeviceCapabilities, out: Pipe) {
    this.capabilities = capabilities;
    this.#out = out;
    this.#scratch = new Uint8Array(capabilities.mtu);
  }

  /** Counters of the direction this port sends on. */
  get txStats(): PipeStats {
    return this.#out.stats;
  }

  /** Frames arrived and not yet received. */
  get rxPending(): number {
    return this.#rx.length - this.#rxHead;
  }

  /** Bytes in this port's transmit queue at `now`. */
  queuedAt(now: Instant): number {
    return this.#out.queuedAt(now);
  }

  deliver(frame: Uint8Array): void {
    this.#rx.push(frame);
    this.onArrival?.();
  }

  receive(_now: Instant): Uint8Array | null {
    if (this.#rxHead >= this.#rx.length) return null;
    const f = this.#rx[this.#rxHead]!;
    this.#rx[this.#rxHead++] = EMPTY;
    if (this.#rxHead === this.#rx.length) {
      this.#rx.length = 0;
      this.#rxHead = 0;
    }
    return f;
  }

  canTransmit(_now: Instant): boolean {
    return true;
  }

  transmit(_now: Instant, len: number): Uint8Array | null {
    this.#pending = -1;
    if (len > this.capabilities.mtu) {
      this.#out.stats.tooBig++;
      return null;
    }
    this.#pending = len;
    return this.#scratch.subarray(0, len);
  }

  commit(): void {
    const len = this.#pending;
    if (len < 0) return;
    this.#pending = -1;
    this.#out.send(this.#scratch.slice(0, len));
  }
}

const EMPTY = new Uint8Array(0);

/** Options of a {@linkcode SimLink}. */
export interface SimLinkOptions extends LinkParams {
  /** `"ip"` (default) or `"ethernet"`. */
  medium?: "ip" | "ethernet";
  /** MTU of both ports; default 1500 (IP) or 1514 (Ethernet). */
  mtu?: number;
  /** Overrides for the direction from `b` to `a` (for example a clean ACK path). */
  reverse?: LinkParams;
}

/** Two ports joined by a simulated link; `a` sends through `ab`, `b` through `ba`. */
export class SimLink {
  readonly a: SimPort;
  readonly b: SimPort;
  readonly ab: PipeStats;
  readonly ba: PipeStats;

  constructor(sim: Simulator, options: SimLinkOptions = {}) {
    const medium = options.medium ?? "ip";
    const mtu = options.mtu ?? (medium === "ethernet" ? 1514 : 1500);
    const { medium: _m, mtu: _u, reverse, ...params } = options;
    const caps = (): DeviceCapabilities =>
      Object.freeze({ medium, mtu, checksum: checksumAll(), maxBurstSize: null });
    const ab = new Pipe(sim, params);
    const ba = new Pipe(sim, { ...params, ...reverse });
    this.a = new SimPort(caps(), ab);
    this.b = new SimPort(caps(), ba);
    ab.to = this.b;
    ba.to = this.a;
    this.ab = ab.stats;
    this.ba = ba.stats;
  }
}

/** An application step run after each poll; returns `true` when it changed socket state. */
export type AppHook = (now: Instant) => boolean;

/** One host: an Interface with its SocketSet over one device, polled by the simulator. */
export class SimNode {
  readonly name: string;
  readonly iface: Interface;
  readonly sockets: SocketSet = new SocketSet();
  readonly device: SimPort;
  readonly #sim: Simulator;
  readonly #apps: AppHook[] = [];
  #next: Instant = NEVER;
  #token = 0;
  #lastPollAt = -1;
  #pollsAtSameInstant = 0;
  /** Polls run. */
  polls = 0;

  constructor(sim: Simulator, name: string, device: SimPort, config: InterfaceConfig) {
    this.name = name;
    this.#sim = sim;
    this.device = device;
    this.iface = new Interface(config);
    device.onArrival = () => this.wake(sim.now);
    this.wake(sim.now);
  }

  /** Adds an application step run after every poll. */
  addApp(app: AppHook): void {
    this.#apps.push(app);
    this.wake(this.#sim.now);
  }

  /** Asks for a poll at `time` (an earlier pending request wins). */
  wake(time: Instant): void {
    if (time >= this.#next || time === NEVER) return;
    this.#next = time;
    const token = ++this.#token;
    this.#sim.at(time, () => {
      if (token !== this.#token) return;
      this.#next = NEVER;
      this.#poll();
    });
  }

  #poll(): void {
    const sim = this.#sim;
    const now = sim.now;
    if (now === this.#lastPollAt) {
      if (++this.#pollsAtSameInstant > 10_000) {
        sim.fail(`${this.name} polled 10000 times at one instant: pollAt never advances`);
      }
    } else {
      this.#lastPollAt = now;
      this.#pollsAtSameInstant = 0;
    }
    for (let round = 0; round < 64; round++) {
      this.polls++;
      let changed = this.iface.poll(now, this.device, this.sockets);
      for (const app of this.#apps) changed = app(now) || changed;
      if (!changed && this.device.rxPending === 0) break;
    }
    const at = this.iface.pollAt(now, this.sockets);
    this.wake(at < now ? now : at);
  }
}

/** Two nodes over one link: `a` = 10.0.0.1, `b` = 10.0.0.2 (IP medium unless given). */
export interface Pair {
  sim: Simulator;
  link: SimLink;
  a: SimNode;
  b: SimNode;
}

/** Builds a {@linkcode Pair}; interface seeds and ISN secrets derive from the simulator's seed. */
export function twoNodes(
  sim: Simulator,
  options: SimLinkOptions = {},
  config: Partial<InterfaceConfig> = {},
): Pair {
  const link = new SimLink(sim, options);
  const medium = options.medium ?? "ip";
  const cfg = (n: number): InterfaceConfig => ({
    medium,
    ...(medium === "ethernet" ? { hardwareAddr: `02:00:00:00:00:0${n}` } : {}),
    addresses: [`10.0.0.${n}/24`],
    seed: sim.rng.nextU32(),
    isnSecret: sim.rng.fill(new Uint8Array(16)),
    gratuitousArp: false,
    ...config,
  });
  const a = new SimNode(sim, "a", link.a, cfg(1));
  const b = new SimNode(sim, "b", link.b, cfg(2));
  return { sim, link, a, b };
}

/** The seed from `SMOLNET_SIM_SEED` when set, else `fallback`. */
export function envSeed(fallback: number): number {
  const v = envVar("SMOLNET_SIM_SEED");
  return v === undefined ? fallback : Number(v) >>> 0;
}

/** Whether `SMOLNET_SIM_FULL=1` asks for the long variants. */
export function fullRun(): boolean {
  return envVar("SMOLNET_SIM_FULL") === "1";
}

/** An environment variable, or `undefined` without `--allow-env`. */
export function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
