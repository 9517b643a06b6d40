// Records what the reference (superloop's ops-manager-fleet-registry.sh, bash + jq 1.6) says about
// a table of registry documents, as test data for packages/core/src/contract/reference-messages.test.ts.
// A developer's tool: it needs bash, jq and the reference scripts; the tests read only its output.
//
//   node scripts/record-reference-registry.mjs [--reference ../shared/reference/superloop]
//
// Each case is one realistic mistake (or a valid document); the reference's verdict, its exact
// messages and, on acceptance, its normalized registry are stored as facts. Cases where opsledger
// decides otherwise by design carry the semantics.md §2 row that says why.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { reference: { type: "string", default: "../shared/reference/superloop" } } });
const SCRIPT = resolve(values.reference, "scripts/ops-manager-fleet-registry.sh");
const OUT = new URL("../packages/core/src/contract/testdata/reference-registry.json", import.meta.url);
const ENV = { ...process.env, LC_ALL: "C.UTF-8", TZ: "UTC" };

// ---------------------------------------------------------------------------------------------
// The message templates: every message literal of the script's validation program.

function templates(source) {
  const start = source.indexOf("validation_errors=$(");
  const end = source.indexOf(`' <<<"$registry_raw")`, start);
  const program = source.slice(start, end);
  const found = new Set();
  for (const line of program.split("\n")) {
    const loopError = /loop_error\(\$i; "((?:[^"\\]|\\.)*)"\)/.exec(line);
    if (loopError) {
      found.add(`loops[\\($i)]: ${loopError[1]}`);
      continue;
    }
    for (const [, text] of line.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      if (/ (must|require|is required|contains)\b/.test(text) || text === "loopId values must be unique")
        found.add(text.replaceAll('\\"', '"'));
    }
  }
  return [...found];
}

// ---------------------------------------------------------------------------------------------
// The documents.

const FUTURE = "2099-06-30T00:00:00Z";
const PAST = "2026-02-23T00:00:00Z";
const valid = () => ({
  schemaVersion: "v1",
  fleetId: "fleet-a",
  loops: [
    { loopId: "loop-red", enabled: true, transport: "local", metadata: { team: "red" } },
    {
      loopId: "loop-blue",
      transport: "sprite_service",
      sprite: { id: "vm-7", serviceBaseUrl: "http://sprite.local:8787" },
      service: { tokenEnv: "SPRITE_TOKEN", retryAttempts: 3, retryBackoffSeconds: 2 },
    },
  ],
  policy: {
    mode: "guarded_auto",
    noiseControls: { dedupeWindowSeconds: 600 },
    suppressions: { "*": ["health_degraded"], "loop-red": ["reconcile_failed"] },
    autonomous: {
      allow: { categories: ["reconcile_failed", "health_critical"], intents: ["cancel"] },
      thresholds: { minSeverity: "warning", minConfidence: "medium" },
      safety: { maxActionsPerRun: 2, maxActionsPerLoop: 1, cooldownSeconds: 300, killSwitch: false },
      governance: { actor: "alice@example.com", approvalRef: "CHG-1042", rationale: "canary rollout", changedAt: PAST, reviewBy: FUTURE },
      rollout: {
        canaryPercent: 50,
        scope: { loopIds: ["loop-red", "loop-blue"] },
        selector: { salt: "fleet-a-salt" },
        pause: { manual: false },
        autoPause: { enabled: true, lookbackExecutions: 10, minSampleSize: 4, ambiguityRateThreshold: 0.25, failureRateThreshold: 0.5 },
      },
    },
  },
});
const minimal = () => ({ schemaVersion: "v1", loops: [{ loopId: "solo" }] });
const edit = (base, change) => {
  const doc = base();
  return change(doc) ?? doc;
};
const advisoryValid = () => {
  const doc = valid();
  doc.policy.mode = "advisory";
  return doc;
};
/** The base document with the value at a dotted path (numbers index arrays) set, or removed. */
const set = (base, path, value) =>
  edit(base, (doc) => {
    const keys = path.split(".");
    const last = keys.pop();
    keys.reduce((node, key) => node[key], doc)[last] = value;
  });
