// The decider of a fleet, in the Emmett sense: one command union, one `decide(command, state,
// context)` returning events or a typed rejection, and the fold (`evolve` in ledger-state.ts).
// Pure: the state, the command and the injected context decide everything, so a command can be
// specified as given(events).when(command).then(events) (see `@opsledger/core/testing`).
import type { Registry } from "../contract/normalized-registry.ts";
import type { UnrecordedOutcome } from "../errors.ts";
import { CANONICALIZATION, HASH_ALGORITHM, LOG_FORMAT, type NewEvent } from "../events/catalogue.ts";
import type { OperatorGovernance, PolicyEvaluated } from "../events/fleet-events.ts";
import { batchTrip, type OutcomeStatus } from "./autopause.ts";
import {
  type ApplyGovernance,
  type ApplyResult,
  decideApplyRegistry,
  decideObserve,
  decideOperatorAction,
  type ObserveResult,
  type OperatorAction,
  type OperatorResult,
} from "./commands.ts";
import { type Accepted, type CommandContext, type DecideContext, type Decision, isRejected, reject } from "./decision.ts";
import { type DispatchIntent, decideAcknowledge, decideDispatch, type StartedBatch } from "./dispatch-commands.ts";
import { decideEvaluation } from "./evaluate.ts";
import type { LedgerState } from "./ledger-state.ts";
import type { FleetState } from "./state.ts";

/** The operator commands, each flipping one latch, and the event that records it. */
export const OPERATOR_COMMANDS = {
  EngageKillSwitch: "KillSwitchEngaged",
  ReleaseKillSwitch: "KillSwitchReleased",
  PauseRollout: "RolloutPaused",
  ResumeRollout: "RolloutResumed",
  ResumeAutoPause: "AutoPauseResumed",
} as const satisfies Record<string, OperatorAction>;
export type OperatorCommand = keyof typeof OPERATOR_COMMANDS;

/** Every command a fleet's ledger decides. */
export type FleetCommand =
  | { readonly type: "CreateLedger" }
  | { readonly type: "ApplyRegistry"; readonly registry: unknown; readonly governance?: ApplyGovernance }
  | { readonly type: OperatorCommand; readonly governance: OperatorGovernance }
  | { readonly type: "Observe"; readonly fleetState: unknown; readonly traceId?: string }
  | { readonly type: "Evaluate"; readonly traceId?: string }
  | ({ readonly type: "RequestDispatch"; readonly traceId?: string } & Omit<DispatchIntent, "batchId" | "traceId">)
  | {
      readonly type: "RecordOutcomes";
      readonly outcomes: readonly UnrecordedOutcome[];
      /** The outcomes so far of the autonomous batch these belong to, when a spike among them may trip the auto-pause latch. */
      readonly tripCheck?: { readonly batchSeq: number; readonly statuses: readonly OutcomeStatus[]; readonly traceId?: string };
    }
  | { readonly type: "AcknowledgeIntent"; readonly intentId: string; readonly by: string; readonly note?: string };

/** What each command resolves with once its events are appended. */
export type FleetCommandResults = { readonly [C in OperatorCommand]: Accepted<OperatorResult> } & {
  readonly CreateLedger: { readonly created: boolean; readonly seq: number };
  readonly ApplyRegistry: Accepted<ApplyResult>;
  readonly Observe: Accepted<ObserveResult>;
  /** The evaluation recorded, its seq (after an `AutoPauseTripped` it brought), the registry it read and when. */
  readonly Evaluate: { readonly evaluation: PolicyEvaluated; readonly seq: number; readonly registry: Registry; readonly at: string };
  readonly RequestDispatch: { readonly batch: StartedBatch; readonly traceId: string | null };
  /** How many outcomes were new (an outcome already in the log is never recorded twice). */
  readonly RecordOutcomes: { readonly recorded: number };
  readonly AcknowledgeIntent: { readonly ok: true; readonly seq: number };
};

/**
 * Decides a command on the folded state: the events to append (after `LedgerCreated` when the
 * ledger is empty and something is appended) and the command's result, or a rejection.
 * @example
 * const decision = decide({ type: "Evaluate" }, state, { now, newId: () => "e1" });
 * if ("rejected" in decision) console.error(decision.rejected.errors);
 */
export function decide<C extends FleetCommand>(
  command: C,
  state: LedgerState,
  context: DecideContext,
): Decision<FleetCommandResults[C["type"]]> {
  // an empty ledger's first event is LedgerCreated at seq 1, so a command's own events start at 2
  const firstSeq = state.seq === 0 ? 2 : state.seq + 1;
  const decision = decideFleet(command, state, { ...context, firstSeq }) as Decision<FleetCommandResults[C["type"]]>;
  return isRejected(decision) ? decision : { ...decision, events: withCreation(state, decision.events, decision.create === true) };
}

