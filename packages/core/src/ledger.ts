import { followChain, followRecords } from "./chain/follow.ts";
import { GENESIS_HASH } from "./chain/hash.ts";
import { ENVELOPE_VERSION, type Envelope, seal, sealedLineHead } from "./chain/seal.ts";
import { type VerificationReport, type VerifyOptions, verifyLog } from "./chain/verify.ts";
import {
  type Issue,
  isOpsledgerError,
  OutcomeNotRecordedError,
  PreconditionError,
  StoreIntegrityError,
  type UnrecordedOutcome,
} from "./errors.ts";
import { CANONICALIZATION, HASH_ALGORITHM, LOG_FORMAT, type NewEvent, validateEvent } from "./events/catalogue.ts";
import type { OperatorGovernance } from "./events/fleet-events.ts";
import { batchTrip } from "./fleet/autopause.ts";
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
import { haltReasons } from "./fleet/halt.ts";
import { evolve, forkLedgerState, initialLedgerState, type LedgerState } from "./fleet/ledger-state.ts";
import { sortedUnique } from "./fleet/order.ts";
import { computePlan, type Plan } from "./fleet/plan.ts";
import type { ReasonCode } from "./fleet/reason-codes.ts";
import type { FleetState } from "./fleet/state.ts";
import { decodeSnapshot, encodeSnapshot } from "./ledger-snapshot.ts";
import { type EvaluationDocument, evaluationDocument } from "./projections/evaluation.ts";
import { type Explanation, explain } from "./projections/explain.ts";
import { type FleetStatus, fleetStatus } from "./projections/status.ts";
import { ledgerOrigin, signCheckpoint } from "./proof/checkpoint.ts";
import { MerkleFrontier, recordLeaf } from "./proof/merkle.ts";
import { type NoteSigner, toBase64 } from "./proof/note.ts";
import type { EventStore, SealedRecord, StoredRecord, StreamHead } from "./store/event-store.ts";
import { parseStreamId } from "./store/stream-id.ts";
import {
  type Clock,
  DEFAULT_CONFLICT_BUDGET_MS,
  type IdGenerator,
  pacer,
  type RetryPolicy,
  retryWithBackoff,
  systemClock,
  ulidGenerator,
} from "./system.ts";

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

/**
 * Automatic checkpoints: after an append that takes the log across a multiple of `everyRecords`
 * records (1,000 by default), or the first append `everyMs` after the last checkpoint, the ledger
 * signs a checkpoint of its head and hands it to `publish`, which keeps it apart from the records
 * (a directory, another bucket, a transparency service). A failed publish never fails the command
 * that appended: `onError` hears of it, and the next append that is due tries again.
 */
export interface AutomaticCheckpoints {
  readonly signers: readonly NoteSigner[];
  readonly everyRecords?: number;
  readonly everyMs?: number;
  /** The origin line; defaults to `opsledger/<fleetId>`. */
  readonly origin?: string;
  publish(note: string, checkpoint: { readonly size: number; readonly rootHash: string }): Promise<void>;
  onError?(error: unknown): void;
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
} & (
  | { readonly mode: "autonomous" }
  | {
      readonly mode: "manual";
      readonly intentIds: readonly string[];
      readonly confirm: boolean;
      /** Run intents again that were already executed; without it they are refused. */
      readonly again?: boolean;
    }
);

