/**
 * How a TCP connection is set up, shown on our own code: two stacks on an in-memory link with
 * 10 ms of delay each way, driven on explicit (virtual) time. The client connects, sends 64 KiB
 * with one data segment dropped on the way, and closes. The script writes an HTML report (ladder
 * diagram, time-sequence graph, congestion window and RTT, goodput), the SVGs, the events as JSON
 * Lines and the capture as pcap, and prints where each step of the explanation happens in the
 * code (file and function).
 *
 *   deno task explain --out /tmp/explain
 *   deno run --allow-write examples/explain.ts --out DIR [--drop N] [--bytes N]
 *
 * @module
 */

import { Ipv4Address } from "@smol/net";
import { Interface, SocketSet } from "@smol/net/iface";
import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
import {
  type Device,
  DeviceWrapper,
  FaultInjector,
  linkPair,
  MemorySink,
  PcapWriter,
} from "@smol/net/phy";
import {
  congestionSvg,
  type ConnectionTrace,
  ladderSvg,
  mergeEvents,
  readCapture,
  TcpTraceRecorder,
  tcpTracesFromCapture,
  throughputSvg,
  timeSequenceSvg,
  traceReportHtml,
  traceToJsonLines,
} from "@smol/net/trace";

const USAGE = `Usage: deno run --allow-write examples/explain.ts [options]

Runs connect, a transfer with one dropped segment, and close between two smolnet stacks on
virtual time, writes a report, and prints where each step happens in our code.
  --out DIR     where to write report.html, *.svg, trace.jsonl, capture.pcap (default: a temp dir)
  --bytes N     bytes the client sends (default 65536)
  --drop N      drop the client's N-th transmitted frame, 0 for none (default 12)
  --help        this text`;

/**
 * One step of the explanation: what happens, and the file and function that do it. The test
 * `tests/examples/explain_test.ts` checks that every function named here is in its file.
 */
export interface Step {
  /** What happens. */
  readonly what: string;
  /** Path from the repository root. */
  readonly file: string;
  /** The function or method, as written in the file. */
  readonly fn: string;
}

/** The steps of the explanation, in order. */
export const STEPS: readonly Step[] = [
  {
    what: "connect() only moves the socket to SYN-SENT, records the peer and picks the ISN; " +
      "nothing is sent",
    file: "src/socket/tcp/socket.ts",
    fn: "connect",
  },
  {
    what: "the initial sequence number: a clock part plus SipHash of the 4-tuple (RFC 6528)",
    file: "src/socket/tcp/isn.ts",
    fn: "initialSequenceNumber",
  },
  {
    what: "the application (or the async layer) polls the interface",
    file: "src/iface/interface.ts",
    fn: "poll",
  },
  {
    what: "the socket's dispatch() sees that a SYN is due and builds it",
    file: "src/socket/tcp/socket.ts",
    fn: "dispatch",
  },
  {
    what: "the server's interface parses the frame and hands the SYN to the listener, which " +
      "makes a child socket in SYN-RECEIVED",
    file: "src/socket/tcp/listener.ts",
    fn: "onSyn",
  },
  {
    what: "the SYN-ACK arrives; process() moves the client to ESTABLISHED and returns the ACK " +
      "as a value",
    file: "src/socket/tcp/socket.ts",
    fn: "process",
  },
  {
    what: "send() only queues bytes; dispatch() sends what the window and cwnd allow",
    file: "src/socket/tcp/socket.ts",
    fn: "send",
  },
  {
    what: "a dropped segment is detected by the sender's loss recovery; plan() picks what to " +
      "(re)send next",
    file: "src/socket/tcp/send.ts",
    fn: "plan",
  },
  {
    what: "close() queues a FIN after the data; dispatch() sends it when it is due",
    file: "src/socket/tcp/socket.ts",
    fn: "close",
  },
];

