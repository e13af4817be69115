// Property-based fuzzing of the public API (issue 14): arguments of wrong types, out of range and
// at the edges for every public function. Each call works or throws (or rejects with) a
// documented class; afterwards the stacks still work and a connection that was open throughout
// delivers every byte unchanged.
import assert from "node:assert/strict";
import fc from "fast-check";
import { linkPair, Loopback, NetStack, type TcpListener, type TcpStream } from "../../mod.ts";
import type { UdpSocket } from "../../mod.ts";
import { pattern, readAll, stackPair, writeAll } from "./_helpers.ts";

/** What the API documents it throws: bad arguments, network conditions, use after close. */
function documented(e: unknown): boolean {
  if (e instanceof TypeError || e instanceof RangeError) return true;
  if (e instanceof DOMException && e.name === "AbortError") return true;
  return Object.values(Deno.errors).some((cls) => e instanceof cls);
}

function check(e: unknown, what: string): void {
  assert.ok(documented(e), `${what} threw an undocumented ${e}`);
  if (e instanceof TypeError || e instanceof RangeError) {
    // Our checks name what was wrong; an engine message ("x.subarray is not a function",
    // "Cannot read properties of undefined") means a value got past the door.
    assert.match(e.message, /^(Invalid |Cannot |UDP payload )/, `${what}: ${e.message}`);
  }
}

