// The gates on a candidate, in two tables: the policy's gates, which the evaluation records as
// flags of the candidate's `gates`, and the rollout, pause and governance gates, which read the
// candidate's cohort placement and the fleet-wide state. The evaluation gives each gate's reason
// codes when it stops a candidate; `explain` shows each from what was recorded. A gate added here
// is decided and explained in the same order everywhere. (The safety rails are in rails.ts.)
import type { Registry } from "../contract/normalized-registry.ts";
import type { CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
import { rolloutReasons } from "./cohort.ts";
import { HALT_PAUSED_AUTO, HALT_PAUSED_MANUAL } from "./halt.ts";
import type { ReasonCode } from "./reason-codes.ts";

/** One gate of the policy on a single candidate. */
export interface PolicyGate {
  /** Its name in explanations. */
  readonly name: string;
  /** The candidate's recorded flag it decides. */
  readonly flag: keyof CandidateDecision["gates"];
  /** The flag's value that lets the candidate through. */
  readonly passes: boolean;
  /** The reason code when it does not. */
  readonly reason: ReasonCode;
  /** What the policy asks and what was observed (and, when the gate's own code says less, the reason to show). */
  readonly explain: (
    candidate: CandidateDecision,
    registry: Registry,
    evaluation: PolicyEvaluated,
  ) => { readonly policy: string; readonly observed: string; readonly reason?: string };
}

export const POLICY_GATES: readonly PolicyGate[] = [
  {
    name: "suppression",
    flag: "suppressed",
    passes: false,
    reason: "candidate_suppressed",
    explain: (c, { policy: { suppressions, noiseControls } }) => ({
      policy: `suppressions ${JSON.stringify({ [c.loopId]: suppressions[c.loopId] ?? [], "*": suppressions["*"] ?? [] })}, dedupe window ${noiseControls.dedupeWindowSeconds}s`,
      observed: c.suppressed ? `suppressed by ${c.suppressionSource}` : `last surfaced ${c.dedupe.lastUnsuppressedAt ?? "never"}`,
      // which suppression: registry_policy_suppression or advisory_cooldown_active
      ...(c.suppressionReason ? { reason: c.suppressionReason } : {}),
    }),
  },
  {
    name: "mode",
    flag: "modeGuardedAuto",
    passes: true,
    reason: "policy_mode_not_guarded_auto",
    explain: (_c, _registry, evaluation) => ({ policy: "guarded_auto", observed: evaluation.mode }),
  },
  {
    name: "category allowlist",
    flag: "categoryAllowed",
    passes: true,
    reason: "category_not_allowlisted",
    explain: (c, registry) => ({ policy: registry.policy.autonomous.allow.categories.join(", ") || "(none)", observed: c.category }),
  },
  {
    name: "intent allowlist",
    flag: "intentAllowed",
    passes: true,
    reason: "intent_not_allowlisted",
    explain: (c, registry) => ({ policy: registry.policy.autonomous.allow.intents.join(", ") || "(none)", observed: c.recommendedIntent }),
  },
  {
    name: "severity",
    flag: "severityMeetsThreshold",
    passes: true,
    reason: "severity_below_threshold",
    explain: (c, registry) => ({ policy: `≥ ${registry.policy.autonomous.thresholds.minSeverity}`, observed: c.severity }),
  },
  {
    name: "confidence",
    flag: "confidenceMeetsThreshold",
    passes: true,
    reason: "confidence_below_threshold",
    explain: (c, registry) => ({ policy: `≥ ${registry.policy.autonomous.thresholds.minConfidence}`, observed: c.confidence }),
  },
];

/** What the rollout, pause and governance gates read of a candidate and the fleet. */
export interface FleetGateInput {
  readonly inScope: boolean;
  readonly canarySelected: boolean;
  /** Paused by the registry (`pause.manual`) or an operator. */
  readonly manualPause: boolean;
  /** The auto-pause latch, and the thresholds it tripped on. */
  readonly autoPause: { readonly active: boolean; readonly reasons: readonly string[] };
  /** The governance codes that block autonomy now (none unless guarded_auto and blocking). */
  readonly governanceBlock: readonly string[];
}

/** A gate over the rollout, the pauses or governance. */
export interface FleetGate {
  readonly name: string;
  /** The reason codes it gives (none: the candidate passes it). */
  readonly reasons: (input: FleetGateInput) => readonly string[];
  readonly explain: (
    candidate: CandidateDecision,
    registry: Registry,
    evaluation: PolicyEvaluated,
  ) => { readonly policy: string; readonly observed: string };
}

const NONE: readonly string[] = Object.freeze([]);
const PAUSED_MANUAL: readonly ReasonCode[] = Object.freeze([HALT_PAUSED_MANUAL]);

export const FLEET_GATES: readonly FleetGate[] = [
  {
    name: "rollout scope",
    reasons: (input) => (input.inScope ? NONE : rolloutReasons(false, false)),
    explain: (c, { policy: { autonomous } }) => ({
      policy: autonomous.rollout.scope.loopIds.length === 0 ? "every loop" : autonomous.rollout.scope.loopIds.join(", "),
      observed: c.loopId,
    }),
  },
  {
    name: "canary",
    // only a loop in scope is in or out of the canary
    reasons: (input) => (input.inScope ? rolloutReasons(true, input.canarySelected) : NONE),
    explain: (c, { policy: { autonomous } }) => {
      const { canaryPercent, selector } = autonomous.rollout;
      return {
        policy: `${canaryPercent}% (${selector.mode}, hash v${c.rollout.hashVersion}, salt ${JSON.stringify(selector.salt)})`,
        observed: `bucket ${c.rollout.bucket}${c.rollout.hashVersion === 2 ? " of 10000" : " of 100"}, ${c.rollout.canarySelected ? "selected" : "not selected"}`,
      };
    },
  },
  {
    name: "manual pause",
    reasons: (input) => (input.manualPause ? PAUSED_MANUAL : NONE),
    explain: (_c, _registry, evaluation) => ({
      policy: "not paused",
      observed: evaluation.pause.manual ? `paused by ${evaluation.pause.manualSources.join(" and ")}` : "not paused",
    }),
  },
  {
    name: "auto-pause",
    reasons: ({ autoPause }) => (autoPause.active ? [HALT_PAUSED_AUTO, ...autoPause.reasons] : NONE),
    explain: (_c, { policy: { autonomous } }, evaluation) => {
      const config = autonomous.rollout.autoPause;
      const { active, reasons, metrics } = evaluation.pause.auto;
      return {
        policy: `${config.enabled ? "on" : "off"}: trips at ambiguity ≥ ${config.ambiguityRateThreshold} or failure ≥ ${config.failureRateThreshold} over ≥ ${config.minSampleSize} attempts`,
        observed: `${active ? `tripped (${reasons.join(", ")})` : "not tripped"}; ambiguity ${metrics.ambiguityRate.toFixed(2)}, failure ${metrics.failureRate.toFixed(2)} over ${metrics.attemptedCount} attempts`,
      };
    },
  },
  {
    name: "governance",
    reasons: (input) => input.governanceBlock,
    explain: (_c, registry, evaluation) => ({
      policy: "complete and unexpired in guarded_auto",
      observed: `${evaluation.governance.posture}${registry.policy.autonomous.governance.reviewBy ? ` (review by ${registry.policy.autonomous.governance.reviewBy})` : ""}`,
    }),
  },
];

/** The codes of a governance assessment that block autonomy (a review due soon only warns). */
export const blockingGovernanceCodes = (codes: readonly string[]): readonly string[] =>
  codes.filter((code) => code !== "autonomous_governance_review_due_soon");

/** The fleet gates' input as a recorded candidate and its evaluation hold it. */
export function recordedGateInput(candidate: CandidateDecision, evaluation: PolicyEvaluated): FleetGateInput {
  return {
    inScope: candidate.rollout.inScope,
    canarySelected: candidate.rollout.canarySelected,
    manualPause: evaluation.pause.manual,
    autoPause: evaluation.pause.auto,
    governanceBlock: candidate.gates.governanceActive ? NONE : blockingGovernanceCodes(evaluation.governance.reasonCodes),
  };
}
