import type { Registry } from "../contract/normalized-registry.ts";
import { CONFIDENCES, SEVERITIES, TAXONOMY, TAXONOMY_VERSION } from "../contract/taxonomy.ts";
import type { CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
import { countReasons, tally } from "../fleet/order.ts";

/** The reference's per-candidate `autonomous` block (§3.4), rebuilt from a recorded decision and the policy it used. */
export function candidateView(candidate: CandidateDecision, registry: Registry, evaluation: PolicyEvaluated) {
  const { autonomous, mode } = registry.policy;
  const { safety, rollout } = autonomous;
  return {
    candidateId: candidate.candidateId,
    loopId: candidate.loopId,
    category: candidate.category,
    signal: candidate.signal,
    severity: candidate.severity,
    confidence: candidate.confidence,
    rationale: TAXONOMY[candidate.category].rationale,
    recommendedIntent: candidate.recommendedIntent,
    traceId: candidate.traceId,
    suppressed: candidate.suppressed,
    suppressionScope: candidate.suppressionScope,
    suppressionReason: candidate.suppressionReason,
    suppressionSource: candidate.suppressionSource,
    cooldown: {
      enabled: candidate.dedupe.windowSeconds > 0,
      windowSeconds: candidate.dedupe.windowSeconds,
      active: candidate.dedupe.active,
      remainingSeconds: candidate.dedupe.remainingSeconds,
      lastUnsuppressedAt: candidate.dedupe.lastUnsuppressedAt,
    },
    autonomous: {
      mode,
      eligible: candidate.eligible,
      manualOnly: !candidate.eligible,
      reasons: candidate.reasons,
      gatingReasons: candidate.gatingReasons,
      recommendedIntent: candidate.recommendedIntent,
      gates: candidate.gates,
      safety: {
        maxActionsPerRun: safety.maxActionsPerRun,
        maxActionsPerLoop: safety.maxActionsPerLoop,
        cooldownSeconds: safety.cooldownSeconds,
        killSwitch: evaluation.killSwitch.registry || evaluation.killSwitch.operator,
        cooldown: {
          active: candidate.safety.cooldownActive,
          remainingSeconds: candidate.safety.cooldownRemainingSeconds,
          lastDispatchedAt: candidate.safety.lastDispatchedAt,
        },
        killSwitchActive: candidate.safety.killSwitchActive,
        runCapBlocked: candidate.safety.runCapBlocked,
        loopCapBlocked: candidate.safety.loopCapBlocked,
      },
      rollout: {
        canaryPercent: rollout.canaryPercent,
        scopeLoopIds: rollout.scope.loopIds,
        selector: { salt: rollout.selector.salt, mode: rollout.selector.mode, ...candidate.rollout },
        pause: pauseView(registry, evaluation),
      },
    },
  };
}

/** The reference's `pause` block, shown from the fleet's state even when there are no candidates. */
export function pauseView(registry: Registry, evaluation: PolicyEvaluated) {
  const { autoPause } = registry.policy.autonomous.rollout;
  return {
    active: evaluation.pause.active,
    reasons: evaluation.pause.reasons,
    manual: evaluation.pause.manual,
    manualSources: evaluation.pause.manualSources,
    auto: {
      enabled: autoPause.enabled,
      active: evaluation.pause.auto.active,
      reasons: evaluation.pause.auto.reasons,
      lookbackExecutions: autoPause.lookbackExecutions,
      minSampleSize: autoPause.minSampleSize,
      ambiguityRateThreshold: autoPause.ambiguityRateThreshold,
      failureRateThreshold: autoPause.failureRateThreshold,
      metrics: evaluation.pause.auto.metrics,
    },
  };
}

/**
 * The evaluation document `evaluate()` returns (and `evaluate --json` prints): the reference's
 * policy-state fields (§3.5) for a recorded `PolicyEvaluated`, with the policy it read.
 */
export function evaluationDocument(evaluation: PolicyEvaluated, registry: Registry, seq: number, at: string) {
  const candidates = evaluation.candidates.map((candidate) => candidateView(candidate, registry, evaluation));
  return { ...evaluationSummary(evaluation, registry, seq, at), candidates };
}

/**
 * The per-candidate counts of the evaluation document's summary and rollout buckets, in one walk
 * over the candidates (a 100k-loop fleet has 200k of them, and the status document reads these).
 */
function candidateCounts(candidates: readonly CandidateDecision[]) {
  const zeros = (keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, 0]));
  const bySeverity = zeros(SEVERITIES);
  const byConfidence = zeros(CONFIDENCES);
  const byCategory: Record<string, number> = {};
  const bySuppressionReason: Record<string, number> = {};
  const unsuppressed: CandidateDecision[] = [];
  let eligible = 0;
  let inScope = 0;
  let inCohort = 0;
  for (const c of candidates) {
    tally(bySeverity, c.severity);
    tally(byConfidence, c.confidence);
    tally(byCategory, c.category);
    if (c.suppressionReason !== null) tally(bySuppressionReason, c.suppressionReason);
    if (!c.suppressed) {
      unsuppressed.push(c);
      if (c.eligible) eligible++;
    }
    if (c.rollout.inScope) {
      inScope++;
      if (c.rollout.inCohort) inCohort++;
    }
  }
  return {
    summary: {
      bySeverity,
      byConfidence,
      byCategory,
      bySuppressionReason,
      byAutonomy: { eligible, manualOnly: unsuppressed.length - eligible },
      byAutonomyReason: countReasons(unsuppressed),
    },
    candidateBuckets: { inScopeCount: inScope, inCohortCount: inCohort, outOfCohortCount: inScope - inCohort },
  };
}

/** The evaluation document without its candidates (the status document reads only these). */
export function evaluationSummary(evaluation: PolicyEvaluated, registry: Registry, seq: number, at: string) {
  const { rollout } = registry.policy.autonomous;
  const { summary, candidateBuckets } = candidateCounts(evaluation.candidates);
  return {
    schemaVersion: "v1",
    seq,
    updatedAt: at,
    evaluationId: evaluation.evaluationId,
    fleetId: registry.fleetId,
    traceId: evaluation.traceId,
    mode: evaluation.mode,
    policySeq: evaluation.policySeq,
    policyHash: evaluation.policyHash,
    observationSeq: evaluation.observationSeq,
    taxonomy: {
      version: TAXONOMY_VERSION,
      categories: Object.values(TAXONOMY).map(({ category, severity, confidence }) => ({ category, severity, confidence })),
    },
    noiseControls: registry.policy.noiseControls,
    ...evaluation.counts,
    reasonCodes: evaluation.reasonCodes,
    summary,
    governance: evaluation.governance,
    rollout: {
      canaryPercent: rollout.canaryPercent,
      scopeLoopIds: rollout.scope.loopIds,
      selectorSalt: rollout.selector.salt,
      hashVersion: rollout.selector.hashVersion,
      selectorMode: rollout.selector.mode,
      candidateBuckets,
      pause: pauseView(registry, evaluation),
    },
    killSwitch: evaluation.killSwitch,
  };
}

/** The shape of an evaluation document. */
export type EvaluationDocument = ReturnType<typeof evaluationDocument>;
