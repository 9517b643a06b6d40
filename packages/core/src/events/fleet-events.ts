import { z } from "zod";
import { NormalizedGovernanceSchema, RegistrySchema } from "../contract/normalized-registry.ts";
import { CATEGORIES, CONFIDENCES, INTENTS, SEVERITIES } from "../contract/taxonomy.ts";

const text = z.string().min(1);
const codes = z.array(z.string());

/**
 * The governance an operator command records, in the vocabulary of policy governance: who
 * (`actor`), why (`rationale`), under which approval (`approvalRef`, required to move toward
 * autonomy), when (`changedAt`, the command's time unless given) and the deadline (`reviewBy`).
 * Logs written before this vocabulary hold `until` for the deadline and always an `approvalRef`;
 * they are read as they are, `until` as `reviewBy`.
 */
export const RecordedOperatorGovernanceSchema = z
  .object({
    actor: text,
    rationale: text,
    approvalRef: text.optional(),
    approvedBy: text.optional(),
    changedAt: z.string().optional(),
    reviewBy: z.string().optional(),
    /** @deprecated logs written before 0.2 only; read as `reviewBy` */
    until: z.string().optional(),
  })
  .strict();
export type RecordedOperatorGovernance = z.infer<typeof RecordedOperatorGovernanceSchema>;

/** The governance a caller gives an operator command: `actor` and `rationale` always; the rest as the action needs. */
export interface OperatorGovernance {
  readonly actor: string;
  readonly rationale: string;
  /** Required to release the kill switch and to resume (toward autonomy); optional to stop. */
  readonly approvalRef?: string;
  readonly approvedBy?: string;
  /** ISO-8601 UTC; defaults to the command's time. */
  readonly changedAt?: string;
  /** ISO-8601 UTC, after `changedAt`: when this should be looked at again. */
  readonly reviewBy?: string;
}

/** The deadline of recorded operator governance, whichever vocabulary wrote it. */
export const reviewByOf = (governance: RecordedOperatorGovernance): string | null => governance.reviewBy ?? governance.until ?? null;

export const POLICY_CHANGES = [
  "autonomous_policy_initialized",
  "autonomous_mode_toggled",
  "autonomous_policy_mutated",
  "registry_updated",
] as const;
export type PolicyChange = (typeof POLICY_CHANGES)[number];

export const PolicyAppliedSchema = z
  .object({
    registry: RegistrySchema,
    policyHash: z.string().regex(/^[0-9a-f]{64}$/),
    change: z.enum(POLICY_CHANGES),
    previousMode: z.enum(["advisory", "guarded_auto"]).nullable(),
    previousPolicyHash: z.string().nullable(),
    changedPaths: z.array(z.string()),
    // who approved the policy, as the registry says: the governance fields without the derived ones
    governance: NormalizedGovernanceSchema.omit({ reviewWindowDays: true, requireDistinctApprover: true }),
  })
  .strict();
export type PolicyApplied = z.infer<typeof PolicyAppliedSchema>;

const operatorEvent = z.object({ governance: RecordedOperatorGovernanceSchema }).strict();
export const KillSwitchEngagedSchema = operatorEvent;
export const KillSwitchReleasedSchema = operatorEvent;
export const RolloutPausedSchema = operatorEvent;
export const RolloutResumedSchema = operatorEvent;
export const AutoPauseResumedSchema = operatorEvent;

