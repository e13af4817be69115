/**
 * One self-contained HTML page (inline SVG and CSS, no scripts, no external assets) that shows a
 * connection: a summary, the ladder diagram, the time-sequence graph of each direction that
 * carried data, the congestion window and RTT of each sender with samples, and goodput.
 *
 * @module
 */

import type { ConnectionTrace, TraceDirection } from "./events.ts";
import {
  congestionSvg,
  escapeXml,
  type LadderOptions,
  ladderSvg,
  throughputSvg,
  timeSequenceSvg,
} from "./svg.ts";

/**
 * Counts of one direction of a connection.
 *
 * @example
 * ```ts
 * import { summarizeTrace } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const s = summarizeTrace({ a: "a", b: "b", events: [
 *   { kind: "segment", time: 0, dir: "ab", seq: 1, ack: 1, len: 500, flags: 0x18, window: 100,
 *     sack: [], mss: null, retransmit: false },
 * ] });
 * assert.deepEqual(s.ab, { segments: 1, bytes: 500, retransmits: 0, highestSeq: 501 });
 * assert.equal(s.ba.segments, 0);
 * ```
 */
export interface DirectionSummary {
  /** Segments seen. */
  segments: number;
  /** Payload bytes seen, retransmissions included. */
  bytes: number;
  /** Segments marked as retransmissions. */
  retransmits: number;
  /** The highest relative sequence number reached (data delivered in this direction). */
  highestSeq: number;
}

/**
 * What {@linkcode summarizeTrace} returns.
 *
 * @example
 * ```ts
 * import { summarizeTrace, type TraceSummary } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const seg = (time: number, dir: "ab" | "ba", seq: number, len: number, retransmit = false) => ({
 *   kind: "segment" as const, time, dir, seq, ack: 0, len, flags: 0x10, window: 65535, sack: [],
 *   mss: null, retransmit,
 * });
 * const s: TraceSummary = summarizeTrace({ a: "a", b: "b", events: [
 *   seg(0, "ab", 1, 100), seg(10, "ab", 101, 100), seg(20, "ab", 101, 100, true), seg(25, "ba", 1, 0),
 * ] });
 * assert.deepEqual(s, {
 *   duration: 25, samples: 0,
 *   ab: { segments: 3, bytes: 300, retransmits: 1, highestSeq: 201 },
 *   ba: { segments: 1, bytes: 0, retransmits: 0, highestSeq: 1 },
 * });
 * ```
 */
export interface TraceSummary {
  /** Milliseconds from the first to the last event. */
  duration: number;
  /** Samples of congestion state. */
  samples: number;
  /** From `a` to `b`. */
  ab: DirectionSummary;
  /** From `b` to `a`. */
  ba: DirectionSummary;
}

/**
 * Counts segments, bytes and retransmissions per direction.
 *
 * @param trace The connection.
 * @returns The counts.
 *
 * @example
 * ```ts
 * import { summarizeTrace } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const s = summarizeTrace({ a: "a", b: "b", events: [{
 *   kind: "segment", time: 0, dir: "ab", seq: 1, ack: 1, len: 10, flags: 0x10, window: 100,
 *   sack: [], mss: null, retransmit: true,
 * }] });
 * assert.deepEqual(s.ab, { segments: 1, bytes: 10, retransmits: 1, highestSeq: 11 });
 * ```
 */
export function summarizeTrace(trace: ConnectionTrace): TraceSummary {
  const empty = (): DirectionSummary => ({ segments: 0, bytes: 0, retransmits: 0, highestSeq: 0 });
  const sum: TraceSummary = { duration: 0, samples: 0, ab: empty(), ba: empty() };
  const ev = trace.events;
  if (ev.length > 0) sum.duration = ev[ev.length - 1]!.time - ev[0]!.time;
  for (const e of ev) {
    if (e.kind === "sample") sum.samples++;
    if (e.kind !== "segment") continue;
    const d = sum[e.dir];
    d.segments++;
    d.bytes += e.len;
    if (e.retransmit) d.retransmits++;
    d.highestSeq = Math.max(d.highestSeq, e.seq + e.len);
  }
  return sum;
}

