import type { Envelope } from "../chain/seal.ts";
import { fleetEvent } from "../events/catalogue.ts";
import { reviewByOf } from "../events/fleet-events.ts";

/** One governance-relevant fact: who, when, what, why, review by — with its place in the chain. */
export interface TimelineEntry {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  readonly event: string;
  readonly who: string;
  readonly what: string;
  readonly why: string | null;
  /** The review deadline the actor set (policy governance's `reviewBy`, an operator command's `reviewBy`). */
  readonly reviewBy: string | null;
  readonly approvalRef: string | null;
}

const OPERATOR_ACTIONS: Record<
  "KillSwitchEngaged" | "KillSwitchReleased" | "RolloutPaused" | "RolloutResumed" | "AutoPauseResumed",
  string
> = {
  KillSwitchEngaged: "kill switch engaged",
  KillSwitchReleased: "kill switch released",
  RolloutPaused: "rollout paused",
  RolloutResumed: "rollout resumed",
  AutoPauseResumed: "auto-pause resumed",
};

/** The timeline entry of one event, or null for events that are not governance-relevant. */
export function timelineEntry(envelope: Envelope, hash: string): TimelineEntry | null {
  const base = { seq: envelope.seq, hash, at: envelope.at, event: envelope.type };
  const event = fleetEvent(envelope);
  switch (event.type) {
    case "PolicyApplied": {
      const data = event.data;
      const mode = data.registry.policy.mode;
      const what =
        data.change === "autonomous_mode_toggled"
          ? `mode ${data.previousMode} → ${mode}`
          : data.change === "autonomous_policy_initialized"
            ? `policy initialized (${mode})`
            : `${data.change === "registry_updated" ? "registry updated" : "policy mutated"}: ${data.changedPaths.slice(0, 4).join(", ")}${data.changedPaths.length > 4 ? ", …" : ""}`;
      return {
        ...base,
        who: data.governance.actor ?? envelope.actor ?? "unknown",
        what: `${what} [${data.change}] policy ${data.policyHash.slice(0, 12)}`,
        why: data.governance.rationale ?? null,
        reviewBy: data.governance.reviewBy ?? null,
        approvalRef: data.governance.approvalRef ?? null,
      };
    }
    case "KillSwitchEngaged":
    case "KillSwitchReleased":
    case "RolloutPaused":
    case "RolloutResumed":
    case "AutoPauseResumed": {
      const { governance } = event.data;
      return {
        ...base,
        who: governance.actor,
        what: OPERATOR_ACTIONS[event.type],
        why: governance.rationale,
        reviewBy: reviewByOf(governance),
        approvalRef: governance.approvalRef ?? null,
      };
    }
    case "AutoPauseTripped": {
      const data = event.data;
      const m = data.metrics;
      return {
        ...base,
        who: "opsledger (auto-pause)",
        what: `auto-pause tripped: ${data.reasons.join(", ")}; holds until an operator resumes`,
        why: `ambiguity ${m.ambiguityRate.toFixed(2)}, failure ${m.failureRate.toFixed(2)} over ${m.attemptedCount} attempts in ${m.windowExecutionCount} batches`,
        reviewBy: null,
        approvalRef: null,
      };
    }
    case "IntentAcknowledged": {
      const data = event.data;
      return {
        ...base,
        who: data.by,
        what: `acknowledged ${data.intentId} (${data.outcome}, instance ${data.instance})`,
        why: data.note ?? null,
        reviewBy: null,
        approvalRef: null,
      };
    }
    case "DrillRecorded": {
      const data = event.data;
      return {
        ...base,
        who: envelope.actor ?? "opsledger drill",
        what: `drill ${data.drillId}: ${data.status}`,
        why: `${data.evidence.filter((c) => c.passed).length}/${data.evidence.length} checks passed`,
        reviewBy: null,
        approvalRef: null,
      };
    }
    default:
      return null;
  }
}
