import assert from "node:assert/strict";
import { Driver, type PollTarget, type Watcher } from "../../src/net/driver.ts";
import { NEVER } from "../../src/time.ts";
import { stackPair } from "./_helpers.ts";

class FakeWatcher implements Watcher {
  readonly refed = false;
  settled = 0;
  constructor(readonly key: object | undefined, public pending = true) {}
  settle(): boolean {
    this.settled++;
    return this.pending;
  }
  fail(): void {}
}

/** A driver whose polls report the keys in `report` as changed, one entry per poll. */
function driverOf(report: object[][]): Driver {
  const target: PollTarget = {
    pollOnce(): boolean {
      const keys = report.shift();
      if (keys === undefined) return false;
      for (const k of keys) d.changed(k);
      return true;
    },
    nextDeadline: () => NEVER,
    lingering: () => false,
  };
  const d = new Driver(target);
  return d;
}

Deno.test("Driver settles only the keyed watchers whose socket a poll reported changed", () => {
  const keys = Array.from({ length: 1000 }, () => ({}));
  const report = [[keys[3]!], [keys[7]!, keys[3]!]];
  const d = driverOf(report);
  const watchers = keys.map((k) => new FakeWatcher(k));
  for (const w of watchers) d.watch(w);
  d.flush();
  // Three polls: two report keys, the third finds nothing to do.
  assert.equal(d.polls, 3);
  assert.equal(d.settles, 3);
  assert.equal(watchers[3]!.settled, 2);
  assert.equal(watchers[7]!.settled, 1);
  assert.equal(watchers.reduce((n, w) => n + w.settled, 0), 3);
  d.stop();
});

Deno.test("Driver settles watchers without a key after every poll and drops finished ones", () => {
  const key = {};
  const report = [[key], [], []];
  const d = driverOf(report);
  const always = new FakeWatcher(undefined);
  const once = new FakeWatcher(key, false);
  d.watch(always);
  d.watch(once);
  d.flush();
  assert.equal(d.polls, 4);
  assert.equal(always.settled, 4);
  assert.equal(once.settled, 1); // returned false: no longer watched
  report.push([key]);
  d.flush();
  assert.equal(once.settled, 1);
  d.stop();
});

Deno.test("Driver settles a second watcher on the same key after every poll", () => {
  const key = {};
  const d = driverOf([[], [key]]);
  const a = new FakeWatcher(key), b = new FakeWatcher(key);
  d.watch(a);
  d.watch(b);
  d.flush();
  assert.equal(a.settled, 1); // only the poll that reported its key
  assert.equal(b.settled, 3); // every poll
  d.unwatch(a);
  d.unwatch(b);
  d.stop();
});

/** Opens `n` connections and leaves a read pending on both ends of each. */
async function idleReads(n: number) {
  const pair = stackPair();
  const listener = pair.server.listen({ port: 80 });
  const conns = [];
  const pending: Promise<number | null>[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = listener.accept();
    const c = await pair.client.connect({ hostname: "192.0.2.1", port: 80 });
    const s = await accepted;
    conns.push({ c, s, buf: new Uint8Array(8) });
  }
  for (const { c, s, buf } of conns) {
    pending.push(s.read(buf));
    pending.push(c.read(new Uint8Array(8)));
  }
  listener.close();
  return { pair, conns, pending };
}

/** Settles asked of the server by one byte sent on one connection while the others wait. */
async function settlesForOneByte(n: number): Promise<number> {
  const { pair, conns, pending } = await idleReads(n);
  await new Promise((r) => setTimeout(r, 20)); // the handshakes' last ACKs are processed
  const before = pair.server.settles;
  await conns[0]!.c.write(new Uint8Array([42]));
  assert.equal(await pending[0], 1);
  const settles = pair.server.settles - before;
  for (const { c, s } of conns) {
    c.close();
    s.close();
  }
  await Promise.allSettled(pending);
  await pair[Symbol.asyncDispose]();
  return settles;
}

Deno.test("NetStack settles O(changed sockets) per poll, not one per waiting connection", async () => {
  const small = await settlesForOneByte(4);
  const large = await settlesForOneByte(400);
  // One changed connection: the same handful of settles whether 4 or 400 reads wait.
  assert.ok(small >= 1 && small <= 4, `settles with 4 waiting: ${small}`);
  assert.ok(large <= small + 1, `settles with 400 waiting: ${large} vs ${small} with 4`);
});

Deno.test("NetStack runs no empty poll after a busy one: at most 3 polls per stack per connect+accept+close", async () => {
  await using pair = stackPair();
  const listener = pair.server.listen({ port: 81 });
  const n = 200;
  const before = pair.server.polls + pair.client.polls;
  for (let i = 0; i < n; i++) {
    const accepted = listener.accept();
    const conn = await pair.client.connect({ hostname: "192.0.2.1", port: 81 });
    const peer = await accepted;
    conn.close();
    peer.close();
  }
  const perConn = (pair.server.polls + pair.client.polls - before) / n;
  // Two busy polls per stack per connection (SYN / SYN-ACK+ACK, FIN exchange); a poll after
  // each of them that finds nothing to do would make it 8. Timers under load may add a few.
  assert.ok(perConn <= 6, `polls per connection: ${perConn}`);
  listener.close();
});

