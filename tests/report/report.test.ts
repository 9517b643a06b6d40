// The investigation report in a real browser: Debian's Chromium driven by playwright-core, the
// file opened from disk. No console errors, no request beyond the file itself, one timeline mark
// per audited event, and a loop selected by keyboard shows its explanation, gate by gate.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENESIS_HASH, type SealedRecord, seal } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { opsledger } from "../cli/run.ts";

const required = process.env["OPSLEDGER_REQUIRE_BROWSER"] === "1";
/** Screenshots a reader can look at after the run (CI keeps the folder). */
const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;
// the report is read the morning after the demo's day, as in docs/how-to/investigate.md
const env = { OPSLEDGER_NOW: "2026-03-02T09:00:00Z" };

let cwd: string;
let demo: string;
let browser: Browser | undefined;
const found = inject("chromium");

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "opsledger-report-"));
  demo = join(cwd, "demo");
  expect((await opsledger(["demo", demo], { cwd, env })).code).toBe(0);
  if ("path" in found) browser = await chromium.launch({ executablePath: found.path, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
  await rm(cwd, { recursive: true, force: true });
});

// a browser, or (where none can be installed and CI does not require one) a skip that says why
function browserOrSkip(context: { skip(): never }): Browser {
  if (browser) return browser;
  const why = "missing" in found ? found.missing : "no browser";
  if (required) throw new Error(why);
  console.info(`skipped: ${why}`);
  return context.skip();
}

/** Opens a report file; collects what a user would see go wrong: console errors, page errors, requests. */
async function open(using: Browser, file: string): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await using.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => requests.push(request.url()));
  await page.goto(`file://${file}`);
  await page.locator("#backlog table, #backlog p").first().waitFor();
  return { page, problems, requests };
}

