import type { Issue } from "../errors.ts";
import type { NewEvent } from "../events/catalogue.ts";
import type { DispatchRequested, PlannedDispatch } from "../events/fleet-events.ts";
import { type CommandContext, type Decision, reject } from "./decision.ts";
import { computePlan, type Plan, type PlannedIntent } from "./plan.ts";
import type { FleetState } from "./state.ts";

/** One intent's outcome in a batch. */
export interface DispatchResultEntry {
  readonly intentId: string;
  readonly loopId: string;
  readonly status: "executed" | "ambiguous" | "failed";
  readonly reasonCode: string;
  readonly confirmed: boolean;
  readonly transport: string | null;
  /** Why it failed or is ambiguous, as recorded. */
  readonly detail?: string;
  /** What the dispatcher printed (see `DispatchReport.output`); not recorded in the log. */
  readonly output?: string;
}

/** What `dispatch` returns: the batch with the reference's meanings, and the plan after it. */
export type DispatchBatch =
  | {
      readonly ok: true;
      readonly batchId: string;
      readonly seq: number;
      readonly mode: "autonomous" | "manual";
      readonly requestedIntentCount: number;
      readonly executedCount: number;
      readonly ambiguousCount: number;
      readonly failedCount: number;
      /** Intents of the batch not dispatched because autonomy was halted before their turn (they stay pending). */
      readonly skippedCount: number;
      readonly results: readonly DispatchResultEntry[];
      readonly skipped: readonly { readonly intentId: string; readonly loopId: string; readonly reasonCodes: readonly string[] }[];
      readonly intents: readonly PlannedIntent[];
      readonly summary: Plan["summary"];
      readonly reasonCodes: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly Issue[] };

/** The batch a dispatch decided to run, before any dispatcher call. */
export interface StartedBatch {
  readonly batchId: string;
  readonly seq: number;
  readonly targets: readonly PlannedIntent[];
}

const planned = (intent: PlannedIntent): PlannedDispatch => ({
  intentId: intent.intentId,
  candidateId: intent.candidateId,
  loopId: intent.loopId,
  category: intent.category,
  intent: intent.intent,
  instance: intent.instance,
  idempotencyKey: intent.idempotencyKey,
  transport: intent.transport,
  autonomousEligible: intent.autonomous.eligible,
});

/** Options common to both dispatch modes, as the decide step sees them. */
export interface DispatchIntent {
  readonly mode: "autonomous" | "manual";
  readonly intentIds?: readonly string[];
  readonly confirm?: boolean;
  /** Manual: run intents again that were already executed (refused without it, so a repeated command is not a repeated action). */
  readonly again?: boolean;
  readonly by: string;
  readonly note?: string;
  readonly traceId: string | null;
  readonly batchId: string;
}

/**
 * Decides which intents a dispatch runs and records `DispatchRequested` before any dispatcher
 * call. Autonomous: the plan's auto-eligible pending intents, every gate re-checked now.
 * Manual: the named intents, with `confirm`, whatever the kill switch, pauses or governance say.
 */
export function decideDispatch(state: FleetState, request: DispatchIntent, { now, firstSeq }: CommandContext): Decision<StartedBatch> {
  const refuse = (errors: Issue[]) => reject("INVALID_INPUT", errors);
  if (!state.evaluation) return reject("PRECONDITION", [{ path: "(ledger)", message: "nothing to dispatch: evaluate first" }]);
  const plan = computePlan(state, now, request.traceId);
  let targets: PlannedIntent[];
  if (request.mode === "autonomous") {
    if (state.policy?.registry.policy.mode !== "guarded_auto")
      return refuse([{ path: "mode", message: "autonomous dispatch requires policy mode guarded_auto" }]);
    targets = plan.intents.filter((intent) => intent.autonomous.eligible && intent.status === "pending_operator_confirmation");
  } else {
    if (request.confirm !== true)
      return refuse([{ path: "confirm", message: "manual dispatch requires confirm: true (an operator's explicit confirmation)" }]);
    const ids = request.intentIds ?? [];
    if (ids.length === 0) return refuse([{ path: "intentIds", message: "manual dispatch requires at least one intent id" }]);
    const byId = new Map(plan.intents.map((intent) => [intent.intentId, intent]));
    const unknown = ids.filter((id) => !byId.has(id));
    if (unknown.length > 0) {
      return refuse(
        unknown.map((id) => ({
          path: "intentIds",
          message: `intent "${id}" is not in the plan (known: ${[...byId.keys()].join(", ") || "none"})`,
        })),
      );
    }
    targets = [...new Set(ids)].map((id) => byId.get(id) as PlannedIntent);
    const executed = targets.filter((intent) => intent.status === "executed");
    if (executed.length > 0 && request.again !== true)
      return refuse(
        executed.map((intent) => ({
          path: "intentIds",
          message: `intent "${intent.intentId}" was already executed (batch ${intent.lastOutcome?.batchId ?? "?"}); run it again only with again: true (--again)`,
        })),
      );
  }
  const data: DispatchRequested = {
    batchId: request.batchId,
    mode: request.mode,
    by: request.by,
    ...(request.note === undefined ? {} : { note: request.note }),
    evaluationSeq: state.evaluation.seq,
    intents: targets.map(planned),
  };
  const event: NewEvent = { type: "DispatchRequested", data, actor: request.by, ...(request.traceId ? { traceId: request.traceId } : {}) };
  return { events: [event], result: { batchId: request.batchId, seq: firstSeq, targets } };
}

/** Decides an acknowledgement: only an intent whose last dispatch of this instance is ambiguous, failed or in flight. */
export function decideAcknowledge(
  state: FleetState,
  intentId: string,
  by: string,
  note: string | undefined,
  { firstSeq }: CommandContext,
): Decision<{ ok: true; seq: number }> {
  const record = state.intents.get(intentId);
  const current = record && state.instances.get(record.candidateId)?.instance === record.instance ? record : undefined;
  if (!by) return reject("INVALID_INPUT", [{ path: "by", message: "by is required: who acknowledges" }]);
  if (!current || current.status === "executed") {
    const why = !record ? "was never dispatched" : current ? "was executed" : "has no open outcome";
    return reject("PRECONDITION", [{ path: "intentId", message: `intent "${intentId}" ${why}: nothing to acknowledge` }]);
  }
  return {
    events: [
      {
        type: "IntentAcknowledged",
        data: { intentId, instance: current.instance, by, outcome: current.status, ...(note ? { note } : {}) },
        actor: by,
      },
    ],
    result: { ok: true, seq: firstSeq },
  };
}
