import { type Category, CONFIDENCE_RANK, SEVERITY_RANK, TAXONOMY } from "../contract/taxonomy.ts";
import type { AutoPauseTripped, CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
import { autoPauseMetrics, autoPauseTriggers } from "./autopause.ts";
import { type CohortSelection, selectCohort } from "./cohort.ts";
import { assessGovernance } from "./governance.ts";
import { allBelowSurrogates, compareCodePoints, sortedUnique } from "./order.ts";
import type { FleetState } from "./state.ts";

/** What one evaluation decides: an auto-pause trip (when the window trips the latch now) and the evaluation itself. */
export interface EvaluationDecision {
  readonly trip: AutoPauseTripped | null;
  readonly evaluation: PolicyEvaluated;
}

/** The inputs besides state: the injected time and the ids of this evaluation. */
export interface EvaluationContext {
  readonly now: Date;
  readonly traceId: string | null;
  readonly evaluationId: string;
  /** Skip the advisory dedupe: dispatch re-checks gates right after an evaluation that just reset it. */
  readonly ignoreDedupe?: boolean;
}

const PAUSED_MANUAL = "autonomous_rollout_paused_manual";

// the categories of one result (taxonomy v1), in code-point order, as shared lists indexed by
// (failed ? 3 : 0) + (critical 1 | degraded 2 | otherwise 0)
const CATEGORY_LISTS: readonly (readonly Category[])[] = [
  [],
  ["health_critical"],
  ["health_degraded"],
  ["reconcile_failed"],
  ["health_critical", "reconcile_failed"],
  ["health_degraded", "reconcile_failed"],
];
const categoriesOf = (failed: boolean, health: string): readonly Category[] =>
  CATEGORY_LISTS[(failed ? 3 : 0) + (health === "critical" ? 1 : health === "degraded" ? 2 : 0)] as readonly Category[];
const PAUSED_AUTO = "autonomous_rollout_paused_auto";

/**
 * Evaluates the observed fleet against the policy in force (reference §3.2–§3.5 with the fixes of
 * semantics §2): candidates, suppression (loop → global → dedupe), base gates G1–G6, rollout gates
 * (scope, canary, manual pause, auto-pause latch), governance gates, then safety rails in order
 * kill switch → cooldown (from dispatch) → run cap → loop cap over candidates in (loopId, category)
 * code-point order. A pure function of (state, context): the same inputs give the same decision.
 * The caller checks that a policy and an observation exist.
 */
export function decideEvaluation(state: FleetState, context: EvaluationContext): EvaluationDecision {
  const policy = state.policy;
  const observation = state.observation;
  if (!policy || !observation) throw new Error("decideEvaluation needs an applied policy and an observation");
  const now = context.now.getTime();
  const registry = policy.registry;
  const { mode, suppressions, noiseControls, autonomous } = registry.policy;
  const { allow, thresholds, safety, rollout } = autonomous;
  const guarded = mode === "guarded_auto";

  // auto-pause: a latch, tripped here when the window of attempted batches spikes
  const metrics = autoPauseMetrics(state.autoPause.window, rollout.autoPause.lookbackExecutions);
  const triggers = state.autoPause.latch ? [] : autoPauseTriggers(metrics, rollout.autoPause);
  const trip: AutoPauseTripped | null =
    triggers.length > 0
      ? {
          reasons: triggers,
          metrics,
          lookbackExecutions: rollout.autoPause.lookbackExecutions,
          minSampleSize: rollout.autoPause.minSampleSize,
          ambiguityRateThreshold: rollout.autoPause.ambiguityRateThreshold,
          failureRateThreshold: rollout.autoPause.failureRateThreshold,
        }
      : null;
  const autoActive = rollout.autoPause.enabled && (state.autoPause.latch !== null || trip !== null);
  const autoReasons = autoActive ? [...(state.autoPause.latch?.reasons ?? trip?.reasons ?? [])] : [];

  const manualSources = [
    ...(rollout.pause.manual ? (["registry"] as const) : []),
    ...(state.rolloutPause.active ? (["operator"] as const) : []),
  ];
  const pauseReasons = [...(manualSources.length > 0 ? [PAUSED_MANUAL] : []), ...(autoActive ? [PAUSED_AUTO] : [])];
  // every fleet-wide pause reason lands on every candidate, suppressed ones and advisory mode included
  const fleetWideRolloutReasons = sortedUnique([...pauseReasons, ...autoReasons]);

  const governance = assessGovernance(mode, policy.governance, now);
  const governanceBlock =
    guarded && governance.blocksAutonomous ? governance.reasonCodes.filter((c) => c !== "autonomous_governance_review_due_soon") : [];
  const killSwitchActive = guarded && (safety.killSwitch || state.killSwitch.active);

  // the cohort over a stable population: every declared loop plus every observed one (selection
  // does not depend on the order it is given them)
  const population = [...new Set([...registry.loops.map((l) => l.loopId), ...observation.data.results.map((r) => r.loopId)])];
  const cohort = new Map<string, CohortSelection>(selectCohort(population, rollout).map((s) => [s.loopId, s]));

  // candidates in (loopId, category) code-point order, one per id: results sorted by loop id, and
  // within a loop health_* < reconcile_failed (code points), so no candidate list is sorted
  const results = observation.data.results.filter((r) => r.status !== "skipped");
  const byLoopId = allBelowSurrogates(population)
    ? // the common case, and the hot one on large fleets: UTF-16 order is code-point order here
      (a: { loopId: string }, b: { loopId: string }) => (a.loopId < b.loopId ? -1 : a.loopId > b.loopId ? 1 : 0)
    : (a: { loopId: string }, b: { loopId: string }) => compareCodePoints(a.loopId, b.loopId);
  if (!results.every((r, i) => i === 0 || byLoopId(results[i - 1] as { loopId: string }, r) <= 0)) results.sort(byLoopId);

  // Records are plain data: the common, identical parts are one shared object per evaluation
  // (and the rollout part one per loop), which keeps a 20k-candidate evaluation from allocating
  // 100k objects. They serialize exactly as separate copies would.
  const noDedupe = { windowSeconds: noiseControls.dedupeWindowSeconds, active: false, remainingSeconds: 0, lastUnsuppressedAt: null };
  const cleanSafety = {
    killSwitchActive,
    cooldownActive: false,
    cooldownRemainingSeconds: 0,
    lastDispatchedAt: null,
    runCapBlocked: false,
    loopCapBlocked: false,
  };
  const rollouts = new Map<CohortSelection, CandidateDecision["rollout"]>();
  const rolloutOf = (s: CohortSelection): CandidateDecision["rollout"] => {
    let view = rollouts.get(s);
    if (!view) {
      view = { bucket: s.bucket, hashVersion: s.hashVersion, inScope: s.inScope, canarySelected: s.canarySelected, inCohort: s.inCohort };
      rollouts.set(s, view);
    }
    return view;
  };
  // keyed by the loop's rollout reasons (one of three shared lists), then by the gate booleans
  type SharedGates = { gates: CandidateDecision["gates"]; gatingReasons: string[]; withRail: Map<string, string[]> };
  const sharedGates = new Map<readonly string[], (SharedGates | undefined)[]>();
  const loopSuppressions = new Map(Object.entries(suppressions));
  const globalSuppressions = suppressions["*"];
  const dedupeMs = noiseControls.dedupeWindowSeconds * 1000;
  const cooldownMs = safety.cooldownSeconds * 1000;
  let previousId = "";
  const selectedByLoop = new Map<string, number>();
  let selectedTotal = 0;
  const candidates: CandidateDecision[] = [];

  for (const result of results) {
    const { loopId } = result;
    const traceId = result.traceId ?? null;
    for (const category of categoriesOf(result.status === "failed", result.healthStatus)) {
      const candidateId = `${loopId}:${category}`;
      // sorted, so a duplicate (the first wins) sits right after its twin
      if (candidateId === previousId) continue;
      previousId = candidateId;
      const taxonomy = TAXONOMY[category];

      // suppression: loop → global → dedupe
      let scope: "loop" | "global" | "cooldown" | null = null;
      if (loopSuppressions.get(loopId)?.includes(category)) scope = "loop";
      else if (globalSuppressions?.includes(category)) scope = "global";
      const lastUnsuppressedAt = state.lastUnsuppressedAt.get(candidateId) ?? null;
      const sinceUnsuppressed = lastUnsuppressedAt === null ? Number.POSITIVE_INFINITY : now - Date.parse(lastUnsuppressedAt);
      const dedupeActive = scope === null && dedupeMs > 0 && sinceUnsuppressed < dedupeMs && context.ignoreDedupe !== true;
      if (dedupeActive) scope = "cooldown";
      const suppressed = scope !== null;

      const selection = cohort.get(loopId) as CohortSelection;
      const categoryAllowed = allow.categories.includes(category);
      const intentAllowed = allow.intents.includes(taxonomy.recommendedIntent);
      const severityMeetsThreshold = SEVERITY_RANK[taxonomy.severity] >= SEVERITY_RANK[thresholds.minSeverity];
      const confidenceMeetsThreshold = CONFIDENCE_RANK[taxonomy.confidence] >= CONFIDENCE_RANK[thresholds.minConfidence];
      // the gates and the reasons they give depend on a handful of booleans and the loop's rollout
      // reasons (one of three shared lists): both are computed once per combination and shared
      const mask =
        (suppressed ? 1 : 0) |
        (categoryAllowed ? 2 : 0) |
        (intentAllowed ? 4 : 0) |
        (severityMeetsThreshold ? 8 : 0) |
        (confidenceMeetsThreshold ? 16 : 0) |
        (selection.inScope ? 32 : 0) |
        (selection.canarySelected ? 64 : 0);
      let byMask = sharedGates.get(selection.reasons);
      if (!byMask) {
        byMask = [];
        sharedGates.set(selection.reasons, byMask);
      }
      let shared = byMask[mask];
      if (!shared) {
        const gates = {
          modeGuardedAuto: guarded,
          suppressed,
          categoryAllowed,
          intentAllowed,
          severityMeetsThreshold,
          confidenceMeetsThreshold,
          rolloutScopeAllowed: selection.inScope,
          rolloutCanarySelected: selection.canarySelected,
          governanceActive: governanceBlock.length === 0,
        };
        const gating: string[] = [...selection.reasons, ...fleetWideRolloutReasons, ...governanceBlock];
        if (!gates.modeGuardedAuto) gating.push("policy_mode_not_guarded_auto");
        if (suppressed) gating.push("candidate_suppressed");
        if (!categoryAllowed) gating.push("category_not_allowlisted");
        if (!intentAllowed) gating.push("intent_not_allowlisted");
        if (!severityMeetsThreshold) gating.push("severity_below_threshold");
        if (!confidenceMeetsThreshold) gating.push("confidence_below_threshold");
        shared = { gates, gatingReasons: sortedUnique(gating), withRail: new Map<string, string[]>() };
        byMask[mask] = shared;
      }
      const { gates, gatingReasons } = shared;

      // safety rails: the first that applies, only for candidates every gate let through
      const lastDispatchedAt = state.lastDispatchedAt.get(candidateId) ?? null;
      const sinceDispatch = lastDispatchedAt === null ? Number.POSITIVE_INFINITY : now - Date.parse(lastDispatchedAt);
      const cooldownActive = cooldownMs > 0 && sinceDispatch < cooldownMs;
      let rail: string | null = null;
      let runCapBlocked = false;
      let loopCapBlocked = false;
      if (guarded && gatingReasons.length === 0) {
        const loopSelected = selectedByLoop.get(loopId) ?? 0;
        if (killSwitchActive) rail = "autonomous_kill_switch_enabled";
        else if (cooldownActive) rail = "autonomous_cooldown_active";
        else if (selectedTotal >= safety.maxActionsPerRun) {
          rail = "autonomous_max_actions_per_run_exceeded";
          runCapBlocked = true;
        } else if (loopSelected >= safety.maxActionsPerLoop) {
          rail = "autonomous_max_actions_per_loop_exceeded";
          loopCapBlocked = true;
        }
        if (rail === null) {
          selectedTotal++;
          selectedByLoop.set(loopId, loopSelected + 1);
        }
      }
      let reasons = gatingReasons;
      if (rail !== null) {
        const cached = shared.withRail.get(rail);
        reasons = cached ?? sortedUnique([...gatingReasons, rail]);
        if (!cached) shared.withRail.set(rail, reasons);
      }

      candidates.push({
        candidateId,
        loopId,
        category,
        signal: taxonomy.signal,
        severity: taxonomy.severity,
        confidence: taxonomy.confidence,
        recommendedIntent: taxonomy.recommendedIntent,
        traceId,
        suppressed,
        suppressionScope: scope,
        suppressionReason: scope === null ? null : scope === "cooldown" ? "advisory_cooldown_active" : "registry_policy_suppression",
        suppressionSource:
          scope === "loop"
            ? `policy.suppressions.${loopId}`
            : scope === "global"
              ? "policy.suppressions.*"
              : scope === "cooldown"
                ? "policy.noiseControls.dedupeWindowSeconds"
                : null,
        dedupe:
          dedupeActive || (dedupeMs > 0 && lastUnsuppressedAt !== null)
            ? {
                windowSeconds: noiseControls.dedupeWindowSeconds,
                active: dedupeActive,
                remainingSeconds: dedupeActive ? (dedupeMs - sinceUnsuppressed) / 1000 : 0,
                lastUnsuppressedAt: dedupeMs > 0 ? lastUnsuppressedAt : null,
              }
            : noDedupe,
        gates,
        rollout: rolloutOf(selection),
        safety:
          cooldownActive || lastDispatchedAt !== null || runCapBlocked || loopCapBlocked
            ? {
                killSwitchActive,
                cooldownActive,
                cooldownRemainingSeconds: cooldownActive ? (cooldownMs - sinceDispatch) / 1000 : 0,
                lastDispatchedAt,
                runCapBlocked,
                loopCapBlocked,
              }
            : cleanSafety,
        gatingReasons,
        reasons,
        eligible: reasons.length === 0,
      });
    }
  }

  const unsuppressed = candidates.filter((c) => !c.suppressed);
  const autoEligibleCount = unsuppressed.filter((c) => c.eligible).length;
  const unsuppressedReasons = new Set<string>();
  for (const c of unsuppressed) for (const reason of c.reasons) unsuppressedReasons.add(reason);
  const has = (...codes: string[]) => codes.some((code) => unsuppressedReasons.has(code));
  const reasonCodes: string[] = [unsuppressed.length > 0 ? "fleet_action_required" : "no_action_required"];
  if (unsuppressed.length < candidates.length) reasonCodes.push("fleet_actions_suppressed");
  if (candidates.some((c) => c.suppressionReason === "registry_policy_suppression")) reasonCodes.push("fleet_actions_policy_suppressed");
  if (candidates.some((c) => c.suppressionReason === "advisory_cooldown_active")) reasonCodes.push("fleet_actions_deduped");
  if (guarded) {
    if (autoEligibleCount > 0) reasonCodes.push("fleet_auto_candidates_eligible");
    if (unsuppressed.length > 0 && autoEligibleCount === 0) reasonCodes.push("fleet_auto_candidates_blocked");
    if (has("autonomous_rollout_scope_excluded", "autonomous_rollout_canary_excluded"))
      reasonCodes.push("fleet_auto_candidates_rollout_gated");
    if (has(PAUSED_MANUAL, PAUSED_AUTO)) reasonCodes.push("fleet_auto_candidates_paused");
    if (autoActive) reasonCodes.push("fleet_auto_candidates_autopause_triggered");
    if (has("autonomous_kill_switch_enabled")) reasonCodes.push("fleet_auto_kill_switch_enabled");
    if (has("autonomous_cooldown_active", "autonomous_max_actions_per_run_exceeded", "autonomous_max_actions_per_loop_exceeded")) {
      reasonCodes.push("fleet_auto_candidates_safety_blocked");
    }
    if (governanceBlock.length > 0 && unsuppressed.length > 0) reasonCodes.push("fleet_auto_candidates_governance_blocked");
  }

  return {
    trip,
    evaluation: {
      evaluationId: context.evaluationId,
      traceId: context.traceId,
      policySeq: policy.seq,
      policyHash: policy.hash,
      observationSeq: state.observation?.seq ?? 0,
      mode,
      counts: {
        evaluatedLoopCount: observation.data.results.length,
        candidateCount: candidates.length,
        unsuppressedCount: unsuppressed.length,
        suppressedCount: candidates.length - unsuppressed.length,
        cooldownSuppressedCount: candidates.filter((c) => c.suppressionReason === "advisory_cooldown_active").length,
        autoEligibleCount,
        manualOnlyCount: unsuppressed.length - autoEligibleCount,
      },
      reasonCodes: sortedUnique(reasonCodes),
      governance: { posture: governance.posture, reasonCodes: [...governance.reasonCodes], blocksAutonomous: governance.blocksAutonomous },
      killSwitch: { registry: safety.killSwitch, operator: state.killSwitch.active },
      pause: {
        active: pauseReasons.length > 0,
        reasons: sortedUnique(pauseReasons),
        manual: manualSources.length > 0,
        manualSources: [...manualSources],
        auto: { enabled: rollout.autoPause.enabled, active: autoActive, reasons: sortedUnique(autoReasons), metrics },
      },
      candidates,
    },
  };
}