/** The events to append with `LedgerCreated` first when they are the first of the ledger's log. */
export function withCreation(state: LedgerState, events: readonly NewEvent[], create: boolean): readonly NewEvent[] {
  if (state.seq > 0 || (events.length === 0 && !create)) return events;
  const created: NewEvent = {
    type: "LedgerCreated",
    data: { fleetId: state.fleetId, format: LOG_FORMAT, hash: HASH_ALGORITHM, canonicalization: CANONICALIZATION },
  };
  return [created, ...events];
}

function decideFleet(command: FleetCommand, state: LedgerState, context: CommandContext): Decision<unknown> {
  const { fleet } = state;
  switch (command.type) {
    case "CreateLedger":
      return { events: [], create: true, result: { created: state.seq === 0, seq: Math.max(state.seq, 1) } };
    case "ApplyRegistry":
      return decideApplyRegistry(fleet, command.registry, command.governance, context);
    case "EngageKillSwitch":
    case "ReleaseKillSwitch":
    case "PauseRollout":
    case "ResumeRollout":
    case "ResumeAutoPause":
      return decideOperatorAction(fleet, OPERATOR_COMMANDS[command.type], command.governance, context);
    case "Observe":
      return decideObserve(fleet, command.fleetState, command.traceId, context);
    case "Evaluate":
      return evaluateNow(fleet, command.traceId, context);
    case "RequestDispatch": {
      const { type: _, traceId: given, ...request } = command;
      const traceId = given ?? fleet.evaluation?.data.traceId ?? null;
      const decision = decideDispatch(fleet, { ...request, traceId, batchId: context.newId() }, context);
      return isRejected(decision) ? decision : { events: decision.events, result: { batch: decision.result, traceId } };
    }
    case "RecordOutcomes":
      return recordOutcomes(fleet, command);
    case "AcknowledgeIntent":
      return decideAcknowledge(fleet, command.intentId, command.by, command.note, context);
  }
}

// an evaluation records `AutoPauseTripped` first when the dispatch window trips the latch
function evaluateNow(fleet: FleetState, traceId: string | undefined, context: CommandContext): Decision<FleetCommandResults["Evaluate"]> {
  const { policy, observation } = fleet;
  if (!policy) return reject("PRECONDITION", [{ path: "(ledger)", message: "no policy to evaluate against: apply a registry first" }]);
  if (!observation) return reject("PRECONDITION", [{ path: "(ledger)", message: "nothing to evaluate: observe a fleet state first" }]);
  const evaluationId = context.newId();
  const trace = traceId ?? observation.data.traceId ?? evaluationId;
  const { trip, evaluation } = decideEvaluation(fleet, { now: context.now, traceId: trace, evaluationId });
  return {
    events: [
      ...(trip ? [{ type: "AutoPauseTripped" as const, data: trip, traceId: trace }] : []),
      { type: "PolicyEvaluated" as const, data: evaluation, traceId: trace },
    ],
    result: { evaluation, seq: context.firstSeq + (trip ? 1 : 0), registry: policy.registry, at: context.now.toISOString() },
  };
}

// Dispatch facts are never refused: an outcome already in the log (recorded by an earlier try) is
// left out, and the batch's outcomes so far may trip the latch so its next intent halts.
function recordOutcomes(fleet: FleetState, command: Extract<FleetCommand, { type: "RecordOutcomes" }>): Decision<{ recorded: number }> {
  const fresh = command.outcomes.filter((fact) => !alreadyRecorded(fleet, fact));
  const check = command.tripCheck;
  const trip =
    check && batchTrip(fleet.autoPause, fleet.policy?.registry.policy.autonomous.rollout.autoPause, check.batchSeq, check.statuses);
  const tripped: NewEvent[] = trip
    ? [{ type: "AutoPauseTripped", data: trip, ...(check?.traceId === undefined ? {} : { traceId: check.traceId }) }]
    : [];
  return { events: [...(fresh as NewEvent[]), ...tripped], result: { recorded: fresh.length } };
}

// true when the log already holds this outcome (or skip) of this batch's intent
function alreadyRecorded(fleet: FleetState, fact: UnrecordedOutcome): boolean {
  const { batchId, intentId } = fact.data;
  const batch = fleet.openBatches.get(batchId);
  if (batch) return batch.results.some((r) => r.intentId === intentId) || batch.skipped.some((s) => s.intentId === intentId);
  // a closed batch has every outcome; an unknown one cannot take any
  return true;
}
