import {
  CATEGORIES,
  type Category,
  CONFIDENCE_RANK,
  RESULT_CATEGORY_LISTS,
  resultCategoryMask,
  SEVERITY_RANK,
  TAXONOMY,
} from "../contract/taxonomy.ts";
import type { AutoPauseTripped, CandidateDecision, LoopResult, PolicyEvaluated } from "../events/fleet-events.ts";
import { autoPauseAtEvaluation } from "./autopause.ts";
import { cohortPlacer } from "./cohort.ts";
import { blockingGovernanceCodes, FLEET_GATES, POLICY_GATES } from "./gates.ts";
import { assessGovernance } from "./governance.ts";
import { HALT_PAUSED_AUTO, HALT_PAUSED_MANUAL } from "./halt.ts";
import { allBelowSurrogates, compareCodePoints, sortedUnique } from "./order.ts";
import { stoppingRail } from "./rails.ts";
import type { ReasonCode } from "./reason-codes.ts";
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
}

/**
 * The reasons each candidate of the observed fleet would get now, the advisory dedupe aside (the
 * plan and dispatch re-check gates right after an evaluation that just reset it): three lists in
 * the evaluation's candidate order, without the records an evaluation keeps.
 */
export interface GateRecheck {
  readonly loopIds: string[];
  readonly categories: Category[];
  readonly reasons: (readonly string[])[];
}

/**
 * Evaluates the observed fleet against the policy in force (reference §3.2–§3.5 with the fixes of
 * semantics §2): candidates, suppression (loop → global → dedupe), base gates G1–G6, rollout gates
 * (scope, canary, manual pause, auto-pause latch), governance gates, then safety rails in order
 * kill switch → cooldown (from dispatch) → run cap → loop cap over candidates in (loopId, category)
 * code-point order. A pure function of (state, context): the same inputs give the same decision.
 * The caller checks that a policy and an observation exist.
 */
export function decideEvaluation(state: FleetState, context: EvaluationContext): EvaluationDecision {
  return evaluate(state, context, null);
}

/** The gates and rails of {@link decideEvaluation} at `now` for every candidate, as a {@link GateRecheck}. */
export function recheckGates(state: FleetState, now: Date): GateRecheck {
  const recheck: GateRecheck = { loopIds: [], categories: [], reasons: [] };
  evaluate(state, { now, traceId: null, evaluationId: "recheck" }, recheck);
  return recheck;
}

