// The report as one self-contained HTML file: the data as JSON, the charting library (Observable
// Plot on d3, their own minified UMD builds, inlined) and the page's script and style. A Content
// Security Policy that allows nothing to be fetched makes "opens from disk, no network" checkable.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ReportModel } from "./model.ts";

// the page's own script and style, kept as plain files beside src/ and dist/ (both two levels down)
const asset = (name: string): string => readFileSync(new URL(`../../assets/${name}`, import.meta.url), "utf8");

// a library's UMD build: its package resolves to src/index.js, the build sits in dist/ beside it
const require = createRequire(import.meta.url);
const umd = (name: string, file: string): string => readFileSync(join(dirname(require.resolve(name)), "..", "dist", file), "utf8");

// inside a <script> element only "</script" and "<!--" end or change it: escaping every "<" in the
// JSON (\u003c is the same string to JSON.parse) keeps any text a log holds from closing it
const jsonForScript = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c");
const scriptText = (code: string): string => code.replace(/<\/script/gi, "<\\/script");

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** The report page for `model`. */
export function renderReport(model: ReportModel): string {
  const title = `opsledger report: fleet "${model.fleetId}" as of seq ${model.asOf.seq}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${asset("report.css")}</style>
</head>
<body>
<a class="skip" href="#cohort">Skip to the cohort</a>
<header>
  <h1>opsledger investigation report</h1>
  <p id="subtitle"></p>
</header>
<main>
  <section id="verification" aria-labelledby="verification-title"><h2 id="verification-title">Verification</h2></section>
  <section id="timeline" aria-labelledby="timeline-title">
    <h2 id="timeline-title">Timeline of the log</h2>
    <p class="hint">One mark per audited event, its shape naming its kind (hollow: a release or resume); hover a mark for who, what and why. The table below lists the same events.</p>
    <figure id="timeline-chart"></figure>
    <h3>Outcome rates per dispatch batch</h3>
    <p class="hint">Executed, ambiguous and failed intents as a share of those attempted in each batch; the dashed lines are the auto-pause thresholds (the latch trips on the rate over its lookback window).</p>
    <figure id="outcome-chart"></figure>
    <details id="timeline-table"><summary>The events as a table</summary></details>
  </section>
  <section id="governance" aria-labelledby="governance-title">
    <h2 id="governance-title">Governance</h2>
    <p class="hint">Each applied policy's governance posture over time: active, review due soon (7 days before its review date), review expired.</p>
    <figure id="posture-chart"></figure>
    <div id="governance-table"></div>
  </section>
  <section id="cohort" aria-labelledby="cohort-title">
    <h2 id="cohort-title">Cohort</h2>
    <p class="hint" id="cohort-hint"></p>
    <figure id="cohort-chart"></figure>
    <p><label for="loop-select">Explain a loop</label> <select id="loop-select"><option value="">choose a loop…</option></select></p>
    <div id="explanation" aria-live="polite"></div>
  </section>
  <section id="backlog" aria-labelledby="backlog-title">
    <h2 id="backlog-title">Backlog</h2>
    <h3>Manual backlog</h3>
    <div id="manual-backlog"></div>
    <h3>Intents held by a retry guard</h3>
    <div id="retry-guarded"></div>
  </section>
</main>
<script type="application/json" id="report-data">${jsonForScript(model)}</script>
<script>${scriptText(umd("d3", "d3.min.js"))}</script>
<script>${scriptText(umd("@observablehq/plot", "plot.umd.min.js"))}</script>
<script>${scriptText(asset("report-page.js"))}</script>
</body>
</html>
`;
}
