import type { CandidateDecision } from "../events/fleet-events.ts";
import { FLEET_GATES, POLICY_GATES, recordedGateInput } from "../fleet/gates.ts";
import { SAFETY_RAILS } from "../fleet/rails.ts";
import type { ReasonCode } from "../fleet/reason-codes.ts";
import type { FleetState } from "../fleet/state.ts";

/** One gate or rail, as it decided for a candidate. */
export interface ExplainCheck {
  readonly check: string;
  readonly passed: boolean;
  /** What the policy asks. */
  readonly policy: string;
  /** What was observed. */
  readonly observed: string;
  /** The reason code the check produced when it did not pass. */
  readonly reason?: string;
}

/** Why one candidate is where it is. */
export interface CandidateExplanation {
  readonly candidateId: string;
  readonly intentId: string;
  /** What the evaluation decided. */
  readonly outcome: "suppressed" | "manual_only" | "eligible";
  readonly reasons: readonly string[];
  /** What became of the intent since, in the state explained: its current instance's last dispatch, or null. */
  readonly dispatched: "in_flight" | "executed" | "ambiguous" | "failed" | null;
  readonly checks: readonly ExplainCheck[];
}

/** The answer of `explain`: every candidate of a loop, a candidate or an intent in the last evaluation. */
export interface Explanation {
  readonly subject: string;
  readonly found: boolean;
  readonly evaluation: { readonly seq: number; readonly at: string; readonly evaluationId: string; readonly traceId: string | null } | null;
  readonly candidates: readonly CandidateExplanation[];
}

// the reason code a check gives, named with the typed union so a code missing from the table does not compile
const because = (code: ReasonCode) => ({ reason: code });

// one gate's or rail's check: passed unless it gave a reason
const checkOf = (check: string, reason: string | undefined, { policy, observed }: { policy: string; observed: string }): ExplainCheck => ({
  check,
  passed: reason === undefined,
  policy,
  observed,
  ...(reason === undefined ? {} : { reason }),
});

function checksOf(candidate: CandidateDecision, state: FleetState): ExplainCheck[] {
  const evaluation = state.evaluation?.data;
  const registry = state.policy?.registry;
  if (!evaluation || !registry) return [];
  const c = candidate;
  const has = (code: string) => c.reasons.includes(code);
  // the policy's gates from their table, as the evaluation decided them (its recorded flags)
  const gates = POLICY_GATES.map((gate) => {
    const explained = gate.explain(c, registry, evaluation);
    return checkOf(gate.name, c.gates[gate.flag] === gate.passes ? undefined : (explained.reason ?? gate.reason), explained);
  });
  // the rollout, pause and governance gates from theirs, on what the candidate and evaluation recorded
  const input = recordedGateInput(c, evaluation);
  const fleetGates = FLEET_GATES.map((gate) => {
    const reasons = gate.reasons(input);
    return checkOf(gate.name, reasons.length === 0 ? undefined : reasons.join(", "), gate.explain(c, registry, evaluation));
  });
  // the safety rails from theirs: the one that stopped the candidate is in its recorded reasons
  const rails = SAFETY_RAILS.map((rail) =>
    checkOf(rail.name, has(rail.reason) ? rail.reason : undefined, rail.explain(c, registry, evaluation)),
  );
  const checks: ExplainCheck[] = [...gates, ...fleetGates, ...rails];
  const { dispatched, instance, current } = dispatchOf(c, state);
  const guard =
    current?.status === "execution_ambiguous"
      ? "autonomous_retry_guard_ambiguous"
      : current?.status === "execution_failed"
        ? "autonomous_retry_guard_failed"
        : current?.status === "in_flight"
          ? "dispatch_in_flight"
          : undefined;
  checks.push({
    check: "dispatch history",
    passed: current === undefined,
    policy: "an intent instance is auto-dispatched at most once; ambiguous or failed ones wait for an operator",
    observed: current
      ? `instance ${current.instance} dispatched ${current.requestedAt} by ${current.requestedBy} (${current.mode}): ${current.status}`
      : dispatched
        ? `instance ${instance?.instance ?? 1} not dispatched yet (instance ${dispatched.instance} was: ${dispatched.status})`
        : "never dispatched",
    ...(guard ? { reason: guard } : current?.status === "executed" ? because("autonomous_intent_already_dispatched") : {}),
  });
  return checks;
}

// the intent's last dispatch, and the one of its current instance (undefined when that instance was never dispatched)
function dispatchOf(c: CandidateDecision, state: FleetState) {
  const dispatched = state.intents.get(`${c.candidateId}:${c.recommendedIntent}`);
  const instance = state.instances.get(c.candidateId);
  const current = dispatched && dispatched.instance === instance?.instance ? dispatched : undefined;
  return { dispatched, instance, current };
}

const DISPATCHED: Record<string, CandidateExplanation["dispatched"]> = {
  in_flight: "in_flight",
  executed: "executed",
  execution_ambiguous: "ambiguous",
  execution_failed: "failed",
};

function dispatchedNow(c: CandidateDecision, state: FleetState): CandidateExplanation["dispatched"] {
  const { current } = dispatchOf(c, state);
  return current ? (DISPATCHED[current.status] ?? null) : null;
}

/**
 * Why each candidate of a loop (`loop-red`), a candidate (`loop-red:health_critical`) or an
 * intent (`loop-red:health_critical:cancel`) is suppressed, manual-only or eligible in the last
 * evaluation: every gate and rail with the policy value and the observed value that decided it.
 */
export function explain(state: FleetState, subject: string): Explanation {
  const record = state.evaluation;
  const candidates = (record?.data.candidates ?? []).filter(
    (c) => c.loopId === subject || c.candidateId === subject || `${c.candidateId}:${c.recommendedIntent}` === subject,
  );
  return {
    subject,
    found: candidates.length > 0,
    evaluation: record ? { seq: record.seq, at: record.at, evaluationId: record.data.evaluationId, traceId: record.data.traceId } : null,
    candidates: candidates.map((c) => ({
      candidateId: c.candidateId,
      intentId: `${c.candidateId}:${c.recommendedIntent}`,
      outcome: c.suppressed ? "suppressed" : c.eligible ? "eligible" : "manual_only",
      reasons: c.reasons,
      dispatched: dispatchedNow(c, state),
      checks: checksOf(c, state),
    })),
  };
}

/** A readable rendering of an explanation, one line per check. */
export function renderExplanation(explanation: Explanation): string {
  if (!explanation.evaluation) return `${explanation.subject}: no evaluation recorded yet`;
  const head = `evaluation ${explanation.evaluation.evaluationId} (seq ${explanation.evaluation.seq}, ${explanation.evaluation.at})`;
  if (!explanation.found) return `${explanation.subject}: no candidate in ${head}`;
  const lines = [head];
  for (const c of explanation.candidates) {
    // the evaluation's verdict, then what happened since, so a dispatched intent does not read as waiting
    const since = c.dispatched ? `; since dispatched: ${c.dispatched.replace("_", " ")}` : "";
    lines.push("", `${c.candidateId} → ${c.outcome.replace("_", "-")}${c.reasons.length > 0 ? ` (${c.reasons.join(", ")})` : ""}${since}`);
    for (const check of c.checks) {
      lines.push(
        `  ${check.passed ? "✓" : "✗"} ${check.check.padEnd(18)} policy: ${check.policy}; observed: ${check.observed}${check.reason ? ` → ${check.reason}` : ""}`,
      );
    }
  }
  return lines.join("\n");
}
