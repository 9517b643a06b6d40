import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOpsledgerError } from "../errors.ts";
import { openLedger } from "../ledger/ledger.ts";
import type { EvaluationDocument } from "../projections/evaluation.ts";
import { explain } from "../projections/explain.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { arbitraryRegistry } from "../testing/arbitraries.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import { decideEvaluation, recheckGates } from "./evaluate.ts";
import { FLEET_GATES, POLICY_GATES, recordedGateInput } from "./gates.ts";
import { SAFETY_RAILS } from "./rails.ts";
import type { FleetState } from "./state.ts";

const T0 = "2026-03-01T00:00:00.000Z";

async function fleet(registry = guardedRegistry(), now = T0) {
  const clock = fixedClock(now);
  const store = createMemoryEventStore();
  const ledger = await openLedger({ store, clock, ids: sequentialIds() });
  const applied = await ledger.applyRegistry(registry);
  if (!applied.ok) throw new Error(JSON.stringify(applied.errors));
  return { ledger, clock, store };
}

const candidate = (doc: EvaluationDocument, id: string) => {
  const found = doc.candidates.find((c) => c.candidateId === id);
  if (!found) throw new Error(`no candidate ${id}`);
  return found;
};

describe("evaluate: candidates and suppression (reference §3.2–§3.3)", () => {
  it("derives candidates from failed and unhealthy loops in (loopId, category) order with taxonomy v1", async () => {
    const { ledger } = await fleet(guardedRegistry({ loops: ["loop-b", "loop-a"], mode: "advisory" }));
    await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-b", status: "failed", healthStatus: "critical" },
        { loopId: "loop-a", healthStatus: "degraded" },
      ]),
    );
    const doc = await ledger.evaluate();
    expect(doc.candidates.map((c) => [c.candidateId, c.severity, c.confidence, c.signal, c.recommendedIntent])).toEqual([
      ["loop-a:health_degraded", "warning", "medium", "health_degraded", "cancel"],
      ["loop-b:health_critical", "critical", "high", "health_critical", "cancel"],
      ["loop-b:reconcile_failed", "critical", "high", "status_failed", "cancel"],
    ]);
    expect(doc.candidates.every((c) => c.autonomous.reasons.includes("policy_mode_not_guarded_auto"))).toBe(true);
    expect(doc.reasonCodes).toEqual(["fleet_action_required"]);
    expect(doc.candidates[0]?.traceId).toBe("fleet-trace-loop-a");
  });

  it("applies loop suppression before global suppression", async () => {
    const { ledger } = await fleet(
      guardedRegistry({ loops: ["loop-red", "loop-blue"], suppressions: { "loop-red": ["health_critical"], "*": ["health_critical"] } }),
    );
    await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-red", healthStatus: "critical" },
        { loopId: "loop-blue", healthStatus: "critical" },
      ]),
    );
    const doc = await ledger.evaluate();
    expect(candidate(doc, "loop-red:health_critical")).toMatchObject({
      suppressed: true,
      suppressionScope: "loop",
      suppressionReason: "registry_policy_suppression",
      suppressionSource: "policy.suppressions.loop-red",
    });
    expect(candidate(doc, "loop-blue:health_critical")).toMatchObject({
      suppressed: true,
      suppressionScope: "global",
      suppressionSource: "policy.suppressions.*",
    });
    expect(candidate(doc, "loop-red:health_critical").autonomous.reasons).toContain("candidate_suppressed");
    expect(doc.reasonCodes).toEqual(["fleet_actions_policy_suppressed", "fleet_actions_suppressed", "no_action_required"]);
  });

  it("dedupes a candidate surfaced less than dedupeWindowSeconds ago; suppressed re-emissions do not extend the window", async () => {
    const { ledger, clock } = await fleet(guardedRegistry({ dedupeWindowSeconds: 300 }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    expect(candidate(await ledger.evaluate(), "loop-red:health_critical").suppressed).toBe(false);
    clock.advance(200_000);
    const second = await ledger.evaluate();
    expect(candidate(second, "loop-red:health_critical")).toMatchObject({
      suppressed: true,
      suppressionScope: "cooldown",
      suppressionReason: "advisory_cooldown_active",
      suppressionSource: "policy.noiseControls.dedupeWindowSeconds",
      cooldown: { enabled: true, windowSeconds: 300, active: true, remainingSeconds: 100, lastUnsuppressedAt: T0 },
    });
    expect(second.reasonCodes).toEqual(expect.arrayContaining(["fleet_actions_deduped", "fleet_actions_suppressed", "no_action_required"]));
    expect(second.cooldownSuppressedCount).toBe(1);
    clock.advance(100_000);
    expect(candidate(await ledger.evaluate(), "loop-red:health_critical").suppressed).toBe(false);
  });
});

