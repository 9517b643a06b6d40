import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fixtures, opsledger } from "./run.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "opsledger-cli-"));
  dirs.push(cwd);
});

const store = () => ["--store", join(cwd, "store")];

describe("opsledger: the reference workflow on reference files (fs store)", () => {
  it("applies a registry v1, observes a fleet state v1, evaluates, dispatches through a reference control script, and verifies", async () => {
    const log = join(cwd, "control.log");
    expect((await opsledger(["init", ...store()], { cwd })).code).toBe(0);

    const applied = await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...store(), "--json"], { cwd });
    expect(applied.code).toBe(0);
    expect(applied.json).toMatchObject({ ok: true, change: "autonomous_policy_initialized", seq: 2 });

    const observed = await opsledger(["observe", join(fixtures, "state.json"), ...store(), "--json"], { cwd });
    expect(observed.json).toMatchObject({
      ok: true,
      seq: 3,
      observation: { status: "partial_failure", loopCount: 3, traceId: "fleet-trace-0900" },
    });

    const evaluated = await opsledger(["evaluate", ...store(), "--json"], { cwd });
    expect(evaluated.code).toBe(0);
    expect(evaluated.json).toMatchObject({
      mode: "guarded_auto",
      candidateCount: 4,
      unsuppressedCount: 3,
      suppressedCount: 1,
      autoEligibleCount: 2,
      manualOnlyCount: 1,
    });
    expect(evaluated.json.reasonCodes).toEqual([
      "fleet_action_required",
      "fleet_actions_policy_suppressed",
      "fleet_actions_suppressed",
      "fleet_auto_candidates_eligible",
    ]);
    const byId = Object.fromEntries(evaluated.json.candidates.map((c: any) => [c.candidateId, c]));
    expect(byId["loop-red:health_critical"].autonomous).toMatchObject({
      eligible: true,
      reasons: [],
      gates: { modeGuardedAuto: true, rolloutCanarySelected: true },
    });
    expect(byId["loop-blue:health_degraded"]).toMatchObject({
      suppressed: true,
      suppressionScope: "loop",
      suppressionSource: "policy.suppressions.loop-blue",
    });
    expect(byId["loop-sprite:health_degraded"].autonomous.reasons).toEqual([
      "category_not_allowlisted",
      "confidence_below_threshold",
      "severity_below_threshold",
    ]);

    const dispatched = await opsledger(
      ["dispatch", "--autonomous", "--control", join(fixtures, "control-confirm.sh"), "--by", "ops-bot", ...store(), "--json"],
      {
        cwd,
        env: { CONTROL_LOG: log },
      },
    );
    expect(dispatched.code).toBe(0);
    expect(dispatched.json).toMatchObject({
      ok: true,
      mode: "autonomous",
      requestedIntentCount: 2,
      executedCount: 2,
      ambiguousCount: 0,
      failedCount: 0,
    });
    expect(dispatched.json.reasonCodes).toContain("fleet_handoff_executed");
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual([
      "loop-red:health_critical:cancel fleet-handoff-fleet-trace-0900-i1-loop-red-health_critical-cancel",
      "loop-sprite:reconcile_failed:cancel fleet-handoff-fleet-trace-0900-i1-loop-sprite-reconcile_failed-cancel",
    ]);

    const again = await opsledger(["dispatch", "--autonomous", "--control", join(fixtures, "control-confirm.sh"), ...store(), "--json"], {
      cwd,
      env: { CONTROL_LOG: log },
    });
    expect(again.json.requestedIntentCount).toBe(0);

    const status = await opsledger(["status", ...store(), "--json"], { cwd });
    expect(status.code).toBe(0);
    expect(status.json.autonomous).toMatchObject({
      enabled: true,
      outcomeRollup: { attempted: 0, executed: 0, manual_backlog: 1 },
      outcomeTotals: { attempted: 2, executed: 2 },
      governance: { changedBy: "alice", approvalRef: "CAB-900", posture: "active", blocksAutonomous: false },
    });
    expect(status.json.policy).toMatchObject({ mode: "guarded_auto", candidateCount: 4 });
    expect(status.json.fleet).toMatchObject({ status: "partial_failure", partialFailure: true });

    const explained = await opsledger(["explain", "loop-sprite", ...store()], { cwd });
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain(
      "loop-sprite:health_degraded → manual-only (category_not_allowlisted, confidence_below_threshold, severity_below_threshold)",
    );
    expect(explained.stdout).toMatch(
      /✗ category allowlist\s+policy: reconcile_failed, health_critical; observed: health_degraded → category_not_allowlisted/,
    );

    const audit = await opsledger(["audit", ...store()], { cwd });
    expect(audit.stdout).toMatch(/2\s+2026-03-01T09:00:00.000Z\s+alice\s+policy initialized \(guarded_auto\)/);

    const verified = await opsledger(["verify", ...store(), "--json"], { cwd });
    expect(verified.code).toBe(0);
    // 7 facts and the empty second autonomous batch (recorded, as the reference records every execute)
    expect(verified.json).toMatchObject({ ok: true, count: 8, breaks: [] });
  });

  it("records an ambiguous control exit, never retries it autonomously, and accepts an acknowledgement", async () => {
    const dir = ["--store", join(cwd, "ambiguous")];
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    await opsledger(["evaluate", ...dir], { cwd });
    const first = await opsledger(["dispatch", "--autonomous", "--control", join(fixtures, "control-ambiguous.sh"), ...dir, "--json"], {
      cwd,
    });
    expect(first.code).toBe(5); // recorded, but not every intent executed
    expect(first.json).toMatchObject({ ambiguousCount: 2 });
    expect(first.json.results[0]).toMatchObject({ status: "ambiguous", reasonCode: "control_ambiguous" });
    const second = await opsledger(["dispatch", "--autonomous", "--control", join(fixtures, "control-ambiguous.sh"), ...dir, "--json"], {
      cwd,
    });
    expect(second.json.requestedIntentCount).toBe(0);
    expect(second.json.reasonCodes).toContain("fleet_handoff_retry_guarded");
    const ack = await opsledger(["ack", "loop-red:health_critical:cancel", "--by", "dave", "--note", "checked", ...dir], { cwd });
    expect(ack.code).toBe(0);
    expect((await opsledger(["ack", "loop-red:health_critical:cancel", ...dir], { cwd })).code).toBe(2);
  });

  it("kills a control command past --control-timeout and records the intent ambiguous", async () => {
    const dir = ["--store", join(cwd, "timeout")];
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    await opsledger(["evaluate", ...dir], { cwd });
    const started = Date.now();
    const run = await opsledger(
      [
        "dispatch",
        "--intent",
        "loop-red:health_critical:cancel",
        "--confirm",
        "--control",
        "sleep 30",
        "--control-timeout",
        "0.5",
        ...dir,
        "--json",
      ],
      { cwd },
    );
    expect(run.code).toBe(5);
    expect(run.json.results[0]).toMatchObject({ status: "ambiguous", reasonCode: "control_ambiguous" });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("switches the kill switch and the rollout pause with governance metadata, and replays the past", async () => {
    const dir = ["--store", join(cwd, "operator")];
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    expect((await opsledger(["killswitch", "on", ...dir], { cwd })).code).toBe(2);
    const on = await opsledger(
      ["killswitch", "on", "--actor", "carol", "--approval-ref", "INC-7", "--rationale", "runaway", ...dir, "--json"],
      { cwd, env: { OPSLEDGER_NOW: "2026-03-01T10:00:00Z" } },
    );
    expect(on.json).toEqual({ ok: true, changed: true, seq: 4 });
    const evaluated = await opsledger(["evaluate", ...dir, "--json"], { cwd, env: { OPSLEDGER_NOW: "2026-03-01T10:01:00Z" } });
    expect(evaluated.json.reasonCodes).toContain("fleet_auto_kill_switch_enabled");
    expect(
      (await opsledger(["rollout", "pause", "--actor", "carol", "--approval-ref", "INC-7", "--rationale", "hold", ...dir], { cwd })).code,
    ).toBe(0);
    expect(
      (await opsledger(["killswitch", "off", "--actor", "carol", "--approval-ref", "INC-7", "--rationale", "fixed", ...dir], { cwd })).code,
    ).toBe(0);
    const past = await opsledger(["replay", "--until", "4", ...dir, "--json"], { cwd });
    expect(past.json.autonomous.safetyGateDecisions.killSwitchActive).toBe(true);
    const atSeq = await opsledger(["status", "--seq", "3", ...dir, "--json"], { cwd });
    expect(atSeq.json.ledger.seq).toBe(3);
    expect(atSeq.json.autonomous.safetyGateDecisions.killSwitchActive).toBe(false);
    const byTime = await opsledger(["replay", "--until", "2026-03-01T09:30:00Z", ...dir, "--json"], { cwd });
    expect(byTime.json.ledger.seq).toBe(3);
  });
});

