import assert from "node:assert/strict";
import { FaultInjector } from "../../src/phy/fault_injector.ts";
import { linkPair } from "../../src/phy/link.ts";
import { Loopback } from "../../src/phy/loopback.ts";
import { PcapWriter } from "../../src/phy/pcap_writer.ts";
import { Tracer } from "../../src/phy/tracer.ts";
import { DeviceWrapper } from "../../src/phy/wrapper.ts";

Deno.test("DeviceWrapper: the inner device's receivedSegmentSize passes through every wrapper", () => {
  const tun = Object.assign(new Loopback(), { receivedSegmentSize: 0 });
  const dev = new PcapWriter(new Tracer(new DeviceWrapper(tun), () => {}), { write() {} });
  assert.equal(dev.receivedSegmentSize, 0);
  tun.receivedSegmentSize = 1448;
  assert.equal(dev.receivedSegmentSize, 1448);
  // An inner device that does not report has none.
  assert.equal(new Tracer(new Loopback(), () => {}).receivedSegmentSize, 0);
});

Deno.test("FaultInjector reports the segment size only for a frame it passed straight through", () => {
  const [a, b] = linkPair();
  let seg = 0;
  const tun = Object.defineProperty(b, "receivedSegmentSize", { get: () => seg });
  const direct = new FaultInjector(tun, {});
  a.transmit(0, 60);
  a.commit();
  seg = 1448;
  assert.equal(direct.receive(0)?.length, 60);
  assert.equal(direct.receivedSegmentSize, 1448);
  // A delayed frame comes out of the injector's queue: the inner report is about another frame.
  const delayed = new FaultInjector(tun, { delay: 5 });
  a.transmit(0, 60);
  a.commit();
  assert.equal(delayed.receive(0), null);
  assert.equal(delayed.receive(5)?.length, 60);
  assert.equal(delayed.receivedSegmentSize, 0);
});
