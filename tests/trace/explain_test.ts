import assert from "node:assert/strict";
import { explain, STEPS } from "../../examples/explain.ts";

Deno.test("explain: every step names a function that is in the file it names", async () => {
  for (const step of STEPS) {
    const text = await Deno.readTextFile(new URL(`../../${step.file}`, import.meta.url));
    const re = new RegExp(`(function\\s+${step.fn}\\b|^\\s+(get\\s+)?${step.fn}\\s*\\()`, "m");
    assert.match(text, re, `${step.fn} in ${step.file}`);
  }
});

Deno.test("explain: the transfer arrives whole and the dropped frame is retransmitted", () => {
  const r = explain(65536, 12);
  assert.equal(r.received, 65536);
  assert.ok(r.retransmits >= 1);
  const notes = r.trace.events.filter((e) => e.kind === "note").map((e) => e.text);
  assert.equal(notes[0], "connect(): state → SYN-SENT, nothing sent yet");
  // connect() sent nothing: the SYN follows the poll note.
  const firstSeg = r.trace.events.findIndex((e) => e.kind === "segment");
  const pollNote = r.trace.events.findIndex((e) =>
    e.kind === "note" && e.text.startsWith("poll()")
  );
  assert.ok(pollNote >= 0 && pollNote < firstSeg);
  const states = r.trace.events.filter((e) => e.kind === "state");
  assert.ok(states.some((s) => s.kind === "state" && s.to === "established"));
});

Deno.test("explain: without a drop nothing is retransmitted", () => {
  const r = explain(16384, 0);
  assert.equal(r.received, 16384);
  assert.equal(r.retransmits, 0);
});