const drop = (base, path) =>
  edit(base, (doc) => {
    const keys = path.split(".");
    const last = keys.pop();
    delete keys.reduce((node, key) => node[key], doc)[last];
  });
const gov = (d) => d.policy.autonomous.governance;
const rollout = (d) => d.policy.autonomous.rollout;

/** [name, document, intended?]: intended = { row, opsledger } where opsledger decides otherwise by design. */
const CASES = [
  ["a rich valid registry", valid()],
  ["a minimal valid registry", minimal()],
  ["not an object", [1, 2]],
  ["schemaVersion v2", { ...minimal(), schemaVersion: "v2" }],
  ["schemaVersion missing", { loops: minimal().loops }],
  ["fleetId a number", { ...minimal(), fleetId: 7 }],
  ["loops an object", { schemaVersion: "v1", loops: { a: { loopId: "a" } } }],
  ["loops missing", { schemaVersion: "v1" }],
  ["loops empty", { schemaVersion: "v1", loops: [] }],
  ["a null loop entry", { schemaVersion: "v1", loops: [{ loopId: "a" }, null] }],
  ["a number as loop entry", { schemaVersion: "v1", loops: [{ loopId: "a" }, 3] }],
  ["duplicate loopIds", set(valid, "loops.1.loopId", "loop-red")],
  ["empty loopId", set(minimal, "loops.0.loopId", "")],
  ["loopId a number", set(minimal, "loops.0.loopId", 12)],
  ["enabled a string", set(minimal, "loops.0.enabled", "no")],
  ["transport unknown", set(minimal, "loops.0.transport", "ssh")],
  ["sprite a string", set(minimal, "loops.0.sprite", "vm-1")],
  ["sprite an array", set(minimal, "loops.0.sprite", ["vm-1"])],
  ["sprite.id empty", set(valid, "loops.1.sprite.id", "")],
  ["service an array", set(minimal, "loops.0.service", [])],
  ["service.tokenEnv empty", set(minimal, "loops.0.service", { tokenEnv: "" })],
  ["service.retryAttempts 0", set(minimal, "loops.0.service", { retryAttempts: 0 })],
  ["service.retryAttempts a string", set(minimal, "loops.0.service", { retryAttempts: "3" })],
  ["service.retryBackoffSeconds negative", set(minimal, "loops.0.service", { retryBackoffSeconds: -1 })],
  ["sprite_service without a URL", drop(valid, "loops.1.sprite.serviceBaseUrl")],
  ["sprite_service with an empty service.baseUrl beside a sprite URL", set(valid, "loops.1.service.baseUrl", "")],
  [
    "sprite_service with service.baseUrl only",
    edit(valid, (d) => void Object.assign(d.loops[1], { sprite: { id: "vm-7" }, service: { baseUrl: "http://svc.local" } })),
  ],
  ["metadata an array", set(minimal, "loops.0.metadata", [1])],
  ["metadata a string", set(minimal, "loops.0.metadata", "team red")],
  ["policy a number", { ...minimal(), policy: 1 }],
  ["policy.mode unknown", set(valid, "policy.mode", "auto")],
  ["noiseControls a number", set(valid, "policy.noiseControls", 5)],
  ["noiseControls an array", set(valid, "policy.noiseControls", [])],
  ["dedupeWindowSeconds negative", set(valid, "policy.noiseControls.dedupeWindowSeconds", -1)],
  ["dedupeWindowSeconds fractional", set(valid, "policy.noiseControls.dedupeWindowSeconds", 1.5)],
  ["autonomous an array", set(valid, "policy.autonomous", [])],
  ["allow an array", set(valid, "policy.autonomous.allow", [])],
  ["allow.categories a string", set(valid, "policy.autonomous.allow.categories", "reconcile_failed")],
  ["allow.categories with a number", set(valid, "policy.autonomous.allow.categories", [1])],
  ["allow.categories unsupported", set(valid, "policy.autonomous.allow.categories", ["disk_full"])],
  ["allow.intents a string", set(valid, "policy.autonomous.allow.intents", "cancel")],
  ["allow.intents with a number", set(valid, "policy.autonomous.allow.intents", [true])],
  ["allow.intents unsupported", set(valid, "policy.autonomous.allow.intents", ["approve"])],
  ["thresholds an array", set(valid, "policy.autonomous.thresholds", [])],
  ["minSeverity a number", set(valid, "policy.autonomous.thresholds.minSeverity", 2)],
  ["minSeverity unknown", set(valid, "policy.autonomous.thresholds.minSeverity", "fatal")],
  ["minConfidence a number", set(valid, "policy.autonomous.thresholds.minConfidence", 1)],
  ["minConfidence unknown", set(valid, "policy.autonomous.thresholds.minConfidence", "certain")],
  ["safety an array", set(valid, "policy.autonomous.safety", [])],
  ["maxActionsPerRun negative", set(valid, "policy.autonomous.safety.maxActionsPerRun", -1)],
  ["maxActionsPerLoop fractional", set(valid, "policy.autonomous.safety.maxActionsPerLoop", 1.5)],
  ["cooldownSeconds a string", set(valid, "policy.autonomous.safety.cooldownSeconds", "300")],
  ["killSwitch a string", set(valid, "policy.autonomous.safety.killSwitch", "yes")],
  ["governance an array", set(valid, "policy.autonomous.governance", [])],
  ["governance an array in advisory mode", set(advisoryValid, "policy.autonomous.governance", [])],
  ["guarded_auto without governance", drop(valid, "policy.autonomous.governance")],
  ["guarded_auto without autonomous", drop(valid, "policy.autonomous")],
  ["guarded_auto with an empty governance", set(valid, "policy.autonomous.governance", {})],
  ["actor missing", drop(valid, "policy.autonomous.governance.actor")],
  ["actor empty", set(valid, "policy.autonomous.governance.actor", "")],
  ["actor empty in advisory mode", set(advisoryValid, "policy.autonomous.governance.actor", "")],
  ["approvalRef missing", drop(valid, "policy.autonomous.governance.approvalRef")],
  ["approvalRef a number", set(valid, "policy.autonomous.governance.approvalRef", 1042)],
  ["rationale missing", drop(valid, "policy.autonomous.governance.rationale")],
  ["rationale empty in advisory mode", set(advisoryValid, "policy.autonomous.governance.rationale", "")],
  ["changedAt missing", drop(valid, "policy.autonomous.governance.changedAt")],
  ["changedAt a date only", set(valid, "policy.autonomous.governance.changedAt", "2026-02-23")],
  ["changedAt words in advisory mode", set(advisoryValid, "policy.autonomous.governance.changedAt", "yesterday")],
  ["reviewBy missing", drop(valid, "policy.autonomous.governance.reviewBy")],
  ["reviewBy with an offset", set(valid, "policy.autonomous.governance.reviewBy", "2099-06-30T00:00:00+00:00")],
  ["reviewBy an epoch number", set(valid, "policy.autonomous.governance.reviewBy", 4070908800)],
  ["reviewBy before changedAt", set(valid, "policy.autonomous.governance.changedAt", "2099-07-01T00:00:00Z")],
  ["reviewBy equal to changedAt in advisory mode", set(advisoryValid, "policy.autonomous.governance.changedAt", FUTURE)],
  [
    "reviewBy in the past",
    edit(valid, (d) => void Object.assign(gov(d), { changedAt: "2020-01-01T00:00:00Z", reviewBy: "2021-01-01T00:00:00Z" })),
  ],
  ["reviewBy in the past in advisory mode", set(advisoryValid, "policy.autonomous.governance.reviewBy", "2026-03-01T00:00:00Z")],
  ["rollout an array", set(valid, "policy.autonomous.rollout", [])],
  ["canaryPercent above 100", set(valid, "policy.autonomous.rollout.canaryPercent", 150)],
  ["canaryPercent fractional", set(valid, "policy.autonomous.rollout.canaryPercent", 12.5)],
  ["canaryPercent a string", set(valid, "policy.autonomous.rollout.canaryPercent", "50")],
  ["scope an array", set(valid, "policy.autonomous.rollout.scope", [])],
  ["scope.loopIds a string", set(valid, "policy.autonomous.rollout.scope.loopIds", "loop-red")],
  ["scope.loopIds with a number", set(valid, "policy.autonomous.rollout.scope.loopIds", [1])],
  ["scope.loopIds with an empty id", set(valid, "policy.autonomous.rollout.scope.loopIds", [""])],
  ["scope.loopIds repeated", set(valid, "policy.autonomous.rollout.scope.loopIds", ["loop-red", "loop-red"])],
  ["scope.loopIds undeclared", set(valid, "policy.autonomous.rollout.scope.loopIds", ["ghost"])],
  ["selector an array", set(valid, "policy.autonomous.rollout.selector", [])],
  ["selector.salt a number", set(valid, "policy.autonomous.rollout.selector.salt", 7)],
  ["selector.salt empty", set(valid, "policy.autonomous.rollout.selector.salt", "")],
  ["pause an array", set(valid, "policy.autonomous.rollout.pause", [])],
  ["pause.manual a string", set(valid, "policy.autonomous.rollout.pause.manual", "yes")],
  ["autoPause an array", set(valid, "policy.autonomous.rollout.autoPause", [])],
  ["autoPause.enabled a string", set(valid, "policy.autonomous.rollout.autoPause.enabled", "on")],
  ["lookbackExecutions 0", set(valid, "policy.autonomous.rollout.autoPause.lookbackExecutions", 0)],
  ["minSampleSize fractional", set(valid, "policy.autonomous.rollout.autoPause.minSampleSize", 2.5)],
  ["ambiguityRateThreshold above 1", set(valid, "policy.autonomous.rollout.autoPause.ambiguityRateThreshold", 2)],
  ["failureRateThreshold negative", set(valid, "policy.autonomous.rollout.autoPause.failureRateThreshold", -0.1)],
  ["suppressions an array", set(valid, "policy.suppressions", [])],
  ["suppressions key undeclared", set(valid, "policy.suppressions", { ghost: ["health_critical"] })],
  ["suppressions value a string", set(valid, "policy.suppressions", { "*": "health_critical" })],
  ["suppressions value with a number", set(valid, "policy.suppressions", { "*": [1] })],
  ["suppressions category unknown", set(valid, "policy.suppressions", { "loop-red": ["disk_full"] })],
  [
    "many mistakes at once",
    edit(valid, (d) => {
      d.schemaVersion = "v0";
      d.loops[0].transport = "ftp";
      d.policy.autonomous.allow.intents = ["approve"];
      delete gov(d).actor;
      d.policy.autonomous.rollout = { canaryPercent: 250, scope: { loopIds: ["ghost"] } };
    }),
  ],
  // false is absent to jq's `//`: the reference applies the default
  [
    "false in optional fields",
    edit(valid, (d) => {
      d.fleetId = false;
      Object.assign(d.loops[0], { transport: false, metadata: false });
      Object.assign(rollout(d), { canaryPercent: false, selector: { salt: false } });
      gov(d).rationale = false;
    }),
  ],
  ["false for an optional object", set(valid, "policy.noiseControls", false)],
  [
    "null in optional fields",
    edit(valid, (d) => {
      d.fleetId = null;
      Object.assign(d.loops[0], { transport: null, metadata: null });
      rollout(d).canaryPercent = null;
      d.policy.suppressions = null;
    }),
  ],
  // semantics.md §2: where opsledger decides otherwise by design
  [
    "enabled false on a loop and on autoPause",
    edit(valid, (d) => {
      d.loops[0].enabled = false;
      rollout(d).autoPause.enabled = false;
    }),
    { row: 1, opsledger: "accepted", note: "enabled:false is honoured; the reference normalizes both to true" },
  ],
  [
    "changedAt with milliseconds",
    set(valid, "policy.autonomous.governance.changedAt", "2026-02-23T00:00:00.123Z"),
    { row: 19, opsledger: "accepted" },
  ],
  [
    "reviewBy on 30 February",
    set(valid, "policy.autonomous.governance.reviewBy", "2099-02-30T00:00:00Z"),
    { row: 26, opsledger: "rejected" },
  ],
  [
    "reviewBy at second 60",
    set(valid, "policy.autonomous.governance.reviewBy", "2099-06-30T23:59:60Z"),
    { row: 26, opsledger: "rejected" },
  ],
  ["changedAt unpadded", set(valid, "policy.autonomous.governance.changedAt", "2026-2-3T4:05:06Z"), { row: 26, opsledger: "rejected" }],
  [
    "reviewBy with a trailing space, equal to changedAt",
    edit(valid, (d) => void Object.assign(gov(d), { changedAt: FUTURE, reviewBy: `${FUTURE} ` })),
    { row: 26, opsledger: "rejected" },
  ],
  ["service.baseUrl a number on a local loop", set(minimal, "loops.0.service", { baseUrl: 8787 }), { row: 27, opsledger: "rejected" }],
  [
    "sprite.serviceBaseUrl an object on a local loop",
    set(minimal, "loops.0.sprite", { serviceBaseUrl: { host: "x" } }),
    { row: 27, opsledger: "rejected" },
  ],
];

