import type { AutoPauseTripped, OUTCOME_STATUSES } from "../events/fleet-events.ts";

type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

import { autoPauseMetrics, autoPauseTriggers } from "./autopause.ts";
import type { ReasonCode } from "./reason-codes.ts";
import type { BatchOutcome, FleetState } from "./state.ts";

/** The reason codes an autonomous batch is halted for mid-batch (semantics §2 row 2). */
export const HALT_KILL_SWITCH: ReasonCode = "autonomous_kill_switch_enabled";
export const HALT_PAUSED_MANUAL: ReasonCode = "autonomous_rollout_paused_manual";
export const HALT_PAUSED_AUTO: ReasonCode = "autonomous_rollout_paused_auto";
export const HALT_NOT_GUARDED: ReasonCode = "policy_mode_not_guarded_auto";

/**
 * Why the rest of a running autonomous batch must not be dispatched, on the state as the log is
 * now (re-read before every intent): the kill switch (registry or operator), a rollout pause
 * (registry or operator), the auto-pause latch, or the policy no longer in guarded_auto. Empty
 * when the batch may go on. Sorted, as every reason list.
 */
export function haltReasons(state: FleetState): string[] {
  const registry = state.policy?.registry;
  if (!registry) return [HALT_NOT_GUARDED];
  const { mode, autonomous } = registry.policy;
  const reasons: string[] = [];
  if (autonomous.safety.killSwitch || state.killSwitch.active) reasons.push(HALT_KILL_SWITCH);
  if (mode !== "guarded_auto") reasons.push(HALT_NOT_GUARDED);
  if (autonomous.rollout.pause.manual || state.rolloutPause.active) reasons.push(HALT_PAUSED_MANUAL);
  if (autonomous.rollout.autoPause.enabled && state.autoPause.latch !== null) reasons.push(HALT_PAUSED_AUTO);
  return reasons.sort();
}

/**
 * The auto-pause trip a running batch earns by its own outcomes so far: when the batch alone
 * already meets a threshold over at least the minimum sample, the latch trips now rather than at
 * the next evaluation, and the rest of the batch halts. Null when it does not, when auto-pause is
 * off, or when the latch is already set.
 */
export function batchTrip(state: FleetState, seq: number, outcomes: readonly OutcomeStatus[]): AutoPauseTripped | null {
  const config = state.policy?.registry.policy.autonomous.rollout.autoPause;
  if (!config?.enabled || state.autoPause.latch !== null) return null;
  const batch: BatchOutcome = {
    seq,
    attempted: outcomes.length,
    executed: outcomes.filter((o) => o === "executed").length,
    ambiguous: outcomes.filter((o) => o === "ambiguous").length,
    failed: outcomes.filter((o) => o === "failed").length,
  };
  const metrics = autoPauseMetrics([batch], 1);
  const reasons = autoPauseTriggers(metrics, config);
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
