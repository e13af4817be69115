import assert from "node:assert/strict";
import { TcpSendReason } from "../../../src/socket/tcp/trace_sink.ts";
import { explain } from "../../../examples/explain.ts";

Deno.test("TcpSocket.traceSink hears nothing when unset and survives connect()", () => {
  // explain() attaches a recorder before connect(): the SYN is in its trace.
  const r = explain(4096, 0);
  const first = r.trace.events.find((e) => e.kind === "segment");
  assert.ok(first !== undefined && first.kind === "segment");
  assert.equal(first.reason, TcpSendReason.Syn);
  assert.equal(first.flags & 0x02, 0x02);
});

Deno.test("TcpSendReason names every reason once", () => {
  const values = Object.values(TcpSendReason);
  assert.equal(new Set(values).size, values.length);
});