// ---------------------------------------------------------------------------------------------
// Running the reference.

function runReference(document) {
  const repo = mkdtempSync(join(tmpdir(), "opsledger-reference-"));
  try {
    const fleet = join(repo, ".superloop", "ops-manager", "fleet");
    mkdirSync(fleet, { recursive: true });
    const file = join(fleet, "registry.v1.json");
    writeFileSync(file, JSON.stringify(document));
    const run = spawnSync("bash", [SCRIPT, "--repo", repo, "--registry-file", file], { env: ENV, encoding: "utf8" });
    if (run.status === 0) {
      const normalized = JSON.parse(run.stdout);
      delete normalized.sourceFile; // a temp path
      return { status: "accepted", normalized };
    }
    const [first, ...rest] = run.stderr.split("\n");
    if (first?.startsWith("error: invalid fleet registry:")) {
      return { status: "rejected", messages: rest.filter((line) => line.startsWith(" - ")).map((line) => line.slice(3)) };
    }
    // jq stopped on indexing a non-object before it printed a list (`//` does not catch that in 1.6)
    return { status: "aborted", stderr: run.stderr.trim().split("\n")[0] };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

const source = readFileSync(SCRIPT, "utf8");
const cases = CASES.map(([name, document, intended]) => {
  process.stderr.write(`. ${name}\n`);
  return { name, document, reference: runReference(document), ...(intended ? { intended } : {}) };
});
const record = {
  about:
    "What superloop's ops-manager-fleet-registry.sh printed for each document; written by scripts/record-reference-registry.mjs, do not edit by hand.",
  recordedAt: new Date().toISOString(),
  jq: execFileSync("jq", ["--version"], { encoding: "utf8" }).trim(),
  script: { path: "scripts/ops-manager-fleet-registry.sh", sha256: createHash("sha256").update(source).digest("hex") },
  templates: templates(source),
  cases,
};
writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
process.stderr.write(`wrote ${OUT.pathname}: ${cases.length} cases, ${record.templates.length} templates\n`);