/** Edge values and wrong types mixed with anything fast-check makes. */
const edge = fc.constantFrom<unknown>(
  0,
  -1,
  1,
  1.5,
  65535,
  65536,
  70000,
  2 ** 31,
  2 ** 53,
  -0,
  NaN,
  Infinity,
  -Infinity,
  "80",
  "",
  "192.0.2.1",
  "2001:db8::1",
  "192.0.2.300",
  "localhost",
  "::",
  "0.0.0.0",
  "224.0.0.1",
  "tcp",
  "udp",
  null,
  undefined,
  true,
  {},
  [],
  new Uint8Array(0),
  new Uint8Array(3),
  new Uint16Array(2),
  Symbol("x"),
  10n,
  () => 1,
);
const value = fc.oneof(
  { weight: 3, arbitrary: edge },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.integer({ min: -70000, max: 140000 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
/** An options object with some of `keys` set to fuzzed values, or a fuzzed non-object. */
function options(...keys: string[]): fc.Arbitrary<unknown> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of keys) record[k] = value;
  return fc.oneof(
    { weight: 4, arbitrary: fc.record(record, { requiredKeys: [] }) },
    { weight: 1, arbitrary: value },
  );
}

type Op = (args: unknown[]) => unknown;

Deno.test("Every public function takes fuzzed arguments without breaking the stack or other connections", async () => {
  await using net = stackPair({ client: { tcp: { connectTimeout: 300 } } });
  // A connection that stays open through the whole run; its bytes are checked at the end.
  const witnessListener = net.server.listen({ port: 7 });
  const accepted = witnessListener.accept();
  const witness = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const witnessPeer = await accepted;
  const before = pattern(100_000, 3);
  await writeAll(witness, before);

  // What the run opens, closed at the end; promises it leaves pending, settled at the end.
  const listeners: TcpListener[] = [];
  const udps: UdpSocket[] = [];
  const conns: TcpStream[] = [];
  const stacks: NetStack[] = [];
  const pending: Promise<unknown>[] = [];
  const fuzzListener = net.server.listen({ port: 9 });
  listeners.push(fuzzListener);
  const fuzzAccept = fuzzListener.accept();
  const fuzzConn = await net.client.connect({ hostname: "192.0.2.1", port: 9 });
  conns.push(fuzzConn, await fuzzAccept);
  const fuzzUdp = net.client.listenDatagram({ port: 0 });
  udps.push(fuzzUdp);

  const ops: Record<string, [fc.Arbitrary<unknown[]>, Op]> = {
    "NetStack.listen": [
      fc.tuple(options("port", "hostname", "tcpBacklog", "backlog", "transport")),
      ([o]) => {
        const l = net.server.listen(o as never);
        listeners.push(l);
        return l;
      },
    ],
    "NetStack.connect": [
      fc.tuple(options("hostname", "port", "localPort", "signal", "transport")),
      ([o]) => net.client.connect(o as never).then((c) => conns.push(c)),
    ],
    "NetStack.listenDatagram": [fc.tuple(options("port", "hostname", "transport")), ([o]) => {
      const u = net.server.listenDatagram(o as never);
      udps.push(u);
      return u;
    }],
    "NetStack.ping": [fc.tuple(options("hostname", "size", "timeout", "signal")), ([o]) => {
      const opts = o as Record<string, unknown>;
      // Bounded so an unanswered valid ping does not hold the run for its default 2 s.
      const bounded = typeof opts === "object" && opts !== null && typeof opts.timeout !== "number"
        ? { ...opts, timeout: 200 }
        : opts;
      return net.client.ping(bounded as never);
    }],
    "new NetStack": [
      fc.tuple(
        options(
          "addresses",
          "gateways",
          "hardwareAddress",
          "backlog",
          "maxSockets",
          "seed",
          "dnsServers",
          "tcp",
          "iface",
        ),
      ),
      ([o]) => {
        const opts = typeof o === "object" && o !== null ? o : {};
        const s = new NetStack({ device: linkPair()[0], ...opts } as never);
        stacks.push(s);
        return s;
      },
    ],
    "new NetStack tcp options": [
      fc.tuple(
        options(
          "rxBufferSize",
          "txBufferSize",
          "congestion",
          "hystart",
          "noDelay",
          "keepAlive",
          "userTimeout",
          "connectTimeout",
          "rto",
          "timeWait",
          "delayedAck",
          "mss",
          "maxRetransmissions",
          "sack",
        ),
      ),
      ([tcp]) => {
        const s = new NetStack(
          { device: linkPair()[0], addresses: ["192.0.2.5/24"], tcp } as never,
        );
        stacks.push(s);
        return s;
      },
    ],
    linkPair: [
      fc.tuple(options("mtu", "medium", "queueLen", "checksum")),
      ([o]) => linkPair(o as never),
    ],
    "new Loopback": [
      fc.tuple(options("mtu", "medium", "queueLen")),
      ([o]) => new Loopback(o as never),
    ],
    "TcpStream.write": [fc.tuple(value), ([p]) => fuzzConn.write(p as never)],
    "TcpStream.read": [fc.tuple(value), ([p]) => {
      if (p instanceof Uint8Array && p.length > 0) return; // would wait for data: not a fuzz case
      return fuzzConn.read(p as never);
    }],
    "TcpStream.setNoDelay": [fc.tuple(value), ([v]) => fuzzConn.setNoDelay(v as never)],
    "TcpStream.setKeepAlive": [fc.tuple(value), ([v]) => fuzzConn.setKeepAlive(v as never)],
    "UdpSocket.send": [
      fc.tuple(
        value,
        fc.oneof(
          options("transport", "hostname", "port"),
          fc.record({
            transport: fc.constant("udp"),
            hostname: fc.constantFrom("192.0.2.1", "2001:db8::1", "192.0.2.9"),
            port: value,
          }),
        ),
      ),
      ([p, addr]) => fuzzUdp.send(p as never, addr as never),
    ],
    "UdpSocket.receive": [fc.tuple(value), ([p]) => {
      if (p === undefined || p instanceof Uint8Array) return; // would wait: not a fuzz case
      return fuzzUdp.receive(p as never);
    }],
  };

  for (const [name, [args, op]] of Object.entries(ops)) {
    await fc.assert(
      fc.asyncProperty(args, async (a) => {
        let result: unknown;
        try {
          result = op(a);
        } catch (e) {
          check(e, name);
          return;
        }
        if (result instanceof Promise) {
          // Settle quickly when it can; otherwise keep it and check how it ends later.
          const p = result.then(() => undefined, (e) => check(e, name));
          const quick = await Promise.race([
            p.then(() => true),
            new Promise((r) => setTimeout(r, 5, false)),
          ]);
          if (!quick) pending.push(p);
        }
      }),
      { numRuns: 150, seed: 14 },
    );
  }

  // The stacks never failed, and both still serve new connections.
  assert.equal(net.server.deviceError, null);
  assert.equal(net.client.deviceError, null);
  const fresh = net.server.listen({ port: 0 });
  const freshAccept = fresh.accept();
  const c = await net.client.connect({ hostname: "192.0.2.1", port: fresh.addr.port });
  (await freshAccept).close();
  c.close();
  fresh.close();

  // Every byte of the witness connection arrives unchanged, including those sent after the run.
  const after = pattern(50_000, 4);
  const reading = readAll(witnessPeer);
  await writeAll(witness, after);
  await witness.closeWrite();
  const got = await reading;
  assert.equal(got.length, before.length + after.length);
  assert.deepEqual(got.subarray(0, before.length), before);
  assert.deepEqual(got.subarray(before.length), after);

  for (const l of listeners) l[Symbol.dispose]();
  for (const u of udps) {
    try {
      u.close();
    } catch { /* closed */ }
  }
  for (const s of conns) s[Symbol.dispose]();
  for (const s of stacks) await s.close();
  await Promise.all(pending);
  witness.close();
  witnessPeer.close();
  witnessListener.close();
});
