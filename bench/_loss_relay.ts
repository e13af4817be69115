/**
 * bench:loss reordering relay (the kernel has no netem): a process that holds two TUN devices
 * and copies every IP packet from one to the other, holding back a fraction of them so that
 * later packets overtake them. Run by bench/loss.ts, not by hand:
 *
 * ```sh
 * deno run --allow-ffi bench/_loss_relay.ts NAME_A NAME_B
 * ```
 *
 * It creates both TUN interfaces (MTU 1500) in its own namespace and prints `ready`; the parent
 * then moves them where it wants them (the fds stay valid). Commands on stdin, one per line:
 * - `reorder P DEPTH`: from now on each packet is held back with probability P (0..1) until
 *   DEPTH later packets of the same direction have passed, or 2 ms passed (a tail has no later
 *   packets); answers `ok`;
 * - `stats`: answers `{"forwarded":N,"held":N,"txDrops":N}` and resets the first two (packets
 *   passed at once and held back since the last `stats`; write drops count from the start).
 * Exits, closing both devices, when stdin closes.
 *
 * @module
 */

import { TunTapDevice } from "../src/phy/mod.ts";

/** Longest hold in ms when no later packet comes. */
const MAX_HOLD_MS = 2;

interface Held {
  frame: Uint8Array;
  remaining: number;
}

/** One direction of the relay: `from` → `to`. */
class Lane {
  readonly #from: TunTapDevice;
  readonly #to: TunTapDevice;
  readonly #held: Held[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #scheduled = false;
  forwarded = 0;
  held = 0;

  constructor(from: TunTapDevice, to: TunTapDevice) {
    this.#from = from;
    this.#to = to;
    from.onReadable(() => {
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#drain);
      }
    });
  }

  #drain = (): void => {
    this.#scheduled = false;
    for (let f = this.#from.receive(0); f !== null; f = this.#from.receive(0)) {
      if (probability > 0 && nextRandom() < probability) {
        // The device's receive slot is reused: keep a copy.
        this.#held.push({ frame: f.slice(), remaining: depth });
        this.held++;
        if (this.#timer === null) this.#timer = setTimeout(this.#flush, MAX_HOLD_MS);
        continue;
      }
      this.#write(f);
      this.forwarded++;
      const held = this.#held;
      for (let i = 0; i < held.length;) {
        const h = held[i]!;
        if (--h.remaining <= 0) {
          this.#write(h.frame);
          held.splice(i, 1);
        } else {
          i++;
        }
      }
    }
  };

  #flush = (): void => {
    this.#timer = null;
    for (const h of this.#held) this.#write(h.frame);
    this.#held.length = 0;
  };

  #write(frame: Uint8Array): void {
    const buf = this.#to.transmit(0, frame.length);
    if (buf === null) return;
    buf.set(frame);
    this.#to.commit();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#from.onReadable(() => {});
  }
}

let probability = 0;
let depth = 8;
// xorshift32; a fixed seed is enough for a benchmark.
let rngState = 0x2545f491;
function nextRandom(): number {
  let x = rngState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rngState = x >>> 0;
  return rngState / 4294967296;
}

async function main(): Promise<void> {
  const [nameA, nameB] = Deno.args;
  if (nameA === undefined || nameB === undefined) {
    throw new TypeError("Usage: _loss_relay.ts NAME_A NAME_B");
  }
  const a = await TunTapDevice.open({ name: nameA, mode: "tun", mtu: 1500, offload: false });
  const b = await TunTapDevice.open({ name: nameB, mode: "tun", mtu: 1500, offload: false }).catch(
    async (e) => {
      await a.close();
      throw e;
    },
  );
  const ab = new Lane(a, b);
  const ba = new Lane(b, a);
  const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${s}\n`));
  out("ready");
  try {
    let rest = "";
    for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      for (let i = rest.indexOf("\n"); i >= 0; i = rest.indexOf("\n")) {
        const words = rest.slice(0, i).trim().split(/\s+/);
        rest = rest.slice(i + 1);
        if (words[0] === "reorder") {
          const p = Number(words[1]);
          const d = Number(words[2] ?? depth);
          if (!(p >= 0 && p <= 1) || !(Number.isInteger(d) && d >= 1)) {
            out(JSON.stringify({ error: `bad reorder command ${words.join(" ")}` }));
            continue;
          }
          probability = p;
          depth = d;
          out("ok");
        } else if (words[0] === "stats") {
          const txDrops = a.stats.dropsTxBusy + b.stats.dropsTxBusy + a.stats.writeErrors +
            b.stats.writeErrors;
          out(JSON.stringify({
            forwarded: ab.forwarded + ba.forwarded,
            held: ab.held + ba.held,
            txDrops,
          }));
          ab.forwarded =
            ba.forwarded =
            ab.held =
            ba.held =
              0;
        } else if (words[0] !== "") {
          out(JSON.stringify({ error: `unknown command ${words[0]}` }));
        }
      }
    }
  } finally {
    ab.stop();
    ba.stop();
    await a.close();
    await b.close();
  }
}

if (import.meta.main) await main();
