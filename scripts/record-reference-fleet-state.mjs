// Records what the reference's policy evaluation (superloop's ops-manager-fleet-policy.sh, bash +
// jq 1.6) makes of fleet states (`state.json`) that its own fan-out would not write but accepts:
// a loop listed twice, a skipped loop with critical health, health strings it does not know.
// Test data for packages/core/src/fleet/reference-fleet-state.test.ts; a developer's tool (it
// needs bash, jq and the reference scripts), the tests read only its output.
//
//   node scripts/record-reference-fleet-state.mjs [--reference ../shared/reference/superloop]
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { reference: { type: "string", default: "../shared/reference/superloop" } } });
const SCRIPT = resolve(values.reference, "scripts/ops-manager-fleet-policy.sh");
const OUT = new URL("../packages/core/src/fleet/testdata/reference-fleet-state.json", import.meta.url);
const ENV = { ...process.env, LC_ALL: "C.UTF-8", TZ: "UTC" };

// advisory, no suppressions, no dedupe: every signal becomes a visible candidate
const registry = {
  schemaVersion: "v1",
  fleetId: "fleet-a",
  loops: [{ loopId: "loop-a" }, { loopId: "loop-b" }, { loopId: "loop-c" }],
  policy: { mode: "advisory", noiseControls: { dedupeWindowSeconds: 0 } },
};
const result = (loopId, status, healthStatus, extra = {}) => ({
  loopId,
  status,
  ...(healthStatus === undefined ? {} : { healthStatus }),
  ...extra,
});
const state = (results) => ({ schemaVersion: "v1", fleetId: "fleet-a", traceId: "trace-1", status: "success", results });

const CASES = [
  [
    "one result per loop",
    state([result("loop-a", "success", "healthy"), result("loop-b", "failed", "degraded"), result("loop-c", "success", "critical")]),
  ],
  [
    "a loop listed twice",
    state([result("loop-a", "failed", "critical"), result("loop-a", "success", "healthy"), result("loop-b", "success", "healthy")]),
  ],
  ["a loop listed twice with the same failure", state([result("loop-a", "failed", "degraded"), result("loop-a", "failed", "degraded")])],
  ["a skipped loop with critical health", state([result("loop-a", "skipped", "critical"), result("loop-b", "success", "healthy")])],
  ["a skipped loop with degraded health", state([result("loop-a", "skipped", "degraded", { reasonCode: "loop_disabled" })])],
  [
    "health strings the reference does not know",
    state([result("loop-a", "success", "warning"), result("loop-b", "failed", "CRITICAL"), result("loop-c", "success", "")]),
  ],
  ["no health status at all", state([result("loop-a", "failed"), result("loop-b", "success"), result("loop-c", "success", null)])],
  [
    "a result for a loop the registry does not declare",
    state([result("loop-x", "failed", "critical"), result("loop-a", "success", "healthy")]),
  ],
];

function runReference(fleetState) {
  const repo = mkdtempSync(join(tmpdir(), "opsledger-reference-"));
  try {
    const fleet = join(repo, ".superloop", "ops-manager", "fleet");
    mkdirSync(join(fleet, "telemetry"), { recursive: true });
    writeFileSync(join(fleet, "registry.v1.json"), JSON.stringify(registry));
    writeFileSync(join(fleet, "state.json"), JSON.stringify(fleetState));
    const run = spawnSync("bash", [SCRIPT, "--repo", repo, "--trace-id", fleetState.traceId], { env: ENV, encoding: "utf8" });
    if (run.status !== 0) return { ok: false, stderr: run.stderr.trim() };
    const policy = JSON.parse(run.stdout);
    return {
      ok: true,
      evaluatedLoopCount: policy.evaluatedLoopCount,
      candidateCount: policy.candidateCount,
      candidates: policy.candidates.map((c) => ({ candidateId: c.candidateId, loopId: c.loopId, category: c.category, signal: c.signal })),
      reasonCodes: policy.reasonCodes,
    };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

const source = readFileSync(SCRIPT, "utf8");
const record = {
  about:
    "What superloop's ops-manager-fleet-policy.sh made of each fleet state; written by scripts/record-reference-fleet-state.mjs, do not edit by hand.",
  jq: execFileSync("jq", ["--version"], { encoding: "utf8" }).trim(),
  script: { path: "scripts/ops-manager-fleet-policy.sh", sha256: createHash("sha256").update(source).digest("hex") },
  registry,
  cases: CASES.map(([name, fleetState]) => ({ name, state: fleetState, reference: runReference(fleetState) })),
};
mkdirSync(new URL(".", OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
process.stderr.write(`wrote ${OUT.pathname}: ${record.cases.length} cases\n`);
