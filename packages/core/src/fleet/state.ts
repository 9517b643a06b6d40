import type { Envelope } from "../chain/seal.ts";
import type { Registry } from "../contract/normalized-registry.ts";
import { CATEGORIES, type Category, resultCategories } from "../contract/taxonomy.ts";
import { type FleetEvent, fleetEvent } from "../events/catalogue.ts";
import type {
  DispatchCompleted,
  DispatchRequested,
  DispatchSkipped,
  FleetObserved,
  PolicyApplied,
  PolicyEvaluated,
  RecordedOperatorGovernance,
} from "../events/fleet-events.ts";
import { type AutoPauseState, batchOutcome, latchResumed, latchTripped, windowWith } from "./autopause.ts";

/** The registry in force and how it came to be. */
export interface AppliedPolicy {
  readonly registry: Registry;
  readonly hash: string;
  readonly seq: number;
  readonly at: string;
  readonly change: PolicyApplied["change"];
  readonly governance: PolicyApplied["governance"];
  readonly actor: string | undefined;
}

/** An operator latch (kill switch, rollout pause) and who set it. */
export interface OperatorLatch {
  readonly active: boolean;
  readonly at: string | null;
  readonly seq: number | null;
  readonly governance: RecordedOperatorGovernance | null;
}

/** A candidate's current instance: a new one opens when the candidate reappears after it was gone. */
export interface CandidateInstance {
  readonly instance: number;
  readonly open: boolean;
  /** The observation that opened it (its trace id, or `seq-<n>`): part of the stable idempotency key. */
  readonly openedBy: string;
}

/** The last dispatch of an intent: which instance, and how it ended (or that it is still in flight). */
export interface IntentRecord {
  readonly intentId: string;
  readonly candidateId: string;
  readonly loopId: string;
  readonly instance: number;
  readonly status: "in_flight" | "executed" | "execution_ambiguous" | "execution_failed";
  readonly mode: "autonomous" | "manual";
  readonly batchId: string;
  readonly requestedAt: string;
  readonly requestedBy: string;
  readonly idempotencyKey: string;
  readonly outcome: {
    readonly reasonCode: string;
    readonly confirmed: boolean;
    readonly transport: string | null;
    readonly at: string;
  } | null;
}

/** One dispatch batch and the outcomes recorded so far. */
export interface BatchRecord {
  readonly batchId: string;
  readonly seq: number;
  readonly mode: "autonomous" | "manual";
  readonly by: string;
  readonly requestedAt: string;
  readonly completedAt: string | null;
  readonly intents: readonly { readonly intentId: string; readonly transport: "local" | "sprite_service" }[];
  readonly results: readonly {
    readonly intentId: string;
    readonly status: DispatchCompleted["status"];
    readonly reasonCode: string;
    readonly confirmed: boolean;
  }[];
  /** Intents not dispatched because autonomy was halted mid-batch, with why. */
  readonly skipped: readonly { readonly intentId: string; readonly reasonCodes: readonly string[] }[];
}

/** Cumulative outcome counts of one dispatch mode. */
export interface OutcomeTotals {
  readonly batches: number;
  readonly attempted: number;
  readonly executed: number;
  readonly ambiguous: number;
  readonly failed: number;
}

/** When each of a loop's candidates last did something, by category (ISO times). */
export type TimesByCategory = Readonly<Partial<Record<Category, string>>>;

/**
 * The fleet as the log says it is. Grows with loops and candidates, never with the number of
 * events: every map is keyed by loop, candidate or intent, the dispatch window is bounded.
 */
