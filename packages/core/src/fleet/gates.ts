// The policy's gates on a candidate, in one table: the evaluation records each as a flag of the
// candidate's `gates` and gives its reason code when it stops the candidate; `explain` shows each
// from that recorded flag. A gate added here is decided and explained in the same order everywhere.
// (Rollout, pause and governance gates depend on the whole fleet, not on one candidate's flags,
// and are decided in evaluate.ts; the safety rails have their own table in rails.ts.)
import type { Registry } from "../contract/normalized-registry.ts";
import type { CandidateDecision, PolicyEvaluated } from "../events/fleet-events.ts";
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
