import type { PolicyMode } from "../contract/normalized-registry.ts";
import { parseTimestamp } from "../contract/timestamp.ts";
import type { PolicyApplied } from "../events/fleet-events.ts";
import type { ReasonCode } from "./reason-codes.ts";

/** The governance posture of the policy in force (reference §6.5). */
export type GovernancePosture =
  | "not_required"
  | "authority_missing"
  | "review_deadline_missing"
  | "review_expired"
  | "review_due_soon"
  | "active";

export interface GovernanceAssessment {
  readonly posture: GovernancePosture;
  /** §5.9 codes, sorted. */
  readonly reasonCodes: readonly ReasonCode[];
  /** True when autonomy is blocked: authority or deadline missing, or the review expired. Due-soon only warns. */
  readonly blocksAutonomous: boolean;
  readonly authorityContextPresent: boolean;
}

/** A review within this many seconds is "due soon". */
export const REVIEW_DUE_SOON_SECONDS = 604_800;

/**
 * Assesses governance at `now`. In guarded_auto a missing or expired review blocks autonomy
 * (advisory evaluation, manual dispatch, status and replay keep working); due-soon warns.
 */
export function assessGovernance(mode: PolicyMode, governance: PolicyApplied["governance"], now: number): GovernanceAssessment {
  const fields = [governance.actor, governance.approvalRef, governance.rationale, governance.changedAt, governance.reviewBy];
  const authorityContextPresent = mode !== "guarded_auto" || fields.every((field) => field !== undefined && field !== "");
  if (mode !== "guarded_auto") return { posture: "not_required", reasonCodes: [], blocksAutonomous: false, authorityContextPresent };
  const codes: ReasonCode[] = [];
  if (!authorityContextPresent) codes.push("autonomous_governance_authority_missing");
  const reviewBy = parseTimestamp(governance.reviewBy);
  if (reviewBy === undefined) codes.push("autonomous_governance_review_deadline_missing");
  else if (reviewBy <= now) codes.push("autonomous_governance_review_expired");
  else if (reviewBy - now <= REVIEW_DUE_SOON_SECONDS * 1000) codes.push("autonomous_governance_review_due_soon");
  const posture: GovernancePosture = !authorityContextPresent
    ? "authority_missing"
    : reviewBy === undefined
      ? "review_deadline_missing"
      : reviewBy <= now
        ? "review_expired"
        : reviewBy - now <= REVIEW_DUE_SOON_SECONDS * 1000
          ? "review_due_soon"
          : "active";
  const reasonCodes = codes.sort();
  return {
    posture,
    reasonCodes,
    blocksAutonomous: reasonCodes.some((code) => code !== "autonomous_governance_review_due_soon"),
    authorityContextPresent,
  };
}