// One walk for both: an evaluation records every candidate; a recheck (non-null) only collects reasons.
function evaluate(state: FleetState, context: EvaluationContext, recheck: GateRecheck | null): EvaluationDecision {
  const policy = state.policy;
  const observation = state.observation;
  if (!policy || !observation) throw new Error("decideEvaluation needs an applied policy and an observation");
  const now = context.now.getTime();
  const registry = policy.registry;
  const { mode, suppressions, noiseControls, autonomous } = registry.policy;
  const { allow, thresholds, safety, rollout } = autonomous;
  const guarded = mode === "guarded_auto";

  // auto-pause: a latch, tripped here when the window of attempted batches spikes (autopause.ts)
  const { metrics, trip, active: autoActive, reasons: autoReasons } = autoPauseAtEvaluation(state.autoPause, rollout.autoPause);

  const manualSources = [
    ...(rollout.pause.manual ? (["registry"] as const) : []),
    ...(state.rolloutPause.active ? (["operator"] as const) : []),
  ];
  const pauseReasons = [...(manualSources.length > 0 ? [HALT_PAUSED_MANUAL] : []), ...(autoActive ? [HALT_PAUSED_AUTO] : [])];

  const governance = assessGovernance(mode, policy.governance, now);
  const governanceBlock = guarded && governance.blocksAutonomous ? blockingGovernanceCodes(governance.reasonCodes) : [];
  // what the fleet gates read besides a candidate's placement: every fleet-wide reason lands on
  // every candidate, suppressed ones and advisory mode included
  const fleetWide = { manualPause: manualSources.length > 0, autoPause: { active: autoActive, reasons: autoReasons }, governanceBlock };
  const killSwitchActive = guarded && (safety.killSwitch || state.killSwitch.active);

  // the cohort over a stable population: every declared loop plus every observed one (selection
  // does not depend on the order it is given them; percent mode does not read it at all)
  const placeLoop = cohortPlacer(rollout, () => [...registry.loops.map((l) => l.loopId), ...observation.data.results.map((r) => r.loopId)]);

  // candidates in (loopId, category) code-point order, one per id: results sorted by loop id, and
  // within a loop health_* < reconcile_failed (code points), so no candidate list is sorted
  const results = [...observation.data.results];
  const byLoopId = allBelowSurrogates(results.map((r) => r.loopId))
    ? // the common case, and the hot one on large fleets: UTF-16 order is code-point order here
      (a: { loopId: string }, b: { loopId: string }) => (a.loopId < b.loopId ? -1 : a.loopId > b.loopId ? 1 : 0)
    : (a: { loopId: string }, b: { loopId: string }) => compareCodePoints(a.loopId, b.loopId);
  if (!results.every((r, i) => i === 0 || byLoopId(results[i - 1] as { loopId: string }, r) <= 0)) results.sort(byLoopId);

  const dedupeMs = noiseControls.dedupeWindowSeconds * 1000;
  const cooldownMs = safety.cooldownSeconds * 1000;
  // one evaluation stamps every candidate it saw with one time, so few distinct times come back
  const parsedTimes = new Map<string, number>();
  const msSince = (at: string | null): number => {
    if (at === null) return Number.POSITIVE_INFINITY;
    let ms = parsedTimes.get(at);
    if (ms === undefined) {
      ms = Date.parse(at);
      parsedTimes.set(at, ms);
    }
    return now - ms;
  };
  // Records are plain data: their common, identical parts (dedupe, safety, rollout and gate blocks,
  // reason lists) are shared objects, which keeps a 20k-candidate evaluation from allocating 100k
  // objects. They serialize exactly as separate copies would.
  const dedupeOf = sharedBy((lastUnsuppressedAt: string | null, active: number): CandidateDecision["dedupe"] => ({
    windowSeconds: noiseControls.dedupeWindowSeconds,
    active: active === 1,
    remainingSeconds: active === 1 ? (dedupeMs - msSince(lastUnsuppressedAt)) / 1000 : 0,
    lastUnsuppressedAt,
  }));
  const safetyOf = sharedBy((lastDispatchedAt: string | null, flags: number): CandidateDecision["safety"] => ({
    killSwitchActive,
    cooldownActive: (flags & 1) !== 0,
    cooldownRemainingSeconds: (flags & 1) !== 0 ? (cooldownMs - msSince(lastDispatchedAt)) / 1000 : 0,
    lastDispatchedAt,
    runCapBlocked: (flags & 2) !== 0,
    loopCapBlocked: (flags & 4) !== 0,
  }));
  // what the policy says of each category (allowlists, thresholds) as gate bits, once per evaluation,
  // and the categories a result yields as shared lists of those entries (see RESULT_CATEGORY_LISTS)
  const entryOf = new Map(
    CATEGORIES.map((category) => {
      const taxonomy = TAXONOMY[category];
      const policyBits =
        (allow.categories.includes(category) ? CATEGORY_ALLOWED : 0) |
        (allow.intents.includes(taxonomy.recommendedIntent) ? INTENT_ALLOWED : 0) |
        (SEVERITY_RANK[taxonomy.severity] >= SEVERITY_RANK[thresholds.minSeverity] ? SEVERITY_MET : 0) |
        (CONFIDENCE_RANK[taxonomy.confidence] >= CONFIDENCE_RANK[thresholds.minConfidence] ? CONFIDENCE_MET : 0);
      return [category, { category, taxonomy, policyBits }];
    }),
  );
  const entryLists = RESULT_CATEGORY_LISTS.map((list) => list.map((category) => entryOf.get(category) as CategoryEntry));
  // The gates and the reasons they give depend only on the gate bits: computed once per
  // combination (at most 128) and shared.
  const gatesByBits: SharedGates[] = [];
  const makeGates = (bits: number): SharedGates => {
    const gates = {
      modeGuardedAuto: guarded,
      suppressed: (bits & SUPPRESSED) !== 0,
      categoryAllowed: (bits & CATEGORY_ALLOWED) !== 0,
      intentAllowed: (bits & INTENT_ALLOWED) !== 0,
      severityMeetsThreshold: (bits & SEVERITY_MET) !== 0,
      confidenceMeetsThreshold: (bits & CONFIDENCE_MET) !== 0,
      rolloutScopeAllowed: (bits & IN_SCOPE) !== 0,
      rolloutCanarySelected: (bits & CANARY_SELECTED) !== 0,
      governanceActive: governanceBlock.length === 0,
    };
    // fleet-wide reasons may come from the log (a latch's reasons); the gates' own are typed codes
    const gating: string[] = [];
    const input = { ...fleetWide, inScope: gates.rolloutScopeAllowed, canarySelected: gates.rolloutCanarySelected };
    for (const gate of FLEET_GATES) gating.push(...gate.reasons(input));
    for (const gate of POLICY_GATES) if (gates[gate.flag] !== gate.passes) gating.push(gate.reason);
    return { gates, gatingReasons: sortedUnique(gating), withRail: new Map<string, string[]>() };
  };
  const loopSuppressions = new Map(Object.entries(suppressions));
  const globalSuppressions = suppressions["*"];
  const ignoreDedupe = recheck !== null;
  let countedLoopId: string | null = null;
  let selectedInLoop = 0;
  let selectedTotal = 0;
  const candidates: CandidateDecision[] = [];
  // the counts of §3.5, kept on the way (reason lists are shared, so their union is over few lists)
  let unsuppressedCount = 0;
  let autoEligibleCount = 0;
  let policySuppressedCount = 0;
  let dedupedCount = 0;
  const unsuppressedReasonLists = new Set<readonly string[]>();

  for (let next = 0; next < results.length; ) {
    const result = results[next] as LoopResult;
    const { loopId } = result;
    // a loop the state lists more than once (the reference accepts that) yields the union of its
    // entries' categories, each once; results are sorted by loop id, so its entries are adjacent
    let categoryMask = resultCategoryMask(result);
    for (next++; next < results.length && (results[next] as LoopResult).loopId === loopId; next++) {
      categoryMask |= resultCategoryMask(results[next] as LoopResult);
    }
    const traceId = result.traceId ?? null;
    // the recorded rollout block is the shared placement itself
    const placement = placeLoop(loopId);
    const rolloutBits = (placement.inScope ? IN_SCOPE : 0) | (placement.canarySelected ? CANARY_SELECTED : 0);
    // looked up once per loop: a candidate-id key would cost a string build and hash per candidate
    const loopSuppressed = loopSuppressions.size > 0 ? loopSuppressions.get(loopId) : undefined;
    const unsuppressedTimes = state.lastUnsuppressedAt.get(loopId);
    const dispatchTimes = state.lastDispatchedAt.get(loopId);
    for (const { category, taxonomy, policyBits } of entryLists[categoryMask] as CategoryEntry[]) {
      // suppression: loop → global → dedupe
      let scope: "loop" | "global" | "cooldown" | null = null;
      if (loopSuppressed?.includes(category)) scope = "loop";
      else if (globalSuppressions?.includes(category)) scope = "global";
      const lastUnsuppressedAt = unsuppressedTimes?.[category] ?? null;
      const dedupeActive = scope === null && !ignoreDedupe && dedupeMs > 0 && msSince(lastUnsuppressedAt) < dedupeMs;
      if (dedupeActive) scope = "cooldown";
      const suppressed = scope !== null;
      const bits = (suppressed ? SUPPRESSED : 0) | policyBits | rolloutBits;
      let shared = gatesByBits[bits];
      if (!shared) {
        shared = makeGates(bits);
        gatesByBits[bits] = shared;
      }
      const { gates, gatingReasons } = shared;

      // safety rails: the first that applies, only for candidates every gate let through
      const lastDispatchedAt = dispatchTimes?.[category] ?? null;
      const cooldownActive = cooldownMs > 0 && msSince(lastDispatchedAt) < cooldownMs;
      let rail: ReasonCode | null = null;
      if (guarded && gatingReasons.length === 0) {
        if (loopId !== countedLoopId) {
          countedLoopId = loopId;
          selectedInLoop = 0;
        }
        rail = stoppingRail({ killSwitchActive, cooldownActive, selectedTotal, selectedInLoop, safety })?.reason ?? null;
        if (rail === null) {
          selectedTotal++;
          selectedInLoop++;
        }
      }
      const runCapBlocked = rail === "autonomous_max_actions_per_run_exceeded";
      const loopCapBlocked = rail === "autonomous_max_actions_per_loop_exceeded";
      let reasons = gatingReasons;
      if (rail !== null) {
        const cached = shared.withRail.get(rail);
        reasons = cached ?? sortedUnique([...gatingReasons, rail]);
        if (!cached) shared.withRail.set(rail, reasons);
      }

      if (recheck !== null) {
        recheck.loopIds.push(loopId);
        recheck.categories.push(category);
        recheck.reasons.push(reasons);
        continue;
      }
      candidates.push({
        candidateId: `${loopId}:${category}`,
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
        dedupe: dedupeOf(dedupeMs > 0 ? lastUnsuppressedAt : null, dedupeActive ? 1 : 0),
        gates,
        rollout: placement,
        safety: safetyOf(lastDispatchedAt, (cooldownActive ? 1 : 0) | (runCapBlocked ? 2 : 0) | (loopCapBlocked ? 4 : 0)),
        gatingReasons,
        reasons,
        eligible: reasons.length === 0,
      });
      if (scope === "cooldown") dedupedCount++;
      else if (scope !== null) policySuppressedCount++;
      else {
        unsuppressedCount++;
        if (reasons.length === 0) autoEligibleCount++;
        unsuppressedReasonLists.add(reasons);
      }
    }
  }

  const unsuppressedReasons = new Set<string>();
  for (const list of unsuppressedReasonLists) for (const reason of list) unsuppressedReasons.add(reason);
  const has = (...codes: ReasonCode[]) => codes.some((code) => unsuppressedReasons.has(code));
  const reasonCodes: ReasonCode[] = [unsuppressedCount > 0 ? "fleet_action_required" : "no_action_required"];
  if (unsuppressedCount < candidates.length) reasonCodes.push("fleet_actions_suppressed");
  if (policySuppressedCount > 0) reasonCodes.push("fleet_actions_policy_suppressed");
  if (dedupedCount > 0) reasonCodes.push("fleet_actions_deduped");
  if (guarded) {
    if (autoEligibleCount > 0) reasonCodes.push("fleet_auto_candidates_eligible");
    if (unsuppressedCount > 0 && autoEligibleCount === 0) reasonCodes.push("fleet_auto_candidates_blocked");
    if (has("autonomous_rollout_scope_excluded", "autonomous_rollout_canary_excluded"))
      reasonCodes.push("fleet_auto_candidates_rollout_gated");
    if (has(HALT_PAUSED_MANUAL, HALT_PAUSED_AUTO)) reasonCodes.push("fleet_auto_candidates_paused");
    if (autoActive) reasonCodes.push("fleet_auto_candidates_autopause_triggered");
    if (has("autonomous_kill_switch_enabled")) reasonCodes.push("fleet_auto_kill_switch_enabled");
    if (has("autonomous_cooldown_active", "autonomous_max_actions_per_run_exceeded", "autonomous_max_actions_per_loop_exceeded")) {
      reasonCodes.push("fleet_auto_candidates_safety_blocked");
    }
    if (governanceBlock.length > 0 && unsuppressedCount > 0) reasonCodes.push("fleet_auto_candidates_governance_blocked");
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
        unsuppressedCount,
        suppressedCount: candidates.length - unsuppressedCount,
        cooldownSuppressedCount: dedupedCount,
        autoEligibleCount,
        manualOnlyCount: unsuppressedCount - autoEligibleCount,
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

// the gate bits of one candidate
const SUPPRESSED = 1;
const CATEGORY_ALLOWED = 2;
const INTENT_ALLOWED = 4;
const SEVERITY_MET = 8;
const CONFIDENCE_MET = 16;
const IN_SCOPE = 32;
const CANARY_SELECTED = 64;

type CategoryEntry = { category: Category; taxonomy: (typeof TAXONOMY)[Category]; policyBits: number };
type SharedGates = { gates: CandidateDecision["gates"]; gatingReasons: string[]; withRail: Map<string, string[]> };

// One value per (key, variant), made on first use: e.g. candidates stamped at the same time share
// their dedupe block instead of each allocating an equal copy.
function sharedBy<K, V>(make: (key: K, variant: number) => V): (key: K, variant: number) => V {
  const cache = new Map<K, V[]>();
  const forNull: V[] = []; // the common key (never seen, never dispatched), without a Map lookup
  return (key, variant) => {
    let variants = key === null ? forNull : cache.get(key);
    if (!variants) {
      variants = [];
      cache.set(key, variants);
    }
    let value = variants[variant];
    if (value === undefined) {
      value = make(key, variant);
      variants[variant] = value;
    }
    return value;
  };
}
