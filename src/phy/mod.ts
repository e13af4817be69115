/**
 * The phy layer: the {@linkcode Device} contract between the stack and a network device, the
 * in-memory devices ({@linkcode linkPair}, {@linkcode Loopback}) and wrappers that compose around
 * any device: {@linkcode PcapWriter} (captures Wireshark opens), {@linkcode FaultInjector}
 * (seeded loss, duplication, reordering, corruption, delay, size and rate limits) and
 * {@linkcode Tracer} (a callback per frame).
 *
 * A device is synchronous and clock-free: `receive(now)` lends the next frame, `transmit(now,
 * len)` lends a buffer to fill and `commit()` sends it. Queues are preallocated and reused, so
 * nothing is allocated per frame. Devices fed from outside implement {@linkcode ReadinessHook};
 * devices that hold frames until later implement {@linkcode DeadlineSource}; wrappers forward
 * both.
 *
 * @example Compose wrappers around one end of a link
 * ```ts
 * import { FaultInjector, linkPair, MemorySink, PcapWriter, Tracer } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const [left, right] = linkPair();
 * const sink = new MemorySink(); // or fileSink("capture.pcap") for Wireshark
 * const lines: string[] = [];
 * const dev = new PcapWriter(
 *   new FaultInjector(new Tracer(left, (e) => lines.push(`${e.now} ${e.direction} ${e.format()}`)), {
 *     seed: 42,
 *     dropRate: 0.01,
 *     tx: { delay: 5 },
 *   }),
 *   sink,
 * );
 *
 * // An IPv4/UDP packet 192.0.2.1:1000 -> 192.0.2.2:7 with an empty payload.
 * const udp = [69, 0, 0, 28, 0, 1, 0, 0, 64, 17, 246, 204, 192, 0, 2, 1, 192, 0, 2, 2, 3, 232, 0, 7, 0, 8, 0, 0];
 * dev.transmit(0, udp.length)!.set(udp);
 * dev.commit(); // captured now, held 5 ms by the injector
 * assert.equal(dev.nextDeadline(), 5);
 * dev.receive(5); // releases it through the tracer onto the link
 * assert.deepEqual(lines, ["5 tx IP 192.0.2.1.1000 > 192.0.2.2.7: UDP, length 0"]);
 * assert.equal(right.receive(5)?.length, 28);
 * ```
 *
 * @module
 */

export {
  checksumAll,
  checksumNone,
  closeDevice,
  deviceClosed,
  deviceDeadline,
  ETHERNET_HEADER_LEN,
  hasReadinessHook,
  ipMtu,
  Medium,
} from "./device.ts";
export type {
  ChecksumCapabilities,
  Closable,
  DeadlineSource,
  Device,
  DeviceCapabilities,
  OffloadCapabilities,
  ReadinessHook,
} from "./device.ts";
export { FrameQueue, LinkDevice, linkPair } from "./link.ts";
export type { LinkOptions, LinkStats } from "./link.ts";
export { Loopback } from "./loopback.ts";
export type { LoopbackOptions } from "./loopback.ts";
export {
  fileSink,
  MemorySink,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  pcapGlobalHeader,
  PcapLinkType,
  PcapWriter,
  writePcapRecord,
} from "./pcap_writer.ts";
export type {
  PcapFileSink,
  PcapRecordOptions,
  PcapSink,
  PcapWriterOptions,
} from "./pcap_writer.ts";
export { FaultInjector } from "./fault_injector.ts";
export type {
  FaultConfig,
  FaultCounters,
  FaultInjectorOptions,
  FaultStats,
} from "./fault_injector.ts";
export { formatHex, stderrTracer, Tracer } from "./tracer.ts";
export type { FrameFormatter, TraceEvent, TracerOptions } from "./tracer.ts";
export type { Duration, Instant } from "../time.ts";
export type { FdDevice } from "./_fd_device.ts";
export { TunTapDevice } from "./tun_tap.ts";
export type { HostDeviceStats, TunTapOptions } from "./tun_tap.ts";
export { RawSocketDevice } from "./raw_socket.ts";
export type { RawSocketOptions } from "./raw_socket.ts";
export { UdpTunnelDevice } from "./udp_tunnel.ts";
export type { UdpTunnelEndpoint, UdpTunnelOptions } from "./udp_tunnel.ts";
export { DeviceWrapper } from "./wrapper.ts";