export interface FleetState {
  readonly policy: AppliedPolicy | null;
  readonly killSwitch: OperatorLatch;
  readonly rolloutPause: OperatorLatch;
  readonly observation: { readonly seq: number; readonly at: string; readonly data: FleetObserved } | null;
  readonly evaluation: { readonly seq: number; readonly at: string; readonly data: PolicyEvaluated } | null;
  /** loopId → category → when that candidate was last evaluated unsuppressed (advisory dedupe). */
  readonly lastUnsuppressedAt: ReadonlyMap<string, TimesByCategory>;
  /** loopId → category → when that candidate was last dispatched autonomously (the autonomous cooldown starts at dispatch). */
  readonly lastDispatchedAt: ReadonlyMap<string, TimesByCategory>;
  /** candidateId → its current instance. */
  readonly instances: ReadonlyMap<string, CandidateInstance>;
  /** The auto-pause window and latch (autopause.ts). */
  readonly autoPause: AutoPauseState;
  /** intentId → its last dispatch. */
  readonly intents: ReadonlyMap<string, IntentRecord>;
  /** Batches still waiting for outcomes (a crash leaves one here), by batch id. */
  readonly openBatches: ReadonlyMap<string, BatchRecord>;
  /** The latest batch of any mode, and the latest autonomous one (the reference's outcome rollup). */
  readonly lastBatch: BatchRecord | null;
  readonly lastAutonomousBatch: BatchRecord | null;
  readonly outcomeTotals: { readonly autonomous: OutcomeTotals; readonly manual: OutcomeTotals };
  /** The last run of each drill. */
  readonly drills: ReadonlyMap<string, { readonly status: "pass" | "fail"; readonly completedAt: string; readonly seq: number }>;
}

/** The stable idempotency key of an intent instance, in the reference's slug format (§3.6 step 6). */
export function idempotencyKey(parts: readonly string[]): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, "-")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "");
  return parts
    .map(slug)
    .filter((part) => part !== "")
    .join("-");
}

const NO_LATCH: OperatorLatch = { active: false, at: null, seq: null, governance: null };

/** A fresh, empty fleet state (its maps are owned by the fold that starts from it). */
export const initialFleetState = (): FleetState => ({
  policy: null,
  killSwitch: NO_LATCH,
  rolloutPause: NO_LATCH,
  observation: null,
  evaluation: null,
  lastUnsuppressedAt: new Map(),
  lastDispatchedAt: new Map(),
  instances: new Map(),
  autoPause: { window: [], latch: null },
  intents: new Map(),
  openBatches: new Map(),
  lastBatch: null,
  lastAutonomousBatch: null,
  outcomeTotals: { autonomous: emptyTotals(), manual: emptyTotals() },
  drills: new Map(),
});

function emptyTotals(): OutcomeTotals {
  return { batches: 0, attempted: 0, executed: 0, ambiguous: 0, failed: 0 };
}

const INTENT_STATUS = { executed: "executed", ambiguous: "execution_ambiguous", failed: "execution_failed" } as const;

/** The candidate ids an observation implies (taxonomy v1): failed → reconcile_failed; critical/degraded health. */
export function observedCandidateIds(observation: FleetObserved): string[] {
  const ids: string[] = [];
  for (const result of observation.results) {
    for (const category of resultCategories(result)) ids.push(`${result.loopId}:${category}`);
  }
  return ids;
}

// The maps of a fleet state belong to the fold: evolve updates them in place, so a dispatch event
// costs O(1) whatever the fleet's size. A state is therefore superseded by the one evolve returns;
// never evolve the same state twice (replay, the ledger and verifyDecisions all fold forward).
const owned = <K, V>(map: ReadonlyMap<K, V>): Map<K, V> => map as Map<K, V>;
// a candidate's time, kept under its loop: the loop's entry is replaced, never edited, so a fork
// of the state (which copies the maps, not their values) never sees a later stamp
const stamp = (times: Map<string, TimesByCategory>, loopId: string, category: Category, at: string): void => {
  const loopTimes = times.get(loopId);
  times.set(loopId, loopTimes ? { ...loopTimes, [category]: at } : { [category]: at });
};
// the same ownership for the state object itself: an event updates its fields in place
const update = (state: FleetState, changes: Partial<FleetState>): FleetState =>
  Object.assign(state as { -readonly [K in keyof FleetState]: FleetState[K] }, changes);

/**
 * A copy of a fleet state that later folds of either copy do not change: the maps are copied, their
 * values (never edited in place by the fold) are shared. O(loops + intents), no deep copy.
 */
export function forkFleetState(state: FleetState): FleetState {
  return {
    ...state,
    lastUnsuppressedAt: new Map(state.lastUnsuppressedAt),
    lastDispatchedAt: new Map(state.lastDispatchedAt),
    instances: new Map(state.instances),
    intents: new Map(state.intents),
    openBatches: new Map(state.openBatches),
    drills: new Map(state.drills),
  };
}

