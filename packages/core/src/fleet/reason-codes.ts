// Every reason-code string opsledger emits, with its family and condition. The strings of the
// reference (superloop-reference.md §5) are spelled exactly; codes marked `opsledger` are new.
// docs/reference/reason-codes.md is generated from this table (pnpm docs:generate).

/** Status families: policy-, rollout-, governance-, transport-gated, or other. */
export type ReasonFamily = "policy" | "rollout" | "governance" | "transport" | "other";

export interface ReasonCodeDefinition<Code extends string = string> {
  readonly code: Code;
  readonly family: ReasonFamily;
  readonly group: string;
  readonly condition: string;
  readonly origin: "reference" | "opsledger";
}

const def = <Code extends string>(
  code: Code,
  family: ReasonFamily,
  group: string,
  condition: string,
  origin: "reference" | "opsledger" = "reference",
): ReasonCodeDefinition<Code> => ({
  code,
  family,
  group,
  condition,
  origin,
});

export const REASON_CODES = [
  // per-loop observation results (§5.1)
  def("loop_disabled", "other", "loop result", "the registry disables the loop (`enabled: false`); the loop is skipped"),
  def("missing_service_base_url", "transport", "loop result", "a sprite_service loop has no base URL (also a dispatch precondition)"),
  def("missing_service_token_env", "other", "loop result", "`service.tokenEnv` names an unset or empty variable"),
  def("missing_runtime_artifacts", "other", "loop result", "the reconcile failed for want of runtime artifacts"),
  def("transport_unreachable", "other", "loop result", "snapshot, events or service unreachable"),
  def("invalid_transport_payload", "other", "loop result", "the transport answered with an invalid payload"),
  def("projection_failed", "other", "loop result", "the reconcile's projection failed"),
  def("reconcile_failed", "other", "loop result", "any other reconcile failure"),
  // fleet observation (§5.2)
  def("fleet_partial_failure", "other", "fleet", "failed > 0 and success > 0"),
  def("fleet_reconcile_failed", "other", "fleet", "failed > 0 and success == 0"),
  def("fleet_health_critical", "other", "fleet", "any loop critical"),
  def("fleet_health_degraded", "other", "fleet", "any loop degraded and none critical"),
  def("fleet_loop_skipped", "other", "fleet", "skipped > 0"),
  // suppression (§5.3)
  def("registry_policy_suppression", "other", "suppression", "the category is suppressed for the loop or for `*`"),
  def("advisory_cooldown_active", "other", "suppression", "the candidate was surfaced unsuppressed less than `dedupeWindowSeconds` ago"),
  // candidate autonomy (§5.4)
  def("policy_mode_not_guarded_auto", "policy", "autonomy", "mode is advisory"),
  def("candidate_suppressed", "policy", "autonomy", "the candidate is suppressed (loop, global or dedupe)"),
  def("category_not_allowlisted", "policy", "autonomy", "category ∉ allow.categories"),
  def("intent_not_allowlisted", "policy", "autonomy", "recommended intent ∉ allow.intents"),
  def("no_recommended_intent", "policy", "autonomy", "no recommended intent (unreachable in taxonomy v1)"),
  def("severity_below_threshold", "policy", "autonomy", "severity rank < minSeverity"),
  def("confidence_below_threshold", "policy", "autonomy", "confidence rank < minConfidence"),
  def("autonomous_kill_switch_enabled", "policy", "safety rail", "the kill switch is on (registry or operator)"),
  def(
    "autonomous_cooldown_active",
    "policy",
    "safety rail",
    "the candidate was auto-dispatched less than `cooldownSeconds` ago (from dispatch time)",
  ),
  def(
    "autonomous_max_actions_per_run_exceeded",
    "policy",
    "safety rail",
    "maxActionsPerRun eligible candidates already selected in this evaluation",
  ),
  def(
    "autonomous_max_actions_per_loop_exceeded",
    "policy",
    "safety rail",
    "maxActionsPerLoop eligible candidates of this loop already selected",
  ),
  def("autonomous_rollout_scope_excluded", "rollout", "autonomy", "the loop is not in a non-empty rollout scope"),
  def("autonomous_rollout_canary_excluded", "rollout", "autonomy", "in scope, but outside the canary cohort"),
  def("autonomous_rollout_paused_manual", "rollout", "autonomy", "`pause.manual` in the registry, or an operator paused the rollout"),
  def("autonomous_rollout_paused_auto", "rollout", "autonomy", "the auto-pause latch is tripped"),
  def(
    "autonomous_autopause_ambiguous_spike",
    "rollout",
    "autonomy",
    "auto-pause trigger: ambiguity rate ≥ threshold over ≥ minSampleSize attempts",
  ),
  def(
    "autonomous_autopause_failure_spike",
    "rollout",
    "autonomy",
    "auto-pause trigger: failure rate ≥ threshold over ≥ minSampleSize attempts",
  ),
  // retry guard (§5.5)
  def(
    "autonomous_retry_guard_ambiguous",
    "other",
    "intent",
    "the intent instance ended ambiguous; manual-only until acknowledged or a new instance",
  ),
  def("autonomous_retry_guard_failed", "other", "intent", "the intent instance failed; manual-only until acknowledged or a new instance"),
  def(
    "autonomous_intent_already_dispatched",
    "other",
    "intent",
    "the intent instance was already executed: autonomy never runs it again (a manual dispatch with --again can)",
    "opsledger",
  ),
  // fleet policy (§5.6)
  def("fleet_action_required", "other", "evaluation", "unsuppressedCount > 0"),
  def("no_action_required", "other", "evaluation", "unsuppressedCount == 0"),
  def("fleet_actions_suppressed", "other", "evaluation", "suppressedCount > 0"),
  def("fleet_actions_policy_suppressed", "other", "evaluation", "≥ 1 candidate with registry_policy_suppression"),
  def("fleet_actions_deduped", "other", "evaluation", "≥ 1 candidate with advisory_cooldown_active"),
  def("fleet_auto_candidates_eligible", "other", "evaluation", "guarded_auto and autoEligibleCount > 0"),
  def("fleet_auto_candidates_blocked", "other", "evaluation", "guarded_auto, unsuppressed > 0 and autoEligibleCount == 0"),
  def(
    "fleet_auto_candidates_rollout_gated",
    "other",
    "evaluation",
    "guarded_auto and an unsuppressed candidate is scope- or canary-excluded",
  ),
  def("fleet_auto_candidates_paused", "other", "evaluation", "guarded_auto and an unsuppressed candidate is paused (manual or auto)"),
  def("fleet_auto_candidates_autopause_triggered", "other", "evaluation", "guarded_auto and the auto-pause latch is active"),
  def("fleet_auto_kill_switch_enabled", "other", "evaluation", "guarded_auto and an unsuppressed candidate met the kill switch"),
  def(
    "fleet_auto_candidates_safety_blocked",
    "other",
    "evaluation",
    "guarded_auto and an unsuppressed candidate met cooldown, run cap or loop cap",
  ),
  def(
    "fleet_auto_candidates_governance_blocked",
    "other",
    "evaluation",
    "guarded_auto and the governance review is missing or expired",
    "opsledger",
  ),
  // dispatch (§5.7, §5.8)
  def("fleet_handoff_action_required", "other", "dispatch", "intents > 0"),
  def("fleet_handoff_no_action", "other", "dispatch", "no intents"),
  def("fleet_handoff_confirmation_pending", "other", "dispatch", "pending intents > 0"),
  def("fleet_handoff_partial_mapping", "other", "dispatch", "intents < unsuppressed candidates (unreachable in taxonomy v1)"),
  def("fleet_handoff_unmapped_candidates", "other", "dispatch", "unsuppressed > 0 and intents == 0 (unreachable in taxonomy v1)"),
  def("fleet_handoff_retry_guarded", "other", "dispatch", "an intent carries a retry-guard reason"),
  def("fleet_handoff_auto_eligible_intents", "other", "dispatch", "auto-eligible intents > 0"),
  def("fleet_handoff_executed", "other", "dispatch", "executedCount > 0"),
  def("fleet_handoff_execution_ambiguous", "other", "dispatch", "ambiguousCount > 0"),
  def("fleet_handoff_execution_failed", "other", "dispatch", "failedCount > 0"),
  def("control_confirmed", "other", "outcome", "the dispatcher confirmed the effect (control exit 0)"),
  def("control_executed_unconfirmed", "other", "outcome", "executed but not confirmed (status executed, confirmed false)", "opsledger"),
  def("control_ambiguous", "transport", "outcome", "the effect is unknown (control exit 2, or a timeout)"),
  def("control_failed_command", "transport", "outcome", "the control failed (any other exit, or the dispatcher threw)"),
  def("autonomous_intent_not_eligible", "other", "outcome", "defensive precondition: an autonomous dispatch of a non-eligible intent"),
  def(
    "transport_execution_blocked",
    "transport",
    "outcome",
    "status fallback for a failed/ambiguous sprite_service outcome without a reason code",
  ),
  def(
    "dispatch_in_flight",
    "other",
    "outcome",
    "DispatchRequested without DispatchCompleted (a crash between them): ambiguous until acknowledged",
    "opsledger",
  ),
  // governance (§5.9): a real gate on autonomy in opsledger
  def(
    "autonomous_governance_authority_missing",
    "governance",
    "governance",
    "guarded_auto without actor, approvalRef, rationale, changedAt and reviewBy",
  ),
  def("autonomous_governance_review_deadline_missing", "governance", "governance", "guarded_auto without reviewBy"),
  def("autonomous_governance_review_expired", "governance", "governance", "guarded_auto and reviewBy ≤ now: autonomy is blocked"),
  def(
    "autonomous_governance_review_due_soon",
    "governance",
    "governance",
    "guarded_auto and 0 < reviewBy − now ≤ 7 days: a warning, not a block",
  ),
  // suppression paths (§5.10)
  def("autonomous_suppression_policy_gated", "other", "status", "policy-gated blockedCount > 0"),
  def("autonomous_suppression_rollout_gated", "other", "status", "rollout-gated blockedCount > 0"),
  def("autonomous_suppression_governance_gated", "other", "status", "governance-gated blockedCount > 0"),
  def("autonomous_suppression_transport_gated", "other", "status", "transport-gated blockedCount > 0"),
] as const;

/** Every reason code opsledger emits: code that writes one names it with this type, so a code missing from the table does not compile. */
export type ReasonCode = (typeof REASON_CODES)[number]["code"];

const families = new Map<string, ReasonFamily>(REASON_CODES.map((d) => [d.code, d.family]));

/** The status family of a reason code ("other" for unknown codes). */
export const reasonFamily = (code: string): ReasonFamily => families.get(code) ?? "other";

/** Codes of the policy family that count in `byPath.policyGated` (the reference's 11). */
export const POLICY_GATED_CODES: readonly ReasonCode[] = REASON_CODES.filter((d) => d.family === "policy").map((d) => d.code);
/** Codes of the rollout family that count in `byPath.rolloutGated` (the reference's 6). */
export const ROLLOUT_GATED_CODES: readonly ReasonCode[] = REASON_CODES.filter((d) => d.family === "rollout").map((d) => d.code);
