// Arguments are checked at the door: the new-user trial of issue 14, step by step.
import assert from "node:assert/strict";
import { FaultInjector, linkPair, MemorySink, NetStack, PcapWriter, Tracer } from "../../mod.ts";
import { stackPair } from "./_helpers.ts";

function throwsWith(
  fn: () => unknown,
  cls: new (...a: never[]) => Error,
  ...parts: string[]
): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

async function rejectsWith(
  p: Promise<unknown>,
  cls: new (...a: never[]) => Error,
  ...parts: string[]
): Promise<void> {
  const e = await p.then(() => null, (e) => e);
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
  for (const s of parts) assert.ok(e.message.includes(s), `"${e.message}" lacks "${s}"`);
}

Deno.test("new NetStack rejects a bad TCP option at once instead of failing in the poll loop", () => {
  const [a] = linkPair();
  const base = { device: a, addresses: ["192.0.2.1/24"] };
  throwsWith(
    () => new NetStack({ ...base, tcp: { rxBufferSize: -1 } }),
    RangeError,
    "tcp.rxBufferSize",
    "-1",
  );
  throwsWith(
    () => new NetStack({ ...base, tcp: { txBufferSize: "big" as unknown as number } }),
    TypeError,
    "tcp.txBufferSize",
    '"big"',
    "got a string",
  );
  throwsWith(
    () => new NetStack({ ...base, tcp: { congestion: "bbr" as "cubic" } }),
    TypeError,
    "tcp.congestion",
    '"bbr"',
  );
  throwsWith(
    () => new NetStack({ ...base, tcp: { hystart: "on" as unknown as boolean } }),
    TypeError,
    "tcp.hystart",
    '"on"',
  );
  throwsWith(
    () => new NetStack({ ...base, tcp: { keepAlive: { idle: 1, interval: 0, count: 1 } } }),
    RangeError,
    "tcp.keepAlive.interval",
  );
  throwsWith(
    () => new NetStack({ ...base, tcp: { rto: { minRto: 500, maxRto: 100 } } }),
    RangeError,
    "RTO",
  );
  // None of these left the device claimed.
  const stack = new NetStack(base);
  void stack.close();
});

Deno.test("new NetStack rejects a bad backlog, address, gateway or device at the constructor", () => {
  const [a] = linkPair();
  const base = { device: a, addresses: ["192.0.2.1/24"] };
  throwsWith(() => new NetStack({ ...base, backlog: -5 }), RangeError, "backlog", "-5");
  throwsWith(() => new NetStack({ ...base, backlog: 1.5 }), RangeError, "backlog");
  throwsWith(
    () => new NetStack({ ...base, addresses: ["192.0.2.300/24"] }),
    TypeError,
    "addresses[0]",
    '"192.0.2.300/24"',
  );
  throwsWith(
    () => new NetStack({ ...base, addresses: "192.0.2.1/24" as unknown as string[] }),
    TypeError,
    "addresses",
    "expected an array",
  );
  throwsWith(() => new NetStack({ ...base, gateways: ["gw"] }), TypeError, "gateways[0]", '"gw"');
  throwsWith(
    () => new NetStack({ ...base, device: {} as never }),
    TypeError,
    "device",
    "expected a Device",
  );
  throwsWith(() => new NetStack(undefined as never), TypeError, "options", "got undefined");
  throwsWith(() => new NetStack({ ...base, seed: -1 }), RangeError, "seed");
});

Deno.test("linkPair and NetStack enforce the RFC minimum MTUs", () => {
  throwsWith(() => linkPair({ mtu: 10 }), RangeError, "mtu 10", "68", "RFC 791");
  throwsWith(() => linkPair({ medium: "ethernet", mtu: 81 }), RangeError, "mtu 81", "82");
  throwsWith(
    () => linkPair({ mtu: "1500" as unknown as number }),
    TypeError,
    "mtu",
    "got a string",
  );
  throwsWith(() => linkPair({ mtu: 65536 }), RangeError, "mtu 65536");
  const [small] = linkPair({ mtu: 576 });
  // An IPv4-only stack runs on 576 bytes; an IPv6 address needs 1280 (RFC 8200 §5).
  throwsWith(
    () => new NetStack({ device: small, addresses: ["192.0.2.1/24", "2001:db8::1/64"] }),
    RangeError,
    "device MTU 576",
    "1280",
  );
  const ok = new NetStack({ device: small, addresses: ["192.0.2.1/24"] });
  void ok.close();
});

