import assert from "node:assert/strict";
import { TcpSendReason } from "../../../src/socket/tcp/trace_sink.ts";
import { explain } from "../../../examples/explain.ts";
import { TcpListenSocket, TcpSocket } from "../../../src/socket/tcp/mod.ts";
import { type SocketContext, TokenBucket } from "../../../src/socket/context.ts";
import { Rng } from "../../../src/iface/mod.ts";
import { Ipv4Address, parseIpAddress } from "../../../src/wire/address.ts";
import { parseTcp, TcpPacket, type TcpRepr } from "../../../src/wire/tcp.ts";
import { drain, inject, pair } from "../../iface/helpers.ts";

Deno.test("TcpSocket.traceSink hears nothing when unset and survives connect()", () => {
  // explain() attaches a recorder before connect(): the SYN is in its trace.
  const r = explain(4096, 0);
  const first = r.trace.events.find((e) => e.kind === "segment");
  assert.ok(first !== undefined && first.kind === "segment");
  assert.equal(first.reason, TcpSendReason.Syn);
  assert.equal(first.flags & 0x02, 0x02);
});

Deno.test("TcpSendReason names every reason once", () => {
  const values = Object.values(TcpSendReason);
  assert.equal(new Set(values).size, values.length);
});

/** What a sink copies of a segment (the repr itself is valid only during the call). */
function fields(r: TcpRepr): string {
  const ts = r.timestamp === null ? "-" : `${r.timestamp.tsVal}/${r.timestamp.tsEcr}`;
  return `${r.seq} ${r.ack} ${r.flags} ${r.window} ${r.payload.length} ${ts} ${r.sackBlocks}`;
}

/** The TCP segments in IPv4 frames from the IP medium. */
function onWire(frames: Uint8Array[]): string[] {
  return frames.map((f) => {
    const src = Ipv4Address.parse("192.0.2.1"), dst = Ipv4Address.parse("192.0.2.2");
    const ip = f.subarray(0, (f[2]! << 8) | f[3]!);
    const a = f[12] === 192 && f[15] === 1 ? src : dst;
    return fields(parseTcp(new TcpPacket(ip.subarray(20)), a, a === src ? dst : src));
  });
}

Deno.test("a trace sink on a socket of an Interface sees each segment as sent and received, though the reprs are reused", () => {
  const [a, b] = pair("ip", { coalesceTcp: false });
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 8080 });
  b.iface.listenTcp(b.sockets, listener);
  const client = new TcpSocket();
  const seen: Record<"in" | "out", string[]> = { in: [], out: [] };
  const objects = new Set<TcpRepr>();
  client.traceSink = {
    segment: (_now, dir, repr) => {
      seen[dir].push(fields(repr));
      if (dir === "out" && repr.payload.length > 0) objects.add(repr);
    },
  };
  a.iface.connectTcp(a.sockets, client, { addr: parseIpAddress("192.0.2.2"), port: 8080 }, {}, 0);
  const data = new Uint8Array(40_000).map((_, i) => i & 0xff);
  let sent = 0;
  const wire: Record<"in" | "out", string[]> = { in: [], out: [] };
  for (let t = 0; t < 400; t++) {
    if (client.state === "established" && sent < data.length) {
      sent += client.send(data.subarray(sent));
    }
    a.iface.poll(t, a.dev, a.sockets);
    const out = drain(b.dev, t); // taken off the link, recorded, and put back
    wire.out.push(...onWire(out));
    inject(a.dev, out, t);
    b.iface.poll(t, b.dev, b.sockets);
    listener.accept()?.recv(new Uint8Array(65536));
    const back = drain(a.dev, t);
    wire.in.push(...onWire(back));
    inject(b.dev, back, t);
  }
  assert.equal(sent, data.length);
  assert.ok(wire.out.length >= 29, `${wire.out.length} segments`);
  assert.deepEqual(seen.out, wire.out);
  assert.deepEqual(seen.in, wire.in);
  // Every data segment the client sent through the Interface's emitter was the same object.
  assert.equal(objects.size, 1);
});

Deno.test("dispatch builds a new repr for each segment unless the emitter writes through", () => {
  const cx = (now: number): SocketContext => ({
    now,
    random: new Rng(1),
    ipMtu: 1500,
    isnSecret: new Uint8Array(16),
    challengeAckLimiter: new TokenBucket({ burst: 1, interval: 1000 }),
  });
  const to = { addr: Ipv4Address.parse("192.0.2.2"), port: 80 };
  const from = { addr: Ipv4Address.parse("192.0.2.1"), port: 40000 };
  for (const writesThrough of [undefined, false, true]) {
    const kept: TcpRepr[] = [];
    const tsVals: number[] = [];
    const emitter = {
      emitTcp: (_s: unknown, _d: unknown, r: TcpRepr) => {
        tsVals.push(r.timestamp!.tsVal);
        return kept.push(r) > 0;
      },
      ...(writesThrough === undefined ? {} : { writesThrough }),
    };
    const s = new TcpSocket();
    s.connect(cx(0), to, from);
    assert.equal(s.dispatch(cx(0), emitter), true); // the SYN
    assert.equal(s.dispatch(cx(5000), emitter), true); // again, after the retransmission timeout
    assert.equal(kept.length, 2);
    assert.equal(tsVals[1]! - tsVals[0]!, 5000);
    if (writesThrough === true) assert.equal(kept[0], kept[1]);
    else {
      assert.notEqual(kept[0], kept[1]);
      assert.deepEqual(kept.map((r) => r.timestamp!.tsVal), tsVals); // each kept as sent
    }
  }
});