// a unit of work on the ledger's state; every one runs inside the ledger's single pump
type Job =
  | {
      readonly kind: "command";
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

  // the Merkle tree's right edge, kept only when checkpoints are signed: O(log n) state
  const autoCheckpoints = options.checkpoints;
  let tree = MerkleFrontier.EMPTY;
  const grow = (hash: string): void => {
    if (autoCheckpoints) tree = tree.append(recordLeaf(hash));
  };
  const fold = (envelope: Envelope, hash: string): undefined => {
    state = evolve(state, envelope, hash);
    head = { seq: envelope.seq, hash };
    grow(hash);
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
      for await (const stored of store.snapshots(fleetId)) {
        const decoded = decodeSnapshot(stored, fleetId);
        if ("unusable" in decoded || (autoCheckpoints && !decoded.tree)) continue;
        const covered = decoded.state as LedgerState & { headHash: string };
        const coveredHead = { seq: covered.seq, hash: covered.headHash };
        const records = store.read(fleetId, { fromSeq: covered.seq })[Symbol.asyncIterator]();
        const first = await records.next();
        if (first.done || !isRecord(first.value, coveredHead)) {
          await records.return?.();
          continue;
        }
        state = covered;
        head = coveredHead;
        if (decoded.tree) tree = decoded.tree;
        snapshotSeq = covered.seq;
        version++;
        await followRecords({ [Symbol.asyncIterator]: () => records }, fleetId, { ...coveredHead, at: covered.lastEventAt }, fold);
        return;
      }
    } catch (error) {
      if (isOpsledgerError(error, "CHAIN_INTEGRITY")) throw error; // damage after the snapshot: a full fold would meet it too
      snapshots?.onError?.(error); // a store that cannot list snapshots still has its log
    }
  }
  async function snapshotIfDue(): Promise<void> {
    if (!snapshots || !head || head.seq - snapshotSeq < snapshotEvery) return;
    try {
      await store.putSnapshot(fleetId, encodeSnapshot(state, autoCheckpoints ? tree : undefined));
    } catch (error) {
      snapshots.onError?.(error);
    }
    snapshotSeq = head.seq; // a failed write is tried again a full interval later, not at every append
  }

  let published: { size: number; at: number } | undefined; // the last checkpoint this instance published (or the head it opened at)
  const everyRecords = autoCheckpoints?.everyRecords ?? 1000;
  async function checkpointIfDue(): Promise<void> {
    if (!autoCheckpoints || !published) return;
    const now = clock.now().getTime();
    const crossed = Math.floor(tree.size / everyRecords) > Math.floor(published.size / everyRecords);
    const late = autoCheckpoints.everyMs !== undefined && tree.size > published.size && now - published.at >= autoCheckpoints.everyMs;
    if (!crossed && !late) return;
    const root = tree.root();
    const checkpoint = { size: tree.size, rootHash: toBase64(root) };
    try {
      const origin = autoCheckpoints.origin ?? ledgerOrigin(fleetId);
      const note = await signCheckpoint({ origin, size: checkpoint.size, rootHash: root }, autoCheckpoints.signers);
      await autoCheckpoints.publish(note, checkpoint);
      published = { size: checkpoint.size, at: now };
    } catch (error) {
      autoCheckpoints.onError?.(error);
    }
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
  const command = <R>(decide: (state: LedgerState, now: Date) => Decision<R>, fact = false): Promise<R> =>
    enqueue<R>((resolve, reject) => ({ kind: "command", decide, fact, resolve: resolve as (v: unknown) => void, reject }));
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
    // the first checkpoint is due at the first boundary after the head this instance opened at
    if (autoCheckpoints) published ??= { size: tree.size, at: clock.now().getTime() };
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
              for (const record of attempt.records) grow(record.hash);
              version++;
            } else {
              for (const [index, envelope] of attempt.envelopes.entries()) fold(envelope, (attempt.records[index] as SealedRecord).hash);
            }
            // before the commands resolve, so a caller that saw its command done can find the checkpoint
            await checkpointIfDue();
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
        const events: NewEvent[] =
          work.seq === 0 && (decision.events.length > 0 || decision.create === true)
            ? [
                { type: "LedgerCreated", data: { fleetId, format: LOG_FORMAT, hash: HASH_ALGORITHM, canonicalization: CANONICALIZATION } },
                ...decision.events,
              ]
            : [...decision.events];
        const sealed = sealAll(events, now, running);
        for (const { record, envelope } of sealed) {
          records.push(record);
          envelopes.push(envelope);
          if (speculative) work = evolve(work, envelope, record.hash);
          running = { seq: record.seq, hash: record.hash };
        }
        settled.push({ job, ok: true, value: decision.result });
      } catch (error) {
        // one command's refusal or broken contract never fails the others of its batch
        settled.push({ job, ok: false, value: error });
      }
    }
    return { work, speculative, records, envelopes, settled, head: running };
  }

  // seals events on top of `from`; they are folded only once the append succeeded
  const sealAll = (events: readonly NewEvent[], now: Date, from: StreamHead | null): { record: SealedRecord; envelope: Envelope }[] => {
    const at = now.toISOString();
    let prevHash = from?.hash ?? GENESIS_HASH;
    let seq = from?.seq ?? 0;
    // validate every event first, so a refused event leaves nothing half-sealed
    const data = events.map((event) => validateEvent(event.type, event.data));
    return events.map((event, index) => {
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
        data: data[index] as Envelope["data"],
        prevHash,
      };
      const record = seal(envelope);
      prevHash = record.hash;
      return { record, envelope };
    });
  };

  const snapshotOf = (): LedgerState => {
    if (snapshot?.version !== version) snapshot = { version, state: forkLedgerState(state) };
    return snapshot.state;
  };

  // Records dispatch facts (outcomes, skips), and after them whatever `then` decides on the same
  // state (an auto-pause trip), in one append. The store being down is the caller's to handle,
  // with the facts in hand.
  const recordFacts = async (facts: readonly UnrecordedOutcome[], then?: (fleet: FleetState) => NewEvent[]): Promise<number> => {
    if (facts.length === 0) return 0;
    try {
      return await command((current) => {
        // an outcome already in the log (recorded by an earlier try) is not recorded twice
        const fresh = facts.filter((fact) => !alreadyRecorded(current.fleet, fact));
        return { events: [...(fresh as NewEvent[]), ...(then?.(current.fleet) ?? [])], result: fresh.length };
      }, true);
    } catch (error) {
      if (isOpsledgerError(error, "STREAM_CONFLICT") || !isOpsledgerError(error) || isOpsledgerError(error, "INVALID_EVENT")) throw error;
      throw new OutcomeNotRecordedError(facts, { cause: error });
    }
  };

  const ledger: Ledger = {
    fleetId,
    store,
    state: snapshotOf,
    head: () => head,
    refresh: () => read(() => snapshotOf()),
    execute: (decide) => command(decide),

    async init() {
      return command((current) => ({
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
    explain: (subject) => read((current) => explain(current.fleet, subject)),
    status: () => read((current, now) => fleetStatus(current, now)),
    plan: (planOptions) => read((current, now) => computePlan(current.fleet, now, planOptions?.traceId ?? null)),

    async dispatch(dispatchOptions) {
      const by = dispatchOptions.by ?? "unknown";
      const started = await runFleet((fleet, now) => {
        const traceId = dispatchOptions.traceId ?? fleet.evaluation?.data.traceId ?? null;
        const decision = decideDispatch(fleet, now, {
          mode: dispatchOptions.mode,
          ...(dispatchOptions.mode === "manual"
            ? { intentIds: dispatchOptions.intentIds, confirm: dispatchOptions.confirm, again: dispatchOptions.again === true }
            : {}),
          by,
          ...(dispatchOptions.note === undefined ? {} : { note: dispatchOptions.note }),
          traceId,
          batchId: ids.next(),
        });
        return { events: decision.events, result: (seq: number) => ({ started: decision.result(seq), traceId }) };
      });
      if (!started.started.ok) return started.started;
      const { traceId } = started;
      const { batch } = started.started;
      const autonomous = dispatchOptions.mode === "autonomous";
      const tracing = traceId ? { traceId } : {};
      const results: DispatchResultEntry[] = [];
      const skipped: { intentId: string; loopId: string; reasonCodes: readonly string[] }[] = [];
      for (const [index, intent] of batch.targets.entries()) {
        if (autonomous) {
          // halt means halt: the log as it is now (this process or any replica) decides whether this intent still goes
          const halt = await read((current) => haltReasons(current.fleet));
          if (halt.length > 0) {
            const rest = batch.targets.slice(index);
            await recordFacts(
              rest.map((t) => ({
                type: "DispatchSkipped" as const,
                data: { batchId: batch.batchId, intentId: t.intentId, instance: t.instance, reasonCodes: halt },
                actor: by,
                ...tracing,
              })),
            );
            for (const t of rest) skipped.push({ intentId: t.intentId, loopId: t.loopId, reasonCodes: halt });
            break;
          }
        }
        const { recorded: outcome, output } = await runDispatcher(dispatchOptions.dispatcher, intent, {
          traceId,
          timeoutMs: dispatchOptions.timeoutMs ?? 30_000,
          clock,
        });
        const data = { batchId: batch.batchId, intentId: intent.intentId, instance: intent.instance, ...outcome };
        results.push({
          intentId: intent.intentId,
          loopId: intent.loopId,
          status: outcome.status,
          reasonCode: outcome.reasonCode,
          confirmed: outcome.confirmed,
          transport: outcome.transport,
          ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
          ...(output === undefined ? {} : { output }),
        });
        // the batch's own outcomes may already be a spike: the latch trips with this outcome, so the next intent halts
        const statuses = results.map((r) => r.status);
        const tripIfSpiking = (fleet: FleetState): NewEvent[] => {
          const trip =
            autonomous && index < batch.targets.length - 1
              ? batchTrip(fleet.autoPause, fleet.policy?.registry.policy.autonomous.rollout.autoPause, batch.seq, statuses)
              : null;
          return trip ? [{ type: "AutoPauseTripped", data: trip, ...tracing }] : [];
        };
        await recordFacts([{ type: "DispatchCompleted", data, actor: by, ...tracing }], tripIfSpiking);
      }
      const after = await read((current, now) => computePlan(current.fleet, now, traceId));
      const count = (status: string) => results.filter((r) => r.status === status).length;
      const outcomeCodes: ReasonCode[] = [
        ...(count("executed") > 0 ? (["fleet_handoff_executed"] as const) : []),
        ...(count("ambiguous") > 0 ? (["fleet_handoff_execution_ambiguous"] as const) : []),
        ...(count("failed") > 0 ? (["fleet_handoff_execution_failed"] as const) : []),
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
        skippedCount: skipped.length,
        results,
        skipped,
        intents: after.intents,
        summary: after.summary,
        reasonCodes: sortedUnique([...after.reasonCodes, ...outcomeCodes, ...skipped.flatMap((s) => s.reasonCodes)]),
      };
    },

    recordOutcomes: async (outcomes) => ({ recorded: await recordFacts(outcomes) }),
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
    return command((current, now) => {
      const decision = decide(current.fleet, now);
      const firstSeq = current.seq + 1 + (current.seq === 0 && decision.events.length > 0 ? 1 : 0);
      return { events: decision.events, result: decision.result(firstSeq) };
    });
  }
  function operator(action: OperatorAction, governance: OperatorGovernance): Promise<OperatorResult> {
    return runFleet((fleet, now) => decideOperatorAction(fleet, action, governance, now));
  }

  if (snapshots) await restoreSnapshot();
  await catchUp();
  await snapshotIfDue();
  return ledger;
}

// true when this stored record is exactly the one at `covered` (read and hash-checked, never trusted)
function isRecord(record: StoredRecord, covered: StreamHead): boolean {
  const held = sealedLineHead(record.line);
  return record.seq === covered.seq && held?.seq === covered.seq && held.hash === covered.hash;
}

// true when the log already holds this outcome (or skip) of this batch's intent
function alreadyRecorded(fleet: FleetState, fact: UnrecordedOutcome): boolean {
  const { batchId, intentId } = fact.data;
  const batch = fleet.openBatches.get(batchId);
  if (batch) return batch.results.some((r) => r.intentId === intentId) || batch.skipped.some((s) => s.intentId === intentId);
  // a closed batch has every outcome; an unknown one cannot take any
  return true;
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
    if (untilMs !== undefined && Date.parse(envelope.at) > untilMs) return false;
    state = evolve(state, envelope, hash);
    // stop at the seq itself, so a replay to just before a damaged record never reads it
    return until && "seq" in until && envelope.seq >= until.seq ? false : undefined;
  });
  return state;
}
