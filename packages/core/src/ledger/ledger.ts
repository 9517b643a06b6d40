import { followChain, followRecords } from "../chain/follow.ts";
import type { Envelope } from "../chain/seal.ts";
import { type VerificationReport, type VerifyOptions, verifyLog } from "../chain/verify.ts";
import { type Issue, isOpsledgerError, OutcomeNotRecordedError, StoreIntegrityError, type UnrecordedOutcome } from "../errors.ts";
import type { OperatorGovernance } from "../events/fleet-events.ts";
import { sealEvents } from "../events/seal-events.ts";
import type { ApplyGovernance, ApplyResult, ObserveResult, OperatorResult } from "../fleet/commands.ts";
import { decide, type FleetCommand, type FleetCommandResults, withCreation } from "../fleet/decide.ts";
import { type Decision, isRejected } from "../fleet/decision.ts";
import type { DispatchBatch } from "../fleet/dispatch-commands.ts";
import { haltReasons } from "../fleet/halt.ts";
import { evolve, forkLedgerState, initialLedgerState, type LedgerState } from "../fleet/ledger-state.ts";
import { computePlan, type Plan } from "../fleet/plan.ts";
import { type EvaluationDocument, evaluationDocument } from "../projections/evaluation.ts";
import { type Explanation, explain } from "../projections/explain.ts";
import { type FleetStatus, fleetStatus } from "../projections/status.ts";
import type { EventStore, SealedRecord, StreamHead } from "../store/event-store.ts";
import { parseStreamId } from "../store/stream-id.ts";
import {
  type Clock,
  DEFAULT_CONFLICT_BUDGET_MS,
  type IdGenerator,
  pacer,
  type RetryPolicy,
  retryWithBackoff,
  systemClock,
  ulidGenerator,
} from "../system.ts";
import { type AutomaticCheckpoints, CheckpointSchedule } from "./checkpoints.ts";
import { type BatchLedger, type DispatchOptions, dispatchBatch } from "./dispatch-batch.ts";
import { type Outcome, orErrors, resultOf } from "./outcome.ts";
import { encodeSnapshot, usableSnapshot } from "./snapshots.ts";

export type { AutomaticCheckpoints } from "./checkpoints.ts";
export type { DispatchOptions } from "./dispatch-batch.ts";
export { type ReplayUntil, replay } from "./replay.ts";

/** Options of `openLedger`. */
export interface LedgerOptions {
  readonly store: EventStore;
  /** The fleet, which is also the stream id; defaults to `"default"`. */
  readonly fleetId?: string;
  /** Defaults to the wall clock; tests and replays pass a fixed one. */
  readonly clock?: Clock;
  /** Defaults to monotonic ULIDs; tests pass a deterministic generator. */
  readonly ids?: IdGenerator;
  /**
   * How commands that lose a race to another instance or process are retried: re-read, re-decide,
   * exponential backoff with full jitter, for at most `budgetMs` (60 s by default) in all.
   */
  readonly retry?: RetryPolicy;
  /** Signs and publishes checkpoints as the log grows (see `AutomaticCheckpoints`). */
  readonly checkpoints?: AutomaticCheckpoints;
  /** Snapshots of the fold, so opening does not re-fold all history (see `Snapshots`); on by default, `false` turns them off. */
  readonly snapshots?: Snapshots | false;
}

/**
 * Snapshots of the fold, kept by the store (`putSnapshot`): a ledger opens from the newest one
 * whose covered record is the record the log holds at that seq, and folds only what follows.
 * A cache, never an authority (`verifySnapshots` checks them against a full fold). A ledger
 * writes one whenever it has folded `everyRecords` records (1,000 by default) past the last
 * one, on opening or after an append, before the command that crossed the mark resolves. A
 * failed write never fails anything: `onError` hears of it, and the next mark tries again.
 */
export interface Snapshots {
  readonly everyRecords?: number;
  onError?(error: unknown): void;
}

