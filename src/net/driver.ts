/**
 * The one loop per stack: waits for device input, the next `pollAt` deadline or an application
 * wake-up, calls `poll`, then lets the watchers whose sockets changed settle their promises.
 *
 * A watcher with a `key` (the core socket it waits on: a stream, a connect, a listener, a UDP
 * socket, the pinger's ICMP socket) is settled only after a poll that reported that socket as
 * changed (see {@linkcode Driver.changed}, fed by the socket set's `onChange`), so a poll costs
 * O(changed sockets) however many connections, listeners and UDP sockets wait; a watcher
 * without a key (address autoconfiguration, an accept-any UDP flow listener) is settled after
 * every poll.
 *
 * Scheduling rules (see the design and the platform facts): wake-ups from the application and
 * the device use `setImmediate` (about 1 µs here), never `setTimeout(0)` (about 2 ms); TCP
 * deadlines use one `setTimeout` that is re-armed only when the deadline moves earlier; nothing
 * spins. The loop holds the process open only while a referenced resource waits for something.
 *
 * The drivers of one process share their turns: a woken driver joins a run queue that one
 * `setImmediate` callback works through, and a driver woken while that callback runs (two stacks
 * in one process, where one's poll puts frames on the other's device) runs in the same
 * callback, up to {@linkcode TURNS_PER_BATCH} turns, until a turn finishes a waiter (resolves a
 * connect, accept, read or write): then the application's continuation runs before the next
 * turn, as it would with the stacks in two processes. A driver that wants another turn after its
 * own (its poll budget ran out, or something is due at once) gets it in the next callback, so I/O
 * and timers run in between.
 *
 * @module
 */

import { monotonicNow, NEVER } from "../time.ts";
import type { Instant } from "../time.ts";

/** Something with promises to settle after each poll. */
export interface Watcher {
  /**
   * Settles what can be settled. Returns `true` while it still waits for something (it stays
   * watched), `false` when it has nothing pending.
   */
  settle(): boolean;
  /** Whether it keeps the process alive while it waits (`ref()` / `unref()`). */
  readonly refed: boolean;
  /**
   * The core socket it waits on: settled only when a poll reports that socket changed. Without
   * a key it is settled after every poll.
   */
  readonly key?: object | undefined;
  /** Rejects everything it waits for with `error` (the stack's device failed). */
  fail(error: Error): void;
}

/** The core operations the driver runs; implemented by NetStack. */
export interface PollTarget {
  /** Runs one `Interface.poll`; returns whether polling again at once may make progress. */
  pollOnce(now: Instant): boolean;
  /** The next deadline after a poll at `now` (`NEVER` when only input can make progress). */
  nextDeadline(now: Instant): Instant;
  /** Whether sockets still have data to flush after the application let go of them. */
  lingering(): boolean;
}

/** Upper bound on polls per turn of the loop, so other tasks get to run between bursts. */
const POLLS_PER_TURN = 64;
/**
 * Upper bound on driver turns in one `setImmediate` callback (woken drivers run in the same
 * callback until then; the rest wait for the next one).
 */
const TURNS_PER_BATCH = 64;
/** Keeps the process alive while a referenced resource waits and no timer is armed. */
const KEEPALIVE_MS = 2 ** 30;

function noop(): void {}

/**
 * A permanent entry in the keyed watchers' Map and in the refed Set, under a key no socket
 * reports: never settled, never refed, nothing to fail. V8 shrinks a Map or Set (allocating a
 * new table) on a delete that leaves fewer entries than a quarter of its capacity, and the
 * watchers of a connection come and go a few times each around a handful live, so without it
 * nearly every settle that emptied them allocated a fresh table.
 */
const PAD_WATCHER: Watcher = { settle: () => true, refed: false, fail: noop };
const PAD_KEY = {};

/**
 * Drives a {@linkcode PollTarget} from the event loop.
 */
export class Driver {
  /** Drivers woken for the batch being run (or the next one when none runs). */
  static #queue: Driver[] = [];
  /** Drivers that asked for another turn after their own: the next batch. */
  static #later: Driver[] = [];
  static #scheduled = false;
  static #batching = false;
  /** A waiter finished in the turn just run: the application runs before the next turn. */
  static #handedOver = false;

