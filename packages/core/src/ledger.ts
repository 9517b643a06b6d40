import { followChain } from "./chain/follow.ts";
import { GENESIS_HASH } from "./chain/hash.ts";
import { ENVELOPE_VERSION, type Envelope, type SealedRecord, seal } from "./chain/seal.ts";
import { type VerificationReport, type VerifyOptions, verifyLog } from "./chain/verify.ts";
import { type Issue, isOpsledgerError, PreconditionError, StoreIntegrityError, StreamConflictError } from "./errors.ts";
import { CANONICALIZATION, HASH_ALGORITHM, LOG_FORMAT, type NewEvent, validateEvent } from "./events/catalogue.ts";
import type { OperatorGovernance } from "./events/fleet-events.ts";
import {
  type ApplyGovernance,
  type ApplyResult,
  type CommandDecision,
  decideApplyRegistry,
  decideObserve,
  decideOperatorAction,
  type ObserveResult,
  type OperatorAction,
  type OperatorResult,
} from "./fleet/commands.ts";
import { type Dispatcher, runDispatcher } from "./fleet/dispatch.ts";
import { type DispatchBatch, type DispatchResultEntry, decideAcknowledge, decideDispatch } from "./fleet/dispatch-commands.ts";
import { decideEvaluation } from "./fleet/evaluate.ts";
import { sortedUnique } from "./fleet/order.ts";
import { computePlan, type Plan } from "./fleet/plan.ts";
import type { FleetState } from "./fleet/state.ts";
import { evolve, initialLedgerState, type LedgerState } from "./ledger-state.ts";
import { type EvaluationDocument, evaluationDocument } from "./projections/evaluation.ts";
import { type Explanation, explain } from "./projections/explain.ts";
import { type FleetStatus, fleetStatus } from "./projections/status.ts";
import type { EventStore, StreamHead } from "./store/event-store.ts";
import { parseStreamId } from "./store/stream-id.ts";
import { type Clock, type IdGenerator, systemClock, ulidGenerator } from "./system.ts";

/** Options of `openLedger`. */
export interface LedgerOptions {
  readonly store: EventStore;
  /** The fleet, which is also the stream id; defaults to `"default"`. */
  readonly fleetId?: string;
  /** Defaults to the wall clock; tests and replays pass a fixed one. */
  readonly clock?: Clock;
  /** Defaults to ULIDs; tests pass a deterministic generator. */
  readonly ids?: IdGenerator;
  /** How many times a command is re-decided on fresh state after losing a race; defaults to 10. */
  readonly maxAttempts?: number;
}

/** What a decide function returns: the events to append (none is fine) and the command's result. */
export interface Decision<Result> {
  readonly events: readonly NewEvent[];
  readonly result: Result;
  /** Write `LedgerCreated` even when `events` is empty (the ledger's `init`). */
  readonly create?: boolean;
}

/** A ledger bound to one fleet's stream: commands decide on folded state and append with optimistic concurrency. */
export interface Ledger {
  readonly fleetId: string;
  readonly store: EventStore;
  /** The folded state as of the last command or `refresh()`. */
  state(): LedgerState;
  /** The last folded record, or null for an empty ledger. */
  head(): StreamHead | null;
  /** Folds events other writers appended since the last look. */
  refresh(): Promise<LedgerState>;
  /** Writes `LedgerCreated` if the ledger is empty; true when it did. */
  init(): Promise<{ readonly created: boolean; readonly seq: number }>;
  /**
   * Runs a command: fold → decide → seal → append at the folded head. When another writer got
   * there first, re-reads, re-folds and re-decides, up to `maxAttempts` times.
   * @throws {StreamConflictError} when every attempt lost its race.
   * @throws {InvalidEventError} when `decide` returns an event the catalogue refuses.
   */
  execute<Result>(decide: (state: LedgerState, now: Date) => Decision<Result>): Promise<Result>;
  /** Verifies this ledger's whole log (see `verifyLog`). */
  verify(options?: VerifyOptions): Promise<VerificationReport>;