/** A ledger bound to one fleet's stream: commands decide on folded state and append with optimistic concurrency. */
export interface Ledger {
  readonly fleetId: string;
  readonly store: EventStore;
  /**
   * The folded state as of the last command or read of this instance: a snapshot that never
   * changes after it is returned (later commands fold into a new one). `refresh()` for the log as it is now.
   */
  state(): LedgerState;
  /** The last folded record, or null for an empty ledger. */
  head(): StreamHead | null;
  /** Folds what other writers appended since the last look, and returns the state (a snapshot, as `state()`). */
  refresh(): Promise<LedgerState>;
  /** Writes `LedgerCreated` if the ledger is empty; true when it did. */
  init(): Promise<{ readonly created: boolean; readonly seq: number }>;
  /**
   * Runs a command: decide on the folded state → seal → append at the folded head → fold.
   * Commands on one instance run one after another, each on the state the ones before it left;
   * those that queue up while an append is in flight are decided in turn and appended together
   * (group commit). When another writer got there first, every command of the batch is re-decided
   * on the fresh state, with backoff, within the retry budget.
   * @throws {StreamConflictError} when the budget ran out and the command never won its race.
   * @throws {InvalidEventError} when `decide` returns an event the catalogue refuses.
   * @throws {PreconditionError} when `decide` returns a rejection (its messages, joined).
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
  /** Engages the operator kill switch: autonomy stops at the next evaluation, the next dispatch and the next intent of a running batch. */
  engageKillSwitch(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Releases the operator kill switch (a registry `safety.killSwitch: true` still holds). */
  releaseKillSwitch(governance: OperatorGovernance): Promise<OperatorResult>;
  /** Pauses the rollout (as `pause.manual`), audited; a running autonomous batch halts before its next intent. */
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
  /** Why each candidate of a loop, candidate or intent is suppressed, manual-only or eligible, for the log as it is now. */
  explain(subject: string): Promise<Explanation>;
  /** The fleet status document (reference §6, superloop-compatible) for the log as it is now, at the ledger's clock. */
  status(): Promise<FleetStatus>;
  /** The current intent plan (reference §3.6), every gate re-checked at the ledger's clock on the log as it is now; nothing is written. */
  plan(options?: { readonly traceId?: string }): Promise<Plan>;
  /**
   * Dispatches intents: `DispatchRequested` is appended before any dispatcher call and
   * `DispatchCompleted` after each, so a crash in between leaves the intent visibly in flight.
   * Autonomous mode re-checks every gate and rail now, never dispatches an instance twice, and
   * re-reads the log before every intent: once the kill switch, a rollout pause or the auto-pause
   * latch holds (set by anyone, or tripped by this batch's own outcomes), the rest of the batch is
   * recorded `DispatchSkipped` and stays pending. Manual mode needs `confirm: true` and explicit
   * intent ids and is always open to operators.
   * @throws {OutcomeNotRecordedError} when the store is unavailable for an outcome (it carries the outcomes: see `recordOutcomes`).
   */
  dispatch(options: DispatchOptions): Promise<DispatchBatch>;
  /**
   * Records outcomes a dispatch could not (`OutcomeNotRecordedError.outcomes`), once the store is
   * back. An outcome already in the log is not recorded twice. Resolves with how many were written.
   */
  recordOutcomes(outcomes: readonly UnrecordedOutcome[]): Promise<{ readonly recorded: number }>;
  /** Clears the retry guard of an ambiguous, failed or in-flight intent: the next instance is a fresh intent. */
  acknowledgeIntent(
    intentId: string,
    options: { readonly by: string; readonly note?: string },
  ): Promise<{ ok: true; seq: number } | { ok: false; errors: readonly Issue[] }>;
}

// a unit of work on the ledger's state; every one runs inside the ledger's single pump
type Job =
  | {
      readonly kind: "command";
      // settles with { result } or { rejected }: a rejection is an answer, not a failure
      readonly decide: (state: LedgerState, now: Date) => Decision<unknown>;
      /** A fact (a dispatch outcome) is never refused for a race: it is re-sealed and appended until recorded. */
      readonly fact: boolean;
      readonly resolve: (result: unknown) => void;
      readonly reject: (error: unknown) => void;
    }
  | {
      readonly kind: "read";
      readonly read: (state: LedgerState, now: Date) => unknown;
      readonly resolve: (result: unknown) => void;
      readonly reject: (error: unknown) => void;
    };
type CommandJob = Extract<Job, { kind: "command" }>;

// what one attempt at a batch of commands decided
interface Attempt {
  readonly work: LedgerState;
  readonly speculative: boolean;
  readonly records: SealedRecord[];
  readonly envelopes: Envelope[];
  readonly settled: { readonly job: CommandJob; readonly ok: boolean; readonly value: unknown }[];
  readonly head: StreamHead | null;
}

const laterOf = (clock: Date, lastAt: string | null): Date => {
  if (lastAt === null) return clock;
  const last = Date.parse(lastAt);
  return clock.getTime() >= last ? clock : new Date(last);
};

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
  const retry = options.retry ?? {};
  const budgetMs = retry.budgetMs ?? DEFAULT_CONFLICT_BUDGET_MS;
  const pace = pacer();

