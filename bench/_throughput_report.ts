/**
 * The report of `bench/throughput.ts`: the table on stdout and, with `--json FILE`, the same
 * rows as JSON.
 *
 * @module
 */

import { ARGS, fmt, gc, mibLabel, rows } from "./_throughput_common.ts";
import { tunSkipped } from "./_throughput_host.ts";
import { UDP_BYTES } from "./_throughput_tunnel.ts";

/** Prints the table and writes the JSON file when asked. */
export function report(loadBefore: number, loadAfter: number): void {
  const header = ["figure", "median", "min", "max", "unit", "target", "met"];
  const table = rows.map((r) => [
    r.name,
    fmt(r.stat.median),
    fmt(r.stat.min),
    fmt(r.stat.max),
    r.unit,
    r.target,
    r.met === null ? "" : r.met ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(
    `smolnet throughput — Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
      `load ${fmt(loadBefore)} → ${fmt(loadAfter)}, ${
        ARGS.tunOnly ? `TUN bulk ${ARGS.tunBytes / (1 << 20)} MiB` : `bulk ${mibLabel}`
      }, ${ARGS.runs} run(s) per figure${ARGS.tun ? " (issue 20's rows: 1 run)" : ""}`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of table) console.log(line(r));

  if (ARGS.json !== null) {
    const out = {
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      cpus: navigator.hardwareConcurrency,
      loadBefore,
      loadAfter,
      bulkBytes: ARGS.bytes,
      runs: ARGS.runs,
      gc: gc !== undefined,
      ...(ARGS.tun ? { tunBytes: ARGS.tunBytes, udpTunnelBytes: UDP_BYTES, tunSkipped } : {}),
      rows,
    };
    Deno.writeTextFileSync(ARGS.json, JSON.stringify(out, null, 2) + "\n");
  }
}