/** Drops the n-th frame transmitted through it (1-based), once. */
class DropNth extends DeviceWrapper {
  #count = 0;
  #dropNext = false;
  constructor(inner: Device, readonly n: number) {
    super(inner);
  }
  override transmit(now: number, len: number): Uint8Array | null {
    this.#dropNext = ++this.#count === this.n;
    return this.#dropNext ? new Uint8Array(len) : super.transmit(now, len);
  }
  override commit(): void {
    if (this.#dropNext) this.#dropNext = false;
    else super.commit();
  }
}

/** What {@linkcode explain} produced. */
export interface ExplainResult {
  /** The connection as the client recorded it (segments with why each was sent, states,
   * samples), with the server's notes, states and samples. */
  readonly trace: ConnectionTrace;
  /** The same connection read back from the client's capture. */
  readonly captured: ConnectionTrace;
  /** The capture, as a pcap file. */
  readonly pcap: Uint8Array;
  /** Bytes the server received, in order. */
  readonly received: number;
  /** The client's counters at the end. */
  readonly retransmits: number;
}

/**
 * Runs the scenario on virtual time.
 *
 * @param bytes Bytes the client sends.
 * @param drop The client's transmitted frame to drop (1-based; 0 for none).
 * @returns The trace, the capture and what arrived.
 */
export function explain(bytes = 65536, drop = 12): ExplainResult {
  const [serverEnd, clientEnd] = linkPair({ mtu: 1500 });
  const sink = new MemorySink();
  const delayed = new FaultInjector(clientEnd, { delay: 10 });
  const clientDev = new PcapWriter(drop > 0 ? new DropNth(delayed, drop) : delayed, sink);
  const server = new Interface({ addresses: ["192.0.2.1/24"] }), ss = new SocketSet();
  const client = new Interface({ addresses: ["192.0.2.2/24"] }), cs = new SocketSet();
  const listener = new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  server.listenTcp(ss, listener);
  const sock = new TcpSocket();
  const crec = new TcpTraceRecorder({ side: "a" });
  const srec = new TcpTraceRecorder({ side: "b" });
  const data = new Uint8Array(bytes).map((_, i) => i * 7);
  let child: TcpSocket | null = null;
  let sent = 0, received = 0, closed = false;
  const buf = new Uint8Array(65536);

  crec.attach(sock); // every segment the client sends or takes in, with why it was sent
  crec.note(0, "connect(): state → SYN-SENT, nothing sent yet");
  client.connectTcp(cs, sock, { addr: Ipv4Address.parse("192.0.2.1"), port: 80 }, {}, 0);
  crec.record(0, sock.info);
  crec.note(0, "poll(): dispatch() sees a SYN is due");
  for (let now = 0; now < 60_000; now++) {
    client.poll(now, clientDev, cs);
    server.poll(now, serverEnd, ss);
    if (child === null) {
      child = listener.accept();
      if (child !== null) srec.note(now, "accept(): the child is established");
    }
    if (sock.state === "established" && sent < bytes) {
      const n = sock.send(data.subarray(sent));
      if (sent === 0 && n > 0) crec.note(now, `send(${bytes} bytes): queued, sent by dispatch()`);
      sent += n;
    }
    if (child !== null) {
      let n: number;
      while ((n = child.recv(buf)) > 0) received += n;
      if (child.isEof && !closed) {
        srec.note(now, "read EOF: close()");
        child.close();
        closed = true;
      }
    }
    if (sent === bytes && sock.state === "established" && sock.sendQueue === 0) {
      crec.note(now, "close(): FIN queued");
      sock.close();
    }
    crec.record(now, sock.info);
    if (child !== null) srec.record(now, child.info);
    if (
      closed && (sock.state === "timeWait" || sock.state === "closed") &&
      child!.state === "closed"
    ) break;
  }
  crec.detach();
  const pcap = sink.bytes();
  // The capture names the endpoints and must agree with the recorder on what crossed the wire.
  const [captured] = tcpTracesFromCapture(readCapture(pcap));
  if (captured === undefined) throw new Error("The capture holds no TCP connection");
  const trace = mergeEvents({ a: captured.a, b: captured.b, events: [] }, [
    ...crec.events(),
    ...srec.events(),
  ]);
  return { trace, captured, pcap, received, retransmits: sock.info.retransmits };
}

function parseArgs(args: string[]): { out: string | null; bytes: number; drop: number } {
  const r = { out: null as string | null, bytes: 65536, drop: 12 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else if (a === "--out" && v !== undefined) (r.out = v, i++);
    else if (a === "--bytes" && v !== undefined) (r.bytes = Number(v), i++);
    else if (a === "--drop" && v !== undefined) (r.drop = Number(v), i++);
    else {
      console.error(`Unknown argument ${JSON.stringify(a)}\n\n${USAGE}`);
      Deno.exit(2);
    }
  }
  if (!Number.isInteger(r.bytes) || r.bytes < 1 || r.bytes > 64 << 20) {
    console.error(`Invalid --bytes ${r.bytes}: expected 1 to ${64 << 20}`);
    Deno.exit(2);
  }
  if (!Number.isInteger(r.drop) || r.drop < 0) {
    console.error(`Invalid --drop ${r.drop}: expected a frame number, 0 for none`);
    Deno.exit(2);
  }
  return r;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const out = args.out ?? await Deno.makeTempDir({ prefix: "smolnet-explain-" });
  await Deno.mkdir(out, { recursive: true });
  const r = explain(args.bytes, args.drop);
  const t = r.trace;
  const files: [string, string | Uint8Array][] = [
    [
      "report.html",
      traceReportHtml(t, {
        title: "How a TCP connection is set up in smolnet",
        notes: [
          "Two stacks on an in-memory link, 10 ms each way, on virtual time. " +
          `The client sends ${args.bytes} bytes` +
          (args.drop > 0 ? `; its frame #${args.drop} is dropped.` : "."),
          ...STEPS.map((s, i) => `${i + 1}. ${s.what} (${s.file}, ${s.fn})`),
        ],
      }),
    ],
    ["ladder.svg", ladderSvg(t, { maxRows: 40 })],
    ["time_sequence.svg", timeSequenceSvg(t, "ab")],
    ["congestion.svg", congestionSvg(t, "ab")],
    ["throughput.svg", throughputSvg(t, "ab")],
    ["trace.jsonl", traceToJsonLines(t)],
    ["capture.pcap", r.pcap],
  ];
  for (const [name, body] of files) {
    const path = `${out}/${name}`;
    if (typeof body === "string") await Deno.writeTextFile(path, body);
    else await Deno.writeFile(path, body);
  }
  console.log("Where each step happens:");
  STEPS.forEach((s, i) => console.log(`  ${i + 1}. ${s.what}\n     ${s.file}: ${s.fn}()`));
  console.log(
    `\n${r.received} of ${args.bytes} bytes arrived; the client retransmitted ${r.retransmits} ` +
      `segment(s). Report: ${out}/report.html (also ladder.svg, time_sequence.svg, ` +
      `congestion.svg, throughput.svg, trace.jsonl, capture.pcap)`,
  );
}