  /**
   * Validates, normalizes and records a registry v1 document (`PolicyApplied`), classified as the
   * reference's audit does; an identical re-apply records nothing (`change: null`). Governance
   * fails closed: in guarded_auto it must be complete with `reviewBy` in the future. `governance`
   * supplies or overrides the registry's own `policy.autonomous.governance` fields.
   */
  applyRegistry(json: unknown, options?: { readonly governance?: ApplyGovernance }): Promise<ApplyResult>;
  /** Engages the operator kill switch: autonomy stops at the next evaluation and the next dispatch. */
  engageKillSwitch(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Releases the operator kill switch (a registry `safety.killSwitch: true` still holds). */
  releaseKillSwitch(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Pauses the rollout (as `pause.manual`), audited. */
  pauseRollout(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Resumes an operator pause (a registry `pause.manual: true` still holds). */
  resumeRollout(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Clears the auto-pause latch, audited; the dispatch window starts afresh. */
  resumeAutoPause(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Records a reconcile result (the reference's fleet state v1) as `FleetObserved`. */
  observe(fleetState: unknown, options?: { readonly traceId?: string }): Promise<ObserveResult>;
  /**
   * Evaluates the last observation against the policy in force and records `PolicyEvaluated`
   * (after `AutoPauseTripped` when the dispatch window trips the latch).
   * @throws {PreconditionError} without an applied registry or an observation.
   */
  evaluate(options?: { readonly traceId?: string }): Promise<EvaluationDocument>;
  /** Why each candidate of a loop, candidate or intent is suppressed, manual-only or eligible (last evaluation). */
  explain(subject: string): Explanation;
  /** The fleet status document (reference §6, superloop-compatible) at the ledger's clock. */
  status(): FleetStatus;
  /** The current intent plan (reference §3.6), every gate re-checked at the ledger's clock; nothing is written. */
  plan(options?: { readonly traceId?: string }): Plan;
  /**
   * Dispatches intents: `DispatchRequested` is appended before any dispatcher call and
   * `DispatchCompleted` after each, so a crash in between leaves the intent visibly in flight.
   * Autonomous mode re-checks every gate and rail now and never dispatches an instance twice;
   * manual mode needs `confirm: true` and explicit intent ids and is always open to operators.
   */
  dispatch(options: DispatchOptions): Promise<DispatchBatch>;
  /** Clears the retry guard of an ambiguous, failed or in-flight intent: the next instance is a fresh intent. */
  acknowledgeIntent(
    intentId: string,
    options: { readonly by: string; readonly note?: string },
  ): Promise<{ ok: true; seq: number } | { ok: false; errors: readonly Issue[] }>;
}

/** Options of `dispatch`. */
export type DispatchOptions = {
  readonly dispatcher: Dispatcher;
  /** Who dispatches (an operator, or the service running autonomy); defaults to "unknown". */
  readonly by?: string;
  readonly note?: string;
  /** The trace of this dispatch; defaults to the evaluation's. */
  readonly traceId?: string;
  /** How long a dispatcher may take before the intent is recorded ambiguous; defaults to 30 s. */
  readonly timeoutMs?: number;
} & ({ readonly mode: "autonomous" } | { readonly mode: "manual"; readonly intentIds: readonly string[]; readonly confirm: boolean });

/**
 * Opens the ledger of one fleet on a store and folds its log (verifying every record).
 * @throws {ChainIntegrityError} when the stored log does not verify.
 * @example
 * const ledger = await openLedger({ store: createMemoryEventStore(), fleetId: "default" });
 * await ledger.init();
 */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  const { store } = options;
  const fleetId = parseStreamId(options.fleetId ?? "default");
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? ulidGenerator(clock);
  const maxAttempts = options.maxAttempts ?? 10;

  let state = initialLedgerState(fleetId);
  let head: StreamHead | null = null;

  const fold = (envelope: Envelope, hash: string): undefined => {
    state = evolve(state, envelope, hash);
    return undefined;
  };

  const refresh = async (): Promise<LedgerState> => {
    const stored = await store.head(fleetId);
    if ((stored?.seq ?? 0) < (head?.seq ?? 0)) {
      throw new StoreIntegrityError(fleetId, stored?.seq, undefined, `the store's head went back from seq ${head?.seq}`);
    }
    if (stored && stored.seq !== head?.seq) head = await followChain(store, fleetId, head, fold);
    return state;
  };

  // seals events on top of the folded head; they are folded only once the append succeeded
  const sealAll = (events: readonly NewEvent[], now: Date): { records: [SealedRecord, ...SealedRecord[]]; envelopes: Envelope[] } => {
    const at = now.toISOString();
    let prevHash = head?.hash ?? GENESIS_HASH;
    let seq = head?.seq ?? 0;
    const records = events.map((event) => {
      const data = validateEvent(event.type, event.data);
      seq++;
      const envelope: Envelope = {
        v: ENVELOPE_VERSION,
        ledger: fleetId,
        seq,
        id: ids.next(),
        type: event.type,
        at,
        ...(event.traceId === undefined ? {} : { traceId: event.traceId }),
        ...(event.actor === undefined ? {} : { actor: event.actor }),
        data,
        prevHash,
      };
      const record = seal(envelope);
      prevHash = record.hash;
      return { record, envelope };
    });
    return {
      records: records.map((r) => r.record) as [SealedRecord, ...SealedRecord[]],
      envelopes: records.map((r) => r.envelope),
    };
  };

  const ledger: Ledger = {
    fleetId,
    store,
    state: () => state,
    head: () => head,
    refresh,

    async execute<Result>(decide: (state: LedgerState, now: Date) => Decision<Result>): Promise<Result> {
      let lastConflict: unknown;
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        await refresh();
        const now = clock.now();
        const decision = decide(state, now);
        const events: NewEvent[] =
          state.seq === 0 && (decision.events.length > 0 || decision.create === true)
            ? [
                { type: "LedgerCreated", data: { fleetId, format: LOG_FORMAT, hash: HASH_ALGORITHM, canonicalization: CANONICALIZATION } },
                ...decision.events,
              ]
            : [...decision.events];
        if (events.length === 0) return decision.result;
        const { records, envelopes } = sealAll(events, now);
        try {
          await store.append({ streamId: fleetId, expectedSeq: head?.seq ?? 0, records });
        } catch (error) {
          if (isOpsledgerError(error, "STREAM_CONFLICT")) {
            lastConflict = error;
            continue;
          }
          throw error;
        }
        for (const [index, envelope] of envelopes.entries()) fold(envelope, (records[index] as SealedRecord).hash);
        const last = records[records.length - 1] as SealedRecord;
        head = { seq: last.seq, hash: last.hash };
        return decision.result;
      }
      throw lastConflict ?? new StreamConflictError(fleetId, head?.seq ?? 0, undefined);
    },

    async init() {
      return ledger.execute((current) => ({
        events: [],
        create: true,
        result: { created: current.seq === 0, seq: Math.max(current.seq, 1) },
      }));
    },

    verify: (verifyOptions?: VerifyOptions) => verifyLog(store, fleetId, verifyOptions),

    applyRegistry: (json, applyOptions) => runFleet((fleet, now) => decideApplyRegistry(fleet, json, applyOptions?.governance, now)),
    engageKillSwitch: (governance) => operator("KillSwitchEngaged", governance),
    releaseKillSwitch: (governance) => operator("KillSwitchReleased", governance),
    pauseRollout: (governance) => operator("RolloutPaused", governance),
    resumeRollout: (governance) => operator("RolloutResumed", governance),
    resumeAutoPause: (governance) => operator("AutoPauseResumed", governance),
    explain: (subject) => explain(state.fleet, subject),
    status: () => fleetStatus(state, clock.now()),
    plan: (planOptions) => computePlan(state.fleet, clock.now(), planOptions?.traceId ?? null),

    async dispatch(dispatchOptions) {
      const by = dispatchOptions.by ?? "unknown";
      const traceId = dispatchOptions.traceId ?? state.fleet.evaluation?.data.traceId ?? null;
      const started = await runFleet((fleet, now) =>
        decideDispatch(fleet, now, {
          mode: dispatchOptions.mode,
          ...(dispatchOptions.mode === "manual" ? { intentIds: dispatchOptions.intentIds, confirm: dispatchOptions.confirm } : {}),
          by,
          ...(dispatchOptions.note === undefined ? {} : { note: dispatchOptions.note }),
          traceId,
          batchId: ids.next(),
        }),
      );
      if (!started.ok) return started;
      const { batch } = started;
      const results: DispatchResultEntry[] = [];
      for (const intent of batch.targets) {
        const outcome = await runDispatcher(dispatchOptions.dispatcher, intent, {
          traceId,
          timeoutMs: dispatchOptions.timeoutMs ?? 30_000,
          clock,
        });
        const data = { batchId: batch.batchId, intentId: intent.intentId, instance: intent.instance, ...outcome };
        await ledger.execute(() => ({
          events: [{ type: "DispatchCompleted", data, actor: by, ...(traceId ? { traceId } : {}) }],
          result: null,
        }));
        results.push({
          intentId: intent.intentId,
          loopId: intent.loopId,
          status: outcome.status,
          reasonCode: outcome.reasonCode,
          confirmed: outcome.confirmed,
          transport: outcome.transport,
        });
      }
      const after = computePlan(state.fleet, clock.now(), traceId);
      const count = (status: string) => results.filter((r) => r.status === status).length;
      const outcomeCodes = [
        ...(count("executed") > 0 ? ["fleet_handoff_executed"] : []),
        ...(count("ambiguous") > 0 ? ["fleet_handoff_execution_ambiguous"] : []),
        ...(count("failed") > 0 ? ["fleet_handoff_execution_failed"] : []),
      ];
      return {
        ok: true,
        batchId: batch.batchId,
        seq: batch.seq,
        mode: dispatchOptions.mode,
        requestedIntentCount: batch.targets.length,
        executedCount: count("executed"),
        ambiguousCount: count("ambiguous"),
        failedCount: count("failed"),
        results,
        intents: after.intents,
        summary: after.summary,
        reasonCodes: sortedUnique([...after.reasonCodes, ...outcomeCodes]),
      };
    },

    acknowledgeIntent: (intentId, ackOptions) => runFleet((fleet) => decideAcknowledge(fleet, intentId, ackOptions.by, ackOptions.note)),
    observe: (fleetState, observeOptions) => runFleet((fleet) => decideObserve(fleet, fleetState, observeOptions?.traceId)),

    evaluate: (evaluateOptions) =>
      runFleet((fleet, now) => {
        const { policy, observation } = fleet;
        if (!policy) throw new PreconditionError("no policy to evaluate against: apply a registry first");
        if (!observation) throw new PreconditionError("nothing to evaluate: observe a fleet state first");
        const evaluationId = ids.next();
        const traceId = evaluateOptions?.traceId ?? observation.data.traceId ?? evaluationId;
        const { trip, evaluation } = decideEvaluation(fleet, { now, traceId, evaluationId });
        return {
          events: [
            ...(trip ? [{ type: "AutoPauseTripped" as const, data: trip, traceId }] : []),
            { type: "PolicyEvaluated" as const, data: evaluation, traceId },
          ],
          result: (firstSeq: number) => evaluationDocument(evaluation, policy.registry, firstSeq + (trip ? 1 : 0), now.toISOString()),
        };
      }),
  };

  // runs a fleet command: its result learns the seq its first event got
  function runFleet<Result>(decide: (fleet: FleetState, now: Date) => CommandDecision<Result>): Promise<Result> {
    return ledger.execute((current, now) => {
      const decision = decide(current.fleet, now);
      const firstSeq = current.seq + 1 + (current.seq === 0 && decision.events.length > 0 ? 1 : 0);
      return { events: decision.events, result: decision.result(firstSeq) };
    });
  }
  function operator(action: OperatorAction, governance: OperatorGovernance): Promise<OperatorResult> {
    return runFleet((fleet) => decideOperatorAction(fleet, action, governance));
  }

  await refresh();
  return ledger;
}

/** Where a replay stops: after a seq, or after the last event at or before a time. */
export type ReplayUntil = { readonly seq: number } | { readonly at: string | Date };

/**
 * Folds a ledger's log from the start up to a point and returns the state as it was then.
 * @throws {ChainIntegrityError} when the log does not verify up to that point.
 */
export async function replay(store: EventStore, fleetId: string, options: { readonly until?: ReplayUntil } = {}): Promise<LedgerState> {
  parseStreamId(fleetId);
  const until = options.until;
  const untilMs = until && "at" in until ? new Date(until.at).getTime() : undefined;
  if (untilMs !== undefined && Number.isNaN(untilMs)) throw new RangeError(`replay: not a time: ${String((until as { at: unknown }).at)}`);
  let state = initialLedgerState(fleetId);
  await followChain(store, fleetId, null, (envelope, hash) => {
    if (until && "seq" in until && envelope.seq > until.seq) return false;
    if (untilMs !== undefined && Date.parse(envelope.at) > untilMs) return false;
    state = evolve(state, envelope, hash);
    return undefined;
  });
  return state;
}
