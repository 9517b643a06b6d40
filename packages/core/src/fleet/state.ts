import type { Envelope } from "../chain/seal.ts";
import type { Registry } from "../contract/normalized-registry.ts";
import type {
  AutoPauseMetrics,
  AutoPauseTripped,
  FleetObserved,
  OperatorGovernance,
  PolicyApplied,
  PolicyEvaluated,
} from "../events/fleet-events.ts";

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
  readonly governance: OperatorGovernance | null;
}

/** The outcome counts of one dispatch batch that attempted at least one intent (the auto-pause window). */
export interface BatchOutcome {
  readonly seq: number;
  readonly attempted: number;
  readonly executed: number;
  readonly ambiguous: number;
  readonly failed: number;
}

/** A candidate's current instance: a new one opens when the candidate reappears after it was gone. */
export interface CandidateInstance {
  readonly instance: number;
  readonly open: boolean;
  /** The observation that opened it (its trace id, or `seq-<n>`): part of the stable idempotency key. */
  readonly openedBy: string;
}

/**
 * The fleet as the log says it is. Grows with loops and candidates, never with the number of
 * events: every map is keyed by candidate or intent, the dispatch window is bounded.
 */
export interface FleetState {
  readonly policy: AppliedPolicy | null;
  readonly killSwitch: OperatorLatch;
  readonly rolloutPause: OperatorLatch;
  readonly observation: { readonly seq: number; readonly at: string; readonly data: FleetObserved } | null;
  readonly evaluation: { readonly seq: number; readonly at: string; readonly data: PolicyEvaluated } | null;
  /** candidateId → when it was last evaluated unsuppressed (advisory dedupe). */
  readonly lastUnsuppressedAt: ReadonlyMap<string, string>;
  /** candidateId → when it was last dispatched autonomously (the autonomous cooldown starts at dispatch). */
  readonly lastDispatchedAt: ReadonlyMap<string, string>;
  /** candidateId → its current instance. */
  readonly instances: ReadonlyMap<string, CandidateInstance>;
  readonly autoPause: {
    /** Recent batches that attempted at least one intent, newest last, at most `MAX_WINDOW`. */
    readonly window: readonly BatchOutcome[];
    readonly latch: {
      readonly seq: number;
      readonly at: string;
      readonly reasons: readonly string[];
      readonly metrics: AutoPauseMetrics;
    } | null;
  };
}

/** The most dispatch batches the auto-pause window keeps (lookbackExecutions beyond this sees this many). */
export const MAX_WINDOW = 100;

const NO_LATCH: OperatorLatch = { active: false, at: null, seq: null, governance: null };

export const initialFleetState: FleetState = {
  policy: null,
  killSwitch: NO_LATCH,
  rolloutPause: NO_LATCH,
  observation: null,
  evaluation: null,
  lastUnsuppressedAt: new Map(),
  lastDispatchedAt: new Map(),
  instances: new Map(),
  autoPause: { window: [], latch: null },
};

/** The candidate ids an observation implies (taxonomy v1): failed → reconcile_failed; critical/degraded health. */
export function observedCandidateIds(observation: FleetObserved): string[] {
  const ids: string[] = [];
  for (const result of observation.results) {
    if (result.status === "skipped") continue;
    if (result.status === "failed") ids.push(`${result.loopId}:reconcile_failed`);
    if (result.healthStatus === "critical") ids.push(`${result.loopId}:health_critical`);
    else if (result.healthStatus === "degraded") ids.push(`${result.loopId}:health_degraded`);
  }
  return ids;
}

const latch = (envelope: Envelope, active: boolean): OperatorLatch => ({
  active,
  at: envelope.at,
  seq: envelope.seq,
  governance: (envelope.data as { governance: OperatorGovernance }).governance,
});

/**
 * Folds one event into the fleet state. Pure: it never mutates its input (maps are copied when
 * they change), so the same log always folds to the same state.
 */
export function evolveFleet(state: FleetState, envelope: Envelope): FleetState {
  switch (envelope.type) {
    case "PolicyApplied": {
      const data = envelope.data as unknown as PolicyApplied;
      const policy: AppliedPolicy = {
        registry: data.registry,
        hash: data.policyHash,
        seq: envelope.seq,
        at: envelope.at,
        change: data.change,
        governance: data.governance,
        actor: envelope.actor,
      };
      return { ...state, policy };
    }
    case "KillSwitchEngaged":
      return { ...state, killSwitch: latch(envelope, true) };
    case "KillSwitchReleased":
      return { ...state, killSwitch: latch(envelope, false) };
    case "RolloutPaused":
      return { ...state, rolloutPause: latch(envelope, true) };
    case "RolloutResumed":
      return { ...state, rolloutPause: latch(envelope, false) };
    case "FleetObserved": {
      const data = envelope.data as unknown as FleetObserved;
      const active = new Set(observedCandidateIds(data));
      const instances = new Map(state.instances);
      const openedBy = data.traceId ?? `seq-${envelope.seq}`;
      for (const [candidateId, current] of state.instances) {
        if (current.open && !active.has(candidateId)) instances.set(candidateId, { ...current, open: false });
      }
      for (const candidateId of active) {
        const current = state.instances.get(candidateId);
        if (!current?.open) instances.set(candidateId, { instance: (current?.instance ?? 0) + 1, open: true, openedBy });
      }
      return { ...state, observation: { seq: envelope.seq, at: envelope.at, data }, instances };
    }
    case "PolicyEvaluated": {
      const data = envelope.data as unknown as PolicyEvaluated;
      const lastUnsuppressedAt = new Map(state.lastUnsuppressedAt);
      for (const candidate of data.candidates) if (!candidate.suppressed) lastUnsuppressedAt.set(candidate.candidateId, envelope.at);
      return { ...state, evaluation: { seq: envelope.seq, at: envelope.at, data }, lastUnsuppressedAt };
    }
    case "AutoPauseTripped": {
      const data = envelope.data as unknown as AutoPauseTripped;
      return {
        ...state,
        autoPause: { ...state.autoPause, latch: { seq: envelope.seq, at: envelope.at, reasons: data.reasons, metrics: data.metrics } },
      };
    }
    case "AutoPauseResumed":
      // the batches that tripped the latch must not trip it again right away
      return { ...state, autoPause: { window: [], latch: null } };
    default:
      return state;
  }
}
