import assert from "node:assert/strict";
import { pattern, readAll, stackPair, writeAll } from "./_helpers.ts";
import type { TcpStream } from "../../src/net/tcp_stream.ts";
import { traceReportHtml, traceToJsonLines } from "../../src/trace/mod.ts";

Deno.test("NetStack.trace records a transfer's segments, timers and application calls until detached", async () => {
  await using net = stackPair();
  using listener = net.server.listen({ port: 80, hostname: "2001:db8::1" });
  const accepted = listener.accept();
  using conn = await net.client.connect({ hostname: "2001:db8::1", port: 80 });
  using peer = await accepted;
  const rec = net.client.trace(conn, { capacity: 100_000 });
  const data = pattern(200_000, 3);
  const [got] = await Promise.all([
    readAll(peer),
    writeAll(conn, data).then(() => conn.closeWrite()),
  ]);
  assert.equal(got.length, data.length);
  const trace = rec.connection();
  assert.equal(trace.b, "[2001:db8::1]:80");
  const ev = trace.events;
  const written = ev.reduce((n, e) => n + (e.kind === "app" && e.op === "write" ? e.bytes : 0), 0);
  assert.equal(written, data.length, "every byte the application wrote is in the trace");
  const sent = ev.filter((e) => e.kind === "segment" && e.dir === "ab" && e.len > 0);
  assert.ok(sent.length >= data.length / 65536, `${sent.length} data segments`);
  assert.ok(sent.every((e) => e.kind === "segment" && e.reason !== undefined));
  assert.ok(ev.some((e) => e.kind === "timer" && e.timer === "rto" && e.action === "arm"));
  assert.ok(ev.some((e) => e.kind === "sample"));
  for (let i = 1; i < ev.length; i++) assert.ok(ev[i]!.time >= ev[i - 1]!.time, "time order");
  const lines = traceToJsonLines(trace).trimEnd().split("\n");
  assert.equal(lines.length, ev.length + 1);
  assert.ok(traceReportHtml(trace).includes('class="app-write"'));
  rec.detach();
  const before = rec.events().length;
  await writeAll(peer, new Uint8Array(10));
  assert.equal(await conn.read(new Uint8Array(10)), 10);
  assert.equal(rec.events().length, before);
  assert.equal(conn.socket.traceSink, null);
});

Deno.test("NetStack.trace refuses what is not a TcpStream", async () => {
  await using net = stackPair();
  assert.throws(() => net.client.trace({} as TcpStream), TypeError);
  assert.throws(() => net.client.trace(null as unknown as TcpStream), TypeError);
});
