/**
 * Pictures of a {@linkcode ConnectionTrace} as self-contained SVG (no scripts, no external
 * fonts or styles): a ladder diagram of the segments and what each side did, a time-sequence
 * graph like tcptrace's, the sender's congestion window and RTT over time, and goodput over time.
 * Every drawn segment, sample and bin is its own element with a class (`seg`, `ack`, `sack`,
 * `sample`, `bin`), so tests and tools can find them.
 *
 * @module
 */

import type {
  ConnectionTrace,
  TraceDirection,
  TraceEvent,
  TraceSample,
  TraceSegment,
  TraceTimer,
} from "./events.ts";

const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x02, "SYN"],
  [0x01, "FIN"],
  [0x04, "RST"],
  [0x08, "PSH"],
  [0x10, "ACK"],
  [0x40, "ECE"],
  [0x80, "CWR"],
];

const FONT = `font-family="ui-monospace,Menlo,Consolas,monospace" font-size="11"`;

/** Escapes text for SVG and HTML. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Reasons not worth a label: the segment's flags and numbers say it. */
const QUIET_REASONS: ReadonlySet<string> = new Set(["new data", "ack", "syn"]);

/** Colour of a retransmission by why it was sent. */
function retransmitColor(reason: string | undefined): string {
  return reason === "tlp" ? "#ef6c00" : reason === "rto" ? "#6a1b9a" : "#c62828";
}

/** Flag names of a segment, such as `SYN,ACK`. */
function flagText(flags: number): string {
  const names: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) names.push(name);
  return names.join(",");
}

/**
 * A one-line description of a segment: flags, sequence range, ACK, window, options.
 *
 * @param s The segment.
 * @returns Text such as `SYN seq 0 win 64240 mss 1460`.
 *
 * @example
 * ```ts
 * import { segmentLabel } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * assert.equal(segmentLabel({
 *   kind: "segment", time: 0, dir: "ab", seq: 1, ack: 1, len: 100, flags: 0x18, window: 1000,
 *   sack: [], mss: null, retransmit: false,
 * }), "PSH,ACK 1:101 ack 1 win 1000");
 * ```
 */
export function segmentLabel(s: TraceSegment): string {
  let t = flagText(s.flags);
  t += s.len > 0 ? ` ${s.seq}:${s.seq + s.len}` : (s.flags & 0x03 ? ` seq ${s.seq}` : "");
  if (s.flags & 0x10) t += ` ack ${s.ack}`;
  t += ` win ${s.window}`;
  if (s.mss !== null) t += ` mss ${s.mss}`;
  for (const [l, r] of s.sack) t += ` sack ${l}:${r}`;
  if (s.reason !== undefined && !QUIET_REASONS.has(s.reason)) t += ` [${s.reason}]`;
  else if (s.retransmit) t += " (retransmission)";
  return t;
}

/**
 * Options of {@linkcode ladderSvg}.
 *
 * @example
 * ```ts
 * import { ladderSvg, type LadderOptions } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const events = Array.from({ length: 10 }, (_, i) => ({
 *   kind: "note" as const, time: i, side: "a" as const, text: `step ${i}`,
 * }));
 * const o: LadderOptions = { maxRows: 4 };
 * const svg = ladderSvg({ a: "a", b: "b", events }, o);
 * assert.equal(svg.match(/class="note"/g)?.length, 4); // the first and last two
 * assert.ok(svg.includes("step 9") && !svg.includes("step 5"));
 * const armed = { a: "a", b: "b", events: [
 *   { kind: "timer" as const, time: 0, side: "a" as const, timer: "rto" as const, action: "arm" as const, due: 200 },
 * ] };
 * assert.equal(ladderSvg(armed).includes('class="timer"'), false); // only timers that fired
 * assert.equal(ladderSvg(armed, { timers: "all" }).match(/class="timer"/g)?.length, 1);
 * ```
 */
export interface LadderOptions {
  /** Rows drawn at most; beyond, the first and last halves are drawn with a gap. Default 80. */
  maxRows?: number;
  /** Timer events drawn: `"fire"` (default) only the timers that fired, `"all"` every arm,
   * restart and cancel too. */
  timers?: "fire" | "all";
}