const latch = (
  event: Extract<FleetEvent, { type: "KillSwitchEngaged" | "KillSwitchReleased" | "RolloutPaused" | "RolloutResumed" }>,
  active: boolean,
): OperatorLatch => ({ active, at: event.at, seq: event.seq, governance: event.data.governance });

/**
 * Folds one event into the fleet state: the same log always folds to the same state. The state's
 * maps are updated in place (see `owned`), so memory and time per event stay constant.
 */
export function evolveFleet(state: FleetState, envelope: Envelope): FleetState {
  const event = fleetEvent(envelope);
  switch (event.type) {
    case "PolicyApplied": {
      const data = event.data;
      const policy: AppliedPolicy = {
        registry: data.registry,
        hash: data.policyHash,
        seq: envelope.seq,
        at: envelope.at,
        change: data.change,
        governance: data.governance,
        actor: envelope.actor,
      };
      return update(state, { policy });
    }
    case "KillSwitchEngaged":
      return update(state, { killSwitch: latch(event, true) });
    case "KillSwitchReleased":
      return update(state, { killSwitch: latch(event, false) });
    case "RolloutPaused":
      return update(state, { rolloutPause: latch(event, true) });
    case "RolloutResumed":
      return update(state, { rolloutPause: latch(event, false) });
    case "FleetObserved": {
      const data = event.data;
      const active = new Set(observedCandidateIds(data));
      const instances = owned(state.instances);
      const openedBy = data.traceId ?? `seq-${envelope.seq}`;
      // only a loop that was observed can be seen healthy: its other candidates' instances close
      for (const result of data.results) {
        for (const category of CATEGORIES) {
          const candidateId = `${result.loopId}:${category}`;
          const current = instances.get(candidateId);
          if (current?.open && !active.has(candidateId)) instances.set(candidateId, { ...current, open: false });
        }
      }
      for (const candidateId of active) {
        const current = instances.get(candidateId);
        if (!current?.open) instances.set(candidateId, { instance: (current?.instance ?? 0) + 1, open: true, openedBy });
      }
      return update(state, { observation: { seq: envelope.seq, at: envelope.at, data }, instances });
    }
    case "PolicyEvaluated": {
      const data = event.data;
      const lastUnsuppressedAt = owned(state.lastUnsuppressedAt);
      for (const candidate of data.candidates)
        if (!candidate.suppressed) stamp(lastUnsuppressedAt, candidate.loopId, candidate.category, envelope.at);
      return update(state, { evaluation: { seq: envelope.seq, at: envelope.at, data }, lastUnsuppressedAt });
    }
    case "AutoPauseTripped":
      return update(state, {
        autoPause: latchTripped(state.autoPause, envelope.seq, envelope.at, event.data),
      });
    case "AutoPauseResumed":
      return update(state, { autoPause: latchResumed() });
    case "DispatchRequested":
      return requested(state, envelope, event.data);
    case "DispatchCompleted":
      return completed(state, envelope, event.data);
    case "DispatchSkipped":
      return skipped(state, envelope, event.data);
    case "IntentAcknowledged": {
      const data = event.data;
      const record = state.intents.get(data.intentId);
      const candidateId = record?.candidateId ?? data.intentId.slice(0, data.intentId.lastIndexOf(":"));
      const current = state.instances.get(candidateId);
      // the operator closed this instance: the next one is a fresh intent (new key, no guard)
      const instances = owned(state.instances);
      instances.set(candidateId, {
        instance: Math.max(current?.instance ?? 0, data.instance) + 1,
        open: current?.open ?? false,
        openedBy: `ack-${envelope.seq}`,
      });
      return update(state, { instances });
    }
    case "DrillRecorded": {
      const data = event.data;
      const drills = owned(state.drills);
      drills.set(data.drillId, { status: data.status, completedAt: data.completedAt, seq: envelope.seq });
      return update(state, { drills });
    }
    default:
      return state;
  }
}

