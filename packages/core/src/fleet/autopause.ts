import type { Rollout } from "../contract/normalized-registry.ts";
import type { AutoPauseMetrics } from "../events/fleet-events.ts";
import type { ReasonCode } from "./reason-codes.ts";
import type { BatchOutcome } from "./state.ts";

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
export function autoPauseTriggers(metrics: AutoPauseMetrics, config: Rollout["autoPause"]): ReasonCode[] {
  if (!config.enabled || metrics.attemptedCount < config.minSampleSize) return [];
  const reasons: ReasonCode[] = [];
  if (metrics.ambiguityRate >= config.ambiguityRateThreshold) reasons.push(AMBIGUOUS_SPIKE);
  if (metrics.failureRate >= config.failureRateThreshold) reasons.push(FAILURE_SPIKE);
  return reasons;
}
