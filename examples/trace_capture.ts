/**
 * Pictures of any TCP connection in a capture file: ours (`PcapWriter`), tcpdump's (pcap) or
 * Wireshark's (pcapng). Lists the connections, then writes the HTML report, the SVGs and the
 * events as JSON Lines for one of them.
 *
 *   deno run --allow-read --allow-write examples/trace_capture.ts capture.pcap --list
 *   deno run --allow-read --allow-write examples/trace_capture.ts capture.pcapng --out DIR [--conn N]
 *
 * @module
 */

import {
  ladderSvg,
  readCapture,
  summarizeTrace,
  tcpTracesFromCapture,
  throughputSvg,
  timeSequenceSvg,
  traceReportHtml,
  traceToJsonLines,
} from "@smol/net/trace";

const USAGE = `Usage: deno run --allow-read --allow-write examples/trace_capture.ts FILE [options]

Reads a pcap or pcapng capture and draws one of its TCP connections.
  --list        list the connections (number, endpoints, segments, bytes) and stop
  --conn N      the connection to draw, as numbered by --list (default: the one with most bytes)
  --out DIR     where to write report.html, ladder.svg, time_sequence.svg, throughput.svg and
                trace.jsonl (default: a new temp dir)
  --help        this text`;

interface Args {
  file: string;
  list: boolean;
  conn: number | null;
  out: string | null;
}

function parseArgs(args: string[]): Args {
  const r: Args = { file: "", list: false, conn: null, out: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else if (a === "--list") r.list = true;
    else if (a === "--conn" && v !== undefined) (r.conn = Number(v), i++);
    else if (a === "--out" && v !== undefined) (r.out = v, i++);
    else if (!a.startsWith("-") && r.file === "") r.file = a;
    else usage(`Unknown argument ${JSON.stringify(a)}`);
  }
  if (r.file === "") usage("No capture file given");
  if (r.conn !== null && (!Number.isInteger(r.conn) || r.conn < 1)) {
    usage(`Invalid --conn ${r.conn}: expected a connection number from --list`);
  }
  return r;
}

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  let traces;
  try {
    traces = tcpTracesFromCapture(readCapture(await Deno.readFile(args.file)));
  } catch (e) {
    console.error(`Cannot read ${args.file}: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  if (traces.length === 0) {
    console.error(`${args.file} holds no TCP connection`);
    Deno.exit(1);
  }
  const sums = traces.map(summarizeTrace);
  if (args.list) {
    traces.forEach((t, i) => {
      const s = sums[i]!;
      console.log(
        `${i + 1}. ${t.a} ⇄ ${t.b}: ${s.ab.segments + s.ba.segments} segments, ` +
          `${s.ab.bytes} / ${s.ba.bytes} payload bytes, ` +
          `${s.ab.retransmits + s.ba.retransmits} retransmissions, ${s.duration.toFixed(1)} ms`,
      );
    });
    Deno.exit(0);
  }
  let index = 0;
  if (args.conn !== null) {
    if (args.conn > traces.length) {
      usage(`Invalid --conn ${args.conn}: ${traces.length} connections`);
    }
    index = args.conn - 1;
  } else {
    sums.forEach((s, i) => {
      const best = sums[index]!;
      if (s.ab.bytes + s.ba.bytes > best.ab.bytes + best.ba.bytes) index = i;
    });
  }
  const t = traces[index]!;
  const dir = sums[index]!.ab.bytes >= sums[index]!.ba.bytes ? "ab" : "ba";
  const out = args.out ?? await Deno.makeTempDir({ prefix: "smolnet-trace-" });
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(
    `${out}/report.html`,
    traceReportHtml(t, { title: `TCP ${t.a} ⇄ ${t.b} in ${args.file}` }),
  );
  await Deno.writeTextFile(`${out}/ladder.svg`, ladderSvg(t));
  await Deno.writeTextFile(`${out}/time_sequence.svg`, timeSequenceSvg(t, dir));
  await Deno.writeTextFile(`${out}/throughput.svg`, throughputSvg(t, dir));
  await Deno.writeTextFile(`${out}/trace.jsonl`, traceToJsonLines(t));
  console.log(
    `Connection ${index + 1} of ${traces.length}: ${t.a} ⇄ ${t.b}; report: ${out}/report.html`,
  );
}
