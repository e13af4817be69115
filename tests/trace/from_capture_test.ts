import assert from "node:assert/strict";
import { tcpTracesFromCapture } from "../../src/trace/from_capture.ts";
import { readCapture } from "../../src/trace/pcap_reader.ts";
import type { TraceSegment } from "../../src/trace/events.ts";
import { explain } from "../../examples/explain.ts";
import { createNetns, deleteNetns, hasCommand, netAdmin, reportSkip, run } from "../phy/_netns.ts";

function segments(events: readonly { kind: string }[]): TraceSegment[] {
  return events.filter((e): e is TraceSegment => e.kind === "segment");
}

Deno.test("tcpTracesFromCapture gives relative numbers, scaled windows and marks the retransmission", () => {
  const { pcap } = explain(32768, 12);
  const traces = tcpTracesFromCapture(readCapture(pcap));
  assert.equal(traces.length, 1);
  const t = traces[0]!;
  assert.match(t.a, /^192\.0\.2\.2:\d+$/);
  assert.equal(t.b, "192.0.2.1:80");
  const segs = segments(t.events);
  const [syn, synAck, ack] = segs;
  assert.equal(syn!.dir, "ab");
  assert.equal(syn!.seq, 0);
  assert.equal(syn!.flags & 0x12, 0x02);
  assert.equal(synAck!.dir, "ba");
  assert.equal(synAck!.ack, 1);
  assert.equal(ack!.dir, "ab");
  assert.equal(ack!.seq, 1);
  // Data runs from relative 1 to 32769; the FIN takes 32769.
  const data = segs.filter((s) => s.dir === "ab" && s.len > 0);
  assert.equal(Math.min(...data.map((s) => s.seq)), 1);
  assert.equal(Math.max(...data.map((s) => s.seq + s.len)), 32769);
  // Frame 12 was dropped after the capture point, so its sequence range appears twice.
  const re = data.filter((s) => s.retransmit);
  assert.equal(re.length, 1);
  assert.ok(data.some((s) => !s.retransmit && s.seq === re[0]!.seq));
  // Windows after the handshake are scaled: 65536 does not fit the 16-bit field unscaled.
  assert.ok(segs.some((s) => s.dir === "ba" && s.window > 65535));
  const last = segs.filter((s) => s.dir === "ba").at(-1)!;
  assert.equal(last.ack, 32770);
});

Deno.test("tcpTracesFromCapture ignores frames that are not TCP or do not parse", () => {
  const junk = [new Uint8Array([0x45, 0, 0]), new Uint8Array([0x60]), new Uint8Array(0)];
  const frames = junk.map((data) => ({
    time: 0,
    linkType: 101,
    data,
    originalLength: data.length,
  }));
  assert.deepEqual(tcpTracesFromCapture(frames), []);
});

reportSkip("tests/trace/from_capture_test.ts");

const hasDumpcap = hasCommand("dumpcap");
if (netAdmin.ok && !hasDumpcap) {
  console.log("tests/trace/from_capture_test.ts: skipping the kernel capture: no dumpcap (tshark)");
}

Deno.test({
  name: "tcpTracesFromCapture reads Wireshark's pcapng of a kernel TCP transfer",
  ignore: !netAdmin.ok || !hasDumpcap,
  async fn() {
    const ns = await createNetns("trace");
    const dir = await Deno.makeTempDir({ prefix: "smolnet-trace-" });
    const file = `${dir}/kernel.pcapng`;
    try {
      const dumpcap = new Deno.Command("ip", {
        args: ["netns", "exec", ns, "dumpcap", "-q", "-i", "lo", "-f", "tcp port 5001", "-w", file],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const errs = dumpcap.stderr.pipeThrough(new TextDecoderStream()).getReader();
      // Wait for dumpcap to say it is capturing (it prints "Capturing on 'Loopback: lo'").
      let said = "";
      while (!said.includes("Capturing")) {
        const r = await errs.read();
        if (r.done) break;
        said += r.value;
      }
      const script = `
import socket, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5001)); srv.listen(1)
got = []
def serve():
    c, _ = srv.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    got.append(n); c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.create_connection(("127.0.0.1", 5001)); cl.sendall(bytes(65536)); cl.close()
t.join(); print(got[0])`;
      const py = await run("ip", ["netns", "exec", ns, "python3", "-c", script]);
      assert.equal(py.stdout.trim(), "65536", py.stderr);
      await new Promise((r) => setTimeout(r, 300)); // let dumpcap see the last segments
      dumpcap.kill("SIGINT");
      await errs.cancel();
      await dumpcap.status;
      const bytes = await Deno.readFile(file);
      assert.equal(new DataView(bytes.buffer).getUint32(0), 0x0a0d0d0a, "pcapng");
      const traces = tcpTracesFromCapture(readCapture(bytes));
      assert.equal(traces.length, 1);
      const t = traces[0]!;
      assert.equal(t.b, "127.0.0.1:5001");
      const segs = segments(t.events);
      assert.deepEqual(segs.slice(0, 3).map((s) => [s.dir, s.flags & 0x12]), [
        ["ab", 0x02],
        ["ba", 0x12],
        ["ab", 0x10],
      ]);
      const payload = segs.filter((s) => s.dir === "ab" && !s.retransmit)
        .reduce((n, s) => n + s.len, 0);
      assert.equal(payload, 65536);
      assert.ok(segs.some((s) => s.dir === "ba" && s.ack === 65538), "the FIN is acknowledged");
    } finally {
      await deleteNetns(ns);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