const timelineMarks = (page: Page) => page.locator('#timeline-chart g[aria-description="timeline event"] > *');
const markSeqs = async (page: Page) =>
  (await timelineMarks(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-seq")))).map(Number);

describe("opsledger report in a browser", () => {
  it("renders the demo's report: no console errors, no network, one mark per audited event, a selected loop explained", async (context) => {
    const using = browserOrSkip(context);
    const file = join(cwd, "report.html");
    const run = await opsledger(["report", "--out", file, "--store", demo], { cwd, env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/verified: 35 records, head seq 35/);

    const { page, problems, requests } = await open(using, file);
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    await expect.poll(() => page.locator("#verification .banner.ok").textContent()).toMatch(/Verified — 35 records, head seq 35/);

    const audit = (await opsledger(["audit", "--json", "--store", demo], { cwd, env })).json as { seq: number }[];
    expect(audit.length).toBeGreaterThan(5);
    expect(await markSeqs(page)).toEqual(audit.map((entry) => entry.seq));

    // a loop with candidates, chosen with the keyboard on its cohort mark
    const options = await page.locator("#loop-select option").allInnerTexts();
    const loopId = options.find((text) => /[1-9]\d* candidates?\)$/.test(text))?.split(" ")[0] as string;
    expect(loopId).toBeDefined();
    const mark = page.locator(`#cohort-chart [role="button"][data-loop-id="${loopId}"]`);
    await mark.focus();
    await mark.press("Enter");
    expect(await mark.getAttribute("aria-pressed")).toBe("true");
    const shown = await page.locator("#explanation").textContent();
    const explanation = (await opsledger(["explain", loopId, "--json", "--store", demo], { cwd, env })).json as {
      candidates: { candidateId: string; checks: { check: string; passed: boolean }[] }[];
    };
    expect(explanation.candidates.length).toBeGreaterThan(0);
    for (const candidate of explanation.candidates) {
      expect(shown).toContain(candidate.candidateId);
      for (const check of candidate.checks) expect(shown).toContain(check.check);
    }
    const verdicts = explanation.candidates.flatMap((c) => c.checks.map((check) => (check.passed ? "passed" : "failed")));
    expect(await page.locator("#explanation td.pass, #explanation td.fail").allInnerTexts()).toEqual(verdicts);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
    await page.close();
  });

  it("shows the log as of a seq with --until: the marks and the fold stop there", async (context) => {
    const using = browserOrSkip(context);
    const file = join(cwd, "until.html");
    expect((await opsledger(["report", "--out", file, "--until", "20", "--store", demo], { cwd, env })).code).toBe(0);
    const { page, problems } = await open(using, file);
    expect(problems).toEqual([]);
    expect(await page.locator("#subtitle").textContent()).toMatch(/as of seq 20 /);
    const audit = (await opsledger(["audit", "--json", "--store", demo], { cwd, env })).json as { seq: number }[];
    expect(await markSeqs(page)).toEqual(audit.filter((entry) => entry.seq <= 20).map((entry) => entry.seq));
    await page.close();
  });

  it("says in red that a broken log is not verified, and shows it only up to the break", async (context) => {
    const using = browserOrSkip(context);
    const broken = join(cwd, "broken");
    await opsledger(["demo", broken], { cwd, env });
    // an edit by someone who can write the store: seq 21's governance rationale rewritten in place
    const segment = join(broken, "default", "00000000000000000001.ndjson");
    const lines = (await readFile(segment, "utf8")).split("\n");
    lines[20] = (lines[20] as string).replace("payments team", "nobody asked");
    await writeFile(segment, lines.join("\n"));

    const file = join(cwd, "broken.html");
    const run = await opsledger(["report", "--out", file, "--store", broken], { cwd, env });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/NOT VERIFIED: 1 break; the report shows the log up to seq 20/);
    const { page, problems } = await open(using, file);
    expect(problems).toEqual([]);
    const banner = page.locator('#verification .banner.broken[role="alert"]');
    expect(await banner.textContent()).toMatch(/NOT VERIFIED[\s\S]*up to seq 20[\s\S]*21\s*hash_mismatch/);
    expect(await banner.evaluate((node) => node.ownerDocument.defaultView?.getComputedStyle(node).color)).toBe("rgb(163, 13, 13)");
    expect(Math.max(...(await markSeqs(page)))).toBeLessThanOrEqual(20);
    await page.close();
  });

  it("keeps a 100k-event log's report under a few MB, and it still renders", async (context) => {
    const using = browserOrSkip(context);
    const store = createFsEventStore({ dir: join(cwd, "long") });
    await store.append({ streamId: "default", expectedSeq: 0, records: longLog(100_000) });
    await store.close();
    const file = join(cwd, "long.html");
    expect((await opsledger(["report", "--out", file, "--store", join(cwd, "long")], { cwd, env })).code).toBe(0);
    expect((await stat(file)).size).toBeLessThan(4 * 1024 * 1024);
    const { page, problems } = await open(using, file);
    expect(problems).toEqual([]);
    expect(await page.locator("#outcome-chart svg").count()).toBeGreaterThan(0);
    await page.close();
  });
});

describe("opsledger report on the command line", () => {
  it("prints where the file went and what it shows with --json", async () => {
    const file = join(cwd, "out", "nested", "report.html");
    const run = await opsledger(["report", "--out", file, "--json", "--store", demo], { cwd, env });
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({ out: file, ok: true, asOf: { seq: 35, until: null }, readUpTo: 35, breaks: [] });
    expect(run.json.bytes).toBe((await stat(file)).size);
  });

  it("checks the log against a signed checkpoint given, as verify does, and shows it", async () => {
    const key = join(cwd, "ops.key");
    const vkey = (await opsledger(["keys", "generate", "--out", key, "--json"], { cwd, env })).json.verifierKey as string;
    const checkpoints = join(cwd, "checkpoints");
    expect((await opsledger(["checkpoint", "--key", key, "--out", `${checkpoints}/`, "--store", demo], { cwd, env })).code).toBe(0);
    const file = join(cwd, "anchored.html");
    const run = await opsledger(["report", "--out", file, "--checkpoint", checkpoints, "--key", vkey, "--json", "--store", demo], {
      cwd,
      env,
    });
    expect(run.code).toBe(0);
    expect(run.json.anchors).toEqual([{ kind: "checkpoint", size: 35, consistent: true }]);
    expect(await readFile(file, "utf8")).toContain('"anchors":[{"kind":"checkpoint","size":35,"consistent":true}]');
  });

  it("refuses a bad --until, one past the head, and an --out it cannot write, writing nothing", async () => {
    const file = join(cwd, "refused.html");
    const bad = await opsledger(["report", "--out", file, "--until", "yesterday", "--store", demo], { cwd, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--until must be a seq or an ISO-8601 UTC time/);
    const past = await opsledger(["report", "--out", file, "--until", "99", "--store", demo], { cwd, env });
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/--until 99 is past the end of the log \(head seq 35\)/);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    const unwritable = await opsledger(
      ["report", "--out", join(demo, "default", "00000000000000000001.ndjson", "x.html"), "--store", demo],
      {
        cwd,
        env,
      },
    );
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toMatch(/cannot write .*x\.html/);
  });
});

// a long log: a batch of two intents every four records, their outcomes, and observations between
function longLog(count: number): [SealedRecord, ...SealedRecord[]] {
  const records: SealedRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const at = new Date(Date.UTC(2026, 2, 1) + seq * 60_000).toISOString();
    const batchId = `batch-${seq - (seq % 4)}`;
    const intent = (n: number) => `loop-${(seq + n) % 1000}:health_critical:cancel`;
    const event =
      seq % 4 === 0
        ? {
            type: "DispatchRequested",
            data: {
              batchId,
              mode: "autonomous",
              by: "bench",
              evaluationSeq: 1,
              intents: [0, 1].map((n) => ({
                intentId: intent(n),
                candidateId: intent(n).replace(":cancel", ""),
                loopId: `loop-${(seq + n) % 1000}`,
                category: "health_critical",
                intent: "cancel",
                instance: 1,
                idempotencyKey: `k-${seq}-${n}`,
                transport: "local",
                autonomousEligible: true,
              })),
            },
          }
        : seq % 4 === 1 || seq % 4 === 2
          ? {
              type: "DispatchCompleted",
              data: {
                batchId,
                intentId: intent(seq % 4),
                instance: 1,
                status: seq % 12 === 1 ? "ambiguous" : "executed",
                reasonCode: "control_confirmed",
                confirmed: true,
                transport: null,
                durationMs: 5,
              },
            }
          : {
              type: "FleetObserved",
              data: {
                traceId: `trace-${seq}`,
                status: "success",
                reasonCodes: [],
                loopCount: 1,
                successCount: 1,
                failedCount: 0,
                skippedCount: 0,
                results: [
                  {
                    loopId: `loop-${seq % 1000}`,
                    status: "success",
                    healthStatus: "healthy",
                    healthReasonCodes: [],
                    transport: "local",
                    registered: true,
                  },
                ],
              },
            };
    const record = seal({ v: 1, ledger: "default", seq, id: `e${seq}`, type: event.type, at, data: event.data, prevHash });
    records.push(record);
    prevHash = record.hash;
  }
  return records as [SealedRecord, ...SealedRecord[]];
}