describe("evaluate: gates and rails (reference §3.4), exact reason codes", () => {
  it("refuses a category outside the allowlist in guarded_auto", async () => {
    const { ledger } = await fleet(guardedRegistry({ categories: ["reconcile_failed"] }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    const doc = await ledger.evaluate();
    expect(candidate(doc, "loop-red:health_critical").autonomous).toMatchObject({
      eligible: false,
      manualOnly: true,
      reasons: ["category_not_allowlisted"],
    });
    expect(doc.reasonCodes).toEqual(["fleet_action_required", "fleet_auto_candidates_blocked"]);
  });

  it("blocks below the severity threshold", async () => {
    const { ledger } = await fleet(guardedRegistry({ categories: ["health_degraded"] }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "degraded" }]));
    expect(candidate(await ledger.evaluate(), "loop-red:health_degraded").autonomous.reasons).toEqual([
      "confidence_below_threshold",
      "severity_below_threshold",
    ]);
  });

  it("makes every otherwise eligible candidate manual-only when the registry's kill switch is on", async () => {
    const { ledger } = await fleet(guardedRegistry({ killSwitch: true }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    const doc = await ledger.evaluate();
    expect(doc).toMatchObject({ autoEligibleCount: 0, manualOnlyCount: 1 });
    expect(candidate(doc, "loop-red:health_critical").autonomous.reasons).toEqual(["autonomous_kill_switch_enabled"]);
    expect(doc.reasonCodes).toEqual(["fleet_action_required", "fleet_auto_candidates_blocked", "fleet_auto_kill_switch_enabled"]);
  });

  it("honours the operator kill switch the same way, and its release", async () => {
    const { ledger } = await fleet();
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    expect(await ledger.engageKillSwitch(operator())).toMatchObject({ ok: true, changed: true });
    expect(await ledger.engageKillSwitch(operator())).toEqual({ ok: true, changed: false, seq: null });
    expect(candidate(await ledger.evaluate(), "loop-red:health_critical").autonomous.reasons).toEqual(["autonomous_kill_switch_enabled"]);
    await ledger.releaseKillSwitch(operator());
    expect(candidate(await ledger.evaluate(), "loop-red:health_critical").autonomous.eligible).toBe(true);
  });

  it("refuses an operator command without complete governance metadata, recording nothing", async () => {
    const { ledger, store } = await fleet();
    const before = (await store.head("default"))?.seq;
    const result = await ledger.engageKillSwitch({ actor: "oncall", approvalRef: "", rationale: undefined } as never);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path).sort()).toEqual(["governance.approvalRef", "governance.rationale"]);
    expect((await store.head("default"))?.seq).toBe(before);
  });

  it("lets health_critical win a per-loop cap of 1 over reconcile_failed (code-point order)", async () => {
    const { ledger } = await fleet(guardedRegistry({ maxActionsPerLoop: 1 }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", status: "failed", healthStatus: "critical" }]));
    const doc = await ledger.evaluate();
    expect(candidate(doc, "loop-red:health_critical").autonomous).toMatchObject({ eligible: true, reasons: [] });
    expect(candidate(doc, "loop-red:reconcile_failed").autonomous).toMatchObject({
      eligible: false,
      reasons: ["autonomous_max_actions_per_loop_exceeded"],
    });
    expect(candidate(doc, "loop-red:reconcile_failed").autonomous.safety.loopCapBlocked).toBe(true);
    expect(doc.reasonCodes).toEqual(["fleet_action_required", "fleet_auto_candidates_eligible", "fleet_auto_candidates_safety_blocked"]);
  });

  it("stops at maxActionsPerRun, and a cap of 0 blocks everything with the run cap first", async () => {
    const { ledger } = await fleet(guardedRegistry({ loops: ["loop-a", "loop-b"], maxActionsPerRun: 1 }));
    await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-a", healthStatus: "critical" },
        { loopId: "loop-b", healthStatus: "critical" },
      ]),
    );
    const doc = await ledger.evaluate();
    expect(doc.candidates.map((c) => c.autonomous.reasons)).toEqual([[], ["autonomous_max_actions_per_run_exceeded"]]);
    const zero = await fleet(guardedRegistry({ maxActionsPerRun: 0, maxActionsPerLoop: 0 }));
    await zero.ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    expect(candidate(await zero.ledger.evaluate(), "loop-red:health_critical").autonomous.reasons).toEqual([
      "autonomous_max_actions_per_run_exceeded",
    ]);
  });

  it("excludes loops outside the scope and outside the canary, with the same buckets on every run", async () => {
    const registry = guardedRegistry({
      loops: ["loop-a", "loop-b", "loop-c"],
      rollout: { canaryPercent: 40, scope: { loopIds: ["loop-a", "loop-b"] } },
    });
    const { ledger } = await fleet(registry);
    await ledger.observe(
      fleetStateDocument(["loop-a", "loop-b", "loop-c"].map((loopId) => ({ loopId, healthStatus: "critical" as const }))),
    );
    const first = await ledger.evaluate();
    expect(first.candidates.map((c) => [c.loopId, c.autonomous.rollout.selector.bucket, c.autonomous.reasons])).toEqual([
      ["loop-a", 36, []],
      ["loop-b", 85, ["autonomous_rollout_canary_excluded"]],
      ["loop-c", 31, ["autonomous_rollout_scope_excluded"]],
    ]);
    expect(first.rollout.candidateBuckets).toEqual({ inScopeCount: 2, inCohortCount: 1, outOfCohortCount: 1 });
    expect(first.reasonCodes).toContain("fleet_auto_candidates_rollout_gated");
    const second = await ledger.evaluate();
    expect(second.candidates.map((c) => c.autonomous.rollout.selector)).toEqual(first.candidates.map((c) => c.autonomous.rollout.selector));
  });

  it("pauses every candidate on a manual pause, from the registry or an operator", async () => {
    const { ledger } = await fleet(guardedRegistry({ rollout: { pause: { manual: true } } }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    const doc = await ledger.evaluate();
    expect(candidate(doc, "loop-red:health_critical").autonomous.reasons).toEqual(["autonomous_rollout_paused_manual"]);
    expect(doc.reasonCodes).toContain("fleet_auto_candidates_paused");
    const operated = await fleet();
    await operated.ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    await operated.ledger.pauseRollout(operator());
    const paused = await operated.ledger.evaluate();
    expect(paused.rollout.pause).toMatchObject({
      active: true,
      manual: true,
      manualSources: ["operator"],
      reasons: ["autonomous_rollout_paused_manual"],
    });
    await operated.ledger.resumeRollout(operator());
    expect((await operated.ledger.evaluate()).autoEligibleCount).toBe(1);
  });

  it("shows an active pause even with zero candidates (the reference showed a static default)", async () => {
    const { ledger } = await fleet(guardedRegistry({ rollout: { pause: { manual: true } } }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red" }]));
    const doc = await ledger.evaluate();
    expect(doc.candidateCount).toBe(0);
    expect(doc.rollout.pause).toMatchObject({ active: true, manual: true });
  });
});

describe("evaluate: auto-pause latch (semantics §2 #4)", () => {
  const base = async () => {
    const { ledger } = await fleet(
      guardedRegistry({
        rollout: {
          canaryPercent: 100,
          autoPause: { lookbackExecutions: 3, minSampleSize: 2, ambiguityRateThreshold: 0.5, failureRateThreshold: 0.5 },
        },
      }),
    );
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    return ledger;
  };
  const withWindow = (state: FleetState, window: FleetState["autoPause"]["window"]): FleetState => ({
    ...state,
    autoPause: { ...state.autoPause, window },
  });
  const batch = (seq: number, outcome: "executed" | "ambiguous" | "failed") => ({
    seq,
    attempted: 1,
    executed: outcome === "executed" ? 1 : 0,
    ambiguous: outcome === "ambiguous" ? 1 : 0,
    failed: outcome === "failed" ? 1 : 0,
  });
  const context = { now: new Date(T0), traceId: "t", evaluationId: "e" };

  it("trips on an ambiguity spike with its metrics, and the trip pauses every candidate", async () => {
    const ledger = await base();
    const { trip, evaluation } = decideEvaluation(
      withWindow(ledger.state().fleet, [batch(1, "executed"), batch(2, "ambiguous"), batch(3, "ambiguous")]),
      context,
    );
    expect(trip).toMatchObject({
      reasons: ["autonomous_autopause_ambiguous_spike"],
      metrics: { windowExecutionCount: 3, attemptedCount: 3, ambiguousCount: 2 },
    });
    expect(evaluation.candidates[0]?.reasons).toEqual(["autonomous_autopause_ambiguous_spike", "autonomous_rollout_paused_auto"]);
    expect(evaluation.reasonCodes).toEqual(
      expect.arrayContaining(["fleet_auto_candidates_autopause_triggered", "fleet_auto_candidates_paused"]),
    );
  });

  it("trips on a failure spike", async () => {
    const ledger = await base();
    const { trip } = decideEvaluation(withWindow(ledger.state().fleet, [batch(1, "failed"), batch(2, "failed")]), context);
    expect(trip?.reasons).toEqual(["autonomous_autopause_failure_spike"]);
    expect(trip?.metrics).toMatchObject({ attemptedCount: 2, failedCount: 2, failureRate: 1 });
  });

  it("does not trip below minSampleSize or when auto-pause is disabled (the reference could not disable it, §2 #1)", async () => {
    const ledger = await base();
    expect(decideEvaluation(withWindow(ledger.state().fleet, [batch(1, "failed")]), context).trip).toBeNull();
    const off = await fleet(guardedRegistry({ rollout: { autoPause: { enabled: false, minSampleSize: 1 } } }));
    await off.ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    expect(decideEvaluation(withWindow(off.ledger.state().fleet, [batch(1, "failed"), batch(2, "failed")]), context).trip).toBeNull();
  });

  it("records AutoPauseTripped, holds the latch after the window clears, and clears only on an audited resume (the reference cleared silently)", async () => {
    const { ledger, store } = await fleet(
      guardedRegistry({ rollout: { autoPause: { lookbackExecutions: 2, minSampleSize: 1, failureRateThreshold: 0.5 } } }),
    );
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    // feed the window through the ledger's own state: one failed batch
    const state = ledger.state().fleet;
    const tripped = decideEvaluation(withWindow(state, [batch(1, "failed")]), context);
    expect(tripped.trip).not.toBeNull();
    await ledger.execute(() => ({ events: [{ type: "AutoPauseTripped", data: tripped.trip as never }], result: null }));
    const held = await ledger.evaluate();
    expect(held.rollout.pause.auto).toMatchObject({ active: true, reasons: ["autonomous_autopause_failure_spike"] });
    expect(held.candidates[0]?.autonomous.eligible).toBe(false);
    expect(await ledger.resumeAutoPause({ actor: "", approvalRef: "x", rationale: "y" })).toMatchObject({ ok: false });
    expect(await ledger.resumeAutoPause(operator("bob", "CAB-77", "transport recovered"))).toMatchObject({ ok: true, changed: true });
    const resumed = await ledger.evaluate();
    expect(resumed.rollout.pause.auto.active).toBe(false);
    expect(resumed.autoEligibleCount).toBe(1);
    const types: string[] = [];
    for await (const r of store.read("default")) types.push(JSON.parse(r.line).record.type);
    expect(types).toContain("AutoPauseResumed");
  });
});

describe("evaluate: governance is a real gate on autonomy (semantics §2 #10–11)", () => {
  it("blocks autonomy once the review expired, with the governance reason codes, while advisory evaluation keeps working (the reference halted every command)", async () => {
    const { ledger, clock } = await fleet();
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    clock.set("2026-12-31T00:00:00Z");
    const doc = await ledger.evaluate();
    expect(doc.governance).toEqual({
      posture: "review_expired",
      reasonCodes: ["autonomous_governance_review_expired"],
      blocksAutonomous: true,
    });
    expect(candidate(doc, "loop-red:health_critical").autonomous).toMatchObject({
      eligible: false,
      reasons: ["autonomous_governance_review_expired"],
    });
    expect(candidate(doc, "loop-red:health_critical").autonomous.gates.governanceActive).toBe(false);
    expect(doc.reasonCodes).toContain("fleet_auto_candidates_governance_blocked");
  });

  it("only warns when the review is due within 7 days (the reference reported it as blocking)", async () => {
    const { ledger, clock } = await fleet();
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    clock.set("2026-12-24T00:00:00Z");
    const doc = await ledger.evaluate();
    expect(doc.governance).toEqual({
      posture: "review_due_soon",
      reasonCodes: ["autonomous_governance_review_due_soon"],
      blocksAutonomous: false,
    });
    expect(doc.autoEligibleCount).toBe(1);
  });
});

describe("observe (reference state.json v1)", () => {
  it("skips loops the registry disables with loop_disabled and fleet_loop_skipped (the reference could not disable a loop, §2 #1)", async () => {
    const { ledger } = await fleet(guardedRegistry({ loops: [{ loopId: "loop-red", enabled: false }, "loop-blue"] }));
    const observed = await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-red", healthStatus: "critical" },
        { loopId: "loop-blue", healthStatus: "critical" },
      ]),
    );
    if (!observed.ok) throw new Error("observe failed");
    expect(observed.observation.results.find((r) => r.loopId === "loop-red")).toMatchObject({
      status: "skipped",
      reasonCode: "loop_disabled",
    });
    expect(observed.observation.reasonCodes).toEqual(["fleet_health_critical", "fleet_loop_skipped"]);
    const doc = await ledger.evaluate();
    expect(doc.candidates.map((c) => c.candidateId)).toEqual(["loop-blue:health_critical"]);
  });

  it("evaluates loops the registry does not know, as the reference does", async () => {
    const { ledger } = await fleet();
    await ledger.observe(fleetStateDocument([{ loopId: "stranger", status: "failed" }]));
    expect((await ledger.evaluate()).candidates.map((c) => c.candidateId)).toEqual(["stranger:reconcile_failed"]);
  });

  it("refuses a document that is not fleet state v1, listing every problem", async () => {
    const { ledger } = await fleet();
    const result = await ledger.observe({ schemaVersion: "v2", results: [{ loopId: "", status: "odd" }] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toEqual(["schemaVersion", "results[0].loopId", "results[0].status"]);
  });

  it("derives the fleet's status and reason codes from results", async () => {
    const { ledger } = await fleet(guardedRegistry({ loops: ["a", "b"] }));
    const result = await ledger.observe(fleetStateDocument([{ loopId: "a", status: "failed", healthStatus: "degraded" }, { loopId: "b" }]));
    expect(result.ok && result.observation).toMatchObject({
      status: "partial_failure",
      reasonCodes: ["fleet_health_degraded", "fleet_partial_failure"],
      successCount: 1,
      failedCount: 1,
    });
  });

  it("refuses to evaluate without a policy or an observation", async () => {
    const ledger = await openLedger({ store: createMemoryEventStore(), clock: fixedClock(T0), ids: sequentialIds() });
    await expect(ledger.evaluate()).rejects.toSatisfy((e) => isOpsledgerError(e, "PRECONDITION"));
    await ledger.applyRegistry(guardedRegistry());
    await expect(ledger.evaluate()).rejects.toThrow(/observe a fleet state first/);
  });
});

describe("applyRegistry: governance audit classification (reference §7.2)", () => {
  it("classifies initialized, mutated, mode toggled, registry updated, and records nothing for an identical re-apply", async () => {
    const ledger = await openLedger({ store: createMemoryEventStore(), clock: fixedClock(T0), ids: sequentialIds() });
    expect(await ledger.applyRegistry(guardedRegistry({ mode: "advisory" }))).toMatchObject({
      ok: true,
      change: "autonomous_policy_initialized",
      seq: 2,
    });
    expect(await ledger.applyRegistry(guardedRegistry({ mode: "advisory" }))).toMatchObject({ ok: true, change: null, seq: null });
    const toggled = await ledger.applyRegistry(guardedRegistry({ mode: "guarded_auto", killSwitch: true }));
    expect(toggled).toMatchObject({ ok: true, change: "autonomous_mode_toggled", seq: 3 });
    const mutated = await ledger.applyRegistry(guardedRegistry({ killSwitch: false }));
    expect(mutated).toMatchObject({ ok: true, change: "autonomous_policy_mutated", changedPaths: ["policy.autonomous.safety.killSwitch"] });
    const updated = await ledger.applyRegistry(guardedRegistry({ loops: ["loop-red", "loop-new"] }));
    expect(updated).toMatchObject({ ok: true, change: "registry_updated", changedPaths: ["loopCount", "loops"] });
    expect(ledger.state().fleet.policy?.registry.loopCount).toBe(2);
  });

  it("refuses guarded_auto without complete governance, listing every message and recording nothing", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    const result = await ledger.applyRegistry(guardedRegistry({ governance: { actor: undefined, reviewBy: "2026-02-28T00:00:00Z" } }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.message)).toEqual([
        "policy.autonomous.governance.actor is required when policy.mode is guarded_auto",
        "policy.autonomous.governance.reviewBy must be in the future when policy.mode is guarded_auto",
      ]);
    }
    expect(await store.head("default")).toBeUndefined();
  });

  it("takes governance from the second argument, stamped with the apply's time", async () => {
    const ledger = await openLedger({ store: createMemoryEventStore(), clock: fixedClock(T0), ids: sequentialIds() });
    const doc = guardedRegistry();
    delete (doc["policy"] as any).autonomous.governance;
    const result = await ledger.applyRegistry(doc, {
      governance: { actor: "carol", approvalRef: "CAB-1", rationale: "enable canary", reviewBy: "2026-06-01T00:00:00Z" },
    });
    expect(result).toMatchObject({ ok: true, change: "autonomous_policy_initialized" });
    expect(ledger.state().fleet.policy?.governance).toEqual({
      actor: "carol",
      approvalRef: "CAB-1",
      rationale: "enable canary",
      changedAt: T0,
      reviewBy: "2026-06-01T00:00:00Z",
    });
  });
});

