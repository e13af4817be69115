/**
 * See what TCP does. Turn a packet capture (ours from `PcapWriter`, tcpdump's or Wireshark's) or
 * a recording of our own sockets into pictures: a ladder diagram of the handshake and teardown, a
 * time-sequence graph like tcptrace's (data, ACKs, SACK blocks, retransmissions, receive
 * window), the sender's congestion window and RTT over time, and goodput; all as self-contained
 * SVG and one HTML page with no external assets.
 *
 * - {@linkcode readCapture} reads pcap and pcapng files; {@linkcode tcpTracesFromCapture} makes a
 *   {@linkcode ConnectionTrace} per TCP connection in it.
 * - {@linkcode TcpTraceRecorder} samples a socket's `info` (state, cwnd, ssthresh, SRTT, RTO,
 *   bytes in flight) when asked, into a bounded ring; {@linkcode mergeEvents} adds its events to
 *   the capture's segments.
 * - {@linkcode ladderSvg}, {@linkcode timeSequenceSvg}, {@linkcode congestionSvg},
 *   {@linkcode throughputSvg} draw; {@linkcode traceReportHtml} puts them on one page;
 *   {@linkcode traceToJsonLines} exports the events.
 *
 * `examples/trace_capture.ts` is the command-line tool over a capture file, and
 * `deno task explain` runs a short transfer with a forced loss between two stacks and writes
 * its report.
 *
 * @example From a capture to a report
 * ```ts
 * import { readCapture, tcpTracesFromCapture, traceReportHtml } from "@smol/net/trace";
 * import { pcapGlobalHeader } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const traces = tcpTracesFromCapture(readCapture(pcapGlobalHeader(101, 65535)));
 * assert.equal(traces.length, 0); // an empty capture has no connections
 * assert.ok(traceReportHtml({ a: "a", b: "b", events: [] }).includes("<svg"));
 * ```
 *
 * @module
 */

export * from "./events.ts";
export * from "./pcap_reader.ts";
export * from "./from_capture.ts";
export * from "./recorder.ts";
export * from "./svg.ts";
export * from "./report.ts";
