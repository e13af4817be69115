/**
 * Command-line and statistics helpers shared by the benchmark scripts.
 *
 * @module
 */

/** The value after `name` in `Deno.args`, or `fallback` (`null`: required, TypeError if absent). */
export function arg(name: string, fallback: string | null): string {
  const i = Deno.args.indexOf(name);
  const v = i >= 0 ? Deno.args[i + 1] : undefined;
  if (v !== undefined) return v;
  if (fallback === null) throw new TypeError(`Missing ${name}`);
  return fallback;
}

/** The positive integer after `name` in `Deno.args`, or `fallback`; RangeError otherwise. */
export function positive(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Invalid ${name} ${v}`);
  return v;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The three load averages to one decimal, for a bench's header, or "unknown" without --allow-sys. */
export function loadText(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  } catch {
    return "unknown (run with --allow-sys)";
  }
}
