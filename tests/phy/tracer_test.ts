import assert from "node:assert/strict";
import {
  FaultInjector,
  formatHex,
  linkPair,
  Loopback,
  Medium,
  stderrTracer,
  Tracer,
} from "../../src/phy/mod.ts";
import type { Device, TraceEvent } from "../../src/phy/mod.ts";

interface Seen {
  direction: "rx" | "tx";
  now: number;
  frame: number[];
  medium: string;
  line: string;
}

/** A tracer over `inner` that records copies of every event. */
function recording(inner: Device, formatFrame?: (f: Uint8Array, m: Medium) => string) {
  const seen: Seen[] = [];
  const onFrame = (e: TraceEvent): void => {
    seen.push({
      direction: e.direction,
      now: e.now,
      frame: [...e.frame],
      medium: e.medium,
      line: e.format(),
    });
  };
  const tracer = formatFrame === undefined
    ? new Tracer(inner, onFrame)
    : new Tracer(inner, onFrame, { formatFrame });
  return { tracer, seen };
}

function send(dev: Device, now: number, bytes: number[]): void {
  const buf = dev.transmit(now, bytes.length);
  assert.ok(buf !== null, "transmit refused");
  buf.set(bytes);
  dev.commit();
}

Deno.test("Tracer sees both directions with time, bytes and medium", () => {
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  const { tracer, seen } = recording(a, formatHex);
  send(tracer, 5, [1, 2, 3]);
  send(b, 6, [4, 5]);
  assert.deepEqual([...tracer.receive(7)!], [4, 5]);
  assert.equal(tracer.receive(8), null);
  assert.deepEqual(seen, [
    {
      direction: "tx",
      now: 5,
      frame: [1, 2, 3],
      medium: "ethernet",
      line: "ethernet 3 bytes 010203",
    },
    { direction: "rx", now: 7, frame: [4, 5], medium: "ethernet", line: "ethernet 2 bytes 0405" },
  ]);
  assert.deepEqual([...b.receive(9)!], [1, 2, 3], "the frame still reaches the peer");
});

Deno.test("Tracer reports a transmitted frame once filled, and nothing for a refused one", () => {
  const { tracer, seen } = recording(new Loopback({ mtu: 68 }));
  assert.equal(tracer.transmit(0, 69), null);
  tracer.commit();
  const buf = tracer.transmit(1, 2)!;
  assert.equal(seen.length, 0, "nothing reported before commit");
  buf.set([0xaa, 0xbb]);
  tracer.transmit(2, 1)!.set([0xcc]); // replaces the uncommitted one
  tracer.commit();
  assert.deepEqual(seen.map((s) => [s.direction, s.now, s.frame]), [["tx", 2, [0xcc]]]);
});

Deno.test("Tracer uses the formatFrame option for event.format()", () => {
  const { tracer, seen } = recording(new Loopback(), (f, m) => `${m}:${f.length}`);
  send(tracer, 0, [1, 2, 3, 4]);
  tracer.receive(0);
  assert.deepEqual(seen.map((s) => s.line), ["ip:4", "ip:4"]);
});

Deno.test("Tracer formats frames with the wire pretty printer by default", () => {
  const { tracer, seen } = recording(new Loopback());
  // IPv4/UDP 192.0.2.1:1000 -> 192.0.2.2:7, empty payload, valid header checksum.
  const udp = [69, 0, 0, 28, 0, 1, 0, 0, 64, 17, 246, 204, 192, 0, 2, 1, 192, 0, 2, 2];
  send(tracer, 0, [...udp, 3, 232, 0, 7, 0, 8, 0, 0]);
  tracer.receive(1);
  assert.deepEqual(seen.map((s) => s.line), [
    "IP 192.0.2.1.1000 > 192.0.2.2.7: UDP, length 0",
    "IP 192.0.2.1.1000 > 192.0.2.2.7: UDP, length 0",
  ]);
});

Deno.test("Tracer reuses one event object for every frame", () => {
  const events = new Set<TraceEvent>();
  const tracer = new Tracer(new Loopback(), (e) => events.add(e));
  for (let i = 0; i < 10; i++) {
    send(tracer, i, [i]);
    tracer.receive(i);
  }
  assert.equal(events.size, 1);
});

Deno.test("Tracer forwards capabilities, readiness and deadlines", () => {
  const [a, b] = linkPair();
  const inner = new FaultInjector(a, { rx: { delay: 3 } });
  const tracer = new Tracer(inner, () => {});
  assert.equal(tracer.capabilities, a.capabilities);
  let wakes = 0;
  tracer.onReadable(() => wakes++);
  send(b, 0, [1]);
  assert.equal(wakes, 1);
  assert.equal(tracer.receive(0), null);
  assert.equal(tracer.nextDeadline(), 3);
  assert.equal(tracer.canTransmit(0), true);
});

Deno.test("formatHex shows the medium, length and at most 64 bytes", () => {
  assert.equal(formatHex(new Uint8Array([0, 0x0f, 0xff]), "ip"), "ip 3 bytes 000fff");
  assert.equal(formatHex(new Uint8Array(0), "ethernet"), "ethernet 0 bytes ");
  const long = formatHex(new Uint8Array(100).fill(0xab), "ip");
  assert.equal(long, `ip 100 bytes ${"ab".repeat(64)}…`);
});

Deno.test("stderrTracer writes one line per frame to stderr", () => {
  const written: Uint8Array[] = [];
  const original = Deno.stderr.writeSync;
  Deno.stderr.writeSync = (p: Uint8Array): number => {
    written.push(p.slice());
    return p.length;
  };
  try {
    const dev = stderrTracer(new Loopback(), { formatFrame: formatHex });
    send(dev, 12.5, [0x60, 0]);
    dev.receive(13);
  } finally {
    Deno.stderr.writeSync = original;
  }
  const text = written.map((b) => new TextDecoder().decode(b)).join("");
  assert.equal(text, "12.5 tx ip 2 bytes 6000\n13 rx ip 2 bytes 6000\n");
});