describe("opsledger: registry preview and auto-pause resume", () => {
  it("previews the cohort a registry change would make, writing nothing", async () => {
    const dir = ["--store", join(cwd, "preview")];
    const narrow = join(cwd, "narrow.json");
    const registry = JSON.parse(await readFile(join(fixtures, "registry.v1.json"), "utf8"));
    registry.policy.autonomous.rollout.canaryPercent = 100;
    await writeFile(narrow, JSON.stringify(registry));
    await opsledger(["registry", "apply", narrow, ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    await opsledger(["evaluate", ...dir], { cwd });
    registry.policy.autonomous.rollout.scope = { loopIds: ["loop-red"] };
    await writeFile(narrow, JSON.stringify(registry));
    const before = (await opsledger(["verify", ...dir, "--json"], { cwd })).json.count;
    const preview = await opsledger(["registry", "preview", narrow, ...dir, "--json"], { cwd });
    expect(preview.code).toBe(0);
    expect(preview.json.cohort).toMatchObject({
      entering: [],
      leaving: ["loop-blue", "loop-sprite"],
      staying: ["loop-red"],
      cohortBefore: 3,
      cohortAfter: 1,
    });
    expect(preview.json.candidates.map((c: any) => c.candidateId)).toEqual([
      "loop-blue:health_degraded",
      "loop-sprite:health_degraded",
      "loop-sprite:reconcile_failed",
    ]);
    expect((await opsledger(["verify", ...dir, "--json"], { cwd })).json.count).toBe(before);
  });

  it("resumes a tripped auto-pause only with governance metadata, and says when there is nothing to resume", async () => {
    const dir = ["--store", join(cwd, "autopause")];
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    expect((await opsledger(["autopause", "resume", ...dir], { cwd })).code).toBe(2);
    const idle = await opsledger(
      ["autopause", "resume", "--actor", "bob", "--approval-ref", "CAB-2", "--rationale", "check", ...dir, "--json"],
      { cwd },
    );
    expect(idle.json).toEqual({ ok: true, changed: false, seq: null });
  });
});

describe("opsledger: errors and exit codes", () => {
  it("exits 2 on usage errors with the command's usage", async () => {
    expect((await opsledger(["frobnicate"], { cwd })).code).toBe(2);
    const badFlag = await opsledger(["status", "--colour"], { cwd });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("unknown option '--colour'");
    expect(badFlag.stderr).toContain("see opsledger status --help");
    expect((await opsledger(["dispatch", "--autonomous", ...store()], { cwd })).stderr).toContain(
      "required option '--control <command>' not specified",
    );
    expect((await opsledger(["--help"], { cwd })).code).toBe(0);
  });

  it("exits 1 listing every message with its path for an invalid registry, and writes nothing", async () => {
    const bad = join(cwd, "bad-registry.json");
    await writeFile(
      bad,
      JSON.stringify({
        schemaVersion: "v1",
        loops: [{ loopId: "a", transport: "ftp" }],
        policy: { mode: "guarded_auto", autonomous: { allow: { intents: ["approve"] } } },
      }),
    );
    const run = await opsledger(["registry", "apply", bad, "--store", join(cwd, "refused"), "--json"], { cwd });
    expect(run.code).toBe(1);
    // the reference's list: with no governance object, every piece guarded_auto needs is named
    expect(run.json.errors.map((e: any) => e.path)).toEqual([
      "loops[0].transport",
      "policy.autonomous.allow.intents",
      "policy.autonomous.governance",
      "policy.autonomous.governance.actor",
      "policy.autonomous.governance.approvalRef",
      "policy.autonomous.governance.rationale",
      "policy.autonomous.governance.changedAt",
      "policy.autonomous.governance.reviewBy",
    ]);
    expect(run.json.errors[0]).toEqual({
      path: "loops[0].transport",
      message: "loops[0]: transport must be local or sprite_service",
      detail: 'got "ftp"',
    });
    // the reference's words, and what they do not say beside them
    expect(run.stderr).toContain('  - loops[0]: transport must be local or sprite_service (got "ftp")\n');
    expect(run.stderr).toContain(
      "  - policy.autonomous.allow.intents contains unsupported intents (unsupported: approve; allowed: cancel)\n",
    );
    expect(run.stderr).toContain("policy.autonomous.governance is required when policy.mode is guarded_auto");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // nothing was written: not even the store directory exists
    expect((await opsledger(["verify", "--store", join(cwd, "refused")], { cwd })).code).toBe(4);
  });

  it("exits 1 with one clear line for a missing or unreadable file", async () => {
    const run = await opsledger(["observe", "nope.json", ...store()], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe("opsledger observe: cannot read the fleet state nope.json: no such file");
  });

  it("exits 4 for a store that does not exist when only reading", async () => {
    const run = await opsledger(["status", "--store", join(cwd, "no-such-store")], { cwd });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("no store at");
  });

  it("exits 3 when verification finds a break, naming the seq, the kind, and the file and offset", async () => {
    const dir = join(cwd, "tampered");
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), "--store", dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), "--store", dir], { cwd });
    const segment = join(dir, "default", "00000000000000000001.ndjson");
    const text = await readFile(segment, "utf8");
    await writeFile(segment, text.replace('"approvalRef":"CAB-900"', '"approvalRef":"CAB-666"'));
    const run = await opsledger(["verify", "--store", dir], { cwd });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/seq 2 hash_mismatch at default\/00000000000000000001\.ndjson:\d+/);
  });
});