/**
 * A ladder (sequence) diagram: endpoint `a` on the left, `b` on the right, one row per segment,
 * note, state change, application read or write and timer that fired, in time order; segments
 * are arrows labelled with flags, sequence and ACK numbers, retransmissions in red; the other
 * events are written beside their side (classes `note`, `state`, `app`, `timer`).
 *
 * @param trace The connection.
 * @param options Row limit.
 * @returns An SVG document.
 *
 * @example
 * ```ts
 * import { ladderSvg } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const svg = ladderSvg({ a: "192.0.2.2:49152", b: "192.0.2.1:80", events: [
 *   { kind: "note", time: 0, side: "a", text: "connect(): SYN-SENT" },
 *   { kind: "segment", time: 1, dir: "ab", seq: 0, ack: 0, len: 0, flags: 0x02, window: 64240,
 *     sack: [], mss: 1460, retransmit: false },
 * ] });
 * assert.equal(svg.match(/class="seg"/g)?.length, 1);
 * assert.ok(svg.includes("connect(): SYN-SENT"));
 * ```
 */
export function ladderSvg(trace: ConnectionTrace, options: LadderOptions = {}): string {
  const maxRows = options.maxRows ?? 80;
  const allTimers = options.timers === "all";
  const rows = trace.events.filter((e) =>
    e.kind !== "sample" && (e.kind !== "timer" || allTimers || e.action === "fire")
  );
  let shown: (TraceEvent | null)[] = rows;
  if (rows.length > maxRows) {
    const head = Math.ceil(maxRows / 2), tail = maxRows - head;
    shown = [...rows.slice(0, head), null, ...rows.slice(rows.length - tail)];
  }
  const t0 = rows[0]?.time ?? 0;
  const xa = 420, xb = 800, rowH = 24, top = 56, width = 1200;
  const height = top + shown.length * rowH + 20;
  const out: string[] = [];
  out.push(svgOpen(width, height, `Ladder diagram ${trace.a} ⇄ ${trace.b}`));
  out.push(
    `<text x="${xa}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(trace.a)}</text>`,
  );
  out.push(
    `<text x="${xb}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(trace.b)}</text>`,
  );
  out.push(`<text x="8" y="20" fill="#666">ms</text>`);
  out.push(
    `<line x1="${xa}" y1="30" x2="${xa}" y2="${height - 10}" stroke="#333" stroke-width="2"/>`,
  );
  out.push(
    `<line x1="${xb}" y1="30" x2="${xb}" y2="${height - 10}" stroke="#333" stroke-width="2"/>`,
  );
  out.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
  );
  let y = top;
  let skipped = 0;
  for (const e of shown) {
    if (e === null) {
      skipped = rows.length - (shown.length - 1);
      out.push(
        `<text x="${(xa + xb) / 2}" y="${
          y + 4
        }" text-anchor="middle" fill="#666">… ${skipped} rows not drawn …</text>`,
      );
      y += rowH;
      continue;
    }
    out.push(`<text x="8" y="${y + 4}" fill="#666">${num(e.time - t0)}</text>`);
    if (e.kind === "segment") {
      const [x1, x2] = e.dir === "ab" ? [xa, xb] : [xb, xa];
      const color = e.retransmit || e.reason === "tlp"
        ? retransmitColor(e.reason)
        : e.flags & 0x07
        ? "#1565c0"
        : e.len > 0
        ? "#222"
        : "#888";
      out.push(
        `<g class="seg" data-dir="${e.dir}" data-seq="${e.seq}" data-len="${e.len}"><line x1="${x1}" y1="${
          y - 6
        }" x2="${x2}" y2="${
          y + 8
        }" stroke="${color}" stroke-width="1.5" marker-end="url(#arrow)"/>` +
          `<text x="${(xa + xb) / 2}" y="${y - 3}" text-anchor="middle" fill="${color}">${
            escapeXml(segmentLabel(e))
          }</text></g>`,
      );
    } else if (e.kind !== "sample") {
      const left = e.side === "a";
      const cls = e.kind;
      const color = SIDE_COLORS[e.kind];
      const text = sideText(e, t0);
      out.push(
        `<text class="${cls}" x="${left ? xa - 8 : xb + 8}" y="${y + 4}" text-anchor="${
          left ? "end" : "start"
        }" fill="${color}">${escapeXml(text)}</text>`,
      );
    }
    y += rowH;
  }
  out.push("</svg>");
  return out.join("\n");
}

/** Colours of the ladder's side texts by event kind. */
const SIDE_COLORS = {
  note: "#6a1b9a",
  state: "#2e7d32",
  app: "#0277bd",
  timer: "#ad1457",
} as const;

