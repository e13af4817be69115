// Runs `deno doc --lint` on every entry point of deno.json's `exports`, each ON ITS OWN: an entry
// point passes only when every type its public signatures use is exported from it (linting them
// together would let one entry lend its exports to another). Exits 1 when any fails.
const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const root = new URL("..", import.meta.url);
let failed = 0;
for (const [name, file] of Object.entries(config.exports as Record<string, string>)) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.success) continue;
  failed++;
  console.error(`doc lint: ${name} (${file}) fails on its own:`);
  console.error(new TextDecoder().decode(out.stderr));
}
if (failed > 0) Deno.exit(1);
console.log(`doc lint: ${Object.keys(config.exports).length} entry points pass on their own`);
