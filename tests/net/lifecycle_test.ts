import assert from "node:assert/strict";

const probe = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

async function runProbe(name: string, args: string[] = []): Promise<{ code: number; out: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", probe(name), ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  });
  const r = await cmd.output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, out };
}

Deno.test("NetStack idles without polling while connections and a pending accept wait", async () => {
  const { code, out } = await runProbe("idle_probe.ts");
  assert.equal(code, 0, out);
  const { cpuMicros, polls } = JSON.parse(out.trim().split("\n").at(-1)!);
  console.log(`idle second: ${polls} polls, ${(cpuMicros / 1000).toFixed(1)} ms CPU`);
  // An idle stack has no timer due (no keep-alive, no delayed ACK pending): no poll at all.
  assert.ok(polls <= 2, `${polls} polls in an idle second`);
  // CPU: a loose bound that only a busy loop would break (one core for a second is 1e6 µs).
  assert.ok(cpuMicros < 200_000, `${cpuMicros} µs of CPU in an idle second`);
});

Deno.test("An unref'd listener does not keep the process alive", async () => {
  const { code, out } = await runProbe("exit_probe.ts", ["unref"]);
  assert.equal(code, 0, out);
  assert.match(out, /connect: ConnectionRefused/);
  assert.doesNotMatch(out, /accepted\?/);
});

Deno.test("A closed stack lets the process exit", async () => {
  const { code, out } = await runProbe("exit_probe.ts", ["closed"]);
  assert.equal(code, 0, out);
  assert.match(out, /closed/);
});
