// The command line of bench/throughput.ts (bench/_throughput_common.ts).
import assert from "node:assert/strict";
import { parseArgs } from "../../bench/_throughput_common.ts";

Deno.test("throughput args: --tun keeps issue 20's Router and tun2proxy rows unless switched off", () => {
  const tun = parseArgs(["--tun"]);
  assert.equal(tun.tun, true);
  assert.equal(tun.tunOnly, false);
  assert.equal(tun.noRouter, false);
  assert.equal(tun.noTun2proxy, false);
  const off = parseArgs(["--tun-only", "--no-router", "--no-tun2proxy"]);
  assert.deepEqual([off.tun, off.tunOnly, off.noRouter, off.noTun2proxy], [true, true, true, true]);
  const one = parseArgs(["--tun", "--no-tun2proxy"]);
  assert.deepEqual([one.noRouter, one.noTun2proxy], [false, true]);
});

Deno.test("throughput args: sizes, quick defaults and bad arguments", () => {
  const q = parseArgs(["--quick"]);
  assert.deepEqual([q.runs, q.bytes, q.tunBytes], [1, 16 << 20, 32 << 20]);
  const d = parseArgs(["--runs", "3", "--mib", "64", "--tun-mib", "8", "--json", "x.json"]);
  assert.deepEqual([d.runs, d.bytes, d.tunBytes, d.json], [3, 64 << 20, 8 << 20, "x.json"]);
  assert.throws(() => parseArgs(["--no-routers"]), TypeError);
  assert.throws(() => parseArgs(["--runs", "0"]), RangeError);
  assert.throws(() => parseArgs(["--tun-mib", "x"]), RangeError);
});