export const HEALTH_STATUSES = ["healthy", "degraded", "critical", "unknown"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export const LoopResultSchema = z
  .object({
    loopId: text,
    status: z.enum(["success", "failed", "skipped"]),
    reasonCode: z.string().optional(),
    reconcileStatus: z.string().optional(),
    healthStatus: z.enum(HEALTH_STATUSES),
    healthReasonCodes: codes,
    transitionState: z.string().optional(),
    transport: z.enum(["local", "sprite_service"]),
    durationSeconds: z.number().optional(),
    traceId: z.string().optional(),
    registered: z.boolean(),
  })
  .strict();
export type LoopResult = z.infer<typeof LoopResultSchema>;

export const FleetObservedSchema = z
  .object({
    traceId: z.string().nullable(),
    status: z.enum(["success", "partial_failure", "failed"]),
    reasonCodes: codes,
    loopCount: z.number().int(),
    successCount: z.number().int(),
    failedCount: z.number().int(),
    skippedCount: z.number().int(),
    startedAt: z.string().optional(),
    updatedAt: z.string().optional(),
    durationSeconds: z.number().optional(),
    results: z.array(LoopResultSchema),
  })
  .strict();
export type FleetObserved = z.infer<typeof FleetObservedSchema>;

export const AutoPauseMetricsSchema = z
  .object({
    windowExecutionCount: z.number().int(),
    attemptedCount: z.number().int(),
    executedCount: z.number().int(),
    ambiguousCount: z.number().int(),
    failedCount: z.number().int(),
    ambiguityRate: z.number(),
    failureRate: z.number(),
  })
  .strict();
export type AutoPauseMetrics = z.infer<typeof AutoPauseMetricsSchema>;

export const CandidateDecisionSchema = z
  .object({
    candidateId: text,
    loopId: text,
    category: z.enum(CATEGORIES),
    signal: z.string(),
    severity: z.enum(SEVERITIES),
    confidence: z.enum(CONFIDENCES),
    recommendedIntent: z.enum(INTENTS),
    traceId: z.string().nullable(),
    suppressed: z.boolean(),
    suppressionScope: z.enum(["loop", "global", "cooldown"]).nullable(),
    suppressionReason: z.string().nullable(),
    suppressionSource: z.string().nullable(),
    dedupe: z
      .object({
        windowSeconds: z.number().int(),
        active: z.boolean(),
        remainingSeconds: z.number(),
        lastUnsuppressedAt: z.string().nullable(),
      })
      .strict(),
    gates: z
      .object({
        modeGuardedAuto: z.boolean(),
        suppressed: z.boolean(),
        categoryAllowed: z.boolean(),
        intentAllowed: z.boolean(),
        severityMeetsThreshold: z.boolean(),
        confidenceMeetsThreshold: z.boolean(),
        rolloutScopeAllowed: z.boolean(),
        rolloutCanarySelected: z.boolean(),
        governanceActive: z.boolean(),
      })
      .strict(),
    rollout: z
      .object({
        bucket: z.number().int(),
        hashVersion: z.union([z.literal(1), z.literal(2)]),
        inScope: z.boolean(),
        canarySelected: z.boolean(),
        inCohort: z.boolean(),
      })
      .strict(),
    safety: z
      .object({
        killSwitchActive: z.boolean(),
        cooldownActive: z.boolean(),
        cooldownRemainingSeconds: z.number(),
        lastDispatchedAt: z.string().nullable(),
        runCapBlocked: z.boolean(),
        loopCapBlocked: z.boolean(),
      })
      .strict(),
    gatingReasons: codes,
    reasons: codes,
    eligible: z.boolean(),
  })
  .strict();
export type CandidateDecision = z.infer<typeof CandidateDecisionSchema>;

export const EvaluationCountsSchema = z
  .object({
    evaluatedLoopCount: z.number().int(),
    candidateCount: z.number().int(),
    unsuppressedCount: z.number().int(),
    suppressedCount: z.number().int(),
    cooldownSuppressedCount: z.number().int(),
    autoEligibleCount: z.number().int(),
    manualOnlyCount: z.number().int(),
  })
  .strict();

export const PolicyEvaluatedSchema = z
  .object({
    evaluationId: text,
    traceId: z.string().nullable(),
    policySeq: z.number().int(),
    policyHash: z.string(),
    observationSeq: z.number().int(),
    mode: z.enum(["advisory", "guarded_auto"]),
    counts: EvaluationCountsSchema,
    reasonCodes: codes,
    governance: z.object({ posture: z.string(), reasonCodes: codes, blocksAutonomous: z.boolean() }).strict(),
    killSwitch: z.object({ registry: z.boolean(), operator: z.boolean() }).strict(),
    pause: z
      .object({
        active: z.boolean(),
        reasons: codes,
        manual: z.boolean(),
        manualSources: z.array(z.enum(["registry", "operator"])),
        auto: z.object({ enabled: z.boolean(), active: z.boolean(), reasons: codes, metrics: AutoPauseMetricsSchema }).strict(),
      })
      .strict(),
    candidates: z.array(CandidateDecisionSchema),
  })
  .strict();
export type PolicyEvaluated = z.infer<typeof PolicyEvaluatedSchema>;

export const AutoPauseTrippedSchema = z
  .object({
    reasons: codes,
    metrics: AutoPauseMetricsSchema,
    lookbackExecutions: z.number().int(),
    minSampleSize: z.number().int(),
    ambiguityRateThreshold: z.number(),
    failureRateThreshold: z.number(),
  })
  .strict();
export type AutoPauseTripped = z.infer<typeof AutoPauseTrippedSchema>;

export const PlannedDispatchSchema = z
  .object({
    intentId: text,
    candidateId: text,
    loopId: text,
    category: z.enum(CATEGORIES),
    intent: z.enum(INTENTS),
    instance: z.number().int().min(1),
    idempotencyKey: text,
    transport: z.enum(["local", "sprite_service"]),
    autonomousEligible: z.boolean(),
  })
  .strict();
export type PlannedDispatch = z.infer<typeof PlannedDispatchSchema>;

export const DispatchRequestedSchema = z
  .object({
    batchId: text,
    mode: z.enum(["autonomous", "manual"]),
    by: text,
    note: z.string().optional(),
    evaluationSeq: z.number().int(),
    intents: z.array(PlannedDispatchSchema),
  })
  .strict();
export type DispatchRequested = z.infer<typeof DispatchRequestedSchema>;

export const OUTCOME_STATUSES = ["executed", "ambiguous", "failed"] as const;

export const DispatchCompletedSchema = z
  .object({
    batchId: text,
    intentId: text,
    instance: z.number().int().min(1),
    status: z.enum(OUTCOME_STATUSES),
    reasonCode: text,
    confirmed: z.boolean(),
    /** The transport's own reason for a transport fault (e.g. `service_unreachable`). */
    transport: z.string().nullable(),
    detail: z.string().optional(),
    durationMs: z.number().min(0),
  })
  .strict();
export type DispatchCompleted = z.infer<typeof DispatchCompletedSchema>;

/**
 * An intent of a running batch that was not dispatched: autonomy was halted (kill switch, rollout
 * pause, auto-pause latch) before its turn. It goes back to pending for operators.
 */
export const DispatchSkippedSchema = z
  .object({ batchId: text, intentId: text, instance: z.number().int().min(1), reasonCodes: z.array(text).min(1) })
  .strict();
export type DispatchSkipped = z.infer<typeof DispatchSkippedSchema>;

export const IntentAcknowledgedSchema = z
  .object({ intentId: text, instance: z.number().int().min(1), by: text, note: z.string().optional(), outcome: z.string() })
  .strict();
export type IntentAcknowledged = z.infer<typeof IntentAcknowledgedSchema>;

export const DRILL_IDS = ["kill_switch", "sprite_service_outage", "ambiguous_retry_guard"] as const;
export type DrillId = (typeof DRILL_IDS)[number];

export const DrillCheckSchema = z.object({ name: text, passed: z.boolean(), expected: z.json(), actual: z.json() }).strict();
export type DrillCheck = z.infer<typeof DrillCheckSchema>;

export const DrillRecordedSchema = z
  .object({
    drillId: z.enum(DRILL_IDS),
    status: z.enum(["pass", "fail"]),
    /** The ledger the drill ran in (a fresh one on the same store). */
    drillLedger: text,
    startedAt: z.string(),
    completedAt: z.string(),
    evidence: z.array(DrillCheckSchema),
  })
  .strict();
export type DrillRecorded = z.infer<typeof DrillRecordedSchema>;
