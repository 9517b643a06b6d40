// The auto-pause latch, whole: the metrics over the window of recent batches, when it trips (at an
// evaluation, or mid-batch on the batch's own outcomes), how the fold keeps the window and the latch,
// and that only an audited resume clears it.
import type { Rollout } from "../contract/normalized-registry.ts";
import type { AutoPauseMetrics, AutoPauseTripped, OUTCOME_STATUSES } from "../events/fleet-events.ts";
import type { ReasonCode } from "./reason-codes.ts";

type AutoPauseConfig = Rollout["autoPause"];
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** The outcome counts of one dispatch batch that attempted at least one intent (the auto-pause window). */
export interface BatchOutcome {
  readonly seq: number;
  readonly attempted: number;
  readonly executed: number;
  readonly ambiguous: number;
  readonly failed: number;
}

/** The window of recent attempted batches and the latch, as the fold keeps them. */
export interface AutoPauseState {
  /** Recent batches that attempted at least one intent, newest last, at most `MAX_WINDOW`. */
  readonly window: readonly BatchOutcome[];
  readonly latch: {
    readonly seq: number;
    readonly at: string;
    readonly reasons: readonly string[];
    readonly metrics: AutoPauseMetrics;
  } | null;
}

/** The most dispatch batches the auto-pause window keeps (lookbackExecutions beyond this sees this many). */
export const MAX_WINDOW = 100;

export const AMBIGUOUS_SPIKE: ReasonCode = "autonomous_autopause_ambiguous_spike";
export const FAILURE_SPIKE: ReasonCode = "autonomous_autopause_failure_spike";

/**
 * Metrics over the last `lookbackExecutions` dispatch batches that attempted at least one intent
 * (reference §2.6.2, minus its defect of counting empty runs).
 */
export function autoPauseMetrics(window: readonly BatchOutcome[], lookbackExecutions: number): AutoPauseMetrics {
  const kept = window.slice(-lookbackExecutions);
  const sum = (pick: (b: BatchOutcome) => number) => kept.reduce((total, batch) => total + pick(batch), 0);
  const attempted = sum((b) => b.attempted);
  const ambiguous = sum((b) => b.ambiguous);
  const failed = sum((b) => b.failed);
  return {
    windowExecutionCount: kept.length,
    attemptedCount: attempted,
    executedCount: sum((b) => b.executed),
    ambiguousCount: ambiguous,
    failedCount: failed,
    ambiguityRate: attempted > 0 ? ambiguous / attempted : 0,
    failureRate: attempted > 0 ? failed / attempted : 0,
  };
}

/** The spike codes the metrics trigger (none when auto-pause is disabled or the sample is too small). */
export function autoPauseTriggers(metrics: AutoPauseMetrics, config: AutoPauseConfig): ReasonCode[] {
  if (!config.enabled || metrics.attemptedCount < config.minSampleSize) return [];
  const reasons: ReasonCode[] = [];
  if (metrics.ambiguityRate >= config.ambiguityRateThreshold) reasons.push(AMBIGUOUS_SPIKE);
  if (metrics.failureRate >= config.failureRateThreshold) reasons.push(FAILURE_SPIKE);
  return reasons;
}

// the trip record of metrics that triggered, with the thresholds they were judged by
function trippedBy(reasons: ReasonCode[], metrics: AutoPauseMetrics, config: AutoPauseConfig): AutoPauseTripped | null {
  if (reasons.length === 0) return null;
  return {
    reasons,
    metrics,
    lookbackExecutions: config.lookbackExecutions,
    minSampleSize: config.minSampleSize,
    ambiguityRateThreshold: config.ambiguityRateThreshold,
    failureRateThreshold: config.failureRateThreshold,
  };
}

/** The latch as an evaluation sees it: its metrics, a trip it earns now (none while the latch is set), whether autonomy is paused and why. */
export function autoPauseAtEvaluation(state: AutoPauseState, config: AutoPauseConfig) {
  const metrics = autoPauseMetrics(state.window, config.lookbackExecutions);
  const trip = state.latch ? null : trippedBy(autoPauseTriggers(metrics, config), metrics, config);
  const active = config.enabled && (state.latch !== null || trip !== null);
  const reasons: readonly string[] = active ? [...(state.latch?.reasons ?? trip?.reasons ?? [])] : [];
  return { metrics, trip, active, reasons };
}

/**
 * The auto-pause trip a running batch earns by its own outcomes so far: when the batch alone
 * already meets a threshold over at least the minimum sample, the latch trips now rather than at
 * the next evaluation, and the rest of the batch halts. Null when it does not, when auto-pause is
 * off, or when the latch is already set.
 */
export function batchTrip(
  state: AutoPauseState,
  config: AutoPauseConfig | undefined,
  seq: number,
  outcomes: readonly OutcomeStatus[],
): AutoPauseTripped | null {
  if (!config?.enabled || state.latch !== null) return null;
  const metrics = autoPauseMetrics([batchOutcome(seq, outcomes)], 1);
  return trippedBy(autoPauseTriggers(metrics, config), metrics, config);
}

/** One attempted batch's counts, as the window keeps them. */
export function batchOutcome(seq: number, outcomes: readonly OutcomeStatus[]): BatchOutcome {
  const count = (status: OutcomeStatus) => outcomes.filter((o) => o === status).length;
  return { seq, attempted: outcomes.length, executed: count("executed"), ambiguous: count("ambiguous"), failed: count("failed") };
}

/** The fold of the latch: a recorded trip sets it (it holds whatever the window does after). */
export const latchTripped = (state: AutoPauseState, seq: number, at: string, trip: AutoPauseTripped): AutoPauseState => ({
  ...state,
  latch: { seq, at, reasons: trip.reasons, metrics: trip.metrics },
});

/** Only an audited resume clears it, and the window with it: the batches that tripped it must not trip it again at once. */
export const latchResumed = (): AutoPauseState => ({ window: [], latch: null });

/** A closed autonomous batch that attempted something joins the window (the newest MAX_WINDOW are kept). */
export const windowWith = (state: AutoPauseState, outcome: BatchOutcome): AutoPauseState => ({
  ...state,
  window: [...state.window, outcome].slice(-MAX_WINDOW),
});