function requested(state: FleetState, envelope: Envelope, data: DispatchRequested): FleetState {
  const intents = owned(state.intents);
  const lastDispatchedAt = owned(state.lastDispatchedAt);
  for (const planned of data.intents) {
    intents.set(planned.intentId, {
      intentId: planned.intentId,
      candidateId: planned.candidateId,
      loopId: planned.loopId,
      instance: planned.instance,
      status: "in_flight",
      mode: data.mode,
      batchId: data.batchId,
      requestedAt: envelope.at,
      requestedBy: data.by,
      idempotencyKey: planned.idempotencyKey,
      outcome: null,
    });
    // the autonomous cooldown starts at dispatch (the reference started it at classification)
    if (data.mode === "autonomous") stamp(lastDispatchedAt, planned.loopId, planned.category, envelope.at);
  }
  const batch: BatchRecord = {
    batchId: data.batchId,
    seq: envelope.seq,
    mode: data.mode,
    by: data.by,
    requestedAt: envelope.at,
    completedAt: data.intents.length === 0 ? envelope.at : null,
    intents: data.intents.map((i) => ({ intentId: i.intentId, transport: i.transport })),
    results: [],
    skipped: [],
  };
  const openBatches = owned(state.openBatches);
  if (data.intents.length > 0) openBatches.set(data.batchId, batch);
  const totals = state.outcomeTotals[data.mode];
  return update(state, {
    intents,
    lastDispatchedAt,
    openBatches,
    lastBatch: batch,
    lastAutonomousBatch: data.mode === "autonomous" ? batch : state.lastAutonomousBatch,
    outcomeTotals: {
      ...state.outcomeTotals,
      [data.mode]: { ...totals, batches: totals.batches + 1, attempted: totals.attempted + data.intents.length },
    },
  });
}

function completed(state: FleetState, envelope: Envelope, data: DispatchCompleted): FleetState {
  const batch = state.openBatches.get(data.batchId);
  const record = state.intents.get(data.intentId);
  const intents = owned(state.intents);
  if (record && record.batchId === data.batchId) {
    intents.set(data.intentId, {
      ...record,
      status: INTENT_STATUS[data.status],
      outcome: { reasonCode: data.reasonCode, confirmed: data.confirmed, transport: data.transport, at: envelope.at },
    });
  }
  if (!batch) return update(state, { intents });
  const results = [
    ...batch.results,
    { intentId: data.intentId, status: data.status, reasonCode: data.reasonCode, confirmed: data.confirmed },
  ];
  const totals = state.outcomeTotals[batch.mode];
  const key = data.status;
  return update(progressed(state, envelope, { ...batch, results }), {
    intents,
    outcomeTotals: { ...state.outcomeTotals, [batch.mode]: { ...totals, [key]: totals[key] + 1 } },
  });
}

function skipped(state: FleetState, envelope: Envelope, data: DispatchSkipped): FleetState {
  const batch = state.openBatches.get(data.batchId);
  const record = state.intents.get(data.intentId);
  const intents = owned(state.intents);
  // never dispatched: the intent is pending again, as if this batch had not named it
  if (record && record.batchId === data.batchId && record.status === "in_flight") intents.delete(data.intentId);
  if (!batch) return update(state, { intents });
  const totals = state.outcomeTotals[batch.mode];
  return update(
    progressed(state, envelope, { ...batch, skipped: [...batch.skipped, { intentId: data.intentId, reasonCodes: data.reasonCodes }] }),
    {
      intents,
      outcomeTotals: { ...state.outcomeTotals, [batch.mode]: { ...totals, attempted: totals.attempted - 1 } },
    },
  );
}

// a batch that learned one more outcome or skip: closed once every intent has one, and then (when
// it attempted anything) counted in the auto-pause window
function progressed(state: FleetState, envelope: Envelope, batch: BatchRecord): FleetState {
  const { results } = batch;
  const done = results.length + batch.skipped.length >= batch.intents.length;
  const updated: BatchRecord = { ...batch, completedAt: done ? envelope.at : null };
  const openBatches = owned(state.openBatches);
  if (done) openBatches.delete(batch.batchId);
  else openBatches.set(batch.batchId, updated);
  const counted = done && batch.mode === "autonomous" && results.length > 0;
  return update(state, {
    openBatches,
    lastBatch: state.lastBatch?.batchId === batch.batchId ? updated : state.lastBatch,
    lastAutonomousBatch: state.lastAutonomousBatch?.batchId === batch.batchId ? updated : state.lastAutonomousBatch,
    autoPause: counted
      ? windowWith(
          state.autoPause,
          batchOutcome(
            batch.seq,
            results.map((r) => r.status),
          ),
        )
      : state.autoPause,
  });
}
