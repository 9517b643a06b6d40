import type { NormalizedLoop } from "../contract/normalized-registry.ts";
import { TAXONOMY } from "../contract/taxonomy.ts";
import type { CandidateDecision } from "../events/fleet-events.ts";
import { decideEvaluation } from "./evaluate.ts";
import { sortedUnique } from "./order.ts";
import { type FleetState, idempotencyKey } from "./state.ts";

/** The prefix of every idempotency key, as the reference's `--idempotency-prefix` default. */
export const IDEMPOTENCY_PREFIX = "fleet-handoff";

/** An intent of the plan (reference §3.6), for the current instance of its candidate. */
export interface PlannedIntent {
  readonly intentId: string;
  readonly candidateId: string;
  readonly loopId: string;
  readonly category: CandidateDecision["category"];
  readonly severity: CandidateDecision["severity"];
  readonly confidence: CandidateDecision["confidence"];
  readonly rationale: string;
  readonly signal: string;
  readonly intent: CandidateDecision["recommendedIntent"];
  readonly recommendedIntent: CandidateDecision["recommendedIntent"];
  /** pending_operator_confirmation (also after an ambiguous or failed outcome), in_flight, or executed. */
  readonly status: "pending_operator_confirmation" | "in_flight" | "executed";
  readonly requiresOperatorConfirmation: true;
  readonly instance: number;
  readonly idempotencyKey: string;
  readonly fleetTraceId: string | null;
  readonly policyTraceId: string | null;
  readonly candidateTraceId: string | null;
  readonly transport: "local" | "sprite_service";
  readonly service: NormalizedLoop["service"];
  readonly metadata: NormalizedLoop["metadata"];
  readonly autonomous: { readonly eligible: boolean; readonly manualOnly: boolean; readonly reasons: readonly string[] };
  /** How the last dispatch of this instance ended, if it was dispatched. */
  readonly lastOutcome: {
    readonly status: "in_flight" | "executed" | "ambiguous" | "failed";
    readonly reasonCode: string | null;
    readonly batchId: string;
    readonly at: string;
  } | null;
}

/** Counts over the plan (reference §3.6 step 7). */
export interface PlanSummary {
  readonly candidateCount: number;
  readonly unsuppressedCandidateCount: number;
  readonly intentCount: number;
  readonly autoEligibleIntentCount: number;
  readonly manualOnlyIntentCount: number;
  readonly pendingConfirmationCount: number;
  readonly pendingManualOnlyCount: number;
  readonly inFlightCount: number;
  readonly executedCount: number;
  readonly ambiguousCount: number;
  readonly failedCount: number;
}

/** The intent plan: what the last evaluation's candidates become, re-checked against the state now. */
export interface Plan {
  readonly evaluationSeq: number | null;
  readonly intents: readonly PlannedIntent[];
  readonly summary: PlanSummary;
  readonly reasonCodes: readonly string[];
}

const GUARD = { execution_ambiguous: "autonomous_retry_guard_ambiguous", execution_failed: "autonomous_retry_guard_failed" } as const;
const OUTCOME = { in_flight: "in_flight", executed: "executed", execution_ambiguous: "ambiguous", execution_failed: "failed" } as const;

/**
 * Builds the plan from the last evaluation. An intent is auto-eligible only when the evaluation
 * found it eligible AND every gate and rail still lets it through now (kill switch, pauses,
 * governance, caps, cooldown, policy changes since), its instance was never dispatched, and no
 * retry guard holds. Registry-suppressed candidates become no intent; deduped ones still do, so
 * the manual backlog shows every pending intent (the reference's dedupe hid them).
 */