/**
 * Options of {@linkcode traceReportHtml}.
 *
 * @example
 * ```ts
 * import { traceReportHtml, type TraceReportOptions } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const o: TraceReportOptions = { title: "A short transfer", notes: ["one segment was dropped"] };
 * const html = traceReportHtml({ a: "a", b: "b", events: [] }, o);
 * assert.ok(html.includes("<title>A short transfer</title>"));
 * assert.ok(html.includes("one segment was dropped"));
 * ```
 */
export interface TraceReportOptions {
  /** The page title; default names the endpoints. */
  title?: string;
  /** Paragraphs of text shown under the title. */
  notes?: readonly string[];
  /** Options of the ladder diagram. */
  ladder?: LadderOptions;
}

function hasData(trace: ConnectionTrace, dir: TraceDirection): boolean {
  return trace.events.some((e) => e.kind === "segment" && e.dir === dir && e.len > 0);
}

function hasSamples(trace: ConnectionTrace, dir: TraceDirection): boolean {
  return trace.events.some((e) => e.kind === "sample" && e.dir === dir);
}

/**
 * The HTML report of one connection.
 *
 * @param trace The connection.
 * @param options Title, notes, ladder options.
 * @returns A complete HTML document.
 *
 * @example
 * ```ts
 * import { traceReportHtml } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * const html = traceReportHtml({ a: "a", b: "b", events: [{
 *   kind: "segment", time: 0, dir: "ab", seq: 0, ack: 0, len: 0, flags: 0x02, window: 100,
 *   sack: [], mss: 1460, retransmit: false,
 * }] });
 * assert.ok(html.startsWith("<!doctype html>"));
 * assert.equal(html.match(/<svg /g)?.length, 1); // only the ladder: no data, no samples
 * ```
 */
export function traceReportHtml(trace: ConnectionTrace, options: TraceReportOptions = {}): string {
  const title = options.title ?? `TCP ${trace.a} ⇄ ${trace.b}`;
  const s = summarizeTrace(trace);
  const parts: string[] = [];
  parts.push(`<h1>${escapeXml(title)}</h1>`);
  for (const p of options.notes ?? []) parts.push(`<p>${escapeXml(p)}</p>`);
  parts.push(
    `<table><tr><th></th><th>segments</th><th>payload bytes</th><th>retransmissions</th></tr>` +
      `<tr><td>${escapeXml(trace.a)} → ${
        escapeXml(trace.b)
      }</td><td>${s.ab.segments}</td><td>${s.ab.bytes}</td><td>${s.ab.retransmits}</td></tr>` +
      `<tr><td>${escapeXml(trace.b)} → ${
        escapeXml(trace.a)
      }</td><td>${s.ba.segments}</td><td>${s.ba.bytes}</td><td>${s.ba.retransmits}</td></tr>` +
      `</table><p>Duration ${s.duration.toFixed(3)} ms, ${s.samples} congestion samples.</p>`,
  );
  parts.push(`<h2>Ladder</h2>`, figure(ladderSvg(trace, options.ladder)));
  for (const dir of ["ab", "ba"] as const) {
    const name = dir === "ab" ? `${trace.a} → ${trace.b}` : `${trace.b} → ${trace.a}`;
    if (hasData(trace, dir)) {
      parts.push(`<h2>Time-sequence ${escapeXml(name)}</h2>`, figure(timeSequenceSvg(trace, dir)));
      parts.push(`<h2>Goodput ${escapeXml(name)}</h2>`, figure(throughputSvg(trace, dir)));
    }
    if (hasSamples(trace, dir)) {
      parts.push(`<h2>Congestion state of ${escapeXml(dir === "ab" ? trace.a : trace.b)}</h2>`);
      parts.push(figure(congestionSvg(trace, dir)));
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td:first-child { text-align: left; } figure { margin: 1em 0; overflow-x: auto; }
</style></head><body>
${parts.join("\n")}
</body></html>
`;
}

function figure(svg: string): string {
  return `<figure>${svg}</figure>`;
}