/** The text written beside a side of the ladder for an event that is not a segment. */
function sideText(e: Exclude<TraceEvent, TraceSegment | TraceSample>, t0: number): string {
  switch (e.kind) {
    case "note":
      return e.text;
    case "state":
      return `${e.from} → ${e.to}`;
    case "app":
      return `${e.op} ${e.bytes} B`;
    case "timer": {
      const due = e.action === "arm" || e.action === "restart" ? ` (due ${num(e.due - t0)})` : "";
      return `${e.timer} timer ${e.action === "fire" ? "fired" : e.action}${due}`;
    }
  }
}

function svgOpen(width: number, height: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}><title>${
    escapeXml(title)
  }</title><rect width="100%" height="100%" fill="#fff"/>`;
}

/** A linear map from a data range onto a pixel range. */
class Scale {
  constructor(
    readonly d0: number,
    readonly d1: number,
    readonly p0: number,
    readonly p1: number,
  ) {}
  at(v: number): number {
    const span = this.d1 - this.d0;
    const f = span === 0 ? 0 : (v - this.d0) / span;
    return Math.round((this.p0 + f * (this.p1 - this.p0)) * 10) / 10;
  }
}

/** A "nice" tick step for a span: 1, 2 or 5 times a power of ten. */
function tickStep(span: number, count: number): number {
  if (span <= 0) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function formatBytes(v: number): string {
  const a = Math.abs(v);
  if (a >= 1 << 20) return `${num(v / (1 << 20))}M`;
  if (a >= 1 << 10) return `${num(v / (1 << 10))}K`;
  return num(v);
}

const PLOT = { width: 900, height: 360, left: 70, right: 20, top: 34, bottom: 44 } as const;

/** Opens a chart with axes, ticks and labels; returns the scales and the element list. */
function chart(
  title: string,
  x: [number, number],
  y: [number, number],
  xLabel: string,
  yFormat: (v: number) => string,
): { out: string[]; sx: Scale; sy: Scale } {
  const { width, height, left, right, top, bottom } = PLOT;
  const sx = new Scale(x[0], x[1], left, width - right);
  const sy = new Scale(y[0], y[1], height - bottom, top);
  const out = [svgOpen(width, height, title)];
  out.push(`<text x="${left}" y="18" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${
      height - top - bottom
    }" fill="none" stroke="#999"/>`,
  );
  const xs = tickStep(x[1] - x[0], 8);
  for (let v = Math.ceil(x[0] / xs) * xs; v <= x[1] + 1e-9; v += xs) {
    const px = sx.at(v);
    out.push(
      `<line x1="${px}" y1="${height - bottom}" x2="${px}" y2="${
        height - bottom + 4
      }" stroke="#999"/><text x="${px}" y="${
        height - bottom + 16
      }" text-anchor="middle" fill="#444">${num(v)}</text>`,
    );
  }
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle" fill="#444">${
      escapeXml(xLabel)
    }</text>`,
  );
  const ys = tickStep(y[1] - y[0], 6);
  for (let v = Math.ceil(y[0] / ys) * ys; v <= y[1] + 1e-9; v += ys) {
    const py = sy.at(v);
    out.push(
      `<line x1="${left - 4}" y1="${py}" x2="${width - right}" y2="${py}" stroke="#eee"/><text x="${
        left - 6
      }" y="${py + 4}" text-anchor="end" fill="#444">${yFormat(v)}</text>`,
    );
  }
  return { out, sx, sy };
}

function legend(out: string[], items: readonly (readonly [string, string])[]): void {
  let x = PLOT.width - PLOT.right - 10;
  for (let i = items.length - 1; i >= 0; i--) {
    const [color, label] = items[i]!;
    const w = label.length * 7 + 22;
    x -= w;
    out.push(
      `<rect x="${x}" y="10" width="12" height="8" fill="${color}"/><text x="${
        x + 16
      }" y="18" fill="#333">${escapeXml(label)}</text>`,
    );
  }
}

function segmentsOf(trace: ConnectionTrace, dir: TraceDirection): TraceSegment[] {
  return trace.events.filter((e): e is TraceSegment => e.kind === "segment" && e.dir === dir);
}

function samplesOf(trace: ConnectionTrace, dir: TraceDirection): TraceSample[] {
  return trace.events.filter((e): e is TraceSample => e.kind === "sample" && e.dir === dir);
}

/** The first time stamp of the trace, the zero of every time axis. */
function startOf(trace: ConnectionTrace): number {
  return trace.events[0]?.time ?? 0;
}

function endOf(trace: ConnectionTrace): number {
  return trace.events[trace.events.length - 1]?.time ?? 0;
}

