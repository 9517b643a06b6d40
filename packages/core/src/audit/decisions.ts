import { canonicalJson } from "../chain/canonical-json.ts";
import { followChain } from "../chain/follow.ts";
import type { Envelope } from "../chain/seal.ts";
import type { ChainBreak } from "../chain/verify.ts";
import { fleetEvent } from "../events/catalogue.ts";
import { decideEvaluation } from "../fleet/evaluate.ts";
import { evolve, initialLedgerState, type LedgerState } from "../fleet/ledger-state.ts";
import type { EventStore } from "../store/event-store.ts";

/** The result of re-running the decider over a recorded log. */
export interface DecisionReport {
  readonly ok: boolean;
  /** Decisions re-run (evaluations and auto-pause trips). */
  readonly checked: number;
  readonly breaks: readonly ChainBreak[];
}

// the first differing path between two JSON values, to say what an edit changed
function firstDifference(recorded: unknown, replayed: unknown, path = ""): string {
  if (typeof recorded === "object" && recorded !== null && typeof replayed === "object" && replayed !== null) {
    const keys = [...new Set([...Object.keys(recorded), ...Object.keys(replayed)])].sort();
    for (const key of keys) {
      const a = (recorded as Record<string, unknown>)[key];
      const b = (replayed as Record<string, unknown>)[key];
      if (canonicalJson(a ?? null) !== canonicalJson(b ?? null))
        return firstDifference(a, b, Array.isArray(recorded) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    }
  }
  return path || "(root)";
}

/** A record-by-record re-run of the decider: fed every verified record in seq order (see `verifyLog`'s `onRecord`). */
export interface DecisionCheck {
  /** Checks the record if it is a decision, then folds it. */
  readonly record: (envelope: Envelope, hash: string) => void;
  /** The state folded so far (other checks of the same pass read it rather than folding again). */
  readonly state: () => LedgerState;
  readonly report: () => DecisionReport;
}

/**
 * Re-runs the decider for every recorded decision on the state the log held just before it, with
 * the recorded time and ids, and reports each difference as `decision_mismatch` at its seq. A log
 * whose decisions were edited (and re-hashed so the chain still verifies) is caught here.
 */
export function decisionCheck(fleetId: string): DecisionCheck {
  let state = initialLedgerState(fleetId);
  let checked = 0;
  const breaks: ChainBreak[] = [];
  return {
    record(envelope, hash) {
      const event = fleetEvent(envelope);
      if (event.type === "PolicyEvaluated" || event.type === "AutoPauseTripped") {
        checked++;
        const recorded = event.data;
        const evaluated = event.type === "PolicyEvaluated" ? event.data : undefined;
        const context = {
          now: new Date(envelope.at),
          traceId: evaluated ? evaluated.traceId : (envelope.traceId ?? null),
          evaluationId: evaluated ? evaluated.evaluationId : "replay",
        };
        let replayed: unknown;
        try {
          const decision = decideEvaluation(state.fleet, context);
          replayed = envelope.type === "PolicyEvaluated" ? decision.evaluation : decision.trip;
        } catch (error) {
          replayed = { error: (error as Error).message };
        }
        if (canonicalJson(recorded) !== canonicalJson(replayed ?? null)) {
          breaks.push({
            seq: envelope.seq,
            kind: "decision_mismatch",
            detail: `${envelope.type} differs from a re-run of the decider at ${firstDifference(recorded, replayed)}`,
          });
        }
      }
      state = evolve(state, envelope, hash);
    },
    state: () => state,
    report: () => ({ ok: breaks.length === 0, checked, breaks }),
  };
}

/**
 * {@link decisionCheck} over a whole log, read from the store.
 * @throws {ChainIntegrityError} when the chain itself does not verify (run `verifyLog` first).
 */
export async function verifyDecisions(store: EventStore, fleetId: string): Promise<DecisionReport> {
  const check = decisionCheck(fleetId);
  await followChain(store, fleetId, null, (envelope, hash) => {
    check.record(envelope, hash);
    return undefined;
  });
  return check.report();
}
