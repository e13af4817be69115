/**
 * Scale rows of bench:net (issue 15), measured on the core in one process: two Interfaces over an
 * in-memory link (IP medium, checksums on), `count` established idle connections between them,
 * then the same connections closed by the server so that it holds `count` TIME-WAIT records.
 *
 * - bytes per idle connection end: JS heap + external growth from the connections, over 2·count
 *   ends (a warm-up batch, established before the baseline, is left out of the count);
 * - poll cost: wall time of one poll of each interface with everything idle, against the same
 *   with 10 connections in the same process, measured in alternating rounds (the ratio of the
 *   medians is the figure; a poll visits no idle socket);
 * - TIME-WAIT memory: heap + external of the server's `count` records (measured as the drop when
 *   they expire), with every socket removed from both sets.
 *
 * @module
 */

import { Interface, SocketSet } from "../src/iface/mod.ts";
import { linkPair } from "../src/phy/link.ts";
import { TcpListenSocket, TcpSocket } from "../src/socket/tcp/mod.ts";
import { Ipv4Address } from "../src/wire/address.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const SERVER = Ipv4Address.parse("192.0.2.1");
const TIME_WAIT = 60_000;
const PORTS_PER_SERVER_PORT = 16_384;
const BATCH = 1024;
/** Polls per poll-cost measurement, in `ROUNDS` rounds (and as many before it to warm up). */
const POLLS = 200_000;
const ROUNDS = 9;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Host {
  iface: Interface;
  dev: ReturnType<typeof linkPair>[0];
  sockets: SocketSet;
}

/** What {@linkcode coreScale} measured. */
export interface CoreScale {
  /** Heap + external bytes per idle connection end. */
  bytesPerEnd: number;
  /** Microseconds per poll of both interfaces with `count` idle connections. */
  pollUs: number;
  /** The same with 10 idle connections. */
  pollUs10: number;
  /** Heap + external bytes of `count` TIME-WAIT records. */
  timeWaitBytes: number;
}

class Scale {
  readonly a: Host;
  readonly b: Host;
  readonly listeners: TcpListenSocket[] = [];
  readonly clients: TcpSocket[] = [];
  readonly servers: TcpSocket[] = [];
  now = 0;

  constructor(max: number) {
    const [da, db] = linkPair({ medium: "ip", queueLen: 4 * BATCH });
    const opts = { timeWait: TIME_WAIT };
    const sockets = () => new SocketSet({ maxSockets: max + 64 });
    this.a = {
      iface: new Interface({ addresses: ["192.0.2.2/24"], seed: 2 }),
      dev: da,
      sockets: sockets(),
    };
    this.b = {
      iface: new Interface({ addresses: ["192.0.2.1/24"], seed: 1 }),
      dev: db,
      sockets: sockets(),
    };
    const ports = Math.ceil(max / PORTS_PER_SERVER_PORT) + 1;
    for (let p = 0; p < ports; p++) {
      const l = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 1000 + p }, {
        backlog: BATCH * 2,
        socket: opts,
      });
      this.b.iface.listenTcp(this.b.sockets, l);
      this.listeners.push(l);
    }
  }

  /** Polls both ends until nothing moves, accepting what the listeners hold. */
  settle(): void {
    for (let round = 0; round < 10_000; round++) {
      this.now++;
      const x = this.a.iface.poll(this.now, this.a.dev, this.a.sockets);
      const y = this.b.iface.poll(this.now, this.b.dev, this.b.sockets);
      for (const l of this.listeners) {
        for (let s = this.b.iface.acceptTcp(this.b.sockets, l); s !== null;) {
          this.servers.push(s);
          s = this.b.iface.acceptTcp(this.b.sockets, l);
        }
      }
      if (!x && !y) return;
    }
    throw new Error("The link never settled");
  }

  /** Opens `n` more connections (connection i: local port 49152 + i mod 16384). */
  open(n: number): void {
    for (let done = 0; done < n;) {
      const k = Math.min(BATCH, n - done);
      for (let j = 0; j < k; j++) {
        const i = this.clients.length;
        const c = new TcpSocket({ timeWait: TIME_WAIT });
        const port = 1000 + Math.floor(i / PORTS_PER_SERVER_PORT);
        this.a.iface.connectTcp(this.a.sockets, c, { addr: SERVER, port }, {
          localPort: 49152 + (i % PORTS_PER_SERVER_PORT),
        }, this.now);
        this.clients.push(c);
      }
      done += k;
      this.settle();
    }
    if (this.servers.length !== this.clients.length) {
      throw new Error(`Accepted ${this.servers.length} of ${this.clients.length} connections`);
    }
  }

  /** Microseconds per poll of both interfaces, everything idle. */
  pollCost(polls: number): number {
    const t0 = performance.now();
    for (let i = 0; i < polls; i++) {
      this.now++;
      this.a.iface.poll(this.now, this.a.dev, this.a.sockets);
      this.b.iface.poll(this.now, this.b.dev, this.b.sockets);
    }
    return (performance.now() - t0) * 1000 / polls;
  }
}

/**
 * Measures the scale rows.
 *
 * @param count Connections (100,000 in the full run).
 * @returns The figures.
 */
export function coreScale(count: number): CoreScale {
  const small = new Scale(16);
  small.open(10);

  const s = new Scale(count + BATCH);
  s.open(BATCH); // warm-up: link slots, maps and arrays grown once
  const before = memory();
  s.open(count);
  const after = memory();
  const bytesPerEnd = (after - before) / (2 * count);
  // Both pairs live in this one heap and are measured in alternating rounds, medians of each:
  // the figure compares what a poll does with 10 and with `count` idle connections, not the
  // process's heap size or the machine's load at two different moments.
  small.pollCost(POLLS); // warm-up, also lets lazy sweeping of the grown heap finish
  s.pollCost(POLLS);
  const few: number[] = [], many: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    few.push(small.pollCost(POLLS / ROUNDS));
    many.push(s.pollCost(POLLS / ROUNDS));
  }
  const pollUs10 = median(few);
  const pollUs = median(many);

  // The server closes first: it holds the TIME-WAIT records; the clients go through LAST-ACK.
  for (const c of s.servers) c.close();
  s.settle();
  for (const c of s.clients) c.close();
  s.settle();
  const held = s.b.sockets.timeWaitCount;
  if (held !== s.clients.length) throw new Error(`${held} TIME-WAIT records, not ${count}`);
  for (const h of [s.a, s.b]) {
    for (const [handle, sock] of h.sockets) {
      if (!(sock instanceof TcpListenSocket)) h.sockets.remove(handle);
    }
  }
  s.clients.length = 0;
  s.servers.length = 0;
  const withRecords = memory();
  s.now += TIME_WAIT + 1000;
  s.b.iface.poll(s.now, s.b.dev, s.b.sockets);
  if (s.b.sockets.timeWaitCount !== 0) throw new Error("TIME-WAIT records did not expire");
  const without = memory();
  const timeWaitBytes = (withRecords - without) * count / held;
  return { bytesPerEnd, pollUs, pollUs10, timeWaitBytes };
}
