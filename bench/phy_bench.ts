/**
 * phy micro-benchmarks: one frame through an in-memory link (transmit, fill, commit, receive),
 * bare and behind each wrapper, so the per-frame cost of the device layer stays visible.
 */
import { FaultInjector, linkPair, Loopback, Medium, PcapWriter, Tracer } from "../src/phy/mod.ts";
import type { Device } from "../src/phy/mod.ts";

const FRAME = 1514;
const payload = new Uint8Array(FRAME).fill(0x5a);

/** One round: transmit a 1514-byte frame on `tx`, copy the payload in, commit, receive on `rx`. */
function round(tx: Device, rx: Device, now: number): void {
  const buf = tx.transmit(now, FRAME);
  if (buf === null) throw new Error("Transmit refused");
  buf.set(payload);
  tx.commit();
  if (rx.receive(now) === null) throw new Error("Nothing received");
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  let now = 0;
  Deno.bench({
    name: "linkPair transmit+commit+receive, 1514-byte frame",
    group: "round",
    baseline: true,
    fn: () => round(a, b, now++),
  });
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  let now = 0;
  Deno.bench({
    name: "linkPair transmit+commit+receive, no fill (device overhead only)",
    group: "round",
    fn: () => {
      a.transmit(now, FRAME);
      a.commit();
      b.receive(now++);
    },
  });
}

{
  const lo = new Loopback({ medium: Medium.Ethernet, mtu: FRAME });
  let now = 0;
  Deno.bench({
    name: "Loopback transmit+commit+receive, 1514-byte frame",
    group: "round",
    fn: () => round(lo, lo, now++),
  });
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  const dev = new Tracer(a, () => {});
  let now = 0;
  Deno.bench({
    name: "Tracer(linkPair) with a no-op callback",
    group: "wrapped",
    fn: () => round(dev, b, now++),
  });
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  const dev = new FaultInjector(a, { seed: 1, dropRate: 0.01, corruptRate: 0.01 });
  let now = 0;
  Deno.bench({
    name: "FaultInjector(linkPair) drop+corrupt 1% (zero-copy path)",
    group: "wrapped",
    fn: () => {
      const buf = dev.transmit(now, FRAME)!;
      buf.set(payload);
      dev.commit();
      b.receive(now++);
    },
  });
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  const dev = new FaultInjector(a, { seed: 1, delay: 1 });
  let now = 0;
  Deno.bench({
    name: "FaultInjector(linkPair) 1 ms delay (queued, one copy)",
    group: "wrapped",
    fn: () => {
      const buf = dev.transmit(now, FRAME)!;
      buf.set(payload);
      dev.commit();
      now++;
      dev.canTransmit(now); // releases the frame due now
      b.receive(now);
    },
  });
}

{
  const [a, b] = linkPair({ medium: Medium.Ethernet });
  let written = 0;
  const dev = new PcapWriter(a, { write: (bytes) => void (written += bytes.length) });
  let now = 0;
  Deno.bench({
    name: "PcapWriter(linkPair) into a counting sink (record building only)",
    group: "wrapped",
    fn: () => round(dev, b, now++),
  });
}
