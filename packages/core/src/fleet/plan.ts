import type { NormalizedLoop } from "../contract/normalized-registry.ts";
import { TAXONOMY } from "../contract/taxonomy.ts";
import type { CandidateDecision } from "../events/fleet-events.ts";
import { recheckGates } from "./evaluate.ts";
import { countReasons, sortedUnique } from "./order.ts";
import type { ReasonCode } from "./reason-codes.ts";
import { type FleetState, type IntentRecord, idempotencyKey } from "./state.ts";

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

const GUARD = {
  execution_ambiguous: "autonomous_retry_guard_ambiguous",
  execution_failed: "autonomous_retry_guard_failed",
} as const satisfies Record<string, ReasonCode>;
const OUTCOME = { in_flight: "in_flight", executed: "executed", execution_ambiguous: "ambiguous", execution_failed: "failed" } as const;

/** What the plan decides for one candidate, before it is spelled out as an intent. */
interface PlanEntry {
  readonly candidate: CandidateDecision;
  readonly number: number;
  readonly openedBy: string;
  readonly current: IntentRecord | undefined;
  readonly status: PlannedIntent["status"];
  readonly reasons: readonly string[];
}

/**
 * The plan's decision for every candidate of the last evaluation. An intent is auto-eligible only
 * when the evaluation found it eligible AND every gate and rail still lets it through now (kill
 * switch, pauses, governance, caps, cooldown, policy changes since), its instance was never
 * dispatched, and no retry guard holds. Registry-suppressed candidates become no intent; deduped
 * ones still do, so the manual backlog shows every pending intent (the reference's dedupe hid them).
 */
function planEntries(state: FleetState, now: Date): PlanEntry[] {
  const evaluation = state.evaluation as NonNullable<FleetState["evaluation"]>;
  const rechecked = recheckGates(state, now);
  // both lists are in (loopId, category) order and usually hold the same candidates: walk them
  // side by side, and look a candidate up by id only where they part
  let byId: Map<string, readonly string[]> | undefined;
  let next = 0;
  const reasonsNow = (candidate: CandidateDecision): readonly string[] | undefined => {
    if (rechecked.loopIds[next] === candidate.loopId && rechecked.categories[next] === candidate.category) return rechecked.reasons[next++];
    byId ??= new Map(
      rechecked.loopIds.map((loopId, i) => [`${loopId}:${rechecked.categories[i]}`, rechecked.reasons[i] as readonly string[]]),
    );
    return byId.get(candidate.candidateId);
  };
  const reasonsOf = sharedReasonLists();
  const entries: PlanEntry[] = [];
  for (const candidate of evaluation.data.candidates) {
    if (candidate.suppressed && candidate.suppressionScope !== "cooldown") continue;
    const instance = state.instances.get(candidate.candidateId);
    if (instance && !instance.open) continue; // observed healthy since: nothing to remediate
    const number = instance?.instance ?? 1;
    // nothing dispatched yet (the common case on a large fleet): no intent id to build and look up
    const dispatched = state.intents.size > 0 ? state.intents.get(intentIdOf(candidate)) : undefined;
    const current = dispatched?.instance === number ? dispatched : undefined;
    const now_ = reasonsNow(candidate);
    const extra =
      current?.status === "executed"
        ? EXECUTED_REASONS
        : current?.status === "in_flight"
          ? IN_FLIGHT_REASONS
          : current?.status === "execution_ambiguous" || current?.status === "execution_failed"
            ? GUARD_REASONS[current.status]
            : NO_REASONS;
    entries.push({
      candidate,
      number,
      openedBy: instance?.openedBy ?? "",
      current,
      status: current?.status === "in_flight" ? "in_flight" : current?.status === "executed" ? "executed" : "pending_operator_confirmation",
      reasons: reasonsOf(candidate.reasons, now_ ?? SUPPRESSED_NOW, extra),
    });
  }
  return entries;
}

const intentIdOf = (candidate: CandidateDecision): string => `${candidate.candidateId}:${candidate.recommendedIntent}`;

const NO_REASONS: readonly string[] = [];
const SUPPRESSED_NOW: readonly ReasonCode[] = ["candidate_suppressed"];
const EXECUTED_REASONS: readonly ReasonCode[] = ["autonomous_intent_already_dispatched"];
const IN_FLIGHT_REASONS: readonly ReasonCode[] = [GUARD.execution_ambiguous, "dispatch_in_flight"];
const GUARD_REASONS = { execution_ambiguous: [GUARD.execution_ambiguous], execution_failed: [GUARD.execution_failed] } as const;

/**
 * The sorted union of an intent's reason lists, one shared array per combination: evaluations
 * share their reason lists between candidates, so a plan of 20k intents holds a handful of
 * distinct lists (and the status counts them per list, not per intent).
 */
function sharedReasonLists() {
  const cache = new Map<readonly string[], Map<readonly string[], Map<readonly string[], readonly string[]>>>();
  // neighbouring candidates mostly carry the same lists: the last combination is checked first
  let last: { recorded: readonly string[]; now: readonly string[]; extra: readonly string[]; union: readonly string[] } | undefined;
  return (recorded: readonly string[], now: readonly string[], extra: readonly string[]): readonly string[] => {
    if (last?.recorded === recorded && last.now === now && last.extra === extra) return last.union;
    const byNow = entry(cache, recorded, () => new Map());
    const byExtra = entry(byNow, now, () => new Map());
    const union = entry(byExtra, extra, () => sortedUnique([...recorded, ...now, ...extra]));
    last = { recorded, now, extra, union };
    return union;
  };
}

