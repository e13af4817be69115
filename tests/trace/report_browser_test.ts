import assert from "node:assert/strict";
import { traceReportHtml } from "../../src/trace/report.ts";
import type { TraceSegment } from "../../src/trace/events.ts";
import { explain } from "../../examples/explain.ts";

/** The Chromium binary, or null (the test then skips with one line). */
async function findChromium(): Promise<string | null> {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
      if (out.success) return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return null;
    }
  }
  return null;
}

const chromium = await findChromium();
if (chromium === null) {
  console.log(
    "tests/trace/report_browser_test.ts: skipping: no chromium (apt-get install chromium)",
  );
}

/** Runs headless Chromium on a file with the given extra arguments; returns stdout and stderr. */
async function headless(
  profile: string,
  args: string[],
  url: string,
): Promise<{ stdout: string; stderr: string; ok: boolean }> {
  const out = await new Deno.Command(chromium!, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-extensions",
      "--enable-logging=stderr",
      `--user-data-dir=${profile}`,
      ...args,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), ok: out.success };
}

/** Counts what the browser's DOM holds, written into the title by a script the test adds. */
const PROBE = `<script>
window.onerror = (m) => { document.title = "error: " + m; };
const q = (s) => document.querySelectorAll(s).length;
const svgs = [...document.querySelectorAll("svg")];
document.title = JSON.stringify({
  svg: svgs.length,
  svgElements: svgs.filter((s) => s instanceof SVGSVGElement).length,
  ladderSegs: q("svg g.seg"),
  tsSegs: q("svg line.seg"),
  retransmits: q("svg line.retransmit"),
  acks: q("svg circle.ack"),
  samples: q("svg circle.sample"),
  bins: q("svg rect.bin"),
  drawnWidth: Math.round(svgs[0]?.getBBox().width ?? 0),
});
</script>`;

Deno.test({
  name: "traceReportHtml renders in headless Chromium with every segment and sample drawn",
  ignore: chromium === null,
  async fn() {
    const { trace } = explain(32768, 12);
    const html = traceReportHtml(trace, { ladder: { maxRows: 10_000 } });
    // Self-contained: nothing is fetched.
    assert.doesNotMatch(html, /<link|<img|<script|\ssrc=|href="http/);
    const dir = await Deno.makeTempDir({ prefix: "smolnet-report-" });
    try {
      await Deno.writeTextFile(`${dir}/report.html`, html);
      await Deno.writeTextFile(`${dir}/probe.html`, html.replace("</body>", `${PROBE}</body>`));
      const dom = await headless(`${dir}/profile`, ["--dump-dom"], `file://${dir}/probe.html`);
      assert.ok(dom.ok, dom.stderr.slice(-2000));
      const title = /<title>(.*?)<\/title>/s.exec(dom.stdout)?.[1] ?? "";
      assert.doesNotMatch(title, /^error/);
      const got = JSON.parse(title.replaceAll("&quot;", '"'));
      const segs = trace.events.filter((e): e is TraceSegment => e.kind === "segment");
      const samples = trace.events.filter((e) => e.kind === "sample");
      assert.equal(got.svg, got.svgElements, "every <svg> is an SVG element in the DOM");
      assert.equal(got.ladderSegs, segs.length);
      assert.equal(
        got.tsSegs,
        segs.filter((s) => s.dir === "ab" && (s.len > 0 || s.flags & 0x03)).length,
      );
      assert.equal(got.retransmits, 1);
      assert.equal(got.acks, segs.filter((s) => s.dir === "ba" && s.flags & 0x10).length);
      // cwnd, in flight and RTO for every sample of each side, ssthresh and srtt where defined.
      assert.ok(got.samples >= 3 * samples.length, `${got.samples} sample points`);
      assert.equal(got.bins, 50);
      assert.ok(got.drawnWidth > 500, "the ladder has a laid-out size");
      // The page itself logs nothing to the console.
      assert.doesNotMatch(dom.stderr, /CONSOLE|Uncaught/);
      const shot = await headless(
        `${dir}/profile`,
        ["--hide-scrollbars", "--window-size=1200,2000", `--screenshot=${dir}/report.png`],
        `file://${dir}/report.html`,
      );
      assert.ok(shot.ok, shot.stderr.slice(-2000));
      const png = await Deno.readFile(`${dir}/report.png`);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
      assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes has content`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
