import assert from "node:assert/strict";

Deno.test("mod.ts imports by file URL from a folder without deno.json, with no permission or unstable flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "smolnet-import-" });
  try {
    const mod = new URL("../mod.ts", import.meta.url).href;
    const phy = new URL("../src/phy/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { linkPair, NetStack } from "${mod}";
import { TunTapDevice, UdpTunnelDevice } from "${phy}";
const [a, b] = linkPair();
await using s1 = new NetStack({ device: a, addresses: ["192.0.2.1/24"] });
await using s2 = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
const l = s1.listen({ port: 1 });
const c = await s2.connect({ hostname: "192.0.2.1", port: 1 });
(await l.accept()).close();
c.close();
l.close();
console.log("ok", typeof TunTapDevice, typeof UdpTunnelDevice);
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-config", "--no-lock", `${dir}/main.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /^ok function function$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