describe("recheck: the gates an evaluation would give now, the advisory dedupe aside", () => {
  const results = (loopIds: readonly string[]) =>
    fc.array(
      fc.record({
        loopId: fc.constantFrom(...loopIds),
        status: fc.constantFrom("success", "failed", "skipped"),
        healthStatus: fc.constantFrom("healthy", "degraded", "critical", "unknown"),
      }),
      { minLength: 1, maxLength: 12 },
    );
  const cases = arbitraryRegistry({ now: T0 }).chain((registry) =>
    fc.record({
      registry: fc.constant(registry),
      first: results((registry["loops"] as { loopId: string }[]).map((l) => l.loopId)),
      second: results((registry["loops"] as { loopId: string }[]).map((l) => l.loopId)),
    }),
  );

  it("gives every candidate of an evaluation at the same moment its reasons, with deduped candidates as if unsuppressed", async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ registry, first, second }) => {
        const { ledger, clock } = await fleet(registry);
        await ledger.observe(fleetStateDocument(first));
        await ledger.evaluate(); // stamps lastUnsuppressedAt: the next evaluation dedupes
        clock.advance(1000);
        await ledger.observe(fleetStateDocument(second));
        const state = ledger.state().fleet;
        const now = new Date(clock.now());
        const recorded = decideEvaluation(state, { now, traceId: null, evaluationId: "e" }).evaluation.candidates;
        const undeduped = decideEvaluation({ ...state, lastUnsuppressedAt: new Map() }, { now, traceId: null, evaluationId: "e" })
          .evaluation.candidates;
        const recheck = recheckGates(state, now);
        expect(recheck.loopIds).toEqual(recorded.map((c) => c.loopId));
        expect(recheck.categories).toEqual(recorded.map((c) => c.category));
        expect(recheck.reasons).toEqual(undeduped.map((c) => c.reasons));
      }),
      { numRuns: 60 },
    );
  });

  it("explains each policy gate and rail as the evaluation decided it: a failed gate is exactly a gating reason, a rail stops only what the gates let through", async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ registry, first }) => {
        const { ledger } = await fleet(registry);
        await ledger.observe(fleetStateDocument(first));
        await ledger.evaluate();
        const state = ledger.state().fleet;
        for (const candidate of state.evaluation?.data.candidates ?? []) {
          const checks = explain(state, candidate.candidateId).candidates[0]?.checks ?? [];
          for (const gate of POLICY_GATES) {
            const check = checks.find((k) => k.check === gate.name);
            expect(check?.passed, `${candidate.candidateId} ${gate.name}`).toBe(!candidate.gatingReasons.includes(gate.reason));
          }
          // the two gate tables give exactly the candidate's gating reasons, nothing else decides them
          const evaluation = state.evaluation?.data as NonNullable<typeof state.evaluation>["data"];
          const fromTables = [
            ...FLEET_GATES.flatMap((gate) => gate.reasons(recordedGateInput(candidate, evaluation))),
            ...POLICY_GATES.filter((gate) => candidate.gates[gate.flag] !== gate.passes).map((gate) => gate.reason),
          ];
          expect([...new Set(fromTables)].sort(), candidate.candidateId).toEqual([...candidate.gatingReasons].sort());
          for (const gate of FLEET_GATES) {
            const passed = gate.reasons(recordedGateInput(candidate, evaluation)).length === 0;
            expect(checks.find((k) => k.check === gate.name)?.passed, `${candidate.candidateId} ${gate.name}`).toBe(passed);
          }
          // a rail stops only what every gate let through, and one rail at most: the first that applies
          const stoppedBy = SAFETY_RAILS.filter((rail) => checks.find((k) => k.check === rail.name)?.passed === false);
          expect(stoppedBy.length, candidate.candidateId).toBeLessThanOrEqual(candidate.gatingReasons.length === 0 ? 1 : 0);
          expect(candidate.eligible).toBe(candidate.gatingReasons.length === 0 && stoppedBy.length === 0);
        }
      }),
      { numRuns: 60 },
    );
  });
});
