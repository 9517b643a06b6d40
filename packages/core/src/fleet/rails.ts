// The safety rails, in one table: for a candidate every gate let through, the first rail that
// applies (in this order) stops it with its reason code; `explain` shows each from the recorded
// reasons. A rail added here is decided and explained in the same order everywhere.
import type { Registry } from "../contract/normalized-registry.ts";
import type { CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
import type { ReasonCode } from "./reason-codes.ts";

/** What the rails see of one candidate, in evaluation order. */
export interface RailInput {
  readonly killSwitchActive: boolean;
  readonly cooldownActive: boolean;
  /** Candidates this evaluation already selected, fleet-wide and in this candidate's loop. */
  readonly selectedTotal: number;
  readonly selectedInLoop: number;
  readonly safety: Registry["policy"]["autonomous"]["safety"];
}

/** One safety rail. */
export interface SafetyRail {
  /** Its name in explanations. */
  readonly name: string;
  readonly reason: ReasonCode;
  /** True when it stops the candidate. */
  readonly stops: (input: RailInput) => boolean;
  /** What the policy asks and what was observed, from the recorded candidate and evaluation. */
  readonly explain: (
    candidate: CandidateDecision,
    registry: Registry,
    evaluation: PolicyEvaluated,
  ) => { readonly policy: string; readonly observed: string };
}

const yes = (flag: boolean): string => (flag ? "yes" : "no");

export const SAFETY_RAILS: readonly SafetyRail[] = [
  {
    name: "kill switch",
    reason: "autonomous_kill_switch_enabled",
    stops: (input) => input.killSwitchActive,
    explain: (_c, _registry, evaluation) => ({
      policy: "off",
      observed: `registry ${yes(evaluation.killSwitch.registry)}, operator ${yes(evaluation.killSwitch.operator)}`,
    }),
  },
  {
    name: "cooldown",
    reason: "autonomous_cooldown_active",
    stops: (input) => input.cooldownActive,
    explain: (c, registry) => ({
      policy: `${registry.policy.autonomous.safety.cooldownSeconds}s after an autonomous dispatch`,
      observed: c.safety.lastDispatchedAt
        ? `last dispatched ${c.safety.lastDispatchedAt}${c.safety.cooldownActive ? `, ${c.safety.cooldownRemainingSeconds}s left` : ""}`
        : "never dispatched",
    }),
  },
  {
    name: "run cap",
    reason: "autonomous_max_actions_per_run_exceeded",
    stops: (input) => input.selectedTotal >= input.safety.maxActionsPerRun,
    explain: (c, registry) => ({
      policy: `≤ ${registry.policy.autonomous.safety.maxActionsPerRun} per evaluation`,
      observed: c.safety.runCapBlocked ? "cap reached by earlier candidates" : "within cap",
    }),
  },
  {
    name: "loop cap",
    reason: "autonomous_max_actions_per_loop_exceeded",
    stops: (input) => input.selectedInLoop >= input.safety.maxActionsPerLoop,
    explain: (c, registry) => ({
      policy: `≤ ${registry.policy.autonomous.safety.maxActionsPerLoop} per loop per evaluation`,
      observed: c.safety.loopCapBlocked ? "cap reached by this loop's earlier candidates" : "within cap",
    }),
  },
];

/** The first rail that stops the candidate, or null. */
export function stoppingRail(input: RailInput): SafetyRail | null {
  for (const rail of SAFETY_RAILS) if (rail.stops(input)) return rail;
  return null;
}