/**
 * A time-sequence graph of one direction, like tcptrace's: each data segment is a vertical bar
 * from its first to its last byte at the time it was seen (retransmissions red), the peer's
 * cumulative ACK as a green step line, the right edge of its advertised window in yellow, and
 * its SACK blocks as purple bars.
 *
 * @param trace The connection.
 * @param dir Which direction's data to draw; `"ab"` by default.
 * @returns An SVG document.
 *
 * @example
 * ```ts
 * import { timeSequenceSvg } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const seg = (time: number, dir: "ab" | "ba", seq: number, len: number, ack: number) => ({
 *   kind: "segment" as const, time, dir, seq, ack, len, flags: 0x10, window: 65535, sack: [],
 *   mss: null, retransmit: false,
 * });
 * const svg = timeSequenceSvg({ a: "a", b: "b", events: [
 *   seg(0, "ab", 1, 1000, 1), seg(1, "ab", 1001, 1000, 1), seg(5, "ba", 1, 0, 2001),
 * ] });
 * assert.equal(svg.match(/class="seg /g)?.length, 2);
 * assert.equal(svg.match(/class="ack"/g)?.length, 1);
 * ```
 */
export function timeSequenceSvg(trace: ConnectionTrace, dir: TraceDirection = "ab"): string {
  const data = segmentsOf(trace, dir);
  const acks = segmentsOf(trace, dir === "ab" ? "ba" : "ab").filter((s) => s.flags & 0x10);
  const t0 = startOf(trace), t1 = Math.max(endOf(trace), t0 + 1);
  let yMax = 1, yMin = Infinity;
  for (const s of data) {
    yMax = Math.max(yMax, s.seq + s.len);
    yMin = Math.min(yMin, s.seq);
  }
  for (const s of acks) yMax = Math.max(yMax, s.ack + s.window);
  if (!Number.isFinite(yMin)) yMin = 0;
  // What the sending application wrote, as a step line from the first data byte (where the
  // line runs far above the data the sender was not application-limited), and its timers
  // that fired.
  const side = dir === "ab" ? "a" : "b";
  const base = data.find((s) => s.len > 0)?.seq ?? yMin + 1;
  const writes: [number, number][] = [];
  const fires: TraceTimer[] = [];
  let written = base;
  for (const e of trace.events) {
    if (e.kind === "app" && e.side === side && e.op === "write") {
      writes.push([e.time, written += e.bytes]);
    } else if (
      e.kind === "timer" && e.side === side && e.action === "fire" && e.timer !== "delayedAck"
    ) fires.push(e);
  }
  yMax = Math.max(yMax, written);
  const from = dir === "ab" ? trace.a : trace.b, to = dir === "ab" ? trace.b : trace.a;
  const { out, sx, sy } = chart(
    `Time-sequence ${from} → ${to}`,
    [0, t1 - t0],
    [yMin, yMax],
    "time (ms)",
    formatBytes,
  );
  legend(out, [
    ["#222", "data"],
    ["#c62828", "retransmission"],
    ["#ef6c00", "TLP"],
    ["#6a1b9a", "RTO"],
    ["#2e7d32", "ACK"],
    [
      "#f9a825",
      "window",
    ],
    ["#8e24aa", "SACK"],
    ["#0277bd", "written"],
  ]);
  if (writes.length > 0) {
    let d = `M${sx.at(writes[0]![0] - t0)},${sy.at(base)}`;
    for (const [t, y] of writes) d += ` H${sx.at(t - t0)} V${sy.at(y)}`;
    out.push(
      `<path class="app-write" d="${d}" fill="none" stroke="#0277bd" stroke-dasharray="4 2"/>`,
    );
  }
  for (const f of fires) {
    const x = sx.at(f.time - t0);
    out.push(
      `<g class="timer-fire" data-timer="${f.timer}"><line x1="${x}" y1="${
        sy.at(yMin)
      }" x2="${x}" y2="${sy.at(yMax)}" stroke="#6a1b9a" stroke-dasharray="2 3"/><text x="${
        x + 3
      }" y="${sy.at(yMax) + 12}" fill="#6a1b9a">${f.timer}</text></g>`,
    );
  }
  // The ACK and window lines as steps.
  let ackPath = "", winPath = "";
  let prevAck: number | null = null, prevWin: number | null = null;
  for (const s of acks) {
    const x = sx.at(s.time - t0);
    const ya = sy.at(s.ack), yw = sy.at(s.ack + s.window);
    ackPath += prevAck === null ? `M${x},${ya}` : ` H${x} V${ya}`;
    winPath += prevWin === null ? `M${x},${yw}` : ` H${x} V${yw}`;
    prevAck = ya;
    prevWin = yw;
  }
  if (acks.length > 0) {
    out.push(`<path class="ack-line" d="${ackPath}" fill="none" stroke="#2e7d32"/>`);
    out.push(`<path class="window-line" d="${winPath}" fill="none" stroke="#f9a825"/>`);
  }
  for (const s of acks) {
    out.push(
      `<circle class="ack" cx="${sx.at(s.time - t0)}" cy="${
        sy.at(s.ack)
      }" r="1.6" fill="#2e7d32"/>`,
    );
    for (const [l, r] of s.sack) {
      const x = sx.at(s.time - t0);
      out.push(
        `<line class="sack" x1="${x + 2}" y1="${sy.at(l)}" x2="${x + 2}" y2="${
          sy.at(r)
        }" stroke="#8e24aa" stroke-width="2"/>`,
      );
    }
  }
  for (const s of data) {
    if (s.len === 0 && !(s.flags & 0x03)) continue;
    const x = sx.at(s.time - t0);
    const color = s.retransmit ? retransmitColor(s.reason) : "#222";
    const cls = s.retransmit ? "seg retransmit" : "seg data";
    const why = s.reason === undefined ? "" : ` data-reason="${escapeXml(s.reason)}"`;
    out.push(
      `<line class="${cls}"${why} x1="${x}" y1="${sy.at(s.seq)}" x2="${x}" y2="${
        sy.at(s.seq + Math.max(s.len, 1))
      }" stroke="${color}" stroke-width="${s.retransmit ? 2.5 : 1.5}"><title>${
        escapeXml(segmentLabel(s))
      }</title></line>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}

/**
 * The sender's congestion window, slow start threshold and bytes in flight over time (top), and
 * its smoothed RTT and retransmission timeout (bottom), from the trace's samples.
 *
 * @param trace The connection, with samples (for example from `TcpTraceRecorder`).
 * @param dir Whose sender: `"ab"` (endpoint `a`) by default.
 * @returns An SVG document with two charts, or one saying there are no samples.
 *
 * @example
 * ```ts
 * import { congestionSvg } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const sample = (time: number, cwnd: number) => ({
 *   kind: "sample" as const, time, dir: "ab" as const, cwnd, ssthresh: 2 ** 31, srtt: 20, rto: 220,
 *   inFlight: 0,
 * });
 * const svg = congestionSvg({ a: "a", b: "b", events: [sample(0, 14600), sample(20, 29200)] });
 * assert.equal(svg.match(/class="sample cwnd"/g)?.length, 2);
 * ```
 */
export function congestionSvg(trace: ConnectionTrace, dir: TraceDirection = "ab"): string {
  const samples = samplesOf(trace, dir);
  const who = dir === "ab" ? trace.a : trace.b;
  const t0 = startOf(trace), t1 = Math.max(endOf(trace), t0 + 1);
  if (samples.length === 0) {
    const { out } = chart(
      `Congestion window of ${who}: no samples`,
      [0, t1 - t0],
      [0, 1],
      "time (ms)",
      num,
    );
    out.push("</svg>");
    return out.join("\n");
  }
  let cwndMax = 1, rttMax = 1;
  for (const s of samples) {
    cwndMax = Math.max(cwndMax, s.cwnd, s.inFlight);
    rttMax = Math.max(rttMax, s.rto, s.srtt ?? 0);
  }
  const ssCap = cwndMax * 1.5;
  for (const s of samples) if (s.ssthresh < ssCap) cwndMax = Math.max(cwndMax, s.ssthresh);
  const top = chart(
    `Congestion window of ${who}`,
    [0, t1 - t0],
    [0, cwndMax],
    "time (ms)",
    formatBytes,
  );
  legend(top.out, [["#1565c0", "cwnd"], ["#ef6c00", "ssthresh"], ["#777", "in flight"]]);
  series(top.out, samples, (s) => s.cwnd, top.sx, top.sy, t0, "#1565c0", "cwnd");
  series(
    top.out,
    samples.filter((s) => s.ssthresh < ssCap),
    (s) => s.ssthresh,
    top.sx,
    top.sy,
    t0,
    "#ef6c00",
    "ssthresh",
  );
  series(top.out, samples, (s) => s.inFlight, top.sx, top.sy, t0, "#777", "inflight");
  top.out.push("</svg>");
  const bottom = chart(
    `RTT and RTO of ${who}`,
    [0, t1 - t0],
    [0, rttMax],
    "time (ms)",
    (v) => `${num(v)}ms`,
  );
  legend(bottom.out, [["#2e7d32", "srtt"], ["#c62828", "rto"]]);
  const withRtt = samples.filter((s) => s.srtt !== null);
  series(bottom.out, withRtt, (s) => s.srtt!, bottom.sx, bottom.sy, t0, "#2e7d32", "srtt");
  series(bottom.out, samples, (s) => s.rto, bottom.sx, bottom.sy, t0, "#c62828", "rto");
  bottom.out.push("</svg>");
  // Two charts stacked in one document.
  const h = PLOT.height;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT.width}" height="${
    2 * h
  }" viewBox="0 0 ${PLOT.width} ${2 * h}">\n${
    top.out.join("\n").replace("<svg ", `<svg y="0" `)
  }\n${bottom.out.join("\n").replace("<svg ", `<svg y="${h}" `)}\n</svg>`;
}

/** Draws one sampled value as a step line with a point per sample. */
function series(
  out: string[],
  samples: readonly TraceSample[],
  value: (s: TraceSample) => number,
  sx: Scale,
  sy: Scale,
  t0: number,
  color: string,
  name: string,
): void {
  if (samples.length === 0) return;
  let d = "";
  for (const s of samples) {
    const x = sx.at(s.time - t0), y = sy.at(value(s));
    d += d === "" ? `M${x},${y}` : ` H${x} V${y}`;
  }
  out.push(
    `<path class="series ${name}" d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`,
  );
  for (const s of samples) {
    out.push(
      `<circle class="sample ${name}" cx="${sx.at(s.time - t0)}" cy="${
        sy.at(value(s))
      }" r="1.8" fill="${color}"/>`,
    );
  }
}

/**
 * Goodput over time of one direction: bytes newly acknowledged by the peer per time bin, in
 * MB/s (10^6 bytes per second).
 *
 * @param trace The connection.
 * @param dir Which direction's data: `"ab"` by default.
 * @param bins How many bins the trace's duration is cut into; default 50.
 * @returns An SVG document.
 *
 * @example
 * ```ts
 * import { throughputSvg } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const ack = (time: number, ack: number) => ({
 *   kind: "segment" as const, time, dir: "ba" as const, seq: 1, ack, len: 0, flags: 0x10,
 *   window: 65535, sack: [], mss: null, retransmit: false,
 * });
 * const svg = throughputSvg({ a: "a", b: "b", events: [ack(0, 1), ack(10, 100001)] }, "ab", 10);
 * assert.equal(svg.match(/class="bin"/g)?.length, 10);
 * ```
 */
export function throughputSvg(
  trace: ConnectionTrace,
  dir: TraceDirection = "ab",
  bins = 50,
): string {
  const acks = segmentsOf(trace, dir === "ab" ? "ba" : "ab").filter((s) => s.flags & 0x10);
  const t0 = startOf(trace), t1 = Math.max(endOf(trace), t0 + 1);
  const width = (t1 - t0) / bins;
  const bytes = new Array<number>(bins).fill(0);
  let acked: number | null = null;
  for (const s of acks) {
    if (acked !== null && s.ack > acked) {
      const i = Math.min(bins - 1, Math.floor((s.time - t0) / width));
      bytes[i]! += s.ack - acked;
    }
    if (acked === null || s.ack > acked) acked = s.ack;
  }
  const rates = bytes.map((b) => b / width / 1000); // bytes per ms / 1000 = MB/s
  const max = Math.max(0.001, ...rates);
  const from = dir === "ab" ? trace.a : trace.b;
  const { out, sx, sy } = chart(
    `Goodput of ${from} (acknowledged bytes)`,
    [0, t1 - t0],
    [0, max],
    "time (ms)",
    (v) => `${num(v)} MB/s`,
  );
  for (let i = 0; i < bins; i++) {
    const x0 = sx.at(i * width), x1 = sx.at((i + 1) * width);
    const y = sy.at(rates[i]!), y0 = sy.at(0);
    out.push(
      `<rect class="bin" x="${x0}" y="${y}" width="${Math.max(0.5, x1 - x0 - 1)}" height="${
        Math.max(0, y0 - y)
      }" fill="#42a5f5"><title>${num(rates[i]!)} MB/s</title></rect>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}