describe("opsledger: drills and the demo", () => {
  it("runs the three drills against the store and records them", async () => {
    const run = await opsledger(["drill", "all", "--store", join(cwd, "drills"), "--json"], { cwd });
    expect(run.code).toBe(0);
    expect(run.json.drills.map((d: any) => [d.drillId, d.status])).toEqual([
      ["kill_switch", "pass"],
      ["sprite_service_outage", "pass"],
      ["ambiguous_retry_guard", "pass"],
    ]);
    const status = await opsledger(["status", "--store", join(cwd, "drills"), "--json"], { cwd });
    expect(Object.keys(status.json.drills).sort()).toEqual(["ambiguous_retry_guard", "kill_switch", "sprite_service_outage"]);
  });

  it("runs the demo without colour when piped, and leaves a log the other commands can use", async () => {
    const run = await opsledger(["demo", join(cwd, "demo")], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("auto-pause tripped");
    expect(run.stdout).toContain("carol engages the kill switch");
    expect(run.stdout).toContain("retry-guarded");
    expect(run.stdout).toMatch(/verified: \d+ records/);
    expect(run.stdout).not.toContain("\u001b[");
    expect((await opsledger(["verify", "--store", join(cwd, "demo")], { cwd })).code).toBe(0);
    const again = await opsledger(["demo", join(cwd, "store")], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("was not made by opsledger demo");
  });
});