  // The committed state: what the log holds up to `head`. Only the pump changes it.
  let state = initialLedgerState(fleetId);
  let head: StreamHead | null = null;
  let version = 0; // bumps on every fold, so `state()` knows when its snapshot is stale
  let snapshot: { version: number; state: LedgerState } | undefined;

  const checkpoints = new CheckpointSchedule(options.checkpoints, fleetId, clock);
  const fold = (envelope: Envelope, hash: string): undefined => {
    state = evolve(state, envelope, hash);
    head = { seq: envelope.seq, hash };
    checkpoints.grow(hash);
    version++;
    return undefined;
  };
  const snapshots = options.snapshots === false ? undefined : (options.snapshots ?? {});
  const snapshotEvery = snapshots?.everyRecords ?? 1000;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1)
    throw new RangeError(`snapshots.everyRecords must be a positive integer, got ${snapshotEvery}`);
  let snapshotSeq = 0; // the seq of the snapshot this instance opened from or last wrote
  // Starts from the newest stored snapshot this ledger can use (its digest and fold version hold,
  // it has the Merkle frontier if checkpoints are signed) whose covered record is the record the
  // log holds at its seq, and folds what follows in the same read.
  async function restoreSnapshot(): Promise<void> {
    try {
      const found = await usableSnapshot(store, fleetId, checkpoints.config !== undefined);
      if (!found) return;
      state = found.state;
      head = found.head;
      if (found.tree) checkpoints.restore(found.tree);
      snapshotSeq = found.head.seq;
      version++;
      await followRecords(found.rest, fleetId, { ...found.head, at: found.state.lastEventAt }, fold);
    } catch (error) {
      if (isOpsledgerError(error, "CHAIN_INTEGRITY")) throw error; // damage after the snapshot: a full fold would meet it too
      snapshots?.onError?.(error); // a store that cannot list snapshots still has its log
    }
  }
  async function snapshotIfDue(): Promise<void> {
    if (!snapshots || !head || head.seq - snapshotSeq < snapshotEvery) return;
    try {
      await store.putSnapshot(fleetId, encodeSnapshot(state, checkpoints.frontier));
    } catch (error) {
      snapshots.onError?.(error);
    }
    snapshotSeq = head.seq; // a failed write is tried again a full interval later, not at every append
  }

  // one head check; folds whatever other writers appended since. After a lost race the head is
  // known to have moved: read on from ours without asking for it first (one round trip less for
  // the writer that must catch up, which keeps it in the race).
  const catchUp = async (afterConflict = false): Promise<void> => {
    const follow = async () => {
      const before = head?.seq ?? 0;
      await followChain(store, fleetId, head && { ...head, at: state.lastEventAt }, fold);
      if ((head?.seq ?? 0) > before) pace.sawRival();
    };
    if (afterConflict) {
      await follow();
      return;
    }
    const stored = await store.head(fleetId);
    const storedSeq = stored?.seq ?? 0;
    const knownSeq = head?.seq ?? 0;
    if (storedSeq < knownSeq || (stored && storedSeq === knownSeq && stored.hash !== head?.hash)) {
      const what = storedSeq < knownSeq ? `went back from seq ${knownSeq} to ${storedSeq}` : `changed the record at seq ${knownSeq}`;
      throw new StoreIntegrityError(fleetId, storedSeq, undefined, `the store's head ${what}`);
    }
    if (storedSeq > knownSeq) await follow();
  };

  // The pump: every job on this instance runs here, one batch at a time, so state is folded once
  // and every command is decided on the state the ones before it left.
  const queue: Job[] = [];
  let pumping = false;
  const enqueue = <T>(job: (resolve: (value: T) => void, reject: (error: unknown) => void) => Job): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(job(resolve as (value: T) => void, reject));
      if (!pumping) {
        pumping = true;
        // started on the next microtask, so calls made in the same tick share the first batch
        queueMicrotask(() => void pump());
      }
    });
  const command = <R>(decideOn: (state: LedgerState, now: Date) => Decision<R>, fact = false): Promise<Outcome<R>> =>
    enqueue<Outcome<R>>((resolve, reject) => ({
      kind: "command",
      decide: decideOn,
      fact,
      resolve: resolve as (v: unknown) => void,
      reject,
    }));
  const read = <R>(view: (state: LedgerState, now: Date) => R): Promise<R> =>
    enqueue<R>((resolve, reject) => ({ kind: "read", read: view, resolve: resolve as (v: unknown) => void, reject }));

  async function pump(): Promise<void> {
    try {
      while (queue.length > 0) await runBatch(queue.splice(0));
    } finally {
      pumping = false;
    }
  }

  async function runBatch(jobs: Job[]): Promise<void> {
    try {
      if (jobs.some((job) => job.kind === "command")) await pace.turn();
      await catchUp();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    const commands: CommandJob[] = [];
    for (const job of jobs) {
      if (job.kind === "command") {
        commands.push(job);
        continue;
      }
      try {
        job.resolve(job.read(state, laterOf(clock.now(), state.lastEventAt)));
      } catch (error) {
        job.reject(error);
      }
    }
    if (commands.length > 0) await runCommands(commands);
  }

  async function runCommands(commands: CommandJob[]): Promise<void> {
    checkpoints.startWriting();
    let pending = commands;
    let first = true;
    let attemptStarted = 0; // of the attempt under way, for the pacer's timing
    try {
      await retryWithBackoff(
        async () => {
          attemptStarted = pace.now();
          if (!first) await catchUp(true);
          first = false;
          const attempt = decideAll(pending);
          if (attempt.records.length > 0) {
            await store.append({
              streamId: fleetId,
              expectedSeq: head?.seq ?? 0,
              records: attempt.records as [SealedRecord, ...SealedRecord[]],
            });
            pace.attempted(pace.now() - attemptStarted, true);
            if (attempt.speculative) {
              state = attempt.work;
              head = attempt.head;
              for (const record of attempt.records) checkpoints.grow(record.hash);
              version++;
            } else {
              for (const [index, envelope] of attempt.envelopes.entries()) fold(envelope, (attempt.records[index] as SealedRecord).hash);
            }
            // before the commands resolve, so a caller that saw its command done can find the checkpoint
            await checkpoints.publishIfDue();
            await snapshotIfDue();
          }
          for (const { job, ok, value } of attempt.settled) ok ? job.resolve(value) : job.reject(value);
        },
        pace.backoff(retry),
        (error, elapsedMs) => {
          if (!isOpsledgerError(error, "STREAM_CONFLICT")) return false;
          pace.attempted(pace.now() - attemptStarted, false);
          if (elapsedMs < budgetMs) return true;
          // out of budget: commands give up, facts stay until recorded
          for (const job of pending) if (!job.fact) job.reject(error);
          pending = pending.filter((job) => job.fact);
          return pending.length > 0;
        },
      );
    } catch (error) {
      for (const job of pending) job.reject(error);
    }
  }

  // decides each command in turn on the state the ones before it left, and seals their events on one head
  function decideAll(commands: readonly CommandJob[]): Attempt {
    // with more than one command, later ones need the earlier ones' events folded: fold into a
    // fork, which becomes the state only once the append succeeded
    const speculative = commands.length > 1;
    let work = speculative ? forkLedgerState(state) : state;
    let running = head;
    const records: SealedRecord[] = [];
    const envelopes: Envelope[] = [];
    const settled: Attempt["settled"][number][] = [];
    for (const job of commands) {
      try {
        const now = laterOf(clock.now(), work.lastEventAt);
        const decision = job.decide(work, now);
        if (isRejected(decision)) {
          settled.push({ job, ok: true, value: decision });
          continue;
        }
        // sealed on the running head; folded only once the append succeeded
        const sealed = sealEvents(decision.events, { ledger: fleetId, after: running, at: now.toISOString(), nextId: () => ids.next() });
        for (const { record, envelope } of sealed) {
          records.push(record);
          envelopes.push(envelope);
          if (speculative) work = evolve(work, envelope, record.hash);
          running = { seq: record.seq, hash: record.hash };
        }
        settled.push({ job, ok: true, value: { result: decision.result } });
      } catch (error) {
        // one command's refusal or broken contract never fails the others of its batch
        settled.push({ job, ok: false, value: error });
      }
    }
    return { work, speculative, records, envelopes, settled, head: running };
  }

  const snapshotOf = (): LedgerState => {
    if (snapshot?.version !== version) snapshot = { version, state: forkLedgerState(state) };
    return snapshot.state;
  };

  // runs a command of the decider; resolves with its result or its rejection
  const run = <C extends FleetCommand>(fleetCommand: C, fact = false) =>
    command<FleetCommandResults[C["type"]]>((current, now) => decide(fleetCommand, current, { now, newId: () => ids.next() }), fact);
  const answer = async <C extends FleetCommand>(fleetCommand: C) => orErrors(await run(fleetCommand));
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    value === undefined ? {} : ({ [key]: value } as { [P in K]: V });

  // Records dispatch facts (outcomes, skips) in one append, with an auto-pause trip their batch's
  // outcomes may bring. The store being down is the caller's to handle, with the facts in hand.
  const recordFacts: BatchLedger["recordFacts"] = async (outcomes, tripCheck) => {
    if (outcomes.length === 0) return 0;
    try {
      return resultOf(await run({ type: "RecordOutcomes", outcomes, ...optional("tripCheck", tripCheck) }, true)).recorded;
    } catch (error) {
      if (isOpsledgerError(error, "STREAM_CONFLICT") || !isOpsledgerError(error) || isOpsledgerError(error, "INVALID_EVENT")) throw error;
      throw new OutcomeNotRecordedError(outcomes, { cause: error });
    }
  };
  const batchLedger: BatchLedger = {
    clock,
    request: (requestCommand) => run(requestCommand),
    haltReasons: () => read((current) => haltReasons(current.fleet)),
    recordFacts,
    plan: (traceId) => read((current, now) => computePlan(current.fleet, now, traceId)),
  };

  const ledger: Ledger = {
    fleetId,
    store,
    state: snapshotOf,
    head: () => head,
    refresh: () => read(() => snapshotOf()),
    execute: async (custom) =>
      resultOf(
        await command((current, now) => {
          const decision = custom(current, now);
          return isRejected(decision)
            ? decision
            : { ...decision, events: withCreation(current, decision.events, decision.create === true) };
        }),
      ),
    verify: (verifyOptions?: VerifyOptions) => verifyLog(store, fleetId, verifyOptions),

    // each command method builds its command and shapes the answer
    init: async () => resultOf(await run({ type: "CreateLedger" })),
    applyRegistry: (registry, applyOptions) =>
      answer({ type: "ApplyRegistry", registry, ...optional("governance", applyOptions?.governance) }),
    engageKillSwitch: (governance) => answer({ type: "EngageKillSwitch", governance }),
    releaseKillSwitch: (governance) => answer({ type: "ReleaseKillSwitch", governance }),
    pauseRollout: (governance) => answer({ type: "PauseRollout", governance }),
    resumeRollout: (governance) => answer({ type: "ResumeRollout", governance }),
    resumeAutoPause: (governance) => answer({ type: "ResumeAutoPause", governance }),
    observe: (fleetState, observeOptions) => answer({ type: "Observe", fleetState, ...optional("traceId", observeOptions?.traceId) }),
    async evaluate(evaluateOptions) {
      const { evaluation, registry, seq, at } = resultOf(await run({ type: "Evaluate", ...optional("traceId", evaluateOptions?.traceId) }));
      return evaluationDocument(evaluation, registry, seq, at);
    },
    acknowledgeIntent: (intentId, ackOptions) =>
      answer({ type: "AcknowledgeIntent", intentId, by: ackOptions.by, ...optional("note", ackOptions.note) }),
    recordOutcomes: async (outcomes) => ({ recorded: await recordFacts(outcomes) }),
    dispatch: (dispatchOptions) => dispatchBatch(batchLedger, dispatchOptions),

    // reads: on the log as it is now, at the ledger's clock
    explain: (subject) => read((current) => explain(current.fleet, subject)),
    status: () => read((current, now) => fleetStatus(current, now)),
    plan: (planOptions) => read((current, now) => computePlan(current.fleet, now, planOptions?.traceId ?? null)),
  };

  if (snapshots) await restoreSnapshot();
  await catchUp();
  await snapshotIfDue();
  return ledger;
}