Deno.test("A port is a RangeError out of range and a TypeError of the wrong type, everywhere", async () => {
  await using net = stackPair();
  throwsWith(() => net.server.listen({ port: 70000 }), RangeError, "port 70000", "0 to 65535");
  throwsWith(
    () => net.server.listen({ port: "80" as unknown as number }),
    TypeError,
    'port "80"',
    "expected a number, got a string",
  );
  throwsWith(() => net.server.listenDatagram({ port: 70000 }), RangeError, "port 70000");
  throwsWith(
    () => net.server.listenDatagram({ port: "80" as unknown as number }),
    TypeError,
    "got a string",
  );
  await rejectsWith(
    net.client.connect({ hostname: "192.0.2.1", port: 70000 }),
    RangeError,
    "port 70000",
    "1 to 65535",
  );
  await rejectsWith(
    net.client.connect({ hostname: "192.0.2.1", port: "80" as unknown as number }),
    TypeError,
    "got a string",
  );
  await rejectsWith(
    net.client.connect({ hostname: "192.0.2.1", port: 80, localPort: 0 }),
    RangeError,
    "localPort 0",
  );
  const udp = net.client.listenDatagram({ port: 0 });
  await rejectsWith(
    udp.send(new Uint8Array(1), { transport: "udp", hostname: "192.0.2.1", port: 70000 }),
    RangeError,
    "addr.port 70000",
  );
  await rejectsWith(
    udp.send(new Uint8Array(1), {
      transport: "udp",
      hostname: "192.0.2.1",
      port: "7" as unknown as number,
    }),
    TypeError,
    "addr.port",
    "got a string",
  );
  udp.close();
  throwsWith(() => net.server.listen({ port: 80, tcpBacklog: -5 }), RangeError, "tcpBacklog -5");
});

Deno.test("TcpStream.write takes only a Uint8Array, like Deno's TcpConn", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await net.client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer = await accepted;
  for (const bad of ["hello", {}, null, undefined, 5, new Uint16Array(2), [1, 2]]) {
    await rejectsWith(
      conn.write(bad as unknown as Uint8Array),
      TypeError,
      "Invalid data",
      "expected a Uint8Array",
    );
  }
  await rejectsWith(conn.read("x" as unknown as Uint8Array), TypeError, "Invalid buffer");
  throwsWith(() => conn.setNoDelay("yes" as unknown as boolean), TypeError, "noDelay");
  // Nothing reached the peer: the next bytes it reads are the ones written after.
  await conn.write(new Uint8Array([1, 2, 3]));
  const buf = new Uint8Array(8);
  const n = await peer.read(buf);
  assert.deepEqual([...buf.subarray(0, n!)], [1, 2, 3]);
  conn.close();
  peer.close();
  listener.close();
});

Deno.test("Options follow Deno's names: transport, tcpBacklog, an optional connect hostname", async () => {
  await using net = stackPair();
  const listener = net.server.listen({ transport: "tcp", port: 7, tcpBacklog: 4 });
  const conn = await net.client.connect({ transport: "tcp", hostname: "192.0.2.1", port: 7 });
  (await listener.accept()).close();
  conn.close();
  const udp = net.server.listenDatagram({ transport: "udp", port: 9 });
  throwsWith(
    () => net.server.listenDatagram({ transport: "tcp" as "udp", port: 10 }),
    TypeError,
    "transport",
  );
  // Deno.connect defaults to 127.0.0.1; a stack has no loopback interface.
  await rejectsWith(
    net.client.connect({ port: 7 }),
    Deno.errors.NetworkUnreachable,
    "127.0.0.1:7",
  );
  udp.close();
  listener.close();
});

Deno.test("A device belongs to one NetStack at a time, through wrappers too", async () => {
  const [a] = linkPair();
  const first = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
  let e: unknown = null;
  try {
    new NetStack({ device: a, addresses: ["192.0.2.2/24"] });
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof Deno.errors.Busy);
  assert.equal((e as { code?: string }).code, "EBUSY");
  assert.match(e.message, /belongs to another NetStack/);
  const wrapped = new PcapWriter(new FaultInjector(new Tracer(a, () => {}), {}), new MemorySink());
  assert.throws(
    () => new NetStack({ device: wrapped, addresses: ["192.0.2.2/24"] }),
    Deno.errors.Busy,
  );
  await first.close();
  // Once the first stack is closed the device is free again, directly or wrapped.
  const second = new NetStack({ device: wrapped, addresses: ["192.0.2.2/24"] });
  assert.throws(() => new NetStack({ device: a, addresses: ["192.0.2.3/24"] }), Deno.errors.Busy);
  await second.close();
});
