/**
 * Shared by the `bench/throughput.ts` modules: the command line, progress on stderr, run
 * statistics and the rows of the report.
 *
 * @module
 */

// --- arguments ------------------------------------------------------------------------------

export interface Args {
  quick: boolean;
  runs: number;
  bytes: number;
  json: string | null;
  tun: boolean;
  /** Only the TUN, veth ceiling and UDP tunnel rows (`--tun-only`). */
  tunOnly: boolean;
  tunBytes: number;
  /** `--no-router`: without issue 20's Router forwarding rows (conntrack stays). */
  noRouter: boolean;
  /** `--no-tun2proxy`: without issue 20's tun2proxy rows. */
  noTun2proxy: boolean;
}

/** Parses the command line of `bench/throughput.ts` (TypeError / RangeError on a bad one). */
export function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes("--quick");
  let runs = quick ? 1 : 5;
  let mib = quick ? 16 : 1024;
  let json: string | null = null;
  let tun = false;
  let tunOnly = false;
  let tunMib = quick ? 32 : 256;
  let noRouter = false, noTun2proxy = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--runs") runs = Number(argv[++i]);
    else if (a === "--mib") mib = Number(argv[++i]);
    else if (a === "--json") json = argv[++i] ?? null;
    else if (a === "--tun") tun = true;
    else if (a === "--tun-only") tun = tunOnly = true;
    else if (a === "--tun-mib") tunMib = Number(argv[++i]);
    else if (a === "--no-router") noRouter = true;
    else if (a === "--no-tun2proxy") noTun2proxy = true;
    else if (a !== "--quick") throw new TypeError(`Unknown argument "${a}"`);
  }
  if (!(runs >= 1) || !(mib > 0) || !(tunMib > 0)) {
    throw new RangeError("Invalid --runs, --mib or --tun-mib");
  }
  return {
    quick,
    runs,
    bytes: Math.round(mib * 1024 * 1024),
    json,
    tun,
    tunOnly,
    tunBytes: Math.round(tunMib * 1024 * 1024),
    noRouter,
    noTun2proxy,
  };
}

export const ARGS = parseArgs(Deno.args);
/** Socket buffers of the smolnet stacks in the bulk rows (Linux loopback autotunes to MiBs). */
export const BULK_TCP = { rxBufferSize: 1 << 20, txBufferSize: 1 << 20 } as const;

// --- progress and statistics ----------------------------------------------------------------

export const encoder = new TextEncoder();
let progressStep = 0;
const progressTotal = (ARGS.tunOnly ? 0 : 4 + 1 + 2 + 2 + 1 + 1) +
  (ARGS.tun ? 12 + 1 + (ARGS.noRouter ? 0 : 1) + (ARGS.noTun2proxy ? 0 : 1) : 0);

/** Counts `n` more steps done (for steps that do not go through {@linkcode repeat}). */
export function advanceProgress(n: number): void {
  progressStep += n;
}

export function progress(text: string): void {
  const line = `[${progressStep}/${progressTotal}] ${text}`;
  Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
}

export function load(): number {
  try {
    return Deno.loadavg()[0]!;
  } catch {
    return NaN;
  }
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

export async function repeat(label: string, fn: () => Promise<number>): Promise<Stat> {
  const xs: number[] = [];
  for (let r = 0; r < ARGS.runs; r++) {
    progress(`${label}: run ${r + 1}/${ARGS.runs}${xs.length ? ` (last ${fmt(xs.at(-1)!)})` : ""}`);
    xs.push(await fn());
  }
  progressStep++;
  return stat(xs);
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const gc = (globalThis as { gc?: () => void }).gc;

// --- rows ---------------------------------------------------------------------------------

export interface Row {
  name: string;
  unit: string;
  stat: Stat;
  target: string;
  met: boolean | null;
  note?: string;
}

export const rows: Row[] = [];
export const mibLabel = ARGS.bytes >= 1 << 30
  ? `${ARGS.bytes / (1 << 30)} GiB`
  : `${ARGS.bytes / (1 << 20)} MiB`;