Deno.test("NetStack settles an idle listener or UDP socket only when it changed, not per poll", async () => {
  await using pair = stackPair();
  const { server, client } = pair;
  const n = 20;
  // Idle callers on the server: an accept pending on each of n listeners, a receive pending on
  // each of n UDP sockets. Before wakers reached them, each was settled after every poll.
  const listeners = Array.from({ length: n }, (_, i) => server.listen({ port: 1000 + i }));
  const accepts = listeners.map((l) => l.accept());
  const udps = Array.from({ length: n }, (_, i) => server.listenDatagram({ port: 2000 + i }));
  const receives = udps.map((u) => u.receive());
  const busy = server.listen({ port: 80 });
  const accepted = busy.accept();
  const conn = await client.connect({ hostname: "192.0.2.1", port: 80 });
  const peer = await accepted;
  const buf = new Uint8Array(1);
  const polls0 = server.polls, settles0 = server.settles;
  for (let i = 0; i < 50; i++) {
    await conn.write(new Uint8Array([i]));
    assert.equal(await peer.read(buf), 1);
  }
  const polls = server.polls - polls0, settles = server.settles - settles0;
  // One changed socket (the stream) per busy poll: at most one settle per poll. With the idle
  // callers settled per poll it would be at least 2n per poll.
  assert.ok(polls >= 50, `server polls: ${polls}`);
  assert.ok(settles <= polls, `settles ${settles} over ${polls} polls with ${2 * n} idle callers`);

  // The idle ones are still settled when their socket changes.
  const s0 = server.settles;
  const sender = client.listenDatagram({ port: 3000 });
  await sender.send(new Uint8Array([7]), { transport: "udp", hostname: "192.0.2.1", port: 2005 });
  const [data, from] = await receives[5]!;
  assert.deepEqual([...data], [7]);
  assert.equal((from as Deno.NetAddr).port, 3000);
  const c2 = await client.connect({ hostname: "192.0.2.1", port: 1007 });
  const p2 = await accepts[7]!;
  assert.equal(p2.remoteAddr.port, c2.localAddr.port);
  assert.ok(
    server.settles - s0 <= 8,
    `settles for one datagram and one accept: ${server.settles - s0}`,
  );

  for (const c of [conn, peer, c2, p2]) c.close();
  sender.close();
  for (const u of udps) u.close();
  for (const l of [...listeners, busy]) l.close();
  await Promise.allSettled([...accepts, ...receives]);
});

Deno.test("Driver runs the next turn at once when a turn ends at its poll budget mid-burst", async () => {
  // 200 polls that each make progress, no deadline and no device wake-up: a loop that waited
  // for readiness after its 64-poll budget would stop at 64 for good (a TUN device signals
  // readiness again only once a read found it empty).
  let left = 200;
  const target: PollTarget = {
    pollOnce: () => left-- > 0,
    nextDeadline: () => NEVER,
    lingering: () => false,
  };
  const d = new Driver(target);
  d.wake();
  for (let i = 0; i < 20 && left > 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(left <= 0, true, `polls stopped with ${left} progressing polls left`);
  assert.equal(d.polls, 201); // 200 that progressed, then the one that found nothing
  d.stop();
});

Deno.test("Driver.wakeBy polls for a due instant and only keeps a later one as a deadline", async () => {
  const target: PollTarget = {
    pollOnce: () => false,
    nextDeadline: () => NEVER,
    lingering: () => false,
  };
  const d = new Driver(target);
  const turns = async () => {
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
  };
  d.wakeBy(NEVER, 100); // nothing ever due: no poll
  d.wakeBy(100 + 60_000, 100); // due in a minute: a timer, no poll now
  await turns();
  assert.equal(d.polls, 0);
  d.wakeBy(100, 100); // due now: one poll
  d.wakeBy(99, 100); // coalesced with it
  await turns();
  assert.equal(d.polls, 1);
  d.stop();
  d.wakeBy(0, 100); // a stopped driver polls no more
  await turns();
  assert.equal(d.polls, 1);
});

/** Two drivers whose polls wake each other `rounds` times in all (`Infinity`: for ever). */
function pingPong(rounds: number): [Driver, Driver] {
  let left = rounds;
  const ds: Driver[] = [];
  const target = (other: number): PollTarget => ({
    pollOnce: () => {
      if (left-- > 0) ds[other]!.wake();
      return false;
    },
    nextDeadline: () => NEVER,
    lingering: () => false,
  });
  ds.push(new Driver(target(1)), new Driver(target(0)));
  return [ds[0]!, ds[1]!];
}

Deno.test("Drivers of one process run each other's wake-ups in the same turn of the event loop", async () => {
  // Like two stacks on a linkPair: each poll puts a frame on the other's device.
  const [a, b] = pingPong(10);
  a.wake();
  await new Promise((r) => setImmediate(r));
  assert.equal(a.polls + b.polls, 11); // before one other callback of the loop ran
  assert.equal(a.polls, 6);
  a.stop();
  b.stop();
});

Deno.test("Drivers hand over to the application when a waiter finished, before the next driver's turn", async () => {
  const [a, b] = pingPong(10);
  const done = new FakeWatcher(undefined, false); // its settle resolves what it waited for
  a.watch(done);
  a.wake();
  await new Promise((r) => setImmediate(r));
  // A's turn settled a waiter: B, woken by A's poll, waits for the next callback, so the
  // waiter's continuation runs first.
  assert.deepEqual([a.polls, b.polls, done.settled], [1, 0, 1]);
  await new Promise((r) => setImmediate(r));
  assert.equal(a.polls + b.polls, 11);
  a.stop();
  b.stop();
});

Deno.test("Drivers that wake each other for ever still let the event loop turn", async () => {
  const [a, b] = pingPong(Infinity);
  a.wake();
  await new Promise((r) => setImmediate(r));
  // One batch of 64 turns, then the rest of the loop's callbacks (this one) first.
  assert.equal(a.polls + b.polls, 64);
  await new Promise((r) => setImmediate(r));
  assert.equal(a.polls + b.polls, 128);
  a.stop();
  b.stop();
  await new Promise((r) => setImmediate(r));
  assert.equal(a.polls + b.polls, 128); // stopped drivers are skipped
});