  /** Runs the queued drivers' turns, those woken meanwhile included, up to the batch bound. */
  static #runBatch = (): void => {
    Driver.#scheduled = false;
    Driver.#batching = true;
    const queue = Driver.#queue;
    let i = 0;
    Driver.#handedOver = false;
    try {
      while (i < queue.length && i < TURNS_PER_BATCH) {
        const d = queue[i++]!;
        d.#queued = false;
        if (!d.#stopped) d.#runPolls();
        // A connect, accept, read or write resolved: its continuation (a microtask) runs before
        // any further turn, as it would with the stacks in two processes.
        if (Driver.#handedOver) break;
      }
    } finally {
      // Shifted by hand (no splice): the turns left over and the next batch's come first.
      let k = 0;
      for (let j = i; j < queue.length; j++) queue[k++] = queue[j]!;
      queue.length = k;
      const later = Driver.#later;
      for (let j = 0; j < later.length; j++) queue.push(later[j]!);
      while (later.length > 0) later.pop();
      Driver.#batching = false;
      if (queue.length > 0) Driver.#schedule();
    }
  };

  static #schedule(): void {
    if (Driver.#scheduled) return;
    Driver.#scheduled = true;
    setImmediate(Driver.#runBatch);
  }

  readonly #target: PollTarget;
  /** Watchers settled after every poll (no key, or a second watcher on a key). */
  readonly #watchers = new Set<Watcher>();
  /** Watchers settled when their key changed. */
  readonly #keyed = new Map<object, Watcher>([[PAD_KEY, PAD_WATCHER]]);
  /** Keys reported changed since the last settle (may repeat). */
  #changed: object[] = [];
  #changedSpare: object[] = [];
  /**
   * The watchers whose `refed` was true when last looked at (kept exact by `refChanged`), and
   * the pad (so one entry means none).
   */
  readonly #refed = new Set<Watcher>([PAD_WATCHER]);
  /** In the run queue (for this batch or the next). */
  #queued = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt: Instant = NEVER;
  /** One long interval created on first need, then only ref'd and unref'd (no timer churn). */
  #keepalive: ReturnType<typeof setInterval> | null = null;
  #keepaliveRefed = false;
  #stopped = false;
  #running = false;
  #wakeAgain = false;
  /** Number of polls run, for tests and statistics. */
  polls = 0;
  /** Number of `settle` calls made on watchers, for tests and statistics. */
  settles = 0;

  constructor(target: PollTarget) {
    this.#target = target;
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Schedules a poll soon (coalesces: many wake-ups before it runs give one poll). */
  wake = (): void => {
    if (this.#stopped) return;
    if (this.#running) {
      this.#wakeAgain = true;
      return;
    }
    if (this.#queued) return;
    this.#queued = true;
    Driver.#queue.push(this);
    if (!Driver.#batching) Driver.#schedule();
  };

  /**
   * Polls soon only when `at` (a socket's next instant after an application call that may or
   * may not have given it something to send, such as a read) is due at `now`; otherwise only
   * makes sure the deadline timer fires by `at`. The socket waits in the ready list for the next
   * poll meanwhile, so a read that opens no window leaves the loop idle instead of costing a
   * poll (and a turn) of its own.
   *
   * @param at When the socket next needs a dispatch (`NEVER`: only on input).
   * @param now The instant `at` was computed at.
   */
  wakeBy(at: Instant, now: Instant): void {
    if (this.#stopped) return;
    if (at <= now) this.wake();
    // During a turn the turn's end arms the timer for every deadline; a pending turn polls.
    else if (!this.#running && !this.#queued) this.#armTimer(at);
  }

  /**
   * Adds a watcher: its `settle` runs after each poll that changed its key (after every poll
   * without a key) until it returns false.
   */
  watch(w: Watcher): void {
    const key = w.key;
    if (key === undefined) this.#watchers.add(w);
    else {
      const had = this.#keyed.get(key);
      if (had === undefined || had === w) this.#keyed.set(key, w);
      else this.#watchers.add(w);
    }
    if (w.refed) {
      this.#refed.add(w);
      if (!this.#keepaliveRefed) this.#updateKeepalive();
    }
  }

  /** Removes a watcher. */
  unwatch(w: Watcher): void {
    const key = w.key;
    if (key !== undefined && this.#keyed.get(key) === w) this.#keyed.delete(key);
    else this.#watchers.delete(w);
    if (this.#refed.delete(w) && this.#refed.size === 1) this.#updateKeepalive();
  }

  /** Re-evaluates whether the process must be kept alive (after ref/unref). */
  refChanged(): void {
    this.#refed.clear();
    this.#refed.add(PAD_WATCHER);
    for (const w of this.#watchers) if (w.refed) this.#refed.add(w);
    for (const w of this.#keyed.values()) if (w.refed) this.#refed.add(w);
    this.#updateKeepalive();
  }

  /** Runs polls until nothing more happens, synchronously (used by close and tests). */
  flush(): void {
    if (this.#stopped) return;
    this.#runPolls();
  }

  /** Rejects every waiter with `error`, then stops the loop. */
  fail(error: Error): void {
    const watchers = [...this.#watchers, ...this.#keyed.values()];
    this.stop();
    for (const w of watchers) w.fail(error);
  }

  /** Stops the loop for good and clears every timer. */
  stop(): void {
    this.#stopped = true;
    // A queued turn is skipped when its batch reaches it.
    this.#clearTimer();
    if (this.#keepalive !== null) clearInterval(this.#keepalive);
    this.#keepalive = null;
    this.#keepaliveRefed = false;
    this.#watchers.clear();
    this.#keyed.clear();
    this.#keyed.set(PAD_KEY, PAD_WATCHER);
    this.#changed.length = 0;
    this.#refed.clear();
    this.#refed.add(PAD_WATCHER);
  }

  /**
   * Reports that the core socket `key` may have changed (called during a poll); its watcher is
   * settled after the poll.
   */
  changed = (key: object): void => {
    this.#changed.push(key);
  };

  #runPolls(): void {
    this.#running = true;
    let now = monotonicNow();
    // Whether the turn ended at its poll budget while polls still made progress: frames may
    // wait in the device, and a TUN device signals readiness again only after a read found it
    // empty, so the next turn must come at once, not on readiness or a deadline.
    let midBurst = true;
    try {
      for (let i = 0; i < POLLS_PER_TURN; i++) {
        this.#wakeAgain = false;
        const progressed = this.#target.pollOnce(now);
        this.polls++;
        this.#settle();
        if (!progressed && !this.#wakeAgain) {
          midBurst = false;
          break;
        }
        now = monotonicNow();
      }
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    const at = this.#target.nextDeadline(now);
    if (at <= now || this.#wakeAgain || midBurst) {
      this.#wakeAgain = false;
      if (!this.#queued) {
        // The next batch, not this one: I/O and timers run first.
        this.#queued = true;
        if (Driver.#batching) Driver.#later.push(this);
        else {
          Driver.#queue.push(this);
          Driver.#schedule();
        }
      }
    } else {
      this.#armTimer(at);
    }
    this.#updateKeepalive();
  }

  #settle(): void {
    const changed = this.#changed;
    if (changed.length > 0) {
      // Swapped first: a settle that wakes a socket reports nothing during it, but be safe.
      this.#changed = this.#changedSpare;
      const keyed = this.#keyed;
      for (let i = 0; i < changed.length; i++) {
        const w = keyed.get(changed[i]!);
        if (w === undefined) continue;
        this.settles++;
        if (!w.settle()) {
          Driver.#handedOver = true;
          if (keyed.get(w.key!) === w) keyed.delete(w.key!);
          this.#refed.delete(w);
        }
      }
      // Popped, not `length = 0`, which would drop the storage and reallocate it next poll.
      while (changed.length > 0) changed.pop();
      this.#changedSpare = changed;
    }
    // Checked first: iterating even an empty set allocates an iterator, once per poll.
    if (this.#watchers.size === 0) return;
    for (const w of this.#watchers) {
      this.settles++;
      if (!w.settle()) {
        Driver.#handedOver = true;
        this.#watchers.delete(w);
        this.#refed.delete(w);
      }
    }
  }

  #needsRef(): boolean {
    return this.#refed.size > 1 || this.#target.lingering();
  }

  /** Arms the deadline timer (never referenced: the keep-alive timer holds the process). */
  #armTimer(at: Instant): void {
    // An earlier timer is kept: firing early costs one empty poll, re-arming costs a timer.
    if (at === NEVER || (this.#timer !== null && this.#timerAt <= at)) return;
    this.#clearTimer();
    this.#timerAt = at;
    const delay = Math.max(1, Math.ceil(at - monotonicNow()));
    const timer = setTimeout(this.#onTimer, delay);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = NEVER;
  }

  #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = NEVER;
    this.wake();
  };

  #updateKeepalive(): void {
    if (this.#stopped) return;
    const need = this.#needsRef();
    if (need === this.#keepaliveRefed) return;
    this.#keepaliveRefed = need;
    if (need) {
      if (this.#keepalive === null) this.#keepalive = setInterval(noop, KEEPALIVE_MS);
      else Deno.refTimer(this.#keepalive);
    } else if (this.#keepalive !== null) {
      Deno.unrefTimer(this.#keepalive);
    }
  }
}