function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

const NO_PLAN: Plan = {
  evaluationSeq: null,
  intents: [],
  summary: summarize([], 0, 0),
  reasonCodes: ["fleet_handoff_no_action"],
};
const planned = (state: FleetState): boolean => Boolean(state.evaluation && state.policy && state.observation);

/** Builds the plan from the last evaluation, every intent spelled out (see {@link planEntries}). */
export function computePlan(state: FleetState, now: Date, dispatchTraceId?: string | null): Plan {
  if (!planned(state)) return NO_PLAN;
  const evaluation = state.evaluation as NonNullable<FleetState["evaluation"]>;
  const policy = state.policy as NonNullable<FleetState["policy"]>;
  const entries = planEntries(state, now);
  const loops = new Map(policy.registry.loops.map((loop) => [loop.loopId, loop]));
  const intents = entries.map(({ candidate, number, openedBy, current, status, reasons }): PlannedIntent => {
    const loop = loops.get(candidate.loopId);
    return {
      intentId: intentIdOf(candidate),
      candidateId: candidate.candidateId,
      loopId: candidate.loopId,
      category: candidate.category,
      severity: candidate.severity,
      confidence: candidate.confidence,
      rationale: TAXONOMY[candidate.category].rationale,
      signal: candidate.signal,
      intent: candidate.recommendedIntent,
      recommendedIntent: candidate.recommendedIntent,
      status,
      requiresOperatorConfirmation: true,
      instance: number,
      idempotencyKey: idempotencyKey([
        IDEMPOTENCY_PREFIX,
        openedBy,
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
      autonomous: { eligible: reasons.length === 0, manualOnly: reasons.length > 0, reasons },
      lastOutcome: current
        ? {
            status: OUTCOME[current.status],
            reasonCode: current.outcome?.reasonCode ?? null,
            batchId: current.batchId,
            at: current.outcome?.at ?? current.requestedAt,
          }
        : null,
    };
  });
  const summary = summarize(entries, evaluation.data.counts.candidateCount, evaluation.data.counts.unsuppressedCount);
  return { evaluationSeq: evaluation.seq, intents, summary, reasonCodes: planReasonCodes(entries, summary) };
}

/** What the status document reads of the plan: its counts, reason codes and the reasons by count, without spelling out intents. */
export function planOutline(state: FleetState, now: Date): Omit<Plan, "intents"> & { readonly byAutonomyReason: Record<string, number> } {
  if (!planned(state)) return { evaluationSeq: null, summary: NO_PLAN.summary, reasonCodes: NO_PLAN.reasonCodes, byAutonomyReason: {} };
  const evaluation = state.evaluation as NonNullable<FleetState["evaluation"]>;
  const entries = planEntries(state, now);
  const summary = summarize(entries, evaluation.data.counts.candidateCount, evaluation.data.counts.unsuppressedCount);
  return {
    evaluationSeq: evaluation.seq,
    summary,
    reasonCodes: planReasonCodes(entries, summary),
    byAutonomyReason: countReasons(entries),
  };
}

function summarize(entries: readonly PlanEntry[], candidateCount: number, unsuppressed: number): PlanSummary {
  let autoEligible = 0;
  let pending = 0;
  let pendingManualOnly = 0;
  const outcomes = { in_flight: 0, executed: 0, ambiguous: 0, failed: 0 };
  for (const entry of entries) {
    if (entry.reasons.length === 0) autoEligible++;
    if (entry.status === "pending_operator_confirmation") {
      pending++;
      if (entry.reasons.length > 0) pendingManualOnly++;
    }
    if (entry.current) outcomes[OUTCOME[entry.current.status]]++;
  }
  return {
    candidateCount,
    unsuppressedCandidateCount: unsuppressed,
    intentCount: entries.length,
    autoEligibleIntentCount: autoEligible,
    manualOnlyIntentCount: entries.length - autoEligible,
    pendingConfirmationCount: pending,
    pendingManualOnlyCount: pendingManualOnly,
    inFlightCount: outcomes.in_flight,
    executedCount: outcomes.executed,
    ambiguousCount: outcomes.ambiguous,
    failedCount: outcomes.failed,
  };
}

/** The handoff reason codes of a plan (reference §3.6 step 8). */
function planReasonCodes(entries: readonly PlanEntry[], summary: PlanSummary): string[] {
  const codes: ReasonCode[] = [entries.length > 0 ? "fleet_handoff_action_required" : "fleet_handoff_no_action"];
  if (summary.pendingConfirmationCount > 0) codes.push("fleet_handoff_confirmation_pending");
  // fleet_handoff_partial_mapping / _unmapped_candidates need a candidate without an intent: unreachable in taxonomy v1
  if (anyReasonList(entries, (reasons) => reasons.some((r) => r.startsWith("autonomous_retry_guard_"))))
    codes.push("fleet_handoff_retry_guarded");
  if (summary.autoEligibleIntentCount > 0) codes.push("fleet_handoff_auto_eligible_intents");
  return sortedUnique(codes);
}

// entries share their reason lists (see sharedReasonLists): each distinct list is tested once
function anyReasonList(entries: readonly PlanEntry[], test: (reasons: readonly string[]) => boolean): boolean {
  const tested = new Set<readonly string[]>();
  for (const { reasons } of entries) {
    if (tested.has(reasons)) continue;
    if (test(reasons)) return true;
    tested.add(reasons);
  }
  return false;
}
