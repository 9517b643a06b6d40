import type { ReasonCode } from "./reason-codes.ts";
import type { FleetState } from "./state.ts";

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