export function computePlan(state: FleetState, now: Date, dispatchTraceId?: string | null): Plan {
  const evaluation = state.evaluation;
  const policy = state.policy;
  if (!evaluation || !policy || !state.observation) {
    return { evaluationSeq: null, intents: [], summary: summarize([], 0, 0), reasonCodes: ["fleet_handoff_no_action"] };
  }
  const recheck = new Map(
    decideEvaluation(state, {
      now,
      traceId: evaluation.data.traceId,
      evaluationId: "dispatch-recheck",
      ignoreDedupe: true,
    }).evaluation.candidates.map((c) => [c.candidateId, c]),
  );
  const loops = new Map(policy.registry.loops.map((loop) => [loop.loopId, loop]));
  const intents: PlannedIntent[] = [];
  for (const candidate of evaluation.data.candidates) {
    if (candidate.suppressed && candidate.suppressionScope !== "cooldown") continue;
    const instance = state.instances.get(candidate.candidateId);
    if (instance && !instance.open) continue; // observed healthy since: nothing to remediate
    const number = instance?.instance ?? 1;
    const intentId = `${candidate.candidateId}:${candidate.recommendedIntent}`;
    const dispatched = state.intents.get(intentId);
    const current = dispatched?.instance === number ? dispatched : undefined;
    const now_ = recheck.get(candidate.candidateId);
    const reasons = [...candidate.reasons, ...(now_ ? now_.reasons : ["candidate_suppressed"])];
    if (current?.status === "executed") reasons.push("autonomous_intent_already_dispatched");
    if (current?.status === "in_flight") reasons.push(GUARD.execution_ambiguous, "dispatch_in_flight");
    if (current?.status === "execution_ambiguous" || current?.status === "execution_failed") reasons.push(GUARD[current.status]);
    const allReasons = sortedUnique(reasons);
    const loop = loops.get(candidate.loopId);
    intents.push({
      intentId,
      candidateId: candidate.candidateId,
      loopId: candidate.loopId,
      category: candidate.category,
      severity: candidate.severity,
      confidence: candidate.confidence,
      rationale: TAXONOMY[candidate.category].rationale,
      signal: candidate.signal,
      intent: candidate.recommendedIntent,
      recommendedIntent: candidate.recommendedIntent,
      status: current?.status === "in_flight" ? "in_flight" : current?.status === "executed" ? "executed" : "pending_operator_confirmation",
      requiresOperatorConfirmation: true,
      instance: number,
      idempotencyKey: idempotencyKey([
        IDEMPOTENCY_PREFIX,
        instance?.openedBy ?? "",
        `i${number}`,
        candidate.loopId,
        candidate.category,
        candidate.recommendedIntent,
      ]),
      fleetTraceId: dispatchTraceId ?? evaluation.data.traceId,
      policyTraceId: evaluation.data.traceId,
      candidateTraceId: candidate.traceId,
      transport: loop?.transport ?? "local",
      service: loop?.service ?? { retryAttempts: 3, retryBackoffSeconds: 1 },
      metadata: loop?.metadata ?? {},
      autonomous: { eligible: allReasons.length === 0, manualOnly: allReasons.length > 0, reasons: allReasons },
      lastOutcome: current
        ? {
            status: OUTCOME[current.status],
            reasonCode: current.outcome?.reasonCode ?? null,
            batchId: current.batchId,
            at: current.outcome?.at ?? current.requestedAt,
          }
        : null,
    });
  }
  const unsuppressed = evaluation.data.counts.unsuppressedCount;
  const summary = summarize(intents, evaluation.data.counts.candidateCount, unsuppressed);
  return { evaluationSeq: evaluation.seq, intents, summary, reasonCodes: planReasonCodes(intents, summary) };
}

function summarize(intents: readonly PlannedIntent[], candidateCount: number, unsuppressed: number): PlanSummary {
  const pending = intents.filter((i) => i.status === "pending_operator_confirmation");
  const outcome = (status: string) => intents.filter((i) => i.lastOutcome?.status === status).length;
  return {
    candidateCount,
    unsuppressedCandidateCount: unsuppressed,
    intentCount: intents.length,
    autoEligibleIntentCount: intents.filter((i) => i.autonomous.eligible).length,
    manualOnlyIntentCount: intents.filter((i) => i.autonomous.manualOnly).length,
    pendingConfirmationCount: pending.length,
    pendingManualOnlyCount: pending.filter((i) => i.autonomous.manualOnly).length,
    inFlightCount: outcome("in_flight"),
    executedCount: outcome("executed"),
    ambiguousCount: outcome("ambiguous"),
    failedCount: outcome("failed"),
  };
}

/** The handoff reason codes of a plan (reference §3.6 step 8). */
export function planReasonCodes(intents: readonly PlannedIntent[], summary: PlanSummary): string[] {
  const codes = [intents.length > 0 ? "fleet_handoff_action_required" : "fleet_handoff_no_action"];
  if (summary.pendingConfirmationCount > 0) codes.push("fleet_handoff_confirmation_pending");
  // fleet_handoff_partial_mapping / _unmapped_candidates need a candidate without an intent: unreachable in taxonomy v1
  if (intents.some((i) => i.autonomous.reasons.some((r) => r.startsWith("autonomous_retry_guard_"))))
    codes.push("fleet_handoff_retry_guarded");
  if (summary.autoEligibleIntentCount > 0) codes.push("fleet_handoff_auto_eligible_intents");
  return sortedUnique(codes);
}
