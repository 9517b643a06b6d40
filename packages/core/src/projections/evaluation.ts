import type { Registry } from "../contract/normalized-registry.ts";
import { CONFIDENCES, SEVERITIES, TAXONOMY, TAXONOMY_VERSION } from "../contract/taxonomy.ts";
import type { CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
import { countReasons } from "../fleet/order.ts";

const countBy = <T>(items: readonly T[], key: (item: T) => string | null, seed: readonly string[] = []): Record<string, number> => {
  const counts: Record<string, number> = Object.fromEntries(seed.map((k) => [k, 0]));
  for (const item of items) {
    const k = key(item);
    if (k !== null) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
};

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

/** The evaluation document without its candidates (the status document reads only these). */
export function evaluationSummary(evaluation: PolicyEvaluated, registry: Registry, seq: number, at: string) {
  const { rollout } = registry.policy.autonomous;
  const unsuppressed = evaluation.candidates.filter((c) => !c.suppressed);
  const inScope = evaluation.candidates.filter((c) => c.rollout.inScope);
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
    summary: {
      bySeverity: countBy(evaluation.candidates, (c) => c.severity, SEVERITIES),
      byConfidence: countBy(evaluation.candidates, (c) => c.confidence, CONFIDENCES),
      byCategory: countBy(evaluation.candidates, (c) => c.category),
      bySuppressionReason: countBy(evaluation.candidates, (c) => c.suppressionReason),
      byAutonomy: { eligible: unsuppressed.filter((c) => c.eligible).length, manualOnly: unsuppressed.filter((c) => !c.eligible).length },
      byAutonomyReason: countReasons(unsuppressed),
    },
    governance: evaluation.governance,
    rollout: {
      canaryPercent: rollout.canaryPercent,
      scopeLoopIds: rollout.scope.loopIds,
      selectorSalt: rollout.selector.salt,
      hashVersion: rollout.selector.hashVersion,
      selectorMode: rollout.selector.mode,
      candidateBuckets: {
        inScopeCount: inScope.length,
        inCohortCount: inScope.filter((c) => c.rollout.inCohort).length,
        outOfCohortCount: inScope.filter((c) => !c.rollout.inCohort).length,
      },
      pause: pauseView(registry, evaluation),
    },
    killSwitch: evaluation.killSwitch,
  };
}

/** The shape of an evaluation document. */
export type EvaluationDocument = ReturnType<typeof evaluationDocument>;
